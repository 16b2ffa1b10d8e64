//! Load options, the loaded data set, and picking a reader for a path.

use std::path::{Path, PathBuf};

use latent::{Column, Frame};

use crate::error::{Error, Result};
use crate::{csv, idx, images, npy, source};

/// How to read a data file or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// CSV field delimiter (default `b','`; a `.tsv` file uses tab unless this is changed).
    pub delimiter: u8,
    /// Whether the first CSV row is a header (default true). Without one, columns are named
    /// `col0`, `col1`, ...
    pub has_header: bool,
    /// CSV column removed from the features and returned as [`Dataset::labels`].
    pub label_column: Option<String>,
    /// A file without the label column is read without labels instead of being refused (for
    /// the label column a model remembers from training).
    pub label_optional: bool,
    /// CSV columns kept out of the features as text and returned as [`Dataset::ids`]
    /// (identifiers carried through to outputs). Those the file lacks are skipped.
    pub id_columns: Vec<String>,
    /// CSV columns read as text (categorical) even when their values look numeric.
    pub categorical: Vec<String>,
    /// CSV cell texts read as missing values besides the defaults ([`crate::na`]).
    pub na_values: Vec<String>,
    /// Image folders: resize every image to `(width, height)`.
    pub resize: Option<(u32, u32)>,
    /// Image folders: convert every image to one grey channel.
    pub grayscale: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            delimiter: b',',
            has_header: true,
            label_column: None,
            label_optional: false,
            id_columns: Vec::new(),
            categorical: Vec::new(),
            na_values: Vec::new(),
            resize: None,
            grayscale: false,
        }
    }
}

/// A loaded data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The features (for images, with the image shape set).
    pub frame: Frame,
    /// Labels, when the source has them (label column, sibling IDX labels file, NPZ `y`,
    /// image sub-folder names).
    pub labels: Option<Column>,
    /// Identifier columns (`LoadOptions::id_columns`), as text, in file order.
    pub ids: Vec<Column>,
    /// The path the data was loaded from.
    pub source: PathBuf,
}

/// Bytes looked at to recognise a file by content.
const SNIFF_BYTES: usize = 4096;

/// Loads a data set, choosing the reader from the path:
///
/// * `*.parquet`, or a directory holding `.parquet` files: Parquet, read as one data set;
/// * a directory: a folder of PNG/JPEG images (sub-folder names become labels);
/// * `*.csv`, `*.tsv` (each optionally `.gz`): delimited text;
/// * `*.npy` (optionally `.gz`), `*.npz`: NumPy arrays;
/// * a name containing `idx` (optionally `.gz`): an MNIST IDX file;
/// * any other name: recognised by content (NPY or IDX magic, a zip archive as NPZ) or, for
///   `.gz`, `.txt`, `.data`, `.dat` or extension-less files, as delimited text when the first
///   line holds the delimiter. Anything else is an "unsupported format" error.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if crate::parquet_io::is_parquet(path) {
        return crate::parquet_io::load_parquet(path, opts);
    }
    if meta.is_dir() {
        return images::load_folder(path, opts);
    }
    let format = match format_by_name(path, opts) {
        Some(format) => format,
        None => format_by_content(path, &source::peek(path, SNIFF_BYTES)?, opts)?,
    };
    match format {
        Format::Csv(delimiter) => csv::load_csv(path, delimiter, opts),
        Format::Npy => npy::load_npy(path),
        Format::Npz => npy::load_npz(path),
        Format::Idx => idx::load_idx(path),
    }
}

/// Loads a data set from the content of one file, `bytes`, as [`load`] would load it from a
/// file named `name` (`name` picks the reader and names the data in errors; nothing is read
/// from the disk): gunzipped when `name` ends in `.gz`, then read as CSV/TSV, Parquet, NPY, NPZ
/// or IDX by name or, failing that, by content. An IDX images file gets no labels (there is no
/// sibling labels file). For one image, see [`load_image_bytes`].
pub fn load_bytes(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Dataset> {
    let gunzipped;
    let data = if source::is_gz(name) {
        gunzipped = source::gunzip(name, bytes)?;
        gunzipped.as_slice()
    } else {
        bytes
    };
    if source::inner_name(name).ends_with(".parquet") || data.starts_with(b"PAR1") {
        return crate::parquet_io::read_parquet(name, data, opts);
    }
    let format = match format_by_name(name, opts) {
        Some(format) => format,
        None => format_by_content(name, &data[..data.len().min(SNIFF_BYTES)], opts)?,
    };
    match format {
        Format::Csv(delimiter) => csv::read_csv(name, data, delimiter, opts),
        Format::Npy => npy::read_npy(name, data),
        Format::Npz => npy::read_npz(name, std::io::Cursor::new(data)),
        Format::Idx => idx::read_idx(name, data),
    }
}

/// Loads one PNG or JPEG image from its bytes as a one-row data set, decoded, resized and
/// converted exactly as each image of a folder is by [`load`]. The format is recognised by
/// content, else by the extension of `name`, which also names the image in errors.
pub fn load_image_bytes(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Dataset> {
    images::load_image_bytes(name, bytes, opts)
}

/// A file reader, chosen by [`format_by_name`] or [`format_by_content`].
enum Format {
    /// Delimited text with this delimiter.
    Csv(u8),
    Npy,
    Npz,
    Idx,
}

/// The reader the file name asks for, or `None` when the name says nothing.
fn format_by_name(path: &Path, opts: &LoadOptions) -> Option<Format> {
    let name = source::inner_name(path);
    let gz = source::is_gz(path);
    if name.ends_with(".csv") {
        Some(Format::Csv(opts.delimiter))
    } else if name.ends_with(".tsv") {
        Some(Format::Csv(if opts.delimiter == b',' { b'\t' } else { opts.delimiter }))
    } else if name.ends_with(".npy") {
        Some(Format::Npy)
    } else if name.ends_with(".npz") && !gz {
        Some(Format::Npz)
    } else if name.contains("idx") {
        Some(Format::Idx)
    } else {
        None
    }
}

/// Recognises a file whose name says nothing by `head`, its first (decompressed) bytes.
fn format_by_content(path: &Path, head: &[u8], opts: &LoadOptions) -> Result<Format> {
    let name = source::inner_name(path);
    let gz = source::is_gz(path);
    if head.starts_with(npy::MAGIC) {
        return Ok(Format::Npy);
    }
    if idx::is_idx_magic(head) {
        return Ok(Format::Idx);
    }
    if !gz && head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Npz);
    }
    let extension = Path::new(&name).extension().and_then(|e| e.to_str()).unwrap_or("");
    let text_name = gz || matches!(extension, "" | "txt" | "data" | "dat");
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if text_name && !head.contains(&0) && first_line.contains(&opts.delimiter) {
        return Ok(Format::Csv(opts.delimiter));
    }
    Err(Error::Unsupported { path: path.to_path_buf() })
}
