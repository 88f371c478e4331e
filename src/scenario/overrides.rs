//! Dotted-path overrides of a scenario's TOML: how sweeps make variants and how `rollsim run --set`
//! changes one value (a horizon, a rollout size) without editing the file. The changed document
//! is validated like any scenario, so a wrong path or value is reported as bad input.
//!
//! Values are edited in the text as written (`toml_edit`): comments, blank lines and the order of
//! tables stay, a changed value keeps its place and trailing comment, and a new key goes into the
//! table it belongs to. The copy of a scenario in a run's output folder therefore reads like the
//! file, and an error found in the changed text is reported at the same field of the file.
//!
//! A deployment that reads its request body from a Graph JSON file (`graph = "body.json"`) has its
//! `settings` and `content` in that file: a path under them changes the body as read (see
//! [`BodySet`]), not the TOML.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Key, Table, Value};

use super::locate::Locator;
use super::{Scenario, suggest};
use crate::error::{Error, InputError, Problem};

/// Where [`set_path`] put a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// In the scenario's TOML, at this field path as errors name it
    /// (`deployments[0].settings.schedule.gradualRollout.devicesPerOffer`).
    Toml(String),
    /// In the Graph JSON body that scenario field `field` names (`deployments[0].graph`), at
    /// dotted `path` in the body (`settings.userExperience.daysUntilForcedReboot`); the TOML is
    /// unchanged.
    Body {
        /// The scenario field naming the file.
        field: String,
        /// Dotted path in the body.
        path: String,
    },
}

/// A change to the Graph JSON body a deployment or action reads (`graph = "body.json"`), applied
/// to the body as read before it is checked (the file itself is not changed).
#[derive(Clone, Debug)]
pub struct BodySet {
    /// The scenario field naming the file (`deployments[0].graph`).
    pub field: String,
    /// Dotted path in the body (`settings.userExperience.daysUntilForcedReboot`; an array's
    /// elements by index).
    pub path: String,
    /// The value.
    pub value: serde_json::Value,
    /// What asked for the change (`--set PATH=VALUE`), named by a problem in the value it gave;
    /// `None` when the caller names it itself (a sweep locates problems at its own paths).
    pub origin: Option<String>,
}

/// Sets `value` at dotted `path` in `doc`: tables by key, elements of arrays of tables by their
/// `name` or index. A missing key is added to its table, and missing tables on the way are
/// created (as dotted keys inside an existing table, `settings.schedule.x = 1`, or as a new table
/// at the end of the document). Returns where the value went.
pub fn set_path(doc: &mut DocumentMut, path: &str, value: &toml::Value) -> Result<Target, String> {
    // A key may be quoted as TOML quotes it (`catalog."f341705b-…".version`): the quotes are
    // not part of the key, and kept they would add a key no one looks up.
    let parts: Vec<&str> = path
        .split('.')
        .map(|p| {
            p.strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .unwrap_or(p)
        })
        .collect();
    walk(Node::Table(doc.as_table_mut(), true), &parts, 0, "", value)
}

/// A table being walked: a `[table]` (or dotted-key table), `true` for the document itself, or
/// an inline `{ ... }` table.
enum Node<'a> {
    Table(&'a mut Table, bool),
    Inline(&'a mut InlineTable),
}

impl Node<'_> {
    fn text(&self, key: &str) -> Option<&str> {
        match self {
            Node::Table(t, _) => t.get(key).and_then(Item::as_str),
            Node::Inline(t) => t.get(key).and_then(Value::as_str),
        }
    }
}

/// What a key of a table holds, for the walk to go on.
enum Child<'a> {
    Node(Node<'a>),
    Tables(&'a mut ArrayOfTables),
    Values(&'a mut toml_edit::Array),
    Other(&'static str),
}

impl<'a> Child<'a> {
    fn of(v: &'a mut Value) -> Self {
        match v {
            Value::InlineTable(t) => Child::Node(Node::Inline(t)),
            Value::Array(a) => Child::Values(a),
            other => Child::Other(other.type_name()),
        }
    }
}

/// Sets `parts[i..]` under `node`, whose field path is `at`.
fn walk(
    node: Node<'_>,
    parts: &[&str],
    i: usize,
    at: &str,
    value: &toml::Value,
) -> Result<Target, String> {
    let Some(&part) = parts.get(i) else {
        return Err("is an empty path".into());
    };
    let here = if at.is_empty() {
        part.to_string()
    } else {
        format!("{at}.{part}")
    };
    let Some(&next) = parts.get(i + 1) else {
        match node {
            Node::Table(t, _) => put(t, part, value),
            Node::Inline(t) => put_inline(t, part, value),
        }
        return Ok(Target::Toml(here));
    };
    let child = match node {
        Node::Table(t, root) => {
            if !t.contains_key(part) {
                let mut new = Table::new();
                // Inside an existing table, a dotted key (`settings.schedule.x = 1`) keeps the new
                // value in it; a new top-level table goes at the end of the document.
                new.set_dotted(!root);
                t.insert(part, Item::Table(new));
            }
            match t.get_mut(part) {
                Some(Item::Table(c)) => Child::Node(Node::Table(c, false)),
                Some(Item::ArrayOfTables(a)) => Child::Tables(a),
                Some(Item::Value(v)) => Child::of(v),
                _ => Child::Other("nothing"),
            }
        }
        Node::Inline(t) => Child::of(t.entry(part).or_insert(InlineTable::new().into())),
    };
    match child {
        Child::Node(n) => walk(n, parts, i + 1, &here, value),
        Child::Other(kind) => Err(format!(
            "\"{}\" is a {kind}, not a table: it has no field \"{next}\"",
            parts[..=i].join(".")
        )),
        Child::Tables(a) => {
            let names: Vec<Option<&str>> = a
                .iter()
                .map(|t| t.get("name").and_then(Item::as_str))
                .collect();
            let pos = element(part, next, &names)?;
            match a.get_mut(pos) {
                Some(t) => in_element(Node::Table(t, false), parts, i + 1, &here, pos, value),
                None => Err(format!("\"{part}.{next}\" is not a table")),
            }
        }
        Child::Values(a) => {
            let names: Vec<Option<&str>> = a
                .iter()
                .map(|v| {
                    v.as_inline_table()
                        .and_then(|t| t.get("name"))
                        .and_then(Value::as_str)
                })
                .collect();
            let pos = element(part, next, &names)?;
            match a.get_mut(pos) {
                Some(Value::InlineTable(t)) => {
                    in_element(Node::Inline(t), parts, i + 1, &here, pos, value)
                }
                _ => Err(format!("\"{part}.{next}\" is not a table")),
            }
        }
    }
}

/// Goes on in element `pos` of list `at`, selected by `parts[sel]`.
fn in_element(
    node: Node<'_>,
    parts: &[&str],
    sel: usize,
    at: &str,
    pos: usize,
    value: &toml::Value,
) -> Result<Target, String> {
    let at = format!("{at}[{pos}]");
    let Some(&field) = parts.get(sel + 1) else {
        return Err(format!(
            "\"{}\" names a whole element; name a field in it",
            parts.join(".")
        ));
    };
    // A deployment (or PATCH action) whose request body is a Graph JSON file has its settings
    // and content there, not in the TOML (where they would conflict with the file).
    if matches!(field, "settings" | "content") && node.text("graph").is_some() {
        return Ok(Target::Body {
            field: format!("{at}.graph"),
            path: parts[sel + 1..].join("."),
        });
    }
    walk(node, parts, sel + 1, &at, value)
}

/// The element of list `part` that `next` names: by its `name`, else by index.
fn element(part: &str, next: &str, names: &[Option<&str>]) -> Result<usize, String> {
    let n = names.len();
    if let Some(pos) = names
        .iter()
        .position(|x| *x == Some(next))
        .or_else(|| next.parse::<usize>().ok().filter(|&k| k < n))
    {
        return Ok(pos);
    }
    let named: Vec<&str> = names.iter().flatten().copied().collect();
    Err(if n == 0 {
        format!("\"{part}\" is an empty list: it has no element \"{next}\"")
    } else if named.is_empty() {
        format!(
            "\"{part}\" has no element \"{next}\": its {n} element{} have no names; give an index from 0 to {}",
            if n == 1 { "" } else { "s" },
            n - 1
        )
    } else {
        format!(
            "\"{part}\" has no element named \"{next}\"{}; elements are {} (or an index from 0 to {})",
            suggest(next, &named),
            named.join(", "),
            n - 1
        )
    })
}

/// Sets `key` of table `t`: an existing value is replaced in place, keeping the spaces and the
/// comment around it; a new key follows the table's last.
fn put(t: &mut Table, key: &str, value: &toml::Value) {
    let mut new = to_edit(value);
    match t.get_mut(key) {
        Some(Item::Value(old)) => {
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        _ => {
            t.insert(key, Item::Value(new));
        }
    }
}

/// [`put`] for an inline table: a new key is written before the closing brace.
fn put_inline(t: &mut InlineTable, key: &str, value: &toml::Value) {
    let mut new = to_edit(value);
    match t.get_mut(key) {
        Some(old) => {
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        None => {
            // The space before `}` follows the last value: it moves to the new one.
            if let Some((_, last)) = t.iter_mut().last()
                && let Some(space) = last.decor().suffix().cloned()
            {
                last.decor_mut().set_suffix("");
                new.decor_mut().set_suffix(space);
            }
            t.insert(key, new);
        }
    }
}

/// A TOML value as `toml_edit` writes it.
fn to_edit(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => s.as_str().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => (*d).into(),
        toml::Value::Array(a) => a.iter().map(to_edit).collect::<toml_edit::Array>().into(),
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, v)| (k.as_str(), to_edit(v)))
            .collect::<InlineTable>()
            .into(),
    }
}

/// Sets `value` at dotted `path` in a Graph JSON body: objects by key (missing ones created),
/// arrays by index. Returns the path as problems in the body name it
/// (`settings.monitoring.monitoringRules[0].threshold`).
pub fn set_json(
    body: &mut serde_json::Value,
    path: &str,
    value: &serde_json::Value,
) -> Result<String, String> {
    use serde_json::Value as Json;
    let parts: Vec<&str> = path.split('.').collect();
    let mut at = String::new();
    let mut here = body;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let written = parts[..i].join(".");
        here = match here {
            Json::Object(map) => {
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(part);
                if last {
                    map.insert((*part).to_string(), value.clone());
                    return Ok(at);
                }
                map.entry(*part)
                    .or_insert_with(|| Json::Object(Default::default()))
            }
            Json::Array(items) => {
                let n = items.len();
                let Some(pos) = part.parse::<usize>().ok().filter(|&k| k < n) else {
                    return Err(if n == 0 {
                        format!("\"{written}\" is an empty list: it has no element \"{part}\"")
                    } else {
                        format!(
                            "\"{written}\" has no element \"{part}\": give an index from 0 to {}",
                            n - 1
                        )
                    });
                };
                if last {
                    return Err(format!(
                        "\"{path}\" names a whole element; name a field in it"
                    ));
                }
                at.push_str(&format!("[{pos}]"));
                &mut items[pos]
            }
            other => {
                let kind = match other {
                    Json::Null => "null",
                    Json::Bool(_) => "a boolean",
                    Json::Number(_) => "a number",
                    _ => "a string",
                };
                return Err(format!(
                    "\"{written}\" is {kind} in the Graph file, not an object: it has no field \"{part}\""
                ));
            }
        };
    }
    Ok(at)
}

/// Whether field path `path` is `field` or inside it (`a.b[0].c` is inside `a.b`).
fn is_under(path: &str, field: &str) -> bool {
    path.strip_prefix(field)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Whether a problem at field path `path` is in what an edit at `field` wrote: in the value, or
/// at a key on the way to it that the edit added (`in_file`: whether the file as written has a
/// value at `path`), such as a misspelt table name.
pub(crate) fn edited(path: &str, field: &str, in_file: impl FnOnce(&str) -> bool) -> bool {
    is_under(path, field) || is_under(field, path) && !in_file(path)
}

/// Parses `PATH=VALUE` as given on the command line: VALUE is read as a TOML value (`50000`,
/// `true`, `"text"`, `[1, 2]`), and anything that is not one is taken as a string, so
/// `simulation.horizon=P90D` needs no quotes.
pub fn parse_assignment(s: &str) -> Option<(String, toml::Value)> {
    let (path, value) = s.split_once('=')?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return None;
    }
    let value = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    Some((path.to_string(), parsed))
}

impl Scenario {
    /// Loads a scenario file with `sets` (`PATH=VALUE`, see [`parse_assignment`]) applied
    /// first; also returns the text that was validated (the file itself when `sets` is empty,
    /// else the file with the values edited in place). Problems are located in the file as
    /// written; one in a value that a `--set` gave names that option instead of a line.
    pub fn load_with(path: &Path, sets: &[String]) -> Result<(Scenario, Vec<u8>), Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let shown = path.display().to_string();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = path.parent().unwrap_or(Path::new("."));
        if sets.is_empty() {
            let sc = Scenario::parse(&text, &shown, &stem, base)?;
            return Ok((sc, text.into_bytes()));
        }
        let problem = |path: &str, message: String| {
            Error::Input(InputError {
                file: shown.clone(),
                problems: vec![Problem {
                    line: 0,
                    column: 0,
                    path: path.to_string(),
                    message,
                }],
            })
        };
        let mut doc: DocumentMut = match text.parse() {
            Ok(doc) => doc,
            // The file itself is broken: the ordinary loader says where.
            Err(e) => {
                return Err(Scenario::parse(&text, &shown, &stem, base)
                    .err()
                    .unwrap_or_else(|| {
                        problem("", format!("cannot be edited by --set: {}", e.message()))
                    }));
            }
        };
        // The field each --set wrote in the TOML, with the option.
        let mut given: Vec<(String, &str)> = Vec::new();
        let mut bodies = Vec::new();
        for s in sets {
            let (p, v) = parse_assignment(s).ok_or_else(|| {
                problem(
                    "--set",
                    format!("must be PATH=VALUE (e.g. simulation.horizon=P90D), found \"{s}\""),
                )
            })?;
            match set_path(&mut doc, &p, &v).map_err(|m| problem(&format!("--set {s}"), m))? {
                Target::Toml(field) => given.push((field, s)),
                Target::Body { field, path } => {
                    // JSON has no nan or inf: the value would read as not given.
                    if let Some((_, f)) = super::graph::non_finite("", &v).first() {
                        return Err(problem(
                            &format!("--set {s}"),
                            format!(
                                "must be a finite number, found {}",
                                super::graph::toml_float(*f)
                            ),
                        ));
                    }
                    bodies.push(BodySet {
                        field,
                        path,
                        value: super::graph::toml_to_json(&v),
                        origin: Some(format!("--set {s}")),
                    })
                }
            }
        }
        let changed = doc.to_string();
        let c = super::Checker {
            bodies,
            set_fields: given.iter().map(|(f, _)| f.clone()).collect(),
            ..super::Checker::default()
        };
        match Scenario::parse_checked(&changed, &shown, &stem, base, c) {
            Ok(mut sc) => {
                let (file, now) = (Locator::new(&text), Locator::new(&changed));
                super::locate_warnings(&mut sc.warnings, &shown, false, |p| {
                    match given.iter().any(|(f, _)| edited(p, f, |at| file.has(at))) {
                        // A warning about a value --set gave has no line in the file.
                        true => (0, 0),
                        false => in_file(&file, &now, p, now.position(p)),
                    }
                });
                Ok((sc, changed.into_bytes()))
            }
            // Problems of the scenario itself (not of a Graph body or inventory it reads).
            Err(Error::Input(mut e)) if e.file == shown => {
                let (file, now) = (Locator::new(&text), Locator::new(&changed));
                for p in &mut e.problems {
                    let set = given
                        .iter()
                        .rev()
                        .find(|(f, _)| edited(&p.path, f, |at| file.has(at)));
                    match set {
                        Some((_, s)) => {
                            (p.line, p.column) = (0, 0);
                            p.message = format!("{} (from --set {s})", p.message);
                        }
                        None if p.line > 0 => {
                            (p.line, p.column) = in_file(&file, &now, &p.path, (p.line, p.column));
                        }
                        None => {}
                    }
                }
                e.problems.sort_by_key(|p| (p.line, p.column));
                Err(Error::Input(e))
            }
            Err(e) => Err(e),
        }
    }
}

/// Where the place `at` of field `path` in the edited text `now` is in the `file` as written: the
/// same place relative to the field's value (a misspelt key is reported at the key, before its
/// value), or the field's value when the edit added it.
fn in_file(file: &Locator, now: &Locator, path: &str, at: (usize, usize)) -> (usize, usize) {
    match (now.span_and_depth(path), file.span_and_depth(path)) {
        (Some((n, dn)), Some((f, df))) if dn == df => {
            let from = now.offset(at.0, at.1) as isize - n.start as isize;
            file.line_col((f.start as isize + from).max(0) as usize)
        }
        _ => file.position(path),
    }
}

/// The scenario text as run: `text` (the file, or the file with `--set` applied) with `seed`
/// written as `simulation.seed` and, when the fleet was rescaled (`--devices`), `sc`'s device
/// counts written into each `[[segments]]` entry (in place of its `share`), so the copy in a run's
/// output folder (shown by report.html) loads back to what ran. `note` (the options that changed
/// it; empty: none did, and the text is returned as it is) heads the text as a comment; the rest
/// is the file's text, comments and all, with only those values changed.
pub fn as_run(text: &[u8], note: &str, seed: Option<u64>, rescaled: Option<&Scenario>) -> Vec<u8> {
    if note.is_empty() {
        return text.to_vec();
    }
    let mut head = format!("# as run with {}\n", note.replace(['\n', '\r'], " "));
    let doc = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<DocumentMut>().ok());
    let Some(mut doc) = doc.filter(|_| seed.is_some() || rescaled.is_some()) else {
        return [head.as_bytes(), text].concat();
    };
    // What cannot be written as TOML is still named in the heading comment.
    let mut unwritten = Vec::new();
    if let Some(seed) = seed {
        match i64::try_from(seed) {
            Ok(v) => {
                let _ = set_path(&mut doc, "simulation.seed", &toml::Value::Integer(v));
            }
            Err(_) => unwritten.push(format!("seed {seed} does not fit a TOML integer")),
        }
    }
    if let Some(sc) = rescaled
        && !write_devices(&mut doc, sc)
    {
        unwritten.push(format!(
            "the fleet was rescaled to {} devices, which this file cannot show",
            sc.devices()
        ));
    }
    for u in unwritten {
        head.push_str(&format!("# note: {u}\n"));
    }
    format!("{head}{doc}").into_bytes()
}

/// Writes `sc`'s device counts into the segments of `doc` (and `[fleet] devices`, when given);
/// false when the file's segments are not `sc`'s (an inventory adds segments the file does not
/// list). A segment's `devices = N` takes the place and comment of its `share` (or `devices`).
fn write_devices(doc: &mut DocumentMut, sc: &Scenario) -> bool {
    let counts: Vec<i64> = sc.segments.iter().map(|s| s.devices.into()).collect();
    match doc.get_mut("segments") {
        Some(Item::ArrayOfTables(items)) if items.len() == counts.len() => {
            for (t, &n) in items.iter_mut().zip(&counts) {
                let (old, order) = devices_in_place(t.iter().map(|(k, _)| k));
                let value = with_decor(n, t.get(old).and_then(Item::as_value));
                let key = devices_key(t.key(old));
                t.remove("share");
                t.remove("devices");
                t.insert_formatted(&key, value.into());
                t.sort_values_by(|a, _, b, _| rank(&order, a).cmp(&rank(&order, b)));
            }
        }
        Some(Item::Value(Value::Array(items)))
            if items.len() == counts.len() && items.iter().all(Value::is_inline_table) =>
        {
            for (t, &n) in items
                .iter_mut()
                .filter_map(Value::as_inline_table_mut)
                .zip(&counts)
            {
                let (old, order) = devices_in_place(t.iter().map(|(k, _)| k));
                let value = with_decor(n, t.get(old));
                let key = devices_key(t.key(old));
                t.remove("share");
                t.remove("devices");
                t.insert_formatted(&key, value);
                t.sort_values_by(|a, _, b, _| rank(&order, a).cmp(&rank(&order, b)));
            }
        }
        _ => return false,
    }
    let total = sc.devices().min(i64::MAX as u64) as i64;
    if let Some(f) = doc.get_mut("fleet").and_then(Item::as_table_like_mut)
        && let Some(Item::Value(old)) = f.get_mut("devices")
    {
        *old = with_decor(total, Some(old));
    }
    true
}

/// For a segment with `keys`: the key its device count replaces (`devices` when written, else
/// `share`), and the order of its keys with `devices` in that key's place.
fn devices_in_place<'k>(keys: impl Iterator<Item = &'k str>) -> (&'static str, Vec<String>) {
    let keys: Vec<&str> = keys.collect();
    let old = if keys.contains(&"devices") {
        "devices"
    } else {
        "share"
    };
    let order = keys
        .iter()
        .filter(|&&k| k != "devices" || old == "devices")
        .map(|&k| if k == old { "devices" } else { k }.to_string())
        .collect();
    (old, order)
}

/// Where `key` comes in `order` (a key not in it, last: a new `devices` follows the others).
fn rank(order: &[String], key: &Key) -> usize {
    order
        .iter()
        .position(|o| o == key.get())
        .unwrap_or(usize::MAX)
}

/// The key `devices`, indented as the key it replaces.
fn devices_key(old: Option<&Key>) -> Key {
    let key = Key::new("devices");
    match old {
        Some(k) => key.with_leaf_decor(k.leaf_decor().clone()),
        None => key,
    }
}

/// Integer `n` with the spaces and comment of the value it replaces.
fn with_decor(n: i64, old: Option<&Value>) -> Value {
    let mut v = Value::from(n);
    if let Some(old) = old {
        *v.decor_mut() = old.decor().clone();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(doc: &mut DocumentMut, path: &str, value: toml::Value) -> Result<Target, String> {
        set_path(doc, path, &value)
    }

    #[test]
    fn a_path_selects_array_elements_by_name_and_creates_tables() {
        let mut doc: DocumentMut = "[[deployments]]\nname = \"a\"\n[[deployments]]\nname = \"b\"\n"
            .parse()
            .unwrap();
        let at = set(
            &mut doc,
            "deployments.b.settings.schedule.gradualRollout.devicesPerOffer",
            toml::Value::Integer(5),
        )
        .unwrap();
        assert_eq!(
            at,
            Target::Toml("deployments[1].settings.schedule.gradualRollout.devicesPerOffer".into())
        );
        assert_eq!(
            doc.to_string(),
            "[[deployments]]\nname = \"a\"\n[[deployments]]\nname = \"b\"\nsettings.schedule.gradualRollout.devicesPerOffer = 5\n"
        );
        let e = set(&mut doc, "deployments.c.name", toml::Value::Integer(1)).unwrap_err();
        assert!(e.contains("no element named \"c\""), "{e}");
    }

    #[test]
    fn a_missing_element_of_an_empty_or_unnamed_list_is_told_with_the_indexes_there_are() {
        let mut doc: DocumentMut = "rules = []\nitems = [{ x = 1 }, { x = 2 }]\n"
            .parse()
            .unwrap();
        let e = set(&mut doc, "rules.3.threshold", toml::Value::Integer(5)).unwrap_err();
        assert_eq!(e, "\"rules\" is an empty list: it has no element \"3\"");
        let e = set(&mut doc, "items.2.x", toml::Value::Integer(5)).unwrap_err();
        assert_eq!(
            e,
            "\"items\" has no element \"2\": its 2 elements have no names; give an index from 0 to 1"
        );
    }

    #[test]
    fn an_edit_keeps_the_comments_the_order_and_the_comment_after_a_value() {
        let text = "# Question: how long?\n\n[simulation]\nhorizon = \"P30D\"   # a month\n\n# The fleet.\n[fleet]\ndevices = 100\n\n[[segments]]\nname = \"a\"\navailability = { profile = \"office\" }\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        set(&mut doc, "simulation.horizon", "P10D".into()).unwrap();
        set(&mut doc, "simulation.seed", toml::Value::Integer(7)).unwrap();
        set(&mut doc, "segments.a.availability.start", "08:00".into()).unwrap();
        set(&mut doc, "safety.signal_delay", "PT1H".into()).unwrap();
        assert_eq!(
            doc.to_string(),
            "# Question: how long?\n\n[simulation]\nhorizon = \"P10D\"   # a month\nseed = 7\n\n# The fleet.\n[fleet]\ndevices = 100\n\n[[segments]]\nname = \"a\"\navailability = { profile = \"office\", start = \"08:00\" }\n\n[safety]\nsignal_delay = \"PT1H\"\n"
        );
    }

    #[test]
    fn a_path_through_a_value_that_is_not_a_table_says_what_it_is() {
        let mut doc: DocumentMut = "[simulation]\nhorizon = \"P30D\"\n".parse().unwrap();
        let e = set(&mut doc, "simulation.horizon.days", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(
            e,
            "\"simulation.horizon\" is a string, not a table: it has no field \"days\""
        );
    }

    #[test]
    fn settings_of_a_deployment_with_a_graph_body_are_set_in_the_body() {
        let text = "[[deployments]]\nname = \"x\"\ngraph = \"body.json\"\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        let at = set(
            &mut doc,
            "deployments.x.settings.userExperience.daysUntilForcedReboot",
            toml::Value::Integer(1),
        )
        .unwrap();
        assert_eq!(
            at,
            Target::Body {
                field: "deployments[0].graph".into(),
                path: "settings.userExperience.daysUntilForcedReboot".into()
            }
        );
        assert_eq!(doc.to_string(), text, "the TOML is unchanged");
        // The file itself is still a TOML value.
        assert_eq!(
            set(&mut doc, "deployments.x.graph", "other.json".into()).unwrap(),
            Target::Toml("deployments[0].graph".into())
        );
    }

    #[test]
    fn a_json_path_sets_objects_by_key_and_arrays_by_index() {
        let mut body: serde_json::Value = serde_json::from_str(
            r#"{"settings": {"monitoring": {"monitoringRules": [{"threshold": 5}]}}}"#,
        )
        .unwrap();
        let at = set_json(
            &mut body,
            "settings.monitoring.monitoringRules.0.threshold",
            &serde_json::json!(10),
        )
        .unwrap();
        assert_eq!(at, "settings.monitoring.monitoringRules[0].threshold");
        let at = set_json(
            &mut body,
            "settings.userExperience.daysUntilForcedReboot",
            &serde_json::json!(1),
        )
        .unwrap();
        assert_eq!(at, "settings.userExperience.daysUntilForcedReboot");
        assert_eq!(
            body,
            serde_json::json!({"settings": {"monitoring": {"monitoringRules": [{"threshold": 10}]}, "userExperience": {"daysUntilForcedReboot": 1}}})
        );
        let e = set_json(
            &mut body,
            "settings.monitoring.monitoringRules.1.threshold",
            &serde_json::json!(1),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "\"settings.monitoring.monitoringRules\" has no element \"1\": give an index from 0 to 0"
        );
        let e = set_json(
            &mut body,
            "settings.userExperience.daysUntilForcedReboot.x",
            &serde_json::json!(1),
        )
        .unwrap_err();
        assert!(
            e.contains("is a number in the Graph file, not an object"),
            "{e}"
        );
    }

    #[test]
    fn a_problem_is_an_edits_in_the_value_it_wrote_or_at_a_key_it_added() {
        let nowhere = |_: &str| false;
        assert!(edited("a.b", "a.b", nowhere));
        assert!(edited("a.b.c", "a.b", nowhere));
        assert!(edited("a.b[0].c", "a.b", nowhere));
        assert!(!edited("a.bc", "a.b", nowhere));
        // A key on the way that the file has is the file's; one the edit added is the edit's.
        assert!(!edited("a", "a.b", |p| p == "a"));
        assert!(edited("a.typo", "a.typo.b", |p| p == "a"));
    }

    #[test]
    fn the_copy_as_run_writes_devices_in_place_of_shares_and_the_seed_in_simulation() {
        let text = "# Question: which?\n[simulation]\nname = \"x\"\nstart = \"2026-01-13T00:00:00Z\"\nhorizon = \"P1D\"\n\n[fleet]\ndevices = 100   # total\n\n[[segments]]\nname = \"a\"\nshare = 0.7   # most\nutc_offset = \"+00:00\"\n\n[[segments]]\nname = \"b\"\nshare = 0.3\n\n[[deployments]]\nname = \"q\"\ncontent = { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-12\" }\n";
        let mut sc = Scenario::parse(text, "t.toml", "t", Path::new(".")).unwrap();
        sc.scale_devices(10);
        let copy = as_run(text.as_bytes(), "--seed 3 --devices 10", Some(3), Some(&sc));
        let copy = String::from_utf8(copy).unwrap();
        assert_eq!(
            copy,
            "# as run with --seed 3 --devices 10\n# Question: which?\n[simulation]\nname = \"x\"\nstart = \"2026-01-13T00:00:00Z\"\nhorizon = \"P1D\"\nseed = 3\n\n[fleet]\ndevices = 10   # total\n\n[[segments]]\nname = \"a\"\ndevices = 7   # most\nutc_offset = \"+00:00\"\n\n[[segments]]\nname = \"b\"\ndevices = 3\n\n[[deployments]]\nname = \"q\"\ncontent = { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-12\" }\n"
        );
        // Segments written as a list of inline tables, before the first table.
        let inline = "segments = [{ name = \"a\", share = 0.7, utc_offset = \"+00:00\" }, { name = \"b\", share = 0.3 }]\n[simulation]\nname = \"x\"\n";
        let copy =
            String::from_utf8(as_run(inline.as_bytes(), "--devices 10", None, Some(&sc))).unwrap();
        assert!(
            copy.contains("{ name = \"a\", devices = 7, utc_offset = \"+00:00\" }, { name = \"b\", devices = 3 }"),
            "{copy}"
        );
        assert_eq!(as_run(text.as_bytes(), "", None, None), text.as_bytes());
        // A line break in an option's value cannot end the heading comment.
        let copy = as_run(text.as_bytes(), "--set a=\"x\ny\"", None, None);
        assert!(copy.starts_with(b"# as run with --set a=\"x y\"\n# Question"));
    }

    #[test]
    fn a_command_line_value_is_toml_or_else_a_string() {
        let (p, v) = parse_assignment("simulation.horizon=P90D").unwrap();
        assert_eq!(p, "simulation.horizon");
        assert_eq!(v, toml::Value::String("P90D".into()));
        let (_, v) = parse_assignment("fleet.devices = 5000").unwrap();
        assert_eq!(v, toml::Value::Integer(5000));
        let (_, v) = parse_assignment("a.b=\"x y\"").unwrap();
        assert_eq!(v, toml::Value::String("x y".into()));
        assert!(parse_assignment("no-equals-sign").is_none());
        assert!(parse_assignment("a..b=1").is_none());
    }

    #[test]
    fn a_set_of_a_graph_body_value_that_is_not_finite_is_refused_naming_the_option() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("d.json"),
            r##"{"content": {"@odata.type": "expeditedQualityUpdateReference", "releaseDate": "2026-03-02"}, "settings": {"userExperience": {"daysUntilForcedReboot": 2}}}"##,
        )
        .expect("write");
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "[simulation]\nstart = \"2026-03-02T14:00:00Z\"\nhorizon = \"P7D\"\n\n[[segments]]\nname = \"pcs\"\ndevices = 20\n\n[[deployments]]\nname = \"x\"\ngraph = \"d.json\"\n",
        )
        .expect("write");
        let set = "deployments.x.settings.userExperience.daysUntilForcedReboot=nan".to_string();
        let err = Scenario::load_with(&file, std::slice::from_ref(&set))
            .expect_err("nan")
            .to_string();
        assert!(
            err.ends_with(&format!("--set {set}: must be a finite number, found nan")),
            "{err}"
        );
        let ok = set.replace("nan", "3");
        Scenario::load_with(&file, &[ok]).expect("a finite value loads");
    }
}
