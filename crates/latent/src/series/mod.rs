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
pub mod fit;
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
    /// Window features ordered channel by channel (`temp[t-1], temp[t], load[t-1], load[t]`:
    /// the C x 1 x W image a 1-D convolutional model reads) instead of point by point.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub channel_major: bool,
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
        Ok(SeriesSpec {
            time_column: time_column.map(str::to_string),
            columns,
            window,
            stride,
            channel_major: false,
        })
    }

    /// Names of the window features: every column at every lag, oldest first, channels inner
    /// (or channel by channel with [`SeriesSpec::channel_major`]).
    pub fn feature_names(&self) -> Vec<String> {
        let name = |c: &str, lag: usize| match lag {
            0 => format!("{c}[t]"),
            _ => format!("{c}[t-{lag}]"),
        };
        let lags = (0..self.window).rev();
        if self.channel_major {
            self.columns.iter().flat_map(|c| lags.clone().map(move |l| name(c, l))).collect()
        } else {
            lags.flat_map(|l| self.columns.iter().map(move |c| name(c, l))).collect()
        }
    }

    /// The index (into [`SeriesSpec::columns`]) of the value column a window feature reads.
    pub fn column_index(&self, feature: usize) -> usize {
        if self.channel_major {
            feature / self.window.max(1)
        } else {
            feature % self.columns.len().max(1)
        }
    }

    /// The value column a window feature index belongs to.
    pub fn column_of_feature(&self, feature: usize) -> &str {
        &self.columns[self.column_index(feature)]
    }

    /// Puts windows flattened point by point (as [`window::windows`] makes them) into this
    /// spec's feature order.
    pub fn arrange(&self, point_major: Vec<f32>) -> Vec<f32> {
        if !self.channel_major {
            return point_major;
        }
        let (w, c) = (self.window, self.columns.len());
        let mut out = Vec::with_capacity(point_major.len());
        for win in point_major.chunks_exact(w * c) {
            for j in 0..c {
                out.extend((0..w).map(|p| win[p * c + j]));
            }
        }
        out
    }

    /// The windows of a row-major series as a frame with [`SeriesSpec::feature_names`] (with
    /// the image shape `C x 1 x W` when channel-major, for a convolutional model).
    pub fn frame_of(&self, values: &[f32], stride: usize) -> Result<Frame> {
        let c = self.columns.len();
        let w = self.arrange(window::windows(values, c, self.window, stride)?);
        let frame = Frame::from_rows(self.feature_names(), &w)?;
        if self.channel_major {
            let shape = crate::frame::ImageShape { channels: c, height: 1, width: self.window };
            return frame.with_image_shape(shape);
        }
        Ok(frame)
    }

    /// Windows already flattened point by point, as a frame in this spec's order.
    pub fn frame_of_windows(&self, point_major: Vec<f32>) -> Result<Frame> {
        let frame = Frame::from_rows(self.feature_names(), &self.arrange(point_major))?;
        if self.channel_major {
            let c = self.columns.len();
            let shape = crate::frame::ImageShape { channels: c, height: 1, width: self.window };
            return frame.with_image_shape(shape);
        }
        Ok(frame)
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

    /// The windows of `series` with `stride` as a frame (see [`SeriesSpec::frame_of`]).
    pub fn window_frame(&self, series: &Series, stride: usize) -> Result<Frame> {
        self.frame_of(&series.values, stride)
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
        let cm = SeriesSpec { channel_major: true, ..spec.clone() };
        assert_eq!(cm.feature_names(), vec!["a[t-1]", "a[t]", "b[t-1]", "b[t]"]);
        assert_eq!(cm.column_of_feature(1), "a");
        assert_eq!(cm.column_of_feature(2), "b");
        let w = cm.window_frame(&s, 1).unwrap();
        assert_eq!(w.to_row_major().unwrap(), vec![1.0, 2.0, 4.0, 5.0, 2.0, 3.0, 5.0, 6.0]);
        assert_eq!(w.image_shape().map(|i| (i.channels, i.height, i.width)), Some((2, 1, 2)));
        let e = SeriesSpec::for_frame(&frame, Some("nope"), 2, 1).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
