//! Compression with any latent model: the code of each row is quantised with a step, and the
//! quantised values are range-coded with a per-dimension discrete model ([`CodecTables`])
//! fitted on the training codes and saved in the model file as integer tables.
//!
//! The coder is `constriction`'s range coder (a queue: symbols decode in the order they were
//! written) over [`ContiguousCategoricalEntropyModel`]s built from the stored fixed-point
//! probabilities with `from_nonzero_fixed_point_probabilities`: both sides use exactly the
//! same integers, so a file decodes to the same symbols on any machine.
//!
//! The file format, `.lat`, is in [`container`].

pub mod bd;
pub mod container;
pub mod msssim;
mod stream;
mod table;

pub use bd::{bd_rate, psnr, rate_at};
pub use container::{read, read_header, write, FileKind, LatHeader, FORMAT_VERSION, MAGIC};
pub use msssim::ms_ssim;
pub use stream::StreamWriter;
pub use table::{symbol, CodecTables, DimTable, MAX_LEVEL, MAX_SYMBOLS, PRECISION};

use crate::engine::density::Density;
use crate::engine::Params;
use crate::{Error, Model, Result};
use constriction::stream::model::ContiguousCategoricalEntropyModel;
use constriction::stream::queue::{DefaultRangeDecoder, DefaultRangeEncoder};
use constriction::stream::{Decode, Encode};
use sha2::{Digest, Sha256};

/// One dimension's entropy model for the range coder.
type DimModel = ContiguousCategoricalEntropyModel<u32, Vec<u32>, PRECISION>;

/// Bytes of the model fingerprint kept in a `.lat` header (the first bytes of a SHA-256).
pub const FINGERPRINT_BYTES: usize = 8;

/// A model's codec: its tables as entropy models, and its fingerprint.
#[derive(Debug)]
pub struct Codec {
    tables: CodecTables,
    models: Vec<DimModel>,
    width: usize,
    fingerprint: [u8; 32],
}

impl Codec {
    /// The codec of a model whose file holds entropy-model tables.
    pub fn new(model: &Model) -> Result<Codec> {
        let tables = model.manifest().codec.clone().ok_or(Error::NoCodec)?;
        Codec::from_tables(tables, model.code_width(), fingerprint(model))
    }

    /// A codec from tables, for a code of `width` dimensions and a model `fingerprint`.
    pub fn from_tables(tables: CodecTables, width: usize, fingerprint: [u8; 32]) -> Result<Codec> {
        tables.check(width).map_err(|e| Error::Config(format!("corrupt entropy model: {e}")))?;
        let models = tables
            .dims
            .iter()
            .map(|t| {
                DimModel::from_nonzero_fixed_point_probabilities(&t.freq, false).map_err(|()| {
                    Error::Config("corrupt entropy model: probabilities do not sum to one".into())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Codec { tables, models, width, fingerprint })
    }

    /// The tables.
    pub fn tables(&self) -> &CodecTables {
        &self.tables
    }

    /// Code width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The model fingerprint (SHA-256 of its weights, preprocessing and tables).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Quantises codes: `round(z / step)`, an error for a non-finite or too large value.
    pub fn quantise(&self, codes: &[f32]) -> Result<Vec<i32>> {
        quantise(codes, self.tables.step)
    }

    /// The code values that quantised `levels` stand for.
    pub fn dequantise(&self, levels: &[i32]) -> Vec<f32> {
        levels.iter().map(|&q| q as f32 * self.tables.step).collect()
    }

    /// Codes whole rows of quantised values into one independently decodable payload:
    /// the escaped values (count, then each as a zig-zag varint), then the range coder's words
    /// as little-endian bytes without trailing zero bytes.
    pub fn encode_block(&self, levels: &[i32]) -> Result<Vec<u8>> {
        let width = self.models.len();
        let mut escapes = Vec::new();
        let mut coder = DefaultRangeEncoder::new();
        for (i, &v) in levels.iter().enumerate() {
            let d = i % width;
            let s = match symbol(&self.tables.dims[d], v) {
                Some(s) => s,
                None => {
                    escapes.push(v);
                    0
                }
            };
            coder
                .encode_symbol(s, &self.models[d])
                .map_err(|e| Error::Data(format!("entropy coding failed: {e}")))?;
        }
        let words = coder.into_compressed().map_err(|_| Error::Data("entropy coding".into()))?;
        let mut out = Vec::new();
        container::put_varint(&mut out, escapes.len() as u64);
        for v in escapes {
            container::put_varint(&mut out, zigzag(v));
        }
        let start = out.len();
        out.extend(words.iter().flat_map(|w| w.to_le_bytes()));
        while out.len() > start && out.last() == Some(&0) {
            out.pop();
        }
        Ok(out)
    }

    /// Decodes a payload of [`Codec::encode_block`] holding `count` values.
    pub fn decode_block(&self, payload: &[u8], count: usize) -> Result<Vec<i32>, String> {
        let width = self.models.len();
        let mut pos = 0;
        let n_escapes = container::get_varint(payload, &mut pos)?;
        if n_escapes > count as u64 {
            return Err(format!("{n_escapes} escaped values for {count} values"));
        }
        let mut escapes = Vec::with_capacity(n_escapes as usize);
        for _ in 0..n_escapes {
            let v = unzigzag(container::get_varint(payload, &mut pos)?)
                .ok_or("an escaped value out of range")?;
            escapes.push(v);
        }
        let rest = &payload[pos..];
        let words: Vec<u32> = rest
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(b)
            })
            .collect();
        let mut coder = DefaultRangeDecoder::from_compressed(words)
            .map_err(|_| "the coded stream cannot be read".to_string())?;
        let mut escapes = escapes.into_iter();
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let d = i % width;
            let s = coder
                .decode_symbol(&self.models[d])
                .map_err(|_| "the coded stream is invalid".to_string())?;
            let v = if s == 0 {
                escapes.next().ok_or("more escaped values coded than stored")?
            } else {
                self.tables.dims[d].min.saturating_add(s as i32 - 1)
            };
            out.push(v);
        }
        if escapes.next().is_some() {
            return Err("fewer escaped values coded than stored".into());
        }
        Ok(out)
    }
}

/// Quantises codes with `step`: `round(z / step)`; an error for a non-finite value or one
/// beyond [`MAX_LEVEL`] steps.
pub fn quantise(codes: &[f32], step: f32) -> Result<Vec<i32>> {
    codes
        .iter()
        .map(|&z| {
            let q = (z / step).round();
            if q.is_finite() && f64::from(q).abs() <= MAX_LEVEL as f64 {
                Ok(q as i32)
            } else {
                Err(Error::Data(format!(
                    "code value {z} cannot be quantised with step {step} (at most {MAX_LEVEL} \
                     steps)"
                )))
            }
        })
        .collect()
}

/// Fits a model's entropy-model tables on the codes of its training rows (already
/// preprocessed, as [`Model::inputs`] gives) with quantisation `step`, and stores them in the
/// model (saved with it).
pub fn fit(model: &mut Model, inputs: &[f32], step: f32) -> Result<()> {
    if model.manifest().codec.as_ref().is_some_and(|t| t.per_channel) {
        return Err(Error::LearnedCodec);
    }
    let codes = model.encode_inputs(inputs)?;
    let levels = quantise(&codes.data, step)?;
    let tables = CodecTables::fit(&levels, codes.cols, step).map_err(Error::Config)?;
    model.manifest_mut().codec = Some(tables);
    Ok(())
}

/// Checks, before training, that a model trained with `config` can have its entropy model
/// fitted after training ([`fit`]): a learned-compression model (rate term, `lambda`) cannot,
/// its entropy model is learnt in training ([`Error::LearnedCodec`]).
pub fn check_fit(config: &crate::FitConfig) -> Result<()> {
    if config.objective.lambda.is_some() {
        return Err(Error::LearnedCodec);
    }
    Ok(())
}

/// [`fit`] on the training rows of `frame` (preprocessed by the model first): what `latent
/// train --quant-step` and the Python package's `AutoEncoder(quant_step=...)` do after training.
pub fn fit_frame(model: &mut Model, frame: &crate::Frame, step: f32) -> Result<()> {
    let inputs = model.inputs(frame)?;
    fit(model, &inputs, step)
}

/// The integer tables of a compression model's learned density (`--preset compress`),
/// computed once when it is trained: one table per channel, quantisation step 1, each over
/// the integers where the density has mass (at most [`MAX_SYMBOLS`] around the middle), the
/// rest of its mass on the escape.
pub fn density_tables(density: &Density, params: &Params) -> Result<CodecTables> {
    let dims = (0..density.channels)
        .map(|c| {
            let (lo, hi) = density.support(params, c);
            if !(lo.is_finite() && hi.is_finite()) {
                return Err(Error::Config(format!(
                    "the learned entropy model of code channel {c} is not finite (training \
                     diverged)"
                )));
            }
            let limit = MAX_LEVEL as f64 - MAX_SYMBOLS as f64;
            let mid = ((lo + hi) / 2.0).round().clamp(-limit, limit);
            let half = (MAX_SYMBOLS / 2) as f64;
            let lo = lo.max(mid - half);
            let hi = hi.min(lo + MAX_SYMBOLS as f64 - 1.0).max(lo);
            let probs: Vec<f64> =
                (lo as i64..=hi as i64).map(|v| density.probability(params, c, v as f64)).collect();
            let escape = (1.0 - probs.iter().sum::<f64>()).max(0.0);
            Ok(DimTable::from_probabilities(lo as i32, &probs, escape))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CodecTables { step: 1.0, dims, per_channel: true })
}

/// SHA-256 of everything decoding depends on: the weights (names, shapes, values), the
/// preprocessing and the entropy-model tables.
pub fn fingerprint(model: &Model) -> [u8; 32] {
    let mut h = Sha256::new();
    let params = model.params();
    for spec in params.specs() {
        h.update((spec.name.len() as u64).to_le_bytes());
        h.update(spec.name.as_bytes());
        for &s in &spec.shape {
            h.update((s as u64).to_le_bytes());
        }
        for v in &params.values()[spec.offset..spec.offset + spec.len] {
            h.update(v.to_le_bytes());
        }
    }
    let manifest = model.manifest();
    h.update(serde_json::to_vec(&manifest.preprocess).unwrap_or_default());
    h.update(serde_json::to_vec(&manifest.output).unwrap_or_default());
    h.update(serde_json::to_vec(&manifest.codec).unwrap_or_default());
    h.finalize().into()
}

fn zigzag(v: i32) -> u64 {
    let v = i64::from(v);
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> Option<i32> {
    let v = ((u >> 1) as i64) ^ -((u & 1) as i64);
    i32::try_from(v).ok().filter(|v| i64::from(*v).abs() <= MAX_LEVEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> Codec {
        let levels: Vec<i32> = (0..3000).map(|i| ((i * 37) % 11) - 5 + (i % 3)).collect();
        let tables = CodecTables::fit(&levels, 3, 0.1).unwrap();
        Codec::from_tables(tables, 3, [7; 32]).unwrap()
    }

    #[test]
    fn blocks_round_trip_with_escapes() {
        let c = codec();
        let levels = vec![0, 1, -5, 100_000, -3, 2, 7, -(1 << 30), 1 << 30, 0, 0, 0];
        let payload = c.encode_block(&levels).unwrap();
        assert_eq!(c.decode_block(&payload, levels.len()).unwrap(), levels);
        assert_eq!(c.decode_block(&c.encode_block(&[]).unwrap(), 0).unwrap(), Vec::<i32>::new());
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [0, 1, -1, 5, -(1 << 30), 1 << 30] {
            assert_eq!(unzigzag(zigzag(v)), Some(v));
        }
        assert_eq!(unzigzag(u64::MAX), None);
    }

    #[test]
    fn quantise_rounds_and_refuses_non_finite() {
        assert_eq!(quantise(&[0.26, -0.26, 0.04], 0.1).unwrap(), vec![3, -3, 0]);
        assert!(quantise(&[f32::NAN], 0.1).is_err());
        assert!(quantise(&[1e30], 0.1).is_err());
    }

    #[test]
    fn broken_payloads_are_errors() {
        let c = codec();
        let levels: Vec<i32> = (0..300).map(|i| (i % 5) - 2).collect();
        let payload = c.encode_block(&levels).unwrap();
        for cut in 0..payload.len() {
            let _ = c.decode_block(&payload[..cut], levels.len());
        }
        assert!(c.decode_block(&[5], 3).is_err());
        assert!(c.decode_block(&[], 3).is_err());
    }
}
