//! A webhook transport double: records what would be sent and answers with scripted statuses.

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::ports::webhooks::{TransportError, WebhookTransport};

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Answers each POST with the next scripted status (200 once the script is used up).
#[derive(Default)]
pub struct RecordingTransport {
    pub sent: Mutex<Vec<Sent>>,
    pub script: Mutex<Vec<u16>>,
    /// Targets refused as internal.
    pub refuse: Mutex<Vec<String>>,
}

#[async_trait]
impl WebhookTransport for RecordingTransport {
    async fn check_target(&self, url: &str) -> Result<(), TransportError> {
        if self.refuse.lock().iter().any(|r| url.contains(r.as_str())) {
            return Err(crate::domain::webhooks::WebhookRuleError::PrivateTarget(url.into()).into());
        }
        Ok(())
    }

    async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> Result<u16, TransportError> {
        self.check_target(url).await?;
        self.sent.lock().push(Sent { url: url.into(), headers: headers.to_vec(), body: body.into() });
        let mut script = self.script.lock();
        Ok(if script.is_empty() { 200 } else { script.remove(0) })
    }
}
