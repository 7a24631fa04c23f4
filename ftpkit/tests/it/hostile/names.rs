//! Hostile names: traversal names in listings and 257 replies are
//! returned as sent and flagged; a name with CR cannot inject a command;
//! listing lines are bounded.

use super::*;

const HOSTILE_NAMES: [&str; 7] = [
    "../x",
    "/etc/x",
    "a/b",
    "a\\b",
    "..",
    "bell\u{7}",
    "esc\u{1b}[2J",
];

/// `TYPE A` and `EPSV`, then `command` answered with `data` and a 226.
fn ascii_listing(command: &str, data: &[u8]) -> Script {
    Script::new()
        .expect("TYPE A")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
        .expect(command)
        .reply("150 listing")
        .send_data(data)
        .reply("226 done")
}

/// A `LIST` of `data`, from a server whose FEAT offers no MLST.
fn list_of(data: &[u8]) -> Script {
    Script::new()
        .expect("FEAT")
        .reply("211 no features")
        .then(ascii_listing("LIST", data))
}

dialogue! {
    /// An MLSD listing of traversal names: every entry comes back with the
    /// server's bytes, none of them passes `Name::safe_component`, and `-R`
    /// (a name, not an option) does.
    fn mlsd_traversal_names_are_reported_and_flagged_unsafe() within(GUARD) {
        let mut listing = String::new();
        for name in HOSTILE_NAMES.iter().chain(["-R"].iter()) {
            listing.push_str(&format!("type=file;size=1; {name}\r\n"));
        }
        let (server, mut c) = hostile_login!(
            crate::dialogue::mlsd_opened("MLSD", "150 listing")
                .send_data(listing.as_bytes())
                .reply("226 done")
        );
        let entries = timed!(BOUND, entries!(w!(c.list_entries("")).unwrap())).unwrap();
        drop(c);
        let t = server.finish_allow_unplayed();
        // Every name comes back as sent (a file the server calls `..` too:
        // only `type=cdir`/`type=pdir` entries are dropped).
        assert_eq!(entries.len(), HOSTILE_NAMES.len() + 1, "{:?}", t.failure);
        for e in &entries {
            let safe = e.name.safe_component().is_some();
            assert_eq!(safe, e.name.as_bytes() == b"-R", "{:?}", e.name);
        }
    }
}

dialogue! {
    /// The same names in a Unix LIST: parsed, flagged unsafe, no panic.
    fn list_traversal_names_are_flagged_unsafe() within(GUARD) {
        let mut listing = String::new();
        for name in HOSTILE_NAMES {
            listing.push_str(&format!("-rw-r--r--   1 ftp ftp  1 Jan 01 2024 {name}\r\n"));
        }
        let (server, mut c) = hostile_login!(
            list_of(listing.as_bytes())
        );
        let entries = timed!(BOUND, entries!(w!(c.list_entries("")).unwrap())).unwrap();
        assert!(!entries.is_empty());
        for e in &entries {
            assert!(e.name.safe_component().is_none(), "{:?}", e.name);
        }
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A name with CR inside (from NLST) cannot become a second command:
    /// using it in a command is refused before anything is sent.
    fn a_name_carrying_cr_cannot_inject_a_command() within(GUARD) {
        let (server, mut c) = hostile_login!(
            ascii_listing("NLST", b"evil\rDELE important\r\n")
        );
        let refused = timed!(BOUND, {
            let names = w!(c.nlst("")).unwrap();
            let name = names.first().cloned().unwrap();
            matches!(
                w!(c.delete(name.as_bytes())),
                Err(Error::InvalidInput(InvalidInput::LineBreak(_)))
            )
        });
        assert!(refused, "the name was refused as input");
        drop(c);
        let t = server.finish_allow_unplayed();
        assert!(
            !t.commands.iter().any(|c| c.starts_with("DELE")),
            "{:?}",
            t.commands
        );
    }
}

dialogue! {
    /// An endless listing line: bounded by the data line limit, never a
    /// growing buffer; the listing ends with an error or an unknown entry.
    fn an_endless_listing_line_is_bounded() within(GUARD) {
        let long = vec![b'x'; 4 << 20];
        let (server, mut c) = hostile_login!(
            list_of(&long)
        );
        // The entries up to the first error, which ends them.
        let entries = timed!(BOUND, entries!(w!(c.list_entries("")).unwrap()));
        assert!(
            entries.is_err()
                || entries.is_ok_and(|entries| entries.iter().all(|e| e.raw.len() <= 1 << 20))
        );
        drop(c);
        server.finish_allow_unplayed();
    }
}

/// The hostile names a listing can carry. `-R` stays inside a directory,
/// so it is a safe component (hand it to another program after `--`).
const NLST_NAMES: [&str; 7] = ["../x", "/etc/x", "a/b", "-R", "evil\x1b[2J", "..", "ok.txt"];

dialogue! {
    /// NLST names are returned exactly as sent, and `Name::safe_component`
    /// flags every one that could leave a directory or drive a terminal;
    /// `Name::escaped` shows them without control characters.
    fn nlst_returns_traversal_names_as_sent_and_flags_them() within(GUARD) {
        let body: String = NLST_NAMES.iter().map(|n| format!("{n}\r\n")).collect();
        let (server, mut client) = hostile_login!(
            ascii_listing("NLST", body.as_bytes())
        );
        let names = timed!(2 * SECOND, w!(client.nlst(""))).unwrap();
        assert_eq!(names, NLST_NAMES.map(Name::from));
        let safe: Vec<bool> = names.iter().map(|n| n.safe_component().is_some()).collect();
        assert_eq!(safe, [false, false, false, true, false, false, true]);
        assert!(names.iter().all(|n| !n.escaped().contains('\x1b')));
        drop(client);
        server.finish();
    }
}

dialogue! {
    /// A 257 reply naming a traversal path is returned as sent by
    /// `pwd`/`mkd`; it is a remote path, never a safe local component.
    fn a_257_with_a_traversal_path_is_returned_as_sent_and_flagged() within(GUARD) {
        let (server, mut client) = hostile_login!(
            Script::new()
                .expect("MKD new")
                .reply("257 \"../../../etc/cron.d\" created")
        );
        let made = timed!(2 * SECOND, w!(client.mkd("new"))).unwrap();
        assert_eq!(made, "../../../etc/cron.d");
        assert_eq!(made.safe_component(), None);
        drop(client);
        server.finish();
    }
}
