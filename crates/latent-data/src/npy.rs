//! NumPy `.npy` arrays and `.npz` archives of them.
//!
//! The header is parsed with `npyz`; the data is read in one block and converted to `f32`
//! (from f32, f64, signed/unsigned integers or bools, either byte order, C or Fortran order).

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use latent::{Column, Frame};
use npyz::{DType, Endianness, NpyHeader, Order, TypeChar};

use crate::array::{self, Array};
use crate::error::{Error, Result};
use crate::{source, Dataset};

/// The first six bytes of every NPY file.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Array names (without `.npy`) taken as the features of an NPZ archive, in order of preference.
const FEATURE_NAMES: [&str; 3] = ["x", "data", "X"];
/// Array names taken as the labels of an NPZ archive.
const LABEL_NAMES: [&str; 3] = ["y", "labels", "label"];

/// Element types we can convert to `f32`.
#[derive(Clone, Copy)]
enum Elem {
    F32,
    F64,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Bool,
}

impl Elem {
    fn from_dtype(path: &Path, dtype: &DType) -> Result<(Elem, bool)> {
        let unsupported = || {
            Error::format(
                path,
                format!(
                    "unsupported NPY element type {}; expected floats, integers or bools",
                    dtype.descr()
                ),
            )
        };
        let DType::Plain(ty) = dtype else { return Err(unsupported()) };
        let big = ty.endianness() == Endianness::Big;
        let elem = match (ty.type_char(), ty.size_field()) {
            (TypeChar::Float, 4) => Elem::F32,
            (TypeChar::Float, 8) => Elem::F64,
            (TypeChar::Int, 1) => Elem::I8,
            (TypeChar::Uint, 1) => Elem::U8,
            (TypeChar::Int, 2) => Elem::I16,
            (TypeChar::Uint, 2) => Elem::U16,
            (TypeChar::Int, 4) => Elem::I32,
            (TypeChar::Uint, 4) => Elem::U32,
            (TypeChar::Int, 8) => Elem::I64,
            (TypeChar::Uint, 8) => Elem::U64,
            (TypeChar::Bool, 1) => Elem::Bool,
            _ => return Err(unsupported()),
        };
        Ok((elem, big))
    }

    fn size(self) -> usize {
        match self {
            Elem::I8 | Elem::U8 | Elem::Bool => 1,
            Elem::I16 | Elem::U16 => 2,
            Elem::F32 | Elem::I32 | Elem::U32 => 4,
            Elem::F64 | Elem::I64 | Elem::U64 => 8,
        }
    }
}

/// Fixed-size copy of a chunk produced by `chunks_exact(N)`.
fn bytes<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(chunk);
    a
}

/// Converts raw element bytes to `f32`.
fn convert(data: &[u8], elem: Elem, big: bool) -> Vec<f32> {
    macro_rules! conv {
        ($t:ty, $n:literal) => {
            data.chunks_exact($n)
                .map(|c| {
                    let b = bytes::<$n>(c);
                    (if big { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) }) as f32
                })
                .collect()
        };
    }
    match elem {
        Elem::F32 => conv!(f32, 4),
        Elem::F64 => conv!(f64, 8),
        Elem::I8 => data.iter().map(|&b| f32::from(b as i8)).collect(),
        Elem::U8 => data.iter().map(|&b| f32::from(b)).collect(),
        Elem::Bool => data.iter().map(|&b| f32::from(u8::from(b != 0))).collect(),
        Elem::I16 => conv!(i16, 2),
        Elem::U16 => conv!(u16, 2),
        Elem::I32 => conv!(i32, 4),
        Elem::U32 => conv!(u32, 4),
        Elem::I64 => conv!(i64, 8),
        Elem::U64 => conv!(u64, 8),
    }
}

/// Longest NPY header accepted (NumPy itself refuses headers over 10000 bytes by default).
const MAX_HEADER_BYTES: usize = 1 << 16;
/// Deepest bracket nesting accepted in the header dict: `{'shape': (...)}` is 2 deep, a
/// structured dtype (refused later anyway) 3 or 4. `npyz` parses nesting in exponential time.
const MAX_HEADER_DEPTH: usize = 4;

/// Reads the rest of the NPY header after `magic` (version, length, dict text) and returns all
/// of it, for `npyz` to parse, once the length and the bracket nesting of the dict are checked:
/// a corrupt header must not make `npyz` allocate gigabytes or parse for minutes.
fn read_header_bytes(path: &Path, magic: Vec<u8>, reader: &mut impl Read) -> Result<Vec<u8>> {
    let mut pre = magic;
    let mut take = |pre: &mut Vec<u8>, n: usize| {
        reader.take(n as u64).read_to_end(pre).map_err(|e| Error::io(path, e))
    };
    take(&mut pre, 2)?;
    let len_bytes = match pre.get(MAGIC.len()) {
        Some(1) => 2,
        Some(2 | 3) => 4,
        // Missing or unknown version: npyz says what is wrong.
        _ => return Ok(pre),
    };
    take(&mut pre, len_bytes)?;
    let field = pre.get(MAGIC.len() + 2..).unwrap_or_default();
    if field.len() < len_bytes {
        return Ok(pre); // truncated: npyz says so
    }
    // Little-endian u16 or u32.
    let len = field.iter().rev().fold(0usize, |a, &b| (a << 8) | usize::from(b));
    if len > MAX_HEADER_BYTES {
        return Err(Error::format(
            path,
            format!("invalid NPY header: it claims {len} bytes (at most {MAX_HEADER_BYTES})"),
        ));
    }
    let start = pre.len();
    take(&mut pre, len)?;
    let depth = nesting_depth(&pre[start..]);
    if depth > MAX_HEADER_DEPTH {
        return Err(Error::format(
            path,
            format!(
                "invalid NPY header: brackets nested {depth} deep (at most {MAX_HEADER_DEPTH})"
            ),
        ));
    }
    Ok(pre)
}

/// The deepest nesting of `()`, `[]` and `{}` in Python literal text, outside of strings.
fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &c in text {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

/// An NPY header, checked: element type, byte order, shape, memory order, and the bytes of
/// data it announces.
struct Header {
    elem: Elem,
    big: bool,
    shape: Vec<usize>,
    fortran: bool,
    data_bytes: usize,
}

/// Reads and checks the header of an NPY stream, leaving `reader` at the first data byte.
fn read_header(path: &Path, reader: &mut impl Read) -> Result<Header> {
    let mut magic = Vec::with_capacity(MAGIC.len());
    (&mut *reader)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(|e| Error::io(path, e))?;
    if magic.is_empty() {
        return Err(Error::format(path, "file is empty"));
    }
    if magic.as_slice() != MAGIC.as_slice() {
        if MAGIC.starts_with(&magic) {
            return Err(Error::format(path, "truncated NPY file (incomplete header)"));
        }
        return Err(Error::format(path, "not an NPY file (bad magic)"));
    }
    let pre = read_header_bytes(path, magic, reader)?;
    let header = NpyHeader::from_reader(Cursor::new(pre).chain(&mut *reader)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::format(path, "truncated NPY file (incomplete header)")
        } else {
            Error::format(path, format!("invalid NPY header: {e}"))
        }
    })?;
    let (elem, big) = Elem::from_dtype(path, &header.dtype())?;
    let too_big = || Error::format(path, format!("NPY shape {:?} is too large", header.shape()));
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| too_big()))
        .collect::<Result<_>>()?;
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(too_big)?;
    let data_bytes = count.checked_mul(elem.size()).ok_or_else(too_big)?;
    let fortran = header.order() == Order::Fortran && shape.len() > 1;
    Ok(Header { elem, big, shape, fortran, data_bytes })
}

/// Reads the next `n` data bytes, `before` having been read; an error naming the `expected`
/// total and the bytes found when fewer remain.
fn read_data(
    path: &Path,
    reader: &mut impl Read,
    n: usize,
    (before, expected): (usize, usize),
) -> Result<Vec<u8>> {
    // Do not trust the header for the allocation: a corrupt one could claim terabytes.
    let mut data = Vec::with_capacity(n.min(1 << 28));
    reader.take(n as u64).read_to_end(&mut data).map_err(|e| Error::io(path, e))?;
    if data.len() < n {
        return Err(Error::format(
            path,
            format!(
                "truncated NPY file: expected {expected} data bytes, found {}",
                before + data.len()
            ),
        ));
    }
    Ok(data)
}

/// Reads one NPY array from `reader`; `path` names it in errors.
pub(crate) fn read_array(path: &Path, mut reader: impl Read) -> Result<Array> {
    let h = read_header(path, &mut reader)?;
    let data = read_data(path, &mut reader, h.data_bytes, (0, h.data_bytes))?;
    let mut values = convert(&data, h.elem, h.big);
    if h.fortran {
        values = array::fortran_to_c(&h.shape, &values);
    }
    Ok(Array { shape: h.shape, values })
}

/// True when `path` is a file named `.npy` (or `.npy.gz`).
pub fn is_npy(path: &Path) -> bool {
    path.is_file() && source::inner_name(path).ends_with(".npy")
}

/// The rows of a C-order `.npy` file (raw or gzipped) read a fixed number at a time (for
/// `latent compress`): each chunk is the frame [`crate::load`] gives for those rows, so memory
/// holds one chunk however large the file. A Fortran-order array is read whole (its rows are
/// not contiguous) and handed out in chunks.
pub struct NpyChunks {
    path: PathBuf,
    reader: Box<dyn Read + Send>,
    header: Header,
    /// A Fortran-order array, read whole.
    whole: Option<Array>,
    /// Rows handed out so far.
    done: usize,
    chunk_rows: usize,
}

impl NpyChunks {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path, chunk_rows: usize) -> Result<NpyChunks> {
        let mut reader = source::open(path)?;
        let header = read_header(path, &mut reader)?;
        if header.shape.is_empty() {
            return Err(Error::format(path, "a 0-dimensional NPY array has no rows"));
        }
        let whole = if header.fortran {
            let data = read_data(path, &mut reader, header.data_bytes, (0, header.data_bytes))?;
            let values = convert(&data, header.elem, header.big);
            Some(Array {
                values: array::fortran_to_c(&header.shape, &values),
                shape: header.shape.clone(),
            })
        } else {
            None
        };
        Ok(NpyChunks {
            path: path.to_path_buf(),
            reader,
            header,
            whole,
            done: 0,
            chunk_rows: chunk_rows.max(1),
        })
    }

    fn chunk(&mut self) -> Result<Frame> {
        let total = self.header.shape[0];
        let rows = (total - self.done).min(self.chunk_rows);
        let per_row: usize = self.header.shape[1..].iter().product();
        let mut shape = self.header.shape.clone();
        shape[0] = rows;
        let values = match &self.whole {
            Some(a) => a.values[self.done * per_row..(self.done + rows) * per_row].to_vec(),
            None => {
                let row_bytes = per_row * self.header.elem.size();
                let at = (self.done * row_bytes, self.header.data_bytes);
                let data = read_data(&self.path, &mut self.reader, rows * row_bytes, at)?;
                convert(&data, self.header.elem, self.header.big)
            }
        };
        self.done += rows;
        array::array_to_frame(&self.path, &Array { shape, values }, "f0")
    }
}

impl Iterator for NpyChunks {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done >= self.header.shape[0] {
            return None;
        }
        let chunk = self.chunk();
        if chunk.is_err() {
            self.done = self.header.shape[0];
        }
        Some(chunk)
    }
}

/// Loads an `.npy` file (gunzipped when its name ends in `.gz`).
pub(crate) fn load_npy(path: &Path) -> Result<Dataset> {
    read_npy(path, source::open(path)?)
}

/// Reads an NPY array from `reader` as a data set; `path` names it in errors.
pub(crate) fn read_npy(path: &Path, reader: impl Read) -> Result<Dataset> {
    let array = read_array(path, reader)?;
    let frame = array::array_to_frame(path, &array, "f0")?;
    Ok(Dataset { frame, labels: None, ids: Vec::new(), source: path.to_path_buf() })
}

/// Maps a zip error on the archive `path`.
pub(crate) fn zip_error(path: &Path, e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(io) => Error::io(path, io),
        other => Error::format(path, format!("not a readable NPZ (zip) archive: {other}")),
    }
}

/// Reads the array stored as `entry` in the archive.
pub(crate) fn read_entry<R: Read + Seek>(
    path: &Path,
    archive: &mut zip::ZipArchive<R>,
    entry: &str,
) -> Result<(PathBuf, Array)> {
    let entry_path = path.join(entry);
    let file = archive.by_name(entry).map_err(|e| zip_error(path, e))?;
    let array = read_array(&entry_path, BufReader::new(file))?;
    Ok((entry_path, array))
}

/// Loads an `.npz` archive: features from the array named `x`, `data` or `X` (else the first
/// other array), labels from an array named `y`, `labels` or `label` when there is one.
pub(crate) fn load_npz(path: &Path) -> Result<Dataset> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_npz(path, BufReader::new(file))
}

/// Reads an NPZ archive from `reader` (see [`load_npz`]); `path` names it in errors.
pub(crate) fn read_npz<R: Read + Seek>(path: &Path, reader: R) -> Result<Dataset> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(path, e))?;
    let entries: Vec<String> = archive.file_names().map(str::to_string).collect();
    let array_name = |entry: &String| entry.strip_suffix(".npy").unwrap_or(entry).to_string();
    let find = |names: &[&str]| {
        names.iter().find_map(|n| entries.iter().find(|e| array_name(e) == *n)).cloned()
    };
    let label_entry = find(&LABEL_NAMES);
    let feature_entry = find(&FEATURE_NAMES)
        .or_else(|| entries.iter().find(|e| Some(*e) != label_entry.as_ref()).cloned())
        .or_else(|| entries.first().cloned())
        .ok_or_else(|| Error::format(path, "NPZ archive holds no arrays"))?;
    let (feature_path, features) = read_entry(path, &mut archive, &feature_entry)?;
    let rows = features.rows();
    let frame = array::array_to_frame(&feature_path, &features, "f0")?;
    let labels = match label_entry.filter(|e| *e != feature_entry) {
        None => None,
        Some(entry) => {
            let (label_path, labels) = read_entry(path, &mut archive, &entry)?;
            if labels.values.len() != rows || labels.shape.len() > 2 {
                return Err(Error::format(
                    &label_path,
                    format!("labels of shape {:?} do not match {rows} feature rows", labels.shape),
                ));
            }
            let names = ["label".to_string()];
            array::check_finite(&label_path, &labels.values, 1, &names)?;
            Some(Column::numeric("label", labels.values))
        }
    };
    Ok(Dataset { frame, labels, ids: Vec::new(), source: path.to_path_buf() })
}

/// The NPY v1.0 header for a C-order little-endian f32 array of this shape.
pub(crate) fn f32_header(shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // magic (6) + version (2) + length (2) + dict + '\n' must be a multiple of 64.
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // The dict of a 2-D shape is far below 65535 bytes.
    out.extend_from_slice(&u16::try_from(dict.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_parses() -> Result<()> {
        let mut bytes = f32_header(&[3, 2]);
        assert_eq!(bytes.len() % 64, 0);
        for v in [1f32, 2., 3., 4., 5., 6.] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let a = read_array(Path::new("m.npy"), bytes.as_slice())?;
        assert_eq!(a.shape, vec![3, 2]);
        assert_eq!(a.values, vec![1., 2., 3., 4., 5., 6.]);
        Ok(())
    }

    #[test]
    fn header_nesting_is_measured_outside_strings() {
        assert_eq!(nesting_depth(b"{'descr': '<f4', 'shape': (3, 2), }"), 2);
        assert_eq!(nesting_depth(b"{'descr': '[[[[(', 'x': \"]'\\\"[[\"}"), 1);
        assert_eq!(nesting_depth(b"(((((((]]]"), 7);
        let mut bytes = MAGIC.to_vec();
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': ([[[[[[[[[[1]]]]]]]]]],)}\n";
        bytes.extend_from_slice(&[1, 0, dict.len() as u8, 0]);
        bytes.extend_from_slice(dict.as_bytes());
        let e = read_array(Path::new("n.npy"), bytes.as_slice()).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| e.contains("nested 12 deep")), "{e:?}");
    }

    #[test]
    fn converts_big_endian_integers() {
        let data = [0u8, 0, 1, 0, 255, 255, 255, 254];
        assert_eq!(convert(&data, Elem::I32, true), vec![256., -2.]);
        assert_eq!(convert(&data[..2], Elem::U8, false), vec![0., 0.]);
    }
}
