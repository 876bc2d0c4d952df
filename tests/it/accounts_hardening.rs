//! Regression tests for the account holes of issue #13 (items 2, 3, 6, 7 and part of 16), each
//! as an attacker would try it against the real binary.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{DataDir, Server};

const PASSWORD: &str = "correct horse battery";

struct Reply {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

/// One request: `cookie` and `bearer` as given, browser-like same-origin for cookies, and the
/// client address `from` (believed because the server trusts 127.0.0.1 as its proxy).
struct Call<'a> {
    server: &'a Server,
    cookie: Option<String>,
    bearer: Option<String>,
    from: Option<&'a str>,
}

impl<'a> Call<'a> {
    fn anonymous(server: &'a Server) -> Self {
        Self { server, cookie: None, bearer: None, from: None }
    }

    fn cookie(server: &'a Server, c: &str) -> Self {
        Self { cookie: Some(c.to_string()), ..Self::anonymous(server) }
    }

    fn bearer(server: &'a Server, t: &str) -> Self {
        Self { bearer: Some(t.to_string()), ..Self::anonymous(server) }
    }

    fn from(server: &'a Server, ip: &'a str) -> Self {
        Self { from: Some(ip), ..Self::anonymous(server) }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.server.client.request(method, self.server.url(&format!("/api{path}")));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", format!("hk_session={c}")).header("origin", &self.server.base);
        }
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        if let Some(ip) = self.from {
            req = req.header("x-forwarded-for", ip);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.send(method.clone(), path, body).await;
        assert!((200..300).contains(&r.status), "{method} {path}: {} {}", r.status, r.body);
        r.body
    }
}

/// The session secret from a `Set-Cookie` header of either cookie name.
fn session_of(r: &Reply) -> String {
    let set = r.headers.get("set-cookie").expect("set-cookie").to_str().unwrap();
    let pair = set.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

fn login(email: &str, password: &str) -> Option<Value> {
    Some(json!({"email": email, "password": password}))
}

/// Sets up the first user (an instance administrator) and returns their session.
async fn setup_admin(server: &Server, email: &str) -> String {
    let r = Call::anonymous(server).send(Method::POST, "/setup", login(email, PASSWORD)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    session_of(&r)
}

/// Invites `email` with `role` on `site`, accepts, and returns the new user's session and id.
async fn invited(server: &Server, admin: &str, email: &str, site: &str, role: &str) -> (String, u64) {
    let invite = json!({"email": email, "site": site, "role": role});
    let token = Call::cookie(server, admin).ok(Method::POST, "/invites", Some(invite)).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let accept = Some(json!({"password": PASSWORD}));
    let r = Call::anonymous(server).send(Method::POST, &format!("/invites/{token}/accept"), accept).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (session_of(&r), r.body["id"].as_u64().unwrap())
}

fn assert_json_error(r: &Reply, error: &str) {
    assert_eq!(r.body["error"], error, "{} {}", r.status, r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);
}

/// Item 2: an oversized e-mail or password is refused (400 naming the field) before anything
/// is hashed or logged; a failed sign-in to an unknown account logs "unknown account", never
/// the submitted text. (Pruning by age: `the_audit_log_is_pruned_by_age` in the DuckDB adapter.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_cannot_grow_the_audit_log() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let admin = setup_admin(&server, "root@example.com").await;
    let anon = Call::anonymous(&server);

    let huge_email = format!("{}@example.com", "a".repeat(5_000));
    let r = anon.send(Method::POST, "/auth/login", login(&huge_email, "wrong password")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_json_error(&r, "invalid_request");
    assert!(r.body["message"].as_str().unwrap().starts_with("email is too long"), "{}", r.body);
    assert!(r.body.to_string().len() < 1000, "the answer does not echo the input");
    let r = anon.send(Method::POST, "/auth/login", login("root@example.com", &"p".repeat(5000))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().starts_with("password is too long"), "{}", r.body);

    // A password typed into the e-mail field must not end up in the log.
    let r = anon.send(Method::POST, "/auth/login", login("Tr0ub4dor&3@secret.example", "whatever")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = anon.send(Method::POST, "/auth/login", login("not an address", "whatever")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = anon.send(Method::POST, "/auth/login", login("  ROOT@example.com ", "wrong password")).await;
    assert_eq!(r.status, 401, "{}", r.body);

    let audit = Call::cookie(&server, &admin).ok(Method::GET, "/audit?limit=100", None).await;
    let failed: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login_failed")
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["root@example.com", "unknown account", "unknown account"], "newest first");
    let text = audit.to_string();
    assert!(!text.contains("Tr0ub4dor") && !text.contains("aaaaaaaaaa"), "submitted text logged: {text}");
    server.stop();
}

/// Item 3: 40 concurrent wrong passwords for one account from one address are verified at most
/// 5 times (the rest 429, or 503 when hashing is busy); the owner, signing in from where they
/// signed in before, is not locked out; a stranger with the right password is; IPv6 clients
/// count by /64.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_are_verified_at_most_five_times() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &["--trusted-proxies", "127.0.0.1"]);
    server.wait_ready().await;
    setup_admin(&server, "root@example.com").await;
    let owner_home = "198.51.100.7";
    let r =
        Call::from(&server, owner_home).send(Method::POST, "/auth/login", login("root@example.com", PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let mut attack = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (client, url) = (server.client.clone(), server.url("/api/auth/login"));
        attack.spawn(async move {
            let body = json!({"email": "root@example.com", "password": format!("guess number {i}")});
            let r = client.post(url).header("x-forwarded-for", "203.0.113.9").json(&body).send().await.unwrap();
            r.status().as_u16()
        });
    }
    let statuses = attack.join_all().await;
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    assert!(count(401) <= 5, "verified {} wrong passwords: {statuses:?}", count(401));
    assert!(count(401) >= 1, "{statuses:?}");
    assert_eq!(count(401) + count(429) + count(503), 40, "{statuses:?}");

    let r =
        Call::from(&server, owner_home).send(Method::POST, "/auth/login", login("root@example.com", PASSWORD)).await;
    assert_eq!(r.status, 200, "the owner's known address is not locked out: {}", r.body);
    let r =
        Call::from(&server, "192.0.2.44").send(Method::POST, "/auth/login", login("root@example.com", PASSWORD)).await;
    assert_eq!(r.status, 429, "an address never seen for this account is: {}", r.body);
    assert_json_error(&r, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));

    // One IPv6 /64 is one client: 20 failures from different addresses in it use up its limit.
    for i in 1..=20 {
        let from = format!("2001:db8:1:2::{i:x}");
        let r = Call::from(&server, &from)
            .send(Method::POST, "/auth/login", login(&format!("nobody{i}@example.com"), "wrong password"))
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    let r = Call::from(&server, "2001:db8:1:2:ffff::1")
        .send(Method::POST, "/auth/login", login("someone@example.com", "wrong password"))
        .await;
    assert_eq!(r.status, 429, "same /64: {}", r.body);
    let r = Call::from(&server, "2001:db8:1:3::1")
        .send(Method::POST, "/auth/login", login("someone@example.com", "wrong password"))
        .await;
    assert_eq!(r.status, 401, "another /64: {}", r.body);
    server.stop();
}

/// Item 6: a read token limited to site A sees only A in `/api/sites`, `/api/overview` and
/// `/api/me` (as a viewer), although its user owns B too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_site_lists_apply_to_lists_too() {
    let data = DataDir::with_sites(&["a.test", "b.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let admin = setup_admin(&server, "root@example.com").await;
    let (ann, ann_id) = invited(&server, &admin, "ann@example.com", "a.test", "owner").await;
    let owner_b = Some(json!({"role": "owner"}));
    Call::cookie(&server, &admin).ok(Method::PUT, &format!("/sites/b.test/members/{ann_id}"), owner_b).await;
    let token = json!({"name": "a only", "scope": "read", "sites": ["a.test"]});
    let token = Call::cookie(&server, &ann).ok(Method::POST, "/tokens", Some(token)).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let as_token = Call::bearer(&server, &token);

    let domains = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|s| s["domain"].as_str().unwrap().to_string()).collect()
    };
    let sites = as_token.ok(Method::GET, "/sites", None).await;
    assert_eq!(domains(&sites), ["a.test"], "{sites}");
    assert_eq!(sites[0]["role"], "viewer", "a read token acts as a viewer: {sites}");
    let overview = as_token.ok(Method::GET, "/overview", None).await;
    assert_eq!(domains(&overview["sites"]), ["a.test"], "{overview}");
    let me = as_token.ok(Method::GET, "/me", None).await;
    assert_eq!(me["sites"], json!([{"domain": "a.test", "role": "viewer"}]), "{me}");
    let r = as_token.send(Method::GET, "/sites/b.test", None).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // The user's own session still sees both, as owner.
    let sites = Call::cookie(&server, &ann).ok(Method::GET, "/sites", None).await;
    assert_eq!(domains(&sites), ["a.test", "b.test"], "{sites}");
    server.stop();
}

/// Item 7: a site admin can neither demote nor remove the owner (403); the last owner can
/// neither demote nor remove themselves (409), nor be deleted; with a second owner they can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_change_owners_and_a_site_keeps_one() {
    let data = DataDir::with_sites(&["a.test"]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let root = setup_admin(&server, "root@example.com").await;
    let (owner, owner_id) = invited(&server, &root, "owner@example.com", "a.test", "owner").await;
    let (site_admin, admin_id) = invited(&server, &root, "admin@example.com", "a.test", "admin").await;
    let member = |id: u64| format!("/sites/a.test/members/{id}");
    let role = |r: &str| Some(json!({"role": r}));

    let r = Call::cookie(&server, &site_admin).send(Method::PUT, &member(owner_id), role("viewer")).await;
    assert_eq!(r.status, 403, "a site admin demoted the owner: {}", r.body);
    assert_json_error(&r, "forbidden");
    let r = Call::cookie(&server, &site_admin).send(Method::DELETE, &member(owner_id), None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = Call::cookie(&server, &site_admin).send(Method::PUT, &member(admin_id), role("owner")).await;
    assert_eq!(r.status, 403, "nor promote themselves: {}", r.body);

    let r = Call::cookie(&server, &owner).send(Method::PUT, &member(owner_id), role("admin")).await;
    assert_eq!(r.status, 409, "the last owner stepped down: {}", r.body);
    assert_json_error(&r, "conflict");
    let r = Call::cookie(&server, &owner).send(Method::DELETE, &member(owner_id), None).await;
    assert_eq!(r.status, 409, "the last owner left: {}", r.body);
    let r = Call::cookie(&server, &root).send(Method::DELETE, &format!("/users/{owner_id}"), None).await;
    assert_eq!(r.status, 409, "the last owner was deleted: {}", r.body);

    let members = Call::cookie(&server, &owner).ok(Method::GET, "/sites/a.test/members", None).await;
    let owners = members.as_array().unwrap().iter().filter(|m| m["role"] == "owner").count();
    assert_eq!(owners, 1, "{members}");

    // With a second owner, the first may step down.
    Call::cookie(&server, &owner).ok(Method::PUT, &member(admin_id), role("owner")).await;
    Call::cookie(&server, &owner).ok(Method::PUT, &member(owner_id), role("viewer")).await;
    let r = Call::cookie(&server, &site_admin).send(Method::PUT, &member(admin_id), role("admin")).await;
    assert_eq!(r.status, 409, "now they are the last owner: {}", r.body);
    server.stop();
}

/// Item 16 (part): only a valid bearer credential exempts a change from the same-origin rule
/// (not `Authorization: Basic`, which browsers attach by themselves, nor an unknown token);
/// over https the session cookie is `__Host-` prefixed, and the old name is still read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_exemption_needs_a_valid_bearer_and_https_cookies_use_the_host_prefix() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let session = setup_admin(&server, "root@example.com").await;
    let cross_site = |authorization: &str, domain: &str| {
        server
            .client
            .post(server.url("/api/sites"))
            .header("cookie", format!("hk_session={session}"))
            .header("origin", "https://evil.example")
            .header("authorization", authorization)
            .json(&json!({"domain": domain}))
            .send()
    };
    for (authorization, domain) in [("Basic dXNlcjpwYXNz", "basic.test"), ("Bearer hk_not_a_token", "bogus.test")] {
        let r = cross_site(authorization, domain).await.unwrap();
        assert_eq!(r.status(), 403, "{authorization}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "csrf", "{authorization}: {body}");
    }
    let token = json!({"name": "ci", "scope": "admin"});
    let token = Call::cookie(&server, &session).ok(Method::POST, "/tokens", Some(token)).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = cross_site(&format!("Bearer {token}"), "token.test").await.unwrap();
    assert_eq!(r.status(), 201, "a valid token is exempt");
    let sites = Call::cookie(&server, &session).ok(Method::GET, "/sites", None).await;
    let domains: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["token.test"], "nothing else was created");
    server.stop();

    let server = Server::start(&data, &["--public-url", "https://stats.example.com"]);
    server.wait_ready().await;
    let r = Call::anonymous(&server).send(Method::POST, "/auth/login", login("root@example.com", PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-hk_session="), "{cookie}");
    for flag in ["; Secure", "; Path=/", "; HttpOnly"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let host_cookie = server
        .client
        .get(server.url("/api/me"))
        .header("cookie", format!("__Host-hk_session={}", session_of(&r)))
        .send()
        .await
        .unwrap();
    assert_eq!(host_cookie.status(), 200, "the new name is read");
    let r = Call::cookie(&server, &session).send(Method::GET, "/me", None).await;
    assert_eq!(r.status, 200, "the old name is still read: {}", r.body);

    // Links handed out come from --public-url, whatever Host the request names.
    let invite = server
        .client
        .post(server.url("/api/invites"))
        .header("cookie", format!("hk_session={session}"))
        .header("host", "evil.example")
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"email": "new@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status(), 201);
    let invite: Value = invite.json().await.unwrap();
    assert!(invite["url"].as_str().unwrap().starts_with("https://stats.example.com/invite/"), "{invite}");
    server.stop();
}
