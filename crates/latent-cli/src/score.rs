//! `latent score`: anomaly score, flag, probability and explanations of every input row,
//! streamed in chunks so that memory stays constant however large the input.
//!
//! Input: a CSV file (optionally gzipped) or `-` for standard input, which is read as JSON lines
//! (one object per line, keys are column names) when its first non-space character is `{`, and
//! as CSV with a header otherwise. NPY/NPZ, IDX files and image folders are loaded whole and
//! then scored in chunks; Parquet (a file or a folder) is streamed batch by batch. Output: CSV
//! with one row per input row, in input order, or Parquet when the output name ends in
//! `.parquet` ([`crate::score_out`]).

use crate::data;
use crate::decimal::push_f32;
use crate::exit::BadInput;
use crate::options::{DataArgs, ScoreChoiceArgs, TableArgs};
use anyhow::{Context, Result};
use clap::Args;
use latent::score::{explain_rows, ScoreKind, Threshold};
use latent::{Column, Frame, Model};
use latent_data::{Chunk, CsvChunks, CsvSchema, JsonChunks, RawBlock, StreamOptions, TextRows};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Rows scored per chunk.
pub const CHUNK_ROWS: usize = 8192;

/// Arguments of `latent score`.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Input rows: a CSV file (or .csv.gz), a Parquet file or folder, `-` for standard input
    /// (CSV with a header, or JSON lines of objects), or NPY/NPZ/IDX/an image folder.
    #[arg(long, value_name = "PATH|-")]
    pub data: PathBuf,
    /// Output CSV, or Parquet when the name ends in .parquet (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the K columns contributing most to each score, with their share.
    #[arg(long, value_name = "K")]
    pub explain: Option<usize>,
    /// Score and threshold overrides.
    #[command(flatten)]
    pub choice: ScoreChoiceArgs,
    /// Also write `proba`, a [0, 1] mapping of the score (above 0.5 exactly when flagged).
    #[arg(long)]
    pub proba: bool,
    /// Also write `unknown_categories`: per row, the cells whose category was not seen in
    /// training (encoded as all zeros). A total is always reported on standard error.
    #[arg(long)]
    pub unknown_categories: bool,
    /// A column kept out of the features and copied to the output.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Table reading options.
    #[command(flatten)]
    pub table: TableArgs,
    /// Identifier columns copied to the output before the score, untouched (repeatable or
    /// comma separated; a model trained with --id-column recognises its own).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub id_column: Vec<String>,
    /// Missing values in the input: impute-mean fills them with the training mean even when
    /// the model was trained without missing values (default: the model's own policy).
    #[arg(long, value_enum)]
    pub missing: Option<crate::options::MissingArg>,
    /// Time-series models: read the input as a live stream, writing and flushing each
    /// point's score as soon as its line arrives.
    #[arg(long)]
    pub follow: bool,
    /// Time-series models: give each point the mean score of every window covering it
    /// (offline; the default is causal: the window ending at the point).
    #[arg(long)]
    pub centered: bool,
    /// Where the model computes.
    #[command(flatten)]
    pub device: crate::options::DeviceArg,
}

/// The threshold and score kind a run uses: the model's, or the `--threshold`/`--score`
/// overrides ([`Model::resolve_threshold`]). Errors (bad input, with the flags to use) when
/// they cannot be reconciled.
pub fn resolve_threshold(
    model: &Model,
    choice: ScoreChoiceArgs,
    need_reference: bool,
) -> Result<Threshold> {
    use latent::ThresholdError as E;
    let kind = choice.score.map(ScoreKind::from);
    model.resolve_threshold(kind, choice.threshold, need_reference).map_err(|e| {
        let message = match e {
            E::NeedsVariational(kind) => format!(
                "the {} score needs a variational model (--preset vae or conv-vae); use mse or mae",
                kind.name()
            ),
            E::NeedsDetector(kind) => format!(
                "the {0} score needs a model trained with the {0} detector (latent train \
                 --detector {0}{1}); use mse or mae",
                kind.name(),
                if kind == ScoreKind::Ensemble { ", or --preset anomaly" } else { "" }
            ),
            E::NotFinite(v) => format!("--threshold must be a finite number, got {v}"),
            E::NoCalibration { asked, saved } => format!(
                "--proba needs the model's calibration for {} scores, and the model has {}",
                asked.name(),
                saved.map_or("none".to_string(), |s| format!("one for {}", s.name()))
            ),
            E::OtherScore { saved, asked } => format!(
                "the model's threshold is for {} scores; pass --threshold V to flag {} scores",
                saved.name(),
                asked.name()
            ),
            E::Uncalibrated => "the model has no calibrated anomaly threshold (retrain it with \
                                this latent, or pass --threshold V)"
                .into(),
        };
        BadInput(message).into()
    })
}

/// A source of row chunks.
pub(crate) enum Input {
    Csv(CsvChunks),
    Parquet(latent_data::ParquetChunks),
    Json(JsonChunks),
    Loaded { frame: Frame, labels: Option<Column>, ids: Vec<Column>, next: usize },
}

/// Input on its way to the scorer: CSV records still to parse, or parsed rows.
enum Piece {
    Raw(RawBlock),
    Rows(Chunk),
}

impl Input {
    /// The next piece of input: CSV comes unparsed, so that parsing runs on every thread.
    fn next_piece(&mut self) -> Option<Result<Piece>> {
        match self {
            Input::Csv(c) => {
                c.next_block().map_err(anyhow::Error::from).transpose().map(|b| b.map(Piece::Raw))
            }
            Input::Json(j) => j.next().map(|c| c.map(Piece::Rows).map_err(Into::into)),
            Input::Parquet(p) => p.next().map(|c| c.map(Piece::Rows).map_err(Into::into)),
            Input::Loaded { frame, labels, ids, next } => {
                if *next >= frame.rows() {
                    return None;
                }
                let (start, end) = (*next, (*next + CHUNK_ROWS).min(frame.rows()));
                *next = end;
                let slice = |c: &Column| Column {
                    name: c.name.clone(),
                    values: match &c.values {
                        latent::ColumnValues::Numeric(v) => {
                            latent::ColumnValues::Numeric(v[start..end].to_vec())
                        }
                        latent::ColumnValues::Text(v) => {
                            latent::ColumnValues::Text(v[start..end].to_vec())
                        }
                    },
                };
                let rows: Vec<usize> = (start..end).collect();
                Some(Ok(Piece::Rows(Chunk {
                    frame: frame.select_rows(&rows),
                    labels: labels.as_ref().map(slice),
                    ids: ids.iter().map(slice).collect(),
                    first_line: start as u64 + 1,
                })))
            }
        }
    }

    /// The schema that parses raw pieces (CSV input only).
    /// The names of the identifier columns carried through to the output.
    pub(crate) fn id_names(&self) -> Vec<String> {
        match self {
            Input::Csv(c) => c.schema().id_columns().into_iter().map(str::to_string).collect(),
            Input::Parquet(p) => p.id_columns().into_iter().map(str::to_string).collect(),
            Input::Json(_) => Vec::new(),
            Input::Loaded { ids, .. } => ids.iter().map(|c| c.name.clone()).collect(),
        }
    }

    /// The name of the label column carried through to the output, when the input has one.
    pub(crate) fn label_name(&self) -> Option<String> {
        match self {
            Input::Csv(c) => c.schema().label_column().map(str::to_string),
            Input::Parquet(p) => p.label_column().map(str::to_string),
            Input::Json(j) => j.label_column().map(str::to_string),
            Input::Loaded { labels, .. } => labels.as_ref().map(|l| l.name.clone()),
        }
    }

    fn schema(&self) -> Option<CsvSchema> {
        match self {
            Input::Csv(c) => Some(c.schema().clone()),
            _ => None,
        }
    }
}

/// Opens the input of `score`/`evaluate` as a stream of chunks.
fn open(model: &Model, source: &ChunkSource<'_>) -> Result<Input> {
    let ChunkSource { path, label_column, table, id_columns } = *source;
    let mut cats = table.categorical.clone();
    cats.extend(model.preprocessor().categorical_names());
    let (stream_label, label_optional) = crate::data::label_column(label_column, Some(model));
    // What the streaming readers (Parquet, CSV) share; CSV adds its delimiter and header.
    let opts = StreamOptions {
        chunk_rows: CHUNK_ROWS,
        categorical: cats,
        label_column: stream_label,
        label_optional,
        na_values: table.na_values.clone(),
        id_columns: crate::data::id_columns(id_columns, Some(model)),
        ..StreamOptions::default()
    };
    if path.as_os_str() != "-" && latent_data::is_parquet(path) {
        let chunks = latent_data::ParquetChunks::open(path, &opts)?;
        crate::data::check_ids_found(id_columns, &chunks.id_columns(), path)?;
        return Ok(Input::Parquet(chunks));
    }
    if latent_data::is_array_or_images(path) {
        let args = DataArgs {
            data: path.to_path_buf(),
            label_column: label_column.map(str::to_string),
            table: table.clone(),
            id_column: id_columns.to_vec(),
            ..DataArgs::default()
        };
        let ds = data::load(&args, Some(model))?;
        return Ok(Input::Loaded { frame: ds.frame, labels: ds.labels, ids: ds.ids, next: 0 });
    }
    let reader = match latent_data::sniff(latent_data::open_input(path)?, path)? {
        TextRows::Empty => {
            return Err(BadInput(format!("{}: input is empty", path.display())).into())
        }
        TextRows::JsonLines(reader) => {
            return Ok(Input::Json(JsonChunks::new(reader, path, model.preprocessor(), &opts)))
        }
        TextRows::Delimited(reader) => reader,
    };
    let opts = StreamOptions {
        delimiter: crate::data::parse_delimiter(&table.delimiter)?,
        has_header: !table.no_header,
        ..opts
    };
    let chunks = CsvChunks::new(reader, path, &opts)?;
    crate::data::check_ids_found(id_columns, &chunks.schema().id_columns(), path)?;
    Ok(Input::Csv(chunks))
}

/// Runs `latent score`.
pub fn run(args: ScoreArgs) -> Result<()> {
    let mut model = data::load_model(&args.model)?;
    if let Some(m) = args.missing {
        model.set_missing_policy(m.into());
    }
    if let Some(spec) = model.manifest().series.clone() {
        return crate::series::score(&args, &model, &spec);
    }
    if args.follow || args.centered {
        return Err(BadInput(
            "--follow and --centered need a time-series model (latent train --window W)".into(),
        )
        .into());
    }
    let threshold = resolve_threshold(&model, args.choice, args.proba)?;
    let kind = threshold.score;
    let k = args.explain.unwrap_or(0).min(model.preprocessor().columns.len());
    let input = open(
        &model,
        &ChunkSource {
            path: &args.data,
            label_column: args.label_column.as_deref(),
            table: &args.table,
            id_columns: &args.id_column,
        },
    )?;
    let writer = ChunkWriter { model: &model, args: &args, threshold: &threshold, kind, k };
    if let Some(path) = args.out.as_deref().filter(|p| latent_data::is_parquet(p)) {
        let stats = crate::score_out::write_parquet(path, input, &writer, args.quiet)?;
        for w in stats.warnings() {
            eprintln!("{w}");
        }
        return Ok(());
    }
    // A file appears only when every row was scored (written beside it, renamed at the end).
    let out = match &args.out {
        Some(p) => crate::output::Sink::File(latent_data::AtomicFile::create(p)?),
        None => crate::output::Sink::Stdout(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let out_name =
        args.out.as_ref().map_or("standard output".to_string(), |p| p.display().to_string());
    let write_err = |e: std::io::Error| anyhow::anyhow!("cannot write {out_name}: {e}");

    // Identifier columns first, as they came; then the scores.
    let mut header = String::new();
    for id in input.id_names() {
        header += &csv_field(&id);
        header.push(',');
    }
    header += "score,is_anomaly";
    if args.proba {
        header += ",proba";
    }
    if args.unknown_categories {
        header += ",unknown_categories";
    }
    for i in 1..=k {
        header += &format!(",explain_{i},share_{i}");
    }
    if let Some(l) = input.label_name() {
        header.push(',');
        header += &csv_field(&l);
    }
    writeln!(out, "{header}").map_err(write_err)?;

    let bar = crate::progress::job_bar(args.quiet, None, "rows");
    let mut stats = InputStats::default();
    let result = map_in_order(
        input,
        |chunk| writer.render(&chunk),
        |(rows, bytes, chunk_stats)| {
            out.write_all(&bytes).map_err(write_err)?;
            bar.inc(rows);
            stats.add(chunk_stats);
            // What is scored is out before the next wait for input.
            out.flush().map_err(write_err)
        },
    );
    bar.finish_and_clear();
    result?;
    out.into_inner().map_err(|e| write_err(e.into_error()))?.finish()?;
    for w in stats.warnings() {
        eprintln!("{w}");
    }
    Ok(())
}

/// Reads `input` on one thread and maps every chunk of its rows with `f` on every thread
/// (CSV is parsed there too) as pieces arrive; `consume` gets the results in input order
/// ([`crate::pipeline::ordered_map`]: bounded memory however long the input, and a slow stream
/// is answered piece by piece). The first error, in input order, stops everything.
pub(crate) fn map_in_order<T: Send>(
    mut input: Input,
    f: impl Fn(Chunk) -> Result<T> + Sync,
    consume: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let schema = input.schema();
    crate::pipeline::ordered_map(
        move || input.next_piece(),
        |piece: Piece| match piece.into_chunk(schema.as_ref())? {
            Some(chunk) => f(chunk).map(Some),
            None => Ok(None), // blank lines only
        },
        consume,
    )
}

impl Piece {
    /// The piece's rows, parsing raw CSV with `schema`; `None` for blank lines only.
    fn into_chunk(self, schema: Option<&CsvSchema>) -> Result<Option<Chunk>> {
        match self {
            Piece::Rows(chunk) => Ok(Some(chunk)),
            Piece::Raw(block) => {
                let schema = schema.context("raw CSV records without a schema")?;
                Ok(schema.parse(&block)?)
            }
        }
    }
}

/// Scores chunks and writes their output lines.
pub(crate) struct ChunkWriter<'a> {
    pub(crate) model: &'a Model,
    pub(crate) args: &'a ScoreArgs,
    pub(crate) threshold: &'a Threshold,
    pub(crate) kind: ScoreKind,
    pub(crate) k: usize,
}

impl ChunkWriter<'_> {
    /// Scores and renders one chunk: its row count, output lines and input facts.
    fn render(&self, chunk: &Chunk) -> Result<(u64, Vec<u8>, InputStats)> {
        let mut bytes = Vec::with_capacity(chunk.frame.rows() * 24);
        let stats = self.write(chunk, &mut bytes)?;
        Ok((chunk.frame.rows() as u64, bytes, stats))
    }

    /// Scores a chunk and appends its output lines to `out`.
    fn write(&self, chunk: &Chunk, out: &mut Vec<u8>) -> Result<InputStats> {
        let args = self.args;
        let (scores, quality, explanations) = self.score(chunk)?;
        for (i, &s) in scores.iter().enumerate() {
            for id in &chunk.ids {
                out.extend_from_slice(csv_field(&id.values.cell_text(i)).as_bytes());
                out.push(b',');
            }
            push_f32(out, s);
            let flagged = s.is_nan() || self.threshold.is_anomaly(s);
            out.extend_from_slice(if flagged { b",1" } else { b",0" });
            if args.proba {
                out.push(b',');
                push_f32(out, self.threshold.proba(s));
            }
            if args.unknown_categories {
                write!(out, ",{}", quality.unknown[i])?;
            }
            if let Some(ex) = explanations.get(i) {
                for e in ex {
                    write!(out, ",{},", csv_field(&e.column))?;
                    push_f32(out, e.share);
                }
            }
            if let Some(l) = &chunk.labels {
                write!(out, ",{}", csv_field(&l.values.cell_text(i)))?;
            }
            out.push(b'\n');
        }
        Ok(InputStats::of(&quality))
    }

    /// Scores a chunk: per row, the score (NaN for a row without values), the input's
    /// quality, and the explanations asked for.
    pub(crate) fn score(
        &self,
        chunk: &Chunk,
    ) -> Result<(Vec<f32>, latent::preprocess::InputQuality, Vec<Vec<latent::score::Explanation>>)>
    {
        let model = self.model;
        let in_rows =
            || format!("{}: in the rows from line {}", self.args.data.display(), chunk.first_line);
        let quality = model.preprocessor().input_quality(&chunk.frame).with_context(in_rows)?;
        let x = model.inputs(&chunk.frame).with_context(in_rows)?;
        let (mut scores, r) = model.score_and_reconstruct(&x, self.kind)?;
        // A row with no values at all would be imputed to the training means and look like
        // the most normal row there is: it gets no score and is flagged.
        for (s, &empty) in scores.iter_mut().zip(&quality.all_missing) {
            if empty {
                *s = f32::NAN;
            }
        }
        let explanations = if self.k > 0 {
            explain_rows(model, &x, &r.data, self.k, self.kind)
        } else {
            Vec::new()
        };
        Ok((scores, quality, explanations))
    }
}

/// What scoring found in the input that the scores alone do not show, summed over chunks and
/// reported once at the end.
#[derive(Debug, Default)]
pub(crate) struct InputStats {
    /// Rows with at least one category unseen in training.
    unknown_rows: usize,
    /// Cells with an unseen category, per column.
    unknown_by_column: std::collections::BTreeMap<String, usize>,
    /// Rows with no value at all (scored NaN and flagged).
    empty_rows: usize,
}

impl InputStats {
    pub(crate) fn of(q: &latent::preprocess::InputQuality) -> InputStats {
        InputStats {
            unknown_rows: q.unknown.iter().filter(|&&n| n > 0).count(),
            unknown_by_column: q.unknown_by_column.iter().cloned().collect(),
            empty_rows: q.all_missing.iter().filter(|&&e| e).count(),
        }
    }

    pub(crate) fn add(&mut self, other: InputStats) {
        self.unknown_rows += other.unknown_rows;
        for (c, n) in other.unknown_by_column {
            *self.unknown_by_column.entry(c).or_insert(0) += n;
        }
        self.empty_rows += other.empty_rows;
    }

    /// Warnings for standard error, one per line.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.unknown_rows > 0 {
            let cells: Vec<String> =
                self.unknown_by_column.iter().map(|(c, n)| format!("\"{c}\": {n}")).collect();
            out.push(format!(
                "warning: {} rows had categories not seen in training (cells per column: {}); \
                 they are encoded as all zeros (--unknown-categories adds the count per row)",
                self.unknown_rows,
                cells.join(", ")
            ));
        }
        if self.empty_rows > 0 {
            out.push(format!(
                "warning: {} rows had no values at all: score NaN, flagged as anomalies",
                self.empty_rows
            ));
        }
        out
    }
}

/// A CSV field, quoted when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Opens an input as `score` does and maps its chunks with `f` on every thread, handing the
/// results to `consume` in input order (for other subcommands: `evaluate`).
pub fn map_chunks<T: Send>(
    model: &Model,
    source: &ChunkSource<'_>,
    f: impl Fn(Chunk) -> Result<T> + Sync,
    consume: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    map_in_order(open(model, source)?, f, consume)
}

/// Where [`map_chunks`] reads from, and how.
#[derive(Clone, Copy)]
pub struct ChunkSource<'a> {
    /// The file, or `-` for standard input.
    pub path: &'a Path,
    /// A column kept out of the features and returned as the chunk's labels.
    pub label_column: Option<&'a str>,
    /// How to read a table (categories besides the model's own, delimiter, header, missing
    /// values).
    pub table: &'a TableArgs,
    /// Identifier columns to carry through (besides the model's own).
    pub id_columns: &'a [String],
}
