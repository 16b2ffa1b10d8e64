//! Printing results: aligned tables for people, one JSON object for scripts.

use anyhow::Result;
use latent::Model;
use std::io::Write as _;
use std::path::Path;

/// Writes `text` and a line end to stdout. Unlike `println!`, a closed pipe (`latent info |
/// head`) is an error the caller returns, and `main` ends quietly on it instead of panicking.
pub fn print_line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(out.flush()?)
}

/// Prints `value` as one JSON object on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    print_line(&serde_json::to_string_pretty(value)?)
}

/// Prints `key  value` rows with the keys aligned.
pub fn print_table(rows: &[(&str, String)]) -> Result<()> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text: Vec<String> = rows.iter().map(|(k, v)| format!("{k:<width$}  {v}")).collect();
    print_line(&text.join("\n"))
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

/// Where a command writes its results: a file that appears only when complete
/// ([`latent_data::AtomicFile`]), or standard output.
pub enum Sink {
    /// A result file, renamed into place by [`Sink::finish`].
    File(latent_data::AtomicFile),
    /// Standard output.
    Stdout(std::io::Stdout),
}

impl Sink {
    /// Flushes, and moves a result file into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::File(f) => Ok(f.commit()?),
            Sink::Stdout(mut s) => Ok(std::io::Write::flush(&mut s)?),
        }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(s) => s.flush(),
        }
    }
}

/// Writes a whole result file at once: it appears complete or not at all.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = latent_data::AtomicFile::create(path)?;
    std::io::Write::write_all(&mut f, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(f.commit()?)
}
