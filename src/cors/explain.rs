//! `explain`'s answer as data and text: the versioned [`Explanation`] document
//! (docs/explain.md) built from a simulation, and its human and markdown renderings.
//!
//! Rule places (`file:line`) come from the caller as plain strings ([`RuleSource`]),
//! so this stays pure: the app layer resolves spans, this module never sees files.

use serde::Serialize;

use super::browser::{self, BrowserVerdict};
use super::simulate::{self, Mismatch, Outcome, Request, ResponseHeader, S3Error, Verdict};
use crate::endpoint::Endpoint;
use crate::model::{CorsConfig, CorsRule};
use crate::style::{BOLD, DIM, GREEN, RED, paint};
use crate::text::{markdown_safe, terminal_safe};

/// The version of the JSON document; bumped on any incompatible change (2: a
/// preflight may carry no `Access-Control-Request-Method`, live rules say what the
/// read found, and a missing bucket is answered with a status on every request).
pub const VERSION: u32 = 2;

/// Where a desired rule stands in the policy files, each as `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleSource {
    /// The rule itself.
    pub rule: String,
    /// The ruleset it was spliced from, if any.
    pub ruleset: Option<String>,
    /// Its AllowedOrigins, AllowedMethods, AllowedHeaders (the rule's line when absent).
    pub origins: String,
    pub methods: String,
    pub headers: String,
}

/// Whose rules were simulated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RulesFrom {
    /// The desired rules of the policy entry at `entry` (`file:line`), which selects
    /// the bucket by `selector` (`name: b` or `match: "static-*"`).
    Policy { entry: String, selector: String },
    /// The bucket's live configuration, read from S3 at `endpoint` (shown as `aws`
    /// for AWS), and what the read found.
    Live {
        #[serde(serialize_with = "serialize_endpoint")]
        endpoint: Endpoint,
        state: LiveState,
    },
}

/// What GetBucketCors found for a `--live` explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LiveState {
    /// A configuration with rules.
    CorsConfiguration,
    /// The bucket exists without one (`NoSuchCORSConfiguration`, or no rules).
    NoCorsConfiguration,
    /// The bucket does not exist (`NoSuchBucket`): S3 answers every request for it so.
    NoSuchBucket,
}

/// How an explanation names an endpoint: its URL, or `aws`.
fn endpoint_name(endpoint: &Endpoint) -> &str {
    endpoint.url().unwrap_or("aws")
}

fn serialize_endpoint<S: serde::Serializer>(endpoint: &Endpoint, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(endpoint_name(endpoint))
}

/// The request explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestDoc {
    /// `true` for a preflight (OPTIONS), `false` for an actual request.
    pub preflight: bool,
    /// The HTTP method sent: `OPTIONS` for a preflight.
    pub http_method: String,
    pub origin: Option<String>,
    /// `Access-Control-Request-Method` as sent (`null`: none, then S3 matches
    /// `http_method`, `OPTIONS` on a preflight); when sent, S3 matches it.
    pub request_method: Option<String>,
    /// The method matched against AllowedMethods.
    pub method: String,
    /// The requested header names (`Access-Control-Request-Headers`, on a preflight or
    /// an actual request) as S3 matches them (lower-cased, in order).
    pub headers: Vec<String>,
}

/// A rule of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// 0-based position (S3 evaluates in this order).
    pub index: usize,
    /// 1-based position, as the human output says "rule 2".
    pub number: usize,
    pub id: Option<String>,
    /// `file:line` of a desired rule; `null` for live rules.
    pub location: Option<String>,
    pub ruleset: Option<String>,
}

/// The rule S3 would use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    #[serde(flatten)]
    pub rule: RuleRef,
    /// The AllowedOrigins entry that matched the Origin (first in order).
    pub origin: String,
}

/// A rule tried before the match (or every rule, on a miss) and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRule {
    #[serde(flatten)]
    pub rule: RuleRef,
    pub reasons: Vec<Reason>,
}

/// One failed part of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `method-not-allowed` (with `method`), `origin-not-allowed` (with `origin`) or
    /// `header-not-allowed` (with `header`).
    #[serde(flatten)]
    pub mismatch: Mismatch,
    /// The values of the rule's list that failed.
    pub allowed: Vec<String>,
    /// `file:line` of that list in the policy (`null` for live rules).
    pub location: Option<String>,
}

/// `explain`'s whole answer (JSON: docs/explain.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub version: u32,
    pub bucket: String,
    pub rules_from: RulesFrom,
    /// How many rules were simulated (0: no CORS configuration, or no bucket).
    pub rules: usize,
    pub request: RequestDoc,
    /// `matched`, `not-allowed`, `cors-not-enabled`, `no-such-bucket`,
    /// `missing-origin` or `not-cors`.
    pub verdict: Verdict,
    /// A preflight's HTTP status (200, 403, 400), or 404 for an actual request to a
    /// bucket that does not exist; `null` for other actual requests.
    pub status: Option<u16>,
    pub error: Option<S3Error>,
    pub matched: Option<MatchedRule>,
    /// Every CORS response header S3 would send, in order.
    pub headers: Vec<ResponseHeader>,
    pub rejected: Vec<RejectedRule>,
    /// What a browser does with this request made by `fetch()` from `origin`
    /// (`cors::browser`): `null` without an Origin.
    pub browser: Option<BrowserVerdict>,
    /// Remarks about the request or the ownership decision.
    pub notes: Vec<String>,
}

/// Simulates `request` on `config` and explains the outcome. `sources` holds the
/// places of the rules (same order) for desired rules, and is empty for live ones.
/// The browser's verdict is for a request without credentials.
pub fn explain(
    bucket: &str,
    rules_from: RulesFrom,
    config: Option<&CorsConfig>,
    sources: &[RuleSource],
    request: &Request,
    notes: Vec<String>,
) -> Explanation {
    explain_fetch(bucket, rules_from, config, sources, request, false, notes)
}

/// [`explain`], with the browser's verdict for a request made with `credentials`
/// (`fetch(url, {credentials: 'include'})`, cookies, HTTP authentication) or without.
pub fn explain_fetch(
    bucket: &str,
    rules_from: RulesFrom,
    config: Option<&CorsConfig>,
    sources: &[RuleSource],
    request: &Request,
    credentials: bool,
    mut notes: Vec<String>,
) -> Explanation {
    let outcome = match rules_from {
        RulesFrom::Live {
            state: LiveState::NoSuchBucket,
            ..
        } => simulate::simulate_missing_bucket(request),
        _ => simulate::simulate(config, request),
    };
    let rules = config.map_or(&[][..], |c| &c.cors_rules[..]);
    let rule_ref = |index: usize| RuleRef {
        index,
        number: index + 1,
        id: rules.get(index).and_then(|r| r.id.clone()),
        location: sources.get(index).map(|s| s.rule.clone()),
        ruleset: sources.get(index).and_then(|s| s.ruleset.clone()),
    };
    let matched = match (outcome.matched, outcome.matched_origin) {
        (Some(i), Some(o)) => Some(MatchedRule {
            rule: rule_ref(i),
            origin: rules[i].allowed_origins[o].clone(),
        }),
        _ => None,
    };
    let rejected = outcome
        .rejected
        .iter()
        .map(|r| RejectedRule {
            rule: rule_ref(r.rule),
            reasons: r
                .reasons
                .iter()
                .map(|m| reason(m, &rules[r.rule], sources.get(r.rule)))
                .collect(),
        })
        .collect();
    notes.extend(request_notes(request, &outcome));
    let fetch = browser_fetch(request, credentials);
    if credentials && fetch.is_none() {
        notes.push(
            "--credentials without an Origin: no cross-origin request, so no browser verdict"
                .to_string(),
        );
    }
    if fetch.is_some() {
        let mut seen = Vec::new();
        for name in request.requested_headers() {
            if !seen.contains(&name) {
                notes.extend(browser::safelist_note(&name));
                seen.push(name);
            }
        }
    }
    Explanation {
        version: VERSION,
        bucket: bucket.to_string(),
        rules_from,
        rules: rules.len(),
        request: RequestDoc {
            preflight: outcome.preflight,
            http_method: request.method.clone(),
            origin: request.origin.clone(),
            request_method: request.access_control_request_method.clone(),
            method: outcome.method.clone(),
            headers: outcome.requested_headers.clone(),
        },
        verdict: outcome.verdict,
        status: outcome.status,
        error: outcome.error,
        matched,
        headers: outcome.headers,
        rejected,
        browser: fetch.map(|f| browser::decide(config, &f)),
        notes,
    }
}

/// The `fetch()` a page makes for `request`: the preflight's method and headers, or
/// the actual request's; `None` without an Origin.
fn browser_fetch(request: &Request, credentials: bool) -> Option<browser::Fetch> {
    let origin = request.origin.clone()?;
    let method = if request.is_preflight() {
        request.effective_method().to_string()
    } else {
        request.method.clone()
    };
    Some(browser::Fetch {
        origin,
        method,
        headers: request.access_control_request_headers.clone(),
        credentials,
    })
}

/// The line with the browser's verdict, without its label.
fn browser_line(b: &BrowserVerdict) -> String {
    let word = if b.allowed { "allowed" } else { "blocked" };
    format!("{word} — {}", b.reason)
}

fn reason(m: &Mismatch, rule: &CorsRule, source: Option<&RuleSource>) -> Reason {
    let (allowed, location) = match m {
        Mismatch::MethodNotAllowed { .. } => (
            rule.allowed_methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            source.map(|s| s.methods.clone()),
        ),
        Mismatch::OriginNotAllowed { .. } => (
            rule.allowed_origins.clone(),
            source.map(|s| s.origins.clone()),
        ),
        Mismatch::HeaderNotAllowed { .. } => (
            rule.allowed_headers.clone(),
            source.map(|s| s.headers.clone()),
        ),
    };
    Reason {
        mismatch: m.clone(),
        allowed,
        location,
    }
}

/// Hints about requests that can never be what the user meant.
fn request_notes(request: &Request, outcome: &Outcome) -> Vec<String> {
    let mut notes = Vec::new();
    let method = &outcome.method;
    if request.is_preflight() && request.access_control_request_method.is_none() {
        // Only where it decides the answer: no Origin (400) or no rules decide first.
        if outcome.verdict == Verdict::NotAllowed {
            notes.push(
                "browsers always send Access-Control-Request-Method on a preflight; without it \
             S3 matches the preflight's own method, OPTIONS, which no rule can allow"
                    .to_string(),
            );
        }
    } else if method.parse::<crate::model::Method>().is_err() {
        let upper = method.to_ascii_uppercase();
        if upper.parse::<crate::model::Method>().is_ok() {
            notes.push(format!(
                "methods are case-sensitive: S3 matches `{method}` against no rule; browsers send `{upper}`"
            ));
        } else {
            notes.push(format!(
                "S3 CORS rules allow only GET, PUT, POST, DELETE and HEAD: `{method}` never matches"
            ));
        }
    }
    if !request.is_preflight()
        && (request.access_control_request_method.is_some()
            || !request.access_control_request_headers.is_empty())
    {
        notes.push(
            "browsers send Access-Control-Request-Method and -Headers only on preflights; \
             S3 matches an actual request with them all the same"
                .to_string(),
        );
    }
    if let Some(origin) = &request.origin {
        let parts = super::origin::parse(origin);
        match parts.scheme {
            None if origin != "null" => notes.push(format!(
                "browsers send Origin as scheme://host[:port]; `{origin}` has no scheme"
            )),
            Some(_) if parts.rest.contains('/') => notes.push(format!(
                "browsers send Origin without a path or trailing slash; `{origin}` has one"
            )),
            _ => {}
        }
    }
    notes
}

fn rule_name(r: &RuleRef) -> String {
    let mut name = format!("rule {}", r.number);
    if let Some(id) = &r.id {
        name.push_str(&format!(" (ID {id:?})"));
    }
    if let Some(set) = &r.ruleset {
        name.push_str(&format!(" from ruleset {set}"));
    }
    if let Some(at) = &r.location {
        name.push_str(&format!(" at {at}"));
    }
    name
}

fn reason_line(r: &Reason) -> String {
    let list = format!("[{}]", r.allowed.join(", "));
    let mut line = match &r.mismatch {
        Mismatch::MethodNotAllowed { method } => {
            format!("method: {method} is not in AllowedMethods {list}")
        }
        Mismatch::OriginNotAllowed { origin } => {
            format!("origin: {origin} matches no AllowedOrigins {list}")
        }
        Mismatch::HeaderNotAllowed { header } if r.allowed.is_empty() => {
            format!("header: {header} is requested, but the rule has no AllowedHeaders")
        }
        Mismatch::HeaderNotAllowed { header } => {
            format!("header: {header} matches no AllowedHeaders {list}")
        }
    };
    if let Some(at) = &r.location {
        line.push_str(&format!(" ({at})"));
    }
    line
}

fn describe_request(r: &RequestDoc) -> String {
    let mut parts = Vec::new();
    if r.preflight {
        parts.push("preflight OPTIONS".to_string());
    } else {
        parts.push(format!("actual {}", r.http_method));
    }
    parts.push(match &r.origin {
        Some(o) => format!("Origin: {o}"),
        None => "no Origin".to_string(),
    });
    if let Some(method) = &r.request_method {
        parts.push(format!("Access-Control-Request-Method: {method}"));
    }
    if !r.headers.is_empty() {
        parts.push(format!(
            "Access-Control-Request-Headers: {}",
            r.headers.join(", ")
        ));
    }
    parts.join(", ")
}

fn describe_source(e: &Explanation) -> String {
    let rules = match e.rules {
        0 => "no CORS configuration".to_string(),
        1 => "1 rule".to_string(),
        n => format!("{n} rules"),
    };
    match &e.rules_from {
        RulesFrom::Policy { entry, selector } => {
            format!("desired rules of `{selector}` at {entry} ({rules})")
        }
        RulesFrom::Live {
            endpoint,
            state: LiveState::NoSuchBucket,
        } => format!(
            "live configuration from {}: the bucket does not exist (NoSuchBucket)",
            endpoint_name(endpoint)
        ),
        RulesFrom::Live { endpoint, .. } => format!(
            "live configuration from {} ({rules})",
            endpoint_name(endpoint)
        ),
    }
}

fn answer_line(e: &Explanation) -> String {
    match (e.status, &e.error) {
        (Some(status), Some(err)) => format!("{status} {}: {}", err.code, err.message),
        (Some(200), None) => "200 OK".to_string(),
        // A HEAD to a missing bucket: the 404 carries no body, so no error code.
        (Some(status), None) => format!("{status} without a body (HEAD)"),
        (None, _) => "the object's normal response".to_string(),
    }
}

/// The explanation for a person: request, decision with reasons, response headers.
/// Rules may come from live state, so every value is shown [`terminal_safe`].
pub fn human(e: &Explanation, color: bool) -> String {
    let t = |text: &str| terminal_safe(text).into_owned();
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}: {}\n",
        paint(color, BOLD, "Bucket"),
        t(&e.bucket),
        t(&describe_source(e))
    ));
    out.push_str(&format!(
        "Request: {}{}\n\n",
        t(&describe_request(&e.request)),
        with_credentials(e)
    ));
    match &e.matched {
        Some(m) => out.push_str(&format!(
            "{} {}, AllowedOrigins {:?}\n",
            paint(color, GREEN, "MATCH"),
            t(&rule_name(&m.rule)),
            m.origin
        )),
        None => out.push_str(&format!(
            "{} {}\n",
            paint(color, RED, "NO MATCH"),
            miss_summary(e)
        )),
    }
    for r in &e.rejected {
        let verb = if e.matched.is_some() {
            "skipped"
        } else {
            "failed"
        };
        out.push_str(&format!("  {verb} {}:\n", t(&rule_name(&r.rule))));
        for reason in &r.reasons {
            out.push_str(&format!("    - {}\n", t(&reason_line(reason))));
        }
    }
    out.push_str(&format!("\nS3 would answer {}", t(&answer_line(e))));
    if e.headers.is_empty() {
        out.push_str(", with no CORS headers.\n");
    } else {
        out.push_str(" with:\n");
        for h in &e.headers {
            out.push_str(&format!("  {}: {}\n", t(&h.name), t(&h.value)));
        }
    }
    if let Some(b) = &e.browser {
        let label = if b.allowed {
            paint(color, GREEN, "Browser:")
        } else {
            paint(color, RED, "Browser:")
        };
        out.push_str(&format!("\n{label} {}\n", t(&browser_line(b))));
    }
    for note in &e.notes {
        out.push_str(&format!("{} {}\n", paint(color, DIM, "note:"), t(note)));
    }
    out
}

/// `, with credentials` when the browser's verdict is for a credentialed request.
fn with_credentials(e: &Explanation) -> &'static str {
    if e.browser.as_ref().is_some_and(|b| b.credentials) {
        ", with credentials"
    } else {
        ""
    }
}

fn miss_summary(e: &Explanation) -> &'static str {
    match e.verdict {
        Verdict::CorsNotEnabled => "the bucket has no CORS configuration",
        Verdict::NoSuchBucket => "the bucket does not exist",
        Verdict::MissingOrigin => "the request has no Origin header",
        Verdict::NotCors => "the request has no Origin header: CORS does not apply",
        _ => "no rule allows this request",
    }
}

/// The explanation for a pull-request comment.
pub fn markdown(e: &Explanation) -> String {
    let md = markdown_safe;
    let mut out = format!("### `s3cors explain`: <code>{}</code>\n\n", md(&e.bucket));
    out.push_str(&format!("- Rules: {}\n", md(&describe_source(e))));
    out.push_str(&format!(
        "- Request: {}{}\n",
        md(&describe_request(&e.request)),
        with_credentials(e)
    ));
    match &e.matched {
        Some(m) => out.push_str(&format!(
            "- **Match**: {}, AllowedOrigins <code>{}</code>\n",
            md(&rule_name(&m.rule)),
            md(&m.origin)
        )),
        None => out.push_str(&format!("- **No match**: {}\n", miss_summary(e))),
    }
    for r in &e.rejected {
        out.push_str(&format!("  - {}:\n", md(&rule_name(&r.rule))));
        for reason in &r.reasons {
            out.push_str(&format!("    - {}\n", md(&reason_line(reason))));
        }
    }
    out.push_str(&format!("- S3 would answer: {}\n", md(&answer_line(e))));
    if !e.headers.is_empty() {
        out.push_str("\n| Header | Value |\n| --- | --- |\n");
        for h in &e.headers {
            out.push_str(&format!(
                "| <code>{}</code> | <code>{}</code> |\n",
                md(&h.name),
                md(&h.value)
            ));
        }
    }
    if let Some(b) = &e.browser {
        let word = if b.allowed { "allowed" } else { "**blocked**" };
        out.push_str(&format!("\n- Browser: {word} — {}\n", md(&b.reason)));
    }
    for note in &e.notes {
        out.push_str(&format!("\n> note: {}\n", md(note)));
    }
    out
}

/// The explanation as pretty JSON (docs/explain.md).
pub fn json(e: &Explanation) -> String {
    let mut text = serde_json::to_string_pretty(e).unwrap_or_else(|err| {
        format!("{{\"version\": {VERSION}, \"error\": \"cannot serialise: {err}\"}}")
    });
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
