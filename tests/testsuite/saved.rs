//! Saved plans against moto: `plan --out` then `apply FILE` applies exactly
//! the plan; a change in the account or the spec since makes apply refuse
//! and change nothing. And every JSON document agentform prints (plan,
//! outputs, errors) validates against its published schema.

use serde_json::Value;

use crate::harness::reference::{MODEL, NEW_MODEL, check_stack};
use crate::harness::{Test, sdk};

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("schema compiles")
}

/// Parses `text` and checks it against `schema/<name>`.
pub fn valid_json(name: &str, text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"));
    let errors: Vec<String> = schema(name)
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{text}");
    v
}

fn actions(plan: &Value, address: &str) -> Value {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no {address}"))["change"]["actions"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_exactly_or_refused_when_stale() {
    let t = Test::reference().project("saved");
    let sdk = sdk().await;

    let out = t
        .run(&["plan", "--out", "first.plan"])
        .expect_ok()
        .expect_stdout("Saved the plan to first.plan");
    // `show` reads the file offline, as text and as Terraform-shaped JSON.
    let shown = t.run(&["show", "first.plan"]).expect_ok();
    assert!(
        out.stdout.starts_with(&shown.stdout),
        "show prints the plan as plan did\n{shown}"
    );
    let j = valid_json(
        "plan.schema.json",
        &t.run(&["show", "first.plan", "--json"]).expect_ok().stdout,
    );
    assert_eq!(actions(&j, "gateway.main"), serde_json::json!(["create"]));
    assert_eq!(
        j["output_changes"]["gateway_endpoint"]["after_unknown"],
        true
    );

    // Applied unchanged: no question asked (the plan is the approval).
    t.run(&["apply", "first.plan"])
        .expect_ok()
        .expect_stdout("Apply complete");
    check_stack(&sdk, "saved").await;
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    // The same file again: the account it was made against is gone.
    t.run(&["apply", "first.plan"])
        .expect_code(1)
        .expect_stderr("is stale; nothing was changed");

    // A plan for a new model, then the function changed out of band.
    t.edit_spec(
        &format!("default: {MODEL}"),
        &format!("default: {NEW_MODEL}"),
    );
    t.run(&["plan", "--out", "model.plan"])
        .expect_ok()
        .expect_stdout("~ runtime");
    sdk.lambda
        .update_function_configuration()
        .function_name("saved-tools")
        .memory_size(256)
        .send()
        .await
        .expect("out-of-band change");
    let out = t
        .run(&["apply", "model.plan"])
        .expect_code(1)
        .expect_stderr("the saved plan model.plan is stale; nothing was changed")
        .expect_stderr("lambda_function saved-tools changed in the account");
    assert!(
        out.stderr.contains("agentform plan --out model.plan"),
        "{out}"
    );
    // Nothing was changed: the runtime still has the old model.
    let replan = t.run(&["plan"]).expect_ok();
    let model_line = replan
        .stdout
        .lines()
        .find(|l| l.contains("\"BEDROCK_MODEL_ID\""))
        .unwrap_or_else(|| panic!("{replan}"));
    assert!(
        model_line.contains(&format!("\"{MODEL}\" -> \"{NEW_MODEL}\"")),
        "{replan}"
    );

    // Planned again (it now also puts the memory back), then the spec is
    // edited before apply: refused too.
    t.run(&["plan", "--out", "model.plan"]).expect_ok();
    t.append("agentform.yaml", "# edited after the plan\n");
    t.run(&["apply", "model.plan"])
        .expect_code(1)
        .expect_stderr("agentform.yaml changed since the plan was made");

    // Planned once more and applied unchanged: both updates land.
    let j = valid_json(
        "plan.schema.json",
        &t.run(&["plan", "--out", "model.plan", "--json"])
            .expect_ok()
            .stdout,
    );
    assert_eq!(actions(&j, "runtime.agent"), serde_json::json!(["update"]));
    assert_eq!(
        actions(&j, "lambda_function.tools"),
        serde_json::json!(["update"])
    );
    assert_eq!(actions(&j, "gateway.main"), serde_json::json!(["no-op"]));
    t.run(&["apply", "model.plan"]).expect_ok();
    let stack = check_stack(&sdk, "saved").await;
    assert_eq!(
        stack
            .runtime_env
            .get("BEDROCK_MODEL_ID")
            .map(String::as_str),
        Some(NEW_MODEL)
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // The other JSON documents: outputs, and errors under --json.
    let outputs = valid_json(
        "outputs.schema.json",
        &t.run(&["output", "--json"]).expect_ok().stdout,
    );
    assert_eq!(outputs["gateway_endpoint"], stack.gateway_url.as_str());
    t.write("broken.yaml", "version: 1\nprojcet: x\n");
    let errs = valid_json(
        "diagnostics.schema.json",
        &t.run(&["plan", "--json", "-f", "broken.yaml"])
            .expect_code(1)
            .stdout,
    );
    assert_eq!(errs["diagnostics"][0]["range"]["start"]["line"], 2);
    let errs = valid_json(
        "diagnostics.schema.json",
        &t.run(&["show", "nosuch.plan", "--json"])
            .expect_code(1)
            .stdout,
    );
    assert!(
        errs["diagnostics"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("cannot read the plan file nosuch.plan"),
        "{errs:#}"
    );
    let destroyed = valid_json(
        "plan.schema.json",
        &t.run(&["plan", "--json"]).expect_ok().stdout,
    );
    assert_eq!(destroyed["summary"]["add"], 0);

    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
