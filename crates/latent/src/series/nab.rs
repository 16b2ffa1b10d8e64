//! The Numenta Anomaly Benchmark's scorer (NAB v1.1 rules), written from its description and
//! checked against NAB's published scores of its own detectors.
//!
//! * Each labelled anomaly is a **window** of points. A detection (a point whose score is at or
//!   above the threshold) inside a window earns the scaled sigmoid of its position,
//!   `σ(p) = 2 / (1 + e^{5p}) − 1` with `p = −(end − i + 1) / width` (so the first point of
//!   the window earns almost the full `tp_weight`, the last one little), normalised by
//!   `σ(−1)`; only the best (earliest) detection of a window counts. A window without a
//!   detection costs `fn_weight`.
//! * A detection outside every window costs `fp_weight · σ(p)` (negative): `−fp_weight`
//!   before the first window, and after a window `p = (i − end) / (width − 1)`, so a detection
//!   just after a window costs little and one far after it the full weight (`σ = −1` for
//!   `p > 3`).
//! * The first `min(⌊0.15 n⌋, 750)` points of each series (the probationary period) are not
//!   scored.
//! * One threshold for the whole corpus: the one that maximises the summed score (every
//!   distinct score value is tried). The final score is `100 (S − S_null) / (S_perfect −
//!   S_null)`, with the null detector (a constant score) and the perfect one (`tp_weight` for
//!   every labelled window).

use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// A NAB application profile: the weights of true positives, false positives and false
/// negatives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// The profile's key in reports (`standard`, `reward_low_fp`, `reward_low_fn`).
    pub name: &'static str,
    /// Weight of a detected window.
    pub tp_weight: f64,
    /// Weight of a false detection.
    pub fp_weight: f64,
    /// Weight of a missed window.
    pub fn_weight: f64,
}

/// NAB's three profiles, with the weights of its `config/profiles.json`.
pub const PROFILES: [Profile; 3] = [
    Profile { name: "standard", tp_weight: 1.0, fp_weight: 0.11, fn_weight: 1.0 },
    Profile { name: "reward_low_fp", tp_weight: 1.0, fp_weight: 0.22, fn_weight: 1.0 },
    Profile { name: "reward_low_fn", tp_weight: 1.0, fp_weight: 0.11, fn_weight: 2.0 },
];

/// One scored series: its anomaly windows (first and last point index, inclusive, in time
/// order, not overlapping) and one anomaly score per point.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredSeries {
    /// Name (the file's path relative to NAB's `data/`).
    pub name: String,
    /// Anomaly windows as inclusive point ranges.
    pub windows: Vec<(usize, usize)>,
    /// One score per point; higher is more anomalous.
    pub scores: Vec<f64>,
}

/// The result of one profile over a corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileScore {
    /// The profile.
    pub profile: Profile,
    /// The threshold that maximises the corpus score (`+∞`: no detection at all).
    pub threshold: f64,
    /// The corpus score at that threshold.
    pub raw: f64,
    /// The null detector's corpus score.
    pub null: f64,
    /// The perfect detector's corpus score.
    pub perfect: f64,
    /// `100 (raw − null) / (perfect − null)`.
    pub normalised: f64,
    /// Each series' raw score at the threshold, in input order.
    pub per_series: Vec<f64>,
}

/// Length of NAB's probationary period of a series of `n` points: `min(⌊0.15 n⌋, 750)`.
pub fn probationary_length(n: usize) -> usize {
    (n * 15 / 100).min(750)
}

/// NAB's scaled sigmoid of a relative position (see the module docs).
pub fn scaled_sigmoid(p: f64) -> f64 {
    if p > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * p).exp()) - 1.0
    }
}

/// A scored point: its anomaly score, the reward (or cost, negative) of detecting it, and its
/// window (an index into the corpus's windows) if it lies in one.
#[derive(Clone, Copy, Debug)]
struct Point {
    score: f64,
    reward: f64,
    window: Option<usize>,
}

/// The scorable points of one series (after its probationary period); window ids start at
/// `first_window`.
fn points(s: &ScoredSeries, profile: &Profile, first_window: usize) -> Vec<Point> {
    let n = s.scores.len();
    let max_tp = scaled_sigmoid(-1.0);
    let mut out = Vec::with_capacity(n);
    let mut next = 0; // next window not yet passed
    let mut prev: Option<(usize, usize)> = None; // (end, width) of the last window passed
    for (i, &score) in s.scores.iter().enumerate() {
        let current = s.windows.get(next).filter(|w| w.0 <= i && i <= w.1);
        let (reward, window) = match current {
            Some(&(start, end)) => {
                let width = (end - start + 1) as f64;
                let p = -((end - i + 1) as f64) / width;
                (scaled_sigmoid(p) * profile.tp_weight / max_tp, Some(first_window + next))
            }
            None => {
                let sig = match prev {
                    Some((end, width)) if width > 1 => {
                        scaled_sigmoid((i - end) as f64 / (width - 1) as f64)
                    }
                    _ => -1.0,
                };
                (sig * profile.fp_weight, None)
            }
        };
        if i >= probationary_length(n) {
            out.push(Point { score, reward, window });
        }
        if let Some(&(start, end)) = current {
            if i == end {
                prev = Some((end, end - start + 1));
                next += 1;
            }
        }
    }
    out
}

/// Total score of points with a score at or above each distinct threshold, best first.
/// Returns `(threshold, total)` of the best (the highest threshold among ties).
fn sweep(mut pts: Vec<Point>, windows: usize, profile: &Profile) -> (f64, f64) {
    pts.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut best_window = vec![-profile.fn_weight; windows];
    let mut scored = vec![false; windows];
    for p in &pts {
        if let Some(w) = p.window {
            scored[w] = true;
        }
    }
    let missed = scored.iter().filter(|&&s| s).count() as f64;
    let mut fp = 0.0;
    let mut tp = 0.0; // sum over scorable windows of best_window
    let mut best = (f64::INFINITY, -profile.fn_weight * missed);
    tp -= profile.fn_weight * missed;
    let mut i = 0;
    while i < pts.len() {
        let t = pts[i].score;
        while i < pts.len() && pts[i].score == t {
            let p = pts[i];
            match p.window {
                None => fp += p.reward,
                Some(w) if p.reward > best_window[w] => {
                    tp += p.reward - best_window[w];
                    best_window[w] = p.reward;
                }
                Some(_) => {}
            }
            i += 1;
        }
        if tp + fp > best.1 {
            best = (t, tp + fp);
        }
    }
    best
}

/// Raw score of one series with detections at scores `>= threshold` (NAB's per-file score).
pub fn series_score(s: &ScoredSeries, profile: &Profile, threshold: f64) -> f64 {
    let mut best = vec![None::<f64>; s.windows.len()];
    let mut scorable = vec![false; s.windows.len()];
    let mut fp = 0.0;
    for p in points(s, profile, 0) {
        if let Some(w) = p.window {
            scorable[w] = true;
        }
        if p.score >= threshold {
            match p.window {
                None => fp += p.reward,
                Some(w) => best[w] = Some(best[w].map_or(p.reward, |b: f64| b.max(p.reward))),
            }
        }
    }
    let windows: f64 = best
        .iter()
        .zip(&scorable)
        .filter(|(_, &s)| s)
        .map(|(b, _)| b.unwrap_or(-profile.fn_weight))
        .sum();
    fp + windows
}

/// Scores a corpus under one profile: the best threshold over all series, the raw and
/// normalised scores, and each series' part.
pub fn score_corpus(corpus: &[ScoredSeries], profile: &Profile) -> ProfileScore {
    let run = |scores: &dyn Fn(&ScoredSeries) -> Vec<f64>| {
        let mut pts = Vec::new();
        let mut windows = 0;
        for s in corpus {
            let s2 = ScoredSeries { scores: scores(s), ..s.clone() };
            pts.extend(points(&s2, profile, windows));
            windows += s.windows.len();
        }
        sweep(pts, windows, profile)
    };
    let (threshold, raw) = run(&|s| s.scores.clone());
    let (_, null) = run(&|s| vec![0.5; s.scores.len()]);
    let perfect = profile.tp_weight * corpus.iter().map(|s| s.windows.len()).sum::<usize>() as f64;
    let normalised = 100.0 * (raw - null) / (perfect - null);
    let per_series = corpus.iter().map(|s| series_score(s, profile, threshold)).collect();
    ProfileScore { profile: *profile, threshold, raw, null, perfect, normalised, per_series }
}

/// NAB's labels file (`labels/combined_windows.json`): series name → windows as pairs of
/// timestamps (microseconds since the epoch, see [`super::time`]).
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<(i64, i64)>>> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let raw: BTreeMap<String, Vec<(String, String)>> = serde_json::from_str(&text)
        .map_err(|e| Error::Data(format!("{}: not a NAB windows file: {e}", path.display())))?;
    let parse = |t: &str| {
        super::time::parse_timestamp(t)
            .ok_or_else(|| Error::Data(format!("{}: {t:?} is not a timestamp", path.display())))
    };
    raw.into_iter()
        .map(|(name, ws)| {
            let ws = ws.iter().map(|(a, b)| Ok((parse(a)?, parse(b)?))).collect::<Result<_>>()?;
            Ok((name, ws))
        })
        .collect()
}

/// Turns windows given as timestamps into point ranges of a series with timestamps `times`.
/// Both limits must be timestamps of the series; as in NAB, a repeated timestamp (NAB's files
/// have a few, at daylight-saving changes) stands for its first row.
pub fn window_indices(times: &[i64], windows: &[(i64, i64)]) -> Result<Vec<(usize, usize)>> {
    let find = |t: i64| {
        times.iter().position(|&x| x == t).ok_or_else(|| {
            Error::Data(format!("a window limit ({t} µs) is not a timestamp of the series"))
        })
    };
    windows.iter().map(|&(a, b)| Ok((find(a)?, find(b)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, windows: Vec<(usize, usize)>, hits: &[usize]) -> ScoredSeries {
        let mut scores = vec![0.0; n];
        for &h in hits {
            scores[h] = 1.0;
        }
        ScoredSeries { name: "s".into(), windows, scores }
    }

    #[test]
    fn sigmoid_values() {
        assert!((scaled_sigmoid(-1.0) - 0.98661).abs() < 1e-5);
        assert!((scaled_sigmoid(-0.5) - 0.84828).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
    }

    #[test]
    fn hand_checked_series() {
        // 100 points: probation 15, one window 40..=49 (width 10).
        let p = &PROFILES[0];
        let first = series(100, vec![(40, 49)], &[40]);
        assert!((series_score(&first, p, 0.5) - 1.0).abs() < 1e-12);
        // The last point of the window: -(1)/10.
        let last = series(100, vec![(40, 49)], &[49]);
        let want = scaled_sigmoid(-0.1) / scaled_sigmoid(-1.0);
        assert!((series_score(&last, p, 0.5) - want).abs() < 1e-12);
        // Missed window and a false positive before any window.
        let fp = series(100, vec![(40, 49)], &[20]);
        assert!((series_score(&fp, p, 0.5) - (-1.0 - 0.11)).abs() < 1e-12);
        // A false positive 9 points after the window end: p = 9 / 9 = 1.
        let after = series(100, vec![(40, 49)], &[40, 58]);
        let want = 1.0 + 0.11 * scaled_sigmoid(1.0);
        assert!((series_score(&after, p, 0.5) - want).abs() < 1e-12);
        // Probationary detections do not count.
        let early = series(100, vec![(40, 49)], &[3]);
        assert!((series_score(&early, p, 0.5) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn corpus_threshold_and_normalisation() {
        let p = &PROFILES[0];
        let perfect = series(100, vec![(40, 49)], &[40]);
        let r = score_corpus(&[perfect], p);
        assert_eq!(r.threshold, 1.0);
        assert!((r.normalised - 100.0).abs() < 1e-9);
        let null = score_corpus(&[series(100, vec![(40, 49)], &[])], p);
        assert!(null.normalised.abs() < 1e-9);
        assert_eq!(null.threshold, f64::INFINITY);
    }
}
