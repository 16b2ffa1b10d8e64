//! Image grids: inputs over reconstructions, and a variational model's samples and traversal.

use super::latent_space::{natural, spread};
use super::style::{font, render, DrawResult, Figure};
use super::{Plot, MAX_SCATTER};
use anyhow::{Context, Result};
use latent::{ImageShape, Model};
use latent_data::Dataset;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Images in the reconstruction grid at most.
const MAX_IMAGES: usize = 12;

/// Rows of images with a label on the left of each row and a caption above each column.
struct ImageGrid {
    shape: ImageShape,
    /// `(row label, images of the row, concatenated)`.
    rows: Vec<(String, Vec<f32>)>,
    captions: Vec<String>,
    lo: f32,
    hi: f32,
    scale: u32,
    left: u32,
    top: u32,
}

const GRID_GAP: u32 = 8;
const GRID_TOP: u32 = 30;

impl ImageGrid {
    /// A grid whose grey scale spans `lo..hi` of all the values shown (or of `range` when
    /// given).
    fn new(
        shape: ImageShape,
        rows: Vec<(String, Vec<f32>)>,
        captions: Vec<String>,
        range: Option<(f32, f32)>,
    ) -> ImageGrid {
        let (lo, hi) = range.unwrap_or_else(|| {
            rows.iter()
                .flat_map(|r| r.1.iter())
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)))
        });
        let (lo, hi) = if lo < hi { (lo, hi) } else { (0.0, 1.0) };
        let side = shape.height.max(shape.width).max(1) as u32;
        let scale = (64 / side).max(1);
        let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0) as u32;
        let left = if longest == 0 { GRID_GAP } else { 24 + 8 * longest };
        let top = if captions.is_empty() { GRID_GAP } else { GRID_TOP };
        ImageGrid { shape, rows, captions, lo, hi, scale, left, top }
    }

    fn cell(&self) -> (u32, u32) {
        (self.shape.width as u32 * self.scale, self.shape.height as u32 * self.scale)
    }

    fn columns(&self) -> usize {
        self.rows.iter().map(|r| r.1.len() / self.shape.len().max(1)).max().unwrap_or(0)
    }

    /// Draws image `i` of `values` with its top-left corner at `(x, y)`.
    fn image<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        values: &[f32],
        i: usize,
        (x, y): (i32, i32),
    ) -> DrawResult<DB> {
        let ImageShape { channels, height, width } = self.shape;
        let plane = height * width;
        let Some(img) = values.get(i * self.shape.len()..(i + 1) * self.shape.len()) else {
            return Ok(());
        };
        let level = |v: f32| (255.0 * ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)) as u8;
        let s = self.scale as i32;
        for r in 0..height {
            for c in 0..width {
                let p = r * width + c;
                let colour = if channels >= 3 {
                    RGBColor(level(img[p]), level(img[plane + p]), level(img[2 * plane + p]))
                } else {
                    let g = level(img[p]);
                    RGBColor(g, g, g)
                };
                let (px, py) = (x + c as i32 * s, y + r as i32 * s);
                area.draw(&Rectangle::new([(px, py), (px + s, py + s)], colour.filled()))?;
            }
        }
        Ok(())
    }
}

impl Figure for ImageGrid {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.cell();
        let n = self.columns() as u32;
        (
            self.left + n * (w + GRID_GAP) + GRID_GAP,
            self.top + self.rows.len() as u32 * (h + GRID_GAP) + 4,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, h) = self.cell();
        for (i, c) in self.captions.iter().enumerate() {
            let x = (self.left + i as u32 * (w + GRID_GAP)) as i32;
            let mut c = c.clone();
            if c.chars().count() > 8 {
                c = c.chars().take(7).collect::<String>() + "…";
            }
            root.draw(&Text::new(c, (x, 6), font(13)))?;
        }
        for (k, (label, values)) in self.rows.iter().enumerate() {
            let y = (self.top + k as u32 * (h + GRID_GAP)) as i32;
            if !label.is_empty() {
                root.draw(&Text::new(label.as_str(), (12, y + h as i32 / 2 - 8), font(15)))?;
            }
            for i in 0..values.len() / self.shape.len().max(1) {
                let x = (self.left + i as u32 * (w + GRID_GAP)) as i32;
                self.image(root, values, i, (x, y))?;
            }
        }
        Ok(())
    }
}

pub(super) fn reconstruction_plot(
    model: &Model,
    data: &Dataset,
    labels: Option<&[String]>,
    shape: ImageShape,
) -> Result<Plot> {
    let rows = grid_rows(data.frame.rows(), labels);
    let frame = data.frame.select_rows(&rows);
    let inputs = model.inputs(&frame).with_context(|| data.source.display().to_string())?;
    let recons = model.reconstruct_inputs(&inputs)?.data;
    let range = inputs
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let captions = rows
        .iter()
        .map(|&r| labels.and_then(|l| l.get(r)).map_or(format!("row {}", r + 1), |l| l.clone()))
        .collect();
    let note = format!(
        "Top: {} inputs{}; bottom: their reconstructions, on the same grey scale.",
        rows.len(),
        if labels.is_some() { " (one per label first, captioned with the label)" } else { "" }
    );
    let fig = ImageGrid::new(
        shape,
        vec![("input".into(), inputs), ("reconstruction".into(), recons)],
        captions,
        Some(range),
    );
    render("reconstructions", "Inputs and reconstructions".into(), note, &fig)
}

/// Draws from a variational model's prior, decoded: 4 rows of 12 images.
pub(super) fn samples_plot(model: &Model, shape: ImageShape) -> Result<Plot> {
    const PER_ROW: usize = 12;
    let decoded = model.sample(4 * PER_ROW, 0)?;
    let per_image = shape.len();
    let rows =
        decoded.data.chunks(PER_ROW * per_image).map(|c| (String::new(), c.to_vec())).collect();
    let fig = ImageGrid::new(shape, rows, vec![], None);
    let note = "Codes drawn from the prior N(0, I) and decoded (seed 0): what the model \
                generates."
        .to_string();
    render("samples", "Samples from the prior".into(), note, &fig)
}

/// Latent traversal: for the most active code dimensions, decode the zero code with that one
/// dimension swept from -2.5 to 2.5 (prior standard deviations).
pub(super) fn traversal_plot(
    model: &Model,
    data: Option<&Dataset>,
    shape: ImageShape,
) -> Result<Plot> {
    const STEPS: usize = 9;
    const DIMS: usize = 8;
    let cw = model.code_width();
    // Order dimensions by the variance of the posterior means over the data (active units).
    let mut dims: Vec<(usize, f64)> = (0..cw).map(|d| (d, 0.0)).collect();
    if let Some(data) = data {
        let rows = spread(data.frame.rows(), MAX_SCATTER);
        let codes = model.encode(&data.frame.select_rows(&rows))?;
        for (d, v) in dims.iter_mut() {
            let col: Vec<f64> =
                codes.data.iter().skip(*d).step_by(cw).map(|&x| f64::from(x)).collect();
            let mean = col.iter().sum::<f64>() / col.len().max(1) as f64;
            *v = col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / col.len().max(1) as f64;
        }
        dims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    dims.truncate(DIMS);
    let values: Vec<f32> = (0..STEPS).map(|s| -2.5 + 5.0 * s as f32 / (STEPS - 1) as f32).collect();
    let mut rows = Vec::new();
    for &(d, _) in &dims {
        let mut codes = vec![0.0f32; STEPS * cw];
        for (s, v) in values.iter().enumerate() {
            codes[s * cw + d] = *v;
        }
        rows.push((format!("z{}", d + 1), model.decode(&codes)?.data));
    }
    let captions = values.iter().map(|v| format!("{v:+.2}")).collect();
    let note = format!(
        "Each row sweeps one code dimension from -2.5 to +2.5 with the others at 0{}.",
        if data.is_some() {
            "; dimensions ordered by how much the data's codes vary along them"
        } else {
            ""
        }
    );
    let fig = ImageGrid::new(shape, rows, captions, None);
    render("traversal", "Latent traversal".into(), note, &fig)
}

/// Rows shown in the grid: the first row of each label (when there are few labels), then
/// evenly spaced rows, `MAX_IMAGES` at most.
fn grid_rows(rows: usize, labels: Option<&[String]>) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    if let Some(l) = labels {
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        for (r, v) in l.iter().enumerate().take(rows) {
            first.entry(v.as_str()).or_insert(r);
        }
        if first.len() <= MAX_IMAGES {
            let mut pairs: Vec<(&str, usize)> = first.into_iter().collect();
            pairs.sort_by(|a, b| natural(a.0, b.0));
            picked = pairs.into_iter().map(|p| p.1).collect();
        }
    }
    for r in spread(rows, MAX_IMAGES) {
        if picked.len() >= MAX_IMAGES.min(rows) {
            break;
        }
        if !picked.contains(&r) {
            picked.push(r);
        }
    }
    picked
}
