//! `[[deployments]]`, `[groups]`, `[[actions]]` and `[graph_ids]`: the service side of a scenario.
//!
//! A deployment's `content` and `settings` are the Graph objects of a `POST .../deployments`
//! request body, written as TOML tables or read from a JSON file (`graph = "file.json"`); audience
//! changes can be `updateAudience` request bodies, and `do = "patch"` actions
//! `PATCH .../deployments/{id}` bodies. All are checked by [`super::graph`].
//! Audience entries name `"all"`, a group of `[groups]`, a segment, or one device
//! (`"<segment>-<n>"`, n counted from 1, or an inventory name). Graph ids in JSON bodies are
//! looked up in `[graph_ids]` first (id → rollsim name), then used as names. Device names and
//! GUIDs compare as [`super::ids`] says; a `[graph_ids]` target is checked at its entry, so a
//! mistake in it is told there, once, and not as a problem of every body that names the id.
//! A catalog entry that a body's content names by id is looked up in `[catalog]` (see
//! [`super::catalog`]), which gives what the body leaves out.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// The longest deployment name, in characters: `states-NAME-2.png` stays well under the 255
/// bytes a file name may have.
pub const MAX_DEPLOYMENT_NAME: usize = 200;

use super::catalog::Catalog;
use super::graph::{self, AUDIENCE_LISTS, AssetKind, ContentDraft};
use super::ids;
use super::locate::{JsonLocator, quoted_key};
use super::overrides::{BodySet, edited, set_json};
use super::{Checker, suggest};
use crate::client::{Category, index16};
use crate::error::{InputError, Problem};
use crate::fleet::SegmentSpec;
use crate::fleet::filter::Filter;
use crate::service::{
    Action, ActionKind, Audience, Content, DeploymentDef, GroupDef, Member, Ordering, Requested,
};
use crate::time::{Time, parse_duration_signed, parse_instant};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeployment {
    name: String,
    content: Option<toml::Value>,
    settings: Option<toml::Value>,
    graph: Option<String>,
    audience: Option<RawAudience>,
    ordering: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    members: Option<Vec<String>>,
    #[serde(default)]
    exclusions: Vec<String>,
    graph: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    segments: Option<Vec<String>>,
    filter: Option<String>,
    share: Option<f64>,
    count: Option<i64>,
    devices: Option<Vec<String>>,
    excluding: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    #[serde(deserialize_with = "super::instant_text")]
    at: String,
    deployment: String,
    #[serde(rename = "do")]
    what: String,
    add_members: Option<Vec<String>>,
    remove_members: Option<Vec<String>>,
    add_exclusions: Option<Vec<String>>,
    remove_exclusions: Option<Vec<String>>,
    graph: Option<String>,
    settings: Option<toml::Value>,
}

/// The service side of a scenario, validated.
pub(super) struct ServiceSide {
    pub contents: Vec<Content>,
    pub deployments: Vec<DeploymentDef>,
    /// Per deployment: its content could not be read (missing, or in a Graph file that failed),
    /// so checks that depend on what the content is say nothing (its own error does).
    pub content_unknown: Vec<bool>,
    /// Per deployment: its content gave no release date, so it is taken as released at the
    /// scenario start (see [`graph::ContentDraft::release_assumed`]).
    pub release_assumed: Vec<bool>,
    pub groups: Vec<GroupDef>,
    pub actions: Vec<Action>,
}

/// What a `[graph_ids]` target names.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// A group of `[groups]`.
    Group,
    /// A segment (every segment of that name).
    Segment,
    /// One device.
    Device,
}

/// A `[graph_ids]` entry, checked.
struct GraphId {
    /// The id as the scenario writes it (the entry's key).
    id: String,
    /// The scenario name it maps to.
    target: String,
    /// What the target names; None when it names nothing, which is reported at the entry, so a
    /// body naming the id adds no second error about it.
    names: Option<Target>,
    /// A Graph body names the id; an entry none names is warned about.
    used: Cell<bool>,
}

/// `[graph_ids]`, by the key of each id ([`ids::id_key`]: a GUID in any case or braces is one id).
#[derive(Default)]
struct GraphIds {
    entries: Vec<GraphId>,
    by_key: HashMap<String, usize>,
}

impl GraphIds {
    /// The entry of Graph id `id`, marked as used.
    fn get(&self, id: &str) -> Option<&GraphId> {
        let g = &self.entries[*self.by_key.get(ids::id_key(id).as_ref())?];
        g.used.set(true);
        Some(g)
    }
}

/// What an audience list does with a device, for the warning about one that is not in the fleet
/// (indexed as [`AUDIENCE_LISTS`]).
const LIST_EFFECT: [&str; 4] = [
    "adds nothing to the audience",
    "removes nothing from the audience",
    "excludes nothing",
    "lifts no exclusion",
];

/// How many name comparisons the did-you-mean hints for unknown devices may make in all: one
/// unknown name costs one comparison per inventory device, and a body may name thousands.
const HINT_BUDGET: usize = 1_000_000;

/// Name lookup for audience entries.
struct Names<'a> {
    segments: &'a [SegmentSpec],
    groups: Vec<String>,
    graph_ids: GraphIds,
    inventory: &'a super::inventory::DeviceNames,
    /// Comparisons left for did-you-mean hints on device names (see [`HINT_BUDGET`]).
    hint_budget: Cell<usize>,
}

impl<'a> Names<'a> {
    fn new(
        segments: &'a [SegmentSpec],
        groups: Vec<String>,
        inventory: &'a super::inventory::DeviceNames,
    ) -> Self {
        Names {
            segments,
            groups,
            graph_ids: GraphIds::default(),
            inventory,
            hint_budget: Cell::new(HINT_BUDGET),
        }
    }

    /// A device: an inventory name (compared by [`ids::device_key`]), or `"<segment>-<n>"`.
    fn device(&self, name: &str) -> Option<Member> {
        if let Some(&(segment, index)) = self.inventory.get(ids::device_key(name).as_ref()) {
            return Some(Member::Device { segment, index });
        }
        let (seg, n) = name.rsplit_once('-')?;
        let s = self.segments.iter().position(|x| x.name == seg)?;
        let n: u32 = n.parse().ok()?;
        // `then`, not `then_some`: the index is worked out only for a number in range, as
        // `n - 1` of a member numbered 0 overflows (a panic in a debug build).
        (n >= 1 && n <= self.segments[s].devices).then(|| Member::Device {
            segment: index16(s),
            index: n - 1,
        })
    }

    /// A hint for `name`, which names no device: the devices of its segment when its number is
    /// out of range, else the inventory name one or two characters away, if any (" (did you
    /// mean …?)"); empty when there is none, or when the hints' budget is spent.
    fn device_hint(&self, name: &str) -> String {
        if let Some(h) = self.range_hint(name) {
            return h;
        }
        let left = self.hint_budget.get();
        if self.inventory.is_empty() || left < self.inventory.len() {
            return String::new();
        }
        self.hint_budget.set(left - self.inventory.len());
        let key = ids::device_key(name);
        self.inventory
            .keys()
            .filter_map(|k| near(k, &key).map(|d| (d, k)))
            .min()
            .map_or(String::new(), |(_, k)| format!(" (did you mean \"{k}\"?)"))
    }

    /// "all", a group, or every segment of that name (an inventory makes several segments
    /// share a name); a GUID in any case or braces names the group or segment it spells.
    fn set(&self, name: &str) -> Vec<Member> {
        if name == "all" {
            return vec![Member::All];
        }
        let key = ids::id_key(name);
        if let Some(g) = self.groups.iter().position(|x| ids::id_key(x) == key) {
            return vec![Member::Group(index16(g))];
        }
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, x)| ids::id_key(&x.name) == key)
            .map(|(s, _)| Member::Segment(index16(s)))
            .collect()
    }

    fn candidates(&self) -> Vec<&str> {
        let mut v = vec!["all"];
        v.extend(self.groups.iter().map(String::as_str));
        for s in self.segments {
            if !v.contains(&s.name.as_str()) {
                v.push(s.name.as_str());
            }
        }
        v
    }

    /// A hint for `name`, which names nothing: the devices of its segment when it is
    /// `"<segment>-<n>"` with `n` out of range, else a did-you-mean among groups and segments,
    /// else among devices.
    fn hint(&self, name: &str) -> String {
        if let Some(h) = self.range_hint(name) {
            return h;
        }
        let h = suggest(name, &self.candidates());
        if h.is_empty() {
            self.device_hint(name)
        } else {
            h
        }
    }

    /// The devices of the segment `name` names when it is `"<segment>-<n>"`, n out of range.
    fn range_hint(&self, name: &str) -> Option<String> {
        let (seg, n) = name.rsplit_once('-')?;
        n.parse::<u64>().ok()?;
        let s = self.segments.iter().find(|x| x.name == seg)?;
        (s.devices > 0).then(|| {
            format!(
                " (segment \"{seg}\" has devices {seg}-1 to {seg}-{})",
                s.devices
            )
        })
    }

    /// A scenario audience entry: "all", a group, a segment or a device.
    fn member(&self, c: &mut Checker, path: &str, name: &str) -> Vec<Member> {
        let mut m = self.set(name);
        if m.is_empty() {
            m.extend(self.device(name));
        }
        if m.is_empty() {
            let cands = self.candidates();
            c.fail_reference(
                path,
                format!(
                    "no group, segment or device named \"{name}\"{}; use \"all\", one of {}, or a device \"<segment>-<n>\" (n from 1)",
                    self.hint(name),
                    cands[1..].join(", ")
                ),
            );
        }
        m
    }

    /// What `target`, a `[graph_ids]` target, names.
    fn target(&self, target: &str) -> Option<Target> {
        match self.set(target).first() {
            _ if target == "all" => None,
            Some(Member::Group(_)) => Some(Target::Group),
            Some(_) => Some(Target::Segment),
            None => self.device(target).map(|_| Target::Device),
        }
    }

    /// A Graph updatable asset by id; `list` is the audience list it is in ([`AUDIENCE_LISTS`]).
    fn asset(
        &self,
        c: &mut Checker,
        (path, list): (&str, usize),
        kind: AssetKind,
        id: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<Member> {
        let mapped = self.graph_ids.get(id);
        let name = match mapped {
            // A target that names nothing is reported at its [graph_ids] entry.
            Some(g) if g.names.is_none() => return Vec::new(),
            Some(g) => g.target.as_str(),
            None => id,
        };
        match kind {
            AssetKind::Group => {
                let m: Vec<Member> = self
                    .set(name)
                    .into_iter()
                    .filter(|m| *m != Member::All)
                    .collect();
                if m.is_empty() {
                    let cands = self.candidates();
                    let message = match mapped {
                        Some(g) => format!(
                            "updatable asset group \"{id}\" is mapped in [graph_ids] to \"{}\", a device: an updatableAssetGroup names a group or segment (an azureADDevice names a device)",
                            g.target
                        ),
                        None => format!(
                            "no updatable asset group \"{id}\"{}: name a [groups] entry or segment ({}), or map the id in [graph_ids]",
                            suggest(name, &cands),
                            cands[1..].join(", ")
                        ),
                    };
                    c.fail_reference(path, message);
                }
                m
            }
            AssetKind::Device => {
                let m = self.device(name);
                if m.is_none() {
                    let effect = LIST_EFFECT[list.min(3)];
                    // The service registers an id it does not know as a new device (§3), so
                    // this is no error; but the entry does nothing, which is rarely what was
                    // meant (an exclusion that excludes nobody), so say so plainly.
                    warnings.push(match mapped {
                        Some(g) => format!(
                            "{path}: device \"{id}\" is mapped in [graph_ids] to \"{}\", a {}, not a device, so this entry {effect}",
                            g.target,
                            if g.names == Some(Target::Group) { "group" } else { "segment" }
                        ),
                        None => format!(
                            "{path}: device \"{id}\" matches no device of the fleet{}, so this entry {effect}; {}",
                            self.device_hint(id),
                            ids::HOW_NAMES_COMPARE
                        ),
                    });
                }
                m.into_iter().collect()
            }
        }
    }
}

/// The edit distance between device keys `a` and `b` when it is at most 2, for did-you-mean
/// hints: names of one length are compared character by character (a GUID with a digit off),
/// others by Levenshtein distance (a character left out or doubled).
fn near(a: &str, b: &str) -> Option<usize> {
    let d = if a.len() == b.len() {
        a.bytes()
            .zip(b.bytes())
            .filter(|(x, y)| x != y)
            .take(3)
            .count()
    } else if a.len().abs_diff(b.len()) <= 2 {
        strsim::levenshtein(a, b)
    } else {
        return None;
    };
    (d <= 2).then_some(d)
}

/// Checks `[graph_ids]`: each target must name a group, segment or device (reported at the
/// entry, with a did-you-mean), and two keys that are one GUID must not map it to two names.
fn graph_ids_checked(
    c: &mut Checker,
    raw: &BTreeMap<String, String>,
    names: &Names<'_>,
) -> GraphIds {
    let mut out = GraphIds::default();
    for (id, target) in raw {
        let path = format!("graph_ids.{}", quoted_key(id));
        let key = ids::id_key(id).into_owned();
        if let Some(&k) = out.by_key.get(&key) {
            let first = &out.entries[k];
            if first.target != *target {
                c.fail(
                    &path,
                    format!(
                        "maps \"{id}\" to \"{target}\", but \"{}\", the same id (GUIDs compare ignoring case and braces), maps to \"{}\"",
                        first.id, first.target
                    ),
                );
            }
            continue;
        }
        let what = names.target(target);
        if what.is_none() {
            let message = if target == "all" {
                "maps the id to \"all\", which a Graph id cannot name: map it to a group, segment or device".to_string()
            } else {
                let cands = names.candidates();
                format!(
                    "maps the id to \"{target}\", which names no group, segment or device{}; name a group or segment ({}) or a device (\"<segment>-<n>\", n from 1{})",
                    names.hint(target),
                    cands[1..].join(", "),
                    if names.inventory.is_empty() {
                        ""
                    } else {
                        ", or an inventory name"
                    }
                )
            };
            c.fail_reference(&path, message);
        }
        out.by_key.insert(key, out.entries.len());
        out.entries.push(GraphId {
            id: id.clone(),
            target: target.clone(),
            names: what,
            used: Cell::new(false),
        });
    }
    out
}

/// Reads and parses a JSON file named at scenario field `field`; problems found by `check` are
/// reported against the JSON file, with JSON paths and their lines.
fn with_json<T>(
    c: &mut Checker,
    field: &str,
    base: &Path,
    rel: &str,
    check: impl FnOnce(&mut Checker, &Value) -> T,
) -> Option<T> {
    let file = base.join(rel);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            c.fail(
                field,
                format!("cannot read Graph JSON file \"{}\": {e}", file.display()),
            );
            return None;
        }
    };
    let shown = file.display().to_string();
    let mut v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            keep_input(c, rel, text.as_bytes());
            c.file_errors.push(InputError {
                file: shown,
                problems: vec![Problem {
                    line: e.line(),
                    column: e.column(),
                    path: String::new(),
                    message: format!("malformed JSON: {e}"),
                }],
            });
            return None;
        }
    };
    // Changes given by --set or a sweep, made before the body is checked; the run's copy of the
    // body is the changed one, so that its folder reruns as it ran.
    let sets: Vec<BodySet> = c
        .bodies
        .iter()
        .filter(|b| b.field == field)
        .cloned()
        .collect();
    for s in &sets {
        match set_json(&mut v, &s.path, &s.value) {
            Ok(at) => c.body_edits.push((field.to_string(), at, s.origin.clone())),
            Err(m) => match &s.origin {
                Some(origin) => c.fail(field, format!("{origin}: {m}")),
                None => c.fail(field, format!("{}: {m}", s.path)),
            },
        }
    }
    if sets.is_empty() {
        keep_input(c, rel, text.as_bytes());
    } else {
        let mut changed = serde_json::to_string_pretty(&v).unwrap_or_default();
        changed.push('\n');
        keep_input(c, rel, changed.as_bytes());
    }
    let mut jc = Checker {
        inventory_failed: c.inventory_failed,
        json: true,
        ..Checker::default()
    };
    let out = check(&mut jc, &v);
    let json = JsonLocator::new(&text);
    super::locate_warnings(&mut jc.warnings, &shown, true, |p| json.position(p));
    c.warnings.append(&mut jc.warnings);
    if !jc.problems.is_empty() {
        let problems = body_problems(c, field, &text, jc.problems);
        c.file_errors.push(InputError {
            file: shown,
            problems,
        });
    }
    Some(out)
}

/// Lists file `rel` with the `bytes` read among the scenario's inputs, once per version.
pub(super) fn keep_input(c: &mut Checker, rel: &str, bytes: &[u8]) {
    if !c.inputs.iter().any(|(p, b)| p == rel && b == bytes) {
        c.inputs.push((rel.to_string(), bytes.to_vec()));
    }
}

/// Problems of the Graph body named at scenario field `field`, located in its file `text`; one in
/// a value that a --set changed names the option instead of a line of the file.
fn body_problems(
    c: &Checker,
    field: &str,
    text: &str,
    problems: Vec<(String, String)>,
) -> Vec<Problem> {
    let loc = JsonLocator::new(text);
    let mut out = super::located(problems, |p| loc.position(p));
    for p in &mut out {
        let edit = c
            .body_edits
            .iter()
            .rev()
            .find(|(f, at, _)| f == field && edited(&p.path, at, |x| loc.has(x)));
        if let Some((_, _, Some(origin))) = edit {
            (p.line, p.column) = (0, 0);
            p.message = format!("{} (from {origin})", p.message);
        }
    }
    out.sort_by_key(|p| (p.line, p.column));
    out
}

/// An instant or a duration after the scenario start, as seconds after the start.
pub(super) fn at(c: &mut Checker, path: &str, text: &str, start_unix: i64) -> Time {
    let Some((d, instant)) = signed_at(c, path, text, start_unix) else {
        return 0;
    };
    if d < 0 {
        let what = if instant {
            "the scenario start"
        } else {
            "the start"
        };
        c.fail(path, format!("must not be before {what}, found \"{text}\""));
    }
    d.max(0) as Time
}

/// An instant or a signed duration, as seconds from the scenario start (negative before it),
/// with whether it was given as an instant; `None` (and an error at `path`) when it is neither.
pub(super) fn signed_at(
    c: &mut Checker,
    path: &str,
    text: &str,
    start_unix: i64,
) -> Option<(i64, bool)> {
    if let Ok(d) = parse_duration_signed(text) {
        return Some((d, false));
    }
    match parse_instant(text) {
        Ok(ts) => Some((ts.as_second() - start_unix, true)),
        Err(_) => {
            c.fail(
                path,
                format!(
                    "must be a duration after the start (\"P3D\") or an instant (\"2026-01-16T09:00:00Z\"), found \"{text}\""
                ),
            );
            None
        }
    }
}

fn groups(
    c: &mut Checker,
    raw: &BTreeMap<String, RawGroup>,
    segments: &[SegmentSpec],
    inventory: &super::inventory::DeviceNames,
) -> Vec<GroupDef> {
    let seg_names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
    let attr_names: Vec<&str> = {
        let mut v: Vec<&str> = segments
            .iter()
            .flat_map(|s| s.attributes.iter().map(|(k, _)| k.as_str()))
            .collect();
        v.push("segment");
        v.sort_unstable();
        v.dedup();
        v
    };
    let names = Names::new(segments, Vec::new(), inventory);
    let defs: Vec<GroupDef> = raw
        .iter()
        .map(|(name, g)| {
            let path = format!("groups.{name}");
            let key = ids::id_key(name);
            if seg_names.iter().any(|s| ids::id_key(s) == key) || name == "all" {
                c.fail(
                    &path,
                    format!("a group cannot be named \"{name}\": a segment (or \"all\") has that name"),
                );
            }
            // A group named by its Graph id is found by it in any case or braces, so two
            // spellings of one id would be one group twice.
            if let Some(other) = raw
                .keys()
                .find(|o| *o < name && ids::id_key(o) == key)
            {
                c.fail(
                    &path,
                    format!("is the group \"{other}\" again: GUIDs compare ignoring case and braces"),
                );
            }
            let mut def = GroupDef {
                name: name.clone(),
                ..GroupDef::default()
            };
            for (i, s) in g.segments.iter().flatten().enumerate() {
                let found: Vec<u16> = (0..seg_names.len())
                    .filter(|&k| seg_names[k] == s)
                    .map(index16)
                    .collect();
                match found.is_empty() {
                    false => def.segments.extend(found),
                    true => c.fail_reference(
                        format!("{path}.segments[{i}]"),
                        format!(
                            "no segment named \"{s}\"{}; segments are {}",
                            suggest(s, &seg_names),
                            seg_names.join(", ")
                        ),
                    ),
                }
            }
            if let Some(f) = &g.filter {
                match Filter::parse(f) {
                    Ok(parsed) => {
                        for n in parsed.names() {
                            if !attr_names.contains(&n) {
                                c.fail_reference(
                                    format!("{path}.filter"),
                                    format!(
                                        "names attribute \"{n}\" that no segment has{}; attributes are {}",
                                        suggest(n, &attr_names),
                                        attr_names.join(", ")
                                    ),
                                );
                            }
                        }
                        def.filter = Some(parsed);
                    }
                    Err(e) => c.fail(format!("{path}.filter"), format!("{e}, in \"{f}\"")),
                }
            }
            if let Some(s) = g.share {
                if !(s > 0.0 && s <= 1.0) {
                    c.fail(
                        format!("{path}.share"),
                        format!("must be above 0 and at most 1, found {s}"),
                    );
                }
                def.share = Some(s);
            }
            if let Some(n) = g.count {
                if g.share.is_some() {
                    c.fail(
                        format!("{path}.count"),
                        "and share are both given: give one (a number of devices or a share of those matching)",
                    );
                } else if !(1..=i64::from(u32::MAX)).contains(&n) {
                    c.fail(
                        format!("{path}.count"),
                        format!("must be a whole number of devices of at least 1, found {n}"),
                    );
                } else {
                    def.count = Some(n as u32);
                }
            }
            let group_names: Vec<&str> = raw.keys().map(String::as_str).collect();
            for (i, x) in g.excluding.iter().flatten().enumerate() {
                match group_names.iter().position(|n| n == x) {
                    Some(k) if group_names[k] == name => c.fail(
                        format!("{path}.excluding[{i}]"),
                        format!("a group cannot exclude itself, found \"{x}\""),
                    ),
                    Some(k) => def.excluding.push(index16(k)),
                    None => c.fail(
                        format!("{path}.excluding[{i}]"),
                        format!(
                            "no group named \"{x}\"{}; groups are {}",
                            suggest(x, &group_names),
                            group_names.join(", ")
                        ),
                    ),
                }
            }
            for (i, d) in g.devices.iter().flatten().enumerate() {
                match names.device(d) {
                    Some(Member::Device { segment, index }) => def.devices.push((segment, index)),
                    _ => c.fail_reference(
                        format!("{path}.devices[{i}]"),
                        format!(
                            "no device named \"{d}\"{}; devices are named \"<segment>-<n>\", n from 1{}",
                            names.device_hint(d),
                            if inventory.is_empty() { "" } else { ", or as in the inventory" }
                        ),
                    ),
                }
            }
            def
        })
        .collect();
    for (gi, g) in defs.iter().enumerate() {
        if let Some(circle) = crate::service::exclusion_circle(&defs, gi) {
            c.fail(
                format!("groups.{}.excluding", g.name),
                format!(
                    "groups cannot exclude each other in a circle ({}): each is drawn after those it excludes",
                    circle
                        .iter()
                        .map(|&k| defs[k].name.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ")
                ),
            );
            break;
        }
    }
    defs
}

fn member_list(c: &mut Checker, names: &Names<'_>, path: &str, list: &[String]) -> Vec<Member> {
    list.iter()
        .enumerate()
        .flat_map(|(j, m)| names.member(c, &format!("{path}[{j}]"), m))
        .collect()
}

/// Reads an `updateAudience` JSON body into the four member lists.
fn audience_json(
    c: &mut Checker,
    names: &Names<'_>,
    field: &str,
    base: &Path,
    rel: &str,
) -> [Vec<Member>; 4] {
    audience_json_entries(c, names, field, base, rel)
        .map(|list| list.into_iter().flat_map(|e| e.members).collect())
}

/// One audience entry as written, with what it names: so that a warning about the entry (a
/// removal that removes nothing) can name it and its place.
struct Entry {
    /// The members it names (none when it names nothing, which is told where it is read).
    members: Vec<Member>,
    /// Its path: in the scenario (`actions[2].remove_members[0]`) or in the Graph body
    /// (`removeMembers[0].id`).
    path: String,
    /// The name or id as written, and the `[graph_ids]` name it maps to.
    written: String,
}

/// Reads an `updateAudience` JSON body into the four lists of entries ([`AUDIENCE_LISTS`]).
fn audience_json_entries(
    c: &mut Checker,
    names: &Names<'_>,
    field: &str,
    base: &Path,
    rel: &str,
) -> [Vec<Entry>; 4] {
    with_json(c, field, base, rel, |jc, v| {
        let body = graph::audience_body(jc, "", v);
        let mut warnings = Vec::new();
        let lists: [Vec<Entry>; 4] = std::array::from_fn(|li| {
            body.lists[li]
                .iter()
                .map(|(kind, id, p)| Entry {
                    members: names.asset(jc, (p, li), *kind, id, &mut warnings),
                    path: p.clone(),
                    written: match names.graph_ids.get(id) {
                        Some(g) => format!("\"{id}\" (\"{}\" in [graph_ids])", g.target),
                        None => format!("\"{id}\""),
                    },
                })
                .collect()
        });
        jc.warnings.extend(warnings);
        lists
    })
    .unwrap_or_default()
}

/// What orders feature versions: (Windows major version, year, half, the text when it names
/// no `YYHn` release).
pub(super) type VersionKey = (u8, u32, u32, String);

/// The release a feature version names: `24H2`, `Windows 11, version 24H2` and `Windows 10,
/// version 22H2` give (11, 24, 2), (11, 24, 2) and (10, 22, 2). Without "Windows 10" the
/// version is taken as Windows 11's (the deployment service offers Windows 11 feature
/// updates; `deployment-service.md` §1); text without a `YYHn` release sorts by itself, after
/// its major version's releases.
pub(super) fn version_key(v: &str) -> VersionKey {
    let major = if v.contains("Windows 10") { 10 } else { 11 };
    let b = v.as_bytes();
    let release = (0..b.len().saturating_sub(3)).find_map(|i| {
        let w = &b[i..i + 4];
        let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let word_end = b.get(i + 4).is_none_or(|x| !x.is_ascii_alphanumeric());
        (word_start
            && word_end
            && w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2].eq_ignore_ascii_case(&b'H')
            && w[3].is_ascii_digit())
        .then(|| {
            (
                u32::from(w[0] - b'0') * 10 + u32::from(w[1] - b'0'),
                u32::from(w[3] - b'0'),
            )
        })
    });
    match release {
        Some((year, half)) => (major, year, half, String::new()),
        None => (major, u32::MAX, u32::MAX, v.to_string()),
    }
}

/// Validates the service side and builds the deduplicated content table.
#[allow(clippy::too_many_arguments)]
pub(super) fn service_side(
    c: &mut Checker,
    raw: &[RawDeployment],
    raw_groups: &BTreeMap<String, RawGroup>,
    raw_actions: &[RawAction],
    (graph_ids, catalog): (&BTreeMap<String, String>, &Catalog),
    (segments, inventory): (&[SegmentSpec], &super::inventory::DeviceNames),
    start_unix: i64,
    base: &Path,
) -> ServiceSide {
    let groups = groups(c, raw_groups, segments, inventory);
    let mut names = Names::new(
        segments,
        groups.iter().map(|g| g.name.clone()).collect(),
        inventory,
    );
    names.graph_ids = graph_ids_checked(c, graph_ids, &names);
    // Content and settings JSON per deployment, from TOML tables or a Graph file.
    let mut bodies: Vec<(Option<Value>, Option<Value>, String)> = Vec::new();
    // Only a Graph body has a state; a TOML deployment is created with requestedValue none.
    let mut requested: Vec<Requested> = Vec::new();
    for (i, d) in raw.iter().enumerate() {
        let path = format!("deployments[{i}]");
        match &d.graph {
            Some(file) => {
                if d.content.is_some() || d.settings.is_some() {
                    c.fail(
                        format!("{path}.graph"),
                        format!(
                            "conflicts with content/settings: take them from the Graph file or write them here, not both (to change a value of the file's for a run, --set deployments.{}.settings.PATH=VALUE changes the body as read, as does that path in a sweep)",
                            d.name
                        ),
                    );
                }
                let parts = with_json(c, &format!("{path}.graph"), base, file, |jc, v| {
                    let b = graph::deployment_body(jc, "", v);
                    (b.content.cloned(), b.settings.cloned(), b.requested)
                });
                let (content, settings, req) = parts.unwrap_or_default();
                bodies.push((content, settings, String::new()));
                requested.push(req);
            }
            None => {
                if d.content.is_none() {
                    c.fail(
                        format!("{path}.content"),
                        "is required: the Graph content object, e.g. { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", classification = \"security\", releaseDateTime = \"2026-01-13T18:00:00Z\" }, or graph = \"file.json\"",
                    );
                }
                let content = d
                    .content
                    .as_ref()
                    .map(|v| graph::toml_to_json_checked(c, &format!("{path}.content"), v));
                let settings = d
                    .settings
                    .as_ref()
                    .map(|v| graph::toml_to_json_checked(c, &format!("{path}.settings"), v));
                bodies.push((content, settings, path));
                requested.push(Requested::None);
            }
        }
    }
    // Content drafts; a Graph file's problems were reported against the file already, so its
    // content is checked with a throwaway checker when it came from a file.
    let mut drafts: Vec<ContentDraft> = Vec::new();
    for (i, (content, _, path)) in bodies.iter().enumerate() {
        let draft = match content {
            Some(v) if !path.is_empty() => {
                graph::content(c, &format!("{path}.content"), v, start_unix, Some(catalog))
            }
            Some(v) => {
                let mut fc = Checker {
                    json: true,
                    ..Checker::default()
                };
                let d = graph::content(&mut fc, "content", v, start_unix, Some(catalog));
                report_file_problems(
                    c,
                    (&format!("deployments[{i}].graph"), raw[i].graph.as_deref()),
                    base,
                    fc,
                );
                d
            }
            None => graph::content(
                &mut Checker::default(),
                "",
                &Value::Null,
                start_unix,
                Some(catalog),
            ),
        };
        drafts.push(draft);
    }
    // Feature levels follow the releases the versions name (22H2 < 23H2 < 24H2, Windows 10
    // before Windows 11), so "24H2" and "Windows 11, version 24H2" are one update.
    let mut versions: Vec<VersionKey> = drafts
        .iter()
        .filter(|d| d.category == Category::Feature)
        .map(|d| version_key(&d.version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let mut contents: Vec<Content> = Vec::new();
    let mut deployments = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (d, draft)) in raw.iter().zip(&drafts).enumerate() {
        let path = format!("deployments[{i}]");
        if !seen.insert(d.name.as_str()) {
            c.fail(
                format!("{path}.name"),
                format!(
                    "deployment names must be unique, found \"{}\" twice",
                    d.name
                ),
            );
        }
        // The name makes output file names (states-NAME.png, a character each), which a file
        // system refuses past 255 bytes: told now, not after the run.
        let length = d.name.chars().count();
        if length > MAX_DEPLOYMENT_NAME {
            c.fail(
                format!("{path}.name"),
                format!(
                    "is {length} characters long; at most {MAX_DEPLOYMENT_NAME}, as the name makes output file names (states-NAME.png)"
                ),
            );
        }
        let (name, level, release) = match draft.category {
            Category::Feature => (
                format!("Windows feature update {}", draft.version),
                versions
                    .iter()
                    .position(|v| *v == version_key(&draft.version))
                    .unwrap_or(0) as i64,
                draft.release_unix - start_unix,
            ),
            Category::Quality => {
                let date = crate::time::format_instant(draft.release_unix, 0);
                (
                    format!("quality update released {}", &date[..10.min(date.len())]),
                    draft.release_unix,
                    draft.release_unix - start_unix,
                )
            }
        };
        let deployable_until = draft
            .deployable_until
            .map(|u| (u - start_unix).max(0) as Time);
        // One record per update: deployments of the same release (or version) and
        // classification share it. When it can no longer be deployed is the deployment's own
        // (`deployableUntilDateTime` of the catalog entry it names), kept on the deployment.
        let idx = match contents.iter().position(|x| {
            x.category == draft.category && x.level == level && x.security == draft.security
        }) {
            Some(x) => x,
            None => {
                contents.push(Content {
                    name,
                    category: draft.category,
                    level,
                    release,
                    security: draft.security,
                });
                contents.len() - 1
            }
        };
        let (_, settings_v, spath) = &bodies[i];
        let settings = if spath.is_empty() {
            let mut fc = Checker {
                json: true,
                horizon_unix: c.horizon_unix,
                ..Checker::default()
            };
            let s = graph::settings(
                &mut fc,
                "settings",
                settings_v.as_ref(),
                start_unix,
                draft.category,
                draft.expedited_type,
                draft.hotpatch_refusal(),
            );
            report_file_problems(c, (&format!("{path}.graph"), d.graph.as_deref()), base, fc);
            s
        } else {
            graph::settings(
                c,
                &format!("{path}.settings"),
                settings_v.as_ref(),
                start_unix,
                draft.category,
                draft.expedited_type,
                draft.hotpatch_refusal(),
            )
        };
        // The service expedites released content only (an expedite names an update by its
        // release); one released after the deployment's start waits for it: the push comes
        // on release day.
        let mut settings = settings;
        if settings.expedited && release > settings.start as i64 {
            let at = crate::time::format_instant(draft.release_unix, 0);
            c.warnings.push(format!(
                "{path}.{}: the expedited update is released {} after the deployment starts ({at}): the service expedites released updates only, so the deployment starts at the release (set settings.schedule.startDateTime to say so)",
                if spath.is_empty() { "graph" } else { "content" },
                crate::time::fmt_span(release as Time - settings.start),
            ));
            settings.start = release as Time;
        }
        if draft.expeditable == Some(false) && settings.expedited {
            c.fail(
                format!("{path}.settings.expedite.isExpedited"),
                "the catalog entry says isExpeditable = false: the service refuses to expedite it (400)",
            );
        }
        let mut audience = Audience {
            members: vec![Member::All],
            exclusions: Vec::new(),
        };
        if let Some(a) = &d.audience {
            let ap = format!("{path}.audience");
            audience.members = match &a.members {
                Some(m) => member_list(c, &names, &format!("{ap}.members"), m),
                None if a.graph.is_some() => Vec::new(),
                None => vec![Member::All],
            };
            audience.exclusions =
                member_list(c, &names, &format!("{ap}.exclusions"), &a.exclusions);
            if let Some(file) = &a.graph {
                let [add_m, rem_m, add_x, rem_x] =
                    audience_json(c, &names, &format!("{ap}.graph"), base, file);
                audience.members.extend(add_m);
                audience.members.retain(|m| !rem_m.contains(m));
                audience.exclusions.extend(add_x);
                audience.exclusions.retain(|m| !rem_x.contains(m));
            }
        }
        let ordering = match &d.ordering {
            None => Ordering::default(),
            Some(o) => Ordering::from_name(o).unwrap_or_else(|| {
                c.fail(
                    format!("{path}.ordering"),
                    format!(
                        "unknown ordering \"{o}\"{}; expected one of {}",
                        suggest(o, &Ordering::NAMES),
                        Ordering::NAMES.join(", ")
                    ),
                );
                Ordering::default()
            }),
        };
        deployments.push(DeploymentDef {
            name: d.name.clone(),
            content: index16(idx),
            settings,
            audience,
            ordering,
            latest_security: draft.latest_security,
            requested: requested[i],
            deployable_until,
        });
    }
    let actions = actions(
        c,
        raw_actions,
        &names,
        &bodies,
        &drafts,
        &deployments,
        start_unix,
        base,
    );
    warn_overlapping_draws(c, &groups, &deployments);
    if !c.inventory_failed {
        warn_empty_audiences(c, raw, (&groups, segments), &deployments, &actions);
    }
    warn_unused_groups(c, &groups, &deployments, &actions);
    // An entry no body names is harmless but is most likely a misspelt id, whose body entry
    // then went unmapped (reported there), or an id left over from an older body.
    for g in &names.graph_ids.entries {
        if !g.used.get() && g.names.is_some() {
            c.warnings.push(format!(
                "graph_ids.{}: no Graph body names this id, so its mapping to \"{}\" is not used",
                quoted_key(&g.id),
                g.target
            ));
        }
    }
    ServiceSide {
        contents,
        deployments,
        content_unknown: bodies.iter().map(|(v, _, _)| v.is_none()).collect(),
        release_assumed: drafts.iter().map(|d| d.release_assumed).collect(),
        groups,
        actions,
    }
}

/// Which devices of one segment a set of audience entries holds, as far as it is known at load:
/// none, some by index, or all.
#[derive(Clone, Debug, PartialEq)]
enum Cover {
    None,
    Some(std::collections::BTreeSet<u32>),
    All,
}

impl Cover {
    fn add(&mut self, index: u32) {
        match self {
            Cover::All => {}
            Cover::Some(set) => {
                set.insert(index);
            }
            Cover::None => *self = Cover::Some([index].into()),
        }
    }

    /// Whether every device this covers, of a segment of `devices`, `other` covers too.
    fn within(&self, other: &Cover, devices: u32) -> bool {
        let full = |c: &Cover| match c {
            Cover::All => true,
            Cover::Some(set) => (0..devices).all(|i| set.contains(&i)),
            Cover::None => devices == 0,
        };
        match (self, other) {
            (Cover::None, _) | (_, Cover::All) => true,
            (Cover::All, _) => full(other),
            (Cover::Some(a), Cover::Some(b)) => a.is_subset(b),
            (Cover::Some(a), Cover::None) => a.is_empty(),
        }
    }
}

/// The devices of each segment that `entries` hold, decided at load: those they may hold
/// (`certain` false: a group's random share or attribute draw may take any device it could), or
/// those they hold whatever the draw (`certain` true: a group drawn at random holds only the
/// devices it names).
fn reach(
    entries: &[Member],
    (groups, segments): (&[GroupDef], &[SegmentSpec]),
    certain: bool,
) -> Vec<Cover> {
    let mut out = vec![Cover::None; segments.len()];
    for m in entries {
        match *m {
            Member::All => out.fill(Cover::All),
            Member::Segment(s) => {
                if let Some(c) = out.get_mut(s as usize) {
                    *c = Cover::All;
                }
            }
            Member::Device { segment, index } => {
                if let Some(c) = out.get_mut(segment as usize) {
                    c.add(index);
                }
            }
            Member::Group(g) => {
                let Some(g) = groups.get(g as usize) else {
                    continue;
                };
                for &(s, i) in &g.devices {
                    if let Some(c) = out.get_mut(s as usize) {
                        c.add(i);
                    }
                }
                // As the service resolves a group: its segments' devices that match its filter,
                // unless it names devices only (see `resolve_group`).
                let drawn = g.filter.is_some() || !g.segments.is_empty() || g.devices.is_empty();
                let whole =
                    g.share.is_none_or(|x| x >= 1.0) && g.count.is_none() && g.excluding.is_empty();
                if !drawn || certain && !whole {
                    continue;
                }
                for (s, spec) in segments.iter().enumerate() {
                    let in_group = g.segments.is_empty() || g.segments.contains(&index16(s));
                    let matches = g.filter.as_ref().is_none_or(|f| match certain {
                        true => f.always_matches(spec),
                        false => f.can_match(spec),
                    });
                    if in_group && matches {
                        out[s] = Cover::All;
                    }
                }
            }
        }
    }
    out
}

/// Per segment of `sc`, whether deployment `di`'s audience may hold one of its devices at some
/// instant of a run, whatever the draw: a device of its members or of the members an action
/// adds, unless the exclusions hold it whatever the draw and no action removes an exclusion.
/// It errs towards reaching: a segment it says is not reached is reached by no draw (a sweep
/// warns on it of settings that change nothing).
pub fn segments_reached(sc: &crate::scenario::Scenario, di: usize) -> Vec<bool> {
    let fleet = (sc.groups.as_slice(), sc.segments.as_slice());
    let Some(d) = sc.deployments.get(di) else {
        return vec![false; sc.segments.len()];
    };
    let mut members = d.audience.members.clone();
    let mut exclusions_stay = true;
    for a in sc
        .actions
        .iter()
        .filter(|a| usize::from(a.deployment) == di)
    {
        if let ActionKind::UpdateAudience {
            add_members,
            remove_exclusions,
            ..
        } = &a.kind
        {
            members.extend(add_members.iter().cloned());
            exclusions_stay &= remove_exclusions.is_empty();
        }
    }
    let may = reach(&members, fleet, false);
    let excluded = match exclusions_stay {
        true => reach(&d.audience.exclusions, fleet, true),
        false => vec![Cover::None; sc.segments.len()],
    };
    sc.segments
        .iter()
        .enumerate()
        .map(|(s, spec)| spec.devices > 0 && !may[s].within(&excluded[s], spec.devices))
        .collect()
}

/// Whether an action grows the audience of deployment `di` (adds members or removes exclusions).
fn audience_grows(actions: &[Action], di: usize) -> bool {
    actions.iter().any(|a| {
        usize::from(a.deployment) == di
            && matches!(&a.kind, ActionKind::UpdateAudience { add_members, remove_exclusions, .. }
                if !add_members.is_empty() || !remove_exclusions.is_empty())
    })
}

/// Why `audience` holds no device at the start whatever the draw, or None when a draw (or the
/// fleet's size) may give it devices.
fn empty_whatever_the_draw(
    audience: &Audience,
    fleet: (&[GroupDef], &[SegmentSpec]),
) -> Option<&'static str> {
    let segments = fleet.1;
    // An entry that is also an exclusion holds nothing, whatever its draw (one group is
    // drawn once).
    let (a, x) = (&audience.members, &audience.exclusions);
    let kept: Vec<Member> = a.iter().filter(|m| !x.contains(m)).cloned().collect();
    let may = reach(&kept, fleet, false);
    let excluded = reach(x, fleet, true);
    let empty = segments
        .iter()
        .enumerate()
        .all(|(s, spec)| may[s].within(&excluded[s], spec.devices));
    if !empty {
        return None;
    }
    let all = reach(a, fleet, false);
    let held = segments
        .iter()
        .enumerate()
        .any(|(s, spec)| !all[s].within(&Cover::None, spec.devices));
    Some(match (a.is_empty(), held) {
        (true, _) => "it lists no members",
        (false, false) => "its members hold no device",
        (false, true) => "every device its members hold is also excluded (exclusions win)",
    })
}

/// Warns of a deployment whose audience holds no device at the start, whatever the draw, and
/// gains none from actions (none adds members or removes exclusions): it offers nothing, which a
/// run tells only as "0/0 compliant".
fn warn_empty_audiences(
    c: &mut Checker,
    raw: &[RawDeployment],
    fleet: (&[GroupDef], &[SegmentSpec]),
    deployments: &[DeploymentDef],
    actions: &[Action],
) {
    let segments = fleet.1;
    if segments.iter().all(|s| s.devices == 0) {
        return;
    }
    for (di, d) in deployments.iter().enumerate() {
        if audience_grows(actions, di) {
            continue;
        }
        let Some(why) = empty_whatever_the_draw(&d.audience, fleet) else {
            continue;
        };
        let path = match raw.get(di).is_some_and(|r| r.audience.is_some()) {
            true => format!("deployments[{di}].audience"),
            false => format!("deployments[{di}]"),
        };
        c.warnings.push(format!(
            "{path}: holds no device: {why}, and no action adds members, so the deployment offers nothing"
        ));
    }
}

/// Whether an audience of deployment `di` that holds no device as a run starts is told once the
/// fleet is drawn: loading did not tell it (a draw may fill it), and no action adds members to it
/// or removes exclusions from it.
pub fn empty_told_after_draw(sc: &crate::scenario::Scenario, di: usize) -> bool {
    let fleet = (sc.groups.as_slice(), sc.segments.as_slice());
    sc.deployments.get(di).is_some_and(|d| {
        !audience_grows(&sc.actions, di) && empty_whatever_the_draw(&d.audience, fleet).is_none()
    })
}

/// The warning of a batch, once its runs are done, of deployment `di` of `sc` whose audience held
/// no device as the run started in some of its runs: `runs` tells in how many (the text after
/// "holds no device in": `3 of 20 replications`). Like [`empty_audience_warnings`] for a run,
/// without a line (a sweep's variants share the text of the file), naming the audience's groups.
pub fn empty_audience_batch_warning(
    sc: &crate::scenario::Scenario,
    di: usize,
    runs: &str,
) -> String {
    let Some(d) = sc.deployments.get(di) else {
        return String::new();
    };
    let groups = audience_groups(d, |g, role| {
        sc.groups
            .get(g)
            .map(|def| format!("{role}group \"{}\"", def.name))
    });
    let groups = match groups.is_empty() {
        true => String::new(),
        false => format!("{}: ", groups.join(", ")),
    };
    format!(
        "deployments[{di}].audience: \"{}\" holds no device in {runs} ({groups}groups' random shares and the attributes drawn decide it); no action adds members, so the deployment offers nothing in those runs",
        d.name
    )
}

/// What `describe(group, role)` says of each group of `d`'s audience: its members (role "")
/// then its exclusions (role "excluded ").
fn audience_groups(
    d: &DeploymentDef,
    describe: impl Fn(usize, &str) -> Option<String>,
) -> Vec<String> {
    let group = |m: &Member, role: &str| match *m {
        Member::Group(g) => describe(usize::from(g), role),
        _ => None,
    };
    d.audience
        .members
        .iter()
        .filter_map(|m| group(m, ""))
        .chain(
            d.audience
                .exclusions
                .iter()
                .filter_map(|m| group(m, "excluded ")),
        )
        .collect()
}

/// The warnings, once the fleet is generated, of the deployments whose audience holds no device
/// as the run starts (`start`, from replication 0 of `seed`) and that no action adds members to,
/// when loading could not tell it: a group's random share or an attribute filter on drawn
/// attributes emptied it (`pilot = { share = 0.01 }` of 10 devices draws none). Those loading
/// warned of are not told again. Located in `text`, the scenario as run, as `file`'s warnings
/// are; each names the groups of the audience and what they hold in this fleet.
pub fn empty_audience_warnings(
    sc: &crate::scenario::Scenario,
    start: &crate::service::StartAudiences,
    seed: u64,
    (file, text): (&str, &str),
) -> Vec<String> {
    if sc.segments.iter().all(|s| s.devices == 0) {
        return Vec::new();
    }
    let loc = super::locate::Locator::new(text);
    let mut out: Vec<String> = Vec::new();
    for (di, d) in sc.deployments.iter().enumerate() {
        let empty = start.empty.get(di).copied().unwrap_or(false);
        if !empty || !empty_told_after_draw(sc, di) {
            continue;
        }
        let groups = audience_groups(d, |g, role| {
            sc.groups.get(g).map(|def| {
                let n = start.group_sizes.get(g).copied().unwrap_or(0);
                let s = if n == 1 { "" } else { "s" };
                format!("{role}group \"{}\" holds {n} device{s}", def.name)
            })
        });
        let groups = match groups.is_empty() {
            true => String::new(),
            false => format!(": {}", groups.join(", ")),
        };
        let path = format!("deployments[{di}].audience");
        let path = if loc.has(&path) {
            path
        } else {
            format!("deployments[{di}]")
        };
        out.push(format!(
            "{path}: holds no device in this fleet (seed {seed}, replication 0){groups}; no action adds members, so the deployment offers nothing (groups' random shares and the attributes drawn decide it: another seed or fleet size may differ)"
        ));
    }
    super::locate_warnings(&mut out, file, false, |p| loc.position(p));
    out
}

/// What the warning about a group nothing uses says, after its path: a sweep tells it only when
/// no variant uses the group (a variant may name it in an audience).
pub const UNUSED_GROUP: &str = "nothing uses this group";

/// Warns of a `[groups] NAME` that nothing uses: no deployment's audience names it (as a member
/// or an exclusion, written in the scenario or a Graph body), no `update_audience` action adds or
/// removes it, and no group that one of those uses leaves it out (`excluding`). Its draw is
/// keyed by its name (README, Randomness), so it changes nothing, and the likeliest cause is an
/// audience that was meant to name it: a pilot defined but never targeted, or an exclusion
/// forgotten, which a run never tells.
fn warn_unused_groups(
    c: &mut Checker,
    groups: &[GroupDef],
    deployments: &[DeploymentDef],
    actions: &[Action],
) {
    let mut used = vec![false; groups.len()];
    let mut todo: Vec<usize> = Vec::new();
    let name = |m: &Member, todo: &mut Vec<usize>| {
        if let Member::Group(g) = *m {
            todo.push(usize::from(g));
        }
    };
    for d in deployments {
        for m in d.audience.members.iter().chain(&d.audience.exclusions) {
            name(m, &mut todo);
        }
    }
    for a in actions {
        if let ActionKind::UpdateAudience {
            add_members,
            remove_members,
            add_exclusions,
            remove_exclusions,
        } = &a.kind
        {
            for m in add_members
                .iter()
                .chain(remove_members)
                .chain(add_exclusions)
                .chain(remove_exclusions)
            {
                name(m, &mut todo);
            }
        }
    }
    // A used group's `excluding` shapes its draw: the groups it names are used too.
    while let Some(g) = todo.pop() {
        if g >= used.len() || used[g] {
            continue;
        }
        used[g] = true;
        todo.extend(groups[g].excluding.iter().map(|&x| usize::from(x)));
    }
    for (g, def) in groups.iter().enumerate() {
        if used[g] {
            continue;
        }
        let named_by: Vec<&str> = groups
            .iter()
            .filter(|o| o.excluding.iter().any(|&x| usize::from(x) == g))
            .map(|o| o.name.as_str())
            .collect();
        let only = match named_by.is_empty() {
            true => String::new(),
            false => format!(
                " (only the excluding of {}, which nothing uses either, names it)",
                named_by
                    .iter()
                    .map(|n| format!("group \"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        c.warnings.push(format!(
            "groups.{}: {UNUSED_GROUP}: no deployment's audience names it (as a member or an exclusion), nor does an update_audience action{only}, so it has no effect; name it in an audience (members = [\"{}\"], or exclusions) or remove it",
            quoted_key(&def.name),
            def.name
        ));
    }
}

/// Warns of two groups in one audience that each draw a random share of devices both could
/// hold, neither excluding the other: drawn independently, they overlap (rings meant to be
/// disjoint are not), by about the product of the shares.
fn warn_overlapping_draws(c: &mut Checker, groups: &[GroupDef], deployments: &[DeploymentDef]) {
    let mut told = Vec::new();
    for (di, d) in deployments.iter().enumerate() {
        let drawn: Vec<usize> = d
            .audience
            .members
            .iter()
            .filter_map(|m| match m {
                Member::Group(g) => Some(*g as usize),
                _ => None,
            })
            .filter(|&g| groups.get(g).is_some_and(GroupDef::is_drawn))
            .collect();
        for (i, &a) in drawn.iter().enumerate() {
            for &b in &drawn[i + 1..] {
                let (ga, gb) = (&groups[a], &groups[b]);
                let shared_segments = ga.segments.is_empty()
                    || gb.segments.is_empty()
                    || ga.segments.iter().any(|s| gb.segments.contains(s));
                let excluded =
                    ga.excluding.contains(&index16(b)) || gb.excluding.contains(&index16(a));
                if a == b || excluded || !shared_segments || told.contains(&(a.min(b), a.max(b))) {
                    continue;
                }
                told.push((a.min(b), a.max(b)));
                // With two shares the overlap is about their product; a count is a share of a
                // fleet only the draw knows, so it is named without one.
                let overlap = match (ga.share, gb.share) {
                    (Some(sa), Some(sb)) => format!(
                        "so about {:.2} % of the devices both could hold are in both",
                        sa * sb * 100.0
                    ),
                    _ => "so they can hold the same devices".to_string(),
                };
                let what = match (ga.share, gb.share) {
                    (Some(sa), Some(sb)) => format!("a random share ({sa} and {sb})"),
                    _ => {
                        let draw = |g: &GroupDef| match (g.share, g.count) {
                            (Some(s), _) => format!("a share of {s}"),
                            (None, Some(n)) => format!("{n} devices"),
                            (None, None) => "all".to_string(),
                        };
                        format!("at random ({} and {})", draw(ga), draw(gb))
                    }
                };
                c.warnings.push(format!(
                    "deployments[{di}].audience.members: groups \"{}\" and \"{}\" each draw {what} independently, {overlap}; to make them disjoint rings, add excluding = [\"{}\"] to group \"{}\"",
                    ga.name,
                    gb.name,
                    ga.name,
                    gb.name,
                ));
            }
        }
    }
}

/// Moves problems found in a Graph file's content or settings into a file error; `field` names
/// the file in the scenario (`deployments[0].graph`).
fn report_file_problems(
    c: &mut Checker,
    (field, file): (&str, Option<&str>),
    base: &Path,
    fc: Checker,
) {
    let Some(rel) = file else { return };
    let path = base.join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let file = path.display().to_string();
    let json = JsonLocator::new(&text);
    let mut located = fc.warnings.clone();
    super::locate_warnings(&mut located, &file, true, |p| json.position(p));
    c.warnings.append(&mut located);
    if fc.problems.is_empty() {
        return;
    }
    let problems = body_problems(c, field, &text, fc.problems);
    // One error per file, in file order: a PATCH body's settings are checked after the rest of
    // the body, and both are worth telling at once; a body used by two actions tells its
    // problem once.
    match c.file_errors.iter_mut().find(|e| e.file == file) {
        Some(e) => {
            for p in problems {
                if !e.problems.contains(&p) {
                    e.problems.push(p);
                }
            }
            e.problems.sort_by_key(|p| (p.line, p.column));
        }
        None => c.file_errors.push(InputError { file, problems }),
    }
}

/// An update_audience action's removals (index 0: members, 1: exclusions), as written in the
/// scenario and in its updateAudience body (`file`).
#[derive(Default)]
struct Removals<'a> {
    toml: [Vec<Entry>; 2],
    json: [Vec<Entry>; 2],
    file: Option<&'a str>,
}

/// Warns of each removal, in the actions sorted in time order (`sorted`, with their index in
/// `raw`), of an entry the deployment's audience does not list at that instant (as it stands
/// after the earlier actions): the service removes entries as they are listed, so removing a
/// group from an audience of `"all"`, or a device from a group's, changes nothing, and a run
/// tells that only as "0 devices left" in `events.csv`. Such a removal is usually meant to keep
/// those devices out, which is what an exclusion does.
fn warn_idle_removals(
    c: &mut Checker,
    sorted: &[(usize, Action)],
    raw: &[RawAction],
    removals: &[Removals<'_>],
    names: &Names<'_>,
    deployments: &[DeploymentDef],
    base: &Path,
) {
    // Each deployment's member and exclusion entries so far.
    let mut lists: Vec<[Vec<Member>; 2]> = deployments
        .iter()
        .map(|d| [d.audience.members.clone(), d.audience.exclusions.clone()])
        .collect();
    for (i, a) in sorted {
        let ActionKind::UpdateAudience {
            add_members,
            remove_members,
            add_exclusions,
            remove_exclusions,
        } = &a.kind
        else {
            continue;
        };
        let d = usize::from(a.deployment);
        let (Some(entries), Some(dep), Some(r)) =
            (lists.get_mut(d), deployments.get(d), removals.get(*i))
        else {
            continue;
        };
        let mut json = Checker::default();
        for k in 0..2 {
            let what = ["member", "exclusion"][k];
            let listed = &entries[k];
            let shown = entry_labels(names, listed);
            let idle =
                |e: &&Entry| !e.members.is_empty() && !e.members.iter().any(|m| listed.contains(m));
            let tell = |e: &Entry, hint: &str| {
                format!(
                    "{}: {} is not {} {what} entry of deployment \"{}\" at {} (its {what}s: {shown}): removing it changes nothing{hint}",
                    e.path,
                    e.written,
                    if k == 0 { "a" } else { "an" },
                    dep.name,
                    raw[*i].at,
                )
            };
            for e in r.toml[k].iter().filter(idle) {
                let hint = ["; to keep its devices out, use add_exclusions", ""][k];
                c.warnings.push(tell(e, hint));
            }
            for e in r.json[k].iter().filter(idle) {
                let hint = ["; to keep its devices out, use addExclusions", ""][k];
                json.warnings.push(tell(e, hint));
            }
        }
        if !json.warnings.is_empty() {
            // Located in the body, as its other warnings are.
            report_file_problems(c, (&format!("actions[{i}].graph"), r.file), base, json);
        }
        // As the service applies the action: removals first, then additions (once each).
        for (k, (add, remove)) in [
            (add_members, remove_members),
            (add_exclusions, remove_exclusions),
        ]
        .into_iter()
        .enumerate()
        {
            let list = &mut entries[k];
            list.retain(|m| !remove.contains(m));
            for m in add {
                if !list.contains(m) {
                    list.push(m.clone());
                }
            }
        }
    }
}

/// Audience entries as a warning shows them: `"all", "it"`, the first eight, or `none`.
fn entry_labels(names: &Names<'_>, entries: &[Member]) -> String {
    let mut labels: Vec<String> = Vec::new();
    for m in entries {
        let label = match *m {
            Member::All => "all".to_string(),
            Member::Segment(s) => names
                .segments
                .get(usize::from(s))
                .map_or_else(|| format!("segment {s}"), |x| x.name.clone()),
            Member::Group(g) => names
                .groups
                .get(usize::from(g))
                .cloned()
                .unwrap_or_else(|| format!("group {g}")),
            Member::Device { segment, index } => names
                .inventory
                .iter()
                .find(|(_, at)| **at == (segment, index))
                .map(|(k, _)| k.clone())
                .or_else(|| {
                    let seg = names.segments.get(usize::from(segment))?;
                    Some(format!("{}-{}", seg.name, u64::from(index) + 1))
                })
                .unwrap_or_else(|| format!("device {index}")),
        };
        // An inventory makes several segments of one name: one label for them.
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    match labels.len() {
        0 => "none".to_string(),
        n => {
            let mut shown: Vec<String> =
                labels.iter().take(8).map(|l| format!("\"{l}\"")).collect();
            if n > 8 {
                shown.push(format!("… {} in all", n));
            }
            shown.join(", ")
        }
    }
}

const ACTIONS: [&str; 6] = [
    "pause",
    "resume",
    "archive",
    "update_audience",
    "set",
    "patch",
];

#[allow(clippy::too_many_arguments)]
fn actions(
    c: &mut Checker,
    raw: &[RawAction],
    names: &Names<'_>,
    bodies: &[(Option<Value>, Option<Value>, String)],
    drafts: &[ContentDraft],
    deployments: &[DeploymentDef],
    start_unix: i64,
    base: &Path,
) -> Vec<Action> {
    let dep_names: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
    let mut out: Vec<(usize, Action)> = Vec::new();
    // Each action's settings PATCH, as JSON, and the Graph file it came from (none: the TOML
    // `settings` of a `set`).
    let mut patches: Vec<Option<(Value, Option<&str>)>> = vec![None; raw.len()];
    // Each update_audience action's removals as written (`remove_members`, then
    // `remove_exclusions`), and the Graph file of those from an updateAudience body: checked
    // below, in time order, against the audience's entries at the action's instant.
    let mut removals: Vec<Removals> = (0..raw.len()).map(|_| Removals::default()).collect();
    for (i, a) in raw.iter().enumerate() {
        let path = format!("actions[{i}]");
        let when = at(c, &format!("{path}.at"), &a.at, start_unix);
        // Judged here, where the action's index is the file's: the actions are sorted in time
        // order below. A horizon that could not be read judges none.
        if let Some(end) = c.horizon_unix {
            let horizon = (end - start_unix).max(0) as Time;
            if when > horizon {
                c.fail(
                    format!("{path}.at"),
                    format!(
                        "is after the horizon ({}): it would never happen",
                        crate::time::fmt_span(horizon)
                    ),
                );
            }
        }
        let Some(d) = dep_names.iter().position(|n| *n == a.deployment) else {
            c.fail(
                format!("{path}.deployment"),
                format!(
                    "no deployment named \"{}\"{}; deployments are {}",
                    a.deployment,
                    suggest(&a.deployment, &dep_names),
                    dep_names.join(", ")
                ),
            );
            continue;
        };
        // `graph` is the body of the request the action makes: updateAudience or PATCH.
        let audience_fields = a.add_members.is_some()
            || a.remove_members.is_some()
            || a.add_exclusions.is_some()
            || a.remove_exclusions.is_some()
            || a.graph.is_some() && a.what != "patch";
        let kind = match a.what.as_str() {
            "pause" => ActionKind::Pause,
            "resume" => ActionKind::Resume,
            "archive" => ActionKind::Archive,
            "update_audience" => {
                let lists = [
                    &a.add_members,
                    &a.remove_members,
                    &a.add_exclusions,
                    &a.remove_exclusions,
                ];
                let keys = [
                    "add_members",
                    "remove_members",
                    "add_exclusions",
                    "remove_exclusions",
                ];
                let mut l: [Vec<Member>; 4] = Default::default();
                for k in 0..4 {
                    let Some(list) = lists[k] else { continue };
                    for (j, name) in list.iter().enumerate() {
                        let at = format!("{path}.{}[{j}]", keys[k]);
                        let members = names.member(c, &at, name);
                        l[k].extend(members.iter().cloned());
                        if k % 2 == 1 {
                            removals[i].toml[k / 2].push(Entry {
                                members,
                                path: at,
                                written: format!("\"{name}\""),
                            });
                        }
                    }
                }
                if let Some(file) = &a.graph {
                    let j = audience_json_entries(c, names, &format!("{path}.graph"), base, file);
                    for (k, extra) in j.into_iter().enumerate() {
                        l[k].extend(extra.iter().flat_map(|e| e.members.iter().cloned()));
                        if k % 2 == 1 {
                            removals[i].json[k / 2] = extra;
                        }
                    }
                    removals[i].file = Some(file.as_str());
                }
                if !audience_fields {
                    c.fail(
                        &path,
                        format!(
                            "update_audience needs add_members, remove_members, add_exclusions, remove_exclusions or graph (an updateAudience body with {})",
                            AUDIENCE_LISTS.join("/")
                        ),
                    );
                }
                let [
                    add_members,
                    remove_members,
                    add_exclusions,
                    remove_exclusions,
                ] = l;
                ActionKind::UpdateAudience {
                    add_members,
                    remove_members,
                    add_exclusions,
                    remove_exclusions,
                }
            }
            "set" => {
                match &a.settings {
                    Some(p) => {
                        let json = graph::toml_to_json_checked(c, &format!("{path}.settings"), p);
                        patches[i] = Some((json, None));
                    }
                    None => c.fail(
                        format!("{path}.settings"),
                        "is required for do = \"set\": the deploymentSettings properties to change (a PATCH body)",
                    ),
                }
                // Placeholder; resolved below in time order.
                ActionKind::Settings {
                    settings: Box::default(),
                    rules: false,
                }
            }
            "patch" => {
                let Some(file) = &a.graph else {
                    c.fail(
                        format!("{path}.graph"),
                        "is required for do = \"patch\": a JSON file holding the PATCH .../deployments/{id} request body (state, settings or both)",
                    );
                    continue;
                };
                let Some((requested, settings)) =
                    with_json(c, &format!("{path}.graph"), base, file, |jc, v| {
                        let b = graph::patch_body(jc, "", v);
                        (b.requested, b.settings.cloned())
                    })
                else {
                    continue;
                };
                let has_settings = settings.is_some();
                patches[i] = settings.map(|s| (s, Some(file.as_str())));
                // A state-only PATCH is the request a pause, resume or archive action makes,
                // and runs as one; settings are resolved below in time order, as for `set`.
                match (requested, has_settings) {
                    (Some(Requested::Paused), false) => ActionKind::Pause,
                    (Some(Requested::None), false) => ActionKind::Resume,
                    (Some(Requested::Archived), false) => ActionKind::Archive,
                    (None, true) => ActionKind::Settings {
                        settings: Box::default(),
                        rules: false,
                    },
                    (Some(requested), true) => ActionKind::Patch {
                        requested,
                        settings: Box::default(),
                        rules: false,
                    },
                    // The body changes nothing: already told.
                    (None, false) => continue,
                }
            }
            other => {
                c.fail(
                    format!("{path}.do"),
                    format!(
                        "unknown action \"{other}\"{}; expected one of {}",
                        suggest(other, &ACTIONS),
                        ACTIONS.join(", ")
                    ),
                );
                continue;
            }
        };
        if audience_fields && a.what != "update_audience" {
            let also = if a.graph.is_some() {
                " (graph also to do = \"patch\", as a PATCH body)"
            } else {
                ""
            };
            c.fail(
                &path,
                format!(
                    "audience fields apply only to do = \"update_audience\"{also}, not \"{}\"",
                    a.what
                ),
            );
        }
        if a.settings.is_some() && a.what != "set" {
            c.fail(
                format!("{path}.settings"),
                format!("applies only to do = \"set\", not \"{}\"", a.what),
            );
        }
        out.push((
            i,
            Action {
                at: when,
                deployment: index16(d),
                kind,
            },
        ));
    }
    out.sort_by_key(|(i, a)| (a.at, *i));
    warn_idle_removals(c, &out, raw, &removals, names, deployments, base);
    // Settings patches apply in time order on top of each deployment's settings so far.
    let mut current: Vec<Value> = bodies
        .iter()
        .map(|(_, s, _)| s.clone().unwrap_or(Value::Object(Default::default())))
        .collect();
    // Per deployment, the warnings its settings have given so far (from `settings.` on): an
    // action re-checks all of the merged settings, and what the deployment or an earlier action
    // was already told about is not told again under the action's path.
    let mut told: Vec<Option<Vec<String>>> = vec![None; bodies.len()];
    for (i, a) in out.iter_mut() {
        let (ActionKind::Settings { settings: s, rules }
        | ActionKind::Patch {
            settings: s, rules, ..
        }) = &mut a.kind
        else {
            continue;
        };
        let Some((patch, file)) = &patches[*i] else {
            continue;
        };
        let d = a.deployment as usize;
        // Only a PATCH that writes the rules restarts them (fact sheet §7).
        *rules = patch
            .get("monitoring")
            .is_some_and(|m| !m.is_object() || m.get("monitoringRules").is_some());
        graph::replace_rollout_of_another_kind(&mut current[d], patch);
        graph::merge_patch(&mut current[d], patch);
        if bodies[d].0.is_none() {
            // The deployment's content could not be read (its own error says why): what the
            // settings may hold depends on it, so they are not judged against a guess.
            continue;
        }
        let (category, expedited, hotpatch) = (
            drafts[d].category,
            drafts[d].expedited_type,
            drafts[d].hotpatch_refusal(),
        );
        let told = told[d].get_or_insert_with(|| {
            let mut first = Checker {
                horizon_unix: c.horizon_unix,
                ..Checker::default()
            };
            graph::settings(
                &mut first,
                "settings",
                bodies[d].1.as_ref(),
                start_unix,
                category,
                expedited,
                hotpatch,
            );
            first.warnings.iter().map(|w| settings_key(w)).collect()
        });
        let mut ac = Checker {
            inventory_failed: c.inventory_failed,
            horizon_unix: c.horizon_unix,
            settled: c.settled.clone(),
            ..Checker::default()
        };
        **s = graph::settings(
            &mut ac,
            &match file {
                None => format!("actions[{i}].settings"),
                // Problems are located in the PATCH body, at the path they have there.
                Some(_) => "settings".to_string(),
            },
            Some(&current[d]),
            start_unix,
            category,
            expedited,
            hotpatch,
        );
        ac.warnings.retain(|w| {
            let key = settings_key(w);
            let new = !told.contains(&key);
            if new {
                told.push(key);
            }
            new
        });
        match file {
            None => {
                c.problems.append(&mut ac.problems);
                c.warnings.append(&mut ac.warnings);
            }
            Some(rel) => {
                report_file_problems(c, (&format!("actions[{i}].graph"), Some(rel)), base, ac)
            }
        }
    }
    out.into_iter().map(|(_, a)| a).collect()
}

/// A settings warning without the path before `settings.`, so that the same warning about a
/// deployment's settings compares equal whether told for the deployment or for an action.
fn settings_key(w: &str) -> String {
    w.find("settings.").map_or(w, |i| &w[i..]).to_string()
}

/// Checks a `PATCH .../deployments/{id}` body on its own and describes it. Without the
/// deployment it patches, its settings are checked under two deployments, a feature update and
/// an expedited quality update: only what is wrong (or warned about) under both is reported, as
/// it is wrong whatever the deployment (a monitoring rule on a quality update, for one, is the
/// scenario's to refuse).
fn patch_description(c: &mut Checker, v: &Value) -> String {
    let body = graph::patch_body(c, "", v);
    if let Some(settings) = body.settings {
        let mut feature = Checker {
            json: true,
            ..Checker::default()
        };
        graph::settings(
            &mut feature,
            "settings",
            Some(settings),
            0,
            Category::Feature,
            false,
            Some("a feature update"),
        );
        let mut quality = Checker {
            json: true,
            ..Checker::default()
        };
        graph::settings(
            &mut quality,
            "settings",
            Some(settings),
            0,
            Category::Quality,
            true,
            None,
        );
        c.problems.extend(
            feature
                .problems
                .into_iter()
                .filter(|p| quality.problems.contains(p)),
        );
        c.warnings.extend(
            feature
                .warnings
                .into_iter()
                .filter(|w| quality.warnings.contains(w)),
        );
    }
    let state = match body.requested {
        None => None,
        Some(Requested::None) => Some("resume"),
        Some(Requested::Paused) => Some("pause"),
        Some(Requested::Archived) => Some("archive"),
    };
    let what: Vec<&str> = state
        .into_iter()
        .chain(body.settings.map(|_| "settings"))
        .collect();
    format!(
        "deployment PATCH body: {} (apply it with do = \"patch\")",
        what.join(" and ")
    )
}

/// Whether a property of a JSON body read on its own marks it as an `updateAudience` body: one of
/// its properties, or a near miss of one (`addMember`) that is no near miss of a deployment
/// body's property. Without the near misses a misspelt audience body was checked as a
/// deployment, and its typo reported as "content is required" instead of "did you mean".
fn audience_like(key: &str) -> bool {
    const DEPLOYMENT: [&str; 7] = [
        "content",
        "settings",
        "state",
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "@odata.type",
    ];
    let audience: Vec<&str> = AUDIENCE_LISTS
        .iter()
        .copied()
        .chain(["memberEntityType"])
        .collect();
    audience.contains(&key)
        || (!DEPLOYMENT.contains(&key)
            && !suggest(key, &audience).is_empty()
            && suggest(key, &DEPLOYMENT).is_empty())
}

/// Checks a Graph request body on its own (`rollsim validate body.json`): a `POST .../deployments`
/// body, a `PATCH .../deployments/{id}` body, or an `updateAudience`/`updateAudienceById` body
/// (told apart by their properties), or a catalog file (`GET .../catalog/entries` response). Ids
/// cannot be resolved without a scenario, so only the shape is checked. Returns a one-line
/// description of what the body asks for, and the warnings the body gives (read-only properties
/// of a response body, …), as a scenario that loads it would.
pub fn validate_graph_file(path: &Path) -> Result<(String, Vec<String>), crate::Error> {
    // A catalog export (`[catalog] file = …`) is JSON too: checked as what a scenario reads.
    let response = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|v| super::catalog::is_catalog_response(&v));
    if response {
        return super::catalog::describe_file(path);
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = path.file_name().map(Path::new).unwrap_or(path);
    let mut c = Checker::default();
    let described = with_json(&mut c, "", base, &rel.display().to_string(), |jc, v| {
        let is_audience = v
            .as_object()
            .is_some_and(|m| m.keys().any(|k| audience_like(k)));
        let by_id = v
            .as_object()
            .is_some_and(|m| m.contains_key("memberEntityType"));
        // A PATCH body writes state or settings only; a POST body has content (its absence
        // there is an error the POST check reports).
        let is_patch = v.as_object().is_some_and(|m| {
            !m.contains_key("content") && (m.contains_key("state") || m.contains_key("settings"))
        });
        if is_audience {
            let body = graph::audience_body(jc, "", v);
            let n: Vec<String> = AUDIENCE_LISTS
                .iter()
                .zip(&body.lists)
                .filter(|(_, l)| !l.is_empty())
                .map(|(k, l)| format!("{k} {}", l.len()))
                .collect();
            let kind = if by_id {
                "updateAudienceById"
            } else {
                "updateAudience"
            };
            format!("{kind} body ({})", n.join(", "))
        } else if is_patch {
            patch_description(jc, v)
        } else {
            let b = graph::deployment_body(jc, "", v);
            let (content, settings) = (b.content, b.settings);
            let d = content
                .map(|cv| graph::content(jc, "content", cv, 0, None))
                .unwrap_or_else(|| {
                    graph::content(&mut Checker::default(), "", &Value::Null, 0, None)
                });
            let s = graph::settings(
                jc,
                "settings",
                settings,
                0,
                d.category,
                d.expedited_type,
                d.hotpatch_refusal(),
            );
            let what = match (d.category, &d.catalog_id) {
                // Named by id alone: the scenario's [catalog] gives the version.
                (Category::Feature, Some(id)) if d.version.is_empty() => {
                    format!("feature update of catalog entry {id}")
                }
                (Category::Feature, _) => format!("feature update {}", d.version),
                (Category::Quality, _) if s.expedited => "expedited quality update".to_string(),
                (Category::Quality, _) => "quality update".to_string(),
            };
            let rollout = match s.rollout {
                None => "offered at once",
                Some(crate::service::Rollout::Rate { .. }) => "rate-driven gradual rollout",
                Some(crate::service::Rollout::Date {
                    from_duration: true,
                    ..
                }) => "duration-driven gradual rollout",
                Some(crate::service::Rollout::Date { .. }) => "date-driven gradual rollout",
            };
            let created = match b.requested {
                Requested::None => "",
                Requested::Paused => ", created paused",
                Requested::Archived => ", created archived",
            };
            let n = s.monitoring.len();
            let rules = if n == 1 { "rule" } else { "rules" };
            format!("deployment body: {what}, {rollout}, {n} monitoring {rules}{created}")
        }
    });
    c.first_standalone_error(path)?;
    Ok((described.unwrap_or_default(), c.warnings))
}

#[cfg(test)]
mod tests {
    use super::{audience_like, near, validate_graph_file, version_key};
    use crate::error::{Error, Problem};
    use crate::scenario::Scenario;

    #[test]
    fn a_device_name_is_near_another_one_or_two_characters_off_and_no_further() {
        let g = "f18dd1ee-d77c-96c0-084f-3dd6415af341";
        assert_eq!(near(g, &g.replace("f18d", "f18e")), Some(1));
        assert_eq!(near(g, &g.replace("f18d", "e18e")), Some(2));
        assert_eq!(near(g, &g.replace("f18d", "e19e")), None);
        assert_eq!(near(g, &g[1..]), Some(1), "a character left out");
        assert_eq!(near("pc-1", "pc-0001"), None);
        assert_eq!(near(g, "5d5f576c-deb8-fc4c-7b29-7d0b0e5e18ba"), None);
    }

    #[test]
    fn a_body_with_a_near_miss_of_an_audience_list_is_read_as_an_updateaudience_body() {
        assert!(audience_like("addMember") && audience_like("removeExclusion"));
        assert!(audience_like("memberEntityType") && audience_like("addmembers"));
        // A deployment's properties, and their near misses, stay a deployment's.
        for key in [
            "content",
            "settings",
            "contnt",
            "setings",
            "state",
            "id",
            "@odata.type",
        ] {
            assert!(!audience_like(key), "{key}");
        }
    }

    #[test]
    fn validate_names_an_audience_body_by_id_updateaudiencebyid_and_tells_its_typo() {
        let dir = tempfile::tempdir().expect("tmp");
        let by_id = dir.path().join("by-id.json");
        std::fs::write(
            &by_id,
            r##"{"memberEntityType": "#microsoft.graph.windowsUpdates.azureADDevice", "addMembers": ["a", "b"]}"##,
        )
        .expect("write");
        let (what, _) = validate_graph_file(&by_id).expect("valid");
        assert_eq!(what, "updateAudienceById body (addMembers 2)");
        let typo = dir.path().join("typo.json");
        std::fs::write(
            &typo,
            r##"{"addMember": [{"@odata.type": "#microsoft.graph.windowsUpdates.azureADDevice", "id": "x"}]}"##,
        )
        .expect("write");
        let err = validate_graph_file(&typo).expect_err("a typo").to_string();
        assert!(err.contains("did you mean \"addMembers\""), "{err}");
        assert!(!err.contains("content"), "{err}");
    }

    const FLEET: &str = r##"
[simulation]
start = "2026-01-13T18:00:00Z"
horizon = "P10D"

[[segments]]
name = "office"
devices = 10

[groups]
pilot = { share = 0.5 }

[[deployments]]
name = "q"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-13T00:00:00Z" }
"##;

    fn problems(text: &str) -> Vec<Problem> {
        match Scenario::parse(text, "t.toml", "t", std::path::Path::new(".")) {
            Err(Error::Input(e)) => e.problems,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn a_graph_ids_target_that_names_nothing_is_an_error_at_its_entry_with_a_did_you_mean() {
        let text = format!("{FLEET}\n[graph_ids]\n\"String (identifier)\" = \"pilott\"\n");
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "graph_ids.\"String (identifier)\"");
        assert_eq!((p[0].line, p[0].column), (18, 25));
        assert!(
            p[0].message.starts_with(
                "maps the id to \"pilott\", which names no group, segment or device (did you mean \"pilot\"?)"
            ),
            "{p:?}"
        );
        let all = problems(&format!("{FLEET}\n[graph_ids]\nx = \"all\"\n"));
        assert!(
            all[0].message.contains("which a Graph id cannot name"),
            "{all:?}"
        );
    }

    #[test]
    fn two_spellings_of_one_guid_in_graph_ids_cannot_map_it_to_two_names() {
        let text = format!(
            "{FLEET}\n[graph_ids]\n\"{{AAAAAAAA-0000-0000-0000-000000000001}}\" = \"pilot\"\n\"aaaaaaaa-0000-0000-0000-000000000001\" = \"office\"\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("the same id"), "{p:?}");
    }

    #[test]
    fn a_group_nothing_uses_is_a_located_warning_and_one_an_audience_action_or_used_group_names_is_not()
     {
        let unused = |text: &str| -> Vec<String> {
            Scenario::parse(text, "t.toml", "t", std::path::Path::new("."))
                .expect("loads")
                .warnings
                .into_iter()
                .filter(|w| w.contains(super::UNUSED_GROUP))
                .collect()
        };
        assert_eq!(
            unused(FLEET),
            [
                "t.toml:11:9: groups.pilot: nothing uses this group: no deployment's audience names it (as a member or an exclusion), nor does an update_audience action, so it has no effect; name it in an audience (members = [\"pilot\"], or exclusions) or remove it"
            ]
        );
        let action = "\n[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"update_audience\"\nadd_members = [\"pilot\"]\n";
        for used in [
            format!("{FLEET}audience = {{ members = [\"pilot\"] }}\n"),
            format!("{FLEET}audience = {{ members = [\"all\"], exclusions = [\"pilot\"] }}\n"),
            format!("{FLEET}{action}"),
        ] {
            assert!(unused(&used).is_empty(), "{used}");
        }
        // A group another used group leaves out shapes that one's draw; one only an unused
        // group names is unused too, and says so.
        let rings = FLEET.replace(
            "pilot = { share = 0.5 }",
            "pilot = { share = 0.5 }\nearly = { share = 0.2, excluding = [\"pilot\"] }",
        );
        assert!(unused(&format!("{rings}audience = {{ members = [\"early\"] }}\n")).is_empty());
        let w = unused(&rings);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[1].contains("groups.pilot: nothing uses this group: no deployment's audience names it (as a member or an exclusion), nor does an update_audience action (only the excluding of group \"early\", which nothing uses either, names it)"),
            "{w:?}"
        );
    }

    #[test]
    fn a_graph_ids_entry_no_body_names_is_a_located_warning() {
        let text = format!("{FLEET}\n[graph_ids]\nspare = \"office-3\"\n");
        assert_eq!(
            warnings_of(&text),
            [
                "t.toml:18:9: graph_ids.spare: no Graph body names this id, so its mapping to \"office-3\" is not used"
            ]
        );
    }

    #[test]
    fn a_group_device_beyond_its_segment_is_told_the_segment_s_devices() {
        let text = FLEET.replace(
            "pilot = { share = 0.5 }",
            "pilot = { devices = [\"office-11\"] }",
        );
        let p = problems(&text);
        assert!(
            p[0].message.starts_with(
                "no device named \"office-11\" (segment \"office\" has devices office-1 to office-10)"
            ),
            "{p:?}"
        );
    }

    #[test]
    fn device_numbers_start_at_1_and_a_member_numbered_0_is_told_the_range_not_the_segment() {
        let with = |member: &str| format!("{FLEET}audience = {{ members = [\"{member}\"] }}\n");
        let p = problems(&with("office-0"));
        assert_eq!(p[0].path, "deployments[0].audience.members[0]");
        assert!(
            p[0].message.starts_with(
                "no group, segment or device named \"office-0\" (segment \"office\" has devices office-1 to office-10);"
            ) && p[0].message.ends_with("(n from 1)"),
            "{p:?}"
        );
        assert!(!p[0].message.contains("did you mean"), "{p:?}");
        for ok in ["office-1", "office-10"] {
            Scenario::parse(&with(ok), "t.toml", "t", std::path::Path::new(".")).expect(ok);
        }
    }

    #[test]
    fn an_audience_that_holds_no_device_whatever_the_draw_is_a_located_warning() {
        let warnings = |audience: &str, action: &str| {
            warnings_of(&format!("{FLEET}audience = {audience}\n{action}"))
        };
        let all_excluded = "t.toml:16:12: deployments[0].audience: holds no device: every device its members hold is also excluded (exclusions win), and no action adds members, so the deployment offers nothing";
        for audience in [
            r#"{ members = ["office"], exclusions = ["office"] }"#,
            r#"{ members = ["all"], exclusions = ["office"] }"#,
            r#"{ members = ["office-1", "office-2"], exclusions = ["office"] }"#,
            // One group, drawn once: excluded, it takes all it holds with it.
            r#"{ members = ["pilot"], exclusions = ["pilot"] }"#,
        ] {
            assert_eq!(warnings(audience, ""), [all_excluded], "{audience}");
        }
        assert_eq!(
            warnings("{ members = [] }", ""),
            [
                "t.toml:16:12: deployments[0].audience: holds no device: it lists no members, and no action adds members, so the deployment offers nothing"
            ]
        );
        for audience in [
            r#"{ members = ["office"], exclusions = ["office-1"] }"#,
            // A random draw may leave devices out of the exclusion: not decided at load.
            r#"{ members = ["office"], exclusions = ["pilot"] }"#,
        ] {
            assert!(warnings(audience, "").is_empty(), "{audience}");
        }
        let adds = "[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"update_audience\"\nremove_exclusions = [\"office\"]\n";
        assert!(warnings(r#"{ members = ["office"], exclusions = ["office"] }"#, adds).is_empty());
    }

    #[test]
    fn feature_versions_order_by_the_release_they_name() {
        assert_eq!(version_key("24H2"), version_key("Windows 11, version 24H2"));
        assert!(version_key("Windows 11, version 22H2") < version_key("24H2"));
        assert!(version_key("Windows 10, version 22H2") < version_key("Windows 11, version 21H2"));
        assert!(version_key("23H2") < version_key("24h2"));
        // Text naming no release sorts by itself, after the releases of its major version.
        assert!(version_key("24H2") < version_key("Windows 11, next"));
        assert!(version_key("Windows 11, next") < version_key("Windows 11, zzz"));
    }

    /// The warnings of `text` but that of [`FLEET`]'s group when nothing uses it: the group is
    /// there for the tests that name it.
    fn warnings_of(text: &str) -> Vec<String> {
        Scenario::parse(text, "t.toml", "t", std::path::Path::new("."))
            .expect("loads")
            .warnings
            .into_iter()
            .filter(|w| !w.contains("groups.pilot: nothing uses this group"))
            .collect()
    }

    #[test]
    fn removing_an_entry_the_audience_does_not_list_is_a_warning_at_the_action() {
        let action = |at: &str, fields: &str| {
            format!(
                "\n[[actions]]\nat = \"{at}\"\ndeployment = \"q\"\ndo = \"update_audience\"\n{fields}\n"
            )
        };
        // The audience is "all": removing the group removes no entry.
        let text = format!("{FLEET}{}", action("P4D", "remove_members = [\"pilot\"]"));
        assert_eq!(
            warnings_of(&text),
            [
                "t.toml:21:19: actions[0].remove_members[0]: \"pilot\" is not a member entry of deployment \"q\" at P4D (its members: \"all\"): removing it changes nothing; to keep its devices out, use add_exclusions"
            ]
        );
        // Nor does removing an exclusion the audience does not have.
        let text = format!(
            "{FLEET}{}",
            action("P4D", "remove_exclusions = [\"office-2\"]")
        );
        assert_eq!(
            warnings_of(&text),
            [
                "t.toml:21:22: actions[0].remove_exclusions[0]: \"office-2\" is not an exclusion entry of deployment \"q\" at P4D (its exclusions: none): removing it changes nothing"
            ]
        );
        // The normal cases: an entry the audience lists, or one an earlier action added (the
        // actions are followed in time order, not in file order).
        let listed = FLEET.replace(
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }",
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }\naudience = { members = [\"pilot\"], exclusions = [\"office-1\"] }",
        );
        let text = format!(
            "{listed}{}",
            action(
                "P4D",
                "remove_members = [\"pilot\"]\nremove_exclusions = [\"office-1\"]"
            )
        );
        assert!(warnings_of(&text).is_empty(), "{:?}", warnings_of(&text));
        let text = format!(
            "{FLEET}{}{}",
            action("P4D", "remove_members = [\"pilot\", \"office-3\"]"),
            action("P2D", "add_members = [\"pilot\"]")
        );
        assert_eq!(warnings_of(&text).len(), 1, "{:?}", warnings_of(&text));
        assert!(
            warnings_of(&text)[0].contains(
                "actions[0].remove_members[1]: \"office-3\" is not a member entry of deployment \"q\" at P4D (its members: \"all\", \"pilot\")"
            ),
            "{:?}",
            warnings_of(&text)
        );
        // An entry an earlier action removed is gone by then.
        let text = format!(
            "{listed}{}{}",
            action("P1D", "remove_members = [\"pilot\"]"),
            action("P2D", "remove_members = [\"pilot\"]")
        );
        let w = warnings_of(&text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("actions[1].remove_members[0]: \"pilot\" is not a member entry of deployment \"q\" at P2D (its members: none)"), "{w:?}");
    }

    #[test]
    fn removing_an_entry_the_audience_does_not_list_in_an_updateaudience_body_is_a_warning_in_the_body()
     {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("rm.json"),
            "{\n  \"removeMembers\": [\n    {\"@odata.type\": \"#microsoft.graph.windowsUpdates.updatableAssetGroup\", \"id\": \"g-1\"}\n  ]\n}\n",
        )
        .expect("write");
        let text = format!(
            "{FLEET}\n[graph_ids]\ng-1 = \"pilot\"\n\n[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"update_audience\"\ngraph = \"rm.json\"\n"
        );
        let sc = Scenario::parse(&text, "t.toml", "t", dir.path()).expect("loads");
        let file = dir.path().join("rm.json").display().to_string();
        assert_eq!(
            sc.warnings,
            [format!(
                "{file}:3:76: removeMembers[0].id: \"g-1\" (\"pilot\" in [graph_ids]) is not a member entry of deployment \"q\" at P1D (its members: \"all\"): removing it changes nothing; to keep its devices out, use addExclusions"
            )]
        );
        let listed = text.replace(
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }",
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }\naudience = { members = [\"pilot\"] }",
        );
        let sc = Scenario::parse(&listed, "t.toml", "t", dir.path()).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    }

    #[test]
    fn a_start_date_time_after_the_horizon_is_a_warning_at_it_and_one_within_is_not() {
        let with_start = |start: &str| {
            format!("{FLEET}\n[deployments.settings.schedule]\nstartDateTime = \"{start}\"\n")
        };
        // The horizon ends 2026-01-23T18:00:00Z.
        assert_eq!(
            warnings_of(&with_start("2026-01-25T18:00:00Z")),
            [
                "t.toml:18:17: deployments[0].settings.schedule.startDateTime: is 2 days after the horizon ends (2026-01-23T18:00:00Z, 10 days after the scenario start), so the deployment never starts in this run and offers nothing"
            ]
        );
        assert!(warnings_of(&with_start("2026-01-23T18:00:00Z")).is_empty());
        assert!(warnings_of(&with_start("2026-01-15T08:00:00Z")).is_empty());
        // The warning before the start is the other side of the same check.
        let before = warnings_of(&with_start("2026-01-12T18:00:00Z"));
        assert!(
            before[0].contains("is 1 day before the scenario start"),
            "{before:?}"
        );
    }

    #[test]
    fn an_action_after_the_horizon_is_an_error_at_its_own_entry_when_the_actions_are_out_of_time_order()
     {
        let text = format!(
            "{FLEET}\n[[actions]]\nat = \"P50D\"\ndeployment = \"q\"\ndo = \"pause\"\n\n[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"resume\"\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "actions[0].at");
        assert_eq!(p[0].line, 18);
        assert_eq!(
            p[0].message,
            "is after the horizon (10 days): it would never happen"
        );
    }

    #[test]
    fn a_number_that_is_not_finite_in_graph_settings_is_refused_at_its_field_not_read_as_absent() {
        let text = format!(
            "{FLEET}\n[[deployments]]\nname = \"f\"\ncontent = {{ \"@odata.type\" = \"featureUpdateReference\", version = \"24H2\" }}\nsettings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = nan, durationBetweenOffers = \"P1D\" }} }}, monitoring = {{ monitoringRules = [{{ signal = \"rollback\", threshold = inf, action = \"pauseDeployment\" }}] }} }}\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0].path,
            "deployments[1].settings.schedule.gradualRollout.devicesPerOffer"
        );
        assert_eq!(p[0].message, "must be a finite number, found nan");
        assert_eq!(p[0].line, 20);
        // Said once: not also "is required", as the value once read as absent.
        assert_eq!(
            p[1].path,
            "deployments[1].settings.monitoring.monitoringRules[0].threshold"
        );
        assert_eq!(p[1].message, "must be a finite number, found inf");
        assert_eq!(p[1].line, 20);
    }

    #[test]
    fn a_number_that_is_not_finite_in_content_or_a_set_action_is_refused() {
        let text = format!(
            "{FLEET}\n[[deployments]]\nname = \"z\"\ncontent = {{ \"@odata.type\" = \"qualityUpdateReference\", releaseDateTime = \"2026-01-13T00:00:00Z\", classification = inf }}\n\n[[actions]]\nat = \"P1D\"\ndeployment = \"z\"\ndo = \"set\"\nsettings = {{ userExperience = {{ daysUntilForcedReboot = -inf }} }}\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].path, "deployments[1].content.classification");
        assert_eq!(p[0].message, "must be a finite number, found inf");
        assert_eq!(
            p[1].path,
            "actions[0].settings.userExperience.daysUntilForcedReboot"
        );
        assert_eq!(p[1].message, "must be a finite number, found -inf");
    }

    #[test]
    fn a_deployment_name_too_long_for_its_output_file_names_is_refused_at_load() {
        let with = |n: usize| {
            format!(
                "{FLEET}\n[[deployments]]\nname = \"{}\"\ncontent = {{ \"@odata.type\" = \"qualityUpdateReference\", releaseDateTime = \"2026-01-13T00:00:00Z\" }}\n",
                "é".repeat(n)
            )
        };
        Scenario::parse(&with(200), "t.toml", "t", std::path::Path::new(".")).expect("200 is fine");
        let p = problems(&with(201));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "deployments[1].name");
        assert_eq!(p[0].line, 18);
        assert!(
            p[0].message.starts_with(
                "is 201 characters long; at most 200, as the name makes output file names"
            ),
            "{p:?}"
        );
    }
}
