//! Convolution and transposed convolution as im2col plus the engine's matrix product.
//!
//! Feature maps are stored per sample as H x W x C (channels last), so one pixel's channels
//! are contiguous and a gathered patch row is `k * k * C` values in `(ky, kx, c)` order.
//! Weights are `[C_out, k, k, C_in]` for a convolution and `[C_in, k, k, C_out]` for a
//! transposed convolution (channels last, unlike PyTorch's `[C_out, C_in, k, k]`).
//!
//! **1-D**: when both grids of a patch map have height 1 (time series: one row of `W` points
//! with `C` channels), the kernel is `1 x k` with no padding or stride along the height, so
//! the same code is a 1-D convolution over time (weights `[C_out, 1, k, C_in]`).

use super::backend::{Backend, Mat, ParamStore};
use super::{Activation, ParamId, Params};
use crate::Result;
use rayon::prelude::*;
use std::ops::Range;

/// A spatial size and channel count, channels last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape3 {
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channels.
    pub c: usize,
}

impl Shape3 {
    /// Values per sample.
    pub fn len(&self) -> usize {
        self.h * self.w * self.c
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Patch geometry: every position `r` of a grid R reads the window at `r * stride - pad + k`
/// of a grid S. A convolution gathers its input (S) for each output position (R); a transposed
/// convolution scatters each input position (R) into its output (S): the same map, adjoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patches {
    /// Grid R: positions that own a patch row.
    pub rows: (usize, usize),
    /// Grid S with its channel count: where patches read from or write to.
    pub source: Shape3,
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Padding.
    pub pad: usize,
}

impl Patches {
    /// True for a 1-D map: both grids have height 1 (see the module docs).
    pub fn is_1d(&self) -> bool {
        self.source.h == 1 && self.rows.0 == 1
    }

    /// Kernel height: 1 for a 1-D map, else the kernel size.
    pub fn kernel_h(&self) -> usize {
        if self.is_1d() {
            1
        } else {
            self.kernel
        }
    }

    /// Values in one patch row.
    pub fn width(&self) -> usize {
        self.kernel_h() * self.kernel * self.source.c
    }

    /// Patch rows per sample.
    pub fn per_sample(&self) -> usize {
        self.rows.0 * self.rows.1
    }

    /// Kernel row `ky` of patch row `(ry, rx)`: the source offset of its first in-bounds pixel
    /// and the range of `kx` inside the source (the rest is padding), or `None` when the whole
    /// kernel row falls in the padding. In-bounds pixels of a kernel row are contiguous in the
    /// source (channels last), so a patch row is copied in `kernel_h` runs, not `k²` pixels.
    #[inline]
    fn kernel_row(&self, ry: usize, rx: usize, ky: usize) -> Option<(usize, Range<usize>)> {
        let y =
            if self.is_1d() { ry + ky } else { (ry * self.stride + ky).checked_sub(self.pad)? };
        if y >= self.source.h {
            return None;
        }
        // Columns x = rx·s − p + kx for kx in 0..k; keep those with 0 <= x < w.
        let start = rx * self.stride;
        let lo = self.pad.saturating_sub(start);
        let hi = (self.source.w + self.pad).saturating_sub(start).min(self.kernel);
        if lo >= hi {
            return None;
        }
        let x = start + lo - self.pad;
        Some(((y * self.source.w + x) * self.source.c, lo..hi))
    }

    /// `cols[r, (ky, kx, c)] = src[r * s - p + (ky, kx), c]` for `samples` samples.
    pub fn gather(&self, src: &[f32], cols: &mut [f32], samples: usize) {
        let (sl, cl) = (self.source.len(), self.per_sample() * self.width());
        let c = self.source.c;
        let run = self.kernel * c;
        cols[..samples * cl].par_chunks_mut(cl).zip(src[..samples * sl].par_chunks(sl)).for_each(
            |(cols, src)| {
                let mut rows = cols.chunks_exact_mut(run);
                for ry in 0..self.rows.0 {
                    for rx in 0..self.rows.1 {
                        for ky in 0..self.kernel_h() {
                            let Some(dst) = rows.next() else { return };
                            match self.kernel_row(ry, rx, ky) {
                                Some((o, r)) => {
                                    let (a, b) = (r.start * c, r.end * c);
                                    dst[..a].fill(0.0);
                                    dst[a..b].copy_from_slice(&src[o..o + b - a]);
                                    dst[b..].fill(0.0);
                                }
                                None => dst.fill(0.0),
                            }
                        }
                    }
                }
            },
        );
    }

    /// The adjoint of [`Patches::gather`]: `dst = 0; dst[r * s - p + k, c] += cols[r, (k, c)]`.
    pub fn scatter(&self, cols: &[f32], dst: &mut [f32], samples: usize) {
        let (sl, cl) = (self.source.len(), self.per_sample() * self.width());
        let c = self.source.c;
        let run = self.kernel * c;
        dst[..samples * sl].par_chunks_mut(sl).zip(cols[..samples * cl].par_chunks(cl)).for_each(
            |(dst, cols)| {
                dst.fill(0.0);
                let mut rows = cols.chunks_exact(run);
                for ry in 0..self.rows.0 {
                    for rx in 0..self.rows.1 {
                        for ky in 0..self.kernel_h() {
                            let Some(src) = rows.next() else { return };
                            if let Some((o, r)) = self.kernel_row(ry, rx, ky) {
                                let src = &src[r.start * c..r.end * c];
                                dst[o..o + src.len()]
                                    .iter_mut()
                                    .zip(src)
                                    .for_each(|(d, v)| *d += v);
                            }
                        }
                    }
                }
            },
        );
    }
}

/// Which way a convolution layer maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `y = conv(x)`: gather input patches, multiply by `Wᵀ`.
    Forward,
    /// `y = conv_transpose(x)`: multiply by `W`, scatter patches into the output.
    Transposed,
}

/// A 2-D convolution or transposed convolution with bias and activation.
#[derive(Clone, Debug)]
pub struct Conv {
    /// Weight tensor.
    pub weight: ParamId,
    /// Bias tensor, `[C_out]`.
    pub bias: ParamId,
    /// Input shape.
    pub input: Shape3,
    /// Output shape.
    pub output: Shape3,
    /// Forward or transposed.
    pub direction: Direction,
    /// The patch map (over the input for a convolution, over the output when transposed).
    pub patches: Patches,
    /// Activation after the bias.
    pub activation: Activation,
}

impl Conv {
    /// A convolution `input -> C_out` channels with padding `kernel / 2`.
    pub fn new(
        params: &mut Params,
        prefix: &str,
        input: Shape3,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        activation: Activation,
    ) -> Self {
        let pad = kernel / 2;
        // A 1-D input (height 1) keeps height 1: a 1 x k kernel.
        let h = if input.h == 1 { 1 } else { (input.h + 2 * pad - kernel) / stride + 1 };
        let w = (input.w + 2 * pad - kernel) / stride + 1;
        let output = Shape3 { h, w, c: out_channels };
        let kh = if input.h == 1 { 1 } else { kernel };
        let weight =
            params.add(format!("{prefix}.weight"), &[out_channels, kh, kernel, input.c], true);
        let bias = params.add(format!("{prefix}.bias"), &[out_channels], false);
        let patches = Patches { rows: (h, w), source: input, kernel, stride, pad };
        Conv { weight, bias, input, output, direction: Direction::Forward, patches, activation }
    }

    /// A transposed convolution `input -> output` (the output size is given; it fixes the
    /// output padding), padding `kernel / 2`.
    pub fn transposed(
        params: &mut Params,
        prefix: &str,
        input: Shape3,
        output: Shape3,
        kernel: usize,
        stride: usize,
        activation: Activation,
    ) -> Self {
        let pad = kernel / 2;
        let kh = if input.h == 1 && output.h == 1 { 1 } else { kernel };
        let weight = params.add(format!("{prefix}.weight"), &[input.c, kh, kernel, output.c], true);
        let bias = params.add(format!("{prefix}.bias"), &[output.c], false);
        let patches = Patches { rows: (input.h, input.w), source: output, kernel, stride, pad };
        Conv { weight, bias, input, output, direction: Direction::Transposed, patches, activation }
    }

    /// Fan-in used for initialisation.
    pub fn fan_in(&self) -> usize {
        match self.direction {
            Direction::Forward => self.patches.width(),
            // PyTorch computes a transposed convolution's fan-in from weight dim 1 (C_out) x k².
            Direction::Transposed => self.output.c * self.patches.kernel_h() * self.patches.kernel,
        }
    }

    /// Size of the patch buffer for `rows` samples.
    pub fn cols_len(&self, rows: usize) -> usize {
        rows * self.patches.per_sample() * self.patches.width()
    }

    /// Forward for `rows` samples on a backend, over its buffers (`x`: `rows` input maps,
    /// `y` and `pre`: output maps, `cols`: the patch scratch of [`Conv::cols_len`]).
    #[allow(clippy::too_many_arguments)]
    pub fn forward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        x: &B::Buf,
        rows: usize,
        y: &mut B::Buf,
        pre: Option<&mut B::Buf>,
        cols: &mut B::Buf,
    ) -> Result<()> {
        let p = &self.patches;
        let n_rows = rows * p.per_sample();
        let (values, w) = (params.values(), params.offset(self.weight));
        match self.direction {
            Direction::Forward => {
                // cols [B·P x k²C_in] · Wᵀ [k²C_in x C_out] = y [B·P x C_out]
                be.im2col(p, x, cols, rows)?;
                let w = Mat::row_major(w, self.output.c, p.width());
                be.matmul(y, 0, cols, Mat::row_major(0, n_rows, p.width()), values, w.t(), false)?;
            }
            Direction::Transposed => {
                // x [B·P x C_in] · W [C_in x k²C_out] = cols, scattered into y
                let w = Mat::row_major(w, self.input.c, p.width());
                be.matmul(cols, 0, x, Mat::row_major(0, n_rows, self.input.c), values, w, false)?;
                be.col2im(p, cols, y, rows)?;
            }
        }
        let pixels = rows * self.output.h * self.output.w;
        let b = params.offset(self.bias);
        be.bias_act_forward(y, pixels, self.output.c, values, b, self.activation, pre)
    }

    /// Backward for `rows` samples from `dz` (through the activation already); `cols` holds
    /// the forward patches, `dcols` is scratch of the same size.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        x: &B::Buf,
        rows: usize,
        dz: &B::Buf,
        dx: Option<&mut B::Buf>,
        cols: &B::Buf,
        dcols: &mut B::Buf,
    ) -> Result<()> {
        let p = &self.patches;
        let n_rows = rows * p.per_sample();
        let (wo, bo) = (params.offset(self.weight), params.offset(self.bias));
        let (values, grads) = params.values_and_grads();
        let pixels = rows * self.output.h * self.output.w;
        be.bias_grad(grads, bo, dz, pixels, self.output.c)?;
        let patches = Mat::row_major(0, n_rows, p.width());
        match self.direction {
            Direction::Forward => {
                let dz_m = Mat::row_major(0, n_rows, self.output.c);
                be.matmul(grads, wo, dz, dz_m.t(), cols, patches, false)?;
                if let Some(dx) = dx {
                    let w = Mat::row_major(wo, self.output.c, p.width());
                    be.matmul(dcols, 0, dz, dz_m, values, w, false)?;
                    be.col2im(p, dcols, dx, rows)?;
                }
            }
            Direction::Transposed => {
                be.im2col(p, dz, dcols, rows)?;
                let x_m = Mat::row_major(0, n_rows, self.input.c);
                be.matmul(grads, wo, x, x_m.t(), dcols, patches, false)?;
                if let Some(dx) = dx {
                    let w = Mat::row_major(wo, self.input.c, p.width());
                    be.matmul(dx, 0, dcols, patches, values, w.t(), false)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::Cpu;

    /// A 1-D convolution (height 1) against the textbook sum
    /// `y[t, o] = b[o] + Σ_{j, i} W[o, j, i] · x[t·s − k/2 + j, i]` (zero outside).
    #[test]
    fn one_d_convolution_by_hand() {
        let (w_in, c_in, c_out, k, s) = (7, 2, 3, 3, 2);
        let mut params = Params::new();
        let input = Shape3 { h: 1, w: w_in, c: c_in };
        let conv = Conv::new(&mut params, "c", input, c_out, k, s, Activation::Identity);
        assert_eq!(conv.output, Shape3 { h: 1, w: 4, c: c_out });
        assert_eq!(conv.patches.width(), k * c_in);
        let wv: Vec<f32> = (0..c_out * k * c_in).map(|i| (i as f32 * 0.37).sin()).collect();
        params.value_mut(conv.weight).copy_from_slice(&wv);
        params.value_mut(conv.bias).copy_from_slice(&[0.1, -0.2, 0.3]);
        let x: Vec<f32> = (0..w_in * c_in).map(|i| (i as f32 * 0.71).cos()).collect();
        let mut y = vec![0.0; conv.output.len()];
        let mut cols = vec![0.0; conv.cols_len(1)];
        conv.forward(&Cpu, &params, &x, 1, &mut y, None, &mut cols).unwrap();
        for t in 0..4 {
            for o in 0..c_out {
                let mut want = [0.1, -0.2, 0.3][o];
                for j in 0..k {
                    let Some(p) = (t * s + j).checked_sub(k / 2).filter(|&p| p < w_in) else {
                        continue;
                    };
                    for i in 0..c_in {
                        want += wv[(o * k + j) * c_in + i] * x[p * c_in + i];
                    }
                }
                assert!((y[t * c_out + o] - want).abs() < 1e-5, "t {t} o {o}");
            }
        }
    }

    /// `gather` against the textbook definition (zero outside the source), and `scatter` as
    /// its adjoint (`<gather x, c> = <x, scatter c>`), over 2-D and 1-D maps with every kernel,
    /// stride and padding combination of a small grid, channels 1 to 3.
    #[test]
    fn gather_and_scatter_match_their_definitions() {
        for (h, w, c, kernel, stride) in (1..=6).flat_map(|h| {
            (1..=7).flat_map(move |w| {
                (1..=3).flat_map(move |c| {
                    (1..=5).flat_map(move |k| (1..=3).map(move |s| (h, w, c, k, s)))
                })
            })
        }) {
            let pad = kernel / 2;
            let source = Shape3 { h, w, c };
            let one_d = h == 1;
            let rows_h = if one_d { 1 } else { (h + 2 * pad).saturating_sub(kernel) / stride + 1 };
            let Some(rows_w) = (w + 2 * pad).checked_sub(kernel).map(|v| v / stride + 1) else {
                continue;
            };
            if !one_d && h + 2 * pad < kernel {
                continue;
            }
            let p = Patches { rows: (rows_h, rows_w), source, kernel, stride, pad };
            let samples = 2;
            let src: Vec<f32> =
                (0..samples * source.len()).map(|i| (i as f32 * 0.61).sin()).collect();
            let mut cols = vec![f32::NAN; samples * p.per_sample() * p.width()];
            p.gather(&src, &mut cols, samples);
            let kh = p.kernel_h();
            let mut i = 0;
            for s in 0..samples {
                for ry in 0..rows_h {
                    for rx in 0..rows_w {
                        for ky in 0..kh {
                            for kx in 0..kernel {
                                let y = if one_d {
                                    Some(ry + ky)
                                } else {
                                    (ry * stride + ky).checked_sub(pad)
                                };
                                let x = (rx * stride + kx).checked_sub(pad);
                                for ch in 0..c {
                                    let want = match (y, x) {
                                        (Some(y), Some(x)) if y < h && x < w => {
                                            src[s * source.len() + (y * w + x) * c + ch]
                                        }
                                        _ => 0.0,
                                    };
                                    assert_eq!(cols[i], want, "{h}x{w}x{c} k{kernel} s{stride}");
                                    i += 1;
                                }
                            }
                        }
                    }
                }
            }
            let probe: Vec<f32> = (0..cols.len()).map(|i| (i as f32 * 0.37).cos()).collect();
            let mut back = vec![f32::NAN; src.len()];
            p.scatter(&probe, &mut back, samples);
            let lhs: f64 = cols.iter().zip(&probe).map(|(a, b)| f64::from(a * b)).sum();
            let rhs: f64 = src.iter().zip(&back).map(|(a, b)| f64::from(a * b)).sum();
            assert!((lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()), "adjoint {lhs} vs {rhs}");
        }
    }
}
