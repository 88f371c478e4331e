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
//! compare as `ids::id_key` says: a GUID in any case or braces is one id.

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
            // An export is the service's own output: a property rollsim does not know is most
            // likely one Graph added since, not a typo, and must not stop a real export from
            // loading. Told once per property, not once per entry of a long export.
            _ if in_file => {
                let told = format!("unknown property \"{k}\" of a catalog entry");
                if !c.warnings.iter().any(|w| w.contains(&told)) {
                    c.warnings.push(format!(
                        "{}: {told} is ignored (rollsim reads {}); if Graph added it since, this is harmless",
                        join(path, k),
                        ENTRY_KEYS.join(", ")
                    ));
                }
                continue;
            }
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
    // An export with `$expand=productRevisions` says which revisions are hotpatches
    // (deployment-service.md §4, `productRevision.isHotpatchUpdate`): an update none of whose
    // revisions is one is a baseline, which restarts its devices whatever the deployment asks.
    // Only whether each revision is a hotpatch is kept.
    if in_file && let Some(v) = get(m, "productRevisions") {
        match v.as_array() {
            Some(revs) => {
                let flags = revs
                    .iter()
                    .map(|r| {
                        let hot = r.get("isHotpatchUpdate").and_then(Value::as_bool);
                        serde_json::json!({ "isHotpatchUpdate": hot.unwrap_or(false) })
                    })
                    .collect();
                props.insert("productRevisions".into(), Value::Array(flags));
            }
            None => c.fail(
                join(path, "productRevisions"),
                format!(
                    "must be an array of productRevision objects (as $expand=productRevisions returns them), found {}",
                    shown(v)
                ),
            ),
        }
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
        let json = super::graph::toml_to_json_checked(c, &path, v);
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
    c.first_standalone_error(path)?;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::client::Category;
    use crate::error::{Error, InputError};
    use crate::scenario::Scenario;

    const FEATURE_ID: &str = "f341705b-0b15-4ce3-aaf2-6a1681d78606";
    const QUALITY_ID: &str = "bd9554dc-2737-4e3c-b794-fa2b8b3f4a30";

    /// A scenario starting 2026-01-12 whose deployments `f` and `q` name a feature and a quality
    /// entry by id alone, as Graph documents it; `more` is TOML spliced in after them.
    fn by_id(feature_id: &str, quality_id: &str, more: &str) -> String {
        format!(
            r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P10D"

[[segments]]
name = "office"
devices = 10

[[deployments]]
name = "f"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.catalogContent", catalogEntry = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateCatalogEntry", id = "{feature_id}" }} }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.catalogContent", catalogEntry = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry", id = "{quality_id}" }} }}
{more}"##
        )
    }

    fn table() -> String {
        format!(
            r##"
[catalog."{FEATURE_ID}"]
version = "Windows 11, version 24H2"
releaseDateTime = 2026-01-13T18:00:00Z

[catalog."{QUALITY_ID}"]
"@odata.type" = "qualityUpdateCatalogEntry"
releaseDateTime = "2026-01-15T00:00:00Z"
deployableUntilDateTime = "2026-01-20T00:00:00Z"
qualityUpdateClassification = "nonSecurity"
"##
        )
    }

    fn parse_in(dir: &Path, text: &str) -> Result<Scenario, Error> {
        Scenario::parse(text, "t.toml", "t", dir)
    }

    fn parse(text: &str) -> Result<Scenario, Error> {
        parse_in(Path::new("."), text)
    }

    fn error(text: &str) -> InputError {
        match parse(text) {
            Err(Error::Input(e)) => e,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn a_body_naming_entries_by_id_alone_takes_version_release_and_more_from_the_catalog() {
        let sc = parse(&by_id(FEATURE_ID, QUALITY_ID, &table())).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
        let f = &sc.contents[sc.deployments[0].content as usize];
        assert_eq!(f.category, Category::Feature);
        assert_eq!(f.name, "Windows feature update Windows 11, version 24H2");
        assert_eq!(f.release, 42 * 3600, "2026-01-13T18:00:00Z");
        let q = &sc.contents[sc.deployments[1].content as usize];
        assert_eq!(q.category, Category::Quality);
        assert_eq!(q.release, 3 * 86_400, "released on day 3");
        assert!(!q.security, "the catalog's nonSecurity classification");
        assert_eq!(sc.deployments[1].deployable_until, Some(8 * 86_400));
    }

    #[test]
    fn an_id_matches_its_entry_in_any_case_and_with_or_without_braces() {
        let upper = format!("{{{}}}", FEATURE_ID.to_uppercase());
        let sc = parse(&by_id(&upper, &QUALITY_ID.to_uppercase(), &table())).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
        assert_eq!(sc.contents[0].category, Category::Feature);
    }

    #[test]
    fn a_property_the_body_and_the_catalog_both_give_must_agree_and_the_error_names_both_places() {
        let text = by_id(FEATURE_ID, QUALITY_ID, &table()).replace(
            &format!("id = \"{QUALITY_ID}\""),
            &format!("id = \"{QUALITY_ID}\", releaseDateTime = \"2026-01-16T00:00:00Z\""),
        );
        let e = error(&text);
        assert_eq!(e.problems.len(), 1, "{e}");
        let p = &e.problems[0];
        assert_eq!(
            p.path,
            "deployments[1].content.catalogEntry.releaseDateTime"
        );
        assert_eq!(p.line, 16, "{e}");
        assert!(
            p.message.starts_with(&format!(
                "is \"2026-01-16T00:00:00Z\", but the catalog entry \"{QUALITY_ID}\" gives releaseDateTime = \"2026-01-15T00:00:00Z\" (catalog.{QUALITY_ID}.releaseDateTime, t.toml:24:19)"
            )),
            "{e}"
        );
    }

    #[test]
    fn instants_and_versions_agree_by_what_they_mean_not_how_they_are_written() {
        let text = by_id(FEATURE_ID, QUALITY_ID, &table())
            .replace(
                &format!("id = \"{FEATURE_ID}\""),
                &format!("id = \"{FEATURE_ID}\", version = \"24H2\", releaseDateTime = \"2026-01-13T19:00:00+01:00\""),
            )
            .replace(
                &format!("id = \"{QUALITY_ID}\""),
                // A placeholder copied from the documentation takes the catalog's value.
                &format!("id = \"{QUALITY_ID}\", releaseDateTime = \"String (timestamp)\""),
            );
        let sc = parse(&text).expect("agrees");
        assert_eq!(
            sc.contents[0].name, "Windows feature update 24H2",
            "the body's spelling"
        );
        assert_eq!(sc.contents[1].release, 3 * 86_400, "not the scenario start");
    }

    #[test]
    fn the_kind_of_entry_the_body_names_must_be_the_catalog_s() {
        // The quality entry's id under a feature body.
        let e = error(&by_id(QUALITY_ID, QUALITY_ID, &table()));
        assert_eq!(e.problems.len(), 1, "{e}");
        assert_eq!(
            e.problems[0].path,
            "deployments[0].content.catalogEntry.@odata.type"
        );
        assert!(
            e.problems[0].message.starts_with(&format!(
                "is a featureUpdateCatalogEntry, but the catalog entry \"{QUALITY_ID}\" is a qualityUpdateCatalogEntry (catalog.{QUALITY_ID}.\"@odata.type\", t.toml:23:17)"
            )),
            "{e}"
        );
    }

    #[test]
    fn an_entry_s_kind_may_be_implied_by_its_properties_but_not_by_properties_of_both_kinds() {
        // The feature entry of table() has no @odata.type: its version makes it a feature
        // entry, which a quality body cannot name.
        let e = error(&by_id(FEATURE_ID, FEATURE_ID, &table()));
        assert!(
            e.problems[0].message.contains(&format!(
                "is a featureUpdateCatalogEntry (catalog.{FEATURE_ID}.version, t.toml:19:11)"
            )),
            "{e}"
        );
        let both = format!(
            "{}\nisExpeditable = true\n",
            table().split("\n\n").next().unwrap_or("")
        );
        let e = error(&by_id(FEATURE_ID, QUALITY_ID, &both));
        assert!(
            e.to_string().contains(&format!(": catalog.{FEATURE_ID}.isExpeditable: is a property of a qualityUpdateCatalogEntry, but version (a property of a featureUpdateCatalogEntry) is given too")),
            "{e}"
        );
    }

    #[test]
    fn a_feature_entry_missing_from_the_catalog_is_told_to_add_one_with_the_closest_id() {
        let near = FEATURE_ID.replace("06", "07");
        let e = error(&by_id(&near, QUALITY_ID, &table()));
        assert_eq!(e.problems.len(), 1, "{e}");
        let p = &e.problems[0];
        assert_eq!(p.path, "deployments[0].content.catalogEntry.version");
        assert!(
            p.message.starts_with(&format!(
                "is required for a feature update entry: the body names entry \"{near}\" by its id alone, and the scenario's catalog has no entry of that id (did you mean \"{FEATURE_ID}\"?); add one: [catalog.{near}] with version"
            )),
            "{e}"
        );
        // Without any catalog the message says where a version can come from.
        let e = error(&by_id(FEATURE_ID, QUALITY_ID, ""));
        assert!(e.problems[0].message.contains("[catalog."), "{e}");
    }

    #[test]
    fn a_quality_entry_missing_from_the_catalog_is_a_warning_that_points_to_the_catalog() {
        let sc = parse(&by_id(
            FEATURE_ID,
            QUALITY_ID,
            &table().replace(QUALITY_ID, "other"),
        ))
        .expect("loads");
        assert_eq!(sc.contents[1].release, 0, "the scenario start");
        let w: Vec<&String> = sc
            .warnings
            .iter()
            .filter(|w| w.contains("no releaseDateTime"))
            .collect();
        assert_eq!(w.len(), 1, "{:?}", sc.warnings);
        assert!(
            w[0].starts_with("t.toml:16:")
                && w[0].contains(&format!(
                    "the scenario's catalog has no entry \"{QUALITY_ID}\"; give its releaseDateTime in [catalog.{QUALITY_ID}]"
                )),
            "{w:?}"
        );
    }

    #[test]
    fn a_table_entry_no_body_names_is_a_located_warning() {
        let more = format!("{}\n[catalog.spare]\nversion = \"23H2\"\n", table());
        let sc = parse(&by_id(FEATURE_ID, QUALITY_ID, &more)).expect("loads");
        assert_eq!(
            sc.warnings,
            [
                "t.toml:28:1: catalog.spare: no deployment's content names this catalog entry, so it is not used"
            ]
        );
    }

    #[test]
    fn two_spellings_of_one_id_in_the_table_are_an_error() {
        let more = format!(
            "{}\n[catalog.\"{}\"]\nversion = \"23H2\"\n",
            table(),
            FEATURE_ID.to_uppercase()
        );
        let e = error(&by_id(FEATURE_ID, QUALITY_ID, &more));
        assert!(
            e.to_string().contains(&format!(
                "is the same id as catalog.{} (GUIDs compare ignoring case and braces)",
                FEATURE_ID.to_uppercase()
            )),
            "{e}"
        );
    }

    #[test]
    fn unknown_properties_of_an_entry_are_told_with_the_graph_name() {
        let more = format!(
            "[catalog.\"{FEATURE_ID}\"]\ntype = \"feature\"\nversion = \"24H2\"\nrelease = 2026-01-13\nid = \"{FEATURE_ID}\"\n"
        );
        let e = error(&by_id(FEATURE_ID, QUALITY_ID, &more)).to_string();
        assert!(
            e.contains("type: unknown property \"type\": the kind of entry is its \"@odata.type\""),
            "{e}"
        );
        assert!(e.contains("release: unknown property \"release\" of a catalog entry (did you mean \"releaseDateTime\"?)"), "{e}");
        assert!(e.contains(".id: is the entry's key"), "{e}");
    }

    #[test]
    fn an_entry_that_may_not_be_expedited_cannot_be_by_a_body_naming_it() {
        let more = format!("{}isExpeditable = false\n", table());
        let text = by_id(FEATURE_ID, QUALITY_ID, &more).replace(
            &format!("id = \"{QUALITY_ID}\" }} }}"),
            &format!(
                "id = \"{QUALITY_ID}\" }} }}\nsettings = {{ expedite = {{ isExpedited = true }} }}"
            ),
        );
        let e = error(&text);
        assert_eq!(
            e.problems[0].path,
            "deployments[1].settings.expedite.isExpedited"
        );
    }

    const CATALOG_FILE: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#admin/windows/updates/catalog/entries",
  "value": [
    {
      "@odata.type": "#microsoft.graph.windowsUpdates.featureUpdateCatalogEntry",
      "id": "f341705b-0b15-4ce3-aaf2-6a1681d78606",
      "displayName": "Windows 11, version 24H2",
      "releaseDateTime": "2026-01-13T18:00:00Z",
      "deployableUntilDateTime": null,
      "version": "Windows 11, version 24H2",
      "buildNumber": "26100"
    },
    {
      "@odata.type": "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry",
      "id": "BD9554DC-2737-4E3C-B794-FA2B8B3F4A30",
      "displayName": "2026.01 B SecurityUpdate for Windows 10 and later",
      "releaseDateTime": "2026-01-15T00:00:00Z",
      "deployableUntilDateTime": null,
      "isExpeditable": true,
      "qualityUpdateClassification": "security",
      "qualityUpdateCadence": "monthly",
      "catalogName": "2026-01 Cumulative Update for Windows 10 and later",
      "shortName": "2026.01 B",
      "cveSeverityInformation": {"maxSeverityLevel": "critical", "maxBaseScore": 9.8, "exploitedCves": []}
    },
    {
      "@odata.type": "#microsoft.graph.windowsUpdates.driverUpdateCatalogEntry",
      "id": "5d6dede684ba5c4a731d62d9c9c2a99db12c5e6015e9f8ad00f3e9387588cd0b",
      "displayName": "Microsoft - Display - 1.0.0.1",
      "version": "1.0.0.1",
      "manufacturer": "Microsoft",
      "driverClass": "Display"
    }
  ]
}
"##;

    fn with_file(json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("catalog.json"), json).expect("catalog file");
        dir
    }

    #[test]
    fn a_catalog_file_as_the_service_returns_it_is_read_and_kept_among_the_inputs() {
        let dir = with_file(CATALOG_FILE);
        let text = by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\nfile = \"catalog.json\"\n",
        );
        let sc = parse_in(dir.path(), &text).expect("loads");
        // Entries no body names (the driver) are not warned of: an export holds them all.
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
        assert_eq!(sc.contents[0].release, 42 * 3600);
        assert_eq!(sc.contents[1].release, 3 * 86_400);
        let (copy, _) = sc.inputs_to_copy();
        assert_eq!(copy, [("catalog.json", CATALOG_FILE.as_bytes())]);
    }

    #[test]
    fn a_table_entry_is_laid_over_the_file_s_entry_of_the_same_id() {
        let dir = with_file(CATALOG_FILE);
        let more = format!(
            "[catalog]\nfile = \"catalog.json\"\n\n[catalog.\"{}\"]\nreleaseDateTime = 2026-01-17\n",
            QUALITY_ID
        );
        let sc = parse_in(dir.path(), &by_id(FEATURE_ID, QUALITY_ID, &more)).expect("loads");
        assert_eq!(sc.contents[1].release, 5 * 86_400, "the table's release");
        assert!(sc.contents[1].security, "the file's classification");
        // …but not of another kind.
        let more = format!(
            "[catalog]\nfile = \"catalog.json\"\n\n[catalog.\"{}\"]\nversion = \"24H2\"\n",
            QUALITY_ID
        );
        let e = match parse_in(dir.path(), &by_id(FEATURE_ID, QUALITY_ID, &more)) {
            Err(Error::Input(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(
            e.contains("makes the entry a featureUpdateCatalogEntry, but the catalog file gives it as a qualityUpdateCatalogEntry (value[1].\"@odata.type\""),
            "{e}"
        );
    }

    #[test]
    fn a_problem_in_a_catalog_file_is_located_in_it_and_bodies_naming_its_ids_are_told_nothing_more()
     {
        let broken = CATALOG_FILE
            .replace("\"2026-01-13T18:00:00Z\"", "\"2026-13-13\"")
            .replace("\"monthly\"", "\"weekly\"")
            .replace(
                "\"value\"",
                "\"@odata.nextLink\": \"https://graph.microsoft.com/beta/next\",\n  \"value\"",
            );
        let dir = with_file(&broken);
        let text = by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\nfile = \"catalog.json\"\n",
        );
        let e = match parse_in(dir.path(), &text) {
            Err(Error::Input(e)) => e,
            other => panic!("{other:?}"),
        };
        assert!(e.file.ends_with("catalog.json"), "{e}");
        let paths: Vec<(usize, &str)> = e
            .problems
            .iter()
            .map(|p| (p.line, p.path.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                (9, "value[0].releaseDateTime"),
                (22, "value[1].qualityUpdateCadence")
            ],
            "{e}"
        );
    }

    #[test]
    fn a_property_graph_added_to_its_entries_since_is_one_warning_not_an_error() {
        let newer = CATALOG_FILE
            .replace(
                "\"buildNumber\": \"26100\"",
                "\"buildNumber\": \"26100\",\n      \"servicingChannel\": \"general\"",
            )
            .replace(
                "\"shortName\": \"2026.01 B\",",
                "\"shortName\": \"2026.01 B\",\n      \"servicingChannel\": \"general\",",
            );
        let dir = with_file(&newer);
        let text = by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\nfile = \"catalog.json\"\n",
        );
        let sc = parse_in(dir.path(), &text).expect("loads");
        assert_eq!(sc.warnings.len(), 1, "{:?}", sc.warnings);
        assert!(
            sc.warnings[0].contains("servicingChannel: unknown property \"servicingChannel\" of a catalog entry is ignored"),
            "{:?}",
            sc.warnings
        );
    }

    #[test]
    fn a_catalog_file_with_a_next_link_is_warned_of_the_pages_it_lacks() {
        let paged = CATALOG_FILE.replace(
            "\"value\"",
            "\"@odata.nextLink\": \"https://graph.microsoft.com/beta/next\",\n  \"value\"",
        );
        let dir = with_file(&paged);
        let text = by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\nfile = [\"catalog.json\"]\n",
        );
        let sc = parse_in(dir.path(), &text).expect("loads");
        assert_eq!(sc.warnings.len(), 1, "{:?}", sc.warnings);
        assert!(
            sc.warnings[0].contains(
                "catalog.json:3:3: @odata.nextLink: the service had more entries on further pages"
            ),
            "{:?}",
            sc.warnings
        );
    }

    #[test]
    fn a_catalog_file_that_cannot_be_read_is_an_error_at_the_field_naming_it() {
        let e = error(&by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\nfile = \"missing.json\"\n",
        ));
        assert_eq!(
            e.problems.len(),
            1,
            "only the file, not the ids it might hold: {e}"
        );
        assert_eq!(e.problems[0].path, "catalog.file");
        assert!(
            e.problems[0]
                .message
                .starts_with("cannot read catalog file"),
            "{e}"
        );
    }

    #[test]
    fn a_catalog_file_is_validated_on_its_own_and_a_body_naming_a_feature_entry_by_id_too() {
        let dir = with_file(CATALOG_FILE);
        let (what, warnings) =
            crate::scenario::deployment::validate_graph_file(&dir.path().join("catalog.json"))
                .expect("valid");
        assert_eq!(
            what,
            "catalog: 3 entries: 1 driver (not simulated), 1 feature, 1 quality"
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let body = dir.path().join("body.json");
        std::fs::write(
            &body,
            format!(
                r##"{{"content": {{"@odata.type": "#microsoft.graph.windowsUpdates.catalogContent", "catalogEntry": {{"@odata.type": "#microsoft.graph.windowsUpdates.featureUpdateCatalogEntry", "id": "{FEATURE_ID}"}}}}}}"##
            ),
        )
        .expect("body");
        let (what, warnings) =
            crate::scenario::deployment::validate_graph_file(&body).expect("valid");
        assert!(
            what.starts_with(&format!(
                "deployment body: feature update of catalog entry {FEATURE_ID}"
            )),
            "{what}"
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_catalog_that_is_no_table_says_how_to_write_one() {
        let e = error(&by_id(
            FEATURE_ID,
            QUALITY_ID,
            "[catalog]\n\"x\" = \"catalog.json\"\n",
        ));
        assert!(
            e.to_string().contains("t.toml:18:7: catalog.x: must be a table of the entry's Graph properties ([catalog.x] with version = …, releaseDateTime = …), found string; a catalog file is named by [catalog] file = \"catalog.json\""),
            "{e}"
        );
    }
}
