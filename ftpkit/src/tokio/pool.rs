//! The async pool: tasks wait on a notifier; the policy is [`Slots`].

use std::{
    fmt,
    future::Future,
    ops::{Deref, DerefMut},
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use tokio::sync::Notify;

use super::AsyncClient;
use crate::{
    error::Result,
    pool::{Checkout, PoolConfig, Slots, acquire_timed_out},
};

type Connecting = Pin<Box<dyn Future<Output = Result<AsyncClient>> + Send>>;
type Factory = dyn Fn() -> Connecting + Send + Sync;

struct Shared {
    slots: Mutex<Slots<AsyncClient>>,
    freed: Notify,
    factory: Box<Factory>,
    config: PoolConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slots<AsyncClient>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

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
#[derive(Clone)]
pub struct AsyncPool {
    shared: Arc<Shared>,
}

impl fmt::Debug for AsyncPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.shared.lock();
        f.debug_struct("AsyncPool")
            .field("in_use", &slots.in_use())
            .field("idle", &slots.idle())
            .finish_non_exhaustive()
    }
}

impl AsyncPool {
    /// A pool whose connections come from `factory` (connect, log in,
    /// change directory). Nothing connects until the first [`AsyncPool::get`].
    pub fn new<F, Fut>(config: PoolConfig, factory: F) -> AsyncPool
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<AsyncClient>> + Send + 'static,
    {
        AsyncPool {
            shared: Arc::new(Shared {
                slots: Mutex::new(Slots::new(&config)),
                freed: Notify::new(),
                factory: Box::new(move || Box::pin(factory())),
                config,
            }),
        }
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
        let mut slot = Slot {
            shared: &self.shared,
            armed: true,
        };
        let client = match step {
            Checkout::Reuse { mut conn, check } => {
                if !check || conn.noop().await.is_ok() {
                    conn
                } else {
                    tracing::debug!(target: "ftpkit::pool", "an idle connection failed its health check; reconnecting");
                    (self.shared.factory)().await?
                }
            }
            _ => (self.shared.factory)().await?,
        };
        slot.armed = false;
        Ok(PooledAsyncClient {
            client: Some(client),
            shared: self.shared.clone(),
        })
    }

    /// Connections handed out and idle.
    pub fn status(&self) -> (usize, usize) {
        let slots = self.shared.lock();
        (slots.in_use(), slots.idle())
    }
}

struct Slot<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.lock().discard();
            self.shared.freed.notify_one();
        }
    }
}

/// An async client borrowed from an [`AsyncPool`]; use it as an
/// [`AsyncClient`]. Dropped, it goes back to the pool unless it is
/// unusable; a transfer it left to abort is aborted by its next user's
/// first call, as on any [`AsyncClient`].
pub struct PooledAsyncClient {
    client: Option<AsyncClient>,
    shared: Arc<Shared>,
}

impl fmt::Debug for PooledAsyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledAsyncClient")
            .field(&self.client)
            .finish()
    }
}

impl PooledAsyncClient {
    /// Closes this connection instead of returning it to the pool.
    pub fn discard(mut self) {
        self.client = None;
    }
}

impl Deref for PooledAsyncClient {
    type Target = AsyncClient;

    fn deref(&self) -> &AsyncClient {
        match &self.client {
            Some(client) => client,
            None => unreachable!("a pooled client is present until dropped"),
        }
    }
}

impl DerefMut for PooledAsyncClient {
    fn deref_mut(&mut self) -> &mut AsyncClient {
        match &mut self.client {
            Some(client) => client,
            None => unreachable!("a pooled client is present until dropped"),
        }
    }
}

impl Drop for PooledAsyncClient {
    fn drop(&mut self) {
        let mut slots = self.shared.lock();
        match self.client.take() {
            Some(client) if !client.is_unusable() => slots.checkin(client, Instant::now()),
            _ => slots.discard(),
        }
        drop(slots);
        self.shared.freed.notify_one();
    }
}
