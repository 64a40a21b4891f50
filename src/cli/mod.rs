//! Command line: parse arguments, run a command, map the result to an exit
//! code. Each command is a thin function over `ops`, `apply` and `plan::render`,
//! in a file of its own (`validate`, `plan`, `apply`, `destroy`, `output`,
//! `init`); this file holds the arguments, the context the commands share and
//! the dispatch, `ui` what they show and ask on the terminal.

mod apply;
mod destroy;
mod import;
mod init;
mod interrupt;
mod invoke;
mod lock;
mod output;
mod plan;
mod progress;
mod tools;
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
use crate::redact::redact;
use crate::spec::{self, LoadedSpec, VarOverrides};

#[derive(Parser, Debug)]
#[command(name = "agentform", version, about = "Provision Amazon Bedrock AgentCore stacks from one YAML spec", long_about = None)]
pub struct Cli {
    /// Disable colour.
    #[arg(long, global = true, env = "NO_COLOR", value_parser = clap::builder::FalseyValueParser::new())]
    no_color: bool,
    /// Debug logs on stderr: -v for agentform's steps, -vv also the AWS
    /// SDK's requests and retries (AGENTFORM_LOG=<filter> overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Where the spec is and the values of its variables.
#[derive(Args, Debug, Clone)]
struct SpecArgs {
    /// Spec file.
    #[arg(short, long, default_value = "agentform.yaml", env = "AGENTFORM_FILE")]
    file: PathBuf,
    /// Set a variable: --var name=value (repeatable; wins over
    /// AGENTFORM_VAR_name, which wins over --var-file).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Read variables from a YAML file of `name: value` lines.
    #[arg(long, value_name = "FILE")]
    var_file: Option<PathBuf>,
}

impl Default for SpecArgs {
    fn default() -> Self {
        SpecArgs {
            file: "agentform.yaml".into(),
            vars: vec![],
            var_file: None,
        }
    }
}

/// Which account and region.
#[derive(Args, Debug, Clone, Default)]
struct AwsArgs {
    /// AWS region (wins over the spec's `region`; else the standard AWS chain).
    #[arg(long)]
    region: Option<String>,
    /// AWS profile from the shared config files.
    #[arg(long)]
    profile: Option<String>,
    /// Multiply every client-side API rate limit by this factor (an account
    /// whose quotas were raised; 1 keeps to AWS's documented defaults).
    #[arg(long, env = "AGENTFORM_RATE_SCALE", default_value_t = 1.0, value_name = "FACTOR",
          value_parser = positive_factor)]
    rate_scale: f64,
    /// Set one API's client-side rate limit, requests a second (repeatable;
    /// e.g. `bedrock-agentcore:CreateGatewayTarget=10` once that quota was
    /// raised). Wins over `AGENTFORM_RATES` (`API=N,API=N`), which wins
    /// over the spec's `rates:`.
    #[arg(long = "rate", value_name = "API=N", value_parser = crate::aws::quota::parse_rate)]
    rates: Vec<(String, u32)>,
}

fn positive_factor(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("`{s}` is not a positive number")),
    }
}

/// How a run that changes the account behaves.
#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Do not ask for confirmation (for CI).
    #[arg(long)]
    auto_approve: bool,
    /// Wait this long for another run of the project to release its lock.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    lock_timeout: u64,
    /// Give up waiting on one resource after this many seconds.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    timeout: u64,
    /// Only print errors and results (no progress).
    #[arg(short, long)]
    quiet: bool,
    /// At most this many resource operations at once. Operations mostly
    /// wait on AWS (a gateway takes tens of seconds to be READY), and the
    /// API rate limits, not this, keep requests within AWS's quotas: the
    /// default lets a 100-target stack keep its 5 requests per second busy.
    #[arg(long, default_value_t = DEFAULT_PARALLELISM, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    parallelism: u16,
}

/// The default of `--parallelism`.
const DEFAULT_PARALLELISM: u16 = 100;

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            auto_approve: false,
            lock_timeout: 0,
            timeout: 1800,
            quiet: false,
            parallelism: DEFAULT_PARALLELISM,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the spec offline; report every problem with its line and column.
    Validate {
        #[command(flatten)]
        spec: SpecArgs,
        /// Print the problems as JSON diagnostics (docs/json-format.md).
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the spec format (for editors).
    Schema,
    /// Show what apply would change in the account.
    Plan {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
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
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Show IAM policies and tool lists whole instead of summarised.
        #[arg(long)]
        full: bool,
        /// After applying, prove each runtime can list the tools of the
        /// `aws_iam` gateways it uses, as its own execution role (needs
        /// `verify_principals` in the spec); fail the run if not.
        #[arg(long)]
        verify: bool,
    },
    /// List a gateway's tools as an agent sees them, over a SigV4-signed
    /// MCP session; `tools call` runs one.
    #[command(args_conflicts_with_subcommands = true)]
    Tools {
        #[command(subcommand)]
        call: Option<ToolsCommand>,
        /// The spec's gateway (default: the only one).
        gateway: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Send a prompt to a runtime (InvokeAgentRuntime) and print the
    /// answer as it streams in.
    Invoke {
        /// The spec's runtime.
        runtime: String,
        /// The prompt: sent as `{"prompt": TEXT}`.
        #[arg(long, conflicts_with = "payload")]
        prompt: Option<String>,
        /// Send this JSON file as the payload instead.
        #[arg(long, value_name = "FILE")]
        payload: Option<PathBuf>,
        /// Continue this runtime session (33+ characters; default: a new one).
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// The runtime endpoint to call (default: DEFAULT).
        #[arg(long, value_name = "NAME")]
        endpoint: Option<String>,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Delete everything the project owns.
    Destroy {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
        #[command(flatten)]
        run: RunArgs,
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
    /// Take an existing resource the spec describes into the project
    /// (adds agentform's ownership tags, after showing the diff).
    Import {
        /// The spec's address for it, e.g. `gateway.main`.
        address: String,
        /// Its AWS identifier: function, role or repository name; gateway,
        /// target or runtime id; endpoint name.
        id: String,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
        /// Do not ask for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Print the dependency graph of the spec's resources (offline).
    Graph {
        #[command(flatten)]
        spec: SpecArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Print a shell completion script: `agentform completions bash > ...`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `agentform man > agentform.1`.
    Man,
    /// Release the project's lock left by a run that is gone (the id is in
    /// the lock message).
    ForceUnlock {
        /// The lock id.
        id: String,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Print the spec's outputs from the live account.
    Output {
        /// Print only this output's value.
        name: Option<String>,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
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

#[derive(Subcommand, Debug)]
enum ToolsCommand {
    /// Call one tool and print its result.
    Call {
        /// The tool, as the gateway lists it (`TARGET___TOOL`).
        name: String,
        /// Its arguments, a JSON object.
        #[arg(long, default_value = "{}", value_name = "JSON")]
        args: String,
        /// The spec's gateway (default: the one whose target offers the tool).
        #[arg(long)]
        gateway: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Whose credentials sign the MCP requests, and the output format.
#[derive(Args, Debug, Clone)]
struct SignArgs {
    /// Sign as this runtime's execution role (`runtime.NAME`), assumed
    /// through STS: proves what the agent itself can do. The role must
    /// trust the caller (`verify_principals` in the spec).
    #[arg(long = "as", value_name = "runtime.NAME")]
    as_runtime: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum GraphFormat {
    /// Graphviz (`agentform graph | dot -Tsvg > graph.svg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
    /// JSON: `{"resources": [{"address", "kind", "depends_on"}]}`.
    Json,
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
    spec: SpecArgs,
    aws: AwsArgs,
    run: RunArgs,
    color: bool,
    /// Errors go to stdout as JSON diagnostics (the command's `--json`).
    json: bool,
}

impl Command {
    fn json(&self) -> bool {
        match self {
            Command::Validate { json, .. }
            | Command::Plan { json, .. }
            | Command::Show { json, .. }
            | Command::Output { json, .. } => *json,
            Command::Tools {
                call: Some(ToolsCommand::Call { sign, .. }),
                ..
            }
            | Command::Tools { sign, .. } => sign.json,
            _ => false,
        }
    }

    /// The argument groups the command takes (defaults for the others).
    fn parts(&self) -> (SpecArgs, AwsArgs, RunArgs) {
        let none = AwsArgs::default;
        match self {
            Command::Validate { spec, .. } | Command::Graph { spec, .. } => {
                (spec.clone(), none(), RunArgs::default())
            }
            Command::Plan { spec, aws, .. }
            | Command::Import { spec, aws, .. }
            | Command::ForceUnlock { spec, aws, .. }
            | Command::Output { spec, aws, .. }
            | Command::Invoke { spec, aws, .. }
            | Command::Tools {
                call: Some(ToolsCommand::Call { spec, aws, .. }),
                ..
            }
            | Command::Tools { spec, aws, .. } => (spec.clone(), aws.clone(), RunArgs::default()),
            Command::Apply { spec, aws, run, .. } | Command::Destroy { spec, aws, run } => {
                (spec.clone(), aws.clone(), run.clone())
            }
            Command::Schema
            | Command::Show { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Init { .. } => (SpecArgs::default(), none(), RunArgs::default()),
        }
    }
}

impl Ctx {
    fn load(&self) -> Result<LoadedSpec, i32> {
        self.load_with(spec::Paths::Check)
    }

    fn load_with(&self, paths: spec::Paths) -> Result<LoadedSpec, i32> {
        let vars = self.vars()?;
        spec::load_with(&self.spec.file, &vars, paths).map_err(|e| self.load_error(&e))
    }

    /// Reports problems located in the spec (as JSON diagnostics under
    /// `--json`); the exit code. Sensitive values are masked.
    fn load_error(&self, e: &spec::LoadError) -> i32 {
        if self.json {
            let doc = format!("{:#}", crate::diag::json_document(&e.to_json()));
            println!("{}", redact(&doc));
        } else {
            eprint!("{}", redact(&e.render(self.color)));
        }
        FAILURE
    }

    /// `--var`, `AGENTFORM_VAR_*` and `--var-file`, merged by precedence.
    fn vars(&self) -> Result<VarOverrides, i32> {
        let mut vars = VarOverrides::from_flags(self.spec.vars.iter().cloned());
        if let Some(f) = &self.spec.var_file {
            vars.read_file(f).map_err(|e| self.error(&e.to_string()))?;
        }
        Ok(vars)
    }

    /// Reports an error (as a JSON diagnostic under `--json`); the exit code.
    fn error(&self, message: &str) -> i32 {
        let message = &*redact(message);
        if self.json {
            let d = crate::diag::error_json(message);
            println!("{:#}", crate::diag::json_document(&[d]));
        } else {
            eprintln!("{} {message}", style("error:").red().bold());
        }
        FAILURE
    }

    fn lock_timeout(&self) -> Duration {
        Duration::from_secs(self.run.lock_timeout)
    }

    /// Per-API rates: the spec's `rates:`, then `AGENTFORM_RATES`, then
    /// `--rate` (each wins over the one before).
    fn rates(&self, l: &LoadedSpec) -> Result<std::collections::BTreeMap<String, u32>> {
        let mut rates = l.spec.rates.clone();
        if let Ok(env) = std::env::var("AGENTFORM_RATES") {
            for item in env.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (api, n) = crate::aws::quota::parse_rate(item)
                    .map_err(|e| anyhow::anyhow!("AGENTFORM_RATES: {e}"))?;
                rates.insert(api, n);
            }
        }
        rates.extend(self.aws.rates.iter().cloned());
        Ok(rates)
    }

    async fn aws(&self, l: &LoadedSpec) -> Result<Aws> {
        let region = self.aws.region.clone().or_else(|| l.spec.region.clone());
        Aws::connect(
            region,
            self.aws.profile.clone(),
            Duration::from_secs(self.run.timeout),
            self.aws.rate_scale,
            self.rates(l)?,
        )
        .await
    }
}

impl Cli {
    /// Whether the command can change the account or the disk (apply,
    /// destroy, import, force-unlock, init). The others only print, so
    /// the binary lets a closed stdout end them quietly (`agentform tools
    /// --json | head`), as Unix filters end; a changing command must not
    /// die half-way for that.
    pub fn only_prints(&self) -> bool {
        !matches!(
            self.command,
            Command::Apply { .. }
                | Command::Destroy { .. }
                | Command::Import { .. }
                | Command::ForceUnlock { .. }
                | Command::Init { .. }
        )
    }
}

/// Runs the CLI; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let color = !cli.no_color && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    progress::init_logs(cli.verbose, color);
    let (spec, aws, run) = cli.command.parts();
    let ctx = Ctx {
        spec,
        aws,
        run,
        color,
        json: cli.command.json(),
    };
    let result = match cli.command {
        Command::Validate { json, .. } => validate::exec(&ctx, json),
        Command::Schema => {
            println!("{}", crate::spec::schema::SCHEMA_TEXT.trim_end());
            Ok(OK)
        }
        Command::Plan {
            detailed_exitcode,
            json,
            out,
            full,
            ..
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
            plan, full, verify, ..
        } => {
            let style = render::Style { full };
            match plan {
                Some(file) => apply::exec_saved(&ctx, &file, style, verify).await,
                None => apply::exec(&ctx, style, verify).await,
            }
        }
        Command::Tools {
            call,
            gateway,
            sign,
            ..
        } => {
            let (action, gateway, sign) = match call {
                Some(ToolsCommand::Call {
                    name,
                    args,
                    gateway,
                    sign,
                    ..
                }) => (tools::Action::Call { name, args }, gateway, sign),
                None => (tools::Action::List, gateway, sign),
            };
            let opts = tools::Options {
                gateway,
                as_runtime: sign.as_runtime,
                json: sign.json,
            };
            tools::exec(&ctx, action, opts).await
        }
        Command::Invoke {
            runtime,
            prompt,
            payload,
            session,
            endpoint,
            ..
        } => {
            let opts = invoke::Options {
                runtime,
                prompt,
                payload,
                session,
                endpoint,
            };
            invoke::exec(&ctx, opts).await
        }
        Command::Destroy { .. } => destroy::exec(&ctx).await,
        Command::Show { plan, json, full } => plan::show(&ctx, &plan, json, render::Style { full }),
        Command::Import {
            address,
            id,
            auto_approve,
            ..
        } => import::exec(&ctx, &address, &id, auto_approve).await,
        Command::ForceUnlock { id, .. } => lock::force_unlock(&ctx, &id).await,
        Command::Graph { format, .. } => graph(&ctx, format),
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
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map(|()| OK)
                .map_err(Into::into)
        }
        Command::Output { json, name, .. } => output::exec(&ctx, json, name).await,
        Command::Init { dir, project } => init::exec(&dir, project),
    };
    match result {
        Ok(code) => code,
        // Found in the spec after loading (packaging a function's source).
        Err(e) if e.downcast_ref::<spec::LoadError>().is_some() => {
            ctx.load_error(e.downcast_ref().expect("checked"))
        }
        Err(e) => match crate::aws::hint(&e) {
            Some(h) => ctx.error(&format!("{e:#}\nhint: {h}")),
            None => ctx.error(&format!("{e:#}")),
        },
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
        region: l.spec.region.clone().unwrap_or_else(|| "us-east-1".into()),
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
            GraphFormat::Json => crate::plan::graph::json(&desired),
        }
    );
    Ok(OK)
}
