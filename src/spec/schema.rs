//! Structural checks against the spec's JSON Schema.
//!
//! The schema (`schema/agentform.schema.json`) is the single description of
//! the spec's shape: it drives these checks and can be handed to editors
//! (yaml-language-server) for completion. This module only turns the
//! validator's findings into diagnostics a person can act on: unknown fields
//! with a "did you mean", wrong types with what was found, enum values with
//! the allowed list.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::yaml::{SourceMap, escape};
use crate::diag::{Diagnostic, did_you_mean};

pub const SCHEMA_TEXT: &str = include_str!("../../schema/agentform.schema.json");

static SCHEMA: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SCHEMA_TEXT).expect("embedded schema is valid JSON"));
static VALIDATOR: LazyLock<Validator> =
    LazyLock::new(|| jsonschema::validator_for(&SCHEMA).expect("embedded schema compiles"));

const TOOL_KEYWORDS: &str = "`type`, `properties`, `required`, `items` and `description`";

/// Every structural problem in `value`.
pub fn check(value: &Value, map: &SourceMap) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for err in VALIDATOR.iter_errors(value) {
        convert(&err, value, map, &mut diags);
    }
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.span.clone(), d.message.clone())));
    diags
}

fn field_name(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or("");
    if last.is_empty() {
        "the spec".to_string()
    } else if last.chars().all(|c| c.is_ascii_digit()) {
        let parent = &pointer[..pointer.len() - last.len() - 1];
        format!("`{}[{last}]`", parent.rsplit('/').next().unwrap_or(""))
    } else {
        format!("`{}`", last.replace("~1", "/").replace("~0", "~"))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer `{n}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn is_tool_schema(pointer: &str) -> bool {
    let parts: Vec<&str> = pointer.split('/').collect();
    parts.windows(2).any(|w| w[0].chars().all(|c| c.is_ascii_digit()) && (w[1] == "input" || w[1] == "output"))
        && pointer.contains("/tools/")
}

/// The schema node at a keyword location, following `$ref`s.
fn schema_at(path: &str) -> Option<&'static Value> {
    let mut node: &Value = &SCHEMA;
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?.trim_start_matches('#');
            node = SCHEMA.pointer(target)?;
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

fn convert(err: &ValidationError<'_>, root: &Value, map: &SourceMap, out: &mut Vec<Diagnostic>) {
    let ptr = err.instance_path().as_str().to_string();
    let instance = root.pointer(&ptr).unwrap_or(&Value::Null);
    let field = field_name(&ptr);
    let schema_path = err.schema_path().as_str().to_string();
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let parent = schema_path.trim_end_matches("/additionalProperties");
            let known: Vec<&str> = schema_at(parent)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for key in unexpected {
                let at = map.key_span(&format!("{ptr}/{}", escape(key)));
                let d = if is_tool_schema(&ptr) {
                    Diagnostic::new(format!("unsupported JSON Schema keyword `{key}` in a tool schema"), at)
                        .label("not supported by AgentCore")
                        .help(format!("AgentCore tool schemas accept only {TOOL_KEYWORDS}"))
                } else {
                    let d = Diagnostic::new(format!("unknown field `{key}`"), at).label("unknown field");
                    match did_you_mean(key, known.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if !known.is_empty() => d.help(format!(
                            "expected one of {}",
                            known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                        )),
                        None => d,
                    }
                };
                out.push(d);
            }
        }
        ValidationErrorKind::Required { property } => {
            let prop = property.as_str().unwrap_or_default();
            let owner = if ptr.is_empty() { "the spec".to_string() } else { field };
            let mut d = Diagnostic::new(format!("missing field `{prop}` in {owner}"), map.span(&ptr))
                .label(format!("`{prop}` is required here"));
            if let Some(desc) = schema_at(&format!("{}/properties/{prop}", schema_path.trim_end_matches("/required")))
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
            {
                d = d.help(format!("`{prop}`: {desc}"));
            }
            out.push(d);
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(ts) => {
                    let names: Vec<String> = ts.iter().map(|t| article(&t.to_string())).collect();
                    names.join(" or ")
                }
            };
            let expected = expected.replace("an object", "a mapping").replace("an array", "a list");
            out.push(
                Diagnostic::new(format!("{field} must be {expected}, found {}", describe(instance)), map.value_span(&ptr))
                    .label(format!("expected {expected}")),
            );
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<&str> = options.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let list = opts.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
            let got = instance.as_str().map_or_else(|| describe(instance), |s| format!("`{s}`"));
            let mut d = Diagnostic::new(format!("invalid value {got} for {field}"), map.value_span(&ptr))
                .label(format!("expected one of {list}"));
            if let Some(s) = instance.as_str().and_then(|s| did_you_mean(s, opts.iter().copied())) {
                d = d.help(format!("did you mean `{s}`?"));
            } else if is_tool_schema(&ptr) {
                d = d.help("AgentCore tool schema types are string, number, integer, boolean, object and array; one type per schema");
            }
            out.push(d);
        }
        ValidationErrorKind::Constant { expected_value } => {
            out.push(
                Diagnostic::new(format!("unsupported spec version {}", describe(instance)), map.value_span(&ptr))
                    .label(format!("expected {expected_value}"))
                    .help(format!("this agentform reads spec version {expected_value}")),
            );
        }
        ValidationErrorKind::Minimum { limit } => out.push(
            Diagnostic::new(format!("{field} must be at least {limit}, found {instance}"), map.value_span(&ptr))
                .label("too small"),
        ),
        ValidationErrorKind::Maximum { limit } => out.push(
            Diagnostic::new(format!("{field} must be at most {limit}, found {instance}"), map.value_span(&ptr))
                .label("too large"),
        ),
        ValidationErrorKind::MinLength { limit } => out.push(
            Diagnostic::new(format!("{field} must be at least {limit} characters long"), map.value_span(&ptr))
                .label("too short"),
        ),
        ValidationErrorKind::MaxLength { limit } => out.push(
            Diagnostic::new(
                format!("{field} must be at most {limit} characters long, found {}", instance.as_str().map_or(0, |s| s.chars().count())),
                map.value_span(&ptr),
            )
            .label("too long"),
        ),
        ValidationErrorKind::MinItems { limit } => out.push(
            Diagnostic::new(format!("{field} must have at least {limit} entr{}", if *limit == 1 { "y" } else { "ies" }), map.span(&ptr))
                .label("too few entries"),
        ),
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. } if ptr.ends_with("/artifact") => {
            out.push(
                Diagnostic::new("`artifact` must have exactly one of `image` or `container`", map.span(&ptr))
                    .label("set one artifact source")
                    .help("use `image: <uri>` for a pushed image, or `container: {repository: <name>, tag: <tag>}`"),
            );
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            if ptr.ends_with("/authorizer") && !instance.is_object() {
                let got = instance.as_str().map_or_else(|| describe(instance), |s| format!("`{s}`"));
                let mut d = Diagnostic::new(format!("invalid authorizer {got}"), map.value_span(&ptr))
                    .label("expected `aws_iam` or a `custom_jwt` mapping");
                d = match instance.as_str().and_then(|s| did_you_mean(s, ["aws_iam", "custom_jwt"])) {
                    Some("aws_iam") => d.help("did you mean `aws_iam`?"),
                    _ => d.help("write `authorizer: aws_iam` for SigV4, or `authorizer: {custom_jwt: {discovery_url: ...}}`"),
                };
                out.push(d);
                return;
            }
            // Report the branch that got furthest into the value.
            let best = context.iter().max_by_key(|errs| {
                errs.iter().map(|e| e.instance_path().as_str().len()).max().unwrap_or(0)
            });
            match best {
                Some(errs) if !errs.is_empty() => {
                    for e in errs {
                        convert(e, root, map, out);
                    }
                }
                _ => out.push(Diagnostic::new(format!("invalid value for {field}"), map.span(&ptr))),
            }
        }
        _ => out.push(Diagnostic::new(format!("invalid {field}: {err}"), map.span(&ptr))),
    }
}

fn article(t: &str) -> String {
    match t {
        "integer" | "object" | "array" => format!("an {t}"),
        "null" => "null".into(),
        _ => format!("a {t}"),
    }
}
