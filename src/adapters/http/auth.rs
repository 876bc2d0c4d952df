//! Who is calling `/api`: security schemes for the OpenAPI spec, resolution of credentials to a
//! [`Caller`], the session cookie, and the same-origin rule for cookie-authenticated changes.

use std::net::IpAddr;

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Middleware, Request, Result};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};

use super::AppState;
use super::errors::json_error;
use crate::domain::accounts::Denied;
use crate::domain::auth::{AuthError, Caller, Origin};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hk_session";

/// `Authorization: Bearer <token>`: an API token (`hk_...`), a share link's access token, or the
/// operator token configured with `--api-token`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct BearerAuth(pub Bearer);

/// The session cookie set by sign-in (`hk_session`, HttpOnly, SameSite=Strict).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "hk_session", key_in = "cookie")]
pub struct SessionAuth(pub ApiKey);

/// Either credential; a bearer token wins when both are sent.
#[derive(SecurityScheme)]
pub enum Auth {
    Bearer(BearerAuth),
    Session(SessionAuth),
}

/// Resolves credentials to a caller: 401 (`Denied::Unauthenticated`) when they are unknown,
/// expired or revoked.
pub async fn caller(state: &AppState, auth: &Auth) -> Result<Caller, AuthError> {
    let (secret, bearer) = match auth {
        Auth::Bearer(b) => (b.0.token.clone(), true),
        Auth::Session(s) => (s.0.key.clone(), false),
    };
    if bearer && state.config.api_token.as_ref().is_some_and(|t| t.matches(&secret)) {
        return Ok(Caller::operator());
    }
    let accounts = state.accounts.clone();
    let found =
        tokio::task::spawn_blocking(
            move || {
                if bearer { accounts.by_bearer(&secret) } else { accounts.by_session(&secret) }
            },
        )
        .await
        .map_err(|e| AuthError::Store(crate::ports::store::StoreError::Internal(e.to_string())))??;
    found.ok_or(AuthError::Denied(Denied::Unauthenticated))
}

/// The client's address (the socket's, or a trusted proxy's header) for limits and the audit log.
pub fn origin(state: &AppState, req: &Request) -> Origin {
    if let Some(forwarded) = req.data::<super::client_ip::ForwardedClient>() {
        return Origin { ip: forwarded.0 };
    }
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    Origin { ip: state.config.trusted_proxies.client_ip(peer, req.headers()) }
}

/// A `Set-Cookie` value for a new session. `Secure` when the public URL is https; a persistent
/// cookie only with "remember me" (otherwise it ends with the browser session).
pub fn session_cookie(state: &AppState, secret: &str, max_age_secs: Option<i64>) -> String {
    let mut c = format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict");
    if state.config.secure_cookies() {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A `Set-Cookie` value that deletes the session cookie.
pub fn cleared_cookie(state: &AppState) -> String {
    session_cookie(state, "", Some(0))
}

/// The session cookie's value, if any.
pub fn session_secret(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// Rejects cross-site state-changing requests that a browser could send with the session cookie
/// (CSRF). Calls carrying `Authorization` are exempt: browsers never attach it on their own.
/// Same-origin is read from `Sec-Fetch-Site`, else from `Origin` against `Host`; a cookie-bearing
/// change with neither header is refused.
pub struct SameOriginChanges;

impl<E: Endpoint> Middleware<E> for SameOriginChanges {
    type Output = SameOriginEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        SameOriginEndpoint(ep)
    }
}

pub struct SameOriginEndpoint<E>(E);

/// Why a request is refused as cross-site, or `None` when it may proceed.
fn cross_site(req: &Request) -> Option<&'static str> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return (!matches!(site, "same-origin" | "none")).then_some("cross-site request (Sec-Fetch-Site)");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        return (origin_host != host).then_some("cross-origin request (Origin does not match Host)");
    }
    session_secret(req).is_some().then_some("a cookie-authenticated change needs an Origin or Sec-Fetch-Site header")
}

impl<E: Endpoint> Endpoint for SameOriginEndpoint<E> {
    type Output = poem::Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Some(reason) = cross_site(&req) {
            return Ok(json_error(StatusCode::FORBIDDEN, "csrf", reason, None));
        }
        self.0.call(req).await.map(poem::IntoResponse::into_response)
    }
}
