//! Ownership: which resources found in the account are this project's
//! (the `agentform:project` / `agentform:resource` tags), and the tag
//! changes that keep them so.

use std::collections::BTreeSet;

use crate::model::{Address, Kind, Owner, Tags, Wanted};
use crate::names::{TAG_PROJECT, TAG_REGION, TAG_RESOURCE};

/// What one `observe` call looks for.
pub(crate) struct Scope<'a> {
    pub project: &'a str,
    /// The region of the stack being planned.
    pub region: &'a str,
    pub wanted: &'a [Wanted],
}

impl Scope<'_> {
    /// Physical names looked up for `kind`.
    pub fn names(&self, kind: Kind) -> BTreeSet<&str> {
        self.wanted
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.name.as_str())
            .collect()
    }

    /// Whether `tags` mark a resource as this project's.
    pub fn tagged_ours(&self, tags: &Tags) -> bool {
        tags.get(TAG_PROJECT).map(String::as_str) == Some(self.project)
    }

    /// Owner from the ownership tags. A resource tagged for this project
    /// whose `agentform:resource` tag is missing, unparseable or of another
    /// kind is unproven: nothing will touch it, and destroy says so.
    pub fn owner(&self, kind: Kind, tags: &Tags) -> Owner {
        match tags.get(TAG_PROJECT) {
            Some(p)
                if p == self.project
                    && kind.scope() == crate::model::Scope::Account
                    && tags.get(TAG_REGION).is_some_and(|r| r != self.region) =>
            {
                Owner::OtherRegion(tags[TAG_REGION].clone())
            }
            Some(p) if p == self.project => {
                match tags.get(TAG_RESOURCE).and_then(|r| Address::parse(r)) {
                    Some(a) if a.kind() == kind => Owner::Ours(a),
                    _ => Owner::Unproven,
                }
            }
            Some(p) => Owner::OtherProject(p.clone()),
            None => Owner::Foreign,
        }
    }
}

/// Tags to set (new or changed values) and keys to remove to go from `have` to `want`.
pub(crate) fn tag_changes(have: &Tags, want: &Tags) -> (Tags, Vec<String>) {
    let set: Tags = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// Whether a resource found under the name of one being created carries the
/// ownership tags of exactly that resource (so it is the result of an earlier
/// attempt of this very create, and can be adopted).
pub(crate) fn same_owner_tags(found: &Tags, want: &Tags) -> bool {
    want.get(TAG_PROJECT).is_some()
        && [TAG_PROJECT, TAG_RESOURCE]
            .iter()
            .all(|k| found.get(*k) == want.get(*k))
}

impl super::Aws {
    /// Adds `tags` (the ownership tags) to an existing resource, leaving its
    /// other tags as they are: `agentform import`.
    pub async fn adopt(&self, o: &crate::model::Observed, tags: &Tags) -> anyhow::Result<()> {
        use super::error::SdkResultExt as _;
        let name = o.config.display_name();
        let arn = || {
            o.ids
                .arn
                .clone()
                .ok_or_else(|| anyhow::anyhow!("{} {name} has no known ARN", o.kind()))
        };
        match o.kind() {
            Kind::Role => {
                self.iam
                    .tag_role()
                    .role_name(&name)
                    .set_tags(Some(super::iam::iam_tags(tags)?))
                    .send()
                    .await
                    .ctx(|| format!("tagging IAM role {name}"))?;
            }
            Kind::Function => {
                self.lambda
                    .tag_resource()
                    .resource(arn()?)
                    .set_tags(Some(super::lambda::hash_map(tags)))
                    .send()
                    .await
                    .ctx(|| format!("tagging Lambda function {name}"))?;
            }
            Kind::Repository => {
                self.ecr
                    .tag_resource()
                    .resource_arn(arn()?)
                    .set_tags(Some(super::ecr::ecr_tags(tags)?))
                    .send()
                    .await
                    .ctx(|| format!("tagging ECR repository {name}"))?;
            }
            Kind::Bucket => {
                // PutBucketTagging replaces the set: keep the others.
                let mut all = self.bucket_tags(&name).await?;
                all.extend(tags.clone());
                let set = all
                    .iter()
                    .map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()?;
                self.s3
                    .put_bucket_tagging()
                    .bucket(&name)
                    .tagging(
                        aws_sdk_s3::types::Tagging::builder()
                            .set_tag_set(Some(set))
                            .build()?,
                    )
                    .send()
                    .await
                    .ctx(|| format!("tagging S3 bucket {name}"))?;
            }
            Kind::Gateway
            | Kind::Runtime
            | Kind::Memory
            | Kind::ApiKeyProvider
            | Kind::OAuthProvider
            | Kind::PolicyEngine => {
                self.agentcore
                    .tag_resource()
                    .resource_arn(arn()?)
                    .set_tags(Some(super::agentcore::tags_map(tags)))
                    .send()
                    .await
                    .ctx(|| format!("tagging {} {name}", o.kind()))?;
            }
            Kind::UserPool => {
                self.cognito
                    .tag_resource()
                    .resource_arn(arn()?)
                    .set_tags(Some(super::agentcore::tags_map(tags)))
                    .send()
                    .await
                    .ctx(|| format!("tagging Cognito user pool {name}"))?;
            }
            Kind::RolePolicy
            | Kind::GatewayTarget
            | Kind::RuntimeEndpoint
            | Kind::Policy
            | Kind::M2mClient => {
                anyhow::bail!(
                    "{} {name} has no tags of its own: it belongs to its parent's project",
                    o.kind()
                )
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_and_ownership() {
        let t = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Tags>()
        };
        let (set, remove) = tag_changes(
            &t(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &t(&[("a", "1"), ("b", "x"), ("d", "4")]),
        );
        assert_eq!(set, t(&[("b", "x"), ("d", "4")]));
        assert_eq!(remove, vec!["c".to_string()]);

        let scope = Scope {
            project: "demo",
            region: "us-east-1",
            wanted: &[],
        };
        let ours = t(&[(TAG_PROJECT, "demo"), (TAG_RESOURCE, "gateway.main")]);
        assert_eq!(
            scope.owner(Kind::Gateway, &ours),
            Owner::Ours(Address::Gateway("main".into()))
        );
        assert_eq!(scope.owner(Kind::Runtime, &ours), Owner::Unproven);
        assert_eq!(
            scope.owner(Kind::Gateway, &t(&[(TAG_PROJECT, "demo")])),
            Owner::Unproven
        );
        assert_eq!(
            scope.owner(Kind::Gateway, &t(&[(TAG_PROJECT, "other")])),
            Owner::OtherProject("other".into())
        );
        assert_eq!(scope.owner(Kind::Gateway, &t(&[])), Owner::Foreign);
        // A role of this project's stack in another region is not ours here.
        let role = t(&[
            (TAG_PROJECT, "demo"),
            (TAG_RESOURCE, "iam_role.gw-main"),
            (TAG_REGION, "eu-west-1"),
        ]);
        assert_eq!(
            scope.owner(Kind::Role, &role),
            Owner::OtherRegion("eu-west-1".into())
        );
        let here = t(&[
            (TAG_PROJECT, "demo"),
            (TAG_RESOURCE, "iam_role.gw-main"),
            (TAG_REGION, "us-east-1"),
        ]);
        assert!(matches!(scope.owner(Kind::Role, &here), Owner::Ours(_)));
        assert!(same_owner_tags(&ours, &ours));
        assert!(!same_owner_tags(
            &t(&[(TAG_PROJECT, "demo"), (TAG_RESOURCE, "gateway.x")]),
            &ours
        ));
        assert!(!same_owner_tags(&t(&[]), &t(&[])));
    }
}
