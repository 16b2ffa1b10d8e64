//! Decimal text to `f32`, with a fast path for the short decimals data files are made of.
//!
//! A decimal with at most 7 significant digits (`m < 2^24`) and a power of ten within ±10
//! has both `m` and `10^|e|` exact in `f32`, so one multiplication or division rounds the
//! exact value once: the correctly rounded result, bit for bit what `str::parse::<f32>`
//! gives (Clinger's fast path). Everything else goes to `str::parse`.

/// Powers of ten exact in `f32` (5^10 < 2^24).
const POW10: [f32; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// Largest mantissa exact in `f32`.
const MAX_EXACT: u32 = 1 << 24;

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
pub(crate) fn parse_prefix(bytes: &[u8]) -> Option<(f32, usize)> {
    let (negative, mut rest) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, bytes),
    };
    let mut mantissa: u32 = 0;
    let mut exponent: i32 = 0;
    let mut digits = 0;
    let mut take_digits = |rest: &mut &[u8], after_point: bool| {
        while let Some((&b, tail)) = rest.split_first() {
            if !b.is_ascii_digit() {
                break;
            }
            mantissa = mantissa.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
            if mantissa >= MAX_EXACT {
                return None;
            }
            exponent -= i32::from(after_point);
            digits += 1;
            *rest = tail;
        }
        Some(())
    };
    take_digits(&mut rest, false)?;
    if let Some((b'.', tail)) = rest.split_first() {
        rest = tail;
        take_digits(&mut rest, true)?;
    }
    if digits == 0 {
        return None; // "", ".", "-", "inf", "nan", ...
    }
    if let Some((b'e' | b'E', tail)) = rest.split_first() {
        let (sign, mut tail) = match tail.split_first()? {
            (b'-', t) => (-1, t),
            (b'+', t) => (1, t),
            _ => (1, tail),
        };
        let mut e: i32 = 0;
        let mut any = false;
        while let Some((&b, t)) = tail.split_first() {
            if !b.is_ascii_digit() || e > 1000 {
                break;
            }
            e = e * 10 + i32::from(b - b'0');
            any = true;
            tail = t;
        }
        if !any {
            return None;
        }
        exponent += sign * e;
        rest = tail;
    }
    let m = mantissa as f32; // exact: mantissa < 2^24
    let power = *POW10.get(exponent.unsigned_abs() as usize)?;
    let value = if exponent >= 0 { m * power } else { m / power };
    Some((if negative { -value } else { value }, bytes.len() - rest.len()))
}

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
        fn agrees_with_std_on_printed_floats(bits in any::<u32>(), precision in 0usize..9) {
            let x = f32::from_bits(bits);
            same(&format!("{x}"));
            same(&format!("{x:.precision$}"));
            same(&format!("{x:e}"));
            same(&format!("{:.6e}", f64::from(x)));
        }
    }
}
