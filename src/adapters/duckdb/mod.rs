//! DuckDB storage: one database file, one writer connection with an Appender, readers on clones.

/// Declares an adapter that owns one connection behind a lock (its changes never interleave):
/// `new(conn)` and `conn()`, which outlives a panic of an earlier holder.
macro_rules! on_own_connection {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            conn: std::sync::Mutex<duckdb::Connection>,
        }

        impl $name {
            pub fn new(conn: duckdb::Connection) -> Self {
                Self { conn: std::sync::Mutex::new(conn) }
            }

            pub(super) fn conn(&self) -> std::sync::MutexGuard<'_, duckdb::Connection> {
                self.conn.lock().unwrap_or_else(|p| p.into_inner())
            }
        }
    };
}

mod accounts;
mod alerts;
mod annotations;
mod bench;
mod crawlers;
mod day_dims;
mod day_reads;
mod day_totals;
mod event_columns;
mod events;
mod export;
mod funnel;
mod goals;
mod identities;
mod imports;
mod invites;
mod lifecycle;
mod migrations;
mod passkeys;
mod report_sql;
/// A connection to a fresh in-memory database that lives as long as the test process: the
/// in-memory double the port conformance suites run the DuckDB adapters on.
#[cfg(test)]
pub(crate) fn memory_connection() -> Connection {
    Box::leak(Box::new(Database::open_in_memory().unwrap())).connect().unwrap()
}

#[cfg(test)]
mod report_sql_golden;
mod reports;
mod second_factors;
mod segments;
mod sites;
mod sql;
mod subscriptions;
mod visit_ends;
mod vitals;
mod watchdog;
mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use duckdb::{Config, Connection};

pub use accounts::DuckAccounts;
pub use alerts::DuckAlerts;
pub use annotations::DuckAnnotations;
pub use bench::bench_dashboard_sql;
pub use crawlers::DuckCrawlers;
pub use day_totals::DayGate;
pub use events::DuckEventStore;
pub use export::{ExportTable, export_ndjson};
pub use goals::DuckGoals;
pub use imports::DuckImports;
pub use lifecycle::{DuckLifecycle, compact_file, compact_if_sparse, free_ratio};
pub use reports::{DuckReports, EXACT_VISITORS_LIMIT};

/// Rows of a DuckDB row group (its default): the unit it compresses, prunes and writes in.
pub const ROW_GROUP_ROWS: usize = 122_880;
pub use segments::DuckSegments;
pub use sites::DuckSites;
pub use subscriptions::DuckSubscriptions;
pub use visit_ends::{DuckVisitFolder, fold_until};
pub use webhooks::DuckWebhooks;

use crate::ports::store::{StoreError, StoreResult};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct DuckSettings {
    /// e.g. `512MB`; DuckDB's default would be 80 % of RAM. A pass over a database larger than
    /// the limit fills its cache up to it, and the process holds ~200 MiB besides (GeoIP,
    /// user-agent rules, visitor state): 512 MB keeps a full pass under 1 GB of resident memory.
    pub memory_limit: String,
    pub threads: u16,
    /// WAL size that triggers a checkpoint. Each checkpoint rewrites the partly filled last row
    /// group and leaves the last of the blocks it wrote partly empty, so a larger threshold leaves
    /// a more compact file (256 MB rather than 64: -0.5 bytes per stored hit); the costs are a
    /// longer WAL replay after a crash and more of the memory limit holding rows not yet
    /// checkpointed.
    pub checkpoint_threshold: String,
}

impl Default for DuckSettings {
    fn default() -> Self {
        Self { memory_limit: "512MB".into(), threads: 2, checkpoint_threshold: "256MB".into() }
    }
}

/// An open database. Keep it alive for the process lifetime; hand out clones per thread.
pub struct Database {
    conn: Connection,
    path: PathBuf,
    /// Shared by the writer and the job rolling `day_totals` (see [`DayGate`]).
    day_gate: Arc<DayGate>,
}

pub(crate) fn internal(e: duckdb::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Runs one statement; whether it changed (added, updated or deleted) any row.
pub(crate) fn changed(conn: &Connection, sql: &str, params: impl duckdb::Params) -> StoreResult<bool> {
    conn.execute(sql, params).map(|n| n > 0).map_err(internal)
}

/// The first row of a query, read by `row`; `None` when there is none.
pub(crate) fn first_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl duckdb::Params,
    row: impl FnOnce(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> StoreResult<Option<T>> {
    use duckdb::OptionalExt;
    conn.query_row(sql, params, row).optional().map_err(internal)
}

/// Every row of a query, each read by `row`.
pub(crate) fn all_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl duckdb::Params,
    row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare(sql).map_err(internal)?;
    stmt.query_map(params, row).map_err(internal)?.collect::<Result<Vec<_>, _>>().map_err(internal)
}

impl Database {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path, settings: &DuckSettings) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let config = Config::default()
            .max_memory(&settings.memory_limit)
            .and_then(|c| c.threads(settings.threads as i64))
            .and_then(|c| c.with("checkpoint_threshold", &settings.checkpoint_threshold))
            // A transaction filling whole row groups (the seeder's, an import's) would write them
            // to the file before its commit, each leaving its last blocks partly empty: 2.2 bytes
            // per stored hit of 24 at 10 M seeded events. Through the WAL, the checkpoint packs
            // them with the rest.
            .and_then(|c| c.with("enable_optimistic_write", "false"))
            .map_err(internal)?;
        let conn = Connection::open_with_flags(path, config).map_err(|e| {
            let text = e.to_string();
            if text.contains("Could not set lock") || text.contains("Conflicting lock") {
                StoreError::Locked { path: path.display().to_string() }
            } else {
                StoreError::Internal(text)
            }
        })?;
        Self::ready(conn, path.to_path_buf())
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> StoreResult<Self> {
        Self::ready(Connection::open_in_memory().map_err(internal)?, PathBuf::from(":memory:"))
    }

    /// Migrates, then reads which days are rolled.
    fn ready(conn: Connection, path: PathBuf) -> StoreResult<Self> {
        let mut db = Self { conn, path, day_gate: Arc::new(DayGate::unknown()) };
        db.migrate()?;
        db.day_gate = Arc::new(DayGate::read(&db.conn)?);
        Ok(db)
    }

    /// The gate the writer and the day-rolling job of this database share.
    pub fn day_gate(&self) -> Arc<DayGate> {
        self.day_gate.clone()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to the same database, for another thread.
    pub fn connect(&self) -> StoreResult<Connection> {
        self.conn.try_clone().map_err(internal)
    }

    /// Flushes the WAL into the file.
    pub fn checkpoint(&self) -> StoreResult<()> {
        self.conn.execute_batch("FORCE CHECKPOINT").map_err(internal)
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> StoreResult<i32> {
        self.conn
            .query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0))
            .map_err(internal)
    }

    fn migrate(&self) -> StoreResult<()> {
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)",
            )
            .map_err(internal)?;
        let current = self.schema_version()?;
        for (version, sql) in migrations::MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            let script = format!("BEGIN; {sql}; INSERT INTO schema_migrations (version) VALUES ({version}); COMMIT;");
            if let Err(e) = self.conn.execute_batch(&script) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(StoreError::Internal(format!("migration {version} failed: {e}")));
            }
            tracing::info!(version, "applied schema migration");
        }
        Ok(())
    }
}
