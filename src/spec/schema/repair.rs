//! Repairs to the checked value, so that the later stages can still run on
//! a spec with structural problems: which unknown keys are typos to rename,
//! the smallest value the schema accepts in place of a bad or missing one,
//! and applying the repairs while recording the source ranges they cover.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Checked, SCHEMA, judged_by_validate, known_keys, schema_at};
use crate::diag::did_you_mean;
use crate::spec::yaml::{SourceMap, escape};

/// A change to the value that lets the later stages run.
pub(super) enum Repair {
    Remove(String),
    Replace(String, Value),
    Insert(String, String, Value),
    Rename(String, String, String),
}

/// Unknown keys that are typos of a key the same object lacks (`projcet` for
/// `project`): `(object pointer, intended key)` -> whether the value fits the
/// intended key. They are renamed in the repaired value, so the rest of the
/// spec is checked as meant, and a missing required key is reported once, as
/// the typo. A value that does not fit an optional key is dropped instead.
pub(super) fn typos(
    errors: &[ValidationError<'_>],
    root: &Value,
) -> HashMap<(String, String), bool> {
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

/// Whether `value` is valid against `schema`, a part of the spec's schema,
/// leaving aside the rules `validate` judges (a typo `projcet: Demo` is
/// still renamed to `project`, and `validate` reports the name).
fn fits(schema: &Value, value: &Value) -> bool {
    let wrapped = serde_json::json!({ "$defs": SCHEMA.get("$defs").cloned().unwrap_or(Value::Null), "allOf": [schema] });
    jsonschema::validator_for(&wrapped).is_ok_and(|v| {
        v.iter_errors(value)
            .all(|e| judged_by_validate(&e, &wrapped))
    })
}

/// Applies the repairs, deepest first, and records what they cover.
pub(super) fn apply(
    value: &mut Value,
    mut repairs: Vec<Repair>,
    map: &SourceMap,
    checked: &mut Checked,
) {
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
pub(super) fn minimal(schema: &Value) -> Option<Value> {
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

/// The type a tool schema at `pointer` most likely means, to stand in for a
/// missing or bad one: `object` for an input schema or one with `properties`,
/// `array` with `items`, else `string`.
pub(super) fn implied_type(pointer: &str, schema: Option<&Value>) -> Value {
    let has = |k: &str| schema.is_some_and(|s| s.get(k).is_some());
    Value::from(if pointer.ends_with("/input") || has("properties") {
        "object"
    } else if has("items") {
        "array"
    } else {
        "string"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
