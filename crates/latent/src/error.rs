//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the library. Messages are written for the end user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range or two settings conflict.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Data is unusable (wrong width, missing or non-finite values, no rows).
    #[error("{0}")]
    Data(String),
    /// A missing value where the missing-value policy refuses them: the first such cell in
    /// row order.
    #[error("data row {row}, column \"{column}\": missing value")]
    Missing {
        /// Row, from 1.
        row: usize,
        /// Column name.
        column: String,
    },
    /// A text column whose values are nearly all distinct (an identifier): it cannot be a
    /// feature.
    #[error(
        "column \"{column}\" looks like an identifier, not a category ({distinct} distinct \
         values in {rows} rows): one-hot encoding it would add {distinct} inputs"
    )]
    IdLikeColumn {
        /// Column name.
        column: String,
        /// Distinct values.
        distinct: usize,
        /// Rows with a value.
        rows: usize,
    },
    /// Data has the wrong columns for this model.
    #[error("{0}")]
    Schema(String),
    /// Labels of a labelled file cannot be turned into normal/anomaly (values unclear, or a
    /// named label value that no row has).
    #[error("{0}")]
    Labels(String),
    /// Training could not continue for another reason than divergence.
    #[error("{0}")]
    Training(String),
    /// The training loss became NaN or infinite.
    #[error("training diverged at epoch {epoch}, batch {batch} (loss {loss})")]
    Diverged {
        /// Epoch, from 1.
        epoch: usize,
        /// Batch of that epoch, from 1.
        batch: usize,
        /// The loss of that batch.
        loss: f64,
    },
    /// An operation that only a variational model (VAE, conv VAE) supports.
    #[error("{0} needs a variational model")]
    NotVariational(&'static str),
    /// Compression was asked of a model whose file holds no entropy model.
    #[error("this model has no entropy model for compression")]
    NoCodec,
    /// A fitted entropy model (with a quantisation step) was asked of a learned-compression
    /// model, whose entropy model is learnt in training and would be replaced.
    #[error(
        "this compression model codes with the entropy model it learns in training; a fitted \
         entropy model with a quantisation step would replace it"
    )]
    LearnedCodec,
    /// A score that needs a detector the model was not trained with.
    #[error("the {score} score needs a model trained with the {score} detector")]
    NoDetector {
        /// The score's name.
        score: &'static str,
    },
    /// A compute device was asked for and is not available (no CUDA support in this build, no
    /// driver or no device), or the device failed.
    #[error("{0}")]
    Device(String),
    /// A model file is not a readable latent model.
    #[error("{path}: {message}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A compressed (`.lat`) file cannot be decoded: not such a file, another version, made
    /// with another model, truncated or corrupt.
    #[error("{path}: {message}")]
    Compressed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The observer stopped the run ([`crate::Observer::should_stop`]).
    #[error("training interrupted at epoch {epoch}, batch {batch}")]
    Interrupted {
        /// Epoch, from 1.
        epoch: usize,
        /// Batch of that epoch, from 1.
        batch: usize,
    },
    /// A score kind or threshold that does not fit the model (see
    /// [`crate::threshold::Model::resolve_threshold`]).
    #[error(transparent)]
    Threshold(#[from] crate::threshold::ThresholdError),
    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// True when the error is the user's input (bad data, config or file), not a failure.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Training(_) | Error::Diverged { .. } | Error::Interrupted { .. })
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
