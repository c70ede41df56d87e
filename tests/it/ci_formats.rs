//! `--format sarif` and `--format junit`: every SARIF log validated against the
//! official SARIF 2.1.0 schema (tests/data), results at the right lines, stable
//! fingerprints; every JUnit report parsed by an XML parser with counts equal to
//! the JSON report's. The checker is tests/data/ci_formats.py, run with the moto
//! venv's Python (which carries `jsonschema`); validate runs offline, plan and
//! drift against moto, verify against LocalStack.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use s3cors::model::Method;
use s3cors::s3::S3Api;
use serde_json::Value;

use crate::support::work::*;
use crate::support::{aws_env, aws_s3, create_bucket, localstack, unique_bucket};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs tests/data/ci_formats.py `mode` on `text`.
fn checker(mode: &str, text: &str) -> Output {
    let python = root().join(".venv/moto/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `scripts/servers install moto` (or `scripts/test`) first",
        python.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("report.{mode}"));
    std::fs::write(&file, text).expect("write report");
    std::process::Command::new(python)
        .arg(root().join("tests/data/ci_formats.py"))
        .arg(mode)
        .arg(&file)
        .output()
        .expect("running tests/data/ci_formats.py")
}

/// Asserts `text` is a SARIF 2.1.0 log the official schema accepts; returns it.
fn valid_sarif(text: &str) -> Value {
    let out = checker("sarif", text);
    assert!(
        out.status.success(),
        "not valid SARIF 2.1.0:\n{}{}\n--- log\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text).expect("SARIF is JSON")
}

/// A JUnit report's counts, as parsed by `xml.etree`.
fn junit(text: &str) -> Value {
    let out = checker("junit", text);
    assert!(
        out.status.success(),
        "not parseable XML:\n{}\n--- report\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Value = serde_json::from_slice(&out.stdout).expect("counts JSON");
    assert_eq!(counts["root"], "testsuites");
    for k in ["tests", "failures", "errors"] {
        assert_eq!(
            counts["declared"][k], counts[k],
            "{k} declared vs counted: {text}"
        );
    }
    counts
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

/// `(ruleId, file, startLine)` of every result with a file.
fn placed(log: &Value) -> BTreeSet<(String, String, u64)> {
    results(log)
        .iter()
        .filter_map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            Some((
                r["ruleId"].as_str()?.to_owned(),
                p["artifactLocation"]["uri"].as_str()?.to_owned(),
                p["region"]["startLine"].as_u64()?,
            ))
        })
        .collect()
}

fn fingerprints(log: &Value) -> BTreeSet<(String, String)> {
    results(log)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default().to_owned(),
                r["partialFingerprints"]["s3cors/v1"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// Every result's rule is in `tool.driver.rules` with a meaning and a docs link.
fn assert_rules_described(log: &Value) {
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in results(log) {
        let id = r["ruleId"].as_str().expect("ruleId");
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], id);
        assert!(
            !rules[i]["shortDescription"]["text"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{id}"
        );
        let help = rules[i]["helpUri"].as_str().unwrap_or_default();
        assert!(
            help.ends_with(&format!("errors.md#{id}"))
                || help.ends_with(&format!("lints/{id}.md"))
                || help.ends_with(&format!("ci-formats.md#{id}")),
            "{id}: {help}"
        );
    }
}

fn validate(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("s3cors")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["validate", "."])
        .args(args)
        .output()
        .expect("run")
}

const GUARDRAILS: &str = "version: 1\nguardrails:\n  - id: no-public-writes\n    description: Writes never open to every origin\n    forbid: {origins: ['*'], methods: [PUT, POST, DELETE]}\n";

const ASSETS: &str = "  - name: app-assets\n    rules:\n      - AllowedOrigins: [https://app.example.com]\n        AllowedMethods: [GET]\n        MaxAgeSeconds: 86400\n";
const UPLOADS: &str = "  - name: app-uploads\n    rules:\n      - AllowedOrigins: ['*']\n        AllowedMethods: [PUT]\n        AllowedHeaders: [Content-Type]\n        ExposeHeaders: [ETag]\n";

#[test]
fn validate_sarif_locates_an_error_a_lint_and_a_guardrail_with_stable_fingerprints() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("guardrails.yaml"), GUARDRAILS).unwrap();
    let web = dir.path().join("web.yaml");

    // An error (line 6: a method S3 does not have).
    let broken = format!(
        "version: 1\nbuckets:\n{}",
        ASSETS.replace("[GET]", "[GET, PATCH]")
    );
    std::fs::write(&web, &broken).unwrap();
    let out = validate(dir.path(), &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let log = valid_sarif(&String::from_utf8_lossy(&out.stdout));
    assert_rules_described(&log);
    assert!(
        placed(&log).contains(&("unsupported-method".into(), "web.yaml".into(), 6)),
        "{:?}",
        placed(&log)
    );
    assert_eq!(results(&log)[0]["level"], "error");

    // A lint (line 7) and a guardrail violation (line 10) once the error is fixed.
    let fixed = format!("version: 1\nbuckets:\n{ASSETS}{UPLOADS}");
    std::fs::write(&web, &fixed).unwrap();
    let run = || {
        let out = validate(dir.path(), &["--format", "sarif"]);
        assert_eq!(out.status.code(), Some(1));
        valid_sarif(&String::from_utf8_lossy(&out.stdout))
    };
    let first = run();
    assert_rules_described(&first);
    let want: BTreeSet<(String, String, u64)> =
        [("max-age-over-browser-cap", 7), ("guardrail-violation", 10)]
            .into_iter()
            .map(|(code, line)| (code.to_owned(), "web.yaml".to_owned(), line))
            .collect();
    assert_eq!(placed(&first), want);
    let levels: BTreeSet<(String, String)> = results(&first)
        .iter()
        .map(|r| (r["ruleId"].to_string(), r["level"].to_string()))
        .collect();
    assert!(levels.contains(&("\"guardrail-violation\"".into(), "\"error\"".into())));
    assert!(levels.contains(&("\"max-age-over-browser-cap\"".into(), "\"warning\"".into())));

    // Fingerprints: equal across runs, and across moving the blocks around.
    assert_eq!(fingerprints(&run()), fingerprints(&first));
    let moved = format!("version: 1\n# moved\n\nbuckets:\n{UPLOADS}{ASSETS}");
    std::fs::write(&web, &moved).unwrap();
    let after = run();
    assert_ne!(placed(&after), placed(&first), "the lines did move");
    assert_eq!(fingerprints(&after), fingerprints(&first));
    let all: BTreeSet<&str> = results(&after)
        .iter()
        .filter_map(|r| r["partialFingerprints"]["s3cors/v1"].as_str())
        .collect();
    assert_eq!(all.len(), results(&after).len(), "fingerprints are unique");

    // JUnit: a case per file, the failing file's errors, warnings in system-out;
    // counts equal to the JSON report's.
    std::fs::write(&web, &fixed).unwrap();
    let out = validate(dir.path(), &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let counts = junit(&String::from_utf8_lossy(&out.stdout));
    let json: Value = serde_json::from_slice(&validate(dir.path(), &["--format", "json"]).stdout)
        .expect("json report");
    let diags = json["diagnostics"].as_array().expect("diagnostics");
    let files_with_errors: BTreeSet<&str> = diags
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert_eq!(counts["tests"], 2);
    assert_eq!(counts["failures"], files_with_errors.len());
    assert_eq!(counts["failed"], serde_json::json!(["./web.yaml"]));
    let warnings = diags.iter().filter(|d| d["severity"] == "warning").count();
    let out_lines: usize = counts["system_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .lines()
                .filter(|l| l.contains("warning["))
                .count()
        })
        .sum();
    assert_eq!(out_lines, warnings);
}

/// Suppressed lint findings stay in the SARIF log with an `inSource` suppression
/// (the reason as its justification), so code scanning shows them as dismissed in
/// the source; the log still validates against the schema.
#[test]
fn validate_sarif_marks_suppressed_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = "version: 1\nlints:\n  missing-allowed-headers: allow\nbuckets:\n  - name: app-assets\n    allow:\n      - {code: max-age-over-browser-cap, reason: CDN caches preflights}\n    rules:\n      - AllowedOrigins: [http://legacy.example.com]\n        AllowedMethods: [GET, PUT]\n        ExposeHeaders: [ETag]\n        MaxAgeSeconds: 86400\n        allow: [http-origin]\n";
    std::fs::write(dir.path().join("web.yaml"), policy).unwrap();
    let out = validate(dir.path(), &["--format", "sarif"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = valid_sarif(&String::from_utf8_lossy(&out.stdout));
    assert_rules_described(&log);
    let got: BTreeSet<(String, u64, String)> = results(&log)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                r["suppressions"].to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64, String)> = [
        ("http-origin", 9, r#"[{"kind":"inSource"}]"#),
        (
            "max-age-over-browser-cap",
            12,
            r#"[{"justification":"CDN caches preflights","kind":"inSource"}]"#,
        ),
        ("missing-allowed-headers", 10, r#"[{"kind":"inSource"}]"#),
    ]
    .into_iter()
    .map(|(c, l, s)| (c.to_owned(), l, s.to_owned()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn commands_refuse_formats_they_cannot_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, format) in [
        (vec!["plan", "."], "junit"),
        (vec!["apply", "."], "sarif"),
        (vec!["show", "plan.json"], "junit"),
        (
            vec![
                "explain",
                ".",
                "--bucket",
                "b",
                "--origin",
                "https://a.example",
                "--method",
                "GET",
            ],
            "sarif",
        ),
        (vec!["schema"], "sarif"),
        // HTML is drift's alone.
        (vec!["validate", "."], "html"),
        (vec!["plan", "."], "html"),
        (vec!["verify", "."], "html"),
        (
            vec![
                "explain",
                ".",
                "--bucket",
                "b",
                "--origin",
                "https://a.example",
                "--method",
                "GET",
            ],
            "html",
        ),
    ] {
        let out = Command::cargo_bin("s3cors")
            .expect("binary")
            .current_dir(dir.path())
            .args(&args)
            .args(["--format", format])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("`{}` cannot write {format}", args[0])),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_drift_write_valid_sarif_and_junit_against_moto() {
    let in_sync = bucket_with("ci-sync", None).await;
    let drifted = bucket_with("ci-drift", None).await;
    let missing = unique_bucket("ci-missing");
    let w = Work::new();
    w.policy("guardrails.yaml", GUARDRAILS);
    let policy = format!(
        "version: 1\nbuckets:\n{}{}{}",
        entry(&in_sync, "https://a.example.com"),
        entry(&drifted, "https://b.example.com"),
        entry(&missing, "https://c.example.com").replace(
            "[Authorization]\n",
            "[Authorization]\n        MaxAgeSeconds: 86400\n"
        ),
    );
    w.policy("p.yaml", &policy);
    // The max-age lint is on line 17 of p.yaml (the third entry's last line).
    let lint_line = policy
        .lines()
        .position(|l| l.contains("MaxAgeSeconds"))
        .expect("lint line") as u64
        + 1;

    // plan: the lint (stderr in human output) and the missing bucket (exit 1).
    let plan = valid_sarif(&w.ok(&["plan", "--format", "sarif"], 1));
    assert_rules_described(&plan);
    assert!(
        placed(&plan).contains(&(
            "max-age-over-browser-cap".into(),
            "policies/p.yaml".into(),
            lint_line
        )),
        "{:?}",
        placed(&plan)
    );
    let missing_result = results(&plan)
        .iter()
        .find(|r| r["ruleId"] == "missing-bucket")
        .expect("missing-bucket result");
    assert_eq!(
        missing_result["locations"][0]["logicalLocations"][0]["name"],
        missing.as_str()
    );

    // Bring the two existing buckets in line, then change one out of band, to
    // a rule that also breaks the guardrail.
    w.ok(
        &[
            "apply",
            "--auto-approve",
            "--target",
            &in_sync,
            "--target",
            &drifted,
        ],
        0,
    );
    put(&drifted, &cfg(vec![rule(&["*"], &[Method::Put], &[])])).await;

    let json: Value = serde_json::from_str(&w.ok(&["drift", "--format", "json"], 1)).unwrap();
    let summary = &json["summary"];
    let sarif_text = w.ok(&["drift", "--format", "sarif"], 1);
    let log = valid_sarif(&sarif_text);
    assert_rules_described(&log);
    let codes: Vec<&str> = results(&log)
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    let n = |k: &str| summary[k].as_u64().unwrap() as usize;
    assert_eq!(
        codes.iter().filter(|c| **c == "drifted").count(),
        n("drifted")
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "missing-bucket").count(),
        n("missing")
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "guardrail-violation")
            .count(),
        n("guardrail_violations")
    );
    assert_eq!((n("drifted"), n("missing"), n("in_sync")), (1, 1, 1));
    assert!(n("guardrail_violations") >= 1);
    // A live finding names the bucket and the policy entry's file and line.
    let drift_result = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "drifted")
        .expect("drifted result");
    let loc = &drift_result["locations"][0];
    assert_eq!(loc["logicalLocations"][0]["name"], drifted.as_str());
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "policies/p.yaml"
    );
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 8);
    assert_eq!(
        fingerprints(&valid_sarif(&w.ok(&["drift", "--format", "sarif"], 1))),
        fingerprints(&log)
    );

    let counts = junit(&w.ok(&["drift", "--format", "junit"], 1));
    assert_eq!(
        counts["tests"],
        n("in_sync") + n("drifted") + n("missing") + n("errors") + n("unresolved")
    );
    assert_eq!(counts["failures"], n("drifted") + n("missing"));
    assert_eq!(counts["errors"], n("errors") + n("unresolved"));
    let mut failed = vec![drifted.clone(), missing.clone()];
    failed.sort();
    assert_eq!(counts["failed"], serde_json::json!(failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_failures_as_sarif_and_junit_against_localstack() {
    let endpoint = localstack().endpoint().to_owned();
    let bucket = unique_bucket("ci-verify");
    create_bucket(&endpoint, &bucket).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bucket.yaml"),
        format!(
            "version: 1\nbuckets:\n  - name: {bucket}\n    rules:\n      - AllowedOrigins: [https://app.example.com]\n        AllowedMethods: [GET, PUT]\n        AllowedHeaders: [Content-Type]\n        ExposeHeaders: [ETag]\n"
        ),
    )
    .unwrap();
    // Live: only GET, from any origin; PUT cases fail, so does the origin check.
    aws_s3(&endpoint)
        .await
        .put_cors(
            &s3cors::s3::BucketTarget::new(&bucket),
            &cfg(vec![rule(&["*"], &[Method::Get], &["Content-Type"])]),
        )
        .await
        .expect("put CORS");
    let run = |format: &str| {
        let out = Command::cargo_bin("s3cors")
            .expect("binary")
            .current_dir(dir.path())
            .envs(aws_env(&endpoint))
            .args(["verify", ".", "--path-style", "--format", format])
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json: Value = serde_json::from_str(&run("json")).expect("json");
    let summary = &json["summary"];
    let failed = summary["failed"].as_u64().unwrap();
    assert!(failed > 0, "{json}");

    let log = valid_sarif(&run("sarif"));
    assert_rules_described(&log);
    assert_eq!(results(&log).len() as u64, failed);
    assert!(
        results(&log)
            .iter()
            .all(|r| r["ruleId"] == "verify-case-failed" && r["level"] == "error")
    );
    let loc = &results(&log)[0]["locations"][0];
    assert_eq!(loc["logicalLocations"][0]["name"], bucket.as_str());
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 3);

    let counts = junit(&run("junit"));
    assert_eq!(counts["suites"], 1);
    assert_eq!(counts["tests"], summary["cases"]);
    assert_eq!(
        counts["failures"].as_u64().unwrap() + counts["errors"].as_u64().unwrap(),
        failed
    );
}

/// `plan` and `drift` carry the policy findings in their JSON (`findings`,
/// `finding_counts`) and markdown reports, suppressed ones marked with their
/// reasons, and count them in the human summary on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_drift_reports_carry_policy_findings_against_moto() {
    let loud = bucket_with("fd-loud", None).await;
    let quiet = bucket_with("fd-quiet", None).await;
    let w = Work::new();
    let policy = format!(
        "version: 1\nbuckets:\n{}{}    allow:\n      - {{code: http-origin, reason: \"partner has no TLS\"}}\n",
        entry(&loud, "https://a.example.com").replace(
            "[Authorization]\n",
            "[Authorization]\n        MaxAgeSeconds: 86400\n"
        ),
        entry(&quiet, "http://b.example.com"),
    );
    w.policy("p.yaml", &policy);
    let line_of = |needle: &str| policy.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let check = |v: &Value| {
        assert_eq!(
            v["finding_counts"],
            serde_json::json!({"errors": 0, "warnings": 1, "suppressed": 1}),
            "{v}"
        );
        let findings = v["findings"].as_array().expect("findings");
        let got: Vec<(String, u64, String, bool, Value)> = findings
            .iter()
            .map(|f| {
                assert_eq!(f["file"], "policies/p.yaml");
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                    f["bucket"].as_str().unwrap().to_owned(),
                    f["suppressed"].as_bool().unwrap(),
                    f["reason"].clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "max-age-over-browser-cap".to_owned(),
                    line_of("MaxAgeSeconds") as u64,
                    loud.clone(),
                    false,
                    Value::Null
                ),
                (
                    "http-origin".to_owned(),
                    line_of("http://b.example.com") as u64,
                    quiet.clone(),
                    true,
                    Value::from("partner has no TLS")
                ),
            ]
        );
    };

    check(&w.plan_json(&[]));
    let markdown = w.ok(&["plan", "--format", "markdown"], 0);
    assert!(
        markdown.contains("#### Policy findings\n\n**0 errors, 1 warning, 1 suppressed**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("_suppressed: partner has no TLS_"),
        "{markdown}"
    );
    let human = w.run(&["plan"]);
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert!(
        stderr.contains("0 errors, 1 warning, 1 suppressed in 1 policy file."),
        "{stderr}"
    );
    assert!(!stderr.contains("http-origin"), "{stderr}");
    let verbose = w.run(&["-v", "plan"]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        stderr.contains("warning[http-origin]") && stderr.contains("partner has no TLS"),
        "{stderr}"
    );

    w.ok(&["apply", "--auto-approve"], 0);
    let drift: Value = serde_json::from_str(&w.ok(&["drift", "--format", "json"], 0)).unwrap();
    check(&drift);
    let markdown = w.ok(&["drift", "--format", "markdown"], 0);
    assert!(
        markdown.contains("#### Policy findings\n\n**0 errors, 1 warning, 1 suppressed**"),
        "{markdown}"
    );
}
