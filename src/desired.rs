//! From a checked spec to the list of resources it wants, with every field
//! AWS will hold, derived IAM included.
//!
//! Pure: the caller supplies the account, the packaged function code and the
//! ids of resources that already exist (`Known`). A reference to something
//! not created yet resolves to [`UNKNOWN`], which the plan shows as
//! "(known after apply)"; the executor rebuilds each resource right before
//! creating it, when the ids are known.

use std::collections::BTreeMap;

use crate::model::{
    Account, Address, Code, Config, Desired, FunctionConfig, GatewayAuthorizer, GatewayConfig, Ids,
    Kind, RepositoryConfig, RoleConfig, RolePolicyConfig, RuntimeConfig, Tags, TargetConfig,
    ToolDef, UNKNOWN,
};
use crate::names::{self, RoleOwner};
use crate::package::Package;
use crate::policy;
use crate::spec::refs::{self, Ref, Segment};
use crate::spec::{ArtifactSpec, AuthorizerSpec, FunctionSpec, LoadedSpec, Spec};

/// Ids of resources that exist, by address.
pub type Known = BTreeMap<Address, Ids>;

/// Image tag of a container artifact that names none.
pub const DEFAULT_TAG: &str = "latest";

/// What the spec's artifacts are right now: packaged function code by
/// function key, and the digest each runtime's image tag points at (by
/// runtime key; absent while the image is not pushed).
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub packages: BTreeMap<String, Package>,
    pub image_digests: BTreeMap<String, String>,
}

pub fn function_addr(key: &str) -> Address {
    Address::new(Kind::Function, key)
}
pub fn gateway_addr(key: &str) -> Address {
    Address::new(Kind::Gateway, key)
}
pub fn target_addr(gateway: &str, target: &str) -> Address {
    Address::new(Kind::GatewayTarget, format!("{gateway}/{target}"))
}
pub fn runtime_addr(key: &str) -> Address {
    Address::new(Kind::Runtime, key)
}
pub fn repository_addr(key: &str) -> Address {
    Address::new(Kind::Repository, key)
}
pub fn role_addr(owner: RoleOwner, key: &str) -> Address {
    Address::new(Kind::Role, format!("{}-{key}", owner.short()))
}
pub fn policy_addr(owner: RoleOwner, key: &str) -> Address {
    Address::new(Kind::RolePolicy, format!("{}-{key}", owner.short()))
}

fn tags(spec: &Spec, addr: &Address) -> Tags {
    let mut t = spec.tags.clone();
    t.insert(names::TAG_PROJECT.into(), spec.project.clone());
    t.insert(names::TAG_RESOURCE.into(), addr.to_string());
    t
}

/// Resolves `${kind.name.attr}` references in `s`. Returns the text and the
/// addresses it depends on.
pub fn resolve(s: &str, spec: &Spec, account: &Account, known: &Known) -> (String, Vec<Address>) {
    let Ok(segments) = refs::parse(s) else {
        return (s.to_string(), vec![]);
    };
    let mut out = String::new();
    let mut deps = Vec::new();
    for seg in segments {
        match seg {
            Segment::Literal(l) => out.push_str(&l),
            Segment::Ref(Ref::Resource { kind, name, attr }, _) => {
                let (addr, value) = attribute(spec, account, known, &kind, &name, &attr);
                if let Some(a) = addr {
                    deps.push(a);
                }
                out.push_str(&value);
            }
            // Variables were substituted at load time.
            Segment::Ref(_, range) => out.push_str(&s[range]),
        }
    }
    (out, deps)
}

fn attribute(
    spec: &Spec,
    a: &Account,
    known: &Known,
    kind: &str,
    name: &str,
    attr: &str,
) -> (Option<Address>, String) {
    let p = &spec.project;
    let from_known = |addr: &Address, pick: fn(&Ids) -> Option<String>| {
        known
            .get(addr)
            .and_then(pick)
            .unwrap_or_else(|| UNKNOWN.to_string())
    };
    match kind {
        "functions" => {
            let fname = names::function(p, name);
            let v = if attr == "arn" {
                a.function_arn(&fname)
            } else {
                fname
            };
            (Some(function_addr(name)), v)
        }
        "repositories" => {
            let rname = names::repository(p, name);
            let v = match attr {
                "uri" => a.repository_uri(&rname),
                "arn" => a.repository_arn(&rname),
                _ => rname,
            };
            (Some(repository_addr(name)), v)
        }
        "gateways" => {
            let addr = gateway_addr(name);
            let v = match attr {
                "name" => names::gateway(p, name),
                "id" => from_known(&addr, |i| i.id.clone()),
                "url" => from_known(&addr, |i| i.url.clone()),
                _ => from_known(&addr, |i| i.arn.clone()),
            };
            (Some(addr), v)
        }
        _ => {
            let addr = runtime_addr(name);
            let v = match attr {
                "name" => names::runtime(p, name),
                "id" => from_known(&addr, |i| i.id.clone()),
                _ => from_known(&addr, |i| i.arn.clone()),
            };
            (Some(addr), v)
        }
    }
}

fn resolve_env(
    env: &BTreeMap<String, String>,
    spec: &Spec,
    a: &Account,
    known: &Known,
    deps: &mut Vec<Address>,
) -> BTreeMap<String, String> {
    env.iter()
        .map(|(k, v)| {
            let (val, d) = resolve(v, spec, a, known);
            deps.extend(d);
            (k.clone(), val)
        })
        .collect()
}

fn role(
    spec: &Spec,
    owner: RoleOwner,
    key: &str,
    trust: serde_json::Value,
    description: String,
) -> Desired {
    let addr = role_addr(owner, key);
    Desired {
        config: Config::Role(RoleConfig {
            name: names::role(&spec.project, owner, key),
            path: names::role_path(&spec.project),
            trust_policy: trust,
            description,
            tags: tags(spec, &addr),
        }),
        addr,
        deps: vec![],
    }
}

fn role_policy(
    spec: &Spec,
    owner: RoleOwner,
    key: &str,
    document: serde_json::Value,
    mut deps: Vec<Address>,
) -> Desired {
    deps.insert(0, role_addr(owner, key));
    Desired {
        addr: policy_addr(owner, key),
        deps,
        config: Config::RolePolicy(RolePolicyConfig {
            role: names::role(&spec.project, owner, key),
            name: names::POLICY_NAME.into(),
            document,
        }),
    }
}

fn role_arn(spec: &Spec, a: &Account, owner: RoleOwner, key: &str) -> String {
    a.role_arn(
        &names::role_path(&spec.project),
        &names::role(&spec.project, owner, key),
    )
}

fn function(
    l: &LoadedSpec,
    a: &Account,
    known: &Known,
    key: &str,
    f: &FunctionSpec,
    pkg: Option<&Package>,
) -> Desired {
    let spec = &l.spec;
    let addr = function_addr(key);
    let mut deps = vec![
        role_addr(RoleOwner::Function, key),
        policy_addr(RoleOwner::Function, key),
    ];
    let environment = resolve_env(&f.environment, spec, a, known, &mut deps);
    Desired {
        config: Config::Function(FunctionConfig {
            name: names::function(&spec.project, key),
            runtime: f.runtime.clone(),
            handler: f.handler.clone(),
            memory: f.memory.unwrap_or(FunctionSpec::DEFAULT_MEMORY),
            timeout: f.timeout.unwrap_or(FunctionSpec::DEFAULT_TIMEOUT),
            architecture: f.architecture.clone().unwrap_or_else(|| "x86_64".into()),
            description: f.description.clone().unwrap_or_default(),
            role_arn: role_arn(spec, a, RoleOwner::Function, key),
            environment,
            code_sha256: pkg.map_or_else(|| UNKNOWN.to_string(), |p| p.sha256.clone()),
            code: pkg.map(|p| Code(std::sync::Arc::new(p.zip.clone()))),
            tags: tags(spec, &addr),
        }),
        addr,
        deps: dedup(deps),
    }
}

fn dedup(mut v: Vec<Address>) -> Vec<Address> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|a| seen.insert(a.clone()));
    v
}

/// Every resource the spec wants, in a stable order.
pub fn build(l: &LoadedSpec, a: &Account, artifacts: &Artifacts, known: &Known) -> Vec<Desired> {
    let packages = &artifacts.packages;
    let spec = &l.spec;
    let p = &spec.project;
    let mut out = Vec::new();

    for (key, f) in &spec.functions {
        let fname = names::function(p, key);
        out.push(role(
            spec,
            RoleOwner::Function,
            key,
            policy::lambda_trust(),
            format!("Execution role of Lambda function {fname} (agentform)"),
        ));
        out.push(role_policy(
            spec,
            RoleOwner::Function,
            key,
            policy::lambda_logs(a, &fname),
            vec![],
        ));
        out.push(function(l, a, known, key, f, packages.get(key)));
    }

    for (key, r) in &spec.repositories {
        let addr = repository_addr(key);
        let r = r.clone().unwrap_or_default();
        out.push(Desired {
            config: Config::Repository(RepositoryConfig {
                name: names::repository(p, key),
                scan_on_push: r.scan_on_push.unwrap_or(false),
                tag_mutability: r
                    .image_tag_mutability
                    .clone()
                    .unwrap_or_else(|| "MUTABLE".into()),
                force_delete: r.force_delete.unwrap_or(false),
                tags: tags(spec, &addr),
            }),
            addr,
            deps: vec![],
        });
    }

    for (key, g) in &spec.gateways {
        let gname = names::gateway(p, key);
        let addr = gateway_addr(key);
        out.push(role(
            spec,
            RoleOwner::Gateway,
            key,
            policy::agentcore_trust(a, "gateway"),
            format!("Service role of AgentCore gateway {gname} (agentform)"),
        ));
        let mut fn_arns: Vec<String> = g
            .targets
            .values()
            .map(|t| a.function_arn(&names::function(p, &t.function)))
            .collect();
        fn_arns.sort();
        fn_arns.dedup();
        if !fn_arns.is_empty() {
            out.push(role_policy(
                spec,
                RoleOwner::Gateway,
                key,
                policy::gateway_invoke(a, &fn_arns),
                vec![],
            ));
        }
        let authorizer = match &g.authorizer {
            AuthorizerSpec::Named(_) => GatewayAuthorizer::AwsIam,
            AuthorizerSpec::CustomJwt { custom_jwt: j } => GatewayAuthorizer::CustomJwt {
                discovery_url: j.discovery_url.clone(),
                allowed_audiences: j.allowed_audiences.clone(),
                allowed_clients: j.allowed_clients.clone(),
                allowed_scopes: j.allowed_scopes.clone(),
            },
        };
        out.push(Desired {
            config: Config::Gateway(GatewayConfig {
                name: gname.clone(),
                description: g.description.clone().unwrap_or_default(),
                role_arn: role_arn(spec, a, RoleOwner::Gateway, key),
                authorizer,
                protocol_type: "MCP".into(),
                semantic_search: g.semantic_search(),
                tags: tags(spec, &addr),
            }),
            addr: addr.clone(),
            deps: vec![role_addr(RoleOwner::Gateway, key)],
        });
        for (tkey, t) in &g.targets {
            out.push(Desired {
                addr: target_addr(key, tkey),
                deps: vec![
                    addr.clone(),
                    function_addr(&t.function),
                    policy_addr(RoleOwner::Gateway, key),
                ],
                config: Config::Target(TargetConfig {
                    gateway: gname.clone(),
                    name: names::target(tkey),
                    description: t.description.clone().unwrap_or_default(),
                    lambda_arn: a.function_arn(&names::function(p, &t.function)),
                    tools: t
                        .tools
                        .iter()
                        .map(|tool| ToolDef {
                            name: tool.name.clone(),
                            description: tool.description.clone(),
                            input: tool.input.clone(),
                            output: tool.output.clone(),
                        })
                        .collect(),
                    credential_provider: "GATEWAY_IAM_ROLE".into(),
                }),
            });
        }
    }

    for (key, r) in &spec.runtimes {
        let rname = names::runtime(p, key);
        let addr = runtime_addr(key);
        out.push(role(
            spec,
            RoleOwner::Runtime,
            key,
            policy::agentcore_trust(a, "runtime"),
            format!("Execution role of AgentCore runtime {rname} (agentform)"),
        ));
        let mut policy_deps = Vec::new();
        let gateway_arns: Vec<String> = r
            .invoke_gateways
            .iter()
            .map(|g| {
                let (arn, d) = resolve(&format!("${{gateways.{g}.arn}}"), spec, a, known);
                policy_deps.extend(d);
                arn
            })
            .collect();
        let mut deps = vec![
            role_addr(RoleOwner::Runtime, key),
            policy_addr(RoleOwner::Runtime, key),
        ];
        let (uri, repo_arn) = match &r.artifact {
            ArtifactSpec::Container(c) => {
                let repo = names::repository(p, &c.repository);
                deps.push(repository_addr(&c.repository));
                // Pinning the digest the tag points at makes a newly pushed
                // image under the same tag show up in the plan (and roll out).
                let mut uri = format!(
                    "{}:{}",
                    a.repository_uri(&repo),
                    c.tag.as_deref().unwrap_or(DEFAULT_TAG)
                );
                if let Some(digest) = artifacts.image_digests.get(key) {
                    uri = format!("{uri}@{digest}");
                }
                (uri, Some(a.repository_arn(&repo)))
            }
            ArtifactSpec::Image(uri) => (uri.clone(), ecr_arn_of_image(a, uri)),
        };
        out.push(role_policy(
            spec,
            RoleOwner::Runtime,
            key,
            policy::runtime_execution(a, &rname, repo_arn.as_deref(), &gateway_arns),
            policy_deps,
        ));
        let environment = resolve_env(&r.environment, spec, a, known, &mut deps);
        out.push(Desired {
            config: Config::Runtime(RuntimeConfig {
                name: rname,
                description: r.description.clone().unwrap_or_default(),
                role_arn: role_arn(spec, a, RoleOwner::Runtime, key),
                container_uri: uri,
                network_mode: r.network.clone().unwrap_or_else(|| "PUBLIC".into()),
                protocol: r.protocol.clone().unwrap_or_else(|| "HTTP".into()),
                environment,
                tags: tags(spec, &addr),
            }),
            addr,
            deps: dedup(deps),
        });
    }
    out
}

/// `<acct>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` -> the repository ARN.
fn ecr_arn_of_image(a: &Account, uri: &str) -> Option<String> {
    let (host, rest) = uri.split_once('/')?;
    let mut parts = host.split('.');
    let acct = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let repo = rest.split(['@', ':']).next()?;
    Some(format!(
        "arn:{}:ecr:{region}:{acct}:repository/{repo}",
        a.partition
    ))
}

/// The spec's outputs, resolved against known ids.
pub fn outputs(spec: &Spec, a: &Account, known: &Known) -> BTreeMap<String, String> {
    spec.outputs
        .iter()
        .map(|(k, v)| (k.clone(), resolve(v, spec, a, known).0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_arn() {
        let a = Account {
            id: "123456789012".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        };
        assert_eq!(
            ecr_arn_of_image(
                &a,
                "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/agent:v1"
            )
            .as_deref(),
            Some("arn:aws:ecr:eu-west-1:111122223333:repository/team/agent")
        );
        assert_eq!(ecr_arn_of_image(&a, "public.ecr.aws/x/y:1"), None);
    }
}
