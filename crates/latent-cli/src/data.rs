//! Reading data files named on the command line.

use crate::exit::BadInput;
use crate::options::DataArgs;
use anyhow::Result;
use latent::Model;
use latent_data::{Dataset, LoadOptions};

/// Loads `args.data`; with a model, its categorical columns are read as text.
pub fn load(args: &DataArgs, model: Option<&Model>) -> Result<Dataset> {
    let delimiter = parse_delimiter(&args.table.delimiter)?;
    let resize = args.image.resize.as_deref().map(parse_size).transpose()?;
    let mut categorical = args.table.categorical.clone();
    if let Some(m) = model {
        categorical.extend(m.preprocessor().categorical_names());
    }
    let (label_column, label_optional) = label_column(args.label_column.as_deref(), model);
    let opts = LoadOptions {
        delimiter,
        has_header: !args.table.no_header,
        label_column,
        label_optional,
        na_values: args.table.na_values.clone(),
        id_columns: id_columns(&args.id_column, model),
        categorical,
        resize,
        grayscale: args.image.grayscale,
    };
    let dataset = latent_data::load(&args.data, &opts)?;
    let found: Vec<&str> = dataset.ids.iter().map(|c| c.name.as_str()).collect();
    check_ids_found(&args.id_column, &found, &args.data)?;
    Ok(dataset)
}

/// The identifier columns to read: those given, and those the model was trained with.
pub fn id_columns(given: &[String], model: Option<&Model>) -> Vec<String> {
    let mut ids = given.to_vec();
    if let Some(m) = model {
        ids.extend(m.preprocessor().id_columns.iter().filter(|c| !given.contains(c)).cloned());
    }
    ids
}

/// Every identifier column given on the command line must be in the file (the model's own
/// may be absent).
pub fn check_ids_found(given: &[String], found: &[&str], path: &std::path::Path) -> Result<()> {
    match given.iter().find(|g| !found.contains(&g.as_str())) {
        Some(missing) => Err(BadInput(format!(
            "{}: id column \"{missing}\" not found (only CSV files have id columns)",
            path.display()
        ))
        .into()),
        None => Ok(()),
    }
}

/// The label column to read: the one given, else the one the model was trained with (used
/// only when the file has it: the bool says whether it is optional).
pub fn label_column(given: Option<&str>, model: Option<&Model>) -> (Option<String>, bool) {
    match (given, model.and_then(|m| m.preprocessor().label_column.clone())) {
        (Some(l), _) => (Some(l.to_string()), false),
        (None, Some(remembered)) => (Some(remembered), true),
        (None, None) => (None, false),
    }
}

/// The `--delimiter` byte: one character, or `\t` / `tab` for a tab.
pub fn parse_delimiter(s: &str) -> Result<u8> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        d if d.len() == 1 => Ok(d.as_bytes()[0]),
        d => Err(BadInput(format!("--delimiter must be one character, got \"{d}\"")).into()),
    }
}

/// The `--resize` size, `WIDTHxHEIGHT`.
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
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
