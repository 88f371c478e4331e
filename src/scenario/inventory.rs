//! Fleet inventory import: `[fleet] inventory = "devices.csv"`, one device per row, as an admin
//! exports it from a management tool.
//!
//! Columns: `name` (required: the device id, used by audience entries and Graph `azureADDevice`
//! ids), and optionally `segment` (a `[[segments]]` entry whose policy, UTC offset or time zone
//! and availability are the row's defaults; its availability's dated `off` periods apply to its
//! rows whatever their own `availability` column says), `utc_offset` or `time_zone` (an IANA
//! name; not both in a row), `availability` (a profile name with its default parameters,
//! `attended` among them), `policy`; every other column is an attribute (an empty cell: the device lacks it).
//! Those six column names compare ignoring case, `_`, `-` and spaces; device names compare as
//! `ids::device_key` says, so two rows differing only in case are one device twice.
//! Rows with the same segment, offset or zone, availability, policy and attributes become one
//! synthetic segment named after their `segment` (or `inventory`), so fleet generation is
//! unchanged and a device is still a few bytes. Bad rows are reported with their line, all at
//! once, each with every problem it has.

use std::collections::HashMap;
use std::path::Path;

use super::ids::device_key;
use super::{Checker, MAX_ITEMS, suggest};
use crate::client::{Policy, index16};
use crate::error::{Error, InputError, Problem};
use crate::fleet::{AttrChoice, Profile, SegmentSpec};
use crate::time::{HOUR, parse_time_zone, parse_utc_offset};

const PROFILES: [&str; 5] = ["always_on", "office", "laptop", "dormant", "never"];
const RESERVED: [&str; 6] = [
    "name",
    "segment",
    "utc_offset",
    "time_zone",
    "availability",
    "policy",
];

/// A column name as it is compared with [`RESERVED`]: exports spell headers `Segment`,
/// `UTC_Offset`, `utc-offset` or `UTC Offset`, and an export's capitals must not silently turn
/// the segment or offset column into an attribute. Lower case, without `_`, `-` or spaces.
fn column_key(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A profile by name, with its documented defaults.
fn profile(name: &str) -> Option<Profile> {
    use crate::fleet::availability::{ALL_DAYS, WEEKDAYS};
    Some(match name {
        "always_on" => Profile::AlwaysOn,
        "never" => Profile::Never,
        "office" => Profile::Office {
            start: 8 * HOUR,
            end: 17 * HOUR,
            jitter: HOUR,
            absent_days: 0.05,
            days: WEEKDAYS,
        },
        "laptop" => Profile::Laptop {
            sessions_per_day: 2.0,
            session_length: 2 * HOUR,
            window_start: 7 * HOUR,
            window_end: 23 * HOUR,
            days: ALL_DAYS,
        },
        "dormant" => Profile::Dormant {
            online_days: 0.1,
            session_length: 2 * HOUR,
            window_start: 8 * HOUR,
            window_end: 20 * HOUR,
        },
        _ => return None,
    })
}

/// Device key ([`super::ids::device_key`]: a GUID in canonical form, a host name in lower case)
/// → (segment index, index within the segment).
pub type DeviceNames = HashMap<String, (u16, u32)>;

/// Per segment, its devices' names as the inventory writes them, by index within the segment
/// (empty for a segment no inventory row made): `devices.csv` names a device as the admin's
/// inventory does, so that it joins on the name as exported, whatever case the keys are in.
pub type WrittenNames = Vec<Vec<String>>;

/// Reads the inventory and appends its synthetic segments to `segments` (templates first).
/// Problems go to the inventory file's own error in `c.file_errors`. Returns the devices' keys
/// and, per segment (`segments` as they end up), the names as written.
pub(super) fn load(
    c: &mut Checker,
    field: &str,
    base: &Path,
    rel: &str,
    segments: &mut Vec<SegmentSpec>,
    policies: &[Policy],
) -> (DeviceNames, WrittenNames) {
    let path = base.join(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            c.inventory_failed = true;
            c.fail(
                field,
                format!("cannot read inventory \"{}\": {e}", path.display()),
            );
            return Default::default();
        }
    };
    if !c.inputs.iter().any(|(p, _)| p == rel) {
        c.inputs.push((rel.to_string(), text.clone().into_bytes()));
    }
    let mut problems = Vec::new();
    let room = Room {
        segments: MAX_ITEMS.saturating_sub(segments.len()),
        declared: segments.len(),
    };
    let (specs, names, written) = parse(&text, segments, policies, room, &mut problems);
    if !problems.is_empty() {
        c.inventory_failed = true;
        c.file_errors.push(InputError {
            file: path.display().to_string(),
            problems,
        });
        return Default::default();
    }
    let first = segments.len();
    segments.extend(specs);
    let mut by_segment: WrittenNames = vec![Vec::new(); first];
    by_segment.extend(written);
    // `parse` made at most `room.segments` of them, so every index is below `MAX_ITEMS`.
    let names = names
        .into_iter()
        .map(|(n, (s, i))| (n, (index16(first + s), i)))
        .collect();
    (names, by_segment)
}

/// Checks an inventory on its own (`rollsim validate devices.csv`); segment and policy columns
/// cannot be checked without a scenario.
pub fn validate_file(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut problems = Vec::new();
    let room = Room {
        segments: MAX_ITEMS,
        declared: 0,
    };
    let (specs, names, _) = parse(&text, &[], &[], room, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Input(InputError {
            file: path.display().to_string(),
            problems,
        }));
    }
    Ok(summary(names.len(), specs.len()))
}

/// `validate`'s line for an inventory, singular for one ("1 device in 1 group").
fn summary(devices: usize, groups: usize) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "inventory: {devices} device{} in {groups} group{} of identical settings",
        s(devices),
        s(groups)
    )
}

/// What [`parse`] reads: the synthetic segments, each device's key → (segment, index within
/// it), and each segment's names as written ([`WrittenNames`]).
type Parsed = (
    Vec<SegmentSpec>,
    HashMap<String, (usize, u32)>,
    WrittenNames,
);

/// (segment, UTC offset, availability, policy, attribute values, time zone name).
type Key = (String, i32, String, String, Vec<String>, String);

/// Line numbers of the rows of a CSV text, from their byte offsets: the csv reader's own line
/// counts a CRLF ending twice on some rows and so tells the line before. Rows are asked for in
/// file order, so the newlines are counted once, from the last row asked for.
struct Lines<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line (from 1) of the row at `pos`; 0 without one.
    fn of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(p) = pos else { return 0 };
        let mut byte = (p.byte() as usize).min(self.text.len());
        // After a CRLF the reader starts the next row at its `\n`: a row begins after them.
        while byte < self.text.len() && matches!(self.text[byte], b'\r' | b'\n') {
            byte += 1;
        }
        if byte < self.at {
            *self = Self {
                text: self.text,
                at: 0,
                line: 1,
            };
        }
        self.line += self.text[self.at..byte]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.at = byte;
        self.line
    }
}

/// How many segments the inventory may make: [`MAX_ITEMS`] less the scenario's `declared`
/// `[[segments]]`.
#[derive(Clone, Copy)]
struct Room {
    segments: usize,
    declared: usize,
}

fn parse(
    text: &str,
    templates: &[SegmentSpec],
    policies: &[Policy],
    room: Room,
    problems: &mut Vec<Problem>,
) -> Parsed {
    let standalone = templates.is_empty() && policies.is_empty();
    let mut rd = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut found: Vec<Problem> = Vec::new();
    let mut fail = |line: u64, column: usize, path: &str, message: String| {
        found.push(Problem {
            line: line as usize,
            column,
            path: path.to_string(),
            message,
        });
    };
    let header: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            fail(1, 1, "", format!("cannot read the header row: {e}"));
            problems.append(&mut found);
            return Default::default();
        }
    };
    // Each reserved column by its key; a second column with the same key is refused, as
    // which of the two holds the device's value would be a guess.
    let keys: Vec<String> = header.iter().map(|h| column_key(h)).collect();
    let mut reserved: [Option<usize>; RESERVED.len()] = [None; RESERVED.len()];
    let mut twice = false;
    for (i, k) in keys.iter().enumerate() {
        let Some(r) = RESERVED.iter().position(|x| column_key(x) == *k) else {
            continue;
        };
        match reserved[r] {
            None => reserved[r] = Some(i),
            Some(first) => {
                twice = true;
                fail(
                    1,
                    i + 1,
                    RESERVED[r],
                    format!(
                        "columns {} (\"{}\") and {} (\"{}\") are both the {} column: column names compare ignoring case, \"_\", \"-\" and spaces",
                        first + 1,
                        header[first],
                        i + 1,
                        header[i],
                        RESERVED[r]
                    ),
                )
            }
        }
    }
    if twice {
        problems.append(&mut found);
        return Default::default();
    }
    let col = |n: &str| {
        RESERVED
            .iter()
            .position(|x| *x == n)
            .and_then(|r| reserved[r])
    };
    let Some(name_col) = col("name") else {
        fail(
            1,
            1,
            "name",
            format!(
                "the header needs a \"name\" column (the device id); found {}",
                header.join(", ")
            ),
        );
        problems.append(&mut found);
        return Default::default();
    };
    let attrs: Vec<(usize, &str)> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !reserved.contains(&Some(*i)))
        .map(|(i, h)| (i, h.as_str()))
        .collect();
    let seg_names: Vec<&str> = templates.iter().map(|s| s.name.as_str()).collect();
    let pol_names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    let mut groups: Vec<(Key, SegmentSpec)> = Vec::new();
    let mut written: WrittenNames = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    // Combinations past the room: how many, and the line of the first. They are only counted
    // (no segment is made for them), so that an inventory of a million serial numbers is
    // refused without building a million segments first.
    let mut over = 0usize;
    let mut first_over: Option<u64> = None;
    let mut names: HashMap<String, (usize, u32)> = HashMap::new();
    // Rows repeating a device: (line, name as written, key).
    let mut dups: Vec<(u64, String, String)> = Vec::new();
    let mut lines = Lines::new(text);
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = lines.of(e.position());
                // The reader's own message names its line, which a CRLF file makes wrong.
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "malformed row: it has {len} fields where the header has {expected_len}"
                    ),
                    _ => format!("malformed row: {e}"),
                };
                fail(line, 1, "", message);
                continue;
            }
        };
        let line = lines.of(rec.position());
        let get = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        // Every problem of the row is told, not only its first; a row with any is left out.
        let mut bad = false;
        let name = get(Some(name_col));
        let dkey = name.map(device_key);
        match (name, &dkey) {
            (None, _) => {
                fail(line, name_col + 1, "name", "the device has no name".into());
                bad = true;
            }
            (Some(n), Some(k)) if names.contains_key(k.as_ref()) => {
                // Told once the rows are read, naming the row it repeats.
                dups.push((line, n.to_string(), k.to_string()));
                bad = true;
            }
            _ => {}
        }
        let template = match get(col("segment")) {
            None => None,
            Some(s) if standalone => Some((usize::MAX, s.to_string())),
            Some(s) => match seg_names.iter().position(|x| *x == s) {
                Some(t) => Some((t, s.to_string())),
                None => {
                    fail(
                        line,
                        col("segment").unwrap_or(0) + 1,
                        "segment",
                        format!(
                            "no segment named \"{s}\"{}; declared: {}",
                            suggest(s, &seg_names),
                            seg_names.join(", ")
                        ),
                    );
                    bad = true;
                    None
                }
            },
        };
        let t = template.as_ref().and_then(|(i, _)| templates.get(*i));
        let offset = match get(col("utc_offset")) {
            None => t.map_or(0, |t| t.utc_offset),
            Some(o) => parse_utc_offset(o).unwrap_or_else(|e| {
                fail(
                    line,
                    col("utc_offset").unwrap_or(0) + 1,
                    "utc_offset",
                    format!("{e}, found \"{o}\""),
                );
                bad = true;
                0
            }),
        };
        // The row's own offset or zone wins over its template's (either of them).
        let time_zone = match (get(col("time_zone")), get(col("utc_offset"))) {
            (None, None) => t.and_then(|t| t.time_zone.clone()),
            (None, Some(_)) => None,
            (Some(z), Some(o)) => {
                fail(
                    line,
                    col("time_zone").unwrap_or(0) + 1,
                    "time_zone",
                    format!(
                        "give either utc_offset or time_zone, not both (a named time zone sets its own offsets), found \"{z}\" beside utc_offset \"{o}\""
                    ),
                );
                bad = true;
                None
            }
            (Some(z), None) => match parse_time_zone(z) {
                Ok(tz) => Some(tz),
                Err(e) => {
                    fail(
                        line,
                        col("time_zone").unwrap_or(0) + 1,
                        "time_zone",
                        format!("{e}, found \"{z}\""),
                    );
                    bad = true;
                    None
                }
            },
        };
        // A zone's offset is its clock's; the one of a template that named no zone is not it.
        let offset = if time_zone.is_some() { 0 } else { offset };
        // A template's off periods (holidays) are its rows' too, also of a row whose own
        // `availability` column names another profile: the rows of a template share its dates.
        let off = t.map_or_else(Vec::new, |t| t.off.clone());
        // A row naming a profile takes its defaults, `attended` among them; a row without one
        // takes its template's profile as the template set it.
        let (avail_name, prof, attended) = match get(col("availability")) {
            None => (
                "".to_string(),
                t.map_or(Profile::AlwaysOn, |t| t.profile.clone()),
                t.is_some_and(|t| t.attended),
            ),
            Some(a) => match profile(a) {
                Some(p) => {
                    let attended = p.attended_by_default();
                    (a.to_string(), p, attended)
                }
                None => {
                    fail(
                        line,
                        col("availability").unwrap_or(0) + 1,
                        "availability",
                        format!(
                            "unknown profile \"{a}\"{}; expected one of {}",
                            suggest(a, &PROFILES),
                            PROFILES.join(", ")
                        ),
                    );
                    bad = true;
                    (String::new(), Profile::AlwaysOn, false)
                }
            },
        };
        let (pol_name, policy) = match get(col("policy")) {
            None => (
                "".to_string(),
                t.map_or_else(
                    || index16(pol_names.iter().position(|p| *p == "default").unwrap_or(0)),
                    |t| t.policy,
                ),
            ),
            Some(_) if standalone => ("".to_string(), 0),
            Some(p) => match pol_names.iter().position(|x| *x == p) {
                Some(i) => (p.to_string(), index16(i)),
                None => {
                    fail(
                        line,
                        col("policy").unwrap_or(0) + 1,
                        "policy",
                        format!(
                            "no policy named \"{p}\"{}; defined: {}",
                            suggest(p, &pol_names),
                            pol_names.join(", ")
                        ),
                    );
                    bad = true;
                    (String::new(), 0)
                }
            },
        };
        let (false, Some(dkey)) = (bad, dkey) else {
            continue;
        };
        let values: Vec<String> = attrs
            .iter()
            .map(|&(i, _)| rec.get(i).map(str::trim).unwrap_or("").to_string())
            .collect();
        let seg_name = template
            .as_ref()
            .map_or("inventory".to_string(), |(_, n)| n.clone());
        let key: Key = (
            seg_name.clone(),
            offset,
            avail_name,
            pol_name,
            values.clone(),
            time_zone
                .as_ref()
                .map_or(String::new(), |z| z.iana_name().unwrap_or("").to_string()),
        );
        let g = *index.entry(key.clone()).or_insert_with(|| {
            if groups.len() == room.segments {
                over += 1;
                first_over.get_or_insert(line);
                return usize::MAX;
            }
            groups.push((
                key,
                SegmentSpec {
                    name: seg_name,
                    devices: 0,
                    policy,
                    utc_offset: offset,
                    time_zone,
                    profile: prof,
                    off,
                    attended,
                    attributes: attrs
                        .iter()
                        .zip(&values)
                        .filter(|(_, v)| !v.is_empty())
                        .map(|((_, k), v)| (k.to_string(), AttrChoice::Fixed(v.clone())))
                        .collect(),
                },
            ));
            groups.len() - 1
        });
        let Some((_, spec)) = groups.get_mut(g) else {
            continue;
        };
        names.insert(dkey.into_owned(), (g, spec.devices));
        spec.devices += 1;
        if written.len() <= g {
            written.resize_with(g + 1, Vec::new);
        }
        written[g].push(name.unwrap_or_default().to_string());
    }
    for (line, message) in repeated(text, name_col, &dups) {
        fail(line, name_col + 1, "name", message);
    }
    if let Some(line) = first_over {
        let made = groups.len() + over;
        fail(
            line,
            1,
            "",
            too_many_segments(made, room, &attrs, index.keys()),
        );
    }
    // Row problems in file order, a repeated name among the others of its row.
    found.sort_by_key(|p| (p.line, p.column));
    problems.append(&mut found);
    let had_problems = !problems.is_empty();
    if names.is_empty() && !had_problems {
        problems.push(Problem {
            line: 2,
            column: 1,
            path: String::new(),
            message: "the inventory has no devices".into(),
        });
    }
    let mut specs: Vec<SegmentSpec> = groups.into_iter().map(|(_, s)| s).collect();
    for s in &mut specs {
        // Attribute order must be the same sorted order the fleet generator expects.
        s.attributes.sort_by(|a, b| a.0.cmp(&b.0));
    }
    written.resize_with(specs.len(), Vec::new);
    (specs, names, written)
}

/// Why an inventory that makes `made` segments, more than `room` allows, is refused, naming the
/// attribute column with the most distinct values among its combinations `keys`: most likely
/// one unique per device, which makes a segment of every row.
fn too_many_segments<'k>(
    made: usize,
    room: Room,
    attrs: &[(usize, &str)],
    keys: impl Iterator<Item = &'k Key>,
) -> String {
    let mut distinct: Vec<std::collections::HashSet<&str>> = vec![Default::default(); attrs.len()];
    for key in keys {
        for (seen, v) in distinct.iter_mut().zip(&key.4) {
            seen.insert(v.as_str());
        }
    }
    let widest = attrs
        .iter()
        .zip(&distinct)
        .max_by_key(|(_, d)| d.len())
        .map_or(String::new(), |((_, name), d)| {
            format!(" (column \"{name}\" alone has {} distinct values)", d.len())
        });
    let limit = if room.declared == 0 {
        format!("more than the {MAX_ITEMS} segments a scenario can hold")
    } else {
        format!(
            "more than the {} left beside the scenario's {} [[segments]] (a scenario holds at most {MAX_ITEMS})",
            room.segments, room.declared
        )
    };
    format!(
        "the inventory makes {made} segments, {limit} (this row makes the first past it): each distinct combination of its columns (segment, utc_offset or time_zone, availability, policy and every attribute) makes a segment, so a column unique per device, such as a serial number, should be dropped{widest}"
    )
}

/// The messages for rows `dups` that repeat a device, naming the row each repeats, found by
/// reading the rows again: done only when there are such rows, so a good inventory keeps no
/// line or spelling per device.
fn repeated(text: &str, name_col: usize, dups: &[(u64, String, String)]) -> Vec<(u64, String)> {
    if dups.is_empty() {
        return Vec::new();
    }
    let mut first: HashMap<&str, Option<(u64, String)>> =
        dups.iter().map(|(_, _, k)| (k.as_str(), None)).collect();
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut lines = Lines::new(text);
    for rec in rd.records().flatten() {
        let Some(name) = rec.get(name_col).map(str::trim).filter(|n| !n.is_empty()) else {
            continue;
        };
        if let Some(slot @ None) = first.get_mut(device_key(name).as_ref()) {
            *slot = Some((lines.of(rec.position()), name.to_string()));
        }
    }
    dups.iter()
        .map(|(line, name, key)| {
            let message = match first.get(key.as_str()) {
                Some(Some((l, n))) if n == name => {
                    format!("device \"{name}\" appears twice, first on line {l}")
                }
                Some(Some((l, n))) => format!(
                    "device \"{name}\" appears twice, first as \"{n}\" on line {l}: {}",
                    super::ids::HOW_NAMES_COMPARE
                ),
                _ => format!("device \"{name}\" appears twice"),
            };
            (*line, message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` parsed against one template segment "office" (offset +01:00, office hours, not
    /// attended) and the default policy: (segments, device keys, problems as
    /// "line:column: message").
    fn read(text: &str) -> (Vec<SegmentSpec>, DeviceNames, Vec<String>) {
        let office = SegmentSpec {
            name: "office".into(),
            devices: 0,
            policy: 0,
            utc_offset: 3600,
            time_zone: None,
            profile: profile("office").expect("a profile"),
            off: vec![(20_000, 20_006)],
            // Not the office default, so that rows taking the template's are told apart.
            attended: false,
            attributes: Vec::new(),
        };
        let mut problems = Vec::new();
        let room = Room {
            segments: MAX_ITEMS - 1,
            declared: 1,
        };
        let (specs, names, _) = parse(
            text,
            &[office],
            &[Policy::default_named("default")],
            room,
            &mut problems,
        );
        let names = names
            .into_iter()
            .map(|(k, (s, i))| (k, (s as u16, i)))
            .collect();
        let problems = problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect();
        (specs, names, problems)
    }

    #[test]
    fn reserved_columns_are_found_whatever_their_case_and_separators() {
        let (specs, names, problems) = read(
            "Name,Segment,UTC Offset,AVAILABILITY,Model\nPC-1,office,-05:00,laptop,L9\nPC-2,office,,,D1\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(names.len(), 2);
        let pc1 = &specs[names["pc-1"].0 as usize];
        assert_eq!(pc1.name, "office");
        assert_eq!(pc1.utc_offset, -5 * 3600);
        assert!(matches!(pc1.profile, Profile::Laptop { .. }));
        // The one attribute is the model; no reserved column became one.
        let keys: Vec<&str> = pc1.attributes.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["Model"]);
        let pc2 = &specs[names["pc-2"].0 as usize];
        assert_eq!(pc2.utc_offset, 3600, "the template's offset");
        for header in ["utc_offset", "utc-offset", "UtcOffset", "UTC_OFFSET"] {
            let (specs, _, problems) = read(&format!("name,{header}\nPC-1,+02:00\n"));
            assert!(problems.is_empty(), "{header}: {problems:?}");
            assert_eq!(specs[0].utc_offset, 7200, "{header}");
            assert!(specs[0].attributes.is_empty(), "{header}");
        }
    }

    #[test]
    fn a_time_zone_column_gives_rows_a_named_zone_and_rows_alike_share_a_segment() {
        for header in ["time_zone", "TimeZone", "Time Zone", "time-zone"] {
            let (specs, names, problems) = read(&format!(
                "name,segment,{header}\nPC-1,office,Europe/London\nPC-2,office,europe/london\nPC-3,office,America/New_York\nPC-4,office,\n"
            ));
            assert!(problems.is_empty(), "{header}: {problems:?}");
            let zone = |n: &str| {
                specs[names[n].0 as usize]
                    .time_zone
                    .as_ref()
                    .and_then(|z| z.iana_name().map(str::to_string))
            };
            assert_eq!(zone("pc-1").as_deref(), Some("Europe/London"), "{header}");
            assert_eq!(
                names["pc-1"].0, names["pc-2"].0,
                "{header}: one zone, one segment"
            );
            assert_eq!(zone("pc-3").as_deref(), Some("America/New_York"));
            // Without one, the template's offset.
            assert_eq!(zone("pc-4"), None);
            assert_eq!(specs[names["pc-4"].0 as usize].utc_offset, 3600);
            assert!(specs.iter().all(|s| s.attributes.is_empty()), "{header}");
        }
    }

    #[test]
    fn a_row_giving_both_an_offset_and_a_time_zone_or_an_unknown_zone_is_refused_at_its_cell() {
        let (_, _, problems) = read(
            "name,utc_offset,time_zone\nPC-1,+01:00,Europe/London\nPC-2,,Europe/Lodnon\nPC-3,+02:00,\n",
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("2:3: give either utc_offset or time_zone, not both"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("3:3: not a time zone")
                && problems[1].contains("did you mean \"Europe/London\"")
                && problems[1].ends_with("found \"Europe/Lodnon\""),
            "{problems:?}"
        );
    }

    #[test]
    fn rows_of_a_template_take_its_off_periods_even_with_a_profile_of_their_own() {
        let (specs, names, problems) =
            read("name,segment,availability\nPC-1,office,\nPC-2,office,laptop\nPC-3,,office\n");
        assert!(problems.is_empty(), "{problems:?}");
        let off = |n: &str| specs[names[n].0 as usize].off.clone();
        assert_eq!(off("pc-1"), [(20_000, 20_006)]);
        assert_eq!(off("pc-2"), [(20_000, 20_006)]);
        // A row of no template has none.
        assert_eq!(off("pc-3"), []);
    }

    #[test]
    fn a_row_naming_a_profile_is_attended_as_that_profile_is_by_default_else_as_its_template() {
        let (specs, names, problems) = read(
            "name,segment,availability\nPC-1,office,\nPC-2,office,office\nPC-3,,always_on\nPC-4,,\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let attended = |n: &str| specs[names[n].0 as usize].attended;
        assert!(!attended("pc-1"), "the template's");
        assert!(attended("pc-2"), "the office default");
        assert!(!attended("pc-3"), "the always_on default");
        assert!(!attended("pc-4"), "no template, no profile: always_on");
    }

    #[test]
    fn a_reserved_column_given_twice_is_refused_naming_both_columns() {
        let (_, names, problems) = read("name,segment,model,Segment\nPC-1,office,A,office\n");
        assert!(names.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "1:4: columns 2 (\"segment\") and 4 (\"Segment\") are both the segment column"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn two_names_that_differ_only_in_case_or_braces_are_one_device_told_with_both_rows() {
        let g = "f18dd1ee-d77c-96c0-084f-3dd6415af341";
        let text = format!("name\n{g}\nPC-1\n{{{}}}\npc-1\nPC-1\n", g.to_uppercase());
        let (_, _, problems) = read(&text);
        assert_eq!(
            problems,
            [
                format!(
                    "4:1: device \"{{{}}}\" appears twice, first as \"{g}\" on line 2: device names compare ignoring case, and a GUID also with or without braces",
                    g.to_uppercase()
                ),
                "5:1: device \"pc-1\" appears twice, first as \"PC-1\" on line 3: device names compare ignoring case, and a GUID also with or without braces".to_string(),
                "6:1: device \"PC-1\" appears twice, first on line 3".to_string(),
            ]
        );
    }

    #[test]
    fn devices_are_found_by_their_key_whatever_case_the_inventory_writes() {
        let (_, names, problems) =
            read("name\nF18DD1EE-D77C-96C0-084F-3DD6415AF341\nDESKTOP-7Q2\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert!(names.contains_key("f18dd1ee-d77c-96c0-084f-3dd6415af341"));
        assert!(names.contains_key("desktop-7q2"));
    }

    #[test]
    fn every_problem_of_a_row_is_told_not_only_its_first() {
        let (_, names, problems) = read(
            "name,segment,utc_offset,availability,policy\nPC-1,ofice,UTC+1,offce,ring9\nPC-2,office,,,\n",
        );
        assert_eq!(names.len(), 1, "the bad row is left out, the good one kept");
        let at: Vec<&str> = problems.iter().map(|p| &p[..4]).collect();
        assert_eq!(at, ["2:2:", "2:3:", "2:4:", "2:5:"], "{problems:?}");
    }

    #[test]
    fn an_inventory_making_more_segments_than_a_run_can_number_is_refused_naming_the_column() {
        // 65 536 rows, each its own combination through a serial number: one segment too many
        // (as a scenario of its own; the test makes the file rather than keeping 66 000 rows).
        let mut text = String::from("name,availability,serial\n");
        for i in 0..=MAX_ITEMS {
            text.push_str(&format!("pc-{i:05},never,SN{i:08}\n"));
        }
        let room = Room {
            segments: MAX_ITEMS,
            declared: 0,
        };
        let mut problems = Vec::new();
        parse(&text, &[], &[], room, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(
            (p.line, p.column),
            (MAX_ITEMS + 2, 1),
            "the row of segment 65 536"
        );
        assert_eq!(
            p.message,
            "the inventory makes 65536 segments, more than the 65535 segments a scenario can hold (this row makes the first past it): each distinct combination of its columns (segment, utc_offset or time_zone, availability, policy and every attribute) makes a segment, so a column unique per device, such as a serial number, should be dropped (column \"serial\" alone has 65536 distinct values)"
        );
        // Without the serial number the same rows are one segment.
        let one: String = text
            .lines()
            .map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string() + "\n")
            .collect();
        let mut problems = Vec::new();
        let (specs, names, _) = parse(&one, &[], &[], room, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((specs.len(), names.len()), (1, MAX_ITEMS + 1));
    }

    #[test]
    fn the_room_an_inventory_has_is_what_the_scenarios_own_segments_leave() {
        let (_, names, problems) = read("name,serial\nPC-1,a\nPC-2,b\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(names.len(), 2);
        let room = Room {
            segments: 1,
            declared: 65_534,
        };
        let mut problems = Vec::new();
        parse(
            "name,serial\nPC-1,a\nPC-2,b\nPC-3,b\n",
            &[],
            &[],
            room,
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert!(
            problems[0].message.starts_with(
                "the inventory makes 2 segments, more than the 1 left beside the scenario's 65534 [[segments]] (a scenario holds at most 65535)"
            ),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0]
                .message
                .ends_with("(column \"serial\" alone has 2 distinct values)")
        );
    }

    #[test]
    fn the_validate_summary_is_singular_for_one_device_or_group() {
        assert_eq!(
            summary(1, 1),
            "inventory: 1 device in 1 group of identical settings"
        );
        assert_eq!(
            summary(300, 2),
            "inventory: 300 devices in 2 groups of identical settings"
        );
    }

    #[test]
    fn a_crlf_inventory_reports_each_problem_at_the_same_line_as_the_lf_one() {
        let lf = "name,segment,availability\nPC-1,office,office\nPC-2,office,bogus\n\"PC\n3\",office,\nPC-4,office,,x\npc-1,office,\n";
        let crlf = lf.replace('\n', "\r\n");
        let (_, _, want) = read(lf);
        assert_eq!(
            want,
            [
                "3:3: unknown profile \"bogus\"; expected one of always_on, office, laptop, dormant, never".to_string(),
                "6:1: malformed row: it has 4 fields where the header has 3".to_string(),
                format!(
                    "7:1: device \"pc-1\" appears twice, first as \"PC-1\" on line 2: {}",
                    crate::scenario::ids::HOW_NAMES_COMPARE
                ),
            ]
        );
        let (_, _, got) = read(&crlf);
        assert_eq!(got, want);
    }

    #[test]
    fn a_crlf_inventory_file_read_by_a_scenario_names_the_line_of_the_bad_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("devices.csv"),
            "name,segment,availability\r\nPC-1,office,office\r\nPC-2,office,office\r\nPC-3,office,bogus\r\n",
        )
        .expect("write");
        let text = "[simulation]\nstart = \"2026-03-02T14:00:00Z\"\nhorizon = \"P7D\"\n\n[fleet]\ninventory = \"devices.csv\"\n\n[[segments]]\nname = \"office\"\n\n[[deployments]]\nname = \"q\"\ncontent = { \"@odata.type\" = \"qualityUpdateReference\", releaseDateTime = \"2026-03-02T14:00:00Z\" }\n";
        let err = crate::scenario::Scenario::parse(text, "t.toml", "t", dir.path())
            .expect_err("a bad profile")
            .to_string();
        assert!(
            err.contains("devices.csv:4:3: availability: unknown profile \"bogus\""),
            "{err}"
        );
    }
}
