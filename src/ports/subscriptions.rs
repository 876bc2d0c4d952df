//! Who gets which e-mail report.

use crate::domain::lifecycle::Frequency;
use crate::ports::store::StoreResult;

/// One e-mail report subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub site_id: u32,
    pub email: String,
    pub frequency: Frequency,
    /// The last period sent (`2026-W47`, `2026-11`).
    pub last_period: Option<String>,
}

/// Who gets which report.
pub trait SubscriptionStore: Send + Sync {
    fn subscriptions(&self, site_id: Option<u32>) -> StoreResult<Vec<Subscription>>;
    /// `false` when it already existed.
    fn subscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool>;
    /// `false` when there was none.
    fn unsubscribe(&self, site_id: u32, email: &str, frequency: Frequency) -> StoreResult<bool>;
    fn mark_sent(&self, site_id: u32, email: &str, frequency: Frequency, period: &str) -> StoreResult<()>;
}
