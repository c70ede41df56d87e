//! Bounded-time fuzzing of the two readers of untrusted files: the policy loader
//! (`policy::load`, then the lints and the diagnostics renderer, as `validate`
//! runs them) and the plan-file reader (`PlanFile::from_json`). Arbitrary bytes
//! and structured mutations of valid files (cut, duplicate, splice in YAML/JSON
//! syntax) must give findings or errors, never a panic. Case counts are small so
//! this runs in seconds in CI; raise `FUZZ_CASES` locally for a longer run.

use proptest::prelude::*;
use s3cors::diag::{SourceFile, Sources};
use s3cors::plan::file::PlanFile;

/// Valid policy sets to mutate (one file of a set at a time, loaded with the
/// others, so references across files are exercised): the shipped `policies/`
/// folder, and two examples on their own.
const SETS: &[&[&str]] = &[
    &[
        include_str!("../../policies/web.yaml"),
        include_str!("../../policies/data.yaml"),
        include_str!("../../policies/guardrails.yaml"),
        include_str!("../../policies/rulesets.yaml"),
    ],
    &[include_str!("../../examples/two-rules.yaml")],
    &[include_str!("../../examples/fleet.yaml")],
];

/// A valid plan file: the body of the plan-file snapshot.
const PLAN_SNAPSHOT: &str =
    include_str!("../../src/plan/snapshots/s3cors__plan__file__tests__plan_file_snapshot.snap");

fn valid_plan() -> &'static str {
    // The snapshot's header ends at the second `---` line.
    PLAN_SNAPSHOT
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or(PLAN_SNAPSHOT)
}

/// Pieces of YAML and JSON syntax that structured mutations splice in.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "~",
    "null",
    "\n",
    "\n  ",
    "\n    - ",
    "#",
    "---\n",
    "...\n",
    "\t",
    "\u{feff}",
    "\\u0000",
    "1e999",
    "-1",
    "18446744073709551616",
    "true",
    "\"\u{1b}[2J\"",
    "é",
    "\r\n",
    "?",
    "|\n",
    ">-\n",
    "%YAML 1.2\n",
    "*",
    "rules",
    "ruleset",
    "version",
    "buckets",
    "match",
];

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

/// One structured change to a text, positions taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Replace { at: usize, byte: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    let piece = bytes[at..end].to_vec();
                    bytes.splice(end..end, piece);
                }
            }
            Mutation::Insert { at, token } => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, TOKENS[token].bytes());
            }
            Mutation::Replace { at, byte } => {
                if !bytes.is_empty() {
                    bytes[at % n] = byte;
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn sources_of(files: &[String]) -> Sources {
    let mut sources = Sources::new();
    for (i, text) in files.iter().enumerate() {
        sources.add(SourceFile::new(format!("fuzz{i}.yaml"), text.clone()));
    }
    sources
}

/// What `validate` does with a set of files: load, lint, render.
fn load_and_render(files: &[String]) {
    let sources = sources_of(files);
    let loaded = s3cors::policy::load(&sources);
    let mut diagnostics = loaded.diagnostics;
    if !diagnostics.iter().any(|d| d.is_error()) {
        diagnostics.extend(s3cors::policy::check::findings(&loaded.policy));
    }
    let _ = s3cors::render::diagnostics::human(&sources, &diagnostics, false);
    let _ = s3cors::render::diagnostics::json(&sources, &diagnostics);
}

#[test]
fn the_seeds_are_valid() {
    for set in SETS {
        let files: Vec<String> = set.iter().map(|t| t.to_string()).collect();
        let loaded = s3cors::policy::load(&sources_of(&files));
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    }
    PlanFile::from_json(valid_plan()).expect("the plan snapshot is a valid plan file");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn policy_loader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        load_and_render(&[String::from_utf8_lossy(&bytes).into_owned()]);
    }

    #[test]
    fn policy_loader_survives_mutated_policies(
        set in 0..SETS.len(),
        file in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let set = SETS[set];
        let file = file % set.len();
        let files: Vec<String> = set
            .iter()
            .enumerate()
            .map(|(i, t)| if i == file { mutate(t, &mutations) } else { t.to_string() })
            .collect();
        load_and_render(&files);
    }

    #[test]
    fn plan_reader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = PlanFile::from_json(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn plan_reader_survives_mutated_plans(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let text = mutate(valid_plan(), &mutations);
        // A plan that still reads must write back to a plan that reads.
        if let Ok(plan) = PlanFile::from_json(&text) {
            prop_assert!(PlanFile::from_json(&plan.to_json()).is_ok());
        }
    }
}
