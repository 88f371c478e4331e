//! Sweep files: a base scenario plus parameters to vary.
//!
//! ```toml
//! base = "quality-update-office-fleet.toml"   # relative to the sweep file
//! replications = 20
//! [grid]                                       # every combination (cartesian product)
//! "policies.default.quality_deadline" = ["P2D", "P7D"]
//! "deployments.jan-security.settings.userExperience.daysUntilForcedReboot" = { from = 0, to = 2, step = 1 }
//! # or explicit variants:
//! [[variants]]
//! name = "fast"
//! set = { "policies.default.quality_deadline" = "P2D" }
//! ```
//!
//! A dotted path walks the base scenario's TOML; an element of an array of tables
//! (`deployments`, `segments`, `issues`, `actions`) is chosen by its `name` or by its index.
//! Missing tables on the way are created (the scenario's own validation then rejects a field that
//! does not exist, and the error names the sweep path).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::expect::{self, Expectation, RawExpect};
use crate::error::{Error, InputError, Problem};
use crate::scenario::overrides::set_path;
use crate::scenario::{Checker, Scenario, located};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    base: String,
    replications: Option<i64>,
    seed: Option<u64>,
    grid: Option<toml::Table>,
    variants: Option<Vec<RawVariant>>,
    #[serde(default)]
    expect: Vec<RawExpect>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: String,
    set: toml::Table,
}

/// One variant of a sweep: its name, the overrides that define it, and the scenario they give.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Name (explicit, or `path=value,…` for grid points).
    pub name: String,
    /// (dotted path, value as written) pairs.
    pub params: Vec<(String, String)>,
    /// The scenario with the overrides applied.
    pub scenario: Scenario,
}

impl Variant {
    /// The variant's value of each of `parameters`, empty for one it does not set: explicit
    /// variants may set different paths, and every row of a CSV has the header's columns.
    pub fn values(&self, parameters: &[String]) -> Vec<String> {
        parameters
            .iter()
            .map(|p| {
                self.params
                    .iter()
                    .find(|(k, _)| k == p)
                    .map_or(String::new(), |(_, v)| v.clone())
            })
            .collect()
    }
}

/// A checked sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The sweep file.
    pub file: PathBuf,
    /// Parameter names (dotted paths), the extra columns of the outputs.
    pub parameters: Vec<String>,
    /// Variants, in file (or grid) order.
    pub variants: Vec<Variant>,
    /// Replications per variant.
    pub replications: u64,
    /// Seed of replication 0 (default: the base scenario's).
    pub seed: u64,
    /// Expectations checked for every variant.
    pub expect: Vec<Expectation>,
    /// A hash of the sweep file's and the base scenario's text: what the runs depend on besides
    /// the replication count (see [`super::batch_id`]).
    pub fingerprint: u64,
}

fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Values of one grid entry: a non-empty list, or `{ from, to, step }`.
fn grid_values(c: &mut Checker, path: &str, v: &toml::Value) -> Vec<toml::Value> {
    match v {
        toml::Value::Array(a) if a.is_empty() => {
            c.fail(path, "is an empty list: give at least one value");
            Vec::new()
        }
        toml::Value::Array(a) => a.clone(),
        toml::Value::Table(t) => {
            let num = |k: &str| {
                t.get(k)
                    .and_then(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
            };
            let ints = ["from", "to", "step"]
                .iter()
                .all(|k| t.get(*k).is_none_or(|x| x.is_integer()));
            match (num("from"), num("to"), num("step").or(Some(1.0))) {
                (Some(from), Some(to), Some(step)) if step > 0.0 && to >= from => {
                    let n = ((to - from) / step + 1e-9).floor() as usize + 1;
                    if n > 10_000 {
                        c.fail(path, format!("gives {n} values; at most 10000"));
                        return Vec::new();
                    }
                    (0..n)
                        .map(|i| {
                            let x = from + step * i as f64;
                            if ints {
                                toml::Value::Integer(x.round() as i64)
                            } else {
                                toml::Value::Float(round_decimal(x))
                            }
                        })
                        .collect()
                }
                _ => {
                    c.fail(
                        path,
                        "a range needs numbers from ≤ to and step > 0: { from = 0, to = 2, step = 1 }",
                    );
                    Vec::new()
                }
            }
        }
        other => {
            c.fail(
                path,
                format!(
                    "must be a list of values or a range {{ from, to, step }}, found {}",
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}

/// `x` at 12 significant digits: `0.1 + 2 × 0.1` is 0.30000000000000004 in binary, and the
/// grid means 0.3 (in the variant's name as in its scenario). Twelve digits are far below any
/// difference a grid step makes and far above the error of a few additions.
fn round_decimal(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Line and column of the first quoted occurrence of `needle` in `text`.
fn find(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(&format!("\"{needle}\""))
        .or_else(|| text.find(needle))
        .unwrap_or(0);
    let before = &text[..at];
    (
        before.matches('\n').count() + 1,
        before.rfind('\n').map_or(at, |i| at - i - 1) + 1,
    )
}

impl Sweep {
    /// Loads and checks a sweep file, building every variant's scenario.
    pub fn load(file: &Path) -> Result<Sweep, Error> {
        let text = std::fs::read_to_string(file).map_err(|source| Error::Read {
            path: file.to_path_buf(),
            source,
        })?;
        let shown = file.display().to_string();
        let loc = crate::scenario::locate::Locator::new(&text);
        let raw: RawSweep = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| loc.line_col(s.start));
            Error::Input(InputError {
                file: shown.clone(),
                problems: vec![Problem {
                    line,
                    column,
                    path: e.span().map(|s| loc.path_at(&s)).unwrap_or_default(),
                    message: e.message().trim().to_string(),
                }],
            })
        })?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let base_path = dir.join(&raw.base);
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| {
            Error::Input(InputError {
                file: shown.clone(),
                problems: vec![Problem {
                    line: find(&text, &raw.base).0,
                    column: find(&text, &raw.base).1,
                    path: "base".into(),
                    message: format!(
                        "cannot read the base scenario \"{}\": {e}",
                        base_path.display()
                    ),
                }],
            })
        })?;
        // The base must be valid on its own; its errors are its own file's.
        let base = Scenario::load(&base_path)?;
        let base_doc: toml::Table = toml::from_str(&base_text).map_err(|e| {
            Error::Input(InputError {
                file: base_path.display().to_string(),
                problems: vec![Problem {
                    line: 0,
                    column: 0,
                    path: String::new(),
                    message: e.to_string(),
                }],
            })
        })?;
        let mut c = Checker::default();
        let replications = match raw.replications {
            None => 1,
            Some(n) if (1..=1_000_000).contains(&n) => n as u64,
            Some(n) => {
                c.fail(
                    "replications",
                    format!("must be from 1 to 1000000, found {n}"),
                );
                1
            }
        };
        // Variants as (name, [(path, value)]).
        let mut defs: Vec<(String, Vec<(String, toml::Value)>)> = Vec::new();
        let mut parameters: Vec<String> = Vec::new();
        match (&raw.grid, &raw.variants) {
            (Some(_), Some(_)) => c.fail("variants", "use [grid] or [[variants]], not both"),
            (None, None) => c.fail("grid", "a sweep needs [grid] or [[variants]]"),
            (Some(g), None) => {
                let mut axes: Vec<(String, Vec<toml::Value>)> = Vec::new();
                for (path, v) in g {
                    let vals = grid_values(&mut c, &format!("grid.{path}"), v);
                    parameters.push(path.clone());
                    axes.push((path.clone(), vals));
                }
                let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
                for (path, vals) in &axes {
                    combos = combos
                        .into_iter()
                        .flat_map(|prefix| {
                            vals.iter().map(move |v| {
                                let mut p = prefix.clone();
                                p.push((path.clone(), v.clone()));
                                p
                            })
                        })
                        .collect();
                }
                for combo in combos {
                    let name = combo
                        .iter()
                        .map(|(p, v)| format!("{}={}", p.rsplit('.').next().unwrap_or(p), show(v)))
                        .collect::<Vec<_>>()
                        .join(",");
                    defs.push((name, combo));
                }
            }
            (None, Some(vs)) => {
                for v in vs {
                    for k in v.set.keys() {
                        if !parameters.contains(k) {
                            parameters.push(k.clone());
                        }
                    }
                    defs.push((
                        v.name.clone(),
                        v.set.iter().map(|(k, x)| (k.clone(), x.clone())).collect(),
                    ));
                }
            }
        }
        let mut variants = Vec::new();
        let mut problems: Vec<Problem> = Vec::new();
        for (name, sets) in defs {
            let mut doc = base_doc.clone();
            let mut ok = true;
            for (path, value) in &sets {
                if let Err(m) = set_path(&mut doc, path, value) {
                    let (line, column) = find(&text, path);
                    problems.push(Problem {
                        line,
                        column,
                        path: path.clone(),
                        message: m,
                    });
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            let generated = toml::to_string(&doc).unwrap_or_default();
            let stem = base_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match Scenario::parse(
                &generated,
                &format!("{shown} (variant {name})"),
                &stem,
                &base_path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
            ) {
                Ok(sc) => variants.push(Variant {
                    name: name.clone(),
                    params: sets.iter().map(|(p, v)| (p.clone(), show(v))).collect(),
                    scenario: sc,
                }),
                Err(Error::Input(e)) => {
                    // Name the sweep path that caused it: the override whose path the
                    // scenario error is under, else all of the variant's paths.
                    for p in e.problems {
                        let culprit = sets
                            .iter()
                            .map(|(k, _)| k)
                            .find(|k| {
                                p.path
                                    .replace('[', ".")
                                    .contains(k.split('.').next_back().unwrap_or(k))
                            })
                            .cloned()
                            .unwrap_or_else(|| {
                                sets.iter()
                                    .map(|(k, _)| k.clone())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            });
                        let (line, column) = find(&text, culprit.split(", ").next().unwrap_or(""));
                        problems.push(Problem {
                            line,
                            column,
                            path: culprit,
                            message: format!("variant {name}: {} ({})", p.message, p.path),
                        });
                    }
                }
                Err(other) => return Err(other),
            }
        }
        let names: Vec<&str> = base.deployments.iter().map(|d| d.name.as_str()).collect();
        let expect = expect::check(&mut c, "expect", &raw.expect, &names);
        let mut all = located(c.problems, |p| match p.strip_prefix("grid.") {
            Some(rest) => find(&text, rest),
            None => loc.position(p),
        });
        all.extend(problems);
        if !all.is_empty() {
            all.sort_by_key(|p| (p.line, p.column));
            all.dedup_by(|a, b| a.line == b.line && a.message == b.message);
            return Err(Error::Input(InputError {
                file: shown,
                problems: all,
            }));
        }
        Ok(Sweep {
            fingerprint: super::fnv1a(&[text.as_bytes(), base_text.as_bytes()]),
            file: file.to_path_buf(),
            parameters,
            seed: raw.seed.unwrap_or(base.seed),
            variants,
            replications,
            expect,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_float_range_gives_the_decimals_written_not_their_binary_sums() {
        let t: toml::Table =
            toml::from_str("r = { from = 0.1, to = 1, step = 0.1 }").expect("toml");
        let mut c = Checker::default();
        let shown: Vec<String> = grid_values(&mut c, "grid.r", &t["r"])
            .iter()
            .map(show)
            .collect();
        assert!(c.problems.is_empty());
        assert_eq!(
            shown,
            [
                "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"
            ]
        );
    }
}
