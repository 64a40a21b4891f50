//! `agentform apply`: plans, asks, runs the changes and prints the outputs.

use std::io::IsTerminal;

use std::time::Duration;

use anyhow::Result;

use super::interrupt::Interrupts;
use super::ui::{confirm, print_outputs, summarize};
use super::{Ctx, FAILURE, OK, progress};
use crate::apply::Executor;
use crate::ops;
use crate::plan::{desired, render};

pub(super) async fn exec(ctx: &Ctx, auto_approve: bool, lock_timeout: Duration) -> Result<i32> {
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    super::lock::holding(&aws, &l.spec.project, "apply", lock_timeout, || {
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
    let planned = ops::plan(aws, l, false).await?;
    print!("{}", ctx.paint_plan(&render::plan(&planned.plan)));
    let mut known = planned.plan.known.clone();
    if planned.plan.has_changes() {
        if !confirm("Do you want to perform these actions?", auto_approve)? {
            println!("Apply cancelled.");
            return Ok(FAILURE);
        }
        let out = progress::Output::new(std::io::stderr().is_terminal(), ctx.g.quiet);
        let interrupts = Interrupts::watch();
        let exec = Executor {
            cloud: aws,
            reporter: &out,
            stop: &interrupts.stop,
        };
        let outcome = exec.apply(&planned.plan).await;
        drop(out);
        let code = summarize(&outcome, "Apply", interrupts.exit_code());
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
    Ok(OK)
}
