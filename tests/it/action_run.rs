//! The GitHub Action's run step (scripts/action/run.sh run) with the real binary
//! against moto, as action.yml calls it: inputs as INPUT_* variables, outputs in
//! GITHUB_OUTPUT. s3cors' exit code passes through as `exit-code` and
//! `has-changes`; the step fails (exit 1) only when s3cors did not exit 0 or 2.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::support::aws_env;
use crate::support::work::*;

/// One run of the step in `work`'s folder; its exit code, outputs and log.
struct Step {
    code: Option<i32>,
    outputs: BTreeMap<String, String>,
    log: String,
    summary: String,
    /// RUNNER_TEMP, where the reports are: kept as long as the step.
    _runner: tempfile::TempDir,
}

impl Step {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output `{name}`: {:?}\n{}", self.outputs, self.log))
    }

    fn file(&self, name: &str) -> String {
        let path = self.output(name);
        assert!(Path::new(path).is_absolute(), "{name}: {path}");
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {path}: {e}"))
    }
}

fn step(work: &Work, inputs: &[(&str, &str)]) -> Step {
    let runner = tempfile::tempdir().expect("tempdir");
    let output = runner.path().join("output");
    let summary = runner.path().join("summary");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/run.sh"))
        .arg("run")
        .current_dir(work.dir.path())
        .envs(aws_env(&work.endpoint))
        .env("S3CORS_PATH_STYLE", "true")
        .env("S3CORS_BIN", env!("CARGO_BIN_EXE_s3cors"))
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", runner.path())
        .env("CI", "true");
    for (k, _) in std::env::vars() {
        if k.starts_with("INPUT_") || k.starts_with("S3CORS_SHARD") {
            cmd.env_remove(k);
        }
    }
    for (name, value) in inputs {
        cmd.env(
            format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
            value,
        );
    }
    let out: Output = cmd.output().expect("bash runs run.sh");
    let mut outputs = BTreeMap::new();
    for line in std::fs::read_to_string(&output).unwrap_or_default().lines() {
        if let Some((k, v)) = line.split_once('=') {
            outputs.insert(k.to_owned(), v.to_owned());
        }
    }
    Step {
        code: out.status.code(),
        outputs,
        log: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        summary: std::fs::read_to_string(summary).unwrap_or_default(),
        _runner: runner,
    }
}

fn check(step: &Step, wrapper: i32, s3cors: &str, has_changes: &str) {
    assert_eq!(step.code, Some(wrapper), "{}", step.log);
    assert_eq!(step.output("exit-code"), s3cors, "{}", step.log);
    assert_eq!(step.output("has-changes"), has_changes, "{}", step.log);
}

#[tokio::test]
async fn plan_apply_drift_through_the_action() {
    let old = bucket_with("action-old", Some(&get_rule("https://old.example.com"))).await;
    let work = Work::new();
    work.manage(&[(&old, "https://new.example.com")]);

    // Changes pending: exit 2 passes, has-changes says so, the plan is saved and
    // rendered as markdown for the comment and the job summary.
    let plan = step(
        &work,
        &[
            ("command", "plan"),
            ("paths", "policies/"),
            ("format", "json"),
        ],
    );
    check(&plan, 0, "2", "true");
    let plan_file = plan.output("plan-file").to_owned();
    assert_eq!(
        Path::new(&plan_file),
        work.path("s3cors.plan.json")
            .canonicalize()
            .expect("saved plan")
    );
    let report: serde_json::Value = serde_json::from_str(&plan.file("report")).expect("json");
    assert_eq!(actions(&report), [(old.clone(), "update".to_owned())]);
    let markdown = plan.file("markdown");
    assert!(
        markdown.contains(&old) && markdown.contains("https://new.example.com"),
        "{markdown}"
    );
    assert_eq!(plan.summary, markdown);
    assert_eq!(plan.output("sarif-file"), "");

    // show of saved plans (a glob of them): the same markdown, as the report.
    let show = step(&work, &[("command", "show"), ("paths", "s3cors.plan.*")]);
    check(&show, 0, "0", "false");
    assert_eq!(show.output("markdown"), show.output("report"));
    assert_eq!(show.file("markdown"), markdown);
    // A glob that matches nothing reaches s3cors as written, which names it.
    let none = step(&work, &[("command", "show"), ("paths", "plan-*.json")]);
    check(&none, 1, "1", "false");
    assert!(none.log.contains("plan-*.json"), "{}", none.log);

    // Drift before the apply: exit 2, as SARIF for code scanning.
    let drift = step(&work, &[("command", "drift"), ("format", "sarif")]);
    check(&drift, 0, "2", "true");
    assert_eq!(drift.output("sarif-file"), drift.output("report"));
    assert!(
        drift.file("sarif-file").contains("\"drifted\""),
        "{}",
        drift.log
    );

    // The saved plan applied: exit 0.
    let apply = step(
        &work,
        &[("command", "apply"), ("plan-file", "s3cors.plan.json")],
    );
    check(&apply, 0, "0", "false");
    assert_eq!(live(&old).await, Some(get_rule("https://new.example.com")));

    // In sync now: plan and drift exit 0.
    let plan = step(&work, &[("command", "plan"), ("plan-file", "again.json")]);
    check(&plan, 0, "0", "false");
    assert!(work.path("again.json").is_file());
    let drift = step(&work, &[("command", "drift"), ("format", "junit")]);
    check(&drift, 0, "0", "false");
    assert!(
        drift.file("report").contains("<testsuites"),
        "{}",
        drift.log
    );
}

#[tokio::test]
async fn errors_fail_the_step_with_their_exit_code() {
    let bucket = bucket_with("action-stale", Some(&get_rule("https://a.example.com"))).await;
    let work = Work::new();
    work.manage(&[(&bucket, "https://b.example.com")]);
    let plan = step(&work, &[("command", "plan")]);
    check(&plan, 0, "2", "true");

    // Changed out of band since the plan: apply leaves it alone and exits 1.
    put(&bucket, &get_rule("https://c.example.com")).await;
    let apply = step(
        &work,
        &[("command", "apply"), ("plan-file", "s3cors.plan.json")],
    );
    check(&apply, 1, "1", "false");
    assert!(
        apply
            .log
            .contains("::error title=s3cors action::s3cors apply failed (exit 1)"),
        "{}",
        apply.log
    );
    assert!(
        apply.file("report").contains("stale"),
        "{}",
        apply.file("report")
    );
    assert_eq!(live(&bucket).await, Some(get_rule("https://c.example.com")));

    // A policy error: plan exits 1 before saving a plan; with a comment asked
    // for, the markdown is the failure and the errors.
    work.policy("bad.yaml", "version: 1\nbuckets:\n  - name: x\n    rules:\n      - AllowedOrigins: [\"*\"]\n        AllowedMethods: [FETCH]\n");
    let plan = step(
        &work,
        &[
            ("command", "plan"),
            ("format", "sarif"),
            ("comment", "true"),
            ("plan-file", "p2.json"),
        ],
    );
    check(&plan, 1, "1", "false");
    assert_eq!(plan.output("plan-file"), "");
    assert!(!work.path("p2.json").exists());
    assert!(
        plan.file("sarif-file").contains("unsupported-method"),
        "{}",
        plan.log
    );
    let markdown = plan.file("markdown");
    assert!(
        markdown.starts_with("### s3cors plan failed (exit 1)"),
        "{markdown}"
    );
    assert!(markdown.contains("bad.yaml:6"), "{markdown}");

    // validate in markdown: the report is the comment.
    let validate = step(&work, &[("command", "validate"), ("comment", "true")]);
    check(&validate, 1, "1", "false");
    assert_eq!(validate.output("markdown"), validate.output("report"));
    assert!(validate.file("markdown").contains("unsupported-method"));
}

#[test]
fn bad_inputs_are_refused_before_s3cors_runs() {
    // No server: nothing may be called.
    let work = Work {
        dir: tempfile::tempdir().expect("tempdir"),
        endpoint: "http://127.0.0.1:9".to_owned(),
    };
    for (inputs, want) in [
        (
            vec![("command", "destroy")],
            "command: 'destroy' is not one of: plan apply drift validate verify",
        ),
        (
            vec![("command", "plan"), ("format", "xml")],
            "format: 'xml' is not one of",
        ),
        (
            vec![
                ("command", "drift"),
                ("format", "sarif"),
                ("comment", "true"),
            ],
            "comment: true needs format: markdown for drift",
        ),
    ] {
        let s = step(&work, &inputs);
        assert_eq!(s.code, Some(1), "{inputs:?}: {}", s.log);
        assert!(s.log.contains(want), "{inputs:?}: {}", s.log);
        assert!(s.outputs.is_empty(), "{inputs:?}: {:?}", s.outputs);
    }
}
