//! The CORS simulator: which rule S3 matches for a request, and the exact status, error
//! and CORS response headers it answers with, or why every rule failed.
//!
//! Follows docs/s3-cors-semantics.md ("Which rule a request matches", "What S3
//! answers"). Choices where it marks something
//! unsure, or is silent:
//! - `*` in a pattern may match the empty string (see [`super::pattern`]).
//! - A rule listing the literal `*` beside specific origins answers
//!   `Access-Control-Allow-Origin: *` (and no `Allow-Credentials`) for every origin it
//!   matches, even one that a specific entry also matches: this is what the emulators
//!   (LocalStack, and others) send, and `verify` runs against them.
//! - A preflight without `Origin` is answered 400 before the configuration is looked
//!   at, so also on a bucket without CORS.
//! - A preflight without `Access-Control-Request-Method` is matched with its own
//!   method, `OPTIONS`, which no rule can allow: 403 (on a bucket without CORS, the
//!   "not enabled" 403 first, as recorded on AWS).
//! - A bucket that does not exist ([`simulate_missing_bucket`]): a preflight with
//!   `Origin` is refused 403 `AccessForbidden` "CORSResponse: Bucket not found"
//!   (recorded on AWS), one without `Origin` 400 as always; any other request is
//!   answered 404 `NoSuchBucket` (with no body to a HEAD), without CORS headers.
//! - Requested header names are kept in request order with duplicates (S3 drops
//!   only empty names), so `Access-Control-Allow-Headers` echoes duplicates.
//! - A request other than OPTIONS is matched with whatever
//!   `Access-Control-Request-Method` and `Access-Control-Request-Headers` it carries,
//!   as S3 does (recorded on AWS); other headers it actually sends are not checked.
//!   On a match it gets no `Access-Control-Allow-Headers` (unsure on AWS, where only
//!   refusals of such requests are recorded; LocalStack sends one).
//! - `Vary` is sent only with a match, as docs/s3-cors-semantics.md lists it.
//! - A configuration with no rules is treated as no configuration.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::pattern;
use crate::model::{CorsConfig, CorsRule, Method};

/// `Access-Control-Allow-Origin`.
pub const ALLOW_ORIGIN: &str = "Access-Control-Allow-Origin";
/// `Access-Control-Allow-Credentials`.
pub const ALLOW_CREDENTIALS: &str = "Access-Control-Allow-Credentials";
/// `Access-Control-Allow-Methods`.
pub const ALLOW_METHODS: &str = "Access-Control-Allow-Methods";
/// `Access-Control-Allow-Headers`.
pub const ALLOW_HEADERS: &str = "Access-Control-Allow-Headers";
/// `Access-Control-Expose-Headers`.
pub const EXPOSE_HEADERS: &str = "Access-Control-Expose-Headers";
/// `Access-Control-Max-Age`.
pub const MAX_AGE: &str = "Access-Control-Max-Age";
/// `Vary`.
pub const VARY: &str = "Vary";
/// The `Vary` value S3 sends with every matched CORS request.
pub const VARY_VALUE: &str =
    "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// S3's error code for a refused preflight (HTTP 403).
pub const ACCESS_FORBIDDEN: &str = "AccessForbidden";
/// S3's error code for a preflight without `Origin` (HTTP 400).
pub const BAD_REQUEST: &str = "BadRequest";
/// The 403 message on a bucket without a CORS configuration.
pub const MESSAGE_NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";
/// The 403 message when no rule matches (S3's own spelling, "evalution" included).
pub const MESSAGE_NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
/// The 400 message for a preflight without `Origin`.
pub const MESSAGE_NO_ORIGIN: &str = "Insufficient information. Origin request header needed.";
/// The 403 message for a preflight to a bucket that does not exist.
pub const MESSAGE_BUCKET_NOT_FOUND: &str = "CORSResponse: Bucket not found";
/// S3's error code for any other request to a bucket that does not exist (HTTP 404).
pub const NO_SUCH_BUCKET: &str = "NoSuchBucket";
/// The 404 message for a bucket that does not exist, as S3 sends it (no final stop).
pub const MESSAGE_NO_SUCH_BUCKET: &str = "The specified bucket does not exist";

/// The CORS-relevant parts of one HTTP request to a bucket or object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Request {
    /// The `Origin` header, if sent.
    pub origin: Option<String>,
    /// The request's own HTTP method (`OPTIONS` for a preflight, `GET`, `PUT`, ...).
    pub method: String,
    /// The `Access-Control-Request-Method` header, if sent.
    pub access_control_request_method: Option<String>,
    /// The `Access-Control-Request-Headers` values as sent: each may be a comma-separated
    /// list (see [`Request::requested_headers`]).
    pub access_control_request_headers: Vec<String>,
}

impl Request {
    /// A browser preflight: `OPTIONS` with `Origin`, `Access-Control-Request-Method` and
    /// `Access-Control-Request-Headers`.
    pub fn preflight(origin: &str, request_method: &str, request_headers: &[&str]) -> Request {
        Request {
            origin: Some(origin.to_string()),
            method: "OPTIONS".to_string(),
            access_control_request_method: Some(request_method.to_string()),
            access_control_request_headers: request_headers.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// An actual (non-preflight) request with the given method and optional `Origin`,
    /// carrying no `Access-Control-Request-*` header (as browsers send it).
    pub fn actual(origin: Option<&str>, method: &str) -> Request {
        Request {
            origin: origin.map(str::to_string),
            method: method.to_string(),
            access_control_request_method: None,
            access_control_request_headers: Vec::new(),
        }
    }

    /// A preflight is an `OPTIONS` request (HTTP methods are case-sensitive).
    pub fn is_preflight(&self) -> bool {
        self.method == "OPTIONS"
    }

    /// The method rules are matched against: `Access-Control-Request-Method` if present,
    /// else the request's own method. On every request, not only preflights: S3 reads
    /// the header on a GET too (recorded on AWS).
    pub fn effective_method(&self) -> &str {
        self.access_control_request_method
            .as_deref()
            .unwrap_or(&self.method)
    }

    /// The requested header names as S3 reads them: every value comma-split, each name
    /// trimmed and ASCII lower-cased, empties dropped; order and duplicates kept. S3
    /// checks them on every request, not only preflights (recorded on AWS).
    pub fn requested_headers(&self) -> Vec<String> {
        self.access_control_request_headers
            .iter()
            .flat_map(|value| value.split(','))
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect()
    }
}

/// What S3 made of the request, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A non-preflight request without `Origin`: CORS does not apply.
    NotCors,
    /// A preflight without `Origin`: 400.
    MissingOrigin,
    /// The bucket has no CORS configuration (preflight: 403).
    CorsNotEnabled,
    /// A rule matched: CORS headers are sent (preflight: 200).
    Matched,
    /// No rule matched (preflight: 403; other requests: no CORS headers).
    NotAllowed,
    /// The bucket does not exist (preflight with `Origin`: 403 "Bucket not found";
    /// other requests: 404 `NoSuchBucket`); no CORS headers.
    NoSuchBucket,
}

/// An S3 error response body: code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Error {
    /// The `<Code>`, e.g. `AccessForbidden`.
    pub code: String,
    /// The `<Message>`.
    pub message: String,
}

/// One response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHeader {
    /// Header name, in the capitalisation of docs/s3-cors-semantics.md.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// Why one rule did not match the request. A rule can fail for several reasons; all are
/// listed, method first, then origin, then each refused header in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mismatch {
    /// The (effective) method is not in the rule's AllowedMethods.
    MethodNotAllowed {
        /// The method as requested.
        method: String,
    },
    /// No AllowedOrigin of the rule matches the Origin.
    OriginNotAllowed {
        /// The Origin as requested.
        origin: String,
    },
    /// A requested header matches none of the rule's AllowedHeaders (or the rule has none).
    HeaderNotAllowed {
        /// The requested name, lower-cased.
        header: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::MethodNotAllowed { method } => {
                write!(f, "method {method} is not in AllowedMethods")
            }
            Mismatch::OriginNotAllowed { origin } => {
                write!(f, "origin \"{origin}\" matches no AllowedOrigins")
            }
            Mismatch::HeaderNotAllowed { header } => {
                write!(f, "header \"{header}\" matches no AllowedHeaders")
            }
        }
    }
}

/// A rule that was tried and did not match, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRejection {
    /// Index of the rule in the configuration (0-based).
    pub rule: usize,
    /// The rule's ID, if it has one.
    pub id: Option<String>,
    /// Why it failed (never empty).
    pub reasons: Vec<Mismatch>,
}

/// Everything S3 would do with the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The short answer.
    pub verdict: Verdict,
    /// Whether the request was a preflight (`OPTIONS`).
    pub preflight: bool,
    /// The method rules were matched against (see [`Request::effective_method`]).
    pub method: String,
    /// The requested header names as matched (see [`Request::requested_headers`]).
    pub requested_headers: Vec<String>,
    /// Index of the matching rule: the first that matches, in document order.
    pub matched: Option<usize>,
    /// Index, within the matching rule's AllowedOrigins, of the first entry that matched.
    pub matched_origin: Option<usize>,
    /// HTTP status of a preflight: 200, 403 or 400; 404 for another request to a
    /// bucket that does not exist. `None` for other requests, whose status is
    /// whatever the operation itself answers.
    pub status: Option<u16>,
    /// The error body of a 403 or 400 preflight, or of a 404 (`None` for a HEAD,
    /// whose answer has no body).
    pub error: Option<S3Error>,
    /// The CORS response headers S3 sends, in order (empty when none).
    pub headers: Vec<ResponseHeader>,
    /// The rules tried before the match, or all rules when none matched, with reasons.
    pub rejected: Vec<RuleRejection>,
}

impl Outcome {
    /// The value of response header `name` (ASCII case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// Checks one rule against a request's origin, method and requested headers: the index of
/// the first AllowedOrigin that matches when the whole rule matches, else every reason.
pub fn match_rule(
    rule: &CorsRule,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Result<usize, Vec<Mismatch>> {
    let mut reasons = Vec::new();
    let method_ok = method
        .parse::<Method>()
        .is_ok_and(|m| rule.allowed_methods.contains(&m));
    if !method_ok {
        reasons.push(Mismatch::MethodNotAllowed {
            method: method.to_string(),
        });
    }
    let origin_index = rule
        .allowed_origins
        .iter()
        .position(|pattern| pattern::origin_matches(pattern, origin));
    if origin_index.is_none() {
        reasons.push(Mismatch::OriginNotAllowed {
            origin: origin.to_string(),
        });
    }
    for (k, header) in headers.iter().enumerate() {
        let allowed = rule
            .allowed_headers
            .iter()
            .any(|pattern| pattern::header_matches(pattern, header));
        if !allowed && !headers[..k].contains(header) {
            reasons.push(Mismatch::HeaderNotAllowed {
                header: header.clone(),
            });
        }
    }
    match origin_index {
        Some(index) if reasons.is_empty() => Ok(index),
        _ => Err(reasons),
    }
}

/// Simulates S3's CORS handling of `request` on a bucket whose configuration is `config`
/// (`None`: no CORS configuration).
pub fn simulate(config: Option<&CorsConfig>, request: &Request) -> Outcome {
    let mut outcome = unanswered(request);
    let preflight = outcome.preflight;

    let Some(origin) = request.origin.as_deref() else {
        if preflight {
            outcome.verdict = Verdict::MissingOrigin;
            outcome.status = Some(400);
            outcome.error = Some(error(BAD_REQUEST, MESSAGE_NO_ORIGIN));
        }
        return outcome;
    };

    let rules = match config {
        Some(config) if !config.cors_rules.is_empty() => &config.cors_rules,
        _ => {
            outcome.verdict = Verdict::CorsNotEnabled;
            if preflight {
                outcome.status = Some(403);
                outcome.error = Some(error(ACCESS_FORBIDDEN, MESSAGE_NOT_ENABLED));
            }
            return outcome;
        }
    };

    for (index, rule) in rules.iter().enumerate() {
        match match_rule(rule, origin, &outcome.method, &outcome.requested_headers) {
            Ok(origin_index) => {
                outcome.verdict = Verdict::Matched;
                outcome.matched = Some(index);
                outcome.matched_origin = Some(origin_index);
                outcome.status = preflight.then_some(200);
                outcome.headers =
                    response_headers(rule, origin, preflight, &outcome.requested_headers);
                return outcome;
            }
            Err(reasons) => outcome.rejected.push(RuleRejection {
                rule: index,
                id: rule.id.clone(),
                reasons,
            }),
        }
    }

    outcome.verdict = Verdict::NotAllowed;
    if preflight {
        outcome.status = Some(403);
        outcome.error = Some(error(ACCESS_FORBIDDEN, MESSAGE_NOT_ALLOWED));
    }
    outcome
}

/// Simulates S3's answer to `request` for a bucket that does not exist: a preflight
/// without `Origin` is 400 as on any bucket; one with `Origin` 403 `AccessForbidden`
/// "CORSResponse: Bucket not found", whatever `Access-Control-Request-Method` it
/// carries; any other request, with or without `Origin`, 404 `NoSuchBucket` (a HEAD's
/// answer has no body, so no error). No CORS headers, no rules tried.
pub fn simulate_missing_bucket(request: &Request) -> Outcome {
    let mut outcome = unanswered(request);
    outcome.verdict = Verdict::NoSuchBucket;
    match (outcome.preflight, request.origin.is_some()) {
        (true, false) => {
            outcome.verdict = Verdict::MissingOrigin;
            outcome.status = Some(400);
            outcome.error = Some(error(BAD_REQUEST, MESSAGE_NO_ORIGIN));
        }
        (true, true) => {
            outcome.status = Some(403);
            outcome.error = Some(error(ACCESS_FORBIDDEN, MESSAGE_BUCKET_NOT_FOUND));
        }
        (false, _) => {
            outcome.status = Some(404);
            outcome.error =
                (request.method != "HEAD").then(|| error(NO_SUCH_BUCKET, MESSAGE_NO_SUCH_BUCKET));
        }
    }
    outcome
}

/// The outcome of `request` before S3 decides anything: no CORS, no status.
fn unanswered(request: &Request) -> Outcome {
    Outcome {
        verdict: Verdict::NotCors,
        preflight: request.is_preflight(),
        method: request.effective_method().to_string(),
        requested_headers: request.requested_headers(),
        matched: None,
        matched_origin: None,
        status: None,
        error: None,
        headers: Vec::new(),
        rejected: Vec::new(),
    }
}

/// The CORS headers S3 sends when `rule` matched, in the order
/// docs/s3-cors-semantics.md lists them.
fn response_headers(
    rule: &CorsRule,
    origin: &str,
    preflight: bool,
    requested: &[String],
) -> Vec<ResponseHeader> {
    let mut headers = Vec::new();
    let mut push = |name: &str, value: String| {
        headers.push(ResponseHeader {
            name: name.to_string(),
            value,
        })
    };
    let wildcard = rule.allowed_origins.iter().any(|o| o == "*");
    let allow_origin = if wildcard { "*" } else { origin };
    push(ALLOW_ORIGIN, allow_origin.to_string());
    if allow_origin != "*" {
        push(ALLOW_CREDENTIALS, "true".to_string());
    }
    let methods: Vec<&str> = rule.allowed_methods.iter().map(|m| m.as_str()).collect();
    push(ALLOW_METHODS, methods.join(", "));
    if preflight && !requested.is_empty() {
        push(ALLOW_HEADERS, requested.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        push(EXPOSE_HEADERS, rule.expose_headers.join(", "));
    }
    if let Some(max_age) = rule.max_age_seconds {
        push(MAX_AGE, max_age.to_string());
    }
    push(VARY, VARY_VALUE.to_string());
    headers
}

fn error(code: &str, message: &str) -> S3Error {
    S3Error {
        code: code.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests;
