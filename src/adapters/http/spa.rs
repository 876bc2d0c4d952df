//! The dashboard (Angular, `spa/dist/browser`) compiled into the binary and served at `/` with
//! an SPA fallback: a path without a file extension that is no asset gets `index.html`, so deep
//! links (`/sites/example.com?period=7d`) load the app. Content-hashed assets are cached for a
//! year (`immutable`); `index.html` is revalidated every time so a new release shows at once.

use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::{IntoResponse, Request, Response, handler};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/spa/dist/browser"]
struct SpaFiles;

const INDEX: &str = "index.html";

/// Angular's production build names bundles `name-HASH.ext` (8+ upper-case letters and digits).
fn is_hashed(name: &str) -> bool {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.split('.').next().unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 8 && hash.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

/// File types the build emits: a request for a missing one is not an app route.
fn is_asset(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    last.rsplit_once('.').is_some_and(|(_, ext)| {
        matches!(
            ext,
            "js" | "mjs"
                | "css"
                | "map"
                | "json"
                | "webmanifest"
                | "svg"
                | "png"
                | "jpg"
                | "ico"
                | "woff2"
                | "woff"
                | "ttf"
                | "txt"
        )
    })
}

fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "webmanifest" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Serves a file of the dashboard, or `index.html` for app routes.
#[handler]
pub fn dashboard(req: &Request) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = req.uri().path().trim_start_matches('/');
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let (name, file) = match SpaFiles::get(&path) {
        Some(f) if !path.is_empty() => (path.to_string(), f),
        _ => {
            // A missing bundle or image is a 404; anything else is an app route, whose last segment
            // may well contain dots (`/sites/example.com`).
            if is_asset(&path) {
                return StatusCode::NOT_FOUND.into_response();
            }
            match SpaFiles::get(INDEX) {
                Some(f) => (INDEX.to_string(), f),
                None => return StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    serve(&name, file, req.headers())
}

fn serve(name: &str, file: rust_embed::EmbeddedFile, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", super::assets::hex(&file.metadata.sha256_hash()[..10]));
    let cache = if is_hashed(name) { "public, max-age=31536000, immutable" } else { "no-cache" };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder().header(header::ETAG, etag).header(header::CACHE_CONTROL, cache);
    if not_modified {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder
        .content_type(mime(name))
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_bundles_are_recognised() {
        assert!(is_hashed("main-4FQ6ZL2B.js"));
        assert!(is_hashed("chunk-AB12CD34.js"));
        assert!(is_hashed("styles-XY7Z89QW.css"));
        assert!(is_hashed("media/primeicons-C6QP2O4F.woff2"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon.ico"));
        assert!(!is_hashed("my-page.js"));
    }

    #[test]
    fn app_routes_may_contain_dots() {
        assert!(!is_asset("sites/example.com"));
        assert!(!is_asset("sites/shop.example.co.uk/settings"));
        assert!(is_asset("chunk-MISSING1.js"));
        assert!(is_asset("media/font.woff2"));
    }
}
