//! The validated CORS model: the plain types every other module speaks.
//!
//! A [`CorsConfig`] here has already passed validation (see `policy::validate`) or
//! came back from S3; it never holds an unsupported method. Field names follow the
//! S3 console's JSON keys when serialised, so what users read is what they wrote.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The five HTTP methods S3 accepts in `AllowedMethods` (exact upper case).
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
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Head,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Head,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }

    /// Methods that change objects: the ones lints and guardrails care about.
    pub fn is_write(self) -> bool {
        matches!(self, Method::Put | Method::Post | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parsing is exact, as S3's is: `get` is not a method.
impl FromStr for Method {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Method::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// One CORS rule, as S3 stores it. Empty lists stand for absent elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    pub allowed_methods: Vec<Method>,
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

/// A bucket's whole CORS configuration: 1 to 100 rules, in S3's evaluation order.
/// "No configuration" is `Option<CorsConfig>::None`, never an empty `rules`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsConfig {
    pub cors_rules: Vec<CorsRule>,
}

impl CorsConfig {
    pub fn new(cors_rules: Vec<CorsRule>) -> Self {
        CorsConfig { cors_rules }
    }
}

/// S3's limit on the PutBucketCors XML document.
pub const MAX_XML_BYTES: usize = 64 * 1024;
/// S3's limit on rules per configuration.
pub const MAX_RULES: usize = 100;
/// S3's limit on a rule ID, in characters.
pub const MAX_ID_CHARS: usize = 255;

impl CorsConfig {
    /// The size in bytes of this configuration as the XML body of PutBucketCors,
    /// which S3 limits to [`MAX_XML_BYTES`].
    pub fn xml_len(&self) -> usize {
        fn element(name: &str, value: &str) -> usize {
            // <Name>value</Name>
            2 * name.len() + 5 + escaped_len(value)
        }
        fn escaped_len(value: &str) -> usize {
            value
                .chars()
                .map(|c| match c {
                    '&' => 5,
                    '<' | '>' => 4,
                    '"' | '\'' => 6,
                    c => c.len_utf8(),
                })
                .sum()
        }
        let head = r#"<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#;
        let tail = "</CORSConfiguration>";
        let rules: usize = self
            .cors_rules
            .iter()
            .map(|r| {
                "<CORSRule></CORSRule>".len()
                    + r.id.as_deref().map_or(0, |id| element("ID", id))
                    + r.allowed_headers
                        .iter()
                        .map(|v| element("AllowedHeader", v))
                        .sum::<usize>()
                    + r.allowed_methods
                        .iter()
                        .map(|m| element("AllowedMethod", m.as_str()))
                        .sum::<usize>()
                    + r.allowed_origins
                        .iter()
                        .map(|v| element("AllowedOrigin", v))
                        .sum::<usize>()
                    + r.expose_headers
                        .iter()
                        .map(|v| element("ExposeHeader", v))
                        .sum::<usize>()
                    + r.max_age_seconds
                        .map_or(0, |s| element("MaxAgeSeconds", &s.to_string()))
            })
            .sum();
        head.len() + rules + tail.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_exactly() {
        for (text, want) in [
            ("GET", Some(Method::Get)),
            ("HEAD", Some(Method::Head)),
            ("DELETE", Some(Method::Delete)),
            ("get", None),
            ("Get", None),
            ("PATCH", None),
            ("OPTIONS", None),
            ("", None),
        ] {
            assert_eq!(text.parse::<Method>().ok(), want, "{text}");
        }
    }

    #[test]
    fn xml_len_counts_the_put_body() {
        let rule = CorsRule {
            id: Some("a&b".into()),
            allowed_methods: vec![Method::Get],
            allowed_origins: vec!["*".into()],
            max_age_seconds: Some(3000),
            ..CorsRule::default()
        };
        let body = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
            "<CORSRule><ID>a&amp;b</ID><AllowedMethod>GET</AllowedMethod>",
            "<AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>",
            "</CORSConfiguration>"
        );
        assert_eq!(CorsConfig::new(vec![rule]).xml_len(), body.len());
    }
}
