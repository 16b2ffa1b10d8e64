//! Scoring windows one at a time: a window's score does not depend on which other windows are
//! scored with it (a matrix product's blocking depends on its row count, which moves the last
//! digits), so a live stream that scores one window per point, a batch, and a longer series
//! all give a point the same bits.

use super::SeriesSpec;
use crate::frame::Frame;
use crate::model::Model;
use crate::score::{Explanation, ScoreKind};
use crate::Result;
use rayon::prelude::*;

/// Scored windows: the model inputs (after preprocessing), their reconstructions and one
/// score per window, all row-major with the model's input width.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredWindows {
    /// Model input width.
    pub width: usize,
    /// Preprocessed inputs.
    pub inputs: Vec<f32>,
    /// Reconstructions.
    pub reconstructions: Vec<f32>,
    /// One score per window.
    pub scores: Vec<f32>,
}

/// Scores every row of `windows` (a frame of flattened windows) on its own, rows in parallel.
pub fn score_windows(model: &Model, windows: &Frame, kind: ScoreKind) -> Result<ScoredWindows> {
    let inputs = model.inputs(windows)?;
    let width = model.preprocessor().output_width().max(1);
    let parts: Vec<(f32, Vec<f32>)> = inputs
        .par_chunks(width)
        .map(|x| {
            let (s, r) = model.score_and_reconstruct(x, kind)?;
            Ok((s.first().copied().unwrap_or(f32::NAN), r.data))
        })
        .collect::<Result<_>>()?;
    let mut scores = Vec::with_capacity(parts.len());
    let mut reconstructions = Vec::with_capacity(inputs.len());
    for (s, r) in parts {
        scores.push(s);
        reconstructions.extend(r);
    }
    Ok(ScoredWindows { width, inputs, reconstructions, scores })
}

impl ScoredWindows {
    /// The `k` value columns with the largest shares of window `i`'s squared reconstruction
    /// error (each column summed over the window's points), largest first.
    pub fn explain(&self, spec: &SeriesSpec, i: usize, k: usize) -> Vec<Explanation> {
        let row = i * self.width..(i + 1) * self.width;
        let (x, y) = (&self.inputs[row.clone()], &self.reconstructions[row]);
        let mut parts = vec![0.0f64; spec.columns.len()];
        for (f, (a, b)) in x.iter().zip(y).enumerate() {
            parts[spec.column_index(f)] += f64::from((b - a) * (b - a));
        }
        let total: f64 = parts.iter().sum();
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by(|&a, &b| parts[b].total_cmp(&parts[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|j| Explanation {
                column: spec.columns[j].clone(),
                share: if total > 0.0 { (parts[j] / total) as f32 } else { 0.0 },
            })
            .collect()
    }
}
