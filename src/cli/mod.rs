//! Command line: parse arguments, run a command, map the result to an exit
//! code. Each command is a thin function over `ops`, `executor` and `render`.

mod init;
mod progress;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use console::style;

use crate::apply::{Executor, Outcome};
use crate::aws::Aws;
use crate::model::Resolved;
use crate::ops;
use crate::plan::{desired, render};
use crate::spec::{self, LoadedSpec, VarOverrides};

#[derive(Parser, Debug)]
#[command(name = "agentform", version, about = "Provision Amazon Bedrock AgentCore stacks from one YAML spec", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
    /// Spec file.
    #[arg(
        short,
        long,
        global = true,
        default_value = "agentform.yaml",
        env = "AGENTFORM_FILE"
    )]
    file: PathBuf,
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", global = true, value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// AWS region (else the spec's `region`, then the standard AWS chain).
    #[arg(long, global = true)]
    region: Option<String>,
    /// AWS profile from the shared config files.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Disable colour.
    #[arg(long, global = true, env = "NO_COLOR", value_parser = clap::builder::FalseyValueParser::new())]
    no_color: bool,
    /// Only print errors and results.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Give up waiting on one resource after this many seconds.
    #[arg(long, global = true, default_value_t = 1800, value_name = "SECONDS")]
    timeout: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the spec offline; report every problem with its line and column.
    Validate {
        /// Print the problems as JSON (file, line, column, message, help).
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the spec format (for editors).
    Schema,
    /// Show what apply would change in the account.
    Plan {
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Print the plan as JSON (for CI and review bots).
        #[arg(long)]
        json: bool,
    },
    /// Make the account match the spec.
    Apply {
        /// Do not ask for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Delete everything the project owns.
    Destroy {
        /// Do not ask for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Print the spec's outputs from the live account.
    Output {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Print only this output's value.
        name: Option<String>,
    },
    /// Create a new project from the built-in template.
    Init {
        /// Directory to create the project in.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Project name (default: from the directory name).
        #[arg(long)]
        project: Option<String>,
    },
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

/// Exit codes.
pub const OK: i32 = 0;
pub const FAILURE: i32 = 1;
pub const CHANGES: i32 = 2;

struct Ctx {
    g: Global,
    color: bool,
}

impl Ctx {
    fn load(&self) -> Result<LoadedSpec, i32> {
        self.load_with(spec::Paths::Check)
    }

    fn load_with(&self, paths: spec::Paths) -> Result<LoadedSpec, i32> {
        let vars: VarOverrides = self.g.vars.iter().cloned().collect::<BTreeMap<_, _>>();
        spec::load_with(&self.g.file, &vars, paths).map_err(|e| {
            eprint!("{}", e.render(self.color));
            FAILURE
        })
    }

    async fn aws(&self, l: &LoadedSpec) -> Result<Aws> {
        let region = self.g.region.clone().or_else(|| l.spec.region.clone());
        Aws::connect(
            region,
            self.g.profile.clone(),
            Duration::from_secs(self.g.timeout),
        )
        .await
    }

    fn paint_plan(&self, text: &str) -> String {
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

/// Runs the CLI; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let color =
        !cli.global.no_color && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    let ctx = Ctx {
        g: cli.global,
        color,
    };
    let result = match cli.command {
        Command::Validate { json } => validate(&ctx, json),
        Command::Schema => {
            println!("{}", crate::spec::schema::SCHEMA_TEXT.trim_end());
            Ok(OK)
        }
        Command::Plan {
            detailed_exitcode,
            json,
        } => plan(&ctx, detailed_exitcode, json).await,
        Command::Apply { auto_approve } => apply(&ctx, auto_approve).await,
        Command::Destroy { auto_approve } => destroy(&ctx, auto_approve).await,
        Command::Output { json, name } => output(&ctx, json, name).await,
        Command::Init { dir, project } => init_cmd(&dir, project),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{} {e:#}", style("error:").red().bold());
            FAILURE
        }
    }
}

fn validate(ctx: &Ctx, json: bool) -> Result<i32> {
    if json {
        let vars: VarOverrides = ctx.g.vars.iter().cloned().collect::<BTreeMap<_, _>>();
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

async fn plan(ctx: &Ctx, detailed: bool, json: bool) -> Result<i32> {
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

fn confirm(question: &str, auto_approve: bool) -> Result<bool> {
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

fn summarize(outcome: &Outcome, what: &str) -> i32 {
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
            eprintln!("  failed: {a}: {e}");
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

async fn apply(ctx: &Ctx, auto_approve: bool) -> Result<i32> {
    let l = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let planned = ops::plan(&aws, &l, false).await?;
    print!("{}", ctx.paint_plan(&render::plan(&planned.plan)));
    let mut known = planned.plan.known.clone();
    if planned.plan.has_changes() {
        if !confirm("Do you want to perform these actions?", auto_approve)? {
            println!("Apply cancelled.");
            return Ok(FAILURE);
        }
        let out = progress::Output::new(std::io::stderr().is_terminal(), ctx.g.quiet);
        let exec = Executor {
            cloud: &aws,
            reporter: &out,
        };
        let outcome = exec.apply(&planned.plan).await;
        let code = summarize(&outcome, "Apply");
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

async fn destroy(ctx: &Ctx, auto_approve: bool) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let planned = ops::plan(&aws, &l, true).await?;
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
    let out = progress::Output::new(std::io::stderr().is_terminal(), ctx.g.quiet);
    let exec = Executor {
        cloud: &aws,
        reporter: &out,
    };
    let outcome = exec.destroy(&planned.plan).await;
    Ok(summarize(&outcome, "Destroy"))
}

fn print_outputs(
    outputs: &BTreeMap<String, Resolved>,
    json: bool,
    name: Option<String>,
) -> Result<()> {
    let outputs: BTreeMap<&String, String> = outputs
        .iter()
        .map(|(k, v)| (k, render::resolved_text(v)))
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

async fn output(ctx: &Ctx, json: bool, name: Option<String>) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let account = aws.account().await?;
    // Outputs only read resources the project owns: no lookups by name needed.
    let observed = aws.observe(&l.spec.project, &[]).await?;
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

fn init_cmd(dir: &std::path::Path, project: Option<String>) -> Result<i32> {
    let written = init::run(dir, project)?;
    println!("Created {} files in {}:", written.len(), dir.display());
    for w in &written {
        println!("  {}", w.display());
    }
    println!(
        "\nNext: cd {} && agentform validate && agentform plan",
        dir.display()
    );
    Ok(OK)
}
