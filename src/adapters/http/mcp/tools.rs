//! The MCP server's tools and resources: each a read-only `/api` operation with the caller's
//! token. A refusal or an invalid query is a tool result with `isError` and the API's message,
//! so an assistant can read it and correct itself.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{INVALID_PARAMS, McpServer, RpcError};

const SITE_ID: &str = "The site's domain, as list_sites gives it (e.g. example.com).";
const DATE_RANGE: &str = "\"day\", \"7d\", \"28d\", \"30d\", \"month\", \"6mo\", \"12mo\", \"year\", \"all\" or \
    [\"YYYY-MM-DD\", \"YYYY-MM-DD\"], in the site's time zone. Default \"30d\".";

fn schema(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn site_and_range() -> Value {
    json!({"site_id": {"type": "string", "description": SITE_ID}, "date_range": {"description": DATE_RANGE}})
}

fn with(mut base: Value, extra: Value) -> Value {
    base.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    base
}

fn tool(name: &str, title: &str, description: &str, input: Value) -> Value {
    json!({
        "name": name,
        "title": title,
        "description": description,
        "inputSchema": input,
        "annotations": {"readOnlyHint": true, "openWorldHint": false},
    })
}

/// Every tool, as `tools/list` gives them.
pub fn catalogue() -> Vec<Value> {
    let limit =
        json!({"limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Rows (default 10)."}});
    vec![
        tool(
            "list_sites",
            "List sites",
            "The sites this token can read, with their time zones.",
            schema(json!({}), &[]),
        ),
        tool(
            "query",
            "Query stats",
            "Run a Plausible Stats API v2 query (the body of POST /api/v2/query, validated the same way): \
             site_id, date_range, metrics (visitors, visits, pageviews, bounce_rate, visit_duration, events, \
             conversion_rate, ...), optional dimensions (event:page, visit:source, visit:country_name, \
             time:day, ...), filters, order_by, pagination, compare. Returns the API's JSON answer.",
            schema(
                with(
                    site_and_range(),
                    json!({
                        "metrics": {"type": "array", "items": {"type": "string"}},
                        "dimensions": {"type": "array", "items": {"type": "string"}},
                        "filters": {"type": "array"},
                        "order_by": {"type": "array"},
                        "include": {"type": "object"},
                        "pagination": {"type": "object"},
                        "compare": {"description": "\"previous_period\", \"year_over_year\" or a date pair."},
                    }),
                ),
                &["site_id", "date_range", "metrics"],
            ),
        ),
        tool(
            "top_pages",
            "Top pages",
            "The most visited pages: the query {metrics: [visitors, pageviews], dimensions: [event:page], \
             order_by: [[visitors, desc]], pagination: {limit}}.",
            schema(with(site_and_range(), limit.clone()), &["site_id"]),
        ),
        tool(
            "sources",
            "Traffic sources",
            "Where visitors came from: the query {metrics: [visitors, visits, bounce_rate], dimensions: \
             [visit:source], order_by: [[visitors, desc]], pagination: {limit}}.",
            schema(with(site_and_range(), limit), &["site_id"]),
        ),
        tool(
            "realtime",
            "Current visitors",
            "Visitors on the site in the last five minutes.",
            schema(json!({"site_id": {"type": "string", "description": SITE_ID}}), &["site_id"]),
        ),
        tool(
            "compare_periods",
            "Compare periods",
            "Totals of the period beside the previous one (or the same period a year before): visitors, \
             visits, pageviews, bounce_rate, visit_duration with their change.",
            schema(
                with(
                    site_and_range(),
                    json!({"compare": {"type": "string", "enum": ["previous_period", "year_over_year"]}}),
                ),
                &["site_id"],
            ),
        ),
        tool(
            "list_goals",
            "List goals",
            "The site's goals (page visits and custom events counted as conversions) and funnels.",
            schema(json!({"site_id": {"type": "string", "description": SITE_ID}}), &["site_id"]),
        ),
        tool(
            "funnel",
            "Funnel report",
            "Visitors per step of a saved funnel over the period (funnel ids: list_goals).",
            schema(with(site_and_range(), json!({"funnel_id": {"type": "integer"}})), &["site_id", "funnel_id"]),
        ),
    ]
}

/// A successful tool result: the API's JSON as text, and as structured content when an object.
fn ok(v: Value) -> Value {
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
    if v.is_object() {
        result["structuredContent"] = v;
    }
    result
}

/// A refused call as a tool error the assistant can read.
fn refused(status: StatusCode, body: &Value) -> Value {
    let message = body["message"].as_str().map_or_else(|| body.to_string(), str::to_string);
    let text = format!("{} ({}): {message}", body["error"].as_str().unwrap_or("error"), status.as_u16());
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

fn text_arg<'a>(args: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    args[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RpcError::new(INVALID_PARAMS, format!("{name} is required")))
}

fn site_path(args: &Value, rest: &str) -> Result<String, RpcError> {
    Ok(format!("/sites/{}{rest}", utf8_percent_encode(text_arg(args, "site_id")?, NON_ALPHANUMERIC)))
}

fn date_range(args: &Value) -> Value {
    args.get("date_range").filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!("30d"))
}

/// A ranked breakdown query by one dimension.
fn breakdown(args: &Value, dimension: &str, metrics: &[&str]) -> Result<Value, RpcError> {
    let limit = args["limit"].as_u64().unwrap_or(10).clamp(1, 100);
    Ok(json!({
        "site_id": text_arg(args, "site_id")?,
        "date_range": date_range(args),
        "metrics": metrics,
        "dimensions": [dimension],
        "order_by": [["visitors", "desc"]],
        "pagination": {"limit": limit},
    }))
}

/// `tools/call`.
pub async fn call(server: &McpServer, token: &str, params: &Value) -> Result<Value, RpcError> {
    let name = params["name"].as_str().unwrap_or_default();
    let args = params.get("arguments").cloned().unwrap_or_else(|| json!({}));
    let (status, body) = match name {
        "list_sites" => server.call_api(token, Method::GET, "/sites", None).await,
        "query" => server.call_api(token, Method::POST, "/v2/query", Some(&args)).await,
        "top_pages" => {
            let q = breakdown(&args, "event:page", &["visitors", "pageviews"])?;
            server.call_api(token, Method::POST, "/v2/query", Some(&q)).await
        }
        "sources" => {
            let q = breakdown(&args, "visit:source", &["visitors", "visits", "bounce_rate"])?;
            server.call_api(token, Method::POST, "/v2/query", Some(&q)).await
        }
        "realtime" => server.call_api(token, Method::GET, &site_path(&args, "/realtime")?, None).await,
        "compare_periods" => {
            let q = json!({
                "site_id": text_arg(&args, "site_id")?,
                "date_range": date_range(&args),
                "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
                "compare": args["compare"].as_str().unwrap_or("previous_period"),
            });
            server.call_api(token, Method::POST, "/v2/query", Some(&q)).await
        }
        "list_goals" => return list_goals(server, token, &args).await,
        "funnel" => {
            let id =
                args["funnel_id"].as_u64().ok_or_else(|| RpcError::new(INVALID_PARAMS, "funnel_id is required"))?;
            let range = match date_range(&args) {
                Value::Array(pair) => pair.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                other => other.as_str().unwrap_or("30d").to_string(),
            };
            let range = utf8_percent_encode(&range, NON_ALPHANUMERIC);
            server
                .call_api(token, Method::GET, &site_path(&args, &format!("/funnels/{id}?date_range={range}"))?, None)
                .await
        }
        other => return Err(RpcError::new(INVALID_PARAMS, format!("unknown tool {other:?}; see tools/list"))),
    };
    Ok(if status.is_success() { ok(body) } else { refused(status, &body) })
}

/// Goals and funnels of a site in one answer.
async fn list_goals(server: &McpServer, token: &str, args: &Value) -> Result<Value, RpcError> {
    let (status, goals) = server.call_api(token, Method::GET, &site_path(args, "/goals")?, None).await;
    if !status.is_success() {
        return Ok(refused(status, &goals));
    }
    let (status, funnels) = server.call_api(token, Method::GET, &site_path(args, "/funnels")?, None).await;
    if !status.is_success() {
        return Ok(refused(status, &funnels));
    }
    Ok(ok(json!({"goals": goals, "funnels": funnels})))
}

const SUMMARY_PREFIX: &str = "hitkeep://sites/";
const SUMMARY_SUFFIX: &str = "/summary";

/// The template of the per-site summary resources.
pub fn summary_template() -> Value {
    json!({
        "uriTemplate": format!("{SUMMARY_PREFIX}{{site}}{SUMMARY_SUFFIX}"),
        "name": "site-summary",
        "title": "Site summary",
        "description": "A site at a glance: totals of the last 30 days (to yesterday) and of today, top pages and sources, current visitors.",
        "mimeType": "application/json",
    })
}

/// `resources/list`: one summary per site the token reads.
pub async fn resources(server: &McpServer, token: &str) -> Result<Value, RpcError> {
    let (status, sites) = server.call_api(token, Method::GET, "/sites", None).await;
    if !status.is_success() {
        return Err(RpcError::new(-32603, format!("listing sites failed ({status})")));
    }
    let list: Vec<Value> = sites
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["domain"].as_str())
        .map(|domain| {
            json!({
                "uri": format!("{SUMMARY_PREFIX}{domain}{SUMMARY_SUFFIX}"),
                "name": format!("{domain} summary"),
                "description": format!("The last 30 days of {domain}"),
                "mimeType": "application/json",
            })
        })
        .collect();
    Ok(json!({"resources": list}))
}

/// `resources/read` of a site summary.
pub async fn read_resource(server: &McpServer, token: &str, params: &Value) -> Result<Value, RpcError> {
    let uri = params["uri"].as_str().unwrap_or_default();
    let Some(site) = uri.strip_prefix(SUMMARY_PREFIX).and_then(|r| r.strip_suffix(SUMMARY_SUFFIX)) else {
        return Err(RpcError::new(INVALID_PARAMS, format!("unknown resource {uri:?}; see resources/list")));
    };
    let args = json!({"site_id": site, "date_range": "30d", "limit": 5});
    let metrics = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"];
    let totals = |range: &str| json!({"site_id": site, "date_range": range, "metrics": metrics});
    let mut summary = json!({"site": site, "date_range": "30d", "metrics": metrics});
    for (key, query) in [
        ("totals", totals("30d")),
        ("today", totals("day")),
        ("top_pages", breakdown(&args, "event:page", &["visitors", "pageviews"])?),
        ("top_sources", breakdown(&args, "visit:source", &["visitors"])?),
    ] {
        let (status, body) = server.call_api(token, Method::POST, "/v2/query", Some(&query)).await;
        if !status.is_success() {
            let message = body["message"].as_str().unwrap_or("refused").to_string();
            return Err(RpcError::new(-32002, format!("{uri}: {message}")));
        }
        summary[key] = body["results"].clone();
    }
    let (_, live) = server.call_api(token, Method::GET, &site_path(&args, "/realtime")?, None).await;
    summary["current_visitors"] = live["visitors"].clone();
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    Ok(json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": text}]}))
}
