//! `agentform init [DIR]`: writes the scaffold embedded from `templates/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use include_dir::{Dir, DirEntry, include_dir};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Project name from a directory name: lowercase, runs of other characters
/// as single hyphens.
pub fn project_name(dir: &Path) -> String {
    let raw = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "my-agent".into());
    let mut out = String::new();
    for ch in raw.to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    let out = if out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out
    } else {
        format!("agent-{out}")
    };
    out.chars()
        .take(24)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

fn files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for e in dir.entries() {
        match e {
            DirEntry::Dir(d) => files(d, out),
            DirEntry::File(f) => out.push(f),
        }
    }
}

/// The file next to the spec that holds the spec's JSON Schema: the
/// template's first line (`# yaml-language-server: $schema=./agentform.schema.json`)
/// points editors at it, so completion works offline.
pub const SCHEMA_FILE: &str = "agentform.schema.json";

/// Writes the scaffold into `dir`, with the spec's JSON Schema next to the
/// spec; refuses to overwrite existing files.
pub fn run(dir: &Path, project: Option<String>) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let project = project.unwrap_or_else(|| project_name(dir));
    if let Some(problem) = crate::names::PROJECT.violation(&project) {
        bail!(
            "{problem}: {}; pass --project NAME",
            crate::names::PROJECT.explain
        );
    }
    let mut all = Vec::new();
    files(&TEMPLATES, &mut all);
    let skip = |p: &Path| {
        p.components()
            .any(|c| c.as_os_str() == "__pycache__" || c.as_os_str() == ".pytest_cache")
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = all
        .into_iter()
        .filter(|f| !skip(f.path()))
        .map(|f| {
            let bytes = match std::str::from_utf8(f.contents()) {
                Ok(text) => text.replace("__PROJECT__", &project).into_bytes(),
                Err(_) => f.contents().to_vec(),
            };
            (dir.join(f.path()), bytes)
        })
        .collect();
    out.push((
        dir.join(SCHEMA_FILE),
        crate::spec::schema::SCHEMA_TEXT.as_bytes().to_vec(),
    ));
    let existing: Vec<&PathBuf> = out.iter().map(|(p, _)| p).filter(|p| p.exists()).collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite existing files: {}",
            existing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut written = Vec::new();
    for (target, bytes) in out {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        written.push(target);
    }
    Ok(written)
}

/// The `init` command: writes the scaffold and says what to do next.
pub(super) fn exec(dir: &std::path::Path, project: Option<String>) -> Result<i32> {
    let written = run(dir, project)?;
    println!("Created {} files in {}:", written.len(), dir.display());
    for w in &written {
        println!("  {}", w.display());
    }
    println!(
        "\nNext: cd {} && agentform validate && agentform plan",
        dir.display()
    );
    Ok(super::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_dirs() {
        assert_eq!(
            project_name(Path::new("/nonexistent/My Agent_2")),
            "my-agent-2"
        );
        assert_eq!(project_name(Path::new("/nonexistent/42")), "agent-42");
    }

    #[test]
    fn scaffold_passes_validate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo-agent");
        let written = run(&dir, None).unwrap();
        assert!(written.iter().any(|p| p.ends_with("agentform.yaml")));
        let spec = std::fs::read_to_string(dir.join("agentform.yaml")).unwrap();
        assert_eq!(
            spec.lines().next(),
            Some("# yaml-language-server: $schema=./agentform.schema.json")
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(SCHEMA_FILE)).unwrap(),
            crate::spec::schema::SCHEMA_TEXT
        );
        let loaded = crate::spec::load(&dir.join("agentform.yaml"), &Default::default());
        match loaded {
            Ok(l) => assert_eq!(l.spec.project, "demo-agent"),
            Err(e) => panic!("scaffold does not validate:\n{}", e.render(false)),
        }
        assert!(
            run(&dir, None)
                .unwrap_err()
                .to_string()
                .contains("refusing to overwrite")
        );
        // The schema file alone is enough to refuse.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(SCHEMA_FILE), "{}").unwrap();
        let err = run(&other, None).unwrap_err().to_string();
        assert!(err.contains("refusing to overwrite"), "{err}");
        assert!(!other.join("agentform.yaml").exists());
    }
}
