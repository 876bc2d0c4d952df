//! The one place where errors become HTTP statuses and JSON bodies.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::payload::Json;
use serde::Serialize;

use crate::domain::ingest::IngestError;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// A JSON error response: `{"error": code, "message": text, "field": name?}`.
pub fn json_error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let body = serde_json::to_string(&ErrorBody { error: code, message, field }).expect("serializable");
    let mut resp = Response::builder().status(status).content_type("application/json").body(body);
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut().insert("retry-after", RETRY_AFTER_SECS.into());
    }
    resp
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        match &self {
            IngestError::Invalid(inv) => {
                json_error(StatusCode::BAD_REQUEST, "invalid_payload", &self.to_string(), Some(inv.field))
            }
            IngestError::Overloaded => {
                json_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded", &self.to_string(), None)
            }
            IngestError::StoreFailing => {
                json_error(StatusCode::SERVICE_UNAVAILABLE, "store_failing", &self.to_string(), None)
            }
            IngestError::Unavailable => {
                json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &self.to_string(), None)
            }
        }
    }
}

/// A problem with the request, named in `message`.
#[derive(Object)]
pub struct ApiErrorBody {
    /// Machine-readable code.
    pub error: String,
    /// What went wrong, for humans.
    pub message: String,
}

pub fn body(error: &str, message: impl Into<String>) -> Json<ApiErrorBody> {
    Json(ApiErrorBody { error: error.into(), message: message.into() })
}
