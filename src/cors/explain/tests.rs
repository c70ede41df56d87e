//! Explanation tests: reasons with their places, notes, and the three renderings.

use super::*;
use crate::cors::fixtures::rule;
use crate::model::CorsRule;

fn example_c() -> (CorsConfig, Vec<RuleSource>) {
    let config = CorsConfig::new(vec![
        CorsRule {
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(86400),
            ..rule(
                &["GET", "HEAD"],
                &["https://app.example.com", "https://cdn.example.com"],
                &["*"],
            )
        },
        CorsRule {
            id: Some("admin-writes".into()),
            max_age_seconds: Some(3600),
            ..rule(
                &["PUT", "POST"],
                &["https://admin.example.com"],
                &["Content-Type"],
            )
        },
    ]);
    let source = |line: usize, set: Option<&str>| RuleSource {
        rule: format!("p.yaml:{line}"),
        ruleset: set.map(str::to_string),
        headers: format!("p.yaml:{}", line),
        methods: format!("p.yaml:{}", line + 1),
        origins: format!("p.yaml:{}", line + 2),
    };
    (config, vec![source(5, None), source(10, Some("uploads"))])
}

fn policy() -> RulesFrom {
    RulesFrom::Policy {
        entry: "p.yaml:3".into(),
        selector: "name: uploads".into(),
    }
}

/// `explain` of `request` against example C, as the policy's entry `uploads` declares it.
fn explain_uploads(request: &Request) -> Explanation {
    let (config, sources) = example_c();
    explain(
        "uploads",
        policy(),
        Some(&config),
        &sources,
        request,
        vec![],
    )
}

#[test]
fn a_match_after_a_skipped_rule() {
    let e = explain_uploads(&Request::preflight(
        "https://admin.example.com",
        "PUT",
        &["Content-Type"],
    ));
    insta::assert_snapshot!(human(&e, false), @r#"
    Bucket uploads: desired rules of `name: uploads` at p.yaml:3 (2 rules)
    Request: preflight OPTIONS, Origin: https://admin.example.com, Access-Control-Request-Method: PUT, Access-Control-Request-Headers: content-type

    MATCH rule 2 (ID "admin-writes") from ruleset uploads at p.yaml:10, AllowedOrigins "https://admin.example.com"
      skipped rule 1 at p.yaml:5:
        - method: PUT is not in AllowedMethods [GET, HEAD] (p.yaml:6)
        - origin: https://admin.example.com matches no AllowedOrigins [https://app.example.com, https://cdn.example.com] (p.yaml:7)

    S3 would answer 200 OK with:
      Access-Control-Allow-Origin: https://admin.example.com
      Access-Control-Allow-Credentials: true
      Access-Control-Allow-Methods: PUT, POST
      Access-Control-Allow-Headers: content-type
      Access-Control-Max-Age: 3600
      Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method

    Browser: allowed — the preflight and the actual request pass the CORS check
    note: content-type is CORS-safelisted with application/x-www-form-urlencoded, multipart/form-data or text/plain: browsers ask for it in Access-Control-Request-Headers only with another value (such as application/json), which the browser verdict assumes
    "#);
}

#[test]
fn a_miss_names_each_failed_part() {
    let e = explain_uploads(&Request::preflight(
        "https://admin.example.com/",
        "put",
        &["X-Trace"],
    ));
    insta::assert_snapshot!(human(&e, false), @r#"
    Bucket uploads: desired rules of `name: uploads` at p.yaml:3 (2 rules)
    Request: preflight OPTIONS, Origin: https://admin.example.com/, Access-Control-Request-Method: put, Access-Control-Request-Headers: x-trace

    NO MATCH no rule allows this request
      failed rule 1 at p.yaml:5:
        - method: put is not in AllowedMethods [GET, HEAD] (p.yaml:6)
        - origin: https://admin.example.com/ matches no AllowedOrigins [https://app.example.com, https://cdn.example.com] (p.yaml:7)
      failed rule 2 (ID "admin-writes") from ruleset uploads at p.yaml:10:
        - method: put is not in AllowedMethods [PUT, POST] (p.yaml:11)
        - origin: https://admin.example.com/ matches no AllowedOrigins [https://admin.example.com] (p.yaml:12)
        - header: x-trace matches no AllowedHeaders [Content-Type] (p.yaml:10)

    S3 would answer 403 AccessForbidden: CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec., with no CORS headers.

    Browser: blocked — preflight: no Access-Control-Allow-Origin
    note: methods are case-sensitive: S3 matches `put` against no rule; browsers send `PUT`
    note: browsers send Origin without a path or trailing slash; `https://admin.example.com/` has one
    "#);
}

/// An actual request carrying `Access-Control-Request-*` is matched with them, as S3
/// does: the explanation names them and says browsers do not send them.
#[test]
fn an_actual_request_carrying_access_control_request_headers() {
    let request = Request {
        origin: Some("https://cdn.example.com".into()),
        method: "GET".into(),
        access_control_request_method: Some("PUT".into()),
        access_control_request_headers: vec!["x-foo".into()],
    };
    let e = explain_uploads(&request);
    assert_eq!(e.verdict, Verdict::NotAllowed);
    assert_eq!((e.status, e.headers.len()), (None, 0));
    assert_eq!(e.request.request_method.as_deref(), Some("PUT"));
    assert_eq!(
        (e.request.method.as_str(), e.request.http_method.as_str()),
        ("PUT", "GET")
    );
    let text = human(&e, false);
    for needle in [
        "Request: actual GET, Origin: https://cdn.example.com, Access-Control-Request-Method: PUT, Access-Control-Request-Headers: x-foo",
        "- method: PUT is not in AllowedMethods [GET, HEAD] (p.yaml:6)",
        "- header: x-foo matches no AllowedHeaders [Content-Type] (p.yaml:10)",
        "note: browsers send Access-Control-Request-Method and -Headers only on preflights",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The same GET without them matches rule 1.
    let plain = explain_uploads(&Request::actual(Some("https://cdn.example.com"), "GET"));
    assert_eq!(plain.verdict, Verdict::Matched);
    assert_eq!(plain.request.request_method, None);
    assert!(plain.notes.is_empty(), "{:?}", plain.notes);
}

#[test]
fn live_rules_and_no_configuration() {
    let (config, _) = example_c();
    let live = || RulesFrom::Live {
        endpoint: Endpoint::Aws,
        state: LiveState::CorsConfiguration,
    };
    let request = Request::actual(Some("https://cdn.example.com"), "GET");
    let e = explain("b", live(), Some(&config), &[], &request, vec![]);
    let m = e.matched.as_ref().expect("match");
    assert_eq!((m.rule.number, m.rule.location.as_deref()), (1, None));
    assert_eq!(e.status, None);
    assert!(human(&e, false).contains("S3 would answer the object's normal response with:"));

    let e = explain("b", live(), None, &[], &request, vec!["n".into()]);
    assert_eq!(e.verdict, Verdict::CorsNotEnabled);
    let text = human(&e, false);
    assert!(
        text.contains("live configuration from aws (no CORS configuration)"),
        "{text}"
    );
    assert!(
        text.contains("NO MATCH the bucket has no CORS configuration"),
        "{text}"
    );
    assert!(text.contains("note: n"), "{text}");
}

#[test]
fn json_shape() {
    let e = explain_uploads(&Request::preflight(
        "https://cdn.example.com",
        "DELETE",
        &[],
    ));
    insta::assert_json_snapshot!(e);
    assert!(json(&e).ends_with("}\n"));
    let md = markdown(&e);
    assert!(
        md.starts_with("### `s3cors explain`: <code>uploads</code>"),
        "{md}"
    );
    assert!(
        md.contains("- **No match**: no rule allows this request"),
        "{md}"
    );
}

/// Live rules are untrusted: their IDs, origins and headers are shown escaped in
/// human output and inert in markdown.
#[test]
fn hostile_live_rules_are_shown_not_obeyed() {
    let evil = CorsConfig::new(vec![CorsRule {
        id: Some("x\u{1b}]0;pwned\u{7}".into()),
        expose_headers: vec!["<img src=x>\u{1b}[2J".into()],
        ..rule(&["GET"], &["https://a.example\u{1b}[31m", "*"], &["*"])
    }]);
    let e = explain(
        "b",
        RulesFrom::Live {
            endpoint: Endpoint::Custom("http://127.0.0.1:1".into()),
            state: LiveState::CorsConfiguration,
        },
        Some(&evil),
        &[],
        &Request::preflight("https://z.example", "GET", &["x-\u{1b}"]),
        vec!["note \u{7}".into()],
    );
    let text = human(&e, false);
    assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
    assert!(text.contains("\\u{1b}[2J"), "{text}");
    let md = markdown(&e);
    assert!(!md.contains('\u{1b}') && !md.contains("<img"), "{md}");
}

/// A preflight without `Access-Control-Request-Method` and one without `Origin`: S3's
/// exact answer in each rendering, and a note only where the missing method decides.
#[test]
fn preflights_missing_a_header() {
    let bare = |origin: Option<&str>| Request {
        origin: origin.map(str::to_string),
        method: "OPTIONS".into(),
        access_control_request_method: None,
        access_control_request_headers: vec![],
    };
    let e = explain_uploads(&bare(Some("https://app.example.com")));
    assert_eq!(
        (e.verdict, e.status, e.request.request_method.as_deref()),
        (Verdict::NotAllowed, Some(403), None)
    );
    assert_eq!(e.request.method, "OPTIONS");
    assert_eq!(e.rejected.len(), 2);
    assert_eq!(e.notes.len(), 1, "{:?}", e.notes);
    assert!(e.notes[0].contains("browsers always send Access-Control-Request-Method"));
    let text = human(&e, false);
    assert!(
        text.contains("Request: preflight OPTIONS, Origin: https://app.example.com\n"),
        "{text}"
    );
    assert!(
        text.contains("- method: OPTIONS is not in AllowedMethods [GET, HEAD] (p.yaml:6)"),
        "{text}"
    );

    let no_origin = "400 BadRequest: Insufficient information. Origin request header needed.";
    for request in [
        bare(None),
        Request {
            origin: None,
            ..Request::preflight("", "PUT", &["content-type"])
        },
    ] {
        let e = explain_uploads(&request);
        assert_eq!(
            (
                e.verdict,
                e.status,
                e.error.as_ref().map(|x| x.code.as_str())
            ),
            (Verdict::MissingOrigin, Some(400), Some("BadRequest"))
        );
        assert!(e.notes.is_empty(), "{:?}", e.notes);
        assert!(e.rejected.is_empty() && e.headers.is_empty());
        let text = human(&e, false);
        assert!(
            text.contains(&format!(
                "S3 would answer {no_origin}, with no CORS headers."
            )),
            "{text}"
        );
        assert!(
            text.contains("NO MATCH the request has no Origin header"),
            "{text}"
        );
        let md = markdown(&e);
        assert!(
            md.contains(&format!("- S3 would answer: {no_origin}")),
            "{md}"
        );
        assert!(md.contains("no Origin"), "{md}");
        let doc: serde_json::Value = serde_json::from_str(&json(&e)).expect("json");
        assert_eq!(doc["status"], 400);
        assert_eq!(doc["verdict"], "missing-origin");
        assert_eq!(doc["request"]["origin"], serde_json::Value::Null);
        assert_eq!(
            doc["error"]["message"],
            "Insufficient information. Origin request header needed."
        );
    }
}

/// `--live` on a bucket that does not exist: every request shape gets S3's answer.
#[test]
fn live_missing_bucket() {
    let missing = || RulesFrom::Live {
        endpoint: Endpoint::Custom("http://127.0.0.1:1".into()),
        state: LiveState::NoSuchBucket,
    };
    let run = |request: &Request| explain("gone", missing(), None, &[], request, vec![]);
    let preflight = run(&Request::preflight("https://app.example.com", "GET", &[]));
    insta::assert_json_snapshot!(preflight);
    let text = human(&preflight, false);
    assert!(
        text.starts_with(
            "Bucket gone: live configuration from http://127.0.0.1:1: the bucket does not exist (NoSuchBucket)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("NO MATCH the bucket does not exist"),
        "{text}"
    );
    assert!(
        text.contains(
            "S3 would answer 403 AccessForbidden: CORSResponse: Bucket not found, with no CORS headers."
        ),
        "{text}"
    );
    let md = markdown(&preflight);
    assert!(
        md.contains("- **No match**: the bucket does not exist"),
        "{md}"
    );

    let get = run(&Request::actual(Some("https://app.example.com"), "GET"));
    assert_eq!(
        (get.verdict, get.status),
        (Verdict::NoSuchBucket, Some(404))
    );
    assert!(
        human(&get, false).contains(
            "S3 would answer 404 NoSuchBucket: The specified bucket does not exist, with no CORS headers."
        ),
        "{}",
        human(&get, false)
    );
    let head = run(&Request::actual(None, "HEAD"));
    assert_eq!((head.status, head.error.as_ref()), (Some(404), None));
    assert!(
        human(&head, false)
            .contains("S3 would answer 404 without a body (HEAD), with no CORS headers."),
        "{}",
        human(&head, false)
    );
    let no_origin = run(&Request {
        origin: None,
        ..Request::preflight("", "GET", &[])
    });
    assert_eq!(
        (no_origin.verdict, no_origin.status),
        (Verdict::MissingOrigin, Some(400))
    );
    // Without rules, a bare preflight is refused for the bucket, not the method.
    let bare = run(&Request {
        access_control_request_method: None,
        ..Request::preflight("https://app.example.com", "GET", &[])
    });
    assert_eq!(
        (bare.verdict, bare.status),
        (Verdict::NoSuchBucket, Some(403))
    );
    assert!(bare.notes.is_empty(), "{:?}", bare.notes);
}

/// S3 matches a credentialed GET from any origin on a `*` rule, and the browser
/// blocks it: the explanation says both.
#[test]
fn a_match_the_browser_blocks() {
    let config = crate::cors::fixtures::example_b();
    let request = Request::actual(Some("https://app.example.com"), "GET");
    let live = || RulesFrom::Live {
        endpoint: Endpoint::Aws,
        state: LiveState::CorsConfiguration,
    };
    let e = explain_fetch("b", live(), Some(&config), &[], &request, true, vec![]);
    assert_eq!(e.verdict, Verdict::Matched);
    let b = e.browser.as_ref().expect("a verdict");
    assert!(!b.allowed && b.credentials && !b.preflight, "{b:?}");
    let text = human(&e, false);
    for needle in [
        "Request: actual GET, Origin: https://app.example.com, with credentials\n",
        "MATCH rule 1",
        "Browser: blocked — actual GET: credentialed request but Access-Control-Allow-Origin is *",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let md = markdown(&e);
    assert!(
        md.contains("- Browser: **blocked** — actual GET: credentialed request but Access-Control-Allow-Origin is &#42;"),
        "{md}"
    );
    let value: serde_json::Value = serde_json::from_str(&json(&e)).unwrap();
    assert_eq!(value["browser"]["allowed"], false);
    assert_eq!(value["version"], VERSION);

    // Without credentials the same request is allowed.
    let e = explain("b", live(), Some(&config), &[], &request, vec![]);
    let b = e.browser.as_ref().expect("a verdict");
    assert!(b.allowed && !b.credentials, "{b:?}");
    assert!(human(&e, false).contains("Browser: allowed — no preflight"));

    // No Origin: no browser verdict, and a note when credentials were asked for.
    let no_origin = Request::actual(None, "GET");
    let e = explain("b", live(), Some(&config), &[], &no_origin, vec![]);
    assert_eq!(e.browser, None);
    assert!(!human(&e, false).contains("Browser:"));
    assert!(e.notes.is_empty(), "{:?}", e.notes);
    let e = explain_fetch("b", live(), Some(&config), &[], &no_origin, true, vec![]);
    assert_eq!(e.browser, None);
    assert!(
        human(&e, false).contains("note: --credentials without an Origin: no cross-origin request"),
        "{:?}",
        e.notes
    );
}

/// A header browsers never ask for gets a note, and leaves the preflight out of the
/// browser's verdict; S3's answer is still for the request as given.
#[test]
fn safelisted_headers_are_noted() {
    let e = explain_uploads(&Request::preflight(
        "https://app.example.com",
        "GET",
        &["Accept", "accept"],
    ));
    let b = e.browser.as_ref().expect("a verdict");
    assert_eq!(b.safelisted_headers, vec!["accept"]);
    assert!(b.allowed && !b.preflight, "{b:?}");
    let notes: Vec<&String> = e
        .notes
        .iter()
        .filter(|n| n.contains("CORS-safelisted"))
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", e.notes);
    assert!(human(&e, false).contains(
        "note: accept is a CORS-safelisted request header: browsers never ask for it in Access-Control-Request-Headers"
    ));
}
