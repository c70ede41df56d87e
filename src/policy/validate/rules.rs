//! Rulesets and CORS rules: every value S3 would reject on PutBucketCors, in
//! place, and the rulesets that bucket entries reference by name.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Fields, Ruleset, Validator, describe, join};
use crate::diag::{Diagnostic, ErrorCode, Span};
use crate::model::{CorsRule, MAX_ID_CHARS, Method};
use crate::policy::yaml::{Node, NodeKind};
use crate::policy::{PolicyRule, SpanLists};

pub(super) const RULE_KEYS: &[&str] = &[
    "ID",
    "AllowedOrigins",
    "AllowedMethods",
    "AllowedHeaders",
    "ExposeHeaders",
    "MaxAgeSeconds",
    "allow",
];
pub(super) const RULE_KEYS_WITH_REF: &[&str] = &[
    "ID",
    "AllowedOrigins",
    "AllowedMethods",
    "AllowedHeaders",
    "ExposeHeaders",
    "MaxAgeSeconds",
    "allow",
    "ruleset",
];

impl Validator {
    pub(super) fn rulesets(&mut self, node: &Node) {
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
                    // Stored as spliced: every entry that uses it alone shares this list.
                    let rules: Vec<PolicyRule> = rules
                        .into_iter()
                        .map(|r| PolicyRule {
                            ruleset: Some(name.to_string()),
                            ..r
                        })
                        .collect();
                    self.rulesets.insert(
                        name.to_string(),
                        Ruleset {
                            rules: rules.into(),
                            span: key.span,
                        },
                    );
                }
                _ => self.broken_rulesets.push(name.to_string()),
            }
        }
    }

    /// One rule mapping. Returns `None` when the rule has an error.
    pub(super) fn rule(
        &mut self,
        node: &Node,
        path: &str,
        known: &[&'static str],
    ) -> Option<PolicyRule> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "a CORS rule", known)?;
        let mut rule = CorsRule::default();
        let mut spans = SpanLists {
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
            // An empty name is accepted by S3 and does nothing (`empty-header-name`).
            for (i, (header, span)) in self
                .strings(list, &headers_path, true)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                let header_path = format!("{headers_path}[{i}]");
                self.wildcards(&header, span, &header_path, "AllowedHeader");
                self.header_name(&header, span, &header_path, "AllowedHeader");
                rule.allowed_headers.push(header);
                spans.allowed_headers.push(span);
            }
        }

        if let Some(list) = fields.get("ExposeHeaders") {
            let expose_path = join(path, "ExposeHeaders");
            for (i, (header, span)) in self
                .strings(list, &expose_path, true)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                self.header_name(
                    &header,
                    span,
                    &format!("{expose_path}[{i}]"),
                    "ExposeHeader",
                );
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
            // PutBucketCors carries MaxAgeSeconds as a 32-bit integer. A negative one is
            // not known to be rejected by S3, so it is the `negative-max-age` lint.
            match text.parse::<i64>() {
                Ok(n) if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n) => {
                    rule.max_age_seconds = i32::try_from(n).ok();
                    spans.max_age_seconds = Some(age.span);
                }
                Ok(n) if n < 0 => self.error(
                    ErrorCode::InvalidMaxAge,
                    age.span,
                    &age_path,
                    format!("MaxAgeSeconds {n} is below -2147483648, the smallest integer S3's API carries"),
                    "use a whole number of seconds from 0 up (browsers cap it at 7200 or 86400)",
                ),
                Ok(n) => self.error(
                    ErrorCode::InvalidMaxAge,
                    age.span,
                    &age_path,
                    format!("MaxAgeSeconds {n} is too large: S3's API carries at most 2147483647"),
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

        // A fleet file holds tens of thousands of rules: keep no spare capacity.
        for list in [
            &mut rule.allowed_origins,
            &mut rule.allowed_headers,
            &mut rule.expose_headers,
        ] {
            list.shrink_to_fit();
        }
        rule.allowed_methods.shrink_to_fit();
        let allow = match fields.get("allow") {
            Some(n) => self.allow_list(n, &join(path, "allow")),
            None => Some(Box::default()),
        };

        if self.error_count() != errors_before {
            return None;
        }
        // A fleet file often repeats one rule in every entry: keep it once.
        let rule = match self.interned.get(&rule) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared = Arc::new(rule);
                self.interned.insert(Arc::clone(&shared));
                shared
            }
        };
        Some(PolicyRule {
            rule,
            ruleset: None,
            spans: spans.into(),
            allow: allow?,
        })
    }

    /// A rule's required list (origins or methods): absent or empty is an error.
    pub(super) fn required_list(
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
                // S3 accepts an empty origin, which matches nothing
                // (`origin-never-matches`); an empty method it rejects.
                let empty_ok = key == "AllowedOrigins";
                let values = self.strings(list, &key_path, empty_ok).unwrap_or_default();
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

    /// S3 rejects a header name holding a character that an HTTP header name (an RFC
    /// 9110 token) cannot hold: `AllowedHeader "X" contains invalid character.`, and the
    /// same for ExposeHeader. `*`, a token character, is checked by the callers.
    pub(super) fn header_name(&mut self, value: &str, span: Span, path: &str, element: &str) {
        let Some(bad) = value.chars().find(|&c| !is_token_char(c)) else {
            return;
        };
        let shown = match bad {
            ' ' => "a space".to_string(),
            c if c.is_control() || c.is_whitespace() => format!("`{}`", c.escape_default()),
            c => format!("`{c}`"),
        };
        let help = if value.contains(',') {
            "list each header as an item of its own: `[Content-Type, X-Amz-Date]`".to_string()
        } else {
            format!(
                "remove {shown}: a header name holds only letters, digits and \
                 ! # $ % & ' * + - . ^ _ ` | ~"
            )
        };
        self.error(
            ErrorCode::InvalidHeaderName,
            span,
            path,
            format!(
                "{element} `{value}` contains {shown}, which no HTTP header name can; S3 rejects it \
                 (InvalidRequest: {element} \"{value}\" contains invalid character.)"
            ),
            &help,
        );
    }

    pub(super) fn wildcards(&mut self, value: &str, span: Span, path: &str, element: &str) {
        if value.matches('*').count() > 1 {
            // The example is of the same kind as the value: an origin pattern for an
            // origin, a header-name pattern for a header.
            let example = if element.contains("Origin") {
                "`https://*.example.com`"
            } else {
                "`x-amz-meta-*`"
            };
            self.error(
                ErrorCode::MultipleWildcards,
                span,
                path,
                format!("{element} `{value}` has more than one `*`; S3 allows one wildcard"),
                &format!(
                    "keep a single `*` (for example {example}), or list the values separately"
                ),
            );
        }
    }
}

/// A character of an HTTP header name: RFC 9110's `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}
