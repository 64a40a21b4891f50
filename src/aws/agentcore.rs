//! AgentCore control plane: gateways, gateway targets and agent runtimes.
//!
//! All three are asynchronous (CREATING/UPDATING/DELETING, then READY or a
//! failure status with reasons) and the SDK has no waiters: every change is
//! followed by polling Get* ([`wait::poll`]).
//!
//! Observe: ListGateways / ListAgentRuntimes (the Get calls take ids, not
//! names), keep those looked up by name or carrying the project's name prefix,
//! then Get* + ListTagsForResource each (Get returns no tags). Every kept
//! gateway's targets are listed and read too: targets cannot be tagged and
//! belong to their gateway.
//!
//! Update* replaces the whole object. Fields agentform does not manage
//! (KMS key, interceptors, policy engine, other MCP settings; a runtime's
//! authorizer, header allow-list, lifecycle, VPC settings; a target's
//! metadata configuration) are read first and sent back unchanged, so an
//! update never silently resets something set outside agentform.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_agent_runtime::GetAgentRuntimeOutput;
use aws_sdk_bedrockagentcorecontrol::operation::get_gateway::GetGatewayOutput;
use aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput;
use aws_sdk_bedrockagentcorecontrol::types::{
    AgentRuntime, AgentRuntimeArtifact, AuthorizerConfiguration, AuthorizerType,
    ContainerConfiguration, CredentialProviderConfiguration, CredentialProviderType,
    CustomJwtAuthorizerConfiguration, GatewayProtocolConfiguration, GatewayProtocolType,
    GatewaySummary, McpGatewayConfiguration, McpLambdaTargetConfiguration, McpTargetConfiguration,
    NetworkConfiguration, NetworkMode, ProtocolConfiguration, SchemaDefinition, SchemaType,
    SearchType, ServerProtocol, TargetConfiguration, TargetSummary, ToolDefinition, ToolSchema,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use super::wait::{self, Backoff, Step};
use super::{
    CONCURRENCY, PROPAGATION_WHY, Scope, SdkResultExt, found, gone, is_error, is_role_propagation,
    tag_changes,
};
use crate::model::{
    Address, Config, GatewayAuthorizer, GatewayConfig, Ids, Kind, Observed, Owner, Progress,
    RuntimeConfig, Tags, TargetConfig, ToolDef,
};

// ---------------------------------------------------------------------------
// Tool schemas: JSON <-> SchemaDefinition

/// The JSON-Schema keywords AgentCore's `SchemaDefinition` can hold.
const SCHEMA_KEYS: [&str; 5] = ["type", "properties", "required", "items", "description"];

pub(crate) fn json_to_schema(v: &Value) -> Result<SchemaDefinition> {
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow!("a tool schema must be a JSON object, not {v}"))?;
    if let Some(k) = obj.keys().find(|k| !SCHEMA_KEYS.contains(&k.as_str())) {
        bail!(
            "unsupported JSON-Schema keyword `{k}` (AgentCore tool schemas support only {})",
            SCHEMA_KEYS.join(", ")
        );
    }
    let t = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("a tool schema needs a string `type`"))?;
    let ty = SchemaType::try_parse(t).map_err(|_| anyhow!("unsupported schema type `{t}`"))?;
    let mut b = SchemaDefinition::builder().r#type(ty);
    if let Some(d) = obj.get("description") {
        b = b.description(
            d.as_str()
                .ok_or_else(|| anyhow!("schema `description` must be a string"))?,
        );
    }
    if let Some(p) = obj.get("properties") {
        let p = p
            .as_object()
            .ok_or_else(|| anyhow!("schema `properties` must be an object"))?;
        let props = p
            .iter()
            .map(|(k, sub)| Ok((k.clone(), json_to_schema(sub)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        b = b.set_properties(Some(props));
    }
    if let Some(r) = obj.get("required") {
        let r = r
            .as_array()
            .ok_or_else(|| anyhow!("schema `required` must be an array"))?;
        let names = r
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("schema `required` entries must be strings"))
            })
            .collect::<Result<Vec<_>>>()?;
        b = b.set_required(Some(names));
    }
    if let Some(i) = obj.get("items") {
        b = b.items(json_to_schema(i)?);
    }
    Ok(b.build()?)
}

/// The inverse of [`json_to_schema`]: only the keys present, so a schema
/// read back equals the user's JSON.
pub(crate) fn schema_to_json(s: &SchemaDefinition) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(s.r#type.as_str().to_string()));
    if let Some(d) = &s.description {
        m.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(p) = &s.properties {
        m.insert(
            "properties".into(),
            Value::Object(
                p.iter()
                    .map(|(k, v)| (k.clone(), schema_to_json(v)))
                    .collect(),
            ),
        );
    }
    if let Some(r) = &s.required {
        m.insert(
            "required".into(),
            Value::Array(r.iter().cloned().map(Value::String).collect()),
        );
    }
    if let Some(i) = &s.items {
        m.insert("items".into(), schema_to_json(i));
    }
    Value::Object(m)
}

fn tool_definition(t: &ToolDef) -> Result<ToolDefinition> {
    let input = json_to_schema(&t.input)
        .map_err(|e| e.context(format!("input schema of tool {}", t.name)))?;
    let output = t
        .output
        .as_ref()
        .map(json_to_schema)
        .transpose()
        .map_err(|e| e.context(format!("output schema of tool {}", t.name)))?;
    Ok(ToolDefinition::builder()
        .name(&t.name)
        .description(&t.description)
        .input_schema(input)
        .set_output_schema(output)
        .build()?)
}

fn tool_def(t: &ToolDefinition) -> ToolDef {
    ToolDef {
        name: t.name().to_string(),
        description: t.description().to_string(),
        input: t.input_schema().map(schema_to_json).unwrap_or(Value::Null),
        output: t.output_schema().map(schema_to_json),
    }
}

// ---------------------------------------------------------------------------
// Config <-> SDK

fn tags_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn authorizer(a: &GatewayAuthorizer) -> Result<(AuthorizerType, Option<AuthorizerConfiguration>)> {
    Ok(match a {
        GatewayAuthorizer::AwsIam => (AuthorizerType::AwsIam, None),
        GatewayAuthorizer::CustomJwt {
            discovery_url,
            allowed_audiences,
            allowed_clients,
            allowed_scopes,
        } => {
            let nonempty = |v: &Vec<String>| if v.is_empty() { None } else { Some(v.clone()) };
            let jwt = CustomJwtAuthorizerConfiguration::builder()
                .discovery_url(discovery_url)
                .set_allowed_audience(nonempty(allowed_audiences))
                .set_allowed_clients(nonempty(allowed_clients))
                .set_allowed_scopes(nonempty(allowed_scopes))
                .build()?;
            (
                AuthorizerType::CustomJwt,
                Some(AuthorizerConfiguration::CustomJwtAuthorizer(jwt)),
            )
        }
    })
}

fn gateway_authorizer(
    ty: &AuthorizerType,
    conf: Option<&AuthorizerConfiguration>,
) -> GatewayAuthorizer {
    let jwt = conf.and_then(|c| c.as_custom_jwt_authorizer().ok());
    match ty {
        AuthorizerType::AwsIam => GatewayAuthorizer::AwsIam,
        AuthorizerType::CustomJwt => GatewayAuthorizer::CustomJwt {
            discovery_url: jwt
                .map(|j| j.discovery_url().to_string())
                .unwrap_or_default(),
            allowed_audiences: jwt
                .map(|j| j.allowed_audience().to_vec())
                .unwrap_or_default(),
            allowed_clients: jwt
                .map(|j| j.allowed_clients().to_vec())
                .unwrap_or_default(),
            allowed_scopes: jwt.map(|j| j.allowed_scopes().to_vec()).unwrap_or_default(),
        },
        // The model knows only the two authorizers agentform creates; show
        // any other as a JWT authorizer whose URL names the real type, so the
        // diff says what is there and the authorizer change forces a replace.
        other => GatewayAuthorizer::CustomJwt {
            discovery_url: format!("(authorizer type {})", other.as_str()),
            allowed_audiences: vec![],
            allowed_clients: vec![],
            allowed_scopes: vec![],
        },
    }
}

fn gateway_config(g: &GetGatewayOutput, tags: Tags) -> GatewayConfig {
    GatewayConfig {
        name: g.name().to_string(),
        description: g.description().unwrap_or_default().to_string(),
        role_arn: g.role_arn().unwrap_or_default().to_string(),
        authorizer: gateway_authorizer(g.authorizer_type(), g.authorizer_configuration()),
        protocol_type: g.protocol_type().as_str().to_string(),
        semantic_search: mcp_of(g.protocol_configuration()).and_then(|m| m.search_type())
            == Some(&SearchType::Semantic),
        tags,
    }
}

fn mcp_of(p: Option<&GatewayProtocolConfiguration>) -> Option<&McpGatewayConfiguration> {
    p.and_then(|p| p.as_mcp().ok())
}

fn gateway_ids(g: &GetGatewayOutput) -> Ids {
    Ids {
        arn: Some(g.gateway_arn().to_string()),
        id: Some(g.gateway_id().to_string()),
        url: g.gateway_url().map(str::to_string),
    }
}

fn target_config(gateway: &str, t: &GetGatewayTargetOutput) -> TargetConfig {
    let lambda = t
        .target_configuration()
        .and_then(|c| c.as_mcp().ok())
        .and_then(|m| m.as_lambda().ok());
    TargetConfig {
        gateway: gateway.to_string(),
        name: t.name().to_string(),
        description: t.description().unwrap_or_default().to_string(),
        lambda_arn: lambda
            .map(|l| l.lambda_arn().to_string())
            .unwrap_or_default(),
        tools: lambda
            .and_then(|l| l.tool_schema())
            .and_then(|s| s.as_inline_payload().ok())
            .map(|tools| tools.iter().map(tool_def).collect())
            .unwrap_or_default(),
        credential_provider: t
            .credential_provider_configurations()
            .first()
            .map(|c| c.credential_provider_type().as_str().to_string())
            .unwrap_or_default(),
    }
}

fn target_configuration(
    c: &TargetConfig,
) -> Result<(TargetConfiguration, CredentialProviderConfiguration)> {
    let tools = c
        .tools
        .iter()
        .map(tool_definition)
        .collect::<Result<Vec<_>>>()?;
    let lambda = McpLambdaTargetConfiguration::builder()
        .lambda_arn(&c.lambda_arn)
        .tool_schema(ToolSchema::InlinePayload(tools))
        .build()?;
    let cred = CredentialProviderConfiguration::builder()
        .credential_provider_type(CredentialProviderType::from(c.credential_provider.as_str()))
        .build()?;
    Ok((
        TargetConfiguration::Mcp(McpTargetConfiguration::Lambda(lambda)),
        cred,
    ))
}

fn runtime_config(r: &GetAgentRuntimeOutput, tags: Tags) -> RuntimeConfig {
    RuntimeConfig {
        name: r.agent_runtime_name().to_string(),
        description: r.description().unwrap_or_default().to_string(),
        role_arn: r.role_arn().to_string(),
        container_uri: r
            .agent_runtime_artifact()
            .and_then(|a| a.as_container_configuration().ok())
            .map(|c| c.container_uri().to_string())
            .unwrap_or_default(),
        network_mode: r
            .network_configuration()
            .map(|n| n.network_mode().as_str().to_string())
            .unwrap_or_default(),
        protocol: r
            .protocol_configuration()
            .map(|p| p.server_protocol().as_str().to_string())
            .unwrap_or_else(|| "HTTP".to_string()),
        environment: r
            .environment_variables()
            .map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        tags,
    }
}

fn runtime_ids(r: &GetAgentRuntimeOutput) -> Ids {
    Ids {
        arn: Some(r.agent_runtime_arn().to_string()),
        id: Some(r.agent_runtime_id().to_string()),
        url: None,
    }
}

fn artifact(c: &RuntimeConfig) -> Result<AgentRuntimeArtifact> {
    Ok(AgentRuntimeArtifact::ContainerConfiguration(
        ContainerConfiguration::builder()
            .container_uri(&c.container_uri)
            .build()?,
    ))
}

fn env_map(e: &BTreeMap<String, String>) -> HashMap<String, String> {
    e.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn joined(reasons: &[String]) -> String {
    if reasons.is_empty() {
        "no reason given".to_string()
    } else {
        reasons.join("; ")
    }
}

/// Gateway status -> polling step towards READY.
fn gateway_step(g: GetGatewayOutput) -> Step<GetGatewayOutput> {
    match g.status().as_str() {
        "READY" => Step::Done(g),
        s @ ("FAILED" | "UPDATE_UNSUCCESSFUL") => Step::Failed(format!(
            "gateway {} is {s}: {}",
            g.name(),
            joined(g.status_reasons())
        )),
        "DELETING" => Step::Failed(format!("gateway {} is being deleted", g.name())),
        s => Step::Pending(s.to_string()),
    }
}

/// Target status -> polling step towards READY. The `*_PENDING_AUTH`
/// states wait for a user's OAuth consent, not for the service: done.
fn target_step(t: GetGatewayTargetOutput) -> Step<GetGatewayTargetOutput> {
    match t.status().as_str() {
        "READY" | "CREATE_PENDING_AUTH" | "UPDATE_PENDING_AUTH" | "SYNCHRONIZE_PENDING_AUTH" => {
            Step::Done(t)
        }
        s @ ("FAILED" | "UPDATE_UNSUCCESSFUL" | "SYNCHRONIZE_UNSUCCESSFUL") => {
            Step::Failed(format!(
                "gateway target {} is {s}: {}",
                t.name(),
                joined(t.status_reasons())
            ))
        }
        "DELETING" => Step::Failed(format!("gateway target {} is being deleted", t.name())),
        s => Step::Pending(s.to_string()),
    }
}

/// Runtime status -> polling step towards READY.
fn runtime_step(r: GetAgentRuntimeOutput) -> Step<GetAgentRuntimeOutput> {
    match r.status().as_str() {
        "READY" => Step::Done(r),
        s @ ("CREATE_FAILED" | "UPDATE_FAILED") => Step::Failed(format!(
            "runtime {} is {s}: {}",
            r.agent_runtime_name(),
            r.failure_reason().unwrap_or("no reason given")
        )),
        "DELETING" => Step::Failed(format!(
            "runtime {} is being deleted",
            r.agent_runtime_name()
        )),
        s => Step::Pending(s.to_string()),
    }
}

fn is_conflict(e: &anyhow::Error) -> bool {
    is_error(e, "ConflictException", &[])
}

/// CreateGateway right after the role was made: besides the usual
/// propagation messages, an access-denied assuming the role.
fn gateway_create_retryable(e: &anyhow::Error) -> bool {
    // A denial of the caller's own permission ("User: ... is not authorized
    // to perform ...") will not heal by waiting: fail fast. Other denials
    // right after the role was created are the service not yet able to
    // assume it.
    let caller_denied = is_error(
        e,
        "AccessDeniedException",
        &["is not authorized to perform"],
    ) || is_error(e, "AccessDenied", &["is not authorized to perform"]);
    is_role_propagation(e)
        || (!caller_denied
            && (is_error(e, "AccessDeniedException", &["role"])
                || is_error(e, "AccessDenied", &["role"])))
}

impl super::Aws {
    // -----------------------------------------------------------------------
    // Reads

    async fn get_gateway(&self, id: &str) -> Result<Option<GetGatewayOutput>> {
        found(
            self.agentcore
                .get_gateway()
                .gateway_identifier(id)
                .send()
                .await
                .ctx(|| format!("reading gateway {id}")),
        )
    }

    async fn get_target(
        &self,
        gateway_id: &str,
        target_id: &str,
    ) -> Result<Option<GetGatewayTargetOutput>> {
        found(
            self.agentcore
                .get_gateway_target()
                .gateway_identifier(gateway_id)
                .target_id(target_id)
                .send()
                .await
                .ctx(|| format!("reading target {target_id} of gateway {gateway_id}")),
        )
    }

    async fn get_runtime(&self, id: &str) -> Result<Option<GetAgentRuntimeOutput>> {
        found(
            self.agentcore
                .get_agent_runtime()
                .agent_runtime_id(id)
                .send()
                .await
                .ctx(|| format!("reading runtime {id}")),
        )
    }

    async fn agentcore_tags(&self, what: &str, arn: &str) -> Result<Option<Tags>> {
        let out = found(
            self.agentcore
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .ctx(|| format!("reading the tags of {what}")),
        )?;
        Ok(out.map(|o| {
            o.tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        }))
    }

    /// Makes the tags on `arn` exactly `want`, from a fresh read (a runtime's
    /// ARN may change with its version, and tags may have been edited).
    async fn reconcile_tags(&self, what: &str, arn: &str, want: &Tags) -> Result<()> {
        let have = self.agentcore_tags(what, arn).await?.unwrap_or_default();
        let (set, remove) = tag_changes(&have, want);
        if !set.is_empty() {
            self.agentcore
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags_map(&set)))
                .send()
                .await
                .ctx(|| format!("tagging {what}"))?;
        }
        if !remove.is_empty() {
            self.agentcore
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .ctx(|| format!("untagging {what}"))?;
        }
        Ok(())
    }

    pub(super) async fn observe_agentcore(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let (mut gateways, runtimes) =
            futures::try_join!(self.observe_gateways(s), self.observe_runtimes(s))?;
        let targets = futures::stream::iter(gateways.iter())
            .map(|g| self.observe_targets(g))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        gateways.extend(targets.into_iter().flatten());
        gateways.extend(runtimes);
        Ok(gateways)
    }

    async fn observe_gateways(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Gateway);
        let prefix = format!("{}-", s.project);
        let listed: Vec<GatewaySummary> = self
            .agentcore
            .list_gateways()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore gateways".into())?;
        let candidates: Vec<GatewaySummary> = listed
            .into_iter()
            .filter(|g| looked_up.contains(g.name()) || g.name().starts_with(&prefix))
            .collect();
        futures::stream::iter(candidates)
            .map(|summary| async move {
                let Some(g) = self.get_gateway(summary.gateway_id()).await? else {
                    return Ok(None);
                };
                let Some(tags) = self
                    .agentcore_tags(&format!("gateway {}", g.name()), g.gateway_arn())
                    .await?
                else {
                    return Ok(None);
                };
                if !looked_up.contains(g.name()) && !s.tagged_ours(&tags) {
                    return Ok(None);
                }
                Ok::<_, anyhow::Error>(Some(Observed {
                    kind: Kind::Gateway,
                    name: g.name().to_string(),
                    parent: None,
                    ids: gateway_ids(&g),
                    parent_ids: Ids::default(),
                    status: Some(g.status().as_str().to_string()),
                    status_reasons: g.status_reasons().to_vec(),
                    owner: s.owner(Kind::Gateway, &tags),
                    config: Config::Gateway(gateway_config(&g, tags)),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
    }

    async fn observe_targets(&self, gateway: &Observed) -> Result<Vec<Observed>> {
        let Some(gid) = gateway.ids.id.as_deref() else {
            return Ok(vec![]);
        };
        let listed: Vec<TargetSummary> = match found(
            self.agentcore
                .list_gateway_targets()
                .gateway_identifier(gid)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing the targets of gateway {}", gateway.name)),
        )? {
            Some(v) => v,
            None => return Ok(vec![]),
        };
        futures::stream::iter(listed)
            .map(|summary| async move {
                let Some(t) = self.get_target(gid, summary.target_id()).await? else {
                    return Ok(None);
                };
                let owner = match &gateway.owner {
                    Owner::Ours(a) => Owner::Ours(Address::new(
                        Kind::GatewayTarget,
                        format!("{}/{}", a.name, t.name()),
                    )),
                    other => other.clone(),
                };
                Ok::<_, anyhow::Error>(Some(Observed {
                    kind: Kind::GatewayTarget,
                    name: t.name().to_string(),
                    parent: Some(gateway.name.clone()),
                    ids: Ids {
                        arn: None,
                        id: Some(t.target_id().to_string()),
                        url: None,
                    },
                    parent_ids: gateway.ids.clone(),
                    status: Some(t.status().as_str().to_string()),
                    status_reasons: t.status_reasons().to_vec(),
                    owner,
                    config: Config::Target(target_config(&gateway.name, &t)),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
    }

    async fn observe_runtimes(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Runtime);
        let prefix = format!("{}_", s.project.replace('-', "_"));
        let listed: Vec<AgentRuntime> = self
            .agentcore
            .list_agent_runtimes()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore runtimes".into())?;
        let candidates: Vec<AgentRuntime> = listed
            .into_iter()
            .filter(|r| {
                looked_up.contains(r.agent_runtime_name())
                    || r.agent_runtime_name().starts_with(&prefix)
            })
            .collect();
        futures::stream::iter(candidates)
            .map(|summary| async move {
                let Some(r) = self.get_runtime(summary.agent_runtime_id()).await? else {
                    return Ok(None);
                };
                let name = r.agent_runtime_name().to_string();
                let Some(tags) = self
                    .agentcore_tags(&format!("runtime {name}"), r.agent_runtime_arn())
                    .await?
                else {
                    return Ok(None);
                };
                if !looked_up.contains(name.as_str()) && !s.tagged_ours(&tags) {
                    return Ok(None);
                }
                Ok::<_, anyhow::Error>(Some(Observed {
                    kind: Kind::Runtime,
                    name,
                    parent: None,
                    ids: runtime_ids(&r),
                    parent_ids: Ids::default(),
                    status: Some(r.status().as_str().to_string()),
                    status_reasons: r
                        .failure_reason()
                        .map(|f| vec![f.to_string()])
                        .unwrap_or_default(),
                    owner: s.owner(Kind::Runtime, &tags),
                    config: Config::Runtime(runtime_config(&r, tags)),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
    }

    /// Reads a resource until it is out of a transitional status (an
    /// interrupted apply may have left it CREATING or UPDATING; an update
    /// sent now would be refused).
    async fn settled<T, G, Fut>(
        &self,
        addr: &Address,
        progress: &dyn Progress,
        get: G,
        status: fn(&T) -> &str,
        gone: impl Fn() -> String,
    ) -> Result<T>
    where
        G: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "a settled status",
            || async {
                Ok(match get().await? {
                    Some(x) if is_transitional(status(&x)) => Step::Pending(status(&x).to_string()),
                    Some(x) => Step::Done(x),
                    None => Step::Failed(gone()),
                })
            },
        )
        .await
    }

    // -----------------------------------------------------------------------
    // Waits

    async fn wait_gateway(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetGatewayOutput> {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "READY",
            || async {
                match self.get_gateway(id).await? {
                    Some(g) => Ok(gateway_step(g)),
                    None => Ok(Step::Failed(format!("gateway {name} ({id}) disappeared"))),
                }
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for gateway {name} to be READY")))
    }

    async fn wait_target(
        &self,
        addr: &Address,
        gid: &str,
        tid: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetGatewayTargetOutput> {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "READY",
            || async {
                match self.get_target(gid, tid).await? {
                    Some(t) => Ok(target_step(t)),
                    None => Ok(Step::Failed(format!(
                        "gateway target {name} ({tid}) disappeared"
                    ))),
                }
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for gateway target {name} to be READY")))
    }

    async fn wait_runtime(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetAgentRuntimeOutput> {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "READY",
            || async {
                match self.get_runtime(id).await? {
                    Some(r) => Ok(runtime_step(r)),
                    None => Ok(Step::Failed(format!("runtime {name} ({id}) disappeared"))),
                }
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for runtime {name} to be READY")))
    }

    /// Polls `status` (None = not found) until the resource is gone.
    async fn wait_gone<F, Fut>(
        &self,
        addr: &Address,
        what: &str,
        progress: &dyn Progress,
        status: F,
    ) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<String>>>,
    {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "deletion",
            || async {
                Ok(match status().await? {
                    None => Step::Done(()),
                    // A failed status will not turn into "gone" by waiting.
                    Some(s) if s.contains("FAILED") || s.contains("UNSUCCESSFUL") => Step::Failed(format!(
                        "{what} is in status {s} instead of being deleted; see its status reasons in the AWS console or `aws bedrock-agentcore-control get-*`"
                    )),
                    Some(s) => Step::Pending(s),
                })
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for {what} to be deleted")))
    }

    // -----------------------------------------------------------------------
    // Gateways

    pub(super) async fn create_gateway(
        &self,
        addr: &Address,
        c: &GatewayConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let (auth_type, auth_conf) = authorizer(&c.authorizer)?;
        let mut req = self
            .agentcore
            .create_gateway()
            .name(&c.name)
            .role_arn(&c.role_arn)
            .authorizer_type(auth_type)
            .set_authorizer_configuration(auth_conf)
            .set_tags(Some(tags_map(&c.tags)));
        if !c.protocol_type.is_empty() {
            req = req.protocol_type(GatewayProtocolType::from(c.protocol_type.as_str()));
        }
        if c.semantic_search {
            req = req.protocol_configuration(GatewayProtocolConfiguration::Mcp(
                McpGatewayConfiguration::builder()
                    .search_type(SearchType::Semantic)
                    .build(),
            ));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            gateway_create_retryable,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating gateway {}", c.name))
                }
            },
        )
        .await?;
        let g = self
            .wait_gateway(addr, created.gateway_id(), &c.name, progress)
            .await?;
        Ok(gateway_ids(&g))
    }

    pub(super) async fn update_gateway(
        &self,
        addr: &Address,
        c: &GatewayConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = current
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: gateway {} has no known id", c.name))?;
        // An interrupted apply may have left it CREATING/UPDATING: let that
        // finish first, or the update is refused.
        let now = self
            .settled(
                addr,
                progress,
                || self.get_gateway(id),
                |g| g.status().as_str(),
                || format!("{addr}: gateway {} ({id}) no longer exists", c.name),
            )
            .await?;
        let (auth_type, auth_conf) = authorizer(&c.authorizer)?;
        let mut req = self
            .agentcore
            .update_gateway()
            .gateway_identifier(id)
            .name(&c.name)
            .role_arn(&c.role_arn)
            .authorizer_type(auth_type)
            .set_authorizer_configuration(auth_conf)
            // Not managed by agentform: keep what is there.
            .set_kms_key_arn(now.kms_key_arn().map(str::to_string))
            .set_policy_engine_configuration(now.policy_engine_configuration().cloned())
            .set_exception_level(now.exception_level().cloned())
            .set_custom_transform_configuration(now.custom_transform_configuration().cloned())
            .set_waf_configuration(now.waf_configuration().cloned());
        if !now.interceptor_configurations().is_empty() {
            req =
                req.set_interceptor_configurations(Some(now.interceptor_configurations().to_vec()));
        }
        if !c.protocol_type.is_empty() {
            req = req.protocol_type(GatewayProtocolType::from(c.protocol_type.as_str()));
        }
        if c.protocol_type == GatewayProtocolType::Mcp.as_str() {
            // The other MCP settings are kept; only the search type is ours.
            let mut mcp = mcp_of(now.protocol_configuration())
                .cloned()
                .unwrap_or_else(|| McpGatewayConfiguration::builder().build());
            mcp.search_type = c.semantic_search.then_some(SearchType::Semantic);
            req = req.protocol_configuration(GatewayProtocolConfiguration::Mcp(mcp));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            is_role_propagation,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating gateway {}", c.name))
                }
            },
        )
        .await?;
        let g = self.wait_gateway(addr, id, &c.name, progress).await?;
        self.reconcile_tags(&format!("gateway {}", c.name), g.gateway_arn(), &c.tags)
            .await?;
        Ok(gateway_ids(&g))
    }

    pub(super) async fn delete_gateway(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: gateway {} has no known id", o.name)
        };
        let name = &o.name;
        // Conflict: targets still being deleted, or an update in flight.
        wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::CONFLICT_LIMIT,
            "the gateway is busy (targets still being deleted?)",
            is_conflict,
            || async {
                gone(
                    self.agentcore
                        .delete_gateway()
                        .gateway_identifier(id)
                        .send()
                        .await
                        .map(|_| ())
                        .ctx(|| format!("deleting gateway {name}")),
                )
            },
        )
        .await?;
        self.wait_gone(addr, &format!("gateway {name}"), progress, || async {
            Ok(self
                .get_gateway(id)
                .await?
                .map(|g| g.status().as_str().to_string()))
        })
        .await
    }

    // -----------------------------------------------------------------------
    // Targets

    pub(super) async fn create_target(
        &self,
        addr: &Address,
        c: &TargetConfig,
        parent: &Ids,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let gid = parent
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: the id of gateway {} is not known", c.gateway))?;
        // The gateway may still be CREATING (e.g. after an interrupted apply).
        self.wait_gateway(addr, gid, &c.gateway, progress).await?;
        let (tc, cred) = target_configuration(c)
            .map_err(|e| e.context(format!("{addr}: building gateway target {}", c.name)))?;
        let mut req = self
            .agentcore
            .create_gateway_target()
            .gateway_identifier(gid)
            .name(&c.name)
            .target_configuration(tc)
            .credential_provider_configurations(cred);
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            is_role_propagation,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating target {} on gateway {}", c.name, c.gateway))
                }
            },
        )
        .await?;
        let t = self
            .wait_target(addr, gid, created.target_id(), &c.name, progress)
            .await?;
        Ok(Ids {
            arn: None,
            id: Some(t.target_id().to_string()),
            url: None,
        })
    }

    pub(super) async fn update_target(
        &self,
        addr: &Address,
        c: &TargetConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let gid = current
            .parent_ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: the id of gateway {} is not known", c.gateway))?;
        let tid = current
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: gateway target {} has no known id", c.name))?;
        let now = self
            .settled(
                addr,
                progress,
                || self.get_target(gid, tid),
                |t| t.status().as_str(),
                || format!("{addr}: gateway target {} ({tid}) no longer exists", c.name),
            )
            .await?;
        let (tc, cred) = target_configuration(c)
            .map_err(|e| e.context(format!("{addr}: building gateway target {}", c.name)))?;
        let mut req = self
            .agentcore
            .update_gateway_target()
            .gateway_identifier(gid)
            .target_id(tid)
            .name(&c.name)
            .target_configuration(tc)
            .credential_provider_configurations(cred)
            .set_metadata_configuration(now.metadata_configuration().cloned())
            .set_private_endpoint(now.private_endpoint().cloned());
        if !now.certificate_configurations().is_empty() {
            req =
                req.set_certificate_configurations(Some(now.certificate_configurations().to_vec()));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            is_role_propagation,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating target {} on gateway {}", c.name, c.gateway))
                }
            },
        )
        .await?;
        self.wait_target(addr, gid, tid, &c.name, progress).await?;
        Ok(current.ids.clone())
    }

    pub(super) async fn delete_target(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let gateway = o.parent.as_deref().unwrap_or("?");
        let Some(gid) = o.parent_ids.id.as_deref() else {
            bail!("{addr}: the id of gateway {gateway} is not known")
        };
        let Some(tid) = o.ids.id.as_deref() else {
            bail!("{addr}: gateway target {} has no known id", o.name)
        };
        let what = format!("target {} of gateway {gateway}", o.name);
        wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::CONFLICT_LIMIT,
            "the target is busy",
            is_conflict,
            || async {
                gone(
                    self.agentcore
                        .delete_gateway_target()
                        .gateway_identifier(gid)
                        .target_id(tid)
                        .send()
                        .await
                        .map(|_| ())
                        .ctx(|| format!("deleting {what}")),
                )
            },
        )
        .await?;
        self.wait_gone(addr, &what, progress, || async {
            Ok(self
                .get_target(gid, tid)
                .await?
                .map(|t| t.status().as_str().to_string()))
        })
        .await
    }

    // -----------------------------------------------------------------------
    // Runtimes

    pub(super) async fn create_runtime(
        &self,
        addr: &Address,
        c: &RuntimeConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let mut req = self
            .agentcore
            .create_agent_runtime()
            .agent_runtime_name(&c.name)
            .agent_runtime_artifact(artifact(c)?)
            .role_arn(&c.role_arn)
            .network_configuration(
                NetworkConfiguration::builder()
                    .network_mode(NetworkMode::from(c.network_mode.as_str()))
                    .build()?,
            )
            .protocol_configuration(
                ProtocolConfiguration::builder()
                    .server_protocol(ServerProtocol::from(c.protocol.as_str()))
                    .build()?,
            )
            .set_tags(Some(tags_map(&c.tags)));
        if !c.environment.is_empty() {
            req = req.set_environment_variables(Some(env_map(&c.environment)));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            is_role_propagation,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating runtime {}", c.name))
                }
            },
        )
        .await?;
        let r = self
            .wait_runtime(addr, created.agent_runtime_id(), &c.name, progress)
            .await?;
        Ok(runtime_ids(&r))
    }

    pub(super) async fn update_runtime(
        &self,
        addr: &Address,
        c: &RuntimeConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = current
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: runtime {} has no known id", c.name))?;
        let now = self
            .settled(
                addr,
                progress,
                || self.get_runtime(id),
                |r| r.status().as_str(),
                || format!("{addr}: runtime {} ({id}) no longer exists", c.name),
            )
            .await?;
        let mode = NetworkMode::from(c.network_mode.as_str());
        // VPC settings are not managed by agentform: keep them while the mode stays.
        let vpc = now
            .network_configuration()
            .filter(|n| n.network_mode() == &mode)
            .and_then(|n| n.network_mode_config().cloned());
        let protocol = ServerProtocol::from(c.protocol.as_str());
        let mut proto = ProtocolConfiguration::builder().server_protocol(protocol.clone());
        if let Some(p) = now
            .protocol_configuration()
            .filter(|p| p.server_protocol() == &protocol)
        {
            proto = proto
                .set_port(p.port())
                .set_path(p.path().map(str::to_string));
        }
        let mut req = self
            .agentcore
            .update_agent_runtime()
            .agent_runtime_id(id)
            .agent_runtime_artifact(artifact(c)?)
            .role_arn(&c.role_arn)
            .network_configuration(
                NetworkConfiguration::builder()
                    .network_mode(mode)
                    .set_network_mode_config(vpc)
                    .build()?,
            )
            .protocol_configuration(proto.build()?)
            // An explicit (possibly empty) map: the update replaces the variables.
            .set_environment_variables(Some(env_map(&c.environment)))
            // Not managed by agentform: keep what is there.
            .set_authorizer_configuration(now.authorizer_configuration().cloned())
            .set_request_header_configuration(now.request_header_configuration().cloned())
            .set_lifecycle_configuration(now.lifecycle_configuration().cloned())
            .set_metadata_configuration(now.metadata_configuration().cloned())
            .set_capacity_provider_configuration(now.capacity_provider_configuration().cloned())
            .set_platform_version(now.platform_version().map(str::to_string));
        if !now.filesystem_configurations().is_empty() {
            req = req.set_filesystem_configurations(Some(now.filesystem_configurations().to_vec()));
        }
        if !now.allowed_ports().is_empty() {
            req = req.set_allowed_ports(Some(now.allowed_ports().to_vec()));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let updated = wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::PROPAGATION_LIMIT,
            PROPAGATION_WHY,
            is_role_propagation,
            || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating runtime {}", c.name))
                }
            },
        )
        .await?;
        let r = self
            .wait_runtime(addr, updated.agent_runtime_id(), &c.name, progress)
            .await?;
        self.reconcile_tags(
            &format!("runtime {}", c.name),
            r.agent_runtime_arn(),
            &c.tags,
        )
        .await?;
        Ok(runtime_ids(&r))
    }

    pub(super) async fn delete_runtime(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: runtime {} has no known id", o.name)
        };
        let name = &o.name;
        wait::retry(
            addr,
            progress,
            Backoff::RETRY,
            wait::CONFLICT_LIMIT,
            "the runtime is busy",
            is_conflict,
            || async {
                gone(
                    self.agentcore
                        .delete_agent_runtime()
                        .agent_runtime_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .ctx(|| format!("deleting runtime {name}")),
                )
            },
        )
        .await?;
        self.wait_gone(addr, &format!("runtime {name}"), progress, || async {
            Ok(self
                .get_runtime(id)
                .await?
                .map(|r| r.status().as_str().to_string()))
        })
        .await
    }
}

/// Statuses that end by themselves; an update must wait them out.
fn is_transitional(status: &str) -> bool {
    matches!(status, "CREATING" | "UPDATING" | "SYNCHRONIZING")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_round_trip() {
        let v = json!({
            "type": "object",
            "description": "args",
            "properties": {
                "a": {"type": "number", "description": "first"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "nested": {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}
            },
            "required": ["a", "tags"]
        });
        assert_eq!(schema_to_json(&json_to_schema(&v).unwrap()), v);
        assert_eq!(
            schema_to_json(&json_to_schema(&json!({"type": "integer"})).unwrap()),
            json!({"type": "integer"})
        );
    }

    #[test]
    fn schema_rejects_what_agentcore_cannot_hold() {
        let e = json_to_schema(&json!({"type": "string", "enum": ["a"]})).unwrap_err();
        assert!(
            e.to_string()
                .contains("unsupported JSON-Schema keyword `enum`"),
            "{e}"
        );
        assert!(json_to_schema(&json!({"type": "null"})).is_err());
        assert!(json_to_schema(&json!({"type": ["string", "null"]})).is_err());
        assert!(json_to_schema(&json!({"type": "object", "required": [1]})).is_err());
    }

    #[test]
    fn authorizers_round_trip() {
        let jwt = GatewayAuthorizer::CustomJwt {
            discovery_url: "https://idp.example.com/.well-known/openid-configuration".into(),
            allowed_audiences: vec!["aud".into()],
            allowed_clients: vec![],
            allowed_scopes: vec!["s1".into(), "s2".into()],
        };
        for a in [GatewayAuthorizer::AwsIam, jwt] {
            let (ty, conf) = authorizer(&a).unwrap();
            assert_eq!(gateway_authorizer(&ty, conf.as_ref()), a);
        }
        match gateway_authorizer(&AuthorizerType::None, None) {
            GatewayAuthorizer::CustomJwt { discovery_url, .. } => {
                assert_eq!(discovery_url, "(authorizer type NONE)")
            }
            other => panic!("{other:?}"),
        }
    }
}
