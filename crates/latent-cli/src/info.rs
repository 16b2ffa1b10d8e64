//! `latent info`: what a model file holds.

use crate::args::{Format, InfoArgs};
use crate::data;
use crate::output::{architecture, family, print_json, print_table, threshold_text};
use anyhow::Result;

/// Runs `latent info`.
pub fn run(args: InfoArgs) -> Result<()> {
    if latent::recommend::is_recommender(&args.model) {
        return crate::recommend::info(&args.model, args.format);
    }
    let model = data::load_model(&args.model)?;
    let m = model.manifest();
    if args.format == Format::Json {
        return print_json(&serde_json::json!({
            "architecture": architecture(&model),
            "parameters": model.parameter_count(),
            "manifest": m,
        }));
    }
    let cfg = m.model();
    let pre = model.preprocessor();
    let categorical = pre.categorical_names();
    let mut rows = vec![
        ("model", args.model.display().to_string()),
        ("format", format!("{} v{} (latent {})", m.format, m.format_version, m.latent_version)),
        ("architecture", format!("{} {}", family(&model), architecture(&model))),
        ("latent size", model.code_width().to_string()),
        ("activation", format!("{:?} hidden, {:?} output", cfg.activation, m.output)),
        ("loss", format!("{:?}", cfg.loss)),
        ("dropout", cfg.dropout.to_string()),
        ("detector", detector_text(&model)),
        ("threshold", threshold_text(&model)),
        ("parameters", model.parameter_count().to_string()),
        ("input columns", pre.columns.len().to_string()),
        ("model inputs", pre.output_width().to_string()),
        ("scaling", format!("{:?}", pre.scaling)),
        ("missing values", format!("{:?}", pre.missing)),
        (
            "categorical",
            if categorical.is_empty() { "none".into() } else { categorical.join(", ") },
        ),
    ];
    if let Some(img) = pre.image {
        rows.push(("image", format!("{}x{}x{}", img.channels, img.height, img.width)));
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

/// The anomaly detector: reconstruction error, or the forest's size.
fn detector_text(model: &latent::Model) -> String {
    match model.forest() {
        Some(f) => {
            let shape = f.shape();
            format!(
                "isolation forest on residuals and inputs ({} trees, depth {}, {} features)",
                shape.trees, shape.depth, shape.width
            )
        }
        None => "reconstruction error".into(),
    }
}
