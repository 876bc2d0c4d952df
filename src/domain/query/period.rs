//! Periods in a site's time zone: what `"7d"` or `["2024-01-01","2024-01-31"]` means, the UTC
//! bounds to scan, and the local time buckets (DST-correct) for time dimensions.

use chrono::{DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Time bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeGrain {
    /// `time`: chosen from the period's length.
    Auto,
    Hour,
    Day,
    Week,
    Month,
}

impl TimeGrain {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "time" => TimeGrain::Auto,
            "time:hour" => TimeGrain::Hour,
            "time:day" => TimeGrain::Day,
            "time:week" => TimeGrain::Week,
            "time:month" => TimeGrain::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimeGrain::Auto => "time",
            TimeGrain::Hour => "time:hour",
            TimeGrain::Day => "time:day",
            TimeGrain::Week => "time:week",
            TimeGrain::Month => "time:month",
        }
    }
}

/// A resolved period: UTC bounds `[start, end)` in microseconds and the local dates it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub tz: Tz,
    pub start: i64,
    pub end: i64,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
}

/// Start of a local day as a UTC instant (a DST gap at midnight moves it to the first valid time).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut naive = date.and_hms_opt(0, 0, 0).expect("midnight");
    for _ in 0..4 {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => naive += Duration::minutes(30),
        }
    }
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Period {
    /// Whole local days `first..=last`.
    pub fn days(tz: Tz, first: NaiveDate, last: NaiveDate) -> Self {
        let start = micros(local_midnight(tz, first));
        let end = micros(local_midnight(tz, last.succ_opt().unwrap_or(last)));
        Self { tz, start, end, first_date: first, last_date: last }
    }

    /// An exact instant range.
    pub fn instants(tz: Tz, start: i64, end: i64) -> Self {
        let date = |m: i64| DateTime::from_timestamp_micros(m).unwrap_or_default().with_timezone(&tz).date_naive();
        Self { tz, start, end, first_date: date(start), last_date: date((end - 1).max(start)) }
    }

    /// Number of local days covered.
    pub fn day_count(&self) -> i64 {
        (self.last_date - self.first_date).num_days() + 1
    }

    /// The grain `time` stands for.
    pub fn auto_grain(&self) -> TimeGrain {
        match self.day_count() {
            ..=2 => TimeGrain::Hour,
            3..=93 => TimeGrain::Day,
            _ => TimeGrain::Month,
        }
    }

    pub fn resolve_grain(&self, grain: TimeGrain) -> TimeGrain {
        if grain == TimeGrain::Auto { self.auto_grain() } else { grain }
    }

    /// The period just before, of the same length.
    pub fn previous(&self) -> Period {
        if self.is_whole_days() {
            let n = self.day_count();
            Period::days(self.tz, self.first_date - Duration::days(n), self.first_date - Duration::days(1))
        } else {
            let len = self.end - self.start;
            Period::instants(self.tz, self.start - len, self.start)
        }
    }

    /// The same dates a year earlier.
    pub fn year_earlier(&self) -> Period {
        let back = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
        if self.is_whole_days() {
            Period::days(self.tz, back(self.first_date), back(self.last_date))
        } else {
            let shift = |m: i64| {
                let t = DateTime::from_timestamp_micros(m).unwrap_or_default();
                t.checked_sub_months(Months::new(12)).map(micros).unwrap_or(m)
            };
            Period::instants(self.tz, shift(self.start), shift(self.end))
        }
    }

    fn is_whole_days(&self) -> bool {
        self.start == micros(local_midnight(self.tz, self.first_date))
            && self.end == micros(local_midnight(self.tz, self.last_date.succ_opt().unwrap_or(self.last_date)))
    }

    /// UTC offset changes inside the period: `(from_utc_micros, offset_seconds)`, the first
    /// entry starting at `start`. Lets SQL turn UTC into local time without a tz database.
    pub fn offsets(&self) -> Vec<(i64, i32)> {
        let offset_at = |m: i64| -> i32 {
            let t = DateTime::from_timestamp_micros(m).unwrap_or_default();
            self.tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()
        };
        let mut out = vec![(self.start, offset_at(self.start))];
        let step = 3 * 3600 * 1_000_000i64;
        let mut prev = self.start;
        let mut t = self.start;
        while t < self.end {
            t = (t + step).min(self.end);
            let off = offset_at(t);
            if off != out.last().expect("non-empty").1 {
                // Binary search for the first second with the new offset.
                let (mut lo, mut hi) = (prev, t);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset_at(mid) == off { hi = mid } else { lo = mid }
                }
                out.push((hi, off));
            }
            prev = t;
        }
        out
    }

    /// All bucket labels of the period at `grain` (resolved), in order.
    pub fn labels(&self, grain: TimeGrain) -> Vec<String> {
        let grain = self.resolve_grain(grain);
        let mut out = Vec::new();
        match grain {
            TimeGrain::Hour => {
                let mut d = self.first_date;
                while d <= self.last_date {
                    for h in 0..24 {
                        out.push(format!("{} {:02}:00:00", d.format("%Y-%m-%d"), h));
                    }
                    d = d.succ_opt().expect("date");
                }
            }
            TimeGrain::Day | TimeGrain::Auto => {
                let mut d = self.first_date;
                while d <= self.last_date {
                    out.push(d.format("%Y-%m-%d").to_string());
                    d = d.succ_opt().expect("date");
                }
            }
            TimeGrain::Week => {
                let mut d = week_start(self.first_date);
                while d <= self.last_date {
                    out.push(d.max(self.first_date).format("%Y-%m-%d").to_string());
                    d += Duration::days(7);
                }
            }
            TimeGrain::Month => {
                let mut d = self.first_date.with_day(1).expect("day 1");
                while d <= self.last_date {
                    out.push(d.format("%Y-%m-%d").to_string());
                    d = d.checked_add_months(Months::new(1)).expect("month");
                }
            }
        }
        out
    }
}

/// Monday of the date's week.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

/// Parses Plausible's `date_range` relative to `now` in `tz`. `first_data` bounds `"all"`.
/// The period is clamped to the days reports may cover (`limits::min_date()..=max_date()`), so
/// `["0001-01-01", "9999-12-31"]` means 1970 to 2100; a range wholly outside them is refused.
pub fn resolve_date_range(
    value: &serde_json::Value,
    tz: Tz,
    now_micros: i64,
    first_data: Option<NaiveDate>,
) -> Result<Period, String> {
    let period = unclamped_date_range(value, tz, now_micros, first_data)?;
    let (lo, hi) = (super::limits::min_date(), super::limits::max_date());
    if period.last_date < lo || period.first_date > hi {
        return Err(format!("Invalid date_range {value}: reports cover {lo} to {hi} only."));
    }
    if period.is_whole_days() {
        return Ok(Period::days(tz, period.first_date.max(lo), period.last_date.min(hi)));
    }
    let (lo_us, hi_us) = (micros(local_midnight(tz, lo)), micros(local_midnight(tz, hi.succ_opt().unwrap_or(hi))));
    if period.start >= lo_us && period.end <= hi_us {
        return Ok(period);
    }
    Ok(Period::instants(tz, period.start.max(lo_us), period.end.min(hi_us)))
}

fn unclamped_date_range(
    value: &serde_json::Value,
    tz: Tz,
    now_micros: i64,
    first_data: Option<NaiveDate>,
) -> Result<Period, String> {
    let now = DateTime::from_timestamp_micros(now_micros).unwrap_or_default();
    let today = now.with_timezone(&tz).date_naive();
    let invalid = || format!("Invalid date_range {value}");
    match value {
        serde_json::Value::String(s) => match s.as_str() {
            "day" => Ok(Period::days(tz, today, today)),
            "24h" => Ok(Period::instants(tz, now_micros - 86_400_000_000, now_micros)),
            "realtime" => Ok(Period::instants(tz, now_micros - 300_000_000, now_micros + 5_000_000)),
            "30m" => Ok(Period::instants(tz, now_micros - 1_800_000_000, now_micros + 5_000_000)),
            "month" => {
                let first = today.with_day(1).expect("day 1");
                let last = first.checked_add_months(Months::new(1)).expect("month").pred_opt().expect("date");
                Ok(Period::days(tz, first, last))
            }
            "year" => {
                let first = NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("jan 1");
                let last = NaiveDate::from_ymd_opt(today.year(), 12, 31).expect("dec 31");
                Ok(Period::days(tz, first, last))
            }
            "all" => Ok(Period::days(tz, first_data.unwrap_or(today).min(today), today)),
            other => {
                if let Some(n) =
                    other.strip_suffix("mo").and_then(|n| n.parse::<u32>().ok()).filter(|n| (1..=100).contains(n))
                {
                    let this_month = today.with_day(1).expect("day 1");
                    let first = this_month.checked_sub_months(Months::new(n)).ok_or_else(invalid)?;
                    return Ok(Period::days(tz, first, this_month.pred_opt().expect("date")));
                }
                if let Some(n) =
                    other.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()).filter(|n| (1..=5000).contains(n))
                {
                    // Plausible's "Nd": the N whole days before today.
                    return Ok(Period::days(tz, today - Duration::days(n), today - Duration::days(1)));
                }
                Err(invalid())
            }
        },
        serde_json::Value::Array(pair) if pair.len() == 2 => {
            let (Some(a), Some(b)) = (pair[0].as_str(), pair[1].as_str()) else { return Err(invalid()) };
            if let (Ok(from), Ok(to)) =
                (NaiveDate::parse_from_str(a, "%Y-%m-%d"), NaiveDate::parse_from_str(b, "%Y-%m-%d"))
            {
                if from > to {
                    return Err(format!("Invalid date_range {value}: the first date is after the second"));
                }
                return Ok(Period::days(tz, from, to));
            }
            let parse = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.timestamp_micros());
            match (parse(a), parse(b)) {
                (Ok(from), Ok(to)) if from <= to => Ok(Period::instants(tz, from, to + 1)),
                (Ok(_), Ok(_)) => Err(format!("Invalid date_range {value}: the first time is after the second")),
                _ => Err(invalid()),
            }
        }
        _ => Err(invalid()),
    }
}

/// Formats a local bucket start as Plausible labels it.
pub fn label_of(grain: TimeGrain, local: NaiveDateTime) -> String {
    match grain {
        TimeGrain::Hour => local.format("%Y-%m-%d %H:00:00").to_string(),
        _ => local.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn shorthand_ranges_follow_plausible() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = at("2024-03-15T10:00:00Z");
        let p = resolve_date_range(&json!("7d"), tz, now, None).unwrap();
        assert_eq!((p.first_date.to_string(), p.last_date.to_string()), ("2024-03-08".into(), "2024-03-14".into()));
        assert_eq!(p.start, at("2024-03-07T23:00:00Z"), "Berlin midnight in winter is 23:00 UTC");
        let d = resolve_date_range(&json!("day"), tz, now, None).unwrap();
        assert_eq!(d.end - d.start, 86_400_000_000);
        let m = resolve_date_range(&json!("month"), tz, now, None).unwrap();
        assert_eq!((m.first_date.to_string(), m.last_date.to_string()), ("2024-03-01".into(), "2024-03-31".into()));
        assert_eq!(m.end - m.start, (31 * 24 - 1) * 3_600_000_000, "March in Berlin has a 23-hour day");
        let six = resolve_date_range(&json!("6mo"), tz, now, None).unwrap();
        assert_eq!((six.first_date.to_string(), six.last_date.to_string()), ("2023-09-01".into(), "2024-02-29".into()));
        let custom = resolve_date_range(&json!(["2024-01-01", "2024-01-31"]), tz, now, None).unwrap();
        assert_eq!(custom.day_count(), 31);
        assert!(resolve_date_range(&json!(["2024-02-01", "2024-01-01"]), tz, now, None).is_err());
        assert!(resolve_date_range(&json!("8x"), tz, now, None).is_err());
        let dt = resolve_date_range(&json!(["2024-01-01T12:00:00+02:00", "2024-01-01T15:59:59+02:00"]), tz, now, None)
            .unwrap();
        assert_eq!(dt.start, at("2024-01-01T10:00:00Z"));
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn offsets_find_dst_changes() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let p = Period::days(tz, ymd(2024, 3, 9), ymd(2024, 3, 11));
        let offs = p.offsets();
        assert_eq!(offs.len(), 2);
        assert_eq!(offs[0].1, -5 * 3600);
        assert_eq!(offs[1], (at("2024-03-10T07:00:00Z"), -4 * 3600));
    }

    #[test]
    fn labels_and_comparisons() {
        let tz: Tz = "UTC".parse().unwrap();
        let p = Period::days(tz, ymd(2024, 1, 3), ymd(2024, 1, 16));
        assert_eq!(p.labels(TimeGrain::Week), vec!["2024-01-03", "2024-01-08", "2024-01-15"]);
        assert_eq!(p.labels(TimeGrain::Day).len(), 14);
        assert_eq!(p.labels(TimeGrain::Month), vec!["2024-01-01"]);
        let prev = p.previous();
        assert_eq!(
            (prev.first_date.to_string(), prev.last_date.to_string()),
            ("2023-12-20".into(), "2024-01-02".into())
        );
        let yoy = p.year_earlier();
        assert_eq!(yoy.first_date.to_string(), "2023-01-03");
    }
}
