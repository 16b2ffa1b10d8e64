//! Route handlers: read the body within the limits, run the model on the blocking pool, answer
//! JSON.

use crate::error::json_response;
use crate::request::Schema;
use crate::{infer, ApiError, AppState, Endpoint};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use latent::Model;
use tokio::time::{timeout_at, Instant};

/// Reads the whole body: 413 past `max_body_bytes` (at once when `Content-Length` says so),
/// 408 when it has not arrived by `deadline`, 400 when the connection fails mid-body.
async fn read_body(req: Request, state: &AppState, deadline: Instant) -> Result<Vec<u8>, ApiError> {
    let limit = state.config().max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = req.into_body();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(limit));
    loop {
        let frame = match timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "request body not received within {} ms",
                        state.config().timeout.as_millis()
                    ),
                ))
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!("cannot read the request body: {e}")))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// The blocking work of a `/v1` call: parse the body, run the model, answer JSON and the row
/// count.
pub(crate) type Job = fn(&Model, &Schema, &[u8]) -> Result<(Vec<u8>, usize), ApiError>;

/// Reads the body, then runs `job` on the blocking pool (at most `max_concurrent_jobs` at once)
/// and answers its JSON. Past the deadline: 503.
async fn run_job(
    state: AppState,
    req: Request,
    endpoint: Endpoint,
    count: fn(&AppState, usize),
) -> Response {
    let timeout = state.config().timeout;
    let deadline = Instant::now() + timeout;
    let body = match read_body(req, &state, deadline).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let too_slow = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("request not answered within {} ms; retry later", timeout.as_millis()),
        )
        .into_response()
    };
    let permit = match timeout_at(deadline, state.inner.jobs.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
        }
        Err(_) => return too_slow(),
    };
    let st = state.clone();
    let task = tokio::task::spawn_blocking(move || {
        let result = endpoint.run(&st.inner.served, &body);
        drop(permit);
        result
    });
    match timeout_at(deadline, task).await {
        Err(_) => too_slow(),
        Ok(Err(e)) => ApiError::internal(format!("inference failed: {e}")).into_response(),
        Ok(Ok(Err(e))) => e.into_response(),
        Ok(Ok(Ok((json, rows)))) => {
            count(&state, rows);
            json_response(StatusCode::OK, json)
        }
    }
}

/// `POST /v1/score`.
pub(crate) async fn score(State(state): State<AppState>, req: Request) -> Response {
    run_job(state, req, Endpoint::Score, |s, n| s.metrics().add_scored(n)).await
}

/// `POST /v1/encode`.
pub(crate) async fn encode(State(state): State<AppState>, req: Request) -> Response {
    run_job(state, req, Endpoint::Encode, |s, n| s.metrics().add_encoded(n)).await
}

/// `POST /v1/reconstruct`.
pub(crate) async fn reconstruct(State(state): State<AppState>, req: Request) -> Response {
    run_job(state, req, Endpoint::Reconstruct, |s, n| s.metrics().add_reconstructed(n)).await
}

/// `POST /v1/series/score`.
pub(crate) async fn series_score(State(state): State<AppState>, req: Request) -> Response {
    run_job(state, req, Endpoint::SeriesScore, |s, n| s.metrics().add_scored(n)).await
}

/// `POST /v1/recommend`.
pub(crate) async fn recommend(State(state): State<AppState>, req: Request) -> Response {
    run_job(state, req, Endpoint::Recommend, |s, n| s.metrics().add_recommended(n)).await
}

/// `GET /v1/model`.
pub(crate) async fn model_info(State(state): State<AppState>) -> Response {
    let info = match &state.inner.served {
        crate::Served::Autoencoder { model, .. } => infer::model_info(model),
        crate::Served::Recommender(m) => crate::recommend::model_info(m),
    };
    match info {
        Ok(json) => json_response(StatusCode::OK, json),
        Err(e) => e.into_response(),
    }
}

/// `GET /healthz`: the process is up and has a model.
pub(crate) async fn healthz() -> Response {
    json_response(StatusCode::OK, b"{\"status\":\"ok\"}".to_vec())
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut res = state.metrics().render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Any other path: 404 with a JSON body.
pub(crate) async fn not_found(req: Request) -> Response {
    ApiError::new(StatusCode::NOT_FOUND, format!("no route {} {}", req.method(), req.uri().path()))
        .into_response()
}
