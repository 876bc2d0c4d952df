//! E-mail report subscriptions, and sending a report now.

#![allow(unused_imports)]

use super::*;
use crate::adapters::http::guard::on_site;
use crate::domain::site::Site;
use crate::ports::subscriptions::Subscription;

/// An e-mail report subscription.
#[derive(Object)]
pub struct SubscriptionView {
    pub email: String,
    /// `week` (Mondays 08:00) or `month` (the 1st, 08:00), in the site's time zone.
    pub frequency: String,
    /// The last period sent, e.g. `2026-W47` or `2026-11`.
    #[oai(skip_serializing_if_is_none)]
    pub last_period: Option<String>,
}

/// Subscribe or unsubscribe an address.
#[derive(Object)]
pub struct SubscriptionRequest {
    pub email: String,
    /// `week` or `month`.
    pub frequency: String,
}

/// Send a report now.
#[derive(Object)]
pub struct SendReportRequest {
    pub email: String,
    /// `week` (the last complete week) or `month` (the last complete month).
    pub period: String,
}

/// A sent report.
#[derive(Object)]
pub struct SentReport {
    pub to: String,
    pub subject: String,
}

/// The answers about the site's e-mail report subscriptions.
pub type SubscriptionsResult = crate::adapters::http::answers::Collection<SubscriptionView>;

crate::api_answers! {
    pub enum SendResult {
        /// Sent.
        Sent(200, Json<SentReport>),
        /// Invalid address or period.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        /// Storage or report failed.
        Internal,
        /// A report of this site was sent less than a minute ago; try again after `Retry-After` seconds.
        TooManyRequests,
        /// The SMTP server refused or could not be reached.
        BadGateway(502, Json<ApiErrorBody>),
        /// Mail is not configured (`--smtp-url`, `--smtp-from`).
        Unavailable(503, Json<ApiErrorBody>),
    }
}

fn subscription_args(email: &str, frequency: &str) -> Result<(String, Frequency), String> {
    let email = parse_email(email).map_err(|e| e.0)?;
    let frequency =
        Frequency::parse(frequency).ok_or_else(|| format!("frequency must be week or month, got {frequency:?}"))?;
    Ok((email, frequency))
}

crate::api_part!(
    /// E-mail reports.
    EmailApi, LifecycleApi
);

#[OpenApi(tag = "ApiTags::Lifecycle")]
impl EmailApi {
    /// The site's e-mail report subscriptions.
    #[oai(path = "/sites/:site/email-reports", method = "get", operation_id = "listEmailReports")]
    async fn list_subscriptions(&self, auth: Auth, site: Path<String>) -> SubscriptionsResult {
        let subs = self.state.email.subscriptions.clone();
        let call = |site: Site, _| blocking(move || subs.subscriptions(Some(site.id.0)));
        let ok = |list: Vec<Subscription>| {
            let view = |s: Subscription| SubscriptionView {
                email: s.email,
                frequency: s.frequency.as_str().into(),
                last_period: s.last_period,
            };
            SubscriptionsResult::List(Json(list.into_iter().map(view).collect()))
        };
        on_site(&self.state, (&auth, &site.0, Need::Manage), call, ok).await
    }

    /// Subscribe an address to the site's weekly or monthly report.
    #[oai(path = "/sites/:site/email-reports", method = "post", operation_id = "subscribeEmailReport")]
    async fn subscribe(&self, auth: Auth, site: Path<String>, req: Json<SubscriptionRequest>) -> SubscriptionsResult {
        let (site, _) =
            crate::or_return!(site_for::<SubscriptionsResult>(&self.state, &auth, &site.0, Need::Manage).await);
        let (email, frequency) = match subscription_args(&req.email, &req.frequency) {
            Ok(a) => a,
            Err(m) => return SubscriptionsResult::BadRequest(body("invalid_subscription", m)),
        };
        let email_reports = self.state.email.clone();
        let stored = email.clone();
        let subscribed = blocking(move || {
            email_reports.subscribe(&site, &stored, frequency)?;
            let subs = email_reports.subscriptions.subscriptions(Some(site.id.0))?;
            Ok::<_, crate::ports::store::StoreError>(
                subs.into_iter().find(|s| s.email == stored && s.frequency == frequency).and_then(|s| s.last_period),
            )
        })
        .await;
        match subscribed {
            Ok(last_period) => SubscriptionsResult::Created(Json(SubscriptionView {
                email,
                frequency: frequency.as_str().into(),
                last_period,
            })),
            Err(e) => SubscriptionsResult::internal(e.to_string()),
        }
    }

    /// Unsubscribe an address.
    #[oai(path = "/sites/:site/email-reports", method = "delete", operation_id = "unsubscribeEmailReport")]
    async fn unsubscribe(
        &self,
        auth: Auth,
        site: Path<String>,
        email: QueryParam<String>,
        /// `week` or `month`.
        frequency: QueryParam<String>,
    ) -> SubscriptionsResult {
        let (site, _) =
            crate::or_return!(site_for::<SubscriptionsResult>(&self.state, &auth, &site.0, Need::Manage).await);
        let (email, frequency) = match subscription_args(&email.0, &frequency.0) {
            Ok(a) => a,
            Err(m) => return SubscriptionsResult::BadRequest(body("invalid_subscription", m)),
        };
        let subs = self.state.email.subscriptions.clone();
        match blocking(move || subs.unsubscribe(site.id.0, &email, frequency)).await {
            Ok(true) => SubscriptionsResult::Deleted,
            Ok(false) => SubscriptionsResult::not_found("no such subscription".into()),
            Err(e) => SubscriptionsResult::internal(e.to_string()),
        }
    }

    /// Send the report of the last complete week or month to an address now.
    #[oai(path = "/sites/:site/email-reports/send", method = "post", operation_id = "sendEmailReport")]
    async fn send(&self, auth: Auth, site: Path<String>, req: Json<SendReportRequest>) -> SendResult {
        let (site, _) = crate::or_return!(site_for::<SendResult>(&self.state, &auth, &site.0, Need::Manage).await);
        let (email, frequency) = match subscription_args(&req.email, &req.period) {
            Ok(a) => a,
            Err(m) => return SendResult::BadRequest(body("invalid_request", m.replace("frequency", "period"))),
        };
        let email_reports = self.state.email.clone();
        match blocking(move || email_reports.send_now(&site, &email, frequency)).await {
            Ok(mail) => SendResult::Sent(Json(SentReport { to: mail.to, subject: mail.subject })),
            Err(EmailReportError::Mail(e @ MailError::NotConfigured(_))) => {
                SendResult::Unavailable(body("mail_not_configured", e.to_string()))
            }
            Err(EmailReportError::Mail(e)) => SendResult::BadGateway(body("mail_failed", e.to_string())),
            Err(e @ EmailReportError::TooSoon { retry_after, .. }) => {
                SendResult::TooManyRequests(body("rate_limited", e.to_string()), retry_after)
            }
            Err(e) => SendResult::internal(e.to_string()),
        }
    }
}
