//! The `agentform` binary: parse arguments, run, exit with the command's code.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = match agentform::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 1, not clap's 2: `plan --detailed-exitcode`
            // uses 2 for "changes present", and CI must never mistake a typo
            // in its arguments for that.
            std::process::exit(if e.use_stderr() {
                agentform::cli::FAILURE
            } else {
                agentform::cli::OK
            });
        }
    };
    #[cfg(unix)]
    if cli.only_prints() {
        // SAFETY: called before any other thread could be writing; only
        // restores the default action (end the process) for SIGPIPE, which
        // Rust's runtime set to "ignore".
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    std::process::exit(agentform::cli::run(cli).await);
}
