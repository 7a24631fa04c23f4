//! Command-line arguments (clap derive). Raw flags are turned into a
//! [`Plan`](crate::plan::Plan) before any work starts.

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
        after_help = "Examples:\n  ftpkit ls ftp://ftp.example.com/pub/\n  ftpkit ls -l ftp://user@ftp.example.com/incoming/\n  ftpkit ls --json ftp://ftp.example.com/pub/ | jq .name\n\nJSON fields: name, type (file, dir, symlink, other, unknown), size, modified\n(RFC 3339, UTC), permissions (octal string), owner, group, target (symlinks),\nraw (unknown lines); absent facts are null."
    )]
    Ls {
        /// ftp://[user[:password]@]host[:port]/path (also ftps:// and ftpes://)
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
    Size {
        /// ftp://[user[:password]@]host[:port]/path/to/file
        url: String,
        /// {"name": ..., "size": ...} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one entry's facts: MLST where the server offers it, else the
    /// LIST line of the path.
    Stat {
        /// ftp://[user[:password]@]host[:port]/path
        url: String,
        /// One JSON object, with the fields of `ls --json`.
        #[arg(long)]
        json: bool,
    },
    /// Send a raw command after login and print the server's reply.
    #[command(
        after_help = "Example:\n  ftpkit quote ftp://user@host/ SITE CHMOD 644 file.txt\n\nExits 5 when the reply is 4xx or 5xx."
    )]
    Quote {
        /// ftp://[user[:password]@]host[:port]/ (the path is ignored)
        url: String,
        /// The command and its arguments.
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Download a file. It is written to PATH.part and renamed to PATH only
    /// when complete and, where the server reports a size, of that size.
    #[command(
        after_help = "Examples:\n  ftpkit get ftp://ftp.example.com/pub/file.iso\n  ftpkit get -c -o file.iso ftp://ftp.example.com/pub/file.iso   # resume\n  ftpkit get -o - ftp://ftp.example.com/README | less\n  ftpkit get -o data/ 'ftp://ftp.example.com/exports/*.csv'"
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
        /// Resume: continue from the length of PATH.part (or of PATH, for a
        /// file another tool left) with REST.
        #[arg(short = 'c', long = "continue")]
        resume: bool,
    },
    /// Upload a file. A URL ending in `/` names a directory: the file keeps
    /// its local name there.
    #[command(
        after_help = "Examples:\n  ftpkit put backup.tar ftp://user@ftp.example.com/incoming/\n  ftpkit put -c backup.tar ftp://user@ftp.example.com/incoming/backup.tar   # resume"
    )]
    Put {
        /// The local file.
        path: PathBuf,
        /// ftp://[user[:password]@]host[:port]/path/to/file or .../dir/
        url: String,
        /// Resume: ask the server how much it has (SIZE) and send only the
        /// rest (REST+STOR, or APPE where REST is refused).
        #[arg(short = 'c', long = "continue")]
        resume: bool,
    },
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Idle timeout in seconds: how long any read or write may wait.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Active mode: the server connects to us (PORT/EPRT). Passive is the default.
    #[arg(long, global = true)]
    pub active: bool,
    /// Protocol trace on stderr (-vv for more); passwords show as ****.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Require explicit TLS (AUTH TLS) on an ftp:// URL.
    #[arg(long, global = true)]
    pub tls: bool,
    /// Trust the CA certificates in this PEM file too.
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept only the server certificate with this SHA-256 fingerprint (hex).
    #[arg(long = "pin-sha256", global = true, value_name = "HEX")]
    pub pin_sha256: Option<String>,
    /// DANGEROUS: accept any certificate for any name. Anyone on the path
    /// can then read the password and the data.
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Flush downloads to disk (fsync) before renaming PATH.part to PATH, so
    /// that a power loss cannot leave a short PATH (as rsync's --fsync).
    /// Slower: the transfer then waits for the disk.
    #[arg(long, global = true)]
    pub fsync: bool,
    /// Offer TLS 1.3 as well as TLS 1.2 (some servers then refuse data
    /// connections for lack of session tickets).
    #[arg(long, global = true)]
    pub tls13: bool,
    /// After login, return the control connection to clear text (CCC), for
    /// NAT devices that must read it; data connections stay protected.
    #[arg(long, global = true)]
    pub ccc: bool,
    /// Leave data connections in clear under TLS (PROT C).
    #[arg(long = "no-prot-p", global = true)]
    pub no_prot_p: bool,
}
