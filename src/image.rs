//! Container builds: an agent's build context, built for `linux/arm64`
//! with the user's container tool (docker buildx, podman or finch) and
//! pushed to the project's ECR repository.
//!
//! An image is named by its context: the tag `agentform-<hash>` carries
//! the first 16 hex digits of the SHA-256 of the context's deterministic
//! zip (the packaging rules of Lambda functions: build debris such as
//! `.git` and `__pycache__` left out) and of the Dockerfile. So `plan`
//! finds the image for this very context in ECR by tag (then the runtime
//! is pinned to its digest and nothing is built), and a changed file in
//! the context means a new tag: apply builds, pushes, and deploys the
//! runtime pinned by the new digest. `.dockerignore` is not read: a change
//! to a file it ignores rebuilds too (never a stale image).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::package::{self, Limits, Problem};

/// How much of a build context is hashed (ECR's image layers allow far
/// more; this only bounds the read).
const CONTEXT_LIMITS: Limits = Limits {
    zipped: 10 << 30,
    unzipped: 10 << 30,
};

/// What to build for a runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBuild {
    /// The canonical build context.
    pub context: PathBuf,
    /// The Dockerfile.
    pub dockerfile: PathBuf,
    /// Lowercase hex SHA-256 of the context and the Dockerfile.
    pub hash: String,
}

/// The container tools agentform can build with, in the order it looks.
pub const TOOLS: [&str; 3] = ["docker", "podman", "finch"];

impl ImageBuild {
    pub fn prepare(context: &Path, dockerfile: &Path) -> Result<ImageBuild, Vec<Problem>> {
        let zipped = package::package_with(context, &CONTEXT_LIMITS)?;
        let file = std::fs::read(dockerfile).map_err(|e| {
            vec![Problem::Io {
                path: dockerfile.display().to_string(),
                error: e.to_string(),
            }]
        })?;
        let mut h = Sha256::new();
        h.update(b"agentform-image-v1\n");
        h.update(zipped.sha256.as_bytes());
        h.update(b"\n");
        h.update(&file);
        Ok(ImageBuild {
            context: context.to_path_buf(),
            dockerfile: dockerfile.to_path_buf(),
            hash: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// The image tag of this context.
    pub fn tag(&self) -> String {
        format!("agentform-{}", &self.hash[..16])
    }

    /// Logs in to `registry` with `password` (an ECR authorization
    /// token's), builds the context for linux/arm64 as `image` and pushes
    /// it. Blocking: call it off the async runtime.
    pub fn build_and_push(&self, image: &str, registry: &str, password: &str) -> Result<()> {
        let tool = Tool::find()?;
        let mut login = tool.command();
        login
            .args(["login", "--username", "AWS", "--password-stdin", registry])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = login
            .spawn()
            .with_context(|| format!("running {}", tool.program.display()))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(password.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "{} login to {registry} failed: {}",
                tool.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let dockerfile = self.dockerfile.to_string_lossy().to_string();
        let context = self.context.to_string_lossy().to_string();
        let mut steps: Vec<Vec<String>> = Vec::new();
        let build = |prefix: &[&str]| -> Vec<String> {
            prefix
                .iter()
                .map(|s| s.to_string())
                .chain(["--platform".into(), "linux/arm64".into()])
                .chain(["-f".into(), dockerfile.clone(), "-t".into(), image.into()])
                .collect()
        };
        if tool.name == "docker" {
            let mut b = build(&["buildx", "build"]);
            b.extend(["--push".to_string(), context.clone()]);
            steps.push(b);
        } else {
            let mut b = build(&["build"]);
            b.push(context.clone());
            steps.push(b);
            steps.push(vec!["push".into(), image.into()]);
        }
        for args in steps {
            let out = tool
                .command()
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .with_context(|| format!("running {}", tool.program.display()))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = err.lines().rev().take(15).collect();
                bail!(
                    "`{} {}` failed:\n{}",
                    tool.name,
                    args.join(" "),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        }
        Ok(())
    }
}

/// A container tool found on PATH or named by `AGENTFORM_CONTAINER_TOOL`.
pub struct Tool {
    /// `docker`, `podman` or `finch`: decides the commands.
    pub name: &'static str,
    pub program: PathBuf,
}

impl Tool {
    /// `$AGENTFORM_CONTAINER_TOOL` (a name or a path whose file name says
    /// which), else the first of docker, podman, finch on PATH.
    pub fn find() -> Result<Tool> {
        if let Ok(asked) = std::env::var("AGENTFORM_CONTAINER_TOOL")
            && !asked.trim().is_empty()
        {
            let program = PathBuf::from(asked.trim());
            let file = program
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let Some(name) = TOOLS.into_iter().find(|t| file.starts_with(t)) else {
                bail!(
                    "AGENTFORM_CONTAINER_TOOL={asked}: agentform builds with {} (name one, or a path to one)",
                    TOOLS.join(", ")
                );
            };
            let program = if program.components().count() > 1 {
                program
            } else {
                on_path(name).unwrap_or(program)
            };
            return Ok(Tool { name, program });
        }
        for name in TOOLS {
            if let Some(program) = on_path(name) {
                return Ok(Tool { name, program });
            }
        }
        bail!(
            "building the agent's image needs a container tool that builds linux/arm64 images: docker (with buildx), podman or finch on PATH, or AGENTFORM_CONTAINER_TOOL naming one. Or deploy the agent as a code bundle instead, with no image at all: `artifact: {{code: {{source: <dir>, entry_point: app.py, runtime: python3.12}}}}`"
        )
    }

    fn command(&self) -> Command {
        Command::new(&self.program)
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    which::which(program).ok()
}

/// The build a desired runtime config carries: compared as equal to any
/// other (how to build the image, not what is deployed).
#[derive(Debug, Clone, Default)]
pub struct Source(pub Option<std::sync::Arc<ImageBuild>>);

impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_names_the_image() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let df = dir.path().join("Dockerfile");
        let a = ImageBuild::prepare(dir.path(), &df).unwrap();
        assert_eq!(a.hash, ImageBuild::prepare(dir.path(), &df).unwrap().hash);
        assert!(
            a.tag().starts_with("agentform-") && a.tag().len() == 26,
            "{}",
            a.tag()
        );
        std::fs::create_dir(dir.path().join("__pycache__")).unwrap();
        std::fs::write(dir.path().join("__pycache__/x.pyc"), "junk").unwrap();
        assert_eq!(
            a.hash,
            ImageBuild::prepare(dir.path(), &df).unwrap().hash,
            "debris is not context"
        );
        std::fs::write(dir.path().join("app.py"), "print(2)\n").unwrap();
        assert_ne!(a.hash, ImageBuild::prepare(dir.path(), &df).unwrap().hash);
    }
}
