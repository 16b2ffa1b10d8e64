//! `latent eval`: reconstruction error over a data file.

use crate::args::{EvalArgs, Format};
use crate::data;
use crate::data::in_file;
use crate::output::{print_json, print_table};
use anyhow::{Context, Result};
use serde::Serialize;

/// Reconstruction error statistics, per row in the model's input space (after scaling),
/// averaged over features.
#[derive(Serialize, Debug)]
pub struct EvalReport {
    /// Rows evaluated.
    pub rows: usize,
    /// Mean of the per-row MSE.
    pub mse_mean: f64,
    /// Median of the per-row MSE.
    pub mse_median: f64,
    /// 95th percentile of the per-row MSE.
    pub mse_p95: f64,
    /// Mean of the per-row MAE.
    pub mae_mean: f64,
    /// The training loss of the model.
    pub loss: latent::Loss,
}

/// Runs `latent eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let errors = model.row_errors(&dataset.frame).with_context(|| in_file(&dataset))?;
    print_report(&EvalReport::from_errors(&errors, model.manifest().model().loss), args.format)
}

impl EvalReport {
    /// Statistics of per-row errors.
    pub fn from_errors(errors: &latent::RowErrors, loss: latent::Loss) -> Self {
        EvalReport {
            rows: errors.mse.len(),
            mse_mean: mean(&errors.mse),
            mse_median: quantile(&errors.mse, 0.5),
            mse_p95: quantile(&errors.mse, 0.95),
            mae_mean: mean(&errors.mae),
            loss,
        }
    }
}

/// Prints an error report as a table or one JSON object.
pub fn print_report(report: &EvalReport, format: Format) -> Result<()> {
    match format {
        Format::Json => print_json(report),
        Format::Table => print_table(&[
            ("rows", report.rows.to_string()),
            ("mse_mean", format!("{:.6}", report.mse_mean)),
            ("mse_median", format!("{:.6}", report.mse_median)),
            ("mse_p95", format!("{:.6}", report.mse_p95)),
            ("mae_mean", format!("{:.6}", report.mae_mean)),
        ]),
    }
}

/// Arithmetic mean (0 for no values).
pub fn mean(v: &[f32]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
}

/// Linear-interpolated quantile `q` in [0, 1] (0 for no values).
pub fn quantile(v: &[f32], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s: Vec<f32> = v.to_vec();
    s.sort_by(f32::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    f64::from(s[lo]) * (1.0 - frac) + f64::from(s[hi]) * frac
}
