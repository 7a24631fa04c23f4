//! FTPS with a self-signed server certificate, the way most servers run:
//! trust the certificate file, or record it on first use in a known-hosts
//! file, and read a refusal's facts.
//!
//! usage: ftps_trust HOST:PORT USER PASSWORD [CERT_PEM]
//!
//! With `CERT_PEM` (the server's `openssl req -x509` certificate, or its
//! CA), that file is trusted. Without it, the known-hosts file decides:
//! a first connection shows the certificate and records it, later ones
//! must present the same certificate.

use ftpkit::{
    CertificateInfo, Client, Config, Error, KnownHosts, TlsConfig, TlsMode, tls::CertificateSlot,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, user, pass, cert) = match args.as_slice() {
        [addr, user, pass, rest @ ..] if rest.len() <= 1 => (addr, user, pass, rest.first()),
        _ => return Err("usage: ftps_trust HOST:PORT USER PASSWORD [CERT_PEM]".into()),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or("HOST:PORT")?;
    let path = KnownHosts::default_path().ok_or("set HOME or XDG_CONFIG_HOME")?;
    let mut store = KnownHosts::open(&path)?;
    let tls = match cert {
        Some(cert) => TlsConfig::builder().add_ca_pem_file(cert)?.build()?,
        None => {
            if store.get(host, port).is_none() {
                // First use: look at the certificate without logging in.
                let slot = CertificateSlot::new();
                let peek = TlsConfig::builder()
                    .danger_record_certificate(slot.clone())
                    .build()?;
                let config = Config::default().tls(TlsMode::Explicit, Some(peek));
                if let Ok(client) = Client::connect_with(addr, config) {
                    client.quit()?;
                }
                let der = slot.take().ok_or("no certificate presented")?;
                let info = CertificateInfo::from_der(&der).ok_or("unreadable certificate")?;
                println!("first use, recording: {info}");
                store.insert(host, port, &info.sha256)?;
                store.save()?;
            }
            TlsConfig::builder().known_hosts(store).build()?
        }
    };
    let config = Config::default().tls(TlsMode::Explicit, Some(tls));
    match Client::connect_with(addr, config) {
        Ok(mut client) => {
            client.login(user, pass)?;
            for name in client.nlst("")? {
                println!("{}", name.escaped());
            }
            client.quit()?;
            Ok(())
        }
        Err(Error::Certificate { rejected, .. }) => {
            // The same facts the CLI prints, to show or to decide on.
            eprintln!("{:?}: {}", rejected.problem, rejected.certificate);
            Err(Box::new(Error::Certificate {
                phase: ftpkit::Phase::Connect,
                rejected,
            }))
        }
        Err(e) => Err(e.into()),
    }
}
