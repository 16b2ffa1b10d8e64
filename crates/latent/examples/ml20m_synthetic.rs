//! An ML-20M-shaped synthetic interaction set for the Mult-VAE speed check (issue 15).
//!
//! 136,677 users x 20,108 items and about 10M positives, the shape of ML-20M after the
//! preprocessing of Liang et al. 2018. Popularity is skewed like real data: item weights follow
//! a Zipf law (exponent 1) over shuffled ids, user activity a log-normal (long tail, at least 5
//! items), and each user draws 70% of their items from one of 50 taste clusters (a random fifth
//! of the items each) and 30% from global popularity, without repeats, so there is structure to
//! learn. Deterministic for a seed. Writes `userId,movieId` CSV (about 130 MB).
//!
//! ```sh
//! cargo run --release -p latent --example ml20m_synthetic -- /tmp/ml20m.csv [users items positives seed]
//! latent train --preset mult-vae --data /tmp/ml20m.csv --epochs 1 --out /tmp/ml20m.safetensors
//! OMP_NUM_THREADS=2 python3 bench/multvae_pytorch.py --data /tmp/ml20m.csv --epochs 1
//! ```

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::LogNormal;
use std::collections::HashSet;
use std::io::Write;

const CLUSTERS: usize = 50;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.first().ok_or("usage: ml20m_synthetic OUT.csv [users items positives seed]")?;
    let num = |i: usize, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(args.get(i).map(|s| s.parse()).transpose()?.unwrap_or(default))
    };
    let (users, items) = (num(1, 136_677)? as usize, num(2, 20_108)? as usize);
    let (target, seed) = (num(3, 10_000_000)? as f64, num(4, 0)?);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Zipf popularity over shuffled ids.
    let mut ids: Vec<usize> = (0..items).collect();
    ids.shuffle(&mut rng);
    let mut pop = vec![0.0f64; items];
    for (rank, &id) in ids.iter().enumerate() {
        pop[id] = 1.0 / (rank + 1) as f64;
    }
    let global = WeightedIndex::new(&pop)?;
    let clusters: Vec<(Vec<usize>, WeightedIndex<f64>)> = (0..CLUSTERS)
        .map(|_| {
            let mut members: Vec<usize> = (0..items).collect();
            members.shuffle(&mut rng);
            members.truncate((items / 5).max(1));
            let w: Vec<f64> = members.iter().map(|&i| pop[i]).collect();
            WeightedIndex::new(&w).map(|d| (members, d))
        })
        .collect::<Result<_, _>>()?;
    // Log-normal activity scaled to the target, at least 5, at most half the items.
    let lognormal = LogNormal::new(0.0, 1.1)?;
    let raw: Vec<f64> = (0..users).map(|_| lognormal.sample(&mut rng)).collect();
    let scale = target / raw.iter().sum::<f64>();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(file, "userId,movieId")?;
    let mut total = 0usize;
    let mut seen = HashSet::new();
    for (u, a) in raw.iter().enumerate() {
        let n = ((a * scale).round() as usize).clamp(5, items / 2);
        let (members, dist) = &clusters[rng.random_range(0..CLUSTERS)];
        seen.clear();
        // Rare items are slow to draw: give up on a user's last few after 50 n draws.
        for _ in 0..50 * n {
            if seen.len() == n {
                break;
            }
            let item = if rng.random::<f64>() < 0.7 {
                members[dist.sample(&mut rng)]
            } else {
                global.sample(&mut rng)
            };
            if seen.insert(item) {
                writeln!(file, "{u},{item}")?;
            }
        }
        total += seen.len();
    }
    file.flush()?;
    eprintln!("{out}: {users} users x {items} items, {total} positives");
    Ok(())
}
