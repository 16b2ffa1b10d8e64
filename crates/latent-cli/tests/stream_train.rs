//! `latent train --stream` (issue 19): training on Parquet data read one row group at a time,
//! on files pyarrow writes (`LATENT_TEST_PYTHON`, set up by `.ci/run`), including one larger
//! than the memory the run is allowed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, run_python, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

/// The digits as a folder of two Parquet files in row groups of 200 rows (label as text);
/// argv[3], when given, gets a copy with a missing value in data-set row 1235.
const DIGITS_TO_PARQUET: &str = r#"
import sys, os
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
t = pc.read_csv(sys.argv[1])
t = t.set_column(t.schema.get_field_index("label"), "label", t.column("label").cast(pa.string()))
os.makedirs(sys.argv[2], exist_ok=True)
half = t.num_rows // 2
pq.write_table(t.slice(0, half), os.path.join(sys.argv[2], "a.parquet"), row_group_size=200)
pq.write_table(t.slice(half), os.path.join(sys.argv[2], "b.parquet"), row_group_size=200)
if len(sys.argv) > 3:
    name = t.column_names[4]
    values = t.column(name).to_pylist()
    values[1234] = None
    t = t.set_column(4, name, pa.array(values, pa.float64()))
    pq.write_table(t, sys.argv[3], row_group_size=200)
"#;

/// Flags of the small model these tests train.
const FLAGS: [&str; 12] = [
    "--label-column",
    "label",
    "--hidden",
    "32",
    "--latent",
    "8",
    "--epochs",
    "6",
    "--seed",
    "3",
    "--quiet",
    "--min-steps",
];

fn train(data: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--data", p(data), "--out", p(out)];
    args.extend(FLAGS);
    args.push("0");
    args.extend_from_slice(extra);
    latent(&args)
}

/// `mae_mean` as `latent eval` prints it for `model` on the digits.
fn mae(model: &Path) -> f64 {
    let out = stdout(&ok(latent(&["eval", "--model", p(model), "--data", &digits()])));
    let line = out.lines().find(|l| l.starts_with("mae_mean")).expect("mae_mean line");
    line.split_whitespace().nth(1).expect("value").parse().expect("number")
}

#[test]
fn streaming_trains_on_a_parquet_folder_like_loading_it() {
    let Some((py, dir)) = common::python_and_dir("streaming_trains_on_a_parquet_folder") else {
        return;
    };
    let (folder, holes) = (dir.path().join("parts"), dir.path().join("holes.parquet"));
    run_python(&py, DIGITS_TO_PARQUET, &[&digits(), p(&folder), p(&holes)]);
    let streamed = dir.path().join("s.safetensors");
    let stream = ["--stream", "--shuffle-buffer", "500"];
    ok(train(&folder, &streamed, &stream));
    let again = dir.path().join("s2.safetensors");
    ok(train(&folder, &again, &stream));
    let bytes = |f: &Path| std::fs::read(f).expect("model file");
    assert_eq!(bytes(&streamed), bytes(&again), "same seed and data, same model file");
    let loaded = dir.path().join("m.safetensors");
    ok(train(&folder, &loaded, &[]));

    let info = stdout(&ok(latent(&["info", "--model", p(&streamed)])));
    assert!(info.contains("1617 (+180 validation)"), "{info}");
    let (s, m) = (mae(&streamed), mae(&loaded));
    assert!(s < 1.2 * m, "streamed MAE {s} vs loaded {m}");
    // The streamed model scores the CSV, the label column kept out as in training.
    ok(latent(&["score", "--model", p(&streamed), "--data", &digits(), "--quiet"]));

    // A missing value is named by its row in the whole file, and the file is named.
    let o = train(&holes, &dir.path().join("h.safetensors"), &stream);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holes.parquet"), "{}", stderr(&o));
    assert!(stderr(&o).contains("data row 1235"), "{}", stderr(&o));
}

/// 1,000,000 rows of 30 float columns on a rank-4 structure, in row groups of 50,000.
const BIG: &str = r#"
import sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(0)
n, k = 1_000_000, 30
x = rng.standard_normal((n, 4)).astype(np.float32) @ rng.standard_normal((4, k)).astype(np.float32)
x += 0.1 * rng.standard_normal((n, k)).astype(np.float32)
pq.write_table(pa.table({f"f{i}": x[:, i] for i in range(k)}), sys.argv[1], row_group_size=50_000)
"#;

/// The memory (data segment, `ulimit -d`) the runs below may use: less than the file.
const LIMIT_KB: u64 = 120_000;

fn limited(args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -d {LIMIT_KB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_latent"))
        .args(args)
        .output()
        .expect("run bash")
}

#[test]
fn streaming_training_fits_in_less_memory_than_its_file() {
    let Some((py, dir)) = common::python_and_dir("streaming_training_fits_in_less_memory") else {
        return;
    };
    let big = dir.path().join("big.parquet");
    run_python(&py, BIG, &[p(&big)]);
    let size = std::fs::metadata(&big).expect("file").len();
    assert!(size > LIMIT_KB * 1024, "the file ({size} bytes) is larger than the limit");
    let out = dir.path().join("m.safetensors");
    let args = ["train", "--data", p(&big), "--out", p(&out), "--epochs", "1", "--quiet"];
    let mut streamed = args.to_vec();
    streamed.extend(["--stream", "--shuffle-buffer", "100000"]);
    ok(limited(&streamed));
    let info = stdout(&ok(latent(&["info", "--model", p(&out)])));
    assert!(info.contains("950000 (+50000 validation)"), "{info}");
    let loss = |name: &str| -> f64 {
        let line = info.lines().find(|l| l.starts_with(name)).expect("loss line");
        line.split_whitespace().last().expect("value").parse().expect("number")
    };
    assert!(loss("validation loss") < 0.1, "one epoch learns the rank-4 structure: {info}");
    // Loading the same file whole does not fit in that memory.
    let o = limited(&args);
    assert!(!o.status.success(), "loading the whole file fit in the limit after all");
}

#[test]
fn streaming_refuses_what_it_cannot_do_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.safetensors");
    let data = digits();
    let run = |extra: &[&str]| {
        let mut args = vec!["train", "--data", data.as_str(), "--out", p(&out)];
        args.extend_from_slice(extra);
        latent(&args)
    };
    let refused = [
        (vec!["--stream"], "--stream reads Parquet"),
        (vec!["--stream", "--resume", "ckpt"], "--resume is not available with --stream"),
        (vec!["--stream", "--quant-step", "0.5"], "--quant-step is not available"),
        (vec!["--shuffle-buffer", "100"], "--stream"),
    ];
    for (flags, message) in refused {
        let o = run(&flags);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{flags:?}: {}", stderr(&o));
    }
    assert!(!out.exists());
}
