//! Scenarios that only the async client has, each with the reason it runs
//! on one driver: what a future can do that a blocking call cannot (be
//! dropped half-way, be sent to another thread).

use std::time::Duration;

use ftpkit::{AsyncClient, Error, ReplyCode};
use ftpkit_testkit::{DataFault, FakeServer, Script};
use tokio::runtime::Runtime;

use crate::{
    dialogue::{binary_epsv, quick},
    driver::asynchronous::runtime,
};

fn logged_in(script: Script) -> (FakeServer, Runtime, AsyncClient) {
    let rt = runtime();
    let (server, client) = rt.block_on(crate::dialogue::logged_in_async_with(script, quick()));
    (server, rt, client)
}

/// Async only: a blocking call has no future to send across threads.
#[test]
fn the_client_and_its_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let (server, rt, mut client) = logged_in(Script::new().expect("NOOP").reply("200 ok"));
    send(&client);
    let fut = client.noop();
    send(&fut);
    assert_eq!(rt.block_on(fut).unwrap().code(), ReplyCode(200));
    server.finish();
}

/// Async only: a blocking download cannot be dropped mid-way by its caller.
#[test]
fn a_download_future_dropped_mid_way_is_aborted_by_the_next_call() {
    let (server, rt, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[1u8; 300_000], DataFault::StallAt(100_000))
            .expect("ABOR")
            .reply("426 aborted")
            .reply("226 abort ok")
            .expect("NOOP")
            .reply("200 ok")
            .expect("PWD")
            .reply("257 \"/\""),
    );
    let mut out = Vec::new();
    rt.block_on(async {
        let cut = tokio::time::timeout(Duration::from_millis(500), client.get("f", &mut out)).await;
        assert!(cut.is_err(), "the stalled download finished: {cut:?}");
        assert_eq!(client.pwd().await.unwrap(), "/");
    });
    assert_eq!(out.len(), 100_000);
    server.finish();
}

/// Async only: a blocking command cannot be dropped mid-exchange.
#[test]
fn a_command_future_dropped_mid_exchange_leaves_the_client_unusable() {
    let (server, rt, mut client) = logged_in(Script::new().expect("PWD").never_reply());
    rt.block_on(async {
        let cut = tokio::time::timeout(Duration::from_millis(200), client.pwd()).await;
        assert!(cut.is_err());
        assert!(client.is_unusable());
        assert!(matches!(client.noop().await, Err(Error::Unusable)));
    });
    server.finish_allow_unplayed();
}
