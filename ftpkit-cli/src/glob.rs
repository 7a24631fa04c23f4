//! Shell-style globs for remote names, matched on the client: `*` (any
//! run of bytes), `?` (one byte), `[abc]` and `[a-z]` (one of a set).

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: (pattern index, name index).
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let byte = name.get(n).copied().unwrap_or_default();
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(b'?') => {
                p += 1;
                n += 1;
                continue;
            }
            Some(b'[') => match class(pattern, p, byte) {
                Some((true, next)) => {
                    p = next;
                    n += 1;
                    continue;
                }
                // An unterminated class: the `[` is literal.
                None if byte == b'[' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            },
            Some(&c) if c == byte => {
                p += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, sn)) => {
                p = sp;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Matches `byte` against the class starting at `pattern[start] == b'['`;
/// returns whether it matched and where the pattern goes on, or `None` for
/// an unterminated class (then `[` is literal).
fn class(pattern: &[u8], start: usize, byte: u8) -> Option<(bool, usize)> {
    let body_start = start + 1;
    let end = pattern
        .get(body_start + 1..)?
        .iter()
        .position(|&c| c == b']')?
        + body_start
        + 1;
    let body = pattern.get(body_start..end)?;
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        let lo = body.get(i).copied()?;
        if body.get(i + 1) == Some(&b'-') && i + 2 < body.len() {
            let hi = body.get(i + 2).copied()?;
            hit |= (lo..=hi).contains(&byte);
            i += 3;
        } else {
            hit |= lo == byte;
            i += 1;
        }
    }
    Some((hit, end + 1))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        for (pattern, name, want) in [
            ("*.csv", "report.csv", true),
            ("*.csv", "report.csv.bak", false),
            ("data-??.txt", "data-01.txt", true),
            ("data-??.txt", "data-1.txt", false),
            ("[a-c]*", "beta", true),
            ("[a-c]*", "delta", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("[abc", "[abc", true),
            ("exact", "exact", true),
        ] {
            assert_eq!(
                matches(pattern.as_bytes(), name.as_bytes()),
                want,
                "{pattern} vs {name}"
            );
        }
    }
}
