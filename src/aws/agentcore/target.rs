//! Gateway targets: observed through their gateway (they cannot be tagged
//! and belong to it), created on the gateway's id, updated whole.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput;
use std::sync::Arc;

use aws_sdk_bedrockagentcorecontrol::types::{
    ApiGatewayTargetConfiguration, ApiGatewayToolConfiguration, ApiGatewayToolFilter,
    ApiGatewayToolOverride, ApiKeyCredentialLocation, ApiSchemaConfiguration, CredentialProvider,
    CredentialProviderConfiguration, CredentialProviderType, GatewayApiKeyCredentialProvider,
    ListingMode, McpLambdaTargetConfiguration, McpServerTargetConfiguration,
    McpTargetConfiguration, OAuthCredentialProvider, OAuthGrantType, RestApiMethod,
    S3Configuration, TargetConfiguration, TargetSummary, ToolSchema,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::joined;
use super::tool_schema::{tool_def, tool_definition};
use crate::aws::wait::{Retry, Step};
use crate::aws::{CONCURRENCY, SdkResultExt, found};
use crate::model::{
    Address, ApiFilter, ApiOverride, ApiSchema, Config, Ids, Kind, Observed, Progress,
    TargetConfig, TargetCredentials, TargetSource,
};

fn target_config(gateway: &str, t: &GetGatewayTargetOutput) -> TargetConfig {
    TargetConfig {
        gateway: gateway.to_string(),
        name: t.name().to_string(),
        description: t.description().unwrap_or_default().to_string(),
        source: t
            .target_configuration()
            .map_or(TargetSource::Other("none".into()), target_source),
        credentials: t
            .credential_provider_configurations()
            .first()
            .map_or(TargetCredentials::None, target_credentials),
    }
}

/// An inline document read back: JSON as sent (agentform sends JSON), else
/// YAML (another tool may have sent that), else the text itself.
fn inline_document(text: &str) -> Value {
    serde_json::from_str(text)
        .or_else(|_| serde_saphyr::from_str::<Value>(text))
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

fn api_schema(s: &ApiSchemaConfiguration) -> Option<ApiSchema> {
    match s {
        ApiSchemaConfiguration::InlinePayload(text) => {
            Some(ApiSchema::Inline(Arc::new(inline_document(text))))
        }
        ApiSchemaConfiguration::S3(s3) => Some(ApiSchema::S3 {
            uri: s3.uri().unwrap_or_default().to_string(),
            bucket_owner: s3.bucket_owner_account_id().unwrap_or_default().to_string(),
        }),
        _ => None,
    }
}

fn target_source(c: &TargetConfiguration) -> TargetSource {
    let other = |kind: &str| TargetSource::Other(kind.to_string());
    let mcp = match c {
        TargetConfiguration::Mcp(m) => m,
        TargetConfiguration::Http(_) => return other("http"),
        TargetConfiguration::Inference(_) => return other("inference"),
        _ => return other("unknown"),
    };
    match mcp {
        McpTargetConfiguration::Lambda(l) => match l.tool_schema() {
            Some(ToolSchema::InlinePayload(tools)) => TargetSource::Lambda {
                arn: l.lambda_arn().to_string(),
                tools: tools.iter().map(tool_def).collect(),
            },
            _ => other("lambda (tools in S3)"),
        },
        McpTargetConfiguration::OpenApiSchema(s) => {
            api_schema(s).map_or_else(|| other("openapi"), TargetSource::OpenApi)
        }
        McpTargetConfiguration::SmithyModel(s) => {
            api_schema(s).map_or_else(|| other("smithy"), TargetSource::Smithy)
        }
        McpTargetConfiguration::McpServer(m) if m.mcp_tool_schema().is_none() => {
            TargetSource::McpServer {
                endpoint: m.endpoint().to_string(),
                listing_mode: m
                    .listing_mode()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default(),
            }
        }
        McpTargetConfiguration::McpServer(_) => other("mcp_server (with a tool schema)"),
        McpTargetConfiguration::ApiGateway(g) => {
            let tc = g.api_gateway_tool_configuration();
            let mut filters: Vec<ApiFilter> = tc
                .map(|c| c.tool_filters())
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    let mut methods: Vec<String> =
                        f.methods().iter().map(|m| m.as_str().to_string()).collect();
                    methods.sort();
                    ApiFilter {
                        path: f.filter_path().to_string(),
                        methods,
                    }
                })
                .collect();
            filters.sort();
            let mut overrides: Vec<ApiOverride> = tc
                .map(|c| c.tool_overrides())
                .unwrap_or_default()
                .iter()
                .map(|o| ApiOverride {
                    path: o.path().to_string(),
                    method: o.method().as_str().to_string(),
                    name: o.name().to_string(),
                    description: o.description().unwrap_or_default().to_string(),
                })
                .collect();
            overrides.sort();
            TargetSource::ApiGateway {
                rest_api_id: g.rest_api_id().to_string(),
                stage: g.stage().to_string(),
                filters,
                overrides,
            }
        }
        McpTargetConfiguration::Connector(_) => other("connector"),
        _ => other("unknown"),
    }
}

fn target_credentials(c: &CredentialProviderConfiguration) -> TargetCredentials {
    let ty = c.credential_provider_type().as_str();
    match (ty, c.credential_provider()) {
        ("GATEWAY_IAM_ROLE", None) => TargetCredentials::GatewayIamRole,
        ("API_KEY", Some(CredentialProvider::ApiKeyCredentialProvider(k))) => {
            TargetCredentials::ApiKey {
                provider_arn: k.provider_arn().to_string(),
                location: k
                    .credential_location()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default(),
                parameter_name: k
                    .credential_parameter_name()
                    .unwrap_or_default()
                    .to_string(),
                prefix: k.credential_prefix().unwrap_or_default().to_string(),
            }
        }
        ("OAUTH", Some(CredentialProvider::OauthCredentialProvider(o)))
            if o.default_return_url().is_none() =>
        {
            TargetCredentials::OAuth {
                provider_arn: o.provider_arn().to_string(),
                scopes: o.scopes().to_vec(),
                custom_parameters: o
                    .custom_parameters()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                grant_type: o.grant_type().as_str().to_string(),
            }
        }
        (ty, _) => TargetCredentials::Other(ty.to_string()),
    }
}

fn api_schema_configuration(s: &ApiSchema) -> Result<ApiSchemaConfiguration> {
    Ok(match s {
        ApiSchema::Inline(doc) => {
            ApiSchemaConfiguration::InlinePayload(serde_json::to_string(&**doc)?)
        }
        ApiSchema::S3 { uri, bucket_owner } => ApiSchemaConfiguration::S3(
            S3Configuration::builder()
                .uri(uri)
                .set_bucket_owner_account_id(non_empty(bucket_owner))
                .build(),
        ),
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn target_configuration(c: &TargetConfig) -> Result<TargetConfiguration> {
    let mcp = match &c.source {
        TargetSource::Lambda { arn, tools } => {
            let tools = tools
                .iter()
                .map(tool_definition)
                .collect::<Result<Vec<_>>>()?;
            McpTargetConfiguration::Lambda(
                McpLambdaTargetConfiguration::builder()
                    .lambda_arn(arn)
                    .tool_schema(ToolSchema::InlinePayload(tools))
                    .build()?,
            )
        }
        TargetSource::OpenApi(s) => {
            McpTargetConfiguration::OpenApiSchema(api_schema_configuration(s)?)
        }
        TargetSource::Smithy(s) => {
            McpTargetConfiguration::SmithyModel(api_schema_configuration(s)?)
        }
        TargetSource::McpServer {
            endpoint,
            listing_mode,
        } => McpTargetConfiguration::McpServer(
            McpServerTargetConfiguration::builder()
                .endpoint(endpoint)
                .set_listing_mode(non_empty(listing_mode).map(|m| ListingMode::from(m.as_str())))
                .build()?,
        ),
        TargetSource::ApiGateway {
            rest_api_id,
            stage,
            filters,
            overrides,
        } => {
            let filters = filters
                .iter()
                .map(|f| {
                    ApiGatewayToolFilter::builder()
                        .filter_path(&f.path)
                        .set_methods(Some(
                            f.methods
                                .iter()
                                .map(|m| RestApiMethod::from(m.as_str()))
                                .collect(),
                        ))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let overrides = overrides
                .iter()
                .map(|o| {
                    ApiGatewayToolOverride::builder()
                        .name(&o.name)
                        .path(&o.path)
                        .method(RestApiMethod::from(o.method.as_str()))
                        .set_description(non_empty(&o.description))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            McpTargetConfiguration::ApiGateway(
                ApiGatewayTargetConfiguration::builder()
                    .rest_api_id(rest_api_id)
                    .stage(stage)
                    .api_gateway_tool_configuration(
                        ApiGatewayToolConfiguration::builder()
                            .set_tool_filters(Some(filters))
                            .set_tool_overrides((!overrides.is_empty()).then_some(overrides))
                            .build()?,
                    )
                    .build()?,
            )
        }
        TargetSource::Other(kind) => {
            bail!("internal error: a target of kind {kind} is only ever read, never sent")
        }
    };
    Ok(TargetConfiguration::Mcp(mcp))
}

/// The target's one credential provider configuration (`None`: no outbound auth).
fn credential_configuration(
    c: &TargetCredentials,
) -> Result<Option<CredentialProviderConfiguration>> {
    let provider = match c {
        TargetCredentials::None => return Ok(None),
        TargetCredentials::GatewayIamRole => None,
        TargetCredentials::ApiKey {
            provider_arn,
            location,
            parameter_name,
            prefix,
        } => Some(CredentialProvider::ApiKeyCredentialProvider(
            GatewayApiKeyCredentialProvider::builder()
                .provider_arn(provider_arn)
                .set_credential_location(
                    non_empty(location).map(|l| ApiKeyCredentialLocation::from(l.as_str())),
                )
                .set_credential_parameter_name(non_empty(parameter_name))
                .set_credential_prefix(non_empty(prefix))
                .build()?,
        )),
        TargetCredentials::OAuth {
            provider_arn,
            scopes,
            custom_parameters,
            grant_type,
        } => Some(CredentialProvider::OauthCredentialProvider(
            OAuthCredentialProvider::builder()
                .provider_arn(provider_arn)
                .set_scopes(Some(scopes.clone()))
                .set_custom_parameters((!custom_parameters.is_empty()).then(|| {
                    custom_parameters
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }))
                .set_grant_type(non_empty(grant_type).map(|g| OAuthGrantType::from(g.as_str())))
                .build()?,
        )),
        TargetCredentials::Other(ty) => {
            bail!("internal error: credentials of type {ty} are only ever read, never sent")
        }
    };
    let ty = c.api_type().unwrap_or_default();
    Ok(Some(
        CredentialProviderConfiguration::builder()
            .credential_provider_type(CredentialProviderType::from(ty))
            .set_credential_provider(provider)
            .build()?,
    ))
}

/// What create and update send: the configuration and its credentials.
fn target_request(
    c: &TargetConfig,
) -> Result<(
    TargetConfiguration,
    Option<Vec<CredentialProviderConfiguration>>,
)> {
    Ok((
        target_configuration(c)?,
        credential_configuration(&c.credentials)?.map(|c| vec![c]),
    ))
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

impl crate::aws::Aws {
    pub(super) async fn get_target(
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

    pub(in crate::aws) async fn observe_targets(
        &self,
        gateway: &Observed,
    ) -> Result<Vec<Observed>> {
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
                .ctx(|| format!("listing the targets of gateway {}", gateway.name())),
        )? {
            Some(v) => v,
            None => return Ok(vec![]),
        };
        futures::stream::iter(listed)
            .map(|summary| async move {
                let Some(t) = self.get_target(gid, summary.target_id()).await? else {
                    return Ok(None);
                };
                let owner = gateway.child_owner(Kind::GatewayTarget, t.name());
                Ok::<_, anyhow::Error>(Some(Observed {
                    ids: Ids {
                        id: Some(t.target_id().to_string()),
                        ..Ids::default()
                    },
                    parent_ids: gateway.ids.clone(),
                    status: Some(t.status().as_str().to_string()),
                    status_reasons: t.status_reasons().to_vec(),
                    owner,
                    config: Config::Target(target_config(gateway.name(), &t)),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
    }

    pub(super) async fn wait_target(
        &self,
        addr: &Address,
        gid: &str,
        tid: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetGatewayTargetOutput> {
        self.wait_ready(
            addr,
            progress,
            &format!("gateway target {name}"),
            &format!("gateway target {name} ({tid}) disappeared"),
            || self.get_target(gid, tid),
            target_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_target(
        &self,
        addr: &Address,
        c: &TargetConfig,
        parent: Option<&Ids>,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let gid = parent
            .and_then(|p| p.id.as_deref())
            .ok_or_else(|| anyhow!("{addr}: the id of gateway {} is not known", c.gateway))?;
        // The gateway is READY: the executor created, updated or waited for
        // it first (the plan waits for one an interrupted run left CREATING).
        // One of the gateway's 5 concurrent target operations, until ready.
        let _slot = self.quotas.target_slot(gid).await;
        let (tc, cred) = target_request(c)
            .map_err(|e| e.context(format!("{addr}: building gateway target {}", c.name)))?;
        let mut req = self
            .agentcore
            .create_gateway_target()
            .gateway_identifier(gid)
            .name(&c.name)
            .target_configuration(tc)
            .set_credential_provider_configurations(cred);
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = Retry::PROPAGATION
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating target {} on gateway {}", c.name, c.gateway))
                }
            })
            .await?;
        let t = self
            .wait_target(addr, gid, created.target_id(), &c.name, progress)
            .await?;
        Ok(Ids {
            id: Some(t.target_id().to_string()),
            ..Ids::default()
        })
    }

    pub(in crate::aws) async fn update_target(
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
        let _slot = self.quotas.target_slot(gid).await;
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
        let (tc, cred) = target_request(c)
            .map_err(|e| e.context(format!("{addr}: building gateway target {}", c.name)))?;
        let mut req = self
            .agentcore
            .update_gateway_target()
            .gateway_identifier(gid)
            .target_id(tid)
            .name(&c.name)
            .target_configuration(tc)
            .set_credential_provider_configurations(cred)
            .set_metadata_configuration(now.metadata_configuration().cloned())
            .set_private_endpoint(now.private_endpoint().cloned());
        if !now.certificate_configurations().is_empty() {
            req =
                req.set_certificate_configurations(Some(now.certificate_configurations().to_vec()));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        Retry::PROPAGATION
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating target {} on gateway {}", c.name, c.gateway))
                }
            })
            .await?;
        self.wait_target(addr, gid, tid, &c.name, progress).await?;
        Ok(current.ids.clone())
    }

    pub(in crate::aws) async fn delete_target(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let gateway = o.parent().unwrap_or("?");
        let Some(gid) = o.parent_ids.id.as_deref() else {
            bail!("{addr}: the id of gateway {gateway} is not known")
        };
        let Some(tid) = o.ids.id.as_deref() else {
            bail!("{addr}: gateway target {} has no known id", o.name())
        };
        let what = format!("target {} of gateway {gateway}", o.name());
        let _slot = self.quotas.target_slot(gid).await;
        self.delete_and_wait_gone(
            addr,
            &what,
            "the target is busy",
            || async {
                self.agentcore
                    .delete_gateway_target()
                    .gateway_identifier(gid)
                    .target_id(tid)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting {what}"))
            },
            || async {
                Ok(self
                    .get_target(gid, tid)
                    .await?
                    .map(|t| t.status().as_str().to_string()))
            },
            progress,
        )
        .await
    }
}

impl crate::aws::Aws {
    /// Waits until an observed target is READY.
    pub(in crate::aws) async fn wait_target_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let (Some(gid), Some(tid)) = (o.parent_ids.id.as_deref(), o.ids.id.as_deref()) else {
            bail!(
                "{addr}: the ids of gateway target {} are not known",
                o.name()
            )
        };
        self.wait_target(addr, gid, tid, o.name(), progress).await?;
        Ok(o.ids.clone())
    }
}
