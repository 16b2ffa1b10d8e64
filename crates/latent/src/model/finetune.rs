//! Fine-tuning a trained model on new rows (periodic retraining): the saved preprocessing is
//! kept, training continues from the current weights.

use super::{permute_rows, Model, Trainer};
use crate::config::TrainConfig;
use crate::frame::Frame;
use crate::train::{self, Observer, RunOptions};
use crate::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

impl Model {
    /// Trains the model further on `frame` for `train.epochs` epochs, from its current weights
    /// with a fresh optimiser, through the model's **saved** preprocessing (not refitted, so
    /// scores before and after stay on one scale). The training summary is replaced and a
    /// detector is refitted on the new rows; the threshold is left as it was
    /// (recalibrate with [`Model::calibrate`]).
    pub fn fine_tune(
        &mut self,
        frame: &Frame,
        train: &TrainConfig,
        observer: &mut dyn Observer,
    ) -> Result<()> {
        let x = self.inputs(frame)?;
        let data = match &self.perm {
            Some(perm) => permute_rows(&x, perm),
            None => x.clone(),
        };
        let width = self.net.width();
        let mut rng = ChaCha8Rng::seed_from_u64(train.seed);
        let objective = self.manifest.config.objective.clone();
        let summary = {
            let Model { net, params, .. } = self;
            let net = &*net;
            let mut trainer = Trainer {
                net,
                params,
                ws: net.workspace(0),
                objective: &objective,
                kl_weight: objective.beta,
            };
            let options = RunOptions { resume: None, checkpoints: None };
            train::train(&mut trainer, &data, width, train, &mut rng, observer, options)?
        };
        self.manifest.summary = Some(summary);
        if !self.manifest.config.detector.is_reconstruction() {
            self.fit_detector(&x, train.seed)?;
        }
        Ok(())
    }
}
