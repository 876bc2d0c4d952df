//! Passkeys: the caller's own (register, list, rename, delete) and the sign-ins with one, alone
//! or as the second step after the password. Each ceremony is two calls: options for the
//! browser's `navigator.credentials` API, then its answer with the ceremony id.

use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::session::SessionResult;
use super::*;
use crate::ports::passkeys::PasskeyRecord;
use crate::services::accounts::PasskeyChallenge;

/// A registered passkey.
#[derive(Object)]
pub struct PasskeyView {
    pub id: u32,
    /// Your name for it.
    pub name: String,
    pub created_at: String,
    /// The last sign-in with it.
    pub last_used_at: Option<String>,
}

impl From<PasskeyRecord> for PasskeyView {
    fn from(k: PasskeyRecord) -> Self {
        Self { id: k.id, name: k.name, created_at: iso(k.created_at), last_used_at: k.last_used_at.map(iso) }
    }
}

/// Options for the browser, good once for 5 minutes.
#[derive(Object)]
pub struct PasskeyOptions {
    /// Send it back with the browser's answer.
    pub ceremony: String,
    /// `{"publicKey": ...}` for `navigator.credentials.create` or `.get`; binary fields are base64url.
    pub options: serde_json::Value,
    pub expires_at: String,
}

impl From<PasskeyChallenge> for PasskeyOptions {
    fn from(c: PasskeyChallenge) -> Self {
        Self { ceremony: c.ceremony, options: c.options, expires_at: iso(c.expires_at) }
    }
}

/// A name for a new or existing passkey.
#[derive(Object)]
pub struct PasskeyName {
    /// At most 64 bytes.
    pub name: String,
}

/// The browser's answer to a ceremony.
#[derive(Object)]
pub struct PasskeyAnswer {
    /// The `ceremony` of the options.
    pub ceremony: String,
    /// The `PublicKeyCredential` as JSON (binary fields base64url).
    pub credential: serde_json::Value,
}

/// Starting a sign-in with a passkey alone.
#[derive(Object)]
pub struct PasskeySignIn {
    /// Keep the session for 30 days instead of the browser session.
    #[oai(default)]
    pub remember: bool,
}

/// Starting the second sign-in step with a passkey.
#[derive(Object)]
pub struct PasskeySecondFactor {
    /// The token of the `202` sign-in answer.
    pub token: String,
}

crate::api_result!(PasskeysResult, 200, Json<Vec<PasskeyView>>);
crate::api_result!(PasskeyResult, 200, Json<PasskeyView>);
crate::api_result!(PasskeyCreated, 201, Json<PasskeyView>);
crate::api_result!(OptionsResult, 200, Json<PasskeyOptions>);

crate::api_part!(
    /// Passkeys.
    PasskeysApi, AccountsApi
);

impl PasskeysApi {
    /// The answer of a sign-in finished with a passkey.
    async fn passkey_signed_in(&self, result: Result<(User, Issued, bool), AuthError>) -> SessionResult {
        match result {
            Ok((user, issued, remember)) => match self.caller_of(&user).await {
                Ok(caller) => SessionResult::Ok(Json(self.me_view(&user, &caller)), self.cookie(&issued, remember)),
                Err(e) => SessionResult::signin_failed(e),
            },
            Err(e) => SessionResult::signin_failed(e),
        }
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl PasskeysApi {
    /// Your passkeys, oldest first.
    #[oai(path = "/me/passkeys", method = "get", operation_id = "listPasskeys")]
    async fn list(&self, auth: Auth) -> PasskeysResult {
        let work = move |a: &AccountService, caller| a.passkeys(&caller);
        as_caller(&self.state, &auth, work, |keys| PasskeysResult::Ok(Json(keys.into_iter().map(Into::into).collect())))
            .await
    }

    /// Starts registering a passkey with this name: options for `navigator.credentials.create`.
    #[oai(path = "/me/passkeys/options", method = "post", operation_id = "passkeyRegistrationOptions")]
    async fn registration_options(&self, auth: Auth, input: Json<PasskeyName>) -> OptionsResult {
        let name = input.0.name;
        let work = move |a: &AccountService, caller| a.begin_passkey_registration(&caller, &name);
        as_caller(&self.state, &auth, work, |challenge| OptionsResult::Ok(Json(challenge.into()))).await
    }

    /// Registers the passkey the browser created (`passkey_refused` when the answer does not
    /// check out, `sign_in_expired` when the ceremony is unknown, used or older than 5 minutes).
    #[oai(path = "/me/passkeys", method = "post", operation_id = "registerPasskey")]
    async fn register(&self, auth: Auth, req: &Request, input: Json<PasskeyAnswer>) -> PasskeyCreated {
        let origin = origin(&self.state, req);
        let PasskeyAnswer { ceremony, credential } = input.0;
        let work =
            move |a: &AccountService, caller| a.finish_passkey_registration(&caller, &ceremony, &credential, origin);
        as_caller(&self.state, &auth, work, |key| PasskeyCreated::Ok(Json(key.into()))).await
    }

    /// Renames one of your passkeys.
    #[oai(path = "/me/passkeys/:id", method = "patch", operation_id = "renamePasskey")]
    async fn rename(&self, auth: Auth, id: Path<u32>, input: Json<PasskeyName>) -> PasskeyResult {
        let name = input.0.name;
        let work = move |a: &AccountService, caller| a.rename_passkey(&caller, id.0, &name);
        as_caller(&self.state, &auth, work, |key| PasskeyResult::Ok(Json(key.into()))).await
    }

    /// Deletes one of your passkeys: it signs nobody in any more.
    #[oai(path = "/me/passkeys/:id", method = "delete", operation_id = "deletePasskey")]
    async fn delete(&self, auth: Auth, req: &Request, id: Path<u32>) -> DoneResult {
        let origin = origin(&self.state, req);
        let work = move |a: &AccountService, caller| a.remove_passkey(&caller, id.0, origin);
        as_caller(&self.state, &auth, work, |()| DoneResult::Ok).await
    }

    /// Starts a sign-in with a passkey alone (no e-mail): options for `navigator.credentials.get`.
    #[oai(path = "/auth/passkey/options", method = "post", operation_id = "passkeySignInOptions")]
    async fn sign_in_options(&self, input: Json<PasskeySignIn>) -> OptionsResult {
        let remember = input.0.remember;
        answer(blocking(&self.state.accounts, move |a| a.begin_passkey_sign_in(remember)).await, |challenge| {
            OptionsResult::Ok(Json(challenge.into()))
        })
    }

    /// Signs in with the browser's passkey answer and sets the session cookie. Refused answers
    /// (`passkey_refused`: unknown or deleted passkey, wrong signature) count against the client
    /// address like wrong passwords (429 with `Retry-After`).
    #[oai(path = "/auth/passkey", method = "post", operation_id = "passkeySignIn")]
    async fn sign_in(&self, req: &Request, input: Json<PasskeyAnswer>) -> SessionResult {
        let origin = origin(&self.state, req);
        let PasskeyAnswer { ceremony, credential } = input.0;
        let result =
            blocking(&self.state.accounts, move |a| a.finish_passkey_sign_in(&ceremony, &credential, origin)).await;
        self.passkey_signed_in(result).await
    }

    /// Starts the second sign-in step with one of the account's passkeys, for the token of a
    /// `202` sign-in answer whose `methods` list `passkey` (`sign_in_expired` after 5 minutes).
    #[oai(path = "/auth/login/passkey/options", method = "post", operation_id = "secondFactorPasskeyOptions")]
    async fn second_factor_options(&self, input: Json<PasskeySecondFactor>) -> OptionsResult {
        let token = input.0.token;
        answer(blocking(&self.state.accounts, move |a| a.begin_passkey_second_factor(&token)).await, |challenge| {
            OptionsResult::Ok(Json(challenge.into()))
        })
    }

    /// The second sign-in step with a passkey; sets the session cookie.
    #[oai(path = "/auth/login/passkey", method = "post", operation_id = "loginPasskey")]
    async fn second_factor(&self, req: &Request, input: Json<PasskeyAnswer>) -> SessionResult {
        // The ceremony remembers which sign-in it belongs to: the same answer finishes both.
        self.sign_in(req, input).await
    }
}
