//! Property: statements that differ only in their literal values, spacing
//! and comments share one key, and the key holds none of the values. And no
//! input makes normalisation panic.

use perfect21_pg_stats::normalize;
use proptest::prelude::*;

fn spacing() -> impl Strategy<Value = String> {
    prop::sample::select(vec![" ", "  ", "\n", "\t ", " /* c */ ", " -- c\n"])
        .prop_map(String::from)
}

fn text_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 @.é'\"$-]{0,12}"
}

fn quoted(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

proptest! {
    #[test]
    fn literals_and_spacing_do_not_change_the_key(
        id in any::<i64>(),
        price in 0.0f64..1e9,
        name in text_value(),
        other_name in text_value(),
        gaps in prop::collection::vec(spacing(), 8),
        other_gaps in prop::collection::vec(spacing(), 8),
    ) {
        let sql = |id: i64, name: &str, g: &[String]| {
            format!(
                "SELECT{}v{}FROM t WHERE id ={}{}{}AND name = {}{}AND price > {price}{}",
                g[0], g[1], g[2], id.unsigned_abs(), g[3], quoted(name), g[4], g[5]
            )
        };
        let a = normalize(&sql(id, &name, &gaps));
        let b = normalize(&sql(id / 3 + 1, &other_name, &other_gaps));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, "SELECT v FROM t WHERE id = $1 AND name = $2 AND price > $3");
        prop_assert_eq!(normalize(&a), a.clone(), "idempotent on its own output");
    }

    #[test]
    fn never_panics(sql in "\\PC{0,64}") {
        let _ = normalize(&sql);
    }
}
