//! Histogram of the anomaly scores, split by binary label, with the saved threshold.

use super::style::{
    draw_series_labels, font, render, short, DrawResult, Figure, ALERT_COLOUR, AXIS_COLOUR,
    GRID_COLOUR, TRAIN_COLOUR,
};
use super::Plot;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

struct Histogram {
    /// `(name, colour, share of the group's rows per bin)`.
    groups: Vec<(String, RGBColor, Vec<f64>)>,
    lo: f64,
    width: f64,
    threshold: Option<f64>,
    clipped: bool,
    /// Score name for the axis (`MSE`, `MAE`).
    kind: String,
}

const BINS: usize = 40;

/// Histogram of scores, split by binary label when given.
pub(super) fn histogram_plot(
    scores: &[f64],
    kind: latent::score::ScoreKind,
    binary: Option<&(String, Vec<bool>)>,
    threshold: Option<f64>,
) -> Result<Plot> {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (min, max) =
        (sorted.first().copied().unwrap_or(0.0), sorted.last().copied().unwrap_or(1.0));
    let q =
        sorted.get(((sorted.len() as f64 - 1.0) * 0.995).round() as usize).copied().unwrap_or(max);
    // A long tail would squeeze the histogram into one bin: clip at the 99.5th percentile.
    let mut hi = if max > 3.0 * q && q > min { q * 1.1 } else { max };
    let clipped = hi < max;
    if let Some(t) = threshold {
        hi = hi.max(t * 1.05);
    }
    let lo = min.min(threshold.unwrap_or(min)).min(0.0f64.max(min));
    let width = if hi > lo { (hi - lo) / BINS as f64 } else { 1.0 };
    let bin = |v: f64| (((v - lo) / width).floor().max(0.0) as usize).min(BINS - 1);
    let shares = |keep: &dyn Fn(usize) -> bool| {
        let mut counts = vec![0.0; BINS];
        let mut n = 0.0;
        for (i, &v) in scores.iter().enumerate() {
            if v.is_finite() && keep(i) {
                counts[bin(v)] += 1.0;
                n += 1.0;
            }
        }
        counts.iter_mut().for_each(|c| *c /= f64::max(n, 1.0));
        counts
    };
    let groups = match binary {
        Some((positive, truth)) => vec![
            ("other rows".to_string(), TRAIN_COLOUR, shares(&|i| !truth[i])),
            (format!("label {positive}"), ALERT_COLOUR, shares(&|i| truth[i])),
        ],
        None => vec![("rows".to_string(), TRAIN_COLOUR, shares(&|_| true))],
    };
    let mut note = format!("Anomaly score per row: {}", kind.describe());
    if let Some(t) = threshold {
        note += &format!("; rows right of the red line ({}) are flagged", short(t));
    }
    if binary.is_some() {
        note += ", each class scaled to its own share of rows";
    }
    if clipped {
        note += "; the long tail is clipped at the 99.5th percentile into the last bin";
    }
    note += ".";
    let fig = Histogram { groups, lo, width, threshold, clipped, kind: kind.name().to_uppercase() };
    render("scores", "Reconstruction error".into(), note, &fig)
}

impl Figure for Histogram {
    fn size(&self) -> (u32, u32) {
        (800, 450)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let top = self.groups.iter().flat_map(|g| g.2.iter().copied()).fold(0.0, f64::max);
        let hi = self.lo + self.width * BINS as f64;
        let mut chart = ChartBuilder::on(root)
            .caption("Reconstruction error per row", font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(self.lo..hi, 0.0..(top * 1.1).max(1e-9))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(format!("score ({}){}", self.kind, if self.clipped { ", clipped" } else { "" }))
            .y_desc("share of rows")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        for (name, colour, shares) in &self.groups {
            let colour = *colour;
            chart
                .draw_series(shares.iter().enumerate().filter(|(_, &s)| s > 0.0).map(|(i, &s)| {
                    let x0 = self.lo + i as f64 * self.width;
                    Rectangle::new([(x0, 0.0), (x0 + self.width, s)], colour.mix(0.55).filled())
                }))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
        }
        if let Some(t) = self.threshold {
            chart
                .draw_series(LineSeries::new(
                    vec![(t, 0.0), (t, top * 1.1)],
                    ALERT_COLOUR.stroke_width(2),
                ))?
                .label(format!("threshold {}", short(t)))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], ALERT_COLOUR.stroke_width(2))
                });
        }
        draw_series_labels(&mut chart)
    }
}
