//! User agent -> browser, OS, device, bot.

use std::sync::Arc;

use crate::domain::client::ClientInfo;

/// Classifies user agents. Implementations cache: the same strings repeat all day.
pub trait UserAgentClassifier: Send + Sync {
    fn classify(&self, user_agent: &str) -> Arc<ClientInfo>;
}
