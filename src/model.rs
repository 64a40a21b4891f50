//! The tool's own picture of resources, shared by planner, executor and the
//! AWS layer: a closed set of kinds, the configuration agentform manages for
//! each, and what was read back from the account.
//!
//! Desired and observed configurations use the same types, so the diff is a
//! field-by-field comparison of two [`Config`]s. Adding a kind to [`Kind`] /
//! [`Config`] fails to compile until every `match` handles it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// Placeholder for a value that only exists after apply (e.g. the URL of a
/// gateway not yet created).
pub const UNKNOWN: &str = "(known after apply)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Role,
    RolePolicy,
    Repository,
    Function,
    Gateway,
    GatewayTarget,
    Runtime,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Role,
        Kind::RolePolicy,
        Kind::Repository,
        Kind::Function,
        Kind::Gateway,
        Kind::GatewayTarget,
        Kind::Runtime,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Role => "iam_role",
            Kind::RolePolicy => "iam_role_policy",
            Kind::Repository => "ecr_repository",
            Kind::Function => "lambda_function",
            Kind::Gateway => "gateway",
            Kind::GatewayTarget => "gateway_target",
            Kind::Runtime => "runtime",
        }
    }

    pub fn from_label(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == s)
    }

    /// Deletes run in ascending order of this rank (dependents first).
    pub fn delete_rank(self) -> u8 {
        match self {
            Kind::GatewayTarget | Kind::Runtime => 0,
            Kind::Gateway => 1,
            Kind::Function | Kind::Repository => 2,
            Kind::RolePolicy => 3,
            Kind::Role => 4,
        }
    }

    /// Fields whose change cannot be made in place.
    pub fn forces_replacement(self, field: &str) -> bool {
        match self {
            Kind::Role => matches!(field, "name" | "path"),
            Kind::RolePolicy => matches!(field, "role" | "name"),
            Kind::Repository | Kind::Function | Kind::Runtime => field == "name",
            Kind::Gateway => matches!(field, "name" | "authorizer_type"),
            Kind::GatewayTarget => field == "gateway",
        }
    }
}

/// Logical address of a resource: `gateway.main`, `gateway_target.main/tools`,
/// `iam_role.gateway-main`. Stored in the `agentform:resource` tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: Kind,
    pub name: String,
}

impl Address {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
        }
    }

    pub fn parse(s: &str) -> Option<Address> {
        let (k, n) = s.split_once('.')?;
        Some(Address::new(Kind::from_label(k)?, n))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.label(), self.name)
    }
}

/// Identifiers AWS assigns, known once a resource exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub arn: Option<String>,
    /// Gateway id, target id, runtime id.
    pub id: Option<String>,
    /// Gateway URL, repository URI.
    pub url: Option<String>,
}

pub type Tags = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct RoleConfig {
    pub name: String,
    pub path: String,
    pub trust_policy: Value,
    pub description: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RolePolicyConfig {
    pub role: String,
    pub name: String,
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryConfig {
    pub name: String,
    pub scan_on_push: bool,
    pub tag_mutability: String,
    /// Not an AWS attribute: whether destroy may delete a repository with images.
    pub force_delete: bool,
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

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub memory: i32,
    pub timeout: i32,
    pub architecture: String,
    pub description: String,
    pub role_arn: String,
    pub environment: BTreeMap<String, String>,
    /// Base64 SHA-256 of the zip, as Lambda reports it in `CodeSha256`.
    pub code_sha256: String,
    pub code: Option<Code>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GatewayAuthorizer {
    AwsIam,
    CustomJwt {
        discovery_url: String,
        allowed_audiences: Vec<String>,
        allowed_clients: Vec<String>,
        allowed_scopes: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    pub name: String,
    pub description: String,
    pub role_arn: String,
    pub authorizer: GatewayAuthorizer,
    /// `MCP`.
    pub protocol_type: String,
    pub semantic_search: bool,
    pub tags: Tags,
}

/// One tool of a Lambda target; `input`/`output` are JSON Schema subsets.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub input: Value,
    pub output: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    pub name: String,
    pub description: String,
    pub role_arn: String,
    pub container_uri: String,
    /// `PUBLIC`.
    pub network_mode: String,
    /// `HTTP`, `MCP` or `A2A`.
    pub protocol: String,
    pub environment: BTreeMap<String, String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Config {
    Role(RoleConfig),
    RolePolicy(RolePolicyConfig),
    Repository(RepositoryConfig),
    Function(FunctionConfig),
    Gateway(GatewayConfig),
    Target(TargetConfig),
    Runtime(RuntimeConfig),
}

fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

impl Config {
    pub fn kind(&self) -> Kind {
        match self {
            Config::Role(_) => Kind::Role,
            Config::RolePolicy(_) => Kind::RolePolicy,
            Config::Repository(_) => Kind::Repository,
            Config::Function(_) => Kind::Function,
            Config::Gateway(_) => Kind::Gateway,
            Config::Target(_) => Kind::GatewayTarget,
            Config::Runtime(_) => Kind::Runtime,
        }
    }

    /// The managed fields, flattened for diffing and display.
    pub fn attrs(&self) -> BTreeMap<&'static str, Value> {
        use serde_json::json;
        let mut a = BTreeMap::new();
        match self {
            Config::Role(c) => {
                a.insert("name", json!(c.name));
                a.insert("path", json!(c.path));
                a.insert("description", json!(c.description));
                a.insert("assume_role_policy", c.trust_policy.clone());
                a.insert("tags", map_value(&c.tags));
            }
            Config::RolePolicy(c) => {
                a.insert("role", json!(c.role));
                a.insert("name", json!(c.name));
                a.insert("policy", c.document.clone());
            }
            Config::Repository(c) => {
                a.insert("name", json!(c.name));
                a.insert("scan_on_push", json!(c.scan_on_push));
                a.insert("image_tag_mutability", json!(c.tag_mutability));
                a.insert("tags", map_value(&c.tags));
            }
            Config::Function(c) => {
                a.insert("name", json!(c.name));
                a.insert("runtime", json!(c.runtime));
                a.insert("handler", json!(c.handler));
                a.insert("memory", json!(c.memory));
                a.insert("timeout", json!(c.timeout));
                a.insert("architecture", json!(c.architecture));
                a.insert("description", json!(c.description));
                a.insert("role", json!(c.role_arn));
                a.insert("environment", map_value(&c.environment));
                a.insert("code_sha256", json!(c.code_sha256));
                a.insert("tags", map_value(&c.tags));
            }
            Config::Gateway(c) => {
                a.insert("name", json!(c.name));
                a.insert("description", json!(c.description));
                a.insert("role", json!(c.role_arn));
                let (ty, conf) = match &c.authorizer {
                    GatewayAuthorizer::AwsIam => ("AWS_IAM", Value::Null),
                    GatewayAuthorizer::CustomJwt {
                        discovery_url,
                        allowed_audiences,
                        allowed_clients,
                        allowed_scopes,
                    } => (
                        "CUSTOM_JWT",
                        json!({"discovery_url": discovery_url, "allowed_audiences": allowed_audiences, "allowed_clients": allowed_clients, "allowed_scopes": allowed_scopes}),
                    ),
                };
                a.insert("authorizer_type", json!(ty));
                a.insert("authorizer_configuration", conf);
                a.insert("protocol_type", json!(c.protocol_type));
                a.insert(
                    "search_type",
                    if c.semantic_search {
                        json!("SEMANTIC")
                    } else {
                        Value::Null
                    },
                );
                a.insert("tags", map_value(&c.tags));
            }
            Config::Target(c) => {
                a.insert("gateway", json!(c.gateway));
                a.insert("name", json!(c.name));
                a.insert("description", json!(c.description));
                a.insert("lambda_arn", json!(c.lambda_arn));
                a.insert("credential_provider", json!(c.credential_provider));
                a.insert(
                    "tools",
                    Value::Array(
                        c.tools
                            .iter()
                            .map(|t| {
                                let mut o = json!({"name": t.name, "description": t.description, "input": t.input});
                                if let Some(out) = &t.output {
                                    o["output"] = out.clone();
                                }
                                o
                            })
                            .collect(),
                    ),
                );
            }
            Config::Runtime(c) => {
                a.insert("name", json!(c.name));
                a.insert("description", json!(c.description));
                a.insert("role", json!(c.role_arn));
                a.insert("container_uri", json!(c.container_uri));
                a.insert("network_mode", json!(c.network_mode));
                a.insert("protocol", json!(c.protocol));
                a.insert("environment", map_value(&c.environment));
                a.insert("tags", map_value(&c.tags));
            }
        }
        a
    }
}

/// A resource the spec wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub addr: Address,
    /// Resources that must exist (and be current) before this one.
    pub deps: Vec<Address>,
    pub config: Config,
}

/// Whose a resource found in the account is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Tagged for this project, with its logical address.
    Ours(Address),
    /// Tagged by agentform for another project.
    OtherProject(String),
    /// No agentform tags: never touched.
    Foreign,
}

/// A resource read back from the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub kind: Kind,
    /// Physical name (for targets: the target name; `parent` has the gateway).
    pub name: String,
    /// Physical name of the parent (gateway of a target, role of a policy).
    pub parent: Option<String>,
    pub ids: Ids,
    /// Parent's ids (gateway id of a target).
    pub parent_ids: Ids,
    /// Service status for asynchronous resources (`READY`, `CREATING`, ...).
    pub status: Option<String>,
    pub status_reasons: Vec<String>,
    pub owner: Owner,
    pub config: Config,
}

/// Account facts every derived name and ARN needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub region: String,
    pub partition: String,
}

impl Account {
    pub fn role_arn(&self, path: &str, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:role{}{}",
            self.partition, self.id, path, name
        )
    }
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.id, name
        )
    }
    pub fn repository_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:ecr:{}:{}:repository/{}",
            self.partition, self.region, self.id, name
        )
    }
    pub fn repository_uri(&self, name: &str) -> String {
        let suffix = if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("{}.dkr.ecr.{}.{}/{}", self.id, self.region, suffix, name)
    }
}

/// Where the AWS layer reports progress of slow operations (waiting for a
/// status, retrying after IAM propagation). Implemented by the CLI.
pub trait Progress: Send + Sync {
    fn note(&self, addr: &Address, message: &str);
}

/// A progress sink that drops everything (tests, quiet mode).
pub struct NoProgress;

impl Progress for NoProgress {
    fn note(&self, _addr: &Address, _message: &str) {}
}

/// What plan needs to look up in the account: one entry per desired
/// resource (kind, physical name, parent's physical name for targets and
/// policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub kind: Kind,
    pub name: String,
    pub parent: Option<String>,
}
