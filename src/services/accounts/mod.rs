//! The account service: first-run setup, sign-in with rate limits, sessions, API tokens, share
//! links, invitations, user administration and the audit log, one module each. Blocking
//! (storage and argon2): async callers hop through [`crate::services::blocking`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::accounts::{
    Denied, Email, MAX_PASSWORD_BYTES, Need, Principal, Role, Scope, UserId, check_length, check_new_password,
    instance_admin, personal, secret_digest,
};
pub use crate::domain::auth::{AuthError, Caller, InviteInfo, Issued, Origin};
use crate::domain::auth::{
    CACHE_TTL, DAY, INVITE_TTL, MAX_AUDIT_TARGET_BYTES, MICROS_PER_SEC, REMEMBER_TTL, SESSION_TTL, SHARE_ACCESS_TTL,
    TOUCH_EVERY, audit_ip, bounded,
};
use crate::domain::hash_gate::{HashGate, HashLimits};
use crate::domain::language::Language;
pub use crate::domain::login_limiter::LoginLimits;
use crate::domain::login_limiter::{Limiter, client_network};
use crate::domain::site::SiteId;
use crate::domain::two_factor::MAX_PENDING;
use crate::ports::accounts::{
    AccountStore, AuditEntry, InviteRecord, NewUser, PasswordHasher, SecretSource, ShareRecord, TokenRecord, User,
};
use crate::ports::clock::Clock;
use crate::ports::passkeys::PasskeyCeremonies;
use crate::ports::second_factors::{OneTimeCodes, SecretCipher};

use expiring::Expiring;
pub use passkeys::{MAX_PASSKEY_NAME_BYTES, MAX_PASSKEYS, PasskeyChallenge};
pub use two_factor::{SignIn, TotpEnrolment, TwoFactorStatus};

mod audit;
mod expiring;
mod invites;
mod members;
mod passkeys;
mod sessions;
mod shares;
mod sign_in;
mod sso;
mod tokens;
mod two_factor;
mod users;

/// The crypto of second factors: TOTP codes, the cipher their secrets are sealed with, and the
/// passkey ceremonies.
pub struct SecondFactorCrypto {
    pub codes: Arc<dyn OneTimeCodes>,
    pub cipher: Arc<dyn SecretCipher>,
    pub passkeys: Arc<dyn PasskeyCeremonies>,
}

struct Cached {
    caller: Caller,
    until: i64,
}

/// See the module documentation.
pub struct AccountService {
    store: Arc<dyn AccountStore>,
    hasher: Arc<dyn PasswordHasher>,
    secrets: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    limits: LoginLimits,
    limiter: Mutex<Limiter>,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    touched: Mutex<HashMap<u32, i64>>,
    /// Verified against when the e-mail is unknown, so both cases cost the same time.
    dummy_hash: String,
    /// Serialises setup and invitation acceptance (check-then-insert).
    signup: Mutex<()>,
    /// Bounds concurrent argon2 work (memory).
    gate: HashGate,
    /// Serialises membership changes, so two owners demoting each other cannot leave none.
    membership: Mutex<()>,
    factors: SecondFactorCrypto,
    /// Sign-ins waiting for their second factor, by token digest (in memory: short-lived).
    pending: Expiring<two_factor::Pending>,
    /// Passkey ceremonies waiting for the browser's answer, by ceremony token digest.
    ceremonies: Expiring<passkeys::Ceremony>,
    /// The require-2FA policy and until when it is good (it is asked on every session call).
    policy: Mutex<Option<(bool, i64)>>,
    /// Password sign-in for accounts linked to the identity provider (`--oidc-password-login`).
    sso_passwords: std::sync::atomic::AtomicBool,
}

impl AccountService {
    pub fn new(
        store: Arc<dyn AccountStore>,
        hasher: Arc<dyn PasswordHasher>,
        secrets: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
        limits: LoginLimits,
        factors: SecondFactorCrypto,
    ) -> Self {
        let dummy_hash = hasher.hash("timing equaliser for unknown accounts");
        Self {
            store,
            hasher,
            secrets,
            clock,
            limits,
            limiter: Mutex::default(),
            cache: Mutex::default(),
            touched: Mutex::default(),
            dummy_hash,
            signup: Mutex::new(()),
            gate: HashGate::new(HashLimits::default()),
            membership: Mutex::new(()),
            factors,
            pending: Expiring::new(MAX_PENDING),
            ceremonies: Expiring::new(MAX_PENDING),
            policy: Mutex::default(),
            sso_passwords: std::sync::atomic::AtomicBool::new(true),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Forgets every cached credential (after revocations and role changes).
    pub fn invalidate(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn roles_of(&self, user: UserId) -> Result<HashMap<SiteId, Role>, AuthError> {
        Ok(self.store.memberships(user)?.into_iter().collect())
    }

    fn cached(&self, digest: &[u8; 32], now: i64) -> Option<Caller> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(digest).filter(|c| now < c.until).map(|c| c.caller.clone())
    }

    fn remember(&self, digest: [u8; 32], caller: &Caller, expires_at: Option<i64>, now: i64) {
        let until = expires_at.map_or(now + CACHE_TTL, |e| e.min(now + CACHE_TTL));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.retain(|_, c| now < c.until);
        }
        cache.insert(digest, Cached { caller: caller.clone(), until });
    }
}
