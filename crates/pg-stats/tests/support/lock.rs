//! An advisory lock held on its own plain connection, so a test can make a
//! statement (or a recycle check) wait on it and know when it does — no
//! timing involved.

use std::sync::atomic::{AtomicI32, Ordering};

/// One advisory lock key, unique in this process and run.
pub struct AdvisoryLock {
    key: i64,
    holder: tokio_postgres::Client,
}

impl AdvisoryLock {
    /// A key nobody holds yet (not taken).
    pub async fn new() -> Self {
        static N: AtomicI32 = AtomicI32::new(0);
        // Keys below 2^31 show up in pg_locks as classid 0, objid = key.
        let key = i64::from((std::process::id() % 100_000) as i32 * 10_000)
            + i64::from(N.fetch_add(1, Ordering::Relaxed));
        Self {
            key,
            holder: super::plain().await,
        }
    }

    /// A key taken (exclusively) by the holder connection.
    pub async fn taken() -> Self {
        let lock = Self::new().await;
        lock.take().await;
        lock
    }

    pub fn key(&self) -> i64 {
        self.key
    }

    /// `SELECT pg_advisory_xact_lock_shared(key)`: waits while the lock is held.
    pub fn waiting_sql(&self, label: &str) -> String {
        format!(
            "SELECT pg_advisory_xact_lock_shared({}) AS {label}",
            self.key
        )
    }

    pub async fn take(&self) {
        self.holder
            .execute("SELECT pg_advisory_lock($1)", &[&self.key])
            .await
            .unwrap();
    }

    pub async fn release(&self) {
        self.holder
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
            .unwrap();
    }

    /// Returns once another backend waits for this lock (polls `pg_locks`;
    /// each poll is a round trip, nothing sleeps).
    pub async fn wait_for_a_waiter(&self) {
        loop {
            let waiting: i64 = self
                .holder
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
                     AND NOT granted AND classid = 0 AND objid = $1::int8::oid",
                    &[&self.key],
                )
                .await
                .unwrap()
                .get(0);
            if waiting > 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    }
}
