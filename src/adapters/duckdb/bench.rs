//! The dashboard-query benchmark floor: the engine's SQL timed directly on the database.

use serde_json::{Value as Json, json};

use super::internal;
use super::report_sql::build_sql;
use super::reports::{EXACT_VISITORS_LIMIT, events_in};
use crate::ports::store::StoreError;

/// The dashboard's queries (last 30 days), as the benchmark runs them.
pub const DASHBOARD_QUERIES: [(&str, &str); 7] = [
    (
        "kpis+compare",
        r#"{"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"], "compare": "previous_period"}"#,
    ),
    (
        "timeseries",
        r#"{"metrics": ["visitors", "pageviews"], "dimensions": ["time:day"], "include": {"time_labels": true}}"#,
    ),
    (
        "top pages",
        r#"{"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"], "pagination": {"limit": 10}}"#,
    ),
    ("sources", r#"{"metrics": ["visitors"], "dimensions": ["visit:source"], "pagination": {"limit": 10}}"#),
    ("countries", r#"{"metrics": ["visitors"], "dimensions": ["visit:country"], "pagination": {"limit": 10}}"#),
    ("browsers", r#"{"metrics": ["visitors"], "dimensions": ["visit:browser"], "pagination": {"limit": 10}}"#),
    (
        "entry pages",
        r#"{"metrics": ["visits", "bounce_rate"], "dimensions": ["visit:entry_page"], "pagination": {"limit": 10}}"#,
    ),
];

/// Prints p50 / p95 of each dashboard query's SQL executed directly (prepare, run, fetch).
pub fn bench_dashboard_sql(
    db: &super::Database,
    site: &crate::domain::site::Site,
    runs: usize,
) -> Result<(), StoreError> {
    let conn = db.connect()?;
    let tz: chrono_tz::Tz = site.timezone.as_str().parse().unwrap_or(chrono_tz::UTC);
    let now = chrono::Utc::now().timestamp_micros();
    println!("{:<14} {:>8} {:>8}", "query", "p50 ms", "p95 ms");
    let mut total = 0.0;
    for (name, body) in DASHBOARD_QUERIES {
        let mut v: Json = serde_json::from_str(body).expect("valid");
        v["site_id"] = json!(site.domain.as_str());
        v["date_range"] = json!("30d");
        let q = crate::domain::query::parse_query(&v, tz, now, None).map_err(|e| StoreError::Internal(e.0))?;
        let mut periods = vec![q.period.clone()];
        periods.extend(q.compare.clone());
        let mut times = Vec::new();
        for i in 0..=runs {
            let t = std::time::Instant::now();
            for p in &periods {
                let approx = events_in(&conn, site.id.0, p)? > EXACT_VISITORS_LIMIT;
                let sql = build_sql(site.id.0, &q, p, &[], approx);
                let mut stmt = conn.prepare(&sql.text).map_err(internal)?;
                let mut rows = stmt.query(duckdb::params_from_iter(sql.params.iter())).map_err(internal)?;
                while rows.next().map_err(internal)?.is_some() {}
            }
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p50 = times[times.len() / 2];
        let p95 = times[((times.len() as f64 * 0.95) as usize).min(times.len() - 1)];
        total += p50;
        println!("{name:<14} {p50:8.1} {p95:8.1}");
    }
    println!("{:<14} {total:8.1}", "all (sum p50)");
    Ok(())
}
