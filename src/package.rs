//! Deterministic zip packaging of Lambda source directories.
//!
//! The same directory content always gives the same bytes: entries sorted by
//! path, timestamps fixed at 1980-01-01 (the zip epoch), modes normalised to
//! 0644/0755, build debris (`__pycache__`, `*.pyc`, `.git`, ...) left out.
//! So the SHA-256 of the zip equals Lambda's `CodeSha256` exactly when the
//! deployed code is the code on disk, and an unchanged directory plans as no
//! change.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A packaged function: zip bytes and their base64 SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub zip: Vec<u8>,
    pub sha256: String,
}

const SKIP_DIRS: &[&str] = &[
    "__pycache__",
    ".git",
    ".pytest_cache",
    ".mypy_cache",
    ".venv",
    "node_modules/.cache",
];
const SKIP_SUFFIXES: &[&str] = &[".pyc", ".pyo", ".DS_Store"];

fn skipped(name: &str, is_dir: bool) -> bool {
    if is_dir {
        SKIP_DIRS.contains(&name)
    } else {
        SKIP_SUFFIXES.iter().any(|s| name.ends_with(s))
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ty = entry.file_type()?;
        // Follow symlinks like a user would expect from `zip -r`.
        let is_dir = if ty.is_symlink() {
            path.is_dir()
        } else {
            ty.is_dir()
        };
        if skipped(&name, is_dir) {
            continue;
        }
        if is_dir {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

/// Zips `dir` deterministically.
pub fn package_dir(dir: &Path) -> Result<Package> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        anyhow::bail!("{} has no files to package", dir.display());
    }
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (rel, path) in &files {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mode = if executable(path) { 0o755 } else { 0o644 };
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(mode);
        zip.start_file(rel.as_str(), opts)?;
        zip.write_all(&data)?;
    }
    let bytes = zip.finish()?.into_inner();
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    Ok(Package { zip: bytes, sha256 })
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn executable(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_bytes_and_changes_show() {
        let a = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 1\n").unwrap();
        std::fs::create_dir(a.path().join("lib")).unwrap();
        std::fs::write(a.path().join("lib/util.py"), "X = 1\n").unwrap();
        std::fs::create_dir(a.path().join("__pycache__")).unwrap();
        std::fs::write(a.path().join("__pycache__/handler.cpython-312.pyc"), "junk").unwrap();
        let p1 = package_dir(a.path()).unwrap();
        // Touch mtimes and add debris: still identical.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 1\n").unwrap();
        std::fs::write(a.path().join("x.pyc"), "junk").unwrap();
        let p2 = package_dir(a.path()).unwrap();
        assert_eq!(p1, p2);
        std::fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 2\n").unwrap();
        let p3 = package_dir(a.path()).unwrap();
        assert_ne!(p1.sha256, p3.sha256);
        let names: Vec<String> = zip::ZipArchive::new(Cursor::new(p3.zip))
            .unwrap()
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec!["handler.py".to_string(), "lib/util.py".to_string()]
        );
    }

    #[test]
    fn empty_dir_is_an_error() {
        let a = tempfile::tempdir().unwrap();
        assert!(
            package_dir(a.path())
                .unwrap_err()
                .to_string()
                .contains("no files")
        );
    }
}
