//! Conversions between Python objects and the library's types, and the estimator parameters
//! as a [`FitConfig`].

use crate::py_error;
use latent::{Column, ColumnValues, FitConfig, Frame, Model, Preset, ThresholdRule};
use numpy::{
    IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One column from Python: float32 values, or texts (categories; missing as "").
#[derive(FromPyObject)]
pub enum ColumnIn<'py> {
    /// A 1-D float32 array (NaN for missing).
    Numeric(PyReadonlyArray1<'py, f32>),
    /// Texts.
    Text(Vec<String>),
}

/// Rows from Python: a C-contiguous 2-D float32 array with its column names (empty: the
/// model's names, or `f0..`), or named columns (a pandas DataFrame, split by the Python layer).
#[derive(FromPyObject)]
pub enum DataIn<'py> {
    /// `(array, names)`.
    Matrix((PyReadonlyArray2<'py, f32>, Vec<String>)),
    /// `[(name, column), ...]`.
    Columns(Vec<(String, ColumnIn<'py>)>),
}

/// The frame of `data`. A matrix without names takes the model's column names (when it has as
/// many columns), else `f0, f1, ...` as the `latent` binary names the columns of an NPY file.
pub fn frame_from(data: DataIn<'_>, model: Option<&Model>) -> PyResult<Frame> {
    match data {
        DataIn::Matrix((x, names)) => {
            let width = x.shape()[1];
            let names = if !names.is_empty() {
                names
            } else if let Some(m) = model {
                let expected = m.preprocessor().input_names();
                if expected.len() != width {
                    return Err(PyValueError::new_err(format!(
                        "X has {width} columns; the model takes {} ({})",
                        expected.len(),
                        expected.join(", ")
                    )));
                }
                expected
            } else {
                Frame::default_names("f", width)
            };
            let values = x.as_slice().map_err(|_| {
                PyValueError::new_err("X must be a C-contiguous float32 array".to_string())
            })?;
            Frame::from_rows(names, values).map_err(py_error)
        }
        DataIn::Columns(columns) => {
            let columns = columns
                .into_iter()
                .map(|(name, c)| match c {
                    ColumnIn::Numeric(v) => Column::numeric(name, v.as_array().to_vec()),
                    ColumnIn::Text(t) => Column::text(name, t),
                })
                .collect();
            Frame::new(columns).map_err(py_error)
        }
    }
}

/// A frame as `[(name, values)]`: float32 arrays for numeric columns, lists of str for
/// categorical ones.
pub fn frame_to_columns(py: Python<'_>, frame: Frame) -> PyResult<Vec<(String, Py<PyAny>)>> {
    frame
        .columns()
        .iter()
        .map(|c| {
            let values: Py<PyAny> = match &c.values {
                ColumnValues::Numeric(v) => v.clone().into_pyarray(py).into_any().unbind(),
                ColumnValues::Text(t) => t.clone().into_pyobject(py)?.into_any().unbind(),
            };
            Ok((c.name.clone(), values))
        })
        .collect()
}

/// A row-major matrix as a 2-D array (the vector is handed over, not copied).
pub fn matrix_to_array(py: Python<'_>, m: latent::Matrix) -> PyResult<Bound<'_, PyArray2<f32>>> {
    let (rows, cols) = (m.rows, m.cols);
    m.data.into_pyarray(py).reshape([rows, cols])
}

/// The configuration of `latent.AutoEncoder(...)`, built as `latent train` builds it from the
/// same flags: the preset first, then each setting given (an explicit epoch count is taken as
/// it is, without the minimum number of steps).
#[allow(clippy::too_many_arguments)]
pub fn fit_config(
    preset: &str,
    hidden: Option<Vec<usize>>,
    latent: Option<usize>,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f32>,
    seed: Option<u64>,
    contamination: Option<f32>,
) -> latent::Result<FitConfig> {
    let mut c = FitConfig::default();
    Preset::from_name(preset)?.apply(&mut c);
    if hidden.is_some() {
        c.model.hidden = hidden;
    }
    if latent.is_some() {
        c.model.latent = latent;
    }
    if let Some(e) = epochs {
        c.train.epochs = e;
        c.train.min_steps = 0;
    }
    if let Some(b) = batch_size {
        c.train.batch_size = b;
    }
    if let Some(lr) = lr {
        c.train.optimizer.lr = lr;
    }
    if let Some(s) = seed {
        c.train.seed = s;
    }
    if let Some(share) = contamination {
        c.threshold = ThresholdRule::Contamination { share };
    }
    c.validate()?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_map_onto_the_library_config() -> latent::Result<()> {
        let c = fit_config("anomaly", Some(vec![8]), Some(3), Some(5), None, None, Some(7), None)?;
        assert_eq!(c.detector, FitConfig::anomaly().detector);
        assert_eq!((c.train.epochs, c.train.min_steps, c.train.seed), (5, 0, 7));
        assert_eq!(c.model.hidden, Some(vec![8]));
        assert!(c.threshold.is_auto());
        let c = fit_config("dense", None, None, None, Some(32), Some(0.01), None, Some(0.1))?;
        assert_eq!(c.threshold, ThresholdRule::Contamination { share: 0.1 });
        assert_eq!(c.train.batch_size, 32);
        assert!(fit_config("nope", None, None, None, None, None, None, None).is_err());
        assert!(fit_config("dense", None, None, None, None, None, None, Some(0.9)).is_err());
        assert!(fit_config("dense", None, Some(0), None, None, None, None, None).is_err());
        Ok(())
    }
}
