//! WebhookSink and HttpProbe against a real HTTP server on 127.0.0.1.
#![cfg(feature = "webhook")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use perfect21_monitor::{
    AlertRule, AlertSink, AlertState, ChannelSink, HttpProbe, Monitor, MonitorError, Point,
    Registry, SampleKinds, SinkError, WebhookSink,
};
use serde_json::Value;
use support::event;
use tokio::sync::Mutex;

#[derive(Clone, Default)]
struct Server {
    received: Arc<Mutex<Vec<Value>>>,
    failures: Arc<AtomicU32>,
    refused: Arc<AtomicU32>,
}

async fn serve(state: Server) -> String {
    let app = Router::new()
        .route(
            "/ok",
            post(|State(s): State<Server>, Json(v): Json<Value>| async move {
                s.received.lock().await.push(v);
                StatusCode::OK
            }),
        )
        .route(
            "/fail",
            post(|State(s): State<Server>| async move {
                s.failures.fetch_add(1, Ordering::SeqCst);
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .route(
            "/bad",
            post(|State(s): State<Server>| async move {
                s.refused.fetch_add(1, Ordering::SeqCst);
                StatusCode::BAD_REQUEST
            }),
        )
        .route(
            "/gone",
            post(|State(s): State<Server>| async move {
                s.refused.fetch_add(1, Ordering::SeqCst);
                StatusCode::NOT_FOUND
            }),
        )
        .route(
            "/throttled",
            post(|State(s): State<Server>| async move {
                s.refused.fetch_add(1, Ordering::SeqCst);
                StatusCode::TOO_MANY_REQUESTS
            }),
        )
        .route(
            "/slow",
            post(|State(s): State<Server>| async move {
                s.refused.fetch_add(1, Ordering::SeqCst);
                StatusCode::REQUEST_TIMEOUT
            }),
        )
        .route(
            "/hang",
            post(|| async {
                // Never answers within the client's timeout.
                std::future::pending::<()>().await;
                StatusCode::OK
            }),
        )
        .route("/health", get(|| async { "ok" }))
        .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn posts_slack_compatible_json() {
    let server = Server::default();
    let base = serve(server.clone()).await;
    let sink = WebhookSink::builder(format!("{base}/ok")).build().unwrap();
    sink.send(&event()).await.unwrap();
    let got = server.received.lock().await;
    assert_eq!(got.len(), 1);
    let body = &got[0];
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("CRITICAL") && text.contains("high_cpu"),
        "{text}"
    );
    assert_eq!(body["attachments"][0]["color"], "danger");
    assert_eq!(body["attachments"][0]["title"], "high_cpu");
    assert_eq!(body["event"]["value"], 97.5);
    assert_eq!(body["event"]["state"], "firing");
}

#[tokio::test]
async fn a_500_is_retried_then_reported_failed() {
    let server = Server::default();
    let base = serve(server.clone()).await;
    let sink = WebhookSink::builder(format!("{base}/fail"))
        .retries(2)
        .retry_backoff(Duration::from_millis(5))
        .build()
        .unwrap();
    let err = sink.send(&event()).await.unwrap_err();
    assert!(matches!(err, SinkError::Status(500)), "{err}");
    assert_eq!(server.failures.load(Ordering::SeqCst), 3); // 1 + 2 retries
}

#[tokio::test]
async fn a_4xx_is_not_retried_but_408_and_429_are() {
    let server = Server::default();
    let base = serve(server.clone()).await;
    let sink = |path: &str| {
        WebhookSink::builder(format!("{base}{path}"))
            .retries(2)
            .retry_backoff(Duration::from_millis(1))
            .build()
            .unwrap()
    };
    for (path, status, attempts) in [
        ("/bad", 400, 1),
        ("/gone", 404, 1),
        ("/throttled", 429, 3),
        ("/slow", 408, 3),
    ] {
        server.refused.store(0, Ordering::SeqCst);
        let err = sink(path).send(&event()).await.unwrap_err();
        assert!(
            matches!(err, SinkError::Status(s) if s == status),
            "{path}: {err}"
        );
        assert_eq!(server.refused.load(Ordering::SeqCst), attempts, "{path}");
    }
}

#[tokio::test]
async fn a_hanging_server_hits_the_timeout() {
    let base = serve(Server::default()).await;
    let sink = WebhookSink::builder(format!("{base}/hang"))
        .timeout(Duration::from_millis(200))
        .retries(0)
        .build()
        .unwrap();
    let err = sink.send(&event()).await.unwrap_err();
    assert!(matches!(err, SinkError::Timeout(_)), "{err}");
}

#[tokio::test]
async fn in_a_monitor_a_failing_webhook_is_counted_and_others_still_get_alerts() {
    let server = Server::default();
    let base = serve(server.clone()).await;
    let (channel, mut rx) = ChannelSink::new(16);
    let monitor = Monitor::builder()
        .interval(Duration::from_millis(5))
        .system(SampleKinds::none())
        .sampler(|out: &mut Vec<Point>| out.push(Point::new("queue_depth", 500.0)))
        .rules([AlertRule::above("q", "queue_depth", 100.0).for_duration(Duration::ZERO)])
        .sink(
            WebhookSink::builder(format!("{base}/fail"))
                .retries(1)
                .retry_backoff(Duration::from_millis(1))
                .build()
                .unwrap(),
        )
        .sink(WebhookSink::builder(format!("{base}/ok")).build().unwrap())
        .sink(channel)
        .build()
        .unwrap()
        .spawn();
    let first = rx.recv().await.unwrap();
    assert_eq!(first.state, AlertState::Firing);
    monitor.stop().await; // waits for the sinks to finish their queue
    let s = monitor.stats();
    assert_eq!(s.alerts, 1);
    assert_eq!(s.sink_failures, 1);
    assert_eq!(s.sink_deliveries, 2);
    assert_eq!(server.failures.load(Ordering::SeqCst), 2);
    assert_eq!(server.received.lock().await.len(), 1);
}

#[tokio::test]
async fn invalid_webhook_options_name_the_field() {
    let field = |r: Result<WebhookSink, MonitorError>| match r {
        Err(MonitorError::InvalidConfig { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(WebhookSink::builder("not a url").build()), "url");
    assert_eq!(field(WebhookSink::builder("ftp://x/").build()), "url");
    assert_eq!(
        field(
            WebhookSink::builder("http://x/")
                .timeout(Duration::ZERO)
                .build()
        ),
        "timeout"
    );
    assert_eq!(
        field(WebhookSink::builder("http://x/").retries(11).build()),
        "retries"
    );
    assert_eq!(
        field(
            WebhookSink::builder("http://x/")
                .retry_backoff(Duration::ZERO)
                .build()
        ),
        "retry_backoff"
    );
    assert_eq!(
        field(
            WebhookSink::builder("http://x/")
                .retry_backoff(Duration::from_secs(61))
                .build()
        ),
        "retry_backoff"
    );
}

#[tokio::test]
async fn http_probe_records_latency_and_status() {
    let base = serve(Server::default()).await;
    let registry = Registry::new();
    let ok = HttpProbe::builder(format!("{base}/health"), registry.clone())
        .build()
        .unwrap();
    assert_eq!(ok.check().await.unwrap(), Some(200));
    assert_eq!(ok.check().await.unwrap(), Some(200));
    let down = HttpProbe::builder(format!("{base}/down"), registry.clone())
        .build()
        .unwrap();
    assert_eq!(down.check().await.unwrap(), Some(503));
    let ok_labels = [("url", format!("{base}/health"))];
    let ok_labels: Vec<(&str, &str)> = ok_labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        registry
            .counter("probe_requests_total", &ok_labels)
            .unwrap()
            .get(),
        2
    );
    assert_eq!(
        registry
            .counter("probe_failures_total", &ok_labels)
            .unwrap()
            .get(),
        0
    );
    assert_eq!(
        registry.gauge("probe_status", &ok_labels).unwrap().get(),
        200.0
    );
    assert_eq!(
        registry
            .histogram("probe_latency_seconds", &ok_labels)
            .unwrap()
            .snapshot()
            .count,
        2
    );
    let down_url = format!("{base}/down");
    let down_labels = [("url", down_url.as_str())];
    assert_eq!(
        registry
            .counter("probe_failures_total", &down_labels)
            .unwrap()
            .get(),
        1
    );

    // Spawned: probes on its interval until stopped.
    let handle = HttpProbe::builder(format!("{base}/health"), registry.clone())
        .interval(Duration::from_millis(1))
        .build()
        .unwrap()
        .spawn();
    let counter = registry
        .counter("probe_requests_total", &ok_labels)
        .unwrap();
    while counter.get() < 5 {
        tokio::task::yield_now().await;
    }
    handle.stop().await;
}
