//! Gateway targets: what each exposes (exactly one kind), its tools or API
//! description (inline or in a file of the project), and its outbound
//! credentials; and the top-level `credentials` they refer to.

use std::sync::Arc;

use serde_json::Value;

use super::{Checker, ptr};
use crate::diag::{Diagnostic, did_you_mean};
use crate::names;
use crate::spec::documents::{self, Document};
use crate::spec::{
    ApiSchemaSpec, CredentialSpec, LoadedSpec, TargetCredentialSpec, TargetSpec, ToolsSpec,
};

/// A tool to check: its name, input and output schemas, and the pointer
/// of the tool and the names of its fields (the spec's or AgentCore's).
struct Tool {
    name: String,
    input: Arc<Value>,
    output: Option<Arc<Value>>,
}

const HTTP_METHODS: &[&str] = &["GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "PUT", "POST"];

impl Checker<'_> {
    pub(super) fn target(&mut self, gkey: &str, tkey: &str, t: &TargetSpec, functions: &[String]) {
        let tp = ptr(&["gateways", gkey, "targets", tkey]);
        self.name_rule(&names::TARGET, &tp, None, |_| names::target(tkey));
        let set: Vec<&str> = t
            .kinds()
            .iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| *k)
            .collect();
        let all: Vec<&str> = t.kinds().iter().map(|(k, _)| *k).collect();
        match set.as_slice() {
            [] => self.diags.push(
                Diagnostic::new(
                    format!("target `{tkey}` says nothing about what it exposes"),
                    self.key_span(&tp),
                )
                .label("no kind of target")
                .help(format!("give one of: {}", all.join(", "))),
            ),
            [_] => {}
            [first, second, ..] => self.diags.push(
                Diagnostic::new(
                    format!("target `{tkey}` is both `{first}` and `{second}`"),
                    self.key_span(&format!("{tp}/{second}")),
                )
                .label("a second kind")
                .help("a target exposes one thing; make another target for the other"),
            ),
        }
        let lambda = t.function.is_some() || t.lambda_arn.is_some();
        if let Some(f) = &t.function
            && !functions.contains(f)
        {
            let mut d = Diagnostic::new(
                format!("unknown function `{f}`"),
                self.value_span(&format!("{tp}/function")),
            )
            .label("not declared under `functions`");
            d = match did_you_mean(f, functions.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("a Lambda target names a function declared under `functions:`"),
            };
            self.diags.push(d);
        }
        if let Some(arn) = &t.lambda_arn
            && !names::valid_lambda_arn(arn)
        {
            self.diags.push(
                Diagnostic::new(
                    "invalid Lambda function ARN",
                    self.value_span(&format!("{tp}/lambda_arn")),
                )
                .label("expected arn:aws:lambda:REGION:ACCOUNT:function:NAME")
                .help("a function of this spec is named with `function: KEY` instead"),
            );
        }
        match (&t.tools, lambda) {
            (None, true) => self.diags.push(
                Diagnostic::new(
                    format!("Lambda target `{tkey}` lists no tools"),
                    self.key_span(&tp),
                )
                .label("`tools` missing")
                .help("list the tools the function implements, or name a JSON/YAML file of AgentCore tool definitions: `tools: tools.json`"),
            ),
            (Some(_), false) if !set.is_empty() => self.diags.push(
                Diagnostic::new(
                    format!("`tools` only applies to Lambda targets, not `{}`", set[0]),
                    self.key_span(&format!("{tp}/tools")),
                )
                .label("not used")
                .help("OpenAPI, Smithy, MCP server and API Gateway targets get their tools from what they describe"),
            ),
            (Some(ToolsSpec::Inline(list)), _) => {
                let tools: Vec<Tool> = list
                    .iter()
                    .map(|x| Tool {
                        name: x.name.clone(),
                        input: x.input.clone(),
                        output: x.output.clone(),
                    })
                    .collect();
                self.tools(tkey, &format!("{tp}/tools"), &tools, ["name", "input", "output"]);
            }
            (Some(ToolsSpec::File(f)), _) => self.tool_file(tkey, &format!("{tp}/tools"), f),
            (None, false) => {}
        }
        for (field, s) in [("openapi", &t.openapi), ("smithy", &t.smithy)] {
            let Some(s) = s else { continue };
            let at = format!("{tp}/{field}");
            let check = |v: &Value| match field {
                "openapi" => documents::openapi_problems(v),
                _ => smithy_problems(v),
            };
            match s {
                ApiSchemaSpec::File(f) => {
                    if let Some(doc) = self.l.documents.get(f).cloned() {
                        let problems = check(&doc.value);
                        self.in_document(&at, f, &doc, field, problems);
                    }
                }
                ApiSchemaSpec::Inline(i) => {
                    for (p, why) in check(&i.inline) {
                        let inner = format!("{at}/inline{p}");
                        self.diags.push(
                            Diagnostic::new(
                                format!("invalid {}: {why}", what(field)),
                                self.value_span(&inner),
                            )
                            .label("here"),
                        );
                    }
                }
                ApiSchemaSpec::S3(s3) => {
                    if !s3.s3.starts_with("s3://") || s3.s3.len() <= "s3://".len() {
                        self.diags.push(
                            Diagnostic::new("invalid S3 URI", self.value_span(&format!("{at}/s3")))
                                .label("expected s3://bucket/key"),
                        );
                    }
                    if let Some(owner) = &s3.bucket_owner
                        && (owner.len() != 12 || !owner.bytes().all(|b| b.is_ascii_digit()))
                    {
                        self.diags.push(
                            Diagnostic::new(
                                "invalid account id",
                                self.value_span(&format!("{at}/bucket_owner")),
                            )
                            .label("expected 12 digits"),
                        );
                    }
                }
            }
        }
        if let Some(m) = &t.mcp_server {
            let endpoint = m.endpoint();
            if !endpoint.starts_with("https://") || endpoint.len() <= "https://".len() {
                let at = match m {
                    crate::spec::McpServerSpec::Endpoint(_) => format!("{tp}/mcp_server"),
                    crate::spec::McpServerSpec::Full(_) => format!("{tp}/mcp_server/endpoint"),
                };
                self.diags.push(
                    Diagnostic::new(
                        "an MCP server target's endpoint must be an https:// URL",
                        self.value_span(&at),
                    )
                    .label("not https://")
                    .help("AgentCore calls remote MCP servers over TLS only"),
                );
            }
        }
        if let Some(g) = &t.api_gateway {
            let at = format!("{tp}/api_gateway");
            for (i, f) in g.tools.iter().enumerate() {
                for (j, m) in f.methods.iter().enumerate() {
                    if !HTTP_METHODS.contains(&m.to_ascii_uppercase().as_str()) {
                        self.diags.push(
                            Diagnostic::new(
                                format!("`{m}` is not an HTTP method API Gateway tools take"),
                                self.value_span(&format!("{at}/tools/{i}/methods/{j}")),
                            )
                            .label("unknown method")
                            .help(format!("one of {}", HTTP_METHODS.join(", "))),
                        );
                    }
                }
            }
            for (i, o) in g.overrides.iter().enumerate() {
                if !HTTP_METHODS.contains(&o.method.to_ascii_uppercase().as_str()) {
                    self.diags.push(
                        Diagnostic::new(
                            format!("`{}` is not an HTTP method", o.method),
                            self.value_span(&format!("{at}/overrides/{i}/method")),
                        )
                        .label("unknown method")
                        .help(format!("one of {}", HTTP_METHODS.join(", "))),
                    );
                }
            }
        }
        self.target_credentials(&tp, t, lambda);
    }

    /// A gateway's interceptors: at most AgentCore's limit, each a function
    /// of the spec, called at least somewhere.
    pub(super) fn interceptors(
        &mut self,
        gkey: &str,
        g: &crate::spec::GatewaySpec,
        functions: &[String],
    ) {
        let ip = ptr(&["gateways", gkey, "interceptors"]);
        let max = crate::spec::GatewaySpec::MAX_INTERCEPTORS;
        if g.interceptors.len() > max {
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "gateway `{gkey}` has {} interceptors; AgentCore allows {max}",
                        g.interceptors.len()
                    ),
                    self.key_span(&ip),
                )
                .label(format!("more than {max}"))
                .help("one function may intercept both requests and responses: `on: [request, response]`"),
            );
        }
        if let Some(f) = &g.transform
            && !functions.contains(f)
        {
            let mut d = Diagnostic::new(
                format!("unknown function `{f}`"),
                self.value_span(&ptr(&["gateways", gkey, "transform"])),
            )
            .label("not declared under `functions`");
            d = match did_you_mean(f, functions.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("a custom transform is a function declared under `functions:`"),
            };
            self.diags.push(d);
        }
        for (i, x) in g.interceptors.iter().enumerate() {
            if !functions.contains(&x.function) {
                let mut d = Diagnostic::new(
                    format!("unknown function `{}`", x.function),
                    self.value_span(&format!("{ip}/{i}/function")),
                )
                .label("not declared under `functions`");
                d = match did_you_mean(&x.function, functions.iter().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("an interceptor is a function declared under `functions:`"),
                };
                self.diags.push(d);
            }
        }
    }

    fn target_credentials(&mut self, tp: &str, t: &TargetSpec, lambda: bool) {
        let Some(c) = &t.credentials else { return };
        let at = format!("{tp}/credentials");
        let declared: Vec<(String, &'static str)> = self
            .spec()
            .credentials
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    match c {
                        CredentialSpec::ApiKey(_) => "api_key",
                        CredentialSpec::OAuth(_) => "oauth",
                    },
                )
            })
            .collect();
        let (key, want, field) = match c {
            TargetCredentialSpec::Named(n) => {
                if lambda && n != "gateway_iam_role" {
                    self.diags.push(
                        Diagnostic::new(
                            format!("a Lambda target is called with the gateway's role, not `{n}`"),
                            self.value_span(&at),
                        )
                        .label("not for Lambda")
                        .help("leave `credentials` out (or say `gateway_iam_role`)"),
                    );
                }
                return;
            }
            TargetCredentialSpec::ApiKey(k) => (&k.api_key, "api_key", "api_key"),
            TargetCredentialSpec::OAuth(o) => (&o.oauth, "oauth", "oauth"),
        };
        if lambda {
            self.diags.push(
                Diagnostic::new("a Lambda target is called with the gateway's role only", self.key_span(&at))
                    .label("not for Lambda")
                    .help("API keys and OAuth are for OpenAPI, MCP server and API Gateway targets; leave `credentials` out"),
            );
        }
        let vp = format!("{at}/{field}");
        match declared.iter().find(|(k, _)| k == key) {
            Some((_, kind)) if *kind == want => {}
            Some((_, kind)) => self.diags.push(
                Diagnostic::new(
                    format!("credential `{key}` is an {kind} credential, not {want}"),
                    self.value_span(&vp),
                )
                .label(format!("declared with `{kind}`"))
                .help(match want {
                    "api_key" => "refer to it as `{oauth: KEY, scopes: [...]}`",
                    _ => "refer to it as `{api_key: KEY}`",
                }),
            ),
            None => {
                let mut d =
                    Diagnostic::new(format!("unknown credential `{key}`"), self.value_span(&vp))
                        .label("not declared under `credentials`");
                d = match did_you_mean(key, declared.iter().map(|(k, _)| k.as_str())) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "declare it: `credentials: {{{key}: {{{}}}}}`",
                        match want {
                            "api_key" => "api_key: ${env:NAME}",
                            _ => "oauth: {vendor: ..., client_id: ..., client_secret: ${env:NAME}}",
                        }
                    )),
                };
                self.diags.push(d);
            }
        }
    }

    /// The top-level `credentials`.
    pub(super) fn credentials(&mut self) {
        let creds = self.spec().credentials.clone();
        for (key, c) in &creds {
            let kp = ptr(&["credentials", key]);
            self.name_rule(&names::CREDENTIAL, &kp, Some("`<project>-<key>`"), |p| {
                names::credential(p, key)
            });
            match c {
                CredentialSpec::ApiKey(_) => {
                    self.secret_source(&format!("{kp}/api_key"), "API key")
                }
                CredentialSpec::OAuth(o) => {
                    let op = format!("{kp}/oauth");
                    self.secret_source(&format!("{op}/client_secret"), "client secret");
                    let vendor = o.oauth.vendor.as_deref().unwrap_or("custom");
                    let known = crate::aws::credential_vendors();
                    if !known.iter().any(|(v, _)| *v == vendor) {
                        let words: Vec<&str> = known.iter().map(|(v, _)| *v).collect();
                        let mut d = Diagnostic::new(
                            format!("unknown OAuth2 vendor `{vendor}`"),
                            self.value_span(&format!("{op}/vendor")),
                        )
                        .label("not a vendor agentform configures");
                        d = match did_you_mean(vendor, words.iter().copied()) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!("one of {}; any other authorization server is `custom` with its `discovery_url`", words.join(", "))),
                        };
                        self.diags.push(d);
                    }
                    match (&o.oauth.discovery_url, vendor == "custom") {
                        (None, true) => self.diags.push(
                            Diagnostic::new("a custom OAuth2 provider needs `discovery_url`", self.key_span(&op))
                                .label("`discovery_url` missing")
                                .help("the authorization server's https://.../.well-known/openid-configuration"),
                        ),
                        (Some(u), true) if !names::valid_discovery_url(u) => self.diags.push(
                            Diagnostic::new("invalid OIDC discovery URL", self.value_span(&format!("{op}/discovery_url")))
                                .label("expected https://.../.well-known/openid-configuration"),
                        ),
                        (Some(_), false) => self.diags.push(
                            Diagnostic::new(format!("vendor `{vendor}` has its own endpoints"), self.key_span(&format!("{op}/discovery_url")))
                                .label("not used")
                                .help("leave `discovery_url` out, or set `vendor: custom`"),
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    /// A secret must come from outside the spec: `${env:...}` or a
    /// variable (whose value a var file or `--var` gives), so that the spec
    /// can be committed.
    fn secret_source(&mut self, p: &str, what: &str) {
        let span = self.value_span(p);
        let text = self.l.source.get(span.clone()).unwrap_or_default();
        if !text.contains("${env:") && !text.contains("${var.") {
            self.diags.push(
                Diagnostic::new(format!("the {what} is written in the spec"), span)
                    .label("a secret in plain text")
                    .help("give it from outside: `${env:NAME}`, or a variable marked `sensitive: true` set by --var-file; agentform never prints it"),
            );
        }
    }

    /// The tools of a Lambda target at `at` (a list in the spec, or in a
    /// tools file), with `fields` naming a tool's name, input and output.
    fn tools(&mut self, tkey: &str, at: &str, tools: &[Tool], fields: [&str; 3]) {
        let [name_f, input_f, output_f] = fields;
        let mut seen = std::collections::BTreeSet::new();
        for (i, tool) in tools.iter().enumerate() {
            let ip = format!("{at}/{i}");
            let np = format!("{ip}/{name_f}");
            if let Some(problem) = names::TOOL.violation(&tool.name) {
                self.diags.push(
                    Diagnostic::new(problem, self.value_span(&np))
                        .label("invalid tool name")
                        .help(names::TOOL.explain),
                );
            } else if let Some(problem) =
                names::MCP_TOOL.violation(&names::mcp_tool(&names::target(tkey), &tool.name))
            {
                // What agents call: `<target>___<tool>`.
                self.diags.push(
                    Diagnostic::new(problem, self.value_span(&np))
                        .label("agents could not call this tool")
                        .help(names::MCP_TOOL.explain),
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
            let inp = format!("{ip}/{input_f}");
            if tool.input.get("type").and_then(Value::as_str) != Some("object") {
                self.diags.push(
                    Diagnostic::new("a tool's input schema must have `type: object`", self.value_span(&format!("{inp}/type")))
                        .label("expected `object`")
                        .help("MCP tool arguments are a JSON object; declare each argument under `properties`"),
                );
            }
            self.tool_schema(&tool.input, &inp);
            if let Some(out) = &tool.output {
                self.tool_schema(out, &format!("{ip}/{output_f}"));
            }
        }
    }

    /// A tools file: its shape, then every check of inline tools, run
    /// against the file's own text so each problem has its line and column.
    fn tool_file(&mut self, tkey: &str, at: &str, file: &str) {
        let Some(doc) = self.l.documents.get(file).cloned() else {
            return;
        };
        let (defs, problems) = documents::tool_file(&doc.value);
        self.in_document(at, file, &doc, "tool file", problems);
        let tools: Vec<Tool> = defs
            .into_iter()
            .map(|d| Tool {
                name: d.name,
                input: d.input,
                output: d.output,
            })
            .collect();
        let inner = LoadedSpec {
            source: doc.source.clone(),
            map: doc.map.clone(),
            ..self.l.clone()
        };
        let mut sub = Checker {
            l: &inner,
            diags: Vec::new(),
            project_ok: self.project_ok,
            named: Default::default(),
            paths: self.paths,
        };
        sub.tools(tkey, "", &tools, ["name", "inputSchema", "outputSchema"]);
        let span = self.value_span(at);
        for d in sub.diags {
            let (line, col) = d.line_col(&doc.source).unwrap_or((1, 1));
            let mut nd =
                Diagnostic::new(format!("{file}:{line}:{col}: {}", d.message), span.clone())
                    .label(d.label.unwrap_or_else(|| "in this file".into()));
            if let Some(h) = d.help {
                nd = nd.help(h);
            }
            self.diags.push(nd);
        }
    }

    /// Problems found inside a document, reported at the spec value that
    /// names it, each with its own line and column in the file.
    fn in_document(
        &mut self,
        at: &str,
        file: &str,
        doc: &Document,
        what_: &str,
        problems: Vec<(String, String)>,
    ) {
        let span = self.value_span(at);
        for (p, why) in problems.into_iter().take(10) {
            let (line, col) = doc.line_col(&p);
            self.diags.push(
                Diagnostic::new(format!("{file}:{line}:{col}: {why}"), span.clone())
                    .label(format!("invalid {}", what(what_))),
            );
        }
    }
}

fn what(field: &str) -> &str {
    match field {
        "openapi" => "OpenAPI document",
        "smithy" => "Smithy model",
        other => other,
    }
}

/// What keeps a document from being a Smithy model in its JSON AST form
/// (the form AgentCore takes): a `smithy` version and `shapes`.
fn smithy_problems(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(o) = v.as_object() else {
        out.push((
            String::new(),
            "a Smithy JSON AST model is a mapping".to_string(),
        ));
        return out;
    };
    if !o.get("smithy").is_some_and(Value::is_string) {
        out.push((
            String::new(),
            "not a Smithy JSON AST model: `\"smithy\": \"2.0\"` is missing (IDL `.smithy` files must be converted with `smithy ast`)".to_string(),
        ));
    }
    match o.get("shapes") {
        Some(Value::Object(s)) if !s.is_empty() => {}
        _ => out.push((String::new(), "`shapes` is missing or empty".to_string())),
    }
    out
}
