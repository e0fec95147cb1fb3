//! Gzip for what the studio sends besides its bundle (of which the build
//! writes brotli and gzip copies once, `assets.rs`), to browsers that
//! accept it:
//!
//! - its JSON answers (server functions) from 1 kB: a long map's content
//!   is ~420 kB as JSON and a tenth of that gzipped;
//! - its pages' HTML, which is streamed (the shell first, then each part as
//!   its data resolves). A compressor holds input back until its buffer
//!   fills, which would hold the first paint back to the last part; so
//!   each part is compressed and flushed (`Z_SYNC_FLUSH`) on its own, and
//!   the browser can parse it as soon as it arrives.
//!
//! A JSON answer is one part. At the fastest level (for the JSON the
//! default level measured ~3 ms slower in the app on loopback:
//! docs/benchmarks.md, "the bundle sent gzipped").

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use flate2::write::GzEncoder;
use futures_util::StreamExt;
use std::io::Write;

/// Smallest JSON answer worth compressing.
const MIN_JSON_BYTES: u64 = 1024;

/// Middleware: the studio's pages and JSON answers gzipped part by part.
pub async fn studio_answers(request: Request, next: Next) -> Response {
    let gzip = request.headers().get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(accepts_gzip);
    let response = next.run(request).await;
    if !gzip || response.headers().contains_key(header::CONTENT_ENCODING) || !worth_gzip(response.headers(), response.body().size_hint().exact()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from_stream(gzipped(body)))
}

/// HTML always; JSON from [`MIN_JSON_BYTES`] (or of a length not known
/// beforehand); nothing else (the bundle is compressed at build time).
fn worth_gzip(headers: &HeaderMap, length: Option<u64>) -> bool {
    has_type(headers, "text/html") || (has_type(headers, "application/json") && length.is_none_or(|n| n >= MIN_JSON_BYTES))
}

/// The body's parts, each compressed and flushed; the gzip trailer last.
fn gzipped(body: Body) -> impl futures_util::Stream<Item = Result<Bytes, axum::Error>> + Send {
    let encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    futures_util::stream::unfold((body.into_data_stream(), Some(encoder)), |(mut parts, encoder)| async move {
        let mut encoder = encoder?;
        let out = match parts.next().await {
            Some(Ok(part)) => encoder.write_all(&part).and_then(|()| encoder.flush()).map(|()| {
                let out = Bytes::from(std::mem::take(encoder.get_mut()));
                (out, Some(encoder))
            }),
            Some(Err(err)) => return Some((Err(err), (parts, None))),
            None => encoder.finish().map(|trailer| (Bytes::from(trailer), None)),
        };
        Some(match out {
            Ok((bytes, encoder)) => (Ok(bytes), (parts, encoder)),
            Err(err) => (Err(axum::Error::new(err)), (parts, None)),
        })
    })
}

/// Whether an `Accept-Encoding` value takes gzip (by name or `*`, not
/// with `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut fields = item.split(';').map(str::trim);
        let name = fields.next().unwrap_or_default();
        let refused = fields.any(|f| f.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

fn has_type(headers: &HeaderMap, mime: &str) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(mime))
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip, gzipped, worth_gzip};
    use axum::http::{header, HeaderMap, HeaderValue};
    use axum::body::{Body, Bytes};
    use futures_util::StreamExt;
    use std::io::Read;

    #[test]
    fn gzip_is_taken_by_name_or_star_unless_refused() {
        assert!(accepts_gzip("gzip, deflate, br, zstd"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.8"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("br, x-gzip2"));
    }

    #[test]
    fn pages_always_and_json_from_a_kilobyte_are_gzipped() {
        let typed = |mime: &'static str| HeaderMap::from_iter([(header::CONTENT_TYPE, HeaderValue::from_static(mime))]);
        assert!(worth_gzip(&typed("text/html; charset=utf-8"), None));
        assert!(worth_gzip(&typed("application/json"), Some(1024)));
        assert!(worth_gzip(&typed("application/json"), None));
        assert!(!worth_gzip(&typed("application/json"), Some(327)));
        assert!(!worth_gzip(&typed("application/wasm"), Some(1_000_000)));
        assert!(!worth_gzip(&HeaderMap::new(), None));
    }

    #[tokio::test]
    async fn each_part_can_be_read_when_it_arrives_and_the_whole_is_the_body() {
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from("<html><head></head>")), Ok(Bytes::from("<body>Событие №1</body>")), Ok(Bytes::from("</html>"))];
        let mut stream = Box::pin(gzipped(Body::from_stream(futures_util::stream::iter(parts))));
        let mut sent = Vec::new();
        // The first part alone decompresses to itself: it was flushed.
        sent.extend_from_slice(&stream.next().await.expect("a part").expect("compressed"));
        let mut first = String::new();
        let _ = flate2::read::GzDecoder::new(&sent[..]).read_to_string(&mut first);
        assert_eq!(first, "<html><head></head>");
        while let Some(part) = stream.next().await {
            sent.extend_from_slice(&part.expect("compressed"));
        }
        let mut whole = String::new();
        flate2::read::GzDecoder::new(&sent[..]).read_to_string(&mut whole).expect("a whole gzip stream");
        assert_eq!(whole, "<html><head></head><body>Событие №1</body></html>");
    }
}
