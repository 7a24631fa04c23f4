//! The blocking pool: threads wait on a condition variable; the policy is
//! [`Slots`].

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::Instant,
};

use super::Client;
use crate::{
    error::Result,
    pool::{Checkout, PoolConfig, Slots, acquire_timed_out},
};

type Factory = dyn Fn() -> Result<Client> + Send + Sync;

struct Shared {
    slots: Mutex<Slots<Client>>,
    freed: Condvar,
    factory: Box<Factory>,
    config: PoolConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slots<Client>> {
        // A thread that panicked while holding the lock left the counts
        // consistent (no code between lock and unlock can panic).
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A pool of blocking clients, cheap to clone and shared between threads.
///
/// ```no_run
/// use ftpkit::{Client, pool::{Pool, PoolConfig}};
///
/// let pool = Pool::new(PoolConfig::default().max_size(4), || {
///     let mut ftp = Client::connect("ftp.example.com")?;
///     ftp.login("user", "password")?;
///     ftp.cwd("/pub")?;
///     Ok(ftp)
/// });
/// std::thread::scope(|s| {
///     for name in ["a.bin", "b.bin", "c.bin"] {
///         let pool = &pool;
///         s.spawn(move || -> ftpkit::Result<u64> {
///             let mut ftp = pool.get()?;
///             ftp.get(name, &mut std::io::sink())
///         });
///     }
/// });
/// # Ok::<(), ftpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.shared.lock();
        f.debug_struct("Pool")
            .field("in_use", &slots.in_use())
            .field("idle", &slots.idle())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool whose connections come from `factory` (connect, log in,
    /// change directory). Nothing connects until the first [`Pool::get`].
    pub fn new(
        config: PoolConfig,
        factory: impl Fn() -> Result<Client> + Send + Sync + 'static,
    ) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                slots: Mutex::new(Slots::new(&config)),
                freed: Condvar::new(),
                factory: Box::new(factory),
                config,
            }),
        }
    }

    /// A connection: an idle one (checked with `NOOP` if it was idle long,
    /// replaced if that fails), or a new one while the pool is below its
    /// size, or the first one returned, waiting up to
    /// [`PoolConfig::acquire_timeout`].
    pub fn get(&self) -> Result<PooledClient> {
        let deadline = Instant::now() + self.shared.config.acquire_timeout;
        let mut slots = self.shared.lock();
        let step = loop {
            match slots.checkout(Instant::now()) {
                Checkout::Wait => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(acquire_timed_out(self.shared.config.acquire_timeout));
                    }
                    slots = self
                        .shared
                        .freed
                        .wait_timeout(slots, deadline - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
                other => break other,
            }
        };
        drop(slots);
        // The slot is ours from here on: a failure below gives it back.
        let mut slot = Slot {
            shared: &self.shared,
            armed: true,
        };
        let client = match step {
            Checkout::Reuse { mut conn, check } => {
                if !check || conn.noop().is_ok() {
                    conn
                } else {
                    tracing::debug!(target: "ftpkit::pool", "an idle connection failed its health check; reconnecting");
                    (self.shared.factory)()?
                }
            }
            _ => (self.shared.factory)()?,
        };
        slot.armed = false;
        Ok(PooledClient {
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

/// A reserved slot that is given back unless disarmed.
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

/// A client borrowed from a [`Pool`]; use it as a [`Client`]. Dropped, it
/// goes back to the pool, unless an earlier failure left it unusable (then
/// it is closed and its slot freed). `Send`: it can move between threads.
pub struct PooledClient {
    client: Option<Client>,
    shared: Arc<Shared>,
}

impl fmt::Debug for PooledClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledClient").field(&self.client).finish()
    }
}

impl PooledClient {
    /// Closes this connection instead of returning it to the pool.
    pub fn discard(mut self) {
        self.client = None;
    }
}

impl Deref for PooledClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        // Always `Some` until drop or discard, which consume the guard.
        match &self.client {
            Some(client) => client,
            None => unreachable!("a pooled client is present until dropped"),
        }
    }
}

impl DerefMut for PooledClient {
    fn deref_mut(&mut self) -> &mut Client {
        match &mut self.client {
            Some(client) => client,
            None => unreachable!("a pooled client is present until dropped"),
        }
    }
}

impl Drop for PooledClient {
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
