//! Accounts under `/api`: first-run setup, sign-in, the caller's account, users, invitations,
//! API tokens, share-link access and the audit log: one module each, sharing the helpers here.

mod access;
mod passkeys;
mod people;
mod session;
mod sso;
mod two_factor;
mod views;

pub use access::AccessApi;
pub use passkeys::PasskeysApi;
pub use people::PeopleApi;
pub use session::SessionApi;
pub use sso::SsoApi;
pub use two_factor::TwoFactorApi;
pub use views::*;

use std::sync::Arc;

use poem::Request;

use poem_openapi::payload::Json;

use super::{ApiErrorBody, ApiTags, SiteView, body};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::{Auth, cleared_cookie, origin, session_cookie, session_secret};
use crate::adapters::http::guard::{ApiFailure, ErrorAnswers, answer, who};
use crate::domain::accounts::{Role, Scope, UserId};
use crate::domain::auth::REMEMBER_TTL;
use crate::domain::site::{SiteDomain, SiteId};
use crate::ports::accounts::{TokenRecord, User};
use crate::services::accounts::{AccountService, AuthError, Caller, InviteInfo, Issued, SignIn};

/// Microseconds since the epoch as RFC 3339.
pub fn iso(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Runs account work on the services' blocking hop.
async fn blocking<T: Send + 'static>(
    accounts: &Arc<AccountService>,
    f: impl FnOnce(&AccountService) -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    let accounts = accounts.clone();
    crate::services::blocking(move || f(&accounts)).await
}

/// One account call for the signed-in caller, answered: `ok` with its result, or the one
/// mapping of the refusal (401 for a caller who is not signed in).
async fn as_caller<R: ErrorAnswers, T: Send + 'static>(
    state: &AppState,
    auth: &Auth,
    work: impl FnOnce(&AccountService, Caller) -> Result<T, AuthError> + Send + 'static,
    ok: impl FnOnce(T) -> R,
) -> R {
    as_caller_or(state, auth, work, |e| R::failure(e.answer()), ok).await
}

/// `as_caller` with the handler's own answer to the work's error.
async fn as_caller_or<R: ErrorAnswers, T: Send + 'static>(
    state: &AppState,
    auth: &Auth,
    work: impl FnOnce(&AccountService, Caller) -> Result<T, AuthError> + Send + 'static,
    refused: impl FnOnce(AuthError) -> R,
    ok: impl FnOnce(T) -> R,
) -> R {
    let caller = crate::or_return!(who::<R>(state, auth).await);
    blocking(&state.accounts, move |a| work(a, caller)).await.map_or_else(refused, ok)
}

crate::api_result!(MeResult, 200, Json<MeView>);
crate::api_result!(UsersResult, 200, Json<Vec<UserView>>);
crate::api_result!(UserResult, 200, Json<UserView>);
crate::api_result!(DoneResult, 204);
crate::api_result!(InviteResult, 201, Json<InviteView>);
crate::api_result!(InviteInfoResult, 200, Json<InviteView>);
crate::api_result!(TokensResult, 200, Json<Vec<TokenView>>);
crate::api_result!(TokenResult, 201, Json<TokenView>);
crate::api_result!(AuditResult, 200, Json<Vec<AuditView>>);
crate::api_result!(SetupStatusResult, 200, Json<SetupStatus>);

/// Account endpoints.
pub struct AccountsApi {
    pub state: Arc<AppState>,
}

/// The base URL for links handed out (invites, shares): the public URL, else the request's host.
pub fn base_url(state: &AppState, req: &Request) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = req.headers().get(poem::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

impl AccountsApi {
    fn me_view(&self, user: &User, caller_roles: &Caller) -> MeView {
        let directory = self.state.ingest.sites();
        let sites = directory
            .sites()
            .iter()
            .filter_map(|s| {
                caller_roles.role(s.id).map(|r| SiteRole { domain: s.domain.to_string(), role: r.as_str().into() })
            })
            .collect();
        MeView {
            id: user.id.0,
            email: user.email.to_string(),
            name: user.name.clone(),
            is_admin: user.is_admin,
            language: user.language.map(|l| l.as_str().to_string()),
            sites,
        }
    }

    /// A new session's caller (the roles of a fresh user).
    async fn caller_of(&self, user: &User) -> Result<Caller, AuthError> {
        let (id, is_admin) = (user.id, user.is_admin);
        blocking(&self.state.accounts, move |a| {
            Ok(Caller {
                principal: crate::domain::accounts::Principal::User { id, is_admin },
                roles: a.memberships(id)?.into_iter().collect(),
            })
        })
        .await
    }

    fn cookie(&self, issued: &Issued, remember: bool) -> String {
        session_cookie(&self.state, &issued.secret, remember.then_some(REMEMBER_TTL / 1_000_000))
    }

    fn domain_of(&self, site: SiteId) -> Option<String> {
        self.state.ingest.sites().sites().iter().find(|s| s.id == site).map(|s| s.domain.to_string())
    }

    fn token_view(&self, t: &TokenRecord, secret: Option<String>) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name.clone(),
            scope: t.scope.as_str().into(),
            sites: t.sites.iter().filter_map(|s| self.domain_of(*s)).collect(),
            user_id: t.user.0,
            created_at: iso(t.created_at),
            expires_at: t.expires_at.map(iso),
            last_used_at: t.last_used_at.map(iso),
            token: secret,
        }
    }

    fn invite_view(&self, info: &InviteInfo) -> InviteView {
        InviteView {
            email: info.email.to_string(),
            is_admin: info.is_admin,
            site: info.site.and_then(|(s, _)| self.domain_of(s)),
            role: info.site.map(|(_, r)| r.as_str().to_string()),
            expires_at: iso(info.expires_at),
            token: None,
            url: None,
        }
    }

    fn site_id(&self, domain: &str) -> Option<SiteId> {
        let d = SiteDomain::parse(domain).ok()?;
        self.state.ingest.sites().by_domain(&d).map(|s| s.id)
    }
}
