//! Policy findings (lints, guardrail violations, ownership problems, with the
//! suppressed ones marked) as plan and drift reports carry them: a `findings`
//! array and `finding_counts` in JSON, and a short section in markdown, so a
//! pull-request comment or a dashboard shows them, not only stderr.
//! Built from diagnostics and the files they point into; pure.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Severity, Sources};
use crate::text::markdown_safe;

/// Findings listed in markdown without folding; more go in a `<details>` block.
pub const MARKDOWN_OPEN_ROWS: usize = 5;

/// The counts of [`Findings`]: errors and warnings not suppressed, and
/// suppressed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCounts {
    pub errors: usize,
    pub warnings: usize,
    pub suppressed: usize,
}

impl FindingCounts {
    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.suppressed
    }
}

/// One finding in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The stable code (docs/errors.md, docs/lints/).
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    pub message: String,
    /// Where (1-based); `null` for findings about no place.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The YAML path of the offending node.
    pub path: Option<String>,
    /// The bucket, for a finding about a `name:` entry's rules.
    pub bucket: Option<String>,
    /// Silenced by an `allow:` or a `lints:` level of `allow`.
    pub suppressed: bool,
    /// The reason the `allow:` gave, when suppressed.
    pub reason: Option<String>,
}

/// Every policy finding of a run, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    pub counts: FindingCounts,
    pub items: Vec<Finding>,
}

impl Findings {
    /// Every finding of `diagnostics` (borrowed: a fleet's lints are not copied
    /// twice).
    pub fn new<'d>(
        sources: &Sources,
        diagnostics: impl IntoIterator<Item = &'d Diagnostic>,
    ) -> Findings {
        let mut sorted: Vec<&Diagnostic> = diagnostics.into_iter().collect();
        sorted.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
        let mut counts = FindingCounts::default();
        let items = sorted
            .into_iter()
            .map(|d| {
                if d.is_suppressed() {
                    counts.suppressed += 1;
                } else if d.is_error() {
                    counts.errors += 1;
                } else {
                    counts.warnings += 1;
                }
                let place = d.span.map(|s| {
                    let file = sources.get(s.file);
                    (file.name.clone(), file.line_col(s.start as usize))
                });
                Finding {
                    code: d.code.to_owned(),
                    severity: match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    }
                    .to_owned(),
                    message: d.message.clone(),
                    file: place.as_ref().map(|(f, _)| f.clone()),
                    line: place.as_ref().map(|(_, lc)| lc.line),
                    column: place.as_ref().map(|(_, lc)| lc.col),
                    path: d.path.clone(),
                    bucket: d.path.as_deref().and_then(bucket_of),
                    suppressed: d.is_suppressed(),
                    reason: d.suppressed.as_ref().and_then(|s| s.reason.clone()),
                }
            })
            .collect();
        Findings { counts, items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `1 error, 2 warnings, 3 suppressed`.
    pub fn summary_line(&self) -> String {
        let c = &self.counts;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, {} suppressed",
            plural(c.errors, "error"),
            plural(c.warnings, "warning"),
            c.suppressed
        )
    }

    /// A `#### Policy findings` section (nothing when there are none): a line
    /// per finding, folded in a `<details>` block beyond [`MARKDOWN_OPEN_ROWS`],
    /// at most `budget` bytes: what does not fit is counted.
    pub fn markdown(&self, budget: usize) -> String {
        if self.is_empty() {
            return String::new();
        }
        let mut out = format!("#### Policy findings\n\n**{}**\n\n", self.summary_line());
        let folded = self.items.len() > MARKDOWN_OPEN_ROWS;
        if folded {
            out.push_str("<details><summary>Every finding</summary>\n\n");
        }
        // Room for the closing lines.
        let end = budget.saturating_sub(120);
        let mut shown = 0;
        for f in &self.items {
            let place = match (&f.file, f.line) {
                (Some(file), Some(line)) => {
                    format!(" (<code>{}:{line}</code>)", markdown_safe(file))
                }
                _ => String::new(),
            };
            let status = if f.suppressed {
                match &f.reason {
                    Some(r) => format!(" _suppressed: {}_", markdown_safe(r)),
                    None => " _suppressed_".to_owned(),
                }
            } else {
                String::new()
            };
            let line = format!(
                "- {} <code>{}</code>{place}: {}{status}\n",
                f.severity,
                markdown_safe(&f.code),
                markdown_safe(&f.message)
            );
            if out.len() + line.len() > end {
                break;
            }
            out.push_str(&line);
            shown += 1;
        }
        let hidden = self.items.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n_{hidden} more not shown; run `s3cors validate -v` for every finding._"
            );
        }
        if folded {
            out.push_str("\n</details>\n");
        }
        out.push('\n');
        out
    }
}

/// The bucket a YAML path of `policy::check` names: `buckets[name=B]...`.
fn bucket_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("buckets[name=")?;
    let end = rest.find("]")?;
    Some(rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, Span, Suppression};

    fn sample(n: usize) -> (Sources, Vec<Diagnostic>) {
        let mut sources = Sources::new();
        let text = "a\nb\nc\n";
        let file = sources.add(SourceFile::new("p.yaml", text));
        let mut diags = Vec::new();
        for i in 0..n {
            let mut d = Diagnostic::warning(
                crate::cors::lint::LintCode::HttpOrigin,
                format!("finding <{i}>"),
            )
            .at(Span::new(file, 2, 3))
            .path(format!("buckets[name=b{i}].rules[0].AllowedOrigins[0]"));
            if i % 3 == 2 {
                d.suppressed = Some(Box::new(Suppression {
                    reason: Some("ok | fine".into()),
                    span: Span::new(file, 4, 5),
                }));
            }
            diags.push(d);
        }
        (sources, diags)
    }

    #[test]
    fn findings_carry_place_bucket_and_suppression() {
        let (sources, diags) = sample(3);
        let f = Findings::new(&sources, &diags);
        assert_eq!(
            f.counts,
            FindingCounts {
                errors: 0,
                warnings: 2,
                suppressed: 1
            }
        );
        let json = serde_json::to_value(&f.items[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "http-origin", "severity": "warning", "message": "finding <2>",
                "file": "p.yaml", "line": 2, "column": 1,
                "path": "buckets[name=b2].rules[0].AllowedOrigins[0]", "bucket": "b2",
                "suppressed": true, "reason": "ok | fine"
            })
        );
        assert_eq!(bucket_of("rulesets.r[0].MaxAgeSeconds"), None);
        assert_eq!(bucket_of("buckets[match=a-*].rules[0]"), None);
    }

    #[test]
    fn markdown_is_short_open_and_folded_long_within_budget() {
        assert_eq!(Findings::default().markdown(10_000), "");
        let (sources, diags) = sample(3);
        let short = Findings::new(&sources, &diags).markdown(10_000);
        assert!(!short.contains("<details>"), "{short}");
        assert!(
            short.contains("**0 errors, 2 warnings, 1 suppressed**"),
            "{short}"
        );
        assert!(
            short.contains(
                "- warning <code>http-origin</code> (<code>p.yaml:2</code>): finding &lt;0&gt;\n"
            ),
            "{short}"
        );
        assert!(short.contains("_suppressed: ok &#124; fine_"), "{short}");

        let (sources, diags) = sample(2_000);
        let long = Findings::new(&sources, &diags);
        for budget in [500, 5_000, 20_000] {
            let text = long.markdown(budget);
            assert!(text.len() <= budget, "{budget}: {}", text.len());
            assert!(text.contains("<details><summary>Every finding</summary>"));
            assert!(text.ends_with("\n</details>\n\n"), "{text}");
            let shown = text.lines().filter(|l| l.starts_with("- ")).count();
            assert!(
                text.contains(&format!("_{} more not shown;", 2_000 - shown)),
                "{text}"
            );
        }
    }
}
