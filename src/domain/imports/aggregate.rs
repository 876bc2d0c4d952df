//! Turning raw hits from another tool into daily aggregates with HitKeep's own rules: a visit
//! belongs to the day it started, bounces are visits with at most one pageview and no custom
//! event, a page's visit numbers are those of the visits that landed on it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::csvread::{CsvTable, Record};
use super::{BadRow, BreakdownRow, DayTotals, ImportBatch, ImportDim, ImportError, MAX_BAD_ROWS, Totals};
use crate::domain::lifecycle::local_date;

/// One pageview or custom event of another tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHit {
    pub ts_micros: i64,
    pub visitor: String,
    pub visit: String,
    pub pathname: String,
    pub is_pageview: bool,
    pub source: Option<String>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

#[derive(Default)]
struct Visit {
    visitor: String,
    first: i64,
    last: i64,
    pageviews: u64,
    events: u64,
    entry: Option<String>,
    attrs: [Option<String>; 5],
}

/// Daily totals and breakdowns of `hits` (any order), days in `tz`.
pub fn aggregate(hits: &[RawHit], tz: Tz) -> (Vec<DayTotals>, Vec<BreakdownRow>) {
    let mut visits: HashMap<&str, Visit> = HashMap::new();
    let mut sorted: Vec<&RawHit> = hits.iter().collect();
    sorted.sort_by_key(|h| h.ts_micros);
    let mut day_visitors: BTreeMap<NaiveDate, HashSet<&str>> = BTreeMap::new();
    let mut day_pageviews: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut page_visitors: BTreeMap<(NaiveDate, &str), HashSet<&str>> = BTreeMap::new();
    let mut page_views: BTreeMap<(NaiveDate, &str), u64> = BTreeMap::new();
    for h in &sorted {
        let day = local_date(tz, h.ts_micros);
        day_visitors.entry(day).or_default().insert(&h.visitor);
        let v = visits.entry(&h.visit).or_insert_with(|| Visit {
            visitor: h.visitor.clone(),
            first: h.ts_micros,
            last: h.ts_micros,
            attrs: [h.source.clone(), h.country.clone(), h.device.clone(), h.browser.clone(), h.os.clone()],
            ..Visit::default()
        });
        v.last = h.ts_micros;
        if h.is_pageview {
            v.pageviews += 1;
            v.entry.get_or_insert_with(|| h.pathname.clone());
            *day_pageviews.entry(day).or_default() += 1;
            page_visitors.entry((day, &h.pathname)).or_default().insert(&h.visitor);
            *page_views.entry((day, &h.pathname)).or_default() += 1;
        } else {
            v.events += 1;
        }
    }
    let mut days: BTreeMap<NaiveDate, Totals> = BTreeMap::new();
    let mut dims: BTreeMap<(NaiveDate, ImportDim, String), (Totals, HashSet<String>)> = BTreeMap::new();
    for v in visits.values() {
        let day = local_date(tz, v.first);
        let t = Totals {
            visitors: 0,
            visits: 1,
            pageviews: v.pageviews,
            bounces: u64::from(v.pageviews <= 1 && v.events == 0),
            visit_duration: u64::try_from((v.last - v.first) / 1_000_000).unwrap_or(0),
        };
        days.entry(day).or_default().add(&t);
        let keyed = [
            (ImportDim::Source, Some(v.attrs[0].clone().unwrap_or_else(|| "Direct / None".into()))),
            (ImportDim::Country, v.attrs[1].clone()),
            (ImportDim::Device, v.attrs[2].clone()),
            (ImportDim::Browser, v.attrs[3].clone()),
            (ImportDim::Os, v.attrs[4].clone()),
        ];
        for (dim, value) in keyed {
            let Some(value) = value else { continue };
            let entry = dims.entry((day, dim, value)).or_default();
            entry.0.add(&t);
            entry.1.insert(v.visitor.clone());
        }
        if let Some(entry_page) = &v.entry {
            // Landing page: visits, bounces and time; views and visitors come from the page counts.
            let e = dims.entry((day, ImportDim::Page, entry_page.clone())).or_default();
            e.0.visits += 1;
            e.0.bounces += t.bounces;
            e.0.visit_duration += t.visit_duration;
        }
    }
    for ((day, page), views) in &page_views {
        let e = dims.entry((*day, ImportDim::Page, page.to_string())).or_default();
        e.0.pageviews = *views;
        e.0.visitors = page_visitors.get(&(*day, *page)).map_or(0, |s| s.len() as u64);
    }
    for (day, set) in day_visitors {
        let t = days.entry(day).or_default();
        t.visitors = set.len() as u64;
        t.pageviews = day_pageviews.get(&day).copied().unwrap_or(0);
    }
    let breakdowns = dims
        .into_iter()
        .map(|((date, dim, value), (mut totals, visitors))| {
            if dim != ImportDim::Page {
                totals.visitors = visitors.len() as u64;
            }
            BreakdownRow { date, dim, value, totals }
        })
        .collect();
    (days.into_iter().map(|(date, totals)| DayTotals { date, totals }).collect(), breakdowns)
}

/// Reads every record of a hit-level export through `hit` (a hit, `None` to skip the row, or a bad
/// row) and aggregates the hits per day in `tz`. Any bad row refuses the file, naming the first
/// `MAX_BAD_ROWS`.
pub fn read_hits<R: std::io::Read>(
    mut csv: CsvTable<R>,
    tz: Tz,
    mut hit: impl FnMut(Record<'_>) -> Result<Option<RawHit>, BadRow>,
) -> Result<ImportBatch, ImportError> {
    let mut batch = ImportBatch::default();
    let mut hits = Vec::new();
    while let Some(rec) = csv.next_record() {
        batch.rows_read += 1;
        match rec.and_then(&mut hit) {
            Ok(Some(h)) => hits.push(h),
            Ok(None) => batch.rows_skipped += 1,
            Err(bad) if batch.bad_rows.len() < MAX_BAD_ROWS => batch.bad_rows.push(bad),
            Err(_) => {}
        }
    }
    if !batch.bad_rows.is_empty() {
        return Err(ImportError::BadRows(batch.bad_rows));
    }
    (batch.days, batch.breakdowns) = aggregate(&hits, tz);
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(ts: i64, visitor: &str, visit: &str, path: &str, pv: bool) -> RawHit {
        RawHit {
            ts_micros: ts * 1_000_000,
            visitor: visitor.into(),
            visit: visit.into(),
            pathname: path.into(),
            is_pageview: pv,
            source: None,
            country: Some("DE".into()),
            device: None,
            browser: None,
            os: None,
        }
    }

    #[test]
    fn visits_bounces_and_pages() {
        let hits = vec![
            hit(0, "a", "a1", "/", true),
            hit(60, "a", "a1", "/x", true),
            hit(100, "b", "b1", "/x", true),
            hit(200, "c", "c1", "/", true),
            hit(210, "c", "c1", "signup", false),
        ];
        let (days, dims) = aggregate(&hits, chrono_tz::UTC);
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].totals, Totals { visitors: 3, visits: 3, pageviews: 4, bounces: 1, visit_duration: 70 });
        let root = dims.iter().find(|r| r.dim == ImportDim::Page && r.value == "/").unwrap();
        assert_eq!(root.totals, Totals { visitors: 2, visits: 2, pageviews: 2, bounces: 0, visit_duration: 70 });
        let de = dims.iter().find(|r| r.dim == ImportDim::Country).unwrap();
        assert_eq!(de.totals.visitors, 3);
        let direct = dims.iter().find(|r| r.dim == ImportDim::Source).unwrap();
        assert_eq!(direct.value, "Direct / None");
    }
}
