//! Agent runtimes: observe, create, update (a new version each time,
//! sending back what agentform does not manage), delete.

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::operation::get_agent_runtime::GetAgentRuntimeOutput;
use aws_sdk_bedrockagentcorecontrol::types::{
    AgentManagedRuntimeType, AgentRuntime, AgentRuntimeArtifact, Code, CodeConfiguration,
    ContainerConfiguration, LifecycleConfiguration, NetworkConfiguration, NetworkMode,
    ProtocolConfiguration, RequestHeaderConfiguration, S3Location, ServerProtocol, VpcConfig,
};
use futures::{StreamExt, TryStreamExt};

use super::{jwt_authorizer, jwt_configuration, tags_map};
use crate::aws::wait::{Retry, Step};
use crate::aws::{CONCURRENCY, Scope, SdkResultExt, found};
use crate::model::{
    Address, Authorizer, Config, Ids, Kind, Observed, Progress, RuntimeArtifact, RuntimeConfig,
    Tags, Vpc, environment_of, known_environment,
};

fn runtime_config(r: &GetAgentRuntimeOutput, tags: Tags) -> RuntimeConfig {
    RuntimeConfig {
        name: r.agent_runtime_name().to_string(),
        description: r.description().unwrap_or_default().to_string(),
        role_arn: r.role_arn().to_string(),
        artifact: artifact_of(r.agent_runtime_artifact()),
        network_mode: r
            .network_configuration()
            .map(|n| n.network_mode().as_str().to_string())
            .unwrap_or_default(),
        vpc: r
            .network_configuration()
            .and_then(|n| n.network_mode_config())
            .map(|v| {
                let sorted = |l: &[String]| {
                    let mut l = l.to_vec();
                    l.sort();
                    l
                };
                Vpc {
                    subnets: sorted(v.subnets()),
                    security_groups: sorted(v.security_groups()),
                }
            }),
        idle_timeout: r
            .lifecycle_configuration()
            .and_then(|l| l.idle_runtime_session_timeout())
            .unwrap_or(RuntimeConfig::DEFAULT_IDLE_TIMEOUT),
        max_lifetime: r
            .lifecycle_configuration()
            .and_then(|l| l.max_lifetime())
            .unwrap_or(RuntimeConfig::DEFAULT_MAX_LIFETIME),
        request_headers: r
            .request_header_configuration()
            .and_then(|h| h.as_request_header_allowlist().ok())
            .cloned()
            .unwrap_or_default(),
        // No configuration: SigV4 (AgentCore has no authorizer type for runtimes).
        authorizer: match r.authorizer_configuration() {
            None => Authorizer::AwsIam,
            conf => jwt_authorizer(conf),
        },
        protocol: r
            .protocol_configuration()
            .map(|p| p.server_protocol().as_str().to_string())
            .unwrap_or_else(|| "HTTP".to_string()),
        environment: r
            .environment_variables()
            .map(|e| environment_of(e.iter()))
            .unwrap_or_default(),
        tags,
    }
}

fn runtime_ids(r: &GetAgentRuntimeOutput) -> Ids {
    Ids {
        arn: Some(r.agent_runtime_arn().to_string()),
        id: Some(r.agent_runtime_id().to_string()),
        url: None,
        version: Some(r.agent_runtime_version().to_string()),
    }
}

/// What a runtime read back runs.
fn artifact_of(a: Option<&AgentRuntimeArtifact>) -> RuntimeArtifact {
    match a {
        Some(AgentRuntimeArtifact::CodeConfiguration(c)) => {
            let s3 = c.code().and_then(|code| code.as_s3().ok());
            RuntimeArtifact::Code {
                bucket: s3.map(|s| s.bucket().to_string()).unwrap_or_default(),
                key: s3.map(|s| s.prefix().to_string()).unwrap_or_default(),
                runtime: c.runtime().as_str().to_string(),
                entry_point: c.entry_point().to_vec(),
                bundle: Default::default(),
            }
        }
        Some(AgentRuntimeArtifact::ContainerConfiguration(c)) => RuntimeArtifact::Container {
            uri: c.container_uri().to_string(),
            build: Default::default(),
        },
        // An artifact kind this version does not know: shown as such, and
        // replaced (a different artifact type).
        Some(other) => RuntimeArtifact::Container {
            uri: format!("(unknown artifact {other:?})"),
            build: Default::default(),
        },
        None => RuntimeArtifact::Container {
            uri: String::new(),
            build: Default::default(),
        },
    }
}

/// The artifact to send; a code bundle is uploaded first unless its key
/// is in the bucket already.
async fn artifact(
    aws: &crate::aws::Aws,
    c: &RuntimeConfig,
    addr: &Address,
    progress: &dyn Progress,
) -> Result<AgentRuntimeArtifact> {
    match &c.artifact {
        RuntimeArtifact::Container { uri, build } => {
            let uri = match &build.0 {
                // Built here: pinned by the digest of the pushed image.
                Some(b) if !uri.contains('@') => aws.ensure_image(uri, b, addr, progress).await?,
                _ => uri.clone(),
            };
            Ok(AgentRuntimeArtifact::ContainerConfiguration(
                ContainerConfiguration::builder()
                    .container_uri(uri)
                    .build()?,
            ))
        }
        RuntimeArtifact::Code {
            bucket,
            key,
            runtime,
            entry_point,
            bundle,
        } => {
            let Some(b) = &bundle.0 else {
                bail!(
                    "internal error: the code bundle of runtime {} was not packaged",
                    c.name
                );
            };
            aws.ensure_bundle(bucket, key, b, addr, progress).await?;
            Ok(AgentRuntimeArtifact::CodeConfiguration(
                CodeConfiguration::builder()
                    .code(Code::S3(
                        S3Location::builder().bucket(bucket).prefix(key).build()?,
                    ))
                    .runtime(AgentManagedRuntimeType::from(runtime.as_str()))
                    .set_entry_point(Some(entry_point.clone()))
                    .build()?,
            ))
        }
    }
}

/// The network configuration `c` asks for; in VPC mode, `keep` (the
/// current one) gives what agentform does not manage
/// (`requireServiceS3Endpoint`).
fn network(c: &RuntimeConfig, keep: Option<&VpcConfig>) -> Result<NetworkConfiguration> {
    let vpc = match &c.vpc {
        Some(v) => Some(
            VpcConfig::builder()
                .set_subnets(Some(v.subnets.clone()))
                .set_security_groups(Some(v.security_groups.clone()))
                .set_require_service_s3_endpoint(keep.and_then(|k| k.require_service_s3_endpoint()))
                .build()?,
        ),
        None => None,
    };
    Ok(NetworkConfiguration::builder()
        .network_mode(NetworkMode::from(c.network_mode.as_str()))
        .set_network_mode_config(vpc)
        .build()?)
}

fn lifecycle(c: &RuntimeConfig) -> LifecycleConfiguration {
    LifecycleConfiguration::builder()
        .idle_runtime_session_timeout(c.idle_timeout)
        .max_lifetime(c.max_lifetime)
        .build()
}

fn request_headers(c: &RuntimeConfig) -> Option<RequestHeaderConfiguration> {
    (!c.request_headers.is_empty())
        .then(|| RequestHeaderConfiguration::RequestHeaderAllowlist(c.request_headers.clone()))
}

fn env_map(e: &crate::model::Environment) -> Result<HashMap<String, String>> {
    Ok(known_environment(e)?.into_iter().collect())
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

impl crate::aws::Aws {
    pub(super) async fn get_runtime(&self, id: &str) -> Result<Option<GetAgentRuntimeOutput>> {
        found(
            self.agentcore
                .get_agent_runtime()
                .agent_runtime_id(id)
                .send()
                .await
                .ctx(|| format!("reading runtime {id}")),
        )
    }

    pub(in crate::aws) async fn observe_runtimes(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Runtime);
        let prefix = crate::names::prefix(Kind::Runtime, s.project).unwrap_or_default();
        let candidates: Vec<AgentRuntime> = self
            .list_runtimes()
            .await?
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
    pub(super) async fn wait_runtime(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetAgentRuntimeOutput> {
        self.wait_ready(
            addr,
            progress,
            &format!("runtime {name}"),
            &format!("runtime {name} ({id}) disappeared"),
            || self.get_runtime(id),
            runtime_step,
        )
        .await
    }
    pub(in crate::aws) async fn create_runtime(
        &self,
        addr: &Address,
        c: &RuntimeConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let mut req = self
            .agentcore
            .create_agent_runtime()
            .agent_runtime_name(&c.name)
            .agent_runtime_artifact(artifact(self, c, addr, progress).await?)
            .role_arn(&c.role_arn)
            .network_configuration(network(c, None)?)
            .protocol_configuration(
                ProtocolConfiguration::builder()
                    .server_protocol(ServerProtocol::from(c.protocol.as_str()))
                    .build()?,
            )
            .lifecycle_configuration(lifecycle(c))
            .set_request_header_configuration(request_headers(c))
            .set_authorizer_configuration(jwt_configuration(&c.authorizer)?)
            .set_tags(Some(tags_map(&c.tags)));
        if !c.environment.is_empty() {
            req = req.set_environment_variables(Some(env_map(&c.environment)?));
        }
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = Retry::PROPAGATION
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating runtime {}", c.name))
                }
            })
            .await
            .map(|created| created.agent_runtime_id().to_string());
        let id = super::created_or_own(created, addr, &format!("runtime named {}", c.name), || {
            self.find_own_runtime(c)
        })
        .await?;
        let r = self.wait_runtime(addr, &id, &c.name, progress).await?;
        Ok(runtime_ids(&r))
    }

    /// Every runtime of the account and region.
    async fn list_runtimes(&self) -> Result<Vec<AgentRuntime>> {
        self.agentcore
            .list_agent_runtimes()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore runtimes".into())
    }

    /// The id of the runtime named like `c` that carries `c`'s ownership tags.
    async fn find_own_runtime(&self, c: &RuntimeConfig) -> Result<Option<String>> {
        let listed = self.list_runtimes().await?;
        for r in listed.iter().filter(|r| r.agent_runtime_name() == c.name) {
            let tags = self
                .agentcore_tags(&format!("runtime {}", c.name), r.agent_runtime_arn())
                .await?
                .unwrap_or_default();
            if crate::aws::same_owner_tags(&tags, &c.tags) {
                return Ok(Some(r.agent_runtime_id().to_string()));
            }
        }
        Ok(None)
    }

    pub(in crate::aws) async fn update_runtime(
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
        let keep_vpc = now
            .network_configuration()
            .and_then(|n| n.network_mode_config());
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
            .agent_runtime_artifact(artifact(self, c, addr, progress).await?)
            .role_arn(&c.role_arn)
            .network_configuration(network(c, keep_vpc)?)
            .protocol_configuration(proto.build()?)
            // The whole configuration every time: an update replaces the
            // runtime's settings, and what is left out is reset to defaults.
            // An explicit (possibly empty) map: the update replaces the variables.
            .set_environment_variables(Some(env_map(&c.environment)?))
            .lifecycle_configuration(lifecycle(c))
            .set_request_header_configuration(request_headers(c))
            .set_authorizer_configuration(jwt_configuration(&c.authorizer)?)
            // Not managed by agentform: keep what is there.
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
        let updated = Retry::PROPAGATION
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("updating runtime {}", c.name))
                }
            })
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

    pub(in crate::aws) async fn delete_runtime(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: runtime {} has no known id", o.name())
        };
        let name = &o.name();
        self.delete_and_wait_gone(
            addr,
            &format!("runtime {name}"),
            "the runtime is busy",
            || async {
                self.agentcore
                    .delete_agent_runtime()
                    .agent_runtime_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting runtime {name}"))
            },
            || async {
                Ok(self
                    .get_runtime(id)
                    .await?
                    .map(|r| r.status().as_str().to_string()))
            },
            progress,
        )
        .await
    }

    /// Waits until the runtime is out of CREATING/UPDATING (an endpoint
    /// cannot be created or moved meanwhile).
    pub(super) async fn settled_runtime(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<GetAgentRuntimeOutput> {
        self.settled(
            addr,
            progress,
            || self.get_runtime(id),
            |r| r.status().as_str(),
            || format!("{addr}: runtime {name} ({id}) no longer exists"),
        )
        .await
    }
}

impl crate::aws::Aws {
    /// Waits until an observed runtime is READY.
    pub(in crate::aws) async fn wait_runtime_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = o
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: runtime {} has no known id", o.name()))?;
        let r = self.wait_runtime(addr, id, o.name(), progress).await?;
        Ok(runtime_ids(&r))
    }
}
