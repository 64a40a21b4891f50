//! The advisory lock that keeps two applies (or an apply and a destroy) of
//! one project in one region from running at once.
//!
//! The lock is an SSM parameter, `/agentform/<project>/lock`, created with
//! `PutParameter(Overwrite=false)`: SSM creates a parameter atomically or
//! answers `ParameterAlreadyExists`, so exactly one run wins. SSM is
//! regional, like the stack; the parameter is tagged with the project and
//! holds who holds it (user, host, process, operation), since when, until
//! when, and a random id for `agentform force-unlock ID`. It is deleted when
//! the run ends, however it ends short of SIGKILL. A lock left by a killed
//! run is taken over when its lease has expired, or at once when it was
//! taken on this host by a process that no longer runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};

use super::{SdkResultExt, error_code, found};
use crate::names::TAG_PROJECT;

/// How long a lock holds when its holder is gone without releasing it.
pub const LEASE: Duration = Duration::from_secs(6 * 3600);

/// What the lock parameter holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds.
    pub created: u64,
    pub expires: u64,
}

impl LockInfo {
    /// A lock for this process, now.
    pub fn new(operation: &str) -> LockInfo {
        let created = now();
        let who = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let host = hostname();
        let pid = std::process::id();
        // Unique enough to name one lock: time, process and host.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let id = {
            use sha2::{Digest, Sha256};
            let d = Sha256::digest(format!("{nanos}|{pid}|{host}|{who}").as_bytes());
            d.iter().take(8).map(|b| format!("{b:02x}")).collect()
        };
        LockInfo {
            id,
            operation: operation.to_string(),
            who,
            host,
            pid,
            created,
            expires: created + LEASE.as_secs(),
        }
    }

    /// `agentform apply` by alice@ci-7 (pid 4242) since 2026-12-01T20:01:02Z, lock id 1a2b...
    pub fn describe(&self) -> String {
        format!(
            "`agentform {}` by {}@{} (pid {}) since {}, lock id {}",
            self.operation,
            self.who,
            self.host,
            self.pid,
            utc(self.created),
            self.id
        )
    }
}

/// What to do about a lock someone else holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Its holder is gone: take it over.
    Stale,
    /// Wait for it, or give up.
    Held,
}

/// Judges a lock found in place: stale once its lease has expired, or when
/// it was taken on this host by a process that no longer runs.
pub fn judge(held: &LockInfo, now: u64, host: &str, alive: impl Fn(u32) -> bool) -> Verdict {
    if held.expires <= now || (held.host == host && !alive(held.pid)) {
        Verdict::Stale
    } else {
        Verdict::Held
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Whether a process of this host runs (Linux: /proc; elsewhere assume so).
pub fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Unix seconds as an RFC 3339 UTC time (`2025-12-01T20:01:02Z`).
fn utc(secs: u64) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    DateTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

pub fn parameter_name(project: &str) -> String {
    format!("/agentform/{project}/lock")
}

impl super::Aws {
    async fn read_lock(&self, name: &str) -> Result<Option<LockInfo>> {
        let out = found(
            self.ssm
                .get_parameter()
                .name(name)
                .send()
                .await
                .ctx(|| format!("reading the lock {name}")),
        )?;
        let Some(value) = out.and_then(|o| o.parameter).and_then(|p| p.value) else {
            return Ok(None);
        };
        serde_json::from_str(&value)
            .map(Some)
            .with_context(|| format!("the lock {name} holds something agentform did not write"))
    }

    async fn delete_lock(&self, name: &str) -> Result<()> {
        super::gone(
            self.ssm
                .delete_parameter()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .ctx(|| format!("deleting the lock {name}")),
        )
    }

    /// Takes the project's lock, waiting up to `timeout` for another run to
    /// release it (0: do not wait). Fails naming the holder.
    pub async fn lock(
        &self,
        project: &str,
        operation: &str,
        timeout: Duration,
        note: &dyn Fn(&str),
    ) -> Result<LockInfo> {
        let name = parameter_name(project);
        let mine = LockInfo::new(operation);
        let value = serde_json::to_string(&mine)?;
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            let put = self
                .ssm
                .put_parameter()
                .name(&name)
                .value(&value)
                .r#type(ParameterType::String)
                .overwrite(false)
                .description("agentform: a run of this project is in progress")
                .tags(Tag::builder().key(TAG_PROJECT).value(project).build()?)
                .send()
                .await
                .ctx(|| format!("taking the lock {name}"));
            match put {
                Ok(_) => {
                    tracing::debug!(lock = %name, id = %mine.id, "lock taken");
                    return Ok(mine);
                }
                Err(e) if error_code(&e) == Some("ParameterAlreadyExists") => {}
                Err(e) => return Err(e),
            }
            let Some(held) = self.read_lock(&name).await? else {
                continue; // released meanwhile
            };
            match judge(&held, now(), &mine.host, alive) {
                Verdict::Stale => {
                    note(&format!("taking over a stale lock: {}", held.describe()));
                    // Delete only what was judged: a lock taken since stays.
                    if self.read_lock(&name).await?.as_ref() == Some(&held) {
                        self.delete_lock(&name).await?;
                    }
                }
                Verdict::Held if started.elapsed() < timeout => {
                    note(&format!("waiting for the lock: {}", held.describe()));
                    let left = timeout.saturating_sub(started.elapsed());
                    tokio::time::sleep(delay.min(left)).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                Verdict::Held => {
                    bail!(
                        "project `{project}` is locked in this region by {}.\nAnother run is changing this stack; wait for it to finish (or pass --lock-timeout SECONDS to wait). If that run is gone for good, release the lock with `agentform force-unlock {}`.",
                        held.describe(),
                        held.id
                    )
                }
            }
        }
    }

    /// Releases the lock if it is still `mine`.
    pub async fn unlock(&self, project: &str, mine: &LockInfo) -> Result<()> {
        let name = parameter_name(project);
        match self.read_lock(&name).await? {
            Some(held) if held.id == mine.id => self.delete_lock(&name).await,
            Some(held) => Err(anyhow!(
                "the lock was taken over while this run held it, now: {}",
                held.describe()
            )),
            None => Ok(()),
        }
    }

    /// Deletes the lock with this id (the user's way out after a run died).
    pub async fn force_unlock(&self, project: &str, id: &str) -> Result<LockInfo> {
        let name = parameter_name(project);
        match self.read_lock(&name).await? {
            Some(held) if held.id == id => {
                self.delete_lock(&name).await?;
                Ok(held)
            }
            Some(held) => bail!(
                "the lock of project `{project}` has another id: {}; nothing was released",
                held.describe()
            ),
            None => bail!("project `{project}` is not locked in this region"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(host: &str, pid: u32, expires: u64) -> LockInfo {
        LockInfo {
            id: "abc".into(),
            operation: "apply".into(),
            who: "alice".into(),
            host: host.into(),
            pid,
            created: 1_764_619_262,
            expires,
        }
    }

    #[test]
    fn stale_when_expired_or_its_process_is_gone_from_this_host() {
        let now = 1_000;
        let alive = |pid| pid == 7;
        assert_eq!(
            judge(&held("here", 7, 2_000), now, "here", alive),
            Verdict::Held
        );
        assert_eq!(
            judge(&held("here", 8, 2_000), now, "here", alive),
            Verdict::Stale
        );
        // Another host's process cannot be checked: only the lease counts.
        assert_eq!(
            judge(&held("there", 8, 2_000), now, "here", alive),
            Verdict::Held
        );
        assert_eq!(
            judge(&held("there", 8, 1_000), now, "here", alive),
            Verdict::Stale
        );
    }

    #[test]
    fn describes_the_holder() {
        assert_eq!(
            held("ci-7", 4242, 0).describe(),
            "`agentform apply` by alice@ci-7 (pid 4242) since 2025-12-01T20:01:02Z, lock id abc"
        );
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn a_new_lock_names_this_process() {
        let l = LockInfo::new("destroy");
        assert_eq!(l.pid, std::process::id());
        assert_eq!(l.expires - l.created, LEASE.as_secs());
        assert_eq!(l.id.len(), 16);
        assert!(alive(l.pid));
    }
}
