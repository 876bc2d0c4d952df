//! Revenue goals against the real binary: a goal's currency, conversion at the operator's rates
//! (`--revenue-rates`), and mixed currencies reported, never guessed, where no rate is given.

use serde_json::{Value, json};

use crate::harness::{DataDir, Server};
use crate::plausible_query::{SITE, TOKEN, plausible_event};

async fn start(data: &DataDir, rates: Option<&str>) -> Server {
    let mut args = vec!["--api-token", TOKEN, "--trusted-proxies", "127.0.0.1"];
    let file = data.path_str().to_string() + "/rates.csv";
    if let Some(csv) = rates {
        std::fs::write(&file, csv).unwrap();
        args.extend(["--revenue-rates", file.as_str()]);
    }
    let s = Server::start(data, &args);
    s.wait_ready().await;
    s
}

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = s.client.post(s.url(path)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Purchases from distinct visitors: (amount, currency) each.
async fn purchases(s: &Server, paid: &[(&str, &str)], first_ip: u8) {
    for (i, (amount, currency)) in paid.iter().enumerate() {
        let body = json!({"n": "Purchase", "u": "https://shop.test/checkout", "d": SITE,
                          "revenue": {"amount": amount, "currency": currency}});
        plausible_event(s, &format!("9.9.9.{}", first_ip as usize + i), body).await;
    }
}

fn revenue_query(dims: Value) -> Value {
    json!({"site_id": SITE, "date_range": "day", "metrics": ["visitors", "total_revenue", "average_revenue"],
           "dimensions": dims, "filters": [["is", "event:goal", ["Purchase"]]]})
}

fn money(value: f64, currency: &str, long: &str) -> Value {
    json!({"value": value, "currency": currency, "short": long, "long": long})
}

#[tokio::test]
async fn revenue_goals_convert_at_the_operators_rates() {
    let data = DataDir::with_sites(&[SITE]);
    let s = start(&data, Some("from,to,rate\nUSD,EUR,0.5\n")).await;
    let (status, goal) =
        post(&s, "/api/sites/shop.test/goals", json!({"event_name": "Purchase", "currency": "eur"})).await;
    assert_eq!((status, goal["currency"].as_str()), (201, Some("EUR")), "{goal}");
    let (status, refused) =
        post(&s, "/api/sites/shop.test/goals", json!({"page_path": "/buy", "currency": "EUR"})).await;
    assert_eq!(status, 400, "{refused}");

    // 10.00 EUR + 20.00 USD (= 10.00 EUR at 0.5): 20.00 EUR over 2 purchases, 10.00 on average.
    purchases(&s, &[("10.00", "EUR"), ("20.00", "USD")], 1).await;
    s.wait_stored(2.0).await;
    let (status, v) = post(&s, "/api/v2/query", revenue_query(json!([]))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0]["metrics"], json!([2, money(20.0, "EUR", "€20.00"), money(10.0, "EUR", "€10.00")]));
    assert!(v["meta"].get("metric_warnings").is_none(), "{v}");
    let (_, by_goal) = post(&s, "/api/v2/query", revenue_query(json!(["event:goal"]))).await;
    assert_eq!(
        by_goal["results"],
        json!([{"dimensions": ["Purchase"], "metrics": [2, money(20.0, "EUR", "€20.00"), money(10.0, "EUR", "€10.00")]}])
    );

    // A currency without a rate is not guessed: the total is null and the mix is reported.
    purchases(&s, &[("4.00", "GBP")], 3).await;
    s.wait_stored(3.0).await;
    let (_, v) = post(&s, "/api/v2/query", revenue_query(json!([]))).await;
    assert_eq!(v["results"][0]["metrics"], json!([3, null, null]), "{v}");
    assert_eq!(v["meta"]["metric_warnings"]["total_revenue"]["code"], "no_single_revenue_currency");
    s.stop();
}

#[tokio::test]
async fn without_rates_mixed_currencies_are_reported_not_converted() {
    let data = DataDir::with_sites(&[SITE]);
    let s = start(&data, None).await;
    let (status, _) =
        post(&s, "/api/sites/shop.test/goals", json!({"event_name": "Purchase", "currency": "EUR"})).await;
    assert_eq!(status, 201);
    purchases(&s, &[("10.00", "EUR"), ("20.00", "USD"), ("5.00", "EUR")], 1).await;
    s.wait_stored(3.0).await;
    let (_, v) = post(&s, "/api/v2/query", revenue_query(json!([]))).await;
    assert_eq!(v["results"][0]["metrics"], json!([3, null, null]), "{v}");
    assert_eq!(v["meta"]["metric_warnings"]["average_revenue"]["code"], "no_single_revenue_currency");
    s.stop();
}
