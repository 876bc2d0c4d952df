//! Umami's CSV data export: one row per `website_event` (`session_id`, `visit_id`,
//! `created_at`, `url_path`, `event_type` 1 = pageview / 2 = custom event, `referrer_domain`,
//! `browser`, `os`, `device`, `country`, ...), read by column name.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::aggregate::{RawHit, read_hits};
use super::csvread::CsvTable;
use super::{ImportBatch, ImportError};

/// Umami writes `2024-01-31 12:34:56` (UTC), sometimes with fractions or an ISO `T`/`Z`.
pub fn parse_utc(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    let s = s.trim_end_matches('Z').replace('T', " ");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())
        .map(|n| chrono::Utc.from_utc_datetime(&n).timestamp_micros())
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Parses an Umami `website_event` CSV; days are counted in `tz`.
pub fn parse(name: &str, bytes: &[u8], tz: Tz) -> Result<ImportBatch, ImportError> {
    let csv = CsvTable::open(name, bytes, &["session_id", "created_at", "url_path"])?;
    read_hits(csv, tz, |r| {
        let ts = parse_utc(r.get("created_at"))
            .ok_or_else(|| r.bad(format!("created_at must be a date-time, got {:?}", r.get("created_at"))))?;
        let session = r.get("session_id");
        if session.is_empty() {
            return Err(r.bad("session_id is empty"));
        }
        let is_pageview = match r.get("event_type") {
            "" | "1" => true,
            "2" => false,
            other => return Err(r.bad(format!("event_type must be 1 (pageview) or 2 (event), got {other:?}"))),
        };
        let path = r.get("url_path");
        let pathname = if is_pageview {
            if !path.starts_with('/') {
                return Err(r.bad(format!("url_path must start with '/', got {path:?}")));
            }
            path.to_string()
        } else {
            r.get("event_name").to_string()
        };
        let visit = match r.get("visit_id") {
            "" => session.to_string(),
            v => v.to_string(),
        };
        Ok(Some(RawHit {
            ts_micros: ts,
            visitor: session.to_string(),
            visit,
            pathname,
            is_pageview,
            source: opt(r.get("referrer_domain").trim_start_matches("www.")),
            country: opt(r.get("country")).map(|c| c.to_ascii_uppercase()),
            device: super::normalize_device(r.get("device")),
            browser: opt(r.get("browser")),
            os: opt(r.get("os")),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events() {
        let csv = "website_id,session_id,visit_id,created_at,url_path,event_type,event_name,referrer_domain,country,device,browser,os\n\
                   w,s1,v1,2024-03-01 10:00:00,/,1,,www.google.com,de,desktop,chrome,Mac OS\n\
                   w,s1,v1,2024-03-01 10:01:00,/a,1,,,de,desktop,chrome,Mac OS\n\
                   w,s2,v2,2024-03-01 11:00:00,/,2,signup,,fr,mobile,safari,iOS\n";
        let b = parse("website_event.csv", csv.as_bytes(), chrono_tz::UTC).unwrap();
        let t = b.totals();
        assert_eq!((t.visitors, t.visits, t.pageviews, t.bounces, t.visit_duration), (2, 2, 2, 0, 60));
        assert!(b.breakdowns.iter().any(|r| r.value == "google.com"));
    }

    #[test]
    fn bad_time() {
        let csv = "session_id,created_at,url_path\ns,yesterday,/\n";
        let Err(ImportError::BadRows(rows)) = parse("e.csv", csv.as_bytes(), chrono_tz::UTC) else { panic!() };
        assert_eq!(rows[0].line, 2);
    }
}
