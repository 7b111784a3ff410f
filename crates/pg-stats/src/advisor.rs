//! Configuration and index advice. It reads `pg_settings`,
//! `pg_stat_user_indexes` and `pg_stat_user_tables` and returns `ALTER
//! SYSTEM` statements with their reasons — it never applies anything.

use crate::error::Result;
use crate::server::ServerStats;

/// The storage the data directory lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageKind {
    /// Local SSD / NVMe.
    Ssd,
    /// Spinning disks.
    Hdd,
    /// Network block storage (EBS, SAN): fast random reads, higher latency.
    Network,
}

/// One setting to change.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SettingAdvice {
    /// The setting, e.g. `shared_buffers`.
    pub name: String,
    /// Its current value as the server shows it (`128MB`).
    pub current: String,
    /// The recommended value (`4GB`).
    pub recommended: String,
    /// The statement that would apply it (not run).
    pub statement: String,
    /// Why.
    pub reason: String,
    /// Whether the server must restart for it to take effect (otherwise
    /// `SELECT pg_reload_conf()` suffices).
    pub needs_restart: bool,
}

/// An index finding.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum IndexAdvice {
    /// An index never scanned since statistics were reset (primary keys and
    /// unique indexes excluded: they enforce constraints).
    Unused {
        /// `schema.table`, for display (not quoted).
        table: String,
        /// `schema.index`, for display (not quoted).
        index: String,
        /// Its size on disk.
        size_bytes: i64,
        /// `DROP INDEX CONCURRENTLY "schema"."index";` with both names
        /// quoted as identifiers where needed (not run).
        statement: String,
    },
    /// A table with many rows read mostly by sequential scans: a query on it
    /// probably lacks an index.
    MostlySequential {
        /// `schema.table`.
        table: String,
        /// Sequential scans.
        seq_scan: i64,
        /// Index scans.
        idx_scan: i64,
        /// Live rows (estimate).
        live_rows: i64,
    },
}

/// What [`ServerStats::advise`] found.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Advice {
    /// Settings to change.
    pub settings: Vec<SettingAdvice>,
    /// Index findings.
    pub indexes: Vec<IndexAdvice>,
}

/// A setting as `pg_settings` shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Setting {
    pub(crate) name: String,
    pub(crate) setting: String,
    pub(crate) unit: Option<String>,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Bytes of a memory setting from `setting` × `unit` (`8kB`, `kB`, `MB`, `B`).
pub(crate) fn setting_bytes(setting: &str, unit: Option<&str>) -> Option<u64> {
    let n: u64 = setting.trim().parse().ok()?;
    let factor = match unit? {
        "B" => 1,
        "kB" => KIB,
        "8kB" => 8 * KIB,
        "16kB" => 16 * KIB,
        "32kB" => 32 * KIB,
        "MB" => MIB,
        "GB" => GIB,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// `4GB`, `512MB`, `64kB` — the largest unit that divides evenly.
pub(crate) fn format_bytes(bytes: u64) -> String {
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{}GB", bytes / GIB)
    } else if bytes >= MIB {
        format!("{}MB", bytes / MIB)
    } else {
        format!("{}kB", (bytes / KIB).max(64))
    }
}

/// Rounds down to a whole MiB (at least 1 MiB).
fn mib_floor(bytes: u64) -> u64 {
    (bytes / MIB).max(1) * MIB
}

/// The recommendations for `settings` on a host with `host_memory` bytes
/// and `storage`, for a web/OLTP workload. Only settings that differ from
/// the recommendation by more than 10 % are returned.
pub(crate) fn recommend(
    settings: &[Setting],
    host_memory: u64,
    storage: StorageKind,
) -> Vec<SettingAdvice> {
    let get = |name: &str| settings.iter().find(|s| s.name == name);
    let max_connections: u64 = get("max_connections")
        .and_then(|s| s.setting.parse().ok())
        .unwrap_or(100)
        .max(1);
    let shared_buffers = mib_floor(host_memory / 4);
    let memory = [
        (
            "shared_buffers",
            shared_buffers,
            "25 % of RAM for PostgreSQL's own cache; the OS page cache holds the rest".to_owned(),
            true,
        ),
        (
            "effective_cache_size",
            mib_floor(host_memory / 4 * 3),
            "75 % of RAM: what the planner may assume shared buffers and the OS cache hold together".to_owned(),
            false,
        ),
        (
            "maintenance_work_mem",
            mib_floor((host_memory / 16).min(2 * GIB)),
            "RAM / 16 (at most 2 GB) for VACUUM, CREATE INDEX".to_owned(),
            false,
        ),
        (
            "work_mem",
            ((host_memory - shared_buffers) / (max_connections * 3)).max(4 * MIB) / KIB * KIB,
            format!(
                "(RAM − shared_buffers) / (3 × max_connections = {}): per sort or hash node, several per query",
                max_connections * 3
            ),
            false,
        ),
    ];
    let mut out = Vec::new();
    for (name, recommended, reason, needs_restart) in memory {
        let Some(s) = get(name) else { continue };
        let Some(current) = setting_bytes(&s.setting, s.unit.as_deref()) else {
            continue;
        };
        if differs(current as f64, recommended as f64) {
            let value = format_bytes(recommended);
            out.push(SettingAdvice {
                name: name.to_owned(),
                current: format_bytes(current),
                statement: format!("ALTER SYSTEM SET {name} = '{value}';"),
                recommended: value,
                reason,
                needs_restart,
            });
        }
    }
    let (random_page_cost, io_concurrency, why) = match storage {
        StorageKind::Ssd => (
            1.1,
            200,
            "SSD: random reads cost about as much as sequential ones",
        ),
        StorageKind::Hdd => (4.0, 2, "spinning disks: random reads are expensive"),
        StorageKind::Network => (
            1.1,
            200,
            "network storage: random reads are cheap, latency is hidden by concurrency",
        ),
    };
    for (name, recommended, reason) in [
        ("random_page_cost", random_page_cost, why.to_owned()),
        (
            "effective_io_concurrency",
            f64::from(io_concurrency),
            format!("{why}; concurrent prefetch for bitmap heap scans"),
        ),
    ] {
        let Some(s) = get(name) else { continue };
        let Ok(current) = s.setting.parse::<f64>() else {
            continue;
        };
        if differs(current, recommended) {
            out.push(SettingAdvice {
                name: name.to_owned(),
                current: s.setting.clone(),
                recommended: recommended.to_string(),
                statement: format!("ALTER SYSTEM SET {name} = {recommended};"),
                reason,
                needs_restart: false,
            });
        }
    }
    out
}

fn differs(current: f64, recommended: f64) -> bool {
    (current - recommended).abs() > recommended * 0.10
}

const ADVISED: &[&str] = &[
    "shared_buffers",
    "effective_cache_size",
    "maintenance_work_mem",
    "work_mem",
    "random_page_cost",
    "effective_io_concurrency",
    "max_connections",
];

impl ServerStats {
    /// Recommendations for a host with `host_memory` bytes of RAM and
    /// `storage`, as `ALTER SYSTEM` statements with reasons, plus index
    /// findings for the connected database. Reads only; applies nothing.
    /// (`shared_buffers` and friends are server-level: a per-session `SET`
    /// cannot change them.)
    pub async fn advise(&self, host_memory: u64, storage: StorageKind) -> Result<Advice> {
        let client = self.pool().get().await?;
        let rows = client
            .raw()
            .query(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)",
                &[&ADVISED],
            )
            .await?;
        let settings: Vec<Setting> = rows
            .iter()
            .map(|r| Setting {
                name: r.get(0),
                setting: r.get(1),
                unit: r.get(2),
            })
            .collect();
        let mut advice = Advice {
            settings: recommend(&settings, host_memory, storage),
            indexes: Vec::new(),
        };
        let unused = client
            .raw()
            .query(
                "SELECT s.schemaname || '.' || s.relname, s.schemaname || '.' || s.indexrelname, \
                 pg_relation_size(s.indexrelid), \
                 format('DROP INDEX CONCURRENTLY %I.%I;', s.schemaname, s.indexrelname) \
                 FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid \
                 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary \
                 ORDER BY 3 DESC, 2",
                &[],
            )
            .await?;
        for r in &unused {
            advice.indexes.push(IndexAdvice::Unused {
                table: r.get(0),
                index: r.get(1),
                size_bytes: r.get(2),
                // Quoted by the server (`%I`, as `quote_ident`): runs as
                // given whatever the names hold.
                statement: r.get(3),
            });
        }
        let sequential = client
            .raw()
            .query(
                "SELECT schemaname || '.' || relname, seq_scan, coalesce(idx_scan, 0), n_live_tup \
                 FROM pg_stat_user_tables \
                 WHERE n_live_tup >= 10000 AND seq_scan > coalesce(idx_scan, 0) \
                 ORDER BY seq_scan * n_live_tup DESC",
                &[],
            )
            .await?;
        for r in &sequential {
            advice.indexes.push(IndexAdvice::MostlySequential {
                table: r.get(0),
                seq_scan: r.get(1),
                idx_scan: r.get(2),
                live_rows: r.get(3),
            });
        }
        Ok(advice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, setting: &str, unit: Option<&str>) -> Setting {
        Setting {
            name: name.into(),
            setting: setting.into(),
            unit: unit.map(Into::into),
        }
    }

    #[test]
    fn units() {
        assert_eq!(setting_bytes("16384", Some("8kB")), Some(128 * MIB));
        assert_eq!(setting_bytes("4096", Some("kB")), Some(4 * MIB));
        assert_eq!(setting_bytes("64", Some("MB")), Some(64 * MIB));
        assert_eq!(setting_bytes("x", Some("kB")), None);
        assert_eq!(setting_bytes("1", Some("ms")), None);
        assert_eq!(format_bytes(4 * GIB), "4GB");
        assert_eq!(format_bytes(1536 * MIB), "1536MB");
    }

    #[test]
    fn defaults_on_a_16_gib_ssd_host() {
        let settings = [
            s("shared_buffers", "16384", Some("8kB")),
            s("effective_cache_size", "524288", Some("8kB")),
            s("maintenance_work_mem", "65536", Some("kB")),
            s("work_mem", "4096", Some("kB")),
            s("random_page_cost", "4", None),
            s("effective_io_concurrency", "1", None),
            s("max_connections", "100", None),
        ];
        let advice = recommend(&settings, 16 * GIB, StorageKind::Ssd);
        let find = |n: &str| advice.iter().find(|a| a.name == n).unwrap();
        let sb = find("shared_buffers");
        assert_eq!(
            (sb.current.as_str(), sb.recommended.as_str()),
            ("128MB", "4GB")
        );
        assert_eq!(sb.statement, "ALTER SYSTEM SET shared_buffers = '4GB';");
        assert!(sb.needs_restart);
        assert_eq!(find("effective_cache_size").recommended, "12GB");
        assert_eq!(find("maintenance_work_mem").recommended, "1GB");
        // (16 GiB − 4 GiB) / 300 = 40.96 MiB.
        assert_eq!(find("work_mem").recommended, "40MB");
        assert_eq!(
            find("random_page_cost").statement,
            "ALTER SYSTEM SET random_page_cost = 1.1;"
        );
        assert_eq!(find("effective_io_concurrency").recommended, "200");
        assert!(
            advice
                .iter()
                .all(|a| a.statement.starts_with("ALTER SYSTEM SET "))
        );
    }

    #[test]
    fn nothing_when_already_tuned() {
        let settings = [
            s("shared_buffers", "4GB".trim_end_matches("GB"), Some("GB")),
            s("random_page_cost", "4", None),
        ];
        let advice = recommend(&settings, 16 * GIB, StorageKind::Hdd);
        assert!(advice.is_empty(), "{advice:?}");
    }
}
