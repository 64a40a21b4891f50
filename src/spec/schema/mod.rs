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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::yaml::{SourceMap, escape};
use crate::diag::{Diagnostic, did_you_mean};

pub const SCHEMA_TEXT: &str = include_str!("../../../schema/agentform.schema.json");

static SCHEMA: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SCHEMA_TEXT).expect("embedded schema is valid JSON"));
static VALIDATOR: LazyLock<Validator> =
    LazyLock::new(|| jsonschema::validator_for(&SCHEMA).expect("embedded schema compiles"));

const TOOL_KEYWORDS: &str = "`type`, `properties`, `required`, `items` and `description`";

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

/// A change to the value that lets the later stages run.
enum Repair {
    Remove(String),
    Replace(String, Value),
    Insert(String, String, Value),
    Rename(String, String, String),
}

struct Ctx<'a> {
    root: &'a Value,
    map: &'a SourceMap,
    out: Vec<Diagnostic>,
    repairs: Vec<Repair>,
    /// See `typos`.
    typos: HashMap<(String, String), bool>,
}

/// Every structural problem in `value`.
pub fn check(value: &Value, map: &SourceMap) -> Checked {
    let errors: Vec<ValidationError<'_>> = VALIDATOR.iter_errors(value).collect();
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
    let mut checked = Checked {
        diags,
        ..Checked::default()
    };
    if value.is_object() {
        let mut fixed = value.clone();
        apply(&mut fixed, repairs, map, &mut checked);
        checked.repaired = Some(fixed);
    }
    checked
}

/// Unknown keys that are typos of a key the same object lacks (`projcet` for
/// `project`): `(object pointer, intended key)` -> whether the value fits the
/// intended key. They are renamed in the repaired value, so the rest of the
/// spec is checked as meant, and a missing required key is reported once, as
/// the typo. A value that does not fit an optional key is dropped instead.
fn typos(errors: &[ValidationError<'_>], root: &Value) -> HashMap<(String, String), bool> {
    // Look inside `oneOf` branches too (the `custom_jwt` mapping is one).
    fn flatten<'a, 'e>(errors: &'a [ValidationError<'e>], out: &mut Vec<&'a ValidationError<'e>>) {
        for e in errors {
            out.push(e);
            if let ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } = e.kind()
            {
                for branch in context {
                    flatten(branch, out);
                }
            }
        }
    }
    let mut all = Vec::new();
    flatten(errors, &mut all);
    let errors = all;
    let missing: HashSet<(String, String)> = errors
        .iter()
        .filter_map(|e| match e.kind() {
            ValidationErrorKind::Required { property } => Some((
                e.instance_path().as_str().to_string(),
                property.as_str()?.to_string(),
            )),
            _ => None,
        })
        .collect();
    let mut out = HashMap::new();
    for e in &errors {
        if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
            let ptr = e.instance_path().as_str().to_string();
            let parent = e
                .schema_path()
                .as_str()
                .strip_suffix("/additionalProperties")
                .unwrap_or("")
                .to_string();
            let known = known_keys(e.schema_path().as_str());
            let Some(object) = root.pointer(&ptr) else {
                continue;
            };
            for key in unexpected {
                let Some(s) = did_you_mean(key, known.iter().copied()) else {
                    continue;
                };
                if object.get(s).is_some() || out.contains_key(&(ptr.clone(), s.to_string())) {
                    continue;
                }
                let fits = match (
                    schema_at(&format!("{parent}/properties/{}", escape(s))),
                    object.get(key),
                ) {
                    (Some(schema), Some(v)) => fits(schema, v),
                    _ => false,
                };
                if fits || missing.contains(&(ptr.clone(), s.to_string())) {
                    out.insert((ptr.clone(), s.to_string()), fits);
                }
            }
        }
    }
    out
}

/// Whether `value` is valid against `schema`, a part of the spec's schema.
fn fits(schema: &Value, value: &Value) -> bool {
    let wrapped = serde_json::json!({ "$defs": SCHEMA.get("$defs").cloned().unwrap_or(Value::Null), "allOf": [schema] });
    jsonschema::validator_for(&wrapped).is_ok_and(|v| v.is_valid(value))
}

/// Applies the repairs, deepest first, and records what they cover.
fn apply(value: &mut Value, mut repairs: Vec<Repair>, map: &SourceMap, checked: &mut Checked) {
    let depth = |r: &Repair| match r {
        Repair::Remove(p) | Repair::Replace(p, _) => p.matches('/').count(),
        Repair::Insert(p, _, _) | Repair::Rename(p, _, _) => p.matches('/').count() + 1,
    };
    repairs.sort_by_key(|r| std::cmp::Reverse(depth(r)));
    let mut renamed = BTreeSet::new();
    for r in repairs {
        match r {
            Repair::Remove(p) => {
                checked.shadow.push(full_range(map, &p));
                if let Some((parent, key)) = split(&p)
                    && let Some(Value::Object(o)) = value.pointer_mut(&parent)
                {
                    o.remove(&key);
                }
            }
            Repair::Replace(p, v) => {
                checked.shadow.push(full_range(map, &p));
                if let Some(slot) = value.pointer_mut(&p) {
                    *slot = v;
                }
            }
            Repair::Insert(p, key, v) => {
                checked.shadow.push(map.span(&p));
                if let Some(Value::Object(o)) = value.pointer_mut(&p) {
                    o.entry(key).or_insert(v);
                }
            }
            Repair::Rename(p, from, to) => {
                if !renamed.insert((p.clone(), to.clone())) {
                    continue;
                }
                if let Some(Value::Object(o)) = value.pointer_mut(&p)
                    && let Some(v) = o.remove(&from)
                {
                    o.insert(to.clone(), v);
                    checked.renames.push((
                        format!("{p}/{}", escape(&from)),
                        format!("{p}/{}", escape(&to)),
                    ));
                }
            }
        }
    }
}

/// The key and the value at `pointer`, as one range.
fn full_range(map: &SourceMap, pointer: &str) -> Range<usize> {
    match map.get(pointer) {
        Some(place) => {
            let start = place
                .key
                .as_ref()
                .map_or(place.value.start, |k| k.start.min(place.value.start));
            start..place.value.end.max(start)
        }
        None => map.span(pointer),
    }
}

/// `/a/b~1c` -> (`/a`, `b/c`).
fn split(pointer: &str) -> Option<(String, String)> {
    let i = pointer.rfind('/')?;
    Some((
        pointer[..i].to_string(),
        pointer[i + 1..].replace("~1", "/").replace("~0", "~"),
    ))
}

/// The smallest value `schema` accepts (its first option where it has
/// several), used in place of a bad or missing value.
fn minimal(schema: &Value) -> Option<Value> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return minimal(SCHEMA.pointer(target.trim_start_matches('#'))?);
    }
    if let Some(c) = schema.get("const") {
        return Some(c.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return Some(first.clone());
    }
    if let Some(first) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return minimal(first);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.first().and_then(Value::as_str).unwrap_or("null"),
        _ => return None,
    };
    Some(match ty {
        "string" => Value::String(String::new()),
        "integer" | "number" => schema
            .get("minimum")
            .cloned()
            .unwrap_or_else(|| Value::from(0)),
        "boolean" => Value::Bool(false),
        "array" => Value::Array(Vec::new()),
        "object" => {
            let props = schema.get("properties").and_then(Value::as_object);
            let mut o = serde_json::Map::new();
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                o.insert(name.to_string(), minimal(props?.get(name)?)?);
            }
            if o.is_empty()
                && schema
                    .get("minProperties")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    > 0
            {
                let (name, sub) = props?.iter().next()?;
                o.insert(name.clone(), minimal(sub)?);
            }
            Value::Object(o)
        }
        _ => Value::Null,
    })
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

/// The schema of the property a keyword belongs to (`.../memory/type` ->
/// `.../memory`).
fn property_schema(keyword_path: &str) -> Option<&'static Value> {
    schema_at(&keyword_path[..keyword_path.rfind('/')?])
}

/// What the value at `pointer` is, for messages: "function `tools`",
/// "target `calc`", "tool `add`", or the bare key.
fn owner(pointer: &str, root: &Value) -> String {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match parts.as_slice() {
        [] => "the spec".to_string(),
        ["functions", n] => format!("function `{n}`"),
        ["gateways", n] => format!("gateway `{n}`"),
        ["gateways", _, "targets", n] => format!("target `{n}`"),
        ["gateways", _, "targets", t, "tools", i] => {
            match root
                .pointer(pointer)
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
            {
                Some(name) => format!("tool `{}`", crate::diag::shorten(name)),
                None => format!(
                    "tool #{} of target `{t}`",
                    i.parse::<usize>().map_or(0, |i| i + 1)
                ),
            }
        }
        ["repositories", n] => format!("repository `{n}`"),
        ["runtimes", n] => format!("runtime `{n}`"),
        ["variables", n] => format!("variable `{n}`"),
        [.., "properties", n] if is_tool_schema(pointer) => format!("the schema of property `{n}`"),
        [.., "tools", _, io @ ("input" | "output")] => {
            format!(
                "the {io} schema of {}",
                owner(&pointer[..pointer.len() - io.len() - 1], root)
            )
        }
        _ => field_name(pointer),
    }
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
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer `{n}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string \"{}\"", crate::diag::shorten(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn is_tool_schema(pointer: &str) -> bool {
    let parts: Vec<&str> = pointer.split('/').collect();
    parts
        .windows(2)
        .any(|w| w[0].chars().all(|c| c.is_ascii_digit()) && (w[1] == "input" || w[1] == "output"))
        && pointer.contains("/tools/")
}

/// The type a tool schema at `pointer` most likely means, to stand in for a
/// missing or bad one: `object` for an input schema or one with `properties`,
/// `array` with `items`, else `string`.
fn implied_type(pointer: &str, schema: Option<&Value>) -> Value {
    let has = |k: &str| schema.is_some_and(|s| s.get(k).is_some());
    Value::from(if pointer.ends_with("/input") || has("properties") {
        "object"
    } else if has("items") {
        "array"
    } else {
        "string"
    })
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

fn convert(err: &ValidationError<'_>, cx: &mut Ctx<'_>) {
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
                d = d.help(format!("add `{prop}:` ({})", desc.trim_end_matches('.')));
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
                    .filter(|k| *k == "image" || *k == "container")
                    .count()
            });
            if known == 1 {
                return;
            }
            cx.out.push(
                Diagnostic::new("`artifact` must have exactly one of `image` or `container`", map.span(&ptr))
                    .label(if known == 0 { "no artifact source" } else { "two artifact sources" })
                    .help("use `image: <uri>` for a pushed image, or `container: {repository: <name>, tag: <tag>}`"),
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

/// How a JSON Schema type is named in messages.
fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "null" => "empty".into(),
        _ => format!("a {t}"),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
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
            let checked = check(&doc.value, &doc.map);
            assert!(!checked.diags.is_empty(), "{src}");
            let repaired = checked.repaired.expect("a mapping root is repairable");
            assert!(
                serde_json::from_value::<Spec>(repaired.clone()).is_ok(),
                "{src}\n{repaired:#}"
            );
            assert!(
                check(&repaired, &yaml::SourceMap::default())
                    .diags
                    .iter()
                    .all(|d| !d.message.contains("internal")),
                "{src}"
            );
        }
    }

    #[test]
    fn typo_of_a_missing_required_key_is_renamed_not_reported_twice() {
        let doc = yaml::parse("version: 1\nprojcet: demo\n").unwrap();
        let checked = check(&doc.value, &doc.map);
        let messages: Vec<&str> = checked.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["unknown field `projcet`"]);
        assert_eq!(checked.repaired.unwrap()["project"], "demo");
        assert_eq!(
            checked.renames,
            [("/projcet".to_string(), "/project".to_string())]
        );
    }

    #[test]
    fn minimal_values() {
        let cases = [
            (serde_json::json!({"const": 1}), serde_json::json!(1)),
            (
                serde_json::json!({"enum": ["a", "b"]}),
                serde_json::json!("a"),
            ),
            (
                serde_json::json!({"type": "integer", "minimum": 128}),
                serde_json::json!(128),
            ),
            (
                serde_json::json!({"type": ["object", "null"]}),
                serde_json::json!({}),
            ),
            (
                serde_json::json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "array"}, "b": {"type": "string"}}}),
                serde_json::json!({"a": []}),
            ),
            (
                serde_json::json!({"type": "object", "minProperties": 1, "properties": {"image": {"type": "string"}}}),
                serde_json::json!({"image": ""}),
            ),
        ];
        for (schema, want) in cases {
            assert_eq!(minimal(&schema), Some(want), "{schema}");
        }
    }
}
