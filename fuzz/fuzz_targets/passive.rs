//! The parsers of replies that carry data: 227, 229, 257, 150, 213, FEAT.
#![no_main]

use ftpkit::proto::{
    Features, Reply, parse_150, parse_227, parse_229, parse_257, parse_mdtm, parse_size,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = Reply::parse_line(data) else {
        return;
    };
    if let Ok(addr) = parse_227(&reply) {
        let _ = addr.port();
    }
    if let Ok(port) = parse_229(&reply) {
        assert_ne!(port, 0);
    }
    let _ = parse_257(&reply);
    let _ = parse_150(&reply);
    let _ = parse_size(&reply);
    let _ = parse_mdtm(&reply);
    let _ = Features::parse(&reply);
});
