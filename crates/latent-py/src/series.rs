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
#[pyo3(signature = (data, *, window, stride=1, time_column=None, hidden=None, latent=None,
    preset="dense", epochs=None, batch_size=None, lr=None, seed=None, contamination=None,
    verbose=0, dropout=None, weight_decay=None, activation=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit_series<'py>(
    py: Python<'py>,
    data: DataIn<'py>,
    window: usize,
    stride: usize,
    time_column: Option<String>,
    hidden: Option<Vec<usize>>,
    latent: Option<usize>,
    preset: &str,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f32>,
    seed: Option<u64>,
    contamination: Option<f32>,
    verbose: u32,
    dropout: Option<f32>,
    weight_decay: Option<f32>,
    activation: Option<String>,
) -> PyResult<(PyModel, Bound<'py, PyArray1<f32>>)> {
    let params = Params {
        hidden,
        latent,
        epochs,
        batch_size,
        lr,
        seed,
        contamination,
        dropout,
        weight_decay,
        activation,
    };
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
