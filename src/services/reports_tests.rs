//! The report service on its ports' cheap doubles: in-memory DuckDB for the engine, goals and
//! imports, a fixed clock. No HTTP, no files.

use super::*;
use crate::adapters::duckdb::{Database, DuckGoals, DuckImports, DuckReports, DuckSites};
use crate::domain::query::{Cell, GoalKind, IncludeInput};
use crate::domain::site::{NewSite, SiteDomain, TimeZoneName};
use crate::ports::clock::FixedClock;
use crate::ports::sites::SiteRepository;

const DAY0: i64 = 1_709_596_800_000_000; // 2024-03-05T00:00:00Z

/// A report service on an in-memory database with one site, `r.test` (UTC).
pub(crate) struct Fixture {
    pub service: Arc<ReportService>,
    pub site: Site,
    pub db: Database,
}

pub(crate) fn fixture(now: i64) -> Fixture {
    let db = Database::open_in_memory().unwrap();
    let site = DuckSites::new(db.connect().unwrap())
        .add(NewSite { domain: SiteDomain::parse("r.test").unwrap(), hostnames: vec![], timezone: TimeZoneName::utc() })
        .unwrap();
    let service = Arc::new(ReportService::new(
        Arc::new(DuckReports::new(db.connect().unwrap(), u64::MAX)),
        Arc::new(DuckGoals::new(db.connect().unwrap())),
        Arc::new(DuckImports::new(db.connect().unwrap())),
        Arc::new(FixedClock(now)),
    ));
    Fixture { service, site, db }
}

impl Fixture {
    /// One pageview of `visitor` at `ts` (`YYYY-MM-DD HH:MM:SS`, UTC) on `path`.
    pub fn pageview(&self, ts: &str, visitor: u64, path: &str) {
        self.db
            .connect()
            .unwrap()
            .execute(
                "INSERT INTO events (ts, site_id, name, visitor_id, visit_id, pathname) \
                 VALUES (?::TIMESTAMP, ?, 'pageview', ?, ?, ?)",
                duckdb::params![ts, self.site.id.0, visitor, visitor, path],
            )
            .unwrap();
    }

    fn input(&self, date_range: Value, metrics: &[&str]) -> QueryInput {
        QueryInput {
            site_id: "r.test".into(),
            date_range: Some(date_range),
            metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
            ..QueryInput::default()
        }
    }
}

#[tokio::test]
async fn compares_with_the_previous_period() {
    let f = fixture(DAY0 + 3 * 86_400_000_000);
    f.pageview("2024-03-05 10:00:00", 1, "/");
    f.pageview("2024-03-05 11:00:00", 2, "/");
    f.pageview("2024-03-06 10:00:00", 1, "/");
    let mut input = f.input(serde_json::json!(["2024-03-06", "2024-03-06"]), &["visitors"]);
    input.include = IncludeInput { compare: Some(serde_json::json!("previous_period")), ..IncludeInput::default() };
    let answer = f.service.query(f.site.clone(), input).await.unwrap();
    let row = &answer.rows[0];
    assert_eq!(row.metrics, vec![Cell::Int(1)]);
    let cmp = row.comparison.as_ref().unwrap();
    assert_eq!(cmp.metrics, vec![Cell::Int(2)]);
    // One visitor against two: -50 %.
    assert_eq!(cmp.change, vec![Cell::Int(-50)]);
    assert_eq!(answer.query.compare.unwrap().first_date.to_string(), "2024-03-05");
}

#[tokio::test]
async fn an_invalid_query_names_the_problem() {
    let f = fixture(DAY0);
    let e = f.service.query(f.site.clone(), f.input(serde_json::json!("7d"), &["shoe_size"])).await.unwrap_err();
    assert!(matches!(&e, ReportError::Invalid(q) if q.0 == "Unknown metric \"shoe_size\"."), "{e}");
    let e = f.service.web_vitals(f.site.clone(), Some("fortnight".into()), None).await.unwrap_err();
    assert!(matches!(e, ReportError::Invalid(_)), "{e}");
}

#[tokio::test]
async fn counts_current_visitors_by_the_clock() {
    // Five minutes before 10:03 is 09:58: the 10:00 and 10:02 visitors count, the 09:00 one not.
    let f = fixture(DAY0 + 10 * 3_600_000_000 + 3 * 60_000_000);
    f.pageview("2024-03-05 09:00:00", 1, "/");
    f.pageview("2024-03-05 10:00:00", 2, "/");
    f.pageview("2024-03-05 10:02:00", 3, "/");
    assert_eq!(f.service.current_visitors(f.site.clone()).await.unwrap(), 2);
}

#[tokio::test]
async fn funnels_come_through_the_goal_port() {
    let f = fixture(DAY0 + 86_400_000_000);
    assert_eq!(f.service.funnel(f.site.clone(), 99, None).await.unwrap(), None);
    let goals = DuckGoals::new(f.db.connect().unwrap());
    let funnel = crate::ports::reports::GoalRepository::add_funnel(
        &goals,
        f.site.id.0,
        "Pricing",
        &[GoalKind::Page("/".into()), GoalKind::Page("/pricing".into())],
    )
    .unwrap();
    f.pageview("2024-03-05 10:00:00", 1, "/");
    let report = f.service.funnel(f.site.clone(), funnel.id, Some("2024-03-05,2024-03-05".into())).await.unwrap();
    let report = report.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.visitors).collect::<Vec<_>>(), vec![1, 0]);
    assert_eq!(report.steps[1].label, "Visit /pricing");
}
