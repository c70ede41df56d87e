//! `verify --url`: whether a cache in front of S3 (a CDN) keys its answers on
//! `Origin`, as pure functions; the app layer sends the requests and hands back
//! [`Observed`] values.
//!
//! The pitfall: a cache whose key lacks `Origin` (CloudFront with a cache policy that
//! does not include the header) keeps the first answer it gets for a URL and serves it
//! to every later request, whatever its Origin. S3 answers a request without `Origin`
//! with no CORS headers and no `Vary`, so once such a request is cached, browsers on
//! every origin get an answer without `Access-Control-Allow-Origin`; once an answer
//! for origin A is cached, origin B gets A's `Access-Control-Allow-Origin`.
//!
//! So the same URL is fetched three times, in order: without `Origin`, from origin A,
//! from origin B ([`origins`] picks A and B and what the policy expects of each), and
//! [`judge`] decides: an origin the policy allows must get its own
//! `Access-Control-Allow-Origin` (or `*`), with `Vary: Origin`; one it refuses must get
//! none; no answer may carry another origin's.

use serde::Serialize;

use super::{Observed, UNLISTED_ORIGINS, sample_origin};
use crate::cors::simulate::{self, Request, Verdict};
use crate::model::CorsConfig;

/// What stands for a wildcard's `*` in the second sample of an AllowedOrigin, so that
/// B differs from A ([`super::SAMPLE`] in the first).
pub const SECOND_SAMPLE: &str = "s3cors-verify-b";
/// The second sample Origin for the AllowedOrigin `*`.
pub const SECOND_ANY_ORIGIN: &str = "https://s3cors-verify-b.example";
/// The second sample port for a pattern whose `*` stands for a port.
pub const SECOND_SAMPLE_PORT: &str = "8444";

/// The response headers that say whether an answer came from a cache: `Age` (RFC
/// 9111: its presence means the answer was not made by the origin server for this
/// request), `X-Cache` (CloudFront: `Hit from cloudfront`, `Miss from cloudfront`;
/// other CDNs alike) and `CF-Cache-Status` (Cloudflare).
pub const CACHE_HEADERS: [&str; 3] = ["age", "x-cache", "cf-cache-status"];

/// What the policy says of a GET from an Origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// It allows it: the answer carries its own `Access-Control-Allow-Origin` (or `*`).
    Allowed,
    /// It refuses it: the answer carries no `Access-Control-Allow-Origin`.
    Refused,
    /// No policy was read (one `--origin`, no `--bucket`): only another origin's
    /// `Access-Control-Allow-Origin` is wrong.
    Unknown,
}

/// The policy the origins are judged by.
#[derive(Debug, Clone, Copy)]
pub enum Policy<'c> {
    /// The `--bucket`'s desired configuration (`None`: declared without rules).
    Known(Option<&'c CorsConfig>),
    /// No `--bucket`: an Origin given with `--origin` is taken as allowed.
    Unknown,
}

/// An Origin to send and what the policy expects of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub origin: String,
    pub expect: Expect,
}

/// Whether `config` allows a GET from `origin`.
fn allows(config: Option<&CorsConfig>, origin: &str) -> bool {
    simulate::simulate(config, &Request::actual(Some(origin), "GET")).verdict == Verdict::Matched
}

/// A second concrete Origin a wildcard AllowedOrigin matches, other than
/// [`sample_origin`]'s: `*` filled with [`SECOND_SAMPLE`] (or [`SECOND_SAMPLE_PORT`]
/// for a port); `None` for a pattern without `*`.
pub fn second_sample(pattern: &str) -> Option<String> {
    if pattern == "*" {
        return Some(SECOND_ANY_ORIGIN.to_string());
    }
    let at = pattern.find('*')?;
    let (before, after) = (&pattern[..at], &pattern[at + 1..]);
    let after_host = before.rfind("://").map_or(before, |s| &before[s + 3..]);
    let fill = if before.ends_with(':') && !after_host.is_empty() {
        SECOND_SAMPLE_PORT
    } else {
        SECOND_SAMPLE
    };
    Some(format!("{before}{fill}{}", after.replace('*', "")))
}

/// The Origins `config` allows a GET from, in rule order: each AllowedOrigin's sample,
/// then each wildcard's second sample; each once.
fn allowed_samples(config: &CorsConfig) -> Vec<String> {
    let patterns = || {
        config
            .cors_rules
            .iter()
            .flat_map(|r| &r.allowed_origins)
            .filter(|p| !p.is_empty())
    };
    let mut out: Vec<String> = Vec::new();
    let candidates = patterns()
        .map(|p| sample_origin(p))
        .chain(patterns().filter_map(|p| second_sample(p)));
    for origin in candidates {
        if !out.contains(&origin) && allows(Some(config), &origin) {
            out.push(origin);
        }
    }
    out
}

/// Origins A and B for `verify --url`, from the `--origin` values `given` (at most
/// two) and the policy:
/// - A: the first `--origin`, else the first Origin the policy allows a GET from (an
///   AllowedOrigin, a wildcard filled with a sample);
/// - B: the second `--origin`, else another Origin the policy allows (another
///   AllowedOrigin, or a second sample of a wildcard: `https://*.example.com` gives
///   `https://s3cors-verify.example.com` and `https://s3cors-verify-b.example.com`),
///   else an Origin it refuses (`https://s3cors-unlisted.example`, or the next
///   candidate), whose answer must then carry no CORS headers.
///
/// Each is expected allowed or refused as the policy says; without a policy, a given
/// Origin is taken as allowed and B as [`Expect::Unknown`].
pub fn origins(policy: Policy, given: &[String]) -> Result<[Pick; 2], String> {
    let expect = |origin: &str, given: bool| match policy {
        Policy::Known(config) if allows(config, origin) => Expect::Allowed,
        Policy::Known(_) => Expect::Refused,
        Policy::Unknown if given => Expect::Allowed,
        Policy::Unknown => Expect::Unknown,
    };
    let pick = |origin: &str, given: bool| Pick {
        origin: origin.to_string(),
        expect: expect(origin, given),
    };
    match given {
        [a, b] if a == b => {
            return Err(format!(
                "--origin {a} is given twice: give two different origins (or one)"
            ));
        }
        [a, b] => return Ok([pick(a, true), pick(b, true)]),
        [_, _, _, ..] => {
            return Err(format!(
                "--origin is given {} times: give at most two origins (A, then B)",
                given.len()
            ));
        }
        _ => {}
    }
    let samples = match policy {
        Policy::Known(Some(config)) => allowed_samples(config),
        _ => Vec::new(),
    };
    let a = match (given.first(), samples.first()) {
        (Some(a), _) => pick(a, true),
        (None, Some(a)) => pick(a, false),
        (None, None) => {
            return Err(match policy {
                Policy::Known(_) => "the --bucket's policy allows no origin to GET: give --origin ORIGIN".to_string(),
                Policy::Unknown => "--url needs an Origin to send: give --origin ORIGIN (twice for two origins), or one --bucket BUCKET whose policy's allowed origins are used".to_string(),
            });
        }
    };
    let b = samples
        .iter()
        .map(String::as_str)
        .find(|s| *s != a.origin)
        .or_else(|| {
            UNLISTED_ORIGINS
                .into_iter()
                .find(|o| *o != a.origin && expect(o, false) != Expect::Allowed)
        })
        .map(|b| pick(b, false))
        .ok_or_else(|| {
            "the policy allows no second origin and refuses none: give a second --origin"
                .to_string()
        })?;
    Ok([a, b])
}

/// A problem `verify --url` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CdnProblem {
    /// A request was answered with a status >= 400: the URL must name a readable
    /// object (the other checks are skipped).
    ErrorStatus,
    /// A GET from an Origin the policy allows got no `Access-Control-Allow-Origin`:
    /// a cache whose key lacks `Origin` served the answer it cached for the request
    /// without it (or the CDN does not forward `Origin` to S3).
    MissingCorsHeaders,
    /// A GET from one Origin got another origin's `Access-Control-Allow-Origin`: a
    /// cache whose key lacks `Origin` served the answer it cached for that origin.
    WrongAllowOrigin,
    /// A GET from an Origin the policy refuses got an `Access-Control-Allow-Origin`
    /// allowing it: the live configuration differs from the policy, or the CDN adds
    /// CORS headers itself.
    UnexpectedCorsHeaders,
    /// An answer with CORS headers lacks `Vary: Origin`, so shared caches may serve it
    /// to other origins.
    MissingVaryOrigin,
}

/// How to fix a cache whose key lacks `Origin` (docs/verify.md has the sources).
pub const CACHE_KEY_FIX: &str = "make Origin part of the cache key (that also forwards it to S3): on CloudFront, a cache policy whose cache key includes the Origin header (also Access-Control-Request-Headers and -Method when OPTIONS is cached); an origin request policy such as the managed CORS-S3Origin only forwards them, without keying the cache on them, and the managed CachingOptimized keys on no header; then invalidate the cached objects. Other CDNs: add Origin to the cache key";

impl CdnProblem {
    /// What to do about it.
    pub fn fix(self) -> &'static str {
        match self {
            CdnProblem::ErrorStatus => {
                "give --url an object anyone may read (S3 answers 403 to an unsigned request for a private object, 404 for a missing one)"
            }
            CdnProblem::MissingCorsHeaders | CdnProblem::WrongAllowOrigin => CACHE_KEY_FIX,
            CdnProblem::UnexpectedCorsHeaders => {
                "apply the policy (`s3cors plan --target BUCKET`, then `apply`), or stop the CDN adding CORS headers of its own (e.g. a CloudFront response headers policy)"
            }
            CdnProblem::MissingVaryOrigin => {
                "forward Origin to S3 so that it sends `Vary: Origin`, and do not strip Vary on the way"
            }
        }
    }
}

/// One problem with one of the three requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: CdnProblem,
    /// The request it is about: 0 without Origin, 1 from A, 2 from B.
    pub request: usize,
    /// What is wrong, naming the request.
    pub message: String,
    /// What the answers show: the cache headers, the answer the cache kept.
    pub evidence: Vec<String>,
}

/// The cache headers ([`CACHE_HEADERS`]) of an answer, names lower-cased, in arrival
/// order.
pub fn cache_headers(response: &Observed) -> Vec<(String, String)> {
    response
        .headers
        .iter()
        .filter(|(n, _)| CACHE_HEADERS.iter().any(|c| n.eq_ignore_ascii_case(c)))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect()
}

/// Whether the cache headers say the answer came from a cache: `Some(true)` for an
/// `Age` or a hit, `Some(false)` for a miss without `Age`, `None` when they say
/// nothing.
pub fn from_cache(response: &Observed) -> Option<bool> {
    let mut said = None;
    for (name, value) in cache_headers(response) {
        let value = value.to_ascii_lowercase();
        if name == "age" || value.contains("hit") {
            return Some(true);
        }
        if value.contains("miss") || value.contains("expired") || value.contains("bypass") {
            said = Some(false);
        }
    }
    said
}

/// The cache headers as one line of evidence, e.g. `served from a cache (Age: 3,
/// X-Cache: Hit from cloudfront)`; `None` without any.
fn cache_evidence(response: &Observed) -> Option<String> {
    let headers = cache_headers(response);
    if headers.is_empty() {
        return None;
    }
    let shown: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    let said = match from_cache(response) {
        Some(true) => "served from a cache",
        Some(false) => "not served from a cache",
        None => "cache headers",
    };
    Some(format!("{said} ({})", shown.join(", ")))
}

/// The request `index` in words: `GET without Origin`, `GET from ORIGIN`.
pub fn request_name(index: usize, picks: &[Pick; 2]) -> String {
    match index {
        0 => "GET without Origin".to_string(),
        i => format!("GET from {}", picks[i - 1].origin),
    }
}

fn vary_has_origin(response: &Observed) -> bool {
    response.header(simulate::VARY).is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|i| i.eq_ignore_ascii_case("origin") || i == "*")
    })
}

/// Judges the answers to the three requests, in the order sent: without Origin, from
/// A, from B (`picks`). See the module docs; an answer with status >= 400 is reported
/// as such and nothing else is judged. `Vary: Origin` missing is reported once.
pub fn judge(picks: &[Pick; 2], answers: [&Observed; 3]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (request, answer) in answers.iter().enumerate() {
        if answer.status >= 400 {
            out.push(Finding {
                code: CdnProblem::ErrorStatus,
                request,
                message: format!(
                    "{} was answered {}{}",
                    request_name(request, picks),
                    answer.status,
                    answer
                        .error_code
                        .as_ref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ),
                evidence: cache_evidence(answer).into_iter().collect(),
            });
        }
    }
    if !out.is_empty() {
        return out;
    }
    let mut vary_reported = false;
    for (k, pick) in picks.iter().enumerate() {
        let request = k + 1;
        let answer = answers[request];
        let name = request_name(request, picks);
        let origin = &pick.origin;
        let mut evidence: Vec<String> = cache_evidence(answer).into_iter().collect();
        let allow = answer.header(simulate::ALLOW_ORIGIN);
        let (code, message) = match allow.as_deref() {
            Some(other) if other != "*" && other != origin => {
                // Whose answer it is, when it is one this run asked for.
                let earlier = (1..request).find(|i| picks[i - 1].origin == other);
                if let Some(i) = earlier {
                    evidence.push(format!(
                        "Access-Control-Allow-Origin: {other} is the answer to the {} sent just before",
                        request_name(i, picks)
                    ));
                }
                (
                    CdnProblem::WrongAllowOrigin,
                    format!(
                        "{name} got Access-Control-Allow-Origin: {other}, another origin's answer: a cache whose key lacks Origin served it the answer it keeps for {other}, and browsers on {origin} refuse it"
                    ),
                )
            }
            None if pick.expect == Expect::Allowed => {
                if answers[0].header(simulate::ALLOW_ORIGIN).is_none() {
                    evidence.push(
                        "the answer to the GET without Origin, sent just before, had no Access-Control-Allow-Origin either"
                            .to_string(),
                    );
                }
                let why = if from_cache(answer) == Some(false) {
                    "the CDN does not forward Origin to S3 (or S3 does not allow it: `s3cors verify --bucket BUCKET` checks S3 itself)"
                } else {
                    "a cache whose key lacks Origin served it the answer it keeps for the GET without Origin (or the CDN does not forward Origin to S3)"
                };
                (
                    CdnProblem::MissingCorsHeaders,
                    format!(
                        "{name}, which the policy allows, got no Access-Control-Allow-Origin: {why}"
                    ),
                )
            }
            Some(value) if pick.expect == Expect::Refused => (
                CdnProblem::UnexpectedCorsHeaders,
                format!(
                    "{name}, which the policy refuses, got Access-Control-Allow-Origin: {value}: the live CORS configuration differs from the policy, or the CDN adds CORS headers itself"
                ),
            ),
            Some(_) if !vary_has_origin(answer) && !vary_reported => {
                vary_reported = true;
                evidence.push(match answer.header(simulate::VARY) {
                    Some(v) => format!("Vary: {v}"),
                    None => "no Vary header".to_string(),
                });
                (
                    CdnProblem::MissingVaryOrigin,
                    format!(
                        "the answer to {name} carries CORS headers without `Vary: Origin`: shared caches may serve it to other origins"
                    ),
                )
            }
            _ => continue,
        };
        out.push(Finding {
            code,
            request,
            message,
            evidence,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cors::fixtures::{observed, rule};

    const APP: &str = "https://app.example.com";
    const CDN: &str = "https://cdn.example.com";
    const VARY: (&str, &str) = (
        "Vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    );

    fn config(origins: &[&str]) -> CorsConfig {
        CorsConfig::new(vec![rule(&["GET", "HEAD"], origins, &[])])
    }

    fn picks(a: (&str, Expect), b: (&str, Expect)) -> [Pick; 2] {
        [
            Pick {
                origin: a.0.into(),
                expect: a.1,
            },
            Pick {
                origin: b.0.into(),
                expect: b.1,
            },
        ]
    }

    #[test]
    fn second_samples() {
        let cases = [
            ("*", Some(SECOND_ANY_ORIGIN)),
            (
                "https://*.example.com",
                Some("https://s3cors-verify-b.example.com"),
            ),
            (
                "https://a.example.com:*",
                Some("https://a.example.com:8444"),
            ),
            ("https://a.example.com", None),
        ];
        for (pattern, want) in cases {
            assert_eq!(second_sample(pattern).as_deref(), want, "{pattern}");
        }
    }

    /// Which origins are sent, and what is expected of each, per policy and
    /// `--origin` values.
    #[test]
    fn origins_table() {
        use Expect::{Allowed, Refused, Unknown};
        let two = config(&[APP, CDN]);
        let one = config(&[APP]);
        let any = config(&["*"]);
        let wild = config(&["https://*.example.org"]);
        let put_only = CorsConfig::new(vec![rule(&["PUT"], &[APP], &[])]);
        let s = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
        type Row<'a> = (&'a str, Policy<'a>, Vec<String>, [(&'a str, Expect); 2]);
        let rows: Vec<Row> = vec![
            (
                "two origins",
                Policy::Known(Some(&two)),
                vec![],
                [(APP, Allowed), (CDN, Allowed)],
            ),
            (
                "one origin: B refused",
                Policy::Known(Some(&one)),
                vec![],
                [(APP, Allowed), ("https://s3cors-unlisted.example", Refused)],
            ),
            (
                "any origin: a second sample",
                Policy::Known(Some(&any)),
                vec![],
                [
                    ("https://s3cors-verify.example", Allowed),
                    (SECOND_ANY_ORIGIN, Allowed),
                ],
            ),
            (
                "a wildcard: two samples",
                Policy::Known(Some(&wild)),
                vec![],
                [
                    ("https://s3cors-verify.example.org", Allowed),
                    ("https://s3cors-verify-b.example.org", Allowed),
                ],
            ),
            (
                "one given, B from the policy",
                Policy::Known(Some(&two)),
                s(&[CDN]),
                [(CDN, Allowed), (APP, Allowed)],
            ),
            (
                "a given origin the policy refuses is expected refused",
                Policy::Known(Some(&one)),
                s(&["https://evil.example", APP]),
                [("https://evil.example", Refused), (APP, Allowed)],
            ),
            (
                "no policy, one given",
                Policy::Unknown,
                s(&[APP]),
                [(APP, Allowed), ("https://s3cors-unlisted.example", Unknown)],
            ),
            (
                "no policy, two given",
                Policy::Unknown,
                s(&[APP, CDN]),
                [(APP, Allowed), (CDN, Allowed)],
            ),
            (
                "a rules-less bucket with an origin given",
                Policy::Known(None),
                s(&[APP]),
                [(APP, Refused), ("https://s3cors-unlisted.example", Refused)],
            ),
        ];
        for (what, policy, given, want) in rows {
            let got = origins(policy, &given).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(got, picks(want[0], want[1]), "{what}");
        }
        for (what, policy, given, error) in [
            ("nothing to send", Policy::Unknown, vec![], "give --origin"),
            (
                "a policy allowing no GET",
                Policy::Known(Some(&put_only)),
                vec![],
                "allows no origin to GET",
            ),
            ("twice the same", Policy::Unknown, s(&[APP, APP]), "twice"),
            (
                "three",
                Policy::Unknown,
                s(&[APP, CDN, "https://x.example"]),
                "at most two",
            ),
        ] {
            let got = origins(policy, &given).expect_err(what);
            assert!(got.contains(error), "{what}: {got}");
        }
    }

    /// The pure decision: the three answers in, the problems out.
    #[test]
    fn judge_table() {
        use CdnProblem::*;
        use Expect::{Allowed, Refused, Unknown};
        let plain = observed(200, &[]);
        let cached_plain = observed(200, &[("Age", "3"), ("X-Cache", "Hit from cloudfront")]);
        let for_app = observed(200, &[("Access-Control-Allow-Origin", APP), VARY]);
        let for_app_cached = observed(
            200,
            &[
                ("Access-Control-Allow-Origin", APP),
                VARY,
                ("X-Cache", "Hit from cloudfront"),
            ],
        );
        let for_cdn = observed(200, &[("Access-Control-Allow-Origin", CDN), VARY]);
        let star = observed(200, &[("Access-Control-Allow-Origin", "*"), VARY]);
        let no_vary = observed(200, &[("Access-Control-Allow-Origin", APP)]);
        let cdn_no_vary = observed(200, &[("Access-Control-Allow-Origin", CDN)]);
        let missed = observed(200, &[("X-Cache", "Miss from cloudfront")]);
        let forbidden = observed(403, &[]);
        let both = picks((APP, Allowed), (CDN, Allowed));
        let refused_b = picks((APP, Allowed), (CDN, Refused));
        let unknown_b = picks((APP, Allowed), (CDN, Unknown));
        type Row<'a> = (
            &'a str,
            &'a [Pick; 2],
            [&'a Observed; 3],
            &'a [(CdnProblem, usize)],
        );
        let rows: Vec<Row> = vec![
            ("keyed on Origin", &both, [&plain, &for_app, &for_cdn], &[]),
            ("`*` for both", &both, [&plain, &star, &star], &[]),
            (
                "keyed on the URL: the answer without Origin served to both",
                &both,
                [&plain, &cached_plain, &cached_plain],
                &[(MissingCorsHeaders, 1), (MissingCorsHeaders, 2)],
            ),
            (
                "A's answer served to B",
                &both,
                [&plain, &for_app, &for_app_cached],
                &[(WrongAllowOrigin, 2)],
            ),
            (
                "A's answer served to a refused B",
                &refused_b,
                [&plain, &for_app, &for_app_cached],
                &[(WrongAllowOrigin, 2)],
            ),
            (
                "a refused B without CORS headers",
                &refused_b,
                [&plain, &for_app, &plain],
                &[],
            ),
            (
                "a refused B allowed",
                &refused_b,
                [&plain, &for_app, &star],
                &[(UnexpectedCorsHeaders, 2)],
            ),
            (
                "an unknown B: no CORS headers, or `*`, are fine",
                &unknown_b,
                [&plain, &for_app, &plain],
                &[],
            ),
            (
                "an unknown B with A's answer",
                &unknown_b,
                [&plain, &for_app, &for_app],
                &[(WrongAllowOrigin, 2)],
            ),
            (
                "Vary dropped: reported once",
                &both,
                [&plain, &no_vary, &cdn_no_vary],
                &[(MissingVaryOrigin, 1)],
            ),
            (
                "not forwarded: a miss without CORS headers",
                &both,
                [&missed, &missed, &for_cdn],
                &[(MissingCorsHeaders, 1)],
            ),
            (
                "a private object: only the status",
                &both,
                [&forbidden, &forbidden, &plain],
                &[(ErrorStatus, 0), (ErrorStatus, 1)],
            ),
        ];
        for (what, picks, answers, want) in rows {
            let got: Vec<(CdnProblem, usize)> = judge(picks, answers)
                .iter()
                .map(|f| (f.code, f.request))
                .collect();
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn messages_name_the_request_and_the_evidence() {
        let both = picks((APP, Expect::Allowed), (CDN, Expect::Allowed));
        let plain = observed(200, &[("X-Cache", "Miss from cacheproxy")]);
        let cached = observed(200, &[("Age", "0"), ("X-Cache", "Hit from cacheproxy")]);
        let found = judge(&both, [&plain, &cached, &cached]);
        let first = &found[0];
        assert!(
            first.message.starts_with(
                "GET from https://app.example.com, which the policy allows, got no Access-Control-Allow-Origin: a cache whose key lacks Origin"
            ),
            "{first:?}"
        );
        assert_eq!(
            first.evidence,
            [
                "served from a cache (age: 0, x-cache: Hit from cacheproxy)",
                "the answer to the GET without Origin, sent just before, had no Access-Control-Allow-Origin either"
            ]
        );
        assert!(
            first
                .code
                .fix()
                .contains("cache key includes the Origin header")
        );

        let for_app = observed(200, &[("Access-Control-Allow-Origin", APP), VARY]);
        let found = judge(&both, [&plain, &for_app, &for_app]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].evidence.contains(
                &"Access-Control-Allow-Origin: https://app.example.com is the answer to the GET from https://app.example.com sent just before".to_string()
            ),
            "{:?}",
            found[0]
        );
    }

    #[test]
    fn cache_headers_say_hit_or_miss() {
        let cases = [
            (vec![], None),
            (vec![("Age", "0")], Some(true)),
            (vec![("X-Cache", "Hit from cloudfront")], Some(true)),
            (vec![("X-Cache", "RefreshHit from cloudfront")], Some(true)),
            (vec![("x-cache", "Miss from cloudfront")], Some(false)),
            (vec![("CF-Cache-Status", "HIT")], Some(true)),
            (vec![("CF-Cache-Status", "DYNAMIC")], None),
        ];
        for (headers, want) in cases {
            assert_eq!(from_cache(&observed(200, &headers)), want, "{headers:?}");
        }
    }
}
