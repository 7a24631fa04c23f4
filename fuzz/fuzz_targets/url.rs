//! URL parsing: any input gives a parsed URL or an error, never a panic,
//! and a parsed URL never holds CR, LF or NUL in what will be sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = ftpkit::url::FtpUrl::parse(text) {
        let clean = |b: &[u8]| !b.iter().any(|&c| matches!(c, b'\r' | b'\n' | 0));
        assert!(clean(&url.path));
        assert!(clean(url.user.as_bytes()));
        assert!(clean(url.password.as_deref().unwrap_or_default().as_bytes()));
        assert!(!url.host.is_empty());
        let _ = url.addr();
    }
});
