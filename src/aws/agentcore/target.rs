//! Gateway targets: observed through their gateway (they cannot be tagged
//! and belong to it), created on the gateway's id, updated whole.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput;
use aws_sdk_bedrockagentcorecontrol::types::{
    CredentialProviderConfiguration, CredentialProviderType, McpLambdaTargetConfiguration,
    McpTargetConfiguration, TargetConfiguration, TargetSummary, ToolSchema,
};
use futures::{StreamExt, TryStreamExt};

use super::joined;
use super::tool_schema::{tool_def, tool_definition};
use crate::aws::wait::{Retry, Step};
use crate::aws::{CONCURRENCY, SdkResultExt, found};
use crate::model::{Address, Config, Ids, Kind, Observed, Progress, TargetConfig};

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
