//! The reconcile loop (`plan`, `apply`, `rollback`, `drift`, `import`) run as the
//! real binary against moto, started by the project's scripts. Every test checks
//! the buckets' state through the S3 API, not only the tool's output.

use std::path::Path;

use crate::support::work::*;
use crate::support::{aws_s3, create_bucket, moto, sdk_client, unique_bucket};
use assert_cmd::Command;
use s3cors::model::{CorsRule, Method};
use s3cors::s3::{BucketTarget, S3Api};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn plan_apply_create_update_delete_unchanged_then_no_changes() {
    let w = Work::new();
    let old = get_rule("https://old.example.com");
    let create = bucket_with("create", None).await;
    let update = bucket_with("update", Some(&old)).await;
    let delete = bucket_with("delete", Some(&old)).await;
    let same = bucket_with("same", Some(&get_rule("https://same.example.com"))).await;
    w.policy(
        "p.yaml",
        &format!(
            "version: 1\nbuckets:\n{}{}  - name: {delete}\n    rules: []\n{}",
            entry(&create, "https://new.example.com"),
            entry(&update, "https://new.example.com"),
            entry(&same, "https://same.example.com"),
        ),
    );
    let mut want = vec![
        (create.clone(), "create".to_owned()),
        (update.clone(), "update".to_owned()),
        (delete.clone(), "delete".to_owned()),
        (same.clone(), "unchanged".to_owned()),
    ];
    want.sort();
    let report = w.plan_json(&[]);
    assert_eq!(actions(&report), want);
    assert_eq!(report["summary"]["create"], 1);

    // Human output names the file:line and ends with the summary line.
    let human = w.ok(&["plan", "--detailed-exitcode"], 2);
    assert!(human.contains("policies/p.yaml:"), "{human}");
    assert!(
        human.contains("Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged."),
        "{human}"
    );
    // Planning wrote nothing.
    assert_eq!(live(&create).await, None);

    w.ok(&["apply", "--auto-approve"], 0);
    let new = get_rule("https://new.example.com");
    assert_eq!(live(&create).await, Some(new.clone()));
    assert_eq!(live(&update).await, Some(new));
    assert_eq!(live(&delete).await, None);
    assert_eq!(
        live(&same).await,
        Some(get_rule("https://same.example.com"))
    );

    let again = w.ok(&["plan", "--detailed-exitcode"], 0);
    assert!(again.contains("No changes."), "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reordered_values_and_header_case_are_no_perpetual_diff() {
    let w = Work::new();
    let bucket = bucket_with("reorder", None).await;
    w.policy(
        "p.yaml",
        &format!(
            "version: 1\nbuckets:\n  - name: {bucket}\n    rules:\n      - AllowedOrigins: [\"https://a.example.com\", \"https://b.example.com\"]\n        AllowedMethods: [GET, PUT]\n        AllowedHeaders: [Content-Type, Authorization]\n        ExposeHeaders: [ETag]\n"
        ),
    );
    // Live: same rule, values reordered, header names in other case, no ExposeHeaders
    // vs... no: same ExposeHeaders but upper case.
    let live_cfg = cfg(vec![CorsRule {
        allowed_origins: vec![
            "https://b.example.com".into(),
            "https://a.example.com".into(),
        ],
        allowed_methods: vec![Method::Put, Method::Get],
        allowed_headers: vec!["authorization".into(), "CONTENT-TYPE".into()],
        expose_headers: vec!["etag".into()],
        ..CorsRule::default()
    }]);
    put(&bucket, &live_cfg).await;
    let report = w.plan_json(&[]);
    assert_eq!(
        actions(&report),
        vec![(bucket.clone(), "unchanged".to_owned())]
    );
    w.ok(&["apply", "--auto-approve"], 0);
    // Nothing was rewritten: the live config keeps its own order and case.
    assert_eq!(live(&bucket).await, Some(live_cfg));
}

#[tokio::test(flavor = "multi_thread")]
async fn target_limits_the_plan_and_the_apply() {
    let w = Work::new();
    let a = bucket_with("target-a", None).await;
    let b = bucket_with("target-b", None).await;
    w.manage(&[(&a, "https://a.example.com"), (&b, "https://b.example.com")]);
    let report = w.plan_json(&["--target", &a]);
    assert_eq!(actions(&report), vec![(a.clone(), "create".to_owned())]);
    w.ok(&["apply", "--auto-approve", "--target", &a], 0);
    assert_eq!(live(&a).await, Some(get_rule("https://a.example.com")));
    assert_eq!(
        live(&b).await,
        None,
        "--target must leave other buckets alone"
    );

    // A target nobody manages is an error, not silently nothing.
    let out = w.run(&["plan", "--target", "not-managed-anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no policy entry manages"));
}

#[tokio::test(flavor = "multi_thread")]
async fn match_and_tags_select_buckets_and_unmanaged_are_never_written() {
    let w = Work::new();
    let prefix = unique_bucket("fleet");
    let client = sdk_client(moto().endpoint()).await;
    let tagged = format!("{prefix}-web-1");
    let untagged = format!("{prefix}-web-2");
    let other_tag = format!("{prefix}-web-3");
    let outside = unique_bucket("outside");
    for name in [&tagged, &untagged, &other_tag, &outside] {
        create_bucket(moto().endpoint(), name).await;
    }
    for (name, team) in [(&tagged, "web"), (&other_tag, "data")] {
        client
            .put_bucket_tagging()
            .bucket(name)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(
                        aws_sdk_s3::types::Tag::builder()
                            .key("team")
                            .value(team)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let untouched = get_rule("https://keep.example.com");
    put(&untagged, &untouched).await;
    put(&outside, &untouched).await;
    w.policy(
        "p.yaml",
        &format!(
            "version: 1\nbuckets:\n  - match: \"{prefix}-web-*\"\n    tags: {{team: web}}\n    rules:\n      - AllowedOrigins: [\"*\"]\n        AllowedMethods: [GET]\n"
        ),
    );
    let report = w.plan_json(&[]);
    assert_eq!(
        actions(&report),
        vec![(tagged.clone(), "create".to_owned())]
    );
    w.ok(&["apply", "--auto-approve"], 0);
    assert_eq!(
        live(&tagged).await,
        Some(cfg(vec![rule(&["*"], &[Method::Get], &[])]))
    );
    assert_eq!(live(&untagged).await, Some(untouched.clone()));
    assert_eq!(live(&other_tag).await, None);
    assert_eq!(live(&outside).await, Some(untouched));
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_is_applied_exactly_stale_buckets_refused_and_twice_is_a_no_op() {
    let w = Work::new();
    let a = bucket_with("saved-a", None).await;
    let b = bucket_with("saved-b", Some(&get_rule("https://old.example.com"))).await;
    w.manage(&[
        (&a, "https://planned.example.com"),
        (&b, "https://planned.example.com"),
    ]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    let shown = w.ok(&["show", "plan.json"], 0);
    assert!(shown.contains("Plan: 1 to create, 1 to update"), "{shown}");

    // After the plan, the policy changes: the plan no longer says what the
    // policies say, so apply refuses it whole and writes nothing.
    let planned_policy = std::fs::read_to_string(w.path("policies/p.yaml")).unwrap();
    w.manage(&[(&a, "https://other.example.com")]);
    let refused = w.run(&["apply", "plan.json"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("changed since plan.json was made"),
        "{stderr}"
    );
    assert!(!w.path("plan.json.journal").exists());
    assert_eq!(live(&a).await, None);
    w.policy("p.yaml", &planned_policy);

    // Bucket b is changed out of band: apply refuses it, and still applies a.
    let out_of_band = get_rule("https://someone-else.example.com");
    put(&b, &out_of_band).await;

    let out = w.ok(&["apply", "plan.json"], 1);
    assert!(out.contains(&format!("{b}: STALE")), "{out}");
    assert_eq!(
        live(&a).await,
        Some(get_rule("https://planned.example.com"))
    );
    assert_eq!(live(&b).await, Some(out_of_band.clone()));

    // Twice: a is done (journal), b still stale; nothing is written.
    let journal_before = std::fs::read_to_string(w.path("plan.json.journal")).unwrap();
    let out = w.ok(&["apply", "plan.json", "--format", "json"], 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["already_applied"], 1, "{out}");
    assert_eq!(report["summary"]["stale"], 1, "{out}");
    assert_eq!(report["summary"]["created"], 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(w.path("plan.json.journal")).unwrap(),
        journal_before
    );
    assert_eq!(live(&b).await, Some(out_of_band));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_against_another_endpoint_is_refused() {
    let w = Work::new();
    let a = bucket_with("endpoint", None).await;
    w.manage(&[(&a, "https://x.example.com")]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    let out = Command::cargo_bin("s3cors")
        .unwrap()
        .current_dir(w.dir.path())
        .envs(crate::support::aws_env("http://127.0.0.1:9"))
        .args(["--path-style", "apply", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the plan was made against"));
    assert_eq!(live(&a).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_apply_is_resumed_to_completion_with_the_journal() {
    const N: usize = 60;
    let w = Work::new();
    let prefix = unique_bucket("resume");
    let mut names = Vec::new();
    let mut text = String::from("version: 1\nbuckets:\n");
    for i in 0..N {
        let name = format!("{prefix}-{i:03}");
        create_bucket(moto().endpoint(), &name).await;
        text.push_str(&entry(&name, "https://resumed.example.com"));
        names.push(name);
    }
    w.policy("p.yaml", &text);
    w.ok(&["plan", "--out", "plan.json"], 0);

    // Start the apply one bucket at a time and kill it (SIGKILL) mid-way.
    let bin = assert_cmd::cargo::cargo_bin("s3cors");
    let mut child = std::process::Command::new(bin)
        .current_dir(w.dir.path())
        .envs(crate::support::aws_env(&w.endpoint))
        .args(["--path-style", "--parallelism", "1", "apply", "plan.json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = w.path("plan.json.journal");
    let done = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.matches("\"event\":\"done\"").count())
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while done(&journal) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_at_kill = done(&journal);
    assert!(
        (3..N).contains(&done_at_kill),
        "the kill must land mid-apply (done records at kill: {done_at_kill} of {N})"
    );
    let mut written = 0;
    for name in &names {
        if live(name).await.is_some() {
            written += 1;
        }
    }
    assert!(
        written < N,
        "the killed apply must have left buckets unwritten"
    );

    // Running it again finishes the job.
    let out = w.ok(&["apply", "plan.json", "--format", "json"], 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    let s = &report["summary"];
    assert_eq!(
        s["created"].as_u64().unwrap() + s["already_applied"].as_u64().unwrap(),
        N as u64,
        "{out}"
    );
    for name in &names {
        assert_eq!(
            live(name).await,
            Some(get_rule("https://resumed.example.com")),
            "{name}"
        );
    }
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.matches("\"event\":\"start\"").count(), 2, "{text}");

    // And rollback restores every bucket to "no CORS", from the first begin records.
    w.ok(&["rollback", "plan.json", "--auto-approve"], 0);
    for name in &names {
        assert_eq!(live(name).await, None, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_restores_previous_configurations_and_refuses_stale_ones() {
    let w = Work::new();
    let old_a = get_rule("https://old-a.example.com");
    let a = bucket_with("rollback-a", Some(&old_a)).await;
    let b = bucket_with("rollback-b", None).await;
    let c = bucket_with("rollback-c", Some(&get_rule("https://old-c.example.com"))).await;
    w.manage(&[
        (&a, "https://new.example.com"),
        (&b, "https://new.example.com"),
        (&c, "https://new.example.com"),
    ]);
    w.ok(&["plan", "--out", "plan.json"], 0);
    w.ok(&["apply", "plan.json"], 0);
    // c is changed after the apply: rollback must not clobber that change.
    let later = get_rule("https://later.example.com");
    put(&c, &later).await;

    let out = w.ok(&["rollback", "plan.json", "--auto-approve"], 1);
    assert!(out.contains(&format!("{c}: STALE")), "{out}");
    assert_eq!(live(&a).await, Some(old_a));
    assert_eq!(live(&b).await, None);
    assert_eq!(live(&c).await, Some(later));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_in_sync_drifted_missing_and_unmanaged() {
    let w = Work::new();
    let want = get_rule("https://drift.example.com");
    let in_sync = bucket_with("drift-sync", Some(&want)).await;
    let drifted = bucket_with("drift-changed", Some(&want)).await;
    let missing = unique_bucket("drift-missing");
    w.manage(&[
        (&in_sync, "https://drift.example.com"),
        (&drifted, "https://drift.example.com"),
    ]);
    let out = w.ok(&["drift"], 0);
    assert!(out.contains("2 in sync, 0 drifted"), "{out}");

    put(&drifted, &get_rule("https://changed.example.com")).await;
    let out = w.ok(&["drift", "--format", "json"], 2);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["drifted"], 1, "{out}");
    let states: Vec<(String, String)> = report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().unwrap().to_owned(),
                b["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&(drifted.clone(), "drifted".to_owned())),
        "{out}"
    );
    assert!(
        states.contains(&(in_sync.clone(), "in-sync".to_owned())),
        "{out}"
    );

    // A missing bucket is drift too; --unmanaged lists buckets with CORS nobody manages.
    w.policy(
        "more.yaml",
        &format!(
            "version: 1\nbuckets:\n{}",
            entry(&missing, "https://drift.example.com")
        ),
    );
    let stray = bucket_with("drift-stray", Some(&want)).await;
    let out = w.ok(&["drift", "--unmanaged", "--format", "json"], 2);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["missing"], 1, "{out}");
    let unmanaged: Vec<&str> = report["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["bucket"].as_str().unwrap())
        .collect();
    assert!(unmanaged.contains(&stray.as_str()), "{out}");
    assert!(!unmanaged.contains(&in_sync.as_str()), "{out}");
    // Drift never writes.
    assert_eq!(
        live(&drifted).await,
        Some(get_rule("https://changed.example.com"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_live_guardrail_violations_on_unmanaged_buckets() {
    let w = Work::new();
    let open = bucket_with("guard-open", None).await;
    put(&open, &cfg(vec![rule(&["*"], &[Method::Put], &[])])).await;
    w.policy(
        "g.yaml",
        &format!(
            "version: 1\nguardrails:\n  - id: no-public-writes\n    buckets: \"{open}\"\n    forbid: {{origins: [\"*\"], methods: [PUT, POST, DELETE]}}\n"
        ),
    );
    let out = w.ok(&["drift", "--unmanaged"], 1);
    assert!(out.contains("no-public-writes"), "{out}");
    assert!(out.contains(&open), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_round_trips_with_no_changes() {
    let w = Work::new();
    let rich = cfg(vec![
        CorsRule {
            id: Some("read".into()),
            allowed_origins: vec![
                "https://app.example.com".into(),
                "https://*.cdn.example.com".into(),
            ],
            allowed_methods: vec![Method::Get, Method::Head],
            allowed_headers: vec!["*".into()],
            expose_headers: vec!["ETag".into(), "x-amz-request-id".into()],
            max_age_seconds: Some(3600),
        },
        rule(
            &["https://admin.example.com"],
            &[Method::Put, Method::Post],
            &["Content-Type"],
        ),
    ]);
    let prefix = unique_bucket("import");
    let with = format!("{prefix}-with");
    let without = format!("{prefix}-without");
    create_bucket(moto().endpoint(), &with).await;
    create_bucket(moto().endpoint(), &without).await;
    put(&with, &rich).await;

    let out = w.ok(
        &[
            "import",
            "--match",
            &format!("{prefix}-*"),
            "-o",
            "policies/imported.yaml",
        ],
        0,
    );
    assert!(out.contains("Imported 2 bucket(s)"), "{out}");
    let yaml = std::fs::read_to_string(w.path("policies/imported.yaml")).unwrap();
    assert!(yaml.contains("AllowedOrigins"), "{yaml}");
    w.ok(&["validate"], 0);
    let plan = w.ok(&["plan", "--detailed-exitcode"], 0);
    assert!(
        plan.contains("No changes. 2 buckets match their policies."),
        "{plan}"
    );

    // --bucket to stdout gives the same entry.
    let single = w.ok(&["import", "--bucket", &with], 0);
    assert!(single.contains(&format!("name: {with}")), "{single}");
}

/// A negative MaxAgeSeconds, which S3 is not known to reject and `validate` only warns
/// about, round-trips through moto: import, validate (a warning, exit 0), plan with no
/// changes, and an apply of an edit keeps it. Empty origins and header names, which
/// S3 accepts too, are checked against LocalStack (`verify_localstack`): moto cannot
/// store them (docs/emulators.md), which this test also pins.
#[tokio::test(flavor = "multi_thread")]
async fn negative_max_age_imports_plans_and_applies() {
    let w = Work::new();
    let bucket = unique_bucket("negative-age");
    create_bucket(moto().endpoint(), &bucket).await;
    let accepted = cfg(vec![CorsRule {
        max_age_seconds: Some(-1),
        ..rule(&["https://app.example.com"], &[Method::Get], &[])
    }]);
    put(&bucket, &accepted).await;
    assert_eq!(live(&bucket).await, Some(accepted.clone()));

    w.ok(
        &[
            "import",
            "--bucket",
            &bucket,
            "-o",
            "policies/imported.yaml",
        ],
        0,
    );
    let validate = w.ok(&["validate"], 0);
    assert!(validate.contains("warning[negative-max-age]"), "{validate}");
    let plan = w.ok(&["plan", "--detailed-exitcode"], 0);
    assert!(plan.contains("No changes."), "{plan}");

    // An edit elsewhere in the rule is applied with the negative value kept.
    let yaml = std::fs::read_to_string(w.path("policies/imported.yaml")).unwrap();
    let edited: String = yaml
        .lines()
        .map(|line| match line.trim() {
            "- GET" => format!("{line}\n{}\n", line.replace("GET", "HEAD")),
            _ => format!("{line}\n"),
        })
        .collect();
    assert_ne!(edited, yaml, "{yaml}");
    std::fs::write(w.path("policies/imported.yaml"), edited).unwrap();
    w.ok(&["apply", "--auto-approve"], 0);
    let mut want = accepted;
    want.cors_rules[0].allowed_methods.push(Method::Head);
    assert_eq!(live(&bucket).await, Some(want));

    // moto answers 500 to an empty AllowedOrigin (S3 stores it).
    let empty = cfg(vec![rule(&[""], &[Method::Get], &[])]);
    let refused = aws_s3(moto().endpoint())
        .await
        .put_cors(&BucketTarget::new(&bucket), &empty)
        .await;
    assert!(
        refused.is_err(),
        "moto now stores an empty origin: update docs/emulators.md"
    );
}
