//! `Debug` forms carry no literal values (personal data) and no passwords:
//! the statement types print the normalised SQL.

mod support;

use support::builder;

const SECRET: &str = "alice@example.com-4111111111111111";

#[tokio::test]
async fn statement_debug_forms_show_the_normalised_sql() {
    let pool = builder().build().unwrap();
    let client = pool.get().await.unwrap();
    let sql = format!("SELECT '{SECRET}'::text AS debug_form, 42 AS answer");
    let key = "SELECT $1::text AS debug_form, $2 AS answer";

    let stream = client
        .query_raw(&sql, std::iter::empty::<i32>())
        .await
        .unwrap();
    let shown = format!("{stream:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains(key), "{shown}");
    drop(stream);

    let statement = client.prepare(&sql).await.unwrap();
    let shown = format!("{statement:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains(key), "{shown}");

    for shown in [format!("{client:?}"), format!("{pool:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[test]
fn builder_debug_shows_no_setting_values_or_literals() {
    let b = builder()
        .session_setting("app.api_token", SECRET)
        .session_setting("jit", "off")
        .recycling_method(perfect21_pg_stats::RecyclingMethod::Custom(format!(
            "SELECT '{SECRET}'"
        )));
    let shown = format!("{b:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("app.api_token"), "{shown}");
}
