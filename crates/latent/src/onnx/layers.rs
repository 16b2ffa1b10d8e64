//! The network's layers as ONNX nodes: dense layers as `MatMul` + `Add`, convolutions as
//! `Conv` and transposed convolutions as `ConvTranspose` (2-D, or 1-D as a `1 x k` kernel
//! over a height-1 map, as latent runs them), each followed by its activation; GDN as a
//! `1 x 1` `Conv` of the squares, `Sqrt` and `Div` (IGDN: `Mul`).
//!
//! latent stores feature maps channels last (H x W x C per sample) and its dense layers read
//! and write them in that order; ONNX convolutions work on NCHW tensors. The graph keeps each
//! value in the layout its producer wrote and converts (`Reshape`, `Transpose`) only where a
//! dense layer meets a feature map, so the numbers are latent's own. Model inputs and
//! reconstructions are in the data's order, channels first (C x H x W per row), which is NCHW
//! flattened.

use super::{float, ints, Graph};
use crate::engine::conv::{Conv, Direction, Shape3};
use crate::engine::gdn::Gdn;
use crate::engine::{Activation, Dense};
use crate::model::layer::Layer;
use crate::Model;

/// Where a value between layers stands.
#[derive(Clone, Copy)]
enum Layout {
    /// `[batch, values]` in the network's order (channels last for a feature map).
    Flat,
    /// `[batch, C, H, W]`.
    Nchw(Shape3),
}

impl Graph {
    /// An int64 shape constant.
    fn shape(&mut self, dims: &[i64]) -> String {
        self.constant_i64(dims)
    }

    /// `x` as `[batch, C, H, W]` from the layout it is in.
    fn nchw_of(&mut self, x: &str, layout: Layout, s: Shape3) -> String {
        if matches!(layout, Layout::Nchw(_)) {
            return x.to_string();
        }
        let (h, w, c) = (s.h as i64, s.w as i64, s.c as i64);
        let dims = self.shape(&[-1, h, w, c]);
        let nhwc = self.op("Reshape", &[x, &dims], vec![]);
        self.op("Transpose", &[&nhwc], vec![ints("perm", &[0, 3, 1, 2])])
    }

    /// `x` as `[batch, values]` in the network's (channels-last) order.
    fn flat_of(&mut self, x: &str, layout: Layout) -> String {
        let Layout::Nchw(s) = layout else {
            return x.to_string();
        };
        let nhwc = self.op("Transpose", &[x], vec![ints("perm", &[0, 2, 3, 1])]);
        let dims = self.shape(&[-1, s.len() as i64]);
        self.op("Reshape", &[&nhwc, &dims], vec![])
    }

    /// The layers `from..to` applied to `x`. `image_input`: `x` is a row of the data's image
    /// (channels first), not a value in the network's order. The result is `[batch, values]`:
    /// in the data's order (channels first) when the last layer is a convolution and
    /// `image_output`, else in the network's order.
    pub(super) fn layers(
        &mut self,
        model: &Model,
        x: &str,
        (from, to): (usize, usize),
        image_input: bool,
        image_output: bool,
    ) -> String {
        let mut h = x.to_string();
        let mut layout = Layout::Flat;
        for (i, layer) in model.net().layers()[from..to].iter().enumerate() {
            match layer {
                Layer::Dense(d) => {
                    h = self.flat_of(&h, layout);
                    layout = Layout::Flat;
                    h = self.dense(model, d, &h);
                }
                Layer::Conv(c) => {
                    h = if i == 0 && image_input {
                        // The data's row is C x H x W already: NCHW flattened.
                        let s = c.input;
                        let dims = self.shape(&[-1, s.c as i64, s.h as i64, s.w as i64]);
                        self.op("Reshape", &[&h, &dims], vec![])
                    } else {
                        self.nchw_of(&h, layout, c.input)
                    };
                    h = self.conv(model, c, &h);
                    layout = Layout::Nchw(c.output);
                }
                Layer::Gdn(g) => {
                    h = self.nchw_of(&h, layout, g.shape);
                    h = self.gdn(model, g, &h);
                    layout = Layout::Nchw(g.shape);
                }
            }
            h = self.activation(layer.activation(), &h);
        }
        match layout {
            Layout::Nchw(s) if image_output => {
                let dims = self.shape(&[-1, s.len() as i64]);
                self.op("Reshape", &[&h, &dims], vec![])
            }
            _ => self.flat_of(&h, layout),
        }
    }

    /// `y = x Wᵀ + b`, with W stored `[out, in]`: the initializer holds Wᵀ `[in, out]`.
    fn dense(&mut self, model: &Model, d: &Dense, x: &str) -> String {
        let w = model.params().value(d.weight);
        let mut wt = vec![0.0; w.len()];
        for o in 0..d.outputs {
            for i in 0..d.inputs {
                wt[i * d.outputs + o] = w[o * d.inputs + i];
            }
        }
        let wt = self.constant(&wt, &[d.inputs, d.outputs]);
        let b = self.constant(model.params().value(d.bias), &[d.outputs]);
        let z = self.op("MatMul", &[x, &wt], vec![]);
        self.op("Add", &[&z, &b], vec![])
    }

    /// A convolution or transposed convolution (with bias) on an NCHW value.
    ///
    /// latent's weights are `[C_out, kh, k, C_in]` (forward) and `[C_in, kh, k, C_out]`
    /// (transposed); ONNX wants `[C_out, C_in, kh, k]` and `[C_in, C_out, kh, k]`: both are the
    /// permutation `(a, y, x, b) -> (a, b, y, x)`. Padding is `k / 2` on both sides (none
    /// along the height of a 1-D map); a transposed convolution's end padding (or output
    /// padding) makes its output exactly latent's size.
    fn conv(&mut self, model: &Model, c: &Conv, x: &str) -> String {
        let p = &c.patches;
        let (kh, k) = (p.kernel_h(), p.kernel);
        let (a, b) = match c.direction {
            Direction::Forward => (c.output.c, c.input.c),
            Direction::Transposed => (c.input.c, c.output.c),
        };
        let w = model.params().value(c.weight);
        let mut onnx_w = vec![0.0; w.len()];
        for ai in 0..a {
            for y in 0..kh {
                for xk in 0..k {
                    for bi in 0..b {
                        onnx_w[((ai * b + bi) * kh + y) * k + xk] =
                            w[((ai * kh + y) * k + xk) * b + bi];
                    }
                }
            }
        }
        let weight = self.constant(&onnx_w, &[a, b, kh, k]);
        let bias = self.constant(model.params().value(c.bias), &[c.output.c]);
        let one_d = p.is_1d();
        let (pad_h, stride_h) = if one_d { (0, 1) } else { (p.pad, p.stride) };
        let kernel = ints("kernel_shape", &[kh as i64, k as i64]);
        let strides = ints("strides", &[stride_h as i64, p.stride as i64]);
        match c.direction {
            Direction::Forward => {
                let pads = [pad_h, p.pad, pad_h, p.pad].map(|v| v as i64);
                let attrs = vec![kernel, strides, ints("pads", &pads)];
                self.op("Conv", &[x, &weight, &bias], attrs)
            }
            Direction::Transposed => {
                // Full output s·(n−1) + k − pad_begin − pad_end (+ output padding) = latent's.
                let end = |n: usize, k: usize, s: usize, pad: usize, out: usize| {
                    let full = (s * (n - 1) + k) as i64 - pad as i64;
                    let e = full - out as i64;
                    if e >= 0 {
                        (e, 0)
                    } else {
                        (0, -e)
                    }
                };
                let (end_h, extra_h) = end(c.input.h, kh, stride_h, pad_h, c.output.h);
                let (end_w, extra_w) = end(c.input.w, k, p.stride, p.pad, c.output.w);
                let pads = [pad_h as i64, p.pad as i64, end_h, end_w];
                let mut attrs = vec![kernel, strides, ints("pads", &pads)];
                if extra_h > 0 || extra_w > 0 {
                    attrs.push(ints("output_padding", &[extra_h, extra_w]));
                }
                self.op("ConvTranspose", &[x, &weight, &bias], attrs)
            }
        }
    }

    /// GDN on an NCHW value: `n = β + Γ x²` is a `1 x 1` convolution of `x²` with weight
    /// `Γ` (`[C_out = i, C_in = j, 1, 1]`) and bias `β`; then `x / √n` (IGDN: `x · √n`).
    fn gdn(&mut self, model: &Model, g: &Gdn, x: &str) -> String {
        let c = g.shape.c;
        let mut eff = vec![0.0; c * c + c];
        g.effective(model.params(), &mut eff);
        let weight = self.constant(&eff[..c * c], &[c, c, 1, 1]);
        let bias = self.constant(&eff[c * c..], &[c]);
        let sq = self.op("Mul", &[x, x], vec![]);
        let n = self.op("Conv", &[&sq, &weight, &bias], vec![ints("kernel_shape", &[1, 1])]);
        let root = self.op("Sqrt", &[&n], vec![]);
        self.op(if g.inverse { "Mul" } else { "Div" }, &[x, &root], vec![])
    }

    pub(super) fn activation(&mut self, a: Activation, z: &str) -> String {
        match a {
            Activation::Identity => z.to_string(),
            Activation::Relu => self.op("Relu", &[z], vec![]),
            Activation::LeakyRelu => self.op("LeakyRelu", &[z], vec![float("alpha", 0.01)]),
            Activation::Tanh => self.op("Tanh", &[z], vec![]),
            Activation::Sigmoid => self.op("Sigmoid", &[z], vec![]),
            Activation::Gelu => {
                // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), as latent computes it.
                let c = self.constant(&[0.797_884_6], &[]);
                let a = self.constant(&[0.044_715], &[]);
                let half = self.constant(&[0.5], &[]);
                let one = self.constant(&[1.0], &[]);
                let x2 = self.op("Mul", &[z, z], vec![]);
                let x3 = self.op("Mul", &[&x2, z], vec![]);
                let ax3 = self.op("Mul", &[&a, &x3], vec![]);
                let inner = self.op("Add", &[z, &ax3], vec![]);
                let inner = self.op("Mul", &[&c, &inner], vec![]);
                let t = self.op("Tanh", &[&inner], vec![]);
                let t1 = self.op("Add", &[&one, &t], vec![]);
                let hx = self.op("Mul", &[&half, z], vec![]);
                self.op("Mul", &[&hx, &t1], vec![])
            }
        }
    }

    /// Model inputs (a row of the data, channels first for images) to codes in the network's
    /// order (the mean half of `[μ | log σ²]` for a variational model).
    pub(super) fn encoder(&mut self, model: &Model, x: &str) -> String {
        let code_layer = model.net().code_layer();
        let h = self.layers(model, x, (0, code_layer + 1), true, false);
        if !model.is_variational() {
            return h;
        }
        let starts = self.constant_i64(&[0]);
        let ends = self.constant_i64(&[model.code_width() as i64]);
        let axes = self.constant_i64(&[1]);
        self.op("Slice", &[&h, &starts, &ends, &axes], vec![])
    }

    /// Codes to model outputs (a row of the data, channels first for images).
    pub(super) fn decoder(&mut self, model: &Model, code: &str) -> String {
        let from = model.net().code_layer() + 1;
        let to = model.net().layers().len();
        self.layers(model, code, (from, to), false, true)
    }
}
