//! Plans for accounts left in a bad state: resources not ready or failed,
//! twins, and roles from before names carried the region.

use super::*;
use crate::model::{Address, Config, Ids, Kind, Observed, RoleOwner};
use crate::plan::desired;
use crate::plan::{Action, Mode, diff, known_ids, render};

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
            | Kind::Bucket
            | Kind::Memory
            | Kind::Function
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine
            | Kind::Policy
            | Kind::UserPool
            | Kind::M2mClient
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
        text.ends_with("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy, 1 to wait for.\n"),
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
                Config::Repository(_)
                | Config::Bucket(_)
                | Config::Memory(_)
                | Config::Target(_)
                | Config::ApiKeyProvider(_)
                | Config::OAuthProvider(_)
                | Config::PolicyEngine(_)
                | Config::Policy(_)
                | Config::UserPool(_)
                | Config::M2mClient(_)
                | Config::Endpoint(_) => {}
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
