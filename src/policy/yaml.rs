//! A YAML document as a tree of nodes that remember where they came from.
//!
//! serde_yaml stops at the first error and forgets positions, so policy files are
//! read through yaml-rust2's event parser into [`Node`]s carrying byte [`Span`]s;
//! validation then walks the tree and reports every problem with its place.
//! Hostile input is bounded here: nesting depth and alias expansion have hard
//! limits, so a "billion laughs" file ends with an error, not an OOM.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Diagnostic, ErrorCode, FileId, Span};

/// Deepest nesting accepted. Policy files need about 6 levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes one document may hold once aliases are expanded.
pub const MAX_NODES: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `~`, `null`, or nothing at all.
    Null,
    /// Any scalar other than null; `plain` is false for quoted and block scalars,
    /// so `"3600"` stays a string while `3600` reads as a number.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What the node is, for "expected a list, found a string" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Scalar { text, plain } => {
                if !plain {
                    "a string"
                } else if text.parse::<i64>().is_ok() {
                    "an integer"
                } else if text.parse::<f64>().is_ok() {
                    "a number"
                } else if matches!(text.as_str(), "true" | "false" | "True" | "False") {
                    "a boolean"
                } else {
                    "a string"
                }
            }
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Parses one policy file. `Ok(None)` means the file holds no document at all.
pub fn parse(file: FileId, text: &str) -> Result<Option<Node>, Diagnostic> {
    parse_streaming(file, text, None).map(|parsed| parsed.root)
}

/// A parsed file whose top-level `buckets:` items may have been handed out one by one.
#[derive(Debug)]
pub struct Parsed {
    pub root: Option<Node>,
    /// The items of the top-level `buckets:` list went to the callback as they were
    /// read, and that list stands empty in `root`. False when there was no such list,
    /// or it was an alias or anchored (its items are then in `root`).
    pub streamed: bool,
}

/// A callback that takes each item of the top-level `buckets:` list as soon as it is read.
pub type ItemSink<'s> = &'s mut dyn FnMut(Node);

/// Parses one policy file like [`parse`], but with a `sink` hands each item of the
/// top-level `buckets:` list to it as soon as the item is complete, instead of
/// keeping it in the tree: a fleet file's tree then never holds more than one bucket
/// entry. Only the first `buckets:` key of a top-level mapping streams (a duplicate
/// key is reported by validation, which keeps the first), and not an anchored list
/// (an alias may copy it). Limits (depth, node count, aliases) are the same.
pub fn parse_streaming(
    file: FileId,
    text: &str,
    sink: Option<ItemSink<'_>>,
) -> Result<Parsed, Diagnostic> {
    let mut builder = Builder {
        sink,
        streamed: false,
        file,
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        documents: 0,
        ascii: text.is_ascii(),
        cursor: std::cell::Cell::new((0, 0)),
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let span = builder.span_at(*e.marker(), 1);
            let offset = builder.byte_offset(*e.marker());
            let help = flush_left_flow(text, offset).unwrap_or_else(|| {
                "fix the YAML syntax here (check indentation, quotes and `key: value` pairs)"
                    .to_string()
            });
            Diagnostic::error(ErrorCode::YamlSyntax, format!("invalid YAML: {}", e.info()))
                .at(span)
                .help(help)
        })?;
        if event == Event::StreamEnd {
            break;
        }
        builder.event(event, mark)?;
    }
    Ok(Parsed {
        root: builder.root,
        streamed: builder.streamed,
    })
}

/// When a syntax error at byte `offset` lies in a flow list or mapping (JSON, as the
/// S3 console shows CORS rules) that is a key's value but is not indented deeper
/// than the key (`    rules:` then `[` in column 1, or `    rules: [` then lines in
/// column 3), the help that says so: YAML takes such a block as the key's value
/// only when all of it is indented deeper than the key.
fn flush_left_flow(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let lines: Vec<&str> = text[..line_end].lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let content = |l: &&str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    // `key:` or `- key:` with what follows the colon; the key's column.
    let key_of = |l: &str| -> Option<(String, usize, String)> {
        let t = l.trim_start();
        let (t, item) = match t.strip_prefix("- ") {
            Some(rest) => (rest.trim_start(), l.len() - rest.trim_start().len()),
            None => (t, indent(l)),
        };
        let (key, rest) = t.split_once(':')?;
        let key = key.trim();
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        plain.then(|| (key.to_string(), item, rest.trim().to_string()))
    };
    // Walk back to where the flow collection opens: a line starting with `[` or `{`
    // right under a `key:` with no value, or a `key: [` left open.
    for open in (0..lines.len()).rev() {
        let line = lines[open];
        let t = line.trim_start();
        let (key, key_line, key_col, first_inside) = if t.starts_with(['[', '{']) {
            let Some(prev) = lines[..open].iter().rposition(&content) else {
                continue;
            };
            match key_of(lines[prev]) {
                Some((key, col, rest)) if rest.is_empty() => (key, prev, col, open),
                _ => continue,
            }
        } else if let Some((key, col, rest)) = key_of(line) {
            let opens = rest.chars().filter(|c| matches!(c, '[' | '{')).count();
            let closes = rest.chars().filter(|c| matches!(c, ']' | '}')).count();
            if !rest.starts_with(['[', '{']) || opens <= closes {
                continue;
            }
            (key, open, col, open + 1)
        } else {
            continue;
        };
        // Only for a key inside a block (a top-level key's flow value may start in
        // column 1), and a shallow line that reads as JSON (else the error is
        // another, such as a bracket never closed before the next key).
        let shallow = (first_inside..lines.len())
            .find(|&i| content(&lines[i]) && indent(lines[i]) <= key_col)?;
        if key_col == 0
            || !lines[shallow]
                .trim_start()
                .starts_with(['[', ']', '{', '}', '"'])
        {
            return None;
        }
        return Some(format!(
            "the JSON that is the value of `{key}:` (line {}) is not indented deeper than \
             `{key}:`: line {} starts in column {}. YAML reads a flow list or mapping as a \
             key's value only when every line of it is indented deeper than the key: indent \
             the whole pasted block by more than {key_col} spaces (say {})",
            key_line + 1,
            shallow + 1,
            indent(lines[shallow]) + 1,
            key_col + 2
        ));
    }
    None
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
        count: usize,
        /// The top-level `buckets:` list: items go to the sink.
        stream: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: Span,
        anchor: usize,
        count: usize,
    },
}

struct Builder<'a, 's> {
    sink: Option<ItemSink<'s>>,
    /// A list was streamed to the sink.
    streamed: bool,
    file: FileId,
    text: &'a str,
    stack: Vec<Frame>,
    /// Anchored nodes with the number of nodes each expands to.
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
    documents: usize,
    /// Pure-ASCII text: character and byte offsets agree.
    ascii: bool,
    /// The last (character, byte) offset pair converted: markers mostly move forward.
    cursor: std::cell::Cell<(usize, usize)>,
}

impl Builder<'_, '_> {
    /// The byte offset of a marker: yaml-rust2 counts characters.
    fn byte_offset(&self, mark: Marker) -> usize {
        let chars = mark.index();
        if self.ascii {
            return chars.min(self.text.len());
        }
        let (mut c, mut b) = self.cursor.get();
        if chars < c {
            (c, b) = (0, 0);
        }
        let rest = &self.text[b..];
        let b = match rest.char_indices().nth(chars - c) {
            Some((i, _)) => b + i,
            None => self.text.len(),
        };
        self.cursor.set((chars, b));
        b
    }

    /// A span starting at `mark`, `len` bytes long, kept within the text and its line.
    fn span_at(&self, mark: Marker, len: usize) -> Span {
        let start = self.byte_offset(mark);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let mut end = (start + len.max(1)).min(line_end);
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        Span::new(self.file, start, end.max(start))
    }

    fn event(&mut self, event: Event, mark: Marker) -> Result<(), Diagnostic> {
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        ErrorCode::MultipleDocuments,
                        "a policy file holds one YAML document; this is a second one",
                    )
                    .at(self.span_at(mark, 3))
                    .help("move this document into a file of its own"));
                }
            }
            Event::SequenceStart(anchor, _) => {
                self.enter(mark)?;
                let start = self.span_at(mark, 1);
                let stream = self.sink.is_some() && anchor == 0 && self.at_first_buckets_value();
                self.streamed |= stream;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start,
                    anchor,
                    count: 1,
                    stream,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.enter(mark)?;
                let start = self.span_at(mark, 1);
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    start,
                    anchor,
                    count: 1,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    mut items,
                    start,
                    anchor,
                    count,
                    ..
                }) = self.stack.pop()
                {
                    // No spare capacity: the tree of a fleet file holds millions of nodes.
                    items.shrink_to_fit();
                    let node = Node {
                        kind: NodeKind::Seq(items),
                        span: start,
                    };
                    self.finish(node, anchor, count)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut entries,
                    start,
                    anchor,
                    count,
                    ..
                }) = self.stack.pop()
                {
                    entries.shrink_to_fit();
                    // A block mapping has no opening token: it starts at its first key.
                    let span = entries.first().map_or(start, |(k, _)| k.span);
                    let node = Node {
                        kind: NodeKind::Map(entries),
                        span: if span.start < start.start {
                            span
                        } else {
                            start
                        },
                    };
                    self.finish(node, anchor, count)?;
                }
            }
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                let len = match style {
                    TScalarStyle::Plain => text.len(),
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => text.len() + 2,
                    _ => 1,
                };
                let span = self.span_at(mark, len);
                let kind = if plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
                {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar { text, plain }
                };
                self.nodes += 1;
                self.finish(Node { kind, span }, anchor, 1)?;
            }
            Event::Alias(id) => {
                let Some(&(_, count)) = self.anchors.get(&id) else {
                    return Err(Diagnostic::error(
                        ErrorCode::YamlSyntax,
                        "alias to an unknown anchor",
                    )
                    .at(self.span_at(mark, 1))
                    .help("define the anchor (`&name`) before using it (`*name`)"));
                };
                // Count before cloning, so an alias bomb never gets materialised.
                self.nodes += count;
                self.check_size(mark)?;
                let mut node = self.anchors[&id].0.clone();
                node.span = self.span_at(mark, 1);
                self.finish(node, 0, count)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn enter(&mut self, mark: Marker) -> Result<(), Diagnostic> {
        self.nodes += 1;
        self.check_size(mark)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                ErrorCode::YamlTooComplex,
                format!("YAML nested deeper than {MAX_DEPTH} levels"),
            )
            .at(self.span_at(mark, 1))
            .help("policy files need only a few levels of nesting; flatten this structure"));
        }
        Ok(())
    }

    fn check_size(&self, mark: Marker) -> Result<(), Diagnostic> {
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(
                ErrorCode::YamlTooComplex,
                format!("YAML expands to more than {MAX_NODES} nodes (alias expansion?)"),
            )
            .at(self.span_at(mark, 1))
            .help("write the values out or use `rulesets:` instead of repeated YAML aliases"));
        }
        Ok(())
    }

    /// Whether the next node is the value of the top-level mapping's first `buckets` key.
    fn at_first_buckets_value(&self) -> bool {
        match self.stack.as_slice() {
            [
                Frame::Map {
                    entries,
                    key: Some(key),
                    ..
                },
            ] => {
                key.as_scalar() == Some("buckets")
                    && !entries
                        .iter()
                        .any(|(k, _)| k.as_scalar() == Some("buckets"))
            }
            _ => false,
        }
    }

    /// Hands a completed node to its parent (or makes it the root).
    fn finish(&mut self, node: Node, anchor: usize, count: usize) -> Result<(), Diagnostic> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            Some(Frame::Seq {
                items,
                count: c,
                stream,
                ..
            }) => {
                *c += count;
                match (&mut self.sink, *stream) {
                    (Some(sink), true) => sink(node),
                    _ => items.push(node),
                }
            }
            Some(Frame::Map {
                entries,
                key,
                count: c,
                ..
            }) => {
                *c += count;
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
            }
            None => self.root = Some(node),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse0(text: &str) -> Result<Option<Node>, Diagnostic> {
        parse(0, text)
    }

    /// Console JSON pasted flush left under an indented key: the help says to indent
    /// it, naming both lines; other syntax errors keep the general help.
    #[test]
    fn flush_left_json_under_a_key_says_to_indent_it() {
        let pasted = "version: 1\nbuckets:\n  - name: app\n    rules:\n[\n  {\n    \"AllowedMethods\": [\"PUT\"],\n    \"AllowedOrigins\": [\"https://a.example\"]\n  }\n]\n";
        let err = parse0(pasted).unwrap_err();
        assert_eq!(
            err.help.as_deref(),
            Some(
                "the JSON that is the value of `rules:` (line 4) is not indented deeper than \
                 `rules:`: line 5 starts in column 1. YAML reads a flow list or mapping as a \
                 key's value only when every line of it is indented deeper than the key: indent \
                 the whole pasted block by more than 4 spaces (say 6)"
            )
        );
        // Pasted after `rules: `, the rest of it flush left (less than `rules:`).
        let after_key = "version: 1\nbuckets:\n  - name: app\n    rules: [\n  {\n    \"AllowedMethods\": [\"PUT\"],\n    \"AllowedOrigins\": [\"https://a.example\"]\n  }\n]\n";
        let err = parse0(after_key).unwrap_err();
        assert_eq!(
            err.help.as_deref(),
            Some(
                "the JSON that is the value of `rules:` (line 4) is not indented deeper than \
                 `rules:`: line 5 starts in column 3. YAML reads a flow list or mapping as a \
                 key's value only when every line of it is indented deeper than the key: indent \
                 the whole pasted block by more than 4 spaces (say 6)"
            )
        );
        // Under a ruleset's name.
        let ruleset = "version: 1\nrulesets:\n  up:\n[\n  {\"AllowedMethods\": [\"PUT\"], \"AllowedOrigins\": [\"*\"]}\n]\n";
        let err = parse0(ruleset).unwrap_err();
        assert!(
            err.help
                .as_deref()
                .is_some_and(|h| h.starts_with("the JSON that is the value of `up:` (line 3)")),
            "{:?}",
            err.help
        );
        for other in [
            "a: [1, 2\nb: 3\n",
            "x:\n  a: [1, 2\n  b: 3\n",
            "a:\n  b: 1\n c: 2\n",
            "k: \"open\n",
        ] {
            let err = parse0(other).unwrap_err();
            assert_eq!(
                err.help.as_deref(),
                Some("fix the YAML syntax here (check indentation, quotes and `key: value` pairs)"),
                "{other:?}"
            );
        }
    }

    #[test]
    fn spans_point_at_values() {
        let text = "a: 1\nb:\n  - x\n  - \"y\"\n";
        let root = parse0(text).unwrap().unwrap();
        let NodeKind::Map(entries) = &root.kind else {
            panic!("not a map")
        };
        let (_, b) = &entries[1];
        let NodeKind::Seq(items) = &b.kind else {
            panic!("not a seq")
        };
        assert_eq!(&text[items[0].span.range()], "x");
        assert_eq!(&text[items[1].span.range()], "\"y\"");
    }

    #[test]
    fn spans_are_bytes_after_non_ascii() {
        let text = "é: ü\nkey: value\n";
        let root = parse0(text).unwrap().unwrap();
        let NodeKind::Map(entries) = &root.kind else {
            panic!("not a map")
        };
        let (k, v) = &entries[1];
        assert_eq!(&text[k.span.range()], "key");
        assert_eq!(&text[v.span.range()], "value");
    }

    #[test]
    fn scalars_keep_their_style() {
        let root = parse0("[3600, \"3600\", ~, '']").unwrap().unwrap();
        let NodeKind::Seq(items) = root.kind else {
            panic!("not a seq")
        };
        assert_eq!(items[0].type_name(), "an integer");
        assert_eq!(items[1].type_name(), "a string");
        assert_eq!(items[2].kind, NodeKind::Null);
        assert_eq!(items[3].type_name(), "a string");
    }

    #[test]
    fn top_level_bucket_items_stream_to_the_sink() {
        let streamed = |text: &str| {
            let mut items = Vec::new();
            let parsed = parse_streaming(0, text, Some(&mut |n: Node| items.push(n))).unwrap();
            let whole = parse0(text).unwrap();
            (parsed, whole, items)
        };
        let text = "version: 1\nbuckets:\n  - name: a\n  - {name: b}\nother: [x]\n";
        let (parsed, whole, items) = streamed(text);
        assert!(parsed.streamed);
        let NodeKind::Map(entries) = whole.unwrap().kind else {
            panic!("not a map")
        };
        let NodeKind::Seq(all) = &entries[1].1.kind else {
            panic!("not a seq")
        };
        // The same nodes, spans included, that the whole tree holds; the list stays empty.
        assert_eq!(&items, all);
        let NodeKind::Map(left) = parsed.root.unwrap().kind else {
            panic!("not a map")
        };
        assert_eq!(left[1].1.kind, NodeKind::Seq(Vec::new()));
        assert_eq!(left[2].1.type_name(), "a list");
        // Not streamed: an anchored list, a second `buckets:`, a nested one.
        for text in [
            "buckets: &b [1]\n",
            "buckets: 1\nbuckets: [2]\n",
            "a:\n  buckets: [1]\n",
        ] {
            let (parsed, whole, items) = streamed(text);
            assert!(!parsed.streamed && items.is_empty(), "{text}");
            assert_eq!(parsed.root, whole, "{text}");
        }
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(parse0("").unwrap(), None);
        assert_eq!(parse0("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn limits_hold_on_hostile_input() {
        let cases: Vec<(String, &str)> = vec![
            // yaml-rust2 refuses very deep flow nesting itself.
            ("[".repeat(10_000), "yaml-syntax"),
            ("[".repeat(100), "yaml-too-complex"),
            (deep_block(10_000), "yaml-too-complex"),
            (deep_block(20), ""),
            (billion_laughs(), "yaml-too-complex"),
            ("a: [1, 2\n".to_string(), "yaml-syntax"),
            ("a: 1\n---\nb: 2\n".to_string(), "multiple-documents"),
            ("a: *nope\n".to_string(), "yaml-syntax"),
        ];
        for (text, code) in cases {
            match parse0(&text) {
                Ok(_) => assert_eq!(code, "", "expected {code} for {:.40}", text),
                Err(d) => assert_eq!(d.code, code, "for {:.40}: {}", text, d.message),
            }
        }
    }

    fn deep_block(levels: usize) -> String {
        (0..levels)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect()
    }

    fn billion_laughs() -> String {
        let mut s = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            s.push_str(&format!(
                "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = n;
        }
        s
    }
}
