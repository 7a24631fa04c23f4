//! The decisions that let a client reach servers behind NAT, firewalls and
//! in other time zones: the ports an active-mode listener may take, the
//! address it advertises, and the shift of `LIST` times.

use std::{
    hash::{BuildHasher, RandomState},
    net::{IpAddr, SocketAddr},
    ops::RangeInclusive,
    time::{Duration, SystemTime},
};

use super::{Arg, rules::ListingFormat};
use crate::{
    error::Error,
    list::{Entry, TimePrecision},
};

/// The ports to try, in order, for an active-mode listener: `0` (any)
/// without a range, else every port of `range` once, starting at a place
/// chosen by `seed` so that clients sharing a range spread over it.
///
/// ```
/// use ftpkit::proto::reach::listen_ports;
/// assert_eq!(listen_ports(None, 7).collect::<Vec<_>>(), [0]);
/// let ports: Vec<u16> = listen_ports(Some(50_000..=50_003), 6).collect();
/// assert_eq!(ports, [50_002, 50_003, 50_000, 50_001]);
/// assert_eq!(listen_ports(Some(5..=4), 0).count(), 0);
/// ```
pub fn listen_ports(range: Option<RangeInclusive<u16>>, seed: u64) -> impl Iterator<Item = u16> {
    let (low, len) = match range {
        None => (0, 1),
        Some(range) if range.is_empty() => (0, 0),
        Some(range) => (
            *range.start(),
            u32::from(*range.end()) - u32::from(*range.start()) + 1,
        ),
    };
    let start = if len == 0 {
        0
    } else {
        u32::try_from(seed % u64::from(len)).unwrap_or(0)
    };
    (0..len).filter_map(move |i| u16::try_from(u32::from(low) + (start + i) % len).ok())
}

/// A varying seed for [`listen_ports`], from the standard library's
/// per-process random keys.
pub fn port_seed() -> u64 {
    RandomState::new().hash_one(std::time::Instant::now())
}

/// The address to advertise in `PORT`/`EPRT` for a listener bound at
/// `local`: the configured external address with the bound port, or
/// `local` itself.
///
/// ```
/// use std::net::{IpAddr, SocketAddr};
/// use ftpkit::proto::reach::advertised;
/// let local: SocketAddr = "10.0.0.5:50001".parse().unwrap();
/// let public: IpAddr = "203.0.113.7".parse().unwrap();
/// assert_eq!(advertised(local, Some(public)), "203.0.113.7:50001".parse().unwrap());
/// assert_eq!(advertised(local, None), local);
/// ```
pub fn advertised(local: SocketAddr, external: Option<IpAddr>) -> SocketAddr {
    external.map_or(local, |ip| SocketAddr::new(ip, local.port()))
}

/// Whether binding a listener failed because the port is taken (by
/// another listener or connection): the next port of the range may do.
pub fn port_taken(error: &Error) -> bool {
    matches!(error, Error::Io { source, .. }
        if matches!(source.kind(), std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied))
}

/// Whether a failed data setup may be a server that wants `PRET` first:
/// a refused `EPSV` or `PASV`.
pub fn may_need_pret(error: &Error) -> bool {
    matches!(error, Error::Reply { command, reply }
        if (command == "EPSV" || command == "PASV") && !reply.code().is_completion())
}

/// Largest offset learned from a server: UTC+14:00 and UTC-12:00 are the
/// extremes of civil time; anything larger is a clock that is wrong, or a
/// file changed between the listing and `MDTM`.
const MAX_OFFSET: i64 = 14 * 3600;

/// `time` moved back by `offset` seconds (a local time of a server
/// `offset` seconds ahead of UTC, as UTC).
pub fn to_utc(time: SystemTime, offset: i32) -> SystemTime {
    let magnitude = Duration::from_secs(u64::from(offset.unsigned_abs()));
    let shifted = if offset >= 0 {
        time.checked_sub(magnitude)
    } else {
        time.checked_add(magnitude)
    };
    shifted.unwrap_or(time)
}

/// Reads a `LIST` entry's time as the local time of a server `offset`
/// seconds ahead of UTC. Only times with a time of day move: a date alone
/// (`Nov 24  2019`) says nothing finer than the day, and stays as it is.
pub fn shift_entry(entry: &mut Entry, offset: i32) {
    if offset != 0
        && entry.time_precision >= TimePrecision::Minute
        && let Some(time) = entry.modified
    {
        entry.modified = Some(to_utc(time, offset));
    }
}

impl ListingFormat {
    /// Parses one line as [`ListingFormat::parse`] does, reading `LIST`
    /// times as the local time of a server `offset` seconds ahead of UTC
    /// (see [`shift_entry`]). `MLSD` times are UTC and never shifted.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use ftpkit::list::ListingFormat;
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14
    /// let line = b"-rw-r--r-- 1 u g 5 Nov 10 14:30 f";
    /// let utc = ListingFormat::List.parse(line, now).unwrap().modified.unwrap();
    /// let east = ListingFormat::List.parse_with_offset(line, now, 7200).unwrap();
    /// assert_eq!(east.modified.unwrap() + Duration::from_secs(7200), utc);
    /// ```
    pub fn parse_with_offset(self, line: &[u8], now: SystemTime, offset: i32) -> Option<Entry> {
        if self == ListingFormat::Mlsd || offset == 0 {
            return self.parse(line, now);
        }
        // A listing without years is read against the server's own clock.
        let server_now = to_utc(now, offset.saturating_neg());
        let mut entry = self.parse(line, server_now)?;
        shift_entry(&mut entry, offset);
        Some(entry)
    }
}

/// How many listings may try to learn a server's `LIST` time offset
/// before it is left unknown (times read as UTC).
pub const MAX_OFFSET_PROBES: u8 = 3;

/// Most bytes of a listing kept to learn the time offset from: the probe
/// needs one line.
pub const PROBE_LISTING_MAX: usize = 1 << 20;

/// The entries of a `LIST` (read as UTC), for [`offset_probe`].
pub fn parse_probe_listing(data: &[u8], now: SystemTime) -> Vec<Entry> {
    data.split(|&b| b == b'\n')
        .filter_map(|line| ListingFormat::List.parse(line, now))
        .collect()
}

/// The path to ask `MDTM` of for `probe`, listed in `dir`: the name alone
/// in the working directory, else `dir/name`. `None` for a name that
/// cannot be sent back.
pub fn probe_path(dir: Option<&Arg>, probe: &Entry) -> Option<Arg> {
    let name = probe.name.as_bytes();
    let path = match dir.map(Arg::as_bytes) {
        Some(dir) if dir != b"." && !name.starts_with(b"/") => {
            let mut path = dir.strip_suffix(b"/").unwrap_or(dir).to_vec();
            path.push(b'/');
            path.extend_from_slice(name);
            path
        }
        _ => name.to_vec(),
    };
    Arg::path(path).ok()
}

/// The file of a `LIST` whose `MDTM` can teach the server's time zone: the
/// first regular file listed with a time of day.
pub fn offset_probe(entries: &[Entry]) -> Option<&Entry> {
    entries
        .iter()
        .find(|e| e.is_file() && e.time_precision == TimePrecision::Minute && e.modified.is_some())
}

/// The server's offset from UTC, in seconds, learned from the time a `LIST`
/// line shows for a file (`listed`, read as UTC, to the minute) and its
/// `MDTM` (UTC): the difference, rounded to a quarter of an hour (every
/// civil time zone is a multiple of it). `None` beyond ±14 hours.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use ftpkit::proto::reach::learn_offset;
/// let mdtm = UNIX_EPOCH + Duration::from_secs(1_700_000_037);
/// let listed = UNIX_EPOCH + Duration::from_secs(1_700_000_000 - 5 * 3600); // UTC-05:00
/// assert_eq!(learn_offset(listed, mdtm), Some(-5 * 3600));
/// assert_eq!(learn_offset(mdtm, mdtm), Some(0));
/// assert_eq!(learn_offset(listed - Duration::from_secs(86_400), mdtm), None);
/// ```
pub fn learn_offset(listed: SystemTime, mdtm: SystemTime) -> Option<i32> {
    let mdtm = TimePrecision::Minute.truncate(mdtm);
    let diff = match listed.duration_since(mdtm) {
        Ok(ahead) => i64::try_from(ahead.as_secs()).ok()?,
        Err(behind) => -i64::try_from(behind.duration().as_secs()).ok()?,
    };
    let quarter = 15 * 60;
    let rounded = diff.saturating_add(diff.signum() * quarter / 2) / quarter * quarter;
    if rounded.abs() > MAX_OFFSET {
        return None;
    }
    i32::try_from(rounded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_cover_the_range_once() {
        for seed in [0, 1, 99, u64::MAX] {
            let mut ports: Vec<u16> = listen_ports(Some(65_530..=65_535), seed).collect();
            ports.sort_unstable();
            assert_eq!(ports, [65_530, 65_531, 65_532, 65_533, 65_534, 65_535]);
        }
        assert_eq!(listen_ports(Some(1..=1), 5).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn offsets_round_to_quarter_hours() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let at = |secs: i64| {
            if secs >= 0 {
                base + Duration::from_secs(secs.unsigned_abs())
            } else {
                base - Duration::from_secs(secs.unsigned_abs())
            }
        };
        assert_eq!(learn_offset(at(5 * 3600 + 1800), base), Some(19_800));
        assert_eq!(learn_offset(at(3600 + 60), base), Some(3600));
        assert_eq!(learn_offset(at(-(9 * 3600 + 2700)), base), Some(-35_100));
        assert_eq!(learn_offset(at(15 * 3600), base), None);
    }

    #[test]
    fn dates_alone_do_not_move() {
        let now = SystemTime::now();
        let mut e = Entry::unknown(b"x");
        e.modified = Some(now);
        e.time_precision = TimePrecision::Day;
        shift_entry(&mut e, 3600);
        assert_eq!(e.modified, Some(now));
        e.time_precision = TimePrecision::Minute;
        shift_entry(&mut e, 3600);
        assert_eq!(e.modified, Some(now - Duration::from_secs(3600)));
    }
}
