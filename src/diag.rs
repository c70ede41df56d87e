//! Diagnostics: findings about the user's input, as data with stable codes.
//!
//! Validation, lints and guardrails all report [`Diagnostic`]s; they never return
//! `Err` for a problem in a policy. A diagnostic points into a [`Sources`] file by
//! byte [`Span`]; rendering to text or JSON lives in `render::diagnostics`.

use std::fmt;

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
    /// Stable kebab-case code (an [`ErrorCode`], [`WarningCode`] or lint code, as
    /// text), documented in docs/errors.md or docs/lints/.
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
    /// Set when an `allow:` (or a `lints:` level of `allow`) silences this lint
    /// finding: it is counted and listed with `-v`, but fails nothing. Boxed, as
    /// almost no diagnostic carries one.
    pub suppressed: Option<Box<Suppression>>,
}

/// Why a lint finding is silenced: the reason given, and where it was allowed
/// (the `allow:` item or the `lints:` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub reason: Option<String>,
    pub span: Span,
}

impl Diagnostic {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.as_str(),
            severity: Severity::Error,
            message: message.into(),
            span: None,
            path: None,
            help: None,
            related: Vec::new(),
            suppressed: None,
        }
    }

    pub fn warning(code: impl WarningKind, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.as_str(),
            severity: Severity::Warning,
            message: message.into(),
            span: None,
            path: None,
            help: None,
            related: Vec::new(),
            suppressed: None,
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

    /// An error that is not suppressed: what fails a run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && self.suppressed.is_none()
    }

    /// A warning that is not suppressed.
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning && self.suppressed.is_none()
    }

    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }
}

/// The stable code of an error: what [`Diagnostic::error`] takes. docs/errors.md
/// documents each one (and each [`WarningCode`]), and a test keeps the two in step;
/// lint codes live with the lints (`cors::lint::LintCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    IoError,
    NoPolicyFiles,
    FileTooLarge,
    NotUtf8,
    NotAFile,
    YamlSyntax,
    YamlTooComplex,
    MultipleDocuments,
    EmptyFile,
    DuplicateKey,
    UnknownKey,
    MissingKey,
    ConflictingKeys,
    WrongType,
    MissingVersion,
    UnsupportedVersion,
    InvalidBucketName,
    InvalidAccount,
    InvalidRegion,
    InvalidGlob,
    InvalidTag,
    EmptyRuleset,
    DuplicateRuleset,
    UnknownRuleset,
    DuplicateBucket,
    OverlappingMatch,
    MissingAllowedOrigins,
    MissingAllowedMethods,
    UnsupportedMethod,
    MultipleWildcards,
    WildcardExposeHeader,
    InvalidHeaderName,
    InvalidMaxAge,
    IdTooLong,
    TooManyRules,
    ConfigTooLarge,
    EmptyValue,
    InvalidGuardrail,
    DuplicateGuardrail,
    GuardrailViolation,
    UnmanagedTarget,
    ReadFailed,
    DuplicateAccount,
    InvalidRoleArn,
    UndeclaredAccount,
    UnknownLint,
    InvalidLintLevel,
    ConflictingLintLevel,
}

impl ErrorCode {
    /// Every error code, in the order docs/errors.md lists them.
    pub const ALL: [ErrorCode; 48] = [
        ErrorCode::IoError,
        ErrorCode::NoPolicyFiles,
        ErrorCode::FileTooLarge,
        ErrorCode::NotUtf8,
        ErrorCode::NotAFile,
        ErrorCode::YamlSyntax,
        ErrorCode::YamlTooComplex,
        ErrorCode::MultipleDocuments,
        ErrorCode::EmptyFile,
        ErrorCode::DuplicateKey,
        ErrorCode::UnknownKey,
        ErrorCode::MissingKey,
        ErrorCode::ConflictingKeys,
        ErrorCode::WrongType,
        ErrorCode::MissingVersion,
        ErrorCode::UnsupportedVersion,
        ErrorCode::InvalidBucketName,
        ErrorCode::InvalidAccount,
        ErrorCode::InvalidRegion,
        ErrorCode::InvalidGlob,
        ErrorCode::InvalidTag,
        ErrorCode::EmptyRuleset,
        ErrorCode::DuplicateRuleset,
        ErrorCode::UnknownRuleset,
        ErrorCode::DuplicateBucket,
        ErrorCode::OverlappingMatch,
        ErrorCode::MissingAllowedOrigins,
        ErrorCode::MissingAllowedMethods,
        ErrorCode::UnsupportedMethod,
        ErrorCode::MultipleWildcards,
        ErrorCode::WildcardExposeHeader,
        ErrorCode::InvalidHeaderName,
        ErrorCode::InvalidMaxAge,
        ErrorCode::IdTooLong,
        ErrorCode::TooManyRules,
        ErrorCode::ConfigTooLarge,
        ErrorCode::EmptyValue,
        ErrorCode::InvalidGuardrail,
        ErrorCode::DuplicateGuardrail,
        ErrorCode::GuardrailViolation,
        ErrorCode::UnmanagedTarget,
        ErrorCode::ReadFailed,
        ErrorCode::DuplicateAccount,
        ErrorCode::InvalidRoleArn,
        ErrorCode::UndeclaredAccount,
        ErrorCode::UnknownLint,
        ErrorCode::InvalidLintLevel,
        ErrorCode::ConflictingLintLevel,
    ];

    /// The kebab-case code shown to people and in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::IoError => "io-error",
            ErrorCode::NoPolicyFiles => "no-policy-files",
            ErrorCode::FileTooLarge => "file-too-large",
            ErrorCode::NotUtf8 => "not-utf8",
            ErrorCode::NotAFile => "not-a-file",
            ErrorCode::YamlSyntax => "yaml-syntax",
            ErrorCode::YamlTooComplex => "yaml-too-complex",
            ErrorCode::MultipleDocuments => "multiple-documents",
            ErrorCode::EmptyFile => "empty-file",
            ErrorCode::DuplicateKey => "duplicate-key",
            ErrorCode::UnknownKey => "unknown-key",
            ErrorCode::MissingKey => "missing-key",
            ErrorCode::ConflictingKeys => "conflicting-keys",
            ErrorCode::WrongType => "wrong-type",
            ErrorCode::MissingVersion => "missing-version",
            ErrorCode::UnsupportedVersion => "unsupported-version",
            ErrorCode::InvalidBucketName => "invalid-bucket-name",
            ErrorCode::InvalidAccount => "invalid-account",
            ErrorCode::InvalidRegion => "invalid-region",
            ErrorCode::InvalidGlob => "invalid-glob",
            ErrorCode::InvalidTag => "invalid-tag",
            ErrorCode::EmptyRuleset => "empty-ruleset",
            ErrorCode::DuplicateRuleset => "duplicate-ruleset",
            ErrorCode::UnknownRuleset => "unknown-ruleset",
            ErrorCode::DuplicateBucket => "duplicate-bucket",
            ErrorCode::OverlappingMatch => "overlapping-match",
            ErrorCode::MissingAllowedOrigins => "missing-allowed-origins",
            ErrorCode::MissingAllowedMethods => "missing-allowed-methods",
            ErrorCode::UnsupportedMethod => "unsupported-method",
            ErrorCode::MultipleWildcards => "multiple-wildcards",
            ErrorCode::WildcardExposeHeader => "wildcard-expose-header",
            ErrorCode::InvalidHeaderName => "invalid-header-name",
            ErrorCode::InvalidMaxAge => "invalid-max-age",
            ErrorCode::IdTooLong => "id-too-long",
            ErrorCode::TooManyRules => "too-many-rules",
            ErrorCode::ConfigTooLarge => "config-too-large",
            ErrorCode::EmptyValue => "empty-value",
            ErrorCode::InvalidGuardrail => "invalid-guardrail",
            ErrorCode::DuplicateGuardrail => "duplicate-guardrail",
            ErrorCode::GuardrailViolation => "guardrail-violation",
            ErrorCode::UnmanagedTarget => "unmanaged-target",
            ErrorCode::ReadFailed => "read-failed",
            ErrorCode::DuplicateAccount => "duplicate-account",
            ErrorCode::InvalidRoleArn => "invalid-role-arn",
            ErrorCode::UndeclaredAccount => "undeclared-account",
            ErrorCode::UnknownLint => "unknown-lint",
            ErrorCode::InvalidLintLevel => "invalid-lint-level",
            ErrorCode::ConflictingLintLevel => "conflicting-lint-level",
        }
    }

    /// What the code means, in one line.
    pub const fn meaning(self) -> &'static str {
        match self {
            ErrorCode::IoError => "a policy path could not be read",
            ErrorCode::NoPolicyFiles => "no *.yaml / *.yml file under the given paths",
            ErrorCode::FileTooLarge => "a policy file is over the size limit",
            ErrorCode::NotUtf8 => "a policy file is not UTF-8 text",
            ErrorCode::NotAFile => "a policy path is a FIFO, socket or device, not a regular file",
            ErrorCode::YamlSyntax => "the file is not valid YAML",
            ErrorCode::YamlTooComplex => "nesting or alias expansion over the safety limits",
            ErrorCode::MultipleDocuments => "more than one YAML document in a file",
            ErrorCode::EmptyFile => "a policy file with no content",
            ErrorCode::DuplicateKey => "a mapping key given twice",
            ErrorCode::UnknownKey => "a key s3cors does not know",
            ErrorCode::MissingKey => "a required key is absent",
            ErrorCode::ConflictingKeys => "keys that cannot be used together",
            ErrorCode::WrongType => "a value of the wrong YAML type",
            ErrorCode::MissingVersion => "the file has no `version`",
            ErrorCode::UnsupportedVersion => "`version` is not 1",
            ErrorCode::InvalidBucketName => "a bucket name S3 would not accept",
            ErrorCode::InvalidAccount => "an account ID that is not 12 digits",
            ErrorCode::InvalidRegion => "`region` does not look like an AWS region",
            ErrorCode::InvalidGlob => "a `match` or guardrail `buckets` glob that does not parse",
            ErrorCode::InvalidTag => "a `tags` entry that is not a string pair",
            ErrorCode::EmptyRuleset => "a ruleset with no rules",
            ErrorCode::DuplicateRuleset => "two rulesets with one name",
            ErrorCode::UnknownRuleset => "a `ruleset:` reference to no ruleset",
            ErrorCode::DuplicateBucket => "two exact entries for one bucket",
            ErrorCode::OverlappingMatch => "two `match` entries select the same bucket",
            ErrorCode::MissingAllowedOrigins => "a rule without AllowedOrigins",
            ErrorCode::MissingAllowedMethods => "a rule without AllowedMethods",
            ErrorCode::UnsupportedMethod => "a method other than GET, PUT, POST, DELETE, HEAD",
            ErrorCode::MultipleWildcards => {
                "more than one `*` in an AllowedOrigin or AllowedHeader"
            }
            ErrorCode::WildcardExposeHeader => "a `*` in an ExposeHeader",
            ErrorCode::InvalidHeaderName => {
                "an AllowedHeader or ExposeHeader with a character no HTTP header name holds"
            }
            ErrorCode::InvalidMaxAge => "MaxAgeSeconds not a whole number, or outside 32 bits",
            ErrorCode::IdTooLong => "a rule ID over 255 characters",
            ErrorCode::TooManyRules => "more than 100 rules for one bucket",
            ErrorCode::ConfigTooLarge => "the configuration is over 64 KiB as S3 XML",
            ErrorCode::EmptyValue => "an empty method, guardrail value or account setting",
            ErrorCode::InvalidGuardrail => "a guardrail that cannot be evaluated",
            ErrorCode::DuplicateGuardrail => "two guardrails with one id",
            ErrorCode::GuardrailViolation => "a rule breaks a guardrail that applies to its bucket",
            ErrorCode::UnmanagedTarget => "a --target bucket no policy entry manages",
            ErrorCode::ReadFailed => "a bucket's tags or configuration could not be read",
            ErrorCode::DuplicateAccount => {
                "two `accounts:` items for one account, or two `organization` items"
            }
            ErrorCode::InvalidRoleArn => "a `role_arn` that is not an IAM role ARN of its account",
            ErrorCode::UndeclaredAccount => {
                "an `account:` (or `--account`) that no `accounts:` item declares"
            }
            ErrorCode::UnknownLint => {
                "a `lints:` or `allow:` code that is not a lint (errors and guardrails cannot be allowed)"
            }
            ErrorCode::InvalidLintLevel => "a `lints:` level other than `allow`, `warn` or `deny`",
            ErrorCode::ConflictingLintLevel => {
                "two files set one lint to different levels under `lints:`"
            }
        }
    }
}

/// The stable code of a warning validation itself reports (lints, about rules, are
/// `cors::lint::LintCode`), documented in docs/errors.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningCode {
    UnknownRegion,
}

impl WarningCode {
    /// Every validation warning code.
    pub const ALL: [WarningCode; 1] = [WarningCode::UnknownRegion];

    /// The kebab-case code shown to people and in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            WarningCode::UnknownRegion => "unknown-region",
        }
    }

    /// What the code means, in one line.
    pub const fn meaning(self) -> &'static str {
        match self {
            WarningCode::UnknownRegion => "`region` is not an AWS region s3cors knows",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for WarningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code a warning [`Diagnostic`] may carry: a [`WarningCode`] or a lint's code
/// (`cors::lint::LintCode`, implemented where lint findings become diagnostics).
/// Errors take an [`ErrorCode`]; the one error carrying a lint's code is a lint
/// its `lints:` level makes `deny` (`policy::check`).
pub trait WarningKind: Copy {
    fn as_str(self) -> &'static str;
}

impl WarningKind for WarningCode {
    fn as_str(self) -> &'static str {
        WarningCode::as_str(self)
    }
}
