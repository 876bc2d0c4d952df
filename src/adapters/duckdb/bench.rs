//! The query benchmark floor: the engine's SQL timed directly on the database.

use serde_json::{Value as Json, json};

use super::internal;
use super::report_sql::build_sql;
use super::reports::{EngineSettings, period_facts};
use super::visit_ends::DuckVisitFolder;
use crate::domain::query::{Goal, GoalKind, Query};
use crate::ports::store::{StoreError, StoreResult};
use crate::ports::visit_folding::VisitFolding;

/// The benchmark's queries, goals and funnel, shared with `bench/query_http.py`.
const QUERIES: &str = include_str!("../../../bench/queries.json");

/// The named queries of one list of `bench/queries.json` (`dashboard` or `other`).
fn bench_queries(list: &str) -> Vec<(String, Json)> {
    let all: Json = serde_json::from_str(QUERIES).expect("bench/queries.json is valid JSON");
    all[list]
        .as_array()
        .map(|qs| qs.iter().map(|q| (q[0].as_str().unwrap_or("?").to_string(), q[1].clone())).collect())
        .unwrap_or_default()
}

/// A goal or funnel step as the API takes it: `page_path` or `event_name`.
fn goal_kind(spec: &Json) -> GoalKind {
    match spec.get("page_path").and_then(Json::as_str) {
        Some(path) => GoalKind::Page(path.into()),
        None => GoalKind::Event(spec["event_name"].as_str().unwrap_or_default().into()),
    }
}

/// The funnel the benchmark times.
fn bench_funnel() -> Vec<GoalKind> {
    let all: Json = serde_json::from_str(QUERIES).expect("valid");
    all["funnel"].as_array().map(|s| s.iter().map(goal_kind).collect()).unwrap_or_default()
}

/// The goals the benchmark's site is given, named as the API names them.
fn bench_goals() -> Vec<Goal> {
    let all: Json = serde_json::from_str(QUERIES).expect("valid");
    let specs = all["goals"].as_array().cloned().unwrap_or_default();
    (0..)
        .zip(specs.iter().map(goal_kind))
        .map(|(id, kind)| {
            let display_name = match &kind {
                GoalKind::Page(p) => format!("Visit {p}"),
                GoalKind::Event(e) => e.clone(),
            };
            Goal { id, display_name, kind, currency: None }
        })
        .collect()
}

/// p50 and p95 of `runs` timed calls of `f` after one warm-up, in ms.
fn time_runs(runs: usize, mut f: impl FnMut() -> StoreResult<()>) -> StoreResult<(f64, f64)> {
    let mut times = Vec::new();
    for i in 0..=runs {
        let t = std::time::Instant::now();
        f()?;
        if i > 0 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p95 = times[((times.len() as f64 * 0.95) as usize).min(times.len() - 1)];
    Ok((times[times.len() / 2], p95))
}

/// What the benchmark's statements run on, and how the engine answers.
#[derive(Clone, Copy)]
struct On<'a> {
    conn: &'a duckdb::Connection,
    site_id: u32,
    goals: &'a [Goal],
    settings: &'a EngineSettings,
}

/// Runs the engine's statement(s) for `q` (its period and comparison) and fetches every row.
fn run_query_sql(on: &On, q: &Query) -> Result<(), StoreError> {
    let On { conn, site_id, goals, settings } = *on;
    let mut periods = vec![q.period.clone()];
    periods.extend(q.compare.clone());
    for p in &periods {
        let facts = period_facts(conn, site_id, q, p, settings)?;
        let sql = build_sql(site_id, q, p, goals, facts);
        let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
        let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
        while rows.next().map_err(internal)?.is_some() {}
    }
    Ok(())
}

/// Times each statement of `file` (p50 / p95 of `runs`) and prints its first row.
fn bench_sql_file(conn: &duckdb::Connection, file: &str, runs: usize) -> StoreResult<()> {
    let text = std::fs::read_to_string(file).map_err(|e| StoreError::Internal(format!("{file}: {e}")))?;
    for (i, stmt) in text.split(";\n").map(str::trim).filter(|s| !s.is_empty()).enumerate() {
        let mut first = String::new();
        let (p50, p95) = time_runs(runs, || {
            let mut st = conn.prepare(stmt).map_err(internal)?;
            let mut rows = st.query([]).map_err(internal)?;
            if let Some(row) = rows.next().map_err(internal)? {
                first = format!("{:?}", row.get::<_, duckdb::types::Value>(0).map_err(internal)?);
            }
            while rows.next().map_err(internal)?.is_some() {}
            Ok(())
        })?;
        println!("statement {i}: p50 {p50:.1} ms, p95 {p95:.1} ms, first value {first}");
    }
    Ok(())
}

/// Folds the closed visits and sums up the closed days as the server's job would and prints what
/// that cost; with `HITKEEP_BENCH_FOLD=0` does neither and the engine reads neither (the raw path).
fn fold_first(db: &super::Database, now: i64) -> Result<EngineSettings, StoreError> {
    if std::env::var("HITKEEP_BENCH_FOLD").is_ok_and(|v| v == "0") {
        return Ok(EngineSettings { folded_visits: false, day_totals: false, ..EngineSettings::default() });
    }
    let started = std::time::Instant::now();
    let folded = DuckVisitFolder::new(db.connect()?).fold_closed_visits(now)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let per_event = if folded.events > 0 { ms * 1e6 / folded.events as f64 } else { 0.0 };
    println!(
        "folded {} visits ({} events) and summed up {} days in {ms:.0} ms: {per_event:.0} ns per event",
        folded.visits, folded.events, folded.days
    );
    Ok(EngineSettings::default())
}

/// Prints `EXPLAIN ANALYZE` of the engine's statement for `q` over its period.
fn explain_query(on: &On, q: &Query) -> Result<(), StoreError> {
    let On { conn, site_id, goals, settings } = *on;
    let facts = period_facts(conn, site_id, q, &q.period, settings)?;
    let sql = build_sql(site_id, q, &q.period, goals, facts);
    let mut stmt = conn.prepare(&format!("EXPLAIN ANALYZE {}", sql.text)).map_err(internal)?;
    let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
    while let Some(row) = rows.next().map_err(internal)? {
        println!("{}", row.get::<_, String>(1).map_err(internal)?);
    }
    Ok(())
}

/// Prints p50 / p95 of each benchmark query's SQL executed directly (prepare, run, fetch):
/// the dashboard's seven, then (with `all`) the others and a funnel.
pub fn bench_dashboard_sql(
    db: &super::Database,
    site: &crate::domain::site::Site,
    runs: usize,
    all: bool,
) -> StoreResult<()> {
    let conn = db.connect()?;
    // `HITKEEP_BENCH_SQL=<file>` times the file's own statements (`;` at a line end) instead:
    // SQL variants are compared without rebuilding.
    if let Ok(file) = std::env::var("HITKEEP_BENCH_SQL") {
        return bench_sql_file(&conn, &file, runs);
    }
    // `HITKEEP_BENCH_EXPLAIN=<query name>` prints that query's plan with its timings first.
    let explain = std::env::var("HITKEEP_BENCH_EXPLAIN").ok();
    let tz: chrono_tz::Tz = site.timezone.as_str().parse().unwrap_or(chrono_tz::UTC);
    let now = chrono::Utc::now().timestamp_micros();
    let goals = bench_goals();
    let settings = fold_first(db, now)?;
    let on = On { conn: &conn, site_id: site.id.0, goals: &goals, settings: &settings };
    println!("{:<18} {:>8} {:>8}", "query", "p50 ms", "p95 ms");
    let mut total = 0.0;
    let dashboard = bench_queries("dashboard");
    let n_dashboard = dashboard.len();
    let others = if all { bench_queries("other") } else { Vec::new() };
    for (i, (name, mut v)) in dashboard.into_iter().chain(others).enumerate() {
        v["site_id"] = json!(site.domain.as_str());
        if v.get("date_range").is_none() {
            v["date_range"] = json!("30d");
        }
        let q = crate::domain::query::parse_query(&v, tz, now, None).map_err(|e| StoreError::Internal(e.0))?;
        if explain.as_deref() == Some(name.as_str()) {
            explain_query(&on, &q)?;
        }
        let (p50, p95) = time_runs(runs, || run_query_sql(&on, &q))?;
        if i < n_dashboard {
            total += p50;
        }
        println!("{name:<18} {p50:8.1} {p95:8.1}");
        if i + 1 == n_dashboard {
            println!("{:<18} {total:8.1}", "dashboard (sum)");
        }
    }
    if all {
        let v = json!({"site_id": site.domain.as_str(), "date_range": "30d", "metrics": ["visitors"]});
        let q = crate::domain::query::parse_query(&v, tz, now, None).map_err(|e| StoreError::Internal(e.0))?;
        let steps = bench_funnel();
        let (p50, p95) = time_runs(runs, || super::funnel::funnel(&conn, site.id.0, &q.period, &steps).map(|_| ()))?;
        println!("{:<18} {p50:8.1} {p95:8.1}", "funnel (3 steps)");
    }
    Ok(())
}
