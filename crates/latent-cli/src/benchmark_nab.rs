//! `latent benchmark-nab`: the Numenta Anomaly Benchmark's protocol with latent's default
//! time-series detector ([`latent::series::detect`]). Each of NAB's series on its own: the
//! model is fitted on the probationary period only (the first `min(15%, 750)` points, which NAB
//! does not score), every point is scored causally (the window ending at it, then the anomaly
//! likelihood of the scores so far), and NAB's scorer picks one threshold per profile over all
//! series. One setting for every series.

use crate::options::Format;
use crate::output::print_json;
use anyhow::{Context, Result};
use clap::Args;
use latent::metrics::{average_precision, roc_auc};
use latent::series::detect::{detect, DetectorConfig};
use latent::series::nab::{self, ScoredSeries, PROFILES};
use latent::series::{time, Series};
use latent_data::LoadOptions;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `latent benchmark-nab`.
#[derive(Args, Debug)]
pub struct BenchmarkNabArgs {
    /// NAB's folder, holding `data/` and `labels/combined_windows.json`.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write every point's score as NAB result CSVs under this folder
    /// (`<category>/latent_<file>.csv`: timestamp, value, anomaly_score, label).
    #[arg(long, value_name = "DIR")]
    pub scores_dir: Option<PathBuf>,
    /// Only the series whose name contains one of these (comma separated; the scores are then
    /// not comparable with NAB's).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub only: Vec<String>,
    /// Override the window length.
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// Override the training epochs.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Override the code width.
    #[arg(long, value_name = "N")]
    pub latent: Option<usize>,
    /// Override the hidden layer sizes.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub hidden: Option<Vec<usize>>,
    /// Override the anomaly likelihood's short mean (points).
    #[arg(long, value_name = "N")]
    pub short: Option<usize>,
    /// Override the anomaly likelihood's history (points).
    #[arg(long, value_name = "N")]
    pub long: Option<usize>,
    /// Override the likelihood's deviation floor relative to the mean.
    #[arg(long, value_name = "F")]
    pub min_std_ratio: Option<f64>,
    /// Override the points of history before the likelihood is computed.
    #[arg(long, value_name = "N")]
    pub min_history: Option<usize>,
    /// Override the alarm level of the likelihood (1 turns the thinning of alarms off).
    #[arg(long, value_name = "P")]
    pub red: Option<f64>,
    /// Override the spatial tolerance (negative turns the range rule off).
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub spatial: Option<f64>,
    /// Override the learning rate.
    #[arg(long, value_name = "F")]
    pub lr: Option<f32>,
    /// Training seed.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Ablation: replace the autoencoder's window error by the squared deviation of each point
    /// from its window's mean (in units of the training variance), keeping the likelihood and
    /// the range rule.
    #[arg(long)]
    pub no_model: bool,
    /// The 1-D convolutional autoencoder (`--preset conv1d`: channels 16,32, kernel 5,
    /// stride 2) instead of the dense one.
    #[arg(long)]
    pub conv1d: bool,
}

/// One series' results.
#[derive(Serialize, Debug)]
pub struct SeriesRow {
    /// Path relative to NAB's `data/`.
    pub series: String,
    /// Points.
    pub points: usize,
    /// Labelled anomaly windows.
    pub windows: usize,
    /// Raw NAB score of the series at each profile's threshold.
    pub standard: f64,
    /// Raw low-FP score.
    pub reward_low_fp: f64,
    /// Raw low-FN score.
    pub reward_low_fn: f64,
    /// Fit and score time, seconds.
    pub seconds: f64,
}

/// One profile's corpus result.
#[derive(Serialize, Debug)]
pub struct ProfileRow {
    /// Normalised NAB score (null 0, perfect 100).
    pub score: f64,
    /// Raw corpus score.
    pub raw: f64,
    /// The chosen threshold (null: no detection).
    pub threshold: Option<f64>,
}

/// The whole report.
#[derive(Serialize, Debug)]
pub struct Report {
    /// Standard profile.
    pub standard: ProfileRow,
    /// Reward-low-FP profile.
    pub reward_low_fp: ProfileRow,
    /// Reward-low-FN profile.
    pub reward_low_fn: ProfileRow,
    /// Per-timestamp ROC-AUC over the scored points of all series (label: in a window).
    pub roc_auc: Option<f64>,
    /// Per-timestamp PR-AUC (average precision) over the same points.
    pub pr_auc: Option<f64>,
    /// Total wall time, seconds.
    pub seconds: f64,
    /// The detector's settings.
    pub detector: String,
    /// Per-series rows.
    pub series: Vec<SeriesRow>,
}

fn detector_config(args: &BenchmarkNabArgs) -> DetectorConfig {
    let mut c = DetectorConfig::default();
    if let Some(w) = args.window {
        c.window = w;
    }
    if let Some(e) = args.epochs {
        c.fit.train.epochs = e;
    }
    if let Some(l) = args.latent {
        c.fit.model.latent = Some(l);
    }
    if let Some(h) = &args.hidden {
        c.fit.model.hidden = Some(h.clone());
    }
    if let Some(s) = args.short {
        c.likelihood.short = s;
    }
    if let Some(l) = args.long {
        c.likelihood.long = l;
    }
    if let Some(r) = args.min_std_ratio {
        c.likelihood.min_std_ratio = r;
    }
    if let Some(m) = args.min_history {
        c.likelihood.min_history = m;
    }
    if let Some(r) = args.red {
        c.likelihood.red = r;
    }
    if let Some(s) = args.spatial {
        c.spatial_tolerance = (s >= 0.0).then_some(s);
    }
    if args.conv1d {
        c.fit.model.architecture = latent::config::Architecture::Conv {
            channels: vec![16, 32],
            kernel: 5,
            stride: 2,
            dense_code: true,
        };
        c.fit.model.hidden = Some(Vec::new());
    }
    if let Some(seed) = args.seed {
        c.fit.train.seed = seed;
    }
    if let Some(lr) = args.lr {
        c.fit.train.optimizer.lr = lr;
    }
    c
}

/// A NAB data file: its timestamps and values, rows in file order. NAB's files hold a few
/// repeated timestamps (daylight-saving changes) which NAB scores as they are, so the order
/// check of `latent score` is not applied here.
fn read_series(path: &Path) -> Result<Series> {
    let opts = LoadOptions { categorical: vec!["timestamp".into()], ..LoadOptions::default() };
    let ds = latent_data::load(path, &opts)?;
    let spec = latent::series::SeriesSpec::for_frame(&ds.frame, Some("timestamp"), 1, 1)?;
    let untimed = latent::series::SeriesSpec { time_column: None, ..spec };
    let mut series = untimed.series(&ds.frame, 2).with_context(|| path.display().to_string())?;
    let col = ds.frame.column("timestamp").context("no timestamp column")?;
    for r in 0..ds.frame.rows() {
        let text = col.values.cell_text(r);
        let t = time::parse_timestamp(&text).ok_or_else(|| {
            crate::exit::BadInput(format!(
                "{}: line {}: bad timestamp {text:?}",
                path.display(),
                r + 2
            ))
        })?;
        series.times.push(t);
        series.time_text.push(text);
    }
    Ok(series)
}

struct Done {
    name: String,
    series: Series,
    scored: ScoredSeries,
    seconds: f64,
}

fn run_series(
    dir: &Path,
    name: &str,
    windows: &[(i64, i64)],
    cfg: &DetectorConfig,
    no_model: bool,
) -> Result<Done> {
    let t0 = Instant::now();
    let path = dir.join("data").join(name);
    let series = read_series(&path)?;
    let windows = nab::window_indices(&series.times, windows)
        .with_context(|| format!("{}: labels do not match the data", path.display()))?;
    let train = nab::probationary_length(series.len());
    let scores = if no_model {
        deviation_detector(&series, train, cfg)
    } else {
        detect(&series, train, cfg).with_context(|| path.display().to_string())?
    };
    let scored = ScoredSeries { name: name.to_string(), windows, scores };
    Ok(Done { name: name.to_string(), series, scored, seconds: t0.elapsed().as_secs_f64() })
}

/// The ablation of `--no-model`: the squared deviation of each point (first channel) from the
/// mean of the window ending at it, over the training variance, then the same likelihood and
/// range rule as the detector.
fn deviation_detector(series: &Series, train: usize, cfg: &DetectorConfig) -> Vec<f64> {
    let c = series.channels.max(1);
    let x: Vec<f64> = series.values.iter().step_by(c).map(|&v| f64::from(v)).collect();
    let head = &x[..train.min(x.len()).max(1)];
    let mean = head.iter().sum::<f64>() / head.len() as f64;
    let var = head.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / head.len() as f64;
    let w = cfg.window;
    let raw: Vec<f64> = (w.saturating_sub(1)..x.len())
        .map(|t| {
            let win = &x[t + 1 - w..=t];
            let m = win.iter().sum::<f64>() / w as f64;
            (x[t] - m) * (x[t] - m) / var.max(1e-12)
        })
        .collect();
    let mut out = vec![0.0; w.saturating_sub(1)];
    out.extend(latent::series::likelihood::likelihoods(&raw, cfg.likelihood));
    if let Some(tol) = cfg.spatial_tolerance {
        let flags = latent::series::detect::spatial_anomalies(series, tol);
        for (o, f) in out.iter_mut().zip(flags) {
            if f {
                *o = 1.0;
            }
        }
    }
    out
}

fn write_scores(dir: &Path, d: &Done) -> Result<()> {
    let (cat, file) = d.name.split_once('/').unwrap_or(("", &d.name));
    let folder = dir.join(cat);
    std::fs::create_dir_all(&folder).with_context(|| folder.display().to_string())?;
    let mut text = String::from("timestamp,value,anomaly_score,label\n");
    for (i, s) in d.scored.scores.iter().enumerate() {
        let label = d.scored.windows.iter().any(|w| w.0 <= i && i <= w.1);
        let v = d.series.values[i * d.series.channels];
        text += &format!("{},{v},{s},{}\n", d.series.time_text[i], u8::from(label));
    }
    let path = folder.join(format!("latent_{file}"));
    std::fs::write(&path, text).with_context(|| path.display().to_string())
}

/// Per-timestamp ROC-AUC and PR-AUC over the scored (post-probation) points of every series.
fn rank_metrics(done: &[Done]) -> (Option<f64>, Option<f64>) {
    let mut scores = Vec::new();
    let mut labels = Vec::new();
    for d in done {
        let n = d.scored.scores.len();
        for i in nab::probationary_length(n)..n {
            scores.push(d.scored.scores[i] as f32);
            labels.push(d.scored.windows.iter().any(|w| w.0 <= i && i <= w.1));
        }
    }
    (roc_auc(&scores, &labels), average_precision(&scores, &labels))
}

/// Runs `latent benchmark-nab`.
pub fn run(args: BenchmarkNabArgs) -> Result<()> {
    let t0 = Instant::now();
    let labels = args.data_dir.join("labels/combined_windows.json");
    let windows: BTreeMap<String, Vec<(i64, i64)>> = nab::read_windows(&labels)?
        .into_iter()
        .filter(|(n, _)| args.only.is_empty() || args.only.iter().any(|o| n.contains(o.as_str())))
        .collect();
    if windows.is_empty() {
        return Err(crate::exit::BadInput("no NAB series selected".into()).into());
    }
    let cfg = detector_config(&args);
    let done: Vec<Done> = windows
        .par_iter()
        .map(|(name, w)| run_series(&args.data_dir, name, w, &cfg, args.no_model))
        .collect::<Result<_>>()?;
    if let Some(dir) = &args.scores_dir {
        for d in &done {
            write_scores(dir, d)?;
        }
    }
    let corpus: Vec<ScoredSeries> = done.iter().map(|d| d.scored.clone()).collect();
    let results: Vec<_> = PROFILES.iter().map(|p| nab::score_corpus(&corpus, p)).collect();
    let row = |i: usize| ProfileRow {
        score: results[i].normalised,
        raw: results[i].raw,
        threshold: results[i].threshold.is_finite().then_some(results[i].threshold),
    };
    let (roc, pr) = rank_metrics(&done);
    let series = done
        .iter()
        .enumerate()
        .map(|(k, d)| SeriesRow {
            series: d.name.clone(),
            points: d.series.len(),
            windows: d.scored.windows.len(),
            standard: results[0].per_series[k],
            reward_low_fp: results[1].per_series[k],
            reward_low_fn: results[2].per_series[k],
            seconds: d.seconds,
        })
        .collect();
    let c = &cfg;
    let detector =
        format!(
        "{} AE on windows of {} (hidden {:?}, latent {:?}, {} epochs), likelihood short {} long {}",
        if args.conv1d { "conv1d" } else { "dense" },
        c.window, c.fit.model.hidden, c.fit.model.latent, c.fit.train.epochs, c.likelihood.short,
        c.likelihood.long
    );
    let report = Report {
        standard: row(0),
        reward_low_fp: row(1),
        reward_low_fn: row(2),
        roc_auc: roc,
        pr_auc: pr,
        seconds: t0.elapsed().as_secs_f64(),
        detector,
        series,
    };
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(out, json).with_context(|| out.display().to_string())?;
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Table => {
            for s in &report.series {
                println!(
                    "{:<70} {:>6} {:>2} {:>8.3} {:>8.3} {:>8.3} {:>6.1}s",
                    s.series,
                    s.points,
                    s.windows,
                    s.standard,
                    s.reward_low_fp,
                    s.reward_low_fn,
                    s.seconds
                );
            }
            let f = |o: Option<f64>| o.map_or("-".into(), |v| format!("{v:.4}"));
            println!("detector       {}", report.detector);
            println!("standard       {:.2}", report.standard.score);
            println!("reward_low_fp  {:.2}", report.reward_low_fp.score);
            println!("reward_low_fn  {:.2}", report.reward_low_fn.score);
            println!("roc_auc        {}", f(report.roc_auc));
            println!("pr_auc         {}", f(report.pr_auc));
            println!("seconds        {:.1}", report.seconds);
        }
    }

    Ok(())
}
