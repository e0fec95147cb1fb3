//! The studio bundle under `/pkg`, with cache rules a deploy cannot break.
//!
//! Lazily loaded wasm modules carry a hash of their build in their name
//! (`chunk_7.3f9a0c21d4.wasm`, see `hash_chunk_names` in scripts/common.sh):
//! such a name always means the same bytes, so browsers may keep it for
//! good. Everything else (the main module, its JS, the loader, the
//! manifest, the CSS) keeps its name across builds, so browsers must ask
//! again each time (`no-cache`: a cheap 304 when nothing changed) — a stale
//! main module would ask a new build for chunks it cannot run.
//!
//! A browser that accepts brotli gets the brotli copy the build writes
//! beside each file (`compress_bundle` in scripts/common.sh), about a
//! quarter of the bytes for the main wasm module; one that accepts gzip
//! only, the gzip copy (about a third); where a copy is missing, the next
//! it accepts, or the file as it is.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;

/// Serves `dir`, brotli and gzip copies where they are, with [`cache_rules`].
pub fn service(dir: &Path) -> Router {
    Router::new().fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip()).layer(axum::middleware::from_fn(cache_rules))
}

/// Sets `Cache-Control` by the file's name (see the module's doc), and
/// `Vary: accept-encoding`: one name goes out as brotli, gzip or plain by
/// what the browser accepts, so a shared cache must not hand one
/// browser's copy to another.
async fn cache_rules(request: Request, next: Next) -> Response {
    let immutable = request.uri().path().rsplit('/').next().is_some_and(is_build_hashed);
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let rule = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether a file name is `<name>.<10 hex digits>.wasm`.
fn is_build_hashed(file: &str) -> bool {
    let Some(stem) = file.strip_suffix(".wasm") else { return false };
    match stem.rsplit_once('.') {
        Some((name, hash)) => !name.is_empty() && hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_build_hashed;

    #[test]
    fn only_build_hashed_wasm_names_are_immutable() {
        assert!(is_build_hashed("chunk_7.3f9a0c21d4.wasm"));
        assert!(is_build_hashed("split___leads_view_16988824072173930614.0123456789.wasm"));
        assert!(!is_build_hashed("comops_bg.wasm"));
        assert!(!is_build_hashed("chunk_7.wasm"));
        assert!(!is_build_hashed("chunk_7.3F9A0C21D4.wasm"));
        assert!(!is_build_hashed("chunk_7.3f9a0c21d4.js"));
        assert!(!is_build_hashed(".3f9a0c21d4.wasm"));
        assert!(!is_build_hashed("__wasm_split.______________________.js"));
    }
}
