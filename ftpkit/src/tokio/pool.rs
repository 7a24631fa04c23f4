//! The async pool: tasks wait on a notifier; the policy is
//! [`Slots`](crate::pool::Slots), the rest is written once in
//! `crate::driver`.

use std::{future::Future, pin::Pin, time::Instant};

use tokio::sync::Notify;

use super::AsyncClient;
use crate::{
    error::Result,
    pool::{Checkout, PoolConfig, acquire_timed_out},
};

type Connecting = Pin<Box<dyn Future<Output = Result<AsyncClient>> + Send>>;
type Factory = dyn Fn() -> Connecting + Send + Sync;

pool_half!(
    /// A pool of async clients, cheap to clone and shared between tasks.
    ///
    /// ```no_run
    /// use ftpkit::{AsyncClient, pool::{AsyncPool, PoolConfig}};
    ///
    /// # async fn run() -> ftpkit::Result<()> {
    /// let pool = AsyncPool::new(PoolConfig::default().max_size(8), || async {
    ///     let mut ftp = AsyncClient::connect("ftp.example.com").await?;
    ///     ftp.login("user", "password").await?;
    ///     Ok(ftp)
    /// });
    /// let mut ftp = pool.get().await?;
    /// ftp.get("a.bin", &mut tokio::io::sink()).await?;
    /// # Ok(()) }
    /// ```
    pool: AsyncPool,
    /// An async client borrowed from an [`AsyncPool`]; use it as an
    /// [`AsyncClient`]. Dropped, it goes back to the pool unless it is
    /// unusable; a transfer it left to abort is aborted by its next user's
    /// first call, as on any [`AsyncClient`].
    pooled: PooledAsyncClient,
    AsyncClient,
    Notify,
    Factory,
    [async], [.await]
);

impl AsyncPool {
    /// A pool whose connections come from `factory` (connect, log in,
    /// change directory). Nothing connects until the first [`AsyncPool::get`].
    pub fn new<F, Fut>(config: PoolConfig, factory: F) -> AsyncPool
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<AsyncClient>> + Send + 'static,
    {
        let factory: Box<Factory> = Box::new(move || Box::pin(factory()));
        AsyncPool::with(config, factory)
    }

    /// A connection: an idle one (checked with `NOOP` if it was idle long,
    /// replaced if that fails), or a new one while the pool is below its
    /// size, or the first one returned, waiting up to
    /// [`PoolConfig::acquire_timeout`]. Dropping this future at any point
    /// gives the slot back.
    pub async fn get(&self) -> Result<PooledAsyncClient> {
        let wait = self.shared.config.acquire_timeout;
        let deadline = tokio::time::Instant::now() + wait;
        let step = loop {
            let freed = self.shared.freed.notified();
            tokio::pin!(freed);
            // Registered before looking, so a check-in in between is not missed.
            freed.as_mut().enable();
            match self.shared.lock().checkout(Instant::now()) {
                Checkout::Wait => {}
                other => break other,
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return Err(acquire_timed_out(wait));
            }
        };
        self.hand_out(step).await
    }
}
