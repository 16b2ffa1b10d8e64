//! `latent train`: config file, then flags, then fit, save, and a short summary.

use crate::args::{
    ActivationArg, LossArg, MissingArg, OptimizerArg, OutputArg, ScaleArg, TrainArgs,
};
use crate::data::in_file;
use crate::exit::BadInput;
use crate::progress::TrainProgress;
use crate::{data, output};
use anyhow::{Context, Result};
use latent::{Activation, CheckpointOptions, FitConfig, Loss, MissingPolicy, Model, Scaling};
use std::path::{Path, PathBuf};

/// Runs `latent train`.
pub fn run(args: TrainArgs) -> Result<()> {
    if let Some(kind) = crate::recommend::preset_kind(args.family.preset) {
        return crate::recommend::train(&args, kind);
    }
    let config = fit_config(&args)?;
    config.validate()?;
    let rule = args.threshold.rule()?;
    let dataset = data::load(&args.data, None)?;
    let log_path = metrics_path(&args.out);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut progress = TrainProgress::new(args.quiet, Some(log));
    let checkpoints = checkpoint_options(&args)?;
    let model = Model::fit_with(&dataset.frame, &config, &mut progress, &checkpoints);
    progress.finish();
    let mut model = model.with_context(|| in_file(&dataset))?;
    // The anomaly threshold, calibrated on the training rows (validation rows included).
    let kind = model.default_score_kind();
    model.calibrate(&dataset.frame, &rule, kind).with_context(|| in_file(&dataset))?;
    model.save(&args.out)?;
    if !args.quiet {
        eprintln!("{}", output::train_summary(&model, &args.out));
    }
    if let Some(dir) = &args.plots {
        let opts = crate::plots::PlotOptions::default();
        let n = crate::plots::write_plots(&model, Some(&dataset), &opts, dir)?;
        if !args.quiet {
            eprintln!("wrote {n} plots (PNG and SVG) to {}", dir.display());
        }
    }
    Ok(())
}

/// Checkpoint folder, interval and the run to resume. Resuming keeps checkpointing into the
/// folder it resumes from unless told otherwise, at the interval given (default 1).
fn checkpoint_options(args: &TrainArgs) -> Result<CheckpointOptions> {
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

/// `metrics.jsonl` in the model's folder.
pub fn metrics_path(model: &Path) -> PathBuf {
    match model.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("metrics.jsonl"),
        _ => PathBuf::from("metrics.jsonl"),
    }
}

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
        m.activation = match x {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::LeakyRelu => Activation::LeakyRelu,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Gelu => Activation::Gelu,
        };
    }
    if let Some(x) = a.output_activation {
        m.output = Some(match x {
            OutputArg::Sigmoid => Activation::Sigmoid,
            OutputArg::Identity => Activation::Identity,
        });
    }
    if let Some(x) = a.loss {
        m.loss = match x {
            LossArg::Mse => Loss::Mse,
            LossArg::Mae => Loss::Mae,
            LossArg::Bce => Loss::Bce,
        };
    }
    if let Some(x) = a.dropout {
        m.dropout = x;
    }
    let p = &mut c.preprocess;
    if let Some(x) = a.scale {
        p.scaling = match x {
            ScaleArg::Auto => Scaling::Auto,
            ScaleArg::Standard => Scaling::Standard,
            ScaleArg::Minmax => Scaling::MinMax,
            ScaleArg::None => Scaling::None,
        };
    }
    if let Some(x) = a.missing {
        p.missing = match x {
            MissingArg::Error => MissingPolicy::Error,
            MissingArg::ImputeMean => MissingPolicy::ImputeMean,
        };
    }
    let t = &mut c.train;
    if let Some(x) = a.epochs {
        t.epochs = x;
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
    if let Some(d) = a.detector {
        c.detector = d.into();
    }
    a.family.apply(&mut c)?;
    Ok(c)
}
