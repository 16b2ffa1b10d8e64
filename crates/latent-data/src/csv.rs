//! Delimited text (CSV/TSV, optionally gzipped), read as a stream of records.
//!
//! Column types are inferred while streaming: a column stays numeric while every non-empty cell
//! parses as a finite `f32`; a column whose non-empty cells are all non-numeric becomes text
//! (categorical); a mix is an error pointing at the first non-numeric cell. Columns named in
//! [`LoadOptions::categorical`] are always text.

use std::io::Read;
use std::path::Path;

use ::csv::{ByteRecord, ReaderBuilder};
use latent::{Column, Frame};

use crate::error::{Error, Result};
use crate::{source, Dataset, LoadOptions};

/// Where the first non-numeric cell of an inferred text column was.
struct FirstText {
    line: u64,
    value: String,
}

/// The cells of one column read so far.
enum Cells {
    /// Every non-empty cell so far was a finite number; `NaN` marks empty cells.
    Numeric(Vec<f32>),
    /// Text cells; `first` is `None` for columns declared categorical.
    Text { values: Vec<String>, first: Option<FirstText> },
}

/// One column being read.
struct Acc {
    name: String,
    cells: Cells,
}

/// Per-file context for error messages.
pub(crate) struct Ctx<'a> {
    pub(crate) path: &'a Path,
    pub(crate) na: crate::na::NaValues,
}

impl Ctx<'_> {
    fn cell_error(&self, line: u64, column: &str, message: String) -> Error {
        Error::Text {
            path: self.path.to_path_buf(),
            line,
            column: Some(column.to_string()),
            message,
        }
    }

    fn non_numeric(&self, line: u64, column: &str, value: &str) -> Error {
        self.cell_error(
            line,
            column,
            format!(
                "non-numeric value \"{value}\" in a numeric column \
                 (declare \"{column}\" categorical if it is a category)"
            ),
        )
    }

    fn not_finite(&self, line: u64, column: &str, value: &str) -> Error {
        self.cell_error(line, column, format!("value \"{value}\" is not finite"))
    }
}

impl Acc {
    /// Adds one (already trimmed) cell found on `line`.
    fn push(&mut self, ctx: &Ctx<'_>, line: u64, cell: &str) -> Result<()> {
        match &mut self.cells {
            Cells::Numeric(values) => {
                if ctx.na.is_missing(cell) {
                    values.push(f32::NAN);
                    return Ok(());
                }
                match crate::number::parse_f32(cell) {
                    Ok(x) if ctx.na.is_missing_number(x) => values.push(f32::NAN),
                    Ok(x) if x.is_finite() => values.push(x),
                    Ok(_) => return Err(ctx.not_finite(line, &self.name, cell)),
                    Err(_) if values.iter().all(|v| v.is_nan()) => {
                        // Only empty cells so far: this is a text column.
                        let mut text = vec![String::new(); values.len()];
                        text.push(cell.to_string());
                        let first = Some(FirstText { line, value: cell.to_string() });
                        self.cells = Cells::Text { values: text, first };
                    }
                    Err(_) => return Err(ctx.non_numeric(line, &self.name, cell)),
                }
            }
            Cells::Text { values, .. } if ctx.na.is_missing(cell) => values.push(String::new()),
            Cells::Text { values, first: None } => values.push(cell.to_string()),
            Cells::Text { values, first: Some(first) } => {
                if !cell.is_empty() {
                    match crate::number::parse_f32(cell) {
                        Ok(x) if !x.is_finite() => {
                            return Err(ctx.not_finite(line, &self.name, cell))
                        }
                        Ok(_) => return Err(ctx.non_numeric(first.line, &self.name, &first.value)),
                        Err(_) => {}
                    }
                }
                values.push(cell.to_string());
            }
        }
        Ok(())
    }

    fn into_column(self) -> Column {
        match self.cells {
            Cells::Numeric(v) => Column::numeric(self.name, v),
            Cells::Text { values, .. } => Column::text(self.name, values),
        }
    }
}

/// Reads the next record; false at the end of the input.
pub(crate) fn next_record<R: Read>(
    path: &Path,
    reader: &mut ::csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<bool> {
    reader.read_byte_record(record).map_err(|e| {
        let line = e.position().map(|p| p.line());
        match (e.into_kind(), line) {
            (::csv::ErrorKind::Io(io), _) => Error::io(path, io),
            (kind, Some(line)) => Error::Text {
                path: path.to_path_buf(),
                line,
                column: None,
                message: format!("{kind:?}"),
            },
            (kind, None) => Error::format(path, format!("{kind:?}")),
        }
    })
}

/// The physical line on which the record starts (1-based).
pub(crate) fn line_of(record: &ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// A field as trimmed UTF-8 text.
pub(crate) fn field_text<'r>(
    ctx: &Ctx<'_>,
    line: u64,
    column: &str,
    field: &'r [u8],
) -> Result<&'r str> {
    std::str::from_utf8(field)
        .map(str::trim)
        .map_err(|_| ctx.cell_error(line, column, "invalid UTF-8 text".to_string()))
}

/// Column names from the header record (or `col0..` without a header).
pub(crate) fn column_names(
    ctx: &Ctx<'_>,
    first: &ByteRecord,
    has_header: bool,
) -> Result<Vec<String>> {
    if !has_header {
        return Ok(Frame::default_names("col", first.len()));
    }
    let line = line_of(first);
    let mut names = Vec::with_capacity(first.len());
    for (i, field) in first.iter().enumerate() {
        let generated = format!("col{i}");
        let name = field_text(ctx, line, &generated, field)?.trim_start_matches('\u{feff}').trim();
        let name = if name.is_empty() { generated } else { name.to_string() };
        if names.contains(&name) {
            return Err(Error::Text {
                path: ctx.path.to_path_buf(),
                line,
                column: None,
                message: format!("column name \"{name}\" appears twice in the header"),
            });
        }
        names.push(name);
    }
    Ok(names)
}

/// Checks that a column named in the options exists.
pub(crate) fn require_column(path: &Path, names: &[String], name: &str, what: &str) -> Result<()> {
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(Error::format(
        path,
        format!("{what} column \"{name}\" not found; columns are: {}", names.join(", ")),
    ))
}

/// Adds one data record to the columns.
fn push_record(
    ctx: &Ctx<'_>,
    accs: &mut [Acc],
    record: &ByteRecord,
    width_source: &str,
) -> Result<()> {
    let line = line_of(record);
    if record.len() != accs.len() {
        return Err(Error::Text {
            path: ctx.path.to_path_buf(),
            line,
            column: None,
            message: format!("row has {} fields, {width_source} has {}", record.len(), accs.len()),
        });
    }
    for (acc, field) in accs.iter_mut().zip(record.iter()) {
        let cell = field_text(ctx, line, &acc.name, field)?;
        acc.push(ctx, line, cell)?;
    }
    Ok(())
}

/// Reads a delimited text file (gunzipped when its name ends in `.gz`).
/// A CSV reader over `input` (records of any length, no header handling) and its first record;
/// an empty input is an error.
pub(crate) fn open_records<R: Read>(
    path: &Path,
    input: R,
    delimiter: u8,
) -> Result<(::csv::Reader<R>, ByteRecord)> {
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let mut record = ByteRecord::new();
    if !next_record(path, &mut reader, &mut record)? {
        return Err(Error::format(path, "file is empty"));
    }
    Ok((reader, record))
}

pub(crate) fn load_csv(path: &Path, delimiter: u8, opts: &LoadOptions) -> Result<Dataset> {
    read_csv(path, source::open(path)?, delimiter, opts)
}

/// Reads delimited text from `input`; `path` names it in errors.
pub(crate) fn read_csv(
    path: &Path,
    input: impl Read,
    delimiter: u8,
    opts: &LoadOptions,
) -> Result<Dataset> {
    let ctx = Ctx { path, na: crate::na::NaValues::new(&opts.na_values) };
    let (mut reader, mut record) = open_records(path, input, delimiter)?;
    let names = column_names(&ctx, &record, opts.has_header)?;
    if let Some(label) = opts.label_column.as_ref().filter(|_| !opts.label_optional) {
        require_column(path, &names, label, "label")?;
    }
    for name in &opts.categorical {
        require_column(path, &names, name, "categorical")?;
    }
    let mut accs: Vec<Acc> = names
        .into_iter()
        .map(|name| {
            let cells = if opts.categorical.contains(&name) || opts.id_columns.contains(&name) {
                Cells::Text { values: Vec::new(), first: None }
            } else {
                Cells::Numeric(Vec::new())
            };
            Acc { name, cells }
        })
        .collect();
    let width_source = if opts.has_header { "header" } else { "first row" };
    if !opts.has_header {
        push_record(&ctx, &mut accs, &record, width_source)?;
    }
    while next_record(path, &mut reader, &mut record)? {
        push_record(&ctx, &mut accs, &record, width_source)?;
    }
    let mut columns: Vec<Column> = accs.into_iter().map(Acc::into_column).collect();
    if columns.first().is_none_or(|c| c.values.is_empty()) {
        return Err(Error::format(path, "no data rows"));
    }
    let labels = match &opts.label_column {
        Some(label) => {
            let i = columns.iter().position(|c| &c.name == label);
            i.map(|i| columns.remove(i))
        }
        None => None,
    };
    let (ids, columns): (Vec<Column>, Vec<Column>) =
        columns.into_iter().partition(|c| opts.id_columns.contains(&c.name));
    if columns.is_empty() {
        return Err(Error::format(path, "no feature columns besides the label and id columns"));
    }
    let frame = Frame::new(columns).map_err(|e| Error::frame(path, e))?;
    Ok(Dataset { frame, labels, ids, source: path.to_path_buf() })
}
