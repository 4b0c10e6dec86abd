//! Writing results: the output protocol every command follows, and figures as SVG and PNG.
//!
//! A result is a set of files sharing a stem in one folder (`run-1-10000.json`, `.csv`, the
//! figures). Whoever writes into a result folder first takes the folder's lock (`.recount.lock`,
//! an operating-system lock the system releases when the process ends, even killed), so that
//! choosing a free name and writing the set are one step for recounts running side by side.
//! Every file goes to a temporary `.recount-*.tmp` beside it and is renamed into place, and the
//! set's marker (its JSON, or the CSV of a table without JSON) is written last: a set without
//! its marker is incomplete, and the next writer of that name replaces it. Temporary files found
//! while holding the lock were left by a killed writer, and are removed.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating parent directories (for files outside result
/// folders, such as `recount import`'s scenario).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    persist(tmp, path, bytes)
}

/// Fills `tmp` with `bytes`, makes it readable by others and renames it to `path`.
fn persist(mut tmp: tempfile::NamedTempFile, path: &Path, bytes: &[u8]) -> Result<()> {
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    // Temporary files are created private (0600); results are ordinary files others may read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file()
            .set_permissions(perms)
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The lock file of a result folder; it stays (empty) between runs.
const LOCK: &str = ".recount.lock";
/// Temporary files in result folders start and end so (and nothing else does).
const TMP: (&str, &str) = (".recount-", ".tmp");

/// A result folder held for writing (its lock taken) until dropped.
pub struct Folder {
    dir: PathBuf,
    _lock: std::fs::File,
}

impl Folder {
    /// Creates `dir` if needed, takes its lock (waiting, with a line on stderr, while another
    /// recount writes there) and removes the temporary files a killed writer left.
    pub fn open(dir: &Path) -> Result<Folder> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        if lock.try_lock().is_err() {
            eprintln!(
                "waiting for another recount writing into {}...",
                dir.display()
            );
            lock.lock().map_err(|e| Error::io(&path, e))?;
        }
        let folder = Folder {
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        for entry in std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .flatten()
        {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TMP.0) && name.ends_with(TMP.1) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(folder)
    }

    /// Refuses, before any simulation, a folder that cannot be created or written in: creates
    /// `dir` and a temporary file in it, then removes both (nothing is left for a run that
    /// goes on to fail).
    pub fn check_writable(dir: &Path) -> Result<()> {
        let unwritable = |e: std::io::Error| {
            Error::Usage(format!(
                "{}: the results could not be written there ({e}); choose another folder with --out",
                dir.display()
            ))
        };
        let existing = dir.ancestors().find(|a| a.is_dir()).map(Path::to_path_buf);
        std::fs::create_dir_all(dir).map_err(unwritable)?;
        let tried = tempfile::Builder::new()
            .prefix(TMP.0)
            .suffix(TMP.1)
            .tempfile_in(dir)
            .map(drop);
        for made in dir.ancestors() {
            if Some(made) == existing.as_deref() || made.as_os_str().is_empty() {
                break;
            }
            let _ = std::fs::remove_dir(made);
        }
        tried.map_err(unwritable)
    }

    /// Writes one file `name` of this folder atomically (a file that is a set of its own, such
    /// as the report's page).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let tmp = tempfile::Builder::new()
            .prefix(TMP.0)
            .suffix(TMP.1)
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))?;
        persist(tmp, &path, bytes)?;
        Ok(path)
    }

    /// A set of files for a new result named `stem`, else `stem.2`, `stem.3`, ...: the first
    /// whose marker `<stem><marker>` is absent, or present and `replaceable` (the same result,
    /// or `--force`). A replaceable marker is removed at once, so that the old set never looks
    /// complete beside new files.
    pub fn claim(
        &self,
        stem: &str,
        marker: &str,
        replaceable: impl Fn(&Path) -> bool,
    ) -> Result<Set<'_>> {
        let mut candidate = stem.to_string();
        for n in 2.. {
            let path = self.dir.join(format!("{candidate}{marker}"));
            if !path.exists() {
                break;
            }
            if replaceable(&path) {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                break;
            }
            candidate = format!("{stem}.{n}");
        }
        Ok(Set {
            folder: self,
            stem: candidate,
            marker: marker.to_string(),
            written: Vec::new(),
            finished: false,
        })
    }
}

/// One result's files under a claimed stem. `finish` writes the marker; dropped unfinished (an
/// error on the way), the set removes the files it wrote, so no incomplete result is left.
pub struct Set<'a> {
    folder: &'a Folder,
    stem: String,
    marker: String,
    written: Vec<PathBuf>,
    finished: bool,
}

impl Set<'_> {
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// The path of the set's file with this suffix (`.csv`, `.posterior.svg`).
    pub fn path(&self, suffix: &str) -> PathBuf {
        self.folder.dir.join(format!("{}{suffix}", self.stem))
    }

    /// Writes the set's file with this suffix.
    pub fn write(&mut self, suffix: &str, bytes: &[u8]) -> Result<()> {
        let path = self
            .folder
            .write(&format!("{}{suffix}", self.stem), bytes)?;
        self.written.push(path);
        Ok(())
    }

    /// Writes a figure: the SVG with this suffix and, beside it, the same figure as a PNG.
    pub fn figure(&mut self, suffix: &str, svg: &str) -> Result<()> {
        let path = self.path(suffix);
        let png = crate::export::raster::png(svg)
            .map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
        self.write(suffix, svg.as_bytes())?;
        let png_suffix = format!("{}.png", suffix.strip_suffix(".svg").unwrap_or(suffix));
        self.write(&png_suffix, &png)
    }

    /// Removes the set's file with this suffix, if there is one (a figure an earlier result of
    /// this name had and this one does not).
    pub fn remove(&self, suffix: &str) {
        let _ = std::fs::remove_file(self.path(suffix));
    }

    /// Writes the marker, which makes the set complete; returns its path.
    pub fn finish(mut self, bytes: &[u8]) -> Result<PathBuf> {
        let marker = self.marker.clone();
        self.write(&marker, bytes)?;
        self.finished = true;
        Ok(self.path(&marker))
    }
}

impl Drop for Set<'_> {
    fn drop(&mut self) {
        if !self.finished {
            for p in &self.written {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Whether the file at `path` holds exactly `bytes`: a result made again the same, which may
/// replace itself.
pub fn holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|b| b == bytes)
}
