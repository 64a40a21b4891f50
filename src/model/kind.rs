//! The closed set of resource kinds and every per-kind fact that is not
//! about one resource's data: labels, the parent kind, delete order, which
//! fields force replacement, which ids change on an in-place update.
//!
//! Every function here is an exhaustive `match`: a new variant does not
//! compile until each fact is decided for it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Role,
    RolePolicy,
    Repository,
    Bucket,
    Function,
    Gateway,
    GatewayTarget,
    Runtime,
    RuntimeEndpoint,
    Memory,
    ApiKeyProvider,
    OAuthProvider,
    PolicyEngine,
    Policy,
    UserPool,
    M2mClient,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Role,
        Kind::RolePolicy,
        Kind::Repository,
        Kind::Bucket,
        Kind::Function,
        Kind::Gateway,
        Kind::GatewayTarget,
        Kind::Runtime,
        Kind::RuntimeEndpoint,
        Kind::Memory,
        Kind::ApiKeyProvider,
        Kind::OAuthProvider,
        Kind::PolicyEngine,
        Kind::Policy,
        Kind::UserPool,
        Kind::M2mClient,
    ];

    /// The resource type shown in plans and stored in the
    /// `agentform:resource` tag (`gateway.main`).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Role => "iam_role",
            Kind::RolePolicy => "iam_role_policy",
            Kind::Repository => "ecr_repository",
            Kind::Bucket => "s3_bucket",
            Kind::Function => "lambda_function",
            Kind::Gateway => "gateway",
            Kind::GatewayTarget => "gateway_target",
            Kind::Runtime => "runtime",
            Kind::RuntimeEndpoint => "runtime_endpoint",
            Kind::Memory => "memory",
            Kind::ApiKeyProvider => "api_key_credential_provider",
            Kind::OAuthProvider => "oauth2_credential_provider",
            Kind::PolicyEngine => "policy_engine",
            Kind::Policy => "policy",
            Kind::UserPool => "cognito_user_pool",
            Kind::M2mClient => "cognito_m2m_client",
        }
    }

    /// The variant after this one in declaration order. Exhaustive, so a new
    /// variant must say where it goes; a test walks this chain and checks
    /// [`Kind::ALL`] against it (a kind missing from `ALL` would never be
    /// observed, and would plan as "create" forever).
    pub fn next(self) -> Option<Kind> {
        match self {
            Kind::Role => Some(Kind::RolePolicy),
            Kind::RolePolicy => Some(Kind::Repository),
            Kind::Repository => Some(Kind::Bucket),
            Kind::Bucket => Some(Kind::Function),
            Kind::Function => Some(Kind::Gateway),
            Kind::Gateway => Some(Kind::GatewayTarget),
            Kind::GatewayTarget => Some(Kind::Runtime),
            Kind::Runtime => Some(Kind::RuntimeEndpoint),
            Kind::RuntimeEndpoint => Some(Kind::Memory),
            Kind::Memory => Some(Kind::ApiKeyProvider),
            Kind::ApiKeyProvider => Some(Kind::OAuthProvider),
            Kind::OAuthProvider => Some(Kind::PolicyEngine),
            Kind::PolicyEngine => Some(Kind::Policy),
            Kind::Policy => Some(Kind::UserPool),
            Kind::UserPool => Some(Kind::M2mClient),
            Kind::M2mClient => None,
        }
    }

    pub fn from_label(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == s)
    }

    /// The kind a resource of this kind lives inside: it is read through its
    /// parent, created with the parent's id, and goes when the parent goes.
    pub fn parent(self) -> Option<Kind> {
        match self {
            Kind::RolePolicy => Some(Kind::Role),
            Kind::GatewayTarget => Some(Kind::Gateway),
            Kind::RuntimeEndpoint => Some(Kind::Runtime),
            Kind::Policy => Some(Kind::PolicyEngine),
            Kind::M2mClient => Some(Kind::UserPool),
            Kind::Role
            | Kind::Repository
            | Kind::Bucket
            | Kind::Function
            | Kind::Gateway
            | Kind::Runtime
            | Kind::Memory
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine
            | Kind::UserPool => None,
        }
    }

    /// Deletes run in ascending order of this rank (dependents first).
    pub fn delete_rank(self) -> u8 {
        match self {
            // A runtime's Cognito client (and its credential provider)
            // goes after the gateway's update stops allowing it.
            Kind::GatewayTarget | Kind::RuntimeEndpoint | Kind::Policy | Kind::M2mClient => 0,
            Kind::Runtime => 1,
            // Providers after the targets that use them.
            Kind::Gateway | Kind::Memory | Kind::ApiKeyProvider | Kind::OAuthProvider => 2,
            // An engine cannot go while a gateway uses it (the gateway's
            // update detaches it first: updates run before deletes).
            // A user pool after the gateway whose tokens it issues.
            Kind::Function
            | Kind::Repository
            | Kind::Bucket
            | Kind::PolicyEngine
            | Kind::UserPool => 3,
            Kind::RolePolicy => 4,
            Kind::Role => 5,
        }
    }

    /// Fields (as named in [`super::Config::attrs`]) whose change cannot be
    /// made in place.
    pub fn forces_replacement(self, field: &str) -> bool {
        match self {
            Kind::Role => matches!(field, "name" | "path"),
            Kind::RolePolicy => matches!(field, "role" | "name"),
            Kind::Repository | Kind::Bucket | Kind::Function => field == "name",
            // Switching between an image and a code bundle (Terraform's
            // provider replaces too).
            Kind::Runtime => matches!(field, "name" | "artifact_type"),
            Kind::Gateway => matches!(field, "name" | "authorizer_type"),
            Kind::GatewayTarget => matches!(field, "gateway" | "name"),
            Kind::RuntimeEndpoint => matches!(field, "runtime" | "name"),
            Kind::Memory => matches!(field, "name" | "encryption_key_arn"),
            Kind::ApiKeyProvider => field == "name",
            // A provider's vendor is fixed when it is created.
            Kind::OAuthProvider => matches!(field, "name" | "vendor"),
            Kind::PolicyEngine => field == "name",
            Kind::Policy => matches!(field, "policy_engine" | "name"),
            Kind::UserPool => field == "name",
            Kind::M2mClient => matches!(field, "user_pool" | "name"),
        }
    }

    /// Whether an in-place update of a resource of this kind gives it a new
    /// value of `attr` (a runtime gets a new version with every update), so
    /// references to it are unknown until the update is done.
    pub fn update_changes(self, attr: super::Attr) -> bool {
        use super::Attr;
        match self {
            Kind::Runtime => attr == Attr::Version,
            Kind::Role
            | Kind::RolePolicy
            | Kind::Repository
            | Kind::Bucket
            | Kind::Function
            | Kind::Gateway
            | Kind::GatewayTarget
            | Kind::RuntimeEndpoint
            | Kind::Memory
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine
            | Kind::Policy
            | Kind::UserPool
            | Kind::M2mClient => false,
        }
    }

    /// Fields whose values are secrets: always masked, whatever they hold
    /// (a provider's key is compared by digest, and the digest is not shown
    /// either).
    pub fn secret_fields(self) -> &'static [&'static str] {
        match self {
            Kind::ApiKeyProvider => &["api_key"],
            Kind::OAuthProvider => &["client_secret"],
            Kind::Role
            | Kind::RolePolicy
            | Kind::Repository
            | Kind::Bucket
            | Kind::Function
            | Kind::Gateway
            | Kind::GatewayTarget
            | Kind::Runtime
            | Kind::RuntimeEndpoint
            | Kind::Memory
            | Kind::PolicyEngine
            | Kind::Policy
            | Kind::UserPool
            | Kind::M2mClient => &[],
        }
    }

    /// Whether names of this kind are unique per account (IAM) or per region.
    pub fn scope(self) -> Scope {
        match self {
            Kind::Role | Kind::RolePolicy => Scope::Account,
            Kind::Repository
            | Kind::Bucket
            | Kind::Function
            | Kind::Gateway
            | Kind::GatewayTarget
            | Kind::Runtime
            | Kind::RuntimeEndpoint
            | Kind::Memory
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine
            | Kind::Policy
            | Kind::UserPool
            | Kind::M2mClient => Scope::Region,
        }
    }

    /// Whether AWS lets agentform tag resources of this kind and read the
    /// tags back. Untaggable kinds belong to their parent.
    pub fn ownership(self) -> Ownership {
        match self {
            Kind::Role
            | Kind::Repository
            | Kind::Bucket
            | Kind::Function
            | Kind::Gateway
            | Kind::Runtime
            | Kind::Memory
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine
            | Kind::UserPool => Ownership::Tags,
            // Inline policies, targets and Cedar policies cannot be tagged;
            // endpoints take tags on create, but the API does not promise to
            // read them back.
            // A pool's app clients take no tags (their credential
            // providers do, and carry the client's address).
            Kind::RolePolicy
            | Kind::GatewayTarget
            | Kind::RuntimeEndpoint
            | Kind::Policy
            | Kind::M2mClient => Ownership::Parent,
        }
    }
}

/// Where a name of a kind must be unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Account-global (IAM): the name carries the region, and the
    /// `agentform:region` tag says whose stack it is.
    Account,
    Region,
}

/// How plan decides that a resource found in the account is the project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The `agentform:project` / `agentform:resource` tags on the resource.
    Tags,
    /// It belongs to the project when its parent does.
    Parent,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_kind_in_order() {
        let mut chain = vec![Kind::Role];
        while let Some(k) = chain.last().and_then(|k| k.next()) {
            chain.push(k);
        }
        assert_eq!(chain, Kind::ALL);
        let mut sorted = chain.clone();
        sorted.sort();
        assert_eq!(sorted, chain, "declaration order is address order");
        for k in Kind::ALL {
            assert_eq!(Kind::from_label(k.label()), Some(k));
            // A child is deleted before its parent.
            if let Some(p) = k.parent() {
                assert!(k.delete_rank() < p.delete_rank(), "{k}");
                assert_eq!(k.ownership(), Ownership::Parent, "{k}");
            }
        }
    }
}
