//! Reading `day_totals` (see [`super::day_totals`]): the longest run of rolled days inside a
//! period, its KPIs added up with the events of the rest, and the visitors the two share.

use chrono_tz::Tz;
use duckdb::types::Value;
use duckdb::{Connection, params};

use super::day_totals::{GAP_DAYS, MIN_ROLLED_DAYS, Rolled, local_day, midnight};
use super::internal;
use super::sql::ts_param;
use crate::domain::query::Period;
use crate::ports::store::StoreError;

/// The additive KPIs of a period or a day (see [`period_totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    pub visitors: i64,
    pub pageviews: i64,
    pub events: i64,
    pub visits: i64,
    pub bounces: i64,
    pub duration_sum: i64,
}

impl DayTotals {
    fn add(&mut self, o: &DayTotals) {
        self.visitors += o.visitors;
        self.pageviews += o.pageviews;
        self.events += o.events;
        self.visits += o.visits;
        self.bounces += o.bounces;
        self.duration_sum += o.duration_sum;
    }

    /// In the order of `ev`'s columns `visitors, pageviews, events, visits, bounces, duration_sum`.
    pub(super) fn values(&self) -> [i64; 6] {
        [self.visitors, self.pageviews, self.events, self.visits, self.bounces, self.duration_sum]
    }
}

/// The six totals in the columns from `first` on, in `DayTotals`' order.
fn totals_at(r: &duckdb::Row<'_>, first: usize) -> duckdb::Result<DayTotals> {
    let [visitors, pageviews, events, visits, bounces, duration_sum] = [0, 1, 2, 3, 4, 5].map(|i| r.get(first + i));
    Ok(DayTotals {
        visitors: visitors?,
        pageviews: pageviews?,
        events: events?,
        visits: visits?,
        bounces: bounces?,
        duration_sum: duration_sum?,
    })
}

/// A rolled day: its number, totals, visitors shared with the day before, visitor gaps.
type DayRow = (i64, DayTotals, i64, i64);

/// The longest run of consecutive rolled days of `period`'s time zone wholly inside it, with
/// its first day; `None` when shorter than `MIN_ROLLED_DAYS`.
pub(super) fn rolled_run(
    conn: &Connection,
    site_id: u32,
    period: &Period,
) -> Result<Option<(i64, Vec<DayRow>)>, StoreError> {
    let tz = period.tz;
    let start_day = local_day(tz, period.start);
    let first = if midnight(tz, start_day) < period.start { start_day + 1 } else { start_day };
    let end = local_day(tz, period.end);
    if end - first < MIN_ROLLED_DAYS as i64 {
        return Ok(None);
    }
    let rows: Vec<DayRow> = super::all_rows(
        conn,
        "SELECT day, visitors, pageviews, events, visits, bounces, duration_sum, shared_prev, gaps FROM day_totals \
         WHERE site_id = ? AND tz = ? AND day >= ? AND day < ? ORDER BY day",
        params![site_id, tz.name(), first, end],
        |r| Ok((r.get(0)?, totals_at(r, 1)?, r.get(7)?, r.get(8)?)),
    )?;
    let (mut best, mut from) = ((0, 0), 0);
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].0 != rows[i - 1].0 + 1 {
            if i - from > best.1 - best.0 {
                best = (from, i);
            }
            from = i;
        }
    }
    let run = rows[best.0..best.1].to_vec();
    Ok((run.len() >= MIN_ROLLED_DAYS).then(|| (run[0].0, run)))
}

/// Rolled days for a daily chart: the run of them and the instants they cover; the rest of the
/// period is scanned.
pub(super) fn period_days(conn: &Connection, site_id: u32, period: &Period) -> Result<Option<Rolled>, StoreError> {
    let Some((first, run)) = rolled_run(conn, site_id, period)? else { return Ok(None) };
    let after = first + run.len() as i64;
    Ok(Some(Rolled::Days { days: (first, after), skip: (midnight(period.tz, first), midnight(period.tz, after)) }))
}

/// The KPIs of `period` from the rolled days wholly inside it (a run from its first whole day)
/// and the events of the rest; `None` when fewer than `MIN_ROLLED_DAYS` days are rolled there or
/// the run has a visitor gap (the caller scans every event then).
pub(super) fn period_totals(conn: &Connection, site_id: u32, period: &Period) -> Result<Option<DayTotals>, StoreError> {
    let Some((first, run)) = rolled_run(conn, site_id, period)? else { return Ok(None) };
    if run[1..].iter().any(|(.., gaps)| *gaps > 0) {
        return Ok(None);
    }
    let after = first + run.len() as i64;
    let mut total = DayTotals::default();
    for (_, t, _, _) in &run {
        total.add(t);
    }
    total.visitors -= run[1..].iter().map(|(_, _, shared, _)| shared).sum::<i64>();
    let at = |d: i64| midnight(period.tz, d);
    let (head, tail) = ((period.start, at(first)), (at(after), period.end));
    let (rest, head_n, tail_n, lowest) = rest_totals(conn, site_id, head, tail)?;
    total.add(&rest);
    let near = near_rest(period.tz, (first, after), (head_n > 0, tail_n > 0));
    total.visitors -= also_in_run(conn, site_id, head, tail, &near, lowest.unwrap_or(0))?;
    Ok(Some(total))
}

/// The instants of the run's days `[first, after)` near each side of it that has events around
/// it (`sides`: before, after): a visitor of the rest can also be there (`GAP_DAYS`).
pub(super) fn near_rest(tz: Tz, (first, after): (i64, i64), sides: (bool, bool)) -> Vec<(i64, i64)> {
    let (at, reach) = (|d: i64| midnight(tz, d), GAP_DAYS + 1);
    let mut near = Vec::new();
    if sides.0 {
        near.push((at(first), at((first + reach).min(after))));
    }
    if sides.1 {
        near.push((at((after - reach).max(first)), at(after)));
    }
    near
}

/// `SELECT` of the columns of the events of `site_id` in `[from, to)`, the range as parameters.
fn events_in(sql: &mut String, params: &mut Vec<Value>, columns: &str, site_id: u32, (from, to): (i64, i64)) {
    sql.push_str(&format!("SELECT {columns} FROM events WHERE site_id = ? AND ts >= ? AND ts < ?"));
    params.extend([Value::UInt(site_id), ts_param(from), ts_param(to)]);
}

/// The KPIs of the events in `head` and `tail` (the period around a rolled run), how many
/// events each has, and their lowest visitor id.
fn rest_totals(
    conn: &Connection,
    site_id: u32,
    head: (i64, i64),
    tail: (i64, i64),
) -> Result<(DayTotals, i64, i64, Option<u64>), StoreError> {
    let (mut sql, mut params) = (
        String::from(
            "SELECT count(DISTINCT visitor_id), count(*) FILTER (WHERE name = 'pageview'), \
         count(*), coalesce(sum(visit_start::INTEGER), 0)::BIGINT, coalesce(sum(bounce_delta), 0)::BIGINT, \
         coalesce(sum(duration_delta), 0)::BIGINT, count(*) FILTER (WHERE side = 0), count(*) FILTER (WHERE side = 1), \
         min(visitor_id) FROM (",
        ),
        Vec::new(),
    );
    let columns = "visitor_id, name, visit_start, bounce_delta, duration_delta";
    events_in(&mut sql, &mut params, &format!("0 AS side, {columns}"), site_id, head);
    sql.push_str(" UNION ALL ");
    events_in(&mut sql, &mut params, &format!("1 AS side, {columns}"), site_id, tail);
    sql.push(')');
    conn.query_row(&sql, duckdb::params_from_iter(params), |r| Ok((totals_at(r, 0)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        .map_err(internal)
}

/// How many visitors of `head` and `tail` are also on the run's days `near` their side. Only
/// ids from `lowest` (the rest's lowest) on are read there: visitor numbers count up from a
/// visitor's first event, so the older days' row groups are skipped by their zone maps.
fn also_in_run(
    conn: &Connection,
    site_id: u32,
    head: (i64, i64),
    tail: (i64, i64),
    near: &[(i64, i64)],
    lowest: u64,
) -> Result<i64, StoreError> {
    if near.is_empty() {
        return Ok(0);
    }
    let (mut sql, mut params) = (String::from("WITH rest AS ("), Vec::new());
    events_in(&mut sql, &mut params, "visitor_id", site_id, head);
    sql.push_str(" UNION ALL ");
    events_in(&mut sql, &mut params, "visitor_id", site_id, tail);
    sql.push_str(") SELECT count(DISTINCT visitor_id) FROM (");
    for (i, range) in near.iter().enumerate() {
        if i > 0 {
            sql.push_str(" UNION ALL ");
        }
        events_in(&mut sql, &mut params, "visitor_id", site_id, *range);
        sql.push_str(" AND visitor_id >= ?");
        params.push(Value::UBigInt(lowest));
    }
    sql.push_str(") WHERE visitor_id IN (SELECT visitor_id FROM rest)");
    conn.query_row(&sql, duckdb::params_from_iter(params), |r| r.get(0)).map_err(internal)
}
