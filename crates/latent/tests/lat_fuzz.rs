//! The `.lat` reader's fuzz target (`fuzz/harness/lat.rs`) on its committed seeds
//! (`fuzz/seeds/lat_file`, written here when missing so that they always match the format)
//! and on every input that once crashed it (`fuzz/regressions/lat_file`). Nothing may panic;
//! seeds must decode.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness/lat.rs"]
mod harness;

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join("lat_file")
}

fn files(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir(kind))
        .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "lat"));
    files.sort();
    files
}

fn replay(data: &[u8], name: &str) -> Result<usize, String> {
    catch_unwind(AssertUnwindSafe(|| harness::lat_file(data)))
        .unwrap_or_else(|_| panic!("lat_file panicked on {name}"))
}

/// The seeds: files of 0, 1 and 37 rows in blocks of 1, 8 and 64 rows, one with escapes.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let codec = harness::codec([0x5a; 32]).unwrap();
    let rows: Vec<i32> = (0..4 * 37).map(|i| ((i * 5) % 13) - 6).collect();
    let mut escaped = rows.clone();
    escaped[3] = 1000;
    escaped[77] = -70_000;
    let kind = latent::codec::FileKind::Table;
    [
        ("empty", &rows[..0], 8),
        ("one-row", &rows[..4], 1),
        ("blocks-of-8", &rows[..], 8),
        ("escapes", &escaped[..], 64),
    ]
    .into_iter()
    .map(|(name, levels, block)| {
        (name.to_string(), latent::codec::write(&codec, kind, levels, block).unwrap())
    })
    .collect()
}

#[test]
fn lat_file_seeds_decode() {
    for (name, bytes) in seeds() {
        let path = dir("seeds").join(format!("{name}.lat"));
        if !path.exists() {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "seed {name} is out of date");
        replay(&bytes, &name).unwrap();
    }
    assert_eq!(files("seeds").len(), 4);
}

#[test]
fn lat_file_regressions_do_not_panic() {
    for path in files("regressions") {
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = replay(&data, &path.display().to_string()) {
            assert!(!e.trim().is_empty());
        }
    }
}

#[test]
fn every_cut_and_flip_of_the_seeds_is_an_error_or_decodes() {
    for (name, bytes) in seeds() {
        for cut in 0..bytes.len() {
            assert!(replay(&bytes[..cut], &name).is_err(), "{name} cut at {cut}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut v = bytes.clone();
                v[i] ^= 1 << bit;
                let _ = replay(&v, &name);
            }
        }
    }
}
