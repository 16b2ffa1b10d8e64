//! ROC and precision-recall curves of scores against binary labels, and their figures.

use super::style::{font, render, DrawResult, Figure, AXIS_COLOUR, GRID_COLOUR, TRAIN_COLOUR};
use super::Plot;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A curve through the unit square and the area under it.
pub(super) struct Curve {
    /// Points `(x, y)`.
    points: Vec<(f64, f64)>,
    /// ROC-AUC (trapezoids) or average precision (steps).
    area: f64,
}

/// Scores sorted descending with their labels, in groups of equal scores:
/// `(true positives, false positives)` after each group.
fn cumulative(scores: &[f64], truth: &[bool]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len().min(truth.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (i, &r) in order.iter().enumerate() {
        if truth[r] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = order.get(i + 1).is_none_or(|&n| scores[n] != scores[r]);
        if last_of_group {
            out.push((tp, fp));
        }
    }
    out
}

/// ROC curve (false positive rate, true positive rate) of higher-is-positive scores; `None`
/// unless both classes occur.
pub(super) fn roc_curve(scores: &[f64], truth: &[bool]) -> Option<Curve> {
    let steps = cumulative(scores, truth);
    let &(p, n) = steps.last()?;
    if p == 0 || n == 0 {
        return None;
    }
    let mut points = vec![(0.0, 0.0)];
    points.extend(steps.iter().map(|&(tp, fp)| (fp as f64 / n as f64, tp as f64 / p as f64)));
    let area = points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
    Some(Curve { points, area })
}

/// Precision-recall curve (recall, precision); the area is the average precision.
/// `None` unless both classes occur.
pub(super) fn pr_curve(scores: &[f64], truth: &[bool]) -> Option<Curve> {
    let steps = cumulative(scores, truth);
    let &(p, n) = steps.last()?;
    if p == 0 || n == 0 {
        return None;
    }
    let mut points = Vec::with_capacity(steps.len() + 1);
    let first_precision =
        steps.first().map_or(1.0, |&(tp, fp)| tp as f64 / (tp + fp).max(1) as f64);
    points.push((0.0, first_precision));
    let mut area = 0.0;
    let mut last_recall = 0.0;
    for &(tp, fp) in &steps {
        let recall = tp as f64 / p as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        area += (recall - last_recall) * precision;
        last_recall = recall;
        points.push((recall, precision));
    }
    Some(Curve { points, area })
}

struct CurveFigure {
    caption: String,
    x_desc: &'static str,
    y_desc: &'static str,
    points: Vec<(f64, f64)>,
    /// The chance line: diagonal for ROC, a level for PR.
    chance: Vec<(f64, f64)>,
}

pub(super) fn roc_plot(c: &Curve) -> Result<Plot> {
    let fig = CurveFigure {
        caption: format!("ROC curve (AUC {:.3})", c.area),
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        points: c.points.clone(),
        chance: vec![(0.0, 0.0), (1.0, 1.0)],
    };
    let note = "Share of positives caught against share of other rows flagged, as the \
                threshold moves; the diagonal is chance.";
    render("roc", "ROC curve".into(), note.into(), &fig)
}

pub(super) fn pr_plot(c: &Curve, prevalence: f64) -> Result<Plot> {
    let fig = CurveFigure {
        caption: format!("Precision-recall (AP {:.3})", c.area),
        x_desc: "recall",
        y_desc: "precision",
        points: c.points.clone(),
        chance: vec![(0.0, prevalence), (1.0, prevalence)],
    };
    let note = format!(
        "Precision of the flagged rows against the share of positives caught; the flat line is \
         chance (the positive share, {prevalence:.3})."
    );
    render("pr", "Precision-recall curve".into(), note, &fig)
}

impl Figure for CurveFigure {
    fn size(&self) -> (u32, u32) {
        (500, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.caption, font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            self.chance.clone(),
            RGBColor(160, 160, 160).stroke_width(1),
        ))?;
        chart.draw_series(AreaSeries::new(self.points.clone(), 0.0, TRAIN_COLOUR.mix(0.12)))?;
        chart.draw_series(LineSeries::new(self.points.clone(), TRAIN_COLOUR.stroke_width(2)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn roc_and_pr_of_a_perfect_and_a_useless_score() {
        let truth = [false, false, true, true];
        let roc = roc_curve(&[0.1, 0.2, 0.8, 0.9], &truth).unwrap();
        assert!((roc.area - 1.0).abs() < 1e-12);
        let pr = pr_curve(&[0.1, 0.2, 0.8, 0.9], &truth).unwrap();
        assert!((pr.area - 1.0).abs() < 1e-12);
        // All scores equal: one step from (0, 0) to (1, 1).
        let roc = roc_curve(&[0.5; 4], &truth).unwrap();
        assert!((roc.area - 0.5).abs() < 1e-12);
        assert!(roc_curve(&[0.5; 2], &[true, true]).is_none());
    }

    #[test]
    fn plots_render_text_without_system_fonts() {
        let fig = CurveFigure {
            caption: "ROC".into(),
            x_desc: "x",
            y_desc: "y",
            points: vec![(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)],
            chance: vec![(0.0, 0.0), (1.0, 1.0)],
        };
        let plot = render("roc", "t".into(), "n".into(), &fig).unwrap();
        let img = image::load_from_memory(&plot.png).unwrap().to_rgb8();
        // Text pixels: the caption area (top 40 rows, middle) has dark anti-aliased glyphs.
        let dark = img
            .enumerate_pixels()
            .filter(|(_, y, p)| *y < 40 && p.0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 20, "caption text not drawn ({dark} dark pixels)");
        assert!(plot.svg.starts_with("<svg"));
        assert!(plot.svg.contains("ROC"));
    }
}
