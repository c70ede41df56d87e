//! Lint tests: firing and non-firing cases per code, and the shadowing decision against
//! brute force over a small universe of requests.

use super::*;
use crate::cors::fixtures::{example_a, example_b, example_c, rule};
use crate::cors::simulate::{self, Request};

/// A read-only rule that triggers no lint by itself.
fn clean(origins: &[&str]) -> CorsRule {
    rule(&["GET"], origins, &[])
}

/// A write rule that triggers no lint by itself.
fn upload(origins: &[&str]) -> CorsRule {
    CorsRule {
        expose_headers: vec!["ETag".into()],
        ..rule(&["PUT"], origins, &["Content-Type"])
    }
}

/// `code rules[i].Field[k] (related j)`, one per finding.
fn show(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let mut s = format!("{} rules[{}]", f.code, f.rule);
            if let Some(field) = f.field {
                s.push_str(&format!(".{field}"));
            }
            if let Some(value) = f.value {
                s.push_str(&format!("[{value}]"));
            }
            if let Some(related) = f.related_rule {
                s.push_str(&format!(" related {related}"));
            }
            s
        })
        .collect()
}

fn check(cases: &[(&str, Vec<CorsRule>, &[&str])]) {
    let mut failures = Vec::new();
    for (name, rules, expected) in cases {
        let actual = show(&lint(&CorsConfig::new(rules.clone())));
        if actual != *expected {
            failures.push(format!(
                "--- {name}\nexpected: {expected:#?}\nactual: {actual:#?}"
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

/// Which lints run without being asked for: the two that were wrong on most real
/// configurations they fired on are off (docs/lints/README.md).
#[test]
fn default_levels() {
    let off: Vec<LintCode> = LintCode::ALL
        .into_iter()
        .filter(|c| !c.is_default_on())
        .collect();
    assert_eq!(
        off,
        [
            LintCode::WildcardOriginWithWrites,
            LintCode::MissingEtagExposure
        ]
    );
}

#[test]
fn codes_are_stable() {
    let codes: Vec<&str> = LintCode::ALL.iter().map(|c| c.as_str()).collect();
    insta::assert_json_snapshot!(codes);
    for code in LintCode::ALL {
        assert_eq!(
            serde_json::to_value(code).ok(),
            Some(serde_json::Value::from(code.as_str()))
        );
        assert_eq!(code.as_str().parse::<LintCode>(), Ok(code));
        assert!(!code.summary().is_empty());
    }
    assert_eq!(
        serde_json::to_value(Field::Id).ok(),
        Some(serde_json::Value::from("ID"))
    );
    assert_eq!(
        serde_json::to_value(Field::AllowedOrigins).ok(),
        Some(serde_json::Value::from("AllowedOrigins"))
    );
}

/// Every code has its docs page, titled with the code.
#[test]
fn every_code_has_a_docs_page() {
    let pages: [(LintCode, &str); 10] = [
        (
            LintCode::ShadowedRule,
            include_str!("../../../docs/lints/shadowed-rule.md"),
        ),
        (
            LintCode::OriginNeverMatches,
            include_str!("../../../docs/lints/origin-never-matches.md"),
        ),
        (
            LintCode::WildcardOriginWithWrites,
            include_str!("../../../docs/lints/wildcard-origin-with-writes.md"),
        ),
        (
            LintCode::HttpOrigin,
            include_str!("../../../docs/lints/http-origin.md"),
        ),
        (
            LintCode::DuplicateValue,
            include_str!("../../../docs/lints/duplicate-value.md"),
        ),
        (
            LintCode::MissingAllowedHeaders,
            include_str!("../../../docs/lints/missing-allowed-headers.md"),
        ),
        (
            LintCode::MissingEtagExposure,
            include_str!("../../../docs/lints/missing-etag-exposure.md"),
        ),
        (
            LintCode::MaxAgeOverBrowserCap,
            include_str!("../../../docs/lints/max-age-over-browser-cap.md"),
        ),
        (
            LintCode::EmptyHeaderName,
            include_str!("../../../docs/lints/empty-header-name.md"),
        ),
        (
            LintCode::NegativeMaxAge,
            include_str!("../../../docs/lints/negative-max-age.md"),
        ),
    ];
    let index = include_str!("../../../docs/lints/README.md");
    for code in LintCode::ALL {
        let page = pages
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, p)| *p)
            .unwrap_or_default();
        assert!(
            page.starts_with(&format!("# `{code}`")),
            "docs/lints/{code}.md title"
        );
        assert!(
            index.contains(&format!("({code}.md)")),
            "README links {code}"
        );
    }
}

#[test]
fn example_configurations() {
    let a = example_a().cors_rules;
    let b = example_b().cors_rules;
    let c = example_c().cors_rules;
    check(&[
        ("A", a, &["max-age-over-browser-cap rules[0].MaxAgeSeconds"]),
        ("B", b, &[]),
        (
            "C",
            c,
            &[
                "max-age-over-browser-cap rules[0].MaxAgeSeconds",
                "missing-etag-exposure rules[1].AllowedMethods[0]",
            ],
        ),
    ]);
}

#[test]
fn shadowed_rule() {
    let with_id = |id: &str, r: CorsRule| CorsRule {
        id: Some(id.into()),
        ..r
    };
    check(&[
        (
            "identical rules",
            vec![clean(&["https://a.com"]), clean(&["https://a.com"])],
            &["shadowed-rule rules[1] related 0"],
        ),
        (
            "public read before a specific read (the wrong-order mistake)",
            vec![
                rule(&["GET", "HEAD"], &["*"], &["*"]),
                rule(&["GET"], &["https://a.com"], &["Authorization"]),
            ],
            &["shadowed-rule rules[1] related 0"],
        ),
        (
            "wildcard host covers a host and a narrower wildcard",
            vec![
                rule(&["GET"], &["https://*.example.com"], &["*"]),
                rule(
                    &["GET"],
                    &["https://a.example.com", "https://*.b.example.com"],
                    &["content-type"],
                ),
            ],
            &["shadowed-rule rules[1] related 0"],
        ),
        (
            "different earlier rules for different methods",
            vec![
                rule(&["GET"], &["https://a.com"], &["content-type"]),
                upload(&["https://a.com"]),
                CorsRule {
                    expose_headers: vec!["ETag".into()],
                    ..rule(&["GET", "PUT"], &["https://a.com"], &["Content-Type"])
                },
            ],
            &["shadowed-rule rules[2] related 0"],
        ),
        (
            "different earlier rules for different origins",
            vec![
                clean(&["https://a.com"]),
                clean(&["https://b.com"]),
                clean(&["https://a.com", "https://b.com"]),
            ],
            &["shadowed-rule rules[2] related 0"],
        ),
        (
            "no AllowedHeaders: only header-less requests, all caught earlier",
            vec![
                rule(&["GET"], &["https://a.com"], &["x-a"]),
                clean(&["https://a.com"]),
            ],
            &["shadowed-rule rules[1] related 0"],
        ),
        (
            "header patterns compare case-insensitively",
            vec![
                rule(&["GET"], &["*"], &["X-Amz-*", "content-type"]),
                rule(
                    &["GET"],
                    &["https://a.com"],
                    &["x-amz-date", "X-AMZ-META-*", "Content-Type"],
                ),
            ],
            &["shadowed-rule rules[1] related 0"],
        ),
        (
            "an earlier rule with IDs named",
            vec![
                with_id("all", rule(&["GET"], &["*"], &[])),
                with_id("app", clean(&["https://a.com"])),
            ],
            &["shadowed-rule rules[1] related 0"],
        ),
        // Not shadowed:
        (
            "specific before broad",
            vec![clean(&["https://a.com"]), clean(&["*"])],
            &[],
        ),
        (
            "later rule allows a header the earlier does not",
            vec![
                rule(&["GET"], &["*"], &[]),
                rule(&["GET"], &["*"], &["content-type"]),
            ],
            &[],
        ),
        (
            "a header set no single earlier rule allows",
            vec![
                rule(&["GET"], &["*"], &["x-a"]),
                rule(&["GET"], &["*"], &["x-b"]),
                rule(&["GET"], &["*"], &["x-a", "x-b"]),
            ],
            &[],
        ),
        (
            "a method the earlier does not allow",
            vec![clean(&["*"]), rule(&["GET", "HEAD"], &["*"], &[])],
            &[],
        ),
        (
            "*.example.com does not cover *example.com",
            vec![
                clean(&["https://*.example.com"]),
                clean(&["https://*example.com"]),
            ],
            &[],
        ),
        (
            "a union of scheme wildcards does not cover *",
            vec![clean(&["https://*"]), clean(&["http://*"]), clean(&["*"])],
            // (`http://*` is any http origin, like `*`: not an `http-origin`.)
            &[],
        ),
        (
            "one origin of the later rule is not covered",
            vec![
                clean(&["https://a.com"]),
                clean(&["https://a.com", "https://b.com"]),
            ],
            &[],
        ),
        (
            "several wildcards are not decided",
            vec![clean(&["*"]), clean(&["https://*.*.com"])],
            &[],
        ),
    ]);
}

#[test]
fn shadowed_rule_message_names_the_earlier_rules() {
    let config = CorsConfig::new(vec![
        CorsRule {
            id: Some("reads".into()),
            ..rule(&["GET"], &["https://a.com"], &["*"])
        },
        upload(&["https://a.com"]),
        CorsRule {
            id: Some("both".into()),
            expose_headers: vec!["ETag".into()],
            ..rule(&["GET", "PUT"], &["https://a.com"], &["Content-Type"])
        },
        clean(&["https://a.com"]),
    ]);
    let messages: Vec<String> = lint(&config).into_iter().map(|f| f.message).collect();
    assert_eq!(
        messages,
        [
            "rules[2] (ID \"both\") never applies: every request it matches is matched first by \
             one of rules[0] (ID \"reads\"), rules[1]",
            "rules[3] never applies: every request it matches is matched first by rules[0] (ID \"reads\")",
        ]
    );
    assert_eq!(shadowed_by(&config, 2), Some(vec![0, 1]));
    assert_eq!(shadowed_by(&config, 1), None);
    assert_eq!(shadowed_by(&config, 0), None);
    assert_eq!(shadowed_by(&config, 9), None);
}

#[test]
fn origin_never_matches() {
    let fires = [
        (
            "https://a.com/",
            "it has a trailing slash",
            Some("https://a.com"),
        ),
        ("https://a.com/app", "it has a path", Some("https://a.com")),
        ("https://a.com?x=1", "it has a query", Some("https://a.com")),
        (
            "https://a.com#top",
            "it has a fragment",
            Some("https://a.com"),
        ),
        ("HTTPS://a.com", "it has upper case", Some("https://a.com")),
        (
            "https://App.example.com",
            "it has upper case",
            Some("https://app.example.com"),
        ),
        ("a.com", "it has no scheme", Some("https://a.com")),
        (
            "localhost:3000",
            "it has no scheme",
            Some("https://localhost:3000"),
        ),
        (
            "https://a.com:443",
            "it names the scheme's default port, which browsers omit",
            Some("https://a.com"),
        ),
        (
            "http://a.com:80",
            "it names the scheme's default port, which browsers omit",
            Some("http://a.com"),
        ),
        (
            "https://*.a.com/",
            "it has a trailing slash",
            Some("https://*.a.com"),
        ),
        ("https://a.com/*", "it has a path", Some("https://a.com")),
        (
            "https://*.A.com",
            "it has upper case",
            Some("https://*.a.com"),
        ),
        (
            " https://a.com",
            "it contains whitespace",
            Some("https://a.com"),
        ),
        ("https://me@a.com", "it has user information", None),
        (
            "https://",
            "it is not of the form scheme://host[:port]",
            None,
        ),
        ("*/", "it is not of the form scheme://host[:port]", None),
        // A URL pasted after its scheme: the inner origin, never `https://https:`.
        (
            "https://https://a.com",
            "it repeats the scheme",
            Some("https://a.com"),
        ),
        (
            "http://https://a.com/",
            "it repeats the scheme",
            Some("https://a.com"),
        ),
        // No rewrite where the host would not be a host.
        ("https://a_b.com/", "it has a trailing slash", None),
        ("https://a.com:x/", "it has a trailing slash", None),
    ];
    for (origin, reason, fix) in fires {
        let findings = lint(&CorsConfig::new(vec![clean(&["https://ok.test", origin])]));
        let found: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == LintCode::OriginNeverMatches)
            .collect();
        assert_eq!(found.len(), 1, "{origin:?}: {findings:#?}");
        let f = found[0];
        assert_eq!(
            (f.field, f.value),
            (Some(Field::AllowedOrigins), Some(1)),
            "{origin:?}"
        );
        assert!(f.message.contains(reason), "{origin:?}: {}", f.message);
        let help = fix.map(|fix| format!("write \"{fix}\""));
        if let Some(help) = help {
            assert_eq!(f.help, help, "{origin:?}");
        } else {
            assert!(
                f.help.starts_with("write it as a browser sends it"),
                "{origin:?}: {}",
                f.help
            );
        }
    }
    // S3 accepts an empty origin; it matches nothing.
    let findings = lint(&CorsConfig::new(vec![clean(&["https://ok.test", ""])]));
    assert_eq!(
        show(&findings),
        ["origin-never-matches rules[0].AllowedOrigins[1]"],
        "{findings:#?}"
    );
    assert!(
        findings[0]
            .message
            .contains("\"\" never matches: it is empty"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].help, "remove the empty entry");
    // A template placeholder gets no made-up origin (`https://${app_origin}`).
    for placeholder in ["${APP_ORIGIN}", "https://{{ domain }}"] {
        let findings = lint(&CorsConfig::new(vec![clean(&[placeholder])]));
        assert!(
            findings[0]
                .help
                .starts_with("this looks like a template placeholder"),
            "{placeholder}: {}",
            findings[0].help
        );
    }
    let silent = [
        "*",
        "https://a.com",
        "https://a.com:8443",
        "http://localhost:3000",
        "https://*.a.com",
        "*.a.com",
        "*a.com",
        "null",
        "capacitor://localhost",
        "chrome-extension://abcdefgh",
        "https://*",
        "http://localhost:*",
        "*://a.com",
        "https://[::1]:8443",
        "https://xn--bcher-kva.example",
    ];
    for origin in silent {
        let findings = lint(&CorsConfig::new(vec![clean(&[origin])]));
        assert!(
            findings
                .iter()
                .all(|f| f.code != LintCode::OriginNeverMatches),
            "{origin:?}: {findings:#?}"
        );
    }
}

#[test]
fn origin_automaton_agrees_with_a_direct_reading() {
    // Literal origins: the automaton accepts exactly `null` and scheme://host[:port] forms.
    let cases = [
        ("null", true),
        ("nul", false),
        ("nullx", false),
        ("nullx://a", true),
        ("https://a", true),
        ("https://", false),
        ("https:/a", false),
        ("1https://a", false),
        ("a+b.c-d://x", true),
        ("https://a/b", false),
        ("https://a b", false),
    ];
    for (origin, expected) in cases {
        assert_eq!(can_match_browser_origin(origin), expected, "{origin:?}");
    }
    // Wildcards: `*` stands for any string, several times too.
    let wild = [
        ("*", true),
        ("n*", true),
        ("*l", true),
        ("*/", false),
        ("*?*", false),
        ("*://*", true),
        ("*:/*", true),
        ("https:*/x", true), // "https:" + "/" + "/x"
        ("https://*/x", false),
        ("*A*", false),
    ];
    for (pattern, expected) in wild {
        assert_eq!(can_match_browser_origin(pattern), expected, "{pattern:?}");
    }
}

#[test]
fn wildcard_origin_with_writes() {
    check(&[
        (
            "* with PUT",
            vec![upload(&["*"])],
            &["wildcard-origin-with-writes rules[0].AllowedOrigins[0]"],
        ),
        (
            "* beside a specific origin, DELETE",
            vec![rule(&["GET", "DELETE"], &["https://a.com", "*"], &[])],
            &["wildcard-origin-with-writes rules[0].AllowedOrigins[1]"],
        ),
        (
            "* with reads only",
            vec![rule(&["GET", "HEAD"], &["*"], &["*"])],
            &[],
        ),
        (
            "https://* is any origin too",
            vec![upload(&["https://*"])],
            &["wildcard-origin-with-writes rules[0].AllowedOrigins[0]"],
        ),
        (
            "http://* is any origin too",
            vec![rule(&["POST"], &["http://*"], &["*"])],
            &["wildcard-origin-with-writes rules[0].AllowedOrigins[0]"],
        ),
        (
            "a host wildcard is not any origin",
            vec![upload(&["https://*.example.com"])],
            &[],
        ),
        (
            "a scheme wildcard is not any origin",
            vec![upload(&["*.example.com"])],
            &[],
        ),
    ]);
    // What credentialed requests get: `*` none, `https://*` every https site.
    let any = lint(&CorsConfig::new(vec![upload(&["*"])]));
    assert!(
        any[0]
            .message
            .contains("browsers refuse credentialed requests (cookies, HTTP auth) on it"),
        "{}",
        any[0].message
    );
    let https_any = lint(&CorsConfig::new(vec![upload(&["https://*"])]));
    assert!(
        https_any[0].message.contains(
            "with `Access-Control-Allow-Credentials: true`, so every https website may also send credentialed requests"
        ),
        "{}",
        https_any[0].message
    );
    assert!(
        https_any[0].help.contains("any-origin access"),
        "{}",
        https_any[0].help
    );
    let findings = lint(&CorsConfig::new(vec![CorsRule {
        expose_headers: vec!["ETag".into()],
        ..rule(&["POST", "PUT", "POST"], &["*"], &["*"])
    }]));
    assert!(
        findings[0].message.contains("POST, PUT from"),
        "{}",
        findings[0].message
    );
}

#[test]
fn http_origin() {
    let fires = [
        "http://a.com",
        "http://*.a.com",
        "http://localhost.evil.com",
        "http://10.0.0.1:8080",
        "http://localhost*",
        "http://reporting.test.com",
        "http://127.0.0.1.evil.com",
        "http://b.s3-website-us-east-1.amazonaws.com",
    ];
    for origin in fires {
        check(&[(
            origin,
            vec![clean(&[origin])],
            &["http-origin rules[0].AllowedOrigins[0]"],
        )]);
    }
    for (origin, https) in [
        ("http://a.com:8080", "https://a.com:8080"),
        ("http://*.a.com", "https://*.a.com"),
        ("http://a.com/", "https://a.com"),
        ("http://me@a.com", "https://a.com"),
    ] {
        let findings = lint(&CorsConfig::new(vec![clean(&[origin])]));
        let help = findings
            .iter()
            .find(|f| f.code == LintCode::HttpOrigin)
            .map(|f| f.help.as_str());
        assert_eq!(
            help,
            Some(format!("serve the site over https and write \"{https}\"").as_str()),
            "{origin}"
        );
    }
    // Website endpoints serve only http: the fix is a CDN in front, not https on
    // the same host.
    for (origin, bucket) in [
        ("http://b.s3-website-us-east-1.amazonaws.com", "bucket b,"),
        (
            "http://my.site.s3-website.eu-west-1.amazonaws.com",
            "bucket my.site,",
        ),
    ] {
        let findings = lint(&CorsConfig::new(vec![clean(&[origin])]));
        let help = &findings[0].help;
        assert!(
            help.starts_with("S3 website endpoints serve only http: put a CDN")
                && help.contains(bucket)
                && !help.contains("https://my.site"),
            "{help}"
        );
    }
    let silent = [
        "http://localhost",
        "http://localhost:3000",
        "http://localhost:*",
        "http://127.0.0.1:8080",
        "http://[::1]:3000",
        "http://app.localhost",
        "http://*.localhost:5173",
        "http://127.0.0.2:3000",
        "http://0.0.0.0:8000",
        "http://api.test",
        "http://app.test:8080",
        "http://*.test",
        "http://*",
        "https://a.com",
        "*",
        "*://a.com",
    ];
    for origin in silent {
        check(&[(origin, vec![clean(&[origin])], &[])]);
    }
}

#[test]
fn duplicate_value() {
    check(&[
        (
            "origin twice",
            vec![clean(&["https://a.com", "https://b.com", "https://a.com"])],
            &["duplicate-value rules[0].AllowedOrigins[2]"],
        ),
        (
            "origins compare exactly",
            vec![clean(&["https://a.com", "https://*.a.com", "*"])],
            &[],
        ),
        (
            "method twice",
            vec![rule(&["GET", "HEAD", "GET"], &["https://a.com"], &[])],
            &["duplicate-value rules[0].AllowedMethods[2]"],
        ),
        (
            "headers ignore case",
            vec![rule(
                &["GET"],
                &["https://a.com"],
                &["Content-Type", "content-type", "CONTENT-TYPE"],
            )],
            &[
                "duplicate-value rules[0].AllowedHeaders[1]",
                "duplicate-value rules[0].AllowedHeaders[2]",
            ],
        ),
        (
            "expose headers ignore case",
            vec![CorsRule {
                expose_headers: vec!["ETag".into(), "etag".into()],
                ..clean(&["https://a.com"])
            }],
            &["duplicate-value rules[0].ExposeHeaders[1]"],
        ),
        (
            "same value in different rules or lists is fine",
            vec![
                CorsRule {
                    expose_headers: vec!["x-a".into()],
                    ..rule(&["GET"], &["https://a.com"], &["x-a"])
                },
                clean(&["https://b.com"]),
            ],
            &[],
        ),
    ]);
    let findings = lint(&CorsConfig::new(vec![rule(
        &["GET"],
        &["https://a.com"],
        &["Content-Type", "content-type"],
    )]));
    assert_eq!(
        findings[0].message,
        "\"content-type\" is already in AllowedHeaders at index 0 (as \"Content-Type\": header names ignore case)"
    );
}

#[test]
fn missing_allowed_headers_and_etag_exposure() {
    check(&[
        (
            "PUT without AllowedHeaders or ExposeHeaders",
            vec![rule(&["GET", "PUT"], &["https://a.com"], &[])],
            &[
                "missing-allowed-headers rules[0].AllowedMethods[1]",
                "missing-etag-exposure rules[0].AllowedMethods[1]",
            ],
        ),
        (
            "PUT exposing other headers only",
            vec![CorsRule {
                expose_headers: vec!["x-amz-request-id".into()],
                ..rule(&["POST", "PUT"], &["https://a.com"], &["*"])
            }],
            &["missing-etag-exposure rules[0].ExposeHeaders"],
        ),
        (
            "POST alone never needs ETag: form uploads and multipart calls answer in XML",
            vec![CorsRule {
                expose_headers: vec!["x-amz-request-id".into()],
                ..rule(&["POST"], &["https://a.com"], &["*"])
            }],
            &[],
        ),
        (
            "the PUT is the one pointed at",
            vec![rule(&["POST", "PUT"], &["https://a.com"], &["*"])],
            &["missing-etag-exposure rules[0].AllowedMethods[1]"],
        ),
        ("upload rule is fine", vec![upload(&["https://a.com"])], &[]),
        (
            "ETag matched case-insensitively",
            vec![CorsRule {
                expose_headers: vec!["etag".into()],
                ..rule(&["PUT"], &["https://a.com"], &["*"])
            }],
            &[],
        ),
        (
            "DELETE alone needs neither",
            vec![rule(&["DELETE"], &["https://a.com"], &[])],
            &[],
        ),
        (
            "reads need neither",
            vec![rule(&["GET", "HEAD"], &["https://a.com"], &[])],
            &[],
        ),
    ]);
}

#[test]
fn max_age_over_browser_cap() {
    let aged = |age: Option<i32>| {
        vec![CorsRule {
            max_age_seconds: age,
            ..clean(&["https://a.com"])
        }]
    };
    check(&[
        ("at the cap", aged(Some(7200)), &[]),
        ("unset", aged(None), &[]),
        ("zero", aged(Some(0)), &[]),
        (
            "one over",
            aged(Some(7201)),
            &["max-age-over-browser-cap rules[0].MaxAgeSeconds"],
        ),
        (
            "a day",
            aged(Some(86400)),
            &["max-age-over-browser-cap rules[0].MaxAgeSeconds"],
        ),
    ]);
}

#[test]
fn empty_header_name() {
    let headers = |allowed: &[&str], expose: &[&str]| {
        vec![CorsRule {
            allowed_headers: allowed.iter().map(|h| h.to_string()).collect(),
            expose_headers: expose.iter().map(|h| h.to_string()).collect(),
            ..clean(&["https://a.com"])
        }]
    };
    check(&[
        ("names", headers(&["x-a", "*"], &["ETag"]), &[]),
        ("none", headers(&[], &[]), &[]),
        (
            "empty allowed (Terraform's [\"\"])",
            headers(&[""], &[]),
            &["empty-header-name rules[0].AllowedHeaders[0]"],
        ),
        (
            "empty exposed",
            headers(&[], &["ETag", ""]),
            &["empty-header-name rules[0].ExposeHeaders[1]"],
        ),
        (
            "both, and twice",
            headers(&["", "x-a", ""], &[""]),
            &[
                "duplicate-value rules[0].AllowedHeaders[2]",
                "empty-header-name rules[0].AllowedHeaders[0]",
                "empty-header-name rules[0].AllowedHeaders[2]",
                "empty-header-name rules[0].ExposeHeaders[0]",
            ],
        ),
    ]);
    let findings = lint(&CorsConfig::new(headers(&[""], &[""])));
    assert!(
        findings[0].message.contains("allows no header"),
        "{findings:#?}"
    );
    assert!(
        findings[1].message.contains("exposes no header"),
        "{findings:#?}"
    );
    assert!(findings[0].help.starts_with("remove the empty entry"));
}

#[test]
fn negative_max_age() {
    let aged = |age: Option<i32>| {
        vec![CorsRule {
            max_age_seconds: age,
            ..clean(&["https://a.com"])
        }]
    };
    check(&[
        ("zero", aged(Some(0)), &[]),
        ("unset", aged(None), &[]),
        (
            "minus one",
            aged(Some(-1)),
            &["negative-max-age rules[0].MaxAgeSeconds"],
        ),
        (
            "the smallest",
            aged(Some(i32::MIN)),
            &["negative-max-age rules[0].MaxAgeSeconds"],
        ),
    ]);
    let findings = lint(&CorsConfig::new(aged(Some(-5))));
    assert!(
        findings[0].message.contains("not known to reject"),
        "{}",
        findings[0].message
    );
}

/// The JSON shape of findings, pinned.
#[test]
fn findings_json_shape() {
    let config = CorsConfig::new(vec![
        CorsRule {
            id: Some("public".into()),
            max_age_seconds: Some(86400),
            ..rule(&["GET", "PUT"], &["*", "http://a.com/"], &["*"])
        },
        clean(&["https://a.com"]),
    ]);
    insta::assert_json_snapshot!(lint(&config));
}

// ---- shadowed-rule against brute force ---------------------------------------------------

/// A tiny deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str], count: usize) -> Vec<&'a str> {
        (0..count).map(|_| from[self.below(from.len())]).collect()
    }
}

fn strings(alphabet: &[char], min: usize, max: usize) -> Vec<String> {
    let mut all = Vec::new();
    let mut frontier = vec![String::new()];
    for len in 0..=max {
        if len >= min {
            all.extend(frontier.iter().cloned());
        }
        frontier = frontier
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
    }
    all
}

/// Patterns use only `a`, `b` (and `A`, `B` for headers); the universe adds `c`, a
/// character no pattern holds, and is long enough to hold every counterexample the
/// proof of [`shadowed_by`] builds (`P c^N S` with `N` longer than any literal).
const ORIGIN_POOL: &[&str] = &[
    "*", "a", "b", "ab", "a*", "*a", "b*", "*b", "a*b", "ab*", "*ab", "",
];
const HEADER_POOL: &[&str] = &["*", "a", "B", "ab", "a*", "*b", "A*", "b*", "*a", ""];
const METHODS: &[&str] = &["GET", "PUT"];

/// Shadowing by enumeration: every request over the universe (methods GET and PUT,
/// origins over {a,b,c} of length <= 5, header sets of at most two names over {a,b,c} of
/// length 1 to 4; with at most two earlier rules, two names suffice as witnesses, see the
/// header argument in [`shadowed_by`]). Rule languages come from the simulator's own
/// `match_rule`. Returns whether rule `j` is shadowed, and a request reaching it if not.
fn brute_shadowed(
    config: &CorsConfig,
    j: usize,
    origins: &[String],
    names: &[String],
) -> Result<(), Request> {
    let rules = &config.cors_rules;
    // Header languages as bitmasks over `names` (120 names fit in a u128).
    let header_mask = |r: &CorsRule| -> u128 {
        names.iter().enumerate().fold(0, |acc, (k, n)| {
            // An empty origin matches nothing: take one that matches something.
            let any_origin = r
                .allowed_origins
                .iter()
                .find(|o| !o.is_empty())
                .map(String::as_str)
                .unwrap_or_default();
            let method = r
                .allowed_methods
                .first()
                .map(|m| m.as_str())
                .unwrap_or_default();
            // Origin and method are ones the rule matches, so only the header decides.
            let allowed = simulate::match_rule(
                r,
                &any_origin.replace('*', ""),
                method,
                std::slice::from_ref(n),
            )
            .is_ok();
            if allowed { acc | 1 << k } else { acc }
        })
    };
    let masks: Vec<u128> = rules.iter().map(header_mask).collect();
    let mut header_sets: Vec<u128> = vec![0];
    for x in 0..names.len() {
        header_sets.push(1 << x);
        for y in x + 1..names.len() {
            header_sets.push(1 << x | 1 << y);
        }
    }
    let request = |o: &str, m: &str, set: u128| {
        let headers: Vec<&str> = (0..names.len())
            .filter(|k| set >> k & 1 == 1)
            .map(|k| names[k].as_str())
            .collect();
        Request::preflight(o, m, &headers)
    };
    let mut checked = std::collections::HashSet::new();
    for m in METHODS {
        for o in origins {
            let reaches = |i: usize| simulate::match_rule(&rules[i], o, m, &[]).is_ok();
            if !reaches(j) {
                continue;
            }
            let earlier: Vec<usize> = (0..j).filter(|&i| reaches(i)).collect();
            if !checked.insert(earlier.clone()) {
                continue;
            }
            for &set in &header_sets {
                if set & !masks[j] == 0 && earlier.iter().all(|&i| set & !masks[i] != 0) {
                    return Err(request(o, m, set));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn shadowed_rule_agrees_with_brute_force() {
    let origins = strings(&['a', 'b', 'c'], 0, 5);
    let names = strings(&['a', 'b', 'c'], 1, 4);
    assert!(names.len() <= 128);
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let (mut shadowed, mut reached) = (0, 0);
    for _ in 0..1500 {
        let rules: Vec<CorsRule> = (0..2 + rng.below(2))
            .map(|_| {
                let methods = match rng.below(3) {
                    0 => vec!["GET"],
                    1 => vec!["PUT"],
                    _ => vec!["GET", "PUT"],
                };
                let count = 1 + rng.below(2);
                let origins = rng.pick(ORIGIN_POOL, count);
                let count = rng.below(3);
                let headers = rng.pick(HEADER_POOL, count);
                rule(&methods, &origins, &headers)
            })
            .collect();
        let config = CorsConfig::new(rules);
        for j in 1..config.cors_rules.len() {
            let decided = shadowed_by(&config, j);
            if config.cors_rules[j]
                .allowed_origins
                .iter()
                .all(String::is_empty)
            {
                // It matches nothing (`origin-never-matches`), so is not called shadowed.
                assert_eq!(decided, None, "{config:#?}");
                continue;
            }
            match brute_shadowed(&config, j, &origins, &names) {
                Ok(()) => {
                    shadowed += 1;
                    let earlier = decided.unwrap_or_else(|| {
                        panic!("rule {j} is shadowed but not reported: {config:#?}")
                    });
                    assert!(earlier.iter().all(|&i| i < j));
                }
                Err(witness) => {
                    reached += 1;
                    assert_eq!(
                        decided, None,
                        "rule {j} reported shadowed, but {witness:?} reaches it: {config:#?}"
                    );
                    // The witness really reaches rule j through the whole simulator.
                    let outcome = simulate::simulate(Some(&config), &witness);
                    assert_eq!(outcome.matched, Some(j), "{witness:?} {config:#?}");
                }
            }
        }
    }
    assert!(
        shadowed > 200 && reached > 200,
        "weak sample: {shadowed} shadowed, {reached} reached"
    );
}

// ---- the corpus of real configurations -----------------------------------------------

/// tests/data/cors-corpus/corpus.yaml: real configurations, each lint finding on
/// them labelled right or not by hand.
const CORPUS: &str = include_str!("../../../tests/data/cors-corpus/corpus.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusEntry {
    source: CorpusSource,
    format: String,
    rules: Vec<CorsRule>,
    findings: Vec<Labelled>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusSource {
    repo: String,
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    /// `code rules[i].Field[k]`, as [`show`] writes a finding.
    finding: String,
    right: bool,
    why: String,
}

/// Per lint: configurations it fires on, and those where every one of its findings
/// is labelled right.
fn corpus_rates(entries: &[CorpusEntry]) -> Vec<(LintCode, usize, usize)> {
    LintCode::ALL
        .into_iter()
        .map(|code| {
            let prefix = format!("{code} ");
            let mut fired = 0;
            let mut right = 0;
            for entry in entries {
                let mine: Vec<&Labelled> = entry
                    .findings
                    .iter()
                    .filter(|l| l.finding.starts_with(&prefix))
                    .collect();
                if !mine.is_empty() {
                    fired += 1;
                    right += usize::from(mine.iter().all(|l| l.right));
                }
            }
            (code, fired, right)
        })
        .collect()
}

/// The rates as the table in docs/lints/README.md shows them.
fn rates_table(entries: usize, rates: &[(LintCode, usize, usize)]) -> String {
    let mut table = format!(
        "| lint | default | fires on (of {entries}) | right | precision |\n| --- | --- | --- | --- | --- |\n"
    );
    for &(code, fired, right) in rates {
        let default = if code.is_default_on() { "warn" } else { "off" };
        let precision = if fired == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", right as f64 / fired as f64)
        };
        table.push_str(&format!(
            "| `{code}` | {default} | {fired} | {right} | {precision} |\n"
        ));
    }
    table
}

/// Runs every lint over the corpus: the findings must equal the labelled ones (a
/// changed trigger shows up as a difference to relabel), every default-on lint must
/// be right on at least 4 of 5 configurations it fires on, and docs/lints/README.md
/// must show the rates measured here.
#[test]
#[allow(
    clippy::print_stdout,
    reason = "the test shows the measured rates (`cargo test corpus -- --nocapture`)"
)]
fn corpus_findings_are_labelled_and_default_lints_are_precise() {
    let entries: Vec<CorpusEntry> = serde_yaml::from_str(CORPUS).expect("corpus.yaml parses");
    assert!(entries.len() >= 60, "{} configurations", entries.len());
    let formats: BTreeSet<&str> = entries.iter().map(|e| e.format.as_str()).collect();
    let known = [
        "cli-json",
        "cloudformation",
        "console-json",
        "terraform",
        "xml",
    ];
    assert!(
        formats.iter().all(|f| known.contains(f)),
        "formats: {formats:?}"
    );
    let mut sources = BTreeSet::new();
    let mut differences = Vec::new();
    for entry in &entries {
        let place = format!("{}:{}", entry.source.repo, entry.source.path);
        assert!(
            entry.source.repo.split('/').count() == 2 && !entry.source.path.is_empty(),
            "{place}"
        );
        assert!(sources.insert(place.clone()), "{place} twice");
        assert!(!entry.rules.is_empty(), "{place}: no rules");
        for l in &entry.findings {
            assert!(
                !l.why.trim().is_empty(),
                "{place}: {} has no why",
                l.finding
            );
        }
        let actual = show(&lint(&CorsConfig::new(entry.rules.clone())));
        let labelled: Vec<String> = entry.findings.iter().map(|l| l.finding.clone()).collect();
        if actual != labelled {
            let mut text = format!("--- {place}\n  findings:\n");
            for f in &actual {
                text.push_str(&format!("    - {{finding: \"{f}\", right: ?, why: ?}}\n"));
            }
            if actual.is_empty() {
                text = format!("--- {place}\n  findings: []\n");
            }
            differences.push(text);
        }
    }
    assert!(
        differences.is_empty(),
        "{} configuration(s) have findings that differ from their labels; relabel them \
         in tests/data/cors-corpus/corpus.yaml:\n{}",
        differences.len(),
        differences.join("")
    );
    let rates = corpus_rates(&entries);
    let table = rates_table(entries.len(), &rates);
    println!("{table}");
    for &(code, fired, right) in &rates {
        if code.is_default_on() && fired > 0 {
            assert!(
                right * 5 >= fired * 4,
                "{code} is on by default but right on only {right} of the {fired} \
                 configurations it fires on:\n{table}"
            );
        }
    }
    let docs = include_str!("../../../docs/lints/README.md");
    assert!(
        docs.contains(&table),
        "docs/lints/README.md does not show the measured rates; put this table in it:\n{table}"
    );
}
