//! `agentform plan`: shows what apply would change in the account.

use anyhow::Result;

use super::{CHANGES, Ctx, OK};
use crate::ops;
use crate::plan::render;

pub(super) async fn exec(ctx: &Ctx, detailed: bool, json: bool) -> Result<i32> {
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let planned = ops::plan(&aws, &l, false).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&render::plan_json(&planned.plan))?
        );
    } else {
        print!("{}", ctx.paint_plan(&render::plan(&planned.plan)));
    }
    Ok(if detailed && planned.plan.has_changes() {
        CHANGES
    } else {
        OK
    })
}
