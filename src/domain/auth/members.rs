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
