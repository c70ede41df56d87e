//! Guardrails: organisation rules over CORS rules, checked against any configuration
//! (desired at validate/plan time, live in `drift`). Pure: data in, [`Violation`]s out.
//!
//! A guardrail applies to a bucket when its `buckets:` glob (default `*`) matches the
//! bucket name. It is then checked against every rule of the bucket's configuration;
//! a bucket with no CORS configuration breaks no guardrail.
//!
//! # `forbid: {origins, methods, headers}`
//!
//! A rule breaks a `forbid` when it allows **at least one listed value of every listed
//! kind at once** (kinds left out do not constrain). So `forbid: {origins: ["*"],
//! methods: [PUT, POST, DELETE]}` fires on a rule that allows origin `*` *and* one of
//! PUT, POST, DELETE; a read-only `*` rule, or a PUT rule for a named origin, is fine.
//!
//! "Allows" is decided with the same wildcard reasoning S3's matcher uses
//! (`cors::pattern::pattern_covers`):
//! - **methods**: the rule lists the method.
//! - **headers**: some AllowedHeader covers the listed header pattern, case-insensitively:
//!   forbidden `Authorization` is allowed by `Authorization`, `authorization`, `auth*` or `*`.
//! - **origins**: some AllowedOrigin covers the listed origin pattern (every Origin the
//!   listed pattern names is accepted by the rule): forbidden `https://evil.example` is
//!   allowed by `*`, `https://*` or `https://*.example`. Because browsers always send an
//!   Origin with a scheme, a listed pattern that spans schemes (like `*`) also counts as
//!   allowed when the rule covers all of its `https://` part or all of its `http://` part:
//!   **`https://*` and `http://*` count as `*`** (any website of that scheme may send the
//!   request), while `https://*.example.com` does not (only example.com's own subdomains).
//!
//! # `require`
//!
//! Every rule in scope must satisfy each given requirement; each offending value is its
//! own violation:
//! - `origin_scheme: https`: every AllowedOrigin starts with `https://`. `*` alone, a
//!   scheme-less origin (`*.example.com`) and `http://localhost` all break it. An empty
//!   AllowedOrigin, which matches nothing, breaks no `require`.
//! - `max_age_seconds_at_most: N`: MaxAgeSeconds, when set, is at most N (an absent
//!   MaxAgeSeconds lets browsers use their own short default, so it passes).
//! - `origins_within: [patterns]`: every AllowedOrigin is covered by one of the patterns
//!   (`https://*.example.com` covers `https://app.example.com` and
//!   `https://*.eu.example.com`, but not `https://example.com` nor `*`).
//! - `methods_within: [methods]`: every AllowedMethod is one of them.

use std::fmt;

use crate::cors::lint::Field;
use crate::cors::origin;
use crate::cors::pattern::{Case, pattern_covers};
use crate::model::{CorsConfig, CorsRule};

use serde::{Deserialize, Serialize};

use super::{Forbid, Guardrail, Require};
use crate::diag::Span;
use crate::model::Method;

/// One rule of one bucket breaking one guardrail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The guardrail's `id`.
    pub guardrail: String,
    pub bucket: String,
    /// Index of the rule (0-based, S3's evaluation order).
    pub rule: usize,
    pub rule_id: Option<String>,
    /// The offending value (an origin, a method, a header, a MaxAgeSeconds).
    pub value: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// `no-public-writes: bucket app-uploads, rule #1 (ID "uploads"), value "*": ...`
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: bucket {}, rule #{}",
            self.guardrail, self.bucket, self.rule
        )?;
        if let Some(id) = &self.rule_id {
            write!(f, " (ID {id:?})")?;
        }
        write!(f, ", value {:?}: {}", self.value, self.message)
    }
}

/// A guardrail as a saved plan records it: the guardrails in force when the plan
/// was made travel with it, so `apply` re-checks every configuration it writes
/// against them without the policy files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailRecord {
    pub id: String,
    /// The `buckets:` glob.
    pub buckets: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid: Option<ForbidRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<RequireRecord>,
}

/// [`Forbid`] in a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbidRecord {
    pub origins: Vec<String>,
    pub methods: Vec<Method>,
    pub headers: Vec<String>,
}

/// [`Require`] in a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequireRecord {
    pub origin_scheme: Option<String>,
    pub max_age_seconds_at_most: Option<i32>,
    pub origins_within: Vec<String>,
    pub methods_within: Vec<Method>,
}

impl From<&Guardrail> for GuardrailRecord {
    fn from(g: &Guardrail) -> Self {
        GuardrailRecord {
            id: g.id.clone(),
            buckets: g.scope.clone(),
            forbid: g.forbid.as_ref().map(|f| ForbidRecord {
                origins: f.origins.clone(),
                methods: f.methods.clone(),
                headers: f.headers.clone(),
            }),
            require: (!g.require.is_empty()).then(|| RequireRecord {
                origin_scheme: g.require.origin_scheme.clone(),
                max_age_seconds_at_most: g.require.max_age_seconds_at_most,
                origins_within: g.require.origins_within.clone(),
                methods_within: g.require.methods_within.clone(),
            }),
        }
    }
}

impl GuardrailRecord {
    /// The guardrail again; `Err` names a `buckets:` glob that does not compile.
    pub fn to_guardrail(&self) -> Result<Guardrail, String> {
        let scope_glob = globset::GlobBuilder::new(&self.buckets)
            .literal_separator(false)
            .build()
            .map_err(|e| {
                format!(
                    "guardrail {:?}: invalid glob {:?}: {}",
                    self.id,
                    self.buckets,
                    e.kind()
                )
            })?
            .compile_matcher();
        Ok(Guardrail {
            id: self.id.clone(),
            description: None,
            scope: self.buckets.clone(),
            scope_glob,
            forbid: self.forbid.as_ref().map(|f| Forbid {
                origins: f.origins.clone(),
                methods: f.methods.clone(),
                headers: f.headers.clone(),
            }),
            require: self
                .require
                .as_ref()
                .map(|r| Require {
                    origin_scheme: r.origin_scheme.clone(),
                    max_age_seconds_at_most: r.max_age_seconds_at_most,
                    origins_within: r.origins_within.clone(),
                    methods_within: r.methods_within.clone(),
                })
                .unwrap_or_default(),
            span: Span::new(0, 0, 0),
        })
    }
}

/// Every violation of the guardrails that apply to `bucket`, guardrail by guardrail,
/// then rule by rule. `None` (no CORS configuration) breaks nothing.
pub fn check(
    guardrails: &[Guardrail],
    bucket: &str,
    config: Option<&CorsConfig>,
) -> Vec<Violation> {
    let Some(config) = config else {
        return Vec::new();
    };
    guardrails
        .iter()
        .filter(|g| g.scope_glob.is_match(bucket))
        .flat_map(|g| evaluate(g, config))
        .map(|hit| hit.into_violation(bucket))
        .collect()
}

/// A violation before it is tied to a bucket, with the place of the offending value
/// inside the rule, so policy findings can point at its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub guardrail: String,
    pub rule: usize,
    pub rule_id: Option<String>,
    /// The field holding the offending value, and its index in the field's list.
    pub field: Field,
    pub index: Option<usize>,
    pub value: String,
    pub message: String,
}

impl Hit {
    pub(crate) fn into_violation(self, bucket: &str) -> Violation {
        Violation {
            guardrail: self.guardrail,
            bucket: bucket.to_string(),
            rule: self.rule,
            rule_id: self.rule_id,
            value: self.value,
            message: self.message,
        }
    }
}

/// Checks one guardrail against every rule of `config`, ignoring its scope.
pub(crate) fn evaluate(g: &Guardrail, config: &CorsConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, rule) in config.cors_rules.iter().enumerate() {
        let mut out = RuleHits {
            g,
            rule,
            index,
            hits: &mut hits,
        };
        out.forbid();
        out.origin_scheme();
        out.max_age();
        out.origins_within();
        out.methods_within();
    }
    hits
}

struct RuleHits<'a> {
    g: &'a Guardrail,
    rule: &'a CorsRule,
    index: usize,
    hits: &'a mut Vec<Hit>,
}

impl RuleHits<'_> {
    fn push(&mut self, field: Field, index: Option<usize>, value: String, message: String) {
        self.hits.push(Hit {
            guardrail: self.g.id.clone(),
            rule: self.index,
            rule_id: self.rule.id.clone(),
            field,
            index,
            value,
            message,
        });
    }

    fn forbid(&mut self) {
        let Some(forbid) = &self.g.forbid else {
            return;
        };
        let rule = self.rule;
        // For each listed kind, the rule's values that allow a listed value.
        let origins: Vec<(usize, &str)> = rule
            .allowed_origins
            .iter()
            .enumerate()
            .filter(|(_, a)| forbid.origins.iter().any(|f| origin_allows(a, f)))
            .map(|(k, a)| (k, a.as_str()))
            .collect();
        let methods: Vec<(usize, &str)> = rule
            .allowed_methods
            .iter()
            .enumerate()
            .filter(|(_, m)| forbid.methods.contains(m))
            .map(|(k, m)| (k, m.as_str()))
            .collect();
        let headers: Vec<(usize, &str)> = rule
            .allowed_headers
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                forbid
                    .headers
                    .iter()
                    .any(|f| pattern_covers(a, f, Case::Insensitive))
            })
            .map(|(k, a)| (k, a.as_str()))
            .collect();
        let kinds = [
            (
                Field::AllowedOrigins,
                "origin",
                &forbid.origins.len(),
                &origins,
            ),
            (
                Field::AllowedMethods,
                "method",
                &forbid.methods.len(),
                &methods,
            ),
            (
                Field::AllowedHeaders,
                "header",
                &forbid.headers.len(),
                &headers,
            ),
        ];
        let listed: Vec<_> = kinds.iter().filter(|(_, _, n, _)| **n > 0).collect();
        if listed.is_empty() || listed.iter().any(|(_, _, _, hit)| hit.is_empty()) {
            return;
        }
        let parts: Vec<String> = listed
            .iter()
            .map(|(_, word, _, hit)| {
                let values: Vec<String> = hit.iter().map(|(_, v)| format!("{v:?}")).collect();
                let plural = if hit.len() > 1 { "s" } else { "" };
                format!("{word}{plural} {}", values.join(", "))
            })
            .collect();
        // Point at the first offending value of the first listed kind.
        let (field, _, _, hit) = listed[0];
        let (k, value) = hit[0];
        let message = format!(
            "the rule allows {}, which is forbidden",
            parts.join(" with ")
        );
        self.push(*field, Some(k), value.to_string(), message);
    }

    fn origin_scheme(&mut self) {
        let Some(scheme) = &self.g.require.origin_scheme else {
            return;
        };
        let prefix = format!("{scheme}://");
        for (k, origin) in self.rule.allowed_origins.iter().enumerate() {
            // An empty origin (S3 accepts it) admits no request, so breaks nothing.
            if !origin.is_empty() && origin::parse(origin).scheme != Some(scheme.as_str()) {
                let message = if origin == "*" {
                    format!("origin \"*\" admits every scheme; only {prefix} origins are allowed")
                } else {
                    format!("origin {origin:?} does not start with {prefix}")
                };
                self.push(Field::AllowedOrigins, Some(k), origin.clone(), message);
            }
        }
    }

    fn max_age(&mut self) {
        let (Some(limit), Some(age)) = (
            self.g.require.max_age_seconds_at_most,
            self.rule.max_age_seconds,
        ) else {
            return;
        };
        if age > limit {
            let message = format!("MaxAgeSeconds {age} is over the allowed {limit}");
            self.push(Field::MaxAgeSeconds, None, age.to_string(), message);
        }
    }

    fn origins_within(&mut self) {
        let within = &self.g.require.origins_within;
        if within.is_empty() {
            return;
        }
        for (k, origin) in self.rule.allowed_origins.iter().enumerate() {
            if !origin.is_empty()
                && !within
                    .iter()
                    .any(|w| pattern_covers(w, origin, Case::Sensitive))
            {
                let message = format!(
                    "origin {origin:?} is not within the allowed origins {}",
                    quoted(within)
                );
                self.push(Field::AllowedOrigins, Some(k), origin.clone(), message);
            }
        }
    }

    fn methods_within(&mut self) {
        let within = &self.g.require.methods_within;
        if within.is_empty() {
            return;
        }
        for (k, method) in self.rule.allowed_methods.iter().enumerate() {
            if !within.contains(method) {
                let allowed: Vec<&str> = within.iter().map(|m| m.as_str()).collect();
                let message = format!(
                    "method {method} is not among the allowed methods {}",
                    allowed.join(", ")
                );
                self.push(Field::AllowedMethods, Some(k), method.to_string(), message);
            }
        }
    }
}

/// Does the rule origin `allowed` let through every Origin of the forbidden pattern, or
/// all of its `https://` part, or all of its `http://` part (module docs)?
fn origin_allows(allowed: &str, forbidden: &str) -> bool {
    // An empty AllowedOrigin (S3 accepts it) matches no Origin.
    !allowed.is_empty()
        && (pattern_covers(allowed, forbidden, Case::Sensitive)
            || ["https://", "http://"].iter().any(|scheme| {
                scheme_part(forbidden, scheme)
                    .is_some_and(|part| pattern_covers(allowed, &part, Case::Sensitive))
            }))
}

/// The origins of a one-`*` pattern `P*S` that start with `scheme`, as a pattern, when
/// the wildcard spans the scheme (`P` is a proper prefix of `scheme`): `*` -> `https://*`,
/// `h*.com` -> `https://*.com`. `None` for a literal or a pattern that fixes its scheme
/// (its parts are the pattern itself, already checked).
fn scheme_part(pattern: &str, scheme: &str) -> Option<String> {
    let (prefix, suffix) = pattern.split_once('*')?;
    if suffix.contains('*') || !scheme.starts_with(prefix) || prefix.len() == scheme.len() {
        return None;
    }
    Some(format!("{scheme}*{suffix}"))
}

fn quoted(values: &[String]) -> String {
    let values: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    values.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::model::Method;
    use crate::policy::{Forbid, Require};
    use globset::Glob;

    fn guardrail(scope: &str, forbid: Option<Forbid>, require: Require) -> Guardrail {
        Guardrail {
            id: "g".into(),
            description: None,
            scope: scope.into(),
            scope_glob: Glob::new(scope).unwrap().compile_matcher(),
            forbid,
            require,
            span: Span {
                file: 0,
                start: 0,
                end: 0,
            },
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    fn methods(values: &[&str]) -> Vec<Method> {
        values.iter().map(|m| m.parse().unwrap()).collect()
    }

    fn rule(origins: &[&str], methods_: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            id: None,
            allowed_origins: strings(origins),
            allowed_methods: methods(methods_),
            allowed_headers: strings(headers),
            expose_headers: Vec::new(),
            max_age_seconds: None,
        }
    }

    /// `rule#i field[k]=value`, one per violation of `g` over `rules`.
    fn hits(g: &Guardrail, rules: Vec<CorsRule>) -> Vec<String> {
        evaluate(g, &CorsConfig::new(rules))
            .iter()
            .map(|h| {
                let index = h.index.map(|k| format!("[{k}]")).unwrap_or_default();
                format!("rule#{} {}{index}={}", h.rule, h.field, h.value)
            })
            .collect()
    }

    fn run(g: &Guardrail, cases: Vec<(&str, Vec<CorsRule>, &[&str])>) {
        let mut failures = Vec::new();
        for (name, rules, want) in cases {
            let got = hits(g, rules);
            if got != want {
                failures.push(format!("--- {name}\n want: {want:?}\n  got: {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn forbid_origins_with_methods() {
        let g = guardrail(
            "*",
            Some(Forbid {
                origins: strings(&["*"]),
                methods: methods(&["PUT", "POST", "DELETE"]),
                headers: vec![],
            }),
            Require::default(),
        );
        run(
            &g,
            vec![
                (
                    "public write",
                    vec![rule(&["*"], &["GET", "PUT"], &[])],
                    &["rule#0 AllowedOrigins[0]=*"],
                ),
                (
                    "https://* counts as *",
                    vec![rule(&["https://a.com", "https://*"], &["DELETE"], &[])],
                    &["rule#0 AllowedOrigins[1]=https://*"],
                ),
                (
                    "http://* counts as *",
                    vec![rule(&["http://*"], &["POST"], &[])],
                    &["rule#0 AllowedOrigins[0]=http://*"],
                ),
                (
                    "h* covers https://*",
                    vec![rule(&["h*"], &["POST"], &[])],
                    &["rule#0 AllowedOrigins[0]=h*"],
                ),
                (
                    "public read",
                    vec![rule(&["*"], &["GET", "HEAD"], &[])],
                    &[],
                ),
                (
                    "named origin writes",
                    vec![rule(&["https://app.example.com"], &["PUT"], &[])],
                    &[],
                ),
                (
                    "subdomain wildcard is not *",
                    vec![rule(&["https://*.example.com"], &["PUT"], &[])],
                    &[],
                ),
                (
                    "only the second rule",
                    vec![
                        rule(&["*"], &["GET"], &[]),
                        rule(&["https://a.com"], &["PUT"], &[]),
                        rule(&["*"], &["PUT"], &[]),
                    ],
                    &["rule#2 AllowedOrigins[0]=*"],
                ),
            ],
        );
    }

    #[test]
    fn forbid_literal_origin_and_headers() {
        let g = guardrail(
            "*",
            Some(Forbid {
                origins: strings(&["https://evil.example"]),
                methods: vec![],
                headers: vec![],
            }),
            Require::default(),
        );
        run(
            &g,
            vec![
                (
                    "exact",
                    vec![rule(&["https://evil.example"], &["GET"], &[])],
                    &["rule#0 AllowedOrigins[0]=https://evil.example"],
                ),
                (
                    "wildcard covers it",
                    vec![rule(&["https://*.example"], &["GET"], &[])],
                    &["rule#0 AllowedOrigins[0]=https://*.example"],
                ),
                (
                    "* covers it",
                    vec![rule(&["*"], &["GET"], &[])],
                    &["rule#0 AllowedOrigins[0]=*"],
                ),
                (
                    "other origin",
                    vec![rule(&["https://good.example"], &["GET"], &[])],
                    &[],
                ),
                (
                    "http is another origin",
                    vec![rule(&["http://evil.example"], &["GET"], &[])],
                    &[],
                ),
            ],
        );
        let headers = guardrail(
            "*",
            Some(Forbid {
                origins: strings(&["*"]),
                methods: vec![],
                headers: strings(&["Authorization"]),
            }),
            Require::default(),
        );
        run(
            &headers,
            vec![
                (
                    "both kinds",
                    vec![rule(&["*"], &["GET"], &["content-type", "authorization"])],
                    &["rule#0 AllowedOrigins[0]=*"],
                ),
                (
                    "header wildcard covers it",
                    vec![rule(&["*"], &["GET"], &["auth*"])],
                    &["rule#0 AllowedOrigins[0]=*"],
                ),
                (
                    "header only, named origin",
                    vec![rule(&["https://a.com"], &["GET"], &["*"])],
                    &[],
                ),
                (
                    "origin only, other header",
                    vec![rule(&["*"], &["GET"], &["Range"])],
                    &[],
                ),
                ("no headers", vec![rule(&["*"], &["GET"], &[])], &[]),
            ],
        );
        let methods_only = guardrail(
            "*",
            Some(Forbid {
                origins: vec![],
                methods: methods(&["DELETE"]),
                headers: vec![],
            }),
            Require::default(),
        );
        run(
            &methods_only,
            vec![
                (
                    "delete anywhere",
                    vec![rule(&["https://a.com"], &["GET", "DELETE"], &[])],
                    &["rule#0 AllowedMethods[1]=DELETE"],
                ),
                ("no delete", vec![rule(&["*"], &["GET", "PUT"], &[])], &[]),
            ],
        );
    }

    #[test]
    fn require_origin_scheme() {
        let g = guardrail(
            "*",
            None,
            Require {
                origin_scheme: Some("https".into()),
                ..Require::default()
            },
        );
        run(
            &g,
            vec![
                (
                    "https only",
                    vec![rule(&["https://a.com", "https://*.b.com"], &["GET"], &[])],
                    &[],
                ),
                (
                    "star alone",
                    vec![rule(&["*"], &["GET"], &[])],
                    &["rule#0 AllowedOrigins[0]=*"],
                ),
                (
                    "http and scheme-less",
                    vec![rule(
                        &["https://a.com", "http://a.com", "*.a.com"],
                        &["GET"],
                        &[],
                    )],
                    &[
                        "rule#0 AllowedOrigins[1]=http://a.com",
                        "rule#0 AllowedOrigins[2]=*.a.com",
                    ],
                ),
                (
                    "localhost is still http",
                    vec![rule(&["http://localhost:3000"], &["GET"], &[])],
                    &["rule#0 AllowedOrigins[0]=http://localhost:3000"],
                ),
                (
                    "an empty origin matches nothing, so breaks nothing",
                    vec![rule(&["", "https://a.com"], &["GET"], &[])],
                    &[],
                ),
            ],
        );
    }

    #[test]
    fn require_max_age() {
        let g = guardrail(
            "*",
            None,
            Require {
                max_age_seconds_at_most: Some(600),
                ..Require::default()
            },
        );
        let aged = |age: Option<i32>| CorsRule {
            max_age_seconds: age,
            ..rule(&["*"], &["GET"], &[])
        };
        run(
            &g,
            vec![
                ("at the limit", vec![aged(Some(600))], &[]),
                ("absent", vec![aged(None)], &[]),
                ("zero", vec![aged(Some(0))], &[]),
                (
                    "over",
                    vec![aged(Some(60)), aged(Some(601))],
                    &["rule#1 MaxAgeSeconds=601"],
                ),
            ],
        );
    }

    #[test]
    fn require_origins_and_methods_within() {
        let g = guardrail(
            "*",
            None,
            Require {
                origins_within: strings(&["https://example.com", "https://*.example.com"]),
                ..Require::default()
            },
        );
        run(
            &g,
            vec![
                (
                    "within",
                    vec![rule(
                        &[
                            "https://example.com",
                            "https://app.example.com",
                            "https://*.eu.example.com",
                        ],
                        &["GET"],
                        &[],
                    )],
                    &[],
                ),
                (
                    "outside",
                    vec![rule(
                        &[
                            "*",
                            "https://*",
                            "https://example.org",
                            "http://app.example.com",
                            "https://*example.com",
                        ],
                        &["GET"],
                        &[],
                    )],
                    &[
                        "rule#0 AllowedOrigins[0]=*",
                        "rule#0 AllowedOrigins[1]=https://*",
                        "rule#0 AllowedOrigins[2]=https://example.org",
                        "rule#0 AllowedOrigins[3]=http://app.example.com",
                        "rule#0 AllowedOrigins[4]=https://*example.com",
                    ],
                ),
                (
                    "an empty origin matches nothing, so is within anything",
                    vec![rule(&["", "https://app.example.com"], &["GET"], &[])],
                    &[],
                ),
            ],
        );
        let m = guardrail(
            "*",
            None,
            Require {
                methods_within: methods(&["GET", "HEAD"]),
                ..Require::default()
            },
        );
        run(
            &m,
            vec![
                ("reads", vec![rule(&["*"], &["GET", "HEAD"], &[])], &[]),
                (
                    "writes",
                    vec![rule(&["*"], &["GET", "PUT", "DELETE"], &[])],
                    &[
                        "rule#0 AllowedMethods[1]=PUT",
                        "rule#0 AllowedMethods[2]=DELETE",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn scope_and_no_configuration() {
        let g = guardrail(
            "prod-*",
            None,
            Require {
                methods_within: methods(&["GET"]),
                ..Require::default()
            },
        );
        let config = CorsConfig::new(vec![CorsRule {
            id: Some("uploads".into()),
            ..rule(&["*"], &["PUT"], &[])
        }]);
        let guardrails = [g];
        let v = check(&guardrails, "prod-web", Some(&config));
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].guardrail.as_str(), v[0].bucket.as_str(), v[0].rule),
            ("g", "prod-web", 0)
        );
        assert_eq!(v[0].rule_id.as_deref(), Some("uploads"));
        assert_eq!(v[0].value, "PUT");
        assert_eq!(
            v[0].to_string(),
            "g: bucket prod-web, rule #0 (ID \"uploads\"), value \"PUT\": method PUT is not among the allowed methods GET"
        );
        assert!(check(&guardrails, "dev-web", Some(&config)).is_empty());
        assert!(check(&guardrails, "prod-web", None).is_empty());
    }

    #[test]
    fn forbid_message_names_every_kind() {
        let g = guardrail(
            "*",
            Some(Forbid {
                origins: strings(&["*"]),
                methods: methods(&["PUT", "DELETE"]),
                headers: vec![],
            }),
            Require::default(),
        );
        let v = check(
            &[g],
            "b",
            Some(&CorsConfig::new(vec![rule(
                &["*"],
                &["PUT", "DELETE"],
                &[],
            )])),
        );
        assert_eq!(
            v[0].message,
            "the rule allows origin \"*\" with methods \"PUT\", \"DELETE\", which is forbidden"
        );
    }

    #[test]
    fn scheme_parts() {
        for (pattern, scheme, want) in [
            ("*", "https://", Some("https://*")),
            ("h*.com", "https://", Some("https://*.com")),
            ("https://*", "https://", None),
            ("https://a.com", "https://", None),
            ("x*", "https://", None),
        ] {
            assert_eq!(scheme_part(pattern, scheme).as_deref(), want, "{pattern}");
        }
    }
}
