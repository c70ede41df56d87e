//! `s3cors watch` against moto: the real binary with a 1 s interval and
//! `--listen`, its /metrics parsed by the Prometheus project's Python parser
//! (tests/data/metrics.py, in the moto venv). A bucket changed out of band shows
//! as drifted within two checks; an edited policy is picked up; a broken one is
//! reported and the last good one stays in force; SIGTERM ends it with exit 0
//! within 5 s. Logs are read as JSON lines (`--log-format json`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3cors::model::Method;
use serde_json::Value;

use crate::support::aws_env;
use crate::support::work::*;

/// A running `s3cors watch`, killed when dropped.
struct Watcher {
    child: Child,
    addr: String,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl Watcher {
    fn start(work: &Work, extra: &[&str]) -> Watcher {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("s3cors"))
            .current_dir(work.dir.path())
            .envs(aws_env(&work.endpoint))
            .args(["--path-style", "--color", "never", "--log-format", "json"])
            .args([
                "watch",
                "policies",
                "--interval",
                "1s",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("s3cors watch starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let entry = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                sink.lock().unwrap().push(entry);
            }
        });
        let mut w = Watcher {
            child,
            addr: String::new(),
            logs,
        };
        let addr = w.wait_log("the metrics address", |l| {
            l["addr"].as_str().map(str::to_owned)
        });
        w.addr = addr;
        w
    }

    /// Waits up to 30 s for a log line `find` picks something from.
    fn wait_log<T>(&mut self, what: &str, find: impl Fn(&Value) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.logs.lock().unwrap().iter().find_map(&find) {
                return found;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "watch exited ({status}) before {what}; logs: {:#?}",
                    self.logs.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} in 30 s; logs: {:#?}",
                self.logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET path`: the status code and body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to --listen");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    /// Every sample of /metrics, as the Prometheus parser reads them.
    fn metrics(&self) -> Vec<Value> {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        parse_metrics(&body)
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

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    assert_eq!(w.get("/readyz").0, 200);
    assert_eq!(w.get("/healthz").0, 200);
    assert_eq!(w.get("/nothing-here").0, 404);
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
