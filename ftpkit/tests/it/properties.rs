//! Property tests: the parsers never panic on any input, and a typed entry
//! formatted as a Unix `ls -l` line parses back to itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ftpkit::{
    Entry, EntryKind, Name,
    list::{parse_list_line, parse_mlsd_entry, parse_unix},
    proto::{Reply, ReplyLimits, ReplyReader, parse_227, parse_229, parse_257},
};
use proptest::prelude::*;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

proptest! {
    #[test]
    fn listing_parsers_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Some(entry) = parse_list_line(&line, now()) {
            prop_assert!(entry.raw.len() <= line.len());
        }
        let _ = parse_mlsd_entry(&line);
    }

    #[test]
    fn unix_like_lines_never_panic(
        perms in "[-dlbcps][-rwxsStT]{9}[+@.]?",
        fields in proptest::collection::vec("[ -~]{0,12}", 0..10),
    ) {
        let line = format!("{perms} {}", fields.join(" "));
        let _ = parse_list_line(line.as_bytes(), now());
    }

    #[test]
    fn reply_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), chunk in 1usize..50) {
        let mut reader = ReplyReader::new(ReplyLimits { max_line: 64, max_reply: 256 });
        for piece in bytes.chunks(chunk) {
            reader.feed(piece);
            loop {
                match reader.next_reply() {
                    Ok(Some(reply)) => {
                        let _ = (parse_227(&reply), parse_229(&reply), parse_257(&reply));
                    }
                    Ok(None) => break,
                    Err(_) => return Ok(()),
                }
            }
        }
        if let Ok(reply) = Reply::parse_line(&bytes) {
            let _ = reply.to_string();
        }
    }

    #[test]
    fn format_unix_then_parse_is_the_identity(
        name in "[a-zA-Z0-9._][a-zA-Z0-9._ -]{0,30}",
        kind in 0u8..3,
        size in any::<u64>(),
        minutes in 0u64..(200 * 365 * 24 * 60),
        mode in 0u32..0o7777,
        owner in "[a-z][a-z0-9_]{0,8}",
        group in "[a-z][a-z0-9_]{0,8}",
    ) {
        let kind = match kind {
            0 => EntryKind::File,
            1 => EntryKind::Directory,
            _ => EntryKind::Symlink { target: Some(Name::from("target/path")) },
        };
        let entry = Entry {
            name: Name::from(name.as_str()),
            kind,
            size: Some(size),
            modified: Some(UNIX_EPOCH + Duration::from_secs(minutes * 60)),
            time_precision: ftpkit::TimePrecision::Minute,
            permissions: Some(mode),
            owner: Some(owner),
            group: Some(group),
            raw: Vec::new(),
        };
        let line = entry.format_unix();
        let back = parse_unix(line.as_bytes(), now());
        prop_assert!(back.is_some(), "{}", line);
        let back = back.unwrap();
        prop_assert_eq!(Entry { raw: Vec::new(), ..back }, entry, "{}", line);
    }
}
