//! Keys and clear patterns: `KeyBuilder` parts never collide (two part
//! lists give one key only when they are equal), and an escaped prefix
//! never widens a clear — the pattern `escape_glob(namespace):
//! escape_glob(prefix)*`, matched the way Redis matches `SCAN MATCH`
//! (a port of its `stringmatchlen`), matches a key exactly when the key
//! starts with `namespace:prefix`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfect21_fuzz::redis_glob::matches;
use perfect21_redis_cache::{KeyBuilder, escape_glob};

#[derive(Debug, Arbitrary)]
struct Input {
    parts_a: Vec<String>,
    parts_b: Vec<String>,
    namespace: String,
    prefix: String,
    key: String,
}

fn build(parts: &[String]) -> String {
    parts
        .iter()
        .fold(KeyBuilder::new(), |b, p| b.part(p))
        .build()
}

fuzz_target!(|input: Input| {
    let (a, b) = (build(&input.parts_a), build(&input.parts_b));
    if !input.parts_a.is_empty() && !input.parts_b.is_empty() {
        assert_eq!(
            a == b,
            input.parts_a == input.parts_b,
            "parts {:?} and {:?} give keys {a:?} and {b:?}",
            input.parts_a,
            input.parts_b
        );
    }
    let pattern = format!(
        "{}:{}*",
        escape_glob(&input.namespace),
        escape_glob(&input.prefix)
    );
    let wanted = format!("{}:{}", input.namespace, input.prefix);
    // Keys that share the prefix, and the arbitrary one.
    for key in [format!("{wanted}{}", input.key), input.key.clone()] {
        assert_eq!(
            matches(pattern.as_bytes(), key.as_bytes()),
            key.starts_with(&wanted),
            "pattern {pattern:?} against key {key:?}"
        );
    }
});
