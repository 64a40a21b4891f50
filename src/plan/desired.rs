//! From a checked spec to the list of resources it wants, with every field
//! AWS will hold, derived IAM included.
//!
//! Pure: the caller supplies the account, the packaged function code and the
//! ids of resources that already exist ([`Known`]). A reference to an id not
//! known yet stays a typed reference inside the value ([`Resolved`],
//! [`Val`]); the plan shows it as `(known after apply)` and the executor
//! fills it in once the resource it names exists.

use std::collections::{BTreeMap, BTreeSet};

use super::policy;
use crate::model::{
    Account, Address, Attr, Authorizer, BucketConfig, Code, Config, Desired, EndpointConfig,
    Environment, FunctionConfig, GatewayConfig, Known, Lookup, MemoryConfig, MemoryStrategy, Part,
    Ref, RepositoryConfig, Resolved, RoleConfig, RoleOwner, RolePolicyConfig, RuntimeArtifact,
    RuntimeConfig, Tags, TargetConfig, TargetCredentials, TargetSource, ToolDef, Val, Vpc,
};
use crate::model::{
    ApiFilter, ApiKeyProviderConfig, ApiOverride, ApiSchema, GatewayPolicyEngine, Interceptor,
    M2mClientConfig, OAuthProviderConfig, PolicyConfig, PolicyEngineConfig, Secret, UserPoolConfig,
};
use crate::names;
use crate::package::Package;
use crate::spec::refs::{self, Segment};
use crate::spec::{
    ApiSchemaSpec, ArtifactSpec, AuthorizerSpec, CedarSpec, CredentialSpec, EndpointVersion,
    FunctionSpec, LoadedSpec, RepositorySpec, RuntimeSpec, Spec, TargetCredentialSpec, TargetSpec,
    ToolsSpec,
};
use serde_json::Value;
use std::sync::Arc;

/// The Lambda function a target invokes: of the spec, or by ARN.
fn lambda_arn(spec: &Spec, a: &Account, t: &TargetSpec) -> Option<String> {
    match (&t.function, &t.lambda_arn) {
        (Some(f), _) => Some(a.function_arn(&names::function(&spec.project, f))),
        (None, Some(arn)) => Some(arn.clone()),
        (None, None) => None,
    }
}

fn api_schema(l: &LoadedSpec, s: &ApiSchemaSpec) -> ApiSchema {
    match s {
        ApiSchemaSpec::File(f) => ApiSchema::Inline(
            l.documents
                .get(f)
                .map_or_else(|| Arc::new(Value::Null), |d| d.value.clone()),
        ),
        ApiSchemaSpec::Inline(i) => ApiSchema::Inline(i.inline.clone()),
        ApiSchemaSpec::S3(s3) => ApiSchema::S3 {
            uri: s3.s3.clone(),
            bucket_owner: s3.bucket_owner.clone().unwrap_or_default(),
        },
    }
}

/// What a target exposes. A spec loaded without its documents (destroy)
/// gets empty stand-ins: only the target's address and name matter then.
fn target_source(l: &LoadedSpec, a: &Account, t: &TargetSpec) -> TargetSource {
    if let Some(arn) = lambda_arn(&l.spec, a, t) {
        let tools = match &t.tools {
            Some(ToolsSpec::Inline(tools)) => tools.iter().map(tool_def).collect(),
            Some(ToolsSpec::File(f)) => l
                .documents
                .get(f)
                .map(|d| crate::spec::documents::tool_file(&d.value).0)
                .unwrap_or_default(),
            None => vec![],
        };
        return TargetSource::Lambda { arn, tools };
    }
    if let Some(s) = &t.openapi {
        return TargetSource::OpenApi(api_schema(l, s));
    }
    if let Some(s) = &t.smithy {
        return TargetSource::Smithy(api_schema(l, s));
    }
    if let Some(m) = &t.mcp_server {
        return TargetSource::McpServer {
            endpoint: m.endpoint().to_string(),
            listing_mode: m.listing_mode(),
        };
    }
    if let Some(g) = &t.api_gateway {
        let mut filters: Vec<ApiFilter> = g
            .tools
            .iter()
            .map(|f| {
                let mut methods: Vec<String> =
                    f.methods.iter().map(|m| m.to_ascii_uppercase()).collect();
                methods.sort();
                methods.dedup();
                ApiFilter {
                    path: f.path.clone(),
                    methods,
                }
            })
            .collect();
        filters.sort();
        let mut overrides: Vec<ApiOverride> = g
            .overrides
            .iter()
            .map(|o| ApiOverride {
                path: o.path.clone(),
                method: o.method.to_ascii_uppercase(),
                name: o.name.clone(),
                description: o.description.clone().unwrap_or_default(),
            })
            .collect();
        overrides.sort();
        return TargetSource::ApiGateway {
            rest_api_id: g.rest_api.clone(),
            stage: g.stage.clone(),
            filters,
            overrides,
        };
    }
    // validate requires one of the above.
    TargetSource::Other("none".into())
}

fn tool_def(tool: &crate::spec::ToolSpec) -> ToolDef {
    ToolDef {
        name: tool.name.clone(),
        description: tool.description.clone(),
        input: tool.input.clone(),
        output: tool.output.clone(),
    }
}

/// The credential a target refers to by key, if any.
fn credential_use(t: &TargetSpec) -> Option<&str> {
    match &t.credentials {
        Some(TargetCredentialSpec::ApiKey(k)) => Some(&k.api_key),
        Some(TargetCredentialSpec::OAuth(o)) => Some(&o.oauth),
        Some(TargetCredentialSpec::Named(_)) | None => None,
    }
}

/// The address of credential `key` (an API key or an OAuth2 provider).
fn credential_addr(spec: &Spec, key: &str) -> Address {
    match spec.credentials.get(key) {
        Some(CredentialSpec::OAuth(_)) => Address::OAuthProvider(key.to_string()),
        Some(CredentialSpec::ApiKey(_)) | None => Address::ApiKeyProvider(key.to_string()),
    }
}

fn target_credentials(spec: &Spec, a: &Account, t: &TargetSpec) -> TargetCredentials {
    let p = &spec.project;
    match &t.credentials {
        Some(TargetCredentialSpec::Named(n)) if n == "none" => TargetCredentials::None,
        Some(TargetCredentialSpec::Named(_)) => TargetCredentials::GatewayIamRole,
        Some(TargetCredentialSpec::ApiKey(k)) => TargetCredentials::ApiKey {
            provider_arn: a.api_key_provider_arn(&names::credential(p, &k.api_key)),
            location: k
                .location
                .as_deref()
                .unwrap_or("header")
                .to_ascii_uppercase(),
            parameter_name: k.name.clone().unwrap_or_default(),
            prefix: k.prefix.clone().unwrap_or_default(),
        },
        Some(TargetCredentialSpec::OAuth(o)) => TargetCredentials::OAuth {
            provider_arn: a.oauth_provider_arn(&names::credential(p, &o.oauth)),
            scopes: o.scopes.clone(),
            custom_parameters: o.custom_parameters.clone(),
            // What AgentCore reads back when none is sent.
            grant_type: o
                .grant_type
                .as_deref()
                .unwrap_or("client_credentials")
                .to_ascii_uppercase(),
        },
        // Lambda (IAM only), Smithy (AWS APIs) and API Gateway stages are
        // called with the gateway's role; an MCP server with nothing.
        None if t.mcp_server.is_some() || t.openapi.is_some() => TargetCredentials::None,
        None => TargetCredentials::GatewayIamRole,
    }
}

/// Image tag of a container artifact that names none.
pub const DEFAULT_TAG: &str = "latest";

/// The key of the project's bucket of code bundles (`s3_bucket.code`).
pub const BUCKET_KEY: &str = "code";

/// What the spec's artifacts are right now: packaged function code by
/// function key, and the digest each runtime's image tag points at (by
/// runtime key; absent while the image is not pushed).
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub packages: BTreeMap<String, Package>,
    pub image_digests: BTreeMap<String, String>,
    /// Code runtimes' bundles (their inputs hashed), by runtime key.
    pub bundles: BTreeMap<String, std::sync::Arc<crate::bundle::Bundle>>,
    /// Container runtimes built from a context, by runtime key.
    pub builds: BTreeMap<String, std::sync::Arc<crate::image::ImageBuild>>,
}

/// The value of a reference: derived from the spec where the name or ARN is
/// deterministic, else read from the ids of existing resources.
struct Values<'a> {
    project: &'a str,
    account: &'a Account,
    known: &'a Known,
}

impl Values<'_> {
    /// What the spec alone determines.
    fn derived(&self, r: &Ref) -> Option<String> {
        let (p, a) = (self.project, self.account);
        match &r.addr {
            Address::Function(k) => {
                let n = names::function(p, k);
                match r.attr {
                    Attr::Arn => Some(a.function_arn(&n)),
                    Attr::Name => Some(n),
                    Attr::Id | Attr::Url | Attr::Uri | Attr::Version => None,
                }
            }
            Address::Repository(k) => {
                let n = names::repository(p, k);
                match r.attr {
                    Attr::Uri => Some(a.repository_uri(&n)),
                    Attr::Arn => Some(a.repository_arn(&n)),
                    Attr::Name => Some(n),
                    Attr::Id | Attr::Url | Attr::Version => None,
                }
            }
            Address::Bucket(_) => {
                let n = names::bucket(p, &a.id, &a.region);
                match r.attr {
                    Attr::Name | Attr::Id => Some(n),
                    Attr::Arn => Some(format!("arn:{}:s3:::{n}", a.partition)),
                    Attr::Url | Attr::Uri | Attr::Version => None,
                }
            }
            Address::Role(o, k) => match r.attr {
                Attr::Name => Some(names::role(p, &a.region, *o, k)),
                Attr::Arn => {
                    Some(a.role_arn(&names::role_path(p), &names::role(p, &a.region, *o, k)))
                }
                Attr::Id | Attr::Url | Attr::Uri | Attr::Version => None,
            },
            Address::Gateway(k) => (r.attr == Attr::Name).then(|| names::gateway(p, k)),
            Address::Memory(k) => (r.attr == Attr::Name).then(|| names::memory(p, k)),
            Address::PolicyEngine(k) => (r.attr == Attr::Name).then(|| names::policy_engine(p, k)),
            Address::Policy { engine, policy } => (r.attr == Attr::Name)
                .then(|| names::policy(&names::policy_engine(p, engine), policy)),
            Address::ApiKeyProvider(k) => match r.attr {
                Attr::Name => Some(names::credential(p, k)),
                Attr::Arn => Some(a.api_key_provider_arn(&names::credential(p, k))),
                Attr::Id | Attr::Url | Attr::Uri | Attr::Version => None,
            },
            Address::OAuthProvider(k) => match r.attr {
                Attr::Name => Some(names::credential(p, k)),
                Attr::Arn => Some(a.oauth_provider_arn(&names::credential(p, k))),
                Attr::Id | Attr::Url | Attr::Uri | Attr::Version => None,
            },
            Address::Runtime(k) => (r.attr == Attr::Name).then(|| names::runtime(p, k)),
            Address::GatewayTarget { target, .. } => {
                (r.attr == Attr::Name).then(|| names::target(target))
            }
            Address::RuntimeEndpoint { endpoint, .. } => {
                (r.attr == Attr::Name).then(|| endpoint.clone())
            }
            Address::RolePolicy(..) => (r.attr == Attr::Name).then(|| names::POLICY_NAME.into()),
            // Its id, ARN and discovery URL are Cognito's.
            Address::UserPool(g) => (r.attr == Attr::Name).then(|| names::user_pool(p, g)),
            Address::M2mClient { gateway, runtime } => match r.attr {
                Attr::Name => Some(names::m2m_client(runtime)),
                // The credential provider's: its name is derived.
                Attr::Arn => Some(a.oauth_provider_arn(&m2m_provider_name(p, gateway, runtime))),
                Attr::Id | Attr::Url | Attr::Uri | Attr::Version => None,
            },
        }
    }
}

impl Lookup for Values<'_> {
    fn value(&self, r: &Ref) -> Option<String> {
        self.derived(r).or_else(|| self.known.value(r))
    }
}

pub fn role_addr(owner: RoleOwner, key: &str) -> Address {
    Address::Role(owner, key.to_string())
}
pub fn policy_addr(owner: RoleOwner, key: &str) -> Address {
    Address::RolePolicy(owner, key.to_string())
}

fn tags(spec: &Spec, addr: &Address) -> Tags {
    let mut t = spec.tags.clone();
    t.insert(names::TAG_PROJECT.into(), spec.project.clone());
    t.insert(names::TAG_RESOURCE.into(), addr.to_string());
    t
}

/// Resolves `${kind.name.attr}` references in `s`: the value (unknown
/// while a reference is) and the addresses it depends on.
fn resolve(s: &str, v: &Values<'_>) -> (Resolved, Vec<Address>) {
    let Ok(segments) = refs::parse(s) else {
        return (Resolved::Known(s.to_string()), vec![]);
    };
    let mut parts = Vec::new();
    let mut deps = Vec::new();
    for seg in segments {
        match seg {
            Segment::Literal(l) => parts.push(Part::Lit(l)),
            Segment::Ref(r @ (refs::Ref::Resource { .. } | refs::Ref::Endpoint { .. }), range) => {
                let typed = match &r {
                    refs::Ref::Resource { kind, name, attr } => refs::typed(kind, name, attr),
                    refs::Ref::Endpoint {
                        runtime,
                        endpoint,
                        attr,
                    } => refs::typed_endpoint(runtime, endpoint, attr),
                    refs::Ref::Var(_) | refs::Ref::Env(_) => None,
                };
                match typed {
                    Some(r) => {
                        deps.push(r.addr.clone());
                        parts.push(Part::Ref(r));
                    }
                    // Validation rejects unknown references; keep the text.
                    None => parts.push(Part::Lit(s[range].to_string())),
                }
            }
            // Variables were substituted at load time.
            Segment::Ref(refs::Ref::Var(_) | refs::Ref::Env(_), range) => {
                parts.push(Part::Lit(s[range].to_string()));
            }
        }
    }
    (Resolved::from_parts(parts, v), deps)
}

fn resolve_env(
    env: &BTreeMap<String, String>,
    v: &Values<'_>,
    deps: &mut Vec<Address>,
) -> Environment {
    env.iter()
        .map(|(k, s)| {
            let (val, d) = resolve(s, v);
            deps.extend(d);
            (k.clone(), val)
        })
        .collect()
}

fn role(
    spec: &Spec,
    a: &Account,
    owner: RoleOwner,
    key: &str,
    trust: serde_json::Value,
    description: String,
) -> Desired {
    let addr = role_addr(owner, key);
    Desired {
        config: Config::Role(RoleConfig {
            name: names::role(&spec.project, &a.region, owner, key),
            path: names::role_path(&spec.project),
            trust_policy: trust,
            description,
            tags: {
                let mut t = tags(spec, &addr);
                t.insert(names::TAG_REGION.into(), a.region.clone());
                t
            },
            other_inline_policies: vec![],
            managed_policies: vec![],
        }),
        addr,
        deps: vec![],
    }
}

fn role_policy(
    spec: &Spec,
    a: &Account,
    owner: RoleOwner,
    key: &str,
    document: Val,
    mut deps: Vec<Address>,
) -> Desired {
    deps.insert(0, role_addr(owner, key));
    Desired {
        addr: policy_addr(owner, key),
        deps: dedup(deps),
        config: Config::RolePolicy(RolePolicyConfig {
            role: names::role(&spec.project, &a.region, owner, key),
            name: names::POLICY_NAME.into(),
            document,
        }),
    }
}

/// The inbound auth a runtime's `authorizer` asks for (a gateway's with
/// `cognito_m2m` is built with its pool: see [`build`]).
fn authorizer(a: &AuthorizerSpec) -> Authorizer {
    match a {
        // Validate refuses cognito_m2m on a runtime.
        AuthorizerSpec::Named(_) | AuthorizerSpec::CognitoM2m { .. } => Authorizer::AwsIam,
        AuthorizerSpec::CustomJwt { custom_jwt: j } => Authorizer::CustomJwt {
            discovery_url: Resolved::Known(j.discovery_url.clone()),
            allowed_audiences: j.allowed_audiences.clone(),
            allowed_clients: j
                .allowed_clients
                .iter()
                .map(|c| Resolved::Known(c.clone()))
                .collect(),
            allowed_scopes: j.allowed_scopes.clone(),
        },
    }
}

/// The credential provider of a runtime's app client in a gateway's pool.
fn m2m_provider_name(project: &str, gateway: &str, runtime: &str) -> String {
    names::m2m_provider(
        &names::user_pool(project, gateway),
        &names::m2m_client(runtime),
    )
}

/// The runtimes that call gateway `g` (list it in `invoke_gateways`).
pub fn callers<'a>(spec: &'a Spec, g: &str) -> Vec<&'a str> {
    spec.runtimes
        .iter()
        .filter(|(_, r)| r.invoke_gateways.iter().any(|x| x == g))
        .map(|(k, _)| k.as_str())
        .collect()
}

/// What each runtime that calls `cognito_m2m` gateway `g` may call there,
/// when any of them lists tools of it (`runtimes.K.tools`): runtime key ->
/// its tools as MCP names (`None`: it lists none of this gateway's, so
/// all). `None` when no caller limits its tools (no policies derived).
pub fn tool_access<'a>(
    l: &'a LoadedSpec,
    g: &str,
) -> Option<BTreeMap<&'a str, Option<Vec<String>>>> {
    let spec = &l.spec;
    let gs = spec.gateways.get(g)?;
    if !matches!(gs.authorizer, AuthorizerSpec::CognitoM2m { .. }) {
        return None;
    }
    let prefix = format!("{g}.");
    let mut limited = false;
    let mut out = BTreeMap::new();
    for r in callers(spec, g) {
        let mut tools: Vec<String> = Vec::new();
        for entry in &spec.runtimes[r].tools {
            let Some(rest) = entry.strip_prefix(&prefix) else {
                continue;
            };
            match rest.split_once("___") {
                Some(_) => tools.push(rest.to_string()),
                // A whole target (validate makes sure its tools are known).
                None => tools.extend(
                    gs.targets
                        .get(rest)
                        .and_then(|t| l.tool_names(t))
                        .unwrap_or_default()
                        .iter()
                        .map(|tool| names::mcp_tool(rest, tool)),
                ),
            }
        }
        tools.sort();
        tools.dedup();
        limited |= !tools.is_empty();
        out.insert(r, (!tools.is_empty()).then_some(tools));
    }
    limited.then_some(out)
}

/// The key of the policy engine agentform makes for a gateway whose tool
/// access it derives (when the spec attaches none of its own).
pub fn derived_engine_key(gateway: &str) -> String {
    format!("{gateway}-tools")
}

/// The key of the Cedar policy derived for a runtime's tool access.
pub fn derived_policy_key(runtime: &str) -> String {
    format!("tools-{runtime}")
}

/// The Cedar policy that lets runtime `r`'s client call `tools` (all tools
/// when `None`) of gateway `g`, and nothing else: a `permit` for its client
/// id, so with the engine enforcing, everything else is denied.
fn derived_policy(g: &str, r: &str, tools: Option<&[String]>, v: &Values<'_>) -> Resolved {
    let action = match tools {
        None => "  action,\n".to_string(),
        Some(t) => format!(
            "  action in [{}],\n",
            t.iter()
                .map(|t| format!("AgentCore::Action::\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let parts = vec![
        Part::Lit(format!(
            "// agentform: the tools runtime {r} may call through gateway {g} (runtimes.{r}.tools)\npermit(\n  principal is AgentCore::OAuthUser,\n{action}  resource == AgentCore::Gateway::\""
        )),
        Part::Ref(Ref {
            addr: Address::Gateway(g.to_string()),
            attr: Attr::Arn,
        }),
        Part::Lit("\"\n) when {\n  principal.id == \"".into()),
        Part::Ref(Ref {
            addr: Address::M2mClient {
                gateway: g.to_string(),
                runtime: r.to_string(),
            },
            attr: Attr::Id,
        }),
        Part::Lit("\"\n};\n".into()),
    ];
    Resolved::from_parts(parts, v)
}

/// The environment variables that tell a runtime the credential provider
/// and scopes of its client of `cognito_m2m` gateway `g`:
/// `AGENTFORM_GATEWAY_<G>_OAUTH_PROVIDER` / `..._OAUTH_SCOPES`.
pub fn m2m_env_names(g: &str) -> (String, String) {
    let g = g.to_ascii_uppercase().replace('-', "_");
    (
        format!("AGENTFORM_GATEWAY_{g}_OAUTH_PROVIDER"),
        format!("AGENTFORM_GATEWAY_{g}_OAUTH_SCOPES"),
    )
}

/// The scopes a `cognito_m2m` gateway's clients get: `<resource server>/<scope>`.
fn m2m_scopes(project: &str, g: &str, m: &crate::spec::CognitoM2mSpec) -> Vec<String> {
    let server = names::resource_server(project, g);
    m.scopes().iter().map(|s| format!("{server}/{s}")).collect()
}

/// A lifecycle setting: the spec's (validated to fit), else AgentCore's default.
fn lifecycle_value(v: Option<i64>, default: i32) -> i32 {
    v.and_then(|v| i32::try_from(v).ok()).unwrap_or(default)
}

/// The role the spec brings for the function, gateway or runtime `key`
/// (`role:`), which agentform then neither creates nor edits.
pub fn own_role<'a>(spec: &'a Spec, owner: RoleOwner, key: &str) -> Option<&'a str> {
    match owner {
        RoleOwner::Function => spec.functions.get(key).and_then(|f| f.role.as_deref()),
        RoleOwner::Gateway => spec.gateways.get(key).and_then(|g| g.role.as_deref()),
        RoleOwner::Runtime => spec.runtimes.get(key).and_then(|r| r.role.as_deref()),
    }
}

fn role_arn(spec: &Spec, a: &Account, owner: RoleOwner, key: &str) -> String {
    if let Some(arn) = own_role(spec, owner, key) {
        return arn.to_string();
    }
    a.role_arn(
        &names::role_path(&spec.project),
        &names::role(&spec.project, &a.region, owner, key),
    )
}

fn function(
    spec: &Spec,
    v: &Values<'_>,
    key: &str,
    f: &FunctionSpec,
    pkg: Option<&Package>,
) -> Desired {
    let addr = Address::Function(key.to_string());
    let mut deps = vec![
        role_addr(RoleOwner::Function, key),
        policy_addr(RoleOwner::Function, key),
    ];
    let environment = resolve_env(&f.environment, v, &mut deps);
    Desired {
        config: Config::Function(FunctionConfig {
            name: names::function(&spec.project, key),
            runtime: f.runtime.clone(),
            handler: f.handler.clone(),
            memory: f.memory.unwrap_or(FunctionSpec::DEFAULT_MEMORY),
            timeout: f.timeout.unwrap_or(FunctionSpec::DEFAULT_TIMEOUT),
            architecture: f
                .architecture
                .clone()
                .unwrap_or_else(|| FunctionSpec::DEFAULT_ARCHITECTURE.into()),
            description: f.description.clone().unwrap_or_default(),
            role_arn: role_arn(spec, v.account, RoleOwner::Function, key),
            environment,
            code_sha256: pkg.map(|p| p.sha256.clone()).unwrap_or_default(),
            code: pkg.map(|p| Code(std::sync::Arc::new(p.zip.clone()))),
            tags: tags(spec, &addr),
            resource_policy: Val::Null,
        }),
        addr,
        deps: dedup(deps),
    }
}

fn dedup(mut v: Vec<Address>) -> Vec<Address> {
    let mut seen = BTreeSet::new();
    v.retain(|a| seen.insert(a.clone()));
    v
}

/// The roles agentform would derive (a role's address and its desired
/// config, with its inline policy's) that the spec brings instead.
fn brought(spec: &Spec, addr: &Address) -> bool {
    match addr {
        Address::Role(o, k) | Address::RolePolicy(o, k) => own_role(spec, *o, k).is_some(),
        _ => false,
    }
}

/// Every resource the spec wants, in a stable order. Roles the spec brings
/// (`role:`) are not among them, and nothing waits for them.
pub fn build(l: &LoadedSpec, a: &Account, artifacts: &Artifacts, known: &Known) -> Vec<Desired> {
    let spec = &l.spec;
    build_all(l, a, artifacts, known)
        .into_iter()
        .filter(|d| !brought(spec, &d.addr))
        .map(|mut d| {
            d.deps.retain(|dep| !brought(spec, dep));
            d
        })
        .collect()
}

/// What a role the spec brings must allow: the one agentform would derive.
pub struct RoleRequirement {
    /// `function.tools`, `gateway.main`, `runtime.agent`.
    pub user: Address,
    pub arn: String,
    /// The trust policy agentform would give it.
    pub trust: Value,
    /// The inline policy agentform would give it (may hold unknowns).
    pub policy: Option<Val>,
}

pub fn role_requirements(
    l: &LoadedSpec,
    a: &Account,
    artifacts: &Artifacts,
    known: &Known,
) -> Vec<RoleRequirement> {
    let spec = &l.spec;
    let all = build_all(l, a, artifacts, known);
    let mut out = Vec::new();
    for d in &all {
        let (Address::Role(o, k), Config::Role(r)) = (&d.addr, &d.config) else {
            continue;
        };
        let Some(arn) = own_role(spec, *o, k) else {
            continue;
        };
        let policy = all.iter().find_map(|p| match (&p.addr, &p.config) {
            (Address::RolePolicy(po, pk), Config::RolePolicy(c)) if po == o && pk == k => {
                Some(c.document.clone())
            }
            _ => None,
        });
        out.push(RoleRequirement {
            user: o.user(k),
            arn: arn.to_string(),
            trust: r.trust_policy.clone(),
            policy,
        });
    }
    out
}

fn build_all(l: &LoadedSpec, a: &Account, artifacts: &Artifacts, known: &Known) -> Vec<Desired> {
    let packages = &artifacts.packages;
    let spec = &l.spec;
    let p = &spec.project;
    let v = Values {
        project: p,
        account: a,
        known,
    };
    let mut out = Vec::new();

    for (key, f) in &spec.functions {
        let fname = names::function(p, key);
        out.push(role(
            spec,
            a,
            RoleOwner::Function,
            key,
            policy::lambda_trust(),
            format!("Execution role of Lambda function {fname} (agentform)"),
        ));
        out.push(role_policy(
            spec,
            a,
            RoleOwner::Function,
            key,
            policy::lambda_logs(a, &fname).into(),
            vec![],
        ));
        out.push(function(spec, &v, key, f, packages.get(key)));
    }

    for (key, r) in &spec.repositories {
        let addr = Address::Repository(key.clone());
        let r = r.clone().unwrap_or_default();
        out.push(Desired {
            config: Config::Repository(RepositoryConfig {
                name: names::repository(p, key),
                scan_on_push: r.scan_on_push.unwrap_or(false),
                tag_mutability: r
                    .image_tag_mutability
                    .clone()
                    .unwrap_or_else(|| RepositorySpec::DEFAULT_IMAGE_TAG_MUTABILITY.into()),
                force_delete: r.force_delete.unwrap_or(false),
                tags: tags(spec, &addr),
                policy: Val::Null,
            }),
            addr,
            deps: vec![],
        });
    }

    for (key, g) in &spec.gateways {
        let gname = names::gateway(p, key);
        let addr = Address::Gateway(key.clone());
        out.push(role(
            spec,
            a,
            RoleOwner::Gateway,
            key,
            policy::agentcore_trust(a, "gateway"),
            format!("Service role of AgentCore gateway {gname} (agentform)"),
        ));
        let mut fn_arns: Vec<String> = g
            .targets
            .values()
            .filter_map(|t| lambda_arn(spec, a, t))
            .collect();
        let interceptors: Vec<Interceptor> = {
            let mut v: Vec<Interceptor> = g
                .interceptors
                .iter()
                .map(|i| {
                    let mut points: Vec<String> =
                        i.on.iter().map(|p| p.to_ascii_uppercase()).collect();
                    points.sort();
                    points.dedup();
                    Interceptor {
                        lambda_arn: a.function_arn(&names::function(p, &i.function)),
                        points,
                        pass_request_headers: i.pass_headers,
                    }
                })
                .collect();
            v.sort();
            v
        };
        fn_arns.extend(interceptors.iter().map(|i| i.lambda_arn.clone()));
        let transform_lambda = g
            .transform
            .as_ref()
            .map(|f| a.function_arn(&names::function(p, f)))
            .unwrap_or_default();
        if !transform_lambda.is_empty() {
            fn_arns.push(transform_lambda.clone());
        }
        fn_arns.sort();
        fn_arns.dedup();
        let (mut api_keys, mut oauth) = (Vec::new(), Vec::new());
        for t in g.targets.values() {
            match target_credentials(spec, a, t) {
                TargetCredentials::ApiKey { provider_arn, .. } => api_keys.push(provider_arn),
                TargetCredentials::OAuth { provider_arn, .. } => oauth.push(provider_arn),
                _ => {}
            }
        }
        for v in [&mut api_keys, &mut oauth] {
            v.sort();
            v.dedup();
        }
        let mut statements = Vec::new();
        if !fn_arns.is_empty() {
            statements.extend(policy::statements(policy::gateway_invoke(a, &fn_arns)));
        }
        if !api_keys.is_empty() || !oauth.is_empty() {
            statements.extend(policy::gateway_credentials(a, &gname, &api_keys, &oauth));
        }
        // Tool access derived from the runtimes' `tools`: in the engine the
        // spec attaches, else in one agentform makes, enforcing.
        let access = tool_access(l, key);
        let engine_key = match (&g.policy_engine, &access) {
            (Some(e), _) => Some((e.engine().to_string(), e.api_mode())),
            (None, Some(_)) => Some((derived_engine_key(key), "ENFORCE".to_string())),
            (None, None) => None,
        };
        if let (None, Some(_)) = (&g.policy_engine, &access) {
            let ekey = derived_engine_key(key);
            let eaddr = Address::PolicyEngine(ekey.clone());
            out.push(Desired {
                config: Config::PolicyEngine(PolicyEngineConfig {
                    name: names::policy_engine(p, &ekey),
                    description: format!(
                        "Tool access of the runtimes that call gateway {gname} (agentform)"
                    ),
                    tags: tags(spec, &eaddr),
                }),
                addr: eaddr,
                deps: vec![],
            });
        }
        let engine = engine_key.as_ref().map(|(ekey, mode)| {
            let addr = Address::PolicyEngine(ekey.clone());
            let arn = Resolved::of_ref(
                Ref {
                    addr: addr.clone(),
                    attr: Attr::Arn,
                },
                &v,
            );
            (
                addr,
                GatewayPolicyEngine {
                    arn,
                    mode: mode.clone(),
                },
            )
        });
        let has_policy = !statements.is_empty() || engine.is_some();
        if has_policy {
            let mut document: Val = policy::document(statements).into();
            if let Some((_, e)) = &engine {
                policy::gateway_policy_engine(&mut document, a, &gname, &e.arn);
            }
            out.push(role_policy(
                spec,
                a,
                RoleOwner::Gateway,
                key,
                document,
                engine.iter().map(|(addr, _)| addr.clone()).collect(),
            ));
        }
        let mut m2m_deps: Vec<Address> = Vec::new();
        let authorizer = match &g.authorizer {
            AuthorizerSpec::CognitoM2m { cognito_m2m: m } => {
                let pool_addr = Address::UserPool(key.clone());
                let pool = names::user_pool(p, key);
                let scopes = m2m_scopes(p, key, m);
                out.push(Desired {
                    config: Config::UserPool(UserPoolConfig {
                        name: pool.clone(),
                        domain: names::user_pool_domain(p, key, &a.id, &a.region),
                        resource_servers: BTreeMap::from([(
                            names::resource_server(p, key),
                            m.scopes(),
                        )]),
                        tags: tags(spec, &pool_addr),
                    }),
                    addr: pool_addr.clone(),
                    deps: vec![],
                });
                let mut clients = Vec::new();
                for r in callers(spec, key) {
                    let caddr = Address::M2mClient {
                        gateway: key.clone(),
                        runtime: r.to_string(),
                    };
                    out.push(Desired {
                        config: Config::M2mClient(M2mClientConfig {
                            pool: pool.clone(),
                            name: names::m2m_client(r),
                            scopes: scopes.clone(),
                            provider: m2m_provider_name(p, key, r),
                            provider_current: true,
                            tags: tags(spec, &caddr),
                        }),
                        addr: caddr.clone(),
                        deps: vec![pool_addr.clone()],
                    });
                    clients.push(Resolved::of_ref(
                        Ref {
                            addr: caddr.clone(),
                            attr: Attr::Id,
                        },
                        &v,
                    ));
                    m2m_deps.push(caddr);
                }
                m2m_deps.push(pool_addr.clone());
                Authorizer::CustomJwt {
                    discovery_url: Resolved::of_ref(
                        Ref {
                            addr: pool_addr,
                            attr: Attr::Url,
                        },
                        &v,
                    ),
                    allowed_audiences: vec![],
                    allowed_clients: clients,
                    allowed_scopes: scopes,
                }
            }
            other => authorizer(other),
        };
        out.push(Desired {
            config: Config::Gateway(GatewayConfig {
                name: gname.clone(),
                description: g.description.clone().unwrap_or_default(),
                role_arn: role_arn(spec, a, RoleOwner::Gateway, key),
                authorizer,
                protocol_type: "MCP".into(),
                semantic_search: g.semantic_search(),
                interceptors,
                policy_engine: engine.as_ref().map(|(_, e)| e.clone()),
                waf_failure_mode: g
                    .waf
                    .as_deref()
                    .map(str::to_ascii_uppercase)
                    .unwrap_or_default(),
                transform_lambda,
                tags: tags(spec, &addr),
            }),
            addr: addr.clone(),
            // AgentCore checks that the role may invoke the interceptors
            // and use the policy engine when the gateway is created.
            deps: std::iter::once(role_addr(RoleOwner::Gateway, key))
                .chain(
                    g.interceptors
                        .iter()
                        .map(|x| Address::Function(x.function.clone())),
                )
                .chain(engine.iter().map(|(addr, _)| addr.clone()))
                .chain(
                    (!g.interceptors.is_empty() || engine.is_some() || g.transform.is_some())
                        .then(|| policy_addr(RoleOwner::Gateway, key)),
                )
                .chain(m2m_deps)
                .chain(g.transform.iter().map(|f| Address::Function(f.clone())))
                .collect(),
        });
        for (tkey, t) in &g.targets {
            let mut deps = vec![addr.clone(), policy_addr(RoleOwner::Gateway, key)];
            deps.extend(t.function.iter().map(|f| Address::Function(f.clone())));
            deps.extend(credential_use(t).map(|c| credential_addr(spec, c)));
            out.push(Desired {
                addr: Address::GatewayTarget {
                    gateway: key.clone(),
                    target: tkey.clone(),
                },
                deps,
                config: Config::Target(TargetConfig {
                    gateway: gname.clone(),
                    name: names::target(tkey),
                    description: t.description.clone().unwrap_or_default(),
                    source: target_source(l, a, t),
                    credentials: target_credentials(spec, a, t),
                }),
            });
        }
        if let (Some(access), Some((ekey, _))) = (&access, &engine_key) {
            let ename = names::policy_engine(p, ekey);
            for (r, tools) in access {
                let pkey = derived_policy_key(r);
                let mut deps = vec![
                    Address::PolicyEngine(ekey.clone()),
                    addr.clone(),
                    Address::M2mClient {
                        gateway: key.clone(),
                        runtime: r.to_string(),
                    },
                ];
                // Checked against the gateway's tools when it is written.
                deps.extend(g.targets.keys().map(|t| Address::GatewayTarget {
                    gateway: key.clone(),
                    target: t.clone(),
                }));
                out.push(Desired {
                    addr: Address::Policy {
                        engine: ekey.clone(),
                        policy: pkey.clone(),
                    },
                    deps,
                    config: Config::Policy(PolicyConfig {
                        engine: ename.clone(),
                        name: names::policy(&ename, &pkey),
                        description: format!(
                            "What runtime {r} may call through gateway {gname} (agentform)"
                        ),
                        statement: derived_policy(key, r, tools.as_deref(), &v),
                        enforcement: "ACTIVE".into(),
                        validation: "FAIL_ON_ANY_FINDINGS".into(),
                    }),
                });
            }
        }
    }

    for (key, c) in &spec.credentials {
        let name = names::credential(p, key);
        match c {
            CredentialSpec::ApiKey(k) => {
                let addr = Address::ApiKeyProvider(key.clone());
                out.push(Desired {
                    config: Config::ApiKeyProvider(ApiKeyProviderConfig {
                        api_key: Secret::new(&name, &k.api_key),
                        name,
                        tags: tags(spec, &addr),
                    }),
                    addr,
                    deps: vec![],
                });
            }
            CredentialSpec::OAuth(o) => {
                let addr = Address::OAuthProvider(key.clone());
                let vendor = o.oauth.vendor.as_deref().unwrap_or("custom");
                out.push(Desired {
                    config: Config::OAuthProvider(OAuthProviderConfig {
                        vendor: crate::aws::credential_vendors()
                            .iter()
                            .find(|(w, _)| *w == vendor)
                            .map_or(vendor, |(_, api)| api)
                            .to_string(),
                        discovery_url: o.oauth.discovery_url.clone().unwrap_or_default(),
                        client_id: o.oauth.client_id.clone(),
                        client_secret: Secret::new(&name, &o.oauth.client_secret),
                        name,
                        tags: tags(spec, &addr),
                    }),
                    addr,
                    deps: vec![],
                });
            }
        }
    }

    for (key, e) in &spec.policy_engines {
        let addr = Address::PolicyEngine(key.clone());
        let ename = names::policy_engine(p, key);
        out.push(Desired {
            config: Config::PolicyEngine(PolicyEngineConfig {
                name: ename.clone(),
                description: e.description.clone().unwrap_or_default(),
                tags: tags(spec, &addr),
            }),
            addr: addr.clone(),
            deps: vec![],
        });
        for (pkey, pol) in &e.policies {
            let text = match &pol.cedar {
                CedarSpec::Inline(i) => i.inline.clone(),
                CedarSpec::File(f) => l
                    .documents
                    .get(f)
                    .and_then(|d| d.value.as_str().map(str::to_string))
                    .unwrap_or_default(),
            };
            let (statement, refs) = resolve(&text, &v);
            // A policy names its gateways' tools: they must exist first.
            let mut deps = vec![addr.clone()];
            for r in refs {
                if let Address::Gateway(g) = &r
                    && let Some(gs) = spec.gateways.get(g)
                {
                    deps.extend(gs.targets.keys().map(|t| Address::GatewayTarget {
                        gateway: g.clone(),
                        target: t.clone(),
                    }));
                }
                deps.push(r);
            }
            out.push(Desired {
                config: Config::Policy(PolicyConfig {
                    engine: ename.clone(),
                    name: names::policy(&ename, pkey),
                    description: pol.description.clone().unwrap_or_default(),
                    statement,
                    enforcement: pol.api_enforcement(),
                    validation: pol.api_validation().to_string(),
                }),
                addr: Address::Policy {
                    engine: key.clone(),
                    policy: pkey.clone(),
                },
                deps: dedup(deps),
            });
        }
    }

    for (key, m) in &spec.memories {
        let addr = Address::Memory(key.clone());
        let mut strategies: Vec<MemoryStrategy> = m
            .strategies
            .iter()
            .map(|s| MemoryStrategy {
                kind: s.api_type().into(),
                name: s.name(),
            })
            .collect();
        strategies.sort();
        out.push(Desired {
            config: Config::Memory(MemoryConfig {
                name: names::memory(p, key),
                description: m.description.clone().unwrap_or_default(),
                event_expiry_days: m
                    .event_expiry_days
                    .and_then(|d| i32::try_from(d).ok())
                    .unwrap_or(crate::spec::MemorySpec::DEFAULT_EVENT_EXPIRY_DAYS as i32),
                strategies,
                encryption_key_arn: m.encryption_key.clone().unwrap_or_default(),
                tags: tags(spec, &addr),
            }),
            addr,
            deps: vec![],
        });
    }

    if spec
        .runtimes
        .values()
        .any(|r| matches!(r.artifact, ArtifactSpec::Code(_)))
    {
        let addr = Address::Bucket(BUCKET_KEY.into());
        out.push(Desired {
            config: Config::Bucket(BucketConfig {
                name: names::bucket(p, &a.id, &a.region),
                versioning: true,
                public_access_blocked: true,
                tags: tags(spec, &addr),
            }),
            addr,
            deps: vec![],
        });
    }

    for (key, r) in &spec.runtimes {
        let rname = names::runtime(p, key);
        let addr = Address::Runtime(key.clone());
        out.push(role(
            spec,
            a,
            RoleOwner::Runtime,
            key,
            policy::with_verify_principals(
                a,
                policy::agentcore_trust(a, "runtime"),
                &spec.verify_principals,
            ),
            format!("Execution role of AgentCore runtime {rname} (agentform)"),
        ));
        // Gateways with IAM auth: InvokeGateway on them. Gateways with
        // `cognito_m2m`: the credential provider of this runtime's client.
        let is_m2m = |g: &String| {
            spec.gateways
                .get(g)
                .is_some_and(|gs| matches!(gs.authorizer, AuthorizerSpec::CognitoM2m { .. }))
        };
        let m2m_clients: Vec<Address> = r
            .invoke_gateways
            .iter()
            .filter(|g| is_m2m(g))
            .map(|g| Address::M2mClient {
                gateway: g.clone(),
                runtime: key.clone(),
            })
            .collect();
        let m2m_providers: Vec<String> = r
            .invoke_gateways
            .iter()
            .filter(|g| is_m2m(g))
            .map(|g| a.oauth_provider_arn(&m2m_provider_name(p, g, key)))
            .collect();
        let gateways: Vec<Address> = r
            .invoke_gateways
            .iter()
            .filter(|g| !is_m2m(g))
            .map(|g| Address::Gateway(g.clone()))
            .collect();
        let gateway_arns: Vec<Resolved> = gateways
            .iter()
            .map(|g| {
                let r = Ref {
                    addr: g.clone(),
                    attr: Attr::Arn,
                };
                Resolved::of_ref(r, &v)
            })
            .collect();
        // The memories its environment refers to: its role may use them.
        let memories: Vec<Address> = r
            .environment
            .values()
            .flat_map(|value| crate::spec::refs::parse(value).unwrap_or_default())
            .filter_map(|seg| match seg {
                crate::spec::refs::Segment::Ref(
                    crate::spec::refs::Ref::Resource { kind, name, .. },
                    _,
                ) if kind == "memories" => Some(Address::Memory(name)),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let memory_arns: Vec<Resolved> = memories
            .iter()
            .map(|m| {
                Resolved::of_ref(
                    Ref {
                        addr: m.clone(),
                        attr: Attr::Arn,
                    },
                    &v,
                )
            })
            .collect();
        let mut deps = vec![
            role_addr(RoleOwner::Runtime, key),
            policy_addr(RoleOwner::Runtime, key),
        ];
        let (artifact, repo_arn) = match &r.artifact {
            ArtifactSpec::Code(c) => {
                deps.push(Address::Bucket(BUCKET_KEY.into()));
                let bundle = artifacts.bundles.get(key).cloned();
                let object = match &bundle {
                    Some(b) => b.object_key(key),
                    // Not hashed (graph, destroy): the name stands for it.
                    None => format!("runtimes/{key}/(not packaged).zip"),
                };
                (
                    RuntimeArtifact::Code {
                        bucket: names::bucket(p, &a.id, &a.region),
                        key: object,
                        runtime: c.api_runtime().unwrap_or_default().to_string(),
                        entry_point: c.entry_point.parts(),
                        bundle: crate::bundle::Source(bundle),
                    },
                    None,
                )
            }
            ArtifactSpec::Container(c) => {
                let repo = names::repository(p, &c.repository);
                deps.push(Address::Repository(c.repository.clone()));
                // Pinning the digest the tag points at makes a newly pushed
                // image under the same tag show up in the plan (and roll out).
                let build = artifacts.builds.get(key).cloned();
                let tag = match &build {
                    Some(b) => b.tag(),
                    None => c.tag.clone().unwrap_or_else(|| DEFAULT_TAG.into()),
                };
                let mut uri = format!("{}:{tag}", a.repository_uri(&repo));
                if let Some(digest) = artifacts.image_digests.get(key) {
                    uri = format!("{uri}@{digest}");
                }
                (
                    RuntimeArtifact::Container {
                        uri,
                        build: crate::image::Source(build),
                    },
                    Some(a.repository_arn(&repo)),
                )
            }
            ArtifactSpec::Image(uri) => (
                RuntimeArtifact::Container {
                    uri: uri.clone(),
                    build: Default::default(),
                },
                ecr_arn_of_image(a, uri),
            ),
        };
        let mut document = policy::runtime_execution(
            a,
            &rname,
            repo_arn.as_deref(),
            r.models.as_deref(),
            &gateway_arns,
            &memory_arns,
        );
        policy::runtime_oauth_tokens(&mut document, a, &rname, &m2m_providers);
        out.push(role_policy(
            spec,
            a,
            RoleOwner::Runtime,
            key,
            document,
            gateways.into_iter().chain(memories).collect(),
        ));
        // Its clients (and their credential providers) exist before it runs.
        deps.extend(m2m_clients);
        let mut environment = resolve_env(&r.environment, &v, &mut deps);
        // How the agent gets tokens for its `cognito_m2m` gateways: the
        // credential provider of its client and the scopes to ask for (the
        // spec's own variables of those names win).
        for g in r.invoke_gateways.iter().filter(|g| is_m2m(g)) {
            let Some(AuthorizerSpec::CognitoM2m { cognito_m2m: m }) =
                spec.gateways.get(g).map(|gs| &gs.authorizer)
            else {
                continue;
            };
            let (provider_var, scopes_var) = m2m_env_names(g);
            environment
                .entry(provider_var)
                .or_insert_with(|| Resolved::Known(m2m_provider_name(p, g, key)));
            environment
                .entry(scopes_var)
                .or_insert_with(|| Resolved::Known(m2m_scopes(p, g, m).join(" ")));
        }
        out.push(Desired {
            config: Config::Runtime(RuntimeConfig {
                name: rname.clone(),
                description: r.description.clone().unwrap_or_default(),
                role_arn: role_arn(spec, a, RoleOwner::Runtime, key),
                artifact,
                network_mode: if r.vpc().is_some() {
                    "VPC"
                } else {
                    RuntimeSpec::DEFAULT_NETWORK
                }
                .into(),
                vpc: r.vpc().map(|v| {
                    let sorted = |l: &Vec<String>| {
                        let mut l = l.clone();
                        l.sort();
                        l.dedup();
                        l
                    };
                    Vpc {
                        subnets: sorted(&v.subnets),
                        security_groups: sorted(&v.security_groups),
                    }
                }),
                protocol: r
                    .protocol
                    .clone()
                    .unwrap_or_else(|| RuntimeSpec::DEFAULT_PROTOCOL.into()),
                environment,
                idle_timeout: lifecycle_value(
                    r.lifecycle.as_ref().and_then(|l| l.idle_timeout),
                    RuntimeConfig::DEFAULT_IDLE_TIMEOUT,
                ),
                max_lifetime: lifecycle_value(
                    r.lifecycle.as_ref().and_then(|l| l.max_lifetime),
                    RuntimeConfig::DEFAULT_MAX_LIFETIME,
                ),
                request_headers: r.request_headers.clone(),
                authorizer: r
                    .authorizer
                    .as_ref()
                    .map(authorizer)
                    .unwrap_or(Authorizer::AwsIam),
                tags: tags(spec, &addr),
            }),
            addr: addr.clone(),
            deps: dedup(deps),
        });
        for (ekey, e) in &r.endpoints {
            let e = e.clone().unwrap_or_default();
            let eaddr = Address::RuntimeEndpoint {
                runtime: key.clone(),
                endpoint: ekey.clone(),
            };
            let version = match e.version {
                Some(EndpointVersion::Pinned(n)) => Resolved::Known(n.to_string()),
                Some(EndpointVersion::Latest(_)) | None => Resolved::of_ref(
                    Ref {
                        addr: addr.clone(),
                        attr: Attr::Version,
                    },
                    &v,
                ),
            };
            out.push(Desired {
                config: Config::Endpoint(EndpointConfig {
                    runtime: rname.clone(),
                    name: ekey.clone(),
                    description: e.description.clone().unwrap_or_default(),
                    version,
                    tags: tags(spec, &eaddr),
                }),
                addr: eaddr,
                deps: vec![addr.clone()],
            });
        }
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
pub fn outputs(spec: &Spec, a: &Account, known: &Known) -> BTreeMap<String, Resolved> {
    let v = Values {
        project: &spec.project,
        account: a,
        known,
    };
    spec.outputs
        .iter()
        .map(|(k, s)| (k.clone(), resolve(s, &v).0))
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
