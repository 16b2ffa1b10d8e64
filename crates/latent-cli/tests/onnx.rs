//! ONNX export (issue 19), verified rather than assumed: every exported part of every family
//! (dense, denoising, sparse, GELU with imputation, VAE by its mean path, convolutional,
//! convolutional VAE, fully convolutional, 1-D convolutional over series windows, and scorers
//! with one-hot columns) is loaded in ONNX Runtime and `onnx.checker`, at batch sizes 1 and
//! all rows, and compared with latent's own outputs on real data (the shipped digits, as
//! tables and as images; MNIST from `../shared/data/mnist` too when present) to 1e-5
//! relative. What cannot be expressed is refused with the reason. The Python checks run with
//! `LATENT_TEST_PYTHON` (`.ci/run` sets up a venv with numpy, onnxruntime and onnx).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, python, repo, run_python, stderr, stdout, train_model};

/// The small dense model of these tests: hidden 32, latent 8, 4 epochs.
const DENSE: [&str; 6] = ["--hidden", "32", "--latent", "8", "--epochs", "4"];

/// The dense model's flags, then `extra`.
fn dense<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    [DENSE.as_slice(), extra].concat()
}

/// Loads every part in ONNX Runtime (batch sizes 1 and all rows) and `onnx.checker`, and
/// prints the largest relative errors against latent's outputs, as JSON (relative to
/// `max(|latent's value|, 1)`, so that values near zero are compared absolutely). The data is
/// a CSV (every column but `label`) or an NPY array of images (rows flattened, channels first).
const ONNX_CHECK: &str = r#"
import sys, json, csv
import numpy as np, onnx, onnxruntime as ort
d, data = sys.argv[1], sys.argv[2]
if data.endswith(".npy"):
    x = np.load(data).astype(np.float32)
    x = x.reshape(len(x), -1)
else:
    rows = list(csv.DictReader(open(data)))
    cols = [c for c in rows[0].keys() if c != "label"]
    x = np.array([[float(r[c]) for c in cols] for r in rows], dtype=np.float32)
def load(part):
    path = f"{d}/{part}.onnx"
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])
def table(name):
    r = list(csv.DictReader(open(f"{d}/{name}")))
    keys = [k for k in r[0].keys() if k != "label"]
    return np.array([[float(row[k]) for k in keys] for row in r], dtype=np.float64)
def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((np.abs(a - b) / np.maximum(np.abs(b), 1.0)).max())
out = {}
enc = load("encoder")
code = enc.run(None, {"x": x})[0]
one = enc.run(None, {"x": x[:1]})[0]
assert one.shape == (1, code.shape[1])
out["encoder"] = rel(code, table("codes.csv"))
recon = table("recon.csv")
out["full"] = rel(load("full").run(None, {"x": x})[0], recon)
out["decoder"] = rel(load("decoder").run(None, {"code": code})[0], recon)
score, flag = load("scorer").run(None, {"x": x})
s = [r for r in csv.DictReader(open(f"{d}/scores.csv"))]
out["scorer"] = rel(score, [float(r["score"]) for r in s])
out["flags_equal"] = bool((flag == np.array([r["is_anomaly"] == "1" for r in s])).all())
out["batch1"] = rel(load("scorer").run(None, {"x": x[5:6]})[0], score[5:6])
print(json.dumps(out))
"#;

/// Exports the four parts of one family's model, computes latent's outputs on `data` and
/// checks ONNX Runtime's against them to 1e-5 relative.
fn check_family(py: &str, family: &str, data: &str, train: &[&str], score: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let model = train_model(d, "m.safetensors", data, train);
    let m = p(&model);
    for part in ["encoder", "decoder", "full", "scorer"] {
        let out = d.join(format!("{part}.onnx"));
        let mut args = vec!["export", "--model", m, "--part", part, "--out", p(&out)];
        if part == "scorer" {
            args.extend_from_slice(score);
        }
        ok(latent(&args));
    }
    ok(latent(&["encode", "--model", m, "--data", data, "--out", p(&d.join("codes.csv"))]));
    ok(latent(&["reconstruct", "--model", m, "--data", data, "--out", p(&d.join("recon.csv"))]));
    let scores = d.join("scores.csv");
    let mut args = vec!["score", "--model", m, "--data", data, "--quiet", "--out", p(&scores)];
    args.extend_from_slice(score);
    ok(latent(&args));
    let o = run_python(py, ONNX_CHECK, &[p(d), data]);
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
    let dg = digits();
    check_family(&py, "dense", &dg, &dense(&[]), &[]);
    check_family(&py, "denoising", &dg, &dense(&["--preset", "denoising", "--hidden", "32"]), &[]);
    check_family(&py, "sparse", &dg, &dense(&["--preset", "sparse"]), &[]);
    let gelu = dense(&["--activation", "gelu", "--missing", "impute-mean"]);
    check_family(&py, "gelu", &dg, &gelu, &[]);
    let mse = ["--score", "mse", "--threshold", "0.5"];
    check_family(&py, "vae", &dg, &dense(&["--preset", "vae"]), &mse);
}

/// Writes the digits (scaled to [0, 1]) as images: `[600, 8, 8]` and, to tell rows, columns
/// and channels apart, the same values as `[600, 2, 8, 4]` (two channels of 8 x 4); and the
/// first 1000 MNIST training images when a path to them is given.
const IMAGES: &str = r#"
import sys, csv, gzip
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
cols = [c for c in rows[0].keys() if c != "label"]
x = np.array([[float(r[c]) for c in cols] for r in rows[:600]], dtype=np.float32) / 16
np.save(sys.argv[2], x.reshape(-1, 8, 8))
np.save(sys.argv[3], x.reshape(-1, 2, 8, 4))
if len(sys.argv) > 5:
    b = gzip.open(sys.argv[4]).read()
    n, h, w = (int(v) for v in np.frombuffer(b[4:16], dtype=">u4"))
    m = np.frombuffer(b[16:], dtype=np.uint8).reshape(n, h, w)[:1000]
    np.save(sys.argv[5], m.astype(np.float32) / 255)
"#;

#[test]
fn onnx_export_matches_latent_for_convolutional_models() {
    let Some((py, dir)) =
        common::python_and_dir("onnx_export_matches_latent_for_convolutional_models")
    else {
        return;
    };
    let (grey, two) = (dir.path().join("d8.npy"), dir.path().join("d2.npy"));
    let mnist_gz = repo().join("../shared/data/mnist/train-images-idx3-ubyte.gz");
    let mnist = dir.path().join("mnist.npy");
    let mut args = vec![digits(), p(&grey).into(), p(&two).into()];
    if mnist_gz.exists() {
        args.extend([p(&mnist_gz).to_string(), p(&mnist).to_string()]);
    } else {
        eprintln!("(MNIST not at {}: the digits images only)", mnist_gz.display());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_python(&py, IMAGES, &args);
    let conv = ["--preset", "conv", "--channels", "4,8", "--latent", "8", "--epochs", "3"];
    check_family(&py, "conv", p(&grey), &conv, &[]);
    check_family(&py, "conv, 2 channels of 8x4", p(&two), &conv, &[]);
    let vae = ["--preset", "conv-vae", "--channels", "4,8", "--latent", "8", "--epochs", "3"];
    check_family(&py, "conv-vae", p(&two), &vae, &["--score", "mse", "--threshold", "0.05"]);
    let fc = ["--preset", "conv", "--channels", "4,8", "--fully-convolutional", "--epochs", "3"];
    check_family(&py, "fully convolutional", p(&two), &fc, &[]);
    let gdn = ["--preset", "conv", "--channels", "4,8", "--conv-norm", "gdn", "--epochs", "3"];
    check_family(&py, "conv with GDN", p(&two), &gdn, &[]);
    if mnist.exists() {
        let big = ["--preset", "conv", "--channels", "8,16", "--latent", "16", "--epochs", "1"];
        check_family(&py, "conv, MNIST", p(&mnist), &big, &[]);
    }
}

/// A two-channel series (5-minute points, a spike at 200) as CSV.
fn series_csv(points: usize) -> String {
    let mut s = String::from("timestamp,temp,load\n");
    for i in 0..points {
        let (h, m) = ((i * 5) / 60, (i * 5) % 60);
        let (day, h) = (1 + h / 24, h % 24);
        let x = i as f32 * 0.3;
        let spike = if (200..203).contains(&i) { 25.0 } else { 0.0 };
        let (temp, load) = (20.0 + 3.0 * x.sin() + spike, 0.5 + 0.2 * (x * 0.5).cos());
        s += &format!("2024-03-{day:02} {h:02}:{m:02}:00,{temp},{load}\n");
    }
    s
}

/// Builds the windows of a series CSV from the scorer's `latent.columns` metadata
/// (`temp[t-15]`, …, `load[t]`), scores them in ONNX Runtime and compares with the causal
/// per-point scores `latent score` printed.
const SERIES_CHECK: &str = r#"
import sys, csv, re, json
import numpy as np, onnx, onnxruntime as ort
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
names = {e.key: e.value for e in model.metadata_props}["latent.columns"].split(",")
lags = [(m.group(1), int(m.group(2) or 0))
        for m in (re.fullmatch(r"(.+)\[t(?:-(\d+))?\]", n) for n in names)]
w = max(l for _, l in lags) + 1
rows = list(csv.DictReader(open(sys.argv[2])))
x = np.array([[float(rows[t - l][c]) for c, l in lags] for t in range(w - 1, len(rows))],
             dtype=np.float32)
score, flag = ort.InferenceSession(sys.argv[1]).run(None, {"x": x})
got = list(csv.DictReader(open(sys.argv[3])))
assert all(r["score"] == "" for r in got[:w - 1])
want = np.array([float(r["score"]) for r in got[w - 1:]])
err = float((np.abs(score - want) / np.maximum(np.abs(want), 1.0)).max())
flags = bool((flag == np.array([r["is_anomaly"] == "1" for r in got[w - 1:]])).all())
print(json.dumps({"scorer": err, "flags_equal": flags, "flagged": int(flag.sum())}))
"#;

#[test]
fn onnx_export_of_a_conv1d_window_model_scores_its_windows() {
    let Some((py, dir)) =
        common::python_and_dir("onnx_export_of_a_conv1d_window_model_scores_its_windows")
    else {
        return;
    };
    let data = dir.path().join("s.csv");
    std::fs::write(&data, series_csv(300)).expect("write");
    let model = dir.path().join("c.safetensors");
    let m = p(&model);
    let s = p(&data);
    ok(latent(
        &["train", "--data", s, "--time-column", "timestamp", "--window", "16"]
            .into_iter()
            .chain(["--preset", "conv1d", "--epochs", "5", "--quiet", "--out", m])
            .collect::<Vec<_>>(),
    ));
    let scorer = dir.path().join("scorer.onnx");
    let o = ok(latent(&["export", "--model", m, "--part", "scorer", "--out", p(&scorer)]));
    assert!(stderr(&o).contains("windows of 16 points"), "{}", stderr(&o));
    let scores = dir.path().join("scores.csv");
    std::fs::write(&scores, stdout(&ok(latent(&["score", "--model", m, "--data", s])))).unwrap();
    let o = run_python(&py, SERIES_CHECK, &[p(&scorer), s, p(&scores)]);
    let v: serde_json::Value = serde_json::from_str(o.trim()).expect("json");
    eprintln!("ONNX max relative error, conv1d windows: {v}");
    assert!(v["scorer"].as_f64().unwrap() <= 1e-5, "{v}");
    assert_eq!(v["flags_equal"], true, "{v}");
    assert!(v["flagged"].as_u64().unwrap() > 0, "the spike is flagged: {v}");
}

/// The scorer and encoder of a model with numeric-coded categorical columns, on a copy of
/// the digits where one cell holds a category never seen (99) and one is missing (NaN in
/// the float input, an empty cell in the CSV): both one-hot encode as all zeros.
const ONE_HOT_CHECK: &str = r#"
import sys, csv, json
import numpy as np, onnx, onnxruntime as ort
d = sys.argv[1]
rows = list(csv.DictReader(open(sys.argv[2])))
cols = [c for c in rows[0].keys() if c != "label"]
x = np.array([[float(r[c]) if r[c] != "" else np.nan for c in cols] for r in rows],
             dtype=np.float32)
def run(part, x):
    onnx.checker.check_model(onnx.load(f"{d}/{part}.onnx"), full_check=True)
    return ort.InferenceSession(f"{d}/{part}.onnx").run(None, {"x": x})
score, flag = run("scorer", x)
s = list(csv.DictReader(open(f"{d}/scores.csv")))
want = np.array([float(r["score"]) for r in s])
z = run("encoder", x)[0]
c = list(csv.DictReader(open(f"{d}/codes.csv")))
zw = np.array([[float(r[f"z{i}"]) for i in range(z.shape[1])] for r in c])
rel = lambda a, b: float((np.abs(a - b) / np.maximum(np.abs(b), 1.0)).max())
flags = bool((flag == np.array([r["is_anomaly"] == "1" for r in s])).all())
print(json.dumps({"scorer": rel(score, want), "encoder": rel(z, zw), "flags_equal": flags,
                  "batch1": rel(run("scorer", x[1:2])[0], want[1:2])}))
"#;

#[test]
fn onnx_scorer_one_hot_encodes_numeric_categories() {
    let Some((py, dir)) = common::python_and_dir("onnx_scorer_one_hot_encodes_numeric_categories")
    else {
        return;
    };
    let d = dir.path();
    let cat = train_model(d, "cat.safetensors", &digits(), &dense(&["--categorical", "p5,p10"]));
    // The digits with an unseen category (row 1) and a missing one (row 2) in column p5.
    let text = std::fs::read_to_string(digits()).expect("digits");
    let col = text.lines().next().unwrap().split(',').position(|c| c == "p5").unwrap();
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut cells: Vec<&str> = line.split(',').collect();
            match i {
                2 => cells[col] = "99",
                3 => cells[col] = "",
                _ => {}
            }
            cells.join(",")
        })
        .collect();
    let data = d.join("edited.csv");
    std::fs::write(&data, edited.join("\n") + "\n").expect("write");
    let (m, dt) = (p(&cat), p(&data));
    for part in ["encoder", "scorer"] {
        let out = d.join(format!("{part}.onnx"));
        ok(latent(&["export", "--model", m, "--part", part, "--out", p(&out)]));
    }
    ok(latent(&["encode", "--model", m, "--data", dt, "--out", p(&d.join("codes.csv"))]));
    let scores = d.join("scores.csv");
    ok(latent(&["score", "--model", m, "--data", dt, "--quiet", "--out", p(&scores)]));
    // The edits change latent's scores: the check below sees them.
    let plain = d.join("plain.csv");
    ok(latent(&["score", "--model", m, "--data", &digits(), "--quiet", "--out", p(&plain)]));
    let (a, b) =
        (std::fs::read_to_string(&scores).unwrap(), std::fs::read_to_string(&plain).unwrap());
    assert_ne!(a.lines().nth(2), b.lines().nth(2));
    assert_ne!(a.lines().nth(3), b.lines().nth(3));
    let o = run_python(&py, ONE_HOT_CHECK, &[p(d), dt]);
    let v: serde_json::Value = serde_json::from_str(o.trim()).expect("json");
    eprintln!("ONNX max relative error, one-hot scorer: {v}");
    for part in ["scorer", "encoder", "batch1"] {
        assert!(v[part].as_f64().unwrap() <= 1e-5, "{part}: {v}");
    }
    assert_eq!(v["flags_equal"], true, "{v}");
    // The reconstruction parts cannot give a categorical column back as one float: refused.
    for part in ["decoder", "full"] {
        let out = d.join(format!("{part}.onnx"));
        let o = latent(&["export", "--model", m, "--part", part, "--out", p(&out)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("\"p5\"") && stderr(&o).contains("categorical"),
            "{}",
            stderr(&o)
        );
        assert!(!out.exists());
    }
}

#[test]
fn onnx_export_refuses_what_it_cannot_express() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let dg = digits();
    let vae = train_model(d, "vae.safetensors", &dg, &dense(&["--preset", "vae"]));
    let out = d.join("s.onnx");
    let o = latent(&["export", "--model", p(&vae), "--part", "scorer", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be expressed in ONNX"), "{}", stderr(&o));
    assert!(!out.exists());
    for detector in ["forest", "ensemble"] {
        let name = format!("{detector}.safetensors");
        let model = train_model(d, &name, &dg, &dense(&["--detector", detector]));
        let o = latent(&["export", "--model", p(&model), "--out", p(&out)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("the {detector} detector")), "{}", stderr(&o));
    }
    // Categories that are not numbers cannot be compared with a float32 input: refused,
    // naming the column and the category, for the scorer and the encoder alike.
    let csv = d.join("c.csv");
    std::fs::write(&csv, "a,b,c\n1,x,2\n2,y,3\n3,x,1\n4,y,0\n5,x,2\n6,y,1\n").expect("write");
    let cat = d.join("c.safetensors");
    ok(latent(&["train", "--data", p(&csv), "--epochs", "1", "--quiet", "--out", p(&cat)]));
    for part in ["scorer", "encoder"] {
        let o = latent(&["export", "--model", p(&cat), "--part", part, "--out", p(&out)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("\"b\"") && e.contains("\"x\"") && e.contains("not a number"), "{e}");
        assert!(!out.exists());
    }
}
