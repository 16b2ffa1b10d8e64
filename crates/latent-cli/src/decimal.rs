//! `f32` to text exactly as `Display` writes it (the shortest digits that read back to the same
//! value, in positional notation: `0.00012`, `3`, `-0`, `NaN`, `inf`), without the formatting
//! machinery: `latent score` writes millions of numbers, and `write!` spent more time in
//! `core::fmt` than in the digits. The digits come from `ryu` (shortest round trip, nearest on
//! ties, like the standard library); only their layout is ours.

/// Appends `value` to `out` as `format!("{value}")` would.
pub fn push_f32(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() || may_tie(value) {
        out.extend_from_slice(value.to_string().as_bytes());
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(value).as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // ryu writes `d.ddd`, `ddd.0`, `0.000ddd` or `d.ddde±x`: split it into digits and the
    // position of the decimal point among them.
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (&text[..e], parse_exponent(&text[e + 1..])),
        None => (text, 0),
    };
    let mut digits = [0u8; 24];
    let mut n = 0;
    let mut point = mantissa.len() as i32;
    for &b in mantissa {
        if b == b'.' {
            point = n as i32;
        } else if n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    point += exponent;
    // No leading or trailing zeros beyond what positional notation needs.
    let leading = digits[..n].iter().take_while(|&&d| d == b'0').count();
    let digits = &digits[leading..n];
    point -= leading as i32;
    let trailing = digits.iter().rev().take_while(|&&d| d == b'0').count();
    let digits = &digits[..digits.len() - trailing];
    if negative {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.push(b'0');
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        out.extend_from_slice(digits);
    } else if point as usize >= digits.len() {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
}

/// Whether two shortest decimals may lie equally near `value`, where ryu and the standard
/// library break the tie differently (ryu to even, the standard library up): only when the
/// exact decimal expansion of `value` has at most 10 significant digits, one more than the
/// longest shortest form of an `f32`. With `value = m · 2^e`, `m` odd, that expansion is
/// `m · 5^−e` (for `e < 0`), so it is short only for `e ≥ −14`; zero and integers (`e ≥ 0`)
/// are left to the standard library too.
fn may_tie(value: f32) -> bool {
    let bits = value.to_bits() & 0x7fff_ffff;
    let (mantissa, exponent) = match bits >> 23 {
        0 => (bits, -149),
        biased => ((bits & 0x7f_ffff) | 0x80_0000, biased as i32 - 150),
    };
    if mantissa == 0 {
        return true;
    }
    let exponent = exponent + mantissa.trailing_zeros() as i32;
    let odd = u64::from(mantissa >> mantissa.trailing_zeros());
    match exponent {
        e if e >= 0 => true,
        e if e < -14 => false,
        e => odd * 5u64.pow(e.unsigned_abs()) < 10_000_000_000,
    }
}

/// The exponent after ryu's `e`: an optional `-` and up to two digits.
fn parse_exponent(text: &[u8]) -> i32 {
    let (sign, digits) = match text.split_first() {
        Some((b'-', rest)) => (-1, rest),
        _ => (1, text),
    };
    sign * digits.iter().fold(0i32, |e, &d| e * 10 + i32::from(d.wrapping_sub(b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(v: f32) -> String {
        let mut out = Vec::new();
        push_f32(&mut out, v);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn matches_display_on_edge_cases() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            10.0,
            100.0,
            1e7,
            1e10,
            1e20,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            f32::EPSILON,
            1e-45,
            1e-7,
            1.2345e-5,
            123456.78,
            16777216.0,
            0.3,
            -2190146.3, // a tie: ryu rounds its last digit to even, `Display` up
            262144.12,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ] {
            assert_eq!(text(v), format!("{v}"), "{v:e}");
        }
    }

    /// Every `f32` bit pattern (16 minutes on two cores):
    /// `cargo test --release -p latent-cli --bin latent every_f32 -- --ignored`.
    #[test]
    #[ignore]
    fn every_f32_matches_display() {
        use rayon::prelude::*;
        use std::fmt::Write;
        let bad = (0..=u32::MAX >> 16).into_par_iter().find_any(|high| {
            let (mut ours, mut display) = (Vec::new(), String::new());
            (0..=u16::MAX).any(|low| {
                let v = f32::from_bits(high << 16 | u32::from(low));
                ours.clear();
                display.clear();
                push_f32(&mut ours, v);
                let _ = write!(display, "{v}");
                ours != display.as_bytes()
            })
        });
        assert_eq!(bad, None, "a block of values differs");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(50_000))]
        #[test]
        fn matches_display_on_any_bits(bits in any::<u32>()) {
            let v = f32::from_bits(bits);
            prop_assert_eq!(text(v), format!("{}", v));
        }

        #[test]
        fn matches_display_on_scores(v in 0.0f32..10.0) {
            prop_assert_eq!(text(v), format!("{}", v));
        }
    }
}
