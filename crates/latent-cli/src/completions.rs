//! `latent completions SHELL`: a shell completion script on stdout.

use crate::args::{Cli, CompletionsArgs};
use anyhow::Result;
use clap::CommandFactory;

/// Runs `latent completions`.
pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "latent", &mut std::io::stdout());
    Ok(())
}
