//! The HTML report of the demo model renders in headless Chromium: the screenshot is not blank
//! and every embedded image decoded. Plus snapshot tests of the help texts and of table output.
//!
//! After changing a help text or a table on purpose, refresh the snapshots with
//! `INSTA_UPDATE=always cargo test -p latent-cli --test report` and review the diff of
//! `tests/snapshots/`.
//!
//! Without a `chromium` binary the browser test is skipped with a message, unless `CI` is set:
//! then it fails (`.ci/run` installs Debian's `chromium`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent_command, ok, p, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Runs `latent` with `args` at a fixed width for help texts (clap wraps them to the terminal,
/// or to $COLUMNS).
fn latent(args: &[&str]) -> Output {
    latent_command().args(args).env("COLUMNS", "100").output().expect("run latent")
}

/// `latent demo` once for all tests of this binary: (temp dir kept alive, demo folder).
fn demo() -> &'static Path {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("demo");
        ok(latent(&["demo", "--quiet", "--epochs", "60", "--out", p(&out)]));
        (dir, out)
    });
    out
}

/// The report of the demo model on its test rows, written to `name` in the demo folder.
fn demo_report(name: &str, extra: &[&str]) -> PathBuf {
    let dir = demo();
    let out = dir.join(name);
    let model = dir.join("model.safetensors");
    let data = dir.join("test.csv");
    let mut args = vec![
        "report",
        "--model",
        p(&model),
        "--data",
        p(&data),
        "--label-column",
        "label",
        "--out",
        p(&out),
    ];
    args.extend_from_slice(extra);
    ok(latent(&args));
    out
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>())?
        {
            let c = dir.join(name);
            if c.is_file() {
                return Some(c);
            }
        }
    }
    None
}

/// Runs headless Chromium on `page` with extra arguments, no network, a fresh profile.
fn headless(chrome: &Path, page: &Path, extra: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}", page.canonicalize().expect("page path").display());
    let mut cmd = Command::new(chrome);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url);
    cmd.output().expect("run chromium")
}

#[test]
fn demo_report_renders_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        common::skip(
            "demo_report_renders_in_headless_chromium",
            "no chromium binary (install Debian's `chromium` package)",
        );
        return;
    };
    let report = demo_report("report.html", &["--image-size", "8x8"]);
    let html = std::fs::read_to_string(&report).expect("report");
    // Self-contained: no external fetches of any kind.
    for needle in ["http://", "https://", "src=\"/", "src=\"file:", "@import", "url("] {
        assert!(!html.contains(needle), "report refers to something outside it: {needle}");
    }
    for section in ["id=\"model\"", "id=\"training\"", "id=\"data\"", "id=\"evaluation\""] {
        assert!(html.contains(section), "{section} missing");
    }
    for plot in ["loss", "scores", "latent", "reconstructions"] {
        assert!(html.contains(&format!("id=\"plot-{plot}\"")), "plot {plot} missing");
    }
    let images = html.matches("<img ").count();
    assert!(images >= 4, "{images} images");

    // Every image decoded: the page's own check, read back from the DOM after load.
    let o = headless(&chrome, &report, &["--virtual-time-budget=10000", "--dump-dom"]);
    let dom = stdout(&o);
    let want = format!("data-loaded=\"{images}/{images}\"");
    assert!(
        dom.contains(&want),
        "not every image loaded (want {want}): {}\nstderr: {}",
        dom.lines().find(|l| l.contains("image-check")).unwrap_or("no image-check element"),
        String::from_utf8_lossy(&o.stderr)
    );

    // The screenshot is a page, not a blank canvas.
    let shot = report.with_file_name("report.png");
    let o = headless(
        &chrome,
        &report,
        &["--window-size=1200,3000", &format!("--screenshot={}", p(&shot))],
    );
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let img = image::open(&shot).expect("decode screenshot").to_rgb8();
    let (w, h) = img.dimensions();
    assert_eq!((w, h), (1200, 3000));
    let mut colours = std::collections::HashSet::new();
    let mut non_background = 0usize;
    for px in img.pixels() {
        colours.insert(px.0);
        let [r, g, b] = px.0;
        // Neither white nor the page's light grey background.
        if r < 235 || g < 235 || b < 235 {
            non_background += 1;
        }
    }
    assert!(colours.len() > 200, "only {} distinct colours", colours.len());
    let share = non_background as f64 / f64::from(w * h);
    assert!(share > 0.03, "only {:.1}% of the screenshot is drawn", share * 100.0);
    // Keep a copy for a person to look at when asked to.
    if let Some(dir) = std::env::var_os("LATENT_REPORT_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, Path::new(&dir).join("report.png"));
        let _ = std::fs::copy(&report, Path::new(&dir).join("report.html"));
    }
}

#[test]
fn report_with_binary_labels_has_roc_and_pr_curves_and_writes_plots() {
    let dir = demo();
    let plots = dir.join("plots");
    // Digit 0 as the "positive" class: any label value may be named.
    let report = demo_report("binary.html", &["--positive", "0", "--plots", p(&plots)]);
    let html = std::fs::read_to_string(report).expect("report");
    assert!(html.contains("id=\"plot-roc\"") && html.contains("id=\"plot-pr\""));
    assert!(html.contains("ROC-AUC"));
    for f in ["loss", "scores", "roc", "pr", "latent"] {
        for ext in ["png", "svg"] {
            let path = plots.join(format!("{f}.{ext}"));
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{} is {len} bytes", path.display());
        }
        let png = image::open(plots.join(format!("{f}.png"))).expect("png decodes").to_rgb8();
        assert!(png.width() > 300 && png.height() > 300);
    }
    let o = latent(&[
        "report",
        "--model",
        p(&dir.join("model.safetensors")),
        "--data",
        p(&dir.join("test.csv")),
        "--label-column",
        "label",
        "--positive",
        "eleven",
        "--out",
        p(&dir.join("bad.html")),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn report_without_data_has_the_model_and_its_training() {
    let dir = demo();
    let out = dir.join("model-only.html");
    ok(latent(&["report", "--model", p(&dir.join("model.safetensors")), "--out", p(&out)]));
    let html = std::fs::read_to_string(out).expect("report");
    assert!(html.contains("id=\"plot-loss\""));
    assert!(html.contains("No data given"));
}

#[test]
fn completions_for_each_shell() {
    for (shell, needle) in
        [("bash", "_latent()"), ("zsh", "#compdef latent"), ("fish", "complete -c latent")]
    {
        let o = ok(latent(&["completions", shell]));
        let s = stdout(&o);
        assert!(s.contains(needle), "{shell}: {needle} missing");
        assert!(s.contains("report"), "{shell}: subcommand report missing");
    }
    assert_eq!(latent(&["completions", "tcsh"]).status.code(), Some(2));
}

// --- snapshots -------------------------------------------------------------------------------

/// Every subcommand, from `latent --help` itself.
fn subcommands() -> Vec<String> {
    let o = ok(latent(&["--help"]));
    let text = stdout(&o);
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if line.trim().is_empty() {
                break;
            }
            if let Some(name) = line.split_whitespace().next() {
                if line.starts_with("  ") && !line.starts_with("   ") && name != "help" {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn help_texts() {
    let o = ok(latent(&["--help"]));
    insta::assert_snapshot!("help", stdout(&o));
    let names = subcommands();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let o = ok(latent(&[&name, "--help"]));
        let text = stdout(&o);
        assert!(text.contains("Example:"), "{name} --help has no example");
        insta::assert_snapshot!(format!("help-{name}"), text);
    }
}

/// Replaces what varies between runs and machines: the temporary folder, timings, and the
/// digits of losses (floating-point details differ between CPUs).
fn filtered(text: &str, dir: &Path) -> String {
    let text = text.replace(p(dir), "[DIR]");
    let mut out = String::new();
    for line in text.lines() {
        if line.contains("seconds") || line.contains("time") {
            let key: String = line.chars().take_while(|c| !c.is_whitespace()).collect();
            out.push_str(&format!("{key} [TIME]\n"));
        } else if line.contains("loss ") && !line.starts_with("loss ") {
            out.push_str(&mask_digits(line));
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every digit after the key (the first two spaces) as `9`.
fn mask_digits(line: &str) -> String {
    let split = line.find("  ").unwrap_or(line.len());
    let (key, value) = line.split_at(split);
    let masked: String = value.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    format!("{key}{masked}")
}

#[test]
fn table_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digits = common::digits_path();
    let model = dir.path().join("m.safetensors");
    ok(latent(&[
        "train",
        "--data",
        p(&digits),
        "--label-column",
        "label",
        "--hidden",
        "16",
        "--latent",
        "4",
        "--epochs",
        "2",
        "--seed",
        "1",
        "--quiet",
        "--out",
        p(&model),
    ]));
    let info = ok(latent(&["info", "--model", p(&model)]));
    insta::assert_snapshot!("info-table", filtered(&stdout(&info), dir.path()));
    let eval = ok(latent(&[
        "eval",
        "--model",
        p(&model),
        "--data",
        p(&digits),
        "--label-column",
        "label",
    ]));
    // Error values depend on floating-point details of the machine: keep the keys and the
    // number format, not the digits.
    let shape: String = stdout(&eval).lines().map(|l| mask_digits(l) + "\n").collect();
    insta::assert_snapshot!("eval-table", shape);
}
