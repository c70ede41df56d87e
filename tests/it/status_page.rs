//! The HTML status page in a real browser: `drift --format html` (a file) and
//! `watch --listen`'s `/` (over HTTP), against moto buckets in sync, drifted
//! (with markup in its live rules) and missing, rendered by headless Chromium
//! (Debian's `chromium`, which `scripts/test` installs). The counts read from
//! the rendered DOM's `data-` attributes equal `drift --format json`'s summary
//! and per-account counts; nothing from live state becomes markup; screenshots
//! are kept in target/test-artifacts/.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use s3cors::model::Method;
use serde_json::Value;

use crate::support::watcher::{Answer, Watcher};
use crate::support::work::*;

/// Debian's Chromium, or the one `S3CORS_CHROMIUM` names (as for the browser test).
fn chromium_path() -> PathBuf {
    std::env::var_os("S3CORS_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Where screenshots are kept for people to look at.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("creating target/test-artifacts");
    dir
}

/// Headless Chromium with `args` then `url`, at most 90 s: its stdout.
fn chromium(args: &[&str], url: &str) -> String {
    let exe = chromium_path();
    assert!(
        exe.exists(),
        "{} is missing: install Debian's chromium (`apt-get install -y chromium` as \
         root; `scripts/test` does it), or set S3CORS_CHROMIUM",
        exe.display()
    );
    let profile = tempfile::tempdir().expect("a profile dir");
    let started = Instant::now();
    let out = assert_cmd::Command::new(&exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .timeout(Duration::from_secs(90))
        .output()
        .expect("running chromium");
    assert!(
        out.status.success(),
        "chromium {args:?} {url}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "chromium {args:?} {url}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM after Chromium rendered `url`.
fn rendered_dom(url: &str) -> String {
    let dom = chromium(&["--dump-dom"], url);
    assert!(dom.contains("</html>"), "not a DOM: {dom}");
    dom
}

/// A screenshot of `url` at 1280x2000 in target/test-artifacts/NAME, checked to
/// be a PNG of that size with more than a blank page in it.
fn screenshot(url: &str, name: &str) -> PathBuf {
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    chromium(
        &[
            &format!("--screenshot={}", path.display()),
            "--window-size=1280,2000",
        ],
        url,
    );
    let png =
        std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000), "{}", path.display());
    // A blank 1280x2000 page compresses to a few kilobytes; text, tables and
    // bars do not.
    assert!(
        png.len() > 20_000,
        "{} is only {} bytes: a blank page?",
        path.display(),
        png.len()
    );
    path
}

/// Every `data-NAME="..."` value in the element tags of `dom` that carry
/// `data-value`, as (attributes, value).
fn data_values(dom: &str) -> Vec<(BTreeMap<String, String>, usize)> {
    let mut found = Vec::new();
    for tag in dom.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let mut attrs = BTreeMap::new();
        let mut rest = tag;
        while let Some(at) = rest.find(" data-") {
            rest = &rest[at + 6..];
            let Some(eq) = rest.find("=\"") else { break };
            let name = rest[..eq].to_owned();
            rest = &rest[eq + 2..];
            let end = rest.find('"').unwrap_or(rest.len());
            attrs.insert(name, rest[..end].to_owned());
            rest = &rest[end..];
        }
        if let Some(v) = attrs.remove("value") {
            found.push((attrs, v.parse().expect("data-value is a number")));
        }
    }
    found
}

/// The summary and per-account counts of a page: `summary KEY` and
/// `ACCOUNT KEY` (ACCOUNT empty for the caller's own).
fn page_counts(dom: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (attrs, v) in data_values(dom) {
        let key = match (
            attrs.get("summary"),
            attrs.get("account"),
            attrs.get("count"),
        ) {
            (Some(k), _, _) => format!("summary {k}"),
            (None, Some(a), Some(k)) => format!("{a} {k}"),
            _ => continue,
        };
        assert!(counts.insert(key.clone(), v).is_none(), "{key} twice");
    }
    counts
}

/// The same counts from `drift --format json`.
fn json_counts(report: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for key in [
        "in_sync",
        "drifted",
        "missing",
        "errors",
        "unresolved",
        "guardrail_violations",
    ] {
        counts.insert(
            format!("summary {key}"),
            report["summary"][key].as_u64().unwrap() as usize,
        );
    }
    for a in report["by_account"].as_array().unwrap() {
        let account = a["account"].as_str().unwrap_or("");
        for (key, n) in a["counts"].as_object().unwrap() {
            counts.insert(format!("{account} {key}"), n.as_u64().unwrap() as usize);
        }
    }
    counts
}

/// What the rendered DOM must show of live values with markup in them: text,
/// never elements.
fn assert_inert(dom: &str) {
    assert!(
        !dom.contains("<script"),
        "a script element in the DOM:\n{dom}"
    );
    assert!(
        !dom.contains("<i>"),
        "live markup became an element:\n{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;"),
        "the live origin is shown as text:\n{dom}"
    );
}

/// The three buckets, and the work folder whose policy manages them.
async fn fleet() -> (Work, [String; 3]) {
    let origin = "https://app.example.com";
    let in_sync = bucket_with("page-sync", Some(&get_rule(origin))).await;
    let hostile = cfg(vec![rule(
        &["https://<script>alert(\"x\")</script>.example.com"],
        &[Method::Get, Method::Put],
        &["x-a&b", "x-<i>q</i>"],
    )]);
    let drifted = bucket_with("page-drift", Some(&hostile)).await;
    let missing = crate::support::unique_bucket("page-missing");
    let work = Work::new();
    work.manage(&[(&in_sync, origin), (&drifted, origin), (&missing, origin)]);
    (work, [in_sync, drifted, missing])
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_html_renders_in_chromium_with_the_json_reports_counts() {
    let (work, [in_sync, drifted, missing]) = fleet().await;
    let json: Value = serde_json::from_str(&work.ok(&["drift", "policies", "--format", "json"], 2))
        .expect("drift --format json");
    let want = json_counts(&json);
    assert_eq!(want["summary in_sync"], 1);
    assert_eq!(want["summary drifted"], 1);
    assert_eq!(want["summary missing"], 1);

    let html = work.ok(&["drift", "policies", "--format", "html"], 2);
    let file = work.path("drift.html");
    std::fs::write(&file, &html).unwrap();
    let url = format!("file://{}", file.display());
    let dom = rendered_dom(&url);
    assert_eq!(page_counts(&dom), want, "counts in the rendered page");
    assert_inert(&dom);
    for bucket in [&in_sync, &drifted, &missing] {
        // The in-sync bucket is counted, not listed.
        assert_eq!(
            dom.contains(bucket.as_str()),
            bucket != &in_sync,
            "{bucket}"
        );
    }
    assert!(dom.contains("data-state=\"drifted\"") && dom.contains("data-state=\"missing\""));
    assert!(dom.contains(&format!(
        "id=\"policy-digest\">{}<",
        json["policy_digest"].as_str().unwrap()
    )));
    screenshot(&url, "drift-report.png");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_serves_the_status_page_with_the_last_checks() {
    // No usable policy yet: the page says the first check is running, and
    // lists the checks that found no usable policies.
    let (work, _) = fleet().await;
    let good = std::fs::read_to_string(work.path("policies/p.yaml")).unwrap();
    work.policy("p.yaml", "version: 1\nbuckets:\n  - name: [broken\n");
    let mut w = Watcher::start(&work, &[]);
    let Answer { status, head, body } = w.wait("a check without policies", |w| {
        let got = w.get("/");
        got.body
            .contains("data-outcome=\"no_policies\"")
            .then_some(got)
    });
    assert_eq!(status, 200, "{body}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(body.contains("id=\"pending\""), "{body}");
    assert_eq!(w.get("/readyz").status, 503);

    // Good policies: the page shows the last complete check.
    work.policy("p.yaml", &good);
    w.wait("a complete check", |w| {
        let body = w.get("/").body;
        (body.contains("id=\"verdict\"") && body.contains("data-outcome=\"drifted\"")).then_some(())
    });
    let json: Value = serde_json::from_str(&work.ok(&["drift", "policies", "--format", "json"], 2))
        .expect("drift --format json");
    let url = format!("http://{}/", w.addr);
    let dom = rendered_dom(&url);
    assert_eq!(
        page_counts(&dom),
        json_counts(&json),
        "counts in the served page"
    );
    assert_inert(&dom);
    assert!(dom.contains("id=\"cycles\""), "{dom}");
    let outcomes: Vec<&str> = dom
        .split("data-outcome=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert!(outcomes.len() <= 20, "{outcomes:?}");
    assert_eq!(outcomes.first(), Some(&"drifted"), "{outcomes:?}");
    assert!(
        outcomes.contains(&"no_policies") || outcomes.len() == 20,
        "{outcomes:?}"
    );
    let shot = screenshot(&url, "watch-status.png");
    eprintln!("the status page: {}", shot.display());
}
