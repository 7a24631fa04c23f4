//! `ftpkit`: the command-line FTP and FTPS client.

mod args;
mod cmd;
mod credentials;
mod exit;
mod failure;
mod glob;
mod netrc;
mod output;
mod plan;
mod progress;
mod proxy_env;
mod reach;

use std::process::ExitCode;

use clap::Parser;

use crate::{args::Command, failure::Failure};

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::Exit::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // The options, checked once: commands never see the raw arguments.
    let result = plan::Settings::new(&cli.global, cli.command.transfer()).and_then(|settings| {
        init_tracing(settings.verbose);
        run(&cli.command, &settings)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `ftpkit ls URL | head -1`: a closed pipe is not a failure.
        Err(Failure::Local(_, e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(Failure::Ftp(ftpkit::Error::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(Failure::Reported(exit)) => exit.into(),
        Err(failure) => {
            eprintln!("ftpkit: {failure}");
            failure.exit().into()
        }
    }
}

fn run(command: &Command, settings: &plan::Settings) -> Result<(), Failure> {
    match command {
        Command::Ls { url, long, json } => {
            let style = match (long, json) {
                (_, true) => cmd::ls::Style::Json,
                (true, _) => cmd::ls::Style::Long,
                _ => cmd::ls::Style::Names,
            };
            cmd::ls::run(&settings.url(url)?, style, settings)
        }
        Command::Get {
            urls,
            output,
            resume,
            many,
            ..
        } => match urls.as_slice() {
            [url] if !has_glob(url) => cmd::get::run(
                &settings.url(url)?,
                output.as_deref(),
                *resume,
                many.ascii,
                settings,
            ),
            _ => cmd::get::run_many(urls, output.as_deref(), *resume, many, settings),
        },
        Command::Cat { url } => cmd::get::run(
            &settings.url(url)?,
            Some(std::path::Path::new("-")),
            false,
            false,
            settings,
        ),
        Command::Chmod { mode, urls } => cmd::simple::chmod(*mode, urls, settings),
        Command::Rm { urls } => cmd::simple::rm(urls, settings),
        Command::Mkdir { url, parents } => {
            cmd::simple::mkdir(&settings.url(url)?, *parents, settings)
        }
        Command::Rmdir { url } => cmd::simple::rmdir(&settings.url(url)?, settings),
        Command::Mv { url, new_path } => cmd::simple::mv(&settings.url(url)?, new_path, settings),
        Command::Size { url, json } => cmd::simple::size(&settings.url(url)?, *json, settings),
        Command::Stat { url, json } => cmd::simple::stat(&settings.url(url)?, *json, settings),
        Command::Quote { url, command } => {
            cmd::simple::quote(&settings.url(url)?, command, settings)
        }
        Command::Shell { url, .. } => cmd::shell::run(url, settings),
        Command::Trust { url, yes, forget } => cmd::trust::run(url, *yes, *forget, settings),
        Command::Completions { shell } => {
            let mut command = <args::Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "ftpkit", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let command = <args::Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .map_err(|e| Failure::Local("<stdout>".into(), e))
        }
        Command::Mirror {
            source,
            destination,
            reverse,
            parallel,
            delete,
            dry_run,
            include,
            exclude,
            perms,
            ..
        } => cmd::mirror::run(
            source,
            destination,
            &cmd::mirror::MirrorOptions {
                reverse: *reverse,
                parallel: *parallel,
                delete: *delete,
                dry_run: *dry_run,
                include: include.clone(),
                exclude: exclude.clone(),
                perms: *perms,
            },
            settings,
        ),
        Command::Put {
            args,
            resume,
            temp_name,
            create_dirs,
            many,
            ..
        } => cmd::put::run_args(
            args,
            cmd::put::PutOptions {
                resume: *resume,
                temp_name: *temp_name,
                create_dirs: *create_dirs,
            },
            many,
            settings,
        ),
    }
}

/// Whether the last path component of a URL holds a glob character.
fn has_glob(url: &str) -> bool {
    let name = url.rsplit('/').next().unwrap_or_default();
    name.contains(['*', '?', '['])
}

/// `-v`: commands and replies (`ftpkit=debug`); `-vv`: everything
/// (`ftpkit=trace`), with the thread of each line (the connections of a
/// segmented download or `--parallel` run each have their own). Each line
/// starts with the time since the start, for a timeline of the
/// connections. Written to stderr; the library never logs a password.
fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => return,
        1 => "ftpkit=debug",
        _ => "ftpkit=trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .with_thread_ids(verbose > 1)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
