//! The webhook service on its ports' doubles: DuckDB in memory, a recording transport, a clock
//! the test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{WebhookError, WebhookPorts, WebhookService, WebhookTiming};
use crate::adapters::crypto::OsSecrets;
use crate::adapters::duckdb::{DuckAlerts, DuckGoals, DuckWebhooks};
use crate::adapters::memory::webhooks::RecordingTransport;
use crate::domain::query::GoalKind;
use crate::domain::webhooks::{WebhookEvent, WebhookRuleError, signature};
use crate::ports::clock::Clock;
use crate::ports::reports::GoalRepository;
use crate::ports::webhooks::DeliveryState;
use crate::services::reports::tests::{Fixture, fixture};

/// 2024-03-08 12:00 UTC.
pub(crate) const NOW: i64 = 1_709_899_200_000_000;

/// A clock the test sets.
pub(crate) struct TestClock(pub AtomicI64);

impl Clock for TestClock {
    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub(crate) struct Hooks {
    pub service: Arc<WebhookService>,
    pub transport: Arc<RecordingTransport>,
    pub clock: Arc<TestClock>,
    pub goals: Arc<DuckGoals>,
    pub fixture: Fixture,
}

pub(crate) fn hooks() -> Hooks {
    let fixture = fixture(NOW);
    let db = &fixture.db;
    let (transport, clock) = (Arc::new(RecordingTransport::default()), Arc::new(TestClock(AtomicI64::new(NOW))));
    let goals = Arc::new(DuckGoals::new(db.connect().unwrap()));
    let ports = WebhookPorts {
        store: Arc::new(DuckWebhooks::new(db.connect().unwrap())),
        transport: transport.clone(),
        secrets: Arc::new(OsSecrets),
        clock: clock.clone(),
        goals: goals.clone(),
        signals: Arc::new(DuckAlerts::new(db.connect().unwrap())),
        reports: fixture.service.clone(),
    };
    let timing = WebhookTiming { retry_base: Duration::from_secs(30), goal_lag: Duration::from_secs(5) };
    let service = Arc::new(WebhookService::new(ports, timing));
    Hooks { service, transport, clock, goals, fixture }
}

fn events(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn internal_targets_are_refused_at_creation() {
    let h = hooks();
    h.transport.refuse.lock().push("127.0.0.1".into());
    let site = h.fixture.site.clone();
    let refused = h.service.add(&site, "http://127.0.0.1:9/x", &events(&["traffic.spike"]), None).await;
    assert!(matches!(refused, Err(WebhookError::Rule(WebhookRuleError::PrivateTarget(_)))), "{refused:?}");
    let hook = h.service.add(&site, "http://hooks.test/x", &events(&["traffic.spike"]), None).await.unwrap();
    assert_eq!(hook.secret.len(), 43, "a 256-bit secret");
    assert_eq!(h.service.list(site.id.0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_backoff_and_signed_each_time() {
    let h = hooks();
    let site = h.fixture.site.clone();
    let hook = h.service.add(&site, "http://hooks.test/x", &events(&["traffic.spike"]), None).await.unwrap();
    h.transport.script.lock().push(500);
    let data = json!({"pageviews": 40, "typical": 5.0});
    assert_eq!(h.service.publish(site.id.0, WebhookEvent::TrafficSpike, &data).unwrap(), 1);
    assert_eq!(h.service.publish(site.id.0, WebhookEvent::TrafficDrop, &data).unwrap(), 0, "not subscribed");
    let sites = vec![site.clone()];
    assert_eq!(h.service.deliver_due(sites.clone()).await.unwrap(), 0, "the first attempt got a 500");
    let log = h.service.deliveries(site.id.0, None, 10).await.unwrap();
    assert_eq!((log[0].state, log[0].attempts, log[0].last_status), (DeliveryState::Pending, 1, Some(500)));
    assert_eq!(log[0].next_at, Some(NOW + 30_000_000), "retried after the base delay");
    assert_eq!(h.service.deliver_due(sites.clone()).await.unwrap(), 0, "not before its time");
    h.clock.0.store(NOW + 30_000_000, Ordering::SeqCst);
    assert_eq!(h.service.deliver_due(sites.clone()).await.unwrap(), 1);
    let log = h.service.deliveries(site.id.0, None, 10).await.unwrap();
    assert_eq!((log[0].state, log[0].attempts, log[0].last_status), (DeliveryState::Delivered, 2, Some(200)));

    let sent = h.transport.sent.lock().clone();
    assert_eq!(sent.len(), 2);
    let header = |name: &str| sent[1].headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    let ts: i64 = header("X-HitKeep-Timestamp").parse().unwrap();
    assert_eq!(ts, (NOW + 30_000_000) / 1_000_000, "signed at the attempt, not at the first one");
    assert_eq!(header("X-HitKeep-Signature"), signature(&hook.secret, ts, &sent[1].body));
    let body: Value = serde_json::from_str(&sent[1].body).unwrap();
    assert_eq!((body["event"].as_str(), body["site"].as_str()), (Some("traffic.spike"), Some("r.test")));
    assert_eq!(body["data"]["pageviews"], 40);

    let again = h.service.redeliver(site.id.0, log[0].id).await.unwrap();
    assert_eq!(h.service.deliver_due(sites).await.unwrap(), 1, "a manual redelivery goes out at once");
    assert_eq!(h.service.deliveries(site.id.0, None, 1).await.unwrap()[0].id, again);
}

#[tokio::test]
async fn goal_conversions_are_batched_once() {
    let h = hooks();
    let site = h.fixture.site.clone();
    h.goals.add_goal(site.id.0, "Pricing", &GoalKind::Page("/pricing".into()), None).unwrap();
    let hook = h.service.add(&site, "http://hooks.test/g", &events(&["goal.converted"]), Some("slack")).await.unwrap();
    assert_eq!(hook.goal_cursor, NOW);
    h.fixture.pageview("2024-03-08 12:00:30", 1, "/pricing");
    h.fixture.pageview("2024-03-08 12:00:40", 2, "/pricing");
    h.fixture.pageview("2024-03-08 12:00:41", 2, "/about");
    h.fixture.pageview("2024-03-08 11:59:00", 3, "/pricing");
    h.clock.0.store(NOW + 60_000_000, Ordering::SeqCst);
    let sites = [site.clone()];
    assert_eq!(h.service.collect(&sites).unwrap(), 1);
    assert_eq!(h.service.collect(&sites).unwrap(), 0, "conversions are sent once");
    h.service.deliver_due(sites.to_vec()).await.unwrap();
    let sent = h.transport.sent.lock().clone();
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["text"], "Goal conversions on r.test: 2 × Pricing", "Slack format");
}

#[tokio::test]
async fn reports_due_at_creation_wait_for_the_next_period() {
    let h = hooks();
    let site = h.fixture.site.clone();
    h.service.add(&site, "http://hooks.test/r", &events(&["report.daily", "report.weekly"]), None).await.unwrap();
    let sites = [site.clone()];
    assert_eq!(h.service.collect(&sites).unwrap(), 0);
    h.fixture.pageview("2024-03-08 15:00:00", 1, "/");
    h.clock.0.store(NOW + 24 * 3_600_000_000, Ordering::SeqCst);
    assert_eq!(h.service.collect(&sites).unwrap(), 1, "the next day's daily report");
    h.service.deliver_due(sites.to_vec()).await.unwrap();
    let body: Value = serde_json::from_str(&h.transport.sent.lock()[0].body).unwrap();
    assert_eq!(body["event"], "report.daily");
    assert_eq!((body["data"]["from"].as_str(), body["data"]["visitors"].as_u64()), (Some("2024-03-08"), Some(1)));
}
