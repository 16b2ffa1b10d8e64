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

use crate::anomaly_panel::{python_scores, rust_scores, Split, PYTHON_BASELINES, RUST_BASELINES};
use crate::evaluate::label_texts;
use crate::exit::BadInput;
use crate::options::Format;
use crate::output::{print_json, print_line};
use anyhow::{Context, Result};
use clap::Args;
use latent::metrics::{average_precision, roc_auc, Confusion};
use latent::score::{Threshold, ThresholdRule};
use latent::train::Silent;
use latent::{FitConfig, Model};
use latent_data::LoadOptions;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
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
    pub labels: crate::options::LabelArgs,
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
    pub activation: Option<crate::options::ActivationArg>,
    /// Override the dropout.
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// Override the batch size.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Override the scaling of numeric columns.
    #[arg(long, value_enum)]
    pub scale: Option<crate::options::ScaleArg>,
    /// Train the autoencoder on corrupted inputs (gaussian:SIGMA, mask:P, salt-pepper:P).
    #[arg(long, value_name = "KIND:V")]
    pub corruption: Option<String>,
    /// The autoencoder's score.
    #[arg(long, value_enum, default_value = "mse")]
    pub score: crate::options::ScoreArg,
    /// Only the data sets whose file name contains one of these (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub only: Vec<String>,
    /// Override the detector (reconstruction: the autoencoder's error alone).
    #[arg(long, value_enum)]
    pub detector: Option<crate::options::DetectorArg>,
    /// Which rows are fitted and scored.
    #[arg(long, value_enum, default_value_t)]
    pub protocol: Protocol,
    /// Skip the PyOD baselines (AutoEncoder, VAE) that need a Python with pyod and torch.
    #[arg(long)]
    pub no_python: bool,
    /// The Python that runs bench/pyod_reference.py (default: .bench/pyod-venv/bin/python,
    /// made by scripts/anomaly_baselines.sh).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Accepted for older scripts: the autoencoder + Isolation Forest detector this flag used
    /// to add is now the default detector, always measured.
    #[arg(long, hide = true)]
    pub hybrid: bool,
}

/// Which rows the detectors are fitted on and which they score.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// ADBench's unsupervised setting: fit on all rows without their labels, score every row.
    #[default]
    Unsupervised,
    /// Fit on half of the normal rows (drawn with the seed), score the other normal rows and
    /// all anomalies (the flow of training on a file of normal rows).
    SemiSupervised,
}

/// One method's mean results on one data set.
#[derive(Serialize, Debug, Clone, Copy, Default)]
pub struct MethodResult {
    /// Mean ROC-AUC over seeds.
    pub roc_auc: f64,
    /// Mean PR-AUC (average precision) over seeds.
    pub pr_auc: f64,
    /// Mean F1 of the flags at the threshold `latent train` saves (the automatic rule on the
    /// training rows' scores); the default detector only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
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
    /// Per method (`detector`: the default detector; `autoencoder`: its reconstruction error
    /// alone; then the baselines of [`crate::anomaly_panel`]).
    #[serde(flatten)]
    pub methods: BTreeMap<String, MethodResult>,
}

/// The whole benchmark.
#[derive(Serialize, Debug)]
pub struct BenchmarkReport {
    /// Seeds per data set.
    pub seeds: u64,
    /// Which rows are fitted and scored.
    pub protocol: Protocol,
    /// The autoencoder settings (before sizes are resolved from each data set's width).
    pub config: FitConfig,
    /// Per data set.
    pub datasets: Vec<DatasetResult>,
    /// Means over the data sets, per method.
    pub mean: BTreeMap<String, MethodResult>,
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
        c.model.activation = a.into();
    }
    if let Some(d) = args.dropout {
        c.model.dropout = d;
    }
    if let Some(b) = args.batch_size {
        c.train.batch_size = b;
    }
    if let Some(s) = args.scale {
        c.preprocess.scaling = s.into();
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

/// Training and scored row indices for one seed.
fn split_rows(protocol: Protocol, labels: &[bool], seed: u64) -> (Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..labels.len()).collect();
    match protocol {
        Protocol::Unsupervised => (all.clone(), all),
        Protocol::SemiSupervised => {
            let mut normal: Vec<usize> = all.iter().copied().filter(|&i| !labels[i]).collect();
            normal.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let train = normal.split_off(normal.len() / 2);
            let mut test: Vec<usize> = normal;
            test.extend(all.iter().copied().filter(|&i| labels[i]));
            test.sort_unstable();
            let mut train = train;
            train.sort_unstable();
            (train, test)
        }
    }
}

/// Adds one seed's scores of a method to its sums.
fn add(
    sums: &mut BTreeMap<String, MethodResult>,
    name: &str,
    scores: &[f32],
    labels: &[bool],
    secs: f64,
) {
    let m = sums.entry(name.to_string()).or_default();
    let (roc, pr) = rank_metrics(scores, labels);
    m.roc_auc += roc;
    m.pr_auc += pr;
    m.seconds += secs;
}

/// One seed's split, fitted model inputs and the default detector's threshold F1.
struct SeedRun {
    train: Vec<f32>,
    test: Vec<f32>,
    labels: Vec<bool>,
}

/// Runs one data set.
fn run_dataset(
    args: &BenchmarkAnomalyArgs,
    path: &Path,
    python: Option<&Path>,
) -> Result<DatasetResult> {
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
    let mut sums: BTreeMap<String, MethodResult> = BTreeMap::new();
    let mut f1 = 0.0;
    let mut arch = String::new();
    let mut runs = Vec::new();
    for seed in 0..seeds {
        let (train_rows, test_rows) = split_rows(args.protocol, &labels, seed);
        if train_rows.len() < 2 || test_rows.is_empty() {
            return Err(
                BadInput(format!("{}: too few normal rows to split", path.display())).into()
            );
        }
        let test_labels: Vec<bool> = test_rows.iter().map(|&i| labels[i]).collect();
        let same = args.protocol == Protocol::Unsupervised;
        let train_frame = if same { ds.frame.clone() } else { ds.frame.select_rows(&train_rows) };
        let t = Instant::now();
        let model = Model::fit(&train_frame, &config_for(args, seed)?, &mut Silent)
            .with_context(|| path.display().to_string())?;
        let fit_secs = t.elapsed().as_secs_f64();
        let x_train = model.inputs(&train_frame)?;
        let x_test =
            if same { x_train.clone() } else { model.inputs(&ds.frame.select_rows(&test_rows))? };
        let t = Instant::now();
        let scores = model.score_inputs(&x_test, args.score.into())?;
        add(&mut sums, "autoencoder", &scores, &test_labels, fit_secs + t.elapsed().as_secs_f64());
        let t = Instant::now();
        let kind = model.default_score_kind();
        let scores = model.score_inputs(&x_test, kind)?;
        add(&mut sums, "detector", &scores, &test_labels, fit_secs + t.elapsed().as_secs_f64());
        let reference = if same { scores.clone() } else { model.score_inputs(&x_train, kind)? };
        let threshold = Threshold::calibrate(&ThresholdRule::Auto, kind, &reference)?;
        let flags: Vec<bool> = scores.iter().map(|&s| threshold.is_anomaly(s)).collect();
        f1 += Confusion::new(&flags, &test_labels).f1();
        if seed == 0 {
            arch = model.layer_widths().iter().map(usize::to_string).collect::<Vec<_>>().join("-");
        }
        let w = model.preprocessor().output_width();
        let split = Split { train: &x_train, test: &x_test, width: w, same };
        let t = Instant::now();
        let baselines = rust_scores(&split, model.code_width(), seed)?;
        let secs = t.elapsed().as_secs_f64() / baselines.len() as f64;
        for ((name, _), scores) in RUST_BASELINES.iter().zip(&baselines) {
            add(&mut sums, name, scores, &test_labels, secs);
        }
        runs.push(SeedRun { train: x_train, test: x_test, labels: test_labels });
    }
    if let Some(py) = python {
        let w = ds_width(&runs);
        let splits: Vec<Split> = runs
            .iter()
            .map(|r| Split {
                train: &r.train,
                test: &r.test,
                width: w,
                same: args.protocol == Protocol::Unsupervised,
            })
            .collect();
        let t = Instant::now();
        let name = dataset_name(path);
        let per_seed = python_scores(py, &splits, &name)?;
        let secs = t.elapsed().as_secs_f64() / (seeds as f64 * PYTHON_BASELINES.len() as f64);
        for (run, methods) in runs.iter().zip(&per_seed) {
            for ((name, _), scores) in PYTHON_BASELINES.iter().zip(methods) {
                add(&mut sums, name, scores, &run.labels, secs);
            }
        }
    }
    for m in sums.values_mut() {
        m.roc_auc /= seeds as f64;
        m.pr_auc /= seeds as f64;
        m.seconds /= seeds as f64;
    }
    if let Some(d) = sums.get_mut("detector") {
        d.f1 = Some(f1 / seeds as f64);
    }
    let anomalies = labels.iter().filter(|&&l| l).count();
    Ok(DatasetResult {
        dataset: dataset_name(path),
        rows: ds.frame.rows(),
        dims: ds.frame.width(),
        anomaly_share: anomalies as f64 / labels.len().max(1) as f64,
        architecture: arch,
        methods: sums,
    })
}

/// The model input width of a data set's runs.
fn ds_width(runs: &[SeedRun]) -> usize {
    runs.first().map_or(1, |r| {
        let rows = r.labels.len().max(1);
        r.test.len() / rows
    })
}

/// The methods of the table, in order: JSON name and header.
fn table_methods(python: bool) -> Vec<(&'static str, &'static str)> {
    let mut m = vec![("detector", "latent"), ("autoencoder", "AE")];
    m.extend(RUST_BASELINES);
    if python {
        m.extend(PYTHON_BASELINES);
    }
    m
}

/// ROC-AUC then PR-AUC of each method, then the default detector's F1, as table columns.
fn metric_columns(methods: &[(&str, &str)], results: &BTreeMap<String, MethodResult>) -> String {
    let get = |n: &str| results.get(n).copied().unwrap_or_default();
    let column = |f: fn(&MethodResult) -> f64| {
        methods.iter().map(|(n, _)| format!("{:>7.3}", f(&get(n)))).collect::<Vec<_>>().join("")
    };
    let f1 = get("detector").f1.unwrap_or(f64::NAN);
    format!("{}  {}  {f1:>6.3}", column(|m| m.roc_auc), column(|m| m.pr_auc))
}

/// Runs `latent benchmark-anomaly`.
pub fn run(args: BenchmarkAnomalyArgs) -> Result<()> {
    if let Some(out) = &args.out {
        latent_data::atomic::check_destination(out)?;
    }
    let files = data_files(&args.data_dir, &args.only)?;
    let python =
        if args.no_python { None } else { crate::anomaly_panel::python(args.python.as_deref()) };
    if python.is_none() && !args.no_python {
        eprintln!(
            "note: PyOD baselines skipped (no .bench/pyod-venv; create it with \
             scripts/anomaly_baselines.sh or give --python; --no-python silences this)"
        );
    }
    let methods = table_methods(python.is_some());
    let mut datasets = Vec::with_capacity(files.len());
    let table = args.format == Format::Table;
    if table {
        let column = |metric: &str| {
            methods.iter().map(|(_, h)| format!("{:>7}", h)).collect::<String>() + metric
        };
        print_line(&format!(
            "{:<12} {:>6} {:>4}  {}  {}  {:>6}",
            "dataset",
            "rows",
            "dims",
            column(" (ROC-AUC)"),
            column(" (PR-AUC)"),
            "F1"
        ))?;
    }
    let bar = crate::progress::job_bar(args.quiet, Some(files.len() as u64), "data sets");
    for f in &files {
        bar.set_message(
            f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        );
        let r = run_dataset(&args, f, python.as_deref())?;
        bar.inc(1);
        if table {
            let line = format!(
                "{:<12} {:>6} {:>4}  {}",
                r.dataset,
                r.rows,
                r.dims,
                metric_columns(&methods, &r.methods)
            );
            bar.suspend(|| print_line(&line))?;
        }
        datasets.push(r);
    }
    bar.finish_and_clear();
    let n = datasets.len().max(1) as f64;
    let mut means: BTreeMap<String, MethodResult> = BTreeMap::new();
    for d in &datasets {
        for (name, r) in &d.methods {
            let m = means.entry(name.clone()).or_default();
            m.roc_auc += r.roc_auc / n;
            m.pr_auc += r.pr_auc / n;
            m.seconds += r.seconds / n;
            if let Some(f) = r.f1 {
                m.f1 = Some(m.f1.unwrap_or(0.0) + f / n);
            }
        }
    }
    if table {
        let line =
            format!("{:<12} {:>6} {:>4}  {}", "mean", "", "", metric_columns(&methods, &means));
        print_line(&line)?;
    }
    let report = BenchmarkReport {
        seeds: args.seeds.max(1),
        protocol: args.protocol,
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
