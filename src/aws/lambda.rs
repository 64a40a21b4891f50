//! Lambda functions (zip packages).
//!
//! Observe: ListFunctions, keep those looked up by name or named
//! `{project}-…`, then GetFunction each (configuration and tags).
//! Create waits for `State = Active`; every code or configuration update
//! waits for `LastUpdateStatus = Successful` (Lambda refuses the next change
//! before that).

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, Runtime,
    State,
};
use futures::{StreamExt, TryStreamExt};

use super::wait::{self, Backoff, Retry, Step};
use super::{
    CONCURRENCY, Scope, SdkResultExt, found, gone, is_error, is_role_propagation, same_owner_tags,
    tag_changes,
};
use crate::model::{
    Address, Config, FunctionConfig, Ids, Kind, Observed, Progress, Tags, environment_of,
    known_environment,
};

/// Lambda's defaults when a response leaves a field out.
const DEFAULT_MEMORY: i32 = 128;
const DEFAULT_TIMEOUT: i32 = 3;
const DEFAULT_ARCHITECTURE: &str = "x86_64";

fn function_config(f: &FunctionConfiguration, tags: Tags) -> FunctionConfig {
    FunctionConfig {
        name: f.function_name().unwrap_or_default().to_string(),
        runtime: f
            .runtime()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        handler: f.handler().unwrap_or_default().to_string(),
        memory: f.memory_size().unwrap_or(DEFAULT_MEMORY),
        timeout: f.timeout().unwrap_or(DEFAULT_TIMEOUT),
        architecture: f
            .architectures()
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| DEFAULT_ARCHITECTURE.to_string()),
        description: f.description().unwrap_or_default().to_string(),
        role_arn: f.role().unwrap_or_default().to_string(),
        environment: f
            .environment()
            .and_then(|e| e.variables())
            .map(|v| environment_of(v.iter()))
            .unwrap_or_default(),
        code_sha256: f.code_sha256().unwrap_or_default().to_string(),
        code: None,
        tags,
        // Filled in for the project's functions by `observe_lambda`.
        resource_policy: crate::model::Val::Null,
    }
}

fn env(vars: &crate::model::Environment) -> Result<Environment> {
    Ok(Environment::builder()
        .set_variables(Some(
            known_environment(vars)?
                .into_iter()
                .collect::<HashMap<_, _>>(),
        ))
        .build())
}

pub(super) fn hash_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Retry CreateFunction / UpdateFunctionConfiguration while a new role
/// propagates, or while another update of the function is still running.
fn retryable(e: &anyhow::Error) -> bool {
    is_role_propagation(e) || (is_error(e, "ResourceConflictException", &[]) && !already_exists(e))
}

fn already_exists(e: &anyhow::Error) -> bool {
    is_error(e, "ResourceConflictException", &["already exist"])
}

impl super::Aws {
    async fn get_function(&self, name: &str) -> Result<Option<GetFunctionOutput>> {
        found(
            self.lambda
                .get_function()
                .function_name(name)
                .send()
                .await
                .ctx(|| format!("reading Lambda function {name}")),
        )
    }

    fn function_tags(name: &str, out: &GetFunctionOutput) -> Result<Tags> {
        if let Some(e) = out.tags_error() {
            bail!(
                "cannot read the tags of Lambda function {name}: {}: {}",
                e.error_code(),
                e.message()
            );
        }
        Ok(out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    pub(super) async fn observe_lambda(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = s.names(Kind::Function);
        let prefix = crate::names::prefix(Kind::Function, s.project).unwrap_or_default();
        let listed: Vec<FunctionConfiguration> = self
            .lambda
            .list_functions()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing Lambda functions".into())?;
        let candidates: Vec<String> = listed
            .iter()
            .filter_map(|f| f.function_name())
            .filter(|n| looked_up.contains(n) || n.starts_with(&prefix))
            .map(str::to_string)
            .collect();

        let found: Vec<(String, GetFunctionOutput)> =
            futures::stream::iter(candidates)
                .map(|n| async move {
                    Ok::<_, anyhow::Error>(self.get_function(&n).await?.map(|o| (n, o)))
                })
                .buffer_unordered(CONCURRENCY)
                .try_filter_map(|o| async move { Ok(o) })
                .try_collect()
                .await?;

        let mut out = Vec::new();
        for (name, f) in found {
            let Some(conf) = f.configuration() else {
                continue;
            };
            let tags = Self::function_tags(&name, &f)?;
            if !looked_up.contains(name.as_str()) && !s.tagged_ours(&tags) {
                continue;
            }
            let mut config = function_config(conf, tags);
            // The resource-based policy is part of what the project owns.
            if s.tagged_ours(&config.tags) {
                config.resource_policy = self.function_policy(&name).await?;
            }
            out.push(Observed {
                ids: Ids {
                    arn: conf.function_arn().map(str::to_string),
                    ..Ids::default()
                },
                parent_ids: Ids::default(),
                status: None,
                status_reasons: vec![],
                owner: s.owner(Kind::Function, &config.tags),
                config: Config::Function(config),
            });
        }
        Ok(out)
    }

    /// The function's resource-based policy, `null` when it has none.
    async fn function_policy(&self, name: &str) -> Result<crate::model::Val> {
        let out = found(
            self.lambda
                .get_policy()
                .function_name(name)
                .send()
                .await
                .ctx(|| format!("reading the resource-based policy of Lambda function {name}")),
        )?;
        match out.and_then(|o| o.policy) {
            Some(text) => Ok(crate::model::Val::from(anyhow::Context::with_context(
                serde_json::from_str::<serde_json::Value>(&text),
                || format!("reading the resource-based policy of Lambda function {name}"),
            )?)),
            None => Ok(crate::model::Val::Null),
        }
    }

    /// Removes every statement of the function's resource-based policy
    /// (agentform wants none: gateways invoke through their role).
    async fn clear_function_policy(&self, name: &str, have: &crate::model::Val) -> Result<()> {
        let statements: Vec<String> = have
            .to_json()
            .and_then(|j| j.get("Statement").cloned())
            .and_then(|s| s.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|st| st.get("Sid").and_then(|s| s.as_str()).map(str::to_string))
            .collect();
        for sid in statements {
            gone(
                self.lambda
                    .remove_permission()
                    .function_name(name)
                    .statement_id(&sid)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| {
                        format!(
                            "removing statement {sid} from the policy of Lambda function {name}"
                        )
                    }),
            )?;
        }
        Ok(())
    }

    pub(super) async fn create_function(
        &self,
        addr: &Address,
        c: &FunctionConfig,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let code = c.code.as_ref().ok_or_else(|| {
            anyhow!(
                "{addr}: no code package to create Lambda function {} from",
                c.name
            )
        })?;
        let mut req = self
            .lambda
            .create_function()
            .function_name(&c.name)
            .runtime(Runtime::from(c.runtime.as_str()))
            .handler(&c.handler)
            .role(&c.role_arn)
            .memory_size(c.memory)
            .timeout(c.timeout)
            .architectures(Architecture::from(c.architecture.as_str()))
            .description(&c.description)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(code.0.as_slice()))
                    .build(),
            )
            .set_tags(Some(hash_map(&c.tags)));
        if !c.environment.is_empty() {
            req = req.environment(env(&c.environment)?);
        }
        let created = Retry::PROPAGATION
            .when(retryable)
            .run(addr, progress, || {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .ctx(|| format!("creating Lambda function {}", c.name))
                }
            })
            .await;
        let arn = match created {
            Ok(out) => out.function_arn().map(str::to_string),
            Err(e) if already_exists(&e) => {
                // An earlier attempt of this create may have succeeded.
                let existing = self.get_function(&c.name).await?;
                match existing {
                    Some(f) if same_owner_tags(&Self::function_tags(&c.name, &f)?, &c.tags) => f
                        .configuration()
                        .and_then(|conf| conf.function_arn())
                        .map(str::to_string),
                    _ => {
                        return Err(e.context(format!(
                            "{addr}: a Lambda function named {} already exists and is not this one",
                            c.name
                        )));
                    }
                }
            }
            Err(e) => return Err(e),
        };
        self.wait_function(addr, &c.name, progress, true).await?;
        Ok(Ids {
            arn,
            ..Ids::default()
        })
    }

    /// Waits for `State = Active` (after create) or `LastUpdateStatus =
    /// Successful` (after an update).
    async fn wait_function(
        &self,
        addr: &Address,
        name: &str,
        progress: &dyn Progress,
        created: bool,
    ) -> Result<()> {
        let goal = if created {
            "function Active"
        } else {
            "function update Successful"
        };
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            goal,
            || async {
                let f = self
                    .lambda
                    .get_function_configuration()
                    .function_name(name)
                    .send()
                    .await
                    .ctx(|| format!("reading the state of Lambda function {name}"))?;
                let reason = |r: Option<&str>| r.unwrap_or("no reason given").to_string();
                if created {
                    return Ok(match f.state() {
                        None | Some(State::Active) => Step::Done(()),
                        Some(State::Failed) => Step::Failed(format!(
                            "Lambda function {name} failed to become Active: {}",
                            reason(f.state_reason())
                        )),
                        Some(s) => Step::Pending(s.as_str().to_string()),
                    });
                }
                Ok(match f.last_update_status() {
                    None | Some(LastUpdateStatus::Successful) => Step::Done(()),
                    Some(LastUpdateStatus::Failed) => Step::Failed(format!(
                        "update of Lambda function {name} failed: {}",
                        reason(f.last_update_status_reason())
                    )),
                    Some(s) => Step::Pending(s.as_str().to_string()),
                })
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for Lambda function {name}")))
    }

    pub(super) async fn update_function(
        &self,
        addr: &Address,
        want: &FunctionConfig,
        have: &FunctionConfig,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let name = &want.name;
        // A function still settling from an earlier change refuses updates.
        self.wait_function(addr, name, progress, false).await?;
        if want.resource_policy == crate::model::Val::Null
            && have.resource_policy != crate::model::Val::Null
        {
            self.clear_function_policy(name, &have.resource_policy)
                .await?;
        }

        // The architecture is part of the code update.
        if want.code_sha256 != have.code_sha256 || want.architecture != have.architecture {
            let code = want.code.as_ref().ok_or_else(|| {
                anyhow!("{addr}: no code package to update Lambda function {name} with")
            })?;
            let req = self
                .lambda
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(code.0.as_slice()))
                .architectures(Architecture::from(want.architecture.as_str()));
            Retry::PROPAGATION
                .why("the function is busy with another update")
                .when(retryable)
                .run(addr, progress, || {
                    let req = req.clone();
                    async move {
                        req.send()
                            .await
                            .ctx(|| format!("updating the code of Lambda function {name}"))
                    }
                })
                .await?;
            self.wait_function(addr, name, progress, false).await?;
        }

        let config_changed = want.runtime != have.runtime
            || want.handler != have.handler
            || want.memory != have.memory
            || want.timeout != have.timeout
            || want.description != have.description
            || want.role_arn != have.role_arn
            || want.environment != have.environment;
        if config_changed {
            let req = self
                .lambda
                .update_function_configuration()
                .function_name(name)
                .runtime(Runtime::from(want.runtime.as_str()))
                .handler(&want.handler)
                .memory_size(want.memory)
                .timeout(want.timeout)
                .description(&want.description)
                .role(&want.role_arn)
                .environment(env(&want.environment)?);
            Retry::PROPAGATION
                .when(retryable)
                .run(addr, progress, || {
                    let req = req.clone();
                    async move {
                        req.send()
                            .await
                            .ctx(|| format!("updating the configuration of Lambda function {name}"))
                    }
                })
                .await?;
            self.wait_function(addr, name, progress, false).await?;
        }

        let arn = current
            .ids
            .arn
            .clone()
            .ok_or_else(|| anyhow!("{addr}: Lambda function {name} has no known ARN"))?;
        let (set, remove) = tag_changes(&have.tags, &want.tags);
        if !set.is_empty() {
            self.lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(hash_map(&set)))
                .send()
                .await
                .ctx(|| format!("tagging Lambda function {name}"))?;
        }
        if !remove.is_empty() {
            self.lambda
                .untag_resource()
                .resource(&arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .ctx(|| format!("untagging Lambda function {name}"))?;
        }
        Ok(current.ids.clone())
    }

    pub(super) async fn delete_function(&self, name: &str) -> Result<()> {
        gone(
            self.lambda
                .delete_function()
                .function_name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting Lambda function {name}")),
        )
    }
}
