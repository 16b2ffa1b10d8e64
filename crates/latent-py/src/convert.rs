//! Conversions between Python objects and the library's types, and the estimator parameters
//! as a [`FitConfig`].

use crate::py_error;
use latent::{Activation, Column, ColumnValues, FitConfig, Frame, Model, Preset, ThresholdRule};
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

/// The estimator's network and training parameters (`None`: the preset's value), read from
/// the dict the Python estimators build once for every fit (`_common._network_params`; every
/// key must be there).
#[derive(Debug, Clone, Default, FromPyObject)]
#[pyo3(from_item_all)]
pub struct Params {
    /// Encoder hidden layer sizes.
    pub hidden: Option<Vec<usize>>,
    /// Code size.
    pub latent: Option<usize>,
    /// Epochs (an explicit count drops the minimum-steps rule).
    pub epochs: Option<usize>,
    /// Rows per batch.
    pub batch_size: Option<usize>,
    /// Learning rate.
    pub lr: Option<f32>,
    /// Seed.
    pub seed: Option<u64>,
    /// Share of training rows above the threshold.
    pub contamination: Option<f32>,
    /// Dropout after each hidden layer.
    pub dropout: Option<f32>,
    /// Weight decay (L2, as Adam adds it to the gradient).
    pub weight_decay: Option<f32>,
    /// Hidden-layer activation: relu, leaky_relu, tanh or gelu.
    pub activation: Option<String>,
    /// Code-layer activation (identity, relu, leaky_relu, tanh, gelu or sigmoid).
    pub code_activation: Option<String>,
    /// Dropout on the code units too.
    pub code_dropout: bool,
}

/// The library configuration of `preset` with `p` applied over it.
pub fn fit_config(preset: &str, p: Params) -> latent::Result<FitConfig> {
    let mut c = FitConfig::default();
    Preset::from_name(preset)?.apply(&mut c);
    if p.hidden.is_some() {
        c.model.hidden = p.hidden;
    }
    if p.latent.is_some() {
        c.model.latent = p.latent;
    }
    if let Some(e) = p.epochs {
        c.train.epochs = e;
        c.train.min_steps = 0;
    }
    if let Some(b) = p.batch_size {
        c.train.batch_size = b;
    }
    if let Some(lr) = p.lr {
        c.train.optimizer.lr = lr;
    }
    if let Some(s) = p.seed {
        c.train.seed = s;
    }
    if let Some(share) = p.contamination {
        c.threshold = ThresholdRule::Contamination { share };
    }
    if let Some(d) = p.dropout {
        c.model.dropout = d;
    }
    if let Some(w) = p.weight_decay {
        c.train.optimizer.weight_decay = w;
    }
    if let Some(name) = p.activation {
        let hidden = [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Gelu];
        c.model.activation = activation(&name, "activation", &hidden)?;
    }
    if let Some(name) = p.code_activation {
        c.model.code_activation = activation(&name, "code activation", &Activation::ALL)?;
    }
    c.model.code_dropout |= p.code_dropout;
    c.validate()?;
    Ok(c)
}

/// The activation called `name` (`leaky-relu` or `leaky_relu`) when it is one of `allowed`,
/// else a configuration error that lists them.
fn activation(name: &str, what: &str, allowed: &[Activation]) -> latent::Result<Activation> {
    Activation::from_name(name).filter(|a| allowed.contains(a)).ok_or_else(|| {
        let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
        latent::Error::Config(format!("{what} \"{name}\" is not one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_map_onto_the_library_config() -> latent::Result<()> {
        let p = Params {
            hidden: Some(vec![8]),
            latent: Some(3),
            epochs: Some(5),
            seed: Some(7),
            ..Params::default()
        };
        let c = fit_config("anomaly", p)?;
        assert_eq!(c.detector, FitConfig::anomaly().detector);
        assert_eq!((c.train.epochs, c.train.min_steps, c.train.seed), (5, 0, 7));
        assert_eq!(c.model.hidden, Some(vec![8]));
        assert!(c.threshold.is_auto());
        let p = Params {
            batch_size: Some(32),
            lr: Some(0.01),
            contamination: Some(0.1),
            dropout: Some(0.2),
            weight_decay: Some(1e-5),
            activation: Some("leaky-relu".into()),
            ..Params::default()
        };
        let c = fit_config("dense", p)?;
        assert_eq!(c.threshold, ThresholdRule::Contamination { share: 0.1 });
        assert_eq!(c.train.batch_size, 32);
        assert_eq!((c.model.dropout, c.train.optimizer.weight_decay), (0.2, 1e-5));
        assert_eq!(c.model.activation, Activation::LeakyRelu);
        assert!(fit_config("nope", Params::default()).is_err());
        let bad = |p: Params| fit_config("dense", p).is_err();
        assert!(bad(Params { contamination: Some(0.9), ..Params::default() }));
        assert!(bad(Params { latent: Some(0), ..Params::default() }));
        assert!(bad(Params { activation: Some("sigmoidal".into()), ..Params::default() }));
        assert!(bad(Params { dropout: Some(1.5), ..Params::default() }));
        Ok(())
    }
}
