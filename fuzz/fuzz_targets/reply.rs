//! The reply reader: any bytes, fed in any chunking, give replies or a
//! protocol error within the limits, never a panic.
#![no_main]

use ftpkit::proto::{ReplyLimits, ReplyReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let limits = ReplyLimits {
        max_line: 64,
        max_reply: 512,
    };
    let mut reader = ReplyReader::new(limits);
    let step = usize::from(split).max(1);
    for chunk in rest.chunks(step) {
        reader.feed(chunk);
        loop {
            match reader.next_reply() {
                Ok(Some(reply)) => {
                    let total: usize = reply.lines().iter().map(|l| l.len() + 1).sum();
                    assert!(total <= limits.max_reply + limits.max_line + 1);
                    assert!((100..600).contains(&reply.code().0));
                    let _ = reply.to_string();
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(reader.buffered().len() <= limits.max_line + 1 + step);
    }
});
