//! The real data sets under `shared/data`, when present (skipped otherwise).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use latent::ColumnValues;
use latent_data::{load, LoadOptions};

use std::io::Write as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn data_dir(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        // Straight to the terminal, past the harness's capture: a skip is never a silent `ok`.
        assert!(std::env::var_os("CI").is_none(), "SKIPPED under CI: {} not found", dir.display());
        let _ = writeln!(std::io::stderr(), "SKIPPED: {} not found", dir.display());
        None
    }
}

#[test]
fn mnist_test_and_train_sets() -> TestResult {
    let Some(dir) = data_dir("mnist") else { return Ok(()) };
    let ds = load(&dir.join("t10k-images-idx3-ubyte.gz"), &LoadOptions::default())?;
    assert_eq!((ds.frame.rows(), ds.frame.width()), (10000, 784));
    let shape = ds.frame.image_shape().ok_or("image shape")?;
    assert_eq!((shape.channels, shape.height, shape.width), (1, 28, 28));
    let values = ds.frame.to_row_major().ok_or("numeric")?;
    assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(values.contains(&1.0));
    let labels = ds.labels.ok_or("labels")?;
    let ColumnValues::Numeric(labels) = labels.values else { return Err("numeric labels".into()) };
    assert_eq!(labels.len(), 10000);
    assert!(labels.iter().all(|&l| l.fract() == 0.0 && (0.0..=9.0).contains(&l)));
    for digit in 0..10 {
        assert!(labels.contains(&(digit as f32)));
    }

    let start = Instant::now();
    let ds = load(&dir.join("train-images-idx3-ubyte.gz"), &LoadOptions::default())?;
    let took = start.elapsed();
    eprintln!("MNIST train (60000 x 784) loaded in {took:?}");
    assert_eq!((ds.frame.rows(), ds.frame.width()), (60000, 784));
    assert!(took.as_secs_f64() < 10.0, "took {took:?}");
    Ok(())
}

#[test]
fn kddcup_without_header() -> TestResult {
    let Some(dir) = data_dir("kddcup99") else { return Ok(()) };
    let opts = LoadOptions {
        has_header: false,
        label_column: Some("col41".into()),
        ..LoadOptions::default()
    };
    let start = Instant::now();
    let ds = load(&dir.join("kddcup.data_10_percent.gz"), &opts)?;
    eprintln!("KDD Cup 10% loaded in {:?}", start.elapsed());
    assert_eq!((ds.frame.rows(), ds.frame.width()), (494021, 41));
    for name in ["col1", "col2", "col3"] {
        let col = ds.frame.column(name).ok_or(name)?;
        assert!(matches!(col.values, ColumnValues::Text(_)), "{name}");
    }
    let text = ds.frame.columns().iter().filter(|c| matches!(c.values, ColumnValues::Text(_)));
    assert_eq!(text.count(), 3);
    let labels = ds.labels.ok_or("labels")?;
    let ColumnValues::Text(labels) = labels.values else { return Err("text labels".into()) };
    assert!(labels.iter().any(|l| l == "normal."));
    Ok(())
}
