//! Table-driven tests of the simulator: one case per behaviour of docs/s3-cors-semantics.md.

use super::*;
use crate::cors::fixtures::{example_a, example_b, example_c, rule};

fn config(rules: Vec<CorsRule>) -> CorsConfig {
    CorsConfig::new(rules)
}

fn pre(origin: &str, method: &str, headers: &[&str]) -> Request {
    Request::preflight(origin, method, headers)
}

fn get(origin: &str) -> Request {
    Request::actual(Some(origin), "GET")
}

/// A compact, reviewable rendering of an outcome: first line the verdict, matched rule,
/// status and error code; then the headers; then one line per rejected rule.
fn show(outcome: &Outcome) -> String {
    let verdict = serde_json::to_value(outcome.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let mut lines = vec![format!(
        "{verdict} rule={} status={} error={}",
        opt(outcome.matched.map(|m| m.to_string())),
        opt(outcome.status.map(|s| s.to_string())),
        opt(outcome.error.as_ref().map(|e| e.code.clone())),
    )];
    for h in &outcome.headers {
        lines.push(format!("{}: {}", h.name, h.value));
    }
    for r in &outcome.rejected {
        let reasons: Vec<String> = r.reasons.iter().map(|m| m.to_string()).collect();
        lines.push(format!("rule {}: {}", r.rule, reasons.join("; ")));
    }
    lines.join("\n")
}

/// Runs every case and reports all failures at once.
fn check(cases: &[(&str, Option<&CorsConfig>, Request, &str)]) {
    let mut failures = Vec::new();
    for (name, config, request, expected) in cases {
        let actual = show(&simulate(*config, request));
        let expected = expected.trim();
        if actual != expected {
            failures.push(format!(
                "--- {name}\nexpected:\n{expected}\nactual:\n{actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const APP: &str = "https://app.example.com";
const VARY_LINE: &str =
    "Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

#[test]
fn example_a_single_origin() {
    let a = example_a();
    let a = Some(&a);
    let ok = |extra: &str| {
        format!(
            "matched rule=0 status=200 error=-\n\
             Access-Control-Allow-Origin: {APP}\n\
             Access-Control-Allow-Credentials: true\n\
             Access-Control-Allow-Methods: GET, HEAD\n{extra}\
             Access-Control-Expose-Headers: ETag\n\
             Access-Control-Max-Age: 86400\n{VARY_LINE}"
        )
    };
    let forbidden =
        |why: &str| format!("not-allowed rule=- status=403 error=AccessForbidden\nrule 0: {why}");
    check(&[
        (
            "preflight GET, no headers",
            a,
            pre(APP, "GET", &[]),
            &ok(""),
        ),
        ("preflight HEAD", a, pre(APP, "HEAD", &[]), &ok("")),
        (
            "requested header, any case, echoed lower-cased",
            a,
            pre(APP, "GET", &["Content-Type"]),
            &ok("Access-Control-Allow-Headers: content-type\n"),
        ),
        (
            "upper-case request header",
            a,
            pre(APP, "GET", &["CONTENT-TYPE"]),
            &ok("Access-Control-Allow-Headers: content-type\n"),
        ),
        (
            "two headers in one value keep request order",
            a,
            pre(APP, "GET", &["Authorization, Content-Type"]),
            &ok("Access-Control-Allow-Headers: authorization, content-type\n"),
        ),
        (
            "spaces and empty names dropped",
            a,
            pre(APP, "GET", &[" content-type ,, Authorization ", "", " , "]),
            &ok("Access-Control-Allow-Headers: content-type, authorization\n"),
        ),
        (
            "duplicates are kept and echoed",
            a,
            pre(APP, "GET", &["content-type", "Content-Type"]),
            &ok("Access-Control-Allow-Headers: content-type, content-type\n"),
        ),
        (
            "method not allowed",
            a,
            pre(APP, "PUT", &[]),
            &forbidden("method PUT is not in AllowedMethods"),
        ),
        (
            "ACRM is case-sensitive",
            a,
            pre(APP, "get", &[]),
            &forbidden("method get is not in AllowedMethods"),
        ),
        (
            "unknown method",
            a,
            pre(APP, "PATCH", &[]),
            &forbidden("method PATCH is not in AllowedMethods"),
        ),
        (
            "other origin",
            a,
            pre("https://evil.example.com", "GET", &[]),
            &forbidden("origin \"https://evil.example.com\" matches no AllowedOrigins"),
        ),
        (
            "trailing slash differs",
            a,
            pre("https://app.example.com/", "GET", &[]),
            &forbidden("origin \"https://app.example.com/\" matches no AllowedOrigins"),
        ),
        (
            "explicit default port differs",
            a,
            pre("https://app.example.com:443", "GET", &[]),
            &forbidden("origin \"https://app.example.com:443\" matches no AllowedOrigins"),
        ),
        (
            "scheme differs",
            a,
            pre("http://app.example.com", "GET", &[]),
            &forbidden("origin \"http://app.example.com\" matches no AllowedOrigins"),
        ),
        (
            "origin is case-sensitive",
            a,
            pre("https://APP.example.com", "GET", &[]),
            &forbidden("origin \"https://APP.example.com\" matches no AllowedOrigins"),
        ),
        (
            "header not allowed",
            a,
            pre(APP, "GET", &["content-type", "x-custom", "X-Custom"]),
            &forbidden("header \"x-custom\" matches no AllowedHeaders"),
        ),
        (
            "every reason is listed",
            a,
            pre("https://evil.example.com", "DELETE", &["x-a", "x-b"]),
            &forbidden(
                "method DELETE is not in AllowedMethods; \
                 origin \"https://evil.example.com\" matches no AllowedOrigins; \
                 header \"x-a\" matches no AllowedHeaders; header \"x-b\" matches no AllowedHeaders",
            ),
        ),
        (
            "OPTIONS without Access-Control-Request-Method is matched as OPTIONS",
            a,
            Request {
                access_control_request_method: None,
                ..pre(APP, "GET", &[])
            },
            &forbidden("method OPTIONS is not in AllowedMethods"),
        ),
        (
            "preflight without Origin",
            a,
            Request {
                origin: None,
                ..pre(APP, "GET", &[])
            },
            "missing-origin rule=- status=400 error=BadRequest",
        ),
        (
            "actual GET with Origin: CORS headers, no Allow-Headers, no status",
            a,
            get(APP),
            &format!(
                "matched rule=0 status=- error=-\n\
                 Access-Control-Allow-Origin: {APP}\n\
                 Access-Control-Allow-Credentials: true\n\
                 Access-Control-Allow-Methods: GET, HEAD\n\
                 Access-Control-Expose-Headers: ETag\n\
                 Access-Control-Max-Age: 86400\n{VARY_LINE}"
            ),
        ),
        (
            "actual GET without Origin: no CORS headers, no Vary",
            a,
            Request::actual(None, "GET"),
            "not-cors rule=- status=- error=-",
        ),
        (
            "actual GET from another origin: normal response, no CORS headers",
            a,
            get("https://evil.example.com"),
            "not-allowed rule=- status=- error=-\n\
             rule 0: origin \"https://evil.example.com\" matches no AllowedOrigins",
        ),
        (
            "actual PUT is matched with its own method",
            a,
            Request::actual(Some(APP), "PUT"),
            "not-allowed rule=- status=- error=-\nrule 0: method PUT is not in AllowedMethods",
        ),
        (
            "lower-case options is not a preflight",
            a,
            Request::actual(Some(APP), "options"),
            "not-allowed rule=- status=- error=-\nrule 0: method options is not in AllowedMethods",
        ),
    ]);
}

#[test]
fn example_b_public_read() {
    let b = example_b();
    let b = Some(&b);
    let ok = |extra: &str| {
        format!(
            "matched rule=0 status=200 error=-\n\
             Access-Control-Allow-Origin: *\n\
             Access-Control-Allow-Methods: GET, HEAD\n{extra}\
             Access-Control-Max-Age: 3600\n{VARY_LINE}"
        )
    };
    check(&[
        (
            "any origin, no credentials",
            b,
            pre("https://any.test", "GET", &[]),
            &ok(""),
        ),
        ("opaque origin null", b, pre("null", "HEAD", &[]), &ok("")),
        (
            "any header is allowed and echoed",
            b,
            pre("http://localhost:3000", "GET", &["X-Anything", "range"]),
            &ok("Access-Control-Allow-Headers: x-anything, range\n"),
        ),
        (
            "writes refused",
            b,
            pre("https://any.test", "PUT", &[]),
            "not-allowed rule=- status=403 error=AccessForbidden\nrule 0: method PUT is not in AllowedMethods",
        ),
        (
            "actual GET",
            b,
            get("https://any.test"),
            &format!(
                "matched rule=0 status=- error=-\n\
                 Access-Control-Allow-Origin: *\n\
                 Access-Control-Allow-Methods: GET, HEAD\n\
                 Access-Control-Max-Age: 3600\n{VARY_LINE}"
            ),
        ),
    ]);
}

#[test]
fn example_c_read_and_admin_writes() {
    let c = example_c();
    let c = Some(&c);
    let admin = "https://admin.example.com";
    check(&[
        (
            "second origin of rule 0",
            c,
            pre("https://cdn.example.com", "GET", &["Range"]),
            &format!(
                "matched rule=0 status=200 error=-\n\
                 Access-Control-Allow-Origin: https://cdn.example.com\n\
                 Access-Control-Allow-Credentials: true\n\
                 Access-Control-Allow-Methods: GET, HEAD\n\
                 Access-Control-Allow-Headers: range\n\
                 Access-Control-Expose-Headers: ETag, x-amz-request-id\n\
                 Access-Control-Max-Age: 86400\n{VARY_LINE}"
            ),
        ),
        (
            "admin PUT falls through to rule 1",
            c,
            pre(admin, "PUT", &["content-type"]),
            &format!(
                "matched rule=1 status=200 error=-\n\
                 Access-Control-Allow-Origin: {admin}\n\
                 Access-Control-Allow-Credentials: true\n\
                 Access-Control-Allow-Methods: PUT, POST\n\
                 Access-Control-Allow-Headers: content-type\n\
                 Access-Control-Max-Age: 3600\n{VARY_LINE}\n\
                 rule 0: method PUT is not in AllowedMethods; \
                 origin \"{admin}\" matches no AllowedOrigins"
            ),
        ),
        (
            "app cannot write",
            c,
            pre(APP, "PUT", &[]),
            &format!(
                "not-allowed rule=- status=403 error=AccessForbidden\n\
                 rule 0: method PUT is not in AllowedMethods\n\
                 rule 1: origin \"{APP}\" matches no AllowedOrigins"
            ),
        ),
        (
            "admin cannot read",
            c,
            pre(admin, "GET", &[]),
            &format!(
                "not-allowed rule=- status=403 error=AccessForbidden\n\
                 rule 0: origin \"{admin}\" matches no AllowedOrigins\n\
                 rule 1: method GET is not in AllowedMethods"
            ),
        ),
        (
            "admin POST with an unlisted header",
            c,
            pre(admin, "POST", &["content-type", "x-amz-date"]),
            &format!(
                "not-allowed rule=- status=403 error=AccessForbidden\n\
                 rule 0: method POST is not in AllowedMethods; origin \"{admin}\" matches no AllowedOrigins\n\
                 rule 1: header \"x-amz-date\" matches no AllowedHeaders"
            ),
        ),
    ]);
}

#[test]
fn wildcards_and_first_match() {
    let sub = config(vec![rule(&["GET"], &["https://*.example.com"], &[])]);
    let bare = config(vec![rule(&["GET"], &["*.example.com"], &[])]);
    let port = config(vec![rule(&["GET"], &["http://localhost:*"], &[])]);
    let middle = config(vec![rule(
        &["GET"],
        &["https://*-preview.example.com"],
        &[],
    )]);
    let mixed = config(vec![rule(&["GET"], &["https://a.test", "*"], &[])]);
    let amz = config(vec![rule(&["PUT"], &["*"], &["x-amz-*", "Content-*"])]);
    let first_wins = config(vec![
        CorsRule {
            id: Some("broad".into()),
            ..rule(&["GET"], &["*"], &["*"])
        },
        CorsRule {
            expose_headers: vec!["ETag".into()],
            ..rule(&["GET"], &["https://a.test"], &["*"])
        },
    ]);
    let headers_then = config(vec![
        rule(&["GET"], &["https://a.test"], &[]),
        rule(&["GET"], &["https://a.test"], &["range"]),
    ]);
    let zero_age = config(vec![CorsRule {
        max_age_seconds: Some(0),
        ..rule(&["GET"], &["https://a.test"], &[])
    }]);
    let echo = |o: &str, rule: usize, methods: &str| {
        format!(
            "matched rule={rule} status=200 error=-\n\
             Access-Control-Allow-Origin: {o}\n\
             Access-Control-Allow-Credentials: true\n\
             Access-Control-Allow-Methods: {methods}\n{VARY_LINE}"
        )
    };
    let refused = |o: &str| {
        format!(
            "not-allowed rule=- status=403 error=AccessForbidden\nrule 0: origin \"{o}\" matches no AllowedOrigins"
        )
    };
    check(&[
        (
            "wildcard subdomain",
            Some(&sub),
            pre("https://a.example.com", "GET", &[]),
            &echo("https://a.example.com", 0, "GET"),
        ),
        (
            "wildcard deep subdomain",
            Some(&sub),
            pre("https://a.b.example.com", "GET", &[]),
            &echo("https://a.b.example.com", 0, "GET"),
        ),
        (
            "wildcard matches the empty string",
            Some(&sub),
            pre("https://.example.com", "GET", &[]),
            &echo("https://.example.com", 0, "GET"),
        ),
        (
            "wildcard needs the dot",
            Some(&sub),
            pre("https://example.com", "GET", &[]),
            &refused("https://example.com"),
        ),
        (
            "wildcard keeps the scheme",
            Some(&sub),
            pre("http://a.example.com", "GET", &[]),
            &refused("http://a.example.com"),
        ),
        (
            "leading wildcard spans the scheme",
            Some(&bare),
            pre("http://a.example.com", "GET", &[]),
            &echo("http://a.example.com", 0, "GET"),
        ),
        (
            "trailing wildcard: any port",
            Some(&port),
            pre("http://localhost:3000", "GET", &[]),
            &echo("http://localhost:3000", 0, "GET"),
        ),
        (
            "trailing wildcard: empty port",
            Some(&port),
            pre("http://localhost:", "GET", &[]),
            &echo("http://localhost:", 0, "GET"),
        ),
        (
            "trailing wildcard: needs the colon",
            Some(&port),
            pre("http://localhost", "GET", &[]),
            &refused("http://localhost"),
        ),
        (
            "middle wildcard",
            Some(&middle),
            pre("https://pr-7-preview.example.com", "GET", &[]),
            &echo("https://pr-7-preview.example.com", 0, "GET"),
        ),
        (
            "middle wildcard, empty",
            Some(&middle),
            pre("https://-preview.example.com", "GET", &[]),
            &echo("https://-preview.example.com", 0, "GET"),
        ),
        (
            "middle wildcard, wrong suffix",
            Some(&middle),
            pre("https://pr-7.example.com", "GET", &[]),
            &refused("https://pr-7.example.com"),
        ),
        (
            "rule with * beside a specific origin sends *",
            Some(&mixed),
            pre("https://a.test", "GET", &[]),
            &format!(
                "matched rule=0 status=200 error=-\nAccess-Control-Allow-Origin: *\nAccess-Control-Allow-Methods: GET\n{VARY_LINE}"
            ),
        ),
        (
            "header wildcards, case-insensitive",
            Some(&amz),
            pre(
                "https://a.test",
                "PUT",
                &["X-Amz-Date", "content-type", "x-amz-"],
            ),
            &format!(
                "matched rule=0 status=200 error=-\nAccess-Control-Allow-Origin: *\nAccess-Control-Allow-Methods: PUT\n\
                 Access-Control-Allow-Headers: x-amz-date, content-type, x-amz-\n{VARY_LINE}"
            ),
        ),
        (
            "header wildcard prefix must match",
            Some(&amz),
            pre("https://a.test", "PUT", &["authorization"]),
            "not-allowed rule=- status=403 error=AccessForbidden\nrule 0: header \"authorization\" matches no AllowedHeaders",
        ),
        (
            "first match wins even when a later rule also matches",
            Some(&first_wins),
            pre("https://a.test", "GET", &[]),
            &format!(
                "matched rule=0 status=200 error=-\nAccess-Control-Allow-Origin: *\nAccess-Control-Allow-Methods: GET\n{VARY_LINE}"
            ),
        ),
        (
            "a rule without AllowedHeaders refuses any requested header; the next rule matches",
            Some(&headers_then),
            pre("https://a.test", "GET", &["Range"]),
            &format!(
                "matched rule=1 status=200 error=-\nAccess-Control-Allow-Origin: https://a.test\nAccess-Control-Allow-Credentials: true\n\
                 Access-Control-Allow-Methods: GET\nAccess-Control-Allow-Headers: range\n{VARY_LINE}\n\
                 rule 0: header \"range\" matches no AllowedHeaders"
            ),
        ),
        (
            "MaxAgeSeconds 0 is sent",
            Some(&zero_age),
            pre("https://a.test", "GET", &[]),
            &format!(
                "matched rule=0 status=200 error=-\nAccess-Control-Allow-Origin: https://a.test\nAccess-Control-Allow-Credentials: true\n\
                 Access-Control-Allow-Methods: GET\nAccess-Control-Max-Age: 0\n{VARY_LINE}"
            ),
        ),
    ]);
}

/// S3 accepts empty origins and header names; they match nothing.
#[test]
fn empty_values_match_nothing() {
    let empty = config(vec![
        rule(&["GET"], &[""], &["*"]),
        CorsRule {
            expose_headers: vec![String::new()],
            ..rule(&["GET"], &["", APP], &[""])
        },
    ]);
    let e = Some(&empty);
    let matched = format!(
        "matched rule=1 status=200 error=-\n\
         Access-Control-Allow-Origin: {APP}\n\
         Access-Control-Allow-Credentials: true\n\
         Access-Control-Allow-Methods: GET\n\
         Access-Control-Expose-Headers: \n{VARY_LINE}\n\
         rule 0: origin \"{APP}\" matches no AllowedOrigins"
    );
    check(&[
        (
            "an empty Origin header does not match the empty AllowedOrigin",
            e,
            pre("", "GET", &[]),
            "not-allowed rule=- status=403 error=AccessForbidden\n\
             rule 0: origin \"\" matches no AllowedOrigins\n\
             rule 1: origin \"\" matches no AllowedOrigins",
        ),
        (
            "nor does any other origin: the rule is skipped",
            e,
            pre(APP, "GET", &[]),
            &matched,
        ),
        (
            "an empty AllowedHeader allows no header",
            e,
            pre(APP, "GET", &["x-a"]),
            &format!(
                "not-allowed rule=- status=403 error=AccessForbidden\n\
                 rule 0: origin \"{APP}\" matches no AllowedOrigins\n\
                 rule 1: header \"x-a\" matches no AllowedHeaders"
            ),
        ),
        (
            "empty requested names are dropped, so nothing asks for the empty header",
            e,
            pre(APP, "GET", &[" , "]),
            &matched,
        ),
    ]);
}

/// S3 matches a request other than OPTIONS with the `Access-Control-Request-Method` and
/// `Access-Control-Request-Headers` it carries (recorded on AWS in LocalStack's
/// validated snapshots: `get-wrong-op`, `get-non-allowed-with-acl`), and ignores the
/// headers it actually sends.
#[test]
fn actual_requests_carrying_access_control_request_headers() {
    let a = example_a();
    let a = Some(&a);
    let b = example_b();
    let b = Some(&b);
    let carrying = |method: &str, acrm: Option<&str>, acrh: &[&str]| Request {
        origin: Some(APP.to_string()),
        method: method.to_string(),
        access_control_request_method: acrm.map(str::to_string),
        access_control_request_headers: acrh.iter().map(|h| h.to_string()).collect(),
    };
    let matched_a = format!(
        "matched rule=0 status=- error=-\n\
         Access-Control-Allow-Origin: {APP}\n\
         Access-Control-Allow-Credentials: true\n\
         Access-Control-Allow-Methods: GET, HEAD\n\
         Access-Control-Expose-Headers: ETag\n\
         Access-Control-Max-Age: 86400\n{VARY_LINE}"
    );
    check(&[
        (
            "GET asking for PUT on a GET-only rule: no CORS headers",
            a,
            carrying("GET", Some("PUT"), &[]),
            "not-allowed rule=- status=- error=-\nrule 0: method PUT is not in AllowedMethods",
        ),
        (
            "GET asking for a header the rule does not allow: no CORS headers",
            a,
            carrying("GET", None, &["x-foo"]),
            "not-allowed rule=- status=- error=-\nrule 0: header \"x-foo\" matches no AllowedHeaders",
        ),
        (
            "a rule without AllowedHeaders refuses a GET asking for any",
            Some(&config(vec![rule(&["GET"], &[APP], &[])])),
            carrying("GET", None, &["content-type"]),
            "not-allowed rule=- status=- error=-\nrule 0: header \"content-type\" matches no AllowedHeaders",
        ),
        (
            "PUT asking for GET is matched as GET",
            a,
            carrying("PUT", Some("GET"), &[]),
            &matched_a,
        ),
        (
            "GET asking for allowed headers: CORS headers, no Allow-Headers",
            a,
            carrying("GET", Some("HEAD"), &["Content-Type, authorization"]),
            &matched_a,
        ),
        (
            "empty requested names are dropped on a GET too",
            a,
            carrying("GET", None, &[" , "]),
            &matched_a,
        ),
        (
            "any header under AllowedHeaders *",
            b,
            carrying("HEAD", None, &["x-anything"]),
            &format!(
                "matched rule=0 status=- error=-\n\
                 Access-Control-Allow-Origin: *\n\
                 Access-Control-Allow-Methods: GET, HEAD\n\
                 Access-Control-Max-Age: 3600\n{VARY_LINE}"
            ),
        ),
        (
            "without Origin the Access-Control-Request-* headers change nothing",
            a,
            Request {
                origin: None,
                ..carrying("GET", Some("PUT"), &["x-foo"])
            },
            "not-cors rule=- status=- error=-",
        ),
    ]);
}

#[test]
fn no_configuration() {
    let empty = config(Vec::new());
    let not_enabled = "cors-not-enabled rule=- status=403 error=AccessForbidden";
    check(&[
        (
            "preflight on a bucket without CORS",
            None,
            pre(APP, "GET", &[]),
            not_enabled,
        ),
        (
            "an empty rule list counts as none",
            Some(&empty),
            pre(APP, "GET", &[]),
            not_enabled,
        ),
        (
            "actual request: no CORS headers",
            None,
            get(APP),
            "cors-not-enabled rule=- status=- error=-",
        ),
        (
            "preflight without Origin is 400 before the configuration is read",
            None,
            Request {
                origin: None,
                ..pre(APP, "GET", &[])
            },
            "missing-origin rule=- status=400 error=BadRequest",
        ),
        (
            "no Origin, no CORS",
            None,
            Request::actual(None, "GET"),
            "not-cors rule=- status=- error=-",
        ),
    ]);
}

/// A preflight without `Access-Control-Request-Method` (curl, not a browser): matched
/// with its own method, OPTIONS, which no rule allows; no Origin or no rules decide
/// first. Cross-checked against LocalStack in tests/it/verify_localstack.rs.
#[test]
fn preflight_without_access_control_request_method() {
    let a = example_a();
    let b = example_b();
    let bare = |origin: Option<&str>, headers: &[&str]| Request {
        origin: origin.map(str::to_string),
        method: "OPTIONS".to_string(),
        access_control_request_method: None,
        access_control_request_headers: headers.iter().map(|h| h.to_string()).collect(),
    };
    check(&[
        (
            "an allowed origin is refused: OPTIONS is no rule's method",
            Some(&a),
            bare(Some(APP), &[]),
            "not-allowed rule=- status=403 error=AccessForbidden\n\
             rule 0: method OPTIONS is not in AllowedMethods",
        ),
        (
            "a wildcard origin and headers too",
            Some(&b),
            bare(Some("https://any.test"), &["x-custom"]),
            "not-allowed rule=- status=403 error=AccessForbidden\n\
             rule 0: method OPTIONS is not in AllowedMethods",
        ),
        (
            "no configuration: not enabled (recorded on AWS, Method OPTIONS)",
            None,
            bare(Some(APP), &[]),
            "cors-not-enabled rule=- status=403 error=AccessForbidden",
        ),
        (
            "no Origin either: 400",
            Some(&a),
            bare(None, &[]),
            "missing-origin rule=- status=400 error=BadRequest",
        ),
    ]);
    let outcome = simulate(Some(&a), &bare(Some(APP), &[]));
    assert_eq!(outcome.method, "OPTIONS");
    assert!(outcome.headers.is_empty());
}

/// A bucket that does not exist, for every request shape: what S3 answers (a preflight
/// with Origin recorded on AWS; the 404 is S3's answer to any request for it).
#[test]
fn missing_bucket() {
    let cases: Vec<(&str, Request, &str)> = vec![
        (
            "preflight",
            pre(APP, "PUT", &["content-type"]),
            "no-such-bucket rule=- status=403 error=AccessForbidden",
        ),
        (
            "preflight without Access-Control-Request-Method",
            Request {
                access_control_request_method: None,
                ..pre(APP, "GET", &[])
            },
            "no-such-bucket rule=- status=403 error=AccessForbidden",
        ),
        (
            "preflight without Origin: 400 first",
            Request {
                origin: None,
                ..pre(APP, "GET", &[])
            },
            "missing-origin rule=- status=400 error=BadRequest",
        ),
        (
            "GET with Origin",
            get(APP),
            "no-such-bucket rule=- status=404 error=NoSuchBucket",
        ),
        (
            "GET without Origin",
            Request::actual(None, "GET"),
            "no-such-bucket rule=- status=404 error=NoSuchBucket",
        ),
        (
            "HEAD: a 404 without a body",
            Request::actual(Some(APP), "HEAD"),
            "no-such-bucket rule=- status=404 error=-",
        ),
        (
            "PUT carrying Access-Control-Request-*",
            Request {
                origin: Some(APP.into()),
                method: "PUT".into(),
                access_control_request_method: Some("GET".into()),
                access_control_request_headers: vec!["x-custom".into()],
            },
            "no-such-bucket rule=- status=404 error=NoSuchBucket",
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, request, expected)| {
            let actual = show(&simulate_missing_bucket(request));
            (actual != *expected)
                .then(|| format!("--- {name}\nexpected: {expected}\nactual: {actual}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let preflight = simulate_missing_bucket(&pre(APP, "GET", &[]));
    assert_eq!(
        preflight.error.map(|e| e.message).as_deref(),
        Some("CORSResponse: Bucket not found")
    );
    let get = simulate_missing_bucket(&get(APP));
    assert_eq!(
        get.error.map(|e| e.message).as_deref(),
        Some("The specified bucket does not exist")
    );
    assert!(get.headers.is_empty() && get.rejected.is_empty() && get.matched.is_none());
}

#[test]
fn error_messages_are_s3s() {
    let a = example_a();
    let cases = [
        (simulate(None, &pre(APP, "GET", &[])), MESSAGE_NOT_ENABLED),
        (
            simulate(Some(&a), &pre(APP, "PUT", &[])),
            MESSAGE_NOT_ALLOWED,
        ),
        (
            simulate(
                Some(&a),
                &Request {
                    origin: None,
                    ..pre(APP, "GET", &[])
                },
            ),
            MESSAGE_NO_ORIGIN,
        ),
    ];
    for (outcome, message) in cases {
        assert_eq!(outcome.error.map(|e| e.message).as_deref(), Some(message));
    }
    assert_eq!(
        MESSAGE_NOT_ALLOWED,
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, \
         request method / Access-Control-Request-Method or Access-Control-Request-Headers are not \
         whitelisted by the resource's CORS spec."
    );
}

#[test]
fn outcome_header_lookup() {
    let a = example_a();
    let outcome = simulate(Some(&a), &pre(APP, "GET", &[]));
    assert_eq!(outcome.header("access-control-max-age"), Some("86400"));
    assert_eq!(outcome.header("Access-Control-Allow-Headers"), None);
    assert_eq!(outcome.matched_origin, Some(0));
}

/// The JSON shape `explain --format json` carries: pinned by snapshots.
#[test]
fn json_shape() {
    let a = example_a();
    let b = example_b();
    let c = example_c();
    let runs = vec![
        ("A", simulate(Some(&a), &pre(APP, "GET", &["Content-Type"]))),
        (
            "A",
            simulate(
                Some(&a),
                &pre("https://evil.example.com", "PUT", &["x-custom"]),
            ),
        ),
        ("B", simulate(Some(&b), &get("https://any.test"))),
        (
            "C",
            simulate(
                Some(&c),
                &pre("https://admin.example.com", "PUT", &["content-type"]),
            ),
        ),
        ("none", simulate(None, &pre(APP, "GET", &[]))),
        ("none", simulate(None, &Request::actual(None, "GET"))),
        ("missing", simulate_missing_bucket(&pre(APP, "GET", &[]))),
        ("missing", simulate_missing_bucket(&get(APP))),
    ];
    insta::assert_json_snapshot!(runs);
}
