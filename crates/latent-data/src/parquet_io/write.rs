//! Writing tables as Parquet, one batch at a time (snappy-compressed row groups of at most
//! [`ROW_GROUP_ROWS`] rows, so memory stays bounded however many rows are written).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::properties::WriterProperties;
use arrow_array::{ArrayRef, BooleanArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use latent::{Column, ColumnValues};

use crate::atomic::AtomicFile;
use crate::error::{Error, Result};

/// Rows per row group written.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The Parquet type of a written column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetType {
    /// 32-bit floats; NaN is written as null.
    Float32,
    /// 64-bit integers (from whole numbers); NaN is written as null.
    Int64,
    /// Booleans (from 0/1); NaN is written as null.
    Boolean,
    /// UTF-8 strings; an empty cell is written as null.
    Text,
}

impl ParquetType {
    /// The type a table column is written as: `float` for numbers, strings for text.
    pub fn of(column: &Column) -> ParquetType {
        match column.values {
            ColumnValues::Numeric(_) => ParquetType::Float32,
            ColumnValues::Text(_) => ParquetType::Text,
        }
    }
}

/// Each column's name and the type it is written as ([`ParquetType::of`]), for
/// [`ParquetWriter::create`].
pub fn column_types<'c>(
    columns: impl IntoIterator<Item = &'c Column>,
) -> Vec<(String, ParquetType)> {
    columns.into_iter().map(|c| (c.name.clone(), ParquetType::of(c))).collect()
}

/// A Parquet file being written batch by batch; it appears at its path (atomically) only when
/// [`ParquetWriter::finish`] succeeds.
pub struct ParquetWriter {
    writer: ArrowWriter<AtomicFile>,
    schema: SchemaRef,
    types: Vec<ParquetType>,
    path: PathBuf,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl ParquetWriter {
    /// Starts a file at `path` with these columns.
    pub fn create(path: &Path, columns: &[(String, ParquetType)]) -> Result<ParquetWriter> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, t)| {
                let dt = match t {
                    ParquetType::Float32 => DataType::Float32,
                    ParquetType::Int64 => DataType::Int64,
                    ParquetType::Boolean => DataType::Boolean,
                    ParquetType::Text => DataType::Utf8,
                };
                Field::new(name, dt, true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let file = AtomicFile::create(path)?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| Error::internal(path, format!("Parquet writer: {e}")))?;
        Ok(ParquetWriter {
            writer,
            schema,
            types: columns.iter().map(|c| c.1).collect(),
            path: path.to_path_buf(),
        })
    }

    /// Appends rows: one column per declared column, in order, all of one length.
    pub fn write(&mut self, columns: &[&Column]) -> Result<()> {
        if columns.len() != self.types.len() {
            return Err(Error::internal(
                &self.path,
                format!("{} columns written to a file of {}", columns.len(), self.types.len()),
            ));
        }
        let arrays: Vec<ArrayRef> =
            columns.iter().zip(&self.types).map(|(c, t)| to_array(c, *t)).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| Error::internal(&self.path, format!("Parquet batch: {e}")))?;
        self.writer.write(&batch).map_err(|e| self.write_error(e))
    }

    fn write_error(&self, e: ::parquet::errors::ParquetError) -> Error {
        match e {
            ::parquet::errors::ParquetError::External(inner) => {
                Error::io(&self.path, std::io::Error::other(inner))
            }
            other => Error::io(&self.path, std::io::Error::other(other.to_string())),
        }
    }

    /// Writes the footer and moves the file into place.
    pub fn finish(self) -> Result<()> {
        // `into_inner` flushes the last row group and writes the footer.
        let path = self.path.clone();
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&path, std::io::Error::other(e.to_string())))?;
        file.commit()
    }
}

/// A column's cells as an Arrow array of type `t`.
fn to_array(c: &Column, t: ParquetType) -> ArrayRef {
    let n = c.values.len();
    match (&c.values, t) {
        (ColumnValues::Numeric(v), ParquetType::Float32) => {
            Arc::new(v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect::<Float32Array>())
        }
        (ColumnValues::Numeric(v), ParquetType::Int64) => {
            Arc::new(v.iter().map(|x| (!x.is_nan()).then_some(*x as i64)).collect::<Int64Array>())
        }
        (ColumnValues::Numeric(v), ParquetType::Boolean) => {
            Arc::new(v.iter().map(|x| (!x.is_nan()).then_some(*x != 0.0)).collect::<BooleanArray>())
        }
        (values, _) => Arc::new(
            (0..n)
                .map(|i| {
                    let s = values.cell_text(i);
                    (!s.is_empty()).then_some(s)
                })
                .collect::<StringArray>(),
        ),
    }
}
