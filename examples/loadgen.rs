//! Ingest load generator: realistic pageviews (visits of 1-10 pages, Zipf-distributed paths,
//! weighted referrers and campaigns, real user agents, one client IP per visitor sent as
//! X-Forwarded-For) from C concurrent connections for a fixed time or count.
//!
//! `cargo run --release --example loadgen -- --url http://127.0.0.1:8080 --concurrency 32 --seconds 20`
//! The server must trust 127.0.0.1 as a proxy (`--trusted-proxies 127.0.0.1`) for per-visitor IPs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hitkeep::seed::{CAMPAIGNS, NETWORKS, REFERRERS, USER_AGENTS, Zipf, page_path, weighted};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Args {
    url: String,
    origin: String,
    concurrency: usize,
    seconds: Option<u64>,
    requests: Option<u64>,
    path: String,
    /// Write the path of every acknowledged hit here; each hit gets a unique path (`/u/<run>-<n>`)
    /// so a crash test can count acknowledged hits against stored ones exactly.
    unique_paths: Option<String>,
    run: String,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        origin: "https://shop.test".into(),
        concurrency: 32,
        seconds: None,
        requests: None,
        path: "/ingest".into(),
        unique_paths: None,
        run: "r".into(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--url" => a.url = v,
            "--origin" => a.origin = v,
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency N"),
            "--seconds" => a.seconds = Some(v.parse().expect("--seconds N")),
            "--requests" => a.requests = Some(v.parse().expect("--requests N")),
            "--path" => a.path = v,
            "--unique-paths" => a.unique_paths = Some(v),
            "--run" => a.run = v,
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    if a.seconds.is_none() && a.requests.is_none() {
        a.seconds = Some(10);
    }
    a
}

#[tokio::main]
async fn main() {
    let a = args();
    // reqwest is built with rustls and no provider of its own (see src/adapters/http_client.rs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).build().unwrap();
    let url = format!("{}{}", a.url, a.path);
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicU64::new(0));
    let limit = a.requests.unwrap_or(u64::MAX);
    let zipf = Arc::new(Zipf::new(400));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let unique = a.unique_paths.is_some();
    let acked_paths = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    for worker in 0..a.concurrency {
        let (client, url, origin, stop, issued, zipf) =
            (client.clone(), url.clone(), a.origin.clone(), stop.clone(), issued.clone(), zipf.clone());
        let (run, acked_paths) = (a.run.clone(), acked_paths.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker as u64 * 7919 + 1);
            let (mut lat, mut accepted, mut other, mut errors) = (Vec::with_capacity(1 << 16), 0u64, 0u64, 0u64);
            let mut visit_left = 0u32;
            let (mut ip, mut ua, mut first) = (String::new(), "", true);
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) || n >= limit {
                    break;
                }
                if visit_left == 0 {
                    visit_left = 1 + (rng.random::<f64>().powi(2) * 10.0) as u32;
                    let net = NETWORKS[rng.random_range(0..NETWORKS.len())];
                    ip = format!("{}.{}.{}.{}", net[0], net[1], rng.random_range(0..256), rng.random_range(1..255));
                    ua = weighted(&mut rng, USER_AGENTS);
                    first = true;
                }
                visit_left -= 1;
                let page = zipf.sample(&mut rng);
                let mut path = if unique { format!("/u/{run}-{n}") } else { page_path(page) };
                let referrer = if first { weighted(&mut rng, REFERRERS) } else { None };
                if first && !unique && rng.random_ratio(1, 10) {
                    path.push_str(CAMPAIGNS[rng.random_range(0..CAMPAIGNS.len())]);
                }
                first = false;
                let width = [390, 1280, 1440, 1920][rng.random_range(0..4)];
                let body = serde_json::json!({"path": &path, "referrer": referrer, "sc_w": width, "lang": "en-US", "tsrc": "hk.js"}).to_string();
                let t = Instant::now();
                let r = client.post(&url).header("origin", &origin).header("user-agent", ua).header("x-forwarded-for", &ip).header("content-type", "text/plain").body(body).send().await;
                let micros = t.elapsed().as_micros() as u32;
                match r {
                    Ok(resp) if resp.status() == 202 => {
                        accepted += 1;
                        lat.push(micros);
                        if unique {
                            acked_paths.lock().unwrap().push(path);
                        }
                    }
                    Ok(_) => other += 1,
                    Err(_) => errors += 1,
                }
            }
            (lat, accepted, other, errors)
        }));
    }
    if let Some(secs) = a.seconds {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let (mut lat, mut accepted, mut other, mut errors) = (Vec::new(), 0, 0, 0);
    for t in tasks {
        let (l, a, o, e) = t.await.unwrap();
        lat.extend(l);
        accepted += a;
        other += o;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(file) = &a.unique_paths {
        let mut text = acked_paths.lock().unwrap().join("\n");
        text.push('\n');
        std::fs::write(file, text).expect("write --unique-paths");
    }
    lat.sort_unstable();
    let pct = |p: f64| {
        if lat.is_empty() { 0.0 } else { lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0 }
    };
    println!(
        "{{\"accepted\":{accepted},\"non_202\":{other},\"errors\":{errors},\"seconds\":{elapsed:.2},\"accepted_per_sec\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3}}}",
        accepted as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(0.999)
    );
}
