//! GoatCounter's CSV export, format version 2: one row per hit under the header
//! `2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date`
//! (the leading `2` is the format version, glued to the first name; `2,Path,...` is accepted
//! too). Bot rows (Bot other than 0) are skipped as GoatCounter's own reports skip them.

use chrono_tz::Tz;

use super::aggregate::{RawHit, read_hits};
use super::csvread::CsvTable;
use super::umami::parse_utc;
use super::{ImportBatch, ImportError};

/// The first word of `Chrome 120` / `Windows 10`.
fn family(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // Keep multi-word names whole up to the first token that starts with a digit.
    let words: Vec<&str> = s.split_whitespace().take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit())).collect();
    Some(if words.is_empty() { s.to_string() } else { words.join(" ") })
}

/// Device class from GoatCounter's screen size (`1920,1080,1` or `1920x1080`).
fn device_of(screen: &str) -> Option<String> {
    let width: f64 = screen.split([',', 'x']).next()?.trim().parse().ok()?;
    Some(
        match width {
            w if w <= 0.0 => return None,
            w if w < 768.0 => "Mobile",
            w if w < 1024.0 => "Tablet",
            _ => "Desktop",
        }
        .into(),
    )
}

/// Parses a GoatCounter export CSV; days are counted in `tz`.
pub fn parse(name: &str, bytes: &[u8], tz: Tz) -> Result<ImportBatch, ImportError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    // The version digit is not a column: drop it from the header.
    let body = if let Some(rest) = bytes.strip_prefix(b"2,Path") {
        [b"Path".as_slice(), rest].concat()
    } else if let Some(rest) = bytes.strip_prefix(b"2Path") {
        [b"Path".as_slice(), rest].concat()
    } else {
        return Err(ImportError::BadFile(format!(
            "{name}: not a GoatCounter CSV export version 2 (the header must start with \"2Path,Title,Event\")"
        )));
    };
    let csv = CsvTable::open(name, body.as_slice(), &["path", "event", "session", "bot", "date"])?;
    read_hits(csv, tz, |r| {
        match r.get("bot") {
            "" | "0" => {}
            b if b.parse::<u32>().is_ok() => return Ok(None),
            b => return Err(r.bad(format!("Bot must be a number, got {b:?}"))),
        }
        let ts = parse_utc(r.get("date"))
            .ok_or_else(|| r.bad(format!("Date must be an RFC 3339 date-time, got {:?}", r.get("date"))))?;
        let is_event = match r.get("event").to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "" | "false" | "0" => false,
            other => return Err(r.bad(format!("Event must be true or false, got {other:?}"))),
        };
        let path = r.get("path");
        if path.is_empty() {
            return Err(r.bad("Path is empty"));
        }
        let session = match r.get("session") {
            "" => format!("line-{}", r.line),
            s => s.to_string(),
        };
        let location = r.get("location");
        Ok(Some(RawHit {
            ts_micros: ts,
            visitor: session.clone(),
            visit: session,
            pathname: path.to_string(),
            is_pageview: !is_event,
            source: super::referrer_host(r.get("referrer")),
            country: location.split('-').next().filter(|c| c.len() == 2).map(str::to_ascii_uppercase),
            device: device_of(r.get("screen size")),
            browser: family(r.get("browser")),
            os: family(r.get("system")),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "2,Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date\n";

    #[test]
    fn reads_hits_and_skips_bots() {
        let csv = format!(
            "{HEADER}/,Home,false,Mozilla,Firefox 120,Linux,s1,0,news.ycombinator.com,h,\"1920,1080,1\",NL,true,2024-05-01T10:00:00Z\n\
             /b,B,false,Mozilla,Firefox 120,Linux,s1,0,,,\"1920,1080,1\",NL,false,2024-05-01T10:02:00Z\n\
             /,Home,false,bot,,,s9,4,,,,,true,2024-05-01T11:00:00Z\n"
        );
        let b = parse("goatcounter.csv", csv.as_bytes(), chrono_tz::UTC).unwrap();
        assert_eq!(b.rows_skipped, 1);
        let t = b.totals();
        assert_eq!((t.visitors, t.visits, t.pageviews, t.bounces, t.visit_duration), (1, 1, 2, 0, 120));
        assert!(b.breakdowns.iter().any(|r| r.value == "news.ycombinator.com"));
        assert!(b.breakdowns.iter().any(|r| r.value == "Firefox"));
    }

    #[test]
    fn refuses_other_csv() {
        assert!(matches!(parse("x.csv", b"Path,Date\n/,2024\n", chrono_tz::UTC), Err(ImportError::BadFile(_))));
    }
}
