//! Validation: positioned YAML nodes in, a [`Policy`] and every diagnostic out.
//!
//! Catches everything S3 would reject on PutBucketCors before any call is made,
//! plus the file format's own rules (types, unknown keys, rulesets, ownership).
//! It never stops at the first problem: each file and entry is checked on its own,
//! and a broken entry is left out of the policy while the rest is still checked.
//!
//! The driver is here: files in, the top-level keys, and the node helpers every
//! part uses. The parts of a file are checked in `rules` (rulesets and CORS
//! rules), `buckets` (bucket entries) and `guardrails`; `suggest` finds the key
//! the user meant.

mod accounts;
mod buckets;
mod guardrails;
mod lints;
mod rules;
mod suggest;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::yaml::{self, Node, NodeKind};
use super::{Loaded, Policy, PolicyRule, VERSION};
use crate::diag::{Diagnostic, ErrorCode, FileId, Sources, Span};
use crate::model::CorsRule;
pub use accounts::is_account_id;
pub use buckets::AWS_REGIONS;
use suggest::suggest;

const TOP_KEYS: &[&str] = &[
    "version",
    "accounts",
    "rulesets",
    "buckets",
    "guardrails",
    "lints",
];

/// Validates every file of `sources` together (rulesets are shared across files).
///
/// A fleet file's bucket entries are never all held as YAML nodes: the first pass
/// reads each file with its top-level `buckets:` items dropped as they are read, so
/// the top-level keys, rulesets and guardrails of every file are known; the second
/// reads each file again and validates each bucket entry as soon as it is read.
/// Diagnostics come out in the same order as from one pass over whole trees.
pub fn validate(sources: &Sources) -> Loaded {
    let mut v = Validator::default();
    let mut roots = Vec::new();
    // How many bucket entries the files hold, so the policy's list is allocated once.
    let mut entries = 0;
    for (id, file) in (0..).zip(sources.files()) {
        match yaml::parse_streaming(id, &file.text, Some(&mut |_| entries += 1)) {
            Err(d) => v.diags.push(d),
            Ok(yaml::Parsed { root: None, .. }) => v.diags.push(
                Diagnostic::error(ErrorCode::EmptyFile, "the policy file is empty")
                    .at(Span::new(id, 0, 0))
                    .help("start it with `version: 1`, or delete it"),
            ),
            Ok(yaml::Parsed {
                root: Some(root),
                streamed,
            }) => roots.push((id, root, streamed)),
        }
    }
    let files: Vec<(FileId, bool, TopLevel<'_>)> = roots
        .iter()
        .filter_map(|(id, root, streamed)| Some((*id, *streamed, v.top_level(*id, root)?)))
        .collect();
    // Rulesets first: any file may use a ruleset declared in any other.
    for (_, _, top) in &files {
        if let Some(node) = top.rulesets {
            v.rulesets(node);
        }
    }
    let mut policy = Policy::default();
    policy.buckets.reserve_exact(entries);
    for (id, streamed, top) in &files {
        if let Some(node) = top.buckets {
            match (&node.kind, streamed) {
                // The list's items were dropped in the first pass: read them again.
                (NodeKind::Seq(_), true) => {
                    let text = &sources.files()[*id as usize].text;
                    let mut index = 0;
                    let mut sink = |item: Node| {
                        let path = format!("buckets[{index}]");
                        index += 1;
                        if let Some(entry) = v.bucket(&item, &path) {
                            policy.buckets.push(entry);
                        }
                    };
                    // The same text parsed without an error the first time.
                    if let Err(d) = yaml::parse_streaming(*id, text, Some(&mut sink)) {
                        v.diags.push(d);
                    }
                }
                _ => v.buckets(node, &mut policy.buckets),
            }
        }
        if let Some(node) = top.guardrails {
            v.guardrails(node, &mut policy.guardrails);
        }
        if let Some(node) = top.accounts {
            v.accounts(node, &mut policy.accounts);
        }
        if let Some(node) = top.lints {
            v.lint_levels(node, &mut policy.lints);
        }
    }
    v.check_entry_accounts(&policy.accounts);
    policy.buckets.shrink_to_fit();
    Loaded {
        policy,
        diagnostics: v.diags,
    }
}

struct TopLevel<'n> {
    accounts: Option<&'n Node>,
    rulesets: Option<&'n Node>,
    buckets: Option<&'n Node>,
    guardrails: Option<&'n Node>,
    lints: Option<&'n Node>,
}

struct Ruleset {
    /// The rules with `ruleset` set: the list an entry using only this ruleset holds.
    rules: Arc<[PolicyRule]>,
    span: Span,
}

#[derive(Default)]
struct Validator {
    diags: Vec<Diagnostic>,
    rulesets: BTreeMap<String, Ruleset>,
    /// Rulesets declared with errors: references to them are not reported again.
    broken_rulesets: Vec<String>,
    /// Where each exact bucket name was first declared, valid entry or not.
    names: HashMap<String, Span>,
    /// Every valid bucket entry `account:` with its span and path, checked against
    /// `accounts:` once every file is read.
    entry_accounts: Vec<(String, Span, String)>,
    /// Rule lists made only of `ruleset:` references, by the names in order, with
    /// their size as S3 XML: entries with the same references share one list.
    spliced: HashMap<Vec<String>, (Arc<[PolicyRule]>, usize)>,
    /// Every distinct rule read so far: equal rules share one allocation.
    interned: HashSet<Arc<CorsRule>>,
}

/// A mapping's entries by key, after duplicate and unknown keys were reported.
struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
    /// Known keys suggested for unknown ones: their absence is not reported again.
    suggested: Vec<&'static str>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|&(_, _, v)| v)
    }

    fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| k.span)
    }
}

impl Validator {
    fn error(&mut self, code: ErrorCode, span: Span, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::error(code, message)
                .at(span)
                .path(path)
                .help(help),
        );
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        let help = match (&node.kind, expected) {
            (NodeKind::Scalar { .. }, e) if e.starts_with("a list") => {
                format!("write it as a list: `[{}]`", node.as_scalar().unwrap_or(""))
            }
            _ => format!("give {expected} here"),
        };
        let message = format!("`{path}` must be {expected}, found {}", node.type_name());
        self.error(ErrorCode::WrongType, node.span, path, message, &help);
    }

    /// Reads a mapping, reporting non-string keys, duplicate keys and unknown keys.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        what: &str,
        known: &[&'static str],
    ) -> Option<Fields<'n>> {
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, path, what);
            return None;
        };
        let mut fields = Fields {
            entries: Vec::with_capacity(pairs.len()),
            suggested: Vec::new(),
        };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (key, value) in pairs {
            let Some(name) = key.as_scalar() else {
                self.wrong_type(key, path, "a mapping with string keys");
                continue;
            };
            let key_path = join(path, name);
            if let Some(&first) = seen.get(name) {
                self.diags.push(
                    Diagnostic::error(ErrorCode::DuplicateKey, format!("duplicate key `{name}`"))
                        .at(key.span)
                        .path(&key_path)
                        .help(
                            "remove one of the two; YAML keeps only the last, which hides mistakes",
                        )
                        .related(first, "first given here"),
                );
                continue;
            }
            seen.insert(name, key.span);
            if !known.contains(&name) {
                let help = match suggest(name, known) {
                    Some(s) => {
                        fields.suggested.push(s);
                        format!("did you mean `{s}`?")
                    }
                    None => format!("known keys here: {}", known.join(", ")),
                };
                self.error(
                    ErrorCode::UnknownKey,
                    key.span,
                    &key_path,
                    format!("unknown key `{name}` in {what}"),
                    &help,
                );
                continue;
            }
            fields.entries.push((name, key, value));
        }
        Some(fields)
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    /// `true` or `false`, unquoted.
    fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Scalar { text, plain: true } if text == "true" => Some(true),
            NodeKind::Scalar { text, plain: true } if text == "false" => Some(false),
            _ => {
                self.wrong_type(node, path, "`true` or `false` (unquoted)");
                None
            }
        }
    }

    /// A list of non-empty strings, with each value's span.
    fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<(String, Span)>> {
        self.strings(node, path, false)
    }

    /// A list of strings, with each value's span; an empty string is an error unless
    /// `empty_ok` (S3 accepts empty origins and header names: the lints flag them).
    fn strings(&mut self, node: &Node, path: &str, empty_ok: bool) -> Option<Vec<(String, Span)>> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, path, "a list of strings");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match self.string(item, &item_path) {
                Some(s) if s.is_empty() && !empty_ok => {
                    self.error(
                        ErrorCode::EmptyValue,
                        item.span,
                        &item_path,
                        format!("empty string in `{path}`"),
                        "remove the empty entry",
                    );
                    ok = false;
                }
                Some(s) => out.push((s, item.span)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn top_level<'n>(&mut self, file: FileId, root: &'n Node) -> Option<TopLevel<'n>> {
        let fields = self.mapping(root, "", "a policy file (a mapping)", TOP_KEYS)?;
        match fields.get("version") {
            None => {
                self.error(
                    ErrorCode::MissingVersion,
                    Span {
                        file,
                        start: 0,
                        end: 0,
                    },
                    "version",
                    "the policy file has no `version`".into(),
                    "add `version: 1` as the first line",
                );
            }
            Some(node) => {
                let version = match &node.kind {
                    NodeKind::Scalar { text, plain: true } => text.parse::<i64>().ok(),
                    _ => None,
                };
                if version != Some(VERSION) {
                    let shown = node.as_scalar().unwrap_or(node.type_name());
                    self.error(
                        ErrorCode::UnsupportedVersion,
                        node.span,
                        "version",
                        format!("unsupported policy file version `{shown}`"),
                        "this s3cors reads `version: 1`; upgrade s3cors or fix the version",
                    );
                    // Another version may mean another format: check nothing else.
                    return None;
                }
            }
        }
        Some(TopLevel {
            accounts: fields.get("accounts"),
            rulesets: fields.get("rulesets"),
            buckets: fields.get("buckets"),
            guardrails: fields.get("guardrails"),
            lints: fields.get("lints"),
        })
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A value as the user wrote it, for messages.
fn describe(node: &Node) -> String {
    match node.as_scalar() {
        Some(text) => format!("`{text}`"),
        None => node.type_name().to_string(),
    }
}
