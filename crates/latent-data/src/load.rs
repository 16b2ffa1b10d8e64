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
    /// CSV columns read as text (categorical) even when their values look numeric.
    pub categorical: Vec<String>,
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
            categorical: Vec::new(),
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
    /// The path the data was loaded from.
    pub source: PathBuf,
}

/// Bytes looked at to recognise a file by content.
const SNIFF_BYTES: usize = 4096;

/// Loads a data set, choosing the reader from the path:
///
/// * a directory: a folder of PNG/JPEG images (sub-folder names become labels);
/// * `*.csv`, `*.tsv` (each optionally `.gz`): delimited text;
/// * `*.npy` (optionally `.gz`), `*.npz`: NumPy arrays;
/// * a name containing `idx` (optionally `.gz`): an MNIST IDX file;
/// * any other name: recognised by content (NPY or IDX magic, a zip archive as NPZ) or, for
///   `.gz`, `.txt`, `.data`, `.dat` or extension-less files, as delimited text when the first
///   line holds the delimiter. Anything else is an "unsupported format" error.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return images::load_folder(path, opts);
    }
    let name = source::inner_name(path);
    let gz = source::is_gz(path);
    if name.ends_with(".csv") {
        csv::load_csv(path, opts.delimiter, opts)
    } else if name.ends_with(".tsv") {
        let delimiter = if opts.delimiter == b',' { b'\t' } else { opts.delimiter };
        csv::load_csv(path, delimiter, opts)
    } else if name.ends_with(".npy") {
        npy::load_npy(path)
    } else if name.ends_with(".npz") && !gz {
        npy::load_npz(path)
    } else if name.contains("idx") {
        idx::load_idx(path)
    } else {
        load_by_content(path, &name, gz, opts)
    }
}

/// Recognises a file whose name says nothing by its first bytes.
fn load_by_content(path: &Path, name: &str, gz: bool, opts: &LoadOptions) -> Result<Dataset> {
    let head = source::peek(path, SNIFF_BYTES)?;
    if head.starts_with(npy::MAGIC) {
        return npy::load_npy(path);
    }
    if idx::is_idx_magic(&head) {
        return idx::load_idx(path);
    }
    if !gz && head.starts_with(b"PK\x03\x04") {
        return npy::load_npz(path);
    }
    let extension = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or("");
    let text_name = gz || matches!(extension, "" | "txt" | "data" | "dat");
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if text_name && !head.contains(&0) && first_line.contains(&opts.delimiter) {
        return csv::load_csv(path, opts.delimiter, opts);
    }
    Err(Error::Unsupported { path: path.to_path_buf() })
}
