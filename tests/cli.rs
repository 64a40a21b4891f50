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
    for cmd in ["validate", "plan", "apply", "destroy", "output", "init"] {
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
