//! The rate-distortion plot of `latent benchmark-compress`: PSNR against bits per pixel, one
//! curve per codec.

use super::style::{
    draw_series_labels, font, padded, render, short, DrawResult, Figure, AXIS_COLOUR, GRID_COLOUR,
    PALETTE,
};
use super::Plot;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One codec's curve: its name and `(bits per pixel, PSNR)` points.
pub type Curve = (String, Vec<(f64, f64)>);

struct RateDistortion {
    curves: Vec<Curve>,
}

/// The plot `rd` of `curves`.
pub fn rd_plot(curves: Vec<Curve>, note: String) -> Result<Plot> {
    let fig = RateDistortion { curves };
    render("rd", "Rate-distortion".into(), note, &fig)
}

impl Figure for RateDistortion {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let points = self.curves.iter().flat_map(|c| c.1.iter());
        let (mut x_hi, mut y_lo, mut y_hi) = (0.1f64, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in points {
            x_hi = x_hi.max(x);
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
        }
        if !y_lo.is_finite() {
            (y_lo, y_hi) = (0.0, 1.0);
        }
        let (y_lo, y_hi) = padded(y_lo, y_hi, 0.05);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_hi * 1.05, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc("bits per pixel")
            .y_desc("PSNR (dB)")
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        for (i, (name, pts)) in self.curves.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut pts = pts.clone();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        draw_series_labels(&mut chart)
    }
}
