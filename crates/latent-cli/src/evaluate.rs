//! `latent evaluate`: detection quality of a model on labelled data: ROC-AUC, PR-AUC (average
//! precision), and precision, recall and F1 of the flags at the model's threshold.

use crate::args::Format;
use crate::data;
use crate::exit::BadInput;
use crate::output::{print_json, print_table};
use crate::score::{map_chunks, resolve_threshold, ChunkSource, ScoreArg};
use anyhow::{Context, Result};
use clap::Args;
use latent::metrics::{average_precision, roc_auc, Confusion};
use latent::{Column, ColumnValues};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `latent evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Labelled data: a CSV file (or .csv.gz), `-` for standard input (CSV or JSON lines), or
    /// NPY/NPZ/IDX/an image folder with labels.
    #[arg(long, value_name = "PATH|-")]
    pub data: PathBuf,
    /// The label column.
    #[arg(long, value_name = "NAME")]
    pub label_column: String,
    /// Label values of normal rows (comma separated); every other value is an anomaly.
    /// Default: 0, "0", "normal" and "normal." are normal.
    #[arg(long, value_delimiter = ',', value_name = "VALUE")]
    pub normal_label: Vec<String>,
    /// Flag rows above this score instead of the model's calibrated threshold.
    #[arg(long, value_name = "V")]
    pub threshold: Option<f32>,
    /// The score (default: the one the model's threshold was calibrated on).
    #[arg(long, value_enum)]
    pub score: Option<ScoreArg>,
    /// Columns to read as categories besides the model's own categorical columns.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categorical: Vec<String>,
    /// CSV field delimiter (one character; `\t` for tab).
    #[arg(long, default_value = ",", value_name = "CHAR")]
    pub delimiter: String,
    /// The CSV has no header row (columns are named col0, col1, ...).
    #[arg(long)]
    pub no_header: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Detection metrics of one model on one labelled data set.
#[derive(Serialize, Debug)]
pub struct EvaluateReport {
    /// Area under the ROC curve (`null` when the labels hold one class only).
    pub roc_auc: Option<f64>,
    /// Area under the precision-recall curve, as average precision (`null` without anomalies).
    pub pr_auc: Option<f64>,
    /// Share of flagged rows that are anomalies.
    pub precision: f64,
    /// Share of anomalies flagged.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows evaluated.
    pub rows: usize,
    /// Anomalous rows according to the labels.
    pub anomalies: usize,
    /// Rows flagged by the threshold.
    pub flagged: usize,
    /// The threshold used.
    pub threshold: f32,
    /// The score used (`mse` or `mae`).
    pub score: latent::score::ScoreKind,
    /// Flag counts against the labels.
    pub confusion: Confusion,
}

/// True for values that mean "normal" by default.
fn default_normal(text: &str) -> bool {
    let t = text.trim();
    matches!(t.to_ascii_lowercase().as_str(), "normal" | "normal.")
        || t.parse::<f64>().is_ok_and(|x| x == 0.0)
}

/// Turns a label column into anomaly flags: a value in `normal` (or, when `normal` is empty,
/// 0 / "0" / "normal" / "normal.") is normal, every other value an anomaly. Missing labels are
/// bad input.
pub fn anomaly_labels(column: &Column, normal: &[String]) -> Result<Vec<bool>> {
    let is_normal = |text: &str| -> bool {
        if normal.is_empty() {
            return default_normal(text);
        }
        normal.iter().any(|n| {
            n.trim() == text.trim()
                || matches!((n.trim().parse::<f64>(), text.trim().parse::<f64>()),
                            (Ok(a), Ok(b)) if a == b)
        })
    };
    let n = column.values.len();
    let mut out = Vec::with_capacity(n);
    for r in 0..n {
        let text = match &column.values {
            ColumnValues::Numeric(v) if v[r].is_nan() => String::new(),
            values => values.cell_text(r),
        };
        if text.trim().is_empty() {
            return Err(BadInput(format!(
                "row {}: label column \"{}\" is empty",
                r + 1,
                column.name
            ))
            .into());
        }
        out.push(!is_normal(&text));
    }
    Ok(out)
}

/// Runs `latent evaluate`.
pub fn run(args: EvaluateArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let threshold = resolve_threshold(&model, args.score, args.threshold, false)?;
    let kind = threshold.score;
    let source = ChunkSource {
        path: &args.data,
        label_column: Some(&args.label_column),
        categorical: &args.categorical,
        delimiter: &args.delimiter,
        no_header: args.no_header,
    };
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    map_chunks(
        &model,
        &source,
        |chunk| {
            let x = model.inputs(&chunk.frame).with_context(|| {
                format!("{}: in the rows from line {}", args.data.display(), chunk.first_line)
            })?;
            let chunk_scores = model.score_inputs(&x, kind)?;
            let column = chunk.labels.ok_or_else(|| {
                BadInput(format!(
                    "{}: no label column \"{}\"",
                    args.data.display(),
                    args.label_column
                ))
            })?;
            let chunk_labels = anomaly_labels(&column, &args.normal_label)
                .with_context(|| format!("{}", args.data.display()))?;
            Ok((chunk_scores, chunk_labels))
        },
        |(chunk_scores, chunk_labels)| {
            scores.extend(chunk_scores);
            labels.extend(chunk_labels);
            Ok(())
        },
    )?;
    if scores.is_empty() {
        return Err(BadInput(format!("{}: no data rows", args.data.display())).into());
    }
    let flags: Vec<bool> = scores.iter().map(|&s| threshold.is_anomaly(s)).collect();
    let confusion = Confusion::new(&flags, &labels);
    let report = EvaluateReport {
        roc_auc: roc_auc(&scores, &labels),
        pr_auc: average_precision(&scores, &labels),
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        rows: scores.len(),
        anomalies: labels.iter().filter(|&&l| l).count(),
        flagged: flags.iter().filter(|&&f| f).count(),
        threshold: threshold.value,
        score: kind,
        confusion,
    };
    match args.format {
        Format::Json => print_json(&report),
        Format::Table => {
            let opt = |v: Option<f64>| v.map_or("n/a (one class)".into(), |v| format!("{v:.4}"));
            print_table(&[
                ("rows", report.rows.to_string()),
                ("anomalies", report.anomalies.to_string()),
                ("flagged", report.flagged.to_string()),
                ("threshold", format!("{} ({})", report.threshold, kind.name())),
                ("roc_auc", opt(report.roc_auc)),
                ("pr_auc", opt(report.pr_auc)),
                ("precision", format!("{:.4}", report.precision)),
                ("recall", format!("{:.4}", report.recall)),
                ("f1", format!("{:.4}", report.f1)),
            ])
        }
    }
}
