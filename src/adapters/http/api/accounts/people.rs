//! Users and invitations.

#![allow(unused_imports)]

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::session::SessionResult;
use super::views::*;
use super::*;

crate::api_part!(
    /// Users and invitations.
    PeopleApi, AccountsApi
);

#[OpenApi(tag = "ApiTags::Accounts")]
impl PeopleApi {
    /// All users (instance administrators).
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list_users(&self, auth: Auth) -> UsersResult {
        let work = move |a: &AccountService, caller| a.users(&caller);
        as_caller(&self.state, &auth, work, |users| UsersResult::Ok(Json(users.iter().map(UserView::from).collect())))
            .await
    }

    /// Grants or revokes instance administration (instance administrators).
    #[oai(path = "/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update_user(&self, auth: Auth, req: &Request, id: Path<u32>, input: Json<UpdateUser>) -> UserResult {
        let origin = origin(&self.state, req);
        let is_admin = input.0.is_admin;
        let work = move |a: &AccountService, caller| a.set_admin(&caller, UserId(id.0), is_admin, origin);
        as_caller(&self.state, &auth, work, |user| UserResult::Ok(Json(UserView::from(&user)))).await
    }

    /// Deletes a user with their memberships, sessions and tokens (instance administrators).
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete_user(&self, auth: Auth, req: &Request, id: Path<u32>) -> DoneResult {
        let origin = origin(&self.state, req);
        let work = move |a: &AccountService, caller| a.delete_user(&caller, UserId(id.0), origin);
        as_caller(&self.state, &auth, work, |()| DoneResult::Ok).await
    }

    /// Invites someone by link: to a site with a role (site owners and admins) or as a user or
    /// administrator of the instance (instance administrators). Pass the returned `url` on.
    #[oai(path = "/invites", method = "post", operation_id = "createInvite")]
    async fn create_invite(&self, auth: Auth, req: &Request, input: Json<CreateInvite>) -> InviteResult {
        let caller = crate::or_return!(who::<InviteResult>(&self.state, &auth).await);
        let input = input.0;
        let site = match &input.site {
            None => None,
            Some(domain) => {
                let role = match Role::parse(input.role.as_deref().unwrap_or("viewer")) {
                    Ok(r) => r,
                    Err(e) => return InviteResult::BadRequest(body("invalid_role", e.to_string())),
                };
                match self.site_id(domain) {
                    Some(id) if caller.check(id, crate::domain::accounts::Need::Read).is_ok() => Some((id, role)),
                    _ => return InviteResult::not_found(format!("no site {domain:?}")),
                }
            }
        };
        let origin = origin(&self.state, req);
        let (email, is_admin) = (input.email, input.is_admin);
        match blocking(&self.state.accounts, move |a| a.invite(&caller, &email, is_admin, site, origin)).await {
            Ok((info, secret)) => {
                let mut view = self.invite_view(&info);
                view.url = Some(format!("{}/invite/{secret}", base_url(&self.state, req)));
                view.token = Some(secret);
                InviteResult::Ok(Json(view))
            }
            Err(e) => InviteResult::failed(e),
        }
    }

    /// What an invitation offers (public: the link is the credential).
    #[oai(path = "/invites/:token", method = "get", operation_id = "inviteInfo")]
    async fn invite_info(&self, token: Path<String>) -> InviteInfoResult {
        answer(blocking(&self.state.accounts, move |a| a.invite_info(&token.0)).await, |info| {
            InviteInfoResult::Ok(Json(self.invite_view(&info)))
        })
    }

    /// Accepts an invitation: creates the account and signs in.
    #[oai(path = "/invites/:token/accept", method = "post", operation_id = "acceptInvite")]
    async fn accept_invite(&self, req: &Request, token: Path<String>, input: Json<AcceptInvite>) -> SessionResult {
        let origin = origin(&self.state, req);
        let AcceptInvite { password, name } = input.0;
        let result = blocking(&self.state.accounts, move |a| a.accept_invite(&token.0, &password, &name, origin)).await;
        match result {
            Ok((user, issued)) => {
                self.state.accounts.invalidate();
                match self.caller_of(&user).await {
                    Ok(caller) => {
                        SessionResult::Created(Json(self.me_view(&user, &caller)), self.cookie(&issued, false))
                    }
                    Err(e) => SessionResult::signin_failed(e),
                }
            }
            Err(e) => SessionResult::signin_failed(e),
        }
    }
}
