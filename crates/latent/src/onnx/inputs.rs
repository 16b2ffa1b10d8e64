//! The saved preprocessing as ONNX ops: mean imputation of NaN, standard (or min-max)
//! scaling, and one-hot encoding of categorical columns whose categories are numbers, so that
//! a graph takes the training file's columns in their own units.

use super::{int, Graph, Part};
use crate::config::{Architecture, MissingPolicy};
use crate::preprocess::ColumnTransform;
use crate::{Error, Model, Result};

/// One input column of the training file.
pub(super) struct Column {
    /// The column's name.
    pub(super) name: String,
    /// Scaling: `(x - shift) / scale` (0 and 1 for a categorical column).
    shift: f32,
    scale: f32,
    /// The training mean that imputes a missing value (NaN for a categorical column: a
    /// missing category is encoded as all zeros).
    fill: f32,
    /// A categorical column's categories as numbers, in one-hot order.
    categories: Option<Vec<f32>>,
}

/// What the export needs from a model, checked.
pub(super) struct Spec {
    /// The input columns, in training order.
    pub(super) columns: Vec<Column>,
    impute: bool,
    /// The model family, for the graph's description.
    pub(super) family: &'static str,
}

/// A category read as the number an input value must equal, when it is one.
fn category_value(category: &str) -> Option<f32> {
    category.trim().parse::<f32>().ok().filter(|v| v.is_finite())
}

impl Spec {
    /// Checks that `part` of `model` can be expressed in ONNX and collects its preprocessing.
    pub(super) fn of(model: &Model, part: Part) -> Result<Spec> {
        if let Some(d) = model.detector() {
            return Err(Error::Config(format!(
                "the {0} detector cannot be expressed in ONNX: export the encoder, decoder or \
                 full reconstruction, or train without the {0} detector",
                d.score_kind().name()
            )));
        }
        let conv = matches!(model.manifest().model().architecture, Architecture::Conv { .. });
        let pre = model.preprocessor();
        let mut columns = Vec::with_capacity(pre.columns.len());
        for c in &pre.columns {
            columns.push(match c {
                ColumnTransform::Numeric { name, shift, scale, fill } => Column {
                    name: name.clone(),
                    shift: *shift,
                    scale: *scale,
                    fill: *fill,
                    categories: None,
                },
                ColumnTransform::OneHot { name, categories } => {
                    one_hot_column(name, categories, part)?
                }
            });
        }
        Ok(Spec {
            columns,
            impute: pre.missing == MissingPolicy::ImputeMean,
            family: match (conv, model.is_variational()) {
                (true, true) => "convolutional variational",
                (true, false) => "convolutional",
                (false, true) => "variational",
                (false, false) => "dense",
            },
        })
    }

    /// True when some column is one-hot encoded.
    fn has_categorical(&self) -> bool {
        self.columns.iter().any(|c| c.categories.is_some())
    }
}

/// A categorical column's one-hot encoding as numbers, or why it cannot be exported.
fn one_hot_column(name: &str, categories: &[String], part: Part) -> Result<Column> {
    if matches!(part, Part::Decoder | Part::Full) {
        return Err(Error::Config(format!(
            "column \"{name}\" is categorical (one-hot): the {} cannot give it back as one \
             float32 column; export the encoder or the scorer, which one-hot encode it",
            if part == Part::Decoder { "decoder" } else { "full reconstruction" }
        )));
    }
    let mut values = Vec::with_capacity(categories.len());
    for k in categories {
        let Some(v) = category_value(k) else {
            return Err(Error::Config(format!(
                "column \"{name}\" is categorical and its category \"{k}\" is not a number: \
                 the ONNX graph takes one float32 input, so only numeric-coded categories can \
                 be one-hot encoded in it (re-code the column's categories as numbers and \
                 train again)"
            )));
        };
        if values.contains(&v) {
            return Err(Error::Config(format!(
                "column \"{name}\" is categorical and two of its categories are the number \
                 {v}: they cannot be told apart in a float32 input"
            )));
        }
        values.push(v);
    }
    Ok(Column {
        name: name.to_string(),
        shift: 0.0,
        scale: 1.0,
        fill: f32::NAN,
        categories: Some(values),
    })
}

impl Graph {
    /// Raw inputs (`[batch, columns]`) to model inputs: NaN to the training mean (when
    /// imputing), `(x - shift) / scale`, and each categorical column's value compared with its
    /// categories (`Equal`, `Cast`): one 0/1 input per category, all zeros for a value that is
    /// no category (or missing).
    pub(super) fn scale_inputs(&mut self, spec: &Spec, x: &str) -> String {
        let mut x = x.to_string();
        if spec.impute {
            let fill: Vec<f32> = spec.columns.iter().map(|c| c.fill).collect();
            let fill = self.constant(&fill, &[fill.len()]);
            let nan = self.op("IsNaN", &[&x], vec![]);
            x = self.op("Where", &[&nan, &fill, &x], vec![]);
        }
        let shift: Vec<f32> = spec.columns.iter().map(|c| c.shift).collect();
        let scale: Vec<f32> = spec.columns.iter().map(|c| c.scale).collect();
        let shift = self.constant(&shift, &[shift.len()]);
        let scale = self.constant(&scale, &[scale.len()]);
        let centred = self.op("Sub", &[&x, &shift], vec![]);
        let scaled = self.op("Div", &[&centred, &scale], vec![]);
        if !spec.has_categorical() {
            return scaled;
        }
        // Per model input: the column it comes from, the category it stands for (NaN for a
        // numeric column), and whether it is a one-hot value.
        let (mut source, mut value, mut is_one_hot) = (Vec::new(), Vec::new(), Vec::new());
        for (i, c) in spec.columns.iter().enumerate() {
            match &c.categories {
                None => {
                    source.push(i as i64);
                    value.push(f32::NAN);
                    is_one_hot.push(0.0);
                }
                Some(categories) => {
                    for &v in categories {
                        source.push(i as i64);
                        value.push(v);
                        is_one_hot.push(1.0);
                    }
                }
            }
        }
        let width = source.len();
        let source = self.constant_i64(&source);
        let spread = self.op("Gather", &[&scaled, &source], vec![int("axis", 1)]);
        let value = self.constant(&value, &[width]);
        let equal = self.op("Equal", &[&spread, &value], vec![]);
        let one_hot =
            self.op("Cast", &[&equal], vec![int("to", super::proto::data_type::FLOAT.into())]);
        let mask = self.constant(&is_one_hot, &[width]);
        let mask = self.op("Cast", &[&mask], vec![int("to", super::proto::data_type::BOOL.into())]);
        self.op("Where", &[&mask, &one_hot, &spread], vec![])
    }

    /// Model outputs back to the original units: `y * scale + shift`.
    pub(super) fn unscale(&mut self, spec: &Spec, y: &str) -> String {
        let shift: Vec<f32> = spec.columns.iter().map(|c| c.shift).collect();
        let scale: Vec<f32> = spec.columns.iter().map(|c| c.scale).collect();
        let shift = self.constant(&shift, &[shift.len()]);
        let scale = self.constant(&scale, &[scale.len()]);
        let scaled = self.op("Mul", &[y, &scale], vec![]);
        self.op("Add", &[&scaled, &shift], vec![])
    }
}
