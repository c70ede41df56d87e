//! `s3cors validate`: parse, validate and lint policy files, offline.

use super::{Exit, Outcome, load};
use crate::cli::{Format, Global, ValidateArgs};
use crate::diag::Diagnostic;
use crate::render::diagnostics;

pub fn run(global: &Global, args: &ValidateArgs, color: bool) -> Outcome {
    let (sources, mut diags) = load::read_policies(&args.policies.paths);
    let loaded = crate::policy::load(&sources);
    diags.extend(loaded.diagnostics);
    let failed = diags.iter().any(|d| d.is_error() || args.deny_warnings);
    let stdout = render(global.format, &sources, &diags, color);
    Outcome {
        stdout,
        exit: if failed { Exit::Error } else { Exit::Success },
    }
}

/// Diagnostics in the chosen format (markdown wraps the plain text for a PR comment).
pub fn render(
    format: Format,
    sources: &crate::diag::Sources,
    diags: &[Diagnostic],
    color: bool,
) -> String {
    match format {
        Format::Human => diagnostics::human(sources, diags, color),
        Format::Json => diagnostics::json(sources, diags),
        Format::Markdown => format!(
            "### s3cors validate\n\n```text\n{}```\n",
            diagnostics::human(sources, diags, false)
        ),
    }
}
