//! Writing images: a grid of images in one PNG (samples, inputs over reconstructions), and a
//! folder of PNG files.

use crate::{Error, Result};
use image::{GrayImage, Luma, Rgb, RgbImage};
use latent::ImageShape;
use std::path::Path;

/// Pixels between grid cells.
const GAP: u32 = 2;

/// Writes `images` (each `shape.len()` values in [0, 1], channels first) as one PNG grid with
/// `columns` images per row; values are clipped to [0, 1].
pub fn write_png_grid(
    path: &Path,
    shape: ImageShape,
    images: &[f32],
    columns: usize,
) -> Result<()> {
    let n = check(path, shape, images)?;
    let columns = columns.clamp(1, n.max(1));
    let rows = n.div_ceil(columns);
    let (w, h) = (shape.width as u32, shape.height as u32);
    let width = columns as u32 * (w + GAP) + GAP;
    let height = rows as u32 * (h + GAP) + GAP;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    for (i, img) in images.chunks_exact(shape.len()).enumerate() {
        let (ox, oy) =
            ((i % columns) as u32 * (w + GAP) + GAP, (i / columns) as u32 * (h + GAP) + GAP);
        for y in 0..h {
            for x in 0..w {
                canvas.put_pixel(ox + x, oy + y, Rgb(pixel(img, shape, x as usize, y as usize)));
            }
        }
    }
    canvas.save(path).map_err(|e| Error::Image { path: path.to_path_buf(), message: e.to_string() })
}

/// Writes each image as `dir/000000.png`, `dir/000001.png`, … (greyscale or RGB).
pub fn write_png_folder(dir: &Path, shape: ImageShape, images: &[f32]) -> Result<()> {
    check(dir, shape, images)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (w, h) = (shape.width as u32, shape.height as u32);
    for (i, img) in images.chunks_exact(shape.len()).enumerate() {
        let path = dir.join(format!("{i:06}.png"));
        let saved = if shape.channels == 1 {
            GrayImage::from_fn(w, h, |x, y| Luma([pixel(img, shape, x as usize, y as usize)[0]]))
                .save(&path)
        } else {
            RgbImage::from_fn(w, h, |x, y| Rgb(pixel(img, shape, x as usize, y as usize)))
                .save(&path)
        };
        saved.map_err(|e| Error::Image { path: path.clone(), message: e.to_string() })?;
    }
    Ok(())
}

fn check(path: &Path, shape: ImageShape, images: &[f32]) -> Result<usize> {
    if shape.is_empty()
        || images.len() % shape.len() != 0
        || (shape.channels != 1 && shape.channels != 3)
    {
        return Err(Error::Internal {
            path: path.to_path_buf(),
            message: format!("{} values are not images of shape {shape:?}", images.len()),
        });
    }
    Ok(images.len() / shape.len())
}

/// RGB bytes of pixel (x, y) of a channels-first image.
fn pixel(img: &[f32], shape: ImageShape, x: usize, y: usize) -> [u8; 3] {
    let plane = shape.height * shape.width;
    let at =
        |c: usize| (img[c * plane + y * shape.width + x].clamp(0.0, 1.0) * 255.0).round() as u8;
    if shape.channels == 1 {
        let v = at(0);
        [v, v, v]
    } else {
        [at(0), at(1), at(2)]
    }
}
