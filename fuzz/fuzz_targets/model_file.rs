#![no_main]
//! Fuzzes the model-file loader, `latent::Model::load` (see `fuzz/harness/model.rs`).

#[path = "../harness/model.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::model_file(data);
});
