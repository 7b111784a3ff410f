//! Per-statement statistics: SQL text → normalised key → one entry.
//!
//! The record path hashes the SQL text, finds its entry under a read lock
//! and updates it under the entry's own mutex. Normalisation runs once per
//! distinct text (the text → entry map caches it), not once per call; past
//! the map's bound, per call, outside every lock and with read locks only.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::latency::LatencyRecorder;
use crate::normalize::normalize;
use crate::outcome::Outcome;
use crate::slow::SlowLog;
use crate::stats::StatementStats;

/// The key of the bucket that collects statements past
/// [`max_statements`](crate::StatsPoolBuilder::max_statements).
pub const OTHER: &str = "<other>";

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Parameters of one call, for the slow-query log.
pub(crate) type Params<'a> = Option<&'a [&'a (dyn ToSql + Sync)]>;

#[derive(Debug)]
pub(crate) struct Entry {
    key: Arc<str>,
    data: Mutex<EntryData>,
}

#[derive(Debug)]
struct EntryData {
    latency: LatencyRecorder,
    calls: u64,
    errors: u64,
    timeouts: u64,
    cancelled: u64,
    rows: u64,
    classes: BTreeMap<String, u64>,
}

impl Entry {
    fn new(key: Arc<str>) -> Self {
        Self {
            key,
            data: Mutex::new(EntryData {
                latency: LatencyRecorder::new(),
                calls: 0,
                errors: 0,
                timeouts: 0,
                cancelled: 0,
                rows: 0,
                classes: BTreeMap::new(),
            }),
        }
    }

    #[inline]
    fn record(&self, elapsed: Duration, outcome: Outcome<'_>) {
        let mut d = self.data.lock();
        d.calls += 1;
        d.latency.record(elapsed);
        d.rows += outcome.rows();
        match outcome {
            Outcome::Rows(_) => {}
            Outcome::Cancelled { .. } => d.cancelled += 1,
            Outcome::Failed(e) => {
                d.errors += 1;
                let class = match e.code() {
                    Some(code) => {
                        if *code == SqlState::QUERY_CANCELED {
                            d.timeouts += 1;
                        }
                        code.code().get(..2).unwrap_or("??").to_owned()
                    }
                    None if e.is_closed() => "closed".to_owned(),
                    None => "client".to_owned(),
                };
                *d.classes.entry(class).or_insert(0) += 1;
            }
        }
    }

    fn snapshot(&self) -> StatementStats {
        let d = self.data.lock();
        StatementStats {
            statement: self.key.to_string(),
            calls: d.calls,
            errors: d.errors,
            errors_by_class: d.classes.clone(),
            timeouts: d.timeouts,
            cancelled: d.cancelled,
            rows: d.rows,
            latency: d.latency.snapshot(),
        }
    }

    fn reset(&self) {
        let mut d = self.data.lock();
        d.latency.reset();
        d.calls = 0;
        d.errors = 0;
        d.timeouts = 0;
        d.cancelled = 0;
        d.rows = 0;
        d.classes.clear();
    }
}

/// Every statement seen by one pool.
#[derive(Debug)]
pub(crate) struct Registry {
    texts: RwLock<FastMap<Box<str>, Arc<Entry>>>,
    keys: RwLock<FastMap<Arc<str>, Arc<Entry>>>,
    other: Arc<Entry>,
    max_statements: usize,
    max_texts: usize,
    pub(crate) slow: SlowLog,
}

impl Registry {
    pub(crate) fn new(max_statements: usize, slow: SlowLog) -> Self {
        Self {
            texts: RwLock::new(FastMap::default()),
            keys: RwLock::new(FastMap::default()),
            other: Arc::new(Entry::new(OTHER.into())),
            max_statements,
            // Texts that differ only in literals map to one key; cache a
            // bounded number of them so unbounded literal variety cannot grow
            // memory (past the bound, such texts are normalised per call).
            max_texts: max_statements.saturating_mul(8).max(1024),
            slow,
        }
    }

    /// Records one execution of `sql`.
    #[inline]
    pub(crate) fn record(
        &self,
        sql: &str,
        elapsed: Duration,
        outcome: Outcome<'_>,
        params: Params<'_>,
    ) {
        let slow = elapsed >= self.slow.threshold();
        let texts_full = {
            let texts = self.texts.read();
            if let Some(entry) = texts.get(sql) {
                entry.record(elapsed, outcome);
                if slow {
                    self.slow.report(&entry.key, elapsed, outcome, params);
                }
                return;
            }
            texts.len() >= self.max_texts
        };
        let entry = self.resolve(sql, texts_full);
        entry.record(elapsed, outcome);
        if slow {
            self.slow.report(&entry.key, elapsed, outcome, params);
        }
    }

    /// The entry of a text the texts map does not hold. It is normalised
    /// outside every lock; its key is found under the keys' read lock (the
    /// write lock only adds a new statement: at most `max_statements`
    /// times); the text is cached under the texts' write lock, taken at
    /// most once per new text until the map is full and never after — so
    /// past `max_texts` a new text costs a normalisation and two read
    /// locks, and no lookup of another statement waits for it.
    fn resolve(&self, sql: &str, texts_full: bool) -> Arc<Entry> {
        let entry = self.entry(normalize(sql));
        if !texts_full {
            let mut texts = self.texts.write();
            if texts.len() < self.max_texts {
                texts.insert(sql.into(), Arc::clone(&entry));
            }
        }
        entry
    }

    /// The entry of a normalised key: found, created (below the cap) or
    /// [`OTHER`].
    fn entry(&self, key: String) -> Arc<Entry> {
        {
            let keys = self.keys.read();
            if let Some(e) = keys.get(key.as_str()) {
                return Arc::clone(e);
            }
            if keys.len() >= self.max_statements {
                return Arc::clone(&self.other);
            }
        }
        let mut keys = self.keys.write();
        match keys.get(key.as_str()) {
            Some(e) => Arc::clone(e),
            None if keys.len() < self.max_statements => {
                let key: Arc<str> = key.into();
                let e = Arc::new(Entry::new(Arc::clone(&key)));
                keys.insert(key, Arc::clone(&e));
                e
            }
            None => Arc::clone(&self.other),
        }
    }

    /// One row per statement (and the "other" bucket when used), highest
    /// total time first.
    pub(crate) fn snapshot(&self) -> Vec<StatementStats> {
        let entries: Vec<Arc<Entry>> = self.keys.read().values().cloned().collect();
        let mut rows: Vec<StatementStats> = entries.iter().map(|e| e.snapshot()).collect();
        let other = self.other.snapshot();
        if other.calls > 0 {
            rows.push(other);
        }
        rows.sort_by(|a, b| {
            b.latency
                .total
                .cmp(&a.latency.total)
                .then_with(|| a.statement.cmp(&b.statement))
        });
        rows
    }

    /// Zeroes every entry (statements stay known, so the cap still holds).
    pub(crate) fn reset(&self) {
        let entries: Vec<Arc<Entry>> = self.keys.read().values().cloned().collect();
        for e in entries {
            e.reset();
        }
        self.other.reset();
        self.slow.reset();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::{OTHER, Registry};
    use crate::outcome::Outcome;
    use crate::slow::SlowLog;

    fn registry(max_statements: usize) -> Registry {
        Registry::new(
            max_statements,
            SlowLog::new(Duration::from_secs(3600), false, 0),
        )
    }

    fn record(r: &Registry, sql: &str) {
        r.record(sql, Duration::from_micros(1), Outcome::Rows(1), None);
    }

    /// Past `max_texts`, a new literal-bearing text is normalised per call:
    /// that must take no write lock (every other statement's lookup waits
    /// behind one). Readers hold both maps' locks here, so a record that
    /// wanted a write lock would block until the detector below gives up.
    #[test]
    fn past_max_texts_a_new_text_takes_no_write_lock() {
        let r = registry(2);
        for i in 0..r.max_texts {
            record(&r, &format!("SELECT {i} AS filler"));
        }
        // The second (last) statement the cap allows.
        record(&r, "SELECT 0 AS past_the_cap");
        let texts = r.texts.read();
        let keys = r.keys.read();
        let (done, finished) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..100 {
                    // A known statement with a new literal, and a new
                    // statement past max_statements.
                    record(&r, &format!("SELECT {i} AS past_the_cap"));
                    record(&r, &format!("SELECT {i} AS past_the_statement_cap"));
                }
                let _ = done.send(());
            });
            // Not a timing assertion: a deadlock detector. The records
            // finish at once unless they wait for a write lock.
            let finished = finished.recv_timeout(Duration::from_secs(20));
            drop((texts, keys));
            assert!(
                finished.is_ok(),
                "a record past max_texts waited for a write lock"
            );
        });
        let stats = r.snapshot();
        let calls = |key: &str| stats.iter().find(|s| s.statement == key).unwrap().calls;
        assert_eq!(calls("SELECT $1 AS past_the_cap"), 101);
        assert_eq!(calls(OTHER), 100);
        assert_eq!(r.texts.read().len(), r.max_texts);
    }
}
