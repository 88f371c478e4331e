//! Fleet inventory import: `[fleet] inventory = "devices.csv"`, one device per row, as an admin
//! exports it from a management tool.
//!
//! Columns: `name` (required: the device id, used by audience entries and Graph `azureADDevice`
//! ids), and optionally `segment` (a `[[segments]]` entry whose policy, UTC offset and availability
//! are the row's defaults), `utc_offset`, `availability` (a profile name with its default
//! parameters), `policy`; every other column is an attribute (an empty cell: the device lacks it).
//! Rows with the same segment, offset, availability, policy and attributes become one synthetic
//! segment named after their `segment` (or `inventory`), so fleet generation is unchanged and a
//! device is still a few bytes. Bad rows are reported with their line, all at once.

use std::collections::HashMap;
use std::path::Path;

use super::{Checker, suggest};
use crate::client::Policy;
use crate::error::{Error, InputError, Problem};
use crate::fleet::{AttrChoice, Profile, SegmentSpec};
use crate::time::{HOUR, parse_utc_offset};

const PROFILES: [&str; 5] = ["always_on", "office", "laptop", "dormant", "never"];
const RESERVED: [&str; 5] = ["name", "segment", "utc_offset", "availability", "policy"];

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

/// Device name → (segment index, index within the segment).
pub type DeviceNames = HashMap<String, (u16, u32)>;

/// Reads the inventory and appends its synthetic segments to `segments` (templates first).
/// Problems go to the inventory file's own error in `c.file_errors`.
pub(super) fn load(
    c: &mut Checker,
    field: &str,
    base: &Path,
    rel: &str,
    segments: &mut Vec<SegmentSpec>,
    policies: &[Policy],
) -> DeviceNames {
    let path = base.join(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            c.inventory_failed = true;
            c.fail(
                field,
                format!("cannot read inventory \"{}\": {e}", path.display()),
            );
            return DeviceNames::new();
        }
    };
    if !c.inputs.iter().any(|(p, _)| p == rel) {
        c.inputs.push((rel.to_string(), text.clone().into_bytes()));
    }
    let mut problems = Vec::new();
    let (specs, names) = parse(&text, segments, policies, &mut problems);
    if !problems.is_empty() {
        c.inventory_failed = true;
        c.file_errors.push(InputError {
            file: path.display().to_string(),
            problems,
        });
        return DeviceNames::new();
    }
    let first = segments.len();
    segments.extend(specs);
    names
        .into_iter()
        .map(|(n, (s, i))| (n, ((first + s) as u16, i)))
        .collect()
}

/// Checks an inventory on its own (`rollsim validate devices.csv`); segment and policy columns
/// cannot be checked without a scenario.
pub fn validate_file(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut problems = Vec::new();
    let (specs, names) = parse(&text, &[], &[], &mut problems);
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

type Key = (String, i32, String, String, Vec<String>);

fn parse(
    text: &str,
    templates: &[SegmentSpec],
    policies: &[Policy],
    problems: &mut Vec<Problem>,
) -> (Vec<SegmentSpec>, HashMap<String, (usize, u32)>) {
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
            return (Vec::new(), HashMap::new());
        }
    };
    let col = |n: &str| header.iter().position(|h| h == n);
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
        return (Vec::new(), HashMap::new());
    };
    let attrs: Vec<(usize, &str)> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| !RESERVED.contains(&h.as_str()))
        .map(|(i, h)| (i, h.as_str()))
        .collect();
    let seg_names: Vec<&str> = templates.iter().map(|s| s.name.as_str()).collect();
    let pol_names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    let mut groups: Vec<(Key, SegmentSpec)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut names: HashMap<String, (usize, u32)> = HashMap::new();
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                fail(line, 1, "", format!("malformed row: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(name) = get(Some(name_col)) else {
            fail(line, name_col + 1, "name", "the device has no name".into());
            continue;
        };
        if names.contains_key(name) {
            fail(
                line,
                name_col + 1,
                "name",
                format!("device \"{name}\" appears twice"),
            );
            continue;
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
                    continue;
                }
            },
        };
        let t = template.as_ref().and_then(|(i, _)| templates.get(*i));
        let offset = match get(col("utc_offset")) {
            None => t.map_or(0, |t| t.utc_offset),
            Some(o) => match parse_utc_offset(o) {
                Ok(v) => v,
                Err(e) => {
                    fail(
                        line,
                        col("utc_offset").unwrap_or(0) + 1,
                        "utc_offset",
                        format!("{e}, found \"{o}\""),
                    );
                    continue;
                }
            },
        };
        let (avail_name, prof) = match get(col("availability")) {
            None => (
                "".to_string(),
                t.map_or(Profile::AlwaysOn, |t| t.profile.clone()),
            ),
            Some(a) => match profile(a) {
                Some(p) => (a.to_string(), p),
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
                    continue;
                }
            },
        };
        let (pol_name, policy) = match get(col("policy")) {
            None => (
                "".to_string(),
                t.map_or_else(
                    || pol_names.iter().position(|p| *p == "default").unwrap_or(0) as u16,
                    |t| t.policy,
                ),
            ),
            Some(_) if standalone => ("".to_string(), 0),
            Some(p) => match pol_names.iter().position(|x| *x == p) {
                Some(i) => (p.to_string(), i as u16),
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
                    continue;
                }
            },
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
        );
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((
                key,
                SegmentSpec {
                    name: seg_name,
                    devices: 0,
                    policy,
                    utc_offset: offset,
                    profile: prof,
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
        let spec = &mut groups[g].1;
        names.insert(name.to_string(), (g, spec.devices));
        spec.devices += 1;
    }
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
    (specs, names)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
