//! Webhook subscriptions, their durable outbox of deliveries, and the HTTP transport that
//! carries a delivery to its target.

use async_trait::async_trait;

use crate::domain::webhooks::{BodyFormat, WebhookEvent, WebhookRuleError};
use crate::ports::store::StoreResult;

/// A stored webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: u32,
    pub site_id: u32,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: BodyFormat,
    /// The HMAC key its bodies are signed with.
    pub secret: String,
    /// Goal conversions up to this instant (microseconds) were batched already.
    pub goal_cursor: i64,
    /// The last daily and weekly report periods sent (`2026-11-29`, `2026-W48`).
    pub last_daily: Option<String>,
    pub last_weekly: Option<String>,
    pub created_at: i64,
}

/// A webhook to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub site_id: u32,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: BodyFormat,
    pub secret: String,
    pub now: i64,
    /// Report periods already due at creation: a new hook waits for the next ones.
    pub last_daily: Option<String>,
    pub last_weekly: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The target answered 2xx.
    Delivered,
    /// Every attempt failed; only a manual redelivery sends it again.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One message in the outbox, with the outcome of its last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: u64,
    pub webhook_id: u32,
    pub site_id: u32,
    pub event: String,
    /// The event's data as JSON; the body is rendered (and signed) at each attempt.
    pub data: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_at: Option<i64>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
}

/// The outcome of one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub state: DeliveryState,
    /// When to try again (pending only).
    pub next_at: Option<i64>,
}

/// Webhooks and their outbox.
pub trait WebhookStore: Send + Sync {
    /// Every webhook (of one site), in creation order.
    fn webhooks(&self, site_id: Option<u32>) -> StoreResult<Vec<Webhook>>;
    fn add_webhook(&self, hook: &NewWebhook) -> StoreResult<Webhook>;
    /// Deletes a hook and its deliveries; `false` when the site has no such hook.
    fn delete_webhook(&self, site_id: u32, id: u32) -> StoreResult<bool>;
    fn set_goal_cursor(&self, id: u32, micros: i64) -> StoreResult<()>;
    /// Marks a report period as sent; `daily` picks the daily or the weekly one.
    fn set_report_sent(&self, id: u32, daily: bool, period: &str) -> StoreResult<()>;
    /// Queues a delivery, due at `now`; its id.
    fn enqueue(&self, webhook_id: u32, site_id: u32, event: &str, data: &str, now: i64) -> StoreResult<u64>;
    /// Pending deliveries due at `now`, oldest first.
    fn due(&self, now: i64, limit: usize) -> StoreResult<Vec<Delivery>>;
    fn record_attempt(&self, delivery_id: u64, attempt: &Attempt) -> StoreResult<()>;
    /// The newest deliveries of a site (of one hook), newest first.
    fn deliveries(&self, site_id: u32, webhook_id: Option<u32>, limit: usize) -> StoreResult<Vec<Delivery>>;
    /// Queues a copy of a delivery of the site, due at `now`; the copy's id, `None` when the
    /// site has no such delivery.
    fn redeliver(&self, site_id: u32, delivery_id: u64, now: i64) -> StoreResult<Option<u64>>;
}

/// Why a delivery attempt did not get an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The target (as resolved now) is refused.
    #[error(transparent)]
    Refused(#[from] WebhookRuleError),
    #[error("{0}")]
    Failed(String),
}

/// Carries signed bodies to webhook targets.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Resolves `url`'s host and refuses internal addresses (unless the operator allowed them).
    async fn check_target(&self, url: &str) -> Result<(), TransportError>;
    /// POSTs `body` with `headers` (after `check_target`); the HTTP status.
    async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> Result<u16, TransportError>;
}
