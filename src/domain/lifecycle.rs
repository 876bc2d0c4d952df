//! Data lifecycle rules: retention cut-offs, export ranges and report periods, all computed in
//! the site's time zone. Pure functions; the adapters do the deleting, copying and sending.

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::query::period::local_midnight;
use super::site::Site;

/// Why a lifecycle request was refused; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LifecycleError(pub String);

/// The site's time zone (UTC when the stored name is unknown).
pub fn site_tz(site: &Site) -> Tz {
    site.timezone.as_str().parse().unwrap_or(chrono_tz::UTC)
}

/// The local date of a UTC instant in `tz`.
pub fn local_date(tz: Tz, micros: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default().with_timezone(&tz).date_naive()
}

/// The retention cut-off: events before local midnight `retention_days` days before today are
/// deleted. `None` when the site keeps data forever (0 days).
pub fn retention_cutoff(site: &Site, now_micros: i64) -> Option<i64> {
    if site.retention_days == 0 {
        return None;
    }
    let tz = site_tz(site);
    let first_kept = local_date(tz, now_micros) - Duration::days(i64::from(site.retention_days));
    Some(local_midnight(tz, first_kept).timestamp_micros())
}

/// A closed range of local dates, as `[start, end)` UTC microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start_micros: i64,
    pub end_micros: i64,
}

/// Most days one export may cover (a guard against typos such as year 20260).
pub const MAX_EXPORT_DAYS: i64 = 366 * 20;

/// Parses `from`/`to` (`YYYY-MM-DD`, inclusive) in the site's zone.
pub fn date_span(tz: Tz, from: &str, to: &str) -> Result<DateSpan, LifecycleError> {
    let parse = |name: &str, s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| LifecycleError(format!("{name} must be a date like 2026-01-31, got {s:?}")))
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    if to < from {
        return Err(LifecycleError(format!("to ({to}) is before from ({from})")));
    }
    if (to - from).num_days() > MAX_EXPORT_DAYS {
        return Err(LifecycleError(format!("the range {from}..{to} is longer than {MAX_EXPORT_DAYS} days")));
    }
    Ok(DateSpan {
        from,
        to,
        start_micros: local_midnight(tz, from).timestamp_micros(),
        end_micros: local_midnight(tz, to + Duration::days(1)).timestamp_micros(),
    })
}

/// How often a report is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Week,
    Month,
}

impl Frequency {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "week" | "weekly" => Some(Self::Week),
            "month" | "monthly" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// The last complete week (Monday-Sunday) or month before the local date `today`.
pub fn last_full_period(freq: Frequency, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    match freq {
        Frequency::Week => {
            let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            (this_monday - Duration::days(7), this_monday - Duration::days(1))
        }
        Frequency::Month => {
            let first = today.with_day(1).expect("day 1 exists");
            let last = first - Duration::days(1);
            (last.with_day(1).expect("day 1 exists"), last)
        }
    }
}

/// The period just before `(from, to)` of the same kind (for the change figures).
pub fn previous_period(freq: Frequency, from: NaiveDate) -> (NaiveDate, NaiveDate) {
    last_full_period(freq, from)
}

/// Local hour at which scheduled reports go out (Monday / the 1st).
pub const REPORT_HOUR: u32 = 8;

/// The period a scheduled report is due for at `now`, if its send time (Monday 08:00 or the 1st
/// 08:00, local) has passed: `(key, from, to)`. The caller sends once per key.
pub fn due_period(freq: Frequency, tz: Tz, now_micros: i64) -> Option<(String, NaiveDate, NaiveDate)> {
    let local = chrono::DateTime::from_timestamp_micros(now_micros)?.with_timezone(&tz);
    let today = local.date_naive();
    let (from, to) = last_full_period(freq, today);
    let send_day = to + Duration::days(1);
    let send_at = tz.from_local_datetime(&send_day.and_hms_opt(REPORT_HOUR, 0, 0)?).earliest()?;
    (local >= send_at).then(|| (period_key(freq, from), from, to))
}

/// A stable name for a report period: `2026-W47` or `2026-11`.
pub fn period_key(freq: Frequency, from: NaiveDate) -> String {
    match freq {
        Frequency::Week => {
            let w = from.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Frequency::Month => from.format("%Y-%m").to_string(),
    }
}

/// A plausible e-mail address: one `@`, a dotted domain, no spaces or angle brackets.
pub fn parse_email(s: &str) -> Result<String, LifecycleError> {
    let s = s.trim();
    let ok = s.len() <= 254
        && !s.contains(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == ',')
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.contains('@')
        });
    if ok { Ok(s.to_string()) } else { Err(LifecycleError(format!("{s:?} is not an e-mail address"))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::site::{SiteDomain, SiteId, TimeZoneName};

    fn site(tz: &str, days: u32) -> Site {
        Site {
            id: SiteId(1),
            domain: SiteDomain::parse("a.test").unwrap(),
            hostnames: vec![],
            timezone: TimeZoneName::parse(tz).unwrap(),
            honor_dnt: true,
            honor_gpc: true,
            excluded_ips: vec![],
            retention_days: days,
        }
    }

    fn micros(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn cutoff_is_local_midnight() {
        let now = micros("2026-03-10T12:00:00Z");
        assert_eq!(retention_cutoff(&site("UTC", 0), now), None);
        assert_eq!(retention_cutoff(&site("UTC", 7), now), Some(micros("2026-03-03T00:00:00Z")));
        // Berlin is UTC+1 in March: local midnight is 23:00 UTC the day before.
        assert_eq!(retention_cutoff(&site("Europe/Berlin", 7), now), Some(micros("2026-03-02T23:00:00Z")));
    }

    #[test]
    fn periods() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 2026-11-25 is a Wednesday.
        assert_eq!(last_full_period(Frequency::Week, d("2026-11-25")), (d("2026-11-16"), d("2026-11-22")));
        assert_eq!(last_full_period(Frequency::Month, d("2026-03-01")), (d("2026-02-01"), d("2026-02-28")));
        assert_eq!(previous_period(Frequency::Week, d("2026-11-16")), (d("2026-11-09"), d("2026-11-15")));
        assert_eq!(period_key(Frequency::Week, d("2026-11-16")), "2026-W47");
    }

    #[test]
    fn due_after_monday_eight() {
        let tz: Tz = "UTC".parse().unwrap();
        // Monday 2026-11-23.
        assert_eq!(due_period(Frequency::Week, tz, micros("2026-11-23T07:59:00Z")), None);
        assert_eq!(
            due_period(Frequency::Week, tz, micros("2026-11-23T08:00:00Z")).map(|p| p.0),
            Some("2026-W47".into())
        );
        assert_eq!(due_period(Frequency::Month, tz, micros("2026-12-01T07:00:00Z")), None);
        assert!(due_period(Frequency::Month, tz, micros("2026-12-01T08:00:00Z")).is_some_and(|p| p.0 == "2026-11"));
    }

    #[test]
    fn spans_and_emails() {
        let tz: Tz = "UTC".parse().unwrap();
        let s = date_span(tz, "2026-01-01", "2026-01-31").unwrap();
        assert_eq!(s.end_micros - s.start_micros, 31 * 86_400_000_000);
        assert!(date_span(tz, "2026-02-01", "2026-01-01").is_err());
        assert!(date_span(tz, "yesterday", "2026-01-01").unwrap_err().0.contains("from must be a date"));
        assert!(parse_email("a@b.test").is_ok());
        assert!(parse_email("a b@c.test").is_err());
        assert!(parse_email("nobody").is_err());
    }
}
