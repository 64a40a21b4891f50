//! Safety properties against a real moto server: agentform never touches
//! what it does not own, a re-run after a partial or interrupted apply
//! converges without twins, it never acts unattended without
//! `--auto-approve`, and what leaves the spec is planned for deletion.
//! The account is always checked through the official SDK.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_iam::types::Tag;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};

use crate::harness::reference::{apply_converges, check_stack};
use crate::harness::{Output, Sdk, Test, sdk, tiny_zip};

const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

async fn create_untagged_role(sdk: &Sdk, path: &str, name: &str) -> String {
    let r = sdk
        .iam
        .create_role()
        .path(path)
        .role_name(name)
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .expect("CreateRole");
    r.role.expect("role").arn().to_string()
}

fn headers(out: &Output) -> BTreeSet<String> {
    out.plan_headers().into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_resources_are_never_touched() {
    let t = Test::reference().project("foreign");
    let sdk = sdk().await;
    let path = "/agentform/foreign/";

    // Someone else's resources: two with the names the spec would use, one
    // more under the project's IAM path; none carries agentform tags.
    create_untagged_role(&sdk, path, "foreign-use1-gw-main").await;
    let other_arn = create_untagged_role(&sdk, path, "foreign-other").await;
    sdk.lambda
        .create_function()
        .function_name("foreign-tools")
        .runtime(Runtime::Python312)
        .role(&other_arn)
        .handler("handler.lambda_handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(tiny_zip()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");

    // And one that another agentform project owns, under that project's path.
    sdk.iam
        .create_role()
        .path("/agentform/neighbour/")
        .role_name("foreign-use1-rt-agent")
        .assume_role_policy_document(LAMBDA_TRUST)
        .tags(
            Tag::builder()
                .key("agentform:project")
                .value("neighbour")
                .build()
                .unwrap(),
        )
        .tags(
            Tag::builder()
                .key("agentform:resource")
                .value("iam_role.rt-agent")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateRole");

    // Plan refuses, naming each of them.
    let out = t
        .run(&["plan"])
        .expect_code(1)
        .expect_stderr("foreign-use1-gw-main")
        .expect_stderr("foreign-tools")
        .expect_stderr("foreign-use1-rt-agent")
        .expect_stderr("neighbour");
    assert!(
        out.stderr.contains("iam_role") && out.stderr.contains("lambda_function"),
        "{out}"
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(1);

    // Apply refuses before doing anything.
    t.run(&["apply", "--auto-approve"])
        .expect_code(1)
        .expect_stderr("foreign-use1-gw-main");
    let mut roles = sdk.role_names_under(path).await;
    roles.sort();
    assert_eq!(
        roles,
        ["foreign-other", "foreign-use1-gw-main"],
        "apply created roles although it refused"
    );
    assert!(
        sdk.gateways_named("foreign-main").await.is_empty(),
        "apply created the gateway although it refused"
    );

    // Destroy owns nothing here and deletes nothing.
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    for role in ["foreign-use1-gw-main", "foreign-other"] {
        let r = sdk
            .role(role)
            .await
            .unwrap_or_else(|| panic!("destroy deleted the foreign role {role}"));
        assert!(r.tags.is_empty(), "{role} got tags: {:?}", r.tags);
    }
    let f = sdk
        .lambda
        .get_function()
        .function_name("foreign-tools")
        .send()
        .await
        .expect("destroy deleted the foreign function");
    assert!(
        f.tags().is_none_or(|t| t.is_empty()),
        "the foreign function got tags: {:?}",
        f.tags()
    );
    let r = sdk
        .role("foreign-use1-rt-agent")
        .await
        .expect("destroy deleted the other project's role");
    assert_eq!(
        r.tags.get("agentform:project").map(String::as_str),
        Some("neighbour")
    );

    // Once the conflicting resources are gone, apply works; destroy then
    // removes the project's resources but still not the unrelated role
    // under its path.
    sdk.lambda
        .delete_function()
        .function_name("foreign-tools")
        .send()
        .await
        .expect("DeleteFunction");
    for role in ["foreign-use1-gw-main", "foreign-use1-rt-agent"] {
        sdk.iam
            .delete_role()
            .role_name(role)
            .send()
            .await
            .expect("DeleteRole");
    }
    t.run(&["apply", "--auto-approve"]).expect_ok();
    check_stack(&sdk, "foreign").await;
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("foreign").await;
    assert_eq!(
        left,
        ["iam role /agentform/foreign/foreign-other"],
        "destroy must remove exactly what the project owns"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_after_partial_apply_converges() {
    let t = Test::reference().project("partial");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let before = check_stack(&sdk, "partial").await;

    // Lose a target, a runtime and an inline policy, as if an earlier apply
    // had stopped half-way.
    let targets = sdk.targets_of(&before.gateway_id).await;
    sdk.agentcore
        .delete_gateway_target()
        .gateway_identifier(&before.gateway_id)
        .target_id(&targets[0].1)
        .send()
        .await
        .expect("DeleteGatewayTarget");
    sdk.agentcore
        .delete_agent_runtime()
        .agent_runtime_id(&before.runtime_id)
        .send()
        .await
        .expect("DeleteAgentRuntime");
    sdk.iam
        .delete_role_policy()
        .role_name("partial-use1-gw-main")
        .policy_name("agentform")
        .send()
        .await
        .expect("DeleteRolePolicy");

    let out = t
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.");
    let want: BTreeSet<String> = [
        "gateway_target.main/lambda-target will be created",
        "iam_role_policy.gw-main will be created",
        "runtime.agent will be created",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(headers(&out), want, "{out}");

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let after = check_stack(&sdk, "partial").await;
    assert_eq!(after.gateway_id, before.gateway_id, "the gateway was kept");
    assert_ne!(
        after.runtime_id, before.runtime_id,
        "a new runtime was created"
    );
    assert_eq!(after.tools, ["add_numbers", "multiply_numbers", "greet"]);
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_half_way_converges_without_twins() {
    let t = Test::reference().project("killed");
    let sdk = sdk().await;

    // Kill apply as soon as the gateway exists (it is still CREATING then,
    // and the target and runtime are not created yet).
    let mut child = apply_until(&t, "first-apply", || async {
        !sdk.gateways_named("killed-main").await.is_empty()
    })
    .await
    .unwrap_or_else(|| too_late(&t, "first-apply"));
    child.kill().expect("killing apply");
    child.wait().unwrap();

    // The re-run picks up where the account is: no twin gateway, target or
    // runtime (moto, unlike AWS, accepts duplicate names).
    apply_converges(&t, &sdk, "killed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_terminal_needs_auto_approve() {
    let t = Test::reference().project("noterm");
    let sdk = sdk().await;
    // `run` gives the tool no stdin, as in CI.
    let out = t
        .run(&["apply"])
        .expect_code(1)
        .expect_stderr("--auto-approve");
    assert!(
        out.stderr.contains("terminal") || out.stderr.contains("confirm"),
        "the refusal should say why\n{out}"
    );
    let left = sdk.leftovers("noterm").await;
    assert!(left.is_empty(), "apply acted without approval: {left:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_runtime_plans_its_destruction() {
    let t = Test::reference().project("shrink");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let before = check_stack(&sdk, "shrink").await;

    // Destroy without a terminal refuses too, and deletes nothing.
    t.run(&["destroy"])
        .expect_code(1)
        .expect_stderr("--auto-approve");
    assert_eq!(
        sdk.runtimes_named("shrink_agent").await,
        std::slice::from_ref(&before.runtime_id)
    );

    // Drop the runtime (and the output that refers to it) from the spec.
    let spec = t.read("agentform.yaml");
    let start = spec.find("\nruntimes:\n").expect("runtimes section") + 1;
    let end = spec.find("\noutputs:\n").expect("outputs section") + 1;
    t.edit_spec(&spec[start..end], "");
    t.edit_spec("  runtime_endpoint: ${runtimes.agent.arn}\n", "");

    let out = t
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 0 to add, 0 to change, 0 to replace, 3 to destroy.");
    let got = headers(&out);
    for addr in [
        "runtime.agent",
        "iam_role.rt-agent",
        "iam_role_policy.rt-agent",
    ] {
        assert!(
            got.iter()
                .any(|h| h.starts_with(&format!("{addr} will be destroyed"))),
            "{addr} should be destroyed\n{out}"
        );
    }
    assert_eq!(got.len(), 3, "{out}");

    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert!(
        sdk.runtimes_named("shrink_agent").await.is_empty(),
        "the runtime is still there"
    );
    assert!(
        sdk.role("shrink-use1-rt-agent").await.is_none(),
        "the runtime's role is still there"
    );
    assert_eq!(
        sdk.gateways_named("shrink-main").await,
        std::slice::from_ref(&before.gateway_id),
        "the gateway must stay"
    );
    assert_eq!(
        sdk.targets_of(&before.gateway_id).await.len(),
        1,
        "the target must stay"
    );
    sdk.lambda
        .get_function()
        .function_name("shrink-tools")
        .send()
        .await
        .expect("the function must stay");
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("shrink").await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

/// Destroy after a demo works even when the function sources are gone
/// (destroy and output never read them); validate still reports them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_does_not_need_the_function_sources() {
    let t = Test::reference().project("nosrc");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    std::fs::remove_dir_all(t.path("lambda")).unwrap();
    t.run(&["validate"])
        .expect_code(1)
        .expect_stderr("function source `lambda` does not exist");
    t.run(&["output", "gateway_endpoint"])
        .expect_ok()
        .expect_stdout("/mcp");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("nosrc").await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

/// Spawns `apply` (output in `name.stdout` / `name.stderr`) and polls
/// `ready` until the moment to interrupt it; `None` when apply finished
/// first. A hang fails the test.
async fn apply_until<F, Fut>(t: &Test, name: &str, ready: F) -> Option<std::process::Child>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut child = t.spawn(name, &["apply", "--auto-approve"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready().await {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "the moment to interrupt apply never came\n{}",
            t.read(&format!("{name}.stderr"))
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Some(child)
}

/// Fails the test: apply finished before it could be interrupted.
fn too_late(t: &Test, name: &str) -> ! {
    panic!(
        "apply finished before the test could interrupt it\n--- stdout ---\n{}--- stderr ---\n{}",
        t.read(&format!("{name}.stdout")),
        t.read(&format!("{name}.stderr"))
    )
}

/// Spawns `apply`, waits until `ready` says the account reached the moment
/// to interrupt, then sends `signal` and returns the exit code and stderr.
async fn interrupted_apply<F, Fut>(t: &Test, name: &str, signal: &str, ready: F) -> (i32, String)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut child = apply_until(t, name, ready)
        .await
        .unwrap_or_else(|| too_late(t, name));
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().unwrap();
    (
        status.code().expect("exited, not killed by the signal"),
        t.read(&format!("{name}.stderr")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sigterm_stop_cleanly_and_a_rerun_converges() {
    let t = Test::reference().project("sigs");
    let sdk = sdk().await;

    // SIGINT while the gateway is CREATING: it finishes, nothing that
    // depends on it starts, the summary says so, exit 130.
    let (code, stderr) = interrupted_apply(&t, "int", "INT", || async {
        !sdk.gateways_named("sigs-main").await.is_empty()
    })
    .await;
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("SIGINT received: stopping."), "{stderr}");
    assert!(
        stderr.contains("Apply stopped before it was complete."),
        "{stderr}"
    );
    assert!(
        stderr.contains("  done: gateway.main (created)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  not started: gateway_target.main/lambda-target"),
        "{stderr}"
    );
    assert!(stderr.contains("  not started: runtime.agent"), "{stderr}");

    // SIGTERM while the runtime is CREATING: exit 143.
    let (code, stderr) = interrupted_apply(&t, "term", "TERM", || async {
        !sdk.runtimes_named("sigs_agent").await.is_empty()
    })
    .await;
    assert_eq!(code, 143, "{stderr}");
    assert!(stderr.contains("SIGTERM received: stopping."), "{stderr}");

    // The next apply finishes the job: no twins, nothing left to do.
    apply_converges(&t, &sdk, "sigs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn premade_twins_are_resolved_by_one_apply() {
    let t = Test::reference().project("twins");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let stack = check_stack(&sdk, "twins").await;

    // A twin of the gateway with the same name and ownership tags, and a
    // twin of its target on it (what a concurrent run or another tool
    // could leave; moto, unlike AWS, accepts the duplicate name).
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(&stack.gateway_id)
        .send()
        .await
        .expect("GetGateway");
    let tags = sdk.agentcore_tags(&stack.gateway_arn).await;
    let twin = sdk
        .agentcore
        .create_gateway()
        .name(g.name())
        .role_arn(g.role_arn().unwrap())
        .protocol_type(g.protocol_type().clone())
        .authorizer_type(g.authorizer_type().clone())
        .set_protocol_configuration(g.protocol_configuration().cloned())
        .set_description(g.description().map(str::to_string))
        .set_tags(Some(tags.into_iter().collect()))
        .send()
        .await
        .expect("CreateGateway (twin)");
    let targets = sdk.targets_of(&stack.gateway_id).await;
    let original = sdk
        .agentcore
        .get_gateway_target()
        .gateway_identifier(&stack.gateway_id)
        .target_id(&targets[0].1)
        .send()
        .await
        .expect("GetGatewayTarget");
    sdk.agentcore
        .create_gateway_target()
        .gateway_identifier(twin.gateway_id())
        .name(original.name())
        .set_target_configuration(original.target_configuration().cloned())
        .set_credential_provider_configurations(Some(
            original.credential_provider_configurations().to_vec(),
        ))
        .send()
        .await
        .expect("CreateGatewayTarget (twin)");
    assert_eq!(sdk.gateways_named("twins-main").await.len(), 2);

    // The plan names the extra copies; one apply removes them and leaves
    // every reference on the survivor.
    let out = t.run(&["plan"]).expect_ok();
    let duplicates = out
        .stdout
        .matches("(duplicate of the resource the spec manages)")
        .count();
    assert_eq!(duplicates, 2, "{out}");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let after = check_stack(&sdk, "twins").await;
    assert_eq!(sdk.gateways_named("twins-main").await.len(), 1);
    assert_eq!(sdk.targets_of(&after.gateway_id).await.len(), 1);
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("twins").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_refuses_what_it_cannot_prove_it_owns() {
    let t = Test::reference().project("untag");
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let stack = check_stack(&sdk, "untag").await;
    sdk.agentcore
        .untag_resource()
        .resource_arn(&stack.gateway_arn)
        .tag_keys("agentform:resource")
        .send()
        .await
        .expect("UntagResource");

    // Plan refuses to adopt it; destroy refuses to start, naming it, and
    // deletes nothing (not even the gateway's role).
    t.run(&["plan"])
        .expect_code(1)
        .expect_stderr("gateway `untag-main` (wanted for gateway.main) carries this project's tag but no valid `agentform:resource` tag");
    let out = t
        .run(&["destroy", "--auto-approve"])
        .expect_code(1)
        .expect_stderr("gateway `untag-main`")
        .expect_stderr("Nothing was deleted.");
    assert!(
        out.stderr
            .contains("gateway_target `untag-main/lambda-target`"),
        "{out}"
    );
    assert_eq!(sdk.gateways_named("untag-main").await.len(), 1);
    assert!(sdk.role("untag-use1-gw-main").await.is_some());
    assert!(!sdk.runtimes_named("untag_agent").await.is_empty());

    // With the tag back, destroy finishes and leaves nothing.
    sdk.agentcore
        .tag_resource()
        .resource_arn(&stack.gateway_arn)
        .tags("agentform:resource", "gateway.main")
        .send()
        .await
        .expect("TagResource");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("untag").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_spec_in_two_regions_keeps_two_sets_of_roles() {
    let t = Test::reference().project("tworeg");
    let sdk = sdk().await;
    let west = ["--region", "us-west-2"];
    let with = |args: &[&'static str], extra: &[&'static str]| -> Vec<&'static str> {
        args.iter().chain(extra).copied().collect()
    };

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let east = check_stack(&sdk, "tworeg").await;
    // The second region makes its own roles instead of planning updates of
    // the first one's.
    let out = t
        .run(&with(&["apply", "--auto-approve"], &west))
        .expect_ok()
        .expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
    assert!(!out.stdout.contains("will be updated"), "{out}");
    let mut roles = sdk.role_names_under("/agentform/tworeg/").await;
    roles.sort();
    assert_eq!(
        roles,
        [
            "tworeg-use1-fn-tools",
            "tworeg-use1-gw-main",
            "tworeg-use1-rt-agent",
            "tworeg-usw2-fn-tools",
            "tworeg-usw2-gw-main",
            "tworeg-usw2-rt-agent",
        ]
    );
    for (name, region) in [
        ("tworeg-use1-gw-main", "us-east-1"),
        ("tworeg-usw2-gw-main", "us-west-2"),
    ] {
        let role = sdk.role(name).await.expect("role");
        assert_eq!(
            role.tags.get("agentform:region").map(String::as_str),
            Some(region)
        );
    }
    for region_args in [&[][..], &west[..]] {
        t.run(&with(&["plan", "--detailed-exitcode"], region_args))
            .expect_code(0)
            .expect_stdout("No changes");
    }

    // Destroying one region leaves the other intact, and its plan empty.
    t.run(&with(&["destroy", "--auto-approve"], &west))
        .expect_ok();
    let mut roles = sdk.role_names_under("/agentform/tworeg/").await;
    roles.sort();
    assert_eq!(
        roles,
        [
            "tworeg-use1-fn-tools",
            "tworeg-use1-gw-main",
            "tworeg-use1-rt-agent"
        ]
    );
    let after = check_stack(&sdk, "tworeg").await;
    assert_eq!(after.gateway_id, east.gateway_id);
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&with(&["destroy", "--auto-approve"], &west))
        .expect_ok()
        .expect_stdout("Nothing to destroy");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("tworeg").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applies_never_make_twins() {
    let t = Test::reference().project("racing");
    let sdk = sdk().await;
    for round in 0..5 {
        // Two applies of a clean account at once: one holds the lock, the
        // other stops at once with a message naming the holder.
        let mut a = t.spawn(&format!("a{round}"), &["apply", "--auto-approve"]);
        let mut b = t.spawn(&format!("b{round}"), &["apply", "--auto-approve"]);
        let (sa, sb) = (a.wait().unwrap(), b.wait().unwrap());
        let (ea, eb) = (
            t.read(&format!("a{round}.stderr")),
            t.read(&format!("b{round}.stderr")),
        );
        let locked =
            |e: &str| e.contains("project `racing` is locked in this region by `agentform apply`");
        eprintln!(
            "round {round}: apply a ok={}, apply b ok={}",
            sa.success(),
            sb.success()
        );
        match (sa.success(), sb.success()) {
            (true, false) => assert!(locked(&eb), "{eb}"),
            (false, true) => assert!(locked(&ea), "{ea}"),
            // The first finished before the second asked for the lock.
            (true, true) => {}
            (false, false) => panic!("both failed:\n{ea}\n---\n{eb}"),
        }
        assert_eq!(
            sdk.gateways_named("racing-main").await.len(),
            1,
            "round {round}"
        );
        assert_eq!(
            sdk.runtimes_named("racing_agent").await.len(),
            1,
            "round {round}"
        );
        // One more apply converges; nothing is left locked.
        apply_converges(&t, &sdk, "racing").await;
        // Apply racing destroy: the loser names the winner; nothing is
        // half-owned either way, and the next destroy leaves nothing.
        let mut d = t.spawn(&format!("d{round}"), &["destroy", "--auto-approve"]);
        let mut a = t.spawn(&format!("a2{round}"), &["apply", "--auto-approve"]);
        let (sd, sa) = (d.wait().unwrap(), a.wait().unwrap());
        assert!(sd.success() || sa.success(), "round {round}: both failed");
        t.run(&["destroy", "--auto-approve"]).expect_ok();
        assert_eq!(
            sdk.leftovers("racing").await,
            Vec::<String>::new(),
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_left_by_a_run_elsewhere_blocks_until_force_unlocked() {
    let t = Test::reference().project("locked");
    let sdk = sdk().await;
    let ssm = &sdk.ssm;
    // A lock another machine's run left, far from expiring.
    let value = r#"{"id":"0123456789abcdef","operation":"apply","who":"bob","host":"ci-elsewhere","pid":1,"created":1764619262,"expires":99999999999}"#;
    ssm.put_parameter()
        .name("/agentform/locked/lock")
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let out = t.run(&["apply", "--auto-approve"]).expect_code(1);
    assert!(
        out.stderr
            .contains("locked in this region by `agentform apply` by bob@ci-elsewhere (pid 1)"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("agentform force-unlock 0123456789abcdef"),
        "{out}"
    );
    assert!(sdk.gateways_named("locked-main").await.is_empty());
    t.run(&["force-unlock", "ffff"])
        .expect_code(1)
        .expect_stderr("has another id");
    t.run(&["force-unlock", "0123456789abcdef"])
        .expect_ok()
        .expect_stdout("Released the lock");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    // The run released its own lock.
    let left = ssm
        .get_parameter()
        .name("/agentform/locked/lock")
        .send()
        .await;
    assert!(left.is_err(), "the lock is still there: {left:?}");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

/// One project's share of the kill test: for each `k`, start a fresh
/// apply, SIGKILL it as soon as its progress output has `k` lines, then
/// check that the next apply exits 0 with everything ready and no twins,
/// and that destroy leaves nothing.
async fn kill_at_lines(project: &'static str, ks: Vec<usize>) {
    let t = Test::reference().project(project);
    let sdk = sdk().await;
    for k in ks {
        let name = format!("kill{k}");
        let stderr = t.path(&format!("{name}.stderr"));
        let progressed = || async {
            std::fs::read_to_string(&stderr)
                .unwrap_or_default()
                .lines()
                .count()
                >= k
        };
        // Apply may finish before line k: then there is nothing to kill.
        if let Some(mut child) = apply_until(&t, &name, progressed).await {
            let _ = child.kill();
            child.wait().unwrap();
        }
        let out = t.run(&["apply", "--auto-approve"]);
        assert_eq!(out.code, 0, "k={k}: the re-apply failed\n{out}");
        check_stack(&sdk, project).await;
        t.run(&["plan", "--detailed-exitcode"])
            .expect_code(0)
            .expect_stdout("No changes");
        t.run(&["destroy", "--auto-approve"]).expect_ok();
        assert_eq!(sdk.leftovers(project).await, Vec::<String>::new(), "k={k}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_twenty_moments_of_apply_always_converges() {
    // The moments: after 1..=20 lines of apply's progress output (an apply
    // of the reference stack prints ~24), shared out over four projects
    // that run at once.
    let share = |r: usize| (1..=20).filter(move |k| k % 4 == r).collect::<Vec<_>>();
    let runs = [
        tokio::spawn(kill_at_lines("kila", share(0))),
        tokio::spawn(kill_at_lines("kilb", share(1))),
        tokio::spawn(kill_at_lines("kilc", share(2))),
        tokio::spawn(kill_at_lines("kild", share(3))),
    ];
    for r in runs {
        r.await.expect("a kill run panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_mid_wait_fails_and_the_next_apply_finishes() {
    let t = Test::reference().project("tmo");
    let sdk = sdk().await;
    // Every wait gives up at once: the first asynchronous resource fails.
    let out = t
        .run(&["apply", "--auto-approve", "--timeout", "0"])
        .expect_code(1);
    assert!(out.stderr.contains("timed out"), "{out}");
    // Plan says there is work left (to create, or to wait for).
    t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    apply_converges(&t, &sdk, "tmo").await;
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_flag_wins_over_the_spec_region() {
    let t = Test::reference().project("regprec");
    t.edit_spec(
        "project: regprec\n",
        "project: regprec\nregion: eu-west-1\n",
    );
    let out = t.run(&["plan"]).expect_ok();
    assert!(
        out.stdout.contains("iam_role \"regprec-euw1-gw-main\""),
        "{out}"
    );
    let out = t.run(&["plan", "--region", "us-west-2"]).expect_ok();
    assert!(
        out.stdout.contains("iam_role \"regprec-usw2-gw-main\""),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_environments_of_one_project_live_side_by_side() {
    let t = Test::reference().project("envs");
    t.edit_spec("project: envs\n", "project: envs-${var.env}\n");
    t.edit_spec("variables:\n", "variables:\n  env:\n    default: dev\n");
    t.write("prod.yaml", "env: prod\n");
    let sdk = sdk().await;
    // dev from the default, prod from AGENTFORM_VAR_env; the flag wins over
    // the environment, which wins over the file.
    t.run(&["apply", "--auto-approve"]).expect_ok();
    t.run_env(
        &["apply", "--auto-approve"],
        &[("AGENTFORM_VAR_env", "prod")],
    )
    .expect_ok();
    let dev = check_stack(&sdk, "envs-dev").await;
    check_stack(&sdk, "envs-prod").await;
    t.run_env(
        &[
            "plan",
            "--detailed-exitcode",
            "--var-file",
            "prod.yaml",
            "--var",
            "env=dev",
        ],
        &[("AGENTFORM_VAR_env", "nosuch")],
    )
    .expect_code(0)
    .expect_stdout("No changes");

    // Destroying prod (named by the var file) leaves dev as it was.
    t.run(&["destroy", "--auto-approve", "--var-file", "prod.yaml"])
        .expect_ok();
    assert_eq!(sdk.leftovers("envs-prod").await, Vec::<String>::new());
    let after = check_stack(&sdk, "envs-dev").await;
    assert_eq!(after.gateway_id, dev.gateway_id);
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("envs-dev").await, Vec::<String>::new());
}
