//! Interchange (issue 19): Parquet in and out, checked against files pyarrow writes and reads
//! (the ONNX export is checked in `onnx.rs`). The Python checks run with `LATENT_TEST_PYTHON`
//! (`.ci/run` sets up a venv with pyarrow, onnxruntime and onnx).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, run_python, stderr, stdout};
use std::path::{Path, PathBuf};

/// The small dense model of these tests: hidden 32, latent 8, 4 epochs.
const DENSE: [&str; 6] = ["--hidden", "32", "--latent", "8", "--epochs", "4"];

fn train(dir: &Path, name: &str, data: &str, extra: &[&str]) -> PathBuf {
    let mut args = DENSE.to_vec();
    args.extend_from_slice(extra);
    common::train_model(dir, name, data, &args)
}

/// Writes the digits CSV as Parquet with pyarrow: one zstd file, and a folder of two snappy
/// files (the rows split in two), with the label column as strings.
const TO_PARQUET: &str = r#"
import sys, os
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
t = pc.read_csv(sys.argv[1])
t = t.set_column(t.schema.get_field_index("label"), "label", t.column("label").cast(pa.string()))
pq.write_table(t, sys.argv[2], compression="zstd", row_group_size=300)
os.makedirs(sys.argv[3], exist_ok=True)
half = t.num_rows // 2
pq.write_table(t.slice(0, half), os.path.join(sys.argv[3], "part-0.parquet"), compression="snappy")
pq.write_table(t.slice(half), os.path.join(sys.argv[3], "part-1.parquet"), compression="snappy")
nested = pa.table({"x": [1.0, 2.0], "tags": [[1, 2], [3]]})
pq.write_table(nested, sys.argv[4])
"#;

#[test]
fn parquet_round_trips_with_pyarrow() {
    let Some((py, dir)) = common::python_and_dir("parquet_round_trips_with_pyarrow") else {
        return;
    };
    let (file, folder, nested) =
        (dir.path().join("d.parquet"), dir.path().join("parts"), dir.path().join("n.parquet"));
    run_python(&py, TO_PARQUET, &[&digits(), p(&file), p(&folder), p(&nested)]);
    let model = train(dir.path(), "m.safetensors", &digits(), &[]);

    // The same scores from the CSV, the Parquet file and the Parquet folder.
    let score = |data: &str| {
        stdout(&ok(latent(&["score", "--model", p(&model), "--data", data, "--quiet"])))
    };
    let from_csv = score(&digits());
    assert_eq!(score(p(&file)), from_csv);
    assert_eq!(score(p(&folder)), from_csv);
    // Scores and codes written as Parquet, read back by pyarrow.
    let scores = dir.path().join("s.parquet");
    ok(latent(&[
        "score",
        "--model",
        p(&model),
        "--data",
        p(&file),
        "--out",
        p(&scores),
        "--proba",
    ]));
    let codes = dir.path().join("codes.parquet");
    ok(latent(&["encode", "--model", p(&model), "--data", p(&file), "--out", p(&codes)]));
    let codes_csv = dir.path().join("codes.csv");
    ok(latent(&["encode", "--model", p(&model), "--data", &digits(), "--out", p(&codes_csv)]));
    let recon = dir.path().join("r.parquet");
    ok(latent(&["reconstruct", "--model", p(&model), "--data", p(&folder), "--out", p(&recon)]));
    let check = r#"
import sys, csv, io
import numpy as np, pyarrow.parquet as pq
s = pq.read_table(sys.argv[1])
assert s.column_names[:3] == ["score", "is_anomaly", "proba"], s.column_names
assert s.column_names[-1] == "label", s.column_names
assert str(s.schema.field("is_anomaly").type) == "bool"
rows = list(csv.DictReader(io.StringIO(open(sys.argv[2]).read())))
want = np.array([float(r["score"]) for r in rows])
got = s.column("score").to_numpy()
assert np.allclose(got, want, rtol=1e-6, atol=0), float(np.abs(got - want).max())
flags = [r["is_anomaly"] == "1" for r in rows]
assert s.column("is_anomaly").to_pylist() == flags
c = pq.read_table(sys.argv[3])
cc = list(csv.DictReader(open(sys.argv[4])))
assert c.column_names == list(cc[0].keys()), (c.column_names, list(cc[0].keys()))
z = np.array([[float(r[f"z{i}"]) for i in range(8)] for r in cc])
zp = np.stack([c.column(f"z{i}").to_numpy() for i in range(8)], axis=1)
assert np.allclose(zp, z, rtol=1e-5, atol=1e-6), float(np.abs(zp - z).max())
r = pq.read_table(sys.argv[5])
assert r.num_rows == len(rows) and r.column_names[0] == "p0", r.column_names
print(len(rows))
"#;
    let scores_csv = dir.path().join("s.csv");
    std::fs::write(&scores_csv, &from_csv).expect("write");
    let n =
        run_python(&py, check, &[p(&scores), p(&scores_csv), p(&codes), p(&codes_csv), p(&recon)]);
    assert!(n.trim().parse::<usize>().is_ok_and(|n| n > 1000), "{n}");

    // Training from Parquet gives the model training from the CSV gives.
    let from_parquet = train(dir.path(), "mp.safetensors", p(&file), &[]);
    let info = |m: &Path| stdout(&ok(latent(&["info", "--model", p(m)])));
    assert_eq!(
        info(&from_parquet).lines().find(|l| l.starts_with("architecture")),
        info(&model).lines().find(|l| l.starts_with("architecture"))
    );

    // Bad input: a nested column, a corrupt file, a truncated file: exit 2, named.
    let o = latent(&["score", "--model", p(&model), "--data", p(&nested)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"tags\"") && stderr(&o).contains("nested"), "{}", stderr(&o));
    let bytes = std::fs::read(&file).expect("read");
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).expect("write");
    for command in ["score", "encode"] {
        let mut args = vec![command, "--model", p(&model), "--data", p(&bad)];
        let out = dir.path().join("o.parquet");
        if command == "encode" {
            args.extend(["--out", p(&out)]);
        }
        let o = latent(&args);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        assert!(stderr(&o).contains("bad.parquet"), "{}", stderr(&o));
        assert!(!out.exists());
    }
    let o = latent(&["train", "--data", p(&bad), "--out", p(&dir.path().join("x.safetensors"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
