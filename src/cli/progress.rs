//! Progress output: spinners (indicatif) on a terminal, plain timestamped
//! lines otherwise (CI logs). The only module that touches indicatif.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

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

impl Output {
    pub fn new(terminal: bool, quiet: bool) -> Self {
        if quiet {
            Output::Quiet
        } else if terminal {
            Output::Bars {
                multi: MultiProgress::new(),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Output::Lines
        }
    }

    fn line(&self, text: String) {
        match self {
            Output::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
            Output::Lines => eprintln!("{text}"),
            Output::Quiet => {}
        }
    }
}

impl Progress for Output {
    fn note(&self, addr: &Address, message: &str) {
        match self {
            Output::Bars { bars, .. } => {
                if let Some(b) = bars.lock().expect("progress lock").get(addr) {
                    b.set_message(format!("{addr}: {message}"));
                }
            }
            Output::Lines => eprintln!("{addr}: {message}"),
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
            Output::Quiet => eprintln!("{text}"),
            _ => self.line(text),
        }
    }
}
