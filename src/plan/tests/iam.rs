//! Every IAM document agentform derives, for the reference stack and for a
//! spec that uses every feature, checked for wildcards; and the same
//! documents written out for `scripts/iam-lint.sh` (parliament) when
//! `AGENTFORM_IAM_DUMP` names a directory.
//!
//! The documents are built as they are after apply: every ARN known (the
//! gateways' made up by [`ids_for`]), so each is plain JSON.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{account, ids_for, packages};
use crate::model::{Config, Known};
use crate::plan::desired;

/// The specs whose IAM is checked, relative to the crate root.
pub(super) const SPECS: &[&str] = &[
    "examples/iam-gateway/agentform.yaml",
    "tests/specs/every-feature/agentform.yaml",
];

/// Actions that have no resource-level permissions, so `Resource: "*"` is the
/// only resource they can be granted on; each with why it is needed and the
/// condition key that must narrow it, if any.
const RESOURCE_STAR_ALLOWED: &[(&str, &str, Option<&str>)] = &[
    (
        "ecr:GetAuthorizationToken",
        "registry login token for pulling the runtime's image; no resource type",
        None,
    ),
    (
        "xray:PutTraceSegments",
        "the runtime's traces; X-Ray trace APIs have no resource type",
        None,
    ),
    (
        "xray:PutTelemetryRecords",
        "X-Ray daemon telemetry; no resource type",
        None,
    ),
    (
        "xray:GetSamplingRules",
        "sampling rules for the tracer; no resource type",
        None,
    ),
    (
        "xray:GetSamplingTargets",
        "sampling quotas for the tracer; no resource type",
        None,
    ),
    (
        "cloudwatch:PutMetricData",
        "the runtime's metrics; no resource type, so the namespace condition scopes it",
        Some("cloudwatch:namespace"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DocKind {
    /// A role's trust policy (who may assume it).
    Trust,
    /// A role's inline policy (what it may do).
    Identity,
}

#[derive(Debug)]
pub(super) struct Document {
    /// The address of the role or role policy, e.g. `iam_role_policy.rt-agent`.
    pub name: String,
    pub kind: DocKind,
    pub json: Value,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The trust and identity policies of the spec at `path`, as applied.
pub(super) fn documents(path: &Path) -> Vec<Document> {
    let l = crate::spec::load(path, &crate::spec::VarOverrides::new())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let a = account();
    let first = desired::build(&l, &a, &packages(), &Known::new());
    let known: Known = first
        .iter()
        .map(|d| (d.addr.clone(), ids_for(&d.addr)))
        .collect();
    desired::build(&l, &a, &packages(), &known)
        .into_iter()
        .filter_map(|d| {
            let (kind, json) = match &d.config {
                Config::Role(r) => (DocKind::Trust, r.trust_policy.clone()),
                Config::RolePolicy(p) => (
                    DocKind::Identity,
                    p.document
                        .to_json()
                        .unwrap_or_else(|| panic!("{}: unknown value after apply", d.addr)),
                ),
                _ => return None,
            };
            Some(Document {
                name: d.addr.to_string(),
                kind,
                json,
            })
        })
        .collect()
}

/// A string or a list of strings, as a list.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn statements(doc: &Value) -> &Vec<Value> {
    doc["Statement"].as_array().expect("a Statement list")
}

/// What is wrong with one identity policy, as readable lines.
fn identity_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for s in statements(doc) {
        let sid = s["Sid"].as_str().unwrap_or("(no Sid)");
        for key in ["NotAction", "NotResource", "NotPrincipal", "Principal"] {
            if s.get(key).is_some() {
                problems.push(format!("{sid}: has {key}"));
            }
        }
        if s["Effect"] != "Allow" {
            problems.push(format!("{sid}: Effect is {}", s["Effect"]));
        }
        let actions = strings(&s["Action"]);
        if actions.is_empty() {
            problems.push(format!("{sid}: no Action"));
        }
        for a in &actions {
            if a.contains(['*', '?']) {
                problems.push(format!("{sid}: wildcard action `{a}`"));
            }
        }
        let resources = strings(&s["Resource"]);
        if resources.is_empty() {
            problems.push(format!("{sid}: no Resource"));
        }
        if resources.contains(&"*") {
            for a in &actions {
                match RESOURCE_STAR_ALLOWED.iter().find(|(name, ..)| name == a) {
                    None => problems.push(format!(
                        "{sid}: `{a}` on Resource \"*\" (it is not in RESOURCE_STAR_ALLOWED)"
                    )),
                    Some((_, _, Some(key))) => {
                        let conditioned = s["Condition"]
                            .as_object()
                            .is_some_and(|ops| ops.values().any(|keys| keys.get(key).is_some()));
                        if !conditioned {
                            problems.push(format!(
                                "{sid}: `{a}` on Resource \"*\" without a `{key}` condition"
                            ));
                        }
                    }
                    Some((_, _, None)) => {}
                }
            }
            if resources.len() > 1 {
                problems.push(format!("{sid}: \"*\" beside other resources"));
            }
        }
        for r in &resources {
            if *r != "*" && !r.starts_with("arn:aws:") {
                problems.push(format!("{sid}: resource `{r}` is not an ARN"));
            }
        }
    }
    problems
}

/// What is wrong with one trust policy.
fn trust_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for s in statements(doc) {
        let sid = s["Sid"].as_str().unwrap_or("(no Sid)");
        if s["Effect"] != "Allow" {
            problems.push(format!("{sid}: Effect is {}", s["Effect"]));
        }
        if strings(&s["Action"]) != ["sts:AssumeRole"] {
            problems.push(format!("{sid}: Action is {}", s["Action"]));
        }
        let principal = s["Principal"].as_object();
        let services = principal
            .and_then(|p| p.get("Service"))
            .map(strings)
            .unwrap_or_default();
        if principal.is_none_or(|p| p.len() != 1) || services.is_empty() {
            problems.push(format!(
                "{sid}: Principal must be services only: {}",
                s["Principal"]
            ));
        }
        for svc in services {
            if !svc.ends_with(".amazonaws.com") || svc.contains('*') {
                problems.push(format!("{sid}: service principal `{svc}`"));
            }
        }
    }
    problems
}

#[test]
fn resource_star_allowed_list_is_explicit() {
    for (action, reason, _) in RESOURCE_STAR_ALLOWED {
        assert!(
            action.contains(':') && !action.contains('*'),
            "{action}: one action, no wildcard"
        );
        assert!(!reason.is_empty(), "{action}: a reason");
    }
}

/// No wildcard action, no `Not*` element, and `Resource: "*"` only for the
/// actions of [`RESOURCE_STAR_ALLOWED`]; trust policies name one AWS service.
#[test]
fn derived_iam_has_no_wildcards() {
    for spec in SPECS {
        let docs = documents(&root().join(spec));
        assert!(
            docs.iter().any(|d| d.kind == DocKind::Identity),
            "{spec}: no identity policy"
        );
        for d in docs {
            let problems = match d.kind {
                DocKind::Identity => identity_problems(&d.json),
                DocKind::Trust => trust_problems(&d.json),
            };
            assert!(
                problems.is_empty(),
                "{spec} {}:\n  {}\n{:#}",
                d.name,
                problems.join("\n  "),
                d.json
            );
        }
    }
}

/// The checks above catch what they claim to.
#[test]
fn the_wildcard_checks_catch_bad_statements() {
    let cases = [
        (
            r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}"#,
            "wildcard action `s3:*`",
        ),
        (
            r#"{"Effect": "Allow", "Action": ["logs:Put*"], "Resource": "arn:aws:logs:us-east-1:1:x"}"#,
            "wildcard action `logs:Put*`",
        ),
        (
            r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}"#,
            "wildcard action `*`",
        ),
        (
            r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#,
            "has NotAction",
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#,
            "`s3:GetObject` on Resource \"*\"",
        ),
        (
            r#"{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}"#,
            "without a `cloudwatch:namespace` condition",
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"}"#,
            "has NotResource",
        ),
    ];
    for (statement, want) in cases {
        let doc: Value = serde_json::from_str(&format!(
            r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#
        ))
        .expect("json");
        let problems = identity_problems(&doc);
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{statement}: expected `{want}` in {problems:?}"
        );
    }
    let trust: Value = serde_json::from_str(
        r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}"#,
    )
    .expect("json");
    assert!(!trust_problems(&trust).is_empty());
}

/// With `AGENTFORM_IAM_DUMP=DIR`, writes each document as
/// `DIR/<spec dir>/{identity,trust}/<address>.json` for `scripts/iam-lint.sh`.
#[test]
fn dump_derived_iam() {
    let Some(out) = std::env::var_os("AGENTFORM_IAM_DUMP") else {
        return;
    };
    let out = PathBuf::from(out);
    for spec in SPECS {
        let path = root().join(spec);
        let stack = path
            .parent()
            .and_then(Path::file_name)
            .expect("spec in a directory")
            .to_string_lossy()
            .into_owned();
        for d in documents(&path) {
            let kind = match d.kind {
                DocKind::Identity => "identity",
                DocKind::Trust => "trust",
            };
            let dir = out.join(&stack).join(kind);
            std::fs::create_dir_all(&dir).expect("dump dir");
            let text = serde_json::to_string_pretty(&d.json).expect("json");
            std::fs::write(dir.join(format!("{}.json", d.name)), text + "\n")
                .expect("write document");
        }
    }
}

/// A runtime's `models` reach its policy: exactly those (`agent`), none
/// (`worker`, `models: []`), or the broad grant without the field
/// (`foreign`).
#[test]
fn runtime_models_reach_the_policy() {
    let docs = documents(&root().join(SPECS[1]));
    let models = |runtime: &str| -> Option<Vec<String>> {
        let name = format!("iam_role_policy.rt-{runtime}");
        let d = docs
            .iter()
            .find(|d| d.name == name)
            .expect("runtime policy");
        statements(&d.json)
            .iter()
            .find(|s| s["Sid"] == "BedrockModelInvocation")
            .map(|s| {
                strings(&s["Resource"])
                    .into_iter()
                    .map(String::from)
                    .collect()
            })
    };
    assert_eq!(
        models("agent").expect("a model statement"),
        [
            "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
            "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        ]
    );
    assert_eq!(models("worker"), None);
    assert_eq!(
        models("foreign").expect("a model statement"),
        [
            "arn:aws:bedrock:*::foundation-model/*",
            "arn:aws:bedrock:us-east-1:123456789012:*"
        ]
    );
}
