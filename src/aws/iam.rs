//! IAM roles and their inline policy.
//!
//! Observe: roles named by lookups (GetRole), plus the project's roles under
//! its IAM path (ListRoles PathPrefix; ListRoles returns no tags, so each is
//! read again with GetRole). For every observed role, the agentform inline
//! policy (and any looked-up policy name) via GetRolePolicy.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use aws_sdk_iam::types::{Role, Tag};
use futures::{StreamExt, TryStreamExt};

use super::{
    CONCURRENCY, Scope, SdkResultExt, decode_policy, found, gone, same_owner_tags, tag_changes,
};
use crate::model::{
    Address, Config, Ids, Kind, Observed, Owner, Progress, RoleConfig, RolePolicyConfig, Tags,
};
use crate::names::{POLICY_NAME, role_path};

fn tags_of(role: &Role) -> Tags {
    role.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn iam_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .context("building an IAM tag")
        })
        .collect()
}

fn role_config(role: &Role) -> Result<RoleConfig> {
    let trust = match role.assume_role_policy_document() {
        Some(doc) => decode_policy(doc).with_context(|| {
            format!("reading the trust policy of IAM role {}", role.role_name())
        })?,
        None => serde_json::Value::Null,
    };
    Ok(RoleConfig {
        name: role.role_name().to_string(),
        path: role.path().to_string(),
        trust_policy: trust,
        description: role.description().unwrap_or_default().to_string(),
        tags: tags_of(role),
    })
}

impl super::Aws {
    async fn get_role(&self, name: &str) -> Result<Option<Role>> {
        let out = found(
            self.iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .ctx(|| format!("reading IAM role {name}")),
        )?;
        Ok(out.and_then(|o| o.role))
    }

    async fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<serde_json::Value>> {
        let out = found(
            self.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .ctx(|| format!("reading inline policy {name} of IAM role {role}")),
        )?;
        out.map(|o| {
            decode_policy(o.policy_document())
                .with_context(|| format!("reading inline policy {name} of IAM role {role}"))
        })
        .transpose()
    }

    pub(super) async fn observe_iam(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = s.names(Kind::Role);
        // Looked-up policies, by role.
        let mut policy_lookups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for l in s.lookups.iter().filter(|l| l.kind == Kind::RolePolicy) {
            if let Some(role) = &l.parent {
                policy_lookups
                    .entry(role.as_str())
                    .or_default()
                    .insert(l.name.as_str());
            }
        }

        let path = role_path(s.project);
        let listed: Vec<Role> = self
            .iam
            .list_roles()
            .path_prefix(&path)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| format!("listing IAM roles under path {path}"))?;

        let mut names: BTreeSet<String> =
            listed.iter().map(|r| r.role_name().to_string()).collect();
        names.extend(looked_up.iter().map(|n| n.to_string()));
        names.extend(policy_lookups.keys().map(|n| n.to_string()));

        let roles: Vec<Role> = futures::stream::iter(names)
            .map(|n| async move { self.get_role(&n).await })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|r| async move { Ok(r) })
            .try_collect()
            .await?;

        // (role observed? , role, policy names to read)
        let mut work = Vec::new();
        let mut out = Vec::new();
        for role in roles {
            let name = role.role_name().to_string();
            let tags = tags_of(&role);
            let emit = looked_up.contains(name.as_str())
                || (role.path().starts_with(&path) && s.tagged_ours(&tags));
            let owner = s.owner(Kind::Role, &tags);
            let mut policies: BTreeSet<String> = policy_lookups
                .get(name.as_str())
                .into_iter()
                .flatten()
                .map(|p| p.to_string())
                .collect();
            if emit {
                policies.insert(POLICY_NAME.to_string());
                out.push(Observed {
                    kind: Kind::Role,
                    name: name.clone(),
                    parent: None,
                    ids: Ids {
                        arn: Some(role.arn().to_string()),
                        ..Ids::default()
                    },
                    parent_ids: Ids::default(),
                    status: None,
                    status_reasons: vec![],
                    owner: owner.clone(),
                    config: Config::Role(role_config(&role)?),
                });
            }
            let policy_owner = match owner {
                Owner::Ours(a) => Owner::Ours(Address::new(Kind::RolePolicy, a.name)),
                other => other,
            };
            for p in policies {
                work.push((
                    name.clone(),
                    role.arn().to_string(),
                    p,
                    policy_owner.clone(),
                ));
            }
        }

        let policies: Vec<Observed> = futures::stream::iter(work)
            .map(|(role, role_arn, policy, owner)| async move {
                let doc = self.get_role_policy(&role, &policy).await?;
                Ok::<_, anyhow::Error>(doc.map(|document| Observed {
                    kind: Kind::RolePolicy,
                    name: policy.clone(),
                    parent: Some(role.clone()),
                    ids: Ids::default(),
                    parent_ids: Ids {
                        arn: Some(role_arn),
                        ..Ids::default()
                    },
                    status: None,
                    status_reasons: vec![],
                    owner,
                    config: Config::RolePolicy(RolePolicyConfig {
                        role,
                        name: policy,
                        document,
                    }),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await?;
        out.extend(policies);
        Ok(out)
    }

    pub(super) async fn create_role(
        &self,
        addr: &Address,
        c: &RoleConfig,
        _progress: &dyn Progress,
    ) -> Result<Ids> {
        let mut req = self
            .iam
            .create_role()
            .role_name(&c.name)
            .path(&c.path)
            .assume_role_policy_document(c.trust_policy.to_string())
            .set_tags(Some(iam_tags(&c.tags)?));
        if !c.description.is_empty() {
            req = req.description(&c.description);
        }
        match req
            .send()
            .await
            .ctx(|| format!("creating IAM role {}", c.name))
        {
            Ok(out) => Ok(Ids {
                arn: out.role().map(|r| r.arn().to_string()),
                ..Ids::default()
            }),
            Err(e) if super::error_code(&e) == Some("EntityAlreadyExists") => {
                // An earlier attempt of this create may have succeeded.
                match self.get_role(&c.name).await? {
                    Some(role) if same_owner_tags(&tags_of(&role), &c.tags) => Ok(Ids {
                        arn: Some(role.arn().to_string()),
                        ..Ids::default()
                    }),
                    _ => Err(e.context(format!(
                        "{addr}: an IAM role named {} already exists and is not this one",
                        c.name
                    ))),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn put_role_policy(&self, c: &RolePolicyConfig) -> Result<Ids> {
        self.iam
            .put_role_policy()
            .role_name(&c.role)
            .policy_name(&c.name)
            .policy_document(c.document.to_string())
            .send()
            .await
            .ctx(|| format!("putting inline policy {} on IAM role {}", c.name, c.role))?;
        Ok(Ids::default())
    }

    pub(super) async fn update_role(
        &self,
        want: &RoleConfig,
        have: &RoleConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let name = &want.name;
        if want.trust_policy != have.trust_policy {
            self.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(want.trust_policy.to_string())
                .send()
                .await
                .ctx(|| format!("updating the trust policy of IAM role {name}"))?;
        }
        if want.description != have.description {
            self.iam
                .update_role()
                .role_name(name)
                .description(&want.description)
                .send()
                .await
                .ctx(|| format!("updating the description of IAM role {name}"))?;
        }
        let (set, remove) = tag_changes(&have.tags, &want.tags);
        if !set.is_empty() {
            self.iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(&set)?))
                .send()
                .await
                .ctx(|| format!("tagging IAM role {name}"))?;
        }
        if !remove.is_empty() {
            self.iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .ctx(|| format!("untagging IAM role {name}"))?;
        }
        Ok(current.ids.clone())
    }

    pub(super) async fn delete_role_policy(&self, c: &RolePolicyConfig) -> Result<()> {
        gone(
            self.iam
                .delete_role_policy()
                .role_name(&c.role)
                .policy_name(&c.name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting inline policy {} of IAM role {}", c.name, c.role)),
        )
    }

    /// Removes what blocks DeleteRole (inline policies, attached managed
    /// policies, instance profiles), then the role.
    pub(super) async fn delete_role(&self, name: &str) -> Result<()> {
        let inline: Vec<String> = match found(
            self.iam
                .list_role_policies()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing inline policies of IAM role {name}")),
        )? {
            Some(v) => v,
            None => return Ok(()),
        };
        for p in inline {
            gone(
                self.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(&p)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting inline policy {p} of IAM role {name}")),
            )?;
        }
        let attached = found(
            self.iam
                .list_attached_role_policies()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing managed policies attached to IAM role {name}")),
        )?
        .unwrap_or_default();
        for p in attached {
            let Some(arn) = p.policy_arn() else { continue };
            gone(
                self.iam
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("detaching managed policy {arn} from IAM role {name}")),
            )?;
        }
        let profiles = found(
            self.iam
                .list_instance_profiles_for_role()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing instance profiles of IAM role {name}")),
        )?
        .unwrap_or_default();
        for p in profiles {
            let profile = p.instance_profile_name();
            gone(
                self.iam
                    .remove_role_from_instance_profile()
                    .role_name(name)
                    .instance_profile_name(profile)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("removing IAM role {name} from instance profile {profile}")),
            )?;
        }
        gone(
            self.iam
                .delete_role()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting IAM role {name}")),
        )
    }
}
