//! Recommenders on the command line: `latent train --preset mult-vae|mult-dae|ease`,
//! `latent recommend`, and `latent info` on a recommender file. The work is the library's
//! (`latent::recommend`); this module turns flags into its settings and writes results.

use crate::args::TrainArgs;
use crate::exit::BadInput;
use crate::family::Preset;
use crate::options::Format;
use crate::output::{print_json, print_table};
use crate::progress::TrainProgress;
use anyhow::{Context, Result};
use clap::{ArgAction, Args, ValueEnum};
use latent::recommend::file::RecModel;
use latent::recommend::{InteractionColumns, RecConfig, RecKind};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The columns of an interaction table (recommenders).
#[derive(Args, Debug, Clone, Default)]
pub struct InteractionArgs {
    /// Recommenders: the user id column (default: userId, or the model's).
    #[arg(long, value_name = "NAME")]
    pub user_column: Option<String>,
    /// Recommenders: the item id column (default: movieId, or the model's).
    #[arg(long, value_name = "NAME")]
    pub item_column: Option<String>,
    /// Recommenders: a rating column; rows rated at least --min-rating are the positives
    /// (without one every row is a positive).
    #[arg(long, value_name = "NAME")]
    pub rating_column: Option<String>,
    /// Recommenders: the smallest rating counted as a positive.
    #[arg(long, value_name = "R")]
    pub min_rating: Option<f64>,
}

/// Mult-VAE / Mult-DAE options beyond the common training flags (recommenders), the same for
/// `latent train` and `latent benchmark-recommend`.
#[derive(Args, Debug, Clone, Default)]
pub struct MultVaeArgs {
    /// Recommenders: Mult-VAE's KL weight per user: `history` (the default: β scaled by the
    /// user's history size over the mean, as in RecVAE) or `constant` (one β for every user,
    /// as in Liang et al. 2018).
    #[arg(long, value_enum, value_name = "RULE")]
    pub beta_rule: Option<BetaRule>,
    /// Recommenders: steps over which Mult-VAE's KL weight rises to --beta (default: 80% of
    /// the run).
    #[arg(long, value_name = "N")]
    pub anneal_steps: Option<usize>,
    /// Recommenders: decoupled (AdamW) weight decay instead of L2 in the gradient.
    #[arg(long, value_name = "BOOL")]
    pub decoupled_decay: Option<bool>,
    /// Recommenders: Mult-VAE's KL against RecVAE's composite prior (standard normal, the
    /// previous epoch's posterior and a wide normal) instead of N(0, I).
    #[arg(long, value_name = "BOOL")]
    pub composite_prior: Option<bool>,
    /// Recommenders: start Mult-VAE/DAE's output bias at zero instead of the log item counts.
    #[arg(long)]
    pub zero_output_bias: bool,
    /// Recommenders: emphasised denoising: the items dropped from Mult-VAE/DAE's input weigh A
    /// times the kept ones in the likelihood (each user's weights scaled to sum to their
    /// history size) [default: 1, off].
    #[arg(long, value_name = "A")]
    pub emphasis: Option<f32>,
    /// Recommenders: cosine learning-rate decay of Mult-VAE/DAE from --lr to a hundredth of
    /// it over N epochs, then constant [default: none, a constant rate].
    #[arg(long, value_name = "N")]
    pub lr_decay_epochs: Option<usize>,
}

/// How Mult-VAE's KL weight varies between users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BetaRule {
    /// One β for every user.
    Constant,
    /// β times the user's history size over the mean (RecVAE).
    History,
}

impl MultVaeArgs {
    /// True when any of these flags was given.
    pub fn given(&self) -> bool {
        self.beta_rule.is_some()
            || self.anneal_steps.is_some()
            || self.decoupled_decay.is_some()
            || self.composite_prior.is_some()
            || self.zero_output_bias
            || self.emphasis.is_some()
            || self.lr_decay_epochs.is_some()
    }

    /// Sets the given options in `config`.
    pub fn apply(&self, config: &mut RecConfig) {
        if let Some(rule) = self.beta_rule {
            config.beta_by_history = rule == BetaRule::History;
        }
        config.anneal_steps = self.anneal_steps.or(config.anneal_steps);
        config.decoupled_decay = self.decoupled_decay.unwrap_or(config.decoupled_decay);
        config.composite_prior = self.composite_prior.unwrap_or(config.composite_prior);
        config.popularity_bias &= !self.zero_output_bias;
        config.emphasis = self.emphasis.unwrap_or(config.emphasis);
        config.lr_decay_epochs = self.lr_decay_epochs.or(config.lr_decay_epochs);
    }
}

impl InteractionArgs {
    /// The columns, each flag over `defaults`.
    pub fn columns(&self, defaults: &InteractionColumns) -> Result<InteractionColumns> {
        let rating = self.rating_column.clone().or_else(|| defaults.rating.clone());
        let min_rating =
            self.min_rating.or(if rating.is_some() { defaults.min_rating } else { None });
        if min_rating.is_some() && rating.is_none() {
            return Err(BadInput("--min-rating needs --rating-column".into()).into());
        }
        Ok(InteractionColumns {
            user: self.user_column.clone().unwrap_or_else(|| defaults.user.clone()),
            item: self.item_column.clone().unwrap_or_else(|| defaults.item.clone()),
            rating,
            min_rating,
        })
    }
}

/// Column names when neither flags nor a model give them (MovieLens's).
pub fn default_columns() -> InteractionColumns {
    InteractionColumns::default()
}

/// The recommender a preset names, if it names one.
pub fn preset_kind(preset: Option<Preset>) -> Option<RecKind> {
    match preset? {
        Preset::MultVae => Some(RecKind::MultVae),
        Preset::MultDae => Some(RecKind::MultDae),
        Preset::Ease => Some(RecKind::Ease),
        _ => None,
    }
}

/// Reads the positive interactions of a file.
pub fn read(path: &Path, columns: &InteractionColumns) -> Result<latent::recommend::Interactions> {
    Ok(latent_data::read_interactions(path, columns)?)
}

/// `latent train` for a recommender preset.
pub fn train(args: &TrainArgs, kind: RecKind) -> Result<()> {
    let unsupported = [
        ("--config", args.config.is_some()),
        ("--resume", args.resume.is_some()),
        ("--checkpoint-every", args.checkpoint_every.is_some()),
        ("--checkpoint-dir", args.checkpoint_dir.is_some()),
    ];
    if let Some((flag, _)) = unsupported.iter().find(|(_, given)| *given) {
        return Err(BadInput(format!("{flag} is not supported for recommenders yet")).into());
    }
    let mut config = RecConfig { kind, ..RecConfig::default() };
    if let Some(h) = args.hidden.as_ref().and_then(|h| h.first()) {
        config.hidden = *h;
    }
    config.latent = args.latent.unwrap_or(config.latent);
    config.dropout = args.dropout.unwrap_or(config.dropout);
    config.beta = args.family.beta.unwrap_or(config.beta);
    if !args.family.lambda.is_empty() {
        config.lambdas = args.family.lambda.clone();
    }
    config.epochs = args.epochs.unwrap_or(config.epochs);
    if let Some(batch) = args.batch_size {
        config.set_batch_size(batch);
    }
    config.lr = args.lr.unwrap_or(config.lr);
    config.weight_decay = args.weight_decay.unwrap_or(config.weight_decay);
    config.patience = args.patience.or(config.patience);
    config.seed = args.seed.unwrap_or(config.seed);
    args.mult_vae.apply(&mut config);
    config.validate().map_err(|e| BadInput(e.to_string()))?;
    let columns = args.interactions.columns(&default_columns())?;
    let data = read(&args.data.data, &columns)?;
    let log_path = crate::train::metrics_path(&args.out);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut progress = TrainProgress::new(args.quiet, Some(log));
    let model = latent::recommend::fit(&data, columns, &config, &mut progress);
    progress.finish();
    let model = model.with_context(|| args.data.data.display().to_string())?;
    model.save(&args.out)?;
    if let Some(dir) = &args.plots {
        let n = crate::plots::recommend::write_plots(&model, dir)?;
        if !args.quiet {
            eprintln!("wrote {n} plots (PNG and SVG) to {}", dir.display());
        }
    }
    if !args.quiet {
        let s = &model.manifest.summary;
        eprintln!(
            "saved {} ({}, {} items, {} training and {} validation users): validation \
             NDCG@100 {:.4}, Recall@20 {:.4}, Recall@50 {:.4}{}",
            args.out.display(),
            kind.name(),
            model.manifest.items.len(),
            s.train_users,
            s.validation_users,
            s.validation.ndcg_100,
            s.validation.recall_20,
            s.validation.recall_50,
            s.lambda.map_or(String::new(), |l| format!(", λ {l}")),
        );
    }
    Ok(())
}

/// Output format of `latent recommend`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecFormat {
    /// CSV with a header: user,item,score,rank.
    #[default]
    Csv,
    /// JSON lines: {"user", "item", "score", "rank"}.
    Json,
}

/// Arguments of `latent recommend`.
#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// The recommender model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Interaction histories: a long table (CSV/TSV: user, item, optional rating) or a SciPy
    /// CSR matrix (.npz from scipy.sparse.save_npz, users x items).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Items to recommend per user.
    #[arg(long, default_value_t = 20, value_name = "K")]
    pub k: usize,
    /// Where to write the recommendations (default: stdout); a name ending in .parquet writes
    /// Parquet (user, item, score, rank).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Leave out the items already in a user's history (`--exclude-seen false` keeps them).
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    pub exclude_seen: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: RecFormat,
    /// The columns (defaults: the names the model was trained with; without the model's
    /// rating column in the file, every row is a positive).
    #[command(flatten)]
    pub interactions: InteractionArgs,
    /// No warnings on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `latent recommend`.
pub fn run(args: RecommendArgs) -> Result<()> {
    if args.k == 0 {
        return Err(BadInput("--k must be at least 1".into()).into());
    }
    let model = RecModel::load(&args.model)?;
    let mut defaults = model.manifest.columns.clone();
    // A history file without the rating column the model was trained with: every row is a
    // positive (unless --rating-column names one).
    if let Some(rating) = &defaults.rating {
        if !latent_data::header_columns(&args.data)?.contains(rating) {
            defaults.rating = None;
            defaults.min_rating = None;
        }
    }
    let columns = args.interactions.columns(&defaults)?;
    let data = read(&args.data, &columns)?;
    let recs = model.recommend_for(&data, args.k, args.exclude_seen).map_err(|e| {
        BadInput(format!("{}: column \"{}\": {e}", args.data.display(), columns.item))
    })?;
    if recs.unknown > 0 && !args.quiet {
        eprintln!(
            "warning: {} interactions with items unknown to the model were skipped",
            recs.unknown
        );
    }
    let recs = recs.ranked;
    if let Some(path) = args.out.as_deref().filter(|p| latent_data::is_parquet(p)) {
        let items = &model.manifest.items;
        return crate::stream_out::recommendations(path, &data.users, &recs, items);
    }
    let mut text = String::new();
    if args.format == RecFormat::Csv {
        text.push_str("user,item,score,rank\n");
    }
    for (user, list) in data.users.iter().zip(&recs) {
        for (rank, &(item, score)) in list.iter().enumerate() {
            let item = &model.manifest.items[item as usize];
            match args.format {
                RecFormat::Csv => text.push_str(&format!(
                    "{},{},{},{}\n",
                    csv_field(user),
                    csv_field(item),
                    score,
                    rank + 1
                )),
                RecFormat::Json => {
                    let row = serde_json::json!({
                        "user": user, "item": item, "score": score, "rank": rank + 1
                    });
                    text.push_str(&format!("{row}\n"));
                }
            }
        }
    }
    match &args.out {
        Some(path) if path.as_os_str() != "-" => {
            latent::artifact::write_atomic(path, text.as_bytes())?
        }
        _ => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// A CSV field, quoted when it holds a delimiter, quote or line end.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `latent info` on a recommender file.
pub fn info(path: &Path, format: Format) -> Result<()> {
    let model = RecModel::load(path)?;
    let m = &model.manifest;
    let c = &m.config;
    if format == Format::Json {
        let mut manifest = serde_json::to_value(m)?;
        if let Some(obj) = manifest.as_object_mut() {
            obj.insert("items".into(), serde_json::json!(m.items.len()));
        }
        if let Some(summary) = manifest.get_mut("summary").and_then(|s| s.as_object_mut()) {
            summary.remove("item_counts");
        }
        return print_json(&serde_json::json!({
            "recommender": c.kind.name(),
            "parameters": model.parameter_count(),
            "manifest": manifest,
        }));
    }
    let mut rows = vec![("model", path.display().to_string())];
    rows.extend(describe(&model));
    print_table(&rows)
}

/// What `latent info` and `latent report` say about a recommender, as `(field, value)` rows.
pub fn describe(model: &RecModel) -> Vec<(&'static str, String)> {
    let m = &model.manifest;
    let c = &m.config;
    let s = &m.summary;
    let architecture = match c.kind {
        RecKind::MultVae | RecKind::MultDae => {
            let n = m.items.len();
            format!("{n}-{}-{}-{}-{n}", c.hidden, c.latent, c.hidden)
        }
        RecKind::Ease => {
            format!("{0} x {0} item weights (λ {1})", m.items.len(), s.lambda.unwrap_or(0.0))
        }
        RecKind::Popularity => "item counts".into(),
    };
    let rating = match (&m.columns.rating, m.columns.min_rating) {
        (Some(r), Some(min)) => format!("{r} >= {min}"),
        (Some(r), None) => r.clone(),
        _ => "none (every row is a positive)".into(),
    };
    let kl = match c.kind {
        RecKind::MultVae => format!(
            "β {} {}, annealed{}",
            c.beta,
            if c.beta_by_history { "scaled by history size" } else { "for every user" },
            if c.composite_prior { ", composite prior" } else { "" }
        ),
        _ => "none".into(),
    };
    vec![
        ("format", format!("{} v{} (latent {})", m.format, m.format_version, m.latent_version)),
        ("recommender", c.kind.name().to_string()),
        ("architecture", architecture),
        ("KL weight", kl),
        ("parameters", model.parameter_count().to_string()),
        ("items", m.items.len().to_string()),
        ("columns", format!("user {}, item {}, rating {rating}", m.columns.user, m.columns.item)),
        ("users", format!("{} training, {} validation", s.train_users, s.validation_users)),
        (
            "training",
            match s.lambda {
                Some(l) => format!("closed form, λ {l} chosen on validation users"),
                None if s.history.is_empty() => "counts".into(),
                None => format!("best epoch {} of {}", s.best_epoch, s.history.len()),
            },
        ),
        (
            "validation",
            format!(
                "NDCG@100 {:.4}  Recall@20 {:.4}  Recall@50 {:.4}",
                s.validation.ndcg_100, s.validation.recall_20, s.validation.recall_50
            ),
        ),
    ]
}
