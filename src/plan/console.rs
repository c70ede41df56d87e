//! The S3 console's JSON form of CORS rules ([`ConsoleRule`]): how plan files,
//! the journal and reports write configurations, so a person can read and copy
//! them as they are; `null` is "no configuration".

use serde::{Deserialize, Serialize};

use crate::model::{CorsConfig, CorsRule, Method};

/// One CORS rule as the S3 console shows it, keys in the console's order.
/// Empty lists and absent values are left out when written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleRule {
    /// `AllowedHeaders`.
    #[serde(
        rename = "AllowedHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_headers: Vec<String>,
    /// `AllowedMethods`.
    #[serde(rename = "AllowedMethods")]
    pub allowed_methods: Vec<Method>,
    /// `AllowedOrigins`.
    #[serde(rename = "AllowedOrigins")]
    pub allowed_origins: Vec<String>,
    /// `ExposeHeaders`.
    #[serde(
        rename = "ExposeHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds`.
    #[serde(
        rename = "MaxAgeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age_seconds: Option<i32>,
    /// `ID`.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl From<&CorsRule> for ConsoleRule {
    fn from(r: &CorsRule) -> Self {
        ConsoleRule {
            allowed_headers: r.allowed_headers.clone(),
            allowed_methods: r.allowed_methods.clone(),
            allowed_origins: r.allowed_origins.clone(),
            expose_headers: r.expose_headers.clone(),
            max_age_seconds: r.max_age_seconds,
            id: r.id.clone(),
        }
    }
}

impl From<ConsoleRule> for CorsRule {
    fn from(r: ConsoleRule) -> Self {
        CorsRule {
            id: r.id,
            allowed_headers: r.allowed_headers,
            allowed_methods: r.allowed_methods,
            allowed_origins: r.allowed_origins,
            expose_headers: r.expose_headers,
            max_age_seconds: r.max_age_seconds,
        }
    }
}

/// A configuration in console form: `None` is "no configuration".
pub fn to_console(config: Option<&CorsConfig>) -> Option<Vec<ConsoleRule>> {
    config.map(|c| c.cors_rules.iter().map(ConsoleRule::from).collect())
}

/// The inverse of [`to_console`].
pub fn from_console(rules: Option<Vec<ConsoleRule>>) -> Option<CorsConfig> {
    rules.map(|rules| CorsConfig::new(rules.into_iter().map(CorsRule::from).collect()))
}
