//! Request bodies: `{"rows": [...], "explain": k}` with rows as arrays in training column
//! order or objects by column name, parsed in one pass straight into the columns of a
//! [`latent::Frame`] (no per-value intermediate: a body of N numbers costs about 4N bytes),
//! checked against the model's input schema on the way.

use crate::ApiError;
use latent::preprocess::{ColumnTransform, Preprocessor};
use latent::{Column, Frame};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// A parsed request: the rows as a frame of the model's input columns, and `explain`.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The rows, columns in the model's order.
    pub frame: Frame,
    /// `"explain": k`, when given (only accepted where the endpoint takes it).
    pub explain: Option<usize>,
    /// `"proba": true` (only accepted where `explain` is).
    pub proba: bool,
}

/// The request's options besides the rows.
#[derive(Debug, Default)]
struct Options {
    explain: Option<usize>,
    proba: bool,
}

/// The input columns a model expects, and their kinds.
pub(crate) struct Schema {
    names: Vec<String>,
    numeric: Vec<bool>,
    index: HashMap<String, usize>,
}

impl Schema {
    /// The schema of a fitted preprocessor.
    pub fn new(pre: &Preprocessor) -> Self {
        let names: Vec<String> = pre.columns.iter().map(|c| c.name().to_string()).collect();
        let numeric =
            pre.columns.iter().map(|c| matches!(c, ColumnTransform::Numeric { .. })).collect();
        let index = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
        Schema { names, numeric, index }
    }

    /// Number of input columns.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Parses a request body. Not JSON (or truncated): 400. JSON of the wrong shape, or rows
    /// the model cannot take: 422 — a row of the wrong width, an unknown or repeated column, a
    /// number that is not finite as a 32-bit float, a string or boolean in a numeric column.
    /// `null` (or an absent column in an object row) marks a missing cell: the model's
    /// missing-value policy then imputes or refuses it. Categorical columns take strings
    /// (numbers and booleans are read as their text). Row numbers in messages start at 1.
    pub fn parse(&self, body: &[u8], allow_explain: bool) -> Result<Parsed, ApiError> {
        let builder = RefCell::new(Builder::new(self));
        let seed = BodySeed { builder: &builder, allow_explain };
        let mut de = serde_json::Deserializer::from_slice(body);
        let result = seed.deserialize(&mut de).and_then(|explain| de.end().map(|()| explain));
        let builder = builder.into_inner();
        let options = match result {
            Ok(options) => options,
            Err(e) => {
                // A problem with the rows found mid-parse is 422, unless the body is not even
                // JSON (then 400, whatever else is wrong with it).
                let syntax_error = serde_json::from_slice::<IgnoredAny>(body).err();
                return Err(match (syntax_error, builder.error) {
                    (Some(s), _) => {
                        ApiError::bad_request(format!("request body is not valid JSON: {s}"))
                    }
                    (None, Some(rows_error)) => rows_error,
                    (None, None) => ApiError::unprocessable(format!(
                        "request body does not fit the endpoint: {e}"
                    )),
                });
            }
        };
        let frame = builder.finish()?;
        Ok(Parsed { frame, explain: options.explain, proba: options.proba })
    }

    /// The first column names, for messages.
    fn preview(&self) -> String {
        const SHOWN: usize = 8;
        let mut s = self
            .names
            .iter()
            .take(SHOWN)
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        if self.names.len() > SHOWN {
            s.push_str(&format!(", ... ({} in all)", self.names.len()));
        }
        s
    }
}

/// Column buffers filled while parsing; `error` holds the first problem with the rows.
struct Builder<'s> {
    schema: &'s Schema,
    numeric: Vec<Vec<f32>>,
    text: Vec<Vec<String>>,
    rows: usize,
    /// Columns given in the current object row.
    seen: Vec<bool>,
    saw_rows: bool,
    error: Option<ApiError>,
}

impl<'s> Builder<'s> {
    fn new(schema: &'s Schema) -> Self {
        let w = schema.width();
        Builder {
            schema,
            numeric: (0..w).map(|_| Vec::new()).collect(),
            text: (0..w).map(|_| Vec::new()).collect(),
            rows: 0,
            seen: vec![false; w],
            saw_rows: false,
            error: None,
        }
    }

    /// Records a problem with the rows (422) and returns the error that stops the parser.
    fn fail<E: de::Error>(&mut self, message: String) -> E {
        let e = E::custom(&message);
        self.error.get_or_insert(ApiError::unprocessable(message));
        e
    }

    /// Appends a missing cell to every column (the placeholders of an object row).
    fn push_missing_row(&mut self) {
        for (j, &is_num) in self.schema.numeric.iter().enumerate() {
            if is_num {
                self.numeric[j].push(f32::NAN);
            } else {
                self.text[j].push(String::new());
            }
        }
    }

    /// Stores a cell in column `j` of the current row: appended for array rows, written over
    /// the placeholder for object rows.
    fn store_number<E: de::Error>(&mut self, j: usize, x: f64, replace: bool) -> Result<(), E> {
        if self.schema.numeric[j] {
            let v = x as f32;
            if !v.is_finite() {
                let name = &self.schema.names[j];
                let msg = format!(
                    "row {}, column \"{name}\": {x} is out of range for a 32-bit float",
                    self.rows + 1
                );
                return Err(self.fail(msg));
            }
            put(&mut self.numeric[j], v, replace);
        } else {
            put(&mut self.text[j], x.to_string(), replace);
        }
        Ok(())
    }

    fn store_text<E: de::Error>(&mut self, j: usize, s: &str, replace: bool) -> Result<(), E> {
        if self.schema.numeric[j] {
            let what = if is_non_finite_word(s) {
                "NaN and infinities are not allowed"
            } else {
                "the model expects a number"
            };
            let msg = format!(
                "row {}, column \"{}\": {what}, got \"{s}\"",
                self.rows + 1,
                self.schema.names[j]
            );
            return Err(self.fail(msg));
        }
        put(&mut self.text[j], s.to_owned(), replace);
        Ok(())
    }

    fn store_bool<E: de::Error>(&mut self, j: usize, b: bool, replace: bool) -> Result<(), E> {
        if self.schema.numeric[j] {
            let msg = format!(
                "row {}, column \"{}\": the model expects a number, got {b}",
                self.rows + 1,
                self.schema.names[j]
            );
            return Err(self.fail(msg));
        }
        put(&mut self.text[j], b.to_string(), replace);
        Ok(())
    }

    fn store_null(&mut self, j: usize, replace: bool) {
        if self.schema.numeric[j] {
            put(&mut self.numeric[j], f32::NAN, replace);
        } else {
            put(&mut self.text[j], String::new(), replace);
        }
    }

    /// The frame of the parsed rows.
    fn finish(self) -> Result<Frame, ApiError> {
        if !self.saw_rows {
            return Err(ApiError::unprocessable(
                "request body does not fit the endpoint: missing field `rows`",
            ));
        }
        let columns = self
            .schema
            .names
            .iter()
            .zip(&self.schema.numeric)
            .zip(self.numeric.into_iter().zip(self.text))
            .map(|((name, &is_num), (n, t))| {
                if is_num {
                    Column::numeric(name.clone(), n)
                } else {
                    Column::text(name.clone(), t)
                }
            })
            .collect();
        Frame::new(columns).map_err(|e| ApiError::from_latent(&e))
    }
}

/// Appends `v`, or overwrites the last value (an object row's placeholder).
fn put<T>(column: &mut Vec<T>, v: T, replace: bool) {
    match column.last_mut() {
        Some(last) if replace => *last = v,
        _ => column.push(v),
    }
}

/// Words that spell NaN or an infinity.
fn is_non_finite_word(s: &str) -> bool {
    let s = s.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(s.as_str(), "nan" | "inf" | "infinity")
}

/// An object key, borrowed from the body when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The top-level object: `rows` and (where allowed) `explain` and `proba`; nothing else.
struct BodySeed<'b, 's> {
    builder: &'b RefCell<Builder<'s>>,
    allow_explain: bool,
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_, '_> {
    type Value = Options;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Options, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_, '_> {
    type Value = Options;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object {\"rows\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Options, A::Error> {
        let (mut explain, mut proba) = (None, None);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "rows" => {
                    if self.builder.borrow().saw_rows {
                        return Err(de::Error::duplicate_field("rows"));
                    }
                    self.builder.borrow_mut().saw_rows = true;
                    map.next_value_seed(RowsSeed { builder: self.builder })?;
                }
                "explain" if self.allow_explain => {
                    if explain.is_some() {
                        return Err(de::Error::duplicate_field("explain"));
                    }
                    explain = Some(map.next_value::<usize>()?);
                }
                "proba" if self.allow_explain => {
                    if proba.is_some() {
                        return Err(de::Error::duplicate_field("proba"));
                    }
                    proba = Some(map.next_value::<bool>()?);
                }
                other => {
                    let expected: &[&str] =
                        if self.allow_explain { &["rows", "explain", "proba"] } else { &["rows"] };
                    return Err(de::Error::unknown_field(other, expected));
                }
            }
        }
        Ok(Options { explain, proba: proba.unwrap_or(false) })
    }
}

/// `[row, row, ...]`.
struct RowsSeed<'b, 's> {
    builder: &'b RefCell<Builder<'s>>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RowSeed { builder: self.builder })?.is_some() {
            self.builder.borrow_mut().rows += 1;
        }
        Ok(())
    }
}

/// One row: an array in column order, or an object of `column: value`.
struct RowSeed<'b, 's> {
    builder: &'b RefCell<Builder<'s>>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row: an array of values or an object of column: value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let width = self.builder.borrow().schema.width();
        let mut n = 0;
        while n < width {
            let cell = CellSeed { builder: self.builder, column: n, replace: false };
            if seq.next_element_seed(cell)?.is_none() {
                break;
            }
            n += 1;
        }
        if n == width {
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
        }
        if n != width {
            let mut b = self.builder.borrow_mut();
            let msg = format!(
                "row {} has {n} values, the model expects {width} (columns {})",
                b.rows + 1,
                b.schema.preview()
            );
            return Err(b.fail(msg));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        {
            let mut b = self.builder.borrow_mut();
            b.push_missing_row();
            b.seen.iter_mut().for_each(|s| *s = false);
        }
        while let Some(name) = map.next_key::<Key<'de>>()? {
            let mut b = self.builder.borrow_mut();
            let Some(&j) = b.schema.index.get(name.0.as_ref()) else {
                let msg = format!(
                    "row {}: unknown column \"{}\" (the model's columns are {})",
                    b.rows + 1,
                    name.0,
                    b.schema.preview()
                );
                return Err(b.fail(msg));
            };
            if std::mem::replace(&mut b.seen[j], true) {
                let msg = format!("row {}: column \"{}\" appears twice", b.rows + 1, name.0);
                return Err(b.fail(msg));
            }
            drop(b);
            map.next_value_seed(CellSeed { builder: self.builder, column: j, replace: true })?;
        }
        Ok(())
    }
}

/// One value, stored straight into its column.
struct CellSeed<'b, 's> {
    builder: &'b RefCell<Builder<'s>>,
    column: usize,
    replace: bool,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string or null")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.builder.borrow_mut().store_number(self.column, v, self.replace)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.builder.borrow_mut().store_number(self.column, v as f64, self.replace)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.builder.borrow_mut().store_number(self.column, v as f64, self.replace)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.builder.borrow_mut().store_text(self.column, v, self.replace)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.builder.borrow_mut().store_bool(self.column, v, self.replace)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.builder.borrow_mut().store_null(self.column, self.replace);
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use latent::config::{MissingPolicy, Scaling};
    use latent::ColumnValues;

    fn schema() -> Schema {
        Schema::new(&Preprocessor {
            scaling: Scaling::Standard,
            missing: MissingPolicy::Error,
            columns: vec![
                ColumnTransform::Numeric { name: "a".into(), shift: 0.0, scale: 1.0, fill: 0.0 },
                ColumnTransform::OneHot { name: "k".into(), categories: vec!["x".into()] },
                ColumnTransform::Numeric { name: "b".into(), shift: 0.0, scale: 1.0, fill: 0.0 },
            ],
            image: None,
            label_column: None,
            id_columns: Vec::new(),
        })
    }

    fn status(body: &str, explain: bool) -> u16 {
        schema().parse(body.as_bytes(), explain).map_or_else(|e| e.status.as_u16(), |_| 200)
    }

    #[test]
    fn parses_array_and_object_rows_into_columns() {
        let p = schema()
            .parse(
                br#"{"explain": 2, "rows": [[1, "x", 2.5], {"b": 4, "k": 7, "a": null}, [1e3, true, -2]]}"#,
                true,
            )
            .unwrap();
        assert_eq!(p.explain, Some(2));
        let f = p.frame;
        assert_eq!(f.rows(), 3);
        assert_eq!(f.names(), vec!["a", "k", "b"]);
        match &f.columns()[0].values {
            ColumnValues::Numeric(v) => {
                assert_eq!(v[0], 1.0);
                assert!(v[1].is_nan());
                assert_eq!(v[2], 1000.0);
            }
            ColumnValues::Text(_) => panic!("numeric expected"),
        }
        assert_eq!(
            f.columns()[1].values,
            ColumnValues::Text(vec!["x".into(), "7".into(), "true".into()])
        );
        assert_eq!(f.columns()[2].values, ColumnValues::Numeric(vec![2.5, 4.0, -2.0]));
        // An absent column in an object row is missing.
        let f = schema().parse(br#"{"rows": [{"a": 1}]}"#, false).unwrap().frame;
        assert_eq!(f.columns()[1].values, ColumnValues::Text(vec![String::new()]));
    }

    #[test]
    fn syntax_errors_are_400_and_everything_else_422() {
        for body in ["{\"rows\": [[1,", "not json", "", "{\"rows\": [[1, \"x\", 2]]} x", "[1, 2"] {
            assert_eq!(status(body, true), 400, "{body}");
        }
        for body in [
            "{\"rows\": 3}",
            "{\"row\": []}",
            "{}",
            "[]",
            "{\"rows\": [[[1], \"x\", 2]]}",
            "{\"rows\": [[1, \"x\"]]}",
            "{\"rows\": [[1, \"x\", 2, 3]]}",
            "{\"rows\": [[\"NaN\", \"x\", 2]]}",
            "{\"rows\": [[1e39, \"x\", 2]]}",
            "{\"rows\": [{\"zz\": 1}]}",
            "{\"rows\": [{\"a\": 1, \"a\": 2}]}",
            "{\"rows\": [], \"explain\": -1}",
            "{\"rows\": [], \"rows\": []}",
            "{\"rows\": [5]}",
        ] {
            assert_eq!(status(body, true), 422, "{body}");
        }
        // Wrong width in a body that is not JSON either: 400.
        assert_eq!(status("{\"rows\": [[1], [", true), 400);
        // `explain` only where the endpoint takes it.
        assert_eq!(status("{\"rows\": [], \"explain\": 1}", true), 200);
        assert_eq!(status("{\"rows\": [], \"explain\": 1}", false), 422);
    }

    #[test]
    fn messages_name_row_and_column() {
        let e =
            schema().parse(br#"{"rows": [[1, "x", 2], [1, "x", "Infinity"]]}"#, false).unwrap_err();
        assert_eq!(
            e.message,
            "row 2, column \"b\": NaN and infinities are not allowed, got \"Infinity\""
        );
        let e = schema().parse(br#"{"rows": [[1, "x", 2], [1]]}"#, false).unwrap_err();
        assert!(e.message.starts_with("row 2 has 1 values, the model expects 3"), "{}", e.message);
    }

    #[test]
    fn non_finite_words() {
        assert!(is_non_finite_word("NaN"));
        assert!(is_non_finite_word("-Infinity"));
        assert!(is_non_finite_word("+inf"));
        assert!(!is_non_finite_word("1.5"));
    }
}
