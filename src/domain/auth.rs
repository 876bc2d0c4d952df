//! The account service: first-run setup, sign-in with rate limits, sessions, API tokens, share
//! links, invitations, user administration and the audit log. Blocking (storage and argon2):
//! call it from a blocking thread.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::accounts::{
    AccountError, Denied, Email, MAX_PASSWORD_BYTES, Need, Principal, Role, Scope, UserId, check_length,
    check_new_password, instance_admin, personal, secret_digest, site_access,
};
use super::hash_gate::{HashGate, HashLimits};
pub use super::login_limiter::LoginLimits;
use super::login_limiter::{Limiter, client_network};
use super::site::SiteId;
use crate::ports::accounts::{
    AccountStore, AuditEntry, InviteRecord, PasswordHasher, SecretSource, ShareRecord, TokenRecord, User,
};
use crate::ports::clock::Clock;
use crate::ports::store::StoreError;

mod members;
mod sign_in;

const MICROS_PER_SEC: i64 = 1_000_000;
const HOUR: i64 = 3600 * MICROS_PER_SEC;
const DAY: i64 = 24 * HOUR;

/// Session lifetimes: a browser session without "remember me", a month with it.
pub const SESSION_TTL: i64 = DAY;
pub const REMEMBER_TTL: i64 = 30 * DAY;
/// A share link's access token and an invitation live this long.
pub const SHARE_ACCESS_TTL: i64 = 12 * HOUR;
pub const INVITE_TTL: i64 = 7 * DAY;
/// How long a resolved credential is trusted before storage is asked again. Revocations,
/// logouts and role changes on this node clear the cache at once.
const CACHE_TTL: i64 = 30 * MICROS_PER_SEC;
/// A token's `last_used_at` is written at most this often.
const TOUCH_EVERY: i64 = 60 * MICROS_PER_SEC;
/// Longest audit log target kept: callers pass validated values, this bounds any that slip by.
const MAX_AUDIT_TARGET_BYTES: usize = 320;

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
}

/// `text` cut to at most `max` bytes at a character boundary.
fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

fn audit_ip(ip: IpAddr) -> String {
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

impl AccountService {
    pub fn new(
        store: Arc<dyn AccountStore>,
        hasher: Arc<dyn PasswordHasher>,
        secrets: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
        limits: LoginLimits,
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
        }
    }

    pub fn store(&self) -> &Arc<dyn AccountStore> {
        &self.store
    }

    fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Records a security-relevant action; a failure to log is reported but does not undo it.
    /// The target is cut to a bounded length: the log must not grow by what a caller sends.
    pub fn audit(&self, actor: &str, action: &str, target: &str, origin: Option<Origin>) {
        let entry = AuditEntry {
            at: self.now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: bounded(target, MAX_AUDIT_TARGET_BYTES),
            ip: origin.map(|o| audit_ip(o.ip)).unwrap_or_default(),
        };
        if let Err(e) = self.store.audit(&entry) {
            tracing::error!(error = %e, action, "audit log write failed");
        }
    }

    /// Forgets every cached credential (after revocations and role changes).
    pub fn invalidate(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn needs_setup(&self) -> Result<bool, AuthError> {
        Ok(self.store.count_users()? == 0)
    }

    /// Creates the first user, an instance admin; refused once any user exists.
    pub fn setup(&self, email: &str, password: &str, name: &str, origin: Origin) -> Result<(User, Issued), AuthError> {
        let email = Email::parse(email)?;
        check_new_password(password)?;
        let _guard = self.signup.lock().unwrap_or_else(|p| p.into_inner());
        if self.store.count_users()? > 0 {
            return Err(AuthError::AlreadySetUp);
        }
        let hash = self.hash(password)?;
        let user = self.store.add_user(&email, name.trim(), &hash, true, true)?.ok_or(AuthError::AlreadySetUp)?;
        self.signed_in_from(&user, origin);
        self.audit(&format!("user:{}", user.id.0), "setup", email.as_str(), Some(origin));
        let issued = self.start_session(user.id, false)?;
        Ok((user, issued))
    }

    /// Adds a user from the command line (no session).
    pub fn add_user(&self, email: &str, password: &str, name: &str, is_admin: bool) -> Result<User, AuthError> {
        let email = Email::parse(email)?;
        check_new_password(password)?;
        let hash = {
            let _slot = self.gate.wait();
            self.hasher.hash(password)
        };
        let user = self.store.add_user(&email, name.trim(), &hash, is_admin, false)?.ok_or(AuthError::EmailTaken)?;
        self.audit("cli", "user_created", email.as_str(), None);
        Ok(user)
    }

    fn start_session(&self, user: UserId, remember: bool) -> Result<Issued, AuthError> {
        let secret = self.secrets.secret();
        let expires_at = self.now() + if remember { REMEMBER_TTL } else { SESSION_TTL };
        self.store.add_session(&secret_digest(&secret), user, expires_at)?;
        Ok(Issued { secret, expires_at })
    }

    pub fn logout(&self, session: &str) -> Result<(), AuthError> {
        self.store.delete_session(&secret_digest(session))?;
        self.invalidate();
        Ok(())
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

    /// The caller behind a session cookie.
    pub fn by_session(&self, secret: &str) -> Result<Option<Caller>, AuthError> {
        let digest = secret_digest(secret);
        let now = self.now();
        if let Some(c) = self.cached(&digest, now) {
            return Ok(Some(c));
        }
        let Some(session) = self.store.session(&digest)? else { return Ok(None) };
        if session.expires_at <= now {
            return Ok(None);
        }
        let caller = match session.user {
            Some(user) => {
                let Some(u) = self.store.user(user)? else { return Ok(None) };
                Caller { principal: Principal::User { id: u.id, is_admin: u.is_admin }, roles: self.roles_of(u.id)? }
            }
            None => return Ok(None),
        };
        self.remember(digest, &caller, Some(session.expires_at), now);
        Ok(Some(caller))
    }

    /// The caller behind a bearer secret: an API token or a share link's access token.
    pub fn by_bearer(&self, secret: &str) -> Result<Option<Caller>, AuthError> {
        let digest = secret_digest(secret);
        let now = self.now();
        if let Some(c) = self.cached(&digest, now) {
            if let Principal::Token { id, .. } = c.principal {
                self.touch(id, now);
            }
            return Ok(Some(c));
        }
        if let Some(token) = self.store.token(&digest)? {
            if token.expires_at.is_some_and(|e| e <= now) {
                return Ok(None);
            }
            let Some(user) = self.store.user(token.user)? else { return Ok(None) };
            let caller = Caller {
                principal: Principal::Token {
                    id: token.id,
                    user: user.id,
                    is_admin: user.is_admin,
                    scope: token.scope,
                    sites: token.sites.clone(),
                },
                roles: self.roles_of(user.id)?,
            };
            self.remember(digest, &caller, token.expires_at, now);
            self.touch(token.id, now);
            return Ok(Some(caller));
        }
        let Some(session) = self.store.session(&digest)? else { return Ok(None) };
        let Some(link) = session.share.filter(|_| session.expires_at > now) else { return Ok(None) };
        let Some(share) = self.store.share_by_id(link)? else { return Ok(None) };
        let caller = Caller { principal: Principal::Share { link, site: share.site }, roles: HashMap::new() };
        self.remember(digest, &caller, Some(session.expires_at), now);
        Ok(Some(caller))
    }

    fn touch(&self, token: u32, now: i64) {
        let mut touched = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        if touched.get(&token).is_some_and(|t| now - t < TOUCH_EVERY) {
            return;
        }
        touched.insert(token, now);
        drop(touched);
        if let Err(e) = self.store.touch_token(token, now) {
            tracing::warn!(error = %e, "could not record a token's last use");
        }
    }

    /// Changes the caller's password; every session of theirs ends and a new one is issued.
    pub fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        origin: Origin,
    ) -> Result<Issued, AuthError> {
        let id = personal(&caller.principal)?;
        check_length("current_password", current, MAX_PASSWORD_BYTES)?;
        check_length("new_password", new, MAX_PASSWORD_BYTES)?;
        check_new_password(new)?;
        let user = self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))?;
        if !self.verify(current, &user.password_hash)? {
            return Err(AuthError::WrongPassword);
        }
        self.store.set_password(id, &self.hash(new)?)?;
        self.store.delete_sessions_of(id)?;
        self.invalidate();
        self.audit(&caller.principal.actor(), "password_changed", user.email.as_str(), Some(origin));
        self.start_session(id, false)
    }

    pub fn set_admin(&self, caller: &Caller, user: UserId, is_admin: bool, origin: Origin) -> Result<User, AuthError> {
        instance_admin(&caller.principal)?;
        if caller.principal.user() == Some(user) && !is_admin {
            return Err(AuthError::Conflict("you cannot remove your own admin rights"));
        }
        if !self.store.set_admin(user, is_admin)? {
            return Err(AuthError::NotFound("no such user"));
        }
        self.invalidate();
        let u = self.store.user(user)?.ok_or(AuthError::NotFound("no such user"))?;
        let action = if is_admin { "admin_granted" } else { "admin_revoked" };
        self.audit(&caller.principal.actor(), action, u.email.as_str(), Some(origin));
        Ok(u)
    }

    pub fn delete_user(&self, caller: &Caller, user: UserId, origin: Origin) -> Result<(), AuthError> {
        instance_admin(&caller.principal)?;
        if caller.principal.user() == Some(user) {
            return Err(AuthError::Conflict("you cannot delete yourself"));
        }
        let u = self.store.user(user)?.ok_or(AuthError::NotFound("no such user"))?;
        let _serial = self.membership.lock().unwrap_or_else(|p| p.into_inner());
        self.check_not_last_owner(user)?;
        self.store.delete_user(user)?;
        self.invalidate();
        self.audit(&caller.principal.actor(), "user_deleted", u.email.as_str(), Some(origin));
        Ok(())
    }

    /// Creates an API token for the caller's own account.
    pub fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        scope: Scope,
        sites: Vec<SiteId>,
        expires_in_days: Option<u32>,
        origin: Origin,
    ) -> Result<(TokenRecord, String), AuthError> {
        let user = personal(&caller.principal)?;
        self.issue_token(user, &caller.principal.actor(), name, scope, sites, expires_in_days, Some(origin), |s| {
            caller.check(s, Need::Read)
        })
    }

    /// Creates an API token for a user from the command line.
    pub fn create_token_for(
        &self,
        email: &str,
        name: &str,
        scope: Scope,
        sites: Vec<SiteId>,
        expires_in_days: Option<u32>,
    ) -> Result<(TokenRecord, String), AuthError> {
        let email = Email::parse(email)?;
        let user = self.store.user_by_email(&email)?.ok_or(AuthError::NotFound("no user with this e-mail"))?;
        let caller = Caller {
            principal: Principal::User { id: user.id, is_admin: user.is_admin },
            roles: self.roles_of(user.id)?,
        };
        self.issue_token(user.id, "cli", name, scope, sites, expires_in_days, None, |s| caller.check(s, Need::Read))
    }

    #[allow(clippy::too_many_arguments)]
    fn issue_token(
        &self,
        user: UserId,
        actor: &str,
        name: &str,
        scope: Scope,
        sites: Vec<SiteId>,
        expires_in_days: Option<u32>,
        origin: Option<Origin>,
        may_see: impl Fn(SiteId) -> Result<(), Denied>,
    ) -> Result<(TokenRecord, String), AuthError> {
        for s in &sites {
            may_see(*s)?;
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(AuthError::Conflict("a token needs a name of 1-100 characters"));
        }
        let now = self.now();
        let secret = format!("hk_{}", self.secrets.secret());
        let record = TokenRecord {
            id: 0,
            user,
            name: name.to_string(),
            scope,
            sites,
            created_at: now,
            expires_at: expires_in_days.filter(|d| *d > 0).map(|d| now + i64::from(d) * DAY),
            last_used_at: None,
        };
        let stored = self.store.add_token(&secret_digest(&secret), &record)?;
        self.audit(actor, "token_created", &format!("token:{} {name}", stored.id), origin);
        Ok((stored, secret))
    }

    /// The caller's tokens (an instance admin sees all).
    pub fn tokens(&self, caller: &Caller) -> Result<Vec<TokenRecord>, AuthError> {
        let user = personal(&caller.principal)?;
        Ok(self.store.tokens(if caller.principal.instance_admin() { None } else { Some(user) })?)
    }

    pub fn revoke_token(&self, caller: &Caller, id: u32, origin: Origin) -> Result<(), AuthError> {
        let user = personal(&caller.principal)?;
        let token = self.store.token_by_id(id)?.filter(|t| t.user == user || caller.principal.instance_admin());
        let Some(token) = token else { return Err(AuthError::NotFound("no such token")) };
        self.store.delete_token(token.id)?;
        self.invalidate();
        self.audit(
            &caller.principal.actor(),
            "token_revoked",
            &format!("token:{} {}", token.id, token.name),
            Some(origin),
        );
        Ok(())
    }

    pub fn create_share(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
        password: Option<&str>,
        origin: Origin,
    ) -> Result<(ShareRecord, String), AuthError> {
        caller.check(site, Need::Manage)?;
        let password_hash = match password.filter(|p| !p.is_empty()) {
            Some(p) => {
                check_new_password(p)?;
                let _slot = self.gate.wait();
                Some(self.hasher.hash(p))
            }
            None => None,
        };
        let secret = self.secrets.secret();
        let record = ShareRecord { id: 0, site, name: name.trim().to_string(), password_hash, created_at: self.now() };
        let stored = self.store.add_share(&secret_digest(&secret), &record)?;
        self.audit(
            &caller.principal.actor(),
            "share_created",
            &format!("share:{} site:{}", stored.id, site.0),
            Some(origin),
        );
        Ok((stored, secret))
    }

    pub fn revoke_share(&self, caller: &Caller, site: SiteId, id: u32, origin: Origin) -> Result<(), AuthError> {
        caller.check(site, Need::Manage)?;
        if !self.store.delete_share(site, id)? {
            return Err(AuthError::NotFound("no such share link"));
        }
        self.invalidate();
        self.audit(&caller.principal.actor(), "share_revoked", &format!("share:{id} site:{}", site.0), Some(origin));
        Ok(())
    }

    /// Invites someone: instance admins invite anyone (also as admins); site managers invite to
    /// their site with at most their own role.
    pub fn invite(
        &self,
        caller: &Caller,
        email: &str,
        is_admin: bool,
        site: Option<(SiteId, Role)>,
        origin: Origin,
    ) -> Result<(InviteInfo, String), AuthError> {
        let email = Email::parse(email)?;
        match site {
            Some((s, role)) => {
                caller.check(s, Need::Manage)?;
                if role == Role::Owner {
                    caller.check(s, Need::Own)?;
                }
            }
            None => instance_admin(&caller.principal)?,
        }
        if is_admin {
            instance_admin(&caller.principal)?;
        }
        if self.store.user_by_email(&email)?.is_some() {
            return Err(AuthError::EmailTaken);
        }
        let secret = self.secrets.secret();
        let expires_at = self.now() + INVITE_TTL;
        let record =
            InviteRecord { email: email.clone(), is_admin, site, created_by: caller.principal.user(), expires_at };
        self.store.add_invite(&secret_digest(&secret), &record)?;
        self.audit(&caller.principal.actor(), "invite_created", email.as_str(), Some(origin));
        Ok((InviteInfo { email, is_admin, site, expires_at }, secret))
    }

    pub fn invite_info(&self, secret: &str) -> Result<InviteInfo, AuthError> {
        let invite = self
            .store
            .invite(&secret_digest(secret))?
            .filter(|i| i.expires_at > self.now())
            .ok_or(AuthError::NotFound("this invitation does not exist or has expired"))?;
        Ok(InviteInfo {
            email: invite.email,
            is_admin: invite.is_admin,
            site: invite.site,
            expires_at: invite.expires_at,
        })
    }

    /// Accepts an invitation: creates the user, grants the site role, signs them in.
    pub fn accept_invite(
        &self,
        secret: &str,
        password: &str,
        name: &str,
        origin: Origin,
    ) -> Result<(User, Issued), AuthError> {
        check_new_password(password)?;
        let _guard = self.signup.lock().unwrap_or_else(|p| p.into_inner());
        let info = self.invite_info(secret)?;
        let hash = self.hash(password)?;
        let user =
            self.store.add_user(&info.email, name.trim(), &hash, info.is_admin, false)?.ok_or(AuthError::EmailTaken)?;
        self.signed_in_from(&user, origin);
        if let Some((site, role)) = info.site {
            self.store.set_member(user.id, site, role)?;
        }
        self.store.delete_invite(&secret_digest(secret))?;
        self.audit(&format!("user:{}", user.id.0), "invite_accepted", user.email.as_str(), Some(origin));
        let issued = self.start_session(user.id, false)?;
        Ok((user, issued))
    }

    pub fn users(&self, caller: &Caller) -> Result<Vec<User>, AuthError> {
        instance_admin(&caller.principal)?;
        Ok(self.store.users()?)
    }

    pub fn audit_log(&self, caller: &Caller, limit: u32) -> Result<Vec<AuditEntry>, AuthError> {
        instance_admin(&caller.principal)?;
        Ok(self.store.audit_log(limit)?)
    }

    /// Drops expired sessions (a periodic job).
    pub fn sweep(&self) -> Result<(), AuthError> {
        Ok(self.store.delete_expired(self.now())?)
    }

    /// Deletes audit log entries older than `keep_days` days (0 keeps everything); a daily job.
    pub fn prune_audit(&self, keep_days: u32) -> Result<u64, AuthError> {
        if keep_days == 0 {
            return Ok(0);
        }
        Ok(self.store.prune_audit(self.now() - i64::from(keep_days) * DAY)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let share = Caller { principal: Principal::Share { link: 1, site: a }, roles: HashMap::new() };
        assert_eq!((share.role(a), share.role(b)), (Some(Role::Viewer), None));
    }

    #[test]
    fn audit_targets_are_bounded() {
        assert_eq!(bounded("short", 320), "short");
        let cut = bounded(&"é".repeat(1000), 11);
        assert_eq!(cut, format!("{}...", "é".repeat(5)));
    }
}
