//! Training and scoring a windowed (time-series) model in one call each: what `latent train
//! --window W` and `latent score` on such a model do, and what the Python package's
//! `SeriesDetector` calls.

use super::score::score_windows;
use super::{window, SeriesSpec};
use crate::config::Architecture;
use crate::frame::Frame;
use crate::model::{CheckpointOptions, Model};
use crate::train::Observer;
use crate::{Error, FitConfig, Result, Scaling};

/// How a series is cut into training windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowOptions {
    /// The time column (`None`: the rows are in time order).
    pub time_column: Option<String>,
    /// Points per window.
    pub window: usize,
    /// Points between the starts of consecutive training windows.
    pub stride: usize,
}

/// Trains a windowed model on the series in `frame` (a time column, if any, and numeric value
/// columns; `first_line` is the file line of row 0, for errors): sliding windows of
/// `options.window` points, every `options.stride`, standard-scaled per window position
/// (unless `config` chose a scaling), a convolutional model reading each window as a
/// `C x 1 x W` image. The threshold is calibrated by `config.threshold` on every window
/// (stride 1), and the model records its [`SeriesSpec`].
pub fn fit(
    frame: &Frame,
    options: &WindowOptions,
    first_line: usize,
    config: &FitConfig,
    observer: &mut dyn Observer,
    checkpoints: &CheckpointOptions,
) -> Result<Model> {
    config.threshold.validate()?;
    let window = options.window;
    let mut spec =
        SeriesSpec::for_frame(frame, options.time_column.as_deref(), window, options.stride)?;
    // A convolutional model reads each window as a C x 1 x W image: 1-D convolutions over time.
    spec.channel_major = matches!(config.model.architecture, Architecture::Conv { .. });
    let mut config = config.clone();
    if config.preprocess.scaling == Scaling::Auto {
        // Windows are tables of sensor values, even when shaped as an image.
        config.preprocess.scaling = Scaling::Standard;
    }
    let series = spec.series(frame, first_line)?;
    if series.len() < window {
        return Err(Error::Data(format!(
            "the series has {} points, fewer than one window of {window}",
            series.len()
        )));
    }
    let windows = spec.window_frame(&series, spec.stride)?;
    let mut model = Model::fit_with(&windows, &config, observer, checkpoints)?;
    model.manifest_mut().series = Some(spec.clone());
    let all = spec.window_frame(&series, 1)?;
    let kind = model.default_score_kind();
    model.calibrate(&all, &config.threshold, kind)?;
    Ok(model)
}

/// The causal score of every point of the series in `frame` under a windowed model, in the
/// model's own score kind: the score of the window ending at the point (NaN for the first
/// `window - 1` points), each window scored on its own, so the numbers are `latent score`'s.
pub fn score_points(model: &Model, frame: &Frame, first_line: usize) -> Result<Vec<f32>> {
    let spec = model.manifest().series.as_ref().ok_or_else(|| {
        Error::Config("the model is not a time-series model (it was not trained on windows)".into())
    })?;
    let series = spec.series(frame, first_line)?;
    let (n, w) = (series.len(), spec.window);
    if n < w {
        return Err(Error::Data(format!(
            "the series has {n} points, fewer than one window of {w}"
        )));
    }
    let windows = window::windows(&series.values, spec.columns.len(), w, 1)?;
    let scored = score_windows(model, &spec.frame_of_windows(windows)?, model.score_kind())?;
    let mut out = vec![f32::NAN; w - 1];
    out.extend(scored.scores);
    Ok(out)
}
