//! `latent train`: config file, then flags, then fit, save, and a short summary.

use crate::args::TrainArgs;
use crate::data::in_file;
use crate::exit::BadInput;
use crate::family::Preset;
use crate::options::OptimizerArg;
use crate::progress::TrainProgress;
use crate::{data, output};
use anyhow::{Context, Result};
use latent::{CheckpointOptions, FitConfig, Model};
use latent_data::Dataset;
use std::path::{Path, PathBuf};

/// Runs `latent train`.
pub fn run(args: TrainArgs) -> Result<()> {
    crate::compress::check_train_flags(&args)?;
    if let Some(kind) = crate::recommend::preset_kind(args.family.preset) {
        return crate::recommend::train(&args, kind);
    }
    if args.mult_vae.given() {
        return Err(BadInput(
            "--beta-rule, --anneal-steps, --decoupled-decay, --composite-prior and \
             --zero-output-bias apply to --preset mult-vae and mult-dae"
                .into(),
        )
        .into());
    }
    // A bad --out fails now, not after the last epoch.
    latent_data::atomic::check_destination(&args.out)?;
    let mut config = fit_config(&args)?;
    config.validate()?;
    if args.quant_step.is_some() {
        // A learned-compression model keeps its learnt entropy model: refuse before training.
        latent::codec::check_fit(&config)?;
    }
    if args.stream {
        return crate::stream_train::train(&args, config);
    }
    if args.series.window.is_some() || crate::series::resumed_model(&args).is_some() {
        let rule = config.threshold.clone();
        return crate::series::train(&args, &config, &rule);
    }
    let dataset = data::load(&args.data, None)?;
    let images = dataset.frame.image_shape().is_some();
    args.family.apply_to_data(&mut config, images, architecture_chosen(&args));
    if images
        && !architecture_chosen(&args)
        && matches!(args.family.preset, Some(Preset::Vae | Preset::BetaVae))
    {
        // The measured run's batch and split, unless given.
        if args.batch_size.is_none() {
            config.train.batch_size = 128;
        }
        if args.val_split.is_none() {
            config.train.val_split = 0.0;
        }
    }
    let mut progress = progress_for(&args)?;
    let checkpoints = checkpoint_options(&args)?;
    // Fit, then the anomaly threshold, calibrated on the training rows (validation rows
    // included) by the config's rule.
    let model = Model::fit_calibrated(&dataset.frame, &config, &mut progress, &checkpoints);
    progress.finish();
    let mut model = model.with_context(|| in_file(&dataset))?;
    model.set_label_column(args.data.label_column.clone());
    model.set_id_columns(dataset.ids.iter().map(|c| c.name.clone()).collect());
    if let Some(step) = args.quant_step {
        crate::compress::fit_after_training(&mut model, &dataset.frame, step)
            .with_context(|| in_file(&dataset))?;
    }
    save_and_report(&model, &args, Some(&dataset))
}

/// Whether the flags or config file chose the architecture (then data-driven defaults keep
/// out of it).
pub fn architecture_chosen(args: &TrainArgs) -> bool {
    args.config.is_some()
        || args.hidden.is_some()
        || args.latent.is_some()
        || args.loss.is_some()
        || args.family.channels.is_some()
}

/// Live progress of a run, logging every epoch to the model's metrics file.
pub fn progress_for(args: &TrainArgs) -> Result<TrainProgress> {
    let log_path = metrics_path(&args.out);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    Ok(TrainProgress::new(args.quiet, Some(log)))
}

/// Saves a trained model, then prints its summary, a warning when it was still improving, and
/// the plots asked for.
pub fn save_and_report(model: &Model, args: &TrainArgs, dataset: Option<&Dataset>) -> Result<()> {
    model.save(&args.out)?;
    if !args.quiet {
        eprintln!("{}", output::train_summary(model, &args.out));
    }
    if let Some(t) = model.summary().and_then(latent::TrainSummary::still_improving) {
        eprintln!(
            "warning: the validation loss was still falling when training stopped ({:.5} -> {:.5} \
             over the last {} epochs); more epochs (--epochs, --min-steps) would likely give a \
             better model",
            t.from, t.to, t.epochs
        );
    }
    if let Some(dir) = &args.plots {
        let opts = crate::plots::PlotOptions::default();
        let n = crate::plots::write_plots(model, dataset, &opts, dir)?;
        if !args.quiet {
            eprintln!("wrote {n} plots (PNG and SVG) to {}", dir.display());
        }
    }
    Ok(())
}

/// Checkpoint folder, interval and the run to resume. Resuming keeps checkpointing into the
/// folder it resumes from unless told otherwise, at the interval given (default 1).
pub fn checkpoint_options(args: &TrainArgs) -> Result<CheckpointOptions> {
    if args.checkpoint_every == Some(0) {
        return Err(BadInput("--checkpoint-every must be at least 1".into()).into());
    }
    if let Some(path) = &args.resume {
        if !latent::checkpoint::file_in(path).is_file() {
            return Err(BadInput(format!(
                "{}: no checkpoint there (expected a folder written by --checkpoint-every, \
                 holding {})",
                path.display(),
                latent::checkpoint::FILE_NAME
            ))
            .into());
        }
    }
    let wanted = args.checkpoint_every.is_some() || args.checkpoint_dir.is_some();
    let dir = match (&args.checkpoint_dir, &args.resume) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(resume)) => latent::checkpoint::file_in(resume).parent().map(Path::to_path_buf),
        (None, None) => wanted.then(|| latent::checkpoint::default_dir(&args.out)),
    };
    let every = args.checkpoint_every.unwrap_or(if dir.is_some() { 1 } else { 0 });
    Ok(CheckpointOptions { dir, every, resume: args.resume.clone() })
}

/// The training log of a model, named after it so that models trained in one folder keep
/// their own logs: `runs/a.safetensors` logs to `runs/a.metrics.jsonl`.
pub fn metrics_path(model: &Path) -> PathBuf {
    let name = model.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".safetensors").unwrap_or(&name);
    model.with_file_name(format!("{stem}.metrics.jsonl"))
}

/// Epochs of a run given a time budget (`--max-minutes`) and no epoch count.
const MAX_BUDGET_EPOCHS: usize = 10_000;

/// The configuration: `--config` file (if any) with flags applied over it.
pub fn fit_config(a: &TrainArgs) -> Result<FitConfig> {
    let mut c = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(|e| BadInput(format!("{e:#}")))?;
            toml::from_str::<FitConfig>(&text)
                .map_err(|e| BadInput(format!("{}: {e}", path.display())))?
        }
        None => FitConfig::default(),
    };
    a.family.apply_preset(&mut c);
    let m = &mut c.model;
    if let Some(h) = &a.hidden {
        m.hidden = Some(h.clone());
    }
    if a.latent.is_some() {
        m.latent = a.latent;
    }
    if let Some(x) = a.activation {
        m.activation = x.into();
    }
    if let Some(x) = a.output_activation {
        m.output = Some(x.into());
    }
    if let Some(x) = a.loss {
        m.loss = x.into();
    }
    if let Some(x) = a.dropout {
        m.dropout = x;
    }
    if a.code_dropout {
        m.code_dropout = true;
    }
    let p = &mut c.preprocess;
    if let Some(x) = a.scale {
        p.scaling = x.into();
    }
    if let Some(x) = a.missing {
        p.missing = x.into();
    }
    let t = &mut c.train;
    if let Some(x) = a.epochs {
        // An explicit epoch count is taken as it is.
        t.epochs = x;
        t.min_steps = 0;
    }
    if let Some(x) = a.min_steps {
        t.min_steps = x;
    }
    if let Some(x) = a.batch_size {
        t.batch_size = x;
    }
    if let Some(x) = a.lr {
        t.optimizer.lr = x;
    }
    if let Some(x) = a.weight_decay {
        t.optimizer.weight_decay = x;
    }
    if let Some(x) = a.optimizer {
        t.optimizer.decoupled = matches!(x, OptimizerArg::Adamw);
    }
    if let Some(x) = a.val_split {
        t.val_split = x;
    }
    if a.patience.is_some() {
        t.patience = a.patience;
    }
    if a.keep_last {
        t.restore_best = false;
    }
    if a.clip_grad_norm.is_some() {
        t.clip_grad_norm = a.clip_grad_norm;
    }
    if let Some(x) = a.seed {
        t.seed = x;
    }
    if let Some(m) = a.max_minutes {
        c.train.max_seconds = Some(m * 60.0);
    }
    if let Some(s) = a.max_seconds {
        c.train.max_seconds = Some(s);
    }
    if c.train.max_seconds.is_some() && a.epochs.is_none() && a.config.is_none() {
        // A time budget without an epoch count: train until the budget is spent.
        c.train.epochs = MAX_BUDGET_EPOCHS;
        c.train.min_steps = 0;
    }
    if let Some(d) = a.detector {
        c.detector = d.into();
    }
    if let Some(rule) = a.threshold.rule()? {
        c.threshold = rule;
    }
    a.family.apply(&mut c)?;
    Ok(c)
}
