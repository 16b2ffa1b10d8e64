//! What each data-reader fuzz target does with one input, shared by the targets in
//! `fuzz/fuzz_targets/` and the regression tests in `crates/latent-data/tests/`.
//!
//! Each function feeds the bytes to the public entry points of `latent-data` under a few fixed
//! option sets and returns every outcome (`Err` holds the error message); it must never panic.

use std::io::Cursor;
use std::path::Path;

use latent_data::{load_bytes, load_image_bytes, CsvChunks, LoadOptions, StreamOptions};

/// The outcome of one call, with the error as text.
pub type Outcome = Result<(), String>;

fn outcome<T, E: std::fmt::Display>(r: Result<T, E>) -> Outcome {
    r.map(|_| ()).map_err(|e| e.to_string())
}

/// Parquet: whole loads (plain, with a label, an id and a categorical column) of the bytes as
/// a `.parquet` file. The first outcome is the plain load.
pub fn parquet(data: &[u8]) -> Vec<Outcome> {
    let typed = LoadOptions {
        label_column: Some("label".into()),
        label_optional: true,
        categorical: vec!["x".into()],
        id_columns: vec!["id".into()],
        ..LoadOptions::default()
    };
    [LoadOptions::default(), typed]
        .iter()
        .map(|opts| outcome(load_bytes(Path::new("fuzz.parquet"), data, opts)))
        .collect()
}

/// Delimited text: whole-file loads (by name, TSV without a header, with a label and a
/// categorical column, by content) and chunked streams. The first outcome is the plain
/// `.csv` load.
pub fn csv(data: &[u8]) -> Vec<Outcome> {
    let typed = LoadOptions {
        label_column: Some("label".into()),
        categorical: vec!["color".into()],
        ..LoadOptions::default()
    };
    let headerless = LoadOptions { has_header: false, ..LoadOptions::default() };
    let loads = [
        ("fuzz.csv", LoadOptions::default()),
        ("fuzz.tsv", headerless),
        ("fuzz.csv", typed),
        ("fuzz.txt", LoadOptions::default()),
    ];
    let mut out: Vec<Outcome> =
        loads.iter().map(|(name, opts)| outcome(load_bytes(Path::new(name), data, opts))).collect();
    let streams = [
        StreamOptions {
            chunk_rows: 2,
            categorical: vec!["color".into()],
            label_column: Some("label".into()),
            ..StreamOptions::default()
        },
        StreamOptions { delimiter: b';', has_header: false, chunk_rows: 1, ..Default::default() },
    ];
    for opts in &streams {
        let input = Box::new(Cursor::new(data.to_vec()));
        match CsvChunks::new(input, Path::new("fuzz.csv"), opts) {
            Err(e) => out.push(Err(e.to_string())),
            Ok(chunks) => {
                let mut last = Ok(());
                for chunk in chunks {
                    last = outcome(chunk);
                }
                out.push(last);
            }
        }
    }
    out
}

/// NumPy: an `.npz` load when the bytes start like a zip archive, else an `.npy` load.
pub fn npy(data: &[u8]) -> Vec<Outcome> {
    let name = if data.starts_with(b"PK") { "fuzz.npz" } else { "fuzz.npy" };
    vec![outcome(load_bytes(Path::new(name), data, &LoadOptions::default()))]
}

/// MNIST IDX, by name and by content.
pub fn idx(data: &[u8]) -> Vec<Outcome> {
    let opts = LoadOptions::default();
    vec![
        outcome(load_bytes(Path::new("fuzz-images-idx3-ubyte"), data, &opts)),
        outcome(load_bytes(Path::new("fuzz.bin"), data, &opts)),
    ]
}

/// One PNG/JPEG image: as is, then greyscale and resized.
pub fn image(data: &[u8]) -> Vec<Outcome> {
    let resized = LoadOptions { grayscale: true, resize: Some((5, 3)), ..LoadOptions::default() };
    vec![
        outcome(load_image_bytes(Path::new("fuzz.png"), data, &LoadOptions::default())),
        outcome(load_image_bytes(Path::new("fuzz.jpg"), data, &resized)),
    ]
}
