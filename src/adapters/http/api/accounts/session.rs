//! Setup, sign-in and sign-out, and the caller's own account.

#![allow(unused_imports)]

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::views::*;
use super::*;

crate::api_answers! {
    /// Answers that start a session.
    pub enum SessionResult {
        /// Signed in: the session cookie is set.
        Ok(200, Json<MeView>, #[oai(header = "Set-Cookie")] String),
        /// Created and signed in.
        Created(201, Json<MeView>, #[oai(header = "Set-Cookie")] String),
        /// Invalid input.
        BadRequest,
        /// Wrong e-mail or password.
        Unauthorized,
        /// Share links and tokens cannot do this.
        Forbidden,
        /// Not available.
        NotFound,
        /// Already set up, or the e-mail is taken.
        Conflict,
        /// Too many failed attempts; retry after `Retry-After` seconds.
        TooManyRequests,
        Internal,
        /// Too many password checks at once (`busy`); retry after `Retry-After` seconds.
        ServiceUnavailable(503, Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    }
}

crate::api_answers! {
    /// Answers of the password sign-in.
    pub enum LoginResult {
        /// Signed in: the session cookie is set.
        Ok(200, Json<MeView>, #[oai(header = "Set-Cookie")] String),
        /// The password is right and the account has a second factor: send a code with the token
        /// to `POST /api/auth/login/code`. No session yet.
        SecondFactor(202, Json<SecondFactorChallenge>),
        BadRequest,
        /// Wrong e-mail or password.
        Unauthorized,
        /// Too many failed attempts; retry after `Retry-After` seconds.
        TooManyRequests,
        Internal,
        /// Too many password checks at once (`busy`); retry after `Retry-After` seconds.
        ServiceUnavailable(503, Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    }
}

impl From<SessionResult> for LoginResult {
    fn from(r: SessionResult) -> Self {
        match r {
            SessionResult::Ok(me, cookie) | SessionResult::Created(me, cookie) => Self::Ok(me, cookie),
            SessionResult::BadRequest(b) => Self::BadRequest(b),
            SessionResult::Unauthorized(b) => Self::Unauthorized(b),
            SessionResult::TooManyRequests(b, after) => Self::TooManyRequests(b, after),
            SessionResult::ServiceUnavailable(b, after) => Self::ServiceUnavailable(b, after),
            SessionResult::Forbidden(b) | SessionResult::NotFound(b) | SessionResult::Conflict(b) => {
                Self::Unauthorized(b)
            }
            SessionResult::Internal(b) => Self::Internal(b),
        }
    }
}

impl SessionResult {
    pub(super) fn signin_failed(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(e) => Self::BadRequest(body("invalid_request", e.to_string())),
            AuthError::BadCredentials => Self::Unauthorized(body("bad_credentials", e.to_string())),
            AuthError::WrongCode => Self::Unauthorized(body("wrong_code", e.to_string())),
            AuthError::SignInExpired => Self::Unauthorized(body("sign_in_expired", e.to_string())),
            AuthError::PasskeyRefused => Self::Unauthorized(body("passkey_refused", e.to_string())),
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

crate::api_part!(
    /// Setup, sign-in and the caller's account.
    SessionApi, AccountsApi
);

impl SessionApi {
    /// The answer of a finished sign-in: the account and the session cookie.
    async fn signed_in(&self, user: &User, issued: &Issued, remember: bool) -> SessionResult {
        match self.caller_of(user).await {
            Ok(caller) => SessionResult::Ok(Json(self.me_view(user, &caller)), self.cookie(issued, remember)),
            Err(e) => SessionResult::signin_failed(e),
        }
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl SessionApi {
    /// Whether the instance needs its first user (then `POST /api/setup` creates it).
    #[oai(path = "/setup", method = "get", operation_id = "setupStatus")]
    async fn setup_status(&self) -> SetupStatusResult {
        answer(blocking(&self.state.accounts, |a| a.needs_setup()).await, |needed| {
            SetupStatusResult::Ok(Json(SetupStatus { needed }))
        })
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
                Err(e) => SessionResult::signin_failed(e),
            },
            Err(e) => SessionResult::signin_failed(e),
        }
    }

    /// Signs in with e-mail and password and sets the session cookie. Failed attempts are limited per
    /// account and per client address (429 with `Retry-After`).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(&self, req: &Request, input: Json<LoginRequest>) -> LoginResult {
        let origin = origin(&self.state, req);
        let LoginRequest { email, password, remember } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.login(&email, &password, remember, origin)).await;
        match result {
            Ok((user, SignIn::Session(issued))) => self.signed_in(&user, &issued, remember).await.into(),
            Ok((_, SignIn::SecondFactor { token, expires_at, methods })) => {
                let methods = methods.into_iter().map(String::from).collect();
                LoginResult::SecondFactor(Json(SecondFactorChallenge { token, expires_at: iso(expires_at), methods }))
            }
            Err(e) => SessionResult::signin_failed(e).into(),
        }
    }

    /// The second sign-in step: a code from the authenticator app (or a recovery code) for the
    /// token of a `202` sign-in answer; sets the session cookie. Wrong codes count against the
    /// account and client address like wrong passwords (429 with `Retry-After`); a code is good once.
    #[oai(path = "/auth/login/code", method = "post", operation_id = "loginCode")]
    async fn login_code(&self, req: &Request, input: Json<LoginCodeRequest>) -> SessionResult {
        let origin = origin(&self.state, req);
        let LoginCodeRequest { token, code, remember } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.complete_login(&token, &code, origin)).await;
        match result {
            Ok((user, issued)) => self.signed_in(&user, &issued, remember).await,
            Err(e) => SessionResult::signin_failed(e),
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
        let caller = crate::or_return!(who::<MeResult>(&self.state, &auth).await);
        let Some(id) = caller.principal.user() else {
            return MeResult::forbidden("share links and the operator token have no account".into());
        };
        match blocking(&self.state.accounts, move |a| a.user(id)).await {
            Ok(Some(user)) => MeResult::Ok(Json(self.me_view(&user, &caller))),
            Ok(None) => MeResult::unauthorized(),
            Err(e) => MeResult::failed(e),
        }
    }

    /// Changes your account settings: the language of the dashboard and of your e-mail reports.
    #[oai(path = "/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(&self, auth: Auth, input: Json<UpdateMe>) -> MeResult {
        let caller = crate::or_return!(who::<MeResult>(&self.state, &auth).await);
        let (c, language) = (caller.clone(), input.0.language);
        answer(blocking(&self.state.accounts, move |a| a.set_language(&c, &language)).await, |user| {
            MeResult::Ok(Json(self.me_view(&user, &caller)))
        })
    }

    /// Changes your password. Every session of yours ends; this answer carries a new session cookie.
    #[oai(path = "/me/password", method = "put", operation_id = "changePassword")]
    async fn change_password(&self, auth: Auth, req: &Request, input: Json<ChangePassword>) -> SessionResult {
        let caller = match crate::adapters::http::auth::caller(&self.state, &auth).await {
            Ok(c) => c,
            Err(AuthError::Denied(_)) => {
                return SessionResult::Unauthorized(body("unauthorized", crate::adapters::http::guard::UNAUTHORIZED));
            }
            Err(e) => return SessionResult::signin_failed(e),
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
            Err(e) => SessionResult::signin_failed(e),
        }
    }
}
