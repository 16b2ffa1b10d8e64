//! Time-series scoring is causal: appending points to a series never changes the score of an
//! earlier point, for the raw window errors and for the whole detector (model fitted on the
//! first points, anomaly likelihood, range rule).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::series::detect::{self, DetectorConfig};
use latent::series::Series;
use proptest::prelude::*;

fn series(values: Vec<f32>) -> Series {
    Series { time_text: Vec::new(), times: Vec::new(), values, channels: 1 }
}

fn small() -> DetectorConfig {
    let mut c = DetectorConfig { window: 6, ..DetectorConfig::default() };
    c.fit.train.epochs = 5;
    c.likelihood.min_history = 10;
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn appending_points_never_changes_past_scores(
        values in prop::collection::vec(-5.0f32..5.0, 80..160),
        cut in 40usize..80,
    ) {
        let cfg = small();
        let full = series(values.clone());
        let head = series(values[..cut].to_vec());
        let (model, spec) = detect::fit(&full, 30, &cfg).unwrap();
        let raw_full = detect::raw_scores(&model, &spec, &full).unwrap();
        let raw_head = detect::raw_scores(&model, &spec, &head).unwrap();
        prop_assert_eq!(&raw_full[..cut], &raw_head[..]);
        let d_full = detect::detect(&full, 30, &cfg).unwrap();
        let d_head = detect::detect(&head, 30, &cfg).unwrap();
        prop_assert_eq!(&d_full[..cut], &d_head[..]);
    }
}

#[test]
fn a_spike_scores_higher_than_the_rest() {
    let mut v: Vec<f32> = (0..600).map(|i| (i as f32 * 0.2).sin()).collect();
    v[500] = 0.0; // a break of the rhythm, within the range seen so far
    v[501] = 0.9;
    let cfg = DetectorConfig { window: 16, ..DetectorConfig::default() };
    let s = detect::detect(&series(v), 150, &cfg).unwrap();
    let before = s[200..495].iter().cloned().fold(0.0, f64::max);
    let at = s[500..520].iter().cloned().fold(0.0, f64::max);
    assert!(at > before && at > 0.4, "{at} vs {before}");
}

#[test]
fn fine_tuning_keeps_the_preprocessing_and_moves_the_weights() {
    let cfg = DetectorConfig { window: 8, ..DetectorConfig::default() };
    let old = series((0..300).map(|i| (i as f32 * 0.2).sin()).collect());
    let (mut model, spec) = detect::fit(&old, 300, &cfg).unwrap();
    let before_pre = model.preprocessor().clone();
    let before_weights = model.params().values().to_vec();
    // New data on another level and rhythm: the fine-tuned model rebuilds it better.
    let new = series((0..300).map(|i| 3.0 + 0.5 * (i as f32 * 0.35).sin()).collect());
    let frame = spec.window_frame(&new, 1).unwrap();
    let kind = latent::score::ScoreKind::Mse;
    let mean = |m: &latent::Model| {
        let s = m.scores(&frame, kind).unwrap();
        s.iter().sum::<f32>() / s.len() as f32
    };
    let error_before = mean(&model);
    let mut train = cfg.fit.train.clone();
    train.epochs = 30;
    model.fine_tune(&frame, &train, &mut latent::train::Silent).unwrap();
    assert_eq!(model.preprocessor(), &before_pre);
    assert_ne!(model.params().values(), &before_weights[..]);
    assert_eq!(model.manifest().series.as_ref(), Some(&spec));
    let error_after = mean(&model);
    assert!(error_after < 0.5 * error_before, "{error_after} vs {error_before}");
}
