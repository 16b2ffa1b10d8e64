//! Each reader and writer on small files written into a temporary folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use latent::{Column, ColumnValues, Frame, ImageShape};
use latent_data::{
    load, write_frame, write_idx_images, write_matrix, write_npy, Error, LoadOptions,
};
use npyz::WriterBuilder;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn numeric<'a>(frame: &'a Frame, name: &str) -> Option<&'a Vec<f32>> {
    match &frame.column(name)?.values {
        ColumnValues::Numeric(v) => Some(v),
        ColumnValues::Text(_) => None,
    }
}

fn text(col: Option<&Column>) -> Option<&Vec<String>> {
    match &col?.values {
        ColumnValues::Text(v) => Some(v),
        ColumnValues::Numeric(_) => None,
    }
}

fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

fn gzip(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(path)?, flate2::Compression::fast());
    gz.write_all(data)?;
    gz.finish()?;
    Ok(())
}

#[test]
fn csv_infers_types_and_takes_labels() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("data.csv");
    std::fs::write(
        &path,
        "a, colour ,code,y\n1.5,red,7,yes\n,blue,,no\n -2 ,,3,yes\n\"4e2\",\"red\",9,no\n",
    )?;
    let opts = LoadOptions {
        label_column: Some("y".into()),
        categorical: vec!["code".into()],
        ..LoadOptions::default()
    };
    let ds = load(&path, &opts)?;
    assert_eq!(ds.frame.names(), vec!["a", "colour", "code"]);
    assert_eq!(ds.frame.rows(), 4);
    assert!(same(numeric(&ds.frame, "a").ok_or("a numeric")?, &[1.5, f32::NAN, -2.0, 400.0]));
    assert_eq!(text(ds.frame.column("colour")).ok_or("colour text")?, &["red", "blue", "", "red"]);
    assert_eq!(text(ds.frame.column("code")).ok_or("code text")?, &["7", "", "3", "9"]);
    assert_eq!(text(ds.labels.as_ref()).ok_or("labels text")?, &["yes", "no", "yes", "no"]);
    assert_eq!(ds.source, path);
    Ok(())
}

#[test]
fn csv_numeric_labels_and_all_empty_columns_stay_numeric() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("d.csv");
    std::fs::write(&path, "x,empty,label\n1,,0\n2,,1\n")?;
    let opts = LoadOptions { label_column: Some("label".into()), ..LoadOptions::default() };
    let ds = load(&path, &opts)?;
    assert!(same(numeric(&ds.frame, "empty").ok_or("numeric")?, &[f32::NAN, f32::NAN]));
    let labels = ds.labels.ok_or("labels")?;
    assert_eq!(labels.values, ColumnValues::Numeric(vec![0.0, 1.0]));
    Ok(())
}

#[test]
fn csv_without_header_gz_tsv_and_other_delimiters() -> TestResult {
    let dir = tempfile::tempdir()?;
    let no_header = LoadOptions { has_header: false, ..LoadOptions::default() };

    let gz = dir.path().join("plain.csv.gz");
    gzip(&gz, b"1,a,2\n3,b,4\n")?;
    let ds = load(&gz, &no_header)?;
    assert_eq!(ds.frame.names(), vec!["col0", "col1", "col2"]);
    assert_eq!(numeric(&ds.frame, "col2"), Some(&vec![2.0, 4.0]));

    let tsv = dir.path().join("t.tsv");
    std::fs::write(&tsv, "p\tq\n1\t2\n")?;
    assert_eq!(load(&tsv, &LoadOptions::default())?.frame.names(), vec!["p", "q"]);

    let semi = dir.path().join("s.csv");
    std::fs::write(&semi, "p;q\n1;2\n")?;
    let opts = LoadOptions { delimiter: b';', ..LoadOptions::default() };
    assert_eq!(numeric(&load(&semi, &opts)?.frame, "q"), Some(&vec![2.0]));

    // A name without a known extension is recognised as delimited text by content.
    let data = dir.path().join("kdd.data_10_percent.gz");
    gzip(&data, b"0,tcp,1.5,normal.\n1,udp,2,smurf.\n")?;
    let opts = LoadOptions { label_column: Some("col3".into()), ..no_header };
    let ds = load(&data, &opts)?;
    assert_eq!(ds.frame.width(), 3);
    assert_eq!(text(ds.labels.as_ref()).ok_or("labels")?, &["normal.", "smurf."]);
    Ok(())
}

#[test]
fn csv_quoted_fields_and_crlf() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("q.csv");
    std::fs::write(&path, "name,v\r\n\"a, b\",1\r\n\"multi\nline\",2\r\n")?;
    let ds = load(&path, &LoadOptions::default())?;
    assert_eq!(text(ds.frame.column("name")).ok_or("text")?, &["a, b", "multi\nline"]);
    assert_eq!(numeric(&ds.frame, "v"), Some(&vec![1.0, 2.0]));
    Ok(())
}

fn npy_bytes<T: npyz::Serialize + npyz::AutoSerialize + Clone>(
    shape: &[u64],
    order: npyz::Order,
    values: &[T],
) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .order(order)
        .writer(&mut buf)
        .begin_nd()?;
    w.extend(values.iter().cloned())?;
    w.finish()?;
    Ok(buf)
}

#[test]
fn npy_element_types_orders_and_shapes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let c = npyz::Order::C;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("f64.npy", npy_bytes(&[2, 3], c, &[1f64, 2., 3., 4., 5., 6.])?),
        ("u8.npy", npy_bytes(&[2, 3], c, &[1u8, 2, 3, 4, 5, 6])?),
        ("i32.npy", npy_bytes(&[2, 3], c, &[1i32, 2, 3, 4, 5, 6])?),
        ("i64.npy", npy_bytes(&[2, 3], c, &[1i64, 2, 3, 4, 5, 6])?),
        ("fortran.npy", npy_bytes(&[2, 3], npyz::Order::Fortran, &[1f32, 4., 2., 5., 3., 6.])?),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        let ds = load(&path, &LoadOptions::default())?;
        assert_eq!(ds.frame.names(), vec!["f0", "f1", "f2"], "{name}");
        assert_eq!(ds.frame.to_row_major(), Some(vec![1., 2., 3., 4., 5., 6.]), "{name}");
        assert_eq!(ds.frame.image_shape(), None);
    }

    let one_d = dir.path().join("v.npy");
    std::fs::write(&one_d, npy_bytes(&[3], c, &[7f32, 8., 9.])?)?;
    let ds = load(&one_d, &LoadOptions::default())?;
    assert_eq!((ds.frame.rows(), ds.frame.names()), (3, vec!["f0".to_string()]));

    let three_d = dir.path().join("img.npy");
    std::fs::write(&three_d, npy_bytes(&[2, 2, 3], c, &[0u8; 12])?)?;
    let ds = load(&three_d, &LoadOptions::default())?;
    assert_eq!(ds.frame.image_shape(), Some(ImageShape { channels: 1, height: 2, width: 3 }));
    assert_eq!(ds.frame.names()[0], "pixel0");

    let four_d = dir.path().join("rgb.npy");
    std::fs::write(&four_d, npy_bytes(&[1, 3, 2, 2], c, &[0.5f32; 12])?)?;
    let ds = load(&four_d, &LoadOptions::default())?;
    assert_eq!(ds.frame.image_shape(), Some(ImageShape { channels: 3, height: 2, width: 2 }));

    let big_endian = dir.path().join("be.npy");
    let mut buf = Vec::new();
    let dtype = npyz::DType::Plain(">i4".parse::<npyz::TypeStr>()?);
    let mut w =
        npyz::WriteOptions::<i32>::new().dtype(dtype).shape(&[2]).writer(&mut buf).begin_nd()?;
    w.extend([-3i32, 70000])?;
    w.finish()?;
    std::fs::write(&big_endian, buf)?;
    assert_eq!(
        load(&big_endian, &LoadOptions::default())?.frame.to_row_major(),
        Some(vec![-3., 70000.])
    );
    Ok(())
}

fn write_npz(path: &Path, arrays: &[(&str, Vec<u8>)]) -> TestResult {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), zip::write::SimpleFileOptions::default())?;
        zip.write_all(bytes)?;
    }
    zip.finish()?;
    Ok(())
}

#[test]
fn npz_features_and_labels() -> TestResult {
    let dir = tempfile::tempdir()?;
    let c = npyz::Order::C;
    let path = dir.path().join("set.npz");
    write_npz(
        &path,
        &[
            ("y", npy_bytes(&[2], c, &[3i64, 4])?),
            ("x", npy_bytes(&[2, 2], c, &[1f32, 2., 3., 4.])?),
        ],
    )?;
    let ds = load(&path, &LoadOptions::default())?;
    assert_eq!(ds.frame.to_row_major(), Some(vec![1., 2., 3., 4.]));
    assert_eq!(ds.labels.map(|c| c.values), Some(ColumnValues::Numeric(vec![3., 4.])));

    let only = dir.path().join("only.npz");
    write_npz(&only, &[("arr_0", npy_bytes(&[1, 2], c, &[5f64, 6.])?)])?;
    let ds = load(&only, &LoadOptions::default())?;
    assert_eq!(ds.frame.to_row_major(), Some(vec![5., 6.]));
    assert!(ds.labels.is_none());
    Ok(())
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[test]
fn idx_images_with_sibling_labels() -> TestResult {
    let dir = tempfile::tempdir()?;
    let shape = ImageShape { channels: 1, height: 2, width: 3 };
    let images = dir.path().join("toy-images-idx3-ubyte.gz");
    let values: Vec<f32> = (0..12).map(|i| i as f32 / 11.0).collect();
    write_idx_images(&images, shape, 2, &values)?;
    gzip(&dir.path().join("toy-labels-idx1-ubyte.gz"), &idx_labels(&[7, 2]))?;
    let ds = load(&images, &LoadOptions::default())?;
    assert_eq!(ds.frame.rows(), 2);
    assert_eq!(ds.frame.image_shape(), Some(shape));
    let got = ds.frame.to_row_major().ok_or("numeric")?;
    assert!(got.iter().zip(&values).all(|(a, b)| (a - b).abs() <= 0.5 / 255.0 + 1e-6));
    let labels = ds.labels.ok_or("labels")?;
    assert_eq!(
        (labels.name.as_str(), labels.values),
        ("label", ColumnValues::Numeric(vec![7., 2.]))
    );

    // A labels file on its own is a one-column frame.
    let ds = load(&dir.path().join("toy-labels-idx1-ubyte.gz"), &LoadOptions::default())?;
    assert_eq!(ds.frame.names(), vec!["label"]);

    // Recognised by magic whatever the name; colour images use 4 dimensions.
    let rgb = dir.path().join("colour.bin");
    let rgb_shape = ImageShape { channels: 3, height: 1, width: 2 };
    write_idx_images(&rgb, rgb_shape, 1, &[0., 1., 0.2, 0.4, 0.6, 0.8])?;
    let ds = load(&rgb, &LoadOptions::default())?;
    assert_eq!(ds.frame.image_shape(), Some(rgb_shape));
    assert!(ds.labels.is_none());
    Ok(())
}

#[test]
fn image_folders_flat_and_by_class() -> TestResult {
    let dir = tempfile::tempdir()?;
    let flat = dir.path().join("flat");
    std::fs::create_dir(&flat)?;
    for i in 0..3u8 {
        let img = image::GrayImage::from_fn(3, 2, |x, y| image::Luma([i * 50 + (x + y) as u8]));
        img.save(flat.join(format!("{i}.png")))?;
    }
    std::fs::write(flat.join("notes.txt"), "not an image")?;
    let ds = load(&flat, &LoadOptions::default())?;
    assert_eq!(ds.frame.rows(), 3);
    assert_eq!(ds.frame.image_shape(), Some(ImageShape { channels: 1, height: 2, width: 3 }));
    let px = ds.frame.to_row_major().ok_or("numeric")?;
    assert_eq!(px[6], 50.0 / 255.0);
    assert_eq!(px[6 + 5], 53.0 / 255.0);
    assert!(ds.labels.is_none());

    let classes = dir.path().join("classes");
    for class in ["cat", "dog"] {
        std::fs::create_dir_all(classes.join(class))?;
    }
    let rgba = image::RgbaImage::from_fn(2, 2, |x, _| image::Rgba([255, 0, 51 * x as u8, 10]));
    rgba.save(classes.join("dog/a.png"))?;
    let grey = image::GrayImage::from_pixel(4, 4, image::Luma([255]));
    grey.save(classes.join("cat/b.png"))?;
    image::RgbImage::from_pixel(2, 2, image::Rgb([0, 128, 255])).save(classes.join("cat/c.jpg"))?;

    let opts = LoadOptions { resize: Some((2, 2)), ..LoadOptions::default() };
    let ds = load(&classes, &opts)?;
    assert_eq!(ds.frame.image_shape(), Some(ImageShape { channels: 3, height: 2, width: 2 }));
    assert_eq!(text(ds.labels.as_ref()).ok_or("labels")?, &["cat", "cat", "dog"]);
    let px = ds.frame.to_row_major().ok_or("numeric")?;
    // Row 0 is the grey image repeated on three channels; row 2 the RGBA one, channels first.
    assert!(px[..12].iter().all(|&v| v == 1.0));
    assert_eq!(&px[24..28], &[1.0, 1.0, 1.0, 1.0]);
    assert_eq!(&px[28..32], &[0.0; 4]);
    assert_eq!(&px[32..36], &[0.0, 0.2, 0.0, 0.2]);

    let opts = LoadOptions { resize: Some((2, 2)), grayscale: true, ..LoadOptions::default() };
    let ds = load(&classes, &opts)?;
    assert_eq!(ds.frame.image_shape(), Some(ImageShape { channels: 1, height: 2, width: 2 }));
    Ok(())
}

#[test]
fn writers_round_trip() -> TestResult {
    let dir = tempfile::tempdir()?;
    let names: Vec<String> = vec!["a".into(), "b".into()];
    let values = [1.0, f32::NAN, -0.25, 3e-8];
    for name in ["m.csv", "m.tsv", "m.csv.gz", "m.npy"] {
        let path = dir.path().join(name);
        // NPY has no "missing": the reader rejects NaN there.
        let values = if name.ends_with(".npy") { [1.0, 2.0, -0.25, 3e-8] } else { values };
        write_matrix(&path, &names, &values)?;
        let got = load(&path, &LoadOptions::default())?.frame.to_row_major().ok_or("numeric")?;
        let names_ok =
            name.ends_with(".npy") || load(&path, &LoadOptions::default())?.frame.names() == names;
        assert!(names_ok, "{name}");
        assert!(same(&got, &values), "{name}: {got:?}");
    }
    let npy = dir.path().join("w.npy");
    write_npy(&npy, 2, 1, &[1.0, 2.0])?;
    assert_eq!(load(&npy, &LoadOptions::default())?.frame.to_row_major(), Some(vec![1.0, 2.0]));

    let frame = Frame::new(vec![
        Column::numeric("x", vec![0.5, f32::NAN]),
        Column::text("kind", vec!["a,b".into(), String::new()]),
    ])?;
    let extra = [Column::numeric("score", vec![9.0, 8.0])];
    let csv = dir.path().join("f.csv");
    write_frame(&csv, &frame, &extra)?;
    let back =
        load(&csv, &LoadOptions { label_column: Some("score".into()), ..LoadOptions::default() })?;
    assert_eq!(back.frame.names(), vec!["x", "kind"]);
    assert_eq!(text(back.frame.column("kind")).ok_or("text")?, &["a,b", ""]);
    assert_eq!(back.labels.map(|c| c.values), Some(ColumnValues::Numeric(vec![9.0, 8.0])));

    let e = write_frame(&dir.path().join("f.npy"), &frame, &extra);
    assert!(matches!(e, Err(Error::Format { .. })), "{e:?}");
    let numeric_frame = Frame::from_rows(names.clone(), &[1.0, 2.0])?;
    write_frame(&dir.path().join("g.npy"), &numeric_frame, &[Column::numeric("s", vec![3.0])])?;
    let ds = load(&dir.path().join("g.npy"), &LoadOptions::default())?;
    assert_eq!(ds.frame.to_row_major(), Some(vec![1.0, 2.0, 3.0]));

    let e = write_matrix(&dir.path().join("m.xlsx"), &names, &values);
    assert!(e.as_ref().is_err_and(|e| e.to_string().contains("m.xlsx: unsupported output")));
    let e = write_matrix(&dir.path().join("m.csv"), &names, &values[..3]);
    assert!(e.is_err_and(|e| !e.is_bad_input()));
    Ok(())
}
