//! `explain`'s browser verdict against a real browser: headless Chromium runs
//! `fetch()` from pages on several local origins (ports, `127.0.0.1` vs
//! `localhost`) to buckets on LocalStack with CORS configurations, and for every case
//! the browser's outcome (the promise resolved, or rejected with a TypeError) must
//! equal `s3cors explain --live --format json`'s `browser.allowed` for the same
//! request, and the outcome the case was written for. A blocked fetch must also show
//! Chromium's "blocked by CORS policy" console message, so a network failure is never
//! taken for a CORS refusal.
//!
//! Chromium and chromedriver come from Debian's packages (`chromium`,
//! `chromium-driver`; `scripts/test` installs them when missing), or from
//! `S3CORS_CHROMIUM` / `S3CORS_CHROMEDRIVER`. They are driven by
//! tests/data/browser_cors.py (standard-library WebDriver client).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{create_bucket, localstack, s3cors, sdk_client, unique_bucket};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{BucketTarget, S3Api};
use serde_json::{Value, json};

/// The longest the browser run may take (it takes a few seconds).
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A tool's path from `var`, else `default`; fails saying how to get it.
fn tool(var: &str, default: &str) -> String {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_string());
    assert!(
        Path::new(&path).is_file(),
        "{path} is missing: the browser test needs Chromium and chromedriver. Install \
         Debian's packages (`apt-get install -y chromium chromium-driver`; `scripts/test` \
         does it when missing), or set {var} to the executable"
    );
    path
}

/// A page server on `127.0.0.1:PORT`: every request gets an empty HTML page. Reached
/// as `http://127.0.0.1:PORT` and `http://localhost:PORT`: two origins.
fn page_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // A thread per connection: Chromium opens connections it may never use.
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(read) = stream.try_clone() else { return };
                let mut reader = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let body = "<!doctype html><title>s3cors</title>";
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    port
}

/// One `fetch()`: from `page`'s origin to `bucket`/`key`.
struct Case {
    name: &'static str,
    origin: String,
    bucket: String,
    key: String,
    method: &'static str,
    /// Headers the script sets: name and value.
    headers: Vec<(&'static str, &'static str)>,
    credentials: bool,
    /// What the case is written to show.
    expect: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_what_chromium_does() {
    let chromium = tool("S3CORS_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = tool("S3CORS_CHROMEDRIVER", "/usr/bin/chromedriver");
    let endpoint = localstack().endpoint().to_string();
    let (p1, p2) = (page_server(), page_server());
    let o1 = format!("http://127.0.0.1:{p1}");
    let o2 = format!("http://localhost:{p1}");
    let o3 = format!("http://127.0.0.1:{p2}");

    let rule = |origins: &[&str], methods: &[Method], headers: &[&str]| CorsRule {
        allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
        allowed_methods: methods.to_vec(),
        allowed_headers: headers.iter().map(|h| h.to_string()).collect(),
        ..CorsRule::default()
    };
    // `*` for reads and writes with any header; the exact origin o1 with credentials
    // (S3 sends Allow-Credentials for listed origins); o2 reads only, no headers.
    let star = unique_bucket("browser-star");
    let exact = unique_bucket("browser-exact");
    let reads = unique_bucket("browser-reads");
    let configs = [
        (
            &star,
            CorsConfig::new(vec![rule(
                &["*"],
                &[Method::Get, Method::Head, Method::Put],
                &["*"],
            )]),
        ),
        (
            &exact,
            CorsConfig::new(vec![rule(
                &[&o1],
                &[Method::Get, Method::Put],
                &["content-type", "x-custom"],
            )]),
        ),
        (
            &reads,
            CorsConfig::new(vec![rule(&[&o2], &[Method::Get], &[])]),
        ),
    ];

    let case = |name, origin: &str, bucket: &str, method, headers, credentials, expect| Case {
        name,
        origin: origin.to_string(),
        bucket: bucket.to_string(),
        key: format!("k/{name}"),
        method,
        headers,
        credentials,
        expect,
    };
    let json_type = ("Content-Type", "application/json");
    let custom = ("X-Custom", "1");
    let cases = vec![
        case("simple-get-star", &o1, &star, "GET", vec![], false, true),
        case(
            "credentialed-get-star",
            &o1,
            &star,
            "GET",
            vec![],
            true,
            false,
        ),
        case(
            "put-json-star",
            &o3,
            &star,
            "PUT",
            vec![json_type],
            false,
            true,
        ),
        case(
            "credentialed-put-json-star",
            &o1,
            &star,
            "PUT",
            vec![json_type],
            true,
            false,
        ),
        case(
            "custom-header-star",
            &o2,
            &star,
            "GET",
            vec![custom],
            false,
            true,
        ),
        case(
            "credentialed-custom-header-star",
            &o2,
            &star,
            "GET",
            vec![custom],
            true,
            false,
        ),
        case("head-star", &o3, &star, "HEAD", vec![], false, true),
        case(
            "credentialed-get-exact",
            &o1,
            &exact,
            "GET",
            vec![],
            true,
            true,
        ),
        case("get-exact", &o1, &exact, "GET", vec![], false, true),
        case(
            "credentialed-put-json-exact",
            &o1,
            &exact,
            "PUT",
            vec![json_type, custom],
            true,
            true,
        ),
        case("other-host-exact", &o2, &exact, "GET", vec![], false, false),
        case("other-port-exact", &o3, &exact, "GET", vec![], true, false),
        case(
            "unlisted-header-exact",
            &o1,
            &exact,
            "GET",
            vec![("X-Other", "1")],
            false,
            false,
        ),
        case(
            "unlisted-method-exact",
            &o1,
            &exact,
            "DELETE",
            vec![],
            false,
            false,
        ),
        // Safelisted headers cause no preflight, though the rule allows no header.
        case(
            "safelisted-headers-reads",
            &o2,
            &reads,
            "GET",
            vec![("Accept", "application/json"), ("Content-Language", "en")],
            true,
            true,
        ),
        case("put-reads", &o2, &reads, "PUT", vec![], false, false),
        case(
            "text-plain-put-reads",
            &o2,
            &reads,
            "PUT",
            vec![("Content-Type", "text/plain")],
            false,
            false,
        ),
    ];

    // Buckets, configurations and an object per case (readable without signing).
    let client = sdk_client(&endpoint).await;
    let s3 = crate::support::aws_s3(&endpoint).await;
    for (bucket, config) in &configs {
        create_bucket(&endpoint, bucket).await;
        s3.put_cors(&BucketTarget::new(bucket.as_str()), config)
            .await
            .unwrap_or_else(|e| panic!("put CORS on {bucket}: {e}"));
    }
    for c in &cases {
        client
            .put_object()
            .bucket(&c.bucket)
            .key(&c.key)
            .acl(ObjectCannedAcl::PublicRead)
            .body(ByteStream::from_static(b"hello"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: put object: {e}", c.name));
    }

    // explain's verdict for each request, from the live configuration.
    let explained: Vec<Value> = cases
        .iter()
        .map(|c| {
            let mut cmd = s3cors(&endpoint);
            cmd.args([
                "explain", "--live", "--format", "json", "--bucket", &c.bucket,
            ])
            .args(["--origin", &c.origin, "--method", c.method])
            .timeout(Duration::from_secs(60));
            for (name, _) in &c.headers {
                cmd.args(["--header", name]);
            }
            if c.credentials {
                cmd.arg("--credentials");
            }
            let out = cmd.output().expect("run s3cors explain");
            assert!(
                out.status.success(),
                "{}: explain failed: {}",
                c.name,
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).expect("explain's JSON")
        })
        .collect();

    // The browser's outcome for each, in one Chromium session.
    let spec = json!({
        "chromium": chromium,
        "chromedriver": chromedriver,
        "cases": cases.iter().map(|c| {
            let mut init = json!({
                "method": c.method,
                "mode": "cors",
                "cache": "no-store",
                "credentials": if c.credentials { "include" } else { "same-origin" },
                "headers": c.headers.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            });
            if c.method == "PUT" {
                init["body"] = json!("{}");
            }
            json!({
                "name": c.name,
                "page": format!("{}/", c.origin),
                "url": format!("{endpoint}/{}/{}", c.bucket, c.key),
                "init": init,
            })
        }).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("cases.json");
    std::fs::write(&spec_path, spec.to_string()).expect("write cases");
    let started = Instant::now();
    let out = Command::new("timeout")
        .arg(BROWSER_TIMEOUT.as_secs().to_string())
        .arg("python3")
        .arg(repo().join("tests/data/browser_cors.py"))
        .arg(&spec_path)
        .output()
        .expect("run python3 tests/data/browser_cors.py");
    assert!(
        out.status.success(),
        "the browser run failed ({}; exit 124: over {} s): {}",
        out.status,
        BROWSER_TIMEOUT.as_secs(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("the browser run's JSON");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), cases.len(), "{run}");
    eprintln!(
        "browser: {} fetch() cases in Chromium in {:.1} s ({} s in the driver)",
        cases.len(),
        started.elapsed().as_secs_f64(),
        run["seconds"]
    );

    let mut failures = Vec::new();
    for ((c, e), r) in cases.iter().zip(&explained).zip(results) {
        assert_eq!(r["name"], c.name);
        let browser = r["ok"].as_bool().expect("ok");
        let verdict = &e["browser"];
        let explained = verdict["allowed"].as_bool().expect("browser.allowed");
        let console: Vec<&str> = r["console"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let line = format!(
            "{}: {} {} from {}{}: Chromium {}, explain {} ({}), written to be {}; console: {console:?}",
            c.name,
            c.method,
            c.bucket,
            c.origin,
            if c.credentials {
                " with credentials"
            } else {
                ""
            },
            if browser { "resolved" } else { "rejected" },
            if explained { "allowed" } else { "blocked" },
            verdict["reason"],
            if c.expect { "allowed" } else { "blocked" },
        );
        let cors_refusal = console.iter().any(|m| m.contains("blocked by CORS policy"));
        if browser != explained || browser != c.expect || (!browser && !cors_refusal) {
            failures.push(line);
        } else {
            eprintln!("ok {line}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
