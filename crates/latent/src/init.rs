//! Seeded weight initialisation.

use crate::engine::{Dense, Params};
use rand::Rng;

/// PyTorch's `nn.Linear` default: weight and bias uniform in `±1/√fan_in`.
pub fn init_dense(params: &mut Params, layer: &Dense, rng: &mut impl Rng) {
    let bound = 1.0 / (layer.inputs as f32).sqrt();
    for id in [layer.weight, layer.bias] {
        for v in params.value_mut(id) {
            *v = rng.random_range(-bound..bound);
        }
    }
}
