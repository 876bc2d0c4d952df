//! `hitkeep seed`: realistic synthetic traffic through the real ingest pipeline (validation,
//! enrichment, visitor hashing, queue, writer), with simulated times over the past days.
//! For benchmarks, demos and screenshots.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::ingest::{HitKind, IncomingHit, IngestError, IngestService};
use crate::domain::page::Page;
use crate::domain::visitor::{MICROS_PER_DAY, Salt};

pub const USER_AGENTS: &[(&str, u32)] = &[
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
pub const REFERRERS: &[(Option<&str>, u32)] = &[
    (None, 45),
    (Some("https://www.google.com/"), 22),
    (Some("https://www.google.de/"), 5),
    (Some("https://www.bing.com/"), 4),
    (Some("https://duckduckgo.com/"), 3),
    (Some("https://t.co/abc"), 4),
    (Some("https://news.ycombinator.com/item?id=1"), 3),
    (Some("https://www.reddit.com/r/rust/"), 3),
    (Some("https://chatgpt.com/"), 2),
    (Some("https://github.com/some/repo"), 3),
    (Some("https://blog.example.org/post"), 6),
];
pub const CAMPAIGNS: &[&str] = &[
    "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "?utm_source=twitter&utm_medium=social&utm_campaign=launch",
    "?ref=producthunt",
];
/// First two octets of public ranges in various countries.
pub const NETWORKS: &[[u8; 2]] =
    &[[8, 8], [81, 2], [91, 198], [133, 11], [200, 147], [41, 203], [101, 0], [2, 16], [185, 60], [62, 210]];

pub fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
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

/// Zipf-distributed ranks `0..n` (exponent 1.1).
pub struct Zipf(Vec<f64>);

impl Zipf {
    pub fn new(n: usize) -> Self {
        let mut acc = 0.0;
        let cdf: Vec<f64> = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(1.1);
                acc
            })
            .collect();
        Self(cdf.iter().map(|c| c / acc).collect())
    }

    pub fn sample(&self, rng: &mut StdRng) -> usize {
        let u: f64 = rng.random();
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
}

/// The path of the page of Zipf rank `rank`.
pub fn page_path(rank: usize) -> String {
    match rank {
        0 => "/".into(),
        1 => "/pricing".into(),
        2 => "/docs".into(),
        3 => "/blog".into(),
        4 => "/signup".into(),
        r if r % 3 == 0 => format!("/blog/post-{r}"),
        r => format!("/docs/page-{r}"),
    }
}

/// An hour of the day on a diurnal curve: more traffic in the (UTC) afternoon.
fn diurnal_hour(rng: &mut StdRng) -> f64 {
    loop {
        let h: f64 = rng.random_range(0.0..24.0);
        if rng.random::<f64>() < 0.35 + 0.65 * ((h - 15.0) / 24.0 * std::f64::consts::TAU).cos().max(0.0) {
            return h;
        }
    }
}

/// Ingests one hit, waiting while the queue is full.
fn send(ingest: &IngestService, hit: IncomingHit) -> anyhow::Result<()> {
    loop {
        match ingest.ingest(hit.clone()) {
            Ok(_) => return Ok(()),
            Err(IngestError::Overloaded) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => anyhow::bail!("seeding failed: {e}"),
        }
    }
}

/// Generates and ingests `events` hits spread over the `days` before `now`, split over `sites`
/// and interleaved in time order (as real traffic of several sites arrives).
pub fn seed(
    ingest: &IngestService,
    sites: &[String],
    events: u64,
    days: u32,
    now_micros: i64,
    seed: u64,
) -> anyhow::Result<u64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let pages = Zipf::new(400);
    let visitors_pool = (events / 8).max(10);
    let origins: Vec<String> = sites.iter().map(|s| format!("https://{s}")).collect();
    let start_day = now_micros.div_euclid(MICROS_PER_DAY) - days as i64;
    // Weekly seasonality: weekends get 65 % of a weekday.
    let weights: Vec<f64> =
        (0..days as i64).map(|d| if (start_day + d + 3).rem_euclid(7) >= 5 { 0.65 } else { 1.0 }).collect();
    let total_w: f64 = weights.iter().sum();
    let mut sent = 0u64;
    let started = Instant::now();
    let mut last_report = Instant::now();
    for (d, w) in weights.iter().enumerate() {
        let day_start = (start_day + d as i64) * MICROS_PER_DAY;
        // Each day's visitors get that day's salt, as the server's daily rotation gives them:
        // a visitor's id never comes back on a later day (a visit over midnight keeps it).
        ingest.rotate_salts_on(start_day as i32 + d as i32, || Salt(rng.random()));
        let target = ((events as f64) * w / total_w).round() as u64;
        let mut day: Vec<(i64, IncomingHit)> = Vec::with_capacity(target as usize + 16);
        while (day.len() as u64) < target {
            let origin = &origins[rng.random_range(0..origins.len())];
            let visitor = rng.random_range(0..visitors_pool);
            let net = NETWORKS[(visitor % NETWORKS.len() as u64) as usize];
            let ip = IpAddr::V4(Ipv4Addr::new(net[0], net[1], (visitor >> 8) as u8, (visitor & 0xff) as u8 | 1));
            let mut vrng = StdRng::seed_from_u64(visitor);
            let ua = weighted(&mut vrng, USER_AGENTS);
            let width = [390u32, 414, 768, 1280, 1440, 1920][vrng.random_range(0..6)];
            let hour = diurnal_hour(&mut rng);
            let mut t = day_start + (hour * 3_600_000_000.0) as i64;
            let views = 1 + (rng.random::<f64>().powi(3) * 10.0) as u32;
            let referrer = weighted(&mut rng, REFERRERS);
            for v in 0..views {
                // A visit late on the last day stops at `now` (the ingest refuses future hits).
                if t > now_micros {
                    break;
                }
                let mut path = page_path(pages.sample(&mut rng));
                if v == 0 && rng.random_ratio(1, 10) {
                    path.push_str(CAMPAIGNS[rng.random_range(0..CAMPAIGNS.len())]);
                }
                let kind = if v > 0 && rng.random_ratio(1, 25) {
                    HitKind::Custom {
                        name: "Signup".into(),
                        props: vec![("plan".into(), ["free", "pro", "team"][rng.random_range(0..3)].into())],
                        revenue: None,
                    }
                } else {
                    HitKind::Pageview { props: Vec::new() }
                };
                let page = Page::parse(&path, false).map_err(|e| anyhow::anyhow!(e))?;
                day.push((
                    t,
                    IncomingHit {
                        kind,
                        site_host: origin.clone(),
                        page,
                        referrer: if v == 0 { referrer.map(str::to_string) } else { Some(format!("{origin}/")) },
                        user_agent: ua.to_string(),
                        client_ip: ip,
                        screen_width: Some(width),
                        language: Some(["en-US", "de-DE", "fr-FR", "es-ES"][(visitor % 4) as usize].into()),
                        do_not_track: false,
                        global_privacy_control: false,
                        timestamp: Some(t),
                    },
                ));
                t += rng.random_range(10_000_000..240_000_000);
            }
        }
        day.sort_by_key(|(t, _)| *t);
        for (_, hit) in day {
            send(ingest, hit)?;
            sent += 1;
        }
        if last_report.elapsed() > Duration::from_secs(1) || d + 1 == weights.len() {
            last_report = Instant::now();
            let rate = sent as f64 / started.elapsed().as_secs_f64();
            eprint!("\rseeded {sent}/{events} hits, day {}/{days}, {rate:.0} hits/s   ", d + 1);
        }
    }
    eprintln!();
    Ok(sent)
}

/// Shared for the CLI: an ingest service is all seeding needs.
pub fn run(
    ingest: Arc<IngestService>,
    sites: &[String],
    events: u64,
    days: u32,
    now_micros: i64,
) -> anyhow::Result<u64> {
    seed(&ingest, sites, events, days, now_micros, 42)
}

/// The site domains `hitkeep seed --sites N` fills: `bench.test`, `bench2.test`, `bench3.test`...
pub fn site_names(first: &str, count: usize) -> Vec<String> {
    (0..count.max(1))
        .map(|i| match (i, first.split_once('.')) {
            (0, _) => first.to_string(),
            (i, Some((label, rest))) => format!("{label}{}.{rest}", i + 1),
            (i, None) => format!("{first}{}", i + 1),
        })
        .collect()
}
