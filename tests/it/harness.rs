//! Starting and stopping real servers, sending hits, reading what was stored.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
pub const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Tests that load both cores (clusters, the hostile-load test) take this so they do not run
/// at the same time as each other: their timing checks measure the server, not the neighbours.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    HEAVY.lock().await
}

/// The checkout under test. Read when the test runs (cargo sets it), not baked in at compile
/// time: a target directory reused across clones would otherwise point at another checkout.
pub fn checkout() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hitkeep")
}

/// A reqwest builder for the tests' own requests. reqwest is built with rustls and no crypto
/// provider of its own (the server installs ring), so the test process installs ring once too.
pub fn http_builder() -> reqwest::ClientBuilder {
    static RING: std::sync::Once = std::sync::Once::new();
    RING.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// A default client for the tests' own requests (see `http_builder`).
pub fn http() -> reqwest::Client {
    http_builder().build().expect("test client")
}

/// Runs a CLI command to completion; returns (success, stdout, stderr).
pub fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin()).args(args).output().expect("run hitkeep");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A data directory with sites, removed at the end of the test.
pub struct DataDir {
    pub dir: tempfile::TempDir,
}

impl DataDir {
    pub fn with_sites(sites: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Self { dir };
        for s in sites {
            let (ok, _, err) = cli(&["site", "add", s, "--data-dir", d.path_str()]);
            assert!(ok, "site add {s}: {err}");
        }
        d
    }

    pub fn path_str(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 path")
    }

    /// Stored events of a site, in time order (server must be stopped).
    pub fn export(&self, site: &str) -> Vec<Value> {
        self.export_table(site, "events")
    }

    pub fn export_table(&self, site: &str, table: &str) -> Vec<Value> {
        let (ok, out, err) = cli(&["export", "--site", site, "--data-dir", self.path_str(), "--table", table]);
        assert!(ok, "export failed: {err}");
        out.lines().map(|l| serde_json::from_str(l).expect("ndjson line")).collect()
    }
}

/// A running `hitkeep serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Server {
    /// Starts a server on a free port with `extra` flags and waits until it listens.
    pub fn start(data: &DataDir, extra: &[&str]) -> Self {
        Self::start_at(data, "127.0.0.1:0", extra)
    }

    /// Starts a server listening on `http` (a fixed address, for cluster peers).
    pub fn start_at(data: &DataDir, http: &str, extra: &[&str]) -> Self {
        Self::start_env(data, http, extra, &[])
    }

    /// Starts a server with extra environment variables (`SSL_CERT_FILE`, ...).
    pub fn start_env(data: &DataDir, http: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(bin())
            .args(["serve", "--http", http, "--data-dir", data.path_str(), "--batch-interval-ms", "20"])
            .args(extra)
            // `IT_LOG=info cargo test ...` shows the servers' own account of a failing test.
            .env("HITKEEP_LOG_LEVEL", std::env::var("IT_LOG").unwrap_or("warn".into()))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn hitkeep serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server exited before listening").expect("read stdout");
            if let Some(url) = line.strip_prefix("hitkeep listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base, client: self::http() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Waits for `/readyz` to answer 200.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "server not ready in 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A POST with browser-like headers.
    pub fn post(&self, path: &str, origin: &str, ua: &str, body: impl Into<String>) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("origin", origin)
            .header("user-agent", ua)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.into())
    }

    /// Value of an unlabelled or labelled metric line, e.g. `hitkeep_ingest_dropped_total{reason="bot"}`.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.client.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(|v| v.parse().unwrap()))
            .unwrap_or_else(|| panic!("metric {series} missing in:\n{text}"))
    }

    /// Waits until `n` events are stored.
    pub async fn wait_stored(&self, n: f64) {
        self.wait_metric("hitkeep_stored_events_total", n).await;
    }

    /// Waits until a metric reaches `n`.
    pub async fn wait_metric(&self, series: &str, n: f64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.metric(series).await < n {
            assert!(Instant::now() < deadline, "{series} did not reach {n} in time");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        signal(&self.child, "TERM");
        let status = wait_exit(&mut self.child, Duration::from_secs(30));
        assert!(status.success(), "server exited with {status}");
    }

    /// SIGKILL: no chance to flush.
    pub fn kill9(mut self) {
        signal(&self.child, "KILL");
        wait_exit(&mut self.child, Duration::from_secs(10));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]).status().expect("kill").success();
    assert!(ok, "kill -{sig} failed");
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit in {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A HitKeep hk.js pageview body.
pub fn pageview(path: &str, referrer: Option<&str>) -> String {
    serde_json::json!({
        "path": path, "referrer": referrer, "ua": null, "vp_w": 1280, "vp_h": 720, "sc_w": 1920, "sc_h": 1080,
        "lang": "en-US", "u_src": null, "u_med": null, "u_cmp": null, "u_trm": null, "u_cnt": null, "qr": null,
        "unique": true, "session_id": "6f1c1f5e-0000-4000-8000-000000000001", "page_id": "6f1c1f5e-0000-4000-8000-000000000002",
        "tsrc": "hk.js", "tv": ""
    })
    .to_string()
}

/// Posts a Plausible Events API body (`/api/event`) from `ip` with `ua`; the status and body.
pub async fn plausible(s: &Server, ua: &str, ip: &str, body: Value) -> (u16, String) {
    let r = s
        .client
        .post(s.url("/api/event"))
        .header("user-agent", ua)
        .header("content-type", "text/plain")
        .header("x-forwarded-for", ip)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A Stats API v2 answer's rows as (dimensions, metrics).
pub fn rows(v: &Value) -> Vec<(Vec<Value>, Vec<Value>)> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {v}"))
        .iter()
        .map(|r| (r["dimensions"].as_array().unwrap().clone(), r["metrics"].as_array().unwrap().clone()))
        .collect()
}
