//! Plan rendering, Terraform style, as plain text (the CLI adds colour).
//! Computing a plan and printing it are separate so both are tested alone.

use std::fmt::Write;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::{Action, Change, Plan};
use crate::model::Val;

/// How an unknown value is shown: Terraform's words, unquoted, so no
/// string value can be mistaken for it.
const UNKNOWN_TEXT: &str = "(known after apply)";

fn scalar(v: &Val) -> String {
    match v {
        Val::Unknown(_) => UNKNOWN_TEXT.to_string(),
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Number(n) => n.to_string(),
        Val::Str(s) => Value::String(s.clone()).to_string(),
        Val::List(_) | Val::Map(_) => pretty(v),
    }
}

/// A string value as text: itself, or the unknown marker.
pub fn resolved_text(r: &crate::model::Resolved) -> String {
    match r.known() {
        Some(s) => s.to_string(),
        None => UNKNOWN_TEXT.to_string(),
    }
}

fn is_string_map(v: Option<&Val>) -> bool {
    matches!(v, Some(Val::Map(o)) if o.values().all(|x| matches!(x, Val::Str(_) | Val::Unknown(_))))
        || matches!(v, None | Some(Val::Null))
}

/// Pretty JSON, with unknown leaves shown as `(known after apply)`.
fn pretty(v: &Val) -> String {
    fn go(v: &Val, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent + 1);
        let end = "  ".repeat(indent);
        match v {
            Val::List(l) if !l.is_empty() => {
                out.push_str("[\n");
                for (i, x) in l.iter().enumerate() {
                    out.push_str(&pad);
                    go(x, indent + 1, out);
                    out.push_str(if i + 1 < l.len() { ",\n" } else { "\n" });
                }
                out.push_str(&end);
                out.push(']');
            }
            Val::Map(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, x)) in m.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push_str(": ");
                    go(x, indent + 1, out);
                    out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                out.push_str(&end);
                out.push('}');
            }
            Val::List(_) => out.push_str("[]"),
            Val::Map(_) => out.push_str("{}"),
            leaf => out.push_str(&scalar(leaf)),
        }
    }
    let mut out = String::new();
    go(v, 0, &mut out);
    out
}

fn block(out: &mut String, indent: &str, mark: &str, field: &str, v: &Val) {
    match v {
        Val::Map(o) if o.is_empty() => {
            let _ = writeln!(out, "{indent}{mark} {field} = {{}}");
        }
        Val::List(a) if a.is_empty() => {
            let _ = writeln!(out, "{indent}{mark} {field} = []");
        }
        Val::Map(_) | Val::List(_) => {
            let text = pretty(v);
            let mut lines = text.lines();
            let _ = writeln!(
                out,
                "{indent}{mark} {field} = {}",
                lines.next().unwrap_or("")
            );
            for l in lines {
                let _ = writeln!(out, "{indent}    {l}");
            }
        }
        other => {
            let _ = writeln!(out, "{indent}{mark} {field} = {}", scalar(other));
        }
    }
}

fn field_update(
    out: &mut String,
    field: &str,
    before: Option<&Val>,
    after: Option<&Val>,
    note: &str,
) {
    let ind = "      ";
    let null = Val::Null;
    let (b, a) = (before.unwrap_or(&null), after.unwrap_or(&null));
    let scalarish = |v: &Val| !matches!(v, Val::Map(_) | Val::List(_));
    if scalarish(b) && scalarish(a) {
        let _ = writeln!(out, "{ind}~ {field} = {} -> {}{note}", scalar(b), scalar(a));
    } else if is_string_map(before) && is_string_map(after) {
        let empty = std::collections::BTreeMap::new();
        let as_map = |v: &Val| match v {
            Val::Map(m) => m.clone(),
            _ => empty.clone(),
        };
        let (bo, ao) = (as_map(b), as_map(a));
        let _ = writeln!(out, "{ind}~ {field} = {{{note}");
        let keys: std::collections::BTreeSet<&String> = bo.keys().chain(ao.keys()).collect();
        for k in keys {
            match (bo.get(k), ao.get(k)) {
                (Some(x), Some(y)) if x != y || y.has_unknown() => {
                    let _ = writeln!(out, "{ind}    ~ {k} = {} -> {}", scalar(x), scalar(y));
                }
                (None, Some(y)) => {
                    let _ = writeln!(out, "{ind}    + {k} = {}", scalar(y));
                }
                (Some(x), None) => {
                    let _ = writeln!(out, "{ind}    - {k} = {}", scalar(x));
                }
                _ => {}
            }
        }
        let _ = writeln!(out, "{ind}  }}");
    } else {
        let (bt, at) = (pretty(b), pretty(a));
        let _ = writeln!(out, "{ind}~ {field} = (line diff){note}");
        let diff = TextDiff::from_lines(&bt, &at);
        for group in diff.grouped_ops(2) {
            for op in group {
                for change in diff.iter_changes(&op) {
                    let sign = match change.tag() {
                        ChangeTag::Delete => "-",
                        ChangeTag::Insert => "+",
                        ChangeTag::Equal => " ",
                    };
                    let _ = write!(out, "{ind}    {sign} {}", change.value());
                    if change.missing_newline() {
                        out.push('\n');
                    }
                }
            }
            let _ = writeln!(out, "{ind}      ...");
        }
    }
}

fn header(c: &Change) -> (String, &'static str) {
    let why = c
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    match c.action {
        Action::Create => (format!("{} will be created", c.addr), "  +"),
        Action::Update => (format!("{} will be updated in place{why}", c.addr), "  ~"),
        Action::Replace => (format!("{} must be replaced{why}", c.addr), "-/+"),
        Action::Delete => (format!("{} will be destroyed{why}", c.addr), "  -"),
        Action::Wait => (format!("{} will be waited for{why}", c.addr), "  ="),
        Action::NoOp => (String::new(), ""),
    }
}

/// One resource's block.
pub fn change(c: &Change) -> String {
    let mut out = String::new();
    let (title, mark) = header(c);
    let _ = writeln!(out, "  # {title}");
    let _ = writeln!(out, "{mark} {} \"{}\" {{", c.addr.kind().label(), c.name());
    match c.action {
        Action::Create => {
            if let Some(d) = &c.desired {
                for (k, v) in d.config.attrs() {
                    if v.is_empty_or_null() {
                        continue;
                    }
                    block(&mut out, "      ", "+", k, &v);
                }
            }
        }
        Action::Delete => {
            if let Some(o) = &c.observed {
                if let Some(arn) = &o.ids.arn {
                    let _ = writeln!(out, "      - arn = {}", scalar(&Val::from(arn)));
                } else if let Some(id) = &o.ids.id {
                    let _ = writeln!(out, "      - id = {}", scalar(&Val::from(id)));
                }
            }
        }
        Action::Update | Action::Replace => {
            for f in &c.fields {
                let note = if f.forces_replacement {
                    " # forces replacement"
                } else {
                    ""
                };
                field_update(
                    &mut out,
                    &f.field,
                    f.before.as_ref(),
                    f.after.as_ref(),
                    note,
                );
            }
        }
        Action::NoOp | Action::Wait => {}
    }
    let _ = writeln!(out, "    }}");
    out
}

/// The whole plan, with the closing summary line.
pub fn plan(p: &Plan) -> String {
    let mut out = String::new();
    if !p.unproven.is_empty() {
        let _ = writeln!(
            out,
            "Warning: these resources carry this project's tag but no valid `agentform:resource` tag; agentform leaves them alone:"
        );
        for u in &p.unproven {
            let _ = writeln!(out, "  {u}");
        }
        out.push('\n');
    }
    for n in &p.notes {
        let _ = writeln!(out, "Note: {n}\n");
    }
    if !p.has_changes() {
        out.push_str("No changes. The account matches the spec.\n");
        return out;
    }
    out.push_str("agentform will perform the following actions:\n\n");
    for c in p.changes.iter().filter(|c| c.action != Action::NoOp) {
        out.push_str(&change(c));
        out.push('\n');
    }
    let (a, m, d) = p.counts();
    let waits = match p.waits() {
        0 => String::new(),
        n => format!(", {n} to wait for"),
    };
    let _ = writeln!(
        out,
        "Plan: {a} to add, {m} to change, {d} to destroy{waits}."
    );
    out
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Wait => "wait",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

/// A value for the JSON plan, and its Terraform-style unknown mask.
fn json_pair(v: Option<&Val>) -> (Value, Value) {
    v.map_or(
        (Value::Null, Value::Bool(false)),
        Val::json_with_unknown_mask,
    )
}

/// Machine-readable plan (`plan --json`): every change with its action,
/// reason and field-level before/after; no-ops are left out. Unknown values
/// are `null` in `after`, and `after_unknown` is `true` at the same place
/// (Terraform's convention).
pub fn plan_json(p: &Plan) -> Value {
    let (add, change, destroy) = p.counts();
    let changes: Vec<Value> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            let fields: Vec<Value> = c
                .fields
                .iter()
                .map(|f| {
                    let (before, _) = json_pair(f.before.as_ref());
                    let (after, after_unknown) = json_pair(f.after.as_ref());
                    serde_json::json!({"field": f.field, "before": before, "after": after, "after_unknown": after_unknown, "forces_replacement": f.forces_replacement})
                })
                .collect();
            let created = c.desired.as_ref().filter(|_| c.action == Action::Create).map(|d| {
                let attrs = d.config.attrs();
                let mut after = serde_json::Map::new();
                let mut unknown = serde_json::Map::new();
                for (k, v) in &attrs {
                    let (value, mask) = v.json_with_unknown_mask();
                    after.insert(k.to_string(), value);
                    if mask != Value::Bool(false) {
                        unknown.insert(k.to_string(), mask);
                    }
                }
                (Value::Object(after), Value::Object(unknown))
            });
            let (after, after_unknown) = created.unzip();
            serde_json::json!({
                "address": c.addr.to_string(),
                "type": c.addr.kind().label(),
                "name": c.name(),
                "action": action_name(c.action),
                "reason": c.reason,
                "fields": fields,
                "after": after,
                "after_unknown": after_unknown,
            })
        })
        .collect();
    serde_json::json!({
        "format_version": 2,
        "changes": changes,
        "summary": {"add": add, "change": change, "destroy": destroy, "wait": p.waits()},
    })
}
