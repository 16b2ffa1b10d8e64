//! ONNX export of a trained model: the encoder, the decoder, the full reconstruction and the
//! anomaly scorer as ONNX graphs (IR version [`IR_VERSION`], default-domain opset [`OPSET`]),
//! so that ONNX Runtime, Triton or a database's inference engine can run them.
//!
//! Every part works in the training file's units: the input `x` is float32
//! `[batch, columns]` in training column order (raw values, as in the CSV), the saved scaling
//! (and mean imputation of NaN, when the model imputes) is applied as ONNX ops, and
//! reconstructions come back in the original units. The batch size is dynamic.
//!
//! * `encoder`: `x` → `code` `[batch, latent]` (the posterior mean for a variational model);
//! * `decoder`: `code` → `reconstruction` `[batch, columns]`;
//! * `full`: `x` → `reconstruction`;
//! * `scorer`: `x` → `score` `[batch]` (the MSE or MAE of the scaled reconstruction, as
//!   `latent score` computes it) and `is_anomaly` `[batch]` (bool: `score > threshold`).
//!
//! Dense and convolutional models of every family export (plain, denoising, sparse,
//! contractive, variational by their mean path, fully convolutional, 1-D convolutional over
//! series windows: see `layers.rs`); categorical columns whose categories are numbers are
//! one-hot encoded in the graph for the encoder and the scorer (see `inputs.rs`). Categories
//! that are not numbers, the reconstruction of a categorical column, the forest detector and
//! the variational scores (negative ELBO, reconstruction NLL) cannot be expressed here and
//! are refused with the reason.

mod inputs;
mod layers;
pub mod proto;

use prost::Message;

use crate::score::{ScoreKind, Threshold};
use crate::{Error, Model, Result};
use inputs::Spec;
use proto::{
    attribute_type, data_type, AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto,
    TypeProto, TypeProtoTensor, ValueInfoProto,
};

/// The ONNX default-domain operator set the graphs use.
pub const OPSET: i64 = 17;

/// The ONNX IR version written.
pub const IR_VERSION: i64 = 8;

/// Which part of the model to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Inputs to codes.
    Encoder,
    /// Codes to reconstructions.
    Decoder,
    /// Inputs to reconstructions.
    Full,
    /// Inputs to the anomaly score and flag.
    Scorer,
}

impl Part {
    /// The part's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Part::Encoder => "encoder",
            Part::Decoder => "decoder",
            Part::Full => "full",
            Part::Scorer => "scorer",
        }
    }
}

/// Builds the ONNX graph of `part` and returns the serialized model. `threshold` is the
/// scorer's (its score kind must be MSE or MAE); the other parts ignore it.
pub fn export(model: &Model, part: Part, threshold: Option<&Threshold>) -> Result<Vec<u8>> {
    let spec = Spec::of(model, part)?;
    let mut g = Graph::default();
    let batch = "batch";
    match part {
        Part::Encoder => {
            g.input("x", &[Dim::Param(batch), Dim::Fixed(spec.columns.len())]);
            let s = g.scale_inputs(&spec, "x");
            let code = g.encoder(model, &s);
            g.node("Identity", &[&code], "code", vec![]);
            g.output(
                "code",
                &[Dim::Param(batch), Dim::Fixed(model.code_width())],
                data_type::FLOAT,
            );
        }
        Part::Decoder => {
            g.input("code", &[Dim::Param(batch), Dim::Fixed(model.code_width())]);
            let r = g.decoder(model, "code");
            g.reconstruction_output(&spec, &r, batch);
        }
        Part::Full => {
            g.input("x", &[Dim::Param(batch), Dim::Fixed(spec.columns.len())]);
            let s = g.scale_inputs(&spec, "x");
            let code = g.encoder(model, &s);
            let r = g.decoder(model, &code);
            g.reconstruction_output(&spec, &r, batch);
        }
        Part::Scorer => {
            let t = threshold.ok_or_else(|| {
                Error::Config("the scorer needs an anomaly threshold (the model has none)".into())
            })?;
            if !matches!(t.score, ScoreKind::Mse | ScoreKind::Mae) {
                return Err(Error::Config(format!(
                    "the {} score cannot be expressed in ONNX (the scorer computes mse or mae; \
                     choose the mse score and a threshold for it)",
                    t.score.name()
                )));
            }
            g.input("x", &[Dim::Param(batch), Dim::Fixed(spec.columns.len())]);
            let s = g.scale_inputs(&spec, "x");
            let code = g.encoder(model, &s);
            let r = g.decoder(model, &code);
            let d = g.op("Sub", &[&r, &s], vec![]);
            let term = if t.score == ScoreKind::Mse {
                g.op("Mul", &[&d, &d], vec![])
            } else {
                g.op("Abs", &[&d], vec![])
            };
            g.node("ReduceMean", &[&term], "score", vec![ints("axes", &[1]), int("keepdims", 0)]);
            let limit = g.constant(&[t.value], &[]);
            g.node("Greater", &["score", &limit], "is_anomaly", vec![]);
            g.output("score", &[Dim::Param(batch)], data_type::FLOAT);
            g.output("is_anomaly", &[Dim::Param(batch)], data_type::BOOL);
        }
    }
    let columns: Vec<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    let mut meta =
        vec![entry("latent.part", part.name()), entry("latent.columns", &columns.join(","))];
    if let (Part::Scorer, Some(t)) = (part, threshold) {
        meta.push(entry("latent.score", t.score.name()));
        meta.push(entry("latent.threshold", &t.value.to_string()));
    }
    let m = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        producer_name: "latent".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("latent {} of a {} autoencoder", part.name(), spec.family),
        graph: Some(GraphProto {
            node: g.nodes,
            name: format!("latent_{}", part.name()),
            initializer: g.initializers,
            doc_string: String::new(),
            input: g.inputs,
            output: g.outputs,
        }),
        metadata_props: meta,
    };
    Ok(m.encode_to_vec())
}

/// A tensor dimension.
enum Dim<'a> {
    Fixed(usize),
    Param(&'a str),
}

/// A graph under construction.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    next: usize,
}

fn value_info(name: &str, dims: &[Dim<'_>], elem_type: i32) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => DimensionValue::DimValue(*n as i64),
                Dim::Param(p) => DimensionValue::DimParam((*p).to_string()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor { elem_type, shape: Some(TensorShapeProto { dim }) }),
        }),
    }
}

fn entry(key: &str, value: &str) -> StringStringEntryProto {
    StringStringEntryProto { key: key.into(), value: value.into() }
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INT, i, ..Default::default() }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::INTS,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn float(name: &str, f: f32) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::FLOAT, f, ..Default::default() }
}

impl Graph {
    fn input(&mut self, name: &str, dims: &[Dim<'_>]) {
        self.inputs.push(value_info(name, dims, data_type::FLOAT));
    }

    /// The graph output `reconstruction`: the decoder's output `r` back in the input units.
    fn reconstruction_output(&mut self, spec: &Spec, r: &str, batch: &str) {
        let y = self.unscale(spec, r);
        self.node("Identity", &[&y], "reconstruction", vec![]);
        self.output(
            "reconstruction",
            &[Dim::Param(batch), Dim::Fixed(spec.columns.len())],
            data_type::FLOAT,
        );
    }

    fn output(&mut self, name: &str, dims: &[Dim<'_>], elem_type: i32) {
        self.outputs.push(value_info(name, dims, elem_type));
    }

    fn fresh(&mut self, what: &str) -> String {
        self.next += 1;
        format!("{what}_{}", self.next)
    }

    /// A node writing `output`.
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) {
        let name = self.fresh(op);
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_string()).collect(),
            output: vec![output.to_string()],
            name,
            op_type: op.into(),
            attribute,
        });
    }

    /// A node writing a fresh value, returned.
    fn op(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.node(op, inputs, &out, attribute);
        out
    }

    /// A float constant tensor (an initializer), returned by name.
    fn constant(&mut self, values: &[f32], dims: &[usize]) -> String {
        let name = self.fresh("const");
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            float_data: values.to_vec(),
            int64_data: Vec::new(),
            name: name.clone(),
        });
        name
    }

    /// An int64 constant tensor.
    fn constant_i64(&mut self, values: &[i64]) -> String {
        let name = self.fresh("const");
        self.initializers.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: data_type::INT64,
            float_data: Vec::new(),
            int64_data: values.to_vec(),
            name: name.clone(),
        });
        name
    }
}
