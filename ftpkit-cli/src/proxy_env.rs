//! Which proxy a connection goes through: `--proxy URL` or the
//! environment (`ftp_proxy`, then `all_proxy`, lower case first), unless
//! the host is in `--noproxy LIST` or, without that option, `no_proxy`.
//! The library reads no environment variable; this is the command's choice.

use ftpkit::proxy::Proxy;

use crate::failure::Failure;

/// The environment variables read, in order of preference.
const PROXY_VARIABLES: [&str; 4] = ["ftp_proxy", "FTP_PROXY", "all_proxy", "ALL_PROXY"];
const NO_PROXY_VARIABLES: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// The proxy for `host`, from the options (`--proxy ""` means none) and
/// `env` (a variable's value, empty counting as unset).
pub fn choose(
    flag: Option<&str>,
    noproxy_flag: Option<&str>,
    host: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, Failure> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let (source, url) = match flag {
        Some(url) => ("--proxy", url.to_owned()),
        None => match PROXY_VARIABLES
            .iter()
            .find_map(|name| set(name).map(|v| (*name, v)))
        {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    if url.trim().is_empty() {
        return Ok(None);
    }
    let bypass = match noproxy_flag {
        Some(list) => list.to_owned(),
        None => NO_PROXY_VARIABLES
            .iter()
            .find_map(|name| set(name))
            .unwrap_or_default(),
    };
    if bypassed(&bypass, host) {
        return Ok(None);
    }
    Proxy::parse(url.trim())
        .map(Some)
        .map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// Whether `host` is in a `no_proxy` list: comma- or space-separated names
/// (matching the host and its subdomains; a leading `.` or `*.` is
/// ignored), addresses, or `*` for every host. Ports are ignored; case is
/// not significant.
pub fn bypassed(list: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .strip_prefix('[')
                .map_or(entry, |e| e.split_once(']').map_or(e, |(ip, _)| ip));
            // A port after a name or an IPv4 address is ignored.
            let entry = match entry.rsplit_once(':') {
                Some((name, port))
                    if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    name
                }
                _ => entry,
            };
            let entry = entry
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            !entry.is_empty()
                && (host == entry
                    || host
                        .strip_suffix(&entry)
                        .is_some_and(|rest| rest.ends_with('.')))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn chosen(
        flag: Option<&str>,
        noproxy: Option<&str>,
        host: &str,
        vars: &[(&str, &str)],
    ) -> Option<String> {
        choose(flag, noproxy, host, env(vars))
            .ok()
            .flatten()
            .map(|p| p.to_string())
    }

    #[test]
    fn no_proxy_lists_match_hosts_domains_and_addresses() {
        let list = "localhost, .corp.example,*.lan 10.0.0.1,[::1]:21, intra:8021";
        for host in [
            "localhost",
            "LOCALHOST",
            "corp.example",
            "ftp.corp.example",
            "a.b.lan",
            "10.0.0.1",
            "::1",
            "intra",
        ] {
            assert!(bypassed(list, host), "{host}");
        }
        for host in [
            "notcorp.example",
            "example",
            "10.0.0.10",
            "lan.example",
            "::2",
        ] {
            assert!(!bypassed(list, host), "{host}");
        }
        assert!(bypassed("*", "anything"));
        assert!(!bypassed("", "anything"));
    }

    #[test]
    fn the_flag_wins_then_ftp_proxy_then_all_proxy() {
        let vars = [
            ("ftp_proxy", "http://ftp-proxy:3128"),
            ("ALL_PROXY", "socks5h://all:1080"),
        ];
        assert_eq!(
            chosen(Some("socks5://flag:1"), None, "h", &vars).as_deref(),
            Some("socks5://flag:1")
        );
        assert_eq!(
            chosen(None, None, "h", &vars).as_deref(),
            Some("http://ftp-proxy:3128")
        );
        assert_eq!(
            chosen(None, None, "h", &vars[1..]).as_deref(),
            Some("socks5h://all:1080")
        );
        assert_eq!(chosen(None, None, "h", &[("ftp_proxy", " ")]), None);
        assert_eq!(chosen(Some(""), None, "h", &vars), None);
        assert_eq!(chosen(None, None, "h", &[]), None);
    }

    #[test]
    fn noproxy_overrides_no_proxy_and_bypasses() {
        let vars = [("all_proxy", "socks5h://p:1"), ("no_proxy", "h")];
        assert_eq!(chosen(None, None, "h", &vars), None);
        assert!(chosen(None, Some("other"), "h", &vars).is_some());
        assert_eq!(chosen(Some("http://p:2"), Some("*"), "h", &vars), None);
        assert_eq!(chosen(Some("http://p:2"), None, "h", &vars), None);
    }

    #[test]
    fn a_bad_proxy_url_is_a_usage_error_naming_its_source() {
        let err = choose(None, None, "h", env(&[("ALL_PROXY", "gopher://u:pw@p")])).unwrap_err();
        let Failure::Usage(message) = err else {
            panic!("not a usage error")
        };
        assert!(message.starts_with("ALL_PROXY:"), "{message}");
        assert!(!message.contains("pw"), "{message}");
    }
}
