//! BD-rate between two sets of latent compression models, each measured by
//! `latent benchmark-compress` (its `results.json`), with the library's `codec::bd_rate`.
//!
//! ```text
//! cargo run --release -p latent --example bd_rate -- ANCHOR/results.json TEST/results.json
//! ```
//!
//! Prints the BD-rate of TEST against ANCHOR (PSNR based; negative: TEST needs fewer bits at
//! equal PSNR) for the one-file-per-image rate and for the whole-set-in-one-file rate.

use latent::codec::bd_rate;
use serde_json::Value;

fn points(path: &str, rate: &str) -> Result<Vec<(f64, f64)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let models = json["latent"].as_array().ok_or(format!("{path}: no \"latent\" list"))?;
    models
        .iter()
        .map(|m| match (m[rate].as_f64(), m["psnr"].as_f64()) {
            (Some(r), Some(p)) => Ok((r, p)),
            _ => Err(format!("{path}: a model without {rate} and psnr")),
        })
        .collect()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [anchor, test] = args.as_slice() else {
        return Err("usage: bd_rate ANCHOR/results.json TEST/results.json".into());
    };
    for (rate, what) in [("bpp_per_file", "one file per image"), ("bpp_one_file", "one file")] {
        let d = bd_rate(&points(anchor, rate)?, &points(test, rate)?);
        match d {
            Some(d) => println!("BD-rate ({what}): {d:+.1}%"),
            None => println!("BD-rate ({what}): no common PSNR range"),
        }
    }
    Ok(())
}
