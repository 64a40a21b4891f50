//! AgentCore control plane: gateways ([`gateway`]), gateway targets
//! ([`target`]), agent runtimes ([`runtime`]) and runtime endpoints
//! ([`endpoint`]), with the tool-schema codec ([`tool_schema`]) and what
//! they share here: tags, and waiting for settled or deleted states.
//!
//! All four are asynchronous (CREATING/UPDATING/DELETING, then READY or a
//! failure status with reasons) and the SDK has no waiters: every change is
//! followed by polling Get* ([`super::wait::poll`]).
//!
//! Observe: ListGateways / ListAgentRuntimes (the Get calls take ids, not
//! names), keep those looked up by name or carrying the project's name
//! prefix, then Get* + ListTagsForResource each (Get returns no tags).
//! Children (targets, endpoints) are listed through every kept parent: they
//! belong to it.
//!
//! Update* replaces the whole object. Fields agentform does not manage
//! (KMS key, other MCP settings, WAF and custom transforms; a runtime's
//! authorizer, header allow-list, lifecycle, VPC settings; a target's
//! metadata configuration) are read first and sent back unchanged, so an
//! update never silently resets something set outside agentform.

mod credential;
pub(in crate::aws) use credential::M2mProvider;
pub(super) use credential::VENDORS;
mod endpoint;
mod gateway;
mod memory;
mod policy;
mod runtime;
mod target;
mod tool_schema;

use std::collections::HashMap;

use anyhow::Result;

use super::wait::{self, Backoff, Step};
use super::{SdkResultExt, found, tag_changes};
use crate::model::{Address, Progress, Tags};

/// The id a create returned; or, when it met ConflictException (AWS refuses
/// a second resource of one name), the id of the resource of that name
/// `find_own` says is this very one, made by an earlier attempt. Anything
/// else under the name fails the create.
pub(super) async fn created_or_own<Fut>(
    created: Result<String>,
    addr: &Address,
    what: &str,
    find_own: impl FnOnce() -> Fut,
) -> Result<String>
where
    Fut: std::future::Future<Output = Result<Option<String>>>,
{
    match created {
        Ok(id) => Ok(id),
        Err(e) if crate::aws::is_conflict(&e) => match find_own().await? {
            Some(id) => Ok(id),
            None => Err(e.context(format!(
                "{addr}: a {what} already exists and is not this one"
            ))),
        },
        Err(e) => Err(e),
    }
}

/// The SDK's JWT authorizer for `a` (`None` for IAM: no configuration).
pub(super) fn jwt_configuration(
    a: &crate::model::Authorizer,
) -> Result<Option<aws_sdk_bedrockagentcorecontrol::types::AuthorizerConfiguration>> {
    use aws_sdk_bedrockagentcorecontrol::types::{
        AuthorizerConfiguration, CustomJwtAuthorizerConfiguration,
    };
    let crate::model::Authorizer::CustomJwt {
        discovery_url,
        allowed_audiences,
        allowed_clients,
        allowed_scopes,
    } = a
    else {
        return Ok(None);
    };
    let nonempty = |v: &Vec<String>| if v.is_empty() { None } else { Some(v.clone()) };
    let unknown = || {
        anyhow::anyhow!(
            "internal error: the JWT authorizer refers to a user pool or client not created yet"
        )
    };
    let discovery_url = discovery_url.known().ok_or_else(unknown)?;
    let clients = allowed_clients
        .iter()
        .map(|c| c.known().map(str::to_string).ok_or_else(unknown))
        .collect::<Result<Vec<String>>>()?;
    let jwt = CustomJwtAuthorizerConfiguration::builder()
        .discovery_url(discovery_url)
        .set_allowed_audience(nonempty(allowed_audiences))
        .set_allowed_clients(nonempty(&clients))
        .set_allowed_scopes(nonempty(allowed_scopes))
        .build()?;
    Ok(Some(AuthorizerConfiguration::CustomJwtAuthorizer(jwt)))
}

/// A JWT authorizer read back (an empty one when the configuration is
/// missing or of another kind).
pub(super) fn jwt_authorizer(
    conf: Option<&aws_sdk_bedrockagentcorecontrol::types::AuthorizerConfiguration>,
) -> crate::model::Authorizer {
    let jwt = conf.and_then(|c| c.as_custom_jwt_authorizer().ok());
    crate::model::Authorizer::CustomJwt {
        discovery_url: crate::model::Resolved::Known(
            jwt.map(|j| j.discovery_url().to_string())
                .unwrap_or_default(),
        ),
        allowed_audiences: jwt
            .map(|j| j.allowed_audience().to_vec())
            .unwrap_or_default(),
        allowed_clients: jwt
            .map(|j| {
                j.allowed_clients()
                    .iter()
                    .map(|c| crate::model::Resolved::Known(c.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        allowed_scopes: jwt.map(|j| j.allowed_scopes().to_vec()).unwrap_or_default(),
    }
}

pub(super) fn tags_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(super) fn joined(reasons: &[String]) -> String {
    if reasons.is_empty() {
        "no reason given".to_string()
    } else {
        reasons.join("; ")
    }
}

impl crate::aws::Aws {
    pub(super) async fn agentcore_tags(&self, what: &str, arn: &str) -> Result<Option<Tags>> {
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
    pub(super) async fn reconcile_tags(&self, what: &str, arn: &str, want: &Tags) -> Result<()> {
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

    /// Reads a resource until it is out of a transitional status (an
    /// interrupted apply may have left it CREATING or UPDATING; an update
    /// sent now would be refused).
    pub(super) async fn settled<T, G, Fut>(
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

    /// Polls `get` until `step` says the resource is READY (or can no longer
    /// get there). `what` names it in messages ("gateway x"); `gone` is the
    /// failure when it disappears meanwhile.
    pub(super) async fn wait_ready<T, G, Fut>(
        &self,
        addr: &Address,
        progress: &dyn Progress,
        what: &str,
        gone: &str,
        get: G,
        step: fn(T) -> Step<T>,
    ) -> Result<T>
    where
        G: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        wait::poll(
            addr,
            progress,
            Backoff::POLL,
            self.timeout,
            "READY",
            || async {
                Ok(match get().await? {
                    Some(x) => step(x),
                    None => Step::Failed(gone.to_string()),
                })
            },
        )
        .await
        .map_err(|e| e.context(format!("waiting for {what} to be READY")))
    }

    /// Sends `delete` (retried while the resource is `busy` with another
    /// operation; "not found" is done), then polls `status` (None = not
    /// found) until the resource is gone.
    pub(super) async fn delete_and_wait_gone<D, DFut, F, Fut>(
        &self,
        addr: &Address,
        what: &str,
        busy: &'static str,
        delete: D,
        status: F,
        progress: &dyn Progress,
    ) -> Result<()>
    where
        D: Fn() -> DFut,
        DFut: Future<Output = Result<()>>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<String>>>,
    {
        wait::Retry::conflict(busy)
            .run(addr, progress, || async {
                crate::aws::gone(delete().await)
            })
            .await?;
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
}

/// Statuses that end by themselves; an update must wait them out.
fn is_transitional(status: &str) -> bool {
    matches!(status, "CREATING" | "UPDATING" | "SYNCHRONIZING")
}
