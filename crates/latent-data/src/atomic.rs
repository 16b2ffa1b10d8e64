//! Result files written whole or not at all: every writer goes through [`AtomicFile`], which
//! writes a temporary file beside the destination and renames it over the destination only when
//! the writer says the output is complete. A run that fails half way (a bad line at row 34,710,
//! a full disk, Ctrl-C) leaves no truncated file behind, and never half-overwrites an old one.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written to a temporary name beside its destination; [`AtomicFile::commit`]
/// renames it into place, dropping it uncommitted removes it.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file for `dest`. Fails at once, naming `dest`, when its folder does
    /// not exist or `dest` is a folder.
    pub fn create(dest: &Path) -> Result<AtomicFile> {
        check_destination(dest)?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(dest, e))?;
        Ok(AtomicFile { file: Some(file), tmp, dest: dest.to_path_buf() })
    }

    /// The destination path.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Syncs the data and renames the temporary file over the destination.
    pub fn commit(mut self) -> Result<()> {
        let io = |e| Error::io(&self.dest, e);
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(io)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Checks that `dest` can be written as a file: not a folder, and its folder exists. Commands
/// call this before long work (training) so a typo in `--out` fails in a second, not an hour.
pub fn check_destination(dest: &Path) -> Result<()> {
    let bad = |message: &str| Error::format(dest, message);
    if dest.as_os_str().is_empty() {
        return Err(bad("empty output path"));
    }
    if dest.is_dir() {
        return Err(bad("is a folder; give a file name"));
    }
    match dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => {
            Err(Error::format(dest, format!("the folder {} does not exist", dir.display())))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn committed_files_appear_and_dropped_ones_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        std::fs::write(&dest, "old\n").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new\n").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file left");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new\n").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_destinations_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let missing = dir.path().join("no/such/out.csv");
        let e = check_destination(&missing).unwrap_err().to_string();
        assert!(e.contains("does not exist") && e.contains("out.csv"), "{e}");
    }
}
