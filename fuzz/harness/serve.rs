//! What the `serve_request` fuzz target does with one input, shared by the target and the
//! regression tests in `crates/latent-serve/tests/`: answer the bytes as the body of every
//! `/v1` endpoint of every seed model. Never panics.

use std::path::Path;

use latent_serve::{ApiError, AppState, Config, Endpoint};

/// The seed models the request bodies are fuzzed against (file names in
/// `fuzz/seeds/model_file/`): a dense model with a categorical column that refuses missing
/// values, and a VAE that imputes them.
pub const MODELS: [&str; 2] = ["dense_mixed.safetensors", "vae_impute.safetensors"];

/// One service state per seed model in `dir`.
pub fn states(dir: &Path) -> Result<Vec<AppState>, String> {
    MODELS
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let model = latent::Model::load(&path).map_err(|e| e.to_string())?;
            let config = Config { max_concurrent_jobs: 1, ..Config::default() };
            Ok(AppState::new(model, config))
        })
        .collect()
}

/// Every answer, per model then per endpoint (score, encode, reconstruct).
pub fn serve_request(states: &[AppState], body: &[u8]) -> Vec<Result<Vec<u8>, ApiError>> {
    let endpoints = [Endpoint::Score, Endpoint::Encode, Endpoint::Reconstruct];
    states.iter().flat_map(|s| endpoints.iter().map(move |&e| s.answer(e, body))).collect()
}

/// What is wrong with a set of answers, if anything: a 200 whose body is not JSON, or an error
/// that blames the server (5xx) or has no message. A body is always the client's business.
pub fn problem(answers: &[Result<Vec<u8>, ApiError>]) -> Option<String> {
    answers.iter().find_map(|answer| match answer {
        Ok(json) => serde_json::from_slice::<serde_json::Value>(json)
            .err()
            .map(|e| format!("200 answer is not JSON ({e}): {}", String::from_utf8_lossy(json))),
        Err(e) if !e.status.is_client_error() || e.message.trim().is_empty() => {
            Some(format!("answered {} \"{}\" to a request body", e.status, e.message))
        }
        Err(_) => None,
    })
}
