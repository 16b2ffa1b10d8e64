//! Fitting the preprocessing block by block: [`PreprocessFit`] gathers, one [`Frame`] at a
//! time, what [`Preprocessor::fit`] needs (counts, sums, extremes and category lists), so that
//! data larger than memory is fitted in one streaming pass. A whole frame is one block: both
//! paths are this code, and give the same preprocessing on the same rows.

use crate::config::{MissingPolicy, PreprocessConfig, Scaling};
use crate::frame::{Column, ColumnValues, Frame, ImageShape};
use crate::preprocess::{first_missing, ColumnTransform, Preprocessor, MAX_ID_LIKE_CATEGORIES};
use crate::{Error, Result};
use std::collections::BTreeSet;

/// More distinct values than this in one column stop the fit: no one-hot encoding of that
/// width is a useful model input, and the list would grow without bound on a stream.
pub const MAX_CATEGORIES: usize = 1_000_000;

/// Statistics of one input column so far.
#[derive(Debug, Clone)]
enum ColumnStats {
    Numeric { n: usize, sum: f64, sq: f64, lo: f64, hi: f64, missing: bool },
    Text { categories: BTreeSet<String>, present: usize },
}

/// The preprocessing being fitted, block by block.
#[derive(Debug, Clone)]
pub struct PreprocessFit {
    cfg: PreprocessConfig,
    names: Vec<String>,
    stats: Vec<ColumnStats>,
    image: Option<ImageShape>,
    rows: usize,
}

impl PreprocessFit {
    /// An empty fit with these settings.
    pub fn new(cfg: &PreprocessConfig) -> Self {
        PreprocessFit {
            cfg: cfg.clone(),
            names: Vec::new(),
            stats: Vec::new(),
            image: None,
            rows: 0,
        }
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds the rows of `block`, which must have the columns of the first block, in order.
    pub fn add(&mut self, block: &Frame) -> Result<()> {
        if self.rows == 0 && self.names.is_empty() {
            if block.width() == 0 {
                return Err(Error::Data("data has no feature columns".into()));
            }
            self.names = block.names();
            self.image = block.image_shape();
            self.stats = block.columns().iter().map(empty_stats).collect();
        } else if block.names() != self.names {
            return Err(Error::Schema(format!(
                "a later block of the data has other columns ({}) than the first ({})",
                block.names().join(", "),
                self.names.join(", ")
            )));
        }
        if self.cfg.missing == MissingPolicy::Error {
            if let Some(Error::Missing { row, column }) = first_missing(block.columns().iter()) {
                return Err(Error::Missing { row: self.rows + row, column });
            }
        }
        for (s, c) in self.stats.iter_mut().zip(block.columns()) {
            add_column(s, c)?;
        }
        self.rows += block.rows();
        Ok(())
    }

    /// The fitted preprocessing, and whether every value it produces from the rows seen lies
    /// in [0, 1] (then a sigmoid output suits the model).
    pub fn finish(self) -> Result<(Preprocessor, bool)> {
        if self.names.is_empty() {
            return Err(Error::Data("data has no feature columns".into()));
        }
        if self.rows == 0 {
            return Err(Error::Data("data has no rows".into()));
        }
        let scaling = match self.cfg.scaling {
            Scaling::Auto if self.image.is_some() => Scaling::None,
            Scaling::Auto => Scaling::Standard,
            s => s,
        };
        let mut unit = true;
        let mut columns = Vec::with_capacity(self.stats.len());
        for (name, s) in self.names.into_iter().zip(self.stats) {
            let (t, in_unit) = transform_of(name, s, scaling)?;
            unit &= in_unit;
            columns.push(t);
        }
        let p = Preprocessor {
            scaling,
            missing: self.cfg.missing,
            columns,
            image: self.image,
            label_column: None,
            id_columns: Vec::new(),
        };
        Ok((p, unit))
    }
}

fn empty_stats(c: &Column) -> ColumnStats {
    match c.values {
        ColumnValues::Numeric(_) => ColumnStats::Numeric {
            n: 0,
            sum: 0.0,
            sq: 0.0,
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
            missing: false,
        },
        ColumnValues::Text(_) => ColumnStats::Text { categories: BTreeSet::new(), present: 0 },
    }
}

fn add_column(s: &mut ColumnStats, c: &Column) -> Result<()> {
    match (s, &c.values) {
        (ColumnStats::Numeric { n, sum, sq, lo, hi, missing }, ColumnValues::Numeric(v)) => {
            for &x in v {
                if x.is_nan() {
                    *missing = true;
                    continue;
                }
                let x = f64::from(x);
                *n += 1;
                *sum += x;
                *sq += x * x;
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        }
        (ColumnStats::Text { categories, present }, ColumnValues::Text(v)) => {
            for s in v.iter().filter(|s| !s.is_empty()) {
                *present += 1;
                if !categories.contains(s) {
                    categories.insert(s.clone());
                }
            }
            if categories.len() > MAX_CATEGORIES {
                return Err(Error::Data(format!(
                    "column \"{}\" has more than {MAX_CATEGORIES} distinct values: too many to \
                     one-hot encode",
                    c.name
                )));
            }
        }
        _ => {
            return Err(Error::Schema(format!(
                "column \"{}\" holds numbers in one part of the data and text in another; \
                 declare it categorical to read it as text throughout",
                c.name
            )))
        }
    }
    Ok(())
}

/// The column's transform, and whether it maps every value seen into [0, 1].
fn transform_of(name: String, s: ColumnStats, scaling: Scaling) -> Result<(ColumnTransform, bool)> {
    match s {
        ColumnStats::Text { categories, present } => {
            if categories.len() > MAX_ID_LIKE_CATEGORIES && 2 * categories.len() > present {
                return Err(Error::IdLikeColumn {
                    column: name,
                    distinct: categories.len(),
                    rows: present,
                });
            }
            let categories = categories.into_iter().collect();
            Ok((ColumnTransform::OneHot { name, categories }, true))
        }
        ColumnStats::Numeric { n, sum, sq, lo, hi, missing } => {
            if n == 0 {
                return Err(Error::Data(format!("column \"{name}\" has no values")));
            }
            let mean = sum / n as f64;
            let std = (sq / n as f64 - mean * mean).max(0.0).sqrt();
            let nonzero = |s: f64| if s > 1e-12 { s } else { 1.0 };
            let (shift, scale) = match scaling {
                Scaling::Standard => (mean, nonzero(std)),
                Scaling::MinMax => (lo, nonzero(hi - lo)),
                Scaling::None | Scaling::Auto => (0.0, 1.0),
            };
            let (shift, scale, fill) = (shift as f32, scale as f32, mean as f32);
            // The same f32 arithmetic as the transform, on the extremes (and on the imputed
            // value, when some were missing).
            let mut seen = vec![lo as f32, hi as f32];
            if missing {
                seen.push(fill);
            }
            let unit = seen.iter().all(|&x| (0.0..=1.0).contains(&((x - shift) / scale)));
            Ok((ColumnTransform::Numeric { name, shift, scale, fill }, unit))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn frame(rows: std::ops::Range<usize>) -> Frame {
        let x: Vec<f32> = rows.clone().map(|i| (i as f32 * 0.37).sin() * 10.0).collect();
        let k: Vec<String> = rows.map(|i| ["a", "b", "c"][i % 3].to_string()).collect();
        Frame::new(vec![Column::numeric("x", x), Column::text("k", k)]).expect("frame")
    }

    #[test]
    fn blocks_give_the_whole_frame_fit() -> Result<()> {
        for scaling in [Scaling::Standard, Scaling::MinMax, Scaling::None] {
            let cfg = PreprocessConfig { scaling, ..PreprocessConfig::default() };
            let whole = Preprocessor::fit(&frame(0..100), &cfg)?;
            let mut fit = PreprocessFit::new(&cfg);
            for start in (0..100).step_by(30) {
                fit.add(&frame(start..(start + 30).min(100)))?;
            }
            let (blocks, unit) = fit.finish()?;
            assert_eq!(blocks, whole);
            assert_eq!(unit, scaling == Scaling::MinMax);
        }
        Ok(())
    }

    #[test]
    fn a_missing_value_is_named_by_its_row_in_the_whole_stream() {
        let mut fit = PreprocessFit::new(&PreprocessConfig::default());
        fit.add(&frame(0..10)).expect("first block");
        let x = vec![1.0, f32::NAN];
        let k = vec!["a".to_string(), "b".to_string()];
        let block = Frame::new(vec![Column::numeric("x", x), Column::text("k", k)]).expect("f");
        let err = fit.add(&block).expect_err("missing");
        assert_eq!(err.to_string(), "data row 12, column \"x\": missing value");
    }

    #[test]
    fn blocks_with_other_columns_or_kinds_are_refused() {
        let mut fit = PreprocessFit::new(&PreprocessConfig::default());
        fit.add(&frame(0..10)).expect("first block");
        let other = Frame::new(vec![Column::numeric("y", vec![1.0])]).expect("f");
        assert!(fit.add(&other).expect_err("columns").to_string().contains("other columns"));
        let kinds = Frame::new(vec![
            Column::text("x", vec!["1".into()]),
            Column::text("k", vec!["a".into()]),
        ])
        .expect("f");
        assert!(fit.add(&kinds).expect_err("kinds").to_string().contains("categorical"));
        assert!(PreprocessFit::new(&PreprocessConfig::default()).finish().is_err());
    }
}
