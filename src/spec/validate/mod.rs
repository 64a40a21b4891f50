//! Meaning checks on a structurally valid spec: AWS naming rules on derived
//! physical names, references between resources (existence, attribute, place,
//! cycles), tool schemas beyond their shape, and paths on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde_json::Value;

use super::refs::{self, REF_KINDS, Ref, Segment};
use super::yaml::escape;
use super::{ArtifactSpec, AuthorizerSpec, LoadedSpec, Spec};
use crate::diag::{Diagnostic, did_you_mean};
use crate::names::{self, RoleOwner, Rule};

struct Checker<'a> {
    l: &'a LoadedSpec,
    diags: Vec<Diagnostic>,
    /// Whether `project` is a valid name. When it is not, derived names are
    /// judged with a stand-in project, so they do not repeat its problem.
    project_ok: bool,
    /// Keys already reported by `name_rule`.
    named: BTreeSet<String>,
    paths: super::Paths,
}

/// Every meaning problem of the spec.
pub fn check(l: &LoadedSpec, paths: super::Paths) -> Vec<Diagnostic> {
    let project_ok = names::PROJECT.violation(&l.spec.project).is_none();
    let mut c = Checker {
        l,
        diags: Vec::new(),
        project_ok,
        named: BTreeSet::new(),
        paths,
    };
    c.project();
    c.tags();
    c.functions();
    c.gateways();
    c.repositories();
    c.runtimes();
    c.references();
    c.diags
}

fn ptr(parts: &[&str]) -> String {
    parts.iter().map(|p| format!("/{}", escape(p))).collect()
}

impl Checker<'_> {
    fn spec(&self) -> &Spec {
        &self.l.spec
    }
    fn value_span(&self, p: &str) -> Range<usize> {
        self.l.map.value_span(p)
    }
    fn key_span(&self, p: &str) -> Range<usize> {
        self.l.map.key_span(p)
    }
    /// Span of `needle` inside the scalar at `p` (for one `${...}` in a string).
    fn inner_span(&self, p: &str, needle: &str) -> Range<usize> {
        super::interpolate::span_within(&self.l.map, Some(&self.l.source), p, needle)
    }

    /// Checks the physical name `derive(project)` of the resource whose key
    /// is at `key_ptr`; `how` says how the name is derived (`None`: it is the
    /// key itself). One problem per key: a second derived name (the role)
    /// breaking for the same key would only repeat it.
    fn name_rule(
        &mut self,
        rule: &Rule,
        key_ptr: &str,
        how: Option<&str>,
        derive: impl Fn(&str) -> String,
    ) {
        if self.named.contains(key_ptr) {
            return;
        }
        let key = key_ptr
            .rsplit('/')
            .next()
            .unwrap_or("")
            .replace("~1", "/")
            .replace("~0", "~");
        let (message, label) = if how.is_none() || self.project_ok {
            let Some(problem) = rule.violation(&derive(&self.spec().project)) else {
                return;
            };
            let label = if how.is_some() {
                "the physical name is derived from this key".to_string()
            } else {
                format!("invalid {}", rule.what)
            };
            (problem, label)
        } else {
            // The project is invalid (reported on its own); judge the key with
            // a stand-in project, leaving lengths to the next run.
            match rule.fault(&derive("p")) {
                Some(fault) if !fault.starts_with("is ") => (
                    format!("{} for key `{key}` {fault}", rule.what),
                    "the physical name is derived from this key".to_string(),
                ),
                _ => return,
            }
        };
        let fix = if message.contains(" characters long, more than ") {
            "shorten the key"
        } else {
            "rename the key"
        };
        let help = match how {
            Some(how) => format!("{}; the name is {how}, so {fix}", rule.explain),
            None => rule.explain.to_string(),
        };
        self.named.insert(key_ptr.to_string());
        self.diags.push(
            Diagnostic::new(message, self.key_span(key_ptr))
                .label(label)
                .help(help),
        );
    }

    fn project(&mut self) {
        let p = self.spec().project.clone();
        if let Some(problem) = names::PROJECT.violation(&p) {
            self.diags.push(
                Diagnostic::new(problem, self.value_span("/project"))
                    .label("invalid project name")
                    .help(names::PROJECT.explain),
            );
        }
        if let Some(region) = &self.spec().region
            && !names::valid_region(region)
        {
            self.diags.push(
                Diagnostic::new(
                    format!("`{region}` is not an AWS region name"),
                    self.value_span("/region"),
                )
                .label("invalid region")
                .help("use a region code such as `us-east-1`"),
            );
        }
    }

    fn tags(&mut self) {
        let tags = self.spec().tags.clone();
        for (k, v) in &tags {
            let p = ptr(&["tags", k]);
            if k.starts_with("aws:") || k.starts_with("agentform:") {
                self.diags.push(
                    Diagnostic::new(format!("tag key `{k}` uses a reserved prefix"), self.key_span(&p))
                        .label("reserved")
                        .help("`aws:` belongs to AWS and `agentform:` to the ownership tags agentform sets itself"),
                );
            } else if !names::valid_tag(k) || k.is_empty() || k.len() > 128 {
                self.diags.push(
                    Diagnostic::new(format!("invalid tag key `{k}`"), self.key_span(&p))
                        .label("invalid tag key")
                        .help("tag keys are 1-128 characters of letters, digits, spaces and . _ : / = + @ -"),
                );
            }
            if !names::valid_tag(v) || v.len() > 256 {
                self.diags.push(
                    Diagnostic::new(format!("invalid value for tag `{k}`"), self.value_span(&p))
                        .label("invalid tag value")
                        .help("tag values are 0-256 characters of letters, digits, spaces and . _ : / = + @ -"),
                );
            }
        }
    }

    fn env_keys(&mut self, base: &[&str], env: &BTreeMap<String, String>, lambda: bool) {
        for k in env.keys() {
            let mut parts = base.to_vec();
            parts.push("environment");
            parts.push(k);
            let p = ptr(&parts);
            if !names::valid_env_key(k) || k.len() > 100 {
                self.diags.push(
                    Diagnostic::new(format!("invalid environment variable name `{k}`"), self.key_span(&p))
                        .label("invalid name")
                        .help("names start with a letter and use letters, digits and underscores (at most 100)"),
                );
            } else if lambda && is_reserved_lambda_env(k) {
                self.diags.push(
                    Diagnostic::new(format!("`{k}` is set by Lambda itself and cannot be overridden"), self.key_span(&p))
                        .label("reserved by Lambda")
                        .help("pick another name; Lambda sets AWS_REGION, AWS_LAMBDA_* and the credential variables"),
                );
            }
        }
        if env.len() > 50 && !lambda {
            let mut parts = base.to_vec();
            parts.push("environment");
            self.diags.push(Diagnostic::new(
                "a runtime takes at most 50 environment variables",
                self.key_span(&ptr(&parts)),
            ));
        }
    }

    fn functions(&mut self) {
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
                |p| names::role(p, RoleOwner::Function, key),
            );
            let dir = self.l.function_dir(f);
            let sp = ptr(&["functions", key, "source"]);
            if self.paths == super::Paths::Check && !dir.is_dir() {
                let (what, label) = if dir.exists() {
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
                    Diagnostic::new(format!("function source `{}` {what}", f.source), self.value_span(&sp))
                        .label(label)
                        .help("`source` is the directory with the function's code, relative to the spec file"),
                );
            }
            self.env_keys(&["functions", key], &f.environment, true);
        }
    }

    fn gateways(&mut self) {
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
                |p| names::role(p, RoleOwner::Gateway, key),
            );
            if let AuthorizerSpec::CustomJwt { custom_jwt } = &g.authorizer {
                if !names::valid_discovery_url(&custom_jwt.discovery_url) {
                    self.diags.push(
                        Diagnostic::new(
                            "invalid OIDC discovery URL",
                            self.value_span(&ptr(&[
                                "gateways",
                                key,
                                "authorizer",
                                "custom_jwt",
                                "discovery_url",
                            ])),
                        )
                        .label("expected https://.../.well-known/openid-configuration")
                        .help("AgentCore requires the issuer's OpenID discovery document URL"),
                    );
                }
                if custom_jwt.allowed_audiences.is_empty() && custom_jwt.allowed_clients.is_empty()
                {
                    self.diags.push(
                        Diagnostic::new("a custom_jwt authorizer needs `allowed_audiences` or `allowed_clients`", self.key_span(&ptr(&["gateways", key, "authorizer", "custom_jwt"])))
                            .label("would accept any token from the issuer")
                            .help("list the audiences or client ids this gateway accepts"),
                    );
                }
            }
            for (tkey, t) in &g.targets {
                let tp = ptr(&["gateways", key, "targets", tkey]);
                self.name_rule(&names::TARGET, &tp, None, |_| names::target(tkey));
                let fp = format!("{tp}/function");
                if !functions.contains(&t.function) {
                    let mut d = Diagnostic::new(
                        format!("unknown function `{}`", t.function),
                        self.value_span(&fp),
                    )
                    .label("not declared under `functions`");
                    d = match did_you_mean(&t.function, functions.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => {
                            d.help("a Lambda target names a function declared under `functions:`")
                        }
                    };
                    self.diags.push(d);
                }
                let mut seen = BTreeSet::new();
                for (i, tool) in t.tools.iter().enumerate() {
                    let ip = format!("{tp}/tools/{i}");
                    let np = format!("{ip}/name");
                    if let Some(problem) = names::TOOL.violation(&tool.name) {
                        self.diags.push(
                            Diagnostic::new(problem, self.value_span(&np))
                                .label("invalid tool name")
                                .help(names::TOOL.explain),
                        );
                    }
                    if !seen.insert(tool.name.clone()) {
                        self.diags.push(
                            Diagnostic::new(
                                format!("duplicate tool `{}` in target `{tkey}`", tool.name),
                                self.value_span(&np),
                            )
                            .label("declared twice")
                            .help("tool names must be unique within a target"),
                        );
                    }
                    let inp = format!("{ip}/input");
                    if tool.input.get("type").and_then(Value::as_str) != Some("object") {
                        self.diags.push(
                            Diagnostic::new("a tool's input schema must have `type: object`", self.value_span(&format!("{inp}/type")))
                                .label("expected `object`")
                                .help("MCP tool arguments are a JSON object; declare each argument under `properties`"),
                        );
                    }
                    self.tool_schema(&tool.input, &inp);
                    if let Some(out) = &tool.output {
                        self.tool_schema(out, &format!("{ip}/output"));
                    }
                }
            }
        }
    }

    fn tool_schema(&mut self, s: &Value, p: &str) {
        let ty = s.get("type").and_then(Value::as_str).unwrap_or("");
        let props = s.get("properties").and_then(Value::as_object);
        if props.is_some() && ty != "object" {
            self.diags.push(
                Diagnostic::new(
                    format!("`properties` only applies to `type: object`, not `{ty}`"),
                    self.key_span(&format!("{p}/properties")),
                )
                .label("ignored for this type"),
            );
        }
        if s.get("items").is_some() && ty != "array" {
            self.diags.push(
                Diagnostic::new(
                    format!("`items` only applies to `type: array`, not `{ty}`"),
                    self.key_span(&format!("{p}/items")),
                )
                .label("ignored for this type"),
            );
        }
        if ty == "array" && s.get("items").is_none() {
            self.diags.push(
                Diagnostic::new("an array schema needs `items`", self.key_span(p))
                    .label("`items` missing")
                    .help("describe the elements, e.g. `items: {type: string}`"),
            );
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for (i, r) in req.iter().enumerate() {
                let name = r.as_str().unwrap_or_default();
                if !props.is_some_and(|o| o.contains_key(name)) {
                    let known: Vec<&str> = props
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let mut d = Diagnostic::new(
                        format!("required property `{name}` is not declared in `properties`"),
                        self.value_span(&format!("{p}/required/{i}")),
                    )
                    .label("not in `properties`");
                    if let Some(x) = did_you_mean(name, known) {
                        d = d.help(format!("did you mean `{x}`?"));
                    }
                    self.diags.push(d);
                }
            }
        }
        if let Some(props) = props {
            for (k, sub) in props {
                self.tool_schema(sub, &format!("{p}/properties/{}", escape(k)));
            }
        }
        if let Some(items) = s.get("items") {
            self.tool_schema(items, &format!("{p}/items"));
        }
    }

    fn repositories(&mut self) {
        let keys: Vec<String> = self.spec().repositories.keys().cloned().collect();
        for key in keys {
            self.name_rule(
                &names::REPOSITORY,
                &ptr(&["repositories", &key]),
                Some("`<project>/<key>`"),
                |p| names::repository(p, &key),
            );
        }
    }

    fn runtimes(&mut self) {
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
                |p| names::role(p, RoleOwner::Runtime, key),
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
                    Some(gw) if !matches!(gw.authorizer, AuthorizerSpec::Named(_)) => {
                        self.diags.push(
                            Diagnostic::new(format!("gateway `{g}` uses custom_jwt auth; an IAM grant cannot let this runtime call it"), self.value_span(&gp))
                                .label("not an aws_iam gateway")
                                .help("`invoke_gateways` grants bedrock-agentcore:InvokeGateway, which only applies to gateways with `authorizer: aws_iam`"),
                        );
                    }
                    Some(_) => {}
                }
            }
            self.env_keys(&["runtimes", key], &r.environment, false);
        }
    }

    /// Resource references: where they may appear, what they name, cycles.
    fn references(&mut self) {
        let spec = self.spec().clone();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Where each edge comes from: the first reference that makes it.
        let mut at: BTreeMap<(String, String), Range<usize>> = BTreeMap::new();
        let mut strings: Vec<(String, String, Option<String>)> = Vec::new(); // (pointer, text, owner node)
        collect_strings(&self.l.json, String::new(), &mut strings);
        for (p, text, _) in &strings {
            let owner = allowed_owner(p);
            let Ok(segments) = refs::parse(text) else {
                continue;
            };
            for seg in segments {
                let Segment::Ref(Ref::Resource { kind, name, attr }, range) = seg else {
                    continue;
                };
                let expr = &text[range];
                let span = self.inner_span(p, expr);
                let Some(&(_, attrs)) = REF_KINDS.iter().find(|(k, _)| *k == kind) else {
                    let mut d = Diagnostic::new(
                        format!("unknown resource kind `{kind}` in `{expr}`"),
                        span.clone(),
                    )
                    .label("unknown kind");
                    d = match did_you_mean(&kind, REF_KINDS.iter().map(|(k, _)| *k)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => {
                            d.help("references name functions, gateways, runtimes or repositories")
                        }
                    };
                    self.diags.push(d);
                    continue;
                };
                let names: Vec<String> = match kind.as_str() {
                    "functions" => spec.functions.keys().cloned().collect(),
                    "gateways" => spec.gateways.keys().cloned().collect(),
                    "runtimes" => spec.runtimes.keys().cloned().collect(),
                    _ => spec.repositories.keys().cloned().collect(),
                };
                if !names.contains(&name) {
                    let d = Diagnostic::new(
                        format!("`{expr}` refers to an unknown {} `{name}`", singular(&kind)),
                        span.clone(),
                    )
                    .label(format!("no such {}", singular(&kind)));
                    self.diags.push(
                        match did_you_mean(&name, names.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None if names.is_empty() => d.help(format!(
                                "the spec declares no {kind}; declare `{name}` under `{kind}:`"
                            )),
                            None => d.help(format!(
                                "declared {kind}: {}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        },
                    );
                    continue;
                }
                if !attrs.contains(&attr.as_str()) {
                    let list = attrs
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let d = Diagnostic::new(
                        format!("{} `{name}` has no attribute `{attr}`", singular(&kind)),
                        span.clone(),
                    )
                    .label("unknown attribute");
                    self.diags
                        .push(match did_you_mean(&attr, attrs.iter().copied()) {
                            Some(s) => d.help(format!("did you mean `{s}`? {kind} expose {list}")),
                            None => d.help(format!("{kind} expose {list}")),
                        });
                    continue;
                }
                match &owner {
                    None => self.diags.push(
                        Diagnostic::new(format!("`{expr}` cannot be used here"), span)
                            .label("resource references are not allowed in this field")
                            .help("resource references may appear in `environment` values and `outputs`"),
                    ),
                    Some(Some(node)) => {
                        edges.entry(node.clone()).or_default().insert(format!("{kind}.{name}"));
                        at.entry((node.clone(), format!("{kind}.{name}"))).or_insert(span);
                    }
                    Some(None) => {}
                }
            }
        }
        // Every cycle: report one, cut the edge it is reported at, look again.
        while let Some(cycle) = find_cycle(&edges) {
            let (from, to) = (cycle[0].clone(), cycle[1].clone());
            let span = at.get(&(from.clone(), to.clone())).cloned().unwrap_or(0..0);
            let d = if from == to {
                Diagnostic::new(format!("`{from}` refers to itself"), span)
                    .label("a resource cannot use its own attributes")
                    .help("these attributes exist only once the resource is created; remove this reference")
            } else {
                Diagnostic::new(format!("reference cycle: {}", cycle.join(" -> ")), span)
                    .label(format!("`{from}` needs `{to}` here"))
                    .help("each resource is created after those it references, so a cycle can never be created; remove one reference of the cycle")
            };
            self.diags.push(d);
            if let Some(targets) = edges.get_mut(&from) {
                targets.remove(&to);
            }
        }
    }
}

fn singular(kind: &str) -> &str {
    match kind {
        "functions" => "function",
        "gateways" => "gateway",
        "runtimes" => "runtime",
        "repositories" => "repository",
        other => other,
    }
}

/// `None`: references not allowed; `Some(None)`: allowed, no dependency edge
/// (outputs); `Some(Some(node))`: allowed and `node` depends on the target.
fn allowed_owner(p: &str) -> Option<Option<String>> {
    let parts: Vec<&str> = p.split('/').skip(1).collect();
    match parts.as_slice() {
        ["outputs", _] => Some(None),
        [kind @ ("functions" | "runtimes"), name, "environment", _] => {
            Some(Some(format!("{kind}.{name}")))
        }
        _ => None,
    }
}

fn collect_strings(v: &Value, p: String, out: &mut Vec<(String, String, Option<String>)>) {
    match v {
        Value::String(s) if s.contains("${") => out.push((p, s.clone(), None)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| collect_strings(x, format!("{p}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| collect_strings(x, format!("{p}/{}", escape(k)), out)),
        _ => {}
    }
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn dfs(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = dfs(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(c) = dfs(n, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

fn is_reserved_lambda_env(k: &str) -> bool {
    const RESERVED: &[&str] = &[
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ];
    RESERVED.contains(&k)
}
