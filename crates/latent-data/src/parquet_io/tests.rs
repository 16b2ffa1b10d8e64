//! Parquet reading and writing: type mapping, folders, streaming and bad input.

use std::path::Path;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use arrow_array::builder::{Int32Builder, ListBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampSecondArray,
};
use latent::ColumnValues;

use super::*;

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let file = File::create(path).expect("create");
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

fn numbers(ds: &Dataset, name: &str) -> Vec<f32> {
    match ds.frame.column(name).map(|c| &c.values) {
        Some(ColumnValues::Numeric(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

fn texts(c: Option<&Column>) -> Vec<String> {
    match c.map(|c| &c.values) {
        Some(ColumnValues::Text(v)) => v.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn types_map_to_features_categories_and_missing_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.parquet");
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    dict.append_value("red");
    dict.append_null();
    dict.append_value("blue");
    write(
        &path,
        vec![
            ("i", Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef),
            ("f", Arc::new(Float64Array::from(vec![0.5, f64::NAN, -2.0])) as ArrayRef),
            ("b", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec![Some("x"), Some("NA"), None])) as ArrayRef),
            ("d", Arc::new(dict.finish()) as ArrayRef),
            ("t", Arc::new(TimestampSecondArray::from(vec![0, 86_400, 90_000])) as ArrayRef),
            ("y", Arc::new(Int64Array::from(vec![0, 1, 0])) as ArrayRef),
        ],
    );
    let opts = LoadOptions { label_column: Some("y".into()), ..LoadOptions::default() };
    let ds = crate::load(&path, &opts).expect("load");
    assert_eq!(ds.frame.rows(), 3);
    let i = numbers(&ds, "i");
    assert_eq!((i[0], i[2]), (1.0, 3.0));
    assert!(i[1].is_nan());
    assert!(numbers(&ds, "f")[1].is_nan());
    let b = numbers(&ds, "b");
    assert_eq!((b[0], b[1]), (1.0, 0.0));
    assert!(b[2].is_nan());
    assert_eq!(texts(ds.frame.column("s")), ["x", "", ""]);
    assert_eq!(texts(ds.frame.column("d")), ["red", "", "blue"]);
    assert_eq!(numbers(&ds, "t"), [0.0, 86_400.0, 90_000.0]);
    assert_eq!(ds.labels.as_ref().map(|l| l.values.cell_text(1)), Some("1".to_string()));
    // A timestamp read as text (a time-series model's time column) is ISO-8601.
    let opts = LoadOptions { categorical: vec!["t".into()], ..LoadOptions::default() };
    let ds = crate::load(&path, &opts).expect("load");
    let t = texts(ds.frame.column("t"));
    assert_eq!(t[2], "1970-01-02 01:00:00");
    assert_eq!(latent::series::time::parse_timestamp(&t[2]), Some(90_000_000_000));
}

#[test]
fn a_folder_is_one_data_set_streamed_in_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, values) in [("b.parquet", vec![3.0, 4.0, 5.0]), ("a.parquet", vec![1.0, 2.0])] {
        write(
            &dir.path().join(name),
            vec![("x", Arc::new(Float64Array::from(values)) as ArrayRef)],
        );
    }
    std::fs::write(dir.path().join("notes.txt"), "not data").expect("write");
    let ds = crate::load(dir.path(), &LoadOptions::default()).expect("load");
    assert_eq!(numbers(&ds, "x"), [1.0, 2.0, 3.0, 4.0, 5.0]);
    let opts = StreamOptions { chunk_rows: 2, ..StreamOptions::default() };
    let chunks: Vec<Chunk> =
        ParquetChunks::open(dir.path(), &opts).expect("open").collect::<Result<_>>().expect("read");
    let rows: Vec<usize> = chunks.iter().map(|c| c.frame.rows()).collect();
    assert_eq!(rows, [2, 2, 1]);
    assert_eq!(chunks[2].first_line, 3);
    // A file with other columns is refused, naming it.
    write(
        &dir.path().join("c.parquet"),
        vec![("z", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)],
    );
    let e = crate::load(dir.path(), &LoadOptions::default()).expect_err("differs").to_string();
    assert!(e.contains("c.parquet") && e.contains("columns differ"), "{e}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nested: named.
    let path = dir.path().join("nested.parquet");
    let mut list = ListBuilder::new(Int32Builder::new());
    list.values().append_value(1);
    list.append(true);
    write(
        &path,
        vec![
            ("ok", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
            ("tags", Arc::new(list.finish()) as ArrayRef),
        ],
    );
    let e = crate::load(&path, &LoadOptions::default()).expect_err("nested").to_string();
    assert!(e.contains("\"tags\"") && e.contains("nested"), "{e}");
    // Not Parquet, truncated, empty.
    let path = dir.path().join("bad.parquet");
    std::fs::write(&path, b"a,b\n1,2\n").expect("write");
    let e = crate::load(&path, &LoadOptions::default()).expect_err("bad").to_string();
    assert!(e.contains("bad.parquet") && e.contains("Parquet"), "{e}");
    let good = dir.path().join("good.parquet");
    write(&good, vec![("x", Arc::new(Float64Array::from(vec![1.0; 100])) as ArrayRef)]);
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    assert!(crate::load(&path, &LoadOptions::default()).is_err());
    let mut flipped = bytes.clone();
    for b in flipped.iter_mut().skip(4).take(bytes.len().saturating_sub(12)) {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &flipped).expect("write");
    assert!(crate::load(&path, &LoadOptions::default()).is_err());
    // Infinity is refused with its row and column, as in CSV.
    write(&path, vec![("x", Arc::new(Float64Array::from(vec![1.0, f64::INFINITY])) as ArrayRef)]);
    let e = crate::load(&path, &LoadOptions::default()).expect_err("inf").to_string();
    assert!(e.contains("row 2") && e.contains("\"x\""), "{e}");
    // A missing label column.
    let opts = LoadOptions { label_column: Some("y".into()), ..LoadOptions::default() };
    let e = crate::load(&good, &opts).expect_err("label").to_string();
    assert!(e.contains("label column \"y\" not found"), "{e}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    assert!(!is_parquet(&empty));
}

#[test]
fn written_tables_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.parquet");
    let rows = ROW_GROUP_ROWS + 10;
    let x: Vec<f32> = (0..rows).map(|i| if i == 5 { f32::NAN } else { i as f32 * 0.5 }).collect();
    let frame = Frame::new(vec![Column::numeric("x", x.clone())]).expect("frame");
    let ids = Column::text("id", (0..rows).map(|i| format!("r{i}")).collect());
    crate::write_frame(&path, &frame, std::slice::from_ref(&ids)).expect("write");
    let opts = LoadOptions { id_columns: vec!["id".into()], ..LoadOptions::default() };
    let ds = crate::load(&path, &opts).expect("load");
    let back = numbers(&ds, "x");
    assert_eq!(back.len(), rows);
    assert!(back[5].is_nan());
    assert_eq!(back[rows - 1], x[rows - 1]);
    assert_eq!(texts(ds.ids.first()), texts(Some(&ids)));
    let file = File::open(&path).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    assert_eq!(builder.metadata().num_row_groups(), 2);
    // Typed columns.
    let types = [("n".to_string(), ParquetType::Int64), ("f".to_string(), ParquetType::Boolean)];
    let mut w = ParquetWriter::create(&path, &types).expect("create");
    let (n, f) = (Column::numeric("n", vec![7.0, f32::NAN]), Column::numeric("f", vec![1.0, 0.0]));
    w.write(&[&n, &f]).expect("write");
    assert!(w.write(&[&n]).is_err());
    w.finish().expect("finish");
    let ds = crate::load(&path, &LoadOptions::default()).expect("load");
    assert_eq!(numbers(&ds, "f"), [1.0, 0.0]);
    assert_eq!(numbers(&ds, "n")[0], 7.0);
}
