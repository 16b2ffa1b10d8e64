//! Sliding windows over a series and the per-timestamp aggregation of window scores.
//!
//! A series of `n` points with `c` channels is stored row-major (`n × c`). Window `k` (with
//! stride `s`) covers points `k·s .. k·s + w` and is flattened point by point (channels
//! inner), so a window is one row of `w · c` model inputs.
//!
//! * **Causal** (the default): a point's score is the score of the window that ends at it.
//!   It uses only the point and the `w − 1` before it, so appending later points never changes
//!   it, and a live stream gets the same number as a batch. The first `w − 1` points have no
//!   score. Scoring always uses stride 1 (the training stride only thins the training rows).
//! * **Centred** (offline): a point's score is the mean score of every window that covers it,
//!   which locates an anomaly better but needs the `w − 1` points after it.

use crate::{Error, Result};

/// Number of windows of length `window` with `stride` over `n` points.
pub fn window_count(n: usize, window: usize, stride: usize) -> usize {
    if window == 0 || stride == 0 || n < window {
        0
    } else {
        (n - window) / stride + 1
    }
}

/// The flattened windows (`window_count × window · channels`, row-major) of a row-major
/// series. Errors when the series is shorter than one window.
pub fn windows(values: &[f32], channels: usize, window: usize, stride: usize) -> Result<Vec<f32>> {
    if window == 0 || stride == 0 || channels == 0 {
        return Err(Error::Config("window, stride and channel count must be at least 1".into()));
    }
    let n = values.len() / channels;
    if n < window {
        return Err(Error::Data(format!(
            "the series has {n} points, fewer than one window of {window}"
        )));
    }
    let count = window_count(n, window, stride);
    let width = window * channels;
    let mut out = Vec::with_capacity(count * width);
    for k in 0..count {
        let start = k * stride * channels;
        out.extend_from_slice(&values[start..start + width]);
    }
    Ok(out)
}

/// Causal per-point scores from the scores of the stride-1 windows of a series of
/// `window_scores.len() + window − 1` points: `None` for the first `window − 1` points, then
/// the score of the window ending at each point.
pub fn causal_scores(window_scores: &[f32], window: usize) -> Vec<Option<f32>> {
    let lead = window.saturating_sub(1);
    std::iter::repeat_n(None, if window_scores.is_empty() { 0 } else { lead })
        .chain(window_scores.iter().map(|&s| Some(s)))
        .collect()
}

/// Centred per-point scores of a series of `n` points: the mean score of the stride-1 windows
/// covering each point (window `k` covers points `k .. k + window`).
pub fn centered_scores(window_scores: &[f32], window: usize, n: usize) -> Vec<f32> {
    // Prefix sums over windows: point t is covered by windows max(0, t-w+1) ..= min(t, last).
    let mut prefix = Vec::with_capacity(window_scores.len() + 1);
    prefix.push(0.0f64);
    for &s in window_scores {
        prefix.push(prefix[prefix.len() - 1] + f64::from(s));
    }
    let last = window_scores.len();
    (0..n)
        .map(|t| {
            let lo = (t + 1).saturating_sub(window);
            let hi = (t + 1).min(last);
            if hi <= lo {
                return 0.0;
            }
            ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_by_hand() {
        // 5 points, 2 channels: (0,10) (1,11) (2,12) (3,13) (4,14).
        let v: Vec<f32> = (0..5).flat_map(|i| [i as f32, 10.0 + i as f32]).collect();
        let w = windows(&v, 2, 3, 1).unwrap();
        assert_eq!(w.len(), 3 * 6);
        assert_eq!(&w[..6], &[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(&w[12..], &[2.0, 12.0, 3.0, 13.0, 4.0, 14.0]);
        let s2 = windows(&v, 2, 3, 2).unwrap();
        assert_eq!(s2.len(), 2 * 6);
        assert_eq!(&s2[6..], &[2.0, 12.0, 3.0, 13.0, 4.0, 14.0]);
        assert_eq!(window_count(5, 3, 2), 2);
        assert_eq!(window_count(5, 6, 1), 0);
        let e = windows(&v, 2, 6, 1).unwrap_err().to_string();
        assert!(e.contains("5 points") && e.contains("window of 6"), "{e}");
    }

    #[test]
    fn causal_and_centred_by_hand() {
        let ws = [1.0, 2.0, 3.0]; // 5 points, window 3
        assert_eq!(causal_scores(&ws, 3), vec![None, None, Some(1.0), Some(2.0), Some(3.0)]);
        // Point 0: window 0; 1: 0,1; 2: 0,1,2; 3: 1,2; 4: 2.
        assert_eq!(centered_scores(&ws, 3, 5), vec![1.0, 1.5, 2.0, 2.5, 3.0]);
    }
}
