//! Passkeys (WebAuthn credentials): the credentials stored per account, and the ceremonies that
//! create and check them. The credential itself is opaque text of the ceremony adapter.

use crate::domain::accounts::UserId;

use super::store::StoreResult;

/// A stored passkey.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRecord {
    pub id: u32,
    pub user: UserId,
    /// The owner's name for it ("Laptop", "Phone").
    pub name: String,
    /// The authenticator's id of the credential (unique across accounts).
    pub credential_id: Vec<u8>,
    /// The public key and counters, as the ceremony adapter serialised them.
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub credential: String,
}

/// Passkeys per account (several each, named).
pub trait PasskeyStore: Send + Sync {
    /// Stores a passkey; `None` when its credential id is registered already (to anyone).
    fn add_passkey(&self, user: UserId, name: &str, key: &NewPasskey, at: i64) -> StoreResult<Option<u32>>;
    /// The user's passkeys, oldest first.
    fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>>;
    fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRecord>>;
    /// `false` when the user has no passkey with this id.
    fn rename_passkey(&self, user: UserId, id: u32, name: &str) -> StoreResult<bool>;
    /// `false` when the user has no passkey with this id.
    fn remove_passkey(&self, user: UserId, id: u32) -> StoreResult<bool>;
    /// Records a sign-in with the passkey, storing its credential again when its counter moved.
    fn passkey_used(&self, id: u32, credential: Option<&str>, at: i64) -> StoreResult<()>;
    /// Removes every passkey of the user; returns how many went.
    fn remove_passkeys(&self, user: UserId) -> StoreResult<u64>;
}

/// Why a ceremony failed.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The browser's answer is malformed, for another challenge or origin, or its signature is wrong.
    #[error("the passkey was refused: {0}")]
    Refused(String),
    /// This server cannot be a relying party (its public URL names no domain).
    #[error("passkeys are not available: {0}")]
    Unavailable(String),
    #[error("passkey error: {0}")]
    Internal(String),
}

/// A ceremony's server-side state (the challenge), opaque outside the adapter.
pub struct CeremonyState(pub Box<dyn std::any::Any + Send + Sync>);

/// Which credential and account a sign-in answer claims, before it is verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub credential_id: Vec<u8>,
    /// The account's handle stored in a discoverable credential.
    pub user_handle: Option<Vec<u8>>,
}

/// The account a new credential is made for (WebAuthn's user entity).
pub struct PasskeyAccount<'a> {
    /// The handle a discoverable credential stores (16 bytes).
    pub handle: [u8; 16],
    /// The name the authenticator lists the credential under (the e-mail).
    pub name: &'a str,
    pub display_name: &'a str,
}

/// A ceremony's options for the browser, and the state to finish it with.
pub type Started = Result<(serde_json::Value, CeremonyState), PasskeyError>;

/// The WebAuthn ceremonies of the relying party (this server). Options and answers are the JSON
/// the browser's `navigator.credentials` API takes and gives (binary fields base64url).
pub trait PasskeyCeremonies: Send + Sync {
    /// Options to create a discoverable credential for `account`, refusing authenticators that
    /// hold one of `exclude` already.
    fn start_registration(&self, account: &PasskeyAccount<'_>, exclude: &[Vec<u8>]) -> Started;
    fn finish_registration(&self, state: CeremonyState, answer: &serde_json::Value)
    -> Result<NewPasskey, PasskeyError>;
    /// Options to sign in: with any discoverable credential when `credentials` is empty, else
    /// with one of these stored credentials.
    fn start_authentication(&self, credentials: &[String]) -> Started;
    fn claimed(&self, answer: &serde_json::Value) -> Result<Claimed, PasskeyError>;
    /// Verifies the answer against the stored `credential`; returns the credential to store
    /// back when its counters changed.
    fn finish_authentication(
        &self,
        state: CeremonyState,
        answer: &serde_json::Value,
        credential: &str,
    ) -> Result<Option<String>, PasskeyError>;
}
