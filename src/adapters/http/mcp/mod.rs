//! The Model Context Protocol server at `/mcp` (Streamable HTTP transport, stateless): JSON-RPC
//! 2.0 requests over `POST`, each answered with one `application/json` body. Callers present an
//! API token (`Authorization: Bearer`); every tool is a read-only `/api` operation called in
//! process with that token, so answers, validation and site access are the REST API's own.

mod tools;

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::Data;
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Auth, BearerAuth, caller};
use super::errors::json_error;
use super::ingest::read_limited;

/// Protocol revisions this server speaks, newest first.
const PROTOCOL_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Largest request body: tool arguments are small JSON objects.
const MAX_BODY: usize = 256 * 1024;

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
pub(crate) const INVALID_PARAMS: i64 = -32602;

/// The MCP server: the `/api` operations it calls in process.
pub struct McpServer {
    api: BoxEndpoint<'static, Response>,
}

impl McpServer {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { api: super::api::service(state.clone()).data(state).map_to_response().boxed() }
    }

    /// Calls an `/api` operation (`path` relative to `/api`) as the caller of `token`: its status
    /// and JSON body.
    async fn call_api(&self, token: &str, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri_str(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT, "application/json");
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req.body(body.map(Value::to_string).unwrap_or_default());
        let resp = self.api.call(req).await.unwrap_or_else(|e| e.into_response());
        let status = resp.status();
        let text = resp.into_body().into_string().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// A JSON-RPC error object.
pub(crate) struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

fn reply(id: &Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}}),
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    Response::builder().status(status).content_type("application/json").body(v.to_string())
}

/// 401 with the scheme to use, as the transport's authorization section asks.
fn unauthorized(message: &str) -> Response {
    let mut r = json_error(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"hitkeep\""));
    r
}

/// The bearer token of a request, if it carries one.
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_string())
}

/// `POST /mcp`: one JSON-RPC message or a batch. Requests get their responses (200), a body of
/// only notifications or responses gets 202 without a body.
#[handler]
pub async fn post(server: Data<&Arc<McpServer>>, state: Data<&Arc<AppState>>, req: &Request, body: Body) -> Response {
    let Some(token) = bearer(req) else {
        return unauthorized("send Authorization: Bearer <API token> (a read-scoped token is enough)");
    };
    let auth = Auth::Bearer(BearerAuth(poem_openapi::auth::Bearer { token: token.clone() }));
    if caller(&state, &auth).await.is_err() {
        return unauthorized("unknown, expired or revoked API token");
    }
    let bytes = match read_limited(MAX_BODY, req.headers(), body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let message: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let error = reply(&Value::Null, Err(RpcError::new(PARSE_ERROR, format!("not JSON: {e}"))));
            return json_response(StatusCode::BAD_REQUEST, &error);
        }
    };
    let answers = match &message {
        Value::Array(batch) if batch.is_empty() => {
            let error = reply(&Value::Null, Err(RpcError::new(INVALID_REQUEST, "empty batch")));
            return json_response(StatusCode::BAD_REQUEST, &error);
        }
        Value::Array(batch) => {
            let mut answers = Vec::new();
            for m in batch {
                answers.extend(answer(&server, &token, m).await);
            }
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        single => answer(&server, &token, single).await,
    };
    match answers {
        Some(v) => json_response(StatusCode::OK, &v),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// `GET` (a server-to-client stream) and `DELETE` (ending a session): this server keeps no
/// sessions and sends nothing unasked.
#[handler]
pub async fn not_allowed() -> Response {
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "POST")
        .content_type("application/json")
        .body(json!({"error": "method_not_allowed", "message": "this MCP server is stateless: POST JSON-RPC messages to /mcp"}).to_string())
}

/// The response to one message; `None` for notifications and client responses.
async fn answer(server: &McpServer, token: &str, message: &Value) -> Option<Value> {
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        // A response to a server request (none are sent) or garbage without an id.
        let id = message.get("id")?;
        let is_response = message.get("result").is_some() || message.get("error").is_some();
        return (!is_response).then(|| reply(id, Err(RpcError::new(INVALID_REQUEST, "not a JSON-RPC request"))));
    };
    let id = message.get("id")?.clone();
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => Ok(initialize(&params)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools::catalogue()})),
        "tools/call" => tools::call(server, token, &params).await,
        "resources/list" => tools::resources(server, token).await,
        "resources/templates/list" => Ok(json!({"resourceTemplates": [tools::summary_template()]})),
        "resources/read" => tools::read_resource(server, token, &params).await,
        other => Err(RpcError::new(METHOD_NOT_FOUND, format!("unknown method {other:?}"))),
    };
    Some(reply(&id, result))
}

/// The handshake: the client's protocol revision when this server speaks it, else the newest.
fn initialize(params: &Value) -> Value {
    let asked = params["protocolVersion"].as_str().unwrap_or_default();
    let version = PROTOCOL_VERSIONS.iter().find(|v| **v == asked).unwrap_or(&PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}, "resources": {"listChanged": false, "subscribe": false}},
        "serverInfo": {"name": "hitkeep", "title": "HitKeep analytics", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "Read-only web analytics of the sites your API token can read. Start with list_sites; \
            query takes a Plausible Stats API v2 body (site_id, date_range, metrics, dimensions, filters, ...).",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_keeps_a_known_revision_and_offers_the_newest_otherwise() {
        let v = |asked: &str| initialize(&json!({"protocolVersion": asked}))["protocolVersion"].clone();
        assert_eq!(v("2025-06-18"), "2025-06-18");
        assert_eq!(v("2024-11-05"), "2024-11-05");
        assert_eq!(v("1999-01-01"), PROTOCOL_VERSIONS[0]);
        let caps = &initialize(&json!({}))["capabilities"];
        assert!(caps["tools"].is_object() && caps["resources"].is_object());
    }

    #[test]
    fn every_tool_declares_an_object_schema() {
        let tools = tools::catalogue();
        assert_eq!(tools.len(), 8);
        for t in &tools {
            assert_eq!(t["inputSchema"]["type"], "object", "{}", t["name"]);
            assert_eq!(t["annotations"]["readOnlyHint"], true);
        }
    }
}
