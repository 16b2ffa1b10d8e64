//! Writing a `.lat` file from rows that arrive in pieces, in constant memory.
//!
//! A `.lat` header holds the number of rows, and every block's check covers the header, so a
//! block cannot take its final form before the last row is known. [`StreamWriter`] therefore
//! codes each block as soon as it is full and appends it to a *spool* (any [`Write`], a
//! temporary file in practice) as `varint length, payload`; [`StreamWriter::finish`] then
//! writes the header and copies the blocks from the spool one at a time, adding their checks.
//! Memory holds at most one block of codes and one payload, however many rows go through; the
//! file is byte for byte the one [`super::write`] makes of the same rows and block size.

use super::container::{self, get_varint_from, LatHeader};
use super::{Codec, FileKind, FINGERPRINT_BYTES};
use crate::{Error, Result};
use std::io::{Read, Seek, SeekFrom, Write};

/// Codes quantised rows block by block into a spool; see the module docs.
#[derive(Debug)]
pub struct StreamWriter<'a> {
    codec: &'a Codec,
    kind: FileKind,
    block_rows: usize,
    pending: Vec<i32>,
    rows: u64,
    blocks: u64,
}

impl<'a> StreamWriter<'a> {
    /// A writer of blocks of `block_rows` rows (clamped as [`super::write`] clamps it).
    pub fn new(codec: &'a Codec, kind: FileKind, block_rows: usize) -> StreamWriter<'a> {
        let width = codec.width().max(1);
        let block_rows = block_rows.clamp(1, (container::MAX_BLOCK_VALUES as usize / width).max(1));
        StreamWriter { codec, kind, block_rows, pending: Vec::new(), rows: 0, blocks: 0 }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds whole rows of quantised codes; every block they fill is coded and appended to
    /// `spool`.
    pub fn push(&mut self, levels: &[i32], spool: &mut impl Write) -> Result<()> {
        let width = self.codec.width();
        if width == 0 || levels.len() % width != 0 {
            return Err(Error::Data(format!("codes do not have width {width}")));
        }
        self.rows += (levels.len() / width) as u64;
        let block = self.block_rows * width;
        let mut rest = levels;
        while !rest.is_empty() {
            let take = (block - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == block {
                self.flush(spool)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, spool: &mut impl Write) -> Result<()> {
        let payload = self.codec.encode_block(&self.pending)?;
        let mut record = Vec::with_capacity(payload.len() + 10);
        container::put_varint(&mut record, payload.len() as u64);
        record.extend_from_slice(&payload);
        spool.write_all(&record).map_err(spool_error)?;
        self.pending.clear();
        self.blocks += 1;
        Ok(())
    }

    /// Codes the last, partial block, then writes the file to `out`: the header, and each
    /// block read back from `spool` (which started empty: it is rewound to its start) with
    /// its check.
    pub fn finish(
        mut self,
        spool: &mut (impl Write + Read + Seek),
        out: &mut impl Write,
    ) -> Result<LatHeader> {
        if !self.pending.is_empty() {
            self.flush(spool)?;
        }
        spool.flush().map_err(spool_error)?;
        spool.seek(SeekFrom::Start(0)).map_err(spool_error)?;
        let mut fingerprint = [0; FINGERPRINT_BYTES];
        fingerprint.copy_from_slice(&self.codec.fingerprint()[..FINGERPRINT_BYTES]);
        let header = LatHeader {
            version: container::FORMAT_VERSION,
            fingerprint,
            kind: self.kind,
            rows: self.rows,
            width: self.codec.width() as u64,
            block_rows: self.block_rows as u64,
        };
        let head = header.to_bytes();
        out.write_all(&head).map_err(out_error)?;
        let mut payload = Vec::new();
        for i in 0..self.blocks {
            let len = get_varint_from(spool).map_err(spool_error)?;
            payload.resize(usize::try_from(len).map_err(|_| Error::Data("spool".into()))?, 0);
            spool.read_exact(&mut payload).map_err(spool_error)?;
            let mut record = Vec::with_capacity(payload.len() + 14);
            container::put_varint(&mut record, len);
            record.extend_from_slice(&container::check(&head, i, &payload));
            record.extend_from_slice(&payload);
            out.write_all(&record).map_err(out_error)?;
        }
        out.flush().map_err(out_error)?;
        Ok(header)
    }
}

fn spool_error(e: std::io::Error) -> Error {
    Error::Data(format!("the temporary file of coded blocks failed: {e}"))
}

fn out_error(e: std::io::Error) -> Error {
    Error::Data(format!("writing the compressed file failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::CodecTables;
    use super::*;
    use std::io::Cursor;

    #[test]
    fn streamed_files_equal_whole_ones() {
        let fit: Vec<i32> = (0..2000).map(|i| ((i * 13) % 9) - 4).collect();
        let codec =
            Codec::from_tables(CodecTables::fit(&fit, 4, 0.1).unwrap(), 4, [3; 32]).unwrap();
        let levels: Vec<i32> = (0..4 * 101).map(|i| ((i * 7) % 11) - 5).collect();
        for block_rows in [1, 7, 64, 500] {
            let whole = super::super::write(&codec, FileKind::Table, &levels, block_rows).unwrap();
            for piece_rows in [1, 3, 50, 200] {
                let mut w = StreamWriter::new(&codec, FileKind::Table, block_rows);
                let mut spool = Cursor::new(Vec::new());
                for piece in levels.chunks(piece_rows * 4) {
                    w.push(piece, &mut spool).unwrap();
                }
                assert_eq!(w.rows(), 101);
                let mut out = Vec::new();
                let header = w.finish(&mut spool, &mut out).unwrap();
                assert_eq!(header.rows, 101);
                assert_eq!(out, whole, "blocks of {block_rows}, pieces of {piece_rows}");
            }
        }
        let w = StreamWriter::new(&codec, FileKind::Npy, 8);
        let mut out = Vec::new();
        w.finish(&mut Cursor::new(Vec::new()), &mut out).unwrap();
        assert_eq!(out, super::super::write(&codec, FileKind::Npy, &[], 8).unwrap());
        let mut w = StreamWriter::new(&codec, FileKind::Npy, 8);
        assert!(w.push(&[1, 2, 3], &mut Vec::new()).is_err());
    }
}
