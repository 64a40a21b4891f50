//! The diff between what the spec wants and what the account holds.
//!
//! Pure: `diff` takes desired resources and observed ones and says, for each
//! address, what apply would do and why (Terraform's model): create, update
//! in place (field by field), replace (naming the field that forces it),
//! delete (owned by the project, gone from the spec), or nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::{Address, Config, Desired, Kind, Observed, Owner, UNKNOWN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub addr: Address,
    pub action: Action,
    /// Why: the field forcing replacement, "not in the spec", a failed status.
    pub reason: Option<String>,
    pub fields: Vec<FieldChange>,
    pub desired: Option<Desired>,
    pub observed: Option<Observed>,
}

impl Change {
    /// The physical name, for display.
    pub fn name(&self) -> String {
        let cfg = self
            .desired
            .as_ref()
            .map(|d| &d.config)
            .or(self.observed.as_ref().map(|o| &o.config));
        match cfg {
            Some(Config::RolePolicy(p)) => format!("{}/{}", p.role, p.name),
            Some(Config::Target(t)) => format!("{}/{}", t.gateway, t.name),
            Some(c) => c
                .attrs()
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            None => self.addr.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// (to add, to change, to destroy), counting a replacement as one add and
    /// one destroy.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut n = (0, 0, 0);
        for c in &self.changes {
            match c.action {
                Action::Create => n.0 += 1,
                Action::Update => n.1 += 1,
                Action::Replace => {
                    n.0 += 1;
                    n.2 += 1;
                }
                Action::Delete => n.2 += 1,
                Action::NoOp => {}
            }
        }
        n
    }

    pub fn get(&self, addr: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.addr == addr)
    }
}

/// A resource with a spec's name that agentform must not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub addr: Address,
    pub kind: Kind,
    pub name: String,
    pub owner: Owner,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.owner {
            Owner::OtherProject(p) => write!(
                f,
                "{} `{}` (wanted for {}) already exists and belongs to agentform project `{p}`; refusing to touch it",
                self.kind.label(),
                self.name,
                self.addr
            ),
            _ => write!(
                f,
                "{} `{}` (wanted for {}) already exists but was not created by this project (it has no agentform ownership tags); refusing to touch it. Rename the resource in the spec or remove the existing one",
                self.kind.label(),
                self.name,
                self.addr
            ),
        }
    }
}

fn parent_of(c: &Config) -> Option<&str> {
    match c {
        Config::Target(t) => Some(&t.gateway),
        Config::RolePolicy(p) => Some(&p.role),
        _ => None,
    }
}

fn name_of(c: &Config) -> String {
    match c {
        Config::RolePolicy(p) => p.name.clone(),
        Config::Target(t) => t.name.clone(),
        other => other
            .attrs()
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// Whether `v` holds the "known after apply" placeholder anywhere.
pub(crate) fn contains_unknown(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains(UNKNOWN),
        Value::Array(a) => a.iter().any(contains_unknown),
        Value::Object(o) => o.values().any(contains_unknown),
        _ => false,
    }
}

const FAILED: &[&str] = &["FAILED", "CREATE_FAILED"];
const UPDATE_FAILED: &[&str] = &["UPDATE_FAILED", "UPDATE_UNSUCCESSFUL"];

/// Field-level differences, desired vs observed.
pub fn field_changes(kind: Kind, desired: &Config, observed: &Config) -> Vec<FieldChange> {
    let after = desired.attrs();
    let before = observed.attrs();
    let keys: BTreeSet<&&str> = after.keys().chain(before.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (b, a) = (before.get(*k), after.get(*k));
        let differs = b != a || a.is_some_and(contains_unknown);
        if differs {
            out.push(FieldChange {
                field: (*k).to_string(),
                before: b.cloned(),
                after: a.cloned(),
                forces_replacement: kind.forces_replacement(k),
            });
        }
    }
    out
}

fn matches(d: &Desired, o: &Observed) -> bool {
    d.addr.kind == o.kind
        && name_of(&d.config) == o.name
        && parent_of(&d.config).map(str::to_string) == o.parent
}

/// Diffs desired against observed. Fails, naming each, when a wanted name is
/// taken by a resource this project does not own.
pub fn diff(desired: &[Desired], observed: &[Observed]) -> Result<Plan, Vec<Conflict>> {
    let mut conflicts = Vec::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut changes = Vec::new();
    let mut replaced_gateways: BTreeSet<String> = BTreeSet::new();

    for d in desired {
        let candidates: Vec<usize> = observed
            .iter()
            .enumerate()
            .filter(|(_, o)| matches(d, o))
            .map(|(i, _)| i)
            .collect();
        // Prefer the one tagged with this address, then any of ours.
        let mine = candidates
            .iter()
            .copied()
            .find(|&i| observed[i].owner == Owner::Ours(d.addr.clone()))
            .or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .find(|&i| matches!(observed[i].owner, Owner::Ours(_)))
            });
        if mine.is_none()
            && let Some(&i) = candidates.first()
        {
            conflicts.push(Conflict {
                addr: d.addr.clone(),
                kind: d.addr.kind,
                name: observed[i].name.clone(),
                owner: observed[i].owner.clone(),
            });
            continue;
        }
        let Some(i) = mine else {
            changes.push(Change {
                addr: d.addr.clone(),
                action: Action::Create,
                reason: None,
                fields: vec![],
                desired: Some(d.clone()),
                observed: None,
            });
            continue;
        };
        used.insert(i);
        let o = &observed[i];
        let fields = field_changes(d.addr.kind, &d.config, &o.config);
        let status = o.status.as_deref().unwrap_or("");
        let (action, reason) = if FAILED.contains(&status) {
            let why = if o.status_reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", o.status_reasons.join("; "))
            };
            (Action::Replace, Some(format!("status is {status}{why}")))
        } else if let Some(f) = fields.iter().find(|f| f.forces_replacement) {
            (
                Action::Replace,
                Some(format!("`{}` cannot be changed in place", f.field)),
            )
        } else if UPDATE_FAILED.contains(&status) {
            (
                Action::Update,
                Some(format!(
                    "last update failed (status {status}); sending the configuration again"
                )),
            )
        } else if fields.is_empty() {
            (Action::NoOp, None)
        } else {
            (Action::Update, None)
        };
        if action == Action::Replace && d.addr.kind == Kind::Gateway {
            replaced_gateways.insert(o.name.clone());
        }
        changes.push(Change {
            addr: d.addr.clone(),
            action,
            reason,
            fields,
            desired: Some(d.clone()),
            observed: Some(o.clone()),
        });
    }

    // A replaced gateway takes its targets with it.
    for c in &mut changes {
        if let (Some(Config::Target(t)), Some(_)) =
            (c.desired.as_ref().map(|d| &d.config), &c.observed)
            && replaced_gateways.contains(&t.gateway)
            && c.action != Action::Replace
        {
            c.action = Action::Replace;
            c.reason = Some(format!("its gateway `{}` is replaced", t.gateway));
        }
    }

    // Ours, but no longer wanted (or a twin of a wanted one).
    let wanted: BTreeSet<&Address> = desired.iter().map(|d| &d.addr).collect();
    for (i, o) in observed.iter().enumerate() {
        if used.contains(&i) {
            continue;
        }
        let Owner::Ours(addr) = &o.owner else {
            continue;
        };
        let reason = if wanted.contains(addr) {
            "duplicate of the resource the spec manages"
        } else {
            "not in the spec"
        };
        changes.push(Change {
            addr: addr.clone(),
            action: Action::Delete,
            reason: Some(reason.into()),
            fields: vec![],
            desired: None,
            observed: Some(o.clone()),
        });
    }

    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    changes.sort_by(|a, b| {
        (a.addr.kind, &a.addr.name, a.action).cmp(&(b.addr.kind, &b.addr.name, b.action))
    });
    Ok(Plan { changes })
}

/// Addresses whose ids will change (created or replaced): references to them
/// are unknown until apply.
pub fn unstable(plan: &Plan) -> BTreeSet<Address> {
    plan.changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Replace))
        .map(|c| c.addr.clone())
        .collect()
}

/// Ids of the resources found, by address (ours only).
pub fn known_ids(observed: &[Observed]) -> BTreeMap<Address, crate::model::Ids> {
    observed
        .iter()
        .filter_map(|o| match &o.owner {
            Owner::Ours(a) => Some((a.clone(), o.ids.clone())),
            _ => None,
        })
        .collect()
}

/// The account as it would read back after a perfect apply of `desired`,
/// with `ids` giving each resource's AWS ids. For tests and benchmarks of
/// the planner: diffing `desired` against this plans no changes.
pub fn as_applied(
    desired: &[Desired],
    ids: impl Fn(&Address) -> crate::model::Ids,
) -> Vec<Observed> {
    desired
        .iter()
        .map(|d| {
            let mut config = d.config.clone();
            if let Config::Function(f) = &mut config {
                f.code = None;
            }
            Observed {
                kind: d.addr.kind,
                name: name_of(&config),
                parent: parent_of(&config).map(str::to_string),
                ids: ids(&d.addr),
                parent_ids: crate::model::Ids::default(),
                status: Some("READY".into()),
                status_reasons: vec![],
                owner: Owner::Ours(d.addr.clone()),
                config,
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
