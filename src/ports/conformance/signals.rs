//! Conformance of the webhook and alert stores.

use crate::domain::alerts::{Alert, AlertKind, AlertSettings};
use crate::domain::webhooks::{BodyFormat, WebhookEvent};
use crate::ports::alerts::AlertStore;
use crate::ports::webhooks::{Attempt, DeliveryState, NewWebhook, WebhookStore};

fn hook(site_id: u32, url: &str) -> NewWebhook {
    NewWebhook {
        site_id,
        url: url.into(),
        events: vec![WebhookEvent::GoalConverted, WebhookEvent::TrafficSpike],
        format: BodyFormat::Slack,
        secret: "s3cret".into(),
        now: 1_000,
        last_daily: Some("2026-11-29".into()),
        last_weekly: None,
    }
}

/// Webhooks per site; the outbox hands out due pending deliveries, records attempts, keeps
/// a log per site, and copies a delivery for a manual redelivery; deleting a hook drops its log.
pub fn webhook_store<W: WebhookStore>(make: impl Fn() -> W) {
    let store = make();
    let a = store.add_webhook(&hook(1, "https://a.test/hook")).unwrap();
    let b = store.add_webhook(&hook(2, "https://b.test/hook")).unwrap();
    assert_eq!(a.events, [WebhookEvent::GoalConverted, WebhookEvent::TrafficSpike]);
    assert_eq!((a.format, a.goal_cursor, a.last_daily.as_deref()), (BodyFormat::Slack, 1_000, Some("2026-11-29")));
    assert_eq!(store.webhooks(Some(1)).unwrap(), std::slice::from_ref(&a));
    assert_eq!(store.webhooks(None).unwrap().len(), 2);
    store.set_goal_cursor(a.id, 5_000).unwrap();
    store.set_report_sent(a.id, false, "2026-W48").unwrap();
    let stored = &store.webhooks(Some(1)).unwrap()[0];
    assert_eq!((stored.goal_cursor, stored.last_weekly.as_deref()), (5_000, Some("2026-W48")));

    let first = store.enqueue(a.id, 1, "traffic.spike", "{\"pageviews\":40}", 2_000).unwrap();
    let second = store.enqueue(b.id, 2, "goal.converted", "{}", 3_000).unwrap();
    assert!(store.due(1_999, 10).unwrap().is_empty(), "not due yet");
    let due: Vec<u64> = store.due(3_000, 10).unwrap().iter().map(|d| d.id).collect();
    assert_eq!(due, [first, second], "oldest first");
    let retry =
        Attempt { at: 3_000, status: Some(500), error: None, state: DeliveryState::Pending, next_at: Some(9_000) };
    store.record_attempt(first, &retry).unwrap();
    assert_eq!(store.due(3_000, 10).unwrap().len(), 1, "a retried delivery waits for its next attempt");
    let done = Attempt { at: 9_000, status: Some(204), error: None, state: DeliveryState::Delivered, next_at: None };
    store.record_attempt(first, &done).unwrap();
    let log = store.deliveries(1, None, 10).unwrap();
    assert_eq!(log.len(), 1, "the log is the site's");
    assert_eq!((log[0].state, log[0].attempts, log[0].last_status), (DeliveryState::Delivered, 2, Some(204)));
    assert_eq!(log[0].data, "{\"pageviews\":40}");

    assert_eq!(store.redeliver(2, first, 10_000).unwrap(), None, "another site's delivery");
    let copy = store.redeliver(1, first, 10_000).unwrap().expect("a copy");
    let pending: Vec<u64> = store.due(10_000, 10).unwrap().iter().map(|d| d.id).collect();
    assert!(pending.contains(&copy));
    assert_eq!(store.deliveries(1, Some(a.id), 10).unwrap()[0].id, copy, "newest first");

    assert!(!store.delete_webhook(2, a.id).unwrap(), "deletes are scoped to the site");
    assert!(store.delete_webhook(1, a.id).unwrap());
    assert!(store.deliveries(1, None, 10).unwrap().is_empty(), "the log goes with the hook");
    assert_eq!(store.webhooks(None).unwrap(), std::slice::from_ref(&b));
}

/// Settings default to none stored and round-trip; alerts are listed newest first per site and
/// the last raise is per kind.
pub fn alert_store<A: AlertStore>(make: impl Fn() -> A) {
    let store = make();
    assert_eq!(store.settings(1).unwrap(), None);
    let s = AlertSettings { spike_factor: 3.0, emails: vec!["ops@a.test".into()], ..AlertSettings::default() };
    store.save_settings(1, &s).unwrap();
    store.save_settings(1, &s).unwrap();
    assert_eq!(store.settings(1).unwrap(), Some(s));
    assert_eq!(store.settings(2).unwrap(), None);

    let alert = |kind, to| Alert { site_id: 1, kind, from: to - 10, to, pageviews: 40, typical: 5.5 };
    assert_eq!(store.last_raised(1, AlertKind::Spike).unwrap(), None);
    store.record_alert(&alert(AlertKind::Spike, 100), 100).unwrap();
    store.record_alert(&alert(AlertKind::Drop, 200), 200).unwrap();
    assert_eq!(store.last_raised(1, AlertKind::Spike).unwrap(), Some(100));
    assert_eq!(store.last_raised(2, AlertKind::Spike).unwrap(), None);
    let listed = store.alerts(1, 10).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].alert.kind, listed[0].raised_at), (AlertKind::Drop, 200));
    assert_eq!(listed[1].alert, alert(AlertKind::Spike, 100));
}
