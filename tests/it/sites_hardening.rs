//! Regression tests of issue 13 for sites: nobody takes another site's traffic (item 5), readers
//! do not see a site's settings (13), imports cannot blow up memory (14), "send report now" is
//! paced (16).

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "sites-hardening-token";

/// An answer: status, JSON body (or the text as a string) and headers.
struct Reply {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

/// Calls `/api{path}` with a session cookie (and the same Origin, like the dashboard) or a bearer
/// secret.
async fn call(s: &Server, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut req = s.client.request(method, s.url(&format!("/api{path}")));
    req = match cred {
        Cred::Cookie(c) => req.header("cookie", format!("hk_session={c}")).header("origin", &s.base),
        Cred::Bearer(t) => req.bearer_auth(t),
        Cred::None => req,
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = resp.text().await.unwrap_or_default();
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
}

#[derive(Clone)]
enum Cred {
    None,
    Cookie(String),
    Bearer(String),
}

fn session_of(r: &Reply) -> String {
    let set = r.headers.get("set-cookie").expect("set-cookie").to_str().unwrap();
    set.split(';').next().unwrap().strip_prefix("hk_session=").expect("hk_session cookie").to_string()
}

async fn setup_admin(s: &Server) -> Cred {
    let r =
        call(s, &Cred::None, Method::POST, "/setup", Some(json!({"email": "root@example.com", "password": PASSWORD})))
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Cred::Cookie(session_of(&r))
}

/// Invites `email` with `role` on `site` (as `by`) and signs the new user in.
async fn member(s: &Server, by: &Cred, email: &str, site: &str, role: &str) -> Cred {
    let r = call(s, by, Method::POST, "/invites", Some(json!({"email": email, "site": site, "role": role}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let r =
        call(s, &Cred::None, Method::POST, &format!("/invites/{token}/accept"), Some(json!({"password": PASSWORD})))
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Cred::Cookie(session_of(&r))
}

/// Asserts a 409 whose JSON error names `host`.
fn assert_host_taken(r: &Reply, host: &str) {
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"], "host_taken", "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains(host), "names {host}: {}", r.body);
}

/// Item 5: a signed-in user of one site cannot create sites by default, and where users may
/// create sites, no site or hostname takes a host another site counts; the victim keeps its hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_user_can_take_another_sites_traffic() {
    let data = DataDir::with_sites(&["a.test", "victim.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let admin = setup_admin(&s).await;
    let attacker = member(&s, &admin, "viewer@example.com", "a.test", "viewer").await;
    let victim_admin = member(&s, &admin, "admin@victim.test", "victim.test", "admin").await;

    // Default (--site-creation admins): only instance administrators create sites.
    for domain in ["blog.victim.test", "attacker.test"] {
        let r = call(&s, &attacker, Method::POST, "/sites", Some(json!({"domain": domain}))).await;
        assert_eq!(r.status, 403, "{domain}: {}", r.body);
        assert_eq!(r.body["error"], "forbidden");
        assert!(r.body["message"].as_str().unwrap().contains("--site-creation"), "{}", r.body);
    }
    let r = call(&s, &victim_admin, Method::POST, "/sites", Some(json!({"domain": "victim-two.test"}))).await;
    assert_eq!(r.status, 403, "a site admin is no instance admin: {}", r.body);
    let sites = call(&s, &admin, Method::GET, "/sites", None).await.body;
    let domains: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["a.test", "victim.test"], "nothing was created");
    s.stop();

    // Users may create sites, but never with a host another site counts.
    let s = Server::start(&data, &["--site-creation", "users"]);
    s.wait_ready().await;
    let r = call(&s, &attacker, Method::POST, "/sites", Some(json!({"domain": "blog.victim.test"}))).await;
    assert_host_taken(&r, "blog.victim.test");
    let r = call(&s, &attacker, Method::POST, "/sites", Some(json!({"domain": "https://www.Blog.Victim.test/"}))).await;
    assert_host_taken(&r, "blog.victim.test");
    let with_host = json!({"domain": "own.test", "hostnames": ["shop.victim.test"]});
    assert_host_taken(&call(&s, &attacker, Method::POST, "/sites", Some(with_host)).await, "shop.victim.test");
    let r = call(&s, &attacker, Method::POST, "/sites", Some(json!({"domain": "own.test"}))).await;
    assert_eq!(r.status, 201, "a site of one's own: {}", r.body);
    for host in ["shop.victim.test", "victim.test", "deep.shop.victim.test"] {
        let r = call(&s, &attacker, Method::PATCH, "/sites/own.test", Some(json!({"hostnames": [host]}))).await;
        assert_host_taken(&r, host);
    }
    let r = call(&s, &attacker, Method::PATCH, "/sites/own.test", Some(json!({"hostnames": ["own-cdn.test"]}))).await;
    assert_eq!(r.status, 200, "a free hostname: {}", r.body);
    let r = call(&s, &victim_admin, Method::POST, "/sites", Some(json!({"domain": "own-cdn.test"}))).await;
    assert_host_taken(&r, "own-cdn.test");
    // Whoever manages the owning site may split a subdomain off into a site of its own.
    let r = call(&s, &victim_admin, Method::POST, "/sites", Some(json!({"domain": "news.victim.test"}))).await;
    assert_eq!(r.status, 201, "the victim's admin splits off a subdomain: {}", r.body);

    for origin in ["https://blog.victim.test", "https://shop.victim.test"] {
        let r = s.post("/ingest", origin, CHROME_MAC, pageview("/", None)).send().await.unwrap();
        assert_eq!(r.status(), 202, "{origin}");
    }
    s.wait_stored(2.0).await;
    s.stop();
    let hosts: Vec<String> =
        data.export("victim.test").iter().map(|e| e["hostname"].as_str().unwrap().to_string()).collect();
    assert_eq!(hosts, ["blog.victim.test", "shop.victim.test"], "the victim keeps its traffic");
    assert!(data.export("own.test").is_empty(), "the attacker's site received nothing");
}

/// Item 13: share links, viewers and read tokens get what the dashboard needs, not the site's
/// excluded addresses; the site's admins still see and change them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_do_not_see_excluded_addresses() {
    let data = DataDir::with_sites(&["a.test"]);
    let s = Server::start(&data, &[]);
    s.wait_ready().await;
    let admin = setup_admin(&s).await;
    let excluded = json!({"excluded_ips": ["203.0.113.7", "198.51.100.0/24"]});
    let r = call(&s, &admin, Method::PATCH, "/sites/a.test", Some(excluded)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["excluded_ips"], json!(["203.0.113.7/32", "198.51.100.0/24"]), "the admin sees them");

    let viewer = member(&s, &admin, "viewer@example.com", "a.test", "viewer").await;
    let site_admin = member(&s, &admin, "admin@example.com", "a.test", "admin").await;
    let token =
        call(&s, &admin, Method::POST, "/tokens", Some(json!({"name": "r", "scope": "read", "sites": ["a.test"]})))
            .await
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
    let share = call(&s, &admin, Method::POST, "/sites/a.test/shares", Some(json!({"name": "public"}))).await;
    let link = share.body["token"].as_str().unwrap();
    let opened = call(&s, &Cred::None, Method::POST, &format!("/share/{link}"), Some(json!({}))).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    let shown = &opened.body["site"];
    assert_eq!(shown["domain"], "a.test");
    assert_eq!(shown["timezone"], "UTC", "what the dashboard needs is there");
    assert!(shown.get("excluded_ips").is_none(), "the share link's answer: {shown}");
    assert!(!opened.body.to_string().contains("203.0.113"), "{}", opened.body);

    let share_access = Cred::Bearer(opened.body["access_token"].as_str().unwrap().to_string());
    for (who, cred) in [("viewer", &viewer), ("read token", &Cred::Bearer(token)), ("share link", &share_access)] {
        let r = call(&s, cred, Method::GET, "/sites/a.test", None).await;
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        assert_eq!(r.body["domain"], "a.test");
        assert!(r.body.get("excluded_ips").is_none(), "{who} sees {}", r.body);
        let list = call(&s, cred, Method::GET, "/sites", None).await;
        assert_eq!(list.status, 200, "{who}: {}", list.body);
        assert!(!list.body.to_string().contains("203.0.113"), "{who} lists {}", list.body);
    }
    for (who, cred) in [("site admin", &site_admin), ("instance admin", &admin)] {
        let r = call(&s, cred, Method::GET, "/sites/a.test", None).await;
        assert_eq!(r.body["excluded_ips"], json!(["203.0.113.7/32", "198.51.100.0/24"]), "{who}: {}", r.body);
    }
    s.stop();
}

/// Highest resident memory of a process so far, in bytes (Linux).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Item 14: a 520 MiB gzip bomb (well under 1 MB on the wire) is refused at the unpack limit,
/// with a 413 naming it, and the server's memory grows by about the limit, not the bomb.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_bomb_stops_at_the_unpack_limit() {
    let data = DataDir::with_sites(&["a.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let bomb = tokio::task::spawn_blocking(|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date\n").unwrap();
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..520 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap()
    })
    .await
    .unwrap();
    assert!(bomb.len() < 3 << 20, "the bomb is small on the wire: {} bytes", bomb.len());
    let before = peak_rss(s.child.id());
    let r = s
        .client
        .post(s.url("/api/sites/a.test/imports?source=goatcounter&dry_run=true"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/octet-stream")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_large", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("134217728") && message.contains("--max-import-unpacked-bytes"), "{message}");
    let grown = peak_rss(s.child.id()).saturating_sub(before);
    assert!(grown < 256 << 20, "peak memory grew by {} MiB for a 128 MiB limit", grown >> 20);
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    s.stop();
}

/// Sends the head of an import and only part of its body, holding the connection open.
async fn stalled_import(s: &Server, body_len: usize) -> tokio::net::TcpStream {
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/sites/a.test/imports?source=goatcounter&dry_run=true HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body_len}\r\n\r\nxxxx"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock
}

/// Item 14: one import at a time; a second one meanwhile gets 503 with Retry-After, and the slot
/// is free again once the first ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_import_runs_at_a_time() {
    let data = DataDir::with_sites(&["a.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let import = || {
        s.client
            .post(s.url("/api/sites/a.test/imports?source=goatcounter&dry_run=true"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/octet-stream")
            .body("not an export")
    };
    let body_len = 1000;
    // The stalled import takes the slot once its handler runs. A probe sent before that may run
    // (and end) on its own, and one running while the stalled import arrives would have it
    // refused; so each try starts a fresh stalled import, waits, then probes once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut first, busy) = loop {
        let first = stalled_import(&s, body_len).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = import().send().await.unwrap();
        if r.status() == 503 {
            break (first, r);
        }
        assert_eq!(r.status(), 422, "an import that ran");
        assert!(Instant::now() < deadline, "a second import was never refused while the first was running");
        drop(first);
    };
    let retry_after: u64 = busy.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0);
    let body: Value = busy.json().await.unwrap();
    assert_eq!(body["error"], "import_running", "{body}");

    first.write_all(&vec![b'x'; body_len - 4]).await.unwrap();
    let mut answer = vec![0u8; 12];
    first.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 422", "the first import ran to its end");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = import().send().await.unwrap().status();
        if status == 422 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was not released: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.stop();
}

/// Item 16 (part): "send report now" reaches the mail server at most once per site per minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_report_now_is_paced_per_site() {
    let data = DataDir::with_sites(&["a.test", "b.test"]);
    let (port, mut mails) = crate::lifecycle_data::smtp_sink().await;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let s = Server::start(&data, &["--api-token", TOKEN, "--smtp-url", &smtp, "--smtp-from", "reports@hitkeep.test"]);
    s.wait_ready().await;
    let send = |site: &str| {
        s.client
            .post(s.url(&format!("/api/sites/{site}/email-reports/send")))
            .bearer_auth(TOKEN)
            .json(&json!({"email": "someone@example.com", "period": "week"}))
            .send()
    };
    assert_eq!(send("a.test").await.unwrap().status(), 200);
    let again = send("a.test").await.unwrap();
    assert_eq!(again.status(), 429);
    let retry_after: u64 = again.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert_eq!(send("b.test").await.unwrap().status(), 200, "another site is not held up");
    let mut received = 0;
    while tokio::time::timeout(Duration::from_secs(2), mails.recv()).await.is_ok_and(|m| m.is_some()) {
        received += 1;
    }
    assert_eq!(received, 2, "one mail per site");
    s.stop();
}
