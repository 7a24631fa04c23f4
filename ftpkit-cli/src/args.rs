//! Command-line arguments (clap derive). Raw flags are turned into
//! [`Settings`](crate::plan::Settings) once, before any work starts;
//! commands never see these structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::exit::EXIT_CODES_HELP;

/// ftpkit: FTP and FTPS from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "ftpkit",
    version,
    about = "FTP and FTPS client: list, download and upload, with resume and verification",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a remote directory: names (NLST), a long typed listing (-l), or
    /// JSON Lines (--json). Long and JSON listings come from MLSD where the
    /// server offers it, else from LIST in any common format.
    #[command(
        after_help = "Examples:\n  ftpkit ls ftp://ftp.example.com/pub/\n  ftpkit ls -l ftp://user@ftp.example.com/incoming/\n  ftpkit ls --json ftp://ftp.example.com/pub/ | jq .name\n\nLong listings show the type as ls does (- d l c b p s), with the set-id and\nsticky bits, and only the date when the server gives no time of day.\n\nJSON fields: name, type (file, dir, symlink, other, unknown), size, modified\n(RFC 3339, UTC), time_precision (second, minute or day: what the server\nknows of the time), permissions (octal string), owner, group, target\n(symlinks), raw (unknown lines); absent facts are null."
    )]
    Ls {
        /// ftp://[user[:password]@]host[:port]/path (also ftps:// and ftpes://);
        /// ending in `/`, a directory whose names are listed from inside it
        /// (bare names), else a file or pattern NLST is given as it is.
        url: String,
        /// Long listing: type, permissions, owner, group, size, time (UTC), name.
        #[arg(short = 'l', long, conflicts_with = "json")]
        long: bool,
        /// One JSON object per entry (JSON Lines).
        #[arg(long)]
        json: bool,
    },
    /// Print a remote file on standard output.
    #[command(after_help = "Example:\n  ftpkit cat ftp://ftp.example.com/pub/README | less")]
    Cat {
        /// ftp://[user[:password]@]host[:port]/path/to/file
        url: String,
    },
    /// Delete remote files (DELE).
    #[command(
        after_help = "Example:\n  ftpkit rm ftp://user@host/incoming/old.tar ftp://user@host/incoming/older.tar"
    )]
    Rm {
        /// One URL per file, all on the same server.
        #[arg(required = true)]
        urls: Vec<String>,
    },
    /// Create a remote directory (MKD); -p creates missing parents and
    /// accepts one that exists.
    #[command(after_help = "Example:\n  ftpkit mkdir -p ftp://user@host/backups/2026/11")]
    Mkdir {
        /// ftp://[user[:password]@]host[:port]/path/to/dir
        url: String,
        /// Create parents as needed; no error if the directory exists.
        #[arg(short = 'p', long)]
        parents: bool,
    },
    /// Remove an empty remote directory (RMD).
    #[command(after_help = "Example:\n  ftpkit rmdir ftp://user@ftp.example.com/old-dir/")]
    Rmdir {
        /// ftp://[user[:password]@]host[:port]/path/to/dir
        url: String,
    },
    /// Rename or move a remote file or directory (RNFR/RNTO).
    #[command(
        after_help = "Example:\n  ftpkit mv ftp://user@host/incoming/a.tmp incoming/a.txt\n\nThe new path is on the same server: relative to the login directory, or\nabsolute if it starts with /."
    )]
    Mv {
        /// ftp://[user[:password]@]host[:port]/old/path
        url: String,
        /// The new path on the same server.
        new_path: String,
    },
    /// Print the size of a remote file in bytes (SIZE).
    #[command(
        after_help = "Examples:\n  ftpkit size ftp://ftp.example.com/pub/file.iso\n  ftpkit size --json ftp://ftp.example.com/pub/file.iso"
    )]
    Size {
        /// ftp://[user[:password]@]host[:port]/path/to/file
        url: String,
        /// {"name": ..., "size": ...} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one entry's facts: MLST where the server offers it, else the
    /// LIST line of the path.
    #[command(
        after_help = "Examples:\n  ftpkit stat ftp://ftp.example.com/pub/file.iso\n  ftpkit stat --json ftp://ftp.example.com/pub/ | jq .type"
    )]
    Stat {
        /// ftp://[user[:password]@]host[:port]/path
        url: String,
        /// One JSON object, with the fields of `ls --json`.
        #[arg(long)]
        json: bool,
    },
    /// Set the Unix permissions of remote files (SITE CHMOD).
    #[command(
        after_help = "Examples:\n  ftpkit chmod 644 ftp://user@host/www/index.html\n  ftpkit chmod 0755 ftp://user@host/cgi-bin/run.sh ftp://user@host/cgi-bin/form.sh\n\nMODE is octal, 1 to 4 digits (0 to 7777), checked before connecting. A\nserver without SITE CHMOD answers 500, 502 or 504: ftpkit says so and exits 5."
    )]
    Chmod {
        /// Octal mode, such as 644, 0755 or 4755.
        #[arg(value_parser = parse_mode)]
        mode: u32,
        /// One URL per file, all on the same server.
        #[arg(required = true)]
        urls: Vec<String>,
    },
    /// Send a raw command after login and print the server's reply.
    #[command(
        after_help = "Example:\n  ftpkit quote ftp://user@host/ SITE CHMOD 644 file.txt\n\nThe reply is printed on standard output whatever its code; exits 5 when it\nis 4xx or 5xx."
    )]
    Quote {
        /// ftp://[user[:password]@]host[:port]/ (the path is ignored)
        url: String,
        /// The command and its arguments.
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Download files. Each is written to PATH.part and renamed to PATH only
    /// when complete and verified (size, and a content hash where the
    /// server offers one); an interrupted download resumes from PATH.part,
    /// after checking that its last 32 KiB match the server's bytes.
    #[command(
        after_help = "Examples:\n  ftpkit get ftp://ftp.example.com/pub/file.iso\n  ftpkit get -c -o file.iso ftp://ftp.example.com/pub/file.iso   # resume\n  ftpkit get -o - ftp://ftp.example.com/README | less\n  ftpkit get -o data/ 'ftp://ftp.example.com/exports/*.csv'\n  ftpkit get -P 4 -o data/ 'ftp://ftp.example.com/exports/*.csv'   # 4 at once\n  ftpkit get --ascii ftp://ftp.example.com/pub/notes.txt   # text: CRLF becomes LF\n  ftpkit get --segments 4 ftp://ftp.example.com/pub/file.iso   # 4 connections"
    )]
    Get {
        /// ftp://[user[:password]@]host[:port]/path/to/file; several URLs, or
        /// a glob in the last component (`'ftp://host/dir/*.csv'`, matched
        /// on the client), download into the -o directory.
        #[arg(required = true, num_args = 1..)]
        urls: Vec<String>,
        /// Where to save it (`-` for standard output). Default: the remote
        /// file's name in the current directory. With several files: an
        /// existing directory.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
        /// Also resume a PATH another tool left (moved to PATH.part first).
        /// PATH.part is always resumed.
        #[arg(short = 'c', long = "continue")]
        resume: bool,
        /// Several files: parallel connections, text mode.
        #[command(flatten)]
        many: ManyArgs,
        /// Retries, verification, rate, summaries.
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// Upload files. A URL ending in `/` names a directory: each file keeps
    /// its local name there (required with several files). Sizes are
    /// verified, and a content hash where the server offers one.
    #[command(
        after_help = "Examples:\n  ftpkit put backup.tar ftp://user@ftp.example.com/incoming/\n  ftpkit put *.csv ftp://user@ftp.example.com/incoming/\n  ftpkit put --temp-name report.pdf ftp://user@ftp.example.com/pub/report.pdf\n  ftpkit put -c backup.tar ftp://user@ftp.example.com/incoming/backup.tar   # resume\n  ftpkit put -P 4 --create-dirs *.csv ftp://user@ftp.example.com/in/2026/11/\n  ftpkit put --ascii notes.txt ftp://user@ftp.example.com/pub/   # text: lines sent as CRLF"
    )]
    Put {
        /// The local files, then ftp://[user[:password]@]host[:port]/path/to/file
        /// (one file) or .../dir/ (one or more).
        #[arg(required = true, num_args = 2.., value_name = "FILE... URL")]
        args: Vec<std::ffi::OsString>,
        /// Resume: ask the server how much it has (SIZE), compare the last
        /// 32 KiB of that, and send only the rest (APPE, or REST+STOR).
        #[arg(short = 'c', long = "continue")]
        resume: bool,
        /// Upload to NAME.part and rename it to NAME (RNFR/RNTO) once complete
        /// and verified, so nobody sees a partial file under NAME.
        #[arg(long = "temp-name")]
        temp_name: bool,
        /// Create the URL's missing remote directories first, each level
        /// (MKD; one that exists is checked with CWD), as curl's
        /// --ftp-create-dirs.
        #[arg(long = "create-dirs")]
        create_dirs: bool,
        /// Several files: parallel connections, text mode.
        #[command(flatten)]
        many: ManyArgs,
        /// Retries, verification, rate, summaries.
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// Copy a directory tree, only what changed (size and time), over
    /// several connections. Downloads by default: REMOTE_URL LOCAL_DIR; with
    /// --reverse, uploads: LOCAL_DIR REMOTE_URL. Names from the server that
    /// could leave LOCAL_DIR (.., /, \, control characters) and symlinks on
    /// either side are skipped with a warning.
    #[command(
        after_help = "Examples:\n  ftpkit mirror ftp://ftp.example.com/pub/docs/ ./docs\n  ftpkit mirror --parallel 8 --delete ftp://user@host/site/ ./site-backup\n  ftpkit mirror --reverse ./site ftp://user@host/www/ --exclude '*.tmp'\n  ftpkit mirror --dry-run --include '*.csv' ftp://host/exports/ ./exports\n  ftpkit mirror --perms ftp://user@host/site/ ./site   # modes too\n\nFiles of at least --segment-threshold (64M) are downloaded over --segments\n(4) connections each; --segments 1 turns that off."
    )]
    Mirror {
        /// Source: REMOTE_URL (or LOCAL_DIR with --reverse).
        source: String,
        /// Destination: LOCAL_DIR (or REMOTE_URL with --reverse).
        destination: String,
        /// Upload LOCAL_DIR to REMOTE_URL instead.
        #[arg(short = 'R', long)]
        reverse: bool,
        /// Connections transferring at once.
        #[arg(short = 'P', long, value_name = "N", default_value_t = 4)]
        parallel: usize,
        /// Delete destination files and directories that the source lacks.
        #[arg(long)]
        delete: bool,
        /// Print what would be done, change nothing.
        #[arg(short = 'n', long = "dry-run")]
        dry_run: bool,
        /// Copy only files matching GLOB (a name, or a path when it holds /);
        /// repeatable.
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Skip files and directories matching GLOB; repeatable.
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
        /// Carry Unix permissions: a download gets the listing's mode, an
        /// upload sends the local mode (SITE CHMOD). Skipped, with one
        /// warning, where the server gives no mode or has no SITE CHMOD.
        #[arg(long)]
        perms: bool,
        /// Retries, verification, rate, summaries.
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// An interactive session: ls, cd, lcd, get, put, mget, mput, pwd,
    /// mkdir, rm, ... with line editing, history and tab completion of
    /// remote names. Reads commands from standard input when it is not a
    /// terminal, so it can be scripted.
    #[command(
        after_help = "Examples:\n  ftpkit shell ftp://user@ftp.example.com/pub/\n  printf 'cd pub\\nmget *.txt\\nbye\\n' | ftpkit shell ftp://ftp.example.com/\n\nType help at the prompt for the commands. A failed command prints its error\nand the session goes on; the exit code is then that of the last failure."
    )]
    Shell {
        /// ftp://[user[:password]@]host[:port]/[start/dir/]
        url: String,
        /// Retries, verification, rate, summaries.
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// Show a server's TLS certificate and, once confirmed, trust exactly
    /// that certificate for that host and port from now on (trust on first
    /// use, as ssh does): the record goes to the known-hosts file.
    #[command(
        after_help = "Examples:\n  ftpkit trust ftpes://ftp.example.com/\n  ftpkit trust --yes ftps://ftp.example.com:990/\n  ftpkit trust --forget ftpes://ftp.example.com/\n\nThe known-hosts file is $XDG_CONFIG_HOME/ftpkit/known_hosts, or\n~/.config/ftpkit/known_hosts. Every later connection to a recorded host and\nport must present exactly the recorded certificate; a changed one is refused\nwith both fingerprints. ftp:// and ftpes:// URLs use explicit TLS (AUTH TLS),\nftps:// implicit TLS. Nothing is sent but AUTH TLS and QUIT: no login."
    )]
    Trust {
        /// ftpes://host[:port]/, ftps://host[:port]/ or ftp://host[:port]/
        url: String,
        /// Record without asking.
        #[arg(short = 'y', long)]
        yes: bool,
        /// Remove the record for this host and port instead.
        #[arg(long, conflicts_with = "yes")]
        forget: bool,
    },
    /// Print a shell completion script: `ftpkit completions bash >
    /// /etc/bash_completion.d/ftpkit`.
    #[command(
        after_help = "Examples:\n  ftpkit completions bash > /etc/bash_completion.d/ftpkit\n  ftpkit completions zsh > \"${fpath[1]}/_ftpkit\"\n  ftpkit completions fish > ~/.config/fish/completions/ftpkit.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `ftpkit man | man -l -`.
    #[command(
        after_help = "Examples:\n  ftpkit man | man -l -\n  ftpkit man > /usr/local/share/man/man1/ftpkit.1"
    )]
    Man,
}

/// Options shared by every command: the connection, TLS and login.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Idle timeout in seconds: how long any read or write may wait.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Most time in seconds each operation may take, as curl's --max-time:
    /// connecting and logging in, each listing, each transfer with its
    /// retries, reconnects and waits. A reply dripped one byte at a time
    /// is bounded by --timeout as a whole. When it passes, the command
    /// fails (exit 3) naming the deadline; no retry starts that could not
    /// finish in time. Default: no limit.
    #[arg(long = "max-time", global = true, value_name = "SECS")]
    pub max_time: Option<f64>,
    /// TCP keepalive on the control connection, in seconds: probes after
    /// this much silence and then at this interval, so that a NAT or
    /// firewall does not drop the connection while it waits out a long
    /// transfer. 0 turns it off.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 15.0)]
    pub keepalive: f64,
    /// Active mode: the server connects to us (PORT/EPRT). Passive is the default.
    #[arg(long, global = true)]
    pub active: bool,
    /// Send one command at a time. By default the commands of a download
    /// whose replies do not change what comes next (TYPE, SIZE, MDTM,
    /// EPSV/PASV) go out together, one round trip instead of four, and a
    /// server seen to mishandle that gets one command at a time anyway.
    #[arg(long = "no-pipelining", global = true)]
    pub no_pipelining: bool,
    /// Protocol trace on stderr, each line timed from the start (-vv for
    /// more, with each line's thread); passwords show as ****.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Require explicit TLS (AUTH TLS) on an ftp:// URL.
    #[arg(long, global = true, help_heading = "TLS options")]
    pub tls: bool,
    /// Trust the CA certificates in this PEM file too. A certificate in it
    /// that the server presents as is is accepted as well, even a
    /// self-signed one made with `openssl req -x509` (CA:TRUE); its dates
    /// and names are still checked.
    #[arg(long, global = true, value_name = "FILE", help_heading = "TLS options")]
    pub cacert: Option<PathBuf>,
    /// Accept only the server certificate with this SHA-256 fingerprint
    /// (hex; shown in certificate errors and by `ftpkit trust`), whoever
    /// signed it, whatever its dates and names.
    #[arg(
        long = "pin-sha256",
        global = true,
        value_name = "HEX",
        help_heading = "TLS options"
    )]
    pub pin_sha256: Option<String>,
    /// DANGEROUS: accept any certificate for any name. Anyone on the path
    /// can then read the password and the data.
    #[arg(long, global = true, help_heading = "TLS options")]
    pub insecure: bool,
    /// Accepted for compatibility: TLS 1.3 is now offered by default.
    #[arg(long, global = true, hide = true)]
    pub tls13: bool,
    /// Highest TLS version to offer: 1.3 (default; a server that refuses
    /// TLS 1.3 data connections gets TLS 1.2 after one reconnection) or 1.2.
    #[arg(
        long = "tls-max",
        global = true,
        value_name = "VERSION",
        value_parser = parse_tls_version,
        help_heading = "TLS options"
    )]
    pub tls_max: Option<ftpkit::TlsVersion>,
    /// Client certificate (PEM, leaf first) for servers that require one
    /// (mutual TLS); needs --key.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        requires = "key",
        help_heading = "TLS options"
    )]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of the --cert certificate.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        requires = "cert",
        help_heading = "TLS options"
    )]
    pub key: Option<PathBuf>,
    /// After login, return the control connection to clear text (CCC), for
    /// NAT devices that must read it; data connections stay protected.
    #[arg(long, global = true, help_heading = "TLS options")]
    pub ccc: bool,
    /// Leave data connections in clear under TLS (PROT C).
    #[arg(long = "no-prot-p", global = true, help_heading = "TLS options")]
    pub no_prot_p: bool,
    /// Connect through this proxy: socks5://, socks5h:// (the proxy
    /// resolves the name), http:// (CONNECT) or ftp:// (an FTP proxy;
    /// add ?login=site or ?login=open for SITE/OPEN host logins), with
    /// user:password@ if it needs them. Without it, ftp_proxy or
    /// all_proxy from the environment; an empty URL means none. Active
    /// mode does not work through socks5/http proxies.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help_heading = "Proxy options"
    )]
    pub proxy: Option<String>,
    /// Hosts reached without the proxy: comma-separated names (with their
    /// subdomains), addresses, or * for all. Overrides no_proxy.
    #[arg(
        long,
        global = true,
        value_name = "LIST",
        help_heading = "Proxy options"
    )]
    pub noproxy: Option<String>,
    /// Read credentials from this netrc file instead of $NETRC or ~/.netrc.
    #[arg(long = "netrc-file", global = true, value_name = "PATH")]
    pub netrc_file: Option<PathBuf>,
    /// Do not read a netrc file.
    #[arg(long = "no-netrc", global = true, conflicts_with = "netrc_file")]
    pub no_netrc: bool,
    /// NAT, firewalls and time zones.
    #[command(flatten)]
    pub reach: crate::reach::ReachArgs,
}

/// Options of `get` and `put` for several files and for text files.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Transfer options")]
pub struct ManyArgs {
    /// Several files: transfer N at once, each over its own connection
    /// from a pool (lftp's mget -P); all URLs must then name one server.
    /// A file that fails does not stop the others: each failure is
    /// printed, in the order of the arguments, and the exit code is that
    /// of the first.
    #[arg(short = 'P', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Text mode (TYPE A): line ends travel as CRLF, as RFC 959 asks, and
    /// are converted from and to the local convention (LF). Sizes then
    /// differ: no resume, no retries, no verification.
    #[arg(long, conflicts_with = "resume")]
    pub ascii: bool,
}

/// Options of the commands that move files (`get`, `put`, `mirror`,
/// `shell`): shown only in their help.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Transfer options")]
pub struct TransferArgs {
    /// Flush downloads to disk (fsync) before renaming PATH.part to PATH, so
    /// that a power loss cannot leave a short PATH (as rsync's --fsync).
    /// Slower: the transfer then waits for the disk.
    #[arg(long)]
    pub fsync: bool,
    /// Transfers: how many times to retry after a transient failure (a 4xx
    /// reply, a timeout, a dropped connection), reconnecting and resuming
    /// where it stopped. 5xx replies and refused logins are never retried.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Transfers: skip verification. By default the sizes are compared and,
    /// where the server offers HASH, XSHA256, XSHA1, XMD5 or XCRC, a
    /// content hash too.
    #[arg(long = "no-verify")]
    pub no_verify: bool,
    /// Transfers: cap the rate, in bytes per second; K, M and G suffixes
    /// (powers of 1024) are accepted, e.g. 500K or 2M.
    #[arg(long = "limit-rate", value_name = "RATE", value_parser = parse_rate)]
    pub limit_rate: Option<u64>,
    /// Uploads: let the kernel send the file (sendfile(2), plain FTP on
    /// Linux): less client CPU; block-sized writes were faster on loopback,
    /// where the server's CPU is the limit.
    #[arg(long)]
    pub sendfile: bool,
    /// Uploads: the most a data connection leaves queued in the kernel
    /// unsent (TCP_NOTSENT_LOWAT, Linux); K and M suffixes, or `none` for
    /// the kernel's default (a whole send buffer). A small cap spares the
    /// receiving server the work of sending that backlog on loopback and
    /// fast links; bytes in flight are not capped.
    #[arg(long = "unsent-limit", value_name = "SIZE", default_value = "64K", value_parser = parse_unsent)]
    pub unsent_limit: UnsentLimit,
    /// Transfers: print a JSON Lines summary of each file on stdout.
    #[arg(long = "json-summary")]
    pub json_summary: bool,
    /// Downloads: fetch each file over up to N connections at once, in
    /// ranges (REST to the range's start), written in place into PATH.part;
    /// each range resumes on its own (progress kept in PATH.part.segments)
    /// and the whole file is verified at the end. Files under 2 MiB, or
    /// whose size the server will not tell, go over one connection, as do
    /// the ranges of connections the server refuses. `get`: default 1, all
    /// N connections opened and logged in at once, the download started on
    /// the first logged in and each other one taking its part as soon as it
    /// is; `mirror`: default 4, for files of at least --segment-threshold.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub segments: Option<u16>,
    /// `mirror`: download files of at least SIZE in segments (see
    /// --segments); K, M and G suffixes (powers of 1024).
    #[arg(long = "segment-threshold", value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub segment_threshold: u64,
}

impl Command {
    /// The transfer options, for the commands that move files.
    pub fn transfer(&self) -> Option<&TransferArgs> {
        match self {
            Command::Get { transfer, .. }
            | Command::Put { transfer, .. }
            | Command::Mirror { transfer, .. }
            | Command::Shell { transfer, .. } => Some(transfer),
            _ => None,
        }
    }
}

impl Default for TransferArgs {
    fn default() -> TransferArgs {
        TransferArgs {
            fsync: false,
            retries: 3,
            no_verify: false,
            limit_rate: None,
            sendfile: false,
            unsent_limit: UnsentLimit(ftpkit::Config::default().unsent_limit),
            json_summary: false,
            segments: None,
            segment_threshold: 64 << 20,
        }
    }
}

/// An octal mode: 1 to 4 octal digits (`644`, `0755`, `4755`).
fn parse_mode(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!(
            "{text:?} is not an octal mode: use 1 to 4 digits 0-7, e.g. 644 or 0755"
        ));
    }
    u32::from_str_radix(text, 8).map_err(|e| e.to_string())
}

/// `1.2` or `1.3`.
fn parse_tls_version(text: &str) -> Result<ftpkit::TlsVersion, String> {
    match text.trim() {
        "1.2" => Ok(ftpkit::TlsVersion::Tls12),
        "1.3" => Ok(ftpkit::TlsVersion::Tls13),
        other => Err(format!("{other:?} is not a TLS version: use 1.2 or 1.3")),
    }
}

/// A size such as `64M`, `1G` or `1048576`.
fn parse_size(text: &str) -> Result<u64, String> {
    parse_rate(text).map_err(|_| format!("{text:?} is not a size: use e.g. 64M, 1G or 1048576"))
}

/// `--unsent-limit`: a cap in bytes, or none (the kernel's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsentLimit(pub Option<u32>);

/// A size such as `64K` up to 4 GiB less a byte, or `none`.
fn parse_unsent(text: &str) -> Result<UnsentLimit, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(UnsentLimit(None));
    }
    parse_rate(text)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .map(|n| UnsentLimit(Some(n)))
        .ok_or_else(|| format!("{text:?} is not a size or none: use e.g. 64K, 1M or none"))
}

/// A rate such as `500K`, `2M` or `1048576`.
fn parse_rate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, factor) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (text.get(..i), 1 << 10),
        Some((i, 'm' | 'M')) => (text.get(..i), 1 << 20),
        Some((i, 'g' | 'G')) => (text.get(..i), 1 << 30),
        _ => (Some(text), 1),
    };
    digits
        .and_then(|d| d.parse::<u64>().ok())
        .and_then(|n| n.checked_mul(factor))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is not a rate: use e.g. 500K, 2M or 1048576"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsent_limits_parse_as_sizes_or_none() {
        assert_eq!(parse_unsent("64K"), Ok(UnsentLimit(Some(64 << 10))));
        assert_eq!(parse_unsent("1000"), Ok(UnsentLimit(Some(1000))));
        assert_eq!(parse_unsent("None"), Ok(UnsentLimit(None)));
        assert!(parse_unsent("4G").is_err());
        assert!(parse_unsent("0").is_err());
        assert!(parse_unsent("lots").is_err());
        assert_eq!(
            TransferArgs::default().unsent_limit,
            UnsentLimit(Some(64 << 10))
        );
    }

    #[test]
    fn rates_parse_with_suffixes() {
        assert_eq!(parse_rate("1000"), Ok(1000));
        assert_eq!(parse_rate("500K"), Ok(500 << 10));
        assert_eq!(parse_rate("2m"), Ok(2 << 20));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("K").is_err());
    }

    #[test]
    fn modes_parse_as_octal() {
        assert_eq!(parse_mode("644"), Ok(0o644));
        assert_eq!(parse_mode("0755"), Ok(0o755));
        assert_eq!(parse_mode("4755"), Ok(0o4755));
        assert_eq!(parse_mode("7"), Ok(0o7));
        for bad in ["", "8", "0x1f", "12345", "rwx", "-644", "64 4"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tls_versions_parse() {
        assert_eq!(parse_tls_version("1.2"), Ok(ftpkit::TlsVersion::Tls12));
        assert_eq!(parse_tls_version("1.3"), Ok(ftpkit::TlsVersion::Tls13));
        assert!(parse_tls_version("1.1").is_err());
    }
}
