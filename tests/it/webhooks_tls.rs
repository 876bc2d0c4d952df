//! Webhooks to https:// targets: a receiver started here serves a certificate of a private CA
//! made here with the openssl CLI. The server trusts that CA through `SSL_CERT_FILE` and delivers
//! a signed body; a receiver whose certificate comes from another CA is refused, and the delivery
//! log says why (the TLS reason).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::harness::{DataDir, Server};
use crate::webhooks::{Received, TOKEN, create_hook, fast_jobs, get, next, pageview_at, verify};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("run the openssl CLI");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA `name`.ca.pem and a certificate for 127.0.0.1 it signed (`name`.crt, `name`.key).
pub(crate) fn ca_and_leaf(dir: &Path, name: &str) {
    let (ca_key, ca) = (format!("{name}.ca.key"), format!("{name}.ca.pem"));
    let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
    let subject = format!("/CN=HitKeep test CA {name}");
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj",
            &subject,
        ],
    );
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", "/CN=127.0.0.1"]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let sign = ["x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-CAcreateserial", "-out", &crt];
    let mut sign = sign.to_vec();
    sign.extend_from_slice(&["-days", "2", "-extfile", "san.ext"]);
    openssl(dir, &sign);
}

/// An https receiver on 127.0.0.1 with `name`'s certificate, answering 200 to each request.
async fn tls_receiver(dir: &Path, name: &str) -> (String, UnboundedReceiver<Received>) {
    let chain = CertificateDer::pem_file_iter(dir.join(format!("{name}.crt"))).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake: nothing to record.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                if let Some(received) = read_request(&mut tls).await {
                    let _ = tx.send(received);
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (format!("https://127.0.0.1:{port}/hook"), rx)
}

/// One HTTP/1.1 request with a content-length body, as the webhook sender writes it.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .unwrap_or("")
            .to_string()
    };
    let length: usize = header("content-length").parse().ok()?;
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        status: 200,
        timestamp: header("x-hitkeep-timestamp"),
        signature: header("x-hitkeep-signature"),
        event: header("x-hitkeep-event"),
        body: String::from_utf8_lossy(&data[head_end..head_end + length]).to_string(),
    })
}

/// The delivery log's entry for `hook` once it is no longer pending.
async fn settled(s: &Server, hook: &Value) -> Value {
    let wait = async {
        loop {
            let log = get(s, "/api/sites/shop.test/webhooks/deliveries").await;
            let mine = log.as_array().unwrap().iter().find(|d| d["webhook_id"] == hook["id"]).cloned();
            if let Some(d) = mine.filter(|d| d["state"] != "pending") {
                break d;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), wait).await.expect("the delivery settles")
}

#[tokio::test]
async fn https_targets_get_signed_deliveries_when_their_ca_is_trusted_and_fail_with_the_tls_reason_when_not() {
    let certs = tempfile::tempdir().unwrap();
    ca_and_leaf(certs.path(), "trusted");
    ca_and_leaf(certs.path(), "stranger");
    let (trusted_url, mut trusted) = tls_receiver(certs.path(), "trusted").await;
    let (stranger_url, mut stranger) = tls_receiver(certs.path(), "stranger").await;

    let data = DataDir::with_sites(&["shop.test"]);
    let ca_file = certs.path().join("trusted.ca.pem");
    let env = [("SSL_CERT_FILE", ca_file.to_str().unwrap())];
    let s = Server::start_env(&data, "127.0.0.1:0", &fast_jobs(&["--webhooks-allow-private"]), &env);
    s.wait_ready().await;
    let goal = json!({"page_path": "/thanks", "display_name": "Thanks"});
    let r = s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&goal).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let (status, good) = create_hook(&s, json!({"url": trusted_url, "events": ["goal.converted"]})).await;
    assert_eq!(status, 201, "{good}");
    let (status, bad) = create_hook(&s, json!({"url": stranger_url, "events": ["goal.converted"]})).await;
    assert_eq!(status, 201, "{bad}");

    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    for _ in 0..2 {
        pageview_at(&s, "/thanks", Some(at.clone())).await;
    }
    s.wait_stored(2.0).await;

    let got = next(&mut trusted, "delivery over https").await;
    verify(&got, good["secret"].as_str().unwrap());
    assert_eq!(got.event, "goal.converted");
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["event"], "goal.converted", "{body}");
    let delivered = settled(&s, &good).await;
    assert_eq!((delivered["state"].as_str(), delivered["last_status"].as_u64()), (Some("delivered"), Some(200)));

    let failed = settled(&s, &bad).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let error = failed["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("certificate") && error.contains("UnknownIssuer"), "the TLS reason: {failed}");
    assert!(stranger.try_recv().is_err(), "no request crossed the refused handshake");
    s.stop();
}
