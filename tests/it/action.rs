//! The GitHub Action (action.yml and scripts/action/), offline:
//! - action.yml's structure, which actionlint does not check (it checks the
//!   workflows that use it): the keys GitHub requires, a composite action whose
//!   `run` steps name a shell, every `inputs.X` used declared and every input
//!   used, every `steps.ID` named existing, every output written by its script,
//!   every `INPUT_*` the script reads set by action.yml;
//! - scripts/action/comment.py against a local stand-in of GitHub's REST
//!   issue-comment endpoints (tests/data/github_api.py): one comment per marker,
//!   created once then edited in place, found through every page, and comments
//!   without the marker never touched.
//!
//! tests/it/action_run.rs runs scripts/action/run.sh with the real binary against
//! moto; tests/it/recipes.rs checks the command lines the examples' action steps
//! make.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value as Json, json};
use serde_yaml::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

/// The names after `prefix` (e.g. `inputs.`) inside every `${{ ... }}` of `text`.
fn references(text: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let expr = &rest[start + 3..start + len];
        let mut e = expr;
        while let Some(i) = e.find(prefix) {
            let before_ok = i == 0
                || !e[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
            let name: String = e[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if before_ok && !name.is_empty() {
                found.push(name.clone());
            }
            e = &e[i + prefix.len()..];
        }
        rest = &rest[start + len + 2..];
    }
    found
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Mapping(m) => m.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        Value::Tagged(t) => strings(&t.value, out),
        _ => {}
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn action_metadata_is_complete_and_consistent() {
    let action = action();
    let mut problems = Vec::new();
    for key in ["name", "description", "inputs", "outputs", "runs"] {
        if action.get(key).is_none() {
            problems.push(format!("action.yml has no `{key}`"));
        }
    }
    let known: BTreeSet<&str> = [
        "name",
        "description",
        "author",
        "branding",
        "inputs",
        "outputs",
        "runs",
    ]
    .into();
    for key in keys(&action) {
        if !known.contains(key.as_str()) {
            problems.push(format!(
                "action.yml: `{key}` is not a key of action metadata"
            ));
        }
    }
    let inputs = keys(&action["inputs"]);
    for name in &inputs {
        let input = &action["inputs"][name.as_str()];
        if input["description"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("input `{name}` has no description"));
        }
        for key in keys(input) {
            if !["description", "required", "default", "deprecationMessage"].contains(&key.as_str())
            {
                problems.push(format!("input `{name}`: unknown key `{key}`"));
            }
        }
    }
    let runs = &action["runs"];
    if runs["using"].as_str() != Some("composite") {
        problems.push(format!("runs.using is {:?}, not composite", runs["using"]));
    }
    let steps = runs["steps"].as_sequence().cloned().unwrap_or_default();
    if steps.is_empty() {
        problems.push("runs.steps is empty".to_owned());
    }
    let mut ids = BTreeSet::new();
    let mut everything = Vec::new();
    strings(&action["outputs"], &mut everything);
    for (i, step) in steps.iter().enumerate() {
        let label = step["name"].as_str().unwrap_or("?").to_owned();
        let has_run = step.get("run").is_some();
        let has_uses = step.get("uses").is_some();
        if has_run == has_uses {
            problems.push(format!(
                "step {i} ({label}) needs exactly one of `run` and `uses`"
            ));
        }
        if has_run && step["shell"].as_str().is_none_or(str::is_empty) {
            problems.push(format!(
                "step {i} ({label}): a composite action's `run` step needs `shell`"
            ));
        }
        if let Some(id) = step["id"].as_str()
            && !ids.insert(id.to_owned())
        {
            problems.push(format!("step id `{id}` is used twice"));
        }
        // A step may name only the steps before it.
        let mut texts = Vec::new();
        strings(step, &mut texts);
        for text in &texts {
            for id in references(text, "steps.") {
                if !ids.contains(&id) || step["id"].as_str() == Some(id.as_str()) {
                    problems.push(format!(
                        "step {i} ({label}) names `steps.{id}`, not a step before it"
                    ));
                }
            }
        }
        everything.extend(texts);
    }
    // Outputs name existing steps.
    let mut output_texts = Vec::new();
    strings(&action["outputs"], &mut output_texts);
    for id in output_texts.iter().flat_map(|t| references(t, "steps.")) {
        if !ids.contains(&id) {
            problems.push(format!("an output names `steps.{id}`, which is no step"));
        }
    }
    // Every input used is declared, and every declared input is used.
    let used: BTreeSet<String> = everything
        .iter()
        .flat_map(|t| references(t, "inputs."))
        .collect();
    for name in used.difference(&inputs) {
        problems.push(format!("`inputs.{name}` is used but not declared"));
    }
    for name in inputs.difference(&used) {
        problems.push(format!("input `{name}` is declared but never used"));
    }
    // Every output is written by the step it reads.
    let run_sh = std::fs::read_to_string(root().join("scripts/action/run.sh")).expect("run.sh");
    let comment_py =
        std::fs::read_to_string(root().join("scripts/action/comment.py")).expect("comment.py");
    for (name, output) in action["outputs"].as_mapping().into_iter().flatten() {
        let name = name.as_str().unwrap_or("?");
        let value = output["value"].as_str().unwrap_or("");
        if output["description"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("output `{name}` has no description"));
        }
        let Some(rest) = value
            .strip_prefix("${{ steps.")
            .and_then(|v| v.strip_suffix(" }}"))
        else {
            problems.push(format!(
                "output `{name}`: value {value:?} is not a step output"
            ));
            continue;
        };
        let (step, out) = rest.split_once(".outputs.").unwrap_or((rest, ""));
        let written = match step {
            "run" | "prepare" => run_sh.contains(&format!("output {out} ")),
            "comment" => comment_py.contains(&format!("{out}=")),
            _ => false,
        };
        if !written {
            problems.push(format!(
                "output `{name}`: step `{step}`'s script never writes `{out}`"
            ));
        }
    }
    // Every INPUT_* the script reads is set by a step's env.
    let mut set = BTreeSet::new();
    for step in &steps {
        set.extend(keys(&step["env"]));
    }
    let mut rest = run_sh.as_str();
    while let Some(i) = rest.find("INPUT_") {
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if name.len() > "INPUT_".len() && !set.contains(&name) {
            problems.push(format!(
                "run.sh reads {name}, which no step of action.yml sets"
            ));
        }
        rest = &rest[i + name.len()..];
    }
    // The scripts the steps run exist.
    for text in &everything {
        if let Some(i) = text.find("$GITHUB_ACTION_PATH/") {
            let path: String = text[i + "$GITHUB_ACTION_PATH/".len()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"')
                .collect();
            if !root().join(&path).is_file() {
                problems.push(format!("a step runs {path}, which does not exist"));
            }
        }
    }
    assert!(problems.is_empty(), "action.yml:\n{}", problems.join("\n"));
    assert!(ids.contains("run") && steps.len() >= 4, "{ids:?}");
}

#[test]
fn references_reads_expressions_only() {
    assert_eq!(
        references(
            "inputs.a ${{ inputs.b != '' && inputs.c-d || github.inputs.x }} ${{ steps.run.outputs.y }}",
            "inputs."
        ),
        ["b", "c-d"]
    );
    assert_eq!(references("${{ steps.run.outputs.y }}", "steps."), ["run"]);
}

/// The stand-in GitHub API (tests/data/github_api.py), its state in a file.
struct GitHubApi {
    child: Child,
    url: String,
    state: PathBuf,
    _dir: tempfile::TempDir,
}

const TOKEN: &str = "test-token";

impl GitHubApi {
    fn start(comments: Json, page_size: usize) -> GitHubApi {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state.json");
        std::fs::write(&state, json!({ "comments": comments }).to_string()).expect("state");
        let mut child = Command::new("python3")
            .arg(root().join("tests/data/github_api.py"))
            .arg(&state)
            .arg(TOKEN)
            .arg(page_size.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs tests/data/github_api.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in prints its address");
        assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
        GitHubApi {
            child,
            url: line.trim().to_owned(),
            state,
            _dir: dir,
        }
    }

    fn state(&self) -> Json {
        serde_json::from_str(&std::fs::read_to_string(&self.state).expect("state")).expect("json")
    }

    fn comments(&self) -> Vec<(u64, String)> {
        self.state()["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .map(|c| {
                (
                    c["id"].as_u64().expect("id"),
                    c["body"].as_str().expect("body").to_owned(),
                )
            })
            .collect()
    }

    fn requests(&self) -> Vec<String> {
        self.state()["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| r.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Runs comment.py posting `body` under `marker` on pull request 7 (named
    /// by the event file); (exit code, stdout + stderr, GITHUB_OUTPUT).
    fn comment(&self, body: &str, marker: &str, token: &str) -> (Option<i32>, String, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let body_file = dir.path().join("plan.md");
        std::fs::write(&body_file, body).expect("body");
        let event = dir.path().join("event.json");
        std::fs::write(&event, r#"{"pull_request": {"number": 7}}"#).expect("event");
        let output = dir.path().join("output");
        let out = Command::new("python3")
            .arg(root().join("scripts/action/comment.py"))
            .env("S3CORS_BODY", &body_file)
            .env("S3CORS_MARKER", marker)
            .env("GITHUB_TOKEN", token)
            .env("GITHUB_REPOSITORY", "acme/policies")
            .env("GITHUB_API_URL", &self.url)
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_OUTPUT", &output)
            .env_remove("S3CORS_PR")
            .output()
            .expect("python3 runs comment.py");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status.code(),
            text,
            std::fs::read_to_string(output).unwrap_or_default(),
        )
    }
}

impl Drop for GitHubApi {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn comment(id: u64, issue: u64, body: &str) -> Json {
    json!({"id": id, "issue": issue, "body": body, "repo": "acme/policies"})
}

#[test]
fn one_comment_per_marker_created_then_updated_in_place() {
    // Five comments on pull request 7 (one quoting the marker's words but not the
    // marker), one on another pull request carrying the marker; two per page,
    // so the comment made below is on page 3 when searched for.
    let others = vec![
        comment(1, 7, "LGTM"),
        comment(2, 7, "s3cors:plan looks fine"),
        comment(3, 7, "<!-- s3cors:drift -->\nthe drift report"),
        comment(4, 8, "<!-- s3cors:plan -->\nanother pull request's plan"),
        comment(5, 7, "one more"),
        comment(6, 7, "and another"),
    ];
    let api = GitHubApi::start(Json::Array(others.clone()), 2);

    let (code, text, output) = api.comment("Plan: 1 to update", "s3cors:plan", TOKEN);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("created the comment on pull request #7"),
        "{text}"
    );
    let after_first = api.comments();
    assert_eq!(after_first.len(), others.len() + 1, "{after_first:?}");
    let (new_id, new_body) = after_first.last().cloned().expect("a comment");
    assert_eq!(new_body, "<!-- s3cors:plan -->\nPlan: 1 to update");
    assert!(
        output.contains(&format!(
            "comment-url=https://github.com/acme/policies/pull/7#issuecomment-{new_id}"
        )),
        "{output}"
    );
    assert_eq!(
        api.requests()
            .iter()
            .filter(|r| r.starts_with("GET "))
            .count(),
        3,
        "every page of pull request 7's 5 comments read: {:?}",
        api.requests()
    );

    let (code, text, _) = api.comment("Plan: 2 to update", "s3cors:plan", TOKEN);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("updated the comment on pull request #7"),
        "{text}"
    );
    let after_second = api.comments();
    assert_eq!(after_second.len(), after_first.len(), "no second comment");
    assert_eq!(
        after_second.last(),
        Some(&(new_id, "<!-- s3cors:plan -->\nPlan: 2 to update".to_owned()))
    );
    assert!(
        api.requests().contains(&format!(
            "PATCH /repos/acme/policies/issues/comments/{new_id}"
        )),
        "{:?}",
        api.requests()
    );
    // Every other comment is as it was.
    for (i, c) in others.iter().enumerate() {
        assert_eq!(
            after_second[i],
            (
                c["id"].as_u64().unwrap(),
                c["body"].as_str().unwrap().to_owned()
            )
        );
    }
    assert_eq!(
        api.requests()
            .iter()
            .filter(|r| r.starts_with("POST ") || r.starts_with("PATCH "))
            .count(),
        2
    );

    // Another marker (the action's comment-key) is another comment.
    let (code, text, _) = api.comment("Plan: staging", "s3cors:plan:staging", TOKEN);
    assert_eq!(code, Some(0), "{text}");
    let after_third = api.comments();
    assert_eq!(after_third.len(), after_second.len() + 1);
    assert_eq!(
        after_third[after_second.len() - 1].1,
        "<!-- s3cors:plan -->\nPlan: 2 to update"
    );
}

#[test]
fn comment_failures_are_named() {
    let api = GitHubApi::start(json!([]), 100);
    let (code, text, _) = api.comment("Plan", "s3cors:plan", "wrong-token");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("::error title=s3cors comment::401"), "{text}");
    assert!(api.comments().is_empty());

    // A read-only token (a fork's pull request): a warning with the fix, and the
    // step passes.
    let (code, text, _) = api.comment("Plan", "s3cors:plan", "read-only");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("::warning title=s3cors comment::the token may not comment")
            && text.contains("pull-requests: write"),
        "{text}"
    );
    assert!(api.comments().is_empty());

    // A marker that would end the HTML comment early is refused before any call.
    let requests = api.requests().len();
    let (code, text, _) = api.comment("Plan", "s3cors:--><b>", TOKEN);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("comment marker"), "{text}");
    assert_eq!(api.requests().len(), requests);
}

#[test]
fn no_pull_request_no_comment() {
    let api = GitHubApi::start(json!([]), 100);
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("b.md");
    std::fs::write(&body, "x").expect("body");
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"schedule": "17 6 * * *"}"#).expect("event");
    let out = Command::new("python3")
        .arg(root().join("scripts/action/comment.py"))
        .env("S3CORS_BODY", &body)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "acme/policies")
        .env("GITHUB_API_URL", &api.url)
        .env("GITHUB_EVENT_PATH", &event)
        .env_remove("S3CORS_PR")
        .output()
        .expect("python3 runs comment.py");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a pull request"));
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}

/// `run.sh prepare` with `env`; (exit code, outputs, stderr).
fn prepare(env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("output");
    let out = Command::new("bash")
        .arg(root().join("scripts/action/run.sh"))
        .arg("prepare")
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_PATH", dir.path().join("path"))
        .env("RUNNER_TOOL_CACHE", dir.path())
        .env("RUNNER_OS_ARCH", "Linux-X64")
        .env("INPUT_COMMAND", "plan")
        .envs(env.iter().copied())
        .output()
        .expect("bash runs run.sh");
    (
        out.status.code(),
        std::fs::read_to_string(output).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prepare_chooses_the_build_and_its_cache_key() {
    // The action's own source: a key from its digest, installed under the tool cache.
    let (code, out, err) = prepare(&[("INPUT_VERSION", "action")]);
    assert_eq!(code, Some(0), "{err}");
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("cache-key="))
        .expect("cache-key");
    assert!(key.starts_with("s3cors-Linux-X64-source-"), "{key}");
    assert_eq!(key.len(), "s3cors-Linux-X64-source-".len() + 16, "{key}");
    assert!(out.contains("install=true"), "{out}");
    assert!(
        out.contains("/s3cors/source-") && out.contains("/bin/s3cors\n"),
        "{out}"
    );
    // The same source, the same key.
    let (_, again, _) = prepare(&[("INPUT_VERSION", "action")]);
    assert!(again.contains(&format!("cache-key={key}\n")), "{again}");
    // A commit ref names the commit --version shows; a tag does not.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let (_, out, _) = prepare(&[("GITHUB_ACTION_REF", sha)]);
    assert!(out.contains("commit=0123456\n"), "{out}");
    let (_, out, _) = prepare(&[("GITHUB_ACTION_REF", "v0.1.0")]);
    assert!(out.contains("commit=\n"), "{out}");

    // A registry version.
    let (code, out, err) = prepare(&[("INPUT_VERSION", "0.2.1")]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("cache-key=s3cors-Linux-X64-registry-0.2.1\n"),
        "{out}"
    );

    // Refused, with the fix.
    for (env, want) in [
        (
            vec![("INPUT_VERSION", "latest")],
            "version: 'latest' is not action, path, or a version such as 0.1.0",
        ),
        (
            vec![("INPUT_VERSION", "path"), ("PATH", "/usr/bin:/bin")],
            "version: path, but no s3cors on PATH",
        ),
        (
            vec![("INPUT_COMMAND", "import")],
            "command: 'import' is not one of",
        ),
    ] {
        let (code, out, err) = prepare(&env);
        assert_eq!(code, Some(1), "{env:?}: {out}");
        assert!(err.contains(want), "{env:?}: {err}");
    }
}

#[test]
fn install_runs_cargo_install_of_the_chosen_build() {
    // A stand-in `cargo` that records its arguments and installs a stand-in
    // binary where `cargo install --root` would; the real build is GitHub's to run.
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let log = dir.path().join("cargo.log");
    std::fs::write(
        bin.join("cargo"),
        format!(
            "#!/usr/bin/env bash\necho \"$*\" >> {log}\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho s3cors 0.1.0\\n' > \"$2/bin/s3cors\"\nchmod +x \"$2/bin/s3cors\"\n",
            log = log.display()
        ),
    )
    .expect("stand-in cargo");
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("cargo"))
        .status()
        .expect("chmod");
    let bash = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("bash"))
        .find(|b| b.is_file())
        .expect("bash on PATH");
    let install = |version: &str, root: &str, path: &str| {
        Command::new(&bash)
            .arg(self::root().join("scripts/action/run.sh"))
            .arg("install")
            .env("PATH", path)
            .env("INPUT_VERSION", version)
            .env("S3CORS_ROOT", dir.path().join(root))
            .env("GITHUB_ACTION_PATH", self::root())
            .output()
            .expect("bash runs run.sh")
    };
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = install("action", "a", &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s3cors 0.1.0\n");
    let out = install("0.2.1", "b", &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(&log).expect("cargo ran");
    assert_eq!(
        calls,
        format!(
            "install --locked --root {a} --path {src}\ninstall --locked --root {b} --version 0.2.1 s3cors\n",
            a = dir.path().join("a").display(),
            b = dir.path().join("b").display(),
            src = self::root().display()
        )
    );
    // No cargo: the fix is named.
    let out = install("action", "c", "/nonexistent");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cargo is not on PATH"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
