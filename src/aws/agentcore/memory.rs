//! AgentCore Memory: observe, create, update (description, event expiry,
//! strategies added and deleted to match), delete.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::types::{
    DeleteMemoryStrategyInput, Memory, MemoryStrategyInput, ModifyMemoryStrategies,
    SemanticMemoryStrategyInput, SummaryMemoryStrategyInput, UserPreferenceMemoryStrategyInput,
};

use super::tags_map;
use crate::aws::wait::Step;
use crate::aws::{Scope, SdkResultExt, found};
use crate::model::{Address, Config, Ids, Kind, MemoryConfig, MemoryStrategy, Observed, Progress};

fn strategy_input(s: &MemoryStrategy) -> Result<MemoryStrategyInput> {
    Ok(match s.kind.as_str() {
        "SUMMARIZATION" => MemoryStrategyInput::SummaryMemoryStrategy(
            SummaryMemoryStrategyInput::builder()
                .name(&s.name)
                .build()?,
        ),
        "USER_PREFERENCE" => MemoryStrategyInput::UserPreferenceMemoryStrategy(
            UserPreferenceMemoryStrategyInput::builder()
                .name(&s.name)
                .build()?,
        ),
        _ => MemoryStrategyInput::SemanticMemoryStrategy(
            SemanticMemoryStrategyInput::builder()
                .name(&s.name)
                .build()?,
        ),
    })
}

/// The strategies of a memory read back: (ours, AgentCore's id).
fn strategies(m: &Memory) -> Vec<(MemoryStrategy, String)> {
    let mut out: Vec<(MemoryStrategy, String)> = m
        .strategies()
        .iter()
        .map(|s| {
            (
                MemoryStrategy {
                    kind: s.r#type().as_str().to_string(),
                    name: s.name().to_string(),
                },
                s.strategy_id().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn memory_config(m: &Memory, tags: crate::model::Tags) -> MemoryConfig {
    MemoryConfig {
        name: m.name().to_string(),
        description: m.description().unwrap_or_default().to_string(),
        event_expiry_days: m.event_expiry_duration(),
        strategies: strategies(m).into_iter().map(|(s, _)| s).collect(),
        encryption_key_arn: m.encryption_key_arn().unwrap_or_default().to_string(),
        tags,
    }
}

fn memory_ids(m: &Memory) -> Ids {
    Ids {
        arn: Some(m.arn().to_string()),
        id: Some(m.id().to_string()),
        url: None,
        version: None,
    }
}

fn memory_step(m: Memory) -> Step<Memory> {
    match m.status().as_str() {
        "ACTIVE" => Step::Done(m),
        "FAILED" => Step::Failed(format!(
            "memory {} is FAILED: {}",
            m.name(),
            m.failure_reason().unwrap_or("no reason given")
        )),
        "DELETING" => Step::Failed(format!("memory {} is being deleted", m.name())),
        s => Step::Pending(s.to_string()),
    }
}

impl crate::aws::Aws {
    async fn get_memory(&self, id: &str) -> Result<Option<Memory>> {
        Ok(found(
            self.agentcore
                .get_memory()
                .memory_id(id)
                .send()
                .await
                .ctx(|| format!("reading memory {id}")),
        )?
        .and_then(|o| o.memory))
    }

    /// Every memory of the account and region, read whole (the listing has
    /// no names).
    async fn list_memories(&self) -> Result<Vec<Memory>> {
        let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::MemorySummary> = self
            .agentcore
            .list_memories()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing AgentCore memories".into())?;
        let ids: Vec<String> = listed.into_iter().filter_map(|m| m.id).collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(m) = self.get_memory(&id).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    pub(in crate::aws) async fn observe_memories(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Memory);
        let prefix = crate::names::prefix(Kind::Memory, s.project).unwrap_or_default();
        let mut out = Vec::new();
        for m in self.list_memories().await? {
            let name = m.name();
            if !looked_up.contains(name) && !name.starts_with(&prefix) {
                continue;
            }
            let Some(tags) = self
                .agentcore_tags(&format!("memory {name}"), m.arn())
                .await?
            else {
                continue;
            };
            if !looked_up.contains(name) && !s.tagged_ours(&tags) {
                continue;
            }
            out.push(Observed {
                ids: memory_ids(&m),
                parent_ids: Ids::default(),
                status: Some(m.status().as_str().to_string()),
                status_reasons: m
                    .failure_reason()
                    .map(|f| vec![f.to_string()])
                    .unwrap_or_default(),
                owner: s.owner(Kind::Memory, &tags),
                config: Config::Memory(memory_config(&m, tags)),
            });
        }
        Ok(out)
    }

    async fn wait_memory(
        &self,
        addr: &Address,
        id: &str,
        name: &str,
        progress: &dyn Progress,
    ) -> Result<Memory> {
        self.wait_ready(
            addr,
            progress,
            &format!("memory {name}"),
            &format!("memory {name} ({id}) disappeared"),
            || self.get_memory(id),
            memory_step,
        )
        .await
    }

    pub(in crate::aws) async fn create_memory(
        &self,
        addr: &Address,
        c: &MemoryConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let mut req = self
            .agentcore
            .create_memory()
            .name(&c.name)
            .event_expiry_duration(c.event_expiry_days)
            .set_tags(Some(tags_map(&c.tags)));
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        if !c.encryption_key_arn.is_empty() {
            req = req.encryption_key_arn(&c.encryption_key_arn);
        }
        for s in &c.strategies {
            req = req.memory_strategies(strategy_input(s)?);
        }
        let created = req
            .send()
            .await
            .ctx(|| format!("creating memory {}", c.name))
            .and_then(|o| {
                o.memory
                    .map(|m| m.id)
                    .ok_or_else(|| anyhow!("CreateMemory returned no memory"))
            });
        let id = super::created_or_own(
            created,
            addr,
            &format!("memory named {}", c.name),
            || async {
                for m in self.list_memories().await? {
                    if m.name() == c.name {
                        let tags = self
                            .agentcore_tags("memory", m.arn())
                            .await?
                            .unwrap_or_default();
                        if crate::aws::same_owner_tags(&tags, &c.tags) {
                            return Ok(Some(m.id().to_string()));
                        }
                    }
                }
                Ok(None)
            },
        )
        .await?;
        let m = self.wait_memory(addr, &id, &c.name, progress).await?;
        Ok(memory_ids(&m))
    }

    pub(in crate::aws) async fn update_memory(
        &self,
        addr: &Address,
        c: &MemoryConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = current
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: memory {} has no known id", c.name))?;
        let Some(now) = self.get_memory(id).await? else {
            bail!("{addr}: memory {} ({id}) no longer exists", c.name);
        };
        // Strategies are added and deleted by id to match the spec.
        let have = strategies(&now);
        let delete: Vec<DeleteMemoryStrategyInput> = have
            .iter()
            .filter(|(s, _)| !c.strategies.contains(s))
            .map(|(_, sid)| {
                DeleteMemoryStrategyInput::builder()
                    .memory_strategy_id(sid)
                    .build()
            })
            .collect::<Result<_, _>>()?;
        let add: Vec<MemoryStrategyInput> = c
            .strategies
            .iter()
            .filter(|s| !have.iter().any(|(h, _)| h == *s))
            .map(strategy_input)
            .collect::<Result<_>>()?;
        let mut req = self
            .agentcore
            .update_memory()
            .memory_id(id)
            .event_expiry_duration(c.event_expiry_days);
        // AgentCore's descriptions are 1 to 4096 characters: none is sent
        // as none.
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        if !delete.is_empty() || !add.is_empty() {
            req = req.memory_strategies(
                ModifyMemoryStrategies::builder()
                    .set_add_memory_strategies((!add.is_empty()).then_some(add))
                    .set_delete_memory_strategies((!delete.is_empty()).then_some(delete))
                    .build(),
            );
        }
        req.send()
            .await
            .ctx(|| format!("updating memory {}", c.name))?;
        let m = self.wait_memory(addr, id, &c.name, progress).await?;
        self.reconcile_tags(&format!("memory {}", c.name), m.arn(), &c.tags)
            .await?;
        Ok(memory_ids(&m))
    }

    pub(in crate::aws) async fn wait_memory_ready(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let id = o
            .ids
            .id
            .as_deref()
            .ok_or_else(|| anyhow!("{addr}: memory {} has no known id", o.name()))?;
        let m = self.wait_memory(addr, id, o.name(), progress).await?;
        Ok(memory_ids(&m))
    }

    pub(in crate::aws) async fn delete_memory(
        &self,
        addr: &Address,
        o: &Observed,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Some(id) = o.ids.id.as_deref() else {
            bail!("{addr}: memory {} has no known id", o.name())
        };
        let name = o.name();
        self.delete_and_wait_gone(
            addr,
            &format!("memory {name}"),
            "the memory is busy",
            || async {
                self.agentcore
                    .delete_memory()
                    .memory_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting memory {name}"))
            },
            || async {
                Ok(self
                    .get_memory(id)
                    .await?
                    .map(|m| m.status().as_str().to_string()))
            },
            progress,
        )
        .await
    }
}
