//! API tokens, share-link access and the audit log.

#![allow(unused_imports)]

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::views::*;
use super::*;

crate::api_answers! {
    /// The answer to opening a share link.
    pub enum ShareResult {
        /// Access granted.
        Ok(200, Json<ShareAccess>),
        /// Invalid input.
        BadRequest,
        /// The link needs a password (`password_required`) or the password is wrong (`wrong_password`).
        Unauthorized,
        /// No such link (or it was revoked).
        NotFound,
        /// Too many wrong passwords.
        TooManyRequests,
        Internal,
        /// Too many password checks at once (`busy`); retry after `Retry-After` seconds.
        ServiceUnavailable(503, Json<ApiErrorBody>, #[oai(header = "Retry-After")] u64),
    }
}

crate::api_part!(
    /// API tokens, share-link access and the audit log.
    AccessApi, AccountsApi
);

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccessApi {
    /// Your API tokens (an instance administrator sees everyone's).
    #[oai(path = "/tokens", method = "get", operation_id = "listTokens")]
    async fn list_tokens(&self, auth: Auth) -> TokensResult {
        let work = move |a: &AccountService, caller| a.tokens(&caller);
        as_caller(&self.state, &auth, work, |tokens| {
            TokensResult::Ok(Json(tokens.iter().map(|t| self.token_view(t, None)).collect()))
        })
        .await
    }

    /// Creates an API token for chosen sites with read or admin scope; the secret is in this answer only.
    #[oai(path = "/tokens", method = "post", operation_id = "createToken")]
    async fn create_token(&self, auth: Auth, req: &Request, input: Json<CreateToken>) -> TokenResult {
        let caller = crate::or_return!(who::<TokenResult>(&self.state, &auth).await);
        let input = input.0;
        let scope = match Scope::parse(input.scope.as_deref().unwrap_or("read")) {
            Ok(s) => s,
            Err(e) => return TokenResult::BadRequest(body("invalid_scope", e.to_string())),
        };
        let mut sites = Vec::new();
        for domain in &input.sites {
            match self.site_id(domain) {
                Some(id) => sites.push(id),
                None => return TokenResult::not_found(format!("no site {domain:?}")),
            }
        }
        let origin = origin(&self.state, req);
        let (name, days) = (input.name, input.expires_in_days);
        match blocking(&self.state.accounts, move |a| a.create_token(&caller, &name, scope, sites, days, origin)).await
        {
            Ok((record, secret)) => TokenResult::Ok(Json(self.token_view(&record, Some(secret)))),
            Err(AuthError::Conflict(m)) => TokenResult::BadRequest(body("invalid_token", m)),
            Err(e) => TokenResult::failed(e),
        }
    }

    /// Revokes an API token at once.
    #[oai(path = "/tokens/:id", method = "delete", operation_id = "revokeToken")]
    async fn revoke_token(&self, auth: Auth, req: &Request, id: Path<u32>) -> DoneResult {
        let origin = origin(&self.state, req);
        as_caller(&self.state, &auth, move |a, caller| a.revoke_token(&caller, id.0, origin), |()| DoneResult::Ok).await
    }

    /// Opens a share link (public): returns a bearer token that reads the shared site for 12 hours.
    #[oai(path = "/share/:token", method = "post", operation_id = "openShare")]
    async fn open_share(&self, req: &Request, token: Path<String>, input: Json<OpenShare>) -> ShareResult {
        let origin = origin(&self.state, req);
        let password = input.0.password;
        let result = blocking(&self.state.accounts, move |a| a.open_share(&token.0, password.as_deref(), origin)).await;
        match result {
            Ok((share, issued)) => {
                let site = self
                    .state
                    .ingest
                    .sites()
                    .sites()
                    .iter()
                    .find(|s| s.id == share.site)
                    .map(|s| SiteView::with_role(s, Some(Role::Viewer), false));
                match site {
                    Some(site) => ShareResult::Ok(Json(ShareAccess {
                        access_token: issued.secret,
                        site,
                        expires_at: iso(issued.expires_at),
                    })),
                    None => ShareResult::NotFound(body("not_found", "the shared site no longer exists")),
                }
            }
            Err(AuthError::PasswordRequired) => {
                ShareResult::Unauthorized(body("password_required", AuthError::PasswordRequired.to_string()))
            }
            Err(AuthError::WrongPassword) => ShareResult::Unauthorized(body("wrong_password", "the password is wrong")),
            Err(AuthError::RateLimited { retry_after }) => {
                ShareResult::TooManyRequests(body("rate_limited", "too many wrong passwords"), retry_after)
            }
            Err(AuthError::NotFound(m)) => ShareResult::NotFound(body("not_found", m)),
            Err(AuthError::Invalid(e)) => ShareResult::BadRequest(body("invalid_request", e.to_string())),
            Err(e @ AuthError::Busy { retry_after }) => {
                ShareResult::ServiceUnavailable(body("busy", e.to_string()), retry_after)
            }
            Err(e) => ShareResult::Internal(body("internal", e.to_string())),
        }
    }

    /// Security-relevant actions, newest first (instance administrators).
    #[oai(path = "/audit", method = "get", operation_id = "auditLog")]
    async fn audit_log(&self, auth: Auth, limit: Query<Option<u32>>) -> AuditResult {
        let limit = limit.0.unwrap_or(200).clamp(1, 10_000);
        let work = move |a: &AccountService, caller| a.audit_log(&caller, limit);
        as_caller(&self.state, &auth, work, |entries| {
            AuditResult::Ok(Json(entries.iter().map(AuditView::from).collect()))
        })
        .await
    }
}
