//! `latent benchmark-recommend`: the strong-generalisation protocol of Liang et al. 2018 on
//! one interaction file — Mult-VAE, Mult-DAE, EASE and popularity on the same user splits,
//! NDCG@100, Recall@20 and Recall@50 on the test users, over several seeds.

use crate::exit::BadInput;
use crate::options::Format;
use crate::output::print_json;
use crate::recommend::{default_columns, read, InteractionArgs, MultVaeArgs};
use anyhow::{Context, Result};
use clap::Args;
use latent::recommend::{evaluate, fit_split, split_users, RankingMetrics, RecConfig, RecKind};
use latent::train::Silent;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `latent benchmark-recommend`.
#[derive(Args, Debug)]
pub struct BenchmarkRecommendArgs {
    /// Interactions: a long table (CSV/TSV: user, item, optional rating) or a SciPy CSR
    /// matrix (.npz from scipy.sparse.save_npz, users x items).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// The columns.
    #[command(flatten)]
    pub interactions: InteractionArgs,
    /// Validation users and, as many again, test users per split.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub heldout_users: usize,
    /// Splits (seeds S..S+N, S from --first-seed): each draws its own users and trains every
    /// model afresh.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub first_seed: u64,
    /// Maximum epochs of Mult-VAE/DAE.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Users per batch of Mult-VAE/DAE.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Learning rate of Mult-VAE/DAE.
    #[arg(long, value_name = "F")]
    pub lr: Option<f32>,
    /// Hidden width of Mult-VAE/DAE.
    #[arg(long, value_name = "N")]
    pub hidden: Option<usize>,
    /// Code width of Mult-VAE/DAE.
    #[arg(long, value_name = "N")]
    pub latent: Option<usize>,
    /// Final KL weight of Mult-VAE.
    #[arg(long, value_name = "F")]
    pub beta: Option<f32>,
    /// Input dropout of Mult-VAE/DAE.
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// L2 weight decay of Mult-VAE/DAE.
    #[arg(long, value_name = "F")]
    pub weight_decay: Option<f32>,
    /// Epochs without a better validation NDCG@100 before Mult-VAE/DAE stop.
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Mult-VAE / Mult-DAE options.
    #[command(flatten)]
    pub mult_vae: MultVaeArgs,
    /// The models to run, comma separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mult-vae,mult-dae,ease,popularity",
        value_name = "A,B"
    )]
    pub models: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One model's results over the seeds.
#[derive(Serialize)]
struct ModelResult {
    model: &'static str,
    ndcg_100: f64,
    ndcg_100_std: f64,
    recall_20: f64,
    recall_20_std: f64,
    recall_50: f64,
    recall_50_std: f64,
    test_users: usize,
    seconds: f64,
    per_seed: Vec<RankingMetrics>,
    ease_lambdas: Vec<f64>,
}

/// Runs `latent benchmark-recommend`.
pub fn run(args: BenchmarkRecommendArgs) -> Result<()> {
    if args.seeds == 0 || args.heldout_users == 0 {
        return Err(BadInput("--seeds and --heldout-users must be at least 1".into()).into());
    }
    let columns = args.interactions.columns(&default_columns())?;
    let data = read(&args.data, &columns)?;
    let all = [RecKind::MultVae, RecKind::MultDae, RecKind::Ease, RecKind::Popularity];
    let mut kinds = Vec::new();
    for name in &args.models {
        let kind = all.iter().find(|k| k.name() == name.trim()).ok_or_else(|| {
            BadInput(format!(
                "--models: unknown model \"{name}\" (mult-vae, mult-dae, ease, popularity)"
            ))
        })?;
        kinds.push(*kind);
    }
    let mut per: Vec<(Vec<RankingMetrics>, f64, Vec<f64>)> =
        vec![(Vec::new(), 0.0, Vec::new()); kinds.len()];
    for seed in args.first_seed..args.first_seed.saturating_add(args.seeds) {
        let split = split_users(&data, args.heldout_users, args.heldout_users, seed)
            .map_err(|e| BadInput(format!("{}: {e}", args.data.display())))?;
        for (k, &kind) in kinds.iter().enumerate() {
            let mut config = RecConfig { kind, seed, ..RecConfig::default() };
            config.epochs = args.epochs.unwrap_or(config.epochs);
            if let Some(batch) = args.batch_size {
                config.batch_size = batch;
                config.min_batches = 0;
            }
            config.lr = args.lr.unwrap_or(config.lr);
            config.hidden = args.hidden.unwrap_or(config.hidden);
            config.latent = args.latent.unwrap_or(config.latent);
            config.beta = args.beta.unwrap_or(config.beta);
            config.dropout = args.dropout.unwrap_or(config.dropout);
            config.weight_decay = args.weight_decay.unwrap_or(config.weight_decay);
            config.patience = args.patience.or(config.patience);
            args.mult_vae.apply(&mut config);
            let started = Instant::now();
            let (model, summary) = fit_split(&split, &config, &mut Silent).with_context(|| {
                format!("{} ({}, seed {seed})", args.data.display(), kind.name())
            })?;
            let m = evaluate(&model, &split.test);
            let secs = started.elapsed().as_secs_f64();
            if !args.quiet {
                eprintln!(
                    "seed {seed} {:<10} NDCG@100 {:.4}  Recall@20 {:.4}  Recall@50 {:.4}  \
                     (validation {:.4}, best epoch {}, {secs:.1}s)",
                    kind.name(),
                    m.ndcg_100,
                    m.recall_20,
                    m.recall_50,
                    summary.validation.ndcg_100,
                    summary.best_epoch
                );
            }
            per[k].0.push(m);
            per[k].1 += secs;
            per[k].2.extend(summary.lambda);
        }
    }
    let results: Vec<ModelResult> = kinds
        .iter()
        .zip(per)
        .map(|(kind, (runs, secs, lambdas))| {
            let stat =
                |f: fn(&RankingMetrics) -> f64| mean_std(&runs.iter().map(f).collect::<Vec<_>>());
            let (n, ns) = stat(|m| m.ndcg_100);
            let (r20, r20s) = stat(|m| m.recall_20);
            let (r50, r50s) = stat(|m| m.recall_50);
            ModelResult {
                model: kind.name(),
                ndcg_100: n,
                ndcg_100_std: ns,
                recall_20: r20,
                recall_20_std: r20s,
                recall_50: r50,
                recall_50_std: r50s,
                test_users: runs.first().map_or(0, |m| m.users),
                seconds: secs / args.seeds as f64,
                per_seed: runs,
                ease_lambdas: lambdas,
            }
        })
        .collect();
    if args.format == Format::Json {
        return print_json(&results);
    }
    println!(
        "{:<11} {:>16} {:>16} {:>16} {:>9}",
        "model", "NDCG@100", "Recall@20", "Recall@50", "s/seed"
    );
    for r in &results {
        println!(
            "{:<11} {:>8.4} ± {:<5.4} {:>8.4} ± {:<5.4} {:>8.4} ± {:<5.4} {:>9.1}",
            r.model,
            r.ndcg_100,
            r.ndcg_100_std,
            r.recall_20,
            r.recall_20_std,
            r.recall_50,
            r.recall_50_std,
            r.seconds
        );
    }
    Ok(())
}

/// Mean and sample standard deviation (0 for one value).
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}
