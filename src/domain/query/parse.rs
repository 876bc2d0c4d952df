//! Parsing and validating a Plausible Stats API v2 query body.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::Value;

use super::input::{PageInput, QueryInput};
use super::limits;
use super::period::{Period, resolve_date_range};
use super::*;

/// Most rows one query may return.
pub const MAX_LIMIT: usize = 10_000;

/// Why a query was refused; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(msg.into()))
}

/// Parses a raw JSON query body (see [`QueryInput::from_json`]), then [`parse_input`].
pub fn parse_query(body: &Value, tz: Tz, now_micros: i64, first_data: Option<NaiveDate>) -> Result<Query, QueryError> {
    parse_input(&QueryInput::from_json(body)?, tz, now_micros, first_data)
}

/// A value as the refusals quote it (JSON text).
fn quoted(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Validates a query request. `tz` is the site's time zone, `now_micros` the current time,
/// `first_data` the site's first day with data (for `"all"`).
pub fn parse_input(
    input: &QueryInput,
    tz: Tz,
    now_micros: i64,
    first_data: Option<NaiveDate>,
) -> Result<Query, QueryError> {
    if input.site_id.is_empty() {
        return err("site_id is required (the site's domain).");
    }
    let now = match &input.date {
        Some(d) => today(d, tz)?,
        None => now_micros,
    };
    let period = match &input.date_range {
        Some(v) => resolve_date_range(v, tz, now, first_data).map_err(QueryError)?,
        None => return err("date_range is required."),
    };
    let metrics = parse_metrics(input.metrics.as_deref())?;
    let dimensions = parse_dimensions(&input.dimensions)?;
    let filters = input.filters.iter().map(parse_filter).collect::<Result<Vec<_>, _>>()?;
    limits::check_filters(&filters).map_err(QueryError)?;
    let order_by = parse_order_by(&input.order_by)?;
    let (limit, offset) = parse_pagination(input.pagination)?;
    let compare = match input.compare.as_ref().or(input.include.compare.as_ref()) {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_compare(v, &period, tz, now, first_data)?),
    };
    let query = Query {
        site: input.site_id.clone(),
        period,
        metrics,
        dimensions,
        filters,
        order_by,
        time_labels: input.include.time_labels,
        total_rows: input.include.total_rows,
        imports: input.include.imports,
        limit,
        offset,
        compare,
        revenue: None,
    };
    validate(&query)?;
    Ok(query)
}

/// The instant that counts as now when the query names its day (noon, clear of DST edges).
fn today(d: &str, tz: Tz) -> Result<i64, QueryError> {
    let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| QueryError(format!("Invalid date '{d}'.")))?;
    if date < limits::min_date() || date > limits::max_date() {
        return err(format!(
            "Invalid date '{d}': it must lie between {} and {}.",
            limits::min_date(),
            limits::max_date()
        ));
    }
    Ok(super::period::local_midnight(tz, date).timestamp_micros() + 12 * 3_600_000_000)
}

fn parse_metrics(list: Option<&[String]>) -> Result<Vec<Metric>, QueryError> {
    let Some(list) = list else {
        return err("metrics is required: a non-empty list such as [\"visitors\"].");
    };
    if list.is_empty() {
        return err("metrics must not be empty.");
    }
    unique(list, Metric::parse, "Unknown metric", |m| ("Metric", m.as_str().to_string()))
}

/// Parses each name in order, refusing unknown names (`unknown` and the name) and repeats
/// (`label` names what is repeated).
fn unique<T: PartialEq>(
    list: &[String],
    parse: impl Fn(&str) -> Option<T>,
    unknown: &str,
    label: impl Fn(&T) -> (&'static str, String),
) -> Result<Vec<T>, QueryError> {
    let mut out = Vec::new();
    for name in list {
        let item = parse(name).ok_or_else(|| QueryError(format!("{unknown} {}.", quoted(name))))?;
        if out.contains(&item) {
            let (kind, shown) = label(&item);
            return err(format!("{kind} '{shown}' is listed twice."));
        }
        out.push(item);
    }
    Ok(out)
}

fn parse_dimensions(list: &[String]) -> Result<Vec<Dimension>, QueryError> {
    let out = unique(list, Dimension::parse, "Invalid dimension", |d| ("Dimension", d.name()))?;
    if out.iter().filter(|d| matches!(d, Dimension::Time(_))).count() > 1 {
        return err("Only one time dimension can be used in a query.");
    }
    Ok(out)
}

fn parse_filter(v: &Value) -> Result<Filter, QueryError> {
    let invalid = || QueryError(format!("Invalid filter {v}."));
    let Value::Array(parts) = v else { return Err(invalid()) };
    let op = parts.first().and_then(Value::as_str).ok_or_else(invalid)?;
    match op {
        "and" | "or" => {
            let Some(Value::Array(children)) = parts.get(1) else { return Err(invalid()) };
            if children.is_empty() || parts.len() != 2 {
                return Err(invalid());
            }
            let children = children.iter().map(parse_filter).collect::<Result<Vec<_>, _>>()?;
            Ok(if op == "and" { Filter::And(children) } else { Filter::Or(children) })
        }
        "not" | "has_done" | "has_not_done" => {
            if parts.len() != 2 {
                return Err(invalid());
            }
            let inner = Box::new(parse_filter(&parts[1])?);
            if op != "not"
                && !inner
                    .conditions()
                    .iter()
                    .all(|c| matches!(c, Filter::Condition { dimension: Dimension::Event(_), .. }))
            {
                return err(format!(
                    "Invalid filter {v}: {op} takes event dimensions only (event:name, event:page, ...)."
                ));
            }
            Ok(match op {
                "not" => Filter::Not(inner),
                "has_done" => Filter::HasDone(inner),
                _ => Filter::HasNotDone(inner),
            })
        }
        _ => parse_condition(v, op, parts),
    }
}

/// A condition `[op, dimension, values, options?]`.
fn parse_condition(v: &Value, op: &str, parts: &[Value]) -> Result<Filter, QueryError> {
    let invalid = || QueryError(format!("Invalid filter {v}."));
    let op = FilterOp::parse(op).ok_or_else(|| QueryError(format!("Unknown operator for filter {v}.")))?;
    if !(3..=4).contains(&parts.len()) {
        return Err(invalid());
    }
    let dimension = parts[1]
        .as_str()
        .and_then(Dimension::parse)
        .filter(|d| !matches!(d, Dimension::Time(_)))
        .ok_or_else(|| QueryError(format!("Invalid filter {v}: unknown dimension {}.", parts[1])))?;
    let Value::Array(raw) = &parts[2] else { return Err(invalid()) };
    let values = raw
        .iter()
        .map(|x| match x {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(invalid()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if values.is_empty() {
        return err(format!("Invalid filter {v}: the list of values is empty."));
    }
    limits::check_values(&values).map_err(QueryError)?;
    let case_sensitive = match parts.get(3) {
        None => true,
        Some(Value::Object(m)) => match m.get("case_sensitive") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid()),
        },
        Some(_) => return Err(invalid()),
    };
    if dimension == Dimension::Visit(VisitDim::Country)
        && matches!(op, FilterOp::Is | FilterOp::IsNot)
        && values.iter().any(|c| c.chars().count() != 2)
    {
        return err("Invalid visit:country filter, visit:country needs to be a valid 2-letter country code.");
    }
    if matches!(op, FilterOp::Matches | FilterOp::MatchesNot | FilterOp::MatchesWildcard | FilterOp::MatchesWildcardNot)
    {
        // Compiles each pattern once, within the size limit, so a refusal names it.
        super::matcher::ValueMatcher::new(op, &values, case_sensitive).map_err(QueryError)?;
    }
    Ok(Filter::Condition { op, dimension, values, case_sensitive })
}

fn parse_order_by(list: &[Vec<String>]) -> Result<Vec<(OrderKey, Direction)>, QueryError> {
    list.iter()
        .map(|entry| {
            let invalid = || {
                let shown = Value::Array(entry.iter().map(|s| quoted(s)).collect());
                QueryError(format!("Invalid order_by entry {shown}."))
            };
            let (Some(key), Some(dir)) = (entry.first(), entry.get(1)) else { return Err(invalid()) };
            let dir = match dir.as_str() {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                _ => return Err(invalid()),
            };
            let key = Metric::parse(key)
                .map(OrderKey::Metric)
                .or_else(|| Dimension::parse(key).map(OrderKey::Dimension))
                .ok_or_else(invalid)?;
            Ok((key, dir))
        })
        .collect()
}

fn parse_pagination(page: PageInput) -> Result<(usize, usize), QueryError> {
    let limit = page.limit.map_or(MAX_LIMIT, |l| l as usize);
    if limit == 0 || limit > MAX_LIMIT {
        return err(format!("pagination.limit must be between 1 and {MAX_LIMIT}."));
    }
    Ok((limit, page.offset.map_or(0, |o| o as usize)))
}

fn parse_compare(v: &Value, period: &Period, tz: Tz, now: i64, first: Option<NaiveDate>) -> Result<Period, QueryError> {
    match v {
        Value::String(s) if s == "previous_period" => Ok(period.previous()),
        Value::String(s) if s == "year_over_year" => Ok(period.year_earlier()),
        Value::Array(_) => {
            resolve_date_range(v, tz, now, first).map_err(|e| QueryError(format!("Invalid compare: {e}")))
        }
        other => err(format!(
            "Invalid compare {other}: use \"previous_period\", \"year_over_year\" or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]."
        )),
    }
}

fn validate(q: &Query) -> Result<(), QueryError> {
    if q.metrics.contains(&Metric::Percentage) && q.dimensions.is_empty() {
        return err("Metric `percentage` can only be queried with a dimension.");
    }
    let goal = Dimension::Event(EventDim::Goal);
    for m in [Metric::ConversionRate, Metric::GroupConversionRate] {
        if q.metrics.contains(&m) && !q.dimensions.contains(&goal) && !q.filters.iter().any(|f| f.mentions(&goal)) {
            return err(format!("Metric `{}` can only be queried with event:goal filters or dimensions.", m.as_str()));
        }
    }
    if q.metrics.contains(&Metric::GroupConversionRate) && q.dimensions.is_empty() {
        return err("Metric `group_conversion_rate` can only be queried with a dimension.");
    }
    let page = Dimension::Event(EventDim::Page);
    for m in [Metric::TimeOnPage, Metric::ScrollDepth] {
        if q.metrics.contains(&m) && !q.dimensions.contains(&page) && !q.filters.iter().any(|f| f.mentions(&page)) {
            return err(format!("Metric `{}` can only be queried with event:page filters or dimensions.", m.as_str()));
        }
    }
    let session: Vec<&str> = q.metrics.iter().filter(|m| m.is_session_metric()).map(|m| m.as_str()).collect();
    let event_dims: Vec<String> = q
        .dimensions
        .iter()
        .filter(|d| matches!(d, Dimension::Event(e) if *e != EventDim::Page))
        .map(Dimension::name)
        .collect();
    if !session.is_empty() && !event_dims.is_empty() {
        return err(format!(
            "Session metric(s) `{}` cannot be queried along with event dimensions ({}).",
            session.join(", "),
            event_dims.join(", ")
        ));
    }
    for (key, _) in &q.order_by {
        let present = match key {
            OrderKey::Metric(m) => q.metrics.contains(m),
            OrderKey::Dimension(d) => q.dimensions.contains(d),
        };
        if !present {
            let name = match key {
                OrderKey::Metric(m) => m.as_str().to_string(),
                OrderKey::Dimension(d) => d.name(),
            };
            return err(format!("Invalid order_by entry: '{name}' is not in the query's metrics or dimensions."));
        }
    }
    if q.time_labels && q.time_dimension().is_none() {
        return err("include.time_labels requires a time dimension.");
    }
    // Buckets are bounded whether or not labels are asked: the engine groups by them and the
    // comparison lines them up by position.
    if let Some(grain) = q.time_dimension() {
        limits::check_buckets(&q.period, grain, "date_range").map_err(QueryError)?;
        if let Some(cmp) = &q.compare {
            limits::check_buckets(cmp, grain, "comparison period").map_err(QueryError)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_710_496_800_000_000; // 2024-03-15T10:00:00Z

    fn parse(v: Value) -> Result<Query, QueryError> {
        parse_query(&v, "UTC".parse().unwrap(), NOW, None)
    }

    #[test]
    fn parses_a_full_query() {
        let q = parse(json!({
            "site_id": "shop.test", "date_range": "7d", "metrics": ["visitors", "bounce_rate"],
            "dimensions": ["visit:source", "time:day"],
            "filters": [["is", "visit:country", ["DE", "FR"]], ["or", [["contains", "event:page", ["/blog"], {"case_sensitive": false}], ["has_done", ["is", "event:name", ["Signup"]]]]]],
            "order_by": [["visitors", "desc"]], "include": {"time_labels": true, "total_rows": true},
            "pagination": {"limit": 5, "offset": 10}, "compare": "previous_period"
        }))
        .unwrap();
        assert_eq!(q.metrics, vec![Metric::Visitors, Metric::BounceRate]);
        assert_eq!(q.dimensions[1], Dimension::Time(TimeGrain::Day));
        assert_eq!((q.limit, q.offset), (5, 10));
        assert!(q.time_labels && q.total_rows);
        assert_eq!(q.compare.as_ref().unwrap().last_date, q.period.first_date.pred_opt().unwrap());
        assert!(matches!(&q.filters[1], Filter::Or(children) if children.len() == 2));
    }

    #[test]
    fn names_the_problem() {
        let base = || json!({"site_id": "s.test", "date_range": "day", "metrics": ["visitors"]});
        let with = |k: &str, v: Value| {
            let mut b = base();
            b[k] = v;
            parse(b).unwrap_err().0
        };
        assert!(with("metrics", json!(["nope"])).contains("Unknown metric"));
        assert!(with("metrics", json!([])).contains("must not be empty"));
        assert!(with("dimensions", json!(["visit:shoe_size"])).contains("Invalid dimension"));
        assert!(with("dimensions", json!(["time:day", "time:week"])).contains("one time dimension"));
        assert!(with("filters", json!([["is", "visit:country", ["Germany"]]])).contains("2-letter"));
        assert!(with("filters", json!([["equals", "event:page", ["/"]]])).contains("Unknown operator"));
        assert!(with("filters", json!([["matches", "event:page", ["("]]])).contains("regular expression"));
        assert!(with("date_range", json!("fortnight")).contains("date_range"));
        assert!(with("pagination", json!({"limit": 0})).contains("limit"));
        assert!(with("order_by", json!([["pageviews", "desc"]])).contains("not in the query"));
        assert!(with("include", json!({"time_labels": true})).contains("time dimension"));
        assert!(with("metrics", json!(["percentage"])).contains("percentage"));
        assert!(with("metrics", json!(["conversion_rate"])).contains("event:goal"));
        assert!(with("bogus", json!(1)).contains("Invalid key"));
        let mixed =
            json!({"site_id": "s.test", "date_range": "day", "metrics": ["bounce_rate"], "dimensions": ["event:name"]});
        assert!(parse(mixed).unwrap_err().0.contains("Session metric"));
        assert!(parse(json!({"date_range": "day", "metrics": ["visitors"]})).unwrap_err().0.contains("site_id"));
    }

    #[test]
    fn bounds_ranges_buckets_and_filters() {
        let q = |v: Value| parse(v);
        let base = |range: Value| json!({"site_id": "s.test", "date_range": range, "metrics": ["visitors"]});
        // Huge custom ranges are clamped to the years reports cover.
        let all = q(base(json!(["0001-01-01", "9999-12-31"]))).unwrap();
        assert_eq!(
            (all.period.first_date.to_string(), all.period.last_date.to_string()),
            ("1970-01-01".into(), "2100-12-31".into())
        );
        assert!(q(base(json!(["2200-01-01", "2300-01-01"]))).unwrap_err().0.contains("cover"));
        let mut hourly = base(json!(["1100-01-01", "2100-01-01"]));
        hourly["dimensions"] = json!(["time:hour"]);
        let e = q(hourly).unwrap_err().0;
        assert!(e.contains("time:hour") && e.contains("max_time_buckets") && e.contains("10000"), "{e}");
        let mut daily_cmp = base(json!(["2024-01-01", "2024-01-02"]));
        daily_cmp["dimensions"] = json!(["time:hour"]);
        daily_cmp["compare"] = json!(["1970-01-01", "2024-01-01"]);
        assert!(q(daily_cmp).unwrap_err().0.contains("comparison period"));
        let mut far = base(json!("7d"));
        far["date"] = json!("9999-01-01");
        assert!(q(far).unwrap_err().0.contains("Invalid date"));
        let with_filters = |f: Value| {
            let mut b = base(json!("day"));
            b["filters"] = f;
            q(b).map(|_| ()).map_err(|e| e.0)
        };
        let many: Vec<String> = (0..101).map(|i| format!("/p{i}")).collect();
        assert!(with_filters(json!([["is", "event:page", many]])).unwrap_err().contains("max_filter_values"));
        let long = "x".repeat(3000);
        assert!(
            with_filters(json!([["contains", "event:page", [long]]])).unwrap_err().contains("max_filter_value_length")
        );
        let regexes: Vec<String> = (0..21).map(|i| format!("^/p{i}")).collect();
        assert!(with_filters(json!([["matches", "event:page", regexes]])).unwrap_err().contains("max_filter_patterns"));
        let e = with_filters(json!([["matches", "visit:country_name", ["\\w{40}"]]])).unwrap_err();
        assert!(e.contains("regex_size_limit"), "{e}");
        let conds: Vec<Value> = (0..51).map(|i| json!(["is", "event:page", [format!("/{i}")]])).collect();
        assert!(with_filters(Value::Array(conds)).unwrap_err().contains("max_filter_conditions"));
        let mut deep = json!(["is", "event:page", ["/"]]);
        for _ in 0..7 {
            deep = json!(["not", deep]);
        }
        assert!(with_filters(json!([deep])).unwrap_err().contains("max_filter_depth"));
    }
}
