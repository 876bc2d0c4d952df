//! Saved segments in DuckDB.

use duckdb::{OptionalExt, Row, params};
use serde_json::Value;

use super::{all_rows, changed, internal};
use crate::domain::segments::{Segment, SegmentDraft, SegmentKind};
use crate::ports::segments::SegmentRepository;
use crate::ports::store::StoreResult;

on_own_connection!(
    /// Segment repository on its own connection.
    DuckSegments
);

const COLS: &str = "id, site_id, name, personal, owner_id, filters, labels, created_at, updated_at";

fn segment_row(r: &Row<'_>) -> duckdb::Result<Segment> {
    let json = |i: usize| r.get::<_, String>(i).map(|t| serde_json::from_str::<Value>(&t).unwrap_or(Value::Null));
    Ok(Segment {
        id: r.get(0)?,
        site_id: r.get(1)?,
        name: r.get(2)?,
        kind: if r.get(3)? { SegmentKind::Personal } else { SegmentKind::Site },
        owner: r.get(4)?,
        filters: match json(5)? {
            Value::Array(list) => list,
            _ => Vec::new(),
        },
        labels: json(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn filters_json(d: &SegmentDraft) -> String {
    Value::Array(d.filters.clone()).to_string()
}

impl SegmentRepository for DuckSegments {
    fn segments(&self, site_id: u32) -> StoreResult<Vec<Segment>> {
        all_rows(
            &self.conn(),
            &format!("SELECT {COLS} FROM segments WHERE site_id = ? ORDER BY id"),
            [site_id],
            segment_row,
        )
    }

    fn add_segment(&self, site_id: u32, owner: Option<u32>, d: &SegmentDraft, now: i64) -> StoreResult<Segment> {
        let sql = format!(
            "INSERT INTO segments (site_id, name, personal, owner_id, filters, labels, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLS}"
        );
        let personal = d.kind == SegmentKind::Personal;
        let args = params![site_id, d.name, personal, owner, filters_json(d), d.labels.to_string(), now, now];
        self.conn().query_row(&sql, args, segment_row).map_err(internal)
    }

    fn update_segment(&self, site_id: u32, id: u32, d: &SegmentDraft, now: i64) -> StoreResult<Option<Segment>> {
        let sql = format!(
            "UPDATE segments SET name = ?, personal = ?, filters = ?, labels = ?, updated_at = ?
             WHERE site_id = ? AND id = ? RETURNING {COLS}"
        );
        let personal = d.kind == SegmentKind::Personal;
        let args = params![d.name, personal, filters_json(d), d.labels.to_string(), now, site_id, id];
        self.conn().query_row(&sql, args, segment_row).optional().map_err(internal)
    }

    fn delete_segment(&self, site_id: u32, id: u32) -> StoreResult<bool> {
        changed(&self.conn(), "DELETE FROM segments WHERE site_id = ? AND id = ?", params![site_id, id])
    }
}

#[cfg(test)]
mod conformance {
    #[test]
    fn passes_the_segment_repository_conformance_suite() {
        crate::ports::conformance::segment_repository(|| {
            // Kept alive for the test's length: the adapter's connection belongs to it.
            let db = Box::leak(Box::new(super::super::Database::open_in_memory().unwrap()));
            super::DuckSegments::new(db.connect().unwrap())
        });
    }
}
