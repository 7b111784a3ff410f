//! Per-statement statistics: SQL text → normalised key → one entry.
//!
//! The record path hashes the SQL text, finds its entry under a read lock
//! and updates it under the entry's own mutex. Normalisation runs once per
//! distinct text (the text → entry map caches it), not once per call.

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
    keys: Mutex<FastMap<Arc<str>, Arc<Entry>>>,
    other: Arc<Entry>,
    max_statements: usize,
    max_texts: usize,
    pub(crate) slow: SlowLog,
}

impl Registry {
    pub(crate) fn new(max_statements: usize, slow: SlowLog) -> Self {
        Self {
            texts: RwLock::new(FastMap::default()),
            keys: Mutex::new(FastMap::default()),
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
        {
            let texts = self.texts.read();
            if let Some(entry) = texts.get(sql) {
                entry.record(elapsed, outcome);
                if slow {
                    self.slow.report(&entry.key, elapsed, outcome, params);
                }
                return;
            }
        }
        let entry = self.resolve(sql);
        entry.record(elapsed, outcome);
        if slow {
            self.slow.report(&entry.key, elapsed, outcome, params);
        }
    }

    /// Normalises `sql`, finds or creates its entry, caches the text.
    fn resolve(&self, sql: &str) -> Arc<Entry> {
        let key = normalize(sql);
        let entry = {
            let mut keys = self.keys.lock();
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
        };
        let mut texts = self.texts.write();
        if texts.len() < self.max_texts {
            texts.insert(sql.into(), Arc::clone(&entry));
        }
        entry
    }

    /// One row per statement (and the "other" bucket when used), highest
    /// total time first.
    pub(crate) fn snapshot(&self) -> Vec<StatementStats> {
        let entries: Vec<Arc<Entry>> = self.keys.lock().values().cloned().collect();
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
        let entries: Vec<Arc<Entry>> = self.keys.lock().values().cloned().collect();
        for e in entries {
            e.reset();
        }
        self.other.reset();
        self.slow.reset();
    }
}
