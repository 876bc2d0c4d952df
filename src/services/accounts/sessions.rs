//! Sessions and bearer tokens: issuing, resolving (cached briefly) and ending them.

#[allow(unused_imports)]
use super::*;

impl AccountService {
    pub(super) fn start_session(&self, user: UserId, remember: bool) -> Result<Issued, AuthError> {
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
        let caller = Caller {
            principal: Principal::Share { link, site: share.site, segment: share.segment },
            roles: HashMap::new(),
        };
        self.remember(digest, &caller, Some(session.expires_at), now);
        Ok(Some(caller))
    }

    pub(super) fn touch(&self, token: u32, now: i64) {
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

    /// Drops expired sessions (a periodic job).
    pub fn sweep(&self) -> Result<(), AuthError> {
        Ok(self.store.delete_expired(self.now())?)
    }
}
