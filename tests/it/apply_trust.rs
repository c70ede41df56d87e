//! What a pipeline must be able to believe about `apply` and `rollback`: no lost
//! change, no false success, no silently replaced file. Each test runs the real
//! binary against moto (through the project's proxy where timing matters) and
//! checks the buckets through the S3 API.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::work::*;
use crate::support::{Fault, Proxy, create_bucket, moto, unique_bucket};
use s3cors::model::CorsConfig;
use s3cors::plan::file::PlanFile;
use serde_json::Value;

/// `s3cors ARGS` started in the background in `w`'s folder against `endpoint`.
fn spawn(w: &Work, endpoint: &str, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("s3cors"))
        .current_dir(w.dir.path())
        .envs(crate::support::aws_env(endpoint))
        .args(["--path-style", "--color", "never"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting s3cors")
}

/// Waits for `what` to hold, polling, for at most 60 s.
async fn until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `n` new buckets named `PREFIX-000...`, and a policy giving each `origin`.
async fn fleet(w: &Work, prefix: &str, n: usize, origin: &str) -> Vec<String> {
    let prefix = unique_bucket(prefix);
    let mut text = String::from("version: 1\nbuckets:\n");
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}-{i:03}");
        create_bucket(moto().endpoint(), &name).await;
        text.push_str(&entry(&name, origin));
        names.push(name);
    }
    w.policy("p.yaml", &text);
    names
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_during_the_write_phase_is_left_alone_and_reported() {
    // One bucket at a time, each call 150 ms away: the last bucket is read about
    // three seconds after the first is written.
    let proxy = Proxy::start(moto().endpoint(), &["--delay-ms", "150"]);
    let w = Work::through(&proxy);
    let names = fleet(&w, "window", 8, "https://planned.example.com").await;
    w.ok(&["plan", "--out", "plan.json"], 0);
    let child = spawn(
        &w,
        proxy.endpoint(),
        &[
            "--parallelism",
            "1",
            "apply",
            "plan.json",
            "--format",
            "json",
        ],
    );
    let planned = get_rule("https://planned.example.com");
    until("the first bucket is written", async || {
        live(&names[0]).await == Some(planned.clone())
    })
    .await;
    let theirs = get_rule("https://changed-meanwhile.example.com");
    put(&names[7], &theirs).await;

    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bucket"] == names[7].as_str())
        .unwrap();
    assert_eq!(last["result"], "stale", "{report}");
    assert_eq!(report["summary"]["created"], 7, "{report}");
    assert_eq!(live(&names[7]).await, Some(theirs));
    for name in &names[..7] {
        assert_eq!(live(name).await, Some(planned.clone()), "{name}");
    }
    let journal = std::fs::read_to_string(w.path("plan.json.journal")).unwrap();
    assert!(!journal.contains(&names[7]), "{journal}");
}

#[tokio::test(flavor = "multi_thread")]
async fn applying_again_after_a_rollback_reports_the_change_instead_of_success() {
    let w = Work::new();
    let old = get_rule("https://old.example.com");
    let a = bucket_with("again-a", Some(&old)).await;
    let b = bucket_with("again-b", None).await;
    w.manage(&[
        (&a, "https://new.example.com"),
        (&b, "https://new.example.com"),
    ]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    w.ok(&["apply", "plan.json"], 0);
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    assert_eq!(live(&a).await, Some(old.clone()));

    let out = w.ok(&["apply", "plan.json", "--format", "json"], 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["changed_since_applied"], 2, "{out}");
    assert_eq!(report["summary"]["already_applied"], 0, "{out}");
    let human = w.ok(&["apply", "plan.json"], 1);
    assert!(
        human.contains(&format!("{a}: CHANGED SINCE APPLIED")),
        "{human}"
    );
    assert!(
        !human.contains("already has the planned configuration"),
        "{human}"
    );
    assert_eq!(live(&a).await, Some(old));
    assert_eq!(live(&b).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leftover_rollback_of_an_earlier_plan_of_the_same_name_is_refused() {
    let w = Work::new();
    let first = get_rule("https://first.example.com");
    let a = bucket_with("leftover", Some(&first)).await;
    w.manage(&[(&a, "https://second.example.com")]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    w.ok(&["apply", "plan.json"], 0);
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    assert_eq!(live(&a).await, Some(first));

    // A new plan under the same name: --force past the applied plan, and its
    // journal moved away by hand. The old plan.json.rollback.json is still there.
    w.manage(&[(&a, "https://third.example.com")]);
    let refused = w.run(&["plan", "--out", "plan.json"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr_of(&refused).contains("it was applied, and its journal"));
    w.ok(&["plan", "--out", "plan.json", "--force"], 0);
    std::fs::rename(w.path("plan.json.journal"), w.path("old.journal")).unwrap();
    w.ok(&["apply", "plan.json"], 0);
    let third = get_rule("https://third.example.com");
    assert_eq!(live(&a).await, Some(third.clone()));

    let out = w.run(&["rollback", "plan.json", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is not a rollback of plan.json as it is now"),
        "{}",
        stderr_of(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Rollback complete"));
    assert_eq!(live(&a).await, Some(third));

    // Moved away, the rollback is made afresh from this plan's journal.
    std::fs::rename(
        w.path("plan.json.rollback.json"),
        w.path("old.rollback.json"),
    )
    .unwrap();
    std::fs::rename(
        w.path("plan.json.rollback.json.journal"),
        w.path("old.rollback.json.journal"),
    )
    .unwrap();
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    assert_eq!(live(&a).await, Some(get_rule("https://first.example.com")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_with_errors_applies_what_it_planned_names_the_rest_and_exits_1() {
    let w = Work::new();
    let a = bucket_with("partial", None).await;
    let missing = unique_bucket("never-created");
    w.manage(&[
        (&a, "https://a.example.com"),
        (&missing, "https://a.example.com"),
    ]);
    w.ok(&["plan", "--out", "plan.json"], 1);
    let out = w.ok(&["apply", "plan.json"], 1);
    assert!(out.contains(&format!("{a}: created")), "{out}");
    assert!(out.contains(&format!("{missing}: NOT PLANNED")), "{out}");
    assert!(out.contains("1 not planned"), "{out}");
    assert_eq!(live(&a).await, Some(get_rule("https://a.example.com")));
    let json = w.ok(&["apply", "plan.json", "--format", "json"], 1);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["not_planned"][0]["bucket"],
        missing.as_str(),
        "{json}"
    );
    assert_eq!(report["summary"]["not_planned"], 1, "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_out_never_silently_replaces_a_file_that_matters() {
    let w = Work::new();
    let a = bucket_with("out", None).await;
    let policy = format!(
        "version: 1\nbuckets:\n{}",
        entry(&a, "https://a.example.com")
    );
    w.policy("p.yaml", &policy);
    std::fs::write(w.path("notes.json"), "{\"mine\": true}\n").unwrap();
    let cases = [
        ("policies/p.yaml", "where policies live"),
        ("new.yml", "where policies live"),
        ("notes.json", "it exists and is not an s3cors plan"),
        ("policies", "not a regular file"),
    ];
    for (out, why) in cases {
        let run = w.run(&["plan", "--out", out]);
        assert_eq!(run.status.code(), Some(1), "{out}");
        assert!(stderr_of(&run).contains(why), "{out}: {}", stderr_of(&run));
    }
    assert_eq!(
        std::fs::read_to_string(w.path("policies/p.yaml")).unwrap(),
        policy
    );
    assert!(!w.path("new.yml").exists());
    assert_eq!(
        std::fs::read_to_string(w.path("notes.json")).unwrap(),
        "{\"mine\": true}\n"
    );

    // A plan not yet applied may be replaced; an applied one only with --force.
    w.ok(&["plan", "--out", "plan.json"], 0);
    w.ok(&["plan", "--out", "plan.json"], 0);
    w.ok(&["apply", "plan.json"], 0);
    let applied = std::fs::read_to_string(w.path("plan.json")).unwrap();
    let run = w.run(&["plan", "--out", "plan.json"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr_of(&run).contains("`s3cors rollback plan.json` needs"));
    assert_eq!(
        std::fs::read_to_string(w.path("plan.json")).unwrap(),
        applied
    );
    w.ok(&["plan", "--out", "notes.json", "--force"], 0);
    PlanFile::from_json(&std::fs::read_to_string(w.path("notes.json")).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_plan_is_refused_and_a_forged_one_still_meets_its_guardrails() {
    let w = Work::new();
    let a = bucket_with("edited", None).await;
    w.policy(
        "p.yaml",
        &format!(
            "version: 1\nguardrails:\n  - id: no-wildcard\n    forbid: {{origins: [\"*\"]}}\nbuckets:\n{}",
            entry(&a, "https://a.example.com")
        ),
    );
    w.ok(&["plan", "--out", "plan.json"], 0);
    let text = std::fs::read_to_string(w.path("plan.json")).unwrap();
    let widen = |v: &mut Value| {
        v["buckets"][0]["after"][0]["AllowedOrigins"][0] = "*".into();
        v["buckets"][0]["after"][0]["AllowedMethods"] = serde_json::json!(["GET", "PUT"]);
    };

    let mut edited: Value = serde_json::from_str(&text).unwrap();
    widen(&mut edited);
    std::fs::write(w.path("plan.json"), edited.to_string()).unwrap();
    let out = w.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("was changed after `s3cors plan` wrote it"));
    assert_eq!(live(&a).await, None);

    let mut forged: PlanFile = serde_json::from_value(edited).unwrap();
    forged.content_digest = forged.content_digest();
    std::fs::write(w.path("plan.json"), forged.to_json()).unwrap();
    let out = w.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("guardrails it was made under forbid"),
        "{stderr}"
    );
    assert!(stderr.contains("no-wildcard"), "{stderr}");
    assert_eq!(live(&a).await, None);

    // A forged rename to a bucket no policy manages.
    let stray = bucket_with("stray", None).await;
    let mut renamed: PlanFile = serde_json::from_str(&text).unwrap();
    renamed.buckets[0].bucket = stray.clone();
    renamed.content_digest = renamed.content_digest();
    std::fs::write(w.path("plan.json"), renamed.to_json()).unwrap();
    let out = w.run(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("writes buckets that no policy in policies manages"),
        "{stderr}"
    );
    assert!(stderr.contains(&stray), "{stderr}");
    assert_eq!(live(&stray).await, None);
    assert!(!w.path("plan.json.journal").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_of_one_plan_never_run_at_once() {
    let proxy = Proxy::start(moto().endpoint(), &["--delay-ms", "200"]);
    let w = Work::through(&proxy);
    let names = fleet(&w, "locked", 6, "https://locked.example.com").await;
    w.ok(&["plan", "--out", "plan.json"], 0);
    let first = spawn(
        &w,
        proxy.endpoint(),
        &["--parallelism", "1", "apply", "plan.json"],
    );
    let lock = w.path("plan.json.lock");
    until("the first apply holds the lock", async || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("s3cors apply"))
    })
    .await;

    for args in [
        &["apply", "plan.json"][..],
        &["rollback", "plan.json", "--auto-approve"],
    ] {
        let second = w.run(args);
        assert_eq!(second.status.code(), Some(1), "{args:?}");
        let stderr = stderr_of(&second);
        assert!(
            stderr.contains("plan.json is locked by s3cors apply (pid "),
            "{args:?}: {stderr}"
        );
    }
    // A waiter with --lock-timeout runs once the first is done.
    let waiter = w.run(&[
        "apply",
        "plan.json",
        "--lock-timeout",
        "60",
        "--format",
        "json",
    ]);
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(waiter.status.code(), Some(0), "{}", stderr_of(&waiter));
    let report: Value = serde_json::from_slice(&waiter.stdout).unwrap();
    assert_eq!(report["summary"]["already_applied"], 6, "{report}");
    for name in &names {
        assert_eq!(
            live(name).await,
            Some(get_rule("https://locked.example.com")),
            "{name}"
        );
    }
}

/// A pseudo-random delay in `lo..hi` ms, different per call and per run.
fn random_ms(lo: u64, hi: u64) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    lo + RandomState::new().hash_one(Instant::now()) % (hi - lo)
}

/// Runs `args` and kills it (SIGKILL) after `ms`, if it is still running.
fn run_and_kill(w: &Work, args: &[&str], ms: u64) -> bool {
    let mut child = spawn(w, &w.endpoint, args);
    std::thread::sleep(Duration::from_millis(ms));
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    child.wait().unwrap();
    killed
}

async fn all_live(names: &[String]) -> Vec<Option<CorsConfig>> {
    let mut out = Vec::new();
    for name in names {
        out.push(live(name).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_and_rollback_killed_at_random_points_finish_exactly() {
    const N: usize = 200;
    let w = Work::new();
    let names = fleet(&w, "kill9", N, "https://after.example.com").await;
    // Half the buckets start with a configuration (updates), half without (creates).
    let before: Vec<Option<CorsConfig>> = (0..N)
        .map(|i| (i % 2 == 0).then(|| get_rule(&format!("https://before-{i}.example.com"))))
        .collect();
    for (name, config) in names.iter().zip(&before) {
        if let Some(c) = config {
            put(name, c).await;
        }
    }
    w.ok(&["plan", "--out", "plan.json"], 0);
    let after = vec![Some(get_rule("https://after.example.com")); N];

    let mut kills = Vec::new();
    for _ in 0..3 {
        let ms = random_ms(30, 1500);
        if run_and_kill(&w, &["--parallelism", "8", "apply", "plan.json"], ms) {
            kills.push(format!("apply at {ms} ms"));
        }
    }
    w.ok(&["apply", "plan.json"], 0);
    assert_eq!(all_live(&names).await, after, "after the kills: {kills:?}");

    for _ in 0..3 {
        let ms = random_ms(30, 1500);
        let args = [
            "--parallelism",
            "8",
            "rollback",
            "plan.json",
            "--auto-approve",
        ];
        if run_and_kill(&w, &args, ms) {
            kills.push(format!("rollback at {ms} ms"));
        }
    }
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    assert_eq!(all_live(&names).await, before, "after the kills: {kills:?}");
    assert!(
        !kills.is_empty(),
        "no run was still going when killed; the kill points must land mid-run"
    );
    eprintln!("killed: {kills:?}");
    assert!(Path::new(&w.path("plan.json.journal")).exists());
}

// --- faults injected by the proxy, state checked through the S3 API ---------------

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_is_resumed_and_a_failed_rollback_is_finished() {
    let proxy = Proxy::start(moto().endpoint(), &[]);
    let w = Work::through(&proxy);
    let old = get_rule("https://old.example.com");
    let a = bucket_with("fault-a", Some(&old)).await;
    let b = bucket_with("fault-b", Some(&old)).await;
    w.manage(&[
        (&a, "https://new.example.com"),
        (&b, "https://new.example.com"),
    ]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    let new = get_rule("https://new.example.com");

    // Every write to b is refused: a is applied, b fails, exit 1.
    proxy.set_fault(&Fault::new("status").ops("PutBucketCors").buckets(&b));
    let out = w.ok(&["--timeout", "2", "apply", "plan.json"], 1);
    assert!(out.contains(&format!("{a}: updated")), "{out}");
    assert!(
        out.contains(&format!("{b}: FAILED: PutBucketCors")),
        "{out}"
    );
    assert_eq!(live(&a).await, Some(new.clone()));
    assert_eq!(live(&b).await, Some(old.clone()));

    // The fault gone, the same command finishes the job: a verified, b written.
    proxy.set_fault(&Fault::new("none"));
    let out = w.ok(&["apply", "plan.json", "--format", "json"], 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["already_applied"], 1, "{out}");
    assert_eq!(report["summary"]["updated"], 1, "{out}");
    assert_eq!(live(&b).await, Some(new.clone()));

    // A rollback whose write to a hangs: a fails in bounded time, b is restored.
    proxy.set_fault(&Fault::new("hang").ops("PutBucketCors").buckets(&a));
    let started = Instant::now();
    let out = w.ok(
        &["--timeout", "1", "rollback", "plan.json", "--auto-approve"],
        1,
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{out}");
    assert!(
        out.contains(&format!("{a}: FAILED: PutBucketCors")),
        "{out}"
    );
    assert_eq!(live(&a).await, Some(new));
    assert_eq!(live(&b).await, Some(old.clone()));

    // And finished by running it again.
    proxy.set_fault(&Fault::new("none"));
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    assert_eq!(live(&a).await, Some(old.clone()));
    assert_eq!(live(&b).await, Some(old));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_that_fails_just_before_a_write_leaves_the_bucket_unwritten_and_unjournalled() {
    let proxy = Proxy::start(moto().endpoint(), &[]);
    let w = Work::through(&proxy);
    // A bucket with a configuration, so the read answers 200 with a body to spoil.
    let old = get_rule("https://old.example.com");
    let a = bucket_with("preread", Some(&old)).await;
    w.manage(&[(&a, "https://a.example.com")]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    for fault in [
        Fault::new("truncate").ops("GetBucketCors"),
        Fault::new("hang").ops("GetBucketCors"),
    ] {
        proxy.set_fault(&fault);
        let out = w.ok(&["--timeout", "1", "apply", "plan.json"], 1);
        assert!(
            out.contains(&format!("{a}: FAILED: GetBucketCors")),
            "{out}"
        );
        assert_eq!(proxy.count("forwarded", "PutBucketCors"), 0);
        assert_eq!(live(&a).await, Some(old.clone()));
        assert!(!w.path("plan.json.journal").exists());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_never_reports_in_sync_for_a_bucket_it_could_not_read() {
    let proxy = Proxy::start(moto().endpoint(), &[]);
    let w = Work::through(&proxy);
    let rule = get_rule("https://a.example.com");
    let a = bucket_with("drift-ok", Some(&rule)).await;
    let b = bucket_with("drift-spoiled", Some(&rule)).await;
    w.manage(&[(&a, "https://a.example.com"), (&b, "https://a.example.com")]);
    w.ok(&["drift"], 0);
    for fault in ["truncate", "no-origins", "hang", "html-message"] {
        proxy.set_fault(&Fault::new(fault).ops("GetBucketCors").buckets(&b));
        let out = w.ok(&["--timeout", "1", "drift", "--format", "json"], 1);
        let report: Value = serde_json::from_str(&out).unwrap();
        let state = |name: &str| {
            report["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["bucket"] == name)
                .map(|x| x["state"].clone())
        };
        assert_eq!(state(&a), Some("in-sync".into()), "{fault}: {out}");
        assert_eq!(state(&b), Some("error".into()), "{fault}: {out}");
        let human = w.ok(&["--timeout", "1", "drift"], 1);
        assert!(!human.contains('\u{1b}'), "{fault}: {human}");
    }
    assert_eq!(live(&b).await, Some(rule));
}
