//! Users, sessions, API tokens, share links, invites and the audit log; password hashing.
//!
//! Secrets (sessions, tokens, share links, invites) are stored only as digests
//! ([`crate::domain::accounts::secret_digest`]); passwords only as argon2id hashes.

use crate::domain::accounts::{Email, Role, Scope, UserId};
use crate::domain::language::Language;
use crate::domain::site::SiteId;

use super::passkeys::PasskeyStore;
use super::second_factors::{SecondFactorStore, SecurityPolicyStore};
use super::sso::ExternalIdentityStore;
use super::store::StoreResult;

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// The language chosen in the dashboard; e-mail reports to this user's address use it.
    pub language: Option<Language>,
}

/// A session as stored (the cookie's value is not).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// A signed-in user's session...
    pub user: Option<UserId>,
    /// ...or a share link's access token.
    pub share: Option<u32>,
    pub expires_at: i64,
}

/// An API token as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: u32,
    pub user: UserId,
    pub name: String,
    pub scope: Scope,
    /// Empty: all of the user's sites.
    pub sites: Vec<SiteId>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A share link as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareRecord {
    pub id: u32,
    pub site: SiteId,
    pub name: String,
    pub password_hash: Option<String>,
    pub created_at: i64,
    /// The saved segment every query through the link is limited to.
    pub segment: Option<u32>,
}

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteRecord {
    pub email: Email,
    pub is_admin: bool,
    pub site: Option<(SiteId, Role)>,
    pub created_by: Option<UserId>,
    pub expires_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The client's address truncated to its network (/24, /48): enough to spot an attacker's
    /// origin without storing a person's full address.
    pub ip: String,
}

/// A user to add.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

/// Users and their passwords.
pub trait UserStore: Send + Sync {
    fn count_users(&self) -> StoreResult<u64>;
    /// Adds a user unless the e-mail is taken (`Ok(None)` then). `only_if_no_users` makes the
    /// check-and-insert of the first-run setup atomic.
    fn add_user(&self, user: &NewUser<'_>, only_if_no_users: bool) -> StoreResult<Option<User>>;
    fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    fn users(&self) -> StoreResult<Vec<User>>;
    fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()>;
    fn set_admin(&self, id: UserId, is_admin: bool) -> StoreResult<bool>;
    fn touch_login(&self, id: UserId, at: i64) -> StoreResult<()>;
    /// `false` when there is no such user.
    fn set_language(&self, id: UserId, language: Language) -> StoreResult<bool>;
    /// Deletes the user with their memberships, sessions and tokens.
    fn delete_user(&self, id: UserId) -> StoreResult<bool>;
}

/// Who holds which role on which site.
pub trait MembershipStore: Send + Sync {
    fn memberships(&self, user: UserId) -> StoreResult<Vec<(SiteId, Role)>>;
    fn members(&self, site: SiteId) -> StoreResult<Vec<(UserId, Role)>>;
    fn set_member(&self, user: UserId, site: SiteId, role: Role) -> StoreResult<()>;
    fn remove_member(&self, user: UserId, site: SiteId) -> StoreResult<bool>;
    /// Removes everything tied to a deleted site (memberships, share links, token site lists).
    fn forget_site(&self, site: SiteId) -> StoreResult<()>;
}

/// Signed-in and share-link sessions.
pub trait SessionStore: Send + Sync {
    fn add_session(&self, digest: &[u8; 32], user: UserId, expires_at: i64) -> StoreResult<()>;
    fn add_share_session(&self, digest: &[u8; 32], share: u32, expires_at: i64) -> StoreResult<()>;
    fn session(&self, digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>>;
    fn delete_session(&self, digest: &[u8; 32]) -> StoreResult<()>;
    fn delete_sessions_of(&self, user: UserId) -> StoreResult<()>;
    fn delete_expired(&self, now: i64) -> StoreResult<()>;
}

/// API tokens.
pub trait TokenStore: Send + Sync {
    fn add_token(&self, digest: &[u8; 32], token: &TokenRecord) -> StoreResult<TokenRecord>;
    fn token(&self, digest: &[u8; 32]) -> StoreResult<Option<TokenRecord>>;
    fn tokens(&self, user: Option<UserId>) -> StoreResult<Vec<TokenRecord>>;
    fn token_by_id(&self, id: u32) -> StoreResult<Option<TokenRecord>>;
    fn delete_token(&self, id: u32) -> StoreResult<bool>;
    fn touch_token(&self, id: u32, at: i64) -> StoreResult<()>;
}

/// Share links.
pub trait ShareStore: Send + Sync {
    fn add_share(&self, digest: &[u8; 32], share: &ShareRecord) -> StoreResult<ShareRecord>;
    fn share(&self, digest: &[u8; 32]) -> StoreResult<Option<ShareRecord>>;
    fn shares(&self, site: SiteId) -> StoreResult<Vec<ShareRecord>>;
    fn share_by_id(&self, id: u32) -> StoreResult<Option<ShareRecord>>;
    /// Deletes a share link and the access tokens opened with it.
    fn delete_share(&self, site: SiteId, id: u32) -> StoreResult<bool>;
}

/// Invitations.
pub trait InviteStore: Send + Sync {
    fn add_invite(&self, digest: &[u8; 32], invite: &InviteRecord) -> StoreResult<()>;
    fn invite(&self, digest: &[u8; 32]) -> StoreResult<Option<InviteRecord>>;
    fn delete_invite(&self, digest: &[u8; 32]) -> StoreResult<()>;
}

/// The audit log.
pub trait AuditStore: Send + Sync {
    fn audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes audit entries from before `before`; returns how many went.
    fn prune_audit(&self, before: i64) -> StoreResult<u64>;
}

/// Declares a trait that is all of its capabilities together, and implements it for every type
/// that has them all (the list is written once).
macro_rules! all_of {
    ($(#[$m:meta])* pub trait $name:ident: $first:ident $(+ $more:ident)*;) => {
        $(#[$m])*
        pub trait $name: $first $(+ $more)* {}
        impl<T: $first $(+ $more)*> $name for T {}
    };
}

all_of! {
    /// Persistence of accounts, all capabilities together (all times are Unix microseconds).
    /// Consumers that need one capability take that trait; the account service takes them all.
    pub trait AccountStore: UserStore
        + MembershipStore
        + SessionStore
        + TokenStore
        + ShareStore
        + InviteStore
        + AuditStore
        + SecondFactorStore
        + SecurityPolicyStore
        + ExternalIdentityStore
        + PasskeyStore;
}

/// Password hashing (argon2id in production).
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &str) -> String;
    /// Constant-time verification; a malformed hash verifies as false.
    fn verify(&self, password: &str, hash: &str) -> bool;
}

/// Unguessable secrets (256 bits, URL-safe text).
pub trait SecretSource: Send + Sync {
    fn secret(&self) -> String;
}
