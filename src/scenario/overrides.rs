//! Dotted-path overrides of a scenario's TOML: how sweeps make variants and how `rollsim run --set`
//! changes one value (a horizon, a rollout size) without editing the file. The changed document
//! is validated like any scenario, so a wrong path or value is reported as bad input.

use std::path::Path;

use super::{Scenario, suggest};
use crate::error::{Error, InputError, Problem};

/// Sets `value` at dotted `path` in `doc`.
pub fn set_path(doc: &mut toml::Table, path: &str, value: &toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut table = doc;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last {
            table.insert((*part).to_string(), value.clone());
            return Ok(());
        }
        let entry = table
            .entry((*part).to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(items) => {
                let next = parts[i + 1];
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|x| x.get("name").and_then(|n| n.as_str()).map(String::from))
                    .collect();
                let pos = items
                    .iter()
                    .position(|x| x.get("name").and_then(|n| n.as_str()) == Some(next))
                    .or_else(|| next.parse::<usize>().ok().filter(|&k| k < items.len()));
                let Some(pos) = pos else {
                    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                    let n = items.len();
                    return Err(if n == 0 {
                        format!("\"{part}\" is an empty list: it has no element \"{next}\"")
                    } else if names.is_empty() {
                        format!(
                            "\"{part}\" has no element \"{next}\": its {n} element{} have no names; give an index from 0 to {}",
                            if n == 1 { "" } else { "s" },
                            n - 1
                        )
                    } else {
                        format!(
                            "\"{part}\" has no element named \"{next}\"{}; elements are {} (or an index from 0 to {})",
                            suggest(next, &refs),
                            names.join(", "),
                            n - 1
                        )
                    });
                };
                // Skip the element selector.
                return match items.get_mut(pos) {
                    Some(toml::Value::Table(t)) => {
                        let rest = parts[i + 2..].join(".");
                        if rest.is_empty() {
                            Err(format!(
                                "\"{path}\" names a whole element; name a field in it"
                            ))
                        } else {
                            set_path(t, &rest, value)
                        }
                    }
                    _ => Err(format!("\"{part}.{next}\" is not a table")),
                };
            }
            other => {
                return Err(format!(
                    "\"{}\" is a {}, not a table: it has no field \"{}\"",
                    parts[..=i].join("."),
                    other.type_str(),
                    parts[i + 1]
                ));
            }
        };
    }
    Ok(())
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
    /// first; also returns the text that was validated (the file itself when `sets` is empty).
    pub fn load_with(path: &Path, sets: &[String]) -> Result<(Scenario, Vec<u8>), Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if sets.is_empty() {
            return Ok((Scenario::load(path)?, text.into_bytes()));
        }
        let shown = path.display().to_string();
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
        let mut doc: toml::Table = toml::from_str(&text).map_err(|_| {
            // The file itself is broken: let the ordinary loader say where.
            Scenario::load(path)
                .err()
                .unwrap_or_else(|| problem("", "cannot be read".into()))
        })?;
        for s in sets {
            let (p, v) = parse_assignment(s).ok_or_else(|| {
                problem(
                    "--set",
                    format!("must be PATH=VALUE (e.g. simulation.horizon=P90D), found \"{s}\""),
                )
            })?;
            set_path(&mut doc, &p, &v).map_err(|m| problem(&p, format!("--set: {m}")))?;
        }
        let generated = format!(
            "# {shown} with --set {}\n{}",
            sets.join(" --set "),
            toml::to_string(&doc).unwrap_or_default()
        );
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = path.parent().unwrap_or(Path::new("."));
        let sc = Scenario::parse(&generated, &format!("{shown} (with --set)"), &stem, base)?;
        Ok((sc, generated.into_bytes()))
    }
}

/// The scenario text as run: `text` (the file, or the file with `--set` applied) with `seed`
/// written as `simulation.seed` and, when the fleet was rescaled (`--devices`), `sc`'s device
/// counts written into each `[[segments]]` entry, so the copy in a run's output folder (shown by
/// report.html) loads back to what ran. `note` (the options that changed it) heads the text.
pub fn as_run(text: &[u8], note: &str, seed: Option<u64>, rescaled: Option<&Scenario>) -> Vec<u8> {
    if seed.is_none() && rescaled.is_none() {
        return text.to_vec();
    }
    let Some(mut doc) = std::str::from_utf8(text)
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(t).ok())
    else {
        return [format!("# run with {note}\n").as_bytes(), text].concat();
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
    if let Some(sc) = rescaled {
        let segments = doc.get_mut("segments").and_then(|v| v.as_array_mut());
        match segments {
            // Inventory scenarios add segments that the file does not list.
            Some(items) if items.len() == sc.segments.len() => {
                for (item, spec) in items.iter_mut().zip(&sc.segments) {
                    if let Some(t) = item.as_table_mut() {
                        t.remove("share");
                        t.insert("devices".into(), toml::Value::Integer(spec.devices.into()));
                    }
                }
                if let Some(f) = doc.get_mut("fleet").and_then(|v| v.as_table_mut())
                    && f.contains_key("devices")
                {
                    f.insert(
                        "devices".into(),
                        toml::Value::Integer(sc.devices().min(i64::MAX as u64) as i64),
                    );
                }
            }
            _ => unwritten.push(format!(
                "the fleet was rescaled to {} devices, which this file cannot show",
                sc.devices()
            )),
        }
    }
    let mut head = format!("# as run with {note}\n");
    for u in unwritten {
        head.push_str(&format!("# note: {u}\n"));
    }
    format!("{head}{}", toml::to_string(&doc).unwrap_or_default()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_selects_array_elements_by_name_and_creates_tables() {
        let mut doc: toml::Table =
            toml::from_str("[[deployments]]\nname = \"a\"\n[[deployments]]\nname = \"b\"\n")
                .unwrap();
        set_path(
            &mut doc,
            "deployments.b.settings.schedule.gradualRollout.devicesPerOffer",
            &toml::Value::Integer(5),
        )
        .unwrap();
        let s = toml::to_string(&doc).unwrap();
        assert!(s.contains("devicesPerOffer = 5"), "{s}");
        let e = set_path(&mut doc, "deployments.c.name", &toml::Value::Integer(1)).unwrap_err();
        assert!(e.contains("no element named \"c\""), "{e}");
    }

    #[test]
    fn a_missing_element_of_an_empty_or_unnamed_list_is_told_with_the_indexes_there_are() {
        let mut doc: toml::Table =
            toml::from_str("rules = []\nitems = [{ x = 1 }, { x = 2 }]\n").unwrap();
        let e = set_path(&mut doc, "rules.3.threshold", &toml::Value::Integer(5)).unwrap_err();
        assert_eq!(e, "\"rules\" is an empty list: it has no element \"3\"");
        let e = set_path(&mut doc, "items.2.x", &toml::Value::Integer(5)).unwrap_err();
        assert_eq!(
            e,
            "\"items\" has no element \"2\": its 2 elements have no names; give an index from 0 to 1"
        );
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
}
