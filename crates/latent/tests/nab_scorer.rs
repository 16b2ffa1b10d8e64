//! The NAB scorer against NAB's own published numbers: per-file scores of two detectors on a
//! committed excerpt (fast), and the final corpus scores of three detectors from their full
//! published result files (ignored: `NAB_RESULTS_DIR=<NAB checkout>/results cargo test
//! --release -p latent --test nab_scorer -- --ignored`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::series::nab::{self, ScoredSeries, PROFILES};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
struct Excerpt {
    detector: String,
    file: String,
    windows: Vec<(usize, usize)>,
    thresholds: BTreeMap<String, f64>,
    expected: BTreeMap<String, f64>,
    scores: Vec<f64>,
}

#[test]
fn per_file_scores_match_nab_on_the_excerpt() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nab/excerpt.json");
    let text = std::fs::read_to_string(path).unwrap();
    let excerpts: Vec<Excerpt> = serde_json::from_str(&text).unwrap();
    assert_eq!(excerpts.len(), 4);
    for e in &excerpts {
        let s = ScoredSeries {
            name: e.file.clone(),
            windows: e.windows.clone(),
            scores: e.scores.clone(),
        };
        for p in &PROFILES {
            let got = nab::series_score(&s, p, e.thresholds[p.name]);
            let want = e.expected[p.name];
            assert!(
                (got - want).abs() < 1e-6,
                "{} {} {}: {got} vs NAB {want}",
                e.detector,
                e.file,
                p.name
            );
        }
    }
}

/// NAB's published final scores (results/final_results.json, commit ea702d7).
const PUBLISHED: [(&str, [f64; 3]); 3] = [
    ("null", [0.0, 0.0, 0.0]),
    ("windowedGaussian", [39.649523496077585, 20.86798582474138, 47.4100271583046]),
    ("numenta", [70.10105611943965, 63.11684160219828, 74.3202443095115]),
];

/// The NAB data folder beside the repository (`../shared/data/nab`).
fn nab_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nab")
}

/// A detector's published corpus, read from `results/<detector>/<category>/<detector>_<file>`.
fn corpus(results: &Path, detector: &str) -> Vec<ScoredSeries> {
    let windows = nab::read_windows(&nab_data().join("labels/combined_windows.json")).unwrap();
    windows
        .iter()
        .map(|(name, ws)| {
            let (cat, file) = name.split_once('/').unwrap();
            let path = results.join(detector).join(cat).join(format!("{detector}_{file}"));
            let text = std::fs::read_to_string(&path).unwrap();
            let mut times = Vec::new();
            let mut scores = Vec::new();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                times.push(latent::series::time::parse_timestamp(f[0]).unwrap());
                scores.push(f[2].parse::<f64>().unwrap());
            }
            let windows = nab::window_indices(&times, ws).unwrap();
            ScoredSeries { name: name.clone(), windows, scores }
        })
        .collect()
}

#[test]
#[ignore = "needs NAB's published result files: NAB_RESULTS_DIR=<NAB checkout>/results"]
fn final_scores_match_nab_published_results() {
    let dir = std::env::var("NAB_RESULTS_DIR").expect("set NAB_RESULTS_DIR to NAB's results/");
    for (detector, published) in PUBLISHED {
        let c = corpus(Path::new(&dir), detector);
        assert_eq!(c.len(), 58);
        for (p, want) in PROFILES.iter().zip(published) {
            let got = nab::score_corpus(&c, p);
            eprintln!(
                "{detector} {}: {:.4} (NAB {want:.4}, raw {:.4})",
                p.name, got.normalised, got.raw
            );
            assert!(
                (got.normalised - want).abs() < 0.1,
                "{detector} {}: {} vs {want}",
                p.name,
                got.normalised
            );
        }
    }
}
