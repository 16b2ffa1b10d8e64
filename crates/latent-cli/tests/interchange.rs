//! Interchange (issue 19): Parquet in and out, checked against files pyarrow writes and reads,
//! and ONNX export, checked by loading every exported part in ONNX Runtime (and `onnx.checker`)
//! and comparing with latent's own outputs on the shipped digits data. The Python checks run
//! with `LATENT_TEST_PYTHON` (`.ci/run` sets up a venv with pyarrow, onnxruntime and onnx).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python of `LATENT_TEST_PYTHON`, or `None` (a skip, which fails under CI).
fn python(test: &str) -> Option<String> {
    match std::env::var("LATENT_TEST_PYTHON") {
        Ok(py) => Some(py),
        Err(_) => {
            common::skip(test, "LATENT_TEST_PYTHON not set (bash .ci/run sets up the venv)");
            None
        }
    }
}

/// Runs a Python script with arguments; returns its stdout.
fn run_python(py: &str, script: &str, args: &[&str]) -> String {
    let o = Command::new(py).arg("-c").arg(script).args(args).output().expect("run python");
    assert!(o.status.success(), "python failed: {}\n{}", stderr(&o), stdout(&o));
    stdout(&o)
}

fn train(dir: &Path, name: &str, data: &str, extra: &[&str]) -> PathBuf {
    let model = dir.join(name);
    let mut args = vec![
        "train",
        "--data",
        data,
        "--label-column",
        "label",
        "--hidden",
        "32",
        "--latent",
        "8",
        "--epochs",
        "4",
        "--batch-size",
        "64",
        "--seed",
        "3",
        "--quiet",
        "--out",
        p(&model),
    ];
    args.extend_from_slice(extra);
    ok(latent(&args));
    model
}

/// Writes the digits CSV as Parquet with pyarrow: one zstd file, and a folder of two snappy
/// files (the rows split in two), with the label column as strings.
const TO_PARQUET: &str = r#"
import sys, os
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
t = pc.read_csv(sys.argv[1])
t = t.set_column(t.schema.get_field_index("label"), "label", t.column("label").cast(pa.string()))
pq.write_table(t, sys.argv[2], compression="zstd", row_group_size=300)
os.makedirs(sys.argv[3], exist_ok=True)
half = t.num_rows // 2
pq.write_table(t.slice(0, half), os.path.join(sys.argv[3], "part-0.parquet"), compression="snappy")
pq.write_table(t.slice(half), os.path.join(sys.argv[3], "part-1.parquet"), compression="snappy")
nested = pa.table({"x": [1.0, 2.0], "tags": [[1, 2], [3]]})
pq.write_table(nested, sys.argv[4])
"#;

#[test]
fn parquet_round_trips_with_pyarrow() {
    let Some(py) = python("parquet_round_trips_with_pyarrow") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, folder, nested) =
        (dir.path().join("d.parquet"), dir.path().join("parts"), dir.path().join("n.parquet"));
    run_python(&py, TO_PARQUET, &[&digits(), p(&file), p(&folder), p(&nested)]);
    let model = train(dir.path(), "m.safetensors", &digits(), &[]);

    // The same scores from the CSV, the Parquet file and the Parquet folder.
    let score = |data: &str| {
        stdout(&ok(latent(&["score", "--model", p(&model), "--data", data, "--quiet"])))
    };
    let from_csv = score(&digits());
    assert_eq!(score(p(&file)), from_csv);
    assert_eq!(score(p(&folder)), from_csv);
    // Scores and codes written as Parquet, read back by pyarrow.
    let scores = dir.path().join("s.parquet");
    ok(latent(&[
        "score",
        "--model",
        p(&model),
        "--data",
        p(&file),
        "--out",
        p(&scores),
        "--proba",
    ]));
    let codes = dir.path().join("codes.parquet");
    ok(latent(&["encode", "--model", p(&model), "--data", p(&file), "--out", p(&codes)]));
    let codes_csv = dir.path().join("codes.csv");
    ok(latent(&["encode", "--model", p(&model), "--data", &digits(), "--out", p(&codes_csv)]));
    let recon = dir.path().join("r.parquet");
    ok(latent(&["reconstruct", "--model", p(&model), "--data", p(&folder), "--out", p(&recon)]));
    let check = r#"
import sys, csv, io
import numpy as np, pyarrow.parquet as pq
s = pq.read_table(sys.argv[1])
assert s.column_names[:3] == ["score", "is_anomaly", "proba"], s.column_names
assert s.column_names[-1] == "label", s.column_names
assert str(s.schema.field("is_anomaly").type) == "bool"
rows = list(csv.DictReader(io.StringIO(open(sys.argv[2]).read())))
want = np.array([float(r["score"]) for r in rows])
got = s.column("score").to_numpy()
assert np.allclose(got, want, rtol=1e-6, atol=0), float(np.abs(got - want).max())
flags = [r["is_anomaly"] == "1" for r in rows]
assert s.column("is_anomaly").to_pylist() == flags
c = pq.read_table(sys.argv[3])
cc = list(csv.DictReader(open(sys.argv[4])))
assert c.column_names == list(cc[0].keys()), (c.column_names, list(cc[0].keys()))
z = np.array([[float(r[f"z{i}"]) for i in range(8)] for r in cc])
zp = np.stack([c.column(f"z{i}").to_numpy() for i in range(8)], axis=1)
assert np.allclose(zp, z, rtol=1e-5, atol=1e-6), float(np.abs(zp - z).max())
r = pq.read_table(sys.argv[5])
assert r.num_rows == len(rows) and r.column_names[0] == "p0", r.column_names
print(len(rows))
"#;
    let scores_csv = dir.path().join("s.csv");
    std::fs::write(&scores_csv, &from_csv).expect("write");
    let n =
        run_python(&py, check, &[p(&scores), p(&scores_csv), p(&codes), p(&codes_csv), p(&recon)]);
    assert!(n.trim().parse::<usize>().is_ok_and(|n| n > 1000), "{n}");

    // Training from Parquet gives the model training from the CSV gives.
    let from_parquet = train(dir.path(), "mp.safetensors", p(&file), &[]);
    let info = |m: &Path| stdout(&ok(latent(&["info", "--model", p(m)])));
    assert_eq!(
        info(&from_parquet).lines().find(|l| l.starts_with("architecture")),
        info(&model).lines().find(|l| l.starts_with("architecture"))
    );

    // Bad input: a nested column, a corrupt file, a truncated file: exit 2, named.
    let o = latent(&["score", "--model", p(&model), "--data", p(&nested)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"tags\"") && stderr(&o).contains("nested"), "{}", stderr(&o));
    let bytes = std::fs::read(&file).expect("read");
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).expect("write");
    for command in ["score", "encode"] {
        let mut args = vec![command, "--model", p(&model), "--data", p(&bad)];
        let out = dir.path().join("o.parquet");
        if command == "encode" {
            args.extend(["--out", p(&out)]);
        }
        let o = latent(&args);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        assert!(stderr(&o).contains("bad.parquet"), "{}", stderr(&o));
        assert!(!out.exists());
    }
    let o = latent(&["train", "--data", p(&bad), "--out", p(&dir.path().join("x.safetensors"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Loads every part in ONNX Runtime (batch sizes 1 and all rows) and `onnx.checker`, and
/// prints the largest relative errors against latent's outputs, as JSON (relative to
/// `max(|latent's value|, 1)`, so that values near zero are compared absolutely).
const ONNX_CHECK: &str = r#"
import sys, json, csv
import numpy as np, onnx, onnxruntime as ort
d = sys.argv[1]
rows = list(csv.DictReader(open(sys.argv[2])))
cols = [c for c in rows[0].keys() if c != "label"]
x = np.array([[float(r[c]) for c in cols] for r in rows], dtype=np.float32)
def load(part):
    path = f"{d}/{part}.onnx"
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])
def table(name, keys):
    r = list(csv.DictReader(open(f"{d}/{name}")))
    return np.array([[float(row[k]) for k in keys] for row in r], dtype=np.float64)
def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float((np.abs(a - b) / np.maximum(np.abs(b), 1.0)).max())
out = {}
enc = load("encoder")
code = enc.run(None, {"x": x})[0]
one = enc.run(None, {"x": x[:1]})[0]
assert one.shape == (1, code.shape[1])
out["encoder"] = rel(code, table("codes.csv", [f"z{i}" for i in range(code.shape[1])]))
recon = table("recon.csv", cols)
out["full"] = rel(load("full").run(None, {"x": x})[0], recon)
out["decoder"] = rel(load("decoder").run(None, {"code": code})[0], recon)
score, flag = load("scorer").run(None, {"x": x})
s = [r for r in csv.DictReader(open(f"{d}/scores.csv"))]
out["scorer"] = rel(score, [float(r["score"]) for r in s])
out["flags_equal"] = bool((flag == np.array([r["is_anomaly"] == "1" for r in s])).all())
out["batch1"] = rel(load("scorer").run(None, {"x": x[5:6]})[0], score[5:6])
print(json.dumps(out))
"#;

/// Exports the four parts of one family's model, computes latent's outputs on the digits and
/// checks ONNX Runtime's against them to 1e-5 relative.
fn check_family(py: &str, family: &str, extra: &[&str], score: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = train(d, "m.safetensors", &digits(), extra);
    for part in ["encoder", "decoder", "full"] {
        let out = d.join(format!("{part}.onnx"));
        ok(latent(&["export", "--model", p(&model), "--part", part, "--out", p(&out)]));
    }
    let mut args = vec!["export", "--model", p(&model), "--part", "scorer"];
    args.extend_from_slice(score);
    let scorer = d.join("scorer.onnx");
    args.extend(["--out", p(&scorer)]);
    ok(latent(&args));
    let m = p(&model);
    let dg = digits();
    ok(latent(&["encode", "--model", m, "--data", &dg, "--out", p(&d.join("codes.csv"))]));
    ok(latent(&["reconstruct", "--model", m, "--data", &dg, "--out", p(&d.join("recon.csv"))]));
    let mut args = vec!["score", "--model", m, "--data", &dg, "--quiet"];
    args.extend_from_slice(score);
    let scores = d.join("scores.csv");
    args.extend(["--out", p(&scores)]);
    ok(latent(&args));
    let o = run_python(py, ONNX_CHECK, &[p(d), &digits()]);
    let v: serde_json::Value = serde_json::from_str(o.trim()).expect("json");
    eprintln!("ONNX max relative error, {family}: {v}");
    for part in ["encoder", "decoder", "full", "scorer", "batch1"] {
        let e = v[part].as_f64().expect("number");
        assert!(e <= 1e-5, "{family} {part}: max relative error {e}");
    }
    assert_eq!(v["flags_equal"], true, "{family}: {v}");
}

#[test]
fn onnx_export_matches_latent_for_each_dense_family() {
    let Some(py) = python("onnx_export_matches_latent_for_each_dense_family") else {
        return;
    };
    check_family(&py, "dense", &[], &[]);
    check_family(&py, "denoising", &["--preset", "denoising", "--hidden", "32"], &[]);
    check_family(&py, "sparse", &["--preset", "sparse"], &[]);
    check_family(&py, "gelu", &["--activation", "gelu", "--missing", "impute-mean"], &[]);
    check_family(&py, "vae", &["--preset", "vae"], &["--score", "mse", "--threshold", "0.5"]);
}

#[test]
fn onnx_export_refuses_what_it_cannot_express() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let vae = train(d, "vae.safetensors", &digits(), &["--preset", "vae"]);
    let out = d.join("s.onnx");
    let o = latent(&["export", "--model", p(&vae), "--part", "scorer", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be expressed in ONNX"), "{}", stderr(&o));
    assert!(!out.exists());
    let forest = train(d, "f.safetensors", &digits(), &["--detector", "forest"]);
    let o = latent(&["export", "--model", p(&forest), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("forest"), "{}", stderr(&o));
    let csv = d.join("c.csv");
    std::fs::write(&csv, "a,b,c\n1,x,2\n2,y,3\n3,x,1\n4,y,0\n5,x,2\n6,y,1\n").expect("write");
    let cat = d.join("c.safetensors");
    ok(latent(&["train", "--data", p(&csv), "--epochs", "1", "--quiet", "--out", p(&cat)]));
    let o = latent(&["export", "--model", p(&cat), "--part", "encoder", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"b\"") && stderr(&o).contains("categorical"), "{}", stderr(&o));
}
