//! `agentform import ADDRESS ID`: takes an existing resource that the spec
//! describes into the project, never implicitly. It shows what the next
//! apply would change on it, asks, and then adds only agentform's ownership
//! tags; from then on plan, apply and destroy treat it as the project's.
//! Children (inline policies, gateway targets, runtime endpoints) have no
//! tags: they come with their parent.

use anyhow::{Result, anyhow, bail};

use super::ui::confirm;
use super::{Ctx, FAILURE, OK};
use crate::model::{Address, Config, Observed, Owner, Tags, Wanted};
use crate::plan::desired::{self, Artifacts};
use crate::plan::{self, Mode, render};

/// The tags of a config of a kind that has them.
fn tags_mut(c: &mut Config) -> Option<&mut Tags> {
    match c {
        Config::Role(c) => Some(&mut c.tags),
        Config::Repository(c) => Some(&mut c.tags),
        Config::Bucket(c) => Some(&mut c.tags),
        Config::Function(c) => Some(&mut c.tags),
        Config::Gateway(c) => Some(&mut c.tags),
        Config::Runtime(c) => Some(&mut c.tags),
        Config::Memory(c) => Some(&mut c.tags),
        Config::ApiKeyProvider(c) => Some(&mut c.tags),
        Config::OAuthProvider(c) => Some(&mut c.tags),
        Config::PolicyEngine(c) => Some(&mut c.tags),
        Config::UserPool(c) => Some(&mut c.tags),
        Config::RolePolicy(_)
        | Config::Target(_)
        | Config::Endpoint(_)
        | Config::Policy(_)
        | Config::M2mClient(_) => None,
    }
}

/// The ownership tags of a desired config (`agentform:*`).
fn ownership_tags(c: &Config) -> Tags {
    let mut c = c.clone();
    let Some(tags) = tags_mut(&mut c) else {
        return Tags::new();
    };
    tags.iter()
        .filter(|(k, _)| k.starts_with("agentform:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether `id` names `o`: its name, or its service id.
fn matches_id(o: &Observed, id: &str) -> bool {
    o.name() == id || o.ids.id.as_deref() == Some(id) || o.ids.arn.as_deref() == Some(id)
}

pub(super) async fn exec(ctx: &Ctx, address: &str, id: &str, auto_approve: bool) -> Result<i32> {
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let addr = Address::parse(address).ok_or_else(|| {
        anyhow!("`{address}` is not a resource address (e.g. `gateway.main`, `lambda_function.tools`, `iam_role.gw-main`)")
    })?;
    if let Some(parent) = addr.parent() {
        bail!(
            "{addr} has no ownership tags of its own: import its parent `{parent}`, and it comes with it"
        );
    }
    let aws = ctx.aws(&l).await?;
    let account = aws.account().await?;
    let builds = crate::ops::image_builds(&l)?;
    let artifacts = Artifacts {
        packages: crate::ops::package_all(&l)?,
        image_digests: crate::ops::image_digests(&aws, &l, &builds).await?,
        bundles: crate::ops::bundle_all(&l)?,
        builds,
    };
    let wanted = desired::build(&l, &account, &artifacts, &Default::default());
    let Some(d) = wanted.iter().find(|d| d.addr == addr) else {
        let all: Vec<String> = wanted
            .iter()
            .filter(|d| d.addr.parent().is_none())
            .map(|d| d.addr.to_string())
            .collect();
        bail!(
            "the spec has no resource `{addr}`; it has: {}",
            all.join(", ")
        );
    };
    let name = d.config.name().to_string();
    let observed = aws
        .observe(&account, &l.spec.project, &[Wanted::of(&d.config)])
        .await?;
    let found = observed
        .iter()
        .find(|o| o.kind() == addr.kind() && o.name() == name);
    let Some(found) = found else {
        bail!(
            "there is no {} named `{name}` in account {} ({}), which is the name the spec gives {addr}. agentform adopts a resource only under the name it derives (names cannot change in place); see docs/migrating-from-terraform.md",
            addr.kind(),
            account.id,
            account.region
        );
    };
    if !matches_id(found, id) {
        bail!(
            "{} `{name}` (the one the spec means by {addr}) has id {}, not `{id}`",
            addr.kind(),
            found.ids.id.as_deref().unwrap_or(&name)
        );
    }
    match &found.owner {
        Owner::Foreign | Owner::Unproven => {}
        Owner::Ours(a) if a == &addr => {
            println!("{addr} is already part of project `{}`.", l.spec.project);
            return Ok(OK);
        }
        Owner::Ours(a) => bail!(
            "{} `{name}` already belongs to this project as {a}",
            addr.kind()
        ),
        Owner::OtherProject(p) => bail!(
            "{} `{name}` belongs to agentform project `{p}`; refusing to take it",
            addr.kind()
        ),
        Owner::OtherRegion(r) => bail!(
            "{} `{name}` belongs to this project's stack in region {r}; refusing to take it",
            addr.kind()
        ),
    }
    // What the next apply would do to it once it is ours (its children,
    // found with it, are planned by that apply).
    let tags = ownership_tags(&d.config);
    let mut adopted = found.clone();
    adopted.owner = Owner::Ours(addr.clone());
    if let Some(t) = tags_mut(&mut adopted.config) {
        t.extend(tags.clone());
    }
    // Ids of everything the project owns, this one included.
    let everything: Vec<Observed> = observed
        .iter()
        .map(|o| {
            if std::ptr::eq(o, found) {
                adopted.clone()
            } else {
                o.clone()
            }
        })
        .collect();
    let known = plan::known_ids(&everything);
    let desired_now = desired::build(&l, &account, &artifacts, &known);
    let mine: Vec<_> = desired_now.into_iter().filter(|x| x.addr == addr).collect();
    let mut p = plan::diff(&mine, std::slice::from_ref(&adopted), Mode::Apply).map_err(|c| {
        anyhow!(
            "{}",
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    plan::sensitive::mark(&mut p, &crate::redact::values());
    let change = p
        .get(&addr)
        .ok_or_else(|| anyhow!("internal error: no plan for {addr}"))?;
    let id_text = match found.ids.id.as_deref() {
        Some(i) if i != name => format!(" ({i})"),
        _ => String::new(),
    };
    println!(
        "{} `{name}`{id_text} will be taken into project `{}` as {addr}.",
        addr.kind(),
        l.spec.project
    );
    match change.action {
        plan::Action::NoOp => {
            println!("It matches the spec: the next plan shows no changes for it.")
        }
        _ => {
            println!("After the import, the next apply makes these changes to it:\n");
            print!("{}", ctx.paint_plan(&render::change(change)));
        }
    }
    let list: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "\nImport adds only the tags {} and changes nothing else.",
        list.join(", ")
    );
    if !confirm("Do you want to import it?", auto_approve)? {
        println!("Import cancelled.");
        return Ok(FAILURE);
    }
    super::lock::holding(
        &aws,
        &l.spec.project,
        "import",
        ctx.lock_timeout(),
        || async { aws.adopt(found, &tags).await.map(|()| OK) },
    )
    .await?;
    println!("Imported {addr}. `agentform plan` now treats it as the project's.");
    Ok(OK)
}
