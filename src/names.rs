//! Physical names, derived deterministically from the project and the logical
//! keys of the spec, and the AWS naming rules each must satisfy.
//!
//! Deterministic names are half of "no state file": plan finds every resource
//! by name, and the ownership tags tell it whether the resource is ours.

use std::sync::LazyLock;

use regex::Regex;

pub const TAG_PROJECT: &str = "agentform:project";
pub const TAG_RESOURCE: &str = "agentform:resource";
/// Name of the inline policy agentform puts on each of its roles.
pub const POLICY_NAME: &str = "agentform";

/// IAM path all roles of a project live under.
pub fn role_path(project: &str) -> String {
    format!("/agentform/{project}/")
}
pub fn function(project: &str, key: &str) -> String {
    format!("{project}-{key}")
}
pub fn gateway(project: &str, key: &str) -> String {
    format!("{project}-{key}")
}
/// Gateway targets are scoped to their gateway: the key is the name, and MCP
/// clients see tools as `<target>___<tool>`.
pub fn target(key: &str) -> String {
    key.to_string()
}
pub fn repository(project: &str, key: &str) -> String {
    format!("{project}/{key}")
}
/// Runtime names allow no hyphens: they become underscores.
pub fn runtime(project: &str, key: &str) -> String {
    format!("{project}_{key}").replace('-', "_")
}

/// Which derived role a resource gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleOwner {
    Function,
    Gateway,
    Runtime,
}

impl RoleOwner {
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
}

pub fn role(project: &str, owner: RoleOwner, key: &str) -> String {
    format!("{project}-{}-{key}", owner.short())
}

/// A naming rule: a regex, a length bound and the words to explain it.
pub struct Rule {
    pub what: &'static str,
    pub regex: &'static LazyLock<Regex>,
    pub max_len: usize,
    pub explain: &'static str,
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

re!(PROJECT_RE, r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$");
re!(GATEWAY_RE, r"^([0-9a-zA-Z][-]?){1,48}$");
re!(TARGET_RE, r"^([0-9a-zA-Z][-]?){1,100}$");
re!(RUNTIME_RE, r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$");
re!(FUNCTION_RE, r"^[a-zA-Z0-9_-]{1,64}$");
re!(ROLE_RE, r"^[\w+=,.@-]{1,64}$");
re!(REPO_RE, r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$");
re!(TOOL_RE, r"^[a-zA-Z0-9_.-]{1,64}$");
re!(TAG_RE, r"^[a-zA-Z0-9\s._:/=+@-]*$");
re!(REGION_RE, r"^[a-z]{2}(-gov)?-[a-z]+-\d$");
re!(IMAGE_RE, r"^([0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|public\.ecr\.aws)/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128})?(@sha256:[a-f0-9]{64})?$");
re!(DISCOVERY_RE, r"^https://.+/\.well-known/openid-configuration$");
re!(ENV_KEY_RE, r"^[a-zA-Z][a-zA-Z0-9_]*$");

pub static PROJECT: Rule = Rule {
    what: "project name",
    regex: &PROJECT_RE,
    max_len: 24,
    explain: "lowercase letters, digits and single hyphens, starting with a letter, at most 24 characters (it prefixes every physical name)",
};
pub static GATEWAY: Rule = Rule {
    what: "gateway name",
    regex: &GATEWAY_RE,
    max_len: 48,
    explain: "AgentCore gateway names use letters, digits and single hyphens (no underscores), at most 48 characters",
};
pub static TARGET: Rule = Rule {
    what: "gateway target name",
    regex: &TARGET_RE,
    max_len: 100,
    explain: "AgentCore target names use letters, digits and single hyphens (no underscores), at most 100 characters",
};
pub static RUNTIME: Rule = Rule {
    what: "runtime name",
    regex: &RUNTIME_RE,
    max_len: 48,
    explain: "AgentCore runtime names match [a-zA-Z][a-zA-Z0-9_]{0,47}: letters, digits and underscores, at most 48 characters",
};
pub static FUNCTION: Rule = Rule {
    what: "Lambda function name",
    regex: &FUNCTION_RE,
    max_len: 64,
    explain: "Lambda function names use letters, digits, hyphens and underscores, at most 64 characters",
};
pub static ROLE: Rule = Rule {
    what: "IAM role name",
    regex: &ROLE_RE,
    max_len: 64,
    explain: "IAM role names use letters, digits and +=,.@-_, at most 64 characters",
};
pub static REPOSITORY: Rule = Rule {
    what: "ECR repository name",
    regex: &REPO_RE,
    max_len: 256,
    explain: "ECR repository names use lowercase letters, digits and single . _ - / separators",
};
pub static TOOL: Rule = Rule {
    what: "tool name",
    regex: &TOOL_RE,
    max_len: 64,
    explain: "tool names use letters, digits, `_`, `-` and `.`, at most 64 characters",
};

impl Rule {
    /// `None` when `name` is valid, else what is wrong.
    pub fn violation(&self, name: &str) -> Option<String> {
        let len = name.chars().count();
        if len > self.max_len {
            Some(format!("{} `{name}` is {len} characters long, more than {}", self.what, self.max_len))
        } else if !self.regex.is_match(name) {
            Some(format!("{} `{name}` is not valid", self.what))
        } else {
            None
        }
    }
}

pub fn valid_tag(s: &str) -> bool {
    TAG_RE.is_match(s)
}
pub fn valid_region(s: &str) -> bool {
    REGION_RE.is_match(s)
}
pub fn valid_image(s: &str) -> bool {
    s.len() <= 1024 && IMAGE_RE.is_match(s)
}
pub fn valid_discovery_url(s: &str) -> bool {
    DISCOVERY_RE.is_match(s)
}
pub fn valid_env_key(s: &str) -> bool {
    ENV_KEY_RE.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names() {
        assert_eq!(runtime("iam-auth-demo", "agent"), "iam_auth_demo_agent");
        assert_eq!(gateway("iam-auth-demo", "main"), "iam-auth-demo-main");
        assert_eq!(role("iam-auth-demo", RoleOwner::Gateway, "main"), "iam-auth-demo-gw-main");
        assert_eq!(repository("iam-auth-demo", "agent"), "iam-auth-demo/agent");
    }

    #[test]
    fn rules() {
        assert!(GATEWAY.violation("my-gw").is_none());
        assert!(GATEWAY.violation("my_gw").is_some());
        assert!(GATEWAY.violation("a--b").is_some());
        assert!(RUNTIME.violation("agent_1").is_none());
        assert!(RUNTIME.violation("1agent").is_some());
        assert_eq!(RUNTIME.violation(&"a".repeat(49)).unwrap(), format!("runtime name `{}` is 49 characters long, more than 48", "a".repeat(49)));
        assert!(PROJECT.violation("Demo").is_some());
        assert!(REPOSITORY.violation("demo/agent").is_none());
        assert!(valid_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest"));
        assert!(!valid_image("docker.io/library/python:3.12"));
        assert!(valid_discovery_url("https://idp.example.com/.well-known/openid-configuration"));
    }
}
