//! Single sign-on flows: a sign-in started here goes to the identity provider and comes back
//! with a code; its state, nonce and PKCE verifier stay on the server (briefly, in memory) and
//! the state must also match the browser's cookie, so a callback cannot be replayed or planted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::auth::MICROS_PER_SEC;
use crate::domain::sso::SsoPolicy;
use crate::ports::accounts::User;
use crate::ports::clock::Clock;
use crate::ports::sso::{IdentityProvider, SsoError};
use crate::services::accounts::{AccountService, AuthError, Issued, Origin};

/// How long a started sign-in may take at the provider.
const FLOW_TTL: i64 = 10 * 60 * MICROS_PER_SEC;
/// Started sign-ins kept at most (memory bound; the oldest go first).
const MAX_FLOWS: usize = 10_000;

struct Flow {
    nonce: String,
    pkce_verifier: String,
    expires_at: i64,
}

/// Why a single sign-on did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SsoFailure {
    #[error("the sign-in is unknown, expired or was started in another browser")]
    UnknownState,
    #[error(transparent)]
    Provider(#[from] SsoError),
    #[error(transparent)]
    Account(#[from] AuthError),
}

impl From<crate::ports::store::StoreError> for SsoFailure {
    fn from(e: crate::ports::store::StoreError) -> Self {
        Self::Account(e.into())
    }
}

/// See the module documentation.
pub struct SsoService {
    provider: Arc<dyn IdentityProvider>,
    accounts: Arc<AccountService>,
    policy: SsoPolicy,
    /// The button's text: "Sign in with <label>".
    label: String,
    clock: Arc<dyn Clock>,
    flows: Mutex<HashMap<String, Flow>>,
}

impl SsoService {
    pub fn new(
        provider: Arc<dyn IdentityProvider>,
        accounts: Arc<AccountService>,
        policy: SsoPolicy,
        label: String,
        clock: Arc<dyn Clock>,
    ) -> Self {
        accounts.set_password_sign_in_for_sso(policy.password_for_sso_users);
        Self { provider, accounts, policy, label, clock, flows: Mutex::default() }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    fn flows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flow>> {
        self.flows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a sign-in: the provider's URL to send the browser to, and the state for its cookie.
    pub async fn start(&self) -> Result<(String, String), SsoError> {
        let request = self.provider.start().await?;
        let now = self.clock.now_micros();
        let mut flows = self.flows();
        flows.retain(|_, f| f.expires_at > now);
        if flows.len() >= MAX_FLOWS
            && let Some(oldest) = flows.iter().min_by_key(|(_, f)| f.expires_at).map(|(k, _)| k.clone())
        {
            flows.remove(&oldest);
        }
        let flow = Flow { nonce: request.nonce, pkce_verifier: request.pkce_verifier, expires_at: now + FLOW_TTL };
        flows.insert(request.state.clone(), flow);
        Ok((request.url, request.state))
    }

    /// Finishes a sign-in from the provider's callback; `browser_state` is the state cookie.
    pub async fn finish(
        &self,
        state: &str,
        browser_state: Option<&str>,
        code: &str,
        origin: Origin,
    ) -> Result<(User, Issued), SsoFailure> {
        if browser_state != Some(state) {
            return Err(SsoFailure::UnknownState);
        }
        let flow = self.flows().remove(state).filter(|f| f.expires_at > self.clock.now_micros());
        let flow = flow.ok_or(SsoFailure::UnknownState)?;
        let identity = match self.provider.finish(code, &flow.pkce_verifier, &flow.nonce).await {
            Ok(identity) => identity,
            Err(e) => {
                self.accounts.audit("anonymous", "sso_failed", &e.to_string(), Some(origin));
                return Err(e.into());
            }
        };
        let (accounts, policy) = (self.accounts.clone(), self.policy.clone());
        let result = crate::services::blocking(move || accounts.sso_sign_in(&identity, &policy, origin)).await;
        if let Err(e) = &result {
            self.accounts.audit("anonymous", "sso_failed", &e.to_string(), Some(origin));
        }
        Ok(result?)
    }
}
