//! The per-dimension discrete model of a quantised code: integer probability tables fitted
//! once on the training codes and stored in the model file.
//!
//! Every probability is a whole number out of `2^PRECISION`, so the encoder and the decoder
//! use exactly the same model on any machine: no floating point is involved once the table
//! is saved.

use serde::{Deserialize, Serialize};

/// Fixed-point precision of the stored probabilities (they sum to `2^PRECISION`); the range
/// coder's default precision.
pub const PRECISION: usize = 24;
/// Most symbols one dimension's table holds (besides the escape); values outside its range
/// are escaped and written beside the coded stream.
pub const MAX_SYMBOLS: usize = 4096;
/// Largest magnitude of a quantised value (larger codes are an error, not a wrap-around).
pub const MAX_LEVEL: i64 = 1 << 30;

/// The discrete model of one code dimension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimTable {
    /// The quantised value of symbol 1 (symbol `k` stands for `min + k - 1`).
    pub min: i32,
    /// Fixed-point probabilities: `freq[0]` is the escape, `freq[k]` the value `min + k - 1`.
    /// All are at least 1 and they sum to `2^PRECISION`.
    pub freq: Vec<u32>,
}

/// The discrete model of a model's quantised code: the quantisation step and one table per
/// code dimension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodecTables {
    /// The quantisation step: a code value `z` is stored as `round(z / step)`.
    pub step: f32,
    /// One table per code dimension, or per channel when `per_channel`.
    pub dims: Vec<DimTable>,
    /// The tables are per channel of a channels-last code (value `j` of a row uses table
    /// `j % dims.len()`): the tables of a learned factorized density (`--preset compress`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_channel: bool,
}

impl CodecTables {
    /// Fits the tables on quantised training codes (`levels`, row-major, `width` per row).
    /// Each dimension covers its observed range (at most [`MAX_SYMBOLS`] values around the
    /// median); probabilities are the counts plus one half, so every value of the range and
    /// the escape stay codable.
    pub fn fit(levels: &[i32], width: usize, step: f32) -> Result<CodecTables, String> {
        if !(step.is_finite() && step > 0.0) {
            return Err(format!("the quantisation step must be a positive number, got {step}"));
        }
        if width == 0 || levels.is_empty() || levels.len() % width != 0 {
            return Err("no codes to fit the entropy model on".into());
        }
        let dims = (0..width)
            .map(|d| {
                let mut column: Vec<i32> = levels.iter().skip(d).step_by(width).copied().collect();
                column.sort_unstable();
                fit_dim(&column)
            })
            .collect();
        Ok(CodecTables { step, dims, per_channel: false })
    }

    /// Checks that the tables are usable for a code of `width` dimensions: positive finite
    /// step, one table per dimension, every probability nonzero and each table summing to
    /// `2^PRECISION`.
    pub fn check(&self, width: usize) -> Result<(), String> {
        if !(self.step.is_finite() && self.step > 0.0) {
            return Err(format!("quantisation step {} is not a positive number", self.step));
        }
        let fits = if self.per_channel {
            !self.dims.is_empty() && width % self.dims.len() == 0
        } else {
            self.dims.len() == width
        };
        if !fits {
            return Err(format!(
                "the entropy model has {} dimensions but the code has {width}",
                self.dims.len()
            ));
        }
        for (d, t) in self.dims.iter().enumerate() {
            let bad = |why: &str| Err(format!("entropy model of code dimension {d}: {why}"));
            if t.freq.len() < 2 || t.freq.len() > MAX_SYMBOLS + 1 {
                return bad("wrong number of symbols");
            }
            if i64::from(t.min) < -MAX_LEVEL || i64::from(t.min) + t.freq.len() as i64 > MAX_LEVEL {
                return bad("value range too large");
            }
            if t.freq.contains(&0) {
                return bad("a zero probability");
            }
            let sum: u64 = t.freq.iter().map(|&f| u64::from(f)).sum();
            if sum != 1 << PRECISION {
                return bad("probabilities do not sum to one");
            }
        }
        Ok(())
    }

    /// The ideal code length of `levels` (rows of this model's code) in bits, from the
    /// integer tables (escapes counted at 32 bits each).
    pub fn ideal_bits(&self, levels: &[i32]) -> f64 {
        let width = self.dims.len().max(1);
        let total = (1u64 << PRECISION) as f64;
        levels
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let t = &self.dims[i % width];
                match symbol(t, v) {
                    Some(s) => -(f64::from(t.freq[s]) / total).log2(),
                    None => -(f64::from(t.freq[0]) / total).log2() + 32.0,
                }
            })
            .sum()
    }
}

/// The symbol of value `v` in table `t`, or `None` when it must be escaped.
pub fn symbol(t: &DimTable, v: i32) -> Option<usize> {
    let k = i64::from(v) - i64::from(t.min) + 1;
    (1..t.freq.len() as i64).contains(&k).then_some(k as usize)
}

impl DimTable {
    /// A table from probabilities: `probs[i]` of the value `min + i`, `escape` of every value
    /// outside (each kept at least `2^-PRECISION`).
    pub fn from_probabilities(min: i32, probs: &[f64], escape: f64) -> DimTable {
        let scale = (1u64 << 40) as f64;
        let weight: Vec<u64> = std::iter::once(escape)
            .chain(probs.iter().copied())
            .map(|p| (p.max(0.0) * scale) as u64 + 1)
            .collect();
        DimTable { min, freq: to_fixed_point(&weight) }
    }
}

/// One dimension's table from its sorted quantised values.
fn fit_dim(sorted: &[i32]) -> DimTable {
    let (lo, hi) = (i64::from(sorted[0]), i64::from(sorted[sorted.len() - 1]));
    let median = i64::from(sorted[sorted.len() / 2]);
    let half = (MAX_SYMBOLS / 2) as i64;
    let lo = lo.max(median - half);
    let hi = hi.min(lo + MAX_SYMBOLS as i64 - 1);
    let n = (hi - lo + 1) as usize;
    // Twice the counts plus one: the counts plus a half, in integers.
    let mut weight = vec![1u64; n + 1];
    let mut escaped = 0u64;
    for &v in sorted {
        let v = i64::from(v);
        if (lo..=hi).contains(&v) {
            weight[(v - lo) as usize + 1] += 2;
        } else {
            escaped += 1;
        }
    }
    weight[0] += 2 * escaped;
    DimTable { min: lo as i32, freq: to_fixed_point(&weight) }
}

/// Integer weights to probabilities out of `2^PRECISION`, each at least 1, summing exactly.
fn to_fixed_point(weight: &[u64]) -> Vec<u32> {
    let total = 1u128 << PRECISION;
    let spare = total - weight.len() as u128;
    let sum: u128 = weight.iter().map(|&w| u128::from(w)).sum();
    let mut freq: Vec<u32> =
        weight.iter().map(|&w| (1 + u128::from(w) * spare / sum) as u32).collect();
    let assigned: u128 = freq.iter().map(|&f| u128::from(f)).sum();
    let mut largest = 0;
    for (i, &w) in weight.iter().enumerate() {
        if w > weight[largest] {
            largest = i;
        }
    }
    freq[largest] += (total - assigned) as u32;
    freq
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_sum_to_one_and_cover_the_range() {
        let levels: Vec<i32> = (0..1000).map(|i| (i % 7) - 3 + (i % 2) * 10).collect();
        let t = CodecTables::fit(&levels, 2, 0.5).unwrap();
        t.check(2).unwrap();
        assert_eq!(t.dims[0].min, -3);
        assert_eq!(symbol(&t.dims[0], -3), Some(1));
        assert_eq!(symbol(&t.dims[0], -4), None);
        assert!(t.ideal_bits(&levels) < 1000.0 * 4.0);
    }

    #[test]
    fn wide_ranges_are_capped_and_escaped() {
        let mut levels: Vec<i32> = vec![0; 100];
        levels.push(1 << 29);
        levels.push(-(1 << 29));
        let t = CodecTables::fit(&levels, 1, 1.0).unwrap();
        t.check(1).unwrap();
        assert!(t.dims[0].freq.len() <= MAX_SYMBOLS + 1);
        assert_eq!(symbol(&t.dims[0], 1 << 29), None);
    }

    #[test]
    fn bad_tables_are_refused() {
        let t = CodecTables::fit(&[0, 1, 2], 1, 1.0).unwrap();
        let mut bad = t.clone();
        bad.dims[0].freq[1] -= 1;
        assert!(bad.check(1).is_err());
        let mut bad = t.clone();
        bad.dims[0].freq[0] = 0;
        assert!(bad.check(1).is_err());
        assert!(t.check(2).is_err());
        assert!(CodecTables::fit(&[0], 1, 0.0).is_err());
        assert!(CodecTables::fit(&[0], 1, f32::NAN).is_err());
    }
}
