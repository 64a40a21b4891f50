//! Runs a plan against the account, through the [`Cloud`] port.
//!
//! Contract (every step is idempotent, because apply may be re-run after a
//! crash or a failure and must converge):
//! - Replacements delete the old resource first (the new one takes its
//!   name). Then creates and updates run in dependency order, independent
//!   ones concurrently. Then what left the spec is deleted, last, so nothing
//!   still points at it. Deletes go dependents first
//!   ([`crate::model::Kind::delete_rank`]), each rank concurrently. "Not
//!   found" counts as deleted (the port's promise).
//! - The plan is all the executor reads: unknown values in a change are
//!   typed references, filled in from the ids of resources created or
//!   updated moments earlier; a child is created with its parent's ids.
//! - Apply never rolls back. On the first hard failure no new work starts,
//!   work in flight finishes, and the outcome lists what was done, what failed
//!   and what was not started. A stop request ([`Stop`], e.g. on SIGINT)
//!   does the same without a failure.

mod cloud;
#[cfg(test)]
mod tests;

pub use cloud::Cloud;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::model::{Address, Desired, Ids, Known, Progress};
use crate::plan::{Action, Change, Plan};

/// What the executor tells the user about, beyond `Progress` notes.
pub trait Reporter: Progress {
    fn start(&self, addr: &Address, verb: &str);
    fn finish(&self, addr: &Address, verb: &str, seconds: f64);
    fn fail(&self, addr: &Address, verb: &str, error: &anyhow::Error);
}

/// A request to stop starting new work (the CLI sets it on the first
/// SIGINT/SIGTERM). Work in flight finishes.
#[derive(Debug, Default)]
pub struct Stop(AtomicBool);

impl Stop {
    pub fn request(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<(Address, &'static str)>,
    pub failed: Vec<(Address, String)>,
    pub not_started: Vec<Address>,
    /// The run stopped early on request.
    pub stopped: bool,
    /// Ids of every resource known after the run (for outputs).
    pub known: Known,
}

impl Outcome {
    /// Everything planned was done.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.stopped
    }
}

pub struct Executor<'a, C: Cloud> {
    pub cloud: &'a C,
    pub reporter: &'a dyn Reporter,
    pub stop: &'a Stop,
}

impl<C: Cloud> Executor<'_, C> {
    /// Applies `plan`: replacements' deletes, then creates and updates, then
    /// deletes of what left the spec.
    /// A failure as the summary shows it: the error chain, and the
    /// cloud's hint on what to do.
    fn failure(&self, e: &anyhow::Error) -> String {
        match self.cloud.hint(e) {
            Some(h) => format!("{e:#}\n    hint: {h}"),
            None => format!("{e:#}"),
        }
    }

    pub async fn apply(&self, plan: &Plan) -> Outcome {
        let mut outcome = Outcome::default();
        let mut known = plan.known.clone();
        let later = |outcome: &mut Outcome, actions: &[Action]| {
            outcome.not_started.extend(
                plan.changes
                    .iter()
                    .filter(|c| actions.contains(&c.action))
                    .map(|c| c.addr.clone()),
            );
        };
        // Phase 1: the delete half of replacements (the new resource takes the
        // old one's name, so the old one must go first).
        let replaced: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Replace)
            .collect();
        self.run_deletes(&replaced, &mut outcome).await;
        if !outcome.ok() {
            later(
                &mut outcome,
                &[
                    Action::Wait,
                    Action::Create,
                    Action::Update,
                    Action::Replace,
                    Action::Delete,
                ],
            );
            outcome.known = known;
            return outcome;
        }
        // Phase 2: creates and updates in dependency order.
        let work: BTreeMap<&Address, &Change> = plan
            .changes
            .iter()
            .filter(|c| {
                matches!(
                    c.action,
                    Action::Create | Action::Update | Action::Replace | Action::Wait
                )
            })
            .map(|c| (&c.addr, c))
            .collect();
        let deps: BTreeMap<&Address, BTreeSet<&Address>> = work
            .iter()
            .map(|(a, c)| {
                let d = c
                    .desired
                    .iter()
                    .flat_map(|d| &d.deps)
                    .filter_map(|x| work.get_key_value(x).map(|(k, _)| *k))
                    .collect();
                (*a, d)
            })
            .collect();
        let mut pending: BTreeSet<&Address> = work.keys().copied().collect();
        let mut finished: BTreeSet<&Address> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        let mut stopped = false;
        loop {
            if !stopped && self.stop.requested() {
                stopped = true;
                outcome.stopped = true;
            }
            if !stopped {
                let ready: Vec<&Address> = pending
                    .iter()
                    .filter(|a| deps[*a].iter().all(|d| finished.contains(d)))
                    .copied()
                    .collect();
                for addr in ready {
                    pending.remove(addr);
                    let change = work[addr];
                    let verb = match change.action {
                        Action::Update => "updating",
                        Action::Wait => "waiting for",
                        Action::NoOp | Action::Create | Action::Replace | Action::Delete => {
                            "creating"
                        }
                    };
                    // Fill in what is known now; the future owns its inputs.
                    let prepared = prepare(change, &known);
                    running.push(async move {
                        let started = Instant::now();
                        tracing::debug!(addr = %change.addr, verb, "start");
                        self.reporter.start(&change.addr, verb);
                        let r = match prepared {
                            Ok((d, parent)) => self.send(change, &d, parent.as_ref()).await,
                            Err(e) => Err(e),
                        };
                        (change, verb, r, started.elapsed().as_secs_f64())
                    });
                }
            }
            let Some((change, verb, result, secs)) = running.next().await else {
                break;
            };
            match result {
                Ok(ids) => {
                    let past = match change.action {
                        Action::Update => "updated",
                        Action::Wait => "ready",
                        Action::NoOp | Action::Create | Action::Replace | Action::Delete => {
                            "created"
                        }
                    };
                    self.reporter.finish(&change.addr, past, secs);
                    known.insert(change.addr.clone(), ids);
                    finished.insert(&change.addr);
                    outcome.done.push((change.addr.clone(), past));
                }
                Err(e) => {
                    tracing::debug!(addr = %change.addr, verb, error = %self.failure(&e), "failed; no new operations start");
                    self.reporter.fail(&change.addr, verb, &e);
                    outcome.failed.push((change.addr.clone(), self.failure(&e)));
                    stopped = true;
                }
            }
        }
        outcome.not_started.extend(pending.into_iter().cloned());
        // Phase 3: what left the spec goes last, once everything that may
        // still point at it (a target at an old function, say) is updated.
        if outcome.ok() {
            let deletes: Vec<&Change> = plan
                .changes
                .iter()
                .filter(|c| c.action == Action::Delete)
                .collect();
            self.run_deletes(&deletes, &mut outcome).await;
        } else {
            later(&mut outcome, &[Action::Delete]);
        }
        outcome.known = known;
        outcome
    }

    /// Runs only the deletes of `plan` (destroy).
    pub async fn destroy(&self, plan: &Plan) -> Outcome {
        let deletes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .collect();
        let mut outcome = Outcome::default();
        self.run_deletes(&deletes, &mut outcome).await;
        outcome
    }

    /// Deletes the observed resource of every change, in rank order.
    async fn run_deletes(&self, changes: &[&Change], outcome: &mut Outcome) {
        let mut ranks: BTreeMap<u8, Vec<&Change>> = BTreeMap::new();
        for c in changes {
            ranks
                .entry(c.addr.kind().delete_rank())
                .or_default()
                .push(c);
        }
        let mut stopped = false;
        for (_, group) in ranks {
            if !stopped && self.stop.requested() {
                stopped = true;
                outcome.stopped = true;
            }
            if stopped {
                outcome
                    .not_started
                    .extend(group.iter().map(|c| c.addr.clone()));
                continue;
            }
            let mut running: FuturesUnordered<_> = group
                .iter()
                .filter_map(|c| c.observed.as_ref().map(|o| (c, o)))
                .map(|(c, o)| async move {
                    let started = Instant::now();
                    self.reporter.start(&c.addr, "destroying");
                    let r = self.cloud.delete(o, c.delete, self.reporter).await;
                    (c, r, started.elapsed().as_secs_f64())
                })
                .collect();
            while let Some((c, r, secs)) = running.next().await {
                match r {
                    Ok(()) => {
                        self.reporter.finish(&c.addr, "destroyed", secs);
                        outcome.done.push((c.addr.clone(), "destroyed"));
                    }
                    Err(e) => {
                        self.reporter.fail(&c.addr, "destroying", &e);
                        outcome.failed.push((c.addr.clone(), self.failure(&e)));
                        stopped = true;
                    }
                }
            }
        }
    }

    async fn send(
        &self,
        change: &Change,
        d: &Desired,
        parent: Option<&Ids>,
    ) -> anyhow::Result<Ids> {
        match (change.action, &change.observed) {
            (Action::Update, Some(current)) => self.cloud.update(d, current, self.reporter).await,
            (Action::Wait, Some(current)) => self.cloud.wait(current, self.reporter).await,
            (Action::Wait, None) => {
                anyhow::bail!("internal error: {} has nothing to wait for", change.addr)
            }
            // A replacement's old resource was deleted in phase 1.
            (Action::Create | Action::Replace, _) | (Action::Update, None) => {
                self.cloud.create(d, parent, self.reporter).await
            }
            (Action::NoOp | Action::Delete, _) => {
                anyhow::bail!("internal error: {} is not a create or update", change.addr)
            }
        }
    }
}

/// The change's desired resource with every reference filled in from
/// `known`, and its parent's ids (a target is created on its gateway's id).
fn prepare(change: &Change, known: &Known) -> anyhow::Result<(Desired, Option<Ids>)> {
    let d = change
        .desired
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("internal error: {} has no desired state", change.addr))?;
    let config = d.config.fill(known);
    let missing = config.unknown_fields();
    if !missing.is_empty() {
        anyhow::bail!(
            "internal error: {} still has unknown values in {} (the resources they refer to were not created first)",
            d.addr,
            missing.join(", ")
        );
    }
    // The port says which kinds need their parent's ids, and fails clearly
    // when they are missing.
    let parent = d.addr.parent().and_then(|p| known.get(&p).cloned());
    Ok((
        Desired {
            config,
            ..d.clone()
        },
        parent,
    ))
}
