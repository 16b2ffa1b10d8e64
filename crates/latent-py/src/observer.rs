//! The training observer of a fit from Python: progress lines on `sys.stderr` with
//! `verbose=1`, and Ctrl-C (Python's pending signals) stops the run.

use latent::{EpochReport, Observer};
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// How often a running fit asks Python for pending signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Progress and interruption of one fit.
pub struct PyObserver {
    verbose: u32,
    epochs: usize,
    last_check: Instant,
    /// The exception a signal handler raised (Ctrl-C: `KeyboardInterrupt`).
    pending: Option<PyErr>,
}

impl PyObserver {
    /// An observer printing one line per epoch when `verbose > 0`.
    pub fn new(verbose: u32) -> PyObserver {
        PyObserver { verbose, epochs: 0, last_check: Instant::now(), pending: None }
    }

    /// Drops the exception the signal handler raised (the fit's own error, `KeyboardInterrupt`
    /// from [`latent::Error::Interrupted`], is raised instead), after flushing progress.
    pub fn finish(&mut self, py: Python<'_>) {
        self.pending = None;
        if self.verbose > 0 {
            let _ = py.import("sys").and_then(|s| s.getattr("stderr")?.call_method0("flush"));
        }
    }

    /// Writes a progress line to `sys.stderr` (so that notebooks show it); a failed write
    /// loses the line, not the fit.
    fn write(&self, line: String) {
        Python::attach(|py| {
            let stderr = py.import("sys").and_then(|s| s.getattr("stderr"));
            let _ = stderr.and_then(|e| e.call_method1("write", (line,)));
        });
    }
}

impl Observer for PyObserver {
    fn epoch_start(&mut self, _epoch: usize, epochs: usize, _batches: usize) {
        self.epochs = epochs;
    }

    fn epoch_end(&mut self, r: &EpochReport) {
        if self.verbose == 0 {
            return;
        }
        let val = r.val_loss.map_or(String::new(), |v| format!(", val_loss {v:.6}"));
        self.write(format!(
            "epoch {}/{}: loss {:.6}{val} ({:.2}s)\n",
            r.epoch, self.epochs, r.train_loss, r.seconds
        ));
    }

    fn should_stop(&mut self) -> bool {
        if self.pending.is_some() {
            return true;
        }
        if self.last_check.elapsed() < SIGNAL_CHECK {
            return false;
        }
        self.last_check = Instant::now();
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                self.pending = Some(e);
                true
            }
        })
    }
}
