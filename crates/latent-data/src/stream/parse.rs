//! Parsing a [`RawBlock`] of whole records into a [`Chunk`]: the half of streaming that runs on
//! any thread.

use std::io::Read;
use std::path::{Path, PathBuf};

use ::csv::{ByteRecord, ReaderBuilder};
use latent::{Column, Frame};

use super::{Chunk, Kind, RawBlock};
use crate::error::{Error, Result};

/// What [`CsvSchema::parse`] needs to turn a [`RawBlock`] into a [`Chunk`]: the columns and
/// their types. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct CsvSchema {
    pub(super) path: PathBuf,
    pub(super) delimiter: u8,
    pub(super) names: Vec<String>,
    pub(super) kinds: Vec<Kind>,
    pub(super) na: crate::na::NaValues,
}

impl CsvSchema {
    /// All column names of the input, label column included.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The identifier columns' names, in input order.
    pub fn id_columns(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.kinds)
            .filter(|(_, k)| matches!(k, Kind::Id))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The label column's name, when the input has one.
    pub fn label_column(&self) -> Option<&str> {
        let i = self.kinds.iter().position(|k| matches!(k, Kind::Label))?;
        self.names.get(i).map(String::as_str)
    }

    pub(super) fn reader<'b>(&self, bytes: &'b [u8]) -> ::csv::Reader<&'b [u8]> {
        ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
    }

    /// Parses a block's records into a chunk; `None` when the block holds only blank lines.
    /// Errors name the line and column.
    pub fn parse(&self, block: &RawBlock) -> Result<Option<Chunk>> {
        let capacity = usize::try_from(block.lines).unwrap_or(0) + 1;
        let mut cells: Vec<Cells> = self
            .kinds
            .iter()
            .map(|k| match k {
                Kind::Numeric => Cells::Numeric(Vec::with_capacity(capacity)),
                Kind::Text | Kind::Label | Kind::Id => Cells::Text(Vec::with_capacity(capacity)),
            })
            .collect();
        // Lines of the rows read: the first one, and how many.
        let mut lines = (0, 0);
        if self.is_plain(&block.bytes) {
            // No quotes: records are lines and fields lie between delimiters.
            let mut start = 0;
            let ends = memchr::memchr_iter(b'\n', &block.bytes).chain([block.bytes.len()]);
            for (i, end) in ends.enumerate() {
                let Some(bytes) = block.bytes.get(start..end) else { break };
                start = end + 1;
                let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                if bytes.trim_ascii().is_empty() {
                    continue;
                }
                let line = block.first_line + i as u64;
                count_row(&mut lines, line);
                self.push_plain_row(&mut cells, line, bytes)?;
            }
        } else {
            let mut reader = self.reader(&block.bytes);
            let mut record = ByteRecord::new();
            let mut counter = LineCounter { bytes: &block.bytes, at: 0, line: block.first_line };
            while read_record(&self.path, &mut reader, &mut record, block.first_line - 1)? {
                if is_blank(&record) {
                    continue;
                }
                let offset = record.position().map_or(0, |p| p.byte());
                let line = counter.record_line(usize::try_from(offset).unwrap_or(usize::MAX));
                count_row(&mut lines, line);
                // One UTF-8 check per row; the field that fails is only looked for on failure.
                match std::str::from_utf8(record.as_slice()) {
                    Ok(text) => {
                        let field = |i| record.range(i).and_then(|r| text.get(r)).unwrap_or("");
                        let fields = (0..record.len()).map(|i| Field::Text(field(i)));
                        self.push_row(&mut cells, line, fields)?;
                    }
                    Err(_) => self.push_row(&mut cells, line, record.iter().map(Field::Bytes))?,
                }
            }
        }
        let (first_line, rows) = lines;
        if rows == 0 {
            return Ok(None);
        }
        let mut columns = Vec::with_capacity(self.names.len());
        let mut labels = None;
        let mut ids = Vec::new();
        for ((cell, name), kind) in cells.into_iter().zip(&self.names).zip(&self.kinds) {
            let column = match cell {
                Cells::Numeric(v) => Column::numeric(name.clone(), v),
                Cells::Text(v) => Column::text(name.clone(), v),
            };
            match kind {
                Kind::Label => labels = Some(column),
                Kind::Id => ids.push(column),
                _ => columns.push(column),
            }
        }
        let frame = Frame::new(columns).map_err(|e| Error::frame(&self.path, e))?;
        Ok(Some(Chunk { frame, labels, ids, first_line }))
    }

    /// Whether a block can be split on line ends and delimiters alone: an ASCII delimiter,
    /// no quotes, and no carriage return other than in a `\r\n` line end.
    fn is_plain(&self, bytes: &[u8]) -> bool {
        self.delimiter.is_ascii()
            && memchr::memchr(b'"', bytes).is_none()
            && memchr::memchr_iter(b'\r', bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
    }

    /// Appends one record's fields to the columns' cells.
    fn push_row<'f>(
        &self,
        cells: &mut [Cells],
        line: u64,
        mut fields: impl Iterator<Item = Field<'f>>,
    ) -> Result<()> {
        let path = &self.path;
        let mut count = 0;
        for field in fields.by_ref() {
            let (Some(cell), Some(name)) = (cells.get_mut(count), self.names.get(count)) else {
                count += 1;
                break;
            };
            count += 1;
            let text = match field {
                Field::Text(text) => text,
                Field::Bytes(bytes) => std::str::from_utf8(bytes)
                    .map_err(|_| text_error(path, line, Some(name), "invalid UTF-8 text".into()))?,
            };
            self.push_cell(cell, name, line, text)?;
        }
        let count = count + fields.count();
        if count != self.names.len() {
            return Err(self.field_count_error(line, count));
        }
        Ok(())
    }

    /// [`CsvSchema::push_row`] for a quote-free line, splitting and parsing in one pass: a
    /// plain number followed by the delimiter is parsed where it stands (numbers are ASCII, so
    /// only the other fields are checked for UTF-8).
    fn push_plain_row(&self, cells: &mut [Cells], line: u64, bytes: &[u8]) -> Result<()> {
        let delimiter = self.delimiter;
        let field_count = || bytes.split(|&b| b == delimiter).count();
        let mut pos = 0; // start of the next field; past the end when the line is used up
        for (cell, name) in cells.iter_mut().zip(&self.names) {
            let Some(rest) = bytes.get(pos..) else {
                return Err(self.field_count_error(line, field_count()));
            };
            if let Cells::Numeric(v) = cell {
                if let Some((value, len)) = crate::number::parse_prefix(rest) {
                    if rest.get(len).is_none_or(|&b| b == delimiter) {
                        v.push(if self.na.is_missing_number(value) { f32::NAN } else { value });
                        pos += len + 1;
                        continue;
                    }
                }
            }
            let len = rest.iter().position(|&b| b == delimiter).unwrap_or(rest.len());
            let field = std::str::from_utf8(rest.get(..len).unwrap_or_default()).map_err(|_| {
                text_error(&self.path, line, Some(name), "invalid UTF-8 text".into())
            })?;
            self.push_cell(cell, name, line, field)?;
            pos += len + 1;
        }
        if pos <= bytes.len() {
            return Err(self.field_count_error(line, field_count()));
        }
        Ok(())
    }

    /// Appends one field's text to its column.
    fn push_cell(&self, cell: &mut Cells, name: &str, line: u64, text: &str) -> Result<()> {
        match cell {
            Cells::Text(v) if self.na.is_missing(text.trim()) => v.push(String::new()),
            Cells::Text(v) => v.push(text.trim().to_string()),
            Cells::Numeric(v) => v.push(
                parse_number(text, &self.na)
                    .map_err(|m| text_error(&self.path, line, Some(name), m))?,
            ),
        }
        Ok(())
    }

    fn field_count_error(&self, line: u64, count: usize) -> Error {
        let message = format!("row has {count} fields, header has {}", self.names.len());
        text_error(&self.path, line, None, message)
    }
}

/// Notes a row read at `line` in `(first line, rows)`.
fn count_row(lines: &mut (u64, usize), line: u64) {
    if lines.1 == 0 {
        lines.0 = line;
    }
    lines.1 += 1;
}

/// Line numbers of records from their byte offsets, counted once through a block. (The csv
/// crate's own line of a record that follows blank lines is that of the first blank line.)
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes counted so far.
    at: usize,
    /// Line of `bytes[at]`.
    line: u64,
}

impl LineCounter<'_> {
    /// Line of the record whose bytes start at `offset` (or at the line ends after it).
    fn record_line(&mut self, offset: usize) -> u64 {
        let offset = offset.clamp(self.at, self.bytes.len());
        let skipped = &self.bytes[self.at..offset];
        self.line += memchr::memchr_iter(b'\n', skipped).count() as u64;
        self.at = offset;
        let ends = self.bytes[offset..].iter().take_while(|&&b| b == b'\n' || b == b'\r');
        self.line + ends.filter(|&&b| b == b'\n').count() as u64
    }
}

/// A field of a record: text, or bytes not yet checked to be UTF-8.
enum Field<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// The cells of one column of a chunk.
enum Cells {
    Numeric(Vec<f32>),
    Text(Vec<String>),
}

/// A numeric cell: empty or a missing-value marker is missing (`NaN`); anything else that is
/// not a finite number is an error.
fn parse_number(text: &str, na: &crate::na::NaValues) -> std::result::Result<f32, String> {
    let trimmed = text.trim_ascii();
    let value = match crate::number::parse_f32(trimmed) {
        Ok(x) if (x.is_nan() && na.is_missing(trimmed)) || na.is_missing_number(x) => {
            return Ok(f32::NAN)
        }
        Ok(x) => x,
        Err(_) => {
            let text = text.trim();
            if na.is_missing(text) {
                return Ok(f32::NAN);
            }
            crate::number::parse_f32(text).map_err(|_| {
                format!("non-numeric value \"{text}\" in a column the model expects to be numeric")
            })?
        }
    };
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("value \"{trimmed}\" is not finite"))
    }
}

/// A record from a line holding nothing but spaces.
pub(super) fn is_blank(record: &ByteRecord) -> bool {
    record.len() == 1 && record.get(0).is_some_and(|f| f.trim_ascii().is_empty())
}

pub(super) fn text_error(path: &Path, line: u64, column: Option<&str>, message: String) -> Error {
    Error::Text { path: path.to_path_buf(), line, column: column.map(str::to_string), message }
}

/// Reads one record; `line_offset` turns the reader's line numbers into the input's.
pub(super) fn read_record<R: Read>(
    path: &Path,
    reader: &mut ::csv::Reader<R>,
    record: &mut ByteRecord,
    line_offset: u64,
) -> Result<bool> {
    reader.read_byte_record(record).map_err(|e| {
        let line = e.position().map(|p| p.line() + line_offset);
        match (e.into_kind(), line) {
            (::csv::ErrorKind::Io(io), _) => Error::io(path, io),
            (kind, Some(line)) => text_error(path, line, None, format!("{kind:?}")),
            (kind, None) => Error::format(path, format!("{kind:?}")),
        }
    })
}
