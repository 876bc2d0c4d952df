//! Ingest load generator: realistic pageviews (visits of 1-10 pages, Zipf-distributed paths,
//! weighted referrers and campaigns, real user agents, one client IP per visitor sent as
//! X-Forwarded-For) from C concurrent connections for a fixed time or count.
//!
//! `cargo run --release --example loadgen -- --url http://127.0.0.1:8080 --concurrency 32 --seconds 20`
//! The server must trust 127.0.0.1 as a proxy (`--trusted-proxies 127.0.0.1`) for per-visitor IPs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const USER_AGENTS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        12,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        20,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        15,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 8),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        7,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        5,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        3,
    ),
];
const REFERRERS: &[(Option<&str>, u32)] = &[
    (None, 45),
    (Some("https://www.google.com/"), 25),
    (Some("https://www.google.de/"), 5),
    (Some("https://www.bing.com/"), 4),
    (Some("https://duckduckgo.com/"), 3),
    (Some("https://t.co/x1"), 4),
    (Some("https://news.ycombinator.com/item?id=1"), 3),
    (Some("https://www.reddit.com/r/rust/"), 3),
    (Some("https://chatgpt.com/"), 2),
    (Some("https://blog.example.org/post"), 6),
];
const CAMPAIGNS: &[&str] = &[
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "?ref=producthunt",
];
const COUNTRIES_V4: &[&str] = &["8.8", "81.2", "91.198", "133.11", "200.147", "41.203", "101.0", "2.16"];

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[0].0
}

/// Zipf-ish rank in 0..n (s = 1.1) by rejection-free inverse sampling over a precomputed CDF.
struct Zipf(Vec<f64>);
impl Zipf {
    fn new(n: usize) -> Self {
        let mut acc = 0.0;
        let cdf = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(1.1);
                acc
            })
            .collect::<Vec<_>>();
        Self(cdf.iter().map(|c| c / acc).collect())
    }
    fn sample(&self, rng: &mut StdRng) -> usize {
        let u: f64 = rng.random();
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
}

struct Args {
    url: String,
    origin: String,
    concurrency: usize,
    seconds: Option<u64>,
    requests: Option<u64>,
    path: String,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        origin: "https://shop.test".into(),
        concurrency: 32,
        seconds: None,
        requests: None,
        path: "/ingest".into(),
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
    let client = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).build().unwrap();
    let url = format!("{}{}", a.url, a.path);
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicU64::new(0));
    let limit = a.requests.unwrap_or(u64::MAX);
    let zipf = Arc::new(Zipf::new(500));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..a.concurrency {
        let (client, url, origin, stop, issued, zipf) =
            (client.clone(), url.clone(), a.origin.clone(), stop.clone(), issued.clone(), zipf.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker as u64 * 7919 + 1);
            let (mut lat, mut accepted, mut other, mut errors) = (Vec::with_capacity(1 << 16), 0u64, 0u64, 0u64);
            let mut visit_left = 0u32;
            let (mut ip, mut ua, mut first) = (String::new(), "", true);
            while !stop.load(Ordering::Relaxed) && issued.fetch_add(1, Ordering::Relaxed) < limit {
                if visit_left == 0 {
                    visit_left = 1 + (rng.random::<f64>().powi(2) * 10.0) as u32;
                    ip = format!("{}.{}.{}", COUNTRIES_V4[rng.random_range(0..COUNTRIES_V4.len())], rng.random_range(0..256), rng.random_range(1..255));
                    ua = weighted(&mut rng, USER_AGENTS);
                    first = true;
                }
                visit_left -= 1;
                let page = zipf.sample(&mut rng);
                let mut path = if page == 0 { "/".to_string() } else { format!("/docs/page-{page}") };
                let referrer = if first { weighted(&mut rng, REFERRERS) } else { None };
                if first && rng.random_ratio(1, 10) {
                    path.push_str(CAMPAIGNS[rng.random_range(0..CAMPAIGNS.len())]);
                }
                first = false;
                let width = [390, 1280, 1440, 1920][rng.random_range(0..4)];
                let body = serde_json::json!({"path": path, "referrer": referrer, "sc_w": width, "lang": "en-US", "tsrc": "hk.js"}).to_string();
                let t = Instant::now();
                let r = client.post(&url).header("origin", &origin).header("user-agent", ua).header("x-forwarded-for", &ip).header("content-type", "text/plain").body(body).send().await;
                let micros = t.elapsed().as_micros() as u32;
                match r {
                    Ok(resp) if resp.status() == 202 => { accepted += 1; lat.push(micros); }
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
