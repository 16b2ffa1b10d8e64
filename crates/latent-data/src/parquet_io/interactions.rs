//! Interaction tables (user, item, optional rating) from Parquet, for recommenders.

use std::collections::HashMap;
use std::path::Path;

use latent::recommend::{InteractionColumns, Interactions};
use latent::ColumnValues;

use super::{Config, ParquetChunks};
use crate::error::{Error, Result};

/// Reads the positive interactions of a Parquet long table (see
/// [`crate::read_interactions`]): user and item ids as text, the rating as a number.
pub(crate) fn read_interactions(path: &Path, columns: &InteractionColumns) -> Result<Interactions> {
    if columns.min_rating.is_some() && columns.rating.is_none() {
        return Err(Error::format(path, "a minimum rating needs a rating column"));
    }
    let ids = [columns.user.clone(), columns.item.clone()];
    let cfg = Config {
        categorical: &ids,
        label_column: None,
        label_optional: false,
        id_columns: &[],
        na_values: &[],
        chunk_rows: super::LOAD_BATCH_ROWS,
        label_as_text: false,
    };
    let chunks = ParquetChunks::with(path, &cfg)?;
    let names = chunks.names();
    crate::csv::require_column(path, &names, &columns.user, "user")?;
    crate::csv::require_column(path, &names, &columns.item, "item")?;
    if let Some(r) = &columns.rating {
        crate::csv::require_column(path, &names, r, "rating")?;
    }
    let min = columns.min_rating.unwrap_or(f64::NEG_INFINITY);
    let mut out = Interactions::default();
    let (mut users, mut items) = (HashMap::new(), HashMap::new());
    let mut rows = 0usize;
    for chunk in chunks {
        let chunk = chunk?;
        let text = |name: &str| match chunk.frame.column(name).map(|c| &c.values) {
            Some(ColumnValues::Text(v)) => Ok(v),
            _ => Err(Error::format(path, format!("column \"{name}\" is not an id column"))),
        };
        let (u, i) = (text(&columns.user)?, text(&columns.item)?);
        let rating = match &columns.rating {
            Some(r) => match chunk.frame.column(r).map(|c| &c.values) {
                Some(ColumnValues::Numeric(v)) => Some(v),
                _ => {
                    return Err(Error::format(
                        path,
                        format!("rating column \"{r}\" is not numeric"),
                    ))
                }
            },
            None => None,
        };
        for row in 0..u.len() {
            let at = chunk.first_line as usize + row;
            rows += 1;
            if let Some(v) = rating {
                let value = f64::from(v[row]);
                if value.is_nan() {
                    return Err(Error::Value {
                        path: path.to_path_buf(),
                        row: at,
                        column: columns.rating.clone().unwrap_or_default(),
                        message: "missing rating".into(),
                    });
                }
                if value < min {
                    continue;
                }
            }
            for (id, col) in [(&u[row], &columns.user), (&i[row], &columns.item)] {
                if id.is_empty() {
                    return Err(Error::Value {
                        path: path.to_path_buf(),
                        row: at,
                        column: col.clone(),
                        message: "empty id".into(),
                    });
                }
            }
            out.push(&u[row], &i[row], &mut users, &mut items);
        }
    }
    if out.pairs.is_empty() {
        let why = if rows == 0 { "no data rows" } else { "no interactions" };
        return Err(Error::format(path, why));
    }
    Ok(out)
}
