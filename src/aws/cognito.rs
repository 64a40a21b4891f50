//! Amazon Cognito, for `cognito_m2m` gateways: the user pool that issues
//! the gateway's tokens (managed together with its domain, which serves
//! the token endpoint, and its resource server, which defines the scopes),
//! and one app client per calling runtime (client-credentials grant), each
//! with the AgentCore Identity OAuth2 credential provider that holds the
//! client's secret for the runtime.
//!
//! Pools are tagged (`UserPoolTags`) and found by listing; app clients take
//! no tags and belong to their pool. The client secret is read from Cognito
//! and handed to AgentCore Identity here, and nowhere else: it is never
//! part of a config, a plan or a message. `UpdateUserPool` replaces the
//! whole pool, so agentform never calls it: tags, domain and resource
//! servers each have their own calls. `UpdateUserPoolClient` replaces the
//! whole client, so every field agentform manages is sent each time.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use aws_sdk_cognitoidentityprovider::types::{
    OAuthFlowType, ResourceServerScopeType, UserPoolClientType, UserPoolType,
};

use super::agentcore::M2mProvider;
use super::{Scope, SdkResultExt, found};
use crate::model::{
    Address, Config, Ids, Kind, M2mClientConfig, Observed, Owner, Tags, UserPoolConfig,
};

/// The OpenID discovery URL of a pool (what the gateway's JWT authorizer
/// and the runtimes' credential providers read).
pub(crate) fn discovery_url(region: &str, pool_id: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://cognito-idp.{region}.{suffix}/{pool_id}/.well-known/openid-configuration")
}

fn pool_ids(region: &str, p: &UserPoolType) -> Ids {
    let id = p.id().unwrap_or_default().to_string();
    Ids {
        arn: p.arn().map(str::to_string),
        url: Some(discovery_url(region, &id)),
        id: Some(id),
        version: None,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn client_scopes(c: &UserPoolClientType) -> Vec<String> {
    sorted(c.allowed_o_auth_scopes().to_vec())
}

impl super::Aws {
    async fn region(&self) -> Result<String> {
        Ok(self.account().await?.region)
    }

    async fn describe_user_pool(&self, id: &str) -> Result<Option<UserPoolType>> {
        Ok(found(
            self.cognito
                .describe_user_pool()
                .user_pool_id(id)
                .send()
                .await
                .ctx(|| format!("reading Cognito user pool {id}")),
        )?
        .and_then(|o| o.user_pool().cloned()))
    }

    /// A pool's resource servers: identifier -> sorted scope names.
    async fn resource_servers(&self, pool_id: &str) -> Result<BTreeMap<String, Vec<String>>> {
        let servers: Vec<aws_sdk_cognitoidentityprovider::types::ResourceServerType> = self
            .cognito
            .list_resource_servers()
            .user_pool_id(pool_id)
            .max_results(50)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| format!("listing the resource servers of Cognito user pool {pool_id}"))?;
        Ok(servers
            .iter()
            .map(|r| {
                let scopes = r.scopes().iter().map(|s| s.scope_name().to_string());
                (
                    r.identifier().unwrap_or_default().to_string(),
                    sorted(scopes.collect()),
                )
            })
            .collect())
    }

    pub(in crate::aws) async fn observe_user_pools(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::UserPool);
        let prefix = crate::names::prefix(Kind::UserPool, s.project).unwrap_or_default();
        let region = self.region().await?;
        let pools: Vec<aws_sdk_cognitoidentityprovider::types::UserPoolDescriptionType> = self
            .cognito
            .list_user_pools()
            .max_results(60)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing Cognito user pools".into())?;
        let listed = pools.iter().filter_map(|p| {
            let (id, name) = (p.id()?, p.name()?);
            (looked_up.contains(name) || name.starts_with(&prefix))
                .then(|| (id.to_string(), name.to_string()))
        });
        let mut out = Vec::new();
        for (id, name) in listed {
            let Some(p) = self.describe_user_pool(&id).await? else {
                continue;
            };
            let tags: Tags = p
                .user_pool_tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            if !looked_up.contains(name.as_str()) && !s.tagged_ours(&tags) {
                continue;
            }
            out.push(Observed {
                ids: pool_ids(&region, &p),
                parent_ids: Ids::default(),
                status: None,
                status_reasons: vec![],
                owner: s.owner(Kind::UserPool, &tags),
                config: Config::UserPool(UserPoolConfig {
                    name,
                    domain: p.domain().unwrap_or_default().to_string(),
                    resource_servers: self.resource_servers(&id).await?,
                    tags,
                }),
            });
        }
        Ok(out)
    }

    /// Brings a pool's domain and resource servers from `have` to `want`.
    async fn converge_pool_parts(
        &self,
        id: &str,
        want: &UserPoolConfig,
        have_domain: &str,
        have_servers: &BTreeMap<String, Vec<String>>,
    ) -> Result<()> {
        let name = &want.name;
        if have_domain != want.domain {
            if !have_domain.is_empty() {
                found(
                    self.cognito
                        .delete_user_pool_domain()
                        .user_pool_id(id)
                        .domain(have_domain)
                        .send()
                        .await
                        .ctx(|| {
                            format!("deleting domain {have_domain} of Cognito user pool {name}")
                        }),
                )?;
            }
            if !want.domain.is_empty() {
                self.cognito
                    .create_user_pool_domain()
                    .user_pool_id(id)
                    .domain(&want.domain)
                    .send()
                    .await
                    .ctx(|| {
                        format!(
                            "creating domain {} of Cognito user pool {name}",
                            want.domain
                        )
                    })?;
            }
        }
        for (identifier, scopes) in &want.resource_servers {
            if have_servers.get(identifier) == Some(scopes) {
                continue;
            }
            let scopes: Vec<ResourceServerScopeType> = scopes
                .iter()
                .map(|s| {
                    ResourceServerScopeType::builder()
                        .scope_name(s)
                        .scope_description(format!("{s} (agentform)"))
                        .build()
                })
                .collect::<Result<_, _>>()?;
            let what = || format!("resource server {identifier} of Cognito user pool {name}");
            if have_servers.contains_key(identifier) {
                // Whole-object update: name and every scope.
                self.cognito
                    .update_resource_server()
                    .user_pool_id(id)
                    .identifier(identifier)
                    .name(identifier)
                    .set_scopes(Some(scopes))
                    .send()
                    .await
                    .ctx(|| format!("updating {}", what()))?;
            } else {
                self.cognito
                    .create_resource_server()
                    .user_pool_id(id)
                    .identifier(identifier)
                    .name(identifier)
                    .set_scopes(Some(scopes))
                    .send()
                    .await
                    .ctx(|| format!("creating {}", what()))?;
            }
        }
        for identifier in have_servers.keys() {
            if !want.resource_servers.contains_key(identifier) {
                found(
                    self.cognito
                        .delete_resource_server()
                        .user_pool_id(id)
                        .identifier(identifier)
                        .send()
                        .await
                        .ctx(|| {
                            format!(
                                "deleting resource server {identifier} of Cognito user pool {name}"
                            )
                        }),
                )?;
            }
        }
        Ok(())
    }

    pub(in crate::aws) async fn create_user_pool(
        &self,
        _addr: &Address,
        c: &UserPoolConfig,
    ) -> Result<Ids> {
        // Pool names need not be unique, so there is no conflict to adopt
        // from: a pool left by an interrupted run is found by plan (by its
        // name and tags) and updated instead.
        let created = self
            .cognito
            .create_user_pool()
            .pool_name(&c.name)
            .set_user_pool_tags(Some(c.tags.clone().into_iter().collect()))
            .send()
            .await
            .ctx(|| format!("creating Cognito user pool {}", c.name))?;
        let pool = created
            .user_pool()
            .ok_or_else(|| anyhow!("CreateUserPool returned no pool for {}", c.name))?;
        let id = pool
            .id()
            .ok_or_else(|| anyhow!("CreateUserPool returned no id for {}", c.name))?;
        self.converge_pool_parts(id, c, "", &BTreeMap::new())
            .await?;
        Ok(pool_ids(&self.region().await?, pool))
    }

    pub(in crate::aws) async fn update_user_pool(
        &self,
        c: &UserPoolConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let (Config::UserPool(have), Some(id), Some(arn)) = (
            &current.config,
            current.ids.id.as_deref(),
            current.ids.arn.as_deref(),
        ) else {
            bail!(
                "internal error: Cognito user pool {} has no known id",
                c.name
            );
        };
        let (set, remove) = crate::aws::tag_changes(&have.tags, &c.tags);
        if !set.is_empty() {
            self.cognito
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .ctx(|| format!("tagging Cognito user pool {}", c.name))?;
        }
        if !remove.is_empty() {
            self.cognito
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .ctx(|| format!("untagging Cognito user pool {}", c.name))?;
        }
        self.converge_pool_parts(id, c, &have.domain, &have.resource_servers)
            .await?;
        Ok(current.ids.clone())
    }

    /// Deletes the domain (Cognito refuses to delete a pool that has one),
    /// then the pool with its clients and resource servers.
    pub(in crate::aws) async fn delete_user_pool(&self, o: &Observed) -> Result<()> {
        let (Config::UserPool(c), Some(id)) = (&o.config, o.ids.id.as_deref()) else {
            bail!(
                "internal error: Cognito user pool {} has no known id",
                o.name()
            );
        };
        let domain = match self.describe_user_pool(id).await? {
            Some(p) => p.domain().unwrap_or_default().to_string(),
            None => return Ok(()),
        };
        if !domain.is_empty() {
            found(
                self.cognito
                    .delete_user_pool_domain()
                    .user_pool_id(id)
                    .domain(&domain)
                    .send()
                    .await
                    .ctx(|| format!("deleting domain {domain} of Cognito user pool {}", c.name)),
            )?;
        }
        found(
            self.cognito
                .delete_user_pool()
                .user_pool_id(id)
                .send()
                .await
                .ctx(|| format!("deleting Cognito user pool {}", c.name)),
        )?;
        Ok(())
    }

    async fn describe_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<UserPoolClientType>> {
        Ok(found(
            self.cognito
                .describe_user_pool_client()
                .user_pool_id(pool_id)
                .client_id(client_id)
                .send()
                .await
                .ctx(|| format!("reading app client {client_id} of Cognito user pool {pool_id}")),
        )?
        .and_then(|o| o.user_pool_client().cloned()))
    }

    /// A pool's app clients (id, name).
    async fn list_clients(&self, pool_id: &str) -> Result<Vec<(String, String)>> {
        let clients: Vec<aws_sdk_cognitoidentityprovider::types::UserPoolClientDescription> = self
            .cognito
            .list_user_pool_clients()
            .user_pool_id(pool_id)
            .max_results(60)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| format!("listing the app clients of Cognito user pool {pool_id}"))?;
        Ok(clients
            .iter()
            .filter_map(|c| Some((c.client_id()?.to_string(), c.client_name()?.to_string())))
            .collect())
    }

    pub(in crate::aws) async fn observe_m2m_clients(
        &self,
        pool: &Observed,
    ) -> Result<Vec<Observed>> {
        let (Some(pool_id), Some(url)) = (pool.ids.id.as_deref(), pool.ids.url.as_deref()) else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for (id, name) in self.list_clients(pool_id).await? {
            let Some(c) = self.describe_client(pool_id, &id).await? else {
                continue;
            };
            let provider = crate::names::m2m_provider(pool.name(), &name);
            let state = self
                .m2m_provider_state(&M2mProvider {
                    name: &provider,
                    discovery_url: url,
                    client_id: &id,
                    client_secret: c.client_secret().unwrap_or_default(),
                    tags: &Tags::new(),
                })
                .await?;
            let (arn, tags, current) = match state {
                Some((arn, tags, current)) => (Some(arn), tags, current),
                None => (None, Tags::new(), false),
            };
            out.push(Observed {
                ids: Ids {
                    arn,
                    id: Some(id.clone()),
                    ..Ids::default()
                },
                parent_ids: pool.ids.clone(),
                status: None,
                status_reasons: vec![],
                owner: pool.child_owner(Kind::M2mClient, &name),
                config: Config::M2mClient(M2mClientConfig {
                    pool: pool.name().to_string(),
                    scopes: client_scopes(&c),
                    name,
                    provider,
                    provider_current: current,
                    tags,
                }),
            });
        }
        // A provider whose client is gone (deleted behind agentform's
        // back) is still the project's: observed with no client, so a plan
        // makes the client again or deletes the provider.
        if let Owner::Ours(Address::UserPool(gateway)) = &pool.owner {
            let prefix = crate::names::m2m_provider(pool.name(), "");
            let seen: Vec<String> = out
                .iter()
                .filter_map(|o| match &o.config {
                    Config::M2mClient(c) => Some(c.provider.clone()),
                    _ => None,
                })
                .collect();
            let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
            for (provider, arn, tags) in self.m2m_providers_of(gateway, &prefix, &seen).await? {
                let name = provider[prefix.len()..].to_string();
                out.push(Observed {
                    ids: Ids {
                        arn: Some(arn),
                        ..Ids::default()
                    },
                    parent_ids: pool.ids.clone(),
                    status: None,
                    status_reasons: vec![],
                    owner: pool.child_owner(Kind::M2mClient, &name),
                    config: Config::M2mClient(M2mClientConfig {
                        pool: pool.name().to_string(),
                        scopes: vec![],
                        name,
                        provider,
                        provider_current: false,
                        tags,
                    }),
                });
            }
        }
        Ok(out)
    }

    /// Sends the whole client: the client-credentials grant with exactly
    /// the wanted scopes.
    async fn put_client(&self, pool_id: &str, client_id: &str, c: &M2mClientConfig) -> Result<()> {
        self.cognito
            .update_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(client_id)
            .client_name(&c.name)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .set_allowed_o_auth_scopes(Some(c.scopes.clone()))
            .allowed_o_auth_flows_user_pool_client(true)
            .send()
            .await
            .ctx(|| {
                format!(
                    "updating app client {} of Cognito user pool {}",
                    c.name, c.pool
                )
            })?;
        Ok(())
    }

    /// Hands the client's id and current secret to its credential provider.
    async fn sync_provider(
        &self,
        addr: &Address,
        pool: &Ids,
        client_id: &str,
        c: &M2mClientConfig,
    ) -> Result<Ids> {
        let (Some(pool_id), Some(url)) = (pool.id.as_deref(), pool.url.as_deref()) else {
            bail!(
                "{addr}: the id of Cognito user pool {} is not known",
                c.pool
            );
        };
        let client = self
            .describe_client(pool_id, client_id)
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "{addr}: app client {client_id} of Cognito user pool {} disappeared",
                    c.pool
                )
            })?;
        let secret = client.client_secret().ok_or_else(|| {
            anyhow!(
                "{addr}: app client {} of Cognito user pool {} has no secret",
                c.name,
                c.pool
            )
        })?;
        let arn = self
            .put_m2m_provider(
                addr,
                &M2mProvider {
                    name: &c.provider,
                    discovery_url: url,
                    client_id,
                    client_secret: secret,
                    tags: &c.tags,
                },
            )
            .await?;
        Ok(Ids {
            arn: Some(arn),
            id: Some(client_id.to_string()),
            ..Ids::default()
        })
    }

    pub(in crate::aws) async fn create_m2m_client(
        &self,
        addr: &Address,
        c: &M2mClientConfig,
        parent: Option<&Ids>,
    ) -> Result<Ids> {
        let pool = parent.filter(|p| p.id.is_some()).ok_or_else(|| {
            anyhow!(
                "{addr}: the id of Cognito user pool {} is not known",
                c.pool
            )
        })?;
        let pool_id = pool.id.as_deref().unwrap_or_default();
        // Client names need not be unique: one of this name in the
        // project's pool is this one, left by an interrupted run.
        let existing = self
            .list_clients(pool_id)
            .await?
            .into_iter()
            .find(|(_, n)| *n == c.name)
            .map(|(id, _)| id);
        let client_id = match existing {
            Some(id) => {
                self.put_client(pool_id, &id, c).await?;
                id
            }
            None => self
                .cognito
                .create_user_pool_client()
                .user_pool_id(pool_id)
                .client_name(&c.name)
                .generate_secret(true)
                .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
                .set_allowed_o_auth_scopes(Some(c.scopes.clone()))
                .allowed_o_auth_flows_user_pool_client(true)
                .send()
                .await
                .ctx(|| {
                    format!(
                        "creating app client {} of Cognito user pool {}",
                        c.name, c.pool
                    )
                })?
                .user_pool_client()
                .and_then(|u| u.client_id())
                .ok_or_else(|| {
                    anyhow!("CreateUserPoolClient returned no client id for {}", c.name)
                })?
                .to_string(),
        };
        self.sync_provider(addr, pool, &client_id, c).await
    }

    pub(in crate::aws) async fn update_m2m_client(
        &self,
        addr: &Address,
        c: &M2mClientConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let Some(pool_id) = current.parent_ids.id.as_deref() else {
            bail!(
                "{addr}: the id of Cognito user pool {} is not known",
                c.pool
            );
        };
        // Only its provider is left: make the client again.
        let Some(client_id) = current.ids.id.as_deref() else {
            return self
                .create_m2m_client(addr, c, Some(&current.parent_ids))
                .await;
        };
        let Config::M2mClient(have) = &current.config else {
            bail!("internal error: {addr} is not an app client");
        };
        if have.scopes != c.scopes || have.name != c.name {
            self.put_client(pool_id, client_id, c).await?;
        }
        self.sync_provider(addr, &current.parent_ids, client_id, c)
            .await
    }

    /// Deletes the credential provider, then the app client.
    pub(in crate::aws) async fn delete_m2m_client(&self, o: &Observed) -> Result<()> {
        let (Config::M2mClient(c), Some(pool_id)) = (&o.config, o.parent_ids.id.as_deref()) else {
            bail!("internal error: app client {} has no known pool", o.name());
        };
        self.delete_oauth_provider_named(&c.provider).await?;
        // Only its provider was left.
        let Some(client_id) = o.ids.id.as_deref() else {
            return Ok(());
        };
        found(
            self.cognito
                .delete_user_pool_client()
                .user_pool_id(pool_id)
                .client_id(client_id)
                .send()
                .await
                .ctx(|| {
                    format!(
                        "deleting app client {} of Cognito user pool {}",
                        c.name, c.pool
                    )
                }),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls() {
        assert_eq!(
            discovery_url("us-east-1", "us-east-1_Ab12"),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12/.well-known/openid-configuration"
        );
        assert!(discovery_url("cn-north-1", "p").contains("amazonaws.com.cn/p/"));
    }
}
