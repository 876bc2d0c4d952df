//! AI visibility: AI crawler fetches with real user agents land in the crawler report with exact
//! counts and never in visitor stats, whether sent by a server (`POST /api/event`) or imported
//! from an access log.

use serde_json::{Value, json};

use crate::harness::*;

const TOKEN: &str = "ai-visibility-token";
const GPTBOT: &str =
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";
const CLAUDEBOT: &str =
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)";
const PERPLEXITYBOT: &str = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)";

async fn get(s: &Server, path: &str) -> (u16, Value) {
    let r = s.client.get(s.url(path)).bearer_auth(TOKEN).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn crawlers(v: &Value) -> Vec<(String, String, u64)> {
    v["crawlers"]
        .as_array()
        .unwrap_or_else(|| panic!("no crawlers in {v}"))
        .iter()
        .map(|c| {
            (
                c["crawler"].as_str().unwrap().into(),
                c["operator"].as_str().unwrap().into(),
                c["fetches"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn pairs(v: &Value, list: &str, key: &str, count: &str) -> Vec<(String, u64)> {
    v[list].as_array().unwrap().iter().map(|p| (p[key].as_str().unwrap().into(), p[count].as_u64().unwrap())).collect()
}

#[tokio::test]
async fn ai_crawler_hits_land_in_the_crawler_report_and_never_in_visitor_stats() {
    let data = DataDir::with_sites(&["shop.test", "other.test"]);
    let s = Server::start(&data, &["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"]);
    s.wait_ready().await;
    let event = |path: &str, referrer: Option<&str>| json!({"n": "pageview", "u": format!("https://shop.test{path}"), "d": "shop.test", "r": referrer});
    // A reverse proxy forwarding what crawlers fetched (server-side ingest), and hk.js once.
    for (ua, path) in [
        (GPTBOT, "/blog/launch"),
        (GPTBOT, "/blog/launch"),
        (GPTBOT, "/pricing"),
        (CLAUDEBOT, "/blog/launch"),
        (CLAUDEBOT, "/docs"),
        (PERPLEXITYBOT, "/pricing"),
    ] {
        let (status, body) = plausible(&s, ua, "203.0.113.9", event(path, None)).await;
        assert_eq!(status, 202, "{body}");
    }
    let hk = s.post("/ingest", "https://shop.test", GPTBOT, pageview("/docs", None));
    assert_eq!(hk.send().await.unwrap().status(), 202);
    // Two people: one from a search engine, one sent by ChatGPT.
    assert_eq!(plausible(&s, CHROME_MAC, "198.51.100.1", event("/", Some("https://www.google.com/"))).await.0, 202);
    assert_eq!(
        plausible(&s, SAFARI_IPHONE, "198.51.100.2", event("/blog/launch", Some("https://chatgpt.com/"))).await.0,
        202
    );
    s.wait_metric("hitkeep_stored_crawler_fetches_total", 7.0).await;
    s.wait_stored(2.0).await;

    let (status, v) = get(&s, "/api/sites/shop.test/ai-visibility?date_range=day").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["total_fetches"], 7, "{v}");
    assert_eq!(
        crawlers(&v),
        [
            ("GPTBot".to_string(), "OpenAI".to_string(), 4),
            ("ClaudeBot".into(), "Anthropic".into(), 2),
            ("PerplexityBot".into(), "Perplexity".into(), 1)
        ]
    );
    assert_eq!(
        pairs(&v, "pages", "page", "fetches"),
        [("/blog/launch".to_string(), 3), ("/docs".into(), 2), ("/pricing".into(), 2)]
    );
    assert_eq!(v["fetches_over_time"].as_array().unwrap().len(), 1, "one day: {v}");
    assert_eq!(v["fetches_over_time"][0]["fetches"], 7);
    assert_eq!(pairs(&v, "assistant_referrals", "source", "visitors"), [("ChatGPT".to_string(), 1)]);

    // Visitor stats count the two people only.
    let q = json!({"site_id": "shop.test", "date_range": "day", "metrics": ["visitors", "pageviews"]});
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(rows(&answer), vec![(vec![], vec![json!(2), json!(2)])], "{answer}");
    assert_eq!(s.metric("hitkeep_ingest_dropped_total{reason=\"ai_crawler\"}").await, 7.0);

    // Another site's report is its own; an unknown site is 404, no credentials 401.
    let (status, other) = get(&s, "/api/sites/other.test/ai-visibility?date_range=day").await;
    assert_eq!((status, other["total_fetches"].as_u64()), (200, Some(0)));
    assert_eq!(get(&s, "/api/sites/nope.test/ai-visibility").await.0, 404);
    let anonymous = s.client.get(s.url("/api/sites/shop.test/ai-visibility")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(get(&s, "/api/sites/shop.test/ai-visibility?date_range=soon").await.0, 400);
    s.stop();
}

#[tokio::test]
async fn imported_access_logs_give_exact_crawler_counts() {
    let data = DataDir::with_sites(&["shop.test", "blog.test"]);
    let fixtures = checkout().join("tests/fixtures/access-logs");
    let run = |args: &[&str]| {
        let mut all = vec!["import-logs", "--data-dir", data.path_str()];
        all.extend_from_slice(args);
        cli(&all)
    };
    let combined = fixtures.join("combined.log");
    let (ok, _, err) = run(&["--format", "combined", combined.to_str().unwrap()]);
    assert!(!ok && err.contains("--site"), "combined logs carry no host: {err}");
    let (ok, out, err) = run(&["--format", "combined", "--site", "shop.test", combined.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains(
            "read 8 lines: 5 AI crawler fetches imported, 2 other requests skipped, 0 for unknown sites, 1 unreadable"
        ),
        "{out}"
    );
    let caddy = fixtures.join("caddy.json.log");
    let (ok, out, err) = run(&["--format", "caddy-json", caddy.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("read 4 lines: 2 AI crawler fetches imported, 1 other requests skipped, 1 for unknown sites"),
        "{out}"
    );

    let s = Server::start(&data, &["--api-token", TOKEN]);
    s.wait_ready().await;
    let (status, v) = get(&s, "/api/sites/shop.test/ai-visibility?date_range=2026-11-01,2026-11-04").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["total_fetches"], 7, "{v}");
    assert_eq!(
        crawlers(&v),
        [
            ("GPTBot".to_string(), "OpenAI".to_string(), 3),
            ("ClaudeBot".into(), "Anthropic".into(), 2),
            ("CCBot".into(), "commoncrawl.org".into(), 1),
            ("PerplexityBot".into(), "Perplexity".into(), 1)
        ]
    );
    assert_eq!(
        pairs(&v, "pages", "page", "fetches"),
        [("/blog/launch".to_string(), 4), ("/pricing".into(), 2), ("/docs/api".into(), 1)]
    );
    assert_eq!(
        pairs(&v, "fetches_over_time", "date", "fetches"),
        [("2026-11-01".to_string(), 0), ("2026-11-02".into(), 5), ("2026-11-03".into(), 2), ("2026-11-04".into(), 0)]
    );
    let (_, blog) = get(&s, "/api/sites/blog.test/ai-visibility?date_range=2026-11-01,2026-11-04").await;
    assert_eq!(blog["total_fetches"], 0, "nothing imported for another site");
    let q = json!({"site_id": "shop.test", "date_range": ["2026-11-01", "2026-11-04"], "metrics": ["visitors"]});
    let r = s.client.post(s.url("/api/v2/query")).bearer_auth(TOKEN).json(&q).send().await.unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(rows(&answer), vec![(vec![], vec![json!(0)])], "log lines are no visitors: {answer}");

    // A live server: the same log shipped to its /api/event, counted today.
    let (ok, out, err) = cli(&["import-logs", "--format", "caddy-json", "--server", &s.base, caddy.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("sent 3 AI crawler fetches"), "{out}");
    s.wait_metric("hitkeep_stored_crawler_fetches_total", 2.0).await;
    let (_, today) = get(&s, "/api/sites/shop.test/ai-visibility?date_range=day").await;
    assert_eq!(today["total_fetches"], 2, "other.test is no site here: {today}");
    s.stop();
}
