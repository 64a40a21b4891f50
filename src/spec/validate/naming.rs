//! AWS naming rules: the physical names derived from the project and the
//! resource keys, the project and region, tag keys and values, and
//! environment variable names.

use std::collections::BTreeMap;

use super::{Checker, ptr};
use crate::diag::Diagnostic;
use crate::names::{self, Rule};

impl Checker<'_> {
    /// Checks the physical name `derive(project)` of the resource whose key
    /// is at `key_ptr`; `how` says how the name is derived (`None`: it is the
    /// key itself). One problem per key: a second derived name (the role)
    /// breaking for the same key would only repeat it.
    pub(super) fn name_rule(
        &mut self,
        rule: &Rule,
        key_ptr: &str,
        how: Option<&str>,
        derive: impl Fn(&str) -> String,
    ) {
        if self.named.contains(key_ptr) {
            return;
        }
        let key = key_ptr
            .rsplit('/')
            .next()
            .unwrap_or("")
            .replace("~1", "/")
            .replace("~0", "~");
        if key.is_empty() && how.is_some() {
            // `<project>-` would pass most rules, but names nothing.
            self.named.insert(key_ptr.to_string());
            self.diags.push(
                Diagnostic::new("empty key", self.key_span(key_ptr))
                    .label("the physical name is derived from this key")
                    .help(format!(
                        "name the resource: its {} is derived from the key",
                        rule.what
                    )),
            );
            return;
        }
        let (message, label) = if how.is_none() || self.project_ok {
            let Some(problem) = rule.violation(&derive(&self.spec().project)) else {
                return;
            };
            let label = if how.is_some() {
                "the physical name is derived from this key".to_string()
            } else {
                format!("invalid {}", rule.what)
            };
            (problem, label)
        } else {
            // The project is invalid (reported on its own); judge the key with
            // a stand-in project, leaving lengths to the next run.
            match rule.fault(&derive("p")) {
                Some(fault) if !fault.starts_with("is ") => (
                    format!("{} for key `{key}` {fault}", rule.what),
                    "the physical name is derived from this key".to_string(),
                ),
                _ => return,
            }
        };
        let fix = if message.contains(" characters long, more than ") {
            "shorten the key"
        } else {
            "rename the key"
        };
        let help = match how {
            Some(how) => format!("{}; the name is {how}, so {fix}", rule.explain),
            None => rule.explain.to_string(),
        };
        self.named.insert(key_ptr.to_string());
        self.diags.push(
            Diagnostic::new(message, self.key_span(key_ptr))
                .label(label)
                .help(help),
        );
    }

    pub(super) fn project(&mut self) {
        let p = self.spec().project.clone();
        if let Some(problem) = names::PROJECT.violation(&p) {
            self.diags.push(
                Diagnostic::new(problem, self.value_span("/project"))
                    .label("invalid project name")
                    .help(names::PROJECT.explain),
            );
        }
        if let Some(region) = &self.spec().region
            && !names::valid_region(region)
        {
            self.diags.push(
                Diagnostic::new(
                    format!("`{region}` is not an AWS region name"),
                    self.value_span("/region"),
                )
                .label("invalid region")
                .help("use a region code such as `us-east-1`"),
            );
        }
    }

    /// `rates:` names APIs agentform calls.
    pub(super) fn rates(&mut self) {
        let apis: Vec<String> = self.spec().rates.keys().cloned().collect();
        for api in apis {
            if crate::aws::quota::APIS.contains(&api.as_str()) {
                continue;
            }
            let p = ptr(&["rates", &api]);
            let mut d = Diagnostic::new(
                format!("agentform does not call `{api}`"),
                self.key_span(&p),
            )
            .label("unknown API");
            d = match crate::aws::quota::suggest(&api) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None => d.help("rates are set for the APIs agentform calls, named as in IAM actions (`bedrock-agentcore:CreateGatewayTarget`, `lambda:CreateFunction`, `iam:CreateRole`, `ecr:CreateRepository`)"),
            };
            self.diags.push(d);
        }
    }

    /// Each of `verify_principals` is a principal a trust policy can name.
    pub(super) fn verify_principals(&mut self) {
        let principals = self.spec().verify_principals.clone();
        for (i, p) in principals.iter().enumerate() {
            if names::valid_trust_principal(p) {
                continue;
            }
            let at = ptr(&["verify_principals", &i.to_string()]);
            let mut d = Diagnostic::new(
                format!("`{p}` is not an IAM principal a trust policy can name"),
                self.value_span(&at),
            )
            .label("not a role, user or account");
            d = if p.contains(":assumed-role/") {
                d.help(format!(
                    "name the role, not its session: `{}`",
                    crate::aws::principal_of(p)
                ))
            } else {
                d.help("give a role or user ARN (`arn:aws:iam::123456789012:role/ci-deploy`), an account root (`arn:aws:iam::123456789012:root`) or a 12-digit account id")
            };
            self.diags.push(d);
        }
    }

    pub(super) fn tags(&mut self) {
        let tags = self.spec().tags.clone();
        for (k, v) in &tags {
            let p = ptr(&["tags", k]);
            if k.starts_with("aws:") || k.starts_with("agentform:") {
                self.diags.push(
                    Diagnostic::new(format!("tag key `{k}` uses a reserved prefix"), self.key_span(&p))
                        .label("reserved")
                        .help("`aws:` belongs to AWS and `agentform:` to the ownership tags agentform sets itself"),
                );
            } else if !names::valid_tag(k) || k.is_empty() || k.len() > 128 {
                self.diags.push(
                    Diagnostic::new(format!("invalid tag key `{k}`"), self.key_span(&p))
                        .label("invalid tag key")
                        .help("tag keys are 1-128 characters of letters, digits, spaces and . _ : / = + @ -"),
                );
            }
            if !names::valid_tag(v) || v.len() > 256 {
                self.diags.push(
                    Diagnostic::new(format!("invalid value for tag `{k}`"), self.value_span(&p))
                        .label("invalid tag value")
                        .help("tag values are 0-256 characters of letters, digits, spaces and . _ : / = + @ -"),
                );
            }
        }
    }

    pub(super) fn env_keys(&mut self, base: &[&str], env: &BTreeMap<String, String>, lambda: bool) {
        for k in env.keys() {
            let mut parts = base.to_vec();
            parts.push("environment");
            parts.push(k);
            let p = ptr(&parts);
            if !names::valid_env_key(k) || k.len() > 100 {
                self.diags.push(
                    Diagnostic::new(format!("invalid environment variable name `{k}`"), self.key_span(&p))
                        .label("invalid name")
                        .help("names start with a letter and use letters, digits and underscores (at most 100)"),
                );
            } else if lambda && is_reserved_lambda_env(k) {
                self.diags.push(
                    Diagnostic::new(format!("`{k}` is set by Lambda itself and cannot be overridden"), self.key_span(&p))
                        .label("reserved by Lambda")
                        .help("pick another name; Lambda sets AWS_REGION, AWS_LAMBDA_* and the credential variables"),
                );
            }
        }
        // A runtime also gets the variables that name the credential
        // providers of its `cognito_m2m` gateways.
        let added = match base {
            ["runtimes", key] if !lambda => self.spec().runtimes.get(*key).map_or(0, |r| {
                r.invoke_gateways
                    .iter()
                    .filter(|g| {
                        self.spec().gateways.get(*g).is_some_and(|gs| {
                            matches!(
                                gs.authorizer,
                                crate::spec::AuthorizerSpec::CognitoM2m { .. }
                            )
                        })
                    })
                    .flat_map(|g| {
                        let (a, b) = crate::plan::desired::m2m_env_names(g);
                        [a, b]
                    })
                    .filter(|k| !env.contains_key(k))
                    .count()
            }),
            _ => 0,
        };
        if env.len() + added > 50 && !lambda {
            let mut parts = base.to_vec();
            parts.push("environment");
            let mut d = Diagnostic::new(
                "a runtime takes at most 50 environment variables",
                self.key_span(&ptr(&parts)),
            );
            if added > 0 {
                d = d.help(format!(
                    "agentform adds {added} for the credential providers of its cognito_m2m gateways (AGENTFORM_GATEWAY_<KEY>_OAUTH_PROVIDER and _SCOPES)"
                ));
            }
            self.diags.push(d);
        }
    }

    pub(super) fn repositories(&mut self) {
        let keys: Vec<String> = self.spec().repositories.keys().cloned().collect();
        for key in keys {
            self.name_rule(
                &names::REPOSITORY,
                &ptr(&["repositories", &key]),
                Some("`<project>/<key>`"),
                |p| names::repository(p, &key),
            );
        }
    }
}

fn is_reserved_lambda_env(k: &str) -> bool {
    const RESERVED: &[&str] = &[
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ];
    RESERVED.contains(&k)
}
