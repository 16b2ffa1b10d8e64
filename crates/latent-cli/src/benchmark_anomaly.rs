//! `latent benchmark-anomaly`: ADBench's unsupervised setting on every CSV of a folder — fit on
//! all rows without their labels, score every row, ROC-AUC and PR-AUC against the labels, mean
//! over seeds — for the default detector and, in the same run, two baselines: PCA
//! reconstruction error and an Isolation Forest.
//!
//! The default detector is what `latent train --preset anomaly` saves ([`FitConfig::anomaly`]):
//! an autoencoder with the forest detector (an Isolation Forest over each row's per-feature
//! residuals and inputs). The autoencoder's own reconstruction error is reported beside it. PCA
//! keeps as many components as the autoencoder's code is wide and scores by reconstruction MSE
//! in the same standardised space; the Isolation Forest has the paper's defaults (100 trees,
//! 256 rows per tree) on the same inputs.

use crate::args::Format;
use crate::evaluate::label_texts;
use crate::exit::BadInput;
use crate::output::{print_json, print_line};
use anyhow::{Context, Result};
use clap::Args;
use latent::iforest::{IForestConfig, IsolationForest};
use latent::metrics::{average_precision, roc_auc};
use latent::pca::Pca;
use latent::score::{row_scores, ScoreKind};
use latent::train::Silent;
use latent::{FitConfig, Model, Scaling};
use latent_data::LoadOptions;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `latent benchmark-anomaly`.
#[derive(Args, Debug)]
pub struct BenchmarkAnomalyArgs {
    /// Folder of labelled CSV files (every *.csv and *.csv.gz is one data set).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// The label column of every file.
    #[arg(long, default_value = "label", value_name = "NAME")]
    pub label_column: String,
    /// Which label values are anomalies.
    #[command(flatten)]
    pub labels: crate::args::LabelArgs,
    /// Seeds per data set (0, 1, ...); results are means over them.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub seeds: u64,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Override the autoencoder's training epochs.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Override the autoencoder's code width.
    #[arg(long, value_name = "N")]
    pub latent: Option<usize>,
    /// Override the autoencoder's hidden layer sizes.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub hidden: Option<Vec<usize>>,
    /// Override the learning rate.
    #[arg(long, value_name = "F")]
    pub lr: Option<f32>,
    /// Override the weight decay.
    #[arg(long, value_name = "F")]
    pub weight_decay: Option<f32>,
    /// Override the hidden-layer activation.
    #[arg(long, value_enum)]
    pub activation: Option<crate::args::ActivationArg>,
    /// Override the dropout.
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// Override the batch size.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Override the scaling of numeric columns.
    #[arg(long, value_enum)]
    pub scale: Option<crate::args::ScaleArg>,
    /// Train the autoencoder on corrupted inputs (gaussian:SIGMA, mask:P, salt-pepper:P).
    #[arg(long, value_name = "KIND:V")]
    pub corruption: Option<String>,
    /// The autoencoder's score.
    #[arg(long, value_enum, default_value = "mse")]
    pub score: crate::score::ScoreArg,
    /// Only the data sets whose file name contains one of these (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub only: Vec<String>,
    /// Override the detector (reconstruction: the autoencoder's error alone).
    #[arg(long, value_enum)]
    pub detector: Option<crate::args::DetectorArg>,
    /// Accepted for older scripts: the autoencoder + Isolation Forest detector this flag used
    /// to add is now the default detector, always measured.
    #[arg(long, hide = true)]
    pub hybrid: bool,
}

/// One method's mean results on one data set.
#[derive(Serialize, Debug, Clone, Copy, Default)]
pub struct MethodResult {
    /// Mean ROC-AUC over seeds.
    pub roc_auc: f64,
    /// Mean PR-AUC (average precision) over seeds.
    pub pr_auc: f64,
    /// Mean wall time of one fit and score, in seconds.
    pub seconds: f64,
}

/// Results on one data set.
#[derive(Serialize, Debug)]
pub struct DatasetResult {
    /// File name without extension.
    pub dataset: String,
    /// Rows.
    pub rows: usize,
    /// Feature columns.
    pub dims: usize,
    /// Share of anomalies.
    pub anomaly_share: f64,
    /// The autoencoder's layer widths.
    pub architecture: String,
    /// The default detector (autoencoder + Isolation Forest on its residuals and inputs).
    pub detector: MethodResult,
    /// The autoencoder's reconstruction error alone.
    pub autoencoder: MethodResult,
    /// PCA reconstruction error with as many components as the code width.
    pub pca: MethodResult,
    /// Isolation Forest.
    pub iforest: MethodResult,
}

/// The whole benchmark.
#[derive(Serialize, Debug)]
pub struct BenchmarkReport {
    /// Seeds per data set.
    pub seeds: u64,
    /// The autoencoder settings (before sizes are resolved from each data set's width).
    pub config: FitConfig,
    /// Per data set.
    pub datasets: Vec<DatasetResult>,
    /// Means over the data sets.
    pub mean: Means,
}

/// Means over the data sets.
#[derive(Serialize, Debug, Default)]
pub struct Means {
    /// The default detector.
    pub detector: MethodResult,
    /// Autoencoder.
    pub autoencoder: MethodResult,
    /// PCA.
    pub pca: MethodResult,
    /// Isolation Forest.
    pub iforest: MethodResult,
}

fn config_for(args: &BenchmarkAnomalyArgs, seed: u64) -> Result<FitConfig> {
    let mut c = FitConfig::anomaly();
    c.train.seed = seed;
    if let Some(d) = args.detector {
        c.detector = d.into();
    }
    if let Some(spec) = &args.corruption {
        c.objective.corruption = crate::family::parse_corruption(spec)?;
    }
    if let Some(e) = args.epochs {
        c.train.epochs = e;
        c.train.min_steps = 0;
    }
    if args.latent.is_some() {
        c.model.latent = args.latent;
    }
    if args.hidden.is_some() {
        c.model.hidden = args.hidden.clone();
    }
    if let Some(lr) = args.lr {
        c.train.optimizer.lr = lr;
    }
    if let Some(w) = args.weight_decay {
        c.train.optimizer.weight_decay = w;
    }
    if let Some(a) = args.activation {
        c.model.activation = match a {
            crate::args::ActivationArg::Relu => latent::Activation::Relu,
            crate::args::ActivationArg::LeakyRelu => latent::Activation::LeakyRelu,
            crate::args::ActivationArg::Tanh => latent::Activation::Tanh,
            crate::args::ActivationArg::Gelu => latent::Activation::Gelu,
        };
    }
    if let Some(d) = args.dropout {
        c.model.dropout = d;
    }
    if let Some(b) = args.batch_size {
        c.train.batch_size = b;
    }
    if let Some(s) = args.scale {
        c.preprocess.scaling = match s {
            crate::args::ScaleArg::Auto => Scaling::Auto,
            crate::args::ScaleArg::Standard => Scaling::Standard,
            crate::args::ScaleArg::Minmax => Scaling::MinMax,
            crate::args::ScaleArg::None => Scaling::None,
        };
    }
    Ok(c)
}

fn data_files(dir: &Path, only: &[String]) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
            (n.ends_with(".csv") || n.ends_with(".csv.gz"))
                && (only.is_empty() || only.iter().any(|o| n.contains(&o.to_lowercase())))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(BadInput(format!("{}: no CSV files", dir.display())).into());
    }
    Ok(files)
}

fn dataset_name(p: &Path) -> String {
    let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = n.strip_suffix(".gz").unwrap_or(&n);
    n.strip_suffix(".csv").unwrap_or(n).to_string()
}

fn rank_metrics(scores: &[f32], labels: &[bool]) -> (f64, f64) {
    (
        roc_auc(scores, labels).unwrap_or(f64::NAN),
        average_precision(scores, labels).unwrap_or(f64::NAN),
    )
}

/// Runs one data set.
fn run_dataset(args: &BenchmarkAnomalyArgs, path: &Path) -> Result<DatasetResult> {
    let opts =
        LoadOptions { label_column: Some(args.label_column.clone()), ..LoadOptions::default() };
    let ds = latent_data::load(path, &opts)?;
    let column = ds.labels.as_ref().ok_or_else(|| {
        BadInput(format!("{}: no label column \"{}\"", path.display(), args.label_column))
    })?;
    let texts = label_texts(column).with_context(|| path.display().to_string())?;
    let (labels, _) = latent::labels::anomaly_flags(&texts, &args.labels.rule()?)
        .with_context(|| format!("{}: label column \"{}\"", path.display(), args.label_column))?;
    let seeds = args.seeds.max(1);
    let [mut detector, mut ae, mut forest] = [MethodResult::default(); 3];
    let mut arch = String::new();
    let mut code_width = 0;
    let mut inputs: Option<(Vec<f32>, usize)> = None;
    let add = |m: &mut MethodResult, scores: &[f32], started: Instant| {
        let (roc, pr) = rank_metrics(scores, &labels);
        m.roc_auc += roc;
        m.pr_auc += pr;
        m.seconds += started.elapsed().as_secs_f64();
    };
    for seed in 0..seeds {
        let t = Instant::now();
        let model = Model::fit(&ds.frame, &config_for(args, seed)?, &mut Silent)
            .with_context(|| path.display().to_string())?;
        let x = model.inputs(&ds.frame)?;
        let w = model.preprocessor().output_width();
        let fitted = t.elapsed();
        let scores = model.score_inputs(&x, args.score.into())?;
        add(&mut ae, &scores, t);
        let t = Instant::now() - fitted;
        let scores = match model.forest() {
            Some(_) => model.score_inputs(&x, ScoreKind::Forest)?,
            None => scores,
        };
        add(&mut detector, &scores, t);
        if seed == 0 {
            arch = model.layer_widths().iter().map(usize::to_string).collect::<Vec<_>>().join("-");
            code_width = model.code_width();
            inputs = Some((x, w));
        }
        let (x, w) = inputs.as_ref().map(|(x, w)| (x.as_slice(), *w)).unwrap_or((&[], 1));
        let t = Instant::now();
        let f = IsolationForest::fit(x, w, &IForestConfig { seed, ..IForestConfig::default() })?;
        add(&mut forest, &f.score(x), t);
    }
    for m in [&mut detector, &mut ae, &mut forest] {
        m.roc_auc /= seeds as f64;
        m.pr_auc /= seeds as f64;
        m.seconds /= seeds as f64;
    }
    // PCA is deterministic: one fit.
    let (x, w) = inputs.as_ref().map(|(x, w)| (x.as_slice(), *w)).unwrap_or((&[], 1));
    let t = Instant::now();
    let pca = Pca::fit(x, w, code_width.clamp(1, w))?;
    let scores = row_scores(x, &pca.reconstruct(x), w, ScoreKind::Mse);
    let (roc, pr) = rank_metrics(&scores, &labels);
    let pca = MethodResult { roc_auc: roc, pr_auc: pr, seconds: t.elapsed().as_secs_f64() };
    let anomalies = labels.iter().filter(|&&l| l).count();
    Ok(DatasetResult {
        dataset: dataset_name(path),
        rows: ds.frame.rows(),
        dims: ds.frame.width(),
        anomaly_share: anomalies as f64 / labels.len().max(1) as f64,
        architecture: arch,
        detector,
        autoencoder: ae,
        pca,
        iforest: forest,
    })
}

/// One data set's line of the table.
fn table_row(name: &str, rows: &str, dims: &str, r: &DatasetResult) -> String {
    let methods = [&r.detector, &r.autoencoder, &r.pca, &r.iforest];
    format!("{name:<14} {rows:>6} {dims:>5}  {}", metric_columns(methods))
}

/// ROC-AUC then PR-AUC of each method (detector, AE, PCA, IForest), as table columns.
fn metric_columns(methods: [&MethodResult; 4]) -> String {
    let column = |f: fn(&MethodResult) -> f64| {
        methods.iter().map(|m| format!("{:>9.4}", f(m))).collect::<Vec<_>>().join("")
    };
    format!("{}  {}", column(|m| m.roc_auc), column(|m| m.pr_auc))
}

/// Runs `latent benchmark-anomaly`.
pub fn run(args: BenchmarkAnomalyArgs) -> Result<()> {
    if let Some(out) = &args.out {
        latent_data::atomic::check_destination(out)?;
    }
    let files = data_files(&args.data_dir, &args.only)?;
    let mut datasets = Vec::with_capacity(files.len());
    let table = args.format == Format::Table;
    if table {
        let names = ["AE+IF", "AE", "PCA", "IF"];
        let column = |metric: &str| {
            names.iter().map(|n| format!("{:>9}", format!("{n} {metric}"))).collect::<String>()
        };
        print_line(&format!(
            "{:<14} {:>6} {:>5}  {}  {}",
            "dataset",
            "rows",
            "dims",
            column("roc"),
            column("pr")
        ))?;
    }
    let bar = crate::progress::job_bar(args.quiet, Some(files.len() as u64), "data sets");
    for f in &files {
        bar.set_message(
            f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        );
        let r = run_dataset(&args, f)?;
        bar.inc(1);
        if table {
            let line = table_row(&r.dataset, &r.rows.to_string(), &r.dims.to_string(), &r);
            bar.suspend(|| print_line(&line))?;
        }
        datasets.push(r);
    }
    bar.finish_and_clear();
    let n = datasets.len().max(1) as f64;
    let mean = |f: &dyn Fn(&DatasetResult) -> MethodResult| {
        let mut m = MethodResult::default();
        for d in &datasets {
            let r = f(d);
            m.roc_auc += r.roc_auc / n;
            m.pr_auc += r.pr_auc / n;
            m.seconds += r.seconds / n;
        }
        m
    };
    let means = Means {
        detector: mean(&|d| d.detector),
        autoencoder: mean(&|d| d.autoencoder),
        pca: mean(&|d| d.pca),
        iforest: mean(&|d| d.iforest),
    };
    if table {
        let methods = [&means.detector, &means.autoencoder, &means.pca, &means.iforest];
        print_line(&format!("{:<14} {:>6} {:>5}  {}", "mean", "", "", metric_columns(methods)))?;
    }
    let report = BenchmarkReport {
        seeds: args.seeds.max(1),
        config: config_for(&args, 0)?,
        datasets,
        mean: means,
    };
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&report)?;
        crate::output::write_file(out, (json + "\n").as_bytes())?;
    }
    if !table {
        print_json(&report)?;
    }
    Ok(())
}
