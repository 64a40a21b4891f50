//! Substitutes `${var.*}` and `${env:*}` in every string of the spec (except
//! inside `variables` itself). Resource references are left in place: they are
//! resolved against the live account at plan and apply time.

use serde_json::Value;

use super::VarOverrides;
use super::refs::{self, Ref, Segment};
use super::yaml::{SourceMap, escape};
use crate::diag::{Diagnostic, did_you_mean};

/// Rewrites `value` in place; returns the problems found.
pub fn apply(value: &mut Value, map: &SourceMap, overrides: &VarOverrides) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let declared: Vec<String> = value
        .get("variables")
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for name in overrides.keys() {
        if !declared.contains(name) {
            let mut d = Diagnostic::new(format!("`--var {name}=...` sets a variable the spec does not declare"), map.span("/variables"));
            if let Some(s) = did_you_mean(name, declared.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            } else {
                d = d.help(format!("declare it under `variables:` as `{name}: {{default: ...}}`"));
            }
            diags.push(d);
        }
    }
    let vars = value.get("variables").cloned().unwrap_or(Value::Null);
    if let Value::Object(root) = value {
        for (key, child) in root.iter_mut() {
            if key == "variables" {
                continue;
            }
            walk(child, format!("/{}", escape(key)), &vars, overrides, map, &mut diags);
        }
    }
    diags
}

fn walk(v: &mut Value, ptr: String, vars: &Value, overrides: &VarOverrides, map: &SourceMap, diags: &mut Vec<Diagnostic>) {
    match v {
        Value::String(s) => {
            if s.contains("${") {
                if let Some(new) = substitute(s, &ptr, vars, overrides, map, diags) {
                    *s = new;
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, format!("{ptr}/{i}"), vars, overrides, map, diags);
            }
        }
        Value::Object(o) => {
            for (k, item) in o.iter_mut() {
                walk(item, format!("{ptr}/{}", escape(k)), vars, overrides, map, diags);
            }
        }
        _ => {}
    }
}

/// Span of `needle` inside the value at `ptr`, else the whole value.
pub fn span_within(map: &SourceMap, source_hint: Option<&str>, ptr: &str, needle: &str) -> std::ops::Range<usize> {
    let whole = map.value_span(ptr);
    if let Some(src) = source_hint {
        if let Some(text) = src.get(whole.clone()) {
            if let Some(i) = text.find(needle) {
                return whole.start + i..whole.start + i + needle.len();
            }
        }
    }
    whole
}

fn substitute(
    s: &str,
    ptr: &str,
    vars: &Value,
    overrides: &VarOverrides,
    map: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let segments = match refs::parse(s) {
        Ok(segs) => segs,
        Err(e) => {
            diags.push(Diagnostic::new(e.message, map.value_span(ptr)).label("malformed expression").help(
                "write `${var.NAME}`, `${env:NAME}` or `${KIND.NAME.ATTRIBUTE}`; `$${` is a literal `${`",
            ));
            return None;
        }
    };
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Literal(l) => out.push_str(&refs::escape_literal(&l)),
            Segment::Ref(Ref::Var(name), range) => {
                let expr = &s[range];
                let decl = vars.get(&name);
                let value = overrides.get(&name).cloned().or_else(|| {
                    decl.and_then(|d| d.get("default")).map(|d| match d {
                        Value::String(x) => x.clone(),
                        other => other.to_string(),
                    })
                });
                match (decl, value) {
                    (Some(_), Some(val)) => out.push_str(&refs::escape_literal(&val)),
                    (Some(_), None) => diags.push(
                        Diagnostic::new(format!("variable `{name}` has no value"), map.value_span(ptr))
                            .label(format!("{expr} is used here"))
                            .help(format!("give it a `default:` or pass `--var {name}=VALUE`")),
                    ),
                    (None, _) => {
                        let names = vars.as_object().map(|o| o.keys().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
                        let mut d = Diagnostic::new(format!("unknown variable `{name}`"), map.value_span(ptr))
                            .label("not declared under `variables`");
                        d = match did_you_mean(&name, names) {
                            Some(x) => d.help(format!("did you mean `{x}`?")),
                            None => d.help(format!("declare it: `variables: {{{name}: {{default: ...}}}}`")),
                        };
                        diags.push(d);
                    }
                }
            }
            Segment::Ref(Ref::Env(name), range) => match std::env::var(&name) {
                Ok(val) => out.push_str(&refs::escape_literal(&val)),
                Err(_) => diags.push(
                    Diagnostic::new(format!("environment variable `{name}` is not set"), map.value_span(ptr))
                        .label(format!("{} is used here", &s[range]))
                        .help(format!("export {name}=... before running agentform")),
                ),
            },
            Segment::Ref(Ref::Resource { .. }, range) => out.push_str(&s[range]),
        }
    }
    Some(out)
}
