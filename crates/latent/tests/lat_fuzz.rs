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
    // Written by a `--preset compress` model (per-channel learned tables):
    //   latent compress --model crates/latent-cli/tests/data/codec/compress-model.safetensors \
    //     --data crates/latent-cli/tests/data/codec/compress-input-idx3-ubyte --block-rows 4 \
    //     --out fuzz/seeds/lat_file/compress-preset.lat
    let compress = std::fs::read(dir("seeds").join("compress-preset.lat")).unwrap();
    assert_eq!(replay(&compress, "compress-preset").unwrap(), 16 * 16);
    assert!(harness::compress_tables().unwrap().per_channel);
    assert_eq!(files("seeds").len(), 5);
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
    let mut all = seeds();
    all.push((
        "compress-preset".into(),
        std::fs::read(dir("seeds").join("compress-preset.lat")).unwrap(),
    ));
    for (name, bytes) in all {
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

/// A fixed-seed mutation run over the compression seed (the fuzzer's job in miniature, run by
/// every `cargo test`): random byte changes, insertions and removals, several at once.
#[test]
fn random_mutations_of_the_compression_seed_never_panic() {
    let seed = std::fs::read(dir("seeds").join("compress-preset.lat")).unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20_000 {
        let mut v = seed.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % v.len().max(1) as u64) as usize;
            match next() % 4 {
                0 => v[i] = next() as u8,
                1 => v.insert(i, next() as u8),
                2 if v.len() > 1 => {
                    v.remove(i);
                }
                _ => v[i] ^= 1 << (next() % 8),
            }
        }
        if let Err(e) = replay(&v, &format!("mutation {round}")) {
            assert!(!e.trim().is_empty());
        }
    }
}
