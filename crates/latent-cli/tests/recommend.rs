//! Recommenders through the real binary: train (EASE and Mult-VAE presets), recommend,
//! info, benchmark-recommend, and bad input (exit code 2, file and column named).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent, ok, p, stderr, stdout};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A ratings file: 120 users in 4 taste groups of 10 movies each (ratings 4-5), plus one low
/// rating (2) each outside their group, which `--min-rating 3.5` drops.
fn ratings(dir: &Path) -> PathBuf {
    let mut s = String::from("userId,movieId,rating,timestamp\n");
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    for u in 0..120u64 {
        let g = u % 4;
        for _ in 0..6 {
            let m = 100 + g * 10 + next(10);
            writeln!(s, "{u},{m},{}.0,0", 4 + next(2)).unwrap();
        }
        writeln!(s, "{u},{},2.0,0", 100 + ((g + 1) % 4) * 10 + next(10)).unwrap();
    }
    let path = dir.join("ratings.csv");
    std::fs::write(&path, s).unwrap();
    path
}

const COLS: [&str; 8] = [
    "--user-column",
    "userId",
    "--item-column",
    "movieId",
    "--rating-column",
    "rating",
    "--min-rating",
    "3.5",
];

fn train(data: &Path, out: &Path, preset: &str) {
    let mut args = vec!["train", "--preset", preset, "--data", p(data), "--out", p(out)];
    args.extend(COLS);
    args.extend([
        "--epochs",
        "8",
        "--batch-size",
        "32",
        "--hidden",
        "32",
        "--latent",
        "8",
        "--lr",
        "0.005",
        "-q",
    ]);
    ok(latent(&args));
}

#[test]
fn train_recommend_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let data = ratings(dir.path());
    for preset in ["ease", "mult-vae"] {
        let model = dir.path().join(format!("{preset}.safetensors"));
        train(&data, &model, preset);
        // A history file with the model's column names (the defaults of `recommend`).
        let history = dir.path().join("history.csv");
        std::fs::write(&history, "userId,movieId,rating\nalice,100,5\nalice,101,4\nbob,135,5\n")
            .unwrap();
        let out = dir.path().join("recs.csv");
        ok(latent(&[
            "recommend",
            "--model",
            p(&model),
            "--data",
            p(&history),
            "--k",
            "3",
            "--out",
            p(&out),
        ]));
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "user,item,score,rank");
        assert_eq!(lines.len(), 1 + 6, "{text}");
        assert!(lines[1].starts_with("alice,") && lines[1].ends_with(",1"), "{text}");
        assert!(lines.iter().all(|l| !l.starts_with("alice,100,") && !l.starts_with("alice,101,")));
        // Alice likes group 0 (movies 100-109): her top item is from it.
        let top: u32 = lines[1].split(',').nth(1).unwrap().parse().unwrap();
        assert!((100..110).contains(&top), "{preset}: {text}");
        // JSON lines, keeping seen items.
        let o = ok(latent(&[
            "recommend",
            "--model",
            p(&model),
            "--data",
            p(&history),
            "--k",
            "2",
            "--format",
            "json",
            "--exclude-seen",
            "false",
        ]));
        let rows: Vec<serde_json::Value> =
            stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0]["rank"], 1);
        assert!(rows[0]["score"].is_number() && rows[0]["item"].is_string());
        // A history without the rating column: every row is a positive.
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, "userId,movieId\nalice,100\nalice,101\n").unwrap();
        let o = ok(latent(&["recommend", "--model", p(&model), "--data", p(&plain), "--k", "3"]));
        assert_eq!(stdout(&o).lines().count(), 4, "{}", stdout(&o));
        let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
        assert!(info.contains(preset) && info.contains("items"), "{info}");
        let json: serde_json::Value = serde_json::from_str(&stdout(&ok(latent(&[
            "info",
            "--model",
            p(&model),
            "--format",
            "json",
        ]))))
        .unwrap();
        assert_eq!(json["recommender"], preset);
    }
}

/// The Mult-VAE options of `benchmark-recommend` are `train` flags too, saved in the model;
/// other presets refuse them.
#[test]
fn mult_vae_options_are_train_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = ratings(dir.path());
    let model = dir.path().join("m.safetensors");
    let mut args = vec!["train", "--preset", "mult-vae", "--data", p(&data), "--out", p(&model)];
    args.extend(COLS);
    args.extend(["--epochs", "2", "--hidden", "16", "--latent", "4", "-q"]);
    args.extend(["--beta-rule", "constant", "--composite-prior", "true", "--anneal-steps", "5"]);
    args.extend(["--emphasis", "4", "--lr-decay-epochs", "2"]);
    ok(latent(&args));
    let mut bad = args.clone();
    bad.extend(["--emphasis", "0"]);
    let o = latent(&bad);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("emphasis must be positive"), "{}", stderr(&o));
    let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("for every user, annealed, composite prior"), "{info}");
    let out = dir.path().join("dense.safetensors");
    let o = latent(&["train", "--data", p(&data), "--beta-rule", "constant", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("apply to --preset mult-vae"), "{}", stderr(&o));
}

#[test]
fn bad_input_exits_2_naming_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = ratings(dir.path());
    let model = dir.path().join("ease.safetensors");
    train(&data, &model, "ease");
    let check = |args: &[&str], want: &[&str]| {
        let o = latent(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        for w in want {
            assert!(err.contains(w), "{args:?}: {err} lacks {w}");
        }
    };
    // A missing user column.
    let out = dir.path().join("x.safetensors");
    let mut args = vec!["train", "--preset", "ease", "--data", p(&data), "--out", p(&out)];
    args.extend(["--user-column", "user"]);
    check(&args, &["ratings.csv", "\"user\""]);
    // Non-numeric ratings.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "userId,movieId,rating\n1,100,5\n2,101,great\n").unwrap();
    check(
        &["recommend", "--model", p(&model), "--data", p(&bad)],
        &["bad.csv", "\"rating\"", "line 3"],
    );
    // An empty history: no row is a positive, or no item is known.
    let low = dir.path().join("low.csv");
    std::fs::write(&low, "userId,movieId,rating\n1,100,1\n").unwrap();
    check(&["recommend", "--model", p(&model), "--data", p(&low)], &["low.csv", "rating"]);
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "userId,movieId,rating\n1,999,5\n").unwrap();
    check(
        &["recommend", "--model", p(&model), "--data", p(&unknown)],
        &["unknown.csv", "\"movieId\""],
    );
    // A model that is not a recommender.
    let ae = dir.path().join("ae.safetensors");
    let digits = common::digits();
    ok(latent(&[
        "train",
        "--data",
        &digits,
        "--label-column",
        "label",
        "--epochs",
        "1",
        "--out",
        p(&ae),
        "-q",
    ]));
    check(
        &["recommend", "--model", p(&ae), "--data", p(&data)],
        &["ae.safetensors", "not a recommender"],
    );
}

#[test]
fn benchmark_reports_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = ratings(dir.path());
    let mut args = vec!["benchmark-recommend", "--data", p(&data)];
    args.extend(COLS);
    args.extend(["--heldout-users", "20", "--seeds", "2", "--epochs", "5", "--batch-size", "32"]);
    args.extend(["--hidden", "32", "--latent", "8", "--format", "json", "-q"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&ok(latent(&args)))).unwrap();
    let models: Vec<&str> =
        json.as_array().unwrap().iter().map(|m| m["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["mult-vae", "mult-dae", "ease", "popularity"]);
    for m in json.as_array().unwrap() {
        assert_eq!(m["per_seed"].as_array().unwrap().len(), 2);
        let ndcg = m["ndcg_100"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ndcg));
    }
}

#[test]
fn report_log_and_plots_of_a_recommender() {
    let dir = tempfile::tempdir().unwrap();
    let data = ratings(dir.path());
    let model = dir.path().join("rec.safetensors");
    train(&data, &model, "mult-vae");
    // The training log: one line per epoch with the validation NDCG@100 and the epoch's time.
    let log = std::fs::read_to_string(dir.path().join("rec.metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 8, "{log}");
    assert!(lines.iter().all(|l| l["validation_ndcg_100"].as_f64().is_some_and(|v| v >= 0.0)));
    assert!(lines.iter().all(|l| l["epoch_seconds"].as_f64().is_some_and(|v| v > 0.0)));
    // The report: settings, validation metrics, NDCG curve, loss and popularity plots.
    let html = dir.path().join("report.html");
    let plots = dir.path().join("plots");
    ok(latent(&["report", "--model", p(&model), "--out", p(&html), "--plots", p(&plots)]));
    let page = std::fs::read_to_string(&html).unwrap();
    for needle in
        ["mult-vae", "NDCG@100", "Recall@50", "plot-ndcg", "plot-popularity", "plot-rec_loss"]
    {
        assert!(page.contains(needle), "{needle} missing from the report");
    }
    for name in ["ndcg", "rec_loss", "popularity"] {
        assert!(plots.join(format!("{name}.png")).is_file(), "{name}.png");
        assert!(plots.join(format!("{name}.svg")).is_file(), "{name}.svg");
    }
    // EASE trains in closed form: no curves, but the popularity plot.
    let ease = dir.path().join("ease.safetensors");
    train(&data, &ease, "ease");
    let html = dir.path().join("ease.html");
    ok(latent(&["report", "--model", p(&ease), "--out", p(&html)]));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("plot-popularity") && !page.contains("plot-ndcg"));
    // A recommender's report takes no data: a clear error, exit 2.
    let o = latent(&["report", "--model", p(&ease), "--data", p(&data), "--out", p(&html)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("benchmark-recommend"), "{}", stderr(&o));
}
