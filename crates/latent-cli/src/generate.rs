//! `latent sample` and `latent interpolate`: new data from a variational model's decoder.

use crate::data;
use crate::exit::BadInput;
use crate::transform::{image_shape, is_png, row_major, write_rows};
use anyhow::Result;
use clap::Args;
use latent::{Frame, Model};
use std::path::{Path, PathBuf};

/// Arguments of `latent sample`.
#[derive(Args, Debug)]
pub struct SampleArgs {
    /// The model file (variational).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Seed of the prior draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output: a .png grid (image models), .csv or .npy.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `latent interpolate`.
#[derive(Args, Debug)]
pub struct InterpolateArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data holding the two end points.
    #[command(flatten)]
    pub data: crate::options::DataArgs,
    /// Row (from 0) of the first end point.
    #[arg(long, default_value_t = 0)]
    pub from: usize,
    /// Row (from 0) of the second end point.
    #[arg(long, default_value_t = 1)]
    pub to: usize,
    /// Points on the line, end points included.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Output: a .png strip (image models), .csv or .npy.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `latent sample`.
pub fn sample(args: SampleArgs) -> Result<()> {
    if args.n == 0 {
        return Err(BadInput("--n must be at least 1".into()).into());
    }
    let model = data::load_model(&args.model)?;
    let decoded = model.sample(args.n, args.seed)?;
    let columns = (args.n as f64).sqrt().ceil() as usize;
    write_decoded(&model, &decoded.data, &args.out, columns)
}

/// Runs `latent interpolate`: decodes evenly spaced points between two rows' codes.
pub fn interpolate(args: InterpolateArgs) -> Result<()> {
    if args.steps < 2 {
        return Err(BadInput("--steps must be at least 2".into()).into());
    }
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let rows = dataset.frame.rows();
    if args.from >= rows || args.to >= rows {
        return Err(BadInput(format!(
            "{}: --from {} / --to {} out of range ({rows} rows)",
            args.data.data.display(),
            args.from,
            args.to
        ))
        .into());
    }
    let ends = model.encode(&dataset.frame.select_rows(&[args.from, args.to]))?;
    let k = ends.cols;
    let (a, b) = ends.data.split_at(k);
    let mut codes = Vec::with_capacity(args.steps * k);
    for s in 0..args.steps {
        let t = s as f32 / (args.steps - 1) as f32;
        codes.extend(a.iter().zip(b).map(|(x, y)| x + t * (y - x)));
    }
    let decoded = model.decode(&codes)?;
    write_decoded(&model, &decoded.data, &args.out, args.steps)
}

/// Writes decoded rows (model-input space): a PNG grid for images, else CSV/NPY in the
/// original units.
fn write_decoded(model: &Model, values: &[f32], out: &Path, columns: usize) -> Result<()> {
    let frame = model.preprocessor().inverse(values)?;
    if is_png(out) {
        let shape = image_shape(&frame, out)?;
        return Ok(latent_data::write_png_grid(out, shape, &row_major(&frame)?, columns)?);
    }
    let frame = Frame::new(frame.columns().to_vec())?;
    write_rows(out, &frame, Vec::new(), None)
}
