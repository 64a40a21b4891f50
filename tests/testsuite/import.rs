//! `agentform import`: resources that exist without agentform's tags (made
//! by another tool) stay foreign and untouched until imported; imported,
//! they plan empty and destroy removes them.

use crate::harness::reference::check_stack;
use crate::harness::{Test, sdk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_without_tags_are_adopted_only_by_import() {
    let t = Test::reference().project("adopt");
    let sdk = sdk().await;
    // The stack as another tool would leave it: the resources exist, with
    // the names the spec derives, but none of agentform's tags.
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let stack = check_stack(&sdk, "adopt").await;
    let ours = [
        "agentform:project",
        "agentform:resource",
        "agentform:region",
    ]
    .map(String::from);
    sdk.lambda
        .untag_resource()
        .resource(&stack.function_arn)
        .set_tag_keys(Some(ours[..2].to_vec()))
        .send()
        .await
        .expect("untag function");
    for arn in [&stack.gateway_arn, &stack.runtime_arn] {
        sdk.agentcore
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(ours[..2].to_vec()))
            .send()
            .await
            .expect("untag agentcore");
    }
    sdk.iam
        .untag_role()
        .role_name("adopt-use1-gw-main")
        .set_tag_keys(Some(ours.to_vec()))
        .send()
        .await
        .expect("untag role");
    // And one made from scratch through the SDK, as the spec describes it.
    sdk.ecr
        .delete_repository()
        .repository_name("adopt/agent")
        .force(true)
        .send()
        .await
        .expect("delete repository");
    sdk.ecr
        .create_repository()
        .repository_name("adopt/agent")
        .send()
        .await
        .expect("create repository");

    // Without import: foreign, named, untouched.
    let out = t.run(&["plan"]).expect_code(1);
    for name in [
        "adopt-tools",
        "adopt-main",
        "adopt_agent",
        "adopt-use1-gw-main",
        "adopt/agent",
    ] {
        assert!(out.stderr.contains(&format!("`{name}`")), "{name}\n{out}");
    }
    assert!(
        out.stderr
            .contains("take it into this project with `agentform import gateway.main ID`"),
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_code(1);
    let tags = sdk.agentcore_tags(&stack.gateway_arn).await;
    assert!(!tags.contains_key("agentform:project"), "{tags:?}");

    // Wrong ids, children and unknown addresses are refused with reasons.
    t.run(&["import", "gateway.main", "nosuch-id", "--auto-approve"])
        .expect_code(1)
        .expect_stderr(&format!("has id {}, not `nosuch-id`", stack.gateway_id));
    t.run(&["import", "gateway_target.main/lambda-target", "x"])
        .expect_code(1)
        .expect_stderr("import its parent `gateway.main`");
    t.run(&["import", "gateway.other", "x"])
        .expect_code(1)
        .expect_stderr("the spec has no resource `gateway.other`");
    // Without a terminal and without --auto-approve, nothing is tagged.
    t.run(&["import", "gateway.main", &stack.gateway_id])
        .expect_code(1)
        .expect_stderr("stdin is not a terminal");

    // Imported, one by one: the diff is shown, only the tags are added.
    let runtime_id = stack.runtime_id.clone();
    for (addr, id) in [
        ("lambda_function.tools", "adopt-tools"),
        ("gateway.main", stack.gateway_id.as_str()),
        ("runtime.agent", runtime_id.as_str()),
        ("iam_role.gw-main", "adopt-use1-gw-main"),
    ] {
        t.run(&["import", addr, id, "--auto-approve"])
            .expect_ok()
            .expect_stdout("It matches the spec")
            .expect_stdout(&format!("Imported {addr}."));
    }
    // The repository made through the SDK lacks the spec's `team` tag: the
    // import shows it as the next apply's change.
    t.run(&[
        "import",
        "ecr_repository.agent",
        "adopt/agent",
        "--auto-approve",
    ])
    .expect_ok()
    .expect_stdout("the next apply makes these changes to it")
    .expect_stdout("+ \"team\"");
    t.run(&["import", "gateway.main", &stack.gateway_id])
        .expect_ok()
        .expect_stdout("already part of project `adopt`");
    let tags = sdk.agentcore_tags(&stack.gateway_arn).await;
    assert_eq!(
        tags.get("agentform:resource").map(String::as_str),
        Some("gateway.main")
    );
    assert_eq!(
        tags.get("team").map(String::as_str),
        Some("platform"),
        "other tags stay"
    );

    t.run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("adopt").await, Vec::<String>::new());
    assert!(sdk.gateways_named("adopt-main").await.is_empty());
}
