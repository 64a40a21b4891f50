//! What users read from the command line itself: help texts and argument
//! errors, compared whole.

use std::process::Command;

fn agentform(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_agentform"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("AGENTFORM_FILE")
        .output()
        .expect("run agentform");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn top_level_help() {
    let (code, stdout, _) = agentform(&["--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn help_of_each_command() {
    for cmd in [
        "validate",
        "plan",
        "apply",
        "destroy",
        "force-unlock",
        "graph",
        "completions",
        "show",
        "output",
        "init",
        "schema",
        "import",
        "man",
        "tools",
        "invoke",
    ] {
        let (code, stdout, _) = agentform(&[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd} --help");
        insta::assert_snapshot!(format!("help_{cmd}"), stdout);
    }
}

#[test]
fn bad_var_syntax_is_a_usage_error() {
    // 1, not clap's usual 2: with --detailed-exitcode, 2 means "changes".
    let (code, _, stderr) = agentform(&["validate", "--var", "novalue"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("expected NAME=VALUE, got `novalue`"),
        "{stderr}"
    );
}

#[test]
fn unknown_flag_exits_1() {
    let (code, _, stderr) = agentform(&["plan", "--detailed-exitcod"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--detailed-exitcode"),
        "clap suggests the flag: {stderr}"
    );
}

#[test]
fn missing_spec_file_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_agentform"))
        .arg("validate")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("AGENTFORM_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read agentform.yaml"), "{stderr}");
    assert!(stderr.contains("agentform init"), "{stderr}");
}

#[test]
fn validate_json_lists_every_problem_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agentform.yaml"),
        "version: 1\nprojcet: demo\nfunctions: 3\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_agentform"))
        .args(["validate", "--json"])
        .current_dir(dir.path())
        .env_remove("AGENTFORM_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let positions: Vec<(u64, u64, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let start = &p["range"]["start"];
            (
                start["line"].as_u64().unwrap(),
                start["column"].as_u64().unwrap(),
                p["summary"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        positions.contains(&(2, 1, "unknown field `projcet`")),
        "{positions:?}"
    );
    assert!(
        positions.iter().any(|(l, c, _)| (*l, *c) == (3, 12)),
        "{positions:?}"
    );

    std::fs::write(
        dir.path().join("agentform.yaml"),
        "version: 1\nproject: demo\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_agentform"))
        .args(["validate", "--json"])
        .current_dir(dir.path())
        .env_remove("AGENTFORM_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["diagnostics"], serde_json::json!([]));
}

#[test]
fn schema_command_prints_the_published_schema() {
    let (code, stdout, _) = agentform(&["schema"]);
    assert_eq!(code, 0);
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/agentform.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(printed, file);
}

/// `init` writes the spec with the yaml-language-server modeline first and
/// the schema next to it, byte for byte what `agentform schema` prints (so
/// `agentform schema > agentform.schema.json` refreshes it), and the result
/// validates.
#[test]
fn init_writes_the_schema_next_to_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo-agent");
    let dir_arg = dir.to_str().unwrap();
    let (code, stdout, stderr) = agentform(&["init", dir_arg]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "{}\n",
            dir.join("agentform.schema.json").display()
        )),
        "{stdout}"
    );
    let spec = std::fs::read_to_string(dir.join("agentform.yaml")).unwrap();
    assert_eq!(
        spec.lines().next(),
        Some("# yaml-language-server: $schema=./agentform.schema.json")
    );
    let written = std::fs::read_to_string(dir.join("agentform.schema.json")).unwrap();
    let (code, printed, _) = agentform(&["schema"]);
    assert_eq!(code, 0);
    assert_eq!(written, printed);
    let spec_path = dir.join("agentform.yaml");
    let (code, stdout, stderr) = agentform(&["validate", "-f", spec_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("is valid"), "{stdout}");
}

#[test]
fn graph_of_the_reference_stack() {
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam-gateway/agentform.yaml"
    );
    let (code, dot, stderr) = agentform(&["graph", "-f", spec]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("graph_dot", dot);
    let (code, mermaid, stderr) = agentform(&["graph", "--format", "mermaid", "-f", spec]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("graph_mermaid", mermaid);
}

#[test]
fn man_page_is_roff() {
    let (code, stdout, _) = agentform(&["man"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(".ie") || stdout.contains(".TH agentform"),
        "{stdout}"
    );
    for cmd in ["plan", "apply", "import", "show"] {
        assert!(stdout.contains(cmd), "{cmd} missing from the man page");
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script, stderr) = agentform(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in [
            "agentform",
            "apply",
            "destroy",
            "force-unlock",
            "auto-approve",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
}

/// Runs agentform with only `env` (no inherited AWS settings).
fn agentform_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("home");
    let out = Command::new(env!("CARGO_BIN_EXE_agentform"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run agentform");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn aws_setup_errors_say_what_to_do() {
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam-gateway/agentform.yaml"
    );
    // No credentials anywhere.
    let (code, stderr) = agentform_env(&["plan", "-f", spec], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr
            .starts_with("error: no AWS credentials found. agentform looks where the AWS CLI does"),
        "{stderr}"
    );
    assert!(stderr.contains("aws sso login"), "{stderr}");
    insta::assert_snapshot!(
        "error_no_credentials",
        stderr.lines().next().unwrap_or_default()
    );

    // A profile that is not defined is an error, not silently ignored.
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile dev]\nregion = us-east-1\n").expect("config");
    let config = config.to_string_lossy().into_owned();
    let (code, stderr) = agentform_env(
        &["plan", "-f", spec, "--profile", "nosuch"],
        &[
            ("AWS_CONFIG_FILE", config.as_str()),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap_or_default(),
        "error: AWS profile `nosuch` is not defined in ~/.aws/config or ~/.aws/credentials (or the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE name); defined: dev"
    );
    insta::assert_snapshot!("error_unknown_profile", stderr);

    let (code, stderr) = agentform_env(
        &["plan", "-f", spec],
        &[
            ("AWS_CONFIG_FILE", config.as_str()),
            ("AWS_PROFILE", "nosuch"),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("error: AWS profile `nosuch` is not defined"),
        "{stderr}"
    );

    // An endpoint nobody listens on: said at once, naming it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (code, stderr) = agentform_env(
        &["plan", "-f", spec],
        &[
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: could not reach AWS at AWS_ENDPOINT_URL={url}: is the endpoint up?"
        )),
        "{stderr}"
    );
    insta::assert_snapshot!(
        "error_unreachable_endpoint",
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .replace(&url, "http://127.0.0.1:<port>")
    );
}

#[test]
fn var_files_are_checked_like_flags() {
    let dir = tempfile::tempdir().expect("dir");
    let spec = dir.path().join("agentform.yaml");
    std::fs::write(
        &spec,
        "version: 1\nproject: demo-${var.env}\nvariables:\n  env: { default: dev }\n",
    )
    .expect("spec");
    std::fs::write(dir.path().join("bad.yaml"), "nope: 1\n").expect("var file");
    let spec = spec.to_string_lossy().into_owned();
    let bad = dir.path().join("bad.yaml").to_string_lossy().into_owned();
    let (code, _, stderr) = agentform(&["validate", "-f", &spec, "--var-file", &bad]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "error: `nope` in {bad} sets a variable the spec does not declare"
        )),
        "{stderr}"
    );
    let (code, _, stderr) =
        agentform(&["validate", "-f", &spec, "--var-file", "/nonexistent.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: cannot read the var file /nonexistent.yaml"),
        "{stderr}"
    );
    // A value from the file that breaks a rule is reported where it lands.
    std::fs::write(dir.path().join("upper.yaml"), "env: Prod\n").expect("var file");
    let upper = dir.path().join("upper.yaml").to_string_lossy().into_owned();
    let (code, _, stderr) = agentform(&["validate", "-f", &spec, "--var-file", &upper]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("project name `demo-Prod` has uppercase letters"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_show_steps_and_sdk_requests_but_no_values() {
    use crate::harness::Test;
    let t = Test::reference().project("logs");
    let secret = "not-for-the-logs-4711";
    t.edit_spec(
        "BEDROCK_MODEL_ID: ${var.model_id}",
        &format!("BEDROCK_MODEL_ID: ${{var.model_id}}\n      API_TOKEN: {secret}"),
    );
    let quiet = t.run(&["plan"]).expect_ok();
    assert!(!quiet.stderr.contains("DEBUG"), "{quiet}");

    let v = t.run(&["plan", "-v"]).expect_ok();
    assert!(v.stderr.contains("observed the account"), "{v}");
    assert!(
        !v.stderr.contains("aws_smithy_runtime"),
        "-v is agentform only\n{v}"
    );

    let key = "secret-key-not-for-the-logs";
    let out = t
        .run_env(
            &["apply", "--auto-approve", "-vv"],
            &[("AWS_SECRET_ACCESS_KEY", key)],
        )
        .expect_ok();
    for needle in ["lock taken", "aws_smithy_runtime", "start", "wait done"] {
        assert!(
            out.stderr.contains(needle),
            "no `{needle}` in\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains(secret), "a value reached the logs");
    assert!(!out.stderr.contains(key), "the secret key reached the logs");

    // AGENTFORM_LOG wins over -v.
    let filtered = t
        .run_env(&["plan", "-v"], &[("AGENTFORM_LOG", "agentform=error")])
        .expect_ok();
    assert!(
        !filtered.stderr.contains("observed the account"),
        "{filtered}"
    );
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}
