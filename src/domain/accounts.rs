//! Accounts and access: who is calling, and what they may do with a site. Pure rules, no I/O.
//!
//! Every `/api` call is made by a [`Principal`]: a signed-in user (session cookie), an API token
//! acting for its user with a scope and an optional site list, a share link's visitor (one site,
//! read only), or the operator token from the server's configuration. [`site_access`] decides a
//! site call: 404 when the caller may not see the site (existence is not leaked), 403 when they
//! see it but their role or scope is too low.

use std::fmt;

use super::site::SiteId;

/// A user's numeric id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u32);

/// A normalised e-mail address (trimmed, lower-case, one `@` with text on both sides).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, AccountError> {
        check_length("email", input.trim(), MAX_EMAIL_BYTES)?;
        let e = input.trim().to_lowercase();
        let valid = e.len() <= MAX_EMAIL_BYTES
            && e.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
            })
            && e.matches('@').count() == 1
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid { Ok(Self(e)) } else { Err(AccountError::InvalidEmail(input.to_string())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest accepted password; the longest guards argon2 against huge inputs.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Refuses an oversized input, naming its field; checked before anything is hashed or recorded.
pub fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), AccountError> {
    if value.len() > max { Err(AccountError::TooLong { field, max }) } else { Ok(()) }
}

/// Checks a new password against the policy (length only, as NIST SP 800-63B advises).
pub fn check_new_password(password: &str) -> Result<(), AccountError> {
    check_length("password", password, MAX_PASSWORD_BYTES)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// A member's role on one site; the order is the order of power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads the site's dashboard.
    Viewer,
    /// Also changes the site's settings, goals, funnels, share links and members.
    Admin,
    /// Also deletes the site.
    Owner,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        match s {
            "viewer" => Ok(Self::Viewer),
            "admin" => Ok(Self::Admin),
            "owner" => Ok(Self::Owner),
            other => Err(AccountError::InvalidRole(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

/// What an API token may do within its user's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Admin,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        match s {
            "read" => Ok(Self::Read),
            "admin" => Ok(Self::Admin),
            other => Err(AccountError::InvalidScope(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Admin => "admin",
        }
    }
}

/// The caller of an `/api` operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in with a session cookie.
    User { id: UserId, is_admin: bool },
    /// An API token acting for its user; `sites` empty means all of the user's sites.
    Token { id: u32, user: UserId, is_admin: bool, scope: Scope, sites: Vec<SiteId> },
    /// A visitor of a share link: reads one site, limited to a saved segment when the link is.
    Share { link: u32, site: SiteId, segment: Option<u32> },
    /// The operator token from the server configuration (`--api-token`): full access, no user.
    Operator,
}

impl Principal {
    /// The user this principal acts for.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Token { user, .. } => Some(*user),
            Self::Share { .. } | Self::Operator => None,
        }
    }

    /// Instance-wide administration (users, audit log, any site).
    pub fn instance_admin(&self) -> bool {
        match self {
            Self::User { is_admin, .. } => *is_admin,
            Self::Token { is_admin, scope, sites, .. } => *is_admin && *scope == Scope::Admin && sites.is_empty(),
            Self::Share { .. } => false,
            Self::Operator => true,
        }
    }

    /// Who did it, for the audit log.
    pub fn actor(&self) -> String {
        match self {
            Self::User { id, .. } => format!("user:{}", id.0),
            Self::Token { id, user, .. } => format!("token:{id} (user:{})", user.0),
            Self::Share { link, .. } => format!("share:{link}"),
            Self::Operator => "operator".into(),
        }
    }
}

/// What a site operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Reports, goals and funnels (reading).
    Read,
    /// Settings, goals, funnels, share links, members.
    Manage,
    /// Deleting the site.
    Own,
}

/// Why a call is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// 401: no valid credentials.
    Unauthenticated,
    /// 404: the caller may not see this site (or the thing does not exist).
    NotFound,
    /// 403: the caller sees it but lacks the role or scope.
    Forbidden,
}

/// Decides a site operation. `membership` is the role the principal's user holds on the site.
pub fn site_access(principal: &Principal, site: SiteId, membership: Option<Role>, need: Need) -> Result<(), Denied> {
    let by_role = |role: Option<Role>, is_admin: bool| -> Result<Role, Denied> {
        if is_admin {
            return Ok(Role::Owner);
        }
        role.ok_or(Denied::NotFound)
    };
    let granted = match principal {
        Principal::Operator => return Ok(()),
        Principal::Share { site: shared, .. } => {
            if *shared != site {
                return Err(Denied::NotFound);
            }
            return if need == Need::Read { Ok(()) } else { Err(Denied::Forbidden) };
        }
        Principal::User { is_admin, .. } => by_role(membership, *is_admin)?,
        Principal::Token { is_admin, scope, sites, .. } => {
            if !sites.is_empty() && !sites.contains(&site) {
                return Err(Denied::NotFound);
            }
            let role = by_role(membership, *is_admin)?;
            if *scope == Scope::Read && need > Need::Read {
                return Err(Denied::Forbidden);
            }
            role
        }
    };
    let required = match need {
        Need::Read => Role::Viewer,
        Need::Manage => Role::Admin,
        Need::Own => Role::Owner,
    };
    if granted >= required { Ok(()) } else { Err(Denied::Forbidden) }
}

/// May this principal see the site at all (for lists)?
pub fn can_see(principal: &Principal, site: SiteId, membership: Option<Role>) -> bool {
    site_access(principal, site, membership, Need::Read).is_ok()
}

/// Operations on one's own account (password, API tokens) need a person, not a token or a link.
pub fn personal(principal: &Principal) -> Result<UserId, Denied> {
    match principal {
        Principal::User { id, .. } => Ok(*id),
        _ => Err(Denied::Forbidden),
    }
}

/// Instance administration (users, invites of admins, audit log).
pub fn instance_admin(principal: &Principal) -> Result<(), Denied> {
    if principal.instance_admin() { Ok(()) } else { Err(Denied::Forbidden) }
}

/// Who may create sites on this instance (`--site-creation`). A new site receives traffic for
/// its hosts, so creating one is an instance-level right, not something every account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SiteCreation {
    /// Instance administrators and the operator token only.
    #[default]
    Admins,
    /// Also every signed-in user (the creator becomes the site's owner).
    Users,
}

impl SiteCreation {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "admins" => Some(Self::Admins),
            "users" => Some(Self::Users),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admins => "admins",
            Self::Users => "users",
        }
    }
}

/// Creating a site: the operator, an instance administrator, or (with `SiteCreation::Users`) any
/// person; tokens only with the admin scope and not tied to sites.
pub fn may_create_site(principal: &Principal, policy: SiteCreation) -> Result<(), Denied> {
    let allowed = |is_admin: bool| {
        if is_admin || policy == SiteCreation::Users { Ok(()) } else { Err(Denied::Forbidden) }
    };
    match principal {
        Principal::Operator => Ok(()),
        Principal::User { is_admin, .. } => allowed(*is_admin),
        Principal::Token { scope: Scope::Admin, sites, is_admin, .. } if sites.is_empty() => allowed(*is_admin),
        _ => Err(Denied::Forbidden),
    }
}

/// Account rule violations, named for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not a valid e-mail address")]
    InvalidEmail(String),
    #[error("{field} is too long (at most {max} bytes)")]
    TooLong { field: &'static str, max: usize },
    #[error("{0}")]
    WeakPassword(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("unknown role {0:?} (use viewer, admin or owner)")]
    InvalidRole(String),
    #[error("unknown scope {0:?} (use read or admin)")]
    InvalidScope(String),
    #[error("unknown language {0:?} (use en, de, fr, es, it, nl or pt-BR)")]
    InvalidLanguage(String),
}

/// The SHA-like digest under which a secret (session, token, share link, invite) is stored: the
/// database never holds the secret itself. Secrets are 256-bit random, so a fast hash suffices.
pub fn secret_digest(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SiteId = SiteId(1);
    const B: SiteId = SiteId(2);

    fn user(admin: bool) -> Principal {
        Principal::User { id: UserId(7), is_admin: admin }
    }

    fn token(scope: Scope, sites: Vec<SiteId>) -> Principal {
        Principal::Token { id: 1, user: UserId(7), is_admin: false, scope, sites }
    }

    #[test]
    fn roles_decide_site_calls() {
        assert_eq!(site_access(&user(false), A, None, Need::Read), Err(Denied::NotFound));
        assert_eq!(site_access(&user(false), A, Some(Role::Viewer), Need::Read), Ok(()));
        assert_eq!(site_access(&user(false), A, Some(Role::Viewer), Need::Manage), Err(Denied::Forbidden));
        assert_eq!(site_access(&user(false), A, Some(Role::Admin), Need::Manage), Ok(()));
        assert_eq!(site_access(&user(false), A, Some(Role::Admin), Need::Own), Err(Denied::Forbidden));
        assert_eq!(site_access(&user(false), A, Some(Role::Owner), Need::Own), Ok(()));
        assert_eq!(site_access(&user(true), A, None, Need::Own), Ok(()));
    }

    #[test]
    fn tokens_are_limited_by_sites_scope_and_their_user() {
        let read_a = token(Scope::Read, vec![A]);
        assert_eq!(site_access(&read_a, A, Some(Role::Owner), Need::Read), Ok(()));
        assert_eq!(site_access(&read_a, A, Some(Role::Owner), Need::Manage), Err(Denied::Forbidden));
        assert_eq!(site_access(&read_a, B, Some(Role::Owner), Need::Read), Err(Denied::NotFound));
        let admin_all = token(Scope::Admin, vec![]);
        assert_eq!(site_access(&admin_all, B, Some(Role::Admin), Need::Manage), Ok(()));
        assert_eq!(site_access(&admin_all, B, Some(Role::Viewer), Need::Manage), Err(Denied::Forbidden));
        assert_eq!(site_access(&admin_all, B, None, Need::Read), Err(Denied::NotFound), "the user lost access");
        assert!(may_create_site(&admin_all, SiteCreation::Users).is_ok());
        assert_eq!(may_create_site(&admin_all, SiteCreation::Admins), Err(Denied::Forbidden));
        assert_eq!(may_create_site(&read_a, SiteCreation::Users), Err(Denied::Forbidden));
        assert_eq!(personal(&admin_all), Err(Denied::Forbidden));
    }

    #[test]
    fn only_allowed_principals_create_sites() {
        use SiteCreation::{Admins, Users};
        assert_eq!(may_create_site(&user(false), Admins), Err(Denied::Forbidden));
        assert_eq!(may_create_site(&user(false), Users), Ok(()));
        assert_eq!(may_create_site(&user(true), Admins), Ok(()));
        assert_eq!(may_create_site(&Principal::Operator, Admins), Ok(()));
        let admin_token =
            Principal::Token { id: 1, user: UserId(7), is_admin: true, scope: Scope::Admin, sites: vec![] };
        assert_eq!(may_create_site(&admin_token, Admins), Ok(()));
        assert_eq!(
            may_create_site(&Principal::Share { link: 1, site: A, segment: None }, Users),
            Err(Denied::Forbidden)
        );
        assert_eq!(SiteCreation::parse("users"), Some(Users));
        assert_eq!(SiteCreation::parse("everyone"), None);
    }

    #[test]
    fn share_links_read_one_site() {
        let share = Principal::Share { link: 3, site: A, segment: None };
        assert_eq!(site_access(&share, A, None, Need::Read), Ok(()));
        assert_eq!(site_access(&share, A, None, Need::Manage), Err(Denied::Forbidden));
        assert_eq!(site_access(&share, B, None, Need::Read), Err(Denied::NotFound));
        assert_eq!(instance_admin(&share), Err(Denied::Forbidden));
    }

    #[test]
    fn emails_and_passwords_are_checked() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["", "ann", "@x.io", "ann@", "ann@host", "a b@x.io", "a@b@x.io"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough").is_ok());
        assert_eq!(
            check_new_password(&"x".repeat(2000)),
            Err(AccountError::TooLong { field: "password", max: MAX_PASSWORD_BYTES })
        );
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES));
        assert_eq!(Email::parse(&long), Err(AccountError::TooLong { field: "email", max: MAX_EMAIL_BYTES }));
    }
}
