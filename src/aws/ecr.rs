//! ECR repositories.
//!
//! Observe: DescribeRepositories (all, paginated), keep those looked up by
//! name or named `{project}/…`, then ListTagsForResource each (the describe
//! call returns no tags), and for the project's own repositories
//! GetRepositoryPolicy: a policy set out of band is drift, removed by apply.

use anyhow::{Context, Result, anyhow};
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use futures::{StreamExt, TryStreamExt};

use super::{
    CONCURRENCY, Scope, SdkResultExt, error_code, found, gone, is_not_found, same_owner_tags,
    tag_changes,
};
use crate::model::{Address, Config, Ids, Kind, Observed, RepositoryConfig, Tags, Val};

pub(super) fn ecr_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .context("building an ECR tag")
        })
        .collect()
}

fn ids(r: &Repository) -> Ids {
    Ids {
        arn: r.repository_arn().map(str::to_string),
        id: None,
        version: None,
        url: r.repository_uri().map(str::to_string),
    }
}

impl super::Aws {
    async fn repository_tags(&self, name: &str, arn: &str) -> Result<Option<Tags>> {
        let out = found(
            self.ecr
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .ctx(|| format!("reading the tags of ECR repository {name}")),
        )?;
        Ok(out.map(|o| {
            o.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        }))
    }

    pub(super) async fn observe_ecr(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let looked_up = &s.names(Kind::Repository);
        let prefix = crate::names::prefix(Kind::Repository, s.project).unwrap_or_default();
        let listed: Vec<Repository> = self
            .ecr
            .describe_repositories()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx(|| "listing ECR repositories".into())?;
        let candidates: Vec<Repository> = listed
            .into_iter()
            .filter(|r| {
                r.repository_name()
                    .is_some_and(|n| looked_up.contains(n) || n.starts_with(&prefix))
            })
            .collect();

        futures::stream::iter(candidates)
            .map(|r| async move {
                let name = r.repository_name().unwrap_or_default().to_string();
                let Some(arn) = r.repository_arn() else {
                    return Ok(None);
                };
                let Some(tags) = self.repository_tags(&name, arn).await? else {
                    return Ok(None);
                };
                if !looked_up.contains(name.as_str()) && !s.tagged_ours(&tags) {
                    return Ok(None);
                }
                // The repository policy is part of what the project owns.
                let policy = if s.tagged_ours(&tags) {
                    self.repository_policy(&name).await?
                } else {
                    Val::Null
                };
                Ok::<_, anyhow::Error>(Some(Observed {
                    ids: ids(&r),
                    parent_ids: Ids::default(),
                    status: None,
                    status_reasons: vec![],
                    owner: s.owner(Kind::Repository, &tags),
                    config: Config::Repository(RepositoryConfig {
                        name,
                        scan_on_push: r
                            .image_scanning_configuration()
                            .is_some_and(|c| c.scan_on_push()),
                        tag_mutability: r
                            .image_tag_mutability()
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_else(|| "MUTABLE".to_string()),
                        // Not an AWS attribute: the planner decides it.
                        force_delete: false,
                        tags,
                        policy,
                    }),
                }))
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|o| async move { Ok(o) })
            .try_collect()
            .await
    }

    /// The repository's policy document, `null` when it has none.
    async fn repository_policy(&self, name: &str) -> Result<Val> {
        let res = self
            .ecr
            .get_repository_policy()
            .repository_name(name)
            .send()
            .await
            .ctx(|| format!("reading the policy of ECR repository {name}"));
        match res {
            Ok(out) => match out.policy_text() {
                Some(t) => Ok(Val::from(
                    serde_json::from_str::<serde_json::Value>(t)
                        .with_context(|| format!("reading the policy of ECR repository {name}"))?,
                )),
                None => Ok(Val::Null),
            },
            Err(e)
                if is_not_found(&e)
                    || error_code(&e) == Some("RepositoryPolicyNotFoundException") =>
            {
                Ok(Val::Null)
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn create_repository(
        &self,
        addr: &Address,
        c: &RepositoryConfig,
    ) -> Result<Ids> {
        let res = self
            .ecr
            .create_repository()
            .repository_name(&c.name)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(c.scan_on_push)
                    .build(),
            )
            .image_tag_mutability(ImageTagMutability::from(c.tag_mutability.as_str()))
            .set_tags(Some(ecr_tags(&c.tags)?))
            .send()
            .await
            .ctx(|| format!("creating ECR repository {}", c.name));
        match res {
            Ok(out) => out
                .repository()
                .map(ids)
                .ok_or_else(|| anyhow!("CreateRepository returned no repository for {}", c.name)),
            Err(e) if error_code(&e) == Some("RepositoryAlreadyExistsException") => {
                // An earlier attempt of this create may have succeeded.
                let existing = found(
                    self.ecr
                        .describe_repositories()
                        .repository_names(&c.name)
                        .send()
                        .await
                        .ctx(|| format!("reading ECR repository {}", c.name)),
                )?;
                let repo = existing.and_then(|o| o.repositories().first().cloned());
                if let Some(r) = repo
                    && let Some(arn) = r.repository_arn()
                    && let Some(tags) = self.repository_tags(&c.name, arn).await?
                    && same_owner_tags(&tags, &c.tags)
                {
                    return Ok(ids(&r));
                }
                Err(e.context(format!(
                    "{addr}: an ECR repository named {} already exists and is not this one",
                    c.name
                )))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn update_repository(
        &self,
        want: &RepositoryConfig,
        have: &RepositoryConfig,
        current: &Observed,
    ) -> Result<Ids> {
        let name = &want.name;
        if want.policy == Val::Null && have.policy != Val::Null {
            // agentform wants no repository policy: one set out of band goes.
            gone(
                self.ecr
                    .delete_repository_policy()
                    .repository_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .ctx(|| format!("deleting the policy of ECR repository {name}")),
            )
            .or_else(|e| {
                if error_code(&e) == Some("RepositoryPolicyNotFoundException") {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        }
        if want.scan_on_push != have.scan_on_push {
            self.ecr
                .put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(want.scan_on_push)
                        .build(),
                )
                .send()
                .await
                .ctx(|| format!("changing scan-on-push of ECR repository {name}"))?;
        }
        if want.tag_mutability != have.tag_mutability {
            self.ecr
                .put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(want.tag_mutability.as_str()))
                .send()
                .await
                .ctx(|| format!("changing tag mutability of ECR repository {name}"))?;
        }
        let (set, remove) = tag_changes(&have.tags, &want.tags);
        if !set.is_empty() || !remove.is_empty() {
            let arn = current
                .ids
                .arn
                .clone()
                .ok_or_else(|| anyhow!("ECR repository {name} has no known ARN"))?;
            if !set.is_empty() {
                self.ecr
                    .tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(ecr_tags(&set)?))
                    .send()
                    .await
                    .ctx(|| format!("tagging ECR repository {name}"))?;
            }
            if !remove.is_empty() {
                self.ecr
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .ctx(|| format!("untagging ECR repository {name}"))?;
            }
        }
        Ok(current.ids.clone())
    }

    /// Digest of the image `repository:tag`, or `None` when the repository
    /// or the tag does not exist (yet).
    /// Whether the repository holds any image (a delete without `force`
    /// would be refused).
    pub async fn has_images(&self, repository: &str) -> Result<bool> {
        let res = self
            .ecr
            .list_images()
            .repository_name(repository)
            .max_results(1)
            .send()
            .await
            .ctx(|| format!("listing the images of {repository}"));
        match res {
            Ok(out) => Ok(!out.image_ids().is_empty()),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn image_digest(&self, repository: &str, tag: &str) -> Result<Option<String>> {
        let res = self
            .ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_tag(tag)
                    .build(),
            )
            .send()
            .await
            .ctx(|| format!("reading image {repository}:{tag}"));
        match res {
            Ok(out) => Ok(out
                .image_details()
                .first()
                .and_then(|d| d.image_digest())
                .map(str::to_string)),
            Err(e) if is_not_found(&e) || error_code(&e) == Some("ImageNotFoundException") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Builds and pushes `uri` (`<registry>/<repo>:<tag>`) unless the tag
    /// is in the repository already; the URI pinned by the pushed digest.
    pub(super) async fn ensure_image(
        &self,
        uri: &str,
        build: &crate::image::ImageBuild,
        addr: &crate::model::Address,
        progress: &dyn crate::model::Progress,
    ) -> Result<String> {
        let (registry, rest) = uri
            .split_once('/')
            .ok_or_else(|| anyhow::anyhow!("internal error: `{uri}` names no registry"))?;
        let (repository, tag) = rest
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("internal error: `{uri}` names no tag"))?;
        if let Some(digest) = self.image_digest(repository, tag).await? {
            return Ok(format!("{uri}@{digest}"));
        }
        let token = self
            .ecr
            .get_authorization_token()
            .send()
            .await
            .ctx(|| "getting an ECR authorization token".into())?;
        let encoded = token
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or_else(|| anyhow::anyhow!("ECR GetAuthorizationToken returned no token"))?;
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| anyhow::anyhow!("ECR authorization token is not base64: {e}"))?;
        let password = String::from_utf8_lossy(&decoded)
            .split_once(':')
            .map(|(_, p)| p.to_string())
            .ok_or_else(|| anyhow::anyhow!("ECR authorization token is not USER:PASSWORD"))?;
        progress.note(
            addr,
            &format!("building and pushing {repository}:{tag} for linux/arm64"),
        );
        let (b, image, registry) = (build.clone(), uri.to_string(), registry.to_string());
        tokio::task::spawn_blocking(move || b.build_and_push(&image, &registry, &password))
            .await
            .map_err(|e| anyhow::anyhow!("building the image: {e}"))??;
        let digest = self.image_digest(repository, tag).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "the build pushed no image {repository}:{tag} (the container tool reported success)"
            )
        })?;
        Ok(format!("{uri}@{digest}"))
    }

    pub(super) async fn delete_repository(&self, name: &str, force: bool) -> Result<()> {
        let res = self
            .ecr
            .delete_repository()
            .repository_name(name)
            .force(force)
            .send()
            .await
            .map(|_| ())
            .ctx(|| format!("deleting ECR repository {name}"));
        match res {
            Err(e) if error_code(&e) == Some("RepositoryNotEmptyException") => {
                Err(e.context(format!("ECR repository {name} still holds images; set `force_delete: true` on it to delete them with it")))
            }
            other => gone(other),
        }
    }
}
