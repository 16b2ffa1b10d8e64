//! Reading data files named on the command line.

use crate::args::DataArgs;
use crate::exit::BadInput;
use anyhow::Result;
use latent::Model;
use latent_data::{Dataset, LoadOptions};

/// Loads `args.data`; with a model, its categorical columns are read as text.
pub fn load(args: &DataArgs, model: Option<&Model>) -> Result<Dataset> {
    let delimiter = parse_delimiter(&args.delimiter)?;
    let resize = args.resize.as_deref().map(parse_size).transpose()?;
    let mut categorical = args.categorical.clone();
    if let Some(m) = model {
        categorical.extend(m.preprocessor().categorical_names());
    }
    let opts = LoadOptions {
        delimiter,
        has_header: !args.no_header,
        label_column: args.label_column.clone(),
        categorical,
        resize,
        grayscale: args.grayscale,
    };
    Ok(latent_data::load(&args.data, &opts)?)
}

/// The `--delimiter` byte: one character, or `\t` / `tab` for a tab.
pub fn parse_delimiter(s: &str) -> Result<u8> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        d if d.len() == 1 => Ok(d.as_bytes()[0]),
        d => Err(BadInput(format!("--delimiter must be one character, got \"{d}\"")).into()),
    }
}

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let bad = || BadInput(format!("--resize expects WIDTHxHEIGHT such as 28x28, got \"{s}\""));
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if w == 0 || h == 0 {
        return Err(bad().into());
    }
    Ok((w, h))
}

/// Context for errors about a loaded data file's contents: its path.
pub fn in_file(dataset: &Dataset) -> String {
    dataset.source.display().to_string()
}

/// Loads a model file.
pub fn load_model(path: &std::path::Path) -> Result<Model> {
    Ok(Model::load(path)?)
}
