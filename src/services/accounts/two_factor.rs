//! Two-factor sign-in: TOTP enrolment (confirmed with a code before it counts), the code step
//! after the password (a short-lived pending token, limited like sign-ins, each code good
//! once), recovery codes, turning it off, and the instance policy that requires it.

#[allow(unused_imports)]
use super::*;
use crate::domain::two_factor::{
    ISSUER, MAX_CODE_BYTES, PENDING_TTL, RECOVERY_CODES, TypedCode, read_code, recovery_code,
};

/// What a correct password leads to.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Signed in.
    Session(Issued),
    /// The account has a second factor: answer with this token, by one of `methods`
    /// (`totp`, `recovery_code`, `passkey`).
    SecondFactor { token: String, expires_at: i64, methods: Vec<&'static str> },
}

/// How long the require-2FA policy is cached (another node may change it).
const POLICY_TTL: i64 = 5 * MICROS_PER_SEC;

/// A sign-in waiting for its second factor.
pub(super) struct Pending {
    user: UserId,
    remember: bool,
}

/// A TOTP secret being enrolled, shown once.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// The `otpauth://` URI (the QR code's content).
    pub uri: String,
}

/// The caller's second factors and the instance's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoFactorStatus {
    pub totp_enabled: bool,
    pub recovery_codes_left: u32,
    /// Registered passkeys (each one signs in alone, or as the second factor).
    pub passkeys: u32,
    /// Instance administrators require two-factor sign-in for everyone.
    pub required: bool,
}

impl AccountService {
    /// Holds a password-checked sign-in until its code arrives.
    pub(super) fn await_second_factor(&self, user: &User, remember: bool, methods: Vec<&'static str>) -> SignIn {
        let token = self.secrets.secret();
        let now = self.now();
        let expires_at = now + PENDING_TTL;
        self.pending.insert(secret_digest(&token), Pending { user: user.id, remember }, expires_at, now);
        SignIn::SecondFactor { token, expires_at, methods }
    }

    /// The second factors `user` can sign in with (empty: the password is enough).
    pub(super) fn second_factor_methods(&self, user: UserId) -> Result<Vec<&'static str>, AuthError> {
        let mut methods = Vec::new();
        if self.store.totp(user)?.is_some_and(|t| t.confirmed) {
            methods.extend(["totp", "recovery_code"]);
        }
        if !self.store.passkeys(user)?.is_empty() {
            methods.push("passkey");
        }
        Ok(methods)
    }

    /// The account and "remember me" of a sign-in waiting for its second factor.
    pub(super) fn pending_sign_in(&self, digest: &[u8; 32]) -> Result<(User, bool), AuthError> {
        let (id, remember) =
            self.pending.read(digest, self.now(), |p| (p.user, p.remember)).ok_or(AuthError::SignInExpired)?;
        Ok((self.store.user(id)?.ok_or(AuthError::SignInExpired)?, remember))
    }

    /// Ends a sign-in whose second factor was right: the pending token is used up.
    pub(super) fn finish_pending(
        &self,
        digest: &[u8; 32],
        user: &User,
        remember: bool,
        origin: Origin,
        action: &str,
    ) -> Result<Issued, AuthError> {
        self.pending.remove(digest);
        self.signed_in_from(user, origin);
        self.finish_login(user, remember, origin, action)
    }

    /// The second step of a sign-in: an authenticator or recovery code for the pending token.
    /// Wrong codes count against the account and the client network like wrong passwords.
    pub fn complete_login(&self, token: &str, code: &str, origin: Origin) -> Result<(User, Issued), AuthError> {
        check_length("code", code, MAX_CODE_BYTES)?;
        let digest = secret_digest(token);
        let (user, remember) = self.pending_sign_in(&digest)?;
        self.check_code(&user, code, origin)?;
        let issued = self.finish_pending(&digest, &user, remember, origin, "login")?;
        Ok((user, issued))
    }

    /// Checks a code of `user` under the sign-in limits (per account and client network).
    fn check_code(&self, user: &User, code: &str, origin: Origin) -> Result<(), AuthError> {
        let window = self.limits.window_secs * MICROS_PER_SEC;
        let ip_key = format!("ip:{}", client_network(origin.ip));
        let key = format!("second-factor:{}", user.id.0);
        let buckets = [(ip_key.as_str(), self.limits.per_ip), (key.as_str(), self.limits.per_account)];
        self.limiter()
            .reserve(&buckets, window, self.now())
            .map_err(|retry_after| AuthError::RateLimited { retry_after })?;
        let ok = self.code_matches(user, code, origin);
        if !matches!(ok, Ok(false)) {
            let mut limiter = self.limiter();
            limiter.refund(&ip_key);
            limiter.clear(&key);
        }
        if !ok? {
            self.audit(&format!("user:{}", user.id.0), "second_factor_failed", user.email.as_str(), Some(origin));
            return Err(AuthError::WrongCode);
        }
        Ok(())
    }

    /// Whether `code` is a fresh authenticator code or an unused recovery code (using it up).
    fn code_matches(&self, user: &User, code: &str, origin: Origin) -> Result<bool, AuthError> {
        match read_code(code) {
            TypedCode::Totp(code) => {
                let Some(secret) = self.totp_secret(user.id, true)? else { return Ok(false) };
                let Some(step) = self.factors.codes.matching_step(&secret, &code, self.unix_secs()) else {
                    return Ok(false);
                };
                Ok(self.store.use_totp_step(user.id, step)?)
            }
            TypedCode::Recovery(code) => {
                let used = self.store.use_recovery_code(user.id, &secret_digest(&code), self.now())?;
                if used {
                    let actor = format!("user:{}", user.id.0);
                    self.audit(&actor, "recovery_code_used", user.email.as_str(), Some(origin));
                }
                Ok(used)
            }
        }
    }

    fn unix_secs(&self) -> u64 {
        u64::try_from(self.now() / MICROS_PER_SEC).unwrap_or(0)
    }

    /// The user's TOTP secret, opened; `confirmed` asks for an active one (else a pending one).
    fn totp_secret(&self, user: UserId, confirmed: bool) -> Result<Option<Vec<u8>>, AuthError> {
        let Some(record) = self.store.totp(user)?.filter(|t| t.confirmed == confirmed) else { return Ok(None) };
        let secret = self.factors.cipher.open(&record.sealed);
        if secret.is_none() {
            tracing::error!(user = user.0, "a TOTP secret cannot be opened: was --secret-key changed?");
        }
        Ok(secret)
    }

    /// Starts TOTP enrolment: a new secret, shown once; it counts after [`Self::confirm_totp`].
    pub fn begin_totp(&self, caller: &Caller) -> Result<TotpEnrolment, AuthError> {
        let id = personal(&caller.principal)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        let secret = self.factors.codes.new_secret();
        if !self.store.begin_totp(id, &self.factors.cipher.seal(&secret), self.now())? {
            return Err(AuthError::Conflict("two-factor sign-in is already on; turn it off first"));
        }
        Ok(TotpEnrolment {
            secret: self.factors.codes.display_secret(&secret),
            uri: self.factors.codes.uri(&secret, ISSUER, user.email.as_str()),
        })
    }

    /// Turns TOTP on with a first code from the app; returns the recovery codes (shown once).
    pub fn confirm_totp(&self, caller: &Caller, code: &str, origin: Origin) -> Result<Vec<String>, AuthError> {
        let id = personal(&caller.principal)?;
        check_length("code", code, MAX_CODE_BYTES)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        let secret = self.totp_secret(id, false)?.ok_or(AuthError::NotFound("no enrolment in progress"))?;
        let TypedCode::Totp(code) = read_code(code) else { return Err(AuthError::WrongCode) };
        let step = self.factors.codes.matching_step(&secret, &code, self.unix_secs()).ok_or(AuthError::WrongCode)?;
        let (codes, digests) = self.new_recovery_codes();
        if !self.store.confirm_totp(id, step, &digests)? {
            return Err(AuthError::NotFound("no enrolment in progress"));
        }
        self.audit(&caller.principal.actor(), "totp_enrolled", user.email.as_str(), Some(origin));
        Ok(codes)
    }

    fn new_recovery_codes(&self) -> (Vec<String>, Vec<[u8; 32]>) {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| recovery_code(blake3::hash(self.secrets.secret().as_bytes()).as_bytes()))
            .collect();
        let digests = codes.iter().map(|c| secret_digest(&c.replace('-', ""))).collect();
        (codes, digests)
    }

    /// Checks the caller's password for a change to their second factors.
    fn recheck_password(&self, user: &User, password: &str) -> Result<(), AuthError> {
        check_length("password", password, MAX_PASSWORD_BYTES)?;
        if !self.verify(password, &user.password_hash)? {
            return Err(AuthError::WrongPassword);
        }
        Ok(())
    }

    /// Turns two-factor sign-in off; needs the password and a code (or a recovery code).
    pub fn disable_totp(&self, caller: &Caller, password: &str, code: &str, origin: Origin) -> Result<(), AuthError> {
        let id = personal(&caller.principal)?;
        check_length("code", code, MAX_CODE_BYTES)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        if !self.store.totp(id)?.is_some_and(|t| t.confirmed) {
            return Err(AuthError::NotFound("two-factor sign-in is off"));
        }
        self.recheck_password(&user, password)?;
        self.check_code(&user, code, origin)?;
        self.store.remove_second_factors(id)?;
        self.audit(&caller.principal.actor(), "totp_disabled", user.email.as_str(), Some(origin));
        Ok(())
    }

    /// Replaces the caller's recovery codes (the old ones stop working); needs the password.
    pub fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        password: &str,
        origin: Origin,
    ) -> Result<Vec<String>, AuthError> {
        let id = personal(&caller.principal)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        if !self.store.totp(id)?.is_some_and(|t| t.confirmed) {
            return Err(AuthError::NotFound("two-factor sign-in is off"));
        }
        self.recheck_password(&user, password)?;
        let (codes, digests) = self.new_recovery_codes();
        self.store.replace_recovery_codes(id, &digests)?;
        self.audit(&caller.principal.actor(), "recovery_codes_regenerated", user.email.as_str(), Some(origin));
        Ok(codes)
    }

    /// The caller's second factors, and whether the instance requires one.
    pub fn two_factor_status(&self, caller: &Caller) -> Result<TwoFactorStatus, AuthError> {
        let id = personal(&caller.principal)?;
        Ok(TwoFactorStatus {
            totp_enabled: self.store.totp(id)?.is_some_and(|t| t.confirmed),
            recovery_codes_left: self.store.recovery_codes_left(id)?,
            passkeys: u32::try_from(self.store.passkeys(id)?.len()).unwrap_or(u32::MAX),
            required: self.store.two_factor_required()?,
        })
    }

    /// Whether the session `secret` is of someone the require-2FA policy sends to enrolment:
    /// the policy is on and they have neither an authenticator app nor a passkey.
    pub fn must_enrol(&self, secret: &str) -> Result<bool, AuthError> {
        if !self.policy_requires_two_factor()? {
            return Ok(false);
        }
        let Some(caller) = self.by_session(secret)? else { return Ok(false) };
        let Some(user) = caller.principal.user() else { return Ok(false) };
        Ok(self.second_factor_methods(user)?.is_empty())
    }

    /// The policy, read at most every few seconds (every API call of a session asks).
    fn policy_requires_two_factor(&self) -> Result<bool, AuthError> {
        let now = self.now();
        let mut cached = self.policy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((required, until)) = *cached
            && now < until
        {
            return Ok(required);
        }
        let required = self.store.two_factor_required()?;
        *cached = Some((required, now + POLICY_TTL));
        Ok(required)
    }

    /// Whether everyone must sign in with a second factor (readable by any signed-in caller).
    pub fn two_factor_required(&self) -> Result<bool, AuthError> {
        Ok(self.store.two_factor_required()?)
    }

    /// Requires (or stops requiring) two-factor sign-in for everyone; instance administrators only.
    pub fn set_two_factor_required(&self, caller: &Caller, required: bool, origin: Origin) -> Result<(), AuthError> {
        instance_admin(&caller.principal)?;
        self.store.set_two_factor_required(required)?;
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = Some((required, self.now() + POLICY_TTL));
        let target = format!("two_factor_required={required}");
        self.audit(&caller.principal.actor(), "policy_changed", &target, Some(origin));
        Ok(())
    }

    /// Removes a user's second factors from the command line (a locked-out owner); `false` when
    /// they had none.
    pub fn reset_two_factor(&self, email: &str) -> Result<bool, AuthError> {
        let email = Email::parse(email)?;
        let user = self.store.user_by_email(&email)?.ok_or(AuthError::NotFound("no such user"))?;
        let removed = self.store.remove_second_factors(user.id)? | (self.store.remove_passkeys(user.id)? > 0);
        if removed {
            self.audit("cli", "two_factor_reset", email.as_str(), None);
        }
        Ok(removed)
    }
}
