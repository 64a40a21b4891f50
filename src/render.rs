//! Plan rendering, Terraform style, as plain text (the CLI adds colour).
//! Computing a plan and printing it are separate so both are tested alone.

use std::fmt::Write;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::model::UNKNOWN;
use crate::plan::{Action, Change, Plan};

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s == UNKNOWN => UNKNOWN.to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn is_string_map(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Object(o)) if o.values().all(Value::is_string))
        || v.is_none()
        || v == Some(&Value::Null)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn block(out: &mut String, indent: &str, mark: &str, field: &str, v: &Value) {
    match v {
        Value::Object(o) if o.is_empty() => {
            let _ = writeln!(out, "{indent}{mark} {field} = {{}}");
        }
        Value::Array(a) if a.is_empty() => {
            let _ = writeln!(out, "{indent}{mark} {field} = []");
        }
        Value::Object(_) | Value::Array(_) => {
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
    before: Option<&Value>,
    after: Option<&Value>,
    note: &str,
) {
    let ind = "      ";
    let null = Value::Null;
    let (b, a) = (before.unwrap_or(&null), after.unwrap_or(&null));
    let scalarish = |v: &Value| !matches!(v, Value::Object(_) | Value::Array(_));
    if scalarish(b) && scalarish(a) {
        let _ = writeln!(out, "{ind}~ {field} = {} -> {}{note}", scalar(b), scalar(a));
    } else if is_string_map(before) && is_string_map(after) {
        let empty = serde_json::Map::new();
        let bo = b.as_object().unwrap_or(&empty);
        let ao = a.as_object().unwrap_or(&empty);
        let _ = writeln!(out, "{ind}~ {field} = {{{note}");
        let keys: std::collections::BTreeSet<&String> = bo.keys().chain(ao.keys()).collect();
        for k in keys {
            match (bo.get(k), ao.get(k)) {
                (Some(x), Some(y)) if x != y || scalar(y).contains(UNKNOWN) => {
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
        Action::NoOp => (String::new(), ""),
    }
}

/// One resource's block.
pub fn change(c: &Change) -> String {
    let mut out = String::new();
    let (title, mark) = header(c);
    let _ = writeln!(out, "  # {title}");
    let _ = writeln!(out, "{mark} {} \"{}\" {{", c.addr.kind.label(), c.name());
    match c.action {
        Action::Create => {
            if let Some(d) = &c.desired {
                for (k, v) in d.config.attrs() {
                    if v.is_null() || v == Value::String(String::new()) {
                        continue;
                    }
                    block(&mut out, "      ", "+", k, &v);
                }
            }
        }
        Action::Delete => {
            if let Some(o) = &c.observed {
                if let Some(arn) = &o.ids.arn {
                    let _ = writeln!(out, "      - arn = {}", scalar(&Value::String(arn.clone())));
                } else if let Some(id) = &o.ids.id {
                    let _ = writeln!(out, "      - id = {}", scalar(&Value::String(id.clone())));
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
        Action::NoOp => {}
    }
    let _ = writeln!(out, "    }}");
    out
}

/// The whole plan, with the closing summary line.
pub fn plan(p: &Plan) -> String {
    let mut out = String::new();
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
    let _ = writeln!(out, "Plan: {a} to add, {m} to change, {d} to destroy.");
    out
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

/// Machine-readable plan (`plan --json`): every change with its action,
/// reason and field-level before/after; no-ops are left out.
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
                .map(|f| serde_json::json!({"field": f.field, "before": f.before, "after": f.after, "forces_replacement": f.forces_replacement}))
                .collect();
            let after = c.desired.as_ref().filter(|_| c.action == Action::Create).map(|d| Value::Object(d.config.attrs().into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
            serde_json::json!({
                "address": c.addr.to_string(),
                "type": c.addr.kind.label(),
                "name": c.name(),
                "action": action_name(c.action),
                "reason": c.reason,
                "fields": fields,
                "after": after,
            })
        })
        .collect();
    serde_json::json!({
        "format_version": 1,
        "changes": changes,
        "summary": {"add": add, "change": change, "destroy": destroy},
        "unknown_value": UNKNOWN,
    })
}
