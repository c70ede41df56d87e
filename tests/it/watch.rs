//! `s3cors watch` against moto: the real binary with a 1 s interval and
//! `--listen`, its /metrics parsed by the Prometheus project's Python parser
//! (tests/data/metrics.py, in the moto venv). A bucket changed out of band shows
//! as drifted within two checks; an edited policy is picked up; a broken one is
//! reported and the last good one stays in force; SIGTERM ends it with exit 0
//! within 5 s. Logs are read as JSON lines (`--log-format json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s3cors::model::Method;
use serde_json::Value;

use crate::support::watcher::Watcher;
use crate::support::work::*;

/// What the watch tests read from a [`Watcher`].
trait Metrics {
    fn metrics(&self) -> Vec<Value>;
    fn wait_metrics(&self, secs: u64, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value>;
}

impl Metrics for Watcher {
    /// Every sample of /metrics, as the Prometheus parser reads them.
    fn metrics(&self) -> Vec<Value> {
        let answer = self.get("/metrics");
        assert_eq!(answer.status, 200, "{}", answer.body);
        parse_metrics(&answer.body)
    }

    /// Polls /metrics until `pred` holds on the samples (at most `secs`).
    fn wait_metrics(&self, secs: u64, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let samples = self.metrics();
            if pred(&samples) {
                return samples;
            }
            assert!(
                Instant::now() < deadline,
                "{what} not seen in {secs} s; metrics: {samples:#?}\nlogs: {:#?}",
                self.logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn parse_metrics(text: &str) -> Vec<Value> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/moto/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `scripts/servers install moto` (or `scripts/test`) first",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running tests/data/metrics.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n--- metrics\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the parser prints JSON")
}

/// The value of the sample `name` whose labels include `labels`, if any.
fn sample(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

fn buckets(samples: &[Value], state: &str) -> f64 {
    sample(
        samples,
        "s3cors_buckets",
        &[("state", state), ("account", "")],
    )
    .unwrap_or(-1.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_reports_drift_follows_policy_edits_and_stops_on_sigterm() {
    let a = bucket_with("watch-a", Some(&get_rule("https://a.example.com"))).await;
    let b = bucket_with("watch-b", Some(&get_rule("https://b.example.com"))).await;
    let work = Work::new();
    work.manage(&[(&a, "https://a.example.com"), (&b, "https://b.example.com")]);
    let mut w = Watcher::start(&work, &[]);

    // Not ready until the first check is complete; then both in sync.
    let samples = w.wait_metrics(30, "the first check", |s| buckets(s, "in_sync") == 2.0);
    assert_eq!(buckets(&samples, "drifted"), 0.0);
    assert_eq!(w.get("/readyz").status, 200);
    assert_eq!(w.get("/healthz").status, 200);
    assert_eq!(w.get("/nothing-here").status, 404);
    let gets = sample(
        &samples,
        "s3cors_s3_requests_total",
        &[("operation", "GetBucketCors"), ("outcome", "ok")],
    );
    assert!(gets.is_some_and(|n| n >= 2.0), "{samples:#?}");
    assert!(
        sample(&samples, "s3cors_last_cycle_success_timestamp_seconds", &[])
            .is_some_and(|t| t > 1.7e9)
    );
    assert!(sample(&samples, "s3cors_cycle_duration_seconds_count", &[]).is_some_and(|n| n >= 1.0));

    // Changed out of band: drifted within two checks (1 s each, jittered).
    put(&b, &get_rule("https://evil.example.com")).await;
    w.wait_metrics(5, "the out-of-band change", |s| {
        buckets(s, "drifted") == 1.0
    });
    assert!(
        w.logs
            .lock()
            .unwrap()
            .iter()
            .any(|l| l["message"] == "bucket drifted" && l["bucket"] == b.as_str()),
        "a log line names the drifted bucket"
    );

    // The policy follows the live change: picked up, in sync again.
    work.manage(&[
        (&a, "https://a.example.com"),
        (&b, "https://evil.example.com"),
    ]);
    let samples = w.wait_metrics(5, "the edited policy", |s| buckets(s, "in_sync") == 2.0);
    assert_eq!(
        sample(&samples, "s3cors_policy_load_errors", &[]),
        Some(0.0)
    );

    // A broken policy: reported and counted; the last good one stays in force.
    work.policy("p.yaml", "version: 1\nbuckets:\n  - name: [broken\n");
    let samples = w.wait_metrics(5, "the policy error", |s| {
        sample(s, "s3cors_policy_load_errors", &[]).is_some_and(|n| n >= 1.0)
    });
    assert_eq!(buckets(&samples, "in_sync"), 2.0);
    put(
        &a,
        &cfg(vec![rule(
            &["https://other.example.com"],
            &[Method::Get],
            &[],
        )]),
    )
    .await;
    w.wait_metrics(5, "drift under the last good policy", |s| {
        buckets(s, "drifted") == 1.0
    });
    w.wait_log("the policy error in the log", |l| {
        (l["level"] == "ERROR"
            && l["diagnostics"]
                .as_str()
                .is_some_and(|d| d.contains("policies/p.yaml:4")))
        .then_some(())
    });

    // SIGTERM: exit 0 within 5 s.
    let pid = w.child.id().to_string();
    let sent = Instant::now();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = w.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "exit code after SIGTERM");
}

#[test]
fn watch_with_cycles_exits_with_the_last_checks_code_and_refuses_report_formats() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = rt.block_on(bucket_with(
        "watch-c",
        Some(&get_rule("https://a.example.com")),
    ));
    let work = Work::new();
    work.manage(&[(&a, "https://drifted.example.com")]);
    let out = work.run(&["watch", "policies", "--interval", "1s", "--cycles", "2"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_eq!(logs.matches("check complete").count(), 2, "{logs}");

    let out = work.run(&["--format", "json", "watch", "policies"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--log-format json"));
}

/// The value of `s3cors_reconcile_writes_total{outcome}`, 0 when absent.
fn writes(samples: &[Value], outcome: &str) -> f64 {
    sample(
        samples,
        "s3cors_reconcile_writes_total",
        &[("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

/// The plan files in `dir`, sorted (oldest first).
fn plan_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().ends_with(".plan.json"));
    files.sort();
    files
}

/// The buckets a plan file changes.
fn planned_changes(path: &std::path::Path) -> Vec<String> {
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    plan["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter(|b| b["action"] != "unchanged")
        .map(|b| b["bucket"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends SIGTERM and returns the exit code, failing if it takes 5 s or more.
fn terminate(w: &mut Watcher) -> Option<i32> {
    let pid = w.child.id().to_string();
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    loop {
        if let Some(status) = w.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM; logs: {:#?}",
            w.logs.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_reconcile_puts_drift_back_leaves_held_buckets_and_rolls_back() {
    let a = bucket_with("watch-r", Some(&get_rule("https://a.example.com"))).await;
    let h = bucket_with("watch-h", Some(&get_rule("https://h.example.com"))).await;
    let work = Work::new();
    work.policy(
        "p.yaml",
        &format!(
            "version: 1\nbuckets:\n{}{}    reconcile: false\n",
            entry(&a, "https://a.example.com"),
            entry(&h, "https://h.example.com")
        ),
    );
    let mut w = Watcher::start(&work, &["--reconcile", "--journal-dir", "journal"]);
    let samples = w.wait_metrics(30, "the first check", |s| buckets(s, "in_sync") == 2.0);
    assert_eq!(writes(&samples, "ok"), 0.0, "nothing to write yet");
    assert!(plan_files(&work.path("journal")).is_empty());

    // Both changed out of band: `a` is put back, `h` (reconcile: false) is not.
    let evil = get_rule("https://evil.example.com");
    put(&a, &evil).await;
    put(&h, &evil).await;
    let samples = w.wait_metrics(10, "a reconciled, h still drifted", |s| {
        writes(s, "ok") >= 1.0 && buckets(s, "in_sync") == 1.0 && buckets(s, "drifted") == 1.0
    });
    assert_eq!(writes(&samples, "ok"), 1.0, "one write: {samples:#?}");
    assert_eq!(writes(&samples, "failed"), 0.0);
    assert_eq!(live(&a).await, Some(get_rule("https://a.example.com")));
    assert_eq!(
        live(&h).await,
        Some(evil.clone()),
        "a reconcile: false bucket is never written"
    );
    // Several checks later, still exactly one write and h untouched.
    std::thread::sleep(Duration::from_millis(2500));
    let samples = w.metrics();
    assert_eq!(writes(&samples, "ok"), 1.0, "{samples:#?}");
    assert_eq!(buckets(&samples, "drifted"), 1.0);
    assert_eq!(live(&h).await, Some(evil.clone()));
    {
        let logs = w.logs.lock().unwrap();
        let written = logs
            .iter()
            .find(|l| l["message"] == "bucket reconciled")
            .expect("a log line for the write");
        assert_eq!(written["bucket"], a.as_str());
        assert_eq!(written["account"], "");
        let before = written["before"].as_str().unwrap();
        let after = written["after"].as_str().unwrap();
        assert!(
            before.contains("https://evil.example.com") && !before.contains('\n'),
            "{before}"
        );
        assert!(after.contains("https://a.example.com"), "{after}");
        assert!(
            logs.iter().any(|l| l["bucket"] == h.as_str()
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("reconcile: false"))),
            "a log line says why h was not written"
        );
        assert!(
            !logs
                .iter()
                .any(|l| l["message"] == "bucket reconciled" && l["bucket"] == h.as_str())
        );
    }
    assert_eq!(terminate(&mut w), Some(0));

    // One cycle wrote: one plan file and its journal; rolling it back restores
    // the out-of-band configuration.
    let files = plan_files(&work.path("journal"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(planned_changes(&files[0]), std::slice::from_ref(&a));
    let journal = std::fs::read_to_string(format!("{}.journal", files[0].display())).unwrap();
    assert!(
        journal.contains("\"event\":\"begin\"") && journal.contains("\"event\":\"done\""),
        "{journal}"
    );
    let rel = files[0]
        .strip_prefix(work.dir.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    work.ok(&["rollback", &rel, "--auto-approve"], 0);
    assert_eq!(live(&a).await, Some(evil.clone()));
    assert_eq!(live(&h).await, Some(evil));
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_reconcile_writes_at_most_the_cap_per_check_and_keeps_the_last_journals() {
    let mut names = Vec::new();
    for _ in 0..3 {
        names.push(bucket_with("watch-cap", Some(&get_rule("https://old.example.com"))).await);
    }
    let work = Work::new();
    let wanted: Vec<(&str, &str)> = names
        .iter()
        .map(|n| (n.as_str(), "https://new.example.com"))
        .collect();
    work.manage(&wanted);
    let mut w = Watcher::start(
        &work,
        &[
            "--reconcile",
            "--max-writes-per-cycle",
            "1",
            "--journal-dir",
            "j",
            "--keep-journals",
            "2",
        ],
    );
    let samples = w.wait_metrics(30, "every bucket reconciled", |s| {
        buckets(s, "in_sync") == 3.0
    });
    assert_eq!(writes(&samples, "ok"), 3.0);
    for n in &names {
        assert_eq!(live(n).await, Some(get_rule("https://new.example.com")));
    }
    assert_eq!(terminate(&mut w), Some(0));
    let logs = w.logs.lock().unwrap().clone();
    // Between two checks, at most one write.
    let mut since_check = 0;
    for l in &logs {
        if l["message"] == "check complete" {
            since_check = 0;
        } else if l["message"] == "bucket reconciled" {
            since_check += 1;
            assert!(since_check <= 1, "two writes after one check: {logs:#?}");
        }
    }
    assert!(
        logs.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.contains("--max-writes-per-cycle"))
            && l["waiting"] == 2),
        "the buckets left for later are logged"
    );
    // Three cycles wrote one bucket each; the last two are kept.
    let files = plan_files(&work.path("j"));
    assert_eq!(files.len(), 2, "{files:?}");
    let mut kept: Vec<String> = files.iter().flat_map(|f| planned_changes(f)).collect();
    kept.sort();
    let mut last_two = names.clone();
    last_two.sort();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|k| last_two.contains(k)));
    for f in &files {
        assert!(std::path::Path::new(&format!("{}.journal", f.display())).exists());
    }
    let all = std::fs::read_dir(work.path("j")).unwrap().count();
    assert!(
        all <= 6,
        "only the kept cycles' files remain (plan, journal, lock)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_reconcile_write_finishes_it_and_exits_0_within_5_s() {
    use crate::support::{Fault, Proxy, moto};
    let b = bucket_with("watch-sig", Some(&get_rule("https://old.example.com"))).await;
    // The write takes effect but its answer never comes: the client waits its
    // 1 s attempt timeout before it retries.
    let proxy = Proxy::start(moto().endpoint(), &[]);
    let work = Work::through(&proxy);
    work.manage(&[(&b, "https://new.example.com")]);
    proxy.set_fault(&Fault::new("lost-hang").ops("PutBucketCors").first(1));
    let mut w = Watcher::start(
        &work,
        &["--reconcile", "--journal-dir", "j", "--timeout", "1"],
    );
    w.wait("a write the proxy holds", |_| {
        (proxy.count("faulted", "PutBucketCors") > 0).then_some(())
    });
    assert_eq!(terminate(&mut w), Some(0));
    let logs = w.logs.lock().unwrap().clone();
    let stopping = logs
        .iter()
        .position(|l| l["message"] == "stopping")
        .expect("a stopping line");
    let result = logs
        .iter()
        .position(|l| {
            l["bucket"] == b.as_str()
                && l["message"].as_str().is_some_and(|m| {
                    m.starts_with("bucket reconciled") || m.starts_with("bucket not reconciled")
                })
        })
        .unwrap_or_else(|| panic!("the write in flight was not finished: {logs:#?}"));
    assert!(
        result > stopping,
        "the write ended after the signal: {logs:#?}"
    );
    let files = plan_files(&work.path("j"));
    assert_eq!(files.len(), 1, "{files:?}");
    let journal = std::fs::read_to_string(format!("{}.journal", files[0].display())).unwrap();
    assert!(journal.contains("\"event\":\"begin\""), "{journal}");
    assert!(
        journal.contains("\"event\":\"done\"") || journal.contains("\"event\":\"failed\""),
        "the journal records how the write ended: {journal}"
    );
    assert!(journal.ends_with('\n'));
}

/// A write S3 never answers is not waited for past the stop grace: the run ends
/// within 5 s of SIGTERM with exit 1, and the journal holds the write's start,
/// with the configuration it replaced.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_write_s3_never_answers_exits_1_within_5_s() {
    use crate::support::{Fault, Proxy, moto};
    let old = get_rule("https://old.example.com");
    let b = bucket_with("watch-hang", Some(&old)).await;
    let proxy = Proxy::start(moto().endpoint(), &[]);
    let work = Work::through(&proxy);
    work.manage(&[(&b, "https://new.example.com")]);
    proxy.set_fault(&Fault::new("hang").ops("PutBucketCors"));
    // Each attempt may wait 60 s: far past the grace.
    let mut w = Watcher::start(
        &work,
        &["--reconcile", "--journal-dir", "j", "--timeout", "60"],
    );
    w.wait("a write the proxy holds", |_| {
        (proxy.count("faulted", "PutBucketCors") > 0).then_some(())
    });
    assert_eq!(terminate(&mut w), Some(1));
    let logs = w.logs.lock().unwrap().clone();
    assert!(
        logs.iter().any(|l| l["level"] == "ERROR"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("stopped with a write in flight"))),
        "{logs:#?}"
    );
    let files = plan_files(&work.path("j"));
    assert_eq!(files.len(), 1, "{files:?}");
    let journal = std::fs::read_to_string(format!("{}.journal", files[0].display())).unwrap();
    assert!(journal.contains("\"event\":\"begin\""), "{journal}");
    assert!(
        journal.contains("https://old.example.com"),
        "the replaced configuration is recorded: {journal}"
    );
    assert_eq!(live(&b).await, Some(old), "the hung write never reached S3");
}

#[test]
fn watch_reconcile_never_writes_a_configuration_a_guardrail_forbids() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let old = get_rule("https://old.example.com");
    let g = rt.block_on(bucket_with("watch-g", Some(&old)));
    let work = Work::new();
    // The guardrail's scope only partly overlaps the `match:`, so it is checked
    // on the concrete bucket name, after the buckets are listed.
    work.policy(
        "p.yaml",
        &format!(
            "version: 1\nguardrails:\n  - id: no-star\n    buckets: \"{g}\"\n    forbid: {{origins: [\"*\"]}}\nbuckets:\n  - match: \"{g}*\"\n    rules:\n      - AllowedOrigins: [\"*\"]\n        AllowedMethods: [GET]\n"
        ),
    );
    let out = work.run(&[
        "--log-format",
        "json",
        "watch",
        "policies",
        "--interval",
        "1s",
        "--cycles",
        "2",
        "--reconcile",
        "--journal-dir",
        "j",
    ]);
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "still drifted: {logs}");
    assert!(
        logs.contains("not reconciled: its policy breaks a guardrail"),
        "{logs}"
    );
    assert!(!logs.contains("bucket reconciled"), "{logs}");
    assert_eq!(rt.block_on(live(&g)), Some(old));
    assert!(plan_files(&work.path("j")).is_empty());
}
