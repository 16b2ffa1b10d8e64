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

/// Prints `error: ...` on one line, then `hint: ...` when there is one (carried in the message
/// or known for the kind of error), and returns the exit code.
pub fn report(err: &anyhow::Error) -> i32 {
    // The reader of our output went away (`latent info | head`): nothing to say, as `cat` does.
    let broken_pipe = err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return OK;
    }
    let (line, carried) = split_hint(&one_line(err));
    eprintln!("error: {line}");
    if let Some(h) = carried.or_else(|| hint(err)) {
        eprintln!("hint: {h}");
    }
    code(err)
}

/// The error and its causes joined by `: `, leaving out a cause whose text is already in the
/// line (errors that print their source, such as `file.csv: No such file or directory`).
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Splits a message into the error and a hint written into it as `(hint: ...)` or
/// `; hint: ...`.
pub fn split_hint(message: &str) -> (String, Option<String>) {
    if let Some(i) = message.find(" (hint: ") {
        let rest = &message[i + " (hint: ".len()..];
        if let Some(j) = rest.find(')') {
            let line = format!("{}{}", &message[..i], &rest[j + 1..]);
            return (line, Some(rest[..j].trim().to_string()));
        }
    }
    if let Some(i) = message.find("; hint: ") {
        let hint = message[i + "; hint: ".len()..].trim();
        return (message[..i].to_string(), Some(hint.to_string()));
    }
    (message.to_string(), None)
}

/// A hint for kinds of error whose message does not carry one.
fn hint(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<latent::Error>() {
            return match e {
                latent::Error::Schema(_) => Some(
                    "give the columns the model was trained on; `latent info --model FILE` \
                     lists them"
                        .into(),
                ),
                latent::Error::ModelFile { .. } => {
                    Some("a model file is the .safetensors file `latent train` writes".into())
                }
                latent::Error::Missing { .. } => Some(
                    "--missing impute-mean fills missing values with the training mean (at \
                     `latent train`, or at scoring for a model trained without it); cells that \
                     are empty or NA, N/A, NaN, null, None, ? are missing, --na-values adds more"
                        .into(),
                ),
                latent::Error::IdLikeColumn { column, .. } => Some(format!(
                    "leave it out of the features with --id-column {column} (it is carried \
                     through to the outputs), or remove it from the file"
                )),
                latent::Error::Labels(_) => Some(
                    "name the anomalous class with --positive VALUE, or the normal values with \
                     --normal-label VALUE[,VALUE]"
                        .into(),
                ),
                latent::Error::Diverged { .. } => Some(
                    "lower the learning rate (--lr) or scale the data (--scale standard)".into(),
                ),
                latent::Error::NotVariational(_) => Some(
                    "train a variational model (--preset vae or conv-vae); the mse and mae \
                     scores work with any model"
                        .into(),
                ),
                latent::Error::NoCodec => Some(
                    "fit one with `latent fit-codec --model MODEL --data TRAINING-DATA \
                     --quant-step STEP --out MODEL2` (or train with --quant-step)"
                        .into(),
                ),
                latent::Error::LearnedCodec => Some(
                    "leave out --quant-step: a --preset compress model keeps the entropy model \
                     it learns and `latent compress` uses it as it is"
                        .into(),
                ),
                latent::Error::NoDetector { score } => Some(format!(
                    "train with --detector {score} (or --preset anomaly), or choose --score mse"
                )),
                latent::Error::Device(_) => Some(
                    "leave out --device (or give --device cpu): every command runs on the CPU"
                        .into(),
                ),
                latent::Error::Config(_) => {
                    Some("`latent train --help` lists every setting and its range".into())
                }
                latent::Error::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Some("check the path; relative paths start in the current folder".into())
                }
                _ => None,
            };
        }
        if let Some(latent_data::Error::Io { source, .. }) = cause.downcast_ref() {
            if source.kind() == std::io::ErrorKind::NotFound {
                return Some("check the path; relative paths start in the current folder".into());
            }
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            if e.kind() == std::io::ErrorKind::NotFound {
                return Some("check the path; relative paths start in the current folder".into());
            }
        }
    }
    None
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
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            // A path that is not there, not allowed or of the wrong kind is the user's mistake.
            use std::io::ErrorKind as K;
            if matches!(
                e.kind(),
                K::NotFound | K::PermissionDenied | K::IsADirectory | K::NotADirectory
            ) {
                return BAD_INPUT;
            }
        }
    }
    FAILURE
}

#[cfg(test)]
mod tests {
    use super::split_hint;

    #[test]
    fn hints_move_to_their_own_line() {
        let (line, hint) = split_hint(
            "a.csv: data row 3, column \"x\": missing value (hint: --missing impute-mean fills it)",
        );
        assert_eq!(line, "a.csv: data row 3, column \"x\": missing value");
        assert_eq!(hint.as_deref(), Some("--missing impute-mean fills it"));
        let (line, hint) = split_hint("training diverged at epoch 2; hint: lower --lr");
        assert_eq!(line, "training diverged at epoch 2");
        assert_eq!(hint.as_deref(), Some("lower --lr"));
        assert_eq!(split_hint("plain").0, "plain");
    }
}
