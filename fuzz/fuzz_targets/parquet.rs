#![no_main]
//! Fuzzes the Parquet reader of latent-data (see `fuzz/harness/data.rs`).

#[path = "../harness/data.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::parquet(data);
});
