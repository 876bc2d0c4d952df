//! Which columns and expressions a report query reads: the dimensions as row and visit
//! expressions, the raw columns `base` selects, and the rules deciding which CTEs are needed.

use super::super::sql::{Sql, bucket, filter_expr, prop_value, row_column, visit_pages_column};
use crate::domain::query::{Dimension, EventDim, Filter, Goal, Metric, Period, Query, TimeGrain, VisitDim};

/// Does the query need per-visit aggregates?
pub(super) fn needs_visits(q: &Query) -> bool {
    q.metrics.iter().any(|m| m.is_session_metric())
}

pub(super) fn needs_events(q: &Query) -> bool {
    q.metrics.iter().any(|m| !m.is_session_metric()) || !needs_visits(q)
}

pub(super) fn mentions_any(q: &Query, dims: &[VisitDim]) -> bool {
    dims.iter()
        .map(|v| Dimension::Visit(*v))
        .any(|d| q.dimensions.contains(&d) || q.filters.iter().any(|f| f.mentions(&d)))
}

pub(super) fn mentions_visit_pages(q: &Query) -> bool {
    mentions_any(q, &[VisitDim::ExitPage, VisitDim::EntryPageHostname, VisitDim::ExitPageHostname])
}

pub(super) fn mentions_hostnames(q: &Query) -> bool {
    mentions_any(q, &[VisitDim::EntryPageHostname, VisitDim::ExitPageHostname])
}

/// Visit attributes stored on every event of the visit (so filtering rows by them keeps whole visits).
pub(super) fn is_row_visit_attr(d: &Dimension) -> bool {
    matches!(d, Dimension::Visit(v) if !v.from_visit_pages())
}

/// The filter keeps or drops whole visits: it tests visit attributes, or whether the visit
/// did (or did not do) something.
pub(super) fn only_visit_attrs(f: &Filter) -> bool {
    match f {
        Filter::Condition { dimension, .. } => is_row_visit_attr(dimension),
        Filter::And(fs) | Filter::Or(fs) => fs.iter().all(only_visit_attrs),
        Filter::Not(f) => only_visit_attrs(f),
        Filter::HasDone(_) | Filter::HasNotDone(_) => true,
    }
}

/// Visit metrics can be summed from the per-event visit statistics when every row of a visit
/// falls in the same group and filters keep or drop whole visits.
pub(super) fn fast_visits(q: &Query) -> bool {
    q.filters.iter().all(only_visit_attrs)
        && q.dimensions.iter().all(|d| matches!(d, Dimension::Time(_)) || is_row_visit_attr(d))
        && no_page_metrics(q)
}

fn no_page_metrics(q: &Query) -> bool {
    !q.metrics.contains(&Metric::TimeOnPage) && !q.metrics.contains(&Metric::ScrollDepth)
}

/// Visit metrics can be summed from the per-event visit statistics of every event of the
/// visits with a matching event (no grouping by visit) when each visit falls in one group:
/// row visit attributes, time (a visit counts where it starts), and pages, which for visit
/// metrics are the visits' landing pages (the stored `entry_page`).
pub(super) fn summable_visits(q: &Query) -> bool {
    q.dimensions
        .iter()
        .all(|d| matches!(d, Dimension::Time(_) | Dimension::Event(EventDim::Page)) || is_row_visit_attr(d))
        && no_page_metrics(q)
}

/// Every metric and dimension is a property of whole visits grouped by something only the
/// visit knows (its exit page, its entry or exit hostname): event metrics can then be counted
/// on the one-row-per-visit `visits` CTE, with no per-visit `visit_pages` joined back onto every
/// event. Time is left out (a visit's events may fall in several buckets).
pub(super) fn visit_level(q: &Query) -> bool {
    let metrics = [
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::Events,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
    ];
    mentions_visit_pages(q)
        && q.metrics.iter().all(|m| metrics.contains(m))
        && q.filters.iter().all(only_visit_attrs)
        && q.dimensions.iter().all(|d| matches!(d, Dimension::Visit(_)))
}

/// The per-visit grouping holds only what `visit_ends` folds of a visit (its visitor, start, end,
/// pageviews, other events, exit page): grouped by exit page alone, visit-level metrics.
pub fn reads_folded_visits(q: &Query) -> bool {
    visit_level(q) && q.dimensions.iter().all(|d| *d == Dimension::Visit(VisitDim::ExitPage))
}

/// Only the additive KPIs of the whole site (no filter, no breakdown, no revenue): the statement
/// can take its `ev` from the days summed up in `day_totals` (see `PeriodFacts::rolled`).
pub fn reads_day_totals(q: &Query) -> bool {
    q.dimensions.is_empty() && site_kpis(q)
}

/// The same by local day alone (a daily chart): `ev` can take the days rolled into `day_totals`.
pub fn reads_day_rows(q: &Query, period: &Period) -> bool {
    matches!(q.dimensions.as_slice(), [Dimension::Time(g)] if period.resolve_grain(*g) == TimeGrain::Day)
        && site_kpis(q)
}

fn site_kpis(q: &Query) -> bool {
    use Metric::*;
    q.filters.is_empty()
        && q.revenue.is_none()
        && q.metrics
            .iter()
            .all(|m| matches!(m, Visitors | Pageviews | Events | Visits | ViewsPerVisit | BounceRate | VisitDuration))
}

/// The statement keeps the rows of visits with a matching event (`visit_id IN matched`): visit
/// metrics grouped per visit or summed per event under filters on events, time on page and
/// scroll depth under any filter.
pub fn tests_matched_visits(q: &Query) -> bool {
    let visits = (needs_visits(q) && !fast_visits(q)) || visit_level(q);
    !q.filters.is_empty() && (visits || !no_page_metrics(q))
}

/// Top-level filters without goal conditions: the denominator of conversion rates.
pub(super) fn without_goals(filters: &[Filter]) -> Vec<Filter> {
    let goal = Dimension::Event(EventDim::Goal);
    filters.iter().filter(|f| !f.mentions(&goal)).cloned().collect()
}

pub(super) fn where_filters(sql: &mut Sql, filters: &[Filter], goals: &[Goal]) {
    if filters.is_empty() {
        sql.push("true");
        return;
    }
    filter_expr(sql, &Filter::And(filters.to_vec()), goals);
}

/// Dimension expression over event rows (`matched`, joined with `visit_pages` when needed).
pub(super) fn event_dim(sql: &mut Sql, dim: &Dimension, period: &Period) {
    match dim {
        Dimension::Time(g) => {
            sql.push(&bucket("ts", period, period.resolve_grain(*g)));
        }
        Dimension::Event(EventDim::Goal) => {
            sql.push("goal");
        }
        Dimension::Event(EventDim::Prop(key)) => {
            sql.push("coalesce(");
            prop_value(key)(sql);
            sql.push(", '(none)')");
        }
        Dimension::Visit(v) if v.from_visit_pages() => {
            sql.push(&format!("visit_pages.{}", visit_pages_column(*v)));
        }
        other => {
            sql.push(&labelled_column(other).expect("row dimension"));
        }
    }
}

/// A row dimension's column as breakdowns show it: missing values are `(not set)` where
/// Plausible says so (its `field_or_blank_value`), which also keeps them one group when `ev`
/// and `se` are joined on the dimension. Filters read the raw column.
pub(in crate::adapters::duckdb) fn labelled_column(dim: &Dimension) -> Option<String> {
    let col = row_column(dim)?;
    let not_set = matches!(
        dim,
        Dimension::Visit(
            VisitDim::UtmSource
                | VisitDim::UtmMedium
                | VisitDim::UtmCampaign
                | VisitDim::UtmContent
                | VisitDim::UtmTerm
                | VisitDim::Device
                | VisitDim::Browser
                | VisitDim::BrowserVersion
                | VisitDim::Os
                | VisitDim::OsVersion
                | VisitDim::Country
                | VisitDim::CountryName
                | VisitDim::Region
                | VisitDim::RegionName
                | VisitDim::City
                | VisitDim::CityName
        )
    );
    Some(if not_set { format!("coalesce({col}, '{NOT_SET}')") } else { col.to_string() })
}

/// Plausible's label for a missing visit attribute.
const NOT_SET: &str = "(not set)";

/// Dimension expression over the `visits` CTE (one row per visit).
pub(super) fn visit_dim(dim: &Dimension, i: usize, period: &Period) -> String {
    match dim {
        Dimension::Time(g) => bucket("vstart", period, period.resolve_grain(*g)),
        // Pages of visits are their landing pages.
        Dimension::Event(EventDim::Page) | Dimension::Visit(VisitDim::EntryPage) => "entry_page".into(),
        Dimension::Visit(VisitDim::ExitPage) => "exit_page".into(),
        _ => format!("v{i}"),
    }
}

/// The raw columns behind a dimension or filter.
fn raw_columns(dim: &Dimension) -> Vec<&'static str> {
    match dim {
        Dimension::Event(EventDim::Page) => vec!["pathname"],
        Dimension::Event(EventDim::Hostname) => vec!["hostname"],
        Dimension::Event(EventDim::Name) | Dimension::Event(EventDim::Goal) => vec!["name", "pathname"],
        Dimension::Event(EventDim::Prop(_)) => vec!["props"],
        Dimension::Time(_) => vec!["ts"],
        Dimension::Visit(v) => match v {
            VisitDim::ExitPage => vec!["pathname"],
            VisitDim::EntryPageHostname | VisitDim::ExitPageHostname => vec!["pathname", "hostname"],
            VisitDim::Source => vec!["referrer_source"],
            VisitDim::Referrer => vec!["referrer"],
            // Every other visit attribute reads the one column `row_column` names.
            other => vec![row_column(&Dimension::Visit(*other)).expect("a row column")],
        },
    }
}

pub(super) fn needed_columns(q: &Query) -> Vec<&'static str> {
    let mut cols = vec!["ts", "name", "visitor_id", "visit_id", "pathname"];
    if needs_visits(q) && summable_visits(q) {
        cols.extend(["visit_start", "bounce_delta", "duration_delta"]);
        if q.dimensions.contains(&Dimension::Event(EventDim::Page)) {
            cols.push("entry_page");
        }
    }
    if q.metrics.contains(&Metric::TimeOnPage) {
        cols.extend(["prev_page", "page_gap_s"]);
    }
    if q.metrics.iter().any(|m| m.is_revenue()) {
        cols.extend(["revenue_amount", "revenue_currency"]);
    }
    let filter_dims = q.filters.iter().flat_map(|f| f.conditions()).filter_map(|c| match c {
        Filter::Condition { dimension, .. } => Some(dimension),
        _ => None,
    });
    for d in q.dimensions.iter().chain(filter_dims) {
        for c in raw_columns(d) {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    cols
}
