//! `s3cors validate` through the real binary: every error class of docs/errors.md
//! with its exit code and `file:line:col`, every problem in one run, hostile inputs,
//! `--deny-warnings`, the JSON report's shape, and snapshots of `--help` and of the
//! diagnostics.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use clap::CommandFactory;
use predicates::prelude::*;
use tempfile::TempDir;

/// The binary, with a bound on its run time (a hang fails instead of blocking) and an
/// environment that cannot change its output.
fn s3cors(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("s3cors").expect("the s3cors binary");
    cmd.current_dir(dir)
        .timeout(Duration::from_secs(60))
        .env_remove("NO_COLOR")
        .env_remove("S3CORS_LOG")
        .env_remove("RUST_LOG")
        .env_remove("CI")
        .arg("--color")
        .arg("never");
    // Global options read S3CORS_<OPTION>, and --help shows the values set.
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("S3CORS_")) {
        cmd.env_remove(name);
    }
    cmd
}

/// What one run printed, and its exit code.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Writes `files` (name, text) into a fresh directory and runs `s3cors validate
/// NAMES... EXTRA...` there, so paths in the output are the relative names.
fn validate(files: &[(&str, &str)], extra: &[&str]) -> Run {
    let dir = TempDir::new().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write policy");
    }
    let mut cmd = s3cors(dir.path());
    cmd.arg("validate");
    cmd.args(files.iter().map(|(n, _)| *n));
    cmd.args(extra);
    run(cmd)
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("run s3cors");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const HEAD: &str = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n";

/// One bucket `bk1` whose rules are the given flow-style rule mappings, one a line
/// from line 5.
fn rules(bodies: &[&str]) -> String {
    let mut text = HEAD.to_string();
    for body in bodies {
        text.push_str(&format!("      - {body}\n"));
    }
    text
}

const OK_RULE: &str = "{AllowedOrigins: [https://a.com], AllowedMethods: [GET]}";

/// One error class: the files, the code expected, the places (`file:line:col`) and
/// other text the output must show.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    code: &'static str,
    shows: Vec<String>,
}

fn case(name: &'static str, text: String, code: &'static str, shows: &[&str]) -> Case {
    Case {
        name,
        files: vec![("p.yaml", text)],
        code,
        shows: shows.iter().map(|s| s.to_string()).collect(),
    }
}

fn error_classes() -> Vec<Case> {
    let many: Vec<String> = (0..101)
        .map(|i| format!("{{AllowedOrigins: ['https://{i}.example.com'], AllowedMethods: [GET]}}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let origins: Vec<String> = (0..3000)
        .map(|i| format!("https://host{i}.example.com"))
        .collect();
    let big = format!(
        "{{AllowedOrigins: [{}], AllowedMethods: [GET]}}",
        origins.join(", ")
    );
    let long_id = format!(
        "{{ID: {}, AllowedOrigins: [a], AllowedMethods: [GET]}}",
        "x".repeat(256)
    );
    let ruleset = "version: 1\nrulesets:\n  public-read:\n    - {AllowedOrigins: ['*'], AllowedMethods: [GET]}\n";
    let two_buckets = "version: 1\nbuckets:\n  - name: shared-bucket\n    rules: []\n";
    vec![
        case(
            "rule without AllowedOrigins",
            rules(&["{AllowedMethods: [GET]}"]),
            "missing-allowed-origins",
            &["p.yaml:5:9", "AllowedOrigins"],
        ),
        case(
            "rule without AllowedMethods",
            rules(&["{AllowedOrigins: ['*']}"]),
            "missing-allowed-methods",
            &["p.yaml:5:9", "AllowedMethods"],
        ),
        case(
            "more than 100 rules",
            rules(&many),
            "too-many-rules",
            &["p.yaml:5:7", "101 rules"],
        ),
        case(
            "config over 64 KiB as XML",
            rules(&[&big]),
            "config-too-large",
            &["p.yaml:5:7", "65536"],
        ),
        case(
            "ID over 255 characters",
            rules(&[&long_id]),
            "id-too-long",
            &["p.yaml:5:14", "256 characters"],
        ),
        case(
            "MaxAgeSeconds below 32 bits",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: -2147483649}"]),
            "invalid-max-age",
            &["p.yaml:5:69", "below -2147483648"],
        ),
        case(
            "MaxAgeSeconds not an integer",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 1.5}"]),
            "invalid-max-age",
            &["p.yaml:5:69", "whole number"],
        ),
        case(
            "method `get`",
            rules(&["{AllowedOrigins: ['*'], AllowedMethods: [get]}"]),
            "unsupported-method",
            &["p.yaml:5:50", "write `GET`"],
        ),
        case(
            "method PATCH",
            rules(&["{AllowedOrigins: ['*'], AllowedMethods: [PATCH]}"]),
            "unsupported-method",
            &["p.yaml:5:50", "PATCH"],
        ),
        case(
            "two `*` in an AllowedOrigin",
            rules(&["{AllowedOrigins: ['https://*.*.com'], AllowedMethods: [GET]}"]),
            "multiple-wildcards",
            &["p.yaml:5:27"],
        ),
        case(
            "two `*` in an AllowedHeader",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['x-*-*']}"]),
            "multiple-wildcards",
            &["p.yaml:5:71"],
        ),
        case(
            "two header names in one AllowedHeader",
            rules(&[
                "{AllowedOrigins: [a], AllowedMethods: [PUT], AllowedHeaders: ['Content-Type, X-Amz-Date']}",
            ]),
            "invalid-header-name",
            &[
                "p.yaml:5:71",
                "AllowedHeader `Content-Type, X-Amz-Date` contains `,`",
                "contains invalid character.",
                "list each header as an item of its own",
            ],
        ),
        case(
            "a space in an ExposeHeader",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: [ETag, 'x amz']}"]),
            "invalid-header-name",
            &["p.yaml:5:76", "ExposeHeader `x amz` contains a space", "remove a space"],
        ),
        case(
            "`*` in an ExposeHeader",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: ['*']}"]),
            "wildcard-expose-header",
            &["p.yaml:5:70"],
        ),
        Case {
            name: "unknown ruleset, with a suggestion",
            files: vec![
                ("a.yaml", ruleset.to_string()),
                (
                    "b.yaml",
                    "version: 1\nbuckets:\n  - name: bk1\n    rules: [{ruleset: public-reed}]\n"
                        .to_string(),
                ),
            ],
            code: "unknown-ruleset",
            shows: vec!["b.yaml:4:23".into(), "did you mean `public-read`?".into()],
        },
        Case {
            name: "duplicate ruleset name across files",
            files: vec![
                ("a.yaml", ruleset.to_string()),
                ("b.yaml", ruleset.to_string()),
            ],
            code: "duplicate-ruleset",
            shows: vec!["b.yaml:3:3".into(), "a.yaml:3:3".into()],
        },
        Case {
            name: "two exact entries for one bucket name both places",
            files: vec![
                ("a.yaml", two_buckets.to_string()),
                ("b.yaml", two_buckets.to_string()),
            ],
            code: "duplicate-bucket",
            shows: vec![
                "b.yaml:3:11".into(),
                "a.yaml:3:11".into(),
                "first declared here".into(),
            ],
        },
        case(
            "two `match` entries that surely select the same buckets",
            format!(
                "version: 1\nbuckets:\n  - match: 'app-*'\n    rules: [{OK_RULE}]\n  - match: 'app-web-*'\n    rules: [{OK_RULE}]\n"
            ),
            "overlapping-match",
            &["p.yaml:5:12", "p.yaml:3:12"],
        ),
        case(
            "bad glob",
            "version: 1\nbuckets:\n  - match: 'app-[*'\n    rules: []\n".into(),
            "invalid-glob",
            &["p.yaml:3:12"],
        ),
        case(
            "YAML syntax error",
            "version: 1\nbuckets: [\n  - name: x\n".into(),
            "yaml-syntax",
            &["p.yaml:3:3"],
        ),
        case(
            "duplicate key",
            rules(&["{AllowedOrigins: [a], AllowedMethods: [GET], AllowedMethods: [PUT]}"]),
            "duplicate-key",
            &["p.yaml:5:54", "p.yaml:5:31", "first given here"],
        ),
        case(
            "wrong type",
            rules(&["{AllowedOrigins: a, AllowedMethods: [GET]}"]),
            "wrong-type",
            &["p.yaml:5:26", "write it as a list"],
        ),
        case(
            "unknown key with a suggestion",
            rules(&["{AllowedOrigin: [a], AllowedMethods: [GET]}"]),
            "unknown-key",
            &["p.yaml:5:10", "did you mean `AllowedOrigins`?"],
        ),
        case(
            "unsupported version",
            "version: 2\nbuckets: []\n".into(),
            "unsupported-version",
            &["p.yaml:1:10"],
        ),
        case(
            "guardrail violation",
            "version: 1\nguardrails:\n  - id: https-only\n    require: {origin_scheme: https}\nbuckets:\n  - name: bk1\n    rules: [{AllowedOrigins: ['http://a.com'], AllowedMethods: [GET]}]\n".into(),
            "guardrail-violation",
            &["p.yaml:7:31", "p.yaml:3:9", "guardrail `https-only`"],
        ),
    ]
}

#[test]
fn every_error_class_exits_1_with_its_place() {
    let mut failures = Vec::new();
    for c in error_classes() {
        let files: Vec<(&str, &str)> = c.files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let r = validate(&files, &[]);
        let out = r.all();
        let mut missing: Vec<String> = c
            .shows
            .iter()
            .filter(|s| !out.contains(s.as_str()))
            .cloned()
            .collect();
        let tag = format!("error[{}]", c.code);
        if !out.contains(&tag) {
            missing.push(tag);
        }
        if r.code != Some(1) || !missing.is_empty() {
            failures.push(format!(
                "--- {}: exit {:?}, missing {missing:?}\n{out}",
                c.name, r.code
            ));
        }
        // The JSON report carries the same place as line and column.
        let j = validate(&files, &["--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&j.stdout).unwrap_or_else(|e| {
            panic!("{}: json output does not parse: {e}\n{}", c.name, j.stdout)
        });
        let first = &report["diagnostics"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["code"] == c.code))
            .cloned()
            .unwrap_or_default();
        let place = format!(
            "{}:{}:{}",
            first["file"].as_str().unwrap_or("?"),
            first["line"],
            first["column"]
        );
        if j.code != Some(1) || !c.shows.iter().any(|s| s.starts_with(&place)) {
            failures.push(format!(
                "--- {} (json): exit {:?}, first place {place}, wanted one of {:?}",
                c.name, j.code, c.shows
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn match_globs_that_only_partly_overlap_pass_validate() {
    // Whether `app-*` and `*-prod` conflict depends on which buckets exist: a bucket
    // named `app-prod` makes `plan` fail, naming both entries; `validate` cannot know.
    let text = format!(
        "version: 1\nbuckets:\n  - match: 'app-*'\n    rules: [{OK_RULE}]\n  - match: '*-prod'\n    rules: [{OK_RULE}]\n"
    );
    let r = validate(&[("p.yaml", &text)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    // Tags that differ keep even identical globs apart.
    let text = format!(
        "version: 1\nbuckets:\n  - match: 'app-*'\n    tags: {{team: a}}\n    rules: [{OK_RULE}]\n  - match: 'app-*'\n    tags: {{team: b}}\n    rules: [{OK_RULE}]\n"
    );
    let r = validate(&[("p.yaml", &text)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let text = rules(&[
        "{AllowedOrigins: [a], AllowedMethods: [get]}",
        "{AllowedOrigins: ['**'], AllowedMethods: [GET]}",
        "{AllowedMethods: [GET], ExposeHeaders: ['*']}",
    ]);
    let other = "version: 1\nbuckets:\n  - name: x\n    rules: []\n";
    let r = validate(&[("p.yaml", &text), ("q.yaml", other)], &[]);
    assert_eq!(r.code, Some(1));
    for place in [
        "p.yaml:5:48",
        "p.yaml:6:27",
        "p.yaml:7:9",
        "p.yaml:7:49",
        "q.yaml:3:11",
    ] {
        assert!(r.stdout.contains(place), "missing {place}:\n{}", r.stdout);
    }
    assert!(
        r.stdout
            .ends_with("5 errors, 0 warnings in 2 policy files.\n"),
        "{}",
        r.stdout
    );
    // And exactly three for a file with three errors.
    let three = rules(&[
        "{AllowedOrigins: [a], AllowedMethods: [PATCH]}",
        "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 1.5}",
        "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: ['x-*']}",
    ]);
    let r = validate(&[("p.yaml", &three)], &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(report["summary"]["errors"], 3, "{}", r.stdout);
    assert_eq!(report["diagnostics"].as_array().map(Vec::len), Some(3));
}

#[test]
fn hostile_inputs_fail_cleanly_naming_the_file() {
    let dir = TempDir::new().expect("tempdir");
    let write =
        |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).expect("write");
    write("empty.yaml", b"");
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80)
        .collect();
    write("garbage.yaml", &garbage);
    // 50 MB, written in chunks so the test itself stays small in memory.
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(dir.path().join("huge.yaml")).expect("create"),
        );
        f.write_all(b"version: 1\nbuckets:\n").expect("write");
        let entry = b"  - name: bucket-name-that-is-long\n    rules: []\n";
        for _ in 0..(50 * 1024 * 1024 / entry.len() + 1) {
            f.write_all(entry).expect("write");
        }
    }
    write("deep.yaml", "[".repeat(100_000).as_bytes());
    let deep_block: String = (0..1_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    write("deep-block.yaml", deep_block.as_bytes());
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for n in 'b'..='j' {
        laughs.push_str(&format!(
            "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = n;
    }
    write("laughs.yaml", laughs.as_bytes());
    write("nul.yaml", b"version: 1\nbuckets: []\0\n");
    let cases = [
        ("empty.yaml", "empty-file", "empty.yaml:1:1"),
        ("garbage.yaml", "not-utf8", "garbage.yaml is not UTF-8 text"),
        ("huge.yaml", "file-too-large", "huge.yaml is over 16 MiB"),
        ("deep.yaml", "yaml-", "deep.yaml:1:"),
        ("deep-block.yaml", "yaml-", "deep-block.yaml:"),
        ("laughs.yaml", "yaml-too-complex", "laughs.yaml:"),
        (
            "nul.yaml",
            "not-utf8",
            "nul.yaml is not UTF-8 text: it holds a NUL byte",
        ),
    ];
    let mut failures = Vec::new();
    for (file, code, shows) in cases {
        let mut cmd = s3cors(dir.path());
        cmd.args(["validate", file]);
        let r = run(cmd);
        let out = r.all();
        let tagged = out.contains(&format!("error[{code}"));
        if r.code != Some(1) || !tagged || !out.contains(shows) || out.contains("panicked") {
            failures.push(format!(
                "--- {file}: exit {:?}, wanted {code} and {shows:?}\n{:.2000}",
                r.code, out
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Two symlinks to `.` inside the policy folder once made the walk visit 2^depth
/// paths; now a directory is listed once, whatever the links.
#[cfg(unix)]
#[test]
fn symlink_loops_are_walked_once() {
    let dir = TempDir::new().expect("tempdir");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(policies.join("team")).expect("mkdir");
    std::fs::write(policies.join("a.yaml"), rules(&[OK_RULE])).expect("write");
    std::fs::write(
        policies.join("team/b.yaml"),
        "version: 1\nbuckets:\n  - name: bk2\n    rules: []\n",
    )
    .expect("write");
    for (link, to) in [
        ("policies/loop1", "."),
        ("policies/loop2", "."),
        ("policies/team/up", ".."),
    ] {
        std::os::unix::fs::symlink(to, dir.path().join(link)).expect("symlink");
    }
    let start = std::time::Instant::now();
    let mut cmd = s3cors(dir.path());
    cmd.args(["validate", "policies"]);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("2 policy files valid."), "{}", r.all());
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

/// A FIFO named like a policy is refused from its metadata: opening it would wait
/// for a writer forever.
#[cfg(unix)]
#[test]
fn fifos_are_refused_without_opening_them() {
    let dir = TempDir::new().expect("tempdir");
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(dir.path().join("policies/a.yaml"), rules(&[OK_RULE])).expect("write");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("policies/x.yaml"))
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    for target in ["policies", "policies/x.yaml"] {
        let mut cmd = s3cors(dir.path());
        cmd.args(["validate", target]);
        let r = run(cmd);
        let out = r.all();
        assert_eq!(r.code, Some(1), "{target}: {out}");
        assert!(out.contains("error[not-a-file]"), "{target}: {out}");
        assert!(
            out.contains("policies/x.yaml is not a regular file"),
            "{target}: {out}"
        );
    }
}

/// A UTF-8 byte order mark is not content: the file validates, and places in it
/// are counted from after the mark.
#[test]
fn a_byte_order_mark_is_accepted() {
    let ok = format!("\u{feff}{}", rules(&[OK_RULE]));
    let r = validate(&[("bom.yaml", &ok)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("1 policy file valid."), "{}", r.all());
    let bad = format!(
        "\u{feff}{}",
        rules(&["{AllowedOrigins: [a], AllowedMethods: [GETT]}"])
    );
    let r = validate(&[("bom.yaml", &bad)], &[]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.all().contains("bom.yaml:5:48"), "{}", r.all());
}

/// Control characters in policy values (YAML's `\e`, `\a`, `\r` escapes) and in
/// file names are shown as escapes, never sent to the terminal raw.
#[test]
fn control_characters_in_values_are_shown_escaped() {
    let text = rules(&[
        "{AllowedOrigins: [\"http://evil.example\\e]0;pwned\\a\\r\"], AllowedMethods: [GETT\\e[2J]}",
    ]);
    let text = text.replace("[GETT\\e[2J]", "[\"GET\\e[2J\"]");
    for format in ["human", "markdown"] {
        let r = validate(&[("p.yaml", &text)], &["--format", format]);
        let out = r.all();
        assert_eq!(r.code, Some(1), "{out}");
        assert!(!out.contains(['\x1b', '\x07', '\r']), "{format}: {out:?}");
        assert!(out.contains("GET\\u{1b}[2J"), "{format}: {out}");
    }
}

/// A `region:` that is no AWS region is a warning with a suggestion, not an error.
#[test]
fn unknown_regions_warn_with_a_suggestion() {
    let text = "version: 1\nbuckets:\n  - name: bk1\n    region: eu-wset-1\n    rules: []\n";
    let r = validate(&[("p.yaml", text)], &[]);
    let out = r.all();
    assert_eq!(r.code, Some(0), "{out}");
    assert!(out.contains("warning[unknown-region]"), "{out}");
    assert!(out.contains("p.yaml:4:13"), "{out}");
    assert!(out.contains("did you mean `eu-west-1`?"), "{out}");
    let r = validate(&[("p.yaml", text)], &["--deny-warnings"]);
    assert_eq!(r.code, Some(1), "{}", r.all());
}

#[test]
fn deny_warnings_fails_on_a_warning_only_file() {
    let text =
        rules(&["{AllowedOrigins: [https://a.com], AllowedMethods: [GET], MaxAgeSeconds: 86400}"]);
    let plain = validate(&[("p.yaml", &text)], &[]);
    assert_eq!(plain.code, Some(0), "{}", plain.all());
    assert!(
        plain.stdout.contains("warning[max-age-over-browser-cap]"),
        "{}",
        plain.stdout
    );
    assert!(plain.stdout.contains("p.yaml:5:81"), "{}", plain.stdout);
    assert!(
        plain
            .stdout
            .ends_with("0 errors, 1 warning in 1 policy file.\n"),
        "{}",
        plain.stdout
    );
    let denied = validate(&[("p.yaml", &text)], &["--deny-warnings"]);
    assert_eq!(denied.code, Some(1), "{}", denied.all());
    // A clean file passes either way.
    let clean = rules(&[OK_RULE]);
    let r = validate(&[("p.yaml", &clean)], &["--deny-warnings"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(r.stdout, "1 policy file valid.\n");
}

/// What S3 accepts loads: empty origins and header names and a negative
/// MaxAgeSeconds are warnings at their place, never errors.
#[test]
fn what_s3_accepts_is_a_warning_not_an_error() {
    let text = rules(&[
        "{AllowedOrigins: ['', https://a.com], AllowedMethods: [GET], AllowedHeaders: [''], ExposeHeaders: ['']}",
        "{AllowedOrigins: [https://b.com], AllowedMethods: [GET], MaxAgeSeconds: -1}",
    ]);
    let r = validate(&[("p.yaml", &text)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    for shows in [
        "warning[origin-never-matches]",
        "p.yaml:5:27",
        "origin \"\" never matches: it is empty",
        "warning[empty-header-name]",
        "p.yaml:5:87",
        "p.yaml:5:108",
        "warning[negative-max-age]",
        "p.yaml:6:81",
        "S3 is not known to reject it",
        "0 errors, 4 warnings in 1 policy file.",
    ] {
        assert!(r.stdout.contains(shows), "missing {shows:?}:\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("error["), "{}", r.stdout);
}

#[test]
fn json_report_has_the_documented_shape() {
    let text = "version: 1\nguardrails:\n  - id: https-only\n    require: {origin_scheme: https}\nbuckets:\n  - name: bk1\n    rules: [{AllowedOrigins: ['http://a.com'], AllowedMethods: [GET], MaxAgeSeconds: 9000}]\n";
    let r = validate(&[("p.yaml", text)], &["--format", "json"]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json output parses");
    assert_eq!(v["format"], "s3cors-diagnostics");
    assert_eq!(v["format_version"], 1);
    assert_eq!(
        v["summary"],
        serde_json::json!({"files": 1, "errors": 1, "warnings": 2, "suppressed": 0})
    );
    let diags = v["diagnostics"].as_array().expect("diagnostics array");
    for d in diags {
        for key in [
            "code", "severity", "message", "file", "line", "column", "path", "help", "related",
        ] {
            assert!(d.get(key).is_some(), "no `{key}` in {d}");
        }
        assert!(["error", "warning"].contains(&d["severity"].as_str().unwrap_or("")));
        assert!(d["line"].as_u64().is_some_and(|l| l >= 1));
    }
    let violation = diags
        .iter()
        .find(|d| d["code"] == "guardrail-violation")
        .expect("a guardrail violation");
    assert_eq!(violation["severity"], "error");
    assert_eq!(violation["related"][0]["file"], "p.yaml");
    assert_eq!(violation["related"][0]["line"], 3);
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(
        codes,
        [
            "http-origin",
            "guardrail-violation",
            "max-age-over-browser-cap"
        ]
    );
}

#[test]
fn markdown_wraps_the_report_for_a_pull_request() {
    let r = validate(
        &[("p.yaml", &rules(&["{AllowedOrigins: ['*']}"]))],
        &["--format", "markdown"],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout.starts_with("### s3cors validate\n\n```text\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("error[missing-allowed-methods]"));
    assert!(r.stdout.ends_with("```\n"));
}

#[test]
fn shipped_examples_and_policies_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The policy examples: examples/*.yaml (examples/ci and examples/k8s are
    // CI recipes, checked by the `recipes` tests).
    let mut examples: Vec<String> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("examples/{name}"))
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 4, "{examples:?}");
    let mut cmd = s3cors(root);
    cmd.arg("validate").args(&examples);
    cmd.assert()
        .success()
        .stdout(predicate::str::contains("error[").not())
        .stdout(
            predicate::str::ends_with("0 errors, 1 warning, 1 suppressed in 4 policy files.\n")
                .or(predicate::str::contains("valid.")),
        );
    // Without paths: the default `policies/`.
    s3cors(root).arg("validate").assert().success();
    s3cors(root)
        .args(["validate", "policies", "--deny-warnings"])
        .assert()
        .success();
}

#[test]
fn missing_paths_are_errors() {
    let dir = TempDir::new().expect("tempdir");
    let mut cmd = s3cors(dir.path());
    cmd.args(["validate", "nope/"]);
    cmd.assert()
        .code(1)
        .stdout(predicate::str::contains("error[io-error]").and(predicate::str::contains("nope/")));
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let mut cmd = s3cors(dir.path());
    cmd.args(["validate", "empty"]);
    cmd.assert()
        .code(1)
        .stdout(predicate::str::contains("error[no-policy-files]"));
}

/// `apply POLICIES` (a common slip for `apply --policies POLICIES`) says what to run,
/// before any S3 call, instead of trying to read a folder as a plan.
#[test]
fn apply_given_policies_instead_of_a_plan_says_what_to_run() {
    let dir = TempDir::new().expect("tempdir");
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(dir.path().join("one.yaml"), HEAD).expect("write");
    for arg in ["policies", "one.yaml"] {
        let mut cmd = s3cors(dir.path());
        cmd.args(["apply", arg, "--auto-approve"]);
        cmd.assert().code(1).stderr(
            predicate::str::contains(format!("{arg} is policies, not a saved plan")).and(
                predicate::str::contains(format!("s3cors apply --policies {arg}")),
            ),
        );
    }
}

/// Makes output that names the temporary directory stable.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/[^\s:]+/", "[TMP]/");
    s
}

#[test]
fn diagnostics_snapshots() {
    let guardrails = "version: 1\nguardrails:\n  - id: no-public-writes\n    description: Write methods must never be open to every origin\n    forbid: {origins: ['*'], methods: [PUT, POST, DELETE]}\n";
    let text = "\
version: 1
rulesets:
  uploads:
    - ID: uploads
      AllowedOrigins: ['*']
      AllowedMethods: [PUT, POST]
      AllowedHeaders: [Content-Type]
      ExposeHeaders: [ETag]
buckets:
  - name: app-assets
    rules:
      - AllowedOrigins: [https://app.example.com/]
        AllowedMethods: [GET, get]
        MaxAgeSeconds: 86400
  - name: app-uploads
    rules:
      - ruleset: uploads
  - name: app-admin
    rules:
      - AllowedOrigin: [https://admin.example.com]
        AllowedMethods: [GET, PATCH]
        MaxAgeSeconds: 1h
        MaxAgeSeconds: 60
";
    let files = [("guardrails.yaml", guardrails), ("web.yaml", text)];
    let human = validate(&files, &[]);
    assert_eq!(human.code, Some(1));
    let json = validate(&files, &["--format", "json"]);
    // Fixing the method shows the warnings and the guardrail, which run on valid policies.
    let fixed = text
        .replace("[GET, get]", "[GET]")
        .split("  - name: app-admin")
        .next()
        .unwrap_or_default()
        .to_string();
    let files = [
        ("guardrails.yaml", guardrails),
        ("web.yaml", fixed.as_str()),
    ];
    let checked = validate(&files, &[]);
    assert_eq!(checked.code, Some(1));
    settings().bind(|| {
        insta::assert_snapshot!("validate_human_errors", human.stdout);
        insta::assert_snapshot!("validate_json_errors", json.stdout);
        insta::assert_snapshot!("validate_human_lints_and_guardrails", checked.stdout);
    });
}

#[test]
fn help_snapshots() {
    let dir = TempDir::new().expect("tempdir");
    let mut top = s3cors(dir.path());
    top.arg("--help");
    let r = run(top);
    assert_eq!(r.code, Some(0));
    settings().bind(|| insta::assert_snapshot!("help", r.stdout));
    let names: Vec<String> = s3cors::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let mut cmd = s3cors(dir.path());
        cmd.args([name.as_str(), "--help"]);
        let r = run(cmd);
        assert_eq!(r.code, Some(0), "{name} --help: {}", r.all());
        settings().bind(|| insta::assert_snapshot!(format!("help_{name}"), r.stdout));
    }
}

/// A policy with one finding of `max-age-over-browser-cap` allowed on the bucket
/// entry (with a reason), one of `http-origin` allowed on a single rule, and one
/// `http-origin` left on another rule.
const SUPPRESSING: &str = "\
version: 1
buckets:
  - name: bk1
    allow:
      - {code: max-age-over-browser-cap, reason: \"the CDN caches preflights for a day\"}
    rules:
      - AllowedOrigins: [http://legacy.example.com]
        AllowedMethods: [GET]
        MaxAgeSeconds: 86400
        allow: [http-origin]
      - AllowedOrigins: [http://other.example.com]
        AllowedMethods: [GET]
";

#[test]
fn allow_on_an_entry_and_on_a_rule_suppresses_and_counts() {
    let r = validate(&[("p.yaml", SUPPRESSING)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    // The one left is shown; the two suppressed are not, but counted.
    assert!(r.stdout.contains("warning[http-origin]"), "{}", r.all());
    assert!(r.stdout.contains("p.yaml:11:26"), "{}", r.all());
    assert!(
        !r.stdout.contains("max-age-over-browser-cap"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("p.yaml:7:26"), "{}", r.all());
    assert!(
        r.stdout
            .ends_with("0 errors, 1 warning, 2 suppressed in 1 policy file.\n"),
        "{}",
        r.all()
    );
    // Suppressed findings fail nothing, even under --deny-warnings once the last
    // warning is allowed too.
    let all_allowed = SUPPRESSING.replace(
        "      - AllowedOrigins: [http://other.example.com]\n        AllowedMethods: [GET]\n",
        "      - AllowedOrigins: [http://other.example.com]\n        AllowedMethods: [GET]\n        allow: [http-origin]\n",
    );
    let r = validate(&[("p.yaml", &all_allowed)], &["--deny-warnings"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(r.stdout, "1 policy file valid, 3 suppressed.\n");
    let r = validate(&[("p.yaml", SUPPRESSING)], &["--deny-warnings"]);
    assert_eq!(r.code, Some(1), "{}", r.all());
}

#[test]
fn verbose_lists_suppressed_findings_with_their_reasons() {
    let r = validate(&[("p.yaml", SUPPRESSING)], &["-v"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let listed: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| *l != "suppressed:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(listed.len(), 2, "{}", r.stdout);
    assert!(
        listed[0].starts_with("  p.yaml:7:26: warning[http-origin]: bucket `bk1`:")
            && listed[0].ends_with("(allowed at p.yaml:10:17)"),
        "{listed:#?}"
    );
    assert!(
        listed[1].starts_with("  p.yaml:9:24: warning[max-age-over-browser-cap]: bucket `bk1`:")
            && listed[1].ends_with("(allowed at p.yaml:5:16: the CDN caches preflights for a day)"),
        "{listed:#?}"
    );
    // JSON counts them and marks each with its reason and place.
    let r = validate(&[("p.yaml", SUPPRESSING)], &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(
        v["summary"],
        serde_json::json!({"files": 1, "errors": 0, "warnings": 1, "suppressed": 2})
    );
    let suppressed: Vec<&serde_json::Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d.get("suppressed"))
        .collect();
    assert_eq!(
        suppressed,
        [
            &serde_json::json!({"reason": null, "file": "p.yaml", "line": 10, "column": 17}),
            &serde_json::json!({"reason": "the CDN caches preflights for a day", "file": "p.yaml", "line": 5, "column": 16}),
        ]
    );
}

#[test]
fn lint_levels_deny_fails_and_allow_silences_across_files() {
    let levels = "version: 1\nlints:\n  http-origin: deny\n  max-age-over-browser-cap: allow\n";
    let r = validate(&[("levels.yaml", levels), ("p.yaml", SUPPRESSING)], &[]);
    // The rule-level allow still holds; the other http-origin is now an error.
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stdout.contains("error[http-origin]"), "{}", r.all());
    assert!(
        r.stdout.contains("`http-origin: deny` makes it an error"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .ends_with("1 error, 0 warnings, 2 suppressed in 2 policy files.\n"),
        "{}",
        r.all()
    );
    // Two files disagreeing on a level: an error naming both places.
    let other = "version: 1\nlints: {http-origin: warn}\n";
    let r = validate(&[("a.yaml", levels), ("b.yaml", other)], &[]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.stdout.contains("error[conflicting-lint-level]"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("b.yaml:2:22"), "{}", r.all());
    assert!(r.stdout.contains("a.yaml:3:16"), "{}", r.all());
    // Unknown codes, and codes that are not lints, with file:line and the fix.
    let bad = "version: 1\nlints: {http-orign: allow}\nbuckets:\n  - name: bk1\n    allow: [guardrail-violation]\n    rules: []\n";
    let r = validate(&[("bad.yaml", bad)], &[]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stdout.contains("bad.yaml:2:9"), "{}", r.all());
    assert!(
        r.stdout.contains("did you mean `http-origin`?"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("bad.yaml:5:13"), "{}", r.all());
    assert!(
        r.stdout
            .contains("guardrail violations cannot be allowed or suppressed"),
        "{}",
        r.all()
    );
}

/// Many findings of one lint: the first 3 shown, then one "and N more like this"
/// line; the summary counts them all; `-v` shows every one.
#[test]
fn repeated_findings_of_one_lint_are_collapsed() {
    let mut text = String::from("version: 1\nbuckets:\n");
    for i in 0..43 {
        text.push_str(&format!(
            "  - name: bk-{i:02}\n    rules: [{{AllowedOrigins: [http://a{i}.example.com], AllowedMethods: [GET]}}]\n"
        ));
    }
    let r = validate(&[("p.yaml", &text)], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let shown = r.stdout.matches("warning[http-origin]: bucket").count();
    assert_eq!(shown, 3, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("warning[http-origin]: and 40 more like this (`-v` lists every one)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("0 errors, 43 warnings in 1 policy file.\n"),
        "{}",
        r.stdout
    );
    let all = validate(&[("p.yaml", &text)], &["-v"]);
    assert_eq!(
        all.stdout.matches("warning[http-origin]: bucket").count(),
        43
    );
    assert!(!all.stdout.contains("more like this"), "{}", all.stdout);
}
