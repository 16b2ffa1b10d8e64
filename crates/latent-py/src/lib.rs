//! `latent._native`: the Rust half of the Python package `latent`.
//!
//! The binding only converts: rows from NumPy arrays (or the columns of a pandas DataFrame,
//! split by the Python layer) into a [`latent::Frame`], results back into NumPy arrays, and
//! [`latent::Error`]s into Python exceptions. Every decision (presets, preprocessing and one-hot
//! encoding, training, threshold calibration and resolution, scores, explanations, the model
//! file) is the `latent` library's, the same code the `latent` binary and the service run. The
//! scikit-learn/PyOD estimator is `python/latent/__init__.py`.
//!
//! The GIL is released while the library works (fit, score, encode, ...); a fit asks Python
//! for pending signals every 50 ms, so Ctrl-C stops it with `KeyboardInterrupt`.

mod convert;
mod observer;
mod recommend;
mod series;

pub use convert::fit_config;

use convert::{frame_from, frame_to_columns, matrix_to_array, DataIn};
use latent::codec::{self, Codec, FileKind};
use latent::{Frame, Model};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::{Path, PathBuf};

/// The Python exception of a library error: `ValueError` for bad input (data, configuration,
/// model file), `KeyboardInterrupt` for an interrupted fit, `OSError` for a file that cannot be
/// read or written, `RuntimeError` for a failed training run or a missing device.
pub fn py_error(e: latent::Error) -> PyErr {
    let message = e.to_string();
    match e {
        latent::Error::Interrupted { .. } => PyKeyboardInterrupt::new_err(message),
        latent::Error::Training(_) | latent::Error::Device(_) => PyRuntimeError::new_err(message),
        latent::Error::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The bytes of the model file `save` writes into a temporary folder (pickling goes through
/// the one file format).
fn file_bytes(save: impl FnOnce(&Path) -> latent::Result<()>) -> PyResult<Vec<u8>> {
    let dir = tempfile::tempdir().map_err(|e| PyOSError::new_err(e.to_string()))?;
    let path = dir.path().join("model.safetensors");
    save(&path).map_err(py_error)?;
    std::fs::read(&path).map_err(|e| PyOSError::new_err(e.to_string()))
}

/// What `load` reads from `data`, the bytes of a model file (see [`file_bytes`]).
fn from_file_bytes<T>(data: &[u8], load: impl FnOnce(&Path) -> latent::Result<T>) -> PyResult<T> {
    let dir = tempfile::tempdir().map_err(|e| PyOSError::new_err(e.to_string()))?;
    let path = dir.path().join("model.safetensors");
    std::fs::write(&path, data).map_err(|e| PyOSError::new_err(e.to_string()))?;
    load(&path).map_err(py_error)
}

/// A trained latent model (the `.safetensors` file the `latent` binary writes and reads).
#[pyclass(name = "Model", module = "latent._native", frozen)]
pub struct PyModel {
    model: Model,
}

#[pymethods]
impl PyModel {
    /// Fits a model on `data` and calibrates its anomaly threshold (`contamination`, else the
    /// library's automatic rule). Returns the model and the training rows' scores.
    #[staticmethod]
    #[pyo3(signature = (data, params, *, preset="dense", verbose=0, quant_step=None))]
    fn fit<'py>(
        py: Python<'py>,
        data: DataIn<'py>,
        params: convert::Params,
        preset: &str,
        verbose: u32,
        quant_step: Option<f32>,
    ) -> PyResult<(PyModel, Bound<'py, PyArray1<f32>>)> {
        if let Some(step) = quant_step.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(PyValueError::new_err(format!(
                "quant_step must be a positive number, got {step}"
            )));
        }
        let config = fit_config(preset, params).map_err(py_error)?;
        if quant_step.is_some() {
            // A learned-compression model keeps its learnt entropy model: refuse before training.
            latent::codec::check_fit(&config).map_err(py_error)?;
        }
        let frame = frame_from(data, None)?;
        let mut obs = observer::PyObserver::new(verbose);
        let fitted = py.detach(|| {
            let mut model = Model::fit_calibrated(&frame, &config, &mut obs, &Default::default())?;
            if let Some(step) = quant_step {
                latent::codec::fit_frame(&mut model, &frame, step)?;
            }
            let scores = model.score(&frame)?;
            Ok::<_, latent::Error>((model, scores))
        });
        obs.finish(py);
        let (model, scores) = fitted.map_err(py_error)?;
        Ok((PyModel { model }, scores.into_pyarray(py)))
    }

    /// Loads a model file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let model = py.detach(|| Model::load(&path)).map_err(py_error)?;
        Ok(PyModel { model })
    }

    /// Saves the model file (atomically).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(py_error)
    }

    /// The model file's bytes (for pickling).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| file_bytes(|path| self.model.save(path)))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyModel> {
        let model = py.detach(|| from_file_bytes(data, Model::load))?;
        Ok(PyModel { model })
    }

    /// Pickling: the model file's bytes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let from_bytes = py.get_type::<PyModel>().getattr("from_bytes")?;
        Ok((from_bytes, (slf.get().to_bytes(py)?,)))
    }

    /// Anomaly score of every row in the model's own score kind (higher is more anomalous).
    fn score<'py>(
        &self,
        py: Python<'py>,
        data: DataIn<'py>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let frame = self.frame(data)?;
        let scores = py.detach(|| self.model.score(&frame)).map_err(py_error)?;
        Ok(scores.into_pyarray(py))
    }

    /// 1 where a score is above the model's threshold (or NaN), else 0.
    fn flags<'py>(
        &self,
        py: Python<'py>,
        scores: PyReadonlyArray1<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let t = self.model.resolve_threshold(None, None, false).map_err(|e| py_error(e.into()))?;
        let out: Vec<i64> =
            scores.as_array().iter().map(|&s| i64::from(s.is_nan() || t.is_anomaly(s))).collect();
        Ok(out.into_pyarray(py))
    }

    /// The scores mapped to [0, 1] through the model's calibration (above 0.5 exactly when
    /// flagged).
    fn proba<'py>(
        &self,
        py: Python<'py>,
        scores: PyReadonlyArray1<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let t = self.model.resolve_threshold(None, None, true).map_err(|e| py_error(e.into()))?;
        let out: Vec<f32> = scores.as_array().iter().map(|&s| t.proba(s)).collect();
        Ok(out.into_pyarray(py))
    }

    /// The latent code of every row (`rows x code_width`).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: DataIn<'py>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let frame = self.frame(data)?;
        let codes = py.detach(|| self.model.encode(&frame)).map_err(py_error)?;
        matrix_to_array(py, codes)
    }

    /// Rows decoded from latent codes, in the original units and columns.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        codes: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Vec<(String, Py<PyAny>)>> {
        let cw = self.model.code_width();
        if codes.shape()[1] != cw {
            return Err(PyValueError::new_err(format!(
                "codes have {} columns; this model's code has {cw}",
                codes.shape()[1]
            )));
        }
        let codes: Vec<f32> = codes.as_array().iter().copied().collect();
        let frame = py
            .detach(|| {
                let m = self.model.decode(&codes)?;
                self.model.preprocessor().inverse(&m.data)
            })
            .map_err(py_error)?;
        frame_to_columns(py, frame)
    }

    /// Every row's reconstruction in the original units and columns.
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        data: DataIn<'py>,
    ) -> PyResult<Vec<(String, Py<PyAny>)>> {
        let frame = self.frame(data)?;
        let out = py.detach(|| self.model.reconstruct(&frame)).map_err(py_error)?;
        frame_to_columns(py, out)
    }

    /// The `k` columns contributing most to each row's score: per row, `(column, share)` pairs,
    /// largest first.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        data: DataIn<'py>,
        k: usize,
    ) -> PyResult<Vec<Vec<(String, f32)>>> {
        let frame = self.frame(data)?;
        let rows = py.detach(|| self.model.explain(&frame, k)).map_err(py_error)?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_iter().map(|e| (e.column, e.share)).collect())
            .collect())
    }

    /// The threshold saved with the model (scores strictly above it are anomalies), or None.
    #[getter]
    fn threshold(&self) -> Option<f32> {
        self.model.threshold().map(|t| t.value)
    }

    /// The model's score (`mse`, `mae`, `neg_elbo`, `recon_nll`, `forest` or `ensemble`).
    #[getter]
    fn score_kind(&self) -> &'static str {
        self.model.score_kind().name()
    }

    /// The input columns, in the model's order.
    #[getter]
    fn input_names(&self) -> Vec<String> {
        self.model.preprocessor().input_names()
    }

    /// The categorical (one-hot encoded) input columns.
    #[getter]
    fn categorical_names(&self) -> Vec<String> {
        self.model.preprocessor().categorical_names()
    }

    /// Compresses rows into a `.lat` container (the bytes `latent compress` writes for a
    /// table): the quantised codes, range-coded with the model's entropy model, in blocks of
    /// `block_rows` rows.
    #[pyo3(signature = (data, block_rows=256))]
    fn compress<'py>(
        &self,
        py: Python<'py>,
        data: DataIn<'py>,
        block_rows: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        if block_rows == 0 {
            return Err(PyValueError::new_err("block_rows must be at least 1"));
        }
        let frame = self.frame(data)?;
        let bytes = py
            .detach(|| {
                let codec = Codec::new(&self.model)?;
                let codes = self.model.encode(&frame)?;
                let levels = codec.quantise(&codes.data)?;
                codec::write(&codec, FileKind::Table, &levels, block_rows)
            })
            .map_err(py_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The quantised codes of a `.lat` container written with this model (`rows x
    /// code_width` int32, as `latent decompress --codes`).
    fn decompress_codes<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
    ) -> PyResult<Bound<'py, PyArray2<i32>>> {
        let (levels, width) = py.detach(|| self.levels(data)).map_err(py_error)?;
        let rows = levels.len() / width.max(1);
        levels.into_pyarray(py).reshape([rows, width])
    }

    /// The rows of a `.lat` container written with this model, decoded in the original units
    /// and columns (as `latent decompress`).
    fn decompress<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Vec<(String, Py<PyAny>)>> {
        let frame = py
            .detach(|| {
                let codec = Codec::new(&self.model)?;
                let (levels, _) = self.levels(data)?;
                let decoded = self.model.decode(&codec.dequantise(&levels))?;
                self.model.preprocessor().inverse(&decoded.data)
            })
            .map_err(py_error)?;
        frame_to_columns(py, frame)
    }

    /// Whether the model has an entropy model (can compress).
    #[getter]
    fn has_codec(&self) -> bool {
        self.model.manifest().codec.is_some()
    }

    /// How a time-series model reads a series (`{"window", "stride", "time_column",
    /// "columns"}`), or None for a model of rows.
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(spec) = self.model.manifest().series.as_ref() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("window", spec.window)?;
        d.set_item("stride", spec.stride)?;
        d.set_item("time_column", spec.time_column.clone())?;
        d.set_item("columns", spec.columns.clone())?;
        Ok(Some(d))
    }

    /// Width of the latent code.
    #[getter]
    fn code_width(&self) -> usize {
        self.model.code_width()
    }

    /// Layer widths, input to output.
    #[getter]
    fn layer_widths(&self) -> Vec<usize> {
        self.model.layer_widths()
    }

    /// Training history: `{"loss": [...], "val_loss": [...]}` per epoch (`val_loss` entries
    /// are None without a validation split).
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let h = self.model.summary().map(|s| s.history.as_slice()).unwrap_or_default();
        d.set_item("loss", h.iter().map(|r| r.train_loss).collect::<Vec<f64>>())?;
        d.set_item("val_loss", h.iter().map(|r| r.val_loss).collect::<Vec<Option<f64>>>())?;
        Ok(d)
    }
}

impl PyModel {
    /// Wraps a model.
    pub fn new(model: Model) -> PyModel {
        PyModel { model }
    }

    /// The quantised codes of `.lat` bytes and the code width.
    fn levels(&self, data: &[u8]) -> latent::Result<(Vec<i32>, usize)> {
        let codec = Codec::new(&self.model)?;
        let (_, levels) = codec::read(std::path::Path::new("<bytes>"), data, &codec)?;
        Ok((levels, codec.width()))
    }

    /// A frame of rows to score: numeric matrices take the model's column names.
    fn frame(&self, data: DataIn<'_>) -> PyResult<Frame> {
        frame_from(data, Some(&self.model))
    }

    /// The wrapped model.
    pub fn model(&self) -> &Model {
        &self.model
    }
}

/// The names of the presets `preset=` accepts.
#[pyfunction]
fn presets() -> Vec<&'static str> {
    latent::Preset::ALL.iter().map(|(n, _)| *n).collect()
}

/// The Rust extension of the `latent` package.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    recommend::register(m)?;
    series::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
