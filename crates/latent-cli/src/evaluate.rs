//! `latent evaluate`: detection quality of a model on labelled data: ROC-AUC, PR-AUC (average
//! precision), and precision, recall and F1 of the flags at the model's threshold.

use crate::data;
use crate::exit::BadInput;
use crate::options::Format;
use crate::output::{print_json, print_table};
use crate::score::{map_chunks, resolve_threshold, ChunkSource};
use anyhow::{Context, Result};
use clap::Args;
use latent::labels::LabelSet;
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
    /// Which label values are anomalies.
    #[command(flatten)]
    pub labels: crate::options::LabelArgs,
    /// Score and threshold overrides.
    #[command(flatten)]
    pub choice: crate::options::ScoreChoiceArgs,
    /// Table reading options.
    #[command(flatten)]
    pub table: crate::options::TableArgs,
    /// Missing values in the input: impute-mean fills them with the training mean even when
    /// the model was trained without missing values (default: the model's own policy).
    #[arg(long, value_enum)]
    pub missing: Option<crate::options::MissingArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Where the model computes.
    #[command(flatten)]
    pub device: crate::options::DeviceArg,
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

/// The label text of every row of a label column; an empty label is bad input naming its row.
pub fn label_texts(column: &Column) -> Result<Vec<String>> {
    (0..column.values.len())
        .map(|r| {
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
            Ok(text)
        })
        .collect()
}

/// Runs `latent evaluate`.
pub fn run(args: EvaluateArgs) -> Result<()> {
    let mut model = data::load_model(&args.model)?;
    if let Some(m) = args.missing {
        model.set_missing_policy(m.into());
    }
    let rule = args.labels.rule()?;
    let threshold = resolve_threshold(&model, args.choice, false)?;
    let kind = threshold.score;
    let source = ChunkSource {
        path: &args.data,
        label_column: Some(&args.label_column),
        table: &args.table,
        id_columns: &[],
    };
    let (mut scores, mut label_ids, mut label_set) = (Vec::new(), Vec::new(), LabelSet::new());
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
            let chunk_labels =
                label_texts(&column).with_context(|| format!("{}", args.data.display()))?;
            Ok((chunk_scores, chunk_labels))
        },
        |(chunk_scores, chunk_labels)| {
            scores.extend(chunk_scores);
            label_ids.extend(chunk_labels.iter().map(|l| label_set.push(l)));
            Ok(())
        },
    )?;
    if scores.is_empty() {
        return Err(BadInput(format!("{}: no data rows", args.data.display())).into());
    }
    let anomalous = label_set.resolve(&rule).with_context(|| {
        format!("{}: label column \"{}\"", args.data.display(), args.label_column)
    })?;
    let labels: Vec<bool> = label_ids.iter().map(|&i| anomalous[i as usize]).collect();
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
