//! Single sign-on against an https provider: node-oidc-provider serves a certificate of a CA
//! made by the test; the server trusts it through `SSL_CERT_FILE` and signs people in, and
//! without it the TLS check refuses the provider (502, no sign-in).

use reqwest::Method;

use crate::accounts::Api;
use crate::harness::{DataDir, Server};
use crate::sso::{Browser, free_port, oidc_flags, start_provider};
use crate::webhooks_tls::ca_and_leaf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_sso_works_against_an_https_provider_whose_ca_is_trusted() {
    let certs = tempfile::tempdir().unwrap();
    ca_and_leaf(certs.path(), "idp");
    let path = |f: &str| certs.path().join(f).to_str().unwrap().to_string();
    let (cert, key, ca) = (path("idp.crt"), path("idp.key"), path("idp.ca.pem"));
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let provider =
        start_provider(&format!("{public}/api/auth/sso/callback"), &[("OIDC_TLS_CERT", &cert), ("OIDC_TLS_KEY", &key)]);
    assert!(provider.issuer.starts_with("https://127.0.0.1:"), "{}", provider.issuer);
    let flags = oidc_flags(&public, &provider.issuer);
    let ca_pem = std::fs::read(&ca).unwrap();
    let browser = || {
        let mut b = Browser::default();
        b.ca = Some(reqwest::Certificate::from_pem(&ca_pem).unwrap());
        b
    };

    // Without the CA the server refuses the provider's certificate: nobody is signed in.
    let data = DataDir::with_sites(&[]);
    let server = Server::start_at(&data, &format!("127.0.0.1:{port}"), &flags);
    server.wait_ready().await;
    let mut refused = browser();
    let page = refused.visit(Method::GET, &server.url("/api/auth/sso/start"), None, &server.base).await;
    assert_eq!(page.status, 502, "{}", page.body);
    assert!(page.body.contains("provider_unavailable"), "{}", page.body);
    assert!(refused.session(&server).is_none());
    server.stop();

    let server = Server::start_env(&data, &format!("127.0.0.1:{port}"), &flags, &[("SSL_CERT_FILE", &ca)]);
    server.wait_ready().await;
    let mut alice = browser();
    let landed = alice.sso(&server, "alice@example.com").await;
    assert_eq!(landed.url, format!("{public}/"), "back on the dashboard");
    let me = Api { server: &server }.ok(&alice.session(&server).expect("a session"), Method::GET, "/me", None).await;
    assert_eq!(me["email"], "alice@example.com");
    server.stop();
    drop(provider);
}
