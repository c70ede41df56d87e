//! Diagnostics as text for people (source line shown, codespan style) or as a
//! versioned JSON report for machines (docs/diagnostics-format.md).

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label as CsLabel, Severity as CsSeverity,
};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, termcolor::Ansi};
use serde::Serialize;

use crate::diag::{Diagnostic, Severity, Sources};
use crate::text::{terminal_safe, terminal_safe_same_len};

/// Counts for the closing line of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Lint findings silenced by `allow:` or a `lints:` level of `allow`.
    pub suppressed: usize,
}

impl Summary {
    pub fn of(sources: &Sources, diagnostics: &[Diagnostic]) -> Self {
        let count = |f: fn(&Diagnostic) -> bool| diagnostics.iter().filter(|d| f(d)).count();
        Summary {
            files: sources.files().len(),
            errors: count(Diagnostic::is_error),
            warnings: count(Diagnostic::is_warning),
            suppressed: count(Diagnostic::is_suppressed),
        }
    }
}

/// Every diagnostic but the suppressed ones (and, of one warning code, only the
/// first [`SHOWN_PER_CODE`]), each with its source line, then one summary line
/// (which counts them all). Messages quote policy values and S3
/// answers, and source lines are the user's bytes, so all of it is shown
/// terminal-safe (source lines keep their byte offsets).
pub fn human(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    human_verbose(sources, diagnostics, color, false)
}

/// Warnings of one code shown before the rest are counted (all with `-v`).
pub const SHOWN_PER_CODE: usize = 3;

/// [`human`], and with `verbose` (`-v`) every warning of a code beyond the first
/// [`SHOWN_PER_CODE`] (else counted as "and N more like this") and a line per
/// suppressed finding with where it
/// was allowed and the reason given.
pub fn human_verbose(
    sources: &Sources,
    diagnostics: &[Diagnostic],
    color: bool,
    verbose: bool,
) -> String {
    // Warnings of one code beyond the first few are counted, not shown (unless
    // verbose): a lint firing on every entry of a fleet would bury the rest.
    let mut per_code: Vec<(&'static str, usize)> = Vec::new();
    let mut shown: Vec<Diagnostic> = Vec::new();
    for d in in_source_order(diagnostics).filter(|d| !d.is_suppressed()) {
        if !verbose && !d.is_error() {
            let n = match per_code.iter_mut().find(|(c, _)| *c == d.code) {
                Some((_, n)) => n,
                None => {
                    per_code.push((d.code, 0));
                    &mut per_code.last_mut().expect("just pushed").1
                }
            };
            *n += 1;
            if *n > SHOWN_PER_CODE {
                continue;
            }
        }
        shown.push(d.clone());
    }
    let mut out = shown_diagnostics(sources, &shown, color);
    for (code, n) in per_code {
        if n > SHOWN_PER_CODE {
            out.push_str(&format!(
                "warning[{code}]: and {} more like this (`-v` lists every one)\n\n",
                n - SHOWN_PER_CODE
            ));
        }
    }
    if verbose {
        out.push_str(&suppressed_list(sources, diagnostics));
    }
    out.push_str(&summary_line(&Summary::of(sources, diagnostics)));
    out
}

/// One line per suppressed finding (none: empty).
fn suppressed_list(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in in_source_order(diagnostics) {
        let Some(s) = &d.suppressed else { continue };
        if out.is_empty() {
            out.push_str("suppressed:\n");
        }
        let at = d.span.map(|s| format!("{}: ", sources.place(s)));
        let reason = match &s.reason {
            Some(r) => format!(": {}", terminal_safe(r)),
            None => String::new(),
        };
        out.push_str(&format!(
            "  {}{}[{}]: {} (allowed at {}{reason})\n",
            terminal_safe(&at.unwrap_or_default()),
            severity_word(d.severity),
            d.code,
            terminal_safe(&d.message),
            terminal_safe(&sources.place(s.span)),
        ));
    }
    out
}

fn shown_diagnostics(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    // Only files a diagnostic points into are copied and indexed by line: a clean
    // 50,000-entry file would otherwise be copied whole just to print nothing.
    let pointed: std::collections::BTreeSet<u32> = diagnostics
        .iter()
        .flat_map(|d| d.span.iter().chain(d.related.iter().map(|r| &r.span)))
        .map(|span| span.file)
        .collect();
    let mut files = SimpleFiles::new();
    for (id, f) in (0u32..).zip(sources.files()) {
        let text = if pointed.contains(&id) {
            terminal_safe_same_len(&f.text)
        } else {
            Default::default()
        };
        files.add(terminal_safe(&f.name), text);
    }
    let config = Config::default();
    let mut out = String::new();
    for d in in_source_order(diagnostics) {
        let cs = to_codespan(sources, d);
        let rendered = if color {
            let mut writer = Ansi::new(Vec::new());
            term::emit_to_write_style(&mut writer, &config, &files, &cs)
                .map(|()| String::from_utf8_lossy(&writer.into_inner()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &cs)
        };
        match rendered {
            Ok(text) => out.push_str(&text),
            // Spans come from the same text, so this is not expected; still say it all.
            Err(_) => out.push_str(&format!(
                "{}[{}]: {}\n",
                severity_word(d.severity),
                d.code,
                terminal_safe(&d.message)
            )),
        }
    }
    out
}

fn summary_line(s: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let suppressed = if s.suppressed == 0 {
        String::new()
    } else {
        format!(", {} suppressed", s.suppressed)
    };
    if s.errors == 0 && s.warnings == 0 {
        format!("{} valid{suppressed}.\n", plural(s.files, "policy file"))
    } else {
        format!(
            "{}, {}{suppressed} in {}.\n",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.files, "policy file")
        )
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn to_codespan(sources: &Sources, d: &Diagnostic) -> CsDiagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let mut labels = Vec::new();
    if let Some(span) = d.span {
        labels.push(CsLabel::primary(span.file as usize, span.range()));
    }
    for r in &d.related {
        labels.push(
            CsLabel::secondary(r.span.file as usize, r.span.range())
                .with_message(terminal_safe(&r.message)),
        );
    }
    let mut notes = Vec::new();
    if let Some(path) = d.path.as_deref().filter(|p| !p.is_empty()) {
        notes.push(format!("at: {}", terminal_safe(path)));
    }
    if let Some(help) = &d.help {
        notes.push(format!("help: {}", terminal_safe(help)));
    }
    // codespan shows a secondary place in the primary's file by its line number
    // only; name it as `file:line:col` too, since CI logs are searched by place.
    let same_file = |r: &&crate::diag::Label| d.span.is_some_and(|s| s.file == r.span.file);
    for r in d.related.iter().filter(same_file) {
        notes.push(format!(
            "{}: {}",
            terminal_safe(&r.message),
            terminal_safe(&sources.place(r.span))
        ));
    }
    CsDiagnostic::new(severity)
        .with_code(d.code)
        .with_message(terminal_safe(&d.message))
        .with_labels(labels)
        .with_notes(notes)
}

/// Diagnostics without a place first, then by file and position (stable, so
/// problems at one place keep the order they were found in).
fn in_source_order(diagnostics: &[Diagnostic]) -> impl Iterator<Item = &Diagnostic> {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
    sorted.into_iter()
}

/// The JSON report: `{"format":"s3cors-diagnostics","format_version":1,...}`.
pub fn json(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let report = JsonReport {
        format: "s3cors-diagnostics",
        format_version: 1,
        summary: Summary::of(sources, diagnostics),
        diagnostics: in_source_order(diagnostics)
            .map(|d| JsonDiagnostic::new(sources, d))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    format_version: u32,
    summary: Summary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(flatten)]
    place: Option<JsonPlace<'a>>,
    path: Option<&'a str>,
    help: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
    /// Only on suppressed findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppressed<'a>>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    reason: Option<&'a str>,
    /// Where it was allowed.
    #[serde(flatten)]
    place: JsonPlace<'a>,
}

#[derive(Serialize)]
struct JsonPlace<'a> {
    file: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(flatten)]
    place: JsonPlace<'a>,
    message: &'a str,
}

impl<'a> JsonPlace<'a> {
    fn new(sources: &'a Sources, span: crate::diag::Span) -> Self {
        let file = sources.get(span.file);
        let lc = file.line_col(span.start as usize);
        JsonPlace {
            file: &file.name,
            line: lc.line,
            column: lc.col,
        }
    }
}

impl<'a> JsonDiagnostic<'a> {
    fn new(sources: &'a Sources, d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            code: d.code,
            severity: d.severity,
            message: &d.message,
            place: d.span.map(|s| JsonPlace::new(sources, s)),
            path: d.path.as_deref(),
            help: d.help.as_deref(),
            related: d
                .related
                .iter()
                .map(|r| JsonRelated {
                    place: JsonPlace::new(sources, r.span),
                    message: &r.message,
                })
                .collect(),
            suppressed: d.suppressed.as_deref().map(|s| JsonSuppressed {
                reason: s.reason.as_deref(),
                place: JsonPlace::new(sources, s.span),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, Span};

    /// A policy value with raw control characters (a literal ESC in the file, or a
    /// `"\e"` escape that YAML turns into one) is shown, not sent to the terminal.
    #[test]
    fn control_characters_are_shown_escaped() {
        let mut sources = Sources::new();
        let text = "origin: \"a\x1b[2Jb\"\n";
        let file = sources.add(SourceFile::new("p\x07.yaml", text));
        let d = Diagnostic::warning(
            crate::cors::lint::LintCode::HttpOrigin,
            "origin `a\x1b[2Jb\u{9b}` is odd",
        )
        .at(Span::new(file, 8, text.len() - 1))
        .path("rules[0]\r")
        .help("fix `\x1b]0;title\x07`")
        .related(Span::new(file, 0, 6), "see\x1b");
        for color in [false, true] {
            let out = human(&sources, std::slice::from_ref(&d), color);
            if !color {
                assert!(!out.contains(['\x1b', '\x07', '\r', '\u{9b}']), "{out}");
            } else {
                // Only codespan's own colour sequences remain.
                assert!(
                    !out.contains("\x1b[2J") && !out.contains("\x1b]"),
                    "{out:?}"
                );
            }
            assert!(out.contains("origin `a\\u{1b}[2Jb\\u{9b}` is odd"), "{out}");
            assert!(out.contains("help: fix `\\u{1b}]0;title\\u{7}`"), "{out}");
            assert!(out.contains("\"a?[2Jb\""), "{out}");
        }
    }

    /// Suppressed findings are counted in the summary line and the JSON summary,
    /// listed (with where they were allowed and why) only when verbose, and fail
    /// nothing.
    #[test]
    fn suppressed_findings_are_counted_and_listed_when_verbose() {
        let mut sources = Sources::new();
        let text = "origin: http://a.com\nallow: [http-origin]\n";
        let file = sources.add(SourceFile::new("p.yaml", text));
        let warning = |message: &str| {
            Diagnostic::warning(crate::cors::lint::LintCode::HttpOrigin, message)
                .at(Span::new(file, 8, 20))
        };
        let mut quiet = warning("quiet one");
        quiet.suppressed = Some(Box::new(crate::diag::Suppression {
            reason: Some("legacy \x1b partner".into()),
            span: Span::new(file, 29, 40),
        }));
        let diags = [warning("loud one"), quiet];
        let terse = human(&sources, &diags, false);
        assert!(
            terse.contains("loud one") && !terse.contains("quiet one"),
            "{terse}"
        );
        assert!(
            terse.ends_with("0 errors, 1 warning, 1 suppressed in 1 policy file.\n"),
            "{terse}"
        );
        let verbose = human_verbose(&sources, &diags, false, true);
        assert!(
            verbose.contains("suppressed:\n  p.yaml:1:9: warning[http-origin]: quiet one (allowed at p.yaml:2:9: legacy \\u{1b} partner)\n"),
            "{verbose}"
        );
        let only = human(&sources, &diags[1..], false);
        assert_eq!(only, "1 policy file valid, 1 suppressed.\n");
        let json: serde_json::Value = serde_json::from_str(&json(&sources, &diags)).unwrap();
        assert_eq!(
            json["summary"],
            serde_json::json!({"files": 1, "errors": 0, "warnings": 1, "suppressed": 1})
        );
        assert_eq!(json["diagnostics"][0].get("suppressed"), None);
        assert_eq!(
            json["diagnostics"][1]["suppressed"],
            serde_json::json!({"reason": "legacy \x1b partner", "file": "p.yaml", "line": 2, "column": 9})
        );
    }

    /// Warnings of one code beyond the first few are one "and N more" line;
    /// errors are all shown; `-v` shows every warning.
    #[test]
    fn repeated_warnings_of_one_code_are_collapsed() {
        let mut sources = Sources::new();
        let text = "x\n".repeat(60);
        let file = sources.add(SourceFile::new("p.yaml", text.as_str()));
        let at = |line: usize| Span::new(file, 2 * line, 2 * line + 1);
        let mut diags = Vec::new();
        for i in 0..43 {
            diags.push(
                Diagnostic::warning(crate::cors::lint::LintCode::HttpOrigin, format!("http {i}"))
                    .at(at(i)),
            );
        }
        diags.push(
            Diagnostic::warning(crate::cors::lint::LintCode::DuplicateValue, "dup").at(at(50)),
        );
        for i in 0..5 {
            diags.push(
                Diagnostic::error(crate::diag::ErrorCode::EmptyValue, format!("empty {i}"))
                    .at(at(51 + i)),
            );
        }
        let out = human(&sources, &diags, false);
        let headers =
            |text: &str, prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(
            headers(&out, "warning[http-origin]: http"),
            SHOWN_PER_CODE,
            "{out}"
        );
        assert!(out.contains("warning[http-origin]: http 2\n"), "{out}");
        assert!(!out.contains("warning[http-origin]: http 3\n"), "{out}");
        assert!(
            out.contains("warning[http-origin]: and 40 more like this (`-v` lists every one)\n"),
            "{out}"
        );
        assert_eq!(headers(&out, "warning[duplicate-value]"), 1, "{out}");
        assert_eq!(headers(&out, "error[empty-value]"), 5, "{out}");
        assert!(!out.contains("duplicate-value]: and"), "{out}");
        assert!(
            out.ends_with("5 errors, 44 warnings in 1 policy file.\n"),
            "{out}"
        );
        let all = human_verbose(&sources, &diags, false, true);
        assert_eq!(headers(&all, "warning[http-origin]: http"), 43, "{all}");
        assert!(!all.contains("more like this"), "{all}");
    }
}
