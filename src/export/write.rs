//! Writing result files safely, and figures as SVG and PNG.
//!
//! Every file is written to a temporary file in the target directory and renamed into place,
//! so a crash or Ctrl-C never leaves a half-written result behind.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
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

/// Writes a figure: the SVG at `path` and, beside it, the same figure as a PNG (`raster`).
pub fn write_figure(path: &Path, svg: &str) -> Result<()> {
    let png =
        crate::export::raster::png(svg).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    write_atomic(path, svg.as_bytes())?;
    write_atomic(&path.with_extension("png"), &png)
}
