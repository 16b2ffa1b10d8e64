//! Decimal text to `f32`, with a fast path for the short decimals data files are made of.
//!
//! A decimal with at most 7 significant digits (`m < 2^24`) and a power of ten within ±10
//! has both `m` and `10^|e|` exact in `f32`, so one multiplication or division rounds the
//! exact value once: the correctly rounded result, bit for bit what `str::parse::<f32>`
//! gives (Clinger's fast path). Everything else goes to `str::parse`.

/// Powers of ten exact in `f32` (5^10 < 2^24).
const POW10: [f32; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// `10^-k` in `f64` for the exponents where a product with it rounds to the right `f32`.
const INV_POW10: [f64; 8] = [1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7];

/// Largest mantissa exact in `f32`.
const MAX_EXACT: u64 = 1 << 24;

/// Parses `text` as `str::parse::<f32>` does (same value, same errors), faster for short
/// plain decimals such as `-12.5`, `0.000731` or `3.2e-05`.
pub(crate) fn parse_f32(text: &str) -> Result<f32, std::num::ParseFloatError> {
    match parse_prefix(text.as_bytes()) {
        Some((value, len)) if len == text.len() => Ok(value),
        _ => text.parse(),
    }
}

/// The number at the start of `bytes` and its length, when it is
/// `[+-]digits[.digits][(e|E)[+-]digits]` with few digits and a small exponent: then the value
/// is what `str::parse::<f32>` gives for those bytes. `None` for anything else.
#[inline(always)]
pub(crate) fn parse_prefix(bytes: &[u8]) -> Option<(f32, usize)> {
    // Branch-free sign: data signs are random, so a branch on them mispredicts half the time.
    let first = bytes.first().copied().unwrap_or(0);
    let negative = first == b'-';
    let mut i = usize::from(negative | (first == b'+'));
    // Up to 19 digits fit a u64; more are left to `str::parse`.
    let mut mantissa: u64 = 0;
    let int_start = i;
    i = digits(bytes, i, &mut mantissa);
    let mut count = i - int_start;
    let mut exponent: i32 = 0;
    if bytes.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        i = digits(bytes, frac_start, &mut mantissa);
        let frac = i - frac_start;
        count += frac;
        exponent = -i32::try_from(frac).ok()?;
    }
    if count == 0 || count > 19 || mantissa >= MAX_EXACT {
        return None; // no digits ("", ".", "inf", ...), or too many for the fast path
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        let (sign, start) = match bytes.get(i + 1) {
            Some(b'-') => (-1, i + 2),
            Some(b'+') => (1, i + 2),
            _ => (1, i + 1),
        };
        let mut e: u64 = 0;
        i = digits(bytes, start, &mut e);
        if i == start || i - start > 3 {
            return None; // "1e", or an exponent far outside the fast path
        }
        exponent += sign * i32::try_from(e).ok()?;
    }
    let k = exponent.unsigned_abs() as usize;
    // The sign as a factor: exact, and rounding is symmetric, so signing before or after the
    // rounding step gives the same value (−0 included); no branch, no integer round trip.
    let sign = if negative { -1.0 } else { 1.0 };
    let value = match INV_POW10.get(k) {
        // m · 10^-k in f64 is within 2^-52 (relative) of the exact quotient, and for k ≤ 7 a
        // quotient m / 10^k with m < 2^24 that is not an f32 rounding midpoint lies at least
        // 2^-25 · 10^-k > 2^-49 from every one: rounding that product to f32 rounds the
        // exact value. (Faster than a division.)
        Some(&inverse) if exponent < 0 => (f64::from(mantissa as i32) * (sign * inverse)) as f32,
        _ => {
            let m = mantissa as i32 as f32 * sign as f32; // exact: mantissa < 2^24
            let power = *POW10.get(k)?;
            if exponent >= 0 {
                m * power
            } else {
                m / power
            }
        }
    };
    Some((value, i))
}

/// Accumulates the decimal digits of `bytes` from `i` into `value` (wrapping; callers bound
/// the count); returns the index after the last digit. Eight bytes at a time where the slice
/// has them (SWAR: no branch per digit), then one at a time.
#[inline(always)]
fn digits(bytes: &[u8], mut i: usize, value: &mut u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(&chunk) = bytes.get(i..).and_then(|b| b.first_chunk::<8>()) {
        // Each byte minus '0' (by xor: exactly '0'..='9' become 0..=9); a byte is a digit when
        // that is below 10 and its top bit is clear.
        let y = u64::from_le_bytes(chunk) ^ (0x30 * ONES);
        let flags = (((y & (0x7f * ONES)) + 0x76 * ONES) | y) & (0x80 * ONES);
        let n = (flags.trailing_zeros() / 8) as usize; // leading digits, 0..=8
        if n == 0 {
            return i;
        }
        // The n digits to the top bytes (zeros below are leading zeros), then pairs, quads
        // and the whole: the first byte is the most significant digit.
        let mut v = y << (8 * (8 - n));
        v = ((v & (0x0f * ONES)).wrapping_mul(10 * 256 + 1)) >> 8;
        v = ((v & 0x00ff_00ff_00ff_00ff).wrapping_mul(100 * 65_536 + 1)) >> 16;
        v = ((v & 0x0000_ffff_0000_ffff).wrapping_mul(10_000 * (1 << 32) + 1)) >> 32;
        *value = value.wrapping_mul(POW10_U64[n]).wrapping_add(v);
        i += n;
        if n < 8 {
            return i;
        }
    }
    while let Some(&b) = bytes.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    i
}

/// `10^n` for the digit counts of one SWAR step.
const POW10_U64: [u64; 9] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(text: &str) {
        let want = text.parse::<f32>();
        let got = parse_f32(text);
        match (&got, &want) {
            (Ok(g), Ok(w)) => assert_eq!(g.to_bits(), w.to_bits(), "{text:?}: {g} vs {w}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text:?}: {got:?} vs {want:?}"),
        }
    }

    #[test]
    fn agrees_with_std_on_edge_cases() {
        for text in [
            "0",
            "-0",
            "+0",
            "0.0",
            "-0.0",
            "1",
            "-1",
            "1.",
            ".5",
            "-.5",
            ".",
            "-",
            "+",
            "",
            "1e5",
            "1E5",
            "1e+5",
            "1e-5",
            "1e",
            "1e-",
            "e5",
            "16777215",
            "16777216",
            "16777217",
            "0.1",
            "0.2",
            "0.3",
            "3.4028235e38",
            "1e10",
            "1e11",
            "1e-10",
            "1e-11",
            "1e-45",
            "123456.7",
            "1234567.8",
            "0.000001234567",
            "00000001.5",
            "1.5000000",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "1.5x",
            "1..5",
            "1.5e3.2",
            "--1",
            "0x10",
            " 1",
            "1 ",
            "1e99999999999",
            "9.999999e9",
            "7e-10",
            "4.2e-5",
            "-3.2e-05",
        ] {
            same(text);
        }
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_decimals(
            sign in "[-+]?",
            int in "[0-9]{0,9}",
            frac in proptest::option::of("[0-9]{0,9}"),
            exp in proptest::option::of(-14i32..14),
        ) {
            let mut text = format!("{sign}{int}");
            if let Some(f) = frac {
                text += &format!(".{f}");
            }
            if let Some(e) = exp {
                text += &format!("e{e}");
            }
            same(&text);
        }

        #[test]
        fn eight_digits_at_a_time_match_one_at_a_time(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![b'0'..=b'9', any::<u8>()], 0..40),
            start in 0usize..8,
        ) {
            let mut want = 0u64;
            let mut end = start.min(bytes.len());
            while let Some(d) = bytes.get(end).map(|b| b.wrapping_sub(b'0')).filter(|&d| d <= 9) {
                want = want.wrapping_mul(10).wrapping_add(u64::from(d));
                end += 1;
            }
            let mut got = 0u64;
            prop_assert_eq!(digits(&bytes, start.min(bytes.len()), &mut got), end);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn agrees_with_std_on_printed_floats(bits in any::<u32>(), precision in 0usize..9) {
            let x = f32::from_bits(bits);
            same(&format!("{x}"));
            same(&format!("{x:.precision$}"));
            same(&format!("{x:e}"));
            same(&format!("{:.6e}", f64::from(x)));
        }
    }
}
/// The f64 shortcut checked against `str::parse` for every mantissa and exponent it takes
/// (117M cases, about 12 s in release: `cargo test --release -p latent-data -- --ignored`).
#[cfg(test)]
mod exhaustive {
    #[test]
    #[ignore]
    fn every_mantissa_and_negative_exponent_of_the_f64_shortcut() {
        use std::io::Write;
        let mut buf = Vec::with_capacity(32);
        let mut bad = 0u64;
        for k in 1..=7usize {
            for m in 0u64..(1 << 24) {
                buf.clear();
                write!(buf, "{m}e-{k}").unwrap();
                let text = std::str::from_utf8(&buf).unwrap();
                let want: f32 = text.parse().unwrap();
                let got = (m as f64 * super::INV_POW10[k]) as f32;
                if got.to_bits() != want.to_bits() {
                    bad += 1;
                    if bad < 5 {
                        eprintln!("{text}");
                    }
                }
            }
        }
        assert_eq!(bad, 0);
    }
}
