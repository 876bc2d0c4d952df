//! Accounts under `/api`: first-run setup, sign-in, the caller's account, users, invitations,
//! API tokens, share-link access and the audit log.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{ApiErrorBody, ApiTags, SiteView, body};
use crate::adapters::http::AppState;
use crate::adapters::http::auth::{Auth, cleared_cookie, origin, session_cookie, session_secret};
use crate::adapters::http::guard::{ErrorAnswers, who};
use crate::domain::accounts::{Role, Scope, UserId};
use crate::domain::auth::REMEMBER_TTL;
use crate::domain::site::{SiteDomain, SiteId};
use crate::ports::accounts::{AuditEntry, TokenRecord, User};
use crate::services::accounts::{AccountService, AuthError, Caller, InviteInfo, Issued};

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

/// Whether the instance still needs its first user.
#[derive(Object)]
pub struct SetupStatus {
    pub needed: bool,
}

/// First user or invited user.
#[derive(Object)]
pub struct SetupRequest {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    #[oai(default)]
    pub name: String,
}

/// Credentials.
#[derive(Object)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Keep the session for 30 days instead of the browser session.
    #[oai(default)]
    pub remember: bool,
}

/// A site and the caller's role on it.
#[derive(Object)]
pub struct SiteRole {
    pub domain: String,
    /// owner, admin or viewer.
    pub role: String,
}

/// The signed-in user.
#[derive(Object)]
pub struct MeView {
    pub id: u32,
    pub email: String,
    pub name: String,
    /// Instance administrator (manages users and every site).
    pub is_admin: bool,
    pub sites: Vec<SiteRole>,
}

/// A user, as administrators see them.
#[derive(Object)]
pub struct UserView {
    pub id: u32,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub created_at: String,
    #[oai(nullable)]
    pub last_login_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.to_string(),
            name: u.name.clone(),
            is_admin: u.is_admin,
            created_at: iso(u.created_at),
            last_login_at: u.last_login_at.map(iso),
        }
    }
}

/// Changes to a user.
#[derive(Object)]
pub struct UpdateUser {
    pub is_admin: bool,
}

/// A new password.
#[derive(Object)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Whom to invite.
#[derive(Object)]
pub struct CreateInvite {
    pub email: String,
    /// Make them an instance administrator (instance administrators only).
    #[oai(default)]
    pub is_admin: bool,
    /// A site to give them a role on.
    pub site: Option<String>,
    /// viewer (default), admin or owner.
    pub role: Option<String>,
}

/// An invitation; `url` is the link to pass on (no mail server needed).
#[derive(Object)]
pub struct InviteView {
    pub email: String,
    pub is_admin: bool,
    #[oai(nullable)]
    pub site: Option<String>,
    #[oai(nullable)]
    pub role: Option<String>,
    pub expires_at: String,
    /// Shown once, on creation.
    #[oai(skip_serializing_if_is_none)]
    pub token: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub url: Option<String>,
}

/// Accepting an invitation.
#[derive(Object)]
pub struct AcceptInvite {
    pub password: String,
    #[oai(default)]
    pub name: String,
}

/// An API token.
#[derive(Object)]
pub struct TokenView {
    pub id: u32,
    pub name: String,
    /// read or admin.
    pub scope: String,
    /// Domains it is limited to; empty: all of its user's sites.
    pub sites: Vec<String>,
    pub user_id: u32,
    pub created_at: String,
    #[oai(nullable)]
    pub expires_at: Option<String>,
    #[oai(nullable)]
    pub last_used_at: Option<String>,
    /// The secret, shown once on creation: `Authorization: Bearer <token>`.
    #[oai(skip_serializing_if_is_none)]
    pub token: Option<String>,
}

/// A new API token.
#[derive(Object)]
pub struct CreateToken {
    pub name: String,
    /// read (default) or admin.
    pub scope: Option<String>,
    /// Limit to these domains; empty or absent: all of your sites.
    #[oai(default)]
    pub sites: Vec<String>,
    /// Expire after this many days; absent or 0: never.
    pub expires_in_days: Option<u32>,
}

/// Opening a share link.
#[derive(Object)]
pub struct OpenShare {
    /// Needed when the link has a password.
    pub password: Option<String>,
}

/// Access to a shared dashboard: send `Authorization: Bearer <access_token>` to the read APIs.
#[derive(Object)]
pub struct ShareAccess {
    pub access_token: String,
    pub site: SiteView,
    pub expires_at: String,
}

/// One audit log line.
#[derive(Object)]
pub struct AuditView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The client's network (/24 or /48), never a full address.
    pub ip: String,
}

impl From<&AuditEntry> for AuditView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            at: iso(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            ip: e.ip.clone(),
        }
    }
}

/// Answers that start a session.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "session_bad_request")]
pub enum SessionResult {
    /// Signed in: the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<MeView>, #[oai(header = "Set-Cookie")] String),
    /// Created and signed in.
    #[oai(status = 201)]
    Created(Json<MeView>, #[oai(header = "Set-Cookie")] String),
    /// Invalid input.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// Wrong e-mail or password.
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// Share links and tokens cannot do this.
    #[oai(status = 403)]
    Forbidden(Json<ApiErrorBody>),
    /// Not available.
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Already set up, or the e-mail is taken.
    #[oai(status = 409)]
    Conflict(Json<ApiErrorBody>),
    /// Too many failed attempts; retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// Too many password checks at once (`busy`); retry after `Retry-After` seconds.
    #[oai(status = 503)]
    ServiceUnavailable(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn session_bad_request(err: poem::Error) -> SessionResult {
    if err.status() == poem::http::StatusCode::UNAUTHORIZED {
        return SessionResult::Unauthorized(body("unauthorized", crate::adapters::http::guard::UNAUTHORIZED));
    }
    SessionResult::BadRequest(body("invalid_request", err.to_string()))
}

impl SessionResult {
    fn failed(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(e) => Self::BadRequest(body("invalid_request", e.to_string())),
            AuthError::BadCredentials => Self::Unauthorized(body("bad_credentials", e.to_string())),
            AuthError::RateLimited { retry_after } => {
                Self::TooManyRequests(body("rate_limited", e.to_string()), retry_after)
            }
            AuthError::Busy { retry_after } => Self::ServiceUnavailable(body("busy", e.to_string()), retry_after),
            AuthError::AlreadySetUp | AuthError::EmailTaken => Self::Conflict(body("conflict", e.to_string())),
            AuthError::NotFound(m) => Self::NotFound(body("not_found", m)),
            other => Self::Internal(body("internal", other.to_string())),
        }
    }
}

/// Logged out.
#[derive(ApiResponse)]
pub enum LogoutResult {
    /// The session ended and the cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

/// The answer to opening a share link.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "share_bad_request")]
pub enum ShareResult {
    /// Access granted.
    #[oai(status = 200)]
    Ok(Json<ShareAccess>),
    /// Invalid input.
    #[oai(status = 400)]
    BadRequest(Json<ApiErrorBody>),
    /// The link needs a password (`password_required`) or the password is wrong (`wrong_password`).
    #[oai(status = 401)]
    Unauthorized(Json<ApiErrorBody>),
    /// No such link (or it was revoked).
    #[oai(status = 404)]
    NotFound(Json<ApiErrorBody>),
    /// Too many wrong passwords.
    #[oai(status = 429)]
    TooManyRequests(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Storage failed.
    #[oai(status = 500)]
    Internal(Json<ApiErrorBody>),
    /// Too many password checks at once (`busy`); retry after `Retry-After` seconds.
    #[oai(status = 503)]
    ServiceUnavailable(Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn share_bad_request(err: poem::Error) -> ShareResult {
    ShareResult::BadRequest(body("invalid_request", err.to_string()))
}

crate::api_result!(MeResult, "me_bad", me_bad, 200, Json<MeView>);
crate::api_result!(UsersResult, "users_bad", users_bad, 200, Json<Vec<UserView>>);
crate::api_result!(UserResult, "user_bad", user_bad, 200, Json<UserView>);
crate::api_result!(DoneResult, "done_bad", done_bad, 204);
crate::api_result!(InviteResult, "invite_bad", invite_bad, 201, Json<InviteView>);
crate::api_result!(InviteInfoResult, "invite_info_bad", invite_info_bad, 200, Json<InviteView>);
crate::api_result!(TokensResult, "tokens_bad", tokens_bad, 200, Json<Vec<TokenView>>);
crate::api_result!(TokenResult, "token_bad", token_bad, 201, Json<TokenView>);
crate::api_result!(AuditResult, "audit_bad", audit_bad, 200, Json<Vec<AuditView>>);
crate::api_result!(SetupStatusResult, "setup_status_bad", setup_status_bad, 200, Json<SetupStatus>);

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
        MeView { id: user.id.0, email: user.email.to_string(), name: user.name.clone(), is_admin: user.is_admin, sites }
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

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Whether the instance needs its first user (then `POST /api/setup` creates it).
    #[oai(path = "/setup", method = "get", operation_id = "setupStatus")]
    async fn setup_status(&self) -> SetupStatusResult {
        match blocking(&self.state.accounts, |a| a.needs_setup()).await {
            Ok(needed) => SetupStatusResult::Ok(Json(SetupStatus { needed })),
            Err(e) => SetupStatusResult::failed(e),
        }
    }

    /// Creates the first user, an instance administrator, and signs them in. Refused (409) once any user exists.
    #[oai(path = "/setup", method = "post", operation_id = "setup")]
    async fn setup(&self, req: &Request, input: Json<SetupRequest>) -> SessionResult {
        let origin = origin(&self.state, req);
        let SetupRequest { email, password, name } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.setup(&email, &password, &name, origin)).await;
        match result {
            Ok((user, issued)) => match self.caller_of(&user).await {
                Ok(caller) => SessionResult::Created(Json(self.me_view(&user, &caller)), self.cookie(&issued, false)),
                Err(e) => SessionResult::failed(e),
            },
            Err(e) => SessionResult::failed(e),
        }
    }

    /// Signs in with e-mail and password and sets the session cookie. Failed attempts are limited per
    /// account and per client address (429 with `Retry-After`).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(&self, req: &Request, input: Json<LoginRequest>) -> SessionResult {
        let origin = origin(&self.state, req);
        let LoginRequest { email, password, remember } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.login(&email, &password, remember, origin)).await;
        match result {
            Ok((user, issued)) => match self.caller_of(&user).await {
                Ok(caller) => SessionResult::Ok(Json(self.me_view(&user, &caller)), self.cookie(&issued, remember)),
                Err(e) => SessionResult::failed(e),
            },
            Err(e) => SessionResult::failed(e),
        }
    }

    /// Ends the session (if any) and clears the cookie.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, req: &Request) -> LogoutResult {
        if let Some(secret) = session_secret(req) {
            let _ = blocking(&self.state.accounts, move |a| a.logout(&secret)).await;
        }
        LogoutResult::Done(cleared_cookie(&self.state))
    }

    /// The signed-in user and their sites.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: Auth) -> MeResult {
        let caller = match who::<MeResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let Some(id) = caller.principal.user() else {
            return MeResult::forbidden("share links and the operator token have no account".into());
        };
        match blocking(&self.state.accounts, move |a| a.user(id)).await {
            Ok(Some(user)) => MeResult::Ok(Json(self.me_view(&user, &caller))),
            Ok(None) => MeResult::unauthorized(),
            Err(e) => MeResult::failed(e),
        }
    }

    /// Changes your password. Every session of yours ends; this answer carries a new session cookie.
    #[oai(path = "/me/password", method = "put", operation_id = "changePassword")]
    async fn change_password(&self, auth: Auth, req: &Request, input: Json<ChangePassword>) -> SessionResult {
        let caller = match crate::adapters::http::auth::caller(&self.state, &auth).await {
            Ok(c) => c,
            Err(AuthError::Denied(_)) => {
                return SessionResult::Unauthorized(body("unauthorized", crate::adapters::http::guard::UNAUTHORIZED));
            }
            Err(e) => return SessionResult::failed(e),
        };
        let origin = origin(&self.state, req);
        let ChangePassword { current_password, new_password } = input.0;
        let c = caller.clone();
        let result = blocking(&self.state.accounts, move |a| {
            let issued = a.change_password(&c, &current_password, &new_password, origin)?;
            let user = a.user(c.principal.user().expect("personal"))?;
            Ok((issued, user))
        })
        .await;
        match result {
            Ok((issued, Some(user))) => {
                SessionResult::Ok(Json(self.me_view(&user, &caller)), self.cookie(&issued, false))
            }
            Ok((_, None)) => SessionResult::Unauthorized(body("unauthorized", "the account is gone")),
            Err(AuthError::WrongPassword) => {
                SessionResult::BadRequest(body("wrong_password", AuthError::WrongPassword.to_string()))
            }
            Err(AuthError::Denied(_)) => {
                SessionResult::Forbidden(body("forbidden", "only a signed-in person can change their password"))
            }
            Err(e) => SessionResult::failed(e),
        }
    }

    /// All users (instance administrators).
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list_users(&self, auth: Auth) -> UsersResult {
        let caller = match who::<UsersResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        match blocking(&self.state.accounts, move |a| a.users(&caller)).await {
            Ok(users) => UsersResult::Ok(Json(users.iter().map(UserView::from).collect())),
            Err(e) => UsersResult::failed(e),
        }
    }

    /// Grants or revokes instance administration (instance administrators).
    #[oai(path = "/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update_user(&self, auth: Auth, req: &Request, id: Path<u32>, input: Json<UpdateUser>) -> UserResult {
        let caller = match who::<UserResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let origin = origin(&self.state, req);
        let is_admin = input.0.is_admin;
        match blocking(&self.state.accounts, move |a| a.set_admin(&caller, UserId(id.0), is_admin, origin)).await {
            Ok(user) => UserResult::Ok(Json(UserView::from(&user))),
            Err(e) => UserResult::failed(e),
        }
    }

    /// Deletes a user with their memberships, sessions and tokens (instance administrators).
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete_user(&self, auth: Auth, req: &Request, id: Path<u32>) -> DoneResult {
        let caller = match who::<DoneResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let origin = origin(&self.state, req);
        match blocking(&self.state.accounts, move |a| a.delete_user(&caller, UserId(id.0), origin)).await {
            Ok(()) => DoneResult::Ok,
            Err(e) => DoneResult::failed(e),
        }
    }

    /// Invites someone by link: to a site with a role (site owners and admins) or as a user or
    /// administrator of the instance (instance administrators). Pass the returned `url` on.
    #[oai(path = "/invites", method = "post", operation_id = "createInvite")]
    async fn create_invite(&self, auth: Auth, req: &Request, input: Json<CreateInvite>) -> InviteResult {
        let caller = match who::<InviteResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let input = input.0;
        let site = match &input.site {
            None => None,
            Some(domain) => {
                let role = match Role::parse(input.role.as_deref().unwrap_or("viewer")) {
                    Ok(r) => r,
                    Err(e) => return InviteResult::BadRequest(body("invalid_role", e.to_string())),
                };
                match self.site_id(domain) {
                    Some(id) if caller.check(id, crate::domain::accounts::Need::Read).is_ok() => Some((id, role)),
                    _ => return InviteResult::not_found(format!("no site {domain:?}")),
                }
            }
        };
        let origin = origin(&self.state, req);
        let (email, is_admin) = (input.email, input.is_admin);
        match blocking(&self.state.accounts, move |a| a.invite(&caller, &email, is_admin, site, origin)).await {
            Ok((info, secret)) => {
                let mut view = self.invite_view(&info);
                view.url = Some(format!("{}/invite/{secret}", base_url(&self.state, req)));
                view.token = Some(secret);
                InviteResult::Ok(Json(view))
            }
            Err(e) => InviteResult::failed(e),
        }
    }

    /// What an invitation offers (public: the link is the credential).
    #[oai(path = "/invites/:token", method = "get", operation_id = "inviteInfo")]
    async fn invite_info(&self, token: Path<String>) -> InviteInfoResult {
        match blocking(&self.state.accounts, move |a| a.invite_info(&token.0)).await {
            Ok(info) => InviteInfoResult::Ok(Json(self.invite_view(&info))),
            Err(e) => InviteInfoResult::failed(e),
        }
    }

    /// Accepts an invitation: creates the account and signs in.
    #[oai(path = "/invites/:token/accept", method = "post", operation_id = "acceptInvite")]
    async fn accept_invite(&self, req: &Request, token: Path<String>, input: Json<AcceptInvite>) -> SessionResult {
        let origin = origin(&self.state, req);
        let AcceptInvite { password, name } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.accept_invite(&token.0, &password, &name, origin)).await;
        match result {
            Ok((user, issued)) => {
                self.state.accounts.invalidate();
                match self.caller_of(&user).await {
                    Ok(caller) => {
                        SessionResult::Created(Json(self.me_view(&user, &caller)), self.cookie(&issued, false))
                    }
                    Err(e) => SessionResult::failed(e),
                }
            }
            Err(e) => SessionResult::failed(e),
        }
    }

    /// Your API tokens (an instance administrator sees everyone's).
    #[oai(path = "/tokens", method = "get", operation_id = "listTokens")]
    async fn list_tokens(&self, auth: Auth) -> TokensResult {
        let caller = match who::<TokensResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        match blocking(&self.state.accounts, move |a| a.tokens(&caller)).await {
            Ok(tokens) => TokensResult::Ok(Json(tokens.iter().map(|t| self.token_view(t, None)).collect())),
            Err(e) => TokensResult::failed(e),
        }
    }

    /// Creates an API token for chosen sites with read or admin scope; the secret is in this answer only.
    #[oai(path = "/tokens", method = "post", operation_id = "createToken")]
    async fn create_token(&self, auth: Auth, req: &Request, input: Json<CreateToken>) -> TokenResult {
        let caller = match who::<TokenResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let input = input.0;
        let scope = match Scope::parse(input.scope.as_deref().unwrap_or("read")) {
            Ok(s) => s,
            Err(e) => return TokenResult::BadRequest(body("invalid_scope", e.to_string())),
        };
        let mut sites = Vec::new();
        for domain in &input.sites {
            match self.site_id(domain) {
                Some(id) => sites.push(id),
                None => return TokenResult::not_found(format!("no site {domain:?}")),
            }
        }
        let origin = origin(&self.state, req);
        let (name, days) = (input.name, input.expires_in_days);
        match blocking(&self.state.accounts, move |a| a.create_token(&caller, &name, scope, sites, days, origin)).await
        {
            Ok((record, secret)) => TokenResult::Ok(Json(self.token_view(&record, Some(secret)))),
            Err(AuthError::Conflict(m)) => TokenResult::BadRequest(body("invalid_token", m)),
            Err(e) => TokenResult::failed(e),
        }
    }

    /// Revokes an API token at once.
    #[oai(path = "/tokens/:id", method = "delete", operation_id = "revokeToken")]
    async fn revoke_token(&self, auth: Auth, req: &Request, id: Path<u32>) -> DoneResult {
        let caller = match who::<DoneResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let origin = origin(&self.state, req);
        match blocking(&self.state.accounts, move |a| a.revoke_token(&caller, id.0, origin)).await {
            Ok(()) => DoneResult::Ok,
            Err(e) => DoneResult::failed(e),
        }
    }

    /// Opens a share link (public): returns a bearer token that reads the shared site for 12 hours.
    #[oai(path = "/share/:token", method = "post", operation_id = "openShare")]
    async fn open_share(&self, req: &Request, token: Path<String>, input: Json<OpenShare>) -> ShareResult {
        let origin = origin(&self.state, req);
        let password = input.0.password;
        let result = blocking(&self.state.accounts, move |a| a.open_share(&token.0, password.as_deref(), origin)).await;
        match result {
            Ok((share, issued)) => {
                let site = self
                    .state
                    .ingest
                    .sites()
                    .sites()
                    .iter()
                    .find(|s| s.id == share.site)
                    .map(|s| SiteView::with_role(s, Some(Role::Viewer), false));
                match site {
                    Some(site) => ShareResult::Ok(Json(ShareAccess {
                        access_token: issued.secret,
                        site,
                        expires_at: iso(issued.expires_at),
                    })),
                    None => ShareResult::NotFound(body("not_found", "the shared site no longer exists")),
                }
            }
            Err(AuthError::PasswordRequired) => {
                ShareResult::Unauthorized(body("password_required", AuthError::PasswordRequired.to_string()))
            }
            Err(AuthError::WrongPassword) => ShareResult::Unauthorized(body("wrong_password", "the password is wrong")),
            Err(AuthError::RateLimited { retry_after }) => {
                ShareResult::TooManyRequests(body("rate_limited", "too many wrong passwords"), retry_after)
            }
            Err(AuthError::NotFound(m)) => ShareResult::NotFound(body("not_found", m)),
            Err(AuthError::Invalid(e)) => ShareResult::BadRequest(body("invalid_request", e.to_string())),
            Err(e @ AuthError::Busy { retry_after }) => {
                ShareResult::ServiceUnavailable(body("busy", e.to_string()), retry_after)
            }
            Err(e) => ShareResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Security-relevant actions, newest first (instance administrators).
    #[oai(path = "/audit", method = "get", operation_id = "auditLog")]
    async fn audit_log(&self, auth: Auth, limit: Query<Option<u32>>) -> AuditResult {
        let caller = match who::<AuditResult>(&self.state, &auth).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let limit = limit.0.unwrap_or(200).clamp(1, 10_000);
        match blocking(&self.state.accounts, move |a| a.audit_log(&caller, limit)).await {
            Ok(entries) => AuditResult::Ok(Json(entries.iter().map(AuditView::from).collect())),
            Err(e) => AuditResult::failed(e),
        }
    }
}
