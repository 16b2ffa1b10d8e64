//! Every kind of bad input gives a clear error naming the file (and line and column for CSV),
//! never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use latent::ColumnValues;
use latent::ImageShape;
use latent_data::{load, write_idx_images, write_npy, Dataset, Error, LoadOptions, Result};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The error message of a load that must fail ("" when it succeeded, failing the caller's check).
fn message(r: &Result<Dataset>) -> String {
    match r {
        Ok(_) => String::new(),
        Err(e) => {
            assert!(e.is_bad_input(), "{e}");
            e.to_string()
        }
    }
}

fn load_text(dir: &Path, name: &str, content: &str) -> Result<Dataset> {
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(|e| Error::Io { path: path.clone(), source: e })?;
    load(&path, &LoadOptions::default())
}

fn load_bytes(dir: &Path, name: &str, content: &[u8]) -> Result<Dataset> {
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(|e| Error::Io { path: path.clone(), source: e })?;
    load(&path, &LoadOptions::default())
}

#[test]
fn csv_ragged_row() -> TestResult {
    let dir = tempfile::tempdir()?;
    let r = load_text(dir.path(), "ragged.csv", "a,b,c,d\n1,2,3,4\n1,2,3\n");
    assert!(matches!(r, Err(Error::Text { line: 3, column: None, .. })));
    assert!(message(&r).ends_with("ragged.csv: line 3: row has 3 fields, header has 4"));
    let opts = LoadOptions { has_header: false, ..LoadOptions::default() };
    let path = dir.path().join("nohead.csv");
    std::fs::write(&path, "1,2\n3,4,5\n")?;
    let msg = message(&load(&path, &opts));
    assert!(msg.ends_with("nohead.csv: line 2: row has 3 fields, first row has 2"), "{msg}");
    // A quoted field spanning lines: the physical line of the bad row is reported.
    let r = load_text(dir.path(), "multi.csv", "a,b\n\"x\ny\",1\n1\n");
    assert!(message(&r).ends_with("multi.csv: line 4: row has 1 fields, header has 2"));
    Ok(())
}

#[test]
fn csv_non_numeric_in_numeric_column() -> TestResult {
    let dir = tempfile::tempdir()?;
    let r = load_text(dir.path(), "data.csv", "id,amount\n1,2\n2,3\n3,\n4,abc\n");
    assert!(matches!(r, Err(Error::Text { line: 5, .. })));
    let msg = message(&r);
    assert!(msg.ends_with(
        "data.csv: line 5, column \"amount\": non-numeric value \"abc\" in a numeric column \
         (declare \"amount\" categorical if it is a category)"
    ));
    // Text first, then a number: the first non-numeric cell is reported.
    let msg = message(&load_text(dir.path(), "mix.csv", "k\nred\n\n3\nblue\n"));
    assert!(msg.ends_with("mix.csv: line 2, column \"k\": non-numeric value \"red\" in a numeric column (declare \"k\" categorical if it is a category)"), "{msg}");
    Ok(())
}

#[test]
fn csv_nan_and_infinities() -> TestResult {
    let dir = tempfile::tempdir()?;
    for bad in ["inf", "-inf", "1e39", "Infinity"] {
        let msg = message(&load_text(dir.path(), "nf.csv", &format!("w,x\n1,2\n1,{bad}\n")));
        assert!(
            msg.ends_with(&format!("nf.csv: line 3, column \"x\": value \"{bad}\" is not finite")),
            "{msg}"
        );
    }
    // Also in a column that is otherwise text.
    let msg = message(&load_text(dir.path(), "t.csv", "x\na\ninf\n"));
    assert!(msg.ends_with("t.csv: line 3, column \"x\": value \"inf\" is not finite"), "{msg}");
    Ok(())
}

/// Missing values as files write them: empty, NA, N/A, NaN, nan, null, None, ? (and
/// `na_values`), in the loader and in the stream alike; in text columns they are empty.
#[test]
fn csv_missing_value_markers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "x,c\n1,a\nNA,b\nN/A,?\nNaN,c\nnan,NA\nnull,a\nNone,b\n?,c\n,a\n-999,b\n";
    let path = dir.path().join("m.csv");
    std::fs::write(&path, text)?;
    let opts = LoadOptions { na_values: vec!["-999".into()], ..LoadOptions::default() };
    let ds = latent_data::load(&path, &opts)?;
    let ColumnValues::Numeric(x) = &ds.frame.columns()[0].values else { panic!("numeric") };
    assert!(!x[0].is_nan() && x[1..].iter().all(|v| v.is_nan()), "{x:?}");
    let ColumnValues::Text(c) = &ds.frame.columns()[1].values else { panic!("text") };
    assert_eq!(c[2], "");
    assert_eq!(c[4], "");
    // The stream reads the same cells the same way.
    let sopts = latent_data::StreamOptions {
        na_values: vec!["-999".into()],
        categorical: vec!["c".into()],
        ..latent_data::StreamOptions::default()
    };
    let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(text.to_string()));
    let mut chunks = latent_data::CsvChunks::new(input, &path, &sopts)?;
    let mut xs = Vec::new();
    while let Some(block) = chunks.next_block()? {
        if let Some(chunk) = chunks.schema().parse(&block)? {
            if let ColumnValues::Numeric(v) = &chunk.frame.columns()[0].values {
                xs.extend_from_slice(v);
            }
        }
    }
    assert_eq!(xs.len(), 10);
    assert!(!xs[0].is_nan() && xs[1..].iter().all(|v| v.is_nan()), "{xs:?}");
    Ok(())
}

#[test]
fn csv_empty_and_header_only() -> TestResult {
    let dir = tempfile::tempdir()?;
    let r = load_text(dir.path(), "x.csv", "");
    assert!(matches!(r, Err(Error::Format { .. })));
    assert!(message(&r).ends_with("x.csv: file is empty"));
    assert!(
        message(&load_text(dir.path(), "blank.csv", "\n\n")).ends_with("blank.csv: file is empty")
    );
    assert!(message(&load_text(dir.path(), "h.csv", "a,b\n")).ends_with("h.csv: no data rows"));
    Ok(())
}

#[test]
fn csv_missing_label_or_categorical_column() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("l.csv");
    std::fs::write(&path, "a,b\n1,2\n")?;
    let opts = LoadOptions { label_column: Some("target".into()), ..LoadOptions::default() };
    let msg = message(&load(&path, &opts));
    assert!(msg.contains("l.csv: label column \"target\" not found; columns are: a, b"), "{msg}");
    let opts = LoadOptions { categorical: vec!["c".into()], ..LoadOptions::default() };
    assert!(message(&load(&path, &opts)).contains("categorical column \"c\" not found"));
    let msg = message(&load_text(dir.path(), "dup.csv", "a,a\n1,2\n"));
    assert!(msg.contains("dup.csv: line 1: column name \"a\" appears twice"), "{msg}");
    let opts = LoadOptions { label_column: Some("a".into()), ..LoadOptions::default() };
    let path = dir.path().join("one.csv");
    std::fs::write(&path, "a\n1\n")?;
    assert!(message(&load(&path, &opts)).contains("no feature columns"));
    Ok(())
}

#[test]
fn csv_invalid_utf8_and_corrupt_gzip() -> TestResult {
    let dir = tempfile::tempdir()?;
    let msg = message(&load_bytes(dir.path(), "u.csv", b"a,b\n1,\xff\xfe\n"));
    assert!(msg.contains("u.csv: line 2, column \"b\": invalid UTF-8"), "{msg}");
    let msg = message(&load_bytes(dir.path(), "c.csv.gz", b"definitely not gzip"));
    assert!(msg.starts_with(&dir.path().join("c.csv.gz").display().to_string()), "{msg}");
    Ok(())
}

#[test]
fn unreadable_path_and_unsupported_format() -> TestResult {
    let r = load(Path::new("missing/path.csv"), &LoadOptions::default());
    assert!(matches!(r, Err(Error::Io { .. })));
    assert_eq!(message(&r), "missing/path.csv: No such file or directory (os error 2)");
    let dir = tempfile::tempdir()?;
    let r = load_text(dir.path(), "model.json", "{\"a\": 1, \"b\": 2}");
    assert!(matches!(r, Err(Error::Unsupported { .. })));
    let msg = message(&r);
    assert!(msg.contains("model.json: unsupported format") && msg.contains(".npz"), "{msg}");
    Ok(())
}

#[test]
fn idx_truncated_wrong_magic_and_mismatches() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut header = vec![0u8, 0, 8, 3];
    for d in [60000u32, 28, 28] {
        header.extend_from_slice(&d.to_be_bytes());
    }
    let mut truncated = header.clone();
    truncated.resize(1000, 7);
    let r = load_bytes(dir.path(), "train.idx3", &truncated);
    assert!(matches!(r, Err(Error::Format { .. })));
    assert!(message(&r)
        .ends_with("train.idx3: truncated IDX file: expected 47040016 bytes, found 1000"));
    let msg = message(&load_bytes(dir.path(), "short.idx3", &header[..9]));
    assert!(msg.contains("short.idx3: truncated IDX file"), "{msg}");

    let msg = message(&load_bytes(dir.path(), "magic-idx3", b"\x01\x02\x08\x03rest of file"));
    assert!(msg.contains("magic-idx3: not an IDX file (bad magic"), "{msg}");
    let msg = message(&load_bytes(dir.path(), "extra.idx1", &[0, 0, 8, 1, 0, 0, 0, 1, 5, 6]));
    assert!(msg.contains("extra.idx1: IDX file length mismatch"), "{msg}");

    let images = dir.path().join("a-images-idx3-ubyte");
    write_idx_images(&images, ImageShape { channels: 1, height: 1, width: 1 }, 3, &[0.; 3])?;
    std::fs::write(dir.path().join("a-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 2, 1, 2])?;
    let msg = message(&load(&images, &LoadOptions::default()));
    assert!(
        msg.contains("a-labels-idx1-ubyte: labels of shape [2] do not match 3 images"),
        "{msg}"
    );

    let mut nan = vec![0u8, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    nan.extend_from_slice(&1f32.to_be_bytes());
    nan.extend_from_slice(&f32::NAN.to_be_bytes());
    let msg = message(&load_bytes(dir.path(), "f.idx2", &nan));
    assert!(msg.contains("f.idx2: row 1, column \"f1\": value NaN is not finite"), "{msg}");
    Ok(())
}

#[test]
fn npy_truncated_wrong_magic_and_bad_values() -> TestResult {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("good.npy");
    write_npy(&good, 4, 3, &[0.5; 12])?;
    let bytes = std::fs::read(&good)?;

    let r = load_bytes(dir.path(), "cut.npy", &bytes[..bytes.len() - 5]);
    assert!(matches!(r, Err(Error::Format { .. })));
    let msg = message(&r);
    assert!(
        msg.ends_with("cut.npy: truncated NPY file: expected 48 data bytes, found 43"),
        "{msg}"
    );
    let msg = message(&load_bytes(dir.path(), "head.npy", &bytes[..30]));
    assert!(msg.contains("head.npy: truncated NPY file (incomplete header)"), "{msg}");
    let msg = message(&load_bytes(dir.path(), "x.npy", b"PK\x03\x04 this is a zip"));
    assert_eq!(msg, format!("{}: not an NPY file (bad magic)", dir.path().join("x.npy").display()));
    assert!(message(&load_bytes(dir.path(), "e.npy", b"")).ends_with("e.npy: file is empty"));

    let mut inf = bytes.clone();
    let at = inf.len() - 4 * 4;
    inf[at..at + 4].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
    let msg = message(&load_bytes(dir.path(), "inf.npy", &inf));
    assert!(msg.ends_with("inf.npy: row 3, column \"f2\": value -inf is not finite"), "{msg}");

    let mut text = bytes.clone();
    let pos = text.windows(3).position(|w| w == b"<f4").ok_or("descr")?;
    text[pos..pos + 3].copy_from_slice(b"<U1");
    let msg = message(&load_bytes(dir.path(), "str.npy", &text));
    assert!(msg.contains("str.npy: unsupported NPY element type"), "{msg}");

    let msg = message(&load_bytes(dir.path(), "bad.npz", b"PK\x03\x04 not really"));
    assert!(msg.contains("bad.npz: not a readable NPZ"), "{msg}");
    Ok(())
}

#[test]
fn image_folder_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    assert!(message(&load(&empty, &LoadOptions::default())).contains("no PNG or JPEG images"));

    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken)?;
    image::GrayImage::new(2, 2).save(broken.join("a.png"))?;
    std::fs::write(broken.join("b.png"), b"\x89PNG but not really")?;
    let r = load(&broken, &LoadOptions::default());
    assert!(matches!(r, Err(Error::Image { .. })));
    let msg = message(&r);
    assert!(msg.contains("b.png: cannot decode image"), "{msg}");

    let sizes = dir.path().join("sizes");
    std::fs::create_dir(&sizes)?;
    image::GrayImage::new(2, 2).save(sizes.join("a.png"))?;
    image::GrayImage::new(3, 2).save(sizes.join("b.png"))?;
    let msg = message(&load(&sizes, &LoadOptions::default()));
    assert!(msg.contains("b.png: image is 3x2 but") && msg.contains("a.png is 2x2"), "{msg}");
    let opts = LoadOptions { resize: Some((2, 2)), ..LoadOptions::default() };
    assert_eq!(load(&sizes, &opts)?.frame.rows(), 2);

    std::fs::create_dir(sizes.join("class"))?;
    image::GrayImage::new(2, 2).save(sizes.join("class/c.png"))?;
    let msg = message(&load(&sizes, &opts));
    assert!(msg.contains("a.png: image lies beside class sub-folders"), "{msg}");
    Ok(())
}
