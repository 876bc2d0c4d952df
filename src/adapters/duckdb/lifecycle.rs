//! Retention (archive to Parquet, then delete), file exports and online backups, each one
//! DuckDB statement so the engine streams the rows and takes a consistent snapshot.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use duckdb::Connection;

use super::day_totals::DayGate;

use super::internal;
use crate::domain::lifecycle::DateSpan;
use crate::domain::site::Site;
use crate::domain::spreadsheet::FORMULA_TRIGGERS;
use crate::ports::lifecycle::{BackupOutcome, DataLifecycle, ExportFormat, RetentionOutcome};
use crate::ports::store::{StoreError, StoreResult};

/// Lifecycle operations on their own connection; retention takes the day gate (see
/// [`DayGate`]) while it deletes, as the writer and the job rolling days do.
pub struct DuckLifecycle {
    conn: std::sync::Mutex<Connection>,
    day_gate: Arc<DayGate>,
}

impl DuckLifecycle {
    pub fn new(conn: Connection) -> Self {
        Self { conn: std::sync::Mutex::new(conn), day_gate: Arc::new(DayGate::unknown()) }
    }

    /// Shares the database's gate (see [`super::Database::day_gate`]).
    pub fn with_day_gate(mut self, gate: Arc<DayGate>) -> Self {
        self.day_gate = gate;
        self
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}
/// A path as a SQL string literal (COPY and ATTACH take no bound parameters).
pub(super) fn sql_path(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "''"))
}

fn io(e: std::io::Error, what: &str, p: &Path) -> StoreError {
    StoreError::Internal(format!("{what} {}: {e}", p.display()))
}

/// Text columns of an event export between `visit_id` and `props`.
const TEXT_COLUMNS: [&str; 20] = [
    "hostname",
    "pathname",
    "referrer",
    "referrer_source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "country",
    "region",
    "city",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
    "screen",
    "language",
];

/// `expr` (VARCHAR) with a leading `'` when it starts with a spreadsheet formula trigger: the
/// SQL twin of `domain::spreadsheet::spreadsheet_safe`, built from the same characters.
fn spreadsheet_safe_sql(expr: &str) -> String {
    let triggers: Vec<String> = FORMULA_TRIGGERS.iter().map(|c| format!("chr({})", *c as u32)).collect();
    format!("CASE WHEN left({expr}, 1) IN ({}) THEN '''' || {expr} ELSE {expr} END", triggers.join(", "))
}

/// The columns of an export, in the NDJSON export's long-standing shape; CSV renders the
/// property map as JSON text, Parquet keeps native types. CSV text cells are made safe to open
/// in a spreadsheet (visitors control them); the numeric ids stay numbers.
fn export_select(format: ExportFormat) -> String {
    let (ts, visitor, props) = match format {
        ExportFormat::Parquet => ("ts".to_string(), "visitor_id", "props".to_string()),
        ExportFormat::Csv => (
            "strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts".to_string(),
            "visitor_id::VARCHAR AS visitor_id",
            format!("{} AS props", spreadsheet_safe_sql("to_json(coalesce(props, MAP {}))::VARCHAR")),
        ),
        ExportFormat::Ndjson => (
            "strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts".to_string(),
            "visitor_id::VARCHAR AS visitor_id",
            "coalesce(props, MAP {}) AS props".to_string(),
        ),
    };
    let text = |col: &str| match format {
        ExportFormat::Csv => format!("{} AS {col}", spreadsheet_safe_sql(col)),
        _ => col.to_string(),
    };
    let rest: Vec<String> = TEXT_COLUMNS.iter().map(|c| text(c)).collect();
    format!("{ts}, {}, {visitor}, visit_id, {}, {props}", text("name"), rest.join(", "))
}

fn copy_options(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "(FORMAT csv, HEADER true)",
        ExportFormat::Parquet => "(FORMAT parquet, COMPRESSION zstd)",
        ExportFormat::Ndjson => "(FORMAT json)",
    }
}

/// Merges the site's rows of `table` before the cut-off in one UTC month into the month's
/// Parquet file. The file's rows are never dropped: a late (backfilled) event can land anywhere
/// in an archived month. Rows that are both in the file and still in the table are the ones a
/// crashed run archived without deleting; they are written once (see `merge_archive`).
fn archive_month(
    conn: &Connection,
    table: &str,
    site_id: u32,
    month: &str,
    cutoff: i64,
    file: &Path,
) -> StoreResult<()> {
    let fresh = format!(
        "SELECT * FROM {table} WHERE site_id = {site_id} AND ts < make_timestamp({cutoff}::BIGINT) \
         AND strftime(ts, '%Y-%m') = '{month}'"
    );
    let tmp = file.with_extension("parquet.partial");
    let source = if file.exists() { merge_archive(&fresh, file) } else { fresh };
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM ({source}) ORDER BY ts) TO {} (FORMAT parquet, COMPRESSION zstd)",
        sql_path(&tmp)
    ))
    .map_err(internal)?;
    std::fs::rename(&tmp, file).map_err(|e| io(e, "cannot move the archive to", file))
}

/// The union of an archive file's rows and `fresh` rows, by row identity: events have no key
/// column, so the identity is the whole row, counted as a multiset (`EXCEPT ALL`). A row already
/// archived and still in the table appears once; two identical rows stay two; every other file
/// row stays. File rows are read in the table's shape, so files written before a migration that
/// added columns still merge (the new columns are NULL there).
fn merge_archive(fresh: &str, file: &Path) -> String {
    format!(
        "WITH fresh AS ({fresh}), \
         archived AS (SELECT * FROM (FROM fresh LIMIT 0) UNION ALL BY NAME SELECT * FROM read_parquet({old})) \
         SELECT * FROM (FROM archived EXCEPT ALL FROM fresh) UNION ALL SELECT * FROM fresh",
        old = sql_path(file)
    )
}

fn count(conn: &Connection, sql: &str, site_id: u32, a: i64, b: i64) -> StoreResult<u64> {
    conn.query_row(sql, duckdb::params![site_id, a, b], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(internal)
}

/// Tables a backup holds empty. The visitor salts: with a day's salt anyone holding the backup
/// can recompute that day's visitor ids from (site, IP, user agent) and so link stored visitors
/// to addresses. A restored database starts with an empty table and the server makes new salts.
/// The last two days' salted visitor keys and their numbers (`visitor_numbers`): without the
/// salts no new hit can match a key, so they are dead weight in a copy, and a restored server
/// numbers new visitors on from the highest number its events hold.
const NOT_BACKED_UP: &[&str] = &["salts", "visitor_numbers"];

/// Copies the catalog (tables, sequences with their values, views) and every table's rows but
/// those of `NOT_BACKED_UP` from `source` to the attached `target`, in one transaction: a
/// consistent snapshot while the writer keeps appending. The secret rows are never written, so
/// they cannot linger in the new file's free blocks either.
fn copy_without_secrets(conn: &Connection, source: &str, target: &str) -> duckdb::Result<()> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let tables: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary ORDER BY 1, 2",
        )?;
        stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
    };
    let mut sql = format!("BEGIN TRANSACTION; COPY FROM DATABASE {} TO {target} (SCHEMA);", quote(source));
    for (schema, table) in tables.iter().filter(|(_, t)| !NOT_BACKED_UP.contains(&t.as_str())) {
        let (schema, table) = (quote(schema), quote(table));
        sql.push_str(&format!(
            " INSERT INTO {target}.{schema}.{table} SELECT * FROM {}.{schema}.{table};",
            quote(source)
        ));
    }
    sql.push_str(" COMMIT;");
    conn.execute_batch(&sql).inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// Unique names for concurrently attached backup targets.
static BACKUP_SEQ: AtomicU64 = AtomicU64::new(0);

impl DataLifecycle for DuckLifecycle {
    fn apply_retention(&self, site: &Site, cutoff: i64, archive_dir: Option<&Path>) -> StoreResult<RetentionOutcome> {
        let mut conn = self.conn();
        let site_id = site.id.0;
        let mut outcome = RetentionOutcome::default();
        for (table, suffix) in [("events", ""), ("web_vitals", ".web-vitals"), ("engagements", ".engagements")] {
            let months: Vec<String> = {
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT DISTINCT strftime(ts, '%Y-%m') FROM {table} WHERE site_id = ? AND ts < make_timestamp(?::BIGINT) ORDER BY 1"
                    ))
                    .map_err(internal)?;
                stmt.query_map(duckdb::params![site_id, cutoff], |r| r.get(0))
                    .map_err(internal)?
                    .collect::<Result<_, _>>()
                    .map_err(internal)?
            };
            let Some(dir) = archive_dir.filter(|_| !months.is_empty()) else { continue };
            let dir = dir.join(site.domain.as_str());
            std::fs::create_dir_all(&dir).map_err(|e| io(e, "cannot create", &dir))?;
            for month in months {
                let file = dir.join(format!("{month}{suffix}.parquet"));
                archive_month(&conn, table, site_id, &month, cutoff, &file)?;
                outcome.archives.push(file);
            }
        }
        // Held through the commit: the job never rolls a day from rows this deletes.
        let held = self.day_gate.enter();
        let tx = conn.transaction().map_err(internal)?;
        let delete = |table: &str| {
            tx.execute(
                &format!("DELETE FROM {table} WHERE site_id = ? AND ts < make_timestamp(?::BIGINT)"),
                duckdb::params![site_id, cutoff],
            )
            .map(|n| n as u64)
            .map_err(internal)
        };
        outcome.deleted_events = delete("events")?;
        super::visit_ends::forget_before(&tx, site_id, cutoff)?;
        super::day_totals::forget_before(&tx, site_id, cutoff)?;
        outcome.deleted_vitals = delete("web_vitals")?;
        // Engagement reports go with their page views (and are no events of their own).
        delete("engagements")?;
        // Crawler tallies are per local day: the days before the cutoff's (its local midnight).
        let first_kept = crate::domain::crawlers::local_day(site, cutoff);
        outcome.deleted_crawler_rows = tx
            .execute(
                "DELETE FROM crawler_fetches WHERE site_id = ? AND day < ?::DATE",
                duckdb::params![site_id, first_kept.format("%Y-%m-%d").to_string()],
            )
            .map(|n| n as u64)
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        drop(held);
        if outcome.deleted_events + outcome.deleted_vitals > 0 {
            // Frees the deleted row groups' blocks for reuse; a busy writer may postpone it.
            if let Err(e) = conn.execute_batch("CHECKPOINT") {
                tracing::debug!(error = %e, "checkpoint after retention postponed");
            }
        }
        Ok(outcome)
    }

    fn export(&self, site_id: u32, span: &DateSpan, format: ExportFormat, file: &Path) -> StoreResult<u64> {
        let sql = format!(
            "COPY (SELECT {} FROM events WHERE site_id = {site_id} AND ts >= make_timestamp({}::BIGINT) \
             AND ts < make_timestamp({}::BIGINT) ORDER BY ts) TO {} {}",
            export_select(format),
            span.start_micros,
            span.end_micros,
            sql_path(file),
            copy_options(format)
        );
        self.conn().execute(&sql, []).map(|n| n as u64).map_err(internal)
    }

    fn count_events(&self, site_id: u32, span: &DateSpan) -> StoreResult<u64> {
        count(
            &self.conn(),
            "SELECT count(*) FROM events WHERE site_id = ? AND ts >= make_timestamp(?::BIGINT) AND ts < make_timestamp(?::BIGINT)",
            site_id,
            span.start_micros,
            span.end_micros,
        )
    }

    fn backup(&self, dir: &Path) -> StoreResult<BackupOutcome> {
        std::fs::create_dir_all(dir).map_err(|e| io(e, "cannot create", dir))?;
        let file = dir.join("hitkeep.db");
        if file.exists() {
            return Err(StoreError::Internal(format!("{} already holds a backup", dir.display())));
        }
        let partial = dir.join("hitkeep.db.partial");
        let _ = std::fs::remove_file(&partial);
        let conn = self.conn();
        let name: String = conn.query_row("SELECT current_database()", [], |r| r.get(0)).map_err(internal)?;
        let alias = format!("hk_backup_{}", BACKUP_SEQ.fetch_add(1, Ordering::Relaxed));
        conn.execute_batch(&format!("ATTACH {} AS {alias}", sql_path(&partial))).map_err(internal)?;
        let copied = copy_without_secrets(&conn, &name, &alias);
        let detached = conn.execute_batch(&format!("DETACH {alias}"));
        if let Err(e) = copied.and(detached) {
            let _ = std::fs::remove_file(&partial);
            return Err(internal(e));
        }
        std::fs::rename(&partial, &file).map_err(|e| io(e, "cannot finish the backup", &file))?;
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        Ok(BackupOutcome { file, bytes })
    }
}

/// Rewrites a closed database file without its free blocks (DuckDB reuses freed blocks but
/// never shortens a file whose tail is still in use). Returns (bytes before, bytes after).
pub fn compact_file(path: &Path) -> StoreResult<(u64, u64)> {
    let before = std::fs::metadata(path).map_err(|e| io(e, "cannot read", path))?.len();
    let tmp: PathBuf = path.with_extension("db.compacting");
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(path).map_err(internal)?;
        let name: String = conn.query_row("SELECT current_database()", [], |r| r.get(0)).map_err(internal)?;
        conn.execute_batch(&format!(
            "ATTACH {} AS hk_compact; COPY FROM DATABASE \"{}\" TO hk_compact; DETACH hk_compact;",
            sql_path(&tmp),
            name.replace('"', "\"\"")
        ))
        .map_err(internal)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io(e, "cannot replace", path))?;
    let wal = PathBuf::from(format!("{}.wal", path.display()));
    let _ = std::fs::remove_file(wal);
    let after = std::fs::metadata(path).map_err(|e| io(e, "cannot read", path))?.len();
    Ok((before, after))
}

/// Share of the file's blocks that are free (0.0-1.0), from `pragma_database_size`.
pub fn free_ratio(conn: &Connection) -> StoreResult<(f64, u64)> {
    conn.query_row(
        "SELECT free_blocks::DOUBLE / greatest(total_blocks, 1), total_blocks FROM pragma_database_size() WHERE database_name = current_database()",
        [],
        |r| Ok((r.get::<_, f64>(0)?, r.get::<_, i64>(1)? as u64)),
    )
    .map_err(internal)
}

/// At start-up: rewrites the file when over half of it is free blocks (after large retention
/// deletes) and it is larger than 64 blocks (16 MB). Returns the sizes when it did.
pub fn compact_if_sparse(path: &Path, settings: &super::DuckSettings) -> StoreResult<Option<(u64, u64)>> {
    let (free, blocks) = {
        let db = super::Database::open(path, settings)?;
        let conn = db.connect()?;
        free_ratio(&conn)?
    };
    if free > 0.5 && blocks > 64 { compact_file(path).map(Some) } else { Ok(None) }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
