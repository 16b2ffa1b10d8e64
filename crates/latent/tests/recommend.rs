//! Recommenders end to end on small synthetic data: fitting each kind, the model file
//! (round trip, same seed → same bytes, refused by the autoencoder loader), and quality on a
//! held-out split where the structure is known.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::recommend::file::RecModel;
use latent::recommend::{
    evaluate, fit, fit_split, split_users, InteractionColumns, Interactions, RecConfig, RecKind,
};
use latent::train::Silent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// `users` users in 4 taste groups; each group has a block of 12 items of 48 and each user
/// has 6 items of their block and one random item.
fn clustered(users: usize, seed: u64) -> Interactions {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = Interactions::default();
    let (mut ui, mut ii) = (HashMap::new(), HashMap::new());
    for u in 0..users {
        let group = u % 4;
        for _ in 0..6 {
            let item = group * 12 + rng.random_range(0..12);
            data.push(&format!("u{u}"), &format!("m{item}"), &mut ui, &mut ii);
        }
        data.push(&format!("u{u}"), &format!("m{}", rng.random_range(0..48)), &mut ui, &mut ii);
    }
    data
}

fn small(kind: RecKind) -> RecConfig {
    RecConfig {
        kind,
        hidden: 24,
        latent: 8,
        epochs: 15,
        batch_size: 32,
        lr: 3e-3,
        lambdas: vec![1.0, 10.0],
        ..RecConfig::default()
    }
}

fn columns() -> InteractionColumns {
    InteractionColumns { user: "u".into(), item: "i".into(), rating: None, min_rating: None }
}

#[test]
fn every_model_beats_chance_and_the_learnt_ones_beat_popularity() {
    let data = clustered(400, 1);
    let split = split_users(&data, 40, 60, 3).unwrap();
    let mut ndcg = HashMap::new();
    for kind in [RecKind::Popularity, RecKind::Ease, RecKind::MultDae, RecKind::MultVae] {
        let (model, summary) = fit_split(&split, &small(kind), &mut Silent).unwrap();
        let m = evaluate(&model, &split.test);
        assert!(m.users > 40 && m.users <= 60, "{}", m.users);
        assert!(summary.validation.users > 0);
        ndcg.insert(kind, m.ndcg_100);
    }
    let pop = ndcg[&RecKind::Popularity];
    for kind in [RecKind::Ease, RecKind::MultDae, RecKind::MultVae] {
        assert!(ndcg[&kind] > pop + 0.1, "{kind:?}: {ndcg:?}");
    }
}

#[test]
fn same_seed_same_file_and_the_file_round_trips() {
    let data = clustered(120, 2);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, kind) in [("a", RecKind::MultVae), ("b", RecKind::MultVae), ("e", RecKind::Ease)] {
        let cfg = RecConfig { epochs: 3, ..small(kind) };
        let model = fit(&data, columns(), &cfg, &mut Silent).unwrap();
        let path = dir.path().join(format!("{name}.safetensors"));
        model.save(&path).unwrap();
        let loaded = RecModel::load(&path).unwrap();
        assert_eq!(loaded.manifest, model.manifest);
        let (histories, unknown) = data.histories(loaded.item_index());
        assert_eq!(unknown, 0);
        let rows: Vec<&[u32]> = histories.iter().map(Vec::as_slice).take(10).collect();
        assert_eq!(loaded.model.recommend(&rows, 5, true), model.model.recommend(&rows, 5, true));
        // Seen items are excluded; with --exclude-seen false they may come back.
        for (h, recs) in rows.iter().zip(loaded.model.recommend(&rows, 5, true)) {
            assert!(recs.iter().all(|(i, _)| !h.contains(i)));
        }
        files.push(path);
    }
    let bytes = |i: usize| std::fs::read(&files[i]).unwrap();
    assert_eq!(bytes(0), bytes(1), "same seed, same data: the same model file");
    assert!(latent::recommend::is_recommender(&files[0]));
    let err = latent::Model::load(&files[0]).unwrap_err().to_string();
    assert!(err.contains("recommender"), "{err}");
}

#[test]
fn an_autoencoder_is_not_a_recommender() {
    let frame =
        latent::Frame::from_rows(latent::Frame::default_names("f", 2), &[0.1, 0.2, 0.3, 0.4])
            .unwrap();
    let mut cfg = latent::FitConfig::default();
    cfg.train.epochs = 1;
    let model = latent::Model::fit(&frame, &cfg, &mut Silent).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ae.safetensors");
    model.save(&path).unwrap();
    assert!(!latent::recommend::is_recommender(&path));
    let err = RecModel::load(&path).unwrap_err().to_string();
    assert!(err.contains("not a recommender"), "{err}");
}

#[test]
fn the_shallow_network_with_history_beta_learns_and_round_trips() {
    let data = clustered(400, 1);
    let split = split_users(&data, 40, 60, 3).unwrap();
    let cfg = RecConfig { hidden: 0, latent: 16, beta_by_history: true, ..small(RecKind::MultVae) };
    let (model, _) = fit_split(&split, &cfg, &mut Silent).unwrap();
    let pop = RecConfig { kind: RecKind::Popularity, ..cfg.clone() };
    let (popularity, _) = fit_split(&split, &pop, &mut Silent).unwrap();
    let (m, p) = (evaluate(&model, &split.test), evaluate(&popularity, &split.test));
    assert!(m.ndcg_100 > p.ndcg_100 + 0.1, "{m:?} vs {p:?}");

    let fitted = fit(&data, columns(), &RecConfig { epochs: 2, ..cfg }, &mut Silent).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallow.safetensors");
    fitted.save(&path).unwrap();
    let loaded = RecModel::load(&path).unwrap();
    let (histories, _) = data.histories(loaded.item_index());
    let rows: Vec<&[u32]> = histories.iter().map(Vec::as_slice).take(10).collect();
    assert_eq!(loaded.model.recommend(&rows, 5, true), fitted.model.recommend(&rows, 5, true));
}
