//! Training progress: a live bar on a terminal, one line per epoch otherwise, and the
//! `metrics.jsonl` log (one JSON object per epoch).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use latent::{EpochReport, Observer};
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// A progress bar on stderr for a long job that is not training (rows scored, data sets
/// benchmarked): `total` items when known, else a counter with its rate. Hidden with `quiet`
/// or when stderr is not a terminal.
pub fn job_bar(quiet: bool, total: Option<u64>, unit: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = match total {
        Some(_) => {
            format!("[{{bar:30}}] {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}  {{msg}}")
        }
        None => format!("{{spinner}} {{pos}} {unit}  {{per_sec}}  {{elapsed}}  {{msg}}"),
    };
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    bar.set_style(style);
    bar
}

/// Draws progress on stderr and logs metrics.
pub struct TrainProgress {
    bar: Option<ProgressBar>,
    lines: bool,
    log: Option<std::io::BufWriter<std::fs::File>>,
    epochs: usize,
    started: Instant,
    loss_sum: f64,
    batches_seen: usize,
    /// Epochs done before this process (when resuming a checkpoint).
    resumed_epochs: usize,
    /// What the last finished epoch said, shown in the bar during the next one.
    status: String,
    epoch_started: Instant,
    /// Named metrics reported during the current epoch (a recommender's validation NDCG@100),
    /// shown on the epoch's line and logged with it.
    metrics: Vec<(String, f64)>,
    /// Whether an epoch is under way (a metric outside one gets a line of its own).
    in_epoch: bool,
}

impl TrainProgress {
    /// `quiet` silences everything but the log; `log` receives one JSON line per epoch.
    pub fn new(quiet: bool, log: Option<std::fs::File>) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len} batches  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        TrainProgress {
            bar,
            lines: !quiet && !tty,
            log: log.map(std::io::BufWriter::new),
            epochs: 0,
            started: Instant::now(),
            loss_sum: 0.0,
            batches_seen: 0,
            resumed_epochs: 0,
            status: String::new(),
            epoch_started: Instant::now(),
            metrics: Vec::new(),
            in_epoch: false,
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for TrainProgress {
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.epochs = epochs;
        self.loss_sum = 0.0;
        self.batches_seen = 0;
        self.epoch_started = Instant::now();
        self.in_epoch = true;
        if let Some(bar) = &self.bar {
            bar.set_length(batches as u64);
            bar.set_position(0);
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
    }

    fn batch_end(&mut self, batch: usize, loss: f64) {
        self.loss_sum += loss;
        self.batches_seen += 1;
        if let Some(bar) = &self.bar {
            bar.set_position(batch as u64);
            if batch % 8 == 0 {
                let rate = self.batches_seen as f64 / self.epoch_started.elapsed().as_secs_f64();
                bar.set_message(format!(
                    "{rate:.0}/s  train {:.5}{}",
                    self.loss_sum / self.batches_seen as f64,
                    self.status
                ));
            }
        }
    }

    fn epoch_end(&mut self, r: &EpochReport) {
        self.in_epoch = false;
        let mut val = r.val_loss.map_or(String::new(), |v| format!("  val {v:.5}"));
        for (name, value) in &self.metrics {
            val.push_str(&format!("  {name} {value:.4}"));
        }
        let patience = r.patience_left.map_or(String::new(), |p| format!("  patience {p}"));
        let line = format!(
            "epoch {}/{}  train {:.5}{val}  best {}{patience}  {:.1}s",
            r.epoch, self.epochs, r.train_loss, r.best_epoch, r.seconds
        );
        // For the bar during the next epoch: last validation loss, the best epoch so far,
        // the early-stopping countdown and the time left for the whole run.
        let done = r.epoch.saturating_sub(self.resumed_epochs).max(1) as f64;
        let todo = self.epochs.saturating_sub(self.resumed_epochs) as f64;
        let left = self.started.elapsed().as_secs_f64() / done * (todo - done);
        self.status = format!(
            "{val}  best {}{}  run ETA {}",
            r.best_epoch,
            r.patience_left.map_or(String::new(), |p| format!("  stop in {p}")),
            duration(left.max(0.0))
        );
        if let Some(bar) = &self.bar {
            bar.println(&line);
        } else if self.lines {
            eprintln!("{line}");
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        self.log_epoch(r, Some(elapsed));
        self.metrics.clear();
    }

    fn metric(&mut self, name: &str, value: f64) {
        if self.in_epoch {
            self.metrics.push((name.to_string(), value));
            return;
        }
        let line = format!("{name} {value:.4}");
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    fn resumed(&mut self, history: &[EpochReport]) {
        self.resumed_epochs = history.len();
        for r in history {
            self.log_epoch(r, None);
        }
        if self.lines || self.bar.is_some() {
            let line = format!("resuming after epoch {}", history.len());
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

impl TrainProgress {
    /// One `metrics.jsonl` line (epochs replayed from a checkpoint have no timings).
    fn log_epoch(&mut self, r: &EpochReport, elapsed: Option<f64>) {
        if let Some(log) = &mut self.log {
            let mut entry = serde_json::json!({
                "epoch": r.epoch,
                "train_loss": r.train_loss,
                "val_loss": r.val_loss,
                "best_epoch": r.best_epoch,
                "patience_left": r.patience_left,
                "epoch_seconds": elapsed.map(|_| r.seconds),
                "elapsed_seconds": elapsed,
            });
            for (name, value) in &self.metrics {
                entry[metric_key(name)] = serde_json::json!(value);
            }
            let _ = writeln!(log, "{entry}").and_then(|_| log.flush());
        }
    }
}

/// A metric's name as a JSON key: `validation NDCG@100` → `validation_ndcg_100`.
fn metric_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    key.trim_matches('_').to_string()
}

/// `1h02m`, `3m05s`, `42s`.
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, metric_key};

    #[test]
    fn metric_names_become_json_keys() {
        assert_eq!(metric_key("validation NDCG@100"), "validation_ndcg_100");
        assert_eq!(metric_key("Recall@20"), "recall_20");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0.2), "0s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(3720.0), "1h02m");
    }
}
