//! A newcomer's first hour (issue 12), each point through the real binary on files: labels that
//! cannot mislead, defaults that train on small tables, outputs that are safe, the label column
//! remembered by the model, and a closed pipe that ends quietly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent, latent_command, ok, p, repo, stderr, stdout};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The shipped breast-cancer set (`data/anomaly/breastw.csv`) with its 0/1 label rewritten as
/// `M` (malignant, the anomalies) and `B`, the way the UCI file writes it.
fn breast_cancer_mb(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("data/anomaly/breastw.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let (features, label) = line.rsplit_once(',').unwrap();
        let label = match (i, label) {
            (0, _) => "diagnosis",
            (_, "1") => "M",
            _ => "B",
        };
        out += &format!("{features},{label}\n");
    }
    let path = dir.join("breast.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn train(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["train", "--data", p(data), "--out", p(out), "--quiet", "--seed", "3"];
    args.extend_from_slice(extra);
    latent(&args)
}

#[test]
fn string_labels_are_refused_until_the_anomalous_class_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = breast_cancer_mb(dir.path());
    let model = dir.path().join("m.safetensors");
    ok(train(&data, &model, &["--label-column", "diagnosis", "--epochs", "30"]));

    // evaluate: no guess, exit 2, the values and the flag named.
    let eval = |extra: &[&str]| {
        let mut args = vec!["evaluate", "--model", p(&model), "--data", p(&data)];
        args.extend_from_slice(&["--label-column", "diagnosis", "--format", "json"]);
        args.extend_from_slice(extra);
        latent(&args)
    };
    let o = eval(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("\"B\" (444 rows)") && e.contains("\"M\" (239 rows)"), "{e}");
    assert!(e.contains("--positive"), "{e}");
    let j: serde_json::Value =
        serde_json::from_str(&stdout(&ok(eval(&["--positive", "M"])))).unwrap();
    assert_eq!(j["anomalies"], 239);
    assert!(j["roc_auc"].as_f64().unwrap() > 0.9, "{j}");
    // The same split named from the other side gives the same numbers.
    let k: serde_json::Value =
        serde_json::from_str(&stdout(&ok(eval(&["--normal-label", "B"])))).unwrap();
    assert_eq!(j["roc_auc"], k["roc_auc"]);
    let o = eval(&["--positive", "Z"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no row has the label \"Z\""), "{}", stderr(&o));

    // report: the same rule; unclear labels give a note, never inverted curves.
    let report = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["report", "--model", p(&model), "--data", p(&data)];
        args.extend_from_slice(&["--label-column", "diagnosis", "--out", p(&out)]);
        args.extend_from_slice(extra);
        ok(latent(&args));
        std::fs::read_to_string(out).unwrap()
    };
    let html = report("plain.html", &[]);
    assert!(html.contains("No ROC or precision-recall curves"), "no note in the report");
    assert!(!html.contains("ROC-AUC</span>"), "the report guessed a positive class");
    let html = report("named.html", &["--positive", "M"]);
    assert!(html.contains("ROC-AUC</span>"));
}

#[test]
fn small_tables_train_for_enough_steps_and_warn_when_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let glass = repo().join("data/anomaly/glass.csv");
    let model = dir.path().join("glass.safetensors");
    // 214 rows: one batch per epoch; the default trains for about 2,000 steps.
    let o =
        ok(latent(&["train", "--data", p(&glass), "--label-column", "label", "--out", p(&model)]));
    let info = ok(latent(&["info", "--model", p(&model), "--format", "json"]));
    let j: serde_json::Value = serde_json::from_str(&stdout(&info)).unwrap();
    let epochs = j["training"]["epochs"].as_u64().unwrap_or(0);
    assert!(epochs >= 1000, "only {epochs} epochs on a 214-row table");
    assert!(!stderr(&o).contains("warning: the validation loss"), "{}", stderr(&o));
    // An explicit --epochs is taken as it is, and a run cut short says so.
    let short = dir.path().join("short.safetensors");
    let o = ok(latent(&[
        "train",
        "--data",
        p(&glass),
        "--label-column",
        "label",
        "--epochs",
        "20",
        "--out",
        p(&short),
    ]));
    let e = stderr(&o);
    assert!(e.contains("best epoch 20 of 20"), "{e}");
    assert!(e.contains("warning: the validation loss was still falling"), "{e}");
}

#[test]
fn a_bad_out_path_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("data/digits/digits.csv");
    for out in [dir.path().join("no/such/folder/m.safetensors"), dir.path().to_path_buf()] {
        let started = std::time::Instant::now();
        let o = train(&digits, &out, &["--label-column", "label", "--epochs", "500"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(p(&out)), "{}", stderr(&o));
        assert!(started.elapsed().as_secs() < 5, "it trained before checking --out");
    }
    let o = latent(&["score", "--model", "no-such-model.safetensors", "--data", p(&digits)]);
    assert_eq!(o.status.code(), Some(2), "a missing path is the user's mistake");
}

#[test]
fn models_in_one_folder_keep_their_own_logs() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("data/digits/digits.csv");
    for name in ["a", "b"] {
        let out = dir.path().join(format!("{name}.safetensors"));
        ok(train(&digits, &out, &["--label-column", "label", "--epochs", "3"]));
    }
    for name in ["a", "b"] {
        let log = std::fs::read_to_string(dir.path().join(format!("{name}.metrics.jsonl")));
        assert_eq!(log.unwrap().lines().count(), 3, "{name}");
    }
    assert!(!dir.path().join("metrics.jsonl").exists());
}

#[test]
fn a_bad_row_leaves_no_partial_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = dir.path().join("train.csv");
    let mut text = String::from("a,b\n");
    for i in 0..200 {
        text += &format!("{},{}\n", i % 7, i % 5);
    }
    std::fs::write(&train_csv, &text).unwrap();
    let model = dir.path().join("m.safetensors");
    ok(train(&train_csv, &model, &["--epochs", "2"]));
    // 50,000 good rows, then a bad one: more than one block of output is ready before it.
    let mut big = String::from("a,b\n");
    for i in 0..50_000 {
        big += &format!("{},{}\n", i % 7, i % 5);
    }
    big += "1,oops\n";
    let data = dir.path().join("big.csv");
    std::fs::write(&data, big).unwrap();
    let out = dir.path().join("scores.csv");
    std::fs::write(&out, "earlier results\n").unwrap();
    let o = latent(&["score", "--model", p(&model), "--data", p(&data), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 50002"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier results\n", "output replaced");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "temporary file left: {names:?}");
    // A good run replaces it whole.
    std::fs::write(&data, "a,b\n1,2\n3,4\n").unwrap();
    ok(latent(&["score", "--model", p(&model), "--data", p(&data), "--out", p(&out)]));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
}

#[test]
fn the_model_remembers_its_label_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo().join("data/anomaly/wbc.csv");
    let model = dir.path().join("m.safetensors");
    ok(train(&data, &model, &["--label-column", "label", "--epochs", "3"]));
    // The same file, label column and all, is accepted without --label-column again, and the
    // label is carried through to the outputs.
    let o = ok(latent(&["score", "--model", p(&model), "--data", p(&data)]));
    assert!(stdout(&o).starts_with("score,is_anomaly,label\n"), "{}", stdout(&o));
    let codes = dir.path().join("codes.csv");
    ok(latent(&["encode", "--model", p(&model), "--data", p(&data), "--out", p(&codes)]));
    let header = std::fs::read_to_string(&codes).unwrap().lines().next().unwrap().to_string();
    assert!(header.ends_with(",label"), "{header}");
    ok(latent(&["eval", "--model", p(&model), "--data", p(&data)]));
    // A file without it is fine too.
    let text = std::fs::read_to_string(&data).unwrap();
    let without: String =
        text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    let plain = dir.path().join("plain.csv");
    std::fs::write(&plain, without).unwrap();
    let o = ok(latent(&["score", "--model", p(&model), "--data", p(&plain)]));
    assert!(stdout(&o).starts_with("score,is_anomaly\n"), "{}", stdout(&o));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("data/digits/digits.csv");
    let model = dir.path().join("m.safetensors");
    ok(train(&digits, &model, &["--label-column", "label", "--epochs", "2"]));
    // `latent score ... | head -1`: the reader goes away after the first line.
    let mut child = latent_command()
        .args(["score", "--model", p(&model), "--data", p(&digits)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then dropped: closed
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    for args in [vec!["info", "--model", p(&model)], vec!["--help"]] {
        let mut child = latent_command()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
}

/// A hand-made mixed table: an id, a city (categorical), two numbers, gaps written the ways
/// real files write them.
fn mixed_table(dir: &Path, rows: usize) -> PathBuf {
    let mut text = String::from("customer_id,city,amount,age\n");
    let cities = ["paris", "lyon", "nice"];
    for i in 0..rows {
        let amount = if i % 17 == 3 { "NA".to_string() } else { format!("{}", 10 + i % 23) };
        let age = match i % 29 {
            5 => "?".to_string(),
            6 => "null".to_string(),
            _ => format!("{}", 20 + i % 41),
        };
        text += &format!("C{i:05},{},{amount},{age}\n", cities[i % 3]);
    }
    let path = dir.join("customers.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn missing_values_as_files_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_table(dir.path(), 300);
    let model = dir.path().join("m.safetensors");
    // Without --missing: the first missing cell in row order (row 4: amount "NA"; the age
    // gap at row 6 comes later), whatever the column order.
    let o = train(&data, &model, &["--id-column", "customer_id", "--epochs", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("data row 4, column \"amount\": missing value"), "{e}");
    assert!(e.contains("--missing impute-mean"), "{e}");
    // "NA", "?" and "null" are missing values under impute-mean; --na-values adds markers.
    ok(train(
        &data,
        &model,
        &["--id-column", "customer_id", "--missing", "impute-mean", "--epochs", "2"],
    ));
    let extra = dir.path().join("extra.csv");
    std::fs::write(&extra, "customer_id,city,amount,age\nX1,paris,-999,30\n").unwrap();
    let score = |extra_args: &[&str]| {
        let mut args = vec!["score", "--model", p(&model), "--data", p(&extra)];
        args.extend_from_slice(extra_args);
        latent(&args)
    };
    let plain = stdout(&ok(score(&[])));
    let as_missing = stdout(&ok(score(&["--na-values", "-999"])));
    assert_ne!(plain, as_missing, "-999 was not read as missing");
}

#[test]
fn a_model_trained_on_complete_data_can_impute_at_scoring() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = dir.path().join("train.csv");
    let mut text = String::from("a,b\n");
    for i in 0..100 {
        text += &format!("{},{}\n", i % 7, i % 5);
    }
    std::fs::write(&train_csv, text).unwrap();
    let model = dir.path().join("m.safetensors");
    ok(train(&train_csv, &model, &["--epochs", "2"]));
    let gaps = dir.path().join("gaps.csv");
    std::fs::write(&gaps, "a,b\n1,2\nNA,3\n,\n").unwrap();
    let o = latent(&["score", "--model", p(&model), "--data", p(&gaps)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--missing impute-mean"), "{}", stderr(&o));
    let o = ok(latent(&[
        "score",
        "--model",
        p(&model),
        "--data",
        p(&gaps),
        "--missing",
        "impute-mean",
    ]));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    // The row with no values at all is not the most normal row: no score, flagged.
    assert_eq!(lines[3], "NaN,1", "{lines:?}");
    assert!(stderr(&o).contains("1 rows had no values at all"), "{}", stderr(&o));
}

#[test]
fn id_columns_are_refused_as_features_and_carried_through() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_table(dir.path(), 300);
    let model = dir.path().join("m.safetensors");
    let o = train(&data, &model, &["--missing", "impute-mean", "--epochs", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("\"customer_id\" looks like an identifier"), "{e}");
    assert!(e.contains("--id-column customer_id"), "{e}");
    ok(train(
        &data,
        &model,
        &["--missing", "impute-mean", "--epochs", "2", "--id-column", "customer_id"],
    ));
    let info = stdout(&ok(latent(&["info", "--model", p(&model), "--format", "json"])));
    let j: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(j["columns"].as_array().unwrap().len(), 3, "{j}");
    // Scoring and encoding carry the id through, first, untouched.
    let o = ok(latent(&["score", "--model", p(&model), "--data", p(&data)]));
    let out = stdout(&o);
    assert!(out.starts_with("customer_id,score,is_anomaly\nC00000,"), "{out}");
    // The codes as NPY: the ids go beside them, nothing is dropped silently.
    let npy = dir.path().join("codes.npy");
    ok(latent(&["encode", "--model", p(&model), "--data", p(&data), "--out", p(&npy)]));
    let beside = std::fs::read_to_string(dir.path().join("codes.labels.csv")).unwrap();
    assert_eq!(beside.lines().count(), 301);
    assert!(beside.starts_with("customer_id\nC00000\n"), "{beside}");
    // A given id column that is not in the file is an error.
    let o = latent(&["score", "--model", p(&model), "--data", p(&data), "--id-column", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("id column \"nope\" not found"), "{}", stderr(&o));
}

#[test]
fn unseen_categories_are_counted_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_table(dir.path(), 300);
    let model = dir.path().join("m.safetensors");
    let args = ["--missing", "impute-mean", "--epochs", "2", "--id-column", "customer_id"];
    ok(train(&data, &model, &args));
    let new = dir.path().join("new.csv");
    std::fs::write(
        &new,
        "customer_id,city,amount,age\nA,paris,10,30\nB,tokyo,11,31\nC,oslo,12,32\n",
    )
    .unwrap();
    let o = ok(latent(&["score", "--model", p(&model), "--data", p(&new), "--unknown-categories"]));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "customer_id,score,is_anomaly,unknown_categories");
    let counts: Vec<&str> = lines[1..].iter().map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(counts, ["0", "1", "1"]);
    assert!(stderr(&o).contains("2 rows had categories not seen in training"), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"city\": 2"), "{}", stderr(&o));
}

#[test]
fn pca_writes_codes_and_reconstructions_like_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("data/digits/digits.csv");
    let model = dir.path().join("m.safetensors");
    ok(train(&digits, &model, &["--label-column", "label", "--epochs", "2", "--latent", "6"]));
    let (codes, recon) = (dir.path().join("pc.csv"), dir.path().join("pc-recon.csv"));
    ok(latent(&[
        "pca",
        "--model",
        p(&model),
        "--train",
        p(&digits),
        "--data",
        p(&digits),
        "--out",
        p(&codes),
        "--reconstructions",
        p(&recon),
    ]));
    let codes = std::fs::read_to_string(codes).unwrap();
    assert!(codes.starts_with("pc0,pc1,pc2,pc3,pc4,pc5,label\n"), "{}", &codes[..80]);
    assert_eq!(codes.lines().count(), 1798);
    let recon = std::fs::read_to_string(recon).unwrap();
    assert!(recon.starts_with("p0,p1,"), "{}", &recon[..40]);
    assert_eq!(recon.lines().count(), 1798);
}

#[test]
fn one_spelling_or_the_other_and_no_silent_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let digits = repo().join("data/digits/digits.csv");
    let model = dir.path().join("m.safetensors");
    // A repeated --label-column is an error, not the last one winning.
    let o = train(&digits, &model, &["--label-column", "label", "--label-column", "p0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--label-column given 2 times"), "{}", stderr(&o));
    // The config file takes the flags' spellings and the flags take the file's.
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        "[model]\nactivation = \"leaky-relu\"\n[preprocess]\nscaling = \"minmax\"\n\
         missing = \"impute-mean\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    ok(train(&digits, &model, &["--label-column", "label", "--config", p(&config)]));
    ok(train(
        &digits,
        &model,
        &[
            "--label-column",
            "label",
            "--activation",
            "leaky_relu",
            "--scale",
            "min_max",
            "--missing",
            "impute_mean",
            "--epochs",
            "2",
            "--max-seconds",
            "60",
        ],
    ));
}

#[test]
fn the_denoising_preset_picks_a_convolutional_denoiser_for_images() {
    let dir = tempfile::tempdir().unwrap();
    // The shipped 8x8 digits as IDX images in [0, 1].
    let opts =
        latent_data::LoadOptions { label_column: Some("label".into()), ..Default::default() };
    let data = latent_data::load(&repo().join("data/digits/digits.csv"), &opts).unwrap();
    let values: Vec<f32> = data.frame.to_row_major().unwrap().iter().map(|v| v / 16.0).collect();
    let idx = dir.path().join("digits-images-idx3-ubyte");
    let shape = latent::ImageShape { channels: 1, height: 8, width: 8 };
    latent_data::write_idx_images(&idx, shape, 400, &values[..400 * 64]).unwrap();
    let info = |model: &Path| {
        let o = ok(latent(&["info", "--model", p(model), "--format", "json"]));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let model = dir.path().join("dn.safetensors");
    ok(train(&idx, &model, &["--preset", "denoising", "--epochs", "1"]));
    let j = info(&model);
    assert!(j["family"].as_str().unwrap().contains("conv"), "{j}");
    // A chosen architecture or loss is kept.
    ok(train(&idx, &model, &["--preset", "denoising", "--epochs", "1", "--hidden", "32"]));
    assert!(!info(&model)["family"].as_str().unwrap().contains("conv"));
    // The VAE preset on images takes the measured MNIST run's sizes and schedule.
    ok(train(&idx, &model, &["--preset", "vae", "--epochs", "1"]));
    let j = info(&model);
    assert!(j["architecture"].as_str().unwrap().contains("-512-256-"), "{j}");
    let manifest = ok(latent(&["info", "--model", p(&model), "--manifest"]));
    let m: serde_json::Value = serde_json::from_str(&stdout(&manifest)).unwrap();
    assert_eq!(m["config"]["objective"]["binarize"], true, "{m}");
    assert_eq!(m["config"]["train"]["batch_size"], 128);
    // A time budget without --epochs trains until the budget is spent.
    let o = ok(train(&idx, &model, &["--preset", "vae", "--max-seconds", "1.5"]));
    let epochs = info(&model)["training"]["epochs"].as_u64().unwrap();
    assert!(epochs > 20, "{epochs} epochs in 1.5 s: {}", stderr(&o));
    // Tables stay dense.
    let digits = repo().join("data/digits/digits.csv");
    ok(train(
        &digits,
        &model,
        &["--preset", "denoising", "--epochs", "1", "--label-column", "label"],
    ));
    assert!(!info(&model)["family"].as_str().unwrap().contains("conv"));
}

#[test]
fn the_report_names_the_score_a_detector_model_uses() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo().join("data/anomaly/glass.csv");
    for (detector, words) in [
        ("forest", "Isolation Forest score"),
        ("ensemble", "largest standardised score of two Isolation Forests"),
    ] {
        let model = dir.path().join(format!("{detector}.safetensors"));
        let flags = ["--label-column", "label", "--preset", "anomaly", "--epochs", "5"];
        ok(train(&data, &model, &[&flags[..], &["--detector", detector]].concat()));
        let out = dir.path().join("report.html");
        ok(latent(&["report", "--model", p(&model), "--data", p(&data), "--out", p(&out)]));
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.contains(words), "the report does not name the {detector} score");
        let median = format!("median score ({detector})");
        assert!(html.contains(&median), "no statistics of the {detector} score");
        let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
        assert!(info.contains(&format!("{detector}: {words}")), "{info}");
    }
}
