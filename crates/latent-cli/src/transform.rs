//! `latent encode`, `latent reconstruct` and `latent denoise`: one output row per input row.
//! A `.parquet` output of `encode` or `reconstruct` is streamed ([`crate::stream_out`]).

use crate::args::TransformArgs;
use crate::data;
use crate::data::in_file;
use crate::exit::BadInput;
use anyhow::{Context, Result};
use latent::{Column, Frame, ImageShape};
use std::path::Path;

/// Images shown in an inputs-over-reconstructions grid.
const GRID_IMAGES: usize = 16;

/// Writes the latent code of every row; CSV output carries the label column through.
pub fn encode(args: TransformArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    if latent_data::is_parquet(&args.out) {
        return crate::stream_out::to_parquet(&args, &model, |frame| {
            let codes = model.encode(frame)?;
            Ok(Frame::from_rows(Frame::default_names("z", codes.cols), &codes.data)?)
        });
    }
    let dataset = data::load(&args.data, Some(&model))?;
    let codes = model.encode(&dataset.frame).with_context(|| in_file(&dataset))?;
    let names = Frame::default_names("z", codes.cols);
    let frame = Frame::from_rows(names, &codes.data)?;
    write_rows(&args.out, &frame, dataset.ids, dataset.labels)
}

/// Writes the reconstruction of every row in the original units and columns; for images a
/// `.png` output shows inputs above their reconstructions.
pub fn reconstruct(args: TransformArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    if latent_data::is_parquet(&args.out) {
        return crate::stream_out::to_parquet(&args, &model, |frame| Ok(model.reconstruct(frame)?));
    }
    let dataset = data::load(&args.data, Some(&model))?;
    let frame = model.reconstruct(&dataset.frame).with_context(|| in_file(&dataset))?;
    if is_png(&args.out) {
        let shape = image_shape(&frame, &args.out)?;
        return write_comparison(&args.out, shape, &dataset.frame, &frame);
    }
    write_rows(&args.out, &frame, dataset.ids, dataset.labels)
}

/// Writes the denoised (reconstructed) rows in the kind of file given: CSV, NPY, IDX, a `.png`
/// grid (inputs over outputs) or a folder of PNG files (a path without extension).
pub fn denoise(args: TransformArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let frame = model.reconstruct(&dataset.frame).with_context(|| in_file(&dataset))?;
    let out = &args.out;
    let name = out.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if is_png(out) {
        let shape = image_shape(&frame, out)?;
        write_comparison(out, shape, &dataset.frame, &frame)
    } else if name.contains("idx") {
        let shape = image_shape(&frame, out)?;
        Ok(latent_data::write_idx_images(out, shape, frame.rows(), &row_major(&frame)?)?)
    } else if out.extension().is_none() {
        let shape = image_shape(&frame, out)?;
        Ok(latent_data::write_png_folder(out, shape, &row_major(&frame)?)?)
    } else {
        write_rows(out, &frame, dataset.ids, dataset.labels)
    }
}

/// CSV with the id and label columns carried through, or NPY of the values alone with the id
/// and label columns written beside it (`codes.npy` and `codes.labels.csv`, rows in the same
/// order), so that nothing is dropped silently.
pub fn write_rows(
    out: &Path,
    frame: &Frame,
    ids: Vec<Column>,
    labels: Option<Column>,
) -> Result<()> {
    let is_npy = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let extra: Vec<Column> = ids.into_iter().chain(labels).collect();
    if !is_npy {
        latent_data::write_frame(out, frame, &extra)?;
        return Ok(());
    }
    latent_data::write_frame(out, frame, &[])?;
    if let Some((first, rest)) = extra.split_first() {
        let beside = labels_path(out);
        let columns = Frame::new(vec![first.clone()])?;
        latent_data::write_frame(&beside, &columns, rest)?;
    }
    Ok(())
}

/// `codes.npy` -> `codes.labels.csv`: where the id and label columns of an NPY output go.
pub fn labels_path(npy: &Path) -> std::path::PathBuf {
    let stem = npy.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    npy.with_file_name(format!("{stem}.labels.csv"))
}

/// True for a `.png` path.
pub fn is_png(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// The image shape of a frame, or a clear error for tabular data.
pub fn image_shape(frame: &Frame, out: &Path) -> Result<ImageShape> {
    frame.image_shape().ok_or_else(|| {
        BadInput(format!(
            "{}: image output needs image data (IDX, image folders, NPY with 3-4 dimensions); \
             write .csv or .npy instead",
            out.display()
        ))
        .into()
    })
}

/// All values row-major (image frames are numeric).
pub fn row_major(frame: &Frame) -> Result<Vec<f32>> {
    frame.to_row_major().ok_or_else(|| BadInput("image data has non-numeric columns".into()).into())
}

/// A PNG grid: the first inputs on the top row, their reconstructions below.
fn write_comparison(out: &Path, shape: ImageShape, inputs: &Frame, outputs: &Frame) -> Result<()> {
    let n = inputs.rows().min(GRID_IMAGES);
    let mut values = row_major(&inputs.slice_rows(0, n))?;
    values.extend(row_major(&outputs.slice_rows(0, n))?);
    Ok(latent_data::write_png_grid(out, shape, &values, n)?)
}
