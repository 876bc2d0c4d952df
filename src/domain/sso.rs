//! Rules of single sign-on: which e-mail domains get an account on first sign-in, which claim
//! makes an instance administrator, whether SSO users may still use a password. Pure.

use serde_json::{Map, Value};

/// How SSO identities map to accounts (`--oidc-*` flags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SsoPolicy {
    /// Lower-case e-mail domains whose people get an account on first sign-in (no site access
    /// until granted). Empty: only existing accounts, linked by verified e-mail.
    pub allowed_domains: Vec<String>,
    /// `claim=value`: an ID token whose claim is, or contains, the value makes its user an
    /// instance administrator (and its absence takes the right away).
    pub admin_claim: Option<(String, String)>,
    /// Password sign-in stays possible for accounts linked to the provider.
    pub password_for_sso_users: bool,
}

impl SsoPolicy {
    /// Parses `claim=value` of `--oidc-admin-claim`.
    pub fn parse_admin_claim(spec: &str) -> Result<(String, String), String> {
        match spec.split_once('=') {
            Some((c, v)) if !c.trim().is_empty() && !v.trim().is_empty() => {
                Ok((c.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("--oidc-admin-claim must be CLAIM=VALUE, not {spec:?}")),
        }
    }

    /// Whether a new account may be made for this (verified) e-mail.
    pub fn may_create(&self, email: &str) -> bool {
        let Some((_, domain)) = email.rsplit_once('@') else { return false };
        let domain = domain.to_ascii_lowercase();
        self.allowed_domains.contains(&domain)
    }

    /// The instance-administrator right the claims give; `None` when no admin claim is configured.
    pub fn admin_from(&self, claims: &Map<String, Value>) -> Option<bool> {
        let (claim, value) = self.admin_claim.as_ref()?;
        Some(match claims.get(claim) {
            Some(Value::String(s)) => s == value,
            Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(value)),
            Some(Value::Bool(b)) => *b && value == "true",
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> SsoPolicy {
        SsoPolicy {
            allowed_domains: vec!["example.com".into()],
            admin_claim: Some(("groups".into(), "hitkeep-admins".into())),
            password_for_sso_users: true,
        }
    }

    #[test]
    fn accounts_are_made_only_for_allowed_domains() {
        assert!(policy().may_create("ann@Example.COM"));
        assert!(!policy().may_create("ann@example.com.evil.test"));
        assert!(!policy().may_create("ann@sub.example.com"));
        assert!(!policy().may_create("no-at-sign"));
        assert!(!SsoPolicy::default().may_create("ann@example.com"), "no domains: no new accounts");
    }

    #[test]
    fn the_admin_claim_matches_a_value_or_a_member_of_a_list() {
        let claims = |v: Value| json!({ "groups": v }).as_object().unwrap().clone();
        assert_eq!(policy().admin_from(&claims(json!(["staff", "hitkeep-admins"]))), Some(true));
        assert_eq!(policy().admin_from(&claims(json!("hitkeep-admins"))), Some(true));
        assert_eq!(policy().admin_from(&claims(json!(["staff"]))), Some(false));
        assert_eq!(policy().admin_from(&Map::new()), Some(false), "absent: not an admin");
        assert_eq!(SsoPolicy::default().admin_from(&claims(json!("x"))), None, "not configured");
        assert_eq!(SsoPolicy::parse_admin_claim("groups = admins").unwrap(), ("groups".into(), "admins".into()));
        assert!(SsoPolicy::parse_admin_claim("groups").is_err());
    }
}
