//! The tool's own picture of resources, shared by planner, executor and the
//! AWS layer: a closed set of kinds ([`kind`]), typed addresses
//! ([`address`]), values that may be unknown until apply ([`value`]), the
//! configuration agentform manages for each kind ([`config`]) and what was
//! read back from the account ([`observed`]).
//!
//! Adding a kind to [`Kind`] / [`Address`] / [`Config`] fails to compile
//! until every `match` over them handles it; none has a `_ =>` fallback.

mod address;
mod config;
mod kind;
mod observed;
mod value;

pub use address::{Address, RoleOwner};
pub use config::{
    ApiFilter, ApiKeyProviderConfig, ApiOverride, ApiSchema, Authorizer, BucketConfig, Code,
    Config, DeleteOptions, EndpointConfig, Environment, FunctionConfig, GatewayConfig,
    GatewayPolicyEngine, Interceptor, M2mClientConfig, MemoryConfig, MemoryStrategy,
    OAuthProviderConfig, PolicyConfig, PolicyEngineConfig, RepositoryConfig, RoleConfig,
    RolePolicyConfig, RuntimeArtifact, RuntimeConfig, Secret, Tags, TargetConfig,
    TargetCredentials, TargetSource, ToolDef, UserPoolConfig, Vpc, environment_of,
    known_environment,
};
pub use kind::{Kind, Ownership, Scope};
pub use observed::{Account, Ids, Known, NoProgress, Observed, Owner, Progress, Wanted};
pub use value::{Attr, Lookup, Part, Ref, Resolved, Template, Val};

/// A resource the spec wants.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Desired {
    pub addr: Address,
    /// Resources that must exist (and be current) before this one.
    pub deps: Vec<Address>,
    pub config: Config,
}
