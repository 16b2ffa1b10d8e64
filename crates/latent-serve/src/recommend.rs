//! `POST /v1/recommend`: the top-K items for one history (`{"items": [...], "k": 10}`) or for
//! several (`{"users": [{"items": [...]}, ...], "k": 10}`). Item ids the model does not know
//! are reported in `unknown_items`, not refused.

use crate::ApiError;
use latent::recommend::file::RecModel;
use serde::{Deserialize, Serialize};

/// Default number of items per answer.
const DEFAULT_K: usize = 10;

/// One user's history.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    items: Vec<String>,
}

/// The request body: one history or a batch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendRequest {
    #[serde(default)]
    items: Option<Vec<String>>,
    #[serde(default)]
    users: Option<Vec<History>>,
    #[serde(default)]
    k: Option<usize>,
    #[serde(default)]
    exclude_seen: Option<bool>,
}

/// One user's answer.
#[derive(Serialize)]
struct UserAnswer<'a> {
    items: Vec<&'a str>,
    scores: Vec<f32>,
    unknown_items: Vec<String>,
}

/// The batch answer.
#[derive(Serialize)]
struct BatchAnswer<'a> {
    users: Vec<UserAnswer<'a>>,
}

/// Parses the body, ranks, and answers JSON and the number of users.
pub(crate) fn recommend(model: &RecModel, body: &[u8]) -> Result<(Vec<u8>, usize), ApiError> {
    let req: RecommendRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed request body: {e}")))?;
    let k = req.k.unwrap_or(DEFAULT_K);
    let (histories, batch) =
        match (req.items, req.users) {
            (Some(items), None) => (vec![items], false),
            (None, Some(users)) => (users.into_iter().map(|u| u.items).collect(), true),
            _ => return Err(ApiError::unprocessable(
                "give either \"items\" (one history) or \"users\" (a list of {\"items\": [...]})",
            )),
        };
    let ranked = model
        .recommend_ids(&histories, k, req.exclude_seen.unwrap_or(true))
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let items = &model.manifest.items;
    let answers: Vec<UserAnswer<'_>> = ranked
        .into_iter()
        .map(|r| UserAnswer {
            items: r.ranked.iter().map(|&(i, _)| items[i as usize].as_str()).collect(),
            scores: r.ranked.iter().map(|&(_, s)| s).collect(),
            unknown_items: r.unknown_items,
        })
        .collect();
    let n = answers.len();
    let json = if batch {
        serde_json::to_vec(&BatchAnswer { users: answers })
    } else {
        serde_json::to_vec(&answers[0])
    };
    json.map(|j| (j, n)).map_err(|e| ApiError::internal(format!("cannot serialize: {e}")))
}

/// `GET /v1/model` for a recommender.
pub(crate) fn model_info(model: &RecModel) -> Result<Vec<u8>, ApiError> {
    let m = &model.manifest;
    serde_json::to_vec(&serde_json::json!({
        "recommender": m.config.kind.name(),
        "items": m.items.len(),
        "parameters": model.parameter_count(),
        "columns": m.columns,
        "validation": m.summary.validation,
        "format_version": m.format_version,
        "latent_version": m.latent_version,
    }))
    .map_err(|e| ApiError::internal(format!("cannot serialize: {e}")))
}
