//! Writing results: the output protocol every command follows, and figures as SVG and PNG.
//!
//! A result is a set of files sharing a stem in one folder (`run-1-10000.json`, `.csv`, the
//! figures). Whoever writes into a result folder first takes the folder's lock (`.recount.lock`,
//! an operating-system lock the system releases when the process ends, even killed), so that
//! choosing a free name and writing the set are one step for recounts running side by side.
//! Every file of a set is first written to a temporary `.recount-*.tmp` beside its place; only
//! when all are written are they renamed into place, the set's marker (its JSON, or the CSV of a
//! table without JSON) last. Until then an older result of that name is untouched; a set without
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
    fill(&mut tmp, path, bytes)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes `bytes` into `tmp`, the future `path`, makes it readable by others and flushes it to
/// the disk (where a full disk or a quota shows), so that only a rename is left to do.
fn fill(tmp: &mut tempfile::NamedTempFile, path: &Path, bytes: &[u8]) -> Result<()> {
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
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))
}

/// The lock file of a result folder; it stays (empty) between runs.
const LOCK: &str = ".recount.lock";
/// Temporary files in result folders start and end so (and nothing else does).
const TMP: (&str, &str) = (".recount-", ".tmp");

/// A result folder held for writing (its lock taken) until dropped.
pub struct Folder {
    dir: PathBuf,
    _lock: Option<std::fs::File>,
}

impl Folder {
    /// Creates `dir` if needed, takes its lock (waiting, with a line on stderr, while another
    /// recount writes there) and removes the temporary files a killed writer left. Where the
    /// file system has no locks (some network file systems), it says so and writes without.
    pub fn open(dir: &Path) -> Result<Folder> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK);
        // Opened for writing (NFS emulates the lock with one that needs it), read-only where
        // that is not allowed (a lock file another user of a shared folder made).
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    std::fs::File::open(&path)
                }
                _ => Err(e),
            })
            .map_err(|e| Error::io(&path, e))?;
        let held = match lock.try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "waiting for another recount writing into {}...",
                    dir.display()
                );
                lock.lock().map_err(|e| Error::io(&path, e))?;
                true
            }
            Err(std::fs::TryLockError::Error(e)) => {
                eprintln!(
                    "warning: {} cannot be locked ({e}); writing without the lock, so do not run another recount into this folder at the same time",
                    dir.display()
                );
                false
            }
        };
        let folder = Folder {
            dir: dir.to_path_buf(),
            _lock: held.then_some(lock),
        };
        if held {
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
        }
        Ok(folder)
    }

    /// Refuses, before any simulation, a folder that cannot be created, locked or written in:
    /// opens it as a writer would and writes a temporary file there (the folder stays, empty
    /// if it was new: removing it could pull it from under another recount starting there).
    pub fn check_writable(dir: &Path) -> Result<()> {
        // The system's reason alone: the folder is named once, first.
        let unwritable = |e: Error| {
            let why = match e {
                Error::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            Error::Usage(format!(
                "{}: the results could not be written there ({why}); choose another folder with --out",
                dir.display()
            ))
        };
        let folder = Folder::open(dir).map_err(unwritable)?;
        folder.temporary().map(drop).map_err(unwritable)
    }

    /// A new temporary file in the folder.
    fn temporary(&self) -> Result<tempfile::NamedTempFile> {
        tempfile::Builder::new()
            .prefix(TMP.0)
            .suffix(TMP.1)
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))
    }

    /// Writes one file `name` of this folder atomically (a file that is a set of its own, such
    /// as the report's page).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        persist(self.temporary()?, &path, bytes)?;
        Ok(path)
    }

    /// A set of files for a new result named `stem`, else `stem.2`, `stem.3`, ...: the first
    /// whose marker `<stem><marker>` is absent, or present and `replaceable` (the same result,
    /// or `--force`).
    pub fn claim(
        &self,
        stem: &str,
        marker: &str,
        replaceable: impl Fn(&Path) -> bool,
    ) -> Result<Set<'_>> {
        let mut candidate = stem.to_string();
        for n in 2.. {
            let path = self.dir.join(format!("{candidate}{marker}"));
            if !path.exists() || replaceable(&path) {
                break;
            }
            candidate = format!("{stem}.{n}");
        }
        Ok(Set {
            folder: self,
            stem: candidate,
            marker: marker.to_string(),
            ready: Vec::new(),
            stale: Vec::new(),
        })
    }
}

/// One result's files under a claimed stem, held as temporary files until `finish` renames them
/// into place, the marker last; dropped unfinished (an error on the way), the set removes its
/// temporary files and leaves the folder as it was.
pub struct Set<'a> {
    folder: &'a Folder,
    stem: String,
    marker: String,
    ready: Vec<(tempfile::NamedTempFile, PathBuf)>,
    stale: Vec<String>,
}

impl Set<'_> {
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// The path of the set's file with this suffix (`.csv`, `.posterior.svg`).
    pub fn path(&self, suffix: &str) -> PathBuf {
        self.folder.dir.join(format!("{}{suffix}", self.stem))
    }

    /// Writes the set's file with this suffix (to its temporary file until `finish`).
    pub fn write(&mut self, suffix: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(suffix);
        let mut tmp = self.folder.temporary()?;
        fill(&mut tmp, &path, bytes)?;
        self.ready.push((tmp, path));
        Ok(())
    }

    /// Writes a figure: the SVG with this suffix and, beside it, the same figure as a PNG.
    pub fn figure(&mut self, suffix: &str, svg: &str) -> Result<()> {
        let path = self.path(suffix);
        let png = crate::export::raster::png(svg)
            .map_err(|e| Error::NoAnswer(format!("drawing {}: {e}", path.display())))?;
        self.write(suffix, svg.as_bytes())?;
        let png_suffix = format!("{}.png", suffix.strip_suffix(".svg").unwrap_or(suffix));
        self.write(&png_suffix, &png)
    }

    /// Files of this stem that `finish` removes unless the set wrote them: the files a result
    /// of this kind may have, so that one an earlier result of the name left (a posterior
    /// figure beside a forward run made with `--force`, what a killed writer left) is not taken
    /// for this one's.
    pub fn replaces(&mut self, suffixes: &[&str]) {
        self.stale.extend(suffixes.iter().map(|s| s.to_string()));
    }

    /// Renames every file into place, the marker last, which makes the set complete; removes
    /// the stale files this set did not write; returns the marker's path.
    pub fn finish(mut self, bytes: &[u8]) -> Result<PathBuf> {
        let marker = self.marker.clone();
        self.write(&marker, bytes)?;
        if let Ok(ms) = std::env::var("RECOUNT_PAUSE_BEFORE_RENAMES") {
            // For the tests that kill a writer in the middle of writing a set.
            std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap_or(0)));
        }
        let marker_path = self.path(&marker);
        let ready = std::mem::take(&mut self.ready);
        if ready.len() > 1 {
            // An old marker must not stand beside the new files while they are renamed.
            match std::fs::remove_file(&marker_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&marker_path, e));
                }
                _ => {}
            }
        }
        for suffix in &self.stale {
            let path = self.path(suffix);
            if !ready.iter().any(|(_, p)| *p == path) {
                let _ = std::fs::remove_file(path);
            }
        }
        let mut placed = Vec::new();
        for (tmp, path) in ready {
            if let Err(e) = tmp.persist(&path).map_err(|e| Error::io(&path, e.error)) {
                // No half set: what was renamed goes too (the marker, last, is not among it).
                for p in &placed {
                    let _ = std::fs::remove_file(p);
                }
                return Err(e);
            }
            placed.push(path);
        }
        Ok(marker_path)
    }
}

/// A table and its figure as one set in `dir` (a precinct table, a fingerprint): the SVG and PNG,
/// then the CSV, the marker; the same table made again replaces itself, another goes to
/// `stem.2`, ... unless `force`. Returns the SVG's and the CSV's paths.
pub fn table_with_figure(
    dir: &Path,
    stem: &str,
    (csv, svg): (&str, &str),
    force: bool,
) -> Result<(PathBuf, PathBuf)> {
    let folder = Folder::open(dir)?;
    let mut set = folder.claim(stem, ".csv", |old| force || holds(old, csv.as_bytes()))?;
    let svg_path = set.path(".svg");
    set.figure(".svg", svg)?;
    let csv_path = set.finish(csv.as_bytes())?;
    Ok((svg_path, csv_path))
}

/// Whether the file at `path` holds exactly `bytes`: a result made again the same, which may
/// replace itself.
pub fn holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|b| b == bytes)
}
