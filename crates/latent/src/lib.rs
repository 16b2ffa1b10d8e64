//! latent: autoencoders as fast, explicit software.
//!
//! The library holds the training engine, the model zoo, the one training loop, the
//! preprocessing that is fitted on training data and saved with the model, and the model file.
//! It prints nothing and has no async: the `latent` binary and the service are thin layers over it.
//!
//! The engine, the network (`model::net`) and the model-file helpers are public only for the
//! benchmarks and tests and are hidden from these docs: they are not part of the API.
//!
//! ```no_run
//! use latent::{FitConfig, Frame, Model, train::Silent};
//! # fn main() -> latent::Result<()> {
//! let frame = Frame::from_rows(Frame::default_names("f", 2), &[0.1, 0.2, 0.3, 0.4])?;
//! let model = Model::fit(&frame, &FitConfig::default(), &mut Silent)?;
//! let codes = model.encode(&frame)?;
//! model.save(std::path::Path::new("model.safetensors"))?;
//! # Ok(()) }
//! ```

#[doc(hidden)]
pub mod artifact;
pub mod blocks;
pub mod checkpoint;
pub mod codec;
pub mod config;
pub mod ecod;
#[doc(hidden)]
pub mod engine;
pub mod error;
pub mod frame;
pub mod iforest;
pub mod knn;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod objective;
pub mod onnx;
pub mod pca;
pub mod preprocess;
#[doc(hidden)]
pub mod preprocess_fit;
pub mod preset;
pub mod recommend;
pub mod rows;
pub mod score;
pub mod series;
pub mod threshold;
pub mod train;

pub use config::{
    Detector, FitConfig, Loss, MissingPolicy, ModelConfig, PreprocessConfig, Scaling, TrainConfig,
};
pub use engine::Activation;
pub use error::{Error, Result};
pub use frame::{Column, ColumnValues, Frame, ImageShape};
pub use labels::LabelRule;
pub use model::detector::FittedDetector;
pub use model::{CheckpointOptions, Matrix, Model, StreamSettings};
pub use objective::RowErrors;
pub use preprocess::Preprocessor;
pub use preset::Preset;
pub use score::{Explanation, ScoreKind, Threshold, ThresholdRule};
pub use threshold::ThresholdError;
pub use train::{EpochReport, LossTrend, Observer, Silent, TrainState, TrainSummary};
