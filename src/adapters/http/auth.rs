//! Who is calling `/api`: security schemes for the OpenAPI spec, resolution of credentials to a
//! [`Caller`], the session cookie, and the same-origin rule for cookie-authenticated changes.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Request, Result};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};

use super::AppState;
use super::errors::json_error;
use crate::domain::accounts::Denied;
use crate::domain::auth::{AuthError, Caller, Origin};

/// Name of the session cookie over plain http.
pub const SESSION_COOKIE: &str = "hk_session";
/// Name of the session cookie when the public URL is https: browsers accept a `__Host-` cookie
/// only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant or
/// overwrite it. The plain name is still read, for sessions started before the switch.
pub const HOST_SESSION_COOKIE: &str = "__Host-hk_session";

/// `Authorization: Bearer <token>`: an API token (`hk_...`), a share link's access token, or the
/// operator token configured with `--api-token`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct BearerAuth(pub Bearer);

/// The session cookie set by sign-in over plain http (`hk_session`, HttpOnly, SameSite=Strict).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "hk_session", key_in = "cookie")]
pub struct SessionAuth(pub ApiKey);

/// The session cookie set by sign-in when the public URL is https (`__Host-hk_session`,
/// HttpOnly, Secure, SameSite=Strict).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "__Host-hk_session", key_in = "cookie")]
pub struct HostSessionAuth(pub ApiKey);

/// Any of the credentials; a bearer token wins when several are sent.
#[derive(SecurityScheme)]
pub enum Auth {
    Bearer(BearerAuth),
    HostSession(HostSessionAuth),
    Session(SessionAuth),
}

/// Resolves credentials to a caller: 401 (`Denied::Unauthenticated`) when they are unknown,
/// expired or revoked.
pub async fn caller(state: &AppState, auth: &Auth) -> Result<Caller, AuthError> {
    let (secret, bearer) = match auth {
        Auth::Bearer(b) => (b.0.token.clone(), true),
        Auth::HostSession(s) => (s.0.key.clone(), false),
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
    let secure = state.config.secure_cookies();
    let name = if secure { HOST_SESSION_COOKIE } else { SESSION_COOKIE };
    let mut c = format!("{name}={secret}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
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

/// The value of the request's cookie `wanted`, if set and not empty.
pub fn cookie(req: &Request, wanted: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// The session cookie's value, if any (the `__Host-` name first).
pub fn session_secret(req: &Request) -> Option<String> {
    cookie(req, HOST_SESSION_COOKIE).or_else(|| cookie(req, SESSION_COOKIE))
}

/// The token of an `Authorization: Bearer` header, if that is the scheme.
pub fn bearer_token(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// Does the request carry a bearer credential that resolves to a caller? Browsers never attach
/// one on their own, unlike cookies and `Authorization: Basic` remembered for a site.
async fn valid_bearer(req: &Request) -> bool {
    let (Some(state), Some(token)) = (req.data::<Arc<AppState>>(), bearer_token(req)) else { return false };
    let auth = Auth::Bearer(BearerAuth(poem_openapi::auth::Bearer { token }));
    caller(state, &auth).await.is_ok()
}

unit_middleware! {
    /// Rejects cross-site state-changing requests that a browser could send with the session cookie
    /// (CSRF). Calls with a valid bearer credential are exempt; any other `Authorization` (Basic
    /// credentials a browser remembers for a proxy, an unknown token) is not.
    /// Same-origin is read from `Sec-Fetch-Site`, else from `Origin` against `Host`; a cookie-bearing
    /// change with neither header is refused.
    SameOriginChanges => SameOriginEndpoint
}

/// Why a request is refused as cross-site, or `None` when it may proceed.
fn cross_site(req: &Request) -> Option<&'static str> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
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
        if let Some(reason) = cross_site(&req)
            && !valid_bearer(&req).await
        {
            return Ok(json_error(StatusCode::FORBIDDEN, "csrf", reason, None));
        }
        self.0.call(req).await.map(poem::IntoResponse::into_response)
    }
}
