//! Gateways: observe, create, update (sending back what agentform does not
//! manage), delete.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_gateway::GetGatewayOutput;
use aws_sdk_bedrockagentcorecontrol::types::{
    AuthorizerConfiguration, AuthorizerType, GatewayInterceptionPoint,
    GatewayInterceptorConfiguration, GatewayProtocolConfiguration, GatewayProtocolType,
    GatewaySummary, InterceptorConfiguration, InterceptorInputConfiguration,
    LambdaInterceptorConfiguration, McpGatewayConfiguration, SearchType,
};
use aws_sdk_bedrockagentcorecontrol::types::{
    CustomTransformConfiguration, LambdaTransformConfiguration, WafConfiguration, WafFailureMode,
};
use futures::{StreamExt, TryStreamExt};

use super::{joined, jwt_authorizer, jwt_configuration, tags_map};
use crate::aws::wait::{Retry, Step};
use crate::aws::{CONCURRENCY, Scope, SdkResultExt, found, is_error, is_role_propagation};
use crate::model::{
    Address, Authorizer, Config, GatewayConfig, Ids, Interceptor, Kind, Observed, Progress,
    Resolved, Tags,
};

fn authorizer(a: &Authorizer) -> Result<(AuthorizerType, Option<AuthorizerConfiguration>)> {
    Ok(match a {
        Authorizer::AwsIam => (AuthorizerType::AwsIam, None),
        Authorizer::CustomJwt { .. } => (AuthorizerType::CustomJwt, jwt_configuration(a)?),
    })
}

fn gateway_authorizer(ty: &AuthorizerType, conf: Option<&AuthorizerConfiguration>) -> Authorizer {
    match ty {
        AuthorizerType::AwsIam => Authorizer::AwsIam,
        AuthorizerType::CustomJwt => jwt_authorizer(conf),
        // The model knows only the two authorizers agentform creates; show
        // any other as a JWT authorizer whose URL names the real type, so the
        // diff says what is there and the authorizer change forces a replace.
        other => Authorizer::CustomJwt {
            discovery_url: Resolved::Known(format!("(authorizer type {})", other.as_str())),
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
        interceptors: {
            let mut v: Vec<Interceptor> = g
                .interceptor_configurations()
                .iter()
                .map(|i| {
                    let mut points: Vec<String> = i
                        .interception_points()
                        .iter()
                        .map(|p| p.as_str().to_string())
                        .collect();
                    points.sort();
                    Interceptor {
                        // Another kind than Lambda reads as no function,
                        // which no spec wants: a plan replaces it.
                        lambda_arn: i
                            .interceptor()
                            .and_then(|x| x.as_lambda().ok())
                            .map(|l| l.arn().to_string())
                            .unwrap_or_default(),
                        points,
                        pass_request_headers: i
                            .input_configuration()
                            .is_some_and(|c| c.pass_request_headers()),
                    }
                })
                .collect();
            v.sort();
            v
        },
        policy_engine: g
            .policy_engine_configuration()
            .map(|p| crate::model::GatewayPolicyEngine {
                arn: crate::model::Resolved::Known(p.arn().to_string()),
                mode: p.mode().as_str().to_string(),
            }),
        waf_failure_mode: g
            .waf_configuration()
            .and_then(|w| w.failure_mode())
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
        transform_lambda: g
            .custom_transform_configuration()
            .and_then(|t| t.lambda())
            .and_then(|l| l.arn())
            .unwrap_or_default()
            .to_string(),
        tags,
    }
}

/// The update-only settings the spec wants (`None`: none).
fn waf_configuration(c: &GatewayConfig) -> Option<WafConfiguration> {
    (!c.waf_failure_mode.is_empty()).then(|| {
        WafConfiguration::builder()
            .failure_mode(WafFailureMode::from(c.waf_failure_mode.as_str()))
            .build()
    })
}

fn custom_transform_configuration(c: &GatewayConfig) -> Option<CustomTransformConfiguration> {
    (!c.transform_lambda.is_empty()).then(|| {
        CustomTransformConfiguration::builder()
            .lambda(
                LambdaTransformConfiguration::builder()
                    .arn(&c.transform_lambda)
                    .build(),
            )
            .build()
    })
}

/// The policy engine configuration the API takes (`None`: no engine).
fn policy_engine_configuration(
    c: &GatewayConfig,
) -> Result<Option<aws_sdk_bedrockagentcorecontrol::types::GatewayPolicyEngineConfiguration>> {
    use aws_sdk_bedrockagentcorecontrol::types::{
        GatewayPolicyEngineConfiguration, GatewayPolicyEngineMode,
    };
    let Some(p) = &c.policy_engine else {
        return Ok(None);
    };
    let arn = p.arn.known().ok_or_else(|| {
        anyhow!(
            "internal error: the policy engine of gateway {} is not created yet",
            c.name
        )
    })?;
    Ok(Some(
        GatewayPolicyEngineConfiguration::builder()
            .arn(arn)
            .mode(GatewayPolicyEngineMode::from(p.mode.as_str()))
            .build()?,
    ))
}

/// What the API takes for the gateway's interceptors.
fn interceptor_configurations(c: &GatewayConfig) -> Result<Vec<GatewayInterceptorConfiguration>> {
    c.interceptors
        .iter()
        .map(|i| {
            Ok(GatewayInterceptorConfiguration::builder()
                .interceptor(InterceptorConfiguration::Lambda(
                    LambdaInterceptorConfiguration::builder()
                        .arn(&i.lambda_arn)
                        .build()?,
                ))
                .set_interception_points(Some(
                    i.points
                        .iter()
                        .map(|p| GatewayInterceptionPoint::from(p.as_str()))
                        .collect(),
                ))
                .input_configuration(
                    InterceptorInputConfiguration::builder()
                        .pass_request_headers(i.pass_request_headers)
                        .build()?,
                )
                .build()?)
        })
        .collect()
}

fn mcp_of(p: Option<&GatewayProtocolConfiguration>) -> Option<&McpGatewayConfiguration> {
    p.and_then(|p| p.as_mcp().ok())
}

fn gateway_ids(g: &GetGatewayOutput) -> Ids {
    Ids {
        arn: Some(g.gateway_arn().to_string()),
        id: Some(g.gateway_id().to_string()),
        url: g.gateway_url().map(str::to_string),
        version: None,
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

impl crate::aws::Aws {
    pub(super) async fn get_gateway(&self, id: &str) -> Result<Option<GetGatewayOutput>> {
        found(
            self.agentcore
                .get_gateway()
                .gateway_identifier(id)
                .send()
                .await
                .ctx(|| format!("reading gateway {id}")),
        )
    }

    pub(in crate::aws) async fn observe_gateways(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Gateway);
        let prefix = crate::names::prefix(Kind::Gateway, s.project).unwrap_or_default();
        let candidates: Vec<GatewaySummary> = self
            .list_gateways()
            .await?
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

    pub(super) async fn wait_gateway(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetGatewayOutput> {
        self.wait_ready(
            addr,
            progress,
            &format!("gateway {name}"),
            &format!("gateway {name} ({id}) disappeared"),
            || self.get_gateway(id),
            gateway_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_gateway(
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
            .set_tags(Some(tags_map(&c.tags)))
            .set_policy_engine_configuration(policy_engine_configuration(c)?);
        if !c.interceptors.is_empty() {
            req = req.set_interceptor_configurations(Some(interceptor_configurations(c)?));
        }
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
        let created = Retry::PROPAGATION
            .when(gateway_create_retryable)
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating gateway {}", c.name))
                }
            })
            .await
            .map(|created| created.gateway_id().to_string());
        let id = super::created_or_own(created, addr, &format!("gateway named {}", c.name), || {
            self.find_own_gateway(c)
        })
        .await?;
        let g = self.wait_gateway(addr, &id, &c.name, progress).await?;
        // WAF and custom transforms are set by UpdateGateway only: right
        // after create (an interrupted run leaves a gateway whose plan shows
        // them still to set).
        if c.has_update_only() {
            return self.update_gateway_by_id(addr, &id, c, progress).await;
        }
        Ok(gateway_ids(&g))
    }

    /// Every gateway of the account and region.
    async fn list_gateways(&self) -> Result<Vec<GatewaySummary>> {
        self.agentcore
            .list_gateways()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore gateways".into())
    }

    /// The id of the gateway named like `c` that carries `c`'s ownership tags.
    async fn find_own_gateway(&self, c: &GatewayConfig) -> Result<Option<String>> {
        let listed = self.list_gateways().await?;
        for g in listed.iter().filter(|g| g.name() == c.name) {
            let Some(full) = self.get_gateway(g.gateway_id()).await? else {
                continue;
            };
            let tags = self
                .agentcore_tags(&format!("gateway {}", c.name), full.gateway_arn())
                .await?
                .unwrap_or_default();
            if crate::aws::same_owner_tags(&tags, &c.tags) {
                return Ok(Some(g.gateway_id().to_string()));
            }
        }
        Ok(None)
    }

    pub(in crate::aws) async fn update_gateway(
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
        self.update_gateway_by_id(addr, id, c, progress).await
    }

    /// UpdateGateway with the whole object: the spec's settings and what
    /// agentform does not manage as it is now.
    async fn update_gateway_by_id(
        &self,
        addr: &Address,
        id: &str,
        c: &GatewayConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
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
            // The policy engine is the spec's (none: detached).
            .set_policy_engine_configuration(policy_engine_configuration(c)?)
            .set_exception_level(now.exception_level().cloned())
            // Update-only settings: the spec's (none: removed).
            .set_custom_transform_configuration(custom_transform_configuration(c))
            .set_waf_configuration(waf_configuration(c));
        // The interceptors are the spec's (none: none).
        if !c.interceptors.is_empty() {
            req = req.set_interceptor_configurations(Some(interceptor_configurations(c)?));
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
        Retry::PROPAGATION
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating gateway {}", c.name))
                }
            })
            .await?;
        let g = self.wait_gateway(addr, id, &c.name, progress).await?;
        self.reconcile_tags(&format!("gateway {}", c.name), g.gateway_arn(), &c.tags)
            .await?;
        Ok(gateway_ids(&g))
    }

    pub(in crate::aws) async fn delete_gateway(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: gateway {} has no known id", o.name())
        };
        let name = &o.name();
        // Conflict: targets still being deleted, or an update in flight.
        self.delete_and_wait_gone(
            addr,
            &format!("gateway {name}"),
            "the gateway is busy (targets still being deleted?)",
            || async {
                self.agentcore
                    .delete_gateway()
                    .gateway_identifier(id)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting gateway {name}"))
            },
            || async {
                Ok(self
                    .get_gateway(id)
                    .await?
                    .map(|g| g.status().as_str().to_string()))
            },
            progress,
        )
        .await
    }
}

impl crate::aws::Aws {
    /// Waits until an observed gateway is READY.
    pub(in crate::aws) async fn wait_gateway_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = o
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: gateway {} has no known id", o.name()))?;
        let g = self.wait_gateway(addr, id, o.name(), progress).await?;
        Ok(gateway_ids(&g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorizers_round_trip() {
        let jwt = Authorizer::CustomJwt {
            discovery_url: Resolved::Known(
                "https://idp.example.com/.well-known/openid-configuration".into(),
            ),
            allowed_audiences: vec!["aud".into()],
            allowed_clients: vec![],
            allowed_scopes: vec!["s1".into(), "s2".into()],
        };
        for a in [Authorizer::AwsIam, jwt] {
            let (ty, conf) = authorizer(&a).unwrap();
            assert_eq!(gateway_authorizer(&ty, conf.as_ref()), a);
        }
        match gateway_authorizer(&AuthorizerType::None, None) {
            Authorizer::CustomJwt { discovery_url, .. } => {
                assert_eq!(discovery_url.known(), Some("(authorizer type NONE)"))
            }
            other => panic!("{other:?}"),
        }
    }
}
