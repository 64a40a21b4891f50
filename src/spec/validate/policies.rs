//! Policy engines and their Cedar policies; the engine a gateway uses; the
//! tools a runtime is allowed (`runtimes.K.tools`).

use super::{Checker, ptr};
use crate::diag::{Diagnostic, did_you_mean};
use crate::names;
use crate::spec::refs::{self, Ref, Segment};
use crate::spec::{AuthorizerSpec, CedarSpec};

/// CreatePolicy's bounds on a Cedar statement, in characters.
pub const CEDAR_MIN: usize = 35;
pub const CEDAR_MAX: usize = 10_000;

/// What is wrong with a Cedar text's shape, as (byte offset, problem): a
/// light check of what the service's parser refuses before any analysis
/// (the statements, their delimiters and strings). Comments (`//`) and
/// string literals are skipped; every policy starts with `permit` or
/// `forbid` (after `@annotations`) and ends with `;`.
pub fn cedar_problems(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    // Whether the next word starts a policy (after `;` or at the start).
    let mut expect_policy = true;
    let mut policies = 0;
    let mut last_policy_start = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    out.push((start, "a string is not closed (`\"`)".into()));
                    return out;
                }
            }
            b'(' | b'{' | b'[' => stack.push((c, i)),
            b')' | b'}' | b']' => {
                let open = match c {
                    b')' => b'(',
                    b'}' => b'{',
                    _ => b'[',
                };
                match stack.pop() {
                    Some((o, _)) if o == open => {}
                    _ => {
                        out.push((i, format!("`{}` closes nothing that is open", c as char)));
                        return out;
                    }
                }
            }
            b';' if stack.is_empty() => expect_policy = true,
            b'@' if expect_policy && stack.is_empty() => {
                // An annotation: `@name("value")`; its name is skipped, its
                // parentheses are matched like any others.
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            c if expect_policy && stack.is_empty() && c.is_ascii_alphabetic() => {
                let word: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if word != "permit" && word != "forbid" {
                    out.push((
                        i,
                        format!("a Cedar policy starts with `permit` or `forbid`, not `{word}`"),
                    ));
                    return out;
                }
                policies += 1;
                last_policy_start = i;
                expect_policy = false;
                i += word.len();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some((o, at)) = stack.last() {
        out.push((*at, format!("`{}` is never closed", *o as char)));
    } else if policies == 0 {
        out.push((0, "no `permit` or `forbid` policy".into()));
    } else if !expect_policy {
        out.push((
            last_policy_start,
            "this policy does not end with `;`".into(),
        ));
    }
    out
}

/// `line:col` (1-based) of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Checker<'_> {
    pub(super) fn policy_engines(&mut self) {
        let engines = self.spec().policy_engines.clone();
        let gateways: Vec<String> = self.spec().gateways.keys().cloned().collect();
        for (ekey, e) in &engines {
            let ep = ptr(&["policy_engines", ekey]);
            self.name_rule(
                &names::POLICY_ENGINE,
                &ep,
                Some("`<project>_<key>` with hyphens as underscores"),
                |p| names::policy_engine(p, ekey),
            );
            for (pkey, p) in &e.policies {
                let pp = ptr(&["policy_engines", ekey, "policies", pkey]);
                self.name_rule(
                    &names::POLICY,
                    &pp,
                    Some("`<project>_<engine>_<key>` with hyphens as underscores"),
                    |proj| names::policy(&names::policy_engine(proj, ekey), pkey),
                );
                let at = format!("{pp}/cedar");
                match &p.cedar {
                    CedarSpec::Inline(i) => {
                        let at = format!("{at}/inline");
                        let problems = cedar_problems(&i.inline);
                        self.cedar_text(&at, None, &i.inline, problems);
                    }
                    CedarSpec::File(f) => {
                        let Some(doc) = self.l.documents.get(f).cloned() else {
                            continue;
                        };
                        let text = doc.source.clone();
                        let problems = cedar_problems(&text);
                        self.cedar_text(&at, Some(f), &text, problems);
                        self.cedar_file_references(&at, f, &text, &gateways);
                    }
                }
            }
        }
    }

    /// A Cedar text's length and shape; `file` when it comes from one
    /// (problems then carry the file's line and column).
    fn cedar_text(
        &mut self,
        at: &str,
        file: Option<&str>,
        text: &str,
        problems: Vec<(usize, String)>,
    ) {
        let span = self.value_span(at);
        let prefix = |off: usize| match file {
            Some(f) => {
                let (l, c) = line_col(text, off);
                format!("{f}:{l}:{c}: ")
            }
            None => String::new(),
        };
        let n = text.chars().count();
        if !(CEDAR_MIN..=CEDAR_MAX).contains(&n) {
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "{}the Cedar policy is {n} characters long; AgentCore takes {CEDAR_MIN} to {CEDAR_MAX}",
                        prefix(0)
                    ),
                    span.clone(),
                )
                .label("this policy")
                .help("split a long policy into several entries under `policies:`"),
            );
        }
        for (off, why) in problems {
            let d = Diagnostic::new(format!("{}{why}", prefix(off)), span.clone())
                .label("invalid Cedar")
                .help("AgentCore checks Cedar policies when they are created; see https://docs.cedarpolicy.com/policies/syntax-policy.html");
            self.diags.push(d);
        }
    }

    /// References in a Cedar file: `${gateways.NAME.arn}` (or `id`, `name`)
    /// only, naming gateways of the spec. (Inline Cedar goes through the
    /// spec-wide reference checks.)
    fn cedar_file_references(&mut self, at: &str, file: &str, text: &str, gateways: &[String]) {
        let span = self.value_span(at);
        let segments = match refs::parse(text) {
            Ok(s) => s,
            Err(e) => {
                let (l, c) = line_col(text, e.range.start);
                self.diags.push(
                    Diagnostic::new(format!("{file}:{l}:{c}: {}", e.message), span)
                        .label("in this file")
                        .help(
                            e.help
                                .unwrap_or_else(|| "write `$${` for a literal `${`".into()),
                        ),
                );
                return;
            }
        };
        for seg in segments {
            let Segment::Ref(r, range) = seg else {
                continue;
            };
            let (l, c) = line_col(text, range.start);
            let expr = &text[range.clone()];
            let problem: Option<(String, String)> = match &r {
                Ref::Resource { kind, name, attr } if kind == "gateways" => {
                    if !gateways.contains(name) {
                        Some((
                            format!("`{expr}` refers to an unknown gateway `{name}`"),
                            match did_you_mean(name, gateways.iter().map(String::as_str)) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => "declare it under `gateways:`".into(),
                            },
                        ))
                    } else if !["arn", "id", "name"].contains(&attr.as_str()) {
                        Some((
                            format!("gateway `{name}` has no attribute `{attr}` a policy can use"),
                            "Cedar policies name a gateway by `arn`".into(),
                        ))
                    } else {
                        None
                    }
                }
                _ => Some((
                    format!("`{expr}` cannot be used in a Cedar file"),
                    "a Cedar file may refer to `${gateways.NAME.arn}` only; variables and environment values belong in the spec".into(),
                )),
            };
            if let Some((message, help)) = problem {
                self.diags.push(
                    Diagnostic::new(format!("{file}:{l}:{c}: {message}"), span.clone())
                        .label("in this file")
                        .help(help),
                );
            }
        }
    }

    /// The names of the engine and policies agentform derives for the tool
    /// access of a `cognito_m2m` gateway's runtimes, and keys of the spec's
    /// that would take them.
    pub(super) fn derived_access(&mut self, gkey: &str) {
        let Some(access) = crate::plan::desired::tool_access(self.l, gkey) else {
            return;
        };
        let runtimes: Vec<String> = access.keys().map(|r| r.to_string()).collect();
        let own = self
            .spec()
            .gateways
            .get(gkey)
            .and_then(|g| g.policy_engine.as_ref().map(|e| e.engine().to_string()));
        let ekey = own
            .clone()
            .unwrap_or_else(|| crate::plan::desired::derived_engine_key(gkey));
        if own.is_none() {
            if self.spec().policy_engines.contains_key(&ekey) {
                self.diags.push(
                    Diagnostic::new(
                        format!("policy engine `{ekey}` is the one agentform derives for gateway `{gkey}`"),
                        self.key_span(&ptr(&["policy_engines", &ekey])),
                    )
                    .label("this key is taken")
                    .help(format!("rename it, or attach it to the gateway with `policy_engine: {ekey}` (the runtimes' policies then go into it)")),
                );
            }
            self.name_rule(
                &names::POLICY_ENGINE,
                &ptr(&["gateways", gkey]),
                Some("`<project>_<gateway>_tools`, the engine of its runtimes' tool access"),
                |p| names::policy_engine(p, &ekey),
            );
        }
        for r in &runtimes {
            let pkey = crate::plan::desired::derived_policy_key(r);
            let taken = self
                .spec()
                .policy_engines
                .get(&ekey)
                .is_some_and(|e| e.policies.contains_key(&pkey));
            if taken {
                self.diags.push(
                    Diagnostic::new(
                        format!("policy `{pkey}` of engine `{ekey}` is the one agentform derives for runtime `{r}`"),
                        self.key_span(&ptr(&["policy_engines", &ekey, "policies", &pkey])),
                    )
                    .label("this key is taken")
                    .help("rename it"),
                );
            }
            let at = if self.spec().runtimes[r.as_str()].tools.is_empty() {
                ptr(&["runtimes", r])
            } else {
                ptr(&["runtimes", r, "tools"])
            };
            self.name_rule(
                &names::POLICY,
                &at,
                Some("`<engine>_tools_<runtime>`, the policy of its tool access"),
                |p| names::policy(&names::policy_engine(p, &ekey), &pkey),
            );
        }
    }

    /// A gateway's `policy_engine`: an engine of the spec.
    pub(super) fn gateway_engine(&mut self, gkey: &str) {
        let Some(e) = self
            .spec()
            .gateways
            .get(gkey)
            .and_then(|g| g.policy_engine.clone())
        else {
            return;
        };
        let engines: Vec<String> = self.spec().policy_engines.keys().cloned().collect();
        if engines.iter().any(|k| k == e.engine()) {
            return;
        }
        let at = match &e {
            crate::spec::GatewayEngineSpec::Key(_) => ptr(&["gateways", gkey, "policy_engine"]),
            crate::spec::GatewayEngineSpec::Full(_) => {
                ptr(&["gateways", gkey, "policy_engine", "engine"])
            }
        };
        let d = Diagnostic::new(
            format!("unknown policy engine `{}`", e.engine()),
            self.value_span(&at),
        )
        .label("not declared under `policy_engines`");
        self.diags.push(
            match did_you_mean(e.engine(), engines.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("declare the engine and its Cedar policies under `policy_engines:`"),
            },
        );
    }

    /// `runtimes.K.tools`: each entry names a tool (`GATEWAY.TARGET___TOOL`)
    /// or a whole target (`GATEWAY.TARGET`) of a gateway that can scope
    /// tools per caller.
    pub(super) fn runtime_tools(&mut self) {
        let runtimes = self.spec().runtimes.clone();
        for (rkey, r) in &runtimes {
            for (i, entry) in r.tools.iter().enumerate() {
                let at = ptr(&["runtimes", rkey, "tools", &i.to_string()]);
                if let Some((message, label, help)) = self.tool_entry(rkey, entry) {
                    self.diags.push(
                        Diagnostic::new(message, self.value_span(&at))
                            .label(label)
                            .help(help),
                    );
                }
            }
        }
    }

    fn tool_entry(&self, rkey: &str, entry: &str) -> Option<(String, String, String)> {
        let spec = self.spec();
        let Some((gkey, rest)) = entry.split_once('.') else {
            return Some((
                format!("`{entry}` names no gateway"),
                "expected GATEWAY.TARGET___TOOL or GATEWAY.TARGET".into(),
                "write the gateway's key, a dot, then a target key or one of its tools".into(),
            ));
        };
        let Some(g) = spec.gateways.get(gkey) else {
            let names: Vec<&str> = spec.gateways.keys().map(String::as_str).collect();
            return Some((
                format!("`{entry}` names an unknown gateway `{gkey}`"),
                "no such gateway".into(),
                match did_you_mean(gkey, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it under `gateways:`".into(),
                },
            ));
        };
        let (tkey, tool) = match rest.split_once("___") {
            Some((t, tool)) => (t, Some(tool)),
            None => (rest, None),
        };
        let Some(t) = g.targets.get(tkey) else {
            let names: Vec<&str> = g.targets.keys().map(String::as_str).collect();
            return Some((
                format!("gateway `{gkey}` has no target `{tkey}`"),
                "no such target".into(),
                match did_you_mean(tkey, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("its targets: {}", names.join(", ")),
                },
            ));
        };
        // An entry that names what exists may still ask what the gateway
        // cannot do.
        let refusal = per_tool_refusal(rkey, gkey, &g.authorizer);
        if matches!(g.authorizer, AuthorizerSpec::CognitoM2m { .. }) {
            if !spec.runtimes[rkey]
                .invoke_gateways
                .iter()
                .any(|x| x == gkey)
            {
                return Some((
                    format!(
                        "runtime `{rkey}` lists tools of gateway `{gkey}` but does not call it"
                    ),
                    "not in its `invoke_gateways`".into(),
                    format!(
                        "add `{gkey}` to `runtimes.{rkey}.invoke_gateways`, which gives the runtime its client of the gateway"
                    ),
                ));
            }
            if tool.is_none() && !crate::spec::LoadedSpec::tools_in_spec(t) {
                return Some((
                    format!(
                        "the tools of target `{tkey}` are known only to the service, so `{entry}` cannot become a Cedar policy"
                    ),
                    "Cedar has no wildcard actions".into(),
                    format!(
                        "list the tools this runtime may call one by one, as `{gkey}.{tkey}___TOOL`"
                    ),
                ));
            }
        }
        let Some(tool) = tool else {
            return refusal;
        };
        // Only the service knows the tools of an MCP server, an API
        // Gateway stage, a Smithy model or a document in S3.
        let Some(offered) = self.l.tool_names(t) else {
            return refusal;
        };
        if offered.iter().any(|o| o == tool) {
            return refusal;
        }
        let full: Vec<String> = offered.iter().map(|o| names::mcp_tool(tkey, o)).collect();
        Some((
            format!(
                "no target offers tool `{}` for runtime `{rkey}`",
                names::mcp_tool(tkey, tool)
            ),
            format!("target `{tkey}` of gateway `{gkey}` has no tool `{tool}`"),
            match did_you_mean(tool, offered.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{gkey}.{}`?", names::mcp_tool(tkey, s)),
                None => format!("its tools: {}", full.join(", ")),
            },
        ))
    }
}

/// Why a gateway with this authorizer cannot give runtimes different tools.
fn per_tool_refusal(
    rkey: &str,
    gkey: &str,
    a: &AuthorizerSpec,
) -> Option<(String, String, String)> {
    match a {
        AuthorizerSpec::Named(_) => Some((
            format!(
                "runtime `{rkey}` lists tools of gateway `{gkey}`, whose authorizer is aws_iam: IAM cannot scope access per tool"
            ),
            "per-tool access needs a JWT gateway".into(),
            format!(
                "IAM grants bedrock-agentcore:InvokeGateway on a whole gateway, so every runtime that may invoke `{gkey}` may call all of its tools. Split the tools between gateways and list each runtime's in `invoke_gateways`, or authorize callers by JWT and write Cedar policies for them under `policy_engines:` (attached with `policy_engine:`)"
            ),
        )),
        AuthorizerSpec::CustomJwt { .. } => Some((
            format!(
                "runtime `{rkey}` lists tools of gateway `{gkey}`, whose custom_jwt issuer is not agentform's: it cannot tell which token is this runtime's"
            ),
            "per-tool access cannot be derived here".into(),
            "write Cedar policies that name your clients under `policy_engines:` and attach the engine with `policy_engine:`".into(),
        )),
        // agentform derives the Cedar policies (`plan::desired::tool_access`).
        AuthorizerSpec::CognitoM2m { .. } => None,
    }
}

/// The byte range of `needle`'s first occurrence in `text`, for tests.
#[cfg(test)]
fn find(text: &str, needle: &str) -> std::ops::Range<usize> {
    let s = text.find(needle).unwrap_or(0);
    s..s + needle.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cedar_shapes() {
        let ok = "permit(principal, action == AgentCore::Action::\"a___b\", resource);";
        assert!(cedar_problems(ok).is_empty());
        let two = "@id(\"x\")\npermit(principal, action, resource) when { context.input.a < 5 };\n// note\nforbid(principal, action, resource);";
        assert!(cedar_problems(two).is_empty(), "{:?}", cedar_problems(two));
        let cases = [
            (
                "allow(principal, action, resource);",
                "starts with `permit` or `forbid`, not `allow`",
            ),
            (
                "permit(principal, action, resource)",
                "does not end with `;`",
            ),
            ("permit(principal, action, resource;", "is never closed"),
            (
                "permit(principal, action == \"x, resource);",
                "string is not closed",
            ),
            ("permit(principal, action, resource));", "closes nothing"),
            ("// nothing here", "no `permit` or `forbid`"),
        ];
        for (text, want) in cases {
            let p = cedar_problems(text);
            assert_eq!(p.len(), 1, "{text}: {p:?}");
            assert!(p[0].1.contains(want), "{text}: {}", p[0].1);
        }
        let bad = "permit(principal, action, resource);\nallow(principal, action, resource);";
        assert_eq!(cedar_problems(bad)[0].0, find(bad, "allow").start);
        assert_eq!(line_col(bad, find(bad, "allow").start), (2, 1));
    }
}
