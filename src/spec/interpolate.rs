//! Substitutes `${var.*}` and `${env:*}` in every string of the spec (except
//! inside `variables` itself). Values from the environment and from
//! variables marked `sensitive: true` join [`crate::redact`]'s set. Resource references are left in place: they are
//! resolved against the live account at plan and apply time.

use std::ops::Range;

use serde_json::Value;

use super::VarOverrides;
use super::refs::{self, Ref, Segment};
use super::yaml::{SourceMap, escape};
use crate::diag::{Diagnostic, did_you_mean};

/// What `apply` found.
#[derive(Debug, Default)]
pub struct Interpolated {
    pub diags: Vec<Diagnostic>,
    /// Source ranges of strings left as written because an expression in them
    /// could not be substituted (later stages must not judge their text).
    pub shadow: Vec<Range<usize>>,
    /// Whether any string changed (a variable or environment value went in).
    pub substituted: bool,
}

/// Rewrites `value` in place; returns the problems found. `source` is the
/// spec text, so that a caret can point at the one expression at fault.
pub fn apply(
    value: &mut Value,
    map: &SourceMap,
    source: &str,
    overrides: &VarOverrides,
) -> Interpolated {
    let mut out = Interpolated::default();
    let declared: Vec<String> = value
        .get("variables")
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for (name, how) in overrides.explicit() {
        let name = name.to_string();
        if !declared.contains(&name) {
            let mut d = Diagnostic::new(
                format!("{how} sets a variable the spec does not declare"),
                map.span("/variables"),
            )
            .label(if map.get("/variables").is_some() {
                format!("`{name}` is not declared here")
            } else {
                "the spec declares no variables".to_string()
            });
            if let Some(s) = did_you_mean(&name, declared.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            } else {
                d = d.help(format!(
                    "declare it under `variables:` as `{name}: {{default: ...}}`"
                ));
            }
            out.diags.push(d);
        }
    }
    let vars = value.get("variables").cloned().unwrap_or(Value::Null);
    let mut cx = Cx {
        map,
        source,
        overrides,
        vars: &vars,
        out,
    };
    if let Value::Object(root) = value {
        for (key, child) in root.iter_mut() {
            if key == "variables" {
                continue;
            }
            cx.walk(child, format!("/{}", escape(key)));
        }
    }
    cx.out
}

struct Cx<'a> {
    map: &'a SourceMap,
    source: &'a str,
    overrides: &'a VarOverrides,
    vars: &'a Value,
    out: Interpolated,
}

impl Cx<'_> {
    fn walk(&mut self, v: &mut Value, ptr: String) {
        match v {
            Value::String(s) if s.contains("${") => match self.substitute(s, &ptr) {
                Some(new) => {
                    if new != *s {
                        self.out.substituted = true;
                        *s = new;
                    }
                }
                None => self.out.shadow.push(self.map.value_span(&ptr)),
            },
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk(item, format!("{ptr}/{i}"));
                }
            }
            Value::Object(o) => {
                for (k, item) in o.iter_mut() {
                    self.walk(item, format!("{ptr}/{}", escape(k)));
                }
            }
            _ => {}
        }
    }

    /// The string with every `${var.*}` and `${env:*}` replaced, or `None`
    /// when one of them cannot be (the problem is reported, except for a
    /// variable whose default the schema already rejected).
    fn substitute(&mut self, s: &str, ptr: &str) -> Option<String> {
        let segments = match refs::parse(s) {
            Ok(segs) => segs,
            Err(e) => {
                let at = span_within(
                    self.map,
                    Some(self.source),
                    ptr,
                    s.get(e.range.clone()).unwrap_or(s),
                );
                self.out.diags.push(Diagnostic::new(e.message, at).label("malformed expression").help(e.help.unwrap_or(
                    "write `${var.NAME}`, `${env:NAME}` or `${KIND.NAME.ATTRIBUTE}`; `$${` is a literal `${`".into(),
                )));
                return None;
            }
        };
        let mut out = String::new();
        let mut ok = true;
        for seg in segments {
            match seg {
                Segment::Literal(l) => out.push_str(&refs::escape_literal(&l)),
                Segment::Ref(Ref::Var(name), range) => {
                    let expr = &s[range];
                    let at = span_within(self.map, Some(self.source), ptr, expr);
                    let decl = self.vars.get(&name);
                    let default = decl.and_then(|d| d.get("default"));
                    let value = self.overrides.get(&name).or_else(|| match default {
                        Some(Value::String(x)) => Some(x.clone()),
                        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
                        _ => None,
                    });
                    match (decl, value) {
                        (Some(d), Some(val)) => {
                            if d.get("sensitive") == Some(&Value::Bool(true)) {
                                crate::redact::add(&val);
                            }
                            out.push_str(&refs::escape_literal(&val))
                        }
                        // A default of the wrong type: the schema said so already.
                        (Some(_), None) if default.is_some() => ok = false,
                        (Some(_), None) => {
                            ok = false;
                            self.out.diags.push(
                                Diagnostic::new(format!("variable `{name}` has no value"), at)
                                    .label("no default and no --var")
                                    .help(format!("give it a `default:` under `variables.{name}`, or pass `--var {name}=VALUE`")),
                            );
                        }
                        (None, _) => {
                            ok = false;
                            let names = self
                                .vars
                                .as_object()
                                .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>())
                                .unwrap_or_default();
                            let d = Diagnostic::new(format!("unknown variable `{name}`"), at)
                                .label("not declared under `variables`");
                            self.out.diags.push(match did_you_mean(&name, names) {
                                Some(x) => d.help(format!("did you mean `{x}`?")),
                                None => d.help(format!(
                                    "declare it: `variables: {{{name}: {{default: ...}}}}`"
                                )),
                            });
                        }
                    }
                }
                Segment::Ref(Ref::Env(name), range) => match std::env::var(&name) {
                    Ok(val) => {
                        // Environment values are secrets until shown otherwise.
                        crate::redact::add(&val);
                        out.push_str(&refs::escape_literal(&val))
                    }
                    Err(_) => {
                        ok = false;
                        self.out.diags.push(
                            Diagnostic::new(
                                format!("environment variable `{name}` is not set"),
                                span_within(self.map, Some(self.source), ptr, &s[range]),
                            )
                            .label("not set")
                            .help(format!("export {name}=... before running agentform")),
                        );
                    }
                },
                Segment::Ref(Ref::Resource { .. } | Ref::Endpoint { .. }, range) => {
                    out.push_str(&s[range])
                }
            }
        }
        ok.then_some(out)
    }
}

/// Span of `needle` inside the value at `ptr`, else the whole value.
pub fn span_within(
    map: &SourceMap,
    source_hint: Option<&str>,
    ptr: &str,
    needle: &str,
) -> Range<usize> {
    let whole = map.value_span(ptr);
    if let Some(src) = source_hint
        && let Some(text) = src.get(whole.clone())
        && let Some(i) = text.find(needle)
    {
        return whole.start + i..whole.start + i + needle.len();
    }
    whole
}
