//! `[catalog]`: what the deployment service's catalog says of the entries Graph bodies name by id.
//!
//! Real deployment bodies, and Graph's own examples, name their content by catalog entry id alone
//! (`catalogContent.catalogEntry = {"@odata.type": "...featureUpdateCatalogEntry", "id": "..."}`);
//! what the entry is (a feature update's `version`, its `releaseDateTime`, until when it can be
//! deployed, whether it can be expedited) lives in the service's catalog
//! (`GET /admin/windows/updates/catalog/entries`, `deployment-service.md` §4), which a simulation
//! does not have. The scenario gives it, as `[graph_ids]` gives what Graph ids name:
//!
//! - entries written in the scenario, `[catalog."<id>"]`, with the Graph catalogEntry properties
//!   (`version`, `releaseDateTime`, `deployableUntilDateTime`, `isExpeditable`, …; the same names
//!   as in a body, so that a property moves between the two unchanged), and
//! - catalog files as that `GET` returns them (`[catalog] file = "catalog.json"`, or a list of
//!   files, one per page), so that a tenant's catalog exported once can be fed as it is.
//!
//! An entry written in the scenario is laid over the file's entry of the same id, property by
//! property: so `--set catalog.<id>.releaseDateTime=…` moves an exported release for one run.
//! A body's entry takes the catalog's properties it does not give itself; one it gives too must
//! agree (an error at the body, naming where the catalog says otherwise), as a body that says one
//! thing while the service's catalog says another is most likely a copy of another entry. Ids
//! compare as [`super::ids::id_key`] says: a GUID in any case or braces is one id.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

use super::deployment::{keep_input, version_key};
use super::graph::{
    CADENCES, CLASSIFICATIONS, FEATURE_ENTRY_KEYS, QUALITY_ENTRY_KEYS, boolean, get,
    is_placeholder, join, odata_type, shown, string, type_str,
};
use super::locate::{JsonLocator, Locator, quoted_key};
use super::{Checker, ids, suggest};
use crate::error::{InputError, Problem};
use crate::time::parse_instant;

/// `@odata.type` of a feature update entry (without `#` and namespace).
pub(crate) const FEATURE: &str = "featureUpdateCatalogEntry";
/// `@odata.type` of a quality update entry.
pub(crate) const QUALITY: &str = "qualityUpdateCatalogEntry";
/// `@odata.type` of a driver update entry: in an exported catalog, not simulated.
const DRIVER: &str = "driverUpdateCatalogEntry";

/// The properties of an entry that rollsim reads (Graph names), `@odata.type` and `id` aside.
pub(crate) const ENTRY_KEYS: [&str; 10] = [
    "displayName",
    "releaseDateTime",
    "deployableUntilDateTime",
    "version",
    "buildNumber",
    "isExpeditable",
    "qualityUpdateClassification",
    "qualityUpdateCadence",
    "catalogName",
    "shortName",
];

/// Properties a catalog response holds that rollsim does not use; accepted in a file, as an
/// export carries them.
const FILE_ONLY_KEYS: [&str; 2] = ["cveSeverityInformation", "productRevisions"];

/// Text properties of an entry, checked to be text and kept as written.
const TEXT_KEYS: [&str; 5] = [
    "displayName",
    "version",
    "buildNumber",
    "catalogName",
    "shortName",
];

/// A catalog entry, checked.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The id as written (the table's key, or the file's `id`).
    pub(crate) id: String,
    /// `featureUpdateCatalogEntry`, `qualityUpdateCatalogEntry` or `driverUpdateCatalogEntry`,
    /// declared or implied by the entry's properties; None when neither tells (the body does).
    pub(crate) kind: Option<&'static str>,
    /// The properties it gives (Graph names), valid: instants and enumerations were checked
    /// where the entry is written, so a body taking them has nothing more to report about them.
    pub(crate) props: Map<String, Value>,
    /// Where each of `props` is written, as a message names it.
    places: HashMap<String, String>,
    /// Where the entry is written.
    pub(crate) place: String,
    /// Where its kind is said (its `@odata.type`, or the property implying it).
    kind_place: String,
    /// The field path of its `[catalog."<id>"]` table, when written in the scenario: such an
    /// entry that no body names is warned of. A file's entries are not: an export holds the
    /// tenant's whole catalog, of which a scenario deploys a few.
    table: Option<String>,
    /// A body names it.
    used: Cell<bool>,
    /// Something it says was wrong (reported where it is written): a body naming it is not told
    /// what the entry lacks, as that may be what was wrong.
    pub(crate) broken: bool,
}

impl Entry {
    /// Where property `k` is written (the entry itself when it is not).
    pub(crate) fn place_of(&self, k: &str) -> &str {
        self.places.get(k).map_or(&self.place, String::as_str)
    }
}

/// The scenario's catalog, by the key of each id ([`ids::id_key`]).
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
    /// A catalog file could not be read or checked: an id missing from the catalog may be in
    /// it, so a body naming one is not told so (the file's own error says what to fix).
    failed: bool,
}

impl Catalog {
    /// The entry of id `id`, marked as used.
    fn get(&self, id: &str) -> Option<&Entry> {
        let e = &self.entries[*self.by_key.get(ids::id_key(id).as_ref())?];
        e.used.set(true);
        Some(e)
    }

    /// Warns of each entry of the scenario's `[catalog]` table that no body names: most likely
    /// a misspelt id (whose body then went without it, reported there) or a leftover.
    pub(super) fn warn_unused(&self, c: &mut Checker) {
        for e in &self.entries {
            if let Some(path) = &e.table
                && !e.used.get()
            {
                c.warnings.push(format!(
                    "{path}: no deployment's content names this catalog entry, so it is not used"
                ));
            }
        }
    }

    /// " (did you mean \"…\"?)" with the closest id of the catalog.
    fn hint(&self, id: &str) -> String {
        let ids: Vec<&str> = self.entries.iter().map(|e| e.id.as_str()).collect();
        suggest(id, &ids)
    }
}

/// What the catalog says of the entry a body names.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// No scenario to look in (`rollsim validate body.json`): an id names an entry that the
    /// scenario's catalog will give.
    NoScenario,
    /// The body names no id.
    NoId,
    /// No entry of the catalog has the id.
    Missing {
        /// The id the body names.
        id: String,
        /// A did-you-mean with the closest id of the catalog.
        hint: String,
    },
    /// The entry; its properties were laid under the body's.
    Found(&'a Entry),
    /// Nothing more to say: the body and the catalog disagree on the kind of entry, or a
    /// catalog file failed (both told already).
    Told,
}

/// Looks up the entry a body's `catalogEntry` (object `m` at `path`, of kind `body_kind`) names by
/// its `id`, and returns it with the body's properties laid over the catalog's. A property both
/// give must agree, else it is an error at the body naming the catalog's place. `catalog` is
/// None when there is no scenario to look in.
pub(crate) fn resolve<'a>(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    body_kind: Option<&str>,
    catalog: Option<&'a Catalog>,
) -> (Lookup<'a>, Option<Map<String, Value>>) {
    let Some(id) = string(c, path, m, "id") else {
        return (Lookup::NoId, None);
    };
    let Some(cat) = catalog else {
        return (Lookup::NoScenario, None);
    };
    let Some(e) = cat.get(id) else {
        if cat.failed {
            return (Lookup::Told, None);
        }
        let hint = cat.hint(id);
        return (
            Lookup::Missing {
                id: id.to_string(),
                hint,
            },
            None,
        );
    };
    if let (Some(body), Some(entry)) = (body_kind, e.kind)
        && body != entry
    {
        c.fail(
            join(path, "@odata.type"),
            format!(
                "is a {body}, but the catalog entry \"{}\" is a {entry} ({}): the body and the catalog must name the same kind of update",
                e.id, e.kind_place
            ),
        );
        return (Lookup::Told, None);
    }
    let mut merged = m.clone();
    for (k, cv) in &e.props {
        match get(m, k) {
            // A documentation placeholder in the body means "whatever the service has": the
            // catalog's value, not the scenario start it would mean without one.
            Some(bv) if bv.as_str().is_some_and(is_placeholder) => {
                merged.insert(k.clone(), cv.clone());
            }
            Some(bv) => {
                if !agree(k, bv, cv) {
                    c.fail(
                        join(path, k),
                        format!(
                            "is {}, but the catalog entry \"{}\" gives {k} = {} ({}): a body and the catalog must agree; leave it out of the body to take the catalog's, or correct one of them",
                            shown(bv),
                            e.id,
                            shown(cv),
                            e.place_of(k)
                        ),
                    );
                }
            }
            None => {
                merged.insert(k.clone(), cv.clone());
            }
        }
    }
    (Lookup::Found(e), Some(merged))
}

/// Whether a body's value `b` of property `k` says what the catalog's `cat` does: instants as
/// instants (`2026-01-13` is `2026-01-13T00:00:00Z`), feature versions by the release they name
/// (`24H2` is "Windows 11, version 24H2"), anything else as written. A body value that cannot be
/// read agrees: its own check reports it.
fn agree(k: &str, b: &Value, cat: &Value) -> bool {
    match (k, b.as_str(), cat.as_str()) {
        ("releaseDateTime" | "deployableUntilDateTime", Some(b), Some(cat)) => {
            match (parse_instant(b), parse_instant(cat)) {
                (Ok(b), Ok(cat)) => b == cat,
                _ => true,
            }
        }
        ("version", Some(b), Some(cat)) => version_key(b) == version_key(cat),
        _ => b == cat,
    }
}

/// Checks a catalog entry's properties (object `m` at `path`): known properties only, values of
/// their types, one kind of entry. `in_file`: an entry of a catalog file, which may carry the
/// properties and annotations of a service response and may be a driver entry. Returns its kind
/// (declared or implied), where that is said, and its properties; None when the entry is too
/// broken to use (reported).
fn check_entry(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    in_file: bool,
) -> Option<(Option<&'static str>, String, Map<String, Value>)> {
    // A driver entry in an export is skipped whole: its properties are a driver's (`version`
    // is a driver version), of no use here, and a body naming it is an error of its own.
    let declared_driver = m
        .get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| short(t) == DRIVER);
    if declared_driver {
        if in_file {
            return Some((
                Some(DRIVER),
                join(path, &quoted_key("@odata.type")),
                Map::new(),
            ));
        }
        c.fail(
            join(path, "@odata.type"),
            format!(
                "is a {DRIVER}: driver updates are not simulated (rollsim models quality and feature updates); expected {FEATURE} or {QUALITY}"
            ),
        );
        return None;
    }
    for k in m.keys() {
        let known = k == "@odata.type"
            || ENTRY_KEYS.contains(&k.as_str())
            || (in_file && (k == "id" || FILE_ONLY_KEYS.contains(&k.as_str()) || k.contains('@')));
        if known {
            continue;
        }
        let message = match k.as_str() {
            "id" => {
                "is the entry's key: [catalog.\"<id>\"] names the entry it describes".to_string()
            }
            "type" | "kind" => format!(
                "unknown property \"{k}\": the kind of entry is its \"@odata.type\" = \"{FEATURE}\" or \"{QUALITY}\" (optional: the body's @odata.type, or the entry's own properties, tell it)"
            ),
            _ => format!(
                "unknown property \"{k}\" of a catalog entry{}; expected one of {}",
                suggest(k, &ENTRY_KEYS),
                ENTRY_KEYS.join(", ")
            ),
        };
        c.fail(join(path, k), message);
    }
    let declared = if m.contains_key("@odata.type") {
        let t = odata_type(c, path, m, &[FEATURE, QUALITY]);
        // An unknown type was reported: nothing the entry says can be trusted to be of a kind.
        Some(if t.as_deref() == Some(FEATURE) {
            FEATURE
        } else if t.as_deref() == Some(QUALITY) {
            QUALITY
        } else {
            return None;
        })
    } else {
        None
    };
    let given = |keys: &[&'static str]| keys.iter().copied().find(|k| get(m, k).is_some());
    let (feature_key, quality_key) = (given(&FEATURE_ENTRY_KEYS), given(&QUALITY_ENTRY_KEYS));
    let (kind, kind_place) = match (declared, feature_key, quality_key) {
        (Some(k), _, _) => (Some(k), join(path, &quoted_key("@odata.type"))),
        (None, Some(f), None) => (Some(FEATURE), join(path, f)),
        (None, None, Some(q)) => (Some(QUALITY), join(path, q)),
        (None, None, None) => (None, path.to_string()),
        (None, Some(f), Some(q)) => {
            c.fail(
                join(path, q),
                format!(
                    "is a property of a {QUALITY}, but {f} (a property of a {FEATURE}) is given too: an entry is one or the other"
                ),
            );
            return None;
        }
    };
    if let Some(k) = kind {
        let (other, that) = if k == FEATURE {
            (&QUALITY_ENTRY_KEYS[..], QUALITY)
        } else {
            (&FEATURE_ENTRY_KEYS[..], FEATURE)
        };
        for o in other.iter().filter(|o| get(m, o).is_some()) {
            c.fail(
                join(path, o),
                format!("is a property of a {that}, but this entry is a {k}"),
            );
        }
    }
    let mut props = Map::new();
    for k in ["releaseDateTime", "deployableUntilDateTime"] {
        let Some(s) = string(c, path, m, k) else {
            continue;
        };
        // A placeholder copied from the documentation's example response says nothing.
        if is_placeholder(s) {
            continue;
        }
        match parse_instant(s) {
            Ok(_) => {
                props.insert(k.to_string(), Value::String(s.to_string()));
            }
            Err(e) => c.fail(join(path, k), format!("{e}, found \"{s}\"")),
        }
    }
    for k in TEXT_KEYS {
        match string(c, path, m, k) {
            Some("") if k == "version" => c.fail(
                join(path, k),
                "must not be empty: the release it names, e.g. \"Windows 11, version 24H2\"",
            ),
            Some(s) if !is_placeholder(s) => {
                props.insert(k.to_string(), Value::String(s.to_string()));
            }
            _ => {}
        }
    }
    if let Some(b) = boolean(c, path, m, "isExpeditable") {
        props.insert("isExpeditable".into(), Value::Bool(b));
    }
    for (k, allowed) in [
        ("qualityUpdateClassification", &CLASSIFICATIONS[..]),
        ("qualityUpdateCadence", &CADENCES[..]),
    ] {
        match string(c, path, m, k) {
            Some(s) if is_placeholder(s) => {}
            Some(s) if allowed.contains(&s) => {
                props.insert(k.to_string(), Value::String(s.to_string()));
            }
            Some(s) => c.fail(
                join(path, k),
                format!(
                    "must be one of {}{}, found \"{s}\"",
                    allowed.join(", "),
                    suggest(s, allowed)
                ),
            ),
            None => {}
        }
    }
    Some((kind, kind_place, props))
}

/// `@odata.type` without `#` and namespace.
fn short(t: &str) -> &str {
    t.trim_start_matches('#')
        .trim_start_matches(super::graph::NS)
}

/// Reads `[catalog]`: its `file` (one catalog file or a list of them) and its `[catalog."<id>"]`
/// entries, laid over the files' entries of the same id.
pub(super) fn load(c: &mut Checker, raw: Option<&toml::Value>, base: &Path) -> Catalog {
    let mut cat = Catalog::default();
    let Some(raw) = raw else {
        return cat;
    };
    let Some(table) = raw.as_table() else {
        c.fail(
            "catalog",
            format!(
                "must be a table: [catalog] with file = \"catalog.json\" (a GET .../catalog/entries response) and/or [catalog.\"<entry id>\"] tables of entries, found {}",
                raw.type_str()
            ),
        );
        return cat;
    };
    if let Some(f) = table.get("file") {
        let files: Vec<(String, &str)> = match f {
            toml::Value::String(s) => vec![("catalog.file".to_string(), s.as_str())],
            toml::Value::Array(a) => a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let field = format!("catalog.file[{i}]");
                    match v.as_str() {
                        Some(s) => Some((field, s)),
                        None => {
                            c.fail(
                                field,
                                format!("must be a file name, found {}", v.type_str()),
                            );
                            None
                        }
                    }
                })
                .collect(),
            other => {
                c.fail(
                    "catalog.file",
                    format!(
                        "must be a file name or a list of them (one per page of the catalog), found {}",
                        other.type_str()
                    ),
                );
                Vec::new()
            }
        };
        for (field, rel) in files {
            load_file(c, &field, base, rel, &mut cat);
        }
    }
    // Where the scenario's own entries are, for messages that name them from elsewhere (a
    // body in a JSON file that disagrees with one).
    let source = c.source.clone();
    let loc = source.as_ref().map(|(f, t)| (f.as_str(), Locator::new(t)));
    let place = |path: &str| -> String {
        match loc.as_ref().map(|(file, l)| (file, l.position(path))) {
            Some((file, (line, column))) if line > 0 => {
                format!("{path}, {file}:{line}:{column}")
            }
            _ => path.to_string(),
        }
    };
    for (key, v) in table.iter().filter(|(k, _)| *k != "file") {
        let path = format!("catalog.{}", quoted_key(key));
        if !v.is_table() {
            c.fail(
                &path,
                format!(
                    "must be a table of the entry's Graph properties ([catalog.{}] with version = …, releaseDateTime = …), found {}; a catalog file is named by [catalog] file = \"catalog.json\"",
                    quoted_key(key),
                    v.type_str()
                ),
            );
            continue;
        }
        let json = super::graph::toml_to_json(v);
        let Some(m) = json.as_object() else {
            continue;
        };
        let before = c.problems.len();
        let Some((kind, kind_path, props)) = check_entry(c, &path, m, false) else {
            continue;
        };
        let broken = c.problems.len() > before;
        let places: HashMap<String, String> = props
            .keys()
            .map(|k| (k.clone(), place(&join(&path, k))))
            .collect();
        let entry = Entry {
            id: key.clone(),
            kind,
            props,
            places,
            place: place(&path),
            kind_place: place(&kind_path),
            table: Some(path.clone()),
            used: Cell::new(false),
            broken,
        };
        let k = ids::id_key(key).into_owned();
        match cat.by_key.get(&k) {
            None => {
                cat.by_key.insert(k, cat.entries.len());
                cat.entries.push(entry);
            }
            Some(&i) => {
                let under = &mut cat.entries[i];
                if let Some(first) = &under.table {
                    c.fail(
                        &path,
                        format!(
                            "is the same id as {first} (GUIDs compare ignoring case and braces): give one entry per id"
                        ),
                    );
                    continue;
                }
                if let (Some(file_kind), Some(own)) = (under.kind, entry.kind)
                    && file_kind != own
                {
                    c.fail(
                        kind_path,
                        format!(
                            "makes the entry a {own}, but the catalog file gives it as a {file_kind} ({}): an entry written here is laid over the file's, so both must be one kind",
                            under.kind_place
                        ),
                    );
                    continue;
                }
                // Laid over the file's entry: what the scenario writes wins, the rest stays.
                if entry.kind.is_some() {
                    under.kind = entry.kind;
                    under.kind_place = entry.kind_place;
                }
                for (p, v) in entry.props {
                    under.props.insert(p, v);
                }
                under.places.extend(entry.places);
                under.place = entry.place;
                under.table = entry.table;
                under.broken |= entry.broken;
            }
        }
    }
    cat
}

/// Reads catalog file `rel` (named at scenario field `field`) into `cat`: a
/// `GET .../catalog/entries` response, `{"value": [entry, …]}`. Its problems are located in it.
fn load_file(c: &mut Checker, field: &str, base: &Path, rel: &str, cat: &mut Catalog) {
    let file = base.join(rel);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            c.fail(
                field,
                format!("cannot read catalog file \"{}\": {e}", file.display()),
            );
            cat.failed = true;
            return;
        }
    };
    // Listed before it is checked, as a Graph body is: a run's folder shows what it read.
    keep_input(c, rel, text.as_bytes());
    let shown_file = file.display().to_string();
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            c.file_errors.push(InputError {
                file: shown_file,
                problems: vec![Problem {
                    line: e.line(),
                    column: e.column(),
                    path: String::new(),
                    message: format!("malformed JSON: {e}"),
                }],
            });
            cat.failed = true;
            return;
        }
    };
    let loc = JsonLocator::new(&text);
    // The JSON path is named too: a file of hundreds of entries is easier searched by it.
    let place = |path: &str| {
        let (line, column) = loc.position(path);
        format!("{path}, {shown_file}:{line}:{column}")
    };
    let mut jc = Checker {
        json: true,
        ..Checker::default()
    };
    for (i, id, kind, kind_path, props, broken) in file_entries(&mut jc, &v) {
        let path = format!("value[{i}]");
        let k = ids::id_key(&id).into_owned();
        if let Some(&first) = cat.by_key.get(&k) {
            // Overlapping pages repeat an entry: harmless when it is the same entry.
            let e = &cat.entries[first];
            if e.kind != kind || e.props != props {
                jc.fail(
                    join(&path, "id"),
                    format!(
                        "\"{id}\" is given twice, and differently: first at {}",
                        e.place
                    ),
                );
            }
            continue;
        }
        let places = props
            .keys()
            .map(|p| (p.clone(), place(&join(&path, p))))
            .collect();
        cat.by_key.insert(k, cat.entries.len());
        cat.entries.push(Entry {
            id,
            kind,
            props,
            places,
            place: place(&path),
            kind_place: place(&kind_path),
            table: None,
            used: Cell::new(false),
            broken,
        });
    }
    super::locate_warnings(&mut jc.warnings, &shown_file, true, |p| loc.position(p));
    c.warnings.append(&mut jc.warnings);
    if !jc.problems.is_empty() {
        cat.failed = true;
        c.file_errors.push(InputError {
            file: shown_file,
            problems: super::located(jc.problems, |p| loc.position(p)),
        });
    }
}

/// The entries of a catalog response `v`, checked: (index, id, kind, where the kind is said,
/// properties, whether something of it was wrong).
type FileEntry = (
    usize,
    String,
    Option<&'static str>,
    String,
    Map<String, Value>,
    bool,
);

fn file_entries(c: &mut Checker, v: &Value) -> Vec<FileEntry> {
    let Some(m) = v.as_object() else {
        c.fail(
            "",
            format!(
                "must be a catalog response, {{\"value\": [catalog entries]}} as GET /admin/windows/updates/catalog/entries returns it, found {}",
                type_str(v)
            ),
        );
        return Vec::new();
    };
    for k in m
        .keys()
        .filter(|k| *k != "value" && !k.starts_with("@odata."))
    {
        c.fail(
            k.as_str(),
            format!(
                "unknown property \"{k}\" of a catalog response{}; expected value (the entries) and @odata annotations",
                suggest(k, &["value"])
            ),
        );
    }
    if get(m, "@odata.nextLink").is_some() {
        // Told, not failed: what a body needs may well be on this page.
        c.warnings.push(
            "@odata.nextLink: the service had more entries on further pages, which this file does not hold; an entry a body needs may be there (name each page's file: [catalog] file = [\"page1.json\", \"page2.json\"])".to_string(),
        );
    }
    let Some(list) = get(m, "value") else {
        c.fail(
            "value",
            "is required: the list of catalog entries, {\"value\": [ … ]} as GET .../catalog/entries returns it",
        );
        return Vec::new();
    };
    let Some(list) = list.as_array() else {
        c.fail(
            "value",
            format!(
                "must be an array of catalog entries, found {}",
                type_str(list)
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let path = format!("value[{i}]");
        let Some(em) = e.as_object() else {
            c.fail(
                &path,
                format!("must be a catalog entry (an object), found {}", type_str(e)),
            );
            continue;
        };
        let id = match string(c, &path, em, "id") {
            Some(id) if !id.is_empty() => id.to_string(),
            Some(_) => {
                c.fail(join(&path, "id"), "must not be empty");
                continue;
            }
            None => {
                if get(em, "id").is_none() {
                    c.fail(
                        join(&path, "id"),
                        "is required: the id bodies name the entry by",
                    );
                }
                continue;
            }
        };
        let before = c.problems.len();
        if let Some((kind, kind_path, props)) = check_entry(c, &path, em, true) {
            out.push((i, id, kind, kind_path, props, c.problems.len() > before));
        }
    }
    out
}

/// What `rollsim validate catalog.json` says of a catalog file: how many entries of each kind.
pub(crate) fn describe_file(path: &Path) -> Result<(String, Vec<String>), crate::Error> {
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = path.file_name().map(Path::new).unwrap_or(path);
    let mut c = Checker::default();
    let cat = {
        let mut cat = Catalog::default();
        load_file(&mut c, "", base, &rel.display().to_string(), &mut cat);
        cat
    };
    if let Some(e) = c.file_errors.into_iter().next() {
        return Err(crate::Error::Input(e));
    }
    if let Some((_, m)) = c.problems.into_iter().next() {
        return Err(crate::Error::Input(InputError {
            file: path.display().to_string(),
            problems: vec![Problem {
                line: 0,
                column: 0,
                path: String::new(),
                message: m,
            }],
        }));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &cat.entries {
        *counts
            .entry(match e.kind {
                Some(FEATURE) => "feature",
                Some(QUALITY) => "quality",
                Some(_) => "driver (not simulated)",
                None => "of no stated kind",
            })
            .or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    Ok((
        format!(
            "catalog: {} entr{}{}{}",
            cat.entries.len(),
            if cat.entries.len() == 1 { "y" } else { "ies" },
            if parts.is_empty() { "" } else { ": " },
            parts.join(", ")
        ),
        c.warnings,
    ))
}

/// Whether JSON `v` looks like a catalog response rather than a Graph request body: a `value`
/// list and nothing a request body has.
pub(crate) fn is_catalog_response(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.contains_key("value") && m.keys().all(|k| k == "value" || k.starts_with("@odata."))
    })
}
