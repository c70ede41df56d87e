//! The `s3cors` binary: parse the command line, run it, print, exit.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use s3cors::app::{self, Console};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = match s3cors::cli::parse(&args) {
        Ok(cli) => cli,
        Err(err) => return usage(&err, &args),
    };
    match cli.global.resolve_shard(|name| std::env::var(name).ok()) {
        Ok(shard) => cli.global.shard = shard,
        Err(message) => {
            print_error(&message);
            return ExitCode::from(app::Exit::Error as u8);
        }
    }
    cli.global.no_input = cli.global.resolve_no_input(|name| std::env::var(name).ok());
    // A long-running `watch` logs each check at info; other commands report on stdout.
    let watch = matches!(cli.command, s3cors::cli::Command::Watch(_));
    init_logging(&cli.global, watch);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            print_error(&format!("cannot start the async runtime: {err}"));
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
    let result = runtime.block_on(app::run(&cli, &mut console));
    // Work nobody waits for any more (a lookup, a write `watch` abandoned after
    // its stop grace) must not hold the exit: one second, then it is dropped.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(outcome) => {
            // A closed pipe (`s3cors plan | head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            if let Some(stream) = outcome.stream {
                let mut out = std::io::BufWriter::new(&mut stdout);
                let _ = stream.write_to(&mut out).and_then(|()| out.flush());
            }
            let _ = stdout.flush();
            if !outcome.stderr.is_empty() {
                let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
            }
            ExitCode::from(outcome.exit as u8)
        }
        Err(err) => {
            print_error(&format!("{err:#}"));
            ExitCode::from(app::Exit::Error as u8)
        }
    }
}

/// Prints clap's message for a command line it did not run: `--help` and
/// `--version` on stdout with exit 0; a usage error on stderr with exit 1, never 2,
/// since 2 means "changes pending" to `plan --detailed-exitcode` and `drift`.
fn usage(err: &clap::Error, args: &[std::ffi::OsString]) -> ExitCode {
    // A closed pipe is no reason to panic; the exit code still says what happened.
    let _ = err.print();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(note) = s3cors::cli::env_note(err, &args, |name| std::env::var(name).ok()) {
        let _ = std::io::stderr().lock().write_all(note.as_bytes());
    }
    if err.use_stderr() {
        ExitCode::from(app::Exit::Error as u8)
    } else {
        ExitCode::from(app::Exit::Success as u8)
    }
}

/// `error: MESSAGE` on stderr, ignoring a closed stderr (`eprintln!` would panic).
fn print_error(message: &str) {
    let text = format!("error: {message}\n");
    let text = s3cors::text::terminal_safe_lines(&text);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
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

fn init_logging(global: &s3cors::cli::Global, watch: bool) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        // aws-config warns at every step of its region and credential chains that
        // finds nothing (IMDS off EC2, say); a failed call reports what matters.
        (false, 0) if watch => "s3cors=info,warn,aws_config=error",
        (false, 0) => "warn,aws_config=error",
        (false, 1) => "s3cors=info",
        (false, 2) => "s3cors=debug,info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("S3CORS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // tracing reports a failed write on stderr with `eprintln!`, which panics
        // when stderr is a closed pipe; a lost log line is not worth exit 101.
        .log_internal_errors(false)
        .with_target(false)
        .with_ansi(match global.color {
            s3cors::cli::ColorChoice::Always => true,
            s3cors::cli::ColorChoice::Never => false,
            s3cors::cli::ColorChoice::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        });
    match global.log_format {
        s3cors::cli::LogFormat::Text => logs.init(),
        s3cors::cli::LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
