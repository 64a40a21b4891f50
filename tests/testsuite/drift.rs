//! Security drift: permissions added out of band to what the project owns
//! (an inline policy or an attached managed policy on one of its roles, a
//! statement in a function's resource-based policy, a repository policy)
//! are shown by plan and removed by apply.

use crate::harness::{Test, sdk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_added_out_of_band_are_planned_away() {
    let t = Test::reference().project("drift");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let role = "drift-use1-fn-tools";
    sdk.iam
        .put_role_policy()
        .role_name(role)
        .policy_name("backdoor")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("put inline policy");
    // moto does not load AWS's managed policies: an administrator policy of
    // the account's own stands in for AdministratorAccess.
    let admin = sdk
        .iam
        .create_policy()
        .policy_name("drift-admin")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("create managed policy")
        .policy()
        .and_then(|p| p.arn())
        .unwrap()
        .to_string();
    sdk.iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(&admin)
        .send()
        .await
        .expect("attach managed policy");
    sdk.lambda
        .add_permission()
        .function_name("drift-tools")
        .statement_id("public")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .expect("add permission");
    sdk.ecr
        .set_repository_policy()
        .repository_name("drift/agent")
        .policy_text(r#"{"Version":"2012-10-17","Statement":[{"Sid":"pull-for-all","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#)
        .send()
        .await
        .expect("set repository policy");

    let out = t
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy.")
        .expect_stdout("permissions not in the spec were added to it; apply removes them")
        .expect_stdout("~ inline_policies_not_in_spec  = [\"backdoor\"] -> []")
        .expect_stdout(&format!(
            "~ managed_policies_not_in_spec = [\"{admin}\"] -> []"
        ))
        .expect_stdout("~ resource_policy = IAM policy, 1 statement (removed):")
        .expect_stdout("public  Allow lambda:InvokeFunction by anyone")
        .expect_stdout("~ repository_policy = IAM policy, 1 statement (removed):");
    let headers = out.plan_headers();
    assert_eq!(
        headers,
        [
            "iam_role.fn-tools will be updated in place (permissions not in the spec were added to it; apply removes them)",
            "ecr_repository.agent will be updated in place (permissions not in the spec were added to it; apply removes them)",
            "lambda_function.tools will be updated in place (permissions not in the spec were added to it; apply removes them)",
        ],
        "{out}"
    );

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let inline = sdk
        .iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["agentform"]);
    let attached = sdk
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty(), "{attached:?}");
    let policy = sdk
        .lambda
        .get_policy()
        .function_name("drift-tools")
        .send()
        .await;
    let left = policy
        .ok()
        .and_then(|p| p.policy)
        .map(|p| serde_json::from_str::<serde_json::Value>(&p).unwrap()["Statement"].clone());
    assert!(
        left.as_ref()
            .is_none_or(|s| s.as_array().is_none_or(Vec::is_empty)),
        "{left:?}"
    );
    let repo = sdk
        .ecr
        .get_repository_policy()
        .repository_name("drift/agent")
        .send()
        .await;
    assert!(repo.is_err(), "the repository policy is gone: {repo:?}");
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
