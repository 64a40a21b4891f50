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

/// A write-only secret (an API key, a client secret): compared by a
/// digest, sent by value, and never serialised or shown. Equality is the
/// digest's, so a saved plan (which holds no value) equals a fresh one.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Secret {
    /// SHA-256 over a fixed label, the provider's name and the value.
    pub digest: String,
    /// Desired configs only.
    #[serde(skip)]
    pub value: Option<Arc<str>>,
}

impl Secret {
    pub fn new(provider: &str, value: &str) -> Secret {
        Secret {
            digest: Secret::digest_of(provider, value),
            value: Some(Arc::from(value)),
        }
    }
    /// What is read back: a digest only.
    pub fn read_back(provider: &str, value: &str) -> Secret {
        Secret {
            digest: Secret::digest_of(provider, value),
            value: None,
        }
    }
    /// A secret that could not be read back (never equal to a wanted one).
    pub fn unreadable() -> Secret {
        Secret {
            digest: String::new(),
            value: None,
        }
    }
    fn digest_of(provider: &str, value: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"agentform secret v1\0");
        h.update(provider.as_bytes());
        h.update(b"\0");
        h.update(value.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.digest == other.digest
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// An AgentCore Policy engine: a named set of Cedar policies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyEngineConfig {
    pub name: String,
    pub description: String,
    pub tags: Tags,
}

/// A Cedar policy of a policy engine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyConfig {
    /// The engine's name.
    pub engine: String,
    pub name: String,
    pub description: String,
    /// The Cedar text; may name resources not created yet (a gateway's ARN).
    pub statement: Resolved,
    /// `ACTIVE` or `LOG_ONLY`.
    pub enforcement: String,
    /// `FAIL_ON_ANY_FINDINGS` or `IGNORE_ALL_FINDINGS`: sent with every
    /// write, not read back (AgentCore does not return it).
    pub validation: String,
}

/// The Cognito user pool that issues a `cognito_m2m` gateway's tokens:
/// the pool, its domain (which serves the token endpoint) and its resource
/// servers, managed as one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserPoolConfig {
    pub name: String,
    /// The prefix of the pool's domain, `<prefix>.auth.<region>.amazoncognito.com`
    /// (empty: none).
    pub domain: String,
    /// Resource servers by identifier, each with its scope names, sorted.
    pub resource_servers: BTreeMap<String, Vec<String>>,
    pub tags: Tags,
}

/// A runtime's app client (client-credentials grant) in a gateway's user
/// pool, and the AgentCore Identity OAuth2 credential provider that holds
/// the client's id and secret so the runtime fetches tokens with no secret
/// of its own. The secret goes from Cognito to AgentCore inside the AWS
/// layer and is never part of a config.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct M2mClientConfig {
    /// The user pool's name.
    pub pool: String,
    /// The client's name: the runtime's key.
    pub name: String,
    /// `<resource server>/<scope>`, sorted.
    pub scopes: Vec<String>,
    /// The credential provider's name.
    pub provider: String,
    /// Whether the provider holds this client's id and current secret and
    /// the pool's discovery URL (what agentform wants: always true).
    pub provider_current: bool,
    /// The credential provider's tags.
    pub tags: Tags,
}

/// An AgentCore Identity API-key credential provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ApiKeyProviderConfig {
    pub name: String,
    pub api_key: Secret,
    pub tags: Tags,
}

/// An AgentCore Identity OAuth2 credential provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthProviderConfig {
    pub name: String,
    /// `CustomOauth2`, `GithubOauth2`, ...
    pub vendor: String,
    /// The OpenID discovery URL (custom vendors; empty for the others).
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub tags: Tags,
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
    /// The discovery URL and client ids are unknown until the user pool
    /// and clients of a `cognito_m2m` gateway exist.
    CustomJwt {
        discovery_url: Resolved,
        allowed_audiences: Vec<String>,
        allowed_clients: Vec<Resolved>,
        allowed_scopes: Vec<String>,
    },
}

impl Authorizer {
    /// The same authorizer with every reference `l` knows filled in.
    pub fn fill(&self, l: &dyn Lookup) -> Authorizer {
        match self {
            Authorizer::AwsIam => Authorizer::AwsIam,
            Authorizer::CustomJwt {
                discovery_url,
                allowed_audiences,
                allowed_clients,
                allowed_scopes,
            } => Authorizer::CustomJwt {
                discovery_url: discovery_url.fill(l),
                allowed_audiences: allowed_audiences.clone(),
                allowed_clients: allowed_clients.iter().map(|c| c.fill(l)).collect(),
                allowed_scopes: allowed_scopes.clone(),
            },
        }
    }
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
    /// Lambda interceptors, sorted by function ARN.
    #[serde(default)]
    pub interceptors: Vec<Interceptor>,
    /// The Cedar policy engine that authorizes tool calls, if any.
    #[serde(default)]
    pub policy_engine: Option<GatewayPolicyEngine>,
    /// `FAIL_OPEN` or `FAIL_CLOSE` when AWS WAF cannot be evaluated (empty:
    /// no WAF configuration). Update-only in the API.
    #[serde(default)]
    pub waf_failure_mode: String,
    /// The Lambda function of the custom transform (empty: none).
    /// Update-only in the API.
    #[serde(default)]
    pub transform_lambda: String,
    pub tags: Tags,
}

impl GatewayConfig {
    /// Whether it has settings the API takes only on UpdateGateway.
    pub fn has_update_only(&self) -> bool {
        !self.waf_failure_mode.is_empty() || !self.transform_lambda.is_empty()
    }
}

/// A gateway's policy engine: its ARN (unknown until the engine exists)
/// and `ENFORCE` or `LOG_ONLY`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GatewayPolicyEngine {
    pub arn: Resolved,
    pub mode: String,
}

/// A Lambda function the gateway calls on each request or response.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Interceptor {
    pub lambda_arn: String,
    /// `REQUEST`, `RESPONSE`, sorted.
    pub points: Vec<String>,
    /// Whether the request's headers are passed to the function.
    pub pass_request_headers: bool,
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
    pub source: TargetSource,
    pub credentials: TargetCredentials,
}

/// What a gateway target exposes as tools.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TargetSource {
    /// A Lambda function (of the spec, or given by ARN) with its tools.
    Lambda { arn: String, tools: Vec<ToolDef> },
    /// A REST API described by an OpenAPI document.
    OpenApi(ApiSchema),
    /// An AWS or REST API described by a Smithy model (JSON AST).
    Smithy(ApiSchema),
    /// A remote MCP server.
    McpServer {
        endpoint: String,
        /// `DEFAULT` or `DYNAMIC` (empty: not set, AgentCore's default).
        listing_mode: String,
    },
    /// A stage of an API Gateway REST API.
    ApiGateway {
        rest_api_id: String,
        stage: String,
        /// Which paths and methods become tools, sorted by path.
        filters: Vec<ApiFilter>,
        /// Tool names and descriptions given to operations, sorted by path
        /// and method.
        overrides: Vec<ApiOverride>,
    },
    /// A kind of target agentform does not manage (read back from AWS
    /// only): named by its member of the service's union, so a plan shows
    /// it replaced by what the spec says rather than dropping it silently.
    Other(String),
}

/// An API description: inline (sent as JSON text) or an S3 object.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ApiSchema {
    Inline(Arc<Value>),
    S3 {
        uri: String,
        /// The account that owns the bucket (empty: not set).
        bucket_owner: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ApiFilter {
    pub path: String,
    /// Sorted.
    pub methods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ApiOverride {
    pub path: String,
    pub method: String,
    pub name: String,
    pub description: String,
}

/// How the gateway authenticates to a target.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TargetCredentials {
    /// No outbound auth (an MCP server or API that needs none).
    None,
    /// SigV4 with the gateway's service role.
    GatewayIamRole,
    /// An API key from an AgentCore Identity credential provider.
    ApiKey {
        provider_arn: String,
        /// `HEADER` or `QUERY_PARAMETER` (empty: not set).
        location: String,
        /// The header or query parameter name (empty: not set).
        parameter_name: String,
        /// Put before the key, e.g. `Bearer` (empty: none).
        prefix: String,
    },
    /// An OAuth2 token from an AgentCore Identity credential provider.
    OAuth {
        provider_arn: String,
        scopes: Vec<String>,
        custom_parameters: BTreeMap<String, String>,
        /// `CLIENT_CREDENTIALS`, `AUTHORIZATION_CODE` (empty: not set).
        grant_type: String,
    },
    /// A credential type agentform does not manage (read back only).
    Other(String),
}

impl TargetCredentials {
    /// The API's `credentialProviderType` (`None`: no configuration).
    pub fn api_type(&self) -> Option<&str> {
        match self {
            TargetCredentials::None => None,
            TargetCredentials::GatewayIamRole => Some("GATEWAY_IAM_ROLE"),
            TargetCredentials::ApiKey { .. } => Some("API_KEY"),
            TargetCredentials::OAuth { .. } => Some("OAUTH"),
            TargetCredentials::Other(t) => Some(t),
        }
    }
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
    ApiKeyProvider(ApiKeyProviderConfig),
    OAuthProvider(OAuthProviderConfig),
    PolicyEngine(PolicyEngineConfig),
    Policy(PolicyConfig),
    UserPool(UserPoolConfig),
    M2mClient(M2mClientConfig),
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
            Config::ApiKeyProvider(_) => Kind::ApiKeyProvider,
            Config::OAuthProvider(_) => Kind::OAuthProvider,
            Config::PolicyEngine(_) => Kind::PolicyEngine,
            Config::Policy(_) => Kind::Policy,
            Config::UserPool(_) => Kind::UserPool,
            Config::M2mClient(_) => Kind::M2mClient,
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
            Config::ApiKeyProvider(c) => &c.name,
            Config::OAuthProvider(c) => &c.name,
            Config::PolicyEngine(c) => &c.name,
            Config::Policy(c) => &c.name,
            Config::UserPool(c) => &c.name,
            Config::M2mClient(c) => &c.name,
        }
    }

    /// The physical name of the parent (role of a policy, gateway of a
    /// target, runtime of an endpoint).
    pub fn parent_name(&self) -> Option<&str> {
        match self {
            Config::RolePolicy(c) => Some(&c.role),
            Config::Target(c) => Some(&c.gateway),
            Config::Endpoint(c) => Some(&c.runtime),
            Config::Policy(c) => Some(&c.engine),
            Config::M2mClient(c) => Some(&c.pool),
            Config::Role(_)
            | Config::Repository(_)
            | Config::Bucket(_)
            | Config::Function(_)
            | Config::Gateway(_)
            | Config::Runtime(_)
            | Config::Memory(_)
            | Config::ApiKeyProvider(_)
            | Config::OAuthProvider(_)
            | Config::PolicyEngine(_)
            | Config::UserPool(_) => None,
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
            | Config::Memory(_)
            | Config::ApiKeyProvider(_)
            | Config::OAuthProvider(_)
            | Config::PolicyEngine(_)
            | Config::Policy(_)
            | Config::UserPool(_)
            | Config::M2mClient(_) => DeleteOptions::default(),
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
            Config::Gateway(c) => Config::Gateway(GatewayConfig {
                authorizer: c.authorizer.fill(l),
                policy_engine: c.policy_engine.as_ref().map(|p| GatewayPolicyEngine {
                    arn: p.arn.fill(l),
                    mode: p.mode.clone(),
                }),
                ..c.clone()
            }),
            Config::Policy(c) => Config::Policy(PolicyConfig {
                statement: c.statement.fill(l),
                ..c.clone()
            }),
            Config::Role(_)
            | Config::Repository(_)
            | Config::Bucket(_)
            | Config::Target(_)
            | Config::Memory(_)
            | Config::ApiKeyProvider(_)
            | Config::OAuthProvider(_)
            | Config::PolicyEngine(_)
            | Config::UserPool(_)
            | Config::M2mClient(_) => self.clone(),
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
                let interceptors: Vec<Value> = c
                    .interceptors
                    .iter()
                    .map(|i| serde_json::json!({"lambda_arn": i.lambda_arn, "interception_points": i.points, "pass_request_headers": i.pass_request_headers}))
                    .collect();
                a.insert("interceptors", Value::Array(interceptors).into());
                let or_null = |s: &String| if s.is_empty() { Val::Null } else { s.into() };
                a.insert("waf_failure_mode", or_null(&c.waf_failure_mode));
                a.insert("custom_transform_lambda", or_null(&c.transform_lambda));
                match &c.policy_engine {
                    Some(p) => {
                        a.insert("policy_engine", (&p.arn).into());
                        a.insert("policy_engine_mode", (&p.mode).into());
                    }
                    None => {
                        a.insert("policy_engine", Val::Null);
                        a.insert("policy_engine_mode", Val::Null);
                    }
                }
                a.insert("tags", c.tags.clone().into());
            }
            Config::Target(c) => {
                a.insert("gateway", (&c.gateway).into());
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                target_source_attrs(&c.source, &mut a);
                a.insert(
                    "credential_provider",
                    c.credentials.api_type().map_or(Val::Null, Val::from),
                );
                a.insert("credential_configuration", credential_attrs(&c.credentials));
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
            Config::ApiKeyProvider(c) => {
                a.insert("name", (&c.name).into());
                a.insert("api_key", (&c.api_key.digest).into());
                a.insert("tags", c.tags.clone().into());
            }
            Config::OAuthProvider(c) => {
                a.insert("name", (&c.name).into());
                a.insert("vendor", (&c.vendor).into());
                a.insert("discovery_url", (&c.discovery_url).into());
                a.insert("client_id", (&c.client_id).into());
                a.insert("client_secret", (&c.client_secret.digest).into());
                a.insert("tags", c.tags.clone().into());
            }
            Config::PolicyEngine(c) => {
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("tags", c.tags.clone().into());
            }
            Config::Policy(c) => {
                a.insert("policy_engine", (&c.engine).into());
                a.insert("name", (&c.name).into());
                a.insert("description", (&c.description).into());
                a.insert("statement", (&c.statement).into());
                a.insert("enforcement_mode", (&c.enforcement).into());
            }
            Config::UserPool(c) => {
                a.insert("name", (&c.name).into());
                a.insert("domain", (&c.domain).into());
                a.insert(
                    "resource_servers",
                    serde_json::to_value(&c.resource_servers)
                        .unwrap_or_default()
                        .into(),
                );
                a.insert("tags", c.tags.clone().into());
            }
            Config::M2mClient(c) => {
                a.insert("user_pool", (&c.pool).into());
                a.insert("name", (&c.name).into());
                a.insert(
                    "allowed_oauth_scopes",
                    Val::List(c.scopes.iter().map(Val::from).collect()),
                );
                a.insert("credential_provider", (&c.provider).into());
                a.insert("credential_provider_current", c.provider_current.into());
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

/// A target's source as plans show it: `target_type`, then its fields.
fn target_source_attrs(s: &TargetSource, a: &mut BTreeMap<&'static str, Val>) {
    let schema = |a: &mut BTreeMap<&'static str, Val>, s: &ApiSchema| match s {
        ApiSchema::Inline(doc) => {
            a.insert("schema", Value::clone(doc).into());
        }
        ApiSchema::S3 { uri, bucket_owner } => {
            a.insert("schema_s3_uri", uri.into());
            a.insert("schema_bucket_owner", bucket_owner.into());
        }
    };
    match s {
        TargetSource::Lambda { arn, tools } => {
            a.insert("target_type", "lambda".into());
            a.insert("lambda_arn", arn.into());
            let tools: Vec<Value> = tools
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
        TargetSource::OpenApi(s) => {
            a.insert("target_type", "openapi".into());
            schema(a, s);
        }
        TargetSource::Smithy(s) => {
            a.insert("target_type", "smithy".into());
            schema(a, s);
        }
        TargetSource::McpServer {
            endpoint,
            listing_mode,
        } => {
            a.insert("target_type", "mcp_server".into());
            a.insert("endpoint", endpoint.into());
            a.insert("listing_mode", listing_mode.into());
        }
        TargetSource::ApiGateway {
            rest_api_id,
            stage,
            filters,
            overrides,
        } => {
            a.insert("target_type", "api_gateway".into());
            a.insert("rest_api_id", rest_api_id.into());
            a.insert("stage", stage.into());
            let filters: Vec<Value> = filters
                .iter()
                .map(|f| serde_json::json!({"path": f.path, "methods": f.methods}))
                .collect();
            a.insert("tool_filters", Value::Array(filters).into());
            let overrides: Vec<Value> = overrides
                .iter()
                .map(|o| serde_json::json!({"path": o.path, "method": o.method, "name": o.name, "description": o.description}))
                .collect();
            a.insert("tool_overrides", Value::Array(overrides).into());
        }
        TargetSource::Other(kind) => {
            a.insert("target_type", kind.into());
        }
    }
}

/// A target's credential provider settings as plans show them.
fn credential_attrs(c: &TargetCredentials) -> Val {
    match c {
        TargetCredentials::None | TargetCredentials::GatewayIamRole | TargetCredentials::Other(_) => {
            Val::Null
        }
        TargetCredentials::ApiKey {
            provider_arn,
            location,
            parameter_name,
            prefix,
        } => serde_json::json!({"provider_arn": provider_arn, "location": location, "parameter_name": parameter_name, "prefix": prefix}).into(),
        TargetCredentials::OAuth {
            provider_arn,
            scopes,
            custom_parameters,
            grant_type,
        } => serde_json::json!({"provider_arn": provider_arn, "scopes": scopes, "custom_parameters": custom_parameters, "grant_type": grant_type}).into(),
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
        } => {
            let list = |v: &Vec<String>| Val::List(v.iter().map(Val::from).collect());
            let mut m = BTreeMap::new();
            m.insert("discovery_url".to_string(), discovery_url.into());
            m.insert("allowed_audiences".to_string(), list(allowed_audiences));
            m.insert(
                "allowed_clients".to_string(),
                Val::List(allowed_clients.iter().map(Val::from).collect()),
            );
            m.insert("allowed_scopes".to_string(), list(allowed_scopes));
            ("CUSTOM_JWT", Val::Map(m))
        }
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
