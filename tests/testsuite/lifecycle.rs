//! The whole life of the reference stack (`examples/iam-gateway`) against a
//! real moto server: apply, check every resource through the official SDK
//! (never through agentform's own code), plan shows no changes, change the
//! spec and see exactly those updates, apply them, destroy, and check that
//! nothing of the project is left.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::reference::{MODEL, NEW_MODEL, check_stack};
use crate::harness::{Sdk, Test, sdk};

/// `~ field = "before" -> "after"` in a rendered plan: the after value.
fn planned_after(stdout: &str, field: &str) -> String {
    let line = stdout
        .lines()
        .map(str::trim)
        .find(|l| {
            l.strip_prefix(&format!("~ {field} "))
                .is_some_and(|rest| rest.trim_start().starts_with("= "))
        })
        .unwrap_or_else(|| panic!("no `~ {field}` line:\n{stdout}"));
    let after = line.rsplit(" -> ").next().unwrap();
    after.trim().trim_matches('"').to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_of_the_reference_stack() {
    let t = Test::reference().project("life");
    let sdk = sdk().await;

    t.run(&["validate"]).expect_ok();

    // Apply the example.
    let out = t
        .run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
    let stack = check_stack(&sdk, "life").await;
    assert_eq!(stack.tools, ["add_numbers", "multiply_numbers", "greet"]);
    assert_eq!(
        stack
            .runtime_env
            .get("BEDROCK_MODEL_ID")
            .map(String::as_str),
        Some(MODEL)
    );
    assert!(
        out.stdout
            .contains(&format!("gateway_endpoint = \"{}\"", stack.gateway_url)),
        "apply prints the outputs\n{out}"
    );

    // The next plan shows no changes.
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // Outputs come from the live account.
    let out = t.run(&["output", "gateway_endpoint"]).expect_ok();
    assert_eq!(out.stdout.trim(), stack.gateway_url, "{out}");
    let out = t.run(&["output", "--json"]).expect_ok();
    let outputs: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("output --json: {e}\n{out}"));
    assert_eq!(
        outputs["gateway_endpoint"],
        stack.gateway_url.as_str(),
        "{out}"
    );
    assert_eq!(
        outputs["runtime_endpoint"],
        stack.runtime_arn.as_str(),
        "{out}"
    );

    // Change the spec: a fourth tool, another model (an env var of the
    // runtime), and new Lambda code.
    t.edit_spec(
        "              required: [name]\n",
        "              required: [name]\n          - name: subtract_numbers\n            description: Subtract b from a\n            input:\n              type: object\n              properties:\n                a: { type: number }\n                b: { type: number }\n              required: [a, b]\n",
    );
    t.edit_spec(
        &format!("default: {MODEL}"),
        &format!("default: {NEW_MODEL}"),
    );
    t.append("lambda/handler.py", "\n# changed by the lifecycle test\n");

    let out = t
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy.");
    let headers: BTreeSet<String> = out.plan_headers().into_iter().collect();
    let want: BTreeSet<String> = [
        "gateway_target.main/lambda-target will be updated in place",
        "lambda_function.tools will be updated in place",
        "runtime.agent will be updated in place",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(headers, want, "{out}");
    let out = out
        .expect_stdout("~ code_sha256 = ")
        .expect_stdout(&format!(
            "~ \"BEDROCK_MODEL_ID\" = \"{MODEL}\" -> \"{NEW_MODEL}\""
        ))
        .expect_stdout("subtract_numbers");
    assert!(
        !out.stdout.contains("GATEWAY_URL"),
        "the gateway URL did not change\n{out}"
    );
    let new_sha = planned_after(&out.stdout, "code_sha256");
    assert_ne!(new_sha, stack.code_sha256);

    // Apply them; the account has exactly the new configuration, in place.
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let after = check_stack(&sdk, "life").await;
    assert_eq!(
        after.tools,
        [
            "add_numbers",
            "multiply_numbers",
            "greet",
            "subtract_numbers"
        ]
    );
    assert_eq!(
        after
            .runtime_env
            .get("BEDROCK_MODEL_ID")
            .map(String::as_str),
        Some(NEW_MODEL)
    );
    assert_eq!(
        after.code_sha256, new_sha,
        "Lambda's CodeSha256 is the sha the plan showed"
    );
    assert_eq!(
        (&after.gateway_id, &after.gateway_arn, &after.gateway_url),
        (&stack.gateway_id, &stack.gateway_arn, &stack.gateway_url),
        "gateway kept"
    );
    assert_eq!(
        (&after.runtime_id, &after.runtime_arn),
        (&stack.runtime_id, &stack.runtime_arn),
        "runtime updated in place"
    );
    assert_eq!(after.function_arn, stack.function_arn);

    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // Destroy: nothing of the project is left.
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("life").await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");

    // A second destroy has nothing to do; a plan wants everything again.
    t.run(&["destroy", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Nothing to destroy");
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_destroy_against_an_empty_account() {
    let t = Test::reference().project("fresh");
    let sdk = sdk().await;

    let out = t
        .run(&["plan"])
        .expect_ok()
        .expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
    assert!(
        out.stdout.contains("# gateway.main will be created"),
        "{out}"
    );
    // References to what does not exist yet are shown as unknown.
    assert!(out.stdout.contains("(known after apply)"), "{out}");
    // The whole plan a reviewer reads, with the code hash masked (it follows
    // the Lambda source, which has its own tests).
    let sha = regex::Regex::new(r#"code_sha256( +)= "[A-Za-z0-9+/=]{44}""#).unwrap();
    insta::assert_snapshot!(
        "first_plan_of_the_reference_stack",
        sha.replace_all(&out.stdout, r#"code_sha256${1}= "<sha256>""#)
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    // Outputs of a stack that does not exist are an error, not a placeholder.
    let out = t.run(&["output", "gateway_endpoint"]).expect_code(1);
    assert!(
        out.stderr
            .contains("output gateway_endpoint is not known yet")
            && out.stderr.contains("agentform apply"),
        "{out}"
    );
    t.run(&["destroy", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Nothing to destroy");
    let left = sdk.leftovers("fresh").await;
    assert!(left.is_empty(), "plan/destroy created something: {left:#?}");
}

/// Pushes an image manifest under `tag` (what `docker push` leaves in ECR).
async fn push_image(sdk: &Sdk, repository: &str, tag: &str, layer: &str) {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": format!("sha256:{}", "c".repeat(64))},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": format!("sha256:{layer}")}]
    });
    sdk.ecr
        .put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(manifest.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_image {repository}:{tag}: {e:?}"));
}

/// A new image pushed under the same tag shows up in the plan as a runtime
/// update pinned to the new digest, and rolls out on apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newly_pushed_image_is_a_runtime_update() {
    let t = Test::reference().project("img");
    let sdk = sdk().await;
    // First apply: no image yet, the runtime uses the tag.
    t.run(&["apply", "--auto-approve"]).expect_ok();
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    push_image(&sdk, "img/agent", "latest", &"1".repeat(64)).await;
    let out = t
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(2)
        .expect_stdout("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    assert_eq!(
        out.plan_headers(),
        ["runtime.agent will be updated in place"],
        "{out}"
    );
    let first = planned_after(&out.stdout, "container_uri");
    assert!(
        first.starts_with("123456789012.dkr.ecr.us-east-1.amazonaws.com/img/agent:latest@sha256:"),
        "{first}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // Same tag, new content: a new digest to roll out.
    push_image(&sdk, "img/agent", "latest", &"2".repeat(64)).await;
    let out = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    let second = planned_after(&out.stdout, "container_uri");
    assert_ne!(first, second, "{out}");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    // By name through every page: the account holds the runtimes of every
    // test running at the time.
    let rt = sdk.the_runtime_named("img_agent").await;
    let uri = match rt.agent_runtime_artifact() {
        Some(
            aws_sdk_bedrockagentcorecontrol::types::AgentRuntimeArtifact::ContainerConfiguration(c),
        ) => c.container_uri().to_string(),
        other => panic!("unexpected artifact {other:?}"),
    };
    assert_eq!(uri, second);

    // A repository holding images is kept unless the spec says otherwise...
    t.run(&["destroy", "--auto-approve"])
        .expect_code(1)
        .expect_stderr("force_delete: true")
        .expect_stderr("Nothing was deleted");
    assert_eq!(
        sdk.runtimes_named("img_agent").await.len(),
        1,
        "destroy stops before deleting anything"
    );
    // ...and a re-run with the flag finishes the job.
    t.edit_spec("agent: {}", "agent: {force_delete: true}");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("img").await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

/// A pip stand-in that records its command line and "installs" one module
/// naming the requirements it was given: the example's real requirements
/// (Strands, the AgentCore SDK) are installed by `scripts/demo.sh`; here
/// the test proves the one-apply path without a package index.
const RECORDING_PIP: &str = r#"import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PIP_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
target = args[args.index("--target") + 1]
requirements = open(args[args.index("-r") + 1]).read()
os.makedirs(os.path.join(target, "installed_by_fake_pip"), exist_ok=True)
with open(os.path.join(target, "installed_by_fake_pip", "__init__.py"), "w") as f:
    f.write("REQUIREMENTS = %r\n" % requirements)
"#;

/// `examples/iam-gateway` as written: the agent goes out as a code bundle
/// in the same apply as everything else, with no manual step; re-plan is
/// empty and destroy leaves nothing (bucket included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_deploys_its_agent_as_a_code_bundle() {
    use aws_sdk_bedrockagentcorecontrol::types::AgentRuntimeArtifact;
    use std::io::Read;

    let t = Test::new().example("iam-gateway").project("asis");
    let sdk = sdk().await;
    t.write("fake_pip.py", RECORDING_PIP);
    let pip = format!(
        "{} {}",
        crate::harness::python().display(),
        t.path("fake_pip.py").display()
    );
    let (log, cache) = (
        t.path("pip.log").display().to_string(),
        t.path("cache").display().to_string(),
    );
    let env = [
        ("AGENTFORM_PIP", pip.as_str()),
        ("FAKE_PIP_LOG", log.as_str()),
        ("AGENTFORM_CACHE_DIR", cache.as_str()),
    ];

    t.run_env(&["apply", "--auto-approve"], &env)
        .expect_ok()
        .expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
    let calls = t.read("pip.log");
    assert_eq!(calls.lines().count(), 1, "one install: {calls}");
    for want in [
        "--platform manylinux2014_aarch64",
        "--python-version 3.12",
        "--only-binary=:all:",
    ] {
        assert!(calls.contains(want), "{want} not in {calls}");
    }

    let r = sdk.the_runtime_named("asis_agent").await;
    let Some(AgentRuntimeArtifact::CodeConfiguration(c)) = r.agent_runtime_artifact() else {
        panic!("not a code artifact: {:?}", r.agent_runtime_artifact());
    };
    assert_eq!(c.runtime().as_str(), "PYTHON_3_12");
    assert_eq!(c.entry_point(), ["app.py"]);
    let s3 = c.code().unwrap().as_s3().unwrap();
    assert_eq!(s3.bucket(), "agentform-asis-123456789012-us-east-1");
    let body = sdk.object(s3.bucket(), s3.prefix()).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut installed = String::new();
    zip.by_name("installed_by_fake_pip/__init__.py")
        .expect("the installed requirements are in the bundle")
        .read_to_string(&mut installed)
        .unwrap();
    assert!(installed.contains("strands-agents"), "{installed}");
    let mut app = String::new();
    zip.by_name("app.py")
        .expect("the agent's entry point is in the bundle")
        .read_to_string(&mut app)
        .unwrap();
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/agent/app.py"
    ))
    .unwrap();
    assert_eq!(app, template);
    // The gateway URL reaches the agent through its environment.
    let gateways = sdk.gateways_named("asis-main").await;
    assert_eq!(gateways.len(), 1);
    let env_vars = r.environment_variables().cloned().unwrap_or_default();
    assert!(
        env_vars
            .get("GATEWAY_URL")
            .is_some_and(|u| u.contains(&gateways[0])),
        "{env_vars:?}"
    );

    t.run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(0);
    assert_eq!(
        t.read("pip.log").lines().count(),
        1,
        "plan installs nothing"
    );
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("asis").await;
    assert!(left.is_empty(), "destroy left {left:#?}");
}
