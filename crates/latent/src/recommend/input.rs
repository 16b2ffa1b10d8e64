//! Interactions from in-memory data, as every front end gives them: a long table of user and
//! item ids (optionally with a rating), or a sparse users × items matrix in CSR form (what
//! `scipy.sparse` holds and `save_npz` writes). The `latent` binary's readers and the Python
//! package build their [`Interactions`] here, so the same data gives the same users, items and
//! positives whichever way it arrives. Also the defaults of [`InteractionColumns`], and ranking
//! with a [`RecModel`]: a table of histories ([`RecModel::recommend_for`]) or lists of item ids
//! as the service receives them ([`RecModel::recommend_ids`]).

use super::file::RecModel;
use super::{InteractionColumns, Interactions};
use crate::{Error, Result};
use std::collections::HashMap;

impl Default for InteractionColumns {
    /// MovieLens's names (`userId`, `movieId`), no rating column.
    fn default() -> Self {
        InteractionColumns {
            user: "userId".into(),
            item: "movieId".into(),
            rating: None,
            min_rating: None,
        }
    }
}

impl Interactions {
    /// The positives of a long table given as columns: `users[r]` interacted with `items[r]`;
    /// with `ratings`, only rows rated at least `min_rating` count. Ids are kept as given.
    /// Fails on columns of different lengths, an empty id, a non-finite rating, a minimum
    /// rating without ratings, or no positive at all.
    pub fn from_ids<S: AsRef<str>>(
        users: &[S],
        items: &[S],
        ratings: Option<&[f64]>,
        min_rating: Option<f64>,
    ) -> Result<Interactions> {
        if min_rating.is_some() && ratings.is_none() {
            return Err(Error::Config("a minimum rating needs a rating column".into()));
        }
        let same = |n: usize| n == users.len();
        if !same(items.len()) || !ratings.is_none_or(|r| same(r.len())) {
            return Err(Error::Data(format!(
                "the user, item and rating columns have different lengths ({}, {}{})",
                users.len(),
                items.len(),
                ratings.map_or(String::new(), |r| format!(", {}", r.len()))
            )));
        }
        let min = min_rating.unwrap_or(f64::NEG_INFINITY);
        let mut out = Interactions::default();
        let (mut user_index, mut item_index) = (HashMap::new(), HashMap::new());
        for (r, (u, i)) in users.iter().zip(items).enumerate() {
            if let Some(rating) = ratings.map(|v| v[r]) {
                if !rating.is_finite() {
                    return Err(Error::Data(format!(
                        "row {}: rating {rating} is not a number",
                        r + 1
                    )));
                }
                if rating < min {
                    continue;
                }
            }
            let (u, i) = (u.as_ref(), i.as_ref());
            if u.is_empty() || i.is_empty() {
                let what = if u.is_empty() { "user" } else { "item" };
                return Err(Error::Data(format!("row {}: empty {what} id", r + 1)));
            }
            out.push(u, i, &mut user_index, &mut item_index);
        }
        if out.pairs.is_empty() {
            return Err(Error::Data(match (users.len(), min_rating) {
                (0, _) => "no interactions (no rows)".to_string(),
                (n, Some(m)) => format!("no interactions: none of the {n} rows is rated >= {m}"),
                _ => "no interactions".to_string(),
            }));
        }
        Ok(out)
    }

    /// The positives of a `rows × cols` matrix in compressed sparse row form (row `u`'s
    /// entries are `indices[indptr[u]..indptr[u + 1]]` with values `data[..]`). Users and
    /// items are named by their row and column numbers (`"0"`, `"1"`, ...), every row is a
    /// user (an empty row is a user without history) and each non-zero entry is a positive
    /// (with `min_rating`, each entry whose value is at least that).
    pub fn from_csr(
        rows: usize,
        cols: usize,
        indptr: &[usize],
        indices: &[usize],
        data: &[f32],
        min_rating: Option<f64>,
    ) -> Result<Interactions> {
        let bad = |m: String| Error::Data(format!("not a CSR matrix: {m}"));
        let nnz = indices.len();
        if rows > u32::MAX as usize || cols > u32::MAX as usize {
            return Err(bad(format!("{rows} x {cols} is more than 2^32 users or items")));
        }
        if indptr.len() != rows + 1 || data.len() != nnz {
            return Err(bad(format!(
                "indptr ({}), indices ({nnz}) and data ({}) do not fit the shape {rows} x {cols}",
                indptr.len(),
                data.len()
            )));
        }
        let min = min_rating.unwrap_or(f64::NEG_INFINITY);
        let mut out = Interactions {
            users: (0..rows).map(|u| u.to_string()).collect(),
            items: (0..cols).map(|i| i.to_string()).collect(),
            pairs: Vec::new(),
        };
        for u in 0..rows {
            let (a, b) = (indptr[u], indptr[u + 1]);
            if a > b || b > nnz {
                return Err(bad(format!("indptr is not increasing at row {u}")));
            }
            for k in a..b {
                let i = indices[k];
                if i >= cols {
                    return Err(bad(format!("column {i} outside {cols} columns")));
                }
                if f64::from(data[k]) >= min && data[k] != 0.0 {
                    out.pairs.push((u as u32, i as u32));
                }
            }
        }
        if out.pairs.is_empty() {
            return Err(Error::Data("no interactions (no stored entry is a positive)".into()));
        }
        Ok(out)
    }
}

/// The top items of every user of a table of histories (see [`RecModel::recommend_for`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendations {
    /// Per user of the table, in its order: `(item index, score)`, best first (at most `k`;
    /// fewer when the model has fewer unseen items).
    pub ranked: Vec<Vec<(u32, f32)>>,
    /// Interactions with items the model does not know (skipped).
    pub unknown: usize,
}

/// The top items of one history given as item ids (see [`RecModel::recommend_ids`]).
#[derive(Clone, Debug, PartialEq)]
pub struct IdRecommendation {
    /// `(item index, score)`, best first (at most `k`).
    pub ranked: Vec<(u32, f32)>,
    /// The history's ids the model does not know, in their order.
    pub unknown_items: Vec<String>,
}

impl RecModel {
    /// Each user's history in `data` as indices on the model's item axis (items the model
    /// does not know are skipped and counted). Fails when no history holds a known item.
    pub fn histories_of(&self, data: &Interactions) -> Result<(Vec<Vec<u32>>, usize)> {
        let (histories, unknown) = data.histories(self.item_index());
        if histories.iter().all(Vec::is_empty) {
            return Err(Error::Data(format!(
                "none of the {} item ids is known to the model (empty histories)",
                data.items.len()
            )));
        }
        Ok((histories, unknown))
    }

    /// The top `k` items of every user of `data` (leaving out the items of the user's own
    /// history when `exclude_seen`): what `latent recommend` writes and the Python package's
    /// `Recommender.recommend` returns.
    pub fn recommend_for(
        &self,
        data: &Interactions,
        k: usize,
        exclude_seen: bool,
    ) -> Result<Recommendations> {
        if k == 0 {
            return Err(Error::Config("k must be at least 1".into()));
        }
        let (histories, unknown) = self.histories_of(data)?;
        let rows: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        Ok(Recommendations { ranked: self.model.recommend(&rows, k, exclude_seen), unknown })
    }

    /// The top `k` items for histories given as lists of item ids, one list per user (what
    /// `POST /v1/recommend` receives). Ids the model does not know are skipped and answered
    /// per user, in their order, rather than refused: a history of unknown items only is
    /// ranked as an empty one.
    pub fn recommend_ids<S: AsRef<str>>(
        &self,
        histories: &[Vec<S>],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<IdRecommendation>> {
        if k == 0 {
            return Err(Error::Config("k must be at least 1".into()));
        }
        let index = self.item_index();
        let (rows, unknown): (Vec<Vec<u32>>, Vec<Vec<String>>) = histories
            .iter()
            .map(|ids| {
                let mut row = Vec::with_capacity(ids.len());
                let mut missing = Vec::new();
                for id in ids {
                    match index.get(id.as_ref()) {
                        Some(&i) => row.push(i),
                        None => missing.push(id.as_ref().to_string()),
                    }
                }
                row.sort_unstable();
                row.dedup();
                (row, missing)
            })
            .unzip();
        let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        let ranked = self.model.recommend(&refs, k, exclude_seen);
        Ok(ranked
            .into_iter()
            .zip(unknown)
            .map(|(ranked, unknown_items)| IdRecommendation { ranked, unknown_items })
            .collect())
    }

    /// The score of every item of the model for every user of `data` (row-major, users ×
    /// items, in the model's item order), and the number of unknown interactions.
    pub fn score_items(&self, data: &Interactions) -> Result<(Vec<f32>, usize)> {
        let (histories, unknown) = self.histories_of(data)?;
        let rows: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        let mut out = Vec::new();
        self.model.score_batch(&rows, &mut out);
        Ok((out, unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tables_and_csr_matrices_give_the_same_positives() {
        let d = Interactions::from_ids(
            &["a", "a", "b"],
            &["007", "x", "x"],
            Some(&[4.0, 5.0, 3.0][..]),
            Some(3.5),
        )
        .unwrap();
        assert_eq!(d.users, vec!["a"]);
        assert_eq!(d.items, vec!["007", "x"]);
        assert_eq!(d.pairs, vec![(0, 0), (0, 1)]);
        // [[1, 0, 1], [0, 0, 0], [0, 4, 0]]
        let m = Interactions::from_csr(3, 3, &[0, 2, 2, 3], &[0, 2, 1], &[1.0, 1.0, 4.0], None)
            .unwrap();
        assert_eq!(m.users.len(), 3);
        assert_eq!(m.pairs, vec![(0, 0), (0, 2), (2, 1)]);
        let m =
            Interactions::from_csr(3, 3, &[0, 2, 2, 3], &[0, 2, 1], &[1.0, 1.0, 4.0], Some(2.0));
        assert_eq!(m.unwrap().pairs, vec![(2, 1)]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let e = |r: Result<Interactions>| r.unwrap_err().to_string();
        assert!(e(Interactions::from_ids(&["a"], &["1", "2"], None, None)).contains("lengths"));
        assert!(e(Interactions::from_ids(&["a"], &[""], None, None)).contains("empty item id"));
        assert!(e(Interactions::from_ids(&["a"], &["1"], None, Some(1.0))).contains("rating"));
        assert!(
            e(Interactions::from_ids(&["a"], &["1"], Some(&[1.0][..]), Some(2.0))).contains(">= 2")
        );
        assert!(e(Interactions::from_ids::<&str>(&[], &[], None, None)).contains("no rows"));
        assert!(e(Interactions::from_csr(2, 2, &[0, 1], &[0], &[1.0], None)).contains("shape"));
        assert!(e(Interactions::from_csr(1, 2, &[0, 1], &[5], &[1.0], None)).contains("column 5"));
        assert!(e(Interactions::from_csr(1, 2, &[1, 0], &[0], &[1.0], None)).contains("increasing"));
        assert!(e(Interactions::from_csr(1, 2, &[0, 1], &[0], &[0.0], None))
            .contains("no interactions"));
    }
}
