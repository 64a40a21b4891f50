//! What each resource points at: a function's source directory on disk, a
//! gateway's authorizer and the functions and tools of its targets, a
//! runtime's artifact (repository, tag or image URI) and the gateways it may
//! invoke.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{Checker, ptr};
use crate::diag::{Diagnostic, did_you_mean};
use crate::names::{self, RoleOwner};
use crate::package::{self, Problem, human_size};
use crate::spec::{ArtifactSpec, AuthorizerSpec};

impl Checker<'_> {
    /// The roles the spec brings (`role:` of functions, gateways and
    /// runtimes): IAM role ARNs.
    pub(super) fn own_roles(&mut self) {
        let spec = self.spec();
        let mut roles: Vec<(String, String)> = Vec::new();
        for (k, f) in &spec.functions {
            roles.extend(f.role.clone().map(|r| (ptr(&["functions", k, "role"]), r)));
        }
        for (k, g) in &spec.gateways {
            roles.extend(g.role.clone().map(|r| (ptr(&["gateways", k, "role"]), r)));
        }
        for (k, r) in &spec.runtimes {
            roles.extend(r.role.clone().map(|x| (ptr(&["runtimes", k, "role"]), x)));
        }
        for (at, arn) in roles {
            if !names::valid_role_arn(&arn) {
                self.diags.push(
                    Diagnostic::new(
                        format!("`{}` is not an IAM role ARN", crate::diag::shorten(&arn)),
                        self.value_span(&at),
                    )
                    .label("expected arn:aws:iam::ACCOUNT:role/NAME")
                    .help("give the ARN of an existing role (with its path, if any), e.g. arn:aws:iam::123456789012:role/teams/agent-runtime"),
                );
            }
        }
    }

    pub(super) fn functions(&mut self) {
        let region = self.role_region();
        let functions = self.spec().functions.clone();
        for (key, f) in &functions {
            let kp = ptr(&["functions", key]);
            self.name_rule(&names::FUNCTION, &kp, Some("`<project>-<key>`"), |p| {
                names::function(p, key)
            });
            self.name_rule(
                &names::ROLE,
                &kp,
                Some("`<project>-fn-<key>` (its execution role)"),
                |p| names::role(p, &region, RoleOwner::Function, key),
            );
            let dir = self.l.function_dir(f);
            let sp = ptr(&["functions", key, "source"]);
            self.source_dir(
                &sp,
                &f.source,
                &dir,
                f.source_outside_project,
                "function",
                &package::Limits::LAMBDA,
            );
            self.env_keys(&["functions", key], &f.environment, true);
        }
    }

    /// A source directory to package (at `sp`, written `source`, resolved
    /// to `dir`): it exists, is a directory, and packaging it would work.
    /// The canonical directory when it does.
    fn source_dir(
        &mut self,
        sp: &str,
        source: &str,
        dir: &std::path::Path,
        outside_allowed: bool,
        what: &str,
        limits: &package::Limits,
    ) -> Option<std::path::PathBuf> {
        if self.paths != crate::spec::Paths::Check {
            return None;
        }
        if !dir.is_dir() {
            let (problem, label) = if dir.exists() {
                ("is not a directory", "a file")
            } else {
                ("does not exist", "no such directory")
            };
            // Next to the spec, the path as written says it all.
            let label = if self.l.dir == std::path::Path::new(".") {
                label.to_string()
            } else {
                format!("resolved to {}", dir.display())
            };
            self.diags.push(
                Diagnostic::new(
                    format!("{what} source `{source}` {problem}"),
                    self.value_span(sp),
                )
                .label(label)
                .help(format!(
                    "`source` is the directory with the {what}'s code, relative to the spec file"
                )),
            );
            return None;
        }
        // Only metadata is read here: what packaging would refuse.
        let (canonical, problems) = match package::check_source(&self.l.dir, dir, outside_allowed) {
            Err(p) => (None, vec![p]),
            Ok(canonical) => {
                let problems = package::scan(&canonical, limits).err().unwrap_or_default();
                (Some(canonical), problems)
            }
        };
        let ok = problems.is_empty();
        self.diags
            .extend(source_diagnostics(source, self.value_span(sp), &problems));
        canonical.filter(|_| ok)
    }

    /// A container build: its context and Dockerfile exist; no `tag` too.
    fn container_build(&mut self, key: &str, b: &crate::spec::BuildSpec, tagged: bool) {
        let at = |field: &str| ptr(&["runtimes", key, "artifact", "container", field]);
        if tagged {
            self.diags.push(
                Diagnostic::new("`tag` and `build` together", self.key_span(&at("tag")))
                    .label("a built image is tagged by its context")
                    .help("drop `tag`: agentform tags a built image `agentform-<hash of the context>`"),
            );
        }
        let bp = ptr(&["runtimes", key, "artifact", "container", "build", "context"]);
        let Some(canonical) = self.source_dir(
            &bp,
            &b.context,
            &self.l.context_dir(b),
            b.source_outside_project,
            "build context",
            &package::Limits {
                zipped: u64::MAX,
                unzipped: u64::MAX,
            },
        ) else {
            return;
        };
        if !canonical.join(b.dockerfile()).is_file() {
            let span = match &b.dockerfile {
                Some(_) => self.value_span(&ptr(&[
                    "runtimes",
                    key,
                    "artifact",
                    "container",
                    "build",
                    "dockerfile",
                ])),
                None => self.value_span(&bp),
            };
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "no `{}` in the build context `{}`",
                        b.dockerfile(),
                        b.context
                    ),
                    span,
                )
                .label("Dockerfile not found")
                .help("`dockerfile` is relative to the context (default `Dockerfile`)"),
            );
        }
    }

    /// A runtime's code artifact: the runtime, the source, the entry point
    /// and the requirements file.
    fn code_artifact(&mut self, key: &str, c: &crate::spec::CodeSpec) {
        let at = |field: &str| ptr(&["runtimes", key, "artifact", "code", field]);
        if c.api_runtime().is_none() {
            let names: Vec<&str> = crate::spec::CodeSpec::RUNTIMES
                .iter()
                .map(|(k, _)| *k)
                .collect();
            let mut d = Diagnostic::new(
                format!("AgentCore has no code runtime `{}`", c.runtime),
                self.value_span(&at("runtime")),
            )
            .label("unsupported runtime");
            d = match did_you_mean(&c.runtime, names.iter().copied()) {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? (supported: {})",
                    names.join(", ")
                )),
                None => d.help(format!("supported: {}", names.join(", "))),
            };
            self.diags.push(d);
        }
        let dir = self.l.code_dir(c);
        let Some(canonical) = self.source_dir(
            &at("source"),
            &c.source,
            &dir,
            c.source_outside_project,
            "runtime",
            &crate::bundle::LIMITS,
        ) else {
            return;
        };
        let parts = c.entry_point.parts();
        let bad_len = parts.is_empty()
            || parts.len() > 2
            || parts.iter().any(|p| p.is_empty() || p.len() > 128);
        if bad_len {
            self.diags.push(
                Diagnostic::new("`entry_point` must be 1 or 2 items of 1 to 128 characters", self.value_span(&at("entry_point")))
                    .label("invalid entry point")
                    .help("the file the runtime starts (`app.py`), or a command and that file (`[opentelemetry-instrument, app.py]`)"),
            );
        } else if let Some(file) = parts.last()
            && !canonical.join(file).is_file()
        {
            self.diags.push(
                Diagnostic::new(
                    format!("entry point `{file}` is not a file in `{}`", c.source),
                    self.value_span(&at("entry_point")),
                )
                .label("no such file in the source directory")
                .help("`entry_point` names the file the runtime starts, relative to `source`"),
            );
        }
        if let Some(r) = &c.requirements {
            if c.python_version().is_none() {
                self.diags.push(
                    Diagnostic::new(format!("`requirements` is for Python runtimes, not `{}`", c.runtime), self.value_span(&at("requirements")))
                        .label("not a Python runtime")
                        .help("for Node.js, install the dependencies into the source directory (node_modules) and drop `requirements`"),
                );
            } else if canonical
                .join(r)
                .canonicalize()
                .is_ok_and(|p| !p.starts_with(&canonical))
            {
                self.diags.push(
                    Diagnostic::new(
                        format!("requirements file `{r}` is outside `{}`", c.source),
                        self.value_span(&at("requirements")),
                    )
                    .label("outside the source directory")
                    .help("put the requirements file in the agent's directory"),
                );
            } else if !canonical.join(r).is_file() {
                self.diags.push(
                    Diagnostic::new(
                        format!("requirements file `{r}` does not exist in `{}`", c.source),
                        self.value_span(&at("requirements")),
                    )
                    .label("no such file in the source directory")
                    .help("`requirements` is a pip requirements file, relative to `source`"),
                );
            }
        }
    }

    pub(super) fn gateways(&mut self) {
        let region = self.role_region();
        let gateways = self.spec().gateways.clone();
        let functions: Vec<String> = self.spec().functions.keys().cloned().collect();
        for (key, g) in &gateways {
            let kp = ptr(&["gateways", key]);
            self.name_rule(&names::GATEWAY, &kp, Some("`<project>-<key>`"), |p| {
                names::gateway(p, key)
            });
            self.name_rule(
                &names::ROLE,
                &kp,
                Some("`<project>-gw-<key>` (its service role)"),
                |p| names::role(p, &region, RoleOwner::Gateway, key),
            );
            self.authorizer(&["gateways", key, "authorizer"], &g.authorizer, "gateway");
            self.cognito_m2m(key, &g.authorizer);
            for (tkey, t) in &g.targets {
                self.target(key, tkey, t, &functions);
            }
            self.interceptors(key, g, &functions);
            self.gateway_engine(key);
            self.derived_access(key);
        }
    }

    /// A `cognito_m2m` authorizer of gateway `key`: its derived domain
    /// prefix may not hold a word Cognito reserves, and the runtimes that
    /// call it get its clients.
    fn cognito_m2m(&mut self, key: &str, a: &AuthorizerSpec) {
        let AuthorizerSpec::CognitoM2m { cognito_m2m } = a else {
            return;
        };
        let at = ptr(&["gateways", key, "authorizer", "cognito_m2m"]);
        let head = format!("{}-{key}", self.spec().project).to_ascii_lowercase();
        if let Some(word) = ["aws", "amazon", "cognito"]
            .into_iter()
            .find(|w| head.contains(w))
        {
            self.diags.push(
                Diagnostic::new(
                    format!("the Cognito domain of gateway `{key}` would contain `{word}`, which Cognito refuses in domain prefixes"),
                    self.key_span(&at),
                )
                .label(format!("its domain prefix starts with `{head}`"))
                .help("Cognito reserves `aws`, `amazon` and `cognito`: rename the project or the gateway key"),
            );
        }
        let server = names::resource_server(&self.spec().project, key);
        for (i, s) in cognito_m2m.scopes.iter().flatten().enumerate() {
            // Cognito's ResourceServerScopeNameType.
            if let Some(c) = s
                .chars()
                .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | '/' | '\\'))
            {
                self.diags.push(
                    Diagnostic::new(
                        format!("scope `{s}` has {c:?}, which Cognito refuses in scope names"),
                        self.value_span(&format!("{at}/scopes/{i}")),
                    )
                    .label("invalid scope name")
                    .help("printable ASCII without spaces, `\"`, `/` or `\\`, e.g. `invoke` or `tools.read`"),
                );
            } else if server.len() + 1 + s.len() > 256 {
                self.diags.push(
                    Diagnostic::new(
                        format!("scope `{server}/{s}` is longer than Cognito's 256 characters"),
                        self.value_span(&format!("{at}/scopes/{i}")),
                    )
                    .label("too long")
                    .help("scopes are `<gateway name>/<scope>`: shorten the scope"),
                );
            }
        }
        if crate::plan::desired::callers(self.spec(), key).is_empty() {
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "no runtime calls gateway `{key}`, so its user pool would have no client"
                    ),
                    self.key_span(&at),
                )
                .label("no runtime lists it in `invoke_gateways`")
                .help(format!(
                    "add `{key}` to the `invoke_gateways` of the runtimes that call it"
                )),
            );
        }
    }

    /// A `custom_jwt` authorizer (of a gateway or a runtime) at `at`.
    fn authorizer(&mut self, at: &[&str], a: &AuthorizerSpec, what: &str) {
        if let (AuthorizerSpec::CognitoM2m { .. }, "runtime") = (a, what) {
            self.diags.push(
                Diagnostic::new(
                    "`cognito_m2m` is for gateways",
                    self.key_span(&ptr(&at
                        .iter()
                        .copied()
                        .chain(["cognito_m2m"])
                        .collect::<Vec<_>>())),
                )
                .label("not a runtime authorizer")
                .help("a runtime takes `aws_iam` or `custom_jwt`"),
            );
            return;
        }
        let AuthorizerSpec::CustomJwt { custom_jwt } = a else {
            return;
        };
        let jwt: Vec<&str> = at.iter().copied().chain(["custom_jwt"]).collect();
        if !names::valid_discovery_url(&custom_jwt.discovery_url) {
            let url: Vec<&str> = jwt.iter().copied().chain(["discovery_url"]).collect();
            self.diags.push(
                Diagnostic::new("invalid OIDC discovery URL", self.value_span(&ptr(&url)))
                    .label("expected https://.../.well-known/openid-configuration")
                    .help("AgentCore requires the issuer's OpenID discovery document URL"),
            );
        }
        if custom_jwt.allowed_audiences.is_empty() && custom_jwt.allowed_clients.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    "a custom_jwt authorizer needs `allowed_audiences` or `allowed_clients`",
                    self.key_span(&ptr(&jwt)),
                )
                .label("would accept any token from the issuer")
                .help(format!(
                    "list the audiences or client ids this {what} accepts"
                )),
            );
        }
    }

    /// A runtime's VPC settings, request headers and lifecycle.
    fn runtime_settings(&mut self, key: &str, r: &crate::spec::RuntimeSpec) {
        for (i, h) in r.request_headers.iter().enumerate() {
            if !names::valid_header_name(h) {
                self.diags.push(
                    Diagnostic::new(
                        format!("`{h}` is not a header name AgentCore can pass on"),
                        self.value_span(&ptr(&["runtimes", key, "request_headers", &i.to_string()])),
                    )
                    .label("invalid header name")
                    .help("a letter, then letters, digits, `_` and `-`, at most 256 characters (e.g. `X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant`)"),
                );
            }
        }
        if let Some(vpc) = r.vpc() {
            let at = ptr(&["runtimes", key, "network", "vpc"]);
            for (field, list, valid, example) in [
                (
                    "subnets",
                    &vpc.subnets,
                    names::valid_subnet as fn(&str) -> bool,
                    "subnet-0123456789abcdef0",
                ),
                (
                    "security_groups",
                    &vpc.security_groups,
                    names::valid_security_group,
                    "sg-0123456789abcdef0",
                ),
            ] {
                for (i, id) in list.iter().enumerate() {
                    if !valid(id) {
                        self.diags.push(
                            Diagnostic::new(
                                format!(
                                    "`{id}` is not a {} id",
                                    if field == "subnets" {
                                        "subnet"
                                    } else {
                                        "security group"
                                    }
                                ),
                                self.value_span(&format!("{at}/{field}/{i}")),
                            )
                            .label("invalid id")
                            .help(format!("ids look like `{example}` (8 or 17 hex digits)")),
                        );
                    }
                }
            }
            for (list, field, example) in [
                (&vpc.subnets, "subnets", "subnet-0abc1234"),
                (&vpc.security_groups, "security_groups", "sg-0abc1234"),
            ] {
                if list.is_empty() {
                    self.diags.push(
                        Diagnostic::new(
                            format!("VPC mode needs `{field}`"),
                            self.key_span(&at),
                        )
                        .label(format!("no {}", field.replace('_', " ")))
                        .help(format!(
                            "list 1 to 16 {} the runtime's network interfaces go in (`{field}: [{example}]`), or use `network: PUBLIC`",
                            field.replace('_', " ")
                        )),
                    );
                }
            }
        }
        if let Some(l) = &r.lifecycle {
            use crate::model::RuntimeConfig as R;
            // An unset one is AgentCore's default, which the other must fit too.
            let shown = |v: Option<i64>, default: i32| match v {
                Some(v) => format!("{v} s"),
                None => format!("{default} s, its default"),
            };
            let idle = l.idle_timeout.unwrap_or(R::DEFAULT_IDLE_TIMEOUT.into());
            let max = l.max_lifetime.unwrap_or(R::DEFAULT_MAX_LIFETIME.into());
            if idle > max {
                let field = if l.idle_timeout.is_some() {
                    "idle_timeout"
                } else {
                    "max_lifetime"
                };
                self.diags.push(
                    Diagnostic::new(
                        format!(
                            "`idle_timeout` ({}) is longer than `max_lifetime` ({})",
                            shown(l.idle_timeout, R::DEFAULT_IDLE_TIMEOUT),
                            shown(l.max_lifetime, R::DEFAULT_MAX_LIFETIME)
                        ),
                        self.value_span(&ptr(&["runtimes", key, "lifecycle", field])),
                    )
                    .label("longer than the session may live")
                    .help("a session ends at max_lifetime whatever its idle time: make idle_timeout at most max_lifetime"),
                );
            }
        }
    }

    fn runtime_authorizer(&mut self, key: &str, r: &crate::spec::RuntimeSpec) {
        if let Some(a) = &r.authorizer {
            self.authorizer(&["runtimes", key, "authorizer"], a, "runtime");
        }
    }

    pub(super) fn memories(&mut self) {
        let memories = self.spec().memories.clone();
        for key in memories.keys() {
            let kp = ptr(&["memories", key]);
            self.name_rule(
                &names::MEMORY,
                &kp,
                Some("`<project>_<key>` with hyphens as underscores"),
                |p| names::memory(p, key),
            );
        }
    }

    pub(super) fn runtimes(&mut self) {
        let region = self.role_region();
        let runtimes = self.spec().runtimes.clone();
        let repos: Vec<String> = self.spec().repositories.keys().cloned().collect();
        let gateways = self.spec().gateways.clone();
        // Hyphens become underscores, so two keys can name one runtime.
        let mut physical: BTreeMap<String, String> = BTreeMap::new();
        for key in runtimes.keys() {
            let name = names::runtime(&self.spec().project, key);
            if let Some(first) = physical.get(&name) {
                self.diags.push(
                    Diagnostic::new(
                        format!("runtimes `{first}` and `{key}` would both be named `{name}`"),
                        self.key_span(&ptr(&["runtimes", key])),
                    )
                    .label("same physical name as another runtime")
                    .help("runtime names turn hyphens into underscores; rename one of the keys"),
                );
            } else {
                physical.insert(name, key.clone());
            }
        }
        for (key, r) in &runtimes {
            let kp = ptr(&["runtimes", key]);
            self.name_rule(
                &names::RUNTIME,
                &kp,
                Some("`<project>_<key>` with hyphens as underscores"),
                |p| names::runtime(p, key),
            );
            self.name_rule(
                &names::ROLE,
                &kp,
                Some("`<project>-rt-<key>` (its execution role)"),
                |p| names::role(p, &region, RoleOwner::Runtime, key),
            );
            match &r.artifact {
                ArtifactSpec::Container(c) => {
                    if !repos.contains(&c.repository) {
                        let mut d = Diagnostic::new(
                            format!("unknown repository `{}`", c.repository),
                            self.value_span(&format!("{kp}/artifact/container/repository")),
                        )
                        .label("not declared under `repositories`");
                        d = match did_you_mean(&c.repository, repos.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help("declare it under `repositories:`, or use `artifact: {image: <uri>}`"),
                        };
                        self.diags.push(d);
                    }
                    if let Some(b) = &c.build {
                        self.container_build(key, b, c.tag.is_some());
                    }
                    if let Some(tag) = &c.tag {
                        let ok = !tag.is_empty()
                            && tag.len() <= 128
                            && tag
                                .chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
                        if !ok {
                            self.diags.push(
                                Diagnostic::new(
                                    format!("invalid image tag `{tag}`"),
                                    self.value_span(&format!("{kp}/artifact/container/tag")),
                                )
                                .label("invalid tag")
                                .help("image tags are 1-128 letters, digits, `.`, `_` and `-`"),
                            );
                        }
                    }
                }
                ArtifactSpec::Code(c) => self.code_artifact(key, c),
                ArtifactSpec::Image(uri) => {
                    if !names::valid_image(uri) {
                        self.diags.push(
                            Diagnostic::new(format!("`{uri}` is not an ECR image URI"), self.value_span(&format!("{kp}/artifact/image")))
                                .label("not an ECR image")
                                .help("AgentCore pulls from ECR: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> (ARM64 image)"),
                        );
                    }
                }
            }
            for (i, g) in r.invoke_gateways.iter().enumerate() {
                let gp = format!("{kp}/invoke_gateways/{i}");
                match gateways.get(g) {
                    None => {
                        let mut d =
                            Diagnostic::new(format!("unknown gateway `{g}`"), self.value_span(&gp))
                                .label("not declared under `gateways`");
                        if let Some(s) = did_you_mean(g, gateways.keys().map(String::as_str)) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        self.diags.push(d);
                    }
                    Some(gw) if matches!(gw.authorizer, AuthorizerSpec::CustomJwt { .. }) => {
                        self.diags.push(
                            Diagnostic::new(format!("gateway `{g}` uses custom_jwt auth; an IAM grant cannot let this runtime call it"), self.value_span(&gp))
                                .label("not an aws_iam gateway")
                                .help("`invoke_gateways` grants bedrock-agentcore:InvokeGateway on `authorizer: aws_iam` gateways and gives the runtime a Cognito client of `authorizer: {cognito_m2m: {}}` gateways; a custom_jwt issuer is not agentform's"),
                        );
                    }
                    Some(_) => {}
                }
            }
            for (i, m) in r.models.iter().flatten().enumerate() {
                if !names::valid_model(m) {
                    self.diags.push(
                        Diagnostic::new(
                            format!("`{m}` is not a Bedrock model id, inference profile id or ARN"),
                            self.value_span(&format!("{kp}/models/{i}")),
                        )
                        .label("not a model")
                        .help("a model id (`anthropic.claude-3-haiku-20240307-v1:0`), a cross-Region inference profile id (`us.anthropic.claude-haiku-4-5-20251001-v1:0`) or a Bedrock ARN, without wildcards"),
                    );
                }
            }
            self.runtime_settings(key, r);
            self.runtime_authorizer(key, r);
            self.env_keys(&["runtimes", key], &r.environment, false);
            for ekey in r.endpoints.keys() {
                let ep = ptr(&["runtimes", key, "endpoints", ekey]);
                if ekey == names::DEFAULT_ENDPOINT {
                    self.diags.push(
                        Diagnostic::new(
                            "the endpoint name `DEFAULT` is AgentCore's own",
                            self.key_span(&ep),
                        )
                        .label("reserved name")
                        .help("AgentCore creates `DEFAULT` with every runtime and moves it to each new version by itself; name your endpoint otherwise"),
                    );
                    continue;
                }
                if let Some(v) = names::ENDPOINT.violation(&names::endpoint(ekey)) {
                    self.diags.push(
                        Diagnostic::new(v, self.key_span(&ep))
                            .label("invalid endpoint name")
                            .help(names::ENDPOINT.explain),
                    );
                }
            }
        }
    }
}

/// At most this many problems of one source directory are reported.
const MAX_SOURCE_PROBLEMS: usize = 10;

/// Diagnostics at a function's `source` value for what packaging refuses
/// (validate finds them from metadata; plan and apply also find the zipped
/// size while packaging). Paths are shown, never file contents.
pub fn source_diagnostics(
    source: &str,
    span: Range<usize>,
    problems: &[Problem],
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = problems
        .iter()
        .take(MAX_SOURCE_PROBLEMS)
        .map(|p| source_diagnostic(source, span.clone(), p))
        .collect();
    if problems.len() > MAX_SOURCE_PROBLEMS {
        let more = problems.len() - MAX_SOURCE_PROBLEMS;
        out.push(
            Diagnostic::new(
                format!(
                    "function source `{source}` has {more} more problem{} like these",
                    if more == 1 { "" } else { "s" }
                ),
                span,
            )
            .label("not all listed")
            .help("fix the ones above and run `agentform validate` again"),
        );
    }
    out
}

fn source_diagnostic(source: &str, span: Range<usize>, p: &Problem) -> Diagnostic {
    const KEEP_OUT: &str = "leave out what the function does not need at run time (tests, build tools, data), or move it out of the source directory";
    let (message, label, help) = match p {
        Problem::OutsideProject { resolved, project } => (
            format!("function source `{source}` is outside the project"),
            format!("resolves to {}, outside {}", resolved.display(), project.display()),
            "a function's code must be under the spec file's directory, so that nothing else on this machine is uploaded; move it there, or set `source_outside_project: true` on this function".to_string(),
        ),
        Problem::SystemDirectory { resolved } => (
            if resolved.parent().is_none() {
                format!("function source `{source}` is the filesystem root")
            } else {
                format!("function source `{source}` is a system directory")
            },
            format!("resolves to {}", resolved.display()),
            "`source` is the directory with the function's code; the filesystem root, /proc, /sys and /dev are never packaged".to_string(),
        ),
        Problem::SymlinkOutside { link, target, resolved } => (
            format!("function source `{source}` has a symlink out of it: `{link}` -> {}", target.display()),
            format!("`{link}` resolves to {}, outside this directory", resolved.display()),
            "a symlink is packaged only when it points inside the source directory, and what is outside is never read; copy the file in instead, or remove the link".to_string(),
        ),
        Problem::SymlinkLoop { link, target, resolved } => (
            format!("function source `{source}` has a symlink loop: `{link}` -> {}", target.display()),
            match resolved {
                Some(r) => format!("`{link}` leads back to {}, a directory it is in", r.display()),
                None => format!("`{link}` goes round in a circle of links"),
            },
            "following it would never end; remove the link".to_string(),
        ),
        Problem::BrokenSymlink { link, target } => (
            format!("function source `{source}` has a broken symlink: `{link}` -> {}", target.display()),
            "its target does not exist".to_string(),
            "remove the link, or create what it points at inside the source directory".to_string(),
        ),
        Problem::SpecialFile { path, kind } => (
            format!("function source `{source}` holds a {kind}: `{path}`"),
            "not a regular file".to_string(),
            "only regular files, directories and symlinks are packaged; remove it or move it out of the source directory".to_string(),
        ),
        Problem::TooLargeUnzipped { size, limit, largest } => {
            let files = largest
                .iter()
                .map(|(f, n)| format!("`{f}` ({})", human_size(*n)))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("function source `{source}` is {} unzipped, over Lambda's {} limit", human_size(*size), human_size(*limit)),
                "too large to deploy".to_string(),
                format!("the largest files: {files}; {KEEP_OUT}"),
            )
        }
        Problem::TooLargeZipped { limit, at } => (
            format!("the package of function source `{source}` is over Lambda's {} limit for a direct upload", human_size(*limit)),
            format!("the zip passed {} while `{at}` was added", human_size(*limit)),
            format!("agentform uploads the zip directly, which Lambda takes up to {} zipped; {KEEP_OUT}", human_size(*limit)),
        ),
        Problem::Empty => (
            format!("function source `{source}` has no files to package"),
            "empty, or only build debris".to_string(),
            "put the function's code in it (`__pycache__`, `.git`, `*.pyc` and the like are left out)".to_string(),
        ),
        Problem::Changed { path } => (
            format!("function source `{source}` changed while it was packaged: `{path}`"),
            "not the file that was checked".to_string(),
            "run again once nothing is writing to the directory".to_string(),
        ),
        Problem::Io { path, error } => (
            format!("cannot read `{path}` in function source `{source}`: {error}"),
            "unreadable".to_string(),
            "check the permissions of the source directory and what is in it".to_string(),
        ),
    };
    Diagnostic::new(message, span).label(label).help(help)
}
