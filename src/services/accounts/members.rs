//! Site membership changes. Only owners change or remove owners, and a site that has an owner
//! keeps at least one: otherwise a site admin could demote the owner and then remove them.

use super::{AccountService, AuthError, Caller, Need, Origin, Role, SiteId, UserId};

/// Why a membership change is refused when the caller's role allows it.
const LAST_OWNER: &str = "a site keeps at least one owner: make someone else owner first";

/// Is `user` the only owner among `members`?
fn only_owner(members: &[(UserId, Role)], user: UserId) -> bool {
    let owners = members.iter().filter(|(_, r)| *r == Role::Owner);
    owners.clone().any(|(u, _)| *u == user) && owners.count() == 1
}

impl AccountService {
    /// Grants `role` without a caller check: the creator of a new site, or a grant from the
    /// command line (which speaks for the operator).
    pub fn grant(&self, user: UserId, site: SiteId, role: Role) -> Result<(), AuthError> {
        self.store.set_member(user, site, role)?;
        self.invalidate();
        Ok(())
    }

    /// Forgets memberships, share links and token site lists of a deleted site.
    pub fn forget_site(&self, site: SiteId) -> Result<(), AuthError> {
        self.store.forget_site(site)?;
        self.invalidate();
        Ok(())
    }

    /// A user's account, if it exists.
    pub fn user(&self, id: UserId) -> Result<Option<crate::ports::accounts::User>, AuthError> {
        Ok(self.store.user(id)?)
    }

    /// The sites a user belongs to, with their role.
    pub fn memberships(&self, id: UserId) -> Result<Vec<(SiteId, Role)>, AuthError> {
        Ok(self.store.memberships(id)?)
    }

    /// Every user (command line: the operator).
    pub fn all_users(&self) -> Result<Vec<crate::ports::accounts::User>, AuthError> {
        Ok(self.store.users()?)
    }

    /// A site's share links.
    pub fn shares(&self, site: SiteId) -> Result<Vec<crate::ports::accounts::ShareRecord>, AuthError> {
        Ok(self.store.shares(site)?)
    }

    /// A site's members with their accounts (users deleted meanwhile are left out).
    pub fn members(&self, site: SiteId) -> Result<Vec<(crate::ports::accounts::User, Role)>, AuthError> {
        let mut out = Vec::new();
        for (user, role) in self.store.members(site)? {
            if let Some(u) = self.store.user(user)? {
                out.push((u, role));
            }
        }
        Ok(out)
    }

    /// Sets a member's role on a site. The caller manages the site; making, changing or
    /// removing an owner needs an owner (403); the last owner keeps the role (409).
    pub fn set_member(
        &self,
        caller: &Caller,
        site: SiteId,
        user: UserId,
        role: Role,
        origin: Origin,
    ) -> Result<(), AuthError> {
        caller.check(site, Need::Manage)?;
        let target = self.store.user(user)?.ok_or(AuthError::NotFound("no such user"))?;
        let _serial = self.membership.lock().unwrap_or_else(|p| p.into_inner());
        let members = self.store.members(site)?;
        let current = members.iter().find(|(u, _)| *u == user).map(|(_, r)| *r);
        if role == Role::Owner || current == Some(Role::Owner) {
            caller.check(site, Need::Own)?;
        }
        if role != Role::Owner && only_owner(&members, user) {
            return Err(AuthError::Conflict(LAST_OWNER));
        }
        self.store.set_member(user, site, role)?;
        self.invalidate();
        self.audit(
            &caller.principal.actor(),
            "member_role_set",
            &format!("{} site:{} {}", target.email, site.0, role.as_str()),
            Some(origin),
        );
        Ok(())
    }

    /// Removes a member (owners only by owners; never the last owner).
    pub fn remove_member(&self, caller: &Caller, site: SiteId, user: UserId, origin: Origin) -> Result<(), AuthError> {
        caller.check(site, Need::Manage)?;
        let _serial = self.membership.lock().unwrap_or_else(|p| p.into_inner());
        let members = self.store.members(site)?;
        match members.iter().find(|(u, _)| *u == user).map(|(_, r)| *r) {
            None => return Err(AuthError::NotFound("no such member")),
            Some(Role::Owner) => caller.check(site, Need::Own)?,
            Some(_) => {}
        }
        if only_owner(&members, user) {
            return Err(AuthError::Conflict(LAST_OWNER));
        }
        self.store.remove_member(user, site)?;
        self.invalidate();
        self.audit(
            &caller.principal.actor(),
            "member_removed",
            &format!("user:{} site:{}", user.0, site.0),
            Some(origin),
        );
        Ok(())
    }

    /// Refuses to delete a user who is the only owner of a site (409).
    pub(super) fn check_not_last_owner(&self, user: UserId) -> Result<(), AuthError> {
        for (site, role) in self.store.memberships(user)? {
            if role == Role::Owner && only_owner(&self.store.members(site)?, user) {
                return Err(AuthError::Conflict(LAST_OWNER));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_only_owner_is_found() {
        let (a, b) = (UserId(1), UserId(2));
        assert!(only_owner(&[(a, Role::Owner), (b, Role::Admin)], a));
        assert!(!only_owner(&[(a, Role::Owner), (b, Role::Owner)], a), "another owner remains");
        assert!(!only_owner(&[(a, Role::Owner), (b, Role::Admin)], b), "not an owner");
        assert!(!only_owner(&[], a));
    }
}
