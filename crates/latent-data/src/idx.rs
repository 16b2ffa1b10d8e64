//! MNIST-style IDX files (raw or gzipped).
//!
//! Layout: magic `00 00 <type> <ndim>`, `ndim` big-endian `u32` dimensions, then the values
//! big-endian in C order. `u8` images (3 or more dimensions) are scaled to `[0, 1]`; other
//! arrays (labels) are kept as numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

use latent::{Column, ImageShape};

use crate::array;
use crate::error::{Error, Result};
use crate::{source, Dataset};

/// IDX element type codes and their sizes in bytes.
const TYPES: [(u8, usize); 6] = [(0x08, 1), (0x09, 1), (0x0B, 2), (0x0C, 4), (0x0D, 4), (0x0E, 8)];
/// The `u8` type code.
const U8: u8 = 0x08;

/// Size of one element of this type code, if it is a valid one.
fn elem_size(code: u8) -> Option<usize> {
    TYPES.iter().find(|(c, _)| *c == code).map(|&(_, s)| s)
}

/// True when `path` is a file (raw or gzipped) that starts like an IDX file.
pub fn is_idx(path: &Path) -> bool {
    path.as_os_str() != "-"
        && path.is_file()
        && source::peek(path, 4).is_ok_and(|head| is_idx_magic(&head))
}

/// True when the bytes start like an IDX file.
pub(crate) fn is_idx_magic(head: &[u8]) -> bool {
    matches!(head, [0, 0, code, ndim, ..] if elem_size(*code).is_some() && (1..=4).contains(ndim))
}

/// Fixed-size copy of a chunk produced by `chunks_exact(N)`.
fn bytes<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(chunk);
    a
}

/// A parsed IDX file: its shape, element type code and the bytes of the values.
struct Idx<'a> {
    shape: Vec<usize>,
    code: u8,
    body: &'a [u8],
}

impl Idx<'_> {
    /// The values as a frame (`u8` images scaled to `[0, 1]`), and whether they are images
    /// (3 or more dimensions).
    fn frame(&self, path: &Path) -> Result<(latent::Frame, bool)> {
        let is_image = self.shape.len() >= 3;
        let frame = if self.code == U8 {
            let scale = if is_image { 1.0 / 255.0 } else { 1.0 };
            array::to_frame(path, &self.shape, self.body, |b| f32::from(b) * scale, "label")?
        } else {
            array::to_frame(path, &self.shape, &self.values(), |v| v, "label")?
        };
        Ok((frame, is_image))
    }

    /// The values as `f32` (unscaled).
    fn values(&self) -> Vec<f32> {
        let body = self.body;
        match self.code {
            0x08 => body.iter().map(|&b| f32::from(b)).collect(),
            0x09 => body.iter().map(|&b| f32::from(b as i8)).collect(),
            0x0B => body.chunks_exact(2).map(|c| f32::from(i16::from_be_bytes(bytes(c)))).collect(),
            0x0C => body.chunks_exact(4).map(|c| i32::from_be_bytes(bytes(c)) as f32).collect(),
            0x0D => body.chunks_exact(4).map(|c| f32::from_be_bytes(bytes(c))).collect(),
            _ => body.chunks_exact(8).map(|c| f64::from_be_bytes(bytes(c)) as f32).collect(),
        }
    }
}

/// An IDX header: element type, shape, and its own length in bytes.
struct Header {
    code: u8,
    size: usize,
    shape: Vec<usize>,
    len: usize,
}

impl Header {
    /// Parses and checks the header at the start of `data` (which may hold only the header).
    fn parse(path: &Path, data: &[u8]) -> Result<Header> {
        if data.is_empty() {
            return Err(Error::format(path, "file is empty"));
        }
        let Some(&[z0, z1, code, ndim]) = data.get(..4) else {
            return Err(Error::format(
                path,
                format!("truncated IDX file: expected at least 4 bytes, found {}", data.len()),
            ));
        };
        let size = match elem_size(code) {
            Some(size) if z0 == 0 && z1 == 0 && ndim > 0 => size,
            _ => {
                return Err(Error::format(
                    path,
                    format!(
                        "not an IDX file (bad magic {z0:02x} {z1:02x} {code:02x} {ndim:02x}; \
                         expected 00 00 <type> <dimensions>)"
                    ),
                ))
            }
        };
        let len = 4 + 4 * usize::from(ndim);
        let Some(dims) = data.get(4..len) else {
            return Err(Error::format(
                path,
                format!("truncated IDX file: expected at least {len} bytes, found {}", data.len()),
            ));
        };
        let shape = dims.chunks_exact(4).map(|c| u32::from_be_bytes(bytes::<4>(c)) as usize);
        Ok(Header { code, size, shape: shape.collect(), len })
    }

    /// Bytes of the whole file, header included.
    fn file_len(&self, path: &Path) -> Result<usize> {
        let too_big = || Error::format(path, format!("IDX shape {:?} is too large", self.shape));
        let count = self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let count = count.ok_or_else(too_big)?;
        count.checked_mul(self.size).and_then(|n| n.checked_add(self.len)).ok_or_else(too_big)
    }

    fn truncated(&self, path: &Path, expected: usize, found: usize) -> Error {
        Error::format(path, format!("truncated IDX file: expected {expected} bytes, found {found}"))
    }

    fn too_long(&self, path: &Path, expected: usize, found: String) -> Error {
        Error::format(
            path,
            format!(
                "IDX file length mismatch: expected {expected} bytes for shape {:?}, found {found}",
                self.shape
            ),
        )
    }
}

/// Parses and checks the header and length of IDX bytes.
fn parse<'a>(path: &Path, data: &'a [u8]) -> Result<Idx<'a>> {
    let header = Header::parse(path, data)?;
    let expected = header.file_len(path)?;
    if data.len() < expected {
        return Err(header.truncated(path, expected, data.len()));
    }
    if data.len() > expected {
        return Err(header.too_long(path, expected, data.len().to_string()));
    }
    Ok(Idx { shape: header.shape, code: header.code, body: &data[header.len..] })
}

/// The images (or rows) of an IDX file read a fixed number at a time (for `latent compress`),
/// so memory holds one chunk however large the file. Each chunk is the frame
/// [`crate::load`] would give for those rows; the file's length is checked as it is read.
pub struct IdxChunks {
    path: PathBuf,
    reader: Box<dyn std::io::Read + Send>,
    header: Header,
    expected: usize,
    /// Rows not read yet.
    left: usize,
    chunk_rows: usize,
}

impl IdxChunks {
    /// Opens `path` (raw or gzipped) and reads its header.
    pub fn open(path: &Path, chunk_rows: usize) -> Result<IdxChunks> {
        let mut reader = source::open(path)?;
        let mut head = [0u8; 4];
        let got = read_full(&mut reader, &mut head).map_err(|e| Error::io(path, e))?;
        let ndim = if got == 4 { usize::from(head[3]) } else { 0 };
        let mut data = head[..got].to_vec();
        let mut dims = vec![0u8; 4 * ndim];
        let got = read_full(&mut reader, &mut dims).map_err(|e| Error::io(path, e))?;
        data.extend_from_slice(&dims[..got]);
        let header = Header::parse(path, &data)?;
        let expected = header.file_len(path)?;
        let left = header.shape.first().copied().unwrap_or(0);
        Ok(IdxChunks {
            path: path.to_path_buf(),
            reader,
            header,
            expected,
            left,
            chunk_rows: chunk_rows.max(1),
        })
    }

    fn chunk(&mut self) -> Result<latent::Frame> {
        let rows = self.left.min(self.chunk_rows);
        let row_bytes = (self.expected - self.header.len) / self.header.shape[0].max(1);
        let mut body = vec![0u8; rows * row_bytes];
        let got = read_full(&mut self.reader, &mut body).map_err(|e| Error::io(&self.path, e))?;
        let done = self.header.shape[0] - self.left;
        if got < body.len() {
            let found = self.header.len + (done * row_bytes) + got;
            return Err(self.header.truncated(&self.path, self.expected, found));
        }
        self.left -= rows;
        if self.left == 0 {
            let mut extra = [0u8; 1];
            if read_full(&mut self.reader, &mut extra).map_err(|e| Error::io(&self.path, e))? > 0 {
                let found = format!("more than {}", self.expected);
                return Err(self.header.too_long(&self.path, self.expected, found));
            }
        }
        let mut shape = self.header.shape.clone();
        shape[0] = rows;
        let idx = Idx { shape, code: self.header.code, body: &body };
        Ok(idx.frame(&self.path)?.0)
    }
}

impl Iterator for IdxChunks {
    type Item = Result<latent::Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let chunk = self.chunk();
        if chunk.is_err() {
            self.left = 0;
        }
        Some(chunk)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The labels file next to an images file (`...images-idx3...` -> `...labels-idx1...`).
fn sibling_labels(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    if !name.contains("images-idx3") {
        return None;
    }
    let sibling = path.with_file_name(name.replace("images-idx3", "labels-idx1"));
    sibling.is_file().then_some(sibling)
}

/// Loads the labels file for `rows` images.
fn load_labels(path: &Path, rows: usize) -> Result<Column> {
    let data = source::read_all(path)?;
    let labels = parse(path, &data)?;
    let values = labels.values();
    if labels.shape.len() != 1 || values.len() != rows {
        return Err(Error::format(
            path,
            format!("labels of shape {:?} do not match {rows} images", labels.shape),
        ));
    }
    array::check_finite(path, &values, 1, &["label".to_string()])?;
    Ok(Column::numeric("label", values))
}

/// Loads an IDX file; for an images file, also its sibling labels file when present.
pub(crate) fn load_idx(path: &Path) -> Result<Dataset> {
    let data = source::read_all(path)?;
    let (frame, is_image) = idx_frame(path, &data)?;
    let labels = match sibling_labels(path) {
        Some(labels_path) if is_image => Some(load_labels(&labels_path, frame.rows())?),
        _ => None,
    };
    Ok(Dataset { frame, labels, ids: Vec::new(), source: path.to_path_buf() })
}

/// Reads IDX bytes as a data set without labels; `path` names them in errors.
pub(crate) fn read_idx(path: &Path, data: &[u8]) -> Result<Dataset> {
    let (frame, _) = idx_frame(path, data)?;
    Ok(Dataset { frame, labels: None, ids: Vec::new(), source: path.to_path_buf() })
}

/// The frame of IDX bytes, and whether they hold images (3 or more dimensions).
fn idx_frame(path: &Path, data: &[u8]) -> Result<(latent::Frame, bool)> {
    parse(path, data)?.frame(path)
}

/// Encodes images with values in `[0, 1]` as a `u8` IDX file body (rounded, clamped).
/// One channel gives the MNIST layout `(n, h, w)`; more give `(n, c, h, w)`.
pub(crate) fn encode_u8_images(
    path: &Path,
    shape: ImageShape,
    rows: usize,
    values: &[f32],
) -> Result<Vec<u8>> {
    let expected = rows.checked_mul(shape.len());
    if expected != Some(values.len()) {
        return Err(Error::internal(
            path,
            format!(
                "{} values given for {rows} images of {}x{}x{}",
                values.len(),
                shape.channels,
                shape.height,
                shape.width
            ),
        ));
    }
    let dims: Vec<usize> = if shape.channels == 1 {
        vec![rows, shape.height, shape.width]
    } else {
        vec![rows, shape.channels, shape.height, shape.width]
    };
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + values.len());
    out.extend_from_slice(&[0, 0, U8, dims.len() as u8]);
    for d in dims {
        let d = u32::try_from(d)
            .map_err(|_| Error::internal(path, format!("dimension {d} too large for IDX")))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend(values.iter().map(|&v| {
        let v = if v.is_nan() { 0.0 } else { v };
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }));
    Ok(out)
}

/// Writes bytes to `path`, gzip-compressed when its name ends in `.gz`.
pub(crate) fn write_bytes(path: &Path, data: &[u8]) -> Result<()> {
    let io = |e| Error::io(path, e);
    let file = crate::atomic::AtomicFile::create(path)?;
    let buffered = if source::is_gz(path) {
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::default(),
        );
        gz.write_all(data).map_err(io)?;
        gz.finish().map_err(io)?
    } else {
        let mut w = std::io::BufWriter::new(file);
        w.write_all(data).map_err(io)?;
        w
    };
    buffered.into_inner().map_err(|e| io(e.into_error()))?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_detection() {
        assert!(is_idx_magic(&[0, 0, 8, 3, 0]));
        assert!(!is_idx_magic(&[0, 0, 7, 3]));
        assert!(!is_idx_magic(b"\x93NUMPY"));
        assert!(!is_idx_magic(&[0, 0]));
    }

    #[test]
    fn chunks_are_the_loaded_frame_in_pieces_raw_and_gzipped() -> Result<()> {
        let (n, h, w) = (5u32, 2u32, 3u32);
        let mut data = vec![0, 0, U8, 3];
        for d in [n, h, w] {
            data.extend_from_slice(&d.to_be_bytes());
        }
        data.extend((0..n * h * w).map(|v| (v * 7 % 256) as u8));
        let dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("."), e))?;
        for name in ["x-idx3-ubyte", "x-idx3-ubyte.gz"] {
            let path = dir.path().join(name);
            write_bytes(&path, &data)?;
            assert!(is_idx(&path));
            let whole = load_idx(&path)?.frame;
            let chunks: Vec<latent::Frame> = IdxChunks::open(&path, 2)?.collect::<Result<_>>()?;
            assert_eq!(chunks.iter().map(|c| c.rows()).collect::<Vec<_>>(), [2, 2, 1]);
            for (i, chunk) in chunks.iter().enumerate() {
                assert_eq!(chunk, &whole.slice_rows(2 * i, (2 * i + 2).min(5)), "{name} {i}");
            }
        }
        let cut = dir.path().join("cut-idx3-ubyte");
        std::fs::write(&cut, &data[..data.len() - 1]).map_err(|e| Error::io(&cut, e))?;
        let err = IdxChunks::open(&cut, 2)?.find_map(|c| c.err()).map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("truncated IDX file: expected 46 bytes, found 45")));
        assert!(!is_idx(dir.path()) && !is_idx(Path::new("-")));
        Ok(())
    }

    #[test]
    fn parses_big_endian_types() -> Result<()> {
        let data = [0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 255, 255, 255, 255];
        let a = parse(Path::new("l.idx1"), &data)?;
        assert_eq!((a.values(), a.shape, a.code), (vec![256., -1.], vec![2], 0x0C));
        let data = [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x7f, 0x80, 0, 0];
        let a = parse(Path::new("l.idx1"), &data)?;
        let e = array::check_finite(Path::new("l.idx1"), &a.values(), 1, &["label".into()]);
        assert!(e.is_err());
        Ok(())
    }
}
