//! AgentCore Memory: created, tagged and waited for, checked through the
//! SDK; a runtime that refers to it gets its id in the environment and
//! exactly the memory data-plane actions on it; expiry and strategies
//! change in place; destroy leaves nothing.

use serde_json::Value;

use crate::harness::{Sdk, Test, allowing, sdk, statements};

const SPEC: &str = r#"version: 1
project: memo
memories:
  chat:
    description: Conversation memory
    event_expiry_days: 30
    strategies:
      - { type: semantic, name: facts }
      - { type: summary }
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/agent:v1
    environment:
      MEMORY_ID: ${memories.chat.id}
"#;

async fn memory(sdk: &Sdk) -> aws_sdk_bedrockagentcorecontrol::types::Memory {
    let listed = sdk
        .agentcore
        .list_memories()
        .send()
        .await
        .expect("ListMemories");
    let mut found = Vec::new();
    for m in listed.memories() {
        let got = sdk
            .agentcore
            .get_memory()
            .memory_id(m.id().unwrap())
            .send()
            .await
            .unwrap()
            .memory
            .unwrap();
        if got.name() == "memo_chat" {
            found.push(got);
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn strategies(m: &aws_sdk_bedrockagentcorecontrol::types::Memory) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = m
        .strategies()
        .iter()
        .map(|s| (s.r#type().as_str().to_string(), s.name().to_string()))
        .collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_is_owned_and_its_runtime_may_use_exactly_it() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    let sdk = sdk().await;

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let m = memory(&sdk).await;
    assert_eq!(m.status().as_str(), "ACTIVE");
    assert_eq!(m.event_expiry_duration(), 30);
    assert_eq!(m.description(), Some("Conversation memory"));
    assert_eq!(
        strategies(&m),
        [
            ("SEMANTIC".to_string(), "facts".to_string()),
            ("SUMMARIZATION".to_string(), "summary".to_string())
        ]
    );
    let tags = sdk
        .agentcore
        .list_tags_for_resource()
        .resource_arn(m.arn())
        .send()
        .await
        .unwrap();
    let tags = tags.tags().cloned().unwrap_or_default();
    assert_eq!(
        tags.get("agentform:resource").map(String::as_str),
        Some("memory.chat")
    );

    // The runtime gets the id, and its role exactly the memory's data plane.
    let r = sdk.the_runtime_named("memo_agent").await;
    assert_eq!(
        r.environment_variables()
            .and_then(|e| e.get("MEMORY_ID"))
            .map(String::as_str),
        Some(m.id())
    );
    let role = sdk.role("memo-use1-rt-agent").await.expect("runtime role");
    let policy = role
        .policies
        .values()
        .next()
        .expect("inline policy")
        .clone();
    let memory_statements: Vec<Value> = statements(&policy)
        .into_iter()
        .filter(|s| s["Sid"] == "MemoryAccess")
        .collect();
    assert_eq!(memory_statements.len(), 1, "{policy:#}");
    assert_eq!(
        memory_statements[0]["Resource"],
        serde_json::json!([m.arn()])
    );
    assert_eq!(
        allowing(&policy, "bedrock-agentcore:RetrieveMemoryRecords").len(),
        1
    );
    assert!(allowing(&policy, "bedrock-agentcore:DeleteMemory").is_empty());
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");

    // In place: a shorter expiry, one strategy swapped for another.
    let changed = SPEC
        .replace("event_expiry_days: 30", "event_expiry_days: 14")
        .replace(
            "- { type: summary }",
            "- { type: user_preference, name: likes }",
        );
    t.write("agentform.yaml", &changed);
    t.run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout("0 to add, 1 to change, 0 to replace, 0 to destroy.");
    let m2 = memory(&sdk).await;
    assert_eq!(m2.id(), m.id(), "updated in place");
    assert_eq!(m2.event_expiry_duration(), 14);
    assert_eq!(
        strategies(&m2),
        [
            ("SEMANTIC".to_string(), "facts".to_string()),
            ("USER_PREFERENCE".to_string(), "likes".to_string())
        ]
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let listed = sdk.agentcore.list_memories().send().await.unwrap();
    for s in listed.memories() {
        let got = sdk
            .agentcore
            .get_memory()
            .memory_id(s.id().unwrap())
            .send()
            .await;
        if let Ok(g) = got {
            assert_ne!(
                g.memory.map(|m| m.name().to_string()).as_deref(),
                Some("memo_chat")
            );
        }
    }
}
