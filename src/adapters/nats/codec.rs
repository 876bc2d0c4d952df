//! How records travel in stream messages. A message starts with a format byte, then holds the
//! records of the hits published together, back to back, in postcard's compact binary form:
//! no field names, integers as varints, so a pageview takes ~150 bytes instead of ~600 of JSON,
//! and encoding and decoding cost a fraction of serde_json's (the NATS path's own CPU per hit,
//! measured in BENCHMARKS.md). Messages written by builds before the format byte hold JSON (an
//! array of records, or one record) and are still read, so a stream survives an upgrade.
//!
//! Postcard does not describe its fields: a record written with one shape of `Record` cannot be
//! read with another. `the_wire_form_is_pinned` below fails when the shape changes; then give the
//! new shape a new format byte and keep reading the old one (a stream may hold both).

use thiserror::Error;

use crate::domain::event::Record;

/// Postcard records back to back, `Record` as of this build.
const POSTCARD_V1: u8 = 1;

#[derive(Debug, Error)]
pub(super) enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("unknown message format {0}")]
    UnknownFormat(u8),
    #[error("undecodable record: {0}")]
    Postcard(#[from] postcard::Error),
    #[error("undecodable JSON record: {0}")]
    Json(#[from] serde_json::Error),
}

/// One record, to be appended to a message begun with [`begin`].
pub(super) fn encode(record: &Record) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(record)
}

/// A message body with room for `capacity` bytes of records after its format byte.
pub(super) fn begin(capacity: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(capacity + 1);
    body.push(POSTCARD_V1);
    body
}

/// The records of one message, in the order they were published.
pub(super) fn decode(payload: &[u8]) -> Result<Vec<Record>, DecodeError> {
    match payload.first() {
        None => Err(DecodeError::Empty),
        Some(&POSTCARD_V1) => {
            let mut rest = &payload[1..];
            let mut records = Vec::with_capacity(rest.len() / 128 + 1);
            while !rest.is_empty() {
                let (record, tail) = postcard::take_from_bytes(rest)?;
                records.push(record);
                rest = tail;
            }
            Ok(records)
        }
        Some(b'[') => Ok(serde_json::from_slice(payload)?),
        Some(b'{') => Ok(vec![serde_json::from_slice(payload)?]),
        Some(&other) => Err(DecodeError::UnknownFormat(other)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::channel::Channel;
    use crate::domain::client::{DeviceClass, ScreenClass};
    use crate::domain::crawlers::CrawlerFetch;
    use crate::domain::event::{Engagement, Event, Location, PreviousPage, TrafficSource, VisitStats, VitalSample};
    use crate::domain::page::Utm;
    use crate::domain::revenue::Revenue;
    use crate::domain::visitor::VisitorKey;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    /// A pageview with every optional field set.
    fn pageview() -> Record {
        let traffic = TrafficSource {
            entry_page: "/blog".into(),
            referrer: some("news.example/item"),
            source: some("Hacker News"),
            channel: Channel::OrganicSocial,
            utm: Utm {
                source: some("hn"),
                medium: some("social"),
                campaign: some("launch"),
                content: some("top"),
                term: some("analytics"),
            },
        };
        let event = Event {
            ts: 1_764_460_800_123_456,
            site_id: 7,
            name: "pageview".into(),
            visitor_id: u64::MAX - 1,
            visit_id: 42,
            hostname: "shop.test".into(),
            pathname: "/blog/é".into(),
            traffic: Arc::new(traffic),
            location: Location { country: some("DE"), region: some("DE-BE"), city: some("Berlin") },
            browser: some("Firefox"),
            browser_version: some("133.0"),
            os: some("Linux"),
            os_version: None,
            device: DeviceClass::Tablet,
            screen: Some(ScreenClass::Laptop),
            language: some("de-DE"),
            props: vec![("plan".into(), "pro".into()), ("ab".into(), "b".into())],
            visit_stats: VisitStats {
                visit_start: false,
                bounce_delta: -1,
                duration_delta: 31,
                previous_page: Some(PreviousPage { path: "/".into(), gap_ms: 31_400 }),
            },
            revenue: Some(Revenue { thousandths: 12_500, currency: "EUR".into() }),
            engagement: Some(Engagement { scroll_depth: Some(80), engaged_ms: 9_000 }),
        };
        Record::Event { visitor: VisitorKey { current: 1 << 40, previous: Some(3) }, event: Box::new(event) }
    }

    fn crawl() -> Record {
        Record::Crawl(CrawlerFetch {
            site_id: 3,
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            crawler: "GPTBot".into(),
            operator: "OpenAI".into(),
            pathname: "/docs".into(),
        })
    }

    fn message(records: &[Record]) -> Vec<u8> {
        let mut body = begin(0);
        for r in records {
            body.extend(encode(r).unwrap());
        }
        body
    }

    #[test]
    fn records_come_back_as_published_in_order() {
        let records = vec![pageview(), Record::Vital(VitalSample::test_lcp(9, 5)), crawl(), pageview()];
        assert_eq!(decode(&message(&records)).unwrap(), records);
        assert_eq!(decode(&message(&[])).unwrap(), Vec::<Record>::new());
    }

    #[test]
    fn binary_is_a_quarter_of_json() {
        let binary = encode(&pageview()).unwrap().len();
        let json = serde_json::to_vec(&pageview()).unwrap().len();
        assert!(binary * 3 < json, "postcard {binary} bytes, JSON {json}");
    }

    #[test]
    fn messages_of_earlier_builds_are_still_read() {
        let one = serde_json::to_vec(&pageview()).unwrap();
        assert_eq!(decode(&one).unwrap(), vec![pageview()]);
        let array = serde_json::to_vec(&vec![crawl(), pageview()]).unwrap();
        assert_eq!(decode(&array).unwrap(), vec![crawl(), pageview()]);
    }

    #[test]
    fn damaged_messages_are_refused_not_misread() {
        let mut body = message(&[pageview()]);
        body.truncate(body.len() - 3);
        assert!(matches!(decode(&body), Err(DecodeError::Postcard(_))));
        assert!(matches!(decode(&[9, 1, 2]), Err(DecodeError::UnknownFormat(9))));
        assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
    }

    /// The bytes of format 1. If this fails, `Record` (or a type inside it) changed shape and
    /// messages already in a stream would be misread: add a format byte for the new shape and
    /// keep decoding this one, then update the bytes here.
    #[test]
    fn the_wire_form_is_pinned() {
        let hex: String = message(&[pageview(), crawl()]).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, PINNED);
    }

    const PINNED: &str = concat!(
        "010080808080802001038089b1b391b1a20607087061676576696577feffffffffffffffff012a0973686f702e746573",
        "74082f626c6f672fc3a9052f626c6f6701116e6577732e6578616d706c652f6974656d010b4861636b6572204e657773",
        "030102686e0106736f6369616c01066c61756e63680103746f700109616e616c797469637301024445010544452d4245",
        "01064265726c696e010746697265666f7801053133332e3001054c696e757800020102010564652d44450204706c616e",
        "0370726f026162016200ff1f01012fa8f50101a8c30103455552010150a84602030a323032362d31312d333006475054",
        "426f74064f70656e4149052f646f6373",
    );
}
