//! Waiting and bounded retrying.
//!
//! The SDK has no waiters for AgentCore gateways, targets and runtimes, and it
//! does not retry IAM eventual-consistency errors (a role that exists but
//! cannot be assumed yet). Both are handled here, with a backoff, an overall
//! bound, and a note to the [`Progress`] sink so the user sees why nothing
//! seems to happen.

use std::future::Future;
use std::time::Duration;

use anyhow::{Result, anyhow};
use tokio::time::{Instant, sleep};

use crate::model::{Address, Progress};

/// Backoff: `start`, then ×`factor` per step, never above `cap`; and when
/// `proportion` is set, the next delay is instead that fraction of the time
/// waited so far (at least `start`, at most `cap`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub start: Duration,
    pub factor: f64,
    pub cap: Duration,
    pub proportion: Option<f64>,
}

impl Backoff {
    /// Polling a status: every 0.1 s for the first two seconds, then a
    /// twentieth of the time waited so far (at most 5 s between reads): a
    /// status reached is seen within 5% of the wait (0.1 s in the first two
    /// seconds), with about 20 + 20·ln(wait / 2 s) reads (75 for a 30 s
    /// gateway). The reads go through the API's rate limit like any other
    /// request, so many resources waiting at once share its reads instead
    /// of being throttled, and never exceed the quota.
    pub const POLL: Backoff = Backoff {
        start: Duration::from_millis(100),
        factor: 2.0,
        cap: Duration::from_secs(5),
        proportion: Some(0.05),
    };
    /// Retrying a call the service refused for a reason that goes away by itself
    /// (IAM propagation, a conflicting operation still in flight).
    pub const RETRY: Backoff = Backoff {
        start: Duration::from_secs(1),
        factor: 2.0,
        cap: Duration::from_secs(10),
        proportion: None,
    };

    /// The delay after `d`, `waited` into the wait.
    fn next(&self, d: Duration, waited: Duration) -> Duration {
        match self.proportion {
            Some(p) => waited.mul_f64(p).max(self.start).min(self.cap),
            None => d.mul_f64(self.factor).min(self.cap),
        }
    }
}

/// How long a new IAM role may take to become usable by other services
/// (Terraform's `iamPropagationTimeout`).
pub(crate) const PROPAGATION_LIMIT: Duration = Duration::from_secs(120);
/// How long to keep retrying a delete refused with a conflict.
pub(crate) const CONFLICT_LIMIT: Duration = Duration::from_secs(60);

/// One observation while polling.
pub(crate) enum Step<T> {
    /// The goal is reached.
    Done(T),
    /// Not yet: the current status, shown to the user.
    Pending(String),
    /// The goal can no longer be reached: why.
    Failed(String),
}

pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1}s")
    } else {
        format!("{}s", d.as_secs())
    }
}

/// Calls `check` until it reports [`Step::Done`] or [`Step::Failed`], or
/// `timeout` has passed. An error from `check` ends the wait at once.
pub(crate) async fn poll<T, F, Fut>(
    addr: &Address,
    progress: &dyn Progress,
    backoff: Backoff,
    timeout: Duration,
    goal: &str,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut delay = backoff.start;
    let mut last_status: Option<String> = None;
    let mut last_note = started;
    loop {
        match check().await? {
            Step::Done(v) => {
                tracing::debug!(%addr, goal, after = %secs(started.elapsed()), "wait done");
                return Ok(v);
            }
            Step::Failed(why) => {
                tracing::debug!(%addr, goal, %why, "wait failed");
                return Err(anyhow!("{why}"));
            }
            Step::Pending(status) => {
                tracing::trace!(%addr, goal, %status, "still waiting");
                let now = Instant::now();
                if now >= deadline {
                    return Err(anyhow!(
                        "timed out after {} waiting for {goal} (status still {status})",
                        secs(timeout)
                    ));
                }
                // Say something when the status changes, else every ~10 s.
                if last_status.as_deref() != Some(status.as_str())
                    || now - last_note >= Duration::from_secs(10)
                {
                    progress.note(
                        addr,
                        &format!("waiting for {goal} ({status}, {})", secs(now - started)),
                    );
                    last_note = now;
                    last_status = Some(status);
                }
                sleep(delay.min(deadline - now)).await;
                delay = backoff.next(delay, started.elapsed());
            }
        }
    }
}

/// A retry policy: which refusals heal by themselves, how long to wait
/// them out, and what to tell the user meanwhile. Every bounded retry in the
/// AWS layer is one of these, run with [`Retry::run`].
#[derive(Clone, Copy)]
pub(crate) struct Retry {
    pub backoff: Backoff,
    pub limit: Duration,
    /// The condition being waited out, for the progress note.
    pub why: &'static str,
    pub when: fn(&anyhow::Error) -> bool,
}

impl Retry {
    /// A role created or changed moments ago is not usable by the service yet.
    pub const PROPAGATION: Retry = Retry {
        backoff: Backoff::RETRY,
        limit: PROPAGATION_LIMIT,
        why: super::PROPAGATION_WHY,
        when: super::is_role_propagation,
    };

    /// Another operation on the resource is still in flight.
    pub const fn conflict(why: &'static str) -> Retry {
        Retry {
            backoff: Backoff::RETRY,
            limit: CONFLICT_LIMIT,
            why,
            when: super::is_conflict,
        }
    }

    /// The same policy for other refusals.
    pub const fn when(self, when: fn(&anyhow::Error) -> bool) -> Retry {
        Retry { when, ..self }
    }

    /// The same policy, with another note.
    pub const fn why(self, why: &'static str) -> Retry {
        Retry { why, ..self }
    }

    /// Runs `op` (a request clone is made per attempt) under this policy.
    pub async fn run<T, F, Fut>(&self, addr: &Address, progress: &dyn Progress, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        retry(
            addr,
            progress,
            self.backoff,
            self.limit,
            self.why,
            self.when,
            op,
        )
        .await
    }
}

/// Runs `op` until it succeeds, fails with an error `retryable` does not
/// accept, or `limit` has passed (then the last error is returned).
/// `why` names the condition being waited out, for the progress note.
async fn retry<T, F, Fut>(
    addr: &Address,
    progress: &dyn Progress,
    backoff: Backoff,
    limit: Duration,
    why: &str,
    retryable: impl Fn(&anyhow::Error) -> bool,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + limit;
    let mut delay = backoff.start;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(e.context(format!(
                        "still failing after retrying for {} ({why})",
                        secs(limit)
                    )));
                }
                let wait = delay.min(deadline - now);
                tracing::debug!(
                    %addr,
                    why,
                    retry_in = %secs(wait),
                    error = %super::service_message(&e),
                    "retrying"
                );
                progress.note(
                    addr,
                    &format!(
                        "{why}; retrying in {}: {}",
                        secs(wait),
                        super::service_message(&e)
                    ),
                );
                sleep(wait).await;
                delay = backoff.next(delay, Duration::ZERO);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const FAST: Backoff = Backoff {
        start: Duration::from_millis(5),
        factor: 1.5,
        cap: Duration::from_millis(20),
        proportion: None,
    };

    #[test]
    fn polling_sees_a_status_within_5_percent_of_the_wait_or_a_tenth_of_a_second() {
        // Read times for a long wait; between two reads, the status may
        // change just after the first: it is seen at the second.
        let mut t = Duration::ZERO;
        let mut d = Backoff::POLL.start;
        let mut reads = vec![t];
        while t < Duration::from_secs(600) {
            t += d;
            reads.push(t);
            d = Backoff::POLL.next(d, t);
        }
        for w in reads.windows(2) {
            let late = w[1] - w[0];
            let bound = Duration::from_millis(100).max(w[0].mul_f64(0.05));
            assert!(late <= bound + Duration::from_millis(1), "{w:?}");
        }
        let in_a_minute = reads
            .iter()
            .filter(|r| **r <= Duration::from_secs(60))
            .count();
        assert!(in_a_minute <= 90, "{in_a_minute} reads in the first minute");
    }

    struct Notes(Mutex<Vec<String>>);
    impl Progress for Notes {
        fn note(&self, _addr: &Address, message: &str) {
            self.0.lock().unwrap().push(message.to_string());
        }
    }

    #[tokio::test]
    async fn poll_reaches_goal_and_reports_status() {
        let addr = Address::Gateway("main".into());
        let notes = Notes(Mutex::new(vec![]));
        let n = AtomicU32::new(0);
        let v = poll(
            &addr,
            &notes,
            FAST,
            Duration::from_secs(60),
            "READY",
            || async {
                Ok(if n.fetch_add(1, Ordering::SeqCst) < 3 {
                    Step::Pending("CREATING".into())
                } else {
                    Step::Done(7)
                })
            },
        )
        .await
        .unwrap();
        assert_eq!(v, 7);
        let notes = notes.0.lock().unwrap();
        assert_eq!(notes.len(), 1, "one note per status change: {notes:?}");
        assert!(notes[0].starts_with("waiting for READY (CREATING"));
    }

    #[tokio::test]
    async fn poll_times_out_and_fails() {
        let addr = Address::Runtime("agent".into());
        let err = poll::<(), _, _>(
            &addr,
            &crate::model::NoProgress,
            FAST,
            Duration::from_millis(100),
            "READY",
            || async { Ok(Step::Pending("CREATING".into())) },
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("timed out after 0.1s waiting for READY (status still CREATING)"),
            "{err}"
        );
        let err = poll::<(), _, _>(
            &addr,
            &crate::model::NoProgress,
            FAST,
            Duration::from_millis(100),
            "READY",
            || async { Ok(Step::Failed("CREATE_FAILED: bad image".into())) },
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "CREATE_FAILED: bad image");
    }

    #[tokio::test]
    async fn retry_is_bounded_and_selective() {
        let addr = Address::Function("f".into());
        let n = AtomicU32::new(0);
        let v = retry(
            &addr,
            &crate::model::NoProgress,
            FAST,
            Duration::from_secs(30),
            "role not ready",
            |e| e.to_string() == "again",
            || async {
                if n.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(anyhow!("again"))
                } else {
                    Ok(1)
                }
            },
        )
        .await
        .unwrap();
        assert_eq!((v, n.load(Ordering::SeqCst)), (1, 3));

        let err = retry::<(), _, _>(
            &addr,
            &crate::model::NoProgress,
            FAST,
            Duration::from_millis(100),
            "role not ready",
            |_| true,
            || async { Err(anyhow!("again")) },
        )
        .await
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("still failing after retrying for 0.1s"),
            "{err:#}"
        );

        let n = AtomicU32::new(0);
        let err = retry::<(), _, _>(
            &addr,
            &crate::model::NoProgress,
            FAST,
            Duration::from_secs(30),
            "x",
            |_| false,
            || async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(anyhow!("hard"))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.to_string(), n.load(Ordering::SeqCst)),
            ("hard".to_string(), 1)
        );
    }
}
