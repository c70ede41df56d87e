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

#[cfg(test)]
mod tests {
    use super::{Parts, parse};

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
}
