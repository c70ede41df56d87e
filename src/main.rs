//! The `s3cors` binary: parse the command line, run it, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use s3cors::app;
use s3cors::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    match app::run(&cli, std::io::stdout().is_terminal()) {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`s3cors plan | head`) is not an error worth a panic.
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            let _ = stdout.flush();
            ExitCode::from(outcome.exit as u8)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(app::Exit::Error as u8)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "s3cors=info",
        (false, 2) => "s3cors=debug,info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("S3CORS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
