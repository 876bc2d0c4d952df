//! Checks of what a sender may put in a hit: event names, properties, campaign fields and
//! over-long strings (a child of `ingest`; enrichment and the decisions stay there).

use crate::domain::event::{ENGAGEMENT, PAGEVIEW};
use crate::domain::limits::{
    InvalidHit, MAX_EVENT_NAME_LEN, MAX_PROP_KEY_LEN, MAX_PROP_VALUE_LEN, MAX_PROPS, check_len,
};
use crate::domain::page::Utm;

pub(super) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks a custom event's name and properties; keeps the first of duplicate keys.
pub(super) fn validate_custom(
    name: String,
    props: Vec<(String, String)>,
) -> Result<(String, Vec<(String, String)>), InvalidHit> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(InvalidHit::new("name", "must not be empty"));
    }
    check_len("name", &name, MAX_EVENT_NAME_LEN)?;
    if name == PAGEVIEW {
        return Err(InvalidHit::new("name", "\"pageview\" is reserved; send pageviews to /ingest"));
    }
    if name == ENGAGEMENT {
        return Err(InvalidHit::new("name", "\"engagement\" is reserved for scroll depth and engaged time"));
    }
    Ok((name, validate_props(props)?))
}

/// Checks event properties (custom events' and pageviews'); keeps the first of duplicate keys.
pub(super) fn validate_props(props: Vec<(String, String)>) -> Result<Vec<(String, String)>, InvalidHit> {
    if props.len() > MAX_PROPS {
        return Err(InvalidHit::new("props", format!("more than {MAX_PROPS} properties")));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(props.len());
    for (k, v) in props {
        if k.is_empty() {
            return Err(InvalidHit::new("props", "property names must not be empty"));
        }
        check_len("props", &k, MAX_PROP_KEY_LEN)?;
        check_len("props", &v, MAX_PROP_VALUE_LEN)?;
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// Campaign fields sent explicitly in a payload (HitKeep's `u_src`...), merged with the URL's.
pub fn explicit_utm(
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
    content: Option<String>,
    term: Option<String>,
) -> Utm {
    let clean = |v: Option<String>| v.map(|s| s.trim().chars().take(200).collect::<String>()).filter(|s| !s.is_empty());
    Utm {
        source: clean(source),
        medium: clean(medium),
        campaign: clean(campaign),
        content: clean(content),
        term: clean(term),
    }
}
