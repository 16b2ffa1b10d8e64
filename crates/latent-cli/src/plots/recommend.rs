//! Plots of a recommender: validation NDCG@100 and training loss per epoch (Mult-VAE/DAE), and
//! the item-popularity curve of its training users (every kind).

use super::style::{
    font, padded, render, short, DrawResult, Figure, AXIS_COLOUR, BEST_COLOUR, GRID_COLOUR,
    TRAIN_COLOUR, VAL_COLOUR,
};
use super::Plot;
use anyhow::{Context, Result};
use latent::recommend::file::RecModel;
use latent::recommend::RecSummary;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Every plot of `model`: `ndcg` and `rec_loss` when it trained in epochs, `popularity` when
/// the file holds the item counts.
pub fn plots(model: &RecModel) -> Result<Vec<Plot>> {
    let s = &model.manifest.summary;
    let mut out = Vec::new();
    if !s.history.is_empty() {
        out.push(ndcg_plot(s)?);
        out.push(loss_plot(s)?);
    }
    if s.item_counts.iter().any(|&c| c > 0) {
        out.push(popularity_plot(&s.item_counts)?);
    }
    Ok(out)
}

/// Writes every plot of `model` into `dir` (PNG and SVG); returns how many.
pub fn write_plots(model: &RecModel, dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let plots = plots(model)?;
    super::write_all(&plots, dir)?;
    Ok(plots.len())
}

/// One value per epoch with the kept epoch marked.
struct EpochCurve {
    points: Vec<(f64, f64)>,
    best: usize,
    y_desc: &'static str,
    colour: RGBColor,
}

fn ndcg_plot(s: &RecSummary) -> Result<Plot> {
    let points = s.history.iter().map(|e| (e.epoch as f64, e.ndcg_100)).collect();
    let note = format!(
        "NDCG@100 of the validation users after each epoch (their fold-in items in, their \
         held-out items ranked); the green line marks the epoch whose weights were kept \
         (epoch {}, NDCG@100 {:.4}).",
        s.best_epoch, s.validation.ndcg_100
    );
    let fig = EpochCurve { points, best: s.best_epoch, y_desc: "NDCG@100", colour: VAL_COLOUR };
    render("ndcg", "Validation NDCG@100".into(), note, &fig)
}

fn loss_plot(s: &RecSummary) -> Result<Plot> {
    let points = s
        .history
        .iter()
        .filter(|e| e.train_loss.is_finite())
        .map(|e| (e.epoch as f64, e.train_loss))
        .collect();
    let note = "Mean training loss per epoch: the multinomial negative log-likelihood of each \
                user's items, plus the annealed KL term for Mult-VAE (so it can rise while the \
                KL weight grows)."
        .to_string();
    let fig = EpochCurve { points, best: s.best_epoch, y_desc: "loss", colour: TRAIN_COLOUR };
    render("rec_loss", "Training loss".into(), note, &fig)
}

impl Figure for EpochCurve {
    fn size(&self) -> (u32, u32) {
        (800, 420)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let last = self.points.iter().map(|p| p.0).fold(1.0, f64::max);
        let (lo, hi) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        let (lo, hi) = padded(lo, hi, 0.08);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..last.max(2.0), lo..hi)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc("epoch")
            .y_desc(self.y_desc)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        let best = self.best as f64;
        chart.draw_series(LineSeries::new(
            vec![(best, lo), (best, hi)],
            BEST_COLOUR.stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(self.points.clone(), self.colour.stroke_width(2)))?;
        Ok(())
    }
}

/// Items ranked by how many training users have them, on log-log axes.
struct Popularity {
    /// `(rank from 1, count)` of the items with at least one user.
    points: Vec<(f64, f64)>,
}

/// The share of all interactions held by the most popular `share` of the items.
fn head_share(sorted_desc: &[u32], share: f64) -> f64 {
    let total: u64 = sorted_desc.iter().map(|&c| u64::from(c)).sum();
    let head = ((sorted_desc.len() as f64 * share).ceil() as usize).min(sorted_desc.len());
    let top: u64 = sorted_desc[..head].iter().map(|&c| u64::from(c)).sum();
    if total == 0 {
        0.0
    } else {
        top as f64 / total as f64
    }
}

fn popularity_plot(counts: &[u32]) -> Result<Plot> {
    let mut sorted: Vec<u32> = counts.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let seen = sorted.iter().take_while(|&&c| c > 0).count();
    let once = sorted.iter().filter(|&&c| c == 1).count();
    let points =
        sorted[..seen].iter().enumerate().map(|(i, &c)| ((i + 1) as f64, f64::from(c))).collect();
    let note = format!(
        "Training users per item, items ranked from the most popular, log-log axes: {} items, \
         the most popular 10% hold {:.0}% of the interactions, {} items ({:.0}%) have a single \
         user. The long tail is where a recommender has least to learn from.",
        counts.len(),
        100.0 * head_share(&sorted, 0.1),
        once,
        100.0 * once as f64 / counts.len().max(1) as f64
    );
    render("popularity", "Item popularity".into(), note, &Popularity { points })
}

impl Figure for Popularity {
    fn size(&self) -> (u32, u32) {
        (800, 420)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let n = self.points.len().max(2) as f64;
        let top = self.points.first().map_or(2.0, |p| p.1).max(2.0);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d((1.0..n * 1.1).log_scale(), (0.8..top * 1.3).log_scale())?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc("item rank")
            .y_desc("training users")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        chart.draw_series(LineSeries::new(self.points.clone(), TRAIN_COLOUR.stroke_width(2)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::head_share;

    #[test]
    fn head_share_counts_the_top_items() {
        assert_eq!(head_share(&[6, 2, 1, 1], 0.25), 0.6);
        assert_eq!(head_share(&[0, 0], 0.5), 0.0);
    }
}
