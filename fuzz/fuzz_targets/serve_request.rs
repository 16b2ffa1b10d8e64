#![no_main]
//! Fuzzes the JSON request bodies of the service against the seed models (see
//! `fuzz/harness/serve.rs`).

use std::sync::OnceLock;

use latent_serve::AppState;

#[path = "../harness/serve.rs"]
#[allow(dead_code)]
mod harness;

static STATES: OnceLock<Vec<AppState>> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let states = STATES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/model_file");
        match harness::states(&dir) {
            Ok(states) => states,
            Err(e) => panic!("cannot load the seed models: {e}"),
        }
    });
    let answers = harness::serve_request(states, data);
    if let Some(problem) = harness::problem(&answers) {
        panic!("{problem}");
    }
});
