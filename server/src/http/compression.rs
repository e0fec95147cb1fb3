//! Gzip for the studio's JSON answers (its server functions): a long
//! map's content is ~420 kB as JSON and a tenth of that gzipped, which is
//! what a browser on a real network waits for. Only JSON of 1 kB or more,
//! to a browser that accepts gzip: the pages' HTML is streamed, and a
//! compressor holds streamed parts back until its buffer fills, which
//! would delay their first paint; the bundle is gzipped once, at build
//! time (`assets.rs`).

use axum::http::{header, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smallest answer worth compressing.
const MIN_BYTES: u16 = 1024;

/// The layer for the studio's routes.
pub fn json_answers() -> CompressionLayer<impl Predicate + Clone> {
    let json = |_: StatusCode, _: Version, headers: &HeaderMap, _: &axum::http::Extensions| {
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
    };
    CompressionLayer::new().quality(CompressionLevel::Fastest).no_br().no_deflate().no_zstd().compress_when(SizeAbove::new(MIN_BYTES).and(json))
}
