//! Runtime endpoints: observed through their runtime (AgentCore's own
//! `DEFAULT` endpoint is skipped: it is the service's and follows the latest
//! version by itself), created on the runtime's id, updated to a version,
//! deleted before their runtime.
//!
//! Endpoints take tags on create (agentform sets its ownership tags there
//! for anyone looking), but ownership is decided through the runtime, like
//! targets through their gateway: the API does not promise to read endpoint
//! tags back.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_agent_runtime_endpoint::GetAgentRuntimeEndpointOutput;
use aws_sdk_bedrockagentcorecontrol::types::AgentRuntimeEndpoint;

use super::tags_map;
use crate::aws::wait::{Retry, Step};
use crate::aws::{SdkResultExt, found};
use crate::model::{Address, Config, EndpointConfig, Ids, Kind, Observed, Progress, Resolved};
use crate::names::DEFAULT_ENDPOINT;

fn endpoint_config(runtime: &str, e: &AgentRuntimeEndpoint) -> EndpointConfig {
    EndpointConfig {
        runtime: runtime.to_string(),
        name: e.name().to_string(),
        description: e.description().unwrap_or_default().to_string(),
        // Where it is going: while an update rolls out, the live version
        // lags behind.
        version: Resolved::Known(
            e.target_version()
                .or(e.live_version())
                .unwrap_or_default()
                .to_string(),
        ),
        tags: Default::default(),
    }
}

fn endpoint_ids(arn: &str, id: &str, version: Option<&str>) -> Ids {
    Ids {
        arn: Some(arn.to_string()),
        id: Some(id.to_string()),
        url: None,
        version: version.map(str::to_string),
    }
}

/// Endpoint status -> polling step towards READY.
fn endpoint_step(e: GetAgentRuntimeEndpointOutput) -> Step<GetAgentRuntimeEndpointOutput> {
    match e.status().as_str() {
        "READY" => Step::Done(e),
        s @ ("CREATE_FAILED" | "UPDATE_FAILED") => Step::Failed(format!(
            "runtime endpoint {} is {s}: {}",
            e.name(),
            e.failure_reason().unwrap_or("no reason given")
        )),
        "DELETING" => Step::Failed(format!("runtime endpoint {} is being deleted", e.name())),
        s => Step::Pending(s.to_string()),
    }
}

/// CreateAgentRuntimeEndpoint's answer when the name is taken on the runtime.
fn already_exists(e: &anyhow::Error) -> bool {
    crate::aws::is_error(e, "ConflictException", &["already exists"])
}

/// The runtime id an endpoint operation needs: its parent's.
fn runtime_id<'a>(addr: &Address, c: &EndpointConfig, parent: Option<&'a Ids>) -> Result<&'a str> {
    parent
        .and_then(|p| p.id.as_deref())
        .ok_or_else(|| anyhow!("{addr}: the id of runtime {} is not known", c.runtime))
}

fn version(addr: &Address, c: &EndpointConfig) -> Result<String> {
    c.version
        .known()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("internal error: {addr}: the version to serve is not known"))
}

impl crate::aws::Aws {
    async fn get_endpoint(
        &self,
        runtime_id: &str,
        name: &str,
    ) -> Result<Option<GetAgentRuntimeEndpointOutput>> {
        found(
            self.agentcore
                .get_agent_runtime_endpoint()
                .agent_runtime_id(runtime_id)
                .endpoint_name(name)
                .send()
                .await
                .ctx(|| format!("reading endpoint {name} of runtime {runtime_id}")),
        )
    }

    /// The named endpoints of each observed runtime.
    pub(in crate::aws) async fn observe_endpoints(
        &self,
        runtime: &Observed,
    ) -> Result<Vec<Observed>> {
        let Some(rid) = runtime.ids.id.as_deref() else {
            return Ok(vec![]);
        };
        let listed: Vec<AgentRuntimeEndpoint> = match found(
            self.agentcore
                .list_agent_runtime_endpoints()
                .agent_runtime_id(rid)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing the endpoints of runtime {}", runtime.name())),
        )? {
            Some(v) => v,
            None => return Ok(vec![]),
        };
        Ok(listed
            .iter()
            .filter(|e| e.name() != DEFAULT_ENDPOINT)
            .map(|e| Observed {
                ids: endpoint_ids(
                    e.agent_runtime_endpoint_arn(),
                    e.id(),
                    e.target_version().or(e.live_version()),
                ),
                parent_ids: runtime.ids.clone(),
                status: Some(e.status().as_str().to_string()),
                status_reasons: vec![],
                owner: runtime.child_owner(Kind::RuntimeEndpoint, e.name()),
                config: Config::Endpoint(endpoint_config(runtime.name(), e)),
            })
            .collect())
    }

    async fn wait_endpoint(
        &self,
        addr: &Address,
        runtime_id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetAgentRuntimeEndpointOutput> {
        self.wait_ready(
            addr,
            progress,
            &format!("runtime endpoint {name}"),
            &format!("runtime endpoint {name} disappeared"),
            || self.get_endpoint(runtime_id, name),
            endpoint_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_endpoint(
        &self,
        addr: &Address,
        c: &EndpointConfig,
        parent: Option<&Ids>,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let rid = runtime_id(addr, c, parent)?;
        // The runtime may still be CREATING/UPDATING (an interrupted apply).
        self.settled_runtime(addr, rid, &c.runtime, progress)
            .await?;
        let version = version(addr, c)?;
        let mut req = self
            .agentcore
            .create_agent_runtime_endpoint()
            .agent_runtime_id(rid)
            .name(&c.name)
            .agent_runtime_version(&version)
            .set_tags(Some(tags_map(&c.tags)));
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        // A conflict is the runtime being busy, unless the endpoint exists.
        let created = Retry::conflict("the runtime is busy")
            .when(|e| crate::aws::is_conflict(e) && !already_exists(e))
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating endpoint {} of runtime {}", c.name, c.runtime))
                }
            })
            .await;
        if let Err(e) = created {
            // An earlier attempt may have created it: adopt it if it exists.
            if already_exists(&e) && self.get_endpoint(rid, &c.name).await?.is_some() {
                return self.update_endpoint_on(addr, rid, c, progress).await;
            }
            return Err(e);
        }
        let e = self.wait_endpoint(addr, rid, &c.name, progress).await?;
        Ok(endpoint_ids(
            e.agent_runtime_endpoint_arn(),
            e.id(),
            e.target_version(),
        ))
    }

    pub(in crate::aws) async fn update_endpoint(
        &self,
        addr: &Address,
        c: &EndpointConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let rid = runtime_id(addr, c, Some(&current.parent_ids))?;
        self.update_endpoint_on(addr, rid, c, progress).await
    }

    async fn update_endpoint_on(
        &self,
        addr: &Address,
        rid: &str,
        c: &EndpointConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let version = version(addr, c)?;
        self.settled(
            addr,
            progress,
            || self.get_endpoint(rid, &c.name),
            |e| e.status().as_str(),
            || format!("{addr}: runtime endpoint {} no longer exists", c.name),
        )
        .await?;
        let mut req = self
            .agentcore
            .update_agent_runtime_endpoint()
            .agent_runtime_id(rid)
            .endpoint_name(&c.name)
            .agent_runtime_version(&version);
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        Retry::conflict("the endpoint is busy")
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating endpoint {} of runtime {}", c.name, c.runtime))
                }
            })
            .await?;
        let e = self.wait_endpoint(addr, rid, &c.name, progress).await?;
        Ok(endpoint_ids(
            e.agent_runtime_endpoint_arn(),
            e.id(),
            e.target_version(),
        ))
    }

    pub(in crate::aws) async fn delete_endpoint(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let runtime = o.parent().unwrap_or("?");
        let Some(rid) = o.parent_ids.id.as_deref() else {
            bail!("{addr}: the id of runtime {runtime} is not known")
        };
        let name = o.name();
        if name == DEFAULT_ENDPOINT {
            bail!("internal error: {addr}: the DEFAULT endpoint is AgentCore's and never deleted");
        }
        let what = format!("endpoint {name} of runtime {runtime}");
        self.delete_and_wait_gone(
            addr,
            &what,
            "the endpoint is busy",
            || async {
                self.agentcore
                    .delete_agent_runtime_endpoint()
                    .agent_runtime_id(rid)
                    .endpoint_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting {what}"))
            },
            || async {
                Ok(self
                    .get_endpoint(rid, name)
                    .await?
                    .map(|e| e.status().as_str().to_string()))
            },
            progress,
        )
        .await
    }
}

impl crate::aws::Aws {
    /// Waits until an observed endpoint is READY.
    pub(in crate::aws) async fn wait_endpoint_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let Some(rid) = o.parent_ids.id.as_deref() else {
            bail!(
                "{addr}: the id of runtime {} is not known",
                o.parent().unwrap_or("?")
            )
        };
        let e = self.wait_endpoint(addr, rid, o.name(), progress).await?;
        Ok(endpoint_ids(
            e.agent_runtime_endpoint_arn(),
            e.id(),
            e.target_version(),
        ))
    }
}
