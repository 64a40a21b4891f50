//! The `agentform` binary: parse arguments, run, exit with the command's code.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = agentform::cli::Cli::parse();
    std::process::exit(agentform::cli::run(cli).await);
}
