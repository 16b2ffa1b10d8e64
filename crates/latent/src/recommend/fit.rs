//! Fitting each kind of recommender on a user split, scoring histories, and evaluating a
//! ranking on held-out users. Mult-VAE/DAE train here: epochs of shuffled user batches,
//! Adam, the KL weight annealed per step, validation NDCG@100 after every epoch, the best
//! epoch's weights kept, progress through the library's [`Observer`].

use super::metrics::{better, top_k, MetricsAccumulator, RankingMetrics};
use super::multvae::{Beta, Corruption, MultVae, Shape};
use super::{ease, Csr, HeldOut, RecConfig, RecKind, UserSplit};
use crate::engine::{Adam, AdamConfig};
use crate::train::{EpochReport, Observer};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Users scored per batch in evaluation and recommendation.
const SCORE_BATCH: usize = 500;

/// A fitted recommender.
#[derive(Clone, Debug)]
pub enum Recommender {
    /// Item popularity: how many training users have each item.
    Popularity {
        /// Count per item.
        counts: Vec<f32>,
    },
    /// EASE: `B`, row-major `[items, items]`.
    Ease {
        /// Item count.
        items: usize,
        /// The weights.
        weights: Vec<f32>,
    },
    /// Mult-VAE or Mult-DAE.
    MultVae(Box<MultVae>),
}

/// One epoch of Mult-VAE/DAE training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecEpoch {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss (negative log-likelihood + β KL) over the epoch's batches.
    pub train_loss: f64,
    /// The KL weight at the epoch's end.
    pub beta: f64,
    /// Validation NDCG@100.
    pub ndcg_100: f64,
}

/// What training found, saved in the model file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecSummary {
    /// Every epoch (empty for EASE and popularity).
    pub history: Vec<RecEpoch>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Whether patience ended the run.
    pub stopped_early: bool,
    /// EASE's λ chosen on validation users.
    pub lambda: Option<f64>,
    /// Metrics of the kept model on the validation users.
    pub validation: RankingMetrics,
    /// Training users.
    pub train_users: usize,
    /// Validation users.
    pub validation_users: usize,
    /// Training users per item, in the order of the model's item axis (the popularity
    /// curve in `latent report`; empty in files written before it was kept).
    #[serde(default)]
    pub item_counts: Vec<u32>,
}

impl Recommender {
    /// Number of items scored.
    pub fn items(&self) -> usize {
        match self {
            Recommender::Popularity { counts } => counts.len(),
            Recommender::Ease { items, .. } => *items,
            Recommender::MultVae(m) => m.shape().items,
        }
    }

    /// Scores of every item for each history (row-major `histories.len() x items`).
    pub fn score_batch(&self, histories: &[&[u32]], out: &mut Vec<f32>) {
        let n = self.items();
        out.resize(histories.len() * n, 0.0);
        match self {
            Recommender::Popularity { counts } => {
                out.chunks_exact_mut(n).for_each(|row| row.copy_from_slice(counts));
            }
            Recommender::Ease { weights, .. } => out
                .par_chunks_exact_mut(n)
                .zip(histories.par_iter())
                .for_each(|(row, h)| ease::score_into(weights, n, h, row)),
            Recommender::MultVae(m) => {
                let mut ws = m.workspace(SCORE_BATCH.min(histories.len()));
                for (part, dst) in
                    histories.chunks(SCORE_BATCH).zip(out.chunks_mut(SCORE_BATCH * n))
                {
                    dst.copy_from_slice(m.scores(&mut ws, part));
                }
            }
        }
    }

    /// The top `k` items and their scores for each history, skipping the history's own items
    /// when `exclude_seen`.
    pub fn recommend(
        &self,
        histories: &[&[u32]],
        k: usize,
        exclude_seen: bool,
    ) -> Vec<Vec<(u32, f32)>> {
        let n = self.items();
        let mut out = Vec::with_capacity(histories.len());
        let mut scores = Vec::new();
        for part in histories.chunks(SCORE_BATCH) {
            self.score_batch(part, &mut scores);
            let ranked: Vec<Vec<(u32, f32)>> = part
                .par_iter()
                .zip(scores.par_chunks_exact(n))
                .map(|(h, s)| {
                    let skip: &[u32] = if exclude_seen { h } else { &[] };
                    top_k(s, k, skip).into_iter().map(|i| (i, s[i as usize])).collect()
                })
                .collect();
            out.extend(ranked);
        }
        out
    }
}

/// NDCG@100, Recall@20 and Recall@50 of `model` on held-out users: each user's fold-in items
/// are the input and are excluded from the ranking; users with nothing held out do not count.
pub fn evaluate(model: &Recommender, users: &HeldOut) -> RankingMetrics {
    let rows: Vec<&[u32]> = (0..users.fold_in.rows()).map(|r| users.fold_in.row(r)).collect();
    let ranked = model.recommend(&rows, 100, true);
    let mut acc = MetricsAccumulator::default();
    for (r, list) in ranked.iter().enumerate() {
        let items: Vec<u32> = list.iter().map(|&(i, _)| i).collect();
        acc.add(&items, users.heldout.row(r));
    }
    acc.finish()
}

/// Fits `config.kind` on the split's training users, using its validation users for λ or
/// early stopping.
pub fn fit_split(
    split: &UserSplit,
    config: &RecConfig,
    observer: &mut dyn Observer,
) -> Result<(Recommender, RecSummary)> {
    config.validate()?;
    let base = RecSummary {
        train_users: split.train.rows(),
        validation_users: split.validation.fold_in.rows(),
        item_counts: split.train.column_counts(),
        ..RecSummary::default()
    };
    match config.kind {
        RecKind::Popularity => {
            let counts = split.train.column_counts().into_iter().map(|c| c as f32).collect();
            let model = Recommender::Popularity { counts };
            let validation = evaluate(&model, &split.validation);
            Ok((model, RecSummary { validation, ..base }))
        }
        RecKind::Ease => {
            let n = split.train.cols();
            let gram = ease::gram(&split.train);
            let mut best: Option<(f64, Recommender, RankingMetrics)> = None;
            for &lambda in &config.lambdas {
                let weights = ease::weights_from_gram(&gram, n, lambda)?;
                let model = Recommender::Ease { items: n, weights };
                let m = evaluate(&model, &split.validation);
                observer.metric(&format!("validation NDCG@100 at λ={lambda}"), m.ndcg_100);
                if observer.should_stop() {
                    return Err(Error::Interrupted { epoch: 1, batch: 1 });
                }
                if best.as_ref().is_none_or(|(_, _, b)| better(&m, b)) {
                    best = Some((lambda, model, m));
                }
            }
            let (lambda, model, validation) =
                best.ok_or_else(|| Error::Config("EASE λ grid is empty".into()))?;
            Ok((model, RecSummary { lambda: Some(lambda), validation, ..base }))
        }
        RecKind::MultVae | RecKind::MultDae => {
            let (net, summary) = train_multvae(&split.train, &split.validation, config, observer)?;
            Ok((Recommender::MultVae(Box::new(net)), summary.merge(base)))
        }
    }
}

impl RecSummary {
    fn merge(self, base: RecSummary) -> RecSummary {
        RecSummary {
            train_users: base.train_users,
            validation_users: base.validation_users,
            item_counts: base.item_counts,
            ..self
        }
    }
}

/// The Mult-VAE/DAE training loop.
fn train_multvae(
    train: &Csr,
    validation: &HeldOut,
    config: &RecConfig,
    observer: &mut dyn Observer,
) -> Result<(MultVae, RecSummary)> {
    let users = train.rows();
    if users == 0 || train.nnz() == 0 {
        return Err(Error::Data("no training users with interactions".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let shape = Shape {
        items: train.cols(),
        hidden: config.hidden,
        latent: config.latent,
        variational: config.kind == RecKind::MultVae,
    };
    let mut net = MultVae::new(shape, &mut rng);
    if config.popularity_bias {
        net.init_output_bias(&train.column_counts());
    }
    let adam_config = AdamConfig {
        lr: config.lr,
        weight_decay: config.weight_decay,
        decoupled: config.decoupled_decay,
        ..AdamConfig::default()
    };
    // β per item of history when the KL weight follows the history size.
    let per_item = config.beta_by_history.then(|| users as f32 / train.nnz() as f32);
    let mut adam = Adam::new(net.params(), adam_config);
    let noise = Corruption { dropout: config.dropout, emphasis: config.emphasis };
    let batch = config.batch_for(users);
    let mut ws = net.workspace(batch);
    let batches = users.div_ceil(batch);
    let anneal = config.anneal_steps.unwrap_or((config.epochs * batches * 4 / 5).max(1)).max(1);
    let mut order: Vec<usize> = (0..users).collect();
    let mut step = 0usize;
    let mut history = Vec::new();
    let (mut best_epoch, mut best_ndcg, mut best_weights) = (0, f64::NEG_INFINITY, None);
    let mut best_metrics = RankingMetrics::default();
    let mut stopped_early = false;
    for epoch in 1..=config.epochs {
        observer.epoch_start(epoch, config.epochs, batches);
        let started = std::time::Instant::now();
        adam.set_lr(config.lr_at(epoch));
        order.shuffle(&mut rng);
        // RecVAE's composite prior: the encoder as it was at the start of this epoch.
        let old = (config.composite_prior && shape.variational).then(|| net.clone());
        let mut loss_sum = 0.0;
        let mut beta = 0.0f32;
        for (b, idx) in order.chunks(batch).enumerate() {
            beta = if shape.variational {
                config.beta * (step as f32 / anneal as f32).min(1.0)
            } else {
                0.0
            };
            let rows: Vec<&[u32]> = idx.iter().map(|&u| train.row(u)).collect();
            let kl_weight = match per_item {
                Some(scale) => Beta::PerItem(beta * scale),
                None => Beta::Constant(beta),
            };
            let loss = net.train_batch(&mut ws, &rows, noise, kl_weight, old.as_ref(), &mut rng);
            let total = loss.nll + loss.kl;
            if !total.is_finite() {
                return Err(Error::Training(format!(
                    "training diverged at epoch {epoch}, batch {} (loss {total}); \
                     hint: lower the learning rate",
                    b + 1
                )));
            }
            adam.step(net.params_mut());
            step += 1;
            loss_sum += total * idx.len() as f64;
            observer.batch_end(b + 1, total);
            if observer.should_stop() {
                return Err(Error::Interrupted { epoch, batch: b + 1 });
            }
        }
        let train_loss = loss_sum / users as f64;
        let model = Recommender::MultVae(Box::new(net));
        let metrics = evaluate(&model, validation);
        let Recommender::MultVae(back) = model else {
            return Err(Error::Training("internal: model kind changed".into()));
        };
        net = *back;
        let ndcg = metrics.ndcg_100;
        if ndcg > best_ndcg || best_epoch == 0 {
            best_ndcg = ndcg;
            best_epoch = epoch;
            best_metrics = metrics;
            best_weights = Some(net.params().values().to_vec());
        }
        observer.metric("validation NDCG@100", ndcg);
        let waited = epoch - best_epoch;
        let patience_left = config.patience.map(|p| p.saturating_sub(waited));
        observer.epoch_end(&EpochReport {
            epoch,
            train_loss,
            val_loss: None,
            best_epoch,
            patience_left,
            seconds: started.elapsed().as_secs_f64(),
        });
        history.push(RecEpoch { epoch, train_loss, beta: f64::from(beta), ndcg_100: ndcg });
        if patience_left == Some(0) {
            stopped_early = true;
            break;
        }
    }
    if let Some(w) = best_weights {
        net.params_mut().values_mut().copy_from_slice(&w);
    }
    let summary = RecSummary {
        history,
        best_epoch,
        stopped_early,
        lambda: None,
        validation: best_metrics,
        ..RecSummary::default()
    };
    Ok((net, summary))
}
