//! What is read back from the account, and the facts about the account
//! itself that derived names and ARNs need.

use std::collections::BTreeMap;

use super::{Address, Attr, Config, Kind, Lookup, Ref};

/// Identifiers AWS assigns, known once a resource exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ids {
    pub arn: Option<String>,
    /// Gateway id, target id, runtime id, endpoint id.
    pub id: Option<String>,
    /// Gateway URL, repository URI.
    pub url: Option<String>,
    /// A runtime's current version.
    pub version: Option<String>,
}

impl Ids {
    /// The value of a referable attribute, when AWS assigns it. Names are
    /// derived from the spec, never read from here.
    pub fn get(&self, attr: Attr) -> Option<&str> {
        match attr {
            Attr::Arn => self.arn.as_deref(),
            Attr::Id => self.id.as_deref(),
            Attr::Url | Attr::Uri => self.url.as_deref(),
            Attr::Version => self.version.as_deref(),
            Attr::Name => None,
        }
    }

    /// Forgets what an in-place update of a `kind` resource changes.
    pub fn forget_changed_by_update(&mut self, kind: Kind) {
        for attr in Attr::ALL {
            if kind.update_changes(attr) {
                match attr {
                    Attr::Arn => self.arn = None,
                    Attr::Id => self.id = None,
                    Attr::Url | Attr::Uri => self.url = None,
                    Attr::Version => self.version = None,
                    Attr::Name => {}
                }
            }
        }
    }
}

/// Ids of resources that exist, by address.
pub type Known = BTreeMap<Address, Ids>;

impl Lookup for Known {
    fn value(&self, r: &Ref) -> Option<String> {
        self.get(&r.addr)
            .and_then(|ids| ids.get(r.attr))
            .map(str::to_string)
    }
}

/// Whose a resource found in the account is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Owner {
    /// Tagged for this project (or a child of such a resource), with its
    /// logical address.
    Ours(Address),
    /// Tagged by agentform for another project.
    OtherProject(String),
    /// An account-global resource (an IAM role) of this project's stack in
    /// another region.
    OtherRegion(String),
    /// Tagged for this project, but its `agentform:resource` tag is missing
    /// or names no resource of its kind: agentform cannot prove which
    /// resource of the spec it is, so it touches it in no way.
    Unproven,
    /// No agentform tags: never touched.
    Foreign,
}

/// A resource read back from the account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub ids: Ids,
    /// Parent's ids (gateway of a target, runtime of an endpoint).
    pub parent_ids: Ids,
    /// Service status for asynchronous resources (`READY`, `CREATING`, ...).
    pub status: Option<String>,
    pub status_reasons: Vec<String>,
    pub owner: Owner,
    pub config: Config,
}

impl Observed {
    pub fn kind(&self) -> Kind {
        self.config.kind()
    }
    pub fn name(&self) -> &str {
        self.config.name()
    }
    pub fn parent(&self) -> Option<&str> {
        self.config.parent_name()
    }

    /// The owner a child of this resource has: children of ours are ours.
    pub fn child_owner(&self, kind: Kind, key: &str) -> Owner {
        match &self.owner {
            Owner::Ours(a) => match a.child(kind, key) {
                Some(c) => Owner::Ours(c),
                None => Owner::Foreign,
            },
            other => other.clone(),
        }
    }
}

/// What plan looks up in the account by name, for one desired resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub kind: Kind,
    pub name: String,
    pub parent: Option<String>,
}

impl Wanted {
    pub fn of(config: &Config) -> Wanted {
        Wanted {
            kind: config.kind(),
            name: config.name().to_string(),
            parent: config.parent_name().map(str::to_string),
        }
    }
}

/// Account facts every derived name and ARN needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// AgentCore Identity's ARN of an API-key credential provider (a
    /// name is unique per account and region, so the ARN is known before
    /// the provider exists).
    pub fn api_key_provider_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:bedrock-agentcore:{}:{}:token-vault/default/apikeycredentialprovider/{name}",
            self.partition, self.region, self.id
        )
    }
    pub fn oauth_provider_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:bedrock-agentcore:{}:{}:token-vault/default/oauth2credentialprovider/{name}",
            self.partition, self.region, self.id
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

/// Where slow operations report progress (waiting for a status, retrying
/// after IAM propagation). Implemented by the CLI.
pub trait Progress: Send + Sync {
    fn note(&self, addr: &Address, message: &str);
}

/// A progress sink that drops everything (tests, quiet mode).
pub struct NoProgress;

impl Progress for NoProgress {
    fn note(&self, _addr: &Address, _message: &str) {}
}
