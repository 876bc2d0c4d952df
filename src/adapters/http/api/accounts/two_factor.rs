//! Two-factor sign-in of the caller's own account (TOTP enrolment, recovery codes, turning it
//! off) and the instance policy that requires it.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::*;
use crate::services::accounts::{TotpEnrolment, TwoFactorStatus};

/// The caller's second factors.
#[derive(Object)]
pub struct TwoFactorView {
    /// An authenticator app's codes are asked for at sign-in.
    pub totp_enabled: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Registered passkeys (a passkey counts as a second factor).
    pub passkeys: u32,
    /// Instance administrators require two-factor sign-in: without it, enrol now.
    pub required: bool,
}

impl From<TwoFactorStatus> for TwoFactorView {
    fn from(s: TwoFactorStatus) -> Self {
        Self {
            totp_enabled: s.totp_enabled,
            recovery_codes_left: s.recovery_codes_left,
            passkeys: s.passkeys,
            required: s.required,
        }
    }
}

/// A new authenticator secret, shown once; it counts after `POST /api/me/two-factor/totp/confirm`.
#[derive(Object)]
pub struct TotpEnrolmentView {
    /// Base32, to type into an authenticator app.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code of `uri` as an SVG document.
    pub qr_svg: String,
}

/// A code from the authenticator app.
#[derive(Object)]
pub struct TotpConfirm {
    pub code: String,
}

/// Turning two-factor sign-in off: the password and a code (or a recovery code).
#[derive(Object)]
pub struct TotpDisable {
    pub password: String,
    pub code: String,
}

/// The account password, for a change to second factors.
#[derive(Object)]
pub struct PasswordCheck {
    pub password: String,
}

/// New single-use recovery codes, shown once (each signs in once in place of an app code).
#[derive(Object)]
pub struct RecoveryCodesView {
    pub codes: Vec<String>,
}

/// Instance-wide sign-in policy.
#[derive(Object)]
pub struct SecurityPolicy {
    /// Everyone must sign in with a second factor; people without one are sent to enrol.
    pub two_factor_required: bool,
}

crate::api_result!(TwoFactorResult, 200, Json<TwoFactorView>);
crate::api_result!(PolicyResult, 200, Json<SecurityPolicy>);
crate::api_result!(EnrolmentResult, 201, Json<TotpEnrolmentView>);

crate::api_answers! {
    /// Answers that check a code or the password.
    pub enum CodesResult {
        /// Done; the recovery codes are shown only now.
        Ok(200, Json<RecoveryCodesView>),
        /// Invalid input, a wrong code (`wrong_code`) or password (`wrong_password`).
        BadRequest,
        Unauthorized, Forbidden, NotFound, Conflict,
        /// Too many wrong codes; retry after `Retry-After` seconds.
        TooManyRequests,
        Internal,
    }
}

crate::api_answers! {
    /// Answers of turning two-factor sign-in off.
    pub enum DisableResult {
        /// Two-factor sign-in is off; the recovery codes are void.
        Done(204),
        /// Invalid input, a wrong code (`wrong_code`) or password (`wrong_password`).
        BadRequest,
        Unauthorized, Forbidden, NotFound,
        /// Too many wrong codes; retry after `Retry-After` seconds.
        TooManyRequests,
        Internal,
    }
}

/// The QR code of `text` as SVG (an otpauth URI always fits).
fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
        .unwrap_or_default()
}

impl From<TotpEnrolment> for TotpEnrolmentView {
    fn from(e: TotpEnrolment) -> Self {
        let qr_svg = qr_svg(&e.uri);
        Self { secret: e.secret, uri: e.uri, qr_svg }
    }
}

/// 429 for too many wrong codes, else the shared mapping.
macro_rules! limited {
    ($result:ident, $e:expr) => {
        match $e {
            AuthError::RateLimited { retry_after } => {
                $result::TooManyRequests(body("rate_limited", "too many wrong codes"), retry_after)
            }
            other => $result::failed(other),
        }
    };
}

crate::api_part!(
    /// Two-factor sign-in and the sign-in policy.
    TwoFactorApi, AccountsApi
);

impl TwoFactorApi {
    /// Account work that answers new recovery codes (shown only now); wrong codes count
    /// towards the rate limit.
    async fn new_codes(
        &self,
        auth: &Auth,
        work: impl FnOnce(&AccountService, Caller) -> Result<Vec<String>, AuthError> + Send + 'static,
    ) -> CodesResult {
        let ok = |codes| CodesResult::Ok(Json(RecoveryCodesView { codes }));
        as_caller_or(&self.state, auth, work, |e| limited!(CodesResult, e), ok).await
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl TwoFactorApi {
    /// Your second factors, and whether the instance requires one.
    #[oai(path = "/me/two-factor", method = "get", operation_id = "twoFactorStatus")]
    async fn status(&self, auth: Auth) -> TwoFactorResult {
        let work = move |a: &AccountService, caller| a.two_factor_status(&caller);
        as_caller(&self.state, &auth, work, |status| TwoFactorResult::Ok(Json(status.into()))).await
    }

    /// Starts enrolling an authenticator app: a new secret and its QR code, shown once. Sign-in
    /// asks for codes only after a code confirms it. Refused (409) while one is on.
    #[oai(path = "/me/two-factor/totp", method = "post", operation_id = "beginTotp")]
    async fn begin(&self, auth: Auth) -> EnrolmentResult {
        let work = move |a: &AccountService, caller| a.begin_totp(&caller);
        as_caller(&self.state, &auth, work, |enrolment| EnrolmentResult::Ok(Json(enrolment.into()))).await
    }

    /// Turns two-factor sign-in on with a first code from the app; answers 10 single-use recovery
    /// codes, shown only now.
    #[oai(path = "/me/two-factor/totp/confirm", method = "post", operation_id = "confirmTotp")]
    async fn confirm(&self, auth: Auth, req: &Request, input: Json<TotpConfirm>) -> CodesResult {
        let origin = origin(&self.state, req);
        let code = input.0.code;
        self.new_codes(&auth, move |a, caller| a.confirm_totp(&caller, &code, origin)).await
    }

    /// Turns two-factor sign-in off (needs the password and a code or recovery code).
    #[oai(path = "/me/two-factor/totp/disable", method = "post", operation_id = "disableTotp")]
    async fn disable(&self, auth: Auth, req: &Request, input: Json<TotpDisable>) -> DisableResult {
        let origin = origin(&self.state, req);
        let TotpDisable { password, code } = input.0;
        let work = move |a: &AccountService, caller| a.disable_totp(&caller, &password, &code, origin);
        as_caller_or(&self.state, &auth, work, |e| limited!(DisableResult, e), |()| DisableResult::Done).await
    }

    /// Replaces your recovery codes (the old ones stop working); needs the password.
    #[oai(path = "/me/two-factor/recovery-codes", method = "post", operation_id = "regenerateRecoveryCodes")]
    async fn regenerate(&self, auth: Auth, req: &Request, input: Json<PasswordCheck>) -> CodesResult {
        let origin = origin(&self.state, req);
        let password = input.0.password;
        self.new_codes(&auth, move |a, caller| a.regenerate_recovery_codes(&caller, &password, origin)).await
    }

    /// The instance's sign-in policy (instance administrators).
    #[oai(path = "/security-policy", method = "get", operation_id = "securityPolicy")]
    async fn policy(&self, auth: Auth) -> PolicyResult {
        let caller = crate::or_return!(who::<PolicyResult>(&self.state, &auth).await);
        if let Err(d) = crate::domain::accounts::instance_admin(&caller.principal) {
            return PolicyResult::failed(d);
        }
        answer(blocking(&self.state.accounts, |a| a.two_factor_required()).await, |two_factor_required| {
            PolicyResult::Ok(Json(SecurityPolicy { two_factor_required }))
        })
    }

    /// Requires (or stops requiring) two-factor sign-in for everyone (instance administrators).
    #[oai(path = "/security-policy", method = "put", operation_id = "setSecurityPolicy")]
    async fn set_policy(&self, auth: Auth, req: &Request, input: Json<SecurityPolicy>) -> PolicyResult {
        let origin = origin(&self.state, req);
        let required = input.0.two_factor_required;
        let work = move |a: &AccountService, caller| a.set_two_factor_required(&caller, required, origin);
        as_caller(&self.state, &auth, work, |()| {
            PolicyResult::Ok(Json(SecurityPolicy { two_factor_required: required }))
        })
        .await
    }
}
