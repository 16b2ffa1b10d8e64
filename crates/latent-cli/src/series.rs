//! Time series in `latent train` and `latent score`: a windowed model
//! ([`latent::series::SeriesSpec`] in its manifest) is trained on sliding windows of a
//! series, and scored point by point.
//!
//! Scoring reads the series line by line (CSV with a header, a file or `-`), keeps the last
//! `window` points in a ring buffer and writes one row per point: its time, its score (the
//! error of the window ending at it: causal, so appending points never changes an earlier
//! score), `is_anomaly`, and optionally the value columns contributing most. The first
//! `window − 1` points have empty fields. `--follow` scores and flushes every line as it
//! arrives; the batch mode scores windows in chunks; both write the same text. `--centered`
//! (batch only) gives each point the mean score of every window covering it.

use crate::args::TrainArgs;
use crate::decimal::push_f32;
use crate::exit::BadInput;
use crate::score::{csv_field, ScoreArgs};
use anyhow::{Context, Result};
use clap::Args;
use latent::score::{ScoreKind, Threshold, ThresholdRule};
use latent::series::score::{score_windows, ScoredWindows};
use latent::series::{time, window, SeriesSpec};
use latent::Model;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};

/// Windows scored per chunk in batch mode.
const CHUNK_WINDOWS: usize = 1024;

/// Time-series flags of `latent train`.
#[derive(Args, Debug, Clone, Default)]
pub struct SeriesTrainArgs {
    /// Train on sliding windows of this many points (a time-series model; `latent score` then
    /// gives one row per point).
    #[arg(long, value_name = "W")]
    pub window: Option<usize>,
    /// Points between the starts of consecutive training windows (`--stride` is the
    /// convolution stride).
    #[arg(long, value_name = "S", requires = "window")]
    pub window_stride: Option<usize>,
    /// The time column (ISO-8601 or epoch seconds, strictly increasing); without it the rows
    /// are taken in file order.
    #[arg(long, value_name = "NAME", requires = "window")]
    pub time_column: Option<String>,
}

/// The time-series model `--resume` names, when it names a model file (not a checkpoint):
/// `latent train --resume model.safetensors --data new.csv` fine-tunes it.
pub fn resumed_model(args: &TrainArgs) -> Option<Model> {
    let path = args.resume.as_deref().filter(|p| p.is_file())?;
    Model::load(path).ok().filter(|m| m.manifest().series.is_some())
}

/// Fine-tunes a time-series model on new data with its own windows and preprocessing, then
/// recalibrates its threshold on the new data.
fn fine_tune(
    args: &TrainArgs,
    mut model: Model,
    config: &latent::FitConfig,
    rule: &ThresholdRule,
) -> Result<()> {
    let Some(spec) = model.manifest().series.clone() else {
        return Err(BadInput("the model is not a time-series model".into()).into());
    };
    if args.series.window.is_some_and(|w| w != spec.window) {
        return Err(BadInput(format!(
            "the model reads windows of {}; fine-tuning keeps them (leave out --window)",
            spec.window
        ))
        .into());
    }
    let mut data = args.data.clone();
    data.table.categorical.extend(spec.time_column.clone());
    let dataset = crate::data::load(&data, None)?;
    let first_line = if data.table.no_header { 1 } else { 2 };
    let in_file = || crate::data::in_file(&dataset);
    let series = spec.series(&dataset.frame, first_line).with_context(in_file)?;
    let frame = spec.window_frame(&series, spec.stride).with_context(in_file)?;
    let log_path = crate::train::metrics_path(&args.out);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut progress = crate::progress::TrainProgress::new(args.quiet, Some(log));
    let done = model.fine_tune(&frame, &config.train, &mut progress);
    progress.finish();
    done.with_context(in_file)?;
    let all = spec.window_frame(&series, 1).with_context(in_file)?;
    let kind = model.score_kind();
    model.calibrate(&all, rule, kind).with_context(in_file)?;
    model.save(&args.out)?;
    if !args.quiet {
        eprintln!("{}", crate::output::train_summary(&model, &args.out));
    }
    Ok(())
}

/// Trains a windowed model (`latent train --window W`), or fine-tunes one (`--resume
/// model.safetensors`).
pub fn train(args: &TrainArgs, config: &latent::FitConfig, rule: &ThresholdRule) -> Result<()> {
    if let Some(model) = resumed_model(args) {
        return fine_tune(args, model, config, rule);
    }
    let s = &args.series;
    let window = s.window.unwrap_or(1);
    let mut data = args.data.clone();
    data.table.categorical.extend(s.time_column.clone());
    let dataset = crate::data::load(&data, None)?;
    let first_line = if data.table.no_header { 1 } else { 2 };
    let options = latent::series::fit::WindowOptions {
        time_column: s.time_column.clone(),
        window,
        stride: s.window_stride.unwrap_or(1),
    };
    let config = latent::FitConfig { threshold: rule.clone(), ..config.clone() };
    let log_path = crate::train::metrics_path(&args.out);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut progress = crate::progress::TrainProgress::new(args.quiet, Some(log));
    let checkpoints = crate::train::checkpoint_options(args)?;
    let model = latent::series::fit::fit(
        &dataset.frame,
        &options,
        first_line,
        &config,
        &mut progress,
        &checkpoints,
    );
    progress.finish();
    let model = model.map_err(|e| match e {
        latent::Error::Data(m) if m.contains("fewer than one window") => {
            BadInput(format!("{}: {m}", dataset.source.display())).into()
        }
        e => anyhow::Error::from(e).context(crate::data::in_file(&dataset)),
    })?;
    model.save(&args.out)?;
    if !args.quiet {
        eprintln!("{}", crate::output::train_summary(&model, &args.out));
    }
    Ok(())
}

/// One parsed input line.
struct Point {
    time: String,
    values: Vec<f32>,
}

/// Reads a series line by line: header, then one point per line.
struct Reader {
    lines: Box<dyn BufRead + Send>,
    name: String,
    delimiter: u8,
    time_index: Option<usize>,
    value_index: Vec<usize>,
    line: usize,
    last_time: Option<i64>,
    spec: SeriesSpec,
    buf: String,
}

impl Reader {
    fn open(args: &ScoreArgs, spec: &SeriesSpec) -> Result<Reader> {
        let raw = latent_data::open_input(&args.data)?;
        let mut lines: Box<dyn BufRead + Send> = Box::new(BufReader::new(raw));
        let name = args.data.display().to_string();
        let delimiter = crate::data::parse_delimiter(&args.table.delimiter)?;
        let mut header = String::new();
        lines.read_line(&mut header).with_context(|| format!("cannot read {name}"))?;
        let names: Vec<String> = if args.table.no_header {
            let n = split(header.trim_end_matches(['\n', '\r']), delimiter).len();
            (0..n).map(|i| format!("col{i}")).collect()
        } else {
            split(header.trim_end_matches(['\n', '\r']), delimiter)
        };
        let find = |c: &str| {
            names.iter().position(|n| n == c).ok_or_else(|| {
                BadInput(format!("{name}: column \"{c}\" of the model is not in the input"))
            })
        };
        let time_index = spec.time_column.as_deref().map(find).transpose()?;
        let value_index = spec.columns.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
        let mut r = Reader {
            lines,
            name,
            delimiter,
            time_index,
            value_index,
            line: 1,
            last_time: None,
            spec: spec.clone(),
            buf: String::new(),
        };
        if args.table.no_header {
            // The first line was data: parse it again as a point.
            r.line = 0;
            r.buf = header;
        }
        Ok(r)
    }

    /// The next point, `None` at the end of the input.
    fn next(&mut self) -> Result<Option<Point>> {
        loop {
            if self.buf.is_empty() {
                let n = self
                    .lines
                    .read_line(&mut self.buf)
                    .with_context(|| format!("cannot read {}", self.name))?;
                if n == 0 {
                    return Ok(None);
                }
            }
            self.line += 1;
            let text = std::mem::take(&mut self.buf);
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            return self.parse(text).map(Some);
        }
    }

    fn parse(&mut self, text: &str) -> Result<Point> {
        let fields = split(text, self.delimiter);
        let (name, line) = (&self.name, self.line);
        let bad = |m: String| anyhow::Error::from(BadInput(format!("{name}: line {line}: {m}")));
        let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let time = match (self.time_index, &self.spec.time_column) {
            (Some(i), Some(col)) => {
                let t = field(i);
                let v = time::parse_timestamp(t).ok_or_else(|| {
                    bad(format!(
                        "column {col}: {t:?} is not a timestamp (ISO-8601 or epoch seconds)"
                    ))
                })?;
                if let Some(prev) = self.last_time {
                    time::check_order(col, prev, v, line)
                        .map_err(|e| BadInput(format!("{name}: {e}")))?;
                }
                self.last_time = Some(v);
                t.to_string()
            }
            _ => (line - 1).to_string(),
        };
        let values = self
            .value_index
            .iter()
            .zip(&self.spec.columns)
            .map(|(&i, col)| {
                let t = field(i).trim();
                match t.parse::<f32>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ if t.is_empty() => Err(bad(format!("column {col}: missing value"))),
                    _ => Err(bad(format!("column {col}: {t:?} is not a number"))),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Point { time, values })
    }
}

/// Appends a score as `latent score` writes it (shortest digits, as `Display`).
fn push_num(out: &mut String, v: f32) {
    let mut bytes = Vec::with_capacity(16);
    push_f32(&mut bytes, v);
    out.push_str(std::str::from_utf8(&bytes).unwrap_or("NaN"));
}

/// Splits a line on the delimiter, removing surrounding quotes.
fn split(line: &str, delimiter: u8) -> Vec<String> {
    line.split(delimiter as char)
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(f).to_string()
        })
        .collect()
}

/// Writes scored points as CSV rows.
struct Writer<'a> {
    model: &'a Model,
    spec: &'a SeriesSpec,
    threshold: &'a Threshold,
    kind: ScoreKind,
    explain: usize,
    proba: bool,
}

impl Writer<'_> {
    fn header(&self) -> String {
        let time = self.spec.time_column.clone().unwrap_or_else(|| "index".into());
        let mut h = format!("{},score,is_anomaly", csv_field(&time));
        if self.proba {
            h += ",proba";
        }
        for i in 1..=self.explain {
            h += &format!(",explain_{i},share_{i}");
        }
        h
    }

    /// A point without a full window yet.
    fn empty(&self, time: &str, out: &mut String) {
        out.push_str(&csv_field(time));
        out.push_str(",,");
        if self.proba {
            out.push(',');
        }
        for _ in 0..self.explain {
            out.push_str(",,");
        }
        out.push('\n');
    }

    /// Scores windows (row-major, raw values) and writes one row per window's last point.
    /// Each window goes through the network on its own (windows in parallel), so that a
    /// window's score does not depend on how many arrived with it: `--follow`, which scores
    /// one at a time, writes the same digits as the batch mode.
    fn windows(&self, times: &[String], windows: &[f32], out: &mut String) -> Result<()> {
        let frame = self.spec.frame_of_windows(windows.to_vec())?;
        let sw = score_windows(self.model, &frame, self.kind)?;
        for (i, (&s, time)) in sw.scores.iter().zip(times).enumerate() {
            self.row(time, Some(s), out);
            if self.explain > 0 {
                self.explanations(&sw, i, out);
            }
            out.push('\n');
        }
        Ok(())
    }

    fn row(&self, time: &str, score: Option<f32>, out: &mut String) {
        out.push_str(&csv_field(time));
        out.push(',');
        if let Some(s) = score {
            push_num(out, s);
            out.push_str(if self.threshold.is_anomaly(s) { ",1" } else { ",0" });
            if self.proba {
                out.push(',');
                push_num(out, self.threshold.proba(s));
            }
        }
    }

    /// The value columns with the largest shares of window `i`'s squared error.
    fn explanations(&self, sw: &ScoredWindows, i: usize, out: &mut String) {
        let top = sw.explain(self.spec, i, self.explain);
        for k in 0..self.explain {
            match top.get(k) {
                Some(e) => {
                    out.push(',');
                    out.push_str(&csv_field(&e.column));
                    out.push(',');
                    push_num(out, e.share);
                }
                None => out.push_str(",,"),
            }
        }
    }
}

/// Runs `latent score` on a windowed model.
pub fn score(args: &ScoreArgs, model: &Model, spec: &SeriesSpec) -> Result<()> {
    if args.follow && args.centered {
        return Err(BadInput(
            "--centered needs the points after each one; it cannot --follow".into(),
        )
        .into());
    }
    if args.centered && args.explain.is_some() {
        return Err(BadInput("--explain is not available with --centered".into()).into());
    }
    let threshold = crate::score::resolve_threshold(model, args.choice, args.proba)?;
    let writer = Writer {
        model,
        spec,
        kind: threshold.score,
        threshold: &threshold,
        explain: args.explain.unwrap_or(0).min(spec.columns.len()),
        proba: args.proba,
    };
    let out: Box<dyn Write + Send> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let out_name = args.out.as_ref().map_or("standard output".into(), |p| p.display().to_string());
    let write_err = |e: std::io::Error| anyhow::anyhow!("cannot write {out_name}: {e}");
    writeln!(out, "{}", writer.header()).map_err(write_err)?;
    if args.follow {
        out.flush().map_err(write_err)?;
    }
    let mut reader = Reader::open(args, spec)?;
    if args.centered {
        return centered(&mut reader, &writer, &mut out).map_err(|e| e.context(out_name.clone()));
    }
    let w = spec.window;
    let chunk = if args.follow { 1 } else { CHUNK_WINDOWS };
    let mut ring: VecDeque<f32> = VecDeque::with_capacity(w * spec.columns.len());
    let (mut times, mut windows, mut text) = (Vec::new(), Vec::new(), String::new());
    let mut seen = 0usize;
    loop {
        let point = reader.next()?;
        let end = point.is_none();
        if let Some(p) = point {
            seen += 1;
            ring.extend(&p.values);
            if ring.len() > w * p.values.len() {
                ring.drain(..p.values.len());
            }
            if seen < w {
                writer.empty(&p.time, &mut text);
            } else {
                windows.extend(ring.iter());
                times.push(p.time);
            }
        }
        if times.len() >= chunk || (end && !times.is_empty()) {
            writer.windows(&times, &windows, &mut text)?;
            times.clear();
            windows.clear();
        }
        if !text.is_empty() && (args.follow || text.len() > 1 << 16 || end) {
            out.write_all(text.as_bytes()).map_err(write_err)?;
            text.clear();
            if args.follow {
                out.flush().map_err(write_err)?;
            }
        }
        if end {
            break;
        }
    }
    if seen < w {
        return Err(BadInput(format!(
            "{}: the series has {seen} points, fewer than one window of {w}",
            args.data.display()
        ))
        .into());
    }
    out.flush().map_err(write_err)
}

/// `--centered`: every point gets the mean score of the windows covering it.
fn centered(reader: &mut Reader, writer: &Writer, out: &mut impl Write) -> Result<()> {
    let mut times = Vec::new();
    let mut values = Vec::new();
    while let Some(p) = reader.next()? {
        times.push(p.time);
        values.extend(p.values);
    }
    let w = writer.spec.window;
    let c = writer.spec.columns.len();
    let windows = window::windows(&values, c, w, 1).map_err(|e| BadInput(e.to_string()))?;
    let frame = writer.spec.frame_of_windows(windows)?;
    let scores = score_windows(writer.model, &frame, writer.kind)?.scores;
    let per_point = window::centered_scores(&scores, w, times.len());
    let mut text = String::new();
    for (t, s) in times.iter().zip(per_point) {
        writer.row(t, Some(s), &mut text);
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Clap's own checks of the whole command line (duplicate flags, bad `requires`), which
    /// only run by themselves in debug builds.
    #[test]
    fn the_command_line_definition_is_valid() {
        use clap::CommandFactory;
        crate::args::Cli::command().debug_assert();
    }
}
