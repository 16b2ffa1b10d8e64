//! Time-series models from Python: a series (a time column, if any, and value columns) into
//! [`latent::series::fit::fit`] and [`latent::series::fit::score_points`], the calls `latent
//! train --window W` and `latent score` on a windowed model make.

use crate::convert::{fit_config, frame_from, DataIn, Params};
use crate::observer::PyObserver;
use crate::{py_error, PyModel};
use latent::series::fit::WindowOptions;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;

/// The row number of a series' first point in error messages.
const FIRST_ROW: usize = 1;

/// Trains a windowed model on a series and calibrates its threshold on every window; returns
/// the model and the causal score of every point (NaN before the first full window).
#[pyfunction]
#[pyo3(signature = (data, params, *, window, stride=1, time_column=None, preset="dense",
    verbose=0))]
#[allow(clippy::too_many_arguments)]
pub fn fit_series<'py>(
    py: Python<'py>,
    data: DataIn<'py>,
    params: Params,
    window: usize,
    stride: usize,
    time_column: Option<String>,
    preset: &str,
    verbose: u32,
) -> PyResult<(PyModel, Bound<'py, PyArray1<f32>>)> {
    let config = fit_config(preset, params).map_err(py_error)?;
    let frame = frame_from(data, None)?;
    let options = WindowOptions { time_column, window, stride };
    let mut obs = PyObserver::new(verbose);
    let fitted = py.detach(|| {
        let checkpoints = latent::CheckpointOptions::default();
        let model =
            latent::series::fit::fit(&frame, &options, FIRST_ROW, &config, &mut obs, &checkpoints)?;
        let scores = latent::series::fit::score_points(&model, &frame, FIRST_ROW)?;
        Ok::<_, latent::Error>((model, scores))
    });
    obs.finish(py);
    let (model, scores) = fitted.map_err(py_error)?;
    Ok((PyModel::new(model), scores.into_pyarray(py)))
}

/// The causal score of every point of a series under a windowed model (NaN before the first
/// full window): the numbers `latent score` writes.
#[pyfunction]
pub fn score_series<'py>(
    py: Python<'py>,
    model: &PyModel,
    data: DataIn<'py>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let frame = frame_from(data, None)?;
    let m = model.model();
    let scores =
        py.detach(|| latent::series::fit::score_points(m, &frame, FIRST_ROW)).map_err(py_error)?;
    Ok(scores.into_pyarray(py))
}

/// Registers the time-series functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_series, m)?)?;
    m.add_function(wrap_pyfunction!(score_series, m)?)?;
    Ok(())
}
