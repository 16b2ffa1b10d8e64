//! Printing results: aligned tables for people, one JSON object for scripts.

use anyhow::Result;
use latent::Model;
use std::path::Path;

/// Prints `value` as one JSON object on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints `key  value` rows with the keys aligned.
pub fn print_table(rows: &[(&str, String)]) -> Result<()> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<width$}  {v}");
    }
    Ok(())
}

/// Architecture as `784-256-32-256-784`.
pub fn architecture(model: &Model) -> String {
    model.layer_widths().iter().map(usize::to_string).collect::<Vec<_>>().join("-")
}

/// What kind of network: `dense`, `conv` or `fully convolutional`, and `VAE` for a Gaussian
/// code (with its beta when not 1).
pub fn family(model: &Model) -> String {
    let cfg = model.manifest().model();
    let mut s = match &cfg.architecture {
        latent::config::Architecture::Dense => "dense".to_string(),
        latent::config::Architecture::Conv { dense_code: true, .. } => "conv".to_string(),
        latent::config::Architecture::Conv { .. } => "fully convolutional".to_string(),
    };
    if model.is_variational() {
        let beta = model.manifest().config.objective.beta;
        s += &if beta == 1.0 { " VAE".to_string() } else { format!(" VAE (beta {beta})") };
    }
    s
}

/// The saved anomaly threshold and the rule that chose it.
pub fn threshold_text(model: &Model) -> String {
    use latent::score::ThresholdRule;
    let Some(t) = model.threshold() else {
        return "none saved in the model".into();
    };
    let rule = match &t.rule {
        ThresholdRule::Contamination { share } => format!("contamination {share}"),
        ThresholdRule::Quantile { q } => format!("quantile {q} of the reference scores"),
        ThresholdRule::MeanStd { k } => format!("mean + {k} std of the reference scores"),
        ThresholdRule::Fixed { value } => format!("fixed value {value}"),
        ThresholdRule::Auto => "auto (robust 3-sigma on log scores)".into(),
    };
    format!(
        "{} > {:.6} ({rule}; flags {:.1}% of {} reference rows)",
        t.score.name(),
        t.value,
        100.0 * f64::from(t.flagged_share),
        t.rows
    )
}

/// The lines printed after training.
pub fn train_summary(model: &Model, path: &Path) -> String {
    let mut s = format!(
        "saved {} ({} parameters, {})",
        path.display(),
        model.parameter_count(),
        architecture(model)
    );
    if let Some(sum) = model.summary() {
        let best = sum.history.iter().find(|r| r.epoch == sum.best_epoch).or(sum.last());
        if let Some(b) = best {
            s += &format!(
                "\nbest epoch {} of {}: train loss {:.6}{}  ({:.1}s{})",
                b.epoch,
                sum.history.len(),
                b.train_loss,
                b.val_loss.map_or(String::new(), |v| format!(", validation loss {v:.6}")),
                sum.seconds,
                if sum.stopped_early { ", stopped early" } else { "" }
            );
        }
    }
    s
}
