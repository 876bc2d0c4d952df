//! CORS for the ingest paths: any site may send hits. The request's Origin is reflected with
//! credentials allowed, because a `sendBeacon` of a JSON Blob is a credentialed request and a
//! wildcard answer makes browsers drop it. No cookie is ever read on these paths.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

/// Preflight answers are cached by browsers for a day.
const MAX_AGE_SECS: u32 = 86_400;

unit_middleware!(IngestCors => IngestCorsEndpoint);

impl<E: Endpoint> Endpoint for IngestCorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut resp = if req.method() == Method::OPTIONS {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                req.headers()
                    .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                    .cloned()
                    .unwrap_or_else(|| HeaderValue::from_static("content-type")),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS.into());
            r
        } else {
            self.0.call(req).await?.into_response()
        };
        let h = resp.headers_mut();
        match origin {
            Some(o) => {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
                h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
            None => {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
        }
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        Ok(resp)
    }
}
