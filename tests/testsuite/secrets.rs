//! Sensitive values: a value from `${env:…}` or a variable marked
//! `sensitive: true` reaches AWS but no output agentform prints — plan
//! text and JSON, apply (also refused or failing), outputs, saved plans,
//! destroy, errors, debug logs — also when it is rotated.

use crate::harness::reference::check_stack;
use crate::harness::{Output, Test, sdk};

const FIRST: &str = "tok-first-8c1d5f";
const SECOND: &str = "tok-second-4e7a9b";
const PASSWORD: &str = "pw-hunter2-77x";

/// Every captured output, checked for every secret.
struct Captured(Vec<Output>);

impl Captured {
    fn keep(&mut self, o: Output) -> &Output {
        self.0.push(o);
        self.0.last().unwrap()
    }

    fn assert_clean(&self) {
        for o in &self.0 {
            for s in [FIRST, SECOND, PASSWORD] {
                assert!(
                    !o.stdout.contains(s) && !o.stderr.contains(s),
                    "`{s}` printed by `agentform {}`:\n{o}",
                    o.args.join(" ")
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_aws_but_no_output() {
    let t = Test::reference().project("sec");
    let sdk = sdk().await;
    t.edit_spec(
        "variables:\n",
        "variables:\n  db_password:\n    sensitive: true\n",
    );
    t.edit_spec(
        "BEDROCK_MODEL_ID: ${var.model_id}",
        "BEDROCK_MODEL_ID: ${var.model_id}\n      API_TOKEN: ${env:SEC_TEST_TOKEN}\n      AUTH_HEADER: Bearer ${env:SEC_TEST_TOKEN}",
    );
    let pw = format!("db_password={PASSWORD}");
    let mut c = Captured(vec![]);
    let run = |args: &[&str], token: &str| {
        let mut all: Vec<&str> = args.to_vec();
        if args[0] != "show" {
            all.extend(["--var", pw.as_str()]);
        }
        t.run_env(&all, &[("SEC_TEST_TOKEN", token)])
    };
    // The password goes into the function's environment.
    t.edit_spec(
        "    description: Calculator and greeting tools behind the gateway\n",
        "    description: Calculator and greeting tools behind the gateway\n    environment:\n      DB_PASSWORD: ${var.db_password}\n",
    );

    c.keep(run(&["validate"], FIRST)).clone_ok();
    let plan = c.keep(run(&["plan"], FIRST)).clone_ok();
    assert!(
        plan.stdout
            .contains("\"API_TOKEN\"        = (sensitive value)"),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("\"DB_PASSWORD\" = (sensitive value)"),
        "{plan}"
    );
    let json = c.keep(run(&["plan", "--json"], FIRST)).clone_ok();
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rt = j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "runtime.agent")
        .unwrap();
    assert_eq!(
        rt["change"]["after_sensitive"]["environment"]["API_TOKEN"],
        true
    );
    assert_eq!(
        rt["change"]["after"]["environment"]["API_TOKEN"],
        serde_json::Value::Null
    );
    // Refused for lack of a terminal, then applied.
    let refused = c.keep(run(&["apply"], FIRST));
    assert_eq!(refused.code, 1, "{refused}");
    c.keep(run(&["apply", "--auto-approve", "-vv"], FIRST))
        .clone_ok();
    let stack = check_stack(&sdk, "sec").await;
    assert_eq!(
        stack.runtime_env.get("API_TOKEN").map(String::as_str),
        Some(FIRST)
    );
    let f = sdk
        .lambda
        .get_function_configuration()
        .function_name("sec-tools")
        .send()
        .await
        .unwrap();
    let vars = f
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(vars.get("DB_PASSWORD").map(String::as_str), Some(PASSWORD));
    c.keep(run(&["plan", "--detailed-exitcode"], FIRST))
        .clone_ok();
    c.keep(run(&["output", "--json"], FIRST)).clone_ok();

    // Rotated: the change is seen, neither value shown.
    let rotated = c
        .keep(run(&["plan", "--out", "rot.plan", "-v"], SECOND))
        .clone_ok();
    assert!(
        rotated
            .stdout
            .contains("\"API_TOKEN\"        = (sensitive value changed)"),
        "{rotated}"
    );
    assert!(
        rotated
            .stdout
            .contains("\"AUTH_HEADER\"      = (sensitive value changed)"),
        "{rotated}"
    );
    c.keep(run(&["show", "rot.plan"], SECOND)).clone_ok();
    c.keep(run(&["show", "rot.plan", "--json"], SECOND))
        .clone_ok();
    c.keep(run(&["plan", "--json"], SECOND)).clone_ok();
    // A stale saved plan is refused without echoing anything.
    let stale = c.keep(run(&["apply", "rot.plan"], FIRST));
    assert_eq!(stale.code, 1, "{stale}");
    c.keep(run(&["apply", "rot.plan"], SECOND)).clone_ok();
    let stack = check_stack(&sdk, "sec").await;
    assert_eq!(
        stack.runtime_env.get("API_TOKEN").map(String::as_str),
        Some(SECOND)
    );

    // Errors that would quote a value: an output naming the secret, and a
    // value that fails validation.
    t.append("agentform.yaml", "  leaked: ${env:SEC_TEST_TOKEN}\n");
    let out = c.keep(run(&["output"], SECOND)).clone_ok();
    assert!(
        out.stdout.contains("leaked = \"(sensitive value)\""),
        "{out}"
    );
    t.edit_spec("project: sec", "project: ${env:SEC_TEST_TOKEN}-X!");
    let bad = c.keep(run(&["validate"], SECOND));
    assert_eq!(bad.code, 1, "{bad}");
    let bad = c.keep(run(&["plan", "--json"], SECOND));
    assert_eq!(bad.code, 1, "{bad}");
    t.edit_spec("project: ${env:SEC_TEST_TOKEN}-X!", "project: sec");

    c.keep(run(&["destroy", "--auto-approve"], SECOND))
        .clone_ok();
    c.assert_clean();
}

trait OkExt {
    fn clone_ok(&self) -> Output;
}

impl OkExt for Output {
    fn clone_ok(&self) -> Output {
        assert!(self.code == 0 || self.code == 2, "{self}");
        Output {
            args: self.args.clone(),
            code: self.code,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
        }
    }
}
