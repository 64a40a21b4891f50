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

/// The reference example with its runtime on a pushed ECR image (the
/// example itself deploys a code bundle; these tests are about images,
/// roles and plans of the image-based stack), written to a temporary
/// directory with its sources made absolute.
fn example() -> LoadedSpec {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("examples/iam-gateway/agentform.yaml"))
        .expect("the example spec");
    let text = reference_image::image_variant(&text)
        .replace("source: ../../", &format!("source: {}/", root.display()));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agentform.yaml");
    std::fs::write(&path, text).expect("writing the spec");
    crate::spec::load(&path, &crate::spec::VarOverrides::new())
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
        bundles: BTreeMap::new(),
        builds: BTreeMap::new(),
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
        | Address::Bucket(_)
        | Address::Memory(_)
        | Address::Function(_)
        | Address::ApiKeyProvider(_)
        | Address::OAuthProvider(_)
        | Address::PolicyEngine(_)
        | Address::Policy { .. }
        | Address::UserPool(_)
        | Address::M2mClient { .. }
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
        text.ends_with("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.\n"),
        "{text}"
    );
    // The runtime's GATEWAY_URL is not known before the gateway exists.
    assert!(
        text.contains("\"GATEWAY_URL\"      = (known after apply)\n"),
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
              ~ "BEDROCK_MODEL_ID" = "us.anthropic.claude-haiku-4-5-20251001-v1:0" -> "other-model"
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
        text.contains("= \"AWS_IAM\" -> \"CUSTOM_JWT\" # forces replacement")
            && text.contains("~ authorizer_type "),
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
        "iam_role `iam-auth-demo-use1-gw-main` (wanted for iam_role.gw-main) already exists but was not created by this project (it has no agentform ownership tags); refusing to touch it. Rename the resource in the spec, remove the existing one, or take it into this project with `agentform import iam_role.gw-main ID`"
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

mod bad_days;
mod endpoints;
mod iam;
mod json;
#[path = "../../../tests/shared/reference_image.rs"]
mod reference_image;
mod sensitive;
