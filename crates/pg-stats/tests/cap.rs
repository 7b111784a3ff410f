//! The number of statements tracked is capped; later ones share `<other>`.

mod support;

use perfect21_pg_stats::OTHER;
use support::builder;

#[tokio::test]
async fn statements_past_the_cap_go_to_other() {
    let pool = builder().max_statements(3).build().unwrap();
    let c = pool.get().await.unwrap();
    for n in 0..6 {
        for literal in 0..(n + 1) {
            // Six distinct statements (by column alias), each with varying literals.
            c.query(&format!("SELECT {literal} AS cap_col_{n}"), &[])
                .await
                .unwrap();
        }
    }
    let stats = pool.stats();
    assert_eq!(stats.statements.len(), 4, "{:#?}", stats.statements);
    for n in 0..3 {
        let key = format!("SELECT $1 AS cap_col_{n}");
        assert_eq!(stats.statement(&key).unwrap().calls, n + 1);
    }
    let other = stats.statement(OTHER).unwrap();
    assert_eq!(other.calls, 4 + 5 + 6);
    assert_eq!(stats.total_calls(), 21);
}
