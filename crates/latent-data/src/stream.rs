//! Delimited text read in fixed-size chunks of rows, for scoring inputs of any size in
//! constant memory.
//!
//! Unlike [`crate::load`], which infers column types from the whole file, a stream is typed up
//! front: the columns named in [`StreamOptions::categorical`] (a model's one-hot columns) are
//! text, the label column is kept as text, and every other column is numeric — an empty cell
//! is a missing value (`NaN`), a non-numeric or non-finite cell is an error naming the line and
//! column. Those are the types [`crate::load`] gives a file when the model's categorical
//! columns are passed to it, so a model sees the same frame either way.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use ::csv::{ByteRecord, ReaderBuilder};
use latent::{Column, Frame};

use crate::error::{Error, Result};
use crate::source;

/// How to read a stream of delimited text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// Field delimiter.
    pub delimiter: u8,
    /// Whether the first row is a header (without one, columns are `col0`, `col1`, ...).
    pub has_header: bool,
    /// Rows per chunk (at least 1).
    pub chunk_rows: usize,
    /// Columns read as text (the model's categorical columns).
    pub categorical: Vec<String>,
    /// A column kept out of the features and returned as [`Chunk::labels`] (as text).
    pub label_column: Option<String>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            delimiter: b',',
            has_header: true,
            chunk_rows: 8192,
            categorical: Vec::new(),
            label_column: None,
        }
    }
}

/// One chunk of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The feature columns.
    pub frame: Frame,
    /// The label column's cells, when a label column was named.
    pub labels: Option<Column>,
    /// Physical line of the chunk's first row (1-based; the header is line 1).
    pub first_line: u64,
}

/// Opens `path` for streaming: `-` is standard input; a name ending in `.gz` is gunzipped.
pub fn open_input(path: &Path) -> Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())))
    } else {
        source::open(path)
    }
}

enum Kind {
    Numeric,
    Text,
    Label,
}

/// An iterator over chunks of a delimited text stream.
pub struct CsvChunks {
    reader: ::csv::Reader<Box<dyn Read>>,
    path: PathBuf,
    names: Vec<String>,
    kinds: Vec<Kind>,
    chunk_rows: usize,
    /// A data record read ahead (the first row of a headerless file).
    pending: Option<ByteRecord>,
    record: ByteRecord,
    done: bool,
}

impl CsvChunks {
    /// Opens a file (or `-` for standard input) as a chunked stream.
    pub fn open(path: &Path, opts: &StreamOptions) -> Result<CsvChunks> {
        CsvChunks::new(open_input(path)?, path, opts)
    }

    /// Reads the header (or first row) of `input`; `path` names the input in errors.
    pub fn new(input: Box<dyn Read>, path: &Path, opts: &StreamOptions) -> Result<CsvChunks> {
        let mut reader = ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let mut first = ByteRecord::new();
        if !read_record(path, &mut reader, &mut first)? {
            return Err(Error::format(path, "input is empty"));
        }
        let names: Vec<String> = if opts.has_header {
            let mut names = Vec::with_capacity(first.len());
            for (i, field) in first.iter().enumerate() {
                let name = std::str::from_utf8(field)
                    .map_err(|_| text_error(path, 1, None, "header is not UTF-8 text".into()))?
                    .trim_start_matches('\u{feff}')
                    .trim();
                let name = if name.is_empty() { format!("col{i}") } else { name.to_string() };
                if names.contains(&name) {
                    return Err(text_error(
                        path,
                        1,
                        None,
                        format!("column name \"{name}\" appears twice in the header"),
                    ));
                }
                names.push(name);
            }
            names
        } else {
            Frame::default_names("col", first.len())
        };
        if let Some(label) = &opts.label_column {
            if !names.contains(label) {
                return Err(Error::format(
                    path,
                    format!(
                        "label column \"{label}\" not found; columns are: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        let kinds = names
            .iter()
            .map(|n| {
                if opts.label_column.as_ref() == Some(n) {
                    Kind::Label
                } else if opts.categorical.contains(n) {
                    Kind::Text
                } else {
                    Kind::Numeric
                }
            })
            .collect();
        Ok(CsvChunks {
            reader,
            path: path.to_path_buf(),
            names,
            kinds,
            chunk_rows: opts.chunk_rows.max(1),
            pending: if opts.has_header { None } else { Some(first) },
            record: ByteRecord::new(),
            done: false,
        })
    }

    /// All column names of the input, label column included.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn read_chunk(&mut self) -> Result<Option<Chunk>> {
        enum Cells {
            Numeric(Vec<f32>),
            Text(Vec<String>),
        }
        let mut cells: Vec<Cells> = self
            .kinds
            .iter()
            .map(|k| match k {
                Kind::Numeric => Cells::Numeric(Vec::with_capacity(self.chunk_rows)),
                Kind::Text | Kind::Label => Cells::Text(Vec::with_capacity(self.chunk_rows)),
            })
            .collect();
        let mut rows = 0;
        let mut first_line = 0;
        while rows < self.chunk_rows {
            match self.pending.take() {
                Some(r) => self.record = r,
                None => {
                    if !read_record(&self.path, &mut self.reader, &mut self.record)? {
                        self.done = true;
                        break;
                    }
                }
            }
            let record = &self.record;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() == 1 && record.get(0).is_some_and(|f| f.trim_ascii().is_empty()) {
                continue; // a blank line
            }
            if rows == 0 {
                first_line = line;
            }
            if record.len() != self.names.len() {
                return Err(text_error(
                    &self.path,
                    line,
                    None,
                    format!("row has {} fields, header has {}", record.len(), self.names.len()),
                ));
            }
            // One UTF-8 check per row; the field that fails is only looked for on failure.
            let row_text = std::str::from_utf8(record.as_slice()).ok();
            for (i, ((field, cell), name)) in
                record.iter().zip(&mut cells).zip(&self.names).enumerate()
            {
                let text = match row_text.and_then(|t| record.range(i).and_then(|r| t.get(r))) {
                    Some(text) => text,
                    None => std::str::from_utf8(field).map_err(|_| {
                        text_error(&self.path, line, Some(name), "invalid UTF-8 text".into())
                    })?,
                }
                .trim();
                match cell {
                    Cells::Text(v) => v.push(text.to_string()),
                    Cells::Numeric(v) => {
                        if text.is_empty() {
                            v.push(f32::NAN);
                            continue;
                        }
                        match text.parse::<f32>() {
                            Ok(x) if x.is_finite() => v.push(x),
                            Ok(_) => {
                                return Err(text_error(
                                    &self.path,
                                    line,
                                    Some(name),
                                    format!("value \"{text}\" is not finite"),
                                ))
                            }
                            Err(_) => {
                                return Err(text_error(
                                    &self.path,
                                    line,
                                    Some(name),
                                    format!(
                                        "non-numeric value \"{text}\" in a column the model \
                                         expects to be numeric"
                                    ),
                                ))
                            }
                        }
                    }
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let mut columns = Vec::with_capacity(self.names.len());
        let mut labels = None;
        for ((cell, name), kind) in cells.into_iter().zip(&self.names).zip(&self.kinds) {
            let column = match cell {
                Cells::Numeric(v) => Column::numeric(name.clone(), v),
                Cells::Text(v) => Column::text(name.clone(), v),
            };
            match kind {
                Kind::Label => labels = Some(column),
                _ => columns.push(column),
            }
        }
        let frame = Frame::new(columns).map_err(|e| Error::frame(&self.path, e))?;
        Ok(Some(Chunk { frame, labels, first_line }))
    }
}

impl Iterator for CsvChunks {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.pending.is_none() {
            return None;
        }
        match self.read_chunk() {
            Ok(Some(chunk)) => Some(Ok(chunk)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                self.pending = None;
                Some(Err(e))
            }
        }
    }
}

fn text_error(path: &Path, line: u64, column: Option<&str>, message: String) -> Error {
    Error::Text { path: path.to_path_buf(), line, column: column.map(str::to_string), message }
}

fn read_record(
    path: &Path,
    reader: &mut ::csv::Reader<Box<dyn Read>>,
    record: &mut ByteRecord,
) -> Result<bool> {
    reader.read_byte_record(record).map_err(|e| {
        let line = e.position().map(|p| p.line());
        match (e.into_kind(), line) {
            (::csv::ErrorKind::Io(io), _) => Error::io(path, io),
            (kind, Some(line)) => text_error(path, line, None, format!("{kind:?}")),
            (kind, None) => Error::format(path, format!("{kind:?}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use latent::ColumnValues;

    fn stream(text: &'static str, opts: &StreamOptions) -> Result<CsvChunks> {
        CsvChunks::new(Box::new(text.as_bytes()), Path::new("t.csv"), opts)
    }

    #[test]
    fn chunks_rows_with_types_from_the_options() -> Result<()> {
        let opts = StreamOptions {
            chunk_rows: 2,
            categorical: vec!["c".into()],
            label_column: Some("y".into()),
            ..StreamOptions::default()
        };
        let chunks: Vec<Chunk> =
            stream("a,c,y\n1,x,0\n,7,1\n3,z,normal\n", &opts)?.collect::<Result<_>>()?;
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].frame.rows(), 2);
        assert_eq!(chunks[1].frame.rows(), 1);
        assert_eq!(chunks[1].first_line, 4);
        let c = chunks[0].frame.column("c").map(|c| &c.values);
        assert_eq!(c, Some(&ColumnValues::Text(vec!["x".into(), "7".into()])));
        let a = chunks[0].frame.column("a").map(|c| c.values.cell_text(1));
        assert_eq!(a, Some(String::new()));
        assert!(chunks[1].labels.as_ref().is_some_and(|l| l.values.cell_text(0) == "normal"));
        Ok(())
    }

    #[test]
    fn errors_name_line_and_column() -> Result<()> {
        let mut s = stream("a,b\n1,2\n3,abc\n", &StreamOptions::default())?;
        let e = s.next().map(|r| r.map(|_| ()));
        let msg = match e {
            Some(Err(e)) => e.to_string(),
            other => format!("{other:?}"),
        };
        assert!(msg.contains("line 3") && msg.contains("\"b\""), "{msg}");
        assert!(s.next().is_none());
        let mut s = stream("a,b\n1\n", &StreamOptions::default())?;
        assert!(matches!(s.next(), Some(Err(_))));
        Ok(())
    }
}
