//! Structural checks against the spec's JSON Schema.
//!
//! The schema (`schema/agentform.schema.json`) is the single description of
//! the spec's shape: it drives these checks and can be handed to editors
//! (yaml-language-server) for completion. This module only turns the
//! validator's findings into diagnostics a person can act on: unknown fields
//! with a "did you mean", wrong types with what was found, enum values with
//! the allowed list.
//!
//! So that one run reports every problem, `check` also returns a repaired copy
//! of the value: unknown keys removed (or renamed when they are a typo of a
//! key the mapping lacks), bad or missing values replaced by the smallest
//! value the schema accepts. The later stages run on that copy; whatever they find inside the
//! repaired ranges is dropped, since it would only restate these findings.
//!
//! The work is shared out: `diagnose` turns each validator error into
//! diagnostics and the repairs it calls for, `repair` finds the typos and
//! applies the repairs, and `describe` words places and values for the
//! messages. This file holds the compiled schema and the ways into it.

mod describe;
mod diagnose;
mod repair;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::yaml::SourceMap;
use crate::diag::Diagnostic;
use diagnose::{Ctx, convert};
use repair::{apply, typos};

pub const SCHEMA_TEXT: &str = include_str!("../../../schema/agentform.schema.json");

static SCHEMA: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SCHEMA_TEXT).expect("embedded schema is valid JSON"));
static VALIDATOR: LazyLock<Validator> =
    LazyLock::new(|| jsonschema::validator_for(&SCHEMA).expect("embedded schema compiles"));

/// What `check` found.
#[derive(Debug, Default)]
pub struct Checked {
    pub diags: Vec<Diagnostic>,
    /// The value with every finding repaired, or `None` when it cannot be
    /// (the root is not a mapping).
    pub repaired: Option<Value>,
    /// Source ranges whose content was removed or replaced in `repaired`.
    pub shadow: Vec<Range<usize>>,
    /// Keys renamed in `repaired` (pointer before -> pointer after).
    pub renames: Vec<(String, String)>,
}

/// Every structural problem in `value`, and `value` repaired (moved, not
/// copied: a large spec is held once).
pub fn check(value: Value, map: &SourceMap) -> Checked {
    let (diags, repairs) = findings(&value, map);
    let mut checked = Checked {
        diags,
        ..Checked::default()
    };
    if value.is_object() {
        let mut fixed = value;
        apply(&mut fixed, repairs, map, &mut checked);
        checked.repaired = Some(fixed);
    }
    checked
}

/// The diagnostics of [`check`] alone, for a value that is kept as it is.
pub fn diagnose(value: &Value, map: &SourceMap) -> Vec<Diagnostic> {
    findings(value, map).0
}

fn findings(value: &Value, map: &SourceMap) -> (Vec<Diagnostic>, Vec<repair::Repair>) {
    let errors: Vec<ValidationError<'_>> = VALIDATOR.iter_errors(value).collect();
    if errors.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut ctx = Ctx {
        root: value,
        map,
        out: Vec::new(),
        repairs: Vec::new(),
        typos: HashMap::new(),
    };
    ctx.typos = typos(&errors, value);
    for err in &errors {
        convert(err, &mut ctx);
    }
    let Ctx {
        out: mut diags,
        repairs,
        ..
    } = ctx;
    let mut seen = HashSet::new();
    diags.retain(|d| seen.insert((d.span.clone(), d.message.clone())));
    (diags, repairs)
}

/// Names of the properties declared by the object schema whose
/// `additionalProperties` keyword is at `keyword_path`.
fn known_keys(keyword_path: &str) -> Vec<&'static str> {
    let parent = keyword_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(keyword_path);
    schema_at(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Whether `err` breaks a rule that `validate` judges itself: the name
/// rules (key patterns under `propertyNames`, value patterns with their
/// lengths, the runtime's count of environment variables) and the other
/// patterns (region, image URI and tag, discovery URL). The schema states
/// them for editors; `validate` checks the same rules after substitution,
/// names the character at fault and the physical name a key is part of, and
/// also checks what the schema cannot state (the lengths of derived names).
/// So they are left to it rather than reported twice (a `oneOf` counts as
/// such when one of its branches fails on such rules only).
///
/// `root` is the schema `err` was found with: the spec's, or a part of it
/// wrapped with its `$defs`.
fn judged_by_validate(err: &ValidationError<'_>, root: &Value) -> bool {
    let path = err.schema_path().as_str();
    let keyword_node = || schema_in(root, &path[..path.rfind('/')?]);
    match err.kind() {
        ValidationErrorKind::PropertyNames { .. } | ValidationErrorKind::Pattern { .. } => true,
        ValidationErrorKind::MinLength { .. } | ValidationErrorKind::MaxLength { .. } => {
            keyword_node().is_some_and(|s| s.get("pattern").is_some())
        }
        ValidationErrorKind::MaxProperties { .. } => {
            keyword_node().is_some_and(|s| s.get("propertyNames").is_some())
        }
        // A `custom_jwt` authorizer whose only fault is its discovery URL.
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            context.iter().any(|branch| {
                !branch.is_empty() && branch.iter().all(|e| judged_by_validate(e, root))
            })
        }
        _ => false,
    }
}

fn is_tool_schema(pointer: &str) -> bool {
    let parts: Vec<&str> = pointer.split('/').collect();
    parts
        .windows(2)
        .any(|w| w[0].chars().all(|c| c.is_ascii_digit()) && (w[1] == "input" || w[1] == "output"))
        && pointer.contains("/tools/")
}

/// The schema node at a keyword location, following `$ref`s.
fn schema_at(path: &str) -> Option<&'static Value> {
    schema_in(&SCHEMA, path)
}

/// [`schema_at`] in the schema `root` (whose `$defs` the `$ref`s name).
fn schema_in<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node: &Value = root;
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?.trim_start_matches('#');
            node = root.pointer(target)?;
            continue;
        }
        node = match node {
            Value::Object(o) => o.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Spec, yaml};

    /// The later stages run on `repaired`, so it must always fit the spec's
    /// types, whatever was wrong.
    #[test]
    fn repaired_values_fit_the_spec_types() {
        let cases = [
            "version: 2\nproject: 5\n",
            "version: \"1\"\nprojcet: demo\n",
            "region: x\n",
            "version: 1\nproject: demo\nfunctions:\n  f:\n  g: [1]\n  h: {source: 1, runtim: python3.12, handler: h, memory: 99999999999, timeout: x}\n",
            "version: 1\nproject: demo\ngateways:\n  g: {authorizer: {custom_jwt: {allowed_audience: [a]}}, search: x, targets: {t: {tools: [{name: 1}], function: [f]}}}\n",
            "version: 1\nproject: demo\nruntimes:\n  r: {artifact: {image: a, container: {}}, invoke_gateways: x, environment: {A: 1}}\n  s: {}\n",
            "version: 1\nproject: demo\nrepositories: {a: 1, b: {scan_on_push: maybe}}\nvariables: {v: {default: [1]}, w: 3}\ntags: [a]\noutputs: {o: {}}\n",
            "version: 1\nproject: demo\ngateways: {g: {authorizer: aws_iam, targets: {t: {function: f, tools: [{name: a, description: b, input: {type: [a], properties: {x: {$ref: y}}, items: 1}}]}}}}\n",
        ];
        for src in cases {
            let doc = yaml::parse(src).unwrap();
            let checked = check(doc.value, &doc.map);
            assert!(!checked.diags.is_empty(), "{src}");
            let repaired = checked.repaired.expect("a mapping root is repairable");
            assert!(
                serde_json::from_value::<Spec>(repaired.clone()).is_ok(),
                "{src}\n{repaired:#}"
            );
            assert!(
                diagnose(&repaired, &yaml::SourceMap::default())
                    .iter()
                    .all(|d| !d.message.contains("internal")),
                "{src}"
            );
        }
    }

    #[test]
    fn typo_of_a_missing_required_key_is_renamed_not_reported_twice() {
        let doc = yaml::parse("version: 1\nprojcet: demo\n").unwrap();
        let checked = check(doc.value, &doc.map);
        let messages: Vec<&str> = checked.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["unknown field `projcet`"]);
        assert_eq!(checked.repaired.unwrap()["project"], "demo");
        assert_eq!(
            checked.renames,
            [("/projcet".to_string(), "/project".to_string())]
        );
    }
}
