//! The JSON plan (`plan --json`, `show --json`), in the shape of
//! Terraform's JSON output format (`terraform show -json`), so tools that
//! read Terraform plans read these: `resource_changes[]` with
//! `change.actions`, whole-resource `before`/`after`, `after_unknown`
//! masks, `replace_paths`, and `output_changes`. The format is documented
//! in docs/json-format.md and by schema/plan.schema.json.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::model::Val;
use crate::plan::{Action, Change, Plan};

/// Version of this document's shape (Terraform's convention: a string,
/// minor bumps only add fields).
pub const FORMAT_VERSION: &str = "1.0";

/// Terraform's action lists.
fn actions(a: Action) -> &'static [&'static str] {
    match a {
        Action::NoOp | Action::Wait => &["no-op"],
        Action::Create => &["create"],
        Action::Update => &["update"],
        Action::Replace => &["delete", "create"],
        Action::Delete => &["delete"],
    }
}

/// Terraform's `action_reason` where one of its reasons fits, else
/// agentform's own (documented) reason.
fn action_reason(c: &Change) -> Option<&'static str> {
    match c.action {
        Action::Replace if c.fields.iter().any(|f| f.forces_replacement) => {
            Some("replace_because_cannot_update")
        }
        Action::Replace => Some("replace_because_tainted"),
        Action::Delete if c.desired.is_none() && c.reason.is_some() => {
            Some("delete_because_no_resource_config")
        }
        Action::Wait => Some("wait_until_ready"),
        _ => None,
    }
}

/// A whole config as an object, and its unknown mask (an object naming the
/// unknown attributes; nested masks where only part of a value is unknown).
fn object(attrs: impl IntoIterator<Item = (&'static str, Val)>) -> (Value, Value) {
    let mut value = Map::new();
    let mut unknown = Map::new();
    for (k, v) in attrs {
        let (x, mask) = v.json_with_unknown_mask();
        value.insert(k.to_string(), x);
        if mask != Value::Bool(false) {
            unknown.insert(k.to_string(), mask);
        }
    }
    (Value::Object(value), Value::Object(unknown))
}

/// Blanks the sensitive places of `v` (they become `null`) and returns
/// Terraform's sensitivity mask: `true` at each of them, `{}` for an object
/// without any, `false` for null.
fn hide(v: &mut Value, places: &BTreeSet<Vec<String>>) -> Value {
    if !v.is_object() {
        return json!(false);
    }
    let mut mask = json!({});
    for path in places {
        // Blank the value, if it is there.
        let mut at = Some(&mut *v);
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            at = match at {
                Some(Value::Object(o)) if last => {
                    if let Some(x) = o.get_mut(seg) {
                        *x = Value::Null;
                    }
                    None
                }
                Some(Value::Array(a)) if last => {
                    if let Some(x) = seg.parse::<usize>().ok().and_then(|n| a.get_mut(n)) {
                        *x = Value::Null;
                    }
                    None
                }
                Some(Value::Object(o)) => o.get_mut(seg),
                Some(Value::Array(a)) => seg.parse::<usize>().ok().and_then(|n| a.get_mut(n)),
                _ => None,
            };
        }
        // Mark it: objects all the way (list indices as keys are fine for
        // a mask a consumer walks alongside the value).
        let mut m = &mut mask;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            if !m.is_object() {
                *m = json!({});
            }
            let o = m.as_object_mut().expect("an object");
            m = o
                .entry(seg.clone())
                .or_insert(if last { json!(true) } else { json!({}) });
        }
    }
    mask
}

fn resource_change(c: &Change) -> Value {
    let mut before = c
        .observed
        .as_ref()
        .filter(|_| c.action != Action::Create)
        .map(|o| object(o.config.attrs()).0)
        .unwrap_or(Value::Null);
    let (mut after, after_unknown) = match (&c.desired, c.action) {
        (_, Action::Delete) | (None, _) => (Value::Null, json!(false)),
        (Some(d), _) => object(d.config.attrs()),
    };
    let address = c.addr.to_string();
    let name = address
        .split_once('.')
        .map(|(_, n)| n.to_string())
        .unwrap_or_default();
    let before_sensitive = hide(&mut before, &c.sensitive);
    let after_sensitive = hide(&mut after, &c.sensitive);
    let mut change = json!({
        "actions": actions(c.action),
        "before": before,
        "after": after,
        "after_unknown": after_unknown,
        "before_sensitive": before_sensitive,
        "after_sensitive": after_sensitive,
    });
    if c.action == Action::Replace {
        change["replace_paths"] = c
            .fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| json!([f.field]))
            .collect();
    }
    let mut rc = json!({
        "address": address,
        "mode": "managed",
        "type": c.addr.kind().label(),
        "name": name,
        "physical_name": c.name(),
        "change": change,
    });
    if let Some(r) = action_reason(c) {
        rc["action_reason"] = json!(r);
    }
    if let Some(r) = &c.reason {
        rc["reason"] = json!(r);
    }
    if !c.fields.is_empty() {
        rc["changed_fields"] = c.fields.iter().map(|f| json!(f.field)).collect();
    }
    rc
}

fn output_change(o: &crate::plan::OutputChange) -> Value {
    let before = match &o.before {
        Some(b) if !o.sensitive => Value::String(b.clone()),
        _ => Value::Null,
    };
    let (after, after_unknown) = match &o.after {
        Some(_) if o.sensitive => (Value::Null, false),
        None => (Value::Null, false),
        Some(r) => match r.known() {
            Some(s) => (json!(s), false),
            None => (Value::Null, true),
        },
    };
    let known_after = o.after.as_ref().and_then(|r| r.known());
    // Compared, never shown.
    let actions: &[&str] = match (&o.before, &o.after) {
        (None, None) => &["no-op"],
        (Some(_), None) => &["delete"],
        (None, Some(_)) => &["create"],
        (Some(b), Some(_)) if Some(b.as_str()) == known_after => &["no-op"],
        (Some(_), Some(_)) => &["update"],
    };
    json!({
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": after_unknown,
        "before_sensitive": o.sensitive && o.before.is_some(),
        "after_sensitive": o.sensitive && o.after.is_some(),
    })
}

/// The machine-readable plan: every resource the plan considered (no-ops
/// included, as Terraform does), every output, and agentform's summary.
pub fn plan_json(p: &Plan) -> Value {
    let t = p.tally();
    json!({
        "format_version": FORMAT_VERSION,
        "agentform_version": env!("CARGO_PKG_VERSION"),
        "resource_changes": p.changes.iter().map(resource_change).collect::<Vec<_>>(),
        "output_changes": p.outputs.iter().map(|(k, o)| (k.clone(), output_change(o))).collect::<Map<_, _>>(),
        "summary": {"add": t.add, "change": t.change, "replace": t.replace, "destroy": t.destroy, "wait": t.wait},
        "unproven": p.unproven,
        "notes": p.notes,
        "warnings": p.warnings,
    })
}
