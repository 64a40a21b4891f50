//! Command line: parse arguments, run a command, map the result to an exit
//! code. Each command is a thin function over `ops`, `apply` and `plan::render`,
//! in a file of its own (`validate`, `plan`, `apply`, `destroy`, `output`,
//! `init`); this file holds the arguments, the context the commands share and
//! the dispatch, `ui` what they show and ask on the terminal.

mod apply;
mod destroy;
mod init;
mod interrupt;
mod lock;
mod output;
mod plan;
mod progress;
mod ui;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use console::style;

use crate::aws::Aws;
use crate::plan::render;
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
    /// Set a variable: --var name=value (repeatable; wins over
    /// AGENTFORM_VAR_name, which wins over --var-file).
    #[arg(long = "var", global = true, value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Read variables from a YAML file of `name: value` lines.
    #[arg(long, global = true, value_name = "FILE")]
    var_file: Option<PathBuf>,
    /// AWS region (wins over the spec's `region`; else the standard AWS chain).
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
        /// Print the plan as JSON in Terraform's shape (docs/json-format.md);
        /// errors too.
        #[arg(long)]
        json: bool,
        /// Save the plan to FILE; `agentform apply FILE` applies exactly it.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show IAM policies and tool lists whole instead of summarised.
        #[arg(long)]
        full: bool,
    },
    /// Make the account match the spec, or apply a saved plan exactly.
    Apply {
        /// A plan saved by `plan --out`: applied without asking, refused if
        /// the spec or the account changed since it was made.
        #[arg(value_name = "PLAN_FILE")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
        /// Show IAM policies and tool lists whole instead of summarised.
        #[arg(long)]
        full: bool,
        /// Wait this long for another run of the project to release its lock.
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        lock_timeout: u64,
    },
    /// Delete everything the project owns.
    Destroy {
        /// Do not ask for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
        /// Wait this long for another run of the project to release its lock.
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        lock_timeout: u64,
    },
    /// Print a saved plan (offline).
    Show {
        /// A plan saved by `plan --out`.
        #[arg(value_name = "PLAN_FILE")]
        plan: PathBuf,
        /// Print it as JSON in Terraform's shape (docs/json-format.md).
        #[arg(long)]
        json: bool,
        /// Show IAM policies and tool lists whole instead of summarised.
        #[arg(long)]
        full: bool,
    },
    /// Print the dependency graph of the spec's resources (offline).
    Graph {
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Print a shell completion script: `agentform completions bash > ...`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Release the project's lock left by a run that is gone (the id is in
    /// the lock message).
    ForceUnlock {
        /// The lock id.
        id: String,
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

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum GraphFormat {
    /// Graphviz (`agentform graph | dot -Tsvg > graph.svg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
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
    /// Errors go to stdout as JSON diagnostics (the command's `--json`).
    json: bool,
}

impl Command {
    fn json(&self) -> bool {
        match self {
            Command::Validate { json }
            | Command::Plan { json, .. }
            | Command::Show { json, .. }
            | Command::Output { json, .. } => *json,
            _ => false,
        }
    }
}

impl Ctx {
    fn load(&self) -> Result<LoadedSpec, i32> {
        self.load_with(spec::Paths::Check)
    }

    fn load_with(&self, paths: spec::Paths) -> Result<LoadedSpec, i32> {
        let vars = self.vars()?;
        spec::load_with(&self.g.file, &vars, paths).map_err(|e| {
            if self.json {
                println!("{:#}", crate::diag::json_document(&e.to_json()));
            } else {
                eprint!("{}", e.render(self.color));
            }
            FAILURE
        })
    }

    /// `--var`, `AGENTFORM_VAR_*` and `--var-file`, merged by precedence.
    fn vars(&self) -> Result<VarOverrides, i32> {
        let mut vars = VarOverrides::from_flags(self.g.vars.iter().cloned());
        if let Some(f) = &self.g.var_file {
            vars.read_file(f).map_err(|e| self.error(&e.to_string()))?;
        }
        Ok(vars)
    }

    /// Reports an error (as a JSON diagnostic under `--json`); the exit code.
    fn error(&self, message: &str) -> i32 {
        if self.json {
            let d = crate::diag::error_json(message);
            println!("{:#}", crate::diag::json_document(&[d]));
        } else {
            eprintln!("{} {message}", style("error:").red().bold());
        }
        FAILURE
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
        json: cli.command.json(),
    };
    let result = match cli.command {
        Command::Validate { json } => validate::exec(&ctx, json),
        Command::Schema => {
            println!("{}", crate::spec::schema::SCHEMA_TEXT.trim_end());
            Ok(OK)
        }
        Command::Plan {
            detailed_exitcode,
            json,
            out,
            full,
        } => {
            let opts = plan::Options {
                detailed: detailed_exitcode,
                json,
                out,
                style: render::Style { full },
            };
            plan::exec(&ctx, opts).await
        }
        Command::Apply {
            plan,
            auto_approve,
            full,
            lock_timeout,
        } => {
            let lock_timeout = Duration::from_secs(lock_timeout);
            let style = render::Style { full };
            match plan {
                Some(file) => apply::exec_saved(&ctx, &file, style, lock_timeout).await,
                None => apply::exec(&ctx, auto_approve, style, lock_timeout).await,
            }
        }
        Command::Show { plan, json, full } => plan::show(&ctx, &plan, json, render::Style { full }),
        Command::Destroy {
            auto_approve,
            lock_timeout,
        } => destroy::exec(&ctx, auto_approve, Duration::from_secs(lock_timeout)).await,
        Command::ForceUnlock { id } => lock::force_unlock(&ctx, &id).await,
        Command::Graph { format } => graph(&ctx, format),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "agentform",
                &mut std::io::stdout(),
            );
            Ok(OK)
        }
        Command::Output { json, name } => output::exec(&ctx, json, name).await,
        Command::Init { dir, project } => init::exec(&dir, project),
    };
    match result {
        Ok(code) => code,
        Err(e) => ctx.error(&format!("{e:#}")),
    }
}

/// `agentform graph`: the spec's resources and what each needs first.
fn graph(ctx: &Ctx, format: GraphFormat) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    // The structure does not depend on the account: any stands in.
    let account = crate::model::Account {
        id: "000000000000".into(),
        region: ctx
            .g
            .region
            .clone()
            .or_else(|| l.spec.region.clone())
            .unwrap_or_else(|| "us-east-1".into()),
        partition: "aws".into(),
    };
    let desired = crate::plan::desired::build(
        &l,
        &account,
        &crate::plan::desired::Artifacts::default(),
        &crate::model::Known::new(),
    );
    print!(
        "{}",
        match format {
            GraphFormat::Dot => crate::plan::graph::dot(&desired),
            GraphFormat::Mermaid => crate::plan::graph::mermaid(&desired),
        }
    );
    Ok(OK)
}
