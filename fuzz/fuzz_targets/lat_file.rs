#![no_main]
//! Fuzzes the `.lat` compressed-file reader, `latent::codec::read` (see `fuzz/harness/lat.rs`).

#[path = "../harness/lat.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::lat_file(data);
});
