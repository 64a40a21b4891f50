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
        let file = ctx.g.file.display().to_string();
        let (valid, problems) = match spec::load(&ctx.g.file, &vars) {
            Ok(_) => (true, vec![]),
            Err(e) => {
                let problems = e
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let (line, column) = d.line_col(&e.source).unzip();
                        serde_json::json!({
                            "file": file, "line": line, "column": column,
                            "message": d.message, "label": d.label, "help": d.help,
                        })
                    })
                    .collect();
                (false, problems)
            }
        };
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"file": file, "valid": valid, "problems": problems})
            )?
        );
        return Ok(if valid { OK } else { FAILURE });
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
    Ok(OK)
}
