//! Validation: positioned YAML nodes in, a [`Policy`] and every diagnostic out.
//!
//! Catches everything S3 would reject on PutBucketCors before any call is made,
//! plus the file format's own rules (types, unknown keys, rulesets, ownership).
//! It never stops at the first problem: each file and entry is checked on its own,
//! and a broken entry is left out of the policy while the rest is still checked.

use std::collections::{BTreeMap, HashMap};

use globset::{GlobBuilder, GlobMatcher};

use super::yaml::{self, Node, NodeKind};
use super::{
    BucketEntry, BucketMatch, Forbid, Guardrail, Loaded, Policy, PolicyRule, Require, RuleSpans,
    Selector, VERSION,
};
use crate::diag::{Diagnostic, ErrorCode, FileId, Sources, Span, WarningCode};
use crate::model::{CorsConfig, CorsRule, MAX_ID_CHARS, MAX_RULES, MAX_XML_BYTES, Method};

const TOP_KEYS: &[&str] = &["version", "rulesets", "buckets", "guardrails"];
const BUCKET_KEYS: &[&str] = &["name", "match", "tags", "account", "region", "rules"];
const RULE_KEYS: &[&str] = &[
    "ID",
    "AllowedOrigins",
    "AllowedMethods",
    "AllowedHeaders",
    "ExposeHeaders",
    "MaxAgeSeconds",
];
const RULE_KEYS_WITH_REF: &[&str] = &[
    "ID",
    "AllowedOrigins",
    "AllowedMethods",
    "AllowedHeaders",
    "ExposeHeaders",
    "MaxAgeSeconds",
    "ruleset",
];
const GUARDRAIL_KEYS: &[&str] = &["id", "description", "buckets", "forbid", "require"];
const FORBID_KEYS: &[&str] = &["origins", "methods", "headers"];
const REQUIRE_KEYS: &[&str] = &[
    "origin_scheme",
    "max_age_seconds_at_most",
    "origins_within",
    "methods_within",
];

/// Validates every file of `sources` together (rulesets are shared across files).
pub fn validate(sources: &Sources) -> Loaded {
    let mut v = Validator::default();
    let mut roots = Vec::new();
    for (id, file) in (0..).zip(sources.files()) {
        match yaml::parse(id, &file.text) {
            Err(d) => v.diags.push(d),
            Ok(None) => v.diags.push(
                Diagnostic::error(ErrorCode::EmptyFile, "the policy file is empty")
                    .at(Span::new(id, 0, 0))
                    .help("start it with `version: 1`, or delete it"),
            ),
            Ok(Some(root)) => roots.push((id, root)),
        }
    }
    let files: Vec<TopLevel<'_>> = roots
        .iter()
        .filter_map(|(id, root)| v.top_level(*id, root))
        .collect();
    // Rulesets first: any file may use a ruleset declared in any other.
    for top in &files {
        if let Some(node) = top.rulesets {
            v.rulesets(node);
        }
    }
    let mut policy = Policy::default();
    for top in &files {
        if let Some(node) = top.buckets {
            v.buckets(node, &mut policy.buckets);
        }
        if let Some(node) = top.guardrails {
            v.guardrails(node, &mut policy.guardrails);
        }
    }
    Loaded {
        policy,
        diagnostics: v.diags,
    }
}

struct TopLevel<'n> {
    rulesets: Option<&'n Node>,
    buckets: Option<&'n Node>,
    guardrails: Option<&'n Node>,
}

struct Ruleset {
    rules: Vec<PolicyRule>,
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

    /// A list of non-empty strings, with each value's span.
    fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<(String, Span)>> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, path, "a list of strings");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match self.string(item, &item_path) {
                Some(s) if s.is_empty() => {
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
            rulesets: fields.get("rulesets"),
            buckets: fields.get("buckets"),
            guardrails: fields.get("guardrails"),
        })
    }

    fn rulesets(&mut self, node: &Node) {
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, "rulesets", "a mapping of names to rule lists");
            return;
        };
        let mut seen_here: HashMap<&str, Span> = HashMap::new();
        for (key, value) in pairs {
            let Some(name) = key.as_scalar() else {
                self.wrong_type(key, "rulesets", "a mapping with string keys");
                continue;
            };
            let path = format!("rulesets.{name}");
            let first = seen_here
                .get(name)
                .copied()
                .or_else(|| self.rulesets.get(name).map(|r| r.span));
            if let Some(first) = first {
                self.diags.push(
                    Diagnostic::error(
                        ErrorCode::DuplicateRuleset,
                        format!("ruleset `{name}` is declared twice"),
                    )
                    .at(key.span)
                    .path(&path)
                    .help("rename one of them, or delete the copy")
                    .related(first, "first declared here"),
                );
                continue;
            }
            seen_here.insert(name, key.span);
            let errors_before = self.error_count();
            let rules = match &value.kind {
                NodeKind::Seq(items) if items.is_empty() => {
                    self.error(
                        ErrorCode::EmptyRuleset,
                        value.span,
                        &path,
                        format!("ruleset `{name}` has no rules"),
                        "give it at least one rule, or delete it",
                    );
                    None
                }
                NodeKind::Seq(items) => {
                    let rules: Vec<_> = items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, item)| self.rule(item, &format!("{path}[{i}]"), RULE_KEYS))
                        .collect();
                    Some(rules)
                }
                _ => {
                    self.wrong_type(value, &path, "a list of rules");
                    None
                }
            };
            match rules {
                Some(rules) if self.error_count() == errors_before => {
                    self.rulesets.insert(
                        name.to_string(),
                        Ruleset {
                            rules,
                            span: key.span,
                        },
                    );
                }
                _ => self.broken_rulesets.push(name.to_string()),
            }
        }
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// One rule mapping. Returns `None` when the rule has an error.
    fn rule(&mut self, node: &Node, path: &str, known: &[&'static str]) -> Option<PolicyRule> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "a CORS rule", known)?;
        let mut rule = CorsRule::default();
        let mut spans = RuleSpans {
            rule: node.span,
            id: None,
            allowed_origins: Vec::new(),
            allowed_methods: Vec::new(),
            allowed_headers: Vec::new(),
            expose_headers: Vec::new(),
            max_age_seconds: None,
        };

        if let Some(id_node) = fields.get("ID") {
            let id_path = join(path, "ID");
            if let Some(id) = self.string(id_node, &id_path) {
                let chars = id.chars().count();
                if chars > MAX_ID_CHARS {
                    self.error(
                        ErrorCode::IdTooLong,
                        id_node.span,
                        &id_path,
                        format!("rule ID is {chars} characters; S3 allows at most {MAX_ID_CHARS}"),
                        "shorten the ID",
                    );
                }
                spans.id = Some(id_node.span);
                rule.id = Some(id);
            }
        }

        let origins = self.required_list(
            &fields,
            node,
            path,
            "AllowedOrigins",
            ErrorCode::MissingAllowedOrigins,
            "add `AllowedOrigins: [https://app.example.com]` (or `[\"*\"]` for every origin)",
        );
        for (i, (origin, span)) in origins.iter().enumerate() {
            self.wildcards(
                origin,
                *span,
                &format!("{path}.AllowedOrigins[{i}]"),
                "AllowedOrigin",
            );
        }
        (rule.allowed_origins, spans.allowed_origins) = origins.into_iter().unzip();

        let methods = self.required_list(
            &fields,
            node,
            path,
            "AllowedMethods",
            ErrorCode::MissingAllowedMethods,
            "add `AllowedMethods: [GET, HEAD]`",
        );
        for (i, (text, span)) in methods.into_iter().enumerate() {
            match text.parse::<Method>() {
                Ok(m) => {
                    rule.allowed_methods.push(m);
                    spans.allowed_methods.push(span);
                }
                Err(()) => {
                    let upper = text.to_ascii_uppercase();
                    let help = if upper.parse::<Method>().is_ok() {
                        format!("write `{upper}`: S3 methods are case-sensitive")
                    } else if upper == "OPTIONS" {
                        "remove it: S3 answers OPTIONS preflights itself".to_string()
                    } else {
                        "use GET, PUT, POST, DELETE or HEAD".to_string()
                    };
                    self.error(
                        ErrorCode::UnsupportedMethod,
                        span,
                        &format!("{path}.AllowedMethods[{i}]"),
                        format!("unsupported method `{text}`: S3 rejects it (\"Found unsupported HTTP method in CORS config\")"),
                        &help,
                    );
                }
            }
        }

        if let Some(list) = fields.get("AllowedHeaders") {
            let headers_path = join(path, "AllowedHeaders");
            for (i, (header, span)) in self
                .string_list(list, &headers_path)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                self.wildcards(
                    &header,
                    span,
                    &format!("{headers_path}[{i}]"),
                    "AllowedHeader",
                );
                rule.allowed_headers.push(header);
                spans.allowed_headers.push(span);
            }
        }

        if let Some(list) = fields.get("ExposeHeaders") {
            let expose_path = join(path, "ExposeHeaders");
            for (i, (header, span)) in self
                .string_list(list, &expose_path)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                if header.contains('*') {
                    self.error(
                        ErrorCode::WildcardExposeHeader,
                        span,
                        &format!("{expose_path}[{i}]"),
                        format!("ExposeHeader `{header}` contains a wildcard; S3 does not support wildcards here"),
                        "list each response header to expose by name (e.g. ETag, x-amz-request-id)",
                    );
                }
                rule.expose_headers.push(header);
                spans.expose_headers.push(span);
            }
        }

        if let Some(age) = fields.get("MaxAgeSeconds") {
            let age_path = join(path, "MaxAgeSeconds");
            let text = age.as_scalar().unwrap_or_default();
            match text.parse::<i64>() {
                Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => {
                    rule.max_age_seconds = i32::try_from(n).ok();
                    spans.max_age_seconds = Some(age.span);
                }
                Ok(n) if n < 0 => self.error(
                    ErrorCode::InvalidMaxAge,
                    age.span,
                    &age_path,
                    format!("MaxAgeSeconds is negative ({n})"),
                    "use a whole number of seconds from 0 up (browsers cap it at 7200 or 86400)",
                ),
                Ok(n) => self.error(
                    ErrorCode::InvalidMaxAge,
                    age.span,
                    &age_path,
                    format!("MaxAgeSeconds {n} is too large"),
                    "use at most 2147483647 (browsers cap it at 7200 or 86400 anyway)",
                ),
                Err(_) => self.error(
                    ErrorCode::InvalidMaxAge,
                    age.span,
                    &age_path,
                    format!(
                        "MaxAgeSeconds must be a whole number of seconds, found {}",
                        describe(age)
                    ),
                    "write a whole number such as `3600`",
                ),
            }
        }

        (self.error_count() == errors_before).then_some(PolicyRule {
            rule,
            ruleset: None,
            reference: None,
            spans,
        })
    }

    /// A rule's required list (origins or methods): absent or empty is an error.
    fn required_list(
        &mut self,
        fields: &Fields<'_>,
        rule: &Node,
        path: &str,
        key: &'static str,
        code: ErrorCode,
        help: &str,
    ) -> Vec<(String, Span)> {
        let key_path = join(path, key);
        match fields.get(key) {
            None if fields.suggested.contains(&key) => Vec::new(),
            None => {
                self.error(
                    code,
                    rule.span,
                    path,
                    format!("the rule has no {key}; S3 rejects it as MalformedXML"),
                    help,
                );
                Vec::new()
            }
            Some(list) => {
                let values = self.string_list(list, &key_path).unwrap_or_default();
                if values.is_empty()
                    && matches!(&list.kind, NodeKind::Seq(items) if items.is_empty())
                {
                    self.error(
                        code,
                        list.span,
                        &key_path,
                        format!("{key} is empty; S3 rejects it as MalformedXML"),
                        help,
                    );
                }
                values
            }
        }
    }

    fn wildcards(&mut self, value: &str, span: Span, path: &str, element: &str) {
        if value.matches('*').count() > 1 {
            self.error(
                ErrorCode::MultipleWildcards,
                span,
                path,
                format!("{element} `{value}` has more than one `*`; S3 allows one wildcard"),
                "keep a single `*` (for example `https://*.example.com`), or list the values separately",
            );
        }
    }

    fn buckets(&mut self, node: &Node, out: &mut Vec<BucketEntry>) {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, "buckets", "a list of bucket entries");
            return;
        };
        out.reserve(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("buckets[{i}]");
            if let Some(entry) = self.bucket(item, &path) {
                out.push(entry);
            }
        }
    }

    fn bucket(&mut self, node: &Node, path: &str) -> Option<BucketEntry> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "a bucket entry", BUCKET_KEYS)?;
        let selector = match (fields.get("name"), fields.get("match")) {
            (Some(_), Some(_)) => {
                let span = fields.key_span("match").unwrap_or(node.span);
                self.error(
                    ErrorCode::ConflictingKeys,
                    span,
                    path,
                    "a bucket entry has both `name` and `match`".into(),
                    "use `name` for one bucket or `match` for a glob, in separate entries",
                );
                None
            }
            (None, None) => {
                self.error(
                    ErrorCode::MissingKey,
                    node.span,
                    path,
                    "a bucket entry needs `name` or `match`".into(),
                    "add `name: my-bucket` (one bucket) or `match: \"prefix-*\"` (a glob)",
                );
                None
            }
            (Some(name_node), None) => {
                let name_path = join(path, "name");
                self.string(name_node, &name_path).and_then(|name| {
                    self.duplicate_name(&name, name_node.span, path);
                    self.bucket_name(&name, name_node.span, &name_path)
                        .then_some((Selector::Name(name), name_node.span))
                })
            }
            (None, Some(glob_node)) => {
                let match_path = join(path, "match");
                self.string(glob_node, &match_path).and_then(|pattern| {
                    let glob = self.glob(&pattern, glob_node.span, &match_path)?;
                    Some((
                        Selector::Match(BucketMatch {
                            pattern,
                            glob,
                            tags: BTreeMap::new(),
                        }),
                        glob_node.span,
                    ))
                })
            }
        };

        let mut tags = BTreeMap::new();
        if let Some(tags_node) = fields.get("tags") {
            let tags_path = join(path, "tags");
            if fields.get("match").is_none() {
                let span = fields.key_span("tags").unwrap_or(tags_node.span);
                self.error(
                    ErrorCode::ConflictingKeys,
                    span,
                    &tags_path,
                    "`tags` only narrows a `match` entry".into(),
                    "remove `tags`, or select buckets with `match:` and `tags:` together",
                );
            } else {
                tags = self.tags(tags_node, &tags_path);
            }
        }

        let account = fields.get("account").and_then(|n| {
            let account_path = join(path, "account");
            let account = self.string(n, &account_path)?;
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
                Some(account)
            } else {
                self.error(ErrorCode::InvalidAccount, n.span, &account_path,
                    format!("`{account}` is not an AWS account ID"),
                    "give the 12-digit account ID of the bucket owner, quoted: account: \"123456789012\"");
                None
            }
        });

        let region = fields.get("region").and_then(|n| {
            let region_path = join(path, "region");
            let region = self.string(n, &region_path)?;
            let ok = !region.is_empty()
                && region.len() <= 32
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                if !AWS_REGIONS.contains(&region.as_str()) {
                    let help = match suggest(&region, AWS_REGIONS) {
                        Some(s) => format!(
                            "did you mean `{s}`? A region AWS opened after this s3cors was \
                             built is fine as it is"
                        ),
                        None => "check the spelling (`aws ec2 describe-regions` lists them); a \
                                 region AWS opened after this s3cors was built is fine as it is"
                            .to_owned(),
                    };
                    self.diags.push(
                        Diagnostic::warning(
                            WarningCode::UnknownRegion,
                            format!("`{region}` is not an AWS region s3cors knows"),
                        )
                        .at(n.span)
                        .path(&region_path)
                        .help(help),
                    );
                }
                Some(region)
            } else {
                self.error(
                    ErrorCode::InvalidRegion,
                    n.span,
                    &region_path,
                    format!("`{region}` is not a region name"),
                    "write a region such as `eu-west-1`, or remove it to discover the region",
                );
                None
            }
        });

        let rules = match fields.get("rules") {
            None => {
                let span = fields
                    .key_span("name")
                    .or(fields.key_span("match"))
                    .unwrap_or(node.span);
                self.error(
                    ErrorCode::MissingKey,
                    span,
                    path,
                    "a bucket entry needs `rules`".into(),
                    "add `rules:` with the bucket's CORS rules, or `rules: []` for no CORS at all",
                );
                None
            }
            Some(rules_node) => self.bucket_rules(rules_node, &join(path, "rules")),
        };

        if self.error_count() != errors_before {
            return None;
        }
        let (mut selector, span) = selector?;
        if let Selector::Match(m) = &mut selector {
            m.tags = tags;
        }
        Some(BucketEntry {
            selector,
            account,
            region,
            rules: rules?,
            span,
        })
    }

    fn bucket_name(&mut self, name: &str, span: Span, path: &str) -> bool {
        // Names since 2018 are 3-63 of [a-z0-9.-]; older us-east-1 buckets may also
        // hold upper case and `_` (up to 255), so only what no bucket can be is refused.
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if name.len() >= 3 && name.len() <= 255 && valid_chars {
            return true;
        }
        let help = if name.contains(['*', '?', '[']) {
            format!("to select buckets by pattern, write `match: \"{name}\"` instead of `name:`")
        } else {
            "bucket names are 3-63 characters of a-z, 0-9, `.` and `-`".to_string()
        };
        self.error(
            ErrorCode::InvalidBucketName,
            span,
            path,
            format!("`{name}` is not a valid bucket name"),
            &help,
        );
        false
    }

    fn glob(&mut self, pattern: &str, span: Span, path: &str) -> Option<GlobMatcher> {
        match GlobBuilder::new(pattern).literal_separator(false).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    ErrorCode::InvalidGlob,
                    span,
                    path,
                    format!("invalid glob `{pattern}`: {}", e.kind()),
                    "use `*` for any run of characters, `?` for one, `{a,b}` for alternatives",
                );
                None
            }
        }
    }

    fn tags(&mut self, node: &Node, path: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, path, "a mapping of tag keys to values");
            return out;
        };
        for (key, value) in pairs {
            match (key.as_scalar(), value.as_scalar()) {
                (Some(k), Some(v)) => {
                    if out.insert(k.to_string(), v.to_string()).is_some() {
                        self.error(
                            ErrorCode::DuplicateKey,
                            key.span,
                            &join(path, k),
                            format!("duplicate tag `{k}`"),
                            "give each tag once",
                        );
                    }
                }
                _ => self.error(
                    ErrorCode::InvalidTag,
                    key.span,
                    path,
                    "a tag must be `key: value` with string values".into(),
                    "write tags as `{team: web, env: prod}`",
                ),
            }
        }
        out
    }

    /// A bucket's `rules:` list: rules and `ruleset:` references, spliced in order.
    fn bucket_rules(&mut self, node: &Node, path: &str) -> Option<Vec<PolicyRule>> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, path, "a list of rules (or `[]` for no CORS)");
            return None;
        };
        let mut rules = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match self.reference(item) {
                Some(Ok((name, span))) => match self.rulesets.get(&name) {
                    Some(set) => rules.extend(set.rules.iter().map(|r| PolicyRule {
                        ruleset: Some(name.clone()),
                        reference: Some(span),
                        ..r.clone()
                    })),
                    None if self.broken_rulesets.contains(&name) => ok = false,
                    None => {
                        let known: Vec<&str> = self.rulesets.keys().map(String::as_str).collect();
                        let help = match suggest(&name, &known) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if known.is_empty() => {
                                "declare it under `rulesets:` in any policy file".to_string()
                            }
                            None => format!("declared rulesets: {}", known.join(", ")),
                        };
                        self.error(
                            ErrorCode::UnknownRuleset,
                            span,
                            &join(&item_path, "ruleset"),
                            format!("unknown ruleset `{name}`"),
                            &help,
                        );
                        ok = false;
                    }
                },
                Some(Err(())) => ok = false,
                None => match self.rule(item, &item_path, RULE_KEYS_WITH_REF) {
                    Some(rule) => rules.push(rule),
                    None => ok = false,
                },
            }
        }
        if !ok {
            return None;
        }
        // A fleet file holds tens of thousands of entries: keep no spare capacity.
        rules.shrink_to_fit();
        if rules.len() > MAX_RULES {
            self.error(
                ErrorCode::TooManyRules,
                node.span,
                path,
                format!(
                    "{} rules after splicing rulesets; S3 allows at most {MAX_RULES}",
                    rules.len()
                ),
                "merge rules that share methods and headers (a rule takes many origins)",
            );
            return None;
        }
        let config = CorsConfig::new(rules.iter().map(|r| r.rule.clone()).collect());
        let size = config.xml_len();
        if size > MAX_XML_BYTES {
            self.error(
                ErrorCode::ConfigTooLarge,
                node.span,
                path,
                format!(
                    "the configuration is {size} bytes as S3 XML; S3 allows at most {MAX_XML_BYTES}"
                ),
                "use wildcard origins (`https://*.example.com`) or fewer rules",
            );
            return None;
        }
        Some(rules)
    }

    /// `Some` when the item is a `ruleset:` reference (a mapping holding only that key).
    fn reference(&mut self, item: &Node) -> Option<Result<(String, Span), ()>> {
        let NodeKind::Map(pairs) = &item.kind else {
            return None;
        };
        let (key, value) = pairs
            .iter()
            .find(|(k, _)| k.as_scalar() == Some("ruleset"))?;
        if pairs.len() > 1 {
            self.error(
                ErrorCode::ConflictingKeys,
                key.span,
                "ruleset",
                "a `ruleset:` reference cannot carry rule keys".into(),
                "put the reference and the extra rule in separate list items",
            );
            return Some(Err(()));
        }
        match self.string(value, "ruleset") {
            Some(name) => Some(Ok((name, value.span))),
            None => Some(Err(())),
        }
    }

    fn guardrails(&mut self, node: &Node, out: &mut Vec<Guardrail>) {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, "guardrails", "a list of guardrails");
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("guardrails[{i}]");
            let Some(g) = self.guardrail(item, &path) else {
                continue;
            };
            if let Some(first) = out.iter().find(|o| o.id == g.id) {
                self.diags.push(
                    Diagnostic::error(
                        ErrorCode::DuplicateGuardrail,
                        format!("guardrail id `{}` is used twice", g.id),
                    )
                    .at(g.span)
                    .path(join(&path, "id"))
                    .help("give every guardrail its own id")
                    .related(first.span, "first used here"),
                );
                continue;
            }
            out.push(g);
        }
    }

    fn guardrail(&mut self, node: &Node, path: &str) -> Option<Guardrail> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "a guardrail", GUARDRAIL_KEYS)?;
        let id_node = fields.get("id");
        let id = match id_node {
            Some(n) => self.string(n, &join(path, "id")),
            None => {
                self.error(
                    ErrorCode::MissingKey,
                    node.span,
                    path,
                    "a guardrail needs an `id`".into(),
                    "add `id: short-kebab-name`: reports name the guardrail by it",
                );
                None
            }
        };
        let description = fields
            .get("description")
            .and_then(|n| self.string(n, &join(path, "description")));
        let scope = match fields.get("buckets") {
            Some(n) => self.string(n, &join(path, "buckets")).unwrap_or_default(),
            None => "*".to_string(),
        };
        let scope_span = fields.get("buckets").map_or(node.span, |n| n.span);
        let scope_glob = self.glob(&scope, scope_span, &join(path, "buckets"));

        let forbid = fields.get("forbid").and_then(|n| {
            let forbid_path = join(path, "forbid");
            let errors_before = self.error_count();
            let f = self.mapping(n, &forbid_path, "a `forbid` constraint", FORBID_KEYS)?;
            let origins = self.values(f.get("origins"), &join(&forbid_path, "origins"));
            let headers = self.values(f.get("headers"), &join(&forbid_path, "headers"));
            let methods = self.methods(f.get("methods"), &join(&forbid_path, "methods"));
            let forbid = Forbid {
                origins,
                methods,
                headers,
            };
            if forbid == Forbid::default() && self.error_count() == errors_before {
                self.error(
                    ErrorCode::InvalidGuardrail,
                    n.span,
                    &forbid_path,
                    "`forbid` names nothing".into(),
                    "list `origins`, `methods` and/or `headers` that must not appear together",
                );
            }
            Some(forbid)
        });

        let require = match fields.get("require") {
            None => Require::default(),
            Some(n) => {
                let require_path = join(path, "require");
                let mut require = Require::default();
                if let Some(r) =
                    self.mapping(n, &require_path, "a `require` constraint", REQUIRE_KEYS)
                {
                    if let Some(s) = r.get("origin_scheme") {
                        let scheme_path = join(&require_path, "origin_scheme");
                        match self.string(s, &scheme_path).as_deref() {
                            Some(v @ ("https" | "http")) => {
                                require.origin_scheme = Some(v.to_string())
                            }
                            Some(v) => self.error(
                                ErrorCode::InvalidGuardrail,
                                s.span,
                                &scheme_path,
                                format!("unknown origin scheme `{v}`"),
                                "use `https`",
                            ),
                            None => {}
                        }
                    }
                    if let Some(m) = r.get("max_age_seconds_at_most") {
                        let age_path = join(&require_path, "max_age_seconds_at_most");
                        match m
                            .as_scalar()
                            .and_then(|t| t.parse::<i32>().ok())
                            .filter(|n| *n >= 0)
                        {
                            Some(n) => require.max_age_seconds_at_most = Some(n),
                            None => self.error(
                                ErrorCode::InvalidGuardrail,
                                m.span,
                                &age_path,
                                format!(
                                    "expected a whole number of seconds, found {}",
                                    describe(m)
                                ),
                                "write a number such as `86400`",
                            ),
                        }
                    }
                    require.origins_within = self.values(
                        r.get("origins_within"),
                        &join(&require_path, "origins_within"),
                    );
                    for origin in require.origins_within.clone() {
                        if origin.matches('*').count() > 1 {
                            self.error(
                                ErrorCode::InvalidGuardrail,
                                n.span,
                                &join(&require_path, "origins_within"),
                                format!("pattern `{origin}` has more than one `*`"),
                                "use at most one `*` per pattern, as S3 does",
                            );
                        }
                    }
                    require.methods_within = self.methods(
                        r.get("methods_within"),
                        &join(&require_path, "methods_within"),
                    );
                }
                require
            }
        };

        if forbid.is_none() && require.is_empty() && self.error_count() == errors_before {
            self.error(
                ErrorCode::InvalidGuardrail,
                node.span,
                path,
                "the guardrail neither forbids nor requires anything".into(),
                "add `forbid: {...}` or `require: {...}`",
            );
        }
        if self.error_count() != errors_before {
            return None;
        }
        Some(Guardrail {
            id: id?,
            description,
            scope,
            scope_glob: scope_glob?,
            forbid,
            require,
            span: id_node.map_or(node.span, |n| n.span),
        })
    }

    fn values(&mut self, node: Option<&Node>, path: &str) -> Vec<String> {
        node.and_then(|n| self.string_list(n, path))
            .unwrap_or_default()
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    fn methods(&mut self, node: Option<&Node>, path: &str) -> Vec<Method> {
        let mut out = Vec::new();
        for (i, (text, span)) in node
            .and_then(|n| self.string_list(n, path))
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            match text.parse() {
                Ok(m) => out.push(m),
                Err(()) => self.error(
                    ErrorCode::UnsupportedMethod,
                    span,
                    &format!("{path}[{i}]"),
                    format!("unsupported method `{text}`"),
                    "use GET, PUT, POST, DELETE or HEAD",
                ),
            }
        }
        out
    }

    fn duplicate_name(&mut self, name: &str, span: Span, path: &str) {
        match self.names.get(name) {
            Some(&first) => self.diags.push(
                Diagnostic::error(
                    ErrorCode::DuplicateBucket,
                    format!("bucket `{name}` is declared twice"),
                )
                .at(span)
                .path(join(path, "name"))
                .help("keep one entry per bucket; to share rules between buckets, use a ruleset")
                .related(first, "first declared here"),
            ),
            None => {
                self.names.insert(name.to_string(), span);
            }
        }
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

/// The AWS regions s3cors knows (commercial, China, GovCloud, ISO, European
/// Sovereign Cloud). A `region:` outside it is a warning, not an error: AWS opens
/// new regions, and S3-compatible servers may use their own names.
pub const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

/// The known key the user most likely meant: same letters ignoring case and
/// separators, a plural/singular slip, a close spelling, or a known key ending
/// in what was typed (`origins` for `AllowedOrigins`).
pub(crate) fn suggest<'k>(typed: &str, known: &[&'k str]) -> Option<&'k str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let typed_n = norm(typed);
    if typed_n.is_empty() {
        return None;
    }
    let mut best: Option<(&str, f64)> = None;
    for &k in known {
        let k_n = norm(k);
        let score = if k_n == typed_n {
            2.0
        } else if typed_n.len() >= 4 && (k_n.ends_with(&typed_n) || typed_n.ends_with(&k_n)) {
            1.5
        } else {
            strsim::jaro_winkler(&typed_n, &k_n)
        };
        if score >= 0.85 && best.is_none_or(|(_, s)| score > s) {
            best = Some((k, score));
        }
    }
    best.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use crate::diag::{SourceFile, Sources};

    /// Validates files given as (name, text) and returns `code@name:line:col` for
    /// each diagnostic, in report order.
    fn findings(files: &[(&str, &str)]) -> Vec<String> {
        let mut sources = Sources::new();
        for (name, text) in files {
            sources.add(SourceFile::new(*name, *text));
        }
        crate::policy::load(&sources)
            .diagnostics
            .iter()
            .map(|d| match d.span {
                Some(span) => format!("{}@{}", d.code, sources.place(span)),
                None => d.code.to_string(),
            })
            .collect()
    }

    fn check(text: &str, want: &[&str]) {
        let got = findings(&[("p.yaml", text)]);
        let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
        assert_eq!(got, want, "for:\n{text}");
    }

    const HEAD: &str = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n";

    fn rule(body: &str) -> String {
        format!("{HEAD}      - {body}\n")
    }

    #[test]
    fn valid_files_have_no_findings() {
        check(&rule("{AllowedOrigins: ['*'], AllowedMethods: [GET]}"), &[]);
        check(
            &format!("{HEAD}      []\n").replace("rules:\n      []", "rules: []"),
            &[],
        );
        check("version: 1\n", &[]);
        check(
            "version: 1\nrulesets:\n  r: [{AllowedOrigins: [a], AllowedMethods: [PUT], MaxAgeSeconds: 0, ID: x}]\nbuckets:\n  - match: 'x-*'\n    tags: {team: web}\n    account: '123456789012'\n    region: eu-west-1\n    rules: [{ruleset: r}]\n",
            &[],
        );
    }

    #[test]
    fn s3_rejections_are_caught_with_their_place() {
        let cases: &[(&str, &[&str])] = &[
            (
                "{AllowedMethods: [GET]}",
                &["missing-allowed-origins@p.yaml:5:9"],
            ),
            (
                "{AllowedOrigins: ['*']}",
                &["missing-allowed-methods@p.yaml:5:9"],
            ),
            (
                "{AllowedOrigins: [], AllowedMethods: [GET]}",
                &["missing-allowed-origins@p.yaml:5:26"],
            ),
            (
                "{AllowedOrigins: ['*'], AllowedMethods: [get]}",
                &["unsupported-method@p.yaml:5:50"],
            ),
            (
                "{AllowedOrigins: ['*'], AllowedMethods: [PATCH]}",
                &["unsupported-method@p.yaml:5:50"],
            ),
            (
                "{AllowedOrigins: ['https://*.*.com'], AllowedMethods: [GET]}",
                &["multiple-wildcards@p.yaml:5:27"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedHeaders: ['**']}",
                &["multiple-wildcards@p.yaml:5:71"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], ExposeHeaders: [x-*]}",
                &["wildcard-expose-header@p.yaml:5:70"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: -1}",
                &["invalid-max-age@p.yaml:5:69"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 1.5}",
                &["invalid-max-age@p.yaml:5:69"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: 99999999999}",
                &["invalid-max-age@p.yaml:5:69"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], MaxAgeSeconds: [1]}",
                &["invalid-max-age@p.yaml:5:69"],
            ),
            (
                "{AllowedOrigins: [''], AllowedMethods: [GET]}",
                &["empty-value@p.yaml:5:27"],
            ),
            (
                "{AllowedOrigins: a, AllowedMethods: [GET]}",
                &["wrong-type@p.yaml:5:26"],
            ),
            (
                "{AllowedOrigin: [a], AllowedMethods: [GET]}",
                &["unknown-key@p.yaml:5:10"],
            ),
            (
                "{allowed_methods: [GET], AllowedOrigins: [a]}",
                &["unknown-key@p.yaml:5:10"],
            ),
            (
                "{AllowedOrigins: [a], AllowedMethods: [GET], AllowedMethods: [PUT]}",
                &["duplicate-key@p.yaml:5:54"],
            ),
        ];
        for (body, want) in cases {
            check(&rule(body), want);
        }
        let long_id = format!(
            "{{ID: {}, AllowedOrigins: [a], AllowedMethods: [GET]}}",
            "x".repeat(256)
        );
        check(&rule(&long_id), &["id-too-long@p.yaml:5:14"]);
        let ok_id = format!(
            "{{ID: {}, AllowedOrigins: [a], AllowedMethods: [GET]}}",
            "é".repeat(255)
        );
        check(&rule(&ok_id), &[]);
    }

    #[test]
    fn whole_configuration_limits() {
        let many: String = (0..101)
            .map(|i| format!("      - {{AllowedOrigins: ['https://{i}.example.com'], AllowedMethods: [GET]}}\n"))
            .collect();
        check(&format!("{HEAD}{many}"), &["too-many-rules@p.yaml:5:7"]);
        let origins: Vec<String> = (0..3000)
            .map(|i| format!("https://host{i}.example.com"))
            .collect();
        let big = format!(
            "{{AllowedOrigins: [{}], AllowedMethods: [GET]}}",
            origins.join(", ")
        );
        check(&rule(&big), &["config-too-large@p.yaml:5:7"]);
    }

    #[test]
    fn file_level_problems() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["empty-file@p.yaml:1:1"]),
            ("buckets: []\n", &["missing-version@p.yaml:1:1"]),
            (
                "version: 2\nbuckets: 7\n",
                &["unsupported-version@p.yaml:1:10"],
            ),
            ("version: '1'\n", &["unsupported-version@p.yaml:1:10"]),
            ("version: 1\nbucket: []\n", &["unknown-key@p.yaml:2:1"]),
            ("- a\n- b\n", &["wrong-type@p.yaml:1:1"]),
            ("version: 1\nbuckets: {a: 1}\n", &["wrong-type@p.yaml:2:10"]),
            (
                "version: 1\nbuckets:\n  - name: x y\n    rules: []\n",
                &["invalid-bucket-name@p.yaml:3:11"],
            ),
            (
                "version: 1\nbuckets:\n  - name: 'app-*'\n    rules: []\n",
                &["invalid-bucket-name@p.yaml:3:11"],
            ),
            (
                "version: 1\nbuckets:\n  - match: 'app-[*'\n    rules: []\n",
                &["invalid-glob@p.yaml:3:12"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    match: 'a*'\n    rules: []\n",
                &["conflicting-keys@p.yaml:4:5"],
            ),
            (
                "version: 1\nbuckets:\n  - rules: []\n",
                &["missing-key@p.yaml:3:5"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n",
                &["missing-key@p.yaml:3:5"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    tags: {a: b}\n    rules: []\n",
                &["conflicting-keys@p.yaml:4:5"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    account: 42\n    rules: []\n",
                &["invalid-account@p.yaml:4:14"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    region: EU West\n    rules: []\n",
                &["invalid-region@p.yaml:4:13"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    region: eu-west-9\n    rules: []\n",
                &["unknown-region@p.yaml:4:13"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    region: ap-southeast-2\n    rules: []\n",
                &[],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    rules: [{ruleset: nope}]\n",
                &["unknown-ruleset@p.yaml:4:23"],
            ),
            (
                "version: 1\nrulesets:\n  r: []\n",
                &["empty-ruleset@p.yaml:3:6"],
            ),
            (
                "version: 1\nbuckets:\n  - name: abc\n    rules: []\n  - name: abc\n    rules: []\n",
                &["duplicate-bucket@p.yaml:5:11"],
            ),
            ("version: 1\na: [\n", &["yaml-syntax@p.yaml:3:1"]),
        ];
        for (text, want) in cases {
            check(text, want);
        }
    }

    #[test]
    fn every_problem_is_reported_in_one_run() {
        let text = "version: 1\nbuckets:\n  - name: bk1\n    rules:\n      - {AllowedOrigins: [a], AllowedMethods: [get]}\n      - {AllowedOrigins: ['**'], AllowedMethods: [GET]}\n  - name: 'x'\n    rules: []\n";
        check(
            text,
            &[
                "unsupported-method@p.yaml:5:48",
                "multiple-wildcards@p.yaml:6:27",
                "invalid-bucket-name@p.yaml:7:11",
            ],
        );
    }

    #[test]
    fn rulesets_and_names_span_files() {
        let rulesets =
            "version: 1\nrulesets:\n  shared: [{AllowedOrigins: ['*'], AllowedMethods: [GET]}]\n";
        let user = "version: 1\nbuckets:\n  - name: abc\n    rules: [{ruleset: shared}]\n";
        assert_eq!(
            findings(&[("a.yaml", rulesets), ("b.yaml", user)]),
            Vec::<String>::new()
        );
        assert_eq!(
            findings(&[("a.yaml", rulesets), ("b.yaml", rulesets)]),
            vec!["duplicate-ruleset@b.yaml:3:3"]
        );
        assert_eq!(
            findings(&[("a.yaml", user), ("b.yaml", user), ("c.yaml", rulesets)]),
            vec!["duplicate-bucket@b.yaml:3:11"]
        );
    }

    #[test]
    fn guardrails_parse_and_reject_nonsense() {
        let good = "version: 1\nguardrails:\n  - id: g\n    buckets: 'prod-*'\n    forbid: {origins: ['*'], methods: [PUT]}\n    require: {origin_scheme: https, max_age_seconds_at_most: 60, origins_within: ['https://*.example.com'], methods_within: [GET]}\n";
        check(good, &[]);
        let cases: &[(&str, &[&str])] = &[
            (
                "version: 1\nguardrails:\n  - id: g\n",
                &["invalid-guardrail@p.yaml:3:5"],
            ),
            (
                "version: 1\nguardrails:\n  - forbid: {methods: [PUT]}\n",
                &["missing-key@p.yaml:3:5"],
            ),
            (
                "version: 1\nguardrails:\n  - id: g\n    require: {origin_scheme: ftp}\n",
                &["invalid-guardrail@p.yaml:4:30"],
            ),
            (
                "version: 1\nguardrails:\n  - id: g\n    forbid: {method: [PUT]}\n",
                &["unknown-key@p.yaml:4:14"],
            ),
            (
                "version: 1\nguardrails:\n  - id: g\n    forbid: {methods: [PUT]}\n  - id: g\n    forbid: {methods: [PUT]}\n",
                &["duplicate-guardrail@p.yaml:5:9"],
            ),
        ];
        for (text, want) in cases {
            check(text, want);
        }
    }

    #[test]
    fn suggestions() {
        let known = super::RULE_KEYS;
        for (typed, want) in [
            ("AllowedOrigin", Some("AllowedOrigins")),
            ("allowed_origins", Some("AllowedOrigins")),
            ("origins", Some("AllowedOrigins")),
            ("MaxAge", Some("MaxAgeSeconds")),
            ("MaxAgeSecond", Some("MaxAgeSeconds")),
            ("Id", Some("ID")),
            ("colour", None),
        ] {
            assert_eq!(super::suggest(typed, known), want, "{typed}");
        }
    }
}
