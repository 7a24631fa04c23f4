//! URL parsing: `ftpkit::url::FtpUrl` never panics, and whatever it
//! accepts is safe to send: no CR, LF or NUL in the user, password or path,
//! a usable host, a path within the argument limit, and a password that
//! never shows in `Debug`.
#![no_main]

use ftpkit::url::FtpUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = FtpUrl::parse(text) else {
        return;
    };
    let unsafe_byte = |b: &u8| matches!(b, b'\r' | b'\n' | 0);
    assert!(!url.path().iter().any(unsafe_byte));
    assert!(!url.user().bytes().any(|b| unsafe_byte(&b)));
    assert!(url.path().len() <= ftpkit::proto::MAX_ARG_LEN);
    assert!(!url.host().is_empty());
    assert!(!url.host().contains(|c: char| c.is_control() || c == ' ' || c == '%'));
    if let Some(password) = url.password() {
        assert!(!password.bytes().any(|b| unsafe_byte(&b)));
        // A password made of letters and digits, found in no other field,
        // must not appear in the Debug output.
        let others = format!(
            "FtpUrl host port user password path tls Some None Explicit Implicit {} {} {} {}",
            url.host(),
            url.port(),
            url.user(),
            String::from_utf8_lossy(url.path())
        );
        if password.len() >= 4
            && password.bytes().all(|b| b.is_ascii_alphanumeric())
            && !others.contains(password)
        {
            let shown = format!("{url:?}");
            assert!(!shown.contains(password), "password in Debug: {shown}");
        }
    }
    let _ = (url.addr(), url.file_name(), url.is_dir(), url.tls_mode());
});
