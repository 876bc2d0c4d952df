//! Web Vitals summaries.

use duckdb::Connection;

use super::all_rows;
use super::sql::ts_param;
use crate::domain::query::Period;
use crate::ports::reports::VitalSummary;
use crate::ports::store::StoreResult;

/// Web Vitals per metric: sample count, p75 and the share of each rating.
pub fn web_vitals(
    conn: &Connection,
    site_id: u32,
    period: &Period,
    page: Option<&str>,
) -> StoreResult<Vec<VitalSummary>> {
    all_rows(
        conn,
        "SELECT metric, count(*), quantile_cont(value, 0.75),
                    round(100.0 * count(*) FILTER (WHERE rating = 'good') / count(*), 1),
                    round(100.0 * count(*) FILTER (WHERE rating = 'needs-improvement') / count(*), 1),
                    round(100.0 * count(*) FILTER (WHERE rating = 'poor') / count(*), 1)
             FROM web_vitals WHERE site_id = ? AND ts >= ? AND ts < ? AND (? IS NULL OR pathname = ?)
             GROUP BY metric ORDER BY metric",
        duckdb::params![site_id, ts_param(period.start), ts_param(period.end), page, page],
        |r| {
            Ok(VitalSummary {
                metric: r.get(0)?,
                samples: r.get::<_, i64>(1)? as u64,
                p75: r.get(2)?,
                good: r.get(3)?,
                needs_improvement: r.get(4)?,
                poor: r.get(5)?,
            })
        },
    )
}
