//! `agentform validate`: every invalid spec below is written to a fresh
//! directory (with `lambda/handler.py`, so `source: lambda` resolves), the
//! built binary is run there as `agentform validate -f agentform.yaml
//! --no-color`, and the whole of its stderr is compared with a snapshot under
//! `tests/testsuite/snapshots/` that also shows the spec with line numbers, so
//! each `agentform.yaml:LINE:COL` can be checked by eye. The exit code, the
//! problem count and the absence of panics are asserted here.
//!
//! Snapshots are reviewed, not generated blindly: after a deliberate change to
//! a message, run `INSTA_UPDATE=always cargo test --test testsuite validate::`
//! and read every changed `.snap` before keeping it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A spec in its own directory, and how to run `validate` on it.
struct Case {
    /// Holds the project, `<tmp>/project`, and next to it `<tmp>/outside`,
    /// for sources and links that point out of the project (`<tmp>` in
    /// snapshots).
    root: tempfile::TempDir,
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Case {
    /// `spec` as `agentform.yaml`, next to a `lambda/` function directory.
    fn new(spec: impl AsRef<[u8]>) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("project");
        std::fs::create_dir_all(dir.join("lambda")).expect("lambda dir");
        std::fs::create_dir(root.path().join("outside")).expect("outside dir");
        std::fs::write(dir.join("agentform.yaml"), spec).expect("write spec");
        std::fs::write(
            dir.join("lambda/handler.py"),
            "def lambda_handler(event, context):\n    return event\n",
        )
        .expect("handler");
        Case {
            root,
            dir,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    fn without_lambda_dir(self) -> Self {
        std::fs::remove_dir_all(self.dir.join("lambda")).expect("remove lambda dir");
        self
    }

    fn file(self, path: &str, contents: &str) -> Self {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, contents).expect("write file");
        self
    }

    fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Runs with `args` instead of the case's own.
    fn clone_args(&self, args: &[&str]) -> CaseRun<'_> {
        CaseRun {
            case: self,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// The temporary directory's path as `<tmp>`, so that snapshots do not
    /// depend on it.
    fn redact(&self, text: &str) -> String {
        let root = self.root.path().canonicalize().expect("root");
        text.replace(&*root.to_string_lossy(), "<tmp>")
    }

    fn run(&self) -> Run {
        run_in(
            &self.dir,
            Path::new("agentform.yaml"),
            &self.args,
            &self.env,
        )
    }
}

/// A case run with other arguments.
struct CaseRun<'a> {
    case: &'a Case,
    args: Vec<String>,
}

impl CaseRun<'_> {
    fn run(&self) -> Run {
        run_in(
            self.case.path(),
            Path::new("agentform.yaml"),
            &self.args,
            &self.case.env,
        )
    }
}

fn run_in(cwd: &Path, spec: &Path, args: &[String], env: &[(String, String)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentform"));
    cmd.current_dir(cwd)
        .arg("validate")
        .arg("-f")
        .arg(spec)
        .arg("--no-color")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("AGENTFORM_FILE")
        .env_remove("AGENTFORM_TEST_UNSET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run agentform");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The spec with line numbers, for the snapshot header.
fn numbered(spec: &[u8]) -> String {
    let text = String::from_utf8_lossy(spec);
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            format!(
                "{:>3} | {}\n",
                i + 1,
                l.trim_end_matches(['\n', '\r']).replace('\t', "<TAB>")
            )
        })
        .collect()
}

/// Runs an invalid spec: exit 1, exactly `problems` problems, each with a
/// `agentform.yaml:LINE:COL` position, and stderr equal to the snapshot.
fn invalid(name: &str, problems: usize, case: &Case) {
    let spec = std::fs::read(case.path().join("agentform.yaml")).unwrap_or_default();
    let run = case.run();
    assert!(
        !run.stderr.contains("panicked"),
        "{name}: panicked:\n{}",
        run.stderr
    );
    assert_eq!(
        run.code,
        Some(1),
        "{name}: exit code; stderr:\n{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "{name}: nothing on stdout");
    let summary = format!(
        "error: agentform.yaml has {problems} problem{}\n",
        if problems == 1 { "" } else { "s" }
    );
    assert!(
        run.stderr.ends_with(&summary),
        "{name}: expected `{}`, got:\n{}",
        summary.trim_end(),
        run.stderr
    );
    // ` --> ` under a source line; `--> ` alone for a file that is not
    // shown (see `Diagnostic::without_snippet`).
    let located = run.stderr.matches("\n --> agentform.yaml:").count()
        + run.stderr.matches("\n  --> agentform.yaml:").count()
        + run.stderr.matches("\n--> agentform.yaml:").count();
    assert_eq!(
        located, problems,
        "{name}: every problem names agentform.yaml:LINE:COL:\n{}",
        run.stderr
    );
    let snapshot = case.redact(&format!(
        "agentform.yaml:\n{}\nexit code: 1\nstderr:\n{}",
        numbered(&spec),
        run.stderr
    ));
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, snapshot);
    });
}

/// A spec that must pass, with what `validate` prints.
fn valid(case: &Case) -> String {
    let run = case.run();
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stderr, "");
    run.stdout
}

/// Declares a test for an invalid spec with the number of problems it has.
macro_rules! invalid {
    ($name:ident, $problems:expr, $spec:expr) => {
        #[test]
        fn $name() {
            invalid(stringify!($name), $problems, &Case::new($spec));
        }
    };
}

/// A small valid spec using every section; cases below are variations of it.
const VALID: &str = r#"version: 1
project: demo
region: us-east-1
tags:
  team: platform
variables:
  image_tag:
    default: latest
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    search: semantic
    targets:
      calc:
        function: tools
        tools:
          - name: add
            description: Add two numbers
            input:
              type: object
              properties:
                a: { type: number }
                b: { type: number }
              required: [a, b]
repositories:
  agent: {}
runtimes:
  agent:
    artifact:
      container:
        repository: agent
        tag: ${var.image_tag}
    environment:
      GATEWAY_URL: ${gateways.main.url}
    invoke_gateways: [main]
outputs:
  url: ${gateways.main.url}
"#;

// ---------------------------------------------------------------- valid specs

#[test]
fn valid_spec_exits_0() {
    assert_eq!(
        valid(&Case::new(VALID)),
        "agentform.yaml is valid: 1 function(s), 1 gateway(s), 1 target(s), 1 repository, 1 runtime(s).\n"
    );
}

#[test]
fn valid_spec_with_crlf_line_endings() {
    valid(&Case::new(VALID.replace('\n', "\r\n")));
}

#[test]
fn valid_spec_with_var_and_env_values() {
    let spec = VALID.replace("    default: latest\n", "    description: set with --var\n").replace(
        "      GATEWAY_URL: ${gateways.main.url}\n",
        "      GATEWAY_URL: ${gateways.main.url}\n      TOKEN: ${env:AGENTFORM_TEST_TOKEN}\n      LITERAL: $${not.a.reference}\n",
    );
    valid(
        &Case::new(spec)
            .arg("--var")
            .arg("image_tag=v2")
            .env("AGENTFORM_TEST_TOKEN", "x"),
    );
}

#[test]
fn example_iam_gateway_validates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let run = run_in(
        &root,
        Path::new("examples/iam-gateway/agentform.yaml"),
        &[],
        &[],
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(
        run.stdout,
        "examples/iam-gateway/agentform.yaml is valid: 1 function(s), 1 gateway(s), 1 target(s), 0 repositories, 1 runtime(s).\n"
    );
}

#[test]
fn init_template_validates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let template =
        std::fs::read_to_string(root.join("templates/agentform.yaml")).expect("template");
    let read = |p: &str| std::fs::read_to_string(root.join("templates").join(p)).expect(p);
    let case = Case::new(template.replace("__PROJECT__", "my-agent"))
        .file("tools/handler.py", &read("tools/handler.py"))
        .file("agent/app.py", &read("agent/app.py"))
        .file("agent/requirements.txt", &read("agent/requirements.txt"));
    assert_eq!(
        valid(&case),
        "agentform.yaml is valid: 1 function(s), 1 gateway(s), 1 target(s), 0 repositories, 1 runtime(s).\n"
    );
}

// ------------------------------------------------------------ YAML and file

invalid!(yaml_unclosed_bracket, 1, "version: 1\nproject: [demo\n");

invalid!(
    yaml_tab_indentation,
    1,
    "version: 1\nproject: demo\nfunctions:\n\ttools:\n    source: lambda\n"
);

invalid!(
    yaml_bad_indentation,
    1,
    "version: 1\nproject: demo\n  region: us-east-1\n"
);

invalid!(
    yaml_unclosed_quote,
    1,
    "version: 1\nproject: \"demo\nregion: us-east-1\n"
);

invalid!(
    yaml_two_documents,
    1,
    "version: 1\nproject: demo\n---\nversion: 1\n"
);

invalid!(
    duplicate_keys_are_all_reported,
    3,
    r#"version: 1
project: demo
project: other
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    runtime: python3.13
  tools:
    source: elsewhere
"#
);

invalid!(empty_file, 1, "");

invalid!(only_comments, 1, "# nothing here yet\n\n");

invalid!(root_is_a_list, 1, "- version: 1\n- project: demo\n");

invalid!(root_is_a_scalar, 1, "just some text\n");

invalid!(not_utf8, 1, b"version: 1\nproject: d\xffmo\n".as_slice());

#[test]
fn missing_file() {
    let case = Case::new("");
    std::fs::remove_file(case.path().join("agentform.yaml")).expect("rm");
    let run = case.run();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: cannot read agentform.yaml: No such file or directory (os error 2)\n |\n = note: in agentform.yaml\n = help: pass the spec with -f/--file, or run `agentform init` to create one\n\nerror: agentform.yaml has 1 problem\n"
    );
}

/// A spec path that resolves to a file not named `*.yaml`/`*.yml` (here a
/// link to a stand-in for /etc/passwd or a credentials file) is not read,
/// and none of it shows up in any message, text or JSON; a link to a YAML
/// file is read as usual.
#[cfg(unix)]
#[test]
fn spec_that_is_not_a_yaml_file_is_never_echoed() {
    let case = Case::new("");
    let secret = "root:x:0:0:PLANTED-SECRET-4711:/root:/bin/bash\n";
    std::fs::write(case.outside().join("passwd"), secret).expect("passwd");
    let spec = case.path().join("agentform.yaml");
    std::fs::remove_file(&spec).expect("rm");
    symlink(case.outside().join("passwd"), &spec);
    let run = case.run();
    assert_eq!(run.code, Some(1));
    assert!(!run.stderr.contains("PLANTED"), "{}", run.stderr);
    assert_eq!(
        case.redact(&run.stderr),
        "error: agentform.yaml is not a YAML file (it links to <tmp>/outside/passwd)\n |\n = note: in agentform.yaml\n = help: the spec is a `.yaml` or `.yml` file, and agentform reads no other (so that nothing else can show up in its messages); pass the spec with -f/--file, or run `agentform init` to create one\n\nerror: agentform.yaml has 1 problem\n"
    );
    let json = case.clone_args(&["--json"]).run();
    assert_eq!(json.code, Some(1));
    assert!(!json.stdout.contains("PLANTED"), "{}", json.stdout);
    assert!(
        json.stdout.contains("is not a YAML file"),
        "{}",
        json.stdout
    );
    // Named directly, and as a directory: refused the same way.
    let direct = run_in(case.path(), &case.outside().join("passwd"), &[], &[]);
    assert!(!direct.stderr.contains("PLANTED"), "{}", direct.stderr);
    assert!(
        direct.stderr.contains("passwd is not a YAML file\n"),
        "{}",
        direct.stderr
    );
    let dir = run_in(case.path(), &case.outside(), &[], &[]);
    assert!(
        dir.stderr.contains("outside is not a regular file"),
        "{}",
        dir.stderr
    );
    // The same content named `.yaml` is read, but it is not a mapping, so
    // none of it is shown either.
    std::fs::rename(
        case.outside().join("passwd"),
        case.outside().join("passwd.yaml"),
    )
    .expect("mv");
    std::fs::remove_file(&spec).expect("rm");
    symlink(case.outside().join("passwd.yaml"), &spec);
    let run = case.run();
    assert!(!run.stderr.contains("PLANTED"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the spec must be a mapping, found a string"),
        "{}",
        run.stderr
    );
    // A link to a real spec elsewhere is fine.
    std::fs::write(
        case.outside().join("spec.yml"),
        "version: 1\nproject: demo\n",
    )
    .expect("spec");
    std::fs::remove_file(&spec).expect("rm");
    symlink(case.outside().join("spec.yml"), &spec);
    assert_eq!(
        valid(&case),
        "agentform.yaml is valid: 0 function(s), 0 gateway(s), 0 target(s), 0 repositories, 0 runtime(s).\n"
    );
}

/// A var file is held to the same rule, and since its values may be
/// secrets, no message shows a line or a value of it.
#[cfg(unix)]
#[test]
fn var_files_are_never_echoed() {
    let spec = "version: 1\nproject: demo-${var.env}\nvariables:\n  env: { default: dev }\n";
    let case = Case::new(spec);
    let secret = "PLANTED-SECRET-4711";
    std::fs::write(
        case.outside().join("credentials"),
        format!("[default]\nkey = {secret}\n"),
    )
    .expect("creds");
    std::fs::write(case.path().join("broken.yaml"), format!("env: [{secret}\n")).expect("broken");
    std::fs::write(
        case.path().join("nested.yaml"),
        format!("env:\n  - {secret}\n"),
    )
    .expect("nested");
    symlink(
        case.outside().join("credentials"),
        case.path().join("vars.yaml"),
    );
    for (file, want) in [
        (
            "vars.yaml",
            "the var file vars.yaml is not a YAML file (it links to ",
        ),
        (
            "broken.yaml",
            "the var file broken.yaml is not valid YAML (line 1, column 6)",
        ),
        (
            "nested.yaml",
            "variable `env` in the var file nested.yaml must be a string, number or boolean, not a list",
        ),
    ] {
        let run = case.clone_args(&["--var-file", file]).run();
        assert_eq!(run.code, Some(1), "{file}");
        assert!(run.stderr.contains(want), "{file}: {}", run.stderr);
        assert!(!run.stderr.contains(secret), "{file}: {}", run.stderr);
    }
}

// ------------------------------------------------------- version and structure

invalid!(unsupported_version, 1, "version: 2\nproject: demo\n");

invalid!(version_as_string, 1, "version: \"1\"\nproject: demo\n");

invalid!(missing_version_and_project, 2, "region: us-east-1\n");

invalid!(
    unknown_top_level_field,
    1,
    r#"version: 1
project: demo
gateway:
  main:
    authorizer: aws_iam
"#
);

invalid!(
    unknown_nested_fields_suggest_the_right_name,
    3,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    memroy: 256
gateways:
  main:
    authorizer: aws_iam
    serach: semantic
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    enviroment:
      A: b
"#
);

invalid!(
    typo_of_a_required_field_is_one_problem_and_checking_goes_on,
    3,
    r#"version: 1
projcet: Demo
functions:
  tools:
    source: lambda
    runtim: python3.12
    handler: handler.lambda_handler
"#
);

invalid!(
    missing_required_fields,
    5,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
gateways:
  main:
    targets:
      calc:
        function: tools
        tools:
          - name: add
            description: Add two numbers
          - description: Nameless
            input: { type: object }
runtimes:
  agent:
    description: no artifact
"#
);

invalid!(
    wrong_types,
    6,
    r#"version: 1
project: demo
tags:
  cost-center: 42
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    memory: "256"
    environment:
      DEBUG: true
gateways: [main]
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    invoke_gateways: main
repositories:
  agent: yes
"#
);

invalid!(
    empty_values,
    2,
    r#"version: 1
project: demo
functions:
  tools:
gateways:
  main:
    authorizer:
"#
);

invalid!(
    numbers_out_of_range,
    3,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    memory: 64
    timeout: 5000
  big:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    memory: 99999999999
"#
);

invalid!(
    values_outside_their_enum,
    5,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.7
    handler: handler.lambda_handler
    architecture: arm
gateways:
  main:
    authorizer: aws_iam
    search: SEMANTIC
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    network: VPC
    protocol: mcp
"#
);

invalid!(
    artifact_needs_exactly_one_source,
    3,
    r#"version: 1
project: demo
repositories:
  agent: {}
runtimes:
  both:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
      container: { repository: agent }
  none:
    artifact: {}
  typo:
    artifact:
      imag: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
"#
);

// --------------------------------------------------------------- AWS names

invalid!(
    project_name_rules,
    3,
    r#"version: 1
project: Demo_Project
repositories:
  Agent: {}
gateways:
  main_gw:
    authorizer: aws_iam
"#
);

invalid!(
    project_name_too_long,
    1,
    "version: 1\nproject: a-very-long-project-name-x\n"
);

invalid!(
    runtime_names,
    2,
    r#"version: 1
project: demo
runtimes:
  agent.v2:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
  a-runtime-key-long-enough-to-overflow-48-chars:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
  ok_agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
"#
);

invalid!(
    mcp_tool_names_agents_cannot_call,
    2,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      a-target-key-that-is-long-enough-to-matter:
        function: tools
        tools:
          - name: add_numbers_and_return_the_sum
            description: Add
            input: { type: object }
      calc:
        function: tools
        tools:
          - name: add.numbers
            description: Add
            input: { type: object }
          - name: add_numbers
            description: Add
            input: { type: object }
"#
);

invalid!(
    lengths_hold_after_substitution,
    2,
    r#"version: 1
project: demo
variables:
  long:
    default: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  short: { default: ok }
gateways:
  main:
    description: "${var.long}"
    authorizer: aws_iam
    search: "${var.short}"
"#
);

invalid!(
    runtime_endpoints,
    6,
    r#"version: 1
project: demo
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    endpoints:
      DEFAULT: {}
      prod-1: { version: 3 }
      live:
      pinned: { version: 0 }
      later: { version: newest }
      ok: { version: latest, description: fine }
outputs:
  a: ${runtimes.agent.endpoints.live.arn}
  b: ${runtimes.agent.endpoints.nope.arn}
  c: ${runtimes.agent.endpoints.live.url}
"#
);

invalid!(
    runtime_keys_that_collide_after_hyphens_become_underscores,
    1,
    r#"version: 1
project: demo
runtimes:
  my-agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
  my_agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
"#
);

invalid!(
    empty_keys,
    4,
    r#"version: 1
project: demo
functions:
  "":
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  "": { authorizer: aws_iam }
repositories:
  "": {}
runtimes:
  "":
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
"#
);

invalid!(
    gateway_and_target_names,
    4,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main_gw:
    authorizer: aws_iam
  a-gateway-key-that-is-far-too-long-for-agentcore:
    authorizer: aws_iam
  ok:
    authorizer: aws_iam
    targets:
      calc_target:
        function: tools
        tools:
          - { name: add, description: Add, input: { type: object } }
      two--hyphens:
        function: tools
        tools:
          - { name: add, description: Add, input: { type: object } }
"#
);

invalid!(
    function_and_repository_names,
    4,
    r#"version: 1
project: demo
functions:
  tools with spaces:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
  a-function-key-that-is-long-enough-to-push-the-name-past-64-chars:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
  tool-key-whose-execution-role-name-goes-past-sixty-four-c:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
repositories:
  Agent: {}
"#
);

// ------------------------------------------------------------------ references

invalid!(
    unknown_references,
    5,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    environment:
      URL: ${gateways.mian.url}
      FN: ${function.tools.arn}
      ATTR: ${functions.tools.url}
      REPO: ${repositories.agent.uri}
outputs:
  arn: ${runtimes.agnt.arn}
"#
);

invalid!(
    reference_cycles,
    2,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    environment:
      AGENT_ARN: ${runtimes.agent.arn}
      SELF: ${functions.tools.name}
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    environment:
      TOOLS_ARN: ${functions.tools.arn}
"#
);

invalid!(
    reference_where_none_is_allowed,
    1,
    r#"version: 1
project: demo
gateways:
  main:
    authorizer: aws_iam
    description: served at ${gateways.main.url}
"#
);

invalid!(
    malformed_expressions,
    5,
    r#"version: 1
project: demo
outputs:
  a: ${gateways.main.url
  b: ${var.a.b}
  c: ${env.HOME}
  d: ${gateways.main}
  e: ${}
"#
);

invalid!(
    runtime_models_that_are_not_models,
    3,
    r#"version: 1
project: demo
variables:
  model: { default: "anthropic.*" }
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    models:
      - us.anthropic.claude-haiku-4-5-20251001-v1:0
      - claude
      - arn:aws:bedrock:*::foundation-model/*
      - ${var.model}
"#
);

invalid!(
    invoke_gateways_unknown_or_custom_jwt,
    2,
    r#"version: 1
project: demo
gateways:
  main:
    authorizer: aws_iam
  jwt:
    authorizer:
      custom_jwt:
        discovery_url: https://idp.example.com/.well-known/openid-configuration
        allowed_audiences: [agents]
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    invoke_gateways: [mian, jwt]
"#
);

invalid!(
    unknown_function_and_repository,
    2,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tool
        tools:
          - { name: add, description: Add, input: { type: object } }
repositories:
  agent: {}
runtimes:
  agent:
    artifact:
      container: { repository: agnet }
"#
);

// ------------------------------------------------------------------- variables

invalid!(
    variables_unknown_and_without_value,
    3,
    r#"version: 1
project: demo
variables:
  image_tag:
    description: no default
  model_id:
    default: [not, a, scalar]
repositories:
  agent: {}
runtimes:
  agent:
    artifact:
      container:
        repository: agent
        tag: ${var.image_tag}
    environment:
      MODEL: ${var.model_id}
      REGION: ${var.regoin}
"#
);

#[test]
fn undeclared_var_and_unset_env() {
    let case = Case::new(
        r#"version: 1
project: demo
variables:
  region: { default: us-east-1 }
outputs:
  token: "Bearer ${env:AGENTFORM_TEST_UNSET}"
"#,
    )
    .arg("--var")
    .arg("regoin=eu-west-1");
    invalid("undeclared_var_and_unset_env", 2, &case);
}

#[test]
fn var_for_a_spec_without_variables() {
    let case = Case::new("version: 1\nproject: demo\n")
        .arg("--var")
        .arg("model=x");
    invalid("var_for_a_spec_without_variables", 1, &case);
}

// ----------------------------------------------------------------- tool schemas

invalid!(
    tool_schema_unsupported_keywords,
    5,
    r##"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools:
          - name: add
            description: Add two numbers
            input:
              type: object
              properties:
                a: { type: number, minimum: 0, default: 1 }
                unit: { type: string, enum: [m, km] }
                b: { $ref: "#/defs/n" }
              additionalProperties: false
"##
);

invalid!(
    tool_schema_types,
    3,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools:
          - name: add
            description: Add two numbers
            input:
              type: object
              properties:
                a: { type: [number, "null"] }
                b: { type: float }
          - name: echo
            description: Echo text
            input: { type: string }
"#
);

invalid!(
    tool_schema_meaning,
    5,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools:
          - name: sum
            description: Sum a list
            input:
              type: object
              properties:
                values: { type: array }
                unit: { type: string, items: { type: string } }
                opts: { type: string, properties: { x: { type: number } } }
              required: [values, unti]
            output: { description: no type }
"#
);

invalid!(
    tool_names_and_lists,
    4,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools:
          - { name: add numbers, description: Add, input: { type: object } }
          - { name: add, description: Add, input: { type: object } }
          - { name: add, description: Add again, input: { type: object } }
      empty:
        function: tools
        tools: []
      nothing:
        function: tools
        tools:
          - name: x
            description: unknown key below
            inputs: { type: object }
"#
);

// ----------------------------------------------------------------- gateways

invalid!(
    authorizer_problems,
    5,
    r#"version: 1
project: demo
gateways:
  iam:
    authorizer: aws-iam
  none:
    authorizer: none
  jwt:
    authorizer:
      custom_jwt:
        discovery_url: http://idp.example.com/oidc
  jwt-typo:
    authorizer:
      custom_jwt:
        discovery_url: https://idp.example.com/.well-known/openid-configuration
        allowed_audience: [agents]
"#
);

// ------------------------------------------------------------- functions

#[test]
fn lambda_source_directory_missing() {
    let case = Case::new(
        r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
  other:
    source: ./src/other
    runtime: python3.12
    handler: handler.lambda_handler
"#,
    )
    .without_lambda_dir();
    invalid("lambda_source_directory_missing", 2, &case);
}

#[test]
fn lambda_source_is_a_file() {
    let case = Case::new(
        r#"version: 1
project: demo
functions:
  tools:
    source: lambda/handler.py
    runtime: python3.12
    handler: handler.lambda_handler
"#,
    );
    invalid("lambda_source_is_a_file", 1, &case);
}

/// What a function may package: its source inside the project unless it
/// opts out, never the filesystem root or a system directory (refused
/// before anything under them is listed).
#[test]
fn lambda_source_outside_the_project() {
    let case = Case::new(
        r#"version: 1
project: demo
functions:
  shared:
    source: ../outside/code
    runtime: python3.12
    handler: handler.lambda_handler
  parent:
    source: ..
    runtime: python3.12
    handler: handler.lambda_handler
  root:
    source: /
    source_outside_project: true
    runtime: python3.12
    handler: handler.lambda_handler
  kernel:
    source: /proc/sys
    source_outside_project: true
    runtime: python3.12
    handler: handler.lambda_handler
  allowed:
    source: ../outside/code
    source_outside_project: true
    runtime: python3.12
    handler: handler.lambda_handler
"#,
    );
    std::fs::create_dir(case.outside().join("code")).expect("outside code");
    std::fs::write(case.outside().join("code/handler.py"), "X = 1\n").expect("handler");
    invalid("lambda_source_outside_the_project", 4, &case);
}

const ONE_FUNCTION: &str = r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
"#;

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// Links out of the source directory are refused (and never read): to a
/// planted secret next to the project, to a directory outside, and to a
/// file of the project outside the source directory.
#[cfg(unix)]
#[test]
fn lambda_source_symlinks_out_of_it() {
    let case = Case::new(ONE_FUNCTION);
    let secret = "aws_secret_access_key = PLANTED-4711";
    std::fs::write(case.outside().join("credentials"), secret).expect("secret");
    std::fs::create_dir(case.outside().join("keys")).expect("keys");
    let lambda = case.path().join("lambda");
    symlink("../../outside/credentials", lambda.join("creds"));
    std::fs::create_dir(lambda.join("lib")).expect("lib");
    symlink(case.outside().join("keys"), lambda.join("lib/keys"));
    symlink("../agentform.yaml", lambda.join("spec.yaml"));
    invalid("lambda_source_symlinks_out_of_it", 3, &case);
    assert!(!case.run().stderr.contains("PLANTED"));
}

#[cfg(unix)]
#[test]
fn lambda_source_symlink_loops() {
    let case = Case::new(ONE_FUNCTION);
    let lambda = case.path().join("lambda");
    std::fs::create_dir(lambda.join("sub")).expect("sub");
    symlink("..", lambda.join("sub/up"));
    symlink("b", lambda.join("a"));
    symlink("a", lambda.join("b"));
    invalid("lambda_source_symlink_loops", 3, &case);
}

/// A FIFO would block packaging and a socket or device cannot be zipped;
/// none is opened (validate returns at once).
#[cfg(unix)]
#[test]
fn lambda_source_special_files() {
    let case = Case::new(ONE_FUNCTION);
    let lambda = case.path().join("lambda");
    let fifo = std::ffi::CString::new(lambda.join("pipe").into_os_string().into_encoded_bytes())
        .expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0, "mkfifo");
    drop(std::os::unix::net::UnixListener::bind(lambda.join("sock")).expect("socket"));
    symlink("missing.py", lambda.join("gone.py"));
    invalid("lambda_source_special_files", 3, &case);
}

/// Lambda takes 250 MB unzipped: a 300 MB file (sparse, so cheap to make)
/// is refused from its size alone.
#[test]
fn lambda_package_over_the_unzipped_limit() {
    let case = Case::new(ONE_FUNCTION);
    std::fs::File::create(case.path().join("lambda/model.bin"))
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    invalid("lambda_package_over_the_unzipped_limit", 1, &case);
}

/// ... and without reading it: validate passes (with the located error)
/// when it may allocate no more than 64 MiB, less than a quarter of the
/// file, and returns at once.
#[cfg(target_os = "linux")]
#[test]
fn the_unzipped_limit_is_checked_without_reading() {
    use std::os::unix::process::CommandExt;
    let case = Case::new(ONE_FUNCTION);
    std::fs::File::create(case.path().join("lambda/model.bin"))
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentform"));
    cmd.current_dir(case.path())
        .args(["validate", "--no-color"])
        .env_remove("AGENTFORM_FILE");
    // SAFETY: setrlimit is async-signal-safe, and nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // RLIMIT_DATA counts the heap and private writable mappings.
            let limit = libc::rlimit {
                rlim_cur: 64 << 20,
                rlim_max: 64 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let start = std::time::Instant::now();
    let out = cmd.output().expect("run agentform");
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is 300 MB unzipped, over Lambda's 250 MB limit"),
        "{stderr}"
    );
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
}

invalid!(
    environment_variable_names,
    4,
    r#"version: 1
project: demo
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    environment:
      AWS_REGION: us-east-1
      1ST: a
      OK_NAME: b
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
    environment:
      MY-VAR: c
      "": d
"#
);

// ----------------------------------------------------------- runtimes, misc

invalid!(
    images_tags_and_regions,
    4,
    r#"version: 1
project: demo
region: us-east1
repositories:
  agent: {}
runtimes:
  hub:
    artifact:
      image: docker.io/library/python:3.12
  tagged:
    artifact:
      container: { repository: agent, tag: "v1 beta" }
tags:
  aws:owner: me
"#
);

invalid!(
    reserved_and_invalid_tags,
    3,
    r#"version: 1
project: demo
tags:
  agentform:project: other
  "bad{key}": x
  team: "bad{value}"
"#
);

// --------------------------------------------------- many problems at once

invalid!(
    every_stage_reports_in_one_run,
    9,
    r#"version: 1
project: demo
variables:
  tag: {}
functions:
  tools:
    source: lambda
    runtime: python3.12
    handler: handler.lambda_handler
    memory: lots
    timout: 30
gateways:
  main_gw:
    authorizer: aws_iam
    targets:
      calc:
        function: tool
        tools:
          - name: add
            description: Add
            input:
              type: object
              properties:
                a: { type: number, format: double }
              required: [a, b]
repositories:
  agent: {}
runtimes:
  agent:
    artifact:
      container: { repository: agent, tag: "${var.tag}" }
    invoke_gateways: [main]
outputs:
  url: ${gateways.main.url}
"#
);

invalid!(
    bad_value_is_reported_once_not_again_by_later_checks,
    3,
    r#"version: 1
project: demo
functions:
  tools: [not, a, mapping]
gateways:
  main:
    authorizer: aws_iam
    targets:
      calc:
        function: tools
        tools:
          - name: add
            description: Add
            input:
              type: [object]
              properties: { a: { type: number } }
runtimes:
  agent:
    artifact:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest
      container: { repository: nowhere }
"#
);

// ------------------------------------------------------------------- garbage

/// Inputs that are not specs at all: always exit 1 with a located message,
/// never a panic.
#[test]
fn garbage_never_panics() {
    let deep_flow = format!("x: {}{}\n", "[".repeat(50_000), "]".repeat(50_000));
    let deep_block: String = (0..2_000)
        .map(|i| format!("{}-\n", "  ".repeat(i)))
        .collect();
    let deep_maps: String = (0..500)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let long_line = format!("version: 1\nproject: {}\n", "x".repeat(1_000_000));
    let long_key = format!("version: 1\nproject: demo\n{}: 1\n", "k".repeat(200_000));
    let many_errors: String = (0..5_000).map(|i| format!("unknown{i}: {i}\n")).collect();
    let alias_bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("binary", (0..=255u8).cycle().take(4096).collect()),
        ("nul bytes", b"version: 1\0\nproject: demo\n".to_vec()),
        ("utf-16", b"\xff\xfev\x00e\x00r\x00".to_vec()),
        ("latin-1", b"version: 1\nproject: caf\xe9\n".to_vec()),
        ("list root", b"- 1\n- 2\n".to_vec()),
        ("scalar root", b"42\n".to_vec()),
        ("null root", b"~\n".to_vec()),
        ("empty", Vec::new()),
        ("whitespace", b"   \n\t\n".to_vec()),
        ("tabs", b"version:\t1\n\tproject: demo\n".to_vec()),
        ("deep flow lists", deep_flow.into_bytes()),
        ("deep block lists", deep_block.into_bytes()),
        ("deep mappings", deep_maps.into_bytes()),
        ("long line", long_line.into_bytes()),
        ("long key", long_key.into_bytes()),
        ("many errors", many_errors.into_bytes()),
        ("alias bomb", alias_bomb.as_bytes().to_vec()),
        ("complex key", b"? [a, b]\n: c\n".to_vec()),
        ("unknown tag", b"version: !!binary AAAA\nproject: !custom demo\n".to_vec()),
        ("bom", b"\xef\xbb\xbfversion: 2\n".to_vec()),
        ("right-to-left", "version: 1\nproject: \u{202e}demo\n".as_bytes().to_vec()),
        ("huge number", b"version: 1e999999\nproject: demo\n".to_vec()),
        ("negative", b"version: -1\nproject: demo\nfunctions: {f: {source: lambda, runtime: python3.12, handler: h, memory: -9223372036854775808}}\n".to_vec()),
        ("keys with slashes", b"version: 1\nproject: demo\nfunctions:\n  a/b~c:\n    source: lambda\n".to_vec()),
        ("only a dash", b"-\n".to_vec()),
        ("only a colon", b":\n".to_vec()),
        ("directive", b"%YAML 1.2\n---\nversion: 1\n".to_vec()),
    ];
    for (what, bytes) in inputs {
        let case = Case::new(&bytes);
        let run = case.run();
        assert!(
            !run.stderr.contains("panicked"),
            "{what}: panicked:\n{}",
            run.stderr
        );
        assert_eq!(
            run.code,
            Some(1),
            "{what}: exit code; stderr:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("--> agentform.yaml:"),
            "{what}: no position:\n{}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            run.stderr
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("error: agentform.yaml has ")),
            "{what}: no summary:\n{}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            run.stderr.len() < 5_000_000,
            "{what}: {} bytes of stderr",
            run.stderr.len()
        );
    }
}

// A rate for an API agentform never calls (a typo), one out of range, and
// one that is not an IAM-style name: each located at its key or value.
invalid!(
    rates_name_apis_agentform_calls,
    3,
    "version: 1\nproject: demo\nrates:\n  bedrock-agentcore:CreateGatewayTargets: 10\n  iam:CreateRole: 0\n  CreateGateway: 10\n  lambda:CreateFunction: 20\n"
);

// verify_principals: a session (with the role to name instead), a bare
// name, and a group, each located at its item; a role, a user, an account
// root and an account id pass.
invalid!(
    verify_principals_are_roles_users_or_accounts,
    3,
    "version: 1\nproject: demo\nverify_principals:\n  - arn:aws:sts::123456789012:assumed-role/ci-deploy/run-42\n  - ci-deploy\n  - arn:aws:iam::123456789012:group/admins\n  - arn:aws:iam::123456789012:role/ci/deploy\n  - arn:aws:iam::123456789012:user/alice\n  - arn:aws:iam::123456789012:root\n  - \"123456789012\"\n"
);

// A runtime's settings: lifecycle values outside AgentCore's bounds and an
// idle timeout longer than the lifetime, VPC mode without subnets and with a
// malformed security group, a header AgentCore cannot pass on, and a JWT
// authorizer that would accept any token of its issuer.
invalid!(
    runtime_settings_out_of_bounds,
    7,
    "version: 1\nproject: demo\nruntimes:\n  a:\n    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/r:v1 }\n    lifecycle: { idle_timeout: 30, max_lifetime: 2000000 }\n  b:\n    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/r:v1 }\n    lifecycle: { idle_timeout: 7200, max_lifetime: 3600 }\n    network:\n      vpc:\n        security_groups: [sg-12]\n    request_headers: [X-Tenant, \"X Bad\"]\n    authorizer:\n      custom_jwt:\n        discovery_url: https://idp.example.com/.well-known/openid-configuration\n"
);

// Code bundles: a missing source directory, an unsupported runtime, an
// entry point that is not in the source, a requirements file that does not
// exist, requirements for a Node.js runtime, and one outside the source.
#[test]
fn code_artifacts_name_what_is_missing() {
    let spec = "version: 1\nproject: demo\nruntimes:\n  a:\n    artifact:\n      code: { source: nowhere, entry_point: app.py, runtime: python3.12 }\n  b:\n    artifact:\n      code: { source: agent, entry_point: main.py, runtime: python3.9 }\n  c:\n    artifact:\n      code: { source: agent, entry_point: app.py, runtime: python3.12, requirements: requirements.txt }\n  d:\n    artifact:\n      code: { source: agent, entry_point: app.py, runtime: nodejs22, requirements: req.txt }\n  e:\n    artifact:\n      code: { source: agent, entry_point: app.py, runtime: python3.13, requirements: ../outside.txt }\n  ok:\n    artifact:\n      code: { source: agent, entry_point: [opentelemetry-instrument, app.py], runtime: python3.13, requirements: req.txt }\n";
    let case = Case::new(spec)
        .file("agent/app.py", "print('hi')\n")
        .file("agent/req.txt", "six\n")
        .file("outside.txt", "six\n");
    invalid("code_artifacts_name_what_is_missing", 6, &case);
}
