//! What the commands show and ask on the terminal: the coloured plan, the
//! confirmation prompt, the summary of a run and the outputs.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use anyhow::{Context, Result, bail};
use console::style;

use super::{Ctx, FAILURE, OK};
use crate::apply::Outcome;
use crate::model::Resolved;
use crate::plan::render;

impl Ctx {
    pub(super) fn paint_plan(&self, text: &str) -> String {
        // Sensitive places are masked by the renderer; this is the net
        // under it (a value inside a name, a reason, a note).
        let text = &*crate::redact::redact(text);
        if !self.color {
            return text.to_string();
        }
        text.lines()
            .map(|l| {
                let t = l.trim_start();
                let s = if t.starts_with("-/+") {
                    style(l).magenta().to_string()
                } else if t.starts_with('+') {
                    style(l).green().to_string()
                } else if t.starts_with('~') {
                    style(l).yellow().to_string()
                } else if t.starts_with('-') {
                    style(l).red().to_string()
                } else if t.starts_with('#') || t.starts_with("Plan:") {
                    style(l).bold().to_string()
                } else {
                    l.to_string()
                };
                s + "\n"
            })
            .collect()
    }
}

pub(super) fn confirm(question: &str, auto_approve: bool) -> Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to continue without confirmation: stdin is not a terminal; pass --auto-approve to run unattended (e.g. in CI)"
        );
    }
    print!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// The run's closing lines; its exit code (`stopped_code` when it stopped
/// on a signal).
pub(super) fn summarize(
    outcome: &Outcome,
    what: &str,
    stopped_code: i32,
    locate: &dyn Fn(&crate::model::Address) -> Option<String>,
) -> i32 {
    if outcome.stopped && outcome.failed.is_empty() {
        eprintln!("\n{what} stopped before it was complete.");
        for (a, verb) in &outcome.done {
            eprintln!("  done: {a} ({verb})");
        }
        for a in &outcome.not_started {
            eprintln!("  not started: {a}");
        }
        eprintln!(
            "Nothing was rolled back. Run the command again to continue from where the account is now."
        );
        return stopped_code;
    }
    if outcome.ok() {
        let n = outcome.done.len();
        println!(
            "\n{} complete: {n} resource operation{} done.",
            what,
            if n == 1 { "" } else { "s" }
        );
        OK
    } else {
        eprintln!("\n{} {what} failed.", style("error:").red().bold());
        for (a, e) in &outcome.failed {
            eprintln!("  failed: {a}: {}", crate::redact::redact(e));
            if let Some(place) = locate(a) {
                eprintln!("    in the spec at {place}");
            }
        }
        for (a, verb) in &outcome.done {
            eprintln!("  done: {a} ({verb})");
        }
        for a in &outcome.not_started {
            eprintln!("  not started: {a}");
        }
        eprintln!(
            "Nothing was rolled back. Fix the cause and run the command again: it continues from where the account is now."
        );
        FAILURE
    }
}

pub(super) fn print_outputs(
    outputs: &BTreeMap<String, Resolved>,
    json: bool,
    name: Option<String>,
) -> Result<()> {
    let secrets = crate::redact::values();
    let outputs: BTreeMap<&String, String> = outputs
        .iter()
        .map(|(k, v)| {
            let text = render::resolved_text(v);
            let hidden = secrets.iter().any(|s| text.contains(s.as_str()));
            (
                k,
                if hidden {
                    crate::redact::MASK.to_string()
                } else {
                    text
                },
            )
        })
        .collect();
    if let Some(n) = name {
        let v = outputs
            .get(&n)
            .with_context(|| format!("no output named `{n}`"))?;
        println!("{v}");
        return Ok(());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    } else if !outputs.is_empty() {
        println!("\nOutputs:\n");
        for (k, v) in outputs {
            println!("{k} = \"{v}\"");
        }
    }
    Ok(())
}
