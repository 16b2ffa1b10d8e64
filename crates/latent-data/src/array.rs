//! Turning a dense n-d array (from NPY, NPZ or IDX) into a [`Frame`].

use std::path::Path;

use latent::{Column, Frame, ImageShape};

use crate::error::{Error, Result};

/// A dense array in C order (last axis fastest).
pub(crate) struct Array {
    /// Length of each axis.
    pub shape: Vec<usize>,
    /// The values, `shape.iter().product()` of them.
    pub values: Vec<f32>,
}

impl Array {
    /// Number of rows (the length of the first axis).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }
}

/// Converts Fortran-order values (first axis fastest) of this shape to C order.
pub(crate) fn fortran_to_c(shape: &[usize], src: &[f32]) -> Vec<f32> {
    let nd = shape.len();
    let mut stride = vec![1usize; nd];
    for k in 1..nd {
        stride[k] = stride[k - 1] * shape[k - 1];
    }
    let mut out = Vec::with_capacity(src.len());
    let mut index = vec![0usize; nd];
    let mut offset = 0usize;
    for _ in 0..src.len() {
        out.push(src[offset]);
        for k in (0..nd).rev() {
            index[k] += 1;
            offset += stride[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= stride[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}

/// Error naming the first non-finite value, if any (rows of `width` values).
pub(crate) fn check_finite(
    path: &Path,
    values: &[f32],
    width: usize,
    names: &[String],
) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let (row, col) = (i / width.max(1), i % width.max(1));
            let name = names.get(col).cloned().unwrap_or_else(|| format!("{col}"));
            Err(Error::not_finite(path, row, name, f64::from(values[i])))
        }
    }
}

/// Rows per block of the cache-friendly transpose in [`columns_from_rows`].
const BLOCK_ROWS: usize = 64;

/// Splits row-major `data` (`rows x width`) into `width` columns, converting each value.
pub(crate) fn columns_from_rows<T: Copy>(
    rows: usize,
    width: usize,
    data: &[T],
    convert: impl Fn(T) -> f32,
) -> Vec<Vec<f32>> {
    let mut columns: Vec<Vec<f32>> = (0..width).map(|_| vec![0.0; rows]).collect();
    for start in (0..rows).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(rows);
        let block = &data[start * width..end * width];
        for (j, column) in columns.iter_mut().enumerate() {
            for (dst, row) in column[start..end].iter_mut().zip(block.chunks_exact(width)) {
                *dst = convert(row[j]);
            }
        }
    }
    columns
}

/// Builds a frame from row-major `data` of this shape, converting each value: 1-D -> one
/// column `one_d_name`; 2-D `(n, d)` -> columns `f0..`; 3-D `(n, h, w)` -> 1 x h x w images;
/// 4-D `(n, c, h, w)` -> c x h x w images, with columns `pixel0..`. Non-finite values are
/// rejected.
pub(crate) fn to_frame<T: Copy>(
    path: &Path,
    shape: &[usize],
    data: &[T],
    convert: impl Fn(T) -> f32,
    one_d_name: &str,
) -> Result<Frame> {
    let image = match *shape {
        [_, h, w] => Some(ImageShape { channels: 1, height: h, width: w }),
        [_, c, h, w] => Some(ImageShape { channels: c, height: h, width: w }),
        [_] | [_, _] => None,
        _ => {
            return Err(Error::format(
                path,
                format!("array has {} dimensions; expected 1 to 4", shape.len()),
            ))
        }
    };
    let rows = shape.first().copied().unwrap_or(0);
    if rows == 0 {
        return Err(Error::format(path, "no data rows (array has 0 rows)"));
    }
    let width = shape
        .iter()
        .skip(1)
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|w| w.checked_mul(rows).is_some())
        .ok_or_else(|| Error::format(path, format!("array of shape {shape:?} is too large")))?;
    if width == 0 {
        return Err(Error::format(path, format!("array of shape {shape:?} has no columns")));
    }
    if data.len() != rows * width {
        return Err(Error::internal(
            path,
            format!("{} values for an array of shape {shape:?}", data.len()),
        ));
    }
    let names = match (shape.len(), image) {
        (1, _) => vec![one_d_name.to_string()],
        (_, Some(_)) => Frame::default_names("pixel", width),
        _ => Frame::default_names("f", width),
    };
    let columns = columns_from_rows(rows, width, data, convert);
    // The first non-finite value in row-major order: smallest row, then smallest column.
    let mut first: Option<(usize, usize, f32)> = None;
    for (j, column) in columns.iter().enumerate() {
        if let Some(i) = column.iter().position(|v| !v.is_finite()) {
            if first.is_none_or(|(row, _, _)| i < row) {
                first = Some((i, j, column[i]));
            }
        }
    }
    if let Some((row, j, v)) = first {
        return Err(Error::not_finite(path, row, names[j].clone(), f64::from(v)));
    }
    let columns = names.into_iter().zip(columns).map(|(n, v)| Column::numeric(n, v)).collect();
    let frame = Frame::new(columns).map_err(|e| Error::frame(path, e))?;
    match image {
        Some(shape) => frame.with_image_shape(shape).map_err(|e| Error::frame(path, e)),
        None => Ok(frame),
    }
}

/// [`to_frame`] for an [`Array`] of `f32`.
pub(crate) fn array_to_frame(path: &Path, array: &Array, one_d_name: &str) -> Result<Frame> {
    to_frame(path, &array.shape, &array.values, |v| v, one_d_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_is_transposed() {
        // 2 x 3 matrix [[1,2,3],[4,5,6]] stored column-major.
        let c = fortran_to_c(&[2, 3], &[1., 4., 2., 5., 3., 6.]);
        assert_eq!(c, vec![1., 2., 3., 4., 5., 6.]);
        // 2 x 2 x 2: element (i,j,k) = 100i + 10j + k.
        let mut f = vec![0.; 8];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    f[i + 2 * j + 4 * k] = (100 * i + 10 * j + k) as f32;
                }
            }
        }
        assert_eq!(fortran_to_c(&[2, 2, 2], &f), vec![0., 1., 10., 11., 100., 101., 110., 111.]);
    }

    #[test]
    fn shapes_map_to_frames() -> Result<()> {
        let p = Path::new("a.npy");
        let f = array_to_frame(p, &Array { shape: vec![3], values: vec![1., 2., 3.] }, "f0")?;
        assert_eq!((f.rows(), f.names()), (3, vec!["f0".to_string()]));
        let f = array_to_frame(p, &Array { shape: vec![2, 2, 3], values: vec![0.; 12] }, "f0")?;
        assert_eq!(f.image_shape(), Some(ImageShape { channels: 1, height: 2, width: 3 }));
        assert_eq!(f.names()[5], "pixel5");
        let e = array_to_frame(
            p,
            &Array { shape: vec![2, 2], values: vec![0., f32::NAN, f32::NAN, 2.] },
            "f0",
        );
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("a.npy: row 1, column \"f1\""), "{msg}");
        let cols = columns_from_rows(130, 2, &(0..260u32).collect::<Vec<_>>(), |v| v as f32);
        assert_eq!((cols[0][129], cols[1][64]), (258.0, 129.0));
        Ok(())
    }
}
