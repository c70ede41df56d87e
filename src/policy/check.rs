//! Policy findings: lints and guardrails over the desired configurations of a loaded
//! [`Policy`], as diagnostics pointing at the policy files. Pure; `validate` runs it.
//!
//! - **Lints** (`cors::lint`) run on each bucket entry's desired configuration (its
//!   rules with rulesets spliced in). A finding points at the most precise place known:
//!   the offending value, else the field's values, else the rule. A rule spliced from a
//!   ruleset points into the ruleset, with a secondary label at the `ruleset:` reference
//!   that put it there. One ruleset used by many buckets yields the same finding at the
//!   same place many times: findings are deduplicated by (code, place), first kept.
//! - **Guardrails** (`policy::guardrail`) are checked against the same configurations,
//!   as `guardrail-violation` errors pointing at the offending value, with a secondary
//!   label at the guardrail's `id`. A `name:` entry is checked against the guardrails
//!   whose `buckets:` glob matches its name. A `match:` entry is checked against the
//!   guardrails whose scope certainly covers **every** bucket the entry can select:
//!   scope `*`, scope text equal to the entry's glob, or (both globs made only of
//!   literal characters and `*`) a scope glob matching the entry's glob text, as
//!   `prod-*` matches `prod-web-*`. A guardrail whose scope only partly overlaps the
//!   glob (`prod-*` against `*-web`) is not decided here: `plan` and `drift` check
//!   each concrete bucket with `guardrail::check`.
//! - **Ownership**: a `match` entry whose every bucket is also selected by another
//!   `match` entry (same glob, or a covering glob as above, with no tags beyond the
//!   other's) is an `overlapping-match` error now; partial overlaps depend on which
//!   buckets exist and are reported by `plan`.
//!
//! - **Levels and suppressions**: a lint that is off by default
//!   ([`LintCode::is_default_on`]) runs only when its `lints:` level is `warn` or
//!   `deny`. A lint named in `allow:` on the finding's rule or
//!   on its bucket entry is suppressed there (with the reason given); else its
//!   `lints:` level holds: `allow` suppresses it everywhere, `deny` makes it an
//!   error (with a label at the level). A suppressed finding stays in the list,
//!   marked, so reports count it and `-v` lists it; it fails nothing. Guardrail
//!   violations are never suppressed. An entry with its own `allow:` is linted on
//!   its own even when it shares its rule list, so its suppressions do not hide
//!   another entry's findings, and a finding suppressed for one entry but not for
//!   another at the same place is reported once, unsuppressed.
//!
//! Diagnostic paths name bucket entries by their selector, since one entry's place in
//! its file is shown by the span: `buckets[name=app].rules[1].AllowedOrigins[0]`, or
//! `rulesets.public-read[0].MaxAgeSeconds` for a rule from a ruleset.

use std::collections::HashSet;

use super::guardrail::{self, Hit};
use super::{BucketEntry, Guardrail, LintLevel, Policy, PolicyRule, RuleSpans, Selector};
use crate::cors::lint::{self, Field, Finding, LintCode};
use crate::diag::{Diagnostic, ErrorCode, Severity, Span, Suppression, WarningKind};

/// Lint findings become warnings here, so this is where lint codes become
/// diagnostic codes.
impl WarningKind for LintCode {
    fn as_str(self) -> &'static str {
        LintCode::as_str(self)
    }
}

/// Every lint warning and guardrail error over the desired configurations of `policy`,
/// in entry order, then lints before guardrails within an entry.
pub fn findings(policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: HashSet<(&'static str, Option<Span>, Option<Span>, bool)> = HashSet::new();
    let mut push = |d: Diagnostic, out: &mut Vec<Diagnostic>| {
        // Guardrail findings also key on the guardrail, so two guardrails breaking one
        // value both show.
        let guard = (d.code == ErrorCode::GuardrailViolation.as_str())
            .then(|| d.related.last().map(|l| l.span))
            .flatten();
        if seen.insert((d.code, d.span, guard, d.is_suppressed())) {
            out.push(d);
        }
    };
    // Entries sharing one rule list (the same ruleset references) have the same
    // configuration and every finding at the same place: an earlier entry's findings
    // for that list already stand, so only guardrails not yet checked against it run.
    let mut linted: HashSet<*const PolicyRule> = HashSet::new();
    let mut guarded: HashSet<(*const PolicyRule, usize)> = HashSet::new();
    for entry in &policy.buckets {
        if entry.rules.is_empty() {
            continue;
        }
        let list = entry.rules.shared().as_ptr();
        // An entry's own `allow:` changes its findings: lint it on its own.
        let first = if entry.allow.is_empty() {
            linted.insert(list)
        } else {
            true
        };
        let guardrails: Vec<(usize, &Guardrail)> = applicable(&policy.guardrails, entry)
            .into_iter()
            .filter(|(i, _)| guarded.insert((list, *i)))
            .collect();
        if !first && guardrails.is_empty() {
            continue;
        }
        let Some(config) = entry.desired() else {
            continue;
        };
        if first {
            for f in lint::lint(&config)
                .iter()
                .filter(|f| enabled(policy, f.code))
            {
                push(
                    leveled(policy, entry, f, lint_diagnostic(entry, f)),
                    &mut out,
                );
            }
        }
        for (_, g) in guardrails {
            for hit in guardrail::evaluate(g, &config) {
                push(guardrail_diagnostic(entry, g, &hit), &mut out);
            }
        }
    }
    for d in overlapping_matches(policy) {
        push(d, &mut out);
    }
    // A place suppressed for one entry but reported for another: reported.
    let reported: HashSet<(&'static str, Option<Span>)> = out
        .iter()
        .filter(|d| !d.is_suppressed())
        .map(|d| (d.code, d.span))
        .collect();
    out.retain(|d| !d.is_suppressed() || !reported.contains(&(d.code, d.span)));
    out
}

/// Whether `code` runs for `policy`: a lint that is on by default unless turned off
/// elsewhere (that is a suppression, which is recorded), one that is off by default
/// only when a `lints:` level of `warn` or `deny` turns it on.
fn enabled(policy: &Policy, code: LintCode) -> bool {
    code.is_default_on()
        || policy
            .lints
            .get(&code)
            .is_some_and(|s| s.level != LintLevel::Allow)
}

/// A lint finding under the suppressions and levels that hold for it: `allow:` on
/// its rule, then on its entry, then the `lints:` level (module docs).
fn leveled(policy: &Policy, entry: &BucketEntry, f: &Finding, mut d: Diagnostic) -> Diagnostic {
    let setting = policy.lints.get(&f.code);
    if let Some(s) = setting.filter(|s| s.level == LintLevel::Deny) {
        d.severity = Severity::Error;
        d = d.related(s.span, format!("`{}: deny` makes it an error", f.code));
    }
    let allowed = entry.rules[f.rule]
        .allow
        .iter()
        .chain(entry.allow.iter())
        .find(|a| a.code == f.code);
    d.suppressed = match (allowed, setting) {
        (Some(a), _) => Some(Box::new(Suppression {
            reason: a.reason.clone(),
            span: a.span,
        })),
        (None, Some(s)) if s.level == LintLevel::Allow => Some(Box::new(Suppression {
            reason: None,
            span: s.span,
        })),
        _ => None,
    };
    d
}

/// The guardrails that certainly apply to every bucket `entry` selects (module docs).
fn applicable<'g>(guardrails: &'g [Guardrail], entry: &BucketEntry) -> Vec<(usize, &'g Guardrail)> {
    guardrails
        .iter()
        .enumerate()
        .filter(|(_, g)| match &entry.selector {
            Selector::Name(name) => g.scope_glob.is_match(name),
            Selector::Match(m) => glob_covers(&g.scope, &g.scope_glob, &m.pattern),
        })
        .collect()
}

/// Whether every name the glob `pattern` matches is matched by `scope` (compiled as
/// `scope_glob`). Sound, not complete: `true` only when it surely holds.
///
/// With both globs made of literal characters and `*` only, a scope that matches the
/// pattern's text must consume each of the pattern's `*` with one of its own (a scope
/// literal never matches a `*`), so every expansion of the pattern is matched too.
fn glob_covers(scope: &str, scope_glob: &globset::GlobMatcher, pattern: &str) -> bool {
    let simple = |g: &str| !g.contains(['?', '[', ']', '{', '}', '\\', '!']);
    scope == "*"
        || scope == pattern
        || (simple(scope) && simple(pattern) && scope_glob.is_match(pattern))
}

/// `overlapping-match` for each `match` entry whose buckets are all selected by an
/// earlier (or equal) one too.
fn overlapping_matches(policy: &Policy) -> Vec<Diagnostic> {
    let matches: Vec<(&BucketEntry, &super::BucketMatch)> = policy
        .buckets
        .iter()
        .filter_map(|e| match &e.selector {
            Selector::Match(m) => Some((e, &**m)),
            Selector::Name(_) => None,
        })
        .collect();
    let mut out = Vec::new();
    for (j, (entry, m)) in matches.iter().enumerate() {
        let covered_by = matches.iter().enumerate().find(|(i, (_, other))| {
            *i != j
                && glob_covers(&other.pattern, &other.glob, &m.pattern)
                && other.tags.iter().all(|(k, v)| m.tags.get(k) == Some(v))
                // Two entries covering each other: report only the later one.
                && !(*i > j
                    && glob_covers(&m.pattern, &m.glob, &other.pattern)
                    && m.tags.iter().all(|(k, v)| other.tags.get(k) == Some(v)))
        });
        if let Some((_, (first, other))) = covered_by {
            out.push(
                Diagnostic::error(
                    ErrorCode::OverlappingMatch,
                    format!(
                        "every bucket `match: \"{}\"` selects is also selected by `match: \"{}\"`",
                        m.pattern, other.pattern
                    ),
                )
                .at(entry.span)
                .path(format!("buckets[match={}].match", m.pattern))
                .help("a bucket selected by two `match` entries is an error: narrow or merge the globs (or tags), or give the buckets exact `name:` entries, which win")
                .related(first.span, "also selects them"),
            );
        }
    }
    out
}

fn entry_path(entry: &BucketEntry) -> String {
    match &entry.selector {
        Selector::Name(name) => format!("buckets[name={name}]"),
        Selector::Match(m) => format!("buckets[match={}]", m.pattern),
    }
}

fn entry_name(entry: &BucketEntry) -> String {
    match &entry.selector {
        Selector::Name(name) => format!("bucket `{name}`"),
        Selector::Match(m) => format!("buckets matching `{}`", m.pattern),
    }
}

/// The YAML path of rule `index` of `entry` (inside its ruleset when spliced).
fn rule_path(entry: &BucketEntry, index: usize) -> String {
    let rule = &entry.rules[index];
    match (&rule.ruleset, entry.rules.reference_start(index)) {
        (Some(name), Some(first)) => format!("rulesets.{name}[{}]", index - first),
        _ => {
            // Item index in `rules:`: each reference is one item, however many rules.
            let item = (0..index)
                .filter(|&r| {
                    entry
                        .rules
                        .reference_start(r)
                        .is_none_or(|first| first == r)
                })
                .count();
            format!("{}.rules[{item}]", entry_path(entry))
        }
    }
}

/// The place of `field` (value `index`, if given) of a rule: the value, else the
/// field's values together, else the whole rule.
fn field_span(spans: &RuleSpans, field: Option<Field>, index: Option<usize>) -> Span {
    let list: &[Span] = match field {
        None => &[],
        Some(Field::AllowedOrigins) => spans.allowed_origins(),
        Some(Field::AllowedMethods) => spans.allowed_methods(),
        Some(Field::AllowedHeaders) => spans.allowed_headers(),
        Some(Field::ExposeHeaders) => spans.expose_headers(),
        Some(Field::MaxAgeSeconds) => return spans.max_age_seconds.unwrap_or(spans.rule),
        Some(Field::Id) => return spans.id.unwrap_or(spans.rule),
    };
    if let Some(span) = index.and_then(|k| list.get(k)) {
        return *span;
    }
    match (list.first(), list.last()) {
        (Some(first), Some(last)) if first.file == last.file && first.start <= last.end => Span {
            file: first.file,
            start: first.start,
            end: last.end,
        },
        _ => spans.rule,
    }
}

fn value_path(
    entry: &BucketEntry,
    rule: usize,
    field: Option<Field>,
    index: Option<usize>,
) -> String {
    let mut path = rule_path(entry, rule);
    if let Some(field) = field {
        path.push('.');
        path.push_str(field.as_str());
        if let Some(k) = index {
            path.push_str(&format!("[{k}]"));
        }
    }
    path
}

/// Where a spliced rule came from, as a secondary label.
fn reference_label(
    d: Diagnostic,
    entry: &BucketEntry,
    rule: &PolicyRule,
    index: usize,
) -> Diagnostic {
    match (&rule.ruleset, entry.rules.reference(index)) {
        (Some(name), Some(reference)) => d.related(
            reference,
            format!(
                "rules[{index}] of {} comes from ruleset `{name}` here",
                entry_name(entry)
            ),
        ),
        _ => d,
    }
}

fn lint_diagnostic(entry: &BucketEntry, f: &Finding) -> Diagnostic {
    let rule = &entry.rules[f.rule];
    let mut d = Diagnostic::warning(f.code, format!("{}: {}", entry_name(entry), f.message))
        .at(field_span(&rule.spans, f.field, f.value))
        .path(value_path(entry, f.rule, f.field, f.value))
        .help(&f.help);
    if let Some(other) = f
        .related_rule
        .and_then(|r| entry.rules.get(r).map(|o| (r, o)))
    {
        d = d.related(
            other.1.spans.rule,
            format!("rules[{}] matches first", other.0),
        );
    }
    reference_label(d, entry, rule, f.rule)
}

fn guardrail_diagnostic(entry: &BucketEntry, g: &Guardrail, hit: &Hit) -> Diagnostic {
    let rule = &entry.rules[hit.rule];
    let name = match &hit.rule_id {
        Some(id) => format!("rules[{}] (ID \"{id}\")", hit.rule),
        None => format!("rules[{}]", hit.rule),
    };
    let help = match &g.description {
        Some(text) => {
            format!("{text}; change the rule, or narrow the guardrail's `buckets:` scope")
        }
        None => "change the rule, or narrow the guardrail's `buckets:` scope".to_string(),
    };
    let d = Diagnostic::error(
        ErrorCode::GuardrailViolation,
        format!(
            "guardrail `{}`: {name} of {}: {}",
            g.id,
            entry_name(entry),
            hit.message
        ),
    )
    .at(field_span(&rule.spans, Some(hit.field), hit.index))
    .path(value_path(entry, hit.rule, Some(hit.field), hit.index))
    .help(help);
    // The guardrail label goes last: `findings` deduplicates on it.
    reference_label(d, entry, rule, hit.rule)
        .related(g.span, format!("guardrail `{}` declared here", g.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, Sources};

    /// Loads `files` (which must be valid) and returns `code@file:line:col path`
    /// for each finding, then its related places `  ~ file:line:col message`.
    fn show(files: &[(&str, &str)]) -> Vec<String> {
        let mut sources = Sources::new();
        for (name, text) in files {
            sources.add(SourceFile::new(*name, *text));
        }
        let loaded = crate::policy::load(&sources);
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        let mut out = Vec::new();
        for d in findings(&loaded.policy) {
            let sev = match (d.is_suppressed(), d.severity) {
                (true, _) => "S",
                (false, Severity::Error) => "E",
                (false, Severity::Warning) => "W",
            };
            out.push(format!(
                "{sev} {}@{} {}",
                d.code,
                d.span.map(|s| sources.place(s)).unwrap_or_default(),
                d.path.unwrap_or_default()
            ));
            for r in d.related {
                out.push(format!("  ~ {} {}", sources.place(r.span), r.message));
            }
            if let Some(s) = d.suppressed {
                out.push(format!(
                    "  ! allowed at {}: {}",
                    sources.place(s.span),
                    s.reason.as_deref().unwrap_or("-")
                ));
            }
        }
        out
    }

    fn check(files: &[(&str, &str)], want: &[&str]) {
        let got = show(files);
        assert_eq!(got, want, "\ngot:\n{}\n", got.join("\n"));
    }

    #[test]
    fn lints_point_at_values() {
        let text = "\
version: 1
buckets:
  - name: bk1
    rules:
      - AllowedOrigins: ['*']
        AllowedMethods: [GET]
        AllowedHeaders: ['*']
      - AllowedOrigins: [https://a.com, https://a.com/]
        AllowedMethods: [GET]
        MaxAgeSeconds: 86400
      - AllowedOrigins: [https://b.com]
        AllowedMethods: [PUT]
        ExposeHeaders: [x-amz-request-id]
";
        check(
            &[("p.yaml", text)],
            &[
                "W shadowed-rule@p.yaml:8:9 buckets[name=bk1].rules[1]",
                "  ~ p.yaml:5:9 rules[0] matches first",
                "W origin-never-matches@p.yaml:8:41 buckets[name=bk1].rules[1].AllowedOrigins[1]",
                "W max-age-over-browser-cap@p.yaml:10:24 buckets[name=bk1].rules[1].MaxAgeSeconds",
                "W missing-allowed-headers@p.yaml:12:26 buckets[name=bk1].rules[2].AllowedMethods[0]",
            ],
        );
    }

    #[test]
    fn spliced_rulesets_are_reported_once_at_the_ruleset() {
        let rulesets = "\
version: 1
rulesets:
  slow:
    - {AllowedOrigins: [https://a.com], AllowedMethods: [GET], MaxAgeSeconds: 86400}
    - {AllowedOrigins: [https://b.com], AllowedMethods: [GET], MaxAgeSeconds: 86400}
";
        let buckets = "\
version: 1
buckets:
  - name: one
    rules: [{AllowedOrigins: [https://c.com], AllowedMethods: [GET]}, {ruleset: slow}]
  - name: two
    rules: [{ruleset: slow}]
  - match: 'app-*'
    rules: [{ruleset: slow}]
";
        check(
            &[("r.yaml", rulesets), ("b.yaml", buckets)],
            &[
                "W max-age-over-browser-cap@r.yaml:4:79 rulesets.slow[0].MaxAgeSeconds",
                "  ~ b.yaml:4:81 rules[1] of bucket `one` comes from ruleset `slow` here",
                "W max-age-over-browser-cap@r.yaml:5:79 rulesets.slow[1].MaxAgeSeconds",
                "  ~ b.yaml:4:81 rules[2] of bucket `one` comes from ruleset `slow` here",
            ],
        );
    }

    const GUARDS: &str = "\
version: 1
guardrails:
  - id: no-public-writes
    description: Write methods must never be open to every origin
    forbid: {origins: ['*'], methods: [PUT, POST, DELETE]}
  - id: prod-https
    buckets: 'prod-*'
    require: {origin_scheme: https}
";

    #[test]
    fn guardrails_on_named_entries() {
        let buckets = "\
version: 1
buckets:
  - name: prod-web
    rules:
      - {ID: up, AllowedOrigins: [http://a.com, '*'], AllowedMethods: [GET, PUT], AllowedHeaders: ['*'], ExposeHeaders: [ETag]}
  - name: dev-web
    rules:
      - {AllowedOrigins: [http://a.com], AllowedMethods: [GET]}
  - name: prod-empty
    rules: []
";
        // `wildcard-origin-with-writes` is off by default: a `lints:` level turns it on.
        let on = "version: 1\nlints:\n  wildcard-origin-with-writes: warn\n";
        check(
            &[("g.yaml", GUARDS), ("b.yaml", buckets), ("l.yaml", on)],
            &[
                "W wildcard-origin-with-writes@b.yaml:5:49 buckets[name=prod-web].rules[0].AllowedOrigins[1]",
                "W http-origin@b.yaml:5:35 buckets[name=prod-web].rules[0].AllowedOrigins[0]",
                "E guardrail-violation@b.yaml:5:49 buckets[name=prod-web].rules[0].AllowedOrigins[1]",
                "  ~ g.yaml:3:9 guardrail `no-public-writes` declared here",
                "E guardrail-violation@b.yaml:5:35 buckets[name=prod-web].rules[0].AllowedOrigins[0]",
                "  ~ g.yaml:6:9 guardrail `prod-https` declared here",
                "E guardrail-violation@b.yaml:5:49 buckets[name=prod-web].rules[0].AllowedOrigins[1]",
                "  ~ g.yaml:6:9 guardrail `prod-https` declared here",
                "W http-origin@b.yaml:8:27 buckets[name=dev-web].rules[0].AllowedOrigins[0]",
            ],
        );
    }

    #[test]
    fn guardrails_on_match_entries_only_when_scope_covers() {
        let buckets = "\
version: 1
buckets:
  - match: 'prod-web-*'
    rules: [{AllowedOrigins: [http://a.com], AllowedMethods: [GET]}]
  - match: '*-web'
    rules: [{AllowedOrigins: [http://b.com], AllowedMethods: [GET]}]
  - match: 'prod-?'
    rules: [{AllowedOrigins: [http://c.com], AllowedMethods: [GET]}]
";
        let got = show(&[("g.yaml", GUARDS), ("b.yaml", buckets)]);
        let errors: Vec<&String> = got.iter().filter(|l| l.starts_with("E ")).collect();
        assert_eq!(
            errors,
            [
                "E guardrail-violation@b.yaml:4:31 buckets[match=prod-web-*].rules[0].AllowedOrigins[0]"
            ],
            "{got:#?}"
        );
    }

    #[test]
    fn glob_coverage_is_sound() {
        let glob = |g: &str| globset::Glob::new(g).unwrap().compile_matcher();
        for (scope, pattern, want) in [
            ("*", "anything-[a]", true),
            ("prod-*", "prod-*", true),
            ("prod-*", "prod-web-*", true),
            ("*-web", "prod-*-web", true),
            ("prod-*", "*-prod", false),
            ("prod-*", "pro*", false),
            ("prod-?", "prod-*", false),
            ("prod-[ab]", "prod-a", false),
            ("prod-a", "prod-a", true),
        ] {
            assert_eq!(
                glob_covers(scope, &glob(scope), pattern),
                want,
                "{scope} vs {pattern}"
            );
        }
    }

    #[test]
    fn certain_match_overlaps_are_errors() {
        let rules = "rules: [{AllowedOrigins: [https://a.com], AllowedMethods: [GET]}]";
        let text = format!(
            "version: 1\nbuckets:\n  - match: 'app-*'\n    {rules}\n  - match: 'app-*'\n    tags: {{team: web}}\n    {rules}\n  - match: 'app-web-*'\n    {rules}\n  - match: '*-prod'\n    {rules}\n  - match: 'logs-*'\n    tags: {{a: b}}\n    {rules}\n  - match: 'logs-*'\n    tags: {{c: d}}\n    {rules}\n"
        );
        check(
            &[("p.yaml", &text)],
            &[
                "E overlapping-match@p.yaml:5:12 buckets[match=app-*].match",
                "  ~ p.yaml:3:12 also selects them",
                "E overlapping-match@p.yaml:8:12 buckets[match=app-web-*].match",
                "  ~ p.yaml:3:12 also selects them",
            ],
        );
        let same = format!(
            "version: 1\nbuckets:\n  - match: 'x-*'\n    {rules}\n  - match: 'x-*'\n    {rules}\n"
        );
        check(
            &[("p.yaml", &same)],
            &[
                "E overlapping-match@p.yaml:5:12 buckets[match=x-*].match",
                "  ~ p.yaml:3:12 also selects them",
            ],
        );
    }

    #[test]
    fn no_findings_for_clean_policies() {
        check(
            &[(
                "p.yaml",
                "version: 1\nbuckets:\n  - name: abc\n    rules: [{AllowedOrigins: [https://a.com], AllowedMethods: [GET]}]\n  - name: none\n    rules: []\n",
            )],
            &[],
        );
    }

    /// One entry's findings under `allow:` on the entry, on a rule, and `lints:`
    /// levels (`deny` an error with a label, `allow` suppressed everywhere).
    #[test]
    fn levels_and_allow_lists() {
        // (`missing-etag-exposure` is off by default: `allow` keeps it off, so its
        // finding on rules[1] is not even reported as suppressed.)
        let levels = "version: 1\nlints:\n  http-origin: deny\n  missing-allowed-headers: allow\n  missing-etag-exposure: allow\n";
        let buckets = "\
version: 1
buckets:
  - name: bk1
    allow:
      - {code: max-age-over-browser-cap, reason: CDN caches preflights}
    rules:
      - {AllowedOrigins: [http://a.com], AllowedMethods: [GET], MaxAgeSeconds: 86400}
      - AllowedOrigins: [http://b.com]
        AllowedMethods: [PUT]
        allow: [http-origin]
  - name: bk2
    rules:
      - {AllowedOrigins: [http://c.com], AllowedMethods: [GET], MaxAgeSeconds: 86400}
";
        check(
            &[("l.yaml", levels), ("b.yaml", buckets)],
            &[
                "E http-origin@b.yaml:7:27 buckets[name=bk1].rules[0].AllowedOrigins[0]",
                "  ~ l.yaml:3:16 `http-origin: deny` makes it an error",
                "S max-age-over-browser-cap@b.yaml:7:80 buckets[name=bk1].rules[0].MaxAgeSeconds",
                "  ! allowed at b.yaml:5:16: CDN caches preflights",
                "S http-origin@b.yaml:8:26 buckets[name=bk1].rules[1].AllowedOrigins[0]",
                "  ~ l.yaml:3:16 `http-origin: deny` makes it an error",
                "  ! allowed at b.yaml:10:17: -",
                "S missing-allowed-headers@b.yaml:9:26 buckets[name=bk1].rules[1].AllowedMethods[0]",
                "  ! allowed at l.yaml:4:28: -",
                "E http-origin@b.yaml:13:27 buckets[name=bk2].rules[0].AllowedOrigins[0]",
                "  ~ l.yaml:3:16 `http-origin: deny` makes it an error",
                "W max-age-over-browser-cap@b.yaml:13:80 buckets[name=bk2].rules[0].MaxAgeSeconds",
            ],
        );
    }

    /// The lints that are off by default report nothing, not even as suppressed,
    /// until a `lints:` level of `warn` or `deny` turns them on; `allow` keeps them off.
    #[test]
    fn off_by_default_lints_run_only_when_turned_on() {
        let buckets = "\
version: 1
buckets:
  - name: uploads
    rules:
      - {AllowedOrigins: ['*'], AllowedMethods: [PUT], AllowedHeaders: ['*']}
";
        check(&[("b.yaml", buckets)], &[]);
        let allow = "version: 1\nlints:\n  wildcard-origin-with-writes: allow\n";
        check(&[("b.yaml", buckets), ("l.yaml", allow)], &[]);
        let on = "version: 1\nlints:\n  wildcard-origin-with-writes: warn\n  missing-etag-exposure: deny\n";
        check(
            &[("b.yaml", buckets), ("l.yaml", on)],
            &[
                "W wildcard-origin-with-writes@b.yaml:5:27 buckets[name=uploads].rules[0].AllowedOrigins[0]",
                "E missing-etag-exposure@b.yaml:5:50 buckets[name=uploads].rules[0].AllowedMethods[0]",
                "  ~ l.yaml:4:26 `missing-etag-exposure: deny` makes it an error",
            ],
        );
    }

    /// A ruleset shared by two entries: one entry's `allow:` does not hide the
    /// other's finding, which is reported once, unsuppressed; allowed by both, it
    /// is reported once, suppressed. Guardrails are never suppressed.
    #[test]
    fn allow_on_one_entry_does_not_hide_a_shared_ruleset_from_another() {
        let rulesets = "\
version: 1
rulesets:
  slow: [{AllowedOrigins: ['*'], AllowedMethods: [GET, PUT], AllowedHeaders: ['*'], ExposeHeaders: [ETag], MaxAgeSeconds: 86400}]
guardrails:
  - id: short
    require: {max_age_seconds_at_most: 600}
";
        let two = |second_allows: bool| {
            format!(
                "version: 1\nbuckets:\n  - name: one\n    allow: [max-age-over-browser-cap]\n    rules: [{{ruleset: slow}}]\n  - name: two\n{}    rules: [{{ruleset: slow}}]\n",
                if second_allows {
                    "    allow: [max-age-over-browser-cap]\n"
                } else {
                    ""
                }
            )
        };
        let got = show(&[("r.yaml", rulesets), ("b.yaml", &two(false))]);
        let heads: Vec<&String> = got.iter().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(
            heads,
            [
                "E guardrail-violation@r.yaml:3:123 rulesets.slow[0].MaxAgeSeconds",
                "W max-age-over-browser-cap@r.yaml:3:123 rulesets.slow[0].MaxAgeSeconds",
            ],
            "{got:#?}"
        );
        let got = show(&[("r.yaml", rulesets), ("b.yaml", &two(true))]);
        let heads: Vec<&String> = got.iter().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(
            heads,
            [
                "S max-age-over-browser-cap@r.yaml:3:123 rulesets.slow[0].MaxAgeSeconds",
                "E guardrail-violation@r.yaml:3:123 rulesets.slow[0].MaxAgeSeconds",
            ],
            "{got:#?}"
        );
    }
}
