//! The strong-generalisation protocol of Liang et al. 2018: users (not interactions) are split
//! into training, validation and test users; the item vocabulary is the items of the training
//! users; each validation and test user's items are split into a fold-in part (the model's
//! input, 80%) and a held-out part (the items to rank, 20%).

use super::{Csr, Interactions};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Share of a held-out user's items that are ranked rather than folded in.
pub const HELDOUT_SHARE: f64 = 0.2;
/// Users with fewer items than this keep them all as input (nothing held out), as in the paper.
pub const MIN_ITEMS_TO_HOLD_OUT: usize = 5;

/// Held-out users: what the model reads and what it must rank.
#[derive(Clone, Debug, Default)]
pub struct HeldOut {
    /// Fold-in items (input).
    pub fold_in: Csr,
    /// Items to rank (never in `fold_in`).
    pub heldout: Csr,
}

/// A user split over one item vocabulary.
#[derive(Clone, Debug)]
pub struct UserSplit {
    /// Item ids, the column order of every matrix (the items of the training users).
    pub items: Vec<String>,
    /// Training users' full histories.
    pub train: Csr,
    /// Validation users.
    pub validation: HeldOut,
    /// Test users (empty when none were asked for).
    pub test: HeldOut,
}

/// Splits the users of `data`: `validation` and `test` users are drawn at random with `seed`,
/// the rest train. Validation and test interactions with items no training user has are
/// dropped; then 20% of each such user's items (none below five items) are held out.
pub fn split_users(
    data: &Interactions,
    validation: usize,
    test: usize,
    seed: u64,
) -> Result<UserSplit> {
    let users = data.users.len();
    if validation + test >= users {
        return Err(Error::Config(format!(
            "{validation} validation and {test} test users leave no training users \
             (the data has {users} users)"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..users).collect();
    order.shuffle(&mut rng);
    let full = Csr::from_pairs(users, data.items.len(), &data.pairs)?;
    let (train_users, rest) = order.split_at(users - validation - test);
    let (val_users, test_users) = rest.split_at(validation);

    // Item vocabulary: items of training users, in the order of the original vocabulary.
    let mut remap = vec![u32::MAX; data.items.len()];
    for &u in train_users {
        for &i in full.row(u) {
            remap[i as usize] = 0;
        }
    }
    let mut items = Vec::new();
    for (i, slot) in remap.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = items.len() as u32;
            items.push(data.items[i].clone());
        }
    }
    if items.is_empty() {
        return Err(Error::Data("the training users have no interactions".into()));
    }
    let mapped = |u: usize| -> Vec<u32> {
        full.row(u).iter().map(|&i| remap[i as usize]).filter(|&i| i != u32::MAX).collect()
    };
    let train_rows: Vec<Vec<u32>> = train_users.iter().map(|&u| mapped(u)).collect();
    let train = Csr::from_rows(items.len(), train_rows.iter().map(Vec::as_slice));
    let mut hold = |who: &[usize]| {
        let rows: Vec<Vec<u32>> = who.iter().map(|&u| mapped(u)).collect();
        hold_out(items.len(), &rows, &mut rng)
    };
    let validation = hold(val_users);
    let test = hold(test_users);
    Ok(UserSplit { items, train, validation, test })
}

/// Splits each row into fold-in and held-out items (the row's items are sorted, so the
/// result is too). Rows with a new column order are first re-sorted.
fn hold_out(cols: usize, rows: &[Vec<u32>], rng: &mut ChaCha8Rng) -> HeldOut {
    let mut fold = Vec::with_capacity(rows.len());
    let mut held = Vec::with_capacity(rows.len());
    for row in rows {
        let mut row = row.clone();
        row.sort_unstable();
        let n = row.len();
        let k = if n >= MIN_ITEMS_TO_HOLD_OUT { (HELDOUT_SHARE * n as f64) as usize } else { 0 };
        let mut pick: Vec<usize> = (0..n).collect();
        pick.shuffle(rng);
        let mut is_held = vec![false; n];
        pick[..k].iter().for_each(|&p| is_held[p] = true);
        let (h, f): (Vec<_>, Vec<_>) = row.iter().zip(&is_held).partition(|(_, &b)| b);
        held.push(h.into_iter().map(|(&i, _)| i).collect::<Vec<u32>>());
        fold.push(f.into_iter().map(|(&i, _)| i).collect::<Vec<u32>>());
    }
    HeldOut {
        fold_in: Csr::from_rows(cols, fold.iter().map(Vec::as_slice)),
        heldout: Csr::from_rows(cols, held.iter().map(Vec::as_slice)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Interactions {
        // 10 users; user u has items u..u+6 (mod 12).
        let mut pairs = Vec::new();
        for u in 0..10u32 {
            for k in 0..6 {
                pairs.push((u, (u + k) % 12));
            }
        }
        Interactions {
            users: (0..10).map(|u| format!("u{u}")).collect(),
            items: (0..12).map(|i| format!("i{i}")).collect(),
            pairs,
        }
    }

    #[test]
    fn splits_users_and_holds_out_a_fifth() {
        let s = split_users(&toy(), 2, 2, 7).unwrap();
        assert_eq!(s.train.rows(), 6);
        assert_eq!(s.validation.fold_in.rows(), 2);
        assert_eq!(s.test.heldout.rows(), 2);
        for h in [&s.validation, &s.test] {
            for r in 0..2 {
                let (f, held) = (h.fold_in.row(r), h.heldout.row(r));
                assert!(held.len() <= 1, "{held:?}");
                assert!(held.iter().all(|i| f.binary_search(i).is_err()));
            }
        }
        let again = split_users(&toy(), 2, 2, 7).unwrap();
        assert_eq!(again.test.heldout, s.test.heldout);
        assert!(split_users(&toy(), 5, 5, 1).is_err());
    }
}
