//! IAM roles and their inline policy.
//!
//! Observe: the account's roles with their inline and attached policies from
//! one paginated GetAccountAuthorizationDetails (roles only); of those named
//! by lookups or under the project's IAM path, GetRole each (the details
//! lack the description). The agentform inline policy (and any looked-up
//! policy name) comes from the details; on the project's roles any other
//! inline or attached policy is drift that apply removes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result, anyhow};
use aws_sdk_iam::types::{EntityType, Role, RoleDetail, Tag};
use futures::{StreamExt, TryStreamExt};

use super::{CONCURRENCY, Scope, SdkResultExt, found, gone, same_owner_tags, tag_changes};
use crate::model::{
    Address, Config, Ids, Kind, Observed, Progress, RoleConfig, RolePolicyConfig, Tags,
};
use crate::names::{POLICY_NAME, role_path};

fn tags_of(role: &Role) -> Tags {
    role.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

pub(super) fn iam_tags(tags: &Tags) -> Result<Vec<Tag>> {
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
        // Filled in for the project's roles by `observe_roles`.
        other_inline_policies: vec![],
        managed_policies: vec![],
    })
}

/// The inline policy names and attached managed policy ARNs in a role's
/// details, each sorted.
fn listed_policies(d: &RoleDetail) -> (Vec<String>, Vec<String>) {
    let mut inline: Vec<String> = d
        .role_policy_list()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_string))
        .collect();
    inline.sort();
    (inline, sorted_arns(d.attached_managed_policies()))
}

/// The ARNs of attached managed policies, sorted.
fn sorted_arns(attached: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    let mut arns: Vec<String> = attached
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    arns.sort();
    arns
}

/// The inline policy documents in a role's details, by policy name.
fn inline_documents(d: &RoleDetail) -> Result<BTreeMap<String, serde_json::Value>> {
    d.role_policy_list()
        .iter()
        .filter_map(|p| Some((p.policy_name()?, p.policy_document()?)))
        .map(|(name, doc)| {
            let doc = decode_policy(doc).with_context(|| {
                format!(
                    "reading inline policy {name} of IAM role {}",
                    d.role_name().unwrap_or("?")
                )
            })?;
            Ok((name.to_string(), doc))
        })
        .collect()
}

// IAM documents

/// IAM returns policy documents URL-encoded (RFC 3986, `+` sent as `%2B`):
/// decode, then parse.
pub(crate) fn decode_policy(raw: &str) -> Result<serde_json::Value> {
    let decoded = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        url_decode(raw)?
    };
    serde_json::from_str(&decoded)
        .with_context(|| format!("policy document is not JSON: {decoded}"))
}

fn url_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or_else(|| anyhow!("bad %-escape at byte {i}"))?;
                out.push(
                    u8::from_str_radix(hex, 16).map_err(|_| anyhow!("bad %-escape `%{hex}`"))?,
                );
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).context("policy document is not UTF-8")
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

    /// Every role of the account with its inline policies (documents
    /// included) and attached managed policies, from
    /// GetAccountAuthorizationDetails: one paginated read instead of
    /// ListRoles plus, per role, ListRolePolicies, ListAttachedRolePolicies
    /// and GetRolePolicy.
    async fn role_details(&self) -> Result<Vec<RoleDetail>> {
        let pages: Vec<_> = self
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .ctx(|| "reading the account's IAM roles (GetAccountAuthorizationDetails)".into())?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.role_detail_list.unwrap_or_default())
            .collect())
    }

    /// Roles named by the plan's lookups, plus the project's roles under
    /// its IAM path that carry its tags. Their policies come with the
    /// account's role details ([`Aws::role_details`]); GetRole, which has
    /// the description, is sent only for roles that exist and are looked
    /// up or under the project's path (a plan of a new stack reads no role).
    pub(super) async fn observe_roles(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = s.names(Kind::Role);
        let path = role_path(s.project);
        // All paths: a role of a looked-up name may sit under another path,
        // and is a conflict.
        let details: HashMap<String, RoleDetail> = self
            .role_details()
            .await?
            .into_iter()
            .filter_map(|d| {
                let name = d.role_name()?.to_string();
                let keep = looked_up.contains(name.as_str())
                    || d.path().is_some_and(|p| p.starts_with(&path));
                keep.then_some((name, d))
            })
            .collect();
        let roles: Vec<Role> = futures::stream::iter(details.keys())
            .map(|n| async move { self.get_role(n).await })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|r| async move { Ok(r) })
            .try_collect()
            .await?;
        let mut out = Vec::new();
        let mut seen = HashMap::new();
        for role in roles {
            let tags = tags_of(&role);
            let emit = looked_up.contains(role.role_name())
                || (role.path().starts_with(&path) && s.tagged_ours(&tags));
            if !emit {
                continue;
            }
            let mut config = role_config(&role)?;
            // Every role read was named by the details.
            let detail = &details[role.role_name()];
            // Every policy on a role of the project's is the project's
            // business: any but agentform's own is drift.
            if s.tagged_ours(&tags) {
                let (inline, managed) = listed_policies(detail);
                config.other_inline_policies =
                    inline.into_iter().filter(|p| p != POLICY_NAME).collect();
                config.managed_policies = managed;
            }
            seen.insert(role.role_name().to_string(), inline_documents(detail)?);
            out.push(Observed {
                ids: Ids {
                    arn: Some(role.arn().to_string()),
                    ..Ids::default()
                },
                parent_ids: Ids::default(),
                status: None,
                status_reasons: vec![],
                owner: s.owner(Kind::Role, &tags),
                config: Config::Role(config),
            });
        }
        *self.role_documents.lock().expect("role documents") = seen;
        Ok(out)
    }

    /// Every inline policy name and attached managed policy ARN of a role
    /// (both sorted); `None` when the role is gone.
    async fn role_policies(&self, name: &str) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let inline: Option<Vec<String>> = found(
            self.iam
                .list_role_policies()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx(|| format!("listing inline policies of IAM role {name}")),
        )?;
        let Some(mut inline) = inline else {
            return Ok(None);
        };
        let attached: Vec<aws_sdk_iam::types::AttachedPolicy> = found(
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
        inline.sort();
        Ok(Some((inline, sorted_arns(&attached))))
    }

    /// Deletes the named inline policies and detaches the managed ones.
    async fn remove_policies(
        &self,
        name: &str,
        inline: &[String],
        managed: &[String],
    ) -> Result<()> {
        for p in inline {
            gone(
                self.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(p)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting inline policy {p} of IAM role {name}")),
            )?;
        }
        for arn in managed {
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
        Ok(())
    }

    /// The agentform inline policy of an observed role, and any other
    /// policy name the plan looks up on it.
    pub(super) async fn observe_role_policies(
        &self,
        s: &Scope<'_>,
        role: &Observed,
    ) -> Result<Vec<Observed>> {
        let mut names: BTreeSet<&str> = s
            .wanted
            .iter()
            .filter(|w| w.kind == Kind::RolePolicy && w.parent.as_deref() == Some(role.name()))
            .map(|w| w.name.as_str())
            .collect();
        names.insert(POLICY_NAME);
        let role_name = role.name();
        // The documents came with the role's details; a role observed
        // without them (none so far) has them read one by one.
        let known = self
            .role_documents
            .lock()
            .expect("role documents")
            .get(role_name)
            .cloned();
        let known = &known;
        futures::stream::iter(names)
            .map(|policy| async move {
                let doc = match known {
                    Some(docs) => docs.get(policy).cloned(),
                    None => self.get_role_policy(role_name, policy).await?,
                };
                Ok::<_, anyhow::Error>(doc.map(|document| Observed {
                    ids: Ids::default(),
                    parent_ids: role.ids.clone(),
                    status: None,
                    status_reasons: vec![],
                    owner: role.child_owner(Kind::RolePolicy, policy),
                    config: Config::RolePolicy(RolePolicyConfig {
                        role: role_name.to_string(),
                        name: policy.to_string(),
                        document: document.into(),
                    }),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
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
            .policy_document(
                c.document
                    .to_json()
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "internal error: inline policy of IAM role {} has unknown values",
                            c.role
                        )
                    })?
                    .to_string(),
            )
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
        // Policies not in the spec go: agentform's inline policy is the
        // role's only permission.
        let unwanted = |have: &[String], want: &[String]| -> Vec<String> {
            have.iter().filter(|p| !want.contains(p)).cloned().collect()
        };
        self.remove_policies(
            name,
            &unwanted(&have.other_inline_policies, &want.other_inline_policies),
            &unwanted(&have.managed_policies, &want.managed_policies),
        )
        .await?;
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
        let Some((inline, managed)) = self.role_policies(name).await? else {
            return Ok(());
        };
        self.remove_policies(name, &inline, &managed).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_iam_documents() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Sid%22%3A%22a+b%2Bc%22%7D%5D%7D";
        assert_eq!(
            decode_policy(raw).unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole", "Sid": "a b+c"}]})
        );
        assert_eq!(decode_policy(r#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert!(decode_policy("%7").is_err());
    }
}
