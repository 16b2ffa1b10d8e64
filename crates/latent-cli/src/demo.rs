//! `latent demo`: the main job on data shipped with latent. Splits the 8x8 digits into train
//! and test, trains a dense autoencoder, encodes and reconstructs the test rows, and compares
//! the test reconstruction error with PCA using as many components as the latent code.

use crate::args::DemoArgs;
use crate::output::{architecture, print_table};
use crate::progress::TrainProgress;
use crate::train::metrics_path;
use anyhow::{Context, Result};
use latent::engine::AdamConfig;
use latent::pca::Pca;
use latent::{
    Activation, FitConfig, Frame, Loss, Model, ModelConfig, PreprocessConfig, Scaling, TrainConfig,
};
use latent_data::LoadOptions;

/// The digits data, embedded so the demo runs anywhere.
const DIGITS_CSV: &str = include_str!("../../../data/digits/digits.csv");
/// Latent size of the demo model (and PCA components).
const CODE: usize = 8;

/// Runs `latent demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let all_path = dir.join("digits.csv");
    std::fs::write(&all_path, DIGITS_CSV)
        .with_context(|| format!("cannot write {}", all_path.display()))?;
    let opts = LoadOptions { label_column: Some("label".into()), ..LoadOptions::default() };
    let all = latent_data::load(&all_path, &opts)?;
    let labels = all.labels.context("digits.csv has no label column")?;

    // A fixed 80/20 split: every fifth row is a test row.
    let test_rows: Vec<usize> = (0..all.frame.rows()).filter(|r| r % 5 == 4).collect();
    let train_rows: Vec<usize> = (0..all.frame.rows()).filter(|r| r % 5 != 4).collect();
    let (train, test) = (all.frame.select_rows(&train_rows), all.frame.select_rows(&test_rows));
    let labels = Frame::new(vec![labels])?;
    let train_labels = labels.select_rows(&train_rows).columns().to_vec();
    let label_col = labels.select_rows(&test_rows).columns().to_vec();
    latent_data::write_frame(&dir.join("train.csv"), &train, &train_labels)?;
    latent_data::write_frame(&dir.join("test.csv"), &test, &label_col)?;

    let config = FitConfig {
        model: ModelConfig {
            hidden: Some(vec![48]),
            latent: Some(CODE),
            activation: Activation::Relu,
            output: Some(Activation::Sigmoid),
            loss: Loss::Mse,
            ..ModelConfig::default()
        },
        preprocess: PreprocessConfig { scaling: Scaling::MinMax, ..PreprocessConfig::default() },
        train: TrainConfig {
            epochs: args.epochs,
            batch_size: 32,
            optimizer: AdamConfig { lr: 3e-3, ..AdamConfig::default() },
            val_split: 0.1,
            seed: args.seed,
            ..TrainConfig::default()
        },
        ..FitConfig::default()
    };

    let model_path = dir.join("model.safetensors");
    let log = std::fs::File::create(metrics_path(&model_path))?;
    let mut progress = TrainProgress::new(args.quiet, Some(log));
    let model = Model::fit(&train, &config, &mut progress);
    progress.finish();
    let mut model = model?;
    // An anomaly threshold, as `latent train` calibrates one by default (auto rule, training
    // rows): the report's score histogram shows it.
    let kind = model.default_score_kind();
    model.calibrate(&train, &latent::score::ThresholdRule::Auto, kind)?;
    model.save(&model_path)?;

    let codes = model.encode(&test)?;
    let code_frame = Frame::from_rows(Frame::default_names("z", codes.cols), &codes.data)?;
    latent_data::write_frame(&dir.join("codes.csv"), &code_frame, &label_col)?;
    latent_data::write_frame(
        &dir.join("reconstructions.csv"),
        &model.reconstruct(&test)?,
        &label_col,
    )?;

    let ae_mse = mean(&model.row_errors(&test)?.mse);
    // PCA in the same (scaled) space as the autoencoder.
    let (x_train, x_test) = (model.inputs(&train)?, model.inputs(&test)?);
    let width = model.preprocessor().output_width();
    let pca = Pca::fit(&x_train, width, CODE)?;
    let recon = pca.reconstruct(&x_test);
    let pca_mse = x_test.iter().zip(&recon).map(|(a, b)| f64::from((a - b) * (a - b))).sum::<f64>()
        / x_test.len() as f64;

    let summary = serde_json::json!({
        "data": "UCI optical digits, 8x8 pixels",
        "train_rows": train.rows(),
        "test_rows": test.rows(),
        "architecture": architecture(&model),
        "latent_size": CODE,
        "epochs": model.summary().map(|s| s.history.len()),
        "train_seconds": model.summary().map(|s| s.seconds),
        "test_mse_autoencoder": ae_mse,
        "test_mse_pca": pca_mse,
        "autoencoder_over_pca": ae_mse / pca_mse,
    });
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary)?)?;
    // The HTML report on the test rows: model, training curves, evaluation and plots, with the
    // rows drawn as the 8x8 images they are.
    let test_data = latent_data::load(&dir.join("test.csv"), &opts)?;
    let report_path = dir.join("report.html");
    let plot_opts = crate::plots::PlotOptions {
        image: Some(latent::ImageShape { channels: 1, height: 8, width: 8 }),
        labels: latent::LabelRule::Plain,
    };
    crate::report::write(&model, &model_path, Some(&test_data), &plot_opts, &report_path, None)?;
    if args.format == crate::options::Format::Json {
        return crate::output::print_json(&summary);
    }
    crate::output::print_line("latent demo: dense autoencoder vs PCA on 8x8 handwritten digits\n")?;
    print_table(&[
        ("model", format!("{} ({} parameters)", architecture(&model), model.parameter_count())),
        ("train / test rows", format!("{} / {}", train.rows(), test.rows())),
        ("test MSE, autoencoder", format!("{ae_mse:.5}")),
        (&format!("test MSE, PCA ({CODE} comp.)"), format!("{pca_mse:.5}")),
        ("autoencoder / PCA", format!("{:.3}", ae_mse / pca_mse)),
        ("outputs", dir.display().to_string()),
    ])?;
    crate::output::print_line(&format!(
        "\nwrote model.safetensors, model.metrics.jsonl, train.csv, test.csv, codes.csv, \
         reconstructions.csv, summary.json, report.html\nnext: open {} in a browser, or \
         latent info --model {}",
        report_path.display(),
        model_path.display()
    ))?;
    Ok(())
}

fn mean(v: &[f32]) -> f64 {
    crate::eval::mean(v)
}
