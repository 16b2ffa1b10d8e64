//! Matrix products over strided row/column views, backed by the `gemm` crate.
//!
//! Measured on the W1 shapes (see `examples/kernels.rs` and BENCHMARKS.md), `gemm` was faster
//! than `faer` here, so it is the one kernel the engine uses.

/// A read-only strided view of a matrix stored in a slice.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix; `data` must hold at least `rows * cols` values.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(data.len() >= rows * cols, "matrix view larger than its buffer");
        MatRef { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// A row-major `rows x cols` matrix whose rows start `row_stride` values apart;
    /// `data` must hold at least `(rows - 1) * row_stride + cols` values.
    pub fn strided(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        let need = if rows == 0 || cols == 0 { 0 } else { (rows - 1) * row_stride + cols };
        assert!(data.len() >= need && row_stride >= cols, "matrix view larger than its buffer");
        MatRef { data, rows, cols, row_stride, col_stride: 1 }
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Products smaller than this many multiply-adds run on the calling thread, and so do products
/// called from a rayon worker (work already split over the threads, as in inference chunks),
/// where nesting would only add synchronisation. The kernel splits rows and columns over
/// threads, never an inner sum, so the split does not change the result. At 2²⁰ multiply-adds
/// (W1's 256x128x32 products) two threads ran 1.5-3x slower than one in `examples/kernels` on
/// the idle VM (2026-12-03: e.g. 22-27 against 64-86 GFLOP/s), so the split starts at 2²².
const PARALLEL_THRESHOLD: usize = 1 << 22;

/// `dst = a · b` (or `dst += a · b` when `accumulate`), `dst` row-major `a.rows x b.cols`.
///
/// # Panics
/// When the shapes disagree or `dst` is too small (a programming error, not an input error).
pub fn matmul(dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "inner dimensions differ");
    assert!(dst.len() >= m * n, "destination too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    let parallelism = if m * n * k >= PARALLEL_THRESHOLD && rayon::current_thread_index().is_none()
    {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above and in `MatRef::row_major` guarantee that every index the
    // kernel touches, `(i * rs + j * cs)` for i < rows and j < cols, lies inside its slice;
    // `dst` is exclusively borrowed and cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut s = 0.0;
                for p in 0..a.cols {
                    s += a.data[i * a.row_stride + p * a.col_stride]
                        * b.data[p * b.row_stride + j * b.col_stride];
                }
                out[i * b.cols + j] = s;
            }
        }
        out
    }

    #[test]
    fn matches_naive_product_with_transposes() {
        let a: Vec<f32> = (0..60 * 70).map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0).collect();
        let b: Vec<f32> = (0..70 * 50).map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0).collect();
        let cases = [
            (MatRef::row_major(&a, 60, 70), MatRef::row_major(&b, 70, 50)),
            (MatRef::row_major(&a, 70, 60).t(), MatRef::row_major(&b, 50, 70).t()),
        ];
        for (x, y) in cases {
            let mut dst = vec![1.0; x.rows() * y.cols()];
            matmul(&mut dst, x, y, false);
            let want = naive(x, y);
            for (g, w) in dst.iter().zip(&want) {
                assert!((g - w).abs() < 1e-3 * (1.0 + w.abs()), "{g} vs {w}");
            }
            matmul(&mut dst, x, y, true);
            for (g, w) in dst.iter().zip(&want) {
                assert!((g - 2.0 * w).abs() < 2e-3 * (1.0 + w.abs()));
            }
        }
    }
}
