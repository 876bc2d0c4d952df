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
use crate::domain::recorder::FLUSH_BUCKETS;

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
    Response::builder().content_type("text/plain; version=0.0.4").body(metrics_text(&state))
}

/// The metrics of a node with an open database.
pub fn metrics_text(state: &AppState) -> String {
    let c = &state.ingest.counters;
    let w = &state.writer;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::with_capacity(4096);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    metric(
        "hitkeep_ingest_received_total",
        "counter",
        "Hits received on the ingest endpoints.",
        &[(String::new(), load(&c.received) as f64)],
    );
    metric(
        "hitkeep_ingest_accepted_total",
        "counter",
        "Hits queued for storage (answered 202).",
        &[(String::new(), load(&c.accepted) as f64)],
    );
    let dropped: Vec<(String, f64)> =
        DropReason::ALL.iter().map(|r| (format!("{{reason=\"{}\"}}", r.as_str()), c.dropped(*r) as f64)).collect();
    metric("hitkeep_ingest_dropped_total", "counter", "Hits answered 202 but not recorded, by reason.", &dropped);
    metric(
        "hitkeep_ingest_rejected_total",
        "counter",
        "Hits refused with an error status, by reason.",
        &[
            ("{reason=\"invalid\"}".into(), load(&c.invalid) as f64),
            ("{reason=\"too_large\"}".into(), load(&c.too_large) as f64),
            ("{reason=\"queue_full\"}".into(), load(&c.overloaded) as f64),
            ("{reason=\"unavailable\"}".into(), load(&c.unavailable) as f64),
        ],
    );
    for m in state.ingest.queue_metrics() {
        metric(m.name, m.kind, m.help, &m.samples);
    }
    metric(
        "hitkeep_queue_depth",
        "gauge",
        "Records waiting for the writer.",
        &[(String::new(), state.ingest.queue_depth() as f64)],
    );
    metric(
        "hitkeep_queue_capacity",
        "gauge",
        "Queue capacity; at capacity ingest answers 503.",
        &[(String::new(), state.ingest.queue_capacity() as f64)],
    );
    metric(
        "hitkeep_stored_events_total",
        "counter",
        "Events appended to the database.",
        &[(String::new(), load(&w.stored_events) as f64)],
    );
    metric(
        "hitkeep_stored_web_vitals_total",
        "counter",
        "Web Vitals samples appended to the database.",
        &[(String::new(), load(&w.stored_vitals) as f64)],
    );
    metric(
        "hitkeep_store_errors_total",
        "counter",
        "Failed appends (retried).",
        &[(String::new(), load(&w.store_errors) as f64)],
    );
    metric(
        "hitkeep_store_failing",
        "gauge",
        "1 while appends to the database fail (ingest answers 503, readiness false).",
        &[(String::new(), f64::from(u8::from(w.store_failing.load(Ordering::Relaxed))))],
    );
    metric(
        "hitkeep_unstored_records_total",
        "counter",
        "Acknowledged records given up at shutdown because the store kept failing.",
        &[(String::new(), load(&w.unstored_records) as f64)],
    );
    let conns = &super::conn_limits::COUNTERS;
    metric(
        "hitkeep_http_connections_open",
        "gauge",
        "Client connections open (bounded by --max-connections).",
        &[(String::new(), load(&conns.open) as f64)],
    );
    metric(
        "hitkeep_http_connections_closed_total",
        "counter",
        "Connections the server closed, by reason.",
        &[
            ("{reason=\"over_limit\"}".into(), load(&conns.refused) as f64),
            ("{reason=\"header_timeout\"}".into(), load(&conns.header_timeouts) as f64),
            ("{reason=\"idle\"}".into(), load(&conns.idle_closed) as f64),
        ],
    );
    metric(
        "hitkeep_open_visits",
        "gauge",
        "Visits open in the writer's memory (bounded by --max-open-visits).",
        &[(String::new(), load(&w.open_visits) as f64)],
    );
    metric(
        "hitkeep_visits_evicted_total",
        "counter",
        "Visits closed early because --max-open-visits was reached.",
        &[(String::new(), load(&w.evicted_visits) as f64)],
    );
    metric(
        "hitkeep_fenced_records_total",
        "counter",
        "Records not written because this node was deposed before their batch committed.",
        &[(String::new(), load(&w.fenced_records) as f64)],
    );
    metric(
        "hitkeep_handed_over_records_total",
        "counter",
        "Fenced records handed on to the next leader (the rest of the fenced ones were lost).",
        &[(String::new(), load(&w.handed_over_records) as f64)],
    );
    metric(
        "hitkeep_batch_size_last",
        "gauge",
        "Records in the last batch written.",
        &[(String::new(), load(&w.last_batch_size) as f64)],
    );
    metric(
        "hitkeep_batch_size_max",
        "gauge",
        "Largest batch written since start.",
        &[(String::new(), load(&w.max_batch_size) as f64)],
    );
    let batches = load(&w.batches);
    let mut flush: Vec<(String, f64)> = FLUSH_BUCKETS
        .iter()
        .zip(w.flush_buckets.iter())
        .map(|(b, n)| (format!("_bucket{{le=\"{b}\"}}"), load(n) as f64))
        .collect();
    flush.push(("_bucket{le=\"+Inf\"}".into(), batches as f64));
    flush.push(("_sum".into(), load(&w.flush_micros_sum) as f64 / 1e6));
    flush.push(("_count".into(), batches as f64));
    let _ =
        writeln!(out, "# HELP hitkeep_flush_seconds Time to append one batch.\n# TYPE hitkeep_flush_seconds histogram");
    for (suffix, v) in flush {
        let _ = writeln!(out, "hitkeep_flush_seconds{suffix} {v}");
    }
    let leader = if state.leadership.is_leader() { 1.0 } else { 0.0 };
    let _ = writeln!(
        out,
        "# HELP hitkeep_is_leader 1 when this node owns the database.\n# TYPE hitkeep_is_leader gauge\nhitkeep_is_leader {leader}"
    );
    out
}
