//! `verify`'s report: the versioned JSON document (docs/verify.md) and its human and
//! markdown renderings. Built from plain results the app layer collected.

use serde::Serialize;

use super::cdn::{self, CdnProblem, Expect, Pick};
use super::{Case, Check, Judgement, Observed, Purpose, judge};
use crate::cors::simulate::{Request, ResponseHeader, Verdict};
use crate::style::{DIM, GREEN, RED, paint};
use crate::text::{markdown_fence, markdown_safe, terminal_safe};

/// The version of the JSON document; bumped on any incompatible change.
pub const VERSION: u32 = 1;

/// The request headers a case sends: `Origin`, `Access-Control-Request-Method` and
/// `Access-Control-Request-Headers` as present.
pub fn request_headers(request: &Request) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(origin) = &request.origin {
        headers.push(("Origin".to_string(), origin.clone()));
    }
    if let Some(method) = &request.access_control_request_method {
        headers.push(("Access-Control-Request-Method".to_string(), method.clone()));
    }
    let requested = request.requested_headers();
    if !requested.is_empty() {
        headers.push((
            "Access-Control-Request-Headers".to_string(),
            requested.join(", "),
        ));
    }
    headers
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<ResponseHeader>,
}

/// What the simulator predicted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    pub verdict: Verdict,
    /// 0-based index of the rule expected to match.
    pub rule: Option<usize>,
    /// `null` for actual requests (their status is the object's).
    pub status: Option<u16>,
    pub headers: Vec<ResponseHeader>,
}

/// What came back: the status and the CORS-related headers only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actual {
    pub status: u16,
    /// Access-Control-* and Vary headers, as received.
    pub headers: Vec<ResponseHeader>,
    pub error_code: Option<String>,
}

impl Actual {
    pub fn of(observed: &Observed) -> Actual {
        Actual {
            status: observed.status,
            headers: observed
                .headers
                .iter()
                .filter(|(n, _)| {
                    let n = n.to_ascii_lowercase();
                    n.starts_with("access-control-") || n == "vary"
                })
                .map(|(n, v)| ResponseHeader {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect(),
            error_code: observed.error_code.clone(),
        }
    }
}

/// The browser's verdict on an answer: whether `fetch()` resolves, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowserSide {
    pub allowed: bool,
    pub reason: String,
}

impl BrowserSide {
    fn of(verdict: Result<(), String>) -> BrowserSide {
        match verdict {
            Ok(()) => BrowserSide {
                allowed: true,
                reason: "passes the CORS check".to_string(),
            },
            Err(reason) => BrowserSide {
                allowed: false,
                reason,
            },
        }
    }

    fn word(&self) -> String {
        if self.allowed {
            "allowed".to_string()
        } else {
            format!("blocked ({})", self.reason)
        }
    }
}

/// A credentialed case's browser verdicts, predicted and on the actual answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowserResult {
    /// The request was made with credentials.
    pub credentials: bool,
    /// On the answer the simulator predicts.
    pub expected: BrowserSide,
    /// On the answer S3 gave (`null` without one).
    pub actual: Option<BrowserSide>,
}

/// One case, sent and judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub purpose: Purpose,
    pub pass: bool,
    pub request: SentRequest,
    pub expected: Expected,
    /// `null` when no response came (see `error`).
    pub actual: Option<Actual>,
    /// Why no response came: connection refused, timeout.
    pub error: Option<String>,
    /// The compared items that differ (empty on a pass).
    pub differences: Vec<Check>,
    /// For a credentialed case, what the browser does with the answer; `null`
    /// otherwise.
    pub browser: Option<BrowserResult>,
}

impl CaseResult {
    /// Judges `case` sent to `url`, given the response or why there was none.
    pub fn new(case: &Case, url: &str, response: Result<&Observed, String>) -> CaseResult {
        let browser = case.credentials.then(|| BrowserResult {
            credentials: true,
            expected: BrowserSide::of(case.expected_browser_verdict()),
            actual: response
                .as_ref()
                .ok()
                .map(|o| BrowserSide::of(case.browser_verdict(o.status, *o))),
        });
        let (actual, error, mut judgement) = match response {
            Ok(observed) => (
                Some(Actual::of(observed)),
                None,
                judge(&case.expected, observed),
            ),
            Err(why) => (
                None,
                Some(why),
                Judgement {
                    pass: false,
                    checks: Vec::new(),
                },
            ),
        };
        // The browser must decide on S3's answer as on the predicted one.
        if let Some(BrowserResult {
            expected,
            actual: Some(actual),
            ..
        }) = &browser
            && expected.allowed != actual.allowed
        {
            judgement.pass = false;
            judgement.checks.push(Check {
                field: "browser (with credentials)".to_string(),
                expected: Some(expected.word()),
                actual: Some(actual.word()),
                ok: false,
            });
        }
        CaseResult {
            name: case.name.clone(),
            purpose: case.purpose.clone(),
            pass: judgement.pass,
            request: SentRequest {
                method: case.request.method.clone(),
                url: url.to_string(),
                headers: request_headers(&case.request)
                    .into_iter()
                    .map(|(name, value)| ResponseHeader { name, value })
                    .collect(),
            },
            expected: Expected {
                verdict: case.expected.verdict,
                rule: case.expected.matched,
                status: case.expected.status,
                headers: case.expected.headers.clone(),
            },
            actual,
            error,
            differences: judgement.differences().cloned().collect(),
            browser,
        }
    }

    /// What a platform engineer should know from a credentialed case that is
    /// blocked as predicted (not a failure: S3 does what the rule says).
    fn note(&self) -> Option<String> {
        let Purpose::Credentialed { rule, origin } = &self.purpose else {
            return None;
        };
        let browser = self.browser.as_ref()?;
        if browser.expected.allowed {
            return None;
        }
        let why = &browser.expected.reason;
        Some(if why.contains("is *") {
            format!(
                "rule {} cannot serve credentialed requests (cookies, fetch's credentials: 'include'): S3 answers Access-Control-Allow-Origin: * without Access-Control-Allow-Credentials, which browsers refuse; pages that send credentials need their origins listed instead of `*`",
                rule + 1
            )
        } else {
            format!(
                "credentialed requests from {origin} (rule {}) are blocked by browsers: {why}",
                rule + 1
            )
        })
    }
}

/// One bucket's cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketResult {
    pub bucket: String,
    /// The policy entry that manages it, `file:line`.
    pub source: String,
    /// The account the bucket is in, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub pass: bool,
    pub cases: Vec<CaseResult>,
    /// What the failures suggest (drift, or S3 differs from the simulator).
    pub hint: Option<String>,
    /// Information that is not a failure: rules that cannot serve credentialed
    /// requests.
    pub notes: Vec<String>,
}

impl BucketResult {
    pub fn new(
        bucket: String,
        source: String,
        cases: Vec<CaseResult>,
        hint: Option<String>,
    ) -> Self {
        let mut notes: Vec<String> = Vec::new();
        for note in cases.iter().filter_map(CaseResult::note) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        BucketResult {
            notes,
            pass: cases.iter().all(|c| c.pass),
            bucket,
            source,
            account: None,
            cases,
            hint,
        }
    }

    /// The same result, recorded as in `account`.
    pub fn in_account(mut self, account: Option<String>) -> Self {
        self.account = account;
        self
    }
}

/// A bucket that could not be verified at all (unresolved, region unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketProblem {
    pub bucket: String,
    pub message: String,
}

/// `verify --url`: a URL in front of S3, fetched without `Origin`, then from origin A,
/// then from origin B (docs/verify.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlCheck {
    pub url: String,
    /// Origin A, sent with the second request.
    pub origin: String,
    pub pass: bool,
    /// The three requests in the order sent, each with its answer.
    pub requests: Vec<UrlRequest>,
    /// The answer to the first request (as in `requests`).
    pub without_origin: Option<Actual>,
    /// The answer to the second request, from A (as in `requests`).
    pub with_origin: Option<Actual>,
    pub problems: Vec<UrlProblem>,
    /// Why a request got no response (nothing is judged then).
    pub error: Option<String>,
}

/// One request of the URL check and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlRequest {
    /// `GET without Origin`, `GET from ORIGIN`.
    pub name: String,
    /// `null` for the request without Origin.
    pub origin: Option<String>,
    /// What the policy says of this Origin; `null` without Origin.
    pub expect: Option<Expect>,
    pub actual: Option<Actual>,
    /// The answer's `Age`, `X-Cache` and `CF-Cache-Status` headers, names lower-cased.
    pub cache: Vec<ResponseHeader>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlProblem {
    pub code: CdnProblem,
    /// The request it is about (0-based, into `requests`).
    pub request: usize,
    pub message: String,
    /// What the answers show (cache headers, whose answer was served).
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: String,
}

impl UrlProblem {
    /// The problem's code as written in reports, e.g. `missing-cors-headers`.
    pub fn code_str(&self) -> String {
        serde_plain(self.code)
    }
}

impl UrlCheck {
    /// The check of `url` from the three answers (or why none came), in the order
    /// sent: without Origin, from `picks[0]`, from `picks[1]`.
    pub fn new(url: &str, picks: &[Pick; 2], answers: [Result<&Observed, String>; 3]) -> UrlCheck {
        let requests: Vec<UrlRequest> = answers
            .iter()
            .enumerate()
            .map(|(i, answer)| {
                let pick = i.checked_sub(1).map(|k| &picks[k]);
                UrlRequest {
                    name: cdn::request_name(i, picks),
                    origin: pick.map(|p| p.origin.clone()),
                    expect: pick.map(|p| p.expect),
                    actual: answer.as_ref().ok().map(|o| Actual::of(o)),
                    cache: answer
                        .as_ref()
                        .map(|o| {
                            cdn::cache_headers(o)
                                .into_iter()
                                .map(|(name, value)| ResponseHeader { name, value })
                                .collect()
                        })
                        .unwrap_or_default(),
                    error: answer.as_ref().err().cloned(),
                }
            })
            .collect();
        let error = requests.iter().find_map(|r| r.error.clone());
        let problems: Vec<UrlProblem> = match &answers {
            [Ok(none), Ok(a), Ok(b)] => cdn::judge(picks, [none, a, b])
                .into_iter()
                .map(|f| UrlProblem {
                    code: f.code,
                    request: f.request,
                    message: f.message,
                    evidence: f.evidence,
                    fix: f.code.fix().to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        UrlCheck {
            url: url.to_string(),
            origin: picks[0].origin.clone(),
            pass: problems.is_empty() && error.is_none(),
            without_origin: requests[0].actual.clone(),
            with_origin: requests[1].actual.clone(),
            requests,
            problems,
            error,
        }
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub buckets: usize,
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    /// Buckets that could not be verified.
    pub problems: usize,
}

/// The whole report (JSON: docs/verify.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub version: u32,
    pub pass: bool,
    pub summary: Summary,
    pub buckets: Vec<BucketResult>,
    pub problems: Vec<BucketProblem>,
    pub url_check: Option<UrlCheck>,
}

impl VerifyReport {
    pub fn new(
        buckets: Vec<BucketResult>,
        problems: Vec<BucketProblem>,
        url_check: Option<UrlCheck>,
    ) -> VerifyReport {
        let cases = buckets.iter().map(|b| b.cases.len()).sum();
        let passed = buckets
            .iter()
            .flat_map(|b| &b.cases)
            .filter(|c| c.pass)
            .count();
        let summary = Summary {
            buckets: buckets.len(),
            cases,
            passed,
            failed: cases - passed,
            problems: problems.len(),
        };
        VerifyReport {
            version: VERSION,
            pass: summary.failed == 0
                && problems.is_empty()
                && url_check.as_ref().is_none_or(|u| u.pass),
            summary,
            buckets,
            problems,
            url_check,
        }
    }
}

fn quoted(v: &Option<String>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "none".to_string(),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The lines that explain a failed case (indented by `indent`).
fn failure_lines(c: &CaseResult, indent: &str) -> String {
    let mut out = format!(
        "{indent}{} {}\n",
        terminal_safe(&c.request.method),
        terminal_safe(&c.request.url)
    );
    if let Some(e) = &c.error {
        out.push_str(&format!("{indent}error: {}\n", terminal_safe(e)));
    }
    for d in &c.differences {
        out.push_str(&format!(
            "{indent}{}: expected {}, got {}\n",
            d.field,
            quoted(&d.expected),
            quoted(&d.actual)
        ));
    }
    out
}

/// The most failed cases listed per bucket in human output (without `-v`).
const HUMAN_MAX_FAILURES: usize = 5;

/// The report for a person: one line per bucket, the failing cases with expected
/// and actual values (at most [`HUMAN_MAX_FAILURES`] per bucket), every case when `all_cases`, then a summary line.
pub fn human(report: &VerifyReport, color: bool, all_cases: bool) -> String {
    let mut out = String::new();
    for b in &report.buckets {
        let failed = b.cases.iter().filter(|c| !c.pass).count();
        if b.pass {
            out.push_str(&format!(
                "{} {} ({}): {} as predicted\n",
                paint(color, GREEN, "PASS"),
                terminal_safe(&b.bucket),
                terminal_safe(&b.source),
                plural(b.cases.len(), "case")
            ));
        } else {
            out.push_str(&format!(
                "{} {} ({}): {} of {} differ\n",
                paint(color, RED, "FAIL"),
                terminal_safe(&b.bucket),
                terminal_safe(&b.source),
                failed,
                plural(b.cases.len(), "case")
            ));
        }
        let mut shown = 0;
        for c in &b.cases {
            if c.pass && all_cases {
                out.push_str(&format!(
                    "  {} {}\n",
                    paint(color, GREEN, "pass"),
                    terminal_safe(&c.name)
                ));
            } else if !c.pass && (all_cases || shown < HUMAN_MAX_FAILURES) {
                shown += 1;
                out.push_str(&format!(
                    "  {} {}\n",
                    paint(color, RED, "fail"),
                    terminal_safe(&c.name)
                ));
                out.push_str(&failure_lines(c, "       "));
            }
        }
        if failed > shown {
            out.push_str(&format!(
                "  ... and {} more failed cases (-v lists every case, --format json gives all details)\n",
                failed - shown
            ));
        }
        if let Some(hint) = &b.hint {
            out.push_str(&format!(
                "  {} {}\n",
                paint(color, DIM, "hint:"),
                terminal_safe(hint)
            ));
        }
        for note in &b.notes {
            out.push_str(&format!(
                "  {} {}\n",
                paint(color, DIM, "note:"),
                terminal_safe(note)
            ));
        }
    }
    for p in &report.problems {
        out.push_str(&format!(
            "{} {}: {}\n",
            paint(color, RED, "ERROR"),
            terminal_safe(&p.bucket),
            terminal_safe(&p.message)
        ));
    }
    if let Some(u) = &report.url_check {
        out.push_str(&url_human(u, color));
    }
    out.push_str(&summary_line(report));
    out.push_str(&per_account(report));
    out
}

/// `by account: 111111111111 3 of 3 buckets passed, ...` when the buckets span
/// two accounts or more; empty otherwise.
fn per_account(report: &VerifyReport) -> String {
    let mut counts: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for b in &report.buckets {
        let c = counts
            .entry(b.account.as_deref().unwrap_or("(caller's account)"))
            .or_default();
        c.0 += 1;
        c.1 += usize::from(b.pass);
    }
    if counts.len() < 2 {
        return String::new();
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(account, (all, passed))| {
            format!("{account} {passed} of {} passed", plural(*all, "bucket"))
        })
        .collect();
    format!("by account: {}.\n", parts.join(", "))
}

fn url_human(u: &UrlCheck, color: bool) -> String {
    let word = if u.pass {
        paint(color, GREEN, "PASS")
    } else {
        paint(color, RED, "FAIL")
    };
    let sent: Vec<String> = u
        .requests
        .iter()
        .map(|r| match (&r.origin, r.expect) {
            (Some(o), Some(e)) => format!("from {} ({})", terminal_safe(o), serde_plain(e)),
            _ => "without Origin".to_string(),
        })
        .collect();
    let mut out = format!(
        "{word} {}: GET {}\n",
        terminal_safe(&u.url),
        sent.join(", then ")
    );
    if let Some(e) = &u.error {
        out.push_str(&format!("  error: {}\n", terminal_safe(e)));
    }
    for r in &u.requests {
        let Some(a) = &r.actual else { continue };
        let headers: Vec<String> = a
            .headers
            .iter()
            .chain(&r.cache)
            .map(|h| format!("{}: {}", terminal_safe(&h.name), terminal_safe(&h.value)))
            .collect();
        let shown = if a.headers.is_empty() {
            std::iter::once("no CORS or Vary headers".to_string())
                .chain(headers)
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            headers.join("; ")
        };
        out.push_str(&format!(
            "  {}: {}, {shown}\n",
            terminal_safe(&r.name),
            a.status
        ));
    }
    let mut fixes: Vec<&str> = Vec::new();
    for p in &u.problems {
        out.push_str(&format!(
            "  {} {}: {}\n",
            paint(color, RED, "problem"),
            serde_plain(p.code),
            terminal_safe(&p.message)
        ));
        for e in &p.evidence {
            out.push_str(&format!(
                "    {} {}\n",
                paint(color, DIM, "evidence:"),
                terminal_safe(e)
            ));
        }
        if !fixes.contains(&p.fix.as_str()) {
            fixes.push(&p.fix);
        }
    }
    for fix in fixes {
        out.push_str(&format!("  {} {}\n", paint(color, DIM, "fix:"), fix));
    }
    out
}

fn serde_plain(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn summary_line(r: &VerifyReport) -> String {
    let s = &r.summary;
    if s.buckets == 0
        && s.problems == 0
        && let Some(u) = &r.url_check
    {
        return format!(
            "\nverify: URL check {}.\n",
            if u.pass { "passed" } else { "failed" }
        );
    }
    let mut line = format!(
        "\nverify: {}, {}: {} passed, {} failed",
        plural(s.buckets, "bucket"),
        plural(s.cases, "case"),
        s.passed,
        s.failed
    );
    if s.problems > 0 {
        line.push_str(&format!(", {} not verified", plural(s.problems, "bucket")));
    }
    if let Some(u) = &r.url_check {
        line.push_str(if u.pass {
            "; URL check passed"
        } else {
            "; URL check failed"
        });
    }
    line.push_str(".\n");
    line
}

/// The longest list of failed cases a markdown report shows (pull-request comments
/// have a size limit).
const MARKDOWN_MAX_FAILURES: usize = 200;

/// The report for a pull-request comment: summary, a table of buckets, failures folded.
pub fn markdown(report: &VerifyReport) -> String {
    let s = &report.summary;
    let mut out = format!(
        "### `s3cors verify`: {}\n\n{}, {}: {} passed, {} failed{}.\n\n",
        if report.pass { "passed" } else { "failed" },
        plural(s.buckets, "bucket"),
        plural(s.cases, "case"),
        s.passed,
        s.failed,
        if s.problems > 0 {
            format!(", {} not verified", plural(s.problems, "bucket"))
        } else {
            String::new()
        }
    );
    let accounts = per_account(report);
    if !accounts.is_empty() {
        out.push_str(&markdown_safe(&accounts));
        out.push('\n');
    }
    if !report.buckets.is_empty() {
        out.push_str(
            "| Bucket | Result | Cases | Failed | Policy |\n| --- | --- | --- | --- | --- |\n",
        );
        for b in &report.buckets {
            let failed = b.cases.iter().filter(|c| !c.pass).count();
            out.push_str(&format!(
                "| <code>{}</code> | {} | {} | {} | <code>{}</code> |\n",
                markdown_safe(&b.bucket),
                if b.pass { "pass" } else { "**fail**" },
                b.cases.len(),
                failed,
                markdown_safe(&b.source)
            ));
        }
    }
    for b in &report.buckets {
        for note in &b.notes {
            out.push_str(&format!(
                "\n- note, <code>{}</code>: {}\n",
                markdown_safe(&b.bucket),
                markdown_safe(note)
            ));
        }
    }
    for p in &report.problems {
        out.push_str(&format!(
            "\n- **not verified** <code>{}</code>: {}\n",
            markdown_safe(&p.bucket),
            markdown_safe(&p.message)
        ));
    }
    let failures: Vec<(&BucketResult, &CaseResult)> = report
        .buckets
        .iter()
        .flat_map(|b| b.cases.iter().filter(|c| !c.pass).map(move |c| (b, c)))
        .collect();
    if !failures.is_empty() {
        out.push_str("\n<details><summary>Failed cases</summary>\n\n");
        for (b, c) in failures.iter().take(MARKDOWN_MAX_FAILURES) {
            out.push_str(&format!(
                "- <code>{}</code>: {}\n",
                markdown_safe(&b.bucket),
                markdown_safe(&c.name)
            ));
            let body = failure_lines(c, "  ");
            let fence = markdown_fence(&body);
            out.push_str(&format!("  {fence}\n{body}  {fence}\n"));
        }
        if failures.len() > MARKDOWN_MAX_FAILURES {
            out.push_str(&format!(
                "\n{} more failed cases left out.\n",
                failures.len() - MARKDOWN_MAX_FAILURES
            ));
        }
        out.push_str("\n</details>\n");
    }
    if let Some(u) = &report.url_check {
        let body = url_human(u, false);
        let fence = markdown_fence(&body);
        out.push_str(&format!("\n{fence}\n{body}{fence}\n"));
    }
    out
}

/// The report as pretty JSON (docs/verify.md).
pub fn json(report: &VerifyReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|err| {
        format!("{{\"version\": {VERSION}, \"error\": \"cannot serialise: {err}\"}}")
    });
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cors::fixtures::observed;

    #[test]
    fn buckets_across_accounts_are_counted_per_account() {
        let config = crate::model::CorsConfig::new(vec![crate::model::CorsRule {
            allowed_methods: vec![crate::model::Method::Get],
            allowed_origins: vec!["https://a.example".into()],
            ..Default::default()
        }]);
        let bucket = |name: &str, account: &str, pass: bool| {
            // No case is a pass; a case without an answer fails.
            let cases: Vec<CaseResult> = matrix(Some(&config), false)
                .iter()
                .take(usize::from(!pass))
                .map(|c| CaseResult::new(c, "http://h/b", Err("reset".into())))
                .collect();
            BucketResult::new(name.into(), "p.yaml:3".into(), cases, None)
                .in_account(Some(account.into()))
        };
        let report = VerifyReport::new(
            vec![
                bucket("a", "111111111111", true),
                bucket("b", "111111111111", false),
                bucket("c", "222222222222", true),
            ],
            vec![],
            None,
        );
        let text = human(&report, false, false);
        assert!(
            text.ends_with(
                "by account: 111111111111 1 of 2 buckets passed, 222222222222 1 of 1 bucket passed.\n"
            ),
            "{text}"
        );
        assert!(markdown(&report).contains("by account: 111111111111 1 of 2"));
        let one = VerifyReport::new(vec![bucket("a", "111111111111", true)], vec![], None);
        assert!(!human(&one, false, false).contains("by account"));
    }
    use crate::cors::verify::{Case, matrix};
    use crate::model::{CorsConfig, CorsRule, Method};

    /// Bucket names, policy places, error messages and URLs are shown escaped in
    /// human output and inert in markdown; a failed case's fence is not closed by
    /// backticks in a value.
    #[test]
    fn hostile_values_are_inert() {
        let config = CorsConfig::new(vec![CorsRule {
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["https://a.example".into()],
            ..CorsRule::default()
        }]);
        let evil = "x\u{1b}]0;t\u{7}<b>|```";
        let results: Vec<CaseResult> = matrix(Some(&config), false)
            .iter()
            .map(|c| CaseResult::new(c, "http://h/b", Err(evil.to_owned())))
            .collect();
        let report = VerifyReport::new(
            vec![BucketResult::new(
                evil.into(),
                evil.into(),
                results,
                Some(evil.into()),
            )],
            vec![BucketProblem {
                bucket: evil.into(),
                message: evil.into(),
            }],
            None,
        );
        let text = human(&report, true, true);
        assert!(
            !text.contains("\u{1b}]") && !text.contains('\u{7}'),
            "{text:?}"
        );
        let md = markdown(&report);
        assert!(!md.contains('\u{1b}'), "{md}");
        // Raw text is fine inside the indented code fences of failed cases only.
        for line in md.lines().filter(|l| !l.starts_with("  ")) {
            assert!(!line.contains("<b>"), "{line}");
        }
        assert!(
            md.contains("````\n"),
            "a fence longer than the value's backticks: {md}"
        );
    }

    #[test]
    fn renders_a_pass_a_failure_and_a_problem() {
        let config = CorsConfig::new(vec![CorsRule {
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["https://a.example".into()],
            ..CorsRule::default()
        }]);
        let cases = matrix(Some(&config), false);
        let url = "http://127.0.0.1:1/b/s3cors-verify-probe";
        let results: Vec<CaseResult> = cases
            .iter()
            .map(|c| {
                // S3 refuses everything: the allowed case fails, the negatives pass.
                let status = if c.request.origin.is_some() { 403 } else { 400 };
                CaseResult::new(c, url, Ok(&observed(status, &[("x-amz-id-2", "z")])))
            })
            .collect();
        let good = BucketResult::new("good".into(), "p.yaml:9".into(), vec![], None);
        let bad = BucketResult::new(
            "bad".into(),
            "p.yaml:3".into(),
            results,
            Some("the live CORS configuration differs from the policy".into()),
        );
        let report = VerifyReport::new(
            vec![bad, good],
            vec![BucketProblem {
                bucket: "gone".into(),
                message: "NoSuchBucket".into(),
            }],
            None,
        );
        assert!(!report.pass);
        insta::assert_snapshot!(human(&report, false, false), @r#"
        FAIL bad (p.yaml:3): 2 of 6 cases differ
          fail preflight GET from https://a.example
               OPTIONS http://127.0.0.1:1/b/s3cors-verify-probe
               status: expected "200", got "403"
               Access-Control-Allow-Origin: expected "https://a.example", got none
               Access-Control-Allow-Credentials: expected "true", got none
               Access-Control-Allow-Methods: expected "GET", got none
               Vary: expected "Origin, Access-Control-Request-Headers, Access-Control-Request-Method", got none
          fail credentialed preflight GET from https://a.example
               OPTIONS http://127.0.0.1:1/b/s3cors-verify-probe
               status: expected "200", got "403"
               Access-Control-Allow-Origin: expected "https://a.example", got none
               Access-Control-Allow-Credentials: expected "true", got none
               Access-Control-Allow-Methods: expected "GET", got none
               Vary: expected "Origin, Access-Control-Request-Headers, Access-Control-Request-Method", got none
               browser (with credentials): expected "allowed", got "blocked (preflight: no Access-Control-Allow-Origin)"
          hint: the live CORS configuration differs from the policy
        PASS good (p.yaml:9): 0 cases as predicted
        ERROR gone: NoSuchBucket

        verify: 2 buckets, 6 cases: 4 passed, 2 failed, 1 bucket not verified.
        "#);
        let md = markdown(&report);
        assert!(
            md.contains("| <code>bad</code> | **fail** | 6 | 2 | <code>p.yaml:3</code> |"),
            "{md}"
        );
        assert!(md.contains("<summary>Failed cases</summary>"), "{md}");
        let value: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["summary"]["failed"], 2);
        let case = &value["buckets"][0]["cases"][0];
        assert_eq!(case["purpose"]["kind"], "allowed");
        assert_eq!(case["differences"][0]["field"], "status");
        assert_eq!(
            case["request"]["headers"][1]["name"],
            "Access-Control-Request-Method"
        );
        assert_eq!(case["actual"]["headers"], serde_json::json!([]));
        assert_eq!(case["browser"], serde_json::Value::Null);
        let credentialed = &value["buckets"][0]["cases"][1];
        assert_eq!(credentialed["purpose"]["kind"], "credentialed");
        assert_eq!(credentialed["browser"]["expected"]["allowed"], true);
        assert_eq!(credentialed["browser"]["actual"]["allowed"], false);
    }

    /// A `*` rule answered as S3 does: the credentialed case passes (S3 does what
    /// the rule says) and the bucket carries a note that credentials cannot be
    /// served; an exact-origin rule whose answer lacks Allow-Credentials fails on the
    /// browser's verdict alone when the simulator predicted that too.
    #[test]
    fn credentialed_cases_are_judged_by_the_browser() {
        let star = CorsConfig::new(vec![CorsRule {
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["*".into()],
            ..CorsRule::default()
        }]);
        let url = "http://h/b/k";
        // S3's answers are the simulator's own.
        let answer = |c: &Case| {
            let headers: Vec<(&str, &str)> = c
                .expected
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str()))
                .collect();
            observed(c.expected.status.unwrap_or(200), &headers)
        };
        let cases: Vec<CaseResult> = matrix(Some(&star), false)
            .iter()
            .map(|c| CaseResult::new(c, url, Ok(&answer(c))))
            .collect();
        let bucket = BucketResult::new("b".into(), "p.yaml:3".into(), cases, None);
        assert!(bucket.pass, "{bucket:?}");
        assert_eq!(bucket.notes.len(), 1, "{:?}", bucket.notes);
        assert!(
            bucket.notes[0].starts_with("rule 1 cannot serve credentialed requests"),
            "{}",
            bucket.notes[0]
        );
        let report = VerifyReport::new(vec![bucket], vec![], None);
        let text = human(&report, false, false);
        assert!(
            text.contains("PASS b (p.yaml:3)")
                && text.contains("\n  note: rule 1 cannot serve credentialed requests"),
            "{text}"
        );
        assert!(markdown(&report).contains("- note, <code>b</code>: rule 1 cannot serve"));
        let value: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
        assert_eq!(
            value["buckets"][0]["notes"].as_array().map(Vec::len),
            Some(1)
        );

        // The exact origin, answered without Allow-Credentials: the S3 comparison
        // and the browser's verdict both fail.
        let exact = CorsConfig::new(vec![CorsRule {
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["https://a.example".into()],
            ..CorsRule::default()
        }]);
        let case = matrix(Some(&exact), false)
            .into_iter()
            .find(|c| c.credentials)
            .expect("a credentialed case");
        let stripped = observed(
            200,
            &[
                ("Access-Control-Allow-Origin", "https://a.example"),
                ("Access-Control-Allow-Methods", "GET"),
            ],
        );
        let result = CaseResult::new(&case, url, Ok(&stripped));
        assert!(!result.pass);
        let browser = result
            .differences
            .iter()
            .find(|d| d.field == "browser (with credentials)")
            .expect("the browser's difference");
        assert_eq!(browser.expected.as_deref(), Some("allowed"));
        assert_eq!(
            browser.actual.as_deref(),
            Some(
                "blocked (preflight: credentialed request but no Access-Control-Allow-Credentials: true)"
            )
        );
    }

    #[test]
    fn url_check_report() {
        use crate::cors::verify::cdn::Expect;
        let picks = [
            Pick {
                origin: "https://a.example".into(),
                expect: Expect::Allowed,
            },
            Pick {
                origin: "https://s3cors-unlisted.example".into(),
                expect: Expect::Refused,
            },
        ];
        let vary = ("Vary", "Origin");
        let good = observed(
            200,
            &[("Access-Control-Allow-Origin", "https://a.example"), vary],
        );
        let plain = observed(200, &[("X-Cache", "Miss from cacheproxy")]);
        let u = UrlCheck::new("https://cdn/x", &picks, [Ok(&plain), Ok(&good), Ok(&plain)]);
        assert!(u.pass, "{u:?}");
        let cached = observed(200, &[("Age", "0"), ("X-Cache", "Hit from cacheproxy")]);
        let u = UrlCheck::new(
            "https://cdn/x",
            &picks,
            [Ok(&plain), Ok(&cached), Ok(&cached)],
        );
        assert!(!u.pass);
        let report = VerifyReport::new(vec![], vec![], Some(u));
        insta::assert_snapshot!(human(&report, false, false), @r"
        FAIL https://cdn/x: GET without Origin, then from https://a.example (allowed), then from https://s3cors-unlisted.example (refused)
          GET without Origin: 200, no CORS or Vary headers; x-cache: Miss from cacheproxy
          GET from https://a.example: 200, no CORS or Vary headers; age: 0; x-cache: Hit from cacheproxy
          GET from https://s3cors-unlisted.example: 200, no CORS or Vary headers; age: 0; x-cache: Hit from cacheproxy
          problem missing-cors-headers: GET from https://a.example, which the policy allows, got no Access-Control-Allow-Origin: a cache whose key lacks Origin served it the answer it keeps for the GET without Origin (or the CDN does not forward Origin to S3)
            evidence: served from a cache (age: 0, x-cache: Hit from cacheproxy)
            evidence: the answer to the GET without Origin, sent just before, had no Access-Control-Allow-Origin either
          fix: make Origin part of the cache key (that also forwards it to S3): on CloudFront, a cache policy whose cache key includes the Origin header (also Access-Control-Request-Headers and -Method when OPTIONS is cached); an origin request policy such as the managed CORS-S3Origin only forwards them, without keying the cache on them, and the managed CachingOptimized keys on no header; then invalidate the cached objects. Other CDNs: add Origin to the cache key

        verify: URL check failed.
        ");
        let value: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
        let check = &value["url_check"];
        assert_eq!(check["origin"], "https://a.example");
        assert_eq!(check["requests"][1]["expect"], "allowed");
        assert_eq!(check["requests"][2]["expect"], "refused");
        assert_eq!(check["requests"][0]["origin"], serde_json::Value::Null);
        assert_eq!(
            check["requests"][1]["cache"],
            serde_json::json!([{"name": "age", "value": "0"}, {"name": "x-cache", "value": "Hit from cacheproxy"}])
        );
        assert_eq!(check["with_origin"], check["requests"][1]["actual"]);
        assert_eq!(check["problems"][0]["code"], "missing-cors-headers");
        assert_eq!(check["problems"][0]["request"], 1);
        assert!(
            check["problems"][0]["fix"]
                .as_str()
                .unwrap()
                .contains("CORS-S3Origin")
        );
        let u = UrlCheck::new(
            "http://127.0.0.1:9/x",
            &picks,
            [
                Err("cannot reach http://127.0.0.1:9/x: connection refused".into()),
                Err("cannot reach http://127.0.0.1:9/x: connection refused".into()),
                Err("cannot reach http://127.0.0.1:9/x: connection refused".into()),
            ],
        );
        assert!(!u.pass && u.problems.is_empty());
        assert!(url_human(&u, false).contains("error: cannot reach http://127.0.0.1:9/x"));
    }
}
