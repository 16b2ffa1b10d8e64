//! Parquet: a file, or a folder of `.parquet` files read as one data set (in name order), read
//! one batch of rows at a time with the Arrow project's `parquet` crate, so that streaming
//! commands (`score`, `encode`) hold one batch however large the input. Column types map as
//! described in [`convert`]; nulls are missing values. [`ParquetWriter`] writes tables.

mod blocks;
mod convert;
mod interactions;
mod write;

use std::fs::File;
use std::path::{Path, PathBuf};

use ::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use ::parquet::file::reader::ChunkReader;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use latent::{Column, Frame};

use crate::error::{Error, Result};
use crate::na::NaValues;
use crate::stream::{Chunk, StreamOptions};
use crate::{Dataset, LoadOptions};
use convert::{At, Read};

pub use blocks::ParquetBlocks;
pub(crate) use interactions::read_interactions;
pub use write::{column_types, ParquetType, ParquetWriter, ROW_GROUP_ROWS};

/// True for a path ending in `.parquet`, or a folder holding `.parquet` files.
pub fn is_parquet(path: &Path) -> bool {
    if path.is_dir() {
        return std::fs::read_dir(path).is_ok_and(|entries| {
            entries.flatten().any(|e| has_parquet_name(&e.path()) && e.path().is_file())
        });
    }
    has_parquet_name(path)
}

fn has_parquet_name(path: &Path) -> bool {
    crate::source::lower_name(path).ends_with(".parquet")
}

/// The files of a Parquet data set: the file itself, or a folder's `.parquet` files by name.
fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    let mut files = Vec::new();
    for e in entries {
        let p = e.map_err(|e| Error::io(path, e))?.path();
        if has_parquet_name(&p) && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::format(path, "folder holds no .parquet files"));
    }
    Ok(files)
}

/// The column names of a Parquet file (the first of a folder).
pub(crate) fn column_names(path: &Path) -> Result<Vec<String>> {
    let files = files_of(path)?;
    Ok(names_of(&open_file(&files[0], 1)?.0))
}

/// What a column of the input becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Feature(Read),
    Label(Read),
    Id,
}

/// Reads the row batches of one Parquet data set as [`Chunk`]s.
pub struct ParquetChunks {
    files: Vec<PathBuf>,
    /// Index in `files` of the file being read.
    file: usize,
    reader: Option<ParquetRecordBatchReader>,
    schema: SchemaRef,
    roles: Vec<Role>,
    na: NaValues,
    chunk_rows: usize,
    /// Rows of the current file read so far.
    row: usize,
    failed: bool,
}

impl std::fmt::Debug for ParquetChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetChunks").field("files", &self.files).finish_non_exhaustive()
    }
}

/// The schema and batch reader of Parquet content `reader`; `path` names it in errors.
fn open_reader<T: ChunkReader + 'static>(
    path: &Path,
    reader: T,
    chunk_rows: usize,
) -> Result<(SchemaRef, ParquetRecordBatchReader)> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(reader)
        .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(chunk_rows.max(1))
        .build()
        .map_err(|e| Error::format(path, format!("not a readable Parquet file: {e}")))?;
    Ok((schema, reader))
}

/// The schema and batch reader of one file.
fn open_file(path: &Path, chunk_rows: usize) -> Result<(SchemaRef, ParquetRecordBatchReader)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    open_reader(path, file, chunk_rows)
}

/// The column names of a schema.
fn names_of(schema: &SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

impl ParquetChunks {
    /// Opens a Parquet file or folder as a stream of chunks typed as [`StreamOptions`] asks
    /// (the label column as text; numeric types as numbers unless named categorical).
    pub fn open(path: &Path, opts: &StreamOptions) -> Result<ParquetChunks> {
        ParquetChunks::with(path, &Config::streaming(opts))
    }

    fn with(path: &Path, cfg: &Config<'_>) -> Result<ParquetChunks> {
        let files = files_of(path)?;
        let (schema, reader) = open_file(&files[0], cfg.chunk_rows)?;
        ParquetChunks::from_reader(files, schema, reader, cfg)
    }

    /// Reads Parquet content held in memory; `name` names it in errors.
    fn from_bytes(name: &Path, bytes: Vec<u8>, cfg: &Config<'_>) -> Result<ParquetChunks> {
        let (schema, reader) = open_reader(name, ::bytes::Bytes::from(bytes), cfg.chunk_rows)?;
        ParquetChunks::from_reader(vec![name.to_path_buf()], schema, reader, cfg)
    }

    fn from_reader(
        files: Vec<PathBuf>,
        schema: SchemaRef,
        reader: ParquetRecordBatchReader,
        cfg: &Config<'_>,
    ) -> Result<ParquetChunks> {
        let first = &files[0];
        let names = names_of(&schema);
        if let Some(label) = cfg.label_column.filter(|_| !cfg.label_optional) {
            crate::csv::require_column(first, &names, label, "label")?;
        }
        let mut roles = Vec::with_capacity(names.len());
        for field in schema.fields() {
            let name = field.name();
            let t = field.data_type();
            let Some(numeric) = convert::numeric_type(t) else {
                return Err(convert::unsupported(first, name, t));
            };
            let natural = if numeric { Read::Numeric } else { Read::Text };
            roles.push(if cfg.label_column == Some(name.as_str()) {
                Role::Label(if cfg.label_as_text { Read::Text } else { natural })
            } else if cfg.id_columns.contains(name) {
                Role::Id
            } else if cfg.categorical.contains(name) {
                Role::Feature(Read::Text)
            } else {
                Role::Feature(natural)
            });
        }
        Ok(ParquetChunks {
            files,
            file: 0,
            reader: Some(reader),
            schema,
            roles,
            na: NaValues::new(cfg.na_values),
            chunk_rows: cfg.chunk_rows.max(1),
            row: 0,
            failed: false,
        })
    }

    /// All column names of the input (label and identifier columns included).
    pub fn names(&self) -> Vec<String> {
        names_of(&self.schema)
    }

    /// The identifier columns read, in input order.
    pub fn id_columns(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .zip(&self.roles)
            .filter(|(_, r)| **r == Role::Id)
            .map(|(f, _)| f.name().as_str())
            .collect()
    }

    /// The label column read, when the input has it.
    pub fn label_column(&self) -> Option<&str> {
        self.schema
            .fields()
            .iter()
            .zip(&self.roles)
            .find(|(_, r)| matches!(r, Role::Label(_)))
            .map(|(f, _)| f.name().as_str())
    }

    /// The file being read.
    fn path(&self) -> &Path {
        &self.files[self.file.min(self.files.len() - 1)]
    }

    /// Moves to the next file of a folder; false after the last one.
    fn next_file(&mut self) -> Result<bool> {
        self.reader = None;
        self.file += 1;
        self.row = 0;
        let Some(path) = self.files.get(self.file) else {
            return Ok(false);
        };
        let (schema, reader) = open_file(path, self.chunk_rows)?;
        let same = schema.fields().len() == self.schema.fields().len()
            && schema
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.name() == b.name() && same_kind(a.data_type(), b.data_type()));
        if !same {
            return Err(Error::format(
                path,
                format!(
                    "columns differ from those of {} (every file of a folder must have the same \
                     columns): {} vs {}",
                    self.files[0].display(),
                    names_of(&schema).join(", "),
                    names_of(&self.schema).join(", ")
                ),
            ));
        }
        self.reader = Some(reader);
        Ok(true)
    }

    /// The next batch of rows, `None` at the end.
    fn next_batch(&mut self) -> Result<Option<Chunk>> {
        loop {
            let Some(reader) = self.reader.as_mut() else {
                return Ok(None);
            };
            match reader.next() {
                Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                Some(Ok(batch)) => return self.convert(&batch).map(Some),
                Some(Err(e)) => {
                    return Err(Error::format(self.path(), format!("cannot read rows: {e}")))
                }
                None => {
                    if !self.next_file()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// One batch as a chunk.
    fn convert(&mut self, batch: &RecordBatch) -> Result<Chunk> {
        let path = self.files[self.file].clone();
        let mut features = Vec::new();
        let mut labels = None;
        let mut ids = Vec::new();
        for ((field, role), array) in
            self.schema.fields().iter().zip(&self.roles).zip(batch.columns())
        {
            let at = At { path: &path, column: field.name(), first_row: self.row };
            let read = match role {
                Role::Feature(r) | Role::Label(r) => *r,
                Role::Id => Read::Text,
            };
            let column = read_column(array.as_ref(), field.name(), read, &self.na, &at)?;
            match role {
                Role::Feature(_) => features.push(column),
                Role::Label(_) => labels = Some(column),
                Role::Id => ids.push(column),
            }
        }
        let first_line = self.row as u64 + 1;
        self.row += batch.num_rows();
        if features.is_empty() {
            return Err(Error::format(
                &path,
                "no feature columns besides the label and id columns",
            ));
        }
        let frame = Frame::new(features).map_err(|e| Error::frame(&path, e))?;
        Ok(Chunk { frame, labels, ids, first_line })
    }
}

/// Whether two column types read the same way (a folder's files may differ in integer width).
fn same_kind(a: &DataType, b: &DataType) -> bool {
    convert::numeric_type(a) == convert::numeric_type(b)
}

/// One array as a column.
fn read_column(
    a: &dyn Array,
    name: &str,
    read: Read,
    na: &NaValues,
    at: &At<'_>,
) -> Result<Column> {
    Ok(match read {
        Read::Numeric => {
            let mut v = Vec::with_capacity(a.len());
            convert::push_numbers(a, &mut v, at)?;
            Column::numeric(name, v)
        }
        Read::Text => {
            let mut v = Vec::with_capacity(a.len());
            convert::push_texts(a, &mut v, na, at)?;
            Column::text(name, v)
        }
    })
}

impl Iterator for ParquetChunks {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_batch().transpose();
        if matches!(next, Some(Err(_))) {
            self.failed = true;
        }
        next
    }
}

/// How to read a data set, whole or streamed.
struct Config<'a> {
    categorical: &'a [String],
    label_column: Option<&'a str>,
    label_optional: bool,
    id_columns: &'a [String],
    na_values: &'a [String],
    chunk_rows: usize,
    label_as_text: bool,
}

impl<'a> Config<'a> {
    /// Streamed reading as `opts` asks (the label column as text).
    fn streaming(opts: &'a StreamOptions) -> Self {
        Config {
            categorical: &opts.categorical,
            label_column: opts.label_column.as_deref(),
            label_optional: opts.label_optional,
            id_columns: &opts.id_columns,
            na_values: &opts.na_values,
            chunk_rows: opts.chunk_rows,
            label_as_text: true,
        }
    }
}

/// Rows per batch when loading a whole data set.
const LOAD_BATCH_ROWS: usize = 65_536;

/// Loads a whole Parquet file or folder (see [`crate::load`]).
pub(crate) fn load_parquet(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let cfg = Config {
        categorical: &opts.categorical,
        label_column: opts.label_column.as_deref(),
        label_optional: opts.label_optional,
        id_columns: &opts.id_columns,
        na_values: &opts.na_values,
        chunk_rows: LOAD_BATCH_ROWS,
        label_as_text: false,
    };
    collect(path, ParquetChunks::with(path, &cfg)?, opts)
}

/// Loads Parquet content held in memory (see [`crate::load_bytes`]).
pub(crate) fn read_parquet(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Dataset> {
    let cfg = Config {
        categorical: &opts.categorical,
        label_column: opts.label_column.as_deref(),
        label_optional: opts.label_optional,
        id_columns: &opts.id_columns,
        na_values: &opts.na_values,
        chunk_rows: LOAD_BATCH_ROWS,
        label_as_text: false,
    };
    collect(name, ParquetChunks::from_bytes(name, bytes.to_vec(), &cfg)?, opts)
}

/// All the chunks as one data set.
fn collect(path: &Path, mut chunks: ParquetChunks, opts: &LoadOptions) -> Result<Dataset> {
    let names = chunks.names();
    for name in &opts.categorical {
        crate::csv::require_column(path, &names, name, "categorical")?;
    }
    let Some(first) = chunks.next().transpose()? else {
        return Err(Error::format(path, "no data rows"));
    };
    let Chunk { frame, mut labels, mut ids, .. } = first;
    let mut columns = frame.columns().to_vec();
    for chunk in chunks {
        let chunk = chunk?;
        for (c, more) in columns.iter_mut().zip(chunk.frame.columns()) {
            append(c, more);
        }
        if let (Some(l), Some(more)) = (labels.as_mut(), chunk.labels.as_ref()) {
            append(l, more);
        }
        for (c, more) in ids.iter_mut().zip(&chunk.ids) {
            append(c, more);
        }
    }
    let frame = Frame::new(columns).map_err(|e| Error::frame(path, e))?;
    Ok(Dataset { frame, labels, ids, source: path.to_path_buf() })
}

/// Appends `more`'s cells to `c` (both of the same kind, as every batch of a column is).
fn append(c: &mut Column, more: &Column) {
    use latent::ColumnValues as V;
    match (&mut c.values, &more.values) {
        (V::Numeric(a), V::Numeric(b)) => a.extend_from_slice(b),
        (V::Text(a), V::Text(b)) => a.extend_from_slice(b),
        (a, b) => {
            // A folder's files may type a column differently (int in one, string in another):
            // both become text.
            let mut text: Vec<String> = (0..a.len()).map(|i| a.cell_text(i)).collect();
            text.extend((0..b.len()).map(|i| b.cell_text(i)));
            *a = V::Text(text);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
