//! Time columns: ISO-8601 timestamps (`2014-04-01 00:00:00`, `2014-04-01T00:00:00Z`,
//! `2014-04-01`, with optional fractional seconds) or epoch seconds, as whole microseconds
//! since 1970-01-01 UTC, and the check that a series is strictly in time order.

use crate::{Error, Result};

/// Microseconds per second.
const MICROS: i64 = 1_000_000;

/// Parses one timestamp: ISO-8601 (date, optional `T` or space, time, optional fraction and
/// `Z`) or a number of seconds since the Unix epoch. Returns microseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.len() >= 10 && t.as_bytes()[4] == b'-' {
        return parse_iso(t);
    }
    let secs: f64 = t.parse().ok()?;
    if !secs.is_finite() || secs.abs() > 1e13 {
        return None;
    }
    Some((secs * MICROS as f64).round() as i64)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z]`.
fn parse_iso(t: &str) -> Option<i64> {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut d = date.split('-');
    let year: i64 = number(d.next()?, 4)?;
    let month: i64 = number(d.next()?, 2)?;
    let day: i64 = number(d.next()?, 2)?;
    if d.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return None;
    }
    let mut micros = days_from_civil(year, month, day) * 86_400 * MICROS;
    if let Some(time) = time {
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut p = hms.split(':');
        let h: i64 = number(p.next()?, 2)?;
        let m: i64 = number(p.next()?, 2)?;
        let s: i64 = match p.next() {
            Some(s) => number(s, 2)?,
            None => 0,
        };
        if p.next().is_some() || h > 23 || m > 59 || s > 60 {
            return None;
        }
        micros += (h * 3600 + m * 60 + s) * MICROS;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits: String = f.chars().chain("000000".chars()).take(6).collect();
            micros += digits.parse::<i64>().ok()?;
        }
    }
    Some(micros)
}

/// A field of exactly `len` ASCII digits.
fn number(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, March-based years
/// so that the leap day is the last day of the year).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Parses a whole time column and checks that it is strictly increasing. `first_line` is the
/// file line of `texts[0]` (2 for a CSV with a header), so errors name the line.
pub fn parse_time_column(column: &str, texts: &[String], first_line: usize) -> Result<Vec<i64>> {
    let mut out = Vec::with_capacity(texts.len());
    for (i, t) in texts.iter().enumerate() {
        let line = first_line + i;
        let v = parse_timestamp(t).ok_or_else(|| {
            Error::Data(format!(
                "line {line}: column {column}: {t:?} is not a timestamp (expected ISO-8601 \
                 such as 2014-04-01 00:00:00, or epoch seconds)"
            ))
        })?;
        if let Some(&prev) = out.last() {
            check_order(column, prev, v, line)?;
        }
        out.push(v);
    }
    Ok(out)
}

/// The error for a timestamp `next` on `line` that does not come strictly after `prev`.
pub fn check_order(column: &str, prev: i64, next: i64, line: usize) -> Result<()> {
    if next > prev {
        return Ok(());
    }
    let what = if next == prev { "duplicate timestamp" } else { "timestamp out of order" };
    Err(Error::Data(format!(
        "line {line}: column {column}: {what} (the series must be strictly increasing in time; \
         sort it and drop duplicates first)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_epoch_agree() {
        let a = parse_timestamp("2014-04-01 00:00:00").unwrap();
        assert_eq!(a, 1_396_310_400 * MICROS);
        assert_eq!(parse_timestamp("2014-04-01T00:00:00Z"), Some(a));
        assert_eq!(parse_timestamp("2014-04-01"), Some(a));
        assert_eq!(parse_timestamp("1396310400"), Some(a));
        assert_eq!(
            parse_timestamp("2014-04-10 07:15:00.000000"),
            Some(a + (9 * 86400 + 26100) * MICROS)
        );
        assert_eq!(
            parse_timestamp("2000-02-29 23:59:59.5"),
            Some((951_868_799 * MICROS) + 500_000)
        );
        assert_eq!(parse_timestamp("1969-12-31 23:59:59"), Some(-MICROS));
    }

    #[test]
    fn rejects_bad_timestamps() {
        for bad in ["", "abc", "2014-13-01", "2014-02-30", "2014-04-01 25:00:00", "2014-4-1", "nan"]
        {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn order_errors_name_the_line() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let e = parse_time_column("ts", &t(&["1", "2", "2"]), 2).unwrap_err().to_string();
        assert!(e.contains("line 4") && e.contains("duplicate"), "{e}");
        let e = parse_time_column("ts", &t(&["1", "3", "2"]), 2).unwrap_err().to_string();
        assert!(e.contains("line 4") && e.contains("out of order"), "{e}");
        let e = parse_time_column("ts", &t(&["1", "x"]), 2).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("not a timestamp"), "{e}");
    }
}
