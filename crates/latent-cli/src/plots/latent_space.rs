//! The latent space in 2-D: the codes' first two principal components, coloured by label.

use super::style::{
    font, padded, render, short, DrawResult, Figure, AXIS_COLOUR, GRID_COLOUR, PALETTE,
    TRAIN_COLOUR,
};
use super::{Plot, MAX_SCATTER};
use anyhow::{Context, Result};
use latent::pca::Pca;
use latent::Model;
use latent_data::Dataset;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A labelled set of points: `(label, colour, points)`.
type Group = (String, RGBColor, Vec<(f64, f64)>);

struct Scatter {
    groups: Vec<Group>,
    x_desc: String,
    y_desc: String,
    legend: bool,
}

/// Evenly spaced row indices, at most `max`.
pub(super) fn spread(rows: usize, max: usize) -> Vec<usize> {
    if rows <= max {
        (0..rows).collect()
    } else {
        (0..max).map(|i| i * rows / max).collect()
    }
}

pub(super) fn latent_plot(
    model: &Model,
    data: &Dataset,
    labels: Option<&[String]>,
) -> Result<Option<Plot>> {
    let cw = model.code_width();
    let rows = spread(data.frame.rows(), MAX_SCATTER);
    if cw < 2 || rows.len() < 3 {
        return Ok(None);
    }
    let frame = data.frame.select_rows(&rows);
    let codes = model.encode(&frame).with_context(|| data.source.display().to_string())?;
    let pca = Pca::fit(&codes.data, cw, 2)?;
    let xy = pca.transform(&codes.data);
    // Share of the codes' total variance along each component.
    let n = codes.rows as f64;
    let mut total = 0.0;
    for c in 0..cw {
        let col = codes.data.iter().skip(c).step_by(cw).map(|&v| f64::from(v));
        let mean = col.clone().sum::<f64>() / n;
        total += col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    }
    let share = |i: usize| {
        pca.variances.get(i).map_or(0.0, |&v| 100.0 * f64::from(v) / total.max(f64::MIN_POSITIVE))
    };
    let point = |i: usize| (f64::from(xy[2 * i]), f64::from(xy[2 * i + 1]));
    let mut groups: Vec<Group> = Vec::new();
    let mut legend = true;
    let mut note = format!(
        "The {cw}-dimensional codes of {} rows projected on their first two principal components",
        rows.len()
    );
    match labels {
        Some(l) => {
            let picked: Vec<&String> = rows.iter().filter_map(|&r| l.get(r)).collect();
            let mut names: Vec<&String> = picked.clone();
            names.sort_by(|a, b| natural(a, b));
            names.dedup();
            if names.len() <= PALETTE.len() {
                for (k, name) in names.iter().enumerate() {
                    let pts = (0..rows.len()).filter(|&i| picked.get(i) == Some(name)).map(point);
                    groups.push(((*name).clone(), PALETTE[k], pts.collect()));
                }
                note += ", coloured by label.";
            } else {
                groups.push(("rows".into(), TRAIN_COLOUR, (0..rows.len()).map(point).collect()));
                legend = false;
                note += &format!(" ({} distinct labels: too many to colour).", names.len());
            }
        }
        None => {
            groups.push(("rows".into(), TRAIN_COLOUR, (0..rows.len()).map(point).collect()));
            legend = false;
            note += ".";
        }
    }
    let fig = Scatter {
        groups,
        x_desc: format!("PC1 ({:.0}% of code variance)", share(0)),
        y_desc: format!("PC2 ({:.0}%)", share(1)),
        legend,
    };
    Ok(Some(render("latent", "Latent space".into(), note, &fig)?))
}

/// Orders labels numerically when both are numbers, else as text.
pub(super) fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

impl Figure for Scatter {
    fn size(&self) -> (u32, u32) {
        (800, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let all = || self.groups.iter().flat_map(|g| g.2.iter());
        let fold = |f: fn(&(f64, f64)) -> f64| {
            all().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
        };
        let (x0, x1) = fold(|p| p.0);
        let (y0, y1) = fold(|p| p.1);
        let (x0, x1) = padded(x0, x1, 0.05);
        let (y0, y1) = padded(y0, y1, 0.05);
        let plot_area = if self.legend {
            let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0 - 110);
            draw_legend(&legend, &self.groups)?;
            plot
        } else {
            root.clone()
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .caption("Latent space (PCA of the codes)", font(20))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOUR)
            .axis_style(AXIS_COLOUR)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_label_formatter(&|x| short(*x))
            .y_label_formatter(&|y| short(*y))
            .draw()?;
        for (_, colour, points) in &self.groups {
            let style = colour.mix(0.7).filled();
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, style)))?;
        }
        Ok(())
    }
}

/// A legend column: a coloured dot and the label for each group.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    groups: &[Group],
) -> DrawResult<DB> {
    area.draw(&Text::new("label", (10, 50), font(15)))?;
    for (i, (name, colour, _)) in groups.iter().enumerate() {
        let y = 80 + 24 * i as i32;
        area.draw(&Circle::new((16, y), 6, colour.filled()))?;
        let mut label = name.clone();
        if label.chars().count() > 10 {
            label = label.chars().take(9).collect::<String>() + "…";
        }
        area.draw(&Text::new(label, (30, y - 8), font(14)))?;
    }
    Ok(())
}
