//! The spec: what the user wrote, as typed data.
//!
//! Loading runs in stages, each collecting every problem it finds:
//! 1. `yaml` parses the text into JSON plus a pointer -> source range index
//!    (a syntax error stops here; duplicate keys do not).
//! 2. `schema` checks the structure against the published JSON Schema
//!    (`schema/agentform.schema.json`, also usable by editors), and repairs
//!    a copy of the value so that the next stages can still run.
//! 3. `interpolate` substitutes `${var.*}` and `${env:*}`.
//! 4. serde turns the JSON into the types below.
//! 5. `validate` checks meaning: names, references, cycles, paths.
//!
//! `validate` therefore reports every problem of a spec in one run; a later
//! stage's finding inside something an earlier stage reported is dropped.

pub mod documents;
pub mod interpolate;
pub mod refs;
pub mod schema;
pub mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::diag::Diagnostic;
use yaml::SourceMap;

pub const SPEC_VERSION: u64 = 1;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub version: u64,
    pub project: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Client-side rate limits set per API (IAM-style name -> requests a
    /// second), for an account whose quotas were raised.
    #[serde(default)]
    pub rates: BTreeMap<String, u32>,
    /// Principals that may assume the runtimes' roles, to verify them.
    #[serde(default)]
    pub verify_principals: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSpec>,
    #[serde(default)]
    pub functions: BTreeMap<String, FunctionSpec>,
    #[serde(default)]
    pub gateways: BTreeMap<String, GatewaySpec>,
    #[serde(default)]
    pub repositories: BTreeMap<String, Option<RepositorySpec>>,
    #[serde(default)]
    pub runtimes: BTreeMap<String, RuntimeSpec>,
    /// AgentCore Memory resources.
    #[serde(default)]
    pub memories: BTreeMap<String, MemorySpec>,
    /// Outbound credentials targets refer to by key.
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialSpec>,
    /// AgentCore Policy engines and their Cedar policies.
    #[serde(default)]
    pub policy_engines: BTreeMap<String, PolicyEngineSpec>,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// Masked in every output (plan, JSON, errors, logs).
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    /// An existing execution role (ARN) instead of the one agentform derives.
    #[serde(default)]
    pub role: Option<String>,
    pub source: String,
    /// Allows `source` to resolve outside the spec file's directory.
    #[serde(default)]
    pub source_outside_project: bool,
    pub runtime: String,
    pub handler: String,
    #[serde(default)]
    pub memory: Option<i32>,
    #[serde(default)]
    pub timeout: Option<i32>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

/// The defaults below are applied when the desired state is built
/// (`plan::desired`); the schema states each as its field's `default`.
impl FunctionSpec {
    pub const DEFAULT_MEMORY: i32 = 128;
    pub const DEFAULT_TIMEOUT: i32 = 30;
    pub const DEFAULT_ARCHITECTURE: &str = "x86_64";
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    #[serde(default)]
    pub description: Option<String>,
    /// An existing service role (ARN) instead of the one agentform derives.
    #[serde(default)]
    pub role: Option<String>,
    pub authorizer: AuthorizerSpec,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub targets: BTreeMap<String, TargetSpec>,
    /// Lambda functions of the spec the gateway calls on each request or
    /// response (AgentCore allows [`GatewaySpec::MAX_INTERCEPTORS`]).
    #[serde(default)]
    pub interceptors: Vec<InterceptorSpec>,
    /// The policy engine (a key of `policy_engines`) that authorizes every
    /// tool call, enforcing its decisions or only logging them.
    #[serde(default)]
    pub policy_engine: Option<GatewayEngineSpec>,
    /// What the gateway does when AWS WAF cannot be evaluated: `fail_open`
    /// or `fail_close` (UpdateGateway only: set right after create).
    #[serde(default)]
    pub waf: Option<String>,
    /// A function of this spec that transforms requests and responses
    /// (UpdateGateway only: set right after create).
    #[serde(default)]
    pub transform: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum GatewayEngineSpec {
    /// An engine's key: its decisions are enforced.
    Key(String),
    Full(GatewayEngineFullSpec),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewayEngineFullSpec {
    pub engine: String,
    /// `enforce` (default) or `log_only`.
    #[serde(default)]
    pub mode: Option<String>,
}

impl GatewayEngineSpec {
    pub fn engine(&self) -> &str {
        match self {
            GatewayEngineSpec::Key(k) => k,
            GatewayEngineSpec::Full(f) => &f.engine,
        }
    }
    /// `ENFORCE` or `LOG_ONLY`, as the API spells it.
    pub fn api_mode(&self) -> String {
        match self {
            GatewayEngineSpec::Key(_) => "ENFORCE".into(),
            GatewayEngineSpec::Full(f) => {
                f.mode.as_deref().unwrap_or("enforce").to_ascii_uppercase()
            }
        }
    }
}

/// A policy engine: Cedar policies that permit or forbid tool calls.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyEngineSpec {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// A `.cedar` file in the project, or `{inline: ...}`.
    pub cedar: CedarSpec,
    #[serde(default)]
    pub description: Option<String>,
    /// `active` (default) or `log_only`.
    #[serde(default)]
    pub enforcement: Option<String>,
    /// `strict` (default: refused when the analyzer finds anything) or
    /// `ignore_findings`.
    #[serde(default)]
    pub validation: Option<String>,
}

impl PolicySpec {
    pub fn api_enforcement(&self) -> String {
        self.enforcement
            .as_deref()
            .unwrap_or("active")
            .to_ascii_uppercase()
    }
    pub fn api_validation(&self) -> &'static str {
        match self.validation.as_deref() {
            Some("ignore_findings") => "IGNORE_ALL_FINDINGS",
            _ => "FAIL_ON_ANY_FINDINGS",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum CedarSpec {
    /// A `.cedar` file, relative to the spec.
    File(String),
    Inline(InlineCedarSpec),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InlineCedarSpec {
    pub inline: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InterceptorSpec {
    /// A function of this spec.
    pub function: String,
    /// `request`, `response` or both.
    pub on: Vec<String>,
    /// Pass the request's headers to the function (default false).
    #[serde(default)]
    pub pass_headers: bool,
}

impl GatewaySpec {
    /// Interceptors a gateway may have (CreateGateway's limit).
    pub const MAX_INTERCEPTORS: usize = 2;

    pub fn semantic_search(&self) -> bool {
        self.search.as_deref() == Some("semantic")
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AuthorizerSpec {
    /// `aws_iam` (the only string form the schema admits).
    Named(String),
    CustomJwt {
        custom_jwt: CustomJwtSpec,
    },
    /// Gateways only: agentform makes and owns the Cognito user pool and
    /// an app client per calling runtime.
    CognitoM2m {
        cognito_m2m: CognitoM2mSpec,
    },
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CognitoM2mSpec {
    /// The scopes of the gateway's resource server; every calling runtime's
    /// client gets all of them (default `[invoke]`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl CognitoM2mSpec {
    pub const DEFAULT_SCOPE: &str = "invoke";

    pub fn scopes(&self) -> Vec<String> {
        let mut v = self
            .scopes
            .clone()
            .unwrap_or_else(|| vec![Self::DEFAULT_SCOPE.to_string()]);
        v.sort();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomJwtSpec {
    pub discovery_url: String,
    #[serde(default)]
    pub allowed_audiences: Vec<String>,
    #[serde(default)]
    pub allowed_clients: Vec<String>,
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
}

/// A gateway target: exactly one of `function`, `lambda_arn`, `openapi`,
/// `smithy`, `mcp_server`, `api_gateway` says what it exposes (validate
/// checks that one is given).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// A function of this spec (its key under `functions`).
    #[serde(default)]
    pub function: Option<String>,
    /// A Lambda function outside the spec, by ARN.
    #[serde(default)]
    pub lambda_arn: Option<String>,
    /// The tools of a Lambda target: a list, or a JSON/YAML file in the
    /// project holding one (AgentCore's tool definition format).
    #[serde(default)]
    pub tools: Option<ToolsSpec>,
    #[serde(default)]
    pub openapi: Option<ApiSchemaSpec>,
    #[serde(default)]
    pub smithy: Option<ApiSchemaSpec>,
    #[serde(default)]
    pub mcp_server: Option<McpServerSpec>,
    #[serde(default)]
    pub api_gateway: Option<ApiGatewaySpec>,
    /// Outbound auth (default: the gateway's role for Lambda, Smithy and
    /// API Gateway targets; none for MCP servers).
    #[serde(default)]
    pub credentials: Option<TargetCredentialSpec>,
    #[serde(default)]
    pub description: Option<String>,
}

impl TargetSpec {
    /// The fields that say what a target exposes, with whether each is set.
    pub fn kinds(&self) -> [(&'static str, bool); 6] {
        [
            ("function", self.function.is_some()),
            ("lambda_arn", self.lambda_arn.is_some()),
            ("openapi", self.openapi.is_some()),
            ("smithy", self.smithy.is_some()),
            ("mcp_server", self.mcp_server.is_some()),
            ("api_gateway", self.api_gateway.is_some()),
        ]
    }

    /// Inline tools (empty for a tools file or a target without tools).
    pub fn inline_tools(&self) -> &[ToolSpec] {
        match &self.tools {
            Some(ToolsSpec::Inline(t)) => t,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ToolsSpec {
    Inline(Vec<ToolSpec>),
    /// A file, relative to the spec.
    File(String),
}

/// An OpenAPI document or Smithy model.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ApiSchemaSpec {
    /// A JSON or YAML file, relative to the spec.
    File(String),
    S3(S3SchemaSpec),
    Inline(InlineSchemaSpec),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3SchemaSpec {
    /// `s3://bucket/key`.
    pub s3: String,
    /// The bucket owner's account id, when it is not this account.
    #[serde(default)]
    pub bucket_owner: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InlineSchemaSpec {
    pub inline: std::sync::Arc<Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum McpServerSpec {
    /// The server's `https://` endpoint.
    Endpoint(String),
    Full(McpServerFullSpec),
}

impl McpServerSpec {
    pub fn endpoint(&self) -> &str {
        match self {
            McpServerSpec::Endpoint(e) => e,
            McpServerSpec::Full(f) => &f.endpoint,
        }
    }
    /// `DEFAULT`/`DYNAMIC`, empty when not set.
    pub fn listing_mode(&self) -> String {
        match self {
            McpServerSpec::Full(McpServerFullSpec {
                listing: Some(l), ..
            }) => l.to_ascii_uppercase(),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpServerFullSpec {
    pub endpoint: String,
    /// `default` (tools listed once, when the target is created or
    /// synchronized) or `dynamic` (listed from the server on each request).
    #[serde(default)]
    pub listing: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiGatewaySpec {
    /// The REST API's id.
    pub rest_api: String,
    pub stage: String,
    /// Which paths and methods become tools.
    pub tools: Vec<ApiToolFilterSpec>,
    /// Names and descriptions for operations' tools.
    #[serde(default)]
    pub overrides: Vec<ApiToolOverrideSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiToolFilterSpec {
    /// A resource path, e.g. `/pets` or `/pets/*`.
    pub path: String,
    pub methods: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiToolOverrideSpec {
    pub path: String,
    pub method: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A target's outbound auth.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum TargetCredentialSpec {
    /// `gateway_iam_role` or `none`.
    Named(String),
    ApiKey(ApiKeyUseSpec),
    OAuth(OAuthUseSpec),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyUseSpec {
    /// A key under the top-level `credentials`.
    pub api_key: String,
    /// `header` (default) or `query_parameter`.
    #[serde(default)]
    pub location: Option<String>,
    /// The header or query parameter name.
    #[serde(default)]
    pub name: Option<String>,
    /// Put before the key, e.g. `Bearer`.
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthUseSpec {
    /// A key under the top-level `credentials`.
    pub oauth: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// `client_credentials` (machine to machine) or `authorization_code`
    /// (a user's consent).
    #[serde(default)]
    pub grant_type: Option<String>,
}

/// An outbound credential: an AgentCore Identity credential provider.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum CredentialSpec {
    ApiKey(ApiKeySpec),
    OAuth(OAuthSpec),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// The key, from `${env:...}` or a sensitive variable (never written
    /// in the spec).
    pub api_key: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthSpec {
    pub oauth: OAuthClientSpec,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientSpec {
    /// A vendor AgentCore knows (`github`, `google`, `slack`, ...); `custom`
    /// (the default) needs `discovery_url`.
    #[serde(default)]
    pub vendor: Option<String>,
    /// The authorization server's OpenID discovery URL (custom vendor).
    #[serde(default)]
    pub discovery_url: Option<String>,
    pub client_id: String,
    /// From `${env:...}` or a sensitive variable.
    pub client_secret: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// Shared with the desired state built from the spec (a large spec's
    /// schemas are held once).
    pub input: std::sync::Arc<Value>,
    #[serde(default)]
    pub output: Option<std::sync::Arc<Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepositorySpec {
    #[serde(default)]
    pub scan_on_push: Option<bool>,
    #[serde(default)]
    pub image_tag_mutability: Option<String>,
    #[serde(default)]
    pub force_delete: Option<bool>,
}

impl RepositorySpec {
    pub const DEFAULT_IMAGE_TAG_MUTABILITY: &str = "MUTABLE";
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSpec {
    #[serde(default)]
    pub description: Option<String>,
    /// An existing execution role (ARN) instead of the one agentform derives.
    #[serde(default)]
    pub role: Option<String>,
    pub artifact: ArtifactSpec,
    #[serde(default)]
    pub network: Option<NetworkSpec>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Session lifetimes, seconds.
    #[serde(default)]
    pub lifecycle: Option<LifecycleSpec>,
    /// Request headers passed through to the agent.
    #[serde(default)]
    pub request_headers: Vec<String>,
    /// Inbound auth (`aws_iam` when unset).
    #[serde(default)]
    pub authorizer: Option<AuthorizerSpec>,
    #[serde(default)]
    pub invoke_gateways: Vec<String>,
    /// The gateway tools this runtime may call (`GATEWAY.TARGET___TOOL`, or
    /// `GATEWAY.TARGET` for all of a target's); empty: no per-tool limit.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Bedrock models and inference profiles the runtime may invoke (ids or
    /// ARNs); `None`: every foundation model and the account's Bedrock
    /// resources in the region (see `plan::policy::model_resources`).
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// Named endpoints (AWS's own `DEFAULT` endpoint is never managed).
    #[serde(default)]
    pub endpoints: BTreeMap<String, Option<EndpointSpec>>,
}

impl RuntimeSpec {
    pub const DEFAULT_NETWORK: &str = "PUBLIC";
    pub const DEFAULT_PROTOCOL: &str = "HTTP";

    /// The VPC settings, in VPC mode.
    pub fn vpc(&self) -> Option<&VpcSpec> {
        match &self.network {
            Some(NetworkSpec::Vpc { vpc }) => Some(vpc),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemorySpec {
    #[serde(default)]
    pub description: Option<String>,
    /// Days short-term events are kept (7 to 365; default 90).
    #[serde(default)]
    pub event_expiry_days: Option<i64>,
    /// Long-term memory strategies.
    #[serde(default)]
    pub strategies: Vec<StrategySpec>,
    /// A customer-managed KMS key ARN.
    #[serde(default)]
    pub encryption_key: Option<String>,
}

impl MemorySpec {
    pub const DEFAULT_EVENT_EXPIRY_DAYS: i64 = 90;
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// `semantic`, `summary` or `user_preference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Default: the type.
    #[serde(default)]
    pub name: Option<String>,
}

impl StrategySpec {
    /// The spec's strategy types and AgentCore's.
    pub const TYPES: &[(&str, &str)] = &[
        ("semantic", "SEMANTIC"),
        ("summary", "SUMMARIZATION"),
        ("user_preference", "USER_PREFERENCE"),
    ];

    pub fn api_type(&self) -> &'static str {
        Self::TYPES
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map(|(_, v)| *v)
            .unwrap_or("SEMANTIC")
    }

    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.kind.clone())
    }
}

/// `network: PUBLIC`, or `network: { vpc: { subnets, security_groups } }`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum NetworkSpec {
    /// `PUBLIC` (the only string form the schema admits).
    Named(String),
    Vpc {
        vpc: VpcSpec,
    },
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VpcSpec {
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSpec {
    /// Seconds an idle session lives.
    #[serde(default)]
    pub idle_timeout: Option<i64>,
    /// Seconds a session lives at most.
    #[serde(default)]
    pub max_lifetime: Option<i64>,
}

impl LifecycleSpec {
    /// AgentCore's bounds for both, seconds.
    pub const MIN: i64 = 60;
    pub const MAX: i64 = 1_209_600;
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    #[serde(default)]
    pub version: Option<EndpointVersion>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Which runtime version an endpoint serves.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum EndpointVersion {
    /// A pinned version number.
    Pinned(u64),
    /// `latest` (the only string the schema admits): each new version.
    Latest(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ArtifactSpec {
    Image(String),
    Container(ContainerSpec),
    /// A directory of agent code, deployed as a code bundle from S3.
    Code(CodeSpec),
}

/// AgentCore direct code deployment: the directory is zipped with its
/// dependencies and uploaded to the project's bucket.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CodeSpec {
    /// The agent's directory, relative to the spec file.
    pub source: String,
    /// The file the runtime starts (relative to `source`), or a command
    /// and that file (`[opentelemetry-instrument, app.py]`).
    pub entry_point: EntryPoint,
    /// `python3.10` ... `python3.14`, `nodejs22`.
    pub runtime: String,
    /// A pip requirements file inside `source`, installed for Linux ARM64.
    #[serde(default)]
    pub requirements: Option<String>,
    #[serde(default)]
    pub source_outside_project: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum EntryPoint {
    One(String),
    Many(Vec<String>),
}

impl EntryPoint {
    pub fn parts(&self) -> Vec<String> {
        match self {
            EntryPoint::One(s) => vec![s.clone()],
            EntryPoint::Many(v) => v.clone(),
        }
    }
}

impl CodeSpec {
    /// The spec's runtime names and AgentCore's.
    pub const RUNTIMES: &[(&str, &str)] = &[
        ("python3.10", "PYTHON_3_10"),
        ("python3.11", "PYTHON_3_11"),
        ("python3.12", "PYTHON_3_12"),
        ("python3.13", "PYTHON_3_13"),
        ("python3.14", "PYTHON_3_14"),
        ("nodejs22", "NODE_22"),
    ];

    /// AgentCore's name of the runtime (`PYTHON_3_12`), when supported.
    pub fn api_runtime(&self) -> Option<&'static str> {
        Self::RUNTIMES
            .iter()
            .find(|(k, _)| *k == self.runtime)
            .map(|(_, v)| *v)
    }

    /// `3.12` for a Python runtime.
    pub fn python_version(&self) -> Option<&str> {
        self.runtime.strip_prefix("python")
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    pub repository: String,
    #[serde(default)]
    pub tag: Option<String>,
    /// Build the image from a context (instead of a pushed tag).
    #[serde(default)]
    pub build: Option<BuildSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// The build context, relative to the spec file.
    pub context: String,
    /// Relative to the context (default `Dockerfile`).
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub source_outside_project: bool,
}

impl BuildSpec {
    pub fn dockerfile(&self) -> &str {
        self.dockerfile.as_deref().unwrap_or("Dockerfile")
    }
}

/// A spec that passed every check, with what is needed to point back at it.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: Spec,
    /// Path as given by the user (for messages).
    pub path: PathBuf,
    /// Directory that relative paths in the spec are resolved against.
    pub dir: PathBuf,
    pub source: String,
    /// Where each value sits in `source` (after a successful load, down to
    /// the tools of a target, not inside their schemas).
    pub map: SourceMap,
    /// SHA-256 of the spec as JSON after variable substitution (a saved
    /// plan is stale when it changes); the JSON itself is not kept.
    pub resolved_sha256: String,
    /// The files targets name (tool lists, OpenAPI, Smithy); none are read
    /// when the spec is loaded with [`Paths::Ignore`].
    pub documents: documents::Documents,
}

impl LoadedSpec {
    /// `file:line:col` of the spec entry a resource comes from (a derived
    /// role or policy: the entry it serves).
    pub fn locate(&self, addr: &crate::model::Address) -> Option<String> {
        use crate::model::{Address, RoleOwner};
        use yaml::escape as e;
        let owner = |o: &RoleOwner, k: &str| match o {
            RoleOwner::Function => format!("/functions/{}", e(k)),
            RoleOwner::Gateway => format!("/gateways/{}", e(k)),
            RoleOwner::Runtime => format!("/runtimes/{}", e(k)),
        };
        let pointer = match addr {
            Address::Role(o, k) | Address::RolePolicy(o, k) => owner(o, k),
            Address::Repository(k) => format!("/repositories/{}", e(k)),
            // Made for the first runtime with a code artifact.
            Address::Bucket(_) => {
                let (k, _) = self
                    .spec
                    .runtimes
                    .iter()
                    .find(|(_, r)| matches!(r.artifact, ArtifactSpec::Code(_)))?;
                format!("/runtimes/{}/artifact/code", e(k))
            }
            Address::Function(k) => format!("/functions/{}", e(k)),
            Address::Gateway(k) => format!("/gateways/{}", e(k)),
            Address::GatewayTarget { gateway, target } => {
                format!("/gateways/{}/targets/{}", e(gateway), e(target))
            }
            Address::Runtime(k) => format!("/runtimes/{}", e(k)),
            Address::Memory(k) => format!("/memories/{}", e(k)),
            Address::ApiKeyProvider(k) | Address::OAuthProvider(k) => {
                format!("/credentials/{}", e(k))
            }
            Address::RuntimeEndpoint { runtime, endpoint } => {
                format!("/runtimes/{}/endpoints/{}", e(runtime), e(endpoint))
            }
            Address::PolicyEngine(k) => format!("/policy_engines/{}", e(k)),
            Address::Policy { engine, policy } => {
                format!("/policy_engines/{}/policies/{}", e(engine), e(policy))
            }
            Address::UserPool(g) => format!("/gateways/{}/authorizer", e(g)),
            // Made for a runtime that lists the gateway.
            Address::M2mClient { runtime, .. } => format!("/runtimes/{}", e(runtime)),
        };
        let place = self.map.get(&pointer)?;
        let start = place.key.clone().unwrap_or(place.value.clone()).start;
        let d = Diagnostic::new("", start..start);
        let (line, col) = d.line_col(&self.source)?;
        Some(format!("{}:{line}:{col}", self.path.display()))
    }

    /// The tools a target offers, when the spec says (inline tools, a
    /// tools file, an OpenAPI document's operations); `None` when only the
    /// service knows (an MCP server, an API Gateway stage, S3, Smithy).
    /// Whether the spec says which tools `t` has (a Lambda target's list,
    /// an OpenAPI document in the project or inline), whether or not its
    /// documents were read this run.
    pub fn tools_in_spec(t: &TargetSpec) -> bool {
        t.tools.is_some()
            || matches!(
                t.openapi,
                Some(ApiSchemaSpec::File(_) | ApiSchemaSpec::Inline(_))
            )
    }

    pub fn tool_names(&self, t: &TargetSpec) -> Option<Vec<String>> {
        let doc = |f: &str| self.documents.get(f).map(|d| d.value.clone());
        if let Some(tools) = &t.tools {
            return Some(match tools {
                ToolsSpec::Inline(list) => list.iter().map(|x| x.name.clone()).collect(),
                ToolsSpec::File(f) => documents::tool_file(&*doc(f)?)
                    .0
                    .into_iter()
                    .map(|x| x.name)
                    .collect(),
            });
        }
        match t.openapi.as_ref()? {
            ApiSchemaSpec::File(f) => Some(documents::openapi_tools(&*doc(f)?)),
            ApiSchemaSpec::Inline(i) => Some(documents::openapi_tools(&i.inline)),
            ApiSchemaSpec::S3(_) => None,
        }
    }

    /// Absolute-or-relative path of a function's source directory.
    pub fn function_dir(&self, f: &FunctionSpec) -> PathBuf {
        self.dir.join(&f.source)
    }

    /// A container build's context directory.
    pub fn context_dir(&self, b: &BuildSpec) -> PathBuf {
        self.dir.join(&b.context)
    }

    /// A code runtime's source directory.
    pub fn code_dir(&self, c: &CodeSpec) -> PathBuf {
        self.dir.join(&c.source)
    }
}

/// Why a spec could not be loaded: problems to render against `source`.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    pub fn render(&self, color: bool) -> String {
        crate::diag::render_all(
            &self.diagnostics,
            &self.path.display().to_string(),
            &self.source,
            color,
        )
    }

    /// The problems as JSON diagnostics, in source order.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        let mut sorted: Vec<&Diagnostic> = self.diagnostics.iter().collect();
        sorted.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
        let path = self.path.display().to_string();
        sorted
            .iter()
            .map(|d| d.to_json(&path, &self.source))
            .collect()
    }
}

/// Values for the spec's variables from outside it. Precedence, highest
/// first: `--var NAME=VALUE`, the environment variable `AGENTFORM_VAR_NAME`,
/// `--var-file FILE`, the variable's `default`.
#[derive(Debug, Clone, Default)]
pub struct VarOverrides {
    pub flags: BTreeMap<String, String>,
    pub file: BTreeMap<String, String>,
    /// Where `file` came from (for messages).
    pub file_path: Option<PathBuf>,
}

/// The prefix of environment variables that set spec variables.
pub const VAR_ENV_PREFIX: &str = "AGENTFORM_VAR_";

impl VarOverrides {
    pub fn new() -> Self {
        Self::default()
    }

    /// Only `--var` values.
    pub fn from_flags(flags: impl IntoIterator<Item = (String, String)>) -> Self {
        VarOverrides {
            flags: flags.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The value set for `name` from outside the spec, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        self.flags
            .get(name)
            .cloned()
            .or_else(|| std::env::var(format!("{VAR_ENV_PREFIX}{name}")).ok())
            .or_else(|| self.file.get(name).cloned())
    }

    /// Names set explicitly (flags and the file) with how, for the check that
    /// each names a declared variable. `AGENTFORM_VAR_*` variables are not
    /// listed: the environment may hold some for other specs.
    pub fn explicit(&self) -> Vec<(&str, String)> {
        let file = self
            .file_path
            .as_ref()
            .map_or_else(|| "the var file".to_string(), |p| p.display().to_string());
        self.flags
            .keys()
            .map(|k| (k.as_str(), format!("`--var {k}=...`")))
            .chain(
                self.file
                    .keys()
                    .map(|k| (k.as_str(), format!("`{k}` in {file}"))),
            )
            .collect()
    }

    /// Reads a `--var-file`: a YAML mapping of variable names to scalars.
    ///
    /// Like the spec, only a `*.yaml` or `*.yml` file is read, and no
    /// message shows a line or a value of it (values may be secrets).
    pub fn read_file(&mut self, path: &Path) -> Result<(), String> {
        let bytes = read_yaml_file(path).map_err(|e| match e {
            YamlFileError::Unreadable(e) => {
                format!("cannot read the var file {}: {e}", path.display())
            }
            e => format!("the var file {}", e.describe(path)),
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("the var file {} is not valid UTF-8", path.display()))?;
        let value: Value = serde_saphyr::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            format!("the var file {} is not valid YAML{at}", path.display())
        })?;
        let Value::Object(map) = value else {
            return Err(format!(
                "the var file {} must be a mapping of variable names to values",
                path.display()
            ));
        };
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => {
                    let kind = match other {
                        Value::Array(_) => "a list",
                        Value::Object(_) => "a mapping",
                        _ => "null",
                    };
                    return Err(format!(
                        "variable `{k}` in the var file {} must be a string, number or boolean, not {kind}",
                        path.display()
                    ));
                }
            };
            self.file.insert(k, v);
        }
        self.file_path = Some(path.to_path_buf());
        Ok(())
    }
}

/// Why a file the user named as YAML (the spec, a var file) was not read.
#[derive(Debug)]
pub enum YamlFileError {
    /// It does not exist or cannot be read.
    Unreadable(std::io::Error),
    /// It resolves to a directory, a FIFO, a device, ...
    NotAFile { real: PathBuf },
    /// It resolves to a file not named `*.yaml` or `*.yml`.
    NotYaml { real: PathBuf },
}

impl YamlFileError {
    /// What is wrong with `path`, naming what it links to when that is
    /// another name.
    pub fn describe(&self, path: &Path) -> String {
        let links = |real: &Path| {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if link {
                format!(" (it links to {})", real.display())
            } else {
                String::new()
            }
        };
        match self {
            YamlFileError::Unreadable(e) => format!("cannot read {}: {e}", path.display()),
            YamlFileError::NotAFile { real } => {
                format!("{} is not a regular file{}", path.display(), links(real))
            }
            YamlFileError::NotYaml { real } => {
                format!("{} is not a YAML file{}", path.display(), links(real))
            }
        }
    }
}

/// Reads a file the user named as YAML, but only when it is one: a regular
/// file whose name ends in `.yaml` or `.yml` once symlinks are followed
/// (`agentform.yaml` linking to `/etc/passwd` is not). Anything else is
/// never read, so no message can echo a line of it.
pub fn read_yaml_file(path: &Path) -> Result<Vec<u8>, YamlFileError> {
    let real = std::fs::canonicalize(path).map_err(YamlFileError::Unreadable)?;
    let meta = std::fs::metadata(&real).map_err(YamlFileError::Unreadable)?;
    if !meta.is_file() {
        return Err(YamlFileError::NotAFile { real });
    }
    let yaml = real
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if !yaml {
        return Err(YamlFileError::NotYaml { real });
    }
    std::fs::read(&real).map_err(YamlFileError::Unreadable)
}

/// Reads and checks a spec file.
pub fn load(path: &Path, vars: &VarOverrides) -> Result<LoadedSpec, LoadError> {
    load_with(path, vars, Paths::Check)
}

/// Whether the files a spec points at (function sources) must exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paths {
    /// validate, plan, apply: they package the code.
    Check,
    /// destroy, output: they never read the code, and a demo directory that
    /// was cleaned up must still be destroyable.
    Ignore,
}

/// [`load`], choosing whether function source directories must exist.
pub fn load_with(path: &Path, vars: &VarOverrides, paths: Paths) -> Result<LoadedSpec, LoadError> {
    let fail = |source: String, diagnostics| LoadError {
        path: path.to_path_buf(),
        source,
        diagnostics,
    };
    const PASS_IT: &str = "pass the spec with -f/--file, or run `agentform init` to create one";
    let source = match read_yaml_file(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                // Not text: nothing of it is shown, only where it stops
                // being UTF-8.
                let at = e.utf8_error().valid_up_to();
                let s = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let d = Diagnostic::new("the spec file is not valid UTF-8", at..at)
                    .label("the first byte that is not UTF-8")
                    .help("save the file with UTF-8 encoding")
                    .without_snippet();
                return Err(fail(s, vec![d]));
            }
        },
        Err(YamlFileError::Unreadable(e)) => {
            return Err(fail(
                String::new(),
                vec![
                    Diagnostic::unspanned(format!("cannot read {}: {e}", path.display()))
                        .help(PASS_IT),
                ],
            ));
        }
        Err(e) => {
            return Err(fail(
                String::new(),
                vec![Diagnostic::unspanned(e.describe(path)).help(format!(
                    "the spec is a `.yaml` or `.yml` file, and agentform reads no other (so that nothing else can show up in its messages); {PASS_IT}"
                ))],
            ));
        }
    };
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    load_str_with(&source, path, &dir, vars, paths).map_err(|d| fail(source.clone(), d))
}

/// Checks spec text; `dir` resolves relative paths (function sources).
///
/// Every stage runs even when an earlier one found problems (only a YAML
/// syntax error stops everything): `schema` hands on a repaired copy of the
/// value, and a later stage's findings inside what an earlier stage already
/// reported or repaired are dropped, so each problem is reported once.
pub fn load_str(
    source: &str,
    path: &Path,
    dir: &Path,
    vars: &VarOverrides,
) -> Result<LoadedSpec, Vec<Diagnostic>> {
    load_str_with(source, path, dir, vars, Paths::Check)
}

/// [`load_str`], choosing whether function source directories must exist.
pub fn load_str_with(
    source: &str,
    path: &Path,
    dir: &Path,
    vars: &VarOverrides,
    paths: Paths,
) -> Result<LoadedSpec, Vec<Diagnostic>> {
    let yaml::Document {
        value,
        mut map,
        problems,
    } = yaml::parse(source)?;
    // Every spec is a mapping: a file whose top level is not one is not a
    // spec, and none of it is shown (it may be anything the path named).
    if !value.is_object() {
        let kind = match &value {
            Value::Array(_) => "a list",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null | Value::Object(_) => "nothing",
        };
        let at = map.get("").map_or(0, |p| p.value.start);
        return Err(vec![
            Diagnostic::new(format!("the spec must be a mapping, found {kind}"), at..at)
                .label("expected a mapping")
                .help("this file is not an agentform spec, so none of it is shown; a spec starts with `version: 1` and `project: <name>`")
                .without_snippet(),
        ]);
    }
    let mut diags = problems;
    let checked = schema::check(value, &map);
    let structural = !checked.diags.is_empty();
    let before: Vec<(String, Option<std::ops::Range<usize>>)> = checked
        .diags
        .iter()
        .map(|d| (d.message.clone(), d.span.clone()))
        .collect();
    diags.extend(checked.diags);
    let Some(mut value) = checked.repaired else {
        return Err(diags);
    };
    let mut shadow = checked.shadow;
    for (from, to) in &checked.renames {
        map.alias(from, to);
    }
    let interpolated = interpolate::apply(&mut value, &map, source, vars);
    keep_new(&mut diags, interpolated.diags, &shadow);
    shadow.extend(interpolated.shadow);
    // Lengths, patterns and enums hold for the values as substituted too
    // (a 300-character `${env:...}` description is as wrong as a literal);
    // a spec nothing was substituted in was checked already.
    if interpolated.substituted {
        let substituted: Vec<Diagnostic> = schema::diagnose(&value, &map)
            .into_iter()
            .filter(|d| !before.contains(&(d.message.clone(), d.span.clone())))
            .map(|mut d| {
                d.message = format!("{} (after substituting `${{...}}`)", d.message);
                d
            })
            .collect();
        keep_new(&mut diags, substituted, &shadow);
    }
    let spec: Spec = match Spec::deserialize(&value) {
        Ok(spec) => spec,
        // The repairs could not make the value fit the types; what the schema
        // said is what there is to say.
        Err(_) if structural => return Err(diags),
        // The schema admits only what these types accept, so this is a bug in
        // agentform, not in the spec; still report it rather than panic.
        Err(e) => {
            diags.push(Diagnostic::new(
                format!("internal error: schema and spec types disagree: {e}"),
                0..0,
            ));
            return Err(diags);
        }
    };
    let (documents, unread) = match paths {
        Paths::Check => documents::read_all(&spec, dir, |p| map.value_span(p)),
        Paths::Ignore => Default::default(),
    };
    keep_new(&mut diags, unread, &shadow);
    let loaded = LoadedSpec {
        spec,
        path: path.to_path_buf(),
        dir: dir.to_path_buf(),
        source: source.to_string(),
        map,
        resolved_sha256: crate::plan::saved::sha256_hex(value.to_string().as_bytes()),
        documents,
    };
    keep_new(&mut diags, validate::check(&loaded, &value, paths), &shadow);
    drop(value);
    if diags.is_empty() {
        let mut loaded = loaded;
        loaded.map.forget_tool_schemas();
        Ok(loaded)
    } else {
        Err(diags)
    }
}

/// Appends the diagnostics of a later stage, except those inside a range an
/// earlier stage already reported or repaired.
fn keep_new(
    diags: &mut Vec<Diagnostic>,
    later: Vec<Diagnostic>,
    shadow: &[std::ops::Range<usize>],
) {
    diags.extend(later.into_iter().filter(|d| {
        let Some(span) = &d.span else { return true };
        !shadow.iter().any(|s| overlaps(span, s))
    }));
}

/// Whether two ranges share a byte; an empty range counts as the position it
/// starts at.
fn overlaps(a: &std::ops::Range<usize>, b: &std::ops::Range<usize>) -> bool {
    if a.start == b.start {
        return true;
    }
    let a_end = a.end.max(a.start + 1);
    let b_end = b.end.max(b.start + 1);
    a.start < b_end && b.start < a_end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(src: &str) -> Vec<String> {
        let dir = std::env::temp_dir();
        match load_str(src, Path::new("agentform.yaml"), &dir, &VarOverrides::new()) {
            Ok(_) => Vec::new(),
            Err(diags) => {
                let mut diags = diags;
                diags.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
                diags.into_iter().map(|d| d.message).collect()
            }
        }
    }

    /// Each stage runs whatever the earlier ones found, and a problem is
    /// reported by the first stage that sees it only.
    #[test]
    fn stages_all_run_and_report_once() {
        let cases: &[(&str, &[&str])] = &[
            ("version: 1\nproject: demo\n", &[]),
            // duplicate key (yaml) + unknown field (schema) + bad name (validate)
            (
                "version: 1\nproject: demo\nproject: x\nrepositories:\n  Agent: {}\n  a: {scan: true}\n",
                &[
                    "duplicate key `project`",
                    "ECR repository name `demo/Agent` has uppercase letters",
                    "unknown field `scan`",
                ],
            ),
            // bad type (schema) is not judged again as an image URI (validate)
            (
                "version: 1\nproject: demo\nruntimes:\n  r: {artifact: {image: 5}}\n",
                &["`image` must be a string, found integer `5`"],
            ),
            // unknown variable (interpolate) is not judged again as an image tag (validate)
            (
                "version: 1\nproject: demo\nrepositories: {a: {}}\nruntimes:\n  r: {artifact: {container: {repository: a, tag: '${var.t}'}}}\n",
                &["unknown variable `t`"],
            ),
            // a typo of a required key is one problem, and the value is still checked
            (
                "version: 1\nprojet: Demo\n",
                &[
                    "unknown field `projet`",
                    "project name `Demo` has uppercase letters",
                ],
            ),
        ];
        for (src, want) in cases {
            assert_eq!(messages(src), *want, "{src}");
        }
    }

    #[test]
    fn overlap_rules() {
        let cases = [
            ((0, 0), (0, 5), true),
            ((3, 3), (0, 5), true),
            ((5, 5), (0, 5), false),
            ((2, 4), (4, 6), false),
            ((2, 5), (4, 6), true),
        ];
        for ((a0, a1), (b0, b1), want) in cases {
            assert_eq!(
                overlaps(&(a0..a1), &(b0..b1)),
                want,
                "{a0}..{a1} vs {b0}..{b1}"
            );
            assert_eq!(
                overlaps(&(b0..b1), &(a0..a1)),
                want,
                "{b0}..{b1} vs {a0}..{a1}"
            );
        }
    }
}
