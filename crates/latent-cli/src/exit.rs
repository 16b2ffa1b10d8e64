//! Exit codes and the one-line error report.

/// Success.
pub const OK: i32 = 0;
/// The run failed (for example training diverged, or an I/O failure writing results).
pub const FAILURE: i32 = 1;
/// Bad usage or bad input (malformed data, wrong width, not a model file, ...).
pub const BAD_INPUT: i32 = 2;

/// Marks an error as the user's input rather than a failure of the run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Prints `error: ...` (and a hint when the error carries one) and returns the exit code.
pub fn report(err: &anyhow::Error) -> i32 {
    eprintln!("error: {err:#}");
    code(err)
}

/// The exit code for an error: 2 when any cause is bad input, else 1.
pub fn code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.downcast_ref::<BadInput>().is_some() {
            return BAD_INPUT;
        }
        if let Some(e) = cause.downcast_ref::<latent::Error>() {
            return if e.is_bad_input() { BAD_INPUT } else { FAILURE };
        }
        if let Some(e) = cause.downcast_ref::<latent_data::Error>() {
            return if e.is_bad_input() { BAD_INPUT } else { FAILURE };
        }
    }
    FAILURE
}
