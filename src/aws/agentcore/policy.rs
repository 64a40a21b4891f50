//! AgentCore Policy: policy engines (tagged, found by listing) and the
//! Cedar policies inside them (untaggable: they belong to their engine).
//!
//! Both are asynchronous (CREATING/UPDATING/DELETING, then ACTIVE or a
//! `*_FAILED` status with reasons). A policy is checked by the service's
//! Cedar analyzer against the tools of the gateways it names, so it is
//! created after them; a failed check is CREATE_FAILED with the analyzer's
//! findings as status reasons, which the error quotes.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::types::{
    CedarPolicy, EnforcementMode, PolicyDefinition, PolicyValidationMode, UpdatedDescription,
};

use super::{joined, tags_map};
use crate::aws::wait::Step;
use crate::aws::{Scope, SdkResultExt, found};
use crate::model::{
    Address, Config, Ids, Kind, Observed, PolicyConfig, PolicyEngineConfig, Progress, Resolved,
};

/// A policy engine as Get and List return it (their shapes are the same).
struct Engine {
    id: String,
    arn: String,
    name: String,
    description: String,
    status: String,
    reasons: Vec<String>,
}

impl Engine {
    fn ids(&self) -> Ids {
        Ids {
            arn: Some(self.arn.clone()),
            id: Some(self.id.clone()),
            url: None,
            version: None,
        }
    }
}

fn engine_step(e: Engine) -> Step<Engine> {
    match e.status.as_str() {
        "ACTIVE" => Step::Done(e),
        s if s.ends_with("FAILED") => Step::Failed(format!(
            "policy engine {} is {s}: {}",
            e.name,
            joined(&e.reasons)
        )),
        "DELETING" => Step::Failed(format!("policy engine {} is being deleted", e.name)),
        s => Step::Pending(s.to_string()),
    }
}

/// A policy read back.
struct Policy {
    id: String,
    arn: String,
    config: PolicyConfig,
    status: String,
    reasons: Vec<String>,
}

fn statement_of(d: Option<&PolicyDefinition>) -> String {
    match d {
        Some(PolicyDefinition::Cedar(c)) => c.statement().to_string(),
        Some(PolicyDefinition::Policy(p)) => p.statement().to_string(),
        // A generated policy's text is not part of its definition.
        _ => String::new(),
    }
}

fn policy_step(p: Policy) -> Step<Policy> {
    match p.status.as_str() {
        "ACTIVE" => Step::Done(p),
        s if s.ends_with("FAILED") => Step::Failed(format!(
            "Cedar policy {} is {s}: {}",
            p.config.name,
            joined(&p.reasons)
        )),
        "DELETING" => Step::Failed(format!("Cedar policy {} is being deleted", p.config.name)),
        s => Step::Pending(s.to_string()),
    }
}

fn known_statement(c: &PolicyConfig) -> Result<&str> {
    c.statement.known().ok_or_else(|| {
        anyhow!(
            "internal error: Cedar policy {} still refers to a resource not created yet",
            c.name
        )
    })
}

fn definition(statement: &str) -> Result<PolicyDefinition> {
    Ok(PolicyDefinition::Cedar(
        CedarPolicy::builder().statement(statement).build()?,
    ))
}

impl crate::aws::Aws {
    async fn get_policy_engine(&self, id: &str) -> Result<Option<Engine>> {
        Ok(found(
            self.agentcore
                .get_policy_engine()
                .policy_engine_id(id)
                .send()
                .await
                .ctx(|| format!("reading policy engine {id}")),
        )?
        .map(|e| Engine {
            id: e.policy_engine_id().to_string(),
            arn: e.policy_engine_arn().to_string(),
            name: e.name().to_string(),
            description: e.description().unwrap_or_default().to_string(),
            status: e.status().as_str().to_string(),
            reasons: e.status_reasons().to_vec(),
        }))
    }

    async fn list_policy_engines(&self) -> Result<Vec<Engine>> {
        let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::PolicyEngine> = self
            .agentcore
            .list_policy_engines()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore policy engines".into())?;
        Ok(listed
            .into_iter()
            .map(|e| Engine {
                id: e.policy_engine_id().to_string(),
                arn: e.policy_engine_arn().to_string(),
                name: e.name().to_string(),
                description: e.description().unwrap_or_default().to_string(),
                status: e.status().as_str().to_string(),
                reasons: e.status_reasons().to_vec(),
            })
            .collect())
    }

    pub(in crate::aws) async fn observe_policy_engines(
        &self,
        s: &Scope<'_>,
    ) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::PolicyEngine);
        let prefix = crate::names::prefix(Kind::PolicyEngine, s.project).unwrap_or_default();
        let mut out = Vec::new();
        for e in self.list_policy_engines().await? {
            if !looked_up.contains(e.name.as_str()) && !e.name.starts_with(&prefix) {
                continue;
            }
            let Some(tags) = self
                .agentcore_tags(&format!("policy engine {}", e.name), &e.arn)
                .await?
            else {
                continue;
            };
            if !looked_up.contains(e.name.as_str()) && !s.tagged_ours(&tags) {
                continue;
            }
            out.push(Observed {
                ids: e.ids(),
                parent_ids: Ids::default(),
                status: Some(e.status.clone()),
                status_reasons: e.reasons.clone(),
                owner: s.owner(Kind::PolicyEngine, &tags),
                config: Config::PolicyEngine(PolicyEngineConfig {
                    name: e.name,
                    description: e.description,
                    tags,
                }),
            });
        }
        Ok(out)
    }

    async fn wait_policy_engine(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<Engine> {
        self.wait_ready(
            addr,
            progress,
            &format!("policy engine {name}"),
            &format!("policy engine {name} ({id}) disappeared"),
            || self.get_policy_engine(id),
            engine_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_policy_engine(
        &self,
        addr: &Address,
        c: &PolicyEngineConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let mut req = self
            .agentcore
            .create_policy_engine()
            .name(&c.name)
            .set_tags(Some(tags_map(&c.tags)));
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = req
            .send()
            .await
            .ctx(|| format!("creating policy engine {}", c.name))
            .map(|o| o.policy_engine_id().to_string());
        let id = super::created_or_own(
            created,
            addr,
            &format!("policy engine named {}", c.name),
            || async {
                for e in self.list_policy_engines().await? {
                    if e.name == c.name {
                        let tags = self
                            .agentcore_tags("policy engine", &e.arn)
                            .await?
                            .unwrap_or_default();
                        if crate::aws::same_owner_tags(&tags, &c.tags) {
                            return Ok(Some(e.id));
                        }
                    }
                }
                Ok(None)
            },
        )
        .await?;
        Ok(self
            .wait_policy_engine(addr, &id, &c.name, progress)
            .await?
            .ids())
    }

    pub(in crate::aws) async fn update_policy_engine(
        &self,
        addr: &Address,
        c: &PolicyEngineConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = current
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: policy engine {} has no known id", c.name))?;
        let Config::PolicyEngine(have) = &current.config else {
            bail!("internal error: {addr} is not a policy engine");
        };
        if have.description != c.description {
            self.agentcore
                .update_policy_engine()
                .policy_engine_id(id)
                .description(
                    UpdatedDescription::builder()
                        .set_optional_value(
                            (!c.description.is_empty()).then(|| c.description.clone()),
                        )
                        .build(),
                )
                .send()
                .await
                .ctx(|| format!("updating policy engine {}", c.name))?;
        }
        let e = self.wait_policy_engine(addr, id, &c.name, progress).await?;
        self.reconcile_tags(&format!("policy engine {}", c.name), &e.arn, &c.tags)
            .await?;
        Ok(e.ids())
    }

    pub(in crate::aws) async fn wait_policy_engine_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = o
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: policy engine {} has no known id", o.name()))?;
        Ok(self
            .wait_policy_engine(addr, id, o.name(), progress)
            .await?
            .ids())
    }

    pub(in crate::aws) async fn delete_policy_engine(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: policy engine {} has no known id", o.name())
        };
        let name = o.name();
        self.delete_and_wait_gone(
            addr,
            &format!("policy engine {name}"),
            "the policy engine still has policies or a gateway uses it",
            || async {
                self.agentcore
                    .delete_policy_engine()
                    .policy_engine_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting policy engine {name}"))
            },
            || async { Ok(self.get_policy_engine(id).await?.map(|e| e.status)) },
            progress,
        )
        .await
    }

    async fn get_policy(&self, engine: &str, engine_id: &str, id: &str) -> Result<Option<Policy>> {
        Ok(found(
            self.agentcore
                .get_policy()
                .policy_engine_id(engine_id)
                .policy_id(id)
                .send()
                .await
                .ctx(|| format!("reading Cedar policy {id} of policy engine {engine}")),
        )?
        .map(|p| Policy {
            id: p.policy_id().to_string(),
            arn: p.policy_arn().to_string(),
            status: p.status().as_str().to_string(),
            reasons: p.status_reasons().to_vec(),
            config: PolicyConfig {
                engine: engine.to_string(),
                name: p.name().to_string(),
                description: p.description().unwrap_or_default().to_string(),
                statement: Resolved::Known(statement_of(p.definition())),
                enforcement: p.enforcement_mode().as_str().to_string(),
                validation: String::new(),
            },
        }))
    }

    pub(in crate::aws) async fn observe_policies(
        &self,
        engine: &Observed,
    ) -> Result<Vec<Observed>> {
        let Some(eid) = engine.ids.id.as_deref() else {
            return Ok(vec![]);
        };
        let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::Policy> = match found(
            self.agentcore
                .list_policies()
                .policy_engine_id(eid)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing the policies of policy engine {}", engine.name())),
        )? {
            Some(v) => v,
            None => return Ok(vec![]),
        };
        Ok(listed
            .into_iter()
            .map(|p| Observed {
                ids: Ids {
                    arn: Some(p.policy_arn().to_string()),
                    id: Some(p.policy_id().to_string()),
                    ..Ids::default()
                },
                parent_ids: engine.ids.clone(),
                status: Some(p.status().as_str().to_string()),
                status_reasons: p.status_reasons().to_vec(),
                owner: engine.child_owner(Kind::Policy, p.name()),
                config: Config::Policy(PolicyConfig {
                    engine: engine.name().to_string(),
                    name: p.name().to_string(),
                    description: p.description().unwrap_or_default().to_string(),
                    statement: Resolved::Known(statement_of(p.definition())),
                    enforcement: p.enforcement_mode().as_str().to_string(),
                    validation: String::new(),
                }),
            })
            .collect())
    }

    async fn wait_policy(
        &self,
        addr: &Address,
        c: &PolicyConfig,
        engine_id: &str,
        id: &str,
        progress: &dyn Progress,
    ) -> Result<Policy> {
        self.wait_ready(
            addr,
            progress,
            &format!("Cedar policy {}", c.name),
            &format!("Cedar policy {} ({id}) disappeared", c.name),
            || self.get_policy(&c.engine, engine_id, id),
            policy_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_policy(
        &self,
        addr: &Address,
        c: &PolicyConfig,
        parent: Option<&Ids>,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let eid = parent
            .and_then(|p| p.id.as_deref())
            .ok_or_else(|| anyhow!("{addr}: the id of policy engine {} is not known", c.engine))?;
        let mut req = self
            .agentcore
            .create_policy()
            .policy_engine_id(eid)
            .name(&c.name)
            .definition(definition(known_statement(c)?)?)
            .validation_mode(PolicyValidationMode::from(c.validation.as_str()))
            .enforcement_mode(EnforcementMode::from(c.enforcement.as_str()));
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        let created = req
            .send()
            .await
            .ctx(|| format!("creating Cedar policy {}", c.name))
            .map(|o| o.policy_id().to_string());
        // A policy has no tags: one of this name in the project's engine
        // is this one, left by an interrupted run.
        let id = super::created_or_own(
            created,
            addr,
            &format!("Cedar policy named {}", c.name),
            || async {
                let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::Policy> = self
                    .agentcore
                    .list_policies()
                    .policy_engine_id(eid)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .ctx(|| format!("listing the policies of policy engine {}", c.engine))?;
                Ok(listed
                    .into_iter()
                    .find(|p| p.name() == c.name)
                    .map(|p| p.policy_id().to_string()))
            },
        )
        .await?;
        let p = self.wait_policy(addr, c, eid, &id, progress).await?;
        Ok(Ids {
            arn: Some(p.arn),
            id: Some(p.id),
            ..Ids::default()
        })
    }

    pub(in crate::aws) async fn update_policy(
        &self,
        addr: &Address,
        c: &PolicyConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let (Some(eid), Some(id)) = (current.parent_ids.id.as_deref(), current.ids.id.as_deref())
        else {
            bail!("{addr}: Cedar policy {} has no known id", c.name);
        };
        // Whole-object update: every field is sent.
        self.agentcore
            .update_policy()
            .policy_engine_id(eid)
            .policy_id(id)
            .definition(definition(known_statement(c)?)?)
            .description(
                UpdatedDescription::builder()
                    .set_optional_value((!c.description.is_empty()).then(|| c.description.clone()))
                    .build(),
            )
            .validation_mode(PolicyValidationMode::from(c.validation.as_str()))
            .enforcement_mode(EnforcementMode::from(c.enforcement.as_str()))
            .send()
            .await
            .ctx(|| format!("updating Cedar policy {}", c.name))?;
        let p = self.wait_policy(addr, c, eid, id, progress).await?;
        Ok(Ids {
            arn: Some(p.arn),
            id: Some(p.id),
            ..Ids::default()
        })
    }

    pub(in crate::aws) async fn wait_policy_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let (Config::Policy(c), Some(eid), Some(id)) =
            (&o.config, o.parent_ids.id.as_deref(), o.ids.id.as_deref())
        else {
            bail!("{addr}: Cedar policy {} has no known id", o.name());
        };
        let p = self.wait_policy(addr, c, eid, id, progress).await?;
        Ok(Ids {
            arn: Some(p.arn),
            id: Some(p.id),
            ..Ids::default()
        })
    }

    pub(in crate::aws) async fn delete_policy(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let (Config::Policy(c), Some(eid), Some(id)) =
            (&o.config, o.parent_ids.id.as_deref(), o.ids.id.as_deref())
        else {
            bail!("{addr}: Cedar policy {} has no known id", o.name());
        };
        self.delete_and_wait_gone(
            addr,
            &format!("Cedar policy {}", c.name),
            "the policy is busy",
            || async {
                self.agentcore
                    .delete_policy()
                    .policy_engine_id(eid)
                    .policy_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting Cedar policy {}", c.name))
            },
            || async { Ok(self.get_policy(&c.engine, eid, id).await?.map(|p| p.status)) },
            progress,
        )
        .await
    }
}
