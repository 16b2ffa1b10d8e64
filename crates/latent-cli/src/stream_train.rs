//! `latent train --stream`: training on Parquet data larger than memory, read one row group
//! at a time (see [`latent::Model::fit_streamed`]).

use crate::args::TrainArgs;
use crate::data::{label_column, parse_delimiter};
use crate::exit::BadInput;
use crate::train::{architecture_chosen, progress_for, save_and_report};
use anyhow::{Context, Result};
use latent::{FitConfig, Model, StreamSettings};
use latent_data::{ParquetBlocks, StreamOptions};

/// Runs `latent train --stream` with the resolved configuration.
pub fn train(args: &TrainArgs, mut config: FitConfig) -> Result<()> {
    refuse_unsupported(args)?;
    let path = &args.data.data;
    let (label, label_optional) = label_column(args.data.label_column.as_deref(), None);
    let opts = StreamOptions {
        delimiter: parse_delimiter(&args.data.table.delimiter)?,
        categorical: args.data.table.categorical.clone(),
        label_column: label,
        label_optional,
        na_values: args.data.table.na_values.clone(),
        id_columns: args.data.id_column.clone(),
        ..StreamOptions::default()
    };
    let mut blocks = ParquetBlocks::open(path, &opts)?;
    args.family.apply_to_data(&mut config, false, architecture_chosen(args));
    let mut settings = StreamSettings::for_columns(blocks.columns());
    if let Some(rows) = args.shuffle_buffer {
        if rows == 0 {
            return Err(BadInput("--shuffle-buffer must be at least 1 row".into()).into());
        }
        settings.shuffle_rows = Some(rows);
    }
    let mut progress = progress_for(args)?;
    let model = Model::fit_streamed(&mut blocks, &config, &settings, &mut progress);
    progress.finish();
    let mut model = model.with_context(|| path.display().to_string())?;
    model.set_label_column(args.data.label_column.clone());
    model.set_id_columns(args.data.id_column.clone());
    save_and_report(&model, args, None)
}

/// Flags that need the whole data set in memory, refused with the reason.
fn refuse_unsupported(args: &TrainArgs) -> Result<()> {
    let refused = [
        (args.checkpoint_every.is_some() || args.checkpoint_dir.is_some(), "--checkpoint-every"),
        (args.resume.is_some(), "--resume"),
        (args.quant_step.is_some(), "--quant-step"),
        (args.series.window.is_some(), "--window"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(BadInput(format!(
            "{flag} is not available with --stream yet; train without --stream, or leave \
             {flag} out"
        ))
        .into());
    }
    let path = &args.data.data;
    if !latent_data::is_parquet(path) {
        return Err(BadInput(format!(
            "{}: --stream reads Parquet (a .parquet file or a folder of them); load other \
             formats whole (without --stream), or convert them to Parquet first",
            path.display()
        ))
        .into());
    }
    Ok(())
}
