//! The e-mail report service on its ports' doubles: in-memory subscriptions and mailer, the
//! report service on an in-memory database, a fixed clock. No HTTP, no SMTP, no files.

use std::sync::Arc;

use crate::adapters::memory::goals::MemorySubscriptions;
use crate::adapters::memory::mail::MemoryMailer;
use crate::domain::email_report::EmailReports;
use crate::domain::lifecycle::Frequency;
use crate::ports::clock::FixedClock;
use crate::ports::subscriptions::SubscriptionStore;
use crate::services::reports::tests::{Fixture, fixture};

/// 2024-03-08 (a Friday) 12:00 UTC: the week of 2024-02-26 is due since Monday 08:00.
const NOW: i64 = 1_709_899_200_000_000;

struct Reports {
    service: EmailReports,
    subscriptions: Arc<MemorySubscriptions>,
    mailer: Arc<MemoryMailer>,
    fixture: Fixture,
}

fn reports() -> Reports {
    let fixture = fixture(NOW);
    fixture.pageview("2024-02-28 10:00:00", 1, "/pricing");
    let (subscriptions, mailer) = (Arc::new(MemorySubscriptions::default()), Arc::new(MemoryMailer::default()));
    // No recipient is a user here: every report goes out in English.
    let users = Arc::new(crate::adapters::duckdb::DuckAccounts::new(crate::adapters::duckdb::memory_connection()));
    let clock = Arc::new(FixedClock(NOW));
    let service = EmailReports::new(fixture.service.clone(), subscriptions.clone(), mailer.clone(), clock, users);
    Reports { service, subscriptions, mailer, fixture }
}

#[test]
fn a_due_report_is_sent_once() {
    let r = reports();
    r.subscriptions.subscribe(r.fixture.site.id.0, "ann@x.test", Frequency::Week).unwrap();
    let sites = [r.fixture.site.clone()];
    assert_eq!(r.service.send_due(&sites).unwrap(), 1);
    let sent = r.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "ann@x.test");
    assert!(sent[0].text.contains("Visitors: 1"), "the week's numbers: {}", sent[0].text);
    assert!(sent[0].text.contains("/pricing"), "the week's top page: {}", sent[0].text);
    assert_eq!(r.service.send_due(&sites).unwrap(), 0, "a period is sent once");
    let stored = r.subscriptions.subscriptions(None).unwrap();
    assert_eq!(stored[0].last_period.as_deref(), Some("2024-W09"));
}

#[test]
fn a_refused_report_is_retried_on_the_next_tick() {
    let r = reports();
    r.subscriptions.subscribe(r.fixture.site.id.0, "ann@x.test", Frequency::Week).unwrap();
    let sites = [r.fixture.site.clone()];
    r.mailer.refuse(true);
    assert_eq!(r.service.send_due(&sites).unwrap(), 0);
    assert_eq!(r.subscriptions.subscriptions(None).unwrap()[0].last_period, None, "not marked as sent");
    r.mailer.refuse(false);
    assert_eq!(r.service.send_due(&sites).unwrap(), 1);
}

#[test]
fn a_new_subscriber_waits_for_the_next_period() {
    let r = reports();
    let site = r.fixture.site.clone();
    assert!(r.service.subscribe(&site, "bob@x.test", Frequency::Week).unwrap());
    assert_eq!(r.service.send_due(&[site]).unwrap(), 0, "the period already due is not sent to a new subscriber");
    assert!(r.mailer.sent().is_empty());
}
