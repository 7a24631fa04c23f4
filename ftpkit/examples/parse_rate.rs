//! Listing parse rate: parses 1,000,000 Unix `LIST` lines and 1,000,000
//! MLSD lines held in memory and prints lines per second for each. Used by
//! `bench/run.sh`; run it alone with
//! `cargo run --release --example parse_rate [LINES]`.

use std::time::{Instant, SystemTime};

use ftpkit::list::{parse_list_line, parse_mlsd_entry};

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let unix: Vec<String> = (0..count)
        .map(|i| {
            let month = months.get(i % 12).copied().unwrap_or("Jan");
            let when = if i % 2 == 0 { format!("{:02}:{:02}", i % 24, i % 60) } else { format!(" {}", 2000 + i % 25) };
            let kind = if i % 10 == 0 { 'd' } else { '-' };
            format!("{kind}rw-r--r--   1 user{}   staff  {:>10} {month} {:>2} {when} file number {i}.dat", i % 7, i * 37, 1 + i % 28)
        })
        .collect();
    let mlsd: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "type={};size={};modify=2024{:02}{:02}120000;perm=adfrw;UNIX.mode=0644;UNIX.owner=1000; file number {i}.dat",
                if i % 10 == 0 { "dir" } else { "file" },
                i * 37,
                1 + i % 12,
                1 + i % 28
            )
        })
        .collect();
    let now = SystemTime::now();

    let started = Instant::now();
    let parsed = unix
        .iter()
        .filter_map(|l| parse_list_line(l.as_bytes(), now))
        .filter(|e| e.size.is_some())
        .count();
    let unix_rate = count as f64 / started.elapsed().as_secs_f64();
    assert_eq!(parsed, count, "every generated Unix line parses");

    let started = Instant::now();
    let parsed = mlsd
        .iter()
        .filter_map(|l| parse_mlsd_entry(l.as_bytes()))
        .count();
    let mlsd_rate = count as f64 / started.elapsed().as_secs_f64();
    assert_eq!(parsed, count, "every generated MLSD line parses");

    println!("unix LIST lines/s: {unix_rate:.0}");
    println!("MLSD lines/s: {mlsd_rate:.0}");
}
