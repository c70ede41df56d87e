//! Origins split at their seams: the one parser for AllowedOrigin values and
//! request Origins (`scheme://host[:port]`, as written, nothing checked).
//!
//! Lints, guardrails and `explain`'s notes all ask the same questions of an
//! origin (which scheme, which host, anything after the authority?), so they
//! ask them here.

/// An origin as written, split into its parts. Nothing is validated or
/// normalised: `Parts` of `"HTTPS://A.example:443/x?q"` are exactly those
/// substrings, and together they spell the origin again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// Before the first `://`; `None` when there is no `://`.
    pub scheme: Option<&'a str>,
    /// After the `://` (or from the start, without a scheme) up to the first `/`,
    /// `?` or `#`: `[user@]host[:port]`.
    pub authority: &'a str,
    /// The authority up to its port's `:`; an IPv6 literal `[...]` is kept whole.
    pub host: &'a str,
    /// After the host's `:`, when there is one (possibly empty).
    pub port: Option<&'a str>,
    /// From the first `/`, `?` or `#` after the authority on (path, query,
    /// fragment); empty for a well-formed origin.
    pub rest: &'a str,
}

/// Splits `origin` at its first `://` and then its authority.
pub fn parse(origin: &str) -> Parts<'_> {
    let (scheme, after) = match origin.split_once("://") {
        Some((scheme, after)) => (Some(scheme), after),
        None => (None, origin),
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, port) = authority.split_at(host_end);
    Parts {
        scheme,
        authority,
        host,
        port: port.strip_prefix(':'),
        rest,
    }
}

/// Does the AllowedOrigin `pattern` admit any website, as far as browsers go? `*`, and
/// also `https://*` and `http://*`: browsers always send an Origin with a scheme, so
/// a rule with `https://*` admits every https website, which is every website that
/// matters. Lints and guardrails that reason about "any origin" ask this, never
/// `== "*"` alone. (S3 still answers them differently: `*` only for the literal
/// `*`; the Origin echoed, with `Access-Control-Allow-Credentials: true`, for the
/// others.)
pub fn is_any_origin(pattern: &str) -> bool {
    matches!(pattern, "*" | "https://*" | "http://*")
}

/// Is `host` (an origin's host, as [`parse`] splits it) the developer's own
/// machine or a name reserved for testing, so that a plain-http origin naming it
/// is a development server: `localhost` and `*.localhost`, the `.test` top-level
/// domain (RFC 6761 reserves both, and neither resolves on the public internet),
/// an IPv4 loopback address `127.x.y.z`, `0.0.0.0`, or `[::1]`.
pub fn is_development_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let loopback_v4 = host
        .strip_prefix("127.")
        .is_some_and(|rest| rest.split('.').count() == 3 && rest.split('.').all(is_octet));
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "test"
        || host.ends_with(".test")
        || loopback_v4
        || host == "0.0.0.0"
        || host == "[::1]"
}

fn is_octet(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 3
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u16>().is_ok_and(|n| n <= 255)
}

/// If `host` is an S3 website endpoint (`BUCKET.s3-website-REGION.amazonaws.com`
/// or `BUCKET.s3-website.REGION.amazonaws.com`, also in China's
/// `amazonaws.com.cn`), its bucket name. Website endpoints serve only plain http.
pub fn s3_website_bucket(host: &str) -> Option<&str> {
    let (bucket, rest) = host.split_once(".s3-website")?;
    let endpoint = rest.strip_prefix(['-', '.'])?;
    let region_known = endpoint
        .strip_suffix(".amazonaws.com")
        .or_else(|| endpoint.strip_suffix(".amazonaws.com.cn"))
        .is_some_and(|region| !region.is_empty() && !region.contains(['/', ':']));
    (region_known && !bucket.is_empty()).then_some(bucket)
}

#[cfg(test)]
mod tests {
    use super::{Parts, is_any_origin, is_development_host, parse, s3_website_bucket};

    #[test]
    fn origins_split_at_their_seams() {
        let p = |scheme, authority, host, port, rest| Parts {
            scheme,
            authority,
            host,
            port,
            rest,
        };
        let cases = [
            (
                "https://a.example",
                p(Some("https"), "a.example", "a.example", None, ""),
            ),
            (
                "http://localhost:8080",
                p(
                    Some("http"),
                    "localhost:8080",
                    "localhost",
                    Some("8080"),
                    "",
                ),
            ),
            (
                "http://[::1]:3000",
                p(Some("http"), "[::1]:3000", "[::1]", Some("3000"), ""),
            ),
            ("http://[::1]", p(Some("http"), "[::1]", "[::1]", None, "")),
            (
                "HTTPS://A.example:443/x?q#f",
                p(
                    Some("HTTPS"),
                    "A.example:443",
                    "A.example",
                    Some("443"),
                    "/x?q#f",
                ),
            ),
            (
                "https://a.example/",
                p(Some("https"), "a.example", "a.example", None, "/"),
            ),
            (
                "https://a.example?q",
                p(Some("https"), "a.example", "a.example", None, "?q"),
            ),
            (
                "https://u:pw@a.example",
                p(
                    Some("https"),
                    "u:pw@a.example",
                    "u",
                    Some("pw@a.example"),
                    "",
                ),
            ),
            (
                "https://*.example",
                p(Some("https"), "*.example", "*.example", None, ""),
            ),
            ("http://a:*", p(Some("http"), "a:*", "a", Some("*"), "")),
            ("a.example/x", p(None, "a.example", "a.example", None, "/x")),
            ("*", p(None, "*", "*", None, "")),
            ("null", p(None, "null", "null", None, "")),
            ("", p(None, "", "", None, "")),
            ("https://", p(Some("https"), "", "", None, "")),
            ("a://b://c", p(Some("a"), "b:", "b", Some(""), "//c")),
        ];
        for (origin, want) in cases {
            let got = parse(origin);
            assert_eq!(got, want, "{origin:?}");
            let scheme = got.scheme.map(|s| format!("{s}://")).unwrap_or_default();
            assert_eq!(format!("{scheme}{}{}", got.authority, got.rest), origin);
        }
    }
    #[test]
    fn any_origin_patterns() {
        for (pattern, any) in [
            ("*", true),
            ("https://*", true),
            ("http://*", true),
            ("https://*.example.com", false),
            ("https://a.example", false),
            ("*.example.com", false),
            ("", false),
        ] {
            assert_eq!(is_any_origin(pattern), any, "{pattern:?}");
        }
    }

    #[test]
    fn development_hosts() {
        for (host, dev) in [
            ("localhost", true),
            ("LocalHost", true),
            ("app.localhost", true),
            ("api.test", true),
            ("test", true),
            ("127.0.0.1", true),
            ("127.1.2.3", true),
            ("0.0.0.0", true),
            ("[::1]", true),
            ("localhost.", true),
            ("reporting.test.com", false),
            ("testing.example", false),
            ("127.0.0", false),
            ("127.0.0.256", false),
            ("10.0.0.1", false),
            ("3.35.229.82", false),
            ("example.com", false),
            ("mylocalhost", false),
        ] {
            assert_eq!(is_development_host(host), dev, "{host:?}");
        }
    }

    #[test]
    fn website_endpoints() {
        for (host, bucket) in [
            ("b.s3-website-us-east-1.amazonaws.com", Some("b")),
            (
                "my.site.s3-website.eu-west-1.amazonaws.com",
                Some("my.site"),
            ),
            ("b.s3-website.cn-north-1.amazonaws.com.cn", Some("b")),
            ("b.s3.us-east-1.amazonaws.com", None),
            ("s3-website-us-east-1.amazonaws.com", None),
            ("b.s3-website-us-east-1.example.com", None),
            ("b.s3-website.amazonaws.com", None),
        ] {
            assert_eq!(s3_website_bucket(host), bucket, "{host:?}");
        }
    }
}
