//! Training on data larger than memory: a [`BlockReader`] reads a data set one block at a time
//! in any order (the row groups of Parquet files), and [`BlockSource`] turns it into the
//! training loop's [`RowSource`]. Each epoch visits the blocks in a fresh seeded order and
//! shuffles rows within a bounded buffer, so memory holds the buffer, one block being read and
//! the validation rows, however large the data.

use crate::model::permute_rows;
use crate::preprocess::Preprocessor;
use crate::rows::RowSource;
use crate::train::DataFingerprint;
use crate::{Error, Frame, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A data set read one block at a time, in any order.
pub trait BlockReader {
    /// Number of blocks.
    fn blocks(&self) -> usize;
    /// Rows of block `block`.
    fn block_rows(&self, block: usize) -> usize;
    /// Reads block `block`, handing its feature columns to `each` in one or more consecutive
    /// parts (so that a large block need not be held whole).
    fn read_block(&mut self, block: usize, each: &mut dyn FnMut(Frame) -> Result<()>)
        -> Result<()>;
}

/// The first row of every block, in the data set's order, and the total as the last entry.
pub fn block_starts(reader: &dyn BlockReader) -> Vec<usize> {
    let mut starts = Vec::with_capacity(reader.blocks() + 1);
    let mut row = 0;
    starts.push(0);
    for b in 0..reader.blocks() {
        row += reader.block_rows(b);
        starts.push(row);
    }
    starts
}

/// Reads every block in order, handing each part to `each` with the data-set row of its first
/// row.
pub fn for_each_part(
    reader: &mut dyn BlockReader,
    each: &mut dyn FnMut(usize, Frame) -> Result<()>,
) -> Result<()> {
    let starts = block_starts(reader);
    for (b, &start) in starts.iter().take(reader.blocks()).enumerate() {
        let mut row = start;
        reader.read_block(b, &mut |part| {
            let rows = part.rows();
            each(row, part)?;
            row += rows;
            Ok(())
        })?;
    }
    Ok(())
}

/// The training rows of a [`BlockReader`], preprocessed as they are read, with the validation
/// rows (chosen by data-set row number) held apart in memory.
pub struct BlockSource<'a> {
    reader: &'a mut dyn BlockReader,
    preprocess: &'a Preprocessor,
    perm: Option<&'a [usize]>,
    width: usize,
    /// First data-set row of each block, then the total.
    starts: Vec<usize>,
    /// Validation rows by data-set row number, ascending.
    val_rows: Vec<usize>,
    val_data: Vec<f32>,
    fingerprint: DataFingerprint,
    /// Rows gathered before a shuffle (at least one batch).
    capacity: usize,
    /// This epoch's block order, and how many of them have been read.
    order: Vec<usize>,
    read: usize,
    /// Preprocessed rows waiting to be handed out, from row `taken` on.
    buffer: Vec<f32>,
    taken: usize,
}

impl<'a> BlockSource<'a> {
    /// A source over `reader`'s rows but those in `val_rows` (ascending data-set row numbers),
    /// whose preprocessed values are `val_data`; rows are shuffled `capacity` at a time.
    /// `fingerprint` identifies the data for checkpoints.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        reader: &'a mut dyn BlockReader,
        preprocess: &'a Preprocessor,
        perm: Option<&'a [usize]>,
        val_rows: Vec<usize>,
        val_data: Vec<f32>,
        fingerprint: DataFingerprint,
        capacity: usize,
    ) -> Self {
        let starts = block_starts(reader);
        let width = preprocess.output_width();
        let capacity = capacity.max(1);
        // Blocks are read whole until the buffer holds `capacity` rows: it never needs more
        // than one block beyond that, and is allocated once.
        let largest = (0..reader.blocks()).map(|b| reader.block_rows(b)).max().unwrap_or(0);
        let buffer = Vec::with_capacity((capacity + largest) * width);
        BlockSource {
            reader,
            preprocess,
            perm,
            width,
            starts,
            val_rows,
            val_data,
            fingerprint,
            capacity,
            order: Vec::new(),
            read: 0,
            buffer,
            taken: 0,
        }
    }

    fn buffered_rows(&self) -> usize {
        self.buffer.len() / self.width - self.taken
    }

    /// Reads the epoch's next blocks until the buffer holds `capacity` rows (or the blocks
    /// run out), then shuffles what it holds.
    fn refill(&mut self, rng: &mut ChaCha8Rng) -> Result<()> {
        let w = self.width;
        self.buffer.drain(..self.taken * w);
        self.taken = 0;
        while self.buffer.len() / w < self.capacity && self.read < self.order.len() {
            let block = self.order[self.read];
            self.read += 1;
            let (preprocess, perm, val) = (self.preprocess, self.perm, &self.val_rows);
            let buffer = &mut self.buffer;
            let mut row = self.starts[block];
            self.reader.read_block(block, &mut |part| {
                let first = row;
                row += part.rows();
                append_part(buffer, preprocess, perm, &part, first, val)
            })?;
        }
        shuffle_rows(&mut self.buffer, w, rng);
        Ok(())
    }
}

/// Preprocesses `part` (whose first row is data-set row `first`) and appends its rows that are
/// not validation rows to `buffer`.
fn append_part(
    buffer: &mut Vec<f32>,
    preprocess: &Preprocessor,
    perm: Option<&[usize]>,
    part: &Frame,
    first: usize,
    val_rows: &[usize],
) -> Result<()> {
    let values = preprocess.transform(part).map_err(|e| shift_rows(e, first))?;
    let values = match perm {
        Some(p) => permute_rows(&values, p),
        None => values,
    };
    let w = preprocess.output_width();
    let end = first + part.rows();
    let lo = val_rows.partition_point(|&r| r < first);
    let hi = val_rows.partition_point(|&r| r < end);
    let mut skip = val_rows[lo..hi].iter().map(|r| r - first).peekable();
    for (i, row) in values.chunks_exact(w).enumerate() {
        if skip.peek() == Some(&i) {
            skip.next();
            continue;
        }
        buffer.extend_from_slice(row);
    }
    Ok(())
}

/// An error about row `r` of a part is about data-set row `first + r`.
fn shift_rows(e: Error, first: usize) -> Error {
    match e {
        Error::Missing { row, column } => Error::Missing { row: first + row, column },
        other => other,
    }
}

/// Fisher-Yates over the rows of a row-major buffer.
fn shuffle_rows(buffer: &mut [f32], width: usize, rng: &mut ChaCha8Rng) {
    let rows = buffer.len() / width;
    for i in (1..rows).rev() {
        let j = rng.random_range(0..=i);
        if i != j {
            let (head, tail) = buffer.split_at_mut(i * width);
            head[j * width..(j + 1) * width].swap_with_slice(&mut tail[..width]);
        }
    }
}

impl RowSource for BlockSource<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn train_rows(&self) -> usize {
        self.starts.last().copied().unwrap_or(0) - self.val_rows.len()
    }

    fn validation(&self) -> &[f32] {
        &self.val_data
    }

    fn fingerprint(&self) -> DataFingerprint {
        self.fingerprint
    }

    fn orders(&self) -> (Vec<usize>, Vec<usize>) {
        (Vec::new(), Vec::new())
    }

    fn start_epoch(&mut self, rng: &mut ChaCha8Rng) -> Result<()> {
        self.order = (0..self.reader.blocks()).collect();
        self.order.shuffle(rng);
        self.read = 0;
        self.buffer.clear();
        self.taken = 0;
        Ok(())
    }

    fn next_batch(&mut self, buf: &mut [f32], rng: &mut ChaCha8Rng) -> Result<usize> {
        let w = self.width;
        let want = buf.len() / w;
        if self.buffered_rows() < want && self.read < self.order.len() {
            self.refill(rng)?;
        }
        let n = want.min(self.buffered_rows());
        let from = self.taken * w;
        buf[..n * w].copy_from_slice(&self.buffer[from..from + n * w]);
        self.taken += n;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::{PreprocessConfig, Scaling};
    use crate::frame::Column;
    use rand::SeedableRng;

    /// Blocks of 7, 1, 10 and 5 rows; row r holds the value r, delivered in parts of 4.
    struct Counting {
        sizes: Vec<usize>,
    }

    impl BlockReader for Counting {
        fn blocks(&self) -> usize {
            self.sizes.len()
        }
        fn block_rows(&self, block: usize) -> usize {
            self.sizes[block]
        }
        fn read_block(
            &mut self,
            block: usize,
            each: &mut dyn FnMut(Frame) -> Result<()>,
        ) -> Result<()> {
            let start: usize = self.sizes[..block].iter().sum();
            let rows: Vec<f32> = (start..start + self.sizes[block]).map(|r| r as f32).collect();
            for part in rows.chunks(4) {
                each(Frame::new(vec![Column::numeric("x", part.to_vec())])?)?;
            }
            Ok(())
        }
    }

    #[test]
    fn every_training_row_comes_once_per_epoch_and_validation_rows_never() -> Result<()> {
        let mut reader = Counting { sizes: vec![7, 1, 10, 5] };
        let cfg = PreprocessConfig { scaling: Scaling::None, ..PreprocessConfig::default() };
        let mut fit = crate::preprocess_fit::PreprocessFit::new(&cfg);
        for_each_part(&mut reader, &mut |_, part| fit.add(&part))?;
        let (p, _) = fit.finish()?;
        let val = vec![2, 8, 22];
        let fp = DataFingerprint { rows: 23, width: 1, hash: 0 };
        let mut source = BlockSource::new(&mut reader, &p, None, val, vec![2.0, 8.0, 22.0], fp, 6);
        assert_eq!(source.train_rows(), 20);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut orders = Vec::new();
        for _ in 0..2 {
            source.start_epoch(&mut rng)?;
            let mut buf = vec![0.0; 4];
            let mut seen = Vec::new();
            loop {
                let n = source.next_batch(&mut buf, &mut rng)?;
                if n == 0 {
                    break;
                }
                seen.extend(buf[..n].iter().map(|&v| v as usize));
            }
            orders.push(seen.clone());
            seen.sort_unstable();
            let expected: Vec<usize> = (0..23).filter(|r| ![2, 8, 22].contains(r)).collect();
            assert_eq!(seen, expected);
        }
        assert_ne!(orders[0], orders[1], "each epoch has its own order");
        Ok(())
    }
}
