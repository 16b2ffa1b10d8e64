//! `latent encode` and `latent reconstruct`: one output row per input row.

use crate::args::TransformArgs;
use crate::data;
use crate::data::in_file;
use anyhow::{Context, Result};
use latent::Frame;

/// Writes the latent code of every row; CSV output carries the label column through.
pub fn encode(args: TransformArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let codes = model.encode(&dataset.frame).with_context(|| in_file(&dataset))?;
    let names = Frame::default_names("z", codes.cols);
    let frame = Frame::from_rows(names, &codes.data)?;
    write(&args, &frame, dataset.labels)
}

/// Writes the reconstruction of every row in the original units and columns.
pub fn reconstruct(args: TransformArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let frame = model.reconstruct(&dataset.frame).with_context(|| in_file(&dataset))?;
    write(&args, &frame, dataset.labels)
}

fn write(args: &TransformArgs, frame: &Frame, labels: Option<latent::Column>) -> Result<()> {
    let is_npy = args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let extra: Vec<latent::Column> = if is_npy { Vec::new() } else { labels.into_iter().collect() };
    latent_data::write_frame(&args.out, frame, &extra)?;
    Ok(())
}
