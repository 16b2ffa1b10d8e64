//! Recommendation from implicit feedback: a user's items in, a ranking of every other item
//! out. Mult-VAE and Mult-DAE (Liang et al. 2018), EASE (Steck 2019) and item popularity,
//! trained on a sparse user × item matrix ([`Csr`]: nothing builds the dense matrix), scored
//! with NDCG@K and Recall@K under the strong-generalisation protocol ([`split_users`]), and
//! saved in the model file with the item vocabulary.

pub mod csr;
pub mod ease;
pub mod file;
pub mod fit;
pub mod input;
pub mod metrics;
pub mod multvae;
pub mod prior;
pub mod split;

pub use csr::Csr;
pub use file::{is_recommender, RecManifest};
pub use fit::{evaluate, fit_split, RecEpoch, RecSummary, Recommender};
pub use input::{IdRecommendation, Recommendations};
pub use metrics::{ndcg_at_k, recall_at_k, top_k, RankingMetrics};
pub use split::{split_users, HeldOut, UserSplit};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An interaction table: distinct user and item ids (strings as written in the data) and the
/// positive `(user, item)` pairs as indices into them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interactions {
    /// User ids in order of first appearance.
    pub users: Vec<String>,
    /// Item ids in order of first appearance.
    pub items: Vec<String>,
    /// Positive interactions `(user index, item index)`.
    pub pairs: Vec<(u32, u32)>,
}

impl Interactions {
    /// Adds a positive interaction, interning both ids.
    pub fn push(
        &mut self,
        user: &str,
        item: &str,
        user_index: &mut HashMap<String, u32>,
        item_index: &mut HashMap<String, u32>,
    ) {
        let intern = |id: &str, index: &mut HashMap<String, u32>, list: &mut Vec<String>| {
            *index.entry(id.to_string()).or_insert_with(|| {
                list.push(id.to_string());
                (list.len() - 1) as u32
            })
        };
        let u = intern(user, user_index, &mut self.users);
        let i = intern(item, item_index, &mut self.items);
        self.pairs.push((u, i));
    }

    /// Each user's items as indices into `vocabulary`; items not in it are counted and
    /// skipped. Returns the histories (sorted, distinct) and the number of unknown item ids.
    pub fn histories(&self, vocabulary: &HashMap<String, u32>) -> (Vec<Vec<u32>>, usize) {
        let map: Vec<Option<u32>> = self.items.iter().map(|i| vocabulary.get(i).copied()).collect();
        let mut rows = vec![Vec::new(); self.users.len()];
        let mut unknown = 0;
        for &(u, i) in &self.pairs {
            match map[i as usize] {
                Some(j) => rows[u as usize].push(j),
                None => unknown += 1,
            }
        }
        rows.iter_mut().for_each(|r: &mut Vec<u32>| {
            r.sort_unstable();
            r.dedup();
        });
        (rows, unknown)
    }
}

/// The columns a recommender reads: user and item ids, and optionally a rating that turns
/// explicit feedback into implicit (rows with `rating >= min_rating` are positives).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionColumns {
    /// User id column.
    pub user: String,
    /// Item id column.
    pub item: String,
    /// Rating column, if any (without one every row is a positive).
    #[serde(default)]
    pub rating: Option<String>,
    /// Smallest rating counted as a positive (needs `rating`).
    #[serde(default)]
    pub min_rating: Option<f64>,
}

/// Which recommender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecKind {
    /// Mult-VAE (Gaussian code, KL annealed to `beta`).
    MultVae,
    /// Mult-DAE (deterministic code, input dropout as the corruption).
    MultDae,
    /// EASE (closed form, λ tuned on validation users).
    Ease,
    /// Item popularity among the training users.
    Popularity,
}

impl RecKind {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            RecKind::MultVae => "mult-vae",
            RecKind::MultDae => "mult-dae",
            RecKind::Ease => "ease",
            RecKind::Popularity => "popularity",
        }
    }
}

/// Settings of a recommender and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecConfig {
    /// Which model.
    pub kind: RecKind,
    /// Hidden width of Mult-VAE/DAE (600 in the paper); 0: no hidden layer, the code is
    /// computed from the input and the logits from the code.
    pub hidden: usize,
    /// Code width (200 in the paper).
    pub latent: usize,
    /// Input dropout probability (0.5).
    pub dropout: f32,
    /// Emphasised denoising: the likelihood weight of the items dropped from the input
    /// relative to the kept ones ([`multvae::Corruption::emphasis`]); 1: off. Written to the
    /// model file only when not 1, so that files stay readable by older versions.
    #[serde(skip_serializing_if = "is_one")]
    pub emphasis: f32,
    /// Final KL weight of Mult-VAE (the anneal cap, 0.2).
    pub beta: f32,
    /// Steps over which the KL weight rises linearly from 0 to `beta`; default: 80% of the
    /// run's steps (the paper's 200,000 steps at cap 0.2 on ML-20M, scaled to the data).
    pub anneal_steps: Option<usize>,
    /// Scale each user's KL weight with the size of their history (RecVAE, Shenbin et al.
    /// 2020): `β_u = β · n_u / n̄`, `n̄` the training users' mean history size, so that the
    /// KL keeps one weight per item of likelihood instead of one per user. On by default;
    /// false: one β for every user, as in Liang et al. 2018 (and in files written before
    /// this setting existed).
    #[serde(default)]
    pub beta_by_history: bool,
    /// Decoupled (AdamW) weight decay instead of L2 added to the gradient.
    pub decoupled_decay: bool,
    /// Mult-VAE's KL against RecVAE's composite prior ([`prior`]) instead of `N(0, I)`.
    pub composite_prior: bool,
    /// Start Mult-VAE/DAE's output bias at the log item counts (see
    /// [`multvae::MultVae::init_output_bias`]).
    pub popularity_bias: bool,
    /// Maximum epochs.
    pub epochs: usize,
    /// Users per batch (500).
    pub batch_size: usize,
    /// Every epoch has at least this many batches: on small data the batch shrinks to
    /// `users / min_batches` (10 by default: 489 users train in batches of 49, ML-20M's 116k
    /// in batches of 500), so that a few hundred users are not trained one step per epoch.
    /// 0 keeps `batch_size` as it is.
    pub min_batches: usize,
    /// Adam learning rate.
    pub lr: f32,
    /// Cosine learning-rate decay: the rate falls from `lr` to `lr / 100` over this many
    /// epochs, then stays there; none: a constant rate. Written to the model file only when
    /// set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_decay_epochs: Option<usize>,
    /// L2 weight decay of Adam on the weights (not biases); the paper's Mult-DAE used 0.02
    /// (its `2 λ` with λ = 0.01), its Mult-VAE none.
    pub weight_decay: f32,
    /// Epochs without a better validation NDCG@100 before stopping (none: run all epochs).
    pub patience: Option<usize>,
    /// Seed of the user split, initialisation, shuffles, dropout and sampling.
    pub seed: u64,
    /// Validation users for early stopping and λ (0: a tenth of the users, 1 to 10,000).
    pub validation_users: usize,
    /// EASE's λ grid (the best on validation users is kept).
    pub lambdas: Vec<f64>,
}

impl Default for RecConfig {
    fn default() -> Self {
        RecConfig {
            kind: RecKind::MultVae,
            hidden: 600,
            latent: 200,
            dropout: 0.5,
            emphasis: 1.0,
            beta: 0.2,
            anneal_steps: None,
            beta_by_history: true,
            decoupled_decay: false,
            composite_prior: false,
            popularity_bias: true,
            epochs: 200,
            batch_size: 500,
            min_batches: 10,
            lr: 1e-3,
            lr_decay_epochs: None,
            weight_decay: 0.0,
            patience: Some(50),
            seed: 42,
            validation_users: 0,
            lambdas: vec![50.0, 100.0, 200.0, 500.0, 1000.0],
        }
    }
}

/// True for the default emphasis (skipped when writing a model file).
fn is_one(x: &f32) -> bool {
    *x == 1.0
}

impl RecConfig {
    /// The learning rate of `epoch` (1-based) under [`RecConfig::lr_decay_epochs`].
    pub fn lr_at(&self, epoch: usize) -> f32 {
        match self.lr_decay_epochs {
            Some(n) if n > 0 => {
                let t = ((epoch.saturating_sub(1)) as f32 / n as f32).min(1.0);
                let floor = self.lr / 100.0;
                floor + (self.lr - floor) * 0.5 * (1.0 + (std::f32::consts::PI * t).cos())
            }
            _ => self.lr,
        }
    }

    /// Checks every value before use.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.latent == 0 {
            return bad("the code size must be positive".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.emphasis.is_finite() && self.emphasis > 0.0) {
            return bad(format!("emphasis must be positive, got {}", self.emphasis));
        }
        if self.lr_decay_epochs == Some(0) {
            return bad("the learning-rate decay needs at least 1 epoch".into());
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return bad(format!("beta must be non-negative, got {}", self.beta));
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return bad("epochs and batch size must be positive".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("learning rate must be positive, got {}", self.lr));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!("weight decay must be non-negative, got {}", self.weight_decay));
        }
        if self.lambdas.is_empty() || self.lambdas.iter().any(|l| !(l.is_finite() && *l > 0.0)) {
            return bad("EASE λ grid must hold positive values".into());
        }
        Ok(())
    }

    /// A fixed number of users per batch: drops the [`RecConfig::min_batches`] rule, as an
    /// explicit batch size on the command line or in Python does.
    pub fn set_batch_size(&mut self, users: usize) {
        self.batch_size = users;
        self.min_batches = 0;
    }

    /// Users per batch when training on `users` users (see [`RecConfig::min_batches`]).
    pub fn batch_for(&self, users: usize) -> usize {
        let batch = match self.min_batches {
            0 => self.batch_size,
            m => self.batch_size.min(users.div_ceil(m)),
        };
        batch.clamp(1, users.max(1))
    }

    /// Validation users for `users` users: the configured number, or a tenth (1 to 10,000).
    pub fn validation_for(&self, users: usize) -> usize {
        if self.validation_users > 0 {
            self.validation_users
        } else {
            (users / 10).clamp(1, 10_000)
        }
    }
}

/// Trains a recommender on all of `data`: validation users are drawn with the seed (for
/// early stopping and λ), the rest train; the items of the training users are the vocabulary.
pub fn fit(
    data: &Interactions,
    columns: InteractionColumns,
    config: &RecConfig,
    observer: &mut dyn crate::Observer,
) -> Result<file::RecModel> {
    config.validate()?;
    if data.users.len() < 2 {
        return Err(Error::Data(format!(
            "a recommender needs at least 2 users with interactions, the data has {}",
            data.users.len()
        )));
    }
    let split = split_users(data, config.validation_for(data.users.len()), 0, config.seed)?;
    let (model, summary) = fit_split(&split, config, observer)?;
    Ok(file::RecModel::new(config.clone(), columns, split.items, summary, model))
}

#[cfg(test)]
mod tests {
    use super::RecConfig;

    #[test]
    fn small_data_trains_in_at_least_ten_batches() {
        let c = RecConfig::default();
        assert_eq!(c.batch_for(489), 49);
        assert_eq!(c.batch_for(116_677), 500);
        assert_eq!(c.batch_for(3), 1);
        let fixed = RecConfig { min_batches: 0, ..RecConfig::default() };
        assert_eq!(fixed.batch_for(489), 489);
        assert_eq!(fixed.batch_for(10_000), 500);
    }

    /// Emphasis and the learning-rate decay are written only when set (older readers refuse
    /// unknown fields), read back when set, and checked.
    #[test]
    fn new_settings_are_written_only_when_set() {
        let plain = serde_json::to_string(&RecConfig::default()).unwrap();
        assert!(!plain.contains("emphasis") && !plain.contains("lr_decay"), "{plain}");
        let set = RecConfig { emphasis: 4.0, lr_decay_epochs: Some(60), ..RecConfig::default() };
        let text = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<RecConfig>(&text).unwrap(), set);
        assert_eq!(serde_json::from_str::<RecConfig>(&plain).unwrap(), RecConfig::default());
        for bad in [
            RecConfig { emphasis: 0.0, ..RecConfig::default() },
            RecConfig { emphasis: f32::NAN, ..RecConfig::default() },
            RecConfig { lr_decay_epochs: Some(0), ..RecConfig::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert_eq!(set.lr_at(1), set.lr);
        assert!((set.lr_at(61) - set.lr / 100.0).abs() < 1e-9);
        assert!((set.lr_at(31) - (set.lr + set.lr / 100.0) / 2.0).abs() < 1e-7);
        assert_eq!(set.lr_at(500), set.lr_at(61));
        assert_eq!(RecConfig::default().lr_at(100), RecConfig::default().lr);
    }
}
