//! The browser app: `index.html`, the WebAssembly bundle and the stylesheet, built by
//! `cargo xtask frontend` into `frontend/dist` and embedded into release binaries (debug builds
//! read the folder from disk, so a rebuilt frontend shows without recompiling the server).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::error_response;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../frontend/dist"]
#[allow_missing = true]
struct Dist;

/// Serves a built file, or `index.html` for any other page path so that the app's own router
/// can show it.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (name, file) = match Dist::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        None if looks_like_file(path) => return StatusCode::NOT_FOUND.into_response(),
        None => match Dist::get("index.html") {
            Some(file) => ("index.html", file),
            None => {
                return error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "frontend_missing",
                    "The web app was not built into this server; run `cargo xtask frontend`."
                        .into(),
                );
            }
        },
    };

    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // File names carry no content hash, so browsers revalidate each time (a cheap 304).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn looks_like_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}
