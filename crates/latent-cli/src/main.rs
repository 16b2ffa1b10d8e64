//! `latent`: train, inspect and use autoencoders from the command line.
//!
//! A thin layer over the `latent` library: argument parsing, file I/O through `latent-data`,
//! progress bars and exit codes (0 ok, 1 failure, 2 bad usage or bad input).

mod anomaly_panel;
mod args;
mod benchmark_anomaly;
mod benchmark_compress;
mod benchmark_nab;
mod benchmark_recommend;
mod completions;
mod compress;
mod data;
mod decimal;
mod demo;
mod eval;
mod evaluate;
mod exit;
mod export;
mod family;
mod generate;
mod info;
mod options;
mod output;
mod pca;
mod pipeline;
mod plots;
mod progress;
mod recommend;
mod report;
mod report_recommend;
mod score;
mod score_out;
mod series;
mod serve;
mod stream_out;
mod stream_train;
mod train;
mod transform;

use args::{Cli, Command};
use clap::Parser;

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(message) = args::repeated_flag(&argv) {
        eprintln!("error: {message}");
        std::process::exit(exit::BAD_INPUT);
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { exit::OK };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // The device is resolved once, here: a command that runs a model on a device this build
    // cannot run models on stops before it reads anything.
    if let Some(Err(err)) = cli.command.device().map(|d| d.check_models()) {
        std::process::exit(exit::report(&err.into()));
    }
    let result = match cli.command {
        Command::Train(a) => train::run(*a),
        Command::Encode(a) => transform::encode(a),
        Command::Reconstruct(a) => transform::reconstruct(a),
        Command::Denoise(a) => transform::denoise(a),
        Command::Sample(a) => generate::sample(a),
        Command::Interpolate(a) => generate::interpolate(a),
        Command::Eval(a) => eval::run(a),
        Command::Score(a) => score::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::BenchmarkAnomaly(a) => benchmark_anomaly::run(a),
        Command::BenchmarkNab(a) => benchmark_nab::run(a),
        Command::Recommend(a) => recommend::run(a),
        Command::BenchmarkRecommend(a) => benchmark_recommend::run(a),
        Command::Info(a) => info::run(a),
        Command::Pca(a) => pca::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Report(a) => report::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Serve(a) => serve::run(a),
        Command::FitCodec(a) => compress::fit_codec(a),
        Command::Compress(a) => compress::compress(a),
        Command::Decompress(a) => compress::decompress(a),
        Command::BenchmarkCompress(a) => benchmark_compress::run(a),
        Command::Export(a) => export::run(a),
    };
    if let Err(err) = result {
        std::process::exit(exit::report(&err));
    }
}
