//! The event store: appends batches through DuckDB's Appender.

use duckdb::types::{TimeUnit, ToSqlOutput, Value, ValueRef};
use duckdb::{Connection, appender_params_from_iter};

use super::day_totals::DayGate;
use super::{all_rows, internal};
use std::sync::Arc;

use crate::domain::channel::Channel;
use crate::domain::crawlers::tally;
use crate::domain::event::{Engagement, Event, TrafficSource, VitalSample};
use crate::domain::page::Utm;
use crate::domain::visit::OpenVisit;
use crate::domain::visitor_numbers::{FIRST_NUMBER, NumberingState, REMEMBER_MICROS, VisitorNumber};
use crate::ports::store::{EventStore, ResumeState, StoreResult, WriteBatch};

/// One row per durable queue: the last stream sequence whose records are in `events`/`web_vitals`.
/// Created here rather than in a migration: only a node fed by a durable queue needs it.
const QUEUE_POSITIONS: &str =
    "CREATE TABLE IF NOT EXISTS queue_positions (queue VARCHAR PRIMARY KEY, sequence UBIGINT NOT NULL)";

/// Event store on one connection; create it on the thread that uses it.
pub struct DuckEventStore {
    conn: Connection,
    /// Visitor numbers to remember with the next batch that commits.
    numbers: Vec<VisitorNumber>,
    /// Event time up to which forgotten numbers were last deleted.
    pruned_at: i64,
    /// Taken for each batch: a late event takes its day's `day_totals` row away.
    day_gate: Arc<DayGate>,
}

impl DuckEventStore {
    pub fn new(conn: Connection) -> Self {
        Self { conn, numbers: Vec::new(), pruned_at: i64::MIN, day_gate: Arc::new(DayGate::unknown()) }
    }

    /// Shares the database's gate with the job rolling days (see [`super::Database::day_gate`]).
    pub fn with_day_gate(mut self, gate: Arc<DayGate>) -> Self {
        self.day_gate = gate;
        self
    }
}

/// Appends the visitor numbers given with this batch and, once an hour of event time, deletes
/// those no key can come back for; returns the time it pruned at.
fn remember_numbers(
    tx: &duckdb::Transaction<'_>,
    numbers: &[VisitorNumber],
    events: &[Event],
    pruned_at: i64,
) -> StoreResult<i64> {
    if !numbers.is_empty() {
        let mut app = tx.appender("visitor_numbers").map_err(internal)?;
        for n in numbers {
            app.append_row(duckdb::params![n.key, n.number, ts(n.since)]).map_err(internal)?;
        }
        app.flush().map_err(internal)?;
    }
    let latest = events.iter().map(|e| e.ts).max().unwrap_or(i64::MIN);
    if latest.saturating_sub(pruned_at) < 3_600_000_000 {
        return Ok(pruned_at);
    }
    tx.execute(
        "DELETE FROM visitor_numbers WHERE since < make_timestamp(?::BIGINT)",
        [latest.saturating_sub(REMEMBER_MICROS)],
    )
    .map_err(internal)?;
    Ok(latest)
}

fn text(v: &Option<String>) -> ToSqlOutput<'_> {
    v.as_deref().map_or(owned(Value::Null), borrowed)
}

fn owned(v: Value) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(v)
}

fn borrowed(s: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
}

fn ts(micros: i64) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, micros)
}

fn engagement_row<'a>(e: &'a Event, g: &Engagement) -> [ToSqlOutput<'a>; 8] {
    [
        owned(ts(e.ts)),
        owned(Value::UInt(e.site_id)),
        owned(Value::UBigInt(e.visitor_id)),
        owned(Value::UBigInt(e.visit_id)),
        borrowed(&e.hostname),
        borrowed(&e.pathname),
        owned(g.scroll_depth.map_or(Value::Null, Value::UTinyInt)),
        owned(Value::UInt(g.engaged_ms)),
    ]
}

fn vital_row(v: &VitalSample) -> [ToSqlOutput<'_>; 10] {
    [
        owned(ts(v.ts)),
        owned(Value::UInt(v.site_id)),
        owned(Value::UBigInt(v.visitor_id)),
        borrowed(v.metric.as_str()),
        owned(Value::Double(v.value)),
        borrowed(v.metric.rating(v.value)),
        borrowed(&v.pathname),
        text(&v.navigation_type),
        borrowed(v.device.as_str()),
        text(&v.country),
    ]
}

impl EventStore for DuckEventStore {
    fn append(&mut self, batch: WriteBatch<'_>) -> StoreResult<()> {
        let WriteBatch { events, vitals, crawls, position } = batch;
        // Held from before the transaction begins: the day-rolling job either sees the whole batch
        // or has committed rows this transaction sees (and deletes, for a late event).
        let gate = self.day_gate.clone();
        let rolled = gate.enter();
        // One transaction: either the whole batch lands or none of it (the caller retries).
        let tx = self.conn.transaction().map_err(internal)?;
        {
            let rows: Vec<&Event> = events.iter().filter(|e| e.engagement.is_none()).collect();
            if !rows.is_empty() {
                let mut app = tx.appender("events").map_err(internal)?;
                app.append_record_batch(super::event_columns::event_batch(&rows)?).map_err(internal)?;
                app.flush().map_err(internal)?;
            }
        }
        let pruned_at = remember_numbers(&tx, &self.numbers, events, self.pruned_at)?;
        super::day_totals::forget_days_of(&tx, rolled.as_ref(), events)?;
        // Engagement reports are no events: their own table, so counts, goals and bounces
        // never see them.
        if events.iter().any(|e| e.engagement.is_some()) {
            let mut app = tx.appender("engagements").map_err(internal)?;
            for e in events {
                if let Some(g) = &e.engagement {
                    app.append_row(appender_params_from_iter(engagement_row(e, g))).map_err(internal)?;
                }
            }
            app.flush().map_err(internal)?;
        }
        if !vitals.is_empty() {
            let mut app = tx.appender("web_vitals").map_err(internal)?;
            for v in vitals {
                app.append_row(appender_params_from_iter(vital_row(v))).map_err(internal)?;
            }
            app.flush().map_err(internal)?;
        }
        if !crawls.is_empty() {
            super::crawlers::add_fetches(&tx, &tally(crawls))?;
        }
        if let Some(p) = position {
            tx.execute(
                "INSERT OR REPLACE INTO queue_positions (queue, sequence) VALUES (?, ?)",
                duckdb::params![p.queue, p.sequence],
            )
            .map_err(internal)?;
        }
        tx.commit().map_err(internal)?;
        self.numbers.clear();
        self.pruned_at = pruned_at;
        Ok(())
    }

    fn remember_visitors(&mut self, numbers: Vec<VisitorNumber>) {
        self.numbers.extend(numbers);
    }

    fn queue_position(&self, queue: &str) -> StoreResult<u64> {
        self.conn.execute_batch(QUEUE_POSITIONS).map_err(internal)?;
        let stored: Option<u64> = self
            .conn
            .query_row("SELECT max(sequence) FROM queue_positions WHERE queue = ?", [queue], |r| r.get(0))
            .map_err(internal)?;
        Ok(stored.unwrap_or(0))
    }

    fn checkpoint(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("FORCE CHECKPOINT").map_err(internal)
    }

    fn resume_state(&self, since_micros: i64) -> StoreResult<ResumeState> {
        let (next_visit_id, last_visitor): (u64, Option<u64>) = self
            .conn
            // Never below the folded visits' watermark: their ids stay taken after deletes.
            .query_row("SELECT greatest(coalesce(max(visit_id), 0), (SELECT coalesce(max(through), 0) FROM fold_marks)) + 1, max(visitor_id) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(internal)?;
        let known = all_rows(&self.conn, "SELECT key, number, epoch_us(since) FROM visitor_numbers", [], |r| {
            Ok(VisitorNumber { key: r.get(0)?, number: r.get(1)?, since: r.get(2)? })
        })?;
        // Numbers given earlier may be forgotten in the table but stored in events.
        let next = known.iter().map(|n| n.number + 1).chain(last_visitor.map(|v| v + 1)).max().unwrap_or(0);
        let visitor_numbers = Some(NumberingState { next: next.max(FIRST_NUMBER), known });
        let open_visits = all_rows(
            &self.conn,
            "WITH recent AS (SELECT visitor_id, arg_max(visit_id, ts) AS visit_id FROM events
                                 WHERE ts >= make_timestamp(?::BIGINT) GROUP BY visitor_id)
                 SELECT e.visitor_id, e.visit_id, epoch_us(max(e.ts)),
                        arg_max(referrer, ts), arg_max(referrer_source, ts), arg_max(channel, ts),
                        arg_max(utm_source, ts), arg_max(utm_medium, ts), arg_max(utm_campaign, ts),
                        arg_max(utm_content, ts), arg_max(utm_term, ts), arg_max(entry_page, ts),
                        count(*), arg_min(name, ts) = 'pageview',
                        arg_max(pathname, ts) FILTER (WHERE name = 'pageview'),
                        epoch_us(max(ts) FILTER (WHERE name = 'pageview'))
                 FROM events e JOIN recent r ON e.visitor_id = r.visitor_id AND e.visit_id = r.visit_id
                 WHERE e.ts >= make_timestamp(?::BIGINT) - INTERVAL 1 DAY
                 GROUP BY e.visitor_id, e.visit_id",
            [since_micros, since_micros],
            |r| {
                let channel: Option<String> = r.get(5)?;
                let entry_page: Option<String> = r.get(11)?;
                let last_page: Option<String> = r.get(14)?;
                let last_page_at: Option<i64> = r.get(15)?;
                Ok(OpenVisit {
                    visitor_id: r.get(0)?,
                    visit_id: r.get(1)?,
                    last_seen: r.get(2)?,
                    events: r.get::<_, i64>(12)? as u32,
                    first_pageview: r.get(13)?,
                    last_pageview: last_page.zip(last_page_at),
                    attrs: Arc::new(TrafficSource {
                        entry_page: entry_page.unwrap_or_else(|| "/".into()),
                        referrer: r.get(3)?,
                        source: r.get(4)?,
                        channel: channel.as_deref().and_then(Channel::parse).unwrap_or(Channel::Direct),
                        utm: Utm {
                            source: r.get(6)?,
                            medium: r.get(7)?,
                            campaign: r.get(8)?,
                            content: r.get(9)?,
                            term: r.get(10)?,
                        },
                    }),
                })
            },
        )?;
        Ok(ResumeState { open_visits, next_visit_id, visitor_numbers })
    }
}
