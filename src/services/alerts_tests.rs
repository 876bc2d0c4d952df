//! The alert service on in-memory DuckDB, the memory mailer and the recording transport.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::AlertService;
use crate::adapters::duckdb::DuckAlerts;
use crate::adapters::memory::mail::MemoryMailer;
use crate::domain::alerts::{AlertKind, AlertSettings};
use crate::services::webhooks::tests::{NOW, hooks};

fn at(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).unwrap().format("%Y-%m-%d %H:%M:%S").to_string()
}

#[tokio::test]
async fn a_spike_raises_one_alert_by_mail_and_webhook() {
    let h = hooks();
    let site = h.fixture.site.clone();
    let week = 7 * 24 * 3_600_000_000i64;
    for k in 1..=4 {
        for i in 0..5 {
            h.fixture.pageview(&at(NOW - k * week - 600_000_000 - i * 1_000_000), (k * 10 + i) as u64, "/");
        }
    }
    for i in 0..40 {
        h.fixture.pageview(&at(NOW - 60_000_000 - i * 1_000_000), 100 + i as u64, "/launch");
    }
    let mailer = Arc::new(MemoryMailer::default());
    let db = &h.fixture.db;
    let alerts = Arc::new(AlertService::new(
        Arc::new(DuckAlerts::new(db.connect().unwrap())),
        Arc::new(DuckAlerts::new(db.connect().unwrap())),
        mailer.clone(),
        h.service.clone(),
        h.clock.clone(),
    ));
    let sites = [site.clone()];
    assert!(alerts.check(&sites).unwrap().is_empty(), "nobody to tell: not even evaluated");
    let settings = AlertSettings { emails: vec![" ops@r.test ".into()], ..AlertSettings::default() };
    let saved = alerts.save(site.id.0, settings).await.unwrap();
    assert_eq!(saved.emails, ["ops@r.test"]);
    h.service.add(&site, "http://hooks.test/a", &["traffic.spike".to_string()], None).await.unwrap();

    let raised = alerts.check(&sites).unwrap();
    assert_eq!(raised.len(), 1);
    assert_eq!((raised[0].kind, raised[0].pageviews, raised[0].typical), (AlertKind::Spike, 40, 5.0));
    h.clock.0.store(NOW + 120_000_000, Ordering::SeqCst);
    assert!(alerts.check(&sites).unwrap().is_empty(), "at most once per window");
    assert_eq!(mailer.sent().len(), 1);
    assert!(
        mailer.sent()[0].subject.starts_with("Traffic spike on r.test: 40 pageviews"),
        "{}",
        mailer.sent()[0].subject
    );
    assert_eq!(h.service.deliver_due(sites.to_vec()).await.unwrap(), 1);
    assert_eq!(alerts.alerts(site.id.0, 10).await.unwrap().len(), 1);
    let bad = AlertSettings { spike_factor: 0.5, ..AlertSettings::default() };
    assert!(alerts.save(site.id.0, bad).await.is_err());
}
