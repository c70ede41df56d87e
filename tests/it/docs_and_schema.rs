//! The documentation and the JSON Schema stay in step with the code: every error code
//! has a section in docs/errors.md, every lint a page under docs/lints/, the committed
//! policy.schema.json is what `s3cors schema` prints, and the examples and shipped
//! policies fit the schema's types.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use s3cors::cors::lint::LintCode;
use s3cors::diag::{ErrorCode, WarningCode};
use s3cors::policy::raw::{self, PolicyFile};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The codes documented in docs/errors.md: every `### \`code\`` heading.
fn documented_error_codes() -> BTreeSet<String> {
    read("docs/errors.md")
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.strip_suffix('`'))
        .map(str::to_string)
        .collect()
}

#[test]
fn errors_md_documents_exactly_the_error_codes() {
    let in_code: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(WarningCode::ALL.iter().map(|c| c.as_str()))
        .map(str::to_string)
        .collect();
    assert_eq!(
        in_code.len(),
        ErrorCode::ALL.len() + WarningCode::ALL.len(),
        "diag::ErrorCode and WarningCode spell a code twice"
    );
    let documented = documented_error_codes();
    let undocumented: Vec<_> = in_code.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&in_code).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "docs/errors.md and diag::ErrorCode + WarningCode differ.\n  \
         codes without a `### `code`` section in docs/errors.md: {undocumented:?}\n  \
         sections for codes not in ErrorCode or WarningCode: {stale:?}"
    );
}

#[test]
fn every_lint_has_a_page_and_a_row_in_the_index() {
    let index = read("docs/lints/README.md");
    let mut problems = Vec::new();
    for code in LintCode::ALL {
        let page = format!("docs/lints/{code}.md");
        match std::fs::read_to_string(root().join(&page)) {
            Ok(text) if text.starts_with(&format!("# `{code}`")) => {}
            Ok(_) => problems.push(format!("{page} does not start with \"# `{code}`\"")),
            Err(e) => problems.push(format!("{page}: {e}")),
        }
        if !index.contains(&format!("[`{code}`]({code}.md)")) {
            problems.push(format!("docs/lints/README.md has no row for `{code}`"));
        }
    }
    let pages: BTreeSet<String> = std::fs::read_dir(root().join("docs/lints"))
        .expect("docs/lints")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
        .filter(|n| n != "README")
        .collect();
    for page in pages {
        if page.parse::<LintCode>().is_err() {
            problems.push(format!("docs/lints/{page}.md documents no lint"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn error_and_lint_codes_are_disjoint_and_stable() {
    let errors: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let warnings: Vec<&str> = WarningCode::ALL.iter().map(|c| c.as_str()).collect();
    let lints: Vec<&str> = LintCode::ALL.iter().map(|c| c.as_str()).collect();
    for code in errors.iter().chain(&warnings).chain(&lints) {
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "`{code}` is not kebab-case"
        );
    }
    let shared: Vec<_> = errors
        .iter()
        .chain(&warnings)
        .filter(|c| lints.contains(c))
        .collect();
    assert!(shared.is_empty(), "codes both errors and lints: {shared:?}");
    let all: Vec<String> = errors
        .iter()
        .map(|c| format!("error {c}"))
        .chain(warnings.iter().map(|c| format!("warn  {c}")))
        .chain(lints.iter().map(|c| format!("lint  {c}")))
        .collect();
    // Codes are an interface (CI greps for them, docs link to them): renaming or
    // removing one must be a deliberate change to this snapshot.
    insta::assert_yaml_snapshot!("all_codes", all);
}

#[test]
fn committed_schema_is_current() {
    let committed = read("policy.schema.json");
    let generated = raw::json_schema();
    assert!(
        committed == generated,
        "policy.schema.json is out of date with the policy types (src/policy/raw.rs).\n\
         Regenerate it with:\n\n    cargo run -q -- schema > policy.schema.json\n"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("schema is JSON");
    assert_eq!(schema["title"], "s3cors policy file");
    assert_eq!(schema["required"][0], "version");
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
}

#[test]
fn examples_and_policies_fit_the_schema_types() {
    let mut problems = Vec::new();
    let mut count = 0;
    for dir in ["examples", "policies"] {
        for path in yaml_files(dir) {
            count += 1;
            let text = std::fs::read_to_string(&path).expect("readable");
            match serde_yaml::from_str::<PolicyFile>(&text) {
                Ok(file) => {
                    if file.version != 1 {
                        problems.push(format!("{}: version {}", path.display(), file.version));
                    }
                    // Every rule item is a rule or a reference, as the schema says.
                    let rules = file.buckets.iter().map(|b| b.rules.len()).sum::<usize>();
                    let declared = file.buckets.len() + file.rulesets.len() + file.guardrails.len();
                    if declared == 0 && rules == 0 {
                        problems.push(format!("{}: declares nothing", path.display()));
                    }
                }
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(
        count >= 8,
        "expected the examples and policies, found {count} files"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_schema_types_reject_what_validation_rejects() {
    // serde_yaml over the schema types is the structural half of validation.
    for (text, why) in [
        ("buckets: []\n", "missing version"),
        ("version: 1\nbucket: []\n", "unknown top-level key"),
        (
            "version: 1\nbuckets:\n  - name: a\n    rules: [{AllowedOrigin: ['*'], AllowedMethods: [GET]}]\n",
            "unknown rule key",
        ),
        (
            "version: 1\nbuckets:\n  - name: a\n    rules: [{AllowedOrigins: ['*'], AllowedMethods: [get]}]\n",
            "lower-case method",
        ),
        (
            "version: 1\nbuckets:\n  - name: a\n    rules: [{AllowedOrigins: ['*'], AllowedMethods: [GET], MaxAgeSeconds: 1.5}]\n",
            "fractional MaxAgeSeconds",
        ),
    ] {
        assert!(
            serde_yaml::from_str::<PolicyFile>(text).is_err(),
            "accepted ({why}):\n{text}"
        );
    }
}
