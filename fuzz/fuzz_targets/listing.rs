//! The listing parsers: every LIST dialect and MLSD, on any line.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use ftpkit::list::{parse_list_line, parse_mlsd_entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for line in data.split(|&b| b == b'\n') {
        if let Some(entry) = parse_list_line(line, now) {
            assert!(entry.raw.len() <= line.len());
        }
        let _ = parse_mlsd_entry(line);
    }
});
