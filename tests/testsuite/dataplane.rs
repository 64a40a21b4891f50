//! The wiring works: `agentform tools` lists and calls the reference tools
//! over a SigV4-signed MCP session against the launcher's gateway emulator
//! (which checks every signature with botocore and the role's IAM policy
//! with moto's), as the caller and as the runtime's own role; `apply
//! --verify` proves it after an apply and fails, naming runtime and
//! gateway, when the runtime may not call the gateway; the `init`
//! template's Python client lists the same tools; `invoke` streams a
//! runtime's answer from the launcher's InvokeAgentRuntime stand-in.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::harness::{REGION, Sdk, Test, python, sdk, statements};

const TOOLS: [&str; 4] = [
    "lambda-target___add_numbers",
    "lambda-target___greet",
    "lambda-target___multiply_numbers",
    "x_amz_bedrock_agentcore_search",
];

/// The reference example, whose runtime roles the test's caller may assume.
fn verifiable(project: &str) -> Test {
    let t = Test::reference().project(project);
    t.append(
        "agentform.yaml",
        "\nverify_principals: [\"123456789012\"]\n",
    );
    t
}

/// Applies, checks the runtime role's trust (AgentCore, and the verify
/// statement for the account) and that a re-plan is empty; the gateway URL.
async fn apply(t: &Test, sdk: &Sdk, project: &str) -> String {
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let role = sdk
        .role(&format!("{project}-use1-rt-agent"))
        .await
        .expect("runtime role");
    let trust = statements(&role.trust);
    assert_eq!(trust.len(), 2, "{trust:#?}");
    assert_eq!(
        trust[0]["Principal"]["Service"],
        "bedrock-agentcore.amazonaws.com"
    );
    assert_eq!(
        trust[1],
        serde_json::json!({
            "Sid": "AgentformVerify",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
            "Action": "sts:AssumeRole"
        })
    );
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    let url = t.run(&["output", "gateway_endpoint"]).expect_ok().stdout;
    url.trim().trim_matches('"').to_string()
}

fn listed(stdout: &str) -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(stdout).expect("tools --json prints JSON");
    doc["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn want() -> BTreeSet<String> {
    TOOLS.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_and_called_as_the_agent_sees_them() {
    let t = verifiable("wire");
    let sdk = sdk().await;
    let gateway_url = apply(&t, &sdk, "wire").await;

    // As the caller, and paginated (the emulator pages by two).
    let out = t.run(&["tools"]).expect_ok();
    for tool in TOOLS {
        assert!(out.stdout.contains(tool), "{tool} missing\n{out}");
    }
    assert!(
        out.stdout.contains("gateway main: 4 tools (as the caller)"),
        "{out}"
    );
    assert!(
        out.stdout.contains("Add two numbers and return the sum"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("input: a (number, required), b (number, required)"),
        "{out}"
    );
    let json = t.run(&["tools", "main", "--json"]).expect_ok();
    assert_eq!(listed(&json.stdout), want());

    // As the runtime's execution role (assumed through STS: the spec's
    // verify_principals lets the caller).
    let as_role = t
        .run(&["tools", "--as", "runtime.agent", "--json"])
        .expect_ok();
    assert_eq!(listed(&as_role.stdout), want());

    // One tool, with the gateway's Lambda event contract behind it.
    let call = t
        .run(&[
            "tools",
            "call",
            "lambda-target___add_numbers",
            "--args",
            r#"{"a":100,"b":12}"#,
        ])
        .expect_ok();
    assert_eq!(call.stdout.trim(), r#"{"result": 112}"#, "{call}");
    t.run(&[
        "tools",
        "call",
        "lambda-target___greet",
        "--args",
        r#"{"name":"Ada"}"#,
        "--as",
        "runtime.agent",
    ])
    .expect_ok()
    .expect_stdout("Hello, Ada!");
    // A tool the gateway does not have: its JSON-RPC error, exit 1.
    t.run(&["tools", "call", "lambda-target___divide", "--args", "{}"])
        .expect_code(1)
        .expect_stderr("JSON-RPC error -32602: Unknown tool: lambda-target___divide");
    t.run(&[
        "tools",
        "call",
        "lambda-target___add_numbers",
        "--args",
        "[1]",
    ])
    .expect_code(1)
    .expect_stderr("--args must be a JSON object");

    // apply --verify on the converged stack: nothing to change, verified.
    t.run(&["apply", "--auto-approve", "--verify"])
        .expect_ok()
        .expect_stderr("verified: runtime agent lists gateway main's 4 tools as its role");

    // The init template's own client (mcp-proxy-for-aws + mcp from PyPI).
    let app = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/agent/app.py");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/template_client.py"
    );
    let out = Command::new(python())
        .args([script, app])
        .env("GATEWAY_URL", &gateway_url)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "template client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: BTreeSet<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names, want());

    // Streaming and plain answers from the runtime.
    let inv = t
        .run(&["invoke", "agent", "--prompt", "100 + 12"])
        .expect_ok();
    assert!(
        inv.stdout.contains(r#""response": "You said: 100 + 12""#),
        "{inv}"
    );
    assert!(inv.stdout.contains(r#""qualifier": "DEFAULT""#), "{inv}");
    assert!(inv.stderr.contains("session: agentform-"), "{inv}");
    t.write(
        "payload.json",
        r#"{"prompt": "hello there", "stream": true}"#,
    );
    let session = "my-session-0123456789abcdef0123456789";
    let inv = t
        .run(&[
            "invoke",
            "agent",
            "--payload",
            "payload.json",
            "--session",
            session,
        ])
        .expect_ok();
    assert_eq!(inv.stdout, "You said: hello there\n", "{inv}");
    assert!(inv.stderr.contains(&format!("session: {session}")), "{inv}");
    t.run(&["invoke", "agent", "--prompt", "x", "--session", "short"])
        .expect_code(1)
        .expect_stderr("--session must be 33 to 256 characters");
    t.run(&["invoke", "agent", "--prompt", "x", "--endpoint", "nope"])
        .expect_code(1)
        .expect_stderr("runtime agent has no endpoint `nope`");
    t.run(&["invoke", "nobody", "--prompt", "x"])
        .expect_code(1)
        .expect_stderr("the spec has no runtime `nobody` (it has: agent)");

    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_or_role_that_may_not_call_the_gateway_is_told_why() {
    let t = verifiable("deny");
    let sdk = sdk().await;
    apply(&t, &sdk, "deny").await;

    // A wrong secret: the emulator's signature check fails.
    t.run_env(&["tools"], &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")])
        .expect_code(1)
        .expect_stderr("gateway main rejected the request's signature")
        .expect_stderr("InvalidSignatureException");

    // The runtime no longer lists the gateway: its role may not invoke it.
    t.edit_spec("invoke_gateways: [main]", "invoke_gateways: []");
    let out = t
        .run(&["apply", "--auto-approve", "--verify"])
        .expect_code(1);
    assert!(
        out.stderr
            .contains("verify failed: runtime agent cannot use gateway main")
            && out.stderr.contains("invoke_gateways"),
        "{out}"
    );
    // Asked directly, the gateway itself denies the role.
    t.run(&["tools", "--as", "runtime.agent"])
        .expect_code(1)
        .expect_stderr("access denied: runtime agent's execution role may not invoke gateway main")
        .expect_stderr("bedrock-agentcore:InvokeGateway");

    // Without verify_principals the role trusts only AgentCore.
    let spec = t
        .read("agentform.yaml")
        .replace("verify_principals: [\"123456789012\"]", "");
    t.write("agentform.yaml", &spec);
    t.run(&["apply", "--auto-approve"]).expect_ok();
    t.run(&["tools", "--as", "runtime.agent"])
        .expect_code(1)
        .expect_stderr("could not assume runtime agent's execution role")
        .expect_stderr("verify_principals: [arn:aws:iam::123456789012:user/moto]");

    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
