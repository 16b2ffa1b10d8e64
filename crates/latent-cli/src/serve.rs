//! `latent serve`: the HTTP service over a model (see the `latent-serve` crate).

use crate::args::ServeArgs;
use crate::data;
use crate::exit::BadInput;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;

/// Reads a bearer token: the file's content without surrounding whitespace.
fn read_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot read the token file: {e}", path.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(BadInput(format!("{}: the token file is empty", path.display())).into());
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BadInput(format!(
            "{}: the token must be one line without spaces",
            path.display()
        ))
        .into());
    }
    Ok(token.to_string())
}

/// Runs `latent serve` until SIGTERM or ctrl-c.
pub fn run(args: ServeArgs) -> Result<()> {
    if args.max_body_bytes == 0 {
        return Err(BadInput("--max-body-bytes must be at least 1".into()).into());
    }
    if args.timeout_ms == 0 {
        return Err(BadInput("--timeout-ms must be at least 1".into()).into());
    }
    let token = args.token_file.as_deref().map(read_token).transpose()?;
    if !args.addr.ip().is_loopback() && token.is_none() {
        eprintln!(
            "warning: serving on {} without --token-file: anyone who can reach it can use the model",
            args.addr
        );
    }
    let config = latent_serve::Config {
        token,
        max_body_bytes: args.max_body_bytes,
        timeout: Duration::from_millis(args.timeout_ms),
        ..latent_serve::Config::default()
    };
    // A recommender answers POST /v1/recommend; any other model the row endpoints.
    let state = if latent::recommend::is_recommender(&args.model) {
        let model = latent::recommend::file::RecModel::load(&args.model)?;
        latent_serve::AppState::recommender(model, config)
    } else {
        latent_serve::AppState::new(data::load_model(&args.model)?, config)
    };
    let model_path = args.model.display().to_string();
    latent_serve::run(args.addr, state, |addr| {
        eprintln!("latent serve: {model_path} on http://{addr} (ctrl-c or SIGTERM to stop)");
        // The address alone on stdout, for scripts (port 0 picks a free port).
        let _ = crate::output::print_line(&format!("http://{addr}"));
    })
    .with_context(|| format!("cannot serve on {}", args.addr))?;
    eprintln!("latent serve: stopped");
    Ok(())
}
