//! `s3cors validate`: parse, validate, lint and check guardrails, offline.

use super::{Exit, Outcome, load};
use crate::cli::{Format, Global, ValidateArgs};
use crate::diag::Diagnostic;
use crate::render::{diagnostics, junit, sarif};

/// Exit 1 on any error (a guardrail violation is one), or on any warning under
/// `--deny-warnings`; else 0. The report lists every problem of every file.
pub fn run(global: &Global, args: &ValidateArgs, color: bool) -> Outcome {
    let checked = load::load_checked(&args.policies.paths);
    let failed = checked.failed(args.deny_warnings);
    let stdout = render(
        global.format,
        &checked.sources,
        &checked.diagnostics,
        color,
        global.verbose > 0,
    );
    Outcome::new(stdout, if failed { Exit::Error } else { Exit::Success })
}

/// Diagnostics in the chosen format (markdown wraps the plain text for a PR comment).
pub fn render(
    format: Format,
    sources: &crate::diag::Sources,
    diags: &[Diagnostic],
    color: bool,
    verbose: bool,
) -> String {
    match format {
        Format::Human => diagnostics::human_verbose(sources, diags, color, verbose),
        Format::Json => diagnostics::json(sources, diags),
        Format::Sarif => sarif::render(sources, &sarif::from_diagnostics(diags)),
        Format::Junit => junit::validate(sources, diags),
        // Refused before the command runs (`app::format_refused`).
        Format::Html => diagnostics::json(sources, diags),
        Format::Markdown => {
            let body = diagnostics::human_verbose(sources, diags, false, verbose);
            let fence = crate::text::markdown_fence(&body);
            format!("### s3cors validate\n\n{fence}text\n{body}{fence}\n")
        }
    }
}
