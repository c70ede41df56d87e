//! The binary's contract with scripts: exit codes are 0, 1 and 2 only (2 only for
//! pending changes), usage errors exit 1, closed or broken stdout/stderr never make
//! it panic, missing credentials are reported once and plainly, and a
//! `user:password@` in `--endpoint-url` is never written anywhere.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const GOOD: &str = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n      - {AllowedOrigins: ['https://a.example.com'], AllowedMethods: [GET]}\n";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_s3cors")
}

fn policy_dir(text: &str) -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    std::fs::write(dir.path().join("p.yaml"), text).expect("write policy");
    dir
}

/// Runs the binary offline in `dir` and returns (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = assert_cmd::Command::new(bin())
        .current_dir(dir)
        .timeout(Duration::from_secs(60))
        .env_remove("S3CORS_LOG")
        .args(args)
        .output()
        .expect("run s3cors");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_exit_1_and_help_and_version_exit_0() {
    let dir = policy_dir(GOOD);
    // (arguments, exit code, text expected on stdout or stderr)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--help"], 0, "Usage: s3cors"),
        (&["plan", "--help"], 0, "--detailed-exitcode"),
        (&["-h"], 0, "Usage: s3cors"),
        (&["--version"], 0, "s3cors 0."),
        (&["validate", "--version"], 0, "s3cors-validate 0."),
        (&[], 1, "Usage: s3cors"),
        (&["--no-such-flag", "validate"], 1, "unexpected argument"),
        (&["plan", "--shard", "3/2"], 1, "is not K/N"),
        (&["plan", "--format", "yaml"], 1, "invalid value 'yaml'"),
        (&["frobnicate"], 1, "unrecognized subcommand"),
        (&["import"], 1, "required arguments were not provided"),
        (&["--parallelism", "0", "validate"], 1, "invalid value '0'"),
        (&["validate", "-v", "-q"], 1, "cannot be used with"),
        (
            &["--endpoint-url", "localhost:9000", "plan"],
            1,
            "is not an S3 endpoint URL: it must start with http:// or https://",
        ),
        (
            &["--endpoint-url", "http://127.0.0.1:9000/bucket", "plan"],
            1,
            "must not have a path, query or fragment",
        ),
        (&["validate", "p.yaml"], 0, "1 policy file valid."),
    ];
    for (args, code, text) in cases {
        let (got, stdout, stderr) = run(dir.path(), args);
        assert_eq!(got, Some(*code), "s3cors {args:?}\n{stdout}{stderr}");
        assert!(
            stdout.contains(text) || stderr.contains(text),
            "s3cors {args:?} should say {text:?}:\n{stdout}{stderr}"
        );
        if *code == 1 {
            assert!(stdout.is_empty(), "s3cors {args:?}: usage goes to stderr");
        }
    }
}

/// `--version` names the commit the binary was built from (build.rs), which in
/// this checkout is HEAD: CI runs the tests in a clone, so this holds there too.
#[test]
fn version_names_the_commit_it_was_built_from() {
    let git = Command::new("git")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .expect("git runs");
    assert!(git.status.success(), "the tests run in a git checkout");
    let commit = String::from_utf8_lossy(&git.stdout).trim().to_owned();
    assert!(commit.len() >= 7, "{commit}");
    let dir = policy_dir(GOOD);
    let (code, stdout, stderr) = run(dir.path(), &["--version"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!("s3cors {} ({commit})\n", env!("CARGO_PKG_VERSION"))
    );
}

/// The README's CI line `plan --detailed-exitcode || [ $? = 2 ]` must not pass when
/// the command line is wrong: 2 means "changes pending" and nothing else.
#[test]
fn a_usage_error_never_looks_like_pending_changes() {
    let dir = policy_dir(GOOD);
    for args in [
        &["plan", "--detailed-exitcode", "--shard", "x"][..],
        &["plan", "--detailed-exitcode", "--out"],
        &["plan", "--detailed-exitcode", "--formt", "json"],
    ] {
        let (code, _, stderr) = run(dir.path(), args);
        assert_eq!(code, Some(1), "s3cors {args:?}: {stderr}");
    }
}

#[test]
fn account_is_refused_where_it_would_be_ignored() {
    let dir = policy_dir(GOOD);
    std::fs::write(dir.path().join("plan.json"), "{}").unwrap();
    for (args, says) in [
        (
            &["show", "plan.json", "--account", "111111111111"][..],
            "`show` shows a saved plan",
        ),
        (
            &["rollback", "plan.json", "--account", "111111111111"],
            "`rollback` restores",
        ),
        (
            &[
                "explain",
                ".",
                "--bucket",
                "bk1",
                "--method",
                "GET",
                "--account",
                "111111111111",
            ],
            "`explain` answers",
        ),
        (
            &["apply", "plan.json", "--account", "111111111111"],
            "cannot narrow a saved plan",
        ),
    ] {
        let (code, _, stderr) = run(dir.path(), args);
        assert_eq!(code, Some(1), "s3cors {args:?}: {stderr}");
        assert!(stderr.contains(says), "s3cors {args:?}: {stderr}");
    }
}

/// Spawns the binary with stdout and stderr pipes whose read ends are closed at
/// once, so every write fails with EPIPE; returns its exit code.
fn run_with_broken_pipes(dir: &Path, args: &[&str]) -> Option<i32> {
    let mut child = Command::new(bin())
        .current_dir(dir)
        .env_remove("S3CORS_LOG")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn s3cors");
    drop(child.stdout.take());
    drop(child.stderr.take());
    wait_bounded(&mut child)
}

/// Runs the binary through `sh` with stdout and stderr closed (`>&- 2>&-`).
fn run_with_closed_fds(dir: &Path, args: &[&str]) -> Option<i32> {
    let mut child = Command::new("sh")
        .current_dir(dir)
        .env_remove("S3CORS_LOG")
        .arg("-c")
        .arg("exec \"$0\" \"$@\" >&- 2>&-")
        .arg(bin())
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sh");
    wait_bounded(&mut child)
}

fn wait_bounded(child: &mut std::process::Child) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("s3cors did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn closed_or_broken_output_never_panics() {
    // Enough warnings (http-origin on every origin) for well over a pipe buffer of
    // output, so writes fail even if the child started writing before the close.
    let mut noisy = String::from("version: 1\nbuckets:\n");
    for b in 0..10 {
        let origins: Vec<String> = (0..100)
            .map(|i| format!("'http://h{i}.example.com'"))
            .collect();
        noisy.push_str(&format!(
            "  - name: bk{b}\n    rules:\n      - {{AllowedOrigins: [{}], AllowedMethods: [GET]}}\n",
            origins.join(", ")
        ));
    }
    let dir = policy_dir(&noisy);
    // (arguments, the exit code they have with working output)
    let cases: &[(&[&str], i32)] = &[
        (&["validate", "p.yaml"], 0),
        (&["-vvv", "validate", "p.yaml"], 0),
        (&["validate", "p.yaml", "--deny-warnings"], 1),
        (&["validate", "missing/"], 1),
        (&["--format", "json", "validate", "missing/"], 1),
        (&["schema"], 0),
        (&["--help"], 0),
        (&["--version"], 0),
        (&["--no-such-flag"], 1),
        (
            &[
                "--endpoint-url",
                "http://127.0.0.1:9",
                "explain",
                "--live",
                "--bucket",
                "b",
                "--method",
                "GET",
            ],
            1,
        ),
    ];
    for (args, code) in cases {
        assert_eq!(
            run_with_broken_pipes(dir.path(), args),
            Some(*code),
            "broken pipes: s3cors {args:?}"
        );
        assert_eq!(
            run_with_closed_fds(dir.path(), args),
            Some(*code),
            "closed stdout/stderr: s3cors {args:?}"
        );
    }
}

/// No credentials anywhere (no variables, empty config files, no instance
/// metadata): one short message that names the cause and the fix, exit 1.
#[test]
fn missing_credentials_are_reported_once_with_the_fix() {
    let endpoint = crate::support::moto().endpoint();
    let names: Vec<String> = (0..4)
        .map(|_| crate::support::unique_bucket("nocreds"))
        .collect();
    let mut yaml = String::from("version: 1\nbuckets:\n");
    for n in &names {
        yaml.push_str(&format!("  - name: {n}\n    rules: []\n"));
    }
    let dir = policy_dir(&yaml);
    let empty = dir.path().join("empty-aws-config");
    std::fs::write(&empty, "").expect("write empty config");
    for args in [
        &["plan", "p.yaml"][..],
        &["drift", "p.yaml"],
        &["import", "--bucket", &names[0], "--bucket", &names[1]],
    ] {
        let out = assert_cmd::Command::new(bin())
            .current_dir(dir.path())
            .timeout(Duration::from_secs(120))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .env_remove("S3CORS_LOG")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-east-1")
            .args([
                "--endpoint-url",
                endpoint,
                "--path-style",
                "--color",
                "never",
            ])
            .args(args)
            .output()
            .expect("run s3cors");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "s3cors {args:?}:\n{all}");
        assert_eq!(
            all.matches("no AWS credentials found").count(),
            1,
            "s3cors {args:?}: said once:\n{all}"
        );
        for fix in ["AWS_PROFILE", "aws sso login", "AWS_ACCESS_KEY_ID"] {
            assert!(all.contains(fix), "s3cors {args:?}: names {fix}:\n{all}");
        }
        assert!(
            !all.contains("network") && !all.contains("DispatchFailure"),
            "s3cors {args:?}: no SDK dump, no network hint:\n{all}"
        );
        assert!(all.len() < 1_000, "s3cors {args:?}: short:\n{all}");
    }
}

/// `--endpoint-url http://user:secret@host` works, and the secret is in no plan
/// file, imported policy, report or log line.
#[test]
fn endpoint_userinfo_is_never_written() {
    let endpoint = crate::support::moto().endpoint();
    let with_secret = endpoint.replacen("://", "://AKIDEXAMPLE:s3cr3t-p4ss@", 1);
    let bucket = crate::support::unique_bucket("userinfo");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(crate::support::create_bucket(endpoint, &bucket));
    let dir = policy_dir(&format!(
        "version: 1\nbuckets:\n  - name: {bucket}\n    rules:\n      - {{AllowedOrigins: ['https://a.example.com'], AllowedMethods: [GET]}}\n"
    ));
    let s3cors = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(bin());
        cmd.current_dir(dir.path())
            .timeout(Duration::from_secs(120))
            .envs(crate::support::aws_env(&with_secret))
            .env_remove("AWS_PROFILE")
            .env_remove("S3CORS_LOG")
            .args(["--endpoint-url", &with_secret, "--path-style"])
            .args([
                "--region",
                crate::support::REGION,
                "-vv",
                "--color",
                "never",
            ])
            .args(args);
        let out = cmd.output().expect("run s3cors");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), all)
    };
    let (code, all) = s3cors(&["plan", "p.yaml", "--out", "plan.json"]);
    assert_eq!(code, Some(0), "{all}");
    let (code, json) = s3cors(&["--format", "json", "plan", "p.yaml"]);
    assert_eq!(code, Some(0), "{json}");
    let (code, shown) = s3cors(&["show", "plan.json"]);
    assert_eq!(code, Some(0), "{shown}");
    let (code, imported) = s3cors(&["import", "--bucket", &bucket]);
    assert_eq!(code, Some(0), "{imported}");
    let (code, applied) = s3cors(&["apply", "plan.json", "--auto-approve"]);
    assert_eq!(code, Some(0), "{applied}");
    let mut plan_file = String::new();
    std::fs::File::open(dir.path().join("plan.json"))
        .and_then(|mut f| f.read_to_string(&mut plan_file))
        .expect("read plan file");
    assert!(
        plan_file.contains(&format!("\"endpoint\": \"{endpoint}\"")),
        "{plan_file}"
    );
    // A plan that holds the password (written by hand, or by a build before the
    // password was stripped; sealed again so it reads): show hides it, and apply
    // compares endpoints without it.
    let mut old = s3cors::plan::file::PlanFile::from_json(&plan_file).expect("a plan");
    old.endpoint = s3cors::endpoint::Endpoint::Custom(with_secret.clone());
    old.content_digest = old.content_digest();
    std::fs::write(dir.path().join("old-plan.json"), old.to_json()).expect("write old plan");
    let (code, old_shown) = s3cors(&["show", "old-plan.json"]);
    assert_eq!(code, Some(0), "{old_shown}");
    let (code, old_applied) = s3cors(&["apply", "old-plan.json", "--auto-approve"]);
    assert_eq!(code, Some(0), "{old_applied}");
    for (what, text) in [
        ("plan output and log", &all),
        ("plan file", &plan_file),
        ("JSON report", &json),
        ("show", &shown),
        ("import", &imported),
        ("apply", &applied),
        ("show of an old plan", &old_shown),
        ("apply of an old plan", &old_applied),
    ] {
        assert!(
            !text.contains("s3cr3t-p4ss") && !text.contains("AKIDEXAMPLE:"),
            "{what} holds the endpoint's password:\n{text}"
        );
    }
}
