//! The configuration agentform manages for each kind, as plain data.
//!
//! Desired and observed configurations use the same types, so the diff is a
//! field-by-field comparison of two [`Config`]s' [`Config::attrs`]. Fields
//! that may refer to resources not created yet hold [`Resolved`] / [`Val`]
//! values; everything read back from AWS is known.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::{Kind, Lookup, Resolved, Val};

pub type Tags = BTreeMap<String, String>;

/// Environment variables whose values may refer to other resources.
pub type Environment = BTreeMap<String, Resolved>;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoleConfig {
    pub name: String,
    pub path: String,
    pub trust_policy: Value,
    pub description: String,
    pub tags: Tags,
    /// Inline policies besides agentform's own (never wanted: drift).
    #[serde(default)]
    pub other_inline_policies: Vec<String>,
    /// ARNs of attached managed policies (never wanted: drift).
    #[serde(default)]
    pub managed_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RolePolicyConfig {
    pub role: String,
    pub name: String,
    /// May hold unknown ARNs (a gateway not created yet) until apply.
    pub document: Val,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RepositoryConfig {
    pub name: String,
    pub scan_on_push: bool,
    pub tag_mutability: String,
    /// Not an AWS attribute: whether destroy may delete a repository with images.
    pub force_delete: bool,
    pub tags: Tags,
    /// The repository policy (`null`: none, which is what agentform wants).
    #[serde(default)]
    pub policy: Val,
}

/// An AgentCore Memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemoryConfig {
    pub name: String,
    pub description: String,
    /// Days short-term events are kept (7 to 365).
    pub event_expiry_days: i32,
    /// Long-term memory strategies, sorted by type and name.
    pub strategies: Vec<MemoryStrategy>,
    /// A customer-managed KMS key (empty: AWS-owned).
    pub encryption_key_arn: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct MemoryStrategy {
    /// `SEMANTIC`, `SUMMARIZATION`, `USER_PREFERENCE`.
    pub kind: String,
    pub name: String,
}

/// The project's bucket of code bundles.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BucketConfig {
    pub name: String,
    /// Object versioning enabled.
    pub versioning: bool,
    /// Every public-access block of the bucket on.
    pub public_access_blocked: bool,
    pub tags: Tags,
}

/// Zipped function code; only desired configs carry the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(pub Arc<Vec<u8>>);

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({} bytes)", self.0.len())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunctionConfig {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub memory: i32,
    pub timeout: i32,
    pub architecture: String,
    pub description: String,
    pub role_arn: String,
    pub environment: Environment,
    /// Base64 SHA-256 of the zip, as Lambda reports it in `CodeSha256`
    /// (empty when the spec was loaded without packaging, e.g. for destroy).
    pub code_sha256: String,
    /// Not saved with a plan: applying a saved plan packages the source
    /// again and checks it against `code_sha256`.
    #[serde(skip)]
    pub code: Option<Code>,
    pub tags: Tags,
    /// The function's resource-based policy (`null`: none, which is what
    /// agentform wants; gateways invoke through their role).
    #[serde(default)]
    pub resource_policy: Val,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Authorizer {
    AwsIam,
    CustomJwt {
        discovery_url: String,
        allowed_audiences: Vec<String>,
        allowed_clients: Vec<String>,
        allowed_scopes: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GatewayConfig {
    pub name: String,
    pub description: String,
    pub role_arn: String,
    pub authorizer: Authorizer,
    /// `MCP`.
    pub protocol_type: String,
    pub semantic_search: bool,
    pub tags: Tags,
}

/// One tool of a Lambda target; `input`/`output` are JSON Schema subsets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub input: std::sync::Arc<Value>,
    pub output: Option<std::sync::Arc<Value>>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TargetConfig {
    /// Physical name of the parent gateway.
    pub gateway: String,
    pub name: String,
    pub description: String,
    pub lambda_arn: String,
    pub tools: Vec<ToolDef>,
    /// `GATEWAY_IAM_ROLE`.
    pub credential_provider: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuntimeConfig {
    pub name: String,
    pub description: String,
    pub role_arn: String,
    pub artifact: RuntimeArtifact,
    /// `PUBLIC` or `VPC`.
    pub network_mode: String,
    /// The subnets and security groups of VPC mode, each sorted (`None`
    /// in PUBLIC mode).
    pub vpc: Option<Vpc>,
    /// `HTTP`, `MCP`, `A2A` or `AGUI`.
    pub protocol: String,
    pub environment: Environment,
    /// Seconds an idle session lives (AgentCore's default 900 when unset).
    pub idle_timeout: i32,
    /// Seconds a session lives at most (AgentCore's default 28800).
    pub max_lifetime: i32,
    /// Request headers passed through to the agent.
    pub request_headers: Vec<String>,
    /// Inbound auth: SigV4 (no configuration) or a JWT authorizer.
    pub authorizer: Authorizer,
    pub tags: Tags,
}

/// What a runtime runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum RuntimeArtifact {
    /// An ARM64 image, by URI (pinned to a digest when agentform knows it).
    Container {
        uri: String,
        /// The build that makes the image, when the spec builds it
        /// (desired configs only).
        #[serde(skip)]
        build: crate::image::Source,
    },
    /// A code bundle in S3 under a content-addressed key.
    Code {
        bucket: String,
        key: String,
        /// `PYTHON_3_12`, `NODE_22`.
        runtime: String,
        entry_point: Vec<String>,
        /// What to build and upload when the key is not in the bucket yet
        /// (desired configs only; a saved plan rebuilds it).
        #[serde(skip)]
        bundle: crate::bundle::Source,
    },
}

impl RuntimeArtifact {
    /// `s3://bucket/key` of a code bundle.
    pub fn code_location(&self) -> Option<String> {
        match self {
            RuntimeArtifact::Code { bucket, key, .. } => Some(format!("s3://{bucket}/{key}")),
            RuntimeArtifact::Container { .. } => None,
        }
    }
}

impl RuntimeConfig {
    /// AgentCore's lifecycle defaults, what an unset lifecycle reads back as.
    pub const DEFAULT_IDLE_TIMEOUT: i32 = 900;
    pub const DEFAULT_MAX_LIFETIME: i32 = 28800;
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vpc {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EndpointConfig {
    /// Physical name of the parent runtime.
    pub runtime: String,
    pub name: String,
    pub description: String,
    /// The runtime version the endpoint serves: pinned, or the runtime's
    /// latest (unknown while the runtime is being created or updated).
    pub version: Resolved,
    /// Set on create only: the API takes endpoint tags but does not promise
    /// to read them back, so they are not compared.
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Config {
    Role(RoleConfig),
    RolePolicy(RolePolicyConfig),
    Repository(RepositoryConfig),
    Bucket(BucketConfig),
    Function(FunctionConfig),
    Gateway(GatewayConfig),
    Target(TargetConfig),
    Runtime(RuntimeConfig),
    Endpoint(EndpointConfig),
    Memory(MemoryConfig),
}

/// How a resource is deleted, decided by the spec and carried by the plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeleteOptions {
    /// Delete a repository even when it holds images.
    pub force: bool,
}

fn fill_env(e: &Environment, l: &dyn Lookup) -> Environment {
    e.iter().map(|(k, v)| (k.clone(), v.fill(l))).collect()
}

impl Config {
    pub fn kind(&self) -> Kind {
        match self {
            Config::Role(_) => Kind::Role,
            Config::RolePolicy(_) => Kind::RolePolicy,
            Config::Repository(_) => Kind::Repository,
            Config::Bucket(_) => Kind::Bucket,
            Config::Function(_) => Kind::Function,
            Config::Gateway(_) => Kind::Gateway,
            Config::Target(_) => Kind::GatewayTarget,
            Config::Runtime(_) => Kind::Runtime,
            Config::Endpoint(_) => Kind::RuntimeEndpoint,
            Config::Memory(_) => Kind::Memory,
        }
    }

    /// The physical name (for children: the name within the parent).
    pub fn name(&self) -> &str {
        match self {
            Config::Role(c) => &c.name,
            Config::RolePolicy(c) => &c.name,
            Config::Repository(c) => &c.name,
            Config::Bucket(c) => &c.name,
            Config::Function(c) => &c.name,
            Config::Gateway(c) => &c.name,
            Config::Target(c) => &c.name,
            Config::Runtime(c) => &c.name,
            Config::Endpoint(c) => &c.name,
            Config::Memory(c) => &c.name,
        }
    }

    /// The physical name of the parent (role of a policy, gateway of a
    /// target, runtime of an endpoint).
    pub fn parent_name(&self) -> Option<&str> {
        match self {
            Config::RolePolicy(c) => Some(&c.role),
            Config::Target(c) => Some(&c.gateway),
            Config::Endpoint(c) => Some(&c.runtime),
            Config::Role(_)
            | Config::Repository(_)
            | Config::Bucket(_)
            | Config::Function(_)
            | Config::Gateway(_)
            | Config::Runtime(_)
            | Config::Memory(_) => None,
        }
    }

    /// `parent/name` for children, else the name: what plans show.
    pub fn display_name(&self) -> String {
        match self.parent_name() {
            Some(p) => format!("{p}/{}", self.name()),
            None => self.name().to_string(),
        }
    }

    pub fn delete_options(&self) -> DeleteOptions {
        match self {
            Config::Repository(c) => DeleteOptions {
                force: c.force_delete,
            },
            Config::Role(_)
            | Config::RolePolicy(_)
            | Config::Bucket(_)
            | Config::Function(_)
            | Config::Gateway(_)
            | Config::Target(_)
            | Config::Runtime(_)
            | Config::Endpoint(_)
            | Config::Memory(_) => DeleteOptions::default(),
        }
    }

    /// The same config with every reference `lookup` knows now filled in.
    pub fn fill(&self, l: &dyn Lookup) -> Config {
        match self {
            Config::RolePolicy(c) => Config::RolePolicy(RolePolicyConfig {
                document: c.document.fill(l),
                ..c.clone()
            }),
            Config::Function(c) => Config::Function(FunctionConfig {
                environment: fill_env(&c.environment, l),
                ..c.clone()
            }),
            Config::Runtime(c) => Config::Runtime(RuntimeConfig {
                environment: fill_env(&c.environment, l),
                ..c.clone()
            }),
            Config::Endpoint(c) => Config::Endpoint(EndpointConfig {
                version: c.version.fill(l),
                ..c.clone()
            }),
            Config::Role(_)
            | Config::Repository(_)
            | Config::Bucket(_)
            | Config::Gateway(_)
            | Config::Target(_)
            | Config::Memory(_) => self.clone(),
        }
    }

    /// The fields that still hold unknown values.
    pub fn unknown_fields(&self) -> Vec<&'static str> {
        self.attrs()
            .into_iter()
            .filter(|(_, v)| v.has_unknown())
            .map(|(k, _)| k)
            .collect()
    }

    /// The managed fields, flattened for diffing and display.
    pub fn attrs(&self) -> BTreeMap<&'static str, Val> {
        let mut a: BTreeMap<&'static str, Val> = BTreeMap::new();
        match self {
            Config::Role(c) => {
                a.insert("name", (&c.name).into());
                a.insert("path", (&c.path).into());
                a.insert("description", (&c.description).into());
                a.insert("assume_role_policy", (&c.trust_policy).into());
                a.insert("tags", c.tags.clone().into());
                let list = |v: &Vec<String>| Val::List(v.iter().map(Val::from).collect());
                a.insert(
                    "inline_policies_not_in_spec",
                    list(&c.other_inline_policies),
                );
                a.insert("managed_policies_not_in_spec", list(&c.managed_policies));
            }
            Config::RolePolicy(c) => {
                a.insert("role", (&c.role).into());
                a.insert("name", (&c.name).into());
                a.insert("policy", c.document.clone());
            }
            Config::Repository(c) => {
                a.insert("name", (&c.name).into());
                a.insert("scan_on_push", c.scan_on_push.into());
                a.insert("image_tag_mutability", (&c.tag_mutability).into());
                a.insert("tags", c.tags.clone().into());
                a.insert("repository_policy", c.policy.clone());
            }
            Config::Bucket(c) => {
                a.insert("name", (&c.name).into());
                a.insert("versioning", c.versioning.into());
                a.insert("public_access_blocked", c.public_access_blocked.into());
                a.insert("tags", c.tags.clone().into());
            }
            Config::Function(c) => {
                a.insert("name", (&c.name).into());
                a.insert("runtime", (&c.runtime).into());
                a.insert("handler", (&c.handler).into());
                a.insert("memory", c.memory.into());
                a.insert("timeout", c.timeout.into());
                a.insert("architecture", (&c.architecture).into());
                a.insert("description", (&c.description).into());
                a.insert("role", (&c.role_arn).into());
                a.insert("environment", c.environment.clone().into());
                a.insert("code_sha256", (&c.code_sha256).into());
                a.insert("tags", c.tags.clone().into());
                a.insert("resource_policy", c.resource_policy.clone());
            }
            Config::Gateway(c) => {
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("role", (&c.role_arn).into());
                let (ty, conf) = authorizer_attrs(&c.authorizer);
                a.insert("authorizer_type", ty.into());
                a.insert("authorizer_configuration", conf);
                a.insert("protocol_type", (&c.protocol_type).into());
                a.insert(
                    "search_type",
                    if c.semantic_search {
                        "SEMANTIC".into()
                    } else {
                        Val::Null
                    },
                );
                a.insert("tags", c.tags.clone().into());
            }
            Config::Target(c) => {
                a.insert("gateway", (&c.gateway).into());
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("lambda_arn", (&c.lambda_arn).into());
                a.insert("credential_provider", (&c.credential_provider).into());
                let tools: Vec<Value> = c
                    .tools
                    .iter()
                    .map(|t| {
                        let mut o = serde_json::json!({"name": t.name, "description": t.description, "input": t.input});
                        if let Some(out) = &t.output {
                            o["output"] = Value::clone(out);
                        }
                        o
                    })
                    .collect();
                a.insert("tools", Value::Array(tools).into());
            }
            Config::Runtime(c) => {
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("role", (&c.role_arn).into());
                match &c.artifact {
                    RuntimeArtifact::Container { uri, .. } => {
                        a.insert("artifact_type", "container".into());
                        a.insert("container_uri", uri.into());
                    }
                    RuntimeArtifact::Code {
                        runtime,
                        entry_point,
                        ..
                    } => {
                        a.insert("artifact_type", "code".into());
                        a.insert(
                            "code_location",
                            c.artifact.code_location().unwrap_or_default().into(),
                        );
                        a.insert("code_runtime", runtime.into());
                        a.insert(
                            "entry_point",
                            Val::List(entry_point.iter().map(Val::from).collect()),
                        );
                    }
                }
                a.insert("network_mode", (&c.network_mode).into());
                let list = |v: &Vec<String>| Val::List(v.iter().map(Val::from).collect());
                let (subnets, groups) = match &c.vpc {
                    Some(v) => (list(&v.subnets), list(&v.security_groups)),
                    None => (Val::Null, Val::Null),
                };
                a.insert("vpc_subnets", subnets);
                a.insert("vpc_security_groups", groups);
                a.insert("protocol", (&c.protocol).into());
                a.insert("environment", c.environment.clone().into());
                a.insert("idle_runtime_session_timeout", c.idle_timeout.into());
                a.insert("max_lifetime", c.max_lifetime.into());
                a.insert("request_header_allowlist", list(&c.request_headers));
                a.insert(
                    "authorizer_configuration",
                    authorizer_attrs(&c.authorizer).1,
                );
                a.insert("tags", c.tags.clone().into());
            }
            Config::Memory(c) => {
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("event_expiry_duration", c.event_expiry_days.into());
                let strategies: Vec<Value> = c
                    .strategies
                    .iter()
                    .map(|s| serde_json::json!({"type": s.kind, "name": s.name}))
                    .collect();
                a.insert("strategies", Value::Array(strategies).into());
                a.insert("encryption_key_arn", (&c.encryption_key_arn).into());
                a.insert("tags", c.tags.clone().into());
            }
            Config::Endpoint(c) => {
                a.insert("runtime", (&c.runtime).into());
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("version", (&c.version).into());
            }
        }
        a
    }
}

/// `authorizer_type` and `authorizer_configuration` as plans show them.
fn authorizer_attrs(a: &Authorizer) -> (&'static str, Val) {
    match a {
        Authorizer::AwsIam => ("AWS_IAM", Val::Null),
        Authorizer::CustomJwt {
            discovery_url,
            allowed_audiences,
            allowed_clients,
            allowed_scopes,
        } => (
            "CUSTOM_JWT",
            serde_json::json!({"discovery_url": discovery_url, "allowed_audiences": allowed_audiences, "allowed_clients": allowed_clients, "allowed_scopes": allowed_scopes}).into(),
        ),
    }
}

/// The values of an environment, all known (the AWS layer sends only
/// filled-in configs; an unknown value here is a planner bug).
pub fn known_environment(e: &Environment) -> anyhow::Result<BTreeMap<String, String>> {
    e.iter()
        .map(|(k, v)| match v {
            Resolved::Known(s) => Ok((k.clone(), s.clone())),
            Resolved::Unknown(_) => Err(anyhow::anyhow!(
                "internal error: environment variable {k} is not known yet"
            )),
        })
        .collect()
}

/// An environment read back from AWS.
pub fn environment_of<'a>(vars: impl IntoIterator<Item = (&'a String, &'a String)>) -> Environment {
    vars.into_iter()
        .map(|(k, v)| (k.clone(), Resolved::Known(v.clone())))
        .collect()
}
