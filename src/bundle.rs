//! Code bundles for AgentCore direct code deployment: an agent's source
//! directory and its dependencies, installed for the runtime's platform
//! (Linux ARM64), zipped with the packaging rules of Lambda functions
//! ([`crate::package`]: sorted entries, fixed times and modes, nothing
//! outside the directory).
//!
//! A bundle is named by what it is made from, not by its bytes: the SHA-256
//! of the source directory's deterministic zip, the requirements file's
//! content and the runtime. So `plan` knows the bundle's content-addressed
//! key without installing anything, an unchanged directory plans as no
//! change, and `apply` builds (installs, zips, checks the size limits) only
//! when that key is not in the bucket yet.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use crate::package::{self, Limits, Problem};

/// AgentCore's quotas for a code bundle: 250 MB zipped, 750 MB unzipped.
pub const LIMITS: Limits = Limits {
    zipped: 250 << 20,
    unzipped: 750 << 20,
};

/// What a runtime's bundle is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The canonical source directory.
    pub dir: PathBuf,
    /// The requirements file (inside `dir`), if any.
    pub requirements: Option<PathBuf>,
    /// AgentCore's runtime (`PYTHON_3_12`).
    pub runtime: String,
    /// Lowercase hex SHA-256 of the inputs.
    pub hash: String,
}

/// The tools that can install Python requirements for another platform.
const INSTALLERS: &str = "uv (https://docs.astral.sh/uv/) or pip (python3 -m pip)";

impl Bundle {
    /// Hashes the inputs of a bundle (the source is zipped in memory to
    /// hash it exactly as it will be packaged).
    pub fn prepare(
        dir: &Path,
        requirements: Option<&Path>,
        runtime: &str,
    ) -> Result<Bundle, Vec<Problem>> {
        let source = package::package_with(dir, &LIMITS)?;
        let mut h = Sha256::new();
        h.update(b"agentform-bundle-v1\n");
        h.update(runtime.as_bytes());
        h.update(b"\n");
        h.update(source.sha256.as_bytes());
        h.update(b"\n");
        if let Some(r) = requirements {
            let text = std::fs::read(r).map_err(|e| {
                vec![Problem::Io {
                    path: r.display().to_string(),
                    error: e.to_string(),
                }]
            })?;
            h.update(&text);
        }
        Ok(Bundle {
            dir: dir.to_path_buf(),
            requirements: requirements.map(Path::to_path_buf),
            runtime: runtime.to_string(),
            hash: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// The object key of the bundle of runtime `key`.
    pub fn object_key(&self, key: &str) -> String {
        format!("runtimes/{key}/{}.zip", self.hash)
    }

    /// The bundle's zip: from the cache of built bundles when it holds
    /// this hash, else built ([`Bundle::build_fresh`]) and cached. Blocking
    /// (runs the installer): call it off the async runtime.
    pub fn build(&self) -> Result<Vec<u8>> {
        self.build_cached(cache_dir().as_deref())
    }

    /// [`Bundle::build`] with the cache in `cache` (none: no cache).
    pub fn build_cached(&self, cache: Option<&Path>) -> Result<Vec<u8>> {
        let Some(dir) = cache else {
            return self.build_fresh();
        };
        let file = dir.join(format!("{}.zip", self.hash));
        if let Ok(zip) = std::fs::read(&file)
            && (zip.len() as u64) <= LIMITS.zipped
        {
            tracing::debug!(path = %file.display(), "code bundle from the cache");
            return Ok(zip);
        }
        let zip = self.build_fresh()?;
        // A cache that cannot be written only costs a rebuild next time.
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            let tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::fs::write(tmp.path(), &zip)?;
            tmp.persist(&file).map(|_| ()).map_err(|e| e.error)
        });
        if let Err(e) = written {
            tracing::debug!("not caching the code bundle in {}: {e}", dir.display());
        }
        Ok(zip)
    }

    /// Installs the requirements for Linux ARM64 next to a copy of the
    /// source and zips both, within AgentCore's limits.
    pub fn build_fresh(&self) -> Result<Vec<u8>> {
        let staging = tempfile::Builder::new()
            .prefix("agentform-bundle-")
            .tempdir()
            .context("creating a staging directory for the code bundle")?;
        if let Some(req) = &self.requirements {
            self.install(req, staging.path())?;
        }
        // The source goes in after the dependencies: its files win.
        let listing = package::scan(&self.dir, &LIMITS).map_err(|p| self.error(p))?;
        listing
            .copy_to(staging.path())
            .context("copying the agent's source into the bundle")?;
        let zipped = package::package_with(staging.path(), &LIMITS).map_err(|p| self.error(p))?;
        Ok(zipped.zip)
    }

    fn error(&self, problems: Vec<Problem>) -> anyhow::Error {
        package::PackageError {
            dir: self.dir.clone(),
            problems,
        }
        .into()
    }

    fn install(&self, requirements: &Path, target: &Path) -> Result<()> {
        let version = python_version(&self.runtime).ok_or_else(|| {
            anyhow!(
                "requirements are installed for Python runtimes only, not {}",
                self.runtime
            )
        })?;
        let mut cmd = installer(&version, requirements, target)?;
        tracing::debug!(?cmd, "installing the code bundle's requirements");
        let out = cmd
            .output()
            .with_context(|| format!("running {:?}", cmd.get_program()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(12).collect();
            bail!(
                "installing {} for Linux ARM64 (Python {version}) failed:\n{}",
                requirements.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }
}

/// Where built bundles are kept, by input hash: `$AGENTFORM_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/agentform/bundles`, else
/// `~/.cache/agentform/bundles`. An empty `AGENTFORM_CACHE_DIR` turns the
/// cache off.
fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("AGENTFORM_CACHE_DIR") {
        return (!d.is_empty()).then(|| PathBuf::from(d).join("bundles"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("agentform").join("bundles"))
}

/// `3.12` of `PYTHON_3_12`.
fn python_version(runtime: &str) -> Option<String> {
    runtime
        .strip_prefix("PYTHON_")
        .map(|v| v.replacen('_', ".", 1))
}

/// The command that installs `requirements` into `target` as wheels for
/// manylinux2014 aarch64: `$AGENTFORM_PIP` (a pip command line such as
/// `python3 -m pip`), else `uv pip`, else `python3 -m pip`.
fn installer(version: &str, requirements: &Path, target: &Path) -> Result<Command> {
    let pip_args = |mut c: Command| {
        c.args([
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "--no-compile",
        ])
        .args([
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
        ])
        .args(["--python-version", version, "--only-binary=:all:"])
        .arg("--target")
        .arg(target)
        .arg("-r")
        .arg(requirements);
        c
    };
    if let Ok(custom) = std::env::var("AGENTFORM_PIP")
        && !custom.trim().is_empty()
    {
        let mut words = custom.split_whitespace();
        let mut c = Command::new(words.next().expect("not empty"));
        c.args(words);
        return Ok(pip_args(c));
    }
    if on_path("uv") {
        let mut c = Command::new("uv");
        c.args(["pip", "install", "--quiet", "--no-compile"])
            .args(["--python-platform", "aarch64-manylinux2014"])
            .args(["--python-version", version, "--only-binary", ":all:"])
            .arg("--target")
            .arg(target)
            .arg("-r")
            .arg(requirements);
        return Ok(c);
    }
    for python in ["python3", "python"] {
        if on_path(python)
            && Command::new(python)
                .args(["-m", "pip", "--version"])
                .output()
                .is_ok_and(|o| o.status.success())
        {
            let mut c = Command::new(python);
            c.args(["-m", "pip"]);
            return Ok(pip_args(c));
        }
    }
    bail!(
        "installing {} needs {INSTALLERS} on PATH (or AGENTFORM_PIP naming a pip command); install one, or package the dependencies into the source directory and drop `requirements`",
        requirements.display()
    )
}

fn on_path(program: &str) -> bool {
    which::which(program).is_ok()
}

/// The bundle a desired runtime config carries: compared as equal to any
/// other (it is how to build the code, not what is deployed).
#[derive(Debug, Clone, Default)]
pub struct Source(pub Option<std::sync::Arc<Bundle>>);

impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_name_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "print('hi')\n").unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
        let req = dir.path().join("requirements.txt");
        let a = Bundle::prepare(dir.path(), Some(&req), "PYTHON_3_12").unwrap();
        let again = Bundle::prepare(dir.path(), Some(&req), "PYTHON_3_12").unwrap();
        assert_eq!(a.hash, again.hash, "the same inputs, the same name");
        assert_eq!(a.hash.len(), 64);
        assert_eq!(
            a.object_key("agent"),
            format!("runtimes/agent/{}.zip", a.hash)
        );
        let other_runtime = Bundle::prepare(dir.path(), Some(&req), "PYTHON_3_13").unwrap();
        assert_ne!(a.hash, other_runtime.hash);
        std::fs::write(&req, "six==1.17.0\n").unwrap();
        assert_ne!(
            a.hash,
            Bundle::prepare(dir.path(), Some(&req), "PYTHON_3_12")
                .unwrap()
                .hash
        );
        std::fs::write(dir.path().join("app.py"), "print('bye')\n").unwrap();
        assert_ne!(
            a.hash,
            Bundle::prepare(dir.path(), None, "PYTHON_3_12")
                .unwrap()
                .hash
        );
    }

    #[test]
    fn a_built_bundle_is_cached_by_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("agent");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("app.py"), "print('hi')\n").unwrap();
        let cache = dir.path().join("cache");
        let b = Bundle::prepare(&src, None, "PYTHON_3_12").unwrap();
        let built = b.build_cached(Some(&cache)).unwrap();
        let cached = cache.join(format!("{}.zip", b.hash));
        assert_eq!(std::fs::read(&cached).unwrap(), built);
        // The next build of the same inputs is the cached file.
        std::fs::write(&cached, b"from the cache").unwrap();
        assert_eq!(b.build_cached(Some(&cache)).unwrap(), b"from the cache");
        assert_eq!(b.build_cached(None).unwrap(), built, "no cache: built");
    }

    #[test]
    fn python_versions_come_from_the_runtime() {
        assert_eq!(python_version("PYTHON_3_12").as_deref(), Some("3.12"));
        assert_eq!(python_version("NODE_22"), None);
    }
}
