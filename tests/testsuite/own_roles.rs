//! Roles the spec brings (`role:` on a function, a gateway and a runtime):
//! agentform creates none of its own for them, never edits them, points the
//! resources at them, and says in the plan what each must trust and allow.
//! Switching a runtime back to a derived role creates that role; destroy
//! leaves the brought roles exactly as they were.

use crate::harness::{Test, sdk};

async fn make_role(sdk: &crate::harness::Sdk, name: &str, service: &str) -> String {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    });
    sdk.iam
        .create_role()
        .role_name(name)
        .path("/teams/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole")
        .role()
        .unwrap()
        .arn()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_the_spec_brings_are_used_as_they_are() {
    let sdk = sdk().await;
    let fn_role = make_role(&sdk, "team-town-fn", "lambda.amazonaws.com").await;
    let gw_role = make_role(&sdk, "team-town-gw", "bedrock-agentcore.amazonaws.com").await;
    let rt_role = make_role(&sdk, "team-town-rt", "bedrock-agentcore.amazonaws.com").await;
    let t = Test::new();
    t.write(
        "src/handler.py",
        "def lambda_handler(event, context):\n    return event\n",
    );
    t.write(
        "agentform.yaml",
        &format!(
            r#"version: 1
project: town
functions:
  tools:
    role: {fn_role}
    source: src
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    role: {gw_role}
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools: [{{ name: add, description: Adds, input: {{ type: object }} }}]
runtimes:
  agent:
    role: {rt_role}
    artifact: {{ image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }}
    invoke_gateways: [main]
"#
        ),
    );

    t.run(&["validate"]).expect_ok();
    let plan = t.run(&["plan"]).expect_ok();
    assert!(
        !plan
            .plan_headers()
            .iter()
            .any(|h| h.starts_with("iam_role")),
        "{plan}"
    );
    for needle in [
        format!(
            "Note: runtime.agent uses its own role {rt_role}: agentform neither creates nor edits it. It must trust bedrock-agentcore.amazonaws.com and allow:"
        ),
        "  bedrock-agentcore:InvokeGateway on (known after apply)".to_string(),
        format!("Note: lambda_function.tools uses its own role {fn_role}"),
        "  logs:CreateLogStream, logs:PutLogEvents on arn:aws:logs:us-east-1:".to_string(),
        format!("Note: gateway.main uses its own role {gw_role}"),
        "  lambda:InvokeFunction on arn:aws:lambda:us-east-1:".to_string(),
    ] {
        assert!(plan.stdout.contains(&needle), "missing {needle:?}:\n{plan}");
    }
    t.run(&["apply", "--auto-approve"]).expect_ok();

    let f = sdk
        .lambda
        .get_function()
        .function_name("town-tools")
        .send()
        .await
        .expect("GetFunction");
    assert_eq!(f.configuration().unwrap().role(), Some(fn_role.as_str()));
    let gid = &sdk.gateways_named("town-main").await[0];
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(gid)
        .send()
        .await
        .unwrap();
    assert_eq!(g.role_arn(), Some(gw_role.as_str()));
    let r = sdk.the_runtime_named("town_agent").await;
    assert_eq!(r.role_arn(), rt_role);
    // No role of agentform's, and the brought roles untouched.
    assert!(sdk.role_names_under("/agentform/town/").await.is_empty());
    for name in ["team-town-fn", "team-town-gw", "team-town-rt"] {
        let role = sdk.role(name).await.expect("still there");
        assert!(role.policies.is_empty(), "{name} got an inline policy");
        assert!(role.tags.is_empty(), "{name} got tags: {:?}", role.tags);
    }
    let again = t.run(&["plan", "--detailed-exitcode"]).expect_ok();
    assert!(!again.stdout.contains("Note:"), "{again}");

    // Back to a derived role for the runtime.
    t.edit_spec(&format!("    role: {rt_role}\n"), "");
    let back = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    let headers = back.plan_headers();
    for h in [
        "iam_role.rt-agent will be created",
        "iam_role_policy.rt-agent will be created",
        "runtime.agent will be updated in place",
    ] {
        assert!(
            headers.iter().any(|x| x == h),
            "missing {h:?}: {headers:?}\n{back}"
        );
    }
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let r = sdk.the_runtime_named("town_agent").await;
    assert!(
        r.role_arn()
            .contains(":role/agentform/town/town-use1-rt-agent"),
        "{}",
        r.role_arn()
    );

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("town").await;
    assert!(left.is_empty(), "left behind: {left:?}");
    for name in ["team-town-fn", "team-town-gw", "team-town-rt"] {
        let role = sdk
            .role(name)
            .await
            .expect("destroy never touches a brought role");
        assert!(role.policies.is_empty());
        sdk.iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .expect("DeleteRole");
    }
}

#[test]
fn a_role_that_is_not_an_arn_is_refused_where_it_is_written() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        "version: 1\nproject: townv\nruntimes:\n  agent:\n    role: my-role\n    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }\n",
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "`my-role` is not an IAM role ARN",
        "agentform.yaml:5:11",
        "expected arn:aws:iam::ACCOUNT:role/NAME",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}
