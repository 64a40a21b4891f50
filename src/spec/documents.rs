//! Files a spec names besides itself: a Lambda target's tool list, an
//! OpenAPI document, a Smithy model. Each is read once, while the spec is
//! loaded, and kept with its own source map so that a problem inside it is
//! reported at its own line and column.
//!
//! Like the spec, a document must be a regular file under the spec's
//! directory, named `*.json`, `*.yaml` or `*.yml` (a Cedar policy:
//! `*.cedar`, kept as text) once symlinks are followed, and at most
//! [`MAX_BYTES`]: anything else is never read, so no message can echo a
//! line of it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::yaml::{self, SourceMap, escape};
use super::{ApiSchemaSpec, CedarSpec, Spec, ToolsSpec};
use crate::diag::Diagnostic;

/// The largest document read. AgentCore's inline payloads are sent in one
/// request; a larger API description belongs in S3 (`{s3: ...}`).
pub const MAX_BYTES: u64 = 1024 * 1024;

/// One file a spec names.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Arc<Value>,
    pub source: String,
    pub map: SourceMap,
}

impl Document {
    /// `line:col` of the value at `pointer` inside this file.
    pub fn line_col(&self, pointer: &str) -> (usize, usize) {
        let span = self.map.value_span(pointer);
        Diagnostic::new("", span)
            .line_col(&self.source)
            .unwrap_or((1, 1))
    }
}

/// The documents of a spec, by path as written in it.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    by_path: BTreeMap<String, Document>,
}

impl Documents {
    pub fn get(&self, path: &str) -> Option<&Document> {
        self.by_path.get(path)
    }
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON or YAML, parsed.
    Data,
    /// A Cedar policy: the text, as a JSON string.
    Cedar,
}

/// Every place in `spec` that names a document file: (pointer of the
/// value, path as written, what it holds).
pub fn places(spec: &Spec) -> Vec<(String, String, Format)> {
    let mut out = Vec::new();
    for (ek, e) in &spec.policy_engines {
        for (pk, p) in &e.policies {
            if let CedarSpec::File(f) = &p.cedar {
                out.push((
                    format!(
                        "/policy_engines/{}/policies/{}/cedar",
                        escape(ek),
                        escape(pk)
                    ),
                    f.clone(),
                    Format::Cedar,
                ));
            }
        }
    }
    for (gk, g) in &spec.gateways {
        for (tk, t) in &g.targets {
            let base = format!("/gateways/{}/targets/{}", escape(gk), escape(tk));
            if let Some(ToolsSpec::File(f)) = &t.tools {
                out.push((format!("{base}/tools"), f.clone(), Format::Data));
            }
            for (field, s) in [("openapi", &t.openapi), ("smithy", &t.smithy)] {
                if let Some(ApiSchemaSpec::File(f)) = s {
                    out.push((format!("{base}/{field}"), f.clone(), Format::Data));
                }
            }
        }
    }
    out
}

/// Reads every document `spec` names, relative to `dir`; problems come back
/// as diagnostics at the value that names the file (`span_of`).
pub fn read_all(
    spec: &Spec,
    dir: &Path,
    span_of: impl Fn(&str) -> Range<usize>,
) -> (Documents, Vec<Diagnostic>) {
    let mut docs = Documents::default();
    let mut diags = Vec::new();
    for (pointer, path, format) in places(spec) {
        if docs.by_path.contains_key(&path) {
            continue;
        }
        match read(dir, &path, format) {
            Ok(d) => {
                docs.by_path.insert(path, d);
            }
            Err((message, help)) => {
                diags.push(
                    Diagnostic::new(message, span_of(&pointer))
                        .label("this file")
                        .help(help),
                );
            }
        }
    }
    (docs, diags)
}

fn read(dir: &Path, path: &str, format: Format) -> Result<Document, (String, String)> {
    const WHERE: &str = "the path is relative to the spec file's directory";
    let full = dir.join(path);
    let real = std::fs::canonicalize(&full).map_err(|e| {
        (
            format!("cannot read `{path}`: {e}"),
            format!("{WHERE}; check the file exists"),
        )
    })?;
    let project = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !real.starts_with(&project) {
        return Err((
            format!("`{path}` is outside the project"),
            format!(
                "it resolves to {}, outside {}; documents a spec names must be under its directory",
                real.display(),
                project.display()
            ),
        ));
    }
    let meta = std::fs::metadata(&real)
        .map_err(|e| (format!("cannot read `{path}`: {e}"), WHERE.to_string()))?;
    let (what, extensions): (&str, &[&str]) = match format {
        Format::Data => ("a JSON or YAML file", &["json", "yaml", "yml"]),
        Format::Cedar => ("a Cedar file", &["cedar"]),
    };
    if !meta.is_file() {
        return Err((
            format!("`{path}` is not a regular file"),
            format!("name {what}"),
        ));
    }
    let ext_ok = real
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)));
    if !ext_ok {
        return Err((
            format!("`{path}` is not {what}"),
            match format {
                Format::Data => "agentform reads only `*.json`, `*.yaml` and `*.yml` documents (so that nothing else can show up in its messages)".to_string(),
                Format::Cedar => "a policy's file must be named `*.cedar` (so that nothing else can show up in agentform's messages)".to_string(),
            },
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err((
            format!(
                "`{path}` is {}, more than the {} a target's inline document may be",
                crate::package::human_size(meta.len()),
                crate::package::human_size(MAX_BYTES)
            ),
            "upload it to S3 and give `{s3: s3://bucket/key}` instead".to_string(),
        ));
    }
    let source = std::fs::read_to_string(&real).map_err(|e| {
        (
            format!("cannot read `{path}`: {e}"),
            "the file must be UTF-8 text".to_string(),
        )
    })?;
    if format == Format::Cedar {
        return Ok(Document {
            value: Arc::new(Value::String(source.clone())),
            source,
            map: SourceMap::default(),
        });
    }
    let parsed = yaml::parse(&source).map_err(|d| {
        let at = d
            .first()
            .and_then(|d| d.line_col(&source))
            .map(|(l, c)| format!(" at {l}:{c}"))
            .unwrap_or_default();
        let why = d.first().map(|d| d.message.clone()).unwrap_or_default();
        (
            format!("`{path}` is not valid JSON or YAML{at}: {why}"),
            "fix the file's syntax".to_string(),
        )
    })?;
    Ok(Document {
        value: Arc::new(parsed.value),
        source,
        map: parsed.map,
    })
}

/// The tools of a tool file (AgentCore's tool definition format: a list of
/// `{name, description, inputSchema, outputSchema}`), and what is wrong
/// with it as (pointer inside the file, problem). Tools with a problem are
/// left out.
pub fn tool_file(v: &Value) -> (Vec<crate::model::ToolDef>, Vec<(String, String)>) {
    let mut tools = Vec::new();
    let mut problems = Vec::new();
    let Some(list) = v.as_array() else {
        problems.push((
            String::new(),
            "a tool file holds a list of tool definitions".to_string(),
        ));
        return (tools, problems);
    };
    for (i, t) in list.iter().enumerate() {
        let at = format!("/{i}");
        let Some(o) = t.as_object() else {
            problems.push((at, "a tool definition is a mapping".to_string()));
            continue;
        };
        let mut ok = true;
        for k in o.keys() {
            if !["name", "description", "inputSchema", "outputSchema"].contains(&k.as_str()) {
                let hint = match k.as_str() {
                    "input" => " (tool files use AgentCore's `inputSchema`)",
                    "output" => " (tool files use AgentCore's `outputSchema`)",
                    _ => "",
                };
                problems.push((
                    format!("{at}/{}", escape(k)),
                    format!("unknown field `{k}`{hint}; expected name, description, inputSchema, outputSchema"),
                ));
                ok = false;
            }
        }
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(name), Some(description)) = (text("name"), text("description")) else {
            problems.push((
                at,
                "a tool definition needs `name` and `description` (strings)".to_string(),
            ));
            continue;
        };
        let Some(input) = o.get("inputSchema").filter(|s| s.is_object()) else {
            problems.push((at, format!("tool `{name}` needs an `inputSchema` mapping")));
            continue;
        };
        let output = o.get("outputSchema");
        if output.is_some_and(|s| !s.is_object()) {
            problems.push((
                format!("{at}/outputSchema"),
                "`outputSchema` is a mapping".to_string(),
            ));
            continue;
        }
        if ok {
            tools.push(crate::model::ToolDef {
                name,
                description,
                input: Arc::new(input.clone()),
                output: output.map(|s| Arc::new(s.clone())),
            });
        }
    }
    (tools, problems)
}

/// The HTTP methods of an OpenAPI path item.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The operations of an OpenAPI document: (pointer, operationId if any).
fn openapi_operations(v: &Value) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let Some(paths) = v.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string);
            out.push((format!("/paths/{}/{}", escape(path), escape(method)), id));
        }
    }
    out
}

/// The tools an OpenAPI document becomes: its operation ids.
pub fn openapi_tools(v: &Value) -> Vec<String> {
    openapi_operations(v)
        .into_iter()
        .filter_map(|(_, id)| id)
        .collect()
}

/// What keeps a document from being an OpenAPI description AgentCore
/// takes, as (pointer inside it, problem): the version (3.0 or 3.1; not
/// Swagger 2.0), `info` with `title` and `version`, `paths`, an https
/// server, and an `operationId` (unique) on every operation, since it is
/// the tool's name.
pub fn openapi_problems(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(o) = v.as_object() else {
        out.push((
            String::new(),
            "an OpenAPI document is a mapping".to_string(),
        ));
        return out;
    };
    if o.contains_key("swagger") {
        out.push((
            "/swagger".to_string(),
            "Swagger 2.0 is not supported by AgentCore; convert it to OpenAPI 3.0 or 3.1"
                .to_string(),
        ));
        return out;
    }
    match o.get("openapi").and_then(Value::as_str) {
        Some(ver) if ver.starts_with("3.0") || ver.starts_with("3.1") => {}
        Some(ver) => out.push((
            "/openapi".to_string(),
            format!("OpenAPI version `{ver}` is not supported; AgentCore takes 3.0 and 3.1"),
        )),
        None => out.push((
            String::new(),
            "not an OpenAPI document: `openapi: 3.0.x` (or 3.1.x) is missing".to_string(),
        )),
    }
    let info = o.get("info").and_then(Value::as_object);
    match info {
        None => out.push((
            String::new(),
            "`info` (with `title` and `version`) is missing".to_string(),
        )),
        Some(i) => {
            for k in ["title", "version"] {
                if !i.get(k).is_some_and(Value::is_string) {
                    out.push(("/info".to_string(), format!("`info.{k}` is missing")));
                }
            }
        }
    }
    match o.get("paths") {
        Some(Value::Object(p)) if !p.is_empty() => {}
        Some(Value::Object(_)) => out.push((
            "/paths".to_string(),
            "`paths` is empty: the target would have no tools".to_string(),
        )),
        Some(_) => out.push((
            "/paths".to_string(),
            "`paths` must be a mapping".to_string(),
        )),
        None => out.push((String::new(), "`paths` is missing".to_string())),
    }
    let servers = o.get("servers").and_then(Value::as_array);
    let https = servers.is_some_and(|s| {
        s.iter().any(|x| {
            x.get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("https://"))
        })
    });
    if !https {
        out.push((
            if servers.is_some() { "/servers" } else { "" }.to_string(),
            "the gateway calls the API at its `servers` URL, which must be `https://...`"
                .to_string(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (at, id) in openapi_operations(v) {
        match id {
            None => out.push((
                at,
                "this operation has no `operationId`; AgentCore names each tool by it".to_string(),
            )),
            Some(id) if !seen.insert(id.clone()) => out.push((
                format!("{at}/operationId"),
                format!("operationId `{id}` is used twice; tool names must be unique"),
            )),
            Some(_) => {}
        }
    }
    out
}
