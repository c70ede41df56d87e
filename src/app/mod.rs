//! The application shell: one thin function per command that reads files, calls
//! S3 through `s3`, runs the pure core and renders. Only `main` prints.

pub mod load;
pub mod validate;

use crate::cli::{Cli, ColorChoice, Command, Global};

/// Exit codes, everywhere (SPEC.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success and nothing to do.
    Success = 0,
    /// Bad input, a failed call, a guardrail violation.
    Error = 1,
    /// Success with differences (plan with --detailed-exitcode, drift).
    Changes = 2,
}

/// What a command produced: text for stdout and the exit code.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub exit: Exit,
}

/// Runs one command line.
pub fn run(cli: &Cli, stdout_is_terminal: bool) -> anyhow::Result<Outcome> {
    let color = use_color(&cli.global, stdout_is_terminal);
    match &cli.command {
        Command::Validate(args) => Ok(validate::run(&cli.global, args, color)),
        Command::Schema => Ok(Outcome {
            stdout: crate::policy::raw::json_schema(),
            exit: Exit::Success,
        }),
    }
}

fn use_color(global: &Global, is_terminal: bool) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}
