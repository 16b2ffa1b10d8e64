//! The dense (fully connected) autoencoder: encoder `in → hidden… → latent`, mirrored decoder.
//!
//! Weight names follow the module tree: `encoder.{i}.weight`, `decoder.{i}.bias`, … with `i`
//! counting linear layers (PyTorch `nn.Linear` layout, `[out, in]`).

use crate::config::{Loss, ModelConfig};
use crate::engine::dense::{dropout_backward, dropout_forward};
use crate::engine::{Activation, Dense, Params};
use crate::objective::{loss_and_grad, loss_value};
use rand::Rng;

/// Layer stack and per-layer settings of a dense autoencoder.
#[derive(Clone, Debug)]
pub struct DenseNet {
    layers: Vec<Dense>,
    /// Index of the layer whose output is the latent code.
    code_layer: usize,
    dropout: f32,
    loss: Loss,
}

impl DenseNet {
    /// Registers the layers' tensors in `params` (zero-initialised).
    ///
    /// Sizes left unset in `cfg` are resolved for `inputs`; `output` must be resolved
    /// (sigmoid or identity).
    pub fn new(params: &mut Params, inputs: usize, cfg: &ModelConfig, output: Activation) -> Self {
        let cfg = cfg.resolve(inputs);
        let mut widths = vec![inputs];
        widths.extend(cfg.hidden.iter().flatten());
        widths.extend(cfg.latent);
        let depth = widths.len() - 1;
        let mut layers = Vec::with_capacity(2 * depth);
        for i in 0..depth {
            let act = if i + 1 == depth { Activation::Identity } else { cfg.activation };
            let prefix = format!("encoder.{i}");
            layers.push(Dense::new(params, &prefix, widths[i], widths[i + 1], act));
        }
        for i in 0..depth {
            let (from, to) = (widths[depth - i], widths[depth - i - 1]);
            let act = if i + 1 == depth { output } else { cfg.activation };
            layers.push(Dense::new(params, &format!("decoder.{i}"), from, to, act));
        }
        DenseNet { layers, code_layer: depth - 1, dropout: cfg.dropout, loss: cfg.loss }
    }

    /// The layers, encoder first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Input (and output) width.
    pub fn width(&self) -> usize {
        self.layers[0].inputs
    }

    /// Latent code width.
    pub fn code_width(&self) -> usize {
        self.layers[self.code_layer].outputs
    }

    fn output_layer(&self) -> &Dense {
        &self.layers[self.layers.len() - 1]
    }

    fn has_dropout(&self, layer: usize) -> bool {
        self.dropout > 0.0 && layer != self.code_layer && layer + 1 != self.layers.len()
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        let widest = self.layers.iter().map(|l| l.outputs.max(l.inputs)).max().unwrap_or(0);
        let last = self.layers.len() - 1;
        Workspace {
            capacity,
            outputs: self.layers.iter().map(|l| vec![0.0; capacity * l.outputs]).collect(),
            pre: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let keep = i == last || l.activation.needs_preactivation();
                    vec![0.0; if keep { capacity * l.outputs } else { 0 }]
                })
                .collect(),
            masks: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| vec![0.0; if self.has_dropout(i) { capacity * l.outputs } else { 0 }])
                .collect(),
            grad_a: vec![0.0; capacity * widest],
            grad_b: vec![0.0; capacity * widest],
        }
    }

    /// Forward pass of `rows` rows of `x`; with `rng` dropout is applied (training).
    pub fn forward(
        &self,
        params: &Params,
        ws: &mut Workspace,
        x: &[f32],
        rows: usize,
        mut rng: Option<&mut dyn rand::RngCore>,
    ) {
        assert!(rows <= ws.capacity, "batch larger than the workspace");
        for (i, layer) in self.layers.iter().enumerate() {
            let (done, rest) = ws.outputs.split_at_mut(i);
            let input: &[f32] = if i == 0 { x } else { &done[i - 1] };
            let out = &mut rest[0];
            let pre = if ws.pre[i].is_empty() { None } else { Some(&mut ws.pre[i][..]) };
            layer.forward(params, input, rows, out, pre);
            if let (true, Some(rng)) = (self.has_dropout(i), rng.as_deref_mut()) {
                let n = rows * layer.outputs;
                dropout_forward(&mut out[..n], &mut ws.masks[i][..n], self.dropout, rng);
            }
        }
    }

    /// Forward and backward on one batch; gradients are written into `params`.
    /// Returns the mean loss.
    pub fn train_step(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        x: &[f32],
        target: &[f32],
        rows: usize,
        rng: &mut dyn rand::RngCore,
    ) -> f64 {
        self.forward(params, ws, x, rows, Some(rng));
        let last = self.layers.len() - 1;
        let out_layer = self.output_layer();
        let n = rows * out_layer.outputs;
        let loss = loss_and_grad(
            self.loss,
            out_layer.activation,
            &ws.outputs[last][..n],
            &ws.pre[last][..n],
            &target[..n],
            &mut ws.grad_a[..n],
        );
        // ws.grad_a holds dz of layer `i`; its backward writes dy of layer i-1 into grad_b.
        for i in (0..self.layers.len()).rev() {
            let layer = &self.layers[i];
            let n_out = rows * layer.outputs;
            if i != last {
                if self.has_dropout(i) {
                    dropout_backward(&mut ws.grad_a[..n_out], &ws.masks[i][..n_out]);
                }
                let pre = if ws.pre[i].is_empty() { None } else { Some(&ws.pre[i][..n_out]) };
                layer.activation.backward(&mut ws.grad_a[..n_out], &ws.outputs[i][..n_out], pre);
            }
            let input: &[f32] = if i == 0 { x } else { &ws.outputs[i - 1] };
            let dx = if i == 0 { None } else { Some(&mut ws.grad_b[..]) };
            layer.backward(params, input, rows, &ws.grad_a[..n_out], dx);
            std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
        }
        loss
    }

    /// Mean loss of a batch without dropout or gradients.
    pub fn eval_loss(
        &self,
        params: &Params,
        ws: &mut Workspace,
        x: &[f32],
        target: &[f32],
        rows: usize,
    ) -> f64 {
        self.forward(params, ws, x, rows, None);
        let last = self.layers.len() - 1;
        let n = rows * self.width();
        loss_value(self.loss, &ws.outputs[last][..n], &ws.pre[last][..n], &target[..n])
    }

    /// The latent codes of the last forward pass (`rows x code_width`).
    pub fn codes<'w>(&self, ws: &'w Workspace, rows: usize) -> &'w [f32] {
        &ws.outputs[self.code_layer][..rows * self.code_width()]
    }

    /// The reconstructions of the last forward pass (`rows x width`).
    pub fn reconstructions<'w>(&self, ws: &'w Workspace, rows: usize) -> &'w [f32] {
        &ws.outputs[self.layers.len() - 1][..rows * self.width()]
    }

    /// Decodes latent codes: runs the decoder layers only, leaving outputs in `ws`.
    pub fn decode(&self, params: &Params, ws: &mut Workspace, codes: &[f32], rows: usize) {
        for i in self.code_layer + 1..self.layers.len() {
            let (done, rest) = ws.outputs.split_at_mut(i);
            let input: &[f32] = if i == self.code_layer + 1 { codes } else { &done[i - 1] };
            let pre = if ws.pre[i].is_empty() { None } else { Some(&mut ws.pre[i][..]) };
            self.layers[i].forward(params, input, rows, &mut rest[0], pre);
        }
    }

    /// Initialises every layer from `rng` (PyTorch's default scheme).
    pub fn init(&self, params: &mut Params, rng: &mut impl Rng) {
        for layer in &self.layers {
            crate::init::init_dense(params, layer, rng);
        }
    }
}

/// Activation, pre-activation, dropout-mask and gradient buffers for one batch size,
/// allocated once and reused every step.
#[derive(Clone, Debug)]
pub struct Workspace {
    capacity: usize,
    outputs: Vec<Vec<f32>>,
    pre: Vec<Vec<f32>>,
    masks: Vec<Vec<f32>>,
    grad_a: Vec<f32>,
    grad_b: Vec<f32>,
}

impl Workspace {
    /// Largest batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
