//! Delimited text read in fixed-size chunks of rows, for scoring inputs of any size in
//! constant memory.
//!
//! Reading is split in two so that parsing can run on many threads: [`CsvChunks::next_block`]
//! cuts the input into [`RawBlock`]s of whole records (cheap: it only looks for line ends
//! outside quotes), and [`CsvSchema::parse`] turns a block into a [`Chunk`] on any thread.
//! Iterating a [`CsvChunks`] does both in turn.
//!
//! Unlike [`crate::load`], which infers column types from the whole file, a stream is typed up
//! front: the columns named in [`StreamOptions::categorical`] (a model's one-hot columns) are
//! text, the label column is kept as text, and every other column is numeric — an empty cell
//! is a missing value (`NaN`), a non-numeric or non-finite cell is an error naming the line and
//! column. Those are the types [`crate::load`] gives a file when the model's categorical
//! columns are passed to it, so a model sees the same frame either way.

use std::io::{BufReader, Read};
use std::path::Path;

use ::csv::ByteRecord;
use latent::{Column, Frame};

use crate::error::{Error, Result};
use crate::source;

mod jsonl;
mod parse;

pub use jsonl::{is_array_or_images, sniff, JsonChunks, TextRows};
pub use parse::CsvSchema;
use parse::{is_blank, read_record, text_error};

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
    /// A stream without the label column is read without labels instead of being refused.
    pub label_optional: bool,
    /// Cell texts read as missing values besides the defaults ([`crate::na`]).
    pub na_values: Vec<String>,
    /// Columns kept out of the features as text and returned as [`Chunk::ids`]; those the
    /// input lacks are skipped.
    pub id_columns: Vec<String>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            delimiter: b',',
            has_header: true,
            chunk_rows: 8192,
            categorical: Vec::new(),
            label_column: None,
            label_optional: false,
            na_values: Vec::new(),
            id_columns: Vec::new(),
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
    /// Identifier columns (`StreamOptions::id_columns`) as text, in input order.
    pub ids: Vec<Column>,
    /// Physical line of the chunk's first row (1-based; the header is line 1).
    pub first_line: u64,
}

/// Opens `path` for streaming: `-` is standard input; a name ending in `.gz` is gunzipped.
pub fn open_input(path: &Path) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())))
    } else {
        source::open(path)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Numeric,
    Text,
    Label,
    Id,
}

/// Blocks never grow past this many bytes: a record longer than this is refused.
const MAX_BLOCK_BYTES: usize = 1 << 28;

/// Bytes read from the input at a time.
const READ_BYTES: usize = 1 << 20;

/// Whole records of the input, in order, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    /// The records' bytes, each ending in `\n` (the last one of the input may not).
    pub bytes: Vec<u8>,
    /// Physical line of the block's first byte (1-based; the header is line 1).
    pub first_line: u64,
    /// Line ends (`\n`) in the block.
    pub lines: u64,
}

/// An iterator over chunks of a delimited text stream.
pub struct CsvChunks {
    input: Box<dyn Read + Send>,
    schema: CsvSchema,
    chunk_rows: usize,
    /// Bytes read but not yet handed out as a block.
    buf: Vec<u8>,
    /// Line of `buf[0]`.
    line: u64,
    eof: bool,
}

impl CsvChunks {
    /// Opens a file (or `-` for standard input) as a chunked stream.
    pub fn open(path: &Path, opts: &StreamOptions) -> Result<CsvChunks> {
        CsvChunks::new(open_input(path)?, path, opts)
    }

    /// Reads the header (or first row) of `input`; `path` names the input in errors.
    pub fn new(
        input: Box<dyn Read + Send>,
        path: &Path,
        opts: &StreamOptions,
    ) -> Result<CsvChunks> {
        let mut stream = CsvChunks {
            input,
            schema: CsvSchema {
                path: path.to_path_buf(),
                delimiter: opts.delimiter,
                names: Vec::new(),
                kinds: Vec::new(),
                na: crate::na::NaValues::new(&opts.na_values),
            },
            chunk_rows: opts.chunk_rows.max(1),
            buf: Vec::new(),
            line: 1,
            eof: false,
        };
        // The first record that is not blank: the header, or the first data row.
        let first = loop {
            let Some(end) = stream.records_end(1)? else {
                return Err(Error::format(path, "input is empty"));
            };
            let mut reader = stream.schema.reader(&stream.buf[..end.0]);
            let mut record = ByteRecord::new();
            let found = read_record(path, &mut reader, &mut record, stream.line - 1)?;
            if found && !is_blank(&record) {
                break (record, end);
            }
            stream.consume(end);
        };
        let (first, end) = first;
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
            stream.consume(end);
            names
        } else {
            Frame::default_names("col", first.len())
        };
        let label_column = opts.label_column.as_ref().filter(|l| names.contains(l));
        if let Some(label) = opts.label_column.as_ref().filter(|_| !opts.label_optional) {
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
        stream.schema.kinds = names
            .iter()
            .map(|n| {
                if label_column == Some(n) {
                    Kind::Label
                } else if opts.id_columns.contains(n) {
                    Kind::Id
                } else if opts.categorical.contains(n) {
                    Kind::Text
                } else {
                    Kind::Numeric
                }
            })
            .collect();
        stream.schema.names = names;
        Ok(stream)
    }

    /// All column names of the input, label column included.
    pub fn names(&self) -> &[String] {
        &self.schema.names
    }

    /// The columns and their types, to parse blocks with.
    pub fn schema(&self) -> &CsvSchema {
        &self.schema
    }

    /// The next block of up to `chunk_rows` whole records, or `None` at the end of the input.
    pub fn next_block(&mut self) -> Result<Option<RawBlock>> {
        let Some((end, lines)) = self.records_end(self.chunk_rows)? else {
            return Ok(None);
        };
        let first_line = self.line;
        // The block keeps the buffer's allocation; only the bytes after it are copied.
        let rest = self.buf.split_off(end);
        let bytes = std::mem::replace(&mut self.buf, rest);
        self.line += lines;
        Ok(Some(RawBlock { bytes, first_line, lines }))
    }

    /// Drops the first `end` bytes of the buffer, which hold `lines` line ends.
    fn consume(&mut self, (end, lines): (usize, u64)) {
        self.line += lines;
        self.buf.drain(..end);
    }

    /// The end of the first `records` records in the buffer (after the `\n` that ends the
    /// last of them, outside quotes) and the line ends before it, reading more input as
    /// needed; at the end of the input, the end of whatever is left. `None` when nothing is
    /// left.
    fn records_end(&mut self, records: usize) -> Result<Option<(usize, u64)>> {
        let (mut pos, mut found, mut lines, mut quoted) = (0, 0, 0, false);
        loop {
            for i in memchr::memchr2_iter(b'\n', b'"', &self.buf[pos..]) {
                let at = pos + i;
                if self.buf[at] == b'"' {
                    quoted = !quoted;
                    continue;
                }
                lines += 1;
                if !quoted {
                    found += 1;
                    if found == records {
                        return Ok(Some((at + 1, lines)));
                    }
                }
            }
            pos = self.buf.len();
            if self.eof {
                return Ok((pos > 0).then_some((pos, lines)));
            }
            if pos > MAX_BLOCK_BYTES {
                return Err(text_error(
                    &self.schema.path,
                    self.line,
                    None,
                    format!(
                        "no line end within {} MiB (lines must end in \\n)",
                        MAX_BLOCK_BYTES >> 20
                    ),
                ));
            }
            self.fill()?;
        }
    }

    /// Appends what one read gives (up to [`READ_BYTES`]) to the buffer; sets `eof` at the
    /// end. One read, not a loop until the buffer is full: a slow stream's records are cut as
    /// soon as `chunk_rows` of them have arrived.
    fn fill(&mut self) -> Result<()> {
        let old = self.buf.len();
        self.buf.resize(old + READ_BYTES, 0);
        let n = loop {
            match self.input.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(Error::io(&self.schema.path, e));
                }
            }
        };
        self.buf.truncate(old + n);
        self.eof = n == 0;
        Ok(())
    }
}

impl Iterator for CsvChunks {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let parsed = self.next_block().and_then(|b| match b {
                Some(block) => self.schema.parse(&block).map(Some),
                None => Ok(None),
            });
            match parsed {
                Ok(Some(Some(chunk))) => return Some(Ok(chunk)),
                Ok(Some(None)) => continue, // blank lines only
                Ok(None) => return None,
                Err(e) => {
                    self.eof = true;
                    self.buf.clear();
                    return Some(Err(e));
                }
            }
        }
    }
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

    #[test]
    fn plain_and_quoted_blocks_report_lines_columns_and_bad_text() -> Result<()> {
        let message = |text: &'static [u8]| -> Result<String> {
            let input: Box<dyn Read + Send> = Box::new(text);
            let mut s = CsvChunks::new(input, Path::new("t.csv"), &StreamOptions::default())?;
            Ok(match s.find_map(|r| r.err()) {
                Some(e) => e.to_string(),
                None => "no error".into(),
            })
        };
        let m = message(b"a,b\n1,2\n\n3,\xff\n")?;
        assert!(m.contains("line 4") && m.contains("\"b\"") && m.contains("UTF-8"), "{m}");
        let m = message(b"a,b\n\"1\",2\n3,\xff\n")?;
        assert!(m.contains("line 3") && m.contains("\"b\"") && m.contains("UTF-8"), "{m}");
        let m = message(b"a,b\r\n1,2\r\n3,4,5\r\n")?;
        assert!(m.contains("line 3") && m.contains("3 fields"), "{m}");
        let m = message(b"a,b\n1,2\n3\n")?;
        assert!(m.contains("line 3") && m.contains("1 fields"), "{m}");
        // Plain blocks: no final line end, CRLF, a byte-order mark, tabs and padded cells.
        let numbers = |text: &'static [u8], delimiter: u8| -> Result<Vec<f32>> {
            let input: Box<dyn Read + Send> = Box::new(text);
            let opts = StreamOptions { delimiter, ..StreamOptions::default() };
            let mut out = Vec::new();
            for chunk in CsvChunks::new(input, Path::new("t.csv"), &opts)? {
                let chunk = chunk?;
                for name in ["a", "b"] {
                    if let Some(ColumnValues::Numeric(v)) =
                        chunk.frame.column(name).map(|c| &c.values)
                    {
                        out.extend_from_slice(v);
                    }
                }
            }
            Ok(out)
        };
        assert_eq!(numbers(b"a,b\n1,2\n3,4", b',')?, [1.0, 3.0, 2.0, 4.0]);
        assert_eq!(numbers(b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4", b',')?, [1.0, 3.0, 2.0, 4.0]);
        assert_eq!(numbers(b"a\tb\n 1.5\t-2e1 \n+3\t\n", b'\t')?.len(), 4);
        let padded = numbers(b"a\tb\n 1.5\t-2e1 \n+3\t\n", b'\t')?;
        assert_eq!(&padded[..3], [1.5, 3.0, -20.0]);
        assert!(padded[3].is_nan());
        // A lone carriage return ends a record, as the csv crate reads it.
        let input: Box<dyn Read + Send> = Box::new(&b"a,b\n1,2\r3,4\n"[..]);
        let s = CsvChunks::new(input, Path::new("t.csv"), &StreamOptions::default())?;
        let rows: usize = s.map(|c| c.map(|c| c.frame.rows())).sum::<Result<usize>>()?;
        assert_eq!(rows, 2);
        Ok(())
    }

    proptest::proptest! {
        /// However the input is cut into blocks, quoted fields (with delimiters, quotes and
        /// line ends inside), CRLF line ends and blank lines give the same rows, and each
        /// chunk names the line of its first row.
        #[test]
        fn blocks_cut_only_between_records(
            rows in proptest::collection::vec(
                (" ?[-+]?[0-9]{1,9}(\\.[0-9]{0,4})?([eE][-+]?[0-9])? ?", "[a-z ,\n\"]{0,6}",
                 proptest::bool::ANY, 0..3usize), 1..30),
            chunk_rows in 1..5usize,
            crlf in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("n,t{end}");
            let mut lines = Vec::new(); // line of each row
            for (n, t, quote, blanks) in &rows {
                for _ in 0..*blanks {
                    text += end;
                }
                lines.push(1 + text.matches('\n').count() as u64);
                let n = if *quote { format!("\"{n}\"") } else { n.to_string() };
                text += &format!("{n},\"{}\"{end}", t.replace('"', "\"\""));
            }
            let opts = StreamOptions {
                chunk_rows,
                categorical: vec!["t".into()],
                ..StreamOptions::default()
            };
            let input: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(text.into_bytes()));
            let chunks: Vec<Chunk> =
                CsvChunks::new(input, Path::new("t.csv"), &opts)?.collect::<Result<_>>()?;
            let (mut numbers, mut texts, mut row) = (Vec::new(), Vec::new(), 0);
            for chunk in &chunks {
                proptest::prop_assert_eq!(chunk.first_line, lines[row]);
                row += chunk.frame.rows();
                match chunk.frame.column("n").map(|c| &c.values) {
                    Some(ColumnValues::Numeric(v)) => numbers.extend_from_slice(v),
                    other => proptest::prop_assert!(false, "n: {other:?}"),
                }
                match chunk.frame.column("t").map(|c| &c.values) {
                    Some(ColumnValues::Text(v)) => texts.extend_from_slice(v),
                    other => proptest::prop_assert!(false, "t: {other:?}"),
                }
            }
            let want_numbers: Vec<f32> =
                rows.iter().map(|r| r.0.trim().parse::<f32>().unwrap_or(f32::NAN)).collect();
            let want_texts: Vec<String> = rows.iter().map(|r| r.1.trim().to_string()).collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&numbers), bits(&want_numbers));
            proptest::prop_assert_eq!(texts, want_texts);
        }
    }
}
