//! The blocking pool: threads wait on a condition variable; the policy is
//! [`Slots`](crate::pool::Slots), the rest is written once in
//! `crate::driver`.

use std::{sync::Condvar, time::Instant};

use super::Client;
use crate::{
    error::Result,
    pool::{Checkout, PoolConfig, acquire_timed_out},
};

type Factory = dyn Fn() -> Result<Client> + Send + Sync;

pool_half!(
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
    pool: Pool,
    /// A client borrowed from a [`Pool`]; use it as a [`Client`]. Dropped,
    /// it goes back to the pool, unless an earlier failure left it unusable
    /// (then it is closed and its slot freed). `Send`: it can move between
    /// threads.
    pooled: PooledClient,
    Client,
    Condvar,
    Factory,
    [], []
);

impl Pool {
    /// A pool whose connections come from `factory` (connect, log in,
    /// change directory). Nothing connects until the first [`Pool::get`].
    pub fn new(
        config: PoolConfig,
        factory: impl Fn() -> Result<Client> + Send + Sync + 'static,
    ) -> Pool {
        Pool::with(config, Box::new(factory))
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
        self.hand_out(step)
    }
}
