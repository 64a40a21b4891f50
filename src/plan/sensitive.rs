//! Where a plan holds sensitive values: every place (attribute, then map
//! keys or list indices) of a desired config whose string contains one, and
//! every output that does. The renderers mask those places in the values
//! before and after alike, so a rotated secret shows neither its old nor
//! its new value; a change there is detected by comparing, never shown.

use std::collections::BTreeSet;

use super::Plan;
use crate::model::{Part, Resolved, Val};

fn holds(s: &str, secrets: &[String]) -> bool {
    secrets
        .iter()
        .any(|x| !x.is_empty() && s.contains(x.as_str()))
}

fn walk(v: &Val, path: &mut Vec<String>, secrets: &[String], out: &mut BTreeSet<Vec<String>>) {
    match v {
        Val::Str(s) if holds(s, secrets) => {
            out.insert(path.clone());
        }
        Val::Unknown(t) => {
            if t.0
                .iter()
                .any(|p| matches!(p, Part::Lit(s) if holds(s, secrets)))
            {
                out.insert(path.clone());
            }
        }
        Val::List(l) => {
            for (i, x) in l.iter().enumerate() {
                path.push(i.to_string());
                walk(x, path, secrets, out);
                path.pop();
            }
        }
        Val::Map(m) => {
            for (k, x) in m {
                path.push(k.clone());
                walk(x, path, secrets, out);
                path.pop();
            }
        }
        Val::Null | Val::Bool(_) | Val::Number(_) | Val::Str(_) => {}
    }
}

/// Marks the places of `p` that hold any of `secrets`, and every kind's
/// secret fields.
pub fn mark(p: &mut Plan, secrets: &[String]) {
    for c in &mut p.changes {
        // A kind's secret fields, whatever they hold (deletes included).
        let mut found: BTreeSet<Vec<String>> = c
            .addr
            .kind()
            .secret_fields()
            .iter()
            .map(|f| vec![f.to_string()])
            .collect();
        let Some(d) = &c.desired else {
            c.sensitive = found;
            continue;
        };
        for (field, v) in d.config.attrs() {
            walk(&v, &mut vec![field.to_string()], secrets, &mut found);
        }
        c.sensitive = found;
    }
    for o in p.outputs.values_mut() {
        let after = match &o.after {
            Some(Resolved::Known(s)) => holds(s, secrets),
            Some(Resolved::Unknown(t)) => {
                t.0.iter()
                    .any(|p| matches!(p, Part::Lit(s) if holds(s, secrets)))
            }
            None => false,
        };
        o.sensitive = after || o.before.as_deref().is_some_and(|b| holds(b, secrets));
    }
}

/// Whether the value at `path` is masked: it, or a place above it, is
/// sensitive.
pub fn masked(set: &BTreeSet<Vec<String>>, path: &[&str]) -> bool {
    (1..=path.len())
        .any(|n| set.contains(&path[..n].iter().map(|s| s.to_string()).collect::<Vec<_>>()))
}

/// Whether anything at or below `path` is sensitive.
pub fn within(set: &BTreeSet<Vec<String>>, path: &[&str]) -> bool {
    set.iter()
        .any(|p| p.len() >= path.len() && p.iter().zip(path).all(|(a, b)| a == b))
        || masked(set, path)
}
