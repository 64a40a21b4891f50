//! Logical addresses: which resource of the spec something is.
//!
//! An address is typed by kind and knows its parent (a target its gateway,
//! an endpoint its runtime, a policy its role). Its text form
//! (`gateway.main`, `gateway_target.main/tools`, `iam_role.gw-main`) is what
//! plans show and what the `agentform:resource` ownership tag stores, so it
//! must stay stable across versions.

use std::fmt;

use super::Kind;

/// Which derived role a resource gets.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RoleOwner {
    Function,
    Gateway,
    Runtime,
}

impl RoleOwner {
    pub const ALL: [RoleOwner; 3] = [RoleOwner::Function, RoleOwner::Gateway, RoleOwner::Runtime];

    pub fn short(self) -> &'static str {
        match self {
            RoleOwner::Function => "fn",
            RoleOwner::Gateway => "gw",
            RoleOwner::Runtime => "rt",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            RoleOwner::Function => "function",
            RoleOwner::Gateway => "gateway",
            RoleOwner::Runtime => "runtime",
        }
    }
    /// The resource a role of this owner with this key is made for.
    pub fn user(self, key: &str) -> Address {
        let key = key.to_string();
        match self {
            RoleOwner::Function => Address::Function(key),
            RoleOwner::Gateway => Address::Gateway(key),
            RoleOwner::Runtime => Address::Runtime(key),
        }
    }
    fn from_short(s: &str) -> Option<RoleOwner> {
        RoleOwner::ALL.into_iter().find(|o| o.short() == s)
    }
}

/// The address of one resource. Keys are the spec's keys, not physical names.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub enum Address {
    Role(RoleOwner, String),
    RolePolicy(RoleOwner, String),
    Repository(String),
    /// The project's bucket of code bundles (one, key `code`).
    Bucket(String),
    Function(String),
    Gateway(String),
    GatewayTarget {
        gateway: String,
        target: String,
    },
    Runtime(String),
    RuntimeEndpoint {
        runtime: String,
        endpoint: String,
    },
    Memory(String),
    /// A top-level `credentials` entry with an API key.
    ApiKeyProvider(String),
    /// A top-level `credentials` entry with an OAuth2 client.
    OAuthProvider(String),
    /// A `policy_engines` entry.
    PolicyEngine(String),
    /// A Cedar policy of an engine.
    Policy {
        engine: String,
        policy: String,
    },
    /// The Cognito user pool of a `cognito_m2m` gateway (keyed by the
    /// gateway), with its domain and resource server.
    UserPool(String),
    /// A runtime's app client in a gateway's user pool, with the AgentCore
    /// Identity credential provider that holds its secret for the runtime.
    M2mClient {
        gateway: String,
        runtime: String,
    },
}

impl Address {
    pub fn kind(&self) -> Kind {
        match self {
            Address::Role(..) => Kind::Role,
            Address::RolePolicy(..) => Kind::RolePolicy,
            Address::Repository(_) => Kind::Repository,
            Address::Bucket(_) => Kind::Bucket,
            Address::Function(_) => Kind::Function,
            Address::Gateway(_) => Kind::Gateway,
            Address::GatewayTarget { .. } => Kind::GatewayTarget,
            Address::Runtime(_) => Kind::Runtime,
            Address::RuntimeEndpoint { .. } => Kind::RuntimeEndpoint,
            Address::Memory(_) => Kind::Memory,
            Address::ApiKeyProvider(_) => Kind::ApiKeyProvider,
            Address::OAuthProvider(_) => Kind::OAuthProvider,
            Address::PolicyEngine(_) => Kind::PolicyEngine,
            Address::Policy { .. } => Kind::Policy,
            Address::UserPool(_) => Kind::UserPool,
            Address::M2mClient { .. } => Kind::M2mClient,
        }
    }

    /// The resource this one lives inside.
    pub fn parent(&self) -> Option<Address> {
        match self {
            Address::RolePolicy(o, k) => Some(Address::Role(*o, k.clone())),
            Address::GatewayTarget { gateway, .. } => Some(Address::Gateway(gateway.clone())),
            Address::RuntimeEndpoint { runtime, .. } => Some(Address::Runtime(runtime.clone())),
            Address::Policy { engine, .. } => Some(Address::PolicyEngine(engine.clone())),
            Address::M2mClient { gateway, .. } => Some(Address::UserPool(gateway.clone())),
            Address::Role(..)
            | Address::Repository(_)
            | Address::Bucket(_)
            | Address::Function(_)
            | Address::Gateway(_)
            | Address::Runtime(_)
            | Address::Memory(_)
            | Address::ApiKeyProvider(_)
            | Address::OAuthProvider(_)
            | Address::PolicyEngine(_)
            | Address::UserPool(_) => None,
        }
    }

    /// The address of a child named `key` of this resource, if this kind
    /// has children of `kind`.
    pub fn child(&self, kind: Kind, key: &str) -> Option<Address> {
        let child = match self {
            Address::Gateway(g) => Address::GatewayTarget {
                gateway: g.clone(),
                target: key.to_string(),
            },
            Address::Runtime(r) => Address::RuntimeEndpoint {
                runtime: r.clone(),
                endpoint: key.to_string(),
            },
            Address::PolicyEngine(e) => Address::Policy {
                engine: e.clone(),
                policy: key.to_string(),
            },
            Address::UserPool(g) => Address::M2mClient {
                gateway: g.clone(),
                runtime: key.to_string(),
            },
            // A role has one inline policy of agentform's: the key is the role's.
            Address::Role(o, k) => Address::RolePolicy(*o, k.clone()),
            Address::RolePolicy(..)
            | Address::Repository(_)
            | Address::Bucket(_)
            | Address::Function(_)
            | Address::GatewayTarget { .. }
            | Address::RuntimeEndpoint { .. }
            | Address::Memory(_)
            | Address::ApiKeyProvider(_)
            | Address::OAuthProvider(_)
            | Address::Policy { .. }
            | Address::M2mClient { .. } => return None,
        };
        (child.kind() == kind).then_some(child)
    }

    /// The part after `kind.` in the text form.
    fn name(&self) -> String {
        match self {
            Address::Role(o, k) | Address::RolePolicy(o, k) => format!("{}-{k}", o.short()),
            Address::Repository(k)
            | Address::Bucket(k)
            | Address::Function(k)
            | Address::Gateway(k)
            | Address::Runtime(k)
            | Address::Memory(k)
            | Address::ApiKeyProvider(k)
            | Address::OAuthProvider(k)
            | Address::PolicyEngine(k)
            | Address::UserPool(k) => k.clone(),
            Address::Policy { engine, policy } => format!("{engine}/{policy}"),
            Address::M2mClient { gateway, runtime } => format!("{gateway}/{runtime}"),
            Address::GatewayTarget { gateway, target } => format!("{gateway}/{target}"),
            Address::RuntimeEndpoint { runtime, endpoint } => format!("{runtime}/{endpoint}"),
        }
    }

    /// Parses the text form (the inverse of `Display`).
    pub fn parse(s: &str) -> Option<Address> {
        let (k, n) = s.split_once('.')?;
        if n.is_empty() {
            return None;
        }
        let role = |n: &str| {
            let (o, k) = n.split_once('-')?;
            Some((RoleOwner::from_short(o)?, k.to_string())).filter(|(_, k)| !k.is_empty())
        };
        let pair = |n: &str| {
            n.split_once('/')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
                .map(|(a, b)| (a.to_string(), b.to_string()))
        };
        let single = |n: &str| (!n.contains('/')).then(|| n.to_string());
        Some(match Kind::from_label(k)? {
            Kind::Role => role(n).map(|(o, k)| Address::Role(o, k))?,
            Kind::RolePolicy => role(n).map(|(o, k)| Address::RolePolicy(o, k))?,
            Kind::Repository => Address::Repository(single(n)?),
            Kind::Bucket => Address::Bucket(single(n)?),
            Kind::Function => Address::Function(single(n)?),
            Kind::Gateway => Address::Gateway(single(n)?),
            Kind::GatewayTarget => {
                let (gateway, target) = pair(n)?;
                Address::GatewayTarget { gateway, target }
            }
            Kind::Runtime => Address::Runtime(single(n)?),
            Kind::RuntimeEndpoint => {
                let (runtime, endpoint) = pair(n)?;
                Address::RuntimeEndpoint { runtime, endpoint }
            }
            Kind::Memory => Address::Memory(single(n)?),
            Kind::ApiKeyProvider => Address::ApiKeyProvider(single(n)?),
            Kind::OAuthProvider => Address::OAuthProvider(single(n)?),
            Kind::PolicyEngine => Address::PolicyEngine(single(n)?),
            Kind::Policy => {
                let (engine, policy) = pair(n)?;
                Address::Policy { engine, policy }
            }
            Kind::UserPool => Address::UserPool(single(n)?),
            Kind::M2mClient => {
                let (gateway, runtime) = pair(n)?;
                Address::M2mClient { gateway, runtime }
            }
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind().label(), self.name())
    }
}

/// Saved plans hold addresses in their text form.
impl From<Address> for String {
    fn from(a: Address) -> String {
        a.to_string()
    }
}

impl TryFrom<String> for Address {
    type Error = String;
    fn try_from(s: String) -> Result<Address, String> {
        Address::parse(&s).ok_or_else(|| format!("`{s}` is not a resource address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let all = [
            Address::Role(RoleOwner::Gateway, "main".into()),
            Address::RolePolicy(RoleOwner::Function, "my-tools".into()),
            Address::Repository("agent".into()),
            Address::Bucket("code".into()),
            Address::Function("tools".into()),
            Address::Gateway("main".into()),
            Address::GatewayTarget {
                gateway: "main".into(),
                target: "lambda-target".into(),
            },
            Address::Runtime("agent".into()),
            Address::RuntimeEndpoint {
                runtime: "agent".into(),
                endpoint: "prod".into(),
            },
            Address::Memory("chat".into()),
            Address::ApiKeyProvider("weather".into()),
            Address::OAuthProvider("github".into()),
            Address::PolicyEngine("access".into()),
            Address::Policy {
                engine: "access".into(),
                policy: "support".into(),
            },
            Address::UserPool("main".into()),
            Address::M2mClient {
                gateway: "main".into(),
                runtime: "agent".into(),
            },
        ];
        let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "iam_role.gw-main",
                "iam_role_policy.fn-my-tools",
                "ecr_repository.agent",
                "s3_bucket.code",
                "lambda_function.tools",
                "gateway.main",
                "gateway_target.main/lambda-target",
                "runtime.agent",
                "runtime_endpoint.agent/prod",
                "memory.chat",
                "api_key_credential_provider.weather",
                "oauth2_credential_provider.github",
                "policy_engine.access",
                "policy.access/support",
                "cognito_user_pool.main",
                "cognito_m2m_client.main/agent",
            ]
        );
        for (a, t) in all.iter().zip(&texts) {
            assert_eq!(Address::parse(t).as_ref(), Some(a), "{t}");
        }
        // Every kind is covered by the list above.
        let kinds: std::collections::BTreeSet<Kind> = all.iter().map(Address::kind).collect();
        assert_eq!(kinds.len(), Kind::ALL.len());
    }

    #[test]
    fn rejects_malformed_text() {
        for t in [
            "",
            "gateway",
            "gateway.",
            "nosuch.x",
            "iam_role.main",
            "iam_role.xx-main",
            "iam_role.gw-",
            "gateway_target.main",
            "gateway_target.main/",
            "gateway_target./t",
            "gateway.a/b",
            "runtime_endpoint.a/b/c",
        ] {
            assert_eq!(Address::parse(t), None, "{t}");
        }
    }

    #[test]
    fn parents_and_children() {
        let gw = Address::Gateway("main".into());
        let t = gw.child(Kind::GatewayTarget, "calc").unwrap();
        assert_eq!(t.parent(), Some(gw.clone()));
        assert_eq!(t.kind().parent(), Some(Kind::Gateway));
        assert_eq!(gw.child(Kind::RuntimeEndpoint, "x"), None);
        let rt = Address::Runtime("agent".into());
        let e = rt.child(Kind::RuntimeEndpoint, "prod").unwrap();
        assert_eq!(e.parent(), Some(rt));
        for k in Kind::ALL {
            // The address-level and kind-level parent facts agree.
            let sample = match k {
                Kind::Role => Address::Role(RoleOwner::Runtime, "a".into()),
                Kind::RolePolicy => Address::RolePolicy(RoleOwner::Runtime, "a".into()),
                Kind::Repository => Address::Repository("a".into()),
                Kind::Bucket => Address::Bucket("a".into()),
                Kind::Function => Address::Function("a".into()),
                Kind::Gateway => Address::Gateway("a".into()),
                Kind::GatewayTarget => gw.child(k, "a").unwrap(),
                Kind::Runtime => Address::Runtime("a".into()),
                Kind::RuntimeEndpoint => e.clone(),
                Kind::Memory => Address::Memory("a".into()),
                Kind::ApiKeyProvider => Address::ApiKeyProvider("a".into()),
                Kind::OAuthProvider => Address::OAuthProvider("a".into()),
                Kind::PolicyEngine => Address::PolicyEngine("a".into()),
                Kind::Policy => Address::PolicyEngine("e".into()).child(k, "a").unwrap(),
                Kind::UserPool => Address::UserPool("a".into()),
                Kind::M2mClient => Address::UserPool("g".into()).child(k, "a").unwrap(),
            };
            assert_eq!(sample.parent().map(|p| p.kind()), k.parent(), "{k}");
        }
    }
}
