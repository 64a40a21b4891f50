//! Harness shared by the modules of the integration-test binary: one moto
//! server for the whole binary, a per-test project in a temporary directory,
//! a runner for the built `agentform` binary, and official SDK clients
//! pointed at the same server so tests can check the account independently
//! of the tool's code.
//!
//! Tests of every module run in parallel against the one server. They stay
//! out of each other's way because every physical name derives from the
//! spec's `project`: give each test its own project name, unique across all
//! modules, and pick names that are not prefixes of one another (`life` and
//! `life-2` would share `life-...`). Nothing may change the server's global
//! state either (`/moto-api/reset`, `/moto-api/state-manager/...`): that
//! would reach into every test running at the time.

pub mod fault_proxy;
pub mod reference;
#[path = "../../shared/reference_image.rs"]
mod reference_image;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::config::Credentials;
use serde_json::Value;

pub const REGION: &str = "us-east-1";
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// How long one CLI run may take before the test fails (a hang is a bug).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------
// The moto server
// ---------------------------------------------------------------------------

/// The moto server of this test binary. The launcher exits by itself once
/// this process is gone, so it is never stopped explicitly.
pub struct Moto {
    pub endpoint: String,
    /// Where the launcher's stderr goes (errors, tracebacks).
    pub log: PathBuf,
    // Held for the life of the process: dropping the pipe could make a late
    // write by the launcher fail.
    _child: Mutex<Child>,
    _stdout: Mutex<BufReader<ChildStdout>>,
}

// A failed start is kept as its message, so every test reports the cause
// (a panic inside the initialiser would poison the lock for the others).
static MOTO: LazyLock<Result<Moto, String>> = LazyLock::new(start_moto);

/// The shared server, started on first use.
#[track_caller]
pub fn moto() -> &'static Moto {
    match &*MOTO {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

pub fn python() -> PathBuf {
    match std::env::var_os("AGENTFORM_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(MANIFEST_DIR).join(".venv/bin/python"),
    }
}

const INSTALL_HINT: &str = "The integration tests need the moto emulator in a Python virtualenv. In the crate root run\n\
     \n    scripts/setup-venv.sh\n\
     \n(or: python3 -m venv .venv && .venv/bin/pip install -r tests/requirements.txt),\n\
     or point AGENTFORM_PYTHON at a Python interpreter that can `import moto`.";

fn start_moto() -> Result<Moto, String> {
    let python = python();
    if !python.exists() {
        return Err(format!(
            "Python interpreter {} not found.\n{INSTALL_HINT}",
            python.display()
        ));
    }
    let script = Path::new(MANIFEST_DIR).join("tests/support/moto_server.py");
    let log =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{}.log", std::process::id()));
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let delay = std::env::var("AGENTFORM_MOTO_DELAY").unwrap_or_else(|_| "0.5".into());
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .env("AGENTFORM_MOTO_DELAY", delay)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| {
            format!(
                "starting {} {}: {e}\n{INSTALL_HINT}",
                python.display(),
                script.display()
            )
        })?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    // The launcher prints `READY <port>` once the server answers, or exits
    // (EOF here) with a traceback in the log: no timeout needed.
    let mut line = String::new();
    let port = loop {
        line.clear();
        let n = stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading the moto launcher's stdout: {e}"))?;
        if n == 0 {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            let err = std::fs::read_to_string(&log).unwrap_or_default();
            let hint = if err.contains("No module named") {
                format!("\n{INSTALL_HINT}")
            } else {
                String::new()
            };
            return Err(format!(
                "the moto launcher exited ({status}) before it was ready. Its stderr:\n{err}{hint}"
            ));
        }
        if let Some(p) = line.trim().strip_prefix("READY ") {
            break p
                .parse::<u16>()
                .map_err(|e| format!("bad READY line {line:?}: {e}"))?;
        }
    };
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        log,
        _child: Mutex::new(child),
        _stdout: Mutex::new(stdout),
    })
}

// ---------------------------------------------------------------------------
// A project in a temporary directory, and the CLI runner
// ---------------------------------------------------------------------------

/// What one CLI run printed and returned.
#[derive(Debug, Clone)]
pub struct Output {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`agentform {}` exited with {}\n--- stdout ---\n{}--- stderr ---\n{}--- (moto log: {}) ---",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr,
            moto().log.display()
        )
    }
}

impl Output {
    /// Panics, showing everything printed, unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub fn expect_ok(self) -> Self {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn expect_stdout(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn expect_stderr(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{self}"
        );
        self
    }

    /// The `# <address> will be ...` header lines of a rendered plan.
    pub fn plan_headers(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.contains(" will be ") || l.contains(" must be replaced"))
            .map(str::to_string)
            .collect()
    }
}

/// One test's project: a spec (and function sources) in a temporary
/// directory, with its own project name.
pub struct Test {
    dir: tempfile::TempDir,
    project: Option<String>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("agentform-test-")
            .tempdir()
            .expect("tempdir");
        Test { dir, project: None }
    }

    /// Copies `examples/<name>/agentform.yaml` and every directory its
    /// functions' `source:` lines point at into the test directory, and
    /// rewrites those lines to the copies.
    pub fn example(self, name: &str) -> Self {
        let example_dir = Path::new(MANIFEST_DIR).join("examples").join(name);
        let text = std::fs::read_to_string(example_dir.join("agentform.yaml"))
            .expect("reading the example spec");
        let source_re = regex::Regex::new(r"(?m)^(\s+source:\s*)(\S+)(.*)$").unwrap();
        let mut copied = BTreeSet::new();
        for caps in source_re.captures_iter(&text) {
            let rel = &caps[2];
            let from = example_dir.join(rel);
            let base = from
                .canonicalize()
                .unwrap_or_else(|e| panic!("example source {}: {e}", from.display()));
            let name = base.file_name().unwrap().to_string_lossy().into_owned();
            if copied.insert(name.clone()) {
                copy_dir(&base, &self.dir.path().join(&name));
            }
        }
        let text = source_re
            .replace_all(&text, |c: &regex::Captures| {
                let base = example_dir.join(&c[2]).canonicalize().unwrap();
                format!(
                    "{}{}{}",
                    &c[1],
                    base.file_name().unwrap().to_string_lossy(),
                    &c[3]
                )
            })
            .into_owned();
        self.write("agentform.yaml", &text);
        let project = self.project.clone();
        match project {
            Some(p) => self.project(&p),
            None => self,
        }
    }

    /// The reference stack as most tests drive it: `examples/iam-gateway`
    /// with the runtime on an ECR image the test pushes (or leaves absent)
    /// instead of the example's code bundle, so that tests about gateways,
    /// roles, drift and faults neither install the agent's Python
    /// dependencies nor depend on a package index. The example itself is
    /// applied as written by `lifecycle::the_example_deploys_its_agent_as_a_code_bundle`.
    pub fn reference() -> Self {
        let t = Test::new().example("iam-gateway");
        let text = reference_image::image_variant(&t.read("agentform.yaml"));
        t.write("agentform.yaml", &text);
        t
    }

    /// Sets the spec's `project:` (physical names derive from it).
    pub fn project(mut self, project: &str) -> Self {
        self.project = Some(project.to_string());
        let path = self.path("agentform.yaml");
        if path.exists() {
            let re = regex::Regex::new(r"(?m)^project:.*$").unwrap();
            let text = self.read("agentform.yaml");
            assert!(
                re.is_match(&text),
                "the spec has no top-level `project:` line"
            );
            self.write(
                "agentform.yaml",
                &re.replace(&text, format!("project: {project}")),
            );
        }
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    }

    pub fn append(&self, rel: &str, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path(rel))
            .unwrap_or_else(|e| panic!("opening {rel}: {e}"));
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Replaces exactly one occurrence of `from` in the spec (panics when
    /// there is none or more than one, so an edit can never silently miss).
    #[track_caller]
    pub fn edit_spec(&self, from: &str, to: &str) {
        let text = self.read("agentform.yaml");
        let n = text.matches(from).count();
        assert_eq!(
            n, 1,
            "expected exactly one {from:?} in the spec, found {n}:\n{text}"
        );
        self.write("agentform.yaml", &text.replacen(from, to, 1));
    }

    /// Runs the built binary in the test directory against the moto server,
    /// with stdin closed (not a terminal) and a clean AWS environment.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// The command `run` runs: the built binary in the test directory, with
    /// a clean AWS environment pointed at the moto server.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let moto = moto();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentform"));
        cmd.args(args).current_dir(self.dir.path());
        // Nothing from the developer's own AWS setup may leak in.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("AGENTFORM_") {
                cmd.env_remove(&*k);
            }
        }
        cmd.env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", self.dir.path().join(".no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join(".no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Starts the binary without waiting for it (e.g. to kill it half-way).
    /// Its output goes to `<name>.stdout` / `<name>.stderr` in the test
    /// directory.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Child {
        let out = std::fs::File::create(self.path(&format!("{name}.stdout"))).unwrap();
        let err = std::fs::File::create(self.path(&format!("{name}.stderr"))).unwrap();
        self.command(args, &[])
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawning agentform")
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args, env);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning agentform");
        let out = drain(child.stdout.take().unwrap());
        let err = drain(child.stderr.take().unwrap());
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(s) = child.wait_timeout_poll() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`agentform {}` did not finish within {RUN_TIMEOUT:?}\n--- stdout ---\n{}--- stderr ---\n{}",
                    args.join(" "),
                    out.join().unwrap(),
                    err.join().unwrap()
                );
            }
        };
        Output {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: status.code().unwrap_or(-1),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }
}

trait PollWait {
    fn wait_timeout_poll(&mut self) -> Option<std::process::ExitStatus>;
}

impl PollWait for Child {
    /// Waits up to 20 ms for the child to exit.
    fn wait_timeout_poll(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(s) = self.try_wait().expect("waiting for agentform") {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
        None
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == ".pytest_cache" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
        }
    }
}

// ---------------------------------------------------------------------------
// Independent view of the account through the official SDK
// ---------------------------------------------------------------------------

/// Official SDK clients against the moto server.
pub struct Sdk {
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub agentcore: aws_sdk_bedrockagentcorecontrol::Client,
    pub sts: aws_sdk_sts::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
}

/// Builds the clients. Create them inside the test's own runtime (a client
/// keeps connections bound to the runtime it first ran on).
pub async fn sdk() -> Sdk {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&moto().endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "agentform-tests",
        ))
        .load()
        .await;
    Sdk {
        iam: aws_sdk_iam::Client::new(&conf),
        lambda: aws_sdk_lambda::Client::new(&conf),
        ecr: aws_sdk_ecr::Client::new(&conf),
        agentcore: aws_sdk_bedrockagentcorecontrol::Client::new(&conf),
        sts: aws_sdk_sts::Client::new(&conf),
        ssm: aws_sdk_ssm::Client::new(&conf),
        secrets: aws_sdk_secretsmanager::Client::new(&conf),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&conf),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        ),
    }
}

/// The requests the test launcher's AgentCore Identity and Policy
/// backends refused as violations of the service model (empty: none).
pub async fn identity_violations() -> Value {
    let url = format!("{}/agentform-test/identity/violations", moto().endpoint);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An IAM policy document as IAM returns it (URL-encoded JSON) -> JSON.
pub fn policy_json(doc: &str) -> Value {
    serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&percent_decode(doc)))
        .unwrap_or_else(|e| panic!("policy document is not JSON ({e}): {doc}"))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 policy document")
}

/// A string-or-list policy field as a list.
pub fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("string").to_string())
            .collect(),
        Value::Null => vec![],
        other => panic!("expected a string or a list, got {other}"),
    }
}

/// The statements of a policy document.
pub fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![doc["Statement"].clone()],
        other => panic!("policy has no statements: {other}"),
    }
}

/// Statements that allow `action` (exact action name).
pub fn allowing(doc: &Value, action: &str) -> Vec<Value> {
    statements(doc)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow" && as_list(&s["Action"]).iter().any(|a| a == action))
        .collect()
}

/// Every action some statement of `doc` allows.
pub fn allowed_actions(doc: &Value) -> BTreeSet<String> {
    statements(doc)
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| as_list(&s["Action"]))
        .collect()
}

impl Sdk {
    pub async fn account_id(&self) -> String {
        self.sts
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity")
            .account()
            .expect("account")
            .to_string()
    }

    /// A role with its trust policy, inline policies and tags; `None` when
    /// there is no such role.
    pub async fn role(&self, name: &str) -> Option<RoleView> {
        let role = match self.iam.get_role().role_name(name).send().await {
            Ok(r) => r.role.expect("role"),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                return None;
            }
            Err(e) => panic!("GetRole {name}: {e:?}"),
        };
        let trust = policy_json(role.assume_role_policy_document().expect("trust policy"));
        let mut policies = BTreeMap::new();
        let names = self
            .iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .expect("ListRolePolicies");
        for p in names.policy_names() {
            let doc = self
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(p)
                .send()
                .await
                .expect("GetRolePolicy");
            policies.insert(p.clone(), policy_json(doc.policy_document()));
        }
        let attached = self
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .expect("ListAttachedRolePolicies");
        let tags = self
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .expect("ListRoleTags");
        Some(RoleView {
            path: role.path().to_string(),
            arn: role.arn().to_string(),
            trust,
            policies,
            attached: attached
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect(),
            tags: tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        })
    }

    pub async fn role_names_under(&self, path: &str) -> Vec<String> {
        let roles: Vec<_> = self
            .iam
            .list_roles()
            .path_prefix(path)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListRoles");
        roles.iter().map(|r| r.role_name().to_string()).collect()
    }

    /// Everything left in the account that belongs to `project`, by name
    /// (the physical-name conventions) or by its `agentform:project` tag.
    /// Empty when the project is completely gone.
    pub async fn leftovers(&self, project: &str) -> Vec<String> {
        let mut left = Vec::new();
        let tagged = |tags: &BTreeMap<String, String>| {
            tags.get("agentform:project").map(String::as_str) == Some(project)
        };
        let path = format!("/agentform/{project}/");
        let dash = format!("{project}-");
        let runtime_prefix = format!("{}_", project.replace('-', "_"));
        let repo_prefix = format!("{project}/");

        // Cognito user pools (moto, as patched, deletes none that still has
        // a domain, so a pool gone means its domain went first).
        let pools = self
            .cognito
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .expect("ListUserPools");
        for p in pools.user_pools() {
            let (id, name) = (p.id().unwrap_or_default(), p.name().unwrap_or_default());
            let tags: BTreeMap<String, String> = self
                .cognito
                .describe_user_pool()
                .user_pool_id(id)
                .send()
                .await
                .ok()
                .and_then(|d| d.user_pool().and_then(|u| u.user_pool_tags()).cloned())
                .map(|t| t.into_iter().collect())
                .unwrap_or_default();
            if name.starts_with(&dash) || tagged(&tags) {
                left.push(format!("cognito user pool {name} ({id})"));
            }
        }

        // Credential providers, and the secrets AgentCore Identity keeps
        // for them.
        let keys = self
            .agentcore
            .list_api_key_credential_providers()
            .send()
            .await
            .expect("ListApiKeyCredentialProviders");
        for p in keys.credential_providers() {
            if p.name().starts_with(&dash) {
                left.push(format!("api key credential provider {}", p.name()));
            }
        }
        let oauth = self
            .agentcore
            .list_oauth2_credential_providers()
            .send()
            .await
            .expect("ListOauth2CredentialProviders");
        for p in oauth.credential_providers() {
            if p.name().starts_with(&dash) {
                left.push(format!("oauth2 credential provider {}", p.name()));
            }
        }
        let secrets = self
            .secrets
            .list_secrets()
            .send()
            .await
            .expect("ListSecrets");
        for s in secrets.secret_list() {
            let name = s.name().unwrap_or_default();
            if name.starts_with("bedrock-agentcore-identity!")
                && name
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with(&dash))
            {
                left.push(format!("secret {name}"));
            }
        }

        // Policy engines (their policies cannot outlive them: an engine is
        // only deleted once it has none).
        let engines: Vec<_> = self
            .agentcore
            .list_policy_engines()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListPolicyEngines");
        for e in &engines {
            let tags = self.agentcore_tags(e.policy_engine_arn()).await;
            if e.name().starts_with(&runtime_prefix) || tagged(&tags) {
                left.push(format!(
                    "policy engine {} ({})",
                    e.name(),
                    e.policy_engine_id()
                ));
            }
        }

        // The project's bucket of code bundles, by its derived name prefix.
        let buckets = self.s3.list_buckets().send().await.expect("ListBuckets");
        for b in buckets.buckets() {
            let name = b.name().unwrap_or_default();
            if name.starts_with(&format!("agentform-{project}-")) {
                left.push(format!("s3 bucket {name}"));
            }
        }

        let roles: Vec<_> = self
            .iam
            .list_roles()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListRoles");
        for r in &roles {
            let tags: BTreeMap<_, _> = match self
                .iam
                .list_role_tags()
                .role_name(r.role_name())
                .send()
                .await
            {
                Ok(t) => t
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
                Err(_) => continue, // deleted meanwhile by a parallel test
            };
            if r.path() == path || r.role_name().starts_with(&dash) || tagged(&tags) {
                left.push(format!("iam role {}{}", r.path(), r.role_name()));
            }
        }

        let functions: Vec<_> = self
            .lambda
            .list_functions()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListFunctions");
        for f in &functions {
            let (name, arn) = (
                f.function_name().unwrap_or_default(),
                f.function_arn().unwrap_or_default(),
            );
            let tags: BTreeMap<_, _> = match self.lambda.list_tags().resource(arn).send().await {
                Ok(t) => t.tags().cloned().unwrap_or_default().into_iter().collect(),
                Err(_) => continue,
            };
            if name.starts_with(&dash) || tagged(&tags) {
                left.push(format!("lambda function {name}"));
            }
        }

        let gateways: Vec<_> = self
            .agentcore
            .list_gateways()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListGateways");
        for g in &gateways {
            let Ok(full) = self
                .agentcore
                .get_gateway()
                .gateway_identifier(g.gateway_id())
                .send()
                .await
            else {
                continue;
            };
            let tags = self.agentcore_tags(full.gateway_arn()).await;
            if g.name().starts_with(&dash) || tagged(&tags) {
                left.push(format!("gateway {} ({})", g.name(), g.gateway_id()));
            }
        }

        let runtimes: Vec<_> = self
            .agentcore
            .list_agent_runtimes()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListAgentRuntimes");
        for r in &runtimes {
            let tags = self.agentcore_tags(r.agent_runtime_arn()).await;
            if r.agent_runtime_name().starts_with(&runtime_prefix) || tagged(&tags) {
                left.push(format!(
                    "runtime {} ({})",
                    r.agent_runtime_name(),
                    r.agent_runtime_id()
                ));
            }
        }

        let repos: Vec<_> = self
            .ecr
            .describe_repositories()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("DescribeRepositories");
        for r in &repos {
            let (name, arn) = (
                r.repository_name().unwrap_or_default(),
                r.repository_arn().unwrap_or_default(),
            );
            let tags: BTreeMap<_, _> = match self
                .ecr
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
            {
                Ok(t) => t
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
                Err(_) => continue,
            };
            if name.starts_with(&repo_prefix) || tagged(&tags) {
                left.push(format!("ecr repository {name}"));
            }
        }
        left
    }

    /// The policy engine named `name`: (id, ARN).
    pub async fn policy_engine_named(&self, name: &str) -> Option<(String, String)> {
        let listed = self
            .agentcore
            .list_policy_engines()
            .send()
            .await
            .expect("ListPolicyEngines");
        listed
            .policy_engines()
            .iter()
            .find(|e| e.name() == name)
            .map(|e| {
                (
                    e.policy_engine_id().to_string(),
                    e.policy_engine_arn().to_string(),
                )
            })
    }

    /// An engine's policies by name: (Cedar statement, the policy).
    pub async fn cedar_policies(
        &self,
        engine_id: &str,
    ) -> BTreeMap<String, (String, aws_sdk_bedrockagentcorecontrol::types::Policy)> {
        let listed = self
            .agentcore
            .list_policies()
            .policy_engine_id(engine_id)
            .send()
            .await
            .expect("ListPolicies");
        listed
            .policies()
            .iter()
            .map(|p| {
                let statement = match p.definition() {
                    Some(aws_sdk_bedrockagentcorecontrol::types::PolicyDefinition::Cedar(c)) => {
                        c.statement().to_string()
                    }
                    other => panic!("{}: not Cedar: {other:?}", p.name()),
                };
                (p.name().to_string(), (statement, p.clone()))
            })
            .collect()
    }

    /// A gateway's policy engine configuration: (engine ARN, mode).
    pub async fn gateway_policy_engine(&self, gateway_id: &str) -> Option<(String, String)> {
        let g = self
            .agentcore
            .get_gateway()
            .gateway_identifier(gateway_id)
            .send()
            .await
            .expect("GetGateway");
        g.policy_engine_configuration()
            .map(|c| (c.arn().to_string(), c.mode().as_str().to_string()))
    }

    pub async fn agentcore_tags(&self, arn: &str) -> BTreeMap<String, String> {
        match self
            .agentcore
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(t) => t.tags().cloned().unwrap_or_default().into_iter().collect(),
            Err(_) => BTreeMap::new(),
        }
    }

    /// Ids of the gateways named `name` (more than one would be a twin).
    pub async fn gateways_named(&self, name: &str) -> Vec<String> {
        let all: Vec<_> = self
            .agentcore
            .list_gateways()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListGateways");
        all.iter()
            .filter(|g| g.name() == name)
            .map(|g| g.gateway_id().to_string())
            .collect()
    }

    /// Ids of the runtimes named `name`.
    pub async fn runtimes_named(&self, name: &str) -> Vec<String> {
        let all: Vec<_> = self
            .agentcore
            .list_agent_runtimes()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListAgentRuntimes");
        all.iter()
            .filter(|r| r.agent_runtime_name() == name)
            .map(|r| r.agent_runtime_id().to_string())
            .collect()
    }

    /// The one runtime named `name`, as GetAgentRuntime returns it.
    pub async fn the_runtime_named(
        &self,
        name: &str,
    ) -> aws_sdk_bedrockagentcorecontrol::operation::get_agent_runtime::GetAgentRuntimeOutput {
        let ids = self.runtimes_named(name).await;
        let [id] = ids.as_slice() else {
            panic!("expected one runtime {name}, found {ids:?}");
        };
        self.agentcore
            .get_agent_runtime()
            .agent_runtime_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetAgentRuntime {name}: {e:?}"))
    }

    /// The bytes of object `key` in `bucket`.
    pub async fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject s3://{bucket}/{key}: {e:?}"))
            .body
            .collect()
            .await
            .expect("reading the object's body")
            .into_bytes()
            .to_vec()
    }

    /// (name, id) of every target of a gateway.
    pub async fn targets_of(&self, gateway_id: &str) -> Vec<(String, String)> {
        let all: Vec<_> = self
            .agentcore
            .list_gateway_targets()
            .gateway_identifier(gateway_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListGatewayTargets");
        all.iter()
            .map(|t| (t.name().to_string(), t.target_id().to_string()))
            .collect()
    }
}

/// A role read back through IAM.
#[derive(Debug)]
pub struct RoleView {
    pub path: String,
    pub arn: String,
    pub trust: Value,
    pub policies: BTreeMap<String, Value>,
    pub attached: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A minimal valid zip holding one file (for Lambda functions created
/// directly through the SDK).
pub fn tiny_zip() -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    w.start_file("handler.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"def lambda_handler(event, context):\n    return event\n")
        .unwrap();
    w.finish().unwrap();
    buf.into_inner()
}
