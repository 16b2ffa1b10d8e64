//! `latent report` on a recommender: its settings, the validation metrics of the kept model,
//! the NDCG@100 and loss curves of its training, and the item-popularity curve of its
//! training users, in the same self-contained HTML page as an autoencoder's report.

use crate::args::ReportArgs;
use crate::exit::BadInput;
use crate::report::{esc, figure, page_end, page_start, table};
use anyhow::Result;
use latent::recommend::file::RecModel;
use std::fmt::Write as _;

/// Runs `latent report` for a recommender file.
pub fn run(args: &ReportArgs) -> Result<()> {
    if args.data.is_some() {
        return Err(BadInput(
            "a recommender's report takes no --data: its validation metrics are in the model \
             file; measure held-out users with `latent benchmark-recommend`"
                .into(),
        )
        .into());
    }
    let model = RecModel::load(&args.model)?;
    let plots = crate::plots::recommend::plots(&model)?;
    if let Some(dir) = &args.plots {
        crate::plots::write_all(&plots, dir)?;
    }
    let name = args
        .model
        .file_name()
        .map_or_else(|| args.model.display().to_string(), |n| n.to_string_lossy().into_owned());
    let m = &model.manifest;
    let s = &m.summary;
    let mut h = page_start(
        &name,
        &format!(
            "{} &middot; {} recommender, {} items &middot; latent {}",
            esc(&args.model.display().to_string()),
            esc(m.config.kind.name()),
            m.items.len(),
            esc(env!("CARGO_PKG_VERSION"))
        ),
    );
    h.push_str("<section id=\"model\"><h2>Model</h2>\n");
    let rows: Vec<(&str, String)> =
        crate::recommend::describe(&model).into_iter().map(|(k, v)| (k, esc(&v))).collect();
    h.push_str(&table(&rows));
    h.push_str(
        "</section>\n<section id=\"evaluation\"><h2>Validation</h2>\n<div class=\"metrics\">\n",
    );
    for (value, label) in [
        (s.validation.ndcg_100, "NDCG@100"),
        (s.validation.recall_20, "Recall@20"),
        (s.validation.recall_50, "Recall@50"),
    ] {
        let _ = writeln!(h, "<div class=\"metric\"><b>{value:.4}</b><span>{label}</span></div>");
    }
    let _ = writeln!(
        h,
        "</div>\n<p class=\"note\">Measured on {} validation users held out from training: 80% \
         of each one's items are the input, the other 20% are ranked among every item they do \
         not have (Recall@K over min(K, held out), as in Liang et al. 2018).</p>",
        s.validation_users
    );
    h.push_str("</section>\n");
    if !plots.is_empty() {
        h.push_str("<section id=\"plots\"><h2>Plots</h2>\n<div class=\"figs\">\n");
        for p in &plots {
            h.push_str(&figure(p, "wide"));
        }
        h.push_str("</div>\n</section>\n");
    }
    page_end(&mut h);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    crate::output::write_file(&args.out, h.as_bytes())?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
