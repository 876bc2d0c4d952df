//! The webhook use case: subscriptions per site (targets checked against the SSRF rule), the
//! outbox filled by goal batches, scheduled reports and alerts, and its delivery with signed
//! bodies, exponential backoff and manual redelivery. The leader's jobs call `collect` and
//! `deliver_due`; the API calls the rest.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::blocking;
use crate::domain::email_report::figures;
use crate::domain::lifecycle::{Frequency, due_period, site_tz};
use crate::domain::site::Site;
use crate::domain::webhooks::{
    SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookDraft, WebhookEvent, WebhookRuleError, daily_due, render, report_data,
    retry_delay_micros, signature,
};
use crate::ports::accounts::SecretSource;
use crate::ports::alerts::TrafficSignals;
use crate::ports::clock::Clock;
use crate::ports::reports::GoalRepository;
use crate::ports::store::{StoreError, StoreResult};
use crate::ports::webhooks::{
    Attempt, Delivery, DeliveryState, NewWebhook, TransportError, Webhook, WebhookStore, WebhookTransport,
};
use crate::services::reports::ReportService;

/// Why a webhook call failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Rule(#[from] WebhookRuleError),
    /// The target could not be checked (its name does not resolve).
    #[error("{0}")]
    Unreachable(String),
    #[error("no such webhook or delivery")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Deliveries attempted per tick, and at once.
const DELIVERIES_PER_TICK: usize = 100;
const PARALLEL_ATTEMPTS: usize = 8;
/// Most webhooks per site.
pub const MAX_WEBHOOKS_PER_SITE: usize = 20;

/// Webhooks of sites and their delivery.
pub struct WebhookService {
    pub store: Arc<dyn WebhookStore>,
    transport: Arc<dyn WebhookTransport>,
    secrets: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    goals: Arc<dyn GoalRepository>,
    signals: Arc<dyn TrafficSignals>,
    reports: Arc<ReportService>,
    timing: WebhookTiming,
}

/// The delivery schedule.
#[derive(Debug, Clone, Copy)]
pub struct WebhookTiming {
    /// The first retry's delay; each further one doubles it.
    pub retry_base: std::time::Duration,
    /// Goal conversions are batched up to this long ago: the writer stores hits a moment (under
    /// load, seconds) after they happen, and a batch never looks back past its cursor.
    pub goal_lag: std::time::Duration,
}

fn micros(d: std::time::Duration) -> i64 {
    d.as_micros().min(i64::MAX as u128) as i64
}

/// What a service needs from the rest of the node.
pub struct WebhookPorts {
    pub store: Arc<dyn WebhookStore>,
    pub transport: Arc<dyn WebhookTransport>,
    pub secrets: Arc<dyn SecretSource>,
    pub clock: Arc<dyn Clock>,
    pub goals: Arc<dyn GoalRepository>,
    pub signals: Arc<dyn TrafficSignals>,
    pub reports: Arc<ReportService>,
}

impl WebhookService {
    pub fn new(p: WebhookPorts, timing: WebhookTiming) -> Self {
        Self {
            store: p.store,
            transport: p.transport,
            secrets: p.secrets,
            clock: p.clock,
            goals: p.goals,
            signals: p.signals,
            reports: p.reports,
            timing,
        }
    }

    /// Subscribes `url` to `events` of `site`; the stored hook carries its signing secret.
    pub async fn add(
        self: &Arc<Self>,
        site: &Site,
        url: &str,
        events: &[String],
        format: Option<&str>,
    ) -> Result<Webhook, WebhookError> {
        let draft = WebhookDraft::parse(url, events, format)?;
        self.transport.check_target(draft.url.as_str()).await.map_err(|e| match e {
            TransportError::Refused(rule) => WebhookError::Rule(rule),
            TransportError::Failed(m) => WebhookError::Unreachable(m),
        })?;
        let (this, site) = (self.clone(), site.clone());
        blocking(move || {
            if this.store.webhooks(Some(site.id.0))?.len() >= MAX_WEBHOOKS_PER_SITE {
                return Err(
                    WebhookRuleError::Invalid(format!("a site has at most {MAX_WEBHOOKS_PER_SITE} webhooks")).into()
                );
            }
            let (now, tz) = (this.clock.now_micros(), site_tz(&site));
            // Reports already due when the hook is made are not sent to it: it starts with the next.
            let hook = NewWebhook {
                site_id: site.id.0,
                url: draft.url.to_string(),
                events: draft.events,
                format: draft.format,
                secret: this.secrets.secret(),
                now,
                last_daily: Some(daily_due(tz, now).0),
                last_weekly: due_period(Frequency::Week, tz, now).map(|(key, _, _)| key),
            };
            Ok(this.store.add_webhook(&hook)?)
        })
        .await
    }

    pub async fn list(self: &Arc<Self>, site_id: u32) -> Result<Vec<Webhook>, WebhookError> {
        let store = self.store.clone();
        blocking(move || Ok(store.webhooks(Some(site_id))?)).await
    }

    pub async fn delete(self: &Arc<Self>, site_id: u32, id: u32) -> Result<(), WebhookError> {
        let store = self.store.clone();
        blocking(move || if store.delete_webhook(site_id, id)? { Ok(()) } else { Err(WebhookError::NotFound) }).await
    }

    /// The site's newest deliveries (of one hook), newest first.
    pub async fn deliveries(
        self: &Arc<Self>,
        site_id: u32,
        webhook_id: Option<u32>,
        limit: usize,
    ) -> Result<Vec<Delivery>, WebhookError> {
        let store = self.store.clone();
        blocking(move || Ok(store.deliveries(site_id, webhook_id, limit)?)).await
    }

    /// Queues a delivery of the site again, due now; the new delivery's id.
    pub async fn redeliver(self: &Arc<Self>, site_id: u32, delivery_id: u64) -> Result<u64, WebhookError> {
        let (store, now) = (self.store.clone(), self.clock.now_micros());
        blocking(move || store.redeliver(site_id, delivery_id, now)?.ok_or(WebhookError::NotFound)).await
    }

    /// Whether any hook of the site listens to one of `events`.
    pub fn listens(&self, site_id: u32, events: &[WebhookEvent]) -> StoreResult<bool> {
        Ok(self.store.webhooks(Some(site_id))?.iter().any(|h| h.events.iter().any(|e| events.contains(e))))
    }

    /// Queues `event` with `data` for every hook of the site that subscribed to it; how many.
    pub fn publish(&self, site_id: u32, event: WebhookEvent, data: &Value) -> StoreResult<usize> {
        let now = self.clock.now_micros();
        let hooks = self.store.webhooks(Some(site_id))?;
        let mut queued = 0;
        for hook in hooks.iter().filter(|h| h.events.contains(&event)) {
            self.store.enqueue(hook.id, site_id, event.as_str(), &data.to_string(), now)?;
            queued += 1;
        }
        Ok(queued)
    }

    /// Queues goal batches and due reports of every hook (blocking); how many deliveries.
    pub fn collect(&self, sites: &[Site]) -> Result<usize, WebhookError> {
        let now = self.clock.now_micros();
        let mut queued = 0;
        for hook in self.store.webhooks(None)? {
            let Some(site) = sites.iter().find(|s| s.id.0 == hook.site_id) else { continue };
            if hook.events.contains(&WebhookEvent::GoalConverted) {
                queued += self.goal_batch(&hook, now)?;
            }
            if hook.events.contains(&WebhookEvent::ReportDaily) {
                queued += self.due_report(&hook, site, now, false)?;
            }
            if hook.events.contains(&WebhookEvent::ReportWeekly) {
                queued += self.due_report(&hook, site, now, true)?;
            }
        }
        Ok(queued)
    }

    /// One delivery of the conversions since the hook's cursor, if there were any.
    fn goal_batch(&self, hook: &Webhook, now: i64) -> Result<usize, WebhookError> {
        let upto = now - micros(self.timing.goal_lag);
        if upto <= hook.goal_cursor {
            return Ok(0);
        }
        let goals = self.goals.goals(hook.site_id)?;
        let counts = self.signals.conversions(hook.site_id, &goals, hook.goal_cursor, upto)?;
        let mut queued = 0;
        if !counts.is_empty() {
            let iso = |m: i64| chrono::DateTime::from_timestamp_micros(m).unwrap_or_default().to_rfc3339();
            let list: Vec<Value> = counts
                .iter()
                .filter_map(|(id, n)| {
                    let goal = goals.iter().find(|g| g.id == *id)?;
                    Some(json!({"goal_id": id, "goal": goal.display_name, "conversions": n}))
                })
                .collect();
            let data = json!({"from": iso(hook.goal_cursor), "to": iso(upto), "goals": list});
            let event = WebhookEvent::GoalConverted.as_str();
            self.store.enqueue(hook.id, hook.site_id, event, &data.to_string(), now)?;
            queued = 1;
        }
        self.store.set_goal_cursor(hook.id, upto)?;
        Ok(queued)
    }

    /// The daily or weekly report, when one is due that the hook has not had.
    fn due_report(&self, hook: &Webhook, site: &Site, now: i64, weekly: bool) -> Result<usize, WebhookError> {
        let tz = site_tz(site);
        let (key, from, to, last) = if weekly {
            let Some((key, from, to)) = due_period(Frequency::Week, tz, now) else { return Ok(0) };
            (key, from, to, &hook.last_weekly)
        } else {
            let (key, day) = daily_due(tz, now);
            (key, day, day, &hook.last_daily)
        };
        if last.as_deref() == Some(key.as_str()) {
            return Ok(0);
        }
        let figures = figures(&self.reports, site, Frequency::Week, from, to)
            .map_err(|e| StoreError::Internal(format!("report figures: {e}")))?;
        let event = if weekly { WebhookEvent::ReportWeekly } else { WebhookEvent::ReportDaily };
        let data = report_data(&figures, weekly).to_string();
        self.store.enqueue(hook.id, hook.site_id, event.as_str(), &data, now)?;
        self.store.set_report_sent(hook.id, !weekly, &key)?;
        Ok(1)
    }

    /// Attempts the deliveries that are due; how many reached their target with a 2xx.
    pub async fn deliver_due(self: &Arc<Self>, sites: Vec<Site>) -> Result<usize, WebhookError> {
        let (this, now) = (self.clone(), self.clock.now_micros());
        let (due, hooks) = blocking(move || {
            Ok::<_, WebhookError>((this.store.due(now, DELIVERIES_PER_TICK)?, this.store.webhooks(None)?))
        })
        .await?;
        let attempts = futures_util::stream::iter(due.into_iter().filter_map(|d| {
            let hook = hooks.iter().find(|h| h.id == d.webhook_id)?.clone();
            let site = sites.iter().find(|s| s.id.0 == d.site_id)?.domain.to_string();
            Some(async move { (d.id, self.attempt(&hook, &site, &d).await) })
        }))
        .buffer_unordered(PARALLEL_ATTEMPTS)
        .collect::<Vec<_>>()
        .await;
        let delivered = attempts.iter().filter(|(_, a)| a.state == DeliveryState::Delivered).count();
        let store = self.store.clone();
        blocking(move || {
            for (id, attempt) in &attempts {
                store.record_attempt(*id, attempt)?;
            }
            Ok::<_, WebhookError>(())
        })
        .await?;
        Ok(delivered)
    }

    /// One attempt: render, sign, post; the outcome and when to try again.
    async fn attempt(&self, hook: &Webhook, site: &str, d: &Delivery) -> Attempt {
        let now = self.clock.now_micros();
        let data: Value = serde_json::from_str(&d.data).unwrap_or(Value::Null);
        let sent_at = chrono::DateTime::from_timestamp_micros(now).unwrap_or_default().to_rfc3339();
        let body = render(hook.format, &d.event, site, &sent_at, &data);
        let timestamp = now.div_euclid(1_000_000);
        let headers = vec![
            ("X-HitKeep-Event".to_string(), d.event.clone()),
            ("X-HitKeep-Delivery".to_string(), d.id.to_string()),
            (TIMESTAMP_HEADER.to_string(), timestamp.to_string()),
            (SIGNATURE_HEADER.to_string(), signature(&hook.secret, timestamp, &body)),
        ];
        let outcome = self.transport.post(&hook.url, &headers, &body).await;
        let retry = || match retry_delay_micros(d.attempts + 1, micros(self.timing.retry_base)) {
            Some(delay) => (DeliveryState::Pending, Some(now + delay)),
            None => (DeliveryState::Failed, None),
        };
        let (status, error, (state, next_at)) = match outcome {
            Ok(code) if (200..300).contains(&code) => (Some(code), None, (DeliveryState::Delivered, None)),
            Ok(code) => (Some(code), Some(format!("the target answered {code}")), retry()),
            // An internal target stays refused: retrying would not change that.
            Err(e @ TransportError::Refused(_)) => (None, Some(e.to_string()), (DeliveryState::Failed, None)),
            Err(e) => (None, Some(e.to_string()), retry()),
        };
        if state != DeliveryState::Delivered {
            tracing::warn!(webhook = hook.id, delivery = d.id, error = ?error, "webhook delivery failed");
        }
        Attempt { at: now, status, error, state, next_at }
    }
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
pub(crate) mod tests;
