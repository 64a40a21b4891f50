//! Turns each jsonschema validation error into diagnostics a person can act
//! on (with its source span, what was found, and a fix where one is likely)
//! and into the repairs that let the later stages run.

use std::collections::HashMap;

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::describe::{article, describe, field_name, or_list, owner};
use super::repair::{Repair, implied_type, minimal};
use super::{SCHEMA, is_tool_schema, judged_by_validate, known_keys, schema_at};
use crate::diag::{Diagnostic, did_you_mean};
use crate::spec::yaml::{SourceMap, escape};

const TOOL_KEYWORDS: &str = "`type`, `properties`, `required`, `items` and `description`";

pub(super) struct Ctx<'a> {
    pub(super) root: &'a Value,
    pub(super) map: &'a SourceMap,
    pub(super) out: Vec<Diagnostic>,
    pub(super) repairs: Vec<Repair>,
    /// See `typos`.
    pub(super) typos: HashMap<(String, String), bool>,
}

/// The schema of the property a keyword belongs to (`.../memory/type` ->
/// `.../memory`).
fn property_schema(keyword_path: &str) -> Option<&'static Value> {
    schema_at(&keyword_path[..keyword_path.rfind('/')?])
}

/// The first sentence of a field's description (up to a `. ` before a
/// capital), for a hint that names the field.
fn first_sentence(desc: &str) -> &str {
    let end = desc
        .match_indices(". ")
        .find(|(i, _)| desc[i + 2..].starts_with(|c: char| c.is_ascii_uppercase()))
        .map_or(desc.len(), |(i, _)| i);
    desc[..end].trim_end_matches('.')
}

pub(super) fn convert(err: &ValidationError<'_>, cx: &mut Ctx<'_>) {
    if judged_by_validate(err, &SCHEMA) {
        return;
    }
    let ptr = err.instance_path().as_str().to_string();
    let instance = cx.root.pointer(&ptr).unwrap_or(&Value::Null);
    let map = cx.map;
    let field = field_name(&ptr);
    let schema_path = err.schema_path().as_str().to_string();
    // Where a bad value is replaced by the smallest good one. Variable defaults
    // stay as written: they are free-form, and `interpolate` skips bad ones.
    let replace = |cx: &mut Ctx<'_>| {
        let is_default = ptr.starts_with("/variables/") && ptr.ends_with("/default");
        let v = match ptr.strip_suffix("/type") {
            Some(schema_ptr) if is_tool_schema(schema_ptr) => {
                Some(implied_type(schema_ptr, cx.root.pointer(schema_ptr)))
            }
            _ => property_schema(&schema_path).and_then(minimal),
        };
        if let (false, Some(v)) = (is_default, v) {
            cx.repairs.push(Repair::Replace(ptr.clone(), v));
        }
    };
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = known_keys(&schema_path);
            for key in unexpected {
                let child = format!("{ptr}/{}", escape(key));
                let at = map.key_span(&child);
                let suggestion = did_you_mean(key, known.iter().copied());
                let d = if is_tool_schema(&ptr) {
                    let d = Diagnostic::new(
                        format!("unsupported JSON Schema keyword `{key}` in a tool schema"),
                        at,
                    )
                    .label("not supported by AgentCore");
                    let only = format!("AgentCore tool schemas accept only {TOOL_KEYWORDS}");
                    match (key.as_str(), did_you_mean(key, ["type", "properties", "required", "items", "description"])) {
                        (_, Some(s)) => d.help(format!("did you mean `{s}`? {only}")),
                        ("$ref" | "$defs" | "definitions", _) => d.help(format!("write the referenced schema inline; {only}")),
                        ("enum" | "const", _) => d.help(format!("list the allowed values in `description` and check them in the function; {only}")),
                        (
                            "default" | "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "minLength" | "maxLength" | "pattern"
                            | "format" | "minItems" | "maxItems" | "uniqueItems" | "examples",
                            _,
                        ) => d.help(format!("state it in `description` and check it in the function; {only}")),
                        ("oneOf" | "anyOf" | "allOf" | "not", _) => d.help(format!("use a single `type`; {only}")),
                        _ => d.help(only),
                    }
                } else {
                    let d = Diagnostic::new(format!("unknown field `{key}`"), at)
                        .label("unknown field");
                    match suggestion {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if !known.is_empty() => d.help(format!(
                            "expected one of {}",
                            known
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                        None => d,
                    }
                };
                cx.out.push(d);
                match suggestion.and_then(|s| {
                    cx.typos
                        .get(&(ptr.clone(), s.to_string()))
                        .map(|fits| (s, *fits))
                }) {
                    Some((s, fits)) => {
                        if !fits {
                            let schema = schema_at(&format!(
                                "{}/properties/{}",
                                schema_path
                                    .strip_suffix("/additionalProperties")
                                    .unwrap_or(""),
                                escape(s)
                            ));
                            if let Some(v) = schema.and_then(minimal) {
                                cx.repairs.push(Repair::Replace(child, v));
                            }
                        }
                        cx.repairs
                            .push(Repair::Rename(ptr.clone(), key.clone(), s.to_string()));
                    }
                    None => cx.repairs.push(Repair::Remove(child)),
                }
            }
        }
        ValidationErrorKind::Required { property } => {
            let prop = property.as_str().unwrap_or_default();
            if cx.typos.contains_key(&(ptr.clone(), prop.to_string())) {
                return;
            }
            let prop_schema = schema_at(&format!(
                "{}/properties/{prop}",
                schema_path.trim_end_matches("/required")
            ));
            // `{$ref: ...}` has no `type` because of the `$ref`, reported on its own.
            let composed = ["$ref", "oneOf", "anyOf", "allOf"]
                .iter()
                .any(|k| instance.get(k).is_some());
            if prop == "type" && is_tool_schema(&ptr) && composed {
                cx.repairs.push(Repair::Insert(
                    ptr.clone(),
                    prop.to_string(),
                    implied_type(&ptr, Some(instance)),
                ));
                return;
            }
            let mut d = Diagnostic::new(
                format!("missing field `{prop}` in {}", owner(&ptr, cx.root)),
                map.span(&ptr),
            )
            .label(format!("`{prop}` is required here"));
            if let Some(c) = prop_schema.and_then(|s| s.get("const")) {
                d = d.help(format!("add `{prop}: {c}`"));
            } else if let Some(desc) = prop_schema
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
            {
                d = d.help(format!("add `{prop}:` ({})", first_sentence(desc)));
            }
            cx.out.push(d);
            let implied = (prop == "type" && is_tool_schema(&ptr))
                .then(|| implied_type(&ptr, Some(instance)));
            if let Some(v) = implied.or_else(|| prop_schema.and_then(minimal)) {
                cx.repairs
                    .push(Repair::Insert(ptr.clone(), prop.to_string(), v));
            }
        }
        ValidationErrorKind::Type { kind } => {
            let mut names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
            };
            // Most specific first: "a string, a number or a boolean".
            names.sort_by_key(|n| {
                [
                    "object", "array", "string", "integer", "number", "boolean", "null",
                ]
                .iter()
                .position(|k| k == n)
            });
            let expected = or_list(&names.iter().map(|t| article(t)).collect::<Vec<_>>());
            let mut d = Diagnostic::new(
                format!("{field} must be {expected}, found {}", describe(instance)),
                map.value_span(&ptr),
            )
            .label(format!("expected {expected}"));
            let wants = |t: &str| names.iter().any(|n| n == t);
            if wants("string") && (instance.is_boolean() || instance.is_number()) {
                d = d.help(format!("quote it to make it text: \"{instance}\""));
            } else if (wants("integer") || wants("number"))
                && instance
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<f64>().is_ok())
            {
                d = d.help(format!(
                    "write the number without quotes: {}",
                    instance.as_str().unwrap_or_default().trim()
                ));
            } else if instance.is_null() && wants("object") {
                d = d.help(format!(
                    "indent the fields of {field} under it, or remove the key"
                ));
            } else if ptr.starts_with("/variables/") && ptr.ends_with("/default") {
                d = d.help("a default is one value: text, a number or true/false");
            }
            cx.out.push(d);
            replace(cx);
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let list = opts
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = match instance.as_str() {
                Some(s) => format!("invalid value `{}` for {field}", crate::diag::shorten(s)),
                None => format!(
                    "{field} must be one of the values below, found {}",
                    describe(instance)
                ),
            };
            let mut d = Diagnostic::new(message, map.value_span(&ptr))
                .label(format!("expected one of {list}"));
            let tool = is_tool_schema(&ptr);
            let alias = instance.as_str().filter(|_| tool).and_then(|s| {
                match s.to_ascii_lowercase().as_str() {
                    "float" | "double" | "decimal" | "int" | "long" => {
                        Some(if s.starts_with(['i', 'l', 'I', 'L']) {
                            "integer"
                        } else {
                            "number"
                        })
                    }
                    "bool" => Some("boolean"),
                    "str" | "text" => Some("string"),
                    "dict" | "map" | "mapping" => Some("object"),
                    "list" | "sequence" | "tuple" => Some("array"),
                    _ => None,
                }
            });
            if let Some(s) = alias.or_else(|| {
                instance
                    .as_str()
                    .and_then(|s| did_you_mean(s, opts.iter().copied()))
            }) {
                d = d.help(format!("did you mean `{s}`?"));
            } else if tool {
                d = d.help("a tool schema has exactly one type: string, number, integer, boolean, object or array (no `null`, no lists of types)");
            } else if let [only] = opts.as_slice() {
                d = d.help(format!(
                    "`{only}` is the only value agentform supports here"
                ));
            }
            cx.out.push(d);
            replace(cx);
        }
        ValidationErrorKind::Constant { expected_value } => {
            let (message, help) = if instance.is_number() {
                (
                    format!("unsupported spec version `{instance}`"),
                    format!("this agentform reads spec version {expected_value}"),
                )
            } else if instance.as_str() == Some(&expected_value.to_string()) {
                (
                    format!("{field} must be a number, found {}", describe(instance)),
                    format!("write it without quotes: `version: {expected_value}`"),
                )
            } else {
                (
                    format!(
                        "{field} must be the number {expected_value}, found {}",
                        describe(instance)
                    ),
                    format!("this agentform reads spec version {expected_value}"),
                )
            };
            cx.out.push(
                Diagnostic::new(message, map.value_span(&ptr))
                    .label(format!("expected {expected_value}"))
                    .help(help),
            );
            replace(cx);
        }
        ValidationErrorKind::Minimum { limit } => {
            cx.out.push(
                Diagnostic::new(
                    format!("{field} must be at least {limit}, found {instance}"),
                    map.value_span(&ptr),
                )
                .label("too small"),
            );
            replace(cx);
        }
        ValidationErrorKind::Maximum { limit } => {
            cx.out.push(
                Diagnostic::new(
                    format!("{field} must be at most {limit}, found {instance}"),
                    map.value_span(&ptr),
                )
                .label("too large"),
            );
            replace(cx);
        }
        ValidationErrorKind::MinLength { limit } => cx.out.push(
            Diagnostic::new(
                format!("{field} must be at least {limit} characters long"),
                map.value_span(&ptr),
            )
            .label("too short"),
        ),
        ValidationErrorKind::MaxLength { limit } => cx.out.push(
            Diagnostic::new(
                format!(
                    "{field} must be at most {limit} characters long, found {}",
                    instance.as_str().map_or(0, |s| s.chars().count())
                ),
                map.value_span(&ptr),
            )
            .label("too long"),
        ),
        ValidationErrorKind::MinItems { limit } => {
            let d = Diagnostic::new(
                format!(
                    "{field} must have at least {limit} entr{}",
                    if *limit == 1 { "y" } else { "ies" }
                ),
                map.value_span(&ptr),
            )
            .label("too few entries");
            cx.out.push(if ptr.ends_with("/tools") {
                d.help("declare at least one tool, or remove the target")
            } else {
                d
            });
        }
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. }
            if ptr.ends_with("/artifact") =>
        {
            // `{image: x, tga: y}`: the unknown key is the problem, not the count.
            let known = instance.as_object().map_or(0, |o| {
                o.keys()
                    .filter(|k| ["image", "container", "code"].contains(&k.as_str()))
                    .count()
            });
            if known == 1 {
                return;
            }
            cx.out.push(
                Diagnostic::new("`artifact` must have exactly one of `image`, `container` or `code`", map.span(&ptr))
                    .label(if known == 0 { "no artifact source" } else { "several artifact sources" })
                    .help("use `image: <uri>` for a pushed image, `container: {repository: <name>, tag: <tag>}`, or `code: {source: <dir>, entry_point: <file>, runtime: python3.12}` for a code bundle"),
            );
            replace(cx);
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            if ptr.ends_with("/authorizer") && !instance.is_object() {
                let message = match instance {
                    Value::String(s) => format!("invalid authorizer `{}`", crate::diag::shorten(s)),
                    Value::Null => "`authorizer` has no value".to_string(),
                    other => format!("invalid authorizer: {}", describe(other)),
                };
                let mut d = Diagnostic::new(message, map.value_span(&ptr))
                    .label("expected `aws_iam` or a `custom_jwt` mapping");
                d = match instance.as_str().and_then(|s| did_you_mean(s, ["aws_iam", "custom_jwt"])) {
                    Some("aws_iam") => d.help("did you mean `aws_iam`?"),
                    _ => d.help("write `authorizer: aws_iam` for SigV4, or `authorizer: {custom_jwt: {discovery_url: ...}}`"),
                };
                cx.out.push(d);
                replace(cx);
                return;
            }
            if ptr.ends_with("/network") && !instance.is_object() {
                let message = match instance {
                    Value::String(s) => format!("invalid network `{}`", crate::diag::shorten(s)),
                    Value::Null => "`network` has no value".to_string(),
                    other => format!("invalid network: {}", describe(other)),
                };
                let mut d = Diagnostic::new(message, map.value_span(&ptr))
                    .label("expected `PUBLIC` or a `vpc` mapping");
                d = match instance.as_str() {
                    Some(s) if s.eq_ignore_ascii_case("public") => d.help("did you mean `PUBLIC`?"),
                    Some(s) if s.eq_ignore_ascii_case("vpc") => d.help("VPC mode names its subnets and security groups: `network: {vpc: {subnets: [subnet-...], security_groups: [sg-...]}}`"),
                    _ => d.help("write `network: PUBLIC`, or `network: {vpc: {subnets: [...], security_groups: [...]}}`"),
                };
                cx.out.push(d);
                replace(cx);
                return;
            }
            // Report the branch that got furthest into the value.
            let best = context.iter().max_by_key(|errs| {
                errs.iter()
                    .map(|e| e.instance_path().as_str().len())
                    .max()
                    .unwrap_or(0)
            });
            match best {
                Some(errs) if !errs.is_empty() => {
                    for e in errs {
                        convert(e, cx);
                    }
                }
                _ => {
                    cx.out.push(Diagnostic::new(
                        format!("invalid value for {field}"),
                        map.span(&ptr),
                    ));
                    replace(cx);
                }
            }
        }
        _ => {
            cx.out.push(Diagnostic::new(
                format!("invalid {field}: {err}"),
                map.span(&ptr),
            ));
            replace(cx);
        }
    }
}
