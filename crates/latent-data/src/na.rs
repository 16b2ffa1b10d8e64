//! Missing-value markers: the cell texts that mean "no value" in files as they come (pandas,
//! R, SQL exports, UCI's `?`). An empty cell is always missing; `--na-values` adds more.

/// The markers read as missing besides an empty cell (after trimming spaces), as pandas reads
/// them by default, plus UCI's `?`.
pub const DEFAULT_NA_VALUES: [&str; 14] = [
    "NA", "N/A", "n/a", "NaN", "nan", "-nan", "NAN", "null", "NULL", "Null", "None", "none", "?",
    "#N/A",
];

/// The set of missing-value markers of one read.
#[derive(Debug, Clone, PartialEq)]
pub struct NaValues {
    extra: Vec<String>,
    /// The extra markers that read as numbers (`-999`): parsers that read numbers before
    /// looking at text check these.
    numeric: Vec<f32>,
}

impl Default for NaValues {
    fn default() -> Self {
        NaValues::new(&[])
    }
}

impl NaValues {
    /// The default markers plus `extra`.
    pub fn new(extra: &[String]) -> NaValues {
        let extra: Vec<String> = extra.iter().map(|s| s.trim().to_string()).collect();
        let numeric = extra.iter().filter_map(|s| s.parse::<f32>().ok()).collect();
        NaValues { extra, numeric }
    }

    /// Whether a cell's (trimmed) text means a missing value.
    #[inline]
    pub fn is_missing(&self, trimmed: &str) -> bool {
        trimmed.is_empty()
            || DEFAULT_NA_VALUES.contains(&trimmed)
            || self.extra.iter().any(|m| m == trimmed)
    }
}

impl NaValues {
    /// Whether a value already read as a number is a missing-value marker (`-999`).
    #[inline]
    pub fn is_missing_number(&self, x: f32) -> bool {
        !self.numeric.is_empty() && self.numeric.contains(&x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let na = NaValues::new(&["-999".to_string()]);
        for m in ["", "NA", "N/A", "NaN", "nan", "null", "None", "?", "-999"] {
            assert!(na.is_missing(m), "{m}");
        }
        for v in ["0", "1.5", "NAN?", "none at all", "-9990"] {
            assert!(!na.is_missing(v), "{v}");
        }
    }
}
