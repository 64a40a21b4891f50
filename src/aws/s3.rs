//! The project's S3 bucket of code bundles: observe, create, update,
//! empty-then-delete; and uploading a bundle under its content-addressed key.

use anyhow::{Result, anyhow, bail};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, PublicAccessBlockConfiguration, Tag, Tagging, VersioningConfiguration,
};

use super::{Scope, SdkResultExt, error_code};
use crate::model::{Address, BucketConfig, Config, Ids, Kind, Observed, Tags};

/// The error codes S3 answers "no such bucket" with (HeadBucket has no body).
fn gone(e: &anyhow::Error) -> bool {
    matches!(error_code(e), Some("NoSuchBucket" | "NotFound" | "404")) || super::is_not_found(e)
}

impl super::Aws {
    pub(super) async fn observe_buckets(&self, s: &Scope<'_>) -> Result<Vec<Observed>> {
        let account = self.account().await?;
        let wanted: Vec<String> = s
            .names(Kind::Bucket)
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut out = Vec::new();
        for name in &wanted {
            if let Some(o) = self.observe_bucket(s, name).await? {
                out.push(o);
            }
        }
        // The project's bucket is looked for even when the spec no longer
        // has code runtimes (so destroy finds it); then a caller without S3
        // permissions (a project that never had one) is not an error.
        let ours = crate::names::bucket(s.project, &account.id, &account.region);
        if !wanted.contains(&ours) {
            match self.observe_bucket(s, &ours).await {
                Ok(found) => out.extend(found),
                Err(e) if matches!(error_code(&e), Some("AccessDenied" | "Forbidden" | "403")) => {
                    tracing::debug!("not reading S3 bucket {ours}: {e:#}");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn observe_bucket(&self, s: &Scope<'_>, name: &str) -> Result<Option<Observed>> {
        let head = self
            .s3
            .head_bucket()
            .bucket(name)
            .send()
            .await
            .ctx(|| format!("reading S3 bucket {name}"));
        match head {
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let tags = self.bucket_tags(name).await?;
        let versioning = self
            .s3
            .get_bucket_versioning()
            .bucket(name)
            .send()
            .await
            .ctx(|| format!("reading the versioning of S3 bucket {name}"))?
            .status()
            == Some(&BucketVersioningStatus::Enabled);
        let blocked = match self
            .s3
            .get_public_access_block()
            .bucket(name)
            .send()
            .await
            .ctx(|| format!("reading the public access block of S3 bucket {name}"))
        {
            Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                [
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                ]
                .iter()
                .all(|v| *v == Some(true))
            }),
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => false,
            Err(e) => return Err(e),
        };
        Ok(Some(Observed {
            ids: Ids {
                arn: Some(format!("arn:{}:s3:::{name}", self.partition().await?)),
                id: Some(name.to_string()),
                url: None,
                version: None,
            },
            parent_ids: Ids::default(),
            status: None,
            status_reasons: vec![],
            owner: s.owner(Kind::Bucket, &tags),
            config: Config::Bucket(BucketConfig {
                name: name.to_string(),
                versioning,
                public_access_blocked: blocked,
                tags,
            }),
        }))
    }

    async fn partition(&self) -> Result<String> {
        Ok(self.account().await?.partition)
    }

    pub(super) async fn bucket_tags(&self, name: &str) -> Result<Tags> {
        match self
            .s3
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .ctx(|| format!("reading the tags of S3 bucket {name}"))
        {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()),
            Err(e) if error_code(&e) == Some("NoSuchTagSet") => Ok(Tags::new()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn create_bucket(&self, addr: &Address, c: &BucketConfig) -> Result<Ids> {
        let account = self.account().await?;
        let mut req = self.s3.create_bucket().bucket(&c.name);
        // us-east-1 is the one region that takes no location constraint.
        if account.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(account.region.as_str()))
                    .build(),
            );
        }
        match req
            .send()
            .await
            .ctx(|| format!("creating S3 bucket {}", c.name))
        {
            Ok(_) => {}
            // A retry of a create that had succeeded: ours only if tagged so.
            Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {
                let tags = self.bucket_tags(&c.name).await?;
                if !super::same_owner_tags(&tags, &c.tags) {
                    bail!(
                        "{addr}: S3 bucket {} already exists in this account and is not this project's; delete or rename it",
                        c.name
                    );
                }
            }
            Err(e) => return Err(e),
        }
        self.configure_bucket(c).await?;
        Ok(Ids {
            arn: Some(format!("arn:{}:s3:::{}", account.partition, c.name)),
            id: Some(c.name.clone()),
            url: None,
            version: None,
        })
    }

    /// Versioning, the public access block and the tags, whole.
    pub(super) async fn configure_bucket(&self, c: &BucketConfig) -> Result<()> {
        let name = &c.name;
        self.s3
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(c.public_access_blocked)
                    .ignore_public_acls(c.public_access_blocked)
                    .block_public_policy(c.public_access_blocked)
                    .restrict_public_buckets(c.public_access_blocked)
                    .build(),
            )
            .send()
            .await
            .ctx(|| format!("blocking public access to S3 bucket {name}"))?;
        self.s3
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(if c.versioning {
                        BucketVersioningStatus::Enabled
                    } else {
                        BucketVersioningStatus::Suspended
                    })
                    .build(),
            )
            .send()
            .await
            .ctx(|| format!("enabling versioning of S3 bucket {name}"))?;
        let tags = c
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()?;
        self.s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
            .send()
            .await
            .ctx(|| format!("tagging S3 bucket {name}"))?;
        Ok(())
    }

    /// Empties the bucket (every object version and delete marker), then
    /// deletes it. Gone at any point is done.
    pub(super) async fn delete_bucket(&self, name: &str) -> Result<()> {
        loop {
            let listed = self
                .s3
                .list_object_versions()
                .bucket(name)
                .max_keys(1000)
                .send()
                .await
                .ctx(|| format!("listing the objects of S3 bucket {name}"));
            let listed = match listed {
                Err(e) if gone(&e) => return Ok(()),
                other => other?,
            };
            let mut batch = Vec::new();
            for v in listed.versions() {
                batch.push((v.key(), v.version_id()));
            }
            for m in listed.delete_markers() {
                batch.push((m.key(), m.version_id()));
            }
            if batch.is_empty() {
                break;
            }
            let objects = batch
                .into_iter()
                .map(|(k, v)| {
                    ObjectIdentifier::builder()
                        .key(k.unwrap_or_default())
                        .set_version_id(v.map(str::to_string))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let n = objects.len();
            let out = self
                .s3
                .delete_objects()
                .bucket(name)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .ctx(|| format!("deleting {n} objects of S3 bucket {name}"))?;
            if let Some(err) = out.errors().first() {
                bail!(
                    "deleting objects of S3 bucket {name}: {} {}: {}",
                    err.key().unwrap_or_default(),
                    err.code().unwrap_or_default(),
                    err.message().unwrap_or_default()
                );
            }
        }
        match self
            .s3
            .delete_bucket()
            .bucket(name)
            .send()
            .await
            .ctx(|| format!("deleting S3 bucket {name}"))
        {
            Err(e) if gone(&e) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Uploads the bundle to `bucket/key` unless that key is there already
    /// (the key names the bundle's inputs, so the object is the same).
    pub(super) async fn ensure_bundle(
        &self,
        bucket: &str,
        key: &str,
        bundle: &crate::bundle::Bundle,
        addr: &crate::model::Address,
        progress: &dyn crate::model::Progress,
    ) -> Result<()> {
        let head = self
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .ctx(|| format!("reading s3://{bucket}/{key}"));
        match head {
            Ok(_) => return Ok(()),
            Err(e) if gone(&e) || error_code(&e) == Some("NoSuchKey") => {}
            Err(e) => return Err(e),
        }
        progress.note(
            addr,
            &format!(
                "building the code bundle {} (installing requirements for Linux ARM64 unless cached)",
                &bundle.hash[..12.min(bundle.hash.len())]
            ),
        );
        let b = bundle.clone();
        let zip = tokio::task::spawn_blocking(move || b.build())
            .await
            .map_err(|e| anyhow!("building the code bundle: {e}"))??;
        tracing::debug!(bytes = zip.len(), key, "uploading the code bundle");
        progress.note(
            addr,
            &format!(
                "uploading the code bundle ({:.1} MB)",
                zip.len() as f64 / 1_000_000.0
            ),
        );
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/zip")
            .body(aws_sdk_s3::primitives::ByteStream::from(zip))
            .send()
            .await
            .ctx(|| format!("uploading the code bundle to s3://{bucket}/{key}"))?;
        Ok(())
    }
}
