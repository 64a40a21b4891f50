//! `agentform output`: prints the spec's outputs from the live account.

use anyhow::{Result, bail};

use super::ui::print_outputs;
use super::{Ctx, OK};
use crate::model::Resolved;
use crate::plan::desired;
use crate::spec;

pub(super) async fn exec(ctx: &Ctx, json: bool, name: Option<String>) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let account = aws.account().await?;
    // Outputs only read resources the project owns: no lookups by name needed.
    let observed = aws.observe(&account, &l.spec.project, &[]).await?;
    let known = crate::plan::known_ids(&observed);
    let outputs = desired::outputs(&l.spec, &account, &known);
    let wanted: Vec<(&String, &Resolved)> = outputs
        .iter()
        .filter(|(k, _)| name.as_ref().is_none_or(|n| n == *k))
        .collect();
    let pending: Vec<&str> = wanted
        .iter()
        .filter(|(_, v)| v.known().is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    if !pending.is_empty() {
        bail!(
            "output{} {} {} not known yet: the resources {} refer to do not exist in the account; run `agentform apply` first",
            if pending.len() == 1 { "" } else { "s" },
            pending.join(", "),
            if pending.len() == 1 { "is" } else { "are" },
            if pending.len() == 1 { "it" } else { "they" }
        );
    }
    print_outputs(&outputs, json, name)?;
    Ok(OK)
}
