//! `latent eval`: reconstruction error over a data file.

use crate::args::EvalArgs;
use crate::data;
use crate::data::in_file;
use crate::options::Format;
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
    /// Mean activation of the code units (deterministic models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_mean_activation: Option<f64>,
    /// Share of code activations with |a| < 0.05 (deterministic models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_near_zero_share: Option<f64>,
    /// Evidence lower bound per example in nats (variational models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elbo: Option<f64>,
    /// IWAE negative log-likelihood per example in nats (variational models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nll: Option<f64>,
    /// Importance samples behind `nll`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iw_samples: Option<usize>,
    /// PSNR (dB, peak 1) of the noisy inputs against the clean ones (`--noise-sigma`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psnr_noisy: Option<f64>,
    /// PSNR (dB, peak 1) of the denoised rows against the clean ones (`--noise-sigma`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psnr_denoised: Option<f64>,
}

/// Runs `latent eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let x = model.inputs(&dataset.frame).with_context(|| in_file(&dataset))?;
    let width = model.preprocessor().output_width();
    let mut errors = latent::RowErrors::default();
    errors.extend(&model.reconstruct_inputs(&x)?.data, &x, width);
    let mut report = EvalReport::from_errors(&errors, model.manifest().model().loss);
    if model.is_variational() {
        let x = if model.manifest().config.objective.binarize {
            latent::model::variational::binarize(&x, args.seed)
        } else {
            x.clone()
        };
        let b = model.bounds(&x, args.iw_samples, args.seed)?;
        report.elbo = Some(b.elbo);
        report.nll = Some(b.nll);
        report.iw_samples = Some(b.samples);
    } else {
        let codes = model.encode_inputs(&x)?.data;
        report.code_mean_activation = Some(mean(&codes));
        let near_zero = codes.iter().filter(|a| a.abs() < 0.05).count();
        report.code_near_zero_share = Some(near_zero as f64 / codes.len().max(1) as f64);
    }
    if let Some(sigma) = args.noise_sigma {
        let noisy = latent::objective::noisy_unit(&x, sigma, args.seed);
        let denoised = model.reconstruct_inputs(&noisy)?.data;
        report.psnr_noisy = Some(mean_psnr(&noisy, &x, width));
        report.psnr_denoised = Some(mean_psnr(&denoised, &x, width));
    }
    print_report(&report, args.format)
}

/// Mean over rows of `10 log10(1 / MSE)`.
fn mean_psnr(y: &[f32], x: &[f32], width: usize) -> f64 {
    let mut e = latent::RowErrors::default();
    e.extend(y, x, width);
    let psnr: Vec<f32> = e.mse.iter().map(|&m| 10.0 * (1.0 / m.max(1e-10)).log10()).collect();
    mean(&psnr)
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
            code_mean_activation: None,
            code_near_zero_share: None,
            elbo: None,
            nll: None,
            iw_samples: None,
            psnr_noisy: None,
            psnr_denoised: None,
        }
    }
}

/// Prints an error report as a table or one JSON object.
pub fn print_report(report: &EvalReport, format: Format) -> Result<()> {
    match format {
        Format::Json => print_json(report),
        Format::Table => print_table(
            &[
                ("rows", report.rows.to_string()),
                ("mse_mean", format!("{:.6}", report.mse_mean)),
                ("mse_median", format!("{:.6}", report.mse_median)),
                ("mse_p95", format!("{:.6}", report.mse_p95)),
                ("mae_mean", format!("{:.6}", report.mae_mean)),
            ]
            .into_iter()
            .chain(optional_rows(report))
            .collect::<Vec<_>>(),
        ),
    }
}

/// Table rows of the family-specific metrics present in the report.
fn optional_rows(r: &EvalReport) -> Vec<(&'static str, String)> {
    let f = |name, v: Option<f64>| v.map(|v| (name, format!("{v:.4}")));
    [
        f("code_mean_activation", r.code_mean_activation),
        f("code_near_zero_share", r.code_near_zero_share),
        f("elbo", r.elbo),
        f("nll", r.nll),
        r.iw_samples.map(|k| ("iw_samples", k.to_string())),
        f("psnr_noisy", r.psnr_noisy),
        f("psnr_denoised", r.psnr_denoised),
    ]
    .into_iter()
    .flatten()
    .collect()
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
