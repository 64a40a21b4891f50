//! Meaning checks on a structurally valid spec: AWS naming rules on derived
//! physical names, references between resources (existence, attribute, place,
//! cycles), tool schemas beyond their shape, and paths on disk.
//!
//! One `Checker` walks the spec; its checks are grouped by idea: `naming`
//! (physical names, tags, environment variable names), `resources` (what
//! each function, gateway and runtime points at, and paths on disk),
//! `tool_schema` (tool input and output schemas) and `references`
//! (`${kind.name.attr}` references and their cycles).

mod naming;
mod policies;
mod references;
mod resources;
mod targets;
mod tool_schema;

pub use resources::source_diagnostics;

use std::collections::BTreeSet;
use std::ops::Range;

use super::yaml::escape;
use super::{LoadedSpec, Spec};
use crate::diag::Diagnostic;
use crate::names;

struct Checker<'a> {
    l: &'a LoadedSpec,
    diags: Vec<Diagnostic>,
    /// Whether `project` is a valid name. When it is not, derived names are
    /// judged with a stand-in project, so they do not repeat its problem.
    project_ok: bool,
    /// Keys already reported by `name_rule`.
    named: BTreeSet<String>,
    paths: super::Paths,
}

/// Every meaning problem of the spec.
/// `json` is the spec as JSON after substitution (pointers match `l.map`).
pub fn check(l: &LoadedSpec, json: &serde_json::Value, paths: super::Paths) -> Vec<Diagnostic> {
    let project_ok = names::PROJECT.violation(&l.spec.project).is_none();
    let mut c = Checker {
        l,
        diags: Vec::new(),
        project_ok,
        named: BTreeSet::new(),
        paths,
    };
    c.project();
    c.tags();
    c.rates();
    c.verify_principals();
    c.functions();
    c.own_roles();
    c.gateways();
    c.repositories();
    c.runtimes();
    c.memories();
    c.credentials();
    c.policy_engines();
    c.runtime_tools();
    c.references(json);
    c.diags
}

fn ptr(parts: &[&str]) -> String {
    parts.iter().map(|p| format!("/{}", escape(p))).collect()
}

impl Checker<'_> {
    fn spec(&self) -> &Spec {
        &self.l.spec
    }
    /// The region role names are judged with: the spec's, else a stand-in
    /// as long as any (the real one may come from --region or the profile).
    fn role_region(&self) -> String {
        self.spec()
            .region
            .clone()
            .filter(|r| crate::names::valid_region(r))
            .unwrap_or_else(|| crate::names::STAND_IN_REGION.to_string())
    }
    fn value_span(&self, p: &str) -> Range<usize> {
        self.l.map.value_span(p)
    }
    fn key_span(&self, p: &str) -> Range<usize> {
        self.l.map.key_span(p)
    }
    /// Span of `needle` inside the scalar at `p` (for one `${...}` in a string).
    fn inner_span(&self, p: &str, needle: &str) -> Range<usize> {
        super::interpolate::span_within(&self.l.map, Some(&self.l.source), p, needle)
    }
}
