//! Single sign-on through an OpenID Connect provider: starting the authorization-code flow and
//! turning its answer into a verified identity; which local account an identity signs in to.

use crate::domain::accounts::UserId;

use super::store::StoreResult;

/// Where to send the browser, and what the callback must match (kept by us, never by the browser).
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub url: String,
    /// The `state` parameter (CSRF).
    pub state: String,
    pub nonce: String,
    /// The PKCE code verifier whose challenge went to the provider.
    pub pkce_verifier: String,
}

/// A person the provider vouched for: the ID token's signature, issuer, audience, nonce and
/// expiry were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Every claim of the ID token (for the optional admin mapping).
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Why single sign-on failed.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the identity provider cannot be reached or answered wrongly: {0}")]
    Provider(String),
    #[error("the identity provider's answer was refused: {0}")]
    Refused(String),
}

/// An OpenID Connect provider (discovery, code flow with PKCE, ID-token verification).
#[async_trait::async_trait]
pub trait IdentityProvider: Send + Sync {
    /// A new authorization request (fresh state, nonce and PKCE verifier).
    async fn start(&self) -> Result<AuthRequest, SsoError>;
    /// Exchanges the callback's code and verifies the ID token against `nonce`.
    async fn finish(&self, code: &str, pkce_verifier: &str, nonce: &str) -> Result<VerifiedIdentity, SsoError>;
}

/// Which local account an external identity (issuer + subject) belongs to.
pub trait ExternalIdentityStore: Send + Sync {
    fn identity_user(&self, issuer: &str, subject: &str) -> StoreResult<Option<UserId>>;
    fn link_identity(&self, user: UserId, issuer: &str, subject: &str, at: i64) -> StoreResult<()>;
    /// Whether the user signs in through a provider (then password sign-in may be off for them).
    fn has_identity(&self, user: UserId) -> StoreResult<bool>;
}
