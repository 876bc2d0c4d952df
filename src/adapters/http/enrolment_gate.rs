//! The require-2FA policy at the API: while instance administrators require a second factor, a
//! session of someone without one reaches only what enrolling needs (their account, the
//! two-factor and passkey routes, sign-in and sign-out); everything else answers 403
//! `two_factor_required`. API tokens are not sessions and are unaffected.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, Request, Result};

use super::AppState;
use super::auth::{bearer_token, session_secret};
use super::errors::json_error;

/// Paths a session must reach to enrol, and the public ones (they do not read the session: an
/// invitation or share link opened in a browser that has one); the full path, under `/api`.
fn enrolment_path(path: &str) -> bool {
    const EXACT: [&str; 3] = ["/api/me", "/api/me/password", "/api/setup"];
    const UNDER: [&str; 5] = ["/api/auth/", "/api/me/two-factor", "/api/me/passkeys", "/api/invites/", "/api/share/"];
    EXACT.contains(&path) || UNDER.iter().any(|p| path.starts_with(p))
}

unit_middleware! {
    /// See the module documentation.
    EnrolmentGate => EnrolmentGateEndpoint
}

/// Whether the request's session belongs to someone the policy sends to enrolment.
async fn must_enrol(req: &Request) -> bool {
    // A bearer credential wins over the cookie (as in `auth::caller`).
    if bearer_token(req).is_some() || enrolment_path(req.original_uri().path()) {
        return false;
    }
    let (Some(state), Some(secret)) = (req.data::<Arc<AppState>>(), session_secret(req)) else { return false };
    let accounts = state.accounts.clone();
    let checked = tokio::task::spawn_blocking(move || accounts.must_enrol(&secret)).await;
    matches!(checked, Ok(Ok(true)))
}

impl<E: Endpoint> Endpoint for EnrolmentGateEndpoint<E> {
    type Output = poem::Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if must_enrol(&req).await {
            let message = "this instance requires two-factor sign-in: add an authenticator app or a passkey first";
            return Ok(json_error(StatusCode::FORBIDDEN, "two_factor_required", message, None));
        }
        self.0.call(req).await.map(poem::IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::enrolment_path;

    #[test]
    fn enrolment_reaches_only_the_account_and_its_second_factors() {
        let open = ["/api/me", "/api/me/two-factor/totp", "/api/me/passkeys/3", "/api/auth/logout", "/api/setup"];
        for open in open.into_iter().chain(["/api/invites/abc/accept", "/api/share/abc"]) {
            assert!(enrolment_path(open), "{open}");
        }
        for closed in ["/api/sites", "/api/invites", "/api/tokens", "/api/users", "/api/security-policy", "/api/meh"] {
            assert!(!enrolment_path(closed), "{closed}");
        }
    }
}
