//! Webhooks of a site: `/api/sites/{site}/webhooks`, their delivery log and manual redelivery.
//! Site admins and owners manage them (the hook's secret is shown once, at creation).

use std::future::Future;
use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ApiTags, iso};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::Auth;
use crate::adapters::http::guard::{Answer, ApiFailure, ErrorAnswers, on_site};
use crate::domain::accounts::Need;
use crate::domain::webhooks::WebhookRuleError;
use crate::ports::webhooks::{Delivery, Webhook};
use crate::services::webhooks::{WebhookError, WebhookService};

/// A webhook subscription.
#[derive(Object)]
pub struct WebhookView {
    pub id: u32,
    pub url: String,
    /// `goal.converted` (batched), `report.daily`, `report.weekly`, `traffic.spike`, `traffic.drop`.
    pub events: Vec<String>,
    /// `generic`, `slack` or `discord`.
    pub format: String,
    pub created_at: String,
    /// The HMAC-SHA256 key of `X-HitKeep-Signature`; returned only when the hook is created.
    #[oai(skip_serializing_if_is_none)]
    pub secret: Option<String>,
}

/// A webhook to create.
#[derive(Object)]
pub struct CreateWebhook {
    /// An `http://` target; loopback, link-local and private addresses are refused unless the
    /// server runs with `--webhooks-allow-private`.
    pub url: String,
    pub events: Vec<String>,
    /// `generic` (the default), `slack` or `discord`.
    pub format: Option<String>,
}

/// One delivery and its last attempt.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DeliveryView {
    pub id: u64,
    pub webhook_id: u32,
    pub event: String,
    /// `pending` (waiting for an attempt), `delivered` (2xx) or `failed` (attempts used up).
    pub state: String,
    pub attempts: u32,
    /// The HTTP status of the last attempt.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub created_at: String,
}

/// A queued redelivery.
#[derive(Object)]
pub struct Redelivery {
    /// The new delivery's id.
    pub id: u64,
}

/// The answers about the site's webhooks.
pub type WebhooksResult = crate::adapters::http::answers::Collection<WebhookView>;

crate::api_answers! {
    pub enum DeliveriesResult {
        /// The newest deliveries, newest first.
        List(200, Json<Vec<DeliveryView>>),
        /// Queued again; it goes out with the next delivery run.
        Queued(202, Json<Redelivery>),
        /// Invalid parameters; `message` names the problem.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site or delivery.
        NotFound,
        Internal,
    }
}

impl ApiFailure for WebhookError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            WebhookError::Rule(WebhookRuleError::PrivateTarget(_)) => Answer::BadRequest("private_target", message),
            WebhookError::Rule(_) => Answer::BadRequest("invalid_webhook", message),
            WebhookError::Unreachable(_) => Answer::BadRequest("unresolvable_target", message),
            WebhookError::NotFound => Answer::NotFound(message),
            WebhookError::Store(_) => Answer::Internal(message),
        }
    }
}

fn view(h: Webhook, with_secret: bool) -> WebhookView {
    WebhookView {
        id: h.id,
        url: h.url,
        events: h.events.iter().map(|e| e.as_str().to_string()).collect(),
        format: h.format.as_str().into(),
        created_at: iso(h.created_at),
        secret: with_secret.then_some(h.secret),
    }
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        webhook_id: d.webhook_id,
        event: d.event,
        state: d.state.as_str().into(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        next_attempt_at: d.next_at.filter(|_| d.state == crate::ports::webhooks::DeliveryState::Pending).map(iso),
        last_attempt_at: d.last_attempt_at.map(iso),
        created_at: iso(d.created_at),
    }
}

/// Most deliveries one log request returns.
const MAX_LOG: u32 = 200;

/// Webhook endpoints.
pub struct WebhooksApi {
    pub state: Arc<AppState>,
}

impl WebhooksApi {
    /// One call on a site the caller manages: the service call, the answer.
    async fn answer<R: ErrorAnswers, T, F: Future<Output = Result<T, WebhookError>>>(
        &self,
        (auth, domain): (&Auth, &str),
        call: impl FnOnce(Arc<WebhookService>, crate::domain::site::Site) -> F,
        ok: impl FnOnce(T) -> R,
    ) -> R {
        let hooks = self.state.webhooks.clone();
        on_site(&self.state, (auth, domain, Need::Manage), |site, _| call(hooks, site), ok).await
    }
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl WebhooksApi {
    /// List the site's webhooks.
    #[oai(path = "/sites/:site/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list_webhooks(&self, auth: Auth, site: Path<String>) -> WebhooksResult {
        let call =
            |hooks: Arc<WebhookService>, site: crate::domain::site::Site| async move { hooks.list(site.id.0).await };
        let ok = |l: Vec<Webhook>| WebhooksResult::List(Json(l.into_iter().map(|h| view(h, false)).collect()));
        self.answer((&auth, &site.0), call, ok).await
    }

    /// Subscribe a URL to events of the site. Bodies are JSON, signed: `X-HitKeep-Timestamp`
    /// (Unix seconds) and `X-HitKeep-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`;
    /// reject timestamps older than 5 minutes to stop replays.
    #[oai(path = "/sites/:site/webhooks", method = "post", operation_id = "createWebhook")]
    async fn create_webhook(&self, auth: Auth, site: Path<String>, req: Json<CreateWebhook>) -> WebhooksResult {
        let CreateWebhook { url, events, format } = req.0;
        let call =
            |hooks: Arc<WebhookService>, site| async move { hooks.add(&site, &url, &events, format.as_deref()).await };
        let ok = |h| WebhooksResult::Created(Json(view(h, true)));
        self.answer((&auth, &site.0), call, ok).await
    }

    /// Delete a webhook and its delivery log.
    #[oai(path = "/sites/:site/webhooks/:id", method = "delete", operation_id = "deleteWebhook")]
    async fn delete_webhook(&self, auth: Auth, site: Path<String>, id: Path<u32>) -> WebhooksResult {
        let call = |hooks: Arc<WebhookService>, site: crate::domain::site::Site| async move {
            hooks.delete(site.id.0, id.0).await
        };
        self.answer((&auth, &site.0), call, |()| WebhooksResult::Deleted).await
    }

    /// The delivery log: the newest deliveries of the site (or of one webhook) and how they went.
    #[oai(path = "/sites/:site/webhooks/deliveries", method = "get", operation_id = "listWebhookDeliveries")]
    async fn deliveries(
        &self,
        auth: Auth,
        site: Path<String>,
        /// Only this webhook's deliveries.
        webhook_id: Query<Option<u32>>,
        /// At most this many (default 50, at most 200).
        limit: Query<Option<u32>>,
    ) -> DeliveriesResult {
        let limit = limit.0.unwrap_or(50).clamp(1, MAX_LOG) as usize;
        let call = |hooks: Arc<WebhookService>, site: crate::domain::site::Site| async move {
            hooks.deliveries(site.id.0, webhook_id.0, limit).await
        };
        let ok = |l: Vec<Delivery>| DeliveriesResult::List(Json(l.into_iter().map(delivery_view).collect()));
        self.answer((&auth, &site.0), call, ok).await
    }

    /// Send a delivery again (a copy, due at once; the log keeps the original).
    #[oai(path = "/sites/:site/webhooks/deliveries/:id/redeliver", method = "post", operation_id = "redeliverWebhook")]
    async fn redeliver(&self, auth: Auth, site: Path<String>, id: Path<u64>) -> DeliveriesResult {
        let call = |hooks: Arc<WebhookService>, site: crate::domain::site::Site| async move {
            hooks.redeliver(site.id.0, id.0).await
        };
        let ok = |id| DeliveriesResult::Queued(Json(Redelivery { id }));
        self.answer((&auth, &site.0), call, ok).await
    }
}
