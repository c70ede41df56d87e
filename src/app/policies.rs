//! Loading policies for the commands that talk to S3: read, parse, validate and
//! check them; errors stop the command before any call, warnings are shown.

use std::path::PathBuf;

use super::{Exit, Outcome, load, validate};
use crate::cli::Global;
use crate::diag::{Diagnostic, Sources};
use crate::policy::{self, Policy};
use crate::render::diagnostics;

/// Valid policies, ready to plan from.
pub struct Policies {
    pub sources: Sources,
    pub policy: Policy,
    /// Rendered warnings (lints) for stderr; empty when there are none.
    pub warnings: String,
    /// The same warnings as data, for `plan --format sarif`.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads and checks the policies under `paths`. `Err` is the finished command
/// (diagnostics on stdout, exit 1) when they have errors, or warnings under
/// `--deny-warnings`.
pub fn load(
    paths: &[PathBuf],
    deny_warnings: bool,
    global: &Global,
    color: bool,
) -> Result<Policies, Outcome> {
    let (sources, policy, diags) = read(paths);
    let failed = diags
        .iter()
        .any(|d| d.is_error() || (deny_warnings && d.is_warning()));
    if failed {
        let stdout = validate::render(global.format, &sources, &diags, color, global.verbose > 0);
        return Err(Outcome::new(stdout, Exit::Error));
    }
    let warnings = if diags.is_empty() || global.quiet {
        String::new()
    } else {
        diagnostics::human_verbose(&sources, &diags, color, global.verbose > 0)
    };
    Ok(Policies {
        sources,
        policy,
        warnings,
        diagnostics: diags,
    })
}

/// The policies under `paths` and every diagnostic about them: errors, and the
/// lint findings and guardrail checks when there is no error.
pub fn read(paths: &[PathBuf]) -> (Sources, Policy, Vec<Diagnostic>) {
    let (sources, diags) = load::read_policies(paths);
    let (policy, diags) = check(&sources, diags);
    (sources, policy, diags)
}

/// The policy in `sources` (already read, with `diags` from reading them) and
/// every diagnostic about it, as [`read`] gives them.
pub fn check(sources: &Sources, mut diags: Vec<Diagnostic>) -> (Policy, Vec<Diagnostic>) {
    let loaded = policy::load(sources);
    diags.extend(loaded.diagnostics);
    if !diags.iter().any(Diagnostic::is_error) {
        diags.extend(policy::check::findings(&loaded.policy));
    }
    (loaded.policy, diags)
}
