//! The executor's contract against an in-memory cloud (no AWS, no spec):
//! dependency order, concurrency of independent work, stop-on-failure with
//! in-flight work finishing, convergence on re-run, dependents deleted
//! first, and unknown values filled in from resources created moments
//! earlier. Time is tokio's paused clock, so the tests are exact and fast.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Result, bail};

use super::*;
use crate::model::{
    Attr, Authorizer, Config, DeleteOptions, EndpointConfig, GatewayConfig, Ids, NoProgress,
    Observed, Owner, Part, Ref, RepositoryConfig, Resolved, Template,
};
use crate::plan::{Change, Plan};

/// What the in-memory cloud saw, in order, with the (paused) time.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Start(String, Address),
    End(String, Address),
}

#[derive(Default)]
struct MemoryCloud {
    /// What exists, by address.
    resources: Mutex<BTreeMap<Address, Ids>>,
    events: Mutex<Vec<(Duration, Event)>>,
    /// Calls that fail once, by address.
    fail_once: Mutex<Vec<Address>>,
    /// The configs sent, by address (to check filled-in values).
    sent: Mutex<BTreeMap<Address, Config>>,
    /// How long an operation on an address takes, when not one second.
    takes: Mutex<BTreeMap<Address, Duration>>,
    started: Option<tokio::time::Instant>,
}

impl MemoryCloud {
    fn new() -> Self {
        MemoryCloud {
            started: Some(tokio::time::Instant::now()),
            ..Default::default()
        }
    }
    fn log(&self, e: Event) {
        let t = self.started.map(|s| s.elapsed()).unwrap_or_default();
        self.events.lock().unwrap().push((t, e));
    }
    async fn work(&self, verb: &str, addr: &Address) -> Result<()> {
        self.log(Event::Start(verb.into(), addr.clone()));
        // An operation takes one second of (paused) time unless told.
        let takes = self.takes.lock().unwrap().get(addr).copied();
        tokio::time::sleep(takes.unwrap_or(Duration::from_secs(1))).await;
        let fail = {
            let mut f = self.fail_once.lock().unwrap();
            let hit = f.iter().position(|a| a == addr);
            hit.map(|i| f.remove(i)).is_some()
        };
        self.log(Event::End(verb.into(), addr.clone()));
        if fail {
            bail!("injected failure on {addr}");
        }
        Ok(())
    }
    fn order(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }
    fn time_of(&self, e: &Event) -> Duration {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|(_, x)| x == e)
            .unwrap()
            .0
    }
    fn max_in_flight(&self) -> usize {
        let mut n = 0usize;
        let mut max = 0;
        for (_, e) in self.events.lock().unwrap().iter() {
            match e {
                Event::Start(..) => n += 1,
                Event::End(..) => n -= 1,
            }
            max = max.max(n);
        }
        max
    }
}

impl Cloud for MemoryCloud {
    async fn create(&self, d: &Desired, parent: Option<&Ids>, _: &dyn Progress) -> Result<Ids> {
        if let Some(p) = d.addr.parent() {
            let exists = self.resources.lock().unwrap().contains_key(&p);
            if !exists || parent.is_none() {
                bail!("{} created before its parent {p}", d.addr);
            }
        }
        self.work("create", &d.addr).await?;
        let ids = Ids {
            id: Some(format!("id-of-{}", d.addr)),
            arn: Some(format!("arn:{}", d.addr)),
            url: Some(format!("https://{}", d.addr)),
            version: Some("1".into()),
        };
        // Idempotent: a second create of the same resource adopts it.
        self.resources
            .lock()
            .unwrap()
            .entry(d.addr.clone())
            .or_insert(ids.clone());
        self.sent
            .lock()
            .unwrap()
            .insert(d.addr.clone(), d.config.clone());
        Ok(ids)
    }

    async fn update(&self, d: &Desired, current: &Observed, _: &dyn Progress) -> Result<Ids> {
        self.work("update", &d.addr).await?;
        self.sent
            .lock()
            .unwrap()
            .insert(d.addr.clone(), d.config.clone());
        Ok(current.ids.clone())
    }

    async fn wait(&self, o: &Observed, _: &dyn Progress) -> Result<Ids> {
        let Owner::Ours(addr) = &o.owner else {
            bail!("not ours")
        };
        self.work("wait", addr).await?;
        Ok(o.ids.clone())
    }

    async fn delete(&self, o: &Observed, _: DeleteOptions, _: &dyn Progress) -> Result<()> {
        let Owner::Ours(addr) = &o.owner else {
            bail!("not ours")
        };
        self.work("delete", addr).await?;
        // Not found counts as deleted.
        self.resources.lock().unwrap().remove(addr);
        Ok(())
    }
}

struct Quiet;
impl Progress for Quiet {
    fn note(&self, _: &Address, _: &str) {}
}
impl Reporter for Quiet {
    fn start(&self, _: &Address, _: &str) {}
    fn finish(&self, _: &Address, _: &str, _: f64) {}
    fn fail(&self, _: &Address, _: &str, _: &anyhow::Error) {}
}

fn gw(key: &str) -> Address {
    Address::Gateway(key.into())
}
fn target(g: &str, t: &str) -> Address {
    Address::GatewayTarget {
        gateway: g.into(),
        target: t.into(),
    }
}

fn gateway_config(name: &str, description: Resolved) -> Config {
    let _ = &description;
    Config::Gateway(GatewayConfig {
        waf_failure_mode: String::new(),
        transform_lambda: String::new(),
        name: name.into(),
        description: description.known().unwrap_or_default().into(),
        role_arn: "arn:aws:iam::1:role/r".into(),
        authorizer: Authorizer::AwsIam,
        protocol_type: "MCP".into(),
        semantic_search: false,
        interceptors: vec![],
        policy_engine: None,
        tags: Default::default(),
    })
}

fn endpoint_config(version: Resolved) -> Config {
    Config::Endpoint(EndpointConfig {
        runtime: "rt".into(),
        name: "e".into(),
        description: String::new(),
        version,
        tags: Default::default(),
    })
}

fn create(addr: Address, deps: Vec<Address>, config: Config) -> Change {
    Change {
        addr: addr.clone(),
        action: Action::Create,
        reason: None,
        fields: vec![],
        desired: Some(Desired { addr, deps, config }),
        observed: None,
        delete: DeleteOptions::default(),
        sensitive: Default::default(),
    }
}

fn observed(addr: &Address, config: Config) -> Observed {
    Observed {
        ids: Ids {
            id: Some(format!("id-of-{addr}")),
            ..Ids::default()
        },
        parent_ids: Ids::default(),
        status: Some("READY".into()),
        status_reasons: vec![],
        owner: Owner::Ours(addr.clone()),
        config,
    }
}

fn delete(addr: Address, config: Config) -> Change {
    Change {
        action: Action::Delete,
        observed: Some(observed(&addr, config)),
        desired: None,
        ..create(addr, vec![], endpoint_config(Resolved::Known("1".into())))
    }
}

fn repo(name: &str) -> Config {
    Config::Repository(RepositoryConfig {
        name: name.into(),
        scan_on_push: false,
        tag_mutability: "MUTABLE".into(),
        force_delete: false,
        tags: Default::default(),
        policy: Default::default(),
    })
}

/// A plan of `changes` with nothing known beforehand.
fn plan_of(changes: Vec<Change>) -> Plan {
    Plan {
        changes,
        ..Plan::default()
    }
}

/// An executor on `cloud` that nobody asks to stop.
fn executor<'a>(cloud: &'a MemoryCloud, stop: &'a Stop) -> Executor<'a, MemoryCloud> {
    Executor {
        cloud,
        reporter: &Quiet,
        stop,
        parallelism: 100,
    }
}

/// A Lambda target named `name` on the gateway named `gateway`.
fn target_config(gateway: &str, name: &str) -> Config {
    Config::Target(crate::model::TargetConfig {
        gateway: gateway.into(),
        name: name.into(),
        description: String::new(),
        source: crate::model::TargetSource::Lambda {
            arn: "arn:aws:lambda:us-east-1:1:function:f".into(),
            tools: vec![],
        },
        credentials: crate::model::TargetCredentials::GatewayIamRole,
    })
}

/// Two gateways with a target each; the second target waits for both.
fn two_gateways() -> Plan {
    let t = target_config;
    plan_of(vec![
        create(gw("a"), vec![], gateway_config("p-a", "".into())),
        create(gw("b"), vec![], gateway_config("p-b", "".into())),
        create(target("a", "t"), vec![gw("a")], t("p-a", "t")),
        create(target("b", "t"), vec![gw("b"), gw("a")], t("p-b", "t")),
    ])
}

#[tokio::test(start_paused = true)]
async fn dependencies_first_and_independent_work_concurrently() {
    let cloud = MemoryCloud::new();
    let stop = Stop::default();
    let exec = executor(&cloud, &stop);
    let out = exec.apply(&two_gateways()).await;
    assert!(out.ok(), "{:?}", out.failed);
    assert_eq!(out.done.len(), 4);
    // Both gateways start at once; both targets once the gateways are done:
    // two rounds of one second, not four.
    assert_eq!(cloud.max_in_flight(), 2);
    let start = |a: Address| cloud.time_of(&Event::Start("create".into(), a));
    assert_eq!(start(gw("a")), Duration::ZERO);
    assert_eq!(start(gw("b")), Duration::ZERO);
    assert_eq!(start(target("a", "t")), Duration::from_secs(1));
    assert_eq!(start(target("b", "t")), Duration::from_secs(1));
    // Each child was created with its parent's ids (the cloud checks).
    assert_eq!(
        out.known[&target("b", "t")].id.as_deref(),
        Some("id-of-gateway_target.b/t")
    );
}

#[tokio::test(start_paused = true)]
async fn a_dependent_starts_the_moment_its_own_dependencies_are_done() {
    // Gateway a takes 1 s, gateway b 5 s: a's target starts at 1 s, not
    // when the whole "level" of gateways is done.
    let cloud = MemoryCloud::new();
    cloud
        .takes
        .lock()
        .unwrap()
        .insert(gw("b"), Duration::from_secs(5));
    let out = executor(&cloud, &Stop::default())
        .apply(&two_gateways())
        .await;
    assert!(out.ok(), "{:?}", out.failed);
    let start = |a: Address| cloud.time_of(&Event::Start("create".into(), a));
    assert_eq!(start(target("a", "t")), Duration::from_secs(1));
    assert_eq!(start(target("b", "t")), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn at_most_parallelism_operations_at_once_longest_chain_first() {
    // Six independent repositories and one gateway with a target; two at a
    // time. The gateway (work waits on it) goes first.
    let mut changes: Vec<Change> = (0..6)
        .map(|i| {
            create(
                Address::Repository(format!("r{i}")),
                vec![],
                repo(&format!("p/r{i}")),
            )
        })
        .collect();
    changes.extend(
        two_gateways()
            .changes
            .into_iter()
            .filter(|c| c.addr == gw("b") || c.addr == target("b", "t")),
    );
    let cloud = MemoryCloud::new();
    let stop = Stop::default();
    let exec = Executor {
        parallelism: 2,
        ..executor(&cloud, &stop)
    };
    let out = exec.apply(&plan_of(changes)).await;
    assert!(out.ok(), "{:?}", out.failed);
    assert_eq!(out.done.len(), 8);
    assert_eq!(cloud.max_in_flight(), 2);
    assert_eq!(
        cloud.order()[0],
        Event::Start("create".into(), gw("b")),
        "{:?}",
        cloud.order()
    );
    // Eight one-second operations, two at a time: four seconds.
    let last = cloud
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    assert_eq!(last, Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn a_gateway_is_deleted_once_its_own_targets_are_gone() {
    let cloud = MemoryCloud::new();
    cloud
        .takes
        .lock()
        .unwrap()
        .insert(target("b", "t"), Duration::from_secs(5));
    let plan = plan_of(vec![
        delete(gw("a"), gateway_config("p-a", "".into())),
        delete(target("a", "t"), target_config("p-a", "t")),
        delete(gw("b"), gateway_config("p-b", "".into())),
        delete(target("b", "t"), target_config("p-b", "t")),
        delete(Address::Repository("r".into()), repo("p/r")),
    ]);
    let out = executor(&cloud, &Stop::default()).destroy(&plan).await;
    assert!(out.ok(), "{:?}", out.failed);
    let started = |a: Address| cloud.time_of(&Event::Start("delete".into(), a));
    assert_eq!(
        started(gw("a")),
        Duration::from_secs(1),
        "not held up by b's target"
    );
    assert_eq!(started(gw("b")), Duration::from_secs(5));
    // Functions and repositories wait for every gateway and target.
    assert_eq!(
        started(Address::Repository("r".into())),
        Duration::from_secs(6)
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_values_are_filled_in_from_what_was_just_created() {
    let rt = Address::Runtime("rt".into());
    let e = Address::RuntimeEndpoint {
        runtime: "rt".into(),
        endpoint: "e".into(),
    };
    let version = Resolved::Unknown(Template(vec![Part::Ref(Ref {
        addr: rt.clone(),
        attr: Attr::Version,
    })]));
    let plan = plan_of(vec![
        create(rt.clone(), vec![], repo("runtime-stand-in")),
        create(e.clone(), vec![rt.clone()], endpoint_config(version)),
    ]);
    let cloud = MemoryCloud::new();
    let out = executor(&cloud, &Stop::default()).apply(&plan).await;
    assert!(out.ok(), "{:?}", out.failed);
    let Config::Endpoint(sent) = &cloud.sent.lock().unwrap()[&e] else {
        panic!("not an endpoint")
    };
    assert_eq!(sent.version, Resolved::Known("1".into()));
}

#[tokio::test(start_paused = true)]
async fn first_failure_stops_new_work_and_in_flight_work_finishes() {
    let cloud = MemoryCloud::new();
    cloud.fail_once.lock().unwrap().push(gw("a"));
    let mut plan = two_gateways();
    plan.changes
        .push(delete(Address::Repository("old".into()), repo("p/old")));
    let out = executor(&cloud, &Stop::default()).apply(&plan).await;
    assert!(!out.ok());
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].0, gw("a"));
    // Gateway b was in flight when a failed: it finished.
    assert_eq!(out.done, vec![(gw("b"), "created")]);
    // Nothing new started: both targets and the delete are reported.
    let mut not_started = out.not_started.clone();
    not_started.sort();
    assert_eq!(
        not_started,
        vec![
            Address::Repository("old".into()),
            target("a", "t"),
            target("b", "t")
        ]
    );
    assert!(
        !cloud.order().iter().any(
            |e| matches!(e, Event::Start(_, a) if a.kind() == crate::model::Kind::GatewayTarget)
        )
    );

    // A re-run after the failure (same plan: creates adopt what exists)
    // converges.
    let again = executor(&cloud, &Stop::default()).apply(&plan).await;
    assert!(again.ok(), "{:?}", again.failed);
    let have: Vec<Address> = cloud.resources.lock().unwrap().keys().cloned().collect();
    assert_eq!(
        have,
        vec![gw("a"), gw("b"), target("a", "t"), target("b", "t")]
    );
}

#[tokio::test(start_paused = true)]
async fn deletes_go_dependents_first_and_replacements_delete_before_create() {
    let cloud = MemoryCloud::new();
    let (g, t) = (gw("a"), target("a", "t"));
    let tcfg = target_config("p-a", "t");
    let plan = plan_of(vec![
        delete(g.clone(), gateway_config("p-a", "".into())),
        delete(t.clone(), tcfg),
        delete(Address::Repository("r".into()), repo("p/r")),
    ]);
    let out = executor(&cloud, &Stop::default()).destroy(&plan).await;
    assert!(out.ok(), "{:?}", out.failed);
    let ended = |a: &Address| cloud.time_of(&Event::End("delete".into(), a.clone()));
    let started = |a: &Address| cloud.time_of(&Event::Start("delete".into(), a.clone()));
    assert!(ended(&t) <= started(&g), "{:?}", cloud.order());
    assert!(ended(&g) <= started(&Address::Repository("r".into())));

    // Replace: the old one goes first, then the new one is created.
    let cloud = MemoryCloud::new();
    let mut replace = create(g.clone(), vec![], gateway_config("p-a", "".into()));
    replace.action = Action::Replace;
    replace.observed = Some(observed(&g, gateway_config("p-a", "".into())));
    let out = executor(&cloud, &Stop::default())
        .apply(&plan_of(vec![replace]))
        .await;
    assert!(out.ok(), "{:?}", out.failed);
    assert_eq!(
        cloud.order(),
        vec![
            Event::Start("delete".into(), g.clone()),
            Event::End("delete".into(), g.clone()),
            Event::Start("create".into(), g.clone()),
            Event::End("create".into(), g.clone()),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_value_that_cannot_be_filled_in_fails_that_resource_only() {
    let e = Address::RuntimeEndpoint {
        runtime: "rt".into(),
        endpoint: "e".into(),
    };
    let version = Resolved::Unknown(Template(vec![Part::Ref(Ref {
        addr: Address::Runtime("rt".into()),
        attr: Attr::Version,
    })]));
    // The endpoint does not depend on its runtime in this (broken) plan:
    // the executor refuses to send an unknown value rather than guess.
    let plan = plan_of(vec![create(e.clone(), vec![], endpoint_config(version))]);
    let cloud = MemoryCloud::new();
    let out = executor(&cloud, &Stop::default()).apply(&plan).await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0]
            .1
            .contains("still has unknown values in version"),
        "{}",
        out.failed[0].1
    );
    assert!(cloud.order().is_empty());
    let _ = NoProgress;
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_starts_nothing_new_and_lets_in_flight_work_finish() {
    let cloud = MemoryCloud::new();
    let stop = Stop::default();
    let exec = executor(&cloud, &stop);
    // Asked to stop half a second in, while both gateways are in flight.
    let plan = two_gateways();
    let (out, ()) = futures::join!(exec.apply(&plan), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!stop.request());
    });
    assert!(out.stopped && !out.ok());
    assert!(out.failed.is_empty());
    assert_eq!(out.done, vec![(gw("a"), "created"), (gw("b"), "created")]);
    let mut not_started = out.not_started.clone();
    not_started.sort();
    assert_eq!(not_started, vec![target("a", "t"), target("b", "t")]);
    assert_eq!(cloud.max_in_flight(), 2);

    // Stopped before it starts: nothing at all.
    let cloud = MemoryCloud::new();
    let stop = Stop::default();
    stop.request();
    let out = executor(&cloud, &stop).apply(&two_gateways()).await;
    assert!(out.stopped);
    assert_eq!(out.not_started.len(), 4);
    assert!(cloud.order().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_resource_left_creating_is_waited_for_before_its_dependents() {
    let cloud = MemoryCloud::new();
    cloud
        .resources
        .lock()
        .unwrap()
        .insert(gw("a"), Ids::default());
    let mut wait = create(gw("a"), vec![], gateway_config("p-a", "".into()));
    wait.action = Action::Wait;
    wait.observed = Some(observed(&gw("a"), gateway_config("p-a", "".into())));
    let t = target_config("p-a", "t");
    let plan = plan_of(vec![wait, create(target("a", "t"), vec![gw("a")], t)]);
    let out = executor(&cloud, &Stop::default()).apply(&plan).await;
    assert!(out.ok(), "{:?}", out.failed);
    assert_eq!(
        out.done,
        vec![(gw("a"), "ready"), (target("a", "t"), "created")]
    );
    assert_eq!(
        cloud.order(),
        vec![
            Event::Start("wait".into(), gw("a")),
            Event::End("wait".into(), gw("a")),
            Event::Start("create".into(), target("a", "t")),
            Event::End("create".into(), target("a", "t")),
        ]
    );
}
