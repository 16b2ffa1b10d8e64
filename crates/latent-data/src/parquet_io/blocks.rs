//! [`ParquetBlocks`]: a Parquet file or folder as blocks readable in any order (one row group
//! each), for training on data larger than memory ([`latent::blocks`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use latent::blocks::BlockReader;
use latent::Frame;

use super::{files_of, names_of, same_kind, Config, ParquetChunks};
use crate::error::{Error, Result};
use crate::stream::StreamOptions;

/// One row group of one file.
#[derive(Debug, Clone, Copy)]
struct Group {
    file: usize,
    group: usize,
    rows: usize,
    /// The file's row number of the group's first row.
    first_row: usize,
}

/// The row groups of a Parquet data set, each readable on its own.
#[derive(Debug)]
pub struct ParquetBlocks {
    files: Vec<PathBuf>,
    groups: Vec<Group>,
    opts: StreamOptions,
    columns: usize,
}

impl ParquetBlocks {
    /// Lists the row groups of a Parquet file or folder (reading only the files' footers),
    /// checking that every file has the first one's columns. Columns are typed as
    /// [`StreamOptions`] asks, as for [`ParquetChunks`].
    pub fn open(path: &Path, opts: &StreamOptions) -> Result<ParquetBlocks> {
        let files = files_of(path)?;
        let mut groups = Vec::new();
        let mut first_schema = None;
        for (i, f) in files.iter().enumerate() {
            let builder = builder(f)?;
            let schema = builder.schema().clone();
            match &first_schema {
                None => first_schema = Some(schema),
                Some(first) => {
                    let same = schema.fields().len() == first.fields().len()
                        && schema.fields().iter().zip(first.fields()).all(|(a, b)| {
                            a.name() == b.name() && same_kind(a.data_type(), b.data_type())
                        });
                    if !same {
                        return Err(Error::format(
                            f,
                            format!(
                                "columns differ from those of {} (every file of a folder must \
                                 have the same columns): {} vs {}",
                                files[0].display(),
                                names_of(&schema).join(", "),
                                names_of(first).join(", ")
                            ),
                        ));
                    }
                }
            }
            let mut first_row = 0;
            for (g, meta) in builder.metadata().row_groups().iter().enumerate() {
                let rows = usize::try_from(meta.num_rows()).unwrap_or(0);
                if rows > 0 {
                    groups.push(Group { file: i, group: g, rows, first_row });
                }
                first_row += rows;
            }
        }
        let columns = first_schema.map_or(0, |s| s.fields().len());
        // Checks the column roles (label, ids, types) once, before any training.
        ParquetChunks::open(&files[0], opts)?;
        Ok(ParquetBlocks { files, groups, opts: opts.clone(), columns })
    }

    /// Columns of the files (label and identifier columns included).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Rows in all files.
    pub fn rows(&self) -> usize {
        self.groups.iter().map(|g| g.rows).sum()
    }

    fn read(&self, block: usize, each: &mut dyn FnMut(Frame) -> latent::Result<()>) -> Outcome {
        let Some(g) = self.groups.get(block) else {
            return Outcome::Data(Error::format(&self.files[0], format!("no row group {block}")));
        };
        let path = &self.files[g.file];
        let reader = builder(path).and_then(|b| {
            let schema = b.schema().clone();
            let reader = b
                .with_row_groups(vec![g.group])
                .with_batch_size(self.opts.chunk_rows.max(1))
                .build()
                .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))?;
            let cfg = Config::streaming(&self.opts);
            ParquetChunks::from_reader(vec![path.clone()], schema, reader, &cfg)
        });
        let mut chunks = match reader {
            Ok(c) => c,
            Err(e) => return Outcome::Data(e),
        };
        chunks.row = g.first_row;
        for chunk in chunks {
            match chunk {
                Ok(c) => {
                    if let Err(e) = each(c.frame) {
                        return Outcome::Caller(e);
                    }
                }
                Err(e) => return Outcome::Data(e),
            }
        }
        Outcome::Done
    }
}

/// How reading a block ended.
enum Outcome {
    Done,
    /// The file could not be read.
    Data(Error),
    /// The caller's function refused a part.
    Caller(latent::Error),
}

fn builder(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))
}

impl BlockReader for ParquetBlocks {
    fn blocks(&self) -> usize {
        self.groups.len()
    }

    fn block_rows(&self, block: usize) -> usize {
        self.groups.get(block).map_or(0, |g| g.rows)
    }

    fn read_block(
        &mut self,
        block: usize,
        each: &mut dyn FnMut(Frame) -> latent::Result<()>,
    ) -> latent::Result<()> {
        match self.read(block, each) {
            Outcome::Done => Ok(()),
            Outcome::Data(e) => Err(latent::Error::Data(e.to_string())),
            Outcome::Caller(e) => Err(e),
        }
    }
}
