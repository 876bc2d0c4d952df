//! Passkeys: registering several per account (named, discoverable), listing, renaming and
//! removing them, signing in with one alone (no e-mail typed) or as the second factor after the
//! password. Each ceremony's challenge stays here, short-lived and good once; failed answers
//! count against the client network (and the account, once known) like wrong passwords.

#[allow(unused_imports)]
use super::*;
use crate::domain::two_factor::PENDING_TTL;
use crate::ports::passkeys::{CeremonyState, PasskeyAccount, PasskeyError, PasskeyRecord};

/// Longest passkey name.
pub const MAX_PASSKEY_NAME_BYTES: usize = 64;
/// Most passkeys one account may register.
pub const MAX_PASSKEYS: usize = 20;

/// What a ceremony was started for.
pub(super) enum Purpose {
    Register {
        user: UserId,
        name: String,
    },
    SignIn {
        remember: bool,
    },
    /// The second step of the password sign-in with this pending token's digest.
    SecondFactor {
        pending: [u8; 32],
    },
}

/// A ceremony waiting for the browser's answer.
pub(super) struct Ceremony {
    purpose: Purpose,
    state: CeremonyState,
}

/// Options for `navigator.credentials`, and the ceremony id to answer with.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    pub options: serde_json::Value,
    pub expires_at: i64,
}

fn ceremony_failed(e: PasskeyError) -> AuthError {
    match e {
        PasskeyError::Refused(reason) => {
            tracing::debug!(%reason, "a passkey answer was refused");
            AuthError::PasskeyRefused
        }
        PasskeyError::Unavailable(_) => {
            AuthError::Conflict("passkeys need --public-url to name a domain (not an IP address)")
        }
        PasskeyError::Internal(m) => AuthError::Store(crate::ports::store::StoreError::Internal(m)),
    }
}

/// The account's WebAuthn user handle: stable, and not the e-mail (authenticators show it).
fn user_handle(user: UserId) -> [u8; 16] {
    let key = blake3::derive_key("hitkeep passkeys 2026 user handle", &user.0.to_le_bytes());
    let mut handle = [0u8; 16];
    handle.copy_from_slice(&key[..16]);
    handle
}

fn checked_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    check_length("name", name, MAX_PASSKEY_NAME_BYTES)?;
    if name.is_empty() {
        return Err(crate::domain::accounts::AccountError::Empty("name").into());
    }
    Ok(name.to_string())
}

impl AccountService {
    /// Keeps a ceremony's state (bounded: the oldest goes when full) and names it by a new token.
    fn open_ceremony(
        &self,
        purpose: Purpose,
        (options, state): (serde_json::Value, CeremonyState),
    ) -> PasskeyChallenge {
        let ceremony = self.secrets.secret();
        let now = self.now();
        let expires_at = now + PENDING_TTL;
        self.ceremonies.insert(secret_digest(&ceremony), Ceremony { purpose, state }, expires_at, now);
        PasskeyChallenge { ceremony, options, expires_at }
    }

    /// Takes a ceremony out (good once, whatever the answer).
    fn take_ceremony(&self, ceremony: &str) -> Result<Ceremony, AuthError> {
        self.ceremonies.take(&secret_digest(ceremony), self.now()).ok_or(AuthError::SignInExpired)
    }

    /// Starts registering a passkey named `name` for the caller.
    pub fn begin_passkey_registration(&self, caller: &Caller, name: &str) -> Result<PasskeyChallenge, AuthError> {
        let id = personal(&caller.principal)?;
        let name = checked_name(name)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        let existing = self.store.passkeys(id)?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(AuthError::Conflict("this account has the most passkeys allowed; remove one first"));
        }
        let exclude: Vec<Vec<u8>> = existing.into_iter().map(|k| k.credential_id).collect();
        let display = if user.name.is_empty() { user.email.as_str() } else { user.name.as_str() };
        let started = self
            .factors
            .passkeys
            .start_registration(
                &PasskeyAccount { handle: user_handle(id), name: user.email.as_str(), display_name: display },
                &exclude,
            )
            .map_err(ceremony_failed)?;
        Ok(self.open_ceremony(Purpose::Register { user: id, name }, started))
    }

    /// Finishes a registration with the authenticator's answer and stores the passkey.
    pub fn finish_passkey_registration(
        &self,
        caller: &Caller,
        ceremony: &str,
        answer: &serde_json::Value,
        origin: Origin,
    ) -> Result<PasskeyRecord, AuthError> {
        let id = personal(&caller.principal)?;
        let Ceremony { purpose, state } = self.take_ceremony(ceremony)?;
        let Purpose::Register { user, name } = purpose else { return Err(AuthError::SignInExpired) };
        if user != id {
            return Err(AuthError::SignInExpired);
        }
        let key = self.factors.passkeys.finish_registration(state, answer).map_err(ceremony_failed)?;
        let now = self.now();
        let Some(key_id) = self.store.add_passkey(id, &name, &key, now)? else {
            return Err(AuthError::Conflict("this passkey is registered already"));
        };
        let email = self.store.user(id)?.map(|u| u.email.to_string()).unwrap_or_default();
        self.audit(&caller.principal.actor(), "passkey_added", &format!("{email} passkey:{key_id}"), Some(origin));
        self.store.passkeys(id)?.into_iter().find(|k| k.id == key_id).ok_or(AuthError::NotFound("no such passkey"))
    }

    /// The caller's passkeys, oldest first.
    pub fn passkeys(&self, caller: &Caller) -> Result<Vec<PasskeyRecord>, AuthError> {
        Ok(self.store.passkeys(personal(&caller.principal)?)?)
    }

    /// Renames one of the caller's passkeys.
    pub fn rename_passkey(&self, caller: &Caller, key: u32, name: &str) -> Result<PasskeyRecord, AuthError> {
        let id = personal(&caller.principal)?;
        let name = checked_name(name)?;
        if !self.store.rename_passkey(id, key, &name)? {
            return Err(AuthError::NotFound("no such passkey"));
        }
        self.store.passkeys(id)?.into_iter().find(|k| k.id == key).ok_or(AuthError::NotFound("no such passkey"))
    }

    /// Removes one of the caller's passkeys: it signs nobody in any more.
    pub fn remove_passkey(&self, caller: &Caller, key: u32, origin: Origin) -> Result<(), AuthError> {
        let id = personal(&caller.principal)?;
        if !self.store.remove_passkey(id, key)? {
            return Err(AuthError::NotFound("no such passkey"));
        }
        let email = self.store.user(id)?.map(|u| u.email.to_string()).unwrap_or_default();
        self.audit(&caller.principal.actor(), "passkey_removed", &format!("{email} passkey:{key}"), Some(origin));
        Ok(())
    }

    /// Starts a sign-in with any passkey the browser finds (no e-mail typed).
    pub fn begin_passkey_sign_in(&self, remember: bool) -> Result<PasskeyChallenge, AuthError> {
        let started = self.factors.passkeys.start_authentication(&[]).map_err(ceremony_failed)?;
        Ok(self.open_ceremony(Purpose::SignIn { remember }, started))
    }

    /// Finishes a passkey sign-in, alone (the passkey checked the person itself) or as the second
    /// step after the password, whichever the ceremony was started for.
    pub fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        answer: &serde_json::Value,
        origin: Origin,
    ) -> Result<(User, Issued, bool), AuthError> {
        let Ceremony { purpose, state } = self.take_ceremony(ceremony)?;
        let (user, issued, remember) = match purpose {
            Purpose::SignIn { remember } => {
                let user = self.check_passkey(state, answer, None, origin)?;
                self.signed_in_from(&user, origin);
                let issued = self.finish_login(&user, remember, origin, "login_passkey")?;
                (user, issued, remember)
            }
            Purpose::SecondFactor { pending } => {
                let (user, remember) = self.pending_sign_in(&pending)?;
                self.check_passkey(state, answer, Some(user.id), origin)?;
                let issued = self.finish_pending(&pending, &user, remember, origin, "login_passkey")?;
                (user, issued, remember)
            }
            Purpose::Register { .. } => return Err(AuthError::SignInExpired),
        };
        Ok((user, issued, remember))
    }

    /// Starts the second step of a password sign-in with one of the account's passkeys.
    pub fn begin_passkey_second_factor(&self, token: &str) -> Result<PasskeyChallenge, AuthError> {
        let pending = secret_digest(token);
        let (user, _) = self.pending_sign_in(&pending)?;
        let keys: Vec<String> = self.store.passkeys(user.id)?.into_iter().map(|k| k.credential).collect();
        if keys.is_empty() {
            return Err(AuthError::NotFound("this account has no passkey"));
        }
        let started = self.factors.passkeys.start_authentication(&keys).map_err(ceremony_failed)?;
        Ok(self.open_ceremony(Purpose::SecondFactor { pending }, started))
    }

    /// Verifies a sign-in answer under the sign-in limits; `expected`: the account it must be of.
    fn check_passkey(
        &self,
        state: CeremonyState,
        answer: &serde_json::Value,
        expected: Option<UserId>,
        origin: Origin,
    ) -> Result<User, AuthError> {
        let window = self.limits.window_secs * MICROS_PER_SEC;
        let ip_key = format!("ip:{}", client_network(origin.ip));
        // The second step counts per account too, in the bucket wrong TOTP codes count in.
        let account_key = expected.map(|u| format!("second-factor:{}", u.0));
        let mut buckets = vec![(ip_key.as_str(), self.limits.per_ip)];
        buckets.extend(account_key.as_deref().map(|k| (k, self.limits.per_account)));
        self.limiter()
            .reserve(&buckets, window, self.now())
            .map_err(|retry_after| AuthError::RateLimited { retry_after })?;
        let checked = self.verify_passkey(state, answer, expected);
        if !matches!(checked, Err(AuthError::PasskeyRefused)) {
            let mut limiter = self.limiter();
            limiter.refund(&ip_key);
            if let Some(k) = &account_key {
                limiter.clear(k);
            }
        }
        if let Err(AuthError::PasskeyRefused) = &checked {
            let target = expected.map_or_else(|| "passkey".to_string(), |u| format!("user:{}", u.0));
            self.audit("anonymous", "passkey_sign_in_failed", &target, Some(origin));
        }
        checked
    }

    fn verify_passkey(
        &self,
        state: CeremonyState,
        answer: &serde_json::Value,
        expected: Option<UserId>,
    ) -> Result<User, AuthError> {
        let claimed = self.factors.passkeys.claimed(answer).map_err(ceremony_failed)?;
        let key = self.store.passkey_by_credential(&claimed.credential_id)?.ok_or(AuthError::PasskeyRefused)?;
        let handle_matches = claimed.user_handle.as_deref().is_none_or(|h| h == user_handle(key.user));
        if !handle_matches || expected.is_some_and(|u| u != key.user) {
            return Err(AuthError::PasskeyRefused);
        }
        let moved =
            self.factors.passkeys.finish_authentication(state, answer, &key.credential).map_err(ceremony_failed)?;
        self.store.passkey_used(key.id, moved.as_deref(), self.now())?;
        self.store.user(key.user)?.ok_or(AuthError::PasskeyRefused)
    }
}
