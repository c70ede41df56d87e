//! Validation's tests: each finding's code and place, many cases per test.

use crate::diag::{SourceFile, Sources};

/// Validates files given as (name, text) and returns `code@name:line:col` for
/// each diagnostic, in report order.
fn findings(files: &[(&str, &str)]) -> Vec<String> {
    let (sources, diagnostics) = validated(files);
    diagnostics
        .iter()
        .map(|d| match d.span {
            Some(span) => format!("{}@{}", d.code, sources.place(span)),
            None => d.code.to_string(),
        })
        .collect()
}

/// The files given as (name, text), and what validating them reports.
fn validated(files: &[(&str, &str)]) -> (Sources, Vec<crate::diag::Diagnostic>) {
    let mut sources = Sources::new();
    for (name, text) in files {
        sources.add(SourceFile::new(*name, *text));
    }
    let diagnostics = crate::policy::load(&sources).diagnostics;
    (sources, diagnostics)
}

fn check(text: &str, want: &[&str]) {
    let got = findings(&[("p.yaml", text)]);
    let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
    assert_eq!(got, want, "for:\n{text}");
}

const HEAD: &str = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n";

fn rule(body: &str) -> String {
    format!("{HEAD}      - {body}\n")
}

#[test]
fn valid_files_have_no_findings() {
    check(&rule("{AllowedOrigins: ['*'], AllowedMethods: [GET]}"), &[]);
    check(
        &format!("{HEAD}      []\n").replace("rules:\n      []", "rules: []"),
        &[],
    );
    check("version: 1\n", &[]);
    check(
        "version: 1\nrulesets:\n  r: [{AllowedOrigins: [a], AllowedMethods: [PUT], MaxAgeSeconds: 0, ID: x}]\nbuckets:\n  - match: 'x-*'\n    tags: {team: web}\n    account: '123456789012'\n    region: eu-west-1\n    rules: [{ruleset: r}]\n",
        &[],
    );
}

#[test]
fn s3_rejections_are_caught_with_their_place() {
    let cases: &[(&str, &[&str])] = &[
        (
            "{AllowedMethods: [GET]}",
            &["missing-allowed-origins@p.yaml:5:9"],
        ),
        (
            "{AllowedOrigins: ['*']}",
            &["missing-allowed-methods@p.yaml:5:9"],
        ),
        (
            "{AllowedOrigins: [], AllowedMethods: [GET]}",
            &["missing-allowed-origins@p.yaml:5:26"],
        ),
        (
            "{AllowedOrigins: ['*'], AllowedMethods: [get]}",
            &["unsupported-method@p.yaml:5:50"],
        ),
        (
            "{AllowedOrigins: ['*'], AllowedMethods: [PATCH]}",
            &["unsupported-method@p.yaml:5:50"],
        ),
        (
            "{AllowedOrigins: ['https://*.*.com'], AllowedMethods: [GET]}",
            &["multiple-wildcards@p.yaml:5:27"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['**']}",
            &["multiple-wildcards@p.yaml:5:71"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: [x-*]}",
            &["wildcard-expose-header@p.yaml:5:70"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: -2147483649}",
            &["invalid-max-age@p.yaml:5:69"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 1.5}",
            &["invalid-max-age@p.yaml:5:69"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 99999999999}",
            &["invalid-max-age@p.yaml:5:69"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: [1]}",
            &["invalid-max-age@p.yaml:5:69"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: ['']}",
            &["empty-value@p.yaml:5:48"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['Content-Type, X-Foo']}",
            &["invalid-header-name@p.yaml:5:71"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: [ok, 'x foo']}",
            &["invalid-header-name@p.yaml:5:75"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['x-amz-*:']}",
            &["invalid-header-name@p.yaml:5:71"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['*é*']}",
            &[
                "multiple-wildcards@p.yaml:5:71",
                "invalid-header-name@p.yaml:5:71",
            ],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: ['x(y)']}",
            &["invalid-header-name@p.yaml:5:70"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: [\"ETag\\t\"]}",
            &["invalid-header-name@p.yaml:5:70"],
        ),
        (
            "{AllowedOrigins: a, AllowedMethods: [GET]}",
            &["wrong-type@p.yaml:5:26"],
        ),
        (
            "{AllowedOrigin: [a], AllowedMethods: [GET]}",
            &["unknown-key@p.yaml:5:10"],
        ),
        (
            "{allowed_methods: [GET], AllowedOrigins: [a]}",
            &["unknown-key@p.yaml:5:10"],
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedMethods: [PUT]}",
            &["duplicate-key@p.yaml:5:54"],
        ),
    ];
    for (body, want) in cases {
        check(&rule(body), want);
    }
    let long_id = format!(
        "{{ID: {}, AllowedOrigins: [a], AllowedMethods: [GET]}}",
        "x".repeat(256)
    );
    check(&rule(&long_id), &["id-too-long@p.yaml:5:14"]);
    let ok_id = format!(
        "{{ID: {}, AllowedOrigins: [a], AllowedMethods: [GET]}}",
        "é".repeat(255)
    );
    check(&rule(&ok_id), &[]);
}

/// What S3 accepts is not an error, however useless: the lints say what it does.
/// The example in `multiple-wildcards`' help is of the value's own kind.
#[test]
fn multiple_wildcards_help_fits_the_value() {
    for (body, example) in [
        (
            "{AllowedOrigins: ['https://*.*.com'], AllowedMethods: [GET]}",
            "`https://*.example.com`",
        ),
        (
            "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['x-*-*']}",
            "`x-amz-meta-*`",
        ),
    ] {
        let (_, diags) = validated(&[("p.yaml", &rule(body))]);
        let d = diags
            .iter()
            .find(|d| d.code == "multiple-wildcards")
            .expect("multiple-wildcards");
        assert_eq!(
            d.help.as_deref(),
            Some(
                format!("keep a single `*` (for example {example}), or list the values separately")
                    .as_str()
            ),
            "{body}"
        );
    }
}

#[test]
fn s3_acceptances_are_not_errors() {
    for body in [
        // Recorded on AWS: PutBucketCors succeeds, GetBucketCors returns [""].
        "{AllowedOrigins: [''], AllowedMethods: [GET]}",
        "{AllowedOrigins: ['', 'https://a.com'], AllowedMethods: [GET]}",
        // Deployed Terraform sends [""] for both header lists.
        "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: [''], ExposeHeaders: ['']}",
        // Not known to be rejected: the `negative-max-age` lint.
        "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: -1}",
        "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: -2147483648}",
        // Every character of an RFC 9110 token, and one `*`.
        "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: [\"!#$%&'*+-.^_`|~09azAZ\"]}",
        "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: [\"!#$%&'+-.^_`|~09azAZ\"]}",
    ] {
        check(&rule(body), &[]);
    }
}

#[test]
fn whole_configuration_limits() {
    let many: String = (0..101)
        .map(|i| {
            format!(
                "      - {{AllowedOrigins: ['https://{i}.example.com'], AllowedMethods: [GET]}}\n"
            )
        })
        .collect();
    check(&format!("{HEAD}{many}"), &["too-many-rules@p.yaml:5:7"]);
    let origins: Vec<String> = (0..3000)
        .map(|i| format!("https://host{i}.example.com"))
        .collect();
    let big = format!(
        "{{AllowedOrigins: [{}], AllowedMethods: [GET]}}",
        origins.join(", ")
    );
    check(&rule(&big), &["config-too-large@p.yaml:5:7"]);
}

#[test]
fn file_level_problems() {
    let cases: &[(&str, &[&str])] = &[
        ("", &["empty-file@p.yaml:1:1"]),
        ("buckets: []\n", &["missing-version@p.yaml:1:1"]),
        (
            "version: 2\nbuckets: 7\n",
            &["unsupported-version@p.yaml:1:10"],
        ),
        ("version: '1'\n", &["unsupported-version@p.yaml:1:10"]),
        ("version: 1\nbucket: []\n", &["unknown-key@p.yaml:2:1"]),
        ("- a\n- b\n", &["wrong-type@p.yaml:1:1"]),
        ("version: 1\nbuckets: {a: 1}\n", &["wrong-type@p.yaml:2:10"]),
        (
            "version: 1\nbuckets:\n  - name: x y\n    rules: []\n",
            &["invalid-bucket-name@p.yaml:3:11"],
        ),
        (
            "version: 1\nbuckets:\n  - name: 'app-*'\n    rules: []\n",
            &["invalid-bucket-name@p.yaml:3:11"],
        ),
        (
            "version: 1\nbuckets:\n  - match: 'app-[*'\n    rules: []\n",
            &["invalid-glob@p.yaml:3:12"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    match: 'a*'\n    rules: []\n",
            &["conflicting-keys@p.yaml:4:5"],
        ),
        (
            "version: 1\nbuckets:\n  - rules: []\n",
            &["missing-key@p.yaml:3:5"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n",
            &["missing-key@p.yaml:3:5"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    tags: {a: b}\n    rules: []\n",
            &["conflicting-keys@p.yaml:4:5"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    account: 42\n    rules: []\n",
            &["invalid-account@p.yaml:4:14"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    region: EU West\n    rules: []\n",
            &["invalid-region@p.yaml:4:13"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    region: eu-west-9\n    rules: []\n",
            &["unknown-region@p.yaml:4:13"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    region: ap-southeast-2\n    rules: []\n",
            &[],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    rules: [{ruleset: nope}]\n",
            &["unknown-ruleset@p.yaml:4:23"],
        ),
        (
            "version: 1\nrulesets:\n  r: []\n",
            &["empty-ruleset@p.yaml:3:6"],
        ),
        (
            "version: 1\nbuckets:\n  - name: abc\n    rules: []\n  - name: abc\n    rules: []\n",
            &["duplicate-bucket@p.yaml:5:11"],
        ),
        ("version: 1\na: [\n", &["yaml-syntax@p.yaml:3:1"]),
    ];
    for (text, want) in cases {
        check(text, want);
    }
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let text = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n      - {AllowedOrigins: [a], AllowedMethods: [get]}\n      - {AllowedOrigins: ['**'], AllowedMethods: [GET]}\n  - name: 'x'\n    rules: []\n";
    check(
        text,
        &[
            "unsupported-method@p.yaml:5:48",
            "multiple-wildcards@p.yaml:6:27",
            "invalid-bucket-name@p.yaml:7:11",
        ],
    );
}

#[test]
fn rulesets_and_names_span_files() {
    let rulesets =
        "version: 1\nrulesets:\n  shared: [{AllowedOrigins: ['*'], AllowedMethods: [GET]}]\n";
    let user = "version: 1\nbuckets:\n  - name: abc\n    rules: [{ruleset: shared}]\n";
    assert_eq!(
        findings(&[("a.yaml", rulesets), ("b.yaml", user)]),
        Vec::<String>::new()
    );
    assert_eq!(
        findings(&[("a.yaml", rulesets), ("b.yaml", rulesets)]),
        vec!["duplicate-ruleset@b.yaml:3:3"]
    );
    assert_eq!(
        findings(&[("a.yaml", user), ("b.yaml", user), ("c.yaml", rulesets)]),
        vec!["duplicate-bucket@b.yaml:3:11"]
    );
}

#[test]
fn guardrails_parse_and_reject_nonsense() {
    let good = "version: 1\nguardrails:\n  - id: g\n    buckets: 'prod-*'\n    forbid: {origins: ['*'], methods: [PUT]}\n    require: {origin_scheme: https, max_age_seconds_at_most: 60, origins_within: ['https://*.example.com'], methods_within: [GET]}\n";
    check(good, &[]);
    let cases: &[(&str, &[&str])] = &[
        (
            "version: 1\nguardrails:\n  - id: g\n",
            &["invalid-guardrail@p.yaml:3:5"],
        ),
        (
            "version: 1\nguardrails:\n  - forbid: {methods: [PUT]}\n",
            &["missing-key@p.yaml:3:5"],
        ),
        (
            "version: 1\nguardrails:\n  - id: g\n    require: {origin_scheme: ftp}\n",
            &["invalid-guardrail@p.yaml:4:30"],
        ),
        (
            "version: 1\nguardrails:\n  - id: g\n    forbid: {method: [PUT]}\n",
            &["unknown-key@p.yaml:4:14"],
        ),
        (
            "version: 1\nguardrails:\n  - id: g\n    forbid: {methods: [PUT]}\n  - id: g\n    forbid: {methods: [PUT]}\n",
            &["duplicate-guardrail@p.yaml:5:9"],
        ),
    ];
    for (text, want) in cases {
        check(text, want);
    }
}

#[test]
fn suggestions() {
    let known = super::rules::RULE_KEYS;
    for (typed, want) in [
        ("AllowedOrigin", Some("AllowedOrigins")),
        ("allowed_origins", Some("AllowedOrigins")),
        ("origins", Some("AllowedOrigins")),
        ("MaxAge", Some("MaxAgeSeconds")),
        ("MaxAgeSecond", Some("MaxAgeSeconds")),
        ("Id", Some("ID")),
        ("colour", None),
    ] {
        assert_eq!(super::suggest(typed, known), want, "{typed}");
    }
}

#[test]
fn accounts_parse_and_reject_nonsense() {
    let good = "version: 1\naccounts:\n  - id: '111111111111'\n    role_arn: arn:aws:iam::111111111111:role/s3cors\n    external_id: x\n  - id: 222222222222\n    profile: prod\n  - id: '333333333333'\nbuckets:\n  - name: bk1\n    account: '222222222222'\n    rules: []\n";
    check(good, &[]);
    let org = "version: 1\naccounts:\n  - organization: {role_name: ops/s3cors}\nbuckets:\n  - name: bk1\n    account: '999999999999'\n    rules: []\n";
    check(org, &[]);
    let cases: &[(&str, &[&str])] = &[
        (
            "version: 1\naccounts:\n  - id: '1234'\n",
            &["invalid-account@p.yaml:3:9"],
        ),
        (
            "version: 1\naccounts:\n  - role_arn: arn:aws:iam::111111111111:role/r\n",
            &["missing-key@p.yaml:3:5"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\n  - id: '111111111111'\n",
            &["duplicate-account@p.yaml:4:9"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\n    role_arn: arn:aws:iam::222222222222:role/r\n",
            &["invalid-role-arn@p.yaml:4:15"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\n    role_arn: s3cors\n",
            &["invalid-role-arn@p.yaml:4:15"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\n    role_arn: arn:aws:iam::111111111111:role/r\n    profile: p\n",
            &["conflicting-keys@p.yaml:5:14"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\n    external_id: x\n",
            &["conflicting-keys@p.yaml:4:18"],
        ),
        (
            "version: 1\naccounts:\n  - organization: {role_name: 'arn:aws:iam::1:role/x'}\n",
            &["invalid-role-arn@p.yaml:3:31"],
        ),
        (
            "version: 1\naccounts:\n  - organization: {}\n",
            &["missing-key@p.yaml:3:19"],
        ),
        (
            "version: 1\naccounts:\n  - organization: {role_name: r}\n  - organization: {role_name: q}\n",
            &["duplicate-account@p.yaml:4:31"],
        ),
        (
            "version: 1\naccounts:\n  - organization: {role_name: r}\n    id: '111111111111'\n",
            &["conflicting-keys@p.yaml:4:5"],
        ),
        (
            "version: 1\naccounts:\n  - id: '111111111111'\nbuckets:\n  - name: bk1\n    account: '111111111112'\n    rules: []\n",
            &["undeclared-account@p.yaml:6:14"],
        ),
        (
            "version: 1\naccounts: {id: x}\n",
            &["wrong-type@p.yaml:2:11"],
        ),
    ];
    for (text, want) in cases {
        check(text, want);
    }
    // Accounts declared in one file cover entries and clash across files.
    let a = "version: 1\naccounts:\n  - id: '111111111111'\n";
    let b = "version: 1\nbuckets:\n  - name: bk1\n    account: '111111111111'\n    rules: []\n";
    assert_eq!(
        findings(&[("a.yaml", a), ("b.yaml", b)]),
        Vec::<String>::new()
    );
    assert_eq!(
        findings(&[("a.yaml", a), ("c.yaml", a)]),
        vec!["duplicate-account@c.yaml:3:9".to_owned()]
    );
}

fn load(text: &str) -> (Sources, crate::policy::Loaded) {
    let mut sources = Sources::new();
    sources.add(SourceFile::new("p.yaml", text));
    let loaded = crate::policy::load(&sources);
    (sources, loaded)
}

#[test]
fn entries_with_the_same_references_share_one_rule_list() {
    use crate::model::Method;
    use std::sync::Arc;
    let text = "version: 1\nrulesets:\n  web: [{AllowedOrigins: [a], AllowedMethods: [GET]}, {AllowedOrigins: [b], AllowedMethods: [PUT]}]\n  api: [{AllowedOrigins: [c], AllowedMethods: [POST]}]\nbuckets:\n  - name: bk1\n    rules: [{ruleset: web}]\n  - name: bk2\n    rules: [{ruleset: web}]\n  - name: bk3\n    rules: [{ruleset: web}, {ruleset: api}]\n  - name: bk4\n    rules: [{ruleset: web}, {ruleset: api}]\n  - name: bk5\n    rules: [{ruleset: web}, {AllowedOrigins: [d], AllowedMethods: [GET]}]\n";
    let (sources, loaded) = load(text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let b = &loaded.policy.buckets;
    let shared = |i: usize, j: usize| Arc::ptr_eq(b[i].rules.shared(), b[j].rules.shared());
    assert!(shared(0, 1), "one ruleset: one list");
    assert!(
        shared(2, 3),
        "the same references in the same order: one list"
    );
    assert!(!shared(0, 2) && !shared(0, 4) && !shared(2, 4));
    // Shared rules, the entry's own places: each reference is where that entry wrote it.
    let line = |i: usize, rule: usize| b[i].rules.reference(rule).map(|s| sources.place(s));
    assert_eq!(line(0, 1).as_deref(), Some("p.yaml:7:23"));
    assert_eq!(line(1, 0).as_deref(), Some("p.yaml:9:23"));
    assert_eq!(line(2, 2).as_deref(), Some("p.yaml:11:39"));
    assert_eq!(b[2].rules.reference_start(2), Some(2));
    assert_eq!((b[4].rules.len(), b[4].rules.reference(2)), (3, None));
    assert_eq!(b[4].rules[2].ruleset, None);
    assert_eq!(b[4].rules[1].ruleset.as_deref(), Some("web"));
    // An inline rule equal to one read before shares its value, not its places.
    let (web0, inline) = (&b[0].rules[0], &b[4].rules[2]);
    assert!(Arc::ptr_eq(&web0.rule, &b[4].rules[0].rule));
    assert!(!Arc::ptr_eq(&web0.rule, &inline.rule));
    assert_eq!(
        (
            web0.rule.allowed_methods.clone(),
            inline.rule.allowed_methods.clone()
        ),
        (vec![Method::Get], vec![Method::Get])
    );
    // The desired configuration is the same either way.
    assert_eq!(b[0].desired(), b[1].desired());
    assert_eq!(b[0].desired().map(|c| c.cors_rules.len()), Some(2));
}

#[test]
fn streamed_bucket_lists_read_like_whole_trees() {
    // The top-level `buckets:` items are validated as they are read, unless the list
    // is anchored or an alias; every case must report the same as before.
    let entry = "{name: bk1, rules: [{AllowedOrigins: [a], AllowedMethods: [get]}]}";
    let cases: Vec<(String, &[&str])> = vec![
        (
            format!("version: 1\nbuckets:\n  - {entry}\n"),
            &["unsupported-method@p.yaml:3:64"],
        ),
        (
            format!("version: 1\nbuckets: &b\n  - {entry}\n"),
            &["unsupported-method@p.yaml:3:64"],
        ),
        (
            format!("version: 1\nx: &b\n  - {entry}\nbuckets: *b\n"),
            &["unknown-key@p.yaml:2:1", "unsupported-method@p.yaml:3:64"],
        ),
        (
            format!("version: 1\nbuckets: []\nbuckets:\n  - {entry}\n"),
            &["duplicate-key@p.yaml:3:1"],
        ),
        (
            format!("buckets:\n  - {entry}\nversion: 2\n"),
            &["unsupported-version@p.yaml:3:10"],
        ),
        (
            format!(
                "buckets:\n  - {entry}\n  - {{name: bk1, rules: [{{ruleset: later}}]}}\nrulesets:\n  later: [{{AllowedOrigins: [a], AllowedMethods: [GET]}}]\nversion: 1\n"
            ),
            &[
                "unsupported-method@p.yaml:2:64",
                "duplicate-bucket@p.yaml:3:12",
            ],
        ),
        (
            format!("version: 1\nbuckets:\n  - {entry}\n  - [\n"),
            &["yaml-syntax@p.yaml:5:1"],
        ),
    ];
    for (text, want) in cases {
        check(&text, want);
    }
}

#[test]
fn equal_inline_rules_share_one_value() {
    use std::sync::Arc;
    let entry = |name: &str, origin: &str| {
        format!(
            "  - name: {name}\n    rules: [{{AllowedOrigins: [{origin}], AllowedMethods: [GET]}}]\n"
        )
    };
    let text = format!(
        "version: 1\nbuckets:\n{}{}{}",
        entry("bk1", "a"),
        entry("bk2", "a"),
        entry("bk3", "b")
    );
    let (sources, loaded) = load(&text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let b = &loaded.policy.buckets;
    let rule = |i: usize| &b[i].rules[0];
    assert!(Arc::ptr_eq(&rule(0).rule, &rule(1).rule));
    assert!(!Arc::ptr_eq(&rule(0).rule, &rule(2).rule));
    // Each entry keeps its own places.
    let origin = |i: usize| sources.place(rule(i).spans.allowed_origins()[0]);
    assert_eq!([origin(0), origin(1)], ["p.yaml:4:31", "p.yaml:6:31"]);
}

/// `code@place: message (help)` for each diagnostic, for the lint-level tests whose
/// messages and did-you-means matter.
fn messages(files: &[(&str, &str)]) -> Vec<String> {
    let (sources, diagnostics) = validated(files);
    diagnostics
        .iter()
        .map(|d| {
            let related: Vec<String> = d.related.iter().map(|r| sources.place(r.span)).collect();
            format!(
                "{}@{}: {} ({}){}",
                d.code,
                d.span.map(|s| sources.place(s)).unwrap_or_default(),
                d.message,
                d.help.as_deref().unwrap_or_default(),
                if related.is_empty() {
                    String::new()
                } else {
                    format!(" ~ {}", related.join(", "))
                }
            )
        })
        .collect()
}

#[test]
fn lint_levels_parse_and_reject_nonsense() {
    let ok = "version: 1\nlints: {http-origin: deny, max-age-over-browser-cap: allow, shadowed-rule: warn}\n";
    let (_, loaded) = load(ok);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    use crate::cors::lint::LintCode;
    use crate::policy::LintLevel;
    let levels: Vec<(LintCode, LintLevel)> = loaded
        .policy
        .lints
        .iter()
        .map(|(c, s)| (*c, s.level))
        .collect();
    assert_eq!(
        levels,
        [
            (LintCode::ShadowedRule, LintLevel::Warn),
            (LintCode::HttpOrigin, LintLevel::Deny),
            (LintCode::MaxAgeOverBrowserCap, LintLevel::Allow),
        ]
    );
    for (text, want) in [
        (
            "version: 1\nlints: {max-age-over-browser-caps: allow}\n",
            "unknown-lint@p.yaml:2:9: unknown lint `max-age-over-browser-caps` (did you mean `max-age-over-browser-cap`?)",
        ),
        (
            "version: 1\nlints: {no-such-thing: allow}\n",
            "unknown-lint@p.yaml:2:9: unknown lint `no-such-thing` (the lints are: shadowed-rule, origin-never-matches, wildcard-origin-with-writes, http-origin, duplicate-value, missing-allowed-headers, missing-etag-exposure, max-age-over-browser-cap, empty-header-name, negative-max-age)",
        ),
        (
            "version: 1\nlints: {guardrail-violation: allow}\n",
            "unknown-lint@p.yaml:2:9: `guardrail-violation` is a guardrail, not a lint: guardrail violations cannot be allowed or suppressed (change the rule, or narrow the guardrail's `buckets:` scope)",
        ),
        (
            "version: 1\nlints: {too-many-rules: warn}\n",
            "unknown-lint@p.yaml:2:9: `too-many-rules` is an error, not a lint: errors cannot be allowed or suppressed (fix the error; only lints (docs/lints/) can be allowed)",
        ),
        (
            "version: 1\nlints: {http-origin: deny3}\n",
            "invalid-lint-level@p.yaml:2:22: `deny3` is not a lint level (did you mean `deny`?)",
        ),
        (
            "version: 1\nlints: [http-origin]\n",
            "wrong-type@p.yaml:2:8: `lints` must be a mapping of lint codes to `allow`, `warn` or `deny`, found a list (give a mapping of lint codes to `allow`, `warn` or `deny` here)",
        ),
    ] {
        assert_eq!(messages(&[("p.yaml", text)]), [want], "for:\n{text}");
    }
}

#[test]
fn two_files_setting_one_lint_differently_name_both_places() {
    let a = "version: 1\nlints:\n  http-origin: deny\n";
    let b = "version: 1\nlints:\n  http-origin: allow\n  shadowed-rule: deny\n";
    let same = "version: 1\nlints: {http-origin: deny}\n";
    assert_eq!(
        messages(&[("a.yaml", a), ("b.yaml", b), ("c.yaml", same)]),
        [
            "conflicting-lint-level@b.yaml:3:16: lint `http-origin` is set to `allow` here and to `deny` in another place (set each lint's level once, in one file; to silence it for some buckets only, use `allow:` on those entries) ~ a.yaml:3:16"
        ]
    );
}

#[test]
fn allow_lists_on_entries_and_rules() {
    let text = "version: 1
rulesets:
  r:
    - {AllowedOrigins: [a], AllowedMethods: [GET], allow: [http-origin]}
buckets:
  - name: bk1
    allow:
      - max-age-over-browser-cap
      - {code: http-origin, reason: \"legacy partner\"}
    rules:
      - {AllowedOrigins: [a], AllowedMethods: [GET], allow: [{code: shadowed-rule}]}
      - {ruleset: r}
";
    let (_, loaded) = load(text);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let entry = &loaded.policy.buckets[0];
    let show = |a: &[crate::policy::Allow]| -> Vec<(String, Option<String>)> {
        a.iter()
            .map(|a| (a.code.to_string(), a.reason.clone()))
            .collect()
    };
    assert_eq!(
        show(&entry.allow),
        [
            ("max-age-over-browser-cap".to_owned(), None),
            ("http-origin".to_owned(), Some("legacy partner".to_owned()))
        ]
    );
    assert_eq!(
        show(&entry.rules[0].allow),
        [("shadowed-rule".to_owned(), None)]
    );
    assert_eq!(
        show(&entry.rules[1].allow),
        [("http-origin".to_owned(), None)]
    );

    for (allow, want) in [
        (
            "[shadowed-rules]",
            "unknown-lint@p.yaml:4:13: unknown lint `shadowed-rules` (did you mean `shadowed-rule`?)",
        ),
        (
            "[{code: guardrail-violation, reason: x}]",
            "unknown-lint@p.yaml:4:20: `guardrail-violation` is a guardrail, not a lint: guardrail violations cannot be allowed or suppressed (change the rule, or narrow the guardrail's `buckets:` scope)",
        ),
        (
            "[{reason: x}]",
            "missing-key@p.yaml:4:13: an `allow:` item needs `code` (write `{code: max-age-over-browser-cap, reason: \"...\"}`, or the code alone)",
        ),
        (
            "[{code: http-origin, why: x}]",
            "unknown-key@p.yaml:4:33: unknown key `why` in an `allow:` item (known keys here: code, reason)",
        ),
        (
            "http-origin",
            "wrong-type@p.yaml:4:12: `buckets[0].allow` must be a list of lint codes (each a string or `{code: ..., reason: ...}`), found a string (write it as a list: `[http-origin]`)",
        ),
        (
            "[unknown-region]",
            "unknown-lint@p.yaml:4:13: `unknown-region` is a validation warning, not a lint: it cannot be allowed or suppressed (fix what it reports; only lints (docs/lints/) can be allowed)",
        ),
    ] {
        let text = format!(
            "version: 1\nbuckets:\n  - name: bk1\n    allow: {allow}\n    rules: [{{AllowedOrigins: [a], AllowedMethods: [GET]}}]\n"
        );
        assert_eq!(messages(&[("p.yaml", &text)]), [want], "for:\n{text}");
    }
    // On a rule, and an entry with a bad `allow:` is left out like any broken entry.
    let text = "version: 1\nbuckets:\n  - name: bk1\n    rules: [{AllowedOrigins: [a], AllowedMethods: [GET], allow: [http-orgin]}]\n";
    let (_, loaded) = load(text);
    assert_eq!(
        messages(&[("p.yaml", text)]),
        ["unknown-lint@p.yaml:4:66: unknown lint `http-orgin` (did you mean `http-origin`?)"]
    );
    assert!(loaded.policy.buckets.is_empty());
}

#[test]
fn reconcile_is_true_unless_an_entry_says_false_and_only_a_boolean() {
    let text = "version: 1\nbuckets:\n  - name: bk1\n    rules: []\n  - name: bk2\n    reconcile: false\n    rules: []\n  - name: bk3\n    reconcile: true\n    rules: []\n";
    let (_, loaded) = load(text);
    let flags: Vec<bool> = loaded.policy.buckets.iter().map(|b| b.reconcile).collect();
    assert_eq!(flags, [true, false, true]);
    for value in ["\"false\"", "no", "0", "[false]"] {
        let text =
            format!("version: 1\nbuckets:\n  - name: bk1\n    reconcile: {value}\n    rules: []\n");
        check(&text, &["wrong-type@p.yaml:4:16"]);
    }
    let got = messages(&[(
        "p.yaml",
        "version: 1\nbuckets:\n  - name: bk1\n    reconcile: off\n    rules: []\n",
    )]);
    assert_eq!(
        got,
        [
            "wrong-type@p.yaml:4:16: `buckets[0].reconcile` must be `true` or `false` (unquoted), found a string (give `true` or `false` (unquoted) here)"
        ]
    );
}
