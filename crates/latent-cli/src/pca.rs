//! `latent pca`: the PCA baseline with the same number of components as a model's code,
//! measured in the model's preprocessed space with the same statistics as `latent eval`.

use crate::args::PcaArgs;
use crate::data;
use crate::data::in_file;
use crate::eval::{print_report, EvalReport};
use crate::options::DataArgs;
use crate::transform::write_rows;
use anyhow::{Context, Result};
use latent::pca::Pca;
use latent::{Frame, RowErrors};

/// Runs `latent pca`.
pub fn run(args: PcaArgs) -> Result<()> {
    let model = data::load_model(&args.model)?;
    let train_args = DataArgs { data: args.train.clone(), ..args.data.clone() };
    let train = data::load(&train_args, Some(&model))?;
    let test = data::load(&args.data, Some(&model))?;
    let x_train = model.inputs(&train.frame).with_context(|| in_file(&train))?;
    let x_test = model.inputs(&test.frame).with_context(|| in_file(&test))?;
    let width = model.preprocessor().output_width();
    let k = args.components.unwrap_or(model.code_width());
    for out in [&args.out, &args.reconstructions].into_iter().flatten() {
        latent_data::atomic::check_destination(out)?;
    }
    let pca = Pca::fit(&x_train, width, k)?;
    let recon = pca.reconstruct(&x_test);
    let mut errors = RowErrors::default();
    errors.extend(&recon, &x_test, width);
    // The same files `encode` and `reconstruct` write, for a side-by-side comparison.
    if let Some(out) = &args.out {
        let codes = pca.transform(&x_test);
        let frame = Frame::from_rows(Frame::default_names("pc", pca.components()), &codes)?;
        write_rows(out, &frame, test.ids.clone(), test.labels.clone())?;
    }
    if let Some(out) = &args.reconstructions {
        let frame = model.preprocessor().inverse(&recon)?;
        write_rows(out, &frame, test.ids.clone(), test.labels.clone())?;
    }
    print_report(&EvalReport::from_errors(&errors, latent::Loss::Mse), args.format)
}
