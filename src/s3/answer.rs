//! Checks GetBucketCors answers before they are believed: the body is read with a
//! hard size cap, and must be well-formed XML whose every rule has an origin and a
//! method. The SDK's parser is lenient (a body cut off between two rules parses as
//! a shorter configuration), so without this a truncating proxy would make `plan`
//! propose to "restore" rules that were never gone.
//!
//! [`check_cors_xml`] is pure; [`CorsAnswerCheck`] applies it (and the size cap) to
//! one GetBucketCors call as an SDK interceptor.

use aws_sdk_s3::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextMut,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::primitives::SdkBody;
use aws_smithy_runtime_api::box_error::BoxError;

use crate::model::{MAX_RULES, MAX_XML_BYTES};

/// The largest GetBucketCors body read: S3's 64 KiB limit on a configuration, plus
/// room for the XML declaration and namespace S3 adds to its answer.
pub const MAX_ANSWER_BYTES: usize = MAX_XML_BYTES + 1024;

/// What was wrong with an answer (an interceptor error the S3 layer looks for).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedAnswer(pub String);

/// Checks one GetBucketCors answer: caps the body read at [`MAX_ANSWER_BYTES`]
/// (refusing at once a larger `Content-Length`), then checks a successful answer's
/// body with [`check_cors_xml`].
#[derive(Debug)]
pub struct CorsAnswerCheck;

impl Intercept for CorsAnswerCheck {
    fn name(&self) -> &'static str {
        "s3cors: GetBucketCors answer check"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = ctx.response_mut();
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = announced.filter(|&l| l > MAX_ANSWER_BYTES as u64) {
            return Err(too_large(Some(len)).into());
        }
        let body = response.take_body();
        *response.body_mut() =
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_ANSWER_BYTES));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !ctx.response().status().is_success() {
            return Ok(());
        }
        match ctx.response().body().bytes() {
            Some(body) => check_cors_xml(body).map_err(|m| MalformedAnswer(m).into()),
            None => Ok(()),
        }
    }
}

/// The error for a body over [`MAX_ANSWER_BYTES`], of `size` bytes when known.
pub fn too_large(size: Option<u64>) -> MalformedAnswer {
    let size = size.map_or(String::new(), |n| format!(" ({n} bytes)"));
    MalformedAnswer(format!(
        "the body{size} is larger than the {MAX_ANSWER_BYTES} bytes a CORS configuration \
         (at most {MAX_XML_BYTES} bytes of XML) can take; it was not read whole"
    ))
}

/// Whether `body` is a CORS configuration this tool can trust: at most
/// [`MAX_ANSWER_BYTES`], UTF-8, well-formed XML (every element closed, one root),
/// a `CORSConfiguration` root, at most [`MAX_RULES`] rules, and an `AllowedOrigin`
/// and an `AllowedMethod` in every rule. The error says what was wrong.
pub fn check_cors_xml(body: &[u8]) -> Result<(), String> {
    if body.len() > MAX_ANSWER_BYTES {
        return Err(too_large(Some(body.len() as u64)).0);
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| format!("it is not UTF-8 (at byte {})", e.valid_up_to()))?;
    let mut open: Vec<&str> = Vec::new();
    let mut root: Option<&str> = None;
    // Per rule (a child of the root): (origins, methods).
    let mut rules: Vec<(usize, usize)> = Vec::new();
    let mut rest = text;
    loop {
        let (before, after) = match rest.split_once('<') {
            Some(split) => split,
            None => (rest, ""),
        };
        if let Some(c) = before
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(format!("it holds the control character {:?}", c));
        }
        if open.is_empty() && !before.trim().is_empty() {
            return Err("it has text outside the root element".to_owned());
        }
        if after.is_empty() && !rest.contains('<') {
            break;
        }
        let (tag, next) = tag(after)?;
        rest = next;
        match tag {
            Tag::Skip => {}
            Tag::Close(name) => match open.pop() {
                Some(top) if top == name => {}
                Some(top) => return Err(format!("it closes <{name}> while <{top}> is open")),
                None => return Err(format!("it closes <{name}>, which was never opened")),
            },
            Tag::Open(name, empty) => {
                if open.is_empty() {
                    if root.is_some() {
                        return Err("it has more than one root element".to_owned());
                    }
                    root = Some(name);
                }
                match (open.len(), local(name)) {
                    (1, "CORSRule") => rules.push((0, 0)),
                    (2, "AllowedOrigin") => {
                        if let Some(r) = rules.last_mut() {
                            r.0 += 1;
                        }
                    }
                    (2, "AllowedMethod") => {
                        if let Some(r) = rules.last_mut() {
                            r.1 += 1;
                        }
                    }
                    _ => {}
                }
                if !empty {
                    open.push(name);
                }
            }
        }
    }
    if let Some(inner) = open.last() {
        return Err(format!(
            "the XML ends inside <{inner}>: the body is cut short"
        ));
    }
    match root.map(local) {
        None => return Err("it has no XML element".to_owned()),
        Some("CORSConfiguration") => {}
        Some(other) => {
            return Err(format!(
                "its root element is <{other}>, not <CORSConfiguration>"
            ));
        }
    }
    if rules.len() > MAX_RULES {
        return Err(format!(
            "it has {} rules; S3 allows {MAX_RULES}",
            rules.len()
        ));
    }
    for (i, (origins, methods)) in rules.iter().enumerate() {
        match (origins, methods) {
            (0, 0) => {
                return Err(format!(
                    "rule {} has no AllowedOrigin and no AllowedMethod",
                    i + 1
                ));
            }
            (0, _) => return Err(format!("rule {} has no AllowedOrigin", i + 1)),
            (_, 0) => return Err(format!("rule {} has no AllowedMethod", i + 1)),
            _ => {}
        }
    }
    Ok(())
}

enum Tag<'a> {
    /// `<name ...>` (`true`: `<name .../>`).
    Open(&'a str, bool),
    Close(&'a str),
    /// A declaration, processing instruction, comment or CDATA section.
    Skip,
}

/// The markup after a `<`, and the text after it.
fn tag(after: &str) -> Result<(Tag<'_>, &str), String> {
    let cut = |what: &str| format!("the XML ends inside {what}: the body is cut short");
    for (start, end, what) in [
        ("?", "?>", "a declaration"),
        ("!--", "-->", "a comment"),
        ("![CDATA[", "]]>", "a CDATA section"),
    ] {
        if let Some(inner) = after.strip_prefix(start) {
            let at = inner.find(end).ok_or_else(|| cut(what))?;
            return Ok((Tag::Skip, &inner[at + end.len()..]));
        }
    }
    if after.starts_with('!') {
        return Err("it holds a DOCTYPE or other declaration S3 never sends".to_owned());
    }
    // The end of the tag: the first `>` outside a quoted attribute value.
    let mut quote = None;
    let mut end = None;
    for (i, c) in after.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                end = Some(i);
                break;
            }
            (None, '<') => return Err("it has a `<` inside a tag".to_owned()),
            _ => {}
        }
    }
    let end = end.ok_or_else(|| cut("a tag"))?;
    let inside = &after[..end];
    let next = &after[end + 1..];
    if let Some(name) = inside.strip_prefix('/') {
        return Ok((Tag::Close(name.trim()), next));
    }
    let empty = inside.ends_with('/');
    let name = inside
        .trim_end_matches('/')
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    if name.is_empty() {
        return Err("it has a tag without a name".to_owned());
    }
    Ok((Tag::Open(name, empty), next))
}

/// An element name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_RULES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://a.example</AllowedOrigin><!-- a > comment --></CORSRule><CORSRule><ID>x</ID><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://b.example</AllowedOrigin><AllowedHeader/></CORSRule></CORSConfiguration>"#;

    #[test]
    fn accepts_complete_configurations() {
        assert_eq!(check_cors_xml(TWO_RULES.as_bytes()), Ok(()));
        assert_eq!(
            check_cors_xml(b"<s3:CORSConfiguration xmlns:s3='x'></s3:CORSConfiguration>\n"),
            Ok(())
        );
    }

    #[test]
    fn says_what_is_wrong() {
        let between_rules = &TWO_RULES[..TWO_RULES.find("<CORSRule><ID>").unwrap_or(0)];
        let in_a_value = &TWO_RULES[..TWO_RULES.find("GET").unwrap_or(0) + 2];
        let in_a_tag = &TWO_RULES[..TWO_RULES.find("<AllowedOrigin>").unwrap_or(0) + 4];
        let oversized = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            " ".repeat(MAX_ANSWER_BYTES)
        );
        let cases: &[(&str, &str)] = &[
            (
                in_a_value,
                "the XML ends inside <AllowedMethod>: the body is cut short",
            ),
            (in_a_tag, "the XML ends inside a tag: the body is cut short"),
            (
                between_rules,
                "the XML ends inside <CORSConfiguration>: the body is cut short",
            ),
            (
                &TWO_RULES[..30],
                "the XML ends inside a declaration: the body is cut short",
            ),
            (
                "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
                "rule 1 has no AllowedOrigin",
            ),
            (
                "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
                "rule 2 has no AllowedMethod",
            ),
            (
                "<CORSConfiguration><CORSRule></CORSRule></CORSConfiguration>",
                "rule 1 has no AllowedOrigin and no AllowedMethod",
            ),
            (
                "<CORSConfiguration><CORSRule></CORSConfiguration>",
                "it closes <CORSConfiguration> while <CORSRule> is open",
            ),
            (
                "<Error><Code>X</Code></Error>",
                "its root element is <Error>, not <CORSConfiguration>",
            ),
            ("<a/><b/>", "it has more than one root element"),
            ("", "it has no XML element"),
            (
                "<html>\u{1b}[31m</html>",
                "it holds the control character '\\u{1b}'",
            ),
            (
                "junk<CORSConfiguration/>",
                "it has text outside the root element",
            ),
            (
                "<!DOCTYPE x><CORSConfiguration/>",
                "it holds a DOCTYPE or other declaration S3 never sends",
            ),
            (
                &oversized,
                "the body (66599 bytes) is larger than the 66560 bytes a CORS configuration (at most 65536 bytes of XML) can take; it was not read whole",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                check_cors_xml(body.as_bytes()).err().as_deref(),
                Some(*want),
                "{body:.80}"
            );
        }
        assert_eq!(
            check_cors_xml(b"<a>\xff</a>").err().as_deref(),
            Some("it is not UTF-8 (at byte 3)")
        );
        let many = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
                .repeat(MAX_RULES + 1)
        );
        assert_eq!(
            check_cors_xml(many.as_bytes()).err().as_deref(),
            Some("it has 101 rules; S3 allows 100")
        );
    }
}
