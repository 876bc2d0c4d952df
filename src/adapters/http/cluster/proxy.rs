//! `/api` on a follower: the request goes to the leader as it came (method, path, query,
//! headers including Cookie and Authorization, body) and the leader's answer comes back as it
//! is, streamed, so server-sent events (realtime) work through any node.

use std::time::Duration;

use std::net::IpAddr;

use poem::http::{HeaderMap, HeaderName, HeaderValue, header};
use poem::{Body, Request, Response};

use super::{ClusterGate, unavailable};
use crate::ports::cluster::{CLIENT_IP_HEADER, CLUSTER_SECRET_HEADER};

/// Largest `/api` request body forwarded.
pub const MAX_API_BODY: usize = 16 * 1024 * 1024;

/// Headers that describe one connection, not the message: never copied across.
/// `Host` is kept: the leader's same-origin check compares it with `Origin`.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

fn copy_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = from.clone();
    for h in &HOP_BY_HOP {
        out.remove(h);
    }
    out.remove(CLIENT_IP_HEADER);
    out.remove(CLUSTER_SECRET_HEADER);
    out.remove("keep-alive");
    out.remove(header::CONTENT_LENGTH);
    out
}

/// Sends `req` to the leader at `leader_url` and relays the answer.
pub async fn forward(gate: &ClusterGate, leader_url: &str, req: Request) -> Response {
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    let method = req.method().clone();
    let mut headers = copy_headers(req.headers());
    // This node resolved the forwarding chain with its own trusted proxies; the leader gets the answer.
    for h in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        headers.remove(h);
    }
    // The leader's sign-in limits and audit log need the real client, not this node.
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client = gate.config.trusted_proxies.client_ip(peer, req.headers());
    headers.insert(CLIENT_IP_HEADER, client.to_string().parse().expect("an IP is a header value"));
    headers.insert(CLUSTER_SECRET_HEADER, gate.secret_text.parse().unwrap_or(HeaderValue::from_static("")));
    let body = match req.into_body().into_bytes_limit(MAX_API_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return super::super::errors::json_error(
                poem::http::StatusCode::BAD_REQUEST,
                "unreadable_body",
                &e.to_string(),
                None,
            );
        }
    };
    let sent = gate
        .client
        .request(method, format!("{}{}", leader_url.trim_end_matches('/'), path_and_query))
        .headers(headers)
        .body(body.to_vec())
        .send();
    // Only the wait for the answer's head is bounded: a realtime stream may stay open for hours.
    let resp = match tokio::time::timeout(Duration::from_secs(60), sent).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "proxy to the leader failed");
            return unavailable("leader_unreachable", "the leader did not answer; retry");
        }
        Err(_) => return unavailable("leader_timeout", "the leader did not answer in time; retry"),
    };
    let mut out = Response::builder().status(resp.status());
    for (name, value) in copy_headers(resp.headers()).iter() {
        out = out.header(name, value);
    }
    let stream = futures_util::stream::unfold(Some(resp), |resp| async move {
        let mut resp = resp?;
        match resp.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(resp))),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    out.body(Body::from_bytes_stream(stream))
}
