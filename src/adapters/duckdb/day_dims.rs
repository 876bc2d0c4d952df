//! Closed days summed per dimension value into `day_dims` (migration 22): the dashboard's
//! breakdowns of a long period (top pages, entry pages, sources, countries, browsers, operating
//! systems, devices; no filter) add up a row per whole day and value, scanning events only for
//! the rest of the period (today, days not rolled yet).
//!
//! The rows are rolled with `day_totals`' rows, in the same transaction, and deleted with them
//! (see `day_totals.rs` for the gate that keeps both true). A row holds what a `day_totals` row
//! holds, per value: its distinct visitors, those also seen with the same value the day before
//! (`shared_prev`), and those seen with it in the week before but not the day before (`gaps`).
//! A run of days is used only when no day after its first has such a gap for any value.

use duckdb::types::Value;
use duckdb::{Transaction, params};

use super::day_reads::{near_rest, rolled_run};
use super::day_totals::{GAP_DAYS, RollSource, Rolled, RolledGroups, midnight};
use super::internal;
use super::report_sql::labelled_column;
use super::sql::ts_param;
use crate::domain::query::{Dimension, EventDim, Metric, Period, Query, VisitDim};
use crate::ports::store::StoreError;

/// The dimensions rolled per day, with their key in `day_dims.dim`.
pub const ROLLED_DIMS: [(&str, Dimension); 7] = [
    ("page", Dimension::Event(EventDim::Page)),
    ("entry_page", Dimension::Visit(VisitDim::EntryPage)),
    ("source", Dimension::Visit(VisitDim::Source)),
    ("country", Dimension::Visit(VisitDim::Country)),
    ("browser", Dimension::Visit(VisitDim::Browser)),
    ("os", Dimension::Visit(VisitDim::Os)),
    ("device", Dimension::Visit(VisitDim::Device)),
];

/// The key of `q`'s one dimension when `day_dims` can answer `q`: no filter, no revenue, the
/// site's KPIs (for pages, which group events rather than visits, event metrics only).
pub fn rolled_dim(q: &Query) -> Option<&'static str> {
    use Metric::*;
    let [dim] = q.dimensions.as_slice() else { return None };
    let (key, _) = ROLLED_DIMS.iter().find(|(_, d)| d == dim)?;
    let event_metric = |m: &Metric| matches!(m, Visitors | Pageviews | Events);
    let visit_metric = |m: &Metric| matches!(m, Visits | ViewsPerVisit | BounceRate | VisitDuration);
    let metrics_ok = match dim {
        Dimension::Event(EventDim::Page) => q.metrics.iter().all(event_metric),
        _ => q.metrics.iter().all(|m| event_metric(m) || visit_metric(m)),
    };
    (q.filters.is_empty() && q.revenue.is_none() && metrics_ok).then_some(*key)
}

/// The SQL expression of a rolled dimension's value over `events` (as breakdowns label it).
pub fn dim_expr(key: &str) -> String {
    let (_, dim) = ROLLED_DIMS.iter().find(|(k, _)| *k == key).expect("a rolled dimension");
    labelled_column(dim).expect("a row dimension")
}

/// In the roll's transaction: the rows of local days `[from, to)` of `site` for every rolled
/// dimension, from the events of `source`; `day` is the local day expression of `ts`.
pub(super) fn roll(
    tx: &Transaction<'_>,
    site: u32,
    tz: &str,
    day: &str,
    source: &RollSource,
    (from, to): (i64, i64),
) -> Result<(), StoreError> {
    for (key, _) in ROLLED_DIMS {
        let value = dim_expr(key);
        // `IS NOT DISTINCT FROM`: a value may be NULL (a page never is; kept general).
        let same =
            |a: &str, b: &str| format!("{b}.visitor_id = {a}.visitor_id AND {b}.value IS NOT DISTINCT FROM {a}.value");
        tx.execute(
            &format!(
                "INSERT INTO day_dims \
                 WITH ev AS ({}), \
                 ids AS (SELECT DISTINCT day, value, visitor_id FROM ev), \
                 agg AS (SELECT day, value, count(DISTINCT visitor_id) AS visitors, \
                 count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events, \
                 sum(visit_start::INTEGER) AS visits, sum(bounce_delta) AS bounces, sum(duration_delta) AS duration_sum \
                 FROM ev WHERE day >= $4 AND day < $5 GROUP BY day, value), \
                 sh AS (SELECT x.day, x.value, count(*) AS shared_prev FROM ids x JOIN ids y \
                 ON {} AND y.day = x.day - 1 WHERE x.day >= $4 GROUP BY x.day, x.value), \
                 gp AS (SELECT x.day, x.value, count(DISTINCT x.visitor_id) AS gaps FROM ids x JOIN ids y \
                 ON {} AND y.day BETWEEN x.day - $7 AND x.day - 2 WHERE x.day >= $4 \
                 AND NOT EXISTS (SELECT 1 FROM ids z WHERE {} AND z.day = x.day - 1) GROUP BY x.day, x.value) \
                 SELECT $1, a.day, $6, $8, a.value, a.visitors, a.pageviews, a.events, a.visits, a.bounces, \
                 a.duration_sum, coalesce(sh.shared_prev, 0), coalesce(gp.gaps, 0) FROM agg a \
                 LEFT JOIN sh ON sh.day = a.day AND sh.value IS NOT DISTINCT FROM a.value \
                 LEFT JOIN gp ON gp.day = a.day AND gp.value IS NOT DISTINCT FROM a.value",
                source.events(&format!(
                    "{day} AS day, {value} AS value, visitor_id, name, visit_start, bounce_delta, duration_delta"
                )),
                same("x", "y"),
                same("x", "y"),
                same("x", "z"),
            ),
            params![site, ts_param(source.range.0), ts_param(source.range.1), from, to, tz, 1 + GAP_DAYS, key],
        )
        .map_err(internal)?;
    }
    Ok(())
}

/// Rolled days of `key` for a breakdown of `period`: the longest run of them (none with a value
/// seen again after a gap), the rest of the period around it and the run's days near each side
/// with events (a visitor of the rest may also be there); `None`: scan every event.
pub(super) fn period_groups(
    conn: &duckdb::Connection,
    site_id: u32,
    key: &'static str,
    period: &Period,
) -> Result<Option<Rolled>, StoreError> {
    let Some((first, run)) = rolled_run(conn, site_id, period)? else { return Ok(None) };
    let after = first + run.len() as i64;
    let (tz, at) = (period.tz, |d: i64| midnight(period.tz, d));
    let (head, tail) = ((period.start, at(first)), (at(after), period.end));
    let (gaps, head_n, tail_n, lowest): (i64, i64, i64, Option<u64>) = conn
        .query_row(
            "WITH rest AS (SELECT ts < $7 AS head, visitor_id FROM events WHERE site_id = $1 \
             AND ((ts >= $6 AND ts < $7) OR (ts >= $8 AND ts < $9))) \
             SELECT (SELECT count(*) FROM day_dims WHERE site_id = $1 AND tz = $2 AND dim = $3 AND day > $4 \
             AND day < $5 AND gaps > 0), \
             (SELECT count(*) FROM rest WHERE head), (SELECT count(*) FROM rest WHERE NOT head), \
             (SELECT min(visitor_id) FROM rest)",
            params![
                site_id,
                tz.name(),
                key,
                first,
                after,
                ts_param(head.0),
                ts_param(head.1),
                ts_param(tail.0),
                ts_param(tail.1)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .map_err(internal)?;
    if gaps > 0 {
        return Ok(None);
    }
    let near = near_rest(tz, (first, after), (head_n > 0, tail_n > 0));
    Ok(Some(Rolled::Groups(RolledGroups {
        dim: key,
        days: (first, after),
        rest: [head, tail],
        near,
        lowest: lowest.unwrap_or(0),
    })))
}

/// The events of `site_id` in each range of `ranges` (with visitor ids from `lowest` on, when
/// given), as `SELECT {columns} ... UNION ALL ...`.
pub(super) fn events_in_ranges(
    sql: &mut super::sql::Sql,
    columns: &str,
    site_id: u32,
    ranges: &[(i64, i64)],
    lowest: Option<u64>,
) {
    for (i, (from, to)) in ranges.iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!("SELECT {columns} FROM events WHERE site_id = ")).param(Value::UInt(site_id));
        sql.push(" AND ts >= ").param(ts_param(*from)).push(" AND ts < ").param(ts_param(*to));
        if let Some(id) = lowest {
            sql.push(" AND visitor_id >= ").param(Value::UBigInt(id));
        }
    }
}
