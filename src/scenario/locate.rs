//! Maps between field paths (`segments[1].availability.profile`) and places in a TOML file.
//!
//! Validation happens on typed values after deserialisation, where positions are gone; this module
//! re-parses the text with spans so every error can name its line and column, and turns the span of
//! a serde error back into the field path.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A parsed document kept only for its spans.
pub struct Locator<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

enum Seg<'p> {
    Key(std::borrow::Cow<'p, str>),
    Index(usize),
}

/// The keys and indexes of a field path. A key that is no bare TOML key is written quoted, as
/// in TOML (`graph_ids."String (identifier)"`; see [`quoted_key`]), so it may hold `.` and `[`.
fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => i += 1,
            b'[' => {
                let end = path[i..].find(']').map_or(b.len(), |e| i + e);
                if let Ok(n) = path[i + 1..end].parse() {
                    out.push(Seg::Index(n));
                }
                i = end + 1;
            }
            b'"' => {
                let mut key = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch = path[i..].chars().next().unwrap_or('"');
                    key.push(ch);
                    i += ch.len_utf8();
                }
                i += 1;
                out.push(Seg::Key(key.into()));
            }
            _ => {
                let end = path[i..].find(['.', '[']).map_or(b.len(), |e| i + e);
                out.push(Seg::Key(path[i..end].into()));
                i = end;
            }
        }
    }
    out
}

/// `key` as it is written in a field path: bare when it is a bare TOML key (letters, digits,
/// `_`, `-`), else quoted, so that a path can name any key of a table such as `[graph_ids]`.
pub(crate) fn quoted_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

impl<'a> Locator<'a> {
    /// Parses `text` for its spans (a syntax error simply leaves nothing to locate).
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// 1-based (line, column) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(at, |i| at - i - 1) + 1;
        (line, col)
    }

    /// Byte offset of 1-based (`line`, `column`), the inverse of [`Locator::line_col`].
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let start: usize = self
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        (start + column.saturating_sub(1)).min(self.text.len())
    }

    /// Span of the value at `path`, or of its closest existing ancestor.
    pub fn span_of(&self, path: &str) -> Option<Range<usize>> {
        self.span_and_depth(path).map(|(span, _)| span)
    }

    /// [`Locator::span_of`] with how many of the path's segments were found (keys and indexes:
    /// `segments[1].name` has three), so two texts can tell whether they found the same field.
    pub fn span_and_depth(&self, path: &str) -> Option<(Range<usize>, usize)> {
        let root = self.root.as_ref()?;
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        let mut value: Option<&Spanned<DeValue<'_>>> = None;
        let mut best = None;
        for (depth, seg) in segments(path).into_iter().enumerate() {
            let next = match seg {
                Seg::Key(k) => match (table, value) {
                    (Some(t), None) => t.get(k.as_ref()),
                    (_, Some(v)) => v.get_ref().get(k.as_ref()),
                    _ => None,
                },
                Seg::Index(i) => value.and_then(|v| v.get_ref().get(i)),
            };
            match next {
                Some(v) => {
                    best = Some((v.span(), depth + 1));
                    value = Some(v);
                    table = None;
                }
                None => break,
            }
        }
        best
    }

    /// Whether the text has a value at `path` itself (not only an ancestor of it).
    pub fn has(&self, path: &str) -> bool {
        self.span_and_depth(path)
            .is_some_and(|(_, depth)| depth == segments(path).len())
    }

    /// (line, column) of the value at `path`, (0, 0) when it cannot be found.
    pub fn position(&self, path: &str) -> (usize, usize) {
        self.span_of(path)
            .map_or((0, 0), |s| self.line_col(s.start))
    }

    /// The field path whose key or value encloses byte range `span` most tightly.
    pub fn path_at(&self, span: &Range<usize>) -> String {
        let Some(root) = self.root.as_ref() else {
            return String::new();
        };
        let mut best = (0, String::new());
        walk_table(root.get_ref(), span, "", &mut best);
        best.1
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Depth-first search over every key and value: table and array-of-table headers do not span
/// their contents, so no subtree can be skipped. Keeps the deepest match.
fn walk_table(t: &DeTable<'_>, span: &Range<usize>, prefix: &str, best: &mut (usize, String)) {
    for (k, v) in t.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let depth = path.matches(['.', '[']).count() + 1;
        if (contains(&k.span(), span) || contains(&v.span(), span)) && depth > best.0 {
            *best = (depth, path.clone());
        }
        walk_value(v.get_ref(), span, &path, best);
    }
}

fn walk_value(v: &DeValue<'_>, span: &Range<usize>, prefix: &str, best: &mut (usize, String)) {
    match v {
        DeValue::Table(t) => walk_table(t, span, prefix, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{prefix}[{i}]");
                let depth = path.matches(['.', '[']).count() + 1;
                if contains(&item.span(), span) && depth > best.0 {
                    *best = (depth, path.clone());
                }
                walk_value(item.get_ref(), span, &path, best);
            }
        }
        _ => {}
    }
}

/// Positions of every key and value of a JSON document, by field path (`settings.schedule`,
/// `addMembers[0].id`), for errors in Graph request bodies. serde_json's `Value` keeps no
/// positions, so this is a small scanner over the text; it stops quietly at malformed input
/// (serde_json reports that with its own line and column).
pub struct JsonLocator<'a> {
    text: &'a str,
    at: std::collections::HashMap<String, usize>,
}

impl<'a> JsonLocator<'a> {
    /// Scans `text`.
    pub fn new(text: &'a str) -> Self {
        let mut l = Self {
            text,
            at: Default::default(),
        };
        let b = text.as_bytes();
        let mut i = 0;
        let _ = l.value(b, &mut i, String::new());
        l
    }

    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }

    fn string(b: &[u8], i: &mut usize) -> Option<String> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        *i += 1;
        while *i < b.len() && b[*i] != b'"' {
            if b[*i] == b'\\' {
                *i += 1;
            }
            *i += 1;
        }
        let s = String::from_utf8_lossy(b.get(start..*i)?).into_owned();
        *i += 1;
        Some(s)
    }

    fn value(&mut self, b: &[u8], i: &mut usize, path: String) -> Option<()> {
        Self::ws(b, i);
        self.at.entry(path.clone()).or_insert(*i);
        match *b.get(*i)? {
            b'{' => {
                *i += 1;
                loop {
                    Self::ws(b, i);
                    if *b.get(*i)? == b'}' {
                        *i += 1;
                        return Some(());
                    }
                    let key_at = *i;
                    let key = Self::string(b, i)?;
                    let p = if path.is_empty() {
                        key
                    } else {
                        format!("{path}.{key}")
                    };
                    self.at.insert(p.clone(), key_at);
                    Self::ws(b, i);
                    if *b.get(*i)? != b':' {
                        return None;
                    }
                    *i += 1;
                    self.value(b, i, p)?;
                    Self::ws(b, i);
                    if *b.get(*i)? == b',' {
                        *i += 1;
                    }
                }
            }
            b'[' => {
                *i += 1;
                let mut k = 0;
                loop {
                    Self::ws(b, i);
                    if *b.get(*i)? == b']' {
                        *i += 1;
                        return Some(());
                    }
                    self.value(b, i, format!("{path}[{k}]"))?;
                    k += 1;
                    Self::ws(b, i);
                    if *b.get(*i)? == b',' {
                        *i += 1;
                    }
                }
            }
            b'"' => Self::string(b, i).map(|_| ()),
            _ => {
                while *i < b.len() && !b",]} \t\r\n".contains(&b[*i]) {
                    *i += 1;
                }
                Some(())
            }
        }
    }

    /// Whether the document has a key or value at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.at.contains_key(path)
    }

    /// (line, column) of the key or value at `path`, or of its closest existing ancestor.
    pub fn position(&self, path: &str) -> (usize, usize) {
        let mut p = path;
        loop {
            if let Some(&at) = self.at.get(p) {
                let before = &self.text[..at.min(self.text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.rfind('\n').map_or(at, |i| at - i - 1) + 1;
                return (line, col);
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_map_to_the_line_of_their_key() {
        let j = "{\n  \"settings\": {\n    \"userExperience\": {\"daysUntilForcedReboot\": 2}\n  },\n  \"addMembers\": [{\"id\": \"x\"}, {\"id\": \"y\"}]\n}";
        let l = JsonLocator::new(j);
        assert_eq!(
            l.position("settings.userExperience.daysUntilForcedReboot")
                .0,
            3
        );
        assert_eq!(l.position("addMembers[1].id"), (5, 32));
        assert_eq!(l.position("settings.nothing.here").0, 2);
    }

    const DOC: &str = "[simulation]\nhorizon = \"P30D\"\n\n[[segments]]\nname = \"a\"\n\n[[segments]]\nname = \"b\"\navailability = { profile = \"offce\" }\n";

    #[test]
    fn a_path_maps_to_the_line_of_its_value() {
        let l = Locator::new(DOC);
        assert_eq!(l.position("simulation.horizon"), (2, 11));
        assert_eq!(l.position("segments[1].availability.profile").0, 9);
        assert_eq!(l.position("segments[1].name").0, 8);
    }

    #[test]
    fn a_span_maps_back_to_its_path() {
        let l = Locator::new(DOC);
        let at = DOC.find("\"offce\"").unwrap();
        assert_eq!(l.path_at(&(at..at + 7)), "segments[1].availability.profile");
    }

    #[test]
    fn a_quoted_key_in_a_path_finds_a_key_that_is_no_bare_key() {
        let doc =
            "[graph_ids]\n\"String (identifier)\" = \"pilot\"\n\"a.b[0]\" = \"x\"\nplain = \"y\"\n";
        let l = Locator::new(doc);
        let path = format!("graph_ids.{}", quoted_key("String (identifier)"));
        assert_eq!(path, "graph_ids.\"String (identifier)\"");
        assert_eq!(l.position(&path), (2, 25));
        assert_eq!(
            l.position(&format!("graph_ids.{}", quoted_key("a.b[0]"))),
            (3, 12)
        );
        assert_eq!(quoted_key("plain"), "plain");
        assert_eq!(l.position("graph_ids.plain"), (4, 9));
        assert!(!l.has("graph_ids.\"absent\""));
    }
}
