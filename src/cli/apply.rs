//! `agentform apply`: plans, asks, runs the changes and prints the outputs;
//! `agentform apply FILE` runs a saved plan exactly, or refuses when it is
//! stale.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;

use super::interrupt::Interrupts;
use super::ui::{confirm, print_outputs, summarize};
use super::{Ctx, FAILURE, OK, progress};
use crate::apply::Executor;
use crate::aws::Aws;
use crate::ops::{self, Planned};
use crate::plan::render::{self, Style};
use crate::plan::saved::Inputs;
use crate::plan::{Plan, desired};
use crate::spec::LoadedSpec;

pub(super) async fn exec(ctx: &Ctx, style: Style, verify: bool) -> Result<i32> {
    let (auto_approve, lock_timeout) = (ctx.run.auto_approve, ctx.lock_timeout());
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    super::lock::holding(&aws, &l.spec.project, "apply", lock_timeout, || async {
        let planned = ops::plan(&aws, &l, false).await?;
        print!(
            "{}",
            ctx.paint_plan(&render::plan_with(&planned.plan, style))
        );
        if planned.plan.has_changes()
            && !confirm("Do you want to perform these actions?", auto_approve)?
        {
            println!("Apply cancelled.");
            return Ok(FAILURE);
        }
        run(ctx, &l, &aws, &planned, &planned.plan, verify).await
    })
    .await
}

/// Applies a saved plan: no question asked (the plan is what was
/// approved), nothing done unless everything it was made from is the same.
pub(super) async fn exec_saved(ctx: &Ctx, file: &Path, style: Style, verify: bool) -> Result<i32> {
    let lock_timeout = ctx.lock_timeout();
    let saved = super::plan::read_saved(file)?;
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    super::lock::holding(&aws, &l.spec.project, "apply", lock_timeout, || async {
        // Observed under the lock: nothing of this project changes between
        // the check and the apply.
        let planned = ops::plan(&aws, &l, false).await?;
        let now = Inputs {
            spec_path: &l.path.display().to_string(),
            spec_source: &l.source,
            resolved_sha256: &l.resolved_sha256,
            account: &planned.account,
            observed: &planned.observed,
        };
        let why = saved.stale(&now, &planned.plan);
        if !why.is_empty() {
            let list: String = why.iter().map(|w| format!("\n  - {w}")).collect();
            anyhow::bail!(
                "the saved plan {} is stale; nothing was changed:{list}\nRun `agentform plan --out {}` again, review it, and apply the new plan.",
                file.display(),
                file.display()
            );
        }
        print!("{}", ctx.paint_plan(&render::plan_with(&saved.plan, style)));
        let plan = saved.with_code_of(&planned.plan);
        run(ctx, &l, &aws, &planned, &plan, verify).await
    })
    .await
}

/// Runs `plan` (when it changes anything) and prints the outputs.
async fn run(
    ctx: &Ctx,
    l: &LoadedSpec,
    aws: &Aws,
    planned: &Planned,
    plan: &Plan,
    verify: bool,
) -> Result<i32> {
    let mut known = plan.known.clone();
    if plan.has_changes() {
        let out = progress::Output::new(std::io::stderr().is_terminal(), ctx.run.quiet);
        let interrupts = Interrupts::watch();
        let exec = Executor {
            cloud: aws,
            reporter: &out,
            stop: &interrupts.stop,
            parallelism: ctx.run.parallelism.into(),
        };
        let outcome = exec.apply(plan).await;
        drop(out);
        let code = summarize(&outcome, "Apply", interrupts.exit_code(), &|a| l.locate(a));
        if let Some(note) = aws.throttle_note() {
            eprintln!("{note}");
        }
        if code != OK {
            return Ok(code);
        }
        known = outcome.known;
    }
    print_outputs(
        &desired::outputs(&l.spec, &planned.account, &known),
        false,
        None,
    )?;
    if verify {
        return super::tools::verify(aws, l, &known).await;
    }
    Ok(OK)
}
