//! Global options from the environment (`S3CORS_<OPTION>`): equal to the flag,
//! beaten by the flag, bad values refused naming the variable; and `--no-input`
//! (`S3CORS_NO_INPUT`, `CI=true`), which makes `apply` and `rollback` refuse to
//! prompt, even on a terminal. Offline: every run fails or finishes before S3.

use std::path::Path;
use std::time::Duration;

use tempfile::TempDir;

/// A policy with a lint warning (a one-day `MaxAgeSeconds` is over what browsers
/// cache), so reports have something to show.
const POLICY: &str = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n      - {AllowedOrigins: ['https://a.example.com'], AllowedMethods: [GET], MaxAgeSeconds: 86400}\n";

fn policy_dir() -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(dir.path().join("policies/p.yaml"), POLICY).expect("write policy");
    dir
}

/// A table row: environment variables, and strings (what stderr says, or flags).
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` with only `env` in its environment (and PATH).
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3cors"));
    cmd.current_dir(dir)
        .timeout(Duration::from_secs(60))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .args(args);
    let out = cmd.output().expect("run s3cors");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn format_from_the_environment_equals_the_flag() {
    let dir = policy_dir();
    for format in ["json", "markdown", "human"] {
        let by_flag = run(dir.path(), &[], &["--format", format, "validate"]);
        let by_env = run(dir.path(), &[("S3CORS_FORMAT", format)], &["validate"]);
        assert_eq!(by_flag.code, Some(0), "{format}: {}", by_flag.stderr);
        assert_eq!(by_env.code, by_flag.code, "{format}");
        assert_eq!(by_env.stdout, by_flag.stdout, "{format}");
        assert_eq!(by_env.stderr, by_flag.stderr, "{format}");
    }
    let json = run(dir.path(), &[("S3CORS_FORMAT", "json")], &["validate"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("a JSON report");
    assert!(
        report.to_string().contains("max-age-over-browser-cap"),
        "{report}"
    );
}

#[test]
fn flags_win_over_the_environment() {
    let dir = policy_dir();
    let human = run(dir.path(), &[], &["validate"]);
    // A flag replaces the variable, even one whose value is bad.
    for env in [("S3CORS_FORMAT", "json"), ("S3CORS_FORMAT", "xml")] {
        for args in [
            &["--format", "human", "validate"],
            &["validate", "--format", "human"],
        ] {
            let r = run(dir.path(), &[env], args);
            assert_eq!(r.code, Some(0), "{env:?} {args:?}: {}", r.stderr);
            assert_eq!(r.stdout, human.stdout, "{env:?} {args:?}");
        }
    }
    let r = run(
        dir.path(),
        &[("S3CORS_COLOR", "always")],
        &["--color", "never", "validate"],
    );
    assert!(!r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'));
    let r = run(dir.path(), &[("S3CORS_COLOR", "always")], &["validate"]);
    assert!(
        r.stdout.contains('\x1b') || r.stderr.contains('\x1b'),
        "S3CORS_COLOR=always colours: {}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn bad_values_in_the_environment_exit_1_naming_the_variable() {
    let dir = policy_dir();
    // (variables, what stderr says)
    let cases: &[Case] = &[
        (
            &[("S3CORS_FORMAT", "xml")],
            &[
                "invalid value 'xml' for '--format",
                "S3CORS_FORMAT=xml in the environment sets --format",
            ],
        ),
        (
            &[("S3CORS_COLOR", "sometimes")],
            &[
                "'sometimes' for '--color",
                "S3CORS_COLOR=sometimes in the environment",
            ],
        ),
        (
            &[("S3CORS_PARALLELISM", "0")],
            &[
                "0 is not in 1..=1024",
                "S3CORS_PARALLELISM=0 in the environment sets --parallelism",
            ],
        ),
        (
            &[("S3CORS_PARALLELISM", "lots")],
            &["'lots' for '--parallelism", "S3CORS_PARALLELISM=lots"],
        ),
        (
            &[("S3CORS_TIMEOUT", "-5")],
            &["'-5' for '--timeout", "S3CORS_TIMEOUT=-5"],
        ),
        (
            &[("S3CORS_QUIET", "maybe")],
            &["'maybe' for '--quiet", "S3CORS_QUIET=maybe"],
        ),
        (
            &[("S3CORS_PATH_STYLE", "perhaps")],
            &["'perhaps' for '--path-style", "S3CORS_PATH_STYLE=perhaps"],
        ),
        (
            &[("S3CORS_NO_INPUT", "sure")],
            &["'sure' for '--no-input", "S3CORS_NO_INPUT=sure"],
        ),
        (
            &[("S3CORS_VERBOSE", "loud")],
            &["'loud' for '--verbose", "S3CORS_VERBOSE=loud"],
        ),
        (
            &[("S3CORS_VERBOSE", "2"), ("S3CORS_QUIET", "true")],
            &[
                "cannot be used with",
                "S3CORS_VERBOSE=2 in the environment",
                "S3CORS_QUIET=true in the environment",
            ],
        ),
        (
            // The endpoint's value is not repeated by the note (it may hold a password).
            &[("S3CORS_ENDPOINT_URL", "ftp://host")],
            &[
                "is not an S3 endpoint URL",
                "note: S3CORS_ENDPOINT_URL in the environment sets --endpoint-url",
            ],
        ),
        (
            &[("S3CORS_SHARD", "5/4")],
            &["S3CORS_SHARD: `5/4` is not K/N"],
        ),
    ];
    for (env, says) in cases {
        let r = run(dir.path(), env, &["validate"]);
        assert_eq!(r.code, Some(1), "{env:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{env:?}: {}", r.stdout);
        for s in *says {
            assert!(
                r.stderr.contains(s),
                "{env:?}: wanted {s:?} in\n{}",
                r.stderr
            );
        }
    }
    // Good values of the same variables parse (validate ignores what they set).
    for env in [
        ("S3CORS_PARALLELISM", "8"),
        ("S3CORS_TIMEOUT", "5"),
        ("S3CORS_QUIET", "yes"),
        ("S3CORS_PATH_STYLE", "1"),
        ("S3CORS_VERBOSE", "1"),
        ("S3CORS_NO_INPUT", "off"),
        ("S3CORS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("S3CORS_REGION", "eu-west-1"),
        ("S3CORS_ACCOUNT", "111111111111,222222222222"),
    ] {
        let r = run(dir.path(), &[env], &["validate"]);
        assert_eq!(r.code, Some(0), "{env:?}: {}", r.stderr);
    }
}

const REFUSAL: &str = "apply would ask for a `yes`, but --no-input";

#[test]
fn no_input_refuses_to_prompt_and_names_the_ways_forward() {
    let dir = policy_dir();
    let cases: &[Case] = &[
        (&[], &["--no-input"]),
        (&[("S3CORS_NO_INPUT", "true")], &[]),
        (&[("S3CORS_NO_INPUT", "1")], &[]),
        (&[("CI", "true")], &[]),
        (&[("CI", "1")], &[]),
        (&[("CI", "TRUE")], &[]),
        // The flag wins over an environment that says otherwise.
        (&[("S3CORS_NO_INPUT", "false")], &["--no-input"]),
    ];
    for (env, flags) in cases {
        let mut args = flags.to_vec();
        args.extend(["apply", "--policies", "policies"]);
        let r = run(dir.path(), env, &args);
        assert_eq!(r.code, Some(1), "{env:?} {flags:?}");
        for s in [
            REFUSAL,
            "--auto-approve",
            "s3cors plan --out FILE",
            "s3cors apply FILE",
        ] {
            assert!(
                r.stderr.contains(s),
                "{env:?} {flags:?}: wanted {s:?} in\n{}",
                r.stderr
            );
        }
    }
    // Not asked to stay silent, apply goes on to plan (and here fails for want of
    // S3, not because it would prompt); --auto-approve never prompts anyway.
    for (env, flags) in [
        (&[][..], &[][..]),
        (&[("CI", "false")], &[]),
        (&[("CI", "0")], &[]),
        (&[("CI", "true"), ("S3CORS_NO_INPUT", "false")], &[]),
        (&[("CI", "true")], &["--auto-approve"]),
    ] {
        let mut args = vec!["apply", "--policies", "policies"];
        args.extend(flags);
        let r = run(dir.path(), env, &args);
        assert!(
            !r.stderr.contains(REFUSAL),
            "{env:?} {flags:?}: {}",
            r.stderr
        );
    }
    std::fs::write(dir.path().join("plan.json"), "{}").expect("write");
    let r = run(dir.path(), &[("CI", "true")], &["rollback", "plan.json"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("rollback would ask for a `yes`, but --no-input")
            && r.stderr.contains("--auto-approve"),
        "{}",
        r.stderr
    );
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), `--no-input`
/// still refuses at once rather than asking.
#[test]
fn no_input_refuses_even_on_a_terminal() {
    let dir = policy_dir();
    let command = format!(
        "{} --no-input apply --policies policies",
        env!("CARGO_BIN_EXE_s3cors")
    );
    let out = assert_cmd::Command::new("script")
        .current_dir(dir.path())
        .timeout(Duration::from_secs(60))
        .args(["-qec", &command, "/dev/null"])
        .write_stdin("")
        .output()
        .expect("util-linux `script` runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(REFUSAL), "{text}");
    assert!(!text.contains("Enter a value"), "{text}");
}
