//! `latent info`: what a model file holds.

use crate::args::InfoArgs;
use crate::data;
use crate::options::Format;
use crate::output::{architecture, family, print_json, print_table, threshold_text};
use anyhow::Result;
use latent::preprocess::ColumnTransform;

/// Runs `latent info`.
pub fn run(args: InfoArgs) -> Result<()> {
    if latent::recommend::is_recommender(&args.model) {
        return crate::recommend::info(&args.model, args.format);
    }
    let model = data::load_model(&args.model)?;
    let m = model.manifest();
    if args.manifest {
        return print_json(m);
    }
    let pre = model.preprocessor();
    let kind = model.score_kind();
    if args.format == Format::Json {
        let columns: Vec<serde_json::Value> = pre
            .columns
            .iter()
            .map(|c| match c {
                ColumnTransform::Numeric { name, .. } => {
                    serde_json::json!({"name": name, "kind": "numeric"})
                }
                ColumnTransform::OneHot { name, categories } => {
                    serde_json::json!({"name": name, "kind": "categorical", "categories": categories})
                }
            })
            .collect();
        let summary = model.summary().map(|s| {
            serde_json::json!({
                "train_rows": s.train_rows,
                "val_rows": s.val_rows,
                "epochs": s.history.len(),
                "best_epoch": s.best_epoch,
                "stopped_early": s.stopped_early,
            })
        });
        return print_json(&serde_json::json!({
            "architecture": architecture(&model),
            "family": family(&model),
            "parameters": model.parameter_count(),
            "latent_size": model.code_width(),
            "columns": columns,
            "label_column": pre.label_column,
            "compression": compression_objective(&model),
            "model_inputs": pre.output_width(),
            "scaling": pre.scaling,
            "missing": pre.missing,
            "image": pre.image,
            "detector": model.detector_summary(),
            "score": {"name": kind.name(), "description": kind.describe()},
            "threshold": model.threshold(),
            "training": summary,
            "format": {"name": m.format, "version": m.format_version, "latent": m.latent_version},
        }));
    }
    let cfg = m.model();
    let categorical = pre.categorical_names();
    let mut rows = vec![
        ("model", args.model.display().to_string()),
        ("format", format!("{} v{} (latent {})", m.format, m.format_version, m.latent_version)),
        ("architecture", format!("{} {}", family(&model), architecture(&model))),
        ("latent size", model.code_width().to_string()),
        ("activation", cfg.activation_text(m.output)),
        ("loss", format!("{:?}", cfg.loss)),
        ("dropout", cfg.dropout_text()),
        ("detector", model.detector_summary()),
        ("score", format!("{}: {}", kind.name(), kind.describe())),
        ("threshold", threshold_text(&model)),
        ("parameters", model.parameter_count().to_string()),
        ("input columns", column_list(pre)),
        ("model inputs", pre.output_width().to_string()),
        ("scaling", format!("{:?}", pre.scaling)),
        ("missing values", format!("{:?}", pre.missing)),
        (
            "categorical",
            if categorical.is_empty() { "none".into() } else { categorical.join(", ") },
        ),
    ];
    if let Some(l) = &pre.label_column {
        rows.push((
            "label column",
            format!("{l} (recognised and carried through in later inputs)"),
        ));
    }
    if let Some(img) = pre.image {
        rows.push(("image", format!("{}x{}x{}", img.channels, img.height, img.width)));
    }
    if let Some(text) = compression_objective(&model) {
        rows.push(("compression", text));
    }
    if let Some(ts) = &m.series {
        let time = ts.time_column.as_deref().unwrap_or("row order");
        rows.push((
            "time series",
            format!(
                "window {} (training stride {}), time {time}, columns {}",
                ts.window,
                ts.stride,
                ts.columns.join(", ")
            ),
        ));
    }
    if let Some(s) = model.summary() {
        let t = &m.config.train;
        rows.push(("training rows", format!("{} (+{} validation)", s.train_rows, s.val_rows)));
        rows.push((
            "optimizer",
            format!(
                "{} lr {} weight decay {} batch {} seed {}",
                if t.optimizer.decoupled { "AdamW" } else { "Adam" },
                t.optimizer.lr,
                t.optimizer.weight_decay,
                t.batch_size,
                t.seed
            ),
        ));
        rows.push(("epochs", format!("{} (best {})", s.history.len(), s.best_epoch)));
        if let Some(b) = s.history.iter().find(|r| r.epoch == s.best_epoch) {
            rows.push(("train loss", format!("{:.6}", b.train_loss)));
            if let Some(v) = b.val_loss {
                rows.push(("validation loss", format!("{v:.6}")));
            }
        }
    }
    print_table(&rows)
}

/// `N: a, b, c, ...` (at most 20 names; images only count).
fn column_list(pre: &latent::Preprocessor) -> String {
    let n = pre.columns.len();
    if pre.image.is_some() {
        return format!("{n} (pixels)");
    }
    let names: Vec<&str> = pre.columns.iter().take(20).map(ColumnTransform::name).collect();
    let more = if n > 20 { format!(", ... ({} more)", n - 20) } else { String::new() };
    format!("{n}: {}{more}", names.join(", "))
}

/// A learned-compression model's loss (`--preset compress`): the rate-distortion weight and
/// the distortion.
fn compression_objective(model: &latent::Model) -> Option<String> {
    let o = &model.manifest().config.objective;
    let l = o.lambda?;
    Some(match o.distortion {
        latent::config::Distortion::Mse => format!("bits per pixel + λ·255²·MSE, λ {l}"),
        latent::config::Distortion::MsSsim => format!("bits per pixel + λ·(1 − MS-SSIM), λ {l}"),
    })
}
