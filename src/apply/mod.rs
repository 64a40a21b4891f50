//! Runs a plan against the account, through the [`Cloud`] port.
//!
//! Contract (every step is idempotent, because apply may be re-run after a
//! crash or a failure and must converge):
//! - Replacements delete the old resource first (the new one takes its
//!   name). Then creates and updates run, each the moment what it depends on
//!   is done (no waiting for a whole level), at most `parallelism` at once,
//!   the longest remaining chain first. Then what left the spec is deleted,
//!   last, so nothing still points at it. Deletes go dependents first
//!   ([`crate::model::Kind::delete_rank`]; a gateway waits only for its own
//!   targets), each as soon as those are gone. "Not found" counts as deleted
//!   (the port's promise). API rate limits are not the executor's business:
//!   the AWS layer keeps every request within them.
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
    /// At most this many operations in flight (at least one).
    pub parallelism: usize,
}

/// One operation of a run: the change, and how progress names it.
struct Job<'p> {
    change: &'p Change,
    verb: &'static str,
    past: &'static str,
}

/// For each job, the jobs that must finish before it starts.
type Blockers<'p> = BTreeMap<&'p Address, BTreeSet<&'p Address>>;

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
        // Phase 2: creates and updates, each the moment what it needs is done.
        let jobs: Vec<Job> = plan
            .changes
            .iter()
            .filter_map(|c| {
                let (verb, past) = match c.action {
                    Action::Create | Action::Replace => ("creating", "created"),
                    Action::Update => ("updating", "updated"),
                    Action::Wait => ("waiting for", "ready"),
                    Action::NoOp | Action::Delete => return None,
                };
                Some(Job {
                    change: c,
                    verb,
                    past,
                })
            })
            .collect();
        let in_run: BTreeSet<&Address> = jobs.iter().map(|j| &j.change.addr).collect();
        let blockers: Blockers = jobs
            .iter()
            .map(|j| {
                let d = j
                    .change
                    .desired
                    .iter()
                    .flat_map(|d| &d.deps)
                    .filter_map(|x| in_run.get(x).copied())
                    .collect();
                (&j.change.addr, d)
            })
            .collect();
        self.run_jobs(jobs, blockers, &mut known, &mut outcome, |change, known| {
            // Fill in what is known now; the future owns its inputs.
            let prepared = prepare(change, known);
            async move {
                let (d, parent) = prepared?;
                self.send(change, &d, parent.as_ref()).await
            }
        })
        .await;
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

    /// Deletes the observed resource of every change, each once what
    /// depends on it is gone ([`delete_blockers`]).
    async fn run_deletes(&self, changes: &[&Change], outcome: &mut Outcome) {
        let changes: Vec<&Change> = changes
            .iter()
            .copied()
            .filter(|c| c.observed.is_some())
            .collect();
        let blockers = delete_blockers(&changes);
        let jobs = changes
            .iter()
            .map(|c| Job {
                change: c,
                verb: "destroying",
                past: "destroyed",
            })
            .collect();
        let mut known = Known::new();
        self.run_jobs(jobs, blockers, &mut known, outcome, |c, _| async move {
            let o = c.observed.as_ref().expect("filtered");
            self.cloud.delete(o, c.delete, self.reporter).await?;
            Ok(Ids::default())
        })
        .await;
    }

    /// Runs `jobs`, each as soon as its blockers are done, at most
    /// `parallelism` at once, those with the longest chain of work after
    /// them first (so the critical path is never queued behind leaves).
    /// After a failure or a stop request no job starts; those in flight
    /// finish. Done jobs' ids go into `known`.
    async fn run_jobs<'p, F, Fut>(
        &self,
        jobs: Vec<Job<'p>>,
        blockers: Blockers<'p>,
        known: &mut Known,
        outcome: &mut Outcome,
        launch: F,
    ) where
        F: Fn(&'p Change, &Known) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Ids>>,
    {
        let height = heights(&blockers);
        let mut pending: BTreeMap<&Address, Job> =
            jobs.into_iter().map(|j| (&j.change.addr, j)).collect();
        let mut finished: BTreeSet<&Address> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        let mut halted = false;
        let limit = self.parallelism.max(1);
        loop {
            if !halted && self.stop.requested() {
                halted = true;
                outcome.stopped = true;
            }
            if !halted && running.len() < limit {
                let mut ready: Vec<&Address> = pending
                    .keys()
                    .filter(|a| blockers[*a].iter().all(|d| finished.contains(d)))
                    .copied()
                    .collect();
                ready.sort_by_key(|a| std::cmp::Reverse(height[a]));
                for addr in ready.into_iter().take(limit - running.len()) {
                    let job = pending.remove(addr).expect("pending");
                    let work = launch(job.change, known);
                    let reporter = self.reporter;
                    running.push(async move {
                        let started = Instant::now();
                        tracing::debug!(addr = %job.change.addr, verb = job.verb, "start");
                        reporter.start(&job.change.addr, job.verb);
                        let r = work.await;
                        (job, r, started.elapsed().as_secs_f64())
                    });
                }
            }
            let Some((job, result, secs)) = running.next().await else {
                break;
            };
            let addr = &job.change.addr;
            match result {
                Ok(ids) => {
                    self.reporter.finish(addr, job.past, secs);
                    known.insert(addr.clone(), ids);
                    finished.insert(addr);
                    outcome.done.push((addr.clone(), job.past));
                }
                Err(e) => {
                    tracing::debug!(%addr, verb = job.verb, error = %self.failure(&e), "failed; no new operations start");
                    self.reporter.fail(addr, job.verb, &e);
                    outcome.failed.push((addr.clone(), self.failure(&e)));
                    halted = true;
                }
            }
        }
        outcome.not_started.extend(pending.into_keys().cloned());
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

/// The longest chain of jobs waiting on each job (0: nothing waits on it).
fn heights<'p>(blockers: &Blockers<'p>) -> BTreeMap<&'p Address, usize> {
    let mut dependents: BTreeMap<&Address, Vec<&Address>> = BTreeMap::new();
    for (a, bs) in blockers {
        for b in bs {
            dependents.entry(*b).or_default().push(*a);
        }
    }
    fn h<'p>(
        a: &'p Address,
        dependents: &BTreeMap<&'p Address, Vec<&'p Address>>,
        memo: &mut BTreeMap<&'p Address, usize>,
    ) -> usize {
        if let Some(v) = memo.get(a) {
            return *v;
        }
        // The graph is acyclic (the planner checks); mark before descending.
        memo.insert(a, 0);
        let v = dependents
            .get(a)
            .map(|ds| {
                ds.iter()
                    .map(|d| 1 + h(d, dependents, memo))
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        memo.insert(a, v);
        v
    }
    let mut memo = BTreeMap::new();
    for a in blockers.keys() {
        h(a, &dependents, &mut memo);
    }
    memo
}

/// What must be deleted before each delete: everything of a lower
/// [`crate::model::Kind::delete_rank`], except children of *another*
/// parent (a gateway waits for its own targets, not for every target;
/// a function waits for all of them, since any may point at it).
fn delete_blockers<'p>(changes: &[&'p Change]) -> Blockers<'p> {
    changes
        .iter()
        .map(|x| {
            let rank = x.addr.kind().delete_rank();
            let blockers = changes
                .iter()
                .filter(|y| y.addr.kind().delete_rank() < rank)
                .filter(|y| {
                    y.addr.kind().parent() != Some(x.addr.kind())
                        || y.addr.parent().as_ref() == Some(&x.addr)
                })
                .map(|y| &y.addr)
                .collect();
            (&x.addr, blockers)
        })
        .collect()
}
