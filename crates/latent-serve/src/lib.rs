//! latent-serve: the HTTP service over a trained latent model.
//!
//! [`app`] builds the axum [`Router`] over an [`AppState`] (the model, the [`Config`] and the
//! [`Metrics`]); [`serve`] runs it on a listener until a shutdown future resolves, and [`run`] is
//! the blocking entry point of `latent serve` (its own runtime, shutdown on SIGTERM or ctrl-c).
//!
//! Endpoints:
//! - `POST /v1/score`: `{"rows": [[v1, v2, ...], ...], "explain": k}` (rows in training column
//!   order, or objects by column name) → `{"scores", "is_anomaly", "threshold", "explanations"}`.
//! - `POST /v1/encode` → `{"codes": [[...]]}`; `POST /v1/reconstruct` → `{"rows": [[...]]}` in
//!   the original units.
//! - `POST /v1/recommend` (a recommender model): `{"items": ["id", ...], "k": 10}` →
//!   `{"items", "scores", "unknown_items"}`, or `{"users": [{"items": [...]}, ...]}` →
//!   `{"users": [...]}`; unknown item ids are reported, not refused.
//! - `GET /v1/model`: architecture, parameters, input columns, threshold, latent size.
//! - `GET /healthz`, `GET /metrics` (Prometheus text).
//!
//! With a token, every `/v1` call needs `Authorization: Bearer <token>` (401 otherwise). Client
//! mistakes are 4xx with a JSON body `{"error": "..."}`: malformed JSON 400, body over the limit
//! 413, a body not received within the timeout 408, rows the model cannot take 422. Inference
//! runs on tokio's blocking pool, never on the async worker threads.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let model = latent::Model::load("model.safetensors".as_ref()).map_err(std::io::Error::other)?;
//! let state = latent_serve::AppState::new(model, latent_serve::Config::default());
//! latent_serve::run("127.0.0.1:8080".parse().map_err(std::io::Error::other)?, state, |addr| {
//!     eprintln!("listening on http://{addr}")
//! })
//! # }
//! ```

mod auth;
mod error;
mod handlers;
mod infer;
mod metrics;
mod recommend;
mod request;
mod series;
mod server;

pub use error::ApiError;
pub use metrics::Metrics;
pub use server::{run, serve, shutdown_signal};

use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// Default limit on a request body: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;
/// Default time a request may take, from its headers to its response: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// When set, every `/v1` call needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request body accepted; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Time allowed for reading the headers, for reading the body (408 past it) and for the
    /// whole request (503 past it).
    pub timeout: Duration,
    /// Inference jobs run at once on the blocking pool (others wait, within the timeout).
    /// Defaults to the number of CPUs.
    pub max_concurrent_jobs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            max_concurrent_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What every handler shares: the model, the settings and the metrics. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    served: Served,
    config: Config,
    metrics: Metrics,
    jobs: Arc<tokio::sync::Semaphore>,
}

/// The model a service holds.
enum Served {
    /// An autoencoder, with the schema of its rows.
    Autoencoder { model: Arc<latent::Model>, schema: request::Schema },
    /// A recommender (`POST /v1/recommend`).
    Recommender(Arc<latent::recommend::file::RecModel>),
}

impl AppState {
    /// State over a model with these settings.
    pub fn new(model: latent::Model, config: Config) -> Self {
        AppState::from_arc(Arc::new(model), config)
    }

    /// State over a shared model with these settings.
    pub fn from_arc(model: Arc<latent::Model>, config: Config) -> Self {
        let schema = request::Schema::new(model.preprocessor());
        AppState::with(Served::Autoencoder { model, schema }, config)
    }

    /// State over a recommender (`POST /v1/recommend`) with these settings.
    pub fn recommender(model: latent::recommend::file::RecModel, config: Config) -> Self {
        AppState::with(Served::Recommender(Arc::new(model)), config)
    }

    fn with(served: Served, config: Config) -> Self {
        let jobs = Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_jobs.max(1)));
        AppState { inner: Arc::new(Inner { served, config, metrics: Metrics::new(), jobs }) }
    }

    /// The autoencoder served (none when the service holds a recommender).
    pub fn model(&self) -> Option<&Arc<latent::Model>> {
        match &self.inner.served {
            Served::Autoencoder { model, .. } => Some(model),
            Served::Recommender(_) => None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Answers a request body as `POST` to `endpoint` does once the body is read: parses the
    /// rows, runs the model and returns the JSON answer, or the error the client would get.
    /// Runs on the calling thread and touches no metrics (the handlers run the same work on the
    /// blocking pool).
    pub fn answer(&self, endpoint: Endpoint, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        endpoint.run(&self.inner.served, body).map(|(json, _)| json)
    }
}

/// The `/v1` endpoints that take a body of rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/score`.
    Score,
    /// `POST /v1/encode`.
    Encode,
    /// `POST /v1/reconstruct`.
    Reconstruct,
    /// `POST /v1/series/score`.
    SeriesScore,
    /// `POST /v1/recommend`.
    Recommend,
}

impl Endpoint {
    /// The blocking work of the endpoint on the model served: the JSON answer and the number
    /// of rows (or users) answered. An endpoint of the other kind of model is 422.
    fn run(self, served: &Served, body: &[u8]) -> Result<(Vec<u8>, usize), ApiError> {
        let job: handlers::Job = match (self, served) {
            (Endpoint::Recommend, Served::Recommender(m)) => return recommend::recommend(m, body),
            (Endpoint::Recommend, Served::Autoencoder { .. }) => {
                return Err(ApiError::unprocessable(
                    "the model served is not a recommender; /v1/recommend needs one",
                ))
            }
            (_, Served::Recommender(_)) => {
                return Err(ApiError::unprocessable(
                    "the model served is a recommender: use POST /v1/recommend",
                ))
            }
            (Endpoint::Score, _) => infer::score,
            (Endpoint::Encode, _) => infer::encode,
            (Endpoint::Reconstruct, _) => infer::reconstruct,
            (Endpoint::SeriesScore, _) => series::score,
        };
        match served {
            Served::Autoencoder { model, schema } => job(model, schema, body),
            Served::Recommender(_) => Err(ApiError::internal("unreachable")),
        }
    }
}

/// The service's router: `/v1/*` (behind the token when one is set), `/healthz`, `/metrics`.
pub fn app(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/v1/score", post(handlers::score))
        .route("/v1/encode", post(handlers::encode))
        .route("/v1/reconstruct", post(handlers::reconstruct))
        .route("/v1/series/score", post(handlers::series_score))
        .route("/v1/recommend", post(handlers::recommend))
        .route("/v1/model", get(handlers::model_info))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .merge(v1)
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}
