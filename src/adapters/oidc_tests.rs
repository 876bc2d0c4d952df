//! The ID-token checks against tokens signed by a test key (the keys under oidc_testdata/ are
//! made for these tests and guard nothing).

use std::str::FromStr as _;

use base64::Engine as _;
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, ClientId, ClientSecret, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};

use super::verify_id_token;
use crate::ports::sso::SsoError;

const ISSUER: &str = "https://idp.example.test";
const CLIENT: &str = "hitkeep";
const NONCE: &str = "nonce-1";

fn key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

fn idp_key() -> CoreRsaPrivateSigningKey {
    key(include_str!("oidc_testdata/idp_key.pem"))
}

/// Claims as a provider would send them; `change` adjusts one thing.
fn token(
    change: impl FnOnce(CoreIdTokenClaims) -> CoreIdTokenClaims,
    signer: &CoreRsaPrivateSigningKey,
) -> CoreIdToken {
    let standard = StandardClaims::new(SubjectIdentifier::new("alice".into()))
        .set_email(Some(EndUserEmail::new("alice@example.com".into())))
        .set_email_verified(Some(true));
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(ISSUER.into()).unwrap(),
        vec![Audience::new(CLIENT.into())],
        Utc::now() + Duration::minutes(5),
        Utc::now(),
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(NONCE.into())));
    CoreIdToken::new(change(claims), signer, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap()
}

fn verifier() -> CoreIdTokenVerifier<'static> {
    let keys = CoreJsonWebKeySet::new(vec![idp_key().as_verification_key()]);
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(CLIENT.into()),
        ClientSecret::new("client secret".into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        keys,
    )
}

fn refused(token: &CoreIdToken, nonce: &str) -> bool {
    matches!(verify_id_token(token, &verifier(), nonce), Err(SsoError::Refused(_)))
}

#[test]
fn a_good_token_names_its_subject_and_verified_email() {
    let identity = verify_id_token(&token(|c| c, &idp_key()), &verifier(), NONCE).unwrap();
    assert_eq!((identity.issuer.as_str(), identity.subject.as_str()), (ISSUER, "alice"));
    assert_eq!((identity.email.as_deref(), identity.email_verified), (Some("alice@example.com"), true));
    assert_eq!(identity.claims["sub"], "alice", "the raw claims ride along");
}

#[test]
fn a_tampered_token_is_refused() {
    let good = token(|c| c, &idp_key()).to_string();
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap().replace("alice@", "mallory@");
    let forged = format!("{}.{}.{}", parts[0], b64.encode(payload), parts[2]);
    assert!(refused(&CoreIdToken::from_str(&forged).unwrap(), NONCE), "payload changed, signature kept");
    let other = key(include_str!("oidc_testdata/other_key.pem"));
    assert!(refused(&token(|c| c, &other), NONCE), "signed by a key the provider does not publish");
}

#[test]
fn wrong_audience_issuer_nonce_or_an_expired_token_is_refused() {
    let signer = idp_key();
    assert!(refused(&token(|c| c.set_audiences(vec![Audience::new("another-app".into())]), &signer), NONCE));
    assert!(refused(&token(|c| c.set_issuer(IssuerUrl::new("https://evil.test".into()).unwrap()), &signer), NONCE));
    assert!(refused(&token(|c| c, &signer), "another nonce"), "wrong nonce");
    assert!(refused(&token(|c| c.set_nonce(None), &signer), NONCE), "no nonce");
    let expired = token(|c| c.set_expiration(Utc::now() - Duration::minutes(10)), &signer);
    assert!(refused(&expired, NONCE), "expired");
}
