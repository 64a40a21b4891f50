//! Runtime endpoints against moto, checked through the SDK: created with
//! their runtime, an endpoint on `latest` follows each new runtime version
//! while a pinned one stays, AgentCore's own `DEFAULT` endpoint is never
//! touched, an endpoint that leaves the spec is deleted (before its
//! runtime, on destroy), and nothing is left afterwards. Also: a literal
//! `(known after apply)` in a description is just text.

use std::collections::BTreeMap;

use crate::harness::{Sdk, Test, sdk};

/// (live version, target version) of each endpoint of a runtime, by name.
async fn endpoints(sdk: &Sdk, runtime_id: &str) -> BTreeMap<String, (String, String)> {
    let all: Vec<_> = sdk
        .agentcore
        .list_agent_runtime_endpoints()
        .agent_runtime_id(runtime_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListAgentRuntimeEndpoints");
    all.iter()
        .map(|e| {
            (
                e.name().to_string(),
                (
                    e.live_version().unwrap_or_default().to_string(),
                    e.target_version().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

async fn runtime_version(sdk: &Sdk, id: &str) -> String {
    sdk.agentcore
        .get_agent_runtime()
        .agent_runtime_id(id)
        .send()
        .await
        .expect("GetAgentRuntime")
        .agent_runtime_version()
        .to_string()
}

const SPEC: &str = r#"version: 1
project: endp
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/agent:v1
    environment:
      STAGE: one
    endpoints:
      live: { version: latest, description: Follows every version }
      pinned: { version: 1 }
      canary:
outputs:
  live_arn: ${runtimes.agent.endpoints.live.arn}
"#;

fn pair(live: &str, target: &str) -> (String, String) {
    (live.to_string(), target.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_latest_stay_pinned_and_go_first() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    let sdk = sdk().await;

    // Created with the runtime; DEFAULT is AgentCore's own.
    let out = t
        .run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Plan: 6 to add, 0 to change, 0 to replace, 0 to destroy.");
    let ids = sdk.runtimes_named("endp_agent").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let rid = &ids[0];
    assert_eq!(runtime_version(&sdk, rid).await, "1");
    let v1 = BTreeMap::from([
        ("DEFAULT".to_string(), pair("1", "1")),
        ("canary".to_string(), pair("1", "1")),
        ("live".to_string(), pair("1", "1")),
        ("pinned".to_string(), pair("1", "1")),
    ]);
    assert_eq!(endpoints(&sdk, rid).await, v1);
    let live_arn = format!(
        "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{rid}/runtime-endpoint/live"
    );
    assert!(
        out.stdout.contains(&format!("live_arn = \"{live_arn}\"")),
        "{out}"
    );
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // A runtime change makes version 2: the plan says the endpoints on
    // latest move to a version not known yet; the pinned one stays.
    t.edit_spec("STAGE: one", "STAGE: two");
    let out = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert_eq!(
        out.plan_headers(),
        [
            "runtime.agent will be updated in place",
            "runtime_endpoint.agent/canary will be updated in place",
            "runtime_endpoint.agent/live will be updated in place",
        ],
        "{out}"
    );
    assert!(
        out.stdout
            .contains("~ version = \"1\" -> (known after apply)"),
        "{out}"
    );
    assert!(
        out.stdout.contains("Note: runtime_endpoint.agent/pinned stays on version 1 (pinned): runtime.agent gets a new version"),
        "{out}"
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(runtime_version(&sdk, rid).await, "2");
    let eps = endpoints(&sdk, rid).await;
    assert_eq!(eps["live"], pair("2", "2"), "{eps:?}");
    assert_eq!(eps["canary"], pair("2", "2"), "{eps:?}");
    assert_eq!(eps["pinned"], pair("1", "1"), "{eps:?}");
    assert_eq!(eps["DEFAULT"].1, "2", "{eps:?}");
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // Pin moves; an endpoint that leaves the spec is deleted; DEFAULT stays.
    t.edit_spec("pinned: { version: 1 }", "pinned: { version: 2 }");
    t.edit_spec("      canary:\n", "");
    let out = t.run(&["apply", "--auto-approve"]).expect_ok();
    assert!(
        out.stdout
            .contains("# runtime_endpoint.agent/canary will be destroyed (not in the spec)"),
        "{out}"
    );
    let eps = endpoints(&sdk, rid).await;
    assert_eq!(
        eps.keys().map(String::as_str).collect::<Vec<_>>(),
        ["DEFAULT", "live", "pinned"]
    );
    assert_eq!(eps["pinned"], pair("2", "2"), "{eps:?}");

    // Destroy: endpoints before their runtime; nothing left.
    let out = t.run(&["destroy", "--auto-approve"]).expect_ok();
    let pos = |needle: &str| {
        out.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in\n{out}"))
    };
    let runtime_start = pos("runtime.agent: destroying");
    assert!(
        pos("runtime_endpoint.agent/live: destroyed") < runtime_start,
        "{out}"
    );
    assert!(
        pos("runtime_endpoint.agent/pinned: destroyed") < runtime_start,
        "{out}"
    );
    assert!(sdk.runtimes_named("endp_agent").await.is_empty());
    assert_eq!(sdk.leftovers("endp").await, Vec::<String>::new());
    t.run(&["destroy", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Nothing to destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_reading_known_after_apply_is_just_text() {
    let t = Test::reference().project("kaa");
    t.edit_spec(
        "description: MCP gateway with IAM inbound auth",
        "description: \"(known after apply)\"",
    );
    let out = t.run(&["apply", "--auto-approve"]).expect_ok();
    assert!(
        out.stdout
            .contains("+ description     = \"(known after apply)\""),
        "{out}"
    );
    let sdk = sdk().await;
    let ids = sdk.gateways_named("kaa-main").await;
    assert_eq!(ids.len(), 1);
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(&ids[0])
        .send()
        .await
        .expect("GetGateway");
    assert_eq!(g.description(), Some("(known after apply)"));
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
