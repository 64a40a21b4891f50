//! `agentform schema` against `agentform validate`.
//!
//! Editors check a spec as it is typed with the published JSON Schema
//! (`SCHEMA_TEXT`, compiled here with the `jsonschema` crate as any other
//! validator would); `agentform validate` checks it with the loader
//! (`agentform::spec::load_str_with`, run in-process: the samples below are
//! hundreds of specs). For every name rule, each sample name is put into a
//! minimal spec and both must accept it or both reject it. The project is `a`
//! and the region `us-east-1`, the shortest there are, so the schema's
//! length limits on keys (which cannot see the project) are exactly
//! validate's; with a longer project only validate knows the limit, which
//! `derived_name_lengths_are_left_to_validate` shows.
//!
//! Also: every field of the schema has a description, and the defaults the
//! loader applies are stated as `default`, equal to the code's constants.

use std::path::Path;

use agentform::plan::desired::DEFAULT_TAG;
use agentform::spec::schema::SCHEMA_TEXT;
use agentform::spec::{self, FunctionSpec, Paths, RepositorySpec, RuntimeSpec, VarOverrides};
use serde_json::{Value, json};

fn schema() -> Value {
    serde_json::from_str(SCHEMA_TEXT).expect("the schema is JSON")
}

/// What `agentform validate` says of `spec`: `Ok` or its messages. JSON is
/// YAML, so the spec goes in as JSON text; function sources are not looked
/// for on disk.
fn validate(spec: &Value) -> Result<(), Vec<String>> {
    let text = serde_json::to_string_pretty(spec).expect("spec serializes");
    spec::load_str_with(
        &text,
        Path::new("agentform.yaml"),
        Path::new("."),
        &VarOverrides::new(),
        Paths::Ignore,
    )
    .map(|_| ())
    .map_err(|diags| diags.into_iter().map(|d| d.message).collect())
}

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/agent:latest";

fn base() -> Value {
    json!({ "version": 1, "project": "a", "region": "us-east-1" })
}

fn function() -> Value {
    json!({ "source": "lambda", "runtime": "python3.12", "handler": "handler.lambda_handler" })
}

fn tool(name: &str) -> Value {
    json!({ "name": name, "description": "d", "input": { "type": "object" } })
}

/// A spec with one gateway `g` and one target `target` exposing `tool`.
fn with_target(target: &str, tool_name: &str) -> Value {
    let mut s = base();
    s["functions"] = json!({ "f": function() });
    s["gateways"] = json!({ "g": { "authorizer": "aws_iam", "targets": {
        target: { "function": "f", "tools": [tool(tool_name)] }
    } } });
    s
}

fn with_runtime(runtime: Value) -> Value {
    let mut s = base();
    s["runtimes"] = json!({ "r": runtime });
    s
}

/// One naming rule: where the schema states it, and a spec with the sample
/// name put in place.
struct Rule {
    what: &'static str,
    /// The schema nodes that state the rule (JSON pointers into the schema).
    at: &'static [&'static str],
    spec: fn(&str) -> Value,
    /// The longest name both accept (with project `a`, region `us-east-1`),
    /// and a character to build names of that length and one more.
    max: Option<(usize, char)>,
    /// Samples of this rule beyond the common ones.
    extra: &'static [&'static str],
    /// Whether the rule rejects anything (variable names have no rule).
    rejects: bool,
}

fn rules() -> Vec<Rule> {
    vec![
        Rule {
            what: "project name",
            at: &["/properties/project"],
            spec: |n| json!({ "version": 1, "project": n }),
            max: Some((24, 'p')),
            extra: &["iam-auth-demo", "a1-b2-c3", "a-1"],
            rejects: true,
        },
        Rule {
            what: "function key",
            at: &["/properties/functions/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["functions"] = json!({ n: function() });
                s
            },
            max: Some((54, 'f')),
            extra: &["tools_v2", "A-B_c"],
            rejects: true,
        },
        Rule {
            what: "gateway key",
            at: &["/properties/gateways/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["gateways"] = json!({ n: { "authorizer": "aws_iam" } });
                s
            },
            max: Some((46, 'g')),
            extra: &["main-1", "a-b-c", "9-9"],
            rejects: true,
        },
        Rule {
            what: "gateway target key",
            at: &["/properties/gateways/additionalProperties/properties/targets/propertyNames"],
            spec: |n| with_target(n, "t"),
            max: Some((60, 't')),
            extra: &["lambda-target", "calc2"],
            rejects: true,
        },
        Rule {
            what: "tool name",
            at: &[
                "/properties/gateways/additionalProperties/properties/targets/additionalProperties/properties/tools/oneOf/1/items/properties/name",
            ],
            spec: |n| with_target("t", n),
            max: Some((60, 'n')),
            extra: &["add_numbers", "get-weather", "v1.2"],
            rejects: true,
        },
        Rule {
            what: "repository key",
            at: &["/properties/repositories/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["repositories"] = json!({ n: {} });
                s
            },
            max: Some((254, 'r')),
            extra: &[
                "agent/v2",
                "a.b-c_d/e",
                "a/b/c",
                "a..b",
                "a_-b",
                "a/_b",
                "a/Agent",
            ],
            rejects: true,
        },
        Rule {
            what: "runtime key",
            at: &["/properties/runtimes/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["runtimes"] = json!({ n: { "artifact": { "image": IMAGE } } });
                s
            },
            max: Some((46, 'r')),
            extra: &["agent_v2", "A-1"],
            rejects: true,
        },
        Rule {
            what: "memory key",
            at: &["/properties/memories/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["memories"] = json!({ n: {} });
                s
            },
            max: Some((46, 'm')),
            extra: &["chat_v2", "A-1"],
            rejects: true,
        },
        Rule {
            what: "policy engine key",
            at: &["/properties/policy_engines/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["policy_engines"] = json!({ n: {} });
                s
            },
            max: Some((46, 'e')),
            extra: &["guard_v2", "A-1"],
            rejects: true,
        },
        Rule {
            what: "policy key",
            at: &[
                "/properties/policy_engines/additionalProperties/properties/policies/propertyNames",
            ],
            spec: |n| {
                let mut s = base();
                s["policy_engines"] = json!({ "e": { "policies": { n: {
                    "cedar": { "inline": "permit(principal, action, resource);" }
                } } } });
                s
            },
            max: Some((44, 'p')),
            extra: &["calc_only", "A-1"],
            rejects: true,
        },
        Rule {
            what: "runtime endpoint name",
            at: &["/properties/runtimes/additionalProperties/properties/endpoints/propertyNames"],
            spec: |n| {
                with_runtime(json!({ "artifact": { "image": IMAGE }, "endpoints": { n: null } }))
            },
            max: Some((48, 'e')),
            extra: &["live", "Stable_2", "DEFAULTS", "default"],
            rejects: true,
        },
        Rule {
            what: "function environment variable name",
            at: &[
                "/$defs/functionEnvironment/propertyNames",
                "/$defs/environmentName",
            ],
            spec: |n| {
                let mut s = base();
                let mut f = function();
                f["environment"] = json!({ n: "v" });
                s["functions"] = json!({ "f": f });
                s
            },
            max: Some((100, 'E')),
            extra: &[
                "LOG_LEVEL",
                "_HANDLER",
                "AWS_LAMBDA_RUNTIME_API",
                "LAMBDA_TASK_ROOT",
                "AWS_ACCESS_KEY_ID",
                "AWS_PROFILE",
            ],
            rejects: true,
        },
        Rule {
            what: "runtime environment variable name",
            at: &[
                "/$defs/runtimeEnvironment/propertyNames",
                "/$defs/environmentName",
            ],
            spec: |n| {
                with_runtime(json!({ "artifact": { "image": IMAGE }, "environment": { n: "v" } }))
            },
            max: Some((100, 'E')),
            extra: &["GATEWAY_URL", "AWS_REGION", "_X"],
            rejects: true,
        },
        Rule {
            what: "tag key",
            at: &["/$defs/tags/propertyNames"],
            spec: |n| {
                let mut s = base();
                s["tags"] = json!({ n: "v" });
                s
            },
            max: Some((128, 'k')),
            extra: &[
                "cost center",
                "team/owner",
                "aws:x",
                "agentform:x",
                "agentform:project",
                "AWS:x",
                "x:aws:",
                "awsx",
                "a=b+c@d.e_f-g:h/i",
            ],
            rejects: true,
        },
        Rule {
            what: "tag value",
            at: &["/$defs/tags/additionalProperties"],
            spec: |n| {
                let mut s = base();
                s["tags"] = json!({ "team": n });
                s
            },
            max: Some((256, 'v')),
            extra: &["platform team", "a=b+c@d.e_f-g:h/i", "aws:x"],
            rejects: true,
        },
        Rule {
            what: "region",
            at: &["/properties/region"],
            spec: |n| json!({ "version": 1, "project": "a", "region": n }),
            max: None,
            extra: &[
                "us-east-1",
                "eu-central-1",
                "ap-southeast-2",
                "us-gov-west-1",
                "cn-northwest-1",
                "US-EAST-1",
                "us-east1",
                "us-east-10",
                "us-east",
                "useast-1",
                "us-east-\u{0661}",
                "us-gov-west",
                " us-east-1",
            ],
            rejects: true,
        },
        Rule {
            what: "image URI",
            at: &["/properties/runtimes/additionalProperties/properties/artifact/properties/image"],
            spec: |n| with_runtime(json!({ "artifact": { "image": n } })),
            max: None,
            extra: &[
                IMAGE,
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent",
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/agent:v1",
                "public.ecr.aws/a/b:1.0",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:v1@sha256:abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd",
                "docker.io/library/python:3.12",
                "12345678901.dkr.ecr.us-east-1.amazonaws.com/agent",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/Agent",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:abc",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent\n",
            ],
            rejects: true,
        },
        Rule {
            what: "Bedrock model",
            at: &["/properties/runtimes/additionalProperties/properties/models/items"],
            spec: |n| with_runtime(json!({ "artifact": { "image": IMAGE }, "models": [n] })),
            max: None,
            extra: &[
                "anthropic.claude-3-haiku-20240307-v1:0",
                "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "amazon.titan-embed-text-v2:0:8k",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
                "arn:aws-cn:bedrock:cn-north-1:123456789012:provisioned-model/abc",
                "anthropic.*",
                "anthropic.claude:",
                "anthropic..claude",
                "arn:aws:bedrock:*::foundation-model/*",
                "arn:aws:bedrock:us-east-1::foundation-model/",
                "arn:aws:s3:::bucket/model",
                "arn:aws:bedrock:us-east-1:1234:inference-profile/x",
                "us.anthropic.claude haiku",
                "anthropic.claude-v2\n",
            ],
            rejects: true,
        },
        Rule {
            what: "image tag",
            at: &[
                "/properties/runtimes/additionalProperties/properties/artifact/properties/container/properties/tag",
            ],
            spec: |n| {
                let mut s = with_runtime(
                    json!({ "artifact": { "container": { "repository": "agent", "tag": n } } }),
                );
                s["repositories"] = json!({ "agent": null });
                s
            },
            max: Some((128, 't')),
            extra: &["latest", "v1.2.3", "1.0_rc-1", "v1 beta", "v1:2"],
            rejects: true,
        },
        Rule {
            what: "OIDC discovery URL",
            at: &["/$defs/authorizer/oneOf/1/properties/custom_jwt/properties/discovery_url"],
            spec: |n| {
                let mut s = base();
                s["gateways"] = json!({ "g": { "authorizer": { "custom_jwt": {
                    "discovery_url": n, "allowed_audiences": ["x"]
                } } } });
                s
            },
            max: None,
            extra: &[
                "https://idp.example.com/.well-known/openid-configuration",
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration",
                "https://x/y z/.well-known/openid-configuration",
                "https://\r/.well-known/openid-configuration",
                "https://\u{2028}/.well-known/openid-configuration",
                "http://idp.example.com/.well-known/openid-configuration",
                "https:///.well-known/openid-configuration",
                "https://idp.example.com/.well-known/openid-configuration/",
                "https://a\nb/.well-known/openid-configuration",
                "https://idp.example.com/.well-known/jwks.json",
            ],
            rejects: true,
        },
        Rule {
            what: "subnet id",
            at: &[
                "/properties/runtimes/additionalProperties/properties/network/oneOf/1/properties/vpc/properties/subnets/items",
            ],
            spec: |n| {
                with_runtime(
                    json!({ "artifact": { "image": IMAGE }, "network": { "vpc": {
                    "subnets": [n], "security_groups": ["sg-0123abcd"]
                } } }),
                )
            },
            max: None,
            extra: &[
                "subnet-0123abcd",
                "subnet-0123456789abcdef0",
                "subnet-0123abc",
                "subnet-0123ABCD",
                "subnet-0123456789abcdef",
                "sg-0123abcd",
                "subnet-",
                "subnet-0123abcdx",
            ],
            rejects: true,
        },
        Rule {
            what: "security group id",
            at: &[
                "/properties/runtimes/additionalProperties/properties/network/oneOf/1/properties/vpc/properties/security_groups/items",
            ],
            spec: |n| {
                with_runtime(
                    json!({ "artifact": { "image": IMAGE }, "network": { "vpc": {
                    "subnets": ["subnet-0123abcd"], "security_groups": [n]
                } } }),
                )
            },
            max: None,
            extra: &[
                "sg-0123abcd",
                "sg-0123456789abcdef0",
                "sg-0123abc",
                "sg-0123456789abcdef00",
                "subnet-0123abcd",
                "sg-",
            ],
            rejects: true,
        },
        Rule {
            what: "request header name",
            at: &["/properties/runtimes/additionalProperties/properties/request_headers/items"],
            spec: |n| {
                with_runtime(json!({ "artifact": { "image": IMAGE }, "request_headers": [n] }))
            },
            max: Some((256, 'h')),
            extra: &[
                "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant",
                "Authorization",
                "x_1",
                "X-",
                "X.Y",
            ],
            rejects: true,
        },
        Rule {
            what: "variable name",
            at: &[],
            spec: |n| {
                let mut s = base();
                s["variables"] = json!({ n: { "default": "x" } });
                s
            },
            max: None,
            extra: &[],
            rejects: false,
        },
    ]
}

/// Names every rule is tried with: valid-looking ones, bad characters,
/// leading digits and separators, doubled and trailing separators, case,
/// whitespace, unicode, and the empty name.
const COMMON: &[&str] = &[
    "a",
    "z9",
    "agent",
    "Agent",
    "AGENT",
    "my-agent",
    "my_agent",
    "my.agent",
    "my--agent",
    "my__agent",
    "my-_agent",
    "-agent",
    "agent-",
    "_agent",
    "agent_",
    ".agent",
    "1agent",
    "42",
    "",
    " ",
    "my agent",
    " agent",
    "agent ",
    "a/b",
    "a//b",
    "a/",
    "/a",
    "a:b",
    "a@b",
    "a=b",
    "a+b",
    "a,b",
    "a#b",
    "a$b",
    "a{b}",
    "a~b",
    "a*b",
    "démo",
    "агент",
    "agent😀",
    "a\tb",
    "a\nb",
    "agent\n",
    "a\u{a0}b",
    "a\u{85}b",
    "a\u{feff}b",
    "DEFAULT",
    "AWS_REGION",
    "aws:x",
];

/// The sample names of a rule: the common ones, its own, and names of its
/// longest length and one more.
fn samples(rule: &Rule) -> Vec<String> {
    let mut out: Vec<String> = COMMON
        .iter()
        .chain(rule.extra)
        .map(|s| s.to_string())
        .collect();
    if let Some((max, fill)) = rule.max {
        for n in [max - 1, max, max + 1, max + 10] {
            out.push(std::iter::repeat_n(fill, n).collect());
        }
        // The same lengths ending with a digit, and split by a separator.
        out.push(format!(
            "{}1",
            std::iter::repeat_n(fill, max - 1).collect::<String>()
        ));
        out.push(format!(
            "{}1",
            std::iter::repeat_n(fill, max).collect::<String>()
        ));
        let half: String = std::iter::repeat_n(fill, max / 2).collect();
        out.push(format!("{half}-{half}"));
        out.push(format!("{half}_{half}"));
    }
    out
}

#[test]
fn schema_and_validate_agree_on_every_name_rule() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    let mut disagreements = Vec::new();
    for rule in rules() {
        let (mut accepted, mut rejected) = (0, 0);
        for name in samples(&rule) {
            let spec = (rule.spec)(&name);
            let by_schema = validator.is_valid(&spec);
            let by_validate = validate(&spec);
            if by_schema != by_validate.is_ok() {
                disagreements.push(format!(
                    "{} {name:?}: schema {}, validate {}",
                    rule.what,
                    if by_schema { "accepts" } else { "rejects" },
                    match &by_validate {
                        Ok(()) => "accepts".to_string(),
                        Err(messages) => format!("rejects: {}", messages.join("; ")),
                    }
                ));
            }
            if by_validate.is_ok() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
        assert!(accepted > 0, "{}: no sample is valid", rule.what);
        assert_eq!(
            rejected > 0,
            rule.rejects,
            "{}: {rejected} samples rejected",
            rule.what
        );
    }
    assert!(
        disagreements.is_empty(),
        "the schema and validate disagree:\n{}",
        disagreements.join("\n")
    );
}

/// Every pattern, key rule (`propertyNames`) and count of names in the
/// schema is one of the rules above, so none goes untested (and none that
/// validate does not check can hide in the schema: the loader leaves these
/// keywords to validate).
#[test]
fn every_pattern_in_the_schema_is_a_tested_rule() {
    fn walk(node: &Value, at: &str, out: &mut Vec<String>) {
        let Value::Object(o) = node else { return };
        let counts_names = o.contains_key("maxProperties") && o.contains_key("propertyNames");
        if o.contains_key("pattern") || counts_names {
            out.push(at.strip_suffix("/else").unwrap_or(at).to_string());
        }
        for (k, v) in o {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            match k.as_str() {
                "properties" | "$defs" => {
                    for (name, sub) in v.as_object().into_iter().flatten() {
                        walk(
                            sub,
                            &format!("{here}/{}", name.replace('~', "~0").replace('/', "~1")),
                            out,
                        );
                    }
                }
                "propertyNames" => {
                    out.push(here.clone());
                    walk(v, &here, out);
                }
                "oneOf" | "anyOf" | "allOf" => {
                    for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                        walk(sub, &format!("{here}/{i}"), out);
                    }
                }
                "additionalProperties" | "items" | "if" | "then" | "else" | "not" => {
                    walk(v, &here, out)
                }
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    walk(&schema(), "", &mut found);
    let tested: Vec<&str> = rules().iter().flat_map(|r| r.at.to_vec()).collect();
    let untested: Vec<&String> = found
        .iter()
        .filter(|p| {
            !tested.contains(&p.as_str())
                // The marker of `${...}` strings, and what `not` excludes
                // inside a tested `propertyNames`.
                && p.as_str() != "/$defs/interpolated"
                && !tested.iter().any(|t| p.starts_with(&format!("{t}/not")))
                // The count of a runtime's variables: `runtime_environment_count`.
                && p.as_str() != "/$defs/runtimeEnvironment"
                // An enum of the APIs whose rates can be set, the very list
                // validate checks against:
                // `the_schema_lists_the_apis_whose_rates_can_be_set`.
                && p.as_str() != "/properties/rates/propertyNames"
        })
        .collect();
    assert!(
        untested.is_empty(),
        "patterns without an agreement test: {untested:#?}"
    );
    for t in &tested {
        assert!(
            found.iter().any(|f| f == t),
            "{t}: no pattern or propertyNames there"
        );
    }
}

#[test]
fn runtime_environment_count() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    for n in [50, 51] {
        let env: serde_json::Map<String, Value> =
            (0..n).map(|i| (format!("V{i}"), json!("x"))).collect();
        let spec = with_runtime(json!({ "artifact": { "image": IMAGE }, "environment": env }));
        assert_eq!(validator.is_valid(&spec), n <= 50, "{n} variables");
        assert_eq!(validate(&spec).is_ok(), n <= 50, "{n} variables");
    }
}

/// What the schema cannot say: limits that combine the project name with a
/// key, or two names with each other. The schema accepts these specs (each
/// part is within its own limit) and validate rejects them.
#[test]
fn derived_name_lengths_are_left_to_validate() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    let long_project = "p".repeat(24);
    let long = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    let mut s = base();
    s["project"] = json!(long_project);
    s["functions"] = json!({ long(40, 'f'): function() });
    cases.push(("function key with a long project", s, "characters long"));
    let mut s = base();
    s["project"] = json!(long_project);
    s["gateways"] = json!({ long(30, 'g'): { "authorizer": "aws_iam" } });
    cases.push(("gateway key with a long project", s, "characters long"));
    let mut s = base();
    s["project"] = json!(long_project);
    s["runtimes"] = json!({ long(30, 'r'): { "artifact": { "image": IMAGE } } });
    cases.push(("runtime key with a long project", s, "characters long"));
    let mut s = base();
    s["project"] = json!(long_project);
    s["repositories"] = json!({ long(240, 'r'): {} });
    cases.push(("repository key with a long project", s, "characters long"));
    let mut s = base();
    s["region"] = json!("ap-southeast-1");
    s["functions"] = json!({ long(54, 'f'): function() });
    cases.push((
        "function key with a longer region code",
        s,
        "characters long",
    ));
    cases.push((
        "target key and tool name together",
        with_target(&long(30, 't'), &long(40, 'n')),
        "MCP tool name",
    ));
    let mut s = base();
    s["runtimes"] = json!({
        "my-agent": { "artifact": { "image": IMAGE } },
        "my_agent": { "artifact": { "image": IMAGE } },
    });
    cases.push(("runtime keys that collide", s, "would both be named"));
    let mut s = with_target("t", "add");
    s["gateways"]["g"]["targets"]["t"]["tools"] = json!([tool("add"), tool("add")]);
    cases.push(("duplicate tool names", s, "duplicate tool"));
    for (what, spec, says) in cases {
        assert!(validator.is_valid(&spec), "{what}: the schema rejects it");
        match validate(&spec) {
            Ok(()) => panic!("{what}: validate accepts it"),
            Err(messages) => assert!(
                messages.iter().any(|m| m.contains(says)),
                "{what}: {messages:?}"
            ),
        }
    }
}

/// A value with `${...}` is judged after substitution: the schema (which
/// cannot substitute) accepts it, validate judges what it becomes.
#[test]
fn interpolated_values_are_judged_after_substitution() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    // 30 characters as written, 23 after substitution.
    let project = "a-long-project-name-${var.env}";
    for (env, ok) in [
        ("dev", true),
        ("Prod", false),
        ("x".repeat(30).as_str(), false),
    ] {
        let spec = json!({
            "version": 1,
            "project": project,
            "variables": { "env": { "default": env } },
        });
        assert!(validator.is_valid(&spec), "{env}");
        assert_eq!(validate(&spec).is_ok(), ok, "{env}: {:?}", validate(&spec));
    }
}

/// The schema nodes of every field: `properties` members, `$defs` entries
/// and key rules (`propertyNames`), with their JSON pointers.
fn fields(node: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let Value::Object(o) = node else { return };
    let esc = |s: &str| s.replace('~', "~0").replace('/', "~1");
    for (k, v) in o {
        let here = format!("{at}/{}", esc(k));
        match k.as_str() {
            "properties" | "$defs" => {
                for (name, sub) in v.as_object().into_iter().flatten() {
                    let p = format!("{here}/{}", esc(name));
                    out.push((p.clone(), sub.clone()));
                    fields(sub, &p, out);
                }
            }
            "propertyNames" => {
                out.push((here.clone(), v.clone()));
                fields(v, &here, out);
            }
            "oneOf" | "anyOf" | "allOf" => {
                for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                    fields(sub, &format!("{here}/{i}"), out);
                }
            }
            "additionalProperties" | "items" | "if" | "then" | "else" | "not" => {
                fields(v, &here, out)
            }
            _ => {}
        }
    }
}

#[test]
fn every_field_has_a_description() {
    let mut all = Vec::new();
    fields(&schema(), "", &mut all);
    assert!(all.len() > 60, "only {} fields found", all.len());
    let missing: Vec<&String> = all
        .iter()
        .filter(|(_, s)| {
            s.get("description")
                .and_then(Value::as_str)
                .is_none_or(|d| d.trim().is_empty())
        })
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:#?}"
    );
}

#[test]
fn loader_defaults_are_stated() {
    let schema = schema();
    let f = "/properties/functions/additionalProperties/properties";
    let r = "/properties/runtimes/additionalProperties/properties";
    let defaults = [
        (format!("{f}/memory"), json!(FunctionSpec::DEFAULT_MEMORY)),
        (format!("{f}/timeout"), json!(FunctionSpec::DEFAULT_TIMEOUT)),
        (format!("{f}/source_outside_project"), json!(false)),
        (
            format!("{f}/architecture"),
            json!(FunctionSpec::DEFAULT_ARCHITECTURE),
        ),
        (
            "/properties/gateways/additionalProperties/properties/search".to_string(),
            json!("none"),
        ),
        (
            "/properties/repositories/additionalProperties/properties/scan_on_push".to_string(),
            json!(false),
        ),
        (
            "/properties/repositories/additionalProperties/properties/image_tag_mutability"
                .to_string(),
            json!(RepositorySpec::DEFAULT_IMAGE_TAG_MUTABILITY),
        ),
        (
            "/properties/repositories/additionalProperties/properties/force_delete".to_string(),
            json!(false),
        ),
        (
            format!("{r}/artifact/properties/container/properties/tag"),
            json!(DEFAULT_TAG),
        ),
        (format!("{r}/network"), json!(RuntimeSpec::DEFAULT_NETWORK)),
        (
            format!("{r}/protocol"),
            json!(RuntimeSpec::DEFAULT_PROTOCOL),
        ),
        (
            format!("{r}/lifecycle/properties/idle_timeout"),
            json!(agentform::model::RuntimeConfig::DEFAULT_IDLE_TIMEOUT),
        ),
        (
            format!("{r}/lifecycle/properties/max_lifetime"),
            json!(agentform::model::RuntimeConfig::DEFAULT_MAX_LIFETIME),
        ),
        (format!("{r}/authorizer"), json!("aws_iam")),
        (
            format!("{r}/endpoints/additionalProperties/properties/version"),
            json!("latest"),
        ),
    ];
    for (pointer, want) in defaults {
        let field = schema
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{pointer}: no such field"));
        assert_eq!(field.get("default"), Some(&want), "{pointer}");
        // The default is a value the field accepts.
        let wrapped = json!({ "$defs": schema["$defs"], "allOf": [field] });
        assert!(
            jsonschema::validator_for(&wrapped).unwrap().is_valid(&want),
            "{pointer}: default {want} is not valid"
        );
    }
}

#[test]
fn the_schema_lists_the_apis_whose_rates_can_be_set() {
    let names: Vec<String> = schema()["properties"]["rates"]["propertyNames"]["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect();
    let apis: Vec<String> = agentform::aws::quota::APIS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, apis);
}
