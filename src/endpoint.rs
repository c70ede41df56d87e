//! Where S3 is: AWS's own regional endpoints, or an S3-compatible server at a URL.
//!
//! Plan files, imported policies and reports record it; a plan is applied only
//! against the endpoint it was made for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The S3 endpoint a run talks to. In a plan file it is `null` for
/// [`Endpoint::Aws`] and the URL's string otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Option<String>", into = "Option<String>")]
pub enum Endpoint {
    /// AWS's own regional endpoints (no `--endpoint-url`).
    #[default]
    Aws,
    /// An `--endpoint-url` (or `AWS_ENDPOINT_URL`): `http(s)://host[:port]`.
    Custom(String),
}

impl Endpoint {
    /// The endpoint of a client whose endpoint URL is `url` (`None` for AWS),
    /// without any `user:password@`, so it can be recorded and shown.
    pub fn from_url(url: Option<&str>) -> Endpoint {
        Endpoint::from(url.map(str::to_owned)).without_userinfo()
    }

    /// The URL of a custom endpoint; `None` for AWS.
    pub fn url(&self) -> Option<&str> {
        match self {
            Endpoint::Aws => None,
            Endpoint::Custom(url) => Some(url),
        }
    }

    /// The same endpoint without a `user:password@` (older plan files may hold one).
    pub fn without_userinfo(&self) -> Endpoint {
        match self {
            Endpoint::Aws => Endpoint::Aws,
            Endpoint::Custom(url) => {
                Endpoint::Custom(crate::text::without_userinfo(url).into_owned())
            }
        }
    }
}

impl From<Option<String>> for Endpoint {
    fn from(url: Option<String>) -> Endpoint {
        url.map_or(Endpoint::Aws, Endpoint::Custom)
    }
}

impl From<Endpoint> for Option<String> {
    fn from(endpoint: Endpoint) -> Option<String> {
        match endpoint {
            Endpoint::Aws => None,
            Endpoint::Custom(url) => Some(url),
        }
    }
}

/// `AWS`, or the URL as it is (callers make it terminal-safe where needed).
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url().unwrap_or("AWS"))
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn endpoints_read_write_and_show() {
        let cases: &[(Option<&str>, Endpoint, &str, &str)] = &[
            (None, Endpoint::Aws, "null", "AWS"),
            (
                Some("http://127.0.0.1:9000"),
                Endpoint::Custom("http://127.0.0.1:9000".into()),
                "\"http://127.0.0.1:9000\"",
                "http://127.0.0.1:9000",
            ),
            (
                Some("https://user:secret@s3.example.com"),
                Endpoint::Custom("https://s3.example.com".into()),
                "\"https://s3.example.com\"",
                "https://s3.example.com",
            ),
        ];
        for (url, want, json, shown) in cases {
            let got = Endpoint::from_url(*url);
            assert_eq!(&got, want, "{url:?}");
            assert_eq!(serde_json::to_string(&got).unwrap(), *json, "{url:?}");
            assert_eq!(
                serde_json::from_str::<Endpoint>(json).unwrap(),
                *want,
                "{json}"
            );
            assert_eq!(got.to_string(), *shown, "{url:?}");
        }
    }
}
