//! No-panic properties for everything that parses untrusted input: page URLs, referrers, user
//! agents, ingest bodies and report queries. CI runs a smoke of each (512 cases); set
//! `HITKEEP_FUZZ_CASES` (e.g. 1000000) for a long run, as `bench/README.md` describes.

use std::sync::OnceLock;

use hitkeep::adapters::http::payloads::{PageviewPayload, PlausiblePayload, props_to_pairs};
use hitkeep::adapters::uap::UapClassifier;
use hitkeep::domain::channel::classify;
use hitkeep::domain::client::normalize_language;
use hitkeep::domain::page::{Page, Utm};
use hitkeep::domain::query::parse_query;
use hitkeep::domain::site::{SiteDomain, normalize_host};
use hitkeep::ports::useragent::UserAgentClassifier;
use proptest::prelude::*;
use serde_json::{Value, json};

fn fuzz_cases() -> u32 {
    std::env::var("HITKEEP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
}

fn classifier() -> &'static UapClassifier {
    static C: OnceLock<UapClassifier> = OnceLock::new();
    C.get_or_init(|| UapClassifier::new(10_000).expect("embedded data"))
}

/// URL-ish strings: mostly printable, with the characters parsers split on.
fn urlish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9:/?#&=%._~!$'()*+,;@\\[\\] -]{0,80}",
        "(https?://)?(www\\.)?[a-z0-9.-]{0,20}(:[0-9]{0,6})?(/[a-z0-9%._-]{0,10}){0,4}(\\?[a-z_=&%0-9]{0,30})?(#[a-z/!]{0,10})?",
    ]
}

/// JSON values shaped like queries: the right keys with random contents.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "visitors",
            "bounce_rate",
            "percentage",
            "conversion_rate",
            "time_on_page",
            "event:page",
            "visit:source",
            "event:goal",
            "event:props:plan",
            "time:day",
            "time",
            "is",
            "is_not",
            "contains",
            "matches",
            "and",
            "or",
            "not",
            "has_done",
            "7d",
            "day",
            "all",
            "6mo",
            "2024-01-01",
            "asc",
            "desc",
            "previous_period",
        ])
        .prop_map(|s| json!(s)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["case_sensitive", "limit", "offset", "time_labels", "total_rows", "x"]),
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn query_body() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), json_value(), json_value(), json_value(), json_value()).prop_map(
        |(range, metrics, dims, filters, order, include, pagination)| {
            json!({"site_id": "s.test", "date_range": range, "metrics": metrics, "dimensions": dims,
                   "filters": filters, "order_by": order, "include": include, "pagination": pagination})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn page_and_host_parsing_never_panic(s in urlish(), hash in any::<bool>()) {
        let _ = Page::parse(&s, hash);
        let _ = normalize_host(&s);
        let _ = SiteDomain::parse(&s);
        let _ = normalize_language(&s);
        if let Ok(p) = Page::parse(&s, hash) {
            prop_assert!(p.pathname.starts_with('/'));
        }
    }

    #[test]
    fn referrer_classification_never_panics(r in urlish(), site in "[a-z]{1,8}\\.test", src in proptest::option::of(any::<String>()), medium in proptest::option::of("[a-z_]{0,10}"), paid in any::<bool>()) {
        let utm = Utm { source: src, medium, ..Default::default() };
        let s = classify(Some(&r), &site, &utm, paid);
        prop_assert!(!s.channel.as_str().is_empty());
    }

    #[test]
    fn user_agent_classification_never_panics(ua in any::<String>()) {
        let _ = classifier().classify(&ua);
    }

    #[test]
    fn ingest_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), v in json_value()) {
        let _ = serde_json::from_slice::<PageviewPayload>(&bytes);
        let _ = serde_json::from_slice::<PlausiblePayload>(&bytes);
        let _ = serde_json::from_value::<PageviewPayload>(v.clone());
        let _ = serde_json::from_value::<PlausiblePayload>(v.clone());
        let _ = props_to_pairs(Some(v));
    }

    #[test]
    fn query_parsing_never_panics(body in query_body(), now in 0i64..4_000_000_000_000_000) {
        let _ = parse_query(&body, chrono_tz::Europe::Berlin, now, None);
    }
}
