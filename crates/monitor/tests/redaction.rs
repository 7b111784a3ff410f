//! The webhook URL is a secret (a Slack hook's path is its token) and a
//! probe URL may carry credentials: neither shows in `Debug`, in error
//! texts, in logs (captured from a tracing subscriber) or in metric labels.
#![cfg(feature = "webhook")]

mod support;

use perfect21_testkit::logs::Captured;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use perfect21_monitor::{
    AlertRule, AlertSink, HttpProbe, Monitor, Point, Registry, SampleKinds, SinkError, WebhookSink,
};
use support::event;

/// Every secret part of the URLs below.
const SECRETS: [&str; 4] = ["T0SECRET", "B0SECRET", "tok3n", "hunter2"];

/// A webhook URL with a secret path, query and password.
fn hook(host: &str) -> String {
    format!("http://bot:hunter2@{host}/services/T0SECRET/B0SECRET?key=tok3n")
}

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

/// An address nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[test]
fn debug_shows_the_webhook_origin_only() {
    let builder = WebhookSink::builder(hook("hooks.example.com:8080"));
    assert_clean("builder Debug", &format!("{builder:?}"));
    let sink = builder.build().unwrap();
    let shown = format!("{sink:?}");
    assert_clean("sink Debug", &shown);
    assert!(shown.contains("http://hooks.example.com:8080"), "{shown}");
}

#[tokio::test]
async fn a_transport_error_and_its_logs_do_not_show_the_webhook_url() {
    let captured = Captured::default();
    let _guard = captured.install();
    let sink = WebhookSink::builder(hook(&closed_port().await))
        .retries(1)
        .retry_backoff(Duration::from_millis(1))
        .build()
        .unwrap();
    let err = sink.send(&event()).await.unwrap_err();
    assert!(matches!(err, SinkError::Transport(_)), "{err:?}");
    assert_clean("SinkError", &err.to_string());
    assert_clean("SinkError Debug", &format!("{err:?}"));
    let logs = captured.text();
    assert!(logs.contains("retrying"), "the retry is logged: {logs}");
    assert_clean("logs", &logs);
}

#[tokio::test]
async fn the_monitor_logs_a_failed_delivery_without_the_webhook_url() {
    let captured = Captured::default();
    let _guard = captured.install();
    let monitor = Monitor::builder()
        .interval(Duration::from_millis(5))
        .system(SampleKinds::none())
        .sampler(|out: &mut Vec<Point>| out.push(Point::new("queue_depth", 500.0)))
        .rules([AlertRule::above("q", "queue_depth", 100.0).for_duration(Duration::ZERO)])
        .sink(
            WebhookSink::builder(hook(&closed_port().await))
                .retries(0)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
        .spawn();
    while monitor.stats().sink_failures == 0 {
        tokio::task::yield_now().await;
    }
    monitor.stop().await;
    let logs = captured.text();
    assert!(logs.contains("alert delivery failed"), "{logs}");
    assert_clean("logs", &logs);
}

#[tokio::test]
async fn a_probe_labels_and_logs_its_url_without_credentials_or_query() {
    let app = Router::new().route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let captured = Captured::default();
    let _guard = captured.install();
    let registry = Registry::new();
    let url = format!("http://bot:hunter2@{addr}/health?key=tok3n");
    let probe = HttpProbe::builder(url, registry.clone()).build().unwrap();
    assert_clean("probe Debug", &format!("{probe:?}"));
    assert_eq!(probe.check().await.unwrap(), Some(200));
    let labels: Vec<String> = registry
        .metrics()
        .into_iter()
        .flat_map(|(key, _)| key.labels.into_iter().map(|(_, v)| v))
        .collect();
    assert_eq!(labels.len(), 4, "{labels:?}");
    for label in &labels {
        assert_eq!(label, &format!("http://{addr}/health"), "the path stays");
    }
    assert_clean("text export", &registry.render_prometheus());

    let down = format!(
        "http://bot:hunter2@{}/health?key=tok3n",
        closed_port().await
    );
    let probe = HttpProbe::builder(down, registry.clone()).build().unwrap();
    assert_eq!(probe.check().await.unwrap(), None);
    let logs = captured.text();
    assert!(logs.contains("probe failed"), "{logs}");
    assert_clean("logs", &logs);
}
