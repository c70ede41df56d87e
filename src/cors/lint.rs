//! CORS lints: warnings about rules that S3 accepts but that do not do what their author
//! meant (docs/lints/). Works on any [`CorsConfig`], desired or live.
//!
//! Each [`Finding`] names a rule, and where it can a field and a value index within that
//! field's list, so the caller can point at the file and line; every [`LintCode`] has a
//! page under `docs/lints/`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::origin;
use super::pattern::{self, Case};
use crate::model::{CorsConfig, CorsRule, Method};

/// Chromium's cap on caching a preflight result, in seconds (Firefox caps at 86400,
/// WebKit at 600). `max-age-over-browser-cap` fires above it: Chromium-based browsers
/// are most users, and anything longer is silently cut to this.
pub const BROWSER_MAX_AGE_CAP: i32 = 7200;

/// The stable identity of a lint: its kebab-case code is what users see, configure and
/// search for, and names its docs page `docs/lints/<code>.md`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum LintCode {
    /// Earlier rules match every request this rule would match.
    ShadowedRule,
    /// An AllowedOrigin no browser can send.
    OriginNeverMatches,
    /// Any origin (`*`, `https://*`, `http://*`) on a rule allowing PUT, POST or
    /// DELETE. Off by default.
    WildcardOriginWithWrites,
    /// A plain `http://` origin other than a development host.
    HttpOrigin,
    /// A value repeated within one list.
    DuplicateValue,
    /// PUT or POST without AllowedHeaders.
    MissingAllowedHeaders,
    /// PUT without ETag in ExposeHeaders. Off by default.
    MissingEtagExposure,
    /// MaxAgeSeconds above [`BROWSER_MAX_AGE_CAP`].
    MaxAgeOverBrowserCap,
    /// An empty string in AllowedHeaders or ExposeHeaders.
    EmptyHeaderName,
    /// A negative MaxAgeSeconds.
    NegativeMaxAge,
}

impl LintCode {
    /// Every lint, in the order findings of one rule are reported.
    pub const ALL: [LintCode; 10] = [
        LintCode::ShadowedRule,
        LintCode::OriginNeverMatches,
        LintCode::WildcardOriginWithWrites,
        LintCode::HttpOrigin,
        LintCode::DuplicateValue,
        LintCode::MissingAllowedHeaders,
        LintCode::MissingEtagExposure,
        LintCode::MaxAgeOverBrowserCap,
        LintCode::EmptyHeaderName,
        LintCode::NegativeMaxAge,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            LintCode::ShadowedRule => "shadowed-rule",
            LintCode::OriginNeverMatches => "origin-never-matches",
            LintCode::WildcardOriginWithWrites => "wildcard-origin-with-writes",
            LintCode::HttpOrigin => "http-origin",
            LintCode::DuplicateValue => "duplicate-value",
            LintCode::MissingAllowedHeaders => "missing-allowed-headers",
            LintCode::MissingEtagExposure => "missing-etag-exposure",
            LintCode::MaxAgeOverBrowserCap => "max-age-over-browser-cap",
            LintCode::EmptyHeaderName => "empty-header-name",
            LintCode::NegativeMaxAge => "negative-max-age",
        }
    }

    /// One line saying what the lint catches (for `--help`-style listings).
    pub fn summary(self) -> &'static str {
        match self {
            LintCode::ShadowedRule => "earlier rules match every request this rule would match",
            LintCode::OriginNeverMatches => "an AllowedOrigin that no browser ever sends",
            LintCode::WildcardOriginWithWrites => "any origin may PUT, POST or DELETE",
            LintCode::HttpOrigin => "a plain-http origin other than a development host",
            LintCode::DuplicateValue => "a value repeated within one list",
            LintCode::MissingAllowedHeaders => "PUT or POST allowed without AllowedHeaders",
            LintCode::MissingEtagExposure => "PUT allowed without ETag in ExposeHeaders",
            LintCode::MaxAgeOverBrowserCap => {
                "MaxAgeSeconds longer than browsers cache a preflight"
            }
            LintCode::EmptyHeaderName => {
                "an empty AllowedHeader or ExposeHeader, which does nothing"
            }
            LintCode::NegativeMaxAge => "a negative MaxAgeSeconds, which browsers ignore",
        }
    }

    /// Whether the lint runs without being asked for. The lints that are off by
    /// default are right only for some setups (measured on real configurations,
    /// docs/lints/README.md): a policy turns one on with `lints: {code: warn}` (or
    /// `deny`). Until then its findings are not reported at all, not even as
    /// suppressed.
    pub fn is_default_on(self) -> bool {
        !matches!(
            self,
            LintCode::WildcardOriginWithWrites | LintCode::MissingEtagExposure
        )
    }
}

impl fmt::Display for LintCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a kebab-case code (`shadowed-rule`), e.g. from a `--allow` option.
impl FromStr for LintCode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        LintCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

/// A field of a rule, named by its policy-file key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Field {
    /// `AllowedOrigins`.
    AllowedOrigins,
    /// `AllowedMethods`.
    AllowedMethods,
    /// `AllowedHeaders`.
    AllowedHeaders,
    /// `ExposeHeaders`.
    ExposeHeaders,
    /// `MaxAgeSeconds`.
    MaxAgeSeconds,
    /// `ID`.
    #[serde(rename = "ID")]
    Id,
}

impl Field {
    /// The policy-file key.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::AllowedOrigins => "AllowedOrigins",
            Field::AllowedMethods => "AllowedMethods",
            Field::AllowedHeaders => "AllowedHeaders",
            Field::ExposeHeaders => "ExposeHeaders",
            Field::MaxAgeSeconds => "MaxAgeSeconds",
            Field::Id => "ID",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Which lint.
    pub code: LintCode,
    /// Index of the rule (0-based) the finding is about.
    pub rule: usize,
    /// The field it is about, if one (else the whole rule).
    pub field: Option<Field>,
    /// Index of the value within the field's list, if one.
    pub value: Option<usize>,
    /// What is wrong, naming the values involved.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Another rule involved (for `shadowed-rule`: the first earlier rule that shadows).
    pub related_rule: Option<usize>,
}

/// Runs every lint over `config`. Findings come rule by rule, in [`LintCode::ALL`] order
/// within a rule, then by field and value index.
pub fn lint(config: &CorsConfig) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, rule) in config.cors_rules.iter().enumerate() {
        let mut out = Findings {
            config,
            rule,
            index,
            findings: &mut findings,
        };
        shadowed_rule(&mut out);
        origin_never_matches(&mut out);
        wildcard_origin_with_writes(&mut out);
        http_origin(&mut out);
        duplicate_value(&mut out);
        missing_allowed_headers(&mut out);
        missing_etag_exposure(&mut out);
        max_age_over_browser_cap(&mut out);
        empty_header_name(&mut out);
        negative_max_age(&mut out);
    }
    findings
}

/// The rule being linted, and where its findings go.
struct Findings<'a> {
    config: &'a CorsConfig,
    rule: &'a CorsRule,
    index: usize,
    findings: &'a mut Vec<Finding>,
}

impl Findings<'_> {
    /// `rules[i]` with its ID, for messages.
    fn name(&self) -> String {
        rule_name(self.config, self.index)
    }

    fn push(
        &mut self,
        code: LintCode,
        field: Field,
        value: Option<usize>,
        message: String,
        help: String,
    ) {
        self.findings.push(Finding {
            code,
            rule: self.index,
            field: Some(field),
            value,
            message,
            help,
            related_rule: None,
        });
    }
}

fn shadowed_rule(out: &mut Findings) {
    let Some(earlier) = shadowed_by(out.config, out.index) else {
        return;
    };
    let names: Vec<String> = earlier.iter().map(|&i| rule_name(out.config, i)).collect();
    let by = match names.as_slice() {
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    };
    out.findings.push(Finding {
        code: LintCode::ShadowedRule,
        rule: out.index,
        field: None,
        value: None,
        message: format!(
            "{} never applies: every request it matches is matched first by {by}",
            out.name()
        ),
        help: "S3 uses the first matching rule: move this rule above the rule(s) named, \
               or delete it if it adds nothing"
            .to_string(),
        related_rule: earlier.first().copied(),
    });
}

fn origin_never_matches(out: &mut Findings) {
    for (k, origin) in out.rule.allowed_origins.iter().enumerate() {
        let Some(reasons) = origin_problems(origin) else {
            continue;
        };
        let help = match suggest_origin(origin) {
            Some(fixed) => format!("write \"{fixed}\""),
            None if origin.is_empty() => "remove the empty entry".to_string(),
            None if is_placeholder(origin) => "this looks like a template placeholder, which \
                S3 compares as written: put the origin itself here, or fill the placeholder in \
                before the policy is read"
                .to_string(),
            None => "write it as a browser sends it: scheme://host[:port], lower case, \
                     nothing after the host"
                .to_string(),
        };
        let message = format!(
            "origin \"{origin}\" never matches: {}; browsers send Origin as \
             scheme://host[:port] in lower case, without a default port",
            reasons.join(", ")
        );
        out.push(
            LintCode::OriginNeverMatches,
            Field::AllowedOrigins,
            Some(k),
            message,
            help,
        );
    }
}

fn wildcard_origin_with_writes(out: &mut Findings) {
    let mut writes: Vec<&str> = Vec::new();
    for method in out.rule.allowed_methods.iter().filter(|m| m.is_write()) {
        if !writes.contains(&method.as_str()) {
            writes.push(method.as_str());
        }
    }
    let Some(k) = out
        .rule
        .allowed_origins
        .iter()
        .position(|o| origin::is_any_origin(o))
    else {
        return;
    };
    if writes.is_empty() {
        return;
    }
    let pattern = &out.rule.allowed_origins[k];
    let credentials = if pattern == "*" {
        "S3 answers it with `Access-Control-Allow-Origin: *` and no \
         Access-Control-Allow-Credentials, so browsers refuse credentialed requests \
         (cookies, HTTP auth) on it: each write must carry its own authorisation \
         (a presigned URL, a signature)"
            .to_string()
    } else {
        format!(
            "S3 echoes each matching Origin with `Access-Control-Allow-Credentials: true`, \
             so every {} website may also send credentialed requests (cookies, HTTP auth)",
            origin::parse(pattern).scheme.unwrap_or_default()
        )
    };
    let message = format!(
        "{} lets any website send {} from its visitors' browsers (AllowedOrigins \"{pattern}\"); \
         {credentials}",
        out.name(),
        writes.join(", ")
    );
    let help = "list the origins that may write, and keep any-origin access in a separate \
                read-only (GET, HEAD) rule"
        .to_string();
    out.push(
        LintCode::WildcardOriginWithWrites,
        Field::AllowedOrigins,
        Some(k),
        message,
        help,
    );
}

fn http_origin(out: &mut Findings) {
    for (k, origin) in out.rule.allowed_origins.iter().enumerate() {
        let parts = origin::parse(origin);
        if !is_remote_http(origin, &parts) {
            continue;
        }
        let message = format!(
            "origin \"{origin}\" is plain http: pages served over http can be altered in \
             transit, so anyone on the network can act as this origin"
        );
        let help = match origin::s3_website_bucket(parts.host) {
            Some(bucket) => format!(
                "S3 website endpoints serve only http: put a CDN with an https certificate \
                 (such as CloudFront) in front of bucket {bucket}, serve the site from it, \
                 and allow that https origin instead"
            ),
            // Without user information, which no Origin carries
            // (`origin-never-matches` reports it).
            None => format!(
                "serve the site over https and write \"https://{}\"",
                parts
                    .authority
                    .rsplit_once('@')
                    .map_or(parts.authority, |(_, host)| host)
            ),
        };
        out.push(
            LintCode::HttpOrigin,
            Field::AllowedOrigins,
            Some(k),
            message,
            help,
        );
    }
}

fn duplicate_value(out: &mut Findings) {
    let rule = out.rule;
    let methods: Vec<String> = rule
        .allowed_methods
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    let lists: [(Field, &[String], bool); 4] = [
        (Field::AllowedOrigins, &rule.allowed_origins, false),
        (Field::AllowedMethods, &methods, false),
        (Field::AllowedHeaders, &rule.allowed_headers, true),
        (Field::ExposeHeaders, &rule.expose_headers, true),
    ];
    for (field, values, case_insensitive) in lists {
        for (k, value) in values.iter().enumerate() {
            let same = |other: &String| {
                if case_insensitive {
                    other.eq_ignore_ascii_case(value)
                } else {
                    other == value
                }
            };
            let Some((first_index, first)) =
                values.iter().take(k).enumerate().find(|(_, v)| same(v))
            else {
                continue;
            };
            let spelled = if first != value {
                format!(" (as \"{first}\": header names ignore case)")
            } else {
                String::new()
            };
            let message =
                format!("\"{value}\" is already in {field} at index {first_index}{spelled}");
            let help = format!("remove this \"{value}\"");
            out.push(LintCode::DuplicateValue, field, Some(k), message, help);
        }
    }
}

/// Index of the first PUT or POST: the methods browser uploads use.
fn first_upload_method(rule: &CorsRule) -> Option<(usize, Method)> {
    rule.allowed_methods
        .iter()
        .copied()
        .enumerate()
        .find(|(_, m)| matches!(m, Method::Put | Method::Post))
}

fn missing_allowed_headers(out: &mut Findings) {
    let Some((k, method)) = first_upload_method(out.rule) else {
        return;
    };
    if !out.rule.allowed_headers.is_empty() {
        return;
    }
    let message = format!(
        "{} allows {method} but has no AllowedHeaders: a preflight that asks for any header \
         (uploads send Content-Type) is refused",
        out.name()
    );
    let help = "add AllowedHeaders: the headers your uploads send, e.g. [Content-Type], or [\"*\"]"
        .to_string();
    out.push(
        LintCode::MissingAllowedHeaders,
        Field::AllowedMethods,
        Some(k),
        message,
        help,
    );
}

/// Off by default: of the browser uploads S3 serves, only multipart ones (the AWS
/// SDK's `Upload`, Uppy's multipart plugin) must read ETag, and nothing in a rule
/// shows that an app does them; a single presigned PUT, or a POST (a form upload
/// or a multipart call that ends in XML), needs no exposed ETag.
fn missing_etag_exposure(out: &mut Findings) {
    let Some(k) = out
        .rule
        .allowed_methods
        .iter()
        .position(|m| *m == Method::Put)
    else {
        return;
    };
    let expose = &out.rule.expose_headers;
    if expose.iter().any(|h| h.eq_ignore_ascii_case("ETag")) {
        return;
    }
    let (field, value) = if expose.is_empty() {
        (Field::AllowedMethods, Some(k))
    } else {
        (Field::ExposeHeaders, None)
    };
    let message = format!(
        "{} allows PUT but does not expose ETag: browser multipart uploads must read each \
         part's ETag to complete the upload",
        out.name()
    );
    out.push(
        LintCode::MissingEtagExposure,
        field,
        value,
        message,
        "add ETag to ExposeHeaders".to_string(),
    );
}

fn max_age_over_browser_cap(out: &mut Findings) {
    let Some(max_age) = out
        .rule
        .max_age_seconds
        .filter(|&age| age > BROWSER_MAX_AGE_CAP)
    else {
        return;
    };
    let message = format!(
        "MaxAgeSeconds {max_age} is over {BROWSER_MAX_AGE_CAP}, Chromium's cap on caching a \
         preflight (Firefox caps at 86400, Safari at 600): browsers silently cache for less"
    );
    let help = format!("set MaxAgeSeconds to {BROWSER_MAX_AGE_CAP} or less");
    out.push(
        LintCode::MaxAgeOverBrowserCap,
        Field::MaxAgeSeconds,
        None,
        message,
        help,
    );
}

fn empty_header_name(out: &mut Findings) {
    let rule = out.rule;
    let lists: [(Field, &[String], &str); 2] = [
        (
            Field::AllowedHeaders,
            &rule.allowed_headers,
            "allows no header: browsers never request an empty name, and S3 drops \
             empty names from Access-Control-Request-Headers",
        ),
        (
            Field::ExposeHeaders,
            &rule.expose_headers,
            "exposes no header: no response header has an empty name",
        ),
    ];
    for (field, values, effect) in lists {
        for (k, _) in values.iter().enumerate().filter(|(_, v)| v.is_empty()) {
            let message = format!(
                "{}: {field}[{k}] is an empty header name, which S3 accepts but which {effect}",
                out.name()
            );
            let help = format!(
                "remove the empty entry (a rule without {field} leaves the key out, or writes `{field}: []`)"
            );
            out.findings.push(Finding {
                code: LintCode::EmptyHeaderName,
                rule: out.index,
                field: Some(field),
                value: Some(k),
                message,
                help,
                related_rule: None,
            });
        }
    }
}

fn negative_max_age(out: &mut Findings) {
    let Some(max_age) = out.rule.max_age_seconds.filter(|&age| age < 0) else {
        return;
    };
    let message = format!(
        "MaxAgeSeconds {max_age} is negative: S3 is not known to reject it, but browsers read \
         Access-Control-Max-Age as a number of seconds from 0 up, so they ignore it and cache \
         the preflight for their default (5 seconds in the Fetch standard)"
    );
    out.push(
        LintCode::NegativeMaxAge,
        Field::MaxAgeSeconds,
        None,
        message,
        "write 0 to have browsers not reuse preflights, or a number of seconds up to 7200"
            .to_string(),
    );
}

/// `rules[2] (ID "uploads")`, or `rules[2]` without an ID.
fn rule_name(config: &CorsConfig, index: usize) -> String {
    match config.cors_rules.get(index).and_then(|r| r.id.as_deref()) {
        Some(id) => format!("rules[{index}] (ID \"{id}\")"),
        None => format!("rules[{index}]"),
    }
}

/// If rule `j` of `config` is shadowed, the earlier rules that shadow it (ascending; a
/// single rule when one alone suffices); `None` when some request reaches rule `j`, or
/// when it cannot be decided (see below).
///
/// **What is decided.** A request (for matching) is a method `m`, an Origin `o` (any
/// string) and a finite set `H` of requested header names (non-empty, lower-cased; any
/// strings). Rule `r` matches it iff `m ∈ M_r`, `o ∈ L(O_r)` (some AllowedOrigin matches,
/// case-sensitively) and `H ⊆ L(A_r)` (every name matches some AllowedHeader,
/// case-insensitively; `A_r` empty means only `H = ∅`). Rule `j` is shadowed iff every
/// request it matches is matched by *some* earlier rule, possibly different ones for
/// different requests. This function decides exactly that, for rules whose patterns
/// hold at most one `*` (all that S3 accepts).
///
/// **Procedure.** `j` is shadowed iff for every method `m ∈ M_j` and every origin
/// pattern `p ∈ O_j` there is an earlier rule `i` with `m ∈ M_i`, some `q ∈ O_i` with
/// `q` covering `p` ([`pattern::pattern_covers`]), and `L(A_j) ⊆ L(A_i)`, i.e. every
/// non-empty header pattern of `j` covered (case-insensitively) by some header pattern
/// of `i`.
///
/// **Why that is exact.** Fix `m` and `o`, and let `I` be the earlier rules allowing
/// `m` and matching `o`. (1) Headers: every finite `H ⊆ L(A_j)` lies within one `L(A_i)`,
/// `i ∈ I`, iff `L(A_j) ⊆ L(A_i)` for one `i ∈ I`: otherwise pick for each `i` a name in
/// `L(A_j) \ L(A_i)`; those finitely many names form an `H` that no rule of `I`
/// allows. So with `G_m` the earlier rules allowing `m` whose headers contain `j`'s,
/// `j` is shadowed iff for each `m`, `L(O_j) ⊆ ⋃_{i ∈ G_m} L(O_i)`. (2) Origins: over
/// an unbounded alphabet a finite union of one-`*` patterns covers a pattern iff one of
/// them does ([`pattern::union_covers`]), and a union of header patterns likewise; so
/// each origin pattern of `j` must be covered by one origin pattern of a rule in
/// `G_m`. Header names and origins are treated as arbitrary strings; real requests are a
/// subset of those, so a rule reported as shadowed is shadowed for real requests too.
///
/// **Not decided** (answered `None`, never a false report): a rule `j` with no methods
/// or origins (it matches nothing; validation rejects it) or only empty origins (it
/// matches nothing; `origin-never-matches` says so), or with any origin or header
/// pattern holding two or more `*` (S3 rejects them). Earlier rules with such patterns
/// are still used, soundly: such a pattern covers a literal it matches, or an identical
/// pattern, and nothing else.
pub fn shadowed_by(config: &CorsConfig, j: usize) -> Option<Vec<usize>> {
    let rules = &config.cors_rules;
    let target = rules.get(j)?;
    if target.allowed_methods.is_empty() || target.allowed_origins.is_empty() {
        return None;
    }
    let several_wildcards = |p: &String| pattern::wildcard_count(p) > 1;
    if target.allowed_origins.iter().any(several_wildcards)
        || target.allowed_headers.iter().any(several_wildcards)
    {
        return None;
    }
    // An empty origin matches no request: it adds nothing to cover.
    let origins: Vec<&str> = target
        .allowed_origins
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let methods: BTreeSet<Method> = target.allowed_methods.iter().copied().collect();
    let headers_contained = |earlier: &CorsRule| {
        target
            .allowed_headers
            .iter()
            // Empty names are never requested, so an empty pattern allows nothing.
            .filter(|b| !b.is_empty())
            .all(|b| {
                pattern::union_covers(
                    earlier.allowed_headers.iter().map(String::as_str),
                    b,
                    Case::Insensitive,
                )
            })
    };
    let covers_part = |earlier: &CorsRule, m: Method, p: &str| {
        earlier.allowed_methods.contains(&m)
            && pattern::union_covers(
                earlier.allowed_origins.iter().map(String::as_str),
                p,
                Case::Sensitive,
            )
            && headers_contained(earlier)
    };
    let parts: Vec<(Method, &str)> = methods
        .iter()
        .flat_map(|&m| origins.iter().map(move |&p| (m, p)))
        .collect();
    let earlier = &rules[..j];
    if let Some(single) = earlier
        .iter()
        .position(|r| parts.iter().all(|&(m, p)| covers_part(r, m, p)))
    {
        return Some(vec![single]);
    }
    let mut used = BTreeSet::new();
    for &(m, p) in &parts {
        used.insert(earlier.iter().position(|r| covers_part(r, m, p))?);
    }
    Some(used.into_iter().collect())
}

// ---- origin-never-matches ---------------------------------------------------------------

/// States of a small automaton for the Origin values browsers send: `null`, or
/// `scheme://host[:port]` with a lower-case scheme and a host free of upper case, `/`,
/// `?`, `#`, `@` and whitespace. Bit `k` of a state set is state `k`.
const START: u16 = 1 << 0;
const SCHEME: u16 = 1 << 1;
const COLON: u16 = 1 << 2;
const SLASH: u16 = 1 << 3;
const HOST_START: u16 = 1 << 4;
const HOST: u16 = 1 << 5;
const N: u16 = 1 << 6;
const NU: u16 = 1 << 7;
const NUL: u16 = 1 << 8;
const NULL: u16 = 1 << 9;
const ACCEPTING: u16 = HOST | NULL;

fn is_host_char(c: char) -> bool {
    !(c.is_ascii_uppercase() || c.is_whitespace() || c.is_control() || "/?#@\\".contains(c))
}

fn step(states: u16, c: char) -> u16 {
    let mut next = 0;
    if states & START != 0 && c.is_ascii_lowercase() {
        next |= SCHEME;
    }
    if states & START != 0 && c == 'n' {
        next |= N;
    }
    if states & SCHEME != 0 {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c) {
            next |= SCHEME;
        }
        if c == ':' {
            next |= COLON;
        }
    }
    if states & COLON != 0 && c == '/' {
        next |= SLASH;
    }
    if states & SLASH != 0 && c == '/' {
        next |= HOST_START;
    }
    if states & (HOST_START | HOST) != 0 && is_host_char(c) {
        next |= HOST;
    }
    for (from, want, to) in [(N, 'u', NU), (NU, 'l', NUL), (NUL, 'l', NULL)] {
        if states & from != 0 && c == want {
            next |= to;
        }
    }
    next
}

/// Every state reachable from `states` by some string (what a `*` can do).
fn reachable(states: u16) -> u16 {
    const ANY_STEP: [(u16, u16); 9] = [
        (START, SCHEME | N),
        (SCHEME, SCHEME | COLON),
        (COLON, SLASH),
        (SLASH, HOST_START),
        (HOST_START, HOST),
        (HOST, HOST),
        (N, NU),
        (NU, NUL),
        (NUL, NULL),
    ];
    let mut set = states;
    loop {
        let next = ANY_STEP
            .iter()
            .filter(|(from, _)| set & from != 0)
            .fold(set, |acc, (_, to)| acc | to);
        if next == set {
            return set;
        }
        set = next;
    }
}

/// Can the AllowedOrigin `pattern` match some Origin a browser sends? Exact for the
/// automaton above, `*` matching any string (also several `*`).
fn can_match_browser_origin(pattern: &str) -> bool {
    let mut states = START;
    for (k, segment) in pattern.split('*').enumerate() {
        if k > 0 {
            states = reachable(states);
        }
        for c in segment.chars() {
            states = step(states, c);
        }
    }
    states & ACCEPTING != 0
}

/// Why `origin` can never match, when it cannot: the reasons a reader recognises.
fn origin_problems(origin: &str) -> Option<Vec<&'static str>> {
    if origin.is_empty() {
        // S3 accepts it, and it never matches (docs/s3-cors-semantics.md).
        return Some(vec!["it is empty"]);
    }
    let literal = !origin.contains('*');
    let parts = origin::parse(origin);
    let default_port = literal
        && ((parts.scheme == Some("https") && origin.ends_with(":443"))
            || (parts.scheme == Some("http") && origin.ends_with(":80")));
    if can_match_browser_origin(origin) && !default_port {
        return None;
    }
    let mut reasons = Vec::new();
    if origin.chars().any(|c| c.is_whitespace() || c.is_control()) {
        reasons.push("it contains whitespace");
    }
    if origin.chars().any(|c| c.is_ascii_uppercase()) {
        reasons.push("it has upper case");
    }
    if parts.scheme.is_none() && literal {
        reasons.push("it has no scheme");
    }
    let repeated = repeated_scheme(origin).is_some();
    if repeated {
        reasons.push("it repeats the scheme");
    }
    if parts.scheme.is_some() && !repeated {
        let tail = parts.rest;
        let path = tail.split(['?', '#']).next().unwrap_or_default();
        if path == "/" {
            reasons.push("it has a trailing slash");
        } else if !path.is_empty() {
            reasons.push("it has a path");
        }
        if tail.contains('?') {
            reasons.push("it has a query");
        }
        if tail.contains('#') {
            reasons.push("it has a fragment");
        }
        if parts.authority.contains('@') {
            reasons.push("it has user information");
        }
    }
    if default_port {
        reasons.push("it names the scheme's default port, which browsers omit");
    }
    if reasons.is_empty() {
        reasons.push("it is not of the form scheme://host[:port]");
    }
    Some(reasons)
}

/// The origin after a repeated scheme, when `origin` is one pasted inside another
/// (`https://https://a.example` gives `https://a.example`): the innermost text that
/// still starts with `scheme://`.
fn repeated_scheme(origin: &str) -> Option<&str> {
    let is_scheme = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    };
    let (scheme, mut after) = origin.split_once("://")?;
    if !is_scheme(scheme) {
        return None;
    }
    let mut found = None;
    while let Some((inner, rest)) = after.split_once("://") {
        if !is_scheme(inner) {
            break;
        }
        found = Some(after);
        after = rest;
    }
    found
}

/// A `${NAME}` or `{{ name }}` left for a template engine to fill in.
fn is_placeholder(origin: &str) -> bool {
    origin.contains("${") || origin.contains("{{")
}

/// A corrected origin for a literal (or host-wildcard) origin that can never match, if
/// one can be derived: lower case, no path/query/fragment, no default port, `https://`
/// added when the scheme is missing, a repeated scheme dropped. Only when what is left
/// is a plausible host (letters, digits, `.`, `-`, one `*`, or an IPv6 literal) with
/// a numeric (or `*`) port: other values get no rewrite, as a guess would mislead.
fn suggest_origin(origin: &str) -> Option<String> {
    let trimmed = origin.trim();
    let trimmed = repeated_scheme(trimmed).unwrap_or(trimmed);
    let parts = origin::parse(trimmed);
    let scheme = match parts.scheme {
        Some(scheme) => scheme.to_ascii_lowercase(),
        None if !trimmed.contains('*') => "https".to_string(),
        None => return None,
    };
    let host_ok = !parts.host.is_empty()
        && (parts.host.starts_with('[')
            || parts
                .host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-*".contains(c)));
    let port_ok = parts
        .port
        .is_none_or(|p| p == "*" || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    if !host_ok || !port_ok {
        return None;
    }
    let mut authority = parts.authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if authority.ends_with(default_port) && (scheme == "https" || scheme == "http") {
        authority.truncate(authority.len() - default_port.len());
    }
    let fixed = format!("{scheme}://{authority}");
    let valid = origin_problems(&fixed).is_none();
    (valid && fixed != origin).then_some(fixed)
}

// ---- http-origin --------------------------------------------------------------------------

/// An `http://` origin whose host is not a development host
/// ([`origin::is_development_host`]), and which is not `http://*` (any http
/// origin: as good or as bad as `*`, which this lint leaves alone).
fn is_remote_http(pattern: &str, origin: &origin::Parts<'_>) -> bool {
    origin.scheme == Some("http")
        && !origin::is_any_origin(pattern)
        && !origin::is_development_host(origin.host)
}

#[cfg(test)]
mod tests;
