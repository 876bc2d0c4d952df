//! API tokens: issued to users (or by the operator on the command line), listed and revoked.

#[allow(unused_imports)]
use super::*;

impl AccountService {
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
    pub(super) fn issue_token(
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
}
