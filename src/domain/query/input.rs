//! A Stats API v2 request as the caller sent it: typed fields, not yet validated. The HTTP edge
//! builds one from its request body; [`QueryInput::from_json`] builds one from a raw JSON body
//! (benchmarks, property tests, fuzzing), with the same refusals the HTTP edge gives.

use serde_json::{Map, Value};

use super::parse::QueryError;

/// Which extra information to return (`include`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncludeInput {
    pub time_labels: bool,
    pub total_rows: bool,
    pub imports: bool,
    /// `include.compare`: used when the top-level `compare` is absent.
    pub compare: Option<Value>,
}

/// Requested page (`pagination`); `None`: the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageInput {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// A query request before validation. `date_range`, filters and `compare` keep their JSON form:
/// the API accepts several shapes there (a keyword or a pair of dates; nested filter lists).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryInput {
    pub site_id: String,
    pub date_range: Option<Value>,
    pub metrics: Option<Vec<String>>,
    pub dimensions: Vec<String>,
    pub filters: Vec<Value>,
    pub order_by: Vec<Vec<String>>,
    pub include: IncludeInput,
    pub pagination: PageInput,
    pub compare: Option<Value>,
    /// The day that counts as today (YYYY-MM-DD).
    pub date: Option<String>,
}

const KEYS: [&str; 10] = [
    "site_id",
    "date_range",
    "metrics",
    "dimensions",
    "filters",
    "order_by",
    "include",
    "pagination",
    "compare",
    "date",
];

fn err<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(msg.into()))
}

/// `None` and `null` are an absent list; anything but a list is refused as `what`.
fn list<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value], QueryError> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) => Ok(list),
        Some(other) => {
            err(format!("Invalid {what} {other}{}", if what == "order_by" { "." } else { ": expected a list." }))
        }
    }
}

/// Each item as text, or the refusal `bad(item)`.
fn strings(items: &[Value], bad: impl Fn(&Value) -> String) -> Result<Vec<String>, QueryError> {
    items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| QueryError(bad(v)))).collect()
}

impl QueryInput {
    /// Reads a raw JSON query body, refusing shapes the typed request cannot hold.
    pub fn from_json(body: &Value) -> Result<Self, QueryError> {
        let Value::Object(obj) = body else { return err("The query must be a JSON object.") };
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return err(format!("Invalid key '{k}': expected one of {}.", KEYS.join(", ")));
        }
        let site_id = match obj.get("site_id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return err("site_id is required (the site's domain)."),
        };
        let date = match obj.get("date") {
            None => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(other) => return err(format!("Invalid date {other}.")),
        };
        let metrics = match obj.get("metrics") {
            Some(Value::Array(list)) => Some(strings(list, |m| format!("Unknown metric {m}."))?),
            _ => None,
        };
        let dimensions = strings(list(obj.get("dimensions"), "dimensions")?, |d| format!("Invalid dimension {d}."))?;
        let filters = list(obj.get("filters"), "filters")?.to_vec();
        let order_by = list(obj.get("order_by"), "order_by")?.iter().map(order_entry).collect::<Result<_, _>>()?;
        Ok(QueryInput {
            site_id,
            date_range: obj.get("date_range").cloned(),
            metrics,
            dimensions,
            filters,
            order_by,
            include: include(obj.get("include"))?,
            pagination: pagination(obj.get("pagination"))?,
            compare: obj.get("compare").cloned(),
            date,
        })
    }
}

fn order_entry(entry: &Value) -> Result<Vec<String>, QueryError> {
    let invalid = || QueryError(format!("Invalid order_by entry {entry}."));
    let Value::Array(pair) = entry else { return Err(invalid()) };
    if pair.len() < 2 || pair[..2].iter().any(|v| !v.is_string()) {
        return Err(invalid());
    }
    // Extra items are ignored, as they always were.
    Ok(pair.iter().take_while(|v| v.is_string()).filter_map(|v| v.as_str().map(str::to_string)).collect())
}

fn include(v: Option<&Value>) -> Result<IncludeInput, QueryError> {
    let obj: &Map<String, Value> = match v {
        None | Some(Value::Null) => return Ok(IncludeInput::default()),
        Some(Value::Object(o)) => o,
        Some(other) => return err(format!("Invalid include {other}.")),
    };
    if let Some(k) =
        obj.keys().find(|k| !["time_labels", "total_rows", "imports", "comparisons", "compare"].contains(&k.as_str()))
    {
        return err(format!("Invalid include key '{k}'."));
    }
    let flag = |k: &str| match obj.get(k) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => err(format!("Invalid include.{k} {other}: expected true or false.")),
    };
    // Plausible's `include.comparisons` names the mode, or a custom range.
    let compare = obj.get("compare").cloned().or_else(|| {
        obj.get("comparisons").and_then(|c| match c.get("mode").and_then(Value::as_str) {
            Some("custom") => c.get("date_range").cloned(),
            Some(mode) => Some(Value::String(mode.to_string())),
            None => None,
        })
    });
    Ok(IncludeInput {
        time_labels: flag("time_labels")?,
        total_rows: flag("total_rows")?,
        imports: flag("imports")?,
        compare,
    })
}

fn pagination(v: Option<&Value>) -> Result<PageInput, QueryError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(PageInput::default()),
        Some(Value::Object(o)) => o,
        Some(other) => return err(format!("Invalid pagination {other}.")),
    };
    let num = |k: &str| match obj.get(k) {
        None => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(other) => err(format!("Invalid pagination.{k} {other}: expected a non-negative integer.")),
    };
    Ok(PageInput { limit: num("limit")?, offset: num("offset")? })
}
