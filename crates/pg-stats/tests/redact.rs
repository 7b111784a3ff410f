//! `redact_url` against one table of connection strings.
//!
//! perfect21-redis-cache keeps its own redaction code (the crates never
//! depend on each other) and must pass the same `URLS` table: copy it
//! verbatim. Each row is a connection string, the secrets that must not
//! survive in the output (not even in part), and the pieces that must stay
//! readable. `CONNINFO` is pg-stats only (libpq key=value strings).
//!
//! Not in the shared table: `redis://secret@host`, which redis-rs reads as
//! a password while Postgres reads `user@host` as a user name.

use perfect21_pg_stats::redact_url;

/// `(input, secrets that must not appear, pieces that must remain)`.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const URLS: &[Case] = &[
    // Plain user:password.
    (
        "postgres://alice:s3cr3t@db.example:5432/app",
        &["s3cr3t"],
        &["postgres://", "alice", "@db.example:5432/app"],
    ),
    (
        "postgresql://alice:s3cr3t@db.example/app?sslmode=require",
        &["s3cr3t"],
        &["@db.example/app?sslmode=require"],
    ),
    (
        "redis://default:s3cr3t@cache.example:6379/0",
        &["s3cr3t"],
        &["redis://", "@cache.example:6379/0"],
    ),
    (
        "rediss://:s3cr3t@cache.example:6380",
        &["s3cr3t"],
        &["rediss://", "@cache.example:6380"],
    ),
    // `@` in the userinfo: raw in the password, raw in the user, encoded.
    (
        "postgres://alice:s3c@r3t@db.example/app",
        &["s3c", "r3t"],
        &["@db.example/app"],
    ),
    (
        "redis://alice@corp:s3cr3t@cache.example:6379",
        &["s3cr3t"],
        &["@cache.example:6379"],
    ),
    (
        "postgres://alice%40corp:s3cr3t%40x@db.example/app",
        &["s3cr3t"],
        &["alice%40corp", "@db.example/app"],
    ),
    (
        "redis://alice:s3cr3t%40x%3Ay@cache.example",
        &["s3cr3t", "%40x", "%3Ay"],
        &["@cache.example"],
    ),
    // URL delimiters left unencoded in the password.
    (
        "postgres://alice:s3/cr3t@db.example/app",
        &["s3/", "cr3t"],
        &["@db.example/app"],
    ),
    (
        "postgres://alice:s3?cr3t@db.example/app",
        &["s3?", "cr3t"],
        &["@db.example/app"],
    ),
    (
        "redis://alice:s3#cr3t@cache.example:6379",
        &["s3#", "cr3t"],
        &["@cache.example:6379"],
    ),
    (
        "postgres://alice:p@ss/w?rd@db.example/app",
        &["p@ss", "ss/w", "w?rd"],
        &["@db.example/app"],
    ),
    (
        "postgres://alice:s3:cr3t@db.example/app",
        &["s3", "cr3t"],
        &["@db.example/app"],
    ),
    // IPv6 hosts.
    (
        "postgres://alice:s3cr3t@[2001:db8::1]:5432/app",
        &["s3cr3t"],
        &["@[2001:db8::1]:5432/app"],
    ),
    (
        "redis://:s3cr3t@[::1]:6379/0",
        &["s3cr3t"],
        &["@[::1]:6379/0"],
    ),
    // Nothing secret: unchanged.
    (
        "postgres://[::1]:5432/app",
        &[],
        &["postgres://[::1]:5432/app"],
    ),
    (
        "postgres://alice@[2001:db8::1]/app",
        &[],
        &["postgres://alice@[2001:db8::1]/app"],
    ),
    (
        "redis://cache.example:6379/0",
        &[],
        &["redis://cache.example:6379/0"],
    ),
    (
        "postgres://db.example/app?application_name=a@b",
        &[],
        &["postgres://db.example/app?application_name=a@b"],
    ),
    // Passwords in the query string.
    (
        "postgres://db.example/app?user=alice&password=s3cr3t&sslmode=require",
        &["s3cr3t"],
        &["db.example/app?", "user=alice", "sslmode=require"],
    ),
    (
        "redis://cache.example:6379/0?password=s3cr3t",
        &["s3cr3t"],
        &["redis://cache.example:6379/0?"],
    ),
    (
        "postgres://alice:s3cr3t@db.example/app?password=0th3r",
        &["s3cr3t", "0th3r"],
        &["@db.example/app?"],
    ),
    (
        "postgres://db.example/app?password=s3cr3t&application_name=a@b",
        &["s3cr3t"],
        &["db.example/app?", "application_name=a@b"],
    ),
    (
        "postgres://db.example/app?password=s3cr3t&application_name=a:b@c",
        &["s3cr3t"],
        &["db.example/app?"],
    ),
    (
        "postgres://db.example/app?pass%77ord=s3cr3t",
        &["s3cr3t"],
        &["db.example/app?"],
    ),
    (
        "postgres://db.example/app?sslpassword=s3cr3t&user=alice",
        &["s3cr3t"],
        &["user=alice"],
    ),
];

/// libpq key=value strings (pg-stats only).
const CONNINFO: &[Case] = &[
    (
        "host=db.example user=alice password=s3cr3t dbname=app",
        &["s3cr3t"],
        &["host=db.example", "user=alice", "dbname=app"],
    ),
    (
        "host=db.example password='s3 cr3t' user=alice",
        &["s3", "cr3t"],
        &["host=db.example", "user=alice"],
    ),
    (
        r"password='s3\'cr3t' host=db.example",
        &["s3", "cr3t"],
        &["host=db.example"],
    ),
    (
        r"password=s3\ cr3t host=db.example",
        &["s3", "cr3t"],
        &["host=db.example"],
    ),
    (
        "password = s3cr3t host=db.example",
        &["s3cr3t"],
        &["host=db.example"],
    ),
    (
        "host=db.example sslpassword=s3cr3t",
        &["s3cr3t"],
        &["host=db.example"],
    ),
    (
        "host=db.example user=alice",
        &[],
        &["host=db.example user=alice"],
    ),
];

fn check(table: &[Case]) {
    let mut failures = Vec::new();
    for &(input, secrets, kept) in table {
        let out = redact_url(input);
        for secret in secrets {
            if out.contains(secret) {
                failures.push(format!("{input:?} → {out:?} still holds {secret:?}"));
            }
        }
        for piece in kept {
            if !out.contains(piece) {
                failures.push(format!("{input:?} → {out:?} lost {piece:?}"));
            }
        }
        if !secrets.is_empty() && !out.contains("***") {
            failures.push(format!("{input:?} → {out:?} has no *** marker"));
        }
        if redact_url(&out) != out {
            failures.push(format!(
                "{input:?} → {out:?} is not stable when redacted again"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn urls() {
    check(URLS);
}

#[test]
fn conninfo_strings() {
    check(CONNINFO);
}
