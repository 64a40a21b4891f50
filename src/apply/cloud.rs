//! The port the executor drives: create, update and delete one resource.
//! [`crate::aws::Aws`] implements it against AWS; the executor's unit tests
//! implement it in memory.

use anyhow::Result;

use crate::model::{DeleteOptions, Desired, Ids, Observed, Progress};

/// One resource at a time, each call idempotent: a create that finds the
/// resource already there from an earlier attempt adopts it, a delete of
/// something already gone succeeds. Every call returns once the resource is
/// usable (or gone), waiting out asynchronous states.
///
/// The executor polls these futures in place (it never spawns them), so
/// they need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Cloud: Sync {
    /// Creates `d` (every value known) and returns its ids. `parent` holds
    /// the ids of the resource it lives in, when it has one.
    async fn create(
        &self,
        d: &Desired,
        parent: Option<&Ids>,
        progress: &dyn Progress,
    ) -> Result<Ids>;

    /// Updates `current` in place to `d`.
    async fn update(&self, d: &Desired, current: &Observed, progress: &dyn Progress)
    -> Result<Ids>;

    /// Waits until `o`, left in a transitional status, is ready; returns its
    /// ids as they are then.
    async fn wait(&self, o: &Observed, progress: &dyn Progress) -> Result<Ids>;

    /// Deletes `o` and waits until it is gone.
    async fn delete(
        &self,
        o: &Observed,
        options: DeleteOptions,
        progress: &dyn Progress,
    ) -> Result<()>;

    /// What to do about a failure, when the cloud knows (missing
    /// permissions, a quota, a rejected value).
    fn hint(&self, _error: &anyhow::Error) -> Option<String> {
        None
    }
}
