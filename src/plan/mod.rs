//! From the spec and the account to a plan: what the spec wants
//! ([`desired`], with the derived IAM of [`policy`]), the diff against what
//! exists ([`diff`]), and its rendering ([`render`]). All pure.
//!
//! A [`Plan`] is plain data and carries everything apply needs: each
//! change's desired config (with unknown values as typed references the
//! executor fills in), what was observed, per-resource delete options, and
//! the ids known when it was made. Apply never reads the spec.

pub mod desired;
mod diff;
pub mod graph;
pub mod policy;
pub mod render;
pub mod saved;
pub mod sensitive;

pub use diff::{Conflict, Mode, as_applied, diff, field_changes, known_ids};

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Address, Config, DeleteOptions, Desired, Known, Observed, Resolved, Val};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Action {
    NoOp,
    /// Matches the spec but is not ready yet (an interrupted apply left it
    /// CREATING or UPDATING): apply waits until it is.
    Wait,
    Create,
    Update,
    Replace,
    Delete,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Val>,
    pub after: Option<Val>,
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub addr: Address,
    pub action: Action,
    /// Why: the field forcing replacement, "not in the spec", a failed status.
    pub reason: Option<String>,
    pub fields: Vec<FieldChange>,
    pub desired: Option<Desired>,
    pub observed: Option<Observed>,
    /// How the delete (or the delete half of a replacement) is done.
    pub delete: DeleteOptions,
    /// Places (attribute, then map keys or list indices) whose values are
    /// sensitive: shown masked, before and after alike.
    #[serde(default)]
    pub sensitive: BTreeSet<Vec<String>>,
}

impl Change {
    fn config(&self) -> Option<&Config> {
        self.desired
            .as_ref()
            .map(|d| &d.config)
            .or(self.observed.as_ref().map(|o| &o.config))
    }

    /// The physical name, for display (`parent/name` for children).
    pub fn name(&self) -> String {
        self.config()
            .map(Config::display_name)
            .unwrap_or_else(|| self.addr.to_string())
    }
}

/// How many resources each action touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    pub wait: usize,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Ids of the resources that exist and keep them through this plan
    /// (created and replaced resources get new ones; an update may change
    /// some, see [`crate::model::Kind::update_changes`]).
    pub known: Known,
    /// Resources tagged for this project whose address tag is missing or
    /// invalid: never touched, and named so the user can fix the tag.
    pub unproven: Vec<String>,
    /// What the plan leaves alone and why, for the user to read.
    pub notes: Vec<String>,
    /// What will likely go wrong at apply, found before it starts (an image
    /// not pushed yet, a repository that cannot be deleted).
    pub warnings: Vec<String>,
    /// The spec's outputs now and after apply.
    pub outputs: BTreeMap<String, OutputChange>,
}

/// One output of the spec: its value in the account now (`None` while a
/// resource it refers to does not exist) and after apply (`None` when the
/// plan destroys the stack).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputChange {
    pub before: Option<String>,
    pub after: Option<Resolved>,
    /// The value holds a sensitive one: never shown.
    #[serde(default)]
    pub sensitive: bool,
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
                Action::NoOp | Action::Wait => {}
            }
        }
        n
    }

    /// Each resource counted once, by what happens to it.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for c in &self.changes {
            match c.action {
                Action::Create => t.add += 1,
                Action::Update => t.change += 1,
                Action::Replace => t.replace += 1,
                Action::Delete => t.destroy += 1,
                Action::Wait => t.wait += 1,
                Action::NoOp => {}
            }
        }
        t
    }

    /// Resources apply only has to wait for.
    pub fn waits(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Wait)
            .count()
    }

    pub fn get(&self, addr: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.addr == addr)
    }
}

#[cfg(test)]
mod tests;
