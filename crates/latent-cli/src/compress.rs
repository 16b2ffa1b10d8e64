//! `latent fit-codec`, `latent compress` and `latent decompress`: any model as a lossy codec
//! (quantised code, range-coded with the integer tables saved in the model; see
//! `latent::codec`).

use crate::data::{self, in_file};
use crate::exit::BadInput;
use crate::options::DataArgs;
use crate::score::{map_chunks, ChunkSource};
use crate::transform;
use anyhow::{Context, Result};
use clap::Args;
use latent::codec::{self, Codec, FileKind, StreamWriter};
use latent::Model;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `latent fit-codec`.
#[derive(Args, Debug)]
pub struct FitCodecArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The training data: the entropy model is fitted on its codes.
    #[command(flatten)]
    pub data: DataArgs,
    /// Quantisation step of the code: each code value is stored as round(value / step).
    /// Smaller steps keep more detail and cost more bits.
    #[arg(long, value_name = "STEP")]
    pub quant_step: f32,
    /// Where to save the model with its entropy model (may be the model file itself).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `latent compress`.
#[derive(Args, Debug)]
pub struct CompressArgs {
    /// The model file (with an entropy model: `latent fit-codec` or `train --quant-step`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data to compress.
    #[command(flatten)]
    pub data: DataArgs,
    /// The compressed file (.lat).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Rows (images) per independently decodable block.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub block_rows: usize,
}

/// Arguments of `latent decompress`.
#[derive(Args, Debug)]
pub struct DecompressArgs {
    /// The model that compressed the file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The compressed file (.lat).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Output: .csv or .npy for tables, a name containing "idx" for IDX images, a path
    /// without extension for a folder of PNG files.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Write the quantised codes (integers, CSV) instead of the decoded data.
    #[arg(long)]
    pub codes: bool,
}

/// Fits the entropy model on the training data's codes and saves the model with it.
pub fn fit_codec(args: FitCodecArgs) -> Result<()> {
    latent_data::atomic::check_destination(&args.out)?;
    let mut model = data::load_model(&args.model)?;
    let dataset = data::load(&args.data, Some(&model))?;
    let inputs = model.inputs(&dataset.frame).with_context(|| in_file(&dataset))?;
    codec::fit(&mut model, &inputs, args.quant_step).with_context(|| in_file(&dataset))?;
    model.save(&args.out)?;
    let codec = Codec::new(&model)?;
    let levels = codec.quantise(&model.encode_inputs(&inputs)?.data)?;
    let bits = codec.tables().ideal_bits(&levels);
    eprintln!(
        "fitted the entropy model of {} code dimensions on {} rows (step {}): {:.2} bits per \
         row on the training data; saved {}",
        codec.width(),
        dataset.frame.rows(),
        args.quant_step,
        bits / dataset.frame.rows().max(1) as f64,
        args.out.display()
    );
    Ok(())
}

/// Rows (images) per chunk read from a folder, an IDX or an NPY file.
const CHUNK: usize = 1024;

/// Compresses a data file, a folder of images or standard input into one `.lat` file, in
/// constant memory: the input is read in chunks (CSV, JSON lines and Parquet as `latent
/// score` reads them, a folder, an IDX or an NPY file [`CHUNK`] rows at a time; an NPZ
/// archive is loaded whole), each chunk's blocks are coded as soon as they are full and kept in a
/// temporary file, and the `.lat` file is written from it once the number of rows is known
/// (see `latent::codec::StreamWriter`).
pub fn compress(args: CompressArgs) -> Result<()> {
    if args.block_rows == 0 {
        return Err(BadInput("--block-rows must be at least 1".into()).into());
    }
    latent_data::atomic::check_destination(&args.out)?;
    let model = data::load_model(&args.model)?;
    let codec = Codec::new(&model)?;
    let path = &args.data.data;
    let mut writer = StreamWriter::new(&codec, file_kind(path), args.block_rows);
    let folder = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut spool = tempfile::tempfile_in(folder)
        .with_context(|| format!("cannot make a temporary file in {}", folder.display()))?;
    let levels_of = |frame: &latent::Frame| -> Result<Vec<i32>> {
        let codes = model.encode(frame)?;
        Ok(codec.quantise(&codes.data)?)
    };
    // Rows a chunk at a time: an image folder, an IDX or NPY file (raw or gzipped).
    let image_chunks: Option<Box<dyn Iterator<Item = latent_data::Result<latent::Frame>>>> =
        if path.is_dir() && !latent_data::is_parquet(path) {
            let channels = model.image_shape().map_or(1, |s| s.channels);
            let opts = latent_data::LoadOptions {
                resize: args.data.image.resize.as_deref().map(data::parse_size).transpose()?,
                grayscale: args.data.image.grayscale,
                ..latent_data::LoadOptions::default()
            };
            let chunks = latent_data::ImageFolderChunks::open(path, &opts, CHUNK, channels)?;
            Some(Box::new(chunks))
        } else if latent_data::is_idx(path) {
            Some(Box::new(latent_data::IdxChunks::open(path, CHUNK)?))
        } else if latent_data::is_npy(path) {
            Some(Box::new(latent_data::NpyChunks::open(path, CHUNK)?))
        } else {
            None
        };
    if let Some(chunks) = image_chunks {
        for frame in chunks {
            let levels = levels_of(&frame?).with_context(|| path.display().to_string())?;
            writer.push(&levels, &mut spool)?;
        }
    } else if latent_data::is_array_or_images(path) {
        let dataset = data::load(&args.data, Some(&model))?;
        let levels = levels_of(&dataset.frame).with_context(|| in_file(&dataset))?;
        writer.push(&levels, &mut spool)?;
    } else {
        let source = ChunkSource {
            path,
            label_column: args.data.label_column.as_deref(),
            table: &args.data.table,
            id_columns: &args.data.id_column,
        };
        map_chunks(
            &model,
            &source,
            |chunk| {
                levels_of(&chunk.frame).with_context(|| {
                    format!("{}: in the rows from line {}", path.display(), chunk.first_line)
                })
            },
            |levels| Ok(writer.push(&levels, &mut spool)?),
        )?;
    }
    let mut out = latent_data::AtomicFile::create(&args.out)?;
    let header = writer.finish(&mut spool, &mut out)?;
    out.commit()?;
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    let values = header.rows as usize * model.net().width();
    let unit = if model.image_shape().is_some() { "pixel" } else { "value" };
    eprintln!(
        "compressed {} rows into {} ({} bytes, {:.4} bits per {unit})",
        header.rows,
        args.out.display(),
        bytes,
        8.0 * bytes as f64 / values.max(1) as f64
    );
    Ok(())
}

/// Decompresses a `.lat` file with the model that wrote it.
pub fn decompress(args: DecompressArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let codec = Codec::new(&model)?;
    let levels = read_levels(&args.data, &codec)?;
    if args.codes {
        return write_codes(&args.out, &levels, codec.width());
    }
    let decoded = model.decode(&codec.dequantise(&levels))?;
    let frame = model.preprocessor().inverse(&decoded.data)?;
    let out = &args.out;
    let name = out.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.contains("idx") {
        let shape = transform::image_shape(&frame, out)?;
        let values = transform::row_major(&frame)?;
        Ok(latent_data::write_idx_images(out, shape, frame.rows(), &values)?)
    } else if out.extension().is_none() {
        let shape = transform::image_shape(&frame, out)?;
        Ok(latent_data::write_png_folder(out, shape, &transform::row_major(&frame)?)?)
    } else {
        transform::write_rows(out, &frame, Vec::new(), None)
    }
}

/// The quantised codes of a `.lat` file.
pub fn read_levels(path: &Path, codec: &Codec) -> Result<Vec<i32>> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    Ok(codec::read(path, &bytes, codec)?.1)
}

/// The quantised codes as CSV: columns q0, q1, ...
fn write_codes(out: &Path, levels: &[i32], width: usize) -> Result<()> {
    let mut text = (0..width).map(|d| format!("q{d}")).collect::<Vec<_>>().join(",");
    text.push('\n');
    for row in levels.chunks(width.max(1)) {
        for (i, v) in row.iter().enumerate() {
            let _ = write!(text, "{}{v}", if i == 0 { "" } else { "," });
        }
        text.push('\n');
    }
    latent::artifact::write_atomic(out, text.as_bytes())?;
    Ok(())
}

/// What kind of file a data path is, recorded in the `.lat` header.
fn file_kind(path: &Path) -> FileKind {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if path.is_dir() {
        FileKind::Images
    } else if name.contains("idx") {
        FileKind::Idx
    } else if name.ends_with(".npy") || name.ends_with(".npy.gz") || name.ends_with(".npz") {
        FileKind::Npy
    } else {
        FileKind::Table
    }
}

/// A model's entropy model fitted at training time (`latent train --quant-step`).
pub fn fit_after_training(model: &mut Model, frame: &latent::Frame, step: f32) -> Result<()> {
    Ok(codec::fit_frame(model, frame, step)?)
}

/// Checks `train --quant-step` before training: a positive step, on a model that can
/// compress (not a recommender nor a time-series model).
pub fn check_train_flags(args: &crate::args::TrainArgs) -> Result<()> {
    let Some(step) = args.quant_step else {
        return Ok(());
    };
    if !(step.is_finite() && step > 0.0) {
        return Err(BadInput(format!("--quant-step must be a positive number, got {step}")).into());
    }
    if crate::recommend::preset_kind(args.family.preset).is_some() || args.series.window.is_some() {
        return Err(BadInput(
            "--quant-step applies to autoencoders of tables and images, not to recommenders or \
             time-series models"
                .into(),
        )
        .into());
    }
    Ok(())
}
