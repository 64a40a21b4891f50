//! Plan rendering, Terraform style, as plain text (the CLI adds colour).
//! Computing a plan and printing it are separate so both are tested alone.

use std::fmt::Write;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

mod json;
mod summary;

pub use json::plan_json;

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, Change, FieldChange, Plan, sensitive};
use crate::model::{Kind, Val};
use crate::redact::MASK;

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

/// How much of the long values a rendering shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// IAM documents and tool lists whole, as JSON, instead of summarised.
    pub full: bool,
}

/// Renders blocks, remembering whether it summarised anything (the legend
/// then says how to see it whole).
struct Renderer {
    style: Style,
    summarised: bool,
    /// The sensitive places of the change being rendered.
    sensitive: BTreeSet<Vec<String>>,
}

/// How a sensitive value that changes is shown.
const SENSITIVE_CHANGED: &str = "(sensitive value changed)";

const IND: &str = "      ";

impl Renderer {
    fn summary(&mut self, kind: Kind, field: &str, v: &Val) -> Option<summary::Summary> {
        if self.style.full {
            return None;
        }
        let s = summary::of(kind, field, v)?;
        self.summarised = true;
        Some(s)
    }

    /// `+ field = value` in a create block, `field` padded to `w`.
    fn attr(&mut self, out: &mut String, kind: Kind, field: &str, v: &Val, w: usize) {
        let string_map = matches!(v, Val::Map(m) if !m.is_empty()) && is_string_map(Some(v));
        if sensitive::masked(&self.sensitive, &[field])
            || (!string_map && sensitive::within(&self.sensitive, &[field]))
        {
            let _ = writeln!(out, "{IND}+ {field:<w$} = {MASK}");
            return;
        }
        if let Some(s) = self.summary(kind, field, v) {
            let _ = writeln!(out, "{IND}+ {field:<w$} = {}", s.title);
            for l in s.lines {
                let _ = writeln!(out, "{IND}    {l}");
            }
            return;
        }
        match v {
            Val::Map(o) if o.is_empty() => {
                let _ = writeln!(out, "{IND}+ {field:<w$} = {{}}");
            }
            Val::List(a) if a.is_empty() => {
                let _ = writeln!(out, "{IND}+ {field:<w$} = []");
            }
            Val::Map(m) if is_string_map(Some(v)) => {
                let _ = writeln!(out, "{IND}+ {field:<w$} = {{");
                let keys: Vec<String> = m.keys().map(|k| quoted(k)).collect();
                let kw = keys.iter().map(String::len).max().unwrap_or(0);
                for ((q, k), x) in keys.iter().zip(m.keys()).zip(m.values()) {
                    let shown = if sensitive::masked(&self.sensitive, &[field, k]) {
                        MASK.to_string()
                    } else {
                        scalar(x)
                    };
                    let _ = writeln!(out, "{IND}    {q:<kw$} = {shown}");
                }
                let _ = writeln!(out, "{IND}  }}");
            }
            Val::Map(_) | Val::List(_) => {
                let text = pretty(v);
                let mut lines = text.lines();
                let _ = writeln!(out, "{IND}+ {field:<w$} = {}", lines.next().unwrap_or(""));
                for l in lines {
                    let _ = writeln!(out, "{IND}    {l}");
                }
            }
            other => {
                let _ = writeln!(out, "{IND}+ {field:<w$} = {}", scalar(other));
            }
        }
    }

    /// `~ field = before -> after` in an update block, `field` padded to `w`.
    fn update(&mut self, out: &mut String, kind: Kind, f: &FieldChange, w: usize) {
        let note = if f.forces_replacement {
            " # forces replacement"
        } else {
            ""
        };
        let field = f.field.as_str();
        let null = Val::Null;
        let (b, a) = (
            f.before.as_ref().unwrap_or(&null),
            f.after.as_ref().unwrap_or(&null),
        );
        let scalarish = |v: &Val| !matches!(v, Val::Map(_) | Val::List(_));
        let both_maps = is_string_map(f.before.as_ref()) && is_string_map(f.after.as_ref());
        if sensitive::masked(&self.sensitive, &[field])
            || (!both_maps && sensitive::within(&self.sensitive, &[field]))
        {
            let _ = writeln!(out, "{IND}~ {field:<w$} = {SENSITIVE_CHANGED}{note}");
            return;
        }
        let flat = |v: &Val| match v {
            Val::List(l) => l.iter().all(scalarish),
            _ => false,
        };
        if flat(b) && flat(a) {
            let inline = |v: &Val| match v {
                Val::List(l) => {
                    format!("[{}]", l.iter().map(scalar).collect::<Vec<_>>().join(", "))
                }
                _ => scalar(v),
            };
            let _ = writeln!(
                out,
                "{IND}~ {field:<w$} = {} -> {}{note}",
                inline(b),
                inline(a)
            );
            return;
        }
        if scalarish(b) && scalarish(a) {
            let _ = writeln!(
                out,
                "{IND}~ {field:<w$} = {} -> {}{note}",
                scalar(b),
                scalar(a)
            );
            return;
        }
        if is_string_map(f.before.as_ref()) && is_string_map(f.after.as_ref()) {
            let empty = BTreeMap::new();
            let as_map = |v: &Val| match v {
                Val::Map(m) => m.clone(),
                _ => empty.clone(),
            };
            let (bo, ao) = (as_map(b), as_map(a));
            let _ = writeln!(out, "{IND}~ {field:<w$} = {{{note}");
            let keys: BTreeSet<&String> = bo.keys().chain(ao.keys()).collect();
            let kw = keys.iter().map(|k| quoted(k).len()).max().unwrap_or(0);
            for k in keys {
                let q = quoted(k);
                let hide = sensitive::masked(&self.sensitive, &[field, k]);
                let show = |v: &Val| if hide { MASK.to_string() } else { scalar(v) };
                match (bo.get(k), ao.get(k)) {
                    (Some(x), Some(y)) if hide && (x != y || y.has_unknown()) => {
                        let _ = writeln!(out, "{IND}    ~ {q:<kw$} = {SENSITIVE_CHANGED}");
                    }
                    (Some(x), Some(y)) if x != y || y.has_unknown() => {
                        let _ =
                            writeln!(out, "{IND}    ~ {q:<kw$} = {} -> {}", scalar(x), scalar(y));
                    }
                    (None, Some(y)) => {
                        let _ = writeln!(out, "{IND}    + {q:<kw$} = {}", show(y));
                    }
                    (Some(x), None) => {
                        let _ = writeln!(out, "{IND}    - {q:<kw$} = {}", show(x));
                    }
                    _ => {}
                }
            }
            let _ = writeln!(out, "{IND}  }}");
            return;
        }
        let summaries = (self.summary(kind, field, b), self.summary(kind, field, a));
        let (title, bt, at) = match summaries {
            (Some(sb), Some(sa)) => (
                sa.title,
                sb.lines.join("\n") + "\n",
                sa.lines.join("\n") + "\n",
            ),
            (None, Some(sa)) if b == &Val::Null => (
                format!("{} (added):", sa.title.trim_end_matches(':')),
                String::new(),
                sa.lines.join("\n") + "\n",
            ),
            (Some(sb), None) if a == &Val::Null => (
                format!("{} (removed):", sb.title.trim_end_matches(':')),
                sb.lines.join("\n") + "\n",
                String::new(),
            ),
            _ => ("(line diff)".to_string(), pretty(b), pretty(a)),
        };
        let _ = writeln!(out, "{IND}~ {field:<w$} = {title}{note}");
        line_diff(out, &bt, &at);
    }

    fn change(&mut self, c: &Change) -> String {
        self.sensitive = c.sensitive.clone();
        let mut out = String::new();
        let (title, mark) = header(c);
        let kind = c.addr.kind();
        let _ = writeln!(out, "  # {title}");
        let _ = writeln!(out, "{mark} {} \"{}\" {{", kind.label(), c.name());
        match c.action {
            Action::Create => {
                if let Some(d) = &c.desired {
                    let attrs: Vec<(&str, Val)> = d
                        .config
                        .attrs()
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty_or_null() && v != &Val::List(vec![]))
                        .collect();
                    let w = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                    for (k, v) in &attrs {
                        self.attr(&mut out, kind, k, v, w);
                    }
                }
            }
            Action::Delete => {
                if let Some(o) = &c.observed {
                    if let Some(arn) = &o.ids.arn {
                        let _ = writeln!(out, "{IND}- arn = {}", scalar(&Val::from(arn)));
                    } else if let Some(id) = &o.ids.id {
                        let _ = writeln!(out, "{IND}- id = {}", scalar(&Val::from(id)));
                    }
                }
            }
            Action::Update | Action::Replace => {
                let w = c.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
                for f in &c.fields {
                    self.update(&mut out, kind, f, w);
                }
            }
            Action::NoOp | Action::Wait => {}
        }
        let _ = writeln!(out, "    }}");
        out
    }
}

fn quoted(k: &str) -> String {
    Value::String(k.to_string()).to_string()
}

/// The changed lines of `before` -> `after` with two lines of context.
fn line_diff(out: &mut String, before: &str, after: &str) {
    let diff = TextDiff::from_lines(before, after);
    for group in diff.grouped_ops(2) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => "-",
                    ChangeTag::Insert => "+",
                    ChangeTag::Equal => " ",
                };
                let _ = write!(out, "{IND}    {sign} {}", change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
        let _ = writeln!(out, "{IND}      ...");
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

/// One resource's block, long values summarised.
pub fn change(c: &Change) -> String {
    change_with(c, Style::default())
}

pub fn change_with(c: &Change, style: Style) -> String {
    Renderer {
        style,
        summarised: false,
        sensitive: BTreeSet::new(),
    }
    .change(c)
}

/// The symbols of the actions present, in Terraform's words.
fn legend(p: &Plan) -> String {
    const SYMBOLS: [(Action, &str, &str); 5] = [
        (Action::Create, "  +", "create"),
        (Action::Update, "  ~", "update in place"),
        (
            Action::Replace,
            "-/+",
            "destroy and then create replacement",
        ),
        (Action::Delete, "  -", "destroy"),
        (Action::Wait, "  =", "wait until ready (nothing changes)"),
    ];
    let mut out = String::from("Resource actions are indicated with the following symbols:\n");
    for (action, mark, words) in SYMBOLS {
        if p.changes.iter().any(|c| c.action == action) {
            let _ = writeln!(out, "{mark} {words}");
        }
    }
    out
}

/// The closing line: each resource counted once, by what happens to it.
pub fn summary_line(p: &Plan) -> String {
    let t = p.tally();
    let waits = match t.wait {
        0 => String::new(),
        n => format!(", {n} to wait for"),
    };
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy{waits}.",
        t.add, t.change, t.replace, t.destroy
    )
}

/// The whole plan, with the closing summary line; long values summarised.
pub fn plan(p: &Plan) -> String {
    plan_with(p, Style::default())
}

pub fn plan_with(p: &Plan, style: Style) -> String {
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
    for w in &p.warnings {
        let _ = writeln!(out, "Warning: {w}\n");
    }
    if !p.has_changes() {
        out.push_str("No changes. The account matches the spec.\n");
        return out;
    }
    let mut r = Renderer {
        style,
        summarised: false,
        sensitive: BTreeSet::new(),
    };
    let mut body = String::new();
    for c in p.changes.iter().filter(|c| c.action != Action::NoOp) {
        body.push_str(&r.change(c));
        body.push('\n');
    }
    out.push_str(&legend(p));
    if r.summarised {
        out.push_str(
            "IAM policies, Cedar policies and tool lists are summarised; `--full` shows them whole.\n",
        );
    }
    out.push_str("\nagentform will perform the following actions:\n\n");
    out.push_str(&body);
    out.push_str(&summary_line(p));
    out.push('\n');
    out
}
