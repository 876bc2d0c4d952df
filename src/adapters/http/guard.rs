//! The error answers every `/api` response type shares, and the checks that open each handler:
//! resolve the caller, find the site, decide the call.

use super::AppState;
use super::auth::{Auth, caller};
use crate::domain::accounts::{Denied, Need};
use crate::domain::auth::{AuthError, Caller};
use crate::domain::site::{Site, SiteDomain};
use crate::services::sites::SiteServiceError;

pub const UNAUTHORIZED: &str = "sign in (session cookie) or send Authorization: Bearer <API token>";
pub const FORBIDDEN: &str = "your role on this site or your token's scope does not allow this";

/// The error answers of an `/api` response type.
pub trait ErrorAnswers: Sized {
    fn unauthorized() -> Self;
    fn forbidden(message: String) -> Self;
    fn not_found(message: String) -> Self;
    fn internal(message: String) -> Self;
    /// The answer to a service's refusal, as its `ApiFailure` maps it.
    fn failure(answer: Answer) -> Self;

    /// A request poem-openapi could not extract: 401 when credentials are missing, else `other`.
    fn refused(err: poem::Error, other: impl FnOnce(poem::Error) -> Self) -> Self {
        if err.status() == poem::http::StatusCode::UNAUTHORIZED { Self::unauthorized() } else { other(err) }
    }

    fn denied(d: Denied, what: &str) -> Self {
        match d {
            Denied::Unauthenticated => Self::unauthorized(),
            Denied::Forbidden => Self::forbidden(FORBIDDEN.into()),
            Denied::NotFound => Self::not_found(what.to_string()),
        }
    }

    /// Storage failures and refusals that every operation can meet.
    fn auth_failed(e: AuthError) -> Self {
        match e {
            AuthError::Denied(d) => Self::denied(d, "not found"),
            other => Self::internal(other.to_string()),
        }
    }
}

/// A refusal that needs no answer: for checks whose caller only asks "still allowed?".
pub struct Refused;

impl ErrorAnswers for Refused {
    fn unauthorized() -> Self {
        Refused
    }
    fn forbidden(_: String) -> Self {
        Refused
    }
    fn not_found(_: String) -> Self {
        Refused
    }
    fn internal(_: String) -> Self {
        Refused
    }
    fn failure(_: Answer) -> Self {
        Refused
    }
}

/// How a refusal answers at `/api`: a status with the `error` code and message of its body.
pub enum Answer {
    BadRequest(&'static str, String),
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    Conflict(&'static str, String),
    Internal(String),
}

/// A service error that knows its answer; every `/api` response type maps it the same way.
pub trait ApiFailure {
    fn answer(self) -> Answer;
}

impl ApiFailure for Denied {
    fn answer(self) -> Answer {
        match self {
            Denied::Unauthenticated => Answer::Unauthorized,
            Denied::Forbidden => Answer::Forbidden(FORBIDDEN.into()),
            Denied::NotFound => Answer::NotFound("not found".into()),
        }
    }
}

impl ApiFailure for AuthError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            AuthError::Invalid(_) => Answer::BadRequest("invalid_request", message),
            AuthError::WrongPassword => Answer::BadRequest("wrong_password", message),
            AuthError::WrongCode => Answer::BadRequest("wrong_code", message),
            AuthError::PasskeyRefused => Answer::BadRequest("passkey_refused", message),
            AuthError::SignInExpired => Answer::BadRequest("sign_in_expired", message),
            AuthError::EmailTaken | AuthError::AlreadySetUp | AuthError::Conflict(_) => {
                Answer::Conflict("conflict", message)
            }
            AuthError::NotFound(m) => Answer::NotFound(m.into()),
            AuthError::Denied(d) => d.answer(),
            _ => Answer::Internal(message),
        }
    }
}

impl ApiFailure for crate::ports::store::StoreError {
    fn answer(self) -> Answer {
        Answer::Internal(self.to_string())
    }
}

impl ApiFailure for SiteServiceError {
    fn answer(self) -> Answer {
        let message = self.to_string();
        match self {
            SiteServiceError::Invalid(_) => Answer::BadRequest("invalid_site", message),
            SiteServiceError::CreateForbidden => Answer::Forbidden(message),
            SiteServiceError::HostTaken(_) => Answer::Conflict("host_taken", message),
            SiteServiceError::Account(e) => e.answer(),
        }
    }
}

/// The caller, or the answer refusing them.
pub async fn who<R: ErrorAnswers>(state: &AppState, auth: &Auth) -> Result<Caller, R> {
    caller(state, auth).await.map_err(R::auth_failed)
}

/// The site a call names if the caller may do `need` with it; 404 alike for a missing site and
/// one the caller may not see.
pub async fn site_for<R: ErrorAnswers>(
    state: &AppState,
    auth: &Auth,
    domain: &str,
    need: Need,
) -> Result<(Site, Caller), R> {
    let caller = who::<R>(state, auth).await?;
    let missing = || R::not_found(format!("no site {domain:?}"));
    let site = SiteDomain::parse(domain)
        .ok()
        .and_then(|d| state.ingest.sites().by_domain(&d).map(|s| Site::clone(s)))
        .ok_or_else(missing)?;
    match caller.check(site.id, need) {
        Ok(()) => Ok((site, caller)),
        Err(Denied::NotFound) => Err(missing()),
        Err(d) => Err(R::denied(d, "")),
    }
}

/// A service's answer: `ok` with its result, or the one mapping of its refusal.
pub fn answer<R: ErrorAnswers, T, E: ApiFailure>(result: Result<T, E>, ok: impl FnOnce(T) -> R) -> R {
    result.map_or_else(|e| R::failure(e.answer()), ok)
}

/// One call on a site: the access check (`need`), the service call with the site and the
/// caller, and its answer: `ok` with the result, or the one mapping of the refusal.
pub async fn on_site<R: ErrorAnswers, T, E: ApiFailure, F: std::future::Future<Output = Result<T, E>>>(
    state: &AppState,
    (auth, domain, need): (&Auth, &str, Need),
    call: impl FnOnce(Site, Caller) -> F,
    ok: impl FnOnce(T) -> R,
) -> R {
    match site_for::<R>(state, auth, domain, need).await {
        Ok((site, caller)) => answer(call(site, caller).await, ok),
        Err(denied) => denied,
    }
}

/// The site and caller, for reports a segment cannot narrow (funnels, Web Vitals, realtime):
/// refused (403) to a share link limited to a segment, which must not see more than the
/// segment's visitors.
pub async fn unsegmented<R: ErrorAnswers>(state: &AppState, auth: &Auth, domain: &str) -> Result<(Site, Caller), R> {
    let (site, caller) = site_for::<R>(state, auth, domain, Need::Read).await?;
    match caller.principal {
        crate::domain::accounts::Principal::Share { segment: Some(_), .. } => {
            Err(R::forbidden("this share link is limited to a segment; this report cannot be narrowed to it".into()))
        }
        _ => Ok((site, caller)),
    }
}

/// [`unsegmented`] for handlers that need only the site.
pub async fn unsegmented_site<R: ErrorAnswers>(state: &AppState, auth: &Auth, domain: &str) -> Result<Site, R> {
    unsegmented::<R>(state, auth, domain).await.map(|(site, _)| site)
}

/// `?` for handlers that return their answer itself: the `Ok` value, or return the `Err` (already
/// the refusal to answer with).
#[macro_export]
macro_rules! or_return {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(answer) => return answer,
        }
    };
}

/// Declares an `/api` response enum with every shared error answer: the success variant `Ok` with
/// the given status and payload (or `204` without one), then 400/401/403/404/409/500.
#[macro_export]
macro_rules! api_result {
    ($(#[$doc:meta])* $name:ident, $status:tt $(, $ok:ty)?) => {
        $crate::api_answers! {
            $(#[$doc])*
            pub enum $name {
                /// Done.
                Ok($status $(, $ok)?),
                BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Internal,
            }
        }
    };
}
