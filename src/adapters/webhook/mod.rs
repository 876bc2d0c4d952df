//! Webhook deliveries over HTTP with reqwest. The target's host is resolved at every attempt
//! and the connection is pinned to the addresses checked, so a name that later resolves to an
//! internal address (DNS rebinding) is refused, not followed. Redirects are not followed either.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::webhooks::{WebhookRuleError, check_addresses};
use crate::ports::webhooks::{TransportError, WebhookTransport};

/// Longest a whole attempt (connect, send, answer) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends webhooks; refuses internal targets unless `allow_private` (`--webhooks-allow-private`).
pub struct HttpTransport {
    pub allow_private: bool,
}

/// The target's host, port and the addresses it resolves to now, checked.
async fn resolve(url: &str, allow_private: bool) -> Result<(url::Url, Vec<SocketAddr>), TransportError> {
    let invalid = |m: String| TransportError::Refused(WebhookRuleError::Invalid(m));
    let parsed = url::Url::parse(url).map_err(|e| invalid(format!("url {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("url {url:?}: only http:// and https:// targets are supported")));
    }
    let host = parsed.host_str().ok_or_else(|| invalid(format!("url {url:?} has no host")))?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| TransportError::Failed(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    check_addresses(&host, &ips, allow_private)?;
    Ok((parsed, addrs))
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    async fn check_target(&self, url: &str) -> Result<(), TransportError> {
        resolve(url, self.allow_private).await.map(|_| ())
    }

    async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> Result<u16, TransportError> {
        let (parsed, addrs) = resolve(url, self.allow_private).await?;
        let mut client = crate::adapters::http_client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("HitKeep-Webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(name)) = parsed.host() {
            client = client.resolve_to_addrs(name, &addrs);
        }
        let client = client.build().map_err(|e| TransportError::Failed(e.to_string()))?;
        let mut request = client.post(parsed).header("content-type", "application/json").body(body.to_string());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer = request.send().await.map_err(|e| TransportError::Failed(describe(&e)))?;
        Ok(answer.status().as_u16())
    }
}

/// A reqwest error with its causes (the top level alone says only "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
