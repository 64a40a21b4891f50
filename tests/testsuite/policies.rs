//! Policy engines and their Cedar policies: an engine with a policy from a
//! `.cedar` file and one inline, both naming the gateway by
//! `${gateways.main.arn}`, attached to the gateway in ENFORCE mode; checked
//! through the SDK, re-planned empty, changed (the file edited, the mode
//! switched), a policy the service refuses (its findings reported, the next
//! apply converging once fixed), detached and deleted, destroyed. The
//! policy backend in tests/support checks every request against the
//! service model (its list of violations must stay empty), refuses to
//! delete an engine that still has policies or a gateway, and checks each
//! policy's tools against the gateway's targets as AgentCore does.

use crate::harness::{Sdk, Test, allowing, as_list, identity_violations, sdk};

const SPEC: &str = r#"version: 1
project: tpol
policy_engines:
  guard:
    description: Who may call what
    policies:
      calc-only:
        cedar: calc.cedar
        description: Anyone may add
      no-ping:
        cedar:
          inline: 'forbid(principal, action == AgentCore::Action::"calc___ping", resource == AgentCore::Gateway::"${gateways.main.arn}");'
        enforcement: log_only
gateways:
  main:
    authorizer: aws_iam
    policy_engine: guard
    targets:
      calc:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:calc
        tools:
          - { name: add_numbers, description: Adds, input: { type: object } }
          - { name: ping, description: Pong, input: { type: object } }
"#;

const CALC: &str = "// Anyone may add numbers through the main gateway.\npermit(\n  principal,\n  action == AgentCore::Action::\"calc___add_numbers\",\n  resource == AgentCore::Gateway::\"${gateways.main.arn}\"\n);\n";

/// name -> (statement, enforcement mode, status)
async fn policies(
    sdk: &Sdk,
    engine_id: &str,
) -> std::collections::BTreeMap<String, (String, String, String)> {
    sdk.cedar_policies(engine_id)
        .await
        .into_iter()
        .map(|(name, (statement, p))| {
            let (mode, status) = (p.enforcement_mode().as_str(), p.status().as_str());
            (name, (statement, mode.to_string(), status.to_string()))
        })
        .collect()
}

/// The gateway's policy engine configuration: (engine ARN, mode).
async fn attached(sdk: &Sdk) -> Option<(String, String)> {
    let ids = sdk.gateways_named("tpol-main").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    sdk.gateway_policy_engine(&ids[0]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_engines_and_cedar_policies_converge() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    t.write("calc.cedar", CALC);
    let sdk = sdk().await;
    let account = sdk.account_id().await;

    t.run(&["validate"]).expect_ok();
    let plan = t.run(&["plan"]).expect_ok();
    for needle in [
        "policy_engine.guard will be created",
        "policy.guard/calc-only will be created",
        "policy.guard/no-ping will be created",
        "statement        = Cedar, 6 lines, ${...} known after apply:",
        "        action == AgentCore::Action::\"calc___add_numbers\",",
        "        resource == AgentCore::Gateway::\"${gateway.main.arn}\"",
    ] {
        assert!(plan.stdout.contains(needle), "missing {needle:?}:\n{plan}");
    }
    t.run(&["apply", "--auto-approve"]).expect_ok();

    // The engine, tagged; the gateway uses it; its policies name the gateway.
    let (eid, earn) = sdk
        .policy_engine_named("tpol_guard")
        .await
        .expect("the engine");
    let tags = sdk.agentcore_tags(&earn).await;
    assert_eq!(
        tags.get("agentform:resource").map(String::as_str),
        Some("policy_engine.guard")
    );
    assert_eq!(attached(&sdk).await, Some((earn.clone(), "ENFORCE".into())));
    let gid = &sdk.gateways_named("tpol-main").await[0];
    let garn = format!("arn:aws:bedrock-agentcore:us-east-1:{account}:gateway/{gid}");
    let p = policies(&sdk, &eid).await;
    let names: Vec<&str> = p.keys().map(String::as_str).collect();
    assert_eq!(names, ["tpol_guard_calc_only", "tpol_guard_no_ping"]);
    let (calc, mode, status) = &p["tpol_guard_calc_only"];
    assert_eq!(calc, &CALC.replace("${gateways.main.arn}", &garn));
    assert_eq!((mode.as_str(), status.as_str()), ("ACTIVE", "ACTIVE"));
    let (ping, mode, _) = &p["tpol_guard_no_ping"];
    assert!(
        ping.contains(&format!("AgentCore::Gateway::\"{garn}\"")),
        "{ping}"
    );
    assert_eq!(mode, "LOG_ONLY");

    // The gateway's role may have the engine decide, on exactly that engine
    // and the gateway.
    let roles = sdk.role_names_under("/agentform/tpol/").await;
    let gw_role = roles
        .iter()
        .find(|r| r.contains("gw-main"))
        .expect("gateway role");
    let role = sdk.role(gw_role).await.unwrap();
    let doc = role.policies.values().next().expect("its inline policy");
    let authorize = allowing(doc, "bedrock-agentcore:AuthorizeAction");
    assert_eq!(authorize.len(), 1, "{doc:#}");
    let resources = as_list(&authorize[0]["Resource"]);
    assert!(resources.contains(&earn), "{resources:?}");
    assert!(
        resources
            .iter()
            .any(|r| r.ends_with(":gateway/tpol-main-*")),
        "{resources:?}"
    );
    assert_eq!(
        as_list(&allowing(doc, "bedrock-agentcore:GetPolicyEngine")[0]["Resource"]),
        std::slice::from_ref(&earn)
    );

    t.run(&["plan", "--detailed-exitcode"]).expect_ok();

    // The file edited: one policy updated in place, nothing else.
    t.write(
        "calc.cedar",
        &CALC.replace(
            "calc___add_numbers\"",
            "calc___add_numbers\" || action == AgentCore::Action::\"calc___ping\"",
        ),
    );
    let out = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert_eq!(
        out.plan_headers(),
        ["policy.guard/calc-only will be updated in place"],
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let p = policies(&sdk, &eid).await;
    assert!(p["tpol_guard_calc_only"].0.contains("calc___ping"));

    // A tool no target offers: the service fails the policy, apply says
    // why, and once fixed the next apply converges.
    t.edit_spec("calc___ping\", resource", "calc___pong\", resource");
    let failed = t.run(&["apply", "--auto-approve"]).expect_code(1);
    assert!(
        failed.stderr.contains("UPDATE_FAILED") && failed.stderr.contains("calc___pong"),
        "{failed}"
    );
    t.edit_spec("calc___pong\", resource", "calc___ping\", resource");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let p = policies(&sdk, &eid).await;
    assert_eq!(p["tpol_guard_no_ping"].2, "ACTIVE");
    t.run(&["plan", "--detailed-exitcode"]).expect_ok();

    // LOG_ONLY on the gateway: the gateway is updated, the engine kept.
    t.edit_spec(
        "    policy_engine: guard\n",
        "    policy_engine: { engine: guard, mode: log_only }\n",
    );
    let out = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert_eq!(
        out.plan_headers(),
        ["gateway.main will be updated in place"],
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(
        attached(&sdk).await,
        Some((earn.clone(), "LOG_ONLY".into()))
    );

    // Detached and deleted: the gateway lets go before the engine goes
    // (the backend refuses to delete an engine a gateway uses, or one that
    // still has policies).
    let spec = t.read("agentform.yaml");
    let engines = &spec[spec.find("policy_engines:").unwrap()..spec.find("gateways:").unwrap()];
    t.write(
        "agentform.yaml",
        &spec
            .replace(engines, "")
            .replace("    policy_engine: { engine: guard, mode: log_only }\n", ""),
    );
    let out = t.run(&["plan"]).expect_ok();
    assert!(
        out.stdout.contains("policy_engine.guard will be destroyed"),
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(attached(&sdk).await, None);
    assert_eq!(sdk.policy_engine_named("tpol_guard").await, None);
    t.run(&["plan", "--detailed-exitcode"]).expect_ok();

    // Back, then destroyed: nothing is left.
    t.write("agentform.yaml", SPEC);
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert!(sdk.policy_engine_named("tpol_guard").await.is_some());
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("tpol").await, Vec::<String>::new());
    assert_eq!(identity_violations().await, serde_json::json!([]));
}

#[test]
fn validate_locates_policy_mistakes() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        r#"version: 1
project: tpbad
policy_engines:
  guard:
    policies:
      gone:
        cedar: missing.cedar
      broken:
        cedar: broken.cedar
      refs:
        cedar: refs.cedar
gateways:
  main:
    authorizer: aws_iam
    policy_engine: gaurd
    targets:
      calc:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:calc
        tools: [{ name: add_numbers, description: Adds, input: { type: object } }]
runtimes:
  agent:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }
    tools: [main.calc___add_numbers, mian.calc, main.calc___add_number]
"#,
    );
    t.write(
        "broken.cedar",
        "permit(principal, action, resource);\nallow(principal, action, resource);\n",
    );
    t.write(
        "refs.cedar",
        "permit(principal, action, resource == AgentCore::Gateway::\"${gateways.mian.arn}\");\n",
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "cannot read `missing.cedar`",
        "broken.cedar:2:1: a Cedar policy starts with `permit` or `forbid`, not `allow`",
        "refs.cedar:1:60: `${gateways.mian.arn}` refers to an unknown gateway `mian`",
        "unknown policy engine `gaurd`",
        "did you mean `guard`?",
        "agentform.yaml:15:20",
        "runtime `agent` lists tools of gateway `main`, whose authorizer is aws_iam: IAM cannot scope access per tool",
        "Split the tools between gateways",
        "`mian.calc` names an unknown gateway `mian`",
        "no target offers tool `calc___add_number` for runtime `agent`",
        "did you mean `main.calc___add_numbers`?",
        "agentform.yaml:23:13",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}
