//! The one training loop: shuffling, batching, validation, early stopping, gradient clipping,
//! the NaN guard, and progress through an [`Observer`]. Every model trains through it.

use crate::config::TrainConfig;
use crate::engine::{Adam, Params};
use crate::rows::{check_fingerprint, InMemory, RowSource};
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What the loop needs from a model: its parameters and a train / eval step on a batch.
pub trait Trainable {
    /// The parameters (values and gradients).
    fn params(&self) -> &Params;
    /// The parameters, mutably.
    fn params_mut(&mut self) -> &mut Params;
    /// Called before each epoch (`epoch` counts from 1), e.g. for KL warm-up.
    fn start_epoch(&mut self, _epoch: usize) {}
    /// True while the objective itself still changes (KL warm-up): losses of such epochs are
    /// not comparable with later ones, so they neither set the best epoch nor use patience.
    fn warming_up(&self) -> bool {
        false
    }
    /// Prepares buffers for batches of up to `rows` rows.
    fn reserve(&mut self, rows: usize);
    /// Forward and backward on `rows` rows of `x`, writing gradients; returns the mean loss.
    fn train_batch(&mut self, x: &[f32], rows: usize, rng: &mut ChaCha8Rng) -> Result<f64>;
    /// Mean loss on `rows` rows, without noise, dropout or gradients.
    fn eval_batch(&mut self, x: &[f32], rows: usize) -> Result<f64>;
}

/// Receives progress from the loop (the CLI draws bars and writes logs from it).
pub trait Observer {
    /// An epoch begins (`epoch` counts from 1).
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A batch finished with this mean loss.
    fn batch_end(&mut self, _batch: usize, _loss: f64) {}
    /// An epoch finished.
    fn epoch_end(&mut self, _report: &EpochReport) {}
    /// The run continues from a checkpoint; these epochs were already done.
    fn resumed(&mut self, _history: &[EpochReport]) {}
    /// A named metric was measured (e.g. a recommender's validation NDCG@100 after an epoch).
    fn metric(&mut self, _name: &str, _value: f64) {}
    /// Asked after every batch: `true` stops the run with [`Error::Interrupted`] (for example
    /// when the user pressed Ctrl-C in a Python session).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Result of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (with noise and dropout).
    pub train_loss: f64,
    /// Mean validation loss, when a validation split is used.
    pub val_loss: Option<f64>,
    /// Best epoch so far.
    pub best_epoch: usize,
    /// Epochs left before early stopping, when patience is set.
    pub patience_left: Option<usize>,
    /// Wall time of the epoch (not saved in the model file, which must not depend on timing).
    #[serde(skip_serializing, default)]
    pub seconds: f64,
}

/// Summary of a training run, saved in the model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Every epoch's report.
    pub history: Vec<EpochReport>,
    /// Epoch whose weights were kept (restored when `restore_best`).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Training rows.
    pub train_rows: usize,
    /// Validation rows.
    pub val_rows: usize,
    /// Total wall time (not saved in the model file).
    #[serde(skip_serializing, default)]
    pub seconds: f64,
}

impl TrainSummary {
    /// The last epoch's report.
    pub fn last(&self) -> Option<&EpochReport> {
        self.history.last()
    }

    /// When training ended while the validation loss was still falling: the last epoch was the
    /// best, below the loss a tenth of the run earlier (at least 2 epochs). Such a model would
    /// likely gain from more epochs. Runs without validation are
    /// not judged: a training loss keeps falling long after the model stops improving.
    pub fn still_improving(&self) -> Option<LossTrend> {
        let n = self.history.len();
        let last = self.history.last()?;
        if n < 3 || self.stopped_early || self.best_epoch != last.epoch {
            return None;
        }
        let epochs = (n / 10).max(2).min(n - 1);
        let (from, to) = (self.history[n - 1 - epochs].val_loss?, last.val_loss?);
        (to < from).then_some(LossTrend { from, to, epochs })
    }
}

/// How the validation loss moved over the last epochs of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossTrend {
    /// The loss `epochs` epochs before the end.
    pub from: f64,
    /// The loss at the end.
    pub to: f64,
    /// Epochs the change spans.
    pub epochs: usize,
}

/// Everything the loop needs to continue a run exactly where it stopped: written into
/// checkpoints after an epoch, and given back to [`train`] to resume. A resumed run ends with
/// the weights an uninterrupted run with the same seed would have.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// The run's random generator (shuffles, noise, dropout) after that epoch.
    pub rng: RngState,
    /// Adam's step count.
    pub adam_step: u32,
    /// Adam's first moments.
    pub adam_m: Vec<f32>,
    /// Adam's second moments.
    pub adam_v: Vec<f32>,
    /// Training row indices in their current (last shuffled) order.
    pub train_order: Vec<usize>,
    /// Validation row indices.
    pub val_order: Vec<usize>,
    /// Best epoch so far (0: none yet).
    pub best_epoch: usize,
    /// Its monitored loss.
    pub best_loss: f64,
    /// Its weights, when the run restores the best weights.
    pub best_weights: Option<Vec<f32>>,
    /// Every finished epoch's report.
    pub history: Vec<EpochReport>,
    /// The training data the run was started on.
    pub data: DataFingerprint,
}

/// The exact position of a [`ChaCha8Rng`] stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte seed.
    pub seed: [u8; 32],
    /// The stream number.
    pub stream: u64,
    /// Position in the stream, in 32-bit words.
    pub word_pos: u128,
}

impl RngState {
    /// Captures where `rng` stands.
    pub fn capture(rng: &ChaCha8Rng) -> Self {
        RngState { seed: rng.get_seed(), stream: rng.get_stream(), word_pos: rng.get_word_pos() }
    }

    /// A generator standing exactly there.
    pub fn restore(&self) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// Identifies training data (shape and an FNV-1a hash of the values' bits), so that a run is
/// only resumed on the data it started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Rows.
    pub rows: usize,
    /// Values per row.
    pub width: usize,
    /// FNV-1a over the little-endian bytes of every value.
    pub hash: u64,
}

impl DataFingerprint {
    /// The fingerprint of `data` with `width` values per row.
    pub fn of(data: &[f32], width: usize) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for v in data {
            for b in v.to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        DataFingerprint { rows: data.len().checked_div(width).unwrap_or(0), width, hash }
    }
}

/// Periodic checkpoints: after every `every`-th epoch, and after the run's last epoch (so a
/// finished run can be extended), the loop hands its state and the current weights to `save`
/// (which must write them atomically).
pub struct Checkpoints<'a> {
    /// Epochs between checkpoints (at least 1).
    pub every: usize,
    /// Writes one checkpoint.
    pub save: &'a mut dyn FnMut(&TrainState, &Params) -> Result<()>,
}

/// How a run starts and what it leaves behind besides the model.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Continue from this state (the weights must already be in the model) instead of
    /// starting afresh.
    pub resume: Option<TrainState>,
    /// Write checkpoints.
    pub checkpoints: Option<Checkpoints<'a>>,
}

/// Trains `model` on the rows of `data` (row-major, `width` values per row).
///
/// `rng` has already seeded the initial weights; it then drives the validation split, the
/// shuffles and any noise, so one seed makes the whole run reproducible. With
/// `options.resume`, the split, order, optimiser, generator and history come from the saved
/// state instead (and `rng` is ignored).
pub fn train(
    model: &mut dyn Trainable,
    data: &[f32],
    width: usize,
    cfg: &TrainConfig,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn Observer,
    options: RunOptions<'_>,
) -> Result<TrainSummary> {
    cfg.validate()?;
    if data.len().checked_div(width).unwrap_or(0) == 0 {
        return Err(Error::Data("no rows to train on".into()));
    }
    let mut source = match &options.resume {
        None => InMemory::split(data, width, cfg.val_split, rng),
        Some(state) => InMemory::resumed(data, width, state)?,
    };
    train_on(model, &mut source, cfg, rng, observer, options)
}

/// Trains `model` on the rows `source` hands out: the loop behind [`train`], for any
/// [`RowSource`] (rows in memory, or streamed from files larger than memory).
///
/// The source has made its validation split already; `rng` drives the shuffles and any noise
/// (with `options.resume`, the saved generator does instead).
pub fn train_on(
    model: &mut dyn Trainable,
    source: &mut dyn RowSource,
    cfg: &TrainConfig,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn Observer,
    options: RunOptions<'_>,
) -> Result<TrainSummary> {
    cfg.validate()?;
    let width = source.width();
    let train_rows = source.train_rows();
    if train_rows == 0 {
        return Err(Error::Data("no rows to train on".into()));
    }
    let fingerprint = source.fingerprint();
    let mut adam = Adam::new(model.params(), cfg.optimizer);
    let mut best = Best::new(model.params().len(), cfg.restore_best);
    let (mut history, first_epoch, mut rng) = match options.resume {
        None => (Vec::with_capacity(cfg.epochs), 1, rng.clone()),
        Some(state) => {
            check_fingerprint(&state, fingerprint)?;
            adam.restore(state.adam_step, &state.adam_m, &state.adam_v).map_err(Error::Config)?;
            best.resume(state.best_epoch, state.best_loss, state.best_weights)?;
            observer.resumed(&state.history);
            (state.history, state.epoch + 1, state.rng.restore())
        }
    };
    let val_rows = source.validation().len() / width.max(1);
    let batch = cfg.batch_size.min(train_rows);
    model.reserve(batch.max(val_rows.min(4096)));
    let mut batch_buf = vec![0.0f32; batch * width];
    let started = Instant::now();
    let batches = train_rows.div_ceil(batch);
    let epochs = cfg.epochs_for(batches);
    // A run that early stopping had ended stays ended when resumed.
    let mut stopped_early = history.last().is_some_and(|r| r.patience_left == Some(0));
    let mut checkpoints = options.checkpoints;
    let last_epoch = if stopped_early { 0 } else { epochs };

    for epoch in first_epoch..=last_epoch {
        let epoch_start = Instant::now();
        observer.epoch_start(epoch, epochs, batches);
        model.start_epoch(epoch);
        source.start_epoch(&mut rng)?;
        let (mut loss_sum, mut seen, mut b) = (0.0f64, 0usize, 0usize);
        loop {
            let n = source.next_batch(&mut batch_buf, &mut rng)?;
            if n == 0 {
                break;
            }
            b += 1;
            let loss = model.train_batch(&batch_buf[..n * width], n, &mut rng)?;
            if !loss.is_finite() {
                return Err(diverged(epoch, b, loss));
            }
            // A non-finite gradient shows up as a non-finite loss at the next step; the norm
            // is only needed (and checked) when clipping.
            if let Some(max) = cfg.clip_grad_norm {
                let norm = model.params().grad_norm();
                if !norm.is_finite() {
                    return Err(diverged(epoch, b, f64::from(norm)));
                }
                if norm > max {
                    model.params_mut().scale_grads(max / norm);
                }
            }
            adam.step(model.params_mut());
            loss_sum += loss * n as f64;
            seen += n;
            observer.batch_end(b, loss);
            if observer.should_stop() {
                return Err(Error::Interrupted { epoch, batch: b });
            }
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        let val_loss =
            if val_rows > 0 { Some(evaluate(model, source.validation(), width)?) } else { None };
        if let Some(v) = val_loss {
            if !v.is_finite() {
                return Err(diverged(epoch, batches, v));
            }
        }
        let monitored = val_loss.unwrap_or(train_loss);
        if model.warming_up() {
            best.reset();
        } else {
            best.update(epoch, monitored, model.params());
        }
        let waited = if best.epoch == 0 { 0 } else { epoch - best.epoch };
        let patience_left = cfg.patience.map(|p| p.saturating_sub(waited));
        let report = EpochReport {
            epoch,
            train_loss,
            val_loss,
            best_epoch: best.epoch,
            patience_left,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        observer.epoch_end(&report);
        history.push(report);
        let out_of_time = cfg.max_seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s);
        let last = patience_left == Some(0) || out_of_time || epoch == epochs;
        if let Some(c) = checkpoints.as_mut().filter(|c| last || epoch % c.every.max(1) == 0) {
            let (adam_step, m, v) = adam.state();
            let (train_order, val_order) = source.orders();
            let state = TrainState {
                epoch,
                rng: RngState::capture(&rng),
                adam_step,
                adam_m: m.to_vec(),
                adam_v: v.to_vec(),
                train_order,
                val_order,
                best_epoch: best.epoch,
                best_loss: best.loss,
                best_weights: best.weights.clone(),
                history: history.clone(),
                data: fingerprint,
            };
            (c.save)(&state, model.params())?;
        }
        if patience_left == Some(0) {
            stopped_early = true;
            break;
        }
        if out_of_time {
            break;
        }
    }
    let best_epoch = if cfg.restore_best && best.epoch > 0 {
        best.restore(model.params_mut());
        best.epoch
    } else {
        history.len()
    };
    Ok(TrainSummary {
        history,
        best_epoch,
        stopped_early,
        train_rows,
        val_rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Mean loss over `data` in batches, weighted by rows.
fn evaluate(model: &mut dyn Trainable, data: &[f32], width: usize) -> Result<f64> {
    let rows = data.len() / width;
    let chunk = 4096.min(rows.max(1));
    let mut total = 0.0;
    for part in data.chunks(chunk * width) {
        let n = part.len() / width;
        total += model.eval_batch(part, n)? * n as f64;
    }
    Ok(total / rows as f64)
}

fn diverged(epoch: usize, batch: usize, loss: f64) -> Error {
    Error::Diverged { epoch, batch, loss }
}

/// The best epoch so far and, when restoring, a copy of its weights.
struct Best {
    epoch: usize,
    loss: f64,
    weights: Option<Vec<f32>>,
}

impl Best {
    fn new(len: usize, keep: bool) -> Self {
        Best { epoch: 0, loss: f64::INFINITY, weights: keep.then(|| vec![0.0; len]) }
    }

    fn update(&mut self, epoch: usize, loss: f64, params: &Params) {
        if loss < self.loss {
            self.loss = loss;
            self.epoch = epoch;
            if let Some(w) = &mut self.weights {
                w.copy_from_slice(params.values());
            }
        }
    }

    fn resume(&mut self, epoch: usize, loss: f64, weights: Option<Vec<f32>>) -> Result<()> {
        match (&mut self.weights, weights) {
            (Some(mine), Some(w)) if w.len() == mine.len() => *mine = w,
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "the checkpoint's best weights do not fit this run (restore_best differs?)"
                        .into(),
                ))
            }
        }
        self.epoch = epoch;
        self.loss = loss;
        Ok(())
    }

    fn reset(&mut self) {
        self.epoch = 0;
        self.loss = f64::INFINITY;
    }

    fn restore(&self, params: &mut Params) {
        if let (Some(w), true) = (&self.weights, self.epoch > 0) {
            params.values_mut().copy_from_slice(w);
        }
    }
}
