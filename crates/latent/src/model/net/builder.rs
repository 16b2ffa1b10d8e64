//! Building a network's layers with weight names counted per part.

use super::Layer;
use crate::engine::conv::Shape3;
use crate::engine::gdn::Gdn;
use crate::engine::{Activation, Dense, Params};

/// Which half of the network a layer belongs to (its weight-name prefix).
#[derive(Clone, Copy)]
pub(super) enum Part {
    Encoder,
    Decoder,
}

/// Appends layers with weight names counted per part: `encoder.0`, `encoder.1`, `decoder.0`, …
pub(super) struct Builder<'p> {
    pub(super) params: &'p mut Params,
    pub(super) layers: Vec<Layer>,
    pub(super) encoder: usize,
    pub(super) decoder: usize,
}

impl Builder<'_> {
    pub(super) fn name(&mut self, part: Part) -> String {
        let (prefix, counter) = match part {
            Part::Encoder => ("encoder", &mut self.encoder),
            Part::Decoder => ("decoder", &mut self.decoder),
        };
        *counter += 1;
        format!("{prefix}.{}", *counter - 1)
    }

    pub(super) fn dense(&mut self, part: Part, from: usize, to: usize, act: Activation) {
        let name = self.name(part);
        self.layers.push(Layer::Dense(Dense::new(self.params, &name, from, to, act)));
    }

    /// GDN (or IGDN when `inverse`) over feature maps of `shape`.
    pub(super) fn gdn(&mut self, part: Part, shape: Shape3, inverse: bool) {
        let name = self.name(part);
        self.layers.push(Layer::Gdn(Gdn::new(self.params, &name, shape, inverse)));
    }
}
