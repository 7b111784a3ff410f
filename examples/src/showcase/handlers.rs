//! The endpoints.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::state::SharedApp;

const JSON: (header::HeaderName, &str) = (header::CONTENT_TYPE, "application/json");

fn failure(context: &str, error: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{error:#}"), "{context}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("{context} failed\n"),
    )
        .into_response()
}

/// `GET /health`: does nothing (the ceiling).
pub async fn health() -> &'static str {
    "ok"
}

/// `GET /api/users/{id}`: a profile, through L1 → Redis → batched Postgres.
pub async fn user(State(app): State<SharedApp>, Path(id): Path<i64>) -> Response {
    match app.profiles.get(id).await {
        Ok(Some(body)) => ([JSON], body).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such user\n").into_response(),
        Err(e) => failure("user lookup", e),
    }
}

const OPEN_TASKS: &str = "SELECT id, title, priority, due_at::text FROM tasks \
     WHERE user_id = $1 AND status = 'open' ORDER BY due_at LIMIT 20";

/// One task in `/api/users/{id}/tasks`.
#[derive(Debug, serde::Serialize)]
struct Task {
    id: i64,
    title: String,
    priority: i16,
    due_at: String,
}

async fn open_tasks(app: &SharedApp, user: i64) -> anyhow::Result<Bytes> {
    let conn = app.db.read().await?;
    let statement = conn.client.prepare_cached(OPEN_TASKS).await?;
    let rows = conn.client.query(&statement, &[&user]).await;
    conn.done(rows.is_ok());
    let tasks: Vec<Task> = rows?
        .iter()
        .map(|row| Task {
            id: row.get(0),
            title: row.get(1),
            priority: row.get(2),
            due_at: row.get(3),
        })
        .collect();
    app.profiles.encode(&tasks)
}

/// `GET /api/users/{id}/tasks`: the user's open tasks, soonest due first,
/// through the query-result cache (and the response cache: `max-age=2`).
pub async fn tasks(State(app): State<SharedApp>, Path(id): Path<i64>) -> Response {
    let body = match &app.query_cache {
        Some(cache) => {
            cache
                .get_or_query(OPEN_TASKS, &id.to_string(), || open_tasks(&app, id))
                .await
        }
        None => open_tasks(&app, id).await,
    };
    match body {
        Ok(body) => ([JSON, (header::CACHE_CONTROL, "max-age=2")], body).into_response(),
        Err(e) => failure("tasks query", e),
    }
}

/// `?seed=` of the report.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    seed: Option<u64>,
}

/// `GET /api/report`: CPU-bound rendering on the thread pool, plus a call
/// to an upstream replica through the balancer.
pub async fn report(State(app): State<SharedApp>, Query(query): Query<ReportQuery>) -> Response {
    let seed = query.seed.unwrap_or(42);
    let id = i64::try_from(seed % 100_000).unwrap_or(0);
    let (rendered, upstream) = tokio::join!(
        super::report::render(&app.cpu, &app.work_buffers, seed),
        app.upstreams.item(id)
    );
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return failure("report rendering", e),
    };
    let upstream: serde_json::Value = match upstream {
        Ok(Some(body)) => serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        Ok(None) => serde_json::Value::Null,
        Err(e) => return failure("upstream call", e),
    };
    if let Some(redis) = &app.profiles.redis {
        // A temporary key; the maintenance task clears `tmp:` with SCAN.
        let _ = redis
            .set(
                &format!("tmp:report:{seed}"),
                &rendered,
                Some(std::time::Duration::from_secs(60)),
            )
            .await;
    }
    Json(serde_json::json!({ "report": rendered, "upstream": upstream })).into_response()
}

/// `GET /api/upstream/{id}`: one call through the balancer, passed through.
pub async fn upstream(State(app): State<SharedApp>, Path(id): Path<i64>) -> Response {
    match app.upstreams.item(id).await {
        Ok(Some(body)) => ([JSON], body).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no upstreams configured\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "upstream call failed");
            (StatusCode::BAD_GATEWAY, "upstream call failed\n").into_response()
        }
    }
}

/// `GET /stats`: every crate's stats as JSON.
pub async fn stats(State(app): State<SharedApp>) -> Response {
    Json(app.stats()).into_response()
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(app): State<SharedApp>) -> Response {
    let text = super::metrics::render(&app.stats(), &app.monitor.render_prometheus());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
