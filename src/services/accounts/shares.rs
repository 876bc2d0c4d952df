//! Share links: public, read-only dashboards of one site.

#[allow(unused_imports)]
use super::*;

impl AccountService {
    pub fn create_share(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
        password: Option<&str>,
        segment: Option<u32>,
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
        let (name, created_at) = (name.trim().to_string(), self.now());
        let record = ShareRecord { id: 0, site, name, password_hash, created_at, segment };
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
}
