//! Tests of the verify matrix, the samples and the judgement: plain values in,
//! plain values out (the CDN check has its own, in `cdn.rs`).

use super::*;
use crate::cors::fixtures::{example_c, observed, rule};
use crate::model::CorsRule;

/// `(name, verdict, status)` of every case, for compact expectations.
fn summary(cases: &[Case]) -> Vec<(String, Verdict, Option<u16>)> {
    cases
        .iter()
        .map(|c| (c.name.clone(), c.expected.verdict, c.expected.status))
        .collect()
}

fn row(name: &str, verdict: Verdict, status: Option<u16>) -> (String, Verdict, Option<u16>) {
    (name.to_string(), verdict, status)
}

#[test]
fn samples_match_their_patterns() {
    let origins: &[(&str, &str)] = &[
        ("https://app.example.com", "https://app.example.com"),
        ("*", "https://s3cors-verify.example"),
        ("https://*.example.com", "https://s3cors-verify.example.com"),
        ("https://*", "https://s3cors-verify"),
        ("http://localhost:*", "http://localhost:8443"),
        ("*.example.com", "s3cors-verify.example.com"),
        ("https://app-*", "https://app-s3cors-verify"),
    ];
    for (pattern, want) in origins {
        let got = sample_origin(pattern);
        assert_eq!(&got, want, "{pattern}");
        assert!(pattern::origin_matches(pattern, &got), "{pattern} vs {got}");
    }
    let headers: &[(&str, &str)] = &[
        ("*", "x-s3cors-verify"),
        ("Content-Type", "content-type"),
        ("x-amz-*", "x-amz-s3cors-verify"),
        ("X-Custom-*-Id", "x-custom-s3cors-verify-id"),
    ];
    for (pattern, want) in headers {
        let got = sample_header(pattern);
        assert_eq!(&got, want, "{pattern}");
        assert!(pattern::header_matches(pattern, &got), "{pattern} vs {got}");
    }
}

#[test]
fn matrix_of_example_c() {
    let config = example_c();
    let m = Verdict::Matched;
    let n = Verdict::NotAllowed;
    let want = vec![
        row("preflight GET from https://app.example.com", m, Some(200)),
        row(
            "preflight GET from https://app.example.com with x-s3cors-verify",
            m,
            Some(200),
        ),
        row("preflight HEAD from https://app.example.com", m, Some(200)),
        row(
            "preflight HEAD from https://app.example.com with x-s3cors-verify",
            m,
            Some(200),
        ),
        row("preflight GET from https://cdn.example.com", m, Some(200)),
        row(
            "preflight GET from https://cdn.example.com with x-s3cors-verify",
            m,
            Some(200),
        ),
        row("preflight HEAD from https://cdn.example.com", m, Some(200)),
        row(
            "preflight HEAD from https://cdn.example.com with x-s3cors-verify",
            m,
            Some(200),
        ),
        row(
            "credentialed preflight GET from https://app.example.com",
            m,
            Some(200),
        ),
        row("preflight PUT from https://admin.example.com", m, Some(200)),
        row(
            "preflight PUT from https://admin.example.com with content-type, authorization",
            m,
            Some(200),
        ),
        row(
            "preflight POST from https://admin.example.com",
            m,
            Some(200),
        ),
        row(
            "preflight POST from https://admin.example.com with content-type, authorization",
            m,
            Some(200),
        ),
        row(
            "credentialed preflight PUT from https://admin.example.com",
            m,
            Some(200),
        ),
        row(
            "preflight GET from https://s3cors-unlisted.example",
            n,
            Some(403),
        ),
        row(
            "preflight DELETE from https://app.example.com",
            n,
            Some(403),
        ),
        // Rule 1 allows every header, so the unlisted header is refused only for the
        // admin origin's methods.
        row(
            "preflight PUT from https://admin.example.com with x-s3cors-unlisted",
            n,
            Some(403),
        ),
        row(
            "preflight GET without Origin",
            Verdict::MissingOrigin,
            Some(400),
        ),
    ];
    assert_eq!(summary(&matrix(Some(&config), false)), want);
}

#[test]
fn matrix_purposes_and_object_requests() {
    let config = CorsConfig::new(vec![rule(&["GET"], &["https://a.example"], &[])]);
    let cases = matrix(Some(&config), true);
    let got: Vec<(String, Purpose)> = cases
        .iter()
        .map(|c| (c.name.clone(), c.purpose.clone()))
        .collect();
    let allowed = || Purpose::Allowed {
        rule: 0,
        origin: "https://a.example".into(),
    };
    let want = vec![
        (
            "preflight GET from https://a.example".to_string(),
            allowed(),
        ),
        ("GET from https://a.example".to_string(), allowed()),
        ("HEAD from https://a.example".to_string(), allowed()),
        (
            "credentialed GET from https://a.example".to_string(),
            Purpose::Credentialed {
                rule: 0,
                origin: "https://a.example".into(),
            },
        ),
        (
            "preflight GET from https://s3cors-unlisted.example".to_string(),
            Purpose::UnlistedOrigin,
        ),
        (
            "GET from https://s3cors-unlisted.example".to_string(),
            Purpose::UnlistedOrigin,
        ),
        (
            "preflight PUT from https://a.example".to_string(),
            Purpose::UnlistedMethod,
        ),
        (
            "GET asking for PUT from https://a.example".to_string(),
            Purpose::UnlistedMethod,
        ),
        (
            "preflight GET from https://a.example with x-s3cors-unlisted".to_string(),
            Purpose::UnlistedHeader,
        ),
        (
            "GET asking for GET from https://a.example with x-s3cors-unlisted".to_string(),
            Purpose::UnlistedHeader,
        ),
        (
            "preflight GET without Origin".to_string(),
            Purpose::NoOrigin,
        ),
    ];
    assert_eq!(got, want);
    // A GET carrying what the refused preflights carry is refused too: the normal
    // response, no CORS headers (S3 matches it with them).
    for case in [&cases[7], &cases[9]] {
        assert_eq!(case.request.method, "GET", "{}", case.name);
        assert_eq!(case.expected.verdict, Verdict::NotAllowed, "{}", case.name);
        assert_eq!(
            (case.expected.status, case.expected.headers.len()),
            (None, 0)
        );
    }
    // GET is allowed: CORS headers and no status (the object's); HEAD is not: none.
    let (get, head) = (&cases[1], &cases[2]);
    assert_eq!(get.expected.verdict, Verdict::Matched);
    assert_eq!(get.expected.status, None);
    assert_eq!(
        get.expected.header("Access-Control-Allow-Methods"),
        Some("GET")
    );
    assert_eq!(head.expected.verdict, Verdict::NotAllowed);
    assert!(head.expected.headers.is_empty());
    // The credentialed GET is the plain GET's request, made with credentials: S3
    // answers the exact origin with Allow-Credentials, so the browser allows it.
    let credentialed = &cases[3];
    assert!(credentialed.credentials && !get.credentials);
    assert_eq!(credentialed.request, get.request);
    assert_eq!(credentialed.expected_browser_verdict(), Ok(()));
}

/// A rule allowing `*` is answered `*`, which the browser refuses with credentials:
/// predicted blocked, whether `*` is the rule's first origin or not.
#[test]
fn credentialed_cases_of_wildcard_rules_are_predicted_blocked() {
    for origins in [&["*"][..], &["https://a.example", "*"][..]] {
        let config = CorsConfig::new(vec![rule(&["GET", "PUT"], origins, &[])]);
        let cases = matrix(Some(&config), false);
        let c = cases
            .iter()
            .find(|c| c.credentials)
            .expect("a credentialed case");
        assert!(c.request.is_preflight(), "{}", c.name);
        assert_eq!(c.expected.verdict, Verdict::Matched);
        let why = c.expected_browser_verdict().expect_err("blocked");
        assert!(
            why.starts_with("preflight: credentialed request but Access-Control-Allow-Origin is *"),
            "{why}"
        );
        assert_eq!(cases.iter().filter(|c| c.credentials).count(), 1);
    }
}

#[test]
fn negative_cases_only_when_they_exist() {
    type Row<'a> = (&'a str, CorsConfig, &'a [&'a str]);
    let every_method = rule(&["GET", "PUT", "POST", "DELETE", "HEAD"], &["*"], &["*"]);
    let cases: Vec<Row> = vec![
        // `*` allows every origin and every header: no unlisted origin or header.
        (
            "wildcard everything",
            CorsConfig::new(vec![every_method]),
            &["preflight PATCH from https://s3cors-verify.example"],
        ),
        // An unlisted origin falls back to the next candidate when the first is allowed.
        (
            "first candidate allowed",
            CorsConfig::new(vec![rule(
                &["GET"],
                &["https://s3cors-unlisted.example"],
                &["*"],
            )]),
            &[
                "preflight GET from http://s3cors-unlisted.invalid",
                "preflight PUT from https://s3cors-unlisted.example",
            ],
        ),
    ];
    for (what, config, want) in cases {
        let negatives: Vec<String> = matrix(Some(&config), false)
            .into_iter()
            .filter(|c| {
                !matches!(
                    c.purpose,
                    Purpose::Allowed { .. } | Purpose::Credentialed { .. } | Purpose::NoOrigin
                )
            })
            .map(|c| c.name)
            .collect();
        assert_eq!(negatives, *want, "{what}");
    }
}

/// Empty origins and header names (S3 accepts them) match nothing: no case sends an
/// empty Origin or asks for an empty header, and the other values are still tested.
#[test]
fn empty_values_get_no_cases() {
    let config = CorsConfig::new(vec![
        rule(&["GET"], &[""], &["x-a"]),
        rule(&["PUT"], &["", "https://a.example"], &["", "x-b"]),
    ]);
    let cases = matrix(Some(&config), true);
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "preflight PUT from https://a.example",
            "preflight PUT from https://a.example with x-b",
            "GET from https://a.example",
            "HEAD from https://a.example",
            "credentialed preflight PUT from https://a.example",
            "preflight GET from https://s3cors-unlisted.example",
            "GET from https://s3cors-unlisted.example",
            "preflight POST from https://a.example",
            "GET asking for POST from https://a.example",
            "preflight PUT from https://a.example with x-s3cors-unlisted",
            "GET asking for PUT from https://a.example with x-s3cors-unlisted",
            "preflight GET without Origin",
        ]
    );
    for case in &cases {
        assert_ne!(case.request.origin.as_deref(), Some(""), "{}", case.name);
    }
    // The rule whose only origin is empty is never reached.
    assert!(cases.iter().all(|c| c.expected.matched != Some(0)));
}

#[test]
fn matrix_for_no_cors_and_duplicates() {
    let none = matrix(None, true);
    assert_eq!(
        summary(&none),
        vec![
            row(
                "preflight GET from https://s3cors-verify.example",
                Verdict::CorsNotEnabled,
                Some(403)
            ),
            row(
                "GET from https://s3cors-verify.example",
                Verdict::CorsNotEnabled,
                None
            ),
            row(
                "HEAD from https://s3cors-verify.example",
                Verdict::CorsNotEnabled,
                None
            ),
            row(
                "preflight GET without Origin",
                Verdict::MissingOrigin,
                Some(400)
            ),
        ]
    );
    assert!(
        none.iter()
            .take(3)
            .all(|c| c.purpose == Purpose::CorsDisabled)
    );

    // A rule repeated: its requests are sent once, and all are answered by rule 0.
    let r = rule(&["GET"], &["https://a.example"], &[]);
    let cases = matrix(Some(&CorsConfig::new(vec![r.clone(), r])), false);
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "preflight GET from https://a.example",
            "credentialed preflight GET from https://a.example",
            "preflight GET from https://s3cors-unlisted.example",
            "preflight PUT from https://a.example",
            "preflight GET from https://a.example with x-s3cors-unlisted",
            "preflight GET without Origin",
        ]
    );
}

#[test]
fn a_shadowed_rule_is_predicted_as_the_earlier_match() {
    let config = CorsConfig::new(vec![
        rule(&["GET"], &["*"], &[]),
        CorsRule {
            max_age_seconds: Some(60),
            ..rule(&["GET"], &["https://a.example"], &[])
        },
    ]);
    let cases = matrix(Some(&config), false);
    let case = cases
        .iter()
        .find(|c| {
            c.purpose
                == Purpose::Allowed {
                    rule: 1,
                    origin: "https://a.example".into(),
                }
        })
        .expect("rule 1's case");
    assert_eq!(case.expected.matched, Some(0));
    assert_eq!(
        case.expected.header("Access-Control-Allow-Origin"),
        Some("*")
    );
    assert_eq!(case.expected.header("Access-Control-Max-Age"), None);
}

type Headers = Vec<(String, String)>;

#[test]
fn judge_compares_status_and_every_cors_header() {
    let config = example_c();
    let request = Request::preflight("https://admin.example.com", "PUT", &["Content-Type"]);
    let expected = simulate::simulate(Some(&config), &request);
    let exact = [
        ("access-control-allow-origin", "https://admin.example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "PUT, POST"),
        ("Access-Control-Allow-Headers", "content-type"),
        ("Access-Control-Max-Age", "3600"),
        (
            "Vary",
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
        ("x-amz-request-id", "ignored"),
    ];
    type Row<'a> = (&'a str, Observed, &'a [&'a str]);
    let with = |f: &dyn Fn(&mut Headers)| {
        let mut o = observed(200, &exact);
        f(&mut o.headers);
        o
    };
    let cases: Vec<Row> = vec![
        ("exact", observed(200, &exact), &[]),
        (
            "spacing and header-name case do not matter",
            with(&|h| {
                h[2].1 = "PUT,POST".into();
                h[3].1 = "Content-Type".into();
            }),
            &[],
        ),
        (
            "Vary compares as a set, split over several fields",
            with(&|h| {
                h[5].1 = "access-control-request-method, Origin".into();
                h.push(("vary".into(), "Access-Control-Request-Headers".into()));
            }),
            &[],
        ),
        ("status", observed(403, &exact), &["status"]),
        (
            "missing header",
            with(&|h| {
                h.remove(4);
            }),
            &["Access-Control-Max-Age"],
        ),
        (
            "method order matters",
            with(&|h| h[2].1 = "POST, PUT".into()),
            &["Access-Control-Allow-Methods"],
        ),
        (
            "origin is exact",
            with(&|h| h[0].1 = "*".into()),
            &["Access-Control-Allow-Origin"],
        ),
        (
            "unexpected header",
            with(&|h| h.push(("Access-Control-Expose-Headers".into(), "ETag".into()))),
            &["Access-Control-Expose-Headers"],
        ),
        (
            "unknown access-control header",
            with(&|h| h.push(("Access-Control-Allow-Private-Network".into(), "true".into()))),
            &["access-control-allow-private-network"],
        ),
        (
            "Vary missing Origin",
            with(&|h| {
                h[5].1 = "Access-Control-Request-Headers, Access-Control-Request-Method".into()
            }),
            &["Vary"],
        ),
    ];
    for (what, actual, want) in cases {
        let j = judge(&expected, &actual);
        let got: Vec<&str> = j.differences().map(|c| c.field.as_str()).collect();
        assert_eq!(got, want, "{what}");
        assert_eq!(j.pass, want.is_empty(), "{what}");
    }
}

#[test]
fn judge_a_refusal_and_an_actual_request() {
    let config = example_c();
    // A refused preflight: 403 and no CORS header at all.
    let refused = simulate::simulate(
        Some(&config),
        &Request::preflight("https://evil.example", "GET", &[]),
    );
    assert!(judge(&refused, &observed(403, &[])).pass);
    let j = judge(
        &refused,
        &observed(200, &[("Access-Control-Allow-Origin", "*")]),
    );
    let got: Vec<&str> = j.differences().map(|c| c.field.as_str()).collect();
    assert_eq!(got, ["status", "Access-Control-Allow-Origin"]);

    // An actual GET: the status is not compared (it is the object's), the headers are.
    let get = simulate::simulate(
        Some(&config),
        &Request::actual(Some("https://cdn.example.com"), "GET"),
    );
    let headers = [
        ("Access-Control-Allow-Origin", "https://cdn.example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "GET, HEAD"),
        ("Access-Control-Expose-Headers", "ETag, x-amz-request-id"),
        ("Access-Control-Max-Age", "86400"),
        (
            "Vary",
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    ];
    let j = judge(&get, &observed(404, &headers));
    assert!(j.pass, "{j:?}");
    assert!(j.checks.iter().all(|c| c.field != "status"));
}

#[test]
fn error_codes_from_s3_bodies() {
    let cases = [
        (
            "<?xml version='1.0'?><Error><Code>AccessForbidden</Code><Message>x</Message></Error>",
            Some("AccessForbidden"),
        ),
        ("<Error><Code> NoSuchKey </Code></Error>", Some("NoSuchKey")),
        ("", None),
        ("<Code>unterminated", None),
    ];
    for (body, want) in cases {
        assert_eq!(error_code(body).as_deref(), want, "{body}");
    }
}
