//! `verify --url` through a caching proxy (`scripts/cacheproxy.py`) in front of
//! LocalStack, which answers CORS requests as S3 does (docs/emulators.md): the
//! classic CDN pitfall, a cache keyed on the URL only, fails verify (exit 1) naming
//! the problem and the fix, with or without the proxy's `Age`/`X-Cache` headers; a
//! cache keyed on the URL and Origin passes (exit 0); a cache that kept origin A's
//! answer serves it to B, reported as such in every output format; and with a policy
//! that allows one origin, B is one it refuses, which must get no CORS headers.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use crate::support::{create_bucket, localstack, s3cors, sdk_client, start_script, unique_bucket};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use s3cors::probe::{ProbeRequest, Prober};
use s3cors::s3::{BucketTarget, S3Api};

const APP: &str = "https://app.example.com";
const CDN: &str = "https://cdn.example.com";
const KEY: &str = "assets/app.js";
/// Longest run of one `s3cors verify` (three probes of at most 10 s each).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// `scripts/cacheproxy.py --key KEY` in front of `upstream`; stops when dropped (its
/// stdin closes; killed too, in case).
struct CacheProxy {
    endpoint: String,
    child: Child,
}

impl CacheProxy {
    fn start(upstream: &str, key: &str, extra: &[&str]) -> CacheProxy {
        let mut args = vec![
            "--upstream",
            upstream,
            "--key",
            key,
            "--upstream-timeout",
            "10",
        ];
        args.extend_from_slice(extra);
        let (child, endpoint) = start_script("cacheproxy.py", &args);
        CacheProxy { endpoint, child }
    }

    /// `{"hits": N, "misses": N, "kept": N}`.
    fn stats(&self) -> serde_json::Value {
        let url = format!("{}/__cache/stats", self.endpoint);
        let body = get_body(&url);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {body:?}: {e}"))
    }
}

impl Drop for CacheProxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a plain GET over one short-lived connection, bounded by 10 s.
fn get_body(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// A bucket on LocalStack with a public object and, applied, a policy whose one rule
/// allows GET/HEAD from `origins`; returns the bucket and the policy folder.
async fn bucket_with_policy(prefix: &str, origins: &[&str]) -> (String, tempfile::TempDir) {
    let endpoint = localstack().endpoint();
    let bucket = unique_bucket(prefix);
    create_bucket(endpoint, &bucket).await;
    sdk_client(endpoint)
        .await
        .put_object()
        .bucket(&bucket)
        .key(KEY)
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"console.log('app');\n"))
        .send()
        .await
        .expect("put object");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bucket.yaml"),
        format!(
            "version: 1\nbuckets:\n  - name: {bucket}\n    rules:\n      - AllowedMethods: [GET, HEAD]\n        AllowedOrigins: [{}]\n        ExposeHeaders: [ETag]\n",
            origins.join(", ")
        ),
    )
    .expect("write policy");
    let (sources, _) = s3cors::app::load::read_policies(&[dir.path().to_path_buf()]);
    let desired = s3cors::policy::load(&sources).policy.buckets[0]
        .desired()
        .expect("rules");
    crate::support::aws_s3(endpoint)
        .await
        .put_cors(&BucketTarget::new(&bucket), &desired)
        .await
        .expect("put CORS");
    (bucket, dir)
}

/// `s3cors verify --url URL --bucket BUCKET .` (plus `args`) in `dir`: exit code,
/// stdout.
fn verify(dir: &Path, url: &str, bucket: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = s3cors(localstack().endpoint())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["--timeout", "10", "verify", "."])
        .args(["--url", url, "--bucket", bucket])
        .args(args)
        .timeout(RUN_LIMIT)
        .output()
        .expect("run s3cors");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.trim().is_empty() || out.status.code().is_some(),
        "{stderr}"
    );
    (out.status.code(), stdout)
}

fn contains_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_keyed_on_the_url_fails_and_one_keyed_on_origin_passes() {
    let (bucket, dir) = bucket_with_policy("cdn-key", &[APP, CDN]).await;

    // Keyed on the URL only: the answer to the GET without Origin is served to both.
    let proxy = CacheProxy::start(localstack().endpoint(), "url", &[]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    let (code, stdout) = verify(dir.path(), &url, &bucket, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    contains_all(
        &stdout,
        &[
            &format!(
                "FAIL {url}: GET without Origin, then from {APP} (allowed), then from {CDN} (allowed)\n"
            ),
            &format!(
                "  problem missing-cors-headers: GET from {APP}, which the policy allows, got no Access-Control-Allow-Origin: a cache whose key lacks Origin served it the answer it keeps for the GET without Origin"
            ),
            &format!("  problem missing-cors-headers: GET from {CDN}, which the policy allows"),
            "    evidence: served from a cache (age: ",
            "x-cache: Hit from cacheproxy)\n",
            "    evidence: the answer to the GET without Origin, sent just before, had no Access-Control-Allow-Origin either\n",
            "  fix: make Origin part of the cache key (that also forwards it to S3): on CloudFront, a cache policy whose cache key includes the Origin header",
            "\nverify: URL check failed.\n",
        ],
    );
    // LocalStack saw one request; the cache answered the other two.
    let stats = proxy.stats();
    assert_eq!(
        (stats["misses"].as_u64(), stats["hits"].as_u64()),
        (Some(1), Some(2)),
        "{stats}"
    );
    drop(proxy);

    // Keyed on the URL and Origin: each origin gets its own answer.
    let proxy = CacheProxy::start(localstack().endpoint(), "origin", &[]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    let (code, stdout) = verify(dir.path(), &url, &bucket, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    contains_all(
        &stdout,
        &[
            &format!(
                "PASS {url}: GET without Origin, then from {APP} (allowed), then from {CDN} (allowed)\n"
            ),
            &format!("  GET from {APP}: 200, access-control-allow-origin: {APP}"),
            &format!("  GET from {CDN}: 200, access-control-allow-origin: {CDN}"),
            "\nverify: URL check passed.\n",
        ],
    );
    assert!(!stdout.contains("problem"), "{stdout}");

    // A second run through the same cache: every answer now comes from it, and
    // each is still the right one.
    let (code, stdout) = verify(dir.path(), &url, &bucket, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let check = &report["url_check"];
    assert_eq!(check["pass"], true, "{check}");
    for request in check["requests"].as_array().expect("requests") {
        let cache = request["cache"].to_string();
        assert!(cache.contains("Hit from cacheproxy"), "{request}");
    }
    assert_eq!(
        check["requests"][2]["actual"]["headers"][0],
        serde_json::json!({"name": "access-control-allow-origin", "value": CDN})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_that_kept_one_origins_answer_serves_it_to_the_other() {
    let (bucket, dir) = bucket_with_policy("cdn-other", &[APP, CDN]).await;
    let prober = Prober::new(Duration::from_secs(10)).expect("prober");
    // Without Age or X-Cache: the check must not depend on them.
    let proxy = CacheProxy::start(localstack().endpoint(), "url", &["--no-cache-headers"]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    // A browser on APP came first: the cache keeps APP's answer.
    let first = prober
        .send(&ProbeRequest {
            method: "GET".into(),
            url: url.clone(),
            headers: vec![("Origin".into(), APP.into())],
        })
        .await
        .expect("prime the cache");
    assert_eq!(
        first.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );

    let (code, stdout) = verify(dir.path(), &url, &bucket, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    contains_all(
        &stdout,
        &[
            &format!(
                "  problem wrong-allow-origin: GET from {CDN} got Access-Control-Allow-Origin: {APP}, another origin's answer: a cache whose key lacks Origin served it the answer it keeps for {APP}"
            ),
            &format!(
                "    evidence: Access-Control-Allow-Origin: {APP} is the answer to the GET from {APP} sent just before\n"
            ),
            "  fix: make Origin part of the cache key",
        ],
    );
    assert!(!stdout.contains("served from a cache"), "{stdout}");
    assert!(!stdout.contains("missing-cors-headers"), "{stdout}");

    // The same finding in JSON, SARIF and JUnit.
    let (code, json) = verify(dir.path(), &url, &bucket, &["--format", "json"]);
    assert_eq!(code, Some(1), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let problems = report["url_check"]["problems"]
        .as_array()
        .expect("problems");
    assert_eq!(problems.len(), 1, "{json}");
    assert_eq!(problems[0]["code"], "wrong-allow-origin");
    assert_eq!(problems[0]["request"], 2);
    assert!(
        problems[0]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("CORS-S3Origin")),
        "{json}"
    );
    let (code, sarif) = verify(dir.path(), &url, &bucket, &["--format", "sarif"]);
    assert_eq!(code, Some(1), "{sarif}");
    let log: serde_json::Value = serde_json::from_str(&sarif).expect("sarif");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{sarif}");
    assert_eq!(results[0]["ruleId"], "url-check-failed");
    let text = results[0]["message"]["text"].as_str().expect("message");
    contains_all(
        text,
        &[
            &format!("{url}: wrong-allow-origin: GET from {CDN}"),
            ". Fix: make Origin part of the cache key",
        ],
    );
    let (code, junit) = verify(dir.path(), &url, &bucket, &["--format", "junit"]);
    assert_eq!(code, Some(1), "{junit}");
    contains_all(
        &junit,
        &[
            "tests=\"3\" failures=\"1\" errors=\"0\"",
            &format!("<testcase name=\"GET from {CDN}\" classname=\"s3cors.verify.url\">"),
            "<failure message=\"1 problem(s)\" type=\"failure\">wrong-allow-origin: ",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_allowed_origin_the_second_is_one_the_policy_refuses() {
    let (bucket, dir) = bucket_with_policy("cdn-one", &[APP]).await;
    let refused = "https://s3cors-unlisted.example";

    let proxy = CacheProxy::start(localstack().endpoint(), "origin", &[]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    let (code, stdout) = verify(dir.path(), &url, &bucket, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let b = &report["url_check"]["requests"][2];
    assert_eq!(b["origin"], refused, "{b}");
    assert_eq!(b["expect"], "refused", "{b}");
    assert_eq!(b["actual"]["status"], 200, "{b}");
    assert!(
        !b["actual"]["headers"]
            .to_string()
            .contains("access-control-allow-origin"),
        "{b}"
    );
    drop(proxy);

    // The URL-keyed cache fails at A already; the refused B gets the same answer
    // without CORS headers, which is right for it.
    let proxy = CacheProxy::start(localstack().endpoint(), "url", &[]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    let (code, stdout) = verify(dir.path(), &url, &bucket, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    contains_all(
        &stdout,
        &[
            &format!("then from {refused} (refused)\n"),
            &format!("  problem missing-cors-headers: GET from {APP}, which the policy allows"),
        ],
    );
    assert_eq!(stdout.matches("  problem ").count(), 1, "{stdout}");

    // Two --origin values replace the policy's choice; expectations still come from
    // the policy, so an origin it refuses must get no CORS headers.
    let (code, stdout) = verify(
        dir.path(),
        &url,
        &bucket,
        &["--origin", APP, "--origin", "https://evil.example"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("then from https://evil.example (refused)\n"),
        "{stdout}"
    );
}

/// A cache that honours `Vary` (RFC 9111) is not enough in front of S3: S3 answers a
/// request without Origin with no `Vary` at all, so that answer, once kept, matches
/// every later request, whatever its Origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_honouring_vary_still_serves_the_answer_without_origin() {
    let (bucket, dir) = bucket_with_policy("cdn-vary", &[APP, CDN]).await;
    let proxy = CacheProxy::start(localstack().endpoint(), "vary", &[]);
    let url = format!("{}/{bucket}/{KEY}", proxy.endpoint);
    let (code, stdout) = verify(dir.path(), &url, &bucket, &["--format", "json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let check = &report["url_check"];
    // The answer without Origin carried no Vary.
    assert_eq!(
        check["requests"][0]["actual"]["headers"],
        serde_json::json!([]),
        "{check}"
    );
    let codes: Vec<(&str, u64)> = check["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or(""),
                p["request"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [("missing-cors-headers", 1), ("missing-cors-headers", 2)],
        "{check}"
    );
}
