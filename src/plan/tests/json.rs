//! The JSON plan against its published schema, Terraform's action lists
//! for every kind of change, and saved plans (round trip, stale checks).

use super::*;
use crate::plan::render;
use crate::plan::saved::{Inputs, SavedPlan};

fn plan_schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../schema/plan.schema.json")).unwrap();
    jsonschema::validator_for(&schema).expect("plan schema compiles")
}

fn assert_valid(v: &serde_json::Value) {
    let errors: Vec<String> = plan_schema()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}

/// The example applied, then: the gateway's authorizer changed (replace
/// the gateway and its target; the runtime follows its new URL), and one
/// more repository in the account than in the spec (delete).
fn mixed_plan() -> Plan {
    let l = example();
    let (known, mut observed) = applied(&l);
    let repo = observed
        .iter()
        .find(|o| o.kind() == Kind::Repository)
        .unwrap()
        .clone();
    let mut old = repo.clone();
    old.owner = Owner::Ours(Address::Repository("old".into()));
    if let Config::Repository(c) = &mut old.config {
        c.name = "iam-auth-demo/old".into();
    }
    observed.push(old);
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
    diff(&d, &observed, Mode::Apply).unwrap()
}

fn by_address<'a>(j: &'a serde_json::Value, addr: &str) -> &'a serde_json::Value {
    j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == addr)
        .unwrap_or_else(|| panic!("no {addr} in {j:#}"))
}

#[test]
fn every_action_in_terraform_shape_and_valid_against_the_schema() {
    let p = mixed_plan();
    let j = render::plan_json(&p);
    assert_valid(&j);
    assert_eq!(j["format_version"], "1.0");
    let actions = |a: &str| by_address(&j, a)["change"]["actions"].clone();
    assert_eq!(
        actions("gateway.main"),
        serde_json::json!(["delete", "create"])
    );
    assert_eq!(
        by_address(&j, "gateway.main")["change"]["replace_paths"],
        serde_json::json!([["authorizer_type"]])
    );
    assert_eq!(
        by_address(&j, "gateway.main")["action_reason"],
        "replace_because_cannot_update"
    );
    assert_eq!(actions("runtime.agent"), serde_json::json!(["update"]));
    assert_eq!(
        by_address(&j, "runtime.agent")["change"]["after_unknown"]["environment"]["GATEWAY_URL"],
        true
    );
    assert_eq!(actions("ecr_repository.old"), serde_json::json!(["delete"]));
    let old = by_address(&j, "ecr_repository.old");
    assert_eq!(old["action_reason"], "delete_because_no_resource_config");
    assert_eq!(old["change"]["after"], serde_json::Value::Null);
    assert_eq!(old["change"]["before"]["name"], "iam-auth-demo/old");
    assert_eq!(
        actions("lambda_function.tools"),
        serde_json::json!(["no-op"])
    );
    let noop = &by_address(&j, "lambda_function.tools")["change"];
    assert_eq!(noop["before"], noop["after"]);
    assert_eq!(
        j["summary"],
        serde_json::json!({"add": 0, "change": 2, "replace": 2, "destroy": 1, "wait": 0})
    );

    // A create: an empty account.
    let l = example();
    let d = desired::build(&l, &account(), &packages(), &Known::new());
    let j = render::plan_json(&diff(&d, &[], Mode::Apply).unwrap());
    assert_valid(&j);
    let gw = &by_address(&j, "gateway.main")["change"];
    assert_eq!(gw["actions"], serde_json::json!(["create"]));
    assert_eq!(gw["before"], serde_json::Value::Null);
    assert_eq!(gw["after"]["name"], "iam-auth-demo-main");
}

#[test]
fn schema_rejects_what_it_should() {
    let mut j = render::plan_json(&mixed_plan());
    j["format_version"] = serde_json::json!(1);
    assert!(!plan_schema().is_valid(&j));
    let mut j = render::plan_json(&mixed_plan());
    j["resource_changes"][0]["change"]["actions"] = serde_json::json!(["replace"]);
    assert!(!plan_schema().is_valid(&j));
}

#[test]
fn text_plan_counts_each_kind_of_change_once() {
    let text = render::plan(&mixed_plan());
    assert!(
        text.ends_with("Plan: 0 to add, 2 to change, 2 to replace, 1 to destroy.\n"),
        "{text}"
    );
    for legend in [
        "  ~ update in place",
        "-/+ destroy and then create replacement",
        "  - destroy",
    ] {
        assert!(text.contains(legend), "{text}");
    }
    assert!(!text.contains("  + create\n"), "{text}");
}

fn inputs<'a>(l: &'a LoadedSpec, a: &'a Account, observed: &'a [Observed]) -> Inputs<'a> {
    Inputs {
        spec_path: "agentform.yaml",
        spec_source: &l.source,
        resolved_sha256: &l.resolved_sha256,
        account: a,
        observed,
    }
}

#[test]
fn saved_plan_round_trips_and_is_fresh_until_something_changes() {
    let l = example();
    let (_, observed) = applied(&l);
    let p = mixed_plan();
    let a = account();
    let saved = SavedPlan::new(&p, &inputs(&l, &a, &observed));
    let back = SavedPlan::parse(&saved.to_text()).unwrap();
    // Everything but the function code (packaged again at apply) survives.
    assert!(back.to_text() == saved.to_text());
    assert!(
        back.plan
            .changes
            .iter()
            .all(|c| match c.desired.as_ref().map(|d| &d.config) {
                Some(Config::Function(f)) => f.code.is_none() && f.code_sha256 == "SHA-A",
                _ => true,
            })
    );
    let filled = back.with_code_of(&p);
    assert!(filled == p, "with_code_of restores the plan exactly");
    assert!(back.stale(&inputs(&l, &a, &observed), &p).is_empty());

    // A resource changed out of band.
    let mut drifted = observed.clone();
    if let Config::Function(f) = &mut drifted
        .iter_mut()
        .find(|o| o.kind() == Kind::Function)
        .unwrap()
        .config
    {
        f.memory = 1024;
    }
    let why = back.stale(&inputs(&l, &a, &drifted), &p);
    assert_eq!(
        why,
        ["lambda_function iam-auth-demo-tools changed in the account"]
    );

    // One gone, the spec edited, another account.
    let fewer = &observed[1..];
    assert!(
        back.stale(&inputs(&l, &a, fewer), &p)[0].ends_with("is gone from the account"),
        "{:?}",
        back.stale(&inputs(&l, &a, fewer), &p)
    );
    let mut edited = l.clone();
    edited.source.push_str("\n# a comment\n");
    assert_eq!(
        back.stale(&inputs(&edited, &a, &observed), &p),
        ["agentform.yaml changed since the plan was made (it was agentform.yaml then)"]
    );
    let other = Account {
        id: "999999999999".into(),
        ..a.clone()
    };
    assert!(back.stale(&inputs(&l, &other, &observed), &p)[0].contains("account 999999999999"));

    // Same inputs, different artifacts: the fresh plan differs.
    let mut fresh = p.clone();
    if let Some(Config::Function(f)) = fresh
        .changes
        .iter_mut()
        .find(|c| c.addr.kind() == Kind::Function)
        .and_then(|c| c.desired.as_mut())
        .map(|d| &mut d.config)
    {
        f.code_sha256 = "SHA-B".into();
    }
    assert_eq!(
        back.stale(&inputs(&l, &a, &observed), &fresh),
        ["lambda_function.tools would be planned differently now"]
    );
}

#[test]
fn saved_plans_of_another_version_or_shape_are_refused() {
    assert!(
        SavedPlan::parse("{}")
            .unwrap_err()
            .contains("not an agentform plan file")
    );
    assert!(
        SavedPlan::parse("garbage")
            .unwrap_err()
            .contains("not JSON")
    );
    let old = r#"{"format": "agentform-plan", "version": 1, "agentform_version": "0.0.1"}"#;
    assert!(
        SavedPlan::parse(old)
            .unwrap_err()
            .contains("made by agentform 0.0.1")
    );
}

#[test]
fn text_plan_of_every_kind_of_change() {
    insta::assert_snapshot!("mixed_plan", render::plan(&mixed_plan()));
    insta::assert_snapshot!(
        "mixed_plan_full",
        render::plan_with(&mixed_plan(), render::Style { full: true })
    );
    let l = example();
    let (known, observed) = applied(&l);
    let d = desired::build(&l, &account(), &packages(), &known);
    insta::assert_snapshot!(
        "no_op_plan",
        render::plan(&diff(&d, &observed, Mode::Apply).unwrap())
    );
}
