//! Malformed, oversized, unfinished and out-of-step replies: refused at a
//! limit or within the idle timeout, kept lossily when only the text is
//! odd, never a panic or a hang.

use super::*;

dialogue! {
    /// A greeting without a reply code: a protocol error, not a session.
    fn a_greeting_without_a_code_is_a_protocol_error() within(GUARD) {
        let (server, result) = greeting!(b"hello there\r\n");
        let err = result.err();
        assert!(matches!(err, Some(Error::Protocol(_))), "{err:?}");
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A code outside 100–599: refused as malformed.
    fn a_code_outside_the_range_is_a_protocol_error() within(GUARD) {
        let (server, result) = greeting!(b"600 ready\r\n");
        let err = result.err();
        assert!(matches!(err, Some(Error::Protocol(_))), "{err:?}");
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A line ended by CR alone never completes: the idle timeout ends the
    /// wait.
    fn a_reply_that_never_ends_its_line_times_out() within(GUARD) {
        let (server, result) = greeting!(b"220 ready\r");
        let err = result.err();
        assert!(err.as_ref().is_some_and(Error::is_timeout), "{err:?}");
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A bare LF ends a line as CRLF does (servers that forget the CR are
    /// common and harmless): the session works.
    fn a_bare_lf_terminator_is_accepted() within(GUARD) {
        let (server, result) = greeting!(b"220 ready\n");
        assert_eq!(result.map(|c| c.welcome().code()).ok(), Some(ReplyCode(220)));
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Non-UTF-8 and NUL bytes in the text are kept lossily, never a panic.
    fn non_utf8_and_nul_in_a_reply_are_kept_lossily() within(GUARD) {
        let (server, result) = greeting!(b"220 caf\xe9 \x00 \xff\xfe ready\r\n");
        let text = result.map(|c| c.welcome().message()).expect("connected");
        assert!(
            text.starts_with("caf\u{fffd}") && text.ends_with("ready"),
            "{text:?}"
        );
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A megabyte line: refused at the 8 KiB line limit, memory bounded.
    fn a_megabyte_reply_line_is_refused_at_the_line_limit() within(GUARD) {
        let (server, mut c) = hostile_login!(Script::new().expect("PWD").endless_line());
        let err = timed!(BOUND, w!(c.pwd())).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::LineTooLong { .. })),
            "{err:?}"
        );
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A multi-line reply that never ends: refused at the 1 MiB reply limit.
    fn an_endless_multiline_reply_is_refused_at_the_reply_limit() within(GUARD) {
        let (server, mut c) =
            hostile_login!(Script::new().expect("PWD").endless_multiline(257));
        let err = timed!(BOUND, w!(c.pwd())).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::ReplyTooLong { .. })),
            "{err:?}"
        );
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A multi-line reply ends only at its own code followed by a space;
    /// lines that look like other replies inside it are text.
    fn lines_that_look_like_replies_inside_a_multiline_reply_are_text() within(GUARD) {
        let (server, mut c) = hostile_login!(
            Script::new()
                .expect("NOOP")
                .raw(b"200-first\r\n530 not the end\r\n200-still going\r\n200 end\r\n")
        );
        let reply = timed!(BOUND, w!(c.noop())).unwrap();
        assert_eq!(reply.code(), ReplyCode(200));
        assert_eq!(reply.lines().len(), 4);
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A 1xx reply to a command that opens no transfer is a reply of the
    /// wrong class: an error, and the client is unusable, so the next
    /// command does not read a stale reply.
    fn a_preliminary_reply_to_a_simple_command_is_an_error() {
        let (server, mut client) =
            logged_in!(Script::new().expect("CWD x").reply("150 what transfer?"));
        assert!(w!(client.cwd("x")).is_err());
        assert!(matches!(w!(client.noop()), Err(Error::Unusable)));
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A server that goes silent after the greeting: the login times out
    /// within the idle timeout and the client is unusable, not stuck.
    fn a_silent_server_times_out_within_the_idle_timeout() within(GUARD) {
        let server = server(vec![Script::new().reply("220 hi").never_reply()]);
        let (err, usable_after) = timed!(3 * SECOND, {
            let mut c = connect!(&server.addr().to_string(), quick()).unwrap();
            let err = w!(c.login("u", "p")).unwrap_err();
            (err, !c.is_unusable())
        });
        assert!(err.is_timeout(), "{err:?}");
        assert!(!usable_after);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A server that closes the control connection mid-session: a clear
    /// "connection closed" (or reset) error at once.
    fn a_server_that_hangs_up_gives_a_clear_error() within(GUARD) {
        let (server, mut c) = hostile_login!(Script::new().expect("PWD").end());
        let err = timed!(BOUND, w!(c.pwd())).unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Numbers that overflow: SIZE, MDTM and the 150 size are refused or
    /// ignored, never a panic.
    fn overflowing_numbers_in_replies_are_errors_not_panics() within(GUARD) {
        let (server, mut c) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("SIZE f")
                .reply("213 99999999999999999999999999")
                .expect("MDTM f")
                .reply("213 99999999999999")
                .expect("EPSV")
                .epsv()
                .expect("RETR f")
                .reply("150 Opening (18446744073709551616 bytes)")
                .send_data(b"data")
                .reply("226 ok")
        );
        let results = timed!(BOUND, {
            let size = w!(c.size("f"));
            let mdtm = w!(c.mdtm("f"));
            let mut out = Vec::new();
            let get = w!(c.get("f", &mut out)).map(|_| out);
            (size.is_err(), mdtm.is_err(), get.ok())
        });
        assert_eq!(results, (true, true, Some(b"data".to_vec())));
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A PWD reply without a quoted path: a protocol error naming the reply.
    fn a_pwd_reply_without_a_quoted_path_is_a_protocol_error() within(GUARD) {
        let (server, mut c) = hostile_login!(Script::new().expect("PWD").reply("257 /home"));
        let err = timed!(BOUND, w!(c.pwd())).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::UnparsableReply { .. })),
            "{err:?}"
        );
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Limits set in `Config::reply_limits` are the ones enforced: a
    /// multi-line reply of short lines over `max_reply` is refused.
    fn configured_reply_limits_are_enforced() within(GUARD) {
        let limits = ReplyLimits {
            max_line: 64,
            max_reply: 256,
        };
        let lines: String = (0..40).map(|i| format!("211-feature {i}\r\n")).collect();
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("FEAT")
                .raw(format!("{lines}211 End\r\n").as_bytes()),
            quick().reply_limits(limits)
        );
        let err = timed!(2 * SECOND, w!(client.features()).map(|_| ()).unwrap_err());
        assert!(
            matches!(
                err,
                Error::Protocol(ProtocolError::ReplyTooLong { limit: 256 })
            ),
            "{err:?}"
        );
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A multi-line reply whose last line never comes times out; the lines
    /// already read are not taken as a reply.
    fn an_unfinished_multiline_reply_times_out() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("FEAT")
                .raw(b"211-Features:\r\n MDTM\r\n SIZE\r\n")
                .never_reply()
        );
        let err = timed!(3 * SECOND, w!(client.features()).map(|_| ()).unwrap_err());
        assert!(err.is_timeout(), "{err:?}");
        assert!(matches!(w!(client.noop()), Err(Error::Unusable)));
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Non-UTF-8 bytes and terminal escapes in replies are kept as bytes in
    /// a returned `Name`, and escaped wherever they are shown: in
    /// `Name::escaped` and in error messages.
    fn non_utf8_and_escape_sequences_in_replies_are_kept_and_escaped() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("PWD")
                .raw(b"257 \"/caf\xe9\x1b[2J\" is current\r\n")
                .expect("CWD x")
                .raw(b"550 \x1b]0;owned\x07 no such \xff directory\r\n")
        );
        let (dir, err) = timed!(2 * SECOND, {
            (w!(client.pwd()).unwrap(), w!(client.cwd("x")).unwrap_err())
        });
        assert_eq!(dir.as_bytes(), b"/caf\xe9\x1b[2J");
        assert!(!dir.escaped().contains('\x1b'), "{}", dir.escaped());
        let shown = err.to_string();
        assert!(
            !shown.contains(['\x1b', '\x07']),
            "control characters in {shown:?}"
        );
        assert_eq!(err.code(), Some(ReplyCode(550)));
        drop(client);
        server.finish();
    }
}

dialogue! {
    /// `120` (ready soon) is waited through a few times; a server that
    /// floods `120` replies (each a complete reply that restarts the idle
    /// timeout) is refused after `MAX_GREETING_WAITS` of them instead of
    /// keeping the client forever.
    fn a_flood_of_120_greetings_is_refused() {
        let server = server(vec![Script::new().endless_replies("120 ready in a minute")]);
        let started = Instant::now();
        let err = connect!(&server.addr().to_string(), quick()).unwrap_err();
        assert!(started.elapsed() < 2 * SECOND, "{:?}", started.elapsed());
        assert_eq!(err.code(), Some(ReplyCode(120)));
        assert!(server.finish_allow_unplayed().commands.is_empty());
    }
}

dialogue! {
    /// A reply line without end: refused at the 8 KiB line limit.
    fn an_endless_line_is_refused_at_the_line_limit() {
        let (server, mut client) = logged_in!(Script::new().expect("PWD").endless_line());
        let err = w!(client.pwd()).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::LineTooLong { limit: 8192 })),
            "{err:?}"
        );
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A FEAT reply that never ends: refused at the reply limit.
    fn an_endless_feat_reply_is_refused_at_the_reply_limit() {
        let (server, mut client) =
            logged_in!(Script::new().expect("FEAT").endless_multiline(211));
        let err = w!(client.features()).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::ReplyTooLong { .. })),
            "{err:?}"
        );
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A reply without a code: a protocol error, then the client is unusable.
    fn a_malformed_reply_is_a_protocol_error() {
        let (server, mut client) = logged_in!(Script::new().expect("PWD").raw(b"hello there\r\n"));
        assert!(matches!(w!(client.pwd()), Err(Error::Protocol(_))));
        assert!(matches!(w!(client.pwd()), Err(Error::Unusable)));
        server.finish_allow_unplayed();
    }
}
