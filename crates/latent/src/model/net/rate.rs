//! The rate term of a compression model (`objective.lambda`, `--preset compress`): the loss is
//! `R + λ · 255² · D`, with `R` the code's bits per pixel under the learned density
//! ([`Density`]) and `D` the mean squared error on the [0, 1] scale (so `λ · 255² · D` is
//! CompressAI's `λ · MSE` on 8-bit values); with the MS-SSIM distortion
//! (`objective.distortion`) it is `R + λ · (1 − MS-SSIM)`, averaged over the batch.
//!
//! In training the code is `y + u`, `u ~ U(−½, ½)` (a differentiable stand-in for rounding:
//! `∂(y + u)/∂y = 1`); without noise (evaluation, compression) it is `round(y)`.

use super::Net;
use crate::config::{Architecture, Distortion, Objective};
use crate::engine::density::Density;
use crate::engine::{Activation, Params};
use crate::frame::ImageShape;
use crate::objective::msssim::{self, Layout};
use crate::{Error, Result};
use rand::{Rng, RngCore};

/// Logistic components per channel of the density.
pub(super) const COMPONENTS: usize = 3;

/// With `rng`: adds uniform noise on `(−½, ½)` to every value; without: rounds.
pub(super) fn quantise(z: &mut [f32], rng: Option<&mut dyn RngCore>) {
    match rng {
        Some(rng) => z.iter_mut().for_each(|v| *v += rng.random::<f32>() - 0.5),
        None => z.iter_mut().for_each(|v| *v = v.round()),
    }
}

impl Net {
    /// The learned density of a compression model's code.
    pub fn density(&self) -> Option<&Density> {
        self.density.as_ref()
    }

    /// The weight of the distortion in a compression model's loss: `λ · 255²` on the mean
    /// squared error, `λ` on `1 − MS-SSIM`.
    pub(super) fn distortion_weight(&self) -> Option<f32> {
        self.density.as_ref()?;
        match self.objective.distortion {
            Distortion::Mse => self.objective.lambda.map(|l| l * 255.0 * 255.0),
            Distortion::MsSsim => self.objective.lambda,
        }
    }

    /// Bits per pixel of the quantised code `z` of `rows` rows.
    pub(super) fn rate_bpp(&self, params: &Params, z: &[f32], rows: usize) -> f64 {
        let Some(d) = &self.density else { return 0.0 };
        d.bits(params, z) / (rows * self.pixels).max(1) as f64
    }

    /// Adds `∂R/∂z` to `dz` (the gradient at the code `z` of `rows` rows) and writes the
    /// density's gradients; returns `R` in bits per pixel.
    pub(super) fn rate_backward(
        &self,
        params: &mut Params,
        z: &[f32],
        dz: &mut [f32],
        rows: usize,
    ) -> f64 {
        let Some(d) = &self.density else { return 0.0 };
        let scale = 1.0 / (rows * self.pixels).max(1) as f64;
        d.backward(params, z, scale, dz)
    }
}

/// The image shape and the layout of a row of a model trained with the MS-SSIM distortion
/// (`None` for MSE); an error without image data.
pub(super) fn ms_ssim_layout(
    objective: &Objective,
    image: Option<ImageShape>,
    architecture: &Architecture,
) -> Result<Option<(ImageShape, Layout)>> {
    if objective.distortion != Distortion::MsSsim {
        return Ok(None);
    }
    let image = image.ok_or_else(no_images)?;
    // Convolutional models see their rows channels last (`Model`'s permutation).
    let layout = match architecture {
        Architecture::Conv { .. } if image.channels > 1 => Layout::ChannelsLast,
        _ => Layout::ChannelsFirst,
    };
    Ok(Some((image, layout)))
}

fn no_images() -> Error {
    Error::Config(
        "the MS-SSIM distortion needs image data (IDX, NPY with 3-4 dimensions, or an image \
         folder)"
            .into(),
    )
}

/// Checks the data of a model trained with the MS-SSIM distortion: images (`image`), with
/// every preprocessed value in [0, 1] (`unit`).
pub fn check_ms_ssim_data(image: Option<ImageShape>, unit: bool) -> Result<()> {
    image.ok_or_else(no_images)?;
    if !unit {
        return Err(Error::Config(
            "the MS-SSIM distortion needs image values in [0, 1] after scaling".into(),
        ));
    }
    Ok(())
}

/// `1 − MS-SSIM` of the reconstructions `y = act(z)` against `target`, averaged over the
/// rows; with `dz`, writes its gradient with respect to the output pre-activation `z`.
#[allow(clippy::too_many_arguments)]
pub(super) fn ms_ssim_distortion(
    shape: ImageShape,
    layout: Layout,
    act: Activation,
    y: &[f32],
    z: &[f32],
    target: &[f32],
    rows: usize,
    dz: Option<&mut [f32]>,
) -> f64 {
    match dz {
        None => msssim::loss_and_grad(shape, layout, y, target, rows, None),
        Some(dz) => {
            let loss = msssim::loss_and_grad(shape, layout, y, target, rows, Some(&mut *dz));
            for ((d, &y), &z) in dz.iter_mut().zip(y).zip(z) {
                *d *= act.derivative(y, z);
            }
            loss
        }
    }
}
