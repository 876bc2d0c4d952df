//! Closed visits folded into `visit_ends` (migration 20), one row each, by a background job:
//! exit pages are then counted on ~1 row per visit instead of grouping every event by visit.
//!
//! Folded are all visits with an id up to a watermark (`fold_marks`), written in the same
//! transaction as their rows, so a crash leaves either both or neither. Visit ids grow in the
//! order visits open, and the watermark stops below the first visit with an event newer than
//! the cutoff, so every folded visit had all its events before it. The writer continues a visit
//! only with an event less than the visit timeout after the visit's last one, and stores events
//! in about time order: a visit whose last event is older than the newest stored event by the
//! timeout and `CLOSED_MARGIN` gets no more events. Deletes keep the rows true: retention folds
//! the visits it cuts again (`forget_before`), a site's deletion takes its rows.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use duckdb::{Connection, Transaction, params};

use super::day_totals::DayGate;

use super::internal;
use super::sql::ts_param;
use crate::domain::visit::VISIT_TIMEOUT_MICROS;
use crate::ports::store::StoreError;
use crate::ports::visit_folding::{FoldOutcome, VisitFolding};

/// Folds closed visits and rolls closed days on its own connection (the job's).
pub struct DuckVisitFolder {
    conn: Mutex<Connection>,
    day_gate: Arc<DayGate>,
    /// Sites found without events before a day (not scanned again for it).
    empty: Mutex<HashSet<(u32, i64)>>,
}

impl DuckVisitFolder {
    pub fn new(conn: Connection) -> Self {
        Self { conn: Mutex::new(conn), day_gate: Arc::new(DayGate::unknown()), empty: Mutex::default() }
    }

    /// Shares the database's gate with the writer (see [`super::Database::day_gate`]).
    pub fn with_day_gate(mut self, gate: Arc<DayGate>) -> Self {
        self.day_gate = gate;
        self
    }
}

impl VisitFolding for DuckVisitFolder {
    fn fold_closed_visits(&self, now_micros: i64) -> Result<FoldOutcome, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let newest: Option<i64> =
            conn.query_row("SELECT epoch_us(max(ts)) FROM events", [], |r| r.get(0)).map_err(internal)?;
        let Some(newest) = newest else { return Ok(FoldOutcome::default()) };
        let cutoff = newest.min(now_micros) - VISIT_TIMEOUT_MICROS - CLOSED_MARGIN;
        let mut outcome = fold_until(&mut conn, cutoff)?;
        let mut empty = self.empty.lock().unwrap_or_else(|p| p.into_inner());
        // A day's rows hold only its own events (a visit's later events carry their share of it):
        // a day is closed once events stop arriving for it, not when its visits end.
        let day_cutoff = newest.min(now_micros) - DAY_CLOSED_MARGIN;
        outcome.days = super::day_totals::roll_until(&mut conn, &self.day_gate, day_cutoff, &mut empty)?;
        Ok(outcome)
    }
}

/// How much older than the newest stored event the visit timeout is counted from: events
/// stored out of time order by less than this (batches, clocks of several nodes) cannot reopen
/// a folded visit.
const CLOSED_MARGIN: i64 = 3_600_000_000;

/// How much older than the newest stored event a local day must end before it is rolled (see
/// `day_totals`): the writer's batches and queue lag by seconds; an event later than this (a
/// spool, a slow node) takes its days' rows away and they are rolled again.
const DAY_CLOSED_MARGIN: i64 = 5 * 60_000_000;

/// Visit ids folded in one transaction at most (bounds its memory on a first fold of old data).
const FOLD_BATCH: u64 = 1_000_000;

/// The watermark's name in `fold_marks`.
const MARK: &str = "visit_ends";

/// One visit's row from its events; the same expressions as the report engine's per-visit
/// grouping (`report_sql`), so a folded visit answers exactly as its events would.
const FOLD_SELECT: &str = "SELECT site_id, visit_id, any_value(visitor_id), min(ts), max(ts), \
     count(*) FILTER (WHERE name = 'pageview'), count(*) FILTER (WHERE name <> 'pageview'), \
     arg_max(pathname, ts) FILTER (WHERE name = 'pageview') FROM events";

/// The watermark: every visit with an id up to it is folded (`None`: nothing folded yet).
pub(super) fn folded_through(conn: &Connection) -> Result<Option<u64>, StoreError> {
    conn.query_row("SELECT max(through) FROM fold_marks WHERE name = ?", [MARK], |r| r.get(0)).map_err(internal)
}

/// Folds every visit not folded yet whose events are all before `cutoff` (microseconds) and
/// whose id is below every visit with a later event, in transactions of at most `FOLD_BATCH`
/// visit ids.
pub fn fold_until(conn: &mut Connection, cutoff: i64) -> Result<FoldOutcome, StoreError> {
    let mut total = FoldOutcome::default();
    loop {
        let tx = conn.transaction().map_err(internal)?;
        let from = match folded_through(&tx)? {
            Some(w) => w,
            None => tx
                .query_row("SELECT coalesce(min(visit_id), 1) - 1 FROM events", [], |r| r.get::<_, u64>(0))
                .map_err(internal)?,
        };
        let (first_open, last): (Option<u64>, Option<u64>) = tx
            .query_row(
                "SELECT (SELECT min(visit_id) FROM events WHERE ts >= ?), (SELECT max(visit_id) FROM events)",
                [ts_param(cutoff)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(internal)?;
        let closed_through = match first_open {
            Some(open) => open.saturating_sub(1),
            None => last.unwrap_or(from),
        };
        let to = closed_through.min(from.saturating_add(FOLD_BATCH));
        if to <= from {
            return Ok(total);
        }
        tx.execute(
            &format!("INSERT INTO visit_ends {FOLD_SELECT} WHERE visit_id > ? AND visit_id <= ? GROUP BY site_id, visit_id ORDER BY visit_id"),
            params![from, to],
        )
        .map_err(internal)?;
        let (visits, events): (i64, Option<i64>) = tx
            .query_row(
                "SELECT count(*), sum(pv + ce)::BIGINT FROM visit_ends WHERE visit_id > ? AND visit_id <= ?",
                params![from, to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(internal)?;
        tx.execute("INSERT OR REPLACE INTO fold_marks (name, through) VALUES (?, ?)", params![MARK, to])
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        total.visits += visits as u64;
        total.events += events.unwrap_or(0) as u64;
        if to == closed_through {
            return Ok(total);
        }
    }
}

/// After a site's events before `cutoff` were deleted in `tx`: the visits that began before it
/// and went on after it are folded again from their remaining events, and the rows of visits
/// that began before it go.
pub(super) fn forget_before(tx: &Transaction<'_>, site_id: u32, cutoff: i64) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO visit_ends {FOLD_SELECT} WHERE site_id = ? AND visit_id IN (SELECT visit_id FROM visit_ends \
             WHERE site_id = ? AND vstart < ? AND vend >= ?) GROUP BY site_id, visit_id"
        ),
        params![site_id, site_id, ts_param(cutoff), ts_param(cutoff)],
    )
    .map_err(internal)?;
    tx.execute("DELETE FROM visit_ends WHERE site_id = ? AND vstart < ?", params![site_id, ts_param(cutoff)])
        .map_err(internal)?;
    Ok(())
}

#[cfg(test)]
#[path = "visit_ends_tests.rs"]
mod tests;
