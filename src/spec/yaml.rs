//! YAML with positions: the spec text is read into a tree whose every node
//! knows its byte range, then turned into plain JSON plus an index from JSON
//! pointer to source range. Validation then works on ordinary JSON values and
//! asks the index where a problem is.
//!
//! Why serde-saphyr: `serde_yaml` is archived and deprecated; serde-saphyr is
//! maintained, parses YAML 1.2 without unsafe code, has budgets against
//! billion-laughs style documents, and gives every value its location through
//! `Spanned<T>`, which is what `file:line:col` diagnostics need.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::diag::Diagnostic;

/// Where one value sits in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Range of the value itself.
    pub value: Range<usize>,
    /// Range of the mapping key that holds it, if it is a mapping entry.
    pub key: Option<Range<usize>>,
    /// Whether the value is a scalar (one line) rather than a block.
    pub scalar: bool,
    /// Whether the whole value sits on one line (scalars, `[a, b]`, `{a: 1}`).
    pub one_line: bool,
}

impl Place {
    /// The best range to underline: the value for scalars, the key for blocks
    /// and for empty values (`key:` with nothing after it has no text to mark).
    pub fn primary(&self) -> Range<usize> {
        if self.scalar && !self.value.is_empty() {
            self.value.clone()
        } else {
            self.key
                .clone()
                .unwrap_or(self.value.start..self.value.start)
        }
    }
}

/// JSON pointer (RFC 6901) -> place in the source.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    places: HashMap<String, Place>,
}

impl SourceMap {
    /// Forgets the places inside the tools' schemas
    /// (`/gateways/G/targets/T/tools/N/input/...`, most of a large spec's
    /// places): once a spec is loaded, what is located is resources and
    /// their settings.
    pub fn forget_tool_schemas(&mut self) {
        self.places.retain(|p, _| {
            let mut s = p.split('/').skip(1);
            let mut next = || s.next();
            !matches!(
                [next(), next(), next(), next(), next(), next(), next()],
                [
                    Some("gateways"),
                    Some(_),
                    Some("targets"),
                    Some(_),
                    Some("tools"),
                    Some(_),
                    Some(_)
                ]
            )
        });
        self.places.shrink_to_fit();
    }

    pub fn get(&self, pointer: &str) -> Option<&Place> {
        self.places.get(pointer)
    }

    /// Range to underline for the value at `pointer`, falling back to the
    /// closest ancestor that has a place.
    pub fn span(&self, pointer: &str) -> Range<usize> {
        let mut p = pointer.to_string();
        loop {
            if let Some(place) = self.places.get(&p) {
                return place.primary();
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return 0..0,
            }
        }
    }

    /// Makes the places under `from` answer for `to` too (a key renamed in
    /// the value keeps pointing at what the user wrote).
    pub fn alias(&mut self, from: &str, to: &str) {
        let moved: Vec<(String, Place)> = self
            .places
            .iter()
            .filter(|(k, _)| k.starts_with(from))
            .filter(|(k, _)| k.len() == from.len() || k[from.len()..].starts_with('/'))
            .map(|(k, p)| (format!("{to}{}", &k[from.len()..]), p.clone()))
            .collect();
        self.places.extend(moved);
    }

    /// Range of the key at `pointer` (for "unknown field" errors).
    pub fn key_span(&self, pointer: &str) -> Range<usize> {
        match self.places.get(pointer).and_then(|p| p.key.clone()) {
            Some(k) => k,
            None => self.span(pointer),
        }
    }

    /// Range of the value at `pointer` when it fits on one line (a scalar or
    /// a flow collection such as `[a, b]`), else what `span` gives.
    pub fn value_span(&self, pointer: &str) -> Range<usize> {
        match self.places.get(pointer) {
            Some(p) if p.one_line && !p.value.is_empty() => p.value.clone(),
            _ => self.span(pointer),
        }
    }
}

/// Escapes one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
}

struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(Node::UInt(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = map.next_key::<Spanned<Key>>()? {
                    let v = map.next_value::<Spanned<Node>>()?;
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// A parsed document: plain JSON plus the source map.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub map: SourceMap,
    /// Problems that do not stop the later stages (duplicate keys: the first
    /// occurrence is kept).
    pub problems: Vec<Diagnostic>,
}

/// Parses YAML text. A syntax error is fatal and comes back as one diagnostic
/// at its position; duplicate keys are reported in `Document::problems`.
pub fn parse(source: &str) -> Result<Document, Vec<Diagnostic>> {
    if source.trim().is_empty() {
        return Err(vec![
            Diagnostic::new("the spec file is empty", 0..0)
                .help("start with `version: 1` and `project: <name>`"),
        ]);
    }
    // Duplicate keys are passed through so that `convert` reports every one
    // with its own message; YAML 1.2 booleans only, so `no` and `y` stay
    // strings (the spec describes itself as YAML 1.2).
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        emit_comments: false,
    };
    let root: Spanned<Node> = match serde_saphyr::from_str_with_options(source, options) {
        Ok(root) => root,
        Err(e) => return Err(vec![syntax_error(&e, source)]),
    };
    if matches!(root.value, Node::Null) {
        return Err(vec![
            Diagnostic::new("the spec file has no content", 0..0)
                .help("start with `version: 1` and `project: <name>`"),
        ]);
    }
    let mut map = SourceMap::default();
    let mut problems = Vec::new();
    let (value, _) = convert(root, String::new(), None, source, &mut map, &mut problems);
    Ok(Document {
        value,
        map,
        problems,
    })
}

/// One diagnostic for a YAML syntax error, worded for people and placed where
/// the fix goes.
fn syntax_error(e: &serde_saphyr::Error, source: &str) -> Diagnostic {
    use serde_saphyr::MessageFormatter;
    let raw = serde_saphyr::UserMessageFormatter
        .format_message(e.without_snippet())
        .into_owned();
    let raw = raw
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    let at = e.location().map_or(0, |l| range(&l, source).start);
    let (message, help, at): (String, Option<&str>, usize) = if raw.contains("found a tab")
        || raw.contains("tab") && raw.contains("indent")
    {
        let at = first_indent_tab(source, at).unwrap_or(at);
        (
            "invalid YAML: tab character in indentation".into(),
            Some("YAML indents with spaces only; replace the tab with spaces"),
            at,
        )
    } else if raw.contains("mapping values are not allowed") {
        (
            "invalid YAML: a `key: value` pair cannot start here".into(),
            Some(
                "check this line's indentation against the lines above; quote a value that contains `: `",
            ),
            at,
        )
    } else if raw.contains("did not find expected '-' indicator") {
        (
            "invalid YAML: expected a `- ` list item".into(),
            Some("items of a list each start with `- ` at the same indentation"),
            at,
        )
    } else if raw.contains("did not find expected key") {
        (
            "invalid YAML: expected a `key: value` entry".into(),
            Some("check this line's indentation against the lines above"),
            at,
        )
    } else if raw.contains("unclosed quote") {
        (
            "invalid YAML: unclosed quote".into(),
            Some("end the string with the same quote it starts with"),
            at,
        )
    } else if raw.contains("unclosed bracket") {
        let help = if raw.contains('{') {
            "close the mapping with `}`"
        } else {
            "close the list with `]`"
        };
        (format!("invalid YAML: {raw}"), Some(help), at)
    } else if raw.contains("multiple") && raw.contains("document") {
        // Point at the `---` that starts the second document.
        let before = source.get(..at).unwrap_or("");
        let at = before.rfind("\n---").map_or(at, |i| i + 1);
        (
            "invalid YAML: the spec must be a single YAML document".into(),
            Some("remove this `---` and what follows, or merge the documents"),
            at,
        )
    } else if raw.contains("budget") || raw.contains("recursion limit") || raw.contains("depth") {
        (
            "the spec is nested too deeply or is too large".into(),
            Some("a spec needs only a few levels of nesting"),
            at,
        )
    } else if raw.contains("expected string scalar") {
        (
            "invalid YAML: mapping keys must be plain text".into(),
            Some("use a plain word as the key"),
            at,
        )
    } else {
        (format!("invalid YAML: {raw}"), None, at)
    };
    let d = Diagnostic::new(message, at..at);
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

/// Byte offset of the first tab in the leading whitespace of a line, from the
/// line holding `from` on (the parser reports a tab where the scalar before it
/// started, which is the line above).
fn first_indent_tab(source: &str, from: usize) -> Option<usize> {
    let line_start = source
        .get(..from.min(source.len()))
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let mut offset = line_start;
    for line in source.get(line_start..)?.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(i) = line[..indent].find('\t') {
            return Some(offset + i);
        }
        offset += line.len();
    }
    None
}

fn range(loc: &Location, source: &str) -> Range<usize> {
    let span = loc.span();
    if let (Some(o), Some(l)) = (span.byte_offset(), span.byte_len()) {
        let start = usize::try_from(o).unwrap_or(source.len()).min(source.len());
        let end = start
            .saturating_add(usize::try_from(l).unwrap_or(0))
            .min(source.len());
        return start..end;
    }
    // Fall back to line/column (1-based, in characters).
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    let mut offset = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let byte_col: usize = l.chars().take(col - 1).map(char::len_utf8).sum();
            return offset + byte_col..offset + byte_col;
        }
        offset += l.len();
    }
    source.len()..source.len()
}

fn convert(
    node: Spanned<Node>,
    pointer: String,
    key: Option<Range<usize>>,
    source: &str,
    map: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> (Value, usize) {
    let start = range(&node.referenced, source);
    let (value, value_range, scalar) = match node.value {
        Node::Seq(items) => {
            let mut end = start.end;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let (v, item_end) =
                    convert(item, format!("{pointer}/{i}"), None, source, map, diags);
                out.push(v);
                end = end.max(item_end);
            }
            (
                Value::Array(out),
                start.start..close_flow(source, start.start, end, '[', ']'),
                false,
            )
        }
        Node::Map(entries) => {
            let mut end = start.end;
            let mut obj = serde_json::Map::new();
            for (k, v) in entries {
                let key_range = trim_scalar(range(&k.referenced, source), source);
                end = end.max(key_range.end);
                let name = k.value.0;
                let child = format!("{pointer}/{}", escape(&name));
                if obj.contains_key(&name) {
                    let first = map
                        .places
                        .get(&child)
                        .and_then(|p| p.key.clone())
                        .unwrap_or(0..0);
                    let line = source
                        .get(..first.start)
                        .map_or(1, |b| b.matches('\n').count() + 1);
                    diags.push(
                        Diagnostic::new(format!("duplicate key `{name}`"), key_range)
                            .label(format!("`{name}` is already set on line {line}"))
                            .help("a key may appear once in a mapping; remove one (the first one is used)"),
                    );
                    continue;
                }
                let (val, val_end) = convert(v, child, Some(key_range), source, map, diags);
                end = end.max(val_end);
                obj.insert(name, val);
            }
            (
                Value::Object(obj),
                start.start..close_flow(source, start.start, end, '{', '}'),
                false,
            )
        }
        scalar => {
            let v = match scalar {
                Node::Bool(b) => Value::Bool(b),
                Node::Int(i) => Value::from(i),
                Node::UInt(u) => Value::from(u),
                Node::Float(f) => {
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                Node::Str(s) => Value::String(s),
                Node::Null | Node::Seq(_) | Node::Map(_) => Value::Null,
            };
            (v, trim_scalar(start, source), true)
        }
    };
    // A block collection starts at its first entry, so only scalars and flow
    // collections (`[a, b]`, `{a: 1}`) can be one-line values.
    // (The newline scan comes last: a block collection's text is long.)
    let one_line = source
        .get(value_range.clone())
        .is_some_and(|t| (scalar || t.starts_with('[') || t.starts_with('{')) && !t.contains('\n'));
    let end = value_range.end;
    map.places.insert(
        pointer,
        Place {
            value: value_range,
            key,
            scalar,
            one_line,
        },
    );
    (value, end)
}

/// End of a collection that starts at `start` and whose last content ends at
/// `end`: past the closing bracket for a flow collection (`[a, b]`), `end`
/// for a block one.
fn close_flow(source: &str, start: usize, end: usize, open: char, close: char) -> usize {
    if !source.get(start..).is_some_and(|s| s.starts_with(open)) {
        return end;
    }
    match source.get(end..).and_then(|rest| rest.find(close)) {
        Some(i) => end + i + close.len_utf8(),
        None => end,
    }
}

/// Keeps a scalar's range on its first line, without trailing whitespace, so
/// the caret never spans a block.
fn trim_scalar(r: Range<usize>, source: &str) -> Range<usize> {
    let text = source.get(r.clone()).unwrap_or("");
    let first_line = text.split('\n').next().unwrap_or("");
    let trimmed = first_line.trim_end();
    r.start..r.start + trimmed.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tool_schemas_are_forgotten() {
        let src = "functions:\n  tools:\n    source: x\ngateways:\n  g:\n    targets:\n      t:\n        tools:\n          - name: a\n            input: {type: object, properties: {x: {type: number}}}\n";
        let mut map = parse(src).unwrap().map;
        map.forget_tool_schemas();
        assert!(
            map.get("/functions/tools/source").is_some(),
            "a function named `tools`"
        );
        assert!(map.get("/gateways/g/targets/t/tools/0").is_some());
        assert!(map.get("/gateways/g/targets/t/tools/0/name").is_none());
        assert!(
            map.get("/gateways/g/targets/t/tools/0/input/properties/x")
                .is_none()
        );
    }

    #[test]
    fn maps_pointers_to_ranges() {
        let src = "project: demo\nfunctions:\n  tools:\n    memory: 128\nlist: [a, b]\n";
        let doc = parse(src).unwrap();
        assert_eq!(doc.value["functions"]["tools"]["memory"], 128);
        let p = doc.map.get("/functions/tools/memory").unwrap();
        assert_eq!(&src[p.value.clone()], "128");
        assert_eq!(&src[p.key.clone().unwrap()], "memory");
        assert_eq!(&src[doc.map.span("/functions/tools")], "tools");
        assert_eq!(&src[doc.map.span("/list/1")], "b");
        assert_eq!(
            &src[doc.map.span("/functions/tools/missing")],
            "memory".replace("memory", "tools")
        );
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("project: [unclosed\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0].message.starts_with("invalid YAML"),
            "{}",
            err[0].message
        );
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_first_is_kept() {
        let doc = parse("project: a\nproject: b\nx:\n  k: 1\n  k: 2\n  k: 3\n").unwrap();
        assert_eq!(doc.value["project"], "a");
        assert_eq!(doc.value["x"]["k"], 1);
        let found: Vec<_> = doc
            .problems
            .iter()
            .map(|d| (d.message.as_str(), d.span.clone().unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                ("duplicate key `project`", 11..18),
                ("duplicate key `k`", 34..35),
                ("duplicate key `k`", 41..42)
            ]
        );
    }

    #[test]
    fn yaml_1_2_booleans_only() {
        let doc = parse("a: yes\nb: no\nc: y\nd: true\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": "yes", "b": "no", "c": "y", "d": true})
        );
    }

    #[test]
    fn syntax_errors_are_worded_and_placed() {
        let cases: &[(&str, &str, usize)] = &[
            ("a: [b\n", "invalid YAML: unclosed bracket '['", 3),
            (
                "a: 1\n\tb: 2\n",
                "invalid YAML: tab character in indentation",
                5,
            ),
            (
                "a: 1\n  b: 2\n",
                "invalid YAML: a `key: value` pair cannot start here",
                8,
            ),
            ("a: \"x\n", "invalid YAML: unclosed quote", 3),
            (
                "a: 1\n---\nb: 2\n",
                "invalid YAML: the spec must be a single YAML document",
                5,
            ),
        ];
        for (src, message, at) in cases {
            let err = parse(src).unwrap_err();
            assert_eq!(err.len(), 1, "{src:?}");
            assert_eq!(
                (err[0].message.as_str(), err[0].span.clone()),
                (*message, Some(*at..*at)),
                "{src:?}"
            );
        }
    }

    #[test]
    fn flow_collections_are_one_line_values() {
        let src = "t: [number, \"null\"]\nm:\n  a: 1\nn:\n";
        let doc = parse(src).unwrap();
        assert_eq!(&src[doc.map.value_span("/t")], "[number, \"null\"]");
        assert_eq!(&src[doc.map.value_span("/m")], "m");
        assert_eq!(&src[doc.map.value_span("/n")], "n");
    }
}
