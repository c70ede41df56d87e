//! Tables of the browser's decisions: the CORS check, the preflight checks, and whole
//! fetches against the example configurations.

use super::*;
use crate::cors::fixtures::{example_a, example_b, example_c, rule};
use crate::cors::simulate::{Outcome, ResponseHeader, Verdict};

/// A response with these headers (the simulator's type, as the checks read it).
fn response(headers: &[(&str, &str)]) -> Outcome {
    Outcome {
        verdict: Verdict::Matched,
        preflight: true,
        method: "GET".into(),
        requested_headers: vec![],
        matched: None,
        matched_origin: None,
        status: Some(200),
        error: None,
        headers: headers
            .iter()
            .map(|(n, v)| ResponseHeader {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        rejected: vec![],
    }
}

const O: &str = "https://app.example.com";

#[test]
#[allow(clippy::type_complexity)]
fn cors_check_table() {
    // (Allow-Origin, Allow-Credentials, credentials, Ok or a word of the error)
    let table: &[(Option<&str>, Option<&str>, bool, Result<(), &str>)] = &[
        (Some("*"), None, false, Ok(())),
        (
            Some("*"),
            None,
            true,
            Err("credentialed request but Access-Control-Allow-Origin is *"),
        ),
        (Some("*"), Some("true"), true, Err("is *")),
        (Some(O), None, false, Ok(())),
        (Some(O), Some("true"), true, Ok(())),
        (
            Some(O),
            None,
            true,
            Err("no Access-Control-Allow-Credentials"),
        ),
        (Some(O), Some("True"), true, Err("not \"true\"")),
        (
            Some("https://app.example.com/"),
            Some("true"),
            false,
            Err("not the page's origin"),
        ),
        (
            Some("https://APP.example.com"),
            None,
            false,
            Err("not the page's origin"),
        ),
        (None, None, false, Err("no Access-Control-Allow-Origin")),
        (
            None,
            Some("true"),
            true,
            Err("no Access-Control-Allow-Origin"),
        ),
    ];
    for (acao, acac, credentials, want) in table {
        let mut headers = Vec::new();
        if let Some(v) = acao {
            headers.push((ALLOW_ORIGIN, *v));
        }
        if let Some(v) = acac {
            headers.push((ALLOW_CREDENTIALS, *v));
        }
        let got = cors_check(&response(&headers), O, *credentials);
        match (want, &got) {
            (Ok(()), Ok(())) => {}
            (Err(word), Err(msg)) if msg.contains(word) => {}
            _ => panic!("{acao:?} {acac:?} credentials={credentials}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn two_allow_origin_fields_fail() {
    let r = response(&[(ALLOW_ORIGIN, O), (ALLOW_ORIGIN, O)]);
    assert!(cors_check(&r, O, false).is_err());
}

#[test]
fn preflight_check_table() {
    let h = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    // (status, Allow-Origin, Allow-Methods, Allow-Headers, method, headers, credentials, want)
    #[allow(clippy::type_complexity)]
    let table: &[(
        u16,
        &str,
        &str,
        &str,
        &str,
        Vec<String>,
        bool,
        Result<(), &str>,
    )] = &[
        (200, "*", "GET, HEAD", "", "GET", h(&[]), false, Ok(())),
        (204, "*", "GET", "", "GET", h(&[]), false, Ok(())),
        (
            403,
            "*",
            "GET",
            "",
            "GET",
            h(&[]),
            false,
            Err("answered 403, not a 2xx status"),
        ),
        (
            200,
            "*",
            "GET",
            "",
            "PUT",
            h(&[]),
            false,
            Err("PUT is not in Access-Control-Allow-Methods (GET)"),
        ),
        (200, "*", "*", "", "PUT", h(&[]), false, Ok(())),
        (
            200,
            O,
            "*",
            "",
            "PUT",
            h(&[]),
            true,
            Err("* does not count for a credentialed request"),
        ),
        (
            200,
            O,
            "PUT",
            "",
            "PUT",
            h(&[]),
            true,
            Err("no Access-Control-Allow-Credentials"),
        ),
        // A safelisted method needs no Allow-Methods at all.
        (200, "*", "", "", "POST", h(&[]), false, Ok(())),
        (200, "*", "GET", "x-a", "GET", h(&["x-a"]), false, Ok(())),
        (200, "*", "GET", "X-A", "GET", h(&["x-a"]), false, Ok(())),
        (
            200,
            "*",
            "GET",
            "x-a",
            "GET",
            h(&["x-a", "x-b"]),
            false,
            Err("x-b is not in Access-Control-Allow-Headers (x-a)"),
        ),
        (200, "*", "GET", "*", "GET", h(&["x-b"]), false, Ok(())),
        (
            200,
            "*",
            "GET",
            "*",
            "GET",
            h(&["authorization"]),
            false,
            Err("* never covers authorization"),
        ),
        (
            200,
            "*",
            "GET",
            "*, authorization",
            "GET",
            h(&["authorization"]),
            false,
            Ok(()),
        ),
        (
            200,
            O,
            "GET",
            "*",
            "GET",
            h(&["x-b"]),
            true,
            Err("* does not count for a credentialed request"),
        ),
        (
            200,
            "https://other.example",
            "GET",
            "",
            "GET",
            h(&[]),
            false,
            Err("not the page's origin"),
        ),
    ];
    for (status, acao, methods, headers, method, names, credentials, want) in table {
        let mut response_headers = vec![(ALLOW_ORIGIN, *acao)];
        if *acao != "*" {
            response_headers.push((ALLOW_CREDENTIALS, "true"));
        }
        if !methods.is_empty() {
            response_headers.push((ALLOW_METHODS, *methods));
        }
        if !headers.is_empty() {
            response_headers.push((ALLOW_HEADERS, *headers));
        }
        // The Allow-Credentials case: the exact origin without it.
        if want.is_err_and(|w| w.contains("no Access-Control-Allow-Credentials")) {
            response_headers.retain(|(n, _)| *n != ALLOW_CREDENTIALS);
        }
        let got = preflight_check(
            *status,
            &response(&response_headers),
            O,
            method,
            names,
            *credentials,
        );
        match (want, &got) {
            (Ok(()), Ok(())) => {}
            (Err(word), Err(msg)) if msg.contains(word) => {}
            _ => panic!(
                "{status} {acao} {methods:?} {headers:?} {method} {names:?} credentials={credentials}: want {want:?}, got {got:?}"
            ),
        }
    }
}

#[test]
fn safelisted_headers_and_methods() {
    assert_eq!(safelist("Accept"), Safelist::Always);
    assert_eq!(safelist("accept-language"), Safelist::Always);
    assert_eq!(safelist("Content-Language"), Safelist::Always);
    assert_eq!(safelist("Content-Type"), Safelist::SomeValues);
    assert_eq!(safelist("range"), Safelist::SomeValues);
    assert_eq!(safelist("authorization"), Safelist::Never);
    assert_eq!(safelist("x-amz-date"), Safelist::Never);
    assert_eq!(
        unsafe_headers(&[
            "X-B".into(),
            "accept".into(),
            "x-a, Content-Type".into(),
            "x-a".into()
        ]),
        vec!["content-type", "x-a", "x-b"]
    );
    assert!(
        safelist_note("Accept")
            .unwrap()
            .contains("never ask for it")
    );
    assert!(
        safelist_note("content-type")
            .unwrap()
            .contains("application/json")
    );
    assert!(safelist_note("x-a").is_none());
    for m in ["GET", "HEAD", "POST"] {
        assert!(safelisted_method(m));
    }
    for m in ["PUT", "DELETE", "get", "PATCH"] {
        assert!(!safelisted_method(m));
    }
    assert_eq!(normalize_method("put"), "PUT");
    assert_eq!(normalize_method("patch"), "patch");
}

fn fetch(origin: &str, method: &str, headers: &[&str], credentials: bool) -> Fetch {
    Fetch {
        origin: origin.into(),
        method: method.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        credentials,
    }
}

#[test]
fn whole_fetches_against_the_examples() {
    let exact_with_put = CorsConfig::new(vec![rule(&["GET", "PUT"], &[O], &["x-custom"])]);
    let star_and_exact = CorsConfig::new(vec![rule(&["GET"], &["*", O], &[])]);
    let (a, b, c) = (example_a(), example_b(), example_c());
    // (config, fetch, allowed, preflight, a word of the reason)
    let table: Vec<(Option<&CorsConfig>, Fetch, bool, bool, &str)> = vec![
        // Example B: `*` for GET/HEAD, any header.
        (
            Some(&b),
            fetch(O, "GET", &[], false),
            true,
            false,
            "no preflight",
        ),
        (
            Some(&b),
            fetch(O, "GET", &[], true),
            false,
            false,
            "actual GET: credentialed request but Access-Control-Allow-Origin is *",
        ),
        (
            Some(&b),
            fetch(O, "GET", &["x-custom"], false),
            true,
            true,
            "preflight and the actual",
        ),
        (
            Some(&b),
            fetch(O, "GET", &["x-custom"], true),
            false,
            true,
            "preflight: credentialed request but Access-Control-Allow-Origin is *",
        ),
        (
            Some(&b),
            fetch(O, "PUT", &[], false),
            false,
            true,
            "preflight: no Access-Control-Allow-Origin",
        ),
        // Example A: the exact origin, Content-Type and Authorization.
        (
            Some(&a),
            fetch(O, "GET", &[], true),
            true,
            false,
            "with credentials",
        ),
        (
            Some(&a),
            fetch(O, "GET", &["Authorization"], true),
            true,
            true,
            "with credentials",
        ),
        (
            Some(&a),
            fetch(O, "GET", &["x-custom"], false),
            false,
            true,
            "preflight: no Access-Control-Allow-Origin",
        ),
        (
            Some(&a),
            fetch("https://evil.example", "GET", &[], false),
            false,
            false,
            "actual GET: no Access-Control-Allow-Origin",
        ),
        // A safelisted header causes no preflight, even if no rule allows it.
        (
            Some(&a),
            fetch(O, "get", &["Accept", "Content-Language"], true),
            true,
            false,
            "no preflight",
        ),
        // Example C: admin writes need the preflight.
        (
            Some(&c),
            fetch("https://admin.example.com", "PUT", &["Content-Type"], true),
            true,
            true,
            "with credentials",
        ),
        (
            Some(&c),
            fetch("https://admin.example.com", "DELETE", &[], false),
            false,
            true,
            "preflight: no Access-Control-Allow-Origin",
        ),
        (
            Some(&exact_with_put),
            fetch(O, "put", &["X-Custom"], true),
            true,
            true,
            "preflight and the actual",
        ),
        // `*` beside the exact origin: S3 answers `*`, so credentials fail.
        (
            Some(&star_and_exact),
            fetch(O, "GET", &[], true),
            false,
            false,
            "is *",
        ),
        (
            None,
            fetch(O, "GET", &[], false),
            false,
            false,
            "actual GET: no Access-Control-Allow-Origin",
        ),
        (
            Some(&b),
            fetch(O, "TRACE", &[], false),
            false,
            true,
            "forbidden method",
        ),
    ];
    for (config, f, allowed, preflight, word) in table {
        let v = decide(config, &f);
        assert_eq!(
            (v.allowed, v.preflight),
            (allowed, preflight),
            "{f:?}: {v:?}"
        );
        assert!(
            v.reason.contains(word),
            "{f:?}: {:?} lacks {word:?}",
            v.reason
        );
        assert_eq!(v.credentials, f.credentials);
    }
    let v = decide(
        Some(&example_a()),
        &fetch(O, "GET", &["accept", "Accept"], false),
    );
    assert_eq!(v.safelisted_headers, vec!["accept"]);
}
