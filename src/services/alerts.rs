//! The alert use case: per-site settings, and the leader's check that compares the last hour
//! with the same hour of past weeks and tells people by e-mail and webhook, at most once per
//! kind and window.

use std::sync::Arc;

use super::blocking;
use crate::domain::alerts::{Alert, AlertKind, AlertSettings, evaluate, history_start, may_raise, windows};
use crate::domain::lifecycle::parse_email;
use crate::domain::site::Site;
use crate::domain::webhooks::WebhookEvent;
use crate::ports::alerts::{AlertStore, RaisedAlert, TrafficSignals};
use crate::ports::clock::Clock;
use crate::ports::mail::{Mail, Mailer};
use crate::ports::store::StoreError;
use crate::services::webhooks::WebhookService;

/// Why an alert call failed.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("invalid alert settings: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Alerts of sites.
pub struct AlertService {
    store: Arc<dyn AlertStore>,
    signals: Arc<dyn TrafficSignals>,
    mailer: Arc<dyn Mailer>,
    webhooks: Arc<WebhookService>,
    clock: Arc<dyn Clock>,
}

/// The alert mail (English, like the dashboard's default; the numbers speak for themselves).
pub fn alert_mail(a: &Alert, site: &str, to: &str) -> Mail {
    let what = match a.kind {
        AlertKind::Spike => "Traffic spike",
        AlertKind::Drop => "Traffic drop",
    };
    let subject = format!("{what} on {site}: {} pageviews in the last hour", a.pageviews);
    let when = chrono::DateTime::from_timestamp_micros(a.to).unwrap_or_default().format("%Y-%m-%d %H:%M UTC");
    let text = format!(
        "{what} on {site}.\n\nPageviews in the hour before {when}: {}\nTypical for this hour (same weekday, past \
         weeks): {:.1}\n\nChange the thresholds in the site's settings under Alerts.\n",
        a.pageviews, a.typical
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\"><h1>{what} on {site}</h1>\
         <p>Pageviews in the hour before {when}: <b>{}</b><br>Typical for this hour: {:.1}</p></body></html>",
        a.pageviews, a.typical
    );
    Mail { to: to.into(), subject, text, html }
}

impl AlertService {
    pub fn new(
        store: Arc<dyn AlertStore>,
        signals: Arc<dyn TrafficSignals>,
        mailer: Arc<dyn Mailer>,
        webhooks: Arc<WebhookService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, signals, mailer, webhooks, clock }
    }

    /// A site's settings (the defaults until saved).
    pub async fn settings(self: &Arc<Self>, site_id: u32) -> Result<AlertSettings, AlertError> {
        let store = self.store.clone();
        blocking(move || Ok(store.settings(site_id)?.unwrap_or_default())).await
    }

    /// Validates and saves a site's settings; the stored form (addresses normalised).
    pub async fn save(self: &Arc<Self>, site_id: u32, mut s: AlertSettings) -> Result<AlertSettings, AlertError> {
        s.validate().map_err(AlertError::Invalid)?;
        s.emails = s
            .emails
            .iter()
            .map(|e| parse_email(e).map_err(|e| AlertError::Invalid(e.to_string())))
            .collect::<Result<_, _>>()?;
        let store = self.store.clone();
        blocking(move || {
            store.save_settings(site_id, &s)?;
            Ok(s)
        })
        .await
    }

    /// A site's newest alerts.
    pub async fn alerts(self: &Arc<Self>, site_id: u32, limit: usize) -> Result<Vec<RaisedAlert>, AlertError> {
        let store = self.store.clone();
        blocking(move || Ok(store.alerts(site_id, limit)?)).await
    }

    /// Checks every site someone would be told about (blocking); the alerts raised.
    pub fn check(&self, sites: &[Site]) -> Result<Vec<Alert>, AlertError> {
        let now = self.clock.now_micros();
        let mut raised = Vec::new();
        for site in sites {
            let id = site.id.0;
            let settings = self.store.settings(id)?.unwrap_or_default();
            let traffic = [WebhookEvent::TrafficSpike, WebhookEvent::TrafficDrop];
            if !settings.enabled || (settings.emails.is_empty() && !self.webhooks.listens(id, &traffic)?) {
                continue;
            }
            let first = self.signals.first_event(id, history_start(now, settings.weeks))?;
            let windows = windows(now, settings.weeks, first);
            let counts = self.signals.pageviews(id, &windows)?;
            let Some(alert) = evaluate(id, &settings, &windows, &counts) else { continue };
            if !may_raise(self.store.last_raised(id, alert.kind)?, now) {
                continue;
            }
            // Recorded first: a mail server that fails must not make the next tick alert again.
            self.store.record_alert(&alert, now)?;
            let domain = site.domain.to_string();
            for to in &settings.emails {
                if let Err(e) = self.mailer.send(&alert_mail(&alert, &domain, to)) {
                    tracing::warn!(site = %domain, error = %e, "could not mail an alert");
                }
            }
            self.webhooks.publish(id, alert.kind.event(), &alert.data())?;
            tracing::info!(site = %domain, kind = alert.kind.as_str(), pageviews = alert.pageviews, "traffic alert");
            raised.push(alert);
        }
        Ok(raised)
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
