//! Top-K ranking and the ranking metrics of Liang et al. 2018: NDCG@K and Recall@K, the
//! latter normalised by `min(K, number held out)`.
//!
//! Ranking order is score descending, ties broken by the lower item index, so results do not
//! depend on the sort's internals. Users with nothing held out have no defined metric and are
//! left out of the means (as in the paper's evaluation).

use std::cmp::Ordering;

/// The best `k` items of `scores` (score descending, ties by lower index), skipping the
/// sorted item indices in `exclude`. Non-finite scores rank last.
pub fn top_k(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<u32> {
    let mut skip = exclude.iter().peekable();
    let mut candidates: Vec<u32> = Vec::with_capacity(scores.len());
    for i in 0..scores.len() as u32 {
        while skip.peek().is_some_and(|&&e| e < i) {
            skip.next();
        }
        if skip.peek() != Some(&&i) {
            candidates.push(i);
        }
    }
    let key = |i: u32| {
        let s = scores[i as usize];
        if s.is_finite() {
            s
        } else {
            f32::NEG_INFINITY
        }
    };
    let cmp = |a: &u32, b: &u32| key(*b).total_cmp(&key(*a)).then(a.cmp(b));
    let k = k.min(candidates.len());
    if k == 0 {
        return Vec::new();
    }
    if k < candidates.len() {
        candidates.select_nth_unstable_by(k - 1, cmp);
        candidates.truncate(k);
    }
    candidates.sort_unstable_by(cmp);
    candidates
}

/// DCG discount of rank `r` (0-based): `1 / log2(r + 2)`.
fn discount(r: usize) -> f64 {
    1.0 / ((r + 2) as f64).log2()
}

/// NDCG@K of one ranked list against the sorted held-out items: `DCG / IDCG` with binary
/// gains, `IDCG = Σ_{r < min(K, n)} 1/log2(r + 2)`. `None` when nothing is held out.
pub fn ndcg_at_k(ranked: &[u32], heldout: &[u32], k: usize) -> Option<f64> {
    if heldout.is_empty() || k == 0 {
        return None;
    }
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, i)| heldout.binary_search(i).is_ok())
        .map(|(r, _)| discount(r))
        .sum();
    let idcg: f64 = (0..k.min(heldout.len())).map(discount).sum();
    Some(dcg / idcg)
}

/// Recall@K of one ranked list: hits in the top K over `min(K, n held out)`. `None` when
/// nothing is held out.
pub fn recall_at_k(ranked: &[u32], heldout: &[u32], k: usize) -> Option<f64> {
    if heldout.is_empty() || k == 0 {
        return None;
    }
    let hits = ranked.iter().take(k).filter(|i| heldout.binary_search(i).is_ok()).count();
    Some(hits as f64 / k.min(heldout.len()) as f64)
}

/// Mean NDCG@100, Recall@20 and Recall@50 over the users that have held-out items.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankingMetrics {
    /// Mean NDCG@100.
    pub ndcg_100: f64,
    /// Mean Recall@20.
    pub recall_20: f64,
    /// Mean Recall@50.
    pub recall_50: f64,
    /// Users evaluated (those with at least one held-out item).
    pub users: usize,
}

/// Accumulates per-user metrics in a fixed order.
#[derive(Clone, Debug, Default)]
pub struct MetricsAccumulator {
    sums: [f64; 3],
    users: usize,
}

impl MetricsAccumulator {
    /// Adds one user's ranking (at least 100 items long when available).
    pub fn add(&mut self, ranked: &[u32], heldout: &[u32]) {
        let (Some(n), Some(r20), Some(r50)) = (
            ndcg_at_k(ranked, heldout, 100),
            recall_at_k(ranked, heldout, 20),
            recall_at_k(ranked, heldout, 50),
        ) else {
            return;
        };
        self.sums[0] += n;
        self.sums[1] += r20;
        self.sums[2] += r50;
        self.users += 1;
    }

    /// The means so far (zeros when no user counted).
    pub fn finish(&self) -> RankingMetrics {
        let n = self.users.max(1) as f64;
        RankingMetrics {
            ndcg_100: self.sums[0] / n,
            recall_20: self.sums[1] / n,
            recall_50: self.sums[2] / n,
            users: self.users,
        }
    }
}

/// Orders metrics by NDCG@100 (used to pick a model or a λ on validation users).
pub fn better(a: &RankingMetrics, b: &RankingMetrics) -> bool {
    a.ndcg_100.partial_cmp(&b.ndcg_100) == Some(Ordering::Greater)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn top_k_orders_by_score_then_index_and_skips_seen() {
        let scores = [0.5, 0.9, 0.9, f32::NAN, 0.1, 0.7];
        assert_eq!(top_k(&scores, 3, &[]), vec![1, 2, 5]);
        assert_eq!(top_k(&scores, 3, &[1, 5]), vec![2, 0, 4]);
        assert_eq!(top_k(&scores, 10, &[0, 1, 2, 4, 5]), vec![3]);
        assert_eq!(top_k(&scores, 0, &[]), Vec::<u32>::new());
    }

    #[test]
    fn ties_rank_the_lower_index_first() {
        // Items 3 and 1 tie: item 1 takes rank 0, item 3 rank 1.
        let ranked = top_k(&[0.0, 1.0, 0.0, 1.0], 2, &[]);
        assert_eq!(ranked, vec![1, 3]);
        // Held out {3}: DCG = 1/log2(3), IDCG = 1.
        let n = ndcg_at_k(&ranked, &[3], 100).unwrap();
        assert!(close(n, 1.0 / 3f64.log2()), "{n}");
    }

    #[test]
    fn ndcg_by_hand() {
        // Ranked 5, 2, 7, 1; held out {1, 2, 9}. Hits at ranks 1 and 3 (0-based).
        // DCG = 1/log2(3) + 1/log2(5); IDCG over min(K, 3) = 3 ranks.
        let ranked = [5, 2, 7, 1];
        let held = [1, 2, 9];
        let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(ndcg_at_k(&ranked, &held, 100).unwrap(), dcg / idcg));
        // K = 2: only rank 1 counts, IDCG over min(2, 3) = 2 ranks.
        let want = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!(close(ndcg_at_k(&ranked, &held, 2).unwrap(), want));
        // A perfect ranking scores 1.
        assert!(close(ndcg_at_k(&[1, 2, 9, 4], &held, 3).unwrap(), 1.0));
    }

    #[test]
    fn recall_is_normalised_by_min_k_and_heldout() {
        let ranked = [5, 2, 7, 1];
        // 2 hits of 3 held out in the top 4: 2 / min(4, 3).
        assert!(close(recall_at_k(&ranked, &[1, 2, 9], 4).unwrap(), 2.0 / 3.0));
        // Fewer than K held out: K = 20 with 2 held out, both found → 1.
        assert!(close(recall_at_k(&ranked, &[1, 2], 20).unwrap(), 1.0));
        // More held out than K: 1 hit in the top 2 of 3 held out → 1 / 2.
        assert!(close(recall_at_k(&ranked, &[1, 2, 9], 2).unwrap(), 0.5));
    }

    #[test]
    fn users_without_heldout_items_are_excluded() {
        assert_eq!(ndcg_at_k(&[1, 2], &[], 100), None);
        assert_eq!(recall_at_k(&[1, 2], &[], 20), None);
        let mut acc = MetricsAccumulator::default();
        acc.add(&[1, 2], &[]);
        acc.add(&[1, 2], &[1]);
        acc.add(&[1, 2], &[3]);
        let m = acc.finish();
        assert_eq!(m.users, 2);
        assert!(close(m.ndcg_100, 0.5));
        assert!(close(m.recall_20, 0.5));
    }
}
