//! `s3cors explain` run as a user runs it: a match, a miss with per-rule reasons, the
//! JSON document, ownership by `match:` with tags, and `--live` against moto.

use std::path::PathBuf;

use crate::support::{aws_env, aws_s3, create_bucket, moto, unique_bucket};
use assert_cmd::Command;
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{BucketTarget, S3Api};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `s3cors` in the repository root, hermetic: no AWS configuration from the host, and
/// no endpoint (explain on desired rules is offline).
fn s3cors() -> Command {
    let mut cmd = Command::cargo_bin("s3cors").expect("binary");
    cmd.current_dir(repo())
        .env("NO_COLOR", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE");
    cmd
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_match_names_the_rule_and_every_header() {
    let (code, stdout, stderr) = run(s3cors().args([
        "explain",
        "examples/two-rules.yaml",
        "--bucket",
        "example-app-uploads",
        "--origin",
        "https://admin.example.com",
        "--method",
        "PUT",
        "--header",
        "Content-Type",
    ]));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "\
Bucket example-app-uploads: desired rules of `name: example-app-uploads` at examples/two-rules.yaml:7 (2 rules)
Request: preflight OPTIONS, Origin: https://admin.example.com, Access-Control-Request-Method: PUT, Access-Control-Request-Headers: content-type

MATCH rule 2 at examples/two-rules.yaml:16, AllowedOrigins \"https://admin.example.com\"
  skipped rule 1 at examples/two-rules.yaml:9:
    - method: PUT is not in AllowedMethods [GET, HEAD] (examples/two-rules.yaml:11)
    - origin: https://admin.example.com matches no AllowedOrigins [https://app.example.com, https://cdn.example.com] (examples/two-rules.yaml:12)

S3 would answer 200 OK with:
  Access-Control-Allow-Origin: https://admin.example.com
  Access-Control-Allow-Credentials: true
  Access-Control-Allow-Methods: PUT, POST
  Access-Control-Allow-Headers: content-type
  Access-Control-Max-Age: 3600
  Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method

Browser: allowed — the preflight and the actual request pass the CORS check
note: content-type is CORS-safelisted with application/x-www-form-urlencoded, multipart/form-data or text/plain: browsers ask for it in Access-Control-Request-Headers only with another value (such as application/json), which the browser verdict assumes
"
    );
    assert_eq!(stderr, "", "explain shows no lint warnings");
}

#[test]
fn a_miss_says_which_part_of_which_rule_failed() {
    let (code, stdout, _) = run(s3cors().args([
        "explain",
        "examples/two-rules.yaml",
        "--bucket",
        "example-app-uploads",
        "--origin",
        "https://admin.example.com",
        "--method",
        "PUT",
        "--header",
        "x-amz-meta-owner",
    ]));
    assert_eq!(code, Some(0), "{stdout}");
    for needle in [
        "NO MATCH no rule allows this request\n",
        "  failed rule 1 at examples/two-rules.yaml:9:\n",
        "    - method: PUT is not in AllowedMethods [GET, HEAD] (examples/two-rules.yaml:11)\n",
        "  failed rule 2 at examples/two-rules.yaml:16:\n",
        "    - header: x-amz-meta-owner matches no AllowedHeaders [Content-Type, Authorization] (examples/two-rules.yaml:17)\n",
        "S3 would answer 403 AccessForbidden: CORSResponse: This CORS request is not allowed.",
        "with no CORS headers.\n",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // Rule 2's origin and method are fine: only the header is named.
    assert!(
        !stdout.contains("method: PUT is not in AllowedMethods [PUT, POST]"),
        "{stdout}"
    );
}

#[test]
fn json_document() {
    let (code, stdout, _) = run(s3cors().args([
        "explain",
        "examples/one-origin.yaml",
        "--bucket",
        "example-app-assets",
        "--origin",
        "https://app.example.com",
        "--method",
        "GET",
        "--actual",
        "--format",
        "json",
    ]));
    assert_eq!(code, Some(0), "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["bucket"], "example-app-assets");
    assert_eq!(doc["rules_from"]["kind"], "policy");
    assert_eq!(doc["rules_from"]["entry"], "examples/one-origin.yaml:7");
    assert_eq!(doc["request"]["preflight"], false);
    assert_eq!(doc["request"]["http_method"], "GET");
    assert_eq!(doc["verdict"], "matched");
    assert_eq!(doc["status"], serde_json::Value::Null);
    assert_eq!(doc["matched"]["number"], 1);
    assert_eq!(doc["matched"]["location"], "examples/one-origin.yaml:9");
    assert_eq!(doc["matched"]["origin"], "https://app.example.com");
    let names: Vec<&str> = doc["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| h["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Credentials",
            "Access-Control-Allow-Methods",
            "Access-Control-Expose-Headers",
            "Access-Control-Max-Age",
            "Vary"
        ]
    );
    assert_eq!(doc["rejected"], serde_json::json!([]));
}

/// `--actual` with `--request-method` and `--header`: the actual request carries them,
/// and S3 matches it with them (a GET asking for PUT, or for a header the rule does not
/// allow, gets no CORS headers).
#[test]
fn an_actual_request_carrying_access_control_request_headers() {
    let explain = |extra: &[&str]| {
        let mut cmd = s3cors();
        cmd.args([
            "explain",
            "examples/one-origin.yaml",
            "--bucket",
            "example-app-assets",
            "--origin",
            "https://app.example.com",
            "--method",
            "GET",
            "--actual",
        ])
        .args(extra);
        run(&mut cmd)
    };
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--request-method", "PUT"],
            &[
                "Request: actual GET, Origin: https://app.example.com, Access-Control-Request-Method: PUT\n",
                "NO MATCH",
                "- method: PUT is not in AllowedMethods [GET, HEAD]",
                "S3 would answer the object's normal response, with no CORS headers.",
                "note: browsers send Access-Control-Request-Method and -Headers only on preflights",
            ],
        ),
        (
            &["--header", "x-foo"],
            &[
                "Request: actual GET, Origin: https://app.example.com, Access-Control-Request-Headers: x-foo\n",
                "NO MATCH",
                "- header: x-foo matches no AllowedHeaders [Content-Type, Authorization]",
            ],
        ),
        (
            &["--request-method", "HEAD", "--header", "Authorization"],
            &[
                "MATCH rule 1",
                "Access-Control-Allow-Origin: https://app.example.com",
            ],
        ),
    ];
    for (extra, needles) in cases {
        let (code, stdout, stderr) = explain(extra);
        assert_eq!(code, Some(0), "{extra:?}: {stdout}{stderr}");
        for needle in *needles {
            assert!(
                stdout.contains(needle),
                "{extra:?}: missing {needle:?} in:\n{stdout}"
            );
        }
    }
    // The JSON request names what was sent and what was matched.
    let (_, stdout, _) = explain(&["--request-method", "PUT", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["request"]["http_method"], "GET");
    assert_eq!(doc["request"]["request_method"], "PUT");
    assert_eq!(doc["request"]["method"], "PUT");
    assert_eq!(doc["verdict"], "not-allowed");
    // --request-method belongs to an actual request: a preflight's is --method.
    let (code, _, stderr) = run(s3cors().args([
        "explain",
        "examples/one-origin.yaml",
        "--bucket",
        "example-app-assets",
        "--method",
        "GET",
        "--request-method",
        "PUT",
    ]));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--actual"), "{stderr}");
}

#[test]
fn unmanaged_bucket_and_tags_that_cannot_be_read() {
    // Every policy example (examples/*.yaml; its subfolders hold CI recipes).
    let (code, _, stderr) = run(s3cors().args([
        "explain",
        "examples/fleet.yaml",
        "examples/one-origin.yaml",
        "examples/public-assets.yaml",
        "examples/two-rules.yaml",
        "--bucket",
        "nobody-manages-this",
        "--origin",
        "https://a.example",
        "--method",
        "GET",
    ]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no policy entry manages bucket nobody-manages-this"),
        "{stderr}"
    );

    // `match: "static-*"` with tags: the tags cannot be read (no server at this
    // endpoint), so the glob alone decides, and a note says so.
    let (code, stdout, stderr) = run(s3cors()
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args([
            "explain",
            "examples/fleet.yaml",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--bucket",
            "static-new",
            "--origin",
            "https://s3cors-verify.example",
            "--method",
            "GET",
        ]));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("desired rules of `match: \"static-*\", tags: {"),
        "{stdout}"
    );
    assert!(
        stdout.contains("note: could not read the bucket's tags ("),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_configuration_from_moto() {
    let endpoint = moto().endpoint().to_owned();
    let bucket = unique_bucket("explain-live");
    create_bucket(&endpoint, &bucket).await;
    let config = CorsConfig::new(vec![
        CorsRule {
            id: Some("reads".into()),
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["https://*.example.com".into()],
            ..CorsRule::default()
        },
        CorsRule {
            id: Some("uploads".into()),
            allowed_methods: vec![Method::Put],
            allowed_origins: vec!["https://admin.example.com".into()],
            allowed_headers: vec!["content-type".into()],
            expose_headers: vec!["ETag".into()],
            ..CorsRule::default()
        },
    ]);
    aws_s3(&endpoint)
        .await
        .put_cors(&BucketTarget::new(&bucket), &config)
        .await
        .expect("put CORS");

    let mut cmd = s3cors();
    cmd.envs(aws_env(&endpoint)).args([
        "explain",
        "--live",
        "--path-style",
        "--bucket",
        &bucket,
        "--origin",
        "https://admin.example.com",
        "--method",
        "PUT",
        "--header",
        "Content-Type",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for needle in [
        format!("Bucket {bucket}: live configuration from {endpoint} (2 rules)"),
        "MATCH rule 2 (ID \"uploads\"), AllowedOrigins \"https://admin.example.com\"".to_string(),
        "  skipped rule 1 (ID \"reads\"):\n    - method: PUT is not in AllowedMethods [GET]\n"
            .to_string(),
        "  Access-Control-Expose-Headers: ETag\n".to_string(),
    ] {
        assert!(stdout.contains(&needle), "missing {needle:?} in:\n{stdout}");
    }

    // A bucket without configuration.
    let empty = unique_bucket("explain-empty");
    create_bucket(&endpoint, &empty).await;
    let mut cmd = s3cors();
    cmd.envs(aws_env(&endpoint)).args([
        "explain",
        "--live",
        "--path-style",
        "--bucket",
        &empty,
        "--origin",
        "https://a.example",
        "--method",
        "GET",
        "--format",
        "json",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["rules_from"]["kind"], "live");
    assert_eq!(doc["rules"], 0);
    assert_eq!(doc["verdict"], "cors-not-enabled");
    assert_eq!(doc["status"], 403);
}

/// `--method` is optional for a preflight (an OPTIONS without
/// Access-Control-Request-Method, as curl sends it), required with `--actual`.
#[test]
fn preflight_without_method_and_actual_needs_one() {
    let base = [
        "explain",
        "examples/two-rules.yaml",
        "--bucket",
        "example-app-uploads",
    ];
    let (code, stdout, stderr) = run(s3cors()
        .args(base)
        .args(["--origin", "https://app.example.com"]));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for needle in [
        "Request: preflight OPTIONS, Origin: https://app.example.com\n",
        "NO MATCH no rule allows this request\n",
        "    - method: OPTIONS is not in AllowedMethods [GET, HEAD] (examples/two-rules.yaml:11)\n",
        "    - method: OPTIONS is not in AllowedMethods [PUT, POST] (examples/two-rules.yaml:18)\n",
        "S3 would answer 403 AccessForbidden: CORSResponse: This CORS request is not allowed.",
        "note: browsers always send Access-Control-Request-Method on a preflight",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    let (code, stdout, _) =
        run(s3cors()
            .args(base)
            .args(["--origin", "https://app.example.com", "--format", "json"]));
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["request"]["request_method"], serde_json::Value::Null);
    assert_eq!(doc["request"]["method"], "OPTIONS");
    assert_eq!(doc["status"], 403);

    let (code, stdout, stderr) =
        run(s3cors()
            .args(base)
            .args(["--actual", "--origin", "https://app.example.com"]));
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("the following required arguments were not provided")
            && stderr.contains("--method <METHOD>"),
        "{stderr}"
    );
    let (code, _, stderr) = run(s3cors().args(base).args(["--request-method", "PUT"]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--actual"), "{stderr}");
}

/// An OPTIONS without Origin is S3's 400, with or without a method, in every format.
#[test]
fn preflight_without_origin_in_every_format() {
    let message = "400 BadRequest: Insufficient information. Origin request header needed.";
    for method in [&["--method", "PUT"][..], &[]] {
        let args = |format: &'static str| {
            let mut args = vec![
                "explain",
                "examples/two-rules.yaml",
                "--bucket",
                "example-app-uploads",
                "--format",
                format,
            ];
            args.extend_from_slice(method);
            args
        };
        let (code, stdout, stderr) = run(s3cors().args(args("human")));
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(stdout.contains(", no Origin"), "{stdout}");
        assert!(
            stdout.contains("NO MATCH the request has no Origin header\n"),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "S3 would answer {message}, with no CORS headers.\n"
            )),
            "{stdout}"
        );
        assert!(!stdout.contains("note:"), "{stdout}");

        let (code, stdout, _) = run(s3cors().args(args("markdown")));
        assert_eq!(code, Some(0));
        assert!(
            stdout.contains("- **No match**: the request has no Origin header\n"),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("- S3 would answer: {message}\n")),
            "{stdout}"
        );

        let (code, stdout, _) = run(s3cors().args(args("json")));
        assert_eq!(code, Some(0));
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(doc["verdict"], "missing-origin");
        assert_eq!(doc["status"], 400);
        assert_eq!(doc["error"]["code"], "BadRequest");
        assert_eq!(
            doc["error"]["message"],
            "Insufficient information. Origin request header needed."
        );
        assert_eq!(doc["request"]["origin"], serde_json::Value::Null);
        assert_eq!(doc["headers"], serde_json::json!([]));
    }
}

/// A credentialed GET to a `*` rule: S3 matches, the browser blocks; the JSON says
/// both, and without `--credentials` the browser allows it.
#[test]
fn credentials_on_a_wildcard_rule_are_blocked_by_the_browser() {
    let args = |credentials: bool| {
        let mut a = vec![
            "explain",
            "examples/public-assets.yaml",
            "--bucket",
            "example-public-assets",
            "--origin",
            "https://app.example.com",
            "--method",
            "GET",
            "--actual",
        ];
        if credentials {
            a.push("--credentials");
        }
        a
    };
    let (code, stdout, stderr) = run(s3cors().args(args(true)));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("MATCH rule 1"), "{stdout}");
    assert!(
        stdout.contains(
            "Browser: blocked — actual GET: credentialed request but Access-Control-Allow-Origin is *"
        ),
        "{stdout}"
    );
    for (credentials, allowed) in [(true, false), (false, true)] {
        let mut a = args(credentials);
        a.extend(["--format", "json"]);
        let (code, stdout, stderr) = run(s3cors().args(a));
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(v["verdict"], "matched");
        assert_eq!(v["browser"]["allowed"], allowed, "{stdout}");
        assert_eq!(v["browser"]["credentials"], credentials);
    }
}
