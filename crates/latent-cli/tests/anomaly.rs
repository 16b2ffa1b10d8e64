//! Anomaly detection through the real `latent` binary: threshold calibrated at training,
//! `score` on files and on standard input (CSV and JSON lines), explanations mapped back to the
//! original columns, `evaluate`'s JSON keys, `benchmark-anomaly`, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent, latent_command, latent_stdin, ok, p, stdout};
use std::path::PathBuf;
use std::process::Stdio;

/// 400 rows: `a`, `b = 2a + noise`, `c = -a + noise`, a category `kind` that follows the sign of
/// `a`, and `label`; the last 8 rows break the correlations (label 1).
fn table() -> String {
    let mut s = String::from("a,b,c,kind,label\n");
    let mut state: u64 = 12345;
    let mut rand = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    };
    for i in 0..400 {
        let a = rand();
        let (b, c, kind, label) = if i >= 392 {
            (-2.0 * a + 3.0, a + 2.5, if a > 0.0 { "neg" } else { "pos" }, 1)
        } else {
            (2.0 * a + 0.05 * rand(), -a + 0.05 * rand(), if a > 0.0 { "pos" } else { "neg" }, 0)
        };
        s += &format!("{a:.4},{b:.4},{c:.4},{kind},{label}\n");
    }
    s
}

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    model: PathBuf,
}

fn setup(extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let data = path.join("train.csv");
    std::fs::write(&data, table()).expect("write data");
    let model = path.join("model.safetensors");
    let mut args = vec![
        "train",
        "--data",
        p(&data),
        "--label-column",
        "label",
        "--epochs",
        "30",
        "--batch-size",
        "32",
        "--latent",
        "2",
        "--hidden",
        "8",
        "--seed",
        "1",
        "--quiet",
        "--out",
        p(&model),
    ];
    args.extend_from_slice(extra);
    ok(latent(&args));
    Setup { _dir: dir, dir: path, data, model }
}

/// Parses CSV output (no quoting needed in these tests) into a header and rows.
fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").split(',').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

/// `latent score` of the setup's training file (labels passed through) with `extra` flags,
/// parsed.
fn score_rows(s: &Setup, extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["score", "--model", p(&s.model), "--data", p(&s.data)];
    args.extend_from_slice(&["--label-column", "label"]);
    args.extend_from_slice(extra);
    parse(&stdout(&ok(latent(&args))))
}

/// The scores of `score`'s output; the 8 planted anomalies (the last rows) score above all but
/// a few normal rows.
fn assert_planted_rows_score_highest(header: &[String], rows: &[Vec<String>]) -> Vec<f32> {
    let scores: Vec<f32> =
        column(header, rows, "score").iter().map(|v| v.parse().expect("score")).collect();
    let min_bad = scores[392..].iter().copied().fold(f32::INFINITY, f32::min);
    let above = scores[..392].iter().filter(|&&v| v >= min_bad).count();
    assert!(above < 10, "{above} normal rows score above the weakest anomaly");
    scores
}

#[test]
fn contamination_threshold_is_saved_and_flags_that_share() {
    let s = setup(&["--contamination", "0.05"]);
    let out = s.dir.join("scores.csv");
    ok(latent(&[
        "score",
        "--model",
        p(&s.model),
        "--data",
        p(&s.data),
        "--label-column",
        "label",
        "--proba",
        "--out",
        p(&out),
    ]));
    let (header, rows) = parse(&std::fs::read_to_string(&out).expect("read scores"));
    assert_eq!(header, ["score", "is_anomaly", "proba", "label"]);
    assert_eq!(rows.len(), 400);
    let flags = column(&header, &rows, "is_anomaly");
    let flagged = flags.iter().filter(|&&f| f == "1").count();
    assert!((18..=22).contains(&flagged), "flagged {flagged} of 400 at contamination 0.05");
    // proba is in [0, 1] and above 0.5 exactly for flagged rows.
    for (pr, f) in column(&header, &rows, "proba").iter().zip(&flags) {
        let pr: f32 = pr.parse().expect("proba");
        assert!((0.0..=1.0).contains(&pr));
        assert_eq!(pr > 0.5, *f == "1", "proba {pr} flag {f}");
    }
    assert_planted_rows_score_highest(&header, &rows);
    // --threshold overrides the saved one.
    let (header, rows) = score_rows(&s, &["--threshold", "1e9"]);
    assert_eq!(rows.len(), 400);
    assert!(column(&header, &rows, "is_anomaly").iter().all(|&f| f == "0"));
}

#[test]
fn scores_stdin_csv_and_json_lines_with_explanations() {
    let s = setup(&[]);
    let csv = "a,b,c,kind\n0.5,1.0,-0.5,pos\n0.2,-3.0,2.0,pos\n-0.4,-0.8,0.4,neg\n";
    let o =
        ok(latent_stdin(&["score", "--model", p(&s.model), "--data", "-", "--explain", "2"], csv));
    let (header, rows) = parse(&stdout(&o));
    assert_eq!(header, ["score", "is_anomaly", "explain_1", "share_1", "explain_2", "share_2"]);
    assert_eq!(rows.len(), 3);
    for r in &rows {
        for name in [&r[2], &r[4]] {
            assert!(["a", "b", "c", "kind"].contains(&name.as_str()), "{name}");
        }
        let (s1, s2): (f32, f32) = (r[3].parse().expect("share"), r[5].parse().expect("share"));
        assert!(s1 >= s2 && s1 + s2 <= 1.0 + 1e-5);
    }
    // The broken row is explained by b (or c), not by a one-hot value like "kind=pos".
    assert!(["b", "c"].contains(&rows[1][2].as_str()), "{:?}", rows[1]);

    let jsonl = "{\"a\": 0.5, \"b\": 1.0, \"c\": -0.5, \"kind\": \"pos\"}\n\n\
                 {\"a\": 0.2, \"b\": -3.0, \"c\": 2.0, \"kind\": \"pos\"}\n\
                 {\"a\": -0.4, \"b\": -0.8, \"c\": 0.4, \"kind\": \"neg\"}\n";
    let o2 = ok(latent_stdin(
        &["score", "--model", p(&s.model), "--data", "-", "--explain", "2"],
        jsonl,
    ));
    assert_eq!(stdout(&o2), stdout(&o), "JSON lines and CSV give the same scores");
    // A one-hot group is one column: a wrong category is blamed on "kind".
    let o3 = ok(latent_stdin(
        &["score", "--model", p(&s.model), "--data", "-", "--explain", "1"],
        "a,b,c,kind\n0.9,1.8,-0.9,neg\n",
    ));
    assert_eq!(parse(&stdout(&o3)).1[0][2], "kind");
}

#[test]
fn evaluate_prints_the_metric_keys() {
    let s = setup(&[]);
    let o = ok(latent(&[
        "evaluate",
        "--model",
        p(&s.model),
        "--data",
        p(&s.data),
        "--label-column",
        "label",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    for key in ["roc_auc", "pr_auc", "precision", "recall", "f1"] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} missing: {v}"));
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    assert!(v["roc_auc"].as_f64().unwrap() > 0.95, "{v}");
    assert_eq!(v["rows"], 400);
    assert_eq!(v["anomalies"], 8);
    // Text labels with a configurable normal value.
    let text = table().replace(",0\n", ",ok\n").replace(",1\n", ",attack\n");
    let data = s.dir.join("text.csv");
    std::fs::write(&data, text).expect("write");
    let o = ok(latent(&[
        "evaluate",
        "--model",
        p(&s.model),
        "--data",
        p(&data),
        "--label-column",
        "label",
        "--normal-label",
        "ok",
        "--format",
        "json",
    ]));
    let w: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(w["roc_auc"], v["roc_auc"]);
}

#[test]
fn bad_input_exits_2() {
    let s = setup(&[]);
    let bad = [
        ("wrong width", "a,b,kind\n1,2,pos\n"),
        ("NaN", "a,b,c,kind\n1,NaN,2,pos\n"),
        ("missing", "a,b,c,kind\n1,,2,pos\n"),
        ("text", "a,b,c,kind\n1,x,2,pos\n"),
        ("json", "{\"a\": 1, \"b\": 2, \"kind\": \"pos\"}\n"),
        ("json text", "{\"a\": 1, \"b\": \"x\", \"c\": 1, \"kind\": \"pos\"}\n"),
        ("empty", ""),
    ];
    for (what, input) in bad {
        let o = latent_stdin(&["score", "--model", p(&s.model), "--data", "-"], input);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let o = latent(&["train", "--data", p(&s.data), "--out", p(&s.model), "--contamination", "2"]);
    assert_eq!(o.status.code(), Some(2));
    let o = latent(&[
        "train",
        "--data",
        p(&s.data),
        "--out",
        p(&s.model),
        "--contamination",
        "0.1",
        "--quantile",
        "0.9",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A bad row in a large file stops the parallel pipeline with the row's line, after writing
/// the rows before it in order to standard output (an `--out` file is not left behind), and
/// never hangs (the reader may be blocked sending pieces).
#[test]
fn a_bad_row_in_a_large_input_stops_in_order() {
    let s = setup(&[]);
    for bad_line in [3usize, 150_000] {
        let mut text = String::from("a,b,c,kind\n");
        for i in 2..200_000 {
            let v = (i % 97) as f64 / 97.0;
            if i == bad_line {
                text += "1,oops,2,pos\n";
            } else {
                text += &format!("{v},{},{},pos\n", 2.0 * v, -v);
            }
        }
        let data = s.dir.join("large.csv");
        std::fs::write(&data, text).expect("write");
        // Standard output (here a file) gets the rows before the error, in order.
        let out = s.dir.join("large-scores.csv");
        let mut child = latent_command()
            .args(["score", "--model", p(&s.model), "--data", p(&data)])
            .args(["--quiet"])
            .stdout(std::fs::File::create(&out).expect("create"))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().expect("kill");
                panic!("latent score hung on a bad row at line {bad_line}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("read stderr");
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("line {bad_line}")) && stderr.contains("\"b\""),
            "{stderr}"
        );
        // Every line written before the error is complete, in order: header + whole chunks.
        let written = std::fs::read_to_string(&out).expect("read scores");
        let rows = written.lines().count().saturating_sub(1);
        assert!(rows < bad_line - 1, "{rows} rows written before line {bad_line}");
        assert!(written.is_empty() || written.ends_with('\n'));
        // An --out file is written whole or not at all: nothing is left behind.
        let file = s.dir.join("large-out.csv");
        let o = latent(&["score", "--model", p(&s.model), "--data", p(&data), "--out", p(&file)]);
        assert_eq!(o.status.code(), Some(2));
        assert!(!file.exists(), "a partial --out file was left at line {bad_line}");
    }
}

/// `benchmark-anomaly` runs the default detector against the Rust panel (PCA, Isolation Forest,
/// ECOD, kNN) in both protocols, with the detector's F1 at its saved threshold; `--no-python`
/// leaves out the PyOD baselines, a Python that cannot run the script is a clear error.
#[test]
fn benchmark_anomaly_compares_the_panel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("planted.csv");
    let numeric = table()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{}", f[0], f[1], f[2], f[4])
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&data, numeric + "\n").expect("write");
    let out = dir.path().join("results.json");
    ok(latent(&[
        "benchmark-anomaly",
        "--data-dir",
        p(dir.path()),
        "--label-column",
        "label",
        "--seeds",
        "2",
        "--epochs",
        "20",
        "--no-python",
        "--out",
        p(&out),
    ]));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("json");
    let d = &v["datasets"][0];
    assert_eq!(d["dataset"], "planted");
    assert_eq!(d["rows"], 400);
    assert_eq!(v["protocol"], "unsupervised");
    for m in ["detector", "autoencoder", "pca", "iforest", "ecod", "knn"] {
        let roc = d[m]["roc_auc"].as_f64().unwrap_or(0.0);
        assert!(roc > 0.8, "{m}: {roc}");
        assert!(v["mean"][m]["pr_auc"].as_f64().is_some());
    }
    assert!(d["pyod_autoencoder"].is_null(), "--no-python runs no PyOD baseline");
    let f1 = d["detector"]["f1"].as_f64().expect("the detector's F1");
    assert!((0.0..=1.0).contains(&f1), "{f1}");
    assert_eq!(v["config"]["detector"]["kind"], "ensemble", "the default detector");
    // The table: the default detector first; the old --hybrid flag is still accepted.
    let o = ok(latent(&[
        "benchmark-anomaly",
        "--data-dir",
        p(dir.path()),
        "--seeds",
        "1",
        "--epochs",
        "20",
        "--hybrid",
        "--no-python",
        "--protocol",
        "semi-supervised",
        "--format",
        "json",
        "--quiet",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["protocol"], "semi-supervised");
    assert!(v["datasets"][0]["knn"]["roc_auc"].as_f64().unwrap_or(0.0) > 0.8, "{v}");
    let o = ok(latent(&[
        "benchmark-anomaly",
        "--data-dir",
        p(dir.path()),
        "--seeds",
        "1",
        "--epochs",
        "20",
        "--no-python",
        "--quiet",
    ]));
    let table = stdout(&o);
    let header = table.lines().next().unwrap_or("");
    assert!(header.starts_with("dataset") && header.contains("latent"), "{header}");
    for m in ["IF", "ECOD", "kNN", "PCA", "F1"] {
        assert!(header.contains(m), "{m} missing: {header}");
    }
    assert!(table.lines().any(|l| l.starts_with("mean")));
    // A Python that cannot run the reference script: exit 1 naming it, no panic.
    let o = latent(&[
        "benchmark-anomaly",
        "--data-dir",
        p(dir.path()),
        "--seeds",
        "1",
        "--epochs",
        "5",
        "--python",
        "/nonexistent/python",
        "--quiet",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/python") && !err.contains("panicked"), "{err}");
}

/// `--preset anomaly` trains the ensemble detector: the threshold is calibrated on the
/// ensemble score, `score` uses it (positive scores, the planted rows highest), and
/// explanations still name the columns the autoencoder rebuilds worst. `--detector forest`
/// keeps the forest alone (scores in (0, 1]). A plain model refuses `--score ensemble` and
/// `--score forest`.
#[test]
fn the_anomaly_preset_saves_and_scores_with_the_ensemble() {
    for (detector, version, words) in
        [("ensemble", 3, "largest standardised score"), ("forest", 2, "isolation forest")]
    {
        let s = setup(&["--preset", "anomaly", "--detector", detector, "--contamination", "0.02"]);
        let o = ok(latent(&["info", "--model", p(&s.model), "--format", "json"]));
        let info: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("info json");
        assert_eq!(info["threshold"]["score"], detector, "{info}");
        assert_eq!(info["score"]["name"], detector, "{info}");
        assert_eq!(info["format"]["version"], version);
        let o = ok(latent(&["info", "--model", p(&s.model), "--manifest"]));
        let manifest: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("manifest");
        assert_eq!(manifest["anomaly"]["score"], detector, "{manifest}");
        let o = ok(latent(&["info", "--model", p(&s.model)]));
        assert!(stdout(&o).contains(words), "{}", stdout(&o));
        let (header, rows) = score_rows(&s, &["--explain", "1"]);
        let scores = assert_planted_rows_score_highest(&header, &rows);
        assert!(scores.iter().all(|&v| v > 0.0 && v.is_finite()));
        if detector == "forest" {
            assert!(scores.iter().all(|&v| v <= 1.0));
        }
        let flagged = column(&header, &rows, "is_anomaly").iter().filter(|&&f| f == "1").count();
        assert!((6..=10).contains(&flagged), "flagged {flagged} of 400 at contamination 0.02");
        assert!(header.iter().any(|h| h.starts_with("explain")), "{header:?}");
    }
    // The preset's default is the ensemble.
    let s = setup(&["--preset", "anomaly"]);
    let o = ok(latent(&["info", "--model", p(&s.model), "--format", "json"]));
    let info: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("info json");
    assert_eq!(info["score"]["name"], "ensemble", "{info}");

    let plain = setup(&[]);
    for score in ["ensemble", "forest"] {
        let o = latent(&[
            "score",
            "--model",
            p(&plain.model),
            "--data",
            p(&plain.data),
            "--score",
            score,
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("{score} detector")), "{err}");
    }
}

/// Variational models score rows by their negative ELBO (the default threshold's score) or
/// reconstruction NLL, in nats; the difference is the KL term, never negative. A deterministic
/// model refuses those scores with exit 2.
#[test]
fn variational_scores_are_elbo_and_reconstruction_nll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("t.csv");
    std::fs::write(&data, table()).expect("write");
    let vae = dir.path().join("vae.safetensors");
    let base = ["train", "--data", p(&data), "--label-column", "label", "--quiet"];
    ok(latent(&[&base[..], &["--preset", "vae", "--epochs", "30", "--out", p(&vae)]].concat()));
    let info = stdout(&ok(latent(&["info", "--model", p(&vae)])));
    assert!(info.contains("neg_elbo"), "VAE threshold should be on neg_elbo:\n{info}");
    let column = |score: &str| -> Vec<f64> {
        let o = ok(latent(&[
            "score",
            "--model",
            p(&vae),
            "--data",
            p(&data),
            "--label-column",
            "label",
            "--score",
            score,
            "--threshold",
            "0",
        ]));
        stdout(&o).lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect()
    };
    let (elbo, nll) = (column("neg-elbo"), column("recon-nll"));
    assert_eq!(elbo.len(), 400);
    for (e, n) in elbo.iter().zip(&nll) {
        assert!(e.is_finite() && n.is_finite() && e + 1e-4 >= *n, "neg_elbo {e} < recon_nll {n}");
    }
    // The rows that break the correlations score higher on average.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&elbo[392..]) > mean(&elbo[..392]));

    let dense = dir.path().join("dense.safetensors");
    ok(latent(&[&base[..], &["--epochs", "5", "--out", p(&dense)]].concat()));
    let o = latent(&["score", "--model", p(&dense), "--data", p(&data), "--score", "neg-elbo"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("variational"));
}
