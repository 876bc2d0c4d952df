//! Accounts and access control against the real binary: the authorisation matrix over every
//! `/api` operation in the OpenAPI spec, rate limits, cookie flags, CSRF, setup-once, secrets at rest.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{DataDir, Server, cli};

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A way to call the API.
#[derive(Clone, Debug)]
pub(crate) enum Cred {
    None,
    Cookie(String),
    Bearer(String),
}

/// A client that speaks to one server with one credential, like a browser (cookie + same
/// Origin) or a program (bearer).
pub(crate) struct Api<'a> {
    pub(crate) server: &'a Server,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Api<'_> {
    pub(crate) async fn call(&self, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.server.client.request(method, self.server.url(&format!("/api{path}")));
        match cred {
            Cred::None => {}
            Cred::Cookie(c) => {
                req = req.header("cookie", format!("hk_session={c}")).header("origin", &self.server.base)
            }
            Cred::Bearer(t) => req = req.bearer_auth(t),
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body, headers }
    }

    pub(crate) async fn ok(&self, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.call(cred, method.clone(), path, body).await;
        assert!((200..300).contains(&r.status), "{method} {path}: {} {}", r.status, r.body);
        r.body
    }
}

/// The session cookie's value from a `Set-Cookie` header.
pub(crate) fn session_of(r: &Reply) -> String {
    let set = r.headers.get("set-cookie").expect("set-cookie").to_str().unwrap();
    set.split(';').next().unwrap().strip_prefix("hk_session=").expect("hk_session cookie").to_string()
}

pub(crate) async fn setup_admin(api: &Api<'_>, email: &str) -> Cred {
    let r = api.call(&Cred::None, Method::POST, "/setup", Some(json!({"email": email, "password": PASSWORD}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    Cred::Cookie(session_of(&r))
}

/// Invites `email` (as `by`), accepts, and returns the new user's session and id.
pub(crate) async fn invited(api: &Api<'_>, by: &Cred, email: &str, site: Option<(&str, &str)>) -> (Cred, u64) {
    let mut body = json!({"email": email});
    if let Some((s, role)) = site {
        body["site"] = json!(s);
        body["role"] = json!(role);
    }
    let invite = api.ok(by, Method::POST, "/invites", Some(body)).await;
    let token = invite["token"].as_str().unwrap().to_string();
    assert!(invite["url"].as_str().unwrap().ends_with(&format!("/invite/{token}")));
    let r = api
        .call(&Cred::None, Method::POST, &format!("/invites/{token}/accept"), Some(json!({"password": PASSWORD})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_u64().unwrap();
    (Cred::Cookie(session_of(&r)), id)
}

const PRINCIPALS: [&str; 8] = [
    "anonymous",
    "viewer of A",
    "admin of A",
    "admin of B only",
    "read token A",
    "admin token A",
    "share A",
    "instance admin",
];

/// Expected statuses by principal, in `PRINCIPALS` order.
type Row = [u16; 8];
const READ: Row = [401, 200, 200, 404, 200, 200, 200, 200];
const ANY_SIGNED_IN: Row = [401, 200, 200, 200, 200, 200, 200, 200];
const PUBLIC_404: Row = [404; 8];
const INSTANCE_ADMIN: Row = [401, 403, 403, 403, 403, 403, 403, 200];
const PERSONAL: Row = [401, 200, 200, 200, 403, 403, 403, 200];

/// A segment body of Google visitors.
pub(crate) fn segment(name: &str, kind: &str) -> Value {
    json!({"name": name, "type": kind, "segment_data": {"filters": [["is", "visit:source", ["Google"]]]}})
}

fn manage(ok: u16) -> Row {
    [401, 403, ok, 404, 403, ok, 403, ok]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix_covers_every_api_operation() {
    let data = DataDir::with_sites(&["a.test", "b.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };

    let admin = setup_admin(&api, "root@example.com").await;
    let (viewer_a, _) = invited(&api, &admin, "viewer@example.com", Some(("a.test", "viewer"))).await;
    let (admin_a, _) = invited(&api, &admin, "admin-a@example.com", Some(("a.test", "admin"))).await;
    let (admin_b, _) = invited(&api, &admin, "admin-b@example.com", Some(("b.test", "admin"))).await;
    let read_tok = api
        .ok(&admin_a, Method::POST, "/tokens", Some(json!({"name": "r", "scope": "read", "sites": ["a.test"]})))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_tok = api
        .ok(&admin_a, Method::POST, "/tokens", Some(json!({"name": "w", "scope": "admin", "sites": ["a.test"]})))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let share = api.ok(&admin_a, Method::POST, "/sites/a.test/shares", Some(json!({"name": "public"}))).await;
    let share_token = share["token"].as_str().unwrap();
    let access = api.ok(&Cred::None, Method::POST, &format!("/share/{share_token}"), Some(json!({}))).await;
    let creds = [
        Cred::None,
        viewer_a,
        admin_a,
        admin_b,
        Cred::Bearer(read_tok),
        Cred::Bearer(admin_tok),
        Cred::Bearer(access["access_token"].as_str().unwrap().to_string()),
        admin.clone(),
    ];
    let funnel = api
        .ok(
            &admin,
            Method::POST,
            "/sites/a.test/funnels",
            Some(json!({"name": "f", "steps": [{"page_path": "/"}, {"page_path": "/b"}]})),
        )
        .await["id"]
        .as_u64()
        .unwrap();

    // Every operation of the published spec, in the order the rules list them.
    let spec: Value = server.client.get(server.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut ops: BTreeMap<String, (Method, String)> = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            ops.insert(id.to_string(), (method.to_uppercase().parse().unwrap(), path.clone()));
            let secured = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            let public = [
                "setupStatus",
                "setup",
                "login",
                "loginCode",
                "ssoInfo",
                "ssoStart",
                "ssoCallback",
                "logout",
                "inviteInfo",
                "acceptInvite",
                "openShare",
                "passkeySignInOptions",
                "passkeySignIn",
                "secondFactorPasskeyOptions",
                "loginPasskey",
            ];
            assert_eq!(secured, !public.contains(&id), "{id}: security declared in the spec");
        }
    }

    // Rules: operation -> expected statuses. Destructive ones run last.
    let rules: Vec<(&str, Row)> = vec![
        ("setupStatus", [200; 8]),
        ("setup", [409; 8]),
        ("login", [401; 8]),
        ("loginCode", [401; 8]),
        // Single sign-on is not configured on this server.
        ("ssoInfo", [200; 8]),
        ("ssoStart", PUBLIC_404),
        ("ssoCallback", PUBLIC_404),
        ("inviteInfo", PUBLIC_404),
        ("acceptInvite", PUBLIC_404),
        ("openShare", PUBLIC_404),
        ("me", [401, 200, 200, 200, 200, 200, 403, 200]),
        ("changePassword", [401, 400, 400, 400, 403, 403, 403, 400]),
        ("updateMe", PERSONAL),
        // Two-factor sign-in of one's own account; the instance policy (issue 18).
        ("twoFactorStatus", PERSONAL),
        ("beginTotp", [401, 201, 201, 201, 403, 403, 403, 201]),
        ("confirmTotp", [401, 400, 400, 400, 403, 403, 403, 400]),
        ("disableTotp", [401, 404, 404, 404, 403, 403, 403, 404]),
        ("regenerateRecoveryCodes", [401, 404, 404, 404, 403, 403, 403, 404]),
        ("securityPolicy", INSTANCE_ADMIN),
        ("setSecurityPolicy", INSTANCE_ADMIN),
        // Passkeys of one's own account, and the sign-ins with one (public: no ceremony here).
        ("listPasskeys", PERSONAL),
        ("passkeyRegistrationOptions", PERSONAL),
        ("registerPasskey", [401, 400, 400, 400, 403, 403, 403, 400]),
        ("renamePasskey", [401, 404, 404, 404, 403, 403, 403, 404]),
        ("deletePasskey", [401, 404, 404, 404, 403, 403, 403, 404]),
        ("passkeySignInOptions", [200; 8]),
        ("passkeySignIn", [401; 8]),
        ("secondFactorPasskeyOptions", [400; 8]),
        ("loginPasskey", [401; 8]),
        ("listUsers", INSTANCE_ADMIN),
        ("updateUser", INSTANCE_ADMIN),
        ("deleteUser", [401, 403, 403, 403, 403, 403, 403, 204]),
        ("auditLog", INSTANCE_ADMIN),
        ("getCluster", INSTANCE_ADMIN),
        ("createInvite", [401, 403, 201, 404, 403, 201, 403, 201]),
        ("listTokens", PERSONAL),
        ("createToken", [401, 201, 201, 404, 403, 403, 403, 201]),
        ("revokeToken", [401, 404, 404, 404, 403, 403, 403, 204]),
        ("listSites", ANY_SIGNED_IN),
        ("overview", ANY_SIGNED_IN),
        // --site-creation admins, the default (issue 13, item 5).
        ("createSite", [401, 403, 403, 403, 403, 403, 403, 201]),
        ("getSite", READ),
        ("updateSite", manage(200)),
        ("listMembers", manage(200)),
        ("setMember", manage(204)),
        ("removeMember", manage(204)),
        ("listShares", manage(200)),
        ("createShare", manage(201)),
        ("revokeShare", manage(204)),
        ("query", READ),
        ("webVitals", READ),
        ("realtime", READ),
        ("listGoals", READ),
        ("createGoal", manage(201)),
        ("deleteGoal", manage(204)),
        ("listFunnels", READ),
        ("createFunnel", manage(201)),
        ("funnelReport", READ),
        ("deleteFunnel", manage(204)),
        // Segments: readers save personal ones; site-wide ones are changed by site managers.
        ("listSegments", READ),
        ("createSegment", [401, 201, 201, 404, 403, 201, 403, 201]),
        ("updateSegment", manage(200)),
        ("deleteSegment", manage(204)),
        // AI visibility reads; annotations: readers list them, site managers write them.
        ("aiVisibility", READ),
        ("listAnnotations", READ),
        ("createAnnotation", manage(201)),
        ("updateAnnotation", manage(200)),
        ("deleteAnnotation", manage(204)),
        // Data lifecycle: exports read, imports and report subscriptions manage, backups and
        // retention are instance-wide (422: the upload got as far as the parser; 503: no SMTP).
        ("exportEvents", [401, 200, 200, 404, 200, 200, 403, 200]),
        ("importHistory", manage(422)),
        ("listEmailReports", manage(200)),
        ("subscribeEmailReport", manage(201)),
        ("unsubscribeEmailReport", manage(204)),
        ("sendEmailReport", manage(503)),
        // Webhooks and alerts: site managers (a redelivery of no delivery: 404 once allowed).
        ("listWebhooks", manage(200)),
        ("createWebhook", manage(201)),
        ("deleteWebhook", manage(204)),
        ("listWebhookDeliveries", manage(200)),
        ("redeliverWebhook", manage(404)),
        ("getAlertSettings", manage(200)),
        ("putAlertSettings", manage(200)),
        ("listAlerts", manage(200)),
        ("backup", [401, 403, 403, 403, 403, 403, 403, 201]),
        ("applyRetention", INSTANCE_ADMIN),
        ("deleteSite", [401, 403, 403, 404, 403, 403, 403, 204]),
        ("logout", [204; 8]),
    ];
    let ruled: HashMap<&str, Row> = rules.iter().cloned().collect();
    let missing: Vec<&String> = ops.keys().filter(|id| !ruled.contains_key(id.as_str())).collect();
    assert!(missing.is_empty(), "operations without an authorisation rule: {missing:?}");

    let mut failures = Vec::new();
    let mut n = 0;
    for (id, row) in &rules {
        let (method, template) = ops.get(*id).unwrap_or_else(|| panic!("rule for unknown operation {id}"));
        for (who, (cred, expected)) in creds.iter().zip(row.iter()).enumerate() {
            n += 1;
            // Fresh objects for operations that consume them.
            let fresh_user =
                || async { invited(&api, &admin, &format!("tmp{n}@example.com"), Some(("a.test", "viewer"))).await.1 };
            let mut path = template.replace("{site}", "a.test");
            let body: Option<Value> = match *id {
                "setup" => Some(json!({"email": "late@example.com", "password": PASSWORD})),
                "login" => Some(json!({"email": format!("nobody{n}@example.com"), "password": "wrong password"})),
                "acceptInvite" => Some(json!({"password": PASSWORD})),
                "openShare" => Some(json!({})),
                "changePassword" => Some(json!({"current_password": "not my password", "new_password": "whatever123"})),
                "updateUser" => Some(json!({"is_admin": false})),
                "updateMe" => Some(json!({"language": "de"})),
                "loginCode" => Some(json!({"token": "no-such-sign-in", "code": "123456"})),
                "confirmTotp" => Some(json!({"code": "not a code"})),
                "disableTotp" => Some(json!({"password": PASSWORD, "code": "123456"})),
                "regenerateRecoveryCodes" => Some(json!({"password": PASSWORD})),
                "setSecurityPolicy" => Some(json!({"two_factor_required": false})),
                "passkeyRegistrationOptions" | "renamePasskey" => Some(json!({"name": format!("key {n}")})),
                "registerPasskey" | "passkeySignIn" | "loginPasskey" => {
                    Some(json!({"ceremony": "no-such-ceremony", "credential": {}}))
                }
                "passkeySignInOptions" => Some(json!({"remember": false})),
                "secondFactorPasskeyOptions" => Some(json!({"token": "no-such-sign-in"})),
                "createInvite" => Some(json!({"email": format!("inv{n}@example.com"), "site": "a.test"})),
                "createToken" => Some(json!({"name": "t", "sites": ["a.test"]})),
                "createSite" => Some(json!({"domain": format!("new{n}.test")})),
                "updateSite" => Some(json!({"retention_days": 400})),
                "setMember" => Some(json!({"role": "viewer"})),
                "createShare" => Some(json!({"name": "s"})),
                "query" => Some(json!({"site_id": "a.test", "date_range": "7d", "metrics": ["visitors"]})),
                "createGoal" => Some(json!({"event_name": format!("Signup{n}")})),
                "createSegment" => Some(segment(&format!("s{n}"), "personal")),
                "updateSegment" => Some(json!({"name": format!("renamed{n}")})),
                "createAnnotation" => Some(json!({"note": format!("note {n}")})),
                "updateAnnotation" => Some(json!({"date": "2026-11-02", "note": format!("changed {n}")})),
                "subscribeEmailReport" => Some(json!({"email": format!("sub{n}@example.com"), "frequency": "week"})),
                "sendEmailReport" => Some(json!({"email": "owner@example.com", "period": "week"})),
                "backup" => Some(json!({"to": format!("matrix-{n}")})),
                // A public address literal: checked without DNS, never contacted (no alert fires).
                "createWebhook" => {
                    Some(json!({"url": format!("http://93.184.216.34/h{n}"), "events": ["traffic.spike"]}))
                }
                "putAlertSettings" => Some(json!({"enabled": true, "spike_factor": 3.0, "drop_factor": 0.5,
                                                  "min_pageviews": 20, "weeks": 4, "emails": []})),
                "importHistory" => Some(json!("not an export")),
                "createFunnel" => {
                    Some(json!({"name": format!("f{n}"), "steps": [{"page_path": "/"}, {"page_path": "/x"}]}))
                }
                _ => None,
            };
            let param = match *id {
                "inviteInfo" | "acceptInvite" | "openShare" => "no-such-token".to_string(),
                "updateUser" | "deleteUser" | "setMember" | "removeMember" => fresh_user().await.to_string(),
                "revokeToken" => {
                    api.ok(&admin, Method::POST, "/tokens", Some(json!({"name": "x"}))).await["id"].to_string()
                }
                "revokeShare" => {
                    api.ok(&admin, Method::POST, "/sites/a.test/shares", Some(json!({}))).await["id"].to_string()
                }
                "deleteGoal" => api
                    .ok(&admin, Method::POST, "/sites/a.test/goals", Some(json!({"event_name": format!("G{n}")})))
                    .await["id"]
                    .to_string(),
                "deleteFunnel" => api
                    .ok(
                        &admin,
                        Method::POST,
                        "/sites/a.test/funnels",
                        Some(json!({"name": format!("d{n}"), "steps": [{"page_path": "/"}, {"page_path": "/y"}]})),
                    )
                    .await["id"]
                    .to_string(),
                "funnelReport" => funnel.to_string(),
                "deleteWebhook" => {
                    let hook = json!({"url": format!("http://93.184.216.34/d{n}"), "events": ["traffic.drop"]});
                    api.ok(&admin, Method::POST, "/sites/a.test/webhooks", Some(hook)).await["id"].to_string()
                }
                "redeliverWebhook" | "renamePasskey" | "deletePasskey" => "999999".to_string(),
                "updateAnnotation" | "deleteAnnotation" => api
                    .ok(&admin, Method::POST, "/sites/a.test/annotations", Some(json!({"note": format!("a{n}")})))
                    .await["id"]
                    .to_string(),
                "updateSegment" | "deleteSegment" => api
                    .ok(&admin, Method::POST, "/sites/a.test/segments", Some(segment(&format!("g{n}"), "site")))
                    .await["id"]
                    .to_string(),
                "unsubscribeEmailReport" => {
                    let sub = json!({"email": format!("unsub{n}@example.com"), "frequency": "week"});
                    api.ok(&admin, Method::POST, "/sites/a.test/email-reports", Some(sub)).await;
                    String::new()
                }
                _ => String::new(),
            };
            for name in ["{id}", "{token}", "{user_id}"] {
                path = path.replace(name, &param);
            }
            match *id {
                "exportEvents" => path.push_str("?from=2026-01-01&to=2026-01-02&format=csv"),
                "importHistory" => path.push_str("?source=umami&dry_run=true"),
                "unsubscribeEmailReport" => path.push_str(&format!("?email=unsub{n}@example.com&frequency=week")),
                _ => {}
            }
            let r = api.call(cred, method.clone(), &path, body).await;
            if r.status != *expected {
                failures.push(format!("{id} as {}: expected {expected}, got {} {}", PRINCIPALS[who], r.status, r.body));
            }
            if r.status >= 400 {
                assert!(
                    r.body["error"].is_string() && r.body["message"].is_string(),
                    "{id}: JSON error body: {}",
                    r.body
                );
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} calls differ:\n{}", failures.len(), failures.join("\n"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_happens_once_and_sessions_survive_a_restart() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    assert_eq!(api.ok(&Cred::None, Method::GET, "/setup", None).await["needed"], true);
    let weak = api
        .call(&Cred::None, Method::POST, "/setup", Some(json!({"email": "a@example.com", "password": "short"})))
        .await;
    assert_eq!(weak.status, 400);
    assert!(weak.body["message"].as_str().unwrap().contains("at least 8"), "{}", weak.body);
    let bad_mail =
        api.call(&Cred::None, Method::POST, "/setup", Some(json!({"email": "nope", "password": PASSWORD}))).await;
    assert_eq!(bad_mail.status, 400);
    let admin = setup_admin(&api, "a@example.com").await;
    let again = api
        .call(&Cred::None, Method::POST, "/setup", Some(json!({"email": "b@example.com", "password": PASSWORD})))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(api.ok(&Cred::None, Method::GET, "/setup", None).await["needed"], false);
    let me = api.ok(&admin, Method::GET, "/me", None).await;
    assert_eq!(me["email"], "a@example.com");
    assert_eq!(me["is_admin"], true);
    assert_eq!(me["sites"][0]["domain"], "a.test");
    server.stop();

    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    assert_eq!(api.ok(&admin, Method::GET, "/me", None).await["email"], "a@example.com", "the session survived");
    let out = api.call(&admin, Method::POST, "/auth/logout", None).await;
    assert_eq!(out.status, 204);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(api.call(&admin, Method::GET, "/me", None).await.status, 401, "logged out");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_have_safe_flags() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    setup_admin(&api, "a@example.com").await;
    let login = |remember: bool| json!({"email": "A@Example.com", "password": PASSWORD, "remember": remember});
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login(false))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-http server: {cookie}");
    assert!(!cookie.contains("Max-Age"), "a browser-session cookie without remember me: {cookie}");
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login(true))).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Max-Age=2592000"), "remember me keeps 30 days: {cookie}");
    server.stop();

    let server = Server::start(&data, &["--public-url", "https://stats.example.com"]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login(false))).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "https public URL: {cookie}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_rate_limited_per_account_and_per_address() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let admin = setup_admin(&api, "root@example.com").await;
    invited(&api, &admin, "bob@example.com", None).await;
    let login = |email: &str, password: &str| json!({"email": email, "password": password});

    // Unknown accounts cost the same argon2 work as wrong passwords.
    let time = |email: &'static str| {
        let api = &api;
        async move {
            let started = Instant::now();
            let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login(email, "wrong password"))).await;
            assert_eq!(r.status, 401);
            assert_eq!(r.body["error"], "bad_credentials");
            started.elapsed()
        }
    };
    let known = time("root@example.com").await;
    let unknown = time("ghost@example.com").await;
    assert!(unknown * 3 > known, "unknown {unknown:?} vs known {known:?}: an unknown account must not answer faster");

    // Per account: 5 failures, then 429 even with the right password.
    for _ in 0..4 {
        let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login("root@example.com", "nope nope"))).await;
        assert_eq!(r.status, 401);
    }
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login("root@example.com", PASSWORD))).await;
    assert_eq!(r.status, 429, "{}", r.body);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    // Another account from the same address still signs in.
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login("bob@example.com", PASSWORD))).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Per address: 20 failures in all (6 so far), then every account is refused from here.
    for i in 0..14 {
        let r =
            api.call(&Cred::None, Method::POST, "/auth/login", Some(login(&format!("x{i}@example.com"), "no"))).await;
        assert_eq!(r.status, 401);
    }
    let r = api.call(&Cred::None, Method::POST, "/auth/login", Some(login("bob@example.com", PASSWORD))).await;
    assert_eq!(r.status, 429);
    assert!(r.headers.contains_key("retry-after"));

    let audit = api.ok(&admin, Method::GET, "/audit?limit=1000", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.iter().filter(|a| **a == "login_failed").count() >= 20);
    assert!(actions.contains(&"login") && actions.contains(&"setup") && actions.contains(&"invite_accepted"));
    assert!(audit[0]["ip"].as_str().unwrap().ends_with(".0/24"), "truncated address: {}", audit[0]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_changes_with_a_cookie_are_refused() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let Cred::Cookie(session) = setup_admin(&api, "root@example.com").await else { unreachable!() };
    let post = |domain: &str| {
        server
            .client
            .post(server.url("/api/sites"))
            .header("cookie", format!("hk_session={session}"))
            .json(&json!({"domain": domain}))
    };
    let evil = post("evil1.test").header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(evil.status(), 403);
    let body: Value = evil.json().await.unwrap();
    assert_eq!(body["error"], "csrf");
    let fetch_meta = post("evil2.test").header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(fetch_meta.status(), 403);
    let bare = post("evil3.test").send().await.unwrap();
    assert_eq!(bare.status(), 403, "a cookie-authenticated change without Origin is refused");
    let same = post("fine.test").header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(same.status(), 201);
    let same_origin = post("fine2.test").header("origin", &server.base).send().await.unwrap();
    assert_eq!(same_origin.status(), 201);
    // Reads are not changes; tokens are exempt (browsers never attach them by themselves).
    let read = server.client.get(server.url("/api/sites")).header("cookie", format!("hk_session={session}"));
    assert_eq!(read.header("origin", "https://evil.example").send().await.unwrap().status(), 200);
    let token = api
        .ok(&Cred::Cookie(session.clone()), Method::POST, "/tokens", Some(json!({"name": "ci", "scope": "admin"})))
        .await;
    let with_token = server
        .client
        .post(server.url("/api/sites"))
        .bearer_auth(token["token"].as_str().unwrap())
        .header("origin", "https://evil.example")
        .json(&json!({"domain": "tok.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 201);
    let sites = api.ok(&Cred::Cookie(session), Method::GET, "/sites", None).await;
    let domains: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["fine.test", "fine2.test", "tok.test"], "nothing was created by refused calls");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_share_links_work_and_are_revocable() {
    let data = DataDir::with_sites(&["a.test", "b.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let admin = setup_admin(&api, "root@example.com").await;

    let created = api
        .ok(
            &admin,
            Method::POST,
            "/tokens",
            Some(json!({"name": "grafana", "sites": ["a.test"], "expires_in_days": 30})),
        )
        .await;
    let token = Cred::Bearer(created["token"].as_str().unwrap().to_string());
    assert!(created["token"].as_str().unwrap().starts_with("hk_"));
    assert_eq!(created["scope"], "read");
    assert!(created["expires_at"].is_string());
    let q = json!({"site_id": "a.test", "date_range": "7d", "metrics": ["visitors"]});
    assert_eq!(api.call(&token, Method::POST, "/v2/query", Some(q.clone())).await.status, 200);
    let other = json!({"site_id": "b.test", "date_range": "7d", "metrics": ["visitors"]});
    assert_eq!(api.call(&token, Method::POST, "/v2/query", Some(other)).await.status, 404);
    let listed = api.ok(&admin, Method::GET, "/tokens", None).await;
    assert!(listed[0]["last_used_at"].is_string(), "last use recorded: {listed}");
    assert!(listed[0].get("token").is_none(), "the secret is shown once");
    let id = created["id"].as_u64().unwrap();
    assert_eq!(api.call(&admin, Method::DELETE, &format!("/tokens/{id}"), None).await.status, 204);
    assert_eq!(api.call(&token, Method::POST, "/v2/query", Some(q.clone())).await.status, 401, "revoked at once");

    let share = api
        .ok(
            &admin,
            Method::POST,
            "/sites/a.test/shares",
            Some(json!({"name": "press", "password": "let me in please"})),
        )
        .await;
    let link = share["token"].as_str().unwrap();
    assert!(share["url"].as_str().unwrap().ends_with(&format!("/share/{link}")));
    let open = |password: Option<&str>| json!({"password": password});
    let r = api.call(&Cred::None, Method::POST, &format!("/share/{link}"), Some(open(None))).await;
    assert_eq!((r.status, r.body["error"].as_str()), (401, Some("password_required")));
    let r = api.call(&Cred::None, Method::POST, &format!("/share/{link}"), Some(open(Some("guess guess")))).await;
    assert_eq!((r.status, r.body["error"].as_str()), (401, Some("wrong_password")));
    let r = api.call(&Cred::None, Method::POST, &format!("/share/{link}"), Some(open(Some("let me in please")))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["site"]["domain"], "a.test");
    let viewer = Cred::Bearer(r.body["access_token"].as_str().unwrap().to_string());
    assert_eq!(api.call(&viewer, Method::POST, "/v2/query", Some(q.clone())).await.status, 200);
    assert_eq!(api.call(&viewer, Method::GET, "/sites/b.test", None).await.status, 404);
    let goal = api.call(&viewer, Method::POST, "/sites/a.test/goals", Some(json!({"event_name": "X"}))).await;
    assert_eq!(goal.status, 403);
    let visible = api.ok(&viewer, Method::GET, "/sites", None).await;
    assert_eq!(visible.as_array().unwrap().len(), 1, "a share link sees its site only");
    let share_id = share["id"].as_u64().unwrap();
    let revoked = api.call(&admin, Method::DELETE, &format!("/sites/a.test/shares/{share_id}"), None).await;
    assert_eq!(revoked.status, 204);
    assert_eq!(api.call(&viewer, Method::POST, "/v2/query", Some(q)).await.status, 401, "revoked link, revoked access");
    let r = api.call(&Cred::None, Method::POST, &format!("/share/{link}"), Some(open(Some("let me in please")))).await;
    assert_eq!(r.status, 404);

    let audit = api.ok(&admin, Method::GET, "/audit", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["token_created", "token_revoked", "share_created", "share_revoked", "share_password_failed"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_user_and_token_from_the_command_line() {
    let data = DataDir::with_sites(&["a.test", "b.test"]);
    let out = std::process::Command::new(crate::harness::bin())
        .args(["user", "add", "--email", "ops@example.com", "--role", "user", "--site", "a.test=admin"])
        .args(["--data-dir", data.path_str()])
        .env("HITKEEP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let short = std::process::Command::new(crate::harness::bin())
        .args(["user", "add", "--email", "x@example.com", "--data-dir", data.path_str()])
        .env("HITKEEP_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    let (ok, token, err) = cli(&[
        "token",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "deploy",
        "--site",
        "a.test",
        "--scope",
        "admin",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(ok, "{err}");
    let (bad, _, err) = cli(&[
        "token",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "n",
        "--site",
        "zzz.test",
        "--data-dir",
        data.path_str(),
    ]);
    assert!(!bad && err.contains("no site"), "{err}");

    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let token = Cred::Bearer(token.trim().to_string());
    let goal = api.call(&token, Method::POST, "/sites/a.test/goals", Some(json!({"event_name": "Deploy"}))).await;
    assert_eq!(goal.status, 201, "{}", goal.body);
    assert_eq!(api.call(&token, Method::GET, "/sites/b.test/goals", None).await.status, 404);
    // The CLI user is not an instance admin, and setup is no longer open.
    assert_eq!(api.ok(&Cred::None, Method::GET, "/setup", None).await["needed"], false);
    let login = api
        .call(&Cred::None, Method::POST, "/auth/login", Some(json!({"email": "ops@example.com", "password": PASSWORD})))
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["is_admin"], false);
    assert_eq!(login.body["sites"], json!([{"domain": "a.test", "role": "admin"}]));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_stored_in_plain_text() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let r = api
        .call(&Cred::None, Method::POST, "/setup", Some(json!({"email": "root@example.com", "password": PASSWORD})))
        .await;
    let session = session_of(&r);
    let admin = Cred::Cookie(session.clone());
    let token = api.ok(&admin, Method::POST, "/tokens", Some(json!({"name": "t"}))).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let share_password = "share password 42";
    let share = api.ok(&admin, Method::POST, "/sites/a.test/shares", Some(json!({"password": share_password}))).await;
    let share_token = share["token"].as_str().unwrap().to_string();
    let access = api
        .ok(&Cred::None, Method::POST, &format!("/share/{share_token}"), Some(json!({"password": share_password})))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let invite = api.ok(&admin, Method::POST, "/invites", Some(json!({"email": "new@example.com"}))).await;
    let invite_token = invite["token"].as_str().unwrap().to_string();
    server.stop();

    let secrets = [PASSWORD, share_password, &session, &token, &share_token, &access, &invite_token];
    // Every text and blob value of every table, read back through DuckDB.
    let db = duckdb::Connection::open(data.dir.path().join("hitkeep.db")).unwrap();
    let mut columns = db
        .prepare(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type IN ('VARCHAR', 'BLOB')",
        )
        .unwrap();
    let columns: Vec<(String, String)> =
        columns.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert!(columns.iter().any(|(t, c)| t == "users" && c == "password_hash"));
    let mut checked = 0;
    for (table, column) in &columns {
        let sql = format!("SELECT CAST(\"{column}\" AS VARCHAR) FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
        let mut stmt = db.prepare(&sql).unwrap();
        let values: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        for v in values {
            checked += 1;
            for s in &secrets {
                assert!(!v.contains(s), "{table}.{column} holds a secret in plain text");
            }
        }
    }
    assert!(checked > 5, "values checked: {checked}");
    let hash: String = db.query_row("SELECT password_hash FROM users", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    // And the raw file bytes.
    drop(db);
    for file in ["hitkeep.db", "hitkeep.db.wal"] {
        if let Ok(bytes) = std::fs::read(data.dir.path().join(file)) {
            for s in &secrets {
                assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{file} holds a secret");
            }
        }
    }
}
