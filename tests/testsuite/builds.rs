//! A runtime whose image agentform builds from a context: with a fake
//! container tool on PATH (it records its arguments and pushes a manifest
//! naming the context's hash to ECR through the SDK), the first apply
//! builds once and deploys by digest, a re-plan builds nothing, an edited
//! file rebuilds and redeploys and moves the endpoint that follows the
//! latest version; without a tool, apply says which tools (or a code
//! bundle) would do.

use aws_sdk_bedrockagentcorecontrol::types::AgentRuntimeArtifact;

use crate::harness::{Sdk, Test, python, sdk};

const SPEC: &str = r#"version: 1
project: build
repositories:
  agent: { force_delete: true }
runtimes:
  agent:
    artifact:
      container:
        repository: agent
        build: { context: agent }
    endpoints:
      live: { version: latest }
"#;

struct Tool {
    _bin: tempfile::TempDir,
    path: String,
    log: std::path::PathBuf,
}

/// `docker` on PATH: the fake tool, logging to the test's directory.
fn fake_docker(t: &Test) -> Tool {
    let bin = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/fake_container_tool.py"
    );
    let wrapper = bin.path().join("docker");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' '{script}' \"$@\"\n",
            python().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Tool {
        _bin: bin,
        path,
        log: t.path("tool.log"),
    }
}

fn calls(tool: &Tool) -> Vec<Vec<String>> {
    std::fs::read_to_string(&tool.log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn deployed(sdk: &Sdk) -> (String, String) {
    let r = sdk.the_runtime_named("build_agent").await;
    let Some(AgentRuntimeArtifact::ContainerConfiguration(c)) = r.agent_runtime_artifact() else {
        panic!("not a container: {:?}", r.agent_runtime_artifact());
    };
    (
        r.agent_runtime_version().to_string(),
        c.container_uri().to_string(),
    )
}

async fn digest_of(sdk: &Sdk, tag: &str) -> String {
    let out = sdk
        .ecr
        .describe_images()
        .repository_name("build/agent")
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("DescribeImages");
    out.image_details()[0].image_digest().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_image_is_deployed_by_digest_and_rebuilt_only_when_its_context_changes() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    t.write(
        "agent/Dockerfile",
        "FROM public.ecr.aws/docker/library/python:3.12-slim\nCOPY app.py .\n",
    );
    t.write("agent/app.py", "print('v1')\n");
    let sdk = sdk().await;
    let tool = fake_docker(&t);
    let log = tool.log.display().to_string();
    let env = [
        ("PATH", tool.path.as_str()),
        ("FAKE_CONTAINER_TOOL_LOG", log.as_str()),
    ];

    let plan = t.run_env(&["plan"], &env).expect_code(0);
    assert!(
        plan.stdout.contains("runtime.agent: the image will be built from agent for linux/arm64 and pushed (no image yet), with docker")
            || plan.stderr.contains("runtime.agent: the image will be built from agent for linux/arm64 and pushed (no image yet), with docker"),
        "{plan}"
    );
    t.run_env(&["apply", "--auto-approve"], &env).expect_ok();
    let first = calls(&tool);
    assert_eq!(first.len(), 2, "one login, one build: {first:?}");
    assert_eq!(&first[0][..3], ["login", "--username", "AWS"]);
    let build = &first[1];
    assert_eq!(&build[..2], ["buildx", "build"]);
    let at = |flag: &str| build[build.iter().position(|a| a == flag).unwrap() + 1].clone();
    assert_eq!(at("--platform"), "linux/arm64");
    assert!(build.contains(&"--push".to_string()), "{build:?}");
    let image = at("-t");
    let tag = image.rsplit(':').next().unwrap().to_string();
    assert!(tag.starts_with("agentform-") && tag.len() == 26, "{image}");
    let (version, uri) = deployed(&sdk).await;
    assert_eq!(version, "1");
    assert_eq!(
        uri,
        format!("{image}@{}", digest_of(&sdk, &tag).await),
        "pinned by digest"
    );

    // Nothing changed: no plan, no build.
    t.run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(0)
        .expect_stdout("No changes");
    assert_eq!(calls(&tool).len(), 2);

    // An edited file: rebuilt, redeployed, the following endpoint moved.
    t.write("agent/app.py", "print('v2')\n");
    let plan = t
        .run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(2);
    assert!(
        format!("{}{}", plan.stdout, plan.stderr)
            .contains("(the context changed since the image the runtime runs)"),
        "{plan}"
    );
    t.run_env(&["apply", "--auto-approve"], &env).expect_ok();
    let second = calls(&tool);
    assert_eq!(second.len(), 4, "{second:?}");
    let new_image = second[3][second[3].iter().position(|a| a == "-t").unwrap() + 1].clone();
    assert_ne!(new_image, image);
    let (version, uri) = deployed(&sdk).await;
    assert_eq!(version, "2");
    let new_tag = new_image.rsplit(':').next().unwrap();
    assert_eq!(
        uri,
        format!("{new_image}@{}", digest_of(&sdk, new_tag).await)
    );
    let ids = sdk.runtimes_named("build_agent").await;
    let live = sdk
        .agentcore
        .get_agent_runtime_endpoint()
        .agent_runtime_id(&ids[0])
        .endpoint_name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(live.target_version(), Some("2"));
    t.run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(0);

    // No container tool: apply says what would do.
    t.write("agent/app.py", "print('v3')\n");
    let empty = tempfile::tempdir().unwrap();
    let out = t
        .run_env(
            &["apply", "--auto-approve"],
            &[("PATH", &empty.path().display().to_string())],
        )
        .expect_code(1);
    for needle in ["docker (with buildx), podman or finch", "code bundle"] {
        assert!(out.stderr.contains(needle), "{needle}\n{out}");
    }

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert!(sdk.leftovers("build").await.is_empty());
}
