//! Reading policy files from disk into [`Sources`]: the only file reading the
//! policy core needs. Paths are walked recursively in sorted order; symlinks are
//! followed, but a directory already walked is not walked again (so a symlink
//! loop ends), and only regular files are opened (a FIFO would block forever).

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, ErrorCode, SourceFile, Sources};
use crate::policy::{self, Policy};

/// Largest policy file read; a fleet of 50,000 exact entries fits in about 8 MiB.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The UTF-8 byte order mark.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Policies read, validated and checked: what `validate` reports on and what the
/// S3 commands plan from.
#[derive(Debug)]
pub struct Checked {
    pub sources: Sources,
    /// The valid part of the policies (complete when there are no errors).
    pub policy: Policy,
    /// Reading and validation problems; then, only when there were no errors, lint
    /// warnings and guardrail violations over the desired configurations.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether the run fails: any error, or any warning under `--deny-warnings`
    /// (suppressed findings fail nothing).
    pub fn failed(&self, deny_warnings: bool) -> bool {
        self.has_errors() || (deny_warnings && self.diagnostics.iter().any(Diagnostic::is_warning))
    }
}

/// Reads, validates and checks (lints, guardrails) every policy file under `paths`.
/// Lints and guardrails run only on policies that loaded without errors: a broken
/// entry is left out of the model, so findings about the rest could mislead.
pub fn load_checked(paths: &[PathBuf]) -> Checked {
    let (sources, mut diagnostics) = read_policies(paths);
    let loaded = policy::load(&sources);
    diagnostics.extend(loaded.diagnostics);
    if !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.extend(policy::check::findings(&loaded.policy));
    }
    Checked {
        sources,
        policy: loaded.policy,
        diagnostics,
    }
}

/// Reads every policy file under `paths`. Problems reading them are diagnostics.
pub fn read_policies(paths: &[PathBuf]) -> (Sources, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    let mut walked = HashSet::new();
    for path in paths {
        collect(path, true, &mut walked, &mut files, &mut diags);
    }
    files.sort();
    files.dedup();
    let mut sources = Sources::new();
    for path in files {
        let name = path.display().to_string();
        match read_text(&path) {
            Ok(text) => {
                sources.add(SourceFile::new(name, text));
            }
            Err(d) => diags.push(d.path(name)),
        }
    }
    if sources.files().is_empty() && diags.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        diags.push(
            Diagnostic::error(
                ErrorCode::NoPolicyFiles,
                format!("no *.yaml or *.yml policy files under {}", shown.join(", ")),
            )
            .help("give the folder that holds your policies, e.g. `s3cors validate policies/`"),
        );
    }
    (sources, diags)
}

/// Adds the policy files at or under `path` to `out`. `walked` holds the canonical
/// path of every directory listed so far: a directory reached again through a
/// symlink (`policies/loop -> .`) is skipped, so the walk is linear, not exponential.
fn collect(
    path: &Path,
    explicit: bool,
    walked: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    ErrorCode::IoError,
                    format!("cannot read {}: {e}", path.display()),
                )
                .help("check the path and its permissions"),
            );
            return;
        }
    };
    if meta.is_dir() {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !walked.insert(canonical) {
            tracing::debug!(
                "skipping {}: that directory was already read (a symlink to it)",
                path.display()
            );
            return;
        }
        let entries = match fs::read_dir(path) {
            Ok(e) => e,
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        ErrorCode::IoError,
                        format!("cannot list {}: {e}", path.display()),
                    )
                    .help("check the folder's permissions"),
                );
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            let hidden = child
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden {
                collect(&child, false, walked, out, diags);
            }
        }
    } else if !(explicit || is_policy_file(path)) {
        // Not a policy file: skipped without a look inside.
    } else if meta.is_file() {
        out.push(path.to_path_buf());
    } else {
        // Checked on metadata, never opened: opening a FIFO waits for a writer.
        diags.push(
            Diagnostic::error(
                ErrorCode::NotAFile,
                format!(
                    "{} is not a regular file (a FIFO, socket or device); it was not read",
                    path.display()
                ),
            )
            .help("policy files must be regular files; remove it or rename it away from *.yaml"),
        );
    }
}

fn is_policy_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let io_err = |e: std::io::Error| {
        Diagnostic::error(
            ErrorCode::IoError,
            format!("cannot read {}: {e}", path.display()),
        )
        .help("check the file's permissions")
    };
    let file = fs::File::open(path).map_err(io_err)?;
    // Sized from the metadata: growing by doubling could hold twice the file while
    // it is loaded (the length is only a hint; the limit below is what counts).
    let hint = file
        .metadata()
        .map_or(0, |m| m.len().min(MAX_FILE_BYTES) + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    // Read one byte past the limit, so a huge file is refused without reading it all.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            ErrorCode::FileTooLarge,
            format!(
                "{} is over {} MiB; policy files are much smaller",
                path.display(),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .help("split it into several files, or check that this is a policy file"));
    }
    let not_text = |why: String| {
        Diagnostic::error(
            ErrorCode::NotUtf8,
            format!("{} is not UTF-8 text: {why}", path.display()),
        )
        .help("policy files are YAML text; check that this is the right file")
    };
    // A byte order mark (Windows editors write one) is not YAML content: it is
    // dropped here, so the text kept, and every span into it, starts after it.
    if bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
    match String::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            None => Ok(text),
            Some(at) => Err(not_text(format!("it holds a NUL byte at offset {at}"))),
        },
        Err(e) => Err(not_text(format!(
            "invalid byte sequence at offset {}",
            e.utf8_error().valid_up_to()
        ))),
    }
}
