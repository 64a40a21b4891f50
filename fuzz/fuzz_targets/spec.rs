//! Fuzzes spec loading (parse, schema, interpolation, validate) and, for
//! specs that pass, the desired state and plan: see `../check.rs`.
//! Run with `cargo +nightly fuzz run spec` (README, Development).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../check.rs"]
mod check;

/// A directory with the `lambda/` function source the seeds point at, made
/// once per process.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        std::fs::create_dir(dir.join("lambda")).expect("lambda dir");
        std::fs::write(
            dir.join("lambda/handler.py"),
            "def lambda_handler(event, context):\n    return event\n",
        )
        .expect("handler");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    check::check(data, dir());
});
