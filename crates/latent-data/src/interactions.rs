//! Interaction tables for recommenders: a long table (CSV/TSV, optionally gzipped, or Parquet) with a
//! user column, an item column and optionally a rating. Ids are kept as written; with a
//! rating column, rows rated at least `min_rating` are the positives, without one every row
//! is.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use ::csv::{ByteRecord, ReaderBuilder};
use latent::recommend::{InteractionColumns, Interactions};

use crate::csv::{
    column_names, field_text, line_of, next_record, open_records, require_column, Ctx,
};
use crate::error::{Error, Result};
use crate::source;

/// Reads the positive interactions of a long table. Fails, naming the file and column, when
/// a column is missing, a rating is not a number, or no row is a positive.
///
/// A `.npz` file is read as a SciPy CSR matrix (`scipy.sparse.save_npz`, users × items):
/// users and items are named by their row and column numbers, and each stored entry is a
/// positive (with `min_rating`, each entry whose value is at least that).
pub fn read_interactions(path: &Path, columns: &InteractionColumns) -> Result<Interactions> {
    let name = source::inner_name(path);
    if name.ends_with(".npz") {
        return read_csr_npz(path, columns.min_rating);
    }
    if crate::parquet_io::is_parquet(path) {
        return crate::parquet_io::read_interactions(path, columns);
    }
    let delimiter = if name.ends_with(".tsv") { b'\t' } else { b',' };
    read_interactions_from(path, source::open(path)?, delimiter, columns)
}

/// The column names in the header of a CSV/TSV file or the schema of a Parquet file (none for
/// other formats).
pub fn header_columns(path: &Path) -> Result<Vec<String>> {
    if crate::parquet_io::is_parquet(path) {
        return crate::parquet_io::column_names(path);
    }
    let name = source::inner_name(path);
    if name.ends_with(".npz") {
        return Ok(Vec::new());
    }
    let delimiter = if name.ends_with(".tsv") { b'\t' } else { b',' };
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(source::open(path)?);
    let mut record = ByteRecord::new();
    if !next_record(path, &mut reader, &mut record)? {
        return Ok(Vec::new());
    }
    column_names(&Ctx { path, na: crate::na::NaValues::default() }, &record, true)
}

/// [`read_interactions`] over any reader (`path` names it in errors).
pub fn read_interactions_from(
    path: &Path,
    input: impl Read,
    delimiter: u8,
    columns: &InteractionColumns,
) -> Result<Interactions> {
    if columns.min_rating.is_some() && columns.rating.is_none() {
        return Err(Error::format(path, "a minimum rating needs a rating column"));
    }
    let ctx = Ctx { path, na: crate::na::NaValues::default() };
    let (mut reader, mut record) = open_records(path, input, delimiter)?;
    let names = column_names(&ctx, &record, true)?;
    let find = |name: &str, what: &str| -> Result<usize> {
        require_column(path, &names, name, what)?;
        Ok(names.iter().position(|n| n == name).unwrap_or(0))
    };
    let user = find(&columns.user, "user")?;
    let item = find(&columns.item, "item")?;
    let rating = columns.rating.as_deref().map(|r| find(r, "rating")).transpose()?;
    let min = columns.min_rating.unwrap_or(f64::NEG_INFINITY);
    let mut out = Interactions::default();
    let (mut users, mut items) = (HashMap::new(), HashMap::new());
    let mut rows = 0usize;
    while next_record(path, &mut reader, &mut record)? {
        let line = line_of(&record);
        if record.len() != names.len() {
            return Err(Error::Text {
                path: path.to_path_buf(),
                line,
                column: None,
                message: format!("row has {} fields, header has {}", record.len(), names.len()),
            });
        }
        rows += 1;
        let cell = |i: usize| field_text(&ctx, line, &names[i], &record[i]);
        if let Some(r) = rating {
            let text = cell(r)?;
            let value: f64 =
                text.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| Error::Text {
                    path: path.to_path_buf(),
                    line,
                    column: Some(names[r].clone()),
                    message: format!("rating \"{text}\" is not a number"),
                })?;
            if value < min {
                continue;
            }
        }
        let (u, i) = (cell(user)?, cell(item)?);
        for (id, col) in [(u, user), (i, item)] {
            if id.is_empty() {
                return Err(Error::Text {
                    path: path.to_path_buf(),
                    line,
                    column: Some(names[col].clone()),
                    message: "empty id".into(),
                });
            }
        }
        out.push(u, i, &mut users, &mut items);
    }
    if out.pairs.is_empty() {
        let why = match (rows, columns.min_rating) {
            (0, _) => "no data rows".to_string(),
            (_, Some(m)) => format!(
                "no interactions: none of the {rows} rows has column \"{}\" >= {m}",
                columns.rating.as_deref().unwrap_or_default()
            ),
            _ => "no interactions".to_string(),
        };
        return Err(Error::format(path, why));
    }
    Ok(out)
}

/// Reads a SciPy CSR matrix saved with `scipy.sparse.save_npz`.
fn read_csr_npz(path: &Path, min_rating: Option<f64>) -> Result<Interactions> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| crate::npy::zip_error(path, e))?;
    let mut get = |name: &str| crate::npy::read_entry(path, &mut archive, &format!("{name}.npy"));
    let (_, shape) = get("shape")?;
    let (_, indptr) = get("indptr")?;
    let (_, indices) = get("indices")?;
    let (_, data) = get("data")?;
    let bad = |m: String| Error::format(path, format!("not a SciPy CSR matrix: {m}"));
    // Indices arrive as f32: exact below 2^24.
    let exact = |v: f32| (0.0..16_777_216.0).contains(&v) && v.fract() == 0.0;
    if shape.values.len() != 2 || !shape.values.iter().all(|&v| exact(v)) {
        return Err(bad("\"shape\" is not two sizes below 2^24".into()));
    }
    let (rows, cols) = (shape.values[0] as usize, shape.values[1] as usize);
    if !indptr.values.iter().all(|&v| exact(v)) || !indices.values.iter().all(|&v| exact(v)) {
        return Err(bad("indices must be whole numbers below 2^24".into()));
    }
    let as_index = |v: &[f32]| v.iter().map(|&x| x as usize).collect::<Vec<usize>>();
    Interactions::from_csr(
        rows,
        cols,
        &as_index(&indptr.values),
        &as_index(&indices.values),
        &data.values,
        min_rating,
    )
    .map_err(|e| Error::format(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(rating: bool) -> InteractionColumns {
        InteractionColumns {
            user: "u".into(),
            item: "i".into(),
            rating: rating.then(|| "r".into()),
            min_rating: rating.then_some(3.5),
        }
    }

    fn read(text: &str, rating: bool) -> Result<Interactions> {
        read_interactions_from(Path::new("t.csv"), text.as_bytes(), b',', &cols(rating))
    }

    #[test]
    fn keeps_positives_with_ids_as_written() {
        let d = read("u,i,r\na,007,4\nb,x,3\na,x,5\n", true).unwrap();
        assert_eq!(d.users, vec!["a"]);
        assert_eq!(d.items, vec!["007", "x"]);
        assert_eq!(d.pairs, vec![(0, 0), (0, 1)]);
        let all = read("u,i\na,1\nb,1\n", false).unwrap();
        assert_eq!(all.pairs.len(), 2);
    }

    /// A CSR matrix as `scipy.sparse.save_npz` writes it: [[1, 0, 1], [0, 0, 0], [0, 4, 0]].
    #[test]
    fn reads_a_scipy_csr_npz() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npz");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, values) in [
            ("indptr", vec![0.0f32, 2.0, 2.0, 3.0]),
            ("indices", vec![0.0, 2.0, 1.0]),
            ("data", vec![1.0, 1.0, 4.0]),
            ("shape", vec![3.0, 3.0]),
        ] {
            zip.start_file(format!("{name}.npy"), opts).unwrap();
            let mut bytes = crate::npy::f32_header(&[values.len()]);
            values.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
            zip.write_all(&bytes).unwrap();
        }
        zip.finish().unwrap();
        let mut c = cols(false);
        let d = read_interactions(&path, &c).unwrap();
        assert_eq!(d.users.len(), 3);
        assert_eq!(d.pairs, vec![(0, 0), (0, 2), (2, 1)]);
        c.min_rating = Some(2.0);
        assert_eq!(read_interactions(&path, &c).unwrap().pairs, vec![(2, 1)]);
    }

    #[test]
    fn bad_input_names_file_and_column() {
        let e = read("user,i,r\na,1,4\n", true).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("\"u\""), "{e}");
        let e = read("u,i,r\na,1,great\n", true).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("line 2") && e.contains("\"r\""), "{e}");
        let e = read("u,i,r\na,1,1\n", true).unwrap_err().to_string();
        assert!(e.contains("no interactions"), "{e}");
    }
}
