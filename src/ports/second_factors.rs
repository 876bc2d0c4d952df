//! Second factors of sign-in: TOTP authenticators (secrets sealed at rest), recovery codes (kept
//! as digests), the instance's two-factor policy, and the crypto the service needs for them.

use crate::domain::accounts::UserId;

use super::store::StoreResult;

/// A user's TOTP authenticator as stored: the secret sealed by a [`SecretCipher`].
#[derive(Debug, Clone, PartialEq)]
pub struct TotpRecord {
    pub sealed: Vec<u8>,
    /// Confirmed with a code: sign-in asks for a code from now on.
    pub confirmed: bool,
    /// The last time step whose code was accepted (a code is good once).
    pub last_step: Option<i64>,
}

/// TOTP authenticators and recovery codes per user.
pub trait SecondFactorStore: Send + Sync {
    /// Stores a new, unconfirmed secret (replacing an unconfirmed one); `false` when a confirmed
    /// one exists and was kept.
    fn begin_totp(&self, user: UserId, sealed: &[u8], at: i64) -> StoreResult<bool>;
    fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>>;
    /// Confirms the pending secret, records `step` as used and replaces the recovery codes, all at
    /// once; `false` when there is no unconfirmed secret.
    fn confirm_totp(&self, user: UserId, step: i64, recovery: &[[u8; 32]]) -> StoreResult<bool>;
    /// Records `step` as used unless it or a later step already was: `false` is a replay.
    fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Replaces every recovery code of the user.
    fn replace_recovery_codes(&self, user: UserId, digests: &[[u8; 32]]) -> StoreResult<()>;
    /// Uses up the unused recovery code with this digest; `false` when there is none.
    fn use_recovery_code(&self, user: UserId, digest: &[u8; 32], at: i64) -> StoreResult<bool>;
    fn recovery_codes_left(&self, user: UserId) -> StoreResult<u32>;
    /// Deletes the authenticator and the recovery codes; `false` when there were none.
    fn remove_second_factors(&self, user: UserId) -> StoreResult<bool>;
}

/// Instance-wide sign-in policy set by instance administrators.
pub trait SecurityPolicyStore: Send + Sync {
    fn two_factor_required(&self) -> StoreResult<bool>;
    fn set_two_factor_required(&self, required: bool) -> StoreResult<()>;
}

/// Seals secrets that must be read back later (TOTP secrets) under the server's key.
pub trait SecretCipher: Send + Sync {
    fn seal(&self, plain: &[u8]) -> Vec<u8>;
    /// `None` when the sealed bytes were altered or sealed under another key.
    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>>;
}

/// Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30-second steps).
pub trait OneTimeCodes: Send + Sync {
    /// A new random secret (160 bits).
    fn new_secret(&self) -> Vec<u8>;
    /// The secret as authenticator apps show it (base32).
    fn display_secret(&self, secret: &[u8]) -> String;
    /// The `otpauth://totp/...` URI an authenticator app reads from the QR code.
    fn uri(&self, secret: &[u8], issuer: &str, account: &str) -> String;
    /// The time step (the current one, or one either side for clock drift) whose code is `code`.
    fn matching_step(&self, secret: &[u8], code: &str, unix_secs: u64) -> Option<i64>;
}
