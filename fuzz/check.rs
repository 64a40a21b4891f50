//! What the `spec` fuzz target checks for one input, shared with the stable
//! test that replays the seed corpus and the regressions
//! (`tests/testsuite/fuzz_seeds.rs`), so that a found bug stays fixed
//! without a nightly toolchain.
//!
//! Any input: loading (parse, schema, interpolation, validate) returns,
//! never panics; a rejected spec has at least one problem, every problem's
//! span lies inside the text on character boundaries, and the problems
//! render as text and JSON. An accepted spec builds its desired state
//! (derived IAM included), plans against an empty account and renders.

use std::path::Path;

use agentform::model::{Account, Known};
use agentform::plan::{self, desired, render};
use agentform::spec::{self, LoadError, Paths, VarOverrides};

/// `dir` must hold a `lambda/` directory (the seeds' function source).
pub fn check(data: &[u8], dir: &Path) {
    let source = String::from_utf8_lossy(data);
    let path = dir.join("agentform.yaml");
    match spec::load_str_with(&source, &path, dir, &VarOverrides::new(), Paths::Check) {
        Ok(loaded) => {
            let account = Account {
                id: "123456789012".into(),
                region: "us-east-1".into(),
                partition: "aws".into(),
            };
            let wanted = desired::build(
                &loaded,
                &account,
                &desired::Artifacts::default(),
                &Known::new(),
            );
            let p = plan::diff(&wanted, &[], plan::Mode::Apply)
                .unwrap_or_else(|c| panic!("a valid spec conflicts with an empty account: {c:?}"));
            let _ = render::plan(&p);
            let _ = render::plan_json(&p);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "rejected without a problem");
            for d in &diagnostics {
                if let Some(s) = &d.span {
                    assert!(
                        s.start <= s.end
                            && s.end <= source.len()
                            && source.is_char_boundary(s.start)
                            && source.is_char_boundary(s.end),
                        "span {s:?} of `{}` outside the text ({} bytes)",
                        d.message,
                        source.len()
                    );
                }
            }
            let e = LoadError {
                path,
                source: source.into_owned(),
                diagnostics,
            };
            let _ = e.render(false);
            let _ = e.to_json();
        }
    }
}
