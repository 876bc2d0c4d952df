//! Passkey ceremonies with `webauthn-rs`: this server is the relying party named by
//! `--public-url` (its host is the relying-party id). Without a public URL only
//! `http://localhost` (any port) works, which is what a machine-local dashboard is reached at.

use serde_json::Value;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::ports::passkeys::{
    CeremonyState, Claimed, NewPasskey, PasskeyAccount, PasskeyCeremonies, PasskeyError, Started,
};

/// The relying party, or why there is none (a public URL naming an IP address: WebAuthn needs a
/// domain); the server runs without passkeys then.
pub struct WebauthnCeremonies {
    webauthn: Result<Webauthn, String>,
}

/// What a sign-in ceremony was started for.
enum SignInState {
    /// Any discoverable credential (no e-mail typed).
    Discoverable(DiscoverableAuthentication),
    /// One of a known account's credentials (the second factor).
    Known(PasskeyAuthentication),
}

fn internal(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(e.to_string())
}

fn refused(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Refused(e.to_string())
}

fn state<T: 'static>(state: CeremonyState) -> Result<T, PasskeyError> {
    state.0.downcast::<T>().map(|b| *b).map_err(|_| PasskeyError::Refused("the ceremony is of another kind".into()))
}

fn credential(stored: &str) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(stored).map_err(internal)
}

impl WebauthnCeremonies {
    /// The relying party of `public_url` (`None`: `http://localhost` on any port).
    pub fn new(public_url: Option<&str>) -> Self {
        let webauthn = relying_party(public_url.unwrap_or("http://localhost"));
        if let Err(why) = &webauthn {
            tracing::warn!("passkeys are off: {why}");
        }
        Self { webauthn }
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_ref().map_err(|why| PasskeyError::Unavailable(why.clone()))
    }
}

fn relying_party(public_url: &str) -> Result<Webauthn, String> {
    let origin = Url::parse(public_url).map_err(|e| format!("--public-url: {e}"))?;
    let rp_id = origin.domain().ok_or("--public-url must name a domain (not an IP address) for passkeys")?;
    WebauthnBuilder::new(rp_id, &origin)
        .map_err(|e| format!("passkeys cannot use --public-url {origin}: {e}"))?
        .rp_name("HitKeep")
        // A local dashboard is reached on whatever port it listens on.
        .allow_any_port(rp_id == "localhost")
        .build()
        .map_err(|e| e.to_string())
}

impl PasskeyCeremonies for WebauthnCeremonies {
    fn start_registration(&self, account: &PasskeyAccount<'_>, exclude: &[Vec<u8>]) -> Started {
        let (id, exclude) = (Uuid::from_bytes(account.handle), exclude.to_vec());
        let (options, reg): (CreationChallengeResponse, PasskeyRegistration) = self
            .webauthn()?
            .start_passkey_registration(id, account.name, account.display_name, Some(exclude))
            .map_err(internal)?;
        let mut options = serde_json::to_value(options).map_err(internal)?;
        // Sign-in without an e-mail needs a credential the authenticator can discover itself.
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        Ok((options, CeremonyState(Box::new(reg))))
    }

    fn finish_registration(&self, state_: CeremonyState, answer: &Value) -> Result<NewPasskey, PasskeyError> {
        let reg: PasskeyRegistration = state(state_)?;
        let answer: RegisterPublicKeyCredential = serde_json::from_value(answer.clone()).map_err(refused)?;
        let key = self.webauthn()?.finish_passkey_registration(&answer, &reg).map_err(refused)?;
        let credential_id: Vec<u8> = key.cred_id().to_vec();
        Ok(NewPasskey { credential_id, credential: serde_json::to_string(&key).map_err(internal)? })
    }

    fn start_authentication(&self, credentials: &[String]) -> Started {
        let (options, started) = if credentials.is_empty() {
            let (options, auth) = self.webauthn()?.start_discoverable_authentication().map_err(internal)?;
            (options, SignInState::Discoverable(auth))
        } else {
            let keys = credentials.iter().map(|c| credential(c)).collect::<Result<Vec<_>, _>>()?;
            let (options, auth) = self.webauthn()?.start_passkey_authentication(&keys).map_err(internal)?;
            (options, SignInState::Known(auth))
        };
        let mut options = serde_json::to_value(options).map_err(internal)?;
        // The dashboard asks with a button press, not the autofill ("conditional") prompt.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        Ok((options, CeremonyState(Box::new(started))))
    }

    fn claimed(&self, answer: &Value) -> Result<Claimed, PasskeyError> {
        let answer: PublicKeyCredential = serde_json::from_value(answer.clone()).map_err(refused)?;
        let user_handle = answer.get_user_unique_id().map(<[u8]>::to_vec);
        Ok(Claimed { credential_id: answer.get_credential_id().to_vec(), user_handle })
    }

    fn finish_authentication(
        &self,
        state_: CeremonyState,
        answer: &Value,
        stored: &str,
    ) -> Result<Option<String>, PasskeyError> {
        let answer: PublicKeyCredential = serde_json::from_value(answer.clone()).map_err(refused)?;
        let mut key = credential(stored)?;
        let result = match state(state_)? {
            SignInState::Discoverable(auth) => {
                self.webauthn()?.finish_discoverable_authentication_v2(&answer, auth, &key).map_err(refused)?
            }
            SignInState::Known(auth) => {
                self.webauthn()?.finish_passkey_authentication(&answer, &auth).map_err(refused)?
            }
        };
        if result.cred_id() != key.cred_id() {
            return Err(PasskeyError::Refused("another credential answered".into()));
        }
        match key.update_credential(&result) {
            Some(true) => Ok(Some(serde_json::to_string(&key).map_err(internal)?)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_domain_and_an_ip_address_turns_passkeys_off() {
        assert!(relying_party("http://localhost").is_ok());
        assert!(relying_party("https://stats.example.com").is_ok());
        assert!(relying_party("http://127.0.0.1:8080").unwrap_err().contains("domain"));
        let off = WebauthnCeremonies::new(Some("http://127.0.0.1:8080"));
        let started = off
            .start_registration(&PasskeyAccount { handle: [1; 16], name: "ann@example.com", display_name: "Ann" }, &[]);
        assert!(matches!(started, Err(PasskeyError::Unavailable(_))), "the server runs, without passkeys");
        let on = WebauthnCeremonies::new(Some("https://stats.example.com"));
        let (options, _) = on
            .start_registration(&PasskeyAccount { handle: [1; 16], name: "ann@example.com", display_name: "Ann" }, &[])
            .unwrap();
        assert_eq!(options["publicKey"]["rp"]["id"], "stats.example.com");
        assert_eq!(options["publicKey"]["authenticatorSelection"]["residentKey"], "required");
    }
}
