//! Physical names, derived deterministically from the project and the logical
//! keys of the spec, and the AWS naming rules each must satisfy.
//!
//! Deterministic names are half of "no state file": plan finds every resource
//! by name, and the ownership tags tell it whether the resource is ours.

use std::sync::LazyLock;

use regex::Regex;

pub const TAG_PROJECT: &str = "agentform:project";
pub const TAG_RESOURCE: &str = "agentform:resource";
/// On account-global resources (IAM roles): the region of the stack they
/// belong to, so another region's stack never takes them over.
pub const TAG_REGION: &str = "agentform:region";
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
/// Credential providers: `<project>-<key>` (letters, digits, `-`, `_`).
pub fn credential(project: &str, key: &str) -> String {
    format!("{project}-{key}")
}
pub fn repository(project: &str, key: &str) -> String {
    format!("{project}/{key}")
}
/// The project's bucket of code bundles. S3 bucket names are global, so it
/// carries the account and region: `agentform-<project>-<account>-<region>`
/// (at most 10 + 24 + 1 + 12 + 1 + 14 = 62 of S3's 63 characters).
pub fn bucket(project: &str, account: &str, region: &str) -> String {
    format!("agentform-{project}-{account}-{region}")
}
/// Memory names, like runtime names, allow no hyphens.
pub fn memory(project: &str, key: &str) -> String {
    runtime(project, key)
}
/// Policy engine names, like runtime names, allow no hyphens.
pub fn policy_engine(project: &str, key: &str) -> String {
    runtime(project, key)
}
/// Cedar policies: `<engine name>_<key>` (the names are documented as
/// unique in the account, not only in their engine).
pub fn policy(engine_name: &str, key: &str) -> String {
    format!("{engine_name}_{key}").replace('-', "_")
}
/// A `cognito_m2m` gateway's user pool: named like its gateway.
pub fn user_pool(project: &str, gateway_key: &str) -> String {
    gateway(project, gateway_key)
}
/// The prefix of a user pool's Cognito domain. Domain prefixes are unique
/// across all accounts in a region, so it carries a digest of the account
/// and region; lowercase letters, digits and hyphens, at most 63.
pub fn user_pool_domain(project: &str, gateway_key: &str, account: &str, region: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{account}\0{region}").as_bytes());
    let tail: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let head: String = format!("{project}-{gateway_key}")
        .to_ascii_lowercase()
        .replace('_', "-");
    let head = head.get(..54).unwrap_or(&head).trim_end_matches('-');
    format!("{head}-{tail}")
}
/// The identifier of a user pool's resource server (scopes are
/// `<identifier>/<scope>`): the gateway's name.
pub fn resource_server(project: &str, gateway_key: &str) -> String {
    gateway(project, gateway_key)
}
/// A runtime's app client in a gateway's pool is named by the runtime's key.
pub fn m2m_client(runtime_key: &str) -> String {
    runtime_key.to_string()
}
/// The credential provider of a runtime's app client:
/// `<pool name>-<client name>`.
pub fn m2m_provider(pool: &str, client: &str) -> String {
    format!("{pool}-{client}")
}
/// Runtime names allow no hyphens: they become underscores.
pub fn runtime(project: &str, key: &str) -> String {
    format!("{project}_{key}").replace('-', "_")
}
/// The name MCP clients see for a target's tool.
pub fn mcp_tool(target: &str, tool: &str) -> String {
    format!("{target}___{tool}")
}
/// Runtime endpoints are scoped to their runtime: the key is the name.
pub fn endpoint(key: &str) -> String {
    key.to_string()
}
/// The endpoint AgentCore creates with every runtime; never agentform's.
pub const DEFAULT_ENDPOINT: &str = "DEFAULT";

/// What every physical name of `kind` in `project` starts with, for the
/// kinds found by listing (plan lists them to find what left the spec).
/// Roles are found by their IAM path instead, children through their parent.
pub fn prefix(kind: Kind, project: &str) -> Option<String> {
    match kind {
        Kind::Function | Kind::Gateway | Kind::ApiKeyProvider | Kind::OAuthProvider => {
            Some(format!("{project}-"))
        }
        Kind::Repository => Some(format!("{project}/")),
        Kind::Runtime => Some(runtime(project, "")),
        Kind::Memory => Some(memory(project, "")),
        Kind::PolicyEngine => Some(policy_engine(project, "")),
        Kind::UserPool => Some(format!("{project}-")),
        // The bucket's one name is derived from project, account and region.
        Kind::Role
        | Kind::RolePolicy
        | Kind::Bucket
        | Kind::GatewayTarget
        | Kind::RuntimeEndpoint
        | Kind::Policy
        | Kind::M2mClient => None,
    }
}

use crate::model::Kind;
pub use crate::model::RoleOwner;

/// IAM role names are account-global: they carry the region's short code,
/// so the same spec in two regions makes two sets of roles.
pub fn role(project: &str, region: &str, owner: RoleOwner, key: &str) -> String {
    format!("{project}-{}-{}-{key}", region_code(region), owner.short())
}

/// The role name agentform 0.1 used (no region): recognised for migration.
pub fn legacy_role(project: &str, owner: RoleOwner, key: &str) -> String {
    format!("{project}-{}-{key}", owner.short())
}

/// A region's short code, the form widely used in resource names:
/// `us-east-1` -> `use1`, `ap-southeast-2` -> `apse2`, `us-gov-west-1` ->
/// `usgw1`, `eu-central-1` -> `euc1`. The first part and the number are
/// kept; each word between is abbreviated (an unknown word is kept whole,
/// so codes stay distinct).
pub fn region_code(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return region.to_string();
    };
    let mut code = first.to_string();
    for w in middle {
        code.push_str(match *w {
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            "gov" => "g",
            other => other,
        });
    }
    code.push_str(last);
    code
}

/// The region offline validation assumes for role names when the spec
/// names none (its code is as long as any commercial region's).
pub const STAND_IN_REGION: &str = "ap-southeast-1";

/// A naming rule: a regex, a length bound and the words to explain it.
/// `allowed` and `first` describe the regex character by character, so that a
/// violation can name the character at fault.
pub struct Rule {
    pub what: &'static str,
    pub regex: &'static LazyLock<Regex>,
    pub max_len: usize,
    pub explain: &'static str,
    pub allowed: fn(char) -> bool,
    /// What the first character must be, and its description.
    pub first: (fn(char) -> bool, &'static str),
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

// ASCII classes only (`[0-9]`, ` `, not `\d`, `\s`, which are Unicode here
// and not in the ECMA-262 patterns of `schema/agentform.schema.json`): the
// schema states these rules for editors and must accept the same strings.
re!(PROJECT_RE, r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$");
re!(GATEWAY_RE, r"^([0-9a-zA-Z][-]?){1,48}$");
re!(CREDENTIAL_RE, r"^[a-zA-Z0-9_-]{1,128}$");
re!(
    LAMBDA_ARN_RE,
    r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:[a-zA-Z0-9_.-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?$"
);
re!(
    ROLE_ARN_RE,
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$"
);
re!(TARGET_RE, r"^([0-9a-zA-Z][-]?){1,100}$");
re!(RUNTIME_RE, r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$");
re!(ENDPOINT_RE, r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$");
re!(FUNCTION_RE, r"^[a-zA-Z0-9_-]{1,64}$");
re!(ROLE_RE, r"^[A-Za-z0-9_+=,.@-]{1,64}$");
re!(
    REPO_RE,
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"
);
re!(TOOL_RE, r"^[a-zA-Z0-9_.-]{1,64}$");
re!(MCP_TOOL_RE, r"^[a-zA-Z0-9_-]{1,64}$");
re!(TAG_RE, r"^[a-zA-Z0-9 ._:/=+@-]*$");
re!(REGION_RE, r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$");
re!(
    IMAGE_RE,
    r"^([0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|public\.ecr\.aws)/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128})?(@sha256:[a-f0-9]{64})?$"
);
re!(
    DISCOVERY_RE,
    r"^https://.+/\.well-known/openid-configuration$"
);
re!(ENV_KEY_RE, r"^[a-zA-Z][a-zA-Z0-9_]*$");
re!(
    MODEL_RE,
    r"^(arn:aws[a-z-]*:bedrock:[a-z0-9-]*:([0-9]{12})?:[a-z-]+/[A-Za-z0-9._:/-]+|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+(:[A-Za-z0-9_-]+)*)$"
);

pub static PROJECT: Rule = Rule {
    what: "project name",
    regex: &PROJECT_RE,
    max_len: 24,
    explain: "lowercase letters, digits and single hyphens, starting with a letter, at most 24 characters (it prefixes every physical name)",
    allowed: |c| lower_alnum(c) || c == '-',
    first: (|c| c.is_ascii_lowercase(), "a lowercase letter"),
};
pub static GATEWAY: Rule = Rule {
    what: "gateway name",
    regex: &GATEWAY_RE,
    max_len: 48,
    explain: "AgentCore gateway names use letters, digits and single hyphens (no underscores), at most 48 characters",
    allowed: |c| alnum(c) || c == '-',
    first: (alnum, "a letter or digit"),
};
pub static CREDENTIAL: Rule = Rule {
    what: "credential provider name",
    regex: &CREDENTIAL_RE,
    max_len: 128,
    explain: "AgentCore Identity credential provider names use letters, digits, `-` and `_`, at most 128 characters",
    allowed: |c| alnum(c) || c == '-' || c == '_',
    first: (
        |c| alnum(c) || c == '-' || c == '_',
        "a letter, digit, `-` or `_`",
    ),
};
pub static TARGET: Rule = Rule {
    what: "gateway target name",
    regex: &TARGET_RE,
    max_len: 100,
    explain: "AgentCore target names use letters, digits and single hyphens (no underscores), at most 100 characters",
    allowed: |c| alnum(c) || c == '-',
    first: (alnum, "a letter or digit"),
};
pub static RUNTIME: Rule = Rule {
    what: "runtime name",
    regex: &RUNTIME_RE,
    max_len: 48,
    explain: "AgentCore runtime names match [a-zA-Z][a-zA-Z0-9_]{0,47}: letters, digits and underscores, at most 48 characters",
    allowed: |c| alnum(c) || c == '_',
    first: (letter, "a letter"),
};
pub static MEMORY: Rule = Rule {
    what: "memory name",
    regex: &RUNTIME_RE,
    max_len: 48,
    explain: "AgentCore memory names match [a-zA-Z][a-zA-Z0-9_]{0,47}: letters, digits and underscores, at most 48 characters",
    allowed: |c| alnum(c) || c == '_',
    first: (letter, "a letter"),
};
pub static POLICY_ENGINE: Rule = Rule {
    what: "policy engine name",
    regex: &RUNTIME_RE,
    max_len: 48,
    explain: "AgentCore policy engine names match [A-Za-z][A-Za-z0-9_]*: letters, digits and underscores, at most 48 characters",
    allowed: |c| alnum(c) || c == '_',
    first: (letter, "a letter"),
};
pub static POLICY: Rule = Rule {
    what: "policy name",
    regex: &RUNTIME_RE,
    max_len: 48,
    explain: "AgentCore policy names (`<project>_<engine>_<policy>`) match [A-Za-z][A-Za-z0-9_]*: letters, digits and underscores, at most 48 characters",
    allowed: |c| alnum(c) || c == '_',
    first: (letter, "a letter"),
};
pub static ENDPOINT: Rule = Rule {
    what: "runtime endpoint name",
    regex: &ENDPOINT_RE,
    max_len: 48,
    explain: "AgentCore runtime endpoint names match [a-zA-Z][a-zA-Z0-9_]{0,47}: letters, digits and underscores, at most 48 characters",
    allowed: |c| alnum(c) || c == '_',
    first: (letter, "a letter"),
};
pub static FUNCTION: Rule = Rule {
    what: "Lambda function name",
    regex: &FUNCTION_RE,
    max_len: 64,
    explain: "Lambda function names use letters, digits, hyphens and underscores, at most 64 characters",
    allowed: |c| alnum(c) || c == '_' || c == '-',
    first: (|c| alnum(c) || c == '_' || c == '-', "a letter or digit"),
};
pub static ROLE: Rule = Rule {
    what: "IAM role name",
    regex: &ROLE_RE,
    max_len: 64,
    explain: "IAM role names use letters, digits and +=,.@-_, at most 64 characters",
    allowed: |c| alnum(c) || "_+=,.@-".contains(c),
    first: (|c| alnum(c) || "_+=,.@-".contains(c), "a letter or digit"),
};
pub static REPOSITORY: Rule = Rule {
    what: "ECR repository name",
    regex: &REPO_RE,
    max_len: 256,
    explain: "ECR repository names use lowercase letters, digits and single . _ - / separators",
    allowed: |c| lower_alnum(c) || "._-/".contains(c),
    first: (lower_alnum, "a lowercase letter or digit"),
};
pub static TOOL: Rule = Rule {
    what: "tool name",
    regex: &TOOL_RE,
    max_len: 64,
    explain: "tool names use letters, digits, `_`, `-` and `.`, at most 64 characters",
    allowed: |c| alnum(c) || "_.-".contains(c),
    first: (|c| alnum(c) || "_.-".contains(c), "a letter or digit"),
};

/// The tool name agents call, `<target>___<tool>`: Bedrock's Converse API
/// (and so Strands) accepts tool names matching `^[a-zA-Z0-9_-]{1,64}$`.
pub static MCP_TOOL: Rule = Rule {
    what: "MCP tool name",
    regex: &MCP_TOOL_RE,
    max_len: 64,
    explain: "agents see a target's tools as `<target>___<tool>`, and Bedrock models accept tool names of letters, digits, `_` and `-` up to 64 characters: shorten the target key or the tool name, and avoid `.`",
    allowed: |c| alnum(c) || "_-".contains(c),
    first: (|c| alnum(c) || "_-".contains(c), "a letter or digit"),
};

impl Rule {
    /// `None` when `name` is valid, else what is wrong, naming the first
    /// character at fault where there is one.
    pub fn violation(&self, name: &str) -> Option<String> {
        self.fault(name)
            .map(|fault| format!("{} `{}` {fault}", self.what, crate::diag::shorten(name)))
    }

    /// What is wrong with `name`, as the end of a sentence about it
    /// ("contains `_`", "is 60 characters long, more than 48").
    pub fn fault(&self, name: &str) -> Option<String> {
        let len = name.chars().count();
        if len > self.max_len {
            return Some(format!(
                "is {len} characters long, more than {}",
                self.max_len
            ));
        }
        if self.regex.is_match(name) {
            return None;
        }
        let reason = if name.is_empty() {
            "is empty".to_string()
        } else if let Some(c) = name.chars().find(|c| !(self.allowed)(*c)) {
            if c.is_ascii_uppercase() && (self.allowed)(c.to_ascii_lowercase()) {
                "has uppercase letters".to_string()
            } else if c.is_whitespace() {
                "contains a space".to_string()
            } else {
                format!("contains `{c}`")
            }
        } else if !name.chars().next().is_some_and(self.first.0) {
            format!("must start with {}", self.first.1)
        } else if name.contains("--") {
            "has two hyphens in a row".to_string()
        } else if let Some(pair) = name
            .as_bytes()
            .windows(2)
            .find(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
        {
            format!(
                "has two separators in a row (`{}`)",
                String::from_utf8_lossy(pair)
            )
        } else if name.ends_with(|c: char| !c.is_ascii_alphanumeric()) {
            format!("ends with `{}`", name.chars().last().unwrap_or('-'))
        } else {
            "is not valid".to_string()
        };
        Some(reason)
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
/// A Lambda function ARN as CreateGatewayTarget takes it (170 at most).
pub fn valid_lambda_arn(s: &str) -> bool {
    s.len() <= 170 && LAMBDA_ARN_RE.is_match(s)
}
/// An IAM role's ARN (path included), for a role the spec brings.
pub fn valid_role_arn(s: &str) -> bool {
    s.len() <= 2048 && ROLE_ARN_RE.is_match(s)
}
pub fn valid_discovery_url(s: &str) -> bool {
    DISCOVERY_RE.is_match(s)
}
pub fn valid_env_key(s: &str) -> bool {
    ENV_KEY_RE.is_match(s)
}
/// A Bedrock model id, inference profile id or Bedrock ARN, without
/// wildcards (a runtime's `models`).
/// A VPC subnet id (`subnet-` and 8 or 17 hex digits).
pub fn valid_subnet(s: &str) -> bool {
    hex_id(s, "subnet-")
}
/// A security group id (`sg-` and 8 or 17 hex digits).
pub fn valid_security_group(s: &str) -> bool {
    hex_id(s, "sg-")
}
fn hex_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}
/// A request header AgentCore may pass to a runtime: a letter, then
/// letters, digits, `_` and `-`, at most 256 characters.
pub fn valid_header_name(s: &str) -> bool {
    let mut b = s.bytes();
    s.len() <= 256
        && b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}
pub fn valid_model(s: &str) -> bool {
    s.len() <= 2048 && MODEL_RE.is_match(s)
}

/// A principal an IAM trust policy's `AWS` element can name: a 12-digit
/// account id, an account root, or a role or user ARN (with a path).
pub fn valid_trust_principal(p: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(\d{12}|arn:aws(-[a-z]+)*:iam::\d{12}:(root|(role|user)/([\x21-\x7e]+/)*[\w+=,.@-]{1,64}))$",
        )
        .expect("valid regex")
    });
    RE.is_match(p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn trust_principals_are_accounts_roles_and_users() {
        for ok in [
            "123456789012",
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:role/ci-deploy",
            "arn:aws:iam::123456789012:role/teams/ci/deploy",
            "arn:aws-us-gov:iam::123456789012:user/alice",
        ] {
            assert!(super::valid_trust_principal(ok), "{ok}");
        }
        for bad in [
            "12345",
            "arn:aws:sts::123456789012:assumed-role/ci/s",
            "arn:aws:iam::123456789012:group/g",
            "ci-deploy",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(!super::valid_trust_principal(bad), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn derived_names() {
        assert_eq!(runtime("iam-auth-demo", "agent"), "iam_auth_demo_agent");
        assert_eq!(gateway("iam-auth-demo", "main"), "iam-auth-demo-main");
        assert_eq!(
            role("iam-auth-demo", "us-west-2", RoleOwner::Gateway, "main"),
            "iam-auth-demo-usw2-gw-main"
        );
        let codes = [
            ("us-east-1", "use1"),
            ("eu-central-1", "euc1"),
            ("ap-southeast-2", "apse2"),
            ("ap-south-1", "aps1"),
            ("ap-northeast-3", "apne3"),
            ("us-gov-west-1", "usgw1"),
            ("cn-northwest-1", "cnnw1"),
            ("il-central-1", "ilc1"),
        ];
        for (region, code) in codes {
            assert_eq!(region_code(region), code, "{region}");
        }
        assert_eq!(repository("iam-auth-demo", "agent"), "iam-auth-demo/agent");
    }

    #[test]
    fn rules() {
        assert!(GATEWAY.violation("my-gw").is_none());
        assert!(GATEWAY.violation("my_gw").is_some());
        assert!(GATEWAY.violation("a--b").is_some());
        assert!(RUNTIME.violation("agent_1").is_none());
        assert!(RUNTIME.violation("1agent").is_some());
        assert_eq!(
            RUNTIME.violation(&"a".repeat(49)).unwrap(),
            format!(
                "runtime name `{}` is 49 characters long, more than 48",
                "a".repeat(49)
            )
        );
        assert!(PROJECT.violation("Demo").is_some());
    }

    #[test]
    fn violations_name_the_fault() {
        let cases: &[(&Rule, &str, &str)] = &[
            (
                &GATEWAY,
                "demo-main_gw",
                "gateway name `demo-main_gw` contains `_`",
            ),
            (
                &GATEWAY,
                "demo--gw",
                "gateway name `demo--gw` has two hyphens in a row",
            ),
            (
                &GATEWAY,
                "-gw",
                "gateway name `-gw` must start with a letter or digit",
            ),
            (
                &TARGET,
                "calc target",
                "gateway target name `calc target` contains a space",
            ),
            (
                &RUNTIME,
                "1agent",
                "runtime name `1agent` must start with a letter",
            ),
            (
                &RUNTIME,
                "demo_agent.v2",
                "runtime name `demo_agent.v2` contains `.`",
            ),
            (
                &PROJECT,
                "Demo",
                "project name `Demo` has uppercase letters",
            ),
            (&PROJECT, "demo-", "project name `demo-` ends with `-`"),
            (
                &PROJECT,
                "9demo",
                "project name `9demo` must start with a lowercase letter",
            ),
            (&PROJECT, "", "project name `` is empty"),
            (
                &REPOSITORY,
                "demo/Agent",
                "ECR repository name `demo/Agent` has uppercase letters",
            ),
            (
                &REPOSITORY,
                "demo/a__b",
                "ECR repository name `demo/a__b` has two separators in a row (`__`)",
            ),
            (
                &TOOL,
                "add numbers",
                "tool name `add numbers` contains a space",
            ),
        ];
        for (rule, name, want) in cases {
            assert_eq!(rule.violation(name).as_deref(), Some(*want), "{name}");
        }
        assert_eq!(
            TARGET.violation(&"t".repeat(101)).unwrap(),
            format!(
                "gateway target name `{}…` is 101 characters long, more than 100",
                "t".repeat(59)
            )
        );
        assert!(REPOSITORY.violation("demo/agent").is_none());
        assert!(valid_image(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/agent:latest"
        ));
        assert!(!valid_image("docker.io/library/python:3.12"));
        for ok in [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "amazon.titan-embed-text-v2:0:8k",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        ] {
            assert!(valid_model(ok), "{ok}");
        }
        for bad in [
            "claude",
            "anthropic.*",
            "arn:aws:bedrock:*::foundation-model/*",
            "arn:aws:s3:::bucket/model",
            "us.anthropic.claude haiku",
        ] {
            assert!(!valid_model(bad), "{bad}");
        }
        assert!(valid_discovery_url(
            "https://idp.example.com/.well-known/openid-configuration"
        ));
    }
}
