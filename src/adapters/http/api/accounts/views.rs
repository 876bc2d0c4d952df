//! The bodies of the account endpoints.

use poem_openapi::Object;

use super::iso;
use crate::adapters::http::api::SiteView;
use crate::ports::accounts::{AuditEntry, User};

/// Whether the instance still needs its first user.
#[derive(Object)]
pub struct SetupStatus {
    pub needed: bool,
}

/// First user or invited user.
#[derive(Object)]
pub struct SetupRequest {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    #[oai(default)]
    pub name: String,
}

/// Credentials.
#[derive(Object)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Keep the session for 30 days instead of the browser session.
    #[oai(default)]
    pub remember: bool,
}

/// The password was right; a second factor is needed.
#[derive(Object)]
pub struct SecondFactorChallenge {
    /// Send it with the code to `POST /api/auth/login/code`; good for 5 minutes.
    pub token: String,
    pub expires_at: String,
    /// What may be sent: `totp` (6 digits from the app) and `recovery_code` to
    /// `POST /api/auth/login/code`; `passkey` through `POST /api/auth/login/passkey/options`.
    pub methods: Vec<String>,
}

/// The second sign-in step.
#[derive(Object)]
pub struct LoginCodeRequest {
    /// The token of the `202` sign-in answer.
    pub token: String,
    /// 6 digits from the authenticator app, or an unused recovery code.
    pub code: String,
    /// Keep the session for 30 days instead of the browser session.
    #[oai(default)]
    pub remember: bool,
}

/// A site and the caller's role on it.
#[derive(Object)]
pub struct SiteRole {
    pub domain: String,
    /// owner, admin or viewer.
    pub role: String,
}

/// The signed-in user.
#[derive(Object)]
pub struct MeView {
    pub id: u32,
    pub email: String,
    pub name: String,
    /// Instance administrator (manages users and every site).
    pub is_admin: bool,
    /// The language chosen in the dashboard (`en`, `de`, `fr`, `es`, `it`, `nl`, `pt-BR`); null until chosen.
    #[oai(nullable)]
    pub language: Option<String>,
    pub sites: Vec<SiteRole>,
}

/// Changes to your own account.
#[derive(Object)]
pub struct UpdateMe {
    /// `en`, `de`, `fr`, `es`, `it`, `nl` or `pt-BR`: the dashboard's language, and the language of
    /// the e-mail reports sent to your address.
    pub language: String,
}

/// A user, as administrators see them.
#[derive(Object)]
pub struct UserView {
    pub id: u32,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub created_at: String,
    #[oai(nullable)]
    pub last_login_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.to_string(),
            name: u.name.clone(),
            is_admin: u.is_admin,
            created_at: iso(u.created_at),
            last_login_at: u.last_login_at.map(iso),
        }
    }
}

/// Changes to a user.
#[derive(Object)]
pub struct UpdateUser {
    pub is_admin: bool,
}

/// A new password.
#[derive(Object)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Whom to invite.
#[derive(Object)]
pub struct CreateInvite {
    pub email: String,
    /// Make them an instance administrator (instance administrators only).
    #[oai(default)]
    pub is_admin: bool,
    /// A site to give them a role on.
    pub site: Option<String>,
    /// viewer (default), admin or owner.
    pub role: Option<String>,
}

/// An invitation; `url` is the link to pass on (no mail server needed).
#[derive(Object)]
pub struct InviteView {
    pub email: String,
    pub is_admin: bool,
    #[oai(nullable)]
    pub site: Option<String>,
    #[oai(nullable)]
    pub role: Option<String>,
    pub expires_at: String,
    /// Shown once, on creation.
    #[oai(skip_serializing_if_is_none)]
    pub token: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub url: Option<String>,
}

/// Accepting an invitation.
#[derive(Object)]
pub struct AcceptInvite {
    pub password: String,
    #[oai(default)]
    pub name: String,
}

/// An API token.
#[derive(Object)]
pub struct TokenView {
    pub id: u32,
    pub name: String,
    /// read or admin.
    pub scope: String,
    /// Domains it is limited to; empty: all of its user's sites.
    pub sites: Vec<String>,
    pub user_id: u32,
    pub created_at: String,
    #[oai(nullable)]
    pub expires_at: Option<String>,
    #[oai(nullable)]
    pub last_used_at: Option<String>,
    /// The secret, shown once on creation: `Authorization: Bearer <token>`.
    #[oai(skip_serializing_if_is_none)]
    pub token: Option<String>,
}

/// A new API token.
#[derive(Object)]
pub struct CreateToken {
    pub name: String,
    /// read (default) or admin.
    pub scope: Option<String>,
    /// Limit to these domains; empty or absent: all of your sites.
    #[oai(default)]
    pub sites: Vec<String>,
    /// Expire after this many days; absent or 0: never.
    pub expires_in_days: Option<u32>,
}

/// Opening a share link.
#[derive(Object)]
pub struct OpenShare {
    /// Needed when the link has a password.
    pub password: Option<String>,
}

/// Access to a shared dashboard: send `Authorization: Bearer <access_token>` to the read APIs.
#[derive(Object)]
pub struct ShareAccess {
    pub access_token: String,
    pub site: SiteView,
    pub expires_at: String,
}

/// One audit log line.
#[derive(Object)]
pub struct AuditView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The client's network (/24 or /48), never a full address.
    pub ip: String,
}

impl From<&AuditEntry> for AuditView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            at: iso(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            ip: e.ip.clone(),
        }
    }
}
