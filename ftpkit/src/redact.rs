//! Passwords kept out of what is shown: URLs in messages and logs.

/// `text` with the password of its user-info part, if any, as `****`:
/// `ftp://bob:secret@host/` becomes `ftp://bob:****@host/`. Works on text
/// that is not a valid URL too, so that error messages never leak it.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:****@{host}{tail}"),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}
