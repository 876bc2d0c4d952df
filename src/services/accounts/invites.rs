//! Invitations: a link that lets a new user sign up, optionally with a role on a site.

#[allow(unused_imports)]
use super::*;

impl AccountService {
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
        let user = self
            .store
            .add_user(
                &NewUser { email: &info.email, name: name.trim(), password_hash: &hash, is_admin: info.is_admin },
                false,
            )?
            .ok_or(AuthError::EmailTaken)?;
        self.signed_in_from(&user, origin);
        if let Some((site, role)) = info.site {
            self.store.set_member(user.id, site, role)?;
        }
        self.store.delete_invite(&secret_digest(secret))?;
        self.audit(&format!("user:{}", user.id.0), "invite_accepted", user.email.as_str(), Some(origin));
        let issued = self.start_session(user.id, false)?;
        Ok((user, issued))
    }
}
