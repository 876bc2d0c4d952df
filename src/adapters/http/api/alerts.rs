//! Traffic alerts of a site: `/api/sites/{site}/alerts` (raised alerts) and its settings.
//! Site admins and owners read and change them.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ApiTags, iso};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{Answer, ApiFailure, on_site};
use crate::domain::accounts::Need;
use crate::domain::alerts::AlertSettings;
use crate::domain::site::Site;
use crate::ports::alerts::RaisedAlert;
use crate::services::alerts::AlertError;

/// A site's alert thresholds. A spike: the last hour has at least `spike_factor` times the
/// typical pageviews of that hour (same weekday and time over the past `weeks` weeks) and at
/// least `min_pageviews`. A drop: at most `drop_factor` times a typical level of at least
/// `min_pageviews`. At most one alert of each kind per hour.
#[derive(Object)]
pub struct AlertSettingsView {
    pub enabled: bool,
    pub spike_factor: f64,
    pub drop_factor: f64,
    pub min_pageviews: u64,
    pub weeks: u32,
    /// Addresses mailed on an alert (needs `--smtp-url`). Webhooks subscribe to
    /// `traffic.spike` / `traffic.drop` themselves.
    pub emails: Vec<String>,
}

/// A raised alert.
#[derive(Object)]
pub struct AlertView {
    /// `spike` or `drop`.
    pub kind: String,
    /// The hour compared.
    pub from: String,
    pub to: String,
    pub pageviews: u64,
    /// The typical pageviews of that hour.
    pub typical: f64,
    pub raised_at: String,
}

/// The alert settings (the defaults until saved), or the refusal.
pub type AlertSettingsResult = crate::adapters::http::answers::Item<AlertSettingsView>;

/// The newest alerts, newest first.
pub type AlertsResult = crate::adapters::http::answers::Read<Vec<AlertView>>;

impl ApiFailure for AlertError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            AlertError::Invalid(_) => Answer::BadRequest("invalid_alert_settings", message),
            AlertError::Store(_) => Answer::Internal(message),
        }
    }
}

fn settings_view(s: AlertSettings) -> AlertSettingsView {
    let AlertSettings { enabled, spike_factor, drop_factor, min_pageviews, weeks, emails } = s;
    AlertSettingsView { enabled, spike_factor, drop_factor, min_pageviews, weeks, emails }
}

fn alert_view(r: RaisedAlert) -> AlertView {
    let a = r.alert;
    AlertView {
        kind: a.kind.as_str().into(),
        from: iso(a.from),
        to: iso(a.to),
        pageviews: a.pageviews,
        typical: a.typical,
        raised_at: iso(r.raised_at),
    }
}

/// Alert endpoints.
pub struct AlertsApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl AlertsApi {
    /// The site's alert settings.
    #[oai(path = "/sites/:site/alerts/settings", method = "get", operation_id = "getAlertSettings")]
    async fn get_settings(&self, auth: Auth, site: Path<String>) -> AlertSettingsResult {
        let alerts = &self.state.alerts;
        let call = move |site: Site, _| alerts.settings(site.id.0);
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, |s| AlertSettingsResult::Ok(Json(settings_view(s))))
            .await
    }

    /// Change the site's alert settings.
    #[oai(path = "/sites/:site/alerts/settings", method = "put", operation_id = "putAlertSettings")]
    async fn put_settings(&self, auth: Auth, site: Path<String>, req: Json<AlertSettingsView>) -> AlertSettingsResult {
        let AlertSettingsView { enabled, spike_factor, drop_factor, min_pageviews, weeks, emails } = req.0;
        let settings = AlertSettings { enabled, spike_factor, drop_factor, min_pageviews, weeks, emails };
        let alerts = &self.state.alerts;
        let call = move |site: Site, _| alerts.save(site.id.0, settings);
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, |s| AlertSettingsResult::Ok(Json(settings_view(s))))
            .await
    }

    /// The site's newest traffic alerts (at most 100).
    #[oai(path = "/sites/:site/alerts", method = "get", operation_id = "listAlerts")]
    async fn list_alerts(&self, auth: Auth, site: Path<String>) -> AlertsResult {
        let alerts = &self.state.alerts;
        let call = move |site: Site, _| alerts.alerts(site.id.0, 100);
        let ok = |list: Vec<_>| AlertsResult::Ok(Json(list.into_iter().map(alert_view).collect()));
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, ok).await
    }
}
