//! `latent export`: a model's encoder, decoder, full reconstruction or anomaly scorer as an
//! ONNX file ([`latent::onnx`]), for ONNX Runtime, Triton or a database's inference engine.

use crate::options::ScoreChoiceArgs;
use anyhow::Result;
use clap::{Args, ValueEnum};
use latent::onnx::Part;
use std::path::PathBuf;

/// The exported file's format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// ONNX (IR version 8, opset 17).
    Onnx,
}

/// Which part of the model to export.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartArg {
    /// Raw input columns to latent codes.
    Encoder,
    /// Latent codes to reconstructions in the original units.
    Decoder,
    /// Raw input columns to reconstructions in the original units.
    Full,
    /// Raw input columns to `score` and `is_anomaly` (scaling, reconstruction, per-row
    /// error and the threshold).
    Scorer,
}

/// Arguments of `latent export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "onnx")]
    pub format: ExportFormat,
    /// The exported file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The part of the model to export.
    #[arg(long, value_enum, default_value = "scorer")]
    pub part: PartArg,
    /// Scorer: the score (mse or mae can be exported) and threshold overrides.
    #[command(flatten)]
    pub choice: ScoreChoiceArgs,
}

/// Runs `latent export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let model = crate::data::load_model(&args.model)?;
    let part = match args.part {
        PartArg::Encoder => Part::Encoder,
        PartArg::Decoder => Part::Decoder,
        PartArg::Full => Part::Full,
        PartArg::Scorer => Part::Scorer,
    };
    let threshold = if part == Part::Scorer {
        Some(crate::score::resolve_threshold(&model, args.choice, false)?)
    } else {
        None
    };
    let bytes = latent::onnx::export(&model, part, threshold.as_ref())?;
    crate::output::write_file(&args.out, &bytes)?;
    eprintln!(
        "wrote {} ({} of the model, ONNX opset {}, {} bytes)",
        args.out.display(),
        part.name(),
        latent::onnx::OPSET,
        bytes.len()
    );
    if let Some(series) = &model.manifest().series {
        // The graph scores windows; the per-point score is that of the window ending there.
        eprintln!(
            "note: a windowed model: the input rows are windows of {} points ({} values, in \
             the order {}, ...), not points; a point's causal score is its window's",
            series.window,
            model.preprocessor().output_width(),
            series.feature_names().iter().take(2).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}
