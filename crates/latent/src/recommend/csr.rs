//! A binary user × item matrix in compressed sparse row form (implicit feedback: every stored
//! entry is a 1). Training and scoring only ever walk rows of it; nothing builds the dense
//! users × items matrix.

use crate::{Error, Result};

/// Compressed sparse rows of a 0/1 matrix: row `r` holds the sorted, distinct column indices
/// `indices[indptr[r]..indptr[r + 1]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csr {
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
}

impl Csr {
    /// Builds the matrix from `(row, column)` pairs in any order; duplicates count once.
    /// Fails when a column is not below `cols`.
    pub fn from_pairs(rows: usize, cols: usize, pairs: &[(u32, u32)]) -> Result<Csr> {
        if cols > u32::MAX as usize {
            return Err(Error::Data(format!("{cols} items is more than 2^32")));
        }
        let mut counts = vec![0usize; rows + 1];
        for &(r, c) in pairs {
            if r as usize >= rows || c as usize >= cols {
                return Err(Error::Data(format!(
                    "interaction ({r}, {c}) outside a {rows} x {cols} matrix"
                )));
            }
            counts[r as usize + 1] += 1;
        }
        for i in 0..rows {
            counts[i + 1] += counts[i];
        }
        let mut next = counts.clone();
        let mut indices = vec![0u32; pairs.len()];
        for &(r, c) in pairs {
            indices[next[r as usize]] = c;
            next[r as usize] += 1;
        }
        // Sort and deduplicate each row, compacting in place.
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0);
        let mut write = 0;
        for r in 0..rows {
            let (start, end) = (counts[r], counts[r + 1]);
            indices[start..end].sort_unstable();
            let mut last = None;
            for k in start..end {
                let c = indices[k];
                if last != Some(c) {
                    indices[write] = c;
                    write += 1;
                    last = Some(c);
                }
            }
            indptr.push(write);
        }
        indices.truncate(write);
        Ok(Csr { cols, indptr, indices })
    }

    /// Builds the matrix from one sorted, distinct index list per row.
    pub fn from_rows<'a>(cols: usize, rows: impl IntoIterator<Item = &'a [u32]>) -> Csr {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for row in rows {
            indices.extend_from_slice(row);
            indptr.push(indices.len());
        }
        Csr { cols, indptr, indices }
    }

    /// Number of rows (users).
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns (items).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The sorted column indices of row `r`.
    pub fn row(&self, r: usize) -> &[u32] {
        &self.indices[self.indptr[r]..self.indptr[r + 1]]
    }

    /// The rows `idx`, in that order, as a new matrix.
    pub fn select_rows(&self, idx: &[usize]) -> Csr {
        Csr::from_rows(self.cols, idx.iter().map(|&r| self.row(r)))
    }

    /// Entries per column (item popularity).
    pub fn column_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.cols];
        for &c in &self.indices {
            counts[c as usize] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sorted_distinct_rows() {
        let m = Csr::from_pairs(3, 4, &[(2, 3), (0, 1), (2, 0), (0, 1), (0, 0)]).unwrap();
        assert_eq!(m.rows(), 3);
        assert_eq!(m.row(0), &[0, 1]);
        assert_eq!(m.row(1), &[] as &[u32]);
        assert_eq!(m.row(2), &[0, 3]);
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.column_counts(), vec![2, 1, 0, 1]);
        let s = m.select_rows(&[2, 0]);
        assert_eq!(s.row(0), &[0, 3]);
        assert_eq!(s.row(1), &[0, 1]);
        assert!(Csr::from_pairs(1, 2, &[(0, 2)]).is_err());
    }
}
