//! Lint levels and suppressions: a file's top-level `lints:` (`code: allow | warn |
//! deny`, one level per lint across every file) and the `allow:` lists of bucket
//! entries and rules. Only lint codes are accepted: errors and guardrail violations
//! cannot be silenced.

use std::collections::BTreeMap;

use super::{Validator, join, suggest};
use crate::cors::lint::LintCode;
use crate::diag::{Diagnostic, ErrorCode, Span, WarningCode};
use crate::policy::yaml::{Node, NodeKind};
use crate::policy::{Allow, LintLevel, LintSetting};

const ALLOW_ITEM_KEYS: &[&str] = &["code", "reason"];

impl Validator {
    /// One file's `lints:` mapping, added to `out`; a lint another file set to
    /// another level is a `conflicting-lint-level` error naming both places.
    pub(super) fn lint_levels(&mut self, node: &Node, out: &mut BTreeMap<LintCode, LintSetting>) {
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(
                node,
                "lints",
                "a mapping of lint codes to `allow`, `warn` or `deny`",
            );
            return;
        };
        for (key, value) in pairs {
            let Some(name) = key.as_scalar() else {
                self.wrong_type(key, "lints", "a mapping with string keys");
                continue;
            };
            let path = join("lints", name);
            let code = self.lint_code(name, key.span, &path);
            let Some(text) = self.string(value, &path) else {
                continue;
            };
            let level = match text.as_str() {
                "allow" => LintLevel::Allow,
                "warn" => LintLevel::Warn,
                "deny" => LintLevel::Deny,
                _ => {
                    let help = match suggest(&text, LintLevel::NAMES) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "write `allow` (silence it everywhere), `warn` (the default) or `deny` (make it an error)".to_owned(),
                    };
                    self.error(
                        ErrorCode::InvalidLintLevel,
                        value.span,
                        &path,
                        format!("`{text}` is not a lint level"),
                        &help,
                    );
                    continue;
                }
            };
            let Some(code) = code else {
                continue;
            };
            match out.get(&code) {
                Some(first) if first.level != level => self.diags.push(
                    Diagnostic::error(
                        ErrorCode::ConflictingLintLevel,
                        format!(
                            "lint `{code}` is set to `{}` here and to `{}` in another place",
                            level.as_str(),
                            first.level.as_str()
                        ),
                    )
                    .at(value.span)
                    .path(&path)
                    .help("set each lint's level once, in one file; to silence it for some buckets only, use `allow:` on those entries")
                    .related(first.span, format!("`{code}: {}` set here", first.level.as_str())),
                ),
                Some(_) => {}
                None => {
                    out.insert(
                        code,
                        LintSetting {
                            level,
                            span: value.span,
                        },
                    );
                }
            }
        }
    }

    /// An `allow:` list of a bucket entry or rule: lint codes, each a string or a
    /// `{code, reason}` mapping. `None` when it has an error.
    pub(super) fn allow_list(&mut self, node: &Node, path: &str) -> Option<Box<[Allow]>> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(
                node,
                path,
                "a list of lint codes (each a string or `{code: ..., reason: ...}`)",
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let (text, span, reason) = match &item.kind {
                NodeKind::Scalar { text, .. } => (text.clone(), item.span, None),
                NodeKind::Map(_) => {
                    let Some(fields) =
                        self.mapping(item, &item_path, "an `allow:` item", ALLOW_ITEM_KEYS)
                    else {
                        ok = false;
                        continue;
                    };
                    let reason = match fields.get("reason") {
                        Some(n) => match self.string(n, &join(&item_path, "reason")) {
                            Some(r) => Some(r),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                        None => None,
                    };
                    let Some(code_node) = fields.get("code") else {
                        self.error(
                            ErrorCode::MissingKey,
                            item.span,
                            &item_path,
                            "an `allow:` item needs `code`".into(),
                            "write `{code: max-age-over-browser-cap, reason: \"...\"}`, or the code alone",
                        );
                        ok = false;
                        continue;
                    };
                    let Some(text) = self.string(code_node, &join(&item_path, "code")) else {
                        ok = false;
                        continue;
                    };
                    (text, code_node.span, reason)
                }
                _ => {
                    self.wrong_type(
                        item,
                        &item_path,
                        "a lint code or `{code: ..., reason: ...}`",
                    );
                    ok = false;
                    continue;
                }
            };
            match self.lint_code(&text, span, &item_path) {
                Some(code) => out.push(Allow { code, reason, span }),
                None => ok = false,
            }
        }
        ok.then(|| out.into_boxed_slice())
    }

    /// The lint `name` names, or an `unknown-lint` error: a did-you-mean for a
    /// misspelling, and a plain "cannot be allowed" for error and guardrail codes.
    fn lint_code(&mut self, name: &str, span: Span, path: &str) -> Option<LintCode> {
        if let Ok(code) = name.parse::<LintCode>() {
            return Some(code);
        }
        let (message, help) = if name == ErrorCode::GuardrailViolation.as_str() {
            (
                format!(
                    "`{name}` is a guardrail, not a lint: guardrail violations cannot be allowed or suppressed"
                ),
                "change the rule, or narrow the guardrail's `buckets:` scope".to_owned(),
            )
        } else if ErrorCode::ALL.iter().any(|c| c.as_str() == name) {
            (
                format!("`{name}` is an error, not a lint: errors cannot be allowed or suppressed"),
                "fix the error; only lints (docs/lints/) can be allowed".to_owned(),
            )
        } else if WarningCode::ALL.iter().any(|c| c.as_str() == name) {
            (
                format!(
                    "`{name}` is a validation warning, not a lint: it cannot be allowed or suppressed"
                ),
                "fix what it reports; only lints (docs/lints/) can be allowed".to_owned(),
            )
        } else {
            let known: Vec<&str> = LintCode::ALL.iter().map(|c| c.as_str()).collect();
            let help = match suggest(name, &known) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the lints are: {}", known.join(", ")),
            };
            (format!("unknown lint `{name}`"), help)
        };
        self.error(ErrorCode::UnknownLint, span, path, message, &help);
        None
    }
}
