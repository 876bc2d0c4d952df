//! A batch's `events` rows as Arrow columns, appended as whole data chunks. Binding each of a
//! row's 34 values through the appender one call at a time was a third of the writer's CPU; a
//! column is built in one pass over the batch and handed to DuckDB as one vector.

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int8Array, MapBuilder, StringArray, StringBuilder,
    TimestampMillisecondArray, UInt32Array, UInt64Array,
};
use duckdb::arrow::record_batch::RecordBatch;

use crate::domain::event::{Event, PAGEVIEW, PreviousPage};
use crate::ports::store::{StoreError, StoreResult};

/// `DECIMAL(18,3)` holds up to 18 digits.
const MAX_THOUSANDTHS: u64 = 999_999_999_999_999_999;

/// The `events` columns, in the table's order, for `events` (none of them an engagement report).
pub(super) fn event_batch(events: &[&Event]) -> StoreResult<RecordBatch> {
    let columns: Vec<(&str, ArrayRef)> = vec![
        // The writer has set each time to a whole millisecond (`Sessionizer::assign`).
        ("ts", Arc::new(TimestampMillisecondArray::from_iter_values(events.iter().map(|e| e.ts / 1000)))),
        ("site_id", Arc::new(UInt32Array::from_iter_values(events.iter().map(|e| e.site_id)))),
        ("name", text(events, |e| Some(&e.name))),
        ("visitor_id", Arc::new(UInt64Array::from_iter_values(events.iter().map(|e| e.visitor_id)))),
        ("visit_id", Arc::new(UInt64Array::from_iter_values(events.iter().map(|e| e.visit_id)))),
        ("hostname", text(events, |e| Some(&e.hostname))),
        ("pathname", text(events, |e| Some(&e.pathname))),
        ("referrer", text(events, |e| e.traffic.referrer.as_deref())),
        ("referrer_source", text(events, |e| e.traffic.source.as_deref())),
        ("channel", text(events, |e| Some(e.traffic.channel.as_str()))),
        ("utm_source", text(events, |e| e.traffic.utm.source.as_deref())),
        ("utm_medium", text(events, |e| e.traffic.utm.medium.as_deref())),
        ("utm_campaign", text(events, |e| e.traffic.utm.campaign.as_deref())),
        ("utm_content", text(events, |e| e.traffic.utm.content.as_deref())),
        ("utm_term", text(events, |e| e.traffic.utm.term.as_deref())),
        ("country", text(events, |e| e.location.country.as_deref())),
        ("region", text(events, |e| e.location.region.as_deref())),
        ("city", text(events, |e| e.location.city.as_deref())),
        ("browser", text(events, |e| e.browser.as_deref())),
        ("browser_version", text(events, |e| e.browser_version.as_deref())),
        ("os", text(events, |e| e.os.as_deref())),
        ("os_version", text(events, |e| e.os_version.as_deref())),
        ("device", text(events, |e| Some(e.device.as_str()))),
        ("screen", text(events, |e| e.screen.as_ref().map(|s| s.as_str()))),
        ("language", text(events, |e| e.language.as_deref())),
        ("props", props(events)?),
        ("entry_page", text(events, |e| Some(&e.traffic.entry_page))),
        (
            "visit_start",
            Arc::new(BooleanArray::from(events.iter().map(|e| e.visit_stats.visit_start).collect::<Vec<_>>())),
        ),
        ("bounce_delta", Arc::new(Int8Array::from_iter_values(events.iter().map(|e| e.visit_stats.bounce_delta)))),
        (
            "duration_delta",
            Arc::new(UInt32Array::from_iter_values(events.iter().map(|e| e.visit_stats.duration_delta))),
        ),
        ("revenue_amount", revenue_amounts(events)?),
        ("revenue_currency", text(events, |e| e.revenue.as_ref().map(|r| r.currency.as_str()))),
        ("prev_page", text(events, |e| previous_page(e).map(|p| p.path.as_str()))),
        ("page_gap_s", Arc::new(events.iter().map(|e| page_gap(e)).collect::<UInt32Array>())),
    ];
    RecordBatch::try_from_iter(columns).map_err(arrow_error)
}

fn text<'a>(events: &[&'a Event], value: impl Fn(&'a Event) -> Option<&'a str>) -> ArrayRef {
    Arc::new(events.iter().map(|e| value(e)).collect::<StringArray>())
}

/// The page a pageview followed in its visit; none on a visit's first and on other events.
fn previous_page(e: &Event) -> Option<&PreviousPage> {
    e.visit_stats.previous_page.as_ref().filter(|_| e.name == PAGEVIEW)
}

/// Pageviews always carry a gap (0 on a visit's first), so rows stored before the column existed
/// (NULL) can be told apart.
fn page_gap(e: &Event) -> Option<u32> {
    (e.name == PAGEVIEW).then(|| previous_page(e).map_or(0, PreviousPage::gap_secs))
}

fn props(events: &[&Event]) -> StoreResult<ArrayRef> {
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for e in events {
        for (k, v) in &e.props {
            map.keys().append_value(k);
            map.values().append_value(v);
        }
        // No properties: NULL, not an empty map.
        map.append(!e.props.is_empty()).map_err(arrow_error)?;
    }
    Ok(Arc::new(map.finish()))
}

/// Thousandths as `DECIMAL(18,3)`: exact, no float on the way.
fn revenue_amounts(events: &[&Event]) -> StoreResult<ArrayRef> {
    let mut amounts = Vec::with_capacity(events.len());
    for e in events {
        let amount = match &e.revenue {
            Some(r) if r.thousandths.unsigned_abs() > MAX_THOUSANDTHS => {
                return Err(StoreError::Internal(format!(
                    "revenue {} thousandths exceeds DECIMAL(18,3)",
                    r.thousandths
                )));
            }
            Some(r) => Some(i128::from(r.thousandths)),
            None => None,
        };
        amounts.push(amount);
    }
    let array = Decimal128Array::from(amounts).with_precision_and_scale(18, 3).map_err(arrow_error)?;
    Ok(Arc::new(array))
}

fn arrow_error(e: duckdb::arrow::error::ArrowError) -> StoreError {
    StoreError::Internal(format!("building the events batch: {e}"))
}
