//! Time series through the real binary: `latent train --window`, `latent score` one row per
//! point (causal: a longer series never changes an earlier score), `--follow` writing the
//! same digits as the batch mode and answering line by line, `--centered`, and bad inputs
//! (unsorted or duplicate timestamps, non-numeric or missing values, a window longer than the
//! series) failing with exit code 2 and a message naming the line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent, latent_command, latent_stdin, ok, p, stderr, stdout};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const WINDOW: usize = 12;

/// A two-sensor series with ISO timestamps (5-minute steps) and a burst at `anomaly`.
fn series_csv(points: usize, anomaly: Option<usize>) -> String {
    let mut s = String::from("timestamp,temp,load\n");
    for i in 0..points {
        let (h, m) = ((i * 5) / 60, (i * 5) % 60);
        let (day, h) = (1 + h / 24, h % 24);
        let x = i as f32 * 0.3;
        let mut temp = 20.0 + 3.0 * x.sin();
        let load = 0.5 + 0.2 * (x * 0.5).cos();
        if anomaly.is_some_and(|a| (a..a + 3).contains(&i)) {
            temp += 25.0;
        }
        s += &format!("2024-03-{day:02} {h:02}:{m:02}:00,{temp},{load}\n");
    }
    s
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    p(&path).to_string()
}

/// Trains a small windowed model on a clean series; returns its path.
fn train(dir: &Path) -> String {
    let data = write(dir, "train.csv", &series_csv(300, None));
    let model = dir.join("m.safetensors");
    let w = WINDOW.to_string();
    ok(latent(&[
        "train",
        "--data",
        &data,
        "--time-column",
        "timestamp",
        "--window",
        &w,
        "--window-stride",
        "2",
        "--epochs",
        "15",
        "--out",
        p(&model),
        "-q",
    ]));
    p(&model).to_string()
}

#[test]
fn windowed_train_and_score_one_row_per_point() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let data = write(dir.path(), "test.csv", &series_csv(200, Some(150)));
    let o = ok(latent(&["score", "--model", &model, "--data", &data, "--explain", "1"]));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "timestamp,score,is_anomaly,explain_1,share_1");
    assert_eq!(lines.len(), 201);
    // The first window - 1 points have no score.
    assert_eq!(lines[1], "2024-03-01 00:00:00,,,,");
    assert!(lines[WINDOW - 1].ends_with(",,,,"));
    let score = |l: &str| l.split(',').nth(1).unwrap().parse::<f32>().unwrap();
    assert!(score(lines[WINDOW]) >= 0.0);
    // The burst at point 150 is flagged and explained by the temperature column.
    let burst = lines[151];
    assert!(burst.contains(",1,temp,"), "{burst}");
    let quiet = score(lines[100]);
    assert!(score(burst) > 10.0 * quiet, "{burst} vs {quiet}");
}

#[test]
fn appending_points_never_changes_earlier_scores() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let full = series_csv(240, Some(200));
    let full_out = stdout(&ok(latent(&[
        "score",
        "--model",
        &model,
        "--data",
        &write(dir.path(), "f.csv", &full),
    ])));
    for cut in [WINDOW, 57, 199, 201] {
        let head: String = full.lines().take(cut + 1).map(|l| format!("{l}\n")).collect();
        let d = write(dir.path(), "h.csv", &head);
        let out = stdout(&ok(latent(&["score", "--model", &model, "--data", &d])));
        let n = out.lines().count();
        assert_eq!(n, cut + 1);
        assert!(full_out.lines().take(n).eq(out.lines()), "cut {cut}");
    }
}

#[test]
fn follow_writes_what_the_batch_mode_writes() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let text = series_csv(150, Some(100));
    let data = write(dir.path(), "s.csv", &text);
    let batch =
        stdout(&ok(latent(&["score", "--model", &model, "--data", &data, "--explain", "2"])));
    let follow = stdout(&ok(latent_stdin(
        &["score", "--model", &model, "--data", "-", "--follow", "--explain", "2"],
        &text,
    )));
    assert_eq!(batch, follow);
    let centered =
        stdout(&ok(latent(&["score", "--model", &model, "--data", &data, "--centered"])));
    assert_eq!(centered.lines().count(), 151);
    assert!(!centered.lines().nth(1).unwrap().contains(",,"), "every point has a centred score");
}

#[test]
fn follow_answers_each_line_before_the_stream_ends() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let mut child = latent_command()
        .args(["score", "--model", &model, "--data", "-", "--follow"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let text = series_csv(WINDOW + 5, None);
    let mut lines = text.lines();
    writeln!(stdin, "{}", lines.next().unwrap()).unwrap();
    let wait =
        |rx: &std::sync::mpsc::Receiver<String>| rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(wait(&rx).starts_with("timestamp,score"));
    for (i, line) in lines.enumerate() {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        // The answer to this line arrives while the stream is still open.
        let got = wait(&rx);
        assert!(got.starts_with(line.split(',').next().unwrap()), "{got}");
        assert_eq!(got.ends_with(",,"), i + 1 < WINDOW, "point {i}: {got}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Runs `latent score` on `text` and expects exit code 2 with every `needles` in stderr.
fn bad_score(model: &str, dir: &Path, text: &str, needles: &[&str]) {
    let data = write(dir, "bad.csv", text);
    let o = latent(&["score", "--model", model, "--data", &data]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(!e.contains("panicked"), "{e}");
    for n in needles {
        assert!(e.contains(n), "missing {n:?} in {e}");
    }
}

#[test]
fn bad_series_fail_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let good = series_csv(30, None);
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    // Swap two points: out of order at line 11 (the header is line 1).
    let mut unsorted = lines.clone();
    unsorted.swap(9, 10);
    bad_score(&model, dir.path(), &(unsorted.join("\n") + "\n"), &["line 11", "out of order"]);
    let mut dup = lines.clone();
    dup[10] = dup[9].clone();
    bad_score(&model, dir.path(), &(dup.join("\n") + "\n"), &["line 11", "duplicate timestamp"]);
    lines[7] = "2024-03-01 00:30:00,warm,0.5".into();
    bad_score(&model, dir.path(), &(lines.join("\n") + "\n"), &["line 8", "temp", "not a number"]);
    lines[7] = "2024-03-01 00:30:00,,0.5".into();
    bad_score(&model, dir.path(), &(lines.join("\n") + "\n"), &["line 8", "missing value"]);
    bad_score(&model, dir.path(), &series_csv(WINDOW - 1, None), &["fewer than one window"]);
    bad_score(
        &model,
        dir.path(),
        "timestamp,temp,load\nyesterday,1,2\n",
        &["line 2", "not a timestamp"],
    );
    // Training: unsorted data and a window longer than the series.
    let t = write(dir.path(), "t.csv", &(unsorted.join("\n") + "\n"));
    let out = dir.path().join("x.safetensors");
    let o = latent(&[
        "train",
        "--data",
        &t,
        "--time-column",
        "timestamp",
        "--window",
        "4",
        "--out",
        p(&out),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("line 11") && stderr(&o).contains("out of order"),
        "{}",
        stderr(&o)
    );
    let short = write(dir.path(), "short.csv", &series_csv(10, None));
    let o = latent(&[
        "train",
        "--data",
        &short,
        "--time-column",
        "timestamp",
        "--window",
        "64",
        "--out",
        p(&out),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("fewer than one window of 64"), "{}", stderr(&o));
    // --centered cannot follow a stream.
    let o = latent(&["score", "--model", &model, "--data", "-", "--follow", "--centered"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_resumed_windowed_run_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "train.csv", &series_csv(200, None));
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--data", &data, "--time-column", "timestamp"];
        args.extend(["--window", "8", "--out", p(out), "-q"]);
        args.extend(extra);
        ok(latent(&args));
    };
    run(&a, &["--epochs", "3", "--checkpoint-every", "1"]);
    let ckpt = format!("{}.ckpt", p(&a));
    run(&a, &["--epochs", "6", "--resume", &ckpt]);
    run(&b, &["--epochs", "6"]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn conv1d_windows_score_causally_and_explain_sensors() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "train.csv", &series_csv(300, None));
    let model = dir.path().join("c.safetensors");
    ok(latent(&[
        "train",
        "--data",
        &data,
        "--time-column",
        "timestamp",
        "--window",
        "16",
        "--preset",
        "conv1d",
        "--epochs",
        "10",
        "--out",
        p(&model),
        "-q",
    ]));
    let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("conv 32-"), "{info}");
    let text = series_csv(150, Some(100));
    let test = write(dir.path(), "s.csv", &text);
    let m = p(&model);
    let batch = stdout(&ok(latent(&["score", "--model", m, "--data", &test, "--explain", "1"])));
    let follow = stdout(&ok(latent_stdin(
        &["score", "--model", m, "--data", "-", "--follow", "--explain", "1"],
        &text,
    )));
    assert_eq!(batch, follow);
    let line = batch.lines().nth(101).unwrap();
    assert!(line.contains(",1,temp,"), "{line}");
}

#[test]
fn resume_from_a_model_file_fine_tunes_on_new_data() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let new = write(dir.path(), "new.csv", &series_csv(200, None));
    let tuned = dir.path().join("tuned.safetensors");
    ok(latent(&[
        "train",
        "--resume",
        &model,
        "--data",
        &new,
        "--epochs",
        "3",
        "--out",
        p(&tuned),
        "-q",
    ]));
    let info = stdout(&ok(latent(&["info", "--model", p(&tuned)])));
    assert!(info.contains("window 12") && info.contains("epochs           3"), "{info}");
    let out = stdout(&ok(latent(&["score", "--model", p(&tuned), "--data", &new])));
    assert_eq!(out.lines().count(), 201);
    // The windows are the model's: another --window is refused.
    let o = latent(&[
        "train",
        "--resume",
        &model,
        "--data",
        &new,
        "--window",
        "5",
        "--out",
        p(&tuned),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("windows of 12"), "{}", stderr(&o));
}

#[test]
fn benchmark_nab_reports_the_three_profiles_and_per_series_rows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nab");
    if !dir.join("labels/combined_windows.json").is_file() {
        eprintln!("skipping: {} not found", dir.display());
        return;
    }
    let o = ok(latent(&[
        "benchmark-nab",
        "--data-dir",
        p(&dir),
        "--only",
        "speed_7578,exchange-2_cpc",
        "--format",
        "json",
    ]));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for key in ["standard", "reward_low_fp", "reward_low_fn"] {
        let s = j[key]["score"].as_f64().unwrap();
        assert!((-100.0..=100.0).contains(&s), "{key} {s}");
    }
    let rows = j["series"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    // exchange-2_cpc_results.csv repeats a timestamp (line 1306): read as NAB reads it.
    assert_eq!(rows[0]["series"], "realAdExchange/exchange-2_cpc_results.csv");
    assert_eq!(rows[0]["points"], 1624);
    assert_eq!(rows[1]["windows"], 4);
    assert!(j["roc_auc"].as_f64().is_some());
}
