//! Address games: passive replies naming other hosts, impossible ports
//! or made-up numbers, and active-mode intruders: the data connection
//! goes to the server or nowhere.

use super::*;

dialogue! {
    /// A 227 naming another host is ignored: the data connection goes to
    /// the control connection's peer (CVE-2021-4189), and the transfer
    /// works.
    fn a_227_pointing_elsewhere_is_ignored() within(GUARD) {
        let (server, mut c) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply("500 no EPSV")
                .expect("PASV")
                .pasv_reply_addr([10, 66, 66, 66])
                .expect("RETR f")
                .reply("150 go")
                .send_data(b"from the real server")
                .reply("226 ok")
        );
        let mut out = Vec::new();
        timed!(BOUND, w!(c.get("f", &mut out))).unwrap();
        assert_eq!(out, b"from the real server");
        drop(c);
        let t = server.finish_allow_unplayed();
        assert!(t.failure.is_none(), "{:?}", t.failure);
    }
}

dialogue! {
    /// Malformed 227 and 229 replies: protocol errors, no connection
    /// attempt to a made-up address, no panic.
    fn malformed_passive_replies_are_protocol_errors() within(GUARD) {
        for (epsv, pasv) in [
            ("229 Entering Extended Passive Mode (|||0|)", None),
            ("229 Entering Extended Passive Mode (|||70000|)", None),
            ("229 Entering Extended Passive Mode (|||abc|)", None),
            ("229 no parentheses at all", None),
            ("500 no", Some("227 Entering Passive Mode (300,1,1,1,4,1)")),
            ("500 no", Some("227 Entering Passive Mode (1,2,3)")),
            ("500 no", Some("227 =,,,,,")),
        ] {
            let mut script = Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply(epsv);
            if let Some(pasv) = pasv {
                script = script.expect("PASV").reply(pasv);
            }
            let (server, mut c) = hostile_login!(script);
            let err = timed!(BOUND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
            assert!(
                matches!(err, Error::Protocol(_)),
                "{epsv} / {pasv:?}: {err:?}"
            );
            drop(c);
            server.finish_allow_unplayed();
        }
    }
}

dialogue! {
    /// Active mode: a data connection from another host is refused; the
    /// server's own connection is the one read.
    fn an_active_data_connection_from_another_host_is_refused() within(GUARD) {
        let (server, mut c) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("RETR f")
                .intrude_from_other_host(b"injected")
                .reply("150 go")
                .send_data(b"genuine")
                .reply("226 ok"),
            quick().mode(DataMode::Active)
        );
        let mut out = Vec::new();
        timed!(BOUND, w!(c.get("f", &mut out))).unwrap();
        assert_eq!(out, b"genuine");
        drop(c);
        server.finish();
    }
}

dialogue! {
    /// A 229 naming a port where nothing listens fails to connect, within
    /// the connect timeout, and the transfer command is never sent.
    fn a_229_port_where_nothing_listens_fails_to_connect() within(GUARD) {
        let port = closed_port();
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply(&format!("229 Entering Extended Passive Mode (|||{port}|)"))
        );
        let err = timed!(3 * SECOND, w!(client.get("f", &mut Vec::new()))).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    phase: Phase::DataConnect,
                    ..
                }
            ),
            "{err:?}"
        );
        drop(client);
        let t = server.finish();
        assert!(!t.commands.iter().any(|c| c.starts_with("RETR")));
    }
}

dialogue! {
    /// A 229 that names a network address (`|1|10.0.0.1|port|`) is not the
    /// form RFC 2428 gives to EPSV replies: it is refused, never followed.
    fn a_229_naming_an_address_is_refused() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply("229 Entering Extended Passive Mode (|1|10.0.0.1|2121|)")
        );
        let err = timed!(2 * SECOND, w!(client.get("f", &mut Vec::new()))).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        drop(client);
        let t = server.finish();
        assert_eq!(t.commands.last().map(String::as_str), Some("EPSV"));
    }
}

dialogue! {
    /// A 227 with port 0 names no usable port: a protocol error, as for
    /// 229, and the transfer command is never sent.
    fn a_227_with_port_zero_is_refused() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("PASV")
                .reply("227 Entering Passive Mode (127,0,0,1,0,0)"),
            quick().use_epsv(false)
        );
        let err = timed!(2 * SECOND, w!(client.get("f", &mut Vec::new()))).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        drop(client);
        let t = server.finish();
        assert_eq!(t.commands.last().map(String::as_str), Some("PASV"));
    }
}

dialogue! {
    /// A 227 naming another host is ignored for uploads too: the bytes go
    /// to the control peer, intact.
    fn a_227_naming_another_host_is_ignored_for_uploads() within(GUARD) {
        let data = random_bytes(200_000, 31);
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("PASV")
                .pasv_reply_addr([203, 0, 113, 7])
                .expect("STOR up")
                .reply("150 go")
                .recv_data()
                .reply("226 stored"),
            quick().use_epsv(false)
        );
        let sent = timed!(3 * SECOND, w!(client.put("up", &mut data.as_slice()))).unwrap();
        assert_eq!(sent, data.len() as u64);
        drop(client);
        assert_eq!(sha256_hex(&server.finish().uploads[0]), sha256_hex(&data));
    }
}

dialogue! {
    /// When the caller does trust the 227 address, an unreachable one
    /// (TEST-NET 192.0.2.1) fails within the connect timeout: trust never
    /// means an unbounded wait.
    fn a_trusted_227_to_an_unreachable_host_fails_within_the_connect_timeout() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("PASV")
                .pasv_reply_addr([192, 0, 2, 1]),
            quick().use_epsv(false).trust_pasv_address(true)
        );
        let err = timed!(3 * SECOND, w!(client.get("f", &mut Vec::new()))).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    phase: Phase::DataConnect,
                    ..
                }
            ),
            "{err:?}"
        );
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// In active mode, a third party that connects to the data port while
    /// the server never does is refused; the transfer fails within the idle
    /// timeout and none of the intruder's bytes are delivered.
    fn an_active_mode_intruder_alone_never_becomes_the_data_connection() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("RETR f")
                .intrude_from_other_host(b"injected by a third party")
                .reply("150 connecting")
                .never_reply(),
            quick().mode(DataMode::Active)
        );
        let mut out = Vec::new();
        let err = timed!(3 * SECOND, w!(client.get("f", &mut out))).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    phase: Phase::DataAccept,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(out.is_empty(), "intruder bytes delivered: {out:?}");
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// In active mode, an upload is not handed to a third party that
    /// connects first: the server's own connection receives every byte.
    fn an_active_mode_intruder_does_not_receive_an_upload() within(GUARD) {
        let data = random_bytes(100_000, 32);
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("STOR up")
                .intrude_from_other_host(b"")
                .reply("150 connecting")
                .recv_data()
                .reply("226 stored"),
            quick().mode(DataMode::Active)
        );
        timed!(3 * SECOND, w!(client.put("up", &mut data.as_slice()))).unwrap();
        drop(client);
        assert_eq!(sha256_hex(&server.finish().uploads[0]), sha256_hex(&data));
    }
}

dialogue! {
    /// A 227 with a number over 255: a protocol error, no connection.
    fn garbage_227_is_a_protocol_error() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply("502 no")
                .expect("PASV")
                .reply("227 Entering Passive Mode (1,2,3,999,0,21)")
        );
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        server.finish();
    }
}
