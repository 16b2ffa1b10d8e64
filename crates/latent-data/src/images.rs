//! Folders of PNG/JPEG images, optionally one sub-folder per class.
//!
//! Files are taken in path order. Images in sub-folders get the top sub-folder's name as their
//! label. Pixels are scaled to `[0, 1]` and stored channels first (C x H x W).

use std::io::{BufRead, Cursor, Seek};
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use latent::{Column, Frame, ImageShape};

use crate::error::{Error, Result};
use crate::{Dataset, LoadOptions};

/// Most values (pixels times channels) one image may have once decoded and resized: every
/// value becomes a column, so a few hundred bytes of JPEG claiming 59400 x 2048 pixels must not
/// become 121 million columns.
pub const MAX_IMAGE_VALUES: usize = 1 << 20;

/// Most pixels an image may have to be decoded at all (resized or not): 8192 x 8192, above
/// the largest camera photos, below a decompression bomb's billions.
const MAX_DECODED_PIXELS: u64 = 1 << 26;

/// File extensions read as images.
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// One image file found in the folder.
struct Entry {
    path: PathBuf,
    /// Name of the top-level sub-folder holding it, `None` for files directly in the folder.
    label: Option<String>,
}

/// One decoded image: 8-bit pixels, interleaved (1 or 3 channels).
struct Decoded {
    pixels: Vec<u8>,
    channels: usize,
}

fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

/// Appends the image files under `dir` (recursively) to `out`, labelled `label`.
fn collect(dir: &Path, label: Option<&str>, out: &mut Vec<Entry>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in read {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let sub_label = label.map(str::to_string).or(name);
            collect(&path, sub_label.as_deref(), out)?;
        } else if is_image_file(&path) {
            out.push(Entry { path, label: label.map(str::to_string) });
        }
    }
    Ok(())
}

/// Decodes one file, resized as the options ask.
fn decode_file(path: &Path, opts: &LoadOptions) -> Result<(DynamicImage, (u32, u32))> {
    decode(path, ImageReader::open(path).map_err(|e| Error::io(path, e))?, opts)
}

/// Decodes one image (format by content, else as `reader` was told), resized as the options
/// ask; `path` names it in errors.
fn decode<R: BufRead + Seek>(
    path: &Path,
    reader: ImageReader<R>,
    opts: &LoadOptions,
) -> Result<(DynamicImage, (u32, u32))> {
    let bad = |message: String| Error::Image { path: path.to_path_buf(), message };
    let cannot = |e: image::ImageError| bad(format!("cannot decode image: {e}"));
    if let Some((w, h)) = opts.resize {
        if w == 0 || h == 0 {
            return Err(bad(format!("cannot resize to {w}x{h}")));
        }
    }
    // As `ImageReader::decode`, but the size is checked before the pixels are decoded.
    let decoder = reader
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?
        .into_decoder()
        .map_err(cannot)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_DECODED_PIXELS {
        return Err(bad(format!(
            "image is {width}x{height}: {pixels} pixels, more than the {MAX_DECODED_PIXELS} \
             latent decodes"
        )));
    }
    let (w, h) = opts.resize.unwrap_or((width, height));
    let channels = if opts.grayscale || !decoder.color_type().has_color() { 1 } else { 3 };
    let values = u64::from(w).saturating_mul(u64::from(h)).saturating_mul(channels);
    if values > MAX_IMAGE_VALUES as u64 {
        let what = match opts.resize {
            Some(_) => format!("resized to {w}x{h}, the image"),
            None => format!("at {w}x{h}, the image"),
        };
        return Err(bad(format!(
            "{what} has {values} values ({channels} channel(s)), more than the \
             {MAX_IMAGE_VALUES} latent takes per image (one column each); resize it smaller"
        )));
    }
    image::Limits::default().reserve(decoder.total_bytes()).map_err(cannot)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(cannot)?;
    if let Some((w, h)) = opts.resize {
        if (img.width(), img.height()) != (w, h) {
            img = img.resize_exact(w, h, FilterType::Triangle);
        }
    }
    let size = (img.width(), img.height());
    Ok((img, size))
}

/// The 8-bit pixels of a decoded image: grey when asked or when it has no colour, else RGB.
fn pixels(img: &DynamicImage, opts: &LoadOptions) -> Decoded {
    if opts.grayscale || !img.color().has_color() {
        Decoded { pixels: img.to_luma8().into_raw(), channels: 1 }
    } else {
        Decoded { pixels: img.to_rgb8().into_raw(), channels: 3 }
    }
}

/// The frame of decoded images all of `size` (width, height), channels first.
fn frame_of(path: &Path, decoded: &[Decoded], (w, h): (u32, u32)) -> Result<Frame> {
    let channels = decoded.iter().map(|d| d.channels).max().unwrap_or(1);
    let shape = ImageShape { channels, height: h as usize, width: w as usize };
    let mut values = Vec::with_capacity(decoded.len() * shape.len());
    for d in decoded {
        planar(d, channels, &mut values);
    }
    Frame::from_rows(Frame::default_names("pixel", shape.len()), &values)
        .and_then(|f| f.with_image_shape(shape))
        .map_err(|e| Error::frame(path, e))
}

/// Loads one image from its bytes as a one-row data set (see [`crate::load_image_bytes`]).
pub(crate) fn load_image_bytes(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Dataset> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    if let Ok(format) = ImageFormat::from_path(name) {
        reader.set_format(format);
    }
    let (img, size) = decode(name, reader, opts)?;
    let frame = frame_of(name, &[pixels(&img, opts)], size)?;
    Ok(Dataset { frame, labels: None, ids: Vec::new(), source: name.to_path_buf() })
}

/// Channels-first values in `[0, 1]` for one image, expanded to `channels`.
fn planar(d: &Decoded, channels: usize, out: &mut Vec<f32>) {
    if d.channels == channels {
        for c in 0..channels {
            out.extend(d.pixels.iter().skip(c).step_by(channels).map(|&p| f32::from(p) / 255.0));
        }
    } else {
        // A grey image in a colour data set: repeat its one channel.
        for _ in 0..channels {
            out.extend(d.pixels.iter().map(|&p| f32::from(p) / 255.0));
        }
    }
}

/// Loads every image in the folder (see the module docs).
pub(crate) fn load_folder(dir: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let mut entries = Vec::new();
    collect(dir, None, &mut entries)?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let Some(first) = entries.first() else {
        return Err(Error::Image {
            path: dir.to_path_buf(),
            message: "no PNG or JPEG images found in the folder".into(),
        });
    };
    let labelled = entries.iter().any(|e| e.label.is_some());
    if let Some(loose) = entries.iter().find(|e| labelled && e.label.is_none()) {
        return Err(Error::Image {
            path: loose.path.clone(),
            message: "image lies beside class sub-folders; put every image in a sub-folder \
                      (its label) or none"
                .into(),
        });
    }
    let first_path = first.path.clone();
    let mut decoded = Vec::with_capacity(entries.len());
    let mut size = None;
    for entry in &entries {
        let (img, this) = decode_file(&entry.path, opts)?;
        let (w, h) = *size.get_or_insert(this);
        if this != (w, h) {
            return Err(Error::Image {
                path: entry.path.clone(),
                message: format!(
                    "image is {}x{} but {} is {w}x{h}; all images must have the same size \
                     (or ask for a resize)",
                    this.0,
                    this.1,
                    first_path.display()
                ),
            });
        }
        decoded.push(pixels(&img, opts));
    }
    let frame = frame_of(dir, &decoded, size.unwrap_or((0, 0)))?;
    let labels = labelled.then(|| {
        Column::text("label", entries.into_iter().map(|e| e.label.unwrap_or_default()).collect())
    });
    Ok(Dataset { frame, labels, ids: Vec::new(), source: dir.to_path_buf() })
}

/// The images of a folder read a fixed number at a time (for `latent compress`): files in
/// path order as [`crate::load`] takes them, each chunk a frame of the same shape, so memory
/// holds one chunk of pixels (and the list of file names) however many images there are.
#[derive(Debug)]
pub struct ImageFolderChunks {
    entries: std::vec::IntoIter<PathBuf>,
    opts: LoadOptions,
    chunk_rows: usize,
    size: Option<(u32, u32)>,
    channels: usize,
    first: PathBuf,
}

impl ImageFolderChunks {
    /// Lists the images under `dir` (an error when there are none); `channels` is the number
    /// of channels every chunk gets (grey images in a colour set are repeated).
    pub fn open(
        dir: &Path,
        opts: &LoadOptions,
        chunk_rows: usize,
        channels: usize,
    ) -> Result<ImageFolderChunks> {
        let mut entries = Vec::new();
        collect(dir, None, &mut entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let Some(first) = entries.first().map(|e| e.path.clone()) else {
            return Err(Error::Image {
                path: dir.to_path_buf(),
                message: "no PNG or JPEG images found in the folder".into(),
            });
        };
        Ok(ImageFolderChunks {
            entries: entries.into_iter().map(|e| e.path).collect::<Vec<_>>().into_iter(),
            opts: opts.clone(),
            chunk_rows: chunk_rows.max(1),
            size: None,
            channels: channels.max(1),
            first,
        })
    }

    fn chunk(&mut self, paths: Vec<PathBuf>) -> Result<Frame> {
        let mut values = Vec::new();
        let mut shape = None;
        for path in &paths {
            let (img, this) = decode_file(path, &self.opts)?;
            let (w, h) = *self.size.get_or_insert(this);
            if this != (w, h) {
                return Err(Error::Image {
                    path: path.clone(),
                    message: format!(
                        "image is {}x{} but {} is {w}x{h}; all images must have the same size \
                         (or ask for a resize)",
                        this.0,
                        this.1,
                        self.first.display()
                    ),
                });
            }
            let d = pixels(&img, &self.opts);
            if d.channels > self.channels {
                return Err(Error::Image {
                    path: path.clone(),
                    message: format!(
                        "a colour image where images of {} channel are expected (ask for grey \
                         images)",
                        self.channels
                    ),
                });
            }
            shape =
                Some(ImageShape { channels: self.channels, height: h as usize, width: w as usize });
            planar(&d, self.channels, &mut values);
        }
        let shape = shape.unwrap_or(ImageShape { channels: self.channels, height: 0, width: 0 });
        Frame::from_rows(Frame::default_names("pixel", shape.len()), &values)
            .and_then(|f| f.with_image_shape(shape))
            .map_err(|e| Error::frame(&self.first, e))
    }
}

impl Iterator for ImageFolderChunks {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        let paths: Vec<PathBuf> = self.entries.by_ref().take(self.chunk_rows).collect();
        if paths.is_empty() {
            return None;
        }
        Some(self.chunk(paths))
    }
}
