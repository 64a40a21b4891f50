//! `agentform plan`: shows what apply would change in the account, and
//! saves it for `apply FILE`; `agentform show FILE` prints a saved plan.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{CHANGES, Ctx, OK};
use crate::ops;
use crate::plan::Plan;
use crate::plan::render::{self, Style};
use crate::plan::saved::{Inputs, SavedPlan};

pub(super) struct Options {
    pub detailed: bool,
    pub json: bool,
    pub out: Option<PathBuf>,
    pub style: Style,
}

pub(super) async fn exec(ctx: &Ctx, o: Options) -> Result<i32> {
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let planned = ops::plan(&aws, &l, false).await?;
    print_plan(ctx, &planned.plan, o.json, o.style)?;
    if let Some(note) = aws.throttle_note() {
        eprintln!("{note}");
    }
    if let Some(file) = &o.out {
        let saved = SavedPlan::new(
            &planned.plan,
            &Inputs {
                spec_path: &l.path.display().to_string(),
                spec_source: &l.source,
                resolved_sha256: &l.resolved_sha256,
                account: &planned.account,
                observed: &planned.observed,
            },
        );
        std::fs::write(file, saved.to_text())
            .with_context(|| format!("writing the plan to {}", file.display()))?;
        if !o.json {
            println!(
                "\nSaved the plan to {f}. To apply exactly these actions: agentform apply {f}",
                f = file.display()
            );
        }
    }
    Ok(if o.detailed && planned.plan.has_changes() {
        CHANGES
    } else {
        OK
    })
}

fn print_plan(ctx: &Ctx, p: &Plan, json: bool, style: Style) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(&render::plan_json(p))?;
        println!("{}", crate::redact::redact(&text));
    } else {
        print!("{}", ctx.paint_plan(&render::plan_with(p, style)));
    }
    Ok(())
}

/// Reads a plan saved by `plan --out`.
pub(super) fn read_saved(file: &Path) -> Result<SavedPlan> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the plan file {}", file.display()))?;
    SavedPlan::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

pub(super) fn show(ctx: &Ctx, file: &Path, json: bool, style: Style) -> Result<i32> {
    let saved = read_saved(file)?;
    print_plan(ctx, &saved.plan, json, style)?;
    Ok(OK)
}
