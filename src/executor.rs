//! Runs a plan against the account.
//!
//! Contract (every step is idempotent, because apply may be re-run after a
//! crash or a failure and must converge):
//! - Replacements delete the old resource first (the new one takes its
//!   name). Then creates and updates run in dependency order, independent
//!   ones concurrently. Then what left the spec is deleted, last, so nothing
//!   still points at it. Deletes go dependents first (targets and runtimes,
//!   then gateways, then functions and repositories, then policies, then
//!   roles), each rank concurrently. "Not found" counts as deleted.
//! - Each resource is rebuilt from the spec right before it is
//!   sent, so ids of resources created moments earlier are filled in.
//! - Apply never rolls back. On the first hard failure no new work starts,
//!   work in flight finishes, and the outcome lists what was done, what failed
//!   and what was not started.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::aws::Aws;
use crate::desired::{self, Known};
use crate::model::{Account, Address, Config, Desired, Ids, Kind, Observed, Progress};
use crate::plan::{Action, Change, Plan};
use crate::spec::LoadedSpec;

/// What the executor tells the user about, beyond `Progress` notes.
pub trait Reporter: Progress {
    fn start(&self, addr: &Address, verb: &str);
    fn finish(&self, addr: &Address, verb: &str, seconds: f64);
    fn fail(&self, addr: &Address, verb: &str, error: &anyhow::Error);
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<(Address, &'static str)>,
    pub failed: Vec<(Address, String)>,
    pub not_started: Vec<Address>,
    /// Ids of every resource known after the run (for outputs).
    pub known: Known,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

pub struct Executor<'a> {
    pub aws: &'a Aws,
    pub spec: &'a LoadedSpec,
    pub account: &'a Account,
    pub artifacts: &'a desired::Artifacts,
    pub reporter: &'a dyn Reporter,
}

fn force_delete_repository(spec: &LoadedSpec, o: &Observed) -> bool {
    let project = &spec.spec.project;
    spec.spec.repositories.iter().any(|(k, r)| {
        crate::names::repository(project, k) == o.name
            && r.as_ref().and_then(|r| r.force_delete).unwrap_or(false)
    })
}

impl Executor<'_> {
    /// Applies `plan`. `known` holds the ids of resources found at plan time.
    pub async fn apply(&self, plan: &Plan, mut known: Known) -> Outcome {
        let mut outcome = Outcome::default();
        for a in crate::plan::unstable(plan) {
            known.remove(&a);
        }
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
        let work: BTreeMap<Address, &Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Replace))
            .map(|c| (c.addr.clone(), c))
            .collect();
        let deps: BTreeMap<Address, BTreeSet<Address>> = work
            .iter()
            .map(|(a, c)| {
                let d = c
                    .desired
                    .as_ref()
                    .map(|d| {
                        d.deps
                            .iter()
                            .filter(|x| work.contains_key(*x))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                (a.clone(), d)
            })
            .collect();
        let mut pending: BTreeSet<Address> = work.keys().cloned().collect();
        let mut finished: BTreeSet<Address> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        let mut stopped = false;
        loop {
            if !stopped {
                let ready: Vec<Address> = pending
                    .iter()
                    .filter(|a| deps[*a].iter().all(|d| finished.contains(d)))
                    .cloned()
                    .collect();
                for addr in ready {
                    pending.remove(&addr);
                    let change = work[&addr];
                    let known_now = known.clone();
                    running.push(async move {
                        let started = Instant::now();
                        let verb = if change.action == Action::Update {
                            "updating"
                        } else {
                            "creating"
                        };
                        self.reporter.start(&change.addr, verb);
                        let r = self.create_or_update(change, &known_now).await;
                        (change, verb, r, started.elapsed().as_secs_f64())
                    });
                }
            }
            let Some((change, verb, result, secs)) = running.next().await else {
                break;
            };
            match result {
                Ok(ids) => {
                    let past = if verb == "updating" {
                        "updated"
                    } else {
                        "created"
                    };
                    self.reporter.finish(&change.addr, past, secs);
                    known.insert(change.addr.clone(), ids);
                    finished.insert(change.addr.clone());
                    outcome.done.push((change.addr.clone(), past));
                }
                Err(e) => {
                    self.reporter.fail(&change.addr, verb, &e);
                    outcome.failed.push((change.addr.clone(), format!("{e:#}")));
                    stopped = true;
                }
            }
        }
        outcome.not_started.extend(pending);
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

    /// Deletes everything in `changes` (all must be deletes), in rank order.
    pub async fn run_deletes(&self, changes: &[&Change], outcome: &mut Outcome) {
        let mut ranks: BTreeMap<u8, Vec<&Change>> = BTreeMap::new();
        for c in changes {
            ranks.entry(c.addr.kind.delete_rank()).or_default().push(c);
        }
        let mut stopped = false;
        for (_, group) in ranks {
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
                    let r = self
                        .aws
                        .delete(o, force_delete_repository(self.spec, o), self.reporter)
                        .await;
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
                        outcome.failed.push((c.addr.clone(), format!("{e:#}")));
                        stopped = true;
                    }
                }
            }
        }
    }

    async fn create_or_update(&self, change: &Change, known: &Known) -> anyhow::Result<Ids> {
        // A resource planned with every value known is sent as planned; one
        // that referred to something not yet created is rebuilt with the ids
        // known now, so its references resolve for real.
        let rebuilt;
        let d = match change.desired.as_ref().filter(|d| unresolved(d).is_empty()) {
            Some(d) => d,
            None => {
                rebuilt = desired::build(self.spec, self.account, self.artifacts, known)
                    .into_iter()
                    .find(|d| d.addr == change.addr)
                    .ok_or_else(|| {
                        anyhow::anyhow!("{} vanished from the spec while applying", change.addr)
                    })?;
                &rebuilt
            }
        };
        let missing = unresolved(d);
        if !missing.is_empty() {
            anyhow::bail!(
                "internal error: {} still has unresolved values in {}",
                d.addr,
                missing.join(", ")
            );
        }
        match (change.action, &change.observed) {
            (Action::Update, Some(current)) => self.aws.update(d, current, self.reporter).await,
            _ => {
                let parent = match &d.config {
                    Config::Target(_) => {
                        let gw = Address::new(
                            Kind::Gateway,
                            d.addr.name.split('/').next().unwrap_or_default(),
                        );
                        known
                            .get(&gw)
                            .cloned()
                            .ok_or_else(|| anyhow::anyhow!("gateway of {} is not known", d.addr))?
                    }
                    _ => Ids::default(),
                };
                self.aws.create(d, &parent, self.reporter).await
            }
        }
    }
}

/// The fields of `d` that still hold the "known after apply" placeholder.
fn unresolved(d: &Desired) -> Vec<&'static str> {
    d.config
        .attrs()
        .into_iter()
        .filter(|(_, v)| crate::plan::contains_unknown(v))
        .map(|(k, _)| k)
        .collect()
}
