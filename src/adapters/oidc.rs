//! OpenID Connect with the `openidconnect` crate over our reqwest: discovery (once, on first
//! use, so the server starts while the provider is down), the authorization-code flow with PKCE
//! and a nonce, and the ID token's signature, issuer, audience, nonce and expiry checked.

use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use tokio::sync::OnceCell;

use crate::ports::sso::{AuthRequest, IdentityProvider, SsoError, VerifiedIdentity};

type Discovered =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The provider's settings (`--oidc-*`).
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// `<public-url>/api/auth/sso/callback`.
    pub redirect_url: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// See the module documentation.
pub struct OidcProvider {
    settings: OidcSettings,
    http: reqwest::Client,
    client: OnceCell<Discovered>,
}

/// Why an HTTP call to the provider failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

fn provider(e: impl std::fmt::Display) -> SsoError {
    SsoError::Provider(e.to_string())
}

impl OidcProvider {
    pub fn new(settings: OidcSettings) -> Result<Self, SsoError> {
        // No redirects: a provider's endpoints answer directly (redirects would be an SSRF path).
        let http = crate::adapters::http_client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(provider)?;
        Ok(Self { settings, http, client: OnceCell::new() })
    }

    fn send(&self) -> impl Fn(HttpRequest) -> Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>> {
        let http = self.http.clone();
        move |request: HttpRequest| {
            let http = http.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let response = http
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| HttpError(e.to_string()))?;
                let mut answer = HttpResponse::new(Vec::new());
                *answer.status_mut() = response.status();
                *answer.headers_mut() = response.headers().clone();
                *answer.body_mut() = response.bytes().await.map_err(|e| HttpError(e.to_string()))?.to_vec();
                Ok(answer)
            })
        }
    }

    async fn client(&self) -> Result<&Discovered, SsoError> {
        self.client
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(provider)?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.send()).await.map_err(provider)?;
                let secret = self.settings.client_secret.clone().map(ClientSecret::new);
                let redirect = RedirectUrl::new(self.settings.redirect_url.clone()).map_err(provider)?;
                Ok(CoreClient::from_provider_metadata(metadata, ClientId::new(self.settings.client_id.clone()), secret)
                    .set_redirect_uri(redirect))
            })
            .await
    }
}

/// Checks an ID token (signature, issuer, audience, expiry, nonce) and reads the identity.
pub fn verify_id_token(
    token: &CoreIdToken,
    verifier: &CoreIdTokenVerifier<'_>,
    nonce: &str,
) -> Result<VerifiedIdentity, SsoError> {
    let claims =
        token.claims(verifier, &Nonce::new(nonce.to_string())).map_err(|e| SsoError::Refused(e.to_string()))?;
    // Every claim, for the admin mapping: the payload of the token just verified.
    let raw = token.to_string();
    let payload = raw.split('.').nth(1).unwrap_or_default();
    let all = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(VerifiedIdentity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        claims: all,
    })
}

#[async_trait::async_trait]
impl IdentityProvider for OidcProvider {
    async fn start(&self) -> Result<AuthRequest, SsoError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    async fn finish(&self, code: &str, pkce_verifier: &str, nonce: &str) -> Result<VerifiedIdentity, SsoError> {
        let client = self.client().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(provider)?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.send())
            .await
            .map_err(|e| SsoError::Refused(format!("code exchange: {e}")))?;
        let token = response.id_token().ok_or_else(|| SsoError::Refused("no ID token in the answer".into()))?;
        verify_id_token(token, &client.id_token_verifier(), nonce)
    }
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
