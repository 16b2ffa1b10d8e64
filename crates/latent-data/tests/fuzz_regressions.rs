#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Replays the fuzzing inputs of the data readers: every seed (`fuzz/seeds/<target>`) and every
//! input that once crashed a target (`fuzz/regressions/<target>`) goes through the same calls
//! as the fuzz target (`fuzz/harness/data.rs`). Nothing may panic; seeds must load.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness/data.rs"]
mod harness;

use harness::Outcome;

/// The files of `fuzz/<kind>/<target>`, sorted (none when the folder is absent).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    files
}

/// Runs `target` on each input, naming the file of any panic; returns the outcomes per file.
fn replay(
    kind: &str,
    target: &str,
    run: fn(&[u8]) -> Vec<Outcome>,
) -> Vec<(PathBuf, Vec<Outcome>)> {
    inputs(kind, target)
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).unwrap();
            let out = catch_unwind(AssertUnwindSafe(|| run(&data)))
                .unwrap_or_else(|_| panic!("{target} panicked on {}", path.display()));
            for err in out.iter().filter_map(|o| o.as_ref().err()) {
                assert!(!err.trim().is_empty(), "empty error message for {}", path.display());
            }
            (path, out)
        })
        .collect()
}

/// Seeds are valid files: the target's first call loads each of them.
fn seeds_load(target: &str, run: fn(&[u8]) -> Vec<Outcome>) {
    let seeds = replay("seeds", target, run);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    for (path, out) in seeds {
        assert!(out[0].is_ok(), "seed {} does not load: {:?}", path.display(), out[0]);
    }
}

#[test]
fn csv_seeds_load() {
    seeds_load("csv", harness::csv);
}

#[test]
fn csv_regressions_do_not_panic() {
    replay("regressions", "csv", harness::csv);
}

#[test]
fn parquet_seeds_load() {
    seeds_load("parquet", harness::parquet);
}

#[test]
fn parquet_regressions_do_not_panic() {
    replay("regressions", "parquet", harness::parquet);
}

#[test]
fn npy_seeds_load() {
    seeds_load("npy", harness::npy);
}

#[test]
fn npy_regressions_do_not_panic() {
    replay("regressions", "npy", harness::npy);
}

#[test]
fn idx_seeds_load() {
    seeds_load("idx", harness::idx);
}

#[test]
fn idx_regressions_do_not_panic() {
    replay("regressions", "idx", harness::idx);
}

#[test]
fn image_seeds_load() {
    seeds_load("image", harness::image);
}

#[test]
fn image_regressions_do_not_panic() {
    replay("regressions", "image", harness::image);
}

/// Each crash found by fuzzing, with the clear error it now gives instead (first call of the
/// target): (target, file in `fuzz/regressions/<target>/`, words of the message).
const FIXED: &[(&str, &str, &str)] = &[
    // 0 rows of 0xfcff0000 x 0x9b0000 x 0xa00ae: the row width overflowed (a panic).
    ("idx", "zero_rows_width_overflow.idx", "no data rows"),
    // An NPY v2 header claiming 2.9 GB: npyz allocated it before reading (out of memory).
    ("npy", "v2_header_length_3gb.npy", "invalid NPY header: it claims"),
    // An NPY header dict with brackets nested ~60 deep: npyz took minutes to parse it.
    ("npy", "nested_brackets_slow_header.npy", "invalid NPY header: brackets nested"),
    // 508 bytes of JPEG claiming 59400 x 2048 grey pixels: decoded, then one column per
    // pixel with a name each (2.9 GB for the names alone; out of memory). Asked to resize it,
    // the loader decoded all 121 million pixels first (10 s).
    ("image", "jpeg_59400x2048.jpg", "image is 59400x2048: 121651200 pixels, more than"),
];

#[test]
fn fixed_crashes_give_clear_errors() {
    for &(target, file, words) in FIXED {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions")
            .join(target)
            .join(file);
        let data = std::fs::read(&path).unwrap();
        let run = match target {
            "csv" => harness::csv,
            "npy" => harness::npy,
            "idx" => harness::idx,
            _ => harness::image,
        };
        let first = run(&data).remove(0);
        let msg = first.expect_err(file);
        assert!(msg.contains(words), "{file}: {msg}");
    }
}

/// Resizing is asked for by the caller, but is held to the same limit.
#[test]
fn images_resized_too_large_are_refused() {
    let seed = inputs("seeds", "image").remove(0);
    let data = std::fs::read(&seed).unwrap();
    let opts = latent_data::LoadOptions { resize: Some((2000, 1000)), ..Default::default() };
    let e = latent_data::load_image_bytes(&seed, &data, &opts).err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains("resized to 2000x1000")), "{e:?}");
}

/// The in-memory entry point the targets use reads exactly what [`latent_data::load`] reads
/// from a file of the same name (plain and gzipped).
#[test]
fn load_bytes_matches_load_on_the_seeds() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let opts = latent_data::LoadOptions::default();
    for (target, name) in [("csv", "s.csv"), ("npy", "s.npy"), ("idx", "s-idx3"), ("npy", "s")] {
        for path in inputs("seeds", target) {
            let data = std::fs::read(&path).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&data).unwrap();
            let gz = gz.finish().unwrap();
            let npz = data.starts_with(b"PK");
            for (name, bytes) in [(name.to_string(), &data), (format!("{name}.gz"), &gz)] {
                let name = if npz { name.replace(".npy", ".npz") } else { name };
                let file = dir.path().join(&name);
                std::fs::write(&file, bytes).unwrap();
                let from_file = latent_data::load(&file, &opts);
                let from_bytes = latent_data::load_bytes(Path::new(&name), bytes, &opts);
                match (from_file, from_bytes) {
                    (Ok(a), Ok(b)) => {
                        // Debug text, as NaN (a missing cell) is not equal to itself.
                        let a = format!("{:?}", (a.frame, a.labels));
                        assert_eq!(a, format!("{:?}", (b.frame, b.labels)), "{}", path.display());
                    }
                    (Err(a), Err(b)) => {
                        let a = a.to_string().replace(&dir.path().display().to_string(), "");
                        assert_eq!(a.trim_start_matches('/'), b.to_string(), "{}", path.display());
                    }
                    (a, b) => panic!("{} as {name}: {a:?} vs {b:?}", path.display()),
                }
            }
        }
    }
}
