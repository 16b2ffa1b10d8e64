//! The argument types of the [`super::Backend`] operations: a strided matrix view inside a
//! buffer, the scale of a Gaussian likelihood and its gradient outputs.

use crate::engine::Activation;

/// A matrix inside a buffer: stored row-major, `rows x cols` from `offset` with `ld` values
/// between rows; `transposed` uses it as its transpose (no copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mat {
    /// First value in the buffer.
    pub offset: usize,
    /// Stored rows.
    pub rows: usize,
    /// Stored columns.
    pub cols: usize,
    /// Values from one stored row to the next (at least `cols`).
    pub ld: usize,
    /// Whether the product uses the transpose.
    pub transposed: bool,
}

impl Mat {
    /// A contiguous row-major `rows x cols` matrix at `offset`.
    pub fn row_major(offset: usize, rows: usize, cols: usize) -> Self {
        Mat { offset, rows, cols, ld: cols, transposed: false }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Mat { transposed: !self.transposed, ..self }
    }

    /// Rows as used in a product.
    pub fn used_rows(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }

    /// Columns as used in a product.
    pub fn used_cols(&self) -> usize {
        if self.transposed {
            self.rows
        } else {
            self.cols
        }
    }

    /// Values from `offset` to the end of the last stored row.
    pub fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.ld + self.cols
        }
    }
}

/// The scale of a Gaussian likelihood on a backend: a fixed `log σ`, or one per feature held
/// in a buffer.
#[derive(Debug)]
pub enum Sigma<'a, B> {
    /// The same `log σ` for every value.
    Fixed(f32),
    /// `width` per-feature values of `log σ` at `offset` in `buf`; value `i` uses `i % width`.
    PerFeature {
        /// The buffer (the parameter values).
        buf: &'a B,
        /// Where the `width` values start.
        offset: usize,
        /// Values per row.
        width: usize,
    },
}

/// The gradient outputs of a Gaussian likelihood on a backend (see [`super::vae::NllGrad`]).
#[derive(Debug)]
pub struct NllGrad<'a, B> {
    /// Receives `∂L/∂z` for the output pre-activation `z`.
    pub dz: &'a mut B,
    /// The output pre-activation.
    pub pre: &'a B,
    /// The output activation.
    pub act: Activation,
    /// The divisor (batch rows).
    pub rows: f32,
}
