//! Password checks of the account service: sign-in and share-link passwords under the
//! failed-attempt limits, and the bounded slots every argon2 run takes.

use super::{
    AccountService, AuthError, Email, Issued, MAX_PASSWORD_BYTES, MICROS_PER_SEC, Origin, SHARE_ACCESS_TTL, SignIn,
    check_length, client_network, secret_digest,
};
use crate::domain::accounts::MAX_EMAIL_BYTES;
use crate::domain::login_limiter::Limiter;
use crate::ports::accounts::{ShareRecord, User};

/// What the audit log names for a failed sign-in to an account that does not exist: never the
/// submitted text, which may be a password typed into the wrong field.
pub const UNKNOWN_ACCOUNT: &str = "unknown account";

impl AccountService {
    pub(super) fn limiter(&self) -> std::sync::MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn busy(&self) -> AuthError {
        AuthError::Busy { retry_after: self.gate.retry_after() }
    }

    /// Hashes a new password in one of the bounded slots (`Busy` when none frees up soon).
    pub(super) fn hash(&self, password: &str) -> Result<String, AuthError> {
        let _slot = self.gate.enter().ok_or_else(|| self.busy())?;
        Ok(self.hasher.hash(password))
    }

    /// Verifies a password in one of the bounded slots (`Busy` when none frees up soon).
    pub(super) fn verify(&self, password: &str, hash: &str) -> Result<bool, AuthError> {
        let _slot = self.gate.enter().ok_or_else(|| self.busy())?;
        Ok(self.hasher.verify(password, hash))
    }

    /// Remembers that `origin` signed in to `user`: it then escapes lockouts caused by others.
    pub(super) fn signed_in_from(&self, user: &User, origin: Origin) {
        self.limiter().remember(user.email.as_str(), &client_network(origin.ip));
    }

    /// Signs in. Each attempt reserves a failure per client network and per account before the
    /// password is checked (given back on success); unknown accounts cost the same time.
    pub fn login(
        &self,
        email: &str,
        password: &str,
        remember: bool,
        origin: Origin,
    ) -> Result<(User, SignIn), AuthError> {
        check_length("email", email.trim(), MAX_EMAIL_BYTES)?;
        check_length("password", password, MAX_PASSWORD_BYTES)?;
        let now = self.now();
        let window = self.limits.window_secs * MICROS_PER_SEC;
        let account = email.trim().to_lowercase();
        let client = client_network(origin.ip);
        let ip_key = format!("ip:{client}");
        let account_key = {
            let mut limiter = self.limiter();
            let key = if limiter.is_known(&account, &client) {
                format!("account:{account} from:{client}")
            } else {
                format!("account:{account}")
            };
            let buckets = [(ip_key.as_str(), self.limits.per_ip), (key.as_str(), self.limits.per_account)];
            limiter.reserve(&buckets, window, now).map_err(|retry_after| AuthError::RateLimited { retry_after })?;
            key
        };
        let refund = || {
            let mut limiter = self.limiter();
            limiter.refund(&ip_key);
            limiter.refund(&account_key);
        };
        let checked = Email::parse(email)
            .ok()
            .map(|e| self.store.user_by_email(&e))
            .transpose()
            .map_err(AuthError::from)
            .and_then(|user| {
                let user = user.flatten();
                let hash = user.as_ref().map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
                Ok((self.verify(password, hash)?, user))
            });
        let (ok, user) = checked.inspect_err(|_| refund())?;
        let user = match user {
            Some(user) if ok => user,
            other => {
                // The reservation stays: it was a failure. Only a bounded, normalised name is logged.
                let target = other.map_or_else(|| UNKNOWN_ACCOUNT.to_string(), |u| u.email.to_string());
                self.audit("anonymous", "login_failed", &target, Some(origin));
                return Err(AuthError::BadCredentials);
            }
        };
        {
            let mut limiter = self.limiter();
            limiter.refund(&ip_key);
            limiter.clear(&account_key);
            limiter.remember(&account, &client);
        }
        if !self.sso_passwords.load(std::sync::atomic::Ordering::Relaxed) && self.store.has_identity(user.id)? {
            // Password sign-in is off for accounts of the identity provider: they use SSO.
            self.audit(&format!("user:{}", user.id.0), "login_password_refused_sso", user.email.as_str(), Some(origin));
            return Err(AuthError::BadCredentials);
        }
        let methods = self.second_factor_methods(user.id)?;
        if !methods.is_empty() {
            let step = self.await_second_factor(&user, remember, methods);
            return Ok((user, step));
        }
        let issued = self.finish_login(&user, remember, origin, "login")?;
        Ok((user, SignIn::Session(issued)))
    }

    /// The last step of every sign-in: the login time, the audit entry and the session.
    pub(super) fn finish_login(
        &self,
        user: &User,
        remember: bool,
        origin: Origin,
        action: &str,
    ) -> Result<Issued, AuthError> {
        self.store.touch_login(user.id, self.now())?;
        self.audit(&format!("user:{}", user.id.0), action, user.email.as_str(), Some(origin));
        self.start_session(user.id, remember)
    }

    /// Opens a share link: checks its password (limited like sign-ins, per link and per client
    /// network) and issues a short-lived bearer token that reads the link's site.
    pub fn open_share(
        &self,
        link: &str,
        password: Option<&str>,
        origin: Origin,
    ) -> Result<(ShareRecord, Issued), AuthError> {
        if let Some(p) = password {
            check_length("password", p, MAX_PASSWORD_BYTES)?;
        }
        let share = self.store.share(&secret_digest(link))?.ok_or(AuthError::NotFound("no such share link"))?;
        if let Some(hash) = &share.password_hash {
            let now = self.now();
            let window = self.limits.window_secs * MICROS_PER_SEC;
            let key = format!("share:{}", share.id);
            let ip_key = format!("ip:{}", client_network(origin.ip));
            let Some(given) = password.filter(|p| !p.is_empty()) else {
                if let Some(retry_after) = self.limiter().retry_after(&key, self.limits.per_account, window, now) {
                    return Err(AuthError::RateLimited { retry_after });
                }
                return Err(AuthError::PasswordRequired);
            };
            let buckets = [(ip_key.as_str(), self.limits.per_ip), (key.as_str(), self.limits.per_account)];
            self.limiter()
                .reserve(&buckets, window, now)
                .map_err(|retry_after| AuthError::RateLimited { retry_after })?;
            let verified = self.verify(given, hash);
            if !matches!(verified, Ok(false)) {
                let mut limiter = self.limiter();
                limiter.refund(&ip_key);
                limiter.refund(&key);
            }
            if !verified? {
                self.audit("anonymous", "share_password_failed", &format!("share:{}", share.id), Some(origin));
                return Err(AuthError::WrongPassword);
            }
        }
        let secret = self.secrets.secret();
        let expires_at = self.now() + SHARE_ACCESS_TTL;
        self.store.add_share_session(&secret_digest(&secret), share.id, expires_at)?;
        Ok((share, Issued { secret, expires_at }))
    }
}
