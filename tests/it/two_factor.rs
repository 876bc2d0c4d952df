//! Two-factor sign-in against the real binary: TOTP enrolment, the code step, replays, recovery
//! codes, limits on wrong codes, the secret sealed in the database file, the instance policy and
//! `hitkeep user reset-2fa`.

use reqwest::Method;
use serde_json::{Value, json};
use totp_rs::TOTP;

use crate::accounts::{Api, Cred, PASSWORD, invited, session_of, setup_admin};
use crate::harness::{DataDir, Server, cli};

const EMAIL: &str = "owner@example.com";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Enrols an authenticator for the session's account; returns (the app, the recovery codes).
async fn enrol(api: &Api<'_>, session: &Cred) -> (TOTP, Vec<String>, Value) {
    let enrolment = api.call(session, Method::POST, "/me/two-factor/totp", None).await;
    assert_eq!(enrolment.status, 201, "{}", enrolment.body);
    let uri = enrolment.body["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/HitKeep:"), "{uri}");
    assert!(enrolment.body["qr_svg"].as_str().unwrap().contains("<svg"), "a QR code to scan");
    let app = TOTP::from_url(uri).expect("an authenticator app reads the URI");
    let wrong = api.call(session, Method::POST, "/me/two-factor/totp/confirm", Some(json!({"code": "12345"}))).await;
    assert_eq!((wrong.status, wrong.body["error"].as_str()), (400, Some("wrong_code")));
    let code = app.generate(now());
    let confirmed = api.ok(session, Method::POST, "/me/two-factor/totp/confirm", Some(json!({"code": code}))).await;
    let codes: Vec<String> =
        confirmed["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (app, codes, enrolment.body)
}

/// Signs in with the password: (status, body, session cookie if one was set).
async fn password_step(server: &Server) -> (u16, Value) {
    let api = Api { server };
    let r =
        api.call(&Cred::None, Method::POST, "/auth/login", Some(json!({"email": EMAIL, "password": PASSWORD}))).await;
    (r.status, r.body)
}

async fn code_step(server: &Server, token: &str, code: &str) -> (u16, Value, Option<Cred>) {
    let api = Api { server };
    let r = api.call(&Cred::None, Method::POST, "/auth/login/code", Some(json!({"token": token, "code": code}))).await;
    let session = (r.status == 200).then(|| Cred::Cookie(session_of(&r)));
    (r.status, r.body, session)
}

async fn pending_token(server: &Server) -> String {
    let (status, body) = password_step(server).await;
    assert_eq!(status, 202, "the password alone no longer signs in: {body}");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_sign_in_needs_a_fresh_code_and_recovery_codes_work_once() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let owner = setup_admin(&api, EMAIL).await;
    let off = api.ok(&owner, Method::GET, "/me/two-factor", None).await;
    assert_eq!(off, json!({"totp_enabled": false, "recovery_codes_left": 0, "passkeys": 0, "required": false}));

    let (app, codes, _) = enrol(&api, &owner).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10, "all different");
    let on = api.ok(&owner, Method::GET, "/me/two-factor", None).await;
    assert_eq!(on, json!({"totp_enabled": true, "recovery_codes_left": 10, "passkeys": 0, "required": false}));
    let again = api.call(&owner, Method::POST, "/me/two-factor/totp", None).await;
    assert_eq!(again.status, 409, "a second enrolment needs the first turned off");

    // Password -> token -> code. The confirming code's step is used, so take the next one
    // (one step of drift is accepted).
    let token = pending_token(&server).await;
    let (status, body, _) = code_step(&server, &token, "000000").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("wrong_code")), "{body}");
    let next = app.generate(now() + 30);
    let (status, body, session) = code_step(&server, &token, &next).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], EMAIL);
    let me = api.call(session.as_ref().unwrap(), Method::GET, "/me", None).await;
    assert_eq!(me.status, 200, "the second step's cookie is a session");
    let (status, _, _) = code_step(&server, &token, &next).await;
    assert_eq!(status, 401, "a finished sign-in's token is spent");

    // The same code again, in a new sign-in within its window: refused.
    let token = pending_token(&server).await;
    let (status, body, _) = code_step(&server, &token, &next).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("wrong_code")), "replayed code: {body}");

    // A recovery code signs in once; typed in capitals without the dash is the same code.
    let typed = codes[0].replace('-', "").to_uppercase();
    let (status, body, _) = code_step(&server, &token, &typed).await;
    assert_eq!(status, 200, "{body}");
    let token = pending_token(&server).await;
    let (status, _, _) = code_step(&server, &token, &codes[0]).await;
    assert_eq!(status, 401, "a recovery code is good once");
    let left = api.ok(&owner, Method::GET, "/me/two-factor", None).await;
    assert_eq!(left["recovery_codes_left"], 9);

    // New recovery codes void the old ones.
    let wrong = api
        .call(&owner, Method::POST, "/me/two-factor/recovery-codes", Some(json!({"password": "not it at all"})))
        .await;
    assert_eq!((wrong.status, wrong.body["error"].as_str()), (400, Some("wrong_password")));
    let fresh =
        api.ok(&owner, Method::POST, "/me/two-factor/recovery-codes", Some(json!({"password": PASSWORD}))).await;
    let fresh: Vec<&str> = fresh["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let (status, _, _) = code_step(&server, &token, &codes[1]).await;
    assert_eq!(status, 401, "an old recovery code after regeneration");

    // Turning it off needs the password and a code; then the password alone signs in again.
    let disable = |password: &str, code: &str| json!({"password": password, "code": code});
    let r = api.call(&owner, Method::POST, "/me/two-factor/totp/disable", Some(disable("wrong one!", fresh[0]))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = api.call(&owner, Method::POST, "/me/two-factor/totp/disable", Some(disable(PASSWORD, "000000"))).await;
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("wrong_code")));
    let r = api.call(&owner, Method::POST, "/me/two-factor/totp/disable", Some(disable(PASSWORD, fresh[0]))).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (status, body) = password_step(&server).await;
    assert_eq!(status, 200, "{body}");

    let log = api.ok(&owner, Method::GET, "/audit?limit=100", None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["totp_enrolled", "second_factor_failed", "recovery_code_used", "recovery_codes_regenerated"] {
        assert!(actions.contains(&action), "{action} in the audit log: {actions:?}");
    }
    assert!(actions.contains(&"totp_disabled"), "{actions:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_limited_like_wrong_passwords() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let owner = setup_admin(&api, EMAIL).await;
    let (app, _, _) = enrol(&api, &owner).await;
    let token = pending_token(&server).await;
    for attempt in 1..=5 {
        let (status, _, _) = code_step(&server, &token, "000000").await;
        assert_eq!(status, 401, "wrong code {attempt}");
    }
    let api_call =
        api.call(&Cred::None, Method::POST, "/auth/login/code", Some(json!({"token": token, "code": "000000"}))).await;
    assert_eq!(api_call.status, 429, "{}", api_call.body);
    let (status, _, _) = code_step(&server, &token, &app.generate(now() + 30)).await;
    assert_eq!(status, 429, "even the right code waits out the limit");
    let (status, body, _) = code_step(&server, "made-up-token", "123456").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("sign_in_expired")));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_sealed_in_the_database_file_and_reset_2fa_turns_it_off() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let owner = setup_admin(&api, EMAIL).await;
    let (_, codes, enrolment) = enrol(&api, &owner).await;
    server.stop();

    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let raw = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(data.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() || path.file_name().unwrap() == "secret.key" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        assert!(!bytes.windows(raw.len()).any(|w| w == raw), "raw TOTP secret in {}", path.display());
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "base32 secret in {}", path.display());
        for code in &codes {
            assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "recovery code in {}", path.display());
        }
    }
    assert!(files > 0, "the database file was read");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let key = std::fs::metadata(data.dir.path().join("secret.key")).expect("a generated server secret");
        assert_eq!(key.permissions().mode() & 0o777, 0o600, "the server secret is owner-only");
    }

    let (ok, out, err) = cli(&["user", "reset-2fa", "--email", EMAIL, "--data-dir", data.path_str()]);
    assert!(ok, "{err}");
    assert!(out.contains("is off"), "{out}");
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let (status, body) = password_step(&server).await;
    assert_eq!(status, 200, "after reset-2fa the password signs in: {body}");
    let api = Api { server: &server };
    let owner = Cred::Cookie(session_of(
        &api.call(&Cred::None, Method::POST, "/auth/login", Some(json!({"email": EMAIL, "password": PASSWORD}))).await,
    ));
    let log = api.ok(&owner, Method::GET, "/audit?limit=20", None).await;
    assert!(log.as_array().unwrap().iter().any(|e| e["action"] == "two_factor_reset"), "{log}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_admins_can_require_two_factor_for_everyone() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let admin = setup_admin(&api, EMAIL).await;
    let (viewer, _) = invited(&api, &admin, "viewer@example.com", Some(("a.test", "viewer"))).await;
    let token = api.ok(&admin, Method::POST, "/tokens", Some(json!({"name": "ci", "scope": "admin"}))).await;
    let token = Cred::Bearer(token["token"].as_str().unwrap().to_string());
    let r = api.call(&viewer, Method::PUT, "/security-policy", Some(json!({"two_factor_required": true}))).await;
    assert_eq!(r.status, 403, "only instance administrators set the policy");
    let set = api.ok(&admin, Method::PUT, "/security-policy", Some(json!({"two_factor_required": true}))).await;
    assert_eq!(set, json!({"two_factor_required": true}));
    let status = api.ok(&viewer, Method::GET, "/me/two-factor", None).await;
    assert_eq!(status, json!({"totp_enabled": false, "recovery_codes_left": 0, "passkeys": 0, "required": true}));

    // The API enforces the policy too: sessions without a second factor reach only enrolment.
    for (who, path) in [(&viewer, "/sites"), (&viewer, "/sites/a.test/goals"), (&admin, "/security-policy")] {
        let r = api.call(who, Method::GET, path, None).await;
        assert_eq!((r.status, r.body["error"].as_str()), (403, Some("two_factor_required")), "{path}: {}", r.body);
    }
    assert_eq!(api.call(&viewer, Method::GET, "/me", None).await.status, 200, "the account stays readable");
    assert_eq!(api.call(&viewer, Method::GET, "/me/passkeys", None).await.status, 200, "passkeys can be added");
    assert_eq!(api.call(&token, Method::GET, "/sites", None).await.status, 200, "API tokens are not sessions");
    enrol(&api, &admin).await;
    assert_eq!(api.ok(&admin, Method::GET, "/security-policy", None).await, set, "enrolled: everything again");
    assert_eq!(api.call(&viewer, Method::GET, "/sites", None).await.status, 403, "the viewer still has none");
    let log = api.ok(&admin, Method::GET, "/audit?limit=20", None).await;
    let entry = log.as_array().unwrap().iter().find(|e| e["action"] == "policy_changed").expect("audited");
    assert_eq!(entry["target"], "two_factor_required=true");
    server.stop();
}
