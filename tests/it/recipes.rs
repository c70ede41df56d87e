//! The recipes in examples/ci and examples/k8s cannot rot: every YAML file parses,
//! every `s3cors` command line in them (a `run:` script, a container's `sh -c`
//! script or exec-form command) parses with the real command-line definition, and
//! the shard counts agree with the matrices and Indexed Jobs that run them. A
//! step that uses the s3cors action (action.yml) counts as the command line the
//! action would run, printed by its script's dry run. The `watch` Deployment's
//! probes, Service and ServiceMonitor point at the port it listens on, and its
//! alerts name only metrics `watch` exports and docs/watch.md describes.

use std::path::{Path, PathBuf};

use clap::Parser;
use s3cors::cli::{Cli, Command, WatchArgs};
use serde::Deserialize;
use serde_yaml::Value;

fn recipe_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples/ci", "examples/k8s"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let path = entry.expect("dir entry").path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every YAML document in `path`.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// Shell words of one line, with the operators `|`, `||`, `&&`, `;` and
/// redirections as their own words; quotes removed.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut has_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.extend(chars.next()),
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has_word = true;
            }
            (None, '\\') => {
                word.extend(chars.next());
                has_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if has_word || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                has_word = false;
            }
            (None, '|' | '&' | ';' | '<' | '>') => {
                // `2>`: the descriptor belongs to the operator.
                let mut op = if word == "2" || word == "1" {
                    std::mem::take(&mut word)
                } else {
                    if has_word || !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                    String::new()
                };
                has_word = false;
                op.push(c);
                while let Some(&n) = chars.peek() {
                    if matches!(n, '|' | '&' | '<' | '>') {
                        op.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(op);
            }
            (None, c) => {
                word.push(c);
                has_word = true;
            }
        }
    }
    if has_word || !word.is_empty() {
        out.push(word);
    }
    out
}

/// `${{ expr }}`, `$((expr))`, `${NAME}` and `$NAME` replaced by `1`: a value
/// every flag the recipes pass a variable to accepts (a shard number, a file
/// name's part).
fn substitute(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = if let Some(t) = tail.strip_prefix("${{") {
            t.find("}}").map(|e| 3 + e + 2)
        } else if let Some(t) = tail.strip_prefix("$((") {
            t.find("))").map(|e| 3 + e + 2)
        } else if let Some(t) = tail.strip_prefix("${") {
            t.find('}').map(|e| 2 + e + 1)
        } else {
            let name = tail[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len() - 1);
            (name > 0).then_some(1 + name)
        };
        match end {
            Some(end) => {
                out.push('1');
                rest = &tail[end..];
            }
            None => {
                out.push('$');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_s3cors(word: &str) -> bool {
    word == "s3cors" || word.ends_with("/s3cors")
}

/// The `s3cors` command lines of a shell script, as argv.
fn commands_in_script(script: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for line in script.replace("\\\n", " ").lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let words = words(&substitute(line));
        for segment in words.split(|w| matches!(w.as_str(), "|" | "||" | "&&" | ";" | "&")) {
            let mut argv = Vec::new();
            let mut skip_next = false;
            for w in segment {
                if skip_next {
                    skip_next = false;
                } else if w.starts_with(['<', '>']) || w.starts_with("2>") || w.starts_with("1>") {
                    skip_next = true;
                } else {
                    argv.push(w.clone());
                }
            }
            while argv.first().is_some_and(|w| {
                w == "exec" || w == "time" || (w.contains('=') && !w.starts_with('-'))
            }) {
                argv.remove(0);
            }
            if argv.first().is_some_and(|w| is_s3cors(w)) {
                commands.push(argv);
            }
        }
    }
    commands
}

/// Whether a workflow step's `uses:` is the s3cors action (action.yml).
fn is_action(uses: &str) -> bool {
    uses == "./" || uses.starts_with("s3cors/s3cors@")
}

/// The s3cors command line the action runs for a step's `with:`: each input
/// (or its default) goes to the variable action.yml's run step sets from it, and
/// scripts/action/run.sh prints the command line (S3CORS_ACTION_DRY_RUN=1).
/// Panics on an input the action does not declare, naming it.
fn action_command(with: &Value) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action: Value = serde_yaml::from_str(
        &std::fs::read_to_string(root.join("action.yml")).expect("action.yml"),
    )
    .expect("action.yml is YAML");
    let inputs = action["inputs"].as_mapping().expect("inputs");
    for key in with.as_mapping().into_iter().flatten().map(|(k, _)| k) {
        assert!(
            inputs.contains_key(key),
            "the s3cors action has no input {key:?}: {:?}",
            inputs.keys().collect::<Vec<_>>()
        );
    }
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let run = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("action.yml's step `run`");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(root.join("scripts/action/run.sh"))
        .arg("run")
        .env("S3CORS_ACTION_DRY_RUN", "1");
    for (var, value) in run["env"].as_mapping().expect("env") {
        let (Some(var), Some(value)) = (var.as_str(), value.as_str()) else {
            continue;
        };
        let Some(input) = value
            .strip_prefix("${{ inputs.")
            .and_then(|v| v.strip_suffix(" }}"))
        else {
            cmd.env_remove(var);
            continue;
        };
        let given = match &with[input] {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let default = inputs[input]["default"].as_str().map(str::to_owned);
        match given.or(default) {
            Some(v) => cmd.env(var, substitute(&v)),
            None => cmd.env_remove(var),
        };
    }
    let out = cmd.output().expect("bash runs scripts/action/run.sh");
    assert!(
        out.status.success(),
        "the action refuses `with: {with:?}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every `s3cors` command line anywhere in `value`: in any string (scripts), in
/// any sequence that is an exec-form command, and in any step that uses the
/// s3cors action.
fn commands(value: &Value, out: &mut Vec<Vec<String>>) {
    if let Some(uses) = value.get("uses").and_then(Value::as_str)
        && is_action(uses)
    {
        out.push(action_command(value.get("with").unwrap_or(&Value::Null)));
    }
    match value {
        Value::String(s) => out.extend(commands_in_script(s)),
        Value::Sequence(items) => {
            let argv: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect();
            match argv {
                Some(argv) if argv.first().is_some_and(|w| is_s3cors(w)) => {
                    out.push(argv.iter().map(|w| substitute(w)).collect());
                }
                _ => items.iter().for_each(|i| commands(i, out)),
            }
        }
        // Names (a workflow's, a container's) and paths are not commands.
        Value::Mapping(m) => m
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    Some("name" | "serviceAccountName" | "claimName" | "path")
                )
            })
            .for_each(|(_, v)| commands(v, out)),
        Value::Tagged(t) => commands(&t.value, out),
        _ => {}
    }
}

/// The `N` of `--shard K/N` or `--shard-count N` in `argv`, if sharded by flag.
fn shard_count(argv: &[String]) -> Option<u32> {
    let cli = Cli::try_parse_from(argv).ok()?;
    cli.global.shard.map(|s| s.count).or(cli.global.shard_count)
}

#[test]
fn tokenizer_reads_shell_as_the_recipes_write_it() {
    let got = commands_in_script(
        "set -e\n\
         k=$((JOB_COMPLETION_INDEX + 1))\n\
         s3cors --shard ${{ matrix.shard }}/4 plan policies/ --out \"plan-$k.json\" || [ $? = 2 ]\n\
         # s3cors not --a-command\n\
         exec /usr/bin/s3cors drift --merge a.json b.json 2>err > out.md\n\
         echo s3cors | S3CORS_SHARD_BY=account s3cors show 'plan-*.json'; cargo install s3cors\n",
    );
    let want: Vec<Vec<&str>> = vec![
        vec![
            "s3cors",
            "--shard",
            "1/4",
            "plan",
            "policies/",
            "--out",
            "plan-1.json",
        ],
        vec!["/usr/bin/s3cors", "drift", "--merge", "a.json", "b.json"],
        vec!["s3cors", "show", "plan-*.json"],
    ];
    assert_eq!(got, want);
}

#[test]
fn recipes_use_only_flags_that_exist() {
    let files = recipe_files();
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with(".yml")) && names.iter().any(|n| n.ends_with(".yaml")),
        "expected a workflow and Kubernetes manifests, found {names:?}"
    );
    let mut subcommands = Vec::new();
    for path in &files {
        let mut found = Vec::new();
        for doc in documents(path) {
            commands(&doc, &mut found);
        }
        // Monitoring objects (a ServiceMonitor, alerts) run nothing.
        let monitoring_only = documents(path).iter().all(|d| {
            d["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
        });
        assert!(
            !found.is_empty() || monitoring_only,
            "{}: no s3cors command",
            path.display()
        );
        for argv in found {
            let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| {
                panic!(
                    "{}: `{}` does not parse:\n{e}",
                    path.display(),
                    argv.join(" ")
                )
            });
            subcommands.push(match &cli.command {
                Command::Drift(a) if !a.merge.is_empty() => "drift --merge",
                Command::Drift(_) => "drift",
                Command::Plan(_) => "plan",
                Command::Show(_) => "show",
                Command::Apply(_) => "apply",
                Command::Watch(_) => "watch",
                _ => "other",
            });
        }
    }
    for want in ["plan", "show", "apply", "drift", "drift --merge", "watch"] {
        assert!(
            subcommands.contains(&want),
            "no recipe runs `s3cors {want}`: {subcommands:?}"
        );
    }
}

#[test]
fn recipe_shard_counts_match_what_runs_them() {
    let mut checked = 0;
    let mut completions = std::collections::BTreeSet::new();
    for path in recipe_files() {
        for doc in documents(&path) {
            // GitHub Actions: a job's `--shard K/N` has N entries in its matrix.
            if let Some(jobs) = doc.get("jobs").and_then(Value::as_mapping) {
                for (name, job) in jobs {
                    let Some(matrix) = job["strategy"]["matrix"]["shard"].as_sequence() else {
                        continue;
                    };
                    let mut found = Vec::new();
                    commands(job, &mut found);
                    for argv in found {
                        if let Some(n) = shard_count(&argv) {
                            assert_eq!(
                                n as usize,
                                matrix.len(),
                                "{} job {name:?}: `{}` for a matrix of {}",
                                path.display(),
                                argv.join(" "),
                                matrix.len()
                            );
                            checked += 1;
                        }
                    }
                }
            }
            // Kubernetes: an Indexed Job's S3CORS_SHARD_COUNT is its `completions`.
            if doc["kind"].as_str() == Some("Job")
                && doc["spec"]["completionMode"].as_str() == Some("Indexed")
            {
                let count = doc["spec"]["completions"].as_u64();
                completions.insert(count);
                let containers = doc["spec"]["template"]["spec"]["containers"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default();
                for c in containers {
                    for env in c["env"].as_sequence().into_iter().flatten() {
                        if env["name"].as_str() == Some("S3CORS_SHARD_COUNT") {
                            let value = env["value"].as_str().and_then(|v| v.parse::<u64>().ok());
                            assert_eq!(
                                value,
                                count,
                                "{}: {:?}",
                                path.display(),
                                doc["metadata"]["name"]
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    // The workflow's plan and drift jobs, and the Indexed Job's environment.
    assert!(checked >= 3, "only {checked} shard counts were checked");
    // Every Indexed Job (plan and drift, apply) runs as many pods as there are shards.
    assert_eq!(
        completions.len(),
        1,
        "Indexed Jobs disagree: {completions:?}"
    );
}

/// Every document of every recipe, with the file it came from.
fn all_documents() -> Vec<(PathBuf, Value)> {
    recipe_files()
        .into_iter()
        .flat_map(|p| documents(&p).into_iter().map(move |d| (p.clone(), d)))
        .collect()
}

/// The one document of `kind` named `name`.
fn find<'a>(docs: &'a [(PathBuf, Value)], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| {
            d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} {name:?} in examples/k8s"
    );
    found[0]
}

/// The `watch` command line of the `s3cors` container of the Deployment.
fn watch_deployment(docs: &[(PathBuf, Value)]) -> (&Value, WatchArgs) {
    let deployment = find(docs, "Deployment", "s3cors-watch");
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers");
    let container = containers
        .iter()
        .find(|c| c["name"].as_str() == Some("s3cors"))
        .expect("a container named s3cors");
    let mut found = Vec::new();
    commands(container, &mut found);
    assert_eq!(found.len(), 1, "one s3cors command: {found:?}");
    let cli = Cli::try_parse_from(&found[0]).expect("parses (recipes_use_only_flags_that_exist)");
    let Command::Watch(args) = cli.command else {
        panic!("the Deployment runs `{}`, not watch", found[0].join(" "))
    };
    (container, args)
}

#[test]
fn watch_deployment_probes_and_service_use_the_listen_port() {
    let docs = all_documents();
    let (container, args) = watch_deployment(&docs);
    let port = args.listen.expect("--listen").port();
    let ports = container["ports"].as_sequence().expect("container ports");
    let named = ports
        .iter()
        .find(|p| p["containerPort"].as_u64() == Some(u64::from(port)))
        .unwrap_or_else(|| panic!("no container port {port}: {ports:?}"));
    let name = named["name"].as_str().expect("the port has a name");
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert!(
            get["port"].as_str() == Some(name) || get["port"].as_u64() == Some(u64::from(port)),
            "{probe} port {:?}",
            get["port"]
        );
    }
    // The endpoints exist as docs/watch.md describes them.
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/watch.md"))
        .expect("docs/watch.md");
    for path in ["/readyz", "/healthz", "/metrics"] {
        assert!(
            doc.contains(&format!("`GET {path}`")),
            "docs/watch.md has no {path}"
        );
    }

    let deployment = find(&docs, "Deployment", "s3cors-watch");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let service = find(&docs, "Service", "s3cors-watch");
    for (k, v) in service["spec"]["selector"].as_mapping().expect("selector") {
        assert_eq!(
            &pod_labels[k.as_str().expect("label")],
            v,
            "the Service selects the pod"
        );
    }
    let service_port = service["spec"]["ports"]
        .as_sequence()
        .expect("ports")
        .iter()
        .find(|p| p["targetPort"].as_str() == Some(name))
        .expect("a Service port whose targetPort is the container's");
    let annotations = &service["metadata"]["annotations"];
    assert_eq!(
        annotations["prometheus.io/port"].as_str(),
        Some(port.to_string().as_str())
    );
    assert_eq!(annotations["prometheus.io/path"].as_str(), Some("/metrics"));

    let monitor = find(&docs, "ServiceMonitor", "s3cors-watch");
    let service_labels = &service["metadata"]["labels"];
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_mapping()
        .expect("matchLabels")
    {
        assert_eq!(
            &service_labels[k.as_str().expect("label")],
            v,
            "the ServiceMonitor selects the Service"
        );
    }
    let endpoints = monitor["spec"]["endpoints"]
        .as_sequence()
        .expect("endpoints");
    assert!(!endpoints.is_empty());
    for e in endpoints {
        assert_eq!(
            e["port"], service_port["name"],
            "the ServiceMonitor scrapes the Service's port by name"
        );
        assert_eq!(e["path"].as_str(), Some("/metrics"));
    }
}

/// The rows of docs/watch.md's metrics table: the metric (as Prometheus stores
/// its samples: a counter with `_total`) and its type.
fn documented_metrics() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/watch.md"))
        .expect("docs/watch.md");
    let table = doc
        .split("## Metrics")
        .nth(1)
        .expect("docs/watch.md has ## Metrics");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let mut cells = l.split('|').skip(1).map(str::trim);
            let name = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.next()?.to_owned()))
        })
        .collect()
}

/// The metric families `watch` registers (src/app/watch/metrics.rs: the name
/// each `registry.register(` call is given). The encoder would not do: it
/// leaves out a labelled family before its first sample.
fn registered_metrics() -> Vec<String> {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app/watch/metrics.rs"),
    )
    .expect("src/app/watch/metrics.rs");
    src.split("registry.register(")
        .skip(1)
        .filter_map(|call| Some(call.split('"').nth(1)?.to_owned()))
        .collect()
}

/// The `s3cors_...` names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("s3cors_") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.push(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn watch_alerts_name_only_exported_and_documented_metrics() {
    let docs = all_documents();
    let documented = documented_metrics();
    let registered = registered_metrics();
    assert!(registered.len() >= 6, "registered: {registered:?}");
    // Every registered family has its row, and every row is registered.
    let family_of = |row: &(String, String)| {
        let (name, kind) = row;
        match kind.as_str() {
            "counter" => name.strip_suffix("_total").unwrap_or(name).to_owned(),
            _ => name.clone(),
        }
    };
    for family in &registered {
        assert!(
            documented.iter().any(|row| family_of(row) == *family),
            "docs/watch.md's metrics table lacks `{family}`: {documented:?}"
        );
    }
    for row in &documented {
        assert!(
            registered.contains(&family_of(row)),
            "docs/watch.md documents `{}`, which watch does not register: {registered:?}",
            row.0
        );
    }
    let rules: Vec<&Value> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d["kind"].as_str() == Some("PrometheusRule"))
        .flat_map(|d| d["spec"]["groups"].as_sequence().expect("groups"))
        .flat_map(|g| g["rules"].as_sequence().expect("rules"))
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for rule in &rules {
        let alert = rule["alert"].as_str().expect("every rule is an alert");
        let expr = rule["expr"]
            .as_str()
            .unwrap_or_else(|| panic!("{alert}: expr"));
        assert!(
            rule["for"].as_str().is_some(),
            "{alert}: a `for:` so one scrape does not page"
        );
        assert!(
            rule["labels"]["severity"].as_str().is_some(),
            "{alert}: severity"
        );
        assert!(
            rule["annotations"]["summary"].as_str().is_some(),
            "{alert}: summary"
        );
        let names = metric_names(expr);
        assert!(
            !names.is_empty(),
            "{alert}: `{expr}` names no s3cors metric"
        );
        for name in names {
            // A histogram's samples are `_bucket`, `_sum` and `_count`.
            let row = documented.iter().find(|(doc, kind)| {
                name == *doc
                    || (kind == "histogram"
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name == format!("{doc}{s}")))
            });
            let Some(row) = row else {
                panic!("{alert}: `{name}` is not in docs/watch.md's metrics table: {documented:?}")
            };
            let family = family_of(row);
            used.insert(family);
        }
    }
    for want in [
        "s3cors_buckets",
        "s3cors_last_cycle_success_timestamp_seconds",
        "s3cors_policy_load_errors",
        "s3cors_guardrail_violations",
    ] {
        assert!(used.contains(want), "no alert on {want}: {used:?}");
    }

    // The stale-watcher alert waits three of the Deployment's intervals.
    let (_, args) = watch_deployment(&docs);
    let stale = rules
        .iter()
        .filter_map(|r| r["expr"].as_str())
        .find(|e| e.contains("time() - s3cors_last_cycle_success_timestamp_seconds"))
        .expect("an alert on the age of the last good check");
    let threshold: f64 = stale
        .rsplit_once('>')
        .expect("`... > threshold`")
        .1
        .split('*')
        .map(|f| {
            f.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("`{stale}`: a product of numbers"))
        })
        .product();
    assert_eq!(
        threshold,
        3.0 * args.interval.as_secs_f64(),
        "`{stale}` for --interval {:?}",
        args.interval
    );
}
