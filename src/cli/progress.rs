//! Progress output: spinners (indicatif) on a terminal, plain timestamped
//! lines otherwise (CI logs), and the debug logs (`-v`, `AGENTFORM_LOG`),
//! which are written above the spinners, never through them. The only
//! module that touches indicatif.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::apply::Reporter;
use crate::model::{Address, Progress};

pub enum Output {
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<Address, ProgressBar>>,
    },
    Lines,
    Quiet,
}

/// The spinners on screen, if any: log lines suspend them while written.
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Writes one log line to stderr, above the spinners when they are shown.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let active = ACTIVE.lock().ok().and_then(|a| a.clone());
        let text = String::from_utf8_lossy(buf);
        let line = crate::redact::redact(&text);
        let write = || std::io::stderr().write_all(line.as_bytes());
        match active {
            Some(m) => m.suspend(write)?,
            None => write()?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

struct Logs;

impl<'a> MakeWriter<'a> for Logs {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

/// What `-v` turns on: agentform's own steps; `-vv` adds the SDK's
/// requests, retries and credential lookups (at debug, where the SDK logs
/// operations and status codes, not bodies or credentials).
fn default_filter(verbose: u8) -> Option<&'static str> {
    match verbose {
        0 => None,
        1 => Some("agentform=debug"),
        _ => Some("agentform=trace,aws_smithy_runtime=debug,aws_config=debug,aws_sigv4=info"),
    }
}

/// Starts the debug logs: `AGENTFORM_LOG` (tracing's filter syntax, e.g.
/// `agentform=debug,aws_smithy_runtime=debug`) wins over `-v`/`-vv`.
pub fn init_logs(verbose: u8, color: bool) {
    let filter = match std::env::var("AGENTFORM_LOG") {
        Ok(f) if !f.trim().is_empty() => match EnvFilter::try_new(&f) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("warning: ignoring AGENTFORM_LOG={f}: {e}");
                return;
            }
        },
        _ => match default_filter(verbose) {
            Some(f) => EnvFilter::new(f),
            None => return,
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Logs)
        .with_ansi(color)
        .try_init();
}

impl Output {
    pub fn new(terminal: bool, quiet: bool) -> Self {
        if quiet {
            Output::Quiet
        } else if terminal {
            let multi = MultiProgress::new();
            if let Ok(mut a) = ACTIVE.lock() {
                *a = Some(multi.clone());
            }
            Output::Bars {
                multi,
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Output::Lines
        }
    }

    fn line(&self, text: String) {
        let text = crate::redact::redact(&text).into_owned();
        match self {
            Output::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
            Output::Lines => eprintln!("{text}"),
            Output::Quiet => {}
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Output::Bars { .. } = self
            && let Ok(mut a) = ACTIVE.lock()
        {
            *a = None;
        }
    }
}

impl Progress for Output {
    fn note(&self, addr: &Address, message: &str) {
        match self {
            Output::Bars { bars, .. } => {
                if let Some(b) = bars.lock().expect("progress lock").get(addr) {
                    b.set_message(
                        crate::redact::redact(&format!("{addr}: {message}")).into_owned(),
                    );
                }
            }
            Output::Lines => eprintln!("{}", crate::redact::redact(&format!("{addr}: {message}"))),
            Output::Quiet => {}
        }
    }
}

impl Reporter for Output {
    fn start(&self, addr: &Address, verb: &str) {
        match self {
            Output::Bars { multi, bars } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                        .expect("valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("{addr}: {verb}..."));
                bars.lock()
                    .expect("progress lock")
                    .insert(addr.clone(), bar);
            }
            _ => self.line(format!("{addr}: {verb}...")),
        }
    }

    fn finish(&self, addr: &Address, verb: &str, seconds: f64) {
        if let Output::Bars { bars, .. } = self
            && let Some(b) = bars.lock().expect("progress lock").remove(addr)
        {
            b.finish_and_clear();
        }
        self.line(format!("{addr}: {verb} after {seconds:.1}s"));
    }

    fn fail(&self, addr: &Address, verb: &str, error: &anyhow::Error) {
        if let Output::Bars { bars, .. } = self
            && let Some(b) = bars.lock().expect("progress lock").remove(addr)
        {
            b.finish_and_clear();
        }
        // Failures are shown even in quiet mode.
        let text = format!("{addr}: failed while {verb}: {error:#}");
        match self {
            Output::Quiet => eprintln!("{}", crate::redact::redact(&text)),
            _ => self.line(text),
        }
    }
}
