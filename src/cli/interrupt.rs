//! SIGINT / SIGTERM during apply and destroy: the first one asks the
//! executor to start nothing new and lets operations in flight finish (the
//! run then ends with its summary and exit 130 or 143); a second one exits
//! at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::apply::Stop;

/// Exit codes of a run stopped by a signal (128 + the signal number).
pub(super) const SIGINT_EXIT: i32 = 130;
pub(super) const SIGTERM_EXIT: i32 = 143;

/// The stop flag the executor reads, and which signal set it.
pub(super) struct Interrupts {
    pub stop: Arc<Stop>,
    code: Arc<AtomicI32>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Interrupts {
    /// Starts watching for signals (until dropped).
    pub fn watch() -> Interrupts {
        let stop = Arc::new(Stop::default());
        let code = Arc::new(AtomicI32::new(0));
        let (s, c) = (stop.clone(), code.clone());
        let watcher = tokio::spawn(async move {
            loop {
                let Some((signal, exit)) = next_signal().await else {
                    return;
                };
                if s.request() {
                    eprintln!("\n{signal} again: exiting now; run the command again to continue.");
                    std::process::exit(exit);
                }
                c.store(exit, Ordering::SeqCst);
                eprintln!(
                    "\n{signal} received: stopping. No new operation starts; operations in flight finish. Press Ctrl-C again to exit at once."
                );
            }
        });
        Interrupts {
            stop,
            code,
            watcher,
        }
    }

    /// The exit code for a run that stopped on request.
    pub fn exit_code(&self) -> i32 {
        match self.code.load(Ordering::SeqCst) {
            0 => SIGINT_EXIT,
            c => c,
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

#[cfg(unix)]
async fn next_signal() -> Option<(&'static str, i32)> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).ok()?;
    let mut term = signal(SignalKind::terminate()).ok()?;
    tokio::select! {
        _ = int.recv() => Some(("SIGINT", SIGINT_EXIT)),
        _ = term.recv() => Some(("SIGTERM", SIGTERM_EXIT)),
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Option<(&'static str, i32)> {
    tokio::signal::ctrl_c().await.ok()?;
    Some(("Ctrl-C", SIGINT_EXIT))
}
