//! Recommenders from Python: interactions (a long table's id columns, or a CSR matrix) into
//! [`latent::recommend::Interactions`], fitting with [`latent::recommend::fit`], and ranking
//! with [`RecModel::recommend_for`] -- the calls `latent train --preset mult-vae|mult-dae|ease`
//! and `latent recommend` make.

use crate::observer::PyObserver;
use crate::py_error;
use latent::recommend::file::RecModel;
use latent::recommend::{InteractionColumns, Interactions, RecConfig, RecKind};
use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;

/// Positive interactions: users, items and the `(user, item)` pairs.
#[pyclass(name = "Interactions", module = "latent._native", frozen)]
pub struct PyInteractions {
    data: Interactions,
}

#[pymethods]
impl PyInteractions {
    /// A long table's columns: user ids, item ids (texts, as written), optional ratings and
    /// the smallest rating counted as a positive.
    #[staticmethod]
    #[pyo3(signature = (users, items, ratings=None, min_rating=None))]
    fn from_ids(
        users: Vec<String>,
        items: Vec<String>,
        ratings: Option<PyReadonlyArray1<'_, f64>>,
        min_rating: Option<f64>,
    ) -> PyResult<PyInteractions> {
        let ratings = ratings.map(|r| r.as_array().to_vec());
        let data = Interactions::from_ids(&users, &items, ratings.as_deref(), min_rating)
            .map_err(py_error)?;
        Ok(PyInteractions { data })
    }

    /// A `rows x cols` CSR matrix (`indptr`, `indices`, `data`): users and items are named
    /// by their row and column numbers, as `latent` names those of a `.npz` file.
    #[staticmethod]
    #[pyo3(signature = (rows, cols, indptr, indices, data, min_rating=None))]
    fn from_csr(
        rows: usize,
        cols: usize,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        data: PyReadonlyArray1<'_, f32>,
        min_rating: Option<f64>,
    ) -> PyResult<PyInteractions> {
        let index = |a: PyReadonlyArray1<'_, i64>| -> PyResult<Vec<usize>> {
            a.as_array()
                .iter()
                .map(|&v| {
                    usize::try_from(v).map_err(|_| {
                        PyValueError::new_err(format!("not a CSR matrix: negative index {v}"))
                    })
                })
                .collect()
        };
        let data = Interactions::from_csr(
            rows,
            cols,
            &index(indptr)?,
            &index(indices)?,
            &data.as_array().to_vec(),
            min_rating,
        )
        .map_err(py_error)?;
        Ok(PyInteractions { data })
    }

    /// User ids, in order of first appearance (row numbers for a matrix).
    #[getter]
    fn users(&self) -> Vec<String> {
        self.data.users.clone()
    }

    /// Item ids, in order of first appearance (column numbers for a matrix).
    #[getter]
    fn items(&self) -> Vec<String> {
        self.data.items.clone()
    }

    /// Number of positive interactions.
    fn __len__(&self) -> usize {
        self.data.pairs.len()
    }
}

/// Ranked items of every user: item indices, scores, and the count of unknown interactions.
type Ranked<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>, usize);

/// A trained recommender (the `.safetensors` file of `latent train --preset mult-vae`).
#[pyclass(name = "RecModel", module = "latent._native", frozen)]
pub struct PyRecModel {
    model: RecModel,
}

/// The recommender named `name` (`mult-vae`, `mult-dae`, `ease`, `popularity`).
fn kind(name: &str) -> latent::Result<RecKind> {
    [RecKind::MultVae, RecKind::MultDae, RecKind::Ease, RecKind::Popularity]
        .into_iter()
        .find(|k| k.name() == name.replace('_', "-"))
        .ok_or_else(|| {
            latent::Error::Config(format!(
                "model \"{name}\" is not one of mult-vae, mult-dae, ease, popularity"
            ))
        })
}

/// A recommender's network and training parameters (`None`: the library's default), read
/// from the dict `Recommender.fit` builds (every key must be there).
#[derive(Debug, Clone, Default, FromPyObject)]
#[pyo3(from_item_all)]
pub struct RecParams {
    /// Hidden layer size.
    pub hidden: Option<usize>,
    /// Code size.
    pub latent: Option<usize>,
    /// Input dropout.
    pub dropout: Option<f32>,
    /// Final KL weight (Mult-VAE).
    pub beta: Option<f32>,
    /// EASE's candidate λ values.
    pub lambdas: Option<Vec<f64>>,
    /// Epochs.
    pub epochs: Option<usize>,
    /// Users per batch.
    pub batch_size: Option<usize>,
    /// Learning rate.
    pub lr: Option<f32>,
    /// Weight decay.
    pub weight_decay: Option<f32>,
    /// Epochs without improvement before stopping.
    pub patience: Option<usize>,
    /// Seed.
    pub seed: Option<u64>,
    /// Mult-VAE's KL weight per user: `history` or `constant`.
    pub beta_rule: Option<String>,
    /// Steps over which the KL weight rises to beta.
    pub anneal_steps: Option<usize>,
    /// Decoupled (AdamW) weight decay.
    pub decoupled_decay: Option<bool>,
    /// RecVAE's composite prior in the KL term.
    pub composite_prior: Option<bool>,
    /// Emphasised denoising: the likelihood weight of dropped input items (1: off).
    pub emphasis: Option<f32>,
    /// Epochs of cosine learning-rate decay (none: a constant rate).
    pub lr_decay_epochs: Option<usize>,
}

/// The settings of a recommender: the library's defaults with the given values over them
/// (the same mapping as `latent train`'s flags).
fn rec_config(model: &str, p: RecParams) -> latent::Result<RecConfig> {
    let mut c = RecConfig { kind: kind(model)?, ..RecConfig::default() };
    c.hidden = p.hidden.unwrap_or(c.hidden);
    c.latent = p.latent.unwrap_or(c.latent);
    c.dropout = p.dropout.unwrap_or(c.dropout);
    c.beta = p.beta.unwrap_or(c.beta);
    if let Some(l) = p.lambdas.filter(|l| !l.is_empty()) {
        c.lambdas = l;
    }
    c.epochs = p.epochs.unwrap_or(c.epochs);
    if let Some(b) = p.batch_size {
        c.set_batch_size(b);
    }
    c.lr = p.lr.unwrap_or(c.lr);
    c.weight_decay = p.weight_decay.unwrap_or(c.weight_decay);
    c.patience = p.patience.or(c.patience);
    c.seed = p.seed.unwrap_or(c.seed);
    if let Some(rule) = p.beta_rule {
        c.beta_by_history = match rule.as_str() {
            "history" => true,
            "constant" => false,
            _ => {
                return Err(latent::Error::Config(format!(
                    "beta rule \"{rule}\" is not one of history, constant"
                )))
            }
        };
    }
    c.anneal_steps = p.anneal_steps.or(c.anneal_steps);
    c.decoupled_decay = p.decoupled_decay.unwrap_or(c.decoupled_decay);
    c.composite_prior = p.composite_prior.unwrap_or(c.composite_prior);
    c.emphasis = p.emphasis.unwrap_or(c.emphasis);
    c.lr_decay_epochs = p.lr_decay_epochs.or(c.lr_decay_epochs);
    c.validate()?;
    Ok(c)
}

#[pymethods]
impl PyRecModel {
    /// Trains a recommender on `data` (validation users drawn with the seed, for early
    /// stopping and EASE's λ). `user`, `item`, `rating`, `min_rating`: the columns recorded
    /// in the model file (the defaults of `latent recommend`).
    #[staticmethod]
    #[pyo3(signature = (data, params, *, model="mult-vae", user=None, item=None, rating=None,
        min_rating=None, verbose=0))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        data: &PyInteractions,
        params: RecParams,
        model: &str,
        user: Option<String>,
        item: Option<String>,
        rating: Option<String>,
        min_rating: Option<f64>,
        verbose: u32,
    ) -> PyResult<PyRecModel> {
        let config = rec_config(model, params).map_err(py_error)?;
        let defaults = InteractionColumns::default();
        let columns = InteractionColumns {
            user: user.unwrap_or(defaults.user),
            item: item.unwrap_or(defaults.item),
            min_rating: if rating.is_some() { min_rating } else { None },
            rating,
        };
        let mut obs = PyObserver::new(verbose);
        let fitted = py.detach(|| latent::recommend::fit(&data.data, columns, &config, &mut obs));
        obs.finish(py);
        Ok(PyRecModel { model: fitted.map_err(py_error)? })
    }

    /// Loads a recommender model file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyRecModel> {
        let model = py.detach(|| RecModel::load(&path)).map_err(py_error)?;
        Ok(PyRecModel { model })
    }

    /// True when `path` is a recommender model file (reads only its header).
    #[staticmethod]
    fn is_recommender(path: PathBuf) -> bool {
        latent::recommend::is_recommender(&path)
    }

    /// Saves the model file (atomically).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(py_error)
    }

    /// The model file's bytes (for pickling).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| crate::file_bytes(|path| self.model.save(path)))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A recommender from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyRecModel> {
        let model = py.detach(|| crate::from_file_bytes(data, RecModel::load))?;
        Ok(PyRecModel { model })
    }

    /// Pickling: the model file's bytes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let from_bytes = py.get_type::<PyRecModel>().getattr("from_bytes")?;
        Ok((from_bytes, (slf.get().to_bytes(py)?,)))
    }

    /// The top `k` items of every user of `data`: `(item index, score, unknown)` with the
    /// first two `(users, k)` arrays (index -1 and score NaN past the end of a short list) and
    /// the number of interactions with unknown items (skipped).
    fn recommend<'py>(
        &self,
        py: Python<'py>,
        data: &PyInteractions,
        k: usize,
        exclude_seen: bool,
    ) -> PyResult<Ranked<'py>> {
        let recs = py
            .detach(|| self.model.recommend_for(&data.data, k, exclude_seen))
            .map_err(py_error)?;
        let n = recs.ranked.len();
        let mut items = vec![-1i64; n * k];
        let mut scores = vec![f32::NAN; n * k];
        for (u, list) in recs.ranked.iter().enumerate() {
            for (r, &(i, s)) in list.iter().enumerate() {
                items[u * k + r] = i64::from(i);
                scores[u * k + r] = s;
            }
        }
        let items = items.into_pyarray(py).reshape([n, k])?;
        let scores = scores.into_pyarray(py).reshape([n, k])?;
        Ok((items, scores, recs.unknown))
    }

    /// The score of every item (in the model's item order) for every user of `data`:
    /// `(users, items)` float32, and the number of interactions with unknown items.
    fn score_items<'py>(
        &self,
        py: Python<'py>,
        data: &PyInteractions,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, usize)> {
        let (scores, unknown) =
            py.detach(|| self.model.score_items(&data.data)).map_err(py_error)?;
        let (n, m) = (data.data.users.len(), self.model.manifest.items.len());
        Ok((scores.into_pyarray(py).reshape([n, m])?, unknown))
    }

    /// Item ids, in the order of the model's item axis.
    #[getter]
    fn items(&self) -> Vec<String> {
        self.model.manifest.items.clone()
    }

    /// The recommender (`mult-vae`, `mult-dae`, `ease` or `popularity`).
    #[getter]
    fn kind(&self) -> &'static str {
        self.model.manifest.config.kind.name()
    }

    /// The columns the model was trained with: `{"user", "item", "rating", "min_rating"}`.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.model.manifest.columns;
        let d = PyDict::new(py);
        d.set_item("user", &c.user)?;
        d.set_item("item", &c.item)?;
        d.set_item("rating", c.rating.clone())?;
        d.set_item("min_rating", c.min_rating)?;
        Ok(d)
    }

    /// Training history and validation metrics: `{"loss", "ndcg_100", "beta"}` per epoch
    /// (empty for EASE and popularity), `best_epoch`, `lambda`, and the kept model's
    /// validation `ndcg_100`, `recall_20`, `recall_50`.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.model.manifest.summary;
        let d = PyDict::new(py);
        d.set_item("loss", s.history.iter().map(|e| e.train_loss).collect::<Vec<f64>>())?;
        d.set_item("ndcg_100", s.history.iter().map(|e| e.ndcg_100).collect::<Vec<f64>>())?;
        d.set_item("beta", s.history.iter().map(|e| e.beta).collect::<Vec<f64>>())?;
        d.set_item("best_epoch", s.best_epoch)?;
        d.set_item("lambda", s.lambda)?;
        let v = PyDict::new(py);
        v.set_item("ndcg_100", s.validation.ndcg_100)?;
        v.set_item("recall_20", s.validation.recall_20)?;
        v.set_item("recall_50", s.validation.recall_50)?;
        d.set_item("validation", v)?;
        Ok(d)
    }
}

/// Registers the recommender classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyInteractions>()?;
    m.add_class::<PyRecModel>()?;
    Ok(())
}
