//! The autoencoder network: an encoder, a latent head (deterministic or Gaussian), a decoder,
//! and the training objective, over dense or convolutional layers.
//!
//! Weight names follow the module tree: `encoder.{i}.weight`, `decoder.{i}.bias`, … with `i`
//! counting layers with weights (PyTorch `nn.Linear` layout `[out, in]` for dense layers).
//! A variational encoder's last layer outputs `[μ | log σ²]`, `2 x latent` values per row.

mod builder;
mod rate;

pub use rate::check_ms_ssim_data;

use super::layer::Layer;
use crate::config::{
    Architecture, ConvNorm, Corruption, LatentKind, Likelihood, Loss, ModelConfig, Objective,
    Sparsity,
};
use crate::engine::conv::{Conv, Shape3};
use crate::engine::dense::{dropout_activation_backward, dropout_forward};
use crate::engine::density::Density;
use crate::engine::vae::{self, LogSigma, NllGrad};
use crate::engine::{Activation, ParamId, Params};
use crate::frame::ImageShape;
use crate::objective::msssim::Layout;
use crate::objective::{self, loss_and_grad, loss_value};
use crate::{Error, Result};
use builder::{Builder, Part};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};

/// Layer stack, latent head and objective of an autoencoder.
#[derive(Clone, Debug)]
pub struct Net {
    layers: Vec<Layer>,
    /// Index of the layer whose output is the code (or `[μ | log σ²]`).
    code_layer: usize,
    latent: usize,
    kind: LatentKind,
    dropout: f32,
    /// Dropout also on the code layer's output.
    code_dropout: bool,
    loss: Loss,
    objective: Objective,
    /// Decoder likelihood of a variational model, resolved.
    likelihood: Option<Likelihood>,
    /// Learned per-feature log σ of a Gaussian likelihood.
    log_sigma: Option<ParamId>,
    /// The learned entropy model of a compression model's code (`objective.lambda`).
    density: Option<Density>,
    /// Pixels per row (values per row for tables): the rate is in bits per pixel.
    pixels: usize,
    /// The image shape and layout of a model trained with the MS-SSIM distortion.
    ms_ssim: Option<(ImageShape, Layout)>,
}

impl Net {
    /// Builds the layers for `inputs` values per row (an image when `image` is given).
    ///
    /// `cfg` must be resolved ([`ModelConfig::resolve`]) and `output` decided.
    pub fn new(
        params: &mut Params,
        inputs: usize,
        image: Option<ImageShape>,
        cfg: &ModelConfig,
        output: Activation,
        objective: &Objective,
    ) -> Result<Self> {
        let cfg = cfg.resolve(inputs);
        let mut latent = cfg.latent.unwrap_or(1);
        let code_out = match cfg.latent_kind {
            LatentKind::Deterministic => latent,
            LatentKind::Gaussian => 2 * latent,
        };
        let code_act = match cfg.latent_kind {
            LatentKind::Deterministic => cfg.code_activation,
            LatentKind::Gaussian => Activation::Identity,
        };
        let hidden = cfg.hidden.clone().unwrap_or_default();
        let act = cfg.activation;
        // With GDN the hidden convolutions are linear and GDN / IGDN follows them.
        let gdn = cfg.conv_norm == ConvNorm::Gdn;
        let hidden_act = if gdn { Activation::Identity } else { act };
        let mut b = Builder { params, layers: Vec::new(), encoder: 0, decoder: 0 };
        // Convolutions first (conv models), then a dense stack to the code and back.
        let mut shapes = Vec::new();
        let mut dense_code = true;
        let (flat, conv) = match &cfg.architecture {
            Architecture::Dense => (inputs, None),
            Architecture::Conv { channels, kernel, stride, dense_code: dense } => {
                dense_code = *dense;
                let img = image.ok_or_else(|| {
                    Error::Config("a convolutional model needs image data (IDX, NPY with 3-4 dimensions, or an image folder)".into())
                })?;
                let mut shape = Shape3 { h: img.height, w: img.width, c: img.channels };
                shapes.push(shape);
                let rate = objective.lambda.is_some() && !*dense;
                for (i, &ch) in channels.iter().enumerate() {
                    if (shape.h > 1 && shape.h % stride != 0) || shape.w % stride != 0 {
                        return Err(Error::Config(format!(
                            "stride {stride} does not divide the {}x{} feature map; use a stride or \
                             number of conv layers that divides the image size",
                            shape.h, shape.w
                        )));
                    }
                    let name = b.name(Part::Encoder);
                    // A compression model's code map is linear (the code activation).
                    let code = rate && i + 1 == channels.len();
                    let a = if code { code_act } else { hidden_act };
                    let layer = Conv::new(b.params, &name, shape, ch, *kernel, *stride, a);
                    shape = layer.output;
                    shapes.push(shape);
                    b.layers.push(Layer::Conv(layer));
                    if gdn && !code {
                        b.gdn(Part::Encoder, shape, false);
                    }
                }
                (shape.len(), Some((*kernel, *stride)))
            }
        };
        let code_layer = if dense_code {
            let mut widths = vec![flat];
            widths.extend(&hidden);
            for w in widths.windows(2) {
                b.dense(Part::Encoder, w[0], w[1], act);
            }
            b.dense(Part::Encoder, *widths.last().unwrap_or(&flat), code_out, code_act);
            let code_layer = b.layers.len() - 1;
            let mut back = vec![latent];
            back.extend(hidden.iter().rev());
            back.push(flat);
            for (i, w) in back.windows(2).enumerate() {
                let last = i + 2 == back.len() && conv.is_none();
                b.dense(Part::Decoder, w[0], w[1], if last { output } else { act });
            }
            code_layer
        } else {
            // Fully convolutional: the last feature map is the code.
            latent = flat;
            b.layers.len() - 1
        };
        if let Some((kernel, stride)) = conv {
            for i in (0..shapes.len() - 1).rev() {
                let a = if i == 0 { output } else { hidden_act };
                let name = b.name(Part::Decoder);
                let t =
                    Conv::transposed(b.params, &name, shapes[i + 1], shapes[i], kernel, stride, a);
                b.layers.push(Layer::Conv(t));
                if gdn && i != 0 {
                    b.gdn(Part::Decoder, shapes[i], true);
                }
            }
        }
        let layers = b.layers;
        let code_channels = shapes.last().filter(|_| !dense_code).map_or(latent, |s| s.c);
        let pixels = image.map_or(inputs, |i| i.height * i.width);
        let mut net =
            Self::assemble(params, layers, code_layer, latent, &cfg, output, objective, inputs)?;
        net.pixels = pixels;
        net.density = objective
            .lambda
            .is_some()
            .then(|| Density::new(params, "entropy", code_channels, rate::COMPONENTS));
        net.ms_ssim = rate::ms_ssim_layout(objective, image, &cfg.architecture)?;
        Ok(net)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        params: &mut Params,
        layers: Vec<Layer>,
        code_layer: usize,
        latent: usize,
        cfg: &ModelConfig,
        output: Activation,
        objective: &Objective,
        inputs: usize,
    ) -> Result<Self> {
        let likelihood = (cfg.latent_kind == LatentKind::Gaussian).then(|| {
            objective.likelihood.unwrap_or(if output == Activation::Sigmoid {
                Likelihood::Bernoulli
            } else {
                Likelihood::Gaussian { sigma: None }
            })
        });
        if likelihood == Some(Likelihood::Bernoulli) && output != Activation::Sigmoid {
            return Err(Error::Config(
                "a Bernoulli likelihood needs data in [0, 1] and the sigmoid output".into(),
            ));
        }
        let log_sigma = matches!(likelihood, Some(Likelihood::Gaussian { sigma: None }))
            .then(|| params.add("decoder.log_sigma", &[inputs], false));
        Ok(Net {
            layers,
            code_layer,
            latent,
            kind: cfg.latent_kind,
            dropout: cfg.dropout,
            code_dropout: cfg.code_dropout,
            loss: cfg.loss,
            objective: objective.clone(),
            likelihood,
            log_sigma,
            density: None,
            pixels: inputs,
            ms_ssim: None,
        })
    }

    /// The layers, encoder first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Input (and output) width.
    pub fn width(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Index of the layer whose output is the code (or `[μ | log σ²]` for a variational one).
    pub fn code_layer(&self) -> usize {
        self.code_layer
    }

    /// Latent code width.
    pub fn code_width(&self) -> usize {
        self.latent
    }

    /// Deterministic or Gaussian code.
    pub fn latent_kind(&self) -> LatentKind {
        self.kind
    }

    /// The resolved decoder likelihood of a variational model.
    pub fn likelihood(&self) -> Option<Likelihood> {
        self.likelihood
    }

    fn last(&self) -> usize {
        self.layers.len() - 1
    }

    fn has_dropout(&self, i: usize) -> bool {
        self.dropout > 0.0
            && (i != self.code_layer || self.code_dropout)
            && i != self.last()
            && matches!(self.layers[i], Layer::Dense(_))
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        let widest = self.layers.iter().map(|l| l.outputs().max(l.inputs())).max().unwrap_or(0);
        let last = self.last();
        let sized = |keep: bool, n: usize| vec![0.0; if keep { n } else { 0 }];
        let variational = self.kind == LatentKind::Gaussian;
        let dcols = self.layers.iter().map(|l| l.cols_len(capacity)).max().unwrap_or(0);
        let width = self.width();
        Workspace {
            capacity,
            outputs: self.layers.iter().map(|l| vec![0.0; capacity * l.outputs()]).collect(),
            pre: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    sized(i == last || l.activation().needs_preactivation(), capacity * l.outputs())
                })
                .collect(),
            masks: (0..self.layers.len())
                .map(|i| sized(self.has_dropout(i), capacity * self.layers[i].outputs()))
                .collect(),
            cols: self.layers.iter().map(|l| vec![0.0; l.cols_len(capacity)]).collect(),
            dcols: vec![0.0; dcols],
            grad_a: vec![0.0; capacity * widest],
            grad_b: vec![0.0; capacity * widest],
            input: sized(self.transforms_input(), capacity * width),
            target: sized(self.objective.binarize, capacity * width),
            z: vec![0.0; capacity * self.latent],
            eps: sized(variational, capacity * self.latent),
            rho_hat: vec![0.0; self.latent],
            inference: false,
        }
    }

    fn transforms_input(&self) -> bool {
        self.objective.binarize || self.objective.corruption != Corruption::None
    }

    /// Runs layers `from..to` on `input`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        params: &Params,
        ws: &mut Workspace,
        input: Side,
        from: usize,
        to: usize,
        rows: usize,
        mut rng: Option<&mut dyn RngCore>,
    ) {
        for i in from..to {
            let (done, rest) = ws.outputs.split_at_mut(i);
            let x: &[f32] = if i == from {
                match input {
                    Side::Input => &ws.input,
                    Side::Z => &ws.z,
                    Side::Given(x) => x,
                }
            } else {
                &done[i - 1]
            };
            let keep = !ws.inference && !ws.pre[i].is_empty();
            let pre = if keep { Some(&mut ws.pre[i][..]) } else { None };
            self.layers[i].forward(params, x, rows, &mut rest[0], pre, &mut ws.cols[i]);
            if let (true, Some(rng)) = (self.has_dropout(i), reborrow(&mut rng)) {
                let n = rows * self.layers[i].outputs();
                dropout_forward(&mut rest[0][..n], &mut ws.masks[i][..n], self.dropout, rng);
            }
        }
    }

    /// Forward pass. With `rng` (training) inputs are corrupted or binarised as configured,
    /// dropout is applied and a variational code is sampled; without, the code is the mean.
    pub fn forward(
        &self,
        params: &Params,
        ws: &mut Workspace,
        x: &[f32],
        rows: usize,
        mut rng: Option<&mut dyn RngCore>,
    ) {
        assert!(rows <= ws.capacity, "batch larger than the workspace");
        let n = rows * self.width();
        // The encoder reads x, or its corrupted / binarised copy in ws.input.
        let input = match reborrow(&mut rng) {
            Some(rng) if self.transforms_input() => {
                let mut clean: &[f32] = &x[..n];
                if self.objective.binarize {
                    for (t, &v) in ws.target[..n].iter_mut().zip(clean) {
                        *t = if rng.random::<f32>() < v { 1.0 } else { 0.0 };
                    }
                    clean = &ws.target[..n];
                }
                objective::corrupt(self.objective.corruption, clean, &mut ws.input[..n], rng);
                Side::Input
            }
            _ => Side::Given(&x[..n]),
        };
        self.run(params, ws, input, 0, self.code_layer + 1, rows, reborrow(&mut rng));
        self.sample_code(ws, rows, reborrow(&mut rng));
        self.run(params, ws, Side::Z, self.code_layer + 1, self.layers.len(), rows, rng);
    }

    /// Fills `ws.z` from the code layer: the code itself, or `μ + σ ε` (ε = 0 without `rng`).
    fn sample_code(&self, ws: &mut Workspace, rows: usize, rng: Option<&mut dyn RngCore>) {
        let k = self.latent;
        let h = &ws.outputs[self.code_layer];
        match self.kind {
            LatentKind::Deterministic => {
                ws.z[..rows * k].copy_from_slice(&h[..rows * k]);
                if self.density.is_some() {
                    rate::quantise(&mut ws.z[..rows * k], rng);
                }
            }
            LatentKind::Gaussian => {
                match rng {
                    Some(rng) => {
                        ws.eps[..rows * k].iter_mut().for_each(|e| *e = StandardNormal.sample(rng))
                    }
                    None => ws.eps[..rows * k].fill(0.0),
                }
                vae::reparameterize(h, &ws.eps, &mut ws.z, rows, k);
            }
        }
    }

    /// Forward and backward on one batch; gradients are written into `params`. `kl_weight`
    /// scales the KL term of a variational model. Returns the batch loss: mean reconstruction
    /// loss (plus penalties), or for a variational model the negative ELBO per row in nats.
    pub fn train_step(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        x: &[f32],
        rows: usize,
        kl_weight: f32,
        rng: &mut dyn RngCore,
    ) -> f64 {
        self.forward(params, ws, x, rows, Some(rng));
        let n = rows * self.width();
        let last = self.last();
        // Binarised inputs are also the targets; take the buffer out while `ws` is borrowed.
        let binarized = std::mem::take(&mut ws.target);
        let target: &[f32] = if self.objective.binarize { &binarized[..n] } else { &x[..n] };
        let mut loss = self.reconstruction(params, ws, target, rows, true);
        ws.target = binarized;
        if let Some(scale) = self.distortion_weight() {
            ws.grad_a[..n].iter_mut().for_each(|g| *g *= scale);
            loss *= f64::from(scale);
        }
        // Backward through the decoder; ws.grad_a holds dz of layer i.
        for i in (0..self.layers.len()).rev() {
            let layer = &self.layers[i];
            let n_out = rows * layer.outputs();
            if i == self.code_layer {
                loss += self.head_backward(params, ws, rows, kl_weight);
            }
            if i != last {
                let pre = if ws.pre[i].is_empty() { None } else { Some(&ws.pre[i][..n_out]) };
                let (dy, y) = (&mut ws.grad_a[..n_out], &ws.outputs[i][..n_out]);
                if self.has_dropout(i) {
                    let mask = &ws.masks[i][..n_out];
                    dropout_activation_backward(dy, y, mask, layer.activation(), pre);
                } else {
                    layer.activation().backward(dy, y, pre);
                }
            }
            let input: &[f32] = if i == 0 {
                if self.transforms_input() {
                    &ws.input
                } else {
                    x
                }
            } else if i == self.code_layer + 1 {
                &ws.z
            } else {
                &ws.outputs[i - 1]
            };
            let dx = if i == 0 { None } else { Some(&mut ws.grad_b[..]) };
            layer.backward(
                params,
                input,
                rows,
                &ws.grad_a[..n_out],
                dx,
                &ws.cols[i],
                &mut ws.dcols,
            );
            std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
        }
        loss
    }

    /// At the code layer: turns `ws.grad_a` from the gradient at the decoder input (`dz`) into
    /// the gradient at the code layer's output, adding sparsity or KL terms. Returns the added
    /// loss.
    fn head_backward(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        rows: usize,
        kl_weight: f32,
    ) -> f64 {
        let k = self.latent;
        let h = &ws.outputs[self.code_layer];
        match self.kind {
            LatentKind::Deterministic if self.density.is_some() => {
                self.rate_backward(params, ws, rows)
            }
            LatentKind::Deterministic => objective::sparsity_penalty(
                self.objective.sparsity,
                &h[..rows * k],
                k,
                &mut ws.grad_a[..rows * k],
                &mut ws.rho_hat,
            ),
            LatentKind::Gaussian => {
                vae::head_backward(h, &ws.eps, &ws.grad_a, &mut ws.grad_b, rows, k, kl_weight);
                std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
                f64::from(kl_weight) * vae::gaussian_kl(&h[..rows * 2 * k], k) / rows as f64
            }
        }
    }

    /// Reconstruction term of the last forward pass against `target`; with `grad`, writes
    /// `∂/∂(output pre-activation)` into `ws.grad_a` (and the log σ gradient into `params`).
    fn reconstruction(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        target: &[f32],
        rows: usize,
        grad: bool,
    ) -> f64 {
        let last = self.last();
        let n = rows * self.width();
        let out_act = self.layers[last].activation();
        let (y, z) = (&ws.outputs[last][..n], &ws.pre[last][..n]);
        if let Some((shape, layout)) = self.ms_ssim {
            let dz = grad.then_some(&mut ws.grad_a[..n]);
            return rate::ms_ssim_distortion(shape, layout, out_act, y, z, target, rows, dz);
        }
        let Some(likelihood) = self.likelihood else {
            return if grad {
                loss_and_grad(self.loss, out_act, y, z, target, &mut ws.grad_a[..n])
            } else {
                loss_value(self.loss, y, z, target)
            };
        };
        let r = rows as f32;
        let dz = &mut ws.grad_a[..n];
        let total = match likelihood {
            Likelihood::Bernoulli => vae::bernoulli_nll(y, z, target, grad.then_some((dz, r))),
            Likelihood::Gaussian { sigma } => {
                let ls = match (sigma, self.log_sigma) {
                    (None, Some(id)) => LogSigma::PerFeature(params.value(id)),
                    _ => LogSigma::Fixed(sigma.unwrap_or(1.0).ln()),
                };
                let g = grad.then_some(NllGrad { dz, pre: z, act: out_act, rows: r });
                let total = vae::gaussian_nll(y, target, ls, g);
                if let (true, None, Some(id)) = (grad, sigma, self.log_sigma) {
                    let (ls, g) = params.value_and_grad_mut(id, id);
                    vae::log_sigma_grad(y, target, ls, g, r);
                }
                total
            }
        };
        total / f64::from(r)
    }

    /// Loss of a batch without noise, dropout or gradients (a variational code at its mean).
    pub fn eval_loss(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        x: &[f32],
        rows: usize,
    ) -> f64 {
        self.forward(params, ws, x, rows, None);
        let n = rows * self.width();
        let mut loss = self.reconstruction(params, ws, &x[..n], rows, false);
        if let Some(scale) = self.distortion_weight() {
            loss = loss * f64::from(scale) + self.rate_bpp(params, ws, rows);
        }
        if self.kind == LatentKind::Gaussian {
            let h = &ws.outputs[self.code_layer][..rows * 2 * self.latent];
            loss += f64::from(self.objective.beta) * vae::gaussian_kl(h, self.latent) / rows as f64;
        }
        loss
    }

    /// Latent codes (the mean for a variational model) of the last forward pass, written into
    /// `out` (`rows x latent`).
    pub fn codes_into(&self, ws: &Workspace, rows: usize, out: &mut [f32]) {
        let k = self.latent;
        let h = &ws.outputs[self.code_layer];
        match self.kind {
            LatentKind::Deterministic => out[..rows * k].copy_from_slice(&h[..rows * k]),
            LatentKind::Gaussian => h
                .chunks_exact(2 * k)
                .zip(out.chunks_exact_mut(k))
                .take(rows)
                .for_each(|(r, o)| o.copy_from_slice(&r[..k])),
        }
    }

    /// `[μ | log σ²]` rows of the last forward pass of a variational model.
    pub fn posterior<'w>(&self, ws: &'w Workspace, rows: usize) -> &'w [f32] {
        &ws.outputs[self.code_layer][..rows * 2 * self.latent]
    }

    /// The reconstructions of the last forward pass (`rows x width`).
    pub fn reconstructions<'w>(&self, ws: &'w Workspace, rows: usize) -> &'w [f32] {
        &ws.outputs[self.last()][..rows * self.width()]
    }

    /// Output pre-activations (logits for a sigmoid output) of the last forward pass.
    pub fn output_logits<'w>(&self, ws: &'w Workspace, rows: usize) -> &'w [f32] {
        &ws.pre[self.last()][..rows * self.width()]
    }

    /// Runs the decoder only on codes `z` (`rows x latent`).
    pub fn decode(&self, params: &Params, ws: &mut Workspace, z: &[f32], rows: usize) {
        let k = self.latent;
        ws.z[..rows * k].copy_from_slice(&z[..rows * k]);
        self.run(params, ws, Side::Z, self.code_layer + 1, self.layers.len(), rows, None);
    }

    /// Learned per-feature log σ of a Gaussian likelihood, when there is one.
    pub fn log_sigma<'p>(&self, params: &'p Params) -> Option<&'p [f32]> {
        self.log_sigma.map(|id| params.value(id))
    }

    /// Initialises every layer from `rng` (PyTorch's default scheme); log σ starts at 0.
    ///
    /// With KL sparsity on a sigmoid code, the code layer's bias then starts at
    /// `logit(rho) = ln(rho / (1 - rho))` (about −2.94 for rho 0.05), so every code unit starts
    /// near the target activation instead of near 0.5 and training does not begin by fighting
    /// the penalty. The random draws are the same either way.
    pub fn init(&self, params: &mut Params, rng: &mut impl Rng) {
        for layer in &self.layers {
            layer.init(params, rng);
        }
        if let Some(d) = &self.density {
            d.init(params);
        }
        if let (Sparsity::Kl { rho, .. }, LatentKind::Deterministic, Layer::Dense(code)) =
            (self.objective.sparsity, self.kind, &self.layers[self.code_layer])
        {
            if code.activation == Activation::Sigmoid && rho > 0.0 && rho < 1.0 {
                params.value_mut(code.bias).fill((rho / (1.0 - rho)).ln());
            }
        }
    }

    /// The sparsity setting.
    pub fn sparsity(&self) -> Sparsity {
        self.objective.sparsity
    }
}

/// A shorter-lived handle on an optional RNG, so it can be passed on more than once.
fn reborrow<'a>(rng: &'a mut Option<&mut dyn RngCore>) -> Option<&'a mut dyn RngCore> {
    match rng {
        Some(r) => Some(&mut **r),
        None => None,
    }
}

/// Where a run of layers reads its first input.
#[derive(Clone, Copy)]
enum Side<'a> {
    Input,
    Z,
    Given(&'a [f32]),
}

/// Activation, pre-activation, dropout-mask, patch and gradient buffers for one batch size,
/// allocated once and reused every step.
#[derive(Clone, Debug)]
pub struct Workspace {
    capacity: usize,
    outputs: Vec<Vec<f32>>,
    pre: Vec<Vec<f32>>,
    masks: Vec<Vec<f32>>,
    cols: Vec<Vec<f32>>,
    dcols: Vec<f32>,
    grad_a: Vec<f32>,
    grad_b: Vec<f32>,
    input: Vec<f32>,
    target: Vec<f32>,
    z: Vec<f32>,
    eps: Vec<f32>,
    rho_hat: Vec<f32>,
    /// Inference only: pre-activations are not kept (no backward, no logits).
    inference: bool,
}

impl Workspace {
    /// Buffers for inference only (no pre-activations kept: no backward, no logits).
    pub fn for_inference(mut self) -> Self {
        self.inference = true;
        self
    }

    /// Largest batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
