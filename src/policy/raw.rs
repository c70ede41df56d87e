//! The policy file format as serde types: the source of `s3cors schema` (JSON
//! Schema for editors) and of the YAML that `import` writes. Validation does not
//! go through these types (it needs positions and every error at once, see
//! `validate`); a test keeps the two readings of the format in agreement.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cors::lint::LintCode;
use crate::model::Method;

/// One policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "s3cors policy file")]
pub struct PolicyFile {
    /// Format version; the only one so far is 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The AWS accounts these policies cover and how to reach each; usable from any
    /// file. Without it, every call uses the caller's own credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    /// Named rule lists, usable from any file with `- ruleset: NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rulesets: BTreeMap<String, Vec<Rule>>,
    /// The buckets these policies manage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<Bucket>,
    /// Organisation rules every matching bucket's CORS rules must follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Guardrail>,
    /// Lint levels for every policy file: `allow` silences a lint everywhere,
    /// `warn` is the default, `deny` makes it an error. One level per lint across
    /// all files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"$ref": "#/$defs/LintCode"}))]
    pub lints: BTreeMap<LintCode, LintLevel>,
}

/// A `lints:` level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    Allow,
    Warn,
    Deny,
}

/// An `allow:` item: a lint code, or the code with the reason it is allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AllowItem {
    Code(LintCode),
    WithReason(AllowWithReason),
}

/// `{code: ..., reason: ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowWithReason {
    pub code: LintCode,
    /// Why the finding is accepted; shown with `-v` and in SARIF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An `accounts:` item: one account by `id` (with `role_arn` or `profile`, or
/// neither for the caller's own credentials), or an `organization` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The 12-digit account ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub id: Option<String>,
    /// A role in this account, assumed through STS with the caller's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub role_arn: Option<String>,
    /// The ExternalId the role's trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A named profile of the shared AWS config files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Every active account AWS Organizations lists, through role `role_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationItem>,
}

/// `organization:`: assume `arn:aws:iam::ID:role/ROLE_NAME` in every account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationItem {
    pub role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// A bucket entry: exactly one of `name` or `match`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// One bucket, by exact name. Wins over any `match` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every existing bucket whose name matches this glob.
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_: Option<String>,
    /// With `match`: only buckets carrying all these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// The account the buckets are in (12-digit ID): its `accounts:` credentials are
    /// used, and it is sent as the expected bucket owner on every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account: Option<String>,
    /// The bucket's region, to skip region discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The CORS rules in S3's evaluation order; `[]` means no CORS configuration.
    pub rules: Vec<RuleItem>,
    /// Lints silenced for every rule of this entry (counted as suppressed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<AllowItem>,
    /// `false`: `s3cors watch --reconcile` never writes these buckets (it still
    /// reports them drifted). Only `watch` reads it; `plan` and `apply` do not.
    /// Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<bool>,
}

/// A rule, or a reference splicing a named ruleset in its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RuleItem {
    Ruleset {
        /// The name of a ruleset declared under `rulesets:` in any policy file.
        ruleset: String,
    },
    Rule(Rule),
}

/// One CORS rule, with the S3 console's JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Rule {
    /// Optional rule name (at most 255 characters), shown in reports.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub id: Option<String>,
    /// Headers a preflight may ask for (`Access-Control-Request-Headers`), matched
    /// case-insensitively; one `*` each (`x-amz-*`, or `*` for any). Only characters
    /// of an HTTP header name (RFC 9110 token), as S3 rejects others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]*$")))]
    pub allowed_headers: Vec<String>,
    /// Methods the rule allows: GET, PUT, POST, DELETE, HEAD (exact upper case).
    #[schemars(length(min = 1))]
    pub allowed_methods: Vec<Method>,
    /// Origins as browsers send them (`https://app.example.com`), with at most one `*`
    /// each; `*` alone allows every origin.
    #[schemars(length(min = 1))]
    pub allowed_origins: Vec<String>,
    /// Response headers scripts may read (e.g. `ETag`); no wildcards. Only characters
    /// of an HTTP header name (RFC 9110 token), as S3 rejects others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[!#$%&'+.^_`|~0-9A-Za-z-]*$")))]
    pub expose_headers: Vec<String>,
    /// Seconds a browser may cache the preflight answer (a negative value is accepted
    /// but ignored by browsers: the `negative-max-age` lint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
    /// Lints silenced for this rule (counted as suppressed).
    #[serde(rename = "allow", default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<AllowItem>,
}

/// An organisation rule over CORS rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    /// Unique name, used in reports.
    pub id: String,
    /// Why the guardrail exists; shown with each violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Glob of the bucket names it applies to; default every bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<String>,
    /// Value combinations no rule may allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid: Option<Forbid>,
    /// Conditions every rule must meet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Require>,
}

/// A rule breaks it when it holds one of the listed values in every listed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forbid {
    /// Origin patterns; a rule origin allowing all of one counts (`https://*` counts as `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// Methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<Method>,
    /// Header patterns, compared case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
}

/// What every rule in scope must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Require {
    /// Every origin starts with this scheme and `://` (`*` alone fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_scheme: Option<OriginScheme>,
    /// MaxAgeSeconds, when set, is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_age_seconds_at_most: Option<i32>,
    /// Every origin is covered by one of these patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins_within: Vec<String>,
    /// Every method is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods_within: Vec<Method>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OriginScheme {
    Https,
    Http,
}

/// The JSON Schema of policy files, pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
