//! `latent compress` streams (issue 17): standard input, image folders, IDX and NPY files are read in chunks
//! and coded block by block, so a large input compresses in less memory than it takes loaded;
//! the file is the same as the one written from the whole input, and decodes exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{latent, ok, p, repo, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    repo().join("crates/latent-cli/tests/data/codec")
}

/// The memory (data segment, `ulimit -d`) the streamed run may use: less than the input's
/// values take loaded (600,000 rows x 64 columns x 4 bytes = 154 MB).
const LIMIT_KB: u64 = 120_000;

/// Copies of the 40 rows of `input.csv`.
const COPIES: usize = 15_000;

/// `latent compress` of `data` under the memory limit (`-` reads `input` on standard input).
fn compress_limited(model: &Path, data: &str, input: Option<&Path>, out: &Path) -> Output {
    let redirect = input.map_or(String::new(), |i| format!(" < \"{}\"", i.display()));
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -d {LIMIT_KB} && exec \"$0\" \"$@\"{redirect}"))
        .arg(env!("CARGO_BIN_EXE_latent"))
        .args(["compress", "--model", p(model), "--data", data, "--out", p(out)])
        .output()
        .expect("run bash")
}

/// The integer codes of a `.lat` file (`decompress --codes`), one row per image or row.
fn decoded_codes(model: &Path, lat: &Path, out: &Path) -> Vec<Vec<i64>> {
    let args = ["decompress", "--model", p(model), "--data", p(lat), "--out", p(out)];
    ok(latent(&[&args[..], &["--codes"]].concat()));
    rows(&std::fs::read_to_string(out).unwrap())
}

/// Compresses `big` (copies of the images of `small`) under the memory limit and checks
/// that image `i` decodes to the code of image `i % n` of `small`.
fn check_big_against_small(dir: &Path, model: &Path, small: &Path, big: &Path, n: usize) {
    let lat = dir.join("big.lat");
    let o = compress_limited(model, p(big), None, &lat);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("compressed {} rows", n * IDX_COPIES)), "{}", stderr(&o));
    let small_lat = dir.join("small.lat");
    ok(latent(&["compress", "--model", p(model), "--data", p(small), "--out", p(&small_lat)]));
    let expected = decoded_codes(model, &small_lat, &dir.join("small.csv"));
    let back = decoded_codes(model, &lat, &dir.join("big.csv"));
    assert_eq!(back.len(), n * IDX_COPIES);
    for (i, row) in back.iter().enumerate() {
        assert_eq!(row, &expected[i % n], "image {i}");
    }
}

/// The integer rows of a CSV file with a header.
fn rows(text: &str) -> Vec<Vec<i64>> {
    text.lines().skip(1).map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect()
}

#[test]
fn stdin_compresses_in_less_memory_than_its_values_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("model.safetensors");
    let small = std::fs::read_to_string(fixtures().join("input.csv")).unwrap();
    let (header, body) = small.split_once('\n').unwrap();
    let big = dir.path().join("big.csv");
    let mut text = String::with_capacity(body.len() * COPIES + header.len() + 1);
    text.push_str(header);
    text.push('\n');
    for _ in 0..COPIES {
        text.push_str(body);
    }
    std::fs::write(&big, text).unwrap();
    let values = 40 * COPIES * header.split(',').count() * 4;
    assert!(values as u64 > LIMIT_KB * 1024, "the values ({values} bytes) exceed the limit");

    let lat = dir.path().join("big.lat");
    let o = compress_limited(&model, "-", Some(&big), &lat);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("compressed {} rows", 40 * COPIES)), "{}", stderr(&o));

    // Every row decodes to exactly the committed codes of its copy of input.csv.
    let codes = dir.path().join("codes.csv");
    let args = ["decompress", "--model", p(&model), "--data", p(&lat), "--out", p(&codes)];
    ok(latent(&[&args[..], &["--codes"]].concat()));
    let golden = rows(&std::fs::read_to_string(fixtures().join("golden-codes.csv")).unwrap());
    let back = rows(&std::fs::read_to_string(&codes).unwrap());
    assert_eq!(back.len(), 40 * COPIES);
    for (i, row) in back.iter().enumerate() {
        assert_eq!(row, &golden[i % 40], "row {i}");
    }

    // The same data from a file gives the same bytes as from standard input.
    let from_file = dir.path().join("file.lat");
    ok(latent(&["compress", "--model", p(&model), "--data", p(&big), "--out", p(&from_file)]));
    assert_eq!(std::fs::read(&from_file).unwrap(), std::fs::read(&lat).unwrap());
}

#[test]
fn an_image_folder_compresses_in_chunks_like_its_idx_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let idx = fixtures().join("compress-input-idx3-ubyte");
    // The IDX images as a folder of PNG files (lossless).
    let folder = dir.path().join("pngs");
    let bytes = std::fs::read(&idx).unwrap();
    let n = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let (h, w) = (
        u32::from_be_bytes(bytes[8..12].try_into().unwrap()),
        u32::from_be_bytes(bytes[12..16].try_into().unwrap()),
    );
    std::fs::create_dir_all(&folder).unwrap();
    let size = (h * w) as usize;
    for i in 0..n {
        let pixels = bytes[16 + i * size..16 + (i + 1) * size].to_vec();
        let img = image::GrayImage::from_raw(w, h, pixels).unwrap();
        img.save(folder.join(format!("{i:03}.png"))).unwrap();
    }
    let (a, b) = (dir.path().join("idx.lat"), dir.path().join("folder.lat"));
    ok(latent(&["compress", "--model", p(&model), "--data", p(&idx), "--out", p(&a)]));
    ok(latent(&["compress", "--model", p(&model), "--data", p(&folder), "--out", p(&b)]));
    let codes = |lat: &Path, name: &str| {
        let out = dir.path().join(name);
        let args = ["decompress", "--model", p(&model), "--data", p(lat), "--out", p(&out)];
        ok(latent(&[&args[..], &["--codes"]].concat()));
        std::fs::read_to_string(out).unwrap()
    };
    assert_eq!(codes(&a, "a.csv"), codes(&b, "b.csv"));
    assert_eq!(rows(&codes(&b, "b.csv")).len(), n);
    // A folder with no images is a clear error.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = latent(&["compress", "--model", p(&model), "--data", p(&empty), "--out", p(&b)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no PNG or JPEG images"), "{}", stderr(&o));
}

/// Copies of the 16 images of `compress-input-idx3-ubyte` in the large IDX file: 32,000 x 16
/// images of 8 x 8 pixels take 131 MB as f32 values loaded, more than [`LIMIT_KB`].
const IDX_COPIES: usize = 32_000;

#[test]
fn an_idx_file_compresses_in_chunks_in_less_memory_than_it_takes_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let small = std::fs::read(fixtures().join("compress-input-idx3-ubyte")).unwrap();
    let (n, body) = (16, &small[16..]);
    let mut big = small[..16].to_vec();
    big[4..8].copy_from_slice(&((n * IDX_COPIES) as u32).to_be_bytes());
    for _ in 0..IDX_COPIES {
        big.extend_from_slice(body);
    }
    let values = n * IDX_COPIES * 64 * 4;
    assert!(values as u64 > LIMIT_KB * 1024, "the values ({values} bytes) exceed the limit");
    let big_path = dir.path().join("big-idx3-ubyte");
    std::fs::write(&big_path, &big).unwrap();
    // Every image decodes to the code of its copy in the small file.
    let small_path = fixtures().join("compress-input-idx3-ubyte");
    check_big_against_small(dir.path(), &model, &small_path, &big_path, n);
    // A cut or padded IDX file is a clear error (exit 2), found while streaming.
    for (name, bytes) in
        [("cut", &big[..big.len() - 10]), ("long", &[&big[..], &[0u8; 3]].concat()[..])]
    {
        let path = dir.path().join(format!("{name}-idx3-ubyte"));
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join(format!("{name}.lat"));
        let o = latent(&["compress", "--model", p(&model), "--data", p(&path), "--out", p(&out)]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let want = if name == "cut" { "truncated IDX file" } else { "IDX file length mismatch" };
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: no partial output");
    }
}

/// An NPY file of `u8` images (`(n, 8, 8)`, C order) holding `copies` copies of the 16 images
/// of `compress-input-idx3-ubyte`.
fn npy_images(path: &Path, copies: usize) {
    let idx = std::fs::read(fixtures().join("compress-input-idx3-ubyte")).unwrap();
    let dict =
        format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, 8, 8), }}", 16 * copies);
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&header);
    for _ in 0..copies {
        bytes.extend_from_slice(&idx[16..]);
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn an_npy_file_compresses_in_chunks_in_less_memory_than_it_takes_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let (small, big) = (dir.path().join("small.npy"), dir.path().join("big.npy"));
    npy_images(&small, 1);
    npy_images(&big, IDX_COPIES);
    check_big_against_small(dir.path(), &model, &small, &big, 16);
    // A cut file: a clear error, no output.
    let bytes = std::fs::read(&small).unwrap();
    let cut = dir.path().join("cut.npy");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    let out = dir.path().join("cut.lat");
    let o = latent(&["compress", "--model", p(&model), "--data", p(&cut), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated NPY file: expected 1024 data bytes, found 1019"));
    assert!(!out.exists());
}
