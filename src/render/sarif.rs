//! SARIF 2.1.0 (`--format sarif`): findings for code scanning (GitHub, GitLab,
//! Azure DevOps), as docs/ci-formats.md describes.
//!
//! Every finding becomes a [`Finding`] first: a stable code, a level, a message
//! and a place (a span in a policy file, or a bucket with its policy entry's
//! `file:line` when known). `validate` and `plan` turn diagnostics into findings;
//! `drift` and `verify` their reports. [`render`] then writes one SARIF log with
//! one result per finding, the metadata of every rule used (`tool.driver.rules`:
//! the code's one-line meaning and its docs page) and a fingerprint per result
//! that does not depend on line numbers, so moving a block does not reopen an
//! alert.

use std::collections::{BTreeMap, HashMap};

use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};
use sha2::{Digest, Sha256};

use crate::cors::lint::LintCode;
use crate::cors::verify::report::VerifyReport;
use crate::diag::{Diagnostic, ErrorCode, Severity, Sources, Span, Suppression, WarningCode};
use crate::plan::drift::{DriftReport, State};
use crate::plan::{PlanError, PlanErrorKind};

/// The repository the docs pages live in: Cargo.toml's `repository` when set,
/// else the project's home. Rule help links are `{REPOSITORY}/blob/main/docs/...`.
pub const REPOSITORY: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "https://github.com/s3cors/s3cors"
} else {
    env!("CARGO_PKG_REPOSITORY")
};

/// The `partialFingerprints` key: a versioned name of how s3cors computes it.
pub const FINGERPRINT_KEY: &str = "s3cors/v1";

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The codes of live findings (about buckets, not policy files), documented in
/// docs/ci-formats.md. Policy findings use `diag::ErrorCode`, `diag::WarningCode`
/// and `cors::lint::LintCode`; live findings reuse `read-failed` and
/// `guardrail-violation` from `ErrorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveCode {
    Drifted,
    MissingBucket,
    UnresolvedBucket,
    UnmanagedCors,
    VerifyCaseFailed,
    UnverifiedBucket,
    UrlCheckFailed,
}

impl LiveCode {
    pub const ALL: [LiveCode; 7] = [
        LiveCode::Drifted,
        LiveCode::MissingBucket,
        LiveCode::UnresolvedBucket,
        LiveCode::UnmanagedCors,
        LiveCode::VerifyCaseFailed,
        LiveCode::UnverifiedBucket,
        LiveCode::UrlCheckFailed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LiveCode::Drifted => "drifted",
            LiveCode::MissingBucket => "missing-bucket",
            LiveCode::UnresolvedBucket => "unresolved-bucket",
            LiveCode::UnmanagedCors => "unmanaged-cors",
            LiveCode::VerifyCaseFailed => "verify-case-failed",
            LiveCode::UnverifiedBucket => "unverified-bucket",
            LiveCode::UrlCheckFailed => "url-check-failed",
        }
    }

    pub const fn meaning(self) -> &'static str {
        match self {
            LiveCode::Drifted => "a managed bucket's live CORS rules differ from its policy",
            LiveCode::MissingBucket => "a bucket a policy names does not exist",
            LiveCode::UnresolvedBucket => "whether a policy manages a bucket could not be decided",
            LiveCode::UnmanagedCors => "a bucket no policy manages has a CORS configuration",
            LiveCode::VerifyCaseFailed => "S3 answered a CORS request otherwise than predicted",
            LiveCode::UnverifiedBucket => "a managed bucket could not be verified",
            LiveCode::UrlCheckFailed => "the URL in front of S3 (a CDN) mishandles CORS",
        }
    }

    const fn level(self) -> Level {
        match self {
            LiveCode::Drifted => Level::Warning,
            LiveCode::UnmanagedCors => Level::Note,
            _ => Level::Error,
        }
    }
}

/// A result's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In a policy file; `path` is the YAML path (the fingerprint's anchor).
    Policy {
        span: Option<Span>,
        path: Option<String>,
    },
    /// A bucket; `entry` is the policy entry that manages it, `file:line`.
    Bucket {
        bucket: String,
        entry: Option<String>,
    },
}

/// One finding, ready to become one SARIF result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub message: String,
    pub place: Place,
    /// What else tells two findings of one code and place apart (a guardrail
    /// id and rule number, a verify case), part of the fingerprint.
    pub detail: String,
    /// A suppressed lint finding: written with a SARIF `suppressions` entry
    /// (kind `inSource`, the reason as its justification).
    pub suppressed: Option<Box<Suppression>>,
}

/// Policy diagnostics (validation, lints, guardrails) as findings.
pub fn from_diagnostics(diags: &[Diagnostic]) -> Vec<Finding> {
    diags
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str(&format!(" (help: {help})"));
            }
            Finding {
                code: d.code,
                level: match d.severity {
                    Severity::Error => Level::Error,
                    Severity::Warning => Level::Warning,
                },
                message,
                place: Place::Policy {
                    span: d.span,
                    path: d.path.clone(),
                },
                detail: String::new(),
                suppressed: d.suppressed.clone(),
            }
        })
        .collect()
}

/// Buckets `plan` could not read, as findings.
pub fn from_plan_errors(errors: &[PlanError]) -> Vec<Finding> {
    errors
        .iter()
        .map(|e| Finding {
            code: match e.kind {
                PlanErrorKind::NoSuchBucket => LiveCode::MissingBucket.as_str(),
                PlanErrorKind::DuplicateBucket => ErrorCode::DuplicateBucket.as_str(),
                PlanErrorKind::ReadFailed | PlanErrorKind::NotRead => {
                    ErrorCode::ReadFailed.as_str()
                }
            },
            level: Level::Error,
            message: format!("{}: {}", e.bucket, e.message),
            place: Place::Bucket {
                bucket: e.bucket.clone(),
                // Several entries (`duplicate-bucket`): the first.
                entry: e
                    .source
                    .split(", ")
                    .next()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            },
            detail: String::new(),
            suppressed: None,
        })
        .collect()
}

/// `drift`'s live findings: drifted, missing and unreadable buckets, live
/// guardrail violations, unresolved buckets and unmanaged buckets with CORS.
pub fn from_drift(report: &DriftReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let entries: HashMap<&str, &str> = report
        .managed
        .iter()
        .map(|b| (b.bucket.as_str(), b.source.as_str()))
        .collect();
    let at = |bucket: &str| Place::Bucket {
        bucket: bucket.to_owned(),
        entry: entries.get(bucket).map(|s| (*s).to_owned()),
    };
    for b in &report.managed {
        let (code, level, message) = match &b.state {
            State::InSync => continue,
            State::Drifted => (
                LiveCode::Drifted.as_str(),
                LiveCode::Drifted.level(),
                format!(
                    "{}: the live CORS rules differ from the policy entry at {}",
                    b.bucket, b.source
                ),
            ),
            State::MissingBucket => (
                LiveCode::MissingBucket.as_str(),
                LiveCode::MissingBucket.level(),
                format!(
                    "{}: the bucket does not exist (policy entry at {})",
                    b.bucket, b.source
                ),
            ),
            State::Error(e) => (
                ErrorCode::ReadFailed.as_str(),
                Level::Error,
                format!(
                    "{}: its CORS configuration could not be read: {e}",
                    b.bucket
                ),
            ),
        };
        out.push(Finding {
            code,
            level,
            message,
            place: at(&b.bucket),
            detail: String::new(),
            suppressed: None,
        });
    }
    for v in &report.violations {
        out.push(Finding {
            code: ErrorCode::GuardrailViolation.as_str(),
            level: Level::Error,
            message: format!("{}: live rule {}: {}", v.bucket, v.rule + 1, v.message),
            place: at(&v.bucket),
            detail: format!("{}#{}#{}", v.guardrail, v.rule, v.value),
            suppressed: None,
        });
    }
    for u in &report.unresolved {
        out.push(Finding {
            code: LiveCode::UnresolvedBucket.as_str(),
            level: LiveCode::UnresolvedBucket.level(),
            message: format!("{}: {}", u.bucket, u.message),
            place: at(&u.bucket),
            detail: String::new(),
            suppressed: None,
        });
    }
    for u in report.unmanaged.iter().flatten() {
        out.push(Finding {
            code: LiveCode::UnmanagedCors.as_str(),
            level: LiveCode::UnmanagedCors.level(),
            message: format!(
                "{}: no policy manages this bucket, and it has {} CORS rule(s)",
                u.bucket, u.rules
            ),
            place: at(&u.bucket),
            detail: String::new(),
            suppressed: None,
        });
    }
    out
}

/// `verify`'s failed cases, buckets it could not verify, and a failed `--url` check.
pub fn from_verify(report: &VerifyReport) -> Vec<Finding> {
    let mut out = Vec::new();
    for b in &report.buckets {
        for c in b.cases.iter().filter(|c| !c.pass) {
            let why = match &c.error {
                Some(e) => format!("no answer: {e}"),
                None => c
                    .differences
                    .iter()
                    .map(|d| {
                        format!(
                            "{} expected {}, got {}",
                            d.field,
                            d.expected.as_deref().unwrap_or("none"),
                            d.actual.as_deref().unwrap_or("none")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            out.push(Finding {
                code: LiveCode::VerifyCaseFailed.as_str(),
                level: LiveCode::VerifyCaseFailed.level(),
                message: format!("{}: case {:?} failed: {why}", b.bucket, c.name),
                place: Place::Bucket {
                    bucket: b.bucket.clone(),
                    entry: (!b.source.is_empty()).then(|| b.source.clone()),
                },
                detail: c.name.clone(),
                suppressed: None,
            });
        }
    }
    for p in &report.problems {
        out.push(Finding {
            code: LiveCode::UnverifiedBucket.as_str(),
            level: LiveCode::UnverifiedBucket.level(),
            message: format!("{}: {}", p.bucket, p.message),
            place: Place::Bucket {
                bucket: p.bucket.clone(),
                entry: None,
            },
            detail: String::new(),
            suppressed: None,
        });
    }
    if let Some(u) = report.url_check.as_ref().filter(|u| !u.pass) {
        // One result per problem (its code and request tell them apart), or one
        // saying why no answer came.
        let place = || Place::Bucket {
            bucket: u.url.clone(),
            entry: None,
        };
        for p in &u.problems {
            let mut message = format!("{}: {}: {}", u.url, p.code_str(), p.message);
            for e in &p.evidence {
                message.push_str(&format!("; {e}"));
            }
            message.push_str(&format!(". Fix: {}", p.fix));
            out.push(Finding {
                code: LiveCode::UrlCheckFailed.as_str(),
                level: LiveCode::UrlCheckFailed.level(),
                message,
                place: place(),
                detail: format!("{} {}", p.code_str(), p.request),
                suppressed: None,
            });
        }
        if let Some(e) = &u.error {
            out.push(Finding {
                code: LiveCode::UrlCheckFailed.as_str(),
                level: LiveCode::UrlCheckFailed.level(),
                message: format!("{}: no answer: {e}", u.url),
                place: place(),
                detail: String::new(),
                suppressed: None,
            });
        }
    }
    out
}

/// A rule's one-line meaning and its docs page, by code; `None` for a code
/// s3cors does not define (never, as every code comes from the enums above).
pub fn rule_of(code: &str) -> Option<(&'static str, String)> {
    let docs = format!("{REPOSITORY}/blob/main/docs");
    if let Some(c) = ErrorCode::ALL.into_iter().find(|c| c.as_str() == code) {
        return Some((c.meaning(), format!("{docs}/errors.md#{code}")));
    }
    if let Some(c) = WarningCode::ALL.into_iter().find(|c| c.as_str() == code) {
        return Some((c.meaning(), format!("{docs}/errors.md#{code}")));
    }
    if let Some(c) = LintCode::ALL.into_iter().find(|c| c.as_str() == code) {
        return Some((c.summary(), format!("{docs}/lints/{code}.md")));
    }
    LiveCode::ALL
        .into_iter()
        .find(|c| c.as_str() == code)
        .map(|c| (c.meaning(), format!("{docs}/ci-formats.md#{code}")))
}

/// The SARIF log of `findings`, pretty-printed, with a newline. It sets no
/// `automationDetails`: `plan`, `drift` and `verify` write `validate`'s findings
/// when the policies have errors, so the category is the upload's to name
/// (docs/ci-formats.md).
pub fn render(sources: &Sources, findings: &[Finding]) -> String {
    let mut codes: Vec<&'static str> = findings.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<ReportingDescriptor> = codes
        .iter()
        .map(|code| {
            let (meaning, help) = rule_of(code).unwrap_or(("", String::new()));
            let d = ReportingDescriptor::builder()
                .id(*code)
                .short_description(MultiformatMessageString::builder().text(meaning).build());
            if help.is_empty() {
                d.build()
            } else {
                d.help_uri(help).build()
            }
        })
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| {
            let base = fingerprint_base(sources, f);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            // Identical code, file, anchor and detail: told apart by order.
            let fingerprint = hex::encode(Sha256::digest(format!("{base}\0{n}").as_bytes()));
            let rule_index = codes.iter().position(|c| *c == f.code).unwrap_or(0);
            let mut result = SarifResult::builder()
                .rule_id(f.code)
                .rule_index(i64::try_from(rule_index).unwrap_or(0))
                .level(match f.level {
                    Level::Error => ResultLevel::Error,
                    Level::Warning => ResultLevel::Warning,
                    Level::Note => ResultLevel::Note,
                })
                .message(Message::builder().text(f.message.clone()).build())
                .locations(location(sources, &f.place).into_iter().collect::<Vec<_>>())
                .partial_fingerprints(BTreeMap::from([(FINGERPRINT_KEY.to_owned(), fingerprint)]))
                .build();
            if let Some(s) = &f.suppressed {
                let suppression = serde_sarif::sarif::Suppression::builder()
                    .kind(serde_json::Value::from("inSource"))
                    .build();
                result.suppressions = Some(vec![serde_sarif::sarif::Suppression {
                    justification: s.reason.clone(),
                    ..suppression
                }]);
            }
            result
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("s3cors")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(REPOSITORY)
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .results(results)
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// What a fingerprint hashes: the code, then the file and the YAML path for a
/// policy finding, or the bucket for a live one, and the detail. Never a line
/// number.
fn fingerprint_base(sources: &Sources, f: &Finding) -> String {
    let anchor = match &f.place {
        Place::Policy { span, path } => format!(
            "{}\0{}",
            span.map(|s| sources.get(s.file).name.as_str())
                .unwrap_or(""),
            path.as_deref().unwrap_or("")
        ),
        Place::Bucket { bucket, .. } => format!("bucket\0{bucket}"),
    };
    format!("{}\0{anchor}\0{}", f.code, f.detail)
}

fn location(sources: &Sources, place: &Place) -> Option<Location> {
    match place {
        Place::Policy { span: None, .. } => None,
        Place::Policy {
            span: Some(span),
            path,
        } => {
            let file = sources.get(span.file);
            let start = file.line_col(span.start as usize);
            let end = file.line_col(span.end as usize);
            let region = Region::builder()
                .start_line(start.line as i64)
                .start_column(start.col as i64)
                .end_line(end.line as i64)
                .end_column(end.col as i64)
                .build();
            let physical = PhysicalLocation::builder()
                .artifact_location(artifact(&file.name))
                .region(region)
                .build();
            Some(match path {
                Some(path) => Location::builder()
                    .physical_location(physical)
                    .logical_locations(vec![
                        LogicalLocation::builder()
                            .fully_qualified_name(path.clone())
                            .kind("element")
                            .build(),
                    ])
                    .build(),
                None => Location::builder().physical_location(physical).build(),
            })
        }
        Place::Bucket { bucket, entry } => {
            let logical = vec![
                LogicalLocation::builder()
                    .name(bucket.clone())
                    .fully_qualified_name(format!("s3://{bucket}"))
                    .kind("resource")
                    .build(),
            ];
            let physical = entry
                .as_deref()
                .and_then(split_file_line)
                .map(|(file, line)| {
                    PhysicalLocation::builder()
                        .artifact_location(artifact(file))
                        .region(Region::builder().start_line(line).build())
                        .build()
                });
            Some(match physical {
                Some(p) => Location::builder()
                    .physical_location(p)
                    .logical_locations(logical)
                    .build(),
                None => Location::builder().logical_locations(logical).build(),
            })
        }
    }
}

/// `file:line` (how reports name a policy entry) split in two.
fn split_file_line(entry: &str) -> Option<(&str, i64)> {
    let (file, line) = entry.rsplit_once(':')?;
    let line: i64 = line.parse().ok()?;
    (!file.is_empty() && line > 0).then_some((file, line))
}

/// A policy file as a relative URI reference: `./` dropped, bytes outside
/// RFC 3986's unreserved set and `/` percent-encoded.
fn artifact(name: &str) -> ArtifactLocation {
    let name = name.strip_prefix("./").unwrap_or(name);
    let mut uri = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    ArtifactLocation::builder().uri(uri).build()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diag::SourceFile;

    #[test]
    fn every_code_has_a_meaning_and_a_docs_page_that_documents_it() {
        let errors = include_str!("../../docs/errors.md");
        let ci = include_str!("../../docs/ci-formats.md");
        let codes = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(WarningCode::ALL.iter().map(|c| c.as_str()))
            .chain(LintCode::ALL.iter().map(|c| c.as_str()))
            .chain(LiveCode::ALL.iter().map(|c| c.as_str()));
        for code in codes {
            let (meaning, uri) = rule_of(code).expect(code);
            assert!(!meaning.is_empty(), "{code}");
            let (page, anchor) = uri
                .strip_prefix(&format!("{REPOSITORY}/blob/main/docs/"))
                .expect("docs URL")
                .split_once('#')
                .unwrap_or((&uri, ""));
            match page {
                "errors.md" => assert!(errors.contains(&format!("### `{anchor}`")), "{code}"),
                "ci-formats.md" => assert!(ci.contains(&format!("### `{anchor}`")), "{code}"),
                _ => assert!(uri.ends_with(&format!("docs/lints/{code}.md")), "{uri}"),
            }
        }
        assert_eq!(rule_of("no-such-code"), None);
    }

    /// A `verify --url` check through a cache keyed on the URL only: the answer
    /// without Origin served to A and to B.
    pub(crate) fn url_keyed_cache_check() -> VerifyReport {
        use crate::cors::fixtures::observed;
        use crate::cors::verify::cdn::{Expect, Pick};
        use crate::cors::verify::report::UrlCheck;
        let pick = |origin: &str| Pick {
            origin: origin.into(),
            expect: Expect::Allowed,
        };
        let picks = [pick("https://a.example"), pick("https://b.example")];
        let plain = observed(200, &[("X-Cache", "Miss from cloudfront")]);
        let cached = observed(200, &[("Age", "5"), ("X-Cache", "Hit from cloudfront")]);
        let check = UrlCheck::new(
            "https://cdn.example/app.js",
            &picks,
            [Ok(&plain), Ok(&cached), Ok(&cached)],
        );
        VerifyReport::new(vec![], vec![], Some(check))
    }

    #[test]
    fn a_url_check_gives_a_result_per_problem() {
        let findings = from_verify(&url_keyed_cache_check());
        let got: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (f.code, f.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("url-check-failed", "missing-cors-headers 1"),
                ("url-check-failed", "missing-cors-headers 2")
            ]
        );
        let message = &findings[0].message;
        for want in [
            "https://cdn.example/app.js: missing-cors-headers: GET from https://a.example",
            "served from a cache (age: 5, x-cache: Hit from cloudfront)",
            ". Fix: make Origin part of the cache key",
        ] {
            assert!(message.contains(want), "missing {want:?} in {message}");
        }
        assert_eq!(findings[0].level, Level::Error);
    }

    #[test]
    fn fingerprints_follow_the_yaml_path_not_the_line() {
        let mut sources = Sources::new();
        let a = sources.add(SourceFile::new("p.yaml", "a: 1\nb: 2\n"));
        let finding = |start: usize| Finding {
            code: "unknown-key",
            level: Level::Error,
            message: "m".into(),
            place: Place::Policy {
                span: Some(Span::new(a, start, start + 1)),
                path: Some("b".into()),
            },
            detail: String::new(),
            suppressed: None,
        };
        let at = |f: Finding| -> serde_json::Value {
            serde_json::from_str(&render(&sources, &[f])).unwrap()
        };
        let (one, two) = (at(finding(0)), at(finding(5)));
        let result = |v: &serde_json::Value, k: &str| v["runs"][0]["results"][0][k].clone();
        assert_eq!(
            result(&one, "partialFingerprints"),
            result(&two, "partialFingerprints")
        );
        assert_ne!(result(&one, "locations"), result(&two, "locations"));
        // Two identical findings still get distinct fingerprints.
        let both: serde_json::Value =
            serde_json::from_str(&render(&sources, &[finding(0), finding(5)])).unwrap();
        let prints: Vec<_> = (0..2)
            .map(|i| both["runs"][0]["results"][i]["partialFingerprints"].clone())
            .collect();
        assert_ne!(prints[0], prints[1]);
    }

    /// A suppressed diagnostic is a result with an `inSource` suppression whose
    /// justification is the reason; others have no `suppressions`.
    #[test]
    fn suppressed_findings_carry_an_in_source_suppression() {
        let mut sources = Sources::new();
        let a = sources.add(SourceFile::new("p.yaml", "a: 1\nb: 2\n"));
        let lint = |reason: Option<&str>, suppressed: bool| {
            let mut d = Diagnostic::warning(LintCode::HttpOrigin, "m").at(Span::new(a, 0, 1));
            if suppressed {
                d.suppressed = Some(Box::new(Suppression {
                    reason: reason.map(str::to_owned),
                    span: Span::new(a, 5, 6),
                }));
            }
            d
        };
        let diags = [
            lint(None, false),
            lint(Some("legacy partner"), true),
            lint(None, true),
        ];
        let log: serde_json::Value =
            serde_json::from_str(&render(&sources, &from_diagnostics(&diags))).unwrap();
        let results = &log["runs"][0]["results"];
        assert_eq!(results[0].get("suppressions"), None);
        assert_eq!(
            results[1]["suppressions"],
            serde_json::json!([{"kind": "inSource", "justification": "legacy partner"}])
        );
        assert_eq!(
            results[2]["suppressions"],
            serde_json::json!([{"kind": "inSource"}])
        );
    }

    #[test]
    fn policy_paths_become_relative_uri_references() {
        let table = [
            ("./policies/web.yaml", "policies/web.yaml"),
            ("my policies/ä.yaml", "my%20policies/%C3%A4.yaml"),
            ("a#b?.yaml", "a%23b%3F.yaml"),
        ];
        for (name, want) in table {
            assert_eq!(artifact(name).uri.as_deref(), Some(want), "{name}");
        }
        assert_eq!(split_file_line("./p.yaml:12"), Some(("./p.yaml", 12)));
        assert_eq!(split_file_line("p.yaml"), None);
    }

    /// A drift report with one bucket of every kind.
    pub(crate) fn every_kind_of_drift() -> DriftReport {
        use crate::plan::drift::{LiveViolation, ManagedBucket, UnmanagedBucket, UnresolvedBucket};
        let managed = |bucket: &str, line: usize, state: State| ManagedBucket {
            bucket: bucket.into(),
            source: format!("./p.yaml:{line}"),
            account: None,
            state,
            live: None,
            desired: None,
        };
        DriftReport {
            managed: vec![
                managed("ok", 3, State::InSync),
                managed("changed", 8, State::Drifted),
                managed("gone", 13, State::MissingBucket),
                managed("denied", 18, State::Error("AccessDenied <&>".into())),
            ],
            unmanaged: Some(vec![UnmanagedBucket {
                bucket: "stray".into(),
                rules: 2,
            }]),
            violations: vec![LiveViolation {
                bucket: "ok".into(),
                guardrail: "no-public-writes".into(),
                rule: 0,
                value: "*".into(),
                message: "origin \"*\" with PUT".into(),
            }],
            unresolved: vec![UnresolvedBucket {
                bucket: "claimed".into(),
                message: "two entries claim it".into(),
            }],
            context: Default::default(),
            findings: Default::default(),
        }
    }

    #[test]
    fn drift_findings_have_their_codes_levels_and_places() {
        let findings = from_drift(&every_kind_of_drift());
        let got: Vec<(&str, Level, &Place)> = findings
            .iter()
            .map(|f| (f.code, f.level, &f.place))
            .collect();
        let bucket = |b: &str, entry: Option<&str>| Place::Bucket {
            bucket: b.into(),
            entry: entry.map(str::to_owned),
        };
        assert_eq!(
            got,
            vec![
                (
                    "drifted",
                    Level::Warning,
                    &bucket("changed", Some("./p.yaml:8"))
                ),
                (
                    "missing-bucket",
                    Level::Error,
                    &bucket("gone", Some("./p.yaml:13"))
                ),
                (
                    "read-failed",
                    Level::Error,
                    &bucket("denied", Some("./p.yaml:18"))
                ),
                (
                    "guardrail-violation",
                    Level::Error,
                    &bucket("ok", Some("./p.yaml:3"))
                ),
                ("unresolved-bucket", Level::Error, &bucket("claimed", None)),
                ("unmanaged-cors", Level::Note, &bucket("stray", None)),
            ]
        );
        let log: serde_json::Value =
            serde_json::from_str(&render(&Sources::new(), &findings)).unwrap();
        let results = log["runs"][0]["results"].as_array().unwrap();
        let drifted = &results[0]["locations"][0];
        assert_eq!(
            drifted["physicalLocation"]["artifactLocation"]["uri"],
            "p.yaml"
        );
        assert_eq!(drifted["physicalLocation"]["region"]["startLine"], 8);
        assert_eq!(
            drifted["logicalLocations"][0]["fullyQualifiedName"],
            "s3://changed"
        );
        let stray = &results[5]["locations"][0];
        assert!(stray.get("physicalLocation").is_none());
        assert_eq!(results[5]["level"], "note");
    }
}
