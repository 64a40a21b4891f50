//! The diff between what the spec wants and what the account holds.
//!
//! Pure: `diff` takes desired resources and observed ones and says, for each
//! address, what apply would do and why (Terraform's model): create, update
//! in place (field by field), replace (naming the field that forces it),
//! delete (owned by the project, gone from the spec), or nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, Change, FieldChange, Plan};
use crate::model::{Address, Config, DeleteOptions, Desired, Ids, Kind, Known, Observed, Owner};

/// What the plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Make the account match the spec.
    Apply,
    /// Delete everything the project owns; the spec's resources only say
    /// how (delete options).
    Destroy,
}

/// A resource with a spec's name that agentform must not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub addr: Address,
    pub name: String,
    pub owner: Owner,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.addr.kind().label();
        match &self.owner {
            Owner::OtherProject(p) => write!(
                f,
                "{kind} `{}` (wanted for {}) already exists and belongs to agentform project `{p}`; refusing to touch it",
                self.name, self.addr
            ),
            Owner::OtherRegion(r) => write!(
                f,
                "{kind} `{}` (wanted for {}) belongs to this project's stack in region {r}; refusing to touch it",
                self.name, self.addr
            ),
            Owner::Unproven => write!(
                f,
                "{kind} `{}` (wanted for {}) carries this project's tag but no valid `agentform:resource` tag, so agentform cannot prove it is this resource; refusing to touch it. Restore the tag `agentform:resource = {}` (`agentform import {} ID` does it) or remove the resource",
                self.name, self.addr, self.addr, self.addr
            ),
            Owner::Ours(_) | Owner::Foreign => write!(
                f,
                "{kind} `{}` (wanted for {}) already exists but was not created by this project (it has no agentform ownership tags); refusing to touch it. Rename the resource in the spec, remove the existing one, or take it into this project with `agentform import {} ID`",
                self.name, self.addr, self.addr
            ),
        }
    }
}

/// Fields that hold permissions added outside the spec (agentform wants
/// none of them).
const PERMISSION_DRIFT: &[&str] = &[
    "inline_policies_not_in_spec",
    "managed_policies_not_in_spec",
    "resource_policy",
    "repository_policy",
];

const FAILED: &[&str] = &["FAILED", "CREATE_FAILED"];
const UPDATE_FAILED: &[&str] = &[
    "UPDATE_FAILED",
    "UPDATE_UNSUCCESSFUL",
    "SYNCHRONIZE_UNSUCCESSFUL",
];
/// Statuses that end by themselves (an interrupted apply may leave them).
const TRANSITIONAL: &[&str] = &["CREATING", "UPDATING", "SYNCHRONIZING"];

/// Field-level differences, desired vs observed. A field whose desired
/// value is not known yet always differs: apply will send it.
pub fn field_changes(kind: Kind, desired: &Config, observed: &Config) -> Vec<FieldChange> {
    let after = desired.attrs();
    let before = observed.attrs();
    let keys: BTreeSet<&&str> = after.keys().chain(before.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (b, a) = (before.get(*k), after.get(*k));
        if b != a || a.is_some_and(|v| v.has_unknown()) {
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
    d.config.kind() == o.kind()
        && d.config.name() == o.name()
        && d.config.parent_name() == o.parent()
}

/// `: reason; reason` when the service gave any.
fn reasons(r: &[String]) -> String {
    if r.is_empty() {
        String::new()
    } else {
        format!(": {}", r.join("; "))
    }
}

fn change(addr: &Address, action: Action, reason: Option<String>) -> Change {
    Change {
        addr: addr.clone(),
        action,
        reason,
        fields: vec![],
        desired: None,
        observed: None,
        delete: DeleteOptions::default(),
        sensitive: Default::default(),
    }
}

/// Diffs desired against observed. Fails, naming each, when a wanted name is
/// taken by a resource this project does not own.
pub fn diff(desired: &[Desired], observed: &[Observed], mode: Mode) -> Result<Plan, Vec<Conflict>> {
    let mut conflicts = Vec::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut changes = Vec::new();
    let options: BTreeMap<&Address, DeleteOptions> = desired
        .iter()
        .map(|d| (&d.addr, d.config.delete_options()))
        .collect();
    let wanted: &[Desired] = match mode {
        Mode::Apply => desired,
        Mode::Destroy => &[],
    };

    let survivors = survivors(observed);
    // The copy each desired resource was matched with (parents come first).
    let mut matched: BTreeMap<Address, usize> = BTreeMap::new();
    for d in wanted {
        // A child is matched on the copy of its parent the plan keeps (by
        // id), so a target of a twin gateway is never taken for the spec's.
        let parent = d
            .addr
            .parent()
            .and_then(|p| matched.get(&p).or(survivors.get(&p)).copied());
        let on_parent = |o: &Observed| match parent {
            Some(p) => same_parent(&observed[p], o),
            None => true,
        };
        let candidates: Vec<usize> = observed
            .iter()
            .enumerate()
            .filter(|(_, o)| matches(d, o) && on_parent(o))
            .map(|(i, _)| i)
            .collect();
        // Prefer the survivor of this address, then any of ours.
        let mine = candidates
            .iter()
            .copied()
            .find(|&i| survivors.get(&d.addr) == Some(&i))
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
                name: observed[i].config.display_name(),
                owner: observed[i].owner.clone(),
            });
            continue;
        }
        let mut c = change(&d.addr, Action::Create, None);
        c.desired = Some(d.clone());
        c.delete = d.config.delete_options();
        let Some(i) = mine else {
            changes.push(c);
            continue;
        };
        used.insert(i);
        matched.insert(d.addr.clone(), i);
        let o = &observed[i];
        let fields = field_changes(d.addr.kind(), &d.config, &o.config);
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
        } else if status == "DELETING" {
            (
                Action::Replace,
                Some("status is DELETING: apply waits until it is gone, then creates it".into()),
            )
        } else if UPDATE_FAILED.contains(&status) {
            (
                Action::Update,
                Some(format!(
                    "last update failed (status {status}{}); sending the configuration again",
                    reasons(&o.status_reasons)
                )),
            )
        } else if TRANSITIONAL.contains(&status) {
            if fields.is_empty() {
                (
                    Action::Wait,
                    Some(format!("status is {status}: apply waits until it is ready")),
                )
            } else {
                (
                    Action::Update,
                    Some(format!(
                        "status is {status}: apply waits for it, then updates it"
                    )),
                )
            }
        } else if fields.is_empty() {
            (Action::NoOp, None)
        } else if fields
            .iter()
            .any(|f| PERMISSION_DRIFT.contains(&f.field.as_str()))
        {
            (
                Action::Update,
                Some("permissions not in the spec were added to it; apply removes them".into()),
            )
        } else {
            (Action::Update, None)
        };
        c.action = action;
        c.reason = reason;
        c.fields = fields;
        c.observed = Some(o.clone());
        changes.push(c);
    }

    // A replaced resource takes its children with it (a gateway its targets,
    // a runtime its endpoints, a role its inline policy). Parents come
    // before children in address order, so one pass in order suffices.
    changes.sort_by(|a, b| a.addr.cmp(&b.addr));
    let mut replaced: BTreeMap<Address, String> = BTreeMap::new();
    for c in &mut changes {
        if let Some(parent) = c.addr.parent()
            && let Some(name) = replaced.get(&parent)
            && c.observed.is_some()
            && c.action != Action::Replace
        {
            c.action = Action::Replace;
            c.reason = Some(format!(
                "its {} `{name}` is replaced",
                parent.kind().label()
            ));
        }
        if c.action == Action::Replace {
            replaced.insert(c.addr.clone(), c.name());
        }
    }

    // Ours, but no longer wanted (or a twin of a wanted one).
    let wanted_names: BTreeMap<&Address, String> = wanted
        .iter()
        .map(|d| (&d.addr, d.config.display_name()))
        .collect();
    let mut notes = Vec::new();
    for (i, o) in observed.iter().enumerate() {
        if used.contains(&i) {
            continue;
        }
        let Owner::Ours(addr) = &o.owner else {
            continue;
        };
        if legacy_here(o, observed) == Some(false) {
            notes.push(format!(
                "{} `{}` has agentform 0.1's name (no region) and no `agentform:region` tag, and the stack it serves is not in this region: left alone; plan or destroy in its own region migrates or removes it",
                o.kind(),
                o.config.display_name()
            ));
            continue;
        }
        let reason = match (mode, wanted_names.get(addr)) {
            (Mode::Destroy, _) => None,
            (Mode::Apply, Some(name)) if *name != o.config.display_name() => {
                Some(format!("renamed: the spec's name for it is now `{name}`"))
            }
            (Mode::Apply, Some(_)) => {
                Some("duplicate of the resource the spec manages".to_string())
            }
            (Mode::Apply, None) => Some("not in the spec".to_string()),
        };
        let mut c = change(addr, Action::Delete, reason);
        c.observed = Some(o.clone());
        c.delete = options.get(addr).copied().unwrap_or_default();
        changes.push(c);
    }

    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    changes.sort_by(|a, b| (&a.addr, a.action).cmp(&(&b.addr, b.action)));
    // The ids of the copies the plan keeps, and of nothing it deletes.
    let kept: Known = changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .filter_map(|c| Some((c.addr.clone(), c.observed.as_ref()?.ids.clone())))
        .collect();
    let known = stable_known(&changes, &kept);
    let unproven = observed
        .iter()
        .filter(|o| o.owner == Owner::Unproven)
        .map(|o| format!("{} `{}`", o.kind(), o.config.display_name()))
        .collect();
    Ok(Plan {
        changes,
        known,
        unproven,
        notes,
        outputs: Default::default(),
        warnings: vec![],
    })
}

/// The ids in `known` that stay valid through `changes`: created and
/// replaced resources get new ones, an update may change some.
fn stable_known(changes: &[Change], known: &Known) -> Known {
    let mut known = known.clone();
    for c in changes {
        match c.action {
            Action::Create | Action::Replace => {
                known.remove(&c.addr);
            }
            Action::Update => {
                if let Some(ids) = known.get_mut(&c.addr) {
                    ids.forget_changed_by_update(c.addr.kind());
                }
            }
            Action::NoOp | Action::Wait | Action::Delete => {}
        }
    }
    known
}

/// For each address of ours found in the account, the one copy that
/// counts when there are twins (left by a concurrent run, another tool or
/// an old version): the first in `observed` order (by kind, parent, name,
/// then id), and for a child, only a copy on its parent's survivor. The
/// planner matches, refers to and keeps exactly these; the other copies
/// are deleted as duplicates.
fn survivors(observed: &[Observed]) -> BTreeMap<Address, usize> {
    let mut out: BTreeMap<Address, usize> = BTreeMap::new();
    // Parents first: address order puts a parent's kind before its child's.
    let mut order: Vec<usize> = (0..observed.len()).collect();
    order.sort_by_key(|&i| (observed[i].kind(), i));
    for i in order {
        let o = &observed[i];
        let Owner::Ours(addr) = &o.owner else {
            continue;
        };
        if out.contains_key(addr) {
            continue;
        }
        let on_parent = match addr.parent().and_then(|p| out.get(&p)) {
            Some(&p) => same_parent(&observed[p], o),
            None => true,
        };
        if on_parent {
            out.insert(addr.clone(), i);
        }
    }
    out
}

/// For an IAM role (or its policy) of ours named the way agentform 0.1 did,
/// without the region (and without the `agentform:region` tag): whether
/// the stack it serves is in this region, i.e. the function, gateway or
/// runtime it was made for was found here. `None` for everything else.
fn legacy_here(o: &Observed, observed: &[Observed]) -> Option<bool> {
    let Owner::Ours(addr) = &o.owner else {
        return None;
    };
    match &o.config {
        Config::Role(r) => {
            if r.tags.contains_key(crate::names::TAG_REGION) {
                return None;
            }
            let Address::Role(owner, key) = addr else {
                return None;
            };
            let user = owner.user(key);
            Some(
                observed
                    .iter()
                    .any(|x| x.owner == Owner::Ours(user.clone())),
            )
        }
        Config::RolePolicy(p) => observed
            .iter()
            .find(|x| x.kind() == Kind::Role && x.name() == p.role)
            .and_then(|role| legacy_here(role, observed)),
        Config::Repository(_)
        | Config::Bucket(_)
        | Config::Function(_)
        | Config::Gateway(_)
        | Config::Target(_)
        | Config::Runtime(_)
        | Config::Endpoint(_)
        | Config::Memory(_)
        | Config::ApiKeyProvider(_)
        | Config::OAuthProvider(_)
        | Config::PolicyEngine(_)
        | Config::Policy(_)
        | Config::UserPool(_)
        | Config::M2mClient(_) => None,
    }
}

/// Whether `child` was read through `parent` (same id, or ARN for kinds
/// without an id); true when either side does not say.
fn same_parent(parent: &Observed, child: &Observed) -> bool {
    let identity = |ids: &Ids| ids.id.clone().or_else(|| ids.arn.clone());
    match (identity(&parent.ids), identity(&child.parent_ids)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Ids of the resources found, by address (ours only; of twins, the
/// survivor's).
pub fn known_ids(observed: &[Observed]) -> Known {
    survivors(observed)
        .into_iter()
        .map(|(a, i)| (a, observed[i].ids.clone()))
        .collect()
}

/// The account as it would read back after a perfect apply of `desired`,
/// with `ids` giving each resource's AWS ids. For tests and benchmarks of
/// the planner: diffing `desired` against this plans no changes.
pub fn as_applied(desired: &[Desired], ids: impl Fn(&Address) -> Ids) -> Vec<Observed> {
    desired
        .iter()
        .map(|d| {
            let mut config = d.config.clone();
            if let Config::Function(f) = &mut config {
                f.code = None;
            }
            Observed {
                ids: ids(&d.addr),
                parent_ids: d.addr.parent().map(|p| ids(&p)).unwrap_or_default(),
                status: Some("READY".into()),
                status_reasons: vec![],
                owner: Owner::Ours(d.addr.clone()),
                config,
            }
        })
        .collect()
}
