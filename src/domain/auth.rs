//! Who is calling and what the account service refuses: the caller with their roles, the
//! refusals, and the pure helpers of the audit log. The service itself is
//! `crate::services::accounts`.

use std::collections::HashMap;
use std::net::IpAddr;

use super::accounts::{AccountError, Denied, Email, Need, Principal, Role, Scope, site_access};
use super::site::SiteId;
use crate::ports::store::StoreError;

pub const MICROS_PER_SEC: i64 = 1_000_000;
pub const HOUR: i64 = 3600 * MICROS_PER_SEC;
pub const DAY: i64 = 24 * HOUR;

/// Session lifetimes: a browser session without "remember me", a month with it.
pub const SESSION_TTL: i64 = DAY;
pub const REMEMBER_TTL: i64 = 30 * DAY;
/// A share link's access token and an invitation live this long.
pub const SHARE_ACCESS_TTL: i64 = 12 * HOUR;
pub const INVITE_TTL: i64 = 7 * DAY;
/// How long a resolved credential is trusted before storage is asked again. Revocations,
/// logouts and role changes on this node clear the cache at once.
pub const CACHE_TTL: i64 = 30 * MICROS_PER_SEC;
/// A token's `last_used_at` is written at most this often.
pub const TOUCH_EVERY: i64 = 60 * MICROS_PER_SEC;
/// Longest audit log target kept: callers pass validated values, this bounds any that slip by.
pub const MAX_AUDIT_TARGET_BYTES: usize = 320;

/// Refusals of the account service.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error("too many password checks at once; try again in {retry_after} seconds")]
    Busy { retry_after: u64 },
    #[error("the instance is already set up; sign in instead")]
    AlreadySetUp,
    #[error("a user with this e-mail exists")]
    EmailTaken,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("this share link needs a password")]
    PasswordRequired,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("the code is wrong or was already used")]
    WrongCode,
    #[error("the sign-in took too long or is unknown; sign in again")]
    SignInExpired,
    #[error("the passkey was refused")]
    PasskeyRefused,
    #[error("single sign-on refused: {0}")]
    SsoRefused(String),
    #[error("access denied")]
    Denied(Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Denied> for AuthError {
    fn from(d: Denied) -> Self {
        Self::Denied(d)
    }
}

/// A caller with the roles they hold, resolved once per credential and cached.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub roles: HashMap<SiteId, Role>,
}

impl Caller {
    pub fn operator() -> Self {
        Self { principal: Principal::Operator, roles: HashMap::new() }
    }

    /// Decides a call on `site`.
    pub fn check(&self, site: SiteId, need: Need) -> Result<(), Denied> {
        site_access(&self.principal, site, self.roles.get(&site).copied(), need)
    }

    /// The role the caller acts with on `site`, `None` when they may not see it. Derived from
    /// [`Caller::check`], so every list (sites, overview, `/me`) honours what single-site calls
    /// honour: a token's site list and scope, a share link's one site.
    pub fn role(&self, site: SiteId) -> Option<Role> {
        self.check(site, Need::Read).ok()?;
        let held = match &self.principal {
            Principal::Operator => Role::Owner,
            Principal::Share { .. } => Role::Viewer,
            Principal::User { is_admin: true, .. } | Principal::Token { is_admin: true, .. } => Role::Owner,
            Principal::User { .. } | Principal::Token { .. } => *self.roles.get(&site)?,
        };
        // A read-scoped token acts as a viewer, whatever its user's role.
        Some(match &self.principal {
            Principal::Token { scope: Scope::Read, .. } => Role::Viewer,
            _ => held,
        })
    }
}

/// A new secret to hand to the client exactly once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub secret: String,
    pub expires_at: i64,
}

/// Where a request came from, for rate limits and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub ip: IpAddr,
}

/// An invitation, as shown to whoever opens its link.
#[derive(Debug, Clone)]
pub struct InviteInfo {
    pub email: Email,
    pub is_admin: bool,
    pub site: Option<(SiteId, Role)>,
    pub expires_at: i64,
}

/// `text` cut to at most `max` bytes at a character boundary.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

pub fn audit_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::UserId;

    #[test]
    fn audit_addresses_are_truncated() {
        assert_eq!(audit_ip("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(audit_ip("2001:db8:1234:5678::1".parse().unwrap()), "2001:db8:1234::/48");
    }

    #[test]
    fn roles_in_lists_follow_token_restrictions() {
        let (a, b) = (SiteId(1), SiteId(2));
        let roles = HashMap::from([(a, Role::Owner), (b, Role::Owner)]);
        let token = |scope, sites| Caller {
            principal: Principal::Token { id: 1, user: UserId(7), is_admin: false, scope, sites },
            roles: roles.clone(),
        };
        assert_eq!(token(Scope::Read, vec![a]).role(a), Some(Role::Viewer));
        assert_eq!(token(Scope::Read, vec![a]).role(b), None, "the token's site list applies");
        assert_eq!(token(Scope::Admin, vec![a]).role(a), Some(Role::Owner));
        assert_eq!(token(Scope::Admin, vec![]).role(b), Some(Role::Owner));
        let user = Caller { principal: Principal::User { id: UserId(7), is_admin: false }, roles: roles.clone() };
        assert_eq!((user.role(a), user.role(SiteId(3))), (Some(Role::Owner), None));
        let share = Caller { principal: Principal::Share { link: 1, site: a, segment: None }, roles: HashMap::new() };
        assert_eq!((share.role(a), share.role(b)), (Some(Role::Viewer), None));
    }

    #[test]
    fn audit_targets_are_bounded() {
        assert_eq!(bounded("short", 320), "short");
        let cut = bounded(&"é".repeat(1000), 11);
        assert_eq!(cut, format!("{}...", "é".repeat(5)));
    }
}
