//! [`Model::fit_streamed`]: training on data larger than memory, read block by block through a
//! [`BlockReader`] (see [`crate::blocks`]).

use super::{new_manifest, Model, Trainer};
use crate::blocks::{block_starts, for_each_part, BlockReader, BlockSource};
use crate::config::FitConfig;
use crate::frame::Frame;
use crate::preprocess_fit::PreprocessFit;
use crate::train::{self, DataFingerprint, Observer, RunOptions};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Bytes of preprocessed values the shuffle buffer holds by default (64 MiB).
pub const SHUFFLE_BUFFER_BYTES: usize = 64 << 20;
/// Bytes of input values each in-memory sample (validation rows, detector and threshold rows)
/// may hold by default (16 MiB).
pub const SAMPLE_BYTES: usize = 16 << 20;
/// Rows each in-memory sample holds at most by default.
pub const SAMPLE_ROWS: usize = 50_000;

/// How a streamed run bounds its memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSettings {
    /// Rows shuffled together; `None`: as many as [`SHUFFLE_BUFFER_BYTES`] hold. More rows mix
    /// better and take more memory.
    pub shuffle_rows: Option<usize>,
    /// Most rows held out for the validation loss (the run's `val_split` share, up to this).
    pub max_validation_rows: usize,
    /// Most training rows sampled (seeded, uniformly) to fit the detector and calibrate the
    /// threshold, besides the validation rows.
    pub max_sample_rows: usize,
}

impl StreamSettings {
    /// Default bounds for data with `columns` input columns.
    pub fn for_columns(columns: usize) -> Self {
        let rows = (SAMPLE_BYTES / 4 / columns.max(1)).clamp(1, SAMPLE_ROWS);
        StreamSettings { shuffle_rows: None, max_validation_rows: rows, max_sample_rows: rows }
    }
}

/// The rows held in memory during a streamed run, by data-set row number.
struct Sample {
    /// Validation rows, ascending.
    validation: Vec<usize>,
    /// Validation and sampled training rows, ascending.
    all: Vec<usize>,
}

impl Sample {
    /// Seeded choice of the validation and sample rows among `rows`. Its own generator stream,
    /// so that the weights' initialisation matches an in-memory run's.
    fn draw(rows: usize, val_split: f32, settings: &StreamSettings, seed: u64) -> Sample {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let share = ((rows as f64) * f64::from(val_split)).round() as usize;
        let val = share.min(rows.saturating_sub(1)).min(settings.max_validation_rows);
        let extra = (rows - val).min(settings.max_sample_rows);
        let mut picked = rand::seq::index::sample(&mut rng, rows, val + extra).into_vec();
        picked.shuffle(&mut rng);
        let mut validation = picked[..val].to_vec();
        validation.sort_unstable();
        picked.sort_unstable();
        Sample { validation, all: picked }
    }
}

/// The rows of `part` (first data-set row `first`) among `wanted` (ascending).
fn rows_of(part: &Frame, first: usize, wanted: &[usize]) -> Option<Frame> {
    let lo = wanted.partition_point(|&r| r < first);
    let hi = wanted.partition_point(|&r| r < first + part.rows());
    let local: Vec<usize> = wanted[lo..hi].iter().map(|r| r - first).collect();
    (!local.is_empty()).then(|| part.select_rows(&local))
}

impl Model {
    /// Fits a model on data read block by block, holding in memory only a bounded shuffle
    /// buffer and bounded samples (see [`StreamSettings`]), whatever the data's size.
    ///
    /// A first pass fits the preprocessing and draws the validation rows and a seeded sample
    /// of training rows. Each epoch then visits the blocks in a seeded order and shuffles rows
    /// within the buffer. The detector (if any) is fitted, and the threshold calibrated by
    /// `config.threshold`, on the sample. The same seed and data give the same model.
    pub fn fit_streamed(
        reader: &mut dyn BlockReader,
        config: &FitConfig,
        settings: &StreamSettings,
        observer: &mut dyn Observer,
    ) -> Result<Model> {
        config.validate()?;
        config.threshold.validate()?;
        let rows = block_starts(reader).last().copied().unwrap_or(0);
        if rows == 0 {
            return Err(Error::Data("data has no rows".into()));
        }
        let seed = config.train.seed;
        let sample = Sample::draw(rows, config.train.val_split, settings, seed);
        let mut fit = PreprocessFit::new(&config.preprocess);
        let mut parts = Vec::new();
        for_each_part(reader, &mut |first, part| {
            fit.add(&part)?;
            parts.extend(rows_of(&part, first, &sample.all));
            Ok(())
        })?;
        let (preprocess, unit) = fit.finish()?;
        let mut model = Model::build(new_manifest(preprocess, unit, config)?)?;
        let config = model.manifest.config.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        model.net.init(&mut model.params, &mut rng);
        let sample_frame = Frame::concat(&parts)?.map_or_else(|| Frame::new(Vec::new()), Ok)?;
        drop(parts);
        // The validation rows' places among the sample's rows (both ascending).
        let places: Vec<usize> =
            sample.validation.iter().filter_map(|r| sample.all.binary_search(r).ok()).collect();
        let val_values =
            model.network_order(&model.inputs(&sample_frame.select_rows(&places))?).into_owned();
        let width = model.net.width();
        let hash = DataFingerprint::of(&val_values, width).hash;
        let fingerprint = DataFingerprint { rows, width, hash };
        let capacity = settings
            .shuffle_rows
            .unwrap_or(SHUFFLE_BUFFER_BYTES / 4 / width.max(1))
            .max(config.train.batch_size);
        let summary = {
            let Model { manifest, net, params, perm, .. } = &mut model;
            let mut source = BlockSource::new(
                reader,
                &manifest.preprocess,
                perm.as_deref(),
                sample.validation,
                val_values,
                fingerprint,
                capacity,
            );
            let mut trainer = Trainer::new(net, params, &config.objective);
            let options = RunOptions::default();
            train::train_on(&mut trainer, &mut source, &config.train, &mut rng, observer, options)?
        };
        model.manifest.summary = Some(summary);
        if !config.detector.is_reconstruction() {
            let x = model.inputs(&sample_frame)?;
            model.fit_detector(&x, seed)?;
        }
        let kind = model.default_score_kind();
        model.calibrate(&sample_frame, &config.threshold, kind)?;
        Ok(model)
    }
}
