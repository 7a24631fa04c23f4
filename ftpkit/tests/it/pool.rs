//! The connection pools: the size limit holds under many threads or tasks,
//! connections are reused, an idle connection that fails its `NOOP` is
//! replaced by a new one from the factory, an unusable one is not handed
//! out again, and a full pool makes callers wait, within a bound. Every
//! server here has several sessions at once, so each gets libunftp's wide
//! passive range ([`UnftpServer::start_for_many_sessions`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ftpkit::{
    Client, Config,
    pool::{Pool, PoolConfig},
};
use ftpkit_testkit::{FakeServer, Script, UnftpServer, random_bytes, sha256_hex};

fn quick() -> Config {
    Config::default()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
}

/// A pool on `addr` whose factory counts the connections it makes.
fn counted_pool(addr: String, config: PoolConfig) -> (Pool, Arc<AtomicUsize>) {
    let made = Arc::new(AtomicUsize::new(0));
    let counter = made.clone();
    let pool = Pool::new(config, move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let mut client = Client::connect_with(&addr, quick())?;
        client.login_anonymous()?;
        Ok(client)
    });
    (pool, made)
}

/// Either driver's pool, made by [`counted_pool`] or its async twin, for
/// the dialogues below (`DriverPool::counted`).
trait Counted: Sized {
    fn counted(addr: String, config: PoolConfig) -> (Self, Arc<AtomicUsize>);
}

impl Counted for Pool {
    fn counted(addr: String, config: PoolConfig) -> (Self, Arc<AtomicUsize>) {
        counted_pool(addr, config)
    }
}

#[cfg(feature = "tokio")]
impl Counted for ftpkit::pool::AsyncPool {
    fn counted(addr: String, config: PoolConfig) -> (Self, Arc<AtomicUsize>) {
        nonblocking::counted_async_pool(addr, config)
    }
}

/// Two scripted connections: the first fails its health check with 421,
/// the second serves PWD.
fn failing_then_good() -> FakeServer {
    FakeServer::start(vec![
        Script::login_anonymous()
            .expect("NOOP")
            .reply("421 idle too long")
            .end(),
        Script::login_anonymous()
            .expect("PWD")
            .reply("257 \"/fresh\""),
    ])
}

#[test]
fn pools_and_their_guards_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Pool>();
    send::<ftpkit::pool::PooledClient>();
    #[cfg(feature = "tokio")]
    {
        send_sync::<ftpkit::pool::AsyncPool>();
        send::<ftpkit::pool::PooledAsyncClient>();
    }
    // A guard taken on one thread is used and returned on another.
    let server = UnftpServer::start_for_many_sessions();
    let (pool, made) = counted_pool(server.addr().to_string(), PoolConfig::default());
    let guard = pool.get().unwrap();
    let pwd = std::thread::spawn(move || {
        let mut guard = guard;
        guard.pwd().unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(pwd, "/");
    assert_eq!((pool.status(), made.load(Ordering::SeqCst)), ((0, 1), 1));
}

/// A discarded guard closes its connection instead of returning it: the
/// next checkout makes a new one; a dropped guard returns its connection,
/// which the next checkout reuses.
#[test]
fn a_discarded_connection_is_closed_and_a_dropped_one_returned() {
    let server = UnftpServer::start_for_many_sessions();
    let (pool, made) = counted_pool(server.addr().to_string(), PoolConfig::default());
    let mut first = pool.get().unwrap();
    assert_eq!(first.pwd().unwrap(), "/");
    first.discard();
    assert_eq!((pool.status(), made.load(Ordering::SeqCst)), ((0, 0), 1));
    let mut second = pool.get().unwrap();
    assert_eq!(second.pwd().unwrap(), "/");
    drop(second);
    assert_eq!((pool.status(), made.load(Ordering::SeqCst)), ((0, 1), 2));
    let mut third = pool.get().unwrap();
    assert_eq!(third.pwd().unwrap(), "/");
    drop(third);
    assert_eq!((pool.status(), made.load(Ordering::SeqCst)), ((0, 1), 2));
}

/// Blocking only: threads share the pool (the async twin shares it
/// between tasks, below).
#[test]
fn six_threads_share_two_connections_and_every_byte_arrives() {
    let server = UnftpServer::start_for_many_sessions();
    let (pool, made) = counted_pool(server.addr().to_string(), PoolConfig::default().max_size(2));
    let peak = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for i in 0..6u64 {
            let (pool, peak) = (pool.clone(), peak.clone());
            s.spawn(move || {
                for round in 0..3u64 {
                    let mut ftp = pool.get().unwrap();
                    peak.fetch_max(pool.status().0, Ordering::SeqCst);
                    let data = random_bytes(200_000, i * 10 + round);
                    let name = format!("pool-{i}-{round}.bin");
                    ftp.put(&name, &mut data.as_slice()).unwrap();
                    let mut back = Vec::new();
                    ftp.get(&name, &mut back).unwrap();
                    assert_eq!(sha256_hex(&back), sha256_hex(&data));
                }
            });
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 2);
    let made = made.load(Ordering::SeqCst);
    assert!((1..=2).contains(&made), "{made} connections made");
    assert_eq!(pool.status(), (0, made));
    for i in 0..6 {
        for round in 0..3 {
            let path = server.root().join(format!("pool-{i}-{round}.bin"));
            assert_eq!(std::fs::metadata(path).unwrap().len(), 200_000);
        }
    }
}

dialogue! {
    fn a_connection_that_fails_its_health_check_is_replaced() {
        let server = failing_then_good();
        let (pool, made) = DriverPool::counted(
            server.addr().to_string(),
            PoolConfig::default()
                .max_size(1)
                .check_after_idle(Duration::ZERO),
        );
        drop(w!(pool.get()).unwrap());
        assert_eq!(pool.status(), (0, 1));
        let mut ftp = w!(pool.get()).unwrap();
        assert_eq!(w!(ftp.pwd()).unwrap(), "/fresh");
        drop(ftp);
        assert_eq!(made.load(Ordering::SeqCst), 2);
        let t = server.finish();
        assert_eq!(
            t.commands,
            [
                "USER anonymous",
                "PASS anonymous@",
                "NOOP",
                "USER anonymous",
                "PASS anonymous@",
                "PWD"
            ]
        );
    }
}

dialogue! {
    fn an_unusable_connection_is_not_returned_and_a_full_pool_waits_within_its_bound() {
        let server = failing_then_good();
        let (pool, made) = DriverPool::counted(
            server.addr().to_string(),
            PoolConfig::default()
                .max_size(1)
                .acquire_timeout(Duration::from_millis(300)),
        );
        let mut first = w!(pool.get()).unwrap();
        let started = Instant::now();
        let err = w!(pool.get()).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        assert_eq!(pool.status(), (1, 0));
        // The 421 leaves the client unusable: dropped, it frees its slot.
        assert!(w!(first.noop()).is_err());
        assert!(first.is_unusable());
        drop(first);
        assert_eq!(pool.status(), (0, 0));
        let mut second = w!(pool.get()).unwrap();
        assert_eq!(w!(second.pwd()).unwrap(), "/fresh");
        drop(second);
        assert_eq!(made.load(Ordering::SeqCst), 2);
        server.finish();
    }
}

/// Blocking only: threads wait on the pool (the async twin waits in tasks,
/// below).
#[test]
fn a_thread_waiting_on_a_full_pool_gets_the_returned_connection() {
    let server = UnftpServer::start_for_many_sessions();
    let (pool, made) = counted_pool(server.addr().to_string(), PoolConfig::default().max_size(1));
    let held = pool.get().unwrap();
    let waiter = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut ftp = pool.get().unwrap();
            ftp.noop().unwrap();
            started.elapsed()
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    drop(held);
    let waited = waiter.join().unwrap();
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert_eq!(made.load(Ordering::SeqCst), 1);
    assert!(pool.get().is_ok());
}

#[cfg(feature = "tokio")]
mod nonblocking {
    use super::*;
    use ftpkit::{AsyncClient, pool::AsyncPool};

    pub(super) fn counted_async_pool(
        addr: String,
        config: PoolConfig,
    ) -> (AsyncPool, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = made.clone();
        let pool = AsyncPool::new(config, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let addr = addr.clone();
            async move {
                let mut client = AsyncClient::connect_with(&addr, quick()).await?;
                client.login_anonymous().await?;
                Ok(client)
            }
        });
        (pool, made)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Async only: tasks on a multi-threaded runtime share the pool (the
    /// blocking twin shares it between threads, above).
    #[test]
    fn sixteen_tasks_share_three_connections_and_every_byte_arrives() {
        let server = UnftpServer::start_for_many_sessions();
        let (pool, made) =
            counted_async_pool(server.addr().to_string(), PoolConfig::default().max_size(3));
        let peak = Arc::new(AtomicUsize::new(0));
        runtime().block_on(async {
            let mut tasks = Vec::new();
            for i in 0..16u64 {
                let (pool, peak) = (pool.clone(), peak.clone());
                tasks.push(tokio::spawn(async move {
                    let mut ftp = pool.get().await.unwrap();
                    peak.fetch_max(pool.status().0, Ordering::SeqCst);
                    let data = random_bytes(100_000, i);
                    let name = format!("apool-{i}.bin");
                    ftp.put(&name, &mut data.as_slice()).await.unwrap();
                    let mut back = Vec::new();
                    ftp.get(&name, &mut back).await.unwrap();
                    assert_eq!(sha256_hex(&back), sha256_hex(&data));
                }));
            }
            for task in tasks {
                tokio::time::timeout(Duration::from_secs(60), task)
                    .await
                    .unwrap()
                    .unwrap();
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 3);
        let made = made.load(Ordering::SeqCst);
        assert!((1..=3).contains(&made), "{made} connections made");
        assert_eq!(pool.status(), (0, made));
    }

    /// Async only: a wait on a full pool is a future a caller may drop.
    #[test]
    fn a_dropped_wait_on_a_full_pool_frees_nothing() {
        let server = failing_then_good();
        let (pool, made) = counted_async_pool(
            server.addr().to_string(),
            PoolConfig::default()
                .max_size(1)
                .acquire_timeout(Duration::from_millis(300)),
        );
        runtime().block_on(async {
            let mut first = pool.get().await.unwrap();
            let cut = tokio::time::timeout(Duration::from_millis(50), pool.get()).await;
            assert!(cut.is_err());
            assert_eq!(pool.status(), (1, 0));
            assert!(first.noop().await.is_err());
            drop(first);
            assert_eq!(pool.status(), (0, 0));
            let mut second = pool.get().await.unwrap();
            assert_eq!(second.pwd().await.unwrap(), "/fresh");
        });
        assert_eq!(made.load(Ordering::SeqCst), 2);
        server.finish();
    }
}
