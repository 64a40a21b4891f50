//! `agentform destroy`: deletes everything the project owns, after asking.

use std::io::IsTerminal;

use anyhow::Result;

use super::interrupt::Interrupts;
use super::ui::{confirm, summarize};
use super::{Ctx, FAILURE, OK, progress};
use crate::apply::Executor;
use crate::ops;
use crate::plan::render;
use crate::spec;

pub(super) async fn exec(ctx: &Ctx) -> Result<i32> {
    let (auto_approve, lock_timeout) = (ctx.run.auto_approve, ctx.lock_timeout());
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    super::lock::holding(&aws, &l.spec.project, "destroy", lock_timeout, || {
        run(ctx, &l, &aws, auto_approve)
    })
    .await
}

async fn run(
    ctx: &Ctx,
    l: &crate::spec::LoadedSpec,
    aws: &crate::aws::Aws,
    auto_approve: bool,
) -> Result<i32> {
    let planned = ops::plan(aws, l, true).await?;
    // Destroy must leave nothing of the project: one it cannot prove is
    // which resource (and so cannot order its deletion against the rest)
    // stops it before anything is deleted.
    if !planned.plan.unproven.is_empty() {
        anyhow::bail!(
            "destroy cannot prove which resource of project `{}` these are: their `agentform:resource` tag is missing or invalid:\n  {}\nNothing was deleted. Restore the tags (`agentform:resource` = the address, e.g. `gateway.main`) or delete these by hand, then run destroy again.",
            l.spec.project,
            planned.plan.unproven.join("\n  ")
        );
    }
    if !planned.undeletable.is_empty() {
        anyhow::bail!(
            "destroy would stop halfway: {} hold{} images and `force_delete` is not set, so AWS refuses to delete {}.\nNothing was deleted. Set `force_delete: true` on the repository in the spec (its images are deleted with it) or delete the images first, then run destroy again.",
            planned.undeletable.join(", "),
            if planned.undeletable.len() == 1 {
                "s"
            } else {
                ""
            },
            if planned.undeletable.len() == 1 {
                "it"
            } else {
                "them"
            },
        );
    }
    if !planned.plan.has_changes() {
        println!(
            "Nothing to destroy: the account holds no resources of project `{}`.",
            l.spec.project
        );
        return Ok(OK);
    }
    print!("{}", ctx.paint_plan(&render::plan(&planned.plan)));
    if !confirm(
        "Do you really want to destroy all resources of this project?",
        auto_approve,
    )? {
        println!("Destroy cancelled.");
        return Ok(FAILURE);
    }
    let out = progress::Output::new(std::io::stderr().is_terminal(), ctx.run.quiet);
    let interrupts = Interrupts::watch();
    let exec = Executor {
        cloud: aws,
        reporter: &out,
        stop: &interrupts.stop,
        parallelism: ctx.run.parallelism.into(),
    };
    let outcome = exec.destroy(&planned.plan).await;
    drop(out);
    let code = summarize(&outcome, "Destroy", interrupts.exit_code(), &|a| {
        l.locate(a)
    });
    if let Some(note) = aws.throttle_note() {
        eprintln!("{note}");
    }
    Ok(code)
}
