//! Diagnostics: findings about the user's input, as data with stable codes.
//!
//! Validation, lints and guardrails all report [`Diagnostic`]s; they never return
//! `Err` for a problem in a policy. A diagnostic points into a [`Sources`] file by
//! byte [`Span`]; rendering to text or JSON lives in `render::diagnostics`.

use serde::Serialize;

/// Index of a file in [`Sources`].
pub type FileId = u32;

/// A byte range in one source file.
///
/// Offsets are `u32` (files are at most `app::load::MAX_FILE_BYTES`, 16 MiB): a
/// 50,000-entry policy holds millions of spans, and 12 bytes instead of 24 each is
/// a large share of its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The span of bytes `start..end` of `file`; offsets past `u32::MAX` (never in
    /// a loaded file) saturate.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let offset = |o: usize| u32::try_from(o).unwrap_or(u32::MAX);
        Span {
            file,
            start: offset(start),
            end: offset(end),
        }
    }

    /// The byte range, for slicing the file's text.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A 1-based line and column (in characters), for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

/// One policy file's name (as the user gave it) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        LineCol {
            line: line + 1,
            col,
        }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let rest = &self.text[start..];
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }
}

/// Every file read in one run. Spans index into it.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        // Policy runs read tens of files, never four billion.
        (self.files.len() - 1) as FileId
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// `file:line:col` of a span's start.
    pub fn place(&self, span: Span) -> String {
        let file = self.get(span.file);
        let lc = file.line_col(span.start as usize);
        format!("{}:{}:{}", file.name, lc.line, lc.col)
    }

    /// `file:line` of a span's start: how plans and reports name a policy.
    pub fn file_line(&self, span: Span) -> String {
        let file = self.get(span.file);
        format!("{}:{}", file.name, file.line_col(span.start as usize).line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary place that explains a diagnostic ("first declared here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding about the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable kebab-case code, documented in docs/errors.md or docs/lints/.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` for findings about no place (e.g. no files).
    pub span: Option<Span>,
    /// The YAML path of the offending node, e.g. `buckets[0].rules[1].AllowedMethods[0]`.
    pub path: Option<String>,
    /// One line saying how to fix it.
    pub help: Option<String>,
    pub related: Vec<Label>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            path: None,
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The error codes validation can report: code and one-line meaning. The lint codes
/// live with the lints (`cors::lint::LintCode`). docs/errors.md documents each one
/// (and each of [`WARNING_CODES`]), and a test keeps the two in step.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("io-error", "a policy path could not be read"),
    (
        "no-policy-files",
        "no *.yaml / *.yml file under the given paths",
    ),
    ("file-too-large", "a policy file is over the size limit"),
    ("not-utf8", "a policy file is not UTF-8 text"),
    (
        "not-a-file",
        "a policy path is a FIFO, socket or device, not a regular file",
    ),
    ("yaml-syntax", "the file is not valid YAML"),
    (
        "yaml-too-complex",
        "nesting or alias expansion over the safety limits",
    ),
    (
        "multiple-documents",
        "more than one YAML document in a file",
    ),
    ("empty-file", "a policy file with no content"),
    ("duplicate-key", "a mapping key given twice"),
    ("unknown-key", "a key s3cors does not know"),
    ("missing-key", "a required key is absent"),
    ("conflicting-keys", "keys that cannot be used together"),
    ("wrong-type", "a value of the wrong YAML type"),
    ("missing-version", "the file has no `version`"),
    ("unsupported-version", "`version` is not 1"),
    ("invalid-bucket-name", "a bucket name S3 would not accept"),
    (
        "invalid-account",
        "`account` is not a 12-digit AWS account ID",
    ),
    (
        "invalid-region",
        "`region` does not look like an AWS region",
    ),
    (
        "invalid-glob",
        "a `match` or guardrail `buckets` glob that does not parse",
    ),
    ("invalid-tag", "a `tags` entry that is not a string pair"),
    ("empty-ruleset", "a ruleset with no rules"),
    ("duplicate-ruleset", "two rulesets with one name"),
    ("unknown-ruleset", "a `ruleset:` reference to no ruleset"),
    ("duplicate-bucket", "two exact entries for one bucket"),
    (
        "overlapping-match",
        "two `match` entries select the same bucket",
    ),
    ("missing-allowed-origins", "a rule without AllowedOrigins"),
    ("missing-allowed-methods", "a rule without AllowedMethods"),
    (
        "unsupported-method",
        "a method other than GET, PUT, POST, DELETE, HEAD",
    ),
    (
        "multiple-wildcards",
        "more than one `*` in an AllowedOrigin or AllowedHeader",
    ),
    ("wildcard-expose-header", "a `*` in an ExposeHeader"),
    (
        "invalid-max-age",
        "MaxAgeSeconds negative or not an integer",
    ),
    ("id-too-long", "a rule ID over 255 characters"),
    ("too-many-rules", "more than 100 rules for one bucket"),
    (
        "config-too-large",
        "the configuration is over 64 KiB as S3 XML",
    ),
    ("empty-value", "an empty string where S3 needs a value"),
    ("invalid-guardrail", "a guardrail that cannot be evaluated"),
    ("duplicate-guardrail", "two guardrails with one id"),
    (
        "guardrail-violation",
        "a rule breaks a guardrail that applies to its bucket",
    ),
    (
        "unmanaged-target",
        "a --target bucket no policy entry manages",
    ),
    (
        "read-failed",
        "a bucket's tags or configuration could not be read",
    ),
];

/// The warnings validation itself can report (lints, about rules, are
/// `cors::lint::LintCode`): code and one-line meaning, documented in docs/errors.md.
pub const WARNING_CODES: &[(&str, &str)] = &[(
    "unknown-region",
    "`region` is not an AWS region s3cors knows",
)];
