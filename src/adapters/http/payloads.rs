//! Wire formats accepted on the ingest paths: HitKeep's hk.js and Plausible's Events API.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::limits::InvalidHit;
use crate::domain::revenue::Revenue;

/// HitKeep pageview (`POST /ingest`).
#[derive(Debug, Deserialize)]
pub struct PageviewPayload {
    pub path: Option<String>,
    /// Plausible-style full URL, accepted as an alternative to `path`.
    pub url: Option<String>,
    pub referrer: Option<String>,
    pub ua: Option<String>,
    pub vp_w: Option<f64>,
    pub sc_w: Option<f64>,
    pub lang: Option<String>,
    pub u_src: Option<String>,
    pub u_med: Option<String>,
    pub u_cmp: Option<String>,
    pub u_trm: Option<String>,
    pub u_cnt: Option<String>,
    /// Set by trackers using hash-based routing.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub hash: bool,
    /// Site domain for server-side senders without an `Origin`.
    pub domain: Option<String>,
    /// RFC 3339 time of the hit; honoured only with the API token (backfills, imports).
    pub timestamp: Option<String>,
}

/// HitKeep custom event (`POST /ingest/event`).
#[derive(Debug, Deserialize)]
pub struct EventPayload {
    pub n: Option<String>,
    pub p: Option<Value>,
    /// The page the event happened on (path or URL); HitKeep's own hk.js leaves it out.
    pub u: Option<String>,
    pub r: Option<String>,
    pub ua: Option<String>,
    pub domain: Option<String>,
    /// RFC 3339 time of the event; honoured only with the API token.
    pub timestamp: Option<String>,
    /// `{amount, currency}` (from `hk.event(name, props, {revenue})`).
    pub revenue: Option<Value>,
    /// Engagement reports (`n: "engagement"`): scroll depth percent and engaged milliseconds.
    pub sd: Option<f64>,
    pub e: Option<f64>,
}

/// HitKeep Web Vitals report (`POST /ingest/web-vitals`).
#[derive(Debug, Deserialize)]
pub struct VitalPayload {
    pub n: Option<String>,
    pub v: Option<f64>,
    pub p: Option<String>,
    pub nt: Option<String>,
}

/// Plausible Events API body, long or compact field names (`POST /api/event`).
#[derive(Debug, Deserialize)]
pub struct PlausiblePayload {
    #[serde(alias = "n")]
    pub name: Option<String>,
    #[serde(alias = "u")]
    pub url: Option<String>,
    #[serde(alias = "d")]
    pub domain: Option<String>,
    #[serde(alias = "r")]
    pub referrer: Option<String>,
    /// An object, or (legacy script) a JSON-encoded string of one.
    #[serde(alias = "p")]
    pub props: Option<Value>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub h: bool,
    pub w: Option<f64>,
    /// `{amount, currency}`: the amount a number or decimal string, the currency ISO 4217.
    #[serde(alias = "$")]
    pub revenue: Option<Value>,
    /// Engagement events: scroll depth (percent) and engaged time (milliseconds).
    pub sd: Option<f64>,
    pub e: Option<f64>,
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    })
}

/// Flattens event properties into string pairs. Scalars become text; nested values become JSON.
/// A string that holds a JSON object (Plausible's legacy script) is decoded first.
pub fn props_to_pairs(props: Option<Value>) -> Result<Vec<(String, String)>, String> {
    let map = match props {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => m,
            _ => return Err("must be an object of property names to values".into()),
        },
        Some(_) => return Err("must be an object of property names to values".into()),
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| {
            let text = match v {
                Value::Null => return None,
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            Some((k, text))
        })
        .collect())
}

/// Revenue from `{amount, currency}` (Plausible's form); the amount may be a number or a string.
pub fn revenue(value: Option<Value>) -> Result<Option<Revenue>, InvalidHit> {
    let bad = || InvalidHit::new("revenue", "must be an object {amount, currency}");
    let map = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        // Plausible's script sends it JSON-encoded in a string.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(bad()),
        },
        Some(_) => return Err(bad()),
    };
    let amount = match map.get("amount") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(InvalidHit::new("revenue", "amount must be a number or a decimal string")),
    };
    let Some(Value::String(currency)) = map.get("currency") else {
        return Err(InvalidHit::new("revenue", "currency must be an ISO 4217 code such as EUR"));
    };
    Revenue::parse(&amount, currency).map(Some)
}

/// A width from a float field, ignoring nonsense.
pub fn width(w: Option<f64>) -> Option<u32> {
    w.filter(|w| w.is_finite() && *w > 0.0 && *w < 100_000.0).map(|w| w as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn props_accept_objects_and_legacy_strings() {
        let pairs = props_to_pairs(Some(json!({"plan": "pro", "seats": 3, "trial": false, "x": null}))).unwrap();
        assert_eq!(
            pairs,
            vec![("plan".into(), "pro".into()), ("seats".into(), "3".into()), ("trial".into(), "false".into())]
        );
        let legacy = props_to_pairs(Some(json!("{\"plan\":\"pro\"}"))).unwrap();
        assert_eq!(legacy, vec![("plan".into(), "pro".into())]);
        assert!(props_to_pairs(Some(json!([1, 2]))).is_err());
        assert!(props_to_pairs(Some(json!("not json"))).is_err());
    }

    #[test]
    fn plausible_compact_and_long_forms() {
        let compact: PlausiblePayload = serde_json::from_str(
            r#"{"n":"pageview","u":"http://shop.test/products","d":"shop.test","r":null,"w":1280,"h":1}"#,
        )
        .unwrap();
        assert_eq!(compact.name.as_deref(), Some("pageview"));
        assert_eq!(compact.domain.as_deref(), Some("shop.test"));
        assert!(compact.h);
        let long: PlausiblePayload = serde_json::from_str(
            r#"{"name":"signup","url":"https://shop.test/","domain":"shop.test","props":{"plan":"pro"}}"#,
        )
        .unwrap();
        assert_eq!(long.url.as_deref(), Some("https://shop.test/"));
    }
}
