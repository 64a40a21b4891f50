//! `agentform validate`: checks the spec offline and reports every problem,
//! or summarizes what it declares.

use anyhow::Result;

use super::{Ctx, FAILURE, OK};
use crate::spec;

pub(super) fn exec(ctx: &Ctx, json: bool) -> Result<i32> {
    if json {
        let vars = match ctx.vars() {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        let diags = match spec::load(&ctx.spec.file, &vars) {
            Ok(_) => vec![],
            Err(e) => e.to_json(),
        };
        let doc = format!("{:#}", crate::diag::json_document(&diags));
        println!("{}", crate::redact::redact(&doc));
        return Ok(if diags.is_empty() { OK } else { FAILURE });
    }
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let s = &l.spec;
    let targets: usize = s.gateways.values().map(|g| g.targets.len()).sum();
    println!(
        "{} is valid: {} function(s), {} gateway(s), {} target(s), {} repositor{}, {} runtime(s).",
        l.path.display(),
        s.functions.len(),
        s.gateways.len(),
        targets,
        s.repositories.len(),
        if s.repositories.len() == 1 {
            "y"
        } else {
            "ies"
        },
        s.runtimes.len()
    );
    // The process exits next: freeing a large spec's many small
    // allocations one by one takes a fifth of the time validating it does.
    std::mem::forget(l);
    Ok(OK)
}
