//! The GET-response cache, a tower layer (axum's `from_fn`) on the routes
//! it is put on: what a shared HTTP cache in front of the service would do
//! (RFC 9111), kept in a perfect21-lru cache bounded by bytes.
//!
//! * Stored: a `200` answer to a `GET` whose `Cache-Control` gives a
//!   lifetime (`s-maxage`, else `max-age`, above 0) and says none of
//!   `no-store`, `private`, `no-cache`, with no `Vary: *`, and whose body
//!   ends within [`MAX_BODY`] bytes without an error.
//! * Anything else passes through untouched: a body over the bound or one
//!   whose stream fails reaches the client as the handler sent it (the
//!   bytes read so far, then the rest or the error), never as a `500`.
//! * A hit carries the stored headers (`Cache-Control` included) and an
//!   `Age`, and only serves a request whose headers named by the stored
//!   `Vary` are the ones it was stored for.
//! * A request with `Cache-Control: no-store` or an `Authorization`
//!   header bypasses the cache; with
//!   `no-cache` or `max-age=0` it is answered fresh (and the fresh answer
//!   stored).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use perfect21_lru::{CacheStats, ConcurrentLru, DefaultHashBuilder};

/// Bodies above this many bytes are passed through, not stored.
pub const MAX_BODY: usize = 256 * 1024;

type Weigh = fn(&String, &Cached) -> u64;

/// A stored response.
#[derive(Debug, Clone)]
pub struct Cached {
    headers: HeaderMap,
    body: Bytes,
    stored: Instant,
    /// The request headers named by `Vary`, as they were when stored.
    vary: Vec<(HeaderName, Option<HeaderValue>)>,
}

#[allow(clippy::ptr_arg)] // the weigher's signature is `Fn(&K, &V)` with K = String
fn weigh(key: &String, value: &Cached) -> u64 {
    let headers: usize = value
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    (key.len() + headers + value.body.len()) as u64 + perfect21_lru::ENTRY_OVERHEAD
}

/// The GET-response cache.
#[derive(Debug)]
pub struct ResponseCache {
    cache: ConcurrentLru<String, Cached, DefaultHashBuilder, Weigh>,
}

impl ResponseCache {
    /// At most `max_bytes` of keys, headers and bodies.
    pub fn new(max_bytes: u64) -> Result<Self> {
        Ok(Self {
            cache: ConcurrentLru::builder()
                .max_weight(max_bytes)
                .weigher(weigh as Weigh)
                .build()
                .map_err(|e| anyhow!("response cache: {e}"))?,
        })
    }

    /// Hits, misses, evictions.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Drops expired responses; returns how many.
    pub fn purge_expired(&self) -> usize {
        self.cache.purge_expired()
    }
}

/// The directives of the `Cache-Control` headers in `headers`, lower-cased,
/// each with its argument (quotes removed).
fn directives(headers: &HeaderMap) -> Vec<(String, Option<String>)> {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            let (name, arg) = match part.split_once('=') {
                Some((n, a)) => (n, Some(a.trim().trim_matches('"').to_owned())),
                None => (part, None),
            };
            Some((name.trim().to_ascii_lowercase(), arg))
        })
        .collect()
}

fn seconds(directives: &[(String, Option<String>)], name: &str) -> Option<u64> {
    directives
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, a)| a.as_deref()?.parse().ok())
}

fn has(directives: &[(String, Option<String>)], name: &str) -> bool {
    directives.iter().any(|(n, _)| n == name)
}

/// How long a response may be stored: `None` when it must not be.
fn storable_for(response: &Response) -> Option<Duration> {
    if response.status() != StatusCode::OK {
        return None;
    }
    let d = directives(response.headers());
    if ["no-store", "private", "no-cache"]
        .iter()
        .any(|name| has(&d, name))
    {
        return None;
    }
    // `Vary: *` never matches a later request.
    vary_names(response.headers())?;
    let seconds = seconds(&d, "s-maxage").or_else(|| seconds(&d, "max-age"))?;
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// The header names of `Vary`; `None` for `Vary: *` (never matches).
fn vary_names(headers: &HeaderMap) -> Option<Vec<HeaderName>> {
    let mut names = Vec::new();
    for value in headers.get_all(header::VARY) {
        for name in value.to_str().ok()?.split(',') {
            let name = name.trim();
            if name == "*" {
                return None;
            }
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                names.push(name);
            }
        }
    }
    Some(names)
}

/// What the request asks of the cache.
enum Ask {
    /// Look up, and store a miss.
    Normal,
    /// Do not serve from the cache; store the fresh answer.
    Fresh,
    /// Neither look up nor store.
    Bypass,
}

fn ask(request: &Request) -> Ask {
    let d = directives(request.headers());
    // A shared cache answers no authorised request from what it stored
    // for another (RFC 9111 §3.5), and this one stores none.
    if has(&d, "no-store") || request.headers().contains_key(header::AUTHORIZATION) {
        Ask::Bypass
    } else if has(&d, "no-cache") || seconds(&d, "max-age") == Some(0) {
        Ask::Fresh
    } else {
        Ask::Normal
    }
}

/// The body whole if it ends within `limit` bytes without an error;
/// otherwise a body that replays what was read and continues with the
/// rest (or ends with the error), as if nothing had read it.
async fn collect_up_to(mut body: Body, limit: usize) -> std::result::Result<Bytes, Body> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    let replay = |chunks: Vec<Bytes>| futures_util::stream::iter(chunks.into_iter().map(Ok));
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    len += data.len();
                    chunks.push(data);
                    if len > limit {
                        let rest = body.into_data_stream();
                        return Err(Body::from_stream(replay(chunks).chain(rest)));
                    }
                }
                // Trailers: not something this cache stores; the body's
                // data has all been read, so it ends here.
                Err(_) => return Err(Body::from_stream(replay(chunks))),
            },
            Some(Err(e)) => {
                let failed = futures_util::stream::once(async move { Err(e) });
                return Err(Body::from_stream(replay(chunks).chain(failed)));
            }
        }
    }
    let mut whole = BytesMut::with_capacity(len);
    for chunk in chunks {
        whole.extend_from_slice(&chunk);
    }
    Ok(whole.freeze())
}

fn mark(response: &mut Response, what: &'static str) {
    response
        .headers_mut()
        .insert("x-cache", HeaderValue::from_static(what));
}

/// Serves GETs from the cache and stores what may be stored; see the
/// module docs.
pub async fn response_cache(
    State(cache): State<Arc<ResponseCache>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let ask = ask(&request);
    if matches!(ask, Ask::Bypass) {
        return next.run(request).await;
    }
    let key = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    if matches!(ask, Ask::Normal)
        && let Some(hit) = cache.cache.get(&key)
        && hit
            .vary
            .iter()
            .all(|(name, value)| request.headers().get(name) == value.as_ref())
    {
        let mut response = Response::new(Body::from(hit.body));
        *response.headers_mut() = hit.headers;
        let age = hit.stored.elapsed().as_secs();
        response
            .headers_mut()
            .insert(header::AGE, HeaderValue::from(age));
        mark(&mut response, "hit");
        return response;
    }
    // The request's headers are gone once it is handed on: keep the ones
    // any `Vary` could name (all of them; a request's headers are few).
    let request_headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(ttl) = storable_for(&response) else {
        return response;
    };
    let names = vary_names(response.headers()).unwrap_or_default();
    let (mut parts, body) = response.into_parts();
    match collect_up_to(body, MAX_BODY).await {
        Ok(bytes) => {
            let vary = names
                .into_iter()
                .map(|name| {
                    let value = request_headers.get(&name).cloned();
                    (name, value)
                })
                .collect();
            let cached = Cached {
                headers: parts.headers.clone(),
                body: bytes.clone(),
                stored: Instant::now(),
                vary,
            };
            let _ = cache.cache.insert_with_ttl(key, cached, ttl);
            let mut response = Response::from_parts(parts, Body::from(bytes));
            mark(&mut response, "miss");
            response
        }
        Err(passed) => {
            parts
                .headers
                .insert("x-cache", HeaderValue::from_static("pass"));
            Response::from_parts(parts, passed)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::header::{CACHE_CONTROL, VARY};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A route answering `body` with `cache_control` (and `Vary: x-lang`
    /// and the request's `x-lang` appended when `vary`), counting calls.
    fn route(
        calls: &Arc<AtomicUsize>,
        cache_control: &'static str,
        body: fn() -> Body,
    ) -> axum::routing::MethodRouter {
        let calls = Arc::clone(calls);
        get(move || {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { ([(CACHE_CONTROL, cache_control)], body()).into_response() }
        })
    }

    fn app(calls: &Arc<AtomicUsize>) -> Router {
        let cache = Arc::new(ResponseCache::new(8 << 20).unwrap());
        let vary_calls = Arc::clone(calls);
        Router::new()
            .route("/small", route(calls, "max-age=60", || Body::from("small")))
            .route(
                "/big",
                route(calls, "max-age=60", || Body::from(vec![b'x'; MAX_BODY + 1])),
            )
            .route(
                "/streamed-big",
                route(calls, "max-age=60", || {
                    let chunk = Bytes::from(vec![b'y'; 64 * 1024]);
                    let chunks = (0..5).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                    Body::from_stream(futures_util::stream::iter(chunks))
                }),
            )
            .route(
                "/broken",
                route(calls, "max-age=60", || {
                    let items = vec![
                        Ok(Bytes::from_static(b"first part")),
                        Err(std::io::Error::other("the database went away")),
                    ];
                    Body::from_stream(futures_util::stream::iter(items))
                }),
            )
            .route(
                "/no-store",
                route(calls, "no-store, max-age=60", || Body::from("x")),
            )
            .route(
                "/private",
                route(calls, "private, max-age=60", || Body::from("x")),
            )
            .route(
                "/no-cache",
                route(calls, "max-age=60, no-cache", || Body::from("x")),
            )
            .route("/no-age", route(calls, "public", || Body::from("x")))
            .route(
                "/shared",
                route(calls, "max-age=0, s-maxage=60", || Body::from("x")),
            )
            .route(
                "/vary",
                get(move |headers: HeaderMap| {
                    vary_calls.fetch_add(1, Ordering::SeqCst);
                    let lang = headers
                        .get("x-lang")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_owned();
                    async move {
                        ([(CACHE_CONTROL, "max-age=60"), (VARY, "x-lang")], lang).into_response()
                    }
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(cache, response_cache))
    }

    struct Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: std::result::Result<Bytes, String>,
    }

    async fn call(app: &Router, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::builder().uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| e.to_string());
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    fn x_cache(answer: &Answer) -> &str {
        answer
            .headers
            .get("x-cache")
            .map_or("none", |v| v.to_str().unwrap())
    }

    #[tokio::test]
    async fn a_stored_answer_is_served_with_its_cache_control_and_an_age() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        let first = call(&app, "/small", &[]).await;
        let second = call(&app, "/small", &[]).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the second is a hit");
        assert_eq!((x_cache(&first), x_cache(&second)), ("miss", "hit"));
        assert_eq!(second.body.as_deref(), Ok(&b"small"[..]));
        assert_eq!(second.headers[CACHE_CONTROL], "max-age=60");
        let age: u64 = second.headers[header::AGE]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(age <= 60, "an age within the stored lifetime: {age}");
    }

    #[tokio::test]
    async fn a_body_over_the_bound_passes_through_whole_instead_of_becoming_a_500() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        for path in ["/big", "/streamed-big"] {
            for _ in 0..2 {
                let answer = call(&app, path, &[]).await;
                assert_eq!(answer.status, StatusCode::OK, "{path}");
                assert_eq!(x_cache(&answer), "pass", "{path}");
                let body = answer.body.expect("the whole body");
                let (byte, len) = if path == "/big" {
                    (b'x', MAX_BODY + 1)
                } else {
                    (b'y', 5 * 64 * 1024)
                };
                assert_eq!(body.len(), len, "{path}: nothing lost or repeated");
                assert!(body.iter().all(|b| *b == byte), "{path}");
            }
        }
        assert_eq!(calls.load(Ordering::SeqCst), 4, "nothing was stored");
    }

    #[tokio::test]
    async fn a_body_whose_stream_fails_reaches_the_client_as_sent_and_is_not_stored() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        for _ in 0..2 {
            let answer = call(&app, "/broken", &[]).await;
            assert_eq!(answer.status, StatusCode::OK);
            let error = answer
                .body
                .expect_err("the stream's error reaches the client");
            assert!(error.contains("the database went away"), "{error}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn what_must_not_be_stored_is_not() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        for path in ["/no-store", "/private", "/no-cache", "/no-age"] {
            let before = calls.load(Ordering::SeqCst);
            call(&app, path, &[]).await;
            let again = call(&app, path, &[]).await;
            assert_eq!(
                calls.load(Ordering::SeqCst) - before,
                2,
                "{path} was stored"
            );
            assert_eq!(x_cache(&again), "none", "{path}");
        }
        // s-maxage is the lifetime for a shared cache, whatever max-age says.
        call(&app, "/shared", &[]).await;
        assert_eq!(x_cache(&call(&app, "/shared", &[]).await), "hit");
    }

    #[tokio::test]
    async fn a_request_may_refuse_a_stored_answer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        call(&app, "/small", &[]).await;
        let fresh = call(&app, "/small", &[("cache-control", "no-cache")]).await;
        assert_eq!(x_cache(&fresh), "miss", "answered fresh, and stored");
        let bypass = call(&app, "/small", &[("cache-control", "no-store")]).await;
        assert_eq!(x_cache(&bypass), "none");
        let authorised = call(&app, "/small", &[("authorization", "Bearer t")]).await;
        assert_eq!(
            x_cache(&authorised),
            "none",
            "never answered from another's response"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(x_cache(&call(&app, "/small", &[]).await), "hit");
    }

    #[tokio::test]
    async fn vary_keeps_answers_for_different_request_headers_apart() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&calls);
        let en = call(&app, "/vary", &[("x-lang", "en")]).await;
        let fr = call(&app, "/vary", &[("x-lang", "fr")]).await;
        assert_eq!(en.body.as_deref(), Ok(&b"en"[..]));
        assert_eq!(
            fr.body.as_deref(),
            Ok(&b"fr"[..]),
            "not the stored en answer"
        );
        let fr_again = call(&app, "/vary", &[("x-lang", "fr")]).await;
        assert_eq!(x_cache(&fr_again), "hit");
        assert_eq!(fr_again.body.as_deref(), Ok(&b"fr"[..]));
        let none = call(&app, "/vary", &[]).await;
        assert_eq!(none.body.as_deref(), Ok(&b"none"[..]));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
