//! What the `lat_file` fuzz target does with one input, shared by the target and the
//! regression tests in `crates/latent/tests/lat_fuzz.rs`: read the bytes as a `.lat`
//! compressed file with [`latent::codec::read`], using a fixed entropy model of a 4-wide code
//! whose fingerprint is the one the file's header names (so that the fuzzer reaches the
//! blocks without having to guess it). A file naming the fingerprint of the committed
//! `--preset compress` model (`crates/latent-cli/tests/data/codec/compress-model.safetensors`)
//! is read with that model's learned per-channel tables instead (`compress-tables.json`, its
//! `codec` field), at whatever code width the header gives that the tables fit. Never panics.

use latent::codec::{self, Codec, CodecTables};
use std::path::Path;

/// Most values a fuzzed file may announce (keeps one input fast: a symbol of high
/// probability costs almost no bits, so a short file can legitimately hold many values).
const MAX_VALUES: u64 = 1 << 20;

/// The entropy model of the fuzzed files: quantised values -6..=6 seen unevenly, step 0.1.
pub fn tables() -> CodecTables {
    let levels: Vec<i32> = (0..4000).map(|i: i32| ((i * 7919) % 13) - 6 + (i % 4) / 3).collect();
    CodecTables::fit(&levels, 4, 0.1).unwrap_or_else(|_| CodecTables {
        step: 0.1,
        dims: Vec::new(),
        per_channel: false,
    })
}

/// The first bytes of the committed compression model's fingerprint, as its `.lat` files
/// carry them (seed `fuzz/seeds/lat_file/compress-preset.lat`).
pub const COMPRESS_FINGERPRINT: [u8; 8] = [0xcb, 0x6b, 0xe0, 0x8b, 0x09, 0x0c, 0xa7, 0xaa];

/// The learned per-channel tables of the committed compression model.
pub fn compress_tables() -> Result<CodecTables, String> {
    serde_json::from_str(include_str!("compress-tables.json")).map_err(|e| e.to_string())
}

/// A codec of [`tables`] with the given fingerprint.
pub fn codec(fingerprint: [u8; 32]) -> Result<Codec, String> {
    Codec::from_tables(tables(), 4, fingerprint).map_err(|e| e.to_string())
}

/// Reads the bytes as a `.lat` file; `Ok(values)` with the number of values decoded.
pub fn lat_file(data: &[u8]) -> Result<usize, String> {
    let path = Path::new("fuzz.lat");
    let (header, _) = codec::read_header(path, data).map_err(|e| e.to_string())?;
    if header.rows.saturating_mul(header.width) > MAX_VALUES {
        return Err("too many values for the fuzz target".into());
    }
    let mut fingerprint = [0u8; 32];
    fingerprint[..header.fingerprint.len()].copy_from_slice(&header.fingerprint);
    let codec = if header.fingerprint == COMPRESS_FINGERPRINT {
        let width = usize::try_from(header.width).map_err(|e| e.to_string())?;
        Codec::from_tables(compress_tables()?, width, fingerprint).map_err(|e| e.to_string())?
    } else {
        codec(fingerprint)?
    };
    let (_, levels) = codec::read(path, data, &codec).map_err(|e| e.to_string())?;
    Ok(levels.len())
}
