//! Training on data read block by block ([`Model::fit_streamed`]): what a streamed run keeps
//! and what it gives, against the same rows fitted in memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::blocks::BlockReader;
use latent::config::Detector;
use latent::train::Silent;
use latent::{Column, FitConfig, Frame, Model, ScoreKind, StreamSettings};

/// A frame served in blocks of `block` rows, each handed over in parts of 50.
struct InBlocks {
    frame: Frame,
    block: usize,
    /// Blocks read so far (all epochs).
    reads: usize,
}

impl BlockReader for InBlocks {
    fn blocks(&self) -> usize {
        self.frame.rows().div_ceil(self.block)
    }
    fn block_rows(&self, b: usize) -> usize {
        self.block.min(self.frame.rows() - b * self.block)
    }
    fn read_block(
        &mut self,
        b: usize,
        each: &mut dyn FnMut(Frame) -> latent::Result<()>,
    ) -> latent::Result<()> {
        self.reads += 1;
        let (start, end) = (b * self.block, b * self.block + self.block_rows(b));
        for s in (start..end).step_by(50) {
            each(self.frame.slice_rows(s, (s + 50).min(end)))?;
        }
        Ok(())
    }
}

/// Rows on a curve, with a categorical column, and a few off it.
fn frame(rows: usize) -> Frame {
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut z = Vec::new();
    let mut k = Vec::new();
    for r in 0..rows {
        let t = (r * 7919 % rows) as f32 / rows as f32;
        let off = if r % 97 == 0 { 3.0 } else { 0.0 };
        x.push(t);
        y.push((6.0 * t).sin() + off);
        z.push(t * t - off);
        k.push(if t < 0.5 { "low" } else { "high" }.to_string());
    }
    Frame::new(vec![
        Column::numeric("x", x),
        Column::numeric("y", y),
        Column::numeric("z", z),
        Column::text("k", k),
    ])
    .expect("frame")
}

fn config() -> FitConfig {
    let mut c = FitConfig::default();
    c.model.hidden = Some(vec![8]);
    c.model.latent = Some(2);
    c.train.epochs = 8;
    c.train.batch_size = 32;
    c.train.min_steps = 0;
    c
}

fn settings() -> StreamSettings {
    StreamSettings { shuffle_rows: Some(300), max_validation_rows: 150, max_sample_rows: 600 }
}

#[test]
fn a_streamed_fit_is_reproducible_and_as_good_as_one_in_memory() -> latent::Result<()> {
    let data = frame(3000);
    let fit = |block| {
        let mut reader = InBlocks { frame: data.clone(), block, reads: 0 };
        let m = Model::fit_streamed(&mut reader, &config(), &settings(), &mut Silent);
        (m, reader.reads)
    };
    let (a, reads) = fit(400);
    let (a, b) = (a?, fit(400).0?);
    assert_eq!(a.params().values(), b.params().values(), "same seed, same model");
    // The preprocessing pass, then every block once per epoch.
    assert_eq!(reads, 8 * (1 + 8));
    assert_eq!(a.preprocessor(), Model::fit(&data, &config(), &mut Silent)?.preprocessor());
    let summary = a.summary().expect("summary");
    assert_eq!((summary.train_rows, summary.val_rows), (2850, 150));
    let streamed = mean(&a.scores(&data, ScoreKind::Mse)?);
    let in_memory =
        mean(&Model::fit(&data, &config(), &mut Silent)?.scores(&data, ScoreKind::Mse)?);
    assert!(streamed < 1.5 * in_memory, "streamed {streamed} vs in memory {in_memory}");
    let first = summary.history[0].val_loss.expect("validation");
    assert!(summary.last().and_then(|r| r.val_loss).expect("val") < first, "it learns");
    assert!(a.threshold().is_some(), "calibrated on the sample");
    Ok(())
}

#[test]
fn a_streamed_fit_fits_the_detector_on_its_sample() -> latent::Result<()> {
    let mut c = config();
    c.detector = Detector::ensemble();
    let mut reader = InBlocks { frame: frame(2000), block: 256, reads: 0 };
    let m = Model::fit_streamed(&mut reader, &c, &settings(), &mut Silent)?;
    assert_eq!(m.default_score_kind(), ScoreKind::Ensemble);
    let hits = |scores: &[f32]| {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
        order[..21].iter().filter(|&&r| r % 97 == 0).count()
    };
    // 21 rows are off the curve: most of them score highest, as in memory.
    let streamed = hits(&m.score(&frame(2000))?);
    let whole = Model::fit_calibrated(&frame(2000), &c, &mut Silent, &Default::default())?;
    let in_memory = hits(&whole.score(&frame(2000))?);
    assert!(streamed >= 15 && streamed + 3 >= in_memory, "{streamed} vs {in_memory} of 21");
    assert!(m.threshold().is_some());
    Ok(())
}

#[test]
fn streamed_errors_name_the_row_in_the_whole_data() {
    let mut data = frame(1000);
    let mut cols = data.columns().to_vec();
    if let latent::ColumnValues::Numeric(v) = &mut cols[1].values {
        v[777] = f32::NAN;
    }
    data = Frame::new(cols).expect("frame");
    let mut reader = InBlocks { frame: data, block: 300, reads: 0 };
    let err =
        Model::fit_streamed(&mut reader, &config(), &settings(), &mut Silent).expect_err("nan");
    assert_eq!(err.to_string(), "data row 778, column \"y\": missing value");
    let mut empty = InBlocks { frame: frame(0), block: 10, reads: 0 };
    assert!(Model::fit_streamed(&mut empty, &config(), &settings(), &mut Silent).is_err());
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}
