//! Detection metrics: ROC-AUC, PR-AUC (average precision), and precision / recall / F1 of
//! hard decisions. Higher scores mean "more anomalous"; labels are `true` for anomalies.
//!
//! Ties are handled exactly: ROC-AUC counts a tied (anomaly, normal) pair as one half (the
//! Mann–Whitney statistic with mid-ranks), and average precision treats all rows sharing one
//! score as one threshold step, as scikit-learn's `roc_auc_score` and
//! `average_precision_score` do.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve: the probability that a random anomaly scores above a random
/// normal row (ties count one half). `None` unless both classes are present, or when the
/// lengths differ.
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() {
        return None;
    }
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let order = sorted_order(scores, false);
    // Sum of the mid-ranks (1-based, ascending) of the positives.
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        let p = order[i..=j].iter().filter(|&&r| labels[r]).count();
        rank_sum += mid * p as f64;
        i = j + 1;
    }
    let (pos, neg) = (pos as f64, neg as f64);
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Area under the precision–recall curve as average precision:
/// `Σ_n (R_n − R_{n−1}) · P_n` over the distinct score thresholds, from the highest score
/// down. `None` without anomalies, or when the lengths differ.
pub fn average_precision(scores: &[f32], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() {
        return None;
    }
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return None;
    }
    let order = sorted_order(scores, true);
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        tp += order[i..=j].iter().filter(|&&r| labels[r]).count();
        seen += j - i + 1;
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / seen as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
        i = j + 1;
    }
    Some(ap)
}

/// Counts and rates of hard decisions against labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// Anomalies flagged.
    pub true_positives: usize,
    /// Normal rows flagged.
    pub false_positives: usize,
    /// Anomalies missed.
    pub false_negatives: usize,
    /// Normal rows not flagged.
    pub true_negatives: usize,
}

impl Confusion {
    /// Counts `predicted` against `labels` (pairs beyond the shorter slice are ignored).
    pub fn new(predicted: &[bool], labels: &[bool]) -> Confusion {
        let mut c = Confusion::default();
        for (&p, &l) in predicted.iter().zip(labels) {
            match (p, l) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, true) => c.false_negatives += 1,
                (false, false) => c.true_negatives += 1,
            }
        }
        c
    }

    /// TP / (TP + FP); 0 when nothing is flagged.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// TP / (TP + FN); 0 without anomalies.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Row indices by score (NaN sorts as the largest value).
fn sorted_order(scores: &[f32], descending: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let key = |v: f32| if v.is_nan() { f32::INFINITY } else { v };
    order.sort_by(|&a, &b| {
        let c = key(scores[a]).total_cmp(&key(scores[b]));
        if descending {
            c.reverse()
        } else {
            c
        }
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn roc_auc_known_values() {
        // Perfect, reversed, and scikit-learn's documented example (0.75).
        assert!(close(roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0));
        assert!(close(roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), 0.0));
        assert!(close(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), 0.75));
        // All tied: 0.5. One tie between classes counts one half.
        assert!(close(roc_auc(&[1.0; 4], &[false, true, false, true]), 0.5));
        assert!(close(roc_auc(&[0.1, 0.5, 0.5, 0.9], &[false, false, true, true]), 0.875));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn average_precision_known_values() {
        // scikit-learn's example: average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.8333.
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        assert!(close(ap, 5.0 / 6.0), "{ap:?}");
        // All tied: precision at the only threshold = positive share.
        assert!(close(average_precision(&[1.0; 4], &[false, true, false, false]), 0.25));
        // A tie between the top anomaly and a normal row: one step with precision 1/2.
        let ap = average_precision(&[0.9, 0.9, 0.1], &[true, false, false]);
        assert!(close(ap, 0.5));
        assert!(close(average_precision(&[0.9, 0.1], &[true, false]), 1.0));
        assert_eq!(average_precision(&[0.9, 0.1], &[false, false]), None);
    }

    #[test]
    fn confusion_rates() {
        let c = Confusion::new(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((c.true_positives, c.false_positives, c.false_negatives), (1, 1, 1));
        assert!((c.precision() - 0.5).abs() < 1e-12);
        assert!((c.recall() - 0.5).abs() < 1e-12);
        assert!((c.f1() - 0.5).abs() < 1e-12);
        assert_eq!(Confusion::new(&[false], &[false]).f1(), 0.0);
    }
}
