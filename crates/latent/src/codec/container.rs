//! The `.lat` file: a compressed data set, decodable only with the model that wrote it.
//!
//! Layout (integers little-endian; varints are LEB128):
//!
//! | bytes | field |
//! | --- | --- |
//! | 3 | magic `LAT` |
//! | 1 | format version ([`FORMAT_VERSION`]) |
//! | 8 | model fingerprint: the first bytes of [`super::fingerprint`] |
//! | 1 | what was compressed ([`FileKind`]) |
//! | varint | rows |
//! | varint | code width |
//! | varint | rows per block (the last block may hold fewer) |
//!
//! then one record per block: a varint payload length, a 4-byte check (the first bytes of
//! SHA-256 over the header, the block's index as 8 bytes and the payload: corruption, a
//! truncated or reordered block is an error, not garbage) and the payload of
//! [`super::Codec::encode_block`]. Each block decodes on its own. The header is kept small
//! because a file per image is the common case for small images.

use super::{Codec, FINGERPRINT_BYTES};
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The first bytes of every `.lat` file.
pub const MAGIC: &[u8; 3] = b"LAT";
/// The `.lat` format version this latent writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Most values (rows x code width) one block may hold.
pub const MAX_BLOCK_VALUES: u64 = 1 << 22;
/// Bytes of a block's check.
const CHECK_BYTES: usize = 4;

/// What kind of file was compressed (decompression writes the same kind by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Rows of a table (CSV or other delimited text).
    Table = 0,
    /// A NumPy array.
    Npy = 1,
    /// MNIST IDX images.
    Idx = 2,
    /// A folder of images.
    Images = 3,
}

impl FileKind {
    fn from_byte(b: u8) -> Option<FileKind> {
        [FileKind::Table, FileKind::Npy, FileKind::Idx, FileKind::Images]
            .into_iter()
            .find(|k| *k as u8 == b)
    }
}

/// The header of a `.lat` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatHeader {
    /// Format version.
    pub version: u8,
    /// The first bytes of the fingerprint of the model that wrote the file.
    pub fingerprint: [u8; FINGERPRINT_BYTES],
    /// What was compressed.
    pub kind: FileKind,
    /// Number of rows (images).
    pub rows: u64,
    /// Code width.
    pub width: u64,
    /// Rows per block.
    pub block_rows: u64,
}

impl LatHeader {
    /// Number of blocks.
    pub fn blocks(&self) -> u64 {
        self.rows.div_ceil(self.block_rows.max(1))
    }

    /// The header's bytes as written at the start of the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(self.version);
        out.extend_from_slice(&self.fingerprint);
        out.push(self.kind as u8);
        for v in [self.rows, self.width, self.block_rows] {
            put_varint(&mut out, v);
        }
        out
    }
}

/// Writes `levels` (quantised codes, `rows x codec.width()`) as a `.lat` file in blocks of
/// `block_rows` rows.
pub fn write(codec: &Codec, kind: FileKind, levels: &[i32], block_rows: usize) -> Result<Vec<u8>> {
    let width = codec.width();
    if width == 0 || levels.len() % width != 0 {
        return Err(Error::Data(format!("codes do not have width {width}")));
    }
    let block_rows = block_rows.clamp(1, (MAX_BLOCK_VALUES as usize / width).max(1));
    let mut fingerprint = [0; FINGERPRINT_BYTES];
    fingerprint.copy_from_slice(&codec.fingerprint()[..FINGERPRINT_BYTES]);
    let header = LatHeader {
        version: FORMAT_VERSION,
        fingerprint,
        kind,
        rows: (levels.len() / width) as u64,
        width: width as u64,
        block_rows: block_rows as u64,
    };
    let head = header.to_bytes();
    let mut out = head.clone();
    for (i, block) in levels.chunks(block_rows * width).enumerate() {
        let payload = codec.encode_block(block)?;
        put_varint(&mut out, payload.len() as u64);
        out.extend_from_slice(&check(&head, i as u64, &payload));
        out.extend_from_slice(&payload);
    }
    Ok(out)
}

/// Reads the header of a `.lat` file (`path` names it in errors), returning it and where the
/// blocks start.
pub fn read_header(path: &Path, bytes: &[u8]) -> Result<(LatHeader, usize)> {
    let bad = |m: String| lat_error(path, m);
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a latent compressed file (.lat): wrong magic bytes".into()));
    }
    let version = *bytes.get(3).ok_or_else(|| bad("truncated header".into()))?;
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            ".lat format version {version} is not supported by this latent (it reads version \
             {FORMAT_VERSION})"
        )));
    }
    let fp_end = 4 + FINGERPRINT_BYTES;
    let mut fingerprint = [0; FINGERPRINT_BYTES];
    fingerprint
        .copy_from_slice(bytes.get(4..fp_end).ok_or_else(|| bad("truncated header".into()))?);
    let kind_byte = *bytes.get(fp_end).ok_or_else(|| bad("truncated header".into()))?;
    let kind = FileKind::from_byte(kind_byte)
        .ok_or_else(|| bad(format!("unknown kind of data {kind_byte} in the header")))?;
    let mut pos = fp_end + 1;
    let mut next = || get_varint(bytes, &mut pos).map_err(|e| bad(format!("header: {e}")));
    let (rows, width, block_rows) = (next()?, next()?, next()?);
    let header = LatHeader { version, fingerprint, kind, rows, width, block_rows };
    if width == 0 || block_rows == 0 || block_rows.saturating_mul(width) > MAX_BLOCK_VALUES {
        return Err(bad(format!(
            "corrupt header: {block_rows} rows per block of code width {width}"
        )));
    }
    Ok((header, pos))
}

/// Reads a whole `.lat` file with the codec of the model that wrote it: the header and the
/// quantised codes (`rows x width`, row-major). Any mismatch, truncation or corruption is an
/// error naming `path`.
pub fn read(path: &Path, bytes: &[u8], codec: &Codec) -> Result<(LatHeader, Vec<i32>)> {
    let bad = |m: String| lat_error(path, m);
    let (header, mut pos) = read_header(path, bytes)?;
    if header.fingerprint[..] != codec.fingerprint()[..FINGERPRINT_BYTES] {
        return Err(bad(format!(
            "was compressed with another model (fingerprint {}, this model's is {}); give the \
             model that compressed it",
            hex(&header.fingerprint),
            hex(&codec.fingerprint()[..FINGERPRINT_BYTES])
        )));
    }
    if header.width != codec.width() as u64 {
        return Err(bad(format!(
            "holds codes of width {}, the model's code has width {}",
            header.width,
            codec.width()
        )));
    }
    // Every block takes at least a length byte, its check and an escape count.
    let min_block = (2 + CHECK_BYTES) as u64;
    if header.blocks() > (bytes.len() - pos) as u64 / min_block {
        return Err(bad(format!(
            "truncated: the header announces {} rows in {} blocks, the file is too short",
            header.rows,
            header.blocks()
        )));
    }
    let head = bytes[..pos].to_vec();
    let mut out = Vec::new();
    for b in 0..header.blocks() {
        let rows = header.block_rows.min(header.rows - b * header.block_rows);
        let len = get_varint(bytes, &mut pos).map_err(|e| bad(format!("block {b}: {e}")))?;
        let end = pos
            .checked_add(CHECK_BYTES)
            .and_then(|p| usize::try_from(len).ok().and_then(|l| p.checked_add(l)))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad(format!("truncated in block {b} of {}", header.blocks())))?;
        let stored = &bytes[pos..pos + CHECK_BYTES];
        let payload = &bytes[pos + CHECK_BYTES..end];
        if stored != check(&head, b, payload) {
            return Err(bad(format!("block {b} is corrupt (its check does not match)")));
        }
        let count = (rows * header.width) as usize;
        let levels =
            codec.decode_block(payload, count).map_err(|e| bad(format!("block {b}: {e}")))?;
        out.extend_from_slice(&levels);
        pos = end;
    }
    if pos != bytes.len() {
        return Err(bad(format!("{} unexpected bytes after the last block", bytes.len() - pos)));
    }
    Ok((header, out))
}

/// A block's check: the first bytes of SHA-256 over the header, its index and its payload.
pub(crate) fn check(head: &[u8], index: u64, payload: &[u8]) -> [u8; CHECK_BYTES] {
    let mut h = Sha256::new();
    h.update(head);
    h.update(index.to_le_bytes());
    h.update(payload);
    let digest = h.finalize();
    let mut out = [0; CHECK_BYTES];
    out.copy_from_slice(&digest[..CHECK_BYTES]);
    out
}

fn lat_error(path: &Path, message: String) -> Error {
    Error::Compressed { path: path.to_path_buf(), message }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `v` as an LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an LEB128 varint at `*pos`, advancing it.
pub(crate) fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos).ok_or("truncated (a number runs past the end)")?;
        *pos += 1;
        let part = u64::from(b & 0x7f);
        if shift == 63 && part > 1 {
            return Err("a number overflows 64 bits".into());
        }
        v |= part << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a number overflows 64 bits".into())
}

/// Reads an LEB128 varint from a reader.
pub(crate) fn get_varint_from(r: &mut impl std::io::Read) -> std::io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        v |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(std::io::Error::other("a number overflows 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::super::CodecTables;
    use super::*;

    fn codec(fp: u8) -> Codec {
        let levels: Vec<i32> = (0..2000).map(|i| ((i * 13) % 9) - 4).collect();
        Codec::from_tables(CodecTables::fit(&levels, 4, 0.1).unwrap(), 4, [fp; 32]).unwrap()
    }

    fn levels() -> Vec<i32> {
        (0..4 * 37).map(|i| ((i * 7) % 11) - 5).collect()
    }

    #[test]
    fn files_round_trip() {
        let c = codec(1);
        for block_rows in [1, 5, 64] {
            let bytes = write(&c, FileKind::Table, &levels(), block_rows).unwrap();
            let (h, back) = read(Path::new("x.lat"), &bytes, &c).unwrap();
            assert_eq!(back, levels());
            assert_eq!((h.rows, h.width, h.kind), (37, 4, FileKind::Table));
        }
        let empty = write(&c, FileKind::Npy, &[], 8).unwrap();
        assert_eq!(read(Path::new("x.lat"), &empty, &c).unwrap().1, Vec::<i32>::new());
    }

    #[test]
    fn broken_files_are_clear_errors() {
        let c = codec(1);
        let bytes = write(&c, FileKind::Idx, &levels(), 8).unwrap();
        let p = Path::new("x.lat");
        let msg = |b: &[u8], c: &Codec| read(p, b, c).unwrap_err().to_string();
        assert!(msg(&bytes, &codec(2)).contains("another model"), "{}", msg(&bytes, &codec(2)));
        assert!(msg(b"PK\x03\x04", &c).contains("not a latent compressed file"));
        let mut v = bytes.clone();
        v[3] = 9;
        assert!(msg(&v, &c).contains("version 9 is not supported"));
        for cut in 0..bytes.len() {
            assert!(read(p, &bytes[..cut], &c).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut v = bytes.clone();
                v[i] ^= bit;
                assert!(read(p, &v, &c).is_err(), "flip at {i}");
            }
        }
        let mut v = bytes.clone();
        v.push(0);
        assert!(msg(&v, &c).contains("unexpected bytes"));
    }

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut pos = 0;
            assert_eq!(get_varint(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
        assert!(get_varint(&[0xff; 11], &mut 0).is_err());
    }
}
