//! Liveness, readiness and Prometheus metrics.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use super::AppState;
use crate::domain::ingest::DropReason;
use crate::domain::recorder::{FLUSH_BUCKETS, WriterCounters};

/// The process is up.
#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// This node can accept and store hits now.
#[handler]
pub fn readyz(state: Data<&Arc<AppState>>) -> Response {
    let leader = state.leadership.is_leader();
    let writer = state.writer.running.load(Ordering::SeqCst);
    let depth = state.ingest.queue_depth();
    let capacity = state.ingest.queue_capacity();
    let draining = state.draining.load(Ordering::SeqCst);
    let store_ok = !state.writer.store_failing.load(Ordering::SeqCst);
    let queue_ok = state.ingest.queue_ready();
    let ready = leader && writer && store_ok && queue_ok && !draining && depth < capacity;
    let body = json!({
        "ready": ready,
        "leader": leader,
        "writer_running": writer,
        "store_writable": store_ok,
        "queue_connected": queue_ok,
        "draining": draining,
        "queue_depth": depth,
        "queue_capacity": capacity,
    });
    readiness(ready, body)
}

/// A readiness answer: `body` with 200 when ready, else with 503 and `Retry-After: 1`.
pub(super) fn readiness(ready: bool, body: serde_json::Value) -> Response {
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut resp = Json(body).with_status(status).into_response();
    if !ready {
        resp.headers_mut().insert("retry-after", 1.into());
    }
    resp
}

/// Prometheus text exposition.
#[handler]
pub fn metrics(state: Data<&Arc<AppState>>) -> Response {
    engine_metrics(&state).into_response()
}

/// Prometheus text, one metric family after another.
#[derive(Default)]
pub(super) struct Exposition {
    out: String,
}

/// A family with one unlabelled sample: name, type, help, value.
pub(super) type Single<'a> = (&'a str, &'a str, &'a str, f64);

impl Exposition {
    /// Whether this node leads (every node says so, open database or not).
    pub(super) fn leader(&mut self, is_leader: bool) {
        let leader = if is_leader { 1.0 } else { 0.0 };
        self.singles(&[gauge("hitkeep_is_leader", "1 when this node owns the database.", leader)]);
    }

    /// The text, as the answer to a scrape.
    pub(super) fn into_response(self) -> Response {
        Response::builder().content_type("text/plain; version=0.0.4").body(self.out)
    }

    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(self.out, "{name}{labels} {v}");
        }
    }

    pub(super) fn singles(&mut self, list: &[Single]) {
        for (name, kind, help, value) in list {
            self.family(name, kind, help, &[(String::new(), *value)]);
        }
    }
}

/// Samples labelled `reason="..."`.
fn by_reason(counts: &[(&str, u64)]) -> Vec<(String, f64)> {
    counts.iter().map(|(r, n)| (format!("{{reason=\"{r}\"}}"), *n as f64)).collect()
}

/// A counter's family: its value now.
pub(super) fn counter<'a>(name: &'a str, help: &'a str, value: &std::sync::atomic::AtomicU64) -> Single<'a> {
    (name, "counter", help, load(value) as f64)
}

/// A gauge's family.
pub(super) fn gauge<'a>(name: &'a str, help: &'a str, value: f64) -> Single<'a> {
    (name, "gauge", help, value)
}

/// A counter's value (relaxed: metrics need no ordering).
pub(super) fn load(a: &std::sync::atomic::AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// Ingest: hits received, accepted, dropped and rejected; the queue.
fn ingest_metrics(m: &mut Exposition, state: &AppState) {
    let c = &state.ingest.counters;
    m.singles(&[
        counter("hitkeep_ingest_received_total", "Hits received on the ingest endpoints.", &c.received),
        counter("hitkeep_ingest_accepted_total", "Hits queued for storage (answered 202).", &c.accepted),
    ]);
    let dropped: Vec<(&str, u64)> = DropReason::ALL.iter().map(|r| (r.as_str(), c.dropped(*r))).collect();
    m.family(
        "hitkeep_ingest_dropped_total",
        "counter",
        "Hits answered 202 but not recorded, by reason.",
        &by_reason(&dropped),
    );
    let rejected = [
        ("invalid", load(&c.invalid)),
        ("too_large", load(&c.too_large)),
        ("queue_full", load(&c.overloaded)),
        ("unavailable", load(&c.unavailable)),
    ];
    m.family(
        "hitkeep_ingest_rejected_total",
        "counter",
        "Hits refused with an error status, by reason.",
        &by_reason(&rejected),
    );
    for q in state.ingest.queue_metrics() {
        m.family(q.name, q.kind, q.help, &q.samples);
    }
    m.singles(&[
        gauge("hitkeep_queue_depth", "Records waiting for the writer.", state.ingest.queue_depth() as f64),
        gauge(
            "hitkeep_queue_capacity",
            "Queue capacity; at capacity ingest answers 503.",
            state.ingest.queue_capacity() as f64,
        ),
    ]);
}

/// The writer's appends to the database.
fn store_metrics(m: &mut Exposition, w: &WriterCounters) {
    m.singles(&[
        counter("hitkeep_stored_events_total", "Events appended to the database.", &w.stored_events),
        counter("hitkeep_stored_web_vitals_total", "Web Vitals samples appended to the database.", &w.stored_vitals),
        counter(
            "hitkeep_stored_crawler_fetches_total",
            "AI crawler page fetches added to the crawler report.",
            &w.stored_crawls,
        ),
        counter("hitkeep_store_errors_total", "Failed appends (retried).", &w.store_errors),
        gauge(
            "hitkeep_store_failing",
            "1 while appends to the database fail (ingest answers 503, readiness false).",
            f64::from(u8::from(w.store_failing.load(Ordering::Relaxed))),
        ),
        counter(
            "hitkeep_unstored_records_total",
            "Acknowledged records given up at shutdown because the store kept failing.",
            &w.unstored_records,
        ),
    ]);
}

/// Client connections.
fn connection_metrics(m: &mut Exposition) {
    let conns = &super::conn_limits::COUNTERS;
    m.singles(&[gauge(
        "hitkeep_http_connections_open",
        "Client connections open (bounded by --max-connections).",
        load(&conns.open) as f64,
    )]);
    let closed = [
        ("over_limit", load(&conns.refused)),
        ("header_timeout", load(&conns.header_timeouts)),
        ("idle", load(&conns.idle_closed)),
    ];
    m.family(
        "hitkeep_http_connections_closed_total",
        "counter",
        "Connections the server closed, by reason.",
        &by_reason(&closed),
    );
}

/// The writer's visits, fencing and batches.
fn writer_metrics(m: &mut Exposition, w: &WriterCounters) {
    m.singles(&[
        gauge(
            "hitkeep_open_visits",
            "Visits open in the writer's memory (bounded by --max-open-visits).",
            load(&w.open_visits) as f64,
        ),
        counter(
            "hitkeep_visits_evicted_total",
            "Visits closed early because --max-open-visits was reached.",
            &w.evicted_visits,
        ),
        counter(
            "hitkeep_fenced_records_total",
            "Records not written because this node was deposed before their batch committed.",
            &w.fenced_records,
        ),
        counter(
            "hitkeep_handed_over_records_total",
            "Fenced records handed on to the next leader (the rest of the fenced ones were lost).",
            &w.handed_over_records,
        ),
        gauge("hitkeep_batch_size_last", "Records in the last batch written.", load(&w.last_batch_size) as f64),
        gauge("hitkeep_batch_size_max", "Largest batch written since start.", load(&w.max_batch_size) as f64),
    ]);
}

/// The histogram of batch append times.
fn flush_histogram(m: &mut Exposition, w: &WriterCounters) {
    let batches = load(&w.batches);
    let mut flush: Vec<(String, f64)> = FLUSH_BUCKETS
        .iter()
        .zip(w.flush_buckets.iter())
        .map(|(b, n)| (format!("_bucket{{le=\"{b}\"}}"), load(n) as f64))
        .collect();
    flush.push(("_bucket{le=\"+Inf\"}".into(), batches as f64));
    flush.push(("_sum".into(), load(&w.flush_micros_sum) as f64 / 1e6));
    flush.push(("_count".into(), batches as f64));
    let _ = writeln!(
        m.out,
        "# HELP hitkeep_flush_seconds Time to append one batch.\n# TYPE hitkeep_flush_seconds histogram"
    );
    for (suffix, v) in flush {
        let _ = writeln!(m.out, "hitkeep_flush_seconds{suffix} {v}");
    }
}

/// The metrics of a node with an open database.
pub(super) fn engine_metrics(state: &AppState) -> Exposition {
    let mut m = Exposition { out: String::with_capacity(4096) };
    ingest_metrics(&mut m, state);
    store_metrics(&mut m, &state.writer);
    connection_metrics(&mut m);
    writer_metrics(&mut m, &state.writer);
    flush_histogram(&mut m, &state.writer);
    m.leader(state.leadership.is_leader());
    m
}
