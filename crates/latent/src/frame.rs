//! In-memory tabular data as read from files, before preprocessing.
//!
//! A [`Frame`] is a list of named columns of equal length. Numeric columns hold `f32` values
//! where `NaN` marks a *missing* cell (an empty CSV field); readers reject literal NaN and
//! infinities in the input, so a `NaN` here always means "missing". Text columns hold the raw
//! strings of categorical columns (an empty string marks a missing category).

use crate::{Error, Result};

/// Shape of one image sample, channels first (C x H x W).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    /// Number of channels (1 for greyscale, 3 for RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl ImageShape {
    /// Number of values in one sample (C * H * W).
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when the shape holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// Numbers; `NaN` marks a missing cell.
    Numeric(Vec<f32>),
    /// Raw strings of a categorical column; `""` marks a missing cell.
    Text(Vec<String>),
}

impl ColumnValues {
    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(v) => v.len(),
            ColumnValues::Text(v) => v.len(),
        }
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `row` as display text (numbers printed, missing as "").
    pub fn cell_text(&self, row: usize) -> String {
        match self {
            ColumnValues::Numeric(v) => match v.get(row) {
                Some(x) if x.is_nan() => String::new(),
                Some(x) => x.to_string(),
                None => String::new(),
            },
            ColumnValues::Text(v) => v.get(row).cloned().unwrap_or_default(),
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name (from the CSV header, or generated such as `f0`, `pixel0`).
    pub name: String,
    /// The cells.
    pub values: ColumnValues,
}

impl Column {
    /// A numeric column.
    pub fn numeric(name: impl Into<String>, values: Vec<f32>) -> Self {
        Column { name: name.into(), values: ColumnValues::Numeric(values) }
    }

    /// A text (categorical) column.
    pub fn text(name: impl Into<String>, values: Vec<String>) -> Self {
        Column { name: name.into(), values: ColumnValues::Text(values) }
    }
}

/// Tabular data: named columns of equal length, plus the image shape when rows are images.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    columns: Vec<Column>,
    rows: usize,
    image: Option<ImageShape>,
}

impl Frame {
    /// Builds a frame from columns; all must have the same length and distinct names.
    pub fn new(columns: Vec<Column>) -> Result<Self> {
        let rows = columns.first().map_or(0, |c| c.values.len());
        for c in &columns {
            if c.values.len() != rows {
                return Err(Error::Data(format!(
                    "column \"{}\" has {} rows, expected {rows}",
                    c.name,
                    c.values.len()
                )));
            }
        }
        let mut names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Data(format!("column name \"{}\" appears twice", w[0])));
        }
        Ok(Frame { columns, rows, image: None })
    }

    /// Builds an all-numeric frame from row-major values (`rows x names.len()`).
    pub fn from_rows(names: Vec<String>, values: &[f32]) -> Result<Self> {
        let width = names.len();
        if width == 0 {
            return Err(Error::Data("data has no columns".into()));
        }
        if values.len() % width != 0 {
            return Err(Error::Data(format!(
                "{} values do not fill rows of width {width}",
                values.len()
            )));
        }
        let rows = values.len() / width;
        let mut cols: Vec<Vec<f32>> = (0..width).map(|_| Vec::with_capacity(rows)).collect();
        for row in values.chunks_exact(width) {
            for (col, &v) in cols.iter_mut().zip(row) {
                col.push(v);
            }
        }
        Frame::new(names.into_iter().zip(cols).map(|(n, v)| Column::numeric(n, v)).collect())
    }

    /// Generated column names `prefix0 .. prefix{n-1}`.
    pub fn default_names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// Marks the rows as images of this shape (the width must equal `shape.len()`).
    pub fn with_image_shape(mut self, shape: ImageShape) -> Result<Self> {
        if shape.len() != self.columns.len() {
            return Err(Error::Data(format!(
                "image shape {}x{}x{} does not match {} columns",
                shape.channels,
                shape.height,
                shape.width,
                self.columns.len()
            )));
        }
        self.image = Some(shape);
        Ok(self)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Image shape of each row, when the rows are images.
    pub fn image_shape(&self) -> Option<ImageShape> {
        self.image
    }

    /// Removes and returns the column with this name (for example the label column).
    pub fn take_column(&mut self, name: &str) -> Option<Column> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        self.image = None;
        Some(self.columns.remove(i))
    }

    /// The rows `[start, end)` as a new frame.
    pub fn slice_rows(&self, start: usize, end: usize) -> Frame {
        let end = end.min(self.rows);
        let start = start.min(end);
        let rows: Vec<usize> = (start..end).collect();
        self.select_rows(&rows)
    }

    /// The rows at `indices` (in that order) as a new frame; indices out of range are skipped.
    pub fn select_rows(&self, indices: &[usize]) -> Frame {
        let indices: Vec<usize> = indices.iter().copied().filter(|&r| r < self.rows).collect();
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                values: match &c.values {
                    ColumnValues::Numeric(v) => {
                        ColumnValues::Numeric(indices.iter().map(|&r| v[r]).collect())
                    }
                    ColumnValues::Text(v) => {
                        ColumnValues::Text(indices.iter().map(|&r| v[r].clone()).collect())
                    }
                },
            })
            .collect();
        Frame { columns, rows: indices.len(), image: self.image }
    }

    /// The rows of `parts` one after the other (all with the same columns); `None` for no
    /// parts.
    pub fn concat(parts: &[Frame]) -> Result<Option<Frame>> {
        let Some(first) = parts.first() else {
            return Ok(None);
        };
        let mut columns = first.columns.clone();
        for part in &parts[1..] {
            if part.names() != first.names() {
                return Err(Error::Schema(format!(
                    "parts of the data have other columns ({} vs {})",
                    part.names().join(", "),
                    first.names().join(", ")
                )));
            }
            for (c, more) in columns.iter_mut().zip(&part.columns) {
                match (&mut c.values, &more.values) {
                    (ColumnValues::Numeric(a), ColumnValues::Numeric(b)) => a.extend_from_slice(b),
                    (ColumnValues::Text(a), ColumnValues::Text(b)) => a.extend_from_slice(b),
                    _ => {
                        return Err(Error::Schema(format!(
                            "column \"{}\" holds numbers in one part of the data and text in \
                             another",
                            c.name
                        )))
                    }
                }
            }
        }
        let mut frame = Frame::new(columns)?;
        frame.image = first.image;
        Ok(Some(frame))
    }

    /// All values row-major when every column is numeric, else `None`.
    pub fn to_row_major(&self) -> Option<Vec<f32>> {
        let cols: Vec<&Vec<f32>> = self
            .columns
            .iter()
            .map(|c| match &c.values {
                ColumnValues::Numeric(v) => Some(v),
                ColumnValues::Text(_) => None,
            })
            .collect::<Option<_>>()?;
        let mut out = Vec::with_capacity(self.rows * cols.len());
        for r in 0..self.rows {
            out.extend(cols.iter().map(|c| c[r]));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_major_round_trip() -> Result<()> {
        let f = Frame::from_rows(Frame::default_names("f", 3), &[1., 2., 3., 4., 5., 6.])?;
        assert_eq!(f.rows(), 2);
        assert_eq!(f.to_row_major(), Some(vec![1., 2., 3., 4., 5., 6.]));
        Ok(())
    }

    #[test]
    fn rejects_ragged_and_duplicate_columns() {
        assert!(
            Frame::new(vec![Column::numeric("a", vec![1.]), Column::numeric("b", vec![])]).is_err()
        );
        assert!(Frame::new(vec![Column::numeric("a", vec![1.]), Column::numeric("a", vec![2.])])
            .is_err());
    }
}
