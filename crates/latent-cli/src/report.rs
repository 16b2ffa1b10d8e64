//! `latent report`: one self-contained HTML file about a model: its summary, training curves,
//! the data it was evaluated on, the evaluation metrics and the plots. Images are embedded as
//! `data:` URIs and the page fetches nothing, so it can be mailed or archived as it is.

use crate::args::ReportArgs;
use crate::data;
use crate::eval::{mean, quantile};
use crate::exit::BadInput;
use crate::options::DataArgs;
use crate::output::architecture;
use crate::plots::{analyse, Analysis, PlotOptions};
use anyhow::{Context, Result};
use base64::Engine as _;
use latent::score::ScoreKind;
use latent::{ImageShape, Model};
use latent_data::Dataset;
use std::fmt::Write as _;
use std::path::Path;

/// Runs `latent report`.
pub fn run(args: ReportArgs) -> Result<()> {
    if latent::recommend::is_recommender(&args.model) {
        return crate::report_recommend::run(&args);
    }
    let model = data::load_model(&args.model)?;
    let dataset = match &args.data {
        Some(path) => {
            let data_args = DataArgs {
                data: path.clone(),
                label_column: args.label_column.clone(),
                table: args.table.clone(),
                image: args.image.clone(),
                ..DataArgs::default()
            };
            Some(data::load(&data_args, Some(&model))?)
        }
        None => None,
    };
    let opts = PlotOptions {
        image: args.image_size.as_deref().map(parse_image_size).transpose()?,
        labels: args.labels.rule()?,
    };
    write(&model, &args.model, dataset.as_ref(), &opts, &args.out, args.plots.as_deref())?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// `WxH` (greyscale) as an image shape.
fn parse_image_size(s: &str) -> Result<ImageShape> {
    let bad = || BadInput(format!("--image-size expects WIDTHxHEIGHT such as 28x28, got \"{s}\""));
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: usize = w.trim().parse().map_err(|_| bad())?;
    let h: usize = h.trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(bad().into());
    }
    Ok(ImageShape { channels: 1, height: h, width: w })
}

/// Renders the report for `model` (read from `model_path`) and writes it to `out`; with
/// `plots_dir`, every plot is also written there as PNG and SVG.
pub fn write(
    model: &Model,
    model_path: &Path,
    data: Option<&Dataset>,
    opts: &PlotOptions,
    out: &Path,
    plots_dir: Option<&Path>,
) -> Result<()> {
    let analysis = analyse(model, data, opts)?;
    if let Some(dir) = plots_dir {
        crate::plots::write_all(&analysis.plots, dir)?;
    }
    let html = render(model, model_path, data, &analysis);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::output::write_file(out, html.as_bytes())
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A two-column table of `key: value` rows (values already escaped).
pub(crate) fn table(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table class=\"kv\">\n");
    for (k, v) in rows {
        let _ = writeln!(s, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    }
    s.push_str("</table>\n");
    s
}

const STYLE: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--ink);
  font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 40px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; padding-bottom: 10px; }
h1 { font-size: 28px; margin: 0; letter-spacing: -0.5px; }
h1 span { color: var(--accent); }
.sub { color: var(--muted); margin: 4px 0 0; font-size: 14px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 18px 22px; margin: 18px 0; }
h2 { font-size: 19px; margin: 0 0 12px; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 22px;
  align-items: start; }
table.kv { border-collapse: collapse; width: 100%; font-size: 14px; }
table.kv th { text-align: left; font-weight: 600; color: var(--muted); padding: 5px 14px 5px 0;
  white-space: nowrap; vertical-align: top; width: 1%; }
table.kv td { padding: 5px 0; border-bottom: 1px solid #eef1f4;
  font-variant-numeric: tabular-nums; word-break: break-word; }
.metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin-bottom: 14px; }
.metric { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.metric b { display: block; font-size: 21px; font-variant-numeric: tabular-nums; }
.metric span { color: var(--muted); font-size: 13px; }
figure { margin: 14px 0 0; }
figure img { display: block; margin: 0 auto; max-width: 100%; height: auto;
  border: 1px solid #eef1f4; border-radius: 4px; }
figcaption { font-size: 13px; color: var(--muted); margin: 6px auto 0; max-width: 800px; }
figcaption b { color: var(--ink); }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 10px 22px; }
.wide { grid-column: 1 / -1; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
code { background: #eff2f5; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 24px; }
"#;

/// Marks the page with how many images decoded, for people and for the headless-browser test.
const IMAGE_CHECK: &str = r#"<script>
window.addEventListener("load", function () {
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { ok++; }
  }
  var el = document.getElementById("image-check");
  el.setAttribute("data-loaded", ok + "/" + images.length);
  el.textContent = "images loaded: " + ok + " of " + images.length;
});
</script>"#;

/// The page.
fn render(model: &Model, model_path: &Path, data: Option<&Dataset>, a: &Analysis) -> String {
    let name = model_path
        .file_name()
        .map_or_else(|| model_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut h = page_start(
        &name,
        &format!(
            "{} &middot; dense autoencoder {} &middot; latent {}",
            esc(&model_path.display().to_string()),
            esc(&architecture(model)),
            esc(env!("CARGO_PKG_VERSION"))
        ),
    );

    h.push_str("<section id=\"model\"><h2>Model</h2>\n<div class=\"cols\">\n<div>\n");
    h.push_str(&table(&model_rows(model)));
    h.push_str("</div>\n<div>\n");
    h.push_str(&table(&preprocess_rows(model)));
    h.push_str("</div>\n</div>\n</section>\n");

    h.push_str("<section id=\"training\"><h2>Training</h2>\n");
    match model.summary() {
        Some(_) => {
            h.push_str("<div class=\"cols\">\n<div>\n");
            h.push_str(&table(&training_rows(model)));
            h.push_str("</div>\n</div>\n");
            if let Some(p) = a.plots.iter().find(|p| p.name == "loss") {
                h.push_str(&figure(p, "wide"));
            }
        }
        None => h.push_str("<p class=\"note\">The model file holds no training summary.</p>\n"),
    }
    h.push_str("</section>\n");

    match (data, &a.errors) {
        (Some(d), Some(errors)) => {
            h.push_str("<section id=\"data\"><h2>Data</h2>\n");
            h.push_str(&table(&data_rows(d, a)));
            h.push_str("</section>\n");
            h.push_str("<section id=\"evaluation\"><h2>Evaluation</h2>\n<div class=\"metrics\">\n");
            let mut metric = |value: String, label: &str| {
                let _ = writeln!(
                    h,
                    "<div class=\"metric\"><b>{}</b><span>{}</span></div>",
                    esc(&value),
                    esc(label)
                );
            };
            metric(errors.mse.len().to_string(), "rows evaluated");
            metric(format!("{:.5}", mean(&errors.mse)), "mean MSE per row");
            metric(format!("{:.5}", quantile(&errors.mse, 0.5)), "median MSE");
            metric(format!("{:.5}", quantile(&errors.mse, 0.95)), "95th percentile MSE");
            metric(format!("{:.5}", mean(&errors.mae)), "mean MAE per row");
            if let Some((kind, scores)) = a.scores.as_ref().filter(|(k, _)| *k != ScoreKind::Mse) {
                let name = kind.name();
                metric(format!("{:.5}", quantile(scores, 0.5)), &format!("median score ({name})"));
                metric(
                    format!("{:.5}", quantile(scores, 0.95)),
                    &format!("95th percentile score ({name})"),
                );
            }
            if let Some(f) = a.flagged {
                let share = 100.0 * f as f64 / errors.mse.len().max(1) as f64;
                metric(format!("{f} ({share:.1}%)"), "rows above the threshold");
            }
            if let Some(b) = &a.binary {
                metric(format!("{:.3}", b.roc_auc), "ROC-AUC");
                metric(format!("{:.3}", b.average_precision), "average precision");
                if let (Some(p), Some(r)) = (b.precision, b.recall) {
                    metric(format!("{p:.3}"), "precision at the threshold");
                    metric(format!("{r:.3}"), "recall at the threshold");
                }
            }
            h.push_str("</div>\n");
            let kind = a.scores.as_ref().map_or(ScoreKind::Mse, |(k, _)| *k);
            let mut note = format!(
                "Errors are per row in the model's input space (after scaling), averaged over \
                 the inputs; the anomaly score of a row is its {} (<code>{}</code>), the score \
                 the saved threshold applies to.",
                kind.describe(),
                kind.name()
            );
            if let Some(b) = &a.binary {
                let _ = write!(
                    note,
                    " ROC-AUC and average precision treat label <code>{}</code> ({} of {} rows) \
                     as positive and higher scores as more anomalous.",
                    esc(&b.positive),
                    b.positives,
                    b.rows
                );
            }
            let _ = writeln!(h, "<p class=\"note\">{note}</p>\n</section>");
        }
        _ => h.push_str(
            "<section id=\"data\"><h2>Data</h2>\n<p class=\"note\">No data given: run \
             <code>latent report --model M --data FILE</code> for evaluation metrics, the score \
             histogram and the latent space.</p>\n</section>\n",
        ),
    }

    let others: Vec<_> = a.plots.iter().filter(|p| p.name != "loss").collect();
    if !others.is_empty() || !a.notes.is_empty() {
        h.push_str("<section id=\"plots\"><h2>Plots</h2>\n<div class=\"figs\">\n");
        for p in &others {
            let class = match p.name {
                "roc" | "pr" => "",
                "reconstructions" | "samples" | "traversal" => "wide grid",
                _ => "wide",
            };
            h.push_str(&figure(p, class));
        }
        h.push_str("</div>\n");
        for n in &a.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
        }
        h.push_str("</section>\n");
    }
    page_end(&mut h);
    h
}

/// The page's head and header: `name` in the title, `subtitle` (already escaped) under it.
pub(crate) fn page_start(name: &str, subtitle: &str) -> String {
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>latent report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(name)
    );
    let _ = writeln!(
        h,
        "<header><h1><span>latent</span> report</h1><p class=\"sub\">{subtitle}</p></header>"
    );
    h
}

/// The footer, the image check and the closing tags.
pub(crate) fn page_end(h: &mut String) {
    let _ = write!(
        h,
        "<footer>Made by <code>latent report</code>; every image is embedded in this file. \
         <span id=\"image-check\" data-loaded=\"\"></span></footer>\n</main>\n{IMAGE_CHECK}\n\
         </body>\n</html>\n"
    );
}

/// A figure with its PNG embedded as a data URI.
pub(crate) fn figure(p: &crate::plots::Plot, class: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(&p.png);
    format!(
        "<figure class=\"{class}\" id=\"plot-{}\"><img alt=\"{}\" src=\"data:image/png;base64,{data}\">\
         <figcaption><b>{}.</b> {}</figcaption></figure>\n",
        p.name,
        esc(&p.title),
        esc(&p.title),
        esc(&p.note)
    )
}

fn model_rows(model: &Model) -> Vec<(&'static str, String)> {
    let m = model.manifest();
    let cfg = m.model();
    vec![
        ("architecture", esc(&format!("{} {}", crate::output::family(model), architecture(model)))),
        ("parameters", model.parameter_count().to_string()),
        ("latent size", model.code_width().to_string()),
        ("activation", esc(&cfg.activation_text(m.output))),
        ("loss", esc(&format!("{:?}", cfg.loss))),
        ("dropout", cfg.dropout_text()),
        ("detector", esc(&model.detector_summary())),
        ("score", {
            let kind = model.score_kind();
            esc(&format!("{}: {}", kind.name(), kind.describe()))
        }),
        ("threshold", esc(&crate::output::threshold_text(model))),
        ("file format", esc(&format!("{} v{}", m.format, m.format_version))),
    ]
}

fn preprocess_rows(model: &Model) -> Vec<(&'static str, String)> {
    let pre = model.preprocessor();
    let categorical = pre.categorical_names();
    let mut names = pre.input_names();
    let shown = names.len();
    names.truncate(12);
    let mut columns = esc(&names.join(", "));
    if shown > names.len() {
        let _ = write!(columns, ", … ({shown} in all)");
    }
    let mut rows = vec![
        ("input columns", pre.columns.len().to_string()),
        ("model inputs", pre.output_width().to_string()),
        ("columns", columns),
        ("scaling", esc(&format!("{:?}", pre.scaling))),
        ("missing values", esc(&format!("{:?}", pre.missing))),
        (
            "categorical",
            if categorical.is_empty() { "none".into() } else { esc(&categorical.join(", ")) },
        ),
    ];
    if let Some(img) = pre.image {
        rows.push(("image", format!("{}x{}x{}", img.channels, img.height, img.width)));
    }
    rows
}

fn training_rows(model: &Model) -> Vec<(&'static str, String)> {
    let m = model.manifest();
    let Some(s) = model.summary() else {
        return vec![];
    };
    let t = &m.config.train;
    let mut rows = vec![
        ("rows", format!("{} training, {} validation", s.train_rows, s.val_rows)),
        (
            "optimiser",
            esc(&format!(
                "{}, learning rate {}, weight decay {}, batch {}",
                if t.optimizer.decoupled { "AdamW" } else { "Adam" },
                t.optimizer.lr,
                t.optimizer.weight_decay,
                t.batch_size
            )),
        ),
        ("seed", t.seed.to_string()),
        (
            "epochs",
            format!(
                "{} run{}, weights of epoch {} kept",
                s.history.len(),
                if s.stopped_early { " (stopped early)" } else { "" },
                s.best_epoch
            ),
        ),
    ];
    if let Some(b) = s.history.iter().find(|r| r.epoch == s.best_epoch) {
        rows.push(("train loss", format!("{:.6}", b.train_loss)));
        if let Some(v) = b.val_loss {
            rows.push(("validation loss", format!("{v:.6}")));
        }
    }
    if s.seconds > 0.0 {
        rows.push(("training time", format!("{:.1} s", s.seconds)));
    }
    rows
}

fn data_rows(d: &Dataset, a: &Analysis) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("file", esc(&d.source.display().to_string())),
        ("rows", d.frame.rows().to_string()),
        ("columns", d.frame.width().to_string()),
    ];
    if let Some(img) = d.frame.image_shape() {
        rows.push(("images", format!("{}x{}x{}", img.channels, img.height, img.width)));
    }
    if let (Some(col), Some(counts)) = (&d.labels, &a.label_counts) {
        rows.push(("label column", esc(&col.name)));
        let mut pairs: Vec<(&String, &usize)> = counts.iter().collect();
        pairs.sort_by(|x, y| y.1.cmp(x.1).then_with(|| x.0.cmp(y.0)));
        let mut s = pairs
            .iter()
            .take(12)
            .map(|(k, v)| format!("{}: {v}", esc(k)))
            .collect::<Vec<_>>()
            .join(", ");
        if pairs.len() > 12 {
            let _ = write!(s, ", … ({} values)", pairs.len());
        }
        rows.push(("labels", s));
    }
    rows
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn image_size_parses() {
        let s = parse_image_size("8x6").unwrap();
        assert_eq!((s.channels, s.height, s.width), (1, 6, 8));
        assert!(parse_image_size("8").is_err());
        assert!(parse_image_size("0x8").is_err());
    }
}
