//! The steps each command is made of, above the pure core and the AWS layer:
//! package, observe, plan. The CLI calls these; so can tests.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::aws::Aws;
use crate::desired::{self, Artifacts, Known};
use crate::model::{Account, Config, Desired, Lookup, Observed};
use crate::package::{self, Package};
use crate::plan::{self, Plan};
use crate::spec::{ArtifactSpec, LoadedSpec};

/// Everything a plan was computed from, kept for apply.
pub struct Planned {
    pub plan: Plan,
    pub account: Account,
    pub artifacts: Artifacts,
    pub known: Known,
    pub observed: Vec<Observed>,
}

/// Zips every function's source directory.
pub fn package_all(l: &LoadedSpec) -> Result<BTreeMap<String, Package>> {
    l.spec
        .functions
        .iter()
        .map(|(k, f)| {
            let dir = l.function_dir(f);
            package::package_dir(&dir)
                .with_context(|| format!("packaging function `{k}` from {}", dir.display()))
                .map(|p| (k.clone(), p))
        })
        .collect()
}

/// The digest each container runtime's image tag points at now, read from
/// ECR in parallel; runtimes whose image is not pushed yet are left out.
pub async fn image_digests(aws: &Aws, l: &LoadedSpec) -> Result<BTreeMap<String, String>> {
    let project = &l.spec.project;
    let reads = l
        .spec
        .runtimes
        .iter()
        .filter_map(|(key, r)| match &r.artifact {
            ArtifactSpec::Container(c) => {
                let repo = crate::names::repository(project, &c.repository);
                let tag = c
                    .tag
                    .clone()
                    .unwrap_or_else(|| desired::DEFAULT_TAG.to_string());
                Some(async move {
                    aws.image_digest(&repo, &tag)
                        .await
                        .map(|d| d.map(|d| (key.clone(), d)))
                })
            }
            ArtifactSpec::Image(_) => None,
        });
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

fn lookups(desired: &[Desired]) -> Vec<Lookup> {
    desired
        .iter()
        .map(|d| {
            let (name, parent) = match &d.config {
                Config::Target(t) => (t.name.clone(), Some(t.gateway.clone())),
                Config::RolePolicy(p) => (p.name.clone(), Some(p.role.clone())),
                other => (
                    other
                        .attrs()
                        .get("name")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    None,
                ),
            };
            Lookup {
                kind: d.addr.kind,
                name,
                parent,
            }
        })
        .collect()
}

/// Observes the account and diffs it against the spec. With `destroy`, the
/// spec's resources are not wanted: everything the project owns is deleted.
pub async fn plan(aws: &Aws, l: &LoadedSpec, destroy: bool) -> Result<Planned> {
    let account = aws.account().await?;
    let artifacts = if destroy {
        Artifacts::default()
    } else {
        Artifacts {
            packages: package_all(l)?,
            image_digests: image_digests(aws, l).await?,
        }
    };
    let wanted = desired::build(l, &account, &artifacts, &Known::new());
    let observed = aws
        .observe(&account, &l.spec.project, &lookups(&wanted))
        .await?;
    let mut known = plan::known_ids(&observed);
    let conflicts_err = |c: Vec<plan::Conflict>| {
        anyhow::anyhow!(
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    if destroy {
        let mut p = plan::diff(&[], &observed).map_err(conflicts_err)?;
        for c in &mut p.changes {
            c.reason = None;
        }
        return Ok(Planned {
            plan: p,
            account,
            artifacts,
            known,
            observed,
        });
    }
    let mut p = plan::diff(&desired::build(l, &account, &artifacts, &known), &observed)
        .map_err(conflicts_err)?;
    // Resources that will be replaced get new ids: references to them are
    // unknown until apply.
    let unstable = plan::unstable(&p);
    if unstable.iter().any(|a| known.contains_key(a)) {
        known.retain(|a, _| !unstable.contains(a));
        p = plan::diff(&desired::build(l, &account, &artifacts, &known), &observed)
            .map_err(conflicts_err)?;
    }
    Ok(Planned {
        plan: p,
        account,
        artifacts,
        known: plan::known_ids(&observed),
        observed,
    })
}
