//! Multi-scale structural similarity (MS-SSIM; Wang, Simoncelli and Bovik 2003) of 8-bit
//! images, the quality figure `latent benchmark-compress` reports beside PSNR for latent and
//! for the reference codecs alike.
//!
//! As in the paper and the common implementations (`pytorch_msssim`, TensorFlow): an 11×11
//! Gaussian window with σ = 1.5 applied without padding ("valid"), `C1 = (0.01·255)²`,
//! `C2 = (0.03·255)²`, 2×2 average pooling between scales, and the weights
//! `0.0448, 0.2856, 0.3001, 0.2363, 0.1333`. The value is
//! `Π_{j<M} cs_j^{w_j} · ssim_M^{w_M}`, with `cs_j` the mean contrast-structure map at scale
//! `j` and `ssim_M` the mean SSIM map at the last scale, each clamped at 0 before the power.
//!
//! **Small images.** Five scales need a side of at least 11·16 = 176 pixels. On smaller
//! images this uses as many scales as the image allows (a scale is used while both sides are
//! at least 11) and renormalises the first `M` weights to sum to one: 28×28 images (MNIST)
//! get two scales, weights `0.1356, 0.8644`. An image smaller than the window in either side
//! gets one scale with the window cut to the largest odd size that fits (plain SSIM).
//! Images with several channels (planes stored one after the other, `(channels, height,
//! width)`) give the mean over the channels.

use crate::{Error, Result};

/// The Gaussian window's side.
pub const WINDOW: usize = 11;
/// The Gaussian window's standard deviation.
pub const SIGMA: f64 = 1.5;
/// The five scales' weights (Wang et al. 2003).
pub const WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);

/// The scale weights of an image of `height × width` (the first [`scales`] weights,
/// renormalised to sum to one) and its 1-D Gaussian window (11 taps, or the largest odd
/// size that fits a smaller image). Shared with the differentiable MS-SSIM of training
/// ([`crate::objective::msssim`]).
pub(crate) fn weights_and_window(height: usize, width: usize) -> (Vec<f64>, Vec<f64>) {
    let m = scales(height, width);
    let norm: f64 = WEIGHTS[..m].iter().sum();
    let size = WINDOW.min(odd_at_most(height.min(width)));
    (WEIGHTS[..m].iter().map(|w| w / norm).collect(), gaussian(size))
}

/// MS-SSIM of two 8-bit images of `channels` planes of `height × width` pixels (1 for
/// identical images, lower for worse). An error when the lengths do not match the shape.
pub fn ms_ssim(a: &[u8], b: &[u8], height: usize, width: usize, channels: usize) -> Result<f64> {
    let plane = height * width;
    if plane == 0 || channels == 0 || a.len() != plane * channels || b.len() != a.len() {
        return Err(Error::Data(format!(
            "MS-SSIM of images of {} and {} values with shape {channels}x{height}x{width}",
            a.len(),
            b.len()
        )));
    }
    let total: f64 = a
        .chunks(plane)
        .zip(b.chunks(plane))
        .map(|(x, y)| {
            let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
            plane_ms_ssim(x, y, height, width)
        })
        .sum();
    Ok(total / channels as f64)
}

/// The number of scales an image of `height × width` gets (at least 1).
pub fn scales(height: usize, width: usize) -> usize {
    let mut side = height.min(width);
    let mut m = 0;
    while m < WEIGHTS.len() && side >= WINDOW {
        m += 1;
        side /= 2;
    }
    m.max(1)
}

fn plane_ms_ssim(mut x: Vec<f64>, mut y: Vec<f64>, mut h: usize, mut w: usize) -> f64 {
    let (weights, window) = weights_and_window(h, w);
    let m = weights.len();
    let mut value = 1.0;
    for (j, weight) in weights.iter().enumerate() {
        let (ssim, cs) = ssim_cs(&x, &y, h, w, &window);
        let part = if j + 1 == m { ssim } else { cs };
        value *= part.max(0.0).powf(*weight);
        if j + 1 < m {
            x = pool(&x, h, w);
            y = pool(&y, h, w);
            h /= 2;
            w /= 2;
        }
    }
    value
}

fn odd_at_most(n: usize) -> usize {
    if n % 2 == 1 {
        n
    } else {
        n.saturating_sub(1).max(1)
    }
}

/// A normalised 1-D Gaussian of `size` taps.
fn gaussian(size: usize) -> Vec<f64> {
    let c = (size as f64 - 1.0) / 2.0;
    let g: Vec<f64> =
        (0..size).map(|i| (-(i as f64 - c).powi(2) / (2.0 * SIGMA * SIGMA)).exp()).collect();
    let s: f64 = g.iter().sum();
    g.into_iter().map(|v| v / s).collect()
}

/// Separable "valid" filtering of an `h × w` plane; the result is `(h-k+1) × (w-k+1)`.
pub(crate) fn filter(p: &[f64], h: usize, w: usize, g: &[f64]) -> Vec<f64> {
    let k = g.len();
    let (oh, ow) = (h + 1 - k, w + 1 - k);
    let mut rows = vec![0.0; h * ow];
    for r in 0..h {
        for c in 0..ow {
            rows[r * ow + c] = g.iter().enumerate().map(|(i, gi)| gi * p[r * w + c + i]).sum();
        }
    }
    let mut out = vec![0.0; oh * ow];
    for r in 0..oh {
        for c in 0..ow {
            out[r * ow + c] = g.iter().enumerate().map(|(i, gi)| gi * rows[(r + i) * ow + c]).sum();
        }
    }
    out
}

/// Mean SSIM and mean contrast-structure of two planes.
fn ssim_cs(x: &[f64], y: &[f64], h: usize, w: usize, g: &[f64]) -> (f64, f64) {
    let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
    let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
    let xy: Vec<f64> = x.iter().zip(y).map(|(a, b)| a * b).collect();
    let (mx, my) = (filter(x, h, w, g), filter(y, h, w, g));
    let (sxx, syy, sxy) = (filter(&xx, h, w, g), filter(&yy, h, w, g), filter(&xy, h, w, g));
    let n = mx.len() as f64;
    let (mut ssim, mut cs) = (0.0, 0.0);
    for i in 0..mx.len() {
        let (mux, muy) = (mx[i], my[i]);
        let vx = sxx[i] - mux * mux;
        let vy = syy[i] - muy * muy;
        let cov = sxy[i] - mux * muy;
        let c = (2.0 * cov + C2) / (vx + vy + C2);
        let l = (2.0 * mux * muy + C1) / (mux * mux + muy * muy + C1);
        cs += c;
        ssim += l * c;
    }
    (ssim / n, cs / n)
}

/// 2×2 average pooling (an odd last row or column is dropped).
pub(crate) fn pool(p: &[f64], h: usize, w: usize) -> Vec<f64> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = Vec::with_capacity(oh * ow);
    for r in 0..oh {
        for c in 0..ow {
            let i = 2 * r * w + 2 * c;
            out.push((p[i] + p[i + 1] + p[i + w] + p[i + w + 1]) / 4.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(h: usize, w: usize, seed: u32) -> Vec<u8> {
        (0..h * w)
            .map(|i| {
                let (r, c) = ((i / w) as f64, (i % w) as f64);
                let v = 128.0 + 90.0 * (r / 3.0 + f64::from(seed)).sin() * (c / 4.0).cos();
                v.clamp(0.0, 255.0) as u8
            })
            .collect()
    }

    #[test]
    fn identical_images_give_one() {
        for (h, w) in [(28, 28), (64, 48), (200, 180), (7, 9), (1, 1)] {
            let a = image(h, w, 1);
            let v = ms_ssim(&a, &a, h, w, 1).unwrap();
            assert!((v - 1.0).abs() < 1e-12, "{h}x{w}: {v}");
        }
        let flat = vec![17u8; 28 * 28];
        assert!((ms_ssim(&flat, &flat, 28, 28, 1).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn scales_follow_the_image_size() {
        assert_eq!(scales(28, 28), 2);
        assert_eq!(scales(32, 32), 2);
        assert_eq!(scales(44, 44), 3);
        assert_eq!(scales(176, 176), 5);
        assert_eq!(scales(512, 512), 5);
        assert_eq!(scales(8, 8), 1);
        let w: f64 = WEIGHTS[..2].iter().sum();
        assert!((WEIGHTS[0] / w - 0.1356).abs() < 1e-4);
    }

    #[test]
    fn symmetric_and_falls_with_distortion() {
        let a = image(28, 28, 1);
        let noisy = |amp: i32| -> Vec<u8> {
            a.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let d = ((i as i32 * 7919) % 17 - 8) * amp / 8;
                    (i32::from(v) + d).clamp(0, 255) as u8
                })
                .collect()
        };
        let (b1, b2) = (noisy(4), noisy(40));
        let s1 = ms_ssim(&a, &b1, 28, 28, 1).unwrap();
        let s2 = ms_ssim(&a, &b2, 28, 28, 1).unwrap();
        assert!((s1 - ms_ssim(&b1, &a, 28, 28, 1).unwrap()).abs() < 1e-12);
        assert!(1.0 > s1 && s1 > s2 && s2 >= 0.0, "{s1} {s2}");
        // Another image altogether is far less similar than a noisy copy.
        let other = image(28, 28, 5);
        assert!(ms_ssim(&a, &other, 28, 28, 1).unwrap() < s1);
    }

    #[test]
    fn single_scale_matches_a_hand_computed_ssim() {
        // One 11x11 window: SSIM = l * cs of the Gaussian-weighted statistics, computed here
        // directly for a constant image against a constant image.
        let a = vec![100u8; 121];
        let b = vec![110u8; 121];
        let l = (2.0 * 100.0 * 110.0 + C1) / (100.0f64 * 100.0 + 110.0 * 110.0 + C1);
        let v = ms_ssim(&a, &b, 11, 11, 1).unwrap();
        assert!((v - l).abs() < 1e-9, "{v} vs {l}");
    }

    #[test]
    fn channels_average_and_bad_shapes_are_errors() {
        let a = image(28, 28, 1);
        let b = image(28, 28, 2);
        let s = ms_ssim(&a, &b, 28, 28, 1).unwrap();
        let two_a: Vec<u8> = a.iter().chain(&a).copied().collect();
        let ab: Vec<u8> = b.iter().chain(&a).copied().collect();
        let v = ms_ssim(&two_a, &ab, 28, 28, 2).unwrap();
        assert!((v - (s + 1.0) / 2.0).abs() < 1e-12);
        assert!(ms_ssim(&a, &b[..10], 28, 28, 1).is_err());
        assert!(ms_ssim(&[], &[], 0, 0, 1).is_err());
    }
}
