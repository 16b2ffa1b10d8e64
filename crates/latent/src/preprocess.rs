//! Preprocessing fitted on training data and saved with the model: scaling of numeric columns,
//! one-hot encoding of categorical columns, and the missing-value policy.

use crate::config::{MissingPolicy, PreprocessConfig, Scaling};
use crate::frame::{Column, ColumnValues, Frame, ImageShape};
use crate::preprocess_fit::PreprocessFit;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Rows per block of [`Preprocessor::transform`]'s row-major writes (128 rows of 30 inputs:
/// 15 KB, within a first-level cache).
const TRANSFORM_BLOCK_ROWS: usize = 128;

/// The fitted transform of one input column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnTransform {
    /// `(x - shift) / scale`; missing values become `fill` when imputing.
    Numeric {
        /// Column name.
        name: String,
        /// Subtracted first (mean or min).
        shift: f32,
        /// Divided by next (std or range; 1 when constant).
        scale: f32,
        /// Training mean, used to impute missing values.
        fill: f32,
    },
    /// One value per known category; unknown and missing categories map to all zeros.
    OneHot {
        /// Column name.
        name: String,
        /// Known categories, in output order.
        categories: Vec<String>,
    },
}

impl ColumnTransform {
    /// The input column's name.
    pub fn name(&self) -> &str {
        match self {
            ColumnTransform::Numeric { name, .. } | ColumnTransform::OneHot { name, .. } => name,
        }
    }

    /// Number of model inputs this column produces.
    pub fn width(&self) -> usize {
        match self {
            ColumnTransform::Numeric { .. } => 1,
            ColumnTransform::OneHot { categories, .. } => categories.len(),
        }
    }
}

/// Per-row facts about inputs that their encoding hides (see [`Preprocessor::input_quality`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputQuality {
    /// Per row: cells with a category unseen in training.
    pub unknown: Vec<u32>,
    /// Columns with unseen categories, and how many cells.
    pub unknown_by_column: Vec<(String, usize)>,
    /// Per row: every input cell is missing.
    pub all_missing: Vec<bool>,
}

/// Fitted preprocessing: per-column transforms and the policy for missing values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// Resolved scaling.
    pub scaling: Scaling,
    /// Missing-value policy.
    pub missing: MissingPolicy,
    /// One transform per input column, in input order.
    pub columns: Vec<ColumnTransform>,
    /// Image shape of the rows, when they are images.
    pub image: Option<ImageShape>,
    /// The label column the training file had (kept out of the features): later inputs that
    /// still have it carry it through to outputs instead of failing on an extra column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// Identifier columns the training file had (kept out of the features, carried through to
    /// outputs, recognised in later inputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_columns: Vec<String>,
}

impl Preprocessor {
    /// Fits scaling statistics and category lists on `frame` (data larger than memory is
    /// fitted block by block with [`crate::preprocess_fit::PreprocessFit`], the same code).
    pub fn fit(frame: &Frame, cfg: &PreprocessConfig) -> Result<Self> {
        let mut fit = PreprocessFit::new(cfg);
        fit.add(frame)?;
        Ok(fit.finish()?.0)
    }

    /// Width of the transformed rows (model input width).
    pub fn output_width(&self) -> usize {
        self.columns.iter().map(ColumnTransform::width).sum()
    }

    /// Input column names, in order.
    pub fn input_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name().to_string()).collect()
    }

    /// Names of the categorical input columns.
    pub fn categorical_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| matches!(c, ColumnTransform::OneHot { .. }))
            .map(|c| c.name().to_string())
            .collect()
    }

    /// Names of the model inputs: the column name, or `column=category` for one-hot values.
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.output_width());
        for c in &self.columns {
            match c {
                ColumnTransform::Numeric { name, .. } => out.push(name.clone()),
                ColumnTransform::OneHot { name, categories } => {
                    out.extend(categories.iter().map(|k| format!("{name}={k}")))
                }
            }
        }
        out
    }

    /// Transforms `frame` into row-major model inputs. Columns are matched by name.
    pub fn transform(&self, frame: &Frame) -> Result<Vec<f32>> {
        let inputs = self.match_columns(frame)?;
        if self.missing == MissingPolicy::Error {
            let numeric =
                self.columns.iter().zip(&inputs).filter_map(|(t, c)| {
                    matches!(t, ColumnTransform::Numeric { .. }).then_some(*c)
                });
            if let Some(e) = first_missing(numeric) {
                return Err(e);
            }
        }
        let width = self.output_width();
        let rows = frame.rows();
        let mut out = vec![0.0f32; rows * width];
        // Numeric columns without missing or infinite values: (offset, shift, scale, values),
        // scaled below without a branch per value.
        let mut plain = Vec::with_capacity(self.columns.len());
        let mut offset = 0;
        for (t, col) in self.columns.iter().zip(inputs) {
            match (t, &col.values) {
                (ColumnTransform::Numeric { shift, scale, .. }, ColumnValues::Numeric(v))
                    if v.iter().all(|x| x.is_finite()) =>
                {
                    plain.push((offset, *shift, *scale, v.as_slice()));
                }
                (
                    ColumnTransform::Numeric { name, shift, scale, fill },
                    ColumnValues::Numeric(v),
                ) => {
                    for (r, &x) in v.iter().enumerate() {
                        let x = if x.is_nan() {
                            match self.missing {
                                MissingPolicy::ImputeMean => *fill,
                                MissingPolicy::Error => {
                                    return Err(Error::Missing { row: r + 1, column: name.clone() })
                                }
                            }
                        } else if !x.is_finite() {
                            return Err(Error::Data(format!(
                                "data row {}, column \"{name}\": value {x} is not finite",
                                r + 1
                            )));
                        } else {
                            x
                        };
                        out[r * width + offset] = (x - shift) / scale;
                    }
                }
                (ColumnTransform::OneHot { categories, .. }, ColumnValues::Text(v)) => {
                    for (r, s) in v.iter().enumerate() {
                        if let Ok(k) = categories.binary_search(s) {
                            out[r * width + offset + k] = 1.0;
                        }
                    }
                }
                (ColumnTransform::OneHot { categories, .. }, ColumnValues::Numeric(v)) => {
                    // A categorical column whose values all look numeric in this file.
                    for (r, x) in v.iter().enumerate() {
                        if let Ok(k) = categories.binary_search(&x.to_string()) {
                            out[r * width + offset + k] = 1.0;
                        }
                    }
                }
                (ColumnTransform::Numeric { name, .. }, ColumnValues::Text(v)) => {
                    let first = v.iter().position(|s| !s.is_empty()).unwrap_or(0);
                    let value = v.get(first).map_or("", String::as_str);
                    return Err(Error::Data(format!(
                        "data row {}, column \"{name}\": non-numeric value \"{value}\" in a \
                         column the model expects to be numeric",
                        first + 1
                    )));
                }
            }
            offset += t.width();
        }
        // Row-major writes one block of rows at a time, so that the block stays in cache
        // while every column is written into it.
        for (block, start) in
            out.chunks_mut(TRANSFORM_BLOCK_ROWS * width).zip((0..).step_by(TRANSFORM_BLOCK_ROWS))
        {
            for &(offset, shift, scale, v) in &plain {
                let column = block.get_mut(offset..).unwrap_or_default().iter_mut().step_by(width);
                for (o, &x) in column.zip(v.get(start..).unwrap_or_default()) {
                    *o = (x - shift) / scale;
                }
            }
        }
        Ok(out)
    }

    /// Maps model outputs back to columns in the original units (one-hot groups become the
    /// most likely category).
    pub fn inverse(&self, values: &[f32]) -> Result<Frame> {
        let width = self.output_width();
        let rows = values.len().checked_div(width).unwrap_or(0);
        let mut offset = 0;
        let mut columns = Vec::with_capacity(self.columns.len());
        for t in &self.columns {
            let cells =
                (0..rows).map(|r| &values[r * width + offset..r * width + offset + t.width()]);
            columns.push(match t {
                ColumnTransform::Numeric { name, shift, scale, .. } => {
                    Column::numeric(name.clone(), cells.map(|c| c[0] * scale + shift).collect())
                }
                ColumnTransform::OneHot { name, categories } => Column::text(
                    name.clone(),
                    cells
                        .map(|c| {
                            let best = argmax(c);
                            best.map(|k| categories[k].clone()).unwrap_or_default()
                        })
                        .collect(),
                ),
            });
            offset += t.width();
        }
        let frame = Frame::new(columns)?;
        match self.image {
            Some(shape) => frame.with_image_shape(shape),
            None => Ok(frame),
        }
    }

    /// What [`Preprocessor::transform`] cannot show in its output: per row, the cells whose
    /// category was never seen in training (encoded as all zeros), and whether every input
    /// cell is missing (such a row would be imputed to the training means and look perfectly
    /// normal).
    pub fn input_quality(&self, frame: &Frame) -> Result<InputQuality> {
        let inputs = self.match_columns(frame)?;
        let rows = frame.rows();
        let mut quality = InputQuality {
            unknown: vec![0; rows],
            unknown_by_column: Vec::new(),
            all_missing: Vec::new(),
        };
        let missing_at = |c: &Column, r: usize| match &c.values {
            ColumnValues::Numeric(v) => v[r].is_nan(),
            ColumnValues::Text(v) => v[r].is_empty(),
        };
        // A column with no missing cell rules out all-missing rows: one cheap pass usually
        // settles it (numeric tables without gaps).
        let complete = |c: &&Column| match &c.values {
            ColumnValues::Numeric(v) => !v.iter().any(|x| x.is_nan()),
            ColumnValues::Text(v) => !v.iter().any(String::is_empty),
        };
        quality.all_missing = if inputs.iter().any(complete) {
            vec![false; rows]
        } else {
            (0..rows).map(|r| inputs.iter().all(|c| missing_at(c, r))).collect()
        };
        for (t, col) in self.columns.iter().zip(&inputs) {
            let (ColumnTransform::OneHot { categories, .. }, ColumnValues::Text(v)) =
                (t, &col.values)
            else {
                continue;
            };
            let mut here = 0;
            for (r, s) in v.iter().enumerate() {
                if !s.is_empty() && categories.binary_search(s).is_err() {
                    quality.unknown[r] += 1;
                    here += 1;
                }
            }
            if here > 0 {
                quality.unknown_by_column.push((t.name().to_string(), here));
            }
        }
        Ok(quality)
    }

    /// Checks that `frame` has exactly the model's columns and returns them in model order.
    fn match_columns<'f>(&self, frame: &'f Frame) -> Result<Vec<&'f Column>> {
        let expected = self.columns.len();
        // Fast path: the frame's columns are the model's, in order (one pass, no allocation
        // per name; the service and wide image data hit this on every call).
        if frame.width() == expected
            && frame.columns().iter().zip(&self.columns).all(|(c, t)| c.name == t.name())
        {
            return Ok(frame.columns().iter().collect());
        }
        let missing: Vec<&str> =
            self.columns.iter().map(|c| c.name()).filter(|n| frame.column(n).is_none()).collect();
        let names = self.input_names();
        let extra: Vec<String> = frame.names().into_iter().filter(|n| !names.contains(n)).collect();
        if !missing.is_empty() || !extra.is_empty() {
            let mut msg = format!("data has {} columns, model expects {expected}", frame.width());
            if !missing.is_empty() {
                msg += &format!(" (missing: {})", quote_list(&missing));
            }
            if !extra.is_empty() {
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                msg += &format!(" (not in the model: {})", quote_list(&extra));
            }
            return Err(Error::Schema(msg));
        }
        Ok(self.columns.iter().filter_map(|c| frame.column(c.name())).collect())
    }
}

/// A text column with more distinct values than this, making up more than half of its rows,
/// is an identifier (customer id, transaction id, free text), not a category: one-hot
/// encoding it would add an input per row and teach the model nothing.
pub const MAX_ID_LIKE_CATEGORIES: usize = 50;

/// The first missing numeric cell of `columns` in row order (the leftmost on that row), as the
/// error the `Error` policy gives.
pub(crate) fn first_missing<'c>(columns: impl Iterator<Item = &'c Column>) -> Option<Error> {
    let mut first: Option<(usize, &str)> = None;
    for c in columns {
        if let ColumnValues::Numeric(v) = &c.values {
            let limit = first.map_or(v.len(), |(r, _)| r);
            if let Some(r) = v[..limit.min(v.len())].iter().position(|x| x.is_nan()) {
                first = Some((r, &c.name));
            }
        }
    }
    first.map(|(r, name)| Error::Missing { row: r + 1, column: name.to_string() })
}

fn quote_list(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s: Vec<String> = names.iter().take(SHOWN).map(|n| format!("\"{n}\"")).collect();
    if names.len() > SHOWN {
        s.push(format!("and {} more", names.len() - SHOWN));
    }
    s.join(", ")
}

fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}
