//! What the blocking driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core; a socket timeout is set from it before each blocking call.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::Instant,
};

use super::{
    net,
    stream::{Socket, Stream},
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Every data connection, passive or active, upload or download,
    /// passes through `open_data`: its unsent bytes are capped there.
    #[test]
    fn a_data_connection_caps_its_unsent_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut io = Io::default();
        io.open_data(tcp, Duration::from_secs(5), None).unwrap();
        crate::driver::assert_unsent_limited(io.data().unwrap().socket().unwrap());
    }
}
