//! Plots of what a model learned, drawn with `plotters` as PNG and SVG: training and
//! validation loss, the score histogram (with the threshold when the model has one), ROC and
//! precision-recall curves when binary labels are given, the latent space in 2-D (first two
//! principal components of the codes, coloured by label), inputs over reconstructions for
//! image data, and for a variational model of images, samples from the prior and a latent
//! traversal.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary (plotters' `ab_glyph`
//! backend), so plots look the same on a machine without any system fonts.

use anyhow::{anyhow, Context, Result};
use latent::pca::Pca;
use latent::score::ScoreKind;
use latent::{metrics, ImageShape, Model, RowErrors, TrainSummary};
use latent_data::Dataset;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

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
    /// The label value of the positive (anomalous) class; by default a label column with two
    /// values is binary, with the rarer value (or one named like `1`, `anomaly`) positive.
    pub positive: Option<String>,
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
/// Images in the reconstruction grid at most.
const MAX_IMAGES: usize = 12;

/// Computes scores, curves and codes for `model` on `data` (when given) and renders every plot
/// that applies.
pub fn analyse(model: &Model, data: Option<&Dataset>, opts: &PlotOptions) -> Result<Analysis> {
    let mut a = Analysis {
        plots: vec![],
        errors: None,
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
        Some(l) => positive_class(l, opts.positive.as_deref())?
            .map(|p| (p.clone(), l.iter().map(|v| *v == p).collect::<Vec<bool>>())),
        None => None,
    };
    a.plots.push(histogram_plot(
        &scores,
        kind.name(),
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
    } else if labels.is_some() {
        a.notes.push(
            "ROC and precision-recall curves are drawn for binary labels (two values, or \
             --positive LABEL)."
                .into(),
        );
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

/// The positive class of a label column: `explicit` when given (it must occur), else for two
/// distinct values the one named like an anomaly, else the rarer one. `None` when not binary.
pub fn positive_class(labels: &[String], explicit: Option<&str>) -> Result<Option<String>> {
    if let Some(p) = explicit {
        if !labels.iter().any(|l| l == p) {
            return Err(crate::exit::BadInput(format!(
                "--positive \"{p}\": no row has this label"
            ))
            .into());
        }
        return Ok(Some(p.to_string()));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels {
        *counts.entry(l.as_str()).or_insert(0) += 1;
    }
    if counts.len() != 2 {
        return Ok(None);
    }
    const NAMED: [&str; 11] = [
        "1",
        "1.0",
        "true",
        "yes",
        "anomaly",
        "anomalous",
        "outlier",
        "abnormal",
        "fraud",
        "attack",
        "positive",
    ];
    if let Some((l, _)) = counts.iter().find(|(l, _)| NAMED.contains(&l.to_lowercase().as_str())) {
        return Ok(Some((*l).to_string()));
    }
    // The rarer value; on a tie the later one in sort order.
    let (l, _) = counts
        .iter()
        .min_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .ok_or_else(|| anyhow!("no labels"))?;
    Ok(Some((*l).to_string()))
}

/// A curve through the unit square and the area under it.
pub struct Curve {
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
    /// ROC-AUC (trapezoids) or average precision (steps).
    pub area: f64,
}

/// Scores sorted descending with their labels, in groups of equal scores:
/// `(true positives, false positives)` after each group.
fn cumulative(scores: &[f64], truth: &[bool]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len().min(truth.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (i, &r) in order.iter().enumerate() {
        if truth[r] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = order.get(i + 1).is_none_or(|&n| scores[n] != scores[r]);
        if last_of_group {
            out.push((tp, fp));
        }
    }
    out
}

/// ROC curve (false positive rate, true positive rate) of higher-is-positive scores; `None`
/// unless both classes occur.
pub fn roc_curve(scores: &[f64], truth: &[bool]) -> Option<Curve> {
    let steps = cumulative(scores, truth);
    let &(p, n) = steps.last()?;
    if p == 0 || n == 0 {
        return None;
    }
    let mut points = vec![(0.0, 0.0)];
    points.extend(steps.iter().map(|&(tp, fp)| (fp as f64 / n as f64, tp as f64 / p as f64)));
    let area = points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
    Some(Curve { points, area })
}

/// Precision-recall curve (recall, precision); the area is the average precision.
/// `None` unless both classes occur.
pub fn pr_curve(scores: &[f64], truth: &[bool]) -> Option<Curve> {
    let steps = cumulative(scores, truth);
    let &(p, n) = steps.last()?;
    if p == 0 || n == 0 {
        return None;
    }
    let mut points = Vec::with_capacity(steps.len() + 1);
    let first_precision =
        steps.first().map_or(1.0, |&(tp, fp)| tp as f64 / (tp + fp).max(1) as f64);
    points.push((0.0, first_precision));
    let mut area = 0.0;
    let mut last_recall = 0.0;
    for &(tp, fp) in &steps {
        let recall = tp as f64 / p as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        area += (recall - last_recall) * precision;
        last_recall = recall;
        points.push((recall, precision));
    }
    Some(Curve { points, area })
}

// ---------------------------------------------------------------------------------------------
// Figures

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that draws itself on any plotters backend.
trait Figure {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto the whole area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Registers the embedded font once.
fn fonts() -> Result<()> {
    static FONTS: OnceLock<bool> = OnceLock::new();
    let ok = *FONTS.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded plot font could not be loaded"))
    }
}

/// Renders a figure to PNG and SVG.
fn render(name: &'static str, title: String, note: String, fig: &impl Figure) -> Result<Plot> {
    fonts()?;
    let (w, h) = fig.size();
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        w,
        h,
        image::ExtendedColorType::Rgb8,
    )
    .with_context(|| format!("cannot encode the {name} plot as PNG"))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw the {name} plot: {e}"))?;
    }
    Ok(Plot { name, title, note, png, svg })
}

/// Ten distinct colours (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const TRAIN_COLOUR: RGBColor = PALETTE[0];
const VAL_COLOUR: RGBColor = PALETTE[1];
const BEST_COLOUR: RGBColor = PALETTE[2];
const ALERT_COLOUR: RGBColor = PALETTE[3];
const GRID_COLOUR: RGBColor = RGBColor(236, 236, 236);
const AXIS_COLOUR: RGBColor = RGBColor(90, 90, 90);

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&RGBColor(40, 40, 40))
}

/// Short number labels: 3 significant digits, scientific for very small or large values.
fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        let digits = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// A range around `lo..hi` that is never empty.
fn padded(lo: f64, hi: f64, share: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) * 0.1 };
    (lo - span * share, hi + span * share)
}

// --- training curves -------------------------------------------------------------------------

struct LossCurves {
    train: Vec<(f64, f64)>,
    val: Vec<(f64, f64)>,
    best: usize,
}

fn loss_plot(s: &TrainSummary) -> Result<Plot> {
    let train: Vec<(f64, f64)> = s
        .history
        .iter()
        .filter(|r| r.train_loss.is_finite())
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let val: Vec<(f64, f64)> = s
        .history
        .iter()
        .filter_map(|r| r.val_loss.filter(|v| v.is_finite()).map(|v| (r.epoch as f64, v)))
        .collect();
    let note = format!(
        "Mean loss per epoch on the training rows{}; the green line marks the epoch whose \
         weights were kept (epoch {}).",
        if val.is_empty() { "" } else { " and on the held-out validation rows" },
        s.best_epoch
    );
    render("loss", "Training curves".into(), note, &LossCurves { train, val, best: s.best_epoch })
}

impl Figure for LossCurves {
    fn size(&self) -> (u32, u32) {
        (800, 450)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let ys = self.train.iter().chain(&self.val).map(|p| p.1).filter(|&v| v > 0.0);
        let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        // A log scale when the loss falls by more than 5x, else a linear one.
        if lo.is_finite() && hi > 5.0 * lo {
            self.draw_on(root, (lo / 1.15..hi * 1.15).log_scale(), "Loss per epoch (log scale)")
        } else {
            let (lo, hi) = if lo.is_finite() { padded(lo, hi, 0.08) } else { (0.0, 1.0) };
            self.draw_on(root, lo.max(0.0)..hi, "Loss per epoch")
        }
    }
}

impl LossCurves {
    fn draw_on<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
        caption: &str,
    ) -> DrawResult<DB>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let last = self.train.iter().chain(&self.val).map(|p| p.0).fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(caption, font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..last.max(2.0), y)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc("epoch")
            .y_desc("loss")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        let (lo, hi) = {
            let r = chart.y_range();
            (r.start, r.end)
        };
        let best = self.best as f64;
        chart
            .draw_series(LineSeries::new(
                vec![(best, lo), (best, hi)],
                BEST_COLOUR.stroke_width(1),
            ))?
            .label(format!("kept: epoch {}", self.best))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BEST_COLOUR));
        chart
            .draw_series(LineSeries::new(self.train.clone(), TRAIN_COLOUR.stroke_width(2)))?
            .label("train")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], TRAIN_COLOUR.stroke_width(2))
            });
        if !self.val.is_empty() {
            chart
                .draw_series(LineSeries::new(self.val.clone(), VAL_COLOUR.stroke_width(2)))?
                .label("validation")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], VAL_COLOUR.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font(font(14))
            .draw()?;
        Ok(())
    }
}

// --- score histogram -------------------------------------------------------------------------

struct Histogram {
    /// `(name, colour, share of the group's rows per bin)`.
    groups: Vec<(String, RGBColor, Vec<f64>)>,
    lo: f64,
    width: f64,
    threshold: Option<f64>,
    clipped: bool,
    /// Score name for the axis (`MSE`, `MAE`).
    kind: String,
}

const BINS: usize = 40;

/// Histogram of scores, split by binary label when given.
fn histogram_plot(
    scores: &[f64],
    kind: &str,
    binary: Option<&(String, Vec<bool>)>,
    threshold: Option<f64>,
) -> Result<Plot> {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (min, max) =
        (sorted.first().copied().unwrap_or(0.0), sorted.last().copied().unwrap_or(1.0));
    let q =
        sorted.get(((sorted.len() as f64 - 1.0) * 0.995).round() as usize).copied().unwrap_or(max);
    // A long tail would squeeze the histogram into one bin: clip at the 99.5th percentile.
    let mut hi = if max > 3.0 * q && q > min { q * 1.1 } else { max };
    let clipped = hi < max;
    if let Some(t) = threshold {
        hi = hi.max(t * 1.05);
    }
    let lo = min.min(threshold.unwrap_or(min)).min(0.0f64.max(min));
    let width = if hi > lo { (hi - lo) / BINS as f64 } else { 1.0 };
    let bin = |v: f64| (((v - lo) / width).floor().max(0.0) as usize).min(BINS - 1);
    let shares = |keep: &dyn Fn(usize) -> bool| {
        let mut counts = vec![0.0; BINS];
        let mut n = 0.0;
        for (i, &v) in scores.iter().enumerate() {
            if v.is_finite() && keep(i) {
                counts[bin(v)] += 1.0;
                n += 1.0;
            }
        }
        counts.iter_mut().for_each(|c| *c /= f64::max(n, 1.0));
        counts
    };
    let groups = match binary {
        Some((positive, truth)) => vec![
            ("other rows".to_string(), TRAIN_COLOUR, shares(&|i| !truth[i])),
            (format!("label {positive}"), ALERT_COLOUR, shares(&|i| truth[i])),
        ],
        None => vec![("rows".to_string(), TRAIN_COLOUR, shares(&|_| true))],
    };
    let mut note = format!(
        "Anomaly score per row: reconstruction error ({}) over the model inputs after scaling",
        kind.to_uppercase()
    );
    if let Some(t) = threshold {
        note += &format!("; rows right of the red line ({}) are flagged", short(t));
    }
    if binary.is_some() {
        note += ", each class scaled to its own share of rows";
    }
    if clipped {
        note += "; the long tail is clipped at the 99.5th percentile into the last bin";
    }
    note += ".";
    let fig = Histogram { groups, lo, width, threshold, clipped, kind: kind.to_uppercase() };
    render("scores", "Reconstruction error".into(), note, &fig)
}

impl Figure for Histogram {
    fn size(&self) -> (u32, u32) {
        (800, 450)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let top = self.groups.iter().flat_map(|g| g.2.iter().copied()).fold(0.0, f64::max);
        let hi = self.lo + self.width * BINS as f64;
        let mut chart = ChartBuilder::on(root)
            .caption("Reconstruction error per row", font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(self.lo..hi, 0.0..(top * 1.1).max(1e-9))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(format!("score ({}){}", self.kind, if self.clipped { ", clipped" } else { "" }))
            .y_desc("share of rows")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        for (name, colour, shares) in &self.groups {
            let colour = *colour;
            chart
                .draw_series(shares.iter().enumerate().filter(|(_, &s)| s > 0.0).map(|(i, &s)| {
                    let x0 = self.lo + i as f64 * self.width;
                    Rectangle::new([(x0, 0.0), (x0 + self.width, s)], colour.mix(0.55).filled())
                }))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
        }
        if let Some(t) = self.threshold {
            chart
                .draw_series(LineSeries::new(
                    vec![(t, 0.0), (t, top * 1.1)],
                    ALERT_COLOUR.stroke_width(2),
                ))?
                .label(format!("threshold {}", short(t)))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], ALERT_COLOUR.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font(font(14))
            .draw()?;
        Ok(())
    }
}

// --- ROC and precision-recall ----------------------------------------------------------------

struct CurveFigure {
    caption: String,
    x_desc: &'static str,
    y_desc: &'static str,
    points: Vec<(f64, f64)>,
    /// The chance line: diagonal for ROC, a level for PR.
    chance: Vec<(f64, f64)>,
}

fn roc_plot(c: &Curve) -> Result<Plot> {
    let fig = CurveFigure {
        caption: format!("ROC curve (AUC {:.3})", c.area),
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        points: c.points.clone(),
        chance: vec![(0.0, 0.0), (1.0, 1.0)],
    };
    let note = "Share of positives caught against share of other rows flagged, as the \
                threshold moves; the diagonal is chance.";
    render("roc", "ROC curve".into(), note.into(), &fig)
}

fn pr_plot(c: &Curve, prevalence: f64) -> Result<Plot> {
    let fig = CurveFigure {
        caption: format!("Precision-recall (AP {:.3})", c.area),
        x_desc: "recall",
        y_desc: "precision",
        points: c.points.clone(),
        chance: vec![(0.0, prevalence), (1.0, prevalence)],
    };
    let note = format!(
        "Precision of the flagged rows against the share of positives caught; the flat line is \
         chance (the positive share, {prevalence:.3})."
    );
    render("pr", "Precision-recall curve".into(), note, &fig)
}

impl Figure for CurveFigure {
    fn size(&self) -> (u32, u32) {
        (500, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.caption, font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            self.chance.clone(),
            RGBColor(160, 160, 160).stroke_width(1),
        ))?;
        chart.draw_series(AreaSeries::new(self.points.clone(), 0.0, TRAIN_COLOUR.mix(0.12)))?;
        chart.draw_series(LineSeries::new(self.points.clone(), TRAIN_COLOUR.stroke_width(2)))?;
        Ok(())
    }
}

// --- latent space ----------------------------------------------------------------------------

/// A labelled set of points: `(label, colour, points)`.
type Group = (String, RGBColor, Vec<(f64, f64)>);

struct Scatter {
    groups: Vec<Group>,
    x_desc: String,
    y_desc: String,
    legend: bool,
}

/// Evenly spaced row indices, at most `max`.
fn spread(rows: usize, max: usize) -> Vec<usize> {
    if rows <= max {
        (0..rows).collect()
    } else {
        (0..max).map(|i| i * rows / max).collect()
    }
}

fn latent_plot(model: &Model, data: &Dataset, labels: Option<&[String]>) -> Result<Option<Plot>> {
    let cw = model.code_width();
    let rows = spread(data.frame.rows(), MAX_SCATTER);
    if cw < 2 || rows.len() < 3 {
        return Ok(None);
    }
    let frame = data.frame.select_rows(&rows);
    let codes = model.encode(&frame).with_context(|| data.source.display().to_string())?;
    let pca = Pca::fit(&codes.data, cw, 2)?;
    let xy = pca.transform(&codes.data);
    // Share of the codes' total variance along each component.
    let n = codes.rows as f64;
    let mut total = 0.0;
    for c in 0..cw {
        let col = codes.data.iter().skip(c).step_by(cw).map(|&v| f64::from(v));
        let mean = col.clone().sum::<f64>() / n;
        total += col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    }
    let share = |i: usize| {
        pca.variances.get(i).map_or(0.0, |&v| 100.0 * f64::from(v) / total.max(f64::MIN_POSITIVE))
    };
    let point = |i: usize| (f64::from(xy[2 * i]), f64::from(xy[2 * i + 1]));
    let mut groups: Vec<Group> = Vec::new();
    let mut legend = true;
    let mut note = format!(
        "The {cw}-dimensional codes of {} rows projected on their first two principal components",
        rows.len()
    );
    match labels {
        Some(l) => {
            let picked: Vec<&String> = rows.iter().filter_map(|&r| l.get(r)).collect();
            let mut names: Vec<&String> = picked.clone();
            names.sort_by(|a, b| natural(a, b));
            names.dedup();
            if names.len() <= PALETTE.len() {
                for (k, name) in names.iter().enumerate() {
                    let pts = (0..rows.len()).filter(|&i| picked.get(i) == Some(name)).map(point);
                    groups.push(((*name).clone(), PALETTE[k], pts.collect()));
                }
                note += ", coloured by label.";
            } else {
                groups.push(("rows".into(), TRAIN_COLOUR, (0..rows.len()).map(point).collect()));
                legend = false;
                note += &format!(" ({} distinct labels: too many to colour).", names.len());
            }
        }
        None => {
            groups.push(("rows".into(), TRAIN_COLOUR, (0..rows.len()).map(point).collect()));
            legend = false;
            note += ".";
        }
    }
    let fig = Scatter {
        groups,
        x_desc: format!("PC1 ({:.0}% of code variance)", share(0)),
        y_desc: format!("PC2 ({:.0}%)", share(1)),
        legend,
    };
    Ok(Some(render("latent", "Latent space".into(), note, &fig)?))
}

/// Orders labels numerically when both are numbers, else as text.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

impl Figure for Scatter {
    fn size(&self) -> (u32, u32) {
        (800, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let all = || self.groups.iter().flat_map(|g| g.2.iter());
        let fold = |f: fn(&(f64, f64)) -> f64| {
            all().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
        };
        let (x0, x1) = fold(|p| p.0);
        let (y0, y1) = fold(|p| p.1);
        let (x0, x1) = padded(x0, x1, 0.05);
        let (y0, y1) = padded(y0, y1, 0.05);
        let plot_area = if self.legend {
            let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0 - 110);
            draw_legend(&legend, &self.groups)?;
            plot
        } else {
            root.clone()
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .caption("Latent space (PCA of the codes)", font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        for (_, colour, points) in &self.groups {
            let style = colour.mix(0.7).filled();
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, style)))?;
        }
        Ok(())
    }
}

/// A legend column: a coloured dot and the label for each group.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    groups: &[Group],
) -> DrawResult<DB> {
    area.draw(&Text::new("label", (10, 50), font(15)))?;
    for (i, (name, colour, _)) in groups.iter().enumerate() {
        let y = 80 + 24 * i as i32;
        area.draw(&Circle::new((16, y), 6, colour.filled()))?;
        let mut label = name.clone();
        if label.chars().count() > 10 {
            label = label.chars().take(9).collect::<String>() + "…";
        }
        area.draw(&Text::new(label, (30, y - 8), font(14)))?;
    }
    Ok(())
}

// --- image grids: inputs over reconstructions, VAE samples and traversals --------------------

/// Rows of images with a label on the left of each row and a caption above each column.
struct ImageGrid {
    shape: ImageShape,
    /// `(row label, images of the row, concatenated)`.
    rows: Vec<(String, Vec<f32>)>,
    captions: Vec<String>,
    lo: f32,
    hi: f32,
    scale: u32,
    left: u32,
    top: u32,
}

const GRID_GAP: u32 = 8;
const GRID_TOP: u32 = 30;

impl ImageGrid {
    /// A grid whose grey scale spans `lo..hi` of all the values shown (or of `range` when
    /// given).
    fn new(
        shape: ImageShape,
        rows: Vec<(String, Vec<f32>)>,
        captions: Vec<String>,
        range: Option<(f32, f32)>,
    ) -> ImageGrid {
        let (lo, hi) = range.unwrap_or_else(|| {
            rows.iter()
                .flat_map(|r| r.1.iter())
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)))
        });
        let (lo, hi) = if lo < hi { (lo, hi) } else { (0.0, 1.0) };
        let side = shape.height.max(shape.width).max(1) as u32;
        let scale = (64 / side).max(1);
        let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0) as u32;
        let left = if longest == 0 { GRID_GAP } else { 24 + 8 * longest };
        let top = if captions.is_empty() { GRID_GAP } else { GRID_TOP };
        ImageGrid { shape, rows, captions, lo, hi, scale, left, top }
    }

    fn cell(&self) -> (u32, u32) {
        (self.shape.width as u32 * self.scale, self.shape.height as u32 * self.scale)
    }

    fn columns(&self) -> usize {
        self.rows.iter().map(|r| r.1.len() / self.shape.len().max(1)).max().unwrap_or(0)
    }

    /// Draws image `i` of `values` with its top-left corner at `(x, y)`.
    fn image<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        values: &[f32],
        i: usize,
        (x, y): (i32, i32),
    ) -> DrawResult<DB> {
        let ImageShape { channels, height, width } = self.shape;
        let plane = height * width;
        let Some(img) = values.get(i * self.shape.len()..(i + 1) * self.shape.len()) else {
            return Ok(());
        };
        let level = |v: f32| (255.0 * ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)) as u8;
        let s = self.scale as i32;
        for r in 0..height {
            for c in 0..width {
                let p = r * width + c;
                let colour = if channels >= 3 {
                    RGBColor(level(img[p]), level(img[plane + p]), level(img[2 * plane + p]))
                } else {
                    let g = level(img[p]);
                    RGBColor(g, g, g)
                };
                let (px, py) = (x + c as i32 * s, y + r as i32 * s);
                area.draw(&Rectangle::new([(px, py), (px + s, py + s)], colour.filled()))?;
            }
        }
        Ok(())
    }
}

impl Figure for ImageGrid {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.cell();
        let n = self.columns() as u32;
        (
            self.left + n * (w + GRID_GAP) + GRID_GAP,
            self.top + self.rows.len() as u32 * (h + GRID_GAP) + 4,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, h) = self.cell();
        for (i, c) in self.captions.iter().enumerate() {
            let x = (self.left + i as u32 * (w + GRID_GAP)) as i32;
            let mut c = c.clone();
            if c.chars().count() > 8 {
                c = c.chars().take(7).collect::<String>() + "…";
            }
            root.draw(&Text::new(c, (x, 6), font(13)))?;
        }
        for (k, (label, values)) in self.rows.iter().enumerate() {
            let y = (self.top + k as u32 * (h + GRID_GAP)) as i32;
            if !label.is_empty() {
                root.draw(&Text::new(label.as_str(), (12, y + h as i32 / 2 - 8), font(15)))?;
            }
            for i in 0..values.len() / self.shape.len().max(1) {
                let x = (self.left + i as u32 * (w + GRID_GAP)) as i32;
                self.image(root, values, i, (x, y))?;
            }
        }
        Ok(())
    }
}

fn reconstruction_plot(
    model: &Model,
    data: &Dataset,
    labels: Option<&[String]>,
    shape: ImageShape,
) -> Result<Plot> {
    let rows = grid_rows(data.frame.rows(), labels);
    let frame = data.frame.select_rows(&rows);
    let inputs = model.inputs(&frame).with_context(|| data.source.display().to_string())?;
    let recons = model.reconstruct_inputs(&inputs).data;
    let range = inputs
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let captions = rows
        .iter()
        .map(|&r| labels.and_then(|l| l.get(r)).map_or(format!("row {}", r + 1), |l| l.clone()))
        .collect();
    let note = format!(
        "Top: {} inputs{}; bottom: their reconstructions, on the same grey scale.",
        rows.len(),
        if labels.is_some() { " (one per label first, captioned with the label)" } else { "" }
    );
    let fig = ImageGrid::new(
        shape,
        vec![("input".into(), inputs), ("reconstruction".into(), recons)],
        captions,
        Some(range),
    );
    render("reconstructions", "Inputs and reconstructions".into(), note, &fig)
}

/// Draws from a variational model's prior, decoded: 4 rows of 12 images.
fn samples_plot(model: &Model, shape: ImageShape) -> Result<Plot> {
    const PER_ROW: usize = 12;
    let decoded = model.sample(4 * PER_ROW, 0)?;
    let per_image = shape.len();
    let rows =
        decoded.data.chunks(PER_ROW * per_image).map(|c| (String::new(), c.to_vec())).collect();
    let fig = ImageGrid::new(shape, rows, vec![], None);
    let note = "Codes drawn from the prior N(0, I) and decoded (seed 0): what the model \
                generates."
        .to_string();
    render("samples", "Samples from the prior".into(), note, &fig)
}

/// Latent traversal: for the most active code dimensions, decode the zero code with that one
/// dimension swept from -2.5 to 2.5 (prior standard deviations).
fn traversal_plot(model: &Model, data: Option<&Dataset>, shape: ImageShape) -> Result<Plot> {
    const STEPS: usize = 9;
    const DIMS: usize = 8;
    let cw = model.code_width();
    // Order dimensions by the variance of the posterior means over the data (active units).
    let mut dims: Vec<(usize, f64)> = (0..cw).map(|d| (d, 0.0)).collect();
    if let Some(data) = data {
        let rows = spread(data.frame.rows(), MAX_SCATTER);
        let codes = model.encode(&data.frame.select_rows(&rows))?;
        for (d, v) in dims.iter_mut() {
            let col: Vec<f64> =
                codes.data.iter().skip(*d).step_by(cw).map(|&x| f64::from(x)).collect();
            let mean = col.iter().sum::<f64>() / col.len().max(1) as f64;
            *v = col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / col.len().max(1) as f64;
        }
        dims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    dims.truncate(DIMS);
    let values: Vec<f32> = (0..STEPS).map(|s| -2.5 + 5.0 * s as f32 / (STEPS - 1) as f32).collect();
    let mut rows = Vec::new();
    for &(d, _) in &dims {
        let mut codes = vec![0.0f32; STEPS * cw];
        for (s, v) in values.iter().enumerate() {
            codes[s * cw + d] = *v;
        }
        rows.push((format!("z{}", d + 1), model.decode(&codes)?.data));
    }
    let captions = values.iter().map(|v| format!("{v:+.2}")).collect();
    let note = format!(
        "Each row sweeps one code dimension from -2.5 to +2.5 with the others at 0{}.",
        if data.is_some() {
            "; dimensions ordered by how much the data's codes vary along them"
        } else {
            ""
        }
    );
    let fig = ImageGrid::new(shape, rows, captions, None);
    render("traversal", "Latent traversal".into(), note, &fig)
}

/// Rows shown in the grid: the first row of each label (when there are few labels), then
/// evenly spaced rows, `MAX_IMAGES` at most.
fn grid_rows(rows: usize, labels: Option<&[String]>) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    if let Some(l) = labels {
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        for (r, v) in l.iter().enumerate().take(rows) {
            first.entry(v.as_str()).or_insert(r);
        }
        if first.len() <= MAX_IMAGES {
            let mut pairs: Vec<(&str, usize)> = first.into_iter().collect();
            pairs.sort_by(|a, b| natural(a.0, b.0));
            picked = pairs.into_iter().map(|p| p.1).collect();
        }
    }
    for r in spread(rows, MAX_IMAGES) {
        if picked.len() >= MAX_IMAGES.min(rows) {
            break;
        }
        if !picked.contains(&r) {
            picked.push(r);
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn roc_and_pr_of_a_perfect_and_a_useless_score() {
        let truth = [false, false, true, true];
        let roc = roc_curve(&[0.1, 0.2, 0.8, 0.9], &truth).unwrap();
        assert!((roc.area - 1.0).abs() < 1e-12);
        let pr = pr_curve(&[0.1, 0.2, 0.8, 0.9], &truth).unwrap();
        assert!((pr.area - 1.0).abs() < 1e-12);
        // All scores equal: one step from (0, 0) to (1, 1).
        let roc = roc_curve(&[0.5; 4], &truth).unwrap();
        assert!((roc.area - 0.5).abs() < 1e-12);
        assert!(roc_curve(&[0.5; 2], &[true, true]).is_none());
    }

    #[test]
    fn positive_class_rules() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(positive_class(&s(&["0", "1", "0"]), None).unwrap().as_deref(), Some("1"));
        assert_eq!(positive_class(&s(&["a", "b", "a"]), None).unwrap().as_deref(), Some("b"));
        assert_eq!(positive_class(&s(&["a", "b", "c"]), None).unwrap(), None);
        assert_eq!(positive_class(&s(&["a", "b", "c"]), Some("c")).unwrap().as_deref(), Some("c"));
        assert!(positive_class(&s(&["a"]), Some("z")).is_err());
    }

    #[test]
    fn plots_render_text_without_system_fonts() {
        let fig = CurveFigure {
            caption: "ROC".into(),
            x_desc: "x",
            y_desc: "y",
            points: vec![(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)],
            chance: vec![(0.0, 0.0), (1.0, 1.0)],
        };
        let plot = render("roc", "t".into(), "n".into(), &fig).unwrap();
        let img = image::load_from_memory(&plot.png).unwrap().to_rgb8();
        // Text pixels: the caption area (top 40 rows, middle) has dark anti-aliased glyphs.
        let dark = img
            .enumerate_pixels()
            .filter(|(_, y, p)| *y < 40 && p.0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 20, "caption text not drawn ({dark} dark pixels)");
        assert!(plot.svg.starts_with("<svg"));
        assert!(plot.svg.contains("ROC"));
    }
}
