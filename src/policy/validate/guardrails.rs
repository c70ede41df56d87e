//! Guardrails: `id`, the `buckets` scope, and the `forbid` and `require`
//! constraints s3cors knows how to evaluate.

use super::{Validator, describe, join};
use crate::diag::{Diagnostic, ErrorCode};
use crate::model::Method;
use crate::policy::yaml::{Node, NodeKind};
use crate::policy::{Forbid, Guardrail, Require};

const GUARDRAIL_KEYS: &[&str] = &["id", "description", "buckets", "forbid", "require"];
const FORBID_KEYS: &[&str] = &["origins", "methods", "headers"];
const REQUIRE_KEYS: &[&str] = &[
    "origin_scheme",
    "max_age_seconds_at_most",
    "origins_within",
    "methods_within",
];

impl Validator {
    pub(super) fn guardrails(&mut self, node: &Node, out: &mut Vec<Guardrail>) {
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

    pub(super) fn guardrail(&mut self, node: &Node, path: &str) -> Option<Guardrail> {
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

    pub(super) fn values(&mut self, node: Option<&Node>, path: &str) -> Vec<String> {
        node.and_then(|n| self.string_list(n, path))
            .unwrap_or_default()
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    pub(super) fn methods(&mut self, node: Option<&Node>, path: &str) -> Vec<Method> {
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
}
