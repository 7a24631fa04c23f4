//! What the blocking driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core; a socket timeout is set from it before each blocking call.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::Instant,
};

use crate::{error::Result, proto::engine::Event};

/// Runs `work`, already bounded by the socket timeouts it set from its
/// deadline, and reports its event.
fn within(_deadline: Instant, work: impl FnOnce() -> Result<Event>) -> Event {
    work().unwrap_or_else(Event::Failed)
}

macro_rules! within {
    ($deadline:expr, $body:block) => {
        within($deadline, || $body)
    };
}

fn pause(until: Instant) {
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
}

perform_actions!([], []);
