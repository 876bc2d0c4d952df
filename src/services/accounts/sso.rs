//! Single sign-on's account side: the account an identity the provider vouched for signs in
//! to (linked before, else an existing account with the same verified e-mail, else a new one
//! for an allowed domain), the optional admin claim, and the session.

#[allow(unused_imports)]
use super::*;
use crate::domain::sso::SsoPolicy;
use crate::ports::sso::VerifiedIdentity;

impl AccountService {
    /// Whether people linked to the identity provider may still sign in with a password.
    pub fn set_password_sign_in_for_sso(&self, allowed: bool) {
        self.sso_passwords.store(allowed, std::sync::atomic::Ordering::Relaxed);
    }

    /// Signs in the account of a verified identity (see the module documentation).
    pub fn sso_sign_in(
        &self,
        identity: &VerifiedIdentity,
        policy: &SsoPolicy,
        origin: Origin,
    ) -> Result<(User, Issued), AuthError> {
        let user = match self.store.identity_user(&identity.issuer, &identity.subject)? {
            Some(id) => self.store.user(id)?,
            None => None,
        };
        let mut user = match user {
            Some(user) => user,
            None => self.link_or_create(identity, policy, origin)?,
        };
        if let Some(admin) = policy.admin_from(&identity.claims)
            && admin != user.is_admin
        {
            self.store.set_admin(user.id, admin)?;
            let action = if admin { "sso_admin_granted" } else { "sso_admin_revoked" };
            self.audit("sso", action, user.email.as_str(), Some(origin));
            user.is_admin = admin;
        }
        self.signed_in_from(&user, origin);
        let issued = self.finish_login(&user, false, origin, "sso_login")?;
        Ok((user, issued))
    }

    /// The account of an identity seen for the first time: only by a verified e-mail.
    fn link_or_create(
        &self,
        identity: &VerifiedIdentity,
        policy: &SsoPolicy,
        origin: Origin,
    ) -> Result<User, AuthError> {
        let email = match (&identity.email, identity.email_verified) {
            (Some(e), true) => Email::parse(e).map_err(|_| AuthError::SsoRefused("the e-mail is not valid".into()))?,
            _ => return Err(AuthError::SsoRefused("the provider did not vouch for an e-mail address".into())),
        };
        let _guard = self.signup.lock().unwrap_or_else(|p| p.into_inner());
        let user = match self.store.user_by_email(&email)? {
            Some(user) => {
                self.audit("sso", "sso_linked", email.as_str(), Some(origin));
                user
            }
            None if policy.may_create(email.as_str()) => {
                // No password anyone knows: the account signs in through the provider.
                let unusable = self.hash(&self.secrets.secret())?;
                let name = identity.name.clone().unwrap_or_default();
                let user = self
                    .store
                    .add_user(
                        &NewUser { email: &email, name: name.trim(), password_hash: &unusable, is_admin: false },
                        false,
                    )?
                    .ok_or(AuthError::EmailTaken)?;
                self.audit("sso", "sso_account_created", email.as_str(), Some(origin));
                user
            }
            None => {
                return Err(AuthError::SsoRefused(format!("no account for {email}, and its domain is not allowed")));
            }
        };
        self.store.link_identity(user.id, &identity.issuer, &identity.subject, self.now())?;
        Ok(user)
    }
}
