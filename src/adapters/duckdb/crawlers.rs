//! AI crawler fetch counts: upserted per (site, day, crawler, page), reported per site.

use chrono::NaiveDate;
use duckdb::Connection;

use super::internal;
use crate::domain::crawlers::{CrawlerFetches, CrawlerReport, DayFetches, FetchCount, MAX_REPORT_ROWS, PageFetches};
use crate::ports::crawlers::CrawlerStore;
use crate::ports::store::StoreResult;

on_own_connection!(
    /// Crawler tallies on their own connection (reports, and imported access logs).
    DuckCrawlers
);

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
}

fn days_since_epoch(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

/// Adds `counts` to the stored tallies; runs inside the caller's transaction when given one.
pub(super) fn add_fetches(conn: &Connection, counts: &[FetchCount]) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO crawler_fetches (site_id, day, crawler, operator, pathname, fetches)
             VALUES (?, DATE '1970-01-01' + ?::INTEGER, ?, ?, ?, ?)
             ON CONFLICT (site_id, day, crawler, pathname)
             DO UPDATE SET fetches = fetches + EXCLUDED.fetches, operator = EXCLUDED.operator",
        )
        .map_err(internal)?;
    for c in counts {
        stmt.execute(duckdb::params![c.site_id, days_since_epoch(c.day), c.crawler, c.operator, c.pathname, c.fetches])
            .map_err(internal)?;
    }
    Ok(())
}

/// Rows of `sql` (parameters: site, first day, last day as days since the epoch) as `(text,
/// text, count)`; the second column may be the empty string.
fn grouped(
    conn: &Connection,
    sql: &str,
    site_id: u32,
    first: i64,
    last: i64,
) -> StoreResult<Vec<(String, String, u64)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(internal)?;
    stmt.query_map(duckdb::params![site_id, first, last], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)? as u64))
    })
    .map_err(internal)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(internal)
}

const PERIOD: &str = "site_id = ? AND day BETWEEN DATE '1970-01-01' + ?::INTEGER AND DATE '1970-01-01' + ?::INTEGER";

impl CrawlerStore for DuckCrawlers {
    fn add_fetches(&self, counts: &[FetchCount]) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(internal)?;
        add_fetches(&tx, counts)?;
        tx.commit().map_err(internal)
    }

    fn crawler_report(&self, site_id: u32, first: NaiveDate, last: NaiveDate) -> StoreResult<CrawlerReport> {
        let conn = self.conn();
        let (a, b) = (days_since_epoch(first), days_since_epoch(last));
        let by_day = grouped(
            &conn,
            &format!(
                "SELECT (day - DATE '1970-01-01')::VARCHAR, '', sum(fetches)::BIGINT FROM crawler_fetches
                 WHERE {PERIOD} GROUP BY day"
            ),
            site_id,
            a,
            b,
        )?;
        let crawlers = grouped(
            &conn,
            &format!(
                "SELECT crawler, arg_max(operator, day), sum(fetches)::BIGINT AS n FROM crawler_fetches
                 WHERE {PERIOD} GROUP BY crawler ORDER BY n DESC, crawler LIMIT {MAX_REPORT_ROWS}"
            ),
            site_id,
            a,
            b,
        )?;
        let pages = grouped(
            &conn,
            &format!(
                "SELECT pathname, '', sum(fetches)::BIGINT AS n FROM crawler_fetches
                 WHERE {PERIOD} GROUP BY pathname ORDER BY n DESC, pathname LIMIT {MAX_REPORT_ROWS}"
            ),
            site_id,
            a,
            b,
        )?;
        let mut days: Vec<DayFetches> =
            first.iter_days().take_while(|d| *d <= last).map(|day| DayFetches { day, fetches: 0 }).collect();
        let mut total = 0;
        for (day, _, n) in by_day {
            total += n;
            let offset = day.parse::<i64>().unwrap_or(-1) - a;
            if let Some(slot) = usize::try_from(offset).ok().and_then(|i| days.get_mut(i)) {
                slot.fetches = n;
            }
        }
        Ok(CrawlerReport {
            total,
            days,
            crawlers: crawlers
                .into_iter()
                .map(|(crawler, operator, fetches)| CrawlerFetches { crawler, operator, fetches })
                .collect(),
            pages: pages.into_iter().map(|(pathname, _, fetches)| PageFetches { pathname, fetches }).collect(),
        })
    }
}

crate::conformance_tests!(crawler_store: || DuckCrawlers::new(crate::adapters::duckdb::memory_connection()));
