//! Request metrics in Prometheus text format: request counts by route and status, a latency
//! histogram per route, requests in flight and rows scored.

use crate::error::{error_body, json_response};
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Routes counted separately; anything else is `other`.
const ROUTES: [&str; 8] = [
    "/v1/score",
    "/v1/encode",
    "/v1/reconstruct",
    "/v1/recommend",
    "/v1/model",
    "/healthz",
    "/metrics",
    "other",
];

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Latency histogram of one route (counts per bucket, not cumulative; the last is +Inf).
#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

/// Counters of the service, shared by all requests.
pub struct Metrics {
    by_status: Mutex<BTreeMap<(usize, u16), u64>>,
    latency: [Histogram; ROUTES.len()],
    in_flight: AtomicU64,
    rows_scored: AtomicU64,
    rows_encoded: AtomicU64,
    rows_reconstructed: AtomicU64,
    users_recommended: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// All counters at zero.
    pub fn new() -> Self {
        Metrics {
            by_status: Mutex::new(BTreeMap::new()),
            latency: Default::default(),
            in_flight: AtomicU64::new(0),
            rows_scored: AtomicU64::new(0),
            rows_encoded: AtomicU64::new(0),
            rows_reconstructed: AtomicU64::new(0),
            users_recommended: AtomicU64::new(0),
        }
    }

    /// Counts one finished request.
    fn record(&self, route: usize, status: u16, seconds: f64) {
        if let Ok(mut m) = self.by_status.lock() {
            *m.entry((route, status)).or_insert(0) += 1;
        }
        let h = &self.latency[route];
        let bucket = BUCKETS.iter().position(|&b| seconds <= b).unwrap_or(BUCKETS.len());
        h.counts[bucket].fetch_add(1, Ordering::Relaxed);
        h.sum_nanos.fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }

    /// Adds rows scored by `/v1/score`.
    pub(crate) fn add_scored(&self, rows: usize) {
        self.rows_scored.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Adds rows encoded by `/v1/encode`.
    pub(crate) fn add_encoded(&self, rows: usize) {
        self.rows_encoded.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Adds rows reconstructed by `/v1/reconstruct`.
    pub(crate) fn add_reconstructed(&self, rows: usize) {
        self.rows_reconstructed.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Counts users answered by `/v1/recommend`.
    pub(crate) fn add_recommended(&self, users: usize) {
        self.users_recommended.fetch_add(users as u64, Ordering::Relaxed);
    }

    /// Number of requests answered on `route` with `status` so far.
    pub fn requests(&self, route: &str, status: u16) -> u64 {
        let Some(r) = ROUTES.iter().position(|&x| x == route) else { return 0 };
        self.by_status.lock().map_or(0, |m| m.get(&(r, status)).copied().unwrap_or(0))
    }

    /// Rows scored so far.
    pub fn rows_scored(&self) -> u64 {
        self.rows_scored.load(Ordering::Relaxed)
    }

    /// The metrics in Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP latent_http_requests_total HTTP requests answered, by route and status."
        )?;
        writeln!(out, "# TYPE latent_http_requests_total counter")?;
        if let Ok(m) = self.by_status.lock() {
            for (&(route, status), &n) in m.iter() {
                writeln!(
                    out,
                    "latent_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    ROUTES[route]
                )?;
            }
        }
        writeln!(
            out,
            "# HELP latent_http_request_duration_seconds Time from request headers to response, by route."
        )?;
        writeln!(out, "# TYPE latent_http_request_duration_seconds histogram")?;
        for (route, h) in ROUTES.iter().zip(&self.latency) {
            let counts: Vec<u64> = h.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (i, c) in counts.iter().enumerate() {
                cumulative += c;
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                writeln!(
                    out,
                    "latent_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                )?;
            }
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            writeln!(out, "latent_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}")?;
            writeln!(
                out,
                "latent_http_request_duration_seconds_count{{route=\"{route}\"}} {total}"
            )?;
        }
        writeln!(out, "# HELP latent_http_requests_in_flight Requests being handled now.")?;
        writeln!(out, "# TYPE latent_http_requests_in_flight gauge")?;
        writeln!(out, "latent_http_requests_in_flight {}", self.in_flight.load(Ordering::Relaxed))?;
        for (name, help, v) in [
            ("latent_rows_scored_total", "Rows scored by /v1/score.", &self.rows_scored),
            ("latent_rows_encoded_total", "Rows encoded by /v1/encode.", &self.rows_encoded),
            (
                "latent_rows_reconstructed_total",
                "Rows reconstructed by /v1/reconstruct.",
                &self.rows_reconstructed,
            ),
            (
                "latent_users_recommended_total",
                "Users answered by /v1/recommend.",
                &self.users_recommended,
            ),
        ] {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} counter")?;
            writeln!(out, "{name} {}", v.load(Ordering::Relaxed))?;
        }
        Ok(())
    }
}

/// Middleware around every route: counts the request and its latency, and gives error
/// responses that the framework produced without a body (405, for example) a JSON body.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| ROUTES.iter().position(|&r| r == p.as_str()))
        .unwrap_or(ROUTES.len() - 1);
    let metrics = state.metrics();
    metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut res = next.run(req).await;
    metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let status = res.status();
    if (status.is_client_error() || status.is_server_error())
        && !res.headers().contains_key(header::CONTENT_TYPE)
    {
        let message = status.canonical_reason().unwrap_or("error").to_lowercase();
        let headers = std::mem::take(res.headers_mut());
        res = json_response(status, error_body(&message));
        for (name, value) in headers.iter() {
            if name != header::CONTENT_LENGTH {
                res.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    metrics.record(route, status.as_u16(), start.elapsed().as_secs_f64());
    res
}
