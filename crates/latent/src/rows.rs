//! Where the training loop's rows come from: a [`RowSource`] holds the validation rows and
//! hands out the training rows in shuffled batches, epoch after epoch. [`InMemory`] serves a
//! matrix held in memory; [`crate::blocks::BlockSource`] streams data larger than memory.

use crate::train::{DataFingerprint, TrainState};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The rows a run trains on (already preprocessed, row-major).
pub trait RowSource {
    /// Values per row.
    fn width(&self) -> usize;
    /// Training rows per epoch.
    fn train_rows(&self) -> usize;
    /// The validation rows, held in memory (empty without a validation split).
    fn validation(&self) -> &[f32];
    /// Identifies the data, so that a checkpoint is resumed only on the data it was made on.
    fn fingerprint(&self) -> DataFingerprint;
    /// The training and validation row orders a checkpoint records (empty where the source
    /// derives them from the seed instead).
    fn orders(&self) -> (Vec<usize>, Vec<usize>);
    /// Begins an epoch: the training rows are reshuffled with `rng`.
    fn start_epoch(&mut self, rng: &mut ChaCha8Rng) -> Result<()>;
    /// Writes the epoch's next rows into `buf` (as many as fit, whole rows) and returns how
    /// many; 0 once the epoch has handed out every training row.
    fn next_batch(&mut self, buf: &mut [f32], rng: &mut ChaCha8Rng) -> Result<usize>;
}

/// A matrix in memory: a seeded split into training and validation rows, and a fresh
/// permutation of the training rows every epoch.
pub struct InMemory<'a> {
    data: &'a [f32],
    width: usize,
    fingerprint: DataFingerprint,
    train: Vec<usize>,
    val: Vec<usize>,
    val_data: Vec<f32>,
    /// Training rows of this epoch handed out so far.
    next: usize,
}

impl<'a> InMemory<'a> {
    /// Splits the rows of `data` (at least one) with `rng`: a share `val_split` of them (but
    /// never all) for validation.
    pub fn split(data: &'a [f32], width: usize, val_split: f32, rng: &mut ChaCha8Rng) -> Self {
        let fingerprint = DataFingerprint::of(data, width);
        let rows = fingerprint.rows;
        let mut order: Vec<usize> = (0..rows).collect();
        order.shuffle(rng);
        let val_rows = ((rows as f64) * f64::from(val_split)).round() as usize;
        let val = order.split_off(rows - val_rows.min(rows.saturating_sub(1)));
        InMemory::with_orders(data, width, fingerprint, order, val)
    }

    /// The split and order a checkpoint recorded, after checking that they fit `data`.
    pub fn resumed(data: &'a [f32], width: usize, state: &TrainState) -> Result<Self> {
        let fingerprint = DataFingerprint::of(data, width);
        check_fingerprint(state, fingerprint)?;
        let rows = fingerprint.rows;
        let in_range = |i: &usize| *i < rows;
        if state.train_order.is_empty()
            || state.train_order.len() + state.val_order.len() != rows
            || !state.train_order.iter().chain(&state.val_order).all(in_range)
        {
            return Err(Error::Config("the checkpoint's row order does not fit the data".into()));
        }
        let (train, val) = (state.train_order.clone(), state.val_order.clone());
        Ok(InMemory::with_orders(data, width, fingerprint, train, val))
    }

    fn with_orders(
        data: &'a [f32],
        width: usize,
        fingerprint: DataFingerprint,
        train: Vec<usize>,
        val: Vec<usize>,
    ) -> Self {
        let mut val_data = Vec::with_capacity(val.len() * width);
        for &r in &val {
            val_data.extend_from_slice(&data[r * width..(r + 1) * width]);
        }
        InMemory { data, width, fingerprint, train, val, val_data, next: 0 }
    }
}

impl RowSource for InMemory<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn train_rows(&self) -> usize {
        self.train.len()
    }

    fn validation(&self) -> &[f32] {
        &self.val_data
    }

    fn fingerprint(&self) -> DataFingerprint {
        self.fingerprint
    }

    fn orders(&self) -> (Vec<usize>, Vec<usize>) {
        (self.train.clone(), self.val.clone())
    }

    fn start_epoch(&mut self, rng: &mut ChaCha8Rng) -> Result<()> {
        self.train.shuffle(rng);
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, buf: &mut [f32], _rng: &mut ChaCha8Rng) -> Result<usize> {
        let w = self.width;
        let end = (self.next + buf.len() / w).min(self.train.len());
        let rows = &self.train[self.next..end];
        for (dst, &r) in buf.chunks_exact_mut(w).zip(rows) {
            dst.copy_from_slice(&self.data[r * w..(r + 1) * w]);
        }
        self.next = end;
        Ok(rows.len())
    }
}

/// A checkpoint resumes only on the data it was made on.
pub fn check_fingerprint(state: &TrainState, data: DataFingerprint) -> Result<()> {
    if state.data == data {
        return Ok(());
    }
    Err(Error::Config(
        "the checkpoint was made on other training data (rows, width or values differ); resume \
         with the same data and settings"
            .into(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn an_epoch_hands_out_every_training_row_once() -> Result<()> {
        let data: Vec<f32> = (0..50).map(|i| i as f32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut source = InMemory::split(&data, 2, 0.2, &mut rng);
        assert_eq!((source.train_rows(), source.validation().len()), (20, 10));
        source.start_epoch(&mut rng)?;
        let mut buf = vec![0.0; 3 * 2];
        let mut seen: Vec<f32> = source.validation().iter().step_by(2).copied().collect();
        loop {
            let n = source.next_batch(&mut buf, &mut rng)?;
            if n == 0 {
                break;
            }
            for row in buf[..n * 2].chunks_exact(2) {
                assert_eq!(row[1], row[0] + 1.0, "rows stay whole");
                seen.push(row[0]);
            }
        }
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (0..25).map(|i| (2 * i) as f32).collect::<Vec<_>>());
        Ok(())
    }

    #[test]
    fn one_row_is_never_all_validation() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let source = InMemory::split(&[1.0, 2.0], 2, 0.5, &mut rng);
        assert_eq!((source.train_rows(), source.validation().len()), (1, 0));
    }
}
