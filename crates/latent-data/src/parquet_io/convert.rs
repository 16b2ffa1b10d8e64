//! Arrow arrays to `latent` columns: how each Parquet column type reads.
//!
//! * integers, floats and decimals: numbers (`f32`); a null, or a float NaN, is a missing value;
//! * booleans: 1 and 0;
//! * strings and dictionary-encoded strings: text (categories), a null is a missing (empty) cell;
//! * timestamps and dates: seconds since 1970-01-01 UTC as numbers, or ISO-8601 text
//!   (`2024-01-31 12:00:00`) when read as text, as the time column of a time-series model is;
//! * anything else (lists, structs, maps, binary): an error naming the column.
//!
//! Any column can be read as text (categorical, identifier and label columns): numbers are
//! written as they print (`3`, `1.5`), booleans as `1`/`0`.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};

use crate::error::{Error, Result};
use crate::na::NaValues;

/// How a column's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// As numbers.
    Numeric,
    /// As text.
    Text,
}

/// Whether a column of this type can be read as numbers (`Some(true)`), only as text
/// (`Some(false)`: strings), or not at all (`None`).
pub(crate) fn numeric_type(t: &DataType) -> Option<bool> {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Boolean
        | DataType::Null
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => Some(true),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(false),
        DataType::Dictionary(_, v) => numeric_type(v).map(|_| false),
        _ => None,
    }
}

/// The error for a column whose type cannot be read.
pub(crate) fn unsupported(path: &Path, column: &str, t: &DataType) -> Error {
    let what = if t.is_nested() { "nested type" } else { "type" };
    Error::format(
        path,
        format!(
            "column \"{column}\": {what} {t} is not supported (latent reads numbers, booleans, \
             strings, dictionaries, dates and timestamps; flatten or cast it first)"
        ),
    )
}

/// Where a batch sits in its file, for error messages.
pub(crate) struct At<'a> {
    pub(crate) path: &'a Path,
    pub(crate) column: &'a str,
    /// 0-based row of the batch's first row in the file.
    pub(crate) first_row: usize,
}

impl At<'_> {
    fn not_finite(&self, row: usize, v: f64) -> Error {
        Error::not_finite(self.path, self.first_row + row, self.column, v)
    }
}

/// Pushes a primitive array's values as `f64` via `to`, nulls as NaN.
fn push_primitive<T: ArrowPrimitiveType>(
    a: &PrimitiveArray<T>,
    out: &mut Vec<f32>,
    at: &At<'_>,
    to: impl Fn(T::Native) -> f64,
) -> Result<()> {
    out.reserve(a.len());
    for (i, v) in a.iter().enumerate() {
        match v {
            None => out.push(f32::NAN),
            Some(v) => {
                let x = to(v);
                if x.is_nan() {
                    out.push(f32::NAN);
                } else if x.is_finite() && (x as f32).is_finite() {
                    out.push(x as f32);
                } else {
                    return Err(at.not_finite(i, x));
                }
            }
        }
    }
    Ok(())
}

/// Appends the array's cells as numbers; NaN for nulls.
pub(crate) fn push_numbers(a: &dyn Array, out: &mut Vec<f32>, at: &At<'_>) -> Result<()> {
    macro_rules! prim {
        ($t:ty) => {
            push_primitive(a.as_primitive::<$t>(), out, at, |v| v as f64)
        };
    }
    match a.data_type() {
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Float16 => {
            push_primitive(a.as_primitive::<Float16Type>(), out, at, |v| f64::from(v.to_f32()))
        }
        DataType::Decimal128(_, scale) => {
            let div = 10f64.powi(i32::from(*scale));
            push_primitive(a.as_primitive::<Decimal128Type>(), out, at, |v| v as f64 / div)
        }
        DataType::Boolean => {
            let b = a.as_boolean();
            out.extend(b.iter().map(|v| v.map_or(f32::NAN, |v| if v { 1.0 } else { 0.0 })));
            Ok(())
        }
        DataType::Null => {
            out.extend(std::iter::repeat_n(f32::NAN, a.len()));
            Ok(())
        }
        DataType::Date32 => {
            push_primitive(a.as_primitive::<Date32Type>(), out, at, |d| f64::from(d) * 86_400.0)
        }
        DataType::Date64 => {
            push_primitive(a.as_primitive::<Date64Type>(), out, at, move |v| v as f64 / 1e3)
        }
        DataType::Timestamp(unit, _) => {
            let (a, per) = (a, unit_per_second(unit));
            match unit {
                TimeUnit::Second => {
                    push_primitive(a.as_primitive::<TimestampSecondType>(), out, at, move |v| {
                        v as f64 / per
                    })
                }
                TimeUnit::Millisecond => push_primitive(
                    a.as_primitive::<TimestampMillisecondType>(),
                    out,
                    at,
                    move |v| v as f64 / per,
                ),
                TimeUnit::Microsecond => push_primitive(
                    a.as_primitive::<TimestampMicrosecondType>(),
                    out,
                    at,
                    move |v| v as f64 / per,
                ),
                TimeUnit::Nanosecond => {
                    push_primitive(a.as_primitive::<TimestampNanosecondType>(), out, at, move |v| {
                        v as f64 / per
                    })
                }
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
            Err(Error::format(
                at.path,
                format!("column \"{}\": text column where the model expects numbers", at.column),
            ))
        }
        other => Err(unsupported(at.path, at.column, other)),
    }
}

fn unit_per_second(unit: &TimeUnit) -> f64 {
    match unit {
        TimeUnit::Second => 1.0,
        TimeUnit::Millisecond => 1e3,
        TimeUnit::Microsecond => 1e6,
        TimeUnit::Nanosecond => 1e9,
    }
}

/// Appends the array's cells as text; missing cells (nulls, missing-value markers, NaN) are
/// empty.
pub(crate) fn push_texts(
    a: &dyn Array,
    out: &mut Vec<String>,
    na: &NaValues,
    at: &At<'_>,
) -> Result<()> {
    let text = |s: Option<&str>| match s {
        Some(s) if !na.is_missing(s.trim()) => s.trim().to_string(),
        _ => String::new(),
    };
    macro_rules! prim_text {
        ($t:ty) => {
            out.extend(
                a.as_primitive::<$t>().iter().map(|v| v.map_or(String::new(), |v| v.to_string())),
            )
        };
    }
    macro_rules! float_text {
        ($t:ty) => {
            out.extend(a.as_primitive::<$t>().iter().map(|v| match v {
                Some(v) if !v.is_nan() => v.to_string(),
                _ => String::new(),
            }))
        };
    }
    macro_rules! time_text {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            out.extend((0..p.len()).map(|i| {
                if p.is_null(i) {
                    String::new()
                } else {
                    p.value_as_datetime(i).map_or(String::new(), |d| d.to_string())
                }
            }))
        }};
    }
    match a.data_type() {
        DataType::Utf8 => out.extend(a.as_string::<i32>().iter().map(text)),
        DataType::LargeUtf8 => out.extend(a.as_string::<i64>().iter().map(text)),
        DataType::Utf8View => out.extend(a.as_string_view().iter().map(text)),
        DataType::Dictionary(..) => {
            let Some(d) = a.as_any_dictionary_opt() else {
                return Err(unsupported(at.path, at.column, a.data_type()));
            };
            let mut values = Vec::with_capacity(d.values().len());
            push_texts(d.values().as_ref(), &mut values, na, at)?;
            let keys = d.keys();
            for (i, k) in d.normalized_keys().into_iter().enumerate() {
                let cell = if keys.is_null(i) { None } else { values.get(k) };
                out.push(cell.cloned().unwrap_or_default());
            }
        }
        DataType::Int8 => prim_text!(Int8Type),
        DataType::Int16 => prim_text!(Int16Type),
        DataType::Int32 => prim_text!(Int32Type),
        DataType::Int64 => prim_text!(Int64Type),
        DataType::UInt8 => prim_text!(UInt8Type),
        DataType::UInt16 => prim_text!(UInt16Type),
        DataType::UInt32 => prim_text!(UInt32Type),
        DataType::UInt64 => prim_text!(UInt64Type),
        DataType::Float32 => float_text!(Float32Type),
        DataType::Float64 => float_text!(Float64Type),
        DataType::Boolean => out.extend(
            a.as_boolean().iter().map(|v| v.map_or(String::new(), |v| u8::from(v).to_string())),
        ),
        DataType::Date32 => {
            let p = a.as_primitive::<Date32Type>();
            out.extend((0..p.len()).map(|i| {
                if p.is_null(i) {
                    String::new()
                } else {
                    p.value_as_date(i).map_or(String::new(), |d| d.to_string())
                }
            }))
        }
        DataType::Date64 => time_text!(Date64Type),
        DataType::Timestamp(TimeUnit::Second, _) => time_text!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => time_text!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => time_text!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => time_text!(TimestampNanosecondType),
        DataType::Null => out.extend(std::iter::repeat_n(String::new(), a.len())),
        DataType::Float16 | DataType::Decimal128(..) => {
            let mut numbers = Vec::with_capacity(a.len());
            push_numbers(a, &mut numbers, at)?;
            out.extend(
                numbers.iter().map(|v| if v.is_nan() { String::new() } else { v.to_string() }),
            );
        }
        other => return Err(unsupported(at.path, at.column, other)),
    }
    Ok(())
}
