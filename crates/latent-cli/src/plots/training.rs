//! Training and validation loss per epoch.

use super::style::{
    draw_series_labels, font, padded, render, short, DrawResult, Figure, AXIS_COLOUR, BEST_COLOUR,
    GRID_COLOUR, TRAIN_COLOUR, VAL_COLOUR,
};
use super::Plot;
use anyhow::Result;
use latent::TrainSummary;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

struct LossCurves {
    train: Vec<(f64, f64)>,
    val: Vec<(f64, f64)>,
    best: usize,
}

pub(super) fn loss_plot(s: &TrainSummary) -> Result<Plot> {
    let train: Vec<(f64, f64)> = s
        .history
        .iter()
        .filter(|r| r.train_loss.is_finite())
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let val: Vec<(f64, f64)> = s
        .history
        .iter()
        .filter_map(|r| r.val_loss.filter(|v| v.is_finite()).map(|v| (r.epoch as f64, v)))
        .collect();
    let note = format!(
        "Mean loss per epoch on the training rows{}; the green line marks the epoch whose \
         weights were kept (epoch {}).",
        if val.is_empty() { "" } else { " and on the held-out validation rows" },
        s.best_epoch
    );
    render("loss", "Training curves".into(), note, &LossCurves { train, val, best: s.best_epoch })
}

impl Figure for LossCurves {
    fn size(&self) -> (u32, u32) {
        (800, 450)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let ys = self.train.iter().chain(&self.val).map(|p| p.1).filter(|&v| v > 0.0);
        let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        // A log scale when the loss falls by more than 5x, else a linear one.
        if lo.is_finite() && hi > 5.0 * lo {
            self.draw_on(root, (lo / 1.15..hi * 1.15).log_scale(), "Loss per epoch (log scale)")
        } else {
            let (lo, hi) = if lo.is_finite() { padded(lo, hi, 0.08) } else { (0.0, 1.0) };
            self.draw_on(root, lo.max(0.0)..hi, "Loss per epoch")
        }
    }
}

impl LossCurves {
    fn draw_on<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
        caption: &str,
    ) -> DrawResult<DB>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let last = self.train.iter().chain(&self.val).map(|p| p.0).fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(caption, font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..last.max(2.0), y)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc("epoch")
            .y_desc("loss")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        let (lo, hi) = {
            let r = chart.y_range();
            (r.start, r.end)
        };
        let best = self.best as f64;
        chart
            .draw_series(LineSeries::new(
                vec![(best, lo), (best, hi)],
                BEST_COLOUR.stroke_width(1),
            ))?
            .label(format!("kept: epoch {}", self.best))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BEST_COLOUR));
        chart
            .draw_series(LineSeries::new(self.train.clone(), TRAIN_COLOUR.stroke_width(2)))?
            .label("train")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], TRAIN_COLOUR.stroke_width(2))
            });
        if !self.val.is_empty() {
            chart
                .draw_series(LineSeries::new(self.val.clone(), VAL_COLOUR.stroke_width(2)))?
                .label("validation")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], VAL_COLOUR.stroke_width(2))
                });
        }
        draw_series_labels(&mut chart)
    }
}
