//! Single sign-on with the configured OpenID Connect provider: whether it is on (for the login
//! page's button), the start that sends the browser to the provider, and the callback.

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::*;
use crate::adapters::http::auth::cookie;
use crate::services::sso::SsoFailure;

/// The cookie that ties a callback to the browser that started the sign-in.
const STATE_COOKIE: &str = "hk_sso";

/// Whether single sign-on is configured.
#[derive(Object)]
pub struct SsoInfo {
    pub enabled: bool,
    /// The button reads "Sign in with <label>".
    #[oai(nullable)]
    pub label: Option<String>,
}

crate::api_result!(SsoInfoResult, 200, Json<SsoInfo>);

crate::api_answers! {
    /// Answers of the single sign-on redirects.
    pub enum SsoRedirect {
        /// Go on at `Location` (the provider, the dashboard, or the login page with `sso_error`).
        Found(302, #[oai(header = "Location")] String, #[oai(header = "Set-Cookie")] String),
        /// Single sign-on is not configured.
        NotFound,
        /// The identity provider cannot be reached.
        BadGateway(502, Json<ApiErrorBody>),
        Internal,
    }
}

crate::api_part!(
    /// Single sign-on.
    SsoApi, AccountsApi
);

impl SsoApi {
    /// The state cookie: sent back on the provider's redirect (a top-level GET, so `Lax`).
    fn state_cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.state.config.secure_cookies() { "; Secure" } else { "" };
        format!("{STATE_COOKIE}={value}; Path=/api/auth/sso; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    /// Back to the login page with a reason it shows.
    fn to_login(&self, reason: &str) -> SsoRedirect {
        SsoRedirect::Found(format!("/login?sso_error={reason}"), self.state_cookie("", 0))
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl SsoApi {
    /// Whether sign-in with the OpenID Connect provider is offered, and its button's label.
    #[oai(path = "/auth/sso", method = "get", operation_id = "ssoInfo")]
    async fn info(&self) -> SsoInfoResult {
        let label = self.state.sso.as_ref().map(|s| s.label().to_string());
        SsoInfoResult::Ok(Json(SsoInfo { enabled: label.is_some(), label }))
    }

    /// Starts single sign-on: redirects to the provider (authorization-code flow with PKCE).
    #[oai(path = "/auth/sso/start", method = "get", operation_id = "ssoStart")]
    async fn start(&self) -> SsoRedirect {
        let Some(sso) = &self.state.sso else {
            return SsoRedirect::NotFound(body("not_found", "single sign-on is not configured"));
        };
        match sso.start().await {
            Ok((url, state)) => SsoRedirect::Found(url, self.state_cookie(&state, 600)),
            Err(e) => {
                tracing::warn!(error = %e, "single sign-on could not start");
                SsoRedirect::BadGateway(body("provider_unavailable", e.to_string()))
            }
        }
    }

    /// The provider's redirect back: checks state, exchanges the code, verifies the ID token,
    /// signs the account in and redirects to the dashboard (or to the login page with `sso_error`).
    #[oai(path = "/auth/sso/callback", method = "get", operation_id = "ssoCallback")]
    async fn callback(
        &self,
        req: &Request,
        code: Query<Option<String>>,
        state: Query<Option<String>>,
        error: Query<Option<String>>,
    ) -> SsoRedirect {
        let Some(sso) = &self.state.sso else {
            return SsoRedirect::NotFound(body("not_found", "single sign-on is not configured"));
        };
        let (Some(code), Some(state), None) = (code.0, state.0, error.0) else {
            return self.to_login("cancelled");
        };
        let origin = origin(&self.state, req);
        match sso.finish(&state, cookie(req, STATE_COOKIE).as_deref(), &code, origin).await {
            Ok((_, issued)) => SsoRedirect::Found("/".into(), self.cookie(&issued, false)),
            Err(SsoFailure::UnknownState) => self.to_login("expired"),
            Err(SsoFailure::Account(AuthError::SsoRefused(m))) => {
                tracing::info!(reason = %m, "single sign-on refused");
                self.to_login("no_account")
            }
            Err(e) => {
                tracing::warn!(error = %e, "single sign-on failed");
                self.to_login("failed")
            }
        }
    }
}
