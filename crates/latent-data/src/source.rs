//! Opening input files, transparently decompressing gzip by the `.gz` extension.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// The file name in lower case ("" when the path has none).
pub(crate) fn lower_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default()
}

/// True when the file name ends in `.gz`.
pub(crate) fn is_gz(path: &Path) -> bool {
    lower_name(path).ends_with(".gz")
}

/// The file name in lower case without a trailing `.gz`.
pub(crate) fn inner_name(path: &Path) -> String {
    let name = lower_name(path);
    match name.strip_suffix(".gz") {
        Some(inner) => inner.to_string(),
        None => name,
    }
}

/// A buffered reader over the file's content, gunzipped when the name ends in `.gz`.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let buffered = BufReader::with_capacity(1 << 16, file);
    if is_gz(path) {
        Ok(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(buffered))))
    } else {
        Ok(Box::new(buffered))
    }
}

/// The whole (decompressed) content of the file.
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if is_gz(path) {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(bytes)
}

/// The gunzipped content of `bytes`; `path` names them in errors.
pub(crate) fn gunzip(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out).map_err(|e| Error::io(path, e))?;
    Ok(out)
}

/// Up to `n` leading (decompressed) bytes of the file.
pub(crate) fn peek(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    open(path)?.take(n as u64).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}
