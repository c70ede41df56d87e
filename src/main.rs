//! The `s3cors` binary: parse the command line, run it, print, exit.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use s3cors::app::{self, Console};
use s3cors::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(app::Exit::Error as u8);
        }
    };
    let mut confirm = confirm;
    let mut console = Console {
        stdout_is_terminal: std::io::stdout().is_terminal(),
        stderr_is_terminal: std::io::stderr().is_terminal(),
        stdin_is_terminal: std::io::stdin().is_terminal(),
        confirm: &mut confirm,
    };
    match runtime.block_on(app::run(&cli, &mut console)) {
        Ok(outcome) => {
            // A closed pipe (`s3cors plan | head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            let _ = stdout.flush();
            if !outcome.stderr.is_empty() {
                let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
            }
            ExitCode::from(outcome.exit as u8)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(app::Exit::Error as u8)
        }
    }
}

/// Prints `text`, asks for `yes` on stdin, as Terraform does.
fn confirm(text: &str) -> std::io::Result<bool> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.write_all(b"\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")?;
    stdout.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        // aws-config warns at every step of its region and credential chains that
        // finds nothing (IMDS off EC2, say); a failed call reports what matters.
        (false, 0) => "warn,aws_config=error",
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
