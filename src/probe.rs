//! Raw HTTP probes for `verify`: unsigned requests with exactly the headers a browser
//! would send (OPTIONS preflights, GET/HEAD with `Origin`), answered as plain
//! [`Observed`] values for the pure core to judge. Also where a bucket's URL is built.
//!
//! The AWS SDK cannot send these (it signs, and has no OPTIONS operation), so this
//! module uses hyper directly, over the same rustls stack as the SDK: http emulators
//! and https endpoints of real S3 and CDNs both work.
//!
//! **Invariant:** only the app layer uses this module; the core never does I/O.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cors::verify::{Observed, error_code};

/// Longest error body read for its `<Code>`.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("invalid request to {url}: {reason}")]
    Invalid { url: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no response from {url} within {seconds} s")]
    Timeout { url: String, seconds: u64 },
}

/// An HTTP(S) client for probes, with a timeout per request.
#[derive(Clone)]
pub struct Prober {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl Prober {
    /// A client trusting the system's root certificates (as the AWS CLI does), whose
    /// requests each take at most `timeout` (connecting included).
    pub fn new(timeout: Duration) -> std::io::Result<Prober> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Prober { client, timeout })
    }

    /// Sends `request`; the whole exchange (connect, headers, error body) is bounded
    /// by the timeout. The body is read only for a status >= 400, to learn S3's error
    /// code, and at most [`MAX_ERROR_BODY`] bytes of it.
    pub async fn send(&self, request: &ProbeRequest) -> Result<Observed, ProbeError> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(ProbeError::Timeout {
                url: request.url.clone(),
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    async fn exchange(&self, request: &ProbeRequest) -> Result<Observed, ProbeError> {
        let invalid = |reason: String| ProbeError::Invalid {
            url: request.url.clone(),
            reason,
        };
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str())
            .header(
                http::header::USER_AGENT,
                concat!("s3cors/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let http_request = builder
            .body(Empty::<Bytes>::new())
            .map_err(|e| invalid(e.to_string()))?;
        let response =
            self.client
                .request(http_request)
                .await
                .map_err(|e| ProbeError::Connect {
                    url: request.url.clone(),
                    reason: error_chain(&e),
                })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut error = None;
        if status >= 400 && request.method != "HEAD" {
            // A body that fails mid-way or is too long leaves the code unknown.
            if let Ok(body) = Limited::new(response.into_body(), MAX_ERROR_BODY)
                .collect()
                .await
            {
                error = error_code(&String::from_utf8_lossy(&body.to_bytes()));
            }
        }
        Ok(Observed {
            status,
            headers,
            error_code: error,
        })
    }
}

/// An error and its sources, `: `-joined (hyper's top error says only "client error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !text.contains(&s) {
            let _ = write!(text, ": {s}");
        }
        source = e.source();
    }
    text
}

/// Where a bucket's objects are, for unauthenticated requests.
///
/// - With an endpoint (`--endpoint-url` / `AWS_ENDPOINT_URL`): `ENDPOINT/BUCKET/KEY`
///   with `--path-style`, or when the endpoint's host is an IP address or the bucket
///   name holds a dot (no virtual host can serve those, the SDK falls back the same
///   way); else virtual-hosted, `scheme://BUCKET.HOST[:PORT]/KEY`.
/// - Without: `https://BUCKET.s3.REGION.amazonaws.com/KEY`, or path style
///   `https://s3.REGION.amazonaws.com/BUCKET/KEY` for `--path-style` and names with
///   dots (TLS certificates do not cover them).
///
/// The key is percent-encoded per path segment.
pub fn object_url(
    endpoint: Option<&str>,
    path_style: bool,
    region: &str,
    bucket: &str,
    key: &str,
) -> String {
    let key = encode_key(key);
    let dotted = bucket.contains('.');
    match endpoint {
        Some(endpoint) => {
            let endpoint = endpoint.trim_end_matches('/');
            let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
            let (authority, base_path) = match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, ""),
            };
            if path_style || dotted || host_is_ip(authority) {
                format!("{scheme}://{authority}{base_path}/{bucket}/{key}")
            } else {
                format!("{scheme}://{bucket}.{authority}{base_path}/{key}")
            }
        }
        None if path_style || dotted => {
            format!("https://s3.{region}.amazonaws.com/{bucket}/{key}")
        }
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// Whether an authority (`host[:port]`) names its host by IP address.
fn host_is_ip(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.parse::<IpAddr>().is_ok()
}

/// Percent-encodes an object key for a URL path, keeping `/` and RFC 3986 unreserved
/// characters.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_urls() {
        type Row<'a> = (Option<&'a str>, bool, &'a str, &'a str, &'a str);
        let cases: &[(Row, &str)] = &[
            (
                (Some("http://127.0.0.1:4566"), false, "us-east-1", "b", "k"),
                "http://127.0.0.1:4566/b/k",
            ),
            (
                (
                    Some("http://localhost:4566/"),
                    true,
                    "us-east-1",
                    "b",
                    "a/b c",
                ),
                "http://localhost:4566/b/a/b%20c",
            ),
            (
                (Some("http://localhost:4566"), false, "us-east-1", "b", "k"),
                "http://b.localhost:4566/k",
            ),
            (
                (Some("https://minio.internal/s3"), false, "x", "b", "k"),
                "https://b.minio.internal/s3/k",
            ),
            (
                (Some("http://[::1]:9000"), false, "x", "b", "k"),
                "http://[::1]:9000/b/k",
            ),
            (
                (Some("https://s3.example.net"), false, "x", "my.bucket", "k"),
                "https://s3.example.net/my.bucket/k",
            ),
            (
                (None, false, "eu-west-1", "b", "img/ü.png"),
                "https://b.s3.eu-west-1.amazonaws.com/img/%C3%BC.png",
            ),
            (
                (None, false, "eu-west-1", "my.bucket", "k"),
                "https://s3.eu-west-1.amazonaws.com/my.bucket/k",
            ),
            (
                (None, true, "us-east-2", "b", "k+1"),
                "https://s3.us-east-2.amazonaws.com/b/k%2B1",
            ),
        ];
        for ((endpoint, path_style, region, bucket, key), want) in cases {
            assert_eq!(
                object_url(*endpoint, *path_style, region, bucket, key),
                *want,
                "{endpoint:?} {bucket} {key}"
            );
        }
    }
}
