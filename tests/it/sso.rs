//! Single sign-on against a real OpenID Connect provider (node-oidc-provider from tests/oidc, on a
//! loopback port): a browser's way through it is walked with plain HTTP (redirects, cookies, its
//! sign-in and consent forms), then the dashboard's session is checked.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::{Api, Cred, PASSWORD, setup_admin};
use crate::harness::{DataDir, Server, checkout};

const CLIENT: &str = "hitkeep";
const SECRET: &str = "hitkeep-test-secret";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The provider process; stopped when dropped.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider with extra environment variables (`OIDC_TLS_CERT`/`OIDC_TLS_KEY`: https).
pub(crate) fn start_provider(redirect_uri: &str, env: &[(&str, &str)]) -> Provider {
    let dir = checkout().join("tests/oidc");
    assert!(dir.join("node_modules/oidc-provider").exists(), "run `npm ci --prefix tests/oidc` (make test does)");
    let port = free_port();
    let mut child = Command::new("node")
        .arg(dir.join("provider.mjs"))
        .args([&port.to_string(), redirect_uri, CLIENT, SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .envs(env.iter().copied())
        .spawn()
        .expect("node runs the test provider");
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let line = lines.next().expect("provider output").unwrap();
    let issuer = line.strip_prefix("ready ").expect("the provider is ready").to_string();
    // Keep reading: the provider logs notices, and a closed pipe would end it.
    std::thread::spawn(move || for _ in lines {});
    Provider { child, issuer }
}

/// The server's flags for the test provider at `issuer` (people of example.com get accounts).
pub(crate) fn oidc_flags<'a>(public: &'a str, issuer: &'a str) -> Vec<&'a str> {
    vec![
        "--public-url",
        public,
        "--oidc-issuer",
        issuer,
        "--oidc-client-id",
        CLIENT,
        "--oidc-client-secret",
        SECRET,
        "--oidc-allowed-domains",
        "example.com",
    ]
}

/// A browser: cookies per host:port, redirects followed by hand.
#[derive(Default)]
pub(crate) struct Browser {
    jar: HashMap<String, HashMap<String, String>>,
    /// A CA it trusts besides the system's (an https test provider's).
    pub(crate) ca: Option<reqwest::Certificate>,
}

pub(crate) struct Page {
    pub(crate) url: String,
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Browser {
    fn host(url: &str) -> String {
        let u = url::Url::parse(url).unwrap();
        format!("{}:{}", u.host_str().unwrap(), u.port_or_known_default().unwrap())
    }

    async fn request(&mut self, method: Method, url: &str, form: Option<&[(&str, &str)]>) -> reqwest::Response {
        let builder = crate::harness::http_builder().redirect(reqwest::redirect::Policy::none());
        let client = builder.tls_certs_merge(self.ca.clone()).build().unwrap();
        let mut req = client.request(method, url);
        let cookies: Vec<String> =
            self.jar.get(&Self::host(url)).into_iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        if let Some(fields) = form {
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            req = req.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let resp = req.send().await.expect("request");
        for set in resp.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.jar.entry(Self::host(url)).or_default().insert(k.trim().into(), v.trim().into());
            }
        }
        resp
    }

    /// Goes to `url` and follows redirects until a page (or a redirect back to `stop_at`).
    pub(crate) async fn visit(
        &mut self,
        method: Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
        stop_at: &str,
    ) -> Page {
        let mut resp = self.request(method, url, form).await;
        let mut current = url.to_string();
        for _ in 0..12 {
            if !resp.status().is_redirection() {
                break;
            }
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            current = url::Url::parse(&current).unwrap().join(&location).unwrap().to_string();
            if current.starts_with(stop_at) && !current.contains("/api/auth/sso/") {
                return Page { url: current, status: 302, body: String::new() };
            }
            resp = self.request(Method::GET, &current, None).await;
        }
        let status = resp.status().as_u16();
        Page { url: current, status, body: resp.text().await.unwrap() }
    }

    /// Submits the page's form with `fields` (the provider's sign-in or consent form).
    async fn submit(&mut self, page: &Page, fields: &[(&str, &str)], stop_at: &str) -> Page {
        let action = regex::Regex::new(r#"<form[^>]*action="([^"]+)""#).unwrap();
        let action = &action.captures(&page.body).unwrap_or_else(|| panic!("a form in {}", page.body))[1];
        let target = url::Url::parse(&page.url).unwrap().join(action).unwrap().to_string();
        self.visit(Method::POST, &target, Some(fields), stop_at).await
    }

    /// Signs in at the provider as `login` from hitkeep's SSO button; returns where hitkeep sent the browser.
    pub(crate) async fn sso(&mut self, server: &Server, login: &str) -> Page {
        let start = server.url("/api/auth/sso/start");
        let form = self.visit(Method::GET, &start, None, &server.base).await;
        assert_eq!(form.status, 200, "the provider's sign-in form at {}", form.url);
        let fields = [("prompt", "login"), ("login", login), ("password", "anything")];
        let consent = self.submit(&form, &fields, &server.base).await;
        if consent.status == 302 {
            return consent;
        }
        self.submit(&consent, &[("prompt", "consent")], &server.base).await
    }

    pub(crate) fn session(&self, server: &Server) -> Option<Cred> {
        self.jar.get(&Self::host(&server.base))?.get("hk_session").filter(|v| !v.is_empty()).cloned().map(Cred::Cookie)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_sso_creates_links_and_refuses_accounts_as_configured() {
    let data = DataDir::with_sites(&["a.test"]);
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let provider = start_provider(&format!("{public}/api/auth/sso/callback"), &[]);
    let mut flags = oidc_flags(&public, &provider.issuer);
    flags.extend([
        "--oidc-admin-claim",
        "groups=hitkeep-admins",
        "--oidc-label",
        "Test IdP",
        "--oidc-password-login",
        "false",
    ]);
    let server = Server::start_at(&data, &format!("127.0.0.1:{port}"), &flags);
    server.wait_ready().await;
    let api = Api { server: &server };
    let root = setup_admin(&api, "root@other.test").await;
    let info = api.ok(&Cred::None, Method::GET, "/auth/sso", None).await;
    assert_eq!(info, json!({"enabled": true, "label": "Test IdP"}));

    // A new person of an allowed domain: an account without site access, signed in.
    let mut alice = Browser::default();
    let landed = alice.sso(&server, "alice@example.com").await;
    assert_eq!(landed.url, format!("{public}/"), "back on the dashboard");
    let session = alice.session(&server).expect("a session cookie");
    let me = api.ok(&session, Method::GET, "/me", None).await;
    assert_eq!((me["email"].as_str(), me["is_admin"].as_bool()), (Some("alice@example.com"), Some(false)));
    assert_eq!(me["sites"], json!([]), "no site access until granted");
    let again = Browser::default().sso(&server, "alice@example.com").await;
    assert_eq!(again.url, format!("{public}/"));
    let users = api.ok(&root, Method::GET, "/users", None).await;
    assert_eq!(users.as_array().unwrap().len(), 2, "the second sign-in uses the same account: {users}");

    // The admin claim makes an instance administrator.
    let mut admin = Browser::default();
    admin.sso(&server, "admin@example.com").await;
    let me = api.ok(&admin.session(&server).unwrap(), Method::GET, "/me", None).await;
    assert_eq!(me["is_admin"], true);

    // An existing account is linked only by a verified e-mail; other domains get no account.
    let mut unverified = Browser::default();
    let refused = unverified.sso(&server, "unverified.root@other.test").await;
    assert_eq!(refused.url, format!("{public}/login?sso_error=no_account"));
    assert!(unverified.session(&server).is_none());
    let stranger = Browser::default().sso(&server, "eve@elsewhere.test").await;
    assert_eq!(stranger.url, format!("{public}/login?sso_error=no_account"));
    let mut linked = Browser::default();
    linked.sso(&server, "root@other.test").await;
    let me = api.ok(&linked.session(&server).unwrap(), Method::GET, "/me", None).await;
    assert_eq!((me["email"].as_str(), me["id"].as_u64()), (Some("root@other.test"), Some(1)), "the same account");
    assert_eq!(me["is_admin"], false, "with an admin claim configured, the provider decides: no claim, no admin");

    // --oidc-password-login false: a linked account signs in through the provider only.
    let r = api
        .call(&Cred::None, Method::POST, "/auth/login", Some(json!({"email": "root@other.test", "password": PASSWORD})))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);

    // A callback without the browser's state cookie (or with another state) signs nobody in.
    let mut forger = Browser::default();
    let forged = forger.visit(Method::GET, &server.url("/api/auth/sso/callback?code=x&state=y"), None, &public).await;
    assert_eq!(forged.url, format!("{public}/login?sso_error=expired"));

    let log = api.ok(&admin.session(&server).unwrap(), Method::GET, "/audit?limit=100", None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in
        ["sso_account_created", "sso_login", "sso_linked", "sso_admin_granted", "sso_admin_revoked", "sso_failed"]
    {
        assert!(actions.contains(&action), "{action} in the audit log: {actions:?}");
    }
    server.stop();
    drop(provider);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_oidc_flags_there_is_no_sso() {
    let data = DataDir::with_sites(&[]);
    let server = Server::start(&data, &[]);
    server.wait_ready().await;
    let api = Api { server: &server };
    let info: Value = api.ok(&Cred::None, Method::GET, "/auth/sso", None).await;
    assert_eq!(info, json!({"enabled": false, "label": null}));
    let r = api.call(&Cred::None, Method::GET, "/auth/sso/start", None).await;
    assert_eq!(r.status, 404);
    server.stop();
}
