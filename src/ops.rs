//! The steps each command is made of, above the pure core and the AWS layer:
//! package, observe, plan. The CLI calls these; so can tests.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::aws::Aws;
use crate::bundle::Bundle;
use crate::model::{Account, Known, Observed, Wanted};
use crate::package::{self, Package};
use crate::plan::desired::{self, Artifacts};
use crate::plan::{self, Mode, Plan};
use crate::spec::validate::source_diagnostics;
use crate::spec::yaml::escape;
use crate::spec::{ArtifactSpec, LoadError, LoadedSpec};

/// A plan and what it was computed from.
pub struct Planned {
    pub plan: Plan,
    pub account: Account,
    pub observed: Vec<Observed>,
    /// Repositories the plan deletes that AWS will refuse to delete (they
    /// hold images and `force_delete` is not set).
    pub undeletable: Vec<String>,
}

/// A directory of the spec that a command reads: the key of its resource,
/// what says how to read it (`of`), `source` as written and where (a JSON
/// pointer), the directory, and whether it may lie outside the project.
struct SourceDir<'a, S> {
    key: &'a String,
    of: &'a S,
    written: &'a str,
    pointer: String,
    dir: std::path::PathBuf,
    outside_allowed: bool,
}

/// Runs `prepare` (canonical directory, its `of`) on each directory that
/// may be read, by key. What is refused comes back as one [`LoadError`]
/// located at each directory's place in the spec (the CLI renders it like
/// a validation error).
fn prepare_all<'a, S: 'a, T>(
    l: &LoadedSpec,
    dirs: impl Iterator<Item = SourceDir<'a, S>>,
    prepare: impl Fn(&std::path::Path, &S) -> Result<T, Vec<package::Problem>>,
) -> Result<BTreeMap<String, T>> {
    let mut prepared = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for d in dirs {
        let problems = match package::check_source(&l.dir, &d.dir, d.outside_allowed) {
            Err(p) => vec![p],
            Ok(canonical) => match prepare(&canonical, d.of) {
                Ok(t) => {
                    prepared.insert(d.key.clone(), t);
                    continue;
                }
                Err(problems) => problems,
            },
        };
        let span = l.map.value_span(&d.pointer);
        diagnostics.extend(source_diagnostics(d.written, span, &problems));
    }
    if diagnostics.is_empty() {
        Ok(prepared)
    } else {
        Err(LoadError {
            path: l.path.clone(),
            source: l.source.clone(),
            diagnostics,
        }
        .into())
    }
}

/// Zips every function's source directory, refusals located at `source`.
pub fn package_all(l: &LoadedSpec) -> Result<BTreeMap<String, Package>> {
    let dirs = l.spec.functions.iter().map(|(k, f)| SourceDir {
        key: k,
        of: f,
        written: &f.source,
        pointer: format!("/functions/{}/source", escape(k)),
        dir: l.function_dir(f),
        outside_allowed: f.source_outside_project,
    });
    prepare_all(l, dirs, |dir, _| {
        package::package_with(dir, &package::Limits::LAMBDA)
    })
}

/// Hashes every code runtime's bundle inputs (its source zipped in
/// memory, its requirements, its runtime): the bundle's key in the bucket.
/// Refusals come back located at the runtime's `source`.
pub fn bundle_all(l: &LoadedSpec) -> Result<BTreeMap<String, std::sync::Arc<Bundle>>> {
    let dirs = l
        .spec
        .runtimes
        .iter()
        .filter_map(|(k, r)| match &r.artifact {
            ArtifactSpec::Code(c) => Some(SourceDir {
                key: k,
                of: c,
                written: &c.source,
                pointer: format!("/runtimes/{}/artifact/code/source", escape(k)),
                dir: l.code_dir(c),
                outside_allowed: c.source_outside_project,
            }),
            _ => None,
        });
    prepare_all(l, dirs, |dir, c| {
        let requirements = c.requirements.as_ref().map(|r| dir.join(r));
        let runtime = c.api_runtime().unwrap_or_default();
        Bundle::prepare(dir, requirements.as_deref(), runtime).map(std::sync::Arc::new)
    })
}

/// Hashes every container build's context and Dockerfile: the image's
/// tag. Refusals come back located at the build's `context`.
pub fn image_builds(
    l: &LoadedSpec,
) -> Result<BTreeMap<String, std::sync::Arc<crate::image::ImageBuild>>> {
    let dirs = l
        .spec
        .runtimes
        .iter()
        .filter_map(|(k, r)| match &r.artifact {
            ArtifactSpec::Container(crate::spec::ContainerSpec { build: Some(b), .. }) => {
                Some(SourceDir {
                    key: k,
                    of: b,
                    written: &b.context,
                    pointer: format!("/runtimes/{}/artifact/container/build/context", escape(k)),
                    dir: l.context_dir(b),
                    outside_allowed: b.source_outside_project,
                })
            }
            _ => None,
        });
    prepare_all(l, dirs, |dir, b| {
        crate::image::ImageBuild::prepare(dir, &dir.join(b.dockerfile())).map(std::sync::Arc::new)
    })
}

/// The digest each container runtime's image tag points at now, read from
/// ECR in parallel, once per repository and tag (runtimes often share an
/// image); runtimes whose image is not pushed yet are left out.
pub async fn image_digests(
    aws: &Aws,
    l: &LoadedSpec,
    builds: &BTreeMap<String, std::sync::Arc<crate::image::ImageBuild>>,
) -> Result<BTreeMap<String, String>> {
    let project = &l.spec.project;
    let images: BTreeMap<&String, (String, String)> = l
        .spec
        .runtimes
        .iter()
        .filter_map(|(key, r)| match &r.artifact {
            ArtifactSpec::Container(c) => Some((
                key,
                (
                    crate::names::repository(project, &c.repository),
                    // A build's tag names its context: found, nothing is built.
                    match builds.get(key) {
                        Some(b) => b.tag(),
                        None => c
                            .tag
                            .clone()
                            .unwrap_or_else(|| desired::DEFAULT_TAG.to_string()),
                    },
                ),
            )),
            ArtifactSpec::Image(_) | ArtifactSpec::Code(_) => None,
        })
        .collect();
    let distinct: std::collections::BTreeSet<&(String, String)> = images.values().collect();
    let digests: BTreeMap<&(String, String), String> =
        futures::future::try_join_all(distinct.into_iter().map(|image| async move {
            Ok::<_, anyhow::Error>(
                aws.image_digest(&image.0, &image.1)
                    .await?
                    .map(|d| (image, d)),
            )
        }))
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(images
        .iter()
        .filter_map(|(key, image)| digests.get(image).map(|d| ((*key).clone(), d.clone())))
        .collect())
}

/// Observes the account and diffs it against the spec. With `destroy`, the
/// spec's resources are not wanted: everything the project owns is deleted
/// (the spec still says how, e.g. a repository's `force_delete`).
pub async fn plan(aws: &Aws, l: &LoadedSpec, destroy: bool) -> Result<Planned> {
    let account = aws.account().await?;
    let (packages, bundles, builds) = if destroy {
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new())
    } else {
        (package_all(l)?, bundle_all(l)?, image_builds(l)?)
    };
    // Only the names to look up are kept (the desired state is built again
    // below, with the ids observed; a large spec is not held twice). Names
    // do not depend on code or image digests.
    let lookups: Vec<Wanted> = desired::build(l, &account, &Artifacts::default(), &Known::new())
        .iter()
        .map(|d| Wanted::of(&d.config))
        .collect();
    // The images' digests are read while the account is observed.
    let digests = async {
        if destroy {
            Ok(BTreeMap::new())
        } else {
            image_digests(aws, l, &builds).await
        }
    };
    let (observed, image_digests) =
        tokio::try_join!(aws.observe(&account, &l.spec.project, &lookups), digests)?;
    let artifacts = Artifacts {
        packages,
        image_digests,
        bundles,
        builds,
    };
    let conflicts_err = |c: Vec<plan::Conflict>| {
        anyhow::anyhow!(
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let mode = if destroy { Mode::Destroy } else { Mode::Apply };
    // Ids that the plan itself changes (replaced resources, a runtime's
    // version after an update) are unknown until apply: plan again with
    // only the ids that stay, until nothing more changes (each round can
    // only forget ids, so this ends).
    let mut known = plan::known_ids(&observed);
    let before = desired::outputs(&l.spec, &account, &known);
    let mut p = loop {
        let p = plan::diff(
            &desired::build(l, &account, &artifacts, &known),
            &observed,
            mode,
        )
        .map_err(conflicts_err)?;
        if p.known == known {
            break p;
        }
        tracing::debug!(
            forgotten = known.len() - p.known.len(),
            "plan again without the ids this plan changes"
        );
        known = p.known.clone();
    };
    let after = desired::outputs(&l.spec, &account, &p.known);
    p.outputs = before
        .into_iter()
        .map(|(k, b)| {
            let change = plan::OutputChange {
                before: b.known().map(str::to_string),
                after: (!destroy).then(|| after[&k].clone()),
                sensitive: false,
            };
            (k, change)
        })
        .collect();
    let undeletable = preflight(aws, l, &artifacts, &mut p, destroy).await?;
    if !destroy {
        pinned_notes(l, &mut p);
        role_notes(l, &account, &artifacts, &mut p);
    }
    plan::sensitive::mark(&mut p, &crate::redact::values());
    Ok(Planned {
        plan: p,
        account,
        observed,
        undeletable,
    })
}

/// For each role the spec brings whose user this plan creates or changes:
/// what the role must allow, since agentform neither creates nor edits it.
fn role_notes(
    l: &LoadedSpec,
    account: &crate::model::Account,
    artifacts: &Artifacts,
    p: &mut Plan,
) {
    use crate::plan::Action;
    for r in desired::role_requirements(l, account, artifacts, &p.known) {
        let changes = p
            .get(&r.user)
            .is_some_and(|c| matches!(c.action, Action::Create | Action::Update | Action::Replace));
        if changes {
            p.notes.push(role_note(&r));
        }
    }
}

/// `<user> uses role <arn>, ...: it must trust ... and allow ...`.
fn role_note(r: &desired::RoleRequirement) -> String {
    use serde_json::Value;
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    Value::Null => "(known after apply)".into(),
                    other => other.to_string(),
                })
                .collect(),
            Value::String(s) => vec![s.clone()],
            Value::Null => vec!["(known after apply)".into()],
            other => vec![other.to_string()],
        }
    };
    let trusted: Vec<String> = r.trust["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| list(&s["Principal"]["Service"]))
        .collect();
    let mut text = format!(
        "{} uses its own role {}: agentform neither creates nor edits it. It must trust {}",
        r.user,
        r.arn,
        trusted.join(", ")
    );
    let Some(policy) = &r.policy else {
        text.push_str(" (it needs no permissions from agentform's derivation).");
        return text;
    };
    text.push_str(" and allow:");
    let (doc, _) = policy.json_with_unknown_mask();
    for s in doc["Statement"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n  {} on {}",
            list(&s["Action"]).join(", "),
            list(&s["Resource"]).join(", ")
        ));
        if let Some(c) = s.get("Condition") {
            text.push_str(&format!(" when {c}"));
        }
    }
    text
}

/// For each runtime the plan gives a new version: the endpoints pinned to
/// a version stay where they are (DEFAULT and those on `latest` move).
fn pinned_notes(l: &LoadedSpec, p: &mut Plan) {
    use crate::model::Address;
    use crate::plan::Action;
    use crate::spec::EndpointVersion;
    for (key, r) in &l.spec.runtimes {
        let new_version = p
            .get(&Address::Runtime(key.clone()))
            .is_some_and(|c| matches!(c.action, Action::Update | Action::Replace));
        if !new_version {
            continue;
        }
        for (ekey, e) in &r.endpoints {
            if let Some(crate::spec::EndpointSpec {
                version: Some(EndpointVersion::Pinned(n)),
                ..
            }) = e
            {
                p.notes.push(format!(
                    "runtime_endpoint.{key}/{ekey} stays on version {n} (pinned): runtime.{key} gets a new version, which DEFAULT and the endpoints on `latest` move to"
                ));
            }
        }
    }
}

/// Checks the account for what would make apply fail midway, and warns in
/// the plan: a container runtime whose image tag is not pushed yet, and a
/// repository the plan deletes that holds images without `force_delete`
/// (returned, so destroy can stop before deleting anything).
async fn preflight(
    aws: &Aws,
    l: &LoadedSpec,
    artifacts: &Artifacts,
    p: &mut Plan,
    destroy: bool,
) -> Result<Vec<String>> {
    use crate::model::{Address, Config};
    use crate::plan::Action;
    if !destroy {
        for (key, r) in &l.spec.runtimes {
            let changes = p.get(&Address::Runtime(key.clone())).is_some_and(|c| {
                matches!(c.action, Action::Create | Action::Update | Action::Replace)
            });
            if let ArtifactSpec::Container(crate::spec::ContainerSpec { build: Some(b), .. }) =
                &r.artifact
                && changes
                && !artifacts.image_digests.contains_key(key)
            {
                let tool = match crate::image::Tool::find() {
                    Ok(t) => format!("with {}", t.name),
                    Err(_) => "but no container tool was found (docker, podman or finch): apply will stop there".into(),
                };
                let why = if p
                    .get(&Address::Runtime(key.clone()))
                    .is_some_and(|c| c.action == Action::Create)
                {
                    "no image yet"
                } else {
                    "the context changed since the image the runtime runs"
                };
                p.warnings.push(format!(
                    "runtime.{key}: the image will be built from {} for linux/arm64 and pushed ({why}), {tool}",
                    b.context
                ));
                continue;
            }
            if let ArtifactSpec::Container(c) = &r.artifact
                && changes
                && !artifacts.image_digests.contains_key(key)
            {
                let repo = crate::names::repository(&l.spec.project, &c.repository);
                let tag = c.tag.as_deref().unwrap_or(desired::DEFAULT_TAG);
                p.warnings.push(format!(
                    "runtime.{key}: the image {repo}:{tag} is not in its repository yet, so creating or updating the runtime will fail until it is pushed (build it for linux/arm64 and push it after this apply has created the repository, then apply again)"
                ));
            }
        }
    }
    let mut undeletable = Vec::new();
    for c in &p.changes {
        if !matches!(c.action, Action::Delete | Action::Replace) || c.delete.force {
            continue;
        }
        let (Address::Repository(key), Some(Config::Repository(r))) =
            (&c.addr, c.observed.as_ref().map(|o| &o.config))
        else {
            continue;
        };
        if aws.has_images(&r.name).await? {
            p.warnings.push(format!(
                "ecr_repository.{key}: ECR repository {} holds images and `force_delete` is not set on it, so AWS will refuse to delete it; set `force_delete: true` on it (its images go with it) or delete the images first",
                r.name
            ));
            undeletable.push(r.name.clone());
        }
    }
    Ok(undeletable)
}
