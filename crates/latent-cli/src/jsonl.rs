//! JSON lines on `latent score`'s input: one object per line, keys are column names, read in
//! chunks of rows the model takes.

use crate::exit::BadInput;
use crate::score::CHUNK_ROWS;
use anyhow::{Context, Result};
use latent::preprocess::ColumnTransform;
use latent::{Column, Frame, Model};
use latent_data::Chunk;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// JSON lines (one object per line, keys are column names) read in chunks.
pub struct JsonChunks {
    reader: BufReader<Box<dyn Read + Send>>,
    path: PathBuf,
    /// Input columns: name, and whether categorical.
    columns: Vec<(String, bool)>,
    /// The label column carried through, when named.
    pub label: Option<String>,
    line: u64,
    done: bool,
}

impl JsonChunks {
    pub fn new(
        reader: Box<dyn Read + Send>,
        path: &Path,
        model: &Model,
        label: Option<&str>,
    ) -> JsonChunks {
        let columns = model
            .preprocessor()
            .columns
            .iter()
            .map(|c| (c.name().to_string(), matches!(c, ColumnTransform::OneHot { .. })))
            .collect();
        JsonChunks {
            reader: BufReader::with_capacity(1 << 16, reader),
            path: path.to_path_buf(),
            columns,
            label: label.map(str::to_string),
            line: 0,
            done: false,
        }
    }

    fn bad(&self, message: String) -> anyhow::Error {
        BadInput(format!("{}: line {}: {message}", self.path.display(), self.line)).into()
    }

    pub fn next_chunk(&mut self) -> Option<Result<Chunk>> {
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

    fn read_chunk(&mut self) -> Result<Option<Chunk>> {
        enum Cells {
            Numeric(Vec<f32>),
            Text(Vec<String>),
        }
        let mut cells: Vec<Cells> = self
            .columns
            .iter()
            .map(|(_, cat)| if *cat { Cells::Text(Vec::new()) } else { Cells::Numeric(Vec::new()) })
            .collect();
        let mut labels: Vec<String> = Vec::new();
        let mut rows = 0;
        let mut first_line = 0;
        let mut text = String::new();
        while rows < CHUNK_ROWS {
            text.clear();
            let n = self
                .reader
                .read_line(&mut text)
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| self.bad(format!("not a JSON object: {e}")))?;
            let serde_json::Value::Object(mut obj) = value else {
                return Err(self.bad("expected a JSON object with one key per column".into()));
            };
            if rows == 0 {
                first_line = self.line;
            }
            if let Some(l) = &self.label {
                let v = obj.remove(l).ok_or_else(|| self.bad(format!("no label key \"{l}\"")))?;
                labels.push(match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                });
            }
            for ((name, _), cell) in self.columns.iter().zip(&mut cells) {
                let v = obj.remove(name).ok_or_else(|| {
                    self.bad(format!("no key \"{name}\" (the model expects this column)"))
                })?;
                match (cell, v) {
                    (Cells::Numeric(c), serde_json::Value::Null) => c.push(f32::NAN),
                    (Cells::Numeric(c), serde_json::Value::Number(x)) => {
                        let x = x.as_f64().unwrap_or(f64::NAN) as f32;
                        if !x.is_finite() {
                            return Err(self.bad(format!("key \"{name}\": value is not finite")));
                        }
                        c.push(x)
                    }
                    (Cells::Numeric(_), other) => {
                        return Err(
                            self.bad(format!("key \"{name}\": expected a number, got {other}"))
                        )
                    }
                    (Cells::Text(c), serde_json::Value::String(s)) => c.push(s),
                    (Cells::Text(c), serde_json::Value::Null) => c.push(String::new()),
                    (Cells::Text(c), other) => c.push(other.to_string()),
                }
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
        let frame = Frame::new(columns)?;
        let labels =
            self.label.as_ref().map(|l| Column::text(l.clone(), std::mem::take(&mut labels)));
        Ok(Some(Chunk { frame, labels, ids: Vec::new(), first_line }))
    }
}
