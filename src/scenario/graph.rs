//! Graph API objects: deployment request bodies (`POST` and `PATCH`), content,
//! `deploymentSettings` and `updateAudience` bodies, checked the same way whether they come from
//! a TOML table of the scenario or from a JSON file (`graph = "file.json"`, read as it is). Names and nesting follow
//! `reference/deployment-service.md` §1–3; both the current `deploymentSettings` shape and the
//! older `windowsDeploymentSettings` with `rollout` are accepted. `@odata.type` may be written with
//! or without the leading `#` and the `microsoft.graph.windowsUpdates.` namespace.
//!
//! Every unknown property or type is an error naming its path, with the closest valid name.
//! A `catalogEntry` named by id takes what the scenario's `[catalog]` says of the entry
//! (`catalog::resolve`) before it is checked.

use serde_json::{Map, Value};

use super::catalog::{self, Catalog, Lookup};
use super::locate::quoted_key;
use super::{Checker, suggest};
use crate::client::Category;
use crate::service::{MonitoringRule, Requested, Rollout, RuleAction, Settings, Signal};
use crate::time::{DAY, parse_duration_signed, parse_instant};

pub(super) const NS: &str = "microsoft.graph.windowsUpdates.";

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Converts a TOML value to JSON (datetimes become RFC 3339 strings).
pub(crate) fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// The numbers of TOML value `v` (at field path `path`) that are not finite (`nan`, `inf`,
/// `-inf`), with their paths: JSON cannot hold them, so [`toml_to_json`] makes them `null`, which
/// Graph reads as "not given".
pub(crate) fn non_finite(path: &str, v: &toml::Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut stack = vec![(path.to_string(), v)];
    while let Some((p, v)) = stack.pop() {
        match v {
            toml::Value::Float(f) if !f.is_finite() => out.push((p, *f)),
            toml::Value::Array(a) => stack.extend(
                a.iter()
                    .enumerate()
                    .rev()
                    .map(|(i, x)| (format!("{p}[{i}]"), x)),
            ),
            toml::Value::Table(t) => stack.extend(t.iter().rev().map(|(k, x)| (join(&p, k), x))),
            _ => {}
        }
    }
    out
}

/// A number that is not finite as TOML writes it: `nan`, `inf`, `-inf`.
pub(crate) fn toml_float(f: f64) -> String {
    match f {
        f if f.is_nan() => "nan".into(),
        f if f == f64::INFINITY => "inf".into(),
        f if f == f64::NEG_INFINITY => "-inf".into(),
        f => format!("{f}"),
    }
}

/// [`toml_to_json`] of a Graph object written in the scenario's TOML at `path`, reporting every
/// number that is not finite at its own path rather than letting it read as absent.
pub(crate) fn toml_to_json_checked(c: &mut Checker, path: &str, v: &toml::Value) -> Value {
    for (p, f) in non_finite(path, v) {
        c.fail(
            p.clone(),
            format!("must be a finite number, found {}", toml_float(f)),
        );
        c.settled.push(p);
    }
    toml_to_json(v)
}

/// JSON merge patch (RFC 7386): how `PATCH .../deployments/{id}` changes settings — objects merge,
/// `null` removes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Prepares the deployment's `current` settings for a PATCH whose `schedule.gradualRollout`
/// names another kind of rollout by its `@odata.type` than the current one (declared, or implied
/// by its properties): the object is then replaced rather than merged, as an object of another
/// derived type is another value, so a rate-driven rollout patched to a date-driven one does not
/// keep its `devicesPerOffer` and set two kinds at once.
pub(crate) fn replace_rollout_of_another_kind(current: &mut Value, patch: &Value) {
    let kind_of = |m: &Map<String, Value>| -> Option<String> {
        if let Some(t) = m.get("@odata.type").and_then(Value::as_str) {
            return Some(t.trim_start_matches('#').trim_start_matches(NS).to_string());
        }
        [
            ("devicesPerOffer", "rateDrivenRolloutSettings"),
            ("endDateTime", "dateDrivenRolloutSettings"),
            (
                "durationUntilDeploymentEnd",
                "durationDrivenRolloutSettings",
            ),
        ]
        .iter()
        .find(|(k, _)| m.get(*k).is_some_and(|v| !v.is_null()))
        .map(|(_, t)| t.to_string())
    };
    let Some(new) = patch
        .pointer("/schedule/gradualRollout")
        .and_then(Value::as_object)
        .filter(|m| m.contains_key("@odata.type"))
        .and_then(kind_of)
    else {
        return;
    };
    let Some(schedule) = current.get_mut("schedule").and_then(Value::as_object_mut) else {
        return;
    };
    let old = schedule
        .get("gradualRollout")
        .and_then(Value::as_object)
        .and_then(kind_of);
    if old.is_some_and(|old| old != new) {
        schedule.remove("gradualRollout");
    }
}

pub(super) fn type_str(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `v` as JSON for a message, cut to 60 characters. Cut by characters: the text is the user's,
/// and a cut inside a multi-byte character (`é`) would panic.
pub(super) fn shown(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(57) {
        Some((cut, _)) if s.chars().count() > 60 => format!("{}…", &s[..cut]),
        _ => s,
    }
}

/// `v` as an object whose properties are all in `allowed` (`@odata.type` is always allowed).
pub(super) fn object<'v>(
    c: &mut Checker,
    path: &str,
    v: &'v Value,
    what: &str,
    allowed: &[&str],
) -> Option<&'v Map<String, Value>> {
    let Some(m) = v.as_object() else {
        c.fail(
            path,
            format!("must be {what} (an object), found {}", type_str(v)),
        );
        return None;
    };
    for k in m.keys() {
        if k != "@odata.type" && !allowed.contains(&k.as_str()) {
            c.fail(
                join(path, k),
                format!(
                    "unknown property \"{k}\" of {what}{}; expected one of {}",
                    suggest(k, allowed),
                    allowed.join(", ")
                ),
            );
        }
    }
    Some(m)
}

/// The object's `@odata.type` without `#` and namespace, checked against `allowed`.
pub(super) fn odata_type(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    allowed: &[&str],
) -> Option<String> {
    let v = m.get("@odata.type")?;
    let Some(s) = v.as_str() else {
        c.fail(
            join(path, "@odata.type"),
            format!("must be a string, found {}", type_str(v)),
        );
        return None;
    };
    let short = s.trim_start_matches('#').trim_start_matches(NS);
    if allowed.contains(&short) {
        Some(short.to_string())
    } else {
        c.fail(
            join(path, "@odata.type"),
            format!(
                "unknown type \"{s}\"{}; expected {}{}",
                suggest(short, allowed),
                if allowed.len() > 1 { "one of " } else { "" },
                allowed.join(", ")
            ),
        );
        None
    }
}

/// [`object`] for an object of one Graph type, `ty`: a settings object nested in
/// `deploymentSettings`, whose `@odata.type` (optional, as the service infers it from the
/// property) must name that type when given.
fn typed<'v>(
    c: &mut Checker,
    path: &str,
    v: &'v Value,
    ty: &str,
    allowed: &[&str],
) -> Option<&'v Map<String, Value>> {
    let m = object(c, path, v, ty, allowed)?;
    odata_type(c, path, m, &[ty]);
    Some(m)
}

pub(super) fn get<'v>(m: &'v Map<String, Value>, k: &str) -> Option<&'v Value> {
    m.get(k).filter(|v| !v.is_null())
}

pub(super) fn string<'v>(
    c: &mut Checker,
    path: &str,
    m: &'v Map<String, Value>,
    k: &str,
) -> Option<&'v str> {
    let v = get(m, k)?;
    let s = v.as_str();
    if s.is_none() {
        c.fail(
            join(path, k),
            format!("must be a string, found {}", shown(v)),
        );
    }
    s
}

pub(super) fn boolean(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    k: &str,
) -> Option<bool> {
    let v = get(m, k)?;
    let b = v.as_bool();
    if b.is_none() {
        c.fail(
            join(path, k),
            format!("must be true or false, found {}", shown(v)),
        );
    }
    b
}

fn integer(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    k: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let v = get(m, k)?;
    match v.as_i64() {
        Some(i) if range.contains(&i) => Some(i),
        _ => {
            c.fail(
                join(path, k),
                format!(
                    "must be a whole number from {} to {}, found {}",
                    range.start(),
                    range.end(),
                    shown(v)
                ),
            );
            None
        }
    }
}

/// A positive ISO 8601 duration.
fn duration(c: &mut Checker, path: &str, m: &Map<String, Value>, k: &str) -> Option<u64> {
    let s = string(c, path, m, k)?;
    let iso = s
        .trim()
        .trim_start_matches(['-', '+'])
        .starts_with(['P', 'p']);
    if c.json && !iso {
        // Graph's durations are `Edm.Duration`, ISO 8601: the service refuses "1 day".
        c.fail(
            join(path, k),
            format!(
                "must be an ISO 8601 duration such as \"P1D\" or \"PT12H\" in a Graph body (the friendly form is read in a scenario's TOML only), found \"{s}\""
            ),
        );
        return None;
    }
    match parse_duration_signed(s) {
        Ok(d) if d > 0 => Some(d as u64),
        Ok(_) => {
            c.fail(
                join(path, k),
                format!("must be longer than zero, found \"{s}\""),
            );
            None
        }
        Err(e) => {
            c.fail(join(path, k), format!("{e}, found \"{s}\""));
            None
        }
    }
}

pub(super) fn is_placeholder(s: &str) -> bool {
    s.contains("YYYY") || s.starts_with("String (")
}

/// An instant as Unix seconds. Documentation placeholders (`"YYYY-MM-DD"`,
/// `"String (timestamp)"`) mean the scenario start, so bodies copied from the docs load as they are.
/// Whether `m` gives a real date at `k` (not missing, not a documentation placeholder).
fn dated(m: &Map<String, Value>, k: &str) -> bool {
    get(m, k)
        .and_then(Value::as_str)
        .is_some_and(|s| !is_placeholder(s))
}

fn instant(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    k: &str,
    start_unix: i64,
) -> Option<i64> {
    let s = string(c, path, m, k)?;
    if is_placeholder(s) {
        return Some(start_unix);
    }
    match parse_instant(s) {
        Ok(ts) => Some(ts.as_second()),
        Err(e) => {
            c.fail(join(path, k), format!("{e}, found \"{s}\""));
            None
        }
    }
}

/// Warns of a `startDateTime` (`t`, Unix seconds) outside the run. Before the scenario start it
/// is valid, and the deployment starts at once, but a date in the past is often a copy of an
/// older body. After the run's end (`c.horizon_unix`) it is valid too, and the service would
/// start the deployment then, but this run ends first: the deployment offers nothing, which a
/// run tells only as "scheduled at the end".
fn warn_start_outside(c: &mut Checker, path: &str, t: i64, start_unix: i64) {
    if t < start_unix {
        c.warnings.push(format!(
            "{path}: is {} before the scenario start ({}), so it is treated as starting at once",
            crate::time::fmt_span((start_unix - t) as u64),
            crate::time::format_instant(start_unix, 0)
        ));
    } else if let Some(end) = c.horizon_unix.filter(|&end| t > end) {
        c.warnings.push(format!(
            "{path}: is {} after the horizon ends ({}, {} after the scenario start), so the deployment never starts in this run and offers nothing",
            crate::time::fmt_span((t - end) as u64),
            crate::time::format_instant(end, 0),
            crate::time::fmt_span((end - start_unix).max(0) as u64)
        ));
    }
}

/// What a content object says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ContentDraft {
    pub category: Category,
    /// Release instant (Unix seconds).
    pub release_unix: i64,
    /// Feature update version.
    pub version: String,
    /// Written as `expeditedQualityUpdateReference`.
    pub expedited_type: bool,
    /// Classification `security` (or `all`).
    pub security: bool,
    /// `equivalentContent = latestSecurity`.
    pub latest_security: bool,
    /// `deployableUntilDateTime` (Unix seconds).
    pub deployable_until: Option<i64>,
    /// A quality catalog entry's `isExpeditable`, when given.
    pub expeditable: Option<bool>,
    /// A quality catalog entry's `qualityUpdateCadence = outOfBand` (not a monthly update).
    pub out_of_band: bool,
    /// A quality catalog entry lists its product revisions and none is a hotpatch
    /// (`isHotpatchUpdate`): a baseline update, which restarts its devices.
    pub baseline: bool,
    /// The id of the catalog entry the content names, when it names one.
    pub catalog_id: Option<String>,
    /// No release date was given (a `featureUpdateReference` has none): `release_unix` is the
    /// scenario start, and deferrals count from there.
    pub release_assumed: bool,
}

impl ContentDraft {
    /// Why a hotpatch cannot apply to this content (`None`: it can): only monthly security
    /// quality updates have hotpatches (deployment-service.md §2).
    pub fn hotpatch_refusal(&self) -> Option<&'static str> {
        match (self.category, self.security, self.out_of_band) {
            (Category::Feature, _, _) => Some("a feature update"),
            (Category::Quality, false, _) => Some("a nonSecurity quality update"),
            (Category::Quality, true, true) => Some("an out-of-band quality update"),
            (Category::Quality, true, false) if self.baseline => Some(
                "a baseline security update (the catalog lists its product revisions and none is a hotpatch: isHotpatchUpdate)",
            ),
            (Category::Quality, true, false) => None,
        }
    }
}

/// Content types accepted in `content."@odata.type"`.
pub(crate) const CONTENT_TYPES: [&str; 4] = [
    "featureUpdateReference",
    "qualityUpdateReference",
    "expeditedQualityUpdateReference",
    "catalogContent",
];

pub(super) const CLASSIFICATIONS: [&str; 3] = ["security", "nonSecurity", "all"];

fn classification(c: &mut Checker, path: &str, m: &Map<String, Value>, k: &str) -> bool {
    match string(c, path, m, k) {
        None => true,
        Some(s) if is_placeholder(s) => true,
        Some(s) if CLASSIFICATIONS.contains(&s) => s != "nonSecurity",
        Some(s) => {
            c.fail(
                join(path, k),
                format!(
                    "unknown classification \"{s}\"{}; expected one of {}",
                    suggest(s, &CLASSIFICATIONS),
                    CLASSIFICATIONS.join(", ")
                ),
            );
            true
        }
    }
}

/// Checks a content object (`deployment.content`). A catalog entry it names by id takes what
/// `catalog` (the scenario's `[catalog]`) says of it; None: no scenario to look in (a body checked
/// on its own), so an id stands for an entry the scenario's catalog will give.
pub(crate) fn content(
    c: &mut Checker,
    path: &str,
    v: &Value,
    start_unix: i64,
    catalog: Option<&Catalog>,
) -> ContentDraft {
    let mut d = ContentDraft {
        category: Category::Quality,
        release_unix: start_unix,
        version: String::new(),
        expedited_type: false,
        security: true,
        latest_security: true,
        deployable_until: None,
        expeditable: None,
        out_of_band: false,
        baseline: false,
        catalog_id: None,
        release_assumed: true,
    };
    let Some(m) = v.as_object() else {
        c.fail(
            path,
            format!("must be a content object, found {}", type_str(v)),
        );
        return d;
    };
    if !m.contains_key("@odata.type") {
        c.fail(
            join(path, "@odata.type"),
            format!(
                "is required: the content type, one of {}",
                CONTENT_TYPES.join(", ")
            ),
        );
        return d;
    }
    let Some(ty) = odata_type(c, path, m, &CONTENT_TYPES) else {
        return d;
    };
    match ty.as_str() {
        "featureUpdateReference" => {
            object(c, path, v, "a featureUpdateReference", &["version"]);
            d.category = Category::Feature;
            match string(c, path, m, "version") {
                Some(s) if !s.is_empty() => d.version = s.to_string(),
                _ => c.fail(
                    join(path, "version"),
                    "is required for a feature update (e.g. \"24H2\")",
                ),
            }
        }
        "qualityUpdateReference" | "expeditedQualityUpdateReference" => {
            let expedited = ty.starts_with("expedited");
            let allowed: &[&str] = if expedited {
                &[
                    "releaseDate",
                    "releaseDateTime",
                    "classification",
                    "equivalentContent",
                ]
            } else {
                &["releaseDate", "releaseDateTime", "classification"]
            };
            object(c, path, v, &format!("a {ty}"), allowed);
            d.expedited_type = expedited;
            let key = match (get(m, "releaseDateTime"), get(m, "releaseDate")) {
                (Some(_), Some(_)) => {
                    c.fail(
                        join(path, "releaseDate"),
                        "and releaseDateTime are both given: give one (they name the same release)",
                    );
                    "releaseDateTime"
                }
                (Some(_), None) => "releaseDateTime",
                (None, Some(_)) => "releaseDate",
                (None, None) => {
                    // Told, not failed: a body may leave the release to the service.
                    c.warnings.push(format!(
                        "{}: no releaseDateTime or releaseDate: the update is taken as released at the scenario start (deferrals count from there)",
                        if path.is_empty() { "content" } else { path }
                    ));
                    "releaseDateTime"
                }
            };
            d.release_assumed = !dated(m, key);
            d.release_unix = instant(c, path, m, key, start_unix).unwrap_or(start_unix);
            d.security = classification(c, path, m, "classification");
            match string(c, path, m, "equivalentContent") {
                None | Some("latestSecurity") => {}
                Some("none") => d.latest_security = false,
                Some(s) => c.fail(
                    join(path, "equivalentContent"),
                    format!(
                        "unknown value \"{s}\"{}; expected latestSecurity or none",
                        suggest(s, &["latestSecurity", "none"])
                    ),
                ),
            }
        }
        _ => {
            object(c, path, v, "a catalogContent", &["catalogEntry"]);
            let p = join(path, "catalogEntry");
            let Some(e) = get(m, "catalogEntry") else {
                c.fail(p, "is required: the catalog entry to deploy");
                return d;
            };
            catalog_entry(c, &p, e, start_unix, &mut d, catalog);
        }
    }
    d
}

fn catalog_entry(
    c: &mut Checker,
    path: &str,
    v: &Value,
    start_unix: i64,
    d: &mut ContentDraft,
    catalog: Option<&Catalog>,
) {
    const TYPES: [&str; 2] = ["featureUpdateCatalogEntry", "qualityUpdateCatalogEntry"];
    let Some(m) = object(
        c,
        path,
        v,
        "a catalog entry",
        &std::iter::once("id")
            .chain(catalog::ENTRY_KEYS)
            .collect::<Vec<_>>(),
    ) else {
        return;
    };
    let named = m.get("@odata.type").and_then(Value::as_str).unwrap_or("");
    let ty = if named.trim_start_matches('#').trim_start_matches(NS) == "driverUpdateCatalogEntry" {
        // The service deploys drivers too (deployment-service.md §5); rollsim does not model them.
        c.fail(
            join(path, "@odata.type"),
            format!(
                "\"{named}\": driver updates are not simulated (rollsim models quality and feature updates); expected one of {}",
                TYPES.join(", ")
            ),
        );
        None
    } else if m.contains_key("@odata.type") {
        odata_type(c, path, m, &TYPES)
    } else {
        c.fail(
            join(path, "@odata.type"),
            format!("is required, one of {}", TYPES.join(", ")),
        );
        None
    };
    // What the service's catalog says of the entry the body names by id (module catalog):
    // the rest of the checks read the body's properties laid over the catalog's.
    let (lookup, merged) = catalog::resolve(c, path, m, ty.as_deref(), catalog);
    let m = merged.as_ref().unwrap_or(m);
    d.catalog_id = get(m, "id").and_then(Value::as_str).map(str::to_string);
    d.release_assumed = !dated(m, "releaseDateTime");
    d.release_unix = instant(c, path, m, "releaseDateTime", start_unix).unwrap_or(start_unix);
    if get(m, "releaseDateTime").is_none() && ty.as_deref() == Some(catalog::QUALITY) {
        // Told, not failed, as for a qualityUpdateReference: the update can be simulated, but
        // its deferrals then count from the start, which is likely not what the catalog says.
        let why = match &lookup {
            Lookup::NoScenario | Lookup::Told => None,
            Lookup::Found(e) if e.broken => None,
            Lookup::NoId => Some(
                "give it in the body, or name the entry by its id and give its releaseDateTime in the scenario's [catalog]".to_string(),
            ),
            Lookup::Missing { id, hint } => Some(format!(
                "the scenario's catalog has no entry \"{id}\"{hint}; give its releaseDateTime in [catalog.{}] (or the body)",
                quoted_key(id)
            )),
            Lookup::Found(e) => Some(format!(
                "the catalog entry of this id ({}) gives none either; add releaseDateTime there",
                e.place
            )),
        };
        if let Some(why) = why {
            c.warnings.push(format!(
                "{}: no releaseDateTime: the update is taken as released at the scenario start (deferrals count from there); {why}",
                join(path, "releaseDateTime")
            ));
        }
    }
    d.deployable_until = instant(c, path, m, "deployableUntilDateTime", start_unix).filter(|_| {
        !get(m, "deployableUntilDateTime")
            .and_then(Value::as_str)
            .is_some_and(is_placeholder)
    });
    // Each kind of entry has properties of its own (deployment-service.md §4).
    let (own, other): (&[&str], &[&str]) = if ty.as_deref() == Some("featureUpdateCatalogEntry") {
        (&FEATURE_ENTRY_KEYS, &QUALITY_ENTRY_KEYS)
    } else {
        (&QUALITY_ENTRY_KEYS, &FEATURE_ENTRY_KEYS)
    };
    for k in other.iter().filter(|k| get(m, k).is_some()) {
        let (this, that) = if own == FEATURE_ENTRY_KEYS {
            ("featureUpdateCatalogEntry", "qualityUpdateCatalogEntry")
        } else {
            ("qualityUpdateCatalogEntry", "featureUpdateCatalogEntry")
        };
        c.fail(
            join(path, k),
            format!("is a property of a {that}, but this entry is a {this}"),
        );
    }
    if ty.as_deref() == Some(catalog::FEATURE) {
        d.category = Category::Feature;
        match string(c, path, m, "version") {
            Some(s) if !s.is_empty() => d.version = s.to_string(),
            found => {
                let why = match &lookup {
                    // Given by the scenario's catalog when there is one.
                    Lookup::NoScenario if found.is_none() => None,
                    Lookup::Told => None,
                    Lookup::Found(e) if e.broken => None,
                    Lookup::NoScenario | Lookup::NoId => Some(
                        "is required for a feature update entry (e.g. \"Windows 11, version 24H2\"): give it in the body, or name the entry by its id and give its version in the scenario's [catalog]".to_string(),
                    ),
                    Lookup::Missing { id, hint } => Some(format!(
                        "is required for a feature update entry: the body names entry \"{id}\" by its id alone, and the scenario's catalog has no entry of that id{hint}; add one: [catalog.{}] with version = \"Windows 11, version 24H2\" and releaseDateTime (or [catalog] file = \"catalog.json\", the entries as GET .../catalog/entries returns them)",
                        quoted_key(id)
                    )),
                    Lookup::Found(e) => Some(format!(
                        "is required for a feature update entry: the catalog entry of this id ({}) gives no version; add version there (e.g. \"Windows 11, version 24H2\")",
                        e.place
                    )),
                };
                if let Some(why) = why {
                    c.fail(join(path, "version"), why);
                }
            }
        }
    } else {
        d.security = classification(c, path, m, "qualityUpdateClassification");
        d.expeditable = boolean(c, path, m, "isExpeditable");
        let cadence = string(c, path, m, "qualityUpdateCadence");
        d.out_of_band = cadence == Some("outOfBand");
        d.baseline = get(m, "productRevisions")
            .and_then(Value::as_array)
            .is_some_and(|revs| {
                !revs.is_empty()
                    && !revs
                        .iter()
                        .any(|r| r.get("isHotpatchUpdate").and_then(Value::as_bool) == Some(true))
            });
        if let Some(s) = cadence
            && !is_placeholder(s)
            && !CADENCES.contains(&s)
        {
            c.fail(
                join(path, "qualityUpdateCadence"),
                format!(
                    "must be one of {}{}, found \"{s}\"",
                    CADENCES.join(", "),
                    suggest(s, &CADENCES)
                ),
            );
        }
    }
}

/// Properties only a `featureUpdateCatalogEntry` has.
pub(super) const FEATURE_ENTRY_KEYS: [&str; 2] = ["version", "buildNumber"];
/// Properties only a `qualityUpdateCatalogEntry` has.
pub(super) const QUALITY_ENTRY_KEYS: [&str; 5] = [
    "isExpeditable",
    "qualityUpdateClassification",
    "qualityUpdateCadence",
    "catalogName",
    "shortName",
];
/// `qualityUpdateCadence` values.
pub(super) const CADENCES: [&str; 3] = ["monthly", "outOfBand", "unknownFutureValue"];

const SETTINGS_KEYS: [&str; 6] = [
    "schedule",
    "monitoring",
    "contentApplicability",
    "expedite",
    "userExperience",
    "rollout",
];

/// Checks `deployment.settings` for content of `category` (`hotpatch_refusal`: why a hotpatch
/// cannot apply to it, [`ContentDraft::hotpatch_refusal`]; `expedited_type`: an
/// `expeditedQualityUpdateReference`).
pub(crate) fn settings(
    c: &mut Checker,
    path: &str,
    v: Option<&Value>,
    start_unix: i64,
    category: Category,
    expedited_type: bool,
    hotpatch_refusal: Option<&str>,
) -> Settings {
    let s = settings_given(
        c,
        path,
        v,
        start_unix,
        category,
        expedited_type,
        hotpatch_refusal,
    );
    if s.expedited && s.forced_reboot_after.is_none() {
        // Told, not failed: Graph accepts an expedite without it, and the fact sheets give no
        // default; rollsim takes 0, the most disruptive value, which a body copied without
        // `userExperience` should not choose in silence.
        c.warnings.push(format!(
            "{}: not given on an expedited deployment, so 0: every device's restart is forced as soon as its install ends, inside active hours or not (set 1 or 2 to give users a day or two first)",
            join(path, "userExperience.daysUntilForcedReboot")
        ));
    }
    s
}

/// [`settings`] as the body gives them.
fn settings_given(
    c: &mut Checker,
    path: &str,
    v: Option<&Value>,
    start_unix: i64,
    category: Category,
    expedited_type: bool,
    hotpatch_refusal: Option<&str>,
) -> Settings {
    let mut s = Settings {
        expedited: expedited_type,
        ..Settings::default()
    };
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return s;
    };
    let Some(m) = object(c, path, v, "deploymentSettings", &SETTINGS_KEYS) else {
        return s;
    };
    odata_type(
        c,
        path,
        m,
        &["deploymentSettings", "windowsDeploymentSettings"],
    );
    let offset = |unix: i64| (unix - start_unix).max(0) as u64;
    if let Some(sv) = get(m, "schedule") {
        let p = join(path, "schedule");
        if let Some(sm) = typed(
            c,
            &p,
            sv,
            "scheduleSettings",
            &["startDateTime", "gradualRollout"],
        ) {
            if let Some(t) = instant(c, &p, sm, "startDateTime", start_unix) {
                warn_start_outside(c, &join(&p, "startDateTime"), t, start_unix);
                s.start = offset(t);
            }
            if let Some(g) = get(sm, "gradualRollout") {
                let gp = join(&p, "gradualRollout");
                // startDateTime belongs to scheduleSettings, one level up: in here it would
                // schedule nothing.
                if let Some(gm) = object(c, &gp, g, "gradualRolloutSettings", &GRADUAL_KEYS) {
                    s.rollout = gradual(c, &gp, gm, start_unix, s.start, false);
                }
            }
        }
    }
    if let Some(rv) = get(m, "rollout") {
        let p = join(path, "rollout");
        if get(m, "schedule").is_some() {
            c.fail(
                &p,
                "cannot be combined with schedule: use schedule (current) or rollout (older windowsDeploymentSettings), not both",
            );
        }
        if let Some(rm) = object(
            c,
            &p,
            rv,
            "rolloutSettings",
            &[
                "startDateTime",
                "endDateTime",
                "devicesPerOffer",
                "durationBetweenOffers",
            ],
        ) {
            if let Some(t) = instant(c, &p, rm, "startDateTime", start_unix) {
                warn_start_outside(c, &join(&p, "startDateTime"), t, start_unix);
                s.start = offset(t);
            }
            s.rollout = gradual(c, &p, rm, start_unix, s.start, true);
        }
    }
    if let Some(mv) = get(m, "monitoring") {
        let p = join(path, "monitoring");
        if let Some(mm) = typed(c, &p, mv, "monitoringSettings", &["monitoringRules"])
            && let Some(rules) = get(mm, "monitoringRules")
        {
            let rp = join(&p, "monitoringRules");
            match rules.as_array() {
                Some(a) => {
                    for (i, r) in a.iter().enumerate() {
                        if let Some(rule) = monitoring_rule(c, &format!("{rp}[{i}]"), r, category) {
                            s.monitoring.push(rule);
                        }
                    }
                }
                None => c.fail(rp, format!("must be an array, found {}", type_str(rules))),
            }
        }
    }
    if let Some(av) = get(m, "contentApplicability") {
        let p = join(path, "contentApplicability");
        if let Some(am) = typed(
            c,
            &p,
            av,
            "contentApplicabilitySettings",
            &["offerWhileRecommendedBy", "safeguard"],
        ) {
            // Vendor names (driver updates, not modelled): no effect, but a body the service
            // would refuse is refused here too.
            if let Some(list) = get(am, "offerWhileRecommendedBy") {
                let lp = join(&p, "offerWhileRecommendedBy");
                match list.as_array() {
                    Some(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if !item.is_string() {
                                c.fail(
                                    format!("{lp}[{i}]"),
                                    format!(
                                        "must be a string (a vendor name), found {}",
                                        shown(item)
                                    ),
                                );
                            }
                        }
                    }
                    None => c.fail(
                        lp,
                        format!(
                            "must be an array of strings (vendor names), found {}",
                            shown(list)
                        ),
                    ),
                }
            }
            if let Some(sg) = get(am, "safeguard") {
                let sp = join(&p, "safeguard");
                if let Some(sgm) = typed(
                    c,
                    &sp,
                    sg,
                    "safeguardSettings",
                    &["disabledSafeguardProfiles"],
                ) && let Some(list) = get(sgm, "disabledSafeguardProfiles")
                {
                    let lp = join(&sp, "disabledSafeguardProfiles");
                    for (i, prof) in list
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .enumerate()
                    {
                        let pp = format!("{lp}[{i}]");
                        if let Some(pm) = typed(c, &pp, prof, "safeguardProfile", &["category"]) {
                            match string(c, &pp, pm, "category") {
                            Some("likelyIssues") => {
                                s.likely_issues_disabled = true;
                                if category == Category::Quality {
                                    // Told, not failed: valid Graph, but in rollsim only
                                    // feature updates have safeguard holds to disable.
                                    c.warnings.push(format!(
                                        "{}: likely-issue safeguard holds apply to feature updates only in rollsim, but the content is a quality update: no effect",
                                        join(&pp, "category")
                                    ));
                                }
                            }
                            Some(x) => c.fail(
                                join(&pp, "category"),
                                format!("unknown safeguard category \"{x}\"{}; the API can disable only likelyIssues", suggest(x, &["likelyIssues"])),
                            ),
                            None => c.fail(join(&pp, "category"), "is required (likelyIssues)"),
                        }
                        }
                    }
                    if !list.is_array() {
                        c.fail(lp, format!("must be an array, found {}", type_str(list)));
                    }
                }
            }
        }
    }
    if let Some(ev) = get(m, "expedite") {
        let p = join(path, "expedite");
        if let Some(em) = typed(
            c,
            &p,
            ev,
            "expediteSettings",
            &["isExpedited", "isReadinessTest"],
        ) {
            if let Some(b) = boolean(c, &p, em, "isExpedited") {
                if !b && expedited_type {
                    c.fail(
                        join(&p, "isExpedited"),
                        "is false, but the content is an expeditedQualityUpdateReference, which is always expedited: set true or use a qualityUpdateReference",
                    );
                }
                s.expedited = b || expedited_type;
            }
            s.readiness = boolean(c, &p, em, "isReadinessTest").unwrap_or(false);
            if s.readiness && !s.expedited {
                c.fail(
                    join(&p, "isReadinessTest"),
                    "requires isExpedited = true (the service answers 400 otherwise)",
                );
            }
        }
    }
    if s.expedited && category == Category::Feature {
        c.fail(
            join(path, "expedite.isExpedited"),
            "only quality updates can be expedited, but the content is a feature update",
        );
    }
    if let Some(uv) = get(m, "userExperience") {
        let p = join(path, "userExperience");
        if let Some(um) = typed(
            c,
            &p,
            uv,
            "userExperienceSettings",
            &[
                "daysUntilForcedReboot",
                "offerAsOptional",
                "isHotpatchEnabled",
            ],
        ) {
            s.forced_reboot_after =
                integer(c, &p, um, "daysUntilForcedReboot", 0..=30).map(|d| d as u64 * DAY);
            s.optional = boolean(c, &p, um, "offerAsOptional").unwrap_or(false);
            s.hotpatch = boolean(c, &p, um, "isHotpatchEnabled").unwrap_or(false);
            if s.hotpatch
                && let Some(found) = hotpatch_refusal
            {
                // Told, not failed: the property is valid Graph, but hotpatches exist only for
                // monthly security updates (deployment-service.md §2), and the service applies
                // none to other content: its devices restart as they would without it.
                s.hotpatch = false;
                c.warnings.push(format!(
                    "{}: applies to monthly security quality updates only, but the content is {found}: no effect (its devices restart to install it)",
                    join(&p, "isHotpatchEnabled")
                ));
            }
            if s.optional && s.expedited {
                // Told, not failed: the service accepts both, but an optional offer waits for each
                // user to take it, so the expedite only lifts the deferral; a copied body that
                // turns an emergency fix into the slowest plan should not pass unnoticed.
                c.warnings.push(format!(
                    "{}: an optional offer waits for each device's user to take it ([client] optional_uptake), so the push cannot hurry it: this expedite waits for every user and can end slower than a regular deployment with a deadline",
                    join(&p, "offerAsOptional")
                ));
            }
            if s.hotpatch && s.expedited {
                // Told, not failed: Graph sets hotpatches on automatic policies for monthly
                // security updates (deployment-service.md §2), not on an expedite, whose point is
                // the restart it forces; counting an expedite's devices as restart-free would
                // show a plan no tenant can run.
                s.hotpatch = false;
                c.warnings.push(format!(
                    "{}: an expedite restarts its devices to install the update (daysUntilForcedReboot); hotpatches apply to monthly security updates under automatic policies, not to an expedite: no effect",
                    join(&p, "isHotpatchEnabled")
                ));
            }
            if s.forced_reboot_after.is_some() && !s.expedited {
                // Told, not failed: the property is valid Graph, but rollsim knows its effect
                // only for expedites (client-timing.md §2); the policy's deadline and grace
                // decide a regular deployment's restarts.
                c.warnings.push(format!(
                    "{}: applies to expedited deployments only in rollsim; this deployment is not expedited, so its restarts follow the device policy's deadline and grace (ignored)",
                    join(&p, "daysUntilForcedReboot")
                ));
            }
        }
    }
    s
}

/// The type of the older `windowsDeploymentSettings.rollout` object.
const LEGACY_ROLLOUT_TYPE: &str = "rolloutSettings";

const ROLLOUT_TYPES: [&str; 3] = [
    "rateDrivenRolloutSettings",
    "dateDrivenRolloutSettings",
    "durationDrivenRolloutSettings",
];

/// Properties of `gradualRolloutSettings` and its three subtypes.
const GRADUAL_KEYS: [&str; 4] = [
    "durationBetweenOffers",
    "devicesPerOffer",
    "endDateTime",
    "durationUntilDeploymentEnd",
];

/// Reads a gradual rollout from an object whose property names the caller has checked (the
/// current `gradualRollout` and the older `rollout` allow different ones).
fn gradual(
    c: &mut Checker,
    path: &str,
    m: &Map<String, Value>,
    start_unix: i64,
    start: u64,
    legacy: bool,
) -> Option<Rollout> {
    let declared = if m.contains_key("@odata.type") {
        let mut allowed = ROLLOUT_TYPES.to_vec();
        if legacy {
            allowed.push(LEGACY_ROLLOUT_TYPE);
        }
        // The older shape's own type says nothing of the kind: its properties do.
        Some(odata_type(c, path, m, &allowed)?).filter(|t| t != LEGACY_ROLLOUT_TYPE)
    } else {
        None
    };
    let present: Vec<&str> = [
        ("devicesPerOffer", "rateDrivenRolloutSettings"),
        ("endDateTime", "dateDrivenRolloutSettings"),
        (
            "durationUntilDeploymentEnd",
            "durationDrivenRolloutSettings",
        ),
    ]
    .iter()
    .filter(|(k, _)| get(m, k).is_some())
    .map(|(_, t)| *t)
    .collect();
    if present.len() > 1 {
        c.fail(
            path,
            "sets two gradual-rollout kinds at once (devicesPerOffer, endDateTime, durationUntilDeploymentEnd): choose one",
        );
        return None;
    }
    let kind = match (declared, present.first()) {
        (Some(d), Some(p)) if d != *p => {
            c.fail(path, format!("is a {d} but sets the property of a {p}"));
            return None;
        }
        (Some(d), _) => d,
        (None, Some(p)) => p.to_string(),
        // Nothing set: everyone at once (a durationBetweenOffers given is still checked).
        (None, None) => {
            duration(c, path, m, "durationBetweenOffers");
            return None;
        }
    };
    let interval = duration(c, path, m, "durationBetweenOffers").unwrap_or(DAY);
    match kind.as_str() {
        "rateDrivenRolloutSettings" => {
            let k = integer(c, path, m, "devicesPerOffer", 0..=i64::from(i32::MAX))?;
            if k == 0 {
                // The service echoes devicesPerOffer 0 for "unset": everyone at once.
                return None;
            }
            Some(Rollout::Rate {
                per_offer: k as u32,
                interval,
            })
        }
        "dateDrivenRolloutSettings" => {
            // endDateTime unset means everyone at once (deployment-service.md §2), as a
            // rate-driven rollout without devicesPerOffer does.
            let end = instant(c, path, m, "endDateTime", start_unix)?;
            let end = (end - start_unix).max(0) as u64;
            if end <= start {
                c.fail(
                    join(path, "endDateTime"),
                    "must be after the deployment's start",
                );
            }
            Some(Rollout::Date {
                end,
                interval,
                from_duration: false,
            })
        }
        _ => {
            let Some(d) = duration(c, path, m, "durationUntilDeploymentEnd") else {
                c.fail(
                    join(path, "durationUntilDeploymentEnd"),
                    "is required for a duration-driven rollout",
                );
                return None;
            };
            Some(Rollout::Date {
                end: start + d,
                interval,
                from_duration: true,
            })
        }
    }
}

fn monitoring_rule(
    c: &mut Checker,
    path: &str,
    v: &Value,
    category: Category,
) -> Option<MonitoringRule> {
    let m = object(
        c,
        path,
        v,
        "a monitoringRule",
        &["signal", "threshold", "action"],
    )?;
    odata_type(c, path, m, &["monitoringRule"]);
    let signal = match string(c, path, m, "signal") {
        Some("rollback") => Some(Signal::Rollback),
        Some("ineligible") => Some(Signal::Ineligible),
        Some(s) => {
            c.fail(
                join(path, "signal"),
                format!(
                    "unknown signal \"{s}\"{}; expected rollback or ineligible",
                    suggest(s, &["rollback", "ineligible"])
                ),
            );
            None
        }
        None => {
            c.fail(join(path, "signal"), "is required (rollback or ineligible)");
            None
        }
    };
    let actions = ["alertError", "pauseDeployment", "offerFallback"];
    let action = match string(c, path, m, "action") {
        Some("alertError") => Some(RuleAction::AlertError),
        Some("pauseDeployment") => Some(RuleAction::PauseDeployment),
        Some("offerFallback") => Some(RuleAction::OfferFallback),
        Some(s) => {
            c.fail(
                join(path, "action"),
                format!(
                    "unknown action \"{s}\"{}; expected one of {}",
                    suggest(s, &actions),
                    actions.join(", ")
                ),
            );
            None
        }
        None => {
            c.fail(
                join(path, "action"),
                format!("is required, one of {}", actions.join(", ")),
            );
            None
        }
    };
    let threshold = match (get(m, "threshold"), signal) {
        (None, Some(Signal::Ineligible)) => Some(1),
        (None, _) => {
            c.fail(
                join(path, "threshold"),
                "is required: a percentage from 1 to 100",
            );
            None
        }
        _ => integer(c, path, m, "threshold", 1..=100),
    };
    if signal == Some(Signal::Ineligible) && action.is_some_and(|a| a != RuleAction::OfferFallback)
        || signal == Some(Signal::Rollback) && action == Some(RuleAction::OfferFallback)
    {
        c.fail(
            join(path, "action"),
            "offerFallback pairs only with the ineligible signal, and ineligible only with offerFallback",
        );
    }
    // The fallback is Windows 10 22H2 for devices that cannot take Windows 11; content other
    // than a feature update has nothing to fall back from. Win10 and Win11 feature updates are
    // not told apart by the model, so every feature update may carry the pair.
    if category != Category::Feature {
        let (key, found) = if signal == Some(Signal::Ineligible) {
            ("signal", "ineligible")
        } else {
            ("action", "offerFallback")
        };
        if signal == Some(Signal::Ineligible) || action == Some(RuleAction::OfferFallback) {
            c.fail(
                join(path, key),
                format!(
                    "the ineligible signal and offerFallback apply to Windows 11 feature updates only, but the content is a quality update; found \"{found}\""
                ),
            );
        }
    }
    Some(MonitoringRule {
        signal: signal?,
        threshold: threshold? as u8,
        action: action?,
    })
}

/// The parts of a `POST .../deployments` request body that rollsim reads.
#[derive(Debug, Default)]
pub(crate) struct DeploymentBody<'v> {
    pub content: Option<&'v Value>,
    pub settings: Option<&'v Value>,
    /// `state.requestedValue`.
    pub requested: Requested,
}

/// `requestedDeploymentStateValue` as the SDK lists it (deployment-service.md §1).
const REQUESTED_VALUES: [&str; 3] = ["none", "paused", "archived"];

/// Properties of `deploymentState` the service computes; a response body copied into a request
/// carries them.
const STATE_READ_ONLY: [&str; 4] = ["effectiveValue", "value", "reasons", "effectiveSinceDate"];

/// Checks `deployment.state`: only `requestedValue` is writable. `None` when the state asks
/// for nothing (no `requestedValue`, or not an object).
fn state(c: &mut Checker, path: &str, v: &Value) -> Option<Requested> {
    let mut allowed = vec!["requestedValue"];
    allowed.extend(STATE_READ_ONLY);
    let m = object(c, path, v, "a deploymentState", &allowed)?;
    odata_type(c, path, m, &["deploymentState"]);
    for k in STATE_READ_ONLY.iter().filter(|k| get(m, k).is_some()) {
        // Told, not failed: the seed's response bodies carry these and must load as they are.
        c.warnings.push(format!(
            "{}: is read-only (the service computes it from the request and the schedule); ignored",
            join(path, k)
        ));
    }
    match string(c, path, m, "requestedValue")? {
        "none" => Some(Requested::None),
        "paused" => Some(Requested::Paused),
        "archived" => Some(Requested::Archived),
        s => {
            c.fail(
                join(path, "requestedValue"),
                format!(
                    "unknown requested state \"{s}\"{}; expected one of {}",
                    suggest(s, &REQUESTED_VALUES),
                    REQUESTED_VALUES.join(", ")
                ),
            );
            None
        }
    }
}

/// The parts of a `POST .../deployments` request body.
pub(crate) fn deployment_body<'v>(c: &mut Checker, path: &str, v: &'v Value) -> DeploymentBody<'v> {
    let Some(m) = object(
        c,
        path,
        v,
        "a deployment",
        &[
            "content",
            "settings",
            "id",
            "state",
            "createdDateTime",
            "lastModifiedDateTime",
        ],
    ) else {
        return DeploymentBody::default();
    };
    odata_type(c, path, m, &["deployment"]);
    if get(m, "content").is_none() {
        c.fail(join(path, "content"), "is required: the content to deploy");
    }
    for k in DEPLOYMENT_READ_ONLY.iter().filter(|k| get(m, k).is_some()) {
        // Told, not failed, as in a PATCH body: a response body sent back carries these.
        c.warnings.push(format!(
            "{}: is read-only (the service sets it); ignored",
            join(path, k)
        ));
    }
    DeploymentBody {
        content: get(m, "content"),
        settings: get(m, "settings"),
        requested: get(m, "state")
            .and_then(|sv| state(c, &join(path, "state"), sv))
            .unwrap_or_default(),
    }
}

/// The parts of a `PATCH .../deployments/{id}` request body.
#[derive(Debug, Default)]
pub(crate) struct PatchBody<'v> {
    /// `state.requestedValue`, when the body writes it.
    pub requested: Option<Requested>,
    /// `settings`: a JSON merge patch of the deployment's settings.
    pub settings: Option<&'v Value>,
}

/// Properties of a `deployment` that the service sets and a response body carries.
const DEPLOYMENT_READ_ONLY: [&str; 3] = ["id", "createdDateTime", "lastModifiedDateTime"];

/// Checks a `PATCH .../deployments/{id}` request body. The service accepts only `state` and
/// `settings` (deployment-service.md §1): content and audience are fixed at creation, so a body
/// that tries to change them is refused, as the service refuses it; the read-only properties of
/// a response body are ignored with a warning, as in a `POST` body's `state`.
pub(crate) fn patch_body<'v>(c: &mut Checker, path: &str, v: &'v Value) -> PatchBody<'v> {
    let Some(m) = v.as_object() else {
        c.fail(
            path,
            format!(
                "must be a deployment PATCH body (an object), found {}",
                type_str(v)
            ),
        );
        return PatchBody::default();
    };
    // Unknown properties are told with the two writable ones as the choice; the deployment's
    // other properties get their own answer below.
    let rest: Map<String, Value> = m
        .iter()
        .filter(|(k, _)| {
            !["content", "audience"].contains(&k.as_str())
                && !DEPLOYMENT_READ_ONLY.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    object(
        c,
        path,
        &Value::Object(rest),
        "a deployment PATCH body",
        &["state", "settings"],
    );
    odata_type(c, path, m, &["deployment"]);
    for (k, how) in [
        (
            "content",
            "the content is fixed when the deployment is created: create another deployment for other content",
        ),
        (
            "audience",
            "the audience's members change with updateAudience (do = \"update_audience\"), not with a PATCH of the deployment",
        ),
    ] {
        if m.contains_key(k) {
            c.fail(
                join(path, k),
                format!("PATCH accepts only state and settings; {how}"),
            );
        }
    }
    for k in DEPLOYMENT_READ_ONLY.iter().filter(|k| get(m, k).is_some()) {
        // Told, not failed: a response body sent back carries these, as with state's.
        c.warnings.push(format!(
            "{}: is read-only (the service sets it); ignored",
            join(path, k)
        ));
    }
    let body = PatchBody {
        requested: get(m, "state").and_then(|sv| state(c, &join(path, "state"), sv)),
        settings: get(m, "settings"),
    };
    if body.requested.is_none() && body.settings.is_none() && c.problems.is_empty() {
        c.fail(
            path,
            "changes nothing: a deployment PATCH body needs state.requestedValue (none, paused, archived) or settings",
        );
    }
    body
}

/// The kind of an updatable asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AssetKind {
    /// `azureADDevice`.
    Device,
    /// `updatableAssetGroup`.
    Group,
}

/// An `updateAudience` / `updateAudienceById` body: the four lists of (kind, id, path).
#[derive(Clone, Debug, Default)]
pub(crate) struct AudienceBody {
    pub lists: [Vec<(AssetKind, String, String)>; 4],
}

/// The four list names, in [`AudienceBody::lists`] order.
pub(crate) const AUDIENCE_LISTS: [&str; 4] = [
    "addMembers",
    "removeMembers",
    "addExclusions",
    "removeExclusions",
];

/// Checks an `updateAudience` or `updateAudienceById` request body.
pub(crate) fn audience_body(c: &mut Checker, path: &str, v: &Value) -> AudienceBody {
    let mut out = AudienceBody::default();
    let mut allowed = AUDIENCE_LISTS.to_vec();
    allowed.push("memberEntityType");
    let Some(m) = object(c, path, v, "an updateAudience body", &allowed) else {
        return out;
    };
    let by_id = match string(c, path, m, "memberEntityType") {
        None => None,
        Some(s) => match s.trim_start_matches('#').trim_start_matches(NS) {
            "azureADDevice" => Some(AssetKind::Device),
            "updatableAssetGroup" => Some(AssetKind::Group),
            other => {
                c.fail(
                    join(path, "memberEntityType"),
                    format!("unknown type \"{s}\"{}; expected #microsoft.graph.windowsUpdates.azureADDevice or #microsoft.graph.windowsUpdates.updatableAssetGroup", suggest(other, &["azureADDevice", "updatableAssetGroup"])),
                );
                Some(AssetKind::Device)
            }
        },
    };
    for (li, name) in AUDIENCE_LISTS.iter().enumerate() {
        let Some(list) = get(m, name) else { continue };
        let lp = join(path, name);
        let Some(items) = list.as_array() else {
            c.fail(lp, format!("must be an array, found {}", type_str(list)));
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{lp}[{i}]");
            match (by_id, item) {
                (Some(kind), Value::String(id)) => out.lists[li].push((kind, id.clone(), ip)),
                (Some(_), other) => c.fail(
                    ip,
                    format!(
                        "must be an id string (updateAudienceById), found {}",
                        type_str(other)
                    ),
                ),
                (None, _) => {
                    let Some(im) = object(c, &ip, item, "an updatableAsset", &["id"]) else {
                        continue;
                    };
                    if !im.contains_key("@odata.type") {
                        c.fail(join(&ip, "@odata.type"), "is required: #microsoft.graph.windowsUpdates.azureADDevice or #microsoft.graph.windowsUpdates.updatableAssetGroup");
                        continue;
                    }
                    let kind =
                        match odata_type(c, &ip, im, &["azureADDevice", "updatableAssetGroup"])
                            .as_deref()
                        {
                            Some("azureADDevice") => AssetKind::Device,
                            Some(_) => AssetKind::Group,
                            None => continue,
                        };
                    match string(c, &ip, im, "id") {
                        Some(id) => out.lists[li].push((kind, id.to_string(), join(&ip, "id"))),
                        None => c.fail(join(&ip, "id"), "is required"),
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(f: impl FnOnce(&mut Checker)) -> Vec<(String, String)> {
        let mut c = Checker::default();
        f(&mut c);
        c.problems
    }

    #[test]
    fn numbers_that_are_not_finite_are_found_at_their_paths_and_written_as_toml_writes_them() {
        let v: toml::Value = toml::from_str(
            "a = 1.5\nb = { c = [2, nan], d = inf }\ne = [{ f = -inf }]\ng = \"nan\"\n",
        )
        .unwrap();
        let found: Vec<(String, String)> = non_finite("x", &v)
            .into_iter()
            .map(|(p, f)| (p, toml_float(f)))
            .collect();
        let want = [("x.b.c[1]", "nan"), ("x.b.d", "inf"), ("x.e[0].f", "-inf")];
        assert_eq!(
            found,
            want.map(|(p, f)| (p.to_string(), f.to_string())).to_vec()
        );
        // Reported once, and a later check of the same field (which reads null) says nothing.
        let p = problems(|c| {
            toml_to_json_checked(c, "x", &v);
            c.fail("x.b.d", "is required");
        });
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[1].1, "must be a finite number, found inf");
    }

    #[test]
    fn a_long_value_is_cut_between_characters_not_inside_one() {
        // Byte 57 falls inside the first 'é': once a panic.
        let v = Value::String(format!("{}{}", "a".repeat(55), "é".repeat(10)));
        let s = shown(&v);
        assert_eq!(s, format!("\"{}é…", "a".repeat(55)));
        assert_eq!(s.chars().count(), 58);
        // Up to 60 characters, whatever their bytes, nothing is cut.
        let v = Value::String("é".repeat(58));
        assert_eq!(shown(&v), format!("\"{}\"", "é".repeat(58)));
    }

    #[test]
    fn the_seed_003_deployment_body_loads() {
        let body: Value = serde_json::from_str(
            r##"{
            "@odata.type": "#microsoft.graph.windowsUpdates.deployment",
            "content": {"@odata.type": "microsoft.graph.windowsUpdates.expeditedQualityUpdateReference", "releaseDate": "YYYY-MM-DD"},
            "settings": {"@odata.type": "microsoft.graph.windowsUpdates.windowsDeploymentSettings", "userExperience": {"daysUntilForcedReboot": 2}}
        }"##,
        )
        .unwrap();
        let p = problems(|c| {
            let b = deployment_body(c, "", &body);
            let (content_v, settings_v) = (b.content, b.settings);
            assert_eq!(b.requested, Requested::None);
            let d = content(
                c,
                "content",
                content_v.unwrap(),
                1000,
                Some(&Catalog::default()),
            );
            assert!(d.expedited_type && d.security && d.release_unix == 1000);
            let s = settings(
                c,
                "settings",
                settings_v,
                1000,
                d.category,
                d.expedited_type,
                d.hotpatch_refusal(),
            );
            assert_eq!(s.forced_reboot_after, Some(2 * DAY));
            assert!(s.expedited);
        });
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn an_unknown_property_names_its_path_and_suggests() {
        let v: Value =
            serde_json::from_str(r##"{"userExperience": {"daysUntilForcedRebot": 2}}"##).unwrap();
        let p = problems(|c| {
            settings(c, "settings", Some(&v), 0, Category::Quality, false, None);
        });
        assert_eq!(p[0].0, "settings.userExperience.daysUntilForcedRebot");
        assert!(
            p[0].1.contains("did you mean \"daysUntilForcedReboot\""),
            "{}",
            p[0].1
        );
    }

    #[test]
    fn two_rollout_kinds_and_readiness_without_expedite_are_rejected() {
        let v: Value = serde_json::from_str(
            r##"{"schedule": {"gradualRollout": {"devicesPerOffer": 5, "endDateTime": "2026-02-01T00:00:00Z"}},
                "expedite": {"isReadinessTest": true}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            settings(c, "s", Some(&v), 0, Category::Quality, false, None);
        });
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].1.contains("two gradual-rollout kinds"));
        assert!(p[1].1.contains("requires isExpedited"));
    }

    #[test]
    fn an_expedited_reference_marked_not_expedited_is_rejected_as_a_contradiction() {
        let v: Value = serde_json::from_str(r##"{"expedite": {"isExpedited": false}}"##).unwrap();
        let p = problems(|c| {
            settings(c, "s", Some(&v), 0, Category::Quality, true, None);
        });
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "s.expedite.isExpedited");
        assert!(p[0].1.contains("always expedited"), "{p:?}");
    }

    #[test]
    fn a_bad_duration_between_offers_is_reported_even_without_a_rollout_kind() {
        for j in [
            r##"{"schedule": {"gradualRollout": {"durationBetweenOffers": "garbage"}}}"##,
            r##"{"rollout": {"durationBetweenOffers": "garbage"}}"##,
        ] {
            let v: Value = serde_json::from_str(j).unwrap();
            let p = problems(|c| {
                settings(
                    c,
                    "s",
                    Some(&v),
                    0,
                    Category::Feature,
                    false,
                    Some("a feature update"),
                );
            });
            assert_eq!(p.len(), 1, "{j}: {p:?}");
            assert!(p[0].0.ends_with(".durationBetweenOffers"), "{p:?}");
        }
    }

    #[test]
    fn the_older_rollout_shape_accepts_its_own_type_name() {
        let v: Value = serde_json::from_str(
            r##"{"rollout": {"@odata.type": "#microsoft.graph.windowsUpdates.rolloutSettings", "devicesPerOffer": 100}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let s = settings(
            &mut c,
            "s",
            Some(&v),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(s.rollout.is_some());
        // Not inside the current gradualRollout, which names its kind.
        let v: Value = serde_json::from_str(
            r##"{"schedule": {"gradualRollout": {"@odata.type": "#microsoft.graph.windowsUpdates.rolloutSettings", "devicesPerOffer": 100}}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            settings(
                c,
                "s",
                Some(&v),
                0,
                Category::Feature,
                false,
                Some("a feature update"),
            );
        });
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn a_start_date_time_before_the_scenario_start_is_a_warning_and_starts_at_once() {
        let start = 10 * 86_400;
        let check = |body: &str| {
            let v: Value = serde_json::from_str(body).unwrap();
            let mut c = Checker::default();
            let s = settings(&mut c, "s", Some(&v), start, Category::Feature, false, None);
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            (s.start, c.warnings)
        };
        for body in [
            r##"{"schedule": {"startDateTime": "1970-01-08T12:00:00Z"}}"##,
            r##"{"rollout": {"startDateTime": "1970-01-08T12:00:00Z"}}"##,
        ] {
            let (at, w) = check(body);
            assert_eq!(at, 0);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(
                w[0].ends_with(".startDateTime: is 2 days 12 h before the scenario start (1970-01-11T00:00:00Z), so it is treated as starting at once"),
                "{w:?}"
            );
        }
        // At the start, later, or a placeholder (the start): nothing to tell.
        for when in ["1970-01-11T00:00:00Z", "1970-01-12T00:00:00Z", "YYYY-MM-DD"] {
            let (_, w) = check(&format!(
                r##"{{"schedule": {{"startDateTime": "{when}"}}}}"##
            ));
            assert!(w.is_empty(), "{when}: {w:?}");
        }
    }

    #[test]
    fn days_until_forced_reboot_on_a_regular_deployment_is_a_warning_not_silence() {
        let v: Value =
            serde_json::from_str(r##"{"userExperience": {"daysUntilForcedReboot": 2}}"##).unwrap();
        let mut c = Checker::default();
        settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("expedited deployments only"));
        let v: Value = serde_json::from_str(
            r##"{"userExperience": {"daysUntilForcedReboot": 2}, "expedite": {"isExpedited": true}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_quality_reference_gives_one_release_or_is_told_it_takes_the_scenario_start() {
        let both: Value = serde_json::from_str(
            r##"{"@odata.type": "qualityUpdateReference", "releaseDate": "2026-01-13", "releaseDateTime": "2026-01-13T18:00:00Z"}"##,
        )
        .unwrap();
        let p = problems(|c| {
            content(c, "content", &both, 0, Some(&Catalog::default()));
        });
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "content.releaseDate");
        let none: Value =
            serde_json::from_str(r##"{"@odata.type": "qualityUpdateReference"}"##).unwrap();
        let mut c = Checker::default();
        let d = content(&mut c, "content", &none, 1000, Some(&Catalog::default()));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(d.release_unix, 1000);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("scenario start"), "{:?}", c.warnings);
    }

    #[test]
    fn catalog_entries_are_checked_for_their_own_properties_and_values() {
        let v: Value = serde_json::from_str(
            r##"{"@odata.type": "catalogContent", "catalogEntry": {"@odata.type": "qualityUpdateCatalogEntry", "releaseDateTime": "2026-01-13T00:00:00Z", "isExpeditable": "yes", "qualityUpdateCadence": "weekly", "version": "24H2"}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            content(c, "content", &v, 0, Some(&Catalog::default()));
        });
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "content.catalogEntry.version",
                "content.catalogEntry.isExpeditable",
                "content.catalogEntry.qualityUpdateCadence"
            ],
            "{p:?}"
        );
        assert!(p[0].1.contains("featureUpdateCatalogEntry"), "{p:?}");
        assert!(p[2].1.contains("monthly, outOfBand"), "{p:?}");
        let v: Value = serde_json::from_str(
            r##"{"@odata.type": "catalogContent", "catalogEntry": {"@odata.type": "qualityUpdateCatalogEntry", "releaseDateTime": "2026-01-13T00:00:00Z", "isExpeditable": false, "qualityUpdateCadence": "outOfBand"}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let d = content(&mut c, "content", &v, 0, Some(&Catalog::default()));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(d.expeditable, Some(false));
    }

    #[test]
    fn rollout_kinds_are_read_in_all_three_forms() {
        let get = |j: &str| {
            let v: Value = serde_json::from_str(j).unwrap();
            let mut c = Checker::default();
            let s = settings(
                &mut c,
                "s",
                Some(&v),
                0,
                Category::Feature,
                false,
                Some("a feature update"),
            );
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            s.rollout
        };
        assert_eq!(
            get(
                r##"{"schedule": {"gradualRollout": {"@odata.type": "#microsoft.graph.windowsUpdates.rateDrivenRolloutSettings", "devicesPerOffer": 100, "durationBetweenOffers": "P7D"}}}"##
            ),
            Some(Rollout::Rate {
                per_offer: 100,
                interval: 7 * DAY
            })
        );
        assert_eq!(
            get(r##"{"schedule": {"gradualRollout": {"durationUntilDeploymentEnd": "P10D"}}}"##),
            Some(Rollout::Date {
                end: 10 * DAY,
                interval: DAY,
                from_duration: true
            })
        );
        assert_eq!(
            get(r##"{"rollout": {"endDateTime": "1970-01-05T00:00:00Z"}}"##),
            Some(Rollout::Date {
                end: 4 * DAY,
                interval: DAY,
                from_duration: false
            })
        );
    }

    #[test]
    fn a_start_inside_the_gradual_rollout_is_an_unknown_property_but_the_older_rollout_keeps_it() {
        let v: Value = serde_json::from_str(
            r##"{"schedule": {"gradualRollout": {"devicesPerOffer": 5, "startDateTime": "1970-01-03T00:00:00Z"}}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            settings(
                c,
                "s",
                Some(&v),
                0,
                Category::Feature,
                false,
                Some("a feature update"),
            );
        });
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "s.schedule.gradualRollout.startDateTime");
        assert!(p[0].1.contains("unknown property"), "{}", p[0].1);
        let legacy: Value = serde_json::from_str(
            r##"{"rollout": {"devicesPerOffer": 5, "startDateTime": "1970-01-03T00:00:00Z"}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let s = settings(
            &mut c,
            "s",
            Some(&legacy),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(s.start, 2 * DAY);
    }

    #[test]
    fn a_date_driven_rollout_without_an_end_offers_everyone_at_once() {
        let v: Value = serde_json::from_str(
            r##"{"schedule": {"gradualRollout": {"@odata.type": "#microsoft.graph.windowsUpdates.dateDrivenRolloutSettings", "durationBetweenOffers": "P2D"}}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let s = settings(
            &mut c,
            "s",
            Some(&v),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(s.rollout, None);
    }

    #[test]
    fn an_ineligible_fallback_rule_is_rejected_on_a_quality_update_and_kept_on_a_feature_update() {
        let v: Value = serde_json::from_str(
            r##"{"monitoring": {"monitoringRules": [{"signal": "ineligible", "action": "offerFallback"}]}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            settings(c, "s", Some(&v), 0, Category::Quality, false, None);
        });
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "s.monitoring.monitoringRules[0].signal");
        assert!(p[0].1.contains("feature updates only"), "{}", p[0].1);
        let mut c = Checker::default();
        let s = settings(
            &mut c,
            "s",
            Some(&v),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(s.monitoring.len(), 1);
    }

    #[test]
    fn a_deployment_state_takes_only_a_known_requested_value_and_tolerates_read_only_properties() {
        let body = |state: &str| -> Value {
            serde_json::from_str(&format!(
                r##"{{"content": {{"@odata.type": "featureUpdateReference", "version": "24H2"}}, "state": {state}}}"##
            ))
            .unwrap()
        };
        let read = |state: &str| {
            let v = body(state);
            let mut c = Checker::default();
            let r = deployment_body(&mut c, "", &v).requested;
            (r, c.problems, c.warnings)
        };
        let (r, p, _) = read(r#"{"requestedValue": "paused"}"#);
        assert_eq!((r, p.len()), (Requested::Paused, 0));
        let (r, p, _) = read(r#"{"requestedValue": "archived"}"#);
        assert_eq!((r, p.len()), (Requested::Archived, 0));
        let (_, p, _) = read(r#"{"requestedValue": "pased"}"#);
        assert_eq!(p[0].0, "state.requestedValue");
        assert!(
            p[0].1.contains("\"pased\"") && p[0].1.contains("did you mean \"paused\""),
            "{}",
            p[0].1
        );
        let (_, p, _) = read(r#"{"requestedValu": "paused"}"#);
        assert_eq!(p[0].0, "state.requestedValu");
        assert!(p[0].1.contains("unknown property"), "{}", p[0].1);
        // The state of the seed 003 response body.
        let (r, p, w) = read(
            r#"{"@odata.type": "microsoft.graph.windowsUpdates.deploymentState", "value": "offering",
                "reasons": [{"@odata.type": "microsoft.graph.windowsUpdates.deploymentStateReason", "value": "offeringByRequest"}],
                "requestedValue": "none", "effectiveSinceDate": "String (timestamp)"}"#,
        );
        assert_eq!((r, p.len(), w.len()), (Requested::None, 0, 3), "{p:?}");
        assert!(w[0].contains("state.value: is read-only"), "{w:?}");
    }

    #[test]
    fn a_post_body_with_the_read_only_properties_of_a_response_loads_with_a_warning_for_each() {
        let v: Value = serde_json::from_str(
            r##"{"id": "b5f7", "createdDateTime": "2026-01-01T00:00:00Z", "lastModifiedDateTime": "2026-01-02T00:00:00Z",
                "content": {"@odata.type": "featureUpdateReference", "version": "24H2"}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let b = deployment_body(&mut c, "", &v);
        assert!(b.content.is_some());
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with("id: is read-only"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn a_patch_body_takes_state_and_settings_and_refuses_what_the_service_fixes_at_creation() {
        let read = |j: &str| {
            let v: Value = serde_json::from_str(j).unwrap();
            let mut c = Checker::default();
            let b = patch_body(&mut c, "", &v);
            (b.requested, b.settings.cloned(), c.problems, c.warnings)
        };
        let (r, s, p, w) = read(
            r##"{"@odata.type": "#microsoft.graph.windowsUpdates.deployment",
                "state": {"@odata.type": "microsoft.graph.windowsUpdates.deploymentState", "requestedValue": "archived"},
                "settings": {"monitoring": {"monitoringRules": []}}}"##,
        );
        assert_eq!(r, Some(Requested::Archived));
        assert!(s.is_some());
        assert!(p.is_empty() && w.is_empty(), "{p:?} {w:?}");
        let (_, _, p, _) = read(
            r##"{"content": {"@odata.type": "featureUpdateReference", "version": "24H2"}, "settings": {}}"##,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "content");
        assert!(p[0].1.contains("PATCH accepts only state and settings"));
        // A state with read-only properties only asks for nothing: the body changes nothing.
        let (r, _, p, w) = read(r##"{"id": "x", "state": {"effectiveValue": "paused"}}"##);
        assert_eq!(r, None);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("changes nothing"), "{p:?}");
        let (_, _, p, _) = read(r##"{"setings": {}}"##);
        assert_eq!(p[0].0, "setings");
        assert!(
            p[0].1
                .contains("(did you mean \"settings\"?); expected one of state, settings"),
            "{}",
            p[0].1
        );
    }

    #[test]
    fn a_nested_settings_object_of_the_wrong_type_is_an_error_naming_its_path_and_type() {
        for (json, path, ty) in [
            (
                r##"{"schedule": {"@odata.type": "#microsoft.graph.windowsUpdates.scheduleSetting"}}"##,
                "s.schedule.@odata.type",
                "scheduleSettings",
            ),
            (
                r##"{"monitoring": {"@odata.type": "monitoringRule", "monitoringRules": []}}"##,
                "s.monitoring.@odata.type",
                "monitoringSettings",
            ),
            (
                r##"{"monitoring": {"monitoringRules": [{"@odata.type": "#microsoft.graph.windowsUpdates.monitoringSettings", "signal": "rollback", "threshold": 5, "action": "alertError"}]}}"##,
                "s.monitoring.monitoringRules[0].@odata.type",
                "monitoringRule",
            ),
            (
                r##"{"expedite": {"@odata.type": "expediteSetting", "isExpedited": false}}"##,
                "s.expedite.@odata.type",
                "expediteSettings",
            ),
            (
                r##"{"userExperience": {"@odata.type": "#microsoft.graph.windowsUpdates.expediteSettings"}}"##,
                "s.userExperience.@odata.type",
                "userExperienceSettings",
            ),
            (
                r##"{"contentApplicability": {"@odata.type": "safeguardSettings"}}"##,
                "s.contentApplicability.@odata.type",
                "contentApplicabilitySettings",
            ),
            (
                r##"{"contentApplicability": {"safeguard": {"@odata.type": "safeguardProfile"}}}"##,
                "s.contentApplicability.safeguard.@odata.type",
                "safeguardSettings",
            ),
            (
                r##"{"contentApplicability": {"safeguard": {"disabledSafeguardProfiles": [{"@odata.type": "safeguardSettings", "category": "likelyIssues"}]}}}"##,
                "s.contentApplicability.safeguard.disabledSafeguardProfiles[0].@odata.type",
                "safeguardProfile",
            ),
        ] {
            let v: Value = serde_json::from_str(json).unwrap();
            let p = problems(|c| {
                settings(
                    c,
                    "s",
                    Some(&v),
                    0,
                    Category::Feature,
                    false,
                    Some("a feature update"),
                );
            });
            assert_eq!(p.len(), 1, "{json}: {p:?}");
            assert_eq!(p[0].0, path, "{p:?}");
            assert!(p[0].1.ends_with(&format!("expected {ty}")), "{p:?}");
        }
        // The right types load, in any of the three spellings.
        let v: Value = serde_json::from_str(
            r##"{"monitoring": {"@odata.type": "#microsoft.graph.windowsUpdates.monitoringSettings", "monitoringRules": []},
                "expedite": {"@odata.type": "microsoft.graph.windowsUpdates.expediteSettings", "isExpedited": false},
                "userExperience": {"@odata.type": "userExperienceSettings", "offerAsOptional": true},
                "contentApplicability": {"@odata.type": "#microsoft.graph.windowsUpdates.contentApplicabilitySettings",
                    "safeguard": {"@odata.type": "#microsoft.graph.windowsUpdates.safeguardSettings",
                        "disabledSafeguardProfiles": [{"@odata.type": "#microsoft.graph.windowsUpdates.safeguardProfile", "category": "likelyIssues"}]}}}"##,
        )
        .unwrap();
        let p = problems(|c| {
            settings(
                c,
                "s",
                Some(&v),
                0,
                Category::Feature,
                false,
                Some("a feature update"),
            );
        });
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn offer_while_recommended_by_must_be_a_list_of_vendor_names() {
        let read = |list: &str| {
            let v: Value = serde_json::from_str(&format!(
                r##"{{"contentApplicability": {{"offerWhileRecommendedBy": {list}}}}}"##
            ))
            .unwrap();
            let mut c = Checker::default();
            let s = settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
            (s, c.problems)
        };
        let (s, p) = read(r#"["Microsoft", "Contoso"]"#);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s, Settings::default(), "and it changes nothing");
        let (_, p) = read(r#""Microsoft""#);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "s.contentApplicability.offerWhileRecommendedBy");
        assert!(p[0].1.contains("an array of strings"), "{p:?}");
        assert!(p[0].1.contains("\"Microsoft\""), "{p:?}");
        let (_, p) = read(r#"["Microsoft", 3]"#);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "s.contentApplicability.offerWhileRecommendedBy[1]");
        assert!(p[0].1.contains("found 3"), "{p:?}");
    }

    #[test]
    fn an_expedite_without_days_until_forced_reboot_is_a_warning_that_it_forces_restarts_at_once() {
        let read = |body: &str| {
            let v: Value = serde_json::from_str(body).unwrap();
            let mut c = Checker::default();
            let s = settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            (s, c.warnings)
        };
        let (s, w) = read(r#"{"expedite": {"isExpedited": true}}"#);
        assert!(s.expedited && s.forced_reboot_after.is_none());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(
                "s.userExperience.daysUntilForcedReboot: not given on an expedited deployment, so 0"
            ),
            "{w:?}"
        );
        let (_, w) = read(
            r#"{"expedite": {"isExpedited": true}, "userExperience": {"daysUntilForcedReboot": 0}}"#,
        );
        assert!(w.is_empty(), "given, even as 0: {w:?}");
        let (_, w) = read(r#"{"userExperience": {"offerAsOptional": false}}"#);
        assert!(w.is_empty(), "not an expedite: {w:?}");
        // Expedited by its content type, with no settings at all.
        let mut c = Checker::default();
        settings(&mut c, "s", None, 0, Category::Quality, true, None);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    #[test]
    fn a_hotpatch_or_an_optional_offer_on_an_expedite_is_a_warning() {
        let v: Value = serde_json::from_str(
            r##"{"expedite": {"isExpedited": true}, "userExperience": {"isHotpatchEnabled": true, "daysUntilForcedReboot": 1}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let s = settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(s.expedited && !s.hotpatch);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with(
                "s.userExperience.isHotpatchEnabled: an expedite restarts its devices"
            ),
            "{:?}",
            c.warnings
        );
        let v: Value = serde_json::from_str(
            r##"{"expedite": {"isExpedited": true}, "userExperience": {"offerAsOptional": true, "daysUntilForcedReboot": 1}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        let s = settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
        assert!(s.expedited && s.optional);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with("s.userExperience.offerAsOptional: an optional offer waits"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn a_hotpatch_on_content_that_is_not_a_monthly_security_update_is_a_warning_of_no_effect() {
        let v: Value =
            serde_json::from_str(r##"{"userExperience": {"isHotpatchEnabled": true}}"##).unwrap();
        let entry = |kind: &str, extra: &str| {
            let j = format!(
                r##"{{"@odata.type": "catalogContent", "catalogEntry": {{"@odata.type": "{kind}", "releaseDateTime": "2026-01-13T00:00:00Z"{extra}}}}}"##
            );
            content(
                &mut Checker::default(),
                "c",
                &serde_json::from_str(&j).unwrap(),
                0,
                Some(&Catalog::default()),
            )
        };
        for (draft, found) in [
            (
                entry("featureUpdateCatalogEntry", r#", "version": "24H2""#),
                Some("a feature update"),
            ),
            (
                entry(
                    "qualityUpdateCatalogEntry",
                    r#", "qualityUpdateClassification": "nonSecurity""#,
                ),
                Some("a nonSecurity quality update"),
            ),
            (
                entry(
                    "qualityUpdateCatalogEntry",
                    r#", "qualityUpdateCadence": "outOfBand""#,
                ),
                Some("an out-of-band quality update"),
            ),
            (
                entry(
                    "qualityUpdateCatalogEntry",
                    r#", "qualityUpdateCadence": "monthly""#,
                ),
                None,
            ),
        ] {
            let mut c = Checker::default();
            let s = settings(
                &mut c,
                "s",
                Some(&v),
                0,
                draft.category,
                false,
                draft.hotpatch_refusal(),
            );
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            assert_eq!(s.hotpatch, found.is_none(), "applies only where it may");
            match found {
                Some(f) => {
                    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
                    assert!(
                        c.warnings[0].starts_with("s.userExperience.isHotpatchEnabled: ")
                            && c.warnings[0].contains(f)
                            && c.warnings[0].contains("no effect"),
                        "{:?}",
                        c.warnings
                    );
                }
                None => assert!(c.warnings.is_empty(), "{:?}", c.warnings),
            }
        }
    }

    #[test]
    fn disabling_likely_issue_holds_on_a_quality_update_is_a_warning_of_no_effect() {
        let v: Value = serde_json::from_str(
            r##"{"contentApplicability": {"safeguard": {"disabledSafeguardProfiles": [{"category": "likelyIssues"}]}}}"##,
        )
        .unwrap();
        let mut c = Checker::default();
        settings(&mut c, "s", Some(&v), 0, Category::Quality, false, None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with(
                "s.contentApplicability.safeguard.disabledSafeguardProfiles[0].category: "
            ) && c.warnings[0].contains("feature updates only"),
            "{:?}",
            c.warnings
        );
        let mut c = Checker::default();
        settings(
            &mut c,
            "s",
            Some(&v),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_quality_catalog_entry_named_by_its_id_alone_is_warned_of_its_missing_release() {
        let v: Value = serde_json::from_str(r##"{"@odata.type": "#microsoft.graph.windowsUpdates.catalogContent", "catalogEntry": {"@odata.type": "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry", "id": "bd9554dc-2737-4e3c-b794-fa2b8b3f4a30"}}"##).unwrap();
        let mut c = Checker::default();
        let d = content(&mut c, "content", &v, 1000, Some(&Catalog::default()));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(d.release_unix, 1000, "the scenario start");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with("content.catalogEntry.releaseDateTime: no releaseDateTime"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn a_patch_naming_another_rollout_type_replaces_the_rollout_instead_of_merging_it() {
        let date = serde_json::json!({"schedule": {"gradualRollout": {
            "@odata.type": "#microsoft.graph.windowsUpdates.dateDrivenRolloutSettings",
            "endDateTime": "2026-03-08T00:00:00Z"}}});
        // A rate-driven rollout, its kind implied by its property.
        let mut current = serde_json::json!({"schedule": {"gradualRollout": {
            "devicesPerOffer": 200, "durationBetweenOffers": "P2D"}}, "monitoring": {}});
        replace_rollout_of_another_kind(&mut current, &date);
        merge_patch(&mut current, &date);
        assert_eq!(
            current["schedule"]["gradualRollout"],
            date["schedule"]["gradualRollout"]
        );
        assert_eq!(
            current["monitoring"],
            serde_json::json!({}),
            "the rest is merged"
        );
        // The same kind (declared or implied) merges as before.
        let more = serde_json::json!({"schedule": {"gradualRollout": {
            "@odata.type": "#microsoft.graph.windowsUpdates.rateDrivenRolloutSettings",
            "devicesPerOffer": 300}}});
        let mut current = serde_json::json!({"schedule": {"gradualRollout": {
            "devicesPerOffer": 200, "durationBetweenOffers": "P2D"}}});
        replace_rollout_of_another_kind(&mut current, &more);
        merge_patch(&mut current, &more);
        assert_eq!(
            current["schedule"]["gradualRollout"]["durationBetweenOffers"],
            "P2D"
        );
        assert_eq!(
            current["schedule"]["gradualRollout"]["devicesPerOffer"],
            300
        );
    }

    #[test]
    fn merge_patch_merges_objects_and_null_removes() {
        let mut a: Value = serde_json::from_str(r##"{"a": {"b": 1, "c": 2}, "d": [1]}"##).unwrap();
        let p: Value = serde_json::from_str(r##"{"a": {"b": null, "e": 3}, "d": [2]}"##).unwrap();
        merge_patch(&mut a, &p);
        assert_eq!(a, serde_json::json!({"a": {"c": 2, "e": 3}, "d": [2]}));
    }
}
