//! Trust in a real pipeline: S3 calls that hang, get reset, or come back spoiled,
//! injected by `scripts/s3proxy.py` in front of moto. Each test checks what the
//! user sees (exit code, the bucket and operation named) and, where a write was
//! involved, the state S3 holds afterwards.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Fault, Proxy, create_bucket, moto, s3cors, unique_bucket};
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{BucketTarget, S3Api};

fn config(origin: &str) -> CorsConfig {
    CorsConfig::new(vec![CorsRule {
        allowed_origins: vec![origin.to_owned()],
        allowed_methods: vec![Method::Get, Method::Head],
        max_age_seconds: Some(3600),
        ..CorsRule::default()
    }])
}

/// `n` buckets created in moto, each with CORS `config("https://old.example.com")`.
async fn buckets(prefix: &str, n: usize) -> Vec<String> {
    let endpoint = moto().endpoint();
    let direct = crate::support::aws_s3(endpoint).await;
    let mut names = Vec::new();
    for i in 0..n {
        let name = unique_bucket(&format!("{prefix}-{i}"));
        create_bucket(endpoint, &name).await;
        direct
            .put_cors(
                &BucketTarget::new(&name),
                &config("https://old.example.com"),
            )
            .await
            .expect("seed CORS");
        names.push(name);
    }
    names
}

/// A policy directory managing `names`, each wanting `https://NAME.example.com`.
fn policy_dir(names: &[String]) -> tempfile::TempDir {
    let mut yaml = String::from("version: 1\nbuckets:\n");
    for name in names {
        yaml.push_str(&format!(
            "  - name: {name}\n    rules:\n      - AllowedOrigins: [\"https://{name}.example.com\"]\n        AllowedMethods: [GET, HEAD]\n        MaxAgeSeconds: 3600\n"
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("fleet.yaml"), yaml).expect("write policy");
    dir
}

/// `s3cors plan DIR --format json ARGS` through `endpoint`: (exit code, report,
/// stderr, seconds taken).
fn plan_json(endpoint: &str, dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String, f64) {
    let start = Instant::now();
    let out = s3cors(endpoint)
        .args(args)
        .arg("plan")
        .arg(dir)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run s3cors");
    let took = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("plan output is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr, took)
}

/// `field` of every entry of a JSON plan report's `list`, by bucket.
fn by_bucket(report: &serde_json::Value, list: &str, field: &str) -> BTreeMap<String, String> {
    report[list]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["bucket"].as_str().unwrap_or_default().to_owned(),
                e[field].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// bucket -> action of a JSON plan report.
fn planned(report: &serde_json::Value) -> BTreeMap<String, String> {
    by_bucket(report, "buckets", "action")
}

/// The error messages of a JSON plan report, by bucket.
fn errors(report: &serde_json::Value) -> BTreeMap<String, String> {
    by_bucket(report, "errors", "message")
}

/// The live configuration of `name`, read directly from moto.
async fn live(name: &str) -> Option<CorsConfig> {
    crate::support::aws_s3(moto().endpoint())
        .await
        .get_cors(&BucketTarget::new(name))
        .await
        .expect("read CORS directly")
}

// --- bounded time ---------------------------------------------------------------

#[tokio::test]
async fn plan_with_a_hanging_read_fails_that_bucket_in_bounded_time_and_plans_the_rest() {
    let names = buckets("hang-plan", 3).await;
    let stuck = &names[1];
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("hang").ops("GetBucketCors").buckets(stuck),
        &[],
    );
    let dir = policy_dir(&names);
    let (code, report, stderr, took) = plan_json(proxy.endpoint(), dir.path(), &["--timeout", "1"]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    // Three attempts of 1 s (the call's budget is 3 s), then the run ends.
    assert!(took < 15.0, "plan took {took:.1} s");
    let errors = errors(&report);
    let message = errors.get(stuck.as_str()).map_or("", String::as_str);
    assert!(
        message.starts_with(&format!(
            "GetBucketCors on bucket \"{stuck}\" timed out after "
        )),
        "{report}"
    );
    let planned = planned(&report);
    for other in [&names[0], &names[2]] {
        assert_eq!(
            planned.get(other.as_str()).map(String::as_str),
            Some("update"),
            "{report}"
        );
    }
    assert!(
        proxy.count("faulted", "GetBucketCors") >= 1,
        "{}",
        proxy.stats()
    );
}

#[tokio::test]
async fn apply_with_a_hanging_write_fails_that_bucket_and_does_not_hang() {
    let names = buckets("hang-apply", 2).await;
    let stuck = &names[0];
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("hang").ops("PutBucketCors").buckets(stuck),
        &[],
    );
    let dir = policy_dir(&names);
    let work = tempfile::tempdir().expect("work dir");
    let start = Instant::now();
    let out = s3cors(proxy.endpoint())
        .current_dir(work.path())
        .args(["--timeout", "1", "apply", "--auto-approve", "--policies"])
        .arg(dir.path())
        .args(["--wait-timeout", "10"])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run s3cors");
    let took = start.elapsed().as_secs_f64();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(took < 30.0, "apply took {took:.1} s:\n{text}");
    assert!(
        text.contains(&format!(
            "PutBucketCors on bucket \"{stuck}\" timed out after "
        )),
        "{text}"
    );
    // S3 holds the old configuration for the stuck bucket, the new one for the other.
    assert_eq!(live(stuck).await, Some(config("https://old.example.com")));
    let other = &names[1];
    assert_eq!(
        live(other).await,
        Some(config(&format!("https://{other}.example.com")))
    );
}

#[tokio::test]
async fn a_reset_connection_is_retried_and_a_lost_write_answer_is_written_once_more() {
    let names = buckets("reset", 1).await;
    let name = &names[0];
    // The first GetBucketCors is reset, the first PutBucketCors takes effect but its
    // answer is lost: both are retried and the apply succeeds.
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("reset").ops("GetBucketCors").first(1),
        &[],
    );
    let dir = policy_dir(&names);
    let (code, report, stderr, _) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(proxy.count("faulted", "GetBucketCors"), 1);
    proxy.set_fault(&Fault::new("lost-reset").ops("PutBucketCors").first(1));
    let work = tempfile::tempdir().expect("work dir");
    let out = s3cors(proxy.endpoint())
        .current_dir(work.path())
        .args(["apply", "--auto-approve", "--policies"])
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run s3cors");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        proxy.count("faulted", "PutBucketCors"),
        1,
        "{}",
        proxy.stats()
    );
    assert_eq!(
        proxy.count("forwarded", "PutBucketCors"),
        2,
        "{}",
        proxy.stats()
    );
    assert_eq!(
        live(name).await,
        Some(config(&format!("https://{name}.example.com")))
    );
}

#[tokio::test]
async fn a_verify_probe_that_is_never_answered_fails_after_the_timeout() {
    let proxy = Proxy::with_fault(moto().endpoint(), &Fault::new("hang"), &[]);
    let url = format!("{}/any-bucket/index.html", proxy.endpoint());
    let start = Instant::now();
    let out = s3cors(proxy.endpoint())
        .args([
            "--timeout",
            "1",
            "--color",
            "never",
            "verify",
            "--url",
            &url,
        ])
        .args(["--origin", "https://app.example.com"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run s3cors");
    let took = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(took < 15.0, "verify took {took:.1} s");
    assert!(
        stdout.contains(&format!("no response from {url} within 1 s")),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_write_whose_answer_never_comes_fails_the_bucket_though_s3_holds_it() {
    let names = buckets("lost-hang", 1).await;
    let name = &names[0];
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("lost-hang").ops("PutBucketCors"),
        &[],
    );
    let dir = policy_dir(&names);
    let work = tempfile::tempdir().expect("work dir");
    let out = s3cors(proxy.endpoint())
        .current_dir(work.path())
        .args(["--timeout", "1", "apply", "--auto-approve", "--policies"])
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run s3cors");
    let text = format!("{out:?}");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "PutBucketCors on bucket \"{name}\" timed out after "
        )),
        "{text}"
    );
    // The server acted on every attempt: S3 holds the planned configuration, and
    // the next plan finds nothing to do.
    assert!(
        proxy.count("forwarded", "PutBucketCors") >= 1,
        "{}",
        proxy.stats()
    );
    let want = config(&format!("https://{name}.example.com"));
    assert_eq!(live(name).await, Some(want));
    proxy.clear_fault();
    let (code, report, stderr, _) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(
        planned(&report).get(name.as_str()).map(String::as_str),
        Some("unchanged"),
        "{report}"
    );
}

#[tokio::test]
async fn an_error_status_names_the_bucket_and_s3s_code() {
    let names = buckets("denied", 2).await;
    let denied = &names[0];
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("status")
            .status(403)
            .ops("GetBucketCors")
            .buckets(denied),
        &[],
    );
    let dir = policy_dir(&names);
    let (code, report, stderr, _) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    let message = errors(&report).remove(denied.as_str()).unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "GetBucketCors on bucket \"{denied}\": AccessDenied: Injected fault: AccessDenied. (check the credentials"
        )),
        "{message}"
    );
    // Not retried: one call.
    assert_eq!(
        proxy.count("faulted", "GetBucketCors"),
        1,
        "{}",
        proxy.stats()
    );
    assert_eq!(
        planned(&report).get(names[1].as_str()).map(String::as_str),
        Some("update"),
        "{report}"
    );
}

// --- throttling -------------------------------------------------------------------

#[tokio::test]
async fn constant_slowdown_fails_every_bucket_within_the_call_budget() {
    let names = buckets("slowdown", 20).await;
    let proxy = Proxy::start(
        moto().endpoint(),
        &["--throttle-rate", "1", "--throttle-ops", "GetBucketCors"],
    );
    let dir = policy_dir(&names);
    // --timeout 2: each call has a 6 s budget; 20 buckets at parallelism 32 run at once.
    let (code, report, stderr, took) = plan_json(proxy.endpoint(), dir.path(), &["--timeout", "2"]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    assert!(took < 20.0, "plan took {took:.1} s");
    let errors = errors(&report);
    assert_eq!(errors.len(), names.len(), "{report}");
    for name in &names {
        let message = errors.get(name.as_str()).map_or("", String::as_str);
        assert!(
            message.starts_with(&format!("GetBucketCors on bucket \"{name}\": SlowDown: ")),
            "{report}"
        );
        assert!(message.contains("Still throttled after "), "{report}");
    }
    // At most 10 attempts per bucket, fewer when the budget ends first.
    let gets = proxy.count("requests", "GetBucketCors");
    assert!(gets <= 10 * names.len() as u64, "{gets}");
}

// --- answers that cannot be trusted ---------------------------------------------------

/// Plans two buckets through a proxy spoiling the GetBucketCors answers of the
/// first with `fault`; returns the first's error message (and checks the second
/// is planned and the first is not).
async fn plan_with_spoiled_read(prefix: &str, fault: Fault) -> String {
    let names = buckets(prefix, 2).await;
    let spoiled = &names[0];
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &fault.ops("GetBucketCors").buckets(spoiled),
        &[],
    );
    let dir = policy_dir(&names);
    let (code, report, stderr, took) = plan_json(proxy.endpoint(), dir.path(), &["--timeout", "5"]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    assert!(took < 30.0, "plan took {took:.1} s");
    let planned = planned(&report);
    assert_eq!(planned.get(spoiled.as_str()), None, "{report}");
    assert_eq!(
        planned.get(names[1].as_str()).map(String::as_str),
        Some("update"),
        "{report}"
    );
    assert!(
        proxy.count("faulted", "GetBucketCors") >= 1,
        "{}",
        proxy.stats()
    );
    let message = errors(&report).remove(spoiled.as_str()).unwrap_or_default();
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{7}'),
        "{message:?}"
    );
    message
}

fn malformed(bucket_message: &str, why: &str) {
    assert!(
        bucket_message.contains(&format!("\" returned a malformed body: {why}")),
        "{bucket_message}"
    );
    assert!(
        bucket_message.contains("this is a server or proxy fault, not your policy"),
        "{bucket_message}"
    );
}

#[tokio::test]
async fn a_truncated_body_fails_the_bucket_instead_of_being_planned() {
    // Framed as complete (Content-Length of the cut body): only the XML shows it.
    let message = plan_with_spoiled_read("truncate", Fault::new("truncate")).await;
    malformed(&message, "the XML ends inside ");
    assert!(message.contains("the body is cut short"), "{message}");
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_fails_the_bucket() {
    let message = plan_with_spoiled_read("short", Fault::new("short-body")).await;
    malformed(&message, "error reading a body from connection");
}

#[tokio::test]
async fn an_oversized_body_is_not_read_whole() {
    let message = plan_with_spoiled_read("oversize", Fault::new("oversize").size(10 << 20)).await;
    malformed(&message, "the body is larger than the 66560 bytes");
}

#[tokio::test]
async fn a_rule_without_origins_fails_the_bucket() {
    let message = plan_with_spoiled_read("no-origins", Fault::new("no-origins")).await;
    malformed(&message, "rule 1 has no AllowedOrigin");
}

#[tokio::test]
async fn html_and_control_characters_in_an_error_are_shown_safely() {
    let message = plan_with_spoiled_read("hostile", Fault::new("html-message").status(400)).await;
    assert!(message.contains("HTTP 400"), "{message}");
    assert!(!message.contains("see the message above"), "{message}");
}
