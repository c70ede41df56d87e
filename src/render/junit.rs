//! JUnit XML (`--format junit`): results as test reports for CI test tabs
//! (GitLab, Jenkins, Azure DevOps, GitHub test-report actions), as
//! docs/ci-formats.md describes.
//!
//! `validate`: a test case per policy file (failure: its errors; warnings in
//! `system-out`). `drift`: a test case per managed bucket (failure when drifted
//! or missing, or when its live rules break a guardrail; error when unreadable)
//! and per unresolved bucket (error). `verify`: a test suite per bucket and a
//! test case per request case (failure when S3 answered otherwise than
//! predicted; error when no answer came).
//!
//! Written by hand: the format is a few elements, and [`escape`] is the one
//! place text enters the XML (markup characters escaped; characters XML 1.0
//! cannot carry at all shown as `\u{..}`).

use std::fmt::Write as _;

use crate::cors::verify::report::VerifyReport;
use crate::diag::{Diagnostic, Severity, Sources};
use crate::plan::drift::{DriftReport, State};

/// Text made safe for XML 1.0 character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Tab and line feed are kept; a carriage return would be
            // normalised away by a parser, so it is shown.
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One test case.
struct Case {
    name: String,
    classname: String,
    /// `(kind, message, body)`, kind `failure` or `error`.
    outcome: Option<(&'static str, String, String)>,
    system_out: String,
}

/// One test suite.
struct Suite {
    name: String,
    cases: Vec<Case>,
}

fn document(name: &str, suites: &[Suite]) -> String {
    let count = |kind: &str| {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == kind))
            .count()
    };
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">",
        escape(name),
        count("failure"),
        count("error")
    );
    for s in suites {
        let of = |kind: &str| {
            s.cases
                .iter()
                .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == kind))
                .count()
        };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            escape(&s.name),
            s.cases.len(),
            of("failure"),
            of("error")
        );
        for c in &s.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                escape(&c.name),
                escape(&c.classname)
            );
            if c.outcome.is_none() && c.system_out.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some((kind, message, body)) = &c.outcome {
                let _ = writeln!(
                    out,
                    "      <{kind} message=\"{}\" type=\"{kind}\">{}</{kind}>",
                    escape(message),
                    escape(body)
                );
            }
            if !c.system_out.is_empty() {
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    escape(&c.system_out)
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn line(sources: &Sources, d: &Diagnostic) -> String {
    let at = d.span.map(|s| format!("{}: ", sources.place(s)));
    let help = d.help.as_ref().map(|h| format!(" (help: {h})"));
    format!(
        "{}{}[{}]: {}{}",
        at.unwrap_or_default(),
        match d.severity {
            _ if d.is_suppressed() => "suppressed",
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        d.code,
        d.message,
        help.unwrap_or_default()
    )
}

/// `validate`: a test case per policy file, and one named `(policies)` for
/// findings about no file (e.g. no policy files found).
pub fn validate(sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut cases = Vec::new();
    let mut case = |name: &str, of: &dyn Fn(&Diagnostic) -> bool| {
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| of(d) && d.is_error())
            .map(|d| line(sources, d))
            .collect();
        let warnings: Vec<String> = diags
            .iter()
            .filter(|d| of(d) && !d.is_error())
            .map(|d| line(sources, d))
            .collect();
        cases.push(Case {
            name: name.to_owned(),
            classname: "s3cors.validate".to_owned(),
            outcome: (!errors.is_empty()).then(|| {
                (
                    "failure",
                    format!("{} error(s)", errors.len()),
                    errors.join("\n"),
                )
            }),
            system_out: warnings.join("\n"),
        });
    };
    for (id, file) in sources.files().iter().enumerate() {
        case(&file.name, &|d: &Diagnostic| {
            d.span.is_some_and(|s| s.file as usize == id)
        });
    }
    if diags.iter().any(|d| d.span.is_none()) {
        case("(policies)", &|d: &Diagnostic| d.span.is_none());
    }
    document(
        "s3cors validate",
        &[Suite {
            name: "policy files".to_owned(),
            cases,
        }],
    )
}

/// `drift`: a test case per managed bucket, then per unresolved bucket.
pub fn drift(report: &DriftReport) -> String {
    let mut cases = Vec::new();
    for b in &report.managed {
        let violations: Vec<String> = report
            .violations
            .iter()
            .filter(|v| v.bucket == b.bucket)
            .map(|v| format!("live rule {}: {}", v.rule + 1, v.message))
            .collect();
        let outcome = match &b.state {
            State::Error(e) => Some((
                "error",
                "its CORS configuration could not be read".to_owned(),
                e.clone(),
            )),
            State::Drifted => Some((
                "failure",
                "drifted".to_owned(),
                format!(
                    "the live CORS rules differ from the policy entry at {}",
                    b.source
                ),
            )),
            State::MissingBucket => Some((
                "failure",
                "missing-bucket".to_owned(),
                format!("the bucket does not exist (policy entry at {})", b.source),
            )),
            State::InSync => None,
        };
        let outcome = match (outcome, violations.is_empty()) {
            (o, true) => o,
            (None, false) => Some((
                "failure",
                "guardrail-violation".to_owned(),
                violations.join("\n"),
            )),
            (Some((kind, message, body)), false) => {
                Some((kind, message, format!("{body}\n{}", violations.join("\n"))))
            }
        };
        cases.push(Case {
            name: b.bucket.clone(),
            classname: format!("s3cors.drift.{}", b.account.as_deref().unwrap_or("bucket")),
            outcome,
            system_out: format!("policy entry: {}", b.source),
        });
    }
    for u in &report.unresolved {
        cases.push(Case {
            name: u.bucket.clone(),
            classname: "s3cors.drift.unresolved".to_owned(),
            outcome: Some(("error", "unresolved".to_owned(), u.message.clone())),
            system_out: String::new(),
        });
    }
    document(
        "s3cors drift",
        &[Suite {
            name: "managed buckets".to_owned(),
            cases,
        }],
    )
}

/// `verify`: a test suite per bucket, a test case per request case; buckets
/// that could not be verified as erroring cases; a `--url` check as a suite with
/// a case per request (without Origin, from A, from B).
pub fn verify(report: &VerifyReport) -> String {
    let mut suites: Vec<Suite> = report
        .buckets
        .iter()
        .map(|b| Suite {
            name: b.bucket.clone(),
            cases: b
                .cases
                .iter()
                .map(|c| {
                    let request = format!("{} {}", c.request.method, c.request.url);
                    let outcome = match (&c.error, c.pass) {
                        (Some(e), _) => Some(("error", "no answer".to_owned(), e.clone())),
                        (None, true) => None,
                        (None, false) => {
                            let diffs: Vec<String> = c
                                .differences
                                .iter()
                                .map(|d| {
                                    format!(
                                        "{}: expected {}, got {}",
                                        d.field,
                                        d.expected.as_deref().unwrap_or("none"),
                                        d.actual.as_deref().unwrap_or("none")
                                    )
                                })
                                .collect();
                            let mut body = diffs.join("\n");
                            if let Some(hint) = &b.hint {
                                body.push_str(&format!("\n{hint}"));
                            }
                            Some(("failure", format!("{} difference(s)", diffs.len()), body))
                        }
                    };
                    Case {
                        name: c.name.clone(),
                        classname: format!("s3cors.verify.{}", b.bucket),
                        outcome,
                        system_out: request,
                    }
                })
                .collect(),
        })
        .collect();
    if !report.problems.is_empty() {
        suites.push(Suite {
            name: "not verified".to_owned(),
            cases: report
                .problems
                .iter()
                .map(|p| Case {
                    name: p.bucket.clone(),
                    classname: "s3cors.verify".to_owned(),
                    outcome: Some(("error", "not verified".to_owned(), p.message.clone())),
                    system_out: String::new(),
                })
                .collect(),
        });
    }
    if let Some(u) = &report.url_check {
        // A case per request of the check, failing with its problems.
        let cases = u
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let problems: Vec<String> = u
                    .problems
                    .iter()
                    .filter(|p| p.request == i)
                    .map(|p| {
                        let mut text = format!("{}: {}", p.code_str(), p.message);
                        for e in &p.evidence {
                            text.push_str(&format!("\nevidence: {e}"));
                        }
                        text.push_str(&format!("\nfix: {}", p.fix));
                        text
                    })
                    .collect();
                let outcome = if let Some(e) = &r.error {
                    Some(("error", "no answer".to_owned(), e.clone()))
                } else if problems.is_empty() {
                    None
                } else {
                    Some((
                        "failure",
                        format!("{} problem(s)", problems.len()),
                        problems.join("\n"),
                    ))
                };
                let headers: Vec<String> = r
                    .actual
                    .iter()
                    .flat_map(|a| &a.headers)
                    .chain(&r.cache)
                    .map(|h| format!("{}: {}", h.name, h.value))
                    .collect();
                Case {
                    name: r.name.clone(),
                    classname: "s3cors.verify.url".to_owned(),
                    outcome,
                    system_out: format!("GET {}\n{}", u.url, headers.join("\n")),
                }
            })
            .collect();
        suites.push(Suite {
            name: format!("url {}", u.url),
            cases,
        });
    }
    document("s3cors verify", &suites)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_characters_xml_cannot_carry() {
        let table = [
            ("a<b>&\"c\"'", "a&lt;b&gt;&amp;&quot;c&quot;&apos;"),
            ("tab\tand\nline", "tab\tand\nline"),
            ("bell\u{7}cr\r", "bell\\u{7}cr\\u{d}"),
            ("\u{fffe}é", "\\u{fffe}é"),
        ];
        for (input, want) in table {
            assert_eq!(escape(input), want, "{input:?}");
        }
    }

    #[test]
    fn drift_cases_fail_or_error_by_state_and_escape_what_they_quote() {
        let xml = drift(&crate::render::sarif::tests::every_kind_of_drift());
        for want in [
            "<testsuites name=\"s3cors drift\" tests=\"5\" failures=\"3\" errors=\"2\">",
            "<testcase name=\"changed\" classname=\"s3cors.drift.bucket\">",
            "<failure message=\"drifted\"",
            "<failure message=\"missing-bucket\"",
            // In sync, but its live rules break a guardrail.
            "<failure message=\"guardrail-violation\" type=\"failure\">live rule 1: origin &quot;*&quot; with PUT</failure>",
            "<error message=\"its CORS configuration could not be read\" type=\"error\">AccessDenied &lt;&amp;&gt;</error>",
            "<testcase name=\"claimed\" classname=\"s3cors.drift.unresolved\">",
        ] {
            assert!(xml.contains(want), "missing {want:?} in\n{xml}");
        }
    }

    #[test]
    fn a_url_check_is_a_suite_with_a_case_per_request() {
        let xml = verify(&crate::render::sarif::tests::url_keyed_cache_check());
        for want in [
            "<testsuites name=\"s3cors verify\" tests=\"3\" failures=\"2\" errors=\"0\">",
            "<testsuite name=\"url https://cdn.example/app.js\" tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\">",
            "<testcase name=\"GET without Origin\" classname=\"s3cors.verify.url\">",
            "<testcase name=\"GET from https://a.example\" classname=\"s3cors.verify.url\">",
            "<failure message=\"1 problem(s)\" type=\"failure\">missing-cors-headers: GET from https://b.example",
            "evidence: served from a cache (age: 5, x-cache: Hit from cloudfront)",
            "fix: make Origin part of the cache key",
        ] {
            assert!(xml.contains(want), "missing {want:?} in\n{xml}");
        }
    }

    #[test]
    fn validate_puts_findings_about_no_file_in_their_own_case() {
        use crate::diag::{ErrorCode, SourceFile};
        let mut sources = Sources::new();
        sources.add(SourceFile::new("a.yaml", "version: 1\n"));
        let diags = [Diagnostic::error(
            ErrorCode::NoPolicyFiles,
            "nothing <here>",
        )];
        let xml = validate(&sources, &diags);
        assert!(
            xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"a.yaml\" classname=\"s3cors.validate\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"1 error(s)\" type=\"failure\">error[no-policy-files]: nothing &lt;here&gt;</failure>"),
            "{xml}"
        );
    }
}
