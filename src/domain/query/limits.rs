//! Bounds on what one report query may ask for, so that a share link or a read token cannot make
//! the server build millions of time buckets or compile thousands of regular expressions. Every
//! refusal names the limit.

use chrono::NaiveDate;

use super::Filter;
use super::period::{Period, TimeGrain};

/// Earliest day a period may cover: custom ranges are clamped to it (no event is older).
pub fn min_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// Last day a period may cover: custom ranges are clamped to it.
pub fn max_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid date")
}

/// Most time buckets (`time:hour`, `time:day`, ...) one answer may have: an hourly year fits.
pub const MAX_TIME_BUCKETS: u64 = 10_000;
/// Most groups of native data merged with imported history in memory (`include.imports`).
pub const MAX_MERGE_GROUPS: usize = 100_000;
/// Most values in one filter condition.
pub const MAX_FILTER_VALUES: usize = 100;
/// Longest filter value, in characters (a URL's limit at ingest).
pub const MAX_FILTER_VALUE_LEN: usize = crate::domain::limits::MAX_URL_LEN;
/// Most conditions in a query's filters, all trees together.
pub const MAX_FILTER_CONDITIONS: usize = 50;
/// Deepest nesting of `and` / `or` / `not` / `has_done` in a filter.
pub const MAX_FILTER_DEPTH: usize = 6;
/// Most regular expressions and wildcard patterns (values of `matches*` conditions) per query.
pub const MAX_FILTER_PATTERNS: usize = 20;
/// Largest compiled regular expression (bytes of the compiled program); `\w{40}` (Unicode
/// word characters) is far above it, `^/blog/.*$` far below.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// How many buckets `grain` cuts `period` into (without building them).
pub fn bucket_count(period: &Period, grain: TimeGrain) -> u64 {
    let days = period.day_count().max(1) as u64;
    match period.resolve_grain(grain) {
        TimeGrain::Hour => days * 24,
        TimeGrain::Day | TimeGrain::Auto => days,
        TimeGrain::Week => {
            let first = super::period::week_start(period.first_date);
            let last = super::period::week_start(period.last_date);
            (last - first).num_days().max(0) as u64 / 7 + 1
        }
        TimeGrain::Month => {
            use chrono::Datelike;
            let index = |d: NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
            (index(period.last_date) - index(period.first_date)).max(0) as u64 + 1
        }
    }
}

/// Refuses a time dimension that would cut `period` into more than [`MAX_TIME_BUCKETS`].
/// `which` says which period (the query's or the comparison's).
pub fn check_buckets(period: &Period, grain: TimeGrain, which: &str) -> Result<(), String> {
    let n = bucket_count(period, grain);
    if n > MAX_TIME_BUCKETS {
        let resolved = period.resolve_grain(grain);
        return Err(format!(
            "Too many time buckets: dimension {} over the {which} ({} to {}) gives {n} buckets; at most \
             {MAX_TIME_BUCKETS} are allowed (limit: max_time_buckets). Use a coarser time dimension or a \
             shorter date_range.",
            if grain == TimeGrain::Auto { format!("time (= {})", resolved.as_str()) } else { grain.as_str().into() },
            period.first_date,
            period.last_date,
        ));
    }
    Ok(())
}

/// Refuses filters beyond the size, depth and pattern limits.
pub fn check_filters(filters: &[Filter]) -> Result<(), String> {
    let mut conditions = 0usize;
    let mut patterns = 0usize;
    for f in filters {
        walk(f, 1, &mut conditions, &mut patterns)?;
    }
    if conditions > MAX_FILTER_CONDITIONS {
        return Err(format!(
            "Too many filter conditions: {conditions}; at most {MAX_FILTER_CONDITIONS} are allowed \
             (limit: max_filter_conditions)."
        ));
    }
    if patterns > MAX_FILTER_PATTERNS {
        return Err(format!(
            "Too many patterns in matches/matches_wildcard filters: {patterns}; at most {MAX_FILTER_PATTERNS} \
             are allowed per query (limit: max_filter_patterns)."
        ));
    }
    Ok(())
}

fn walk(f: &Filter, depth: usize, conditions: &mut usize, patterns: &mut usize) -> Result<(), String> {
    if depth > MAX_FILTER_DEPTH {
        return Err(format!(
            "Filters are nested too deeply: at most {MAX_FILTER_DEPTH} levels are allowed (limit: max_filter_depth)."
        ));
    }
    match f {
        Filter::Condition { op, values, .. } => {
            *conditions += 1;
            if matches!(
                op,
                super::FilterOp::Matches
                    | super::FilterOp::MatchesNot
                    | super::FilterOp::MatchesWildcard
                    | super::FilterOp::MatchesWildcardNot
            ) {
                *patterns += values.len();
            }
            Ok(())
        }
        Filter::And(children) | Filter::Or(children) => {
            children.iter().try_for_each(|c| walk(c, depth + 1, conditions, patterns))
        }
        Filter::Not(inner) | Filter::HasDone(inner) | Filter::HasNotDone(inner) => {
            walk(inner, depth + 1, conditions, patterns)
        }
    }
}

/// Refuses a condition's value list beyond [`MAX_FILTER_VALUES`] or a value beyond
/// [`MAX_FILTER_VALUE_LEN`].
pub fn check_values(values: &[String]) -> Result<(), String> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(format!(
            "Too many values in one filter: {}; at most {MAX_FILTER_VALUES} are allowed (limit: max_filter_values).",
            values.len()
        ));
    }
    if let Some(v) = values.iter().find(|v| v.chars().count() > MAX_FILTER_VALUE_LEN) {
        let head: String = v.chars().take(40).collect();
        return Err(format!(
            "A filter value is too long ({} characters, starting {head:?}); at most {MAX_FILTER_VALUE_LEN} \
             characters are allowed (limit: max_filter_value_length).",
            v.chars().count()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn days(a: (i32, u32, u32), b: (i32, u32, u32)) -> Period {
        let d = |(y, m, dd): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        Period::days(Tz::UTC, d(a), d(b))
    }

    #[test]
    fn buckets_are_counted_without_building_them() {
        let year = days((2024, 1, 1), (2024, 12, 31));
        assert_eq!(bucket_count(&year, TimeGrain::Hour), 366 * 24);
        assert_eq!(bucket_count(&year, TimeGrain::Day), 366);
        assert_eq!(bucket_count(&year, TimeGrain::Month), 12);
        assert_eq!(bucket_count(&year, TimeGrain::Week) as usize, year.labels(TimeGrain::Week).len());
        assert_eq!(bucket_count(&year, TimeGrain::Auto), 12, "time over a year is monthly");
        assert!(check_buckets(&year, TimeGrain::Hour, "date_range").is_ok(), "an hourly year fits");
        let long = days((1970, 1, 1), (2100, 12, 31));
        let e = check_buckets(&long, TimeGrain::Hour, "date_range").unwrap_err();
        assert!(e.contains("time:hour") && e.contains("10000") && e.contains("max_time_buckets"), "{e}");
        assert!(check_buckets(&long, TimeGrain::Month, "date_range").is_ok());
    }
}
