//! Runtime endpoints and unknown values in plans.

use super::*;
use crate::model::{Address, Config, Kind, Observed, Owner};
use crate::plan::desired;
use crate::plan::{Action, Mode, diff, render};

fn with_endpoints(l: &LoadedSpec) -> LoadedSpec {
    let mut l = l.clone();
    let rt = l.spec.runtimes.get_mut("agent").unwrap();
    rt.endpoints.insert(
        "live".into(),
        Some(crate::spec::EndpointSpec {
            version: Some(crate::spec::EndpointVersion::Latest("latest".into())),
            description: None,
        }),
    );
    rt.endpoints.insert(
        "pinned".into(),
        Some(crate::spec::EndpointSpec {
            version: Some(crate::spec::EndpointVersion::Pinned(2)),
            description: Some("stays on 2".into()),
        }),
    );
    l
}

fn endpoint(name: &str) -> Address {
    Address::RuntimeEndpoint {
        runtime: "agent".into(),
        endpoint: name.into(),
    }
}

#[test]
fn endpoints_follow_latest_or_stay_pinned() {
    let l = with_endpoints(&example());
    // A matching account: the runtime at version 3, `live` on 3, `pinned` on 2.
    let (known, observed) = applied(&l);
    let observed: Vec<Observed> = observed
        .into_iter()
        .map(|mut o| {
            if let Config::Endpoint(e) = &mut o.config {
                assert_eq!(
                    e.version.known(),
                    Some(if e.name == "live" { "3" } else { "2" })
                );
            }
            o.ids = ids_for(
                &Address::parse(&match &o.owner {
                    Owner::Ours(a) => a.to_string(),
                    Owner::OtherProject(_)
                    | Owner::OtherRegion(_)
                    | Owner::Foreign
                    | Owner::Unproven => unreachable!(),
                })
                .unwrap(),
            );
            o
        })
        .collect();
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert!(!p.has_changes(), "{}", render::plan(&p));

    // The runtime gets a new image: it is updated, so its next version is
    // unknown, and the endpoint following latest moves with it.
    let mut art = packages();
    art.image_digests
        .insert("agent".into(), format!("sha256:{}", "b".repeat(64)));
    let first = diff(
        &desired::build(&l, &account(), &art, &known),
        &observed,
        Mode::Apply,
    )
    .unwrap();
    assert_eq!(
        first
            .known
            .get(&Address::Runtime("agent".into()))
            .unwrap()
            .version,
        None
    );
    let p = diff(
        &desired::build(&l, &account(), &art, &first.known),
        &observed,
        Mode::Apply,
    )
    .unwrap();
    assert_eq!(
        p.get(&Address::Runtime("agent".into())).unwrap().action,
        Action::Update
    );
    let live = p.get(&endpoint("live")).unwrap();
    assert_eq!(live.action, Action::Update);
    assert_eq!(
        render::change(live),
        "  # runtime_endpoint.agent/live will be updated in place\n  ~ runtime_endpoint \"iam_auth_demo_agent/live\" {\n      ~ version = \"3\" -> (known after apply)\n    }\n"
    );
    assert_eq!(p.get(&endpoint("pinned")).unwrap().action, Action::NoOp);
    // The endpoint waits for the runtime's update, and the executor fills
    // the version in from the ids the update returns.
    let d = live.desired.as_ref().unwrap();
    assert!(d.deps.contains(&Address::Runtime("agent".into())));
    assert_eq!(d.config.unknown_fields(), vec!["version"]);
    let mut after = p.known.clone();
    after
        .get_mut(&Address::Runtime("agent".into()))
        .unwrap()
        .version = Some("4".into());
    let Config::Endpoint(e) = d.config.fill(&after) else {
        panic!()
    };
    assert_eq!(e.version.known(), Some("4"));
}

#[test]
fn destroy_deletes_endpoints_before_their_runtime_and_keeps_delete_options() {
    let mut l = with_endpoints(&example());
    l.spec.repositories.insert(
        "agent".into(),
        Some(crate::spec::RepositorySpec {
            force_delete: Some(true),
            ..Default::default()
        }),
    );
    let (known, observed) = applied(&l);
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Destroy).unwrap();
    assert!(
        p.changes
            .iter()
            .all(|c| c.action == Action::Delete && c.reason.is_none())
    );
    assert_eq!(p.changes.len(), observed.len());
    let rank = |a: &Address| a.kind().delete_rank();
    assert!(rank(&endpoint("live")) < rank(&Address::Runtime("agent".into())));
    assert!(
        p.get(&Address::Repository("agent".into()))
            .unwrap()
            .delete
            .force
    );
    assert!(
        !p.get(&Address::Gateway("main".into()))
            .unwrap()
            .delete
            .force
    );
}

#[test]
fn a_replaced_runtime_takes_its_endpoints_with_it() {
    let l = with_endpoints(&example());
    let (known, mut observed) = applied(&l);
    for o in &mut observed {
        if o.kind() == Kind::Runtime {
            o.status = Some("CREATE_FAILED".into());
        }
    }
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    let live = p.get(&endpoint("live")).unwrap();
    assert_eq!(live.action, Action::Replace);
    assert_eq!(
        live.reason.as_deref(),
        Some("its runtime `iam_auth_demo_agent` is replaced")
    );
}

#[test]
fn a_description_that_reads_like_an_unknown_is_just_text() {
    let mut l = example();
    l.spec.gateways.get_mut("main").unwrap().description = Some("(known after apply)".into());
    let (known, observed) = applied(&l);
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert!(!p.has_changes(), "{}", render::plan(&p));
    let gw = d
        .iter()
        .find(|x| x.addr == Address::Gateway("main".into()))
        .unwrap();
    assert!(gw.config.unknown_fields().is_empty());
    // Rendered quoted, unlike a real unknown.
    let text = render::plan(&diff(&d, &[], Mode::Apply).unwrap());
    assert!(
        text.contains("+ description     = \"(known after apply)\"\n"),
        "{text}"
    );
}

#[test]
fn json_plan_marks_unknowns_terraform_style() {
    let l = example();
    let d = desired::build(&l, &account(), &packages(), &Known::new());
    let p = diff(&d, &[], Mode::Apply).unwrap();
    let j = render::plan_json(&p);
    let rt = &j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "runtime.agent")
        .unwrap()["change"];
    assert_eq!(
        rt["after"]["environment"]["GATEWAY_URL"],
        serde_json::Value::Null
    );
    assert_eq!(rt["after_unknown"]["environment"]["GATEWAY_URL"], true);
    assert!(
        rt["after_unknown"]["environment"]
            .get("BEDROCK_MODEL_ID")
            .is_none()
    );
    assert_eq!(
        rt["after"]["environment"]["BEDROCK_MODEL_ID"],
        "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
}
