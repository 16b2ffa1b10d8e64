//! Property tests: what the writers write, the readers read back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::ImageShape;
use latent_data::{load, write_idx_images, write_matrix, write_npy, LoadOptions};
use proptest::prelude::*;

/// Finite values, sometimes missing (`NaN`), at any magnitude.
fn cell() -> BoxedStrategy<f32> {
    prop_oneof![
        8 => finite(),
        1 => Just(f32::NAN),
        1 => (-1000i32..1000i32).prop_map(|v| v as f32 / 8.0),
    ]
    .boxed()
}

/// Finite values only.
fn finite() -> BoxedStrategy<f32> {
    any::<f32>().prop_filter("finite", |v| v.is_finite()).boxed()
}

/// `(rows, cols, values)` with `rows * cols` values.
fn matrix(value: BoxedStrategy<f32>) -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
    (1usize..20, 1usize..6).prop_flat_map(move |(r, c)| {
        (Just(r), Just(c), proptest::collection::vec(value.clone(), r * c))
    })
}

fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn npy_round_trip((rows, cols, values) in matrix(finite())) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("m.npy");
        write_npy(&path, rows, cols, &values).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ds = load(&path, &LoadOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((ds.frame.rows(), ds.frame.width()), (rows, cols));
        prop_assert_eq!(ds.frame.to_row_major(), Some(values));
    }

    #[test]
    fn idx_round_trip(
        (rows, channels, height, width) in (1usize..5, prop_oneof![Just(1usize), Just(3)], 1usize..6, 1usize..6),
        seed in proptest::collection::vec(0.0f32..=1.0, 5 * 3 * 5 * 5),
        gz in any::<bool>(),
    ) {
        let shape = ImageShape { channels, height, width };
        let values = &seed[..rows * shape.len()];
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join(if gz { "x-images-idx3-ubyte.gz" } else { "x-images-idx3-ubyte" });
        write_idx_images(&path, shape, rows, values).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ds = load(&path, &LoadOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(ds.frame.image_shape(), Some(shape));
        let got = ds.frame.to_row_major().unwrap_or_default();
        let want: Vec<f32> = values.iter().map(|v| (v * 255.0).round() / 255.0).collect();
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!((g - w).abs() < 1e-6, "{} vs {}", g, w);
        }
    }

    #[test]
    fn csv_round_trip((rows, cols, values) in matrix(cell()), gz in any::<bool>()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join(if gz { "m.csv.gz" } else { "m.csv" });
        let names: Vec<String> = (0..cols).map(|i| format!("c{i}")).collect();
        write_matrix(&path, &names, &values).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ds = load(&path, &LoadOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(ds.frame.names(), names);
        prop_assert_eq!(ds.frame.rows(), rows);
        let got = ds.frame.to_row_major().unwrap_or_default();
        prop_assert!(same(&got, &values), "{:?} vs {:?}", got, values);
    }
}
