//! What the server itself knows: `pg_stat_statements` (with the column names
//! of the running version), `pg_stat_database`, `pg_stat_activity`.

use std::collections::BTreeMap;

use tokio_postgres::error::SqlState;

use crate::error::{Error, Result};
use crate::normalize::normalize;
use crate::pool::StatsPool;
use crate::stats::StatementStats;

/// How [`ServerStats::top_statements`] orders statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopOrder {
    /// Highest total execution time first.
    TotalTime,
    /// Highest mean execution time first.
    MeanTime,
    /// Most calls first.
    Calls,
}

/// The `pg_stat_statements` columns of one server version, as SQL
/// expressions: PostgreSQL 13 renamed `total_time` → `total_exec_time` (and
/// `mean_time`, `min_time`, `max_time`); PostgreSQL 17 renamed
/// `blk_read_time`/`blk_write_time` → `shared_blk_read_time`/`shared_blk_write_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementColumns {
    /// Total execution time, ms.
    pub total_time: &'static str,
    /// Mean execution time, ms.
    pub mean_time: &'static str,
    /// Minimum execution time, ms.
    pub min_time: &'static str,
    /// Maximum execution time, ms.
    pub max_time: &'static str,
    /// Time reading shared blocks, ms (0 unless `track_io_timing`).
    pub blk_read_time: &'static str,
    /// Time writing shared blocks, ms.
    pub blk_write_time: &'static str,
    /// Whether `pg_stat_statements_info` exists (PostgreSQL 14+).
    pub has_info_view: bool,
}

impl StatementColumns {
    /// The columns for `server_version_num` (e.g. `120017`, `170002`).
    pub fn for_version(server_version_num: i32) -> Self {
        let exec = server_version_num >= 130_000;
        let (total_time, mean_time, min_time, max_time) = if exec {
            (
                "total_exec_time",
                "mean_exec_time",
                "min_exec_time",
                "max_exec_time",
            )
        } else {
            ("total_time", "mean_time", "min_time", "max_time")
        };
        let (blk_read_time, blk_write_time) = if server_version_num >= 170_000 {
            ("shared_blk_read_time", "shared_blk_write_time")
        } else {
            ("blk_read_time", "blk_write_time")
        };
        Self {
            total_time,
            mean_time,
            min_time,
            max_time,
            blk_read_time,
            blk_write_time,
            has_info_view: server_version_num >= 140_000,
        }
    }

    /// The top-N query over `pg_stat_statements` for the current database
    /// (`$1` is the limit). The view keeps one row per user, query and
    /// nesting level (`toplevel`); this sums them into one row per statement
    /// (`queryid`): calls, times, rows and blocks summed, the mean
    /// recomputed from the sums, min and max over the rows that ran.
    pub fn top_query(&self, order: TopOrder) -> String {
        let total = format!("sum({})", self.total_time);
        let mean = format!("{total} / nullif(sum(calls), 0)");
        let order = match order {
            TopOrder::TotalTime => total.clone(),
            TopOrder::MeanTime => mean.clone(),
            TopOrder::Calls => "sum(calls)".to_owned(),
        };
        format!(
            "SELECT queryid, min(query), sum(calls)::int8, {total}::float8, \
             coalesce({mean}, 0)::float8, \
             coalesce(min({min}) FILTER (WHERE calls > 0), 0)::float8, \
             coalesce(max({max}) FILTER (WHERE calls > 0), 0)::float8, \
             sum(rows)::int8, sum(shared_blks_hit)::int8, sum(shared_blks_read)::int8, \
             sum({read})::float8, sum({write})::float8 \
             FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             GROUP BY queryid, CASE WHEN queryid IS NULL THEN query END \
             ORDER BY {order} DESC NULLS LAST, 2 LIMIT $1",
            min = self.min_time,
            max = self.max_time,
            read = self.blk_read_time,
            write = self.blk_write_time,
        )
    }
}

/// One statement of `pg_stat_statements`: its rows (one per user and
/// nesting level) summed. Times in milliseconds, server-side execution only.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ServerStatement {
    /// The server's query id.
    pub query_id: Option<i64>,
    /// The statement as the server normalised it.
    pub query: String,
    /// Executions.
    pub calls: i64,
    /// Total execution time, ms.
    pub total_time_ms: f64,
    /// Mean execution time, ms.
    pub mean_time_ms: f64,
    /// Minimum execution time, ms.
    pub min_time_ms: f64,
    /// Maximum execution time, ms.
    pub max_time_ms: f64,
    /// Rows returned or affected.
    pub rows: i64,
    /// Shared buffer hits.
    pub shared_blks_hit: i64,
    /// Shared blocks read.
    pub shared_blks_read: i64,
    /// Time reading blocks, ms (0 unless `track_io_timing`).
    pub blk_read_time_ms: f64,
    /// Time writing blocks, ms.
    pub blk_write_time_ms: f64,
}

impl ServerStatement {
    /// `shared_blks_hit / (hit + read)`; 1 when nothing was read.
    pub fn cache_hit_ratio(&self) -> f64 {
        ratio(self.shared_blks_hit, self.shared_blks_read)
    }

    /// Both rows as one statement: counts and times summed, the mean
    /// recomputed from the sums, the query id kept only if both share it.
    fn merged(self, other: Self) -> Self {
        let calls = self.calls.saturating_add(other.calls);
        let total_time_ms = self.total_time_ms + other.total_time_ms;
        let ran = |s: &Self| s.calls > 0;
        let (min_time_ms, max_time_ms) = match (ran(&self), ran(&other)) {
            (true, true) => (
                self.min_time_ms.min(other.min_time_ms),
                self.max_time_ms.max(other.max_time_ms),
            ),
            (false, true) => (other.min_time_ms, other.max_time_ms),
            _ => (self.min_time_ms, self.max_time_ms),
        };
        Self {
            query_id: self.query_id.filter(|id| other.query_id == Some(*id)),
            query: self.query,
            calls,
            total_time_ms,
            mean_time_ms: if calls > 0 {
                total_time_ms / calls as f64
            } else {
                0.0
            },
            min_time_ms,
            max_time_ms,
            rows: self.rows.saturating_add(other.rows),
            shared_blks_hit: self.shared_blks_hit.saturating_add(other.shared_blks_hit),
            shared_blks_read: self.shared_blks_read.saturating_add(other.shared_blks_read),
            blk_read_time_ms: self.blk_read_time_ms + other.blk_read_time_ms,
            blk_write_time_ms: self.blk_write_time_ms + other.blk_write_time_ms,
        }
    }
}

fn ratio(hit: i64, read: i64) -> f64 {
    let total = hit.saturating_add(read);
    if total <= 0 {
        1.0
    } else {
        hit as f64 / total as f64
    }
}

/// `pg_stat_statements_info` (PostgreSQL 14+).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StatementsInfo {
    /// Times entries were evicted because `pg_stat_statements.max` was reached.
    pub dealloc: i64,
    /// When the statistics were last reset.
    pub stats_reset: String,
}

/// `pg_stat_database` for the connected database.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DatabaseStats {
    /// The database.
    pub database: String,
    /// Backends connected now.
    pub backends: i32,
    /// Transactions committed.
    pub commits: i64,
    /// Transactions rolled back.
    pub rollbacks: i64,
    /// Blocks read from disk (or the OS cache).
    pub blks_read: i64,
    /// Blocks found in shared buffers.
    pub blks_hit: i64,
    /// Temporary files written.
    pub temp_files: i64,
    /// Bytes written to temporary files.
    pub temp_bytes: i64,
    /// Deadlocks detected.
    pub deadlocks: i64,
}

impl DatabaseStats {
    /// `blks_hit / (blks_hit + blks_read)`; 1 when nothing was read.
    pub fn cache_hit_ratio(&self) -> f64 {
        ratio(self.blks_hit, self.blks_read)
    }
}

/// A statement seen by both sides: the client's latency beside the server's
/// execution time (on loopback the client's is typically several times
/// larger: parse, bind, network, row decoding).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct JoinedStatement {
    /// The client-side row.
    pub client: StatementStats,
    /// The server-side row.
    pub server: ServerStatement,
}

impl JoinedStatement {
    /// Client mean latency ÷ server mean execution time (0 when unknown).
    pub fn client_to_server_ratio(&self) -> f64 {
        let server_ms = self.server.mean_time_ms;
        if server_ms <= 0.0 {
            0.0
        } else {
            self.client.mean().as_secs_f64() * 1000.0 / server_ms
        }
    }
}

/// Reads the server's statistics through a [`StatsPool`] (on its plain
/// clients: these queries are not recorded). From [`StatsPool::server_stats`].
#[derive(Debug, Clone)]
pub struct ServerStats {
    pool: StatsPool,
}

impl StatsPool {
    /// The server's own statistics, read through this pool.
    pub fn server_stats(&self) -> ServerStats {
        ServerStats { pool: self.clone() }
    }
}

impl ServerStats {
    pub(crate) fn pool(&self) -> &StatsPool {
        &self.pool
    }

    /// The server's `server_version_num` (e.g. `170002`).
    pub async fn server_version_num(&self) -> Result<i32> {
        let client = self.pool.get().await?;
        let row = client
            .raw()
            .query_one("SHOW server_version_num", &[])
            .await?;
        let text: String = row.get(0);
        text.trim()
            .parse()
            .map_err(|_| Error::config("server", format!("unexpected server_version_num {text}")))
    }

    async fn columns(&self) -> Result<StatementColumns> {
        Ok(StatementColumns::for_version(
            self.server_version_num().await?,
        ))
    }

    /// The top `n` statements of the current database from
    /// `pg_stat_statements`, by `order`: one row per statement, its rows of
    /// every user and nesting level summed (see [`StatementColumns::top_query`]). [`Error::ExtensionMissing`] when the
    /// extension is not installed (or not preloaded).
    pub async fn top_statements(&self, order: TopOrder, n: usize) -> Result<Vec<ServerStatement>> {
        let columns = self.columns().await?;
        let client = self.pool.get().await?;
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        let rows = client
            .raw()
            .query(&columns.top_query(order), &[&limit])
            .await
            .map_err(extension_error)?;
        Ok(rows
            .iter()
            .map(|r| ServerStatement {
                query_id: r.get(0),
                query: r.get(1),
                calls: r.get(2),
                total_time_ms: r.get(3),
                mean_time_ms: r.get(4),
                min_time_ms: r.get(5),
                max_time_ms: r.get(6),
                rows: r.get(7),
                shared_blks_hit: r.get(8),
                shared_blks_read: r.get(9),
                blk_read_time_ms: r.get(10),
                blk_write_time_ms: r.get(11),
            })
            .collect())
    }

    /// `pg_stat_statements_info`; `None` before PostgreSQL 14.
    pub async fn statements_info(&self) -> Result<Option<StatementsInfo>> {
        if !self.columns().await?.has_info_view {
            return Ok(None);
        }
        let client = self.pool.get().await?;
        let row = client
            .raw()
            .query_one(
                "SELECT dealloc, coalesce(stats_reset::text, '') FROM pg_stat_statements_info",
                &[],
            )
            .await
            .map_err(extension_error)?;
        Ok(Some(StatementsInfo {
            dealloc: row.get(0),
            stats_reset: row.get(1),
        }))
    }

    /// `pg_stat_database` for the connected database.
    pub async fn database(&self) -> Result<DatabaseStats> {
        let client = self.pool.get().await?;
        let r = client
            .raw()
            .query_one(
                "SELECT datname::text, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, \
                 temp_files, temp_bytes, deadlocks \
                 FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .await?;
        Ok(DatabaseStats {
            database: r.get(0),
            backends: r.get(1),
            commits: r.get(2),
            rollbacks: r.get(3),
            blks_read: r.get(4),
            blks_hit: r.get(5),
            temp_files: r.get(6),
            temp_bytes: r.get(7),
            deadlocks: r.get(8),
        })
    }

    /// Client backends of the connected database by `pg_stat_activity.state`
    /// (`active`, `idle`, `idle in transaction`, …).
    pub async fn connections(&self) -> Result<BTreeMap<String, i64>> {
        let client = self.pool.get().await?;
        let rows = client
            .raw()
            .query(
                "SELECT coalesce(state, 'unknown'), count(*)::int8 FROM pg_stat_activity \
                 WHERE datname = current_database() AND backend_type = 'client backend' \
                 GROUP BY 1",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The client-side statistics joined with `pg_stat_statements` where the
    /// normalised texts match (both sides normalised with [`normalize`]),
    /// for up to `n` server statements by total time.
    pub async fn joined(&self, n: usize) -> Result<Vec<JoinedStatement>> {
        let server = self.top_statements(TopOrder::TotalTime, n).await?;
        // Server statements that normalise alike (e.g. the same text under
        // two query ids) are one client statement: merge, never drop.
        let mut by_text: BTreeMap<String, ServerStatement> = BTreeMap::new();
        for s in server {
            let key = normalize(&s.query);
            let merged = match by_text.remove(&key) {
                Some(seen) => seen.merged(s),
                None => s,
            };
            by_text.insert(key, merged);
        }
        Ok(self
            .pool
            .stats()
            .statements
            .into_iter()
            .filter_map(|client| {
                let server = by_text.get(&client.statement)?.clone();
                Some(JoinedStatement { client, server })
            })
            .collect())
    }
}

/// Maps "relation does not exist" / "must be loaded via
/// shared_preload_libraries" to [`Error::ExtensionMissing`].
fn extension_error(e: tokio_postgres::Error) -> Error {
    match e.code() {
        Some(c)
            if *c == SqlState::UNDEFINED_TABLE
                || *c == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE =>
        {
            Error::ExtensionMissing
        }
        _ => Error::Db(e),
    }
}

#[cfg(test)]
mod tests {
    use super::{StatementColumns, TopOrder};

    #[test]
    fn columns_follow_the_server_version() {
        let v12 = StatementColumns::for_version(120_017);
        assert_eq!(v12.total_time, "total_time");
        assert_eq!(v12.mean_time, "mean_time");
        assert_eq!(v12.blk_read_time, "blk_read_time");
        assert!(!v12.has_info_view);

        let v13 = StatementColumns::for_version(130_000);
        assert_eq!(v13.total_time, "total_exec_time");
        assert_eq!(v13.max_time, "max_exec_time");
        assert_eq!(v13.blk_write_time, "blk_write_time");
        assert!(!v13.has_info_view);

        let v16 = StatementColumns::for_version(160_004);
        assert_eq!(v16.blk_read_time, "blk_read_time");
        assert!(v16.has_info_view);

        let v17 = StatementColumns::for_version(170_002);
        assert_eq!(v17.mean_time, "mean_exec_time");
        assert_eq!(v17.blk_read_time, "shared_blk_read_time");
        assert_eq!(v17.blk_write_time, "shared_blk_write_time");
    }

    #[test]
    fn top_query_orders_by_the_version_column() {
        let q = StatementColumns::for_version(120_000).top_query(TopOrder::MeanTime);
        assert!(q.contains("ORDER BY sum(total_time) / nullif(sum(calls), 0) DESC"));
        assert!(!q.contains("exec_time"));
        let q = StatementColumns::for_version(170_000).top_query(TopOrder::TotalTime);
        assert!(q.contains("ORDER BY sum(total_exec_time) DESC"));
        assert!(q.contains("shared_blk_read_time"));
        assert!(!q.contains("(total_time"));
        assert!(q.contains("GROUP BY queryid"));
    }
}
