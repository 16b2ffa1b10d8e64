//! The sparse × dense layer: the first layer of a recommender, whose input is a batch of
//! sparse rows (a user's items with their values), `y = f(x W + b)`.
//!
//! The weight is stored `[inputs, outputs]` (one contiguous row per item, like an embedding
//! table: the transpose of [`super::Dense`]'s PyTorch layout), so the forward pass and the
//! weight gradient touch only the rows of the items present in the batch.

use super::{Activation, ParamId, Params};
use rayon::prelude::*;

/// A batch of sparse rows: row `r` holds `values[indptr[r]..indptr[r+1]]` at the columns
/// `indices[indptr[r]..indptr[r+1]]`.
#[derive(Clone, Debug, Default)]
pub struct SparseBatch {
    /// Row starts (length rows + 1).
    pub indptr: Vec<usize>,
    /// Column of each value.
    pub indices: Vec<u32>,
    /// The values.
    pub values: Vec<f32>,
}

impl SparseBatch {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Empties the batch (keeping its buffers).
    pub fn clear(&mut self) {
        self.indptr.clear();
        self.indptr.push(0);
        self.indices.clear();
        self.values.clear();
    }

    /// Appends a row.
    pub fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, f32)>) {
        if self.indptr.is_empty() {
            self.indptr.push(0);
        }
        for (i, v) in entries {
            self.indices.push(i);
            self.values.push(v);
        }
        self.indptr.push(self.indices.len());
    }

    fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}

/// A fully connected layer over sparse input: weight `[inputs, outputs]`, bias `[outputs]`.
#[derive(Clone, Debug)]
pub struct SparseDense {
    /// Weight tensor, `[inputs, outputs]` (row per input column).
    pub weight: ParamId,
    /// Bias tensor, `[outputs]`.
    pub bias: ParamId,
    /// Input width (number of items).
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation applied after the affine map.
    pub activation: Activation,
}

impl SparseDense {
    /// Registers `{prefix}.weight` (`[inputs, outputs]`) and `{prefix}.bias`.
    pub fn new(
        params: &mut Params,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        activation: Activation,
    ) -> Self {
        let weight = params.add(format!("{prefix}.weight"), &[inputs, outputs], true);
        let bias = params.add(format!("{prefix}.bias"), &[outputs], false);
        SparseDense { weight, bias, inputs, outputs, activation }
    }

    /// Forward: `y[r] = f(b + Σ_k v_k W[i_k])` over the entries `(i_k, v_k)` of row `r`.
    pub fn forward(&self, params: &Params, x: &SparseBatch, y: &mut [f32]) {
        let (w, b, out) = (params.value(self.weight), params.value(self.bias), self.outputs);
        let rows = x.rows();
        y[..rows * out].par_chunks_mut(out).enumerate().for_each(|(r, yr)| {
            yr.copy_from_slice(b);
            let (idx, vals) = x.row(r);
            for (&i, &v) in idx.iter().zip(vals) {
                let wi = &w[i as usize * out..(i as usize + 1) * out];
                yr.iter_mut().zip(wi).for_each(|(y, &w)| *y += v * w);
            }
        });
        self.activation.apply_slice(&mut y[..rows * out]);
    }

    /// Backward given `dz = ∂L/∂z` (through the activation already): `∂L/∂W[i] = Σ_{(r,k):
    /// i_k = i} v_k dz[r]` and `∂L/∂b = Σ_r dz[r]`. Only the weight-gradient rows of the items
    /// in `x` are written; `touched` lists the rows written by the previous call, which are
    /// zeroed first, and receives this call's rows, so the rest of the gradient stays zero.
    pub fn backward(
        &self,
        params: &mut Params,
        x: &SparseBatch,
        dz: &[f32],
        touched: &mut Vec<u32>,
    ) {
        let out = self.outputs;
        let rows = x.rows();
        {
            let (_, dw) = params.value_and_grad_mut(self.weight, self.weight);
            for &i in touched.iter() {
                dw[i as usize * out..(i as usize + 1) * out].fill(0.0);
            }
            touched.clear();
            for r in 0..rows {
                let (idx, vals) = x.row(r);
                let d = &dz[r * out..(r + 1) * out];
                for (&i, &v) in idx.iter().zip(vals) {
                    let g = &mut dw[i as usize * out..(i as usize + 1) * out];
                    g.iter_mut().zip(d).for_each(|(g, &d)| *g += v * d);
                }
            }
            touched.extend_from_slice(&x.indices);
            touched.sort_unstable();
            touched.dedup();
        }
        let (_, db) = params.value_and_grad_mut(self.bias, self.bias);
        db.fill(0.0);
        for d in dz[..rows * out].chunks_exact(out) {
            db.iter_mut().zip(d).for_each(|(b, &d)| *b += d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks both gradients against central finite differences of `L = Σ c ⊙ y`.
    #[test]
    fn gradients_match_finite_differences() {
        let mut params = Params::new();
        let layer = SparseDense::new(&mut params, "enc", 6, 3, Activation::Tanh);
        let n = params.len();
        let init: Vec<f32> = (0..n).map(|k| ((k * 37 % 17) as f32 - 8.0) / 20.0).collect();
        params.values_mut().copy_from_slice(&init);
        let mut x = SparseBatch::default();
        x.push_row([(0, 0.5), (3, -1.0)]);
        x.push_row([(5, 2.0)]);
        x.push_row([(3, 0.25), (4, 1.0), (5, -0.5)]);
        let c: Vec<f32> = (0..9).map(|k| (k as f32 - 4.0) / 3.0).collect();
        let loss = |p: &Params| {
            let mut y = vec![0.0; 9];
            layer.forward(p, &x, &mut y);
            y.iter().zip(&c).map(|(y, c)| f64::from(y * c)).sum::<f64>()
        };
        let mut y = vec![0.0; 9];
        layer.forward(&params, &x, &mut y);
        let mut dz: Vec<f32> = c.clone();
        Activation::Tanh.backward(&mut dz, &y, None);
        // A stale gradient row from an earlier "batch" must be cleared.
        let mut touched = vec![1u32];
        params.values_and_grads_mut().1[3..6].fill(9.0);
        layer.backward(&mut params, &x, &dz, &mut touched);
        assert_eq!(touched, vec![0, 3, 4, 5]);
        let grads = params.grads().to_vec();
        let h = 1e-3f32;
        for k in 0..n {
            let mut p = params.clone();
            p.values_mut()[k] = init[k] + h;
            let up = loss(&p);
            p.values_mut()[k] = init[k] - h;
            let down = loss(&p);
            let fd = (up - down) / (2.0 * f64::from(h));
            assert!((fd - f64::from(grads[k])).abs() < 2e-3, "param {k}: {fd} vs {}", grads[k]);
        }
    }
}
