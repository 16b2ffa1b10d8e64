//! JSON lines read in chunks: one object per line, keys are column names. The columns and
//! their types come from the model's preprocessing (a one-hot column is text, every other
//! one numeric), so a chunk is the frame the model takes; a missing or unknown key, a
//! non-object line or a non-finite number is an error naming the line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use latent::preprocess::ColumnTransform;
use latent::{Column, Frame, Preprocessor};
use serde_json::Value;

use super::{Chunk, StreamOptions};
use crate::error::{Error, Result};

/// JSON lines (one object per line, keys are column names) read in chunks.
pub struct JsonChunks {
    reader: BufReader<Box<dyn Read + Send>>,
    path: PathBuf,
    /// Input columns: name, and whether categorical (text).
    columns: Vec<(String, bool)>,
    label: Option<String>,
    /// A label key that may be absent ([`StreamOptions::label_optional`]): dropped from each
    /// object, not carried (JSON lines carry only a label named for the run).
    ignored_label: Option<String>,
    chunk_rows: usize,
    line: u64,
    done: bool,
}

/// One column's cells while a chunk is read.
enum Cells {
    Numeric(Vec<f32>),
    Text(Vec<String>),
}

impl JsonChunks {
    /// Reads `input` (named `path` in errors) as the input columns of `pre`, carrying the
    /// label column of `opts` through, `opts.chunk_rows` rows at a time.
    pub fn new(
        input: Box<dyn Read + Send>,
        path: &Path,
        pre: &Preprocessor,
        opts: &StreamOptions,
    ) -> JsonChunks {
        let columns = pre
            .columns
            .iter()
            .map(|c| (c.name().to_string(), matches!(c, ColumnTransform::OneHot { .. })))
            .collect();
        JsonChunks {
            reader: BufReader::with_capacity(1 << 16, input),
            path: path.to_path_buf(),
            columns,
            label: opts.label_column.clone().filter(|_| !opts.label_optional),
            ignored_label: opts.label_column.clone().filter(|_| opts.label_optional),
            chunk_rows: opts.chunk_rows.max(1),
            line: 0,
            done: false,
        }
    }

    /// The label column carried through, when one was named.
    pub fn label_column(&self) -> Option<&str> {
        self.label.as_deref()
    }

    fn bad(&self, message: String) -> Error {
        Error::Text { path: self.path.clone(), line: self.line, column: None, message }
    }

    fn read_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut cells: Vec<Cells> = self
            .columns
            .iter()
            .map(|(_, cat)| if *cat { Cells::Text(Vec::new()) } else { Cells::Numeric(Vec::new()) })
            .collect();
        let mut labels: Vec<String> = Vec::new();
        let (mut rows, mut first_line) = (0, 0);
        let mut text = String::new();
        while rows < self.chunk_rows {
            text.clear();
            let n = self
                .reader
                .read_line(&mut text)
                .map_err(|source| Error::Io { path: self.path.clone(), source })?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| self.bad(format!("not a JSON object: {e}")))?;
            let Value::Object(mut obj) = value else {
                return Err(self.bad("expected a JSON object with one key per column".into()));
            };
            if rows == 0 {
                first_line = self.line;
            }
            if let Some(l) = &self.ignored_label {
                obj.remove(l);
            }
            if let Some(l) = &self.label {
                let v = obj.remove(l).ok_or_else(|| self.bad(format!("no label key \"{l}\"")))?;
                labels.push(match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                });
            }
            for ((name, _), cell) in self.columns.iter().zip(&mut cells) {
                let v = obj.remove(name).ok_or_else(|| {
                    self.bad(format!("no key \"{name}\" (the model expects this column)"))
                })?;
                push_cell(cell, v).map_err(|m| self.bad(format!("key \"{name}\": {m}")))?;
            }
            if let Some(extra) = obj.keys().next() {
                return Err(self.bad(format!("key \"{extra}\" is not a column of the model")));
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let columns = self
            .columns
            .iter()
            .zip(cells)
            .map(|((name, _), c)| match c {
                Cells::Numeric(v) => Column::numeric(name.clone(), v),
                Cells::Text(v) => Column::text(name.clone(), v),
            })
            .collect();
        let frame = Frame::new(columns).map_err(|e| self.bad(e.to_string()))?;
        let labels = self.label.as_ref().map(|l| Column::text(l.clone(), labels));
        Ok(Some(Chunk { frame, labels, ids: Vec::new(), first_line }))
    }
}

/// Appends one JSON value to a column: null is missing (NaN, or an empty category).
fn push_cell(cell: &mut Cells, v: Value) -> std::result::Result<(), String> {
    match (cell, v) {
        (Cells::Numeric(c), Value::Null) => c.push(f32::NAN),
        (Cells::Numeric(c), Value::Number(x)) => {
            let x = x.as_f64().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                return Err("value is not finite".into());
            }
            c.push(x)
        }
        (Cells::Numeric(_), other) => return Err(format!("expected a number, got {other}")),
        (Cells::Text(c), Value::String(s)) => c.push(s),
        (Cells::Text(c), Value::Null) => c.push(String::new()),
        (Cells::Text(c), other) => c.push(other.to_string()),
    }
    Ok(())
}

impl Iterator for JsonChunks {
    type Item = Result<Chunk>;

    fn next(&mut self) -> Option<Result<Chunk>> {
        if self.done {
            return None;
        }
        match self.read_chunk() {
            Ok(Some(c)) => Some(Ok(c)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// What a text stream holds, judged by its first non-space byte.
pub enum TextRows {
    /// Nothing but white space.
    Empty,
    /// JSON lines (the first non-space byte is `{`).
    JsonLines(Box<dyn Read + Send>),
    /// Delimited text (CSV, TSV).
    Delimited(Box<dyn Read + Send>),
}

/// Looks at the start of `input` (named `path` in errors) to tell JSON lines from delimited
/// text; the returned reader still yields the whole input.
pub fn sniff(mut input: Box<dyn Read + Send>, path: &Path) -> Result<TextRows> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = input.read(&mut buf).map_err(|source| Error::Io { path: path.into(), source })?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.iter().any(|b| !b.is_ascii_whitespace()) || head.len() > 1 << 20 {
            break;
        }
    }
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(input));
    Ok(match first {
        None => TextRows::Empty,
        Some(b'{') => TextRows::JsonLines(reader),
        Some(_) => TextRows::Delimited(reader),
    })
}

/// True for inputs that are read whole rather than streamed: NPY/NPZ arrays, IDX files and
/// image folders (everything else is delimited text, JSON lines or Parquet).
pub fn is_array_or_images(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    if path.is_dir() {
        return !crate::is_parquet(path);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".npy") || name.ends_with(".npz") || name.contains("idx")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Box<dyn Read + Send> {
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))
    }

    #[test]
    fn sniffing_tells_json_lines_from_csv_and_keeps_every_byte() -> Result<()> {
        let p = Path::new("-");
        assert!(matches!(sniff(reader("  \n"), p)?, TextRows::Empty));
        let TextRows::JsonLines(mut r) = sniff(reader("\n {\"a\": 1}\n"), p)? else {
            panic!("expected JSON lines");
        };
        let mut all = String::new();
        r.read_to_string(&mut all).map_err(|source| Error::Io { path: p.into(), source })?;
        assert_eq!(all, "\n {\"a\": 1}\n");
        assert!(matches!(sniff(reader("a,b\n1,2\n"), p)?, TextRows::Delimited(_)));
        Ok(())
    }

    #[test]
    fn json_lines_become_the_models_frame_and_bad_lines_name_their_line(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let frame = Frame::new(vec![
            Column::numeric("x", vec![1.0, 2.0]),
            Column::text("c", vec!["a".into(), "b".into()]),
        ])?;
        let pre = Preprocessor::fit(&frame, &latent::PreprocessConfig::default())?;
        let opts = StreamOptions {
            chunk_rows: 2,
            label_column: Some("y".into()),
            ..StreamOptions::default()
        };
        let text =
            "{\"x\": 1.5, \"c\": \"b\", \"y\": 1}\n\n{\"x\": null, \"c\": null, \"y\": \"n\"}\n\
                    {\"x\": 3, \"c\": \"a\", \"y\": 0}\n";
        let chunks: Vec<Chunk> = JsonChunks::new(reader(text), Path::new("in.jsonl"), &pre, &opts)
            .collect::<Result<_>>()?;
        assert_eq!(chunks.len(), 2);
        assert_eq!((chunks[0].frame.rows(), chunks[0].first_line), (2, 1));
        assert_eq!(chunks[1].first_line, 4);
        let labels = chunks[0].labels.as_ref().map(|l| l.values.clone());
        assert_eq!(labels, Some(latent::ColumnValues::Text(vec!["1".into(), "n".into()])));
        let bad = "{\"x\": 1, \"c\": \"a\", \"y\": 0}\n{\"x\": \"no\", \"c\": \"a\", \"y\": 0}\n";
        let err = JsonChunks::new(reader(bad), Path::new("in.jsonl"), &pre, &opts)
            .collect::<Result<Vec<_>>>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("in.jsonl: line 2: key \"x\": expected a number, got \"no\"")
        );
        Ok(())
    }
}
