//! Untrusted text made safe for where it is shown or written: [`terminal_safe`]
//! for a terminal (control characters made visible), [`markdown_safe`] for
//! markdown comments (HTML and markdown syntax made inert), [`html_safe`] for
//! the HTML status page, and
//! [`without_userinfo`] for URLs (no `user:password@` in plans, YAML or reports).
//! Every value from a policy file, a live bucket or an S3 error goes through
//! `terminal_safe`, `markdown_safe` or `html_safe` before a renderer shows it.
//!
//! **Invariant:** pure; depends on nothing else in the crate, so any renderer may use it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` could change what a terminal shows beyond itself: C0 controls
/// (ESC, BEL, CR, ...), DEL, C1 controls, and the Unicode bidirectional overrides
/// that reorder the text around them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The visible escape of an unsafe character: `\n`, `\r`, `\t`, else `\u{1b}`.
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `value` with every control character (C0, DEL, C1) and bidirectional override
/// shown as a visible escape (`\u{1b}`, `\r`, `\n`), so a value from a policy or
/// from live state cannot move the cursor, recolour, retitle or beep the terminal.
/// Other Unicode is kept as it is. Borrows when there is nothing to escape.
pub fn terminal_safe(value: &str) -> Cow<'_, str> {
    if !value.chars().any(is_unsafe) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`terminal_safe`] line by line: for a whole message whose line breaks are its
/// own (an error chain, a report), not part of a value.
pub fn terminal_safe_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(terminal_safe).collect();
    Cow::Owned(lines.join("\n"))
}

/// `text` with every byte that a terminal would interpret replaced by `?`, keeping
/// its length in bytes: for source snippets, whose byte offsets spans point into.
/// (A C1 control is two bytes in UTF-8, so it becomes `??`.)
pub fn terminal_safe_same_len(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| !matches!(c, '\n' | '\t') && is_unsafe(c))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\n' | '\t') || !is_unsafe(c) {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    Cow::Owned(out)
}

/// `value` safe inside markdown text, a table cell or an inline HTML element of a
/// pull-request comment: control characters become visible escapes (as in
/// [`terminal_safe`], so a line break cannot end a table row), and HTML and
/// markdown syntax (`<`, `&`, `|`, backticks, emphasis, links, `@` mentions)
/// become character references, so the value shows as written and nothing more.
/// Put it in `<code>…</code>`, not in backticks: references are not decoded there.
pub fn markdown_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '~' | '@' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// `value` safe as HTML text or a double- or single-quoted attribute value (the
/// drift status page): `&`, `<`, `>`, `"` and `'` become character references,
/// and control characters (but tab and line feed) and bidirectional overrides
/// become visible escapes, as in [`terminal_safe`]. Never put it in an unquoted
/// attribute, a `<script>` or a `<style>`.
pub fn html_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// A code fence of backticks longer than any run of backticks in `body` (at least
/// three), so nothing in the body can close it early.
pub fn markdown_fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// `url` without the `user:password@` part of its authority, so a secret given in
/// `--endpoint-url` or `AWS_ENDPOINT_URL` is never written to a plan file, an
/// imported policy, a report or a log. Anything else is kept as it is.
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &url[..start], &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_safe_makes_markup_inert() {
        for (value, want) in [
            ("plain-bucket", "plain-bucket"),
            (
                "<script>alert(\"x\")</script>",
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
            ),
            ("a & b 'c'", "a &amp; b &#39;c&#39;"),
            ("&amp;", "&amp;amp;"),
            ("line\nnext\ttab", "line\nnext\ttab"),
            ("\x1b[31m\r\u{202e}", "\\u{1b}[31m\\r\\u{202e}"),
            ("café ✓", "café ✓"),
        ] {
            assert_eq!(html_safe(value), want, "{value:?}");
        }
    }

    #[test]
    fn terminal_safe_escapes_controls_and_keeps_unicode() {
        for (value, want) in [
            ("plain-bucket", "plain-bucket"),
            ("café ✓ 日本", "café ✓ 日本"),
            ("\x1b[31mred\x1b[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("bell\x07", "bell\\u{7}"),
            ("a\rb\nc\td", "a\\rb\\nc\\td"),
            ("del\x7f", "del\\u{7f}"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("title\x1b]0;pwned\x07", "title\\u{1b}]0;pwned\\u{7}"),
            ("rtl\u{202e}txt", "rtl\\u{202e}txt"),
            ("nul\0", "nul\\u{0}"),
        ] {
            assert_eq!(terminal_safe(value), want, "{value:?}");
        }
        assert!(matches!(terminal_safe("ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_safe_lines_keeps_line_breaks() {
        assert_eq!(
            terminal_safe_lines("error: a\x1b[2J\ncaused by: b\r\n"),
            "error: a\\u{1b}[2J\ncaused by: b\\r\n"
        );
        assert!(matches!(terminal_safe_lines("a\nb\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn same_len_keeps_offsets() {
        for (text, want) in [
            ("a: \"x\"\n", "a: \"x\"\n"),
            ("a: x\x1b[31m\n\tb", "a: x?[31m\n\tb"),
            ("c1 \u{9b} é", "c1 ?? é"),
        ] {
            let got = terminal_safe_same_len(text);
            assert_eq!(got, want);
            assert_eq!(got.len(), text.len());
        }
    }

    #[test]
    fn markdown_safe_makes_syntax_inert() {
        for (value, want) in [
            ("app-assets", "app-assets"),
            ("policies/web.yaml:4", "policies/web.yaml:4"),
            (
                "<img src=x onerror=alert(1)>",
                "&lt;img src=x onerror=alert(1)&gt;",
            ),
            ("a|b", "a&#124;b"),
            ("`code`", "&#96;code&#96;"),
            ("**bold** _it_", "&#42;&#42;bold&#42;&#42; &#95;it&#95;"),
            ("[x](https://e.vil)", "&#91;x&#93;(https://e.vil)"),
            ("@org/team", "&#64;org/team"),
            ("a\\|b", "a&#92;&#124;b"),
            ("AT&T \"q\"", "AT&amp;T &quot;q&quot;"),
            ("line\nbreak\x1b", "line\\nbreak\\u{1b}"),
        ] {
            assert_eq!(markdown_safe(value), want, "{value:?}");
        }
    }

    #[test]
    fn userinfo_is_dropped() {
        for (url, want) in [
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("https://s3.example.com/", "https://s3.example.com/"),
            ("http://user:secret@127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("https://key:p@ss@minio.local/", "https://minio.local/"),
            ("http://user@host/path@x", "http://host/path@x"),
            ("http://host/?u=a@b", "http://host/?u=a@b"),
        ] {
            assert_eq!(without_userinfo(url), want, "{url}");
        }
    }

    #[test]
    fn fences_outlast_backtick_runs() {
        assert_eq!(markdown_fence("plain"), "```");
        assert_eq!(markdown_fence("a ```` b"), "`````");
    }
}
