//! Anomaly labels: which rows of a labelled file are anomalies. One rule for every command that
//! reads labels (evaluation, the report, the benchmark), decided here once.
//!
//! Without an explicit rule, a label column is understood only when its meaning is plain:
//! every value is a known normal word (`0`, `false`, `no`, `normal`, `inlier`, …) or a known
//! anomaly word (`1`, `true`, `yes`, `anomaly`, `outlier`, `fraud`, `attack`, …), or one of the
//! values is `normal` / `normal.` and every other value is a kind of anomaly (KDD Cup's attack
//! names). Anything else (`M`/`B`, `spam`/`ham`, digit classes) is refused with the values
//! listed: guessing the anomalous class from counts shows users inverted metrics.

use crate::error::{Error, Result};
use std::collections::HashMap;

/// How label values map to "anomaly".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelRule {
    /// Plain 0/1-style or normal/other labels only (see the module documentation).
    #[default]
    Plain,
    /// These values are anomalies, every other value normal.
    Anomalous(Vec<String>),
    /// These values are normal, every other value an anomaly.
    Normal(Vec<String>),
}

impl LabelRule {
    /// The rule from an explicit anomalous class list and an explicit normal list (at most one
    /// of them non-empty).
    pub fn from_lists(anomalous: &[String], normal: &[String]) -> Result<LabelRule> {
        match (anomalous.is_empty(), normal.is_empty()) {
            (true, true) => Ok(LabelRule::Plain),
            (false, true) => Ok(LabelRule::Anomalous(anomalous.to_vec())),
            (true, false) => Ok(LabelRule::Normal(normal.to_vec())),
            (false, false) => Err(Error::Labels(
                "name either the anomalous label values or the normal ones, not both".into(),
            )),
        }
    }
}

const NORMAL_WORDS: [&str; 8] =
    ["0", "false", "no", "normal", "normal.", "negative", "inlier", "benign"];
const ANOMALY_WORDS: [&str; 12] = [
    "1",
    "true",
    "yes",
    "anomaly",
    "anomalous",
    "outlier",
    "abnormal",
    "fraud",
    "attack",
    "positive",
    "malicious",
    "-1",
];

/// True when two label texts name the same value: equal after trimming, or equal as numbers
/// (`1` and `1.0`).
fn same_label(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// The canonical word of a label text: lower case, and numbers written as `0`, `1`, `-1`.
fn word(text: &str) -> String {
    let t = text.trim();
    let number = t.parse::<f64>().ok();
    [(0.0, "0"), (1.0, "1"), (-1.0, "-1")]
        .iter()
        .find(|(x, _)| number == Some(*x))
        .map_or_else(|| t.to_lowercase(), |(_, w)| (*w).to_string())
}

/// Distinct label values seen so far, each with an id and a count: labels are collected as
/// small ids while a file streams past and resolved to anomaly flags once, at the end, when
/// every value is known.
#[derive(Clone, Debug, Default)]
pub struct LabelSet {
    ids: HashMap<String, u32>,
    values: Vec<String>,
    counts: Vec<usize>,
}

impl LabelSet {
    /// An empty set.
    pub fn new() -> LabelSet {
        LabelSet::default()
    }

    /// Records one row's label and returns its id.
    pub fn push(&mut self, text: &str) -> u32 {
        let text = text.trim();
        let id = match self.ids.get(text) {
            Some(&id) => id,
            None => {
                let id = self.values.len() as u32;
                self.ids.insert(text.to_string(), id);
                self.values.push(text.to_string());
                self.counts.push(0);
                id
            }
        };
        self.counts[id as usize] += 1;
        id
    }

    /// The distinct values with their row counts, most frequent first.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> =
            self.values.iter().map(String::as_str).zip(self.counts.iter().copied()).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }

    /// Whether each value id is an anomaly under `rule`; an error when the rule cannot be
    /// applied (plain rule on labels whose meaning is not plain, or a named value that no row
    /// has).
    pub fn resolve(&self, rule: &LabelRule) -> Result<Vec<bool>> {
        let named_absent = |names: &[String]| {
            names
                .iter()
                .find(|n| !self.values.iter().any(|v| same_label(v, n)))
                .map(|n| Error::Labels(format!("no row has the label \"{n}\"; {}", self.listing())))
        };
        match rule {
            LabelRule::Anomalous(names) => match named_absent(names) {
                Some(e) => Err(e),
                None => {
                    Ok(self.values.iter().map(|v| names.iter().any(|n| same_label(v, n))).collect())
                }
            },
            LabelRule::Normal(names) => match named_absent(names) {
                Some(e) => Err(e),
                None => Ok(self
                    .values
                    .iter()
                    .map(|v| !names.iter().any(|n| same_label(v, n)))
                    .collect()),
            },
            LabelRule::Plain => self.resolve_plain(),
        }
    }

    fn resolve_plain(&self) -> Result<Vec<bool>> {
        let words: Vec<String> = self.values.iter().map(|v| word(v)).collect();
        if words
            .iter()
            .all(|w| NORMAL_WORDS.contains(&w.as_str()) || ANOMALY_WORDS.contains(&w.as_str()))
        {
            // `-1` is an anomaly beside 1 only in scikit-learn's +1/-1 convention, where +1 is
            // normal: refuse the mixture rather than guess.
            if words.iter().any(|w| w == "-1") {
                return Err(self.unclear());
            }
            return Ok(words.iter().map(|w| ANOMALY_WORDS.contains(&w.as_str())).collect());
        }
        if words.iter().any(|w| w == "normal" || w == "normal.") {
            return Ok(words.iter().map(|w| w != "normal" && w != "normal.").collect());
        }
        Err(self.unclear())
    }

    fn unclear(&self) -> Error {
        Error::Labels(format!(
            "the labels are not 0/1 or normal/other, so which rows are anomalies is unclear; {}",
            self.listing()
        ))
    }

    /// `values: M (212), B (357)`, the ten most frequent.
    fn listing(&self) -> String {
        let counts = self.counts();
        let mut text: Vec<String> =
            counts.iter().take(10).map(|(v, n)| format!("\"{v}\" ({n} rows)")).collect();
        if counts.len() > 10 {
            text.push(format!("and {} more", counts.len() - 10));
        }
        format!("values: {}", text.join(", "))
    }

    /// A short name of the anomalous class for reports: the anomalous values, joined.
    pub fn anomalous_name(&self, anomalous: &[bool]) -> String {
        let names: Vec<&str> = self
            .values
            .iter()
            .zip(anomalous)
            .filter(|(_, &a)| a)
            .map(|(v, _)| v.as_str())
            .collect();
        match names.len() {
            0 => "(none)".into(),
            1..=3 => names.join(", "),
            n => format!("{} and {} more", names[..3].join(", "), n - 3),
        }
    }
}

/// Anomaly flags of a whole label column under `rule`, with the anomalous class's name
/// ([`LabelSet::anomalous_name`]).
pub fn anomaly_flags<S: AsRef<str>>(labels: &[S], rule: &LabelRule) -> Result<(Vec<bool>, String)> {
    let mut set = LabelSet::new();
    let ids: Vec<u32> = labels.iter().map(|l| set.push(l.as_ref())).collect();
    let per_value = set.resolve(rule)?;
    let flags = ids.iter().map(|&i| per_value[i as usize]).collect();
    Ok((flags, set.anomalous_name(&per_value)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn flags(labels: &[&str], rule: &LabelRule) -> Result<Vec<bool>> {
        anomaly_flags(labels, rule).map(|(flags, _)| flags)
    }

    #[test]
    fn plain_labels_are_understood() {
        let plain = LabelRule::Plain;
        assert_eq!(flags(&["0", "1", "0.0", "1.0"], &plain).unwrap(), [false, true, false, true]);
        assert_eq!(flags(&["normal.", "smurf.", "neptune."], &plain).unwrap(), [false, true, true]);
        assert_eq!(flags(&["False", "TRUE"], &plain).unwrap(), [false, true]);
        assert_eq!(flags(&["normal", "outlier"], &plain).unwrap(), [false, true]);
        assert_eq!(flags(&["0", "0"], &plain).unwrap(), [false, false]);
    }

    #[test]
    fn unclear_labels_are_refused_with_their_values() {
        let e = flags(&["M", "B", "B"], &LabelRule::Plain).unwrap_err().to_string();
        assert!(e.contains("\"B\" (2 rows)") && e.contains("\"M\" (1 rows)"), "{e}");
        assert!(flags(&["1", "-1"], &LabelRule::Plain).is_err());
        assert!(flags(&["0", "1", "2"], &LabelRule::Plain).is_err());
    }

    #[test]
    fn explicit_rules() {
        let m = LabelRule::Anomalous(vec!["M".into()]);
        assert_eq!(flags(&["M", "B", "B"], &m).unwrap(), [true, false, false]);
        let b = LabelRule::Normal(vec!["B".into()]);
        assert_eq!(flags(&["M", "B", "X"], &b).unwrap(), [true, false, true]);
        let one = LabelRule::Anomalous(vec!["1".into()]);
        assert_eq!(flags(&["1.0", "2"], &one).unwrap(), [true, false]);
        let e = flags(&["M", "B"], &LabelRule::Anomalous(vec!["Z".into()])).unwrap_err();
        assert!(e.to_string().contains("no row has the label \"Z\""), "{e}");
        assert!(LabelRule::from_lists(&["a".into()], &["b".into()]).is_err());
    }

    #[test]
    fn anomalous_name_lists_the_class() {
        let mut s = LabelSet::new();
        for v in ["normal.", "smurf.", "neptune."] {
            s.push(v);
        }
        let a = s.resolve(&LabelRule::Plain).unwrap();
        assert_eq!(s.anomalous_name(&a), "smurf., neptune.");
    }
}
