//! Plots of what a model learned, drawn with `plotters` as PNG and SVG: training and
//! validation loss, the score histogram (with the threshold when the model has one), ROC and
//! precision-recall curves when binary labels are given, the latent space in 2-D (first two
//! principal components of the codes, coloured by label), inputs over reconstructions for
//! image data, and for a variational model of images, samples from the prior and a latent
//! traversal.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary (plotters' `ab_glyph`
//! backend), so plots look the same on a machine without any system fonts.

mod curves;
mod histogram;
mod images;
mod latent_space;
pub mod rate_distortion;
pub mod recommend;
mod style;
mod training;

use anyhow::{Context, Result};
use latent::labels::LabelRule;
use latent::score::ScoreKind;
use latent::{metrics, ImageShape, Model, RowErrors};
use latent_data::Dataset;
use std::collections::BTreeMap;
use std::path::Path;

use curves::{pr_curve, pr_plot, roc_curve, roc_plot};
use histogram::histogram_plot;
use images::{reconstruction_plot, samples_plot, traversal_plot};
use latent_space::latent_plot;
use training::loss_plot;

/// One rendered figure, in both formats.
pub struct Plot {
    /// File stem: `loss`, `scores`, `roc`, `pr`, `latent`, `reconstructions`.
    pub name: &'static str,
    /// Caption.
    pub title: String,
    /// One sentence on how to read it.
    pub note: String,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG document.
    pub svg: String,
}

impl Plot {
    /// Writes `<name>.png` and `<name>.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        for (ext, bytes) in [("png", self.png.as_slice()), ("svg", self.svg.as_bytes())] {
            let path = dir.join(format!("{}.{ext}", self.name));
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// What to plot beyond the model itself.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    /// Treat each row as an image of this shape (for image data stored as a table); the model's
    /// own image shape is used when it has one.
    pub image: Option<ImageShape>,
    /// Which label values are anomalies (`latent::labels`): ROC and precision-recall curves
    /// are drawn when the rule applies to the labels.
    pub labels: LabelRule,
}

/// Binary-label evaluation of the scores.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BinaryEval {
    /// The positive label value.
    pub positive: String,
    /// Rows with the positive label.
    pub positives: usize,
    /// Rows in all.
    pub rows: usize,
    /// Area under the ROC curve of the scores against the labels.
    pub roc_auc: f64,
    /// Average precision (area under the precision-recall curve).
    pub average_precision: f64,
    /// Precision of the rows the saved threshold flags, when the model has a threshold.
    pub precision: Option<f64>,
    /// Recall of the saved threshold, when the model has one.
    pub recall: Option<f64>,
}

/// Everything computed for the plots, reused by the report's tables.
pub struct Analysis {
    /// The plots, in report order.
    pub plots: Vec<Plot>,
    /// Per-row reconstruction errors of the data, when data was given.
    pub errors: Option<RowErrors>,
    /// The anomaly score of every row (the kind the saved threshold applies to, else MSE),
    /// when data was given.
    pub scores: Option<(ScoreKind, Vec<f32>)>,
    /// Rows above the saved threshold, when data was given and the model has a threshold.
    pub flagged: Option<usize>,
    /// Label value counts, when the data has labels.
    pub label_counts: Option<BTreeMap<String, usize>>,
    /// ROC-AUC and average precision, when the labels are binary.
    pub binary: Option<BinaryEval>,
    /// Why a plot is missing, for the reader.
    pub notes: Vec<String>,
    /// Samples and traversal of a variational model, moved to `plots` at the end.
    vae_plots: Vec<Plot>,
}

/// Rows drawn in the latent-space scatter at most (evenly spaced over the data).
const MAX_SCATTER: usize = 5000;

/// Computes scores, curves and codes for `model` on `data` (when given) and renders every plot
/// that applies.
pub fn analyse(model: &Model, data: Option<&Dataset>, opts: &PlotOptions) -> Result<Analysis> {
    let mut a = Analysis {
        plots: vec![],
        errors: None,
        scores: None,
        flagged: None,
        vae_plots: vec![],
        label_counts: None,
        binary: None,
        notes: vec![],
    };
    match model.summary() {
        Some(s) if !s.history.is_empty() => a.plots.push(loss_plot(s)?),
        _ => a.notes.push("The model file holds no training history.".into()),
    }
    let shape = model.preprocessor().image.or(opts.image);
    let shape = shape.filter(|s| s.len() == model.preprocessor().output_width());
    if model.is_variational() {
        if let Some(shape) = shape {
            a.vae_plots.push(samples_plot(model, shape)?);
            a.vae_plots.push(traversal_plot(model, data, shape)?);
        }
    }
    let Some(data) = data else {
        a.plots.append(&mut a.vae_plots);
        return Ok(a);
    };
    let frame = &data.frame;
    let labels: Option<Vec<String>> =
        data.labels.as_ref().map(|c| (0..c.values.len()).map(|r| c.values.cell_text(r)).collect());
    if let Some(l) = &labels {
        let mut counts = BTreeMap::new();
        for v in l {
            *counts.entry(v.clone()).or_insert(0usize) += 1;
        }
        a.label_counts = Some(counts);
    }

    let in_data = || data.source.display().to_string();
    let errors = model.row_errors(frame).with_context(in_data)?;
    // The anomaly score: the kind the saved threshold applies to, else MSE.
    let threshold = model.threshold();
    let kind = threshold.map_or(ScoreKind::Mse, |t| t.score);
    let raw = match kind {
        ScoreKind::Mse => errors.mse.clone(),
        _ => model.scores(frame, kind).with_context(in_data)?,
    };
    let scores: Vec<f64> = raw.iter().map(|&v| f64::from(v)).collect();
    let binary = match &labels {
        Some(l) => binary_labels(l, &opts.labels, &mut a.notes)?,
        None => None,
    };
    a.plots.push(histogram_plot(
        &scores,
        kind,
        binary.as_ref(),
        threshold.map(|t| f64::from(t.value)),
    )?);
    if let Some((positive, truth)) = &binary {
        let roc = roc_curve(&scores, truth);
        let pr = pr_curve(&scores, truth);
        let positives = truth.iter().filter(|&&t| t).count();
        // The numbers from `latent::metrics`, as `latent evaluate` prints them.
        let auc = metrics::roc_auc(&raw, truth);
        let ap = metrics::average_precision(&raw, truth);
        if let (Some(roc), Some(pr), Some(auc), Some(ap)) = (roc, pr, auc, ap) {
            let flagged = threshold.map(|t| {
                let predicted: Vec<bool> = raw.iter().map(|&s| t.is_anomaly(s)).collect();
                metrics::Confusion::new(&predicted, truth)
            });
            a.binary = Some(BinaryEval {
                positive: positive.clone(),
                positives,
                rows: truth.len(),
                roc_auc: auc,
                average_precision: ap,
                precision: flagged.as_ref().map(metrics::Confusion::precision),
                recall: flagged.as_ref().map(metrics::Confusion::recall),
            });
            a.plots.push(roc_plot(&roc)?);
            a.plots.push(pr_plot(&pr, positives as f64 / truth.len() as f64)?);
        } else {
            a.notes.push(format!(
                "ROC and precision-recall curves need rows of both classes (label \"{positive}\" \
                 and the rest)."
            ));
        }
    }

    match latent_plot(model, data, labels.as_deref())? {
        Some(p) => a.plots.push(p),
        None => a
            .notes
            .push("The latent space plot needs a code of at least 2 dimensions and 3 rows.".into()),
    }
    match (shape, model.preprocessor().image.or(opts.image)) {
        (Some(shape), _) => {
            a.plots.push(reconstruction_plot(model, data, labels.as_deref(), shape)?);
        }
        (None, Some(shape)) => a.notes.push(format!(
            "Image shape {}x{}x{} does not match the model's {} inputs: no reconstruction grid.",
            shape.channels,
            shape.height,
            shape.width,
            model.preprocessor().output_width()
        )),
        (None, None) => {}
    }
    a.plots.append(&mut a.vae_plots);
    a.flagged = threshold.map(|t| raw.iter().filter(|&&s| t.is_anomaly(s)).count());
    a.errors = Some(errors);
    a.scores = Some((kind, raw));
    Ok(a)
}

/// Renders every plot that applies and writes each as PNG and SVG into `dir` (created when
/// missing); returns how many plots were written.
pub fn write_plots(
    model: &Model,
    data: Option<&Dataset>,
    opts: &PlotOptions,
    dir: &Path,
) -> Result<usize> {
    let analysis = analyse(model, data, opts)?;
    write_all(&analysis.plots, dir)?;
    Ok(analysis.plots.len())
}

/// Writes plots as PNG and SVG into `dir` (created when missing).
pub fn write_all(plots: &[Plot], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    plots.iter().try_for_each(|p| p.write(dir))
}

/// The anomalous class name and each row's flag, when `rule` applies to the labels. Labels whose
/// meaning is unclear under the plain rule get a note instead of curves (an explicit rule that
/// names a value no row has is an error).
fn binary_labels(
    labels: &[String],
    rule: &LabelRule,
    notes: &mut Vec<String>,
) -> Result<Option<(String, Vec<bool>)>> {
    match latent::labels::anomaly_flags(labels, rule) {
        Ok((truth, name)) => Ok(Some((name, truth))),
        Err(e) if *rule == LabelRule::Plain => {
            notes.push(format!(
                "No ROC or precision-recall curves: {e}. Name the anomalous class with \
                 --positive VALUE (or the normal ones with --normal-label)."
            ));
            Ok(None)
        }
        Err(e) => Err(crate::exit::BadInput(e.to_string()).into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn binary_labels_follow_the_one_rule() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let mut notes = vec![];
        let (name, truth) =
            binary_labels(&s(&["0", "1", "0"]), &LabelRule::Plain, &mut notes).unwrap().unwrap();
        assert_eq!((name.as_str(), truth), ("1", vec![false, true, false]));
        // M/B: no guess from the counts, a note naming the values instead.
        assert!(binary_labels(&s(&["M", "B", "B"]), &LabelRule::Plain, &mut notes)
            .unwrap()
            .is_none());
        assert!(notes[0].contains("\"M\""), "{notes:?}");
        let m = LabelRule::Anomalous(vec!["M".into()]);
        let (_, truth) = binary_labels(&s(&["M", "B", "B"]), &m, &mut notes).unwrap().unwrap();
        assert_eq!(truth, vec![true, false, false]);
        let z = LabelRule::Anomalous(vec!["z".into()]);
        assert!(binary_labels(&s(&["a"]), &z, &mut notes).is_err());
    }
}
