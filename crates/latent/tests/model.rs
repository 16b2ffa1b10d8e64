//! The library as a user embeds it: fit, save, load, infer; preprocessing invariants;
//! the training loop's guards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::config::PreprocessConfig;
use latent::train::Silent;
use latent::{Column, FitConfig, Frame, MissingPolicy, Model, Preprocessor, Scaling};
use proptest::prelude::*;

fn toy_values(rows: usize) -> Vec<f32> {
    let mut values = Vec::new();
    for r in 0..rows {
        let t = r as f32 / rows as f32;
        values.extend([t, 2.0 * t + 1.0, (6.0 * t).sin(), 1.0 - t]);
    }
    values
}

fn toy_frame(rows: usize) -> Frame {
    Frame::from_rows(Frame::default_names("f", 4), &toy_values(rows)).expect("frame")
}

fn quick_config() -> FitConfig {
    let mut c = FitConfig::default();
    c.model.hidden = Some(vec![8]);
    c.model.latent = Some(2);
    c.train.epochs = 5;
    c.train.batch_size = 16;
    c
}

#[test]
fn save_then_load_gives_identical_outputs() -> latent::Result<()> {
    let frame = toy_frame(200);
    let model = Model::fit(&frame, &quick_config(), &mut Silent)?;
    let dir = tempfile::tempdir().map_err(|e| latent::Error::Io { path: ".".into(), source: e })?;
    let path = dir.path().join("m.safetensors");
    model.save(&path)?;
    let loaded = Model::load(&path)?;
    assert_eq!(model.encode(&frame)?, loaded.encode(&frame)?);
    assert_eq!(model.reconstruct_scaled(&frame)?, loaded.reconstruct_scaled(&frame)?);
    assert_eq!(model.params().values(), loaded.params().values());
    assert_eq!(model.manifest().config, loaded.manifest().config);
    Ok(())
}

#[test]
fn training_is_reproducible_and_seed_dependent() -> latent::Result<()> {
    let frame = toy_frame(300);
    let mut cfg = quick_config();
    cfg.model.dropout = 0.2;
    let a = Model::fit(&frame, &cfg, &mut Silent)?;
    let b = Model::fit(&frame, &cfg, &mut Silent)?;
    assert_eq!(a.params().values(), b.params().values());
    cfg.train.seed += 1;
    let c = Model::fit(&frame, &cfg, &mut Silent)?;
    assert_ne!(a.params().values(), c.params().values());
    Ok(())
}

#[test]
fn divergence_stops_with_a_clear_error() {
    let frame = toy_frame(200);
    let mut cfg = quick_config();
    cfg.train.optimizer.lr = 1e30;
    cfg.preprocess.scaling = Scaling::None;
    cfg.model.output = Some(latent::Activation::Identity);
    let err = Model::fit(&frame, &cfg, &mut Silent).expect_err("must diverge");
    assert!(matches!(err, latent::Error::Diverged { epoch: 1, .. }), "{err}");
    assert!(err.to_string().starts_with("training diverged at epoch 1, batch "), "{err}");
    assert!(!err.to_string().contains("--"), "library errors name no CLI flag: {err}");
    assert!(!err.is_bad_input());
}

#[test]
fn early_stopping_restores_the_best_epoch() -> latent::Result<()> {
    let frame = toy_frame(200);
    let mut cfg = quick_config();
    cfg.train.epochs = 400;
    cfg.train.patience = Some(3);
    cfg.train.optimizer.lr = 0.05;
    let model = Model::fit(&frame, &cfg, &mut Silent)?;
    let s = model.summary().expect("summary");
    assert!(s.stopped_early, "ran all {} epochs", s.history.len());
    assert_eq!(s.history.len(), s.best_epoch + 3);
    Ok(())
}

#[test]
fn wrong_columns_are_named() -> latent::Result<()> {
    let frame = toy_frame(50);
    let model = Model::fit(&frame, &quick_config(), &mut Silent)?;
    let mut narrow = frame.clone();
    narrow.take_column("f2");
    let err = model.encode(&narrow).expect_err("schema");
    assert_eq!(err.to_string(), "data has 3 columns, model expects 4 (missing: \"f2\")");
    Ok(())
}

#[test]
fn missing_values_error_or_impute() -> latent::Result<()> {
    let frame = Frame::new(vec![
        Column::numeric("a", vec![1.0, f32::NAN, 3.0]),
        Column::numeric("b", vec![1.0, 2.0, 3.0]),
    ])?;
    let err = Preprocessor::fit(&frame, &PreprocessConfig::default()).expect_err("missing");
    assert!(err.to_string().contains("data row 2, column \"a\": missing value"), "{err}");
    let cfg = PreprocessConfig { scaling: Scaling::None, missing: MissingPolicy::ImputeMean };
    let p = Preprocessor::fit(&frame, &cfg)?;
    assert_eq!(p.transform(&frame)?, vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    Ok(())
}

#[test]
fn unknown_categories_map_to_zeros() -> latent::Result<()> {
    let train = Frame::new(vec![Column::text("proto", vec!["tcp".into(), "udp".into()])])?;
    let p = Preprocessor::fit(&train, &PreprocessConfig::default())?;
    let new = Frame::new(vec![Column::text("proto", vec!["icmp".into(), "udp".into()])])?;
    assert_eq!(p.transform(&new)?, vec![0.0, 0.0, 0.0, 1.0]);
    assert_eq!(p.feature_names(), vec!["proto=tcp", "proto=udp"]);
    Ok(())
}

proptest! {
    #[test]
    fn scaling_inverts(values in prop::collection::vec(-1e4f32..1e4, 2..60),
                       scaling in prop_oneof![Just(Scaling::Standard), Just(Scaling::MinMax), Just(Scaling::None)]) {
        let frame = Frame::new(vec![Column::numeric("x", values.clone())]).expect("frame");
        let cfg = PreprocessConfig { scaling, missing: MissingPolicy::Error };
        let p = Preprocessor::fit(&frame, &cfg).expect("fit");
        let scaled = p.transform(&frame).expect("transform");
        if scaling == Scaling::MinMax {
            prop_assert!(scaled.iter().all(|v| (-1e-5..=1.0 + 1e-5).contains(v)));
        }
        let back = p.inverse(&scaled).expect("inverse");
        let latent::ColumnValues::Numeric(got) = &back.columns()[0].values else { panic!("numeric") };
        for (g, w) in got.iter().zip(&values) {
            prop_assert!((g - w).abs() <= 1e-3 * (1.0 + w.abs()), "{} vs {}", g, w);
        }
    }

    #[test]
    fn one_hot_round_trips(cats in prop::collection::vec("[a-e]{1,2}", 1..40)) {
        let frame = Frame::new(vec![Column::text("c", cats.clone())]).expect("frame");
        let p = Preprocessor::fit(&frame, &PreprocessConfig::default()).expect("fit");
        let x = p.transform(&frame).expect("transform");
        let w = p.output_width();
        prop_assert!(x.chunks(w).all(|row| row.iter().sum::<f32>() == 1.0));
        let back = p.inverse(&x).expect("inverse");
        prop_assert_eq!(&back.columns()[0].values, &latent::ColumnValues::Text(cats));
    }
}

/// Inference splits rows into chunks over the threads; a row's reconstruction and code must not
/// depend on how many rows came with it (beyond the rounding of a differently blocked product).
#[test]
fn inference_does_not_depend_on_the_batch() -> latent::Result<()> {
    let (rows, width) = (2_100, 48);
    let values: Vec<f32> = (0..rows * width).map(|i| ((i * 7919 % 1000) as f32) / 1000.0).collect();
    let frame = Frame::from_rows(Frame::default_names("f", width), &values)?;
    let mut config = quick_config();
    config.model.hidden = Some(vec![256, 64]);
    config.model.latent = Some(16);
    config.train.epochs = 1;
    config.train.batch_size = 256;
    let model = Model::fit(&frame, &config, &mut Silent)?;
    let x = model.reconstruct_scaled(&frame)?;
    let inputs: Vec<f32> = x.data.clone();
    let whole = model.reconstruct_inputs(&inputs)?;
    let codes = model.encode_inputs(&inputs)?;
    for batch in [1, 7, 1_000, 1_500] {
        let mut start = 0;
        while start < rows {
            let n = batch.min(rows - start);
            let part = &inputs[start * width..(start + n) * width];
            let r = model.reconstruct_inputs(part)?;
            assert_close(&r.data, &whole.data[start * width..(start + n) * width], batch);
            let c = model.encode_inputs(part)?;
            assert_close(&c.data, &codes.data[start * 16..(start + n) * 16], batch);
            start += n;
        }
    }
    Ok(())
}

fn assert_close(got: &[f32], want: &[f32], batch: usize) {
    assert_eq!(got.len(), want.len(), "batch {batch}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "batch {batch}: {g} vs {w}");
    }
}

/// The forest detector: fitted after the network, saved in the model file (format version 2;
/// plain models stay version 1), loaded back bit for bit; its scores rank a planted outlier
/// first; a model without it refuses the forest score; a corrupt forest tensor is a clear
/// error, not a panic.
#[test]
fn the_forest_detector_is_saved_and_loaded() -> latent::Result<()> {
    use latent::score::ScoreKind;
    let mut values = toy_values(300);
    values.extend([0.5, -4.0, 3.0, 0.5]);
    let frame = Frame::from_rows(Frame::default_names("f", 4), &values)?;
    let mut config = quick_config();
    config.detector = latent::Detector::forest();
    let model = Model::fit(&frame, &config, &mut Silent)?;
    assert_eq!(model.default_score_kind(), ScoreKind::Forest);
    let scores = model.scores(&frame, ScoreKind::Forest)?;
    assert!(scores.iter().all(|s| *s > 0.0 && *s <= 1.0));
    let top = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
    assert_eq!(top, Some(300), "the planted row is the most isolated");

    let dir = tempfile::tempdir().map_err(|e| latent::Error::Io { path: ".".into(), source: e })?;
    let path = dir.path().join("m.safetensors");
    model.save(&path)?;
    let loaded = Model::load(&path)?;
    assert_eq!(loaded.manifest().format_version, 2);
    assert_eq!(loaded.forest(), model.forest());
    assert_eq!(loaded.scores(&frame, ScoreKind::Forest)?, scores);

    let plain = Model::fit(&frame, &quick_config(), &mut Silent)?;
    assert_eq!(plain.manifest().format_version, 1);
    assert!(plain.forest().is_none() && plain.scores(&frame, ScoreKind::Forest).is_err());

    // Point one split at a feature the forest does not have.
    let bytes =
        std::fs::read(&path).map_err(|e| latent::Error::Io { path: path.clone(), source: e })?;
    let (header, body) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| latent::Error::Data(e.to_string()))?;
    let info = body.info("forest.feature").expect("forest tensor");
    let at = 8 + header + info.data_offsets.0;
    let mut corrupt = bytes.clone();
    corrupt[at..at + 4].copy_from_slice(&1000.0f32.to_le_bytes());
    let bad = dir.path().join("bad.safetensors");
    std::fs::write(&bad, corrupt)
        .map_err(|e| latent::Error::Io { path: bad.clone(), source: e })?;
    let err = Model::load(&bad).expect_err("corrupt forest").to_string();
    assert!(err.contains("forest") && err.contains("feature 1000"), "{err}");
    Ok(())
}

/// The ensemble detector (the `--preset anomaly` default): fitted after the network, saved
/// as format version 3, loaded back bit for bit; its scores are positive and rank a planted
/// outlier first; the auto threshold flags it and few of the training rows; a truncated member tensor
/// is a clear error.
#[test]
fn the_ensemble_detector_is_saved_and_loaded() -> latent::Result<()> {
    use latent::score::ScoreKind;
    use rand::{Rng, SeedableRng};
    // A noisy plane in 4-D (the toy curve's evenly spaced rows would make every kNN distance
    // alike), then one row far off it.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut values = Vec::new();
    for _ in 0..300 {
        let (a, b): (f32, f32) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let mut noise = || rng.random_range(-0.05..0.05);
        values.extend([a + noise(), b + noise(), a - b + noise(), a + b + noise()]);
    }
    values.extend([0.5, -0.5, 3.0, -2.0]);
    let frame = Frame::from_rows(Frame::default_names("f", 4), &values)?;
    let mut config = quick_config();
    config.detector = latent::Detector::ensemble();
    let mut model = Model::fit(&frame, &config, &mut Silent)?;
    assert_eq!(model.default_score_kind(), ScoreKind::Ensemble);
    model.calibrate(&frame, &latent::score::ThresholdRule::Auto, ScoreKind::Ensemble)?;
    let scores = model.scores(&frame, ScoreKind::Ensemble)?;
    assert!(scores.iter().all(|s| *s > 0.0 && s.is_finite()));
    let top = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
    assert_eq!(top, Some(300), "the planted row scores highest");
    let threshold = model.threshold().expect("calibrated");
    assert_eq!(threshold.score, ScoreKind::Ensemble);
    assert!(threshold.flagged_share < 0.1, "{threshold:?}");
    assert!(threshold.is_anomaly(scores[300]));

    let dir = tempfile::tempdir().map_err(|e| latent::Error::Io { path: ".".into(), source: e })?;
    let path = dir.path().join("m.safetensors");
    model.save(&path)?;
    let loaded = Model::load(&path)?;
    assert_eq!(loaded.manifest().format_version, 3);
    assert_eq!(loaded.detector(), model.detector());
    assert_eq!(loaded.scores(&frame, ScoreKind::Ensemble)?, scores);
    assert!(loaded.scores(&frame, ScoreKind::Forest).is_err());

    // Cut the standardisation tensor's shape in the header: a clear error names the file.
    let bytes =
        std::fs::read(&path).map_err(|e| latent::Error::Io { path: path.clone(), source: e })?;
    let text = String::from_utf8_lossy(&bytes);
    let from = r#""ensemble.standardise":{"dtype":"F32","shape":[3,2]"#;
    assert!(text.contains(from), "tensor header as expected");
    let mut corrupt = bytes.clone();
    let at = text.find(from).map(|i| i + from.len() - 2).expect("found");
    corrupt[at] = b'1';
    let bad = dir.path().join("bad.safetensors");
    std::fs::write(&bad, corrupt)
        .map_err(|e| latent::Error::Io { path: bad.clone(), source: e })?;
    assert!(Model::load(&bad).is_err());
    Ok(())
}

/// A forest-detector model file written before the detector seam (the fuzz seed, committed
/// with an earlier latent) still loads through [`latent::FittedDetector::from_tensors`]: the
/// detector, its score and explanations are back, and saving it again writes the same
/// manifest and tensors.
#[test]
fn model_files_from_before_the_detector_seam_still_load() -> latent::Result<()> {
    use latent::score::ScoreKind;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let old = root.join("fuzz/seeds/model_file/forest_mixed.safetensors");
    let model = Model::load(&old)?;
    let detector = model.detector().expect("the forest detector");
    assert_eq!(detector.score_kind(), ScoreKind::Forest);
    assert_eq!(model.default_score_kind(), ScoreKind::Forest);
    assert!(detector.describe().contains("isolation forest"), "{}", detector.describe());
    assert!(model.detector_summary().contains("residuals"), "{}", model.detector_summary());
    assert_eq!(model.manifest().config.detector.name(), "forest");
    let width = model.preprocessor().output_width();
    let x = vec![0.25f32; 3 * width];
    let scores = model.score_inputs(&x, ScoreKind::Forest)?;
    assert!(scores.iter().all(|s| *s > 0.0 && *s <= 1.0), "{scores:?}");
    assert_eq!(model.explain_inputs(&x, 2, ScoreKind::Forest).unwrap().len(), 3);

    let dir = tempfile::tempdir().map_err(|e| latent::Error::Io { path: ".".into(), source: e })?;
    let again = dir.path().join("again.safetensors");
    model.save(&again)?;
    let (m1, mut t1) = latent::artifact::load(&old)?;
    let (m2, mut t2) = latent::artifact::load(&again)?;
    assert_eq!(m1, m2);
    assert_eq!(t1.remove("forest.feature"), t2.remove("forest.feature"));
    assert_eq!(t1, t2);
    Ok(())
}
