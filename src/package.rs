//! Deterministic zip packaging of Lambda source directories.
//!
//! The same directory content always gives the same bytes: entries sorted by
//! path, timestamps fixed at 1980-01-01 (the zip epoch), modes normalised to
//! 0644/0755, build debris (`__pycache__`, `*.pyc`, `.git`, ...) left out.
//! So the SHA-256 of the zip equals Lambda's `CodeSha256` exactly when the
//! deployed code is the code on disk, and an unchanged directory plans as no
//! change.
//!
//! What goes in is decided from metadata alone, before any file is opened
//! ([`scan`]), and `validate` runs the same scan:
//! - the directory itself must lie inside the project (the spec file's
//!   directory) unless the function opts out ([`check_source`]); the
//!   filesystem root and the system directories `/proc`, `/sys` and `/dev`
//!   are refused whatever the spec says;
//! - a symlink is followed only when it resolves inside the source directory
//!   (its target is then packaged under the link's name); one pointing out of
//!   it, a broken one and one that leads back to a directory it is in are
//!   refused, and so are FIFOs, sockets and devices;
//! - Lambda's quotas hold: at most 250 MB unzipped (the sum of the file
//!   sizes, checked before reading) and 50 MB zipped for a direct upload
//!   (checked while the zip is written, which stops at the limit).
//!
//! Files are then streamed into the zip one at a time through a bounded
//! buffer (`stream` says why it is not `io::copy`); each opened file must
//! be the one the scan saw (same device and inode, same size), so a file
//! swapped for a link after the scan is refused too.

use std::fmt;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
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

/// Size limits of a package, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The zip file.
    pub zipped: u64,
    /// The sum of the sizes of the files in it.
    pub unzipped: u64,
}

impl Limits {
    /// Lambda's quotas for a deployment package uploaded directly (not
    /// through S3): 50 MB zipped, 250 MB unzipped (MB as AWS counts them,
    /// 2^20 bytes: the unzipped limit is the 262144000 bytes Lambda's own
    /// error message names).
    pub const LAMBDA: Limits = Limits {
        zipped: 50 << 20,
        unzipped: 250 << 20,
    };
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

/// Directories that are never packaged, even with `source_outside_project`:
/// the whole filesystem, and the kernel's pseudo-filesystems (reading
/// `/proc` or `/dev` files can block, never end, or expose secrets).
const SYSTEM_DIRS: &[&str] = &["/proc", "/sys", "/dev"];

fn skipped(name: &str, is_dir: bool) -> bool {
    if is_dir {
        SKIP_DIRS.contains(&name)
    } else {
        SKIP_SUFFIXES.iter().any(|s| name.ends_with(s))
    }
}

/// Why a source directory cannot be packaged. Paths inside the source
/// directory are relative to it, with `/` separators, as in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The directory resolves outside the project directory.
    OutsideProject { resolved: PathBuf, project: PathBuf },
    /// The filesystem root or a system directory (`/proc`, `/sys`, `/dev`).
    SystemDirectory { resolved: PathBuf },
    /// A symlink whose target (as written in the link) resolves outside
    /// the source directory.
    SymlinkOutside {
        link: String,
        target: PathBuf,
        resolved: PathBuf,
    },
    /// A symlink that leads back to itself (no `resolved` then) or to a
    /// directory it is in.
    SymlinkLoop {
        link: String,
        target: PathBuf,
        resolved: Option<PathBuf>,
    },
    /// A symlink whose target does not exist.
    BrokenSymlink { link: String, target: PathBuf },
    /// A FIFO, socket or device.
    SpecialFile { path: String, kind: &'static str },
    /// The file sizes add up to more than the unzipped limit; the largest
    /// files come with it (at most three).
    TooLargeUnzipped {
        size: u64,
        limit: u64,
        largest: Vec<(String, u64)>,
    },
    /// The zip grew past the zipped limit while `at` was written.
    TooLargeZipped { limit: u64, at: String },
    /// Nothing to package (every file is build debris, or there is none).
    Empty,
    /// A file changed between the scan and the packaging.
    Changed { path: String },
    /// An I/O error on `path` (`.` for the directory itself).
    Io { path: String, error: String },
}

/// Sizes as AWS writes them: MB of 2^20 bytes.
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1 << 20;
    const KB: u64 = 1 << 10;
    let (n, unit) = if bytes >= MB {
        (bytes as f64 / MB as f64, "MB")
    } else if bytes >= KB {
        (bytes as f64 / KB as f64, "KB")
    } else {
        return format!("{bytes} bytes");
    };
    let s = format!("{n:.1}");
    format!("{} {unit}", s.strip_suffix(".0").unwrap_or(&s))
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::OutsideProject { resolved, project } => write!(
                f,
                "{} is outside the project directory {}",
                resolved.display(),
                project.display()
            ),
            Problem::SystemDirectory { resolved } => {
                write!(f, "{} is a system directory", resolved.display())
            }
            Problem::SymlinkOutside { link, resolved, .. } => write!(
                f,
                "symlink `{link}` points outside the source directory, to {}",
                resolved.display()
            ),
            Problem::SymlinkLoop { link, target, .. } => {
                write!(f, "symlink `{link}` -> {} is a loop", target.display())
            }
            Problem::BrokenSymlink { link, target } => write!(
                f,
                "symlink `{link}` points at {}, which does not exist",
                target.display()
            ),
            Problem::SpecialFile { path, kind } => write!(f, "`{path}` is a {kind}"),
            Problem::TooLargeUnzipped { size, limit, .. } => write!(
                f,
                "the files add up to {} unzipped, over the {} limit",
                human_size(*size),
                human_size(*limit)
            ),
            Problem::TooLargeZipped { limit, .. } => {
                write!(f, "the zip is over the {} limit", human_size(*limit))
            }
            Problem::Empty => f.write_str("there are no files to package"),
            Problem::Changed { path } => write!(f, "`{path}` changed while it was packaged"),
            Problem::Io { path, error } => write!(f, "cannot read `{path}`: {error}"),
        }
    }
}

/// A directory that cannot be packaged, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageError {
    pub dir: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot package {}: ", self.dir.display())?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PackageError {}

/// Resolves a function's source directory and checks that it may be
/// packaged: inside `project` (unless `outside_allowed`), and not the
/// filesystem root or a system directory. Reads nothing but the path's own
/// metadata. Returns the canonical directory.
pub fn check_source(
    project: &Path,
    source: &Path,
    outside_allowed: bool,
) -> Result<PathBuf, Problem> {
    let io = |e: io::Error| Problem::Io {
        path: ".".into(),
        error: e.to_string(),
    };
    let resolved = source.canonicalize().map_err(io)?;
    if is_system_dir(&resolved) {
        return Err(Problem::SystemDirectory { resolved });
    }
    let project = project.canonicalize().map_err(io)?;
    if !outside_allowed && !resolved.starts_with(&project) {
        return Err(Problem::OutsideProject { resolved, project });
    }
    Ok(resolved)
}

fn is_system_dir(canonical: &Path) -> bool {
    canonical.parent().is_none() || SYSTEM_DIRS.iter().any(|d| canonical.starts_with(d))
}

/// What a directory's package would hold: its files, from metadata only.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The canonical source directory.
    pub root: PathBuf,
    entries: Vec<Entry>,
    /// The sum of the file sizes.
    pub unzipped: u64,
}

impl Listing {
    /// The files' paths in the zip, in zip order, with their sizes.
    pub fn files(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|e| (e.rel.as_str(), e.size))
    }

    /// Copies the listed files under `dest` at their paths in the zip
    /// (replacing files already there), e.g. to zip them with others.
    pub fn copy_to(&self, dest: &Path) -> io::Result<()> {
        for e in &self.entries {
            let to = dest.join(&e.rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&e.path, &to)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// Path in the zip.
    rel: String,
    /// Path on disk (through the symlinks it was found through).
    path: PathBuf,
    size: u64,
    executable: bool,
    id: FileId,
}

/// Which file on disk an entry is: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId(m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> FileId {
    FileId(0, 0)
}

#[cfg(unix)]
fn executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    false
}

/// What kind of special file `ty` is, if it is one.
#[cfg(unix)]
fn special(ty: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ty.is_fifo() {
        Some("FIFO (named pipe)")
    } else if ty.is_socket() {
        Some("socket")
    } else if ty.is_block_device() {
        Some("block device")
    } else if ty.is_char_device() {
        Some("character device")
    } else if ty.is_file() || ty.is_dir() || ty.is_symlink() {
        None
    } else {
        Some("special file")
    }
}

#[cfg(not(unix))]
fn special(ty: std::fs::FileType) -> Option<&'static str> {
    (!ty.is_file() && !ty.is_dir() && !ty.is_symlink()).then_some("special file")
}

#[cfg(unix)]
fn is_loop_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_loop_error(_: &io::Error) -> bool {
    false
}

struct Walk {
    root: PathBuf,
    entries: Vec<Entry>,
    problems: Vec<Problem>,
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

impl Walk {
    fn io(&mut self, rel: &str, e: &io::Error) {
        self.problems.push(Problem::Io {
            path: if rel.is_empty() {
                ".".into()
            } else {
                rel.into()
            },
            error: e.to_string(),
        });
    }

    /// Walks the directory at `path` (zip path `rel`); `stack` holds the
    /// canonical paths of it and the directories it is in.
    fn dir(&mut self, path: &Path, rel: &str, stack: &mut Vec<PathBuf>) {
        let mut items = Vec::new();
        match std::fs::read_dir(path) {
            Ok(rd) => {
                for entry in rd {
                    match entry {
                        Ok(e) => items.push(e),
                        Err(e) => return self.io(rel, &e),
                    }
                }
            }
            Err(e) => return self.io(rel, &e),
        }
        items.sort_by_key(std::fs::DirEntry::file_name);
        for entry in items {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let rel = join(rel, &name);
            let ty = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    self.io(&rel, &e);
                    continue;
                }
            };
            if ty.is_symlink() {
                self.link(&path, &name, &rel, stack);
            } else if ty.is_dir() {
                if skipped(&name, true) {
                    continue;
                }
                let canonical = stack.last().expect("the root").join(&name);
                stack.push(canonical);
                self.dir(&path, &rel, stack);
                stack.pop();
            } else if skipped(&name, false) {
                continue;
            } else if let Some(kind) = special(ty) {
                self.problems.push(Problem::SpecialFile { path: rel, kind });
            } else {
                match entry.metadata() {
                    Ok(m) => self.file(path, rel, &m),
                    Err(e) => self.io(&rel, &e),
                }
            }
        }
    }

    /// A symlink: followed when it resolves inside the source directory,
    /// refused otherwise (never read).
    fn link(&mut self, path: &Path, name: &str, rel: &str, stack: &mut Vec<PathBuf>) {
        let written = std::fs::read_link(path).unwrap_or_default();
        let canonical = match path.canonicalize() {
            Ok(c) => c,
            Err(_) if skipped(name, true) || skipped(name, false) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.problems.push(Problem::BrokenSymlink {
                    link: rel.into(),
                    target: written,
                });
                return;
            }
            Err(e) if is_loop_error(&e) => {
                self.problems.push(Problem::SymlinkLoop {
                    link: rel.into(),
                    target: written,
                    resolved: None,
                });
                return;
            }
            Err(e) => return self.io(rel, &e),
        };
        // The target's metadata (never its contents) decides whether the
        // name is debris left out anyway.
        let meta = match std::fs::metadata(&canonical) {
            Ok(m) => m,
            Err(e) => return self.io(rel, &e),
        };
        if skipped(name, meta.is_dir()) {
            return;
        }
        if !canonical.starts_with(&self.root) {
            self.problems.push(Problem::SymlinkOutside {
                link: rel.into(),
                target: written,
                resolved: canonical,
            });
        } else if meta.is_dir() {
            if stack.contains(&canonical) {
                self.problems.push(Problem::SymlinkLoop {
                    link: rel.into(),
                    target: written,
                    resolved: Some(canonical),
                });
            } else {
                stack.push(canonical);
                self.dir(path, rel, stack);
                stack.pop();
            }
        } else if let Some(kind) = special(meta.file_type()) {
            self.problems.push(Problem::SpecialFile {
                path: rel.into(),
                kind,
            });
        } else {
            self.file(path.to_path_buf(), rel.to_string(), &meta);
        }
    }

    fn file(&mut self, path: PathBuf, rel: String, m: &std::fs::Metadata) {
        self.entries.push(Entry {
            rel,
            path,
            size: m.len(),
            executable: executable(m),
            id: file_id(m),
        });
    }
}

/// Lists what packaging `dir` would zip, from metadata alone: no file is
/// opened. Every problem is reported (symlinks out of the directory, loops,
/// special files, the unzipped size limit), not only the first.
pub fn scan(dir: &Path, limits: &Limits) -> Result<Listing, Vec<Problem>> {
    let root = dir.canonicalize().map_err(|e| {
        vec![Problem::Io {
            path: ".".into(),
            error: e.to_string(),
        }]
    })?;
    if is_system_dir(&root) {
        return Err(vec![Problem::SystemDirectory { resolved: root }]);
    }
    let mut walk = Walk {
        root: root.clone(),
        entries: Vec::new(),
        problems: Vec::new(),
    };
    walk.dir(dir, "", &mut vec![root.clone()]);
    let Walk {
        mut entries,
        mut problems,
        ..
    } = walk;
    entries.sort_by(|a, b| (&a.rel, &a.path).cmp(&(&b.rel, &b.path)));
    let unzipped = entries
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.size));
    if unzipped > limits.unzipped {
        let mut largest: Vec<(String, u64)> =
            entries.iter().map(|e| (e.rel.clone(), e.size)).collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(3);
        problems.push(Problem::TooLargeUnzipped {
            size: unzipped,
            limit: limits.unzipped,
            largest,
        });
    }
    if entries.is_empty() && problems.is_empty() {
        problems.push(Problem::Empty);
    }
    if problems.is_empty() {
        Ok(Listing {
            root,
            entries,
            unzipped,
        })
    } else {
        Err(problems)
    }
}

/// Zips `dir` deterministically, within Lambda's limits.
pub fn package_dir(dir: &Path) -> Result<Package> {
    package_with(dir, &Limits::LAMBDA).map_err(|problems| {
        PackageError {
            dir: dir.to_path_buf(),
            problems,
        }
        .into()
    })
}

/// Zips `dir` deterministically, within `limits`.
pub fn package_with(dir: &Path, limits: &Limits) -> Result<Package, Vec<Problem>> {
    let listing = scan(dir, limits)?;
    zip_listing(&listing, limits).map_err(|p| vec![p])
}

/// The zip's bytes in memory, refusing to grow past a limit. Once a write
/// was refused, later writes are dropped: the package is abandoned, and
/// the zip writer, finishing the archive as it is dropped, must not fail
/// again (it would print to stderr).
struct Capped {
    buf: Cursor<Vec<u8>>,
    limit: u64,
    refused: bool,
}

/// The error `Capped` fails a write with.
#[derive(Debug)]
struct OverLimit;

impl fmt::Display for OverLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the zip is over its size limit")
    }
}

impl std::error::Error for OverLimit {}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.refused {
            return Ok(data.len());
        }
        if self.buf.position().saturating_add(data.len() as u64) > self.limit {
            self.refused = true;
            return Err(io::Error::other(OverLimit));
        }
        self.buf.write(data)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Capped {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.buf.seek(pos)
    }
}

fn over_limit(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OverLimit>())
}

/// Opens a file for reading without blocking on a FIFO swapped in since
/// the scan (it is refused right after, as not the file scanned).
fn open(path: &Path) -> io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// How much of a file each write to the compressor sees ahead of it (or
/// the rest of the file, when less is left). See [`stream`].
const LOOKAHEAD: usize = 40 << 20;

/// The streaming buffer for a lookahead: a fifth more, so that refills
/// (which move the unread bytes to the front) come once per fifth of it.
const fn buffer_size(lookahead: usize) -> usize {
    lookahead + lookahead / 5
}

/// Writes a file of `size` bytes to `out` from a bounded buffer, giving
/// `out` the bytes it would have made of the whole file in one `write_all`.
///
/// The deflate encoder (zlib-rs at level 6) does not make the same bytes
/// for every way its input is split: a write that runs out of input
/// mid-stream ends a lazy match early, so 8 KiB writes (what `io::copy`
/// does) change the zip of any file over 8 KiB, and with it every
/// deployed function's `CodeSha256`. One write call compresses until the
/// encoder's 32 KiB output buffer is full, which takes at most about 38 MB
/// of input (deflate's best ratio is 1032:1, plus one block of at most
/// 16384 symbols and the 64 KiB window), so a call that sees `LOOKAHEAD`
/// bytes ahead never runs out of input before it would have with the whole
/// file: the bytes are the same, and at most 48 MiB of the file are in
/// memory (the whole file when it is smaller).
///
/// Reads at most `size + 1` bytes and returns how many it read: more or
/// fewer than `size` means the file changed since it was scanned.
fn stream(
    file: &std::fs::File,
    size: u64,
    out: &mut impl Write,
    lookahead: usize,
) -> io::Result<u64> {
    let want = size.saturating_add(1);
    let cap = usize::try_from(want)
        .unwrap_or(usize::MAX)
        .min(buffer_size(lookahead));
    let mut src = file.take(want);
    let mut buf = vec![0u8; cap];
    let (mut start, mut end, mut read, mut eof) = (0, 0, 0u64, false);
    loop {
        if !eof && end - start < lookahead {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            while end < cap {
                let n = match src.read(&mut buf[end..]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    eof = true;
                    break;
                }
                end += n;
                read += n as u64;
            }
            // `take` ends the file at `want` bytes.
            eof |= read == want;
        }
        if start == end {
            return Ok(read);
        }
        match out.write(&buf[start..end]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => start += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Streams the listed files into a zip, one at a time.
fn zip_listing(listing: &Listing, limits: &Limits) -> Result<Package, Problem> {
    zip_with(listing, limits, LOOKAHEAD)
}

fn zip_with(listing: &Listing, limits: &Limits, lookahead: usize) -> Result<Package, Problem> {
    let mut zip = ZipWriter::new(Capped {
        buf: Cursor::new(Vec::new()),
        limit: limits.zipped,
        refused: false,
    });
    let too_large = |at: &str| Problem::TooLargeZipped {
        limit: limits.zipped,
        at: at.to_string(),
    };
    let zip_error = |e: zip::result::ZipError, at: &str| match e {
        zip::result::ZipError::Io(e) if over_limit(&e) => too_large(at),
        e => Problem::Io {
            path: at.to_string(),
            error: e.to_string(),
        },
    };
    for e in &listing.entries {
        let io_error = |err: io::Error| Problem::Io {
            path: e.rel.clone(),
            error: err.to_string(),
        };
        let file = open(&e.path).map_err(io_error)?;
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() || file_id(&meta) != e.id {
            return Err(Problem::Changed {
                path: e.rel.clone(),
            });
        }
        let mode = if e.executable { 0o755 } else { 0o644 };
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(mode);
        zip.start_file(e.rel.as_str(), opts)
            .map_err(|err| zip_error(err, &e.rel))?;
        let copied = stream(&file, e.size, &mut zip, lookahead).map_err(|err| {
            if over_limit(&err) {
                too_large(&e.rel)
            } else {
                io_error(err)
            }
        })?;
        if copied != e.size {
            return Err(Problem::Changed {
                path: e.rel.clone(),
            });
        }
    }
    let bytes = zip
        .finish()
        .map_err(|err| zip_error(err, "the zip's directory"))?
        .buf
        .into_inner();
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    Ok(Package { zip: bytes, sha256 })
}

#[cfg(test)]
mod tests;
