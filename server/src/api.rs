//! The HTTP JSON API (`/api/v1`, bearer token) that `gac` and integrations use. It only
//! reads: searches run on blocking threads so the async runtime keeps serving intake.
//! Bodies are the types of [`gac_event::api`].

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gac_event::Timestamp;
use gac_event::api::{ErrorBody, Selection, StatsResponse};
use serde::Deserialize;

use crate::agents::AgentsView;
use crate::auth::Tokens;
use crate::index::{SearchError, Searcher};
use crate::metrics::{self, Metrics};

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub searcher: Searcher,
    /// GeoIP databases' build dates and staleness, the asset inventory's state.
    pub enrich: crate::enrich::StatusHandle,
    pub tokens: Arc<Tokens>,
    pub metrics: Metrics,
    /// Enrolled agents and what their sequence numbers say.
    pub agents: AgentsView,
}

/// The routes, with the token check in front of everything but `/health`.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/search", get(search))
        .route("/histogram", get(histogram))
        .route("/top", get(top))
        .route("/stats", get(stats))
        .route("/agents", get(agents))
        .route("/agents/{id}/completeness", get(completeness))
        .route("/enrich", get(enrich_status))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .nest("/api/v1", api)
        .route("/health", get(|| async { "ok\n" }))
        .with_state(state)
}

async fn require_token(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented.and_then(|t| state.tokens.check(t)) {
        Some(_) => next.run(req).await,
        None => {
            state.metrics.counter(metrics::API_UNAUTHORIZED).inc();
            error(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
        }
    }
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ErrorBody { error: msg.into() })).into_response()
}

impl IntoResponse for SearchError {
    fn into_response(self) -> Response {
        let status = match self {
            SearchError::Query(_) | SearchError::Request(_) => StatusCode::BAD_REQUEST,
            SearchError::Index(_) | SearchError::Source(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, self.to_string())
    }
}

/// Query-string form of a [`Selection`] (kept flat: URL-encoded bodies do not nest).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(default)]
    q: String,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: Option<usize>,
    offset: Option<usize>,
    interval_secs: Option<u64>,
    field: Option<String>,
    size: Option<usize>,
}

impl SearchParams {
    fn selection(&self) -> Selection {
        Selection {
            q: self.q.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(IntoResponse::into_response),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn search(State(s): State<ApiState>, Query(p): Query<SearchParams>) -> Response {
    let sel = p.selection();
    let (limit, offset) = (p.limit.unwrap_or(100), p.offset.unwrap_or(0));
    match blocking(move || s.searcher.search(&sel, limit, offset)).await {
        Ok(r) => Json(r).into_response(),
        Err(r) => r,
    }
}

async fn histogram(State(s): State<ApiState>, Query(p): Query<SearchParams>) -> Response {
    let sel = p.selection();
    match blocking(move || s.searcher.histogram(&sel, p.interval_secs)).await {
        Ok(r) => Json(r).into_response(),
        Err(r) => r,
    }
}

async fn top(State(s): State<ApiState>, Query(p): Query<SearchParams>) -> Response {
    let sel = p.selection();
    let Some(field) = p.field.clone() else {
        return error(StatusCode::BAD_REQUEST, "field is required");
    };
    let size = p.size.unwrap_or(10);
    match blocking(move || s.searcher.top(&sel, &field, size)).await {
        Ok(r) => Json(r).into_response(),
        Err(r) => r,
    }
}

async fn enrich_status(State(s): State<ApiState>) -> Response {
    Json(s.enrich.snapshot()).into_response()
}

async fn agents(State(s): State<ApiState>) -> Response {
    let view = s.agents.clone();
    match tokio::task::spawn_blocking(move || view.list(Timestamp::now())).await {
        Ok(Ok(r)) => Json(r).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Query string of `/agents/{id}/completeness`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompletenessParams {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    source: Option<String>,
}

async fn completeness(
    State(s): State<ApiState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(p): Query<CompletenessParams>,
) -> Response {
    let view = s.agents.clone();
    let agent = id.clone();
    let answer = tokio::task::spawn_blocking(move || {
        view.completeness(&agent, p.source.as_deref(), p.from, p.to)
    })
    .await;
    match answer {
        Ok(Ok(Some(r))) => Json(r).into_response(),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("no agent {id}")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn stats(State(s): State<ApiState>) -> Json<StatsResponse> {
    Json(StatsResponse {
        counters: s.metrics.snapshot(),
    })
}
