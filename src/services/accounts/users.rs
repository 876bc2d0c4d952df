//! Users: first-run setup, accounts added from the command line, passwords, admin rights.

#[allow(unused_imports)]
use super::*;

impl AccountService {
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
        let user = self
            .store
            .add_user(&NewUser { email: &email, name: name.trim(), password_hash: &hash, is_admin: true }, true)?
            .ok_or(AuthError::AlreadySetUp)?;
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
        let user = self
            .store
            .add_user(&NewUser { email: &email, name: name.trim(), password_hash: &hash, is_admin }, false)?
            .ok_or(AuthError::EmailTaken)?;
        self.audit("cli", "user_created", email.as_str(), None);
        Ok(user)
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

    /// Remembers the caller's dashboard language (also the language of reports mailed to them).
    pub fn set_language(&self, caller: &Caller, language: &str) -> Result<User, AuthError> {
        let id = personal(&caller.principal)?;
        let language = Language::parse(language)?;
        if !self.store.set_language(id, language)? {
            return Err(AuthError::NotFound("no such user"));
        }
        self.store.user(id)?.ok_or(AuthError::NotFound("no such user"))
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

    pub fn users(&self, caller: &Caller) -> Result<Vec<User>, AuthError> {
        instance_admin(&caller.principal)?;
        Ok(self.store.users()?)
    }
}
