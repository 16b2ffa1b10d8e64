//! Writers: CSV/TSV (optionally gzipped), NPY (`<f4`) and `u8` IDX images.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use latent::{Column, ColumnValues, Frame, ImageShape};

use crate::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::{idx, npy, source};

/// Output formats chosen by file name.
enum Format {
    /// Delimited text with this delimiter.
    Text(u8),
    /// NPY, `<f4`.
    Npy,
    /// Parquet (snappy), written in row groups.
    Parquet,
}

/// The format for `path` from its extension (a trailing `.gz` compresses).
fn format_of(path: &Path) -> Result<Format> {
    let name = source::inner_name(path);
    if name.ends_with(".csv") {
        Ok(Format::Text(b','))
    } else if name.ends_with(".tsv") {
        Ok(Format::Text(b'\t'))
    } else if name.ends_with(".npy") {
        Ok(Format::Npy)
    } else if name.ends_with(".parquet") && !source::is_gz(path) {
        Ok(Format::Parquet)
    } else {
        Err(Error::format(
            path,
            "unsupported output format (use .csv, .tsv or .npy, optionally with .gz, or .parquet)",
        ))
    }
}

/// An output file, gzip-compressed when its name ends in `.gz`.
enum Sink {
    Plain(BufWriter<AtomicFile>),
    Gz(GzEncoder<BufWriter<AtomicFile>>),
}

impl Sink {
    fn create(path: &Path) -> Result<Sink> {
        let file = BufWriter::with_capacity(1 << 16, AtomicFile::create(path)?);
        Ok(if source::is_gz(path) {
            Sink::Gz(GzEncoder::new(file, flate2::Compression::default()))
        } else {
            Sink::Plain(file)
        })
    }

    /// Flushes everything (and writes the gzip trailer), then moves the file into place.
    fn finish(self, path: &Path) -> Result<()> {
        let io = |e| Error::io(path, e);
        let buffered = match self {
            Sink::Plain(w) => w,
            Sink::Gz(gz) => gz.finish().map_err(io)?,
        };
        buffered.into_inner().map_err(|e| io(e.into_error()))?.commit()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gz(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gz(w) => w.flush(),
        }
    }
}

/// Maps a CSV writer error.
fn csv_error(path: &Path, e: ::csv::Error) -> Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::internal(path, format!("CSV writer: {other:?}")),
    }
}

/// Writes the cell `value` of a numeric column (missing as empty) into `buf`.
fn number_text(buf: &mut String, value: f32) {
    buf.clear();
    if !value.is_nan() {
        let _ = write!(buf, "{value}");
    }
}

/// Writes delimited text: a header of `names`, then `rows` rows whose cells `cell(row, col)`
/// appends to the buffer it is given.
fn write_text(
    path: &Path,
    delimiter: u8,
    names: &[&str],
    rows: usize,
    mut cell: impl FnMut(usize, usize, &mut String),
) -> Result<()> {
    let mut out = ::csv::WriterBuilder::new()
        .delimiter(delimiter)
        .buffer_capacity(1 << 16)
        .from_writer(Sink::create(path)?);
    out.write_record(names).map_err(|e| csv_error(path, e))?;
    let mut cells = vec![String::new(); names.len()];
    for row in 0..rows {
        for (col, buf) in cells.iter_mut().enumerate() {
            cell(row, col, buf);
        }
        out.write_record(&cells).map_err(|e| csv_error(path, e))?;
    }
    let sink = out.into_inner().map_err(|e| Error::io(path, e.into_error()))?;
    sink.finish(path)
}

/// Writes a row-major `rows x cols` matrix as a 2-D little-endian `f32` NPY file
/// (gzip-compressed when the name ends in `.gz`). Values are written as given, but note that
/// the readers reject non-finite values in NPY files (NPY has no notion of a missing cell).
pub fn write_npy(path: &Path, rows: usize, cols: usize, values: &[f32]) -> Result<()> {
    if rows.checked_mul(cols) != Some(values.len()) {
        return Err(Error::internal(
            path,
            format!("{} values given for a {rows} x {cols} matrix", values.len()),
        ));
    }
    let mut sink = Sink::create(path)?;
    let io = |e| Error::io(path, e);
    sink.write_all(&npy::f32_header(&[rows, cols])).map_err(io)?;
    for chunk in values.chunks(1 << 14) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        sink.write_all(&bytes).map_err(io)?;
    }
    sink.finish(path)
}

/// Writes a row-major matrix of width `names.len()`: `.csv`/`.tsv` (header, then rows; `NaN`
/// written as an empty cell) or `.npy` (2-D `f32`), optionally gzipped by a `.gz` suffix.
/// Any other extension is an error.
pub fn write_matrix(path: &Path, names: &[String], values: &[f32]) -> Result<()> {
    let width = names.len();
    if width == 0 || values.len() % width != 0 {
        return Err(Error::internal(
            path,
            format!("{} values do not fill rows of width {width}", values.len()),
        ));
    }
    let rows = values.len() / width;
    match format_of(path)? {
        Format::Npy => write_npy(path, rows, width, values),
        Format::Parquet => {
            let columns: Vec<Column> = (0..width)
                .map(|c| {
                    let v = (0..rows).map(|r| values[r * width + c]).collect();
                    Column::numeric(names[c].clone(), v)
                })
                .collect();
            write_parquet(path, &columns.iter().collect::<Vec<_>>())
        }
        Format::Text(delimiter) => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            write_text(path, delimiter, &names, rows, |r, c, buf| {
                number_text(buf, values[r * width + c]);
            })
        }
    }
}

/// Writes a frame followed by `extra` columns (such as labels or scores): `.csv`/`.tsv` with a
/// header (text cells as text, missing numbers empty), or `.npy` when every column is numeric.
pub fn write_frame(path: &Path, frame: &Frame, extra: &[Column]) -> Result<()> {
    let rows = frame.rows();
    let columns: Vec<&Column> = frame.columns().iter().chain(extra).collect();
    if let Some(bad) = extra.iter().find(|c| c.values.len() != rows) {
        return Err(Error::internal(
            path,
            format!("column \"{}\" has {} rows, the frame {rows}", bad.name, bad.values.len()),
        ));
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return Err(Error::format(path, format!("column name \"{}\" appears twice", dup.1)));
    }
    match format_of(path)? {
        Format::Npy => {
            let mut numeric = Vec::with_capacity(columns.len());
            for c in &columns {
                match &c.values {
                    ColumnValues::Numeric(v) => numeric.push(v),
                    ColumnValues::Text(_) => {
                        return Err(Error::format(
                            path,
                            format!("cannot write text column \"{}\" to NPY; use .csv", c.name),
                        ))
                    }
                }
            }
            let mut values = Vec::with_capacity(rows * numeric.len());
            for r in 0..rows {
                values.extend(numeric.iter().map(|c| c[r]));
            }
            write_npy(path, rows, numeric.len(), &values)
        }
        Format::Parquet => write_parquet(path, &columns),
        Format::Text(delimiter) => {
            write_text(path, delimiter, &names, rows, |r, c, buf| match &columns[c].values {
                ColumnValues::Numeric(v) => number_text(buf, v[r]),
                ColumnValues::Text(v) => {
                    buf.clear();
                    buf.push_str(&v[r]);
                }
            })
        }
    }
}

/// Writes columns as a Parquet file: numeric columns as nullable `float` (NaN as null), text
/// columns as strings (empty as null), in row groups of [`crate::parquet_io::ROW_GROUP_ROWS`].
fn write_parquet(path: &Path, columns: &[&Column]) -> Result<()> {
    use crate::parquet_io::{column_types, ParquetWriter, ROW_GROUP_ROWS};
    let types = column_types(columns.iter().copied());
    let rows = columns.first().map_or(0, |c| c.values.len());
    let mut writer = ParquetWriter::create(path, &types)?;
    let mut start = 0;
    while start < rows {
        let end = (start + ROW_GROUP_ROWS).min(rows);
        let part: Vec<Column> = columns.iter().map(|c| slice(c, start, end)).collect();
        writer.write(&part.iter().collect::<Vec<_>>())?;
        start = end;
    }
    writer.finish()
}

/// Rows `start..end` of a column.
fn slice(c: &Column, start: usize, end: usize) -> Column {
    match &c.values {
        ColumnValues::Numeric(v) => Column::numeric(c.name.clone(), v[start..end].to_vec()),
        ColumnValues::Text(v) => Column::text(c.name.clone(), v[start..end].to_vec()),
    }
}

/// Writes images with values in `[0, 1]` (row-major, `rows x shape.len()`) as a `u8` IDX file
/// (MNIST layout for one channel), gzip-compressed when the name ends in `.gz`.
pub fn write_idx_images(
    path: &Path,
    shape: ImageShape,
    rows: usize,
    values_0_1: &[f32],
) -> Result<()> {
    let data = idx::encode_u8_images(path, shape, rows, values_0_1)?;
    idx::write_bytes(path, &data)
}
