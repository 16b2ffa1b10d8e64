//! Time series: a series read from a frame (a time column and value columns), sliding windows
//! as model rows, causal and centred per-timestamp scores, the anomaly likelihood, and the
//! Numenta Anomaly Benchmark's scorer.
//!
//! A windowed model is an ordinary model whose inputs are the flattened windows
//! ([`SeriesSpec::feature_names`]: `value[t-2]`, `value[t-1]`, `value[t]`, …): its fitted
//! preprocessing (standard scaling of every window position, fitted on the training windows)
//! is the series' normalisation, and [`SeriesSpec`] in the manifest records how to rebuild the
//! windows from a series.

pub mod detect;
pub mod likelihood;
pub mod nab;
pub mod score;
pub mod time;
pub mod window;

use crate::frame::{ColumnValues, Frame};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How a windowed model reads a series; saved in the model's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    /// The time column (`None`: the rows are in time order, numbered).
    pub time_column: Option<String>,
    /// The value columns (channels), in order.
    pub columns: Vec<String>,
    /// Points per window.
    pub window: usize,
    /// Points between the starts of consecutive training windows (scoring uses 1).
    pub stride: usize,
}

/// A series: optional timestamps (microseconds since the epoch) as read, and row-major values
/// (`len × channels`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The time column's text of each point (empty without a time column).
    pub time_text: Vec<String>,
    /// Parsed timestamps (empty without a time column).
    pub times: Vec<i64>,
    /// Values, row-major.
    pub values: Vec<f32>,
    /// Number of value columns.
    pub channels: usize,
}

impl Series {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len() / self.channels.max(1)
    }

    /// True without points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SeriesSpec {
    /// A spec over every column of `frame` but the time column. Checks the settings.
    pub fn for_frame(
        frame: &Frame,
        time_column: Option<&str>,
        window: usize,
        stride: usize,
    ) -> Result<SeriesSpec> {
        if window < 1 || stride < 1 {
            return Err(Error::Config("window and stride must be at least 1".into()));
        }
        if let Some(t) = time_column {
            if frame.column(t).is_none() {
                return Err(Error::Schema(format!("time column \"{t}\" is not in the data")));
            }
        }
        let columns: Vec<String> =
            frame.names().into_iter().filter(|n| Some(n.as_str()) != time_column).collect();
        if columns.is_empty() {
            return Err(Error::Data("the series has no value columns".into()));
        }
        Ok(SeriesSpec { time_column: time_column.map(str::to_string), columns, window, stride })
    }

    /// Names of the window features: every column at every lag, oldest first, channels inner.
    pub fn feature_names(&self) -> Vec<String> {
        (0..self.window)
            .rev()
            .flat_map(|lag| {
                self.columns.iter().map(move |c| match lag {
                    0 => format!("{c}[t]"),
                    _ => format!("{c}[t-{lag}]"),
                })
            })
            .collect()
    }

    /// The value column a window feature index belongs to.
    pub fn column_of_feature(&self, feature: usize) -> &str {
        &self.columns[feature % self.columns.len()]
    }

    /// Reads the series out of `frame`: the time column (parsed, strictly increasing) and
    /// the value columns (numeric, finite). `first_line` is the file line of row 0, for
    /// error messages.
    pub fn series(&self, frame: &Frame, first_line: usize) -> Result<Series> {
        let (time_text, times) = match &self.time_column {
            Some(t) => {
                let col = frame.column(t).ok_or_else(|| {
                    Error::Schema(format!("time column \"{t}\" is not in the data"))
                })?;
                let text: Vec<String> =
                    (0..col.values.len()).map(|r| col.values.cell_text(r)).collect();
                let times = time::parse_time_column(t, &text, first_line)?;
                (text, times)
            }
            None => (Vec::new(), Vec::new()),
        };
        let n = frame.rows();
        let c = self.columns.len();
        let mut values = vec![0.0f32; n * c];
        for (j, name) in self.columns.iter().enumerate() {
            let col = frame
                .column(name)
                .ok_or_else(|| Error::Schema(format!("column \"{name}\" is not in the data")))?;
            let ColumnValues::Numeric(v) = &col.values else {
                return Err(Error::Data(format!("column {name}: values must be numeric")));
            };
            for (r, &x) in v.iter().enumerate() {
                if !x.is_finite() {
                    return Err(Error::Data(format!(
                        "line {}: column {name}: missing or non-finite value",
                        first_line + r
                    )));
                }
                values[r * c + j] = x;
            }
        }
        Ok(Series { time_text, times, values, channels: c })
    }

    /// The windows of `series` with `stride` as a frame with [`SeriesSpec::feature_names`].
    pub fn window_frame(&self, series: &Series, stride: usize) -> Result<Frame> {
        let w = window::windows(&series.values, series.channels, self.window, stride)?;
        Frame::from_rows(self.feature_names(), &w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Column;

    #[test]
    fn spec_and_series_from_a_frame() {
        let frame = Frame::new(vec![
            Column::text("ts", vec!["1".into(), "2".into(), "3".into()]),
            Column::numeric("a", vec![1.0, 2.0, 3.0]),
            Column::numeric("b", vec![4.0, 5.0, 6.0]),
        ])
        .unwrap();
        let spec = SeriesSpec::for_frame(&frame, Some("ts"), 2, 1).unwrap();
        assert_eq!(spec.columns, vec!["a", "b"]);
        assert_eq!(spec.feature_names(), vec!["a[t-1]", "b[t-1]", "a[t]", "b[t]"]);
        let s = spec.series(&frame, 2).unwrap();
        assert_eq!(s.times, vec![1_000_000, 2_000_000, 3_000_000]);
        assert_eq!(s.values, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let w = spec.window_frame(&s, 1).unwrap();
        assert_eq!(w.rows(), 2);
        assert_eq!(w.to_row_major().unwrap(), vec![1.0, 4.0, 2.0, 5.0, 2.0, 5.0, 3.0, 6.0]);
        let e = SeriesSpec::for_frame(&frame, Some("nope"), 2, 1).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
