//! A size and time limit on every `/api` request body, applied before any handler or extractor
//! reads it: poem-openapi reads JSON bodies whole, so without this a single unauthenticated
//! request could make the server hold hundreds of megabytes.

use std::time::Duration;

use poem::http::StatusCode;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

use super::errors::json_error;

/// Body limits of the `/api` routes.
#[derive(Debug, Clone, Copy)]
pub struct ApiBodyLimit {
    /// Largest JSON (or other) body of an ordinary API call.
    pub max_bytes: usize,
    /// Largest import upload (`POST /api/sites/{site}/imports`); its handler reads it in a stream.
    pub max_import_bytes: usize,
    /// Longest a client may take to send a body.
    pub read_timeout: Duration,
}

impl ApiBodyLimit {
    fn limit_for(&self, req: &Request) -> (usize, bool) {
        let path = req.uri().path().trim_end_matches('/');
        if path.ends_with("/imports") { (self.max_import_bytes, true) } else { (self.max_bytes, false) }
    }
}

impl<E: Endpoint> Middleware<E> for ApiBodyLimit {
    type Output = ApiBodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ApiBodyLimitEndpoint { inner: ep, limits: *self }
    }
}

pub struct ApiBodyLimitEndpoint<E> {
    inner: E,
    limits: ApiBodyLimit,
}

fn too_large(limit: usize, flag: &str) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        &format!("request body is larger than {limit} bytes ({flag})"),
        None,
    )
}

impl<E: Endpoint> Endpoint for ApiBodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let (limit, streamed) = self.limits.limit_for(&req);
        let flag = if streamed { "--max-import-bytes" } else { "--max-api-body-bytes" };
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Ok(too_large(limit, flag));
        }
        if declared == Some(0) || streamed {
            // Imports read their body themselves, bounded by the same limit.
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let body = req.take_body();
        let bytes = match tokio::time::timeout(self.limits.read_timeout, body.into_bytes_limit(limit)).await {
            Err(_) => {
                return Ok(json_error(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    &format!("request body not received within {} s", self.limits.read_timeout.as_secs()),
                    None,
                ));
            }
            Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => return Ok(too_large(limit, flag)),
            Ok(Err(e)) => {
                return Ok(json_error(StatusCode::BAD_REQUEST, "unreadable_body", &e.to_string(), None));
            }
            Ok(Ok(b)) => b,
        };
        req.set_body(Body::from_bytes(bytes));
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
