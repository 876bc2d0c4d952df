//! Static files compiled into the binary: the tracker scripts.

use poem::http::{HeaderMap, StatusCode, header};
use poem::{IntoResponse, Response, handler};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/tracker/dist"]
struct TrackerFiles;

/// Serves `/hk.js` and `/hk-vitals.js` with an ETag and a day of caching (the URL is stable,
/// so revalidation is what lets site owners get updates).
#[handler]
pub fn core_script(headers: &HeaderMap) -> Response {
    serve("hk.js", headers)
}

/// `/hk-vitals.js`, loaded by the core script only when `data-web-vitals` is set.
#[handler]
pub fn vitals_script(headers: &HeaderMap) -> Response {
    serve("hk-vitals.js", headers)
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(file) = TrackerFiles::get(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", &hex(&file.metadata.sha256_hash())[..20]);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Response::builder().status(StatusCode::NOT_MODIFIED).header(header::ETAG, etag).finish();
    }
    Response::builder()
        .content_type("application/javascript; charset=utf-8")
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "public, max-age=86400, stale-while-revalidate=604800")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(file.data.into_owned())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
