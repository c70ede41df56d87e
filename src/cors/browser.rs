//! What the browser does with S3's answers: the Fetch standard's CORS checks, as pure
//! functions, so `explain` and `verify` can say whether a page's `fetch()` succeeds,
//! not only what S3 sends.
//!
//! Follows the Fetch standard (<https://fetch.spec.whatwg.org/>):
//! - which request headers are CORS-safelisted and so never cause a preflight nor
//!   appear in `Access-Control-Request-Headers`
//!   (<https://fetch.spec.whatwg.org/#cors-safelisted-request-header>), and which
//!   methods are (<https://fetch.spec.whatwg.org/#cors-safelisted-method>);
//! - the CORS check of a response (<https://fetch.spec.whatwg.org/#cors-check>):
//!   `Access-Control-Allow-Origin` is `*` or the exact origin; with credentials it must
//!   be the exact origin and `Access-Control-Allow-Credentials` must be `true`;
//! - the CORS-preflight fetch (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>):
//!   the preflight passes the CORS check (with the request's credentials mode) and
//!   has an ok (2xx) status; `Access-Control-Allow-Methods` lists the method unless it
//!   is safelisted (`*` counts only without credentials); `Access-Control-Allow-Headers`
//!   lists each unsafe request header (`*` counts only without credentials, and never
//!   for `Authorization`).
//!
//! Choices: a header is known by its name only. `Accept`, `Accept-Language` and
//! `Content-Language` are taken as safelisted (ordinary values); `Content-Type` and
//! `Range`, safelisted only with some values, are taken as not safelisted: naming
//! them asks for them, as a JSON `Content-Type` does. Forbidden request headers and
//! the preflight cache are not modelled.

use serde::Serialize;

use super::simulate::{self, ALLOW_CREDENTIALS, ALLOW_HEADERS, ALLOW_METHODS, ALLOW_ORIGIN};
use crate::model::CorsConfig;

/// How a request header name stands on the Fetch standard's safelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safelist {
    /// Safelisted whatever its (ordinary) value: `Accept`, `Accept-Language`,
    /// `Content-Language`.
    Always,
    /// Safelisted only with some values: `Content-Type` (three MIME types), `Range`
    /// (a single byte range).
    SomeValues,
    /// Never safelisted: a preflight asks for it.
    Never,
}

/// Where `name` (any case) stands on the safelist.
pub fn safelist(name: &str) -> Safelist {
    match name.trim().to_ascii_lowercase().as_str() {
        "accept" | "accept-language" | "content-language" => Safelist::Always,
        "content-type" | "range" => Safelist::SomeValues,
        _ => Safelist::Never,
    }
}

/// What `note:` says of a named header on the safelist, or `None`.
pub fn safelist_note(name: &str) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    match safelist(&lower) {
        Safelist::Always => Some(format!(
            "{lower} is a CORS-safelisted request header: browsers never ask for it in Access-Control-Request-Headers, so the browser verdict leaves it out"
        )),
        Safelist::SomeValues if lower == "content-type" => Some(
            "content-type is CORS-safelisted with application/x-www-form-urlencoded, multipart/form-data or text/plain: browsers ask for it in Access-Control-Request-Headers only with another value (such as application/json), which the browser verdict assumes"
                .to_string(),
        ),
        Safelist::SomeValues => Some(format!(
            "{lower} is CORS-safelisted with a single byte range (bytes=N- or bytes=N-M): browsers ask for it in Access-Control-Request-Headers only with another value, which the browser verdict assumes"
        )),
        Safelist::Never => None,
    }
}

/// GET, HEAD and POST never need a preflight for their method.
pub fn safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// The method a browser sends for `method`: `fetch()` upper-cases DELETE, GET, HEAD,
/// OPTIONS, POST and PUT written in any case, and sends others as written.
pub fn normalize_method(method: &str) -> String {
    let upper = method.to_ascii_uppercase();
    match upper.as_str() {
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" => upper,
        _ => method.to_string(),
    }
}

/// The names a preflight lists in `Access-Control-Request-Headers`: the headers not
/// always safelisted, lower-cased, sorted, each once (the Fetch standard's
/// "CORS-unsafe request-header names").
pub fn unsafe_headers(headers: &[String]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .flat_map(|h| h.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty() && safelist(h) != Safelist::Always)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A page's `fetch()` to S3, as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The page's origin (`Origin`).
    pub origin: String,
    /// The method, as the script gives it.
    pub method: String,
    /// The request headers the script sets (names).
    pub headers: Vec<String>,
    /// `credentials: 'include'` (or cookies, HTTP authentication).
    pub credentials: bool,
}

/// The browser's decision on a [`Fetch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowserVerdict {
    /// Whether `fetch()` resolves (`false`: it rejects with a TypeError).
    pub allowed: bool,
    /// Why, in one line: the step that failed, or what passed.
    pub reason: String,
    /// Whether the request was made with credentials.
    pub credentials: bool,
    /// Whether the browser sends a preflight first.
    pub preflight: bool,
    /// Named headers the browser never asks for (always CORS-safelisted).
    pub safelisted_headers: Vec<String>,
}

/// A response header lookup: the value of a header (ASCII case-insensitive; several
/// fields of one name joined with `, `), or `None`.
pub trait Headers {
    fn get(&self, name: &str) -> Option<String>;
}

impl Headers for simulate::Outcome {
    fn get(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// The Fetch standard's CORS check of a response to a request from `origin`.
pub fn cors_check(response: &impl Headers, origin: &str, credentials: bool) -> Result<(), String> {
    let Some(allow_origin) = response.get(ALLOW_ORIGIN) else {
        return Err(format!("no {ALLOW_ORIGIN}"));
    };
    if allow_origin == "*" {
        return if credentials {
            Err(format!(
                "credentialed request but {ALLOW_ORIGIN} is *: a credentialed request needs its exact origin and {ALLOW_CREDENTIALS}: true"
            ))
        } else {
            Ok(())
        };
    }
    if allow_origin != origin {
        return Err(format!(
            "{ALLOW_ORIGIN} is {allow_origin:?}, not the page's origin {origin:?}"
        ));
    }
    if !credentials {
        return Ok(());
    }
    match response.get(ALLOW_CREDENTIALS) {
        Some(v) if v == "true" => Ok(()),
        Some(v) => Err(format!(
            "credentialed request but {ALLOW_CREDENTIALS} is {v:?}, not \"true\""
        )),
        None => Err(format!(
            "credentialed request but no {ALLOW_CREDENTIALS}: true"
        )),
    }
}

/// Splits a header's value into its comma-separated items, trimmed, empties dropped.
fn items(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The Fetch standard's checks of a preflight's response (`status`, headers) for a
/// request with `method` (normalised) and the CORS-unsafe header names `headers`.
pub fn preflight_check(
    status: u16,
    response: &impl Headers,
    origin: &str,
    method: &str,
    headers: &[String],
    credentials: bool,
) -> Result<(), String> {
    cors_check(response, origin, credentials)?;
    if !(200..=299).contains(&status) {
        return Err(format!("answered {status}, not a 2xx status"));
    }
    let methods = items(response.get(ALLOW_METHODS));
    let wildcard_ok = |list: &[String]| !credentials && list.iter().any(|i| i == "*");
    if !safelisted_method(method) && !methods.iter().any(|m| m == method) && !wildcard_ok(&methods)
    {
        let star = if credentials && methods.iter().any(|m| m == "*") {
            " (* does not count for a credentialed request)"
        } else {
            ""
        };
        return Err(format!(
            "{method} is not in {ALLOW_METHODS} ({}){star}",
            show_list(&methods)
        ));
    }
    let allowed = items(response.get(ALLOW_HEADERS));
    let listed = |name: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
    for name in headers {
        let by_wildcard = name != "authorization" && wildcard_ok(&allowed);
        if !listed(name) && !by_wildcard {
            let star = if allowed.iter().any(|a| a == "*") {
                if name == "authorization" {
                    " (* never covers authorization)"
                } else {
                    " (* does not count for a credentialed request)"
                }
            } else {
                ""
            };
            return Err(format!(
                "{name} is not in {ALLOW_HEADERS} ({}){star}",
                show_list(&allowed)
            ));
        }
    }
    Ok(())
}

fn show_list(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// What the browser does with `fetch` to a bucket whose CORS configuration is
/// `config`: a preflight when the method or a header is not safelisted (its answer
/// simulated and checked), then the actual request (simulated, without
/// `Access-Control-Request-*` headers, as browsers send it) and its CORS check.
pub fn decide(config: Option<&CorsConfig>, fetch: &Fetch) -> BrowserVerdict {
    let method = normalize_method(&fetch.method);
    let unsafe_names = unsafe_headers(&fetch.headers);
    let mut safelisted: Vec<String> = fetch
        .headers
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| safelist(h) == Safelist::Always)
        .collect();
    safelisted.sort();
    safelisted.dedup();
    let preflight = !safelisted_method(&method) || !unsafe_names.is_empty();
    let verdict = |allowed: bool, reason: String| BrowserVerdict {
        allowed,
        reason,
        credentials: fetch.credentials,
        preflight,
        safelisted_headers: safelisted.clone(),
    };
    if matches!(
        method.to_ascii_uppercase().as_str(),
        "CONNECT" | "TRACE" | "TRACK"
    ) {
        return verdict(
            false,
            format!("browsers refuse to send a {method} request (a forbidden method)"),
        );
    }
    if preflight {
        let names: Vec<&str> = unsafe_names.iter().map(String::as_str).collect();
        let request = simulate::Request {
            access_control_request_headers: if names.is_empty() {
                Vec::new()
            } else {
                vec![names.join(",")]
            },
            ..simulate::Request::preflight(&fetch.origin, &method, &[])
        };
        let answer = simulate::simulate(config, &request);
        let status = answer.status.unwrap_or(200);
        if let Err(why) = preflight_check(
            status,
            &answer,
            &fetch.origin,
            &method,
            &unsafe_names,
            fetch.credentials,
        ) {
            return verdict(false, format!("preflight: {why}"));
        }
    }
    let actual = simulate::simulate(
        config,
        &simulate::Request::actual(Some(&fetch.origin), &method),
    );
    if let Err(why) = cors_check(&actual, &fetch.origin, fetch.credentials) {
        return verdict(false, format!("actual {method}: {why}"));
    }
    let how = match (preflight, fetch.credentials) {
        (true, true) => {
            "the preflight and the actual request pass the CORS check, with credentials"
        }
        (true, false) => "the preflight and the actual request pass the CORS check",
        (false, true) => "no preflight; the response passes the CORS check, with credentials",
        (false, false) => "no preflight; the response passes the CORS check",
    };
    verdict(true, how.to_string())
}

#[cfg(test)]
mod tests;
