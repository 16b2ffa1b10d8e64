//! `latent encode` / `latent reconstruct` with a `.parquet` output: the input is read chunk by
//! chunk as `latent score` reads it (CSV, Parquet and JSON lines streamed), each chunk is
//! transformed on any thread, and the results are written in input order as row batches, so
//! memory stays bounded however large the input. Columns: the transformed values, then the
//! identifier columns and the label column, as the CSV output has them.

use crate::args::TransformArgs;
use crate::score::{map_chunks, ChunkSource};
use anyhow::{Context, Result};
use latent::{Column, Frame, Model};
use latent_data::{ParquetType, ParquetWriter};

/// Transforms every input row with `f` and writes the rows to `args.out` as Parquet.
pub fn to_parquet(
    args: &TransformArgs,
    model: &Model,
    f: impl Fn(&Frame) -> Result<Frame> + Sync,
) -> Result<()> {
    let data = &args.data;
    let source = ChunkSource {
        path: &data.data,
        label_column: data.label_column.as_deref(),
        table: &data.table,
        id_columns: &data.id_column,
    };
    let mut out: Option<ParquetWriter> = None;
    map_chunks(
        model,
        &source,
        |chunk| {
            let in_rows =
                || format!("{}: in the rows from line {}", data.data.display(), chunk.first_line);
            let frame = f(&chunk.frame).with_context(in_rows)?;
            let mut columns = frame.columns().to_vec();
            columns.extend(chunk.ids);
            columns.extend(chunk.labels.map(|l| {
                let texts = (0..l.values.len()).map(|i| l.values.cell_text(i)).collect();
                Column::text(l.name, texts)
            }));
            Ok(columns)
        },
        |columns: Vec<Column>| {
            let writer = match out.as_mut() {
                Some(w) => w,
                None => out.insert(create(&args.out, &columns)?),
            };
            Ok(writer.write(&columns.iter().collect::<Vec<_>>())?)
        },
    )?;
    match out {
        Some(w) => Ok(w.finish()?),
        None => Err(crate::exit::BadInput(format!("{}: no data rows", data.data.display())).into()),
    }
}

/// A writer whose columns are those of the first batch.
fn create(path: &std::path::Path, columns: &[Column]) -> Result<ParquetWriter> {
    let types = latent_data::column_types(columns);
    let names: Vec<&str> = types.iter().map(|t| t.0.as_str()).collect();
    if let Some((_, dup)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return Err(crate::exit::BadInput(format!(
            "{}: column name \"{dup}\" would appear twice in the output",
            path.display()
        ))
        .into());
    }
    Ok(ParquetWriter::create(path, &types)?)
}

/// Writes recommendations as Parquet: `user`, `item` (strings), `score` (float), `rank`
/// (int64, from 1), one row per recommended item, in row groups.
pub fn recommendations<U: AsRef<str>, S: AsRef<str>>(
    path: &std::path::Path,
    users: &[U],
    recs: &[Vec<(u32, f32)>],
    items: &[S],
) -> Result<()> {
    let types = [
        ("user".to_string(), ParquetType::Text),
        ("item".to_string(), ParquetType::Text),
        ("score".to_string(), ParquetType::Float32),
        ("rank".to_string(), ParquetType::Int64),
    ];
    let mut out = ParquetWriter::create(path, &types)?;
    let (mut user, mut item, mut score, mut rank) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut flush = |user: &mut Vec<String>,
                     item: &mut Vec<String>,
                     score: &mut Vec<f32>,
                     rank: &mut Vec<f32>|
     -> Result<()> {
        let columns = [
            Column::text("user", std::mem::take(user)),
            Column::text("item", std::mem::take(item)),
            Column::numeric("score", std::mem::take(score)),
            Column::numeric("rank", std::mem::take(rank)),
        ];
        Ok(out.write(&columns.iter().collect::<Vec<_>>())?)
    };
    for (u, list) in users.iter().zip(recs) {
        for (r, &(i, s)) in list.iter().enumerate() {
            user.push(u.as_ref().to_string());
            item.push(items.get(i as usize).map_or(String::new(), |s| s.as_ref().to_string()));
            score.push(s);
            rank.push((r + 1) as f32);
        }
        if user.len() >= latent_data::ROW_GROUP_ROWS {
            flush(&mut user, &mut item, &mut score, &mut rank)?;
        }
    }
    if !user.is_empty() {
        flush(&mut user, &mut item, &mut score, &mut rank)?;
    }
    Ok(out.finish()?)
}
