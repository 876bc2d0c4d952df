//! Annotations of sites.

use chrono::NaiveDate;

use super::{changed, internal};
use crate::domain::annotations::{Annotation, AnnotationDraft};
use crate::ports::annotations::AnnotationRepository;
use crate::ports::store::StoreResult;

on_own_connection!(
    /// Annotation repository on its own connection.
    DuckAnnotations
);

fn days(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

fn from_days(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(n)
}

const COLUMNS: &str = "id, site_id, (day - DATE '1970-01-01')::BIGINT, note, author, created_at";

fn row(r: &duckdb::Row<'_>) -> duckdb::Result<Annotation> {
    Ok(Annotation {
        id: r.get(0)?,
        site_id: r.get(1)?,
        date: from_days(r.get(2)?),
        note: r.get(3)?,
        author: r.get(4)?,
        created_at: r.get(5)?,
    })
}

impl AnnotationRepository for DuckAnnotations {
    fn annotations(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<Vec<Annotation>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM annotations WHERE site_id = ?
                 AND day BETWEEN DATE '1970-01-01' + ?::INTEGER AND DATE '1970-01-01' + ?::INTEGER ORDER BY day, id"
            ))
            .map_err(internal)?;
        stmt.query_map(duckdb::params![site_id, days(first), days(last)], row)
            .map_err(internal)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
    }

    fn add_annotation(&self, site_id: u32, d: &AnnotationDraft, author: &str, now: i64) -> StoreResult<Annotation> {
        let conn = self.conn();
        conn.query_row(
            &format!(
                "INSERT INTO annotations (site_id, day, note, author, created_at)
                 VALUES (?, DATE '1970-01-01' + ?::INTEGER, ?, ?, ?) RETURNING {COLUMNS}"
            ),
            duckdb::params![site_id, days(d.date), d.note, author, now],
            row,
        )
        .map_err(internal)
    }

    fn update_annotation(&self, site_id: u32, id: u32, d: &AnnotationDraft) -> StoreResult<Option<Annotation>> {
        let conn = self.conn();
        let sql = format!(
            "UPDATE annotations SET day = DATE '1970-01-01' + ?::INTEGER, note = ?
             WHERE site_id = ? AND id = ? RETURNING {COLUMNS}"
        );
        let mut stmt = conn.prepare(&sql).map_err(internal)?;
        let mut rows = stmt.query_map(duckdb::params![days(d.date), d.note, site_id, id], row).map_err(internal)?;
        rows.next().transpose().map_err(internal)
    }

    fn delete_annotation(&self, site_id: u32, id: u32) -> StoreResult<bool> {
        changed(&self.conn(), "DELETE FROM annotations WHERE site_id = ? AND id = ?", duckdb::params![site_id, id])
    }
}

crate::conformance_tests!(annotation_repository: || DuckAnnotations::new(crate::adapters::duckdb::memory_connection()));
