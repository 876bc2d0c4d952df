//! Raw event export as NDJSON, streamed row by row.

use std::io::Write;

use duckdb::Connection;

use super::internal;
use crate::ports::store::{StoreError, StoreResult};

/// Which table to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    Events,
    WebVitals,
    Engagements,
    /// AI crawler tallies per local day, crawler and page.
    CrawlerFetches,
}

/// Writes one JSON object per row of `site_id` with `start <= ts < end` (UTC microseconds; all
/// rows without `span`), in time order, calling `progress` every 10,000 rows. Returns the number of rows.
pub fn export_ndjson(
    conn: &Connection,
    table: ExportTable,
    site_id: u32,
    span: Option<(i64, i64)>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<u64> {
    // DuckDB's json extension renders each row, MAP columns as JSON objects.
    let sql = match table {
        ExportTable::Events => {
            "SELECT to_json(struct_pack(ts := strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), name, visitor_id := visitor_id::VARCHAR,
                visit_id, hostname, pathname, referrer, referrer_source, channel, utm_source, utm_medium, utm_campaign,
                utm_content, utm_term, country, region, city, browser, browser_version, os, os_version, device, screen,
                language, props := coalesce(props, MAP {}), revenue_amount := revenue_amount::VARCHAR, revenue_currency))::VARCHAR
             FROM events WHERE site_id = ? AND ts >= make_timestamp(?::BIGINT) AND ts < make_timestamp(?::BIGINT) ORDER BY ts"
        }
        ExportTable::WebVitals => {
            "SELECT to_json(struct_pack(ts := strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), metric, value, rating, pathname,
                navigation_type, device, country))::VARCHAR
             FROM web_vitals WHERE site_id = ? AND ts >= make_timestamp(?::BIGINT) AND ts < make_timestamp(?::BIGINT) ORDER BY ts"
        }
        ExportTable::Engagements => {
            "SELECT to_json(struct_pack(ts := strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), visitor_id := visitor_id::VARCHAR,
                visit_id, hostname, pathname, scroll_depth, engaged_ms))::VARCHAR
             FROM engagements WHERE site_id = ? AND ts >= make_timestamp(?::BIGINT) AND ts < make_timestamp(?::BIGINT) ORDER BY ts"
        }
        ExportTable::CrawlerFetches => {
            "SELECT to_json(struct_pack(day := strftime(day, '%Y-%m-%d'), crawler, operator, pathname, fetches))::VARCHAR
             FROM crawler_fetches WHERE site_id = ? AND day >= make_timestamp(?::BIGINT)::DATE
             AND day < make_timestamp(?::BIGINT)::DATE ORDER BY day, crawler, pathname"
        }
    };
    let mut stmt = conn.prepare(sql).map_err(internal)?;
    // Without a span: every representable time (DuckDB timestamps span years 290309 BC-294247 AD).
    let (start, end) = span.unwrap_or((-4_000_000_000_000_000_000, 4_000_000_000_000_000_000));
    let mut rows = stmt.query(duckdb::params![site_id, start, end]).map_err(internal)?;
    let mut n = 0;
    while let Some(row) = rows.next().map_err(internal)? {
        let line: String = row.get(0).map_err(internal)?;
        writeln!(out, "{line}").map_err(|e| StoreError::Internal(e.to_string()))?;
        n += 1;
        if n % 10_000 == 0 {
            progress(n);
        }
    }
    Ok(n)
}
