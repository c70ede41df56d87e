//! What `verify` checks, as pure functions: the test matrix derived from a bucket's
//! desired rules, the judgement of an observed HTTP response against the simulator's
//! prediction, and (in [`cdn`]) the CDN check of `verify --url`.
//!
//! The matrix, per rule in order: each AllowedOrigin (a wildcard instantiated with a
//! concrete sample, see [`sample_origin`]) × each AllowedMethod, as a preflight without
//! requested headers and, when the rule has AllowedHeaders, one asking for all of them
//! (wildcards instantiated by [`sample_header`]); with a probe object, also a `GET` and a
//! `HEAD` with each sample Origin, and one credentialed request (see
//! [`Purpose::Credentialed`]). Then the negative cases: an origin no rule allows, a
//! method no rule allows, a header no rule allows (each only when one exists; with a
//! probe object, the method and header cases are also sent as a `GET` carrying the
//! same `Access-Control-Request-*` headers, which S3 refuses as it refuses the
//! preflight), and a preflight without `Origin`. Identical requests are sent once.
//! Every case's expected response is [`simulate::simulate`]'s, so a case tests S3
//! against the simulator on the configuration the policy declares: a failure means
//! the live bucket does not behave as the policy says (drift), or S3 differs from
//! the simulator.
//!
//! No I/O here: the app layer sends the requests and hands back [`Observed`] values.

pub mod cdn;
pub mod report;

use std::collections::HashSet;

use serde::Serialize;

use super::browser;
use super::pattern;
use super::simulate::{self, Outcome, Request, Verdict};
use crate::model::{CorsConfig, Method};

/// The sample that stands for the `*` of an AllowedOrigin or AllowedHeader.
pub const SAMPLE: &str = "s3cors-verify";
/// The sample Origin for the AllowedOrigin `*`.
pub const SAMPLE_ANY_ORIGIN: &str = "https://s3cors-verify.example";
/// The sample port for a pattern whose `*` stands for a port (`https://a.com:*`).
pub const SAMPLE_PORT: &str = "8443";
/// Origins tried, in order, for the "origin no rule allows" case.
pub const UNLISTED_ORIGINS: [&str; 3] = [
    "https://s3cors-unlisted.example",
    "http://s3cors-unlisted.invalid",
    "null",
];
/// The header asked for in the "header no rule allows" case.
pub const UNLISTED_HEADER: &str = "x-s3cors-unlisted";
/// The method of the "method no rule allows" case when every S3 method is allowed.
pub const UNLISTED_METHOD_FALLBACK: &str = "PATCH";
/// The object key preflights go to when `--object` is not given: S3 answers a
/// preflight from the bucket's CORS configuration whether the object exists or not.
pub const PROBE_KEY: &str = "s3cors-verify-probe";

/// The CORS response headers `verify` compares, in the order reports list them.
pub const COMPARED_HEADERS: [&str; 7] = [
    simulate::ALLOW_ORIGIN,
    simulate::ALLOW_CREDENTIALS,
    simulate::ALLOW_METHODS,
    simulate::ALLOW_HEADERS,
    simulate::EXPOSE_HEADERS,
    simulate::MAX_AGE,
    simulate::VARY,
];

/// Why a case is in the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Purpose {
    /// A request the rule at `rule` (0-based) is written to allow, from `origin` (the
    /// AllowedOrigin pattern the sample stands for). Its expectation may still be a
    /// match of an earlier rule, or a refusal: that is what the simulator predicts.
    Allowed { rule: usize, origin: String },
    /// An Origin that no AllowedOrigin of any rule matches.
    UnlistedOrigin,
    /// A method that no rule allows.
    UnlistedMethod,
    /// A requested header that no rule allows for that origin and method.
    UnlistedHeader,
    /// A preflight without `Origin` (S3: 400).
    NoOrigin,
    /// A request to a bucket that must have no CORS configuration.
    CorsDisabled,
    /// A request made with credentials (cookies, fetch's `credentials: 'include'`)
    /// from a sample of `origin`, the rule at `rule`'s first AllowedOrigin: its
    /// answer is compared as any case's, and the browser's verdict on it (the Fetch
    /// standard's checks with credentials, `cors::browser`) must be the one
    /// predicted. A rule allowing `*` is answered `Access-Control-Allow-Origin: *`,
    /// which browsers refuse with credentials: predicted blocked, reported as a note.
    Credentialed { rule: usize, origin: String },
}

/// One request of the matrix and the response the simulator predicts for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Stable, human name of the request, e.g. `preflight PUT from
    /// https://admin.example.com with content-type` (see [`case_name`]).
    pub name: String,
    pub purpose: Purpose,
    pub request: Request,
    pub expected: Outcome,
    /// Made with credentials: the browser's verdict is checked too.
    pub credentials: bool,
}

impl Case {
    /// The browser's verdict, with this case's credentials mode, on an answer with
    /// `status` (a preflight's) and `headers`.
    pub fn browser_verdict(
        &self,
        status: u16,
        headers: &impl browser::Headers,
    ) -> Result<(), String> {
        let origin = self.request.origin.as_deref().unwrap_or_default();
        if self.request.is_preflight() {
            let method = browser::normalize_method(self.request.effective_method());
            let names = browser::unsafe_headers(&self.request.access_control_request_headers);
            browser::preflight_check(status, headers, origin, &method, &names, self.credentials)
                .map_err(|why| format!("preflight: {why}"))
        } else {
            browser::cors_check(headers, origin, self.credentials)
                .map_err(|why| format!("actual {}: {why}", self.request.method))
        }
    }

    /// The browser's verdict on the answer the simulator predicts.
    pub fn expected_browser_verdict(&self) -> Result<(), String> {
        self.browser_verdict(self.expected.status.unwrap_or(200), &self.expected)
    }
}

/// A case's name: what is sent, in words.
pub fn case_name(request: &Request) -> String {
    let mut name = if request.is_preflight() {
        match &request.access_control_request_method {
            Some(m) => format!("preflight {m}"),
            None => "preflight".to_string(),
        }
    } else {
        match &request.access_control_request_method {
            Some(m) => format!("{} asking for {m}", request.method),
            None => request.method.clone(),
        }
    };
    match &request.origin {
        Some(origin) => name.push_str(&format!(" from {origin}")),
        None => name.push_str(" without Origin"),
    }
    let headers = request.requested_headers();
    if !headers.is_empty() {
        name.push_str(&format!(" with {}", headers.join(", ")));
    }
    name
}

/// A concrete Origin the AllowedOrigin `pattern` matches: the pattern itself without
/// `*`; [`SAMPLE_ANY_ORIGIN`] for `*`; else the `*` replaced by [`SAMPLE_PORT`] when it
/// follows a `:` after the host (a port), by [`SAMPLE`] otherwise.
pub fn sample_origin(pattern: &str) -> String {
    if pattern == "*" {
        return SAMPLE_ANY_ORIGIN.to_string();
    }
    match pattern.find('*') {
        None => pattern.to_string(),
        Some(at) => {
            let (before, after) = (&pattern[..at], &pattern[at + 1..]);
            let after_host = before.rfind("://").map_or(before, |s| &before[s + 3..]);
            let fill = if before.ends_with(':') && !after_host.is_empty() {
                SAMPLE_PORT
            } else {
                SAMPLE
            };
            // Any further `*` (S3 rejects them) is dropped: the sample still matches.
            format!("{before}{fill}{}", after.replace('*', ""))
        }
    }
}

/// A concrete header name the AllowedHeader `pattern` matches, lower-cased: `*`
/// becomes `x-s3cors-verify`, another `*` becomes [`SAMPLE`].
pub fn sample_header(pattern: &str) -> String {
    let name = if pattern == "*" {
        format!("x-{SAMPLE}")
    } else {
        match pattern.find('*') {
            None => pattern.to_string(),
            Some(at) => format!(
                "{}{SAMPLE}{}",
                &pattern[..at],
                pattern[at + 1..].replace('*', "")
            ),
        }
    };
    name.to_ascii_lowercase()
}

/// The test matrix for a bucket whose desired configuration is `desired` (`None`: the
/// bucket must have no CORS). `object`: whether a probe object is given, so actual
/// `GET`/`HEAD` requests with `Origin` are included. See the module docs.
pub fn matrix(desired: Option<&CorsConfig>, object: bool) -> Vec<Case> {
    let mut out = Matrix::new(desired);
    let rules = desired.map_or(&[][..], |c| &c.cors_rules[..]);
    if rules.is_empty() {
        out.push(
            Purpose::CorsDisabled,
            Request::preflight(SAMPLE_ANY_ORIGIN, "GET", &[]),
        );
        if object {
            for method in ["GET", "HEAD"] {
                out.push(
                    Purpose::CorsDisabled,
                    Request::actual(Some(SAMPLE_ANY_ORIGIN), method),
                );
            }
        }
        out.push(Purpose::NoOrigin, no_origin_preflight("GET"));
        return out.cases;
    }

    // An empty origin or header name (S3 accepts them) matches nothing: it has no
    // sample, and no case is written for it.
    for (index, rule) in rules.iter().enumerate() {
        let headers: Vec<String> = rule
            .allowed_headers
            .iter()
            .filter(|h| !h.is_empty())
            .map(|h| sample_header(h))
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        for pattern in rule.allowed_origins.iter().filter(|p| !p.is_empty()) {
            let origin = sample_origin(pattern);
            let purpose = || Purpose::Allowed {
                rule: index,
                origin: pattern.clone(),
            };
            for method in &rule.allowed_methods {
                out.push(purpose(), Request::preflight(&origin, method.as_str(), &[]));
                if !headers.is_empty() {
                    out.push(
                        purpose(),
                        Request::preflight(&origin, method.as_str(), &headers),
                    );
                }
            }
            if object {
                for method in ["GET", "HEAD"] {
                    out.push(purpose(), Request::actual(Some(&origin), method));
                }
            }
        }
        // With credentials, from the first origin: a GET of the probe object when
        // there is one and the rule allows GET (the common credentialed request),
        // else a preflight of the rule's first method.
        if let (Some(pattern), Some(first)) = (
            rule.allowed_origins.iter().find(|p| !p.is_empty()),
            rule.allowed_methods.first(),
        ) {
            let origin = sample_origin(pattern);
            let request = if object && rule.allowed_methods.contains(&Method::Get) {
                Request::actual(Some(&origin), "GET")
            } else {
                Request::preflight(&origin, first.as_str(), &[])
            };
            out.push_credentialed(
                Purpose::Credentialed {
                    rule: index,
                    origin: pattern.clone(),
                },
                request,
            );
        }
    }

    let first_origin = rules
        .iter()
        .flat_map(|r| &r.allowed_origins)
        .find(|o| !o.is_empty())
        .map_or_else(|| SAMPLE_ANY_ORIGIN.to_string(), |o| sample_origin(o));
    let first_method = rules[0]
        .allowed_methods
        .first()
        .map_or("GET", |m| m.as_str());

    // An origin no rule allows (none exists when a rule allows `*`).
    let unlisted = UNLISTED_ORIGINS.into_iter().find(|o| {
        rules
            .iter()
            .flat_map(|r| &r.allowed_origins)
            .all(|p| !pattern::origin_matches(p, o))
    });
    if let Some(origin) = unlisted {
        out.push(
            Purpose::UnlistedOrigin,
            Request::preflight(origin, first_method, &[]),
        );
        if object {
            out.push(
                Purpose::UnlistedOrigin,
                Request::actual(Some(origin), "GET"),
            );
        }
    }

    // A method no rule allows.
    let method = Method::ALL
        .into_iter()
        .find(|m| rules.iter().all(|r| !r.allowed_methods.contains(m)))
        .map_or(UNLISTED_METHOD_FALLBACK, Method::as_str);
    out.push(
        Purpose::UnlistedMethod,
        Request::preflight(&first_origin, method, &[]),
    );
    if object {
        out.push(
            Purpose::UnlistedMethod,
            carried_by_get(Request::preflight(&first_origin, method, &[])),
        );
    }

    // A header no rule allows: the first allowed (origin, method) for which asking for
    // it is refused. None exists when every such pair reaches a rule allowing `*`.
    let header_case = rules.iter().find_map(|rule| {
        rule.allowed_origins
            .iter()
            .filter(|p| !p.is_empty())
            .find_map(|pattern| {
                let origin = sample_origin(pattern);
                rule.allowed_methods.iter().find_map(|m| {
                    let request = Request::preflight(&origin, m.as_str(), &[UNLISTED_HEADER]);
                    let refused =
                        simulate::simulate(desired, &request).verdict == Verdict::NotAllowed;
                    refused.then_some(request)
                })
            })
    });
    if let Some(request) = header_case {
        if object {
            out.push(Purpose::UnlistedHeader, request.clone());
            out.push(Purpose::UnlistedHeader, carried_by_get(request));
        } else {
            out.push(Purpose::UnlistedHeader, request);
        }
    }

    out.push(Purpose::NoOrigin, no_origin_preflight(first_method));
    out.cases
}

/// The preflight's `Origin` and `Access-Control-Request-*` headers on a `GET`: S3
/// matches a request other than OPTIONS with them too (docs/s3-cors-semantics.md).
fn carried_by_get(preflight: Request) -> Request {
    Request {
        method: "GET".to_string(),
        ..preflight
    }
}

fn no_origin_preflight(method: &str) -> Request {
    Request {
        origin: None,
        ..Request::preflight("", method, &[])
    }
}

/// Collects cases, each distinct request once, with the simulator's prediction.
struct Matrix<'c> {
    config: Option<&'c CorsConfig>,
    cases: Vec<Case>,
    seen: HashSet<RequestKey>,
}

/// A request as a hashable key, with its credentials mode.
type RequestKey = (Option<String>, String, Option<String>, Vec<String>, bool);

impl<'c> Matrix<'c> {
    fn new(config: Option<&'c CorsConfig>) -> Self {
        Matrix {
            config,
            cases: Vec::new(),
            seen: HashSet::new(),
        }
    }

    fn push(&mut self, purpose: Purpose, request: Request) {
        self.push_with(purpose, request, false);
    }

    fn push_credentialed(&mut self, purpose: Purpose, request: Request) {
        self.push_with(purpose, request, true);
    }

    fn push_with(&mut self, purpose: Purpose, request: Request, credentials: bool) {
        let key = (
            request.origin.clone(),
            request.method.clone(),
            request.access_control_request_method.clone(),
            request.requested_headers(),
            credentials,
        );
        if self.seen.insert(key) {
            let expected = simulate::simulate(self.config, &request);
            let name = if credentials {
                format!("credentialed {}", case_name(&request))
            } else {
                case_name(&request)
            };
            self.cases.push(Case {
                name,
                purpose,
                request,
                expected,
                credentials,
            });
        }
    }
}

/// An HTTP response as `verify` saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Observed {
    pub status: u16,
    /// Every response header, in arrival order, names as received.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    /// The `<Code>` of an S3 XML error body, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl browser::Headers for Observed {
    fn get(&self, name: &str) -> Option<String> {
        self.header(name)
    }
}

impl Observed {
    /// The value of header `name` (ASCII case-insensitive); several fields of the same
    /// name are joined with `, `, as HTTP allows.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The names of its `Access-Control-*` headers, lower-cased, each once.
    fn cors_header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, _) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("access-control-") && !names.contains(&lower) {
                names.push(lower);
            }
        }
        names
    }
}

/// The `<Code>` of an S3 XML error body.
pub fn error_code(body: &str) -> Option<String> {
    let start = body.find("<Code>")? + "<Code>".len();
    let len = body[start..].find("</Code>")?;
    Some(body[start..start + len].trim().to_string())
}

/// One compared item: the status or a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `status`, or the header name.
    pub field: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub ok: bool,
}

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub pass: bool,
    /// Every compared item: the status (preflights only; an actual request's status is
    /// the object's business), each of [`COMPARED_HEADERS`], and any other
    /// `Access-Control-*` header the response carried.
    pub checks: Vec<Check>,
}

impl Judgement {
    /// The items that differ.
    pub fn differences(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// Compares what S3 answered with what the simulator predicted.
///
/// Header values compare as comma-separated lists, each item trimmed (so `GET,HEAD`
/// equals `GET, HEAD`): in order and exactly for Allow-Origin, Allow-Credentials,
/// Allow-Methods and Max-Age; in order and ASCII case-insensitively for Allow-Headers
/// and Expose-Headers (header names); as a case-insensitive set for `Vary`. An absent
/// header differs from any value, the empty one included.
pub fn judge(expected: &Outcome, actual: &Observed) -> Judgement {
    let mut checks = Vec::new();
    if let Some(status) = expected.status {
        checks.push(Check {
            field: "status".to_string(),
            expected: Some(status.to_string()),
            actual: Some(actual.status.to_string()),
            ok: status == actual.status,
        });
    }
    let mut names: Vec<String> = COMPARED_HEADERS.iter().map(|n| n.to_string()).collect();
    for extra in actual.cors_header_names() {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&extra)) {
            names.push(extra);
        }
    }
    for name in names {
        let want = expected.header(&name).map(str::to_string);
        let got = actual.header(&name);
        let ok = match (&want, &got) {
            (Some(w), Some(g)) => same_value(&name, w, g),
            (None, None) => true,
            _ => false,
        };
        checks.push(Check {
            field: name,
            expected: want,
            actual: got,
            ok,
        });
    }
    Judgement {
        pass: checks.iter().all(|c| c.ok),
        checks,
    }
}

fn same_value(name: &str, a: &str, b: &str) -> bool {
    let items = |s: &str| -> Vec<String> { s.split(',').map(|i| i.trim().to_string()).collect() };
    let (a, b) = (items(a), items(b));
    let fold =
        |v: Vec<String>| -> Vec<String> { v.into_iter().map(|i| i.to_ascii_lowercase()).collect() };
    if name.eq_ignore_ascii_case(simulate::VARY) {
        let (mut a, mut b) = (fold(a), fold(b));
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    } else if name.eq_ignore_ascii_case(simulate::ALLOW_HEADERS)
        || name.eq_ignore_ascii_case(simulate::EXPOSE_HEADERS)
    {
        fold(a) == fold(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests;
