//! Gateway settings AgentCore takes on UpdateGateway only (the WAF failure
//! mode, a custom transform): set right after the gateway is created,
//! re-planned empty, changed, removed; the gateway's role may invoke the
//! transform function.

use crate::harness::{Test, allowing, as_list, sdk};

const SPEC: &str = r#"version: 1
project: tupd
functions:
  shape:
    source: src
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    waf: fail_close
    transform: shape
"#;

async fn settings(sdk: &crate::harness::Sdk) -> (Option<String>, Option<String>) {
    let gid = &sdk.gateways_named("tupd-main").await[0];
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(gid)
        .send()
        .await
        .expect("GetGateway");
    (
        g.waf_configuration()
            .and_then(|w| w.failure_mode())
            .map(|m| m.as_str().to_string()),
        g.custom_transform_configuration()
            .and_then(|t| t.lambda())
            .and_then(|l| l.arn())
            .map(str::to_string),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_only_gateway_settings_are_set_after_create() {
    let t = Test::new();
    t.write(
        "src/handler.py",
        "def lambda_handler(event, context):\n    return event\n",
    );
    t.write("agentform.yaml", SPEC);
    let sdk = sdk().await;
    let account = sdk.account_id().await;
    let fn_arn = format!("arn:aws:lambda:us-east-1:{account}:function:tupd-shape");

    let plan = t.run(&["plan"]).expect_ok();
    for needle in [
        "waf_failure_mode        = \"FAIL_CLOSE\"",
        "custom_transform_lambda",
    ] {
        assert!(plan.stdout.contains(needle), "missing {needle:?}:\n{plan}");
    }
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(
        settings(&sdk).await,
        (Some("FAIL_CLOSE".into()), Some(fn_arn.clone()))
    );
    let roles = sdk.role_names_under("/agentform/tupd/").await;
    let gw = roles
        .iter()
        .find(|r| r.contains("gw-main"))
        .expect("gateway role");
    let role = sdk.role(gw).await.unwrap();
    let doc = role.policies.values().next().expect("its inline policy");
    let invoke = allowing(doc, "lambda:InvokeFunction");
    assert_eq!(invoke.len(), 1, "{doc:#}");
    assert!(as_list(&invoke[0]["Resource"]).contains(&fn_arn), "{doc:#}");
    t.run(&["plan", "--detailed-exitcode"]).expect_ok();

    t.edit_spec("waf: fail_close", "waf: fail_open");
    let out = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert_eq!(
        out.plan_headers(),
        ["gateway.main will be updated in place"],
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(
        settings(&sdk).await,
        (Some("FAIL_OPEN".into()), Some(fn_arn))
    );

    t.edit_spec("    waf: fail_open\n    transform: shape\n", "");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(settings(&sdk).await, (None, None));
    t.run(&["plan", "--detailed-exitcode"]).expect_ok();

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("tupd").await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
