//! AgentCore Identity credential providers (API keys, OAuth2 clients):
//! tagged, found by listing, updated whole. Their secrets are write-only in
//! the API: AgentCore keeps each in a Secrets Manager secret it manages, so
//! a plan reads that secret and compares digests (`model::Secret`), and no
//! value is ever kept, shown or logged.

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::types::{
    CredentialProviderVendorType, CustomOauth2ProviderConfigInput, GithubOauth2ProviderConfigInput,
    GoogleOauth2ProviderConfigInput, Oauth2Discovery, Oauth2ProviderConfigInput,
    Oauth2ProviderConfigOutput, SalesforceOauth2ProviderConfigInput,
    SlackOauth2ProviderConfigInput,
};

use super::tags_map;
use crate::aws::Scope;
use crate::aws::{SdkResultExt, found};
use crate::model::{
    Address, ApiKeyProviderConfig, Config, Ids, Kind, OAuthProviderConfig, Observed, Secret, Tags,
};

/// What the credential provider of a runtime's Cognito app client holds.
pub(in crate::aws) struct M2mProvider<'a> {
    pub name: &'a str,
    pub discovery_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub tags: &'a Tags,
}

/// The JSON key of the value in the secret AgentCore manages, when its
/// Get answer names none.
const API_KEY_JSON_KEY: &str = "api_key_value";
const CLIENT_SECRET_JSON_KEY: &str = "client_secret";

/// The vendors agentform configures (spec word, API vendor type).
pub const VENDORS: &[(&str, &str)] = &[
    ("custom", "CustomOauth2"),
    ("github", "GithubOauth2"),
    ("google", "GoogleOauth2"),
    ("slack", "SlackOauth2"),
    ("salesforce", "SalesforceOauth2"),
];

fn value<'a>(secret: &'a Secret, what: &str) -> Result<&'a str> {
    secret.value.as_deref().ok_or_else(|| {
        anyhow!("internal error: the {what} is not known (a plan read back holds no secrets)")
    })
}

fn oauth_input(c: &OAuthProviderConfig) -> Result<Oauth2ProviderConfigInput> {
    let secret = value(&c.client_secret, "client secret")?;
    Ok(match c.vendor.as_str() {
        "CustomOauth2" => Oauth2ProviderConfigInput::CustomOauth2ProviderConfig(
            CustomOauth2ProviderConfigInput::builder()
                .oauth_discovery(Oauth2Discovery::DiscoveryUrl(c.discovery_url.clone()))
                .client_id(&c.client_id)
                .client_secret(secret)
                .build(),
        ),
        "GithubOauth2" => Oauth2ProviderConfigInput::GithubOauth2ProviderConfig(
            GithubOauth2ProviderConfigInput::builder()
                .client_id(&c.client_id)
                .client_secret(secret)
                .build()?,
        ),
        "GoogleOauth2" => Oauth2ProviderConfigInput::GoogleOauth2ProviderConfig(
            GoogleOauth2ProviderConfigInput::builder()
                .client_id(&c.client_id)
                .client_secret(secret)
                .build()?,
        ),
        "SlackOauth2" => Oauth2ProviderConfigInput::SlackOauth2ProviderConfig(
            SlackOauth2ProviderConfigInput::builder()
                .client_id(&c.client_id)
                .client_secret(secret)
                .build()?,
        ),
        "SalesforceOauth2" => Oauth2ProviderConfigInput::SalesforceOauth2ProviderConfig(
            SalesforceOauth2ProviderConfigInput::builder()
                .client_id(&c.client_id)
                .client_secret(secret)
                .build()?,
        ),
        other => bail!("internal error: OAuth2 vendor {other} is not configured by agentform"),
    })
}

/// Client id and discovery URL of a provider's configuration as read back.
fn oauth_output(o: Option<&Oauth2ProviderConfigOutput>) -> (String, String) {
    let (id, discovery) = match o {
        Some(Oauth2ProviderConfigOutput::CustomOauth2ProviderConfig(c)) => {
            (c.client_id(), c.oauth_discovery())
        }
        Some(Oauth2ProviderConfigOutput::GithubOauth2ProviderConfig(c)) => (c.client_id(), None),
        Some(Oauth2ProviderConfigOutput::GoogleOauth2ProviderConfig(c)) => (c.client_id(), None),
        Some(Oauth2ProviderConfigOutput::SlackOauth2ProviderConfig(c)) => (c.client_id(), None),
        Some(Oauth2ProviderConfigOutput::SalesforceOauth2ProviderConfig(c)) => {
            (c.client_id(), None)
        }
        _ => (None, None),
    };
    let url = discovery
        .and_then(|d| d.as_discovery_url().ok())
        .cloned()
        .unwrap_or_default();
    (id.unwrap_or_default().to_string(), url)
}

impl crate::aws::Aws {
    /// The value in a secret AgentCore manages, as a digest.
    async fn read_secret(
        &self,
        provider: &str,
        secret_arn: Option<&str>,
        json_key: &str,
    ) -> Result<Secret> {
        let Some(arn) = secret_arn else {
            return Ok(Secret::unreadable());
        };
        let got = found(
            self.secrets
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .ctx(|| format!("reading the secret of credential provider {provider}")),
        )?;
        let Some(text) = got.as_ref().and_then(|g| g.secret_string()) else {
            return Ok(Secret::unreadable());
        };
        let json: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return Ok(Secret::unreadable()),
        };
        Ok(json
            .get(json_key)
            .and_then(|v| v.as_str())
            .map_or_else(Secret::unreadable, |v| Secret::read_back(provider, v)))
    }

    async fn provider_tags(&self, name: &str, arn: &str) -> Result<Option<Tags>> {
        self.agentcore_tags(&format!("credential provider {name}"), arn)
            .await
    }

    async fn get_api_key_provider(
        &self,
        name: &str,
    ) -> Result<
        Option<
            aws_sdk_bedrockagentcorecontrol::operation::get_api_key_credential_provider::GetApiKeyCredentialProviderOutput,
        >,
    >{
        found(
            self.agentcore
                .get_api_key_credential_provider()
                .name(name)
                .send()
                .await
                .ctx(|| format!("reading API key credential provider {name}")),
        )
    }

    async fn get_oauth_provider(
        &self,
        name: &str,
    ) -> Result<
        Option<
            aws_sdk_bedrockagentcorecontrol::operation::get_oauth2_credential_provider::GetOauth2CredentialProviderOutput,
        >,
    >{
        found(
            self.agentcore
                .get_oauth2_credential_provider()
                .name(name)
                .send()
                .await
                .ctx(|| format!("reading OAuth2 credential provider {name}")),
        )
    }

    /// The listed providers (name, ARN) that are the project's: named in the
    /// spec, or with its prefix and its tags; with their tags.
    async fn ours(
        &self,
        s: &Scope<'_>,
        kind: Kind,
        listed: impl Iterator<Item = (String, String)>,
    ) -> Result<Vec<(String, Tags)>> {
        let looked_up = &s.names(kind);
        let prefix = crate::names::prefix(kind, s.project).unwrap_or_default();
        let mut out = Vec::new();
        for (name, arn) in listed {
            if !looked_up.contains(name.as_str()) && !name.starts_with(&prefix) {
                continue;
            }
            let Some(tags) = self.provider_tags(&name, &arn).await? else {
                continue;
            };
            // A provider made for a runtime's Cognito client is read with
            // that client.
            if tags
                .get(crate::names::TAG_RESOURCE)
                .and_then(|r| Address::parse(r))
                .is_some_and(|a| a.kind() == Kind::M2mClient)
            {
                continue;
            }
            if looked_up.contains(name.as_str()) || s.tagged_ours(&tags) {
                out.push((name, tags));
            }
        }
        Ok(out)
    }

    pub(in crate::aws) async fn observe_api_key_providers(
        &self,
        s: &Scope<'_>,
    ) -> Result<Vec<Observed>> {
        let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::ApiKeyCredentialProviderItem> =
            self.agentcore
                .list_api_key_credential_providers()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| "listing API key credential providers".into())?;
        let listed = listed.iter().map(|i| {
            (
                i.name().to_string(),
                i.credential_provider_arn().to_string(),
            )
        });
        let mut out = Vec::new();
        for (name, tags) in self.ours(s, Kind::ApiKeyProvider, listed).await? {
            let name = name.as_str();
            let Some(p) = self.get_api_key_provider(name).await? else {
                continue;
            };
            let key = self
                .read_secret(
                    name,
                    p.api_key_secret_arn().map(|s| s.secret_arn()),
                    p.api_key_secret_json_key().unwrap_or(API_KEY_JSON_KEY),
                )
                .await?;
            out.push(Observed {
                ids: Ids {
                    arn: Some(p.credential_provider_arn().to_string()),
                    ..Ids::default()
                },
                parent_ids: Ids::default(),
                status: None,
                status_reasons: vec![],
                owner: s.owner(Kind::ApiKeyProvider, &tags),
                config: Config::ApiKeyProvider(ApiKeyProviderConfig {
                    name: name.to_string(),
                    api_key: key,
                    tags,
                }),
            });
        }
        Ok(out)
    }

    /// Every OAuth2 credential provider of the account and region: (name, ARN).
    async fn list_oauth_providers(&self) -> Result<Vec<(String, String)>> {
        let listed: Vec<aws_sdk_bedrockagentcorecontrol::types::Oauth2CredentialProviderItem> =
            self.agentcore
                .list_oauth2_credential_providers()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| "listing OAuth2 credential providers".into())?;
        Ok(listed
            .iter()
            .map(|i| {
                (
                    i.name().to_string(),
                    i.credential_provider_arn().to_string(),
                )
            })
            .collect())
    }

    pub(in crate::aws) async fn observe_oauth_providers(
        &self,
        s: &Scope<'_>,
    ) -> Result<Vec<Observed>> {
        let listed = self.list_oauth_providers().await?.into_iter();
        let mut out = Vec::new();
        for (name, tags) in self.ours(s, Kind::OAuthProvider, listed).await? {
            let name = name.as_str();
            let Some(p) = self.get_oauth_provider(name).await? else {
                continue;
            };
            let secret = self
                .read_secret(
                    name,
                    p.client_secret_arn().map(|s| s.secret_arn()),
                    p.client_secret_json_key().unwrap_or(CLIENT_SECRET_JSON_KEY),
                )
                .await?;
            let (client_id, discovery_url) = oauth_output(p.oauth2_provider_config_output());
            out.push(Observed {
                ids: Ids {
                    arn: Some(p.credential_provider_arn().to_string()),
                    ..Ids::default()
                },
                parent_ids: Ids::default(),
                status: p.status().map(|s| s.as_str().to_string()),
                status_reasons: p
                    .failure_reason()
                    .map(|f| vec![f.to_string()])
                    .unwrap_or_default(),
                owner: s.owner(Kind::OAuthProvider, &tags),
                config: Config::OAuthProvider(OAuthProviderConfig {
                    name: name.to_string(),
                    vendor: p.credential_provider_vendor().as_str().to_string(),
                    discovery_url,
                    client_id,
                    client_secret: secret,
                    tags,
                }),
            });
        }
        Ok(out)
    }

    pub(in crate::aws) async fn create_api_key_provider(
        &self,
        addr: &Address,
        c: &ApiKeyProviderConfig,
    ) -> Result<Ids> {
        let created = self
            .agentcore
            .create_api_key_credential_provider()
            .name(&c.name)
            .api_key(value(&c.api_key, "API key")?)
            .set_tags(Some(tags_map(&c.tags)))
            .send()
            .await
            .ctx(|| format!("creating API key credential provider {}", c.name))
            .map(|o| o.credential_provider_arn().to_string());
        // No client token: a create whose answer was lost meets its own
        // provider next time, which it adopts when the tags say so.
        let arn = super::created_or_own(
            created,
            addr,
            &format!("credential provider named {}", c.name),
            || async {
                let Some(p) = self.get_api_key_provider(&c.name).await? else {
                    return Ok(None);
                };
                let tags = self
                    .provider_tags(&c.name, p.credential_provider_arn())
                    .await?
                    .unwrap_or_default();
                if !crate::aws::same_owner_tags(&tags, &c.tags) {
                    return Ok(None);
                }
                self.update_api_key_provider(c).await?;
                Ok(Some(p.credential_provider_arn().to_string()))
            },
        )
        .await?;
        Ok(Ids {
            arn: Some(arn),
            ..Ids::default()
        })
    }

    async fn update_api_key_provider(&self, c: &ApiKeyProviderConfig) -> Result<String> {
        let out = self
            .agentcore
            .update_api_key_credential_provider()
            .name(&c.name)
            .api_key(value(&c.api_key, "API key")?)
            .send()
            .await
            .ctx(|| format!("updating API key credential provider {}", c.name))?;
        Ok(out.credential_provider_arn().to_string())
    }

    pub(in crate::aws) async fn update_api_key_provider_in_place(
        &self,
        c: &ApiKeyProviderConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let arn = self.update_api_key_provider(c).await?;
        self.reconcile_tags(&format!("credential provider {}", c.name), &arn, &c.tags)
            .await?;
        Ok(Ids {
            arn: Some(arn),
            ..current.ids.clone()
        })
    }

    pub(in crate::aws) async fn create_oauth_provider(
        &self,
        addr: &Address,
        c: &OAuthProviderConfig,
    ) -> Result<Ids> {
        let created = self
            .agentcore
            .create_oauth2_credential_provider()
            .name(&c.name)
            .credential_provider_vendor(CredentialProviderVendorType::from(c.vendor.as_str()))
            .oauth2_provider_config_input(oauth_input(c)?)
            .set_tags(Some(tags_map(&c.tags)))
            .send()
            .await
            .ctx(|| format!("creating OAuth2 credential provider {}", c.name))
            .map(|o| o.credential_provider_arn().to_string());
        let arn = super::created_or_own(
            created,
            addr,
            &format!("credential provider named {}", c.name),
            || async {
                let Some(p) = self.get_oauth_provider(&c.name).await? else {
                    return Ok(None);
                };
                let tags = self
                    .provider_tags(&c.name, p.credential_provider_arn())
                    .await?
                    .unwrap_or_default();
                if !crate::aws::same_owner_tags(&tags, &c.tags) {
                    return Ok(None);
                }
                self.update_oauth_provider(c).await?;
                Ok(Some(p.credential_provider_arn().to_string()))
            },
        )
        .await?;
        Ok(Ids {
            arn: Some(arn),
            ..Ids::default()
        })
    }

    async fn update_oauth_provider(&self, c: &OAuthProviderConfig) -> Result<String> {
        // The whole configuration, client secret included, every time.
        let out = self
            .agentcore
            .update_oauth2_credential_provider()
            .name(&c.name)
            .credential_provider_vendor(CredentialProviderVendorType::from(c.vendor.as_str()))
            .oauth2_provider_config_input(oauth_input(c)?)
            .send()
            .await
            .ctx(|| format!("updating OAuth2 credential provider {}", c.name))?;
        Ok(out.credential_provider_arn().to_string())
    }

    pub(in crate::aws) async fn update_oauth_provider_in_place(
        &self,
        c: &OAuthProviderConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let arn = self.update_oauth_provider(c).await?;
        self.reconcile_tags(&format!("credential provider {}", c.name), &arn, &c.tags)
            .await?;
        Ok(Ids {
            arn: Some(arn),
            ..current.ids.clone()
        })
    }

    /// The provider of a runtime's Cognito app client, when it exists: its
    /// ARN, tags, and whether it holds exactly this client id, secret and
    /// discovery URL.
    pub(in crate::aws) async fn m2m_provider_state(
        &self,
        want: &M2mProvider<'_>,
    ) -> Result<Option<(String, Tags, bool)>> {
        let Some(p) = self.get_oauth_provider(want.name).await? else {
            return Ok(None);
        };
        let arn = p.credential_provider_arn().to_string();
        let tags = self
            .provider_tags(want.name, &arn)
            .await?
            .unwrap_or_default();
        let secret = self
            .read_secret(
                want.name,
                p.client_secret_arn().map(|s| s.secret_arn()),
                p.client_secret_json_key().unwrap_or(CLIENT_SECRET_JSON_KEY),
            )
            .await?;
        let (client_id, discovery_url) = oauth_output(p.oauth2_provider_config_output());
        let current = p.credential_provider_vendor().as_str() == "CustomOauth2"
            && client_id == want.client_id
            && discovery_url == want.discovery_url
            && secret == Secret::read_back(want.name, want.client_secret);
        Ok(Some((arn, tags, current)))
    }

    /// The providers made for app clients of the pool of gateway `gateway`
    /// (tagged with a `cognito_m2m_client.<gateway>/...` address), named
    /// with `prefix`, other than those in `seen` (already read with their
    /// clients): (name, ARN, tags).
    pub(in crate::aws) async fn m2m_providers_of(
        &self,
        gateway: &str,
        prefix: &str,
        seen: &[&str],
    ) -> Result<Vec<(String, String, Tags)>> {
        let mut out = Vec::new();
        for (name, arn) in self.list_oauth_providers().await? {
            if !name.starts_with(prefix) || seen.contains(&name.as_str()) {
                continue;
            }
            let Some(tags) = self.provider_tags(&name, &arn).await? else {
                continue;
            };
            let made_here = tags
                .get(crate::names::TAG_RESOURCE)
                .and_then(|r| Address::parse(r))
                .is_some_and(
                    |a| matches!(&a, Address::M2mClient { gateway: g, .. } if g == gateway),
                );
            if made_here {
                out.push((name, arn, tags));
            }
        }
        Ok(out)
    }

    /// Creates or updates (whole) the provider of a runtime's Cognito app
    /// client; returns its ARN.
    pub(in crate::aws) async fn put_m2m_provider(
        &self,
        addr: &Address,
        want: &M2mProvider<'_>,
    ) -> Result<String> {
        let c = OAuthProviderConfig {
            name: want.name.to_string(),
            vendor: "CustomOauth2".into(),
            discovery_url: want.discovery_url.to_string(),
            client_id: want.client_id.to_string(),
            client_secret: Secret::new(want.name, want.client_secret),
            tags: want.tags.clone(),
        };
        match self.get_oauth_provider(want.name).await? {
            Some(p) => {
                let arn = p.credential_provider_arn().to_string();
                let tags = self
                    .provider_tags(want.name, &arn)
                    .await?
                    .unwrap_or_default();
                if !crate::aws::same_owner_tags(&tags, &c.tags) {
                    bail!(
                        "{addr}: an OAuth2 credential provider named {} exists and is not this project's (its agentform tags say otherwise); rename or delete it",
                        c.name
                    );
                }
                let arn = self.update_oauth_provider(&c).await?;
                self.reconcile_tags(&format!("credential provider {}", c.name), &arn, &c.tags)
                    .await?;
                Ok(arn)
            }
            None => Ok(self
                .create_oauth_provider(addr, &c)
                .await?
                .arn
                .unwrap_or_default()),
        }
    }

    /// Deletes the provider of a runtime's Cognito app client (gone is done).
    pub(in crate::aws) async fn delete_oauth_provider_named(&self, name: &str) -> Result<()> {
        found(
            self.agentcore
                .delete_oauth2_credential_provider()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting OAuth2 credential provider {name}")),
        )?;
        Ok(())
    }

    /// Deletes a provider (AgentCore deletes the secret it manages with it).
    pub(in crate::aws) async fn delete_credential_provider(&self, o: &Observed) -> Result<()> {
        let name = o.name();
        let r = match &o.config {
            Config::ApiKeyProvider(_) => self
                .agentcore
                .delete_api_key_credential_provider()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting API key credential provider {name}")),
            Config::OAuthProvider(_) => self
                .agentcore
                .delete_oauth2_credential_provider()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting OAuth2 credential provider {name}")),
            other => bail!(
                "internal error: {} is not a credential provider",
                other.kind()
            ),
        };
        // Gone already is what was wanted.
        found(r)?;
        Ok(())
    }
}
