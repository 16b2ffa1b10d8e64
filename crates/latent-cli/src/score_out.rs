//! `latent score --out FILE.parquet`: the scores written as Parquet, one batch per chunk of
//! input rows as they are scored (bounded memory however many rows).
//!
//! Columns: the identifier columns (strings), `score` (float, null for a row without
//! values), `is_anomaly` (boolean), then as asked `proba` (float), `unknown_categories`
//! (int64), `explain_i` (string) and `share_i` (float), and the label column (string).

use crate::score::{map_in_order, ChunkWriter, Input, InputStats};
use anyhow::Result;
use latent::Column;
use latent_data::{Chunk, ParquetType, ParquetWriter};
use std::path::Path;

/// Scores `input` into a Parquet file at `path`; returns what scoring found in the input.
pub fn write_parquet(
    path: &Path,
    input: Input,
    writer: &ChunkWriter<'_>,
    quiet: bool,
) -> Result<InputStats> {
    let args = writer.args;
    let mut types: Vec<(String, ParquetType)> =
        input.id_names().into_iter().map(|n| (n, ParquetType::Text)).collect();
    types.push(("score".into(), ParquetType::Float32));
    types.push(("is_anomaly".into(), ParquetType::Boolean));
    if args.proba {
        types.push(("proba".into(), ParquetType::Float32));
    }
    if args.unknown_categories {
        types.push(("unknown_categories".into(), ParquetType::Int64));
    }
    for i in 1..=writer.k {
        types.push((format!("explain_{i}"), ParquetType::Text));
        types.push((format!("share_{i}"), ParquetType::Float32));
    }
    if let Some(l) = input.label_name() {
        types.push((l, ParquetType::Text));
    }
    let names: Vec<&str> = types.iter().map(|t| t.0.as_str()).collect();
    if let Some((_, dup)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return Err(crate::exit::BadInput(format!(
            "{}: column name \"{dup}\" would appear twice in the output",
            path.display()
        ))
        .into());
    }
    let mut out = ParquetWriter::create(path, &types)?;
    let bar = crate::progress::job_bar(quiet, None, "rows");
    let mut stats = InputStats::default();
    let result = map_in_order(
        input,
        |chunk| columns(writer, &chunk),
        |(columns, chunk_stats): (Vec<Column>, InputStats)| {
            out.write(&columns.iter().collect::<Vec<_>>())?;
            bar.inc(columns.first().map_or(0, |c| c.values.len()) as u64);
            stats.add(chunk_stats);
            Ok(())
        },
    );
    bar.finish_and_clear();
    result?;
    out.finish()?;
    Ok(stats)
}

/// One chunk's output columns, in the order of [`write_parquet`]'s schema.
fn columns(writer: &ChunkWriter<'_>, chunk: &Chunk) -> Result<(Vec<Column>, InputStats)> {
    let args = writer.args;
    let (scores, quality, explanations) = writer.score(chunk)?;
    let mut out: Vec<Column> = chunk.ids.clone();
    let flags: Vec<f32> = scores
        .iter()
        .map(|&s| if s.is_nan() || writer.threshold.is_anomaly(s) { 1.0 } else { 0.0 })
        .collect();
    if args.proba {
        let proba = scores.iter().map(|&s| writer.threshold.proba(s)).collect();
        out.push(Column::numeric("score", scores));
        out.push(Column::numeric("is_anomaly", flags));
        out.push(Column::numeric("proba", proba));
    } else {
        out.push(Column::numeric("score", scores));
        out.push(Column::numeric("is_anomaly", flags));
    }
    if args.unknown_categories {
        out.push(Column::numeric(
            "unknown_categories",
            quality.unknown.iter().map(|&n| n as f32).collect(),
        ));
    }
    for i in 0..writer.k {
        let column = explanations.iter().map(|e| e.get(i).map_or("", |e| &e.column)).collect();
        let share = explanations.iter().map(|e| e.get(i).map_or(f32::NAN, |e| e.share)).collect();
        out.push(Column::text(format!("explain_{}", i + 1), column_texts(column)));
        out.push(Column::numeric(format!("share_{}", i + 1), share));
    }
    if let Some(l) = &chunk.labels {
        let texts = (0..l.values.len()).map(|i| l.values.cell_text(i)).collect();
        out.push(Column::text(l.name.clone(), texts));
    }
    Ok((out, InputStats::of(&quality)))
}

fn column_texts(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(str::to_string).collect()
}
