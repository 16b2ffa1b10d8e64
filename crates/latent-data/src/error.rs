//! The crate's one error type.
//!
//! Every variant names the file it is about, so messages read like
//! `data.csv: line 5, column "amount": non-numeric value "abc" in a numeric column`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading or writing data files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A problem at a place in a text (CSV) file: a bad cell, a ragged row.
    #[error("{}: line {line}{}: {message}", path.display(), column_part(column.as_deref()))]
    Text {
        /// The file.
        path: PathBuf,
        /// 1-based physical line number (the header is line 1).
        line: u64,
        /// The column, when the problem is in one cell.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A bad value in a binary array file (NPY, NPZ, IDX), such as a non-finite number.
    #[error("{}: row {row}, column \"{column}\": {message}", path.display())]
    Value {
        /// The file.
        path: PathBuf,
        /// 1-based row (sample) number.
        row: usize,
        /// The column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The file as a whole is unusable: bad magic, truncated, empty, unsupported element type.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file name or content matches no supported format.
    #[error(
        "{}: unsupported format (supported: .csv, .csv.gz, .tsv, .tsv.gz, .parquet, .npy, .npz, \
         MNIST IDX files (name containing \"idx\", raw or .gz), folders of PNG/JPEG images)",
        path.display()
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
    },
    /// An image in an image folder could not be used.
    #[error("{}: {message}", path.display())]
    Image {
        /// The image file (or folder).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data read could not be assembled into a frame.
    #[error("{}: {source}", path.display())]
    Frame {
        /// The file.
        path: PathBuf,
        /// The error from `latent`.
        source: latent::Error,
    },
    /// The caller passed inconsistent arguments (a bug in the program, not bad input).
    #[error("{}: internal error: {message}", path.display())]
    Internal {
        /// The file being written or read.
        path: PathBuf,
        /// What is inconsistent.
        message: String,
    },
}

/// `, column "name"` or nothing.
fn column_part(column: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(c) = column {
        let _ = write!(s, ", column \"{c}\"");
    }
    s
}

impl Error {
    /// True when the error comes from the user's input (a bad or missing file, bad data, an
    /// unsupported format), false for an internal failure.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Internal { .. })
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. }
            | Error::Text { path, .. }
            | Error::Value { path, .. }
            | Error::Format { path, .. }
            | Error::Unsupported { path }
            | Error::Image { path, .. }
            | Error::Frame { path, .. }
            | Error::Internal { path, .. } => path,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        Error::Format { path: path.to_path_buf(), message: message.into() }
    }

    pub(crate) fn frame(path: &Path, source: latent::Error) -> Self {
        Error::Frame { path: path.to_path_buf(), source }
    }

    pub(crate) fn internal(path: &Path, message: impl Into<String>) -> Self {
        Error::Internal { path: path.to_path_buf(), message: message.into() }
    }

    pub(crate) fn not_finite(path: &Path, row: usize, column: impl Into<String>, v: f64) -> Self {
        Error::Value {
            path: path.to_path_buf(),
            row: row + 1,
            column: column.into(),
            message: format!("value {v} is not finite"),
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_column() {
        let e = Error::Text {
            path: "data.csv".into(),
            line: 3,
            column: Some("x".into()),
            message: "value \"inf\" is not finite".into(),
        };
        assert_eq!(e.to_string(), "data.csv: line 3, column \"x\": value \"inf\" is not finite");
        let e = Error::Text {
            path: "data.csv".into(),
            line: 7,
            column: None,
            message: "row has 3 fields, header has 4".into(),
        };
        assert_eq!(e.to_string(), "data.csv: line 7: row has 3 fields, header has 4");
        let e = Error::io(Path::new("missing/path.csv"), std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "missing/path.csv: boom");
        assert!(e.is_bad_input());
        assert!(!Error::internal(Path::new("a"), "x").is_bad_input());
    }
}
