//! Webhooks and traffic alerts over real HTTP: a receiver started here gets signed bodies, a
//! first 500 is retried, internal targets are refused unless the operator allows them, and an
//! injected spike raises exactly one alert (one mail, one webhook delivery).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::harness::{CHROME_MAC, DataDir, Server};
use crate::lifecycle_data::smtp_sink;

pub(crate) const TOKEN: &str = "webhooks-test-token";

/// One request the receiver got, and the status it answered.
#[derive(Debug)]
pub(crate) struct Received {
    pub status: u16,
    pub timestamp: String,
    pub signature: String,
    pub event: String,
    pub body: String,
}

/// An HTTP receiver on 127.0.0.1 answering 500 to the first `failures` requests, 200 after.
async fn receiver(failures: usize) -> (String, UnboundedReceiver<Received>) {
    let acceptor =
        poem::listener::Listener::into_acceptor(poem::listener::TcpListener::bind("127.0.0.1:0")).await.unwrap();
    let port = poem::listener::Acceptor::local_addr(&acceptor)[0].as_socket_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let endpoint = poem::endpoint::make(move |mut req: poem::Request| {
        let (tx, seen) = (tx.clone(), seen.clone());
        async move {
            let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let (timestamp, signature, event) =
                (header("x-hitkeep-timestamp"), header("x-hitkeep-signature"), header("x-hitkeep-event"));
            let body = req.take_body().into_string().await.unwrap();
            let status = if seen.fetch_add(1, Ordering::SeqCst) < failures { 500 } else { 200 };
            let _ = tx.send(Received { status, timestamp, signature, event, body });
            poem::http::StatusCode::from_u16(status).unwrap()
        }
    });
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(endpoint));
    (format!("http://127.0.0.1:{port}/hook"), rx)
}

pub(crate) async fn next<T>(rx: &mut UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no {what} within 30 s"))
        .unwrap()
}

/// Checks a delivery's signature with the hook's secret, independently of the server's code.
pub(crate) fn verify(r: &Received, secret: &str) {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", r.timestamp, r.body).as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r.signature, format!("sha256={hex}"), "signature of {r:?}");
    let age = chrono::Utc::now().timestamp() - r.timestamp.parse::<i64>().unwrap();
    assert!((0..300).contains(&age), "a fresh timestamp (the documented replay window): {age} s");
}

pub(crate) fn fast_jobs<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--api-token",
        TOKEN,
        "--signals-interval-ms",
        "300",
        "--webhook-retry-base-ms",
        "300",
        "--goal-batch-lag-ms",
        "1000",
    ];
    args.extend_from_slice(extra);
    args
}

pub(crate) async fn create_hook(s: &Server, body: Value) -> (u16, Value) {
    let r = s.client.post(s.url("/api/sites/shop.test/webhooks")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

pub(crate) async fn get(s: &Server, path: &str) -> Value {
    let r = s.client.get(s.url(path)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// A pageview of shop.test at `at` (RFC 3339; `None`: now), sent as a trusted server-side sender.
pub(crate) async fn pageview_at(s: &Server, path: &str, at: Option<String>) {
    let body = json!({"path": path, "timestamp": at});
    let r = s.post("/ingest", "https://shop.test", CHROME_MAC, body.to_string()).bearer_auth(TOKEN).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_spike_raises_one_alert_by_mail_and_a_signed_webhook_retried_after_a_500() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (hook_url, mut received) = receiver(1).await;
    let (smtp_port, mut mails) = smtp_sink().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let args = fast_jobs(&["--webhooks-allow-private", "--smtp-url", &smtp, "--smtp-from", "alerts@hitkeep.test"]);
    let s = Server::start(&data, &args);
    s.wait_ready().await;

    let settings = json!({"enabled": true, "spike_factor": 2.0, "drop_factor": 0.5, "min_pageviews": 20,
                          "weeks": 4, "emails": ["ops@shop.test"]});
    let r = s.client.put(s.url("/api/sites/shop.test/alerts/settings")).bearer_auth(TOKEN).json(&settings);
    assert_eq!(r.send().await.unwrap().status(), 200);
    let (status, hook) = create_hook(&s, json!({"url": hook_url, "events": ["traffic.spike", "traffic.drop"]})).await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().expect("the secret, once").to_string();
    assert!(get(&s, "/api/sites/shop.test/webhooks").await[0].get("secret").is_none(), "never listed");

    // History: 5 pageviews in the same hour of each of the past 4 weeks; then a burst of 40 now.
    let now = chrono::Utc::now();
    for week in 1..=4 {
        for i in 0..5 {
            let at = now - chrono::Duration::weeks(week) - chrono::Duration::minutes(10 + i);
            pageview_at(&s, &format!("/old/{i}"), Some(at.to_rfc3339())).await;
        }
    }
    for i in 0..40 {
        pageview_at(&s, &format!("/launch/{i}"), None).await;
    }
    s.wait_stored(60.0).await;

    let first = next(&mut received, "webhook").await;
    let retry = next(&mut received, "webhook retry").await;
    assert_eq!((first.status, retry.status), (500, 200));
    for r in [&first, &retry] {
        verify(r, &secret);
        assert_eq!(r.event, "traffic.spike");
    }
    let body: Value = serde_json::from_str(&retry.body).unwrap();
    assert_eq!((body["event"].as_str(), body["site"].as_str()), (Some("traffic.spike"), Some("shop.test")));
    assert!(body["data"]["pageviews"].as_u64().unwrap() >= 20, "{body}");
    assert_eq!(body["data"]["typical"], 5.0, "{body}");
    let mail = next(&mut mails, "alert mail").await;
    assert!(mail.contains("Traffic spike on shop.test"), "{mail}");
    assert!(mail.contains("ops@shop.test"), "{mail}");

    // More ticks pass: still one alert, one mail, one delivery (two attempts).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alerts = get(&s, "/api/sites/shop.test/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["kind"], "spike");
    assert!(mails.try_recv().is_err(), "one mail");
    assert!(received.try_recv().is_err(), "one delivery");
    let log = get(&s, "/api/sites/shop.test/webhooks/deliveries").await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!((log[0]["state"].as_str(), log[0]["attempts"].as_u64()), (Some("delivered"), Some(2)), "{log}");
    assert_eq!(log[0]["last_status"], 200);

    // A manual redelivery sends the same event again, signed anew.
    let path = format!("/api/sites/shop.test/webhooks/deliveries/{}/redeliver", log[0]["id"]);
    let r = s.client.post(s.url(&path)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let again = next(&mut received, "redelivery").await;
    verify(&again, &secret);
    assert_eq!(serde_json::from_str::<Value>(&again.body).unwrap()["data"], body["data"]);
    s.stop();
}

#[tokio::test]
async fn internal_targets_are_refused_unless_the_operator_allows_them() {
    let data = DataDir::with_sites(&["shop.test"]);
    let s = Server::start(&data, &fast_jobs(&[]));
    s.wait_ready().await;
    for url in ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://10.1.2.3/x", "http://[::1]:9/x"] {
        let (status, body) = create_hook(&s, json!({"url": url, "events": ["traffic.spike"]})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("private_target")), "{url}: {body}");
    }
    let (status, body) = create_hook(&s, json!({"url": "http://hooks.test/x", "events": ["goal.made"]})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_webhook")), "{body}");
    let r = s.client.get(s.url("/api/sites/shop.test/webhooks")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(get(&s, "/api/sites/shop.test/webhooks").await, json!([]));
    s.stop();

    let s = Server::start(&data, &fast_jobs(&["--webhooks-allow-private"]));
    s.wait_ready().await;
    let (status, body) = create_hook(&s, json!({"url": "http://127.0.0.1:9/hook", "events": ["traffic.spike"]})).await;
    assert_eq!(status, 201, "allowed by the operator: {body}");
    let r = s.client.delete(s.url(&format!("/api/sites/shop.test/webhooks/{}", body["id"]))).bearer_auth(TOKEN);
    assert_eq!(r.send().await.unwrap().status(), 204);
    s.stop();
}

#[tokio::test]
async fn goal_conversions_arrive_batched_and_targets_are_checked_again_at_delivery() {
    let data = DataDir::with_sites(&["shop.test"]);
    let (hook_url, mut received) = receiver(0).await;
    let s = Server::start(&data, &fast_jobs(&["--webhooks-allow-private"]));
    s.wait_ready().await;
    let goal = json!({"page_path": "/thanks", "display_name": "Thanks"});
    let r = s.client.post(s.url("/api/sites/shop.test/goals")).bearer_auth(TOKEN).json(&goal).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let hook = json!({"url": hook_url, "events": ["goal.converted"], "format": "slack"});
    let (status, created) = create_hook(&s, hook).await;
    assert_eq!(status, 201, "{created}");
    // Three conversions at one instant (no batch boundary falls between them), a little ahead so
    // they are stored before the batches reach them, and a non-conversion.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    for path in ["/thanks", "/thanks", "/thanks", "/about"] {
        pageview_at(&s, path, Some(at.clone())).await;
    }
    s.wait_stored(4.0).await;
    let got = next(&mut received, "goal batch").await;
    verify(&got, created["secret"].as_str().unwrap());
    assert_eq!(got.event, "goal.converted");
    assert_eq!(
        serde_json::from_str::<Value>(&got.body).unwrap(),
        json!({"text": "Goal conversions on shop.test: 3 × Thanks"})
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(received.try_recv().is_err(), "conversions are sent once");
    s.stop();

    // Without the operator's permission the same target is refused at delivery time too.
    let s = Server::start(&data, &fast_jobs(&[]));
    s.wait_ready().await;
    let log = get(&s, "/api/sites/shop.test/webhooks/deliveries").await;
    let path = format!("/api/sites/shop.test/webhooks/deliveries/{}/redeliver", log[0]["id"]);
    let r = s.client.post(s.url(&path)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let settled = async {
        loop {
            let log = get(&s, "/api/sites/shop.test/webhooks/deliveries").await;
            if log[0]["state"] != "pending" {
                break log[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let copy = tokio::time::timeout(Duration::from_secs(30), settled).await.expect("the redelivery settles");
    assert_eq!(copy["state"], "failed", "{copy}");
    assert!(copy["last_error"].as_str().unwrap().contains("loopback"), "{copy}");
    assert!(received.try_recv().is_err(), "nothing reached the internal target");
    s.stop();
}
