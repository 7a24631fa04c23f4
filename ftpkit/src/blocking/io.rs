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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use ftpkit_testkit::{
        hash::random_bytes,
        memory::{Content, MemoryServer},
    };
    use socket2::SockRef;

    use crate::{Client, Config};

    fn client(server: &MemoryServer, config: Config) -> Client {
        let mut ftp = Client::connect_with(&server.addr().to_string(), config).unwrap();
        ftp.login("tester", "pw").unwrap();
        ftp
    }

    /// A server with `f0.bin`, `f1.bin` and `f2.bin`, of about `size`
    /// random bytes each, and their contents.
    fn three_files(size: usize) -> (MemoryServer, Vec<Vec<u8>>) {
        let server = MemoryServer::start();
        let files: Vec<Vec<u8>> = (0..3).map(|i| random_bytes(size + i, i as u64)).collect();
        for (i, data) in files.iter().enumerate() {
            server.put_file(&format!("f{i}.bin"), data.clone());
        }
        (server, files)
    }

    /// The control socket's read timeout, as the kernel has it.
    fn control_timeout(ftp: &Client) -> Option<Duration> {
        let tcp = ftp.io.control.as_ref().and_then(|c| c.tcp()).unwrap();
        SockRef::from(tcp).read_timeout().unwrap()
    }

    #[test]
    fn the_control_timeout_is_set_again_only_when_it_changes() {
        let server = MemoryServer::start();
        let mut ftp = client(&server, Config::default().timeout(Duration::from_secs(30)));
        let set = control_timeout(&ftp).unwrap();
        assert!(set > Duration::from_secs(29) && set <= Duration::from_secs(30));
        // A mark only this test puts there, behind the client's back: a
        // command that set the timeout again would wipe it.
        let mark = Duration::from_secs(123);
        let tcp = ftp.io.control.as_ref().and_then(|c| c.tcp()).unwrap();
        SockRef::from(tcp).set_read_timeout(Some(mark)).unwrap();
        for _ in 0..3 {
            ftp.noop().unwrap();
        }
        assert_eq!(control_timeout(&ftp), Some(mark));
        // A new idle timeout is a change: set at the next command.
        ftp.core.config.timeout = Duration::from_secs(7);
        ftp.noop().unwrap();
        let set = control_timeout(&ftp).unwrap();
        assert!(
            set > Duration::from_secs(6) && set <= Duration::from_secs(7),
            "{set:?}"
        );
    }

    #[test]
    fn a_control_timeout_far_from_the_one_wanted_is_set() {
        use crate::driver::{Direction::*, timeout_holds};
        let wanted = Duration::from_secs(30);
        let ms = Duration::from_millis;
        for direction in [Read, Write] {
            assert!(timeout_holds(Some(wanted), wanted, direction));
            assert!(timeout_holds(Some(wanted - ms(4)), wanted, direction));
            assert!(timeout_holds(Some(wanted + ms(4)), wanted, direction));
            assert!(!timeout_holds(Some(wanted + ms(6)), wanted, direction));
            assert!(!timeout_holds(None, wanted, direction));
        }
        // A shorter write timeout could cut a write halfway: never kept.
        assert!(!timeout_holds(Some(wanted - ms(6)), wanted, Write));
        // A shorter read timeout only wakes the read early: kept.
        assert!(timeout_holds(Some(ms(1)), wanted, Read));
    }

    #[test]
    fn a_read_woken_early_by_a_shorter_timeout_waits_for_its_reply() {
        // A server that answers NOOP only after 300 ms.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            peer.write_all(b"220 ready\r\n").unwrap();
            let mut line = [0u8; 6];
            peer.read_exact(&mut line).unwrap();
            assert_eq!(&line, b"NOOP\r\n");
            std::thread::sleep(Duration::from_millis(300));
            peer.write_all(b"200 fine\r\n").unwrap();
            let mut rest = Vec::new();
            let _ = peer.read_to_end(&mut rest);
        });
        let mut ftp = Client::connect_with(&addr.to_string(), Config::default()).unwrap();
        // The read timeout a short wait (a batch's grace) left behind: the
        // client knows it and keeps it for the long wait that follows.
        let tcp = ftp.io.control.as_ref().and_then(|c| c.tcp()).unwrap();
        let short = Duration::from_millis(50);
        SockRef::from(tcp).set_read_timeout(Some(short)).unwrap();
        *ftp.io.control_timeouts.of(crate::driver::Direction::Read) = Some(short);
        let started = Instant::now();
        ftp.noop().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(250));
        drop(ftp);
        server.join().unwrap();
    }

    #[test]
    fn streaming_gets_reuse_the_connections_block() {
        let (server, files) = three_files(5000);
        let mut ftp = client(&server, Config::default().block_size(4096));
        let mut first = None;
        for (i, data) in files.iter().enumerate() {
            let mut out = Vec::new();
            ftp.get(format!("f{i}.bin"), &mut out).unwrap();
            assert_eq!(&out, data);
            let [block] = ftp.io.blocks.as_slice() else {
                panic!("{} blocks kept", ftp.io.blocks.len());
            };
            let at = block.filled(0).as_ptr();
            assert_eq!(*first.get_or_insert(at), at, "file {i} had a new block");
        }
        // An upload takes the same one, and gives it back.
        ftp.put("up.bin", &mut files[0].as_slice()).unwrap();
        assert_eq!(
            server.file("up.bin"),
            Some(Content::Bytes(files[0].clone()))
        );
        assert_eq!(ftp.io.blocks.len(), 1);
        assert_eq!(ftp.io.blocks[0].filled(0).as_ptr(), first.unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn download_plans_reuse_the_connections_splice_pipe() {
        let (server, files) = three_files(70_000);
        let dir = tempfile::tempdir().unwrap();
        let mut ftp = client(&server, Config::default());
        let mut first = None;
        for (i, data) in files.iter().enumerate() {
            let path = dir.path().join(format!("f{i}.bin"));
            ftp.download(format!("f{i}.bin"), &path).run().unwrap();
            assert_eq!(&std::fs::read(&path).unwrap(), data);
            let pipe = ftp.io.pipe.as_ref().expect("the pipe is kept").id();
            assert_eq!(*first.get_or_insert(pipe), pipe, "file {i} had a new pipe");
        }
    }

    /// Every data connection, passive or active, upload or download,
    /// passes through `open_data`: its unsent bytes are capped there at
    /// the limit asked (the default's, another, or none), and its idle
    /// timeout set for reads, and for writes when it writes.
    #[test]
    fn a_data_connection_caps_its_unsent_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let idle = Duration::from_secs(5);
        for limit in [Config::default().unsent_limit, Some(16 * 1024), None] {
            for writes in [true, false] {
                let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                let mut io = Io::default();
                io.open_data(tcp, idle, (writes, limit), None).unwrap();
                let socket = io.data().unwrap().socket().unwrap();
                assert_eq!(socket.read_timeout().unwrap(), Some(idle));
                let write = socket.write_timeout().unwrap();
                assert_eq!(write, writes.then_some(idle), "writes: {writes}");
                crate::driver::assert_unsent_limited(socket, limit);
            }
        }
    }
}
