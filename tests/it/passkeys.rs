//! Passkeys against the real binary, with a software authenticator standing in for the browser
//! and its platform authenticator: registration options, several named passkeys, sign-in with a
//! passkey alone and as the second factor, rename, deletion (the deleted one is refused), the
//! origin check, single-use ceremonies, the audit log and the sign-in limits.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::{Api, Cred, PASSWORD, invited, session_of, setup_admin};
use crate::harness::{DataDir, Server};

const EMAIL: &str = "owner@example.com";
/// Without `--public-url` the relying party is `localhost` on any port.
const ORIGIN: &str = "http://localhost:8080";

/// CBOR (RFC 8949) of the few shapes WebAuthn needs.
fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    match len {
        0..=23 => vec![(major << 5) | len as u8],
        24..=255 => vec![(major << 5) | 24, len as u8],
        _ => vec![(major << 5) | 25, (len >> 8) as u8, len as u8],
    }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    [cbor_head(2, b.len()), b.to_vec()].concat()
}

fn cbor_text(t: &str) -> Vec<u8> {
    [cbor_head(3, t.len()), t.as_bytes().to_vec()].concat()
}

/// A small integer key or value (-24..=23).
fn cbor_int(i: i8) -> Vec<u8> {
    if i >= 0 { vec![i as u8] } else { vec![0x20 | (-1 - i) as u8] }
}

/// One resident ES256 credential, as a platform authenticator keeps it.
struct Credential {
    id: Vec<u8>,
    key: SigningKey,
    user_handle: Vec<u8>,
    counter: u32,
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("a base64url string")).expect("base64url")
}

fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
    let challenge = options["publicKey"]["challenge"].as_str().expect("a challenge");
    serde_json::to_vec(&json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})).unwrap()
}

fn rp_hash(options: &Value) -> Vec<u8> {
    let rp = options["publicKey"]["rp"]["id"].as_str().or(options["publicKey"]["rpId"].as_str()).expect("rp id");
    Sha256::digest(rp.as_bytes()).to_vec()
}

impl Credential {
    /// `navigator.credentials.create`: a new key pair, answered with "none" attestation.
    fn create(options: &Value, seed: u8) -> (Self, Value) {
        let key = SigningKey::from_slice(&[seed; 32]).expect("a valid scalar");
        let id: Vec<u8> = (0..16).map(|i| seed.wrapping_mul(31).wrapping_add(i)).collect();
        let point = key.verifying_key().to_sec1_point(false);
        let xy = &point.as_bytes()[1..];
        let cose = [
            cbor_head(5, 5),
            cbor_int(1),
            cbor_int(2), // kty: EC2
            cbor_int(3),
            cbor_int(-7), // alg: ES256
            cbor_int(-1),
            cbor_int(1), // crv: P-256
            cbor_int(-2),
            cbor_bytes(&xy[..32]),
            cbor_int(-3),
            cbor_bytes(&xy[32..]),
        ]
        .concat();
        // Flags: user present, user verified, attested credential data.
        let auth_data = [
            rp_hash(options),
            vec![0x45],
            0u32.to_be_bytes().to_vec(),
            vec![0; 16],
            vec![0, id.len() as u8],
            id.clone(),
            cose,
        ]
        .concat();
        let attestation = [
            cbor_head(5, 3),
            cbor_text("fmt"),
            cbor_text("none"),
            cbor_text("attStmt"),
            cbor_head(5, 0),
            cbor_text("authData"),
            cbor_bytes(&auth_data),
        ]
        .concat();
        let answer = json!({
            "id": B64.encode(&id), "rawId": B64.encode(&id), "type": "public-key", "extensions": {},
            "response": {
                "attestationObject": B64.encode(attestation),
                "clientDataJSON": B64.encode(client_data("webauthn.create", options, ORIGIN)),
            },
        });
        let user_handle = b64(&options["publicKey"]["user"]["id"]);
        (Self { id, key, user_handle, counter: 0 }, answer)
    }

    /// `navigator.credentials.get`: a signed assertion for `origin`.
    fn get(&mut self, options: &Value, origin: &str) -> Value {
        self.counter += 1;
        let auth_data = [rp_hash(options), vec![0x05], self.counter.to_be_bytes().to_vec()].concat();
        let client = client_data("webauthn.get", options, origin);
        let signed = [auth_data.clone(), Sha256::digest(&client).to_vec()].concat();
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": B64.encode(&self.id), "rawId": B64.encode(&self.id), "type": "public-key", "extensions": {},
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client),
                "signature": B64.encode(signature.to_der().as_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
        })
    }
}

/// Registers a passkey named `name` for the session's account.
async fn register(api: &Api<'_>, session: &Cred, name: &str, seed: u8) -> (Credential, Value) {
    let started = api.ok(session, Method::POST, "/me/passkeys/options", Some(json!({"name": name}))).await;
    let (credential, answer) = Credential::create(&started["options"], seed);
    let body = json!({"ceremony": started["ceremony"], "credential": answer});
    let r = api.call(session, Method::POST, "/me/passkeys", Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let again = api.call(session, Method::POST, "/me/passkeys", Some(body)).await;
    assert_eq!((again.status, again.body["error"].as_str()), (400, Some("sign_in_expired")), "a ceremony is good once");
    (credential, r.body)
}

/// Signs in with a passkey alone: (status, body, the session when one was set).
async fn passkey_sign_in(api: &Api<'_>, credential: &mut Credential, origin: &str) -> (u16, Value, Option<Cred>) {
    let started = api.ok(&Cred::None, Method::POST, "/auth/passkey/options", Some(json!({}))).await;
    let answer = credential.get(&started["options"], origin);
    let r = api
        .call(
            &Cred::None,
            Method::POST,
            "/auth/passkey",
            Some(json!({"ceremony": started["ceremony"], "credential": answer})),
        )
        .await;
    let session = (r.status == 200).then(|| Cred::Cookie(session_of(&r)));
    (r.status, r.body, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_register_sign_in_alone_and_as_second_factor_and_stop_when_deleted() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let owner = setup_admin(&api, EMAIL).await;
    assert_eq!(api.ok(&owner, Method::GET, "/me/passkeys", None).await, json!([]));

    let started = api.ok(&owner, Method::POST, "/me/passkeys/options", Some(json!({"name": "Laptop"}))).await;
    let options = &started["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], EMAIL);
    assert_eq!(b64(&options["user"]["id"]).len(), 16, "a handle, not the e-mail");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required", "discoverable: no e-mail to type");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    assert!(b64(&options["challenge"]).len() >= 16);
    let (mut laptop, created) = register(&api, &owner, "Laptop", 7).await;
    assert_eq!((created["name"].as_str(), created["last_used_at"].as_str()), (Some("Laptop"), None));
    let second = api.ok(&owner, Method::POST, "/me/passkeys/options", Some(json!({"name": "Phone"}))).await;
    let excluded = &second["options"]["publicKey"]["excludeCredentials"];
    assert_eq!(b64(&excluded[0]["id"]), laptop.id, "the authenticator holding one is not asked twice");
    let (mut phone, _) = register(&api, &owner, "Phone", 9).await;
    let listed = api.ok(&owner, Method::GET, "/me/passkeys", None).await;
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    assert_eq!(api.ok(&owner, Method::GET, "/me/two-factor", None).await["passkeys"], 2);
    let blank = api.call(&owner, Method::POST, "/me/passkeys/options", Some(json!({"name": "  "}))).await;
    assert_eq!(blank.status, 400, "a passkey needs a name");

    // A passkey alone signs in: no e-mail, no password.
    let (status, body, session) = passkey_sign_in(&api, &mut laptop, ORIGIN).await;
    assert_eq!((status, body["email"].as_str()), (200, Some(EMAIL)), "{body}");
    assert_eq!(api.ok(&session.unwrap(), Method::GET, "/me", None).await["email"], EMAIL);
    let (status, body, _) = passkey_sign_in(&api, &mut laptop, "http://evil.test").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("passkey_refused")), "another site's answer: {body}");

    // With passkeys the password is the first of two steps; a passkey is the second.
    let r =
        api.call(&Cred::None, Method::POST, "/auth/login", Some(json!({"email": EMAIL, "password": PASSWORD}))).await;
    assert_eq!((r.status, &r.body["methods"]), (202, &json!(["passkey"])), "{}", r.body);
    let token = r.body["token"].clone();
    let started = api.ok(&Cred::None, Method::POST, "/auth/login/passkey/options", Some(json!({"token": token}))).await;
    assert_eq!(started["options"]["publicKey"]["allowCredentials"].as_array().unwrap().len(), 2, "the account's own");
    let answer = phone.get(&started["options"], ORIGIN);
    let body = json!({"ceremony": started["ceremony"], "credential": answer});
    let r = api.call(&Cred::None, Method::POST, "/auth/login/passkey", Some(body)).await;
    assert_eq!((r.status, r.body["email"].as_str()), (200, Some(EMAIL)), "{}", r.body);
    let used = api.ok(&owner, Method::GET, "/me/passkeys", None).await;
    assert!(used[1]["last_used_at"].is_string(), "{used}");

    // Rename and delete, each only one's own.
    let id = created["id"].as_u64().unwrap();
    let (other, _) = invited(&api, &owner, "viewer@example.com", Some(("a.test", "viewer"))).await;
    let path = format!("/me/passkeys/{id}");
    let r = api.call(&other, Method::PATCH, &path, Some(json!({"name": "Mine now"}))).await;
    assert_eq!(r.status, 404, "another account's passkey");
    assert_eq!(api.call(&other, Method::DELETE, &path, None).await.status, 404);
    let renamed = api.ok(&owner, Method::PATCH, &path, Some(json!({"name": "Work laptop"}))).await;
    assert_eq!(renamed["name"], "Work laptop");
    assert_eq!(api.call(&owner, Method::DELETE, &path, None).await.status, 204);
    assert_eq!(api.call(&owner, Method::DELETE, &path, None).await.status, 404, "gone");
    let (status, body, _) = passkey_sign_in(&api, &mut laptop, ORIGIN).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("passkey_refused")), "a deleted passkey: {body}");
    let (status, _, _) = passkey_sign_in(&api, &mut phone, ORIGIN).await;
    assert_eq!(status, 200, "the other one still works");

    let log = api.ok(&owner, Method::GET, "/audit?limit=50", None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["passkey_added", "passkey_removed", "login_passkey", "passkey_sign_in_failed"] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_passkey_answers_count_against_the_client_like_wrong_passwords() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    setup_admin(&api, EMAIL).await;
    // A credential this server never registered.
    let started = api.ok(&Cred::None, Method::POST, "/auth/passkey/options", Some(json!({}))).await;
    let options = &started["options"];
    assert!(options["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty), "any passkey: {options}");
    assert!(options.get("mediation").is_none(), "a button press, not the autofill prompt");
    let (mut stranger, _) = Credential::create(
        &json!({"publicKey": {"rp": {"id": "localhost"}, "challenge": "AA",
                                                                     "user": {"id": B64.encode([1u8; 16])}}}),
        3,
    );
    let mut statuses = Vec::new();
    for _ in 0..21 {
        let (status, body, _) = passkey_sign_in(&api, &mut stranger, ORIGIN).await;
        statuses.push((status, body["error"].as_str().map(String::from)));
    }
    assert!(statuses[..20].iter().all(|(s, e)| *s == 401 && e.as_deref() == Some("passkey_refused")), "{statuses:?}");
    assert_eq!(statuses[20], (429, Some("rate_limited".to_string())), "20 refusals per client network");
    let junk = json!({"ceremony": "no-such-ceremony", "credential": {"id": "x"}});
    let r = api.call(&Cred::None, Method::POST, "/auth/passkey", Some(junk)).await;
    assert_eq!((r.status, r.body["error"].as_str()), (401, Some("sign_in_expired")), "an unknown ceremony");
    server.stop();
}
