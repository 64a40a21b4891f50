//! The project lock around apply and destroy, and `agentform force-unlock`.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use console::style;

use super::{Ctx, OK};
use crate::aws::Aws;
use crate::spec;

/// Runs `body` holding the project's lock in this region, and releases it
/// however `body` ends.
pub(super) async fn holding<F, Fut>(
    aws: &Aws,
    project: &str,
    operation: &str,
    timeout: Duration,
    body: F,
) -> Result<i32>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<i32>>,
{
    // The account is identified while the lock is taken (one round trip
    // instead of two); "no region" or "no credentials" is said as plainly
    // as plan would, and a lock taken meanwhile is given back.
    let (account, lock) = tokio::join!(
        aws.account(),
        aws.lock(project, operation, timeout, &|m| eprintln!("{m}"))
    );
    if let Err(e) = account {
        if let Ok(lock) = lock {
            let _ = aws.unlock(project, &lock).await;
        }
        return Err(e);
    }
    let lock = lock?;
    let result = body().await;
    if let Err(e) = aws.unlock(project, &lock).await {
        eprintln!(
            "{} could not release the lock: {e:#}\nRelease it with `agentform force-unlock {}` once no run is left.",
            style("warning:").yellow().bold(),
            lock.id
        );
    }
    result
}

pub(super) async fn force_unlock(ctx: &Ctx, id: &str) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let aws = ctx.aws(&l).await?;
    let held = aws.force_unlock(&l.spec.project, id).await?;
    println!("Released the lock: {}.", held.describe());
    Ok(OK)
}
