//! The fuzz target's check (`fuzz/check.rs`) on every seed of its corpus
//! (`fuzz/seeds/spec`) and every input it once failed on
//! (`fuzz/regressions/spec`), on the stable toolchain: what the fuzzer
//! found stays fixed without running it.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/check.rs"]
mod check;

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn run(dir: &str) -> usize {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(work.path().join("lambda")).expect("lambda dir");
    std::fs::write(
        work.path().join("lambda/handler.py"),
        "def lambda_handler(event, context):\n    return event\n",
    )
    .expect("handler");
    let files = inputs(dir);
    for f in &files {
        let data = std::fs::read(f).expect("read input");
        let outcome = std::panic::catch_unwind(|| check::check(&data, work.path()));
        assert!(outcome.is_ok(), "{} fails the fuzz check", f.display());
    }
    files.len()
}

#[test]
fn fuzz_seeds_pass_the_fuzz_check() {
    assert!(run("fuzz/seeds/spec") > 50, "the seed corpus is there");
}

#[test]
fn fuzz_regressions_stay_fixed() {
    run("fuzz/regressions/spec");
}
