//! `ftpkit trust`: trust on first use. Connects without verification,
//! only far enough to see the certificate (AUTH TLS, the handshake, QUIT:
//! no login), shows it, and on confirmation records its fingerprint for
//! the host and port in the known-hosts file.

use std::io::{BufRead, IsTerminal, Write};

use ftpkit::{CertificateInfo, Client, KnownHosts, TlsConfig, TlsMode, tls::CertificateSlot};

use crate::{failure::Failure, plan, plan::Settings};

/// Runs `ftpkit trust [--yes|--forget] URL`.
pub fn run(url: &str, yes: bool, forget: bool, global: &Settings) -> Result<(), Failure> {
    let target = plan::parse_url(url, true)?;
    let path = KnownHosts::default_path().ok_or_else(|| {
        Failure::Usage("no configuration directory: set HOME or XDG_CONFIG_HOME".into())
    })?;
    let mut store = KnownHosts::open(&path)?;
    if forget {
        if store.remove(&target.host, target.port) {
            store.save()?;
            println!(
                "removed the record for {} from {}",
                target.addr(),
                path.display()
            );
            return Ok(());
        }
        return Err(Failure::Usage(format!(
            "no record for {} in {}",
            target.addr(),
            path.display()
        )));
    }
    let der = fetch_certificate(&target, global)?;
    let info = CertificateInfo::from_der(&der).ok_or_else(|| {
        Failure::Remote(format!(
            "the certificate of {} cannot be read (SHA-256 {})",
            target.addr(),
            ftpkit::tls::fingerprint_sha256(&der)
        ))
    })?;
    println!("{}", describe(&target.addr(), &info));
    match store.get(&target.host, target.port) {
        Some(recorded) if recorded == info.sha256 => {
            println!("already trusted: this is the recorded certificate");
            return Ok(());
        }
        Some(recorded) => println!(
            "WARNING: this certificate differs from the one recorded (SHA-256 {recorded}); \
             trusting it replaces the record"
        ),
        None => {}
    }
    if !yes && !confirm(&target.addr())? {
        return Err(Failure::Usage("not trusted: nothing recorded".into()));
    }
    store.insert(&target.host, target.port, &info.sha256)?;
    store.save()?;
    println!("trusted: recorded in {}", path.display());
    Ok(())
}

/// The certificate's facts, one per line.
fn describe(addr: &str, info: &CertificateInfo) -> String {
    let mut text = format!("certificate of {addr}:\n");
    text.push_str(&format!("  subject:  {}\n", info.subject));
    text.push_str(&format!("  issuer:   {}", info.issuer));
    if info.is_self_issued() {
        text.push_str(" (self-signed)");
    }
    text.push('\n');
    text.push_str(&format!(
        "  valid:    {} to {}\n",
        info.not_before_utc(),
        info.not_after_utc()
    ));
    text.push_str(&format!("  names:    {}\n", info.names.join(", ")));
    text.push_str(&format!("  SHA-256:  {}", info.sha256));
    text
}

/// Asks on standard input; anything but `y` or `yes` is a no.
fn confirm(addr: &str) -> Result<bool, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("trust this certificate for {addr}? [y/N] ");
        let _ = std::io::stderr().flush();
    }
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::Local("<stdin>".into(), e))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Connects with a configuration that accepts and records any certificate,
/// and leaves at once.
fn fetch_certificate(target: &plan::Target, global: &Settings) -> Result<Vec<u8>, Failure> {
    let slot = CertificateSlot::new();
    let mut builder = TlsConfig::builder()
        .without_system_roots()
        .danger_record_certificate(slot.clone());
    if let Some(version) = global.tls_max {
        builder = builder.max_version(version);
    }
    let tls = builder.build()?;
    let mode = target.tls.unwrap_or(TlsMode::Explicit);
    let timeout = global.timeout;
    let mut config = ftpkit::Config::default()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(30)))
        .tls(mode, Some(tls));
    if let Some(proxy) = plan::proxy_for(global, &target.host)? {
        config = config.proxy(proxy);
    }
    let connected = Client::connect_with(&target.addr(), config);
    let der = slot.take();
    match (connected, der) {
        (Ok(client), Some(der)) => {
            let _ = client.quit();
            Ok(der)
        }
        // The server presented a certificate, then failed: still shown.
        (Err(_), Some(der)) => Ok(der),
        (Err(e), None) => Err(Failure::Ftp(e)),
        (Ok(_), None) => Err(Failure::Remote(format!(
            "{} presented no certificate",
            target.addr()
        ))),
    }
}
