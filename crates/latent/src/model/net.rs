//! The autoencoder network: an encoder, a latent head (deterministic or Gaussian), a decoder,
//! and the training objective, over dense or convolutional layers.
//!
//! Weight names follow the module tree: `encoder.{i}.weight`, `decoder.{i}.bias`, … with `i`
//! counting layers with weights (PyTorch `nn.Linear` layout `[out, in]` for dense layers).
//! A variational encoder's last layer outputs `[μ | log σ²]`, `2 x latent` values per row.

mod builder;
mod rate;

pub use rate::check_ms_ssim_data;

use super::layer::{host_only, Layer};
use crate::config::{
    Architecture, ConvNorm, Corruption, LatentKind, Likelihood, Loss, ModelConfig, Objective,
    Sparsity,
};
use crate::engine::backend::{Backend, Cpu, NllGrad, ParamStore, Sigma};
use crate::engine::conv::{Conv, Shape3};
use crate::engine::density::Density;
use crate::engine::{Activation, ParamId, Params};
use crate::frame::ImageShape;
use crate::objective;
use crate::objective::msssim::Layout;
use crate::{Error, Result};
use builder::{Builder, Part};
use rand::Rng;
use std::convert::Infallible;

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

    /// Buffers on the CPU for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        match self.alloc_workspace::<Cpu, Infallible>(capacity, |n| Ok(vec![0.0; n])) {
            Ok(ws) => ws,
            Err(never) => match never {},
        }
    }

    /// Buffers on backend `be` for batches of up to `capacity` rows.
    pub fn workspace_on<B: Backend>(&self, be: &B, capacity: usize) -> Result<Workspace<B>> {
        self.alloc_workspace(capacity, |n| be.zeros(n))
    }

    /// Allocates every buffer of a workspace with `alloc`.
    fn alloc_workspace<B: Backend, E>(
        &self,
        capacity: usize,
        mut alloc: impl FnMut(usize) -> std::result::Result<B::Buf, E>,
    ) -> std::result::Result<Workspace<B>, E> {
        let widest = self.layers.iter().map(|l| l.outputs().max(l.inputs())).max().unwrap_or(0);
        let last = self.last();
        let variational = self.kind == LatentKind::Gaussian;
        let dcols = self.layers.iter().map(|l| l.cols_len(capacity)).max().unwrap_or(0);
        let width = self.width();
        let mut sized = |keep: bool, n: usize| alloc(if keep { n } else { 0 });
        let mut outputs = Vec::with_capacity(self.layers.len());
        let (mut pre, mut masks, mut cols) = (Vec::new(), Vec::new(), Vec::new());
        for (i, l) in self.layers.iter().enumerate() {
            let n = capacity * l.outputs();
            outputs.push(sized(true, n)?);
            pre.push(sized(i == last || l.activation().needs_preactivation(), n)?);
            masks.push(sized(self.has_dropout(i), n)?);
            cols.push(sized(true, l.cols_len(capacity))?);
        }
        Ok(Workspace {
            capacity,
            x: sized(true, capacity * width)?,
            outputs,
            pre,
            masks,
            cols,
            dcols: sized(true, dcols)?,
            grad_a: sized(true, capacity * widest)?,
            grad_b: sized(true, capacity * widest)?,
            input: sized(self.transforms_input(), capacity * width)?,
            target: sized(self.objective.binarize, capacity * width)?,
            z: sized(true, capacity * self.latent)?,
            eps: sized(variational, capacity * self.latent)?,
            rho_hat: vec![0.0; self.latent],
            inference: false,
        })
    }

    fn transforms_input(&self) -> bool {
        self.objective.binarize || self.objective.corruption != Corruption::None
    }

    /// Where the decoder reads the code: the sampled or quantised code in `ws.z`, or the code
    /// layer's output itself.
    fn code_side(&self) -> Side {
        if self.kind == LatentKind::Gaussian || self.density.is_some() {
            Side::Z
        } else {
            Side::Layer(self.code_layer)
        }
    }

    /// Runs layers `from..to` on `input`, with dropout when `rng` is given.
    #[allow(clippy::too_many_arguments)]
    fn run<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        ws: &mut Workspace<B>,
        input: Side,
        from: usize,
        to: usize,
        rows: usize,
        mut rng: Option<&mut B::Rng>,
    ) -> Result<()> {
        for i in from..to {
            let (done, rest) = ws.outputs.split_at_mut(i);
            let x = if i == from {
                match input {
                    Side::X => &ws.x,
                    Side::Input => &ws.input,
                    Side::Z => &ws.z,
                    Side::Layer(j) => &done[j],
                }
            } else {
                &done[i - 1]
            };
            let keep = !ws.inference && be.len(&ws.pre[i]) > 0;
            let pre = if keep { Some(&mut ws.pre[i]) } else { None };
            let y = &mut rest[0];
            self.layers[i].forward(be, params, x, rows, y, pre, &mut ws.cols[i])?;
            if let (true, Some(rng)) = (self.has_dropout(i), rng.as_deref_mut()) {
                let n = rows * self.layers[i].outputs();
                be.dropout_forward(y, &mut ws.masks[i], n, self.dropout, rng)?;
            }
        }
        Ok(())
    }

    /// Forward pass on backend `be` over `rows` rows of `x` (host memory, copied to the
    /// workspace). With `rng` (training) inputs are corrupted or binarised as configured,
    /// dropout is applied and a variational code is sampled; without, the code is the mean.
    pub fn forward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        ws: &mut Workspace<B>,
        x: &[f32],
        rows: usize,
        mut rng: Option<&mut B::Rng>,
    ) -> Result<()> {
        if rows > ws.capacity {
            return Err(Error::Device(format!(
                "a batch of {rows} rows is larger than the workspace ({} rows)",
                ws.capacity
            )));
        }
        let n = rows * self.width();
        be.write(&mut ws.x, 0, &x[..n])?;
        // The encoder reads x, or its corrupted / binarised copy in ws.input.
        let input = match rng.as_deref_mut() {
            Some(rng) if self.transforms_input() => {
                self.transform_input(be, ws, n, rng)?;
                Side::Input
            }
            _ => Side::X,
        };
        self.run(be, params, ws, input, 0, self.code_layer + 1, rows, rng.as_deref_mut())?;
        self.sample_code(be, ws, rows, rng.as_deref_mut())?;
        let (from, to) = (self.code_layer + 1, self.layers.len());
        self.run(be, params, ws, self.code_side(), from, to, rows, rng)
    }

    /// Writes the training input into `ws.input`: `ws.x`, binarised (`x ~ Bernoulli(x)`, the
    /// draws kept in `ws.target` as the targets) and corrupted as configured.
    fn transform_input<B: Backend>(
        &self,
        be: &B,
        ws: &mut Workspace<B>,
        n: usize,
        rng: &mut B::Rng,
    ) -> Result<()> {
        let clean = if self.objective.binarize {
            let (Some(x), Some(t), Some(r)) =
                (be.host(&ws.x), be.host_mut(&mut ws.target), be.host_rng(rng))
            else {
                return Err(host_only(be, "binarisation"));
            };
            for (t, &v) in t[..n].iter_mut().zip(&x[..n]) {
                *t = if r.random::<f32>() < v { 1.0 } else { 0.0 };
            }
            &ws.target
        } else {
            &ws.x
        };
        be.corrupt(self.objective.corruption, clean, &mut ws.input, n, rng)
    }

    /// Fills `ws.z` from the code layer when the decoder reads it from there: `μ + σ ε`
    /// (ε = 0 without `rng`), or the quantised code of a compression model.
    fn sample_code<B: Backend>(
        &self,
        be: &B,
        ws: &mut Workspace<B>,
        rows: usize,
        rng: Option<&mut B::Rng>,
    ) -> Result<()> {
        let (k, h) = (self.latent, &ws.outputs[self.code_layer]);
        let n = rows * k;
        match self.kind {
            LatentKind::Deterministic if self.density.is_some() => {
                let (Some(h), Some(z)) = (be.host(h), be.host_mut(&mut ws.z)) else {
                    return Err(host_only(be, "the rate term"));
                };
                z[..n].copy_from_slice(&h[..n]);
                let rng = match rng {
                    Some(r) => Some(be.host_rng(r).ok_or_else(|| host_only(be, "the rate term"))?),
                    None => None,
                };
                rate::quantise(&mut z[..n], rng);
                Ok(())
            }
            LatentKind::Deterministic => Ok(()),
            LatentKind::Gaussian => {
                match rng {
                    Some(rng) => be.normal(&mut ws.eps, n, rng)?,
                    None => be.scale(&mut ws.eps, n, 0.0)?,
                }
                be.reparameterize(h, &ws.eps, &mut ws.z, rows, k)
            }
        }
    }

    /// Forward and backward on one batch; gradients are written into `params`. `kl_weight`
    /// scales the KL term of a variational model. Returns the batch loss: mean reconstruction
    /// loss (plus penalties), or for a variational model the negative ELBO per row in nats.
    #[allow(clippy::too_many_arguments)]
    pub fn train_step<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        ws: &mut Workspace<B>,
        x: &[f32],
        rows: usize,
        kl_weight: f32,
        rng: &mut B::Rng,
    ) -> Result<f64> {
        self.forward(be, &*params, ws, x, rows, Some(rng))?;
        let n = rows * self.width();
        let last = self.last();
        let mut loss = self.reconstruction(be, params, ws, rows, true)?;
        if let Some(scale) = self.distortion_weight() {
            be.scale(&mut ws.grad_a, n, scale)?;
            loss *= f64::from(scale);
        }
        // Backward through the decoder; ws.grad_a holds dz of layer i.
        for i in (0..self.layers.len()).rev() {
            let layer = &self.layers[i];
            let n_out = rows * layer.outputs();
            if i == self.code_layer {
                loss += self.head_backward(be, params, ws, rows, kl_weight)?;
            }
            if i != last {
                let pre = (be.len(&ws.pre[i]) > 0).then_some(&ws.pre[i]);
                let mask = self.has_dropout(i).then_some(&ws.masks[i]);
                let (dy, y) = (&mut ws.grad_a, &ws.outputs[i]);
                be.act_backward(dy, y, pre, mask, layer.activation(), n_out)?;
            }
            let input = if i == 0 {
                if self.transforms_input() {
                    &ws.input
                } else {
                    &ws.x
                }
            } else if i == self.code_layer + 1 && self.code_side() == Side::Z {
                &ws.z
            } else {
                &ws.outputs[i - 1]
            };
            let dx = if i == 0 { None } else { Some(&mut ws.grad_b) };
            let (dz, cols) = (&ws.grad_a, &ws.cols[i]);
            layer.backward(be, params, input, rows, dz, dx, cols, &mut ws.dcols)?;
            std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
        }
        Ok(loss)
    }

    /// At the code layer: turns `ws.grad_a` from the gradient at the decoder input (`dz`) into
    /// the gradient at the code layer's output, adding sparsity or KL terms. Returns the added
    /// loss.
    fn head_backward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        ws: &mut Workspace<B>,
        rows: usize,
        kl_weight: f32,
    ) -> Result<f64> {
        let k = self.latent;
        let n = rows * k;
        let h = &ws.outputs[self.code_layer];
        match self.kind {
            LatentKind::Deterministic if self.density.is_some() => {
                let (Some(p), Some(z), Some(g)) =
                    (params.host_mut(), be.host(&ws.z), be.host_mut(&mut ws.grad_a))
                else {
                    return Err(host_only(be, "the rate term"));
                };
                Ok(self.rate_backward(p, &z[..n], &mut g[..n], rows))
            }
            LatentKind::Deterministic if self.objective.sparsity == Sparsity::None => Ok(0.0),
            LatentKind::Deterministic => {
                let (Some(h), Some(g)) = (be.host(h), be.host_mut(&mut ws.grad_a)) else {
                    return Err(host_only(be, "the sparsity penalty"));
                };
                let s = self.objective.sparsity;
                Ok(objective::sparsity_penalty(s, &h[..n], k, &mut g[..n], &mut ws.rho_hat))
            }
            LatentKind::Gaussian => {
                be.vae_head_backward(h, &ws.eps, &ws.grad_a, &mut ws.grad_b, rows, k, kl_weight)?;
                std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
                let kl = be.gaussian_kl(&ws.outputs[self.code_layer], rows, k)?;
                Ok(f64::from(kl_weight) * kl / rows as f64)
            }
        }
    }

    /// Reconstruction term of the last forward pass; when `training`, against the training
    /// targets (the binarised input of a binarising model) and writing
    /// `∂/∂(output pre-activation)` into `ws.grad_a` (and the log σ gradient into `params`).
    fn reconstruction<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        ws: &mut Workspace<B>,
        rows: usize,
        training: bool,
    ) -> Result<f64> {
        let last = self.last();
        let width = self.width();
        let n = rows * width;
        let act = self.layers[last].activation();
        let (y, z) = (&ws.outputs[last], &ws.pre[last]);
        let target = if training && self.objective.binarize { &ws.target } else { &ws.x };
        if let Some((shape, layout)) = self.ms_ssim {
            let (Some(y), Some(z), Some(t), Some(g)) =
                (be.host(y), be.host(z), be.host(target), be.host_mut(&mut ws.grad_a))
            else {
                return Err(host_only(be, "the MS-SSIM distortion"));
            };
            let (y, z, t) = (&y[..n], &z[..n], &t[..n]);
            let dz = training.then_some(&mut g[..n]);
            return Ok(rate::ms_ssim_distortion(shape, layout, act, y, z, t, rows, dz));
        }
        let Some(likelihood) = self.likelihood else {
            let dz = training.then_some(&mut ws.grad_a);
            return be.loss(self.loss, act, y, z, target, n, dz);
        };
        let r = rows as f32;
        let total = match likelihood {
            Likelihood::Bernoulli => {
                be.bernoulli_nll(y, z, target, n, training.then_some((&mut ws.grad_a, r)))?
            }
            Likelihood::Gaussian { sigma } => {
                let learned =
                    self.log_sigma.filter(|_| sigma.is_none()).map(|id| params.offset(id));
                let (values, grads) = params.values_and_grads();
                let ls = match learned {
                    Some(offset) => Sigma::PerFeature { buf: values, offset, width },
                    None => Sigma::Fixed(sigma.unwrap_or(1.0).ln()),
                };
                let g = training.then_some(NllGrad { dz: &mut ws.grad_a, pre: z, act, rows: r });
                let total = be.gaussian_nll(y, target, n, ls, g)?;
                if let (true, Some(at)) = (training, learned) {
                    be.log_sigma_grad(y, target, n, values, at, width, grads, at, r)?;
                }
                total
            }
        };
        Ok(total / f64::from(r))
    }

    /// Loss of a batch without noise, dropout or gradients (a variational code at its mean).
    pub fn eval_loss<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        ws: &mut Workspace<B>,
        x: &[f32],
        rows: usize,
    ) -> Result<f64> {
        self.forward(be, &*params, ws, x, rows, None)?;
        let mut loss = self.reconstruction(be, params, ws, rows, false)?;
        if let Some(scale) = self.distortion_weight() {
            let (Some(p), Some(z)) = (params.host(), be.host(&ws.z)) else {
                return Err(host_only(be, "the rate term"));
            };
            loss = loss * f64::from(scale) + self.rate_bpp(p, &z[..rows * self.latent], rows);
        }
        if self.kind == LatentKind::Gaussian {
            let kl = be.gaussian_kl(&ws.outputs[self.code_layer], rows, self.latent)?;
            loss += f64::from(self.objective.beta) * kl / rows as f64;
        }
        Ok(loss)
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

    /// Runs the decoder only on codes `z` (`rows x latent`, host memory).
    pub fn decode<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        ws: &mut Workspace<B>,
        z: &[f32],
        rows: usize,
    ) -> Result<()> {
        let k = self.latent;
        be.write(&mut ws.z, 0, &z[..rows * k])?;
        self.run(be, params, ws, Side::Z, self.code_layer + 1, self.layers.len(), rows, None)
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

/// Where a run of layers reads its first input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The batch as given (`ws.x`).
    X,
    /// The corrupted or binarised batch (`ws.input`).
    Input,
    /// The sampled, quantised or given code (`ws.z`).
    Z,
    /// The output of layer `i`.
    Layer(usize),
}

/// Activation, pre-activation, dropout-mask, patch and gradient buffers for one batch size on
/// one backend (the CPU unless named), allocated once and reused every step.
pub struct Workspace<B: Backend = Cpu> {
    capacity: usize,
    /// The batch, as given.
    x: B::Buf,
    outputs: Vec<B::Buf>,
    pre: Vec<B::Buf>,
    masks: Vec<B::Buf>,
    cols: Vec<B::Buf>,
    dcols: B::Buf,
    grad_a: B::Buf,
    grad_b: B::Buf,
    input: B::Buf,
    target: B::Buf,
    z: B::Buf,
    eps: B::Buf,
    /// The KL sparsity penalty's running code means (host only).
    rho_hat: Vec<f32>,
    /// Inference only: pre-activations are not kept (no backward, no logits).
    inference: bool,
}

impl<B: Backend> std::fmt::Debug for Workspace<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("capacity", &self.capacity)
            .field("inference", &self.inference)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Workspace<B> {
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
