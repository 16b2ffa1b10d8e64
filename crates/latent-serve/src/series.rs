//! `POST /v1/series/score`: the causal scores of a window of recent points under a
//! time-series model (`latent train --window W`), the same numbers `latent score` writes.
//!
//! Body: `{"points": [[v, ...], ...], "explain": k}` — the recent points, oldest first, one
//! value per value column of the model (a plain number for a one-column model). Answer: one
//! entry per point: `scores` and `is_anomaly` are `null` for the first `window − 1` points
//! (no full window yet), then the score of the window ending at the point.

use crate::request::Schema;
use crate::ApiError;
use latent::score::ScoreKind;
use latent::series::score::score_windows;
use latent::series::window;
use latent::Model;
use serde::{Deserialize, Serialize};

/// One point: a number for a one-column series, else one value per column.
#[derive(Deserialize)]
#[serde(untagged)]
enum PointIn {
    One(f32),
    Many(Vec<f32>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesRequest {
    points: Vec<PointIn>,
    #[serde(default)]
    explain: Option<usize>,
}

#[derive(Serialize)]
struct Contribution {
    column: String,
    share: f32,
}

#[derive(Serialize)]
struct SeriesResponse {
    window: usize,
    scores: Vec<Option<f32>>,
    is_anomaly: Vec<Option<bool>>,
    threshold: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanations: Option<Vec<Option<Vec<Contribution>>>>,
}

/// The blocking work of `POST /v1/series/score`. Returns the JSON answer and the number of
/// scored points.
pub(crate) fn score(
    model: &Model,
    _schema: &Schema,
    body: &[u8],
) -> Result<(Vec<u8>, usize), ApiError> {
    let spec = model.manifest().series.as_ref().ok_or_else(|| {
        ApiError::unprocessable(
            "the model is not a time-series model (train it with latent train --window W)",
        )
    })?;
    let req: SeriesRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
    if req.explain == Some(0) {
        return Err(ApiError::unprocessable("\"explain\" must be at least 1"));
    }
    let c = spec.columns.len();
    let mut values = Vec::with_capacity(req.points.len() * c);
    for (i, p) in req.points.iter().enumerate() {
        let v = match p {
            PointIn::One(v) => std::slice::from_ref(v),
            PointIn::Many(v) => v.as_slice(),
        };
        if v.len() != c {
            return Err(ApiError::unprocessable(format!(
                "point {i} has {} values; the model reads {c} ({})",
                v.len(),
                spec.columns.join(", ")
            )));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(ApiError::unprocessable(format!("point {i} has a non-finite value")));
        }
        values.extend_from_slice(v);
    }
    let n = req.points.len();
    if n < spec.window {
        return Err(ApiError::unprocessable(format!(
            "{n} points are fewer than one window of {}",
            spec.window
        )));
    }
    let threshold = model.threshold();
    let kind = threshold.map_or(ScoreKind::Mse, |t| t.score);
    let windows =
        window::windows(&values, c, spec.window, 1).map_err(|e| ApiError::from_latent(&e))?;
    let frame = spec.frame_of_windows(windows).map_err(|e| ApiError::from_latent(&e))?;
    let sw = score_windows(model, &frame, kind).map_err(|e| ApiError::from_latent(&e))?;
    let lead = spec.window - 1;
    let scores: Vec<Option<f32>> =
        std::iter::repeat_n(None, lead).chain(sw.scores.iter().map(|&s| Some(s))).collect();
    let is_anomaly =
        scores.iter().map(|s| s.and_then(|s| threshold.map(|t| t.is_anomaly(s)))).collect();
    let explanations = req.explain.map(|k| {
        let mut out: Vec<Option<Vec<Contribution>>> =
            std::iter::repeat_with(|| None).take(lead).collect();
        out.extend((0..sw.scores.len()).map(|i| {
            let top = sw.explain(spec, i, k);
            Some(
                top.into_iter()
                    .map(|e| Contribution { column: e.column, share: e.share })
                    .collect(),
            )
        }));
        out
    });
    let threshold = threshold.map(|t| t.value);
    let out = SeriesResponse { window: spec.window, scores, is_anomaly, threshold, explanations };
    let json = serde_json::to_vec(&out)
        .map_err(|e| ApiError::internal(format!("cannot serialize: {e}")))?;
    Ok((json, n + 1 - spec.window))
}
