//! The small training engine: parameters, matrix products, layers with explicit forward and
//! backward passes over reused buffers, and the optimiser.
//!
//! Nothing here allocates per step: buffers are sized once per batch shape and reused.

pub mod activation;
pub mod adam;
pub mod backend;
pub mod conv;
pub mod dense;
pub mod density;
pub mod gdn;
pub mod matmul;
pub mod params;
pub mod sparse;
pub mod vae;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig};
pub use dense::Dense;
pub use matmul::{matmul, MatRef};
pub use params::{ParamId, ParamSpec, Params};
pub use sparse::{SparseBatch, SparseDense};
