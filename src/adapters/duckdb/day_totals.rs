//! Closed days summed into `day_totals` (migration 21), one row per site and local day (in the
//! site's time zone), by the job that folds visits: the KPIs of a long period (no filter, no
//! breakdown) add up a row per whole day, and a daily chart takes a row per day, scanning
//! events only for the rest (today, days not rolled yet).
//!
//! Every KPI but visitors is a sum over events (`visit_start`, `bounce_delta` and
//! `duration_delta` carry each event's share of its visit), so days add up exactly. Visitors do
//! not: a visit crossing midnight keeps its visitor id on the next day. A row keeps the day's
//! distinct visitors and how many of them were seen the day before (`shared_prev`); over a run of
//! days, visitors = the days' visitors minus the shared ones, exact while every visitor's days
//! are consecutive. A day with a visitor seen in the week before but not the day before (`gaps`)
//! is never added up with its neighbours (a daily chart still reads it: one day each). Salted
//! keys live two UTC days and a new visit takes the day's key, so a visitor number spans a few
//! consecutive days at most; 48-bit hash ids of older rows could collide more than a week apart
//! and would then count as two visitors, as two different people most likely are.
//!
//! Rows stay true: the job, the writer and retention take the [`DayGate`] in turn. The writer deletes the
//! rows of the days a late event (a spool, a slow node) may fall on in any time zone and of the
//! week after (their shared visitors and gaps); retention deletes the rows up to its cutoff's
//! day and the week after; a site's deletion takes
//! its rows; rows of another time zone than the site's go at the job's next run. The job rolls
//! the missing days again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use duckdb::{Connection, Transaction, params};

use super::day_reads::DayTotals;
use super::internal;
use super::sql::{local_micros, ts_param};
use crate::domain::event::Event;
use crate::domain::query::Period;
use crate::domain::query::period::local_midnight;
use crate::domain::visitor::MICROS_PER_DAY;
use crate::ports::store::StoreError;

/// Days rolled in one transaction at most (the writer waits for one).
const ROLL_DAYS: i64 = 7;

/// A period needs this many whole rolled days before the rows are worth reading.
pub(super) const MIN_ROLLED_DAYS: usize = 3;

/// How many days before the day before a day's visitors are looked for (`gaps`). No visitor id
/// the server gives lives this long: keys are salted per day and their numbers forgotten after
/// two days, numbers are never given again.
pub(super) const GAP_DAYS: i64 = 7;

/// The tables the job rolls together, deleted together: a day has a row in `day_totals` exactly
/// when it has its rows in `day_dims`.
const ROLLED_TABLES: [&str; 2] = ["day_totals", "day_dims"];

/// What the writer and the job share: one of them at a time changes `events` and `day_totals`
/// together, and the writer knows which events fall on rolled days.
#[derive(Debug)]
pub struct DayGate {
    /// Per site, the instant its rolled days end: an event before it falls on a rolled day.
    /// `None`: not known (a store alone), any event may.
    rolled: Mutex<Option<HashMap<u32, i64>>>,
}

impl DayGate {
    /// A gate for a store alone: every event may fall on a rolled day.
    pub fn unknown() -> Self {
        Self { rolled: Mutex::new(None) }
    }

    /// The gate of a database: where each site's rolled days end.
    pub(super) fn read(conn: &Connection) -> Result<Self, StoreError> {
        let rows: Vec<(u32, i64, String)> =
            super::all_rows(conn, "SELECT site_id, max(day), tz FROM day_totals GROUP BY site_id, tz", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let mut ends: HashMap<u32, i64> = HashMap::new();
        for (site, last, tz) in rows {
            // Rows of a time zone the site no longer has (until the job deletes them): any.
            let end = tz.parse::<Tz>().map_or(i64::MAX, |tz| midnight(tz, last + 1));
            let e = ends.entry(site).or_insert(end);
            *e = (*e).max(end);
        }
        Ok(Self { rolled: Mutex::new(Some(ends)) })
    }

    pub(super) fn enter(&self) -> MutexGuard<'_, Option<HashMap<u32, i64>>> {
        self.rolled.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn utc_day(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// The local day (days since 1970-01-01 in `tz`) of an instant, as `sql::bucket` numbers them.
pub(super) fn local_day(tz: Tz, micros: i64) -> i64 {
    let t = DateTime::from_timestamp_micros(micros).unwrap_or_default();
    let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() as i64;
    (micros + offset * 1_000_000).div_euclid(MICROS_PER_DAY)
}

fn date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(day)
}

/// The instant local day `day` of `tz` begins.
pub(super) fn midnight(tz: Tz, day: i64) -> i64 {
    local_midnight(tz, date(day)).timestamp_micros()
}

/// In the writer's transaction (the gate, `rolled`, held since before it began): deletes the
/// rows of the rolled days `events` may fall on (a local day is the UTC day, the one before or
/// the one after) and of the days whose shared visitors and gaps they change.
pub(super) fn forget_days_of(
    tx: &Transaction<'_>,
    rolled: Option<&HashMap<u32, i64>>,
    events: &[Event],
) -> Result<(), StoreError> {
    let late = |e: &Event| rolled.is_none_or(|ends| ends.get(&e.site_id).is_some_and(|end| e.ts < *end));
    let days: BTreeSet<(u32, i64)> =
        events.iter().filter(|e| late(e)).map(|e| (e.site_id, utc_day(e.ts) - 1)).collect();
    for (site, day) in days {
        for table in ROLLED_TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE site_id = ? AND day BETWEEN ? AND ?"),
                params![site, day, day + 3 + GAP_DAYS],
            )
            .map_err(internal)?;
        }
    }
    Ok(())
}

/// In retention's transaction: the rows of the days events before `cutoff` were deleted from,
/// and of the days whose shared visitors and gaps change with them.
pub(super) fn forget_before(tx: &Transaction<'_>, site_id: u32, cutoff: i64) -> Result<(), StoreError> {
    for table in ROLLED_TABLES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE site_id = ? AND day <= ?"),
            params![site_id, utc_day(cutoff) + 2 + GAP_DAYS],
        )
        .map_err(internal)?;
    }
    Ok(())
}

/// Rolls every local day closed before `cutoff` that has no row yet, per site in its time
/// zone, from the site's first event on; returns how many days it rolled. `empty` remembers
/// sites found without events before a day, so they are not scanned again for it.
pub(super) fn roll_until(
    conn: &mut Connection,
    gate: &DayGate,
    cutoff: i64,
    empty: &mut HashSet<(u32, i64)>,
) -> Result<u64, StoreError> {
    let sites: Vec<(u32, String)> =
        super::all_rows(conn, "SELECT id, timezone FROM sites ORDER BY id", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut rolled = 0;
    for (site, tz_name) in sites {
        let Ok(tz) = tz_name.parse::<Tz>() else { continue };
        let horizon = local_day(tz, cutoff);
        {
            let _held = gate.enter();
            for table in ROLLED_TABLES {
                super::changed(
                    conn,
                    &format!("DELETE FROM {table} WHERE site_id = ? AND tz <> ?"),
                    params![site, tz_name],
                )?;
            }
        }
        let have: BTreeSet<i64> = super::all_rows(
            conn,
            "SELECT day FROM day_totals WHERE site_id = ? AND day < ?",
            params![site, horizon],
            |r| r.get(0),
        )?
        .into_iter()
        .collect();
        let first_row = have.first().copied().unwrap_or(horizon);
        if have.is_empty() && empty.contains(&(site, horizon)) {
            continue;
        }
        let earliest: Option<i64> = conn
            .query_row(
                "SELECT epoch_us(min(ts)) FROM events WHERE site_id = ? AND ts < ?",
                params![site, ts_param(midnight(tz, first_row))],
                |r| r.get(0),
            )
            .map_err(internal)?;
        let Some(first) = earliest.map(|t| local_day(tz, t)).or(have.first().copied()) else {
            empty.insert((site, horizon));
            continue;
        };
        let missing: Vec<i64> = (first..horizon).filter(|d| !have.contains(d)).collect();
        for run in runs(&missing) {
            rolled += roll_days(conn, gate, site, tz, run)?;
            // Lets a writer waiting on the gate in before the next run takes it again.
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    Ok(rolled)
}

/// Consecutive days cut into ranges of at most `ROLL_DAYS`.
fn runs(days: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((a, b)) if *b == d && d - *a < ROLL_DAYS => *b = d + 1,
            _ => out.push((d, d + 1)),
        }
    }
    out
}

/// One row per local day of `[from, to)` for `site`, in one transaction with the gate held.
fn roll_days(
    conn: &mut Connection,
    gate: &DayGate,
    site: u32,
    tz: Tz,
    (from, to): (i64, i64),
) -> Result<u64, StoreError> {
    // The days before too: visitors shared with them.
    let span = Period::days(tz, date(from - 1 - GAP_DAYS), date(to - 1));
    let day = format!("{} // 86400000000", local_micros("ts", &span));
    let mut held = gate.enter();
    if let Some(ends) = held.as_mut() {
        let end = ends.entry(site).or_insert(i64::MIN);
        *end = (*end).max(midnight(tz, to));
    }
    let tx = conn.transaction().map_err(internal)?;
    let lowest: Option<u64> = tx
        .query_row(
            "SELECT min(visitor_id) FROM events WHERE site_id = ? AND ts >= ? AND ts < ?",
            params![site, ts_param(midnight(tz, from)), ts_param(midnight(tz, to))],
            |r| r.get(0),
        )
        .map_err(internal)?;
    let range = (span.start, midnight(tz, to));
    let source = RollSource { range, days_start: midnight(tz, from), lowest: lowest.unwrap_or(u64::MAX) };
    let events = source.events(&format!("{day} AS day, visitor_id, name, visit_start, bounce_delta, duration_delta"));
    let n = tx
        .execute(
            &format!(
                "INSERT INTO day_totals \
                 WITH ev AS ({events}), \
                 ids AS (SELECT DISTINCT day, visitor_id FROM ev), \
                 agg AS (SELECT day, count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events, \
                 sum(visit_start::INTEGER) AS visits, sum(bounce_delta) AS bounces, sum(duration_delta) AS duration_sum \
                 FROM ev WHERE day >= $4 GROUP BY day), \
                 vis AS (SELECT day, count(*) AS visitors FROM ids WHERE day >= $4 GROUP BY day), \
                 sh AS (SELECT x.day, count(*) AS shared_prev FROM ids x JOIN ids y \
                 ON y.visitor_id = x.visitor_id AND y.day = x.day - 1 WHERE x.day >= $4 GROUP BY x.day), \
                 gp AS (SELECT x.day, count(DISTINCT x.visitor_id) AS gaps FROM ids x JOIN ids y \
                 ON y.visitor_id = x.visitor_id AND y.day BETWEEN x.day - $7 AND x.day - 2 WHERE x.day >= $4 \
                 AND NOT EXISTS (SELECT 1 FROM ids z WHERE z.visitor_id = x.visitor_id AND z.day = x.day - 1) \
                 GROUP BY x.day) \
                 SELECT $1, g.day, $6, coalesce(vis.visitors, 0), coalesce(agg.pageviews, 0), coalesce(agg.events, 0), \
                 coalesce(agg.visits, 0), coalesce(agg.bounces, 0), coalesce(agg.duration_sum, 0), \
                 coalesce(sh.shared_prev, 0), coalesce(gp.gaps, 0) \
                 FROM (SELECT range AS day FROM range($4, $5)) g LEFT JOIN agg USING (day) LEFT JOIN vis USING (day) \
                 LEFT JOIN sh USING (day) LEFT JOIN gp USING (day)"
            ),
            params![site, ts_param(range.0), ts_param(range.1), from, to, tz.name(), 1 + GAP_DAYS],
        )
        .map_err(internal)?;
    super::day_dims::roll(&tx, site, tz.name(), &day, &source, (from, to))?;
    tx.commit().map_err(internal)?;
    Ok(n as u64)
}

/// The events a roll reads (`$1`: the site, `$2`/`$3`: from the week before its days to their
/// end): all of its days', and of the days before (visitors shared with them, gaps) only the
/// visitor ids from the days' lowest on. Visitor numbers count up from a visitor's first event,
/// so the week before mostly holds lower ids: they cannot be the days' visitors, and are neither
/// read (zone maps skip their row groups) nor hashed.
pub(super) struct RollSource {
    /// From the week before the days to their end (`$2`, `$3`).
    pub range: (i64, i64),
    pub days_start: i64,
    pub lowest: u64,
}

impl RollSource {
    pub(super) fn events(&self, columns: &str) -> String {
        let (start, lowest) = (self.days_start, self.lowest);
        format!(
            "SELECT {columns} FROM events WHERE site_id = $1 AND ts >= make_timestamp({start}) AND ts < $3 \
             UNION ALL SELECT {columns} FROM events WHERE site_id = $1 AND ts >= $2 AND ts < make_timestamp({start}) \
             AND visitor_id >= {lowest}::UBIGINT"
        )
    }
}

/// What the engine reads from `day_totals` instead of a period's events (see `PeriodFacts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rolled {
    /// The KPIs of the whole period.
    Total(DayTotals),
    /// Local days `[first, after)` of the period's time zone are rolled (the statement reads
    /// their rows in the same transaction), covering the instants `skip`; the rest is scanned.
    Days { days: (i64, i64), skip: (i64, i64) },
    /// A breakdown by a rolled dimension (see `day_dims`).
    Groups(RolledGroups),
}

/// What a breakdown by the rolled dimension `dim` reads (see `day_dims`): the rows of local days
/// `days` (`[first, after)`), the events of the `rest` of the period, less the visitors of the
/// rest also seen with the same value on the run's days `near` it (read from visitor id `lowest`
/// on, the rest's lowest: see `also_in_run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledGroups {
    pub dim: &'static str,
    pub days: (i64, i64),
    pub rest: [(i64, i64); 2],
    pub near: Vec<(i64, i64)>,
    pub lowest: u64,
}

#[cfg(test)]
#[path = "day_totals_tests.rs"]
mod tests;
