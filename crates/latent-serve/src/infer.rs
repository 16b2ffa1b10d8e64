//! The blocking work of each `/v1` call: parse the rows, run the model, serialize the answer.
//! Runs on tokio's blocking pool (see `handlers::run_job`).

use crate::request::Schema;
use crate::ApiError;
use latent::score::explain_rows;
use latent::{ColumnValues, Model};
use serde::Serialize;

/// Answer of `POST /v1/score`.
#[derive(Serialize)]
struct ScoreResponse {
    scores: Vec<f32>,
    /// Per row: score above the threshold; `null` when the model has no threshold.
    is_anomaly: Vec<Option<bool>>,
    threshold: Option<f32>,
    /// Per row, with `"proba": true`: the score mapped to [0, 1], 0.5 at the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    proba: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanations: Option<Vec<Vec<Contribution>>>,
}

/// One column's part of a row's score.
#[derive(Serialize)]
struct Contribution {
    column: String,
    share: f32,
}

/// Answer of `POST /v1/encode`.
#[derive(Serialize)]
struct EncodeResponse<'a> {
    codes: Vec<&'a [f32]>,
}

/// A cell of a reconstructed row: a number, or a category.
#[derive(Serialize)]
#[serde(untagged)]
enum OutCell<'a> {
    Number(f32),
    Text(&'a str),
}

/// Answer of `POST /v1/reconstruct`.
#[derive(Serialize)]
struct ReconstructResponse<'a> {
    rows: Vec<Vec<OutCell<'a>>>,
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::internal(format!("cannot serialize: {e}")))
}

fn lib(err: latent::Error) -> ApiError {
    ApiError::from_latent(&err)
}

/// `POST /v1/score`: per-row anomaly scores, flags against the model's threshold, and the top
/// `explain` columns of each score. Returns the JSON answer and the number of rows.
pub(crate) fn score(
    model: &Model,
    schema: &Schema,
    body: &[u8],
) -> Result<(Vec<u8>, usize), ApiError> {
    let req = schema.parse(body, true)?;
    let rows = req.frame.rows();
    if req.explain == Some(0) {
        return Err(ApiError::unprocessable("\"explain\" must be at least 1"));
    }
    let saved = model.threshold();
    if req.proba && saved.is_none() {
        return Err(ApiError::unprocessable(
            "\"proba\" needs a model with a calibrated threshold, and this one has none",
        ));
    }
    // The model's own score: its threshold's, else its default (one rule, in the library).
    let kind = model.score_kind();
    let threshold = saved.map(|t| t.value);
    if rows == 0 {
        let explanations = req.explain.map(|_| Vec::new());
        let proba = req.proba.then(Vec::new);
        let out =
            ScoreResponse { scores: vec![], is_anomaly: vec![], threshold, proba, explanations };
        return Ok((to_json(&out)?, 0));
    }
    // One forward pass serves both the scores and the explanations.
    let x = model.inputs(&req.frame).map_err(lib)?;
    drop(req.frame);
    let (scores, y) = model.score_and_reconstruct(&x, kind).map_err(lib)?;
    let is_anomaly = scores.iter().map(|&s| threshold.map(|t| s > t)).collect();
    let explanations = req.explain.map(|k| {
        explain_rows(model, &x, &y.data, k, kind)
            .into_iter()
            .map(|row| {
                row.into_iter().map(|e| Contribution { column: e.column, share: e.share }).collect()
            })
            .collect()
    });
    let proba = saved.filter(|_| req.proba).map(|t| scores.iter().map(|&s| t.proba(s)).collect());
    Ok((to_json(&ScoreResponse { scores, is_anomaly, threshold, proba, explanations })?, rows))
}

/// `POST /v1/encode`: the latent code of every row.
pub(crate) fn encode(
    model: &Model,
    schema: &Schema,
    body: &[u8],
) -> Result<(Vec<u8>, usize), ApiError> {
    let frame = schema.parse(body, false)?.frame;
    let rows = frame.rows();
    if rows == 0 {
        return Ok((to_json(&EncodeResponse { codes: vec![] })?, 0));
    }
    let codes = model.encode(&frame).map_err(lib)?;
    let codes = codes.data.chunks_exact(codes.cols.max(1)).collect();
    Ok((to_json(&EncodeResponse { codes })?, rows))
}

/// `POST /v1/reconstruct`: every row's reconstruction in the original units and columns
/// (categorical columns as their most likely category).
pub(crate) fn reconstruct(
    model: &Model,
    schema: &Schema,
    body: &[u8],
) -> Result<(Vec<u8>, usize), ApiError> {
    let frame = schema.parse(body, false)?.frame;
    let rows = frame.rows();
    if rows == 0 {
        return Ok((to_json(&ReconstructResponse { rows: vec![] })?, 0));
    }
    let out = model.reconstruct(&frame).map_err(lib)?;
    let columns = out.columns();
    let rows_out = (0..out.rows())
        .map(|r| {
            columns
                .iter()
                .map(|c| match &c.values {
                    ColumnValues::Numeric(v) => {
                        OutCell::Number(v.get(r).copied().unwrap_or(f32::NAN))
                    }
                    ColumnValues::Text(v) => OutCell::Text(v.get(r).map_or("", String::as_str)),
                })
                .collect()
        })
        .collect();
    Ok((to_json(&ReconstructResponse { rows: rows_out })?, rows))
}

/// `GET /v1/model`: what the model is and what it takes.
pub(crate) fn model_info(model: &Model) -> Result<Vec<u8>, ApiError> {
    use latent::preprocess::ColumnTransform;
    let m = model.manifest();
    let cfg = m.model();
    let widths = model.layer_widths();
    let columns: Vec<serde_json::Value> = model
        .preprocessor()
        .columns
        .iter()
        .map(|c| match c {
            ColumnTransform::Numeric { name, .. } => {
                serde_json::json!({ "name": name, "kind": "numeric" })
            }
            ColumnTransform::OneHot { name, categories } => {
                serde_json::json!({ "name": name, "kind": "categorical", "categories": categories })
            }
        })
        .collect();
    let threshold = model.threshold().map(|t| {
        serde_json::json!({
            "value": t.value,
            "score": t.score.name(),
            "rule": t.rule,
            "flagged_share": t.flagged_share,
        })
    });
    let widths_text: Vec<String> = widths.iter().map(ToString::to_string).collect();
    to_json(&serde_json::json!({
        "architecture": widths_text.join("-"),
        "layer_widths": widths,
        "parameters": model.parameter_count(),
        "latent_size": model.code_width(),
        "input_columns": columns,
        "model_inputs": model.preprocessor().output_width(),
        "threshold": threshold,
        "activation": cfg.activation,
        "output_activation": m.output,
        "loss": cfg.loss,
        "scaling": model.preprocessor().scaling,
        "missing": model.preprocessor().missing,
        "detector": m.config.detector.name(),
        "format_version": m.format_version,
        "latent_version": m.latent_version,
    }))
}
