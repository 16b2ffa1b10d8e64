//! Readers and writers for `latent`: CSV/TSV (optionally gzipped), Parquet (a file or a folder
//! of files), NumPy NPY/NPZ, MNIST IDX and folders of PNG/JPEG images, all loaded into a [`latent::Frame`].
//!
//! [`load`] picks the reader from the path ([`load_bytes`] and [`load_image_bytes`] read the
//! content of one file from memory); the writers ([`write_matrix`], [`write_frame`],
//! [`write_npy`], [`write_idx_images`]) pick the format from the extension. Every failure is an
//! [`Error`] naming the file and, for data problems, the line (CSV) or row and the column.

mod array;
pub mod atomic;
mod csv;
mod error;
mod grid;
mod idx;
mod images;
mod interactions;
mod load;
pub mod na;
mod npy;
mod number;
mod parquet_io;
mod source;
pub mod stream;
mod write;

pub use atomic::AtomicFile;
pub use error::{Error, Result};
pub use grid::{write_png_folder, write_png_grid};
pub use idx::{is_idx, IdxChunks};
pub use images::{ImageFolderChunks, MAX_IMAGE_VALUES};
pub use interactions::{header_columns, read_interactions, read_interactions_from};
pub use load::{load, load_bytes, load_image_bytes, Dataset, LoadOptions};
pub use na::NaValues;
pub use npy::{is_npy, NpyChunks};
pub use parquet_io::{
    column_types, is_parquet, ParquetBlocks, ParquetChunks, ParquetType, ParquetWriter,
    ROW_GROUP_ROWS,
};
pub use stream::{
    is_array_or_images, open_input, sniff, Chunk, CsvChunks, CsvSchema, JsonChunks, RawBlock,
    StreamOptions, TextRows,
};
pub use write::{write_frame, write_idx_images, write_matrix, write_npy};
