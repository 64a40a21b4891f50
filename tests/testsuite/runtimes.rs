//! Every runtime setting agentform manages reaches AgentCore, reads back
//! as planned (no diff), survives an image-only change, and converges back
//! after an out-of-band update that dropped it (UpdateAgentRuntime replaces
//! the whole configuration: the launcher makes moto do so too). Checked
//! through the SDK's GetAgentRuntime.

use aws_sdk_bedrockagentcorecontrol::operation::get_agent_runtime::GetAgentRuntimeOutput;
use aws_sdk_bedrockagentcorecontrol::types::{
    AgentRuntimeArtifact, ContainerConfiguration, NetworkConfiguration, NetworkMode,
};

use crate::harness::{Sdk, Test, sdk};

const SPEC: &str = r#"version: 1
project: rtset
variables:
  tag: { default: v1 }
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/agent:${var.tag}
    protocol: MCP
    environment:
      STAGE: one
      MODE: fast
    lifecycle: { idle_timeout: 600, max_lifetime: 3600 }
    request_headers: [X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant]
"#;

async fn runtime(sdk: &Sdk) -> GetAgentRuntimeOutput {
    sdk.the_runtime_named("rtset_agent").await
}

/// Protocol, environment (sorted), lifecycle (idle, max) and request
/// headers, as GetAgentRuntime returns them.
type Settings = (
    String,
    Vec<(String, String)>,
    Option<(i32, i32)>,
    Vec<String>,
);

/// What the spec's settings look like through the SDK.
fn settings(r: &GetAgentRuntimeOutput) -> Settings {
    let mut env: Vec<(String, String)> = r
        .environment_variables()
        .map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    env.sort();
    let lifecycle = r.lifecycle_configuration().map(|l| {
        (
            l.idle_runtime_session_timeout().unwrap_or_default(),
            l.max_lifetime().unwrap_or_default(),
        )
    });
    let headers = r
        .request_header_configuration()
        .and_then(|h| h.as_request_header_allowlist().ok())
        .cloned()
        .unwrap_or_default();
    let protocol = r
        .protocol_configuration()
        .map(|p| p.server_protocol().as_str().to_string())
        .unwrap_or_default();
    (protocol, env, lifecycle, headers)
}

fn uri(r: &GetAgentRuntimeOutput) -> String {
    match r.agent_runtime_artifact() {
        Some(AgentRuntimeArtifact::ContainerConfiguration(c)) => c.container_uri().to_string(),
        other => panic!("unexpected artifact {other:?}"),
    }
}

fn wanted() -> Settings {
    (
        "MCP".into(),
        vec![
            ("MODE".into(), "fast".into()),
            ("STAGE".into(), "one".into()),
        ],
        Some((600, 3600)),
        vec!["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant".into()],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_settings_are_sent_whole_and_converge() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    let sdk = sdk().await;

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let r = runtime(&sdk).await;
    assert_eq!(settings(&r), wanted());
    assert_eq!(r.agent_runtime_version(), "1");
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // An image-only change in the spec: a new version with every other
    // setting kept.
    let out = t
        .run(&["apply", "--auto-approve", "--var", "tag=v2"])
        .expect_ok()
        .expect_stdout("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    assert!(out.stdout.contains("~ container_uri"), "{out}");
    let r = runtime(&sdk).await;
    assert_eq!(r.agent_runtime_version(), "2");
    assert!(uri(&r).ends_with("/team/agent:v2"), "{}", uri(&r));
    assert_eq!(
        settings(&r),
        wanted(),
        "an image-only change kept the settings"
    );

    // Someone else's image-only update (what peers do): AgentCore resets
    // what the request leaves out. The plan names each dropped setting and
    // apply puts them back.
    sdk.agentcore
        .update_agent_runtime()
        .agent_runtime_id(r.agent_runtime_id())
        .agent_runtime_artifact(AgentRuntimeArtifact::ContainerConfiguration(
            ContainerConfiguration::builder()
                .container_uri(uri(&r).replace(":v2", ":v3"))
                .build()
                .unwrap(),
        ))
        .role_arn(r.role_arn())
        .network_configuration(
            NetworkConfiguration::builder()
                .network_mode(NetworkMode::Public)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateAgentRuntime");
    let dropped = runtime(&sdk).await;
    assert_ne!(
        settings(&dropped),
        wanted(),
        "the launcher resets what an update leaves out"
    );
    let plan = t
        .run(&["plan", "--detailed-exitcode", "--var", "tag=v2"])
        .expect_code(2);
    for field in [
        "~ container_uri",
        "~ environment",
        "~ idle_runtime_session_timeout",
        "~ max_lifetime",
        "~ protocol",
        "~ request_header_allowlist",
    ] {
        assert!(plan.stdout.contains(field), "{field} not planned\n{plan}");
    }
    t.run(&["apply", "--auto-approve", "--var", "tag=v2"])
        .expect_ok();
    let r = runtime(&sdk).await;
    assert_eq!(settings(&r), wanted());
    assert!(uri(&r).ends_with("/team/agent:v2"));
    t.run(&["plan", "--detailed-exitcode", "--var", "tag=v2"])
        .expect_code(0);

    // VPC mode and a JWT authorizer, in place.
    let vpc = SPEC.replace(
        "    protocol: MCP\n",
        "    protocol: MCP\n    network:\n      vpc:\n        subnets: [subnet-0123456789abcdef0, subnet-0abc1234]\n        security_groups: [sg-0abc1234]\n    authorizer:\n      custom_jwt:\n        discovery_url: https://idp.example.com/.well-known/openid-configuration\n        allowed_clients: [agent-client]\n",
    );
    t.write("agentform.yaml", &vpc);
    let out = t
        .run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    assert!(out.stdout.contains("~ network_mode"), "{out}");
    let r = runtime(&sdk).await;
    let net = r.network_configuration().expect("network");
    assert_eq!(net.network_mode(), &NetworkMode::Vpc);
    let v = net.network_mode_config().expect("VPC config");
    let mut subnets = v.subnets().to_vec();
    subnets.sort();
    assert_eq!(subnets, ["subnet-0123456789abcdef0", "subnet-0abc1234"]);
    assert_eq!(v.security_groups(), ["sg-0abc1234"]);
    let jwt = r
        .authorizer_configuration()
        .and_then(|a| a.as_custom_jwt_authorizer().ok())
        .expect("a JWT authorizer");
    assert_eq!(
        jwt.discovery_url(),
        "https://idp.example.com/.well-known/openid-configuration"
    );
    assert_eq!(jwt.allowed_clients(), ["agent-client"]);
    assert_eq!(
        settings(&r),
        (wanted().0, wanted().1, Some((600, 3600)), wanted().3)
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
