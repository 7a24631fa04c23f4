//! URL parsing: any input gives a parsed URL or an error, never a panic,
//! and a parsed URL is safe to send: no CR, LF or NUL in the user,
//! password or path, a host with no control character, space or percent
//! sign, a path within the argument limit, and a password that never shows
//! in `Debug`.
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
        assert!(url.path.len() <= ftpkit::proto::MAX_ARG_LEN);
        assert!(!url.host.is_empty());
        assert!(!url.host.contains(|c: char| c.is_control() || c == ' ' || c == '%'));
        let _ = url.addr();
        if let Some(password) = url.password.as_deref() {
            // A password of letters and digits found in no other field must
            // not appear in the Debug output.
            let others = format!(
                "FtpUrl host port user password path tls Some None Explicit Implicit {} {} {} {}",
                url.host,
                url.port,
                url.user,
                String::from_utf8_lossy(&url.path)
            );
            if password.len() >= 4
                && password.bytes().all(|b| b.is_ascii_alphanumeric())
                && !others.contains(password)
            {
                let shown = format!("{url:?}");
                assert!(!shown.contains(password), "password in Debug: {shown}");
            }
        }
    }
});
