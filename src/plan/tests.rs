//! Planner and renderer tests on the example spec, with observed state made
//! up from the desired one (an account that matches), then perturbed.

use std::collections::BTreeMap;
use std::path::Path;

use super::desired;
use super::*;
use crate::model::Known;
use crate::model::{Account, Address, Config, Ids, Kind, Observed, Owner, RoleOwner, Val};
use crate::package::Package;
use crate::spec::LoadedSpec;

fn account() -> Account {
    Account {
        id: "123456789012".into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
    }
}

fn example() -> LoadedSpec {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iam-gateway");
    crate::spec::load(&dir.join("agentform.yaml"), &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn packages() -> desired::Artifacts {
    desired::Artifacts {
        packages: BTreeMap::from([(
            "tools".to_string(),
            Package {
                zip: vec![1, 2, 3],
                sha256: "SHA-A".into(),
            },
        )]),
        image_digests: BTreeMap::new(),
    }
}

fn ids_for(addr: &Address) -> Ids {
    match addr {
        Address::Gateway(name) => Ids {
            arn: Some(format!(
                "arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/{name}-abcdefghij"
            )),
            id: Some(format!("{name}-abcdefghij")),
            url: Some(format!(
                "https://{name}-abcdefghij.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp"
            )),
            version: None,
        },
        Address::Runtime(_) => Ids {
            arn: Some(
                "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/x-0123456789".into(),
            ),
            id: Some("x-0123456789".into()),
            url: None,
            version: Some("3".into()),
        },
        Address::RuntimeEndpoint { endpoint, .. } => Ids {
            arn: Some(format!(
                "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/x-0123456789/runtime-endpoint/{endpoint}"
            )),
            id: Some(format!("{endpoint}-id")),
            url: None,
            version: None,
        },
        Address::Role(..)
        | Address::RolePolicy(..)
        | Address::Repository(_)
        | Address::Function(_)
        | Address::GatewayTarget { .. } => Ids::default(),
    }
}

/// The account as it would be after a perfect apply of `spec`.
fn applied(l: &LoadedSpec) -> (Known, Vec<Observed>) {
    let a = account();
    let first = desired::build(l, &a, &packages(), &Known::new());
    let known: Known = first
        .iter()
        .map(|d| (d.addr.clone(), ids_for(&d.addr)))
        .collect();
    let observed = as_applied(&desired::build(l, &a, &packages(), &known), ids_for);
    (known, observed)
}

#[test]
fn empty_account_creates_everything() {
    let l = example();
    let d = desired::build(&l, &account(), &packages(), &Known::new());
    let p = diff(&d, &[], Mode::Apply).unwrap();
    // 3 roles + 3 policies + function + repository + gateway + target + runtime.
    assert_eq!(p.counts(), (11, 0, 0));
    let text = render::plan(&p);
    assert!(
        text.ends_with("Plan: 11 to add, 0 to change, 0 to destroy.\n"),
        "{text}"
    );
    // The runtime's GATEWAY_URL is not known before the gateway exists.
    assert!(
        text.contains("\"GATEWAY_URL\": (known after apply)\n"),
        "{text}"
    );
}

#[test]
fn matching_account_plans_no_changes() {
    let l = example();
    let (known, observed) = applied(&l);
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert!(!p.has_changes(), "{}", render::plan(&p));
    assert_eq!(
        render::plan(&p),
        "No changes. The account matches the spec.\n"
    );
}

#[test]
fn changed_code_and_env_are_field_updates() {
    let l = example();
    let (known, observed) = applied(&l);
    let mut pk = packages();
    pk.packages.get_mut("tools").unwrap().sha256 = "SHA-B".into();
    let mut l2 = l.clone();
    l2.spec
        .runtimes
        .get_mut("agent")
        .unwrap()
        .environment
        .insert("BEDROCK_MODEL_ID".into(), "other-model".into());
    let d = desired::build(&l2, &account(), &pk, &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert_eq!(p.counts(), (0, 2, 0));
    let f = p.get(&Address::Function("tools".into())).unwrap();
    assert_eq!(f.action, Action::Update);
    assert_eq!(
        f.fields
            .iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>(),
        vec!["code_sha256"]
    );
    let text = render::change(p.get(&Address::Runtime("agent".into())).unwrap());
    insta::assert_snapshot!(text, @r#"
      # runtime.agent will be updated in place
      ~ runtime "iam_auth_demo_agent" {
          ~ environment = {
              ~ BEDROCK_MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0" -> "other-model"
            }
        }
    "#);
}

#[test]
fn authorizer_change_replaces_gateway_and_its_targets() {
    let l = example();
    let (known, observed) = applied(&l);
    let mut l2 = l.clone();
    l2.spec.gateways.get_mut("main").unwrap().authorizer = crate::spec::AuthorizerSpec::CustomJwt {
        custom_jwt: crate::spec::CustomJwtSpec {
            discovery_url: "https://idp.example.com/.well-known/openid-configuration".into(),
            allowed_audiences: vec!["agents".into()],
            allowed_clients: vec![],
            allowed_scopes: vec![],
        },
    };
    let mut known2 = known.clone();
    known2.remove(&Address::Gateway("main".into()));
    let d = desired::build(&l2, &account(), &packages(), &known2);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    let g = p.get(&Address::Gateway("main".into())).unwrap();
    assert_eq!(g.action, Action::Replace);
    assert_eq!(
        g.reason.as_deref(),
        Some("`authorizer_type` cannot be changed in place")
    );
    let t = p
        .get(&Address::GatewayTarget {
            gateway: "main".into(),
            target: "lambda-target".into(),
        })
        .unwrap();
    assert_eq!(t.action, Action::Replace);
    let text = render::change(g);
    assert!(
        text.contains("-/+ gateway \"iam-auth-demo-main\" {"),
        "{text}"
    );
    assert!(
        text.contains("~ authorizer_type = \"AWS_IAM\" -> \"CUSTOM_JWT\" # forces replacement"),
        "{text}"
    );
    // The runtime role's InvokeGateway grant and GATEWAY_URL follow the new gateway.
    let rp = p
        .get(&Address::RolePolicy(RoleOwner::Runtime, "agent".into()))
        .unwrap();
    assert_eq!(rp.action, Action::Update);
}

#[test]
fn removed_resources_are_deleted_and_foreign_ones_refused() {
    let l = example();
    let (_, mut observed) = applied(&l);
    // Drop the runtime from the spec: runtime, its role and policy go.
    let mut l2 = l.clone();
    l2.spec.runtimes.clear();
    l2.spec.outputs.remove("runtime_endpoint");
    let d = desired::build(
        &l2,
        &account(),
        &packages(),
        &crate::plan::known_ids(&observed),
    );
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert_eq!(p.counts(), (0, 0, 3));
    assert!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .all(|c| c.reason.as_deref() == Some("not in the spec"))
    );

    // A same-named role without our tags: refuse, name it.
    for o in &mut observed {
        if o.kind() == Kind::Role && o.name() == "iam-auth-demo-use1-gw-main" {
            o.owner = Owner::Foreign;
        }
    }
    let d = desired::build(
        &l,
        &account(),
        &packages(),
        &crate::plan::known_ids(&observed),
    );
    let err = diff(&d, &observed, Mode::Apply).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(
        err[0].to_string(),
        "iam_role `iam-auth-demo-use1-gw-main` (wanted for iam_role.gw-main) already exists but was not created by this project (it has no agentform ownership tags); refusing to touch it. Rename the resource in the spec or remove the existing one"
    );
}

#[test]
fn failed_runtime_is_replaced_with_reason() {
    let l = example();
    let (known, mut observed) = applied(&l);
    for o in &mut observed {
        if o.kind() == Kind::Runtime {
            o.status = Some("CREATE_FAILED".into());
            o.status_reasons = vec!["image not found".into()];
        }
    }
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    let r = p.get(&Address::Runtime("agent".into())).unwrap();
    assert_eq!(r.action, Action::Replace);
    assert_eq!(
        r.reason.as_deref(),
        Some("status is CREATE_FAILED: image not found")
    );
}

#[test]
fn derived_iam_is_least_privilege() {
    let l = example();
    let (known, _) = applied(&l);
    let d = desired::build(&l, &account(), &packages(), &known);
    let policy = |addr: Address| {
        let Config::RolePolicy(p) = &d.iter().find(|x| x.addr == addr).unwrap().config else {
            panic!("{addr} is not a policy")
        };
        p.document.to_json().expect("known")
    };
    let gw = policy(Address::RolePolicy(RoleOwner::Gateway, "main".into()));
    assert_eq!(
        gw["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:lambda:us-east-1:123456789012:function:iam-auth-demo-tools",
            "arn:aws:lambda:us-east-1:123456789012:function:iam-auth-demo-tools:*"
        ])
    );
    let rt = policy(Address::RolePolicy(RoleOwner::Runtime, "agent".into()));
    let invoke: Vec<&serde_json::Value> = rt["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"] == "bedrock-agentcore:InvokeGateway")
        .collect();
    assert_eq!(invoke.len(), 1);
    assert_eq!(
        invoke[0]["Resource"],
        serde_json::json!([
            "arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/main-abcdefghij"
        ])
    );
    let ecr: Vec<&serde_json::Value> = rt["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Sid"] == "ECRImageAccess")
        .collect();
    assert_eq!(
        ecr[0]["Resource"],
        "arn:aws:ecr:us-east-1:123456789012:repository/iam-auth-demo/agent"
    );
    let gw_role = Address::Role(RoleOwner::Gateway, "main".into());
    let Config::Role(role) = &d.iter().find(|x| x.addr == gw_role).unwrap().config else {
        panic!("not a role")
    };
    let trust = role.trust_policy.clone();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "bedrock-agentcore.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        "123456789012"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/*"
    );
}

#[test]
fn a_new_image_under_the_same_tag_updates_the_runtime() {
    let l = example();
    let (known, observed) = applied(&l);
    let mut art = packages();
    art.image_digests
        .insert("agent".into(), format!("sha256:{}", "a".repeat(64)));
    let d = desired::build(&l, &account(), &art, &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert_eq!(p.counts(), (0, 1, 0));
    let r = p.get(&Address::Runtime("agent".into())).unwrap();
    assert_eq!(r.fields.len(), 1);
    assert_eq!(r.fields[0].field, "container_uri");
    assert_eq!(
        r.fields[0].after,
        Some(Val::Str(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/iam-auth-demo/agent:latest@sha256:{}",
            "a".repeat(64)
        )))
    );
}

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
        text.contains("+ description = \"(known after apply)\"\n"),
        "{text}"
    );
}

#[test]
fn json_plan_marks_unknowns_terraform_style() {
    let l = example();
    let d = desired::build(&l, &account(), &packages(), &Known::new());
    let p = diff(&d, &[], Mode::Apply).unwrap();
    let j = render::plan_json(&p);
    let rt = j["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "runtime.agent")
        .unwrap();
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

#[test]
fn not_ready_is_work_to_wait_for_and_failed_is_work_to_fix() {
    let l = example();
    let (known, mut observed) = applied(&l);
    for o in &mut observed {
        match o.kind() {
            Kind::Gateway => o.status = Some("CREATING".into()),
            Kind::GatewayTarget => {
                o.status = Some("UPDATE_FAILED".into());
                o.status_reasons = vec!["Lambda not reachable".into()];
            }
            Kind::Runtime => o.status = Some("DELETING".into()),
            Kind::Role
            | Kind::RolePolicy
            | Kind::Repository
            | Kind::Function
            | Kind::RuntimeEndpoint => {}
        }
    }
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    assert!(p.has_changes());
    let gw = p.get(&Address::Gateway("main".into())).unwrap();
    assert_eq!(gw.action, Action::Wait);
    assert_eq!(
        render::change(gw),
        "  # gateway.main will be waited for (status is CREATING: apply waits until it is ready)\n  = gateway \"iam-auth-demo-main\" {\n    }\n"
    );
    let t = p
        .get(&Address::GatewayTarget {
            gateway: "main".into(),
            target: "lambda-target".into(),
        })
        .unwrap();
    assert_eq!(t.action, Action::Update);
    assert_eq!(
        t.reason.as_deref(),
        Some(
            "last update failed (status UPDATE_FAILED: Lambda not reachable); sending the configuration again"
        )
    );
    let rt = p.get(&Address::Runtime("agent".into())).unwrap();
    assert_eq!(rt.action, Action::Replace);
    // The ids of the gateway stay known: waiting does not change them.
    assert!(p.known.contains_key(&Address::Gateway("main".into())));
    let text = render::plan(&p);
    assert!(
        text.ends_with("Plan: 1 to add, 1 to change, 1 to destroy, 1 to wait for.\n"),
        "{text}"
    );
    assert_eq!(render::plan_json(&p)["summary"]["wait"], 1);
}

#[test]
fn twins_keep_one_survivor_everywhere_and_the_rest_go() {
    let l = example();
    let (known, mut observed) = applied(&l);
    // A twin of the gateway (same name and tags, another id) with a twin of
    // its target, as a concurrent run or another tool could leave.
    let gw = observed
        .iter()
        .find(|o| o.kind() == Kind::Gateway)
        .unwrap()
        .clone();
    let target = observed
        .iter()
        .find(|o| o.kind() == Kind::GatewayTarget)
        .unwrap()
        .clone();
    let mut twin = gw.clone();
    twin.ids = Ids {
        id: Some("zz-twin".into()),
        arn: Some("arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/zz-twin".into()),
        url: Some("https://zz-twin.gateway/mcp".into()),
        version: None,
    };
    let mut twin_target = target.clone();
    twin_target.parent_ids = twin.ids.clone();
    twin_target.ids.id = Some("twin-target".into());
    // The twin's target is listed first: it must still not be matched.
    observed.insert(0, twin_target);
    observed.push(twin);
    observed.sort_by(|a, b| {
        (a.kind(), a.parent(), a.name(), &a.ids.id).cmp(&(
            b.kind(),
            b.parent(),
            b.name(),
            &b.ids.id,
        ))
    });

    let ids = known_ids(&observed);
    assert_eq!(
        ids[&Address::Gateway("main".into())].id.as_deref(),
        Some("main-abcdefghij")
    );
    let d = desired::build(&l, &account(), &packages(), &ids);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    let deletes: Vec<(String, Option<String>)> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| {
            (
                c.addr.to_string(),
                c.observed.as_ref().unwrap().ids.id.clone(),
            )
        })
        .collect();
    assert_eq!(
        deletes,
        [
            ("gateway.main".to_string(), Some("zz-twin".to_string())),
            (
                "gateway_target.main/lambda-target".to_string(),
                Some("twin-target".to_string())
            ),
        ]
    );
    assert!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .all(|c| c.reason.as_deref() == Some("duplicate of the resource the spec manages"))
    );
    // Everything else matches the survivor: nothing to change.
    assert_eq!(p.counts(), (0, 0, 2), "{}", render::plan(&p));
    let _ = known;
}

/// The account as agentform 0.1 left it: roles named without the region
/// and without the region tag.
fn legacy(observed: Vec<Observed>) -> Vec<Observed> {
    let rename = |n: &str| n.replace("-use1-", "-");
    observed
        .into_iter()
        .map(|mut o| {
            match &mut o.config {
                Config::Role(r) => {
                    r.name = rename(&r.name);
                    r.tags.remove(crate::names::TAG_REGION);
                }
                Config::RolePolicy(p) => p.role = rename(&p.role),
                Config::Function(f) => f.role_arn = rename(&f.role_arn),
                Config::Gateway(g) => g.role_arn = rename(&g.role_arn),
                Config::Runtime(r) => r.role_arn = rename(&r.role_arn),
                Config::Repository(_) | Config::Target(_) | Config::Endpoint(_) => {}
            }
            o
        })
        .collect()
}

#[test]
fn roles_of_agentform_0_1_migrate_in_their_region_and_are_left_alone_elsewhere() {
    let l = example();
    let (known, observed) = applied(&l);
    let observed = legacy(observed);
    let d = desired::build(&l, &account(), &packages(), &known);
    let p = diff(&d, &observed, Mode::Apply).unwrap();
    // New roles and policies; the users move to them; the old ones go.
    assert_eq!(p.counts(), (6, 3, 6), "{}", render::plan(&p));
    let old = p
        .changes
        .iter()
        .find(|c| {
            c.action == Action::Delete && c.addr == Address::Role(RoleOwner::Gateway, "main".into())
        })
        .unwrap();
    assert_eq!(old.name(), "iam-auth-demo-gw-main");
    assert_eq!(
        old.reason.as_deref(),
        Some("renamed: the spec's name for it is now `iam-auth-demo-use1-gw-main`")
    );
    assert!(p.notes.is_empty());

    // In a region where that stack is not, the old roles are not touched.
    let roles_only: Vec<Observed> = observed
        .into_iter()
        .filter(|o| matches!(o.kind(), Kind::Role | Kind::RolePolicy))
        .collect();
    let p = diff(&[], &roles_only, Mode::Destroy).unwrap();
    assert!(p.changes.is_empty(), "{}", render::plan(&p));
    assert_eq!(p.notes.len(), 6);
    assert!(
        p.notes[0].contains("has agentform 0.1's name (no region)"),
        "{:?}",
        p.notes
    );
}
