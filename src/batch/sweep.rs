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

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::expect::{self, Expectation, RawExpect};
use crate::error::{Error, InputError, Problem};
use crate::scenario::graph::{non_finite, toml_float};
use crate::scenario::overrides::{BodySet, Target, set_path};
use crate::scenario::{Checker, InputKind, Scenario, located};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    base: String,
    replications: Option<i64>,
    seed: Option<u64>,
    // Values with their spans: a map does not keep the file's order, the spans do.
    grid: Option<BTreeMap<String, Spanned<toml::Value>>>,
    variants: Option<Vec<RawVariant>>,
    #[serde(default)]
    expect: Vec<RawExpect>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: Spanned<String>,
    set: BTreeMap<String, Spanned<toml::Value>>,
}

/// The entries of `map` in file order, each as (key, value, span of the value).
fn in_file_order(
    map: &BTreeMap<String, Spanned<toml::Value>>,
) -> Vec<(&str, &toml::Value, Range<usize>)> {
    let mut entries: Vec<_> = map
        .iter()
        .map(|(k, v)| (k.as_str(), v.get_ref(), v.span()))
        .collect();
    entries.sort_by_key(|(_, _, span)| span.start);
    entries
}

/// A problem of the scenarios of one or more variants, found at the same place of the sweep.
struct VariantProblem {
    line: usize,
    column: usize,
    /// The sweep path that caused it.
    culprit: String,
    message: String,
    /// Where in the variant's scenario (the first one found).
    scenario_path: String,
    variants: Vec<String>,
}

impl VariantProblem {
    /// The problem as printed, naming its variants: all of them, or the first few.
    fn problem(self, total: usize) -> Problem {
        let which = which_variants(&self.variants, total);
        Problem {
            line: self.line,
            column: self.column,
            path: self.culprit,
            message: format!("{which}: {} ({})", self.message, self.scenario_path),
        }
    }
}

/// Names `variants` of a sweep of `total`: all of them, or the first few.
pub(crate) fn which_variants(variants: &[String], total: usize) -> String {
    const SHOWN: usize = 3;
    let n = variants.len();
    if n == 1 {
        format!("variant {}", variants[0])
    } else if n == total {
        format!("all {n} variants")
    } else if n <= SHOWN {
        format!("variants {}", variants.join("; "))
    } else {
        format!("{n} variants ({}; …)", variants[..SHOWN].join("; "))
    }
}

/// Rows of `bands.csv` past which a sweep is told its size (as `timeseries.csv`'s are).
const BANDS_ROWS: u64 = 10_000_000;

/// The warning of a sweep whose `bands.csv` (a row per variant, deployment, sample and state,
/// built in memory before it is written) would pass [`BANDS_ROWS`], with its size; `None`
/// below.
fn bands_size_warning(shown: &str, variants: &[Variant]) -> Option<String> {
    let mut rows: u64 = 0;
    let mut bytes: f64 = 0.0;
    for v in variants {
        let sc = &v.scenario;
        let samples = sc.horizon.div_ceil(sc.sample_interval.max(1)) + 1;
        for d in &sc.deployments {
            let n = samples * crate::metrics::N_STATES as u64;
            rows += n;
            // The numbers and the instant take about 90 bytes a row (115 measured with a
            // 20-letter variant name), then the names.
            bytes += n as f64 * (90 + v.name.len() + d.name.len()) as f64;
        }
    }
    if rows <= BANDS_ROWS {
        return None;
    }
    let size = match bytes >= 1e9 {
        true => format!("{:.1} GB", bytes / 1e9),
        false => format!("{:.0} MB", bytes / 1e6),
    };
    Some(format!(
        "{shown}: bands.csv would have about {:.1} million rows ({} variants × their deployments, samples and {} states), about {size}, built in memory before it is written: a coarser [simulation] sample_interval (\"PT6H\", \"P1D\") keeps it in proportion",
        rows as f64 / 1e6,
        variants.len(),
        crate::metrics::N_STATES
    ))
}

/// A path a sweep varies: a grid axis, or a path its variants set.
struct Axis<'a> {
    /// The dotted path.
    path: &'a str,
    /// How a warning names it: `grid.PATH`, or `variants[i].set.PATH` of the first variant
    /// setting it.
    label: &'a str,
    /// Where it is written (of variants, in the first one setting it); (0, 0) when unknown.
    at: Position,
}

/// What an axis sets that a sweep can tell has no effect: a field of a client policy (which
/// deployments it reaches decides it), or the client's timings of one category of update.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    /// `quality_deadline` (`deadline`: true), `quality_grace`, `quality_deferral`,
    /// `quality_pause_until`: an expedite ignores them.
    Quality { deadline: bool },
    /// `feature_deadline`, `feature_grace`, `feature_deferral`, `feature_pause_until`.
    Feature,
    /// `deadline_clock`: counts the deadlines of regular quality and feature updates.
    Clock,
    /// Any other field of the policy, or the whole table: only a policy that reaches no device
    /// of any deployment is sure to change nothing.
    Other,
}

/// What one variant's scenario says of a policy axis.
enum Verdict {
    /// The value may change results.
    Effect,
    /// No segment (nor inventory row) with devices has the policy.
    NoSegment,
    /// Segments (their names) have it, but no deployment's audience can hold their devices.
    NoDeployment(Vec<String>),
    /// The deployments that can reach its devices (name, what it is), none of them of the kind
    /// the field applies to.
    NotApplied(Vec<(String, &'static str)>),
}

/// The parts of a dotted path, quotes around a key removed (as [`set_path`] reads them).
fn path_parts(path: &str) -> Vec<&str> {
    path.split('.')
        .map(|p| {
            p.strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .unwrap_or(p)
        })
        .collect()
}

/// Whether deployment `di` of `sc` is expedited from its creation to the end: at creation and
/// after every settings PATCH an action makes (a PATCH can make a deployment expedited or not).
fn always_expedited(sc: &Scenario, di: usize) -> bool {
    use crate::service::ActionKind;
    sc.deployments[di].settings.expedited
        && sc
            .actions
            .iter()
            .filter(|a| usize::from(a.deployment) == di)
            .all(|a| match &a.kind {
                ActionKind::Settings { settings, .. } | ActionKind::Patch { settings, .. } => {
                    settings.expedited
                }
                _ => true,
            })
}

/// How a warning names a deployment that is expedited throughout.
const EXPEDITED: &str = "an expedited quality update";

/// What variant scenario `sc` says of `field` of policy `name`. Decided from the scenario alone,
/// never from a draw: every conclusion of no effect holds for every fleet the seed can give
/// (README, "Sweeps": only certain cases are told).
fn policy_verdict(sc: &Scenario, name: &str, field: Field) -> Verdict {
    use crate::client::Category;
    let Some(pi) = sc.policies.iter().position(|p| p.name == name) else {
        return Verdict::Effect;
    };
    let segs: Vec<usize> = (0..sc.segments.len())
        .filter(|&s| usize::from(sc.segments[s].policy) == pi && sc.segments[s].devices > 0)
        .collect();
    if segs.is_empty() {
        return Verdict::NoSegment;
    }
    let reaching: Vec<usize> = (0..sc.deployments.len())
        .filter(|&di| {
            let reached = crate::scenario::deployment::segments_reached(sc, di);
            segs.iter().any(|&s| reached[s])
        })
        .collect();
    if reaching.is_empty() {
        return Verdict::NoDeployment(segs.iter().map(|&s| sc.segments[s].name.clone()).collect());
    }
    let kind = |di: usize| {
        let d = &sc.deployments[di];
        match sc.contents.get(usize::from(d.content)).map(|c| c.category) {
            Some(Category::Feature) => "a feature update",
            Some(Category::Quality) if always_expedited(sc, di) => EXPEDITED,
            _ => "a regular quality update",
        }
    };
    let applies = |k: &str| match field {
        Field::Quality { .. } => k == "a regular quality update",
        Field::Feature => k == "a feature update",
        Field::Clock => k != EXPEDITED,
        Field::Other => true,
    };
    if reaching.iter().any(|&di| applies(kind(di))) {
        return Verdict::Effect;
    }
    // An expedite's work is told apart from work waiting for Automatic Maintenance by whether
    // the policy has a quality deadline at all (`Client::expedite_busy`): only a deadline's
    // length is sure to change nothing.
    if field == (Field::Quality { deadline: true }) && sc.policies[pi].quality_deadline.is_none() {
        return Verdict::Effect;
    }
    Verdict::NotApplied(
        reaching
            .iter()
            .map(|&di| (sc.deployments[di].name.clone(), kind(di)))
            .collect(),
    )
}

/// Warnings of the axes of a sweep (file `shown`) that have no effect on any deployment in any
/// of its `variants`, so that every value gives the same results: each told once, at the axis,
/// with the deployments concerned and why. Only what the scenarios decide with certainty:
/// - a field of a policy (`policies.NAME.…`) that no segment uses, or whose devices no
///   deployment's audience can hold;
/// - a policy's quality deadline (its length only), grace, deferral or pause when every
///   deployment that can reach its devices is expedited (an expedite's restart comes from its
///   `daysUntilForcedReboot`, and it ignores deferrals and pauses) or a feature update; its
///   feature settings when none of them is a feature update; its `deadline_clock` when all of
///   them are expedited;
/// - the client's timings of a category (`client.quality.…`, `client.feature.…`) when no
///   deployment has content of that category.
///
/// Also returns the policies told as used by no segment, whose variants' warning of an unused
/// policy would say it again.
fn axis_warnings(
    shown: &str,
    axes: &[Axis<'_>],
    variants: &[Variant],
) -> (Vec<String>, Vec<String>) {
    use crate::client::Category;
    let mut out = Vec::new();
    let mut unused = Vec::new();
    if variants.is_empty() {
        return (out, unused);
    }
    for axis in axes {
        let parts = path_parts(axis.path);
        let why = match parts.as_slice() {
            ["client", cat @ ("quality" | "feature"), ..] => {
                let category = match *cat {
                    "quality" => Category::Quality,
                    _ => Category::Feature,
                };
                let none = variants.iter().all(|v| {
                    let sc = &v.scenario;
                    sc.deployments.iter().all(|d| {
                        sc.contents
                            .get(usize::from(d.content))
                            .is_some_and(|c| c.category != category)
                    })
                });
                none.then(|| {
                    format!(
                        "no deployment deploys a {cat} update, and [client.{cat}] applies to {cat} updates only"
                    )
                })
            }
            ["policies", name, rest @ ..] => {
                let field = match rest.first().copied() {
                    Some("quality_deadline") => Field::Quality { deadline: true },
                    Some("quality_grace" | "quality_deferral" | "quality_pause_until") => {
                        Field::Quality { deadline: false }
                    }
                    Some(
                        "feature_deadline"
                        | "feature_grace"
                        | "feature_deferral"
                        | "feature_pause_until",
                    ) => Field::Feature,
                    Some("deadline_clock") => Field::Clock,
                    _ => Field::Other,
                };
                let verdicts: Vec<Verdict> = variants
                    .iter()
                    .map(|v| policy_verdict(&v.scenario, name, field))
                    .collect();
                policy_no_effect(name, rest.first().copied(), field, &verdicts).inspect(|_| {
                    if verdicts.iter().all(|v| matches!(v, Verdict::NoSegment)) {
                        unused.push((*name).to_string());
                    }
                })
            }
            _ => None,
        };
        if let Some(why) = why {
            let place = match axis.at {
                (0, _) => format!("{shown}: "),
                (line, column) => format!("{shown}:{line}:{column}: "),
            };
            out.push(format!(
                "{place}{}: no effect on any deployment: {why}; every value of it gives the same results",
                axis.label
            ));
        }
    }
    (out, unused)
}

/// Why an axis setting `field` (`key`, as written) of policy `name` has no effect, from each
/// variant's verdict; None when it may have one in some variant.
fn policy_no_effect(
    name: &str,
    key: Option<&str>,
    field: Field,
    verdicts: &[Verdict],
) -> Option<String> {
    if verdicts.iter().any(|v| matches!(v, Verdict::Effect)) {
        return None;
    }
    // The deployments and segments of all the variants, each named once.
    let mut reaching: Vec<(String, &str)> = Vec::new();
    let mut segments: Vec<String> = Vec::new();
    for v in verdicts {
        match v {
            Verdict::NotApplied(ds) => {
                for (d, k) in ds {
                    if !reaching.iter().any(|(x, _)| x == d) {
                        reaching.push((d.clone(), k));
                    }
                }
            }
            Verdict::NoDeployment(ss) => {
                for s in ss {
                    if !segments.contains(s) {
                        segments.push(s.clone());
                    }
                }
            }
            Verdict::NoSegment | Verdict::Effect => {}
        }
    }
    if reaching.is_empty() {
        return Some(match segments.is_empty() {
            true => format!(
                "no segment (nor inventory row) uses policy \"{name}\", so it applies to no device"
            ),
            false => format!(
                "no deployment's audience can hold a device of policy \"{name}\" (segment{} {}), so none of its devices is offered anything",
                if segments.len() == 1 { "" } else { "s" },
                segments.join(", ")
            ),
        });
    }
    let listed = reaching
        .iter()
        .map(|(d, k)| format!("\"{d}\" ({k})"))
        .collect::<Vec<_>>()
        .join(", ");
    let key = key.unwrap_or_default();
    let has = |kind: &str| reaching.iter().any(|(_, k)| *k == kind);
    let mut reasons = Vec::new();
    match field {
        Field::Quality { .. } => {
            if has(EXPEDITED) {
                reasons.push(match key {
                    "quality_deadline" | "quality_grace" => format!(
                        "an expedite's restart is forced daysUntilForcedReboot days after its install, whatever the policy's {key}"
                    ),
                    _ => format!("an expedite ignores the policy's {key}"),
                });
            }
            if has("a feature update") {
                reasons.push(format!(
                    "a feature update takes the policy's feature settings, not its {key}"
                ));
            }
        }
        Field::Feature => reasons.push(format!("{key} applies to feature updates only")),
        Field::Clock => reasons.push(
            "the deadline clock counts the deadlines of regular quality and feature updates, and an expedite's restart follows its daysUntilForcedReboot instead"
                .to_string(),
        ),
        Field::Other => return None,
    }
    let (only, are) = match reaching.len() {
        1 => ("the only deployment", "is"),
        _ => ("the only deployments", "are"),
    };
    Some(format!(
        "{only} whose audience can hold a device of policy \"{name}\" {are} {listed}, and {}",
        reasons.join(", and ")
    ))
}

/// One variant of a sweep: its name, the overrides that define it, and the scenario they give.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Name (explicit, or `path=value,…` for grid points).
    pub name: String,
    /// (dotted path, value as written) pairs.
    pub params: Vec<(String, String)>,
    /// The scenario with the overrides applied; its `seed` is the seed the variant runs with.
    pub scenario: Scenario,
}

/// Most variants a sweep may have (each holds a whole scenario).
pub const MAX_VARIANTS: usize = 100_000;

/// (line, column) in the sweep file.
type Position = (usize, usize);

/// One override of a variant: (dotted path, value, where the path is written).
type Set = (String, toml::Value, Position);

/// The folder of a batch's output that holds its base scenario and the files that reads.
pub const BASE_DIR: &str = "base";

/// The path a variant sets to run with its own seed instead of the sweep's.
const SEED_PATH: &str = "simulation.seed";

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

/// Changes the command line makes to every variant: `--set PATH=VALUE` edits the base scenario
/// before the variants' own values (a variant that sets the same path wins), and `--devices N`
/// rescales every variant's fleet as `rollsim run --devices` does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub sets: Vec<String>,
    pub devices: Option<u64>,
}

impl Overrides {
    /// The options as given, for the heading of a copy as run and for a shard's manifest.
    pub fn options(&self) -> Vec<String> {
        self.sets
            .iter()
            .map(|s| format!("--set {s}"))
            .chain(self.devices.map(|n| format!("--devices {n}")))
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
    /// Variants, in file order; a grid's are its combinations, the first axis in the file
    /// varying slowest.
    pub variants: Vec<Variant>,
    /// Replications per variant.
    pub replications: u64,
    /// The sweep's `seed` (default: the base scenario's): the seed of every variant that does
    /// not set `simulation.seed` (each variant's is its scenario's `seed`).
    pub seed: u64,
    /// The base scenario's name (`[simulation] name`).
    pub base_name: String,
    /// Expectations checked for every variant.
    pub expect: Vec<Expectation>,
    /// A hash of the sweep file's and the base scenario's text: what the runs depend on besides
    /// the replication count (see [`super::batch_id`]).
    pub fingerprint: u64,
    /// The command line's changes to every variant (`rollsim batch --set/--devices`).
    pub overrides: Overrides,
    /// The base scenario as the variants start from it and the files it reads, as (path in a
    /// batch's folder, bytes): the folder's copy of the sweep names it as its `base`, so that
    /// the folder shows what ran and `rollsim batch DIR/scenario.toml` runs it again.
    pub base_copy: Vec<(String, Vec<u8>)>,
    /// The variants' scenario warnings, each once with the variants it concerns ("all 6
    /// variants: …"), in the order first met: a setting a variant sweeps but that has no effect
    /// must not pass in silence, as it does not for `rollsim run`.
    pub warnings: Vec<String>,
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
        toml::Value::Array(a) => {
            // A value that is not finite would read as not given in a Graph body, and names a
            // variant `…=nan`.
            if let Some((_, f)) = non_finite("", v).first() {
                c.fail(
                    path,
                    format!("values must be finite numbers, found {}", toml_float(*f)),
                );
                return Vec::new();
            }
            // Each value makes a variant named by it: a value given twice would run two
            // variants of one name, which [[variants]] refuses.
            let shown: Vec<String> = a.iter().map(show).collect();
            if let Some((i, j)) = (1..shown.len()).find_map(|j| {
                shown[..j]
                    .iter()
                    .position(|x| *x == shown[j])
                    .map(|i| (i, j))
            }) {
                let key = path.rsplit('.').next().unwrap_or(path);
                let found = if a[i] == a[j] {
                    format!("{} is given twice", a[j])
                } else {
                    format!("{} and {} read the same in a name", a[i], a[j])
                };
                c.fail(
                    path,
                    format!(
                        "values must differ: {found} (values {} and {}), and each value makes a variant named by it ({key}={})",
                        i + 1,
                        j + 1,
                        shown[j]
                    ),
                );
                return Vec::new();
            }
            a.clone()
        }
        toml::Value::Table(t) => {
            if let Some((k, f)) = ["from", "to", "step"].iter().find_map(|k| match t.get(*k) {
                Some(toml::Value::Float(f)) if !f.is_finite() => Some((k, *f)),
                _ => None,
            }) {
                c.fail(
                    path,
                    format!(
                        "a range's from, to and step must be finite numbers, found {k} = {}",
                        toml_float(f)
                    ),
                );
                return Vec::new();
            }
            let num = |k: &str| {
                t.get(k)
                    .and_then(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
            };
            let ints = ["from", "to", "step"]
                .iter()
                .all(|k| t.get(*k).is_none_or(|x| x.is_integer()));
            match (num("from"), num("to"), num("step").or(Some(1.0))) {
                (Some(from), Some(to), Some(step)) if step > 0.0 && to >= from => {
                    // Counted as a float: a tiny step gives more values than an integer holds.
                    let n = ((to - from) / step + 1e-9).floor() + 1.0;
                    if n.is_nan() || n > 10_000.0 {
                        let shown = if n < 1e15 {
                            format!("{n:.0}")
                        } else {
                            format!("about {n:.0e}")
                        };
                        // `{:?}` writes 1e-300 as that, `{}` as 300 digits.
                        let written = |k: &str| match t.get(k) {
                            Some(toml::Value::Float(x)) => format!("{x:?}"),
                            Some(other) => show(other),
                            None => "1".into(),
                        };
                        c.fail(
                            path,
                            format!(
                                "gives {shown} values (from {} to {} by step {}); at most 10000: make the step larger",
                                written("from"),
                                written("to"),
                                written("step")
                            ),
                        );
                        return Vec::new();
                    }
                    let n = n as usize;
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

/// Line and column of byte offset `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    (
        before.matches('\n').count() + 1,
        before.rfind('\n').map_or(at, |i| at - i - 1) + 1,
    )
}

/// Line and column of the first quoted occurrence of `needle` in `text`.
fn find(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(&format!("\"{needle}\""))
        .or_else(|| text.find(needle))
        .unwrap_or(0);
    line_col(text, at)
}

/// Line and column of key `key` written before its value at `value`: the last occurrence of the
/// key between the end of the value before it (`from`) and the value, so a key that several
/// variants set is found in the right variant. Falls back to [`find`].
fn find_key(text: &str, key: &str, from: usize, value: usize) -> (usize, usize) {
    let region = text.get(from..value).unwrap_or("");
    region
        .rfind(&format!("\"{key}\""))
        .or_else(|| region.rfind(key))
        .map_or_else(|| find(text, key), |at| line_col(text, from + at))
}

impl Sweep {
    /// The expectations variant `name` is judged by: its base scenario's `[[expect]]` (as the
    /// variant has them), then the sweep's own, each once.
    pub fn expectations(&self, name: &str) -> Vec<Expectation> {
        let mut all: Vec<Expectation> = self
            .variants
            .iter()
            .find(|v| v.name == name)
            .map_or_else(Vec::new, |v| v.scenario.expect.clone());
        for e in &self.expect {
            if !all.contains(e) {
                all.push(e.clone());
            }
        }
        all
    }

    /// Loads and checks a sweep file, building every variant's scenario.
    pub fn load(file: &Path) -> Result<Sweep, Error> {
        Sweep::load_with(file, &Overrides::default())
    }

    /// [`Sweep::load`] with the command line's `overrides` applied to every variant.
    pub fn load_with(file: &Path, overrides: &Overrides) -> Result<Sweep, Error> {
        let text = std::fs::read_to_string(file).map_err(|source| Error::Read {
            path: file.to_path_buf(),
            source,
        })?;
        let shown = file.display().to_string();
        // A scenario or a Graph body given to `batch`: what it is, alone.
        let wrong = crate::scenario::other_kind_of_file(&text, &shown, InputKind::Sweep);
        if let Some(p) = wrong {
            return Err(Error::Input(InputError {
                file: shown,
                problems: vec![p],
            }));
        }
        let loc = crate::scenario::locate::Locator::new(&text);
        let raw: RawSweep = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| loc.line_col(s.start));
            let at = e.span().map(|s| loc.path_at(&s)).unwrap_or_default();
            let (message, path) = crate::scenario::toml_message(&e, &text, &at);
            Error::Input(InputError {
                file: shown.clone(),
                problems: vec![Problem {
                    line,
                    column,
                    path,
                    message,
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
        // The base must be valid on its own (with the command line's --set); its errors are its
        // own file's, or the option's.
        let (base, base_as_loaded) = Scenario::load_with(&base_path, &overrides.sets)?;
        let mut base_doc: toml_edit::DocumentMut =
            base_text.parse().map_err(|e: toml_edit::TomlError| {
                Error::Input(InputError {
                    file: base_path.display().to_string(),
                    problems: vec![Problem {
                        line: 0,
                        column: 0,
                        path: String::new(),
                        message: format!("cannot be edited for the variants: {}", e.message()),
                    }],
                })
            })?;
        // The --set values, edited into the base as `Scenario::load_with` did (so they cannot
        // fail now), and those that change a Graph body, for every variant's reading of it.
        let mut base_bodies = Vec::new();
        for s in &overrides.sets {
            let Some((p, v)) = crate::scenario::overrides::parse_assignment(s) else {
                continue;
            };
            if let Ok(Target::Body { field, path }) = set_path(&mut base_doc, &p, &v) {
                base_bodies.push(BodySet {
                    field,
                    path,
                    value: crate::scenario::graph::toml_to_json(&v),
                    origin: Some(format!("--set {s}")),
                });
            }
        }
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
        // Variants as (name, their overrides).
        let mut defs: Vec<(String, Vec<Set>)> = Vec::new();
        let mut parameters: Vec<String> = Vec::new();
        // Where each grid path is written (or, of variants, where the first variant setting it
        // writes it), and how a warning names it (`grid.PATH`, `variants[i].set.PATH`).
        let mut axis_at: Vec<(String, Position)> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        let mut problems: Vec<Problem> = Vec::new();
        match (&raw.grid, &raw.variants) {
            (Some(_), Some(_)) => c.fail("variants", "use [grid] or [[variants]], not both"),
            (None, None) => c.fail("grid", "a sweep needs [grid] or [[variants]]"),
            (Some(g), None) if g.is_empty() => c.fail(
                "grid",
                "is empty: give at least one path to vary, like \"simulation.seed\" = [1, 2]",
            ),
            (None, Some(vs)) if vs.is_empty() => c.fail(
                "variants",
                "is an empty list: give at least one [[variants]] entry with a name and a set",
            ),
            (Some(g), None) => {
                // Axes in file order: the first varies slowest, and names and columns follow it.
                let mut axes: Vec<(String, Vec<toml::Value>, Position)> = Vec::new();
                let mut from = 0;
                for (path, v, span) in in_file_order(g) {
                    let vals = grid_values(&mut c, &format!("grid.{path}"), v);
                    let at = find_key(&text, path, from, span.start);
                    from = span.end;
                    parameters.push(path.to_string());
                    axis_at.push((path.to_string(), at));
                    labels.push(format!("grid.{path}"));
                    axes.push((path.to_string(), vals, at));
                }
                // Each variant holds a whole scenario: a grid whose axes multiply to more than a
                // sweep can hold is refused before it is built (a range with a small step on
                // each of two axes would otherwise ask for hundreds of millions).
                let total: f64 = axes.iter().map(|(_, v, _)| v.len() as f64).product();
                if total > MAX_VARIANTS as f64 {
                    let sizes: Vec<String> =
                        axes.iter().map(|(_, v, _)| v.len().to_string()).collect();
                    c.fail(
                        "grid",
                        format!(
                            "gives {} variants ({}); at most {MAX_VARIANTS}: use fewer values or larger steps, or split the sweep into several files",
                            total,
                            sizes.join(" × ")
                        ),
                    );
                    axes.clear();
                }
                let mut combos: Vec<Vec<Set>> = vec![Vec::new()];
                for (path, vals, at) in &axes {
                    combos = combos
                        .into_iter()
                        .flat_map(|prefix| {
                            vals.iter().map(move |v| {
                                let mut p = prefix.clone();
                                p.push((path.clone(), v.clone(), *at));
                                p
                            })
                        })
                        .collect();
                }
                for combo in combos {
                    let name = combo
                        .iter()
                        .map(|(p, v, _)| {
                            format!("{}={}", p.rsplit('.').next().unwrap_or(p), show(v))
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    defs.push((name, combo));
                }
            }
            (None, Some(vs)) => {
                // The end of the value before each key: a key is searched for after it.
                let mut from = 0;
                for (i, v) in vs.iter().enumerate() {
                    if let Some(j) = vs[..i]
                        .iter()
                        .position(|w| w.name.get_ref() == v.name.get_ref())
                    {
                        c.fail(
                            format!("variants[{i}].name"),
                            format!(
                                "\"{}\" is already the name of variants[{j}]: each variant needs its own name (it names the variant's rows)",
                                v.name.get_ref()
                            ),
                        );
                    }
                    let mut sets = Vec::new();
                    let set = in_file_order(&v.set);
                    // The name may come before the set or after it.
                    let name_span = v.name.span();
                    for (k, x, span) in set {
                        if name_span.end <= span.start {
                            from = from.max(name_span.end);
                        }
                        let at = find_key(&text, k, from, span.start);
                        from = span.end;
                        if !parameters.iter().any(|p| p == k) {
                            parameters.push(k.to_string());
                            axis_at.push((k.to_string(), at));
                            labels.push(format!("variants[{i}].set.{k}"));
                        }
                        if let Some((_, f)) = non_finite("", x).first() {
                            problems.push(Problem {
                                line: at.0,
                                column: at.1,
                                path: format!("variants[{i}].set.{k}"),
                                message: format!(
                                    "must be a finite number, found {}",
                                    toml_float(*f)
                                ),
                            });
                            continue;
                        }
                        sets.push((k.to_string(), x.clone(), at));
                    }
                    from = from.max(name_span.end);
                    defs.push((v.name.get_ref().clone(), sets));
                }
            }
        }
        let mut variants = Vec::new();
        let total = defs.len();
        // Options that every variant would undo, or that would undo the sweep.
        let option = |path: &str, message: String| Problem {
            line: 0,
            column: 0,
            path: path.to_string(),
            message,
        };
        for s in &overrides.sets {
            let Some((p, _)) = crate::scenario::overrides::parse_assignment(s) else {
                continue;
            };
            if total > 0
                && defs
                    .iter()
                    .all(|(_, sets)| sets.iter().any(|(k, _, _)| *k == p))
            {
                problems.push(option(
                    &format!("--set {s}"),
                    format!(
                        "every variant sets {p}, so this option would change nothing: vary the value in the sweep, or leave the option out"
                    ),
                ));
            }
        }
        if let Some(n) = overrides.devices {
            let sized = |p: &&String| {
                p.as_str() == "fleet.devices"
                    || (p.starts_with("segments.") && p.ends_with(".devices"))
            };
            if let Some(p) = parameters.iter().find(sized) {
                problems.push(option(
                    "--devices",
                    format!(
                        "the sweep varies {p}, so every variant would run {n} devices: leave out the option, or the fleet size from the sweep"
                    ),
                ));
            }
        }
        // A scenario problem that many variants share (typically every variant, when a grid
        // path names a wrong property) is reported once, with the variants it concerns.
        let mut shared: Vec<VariantProblem> = Vec::new();
        let mut warned: Vec<(String, Vec<String>)> = Vec::new();
        for (name, sets) in defs {
            let mut doc = base_doc.clone();
            let mut ok = true;
            // Paths under the settings or content of a deployment with a Graph body change the
            // body as read.
            let mut bodies = base_bodies.clone();
            for (path, value, at) in &sets {
                match set_path(&mut doc, path, value) {
                    Ok(Target::Toml(_)) => {}
                    Ok(Target::Body { field, path }) => bodies.push(BodySet {
                        field,
                        path,
                        value: crate::scenario::graph::toml_to_json(value),
                        // Problems are told at the sweep's path (below).
                        origin: None,
                    }),
                    Err(m) => {
                        let (line, column) = *at;
                        problems.push(Problem {
                            line,
                            column,
                            path: path.clone(),
                            message: m,
                        });
                        ok = false;
                    }
                }
            }
            if !ok {
                continue;
            }
            let generated = doc.to_string();
            let stem = base_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match Scenario::parse_with(
                &generated,
                &format!("{shown} (variant {name})"),
                &stem,
                &base_path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                bodies,
            ) {
                Ok(mut sc) => {
                    // A variant that sets `simulation.seed` runs with it; the others with the
                    // sweep's `seed` (the base scenario's when the sweep has none).
                    if !sets.iter().any(|(p, _, _)| p == SEED_PATH) {
                        sc.seed = raw.seed.unwrap_or(base.seed);
                    }
                    if let Some(n) = overrides.devices {
                        sc.scale_devices(n);
                    }
                    // A batch folder holds no run's inputs, and thousands of variants each
                    // holding the bytes of the same inventory would add up.
                    sc.inputs = Vec::new();
                    for w in &sc.warnings {
                        match warned.iter_mut().find(|(x, _)| x == w) {
                            Some((_, names)) => names.push(name.clone()),
                            None => warned.push((w.clone(), vec![name.clone()])),
                        }
                    }
                    variants.push(Variant {
                        name: name.clone(),
                        params: sets.iter().map(|(p, v, _)| (p.clone(), show(v))).collect(),
                        scenario: sc,
                    })
                }
                Err(Error::Input(e)) => {
                    // Name the sweep path that caused it: the override whose path the
                    // scenario error is under, else all of the variant's paths.
                    for p in e.problems {
                        let found = sets.iter().find(|(k, _, _)| {
                            p.path
                                .replace('[', ".")
                                .contains(k.split('.').next_back().unwrap_or(k))
                        });
                        let (culprit, (line, column)) = match found {
                            Some((k, _, at)) => (k.clone(), *at),
                            None => (
                                sets.iter()
                                    .map(|(k, _, _)| k.clone())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                sets.first().map_or((0, 0), |(_, _, at)| *at),
                            ),
                        };
                        let at = shared.iter().position(|v| {
                            (v.line, v.column, &v.culprit, &v.message)
                                == (line, column, &culprit, &p.message)
                        });
                        match at {
                            Some(i) if shared[i].variants.last() != Some(&name) => {
                                shared[i].variants.push(name.clone());
                            }
                            // The same problem again in the same variant, under another
                            // scenario path (a settings patch repeats its deployment's).
                            Some(_) => {}
                            None => shared.push(VariantProblem {
                                line,
                                column,
                                culprit,
                                message: p.message,
                                scenario_path: p.path,
                                variants: vec![name.clone()],
                            }),
                        }
                    }
                }
                Err(other) => return Err(other),
            }
        }
        problems.extend(shared.into_iter().map(|v| v.problem(total)));
        let names: Vec<&str> = base.deployments.iter().map(|d| d.name.as_str()).collect();
        let expect = expect::check(&mut c, "expect", &raw.expect, &names);
        let mut all = located(c.problems, |p| match p.strip_prefix("grid.") {
            Some(rest) => axis_at
                .iter()
                .find(|(k, _)| k == rest)
                .map_or_else(|| find(&text, rest), |(_, at)| *at),
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
        // The options are part of what the runs depend on (a resumed or merged batch must have
        // had the same), and so are the files the base reads (Graph bodies, an inventory).
        let mut hashed = vec![text.as_bytes(), base_text.as_bytes()];
        let options = overrides.options().join("\n");
        if !options.is_empty() {
            hashed.push(options.as_bytes());
        }
        for (name, bytes) in &base.inputs {
            hashed.push(name.as_bytes());
            hashed.push(bytes);
        }
        // The base scenario as the variants start from it (--set and --devices applied, as a
        // run's copy has them) and the files it reads, for the batch's folder.
        let base_name = base_path
            .file_name()
            .map_or_else(|| "base.toml".into(), |n| n.to_string_lossy().into_owned());
        let mut scaled = base.clone();
        if let Some(n) = overrides.devices {
            scaled.scale_devices(n);
        }
        let mut base_copy = vec![(
            format!("{BASE_DIR}/{base_name}"),
            crate::scenario::overrides::as_run(
                &base_as_loaded,
                &options.replace('\n', " "),
                None,
                overrides.devices.map(|_| &scaled),
            ),
        )];
        let (inputs, _) = base.inputs_to_copy();
        base_copy.extend(
            inputs
                .into_iter()
                .map(|(n, b)| (format!("{BASE_DIR}/{n}"), b.to_vec())),
        );
        // Axes that change nothing in any variant, told at the axis; a policy an axis names
        // and no segment uses is told there, not again as the variants' unused policy.
        let axes: Vec<Axis<'_>> = parameters
            .iter()
            .zip(&labels)
            .zip(&axis_at)
            .map(|((path, label), (_, at))| Axis {
                path,
                label,
                at: *at,
            })
            .collect();
        let (mut warnings, unused) = axis_warnings(&shown, &axes, &variants);
        warned.retain(|(w, _)| {
            !unused.iter().any(|p| {
                w.starts_with(&format!(
                    "policies.{}: ",
                    crate::scenario::locate::quoted_key(p)
                )) && w.contains(crate::scenario::UNUSED_POLICY)
            })
        });
        warnings.extend(
            warned
                .into_iter()
                // A policy or group one variant leaves unused is one the sweep gives a segment
                // or an audience in another: unused only when no variant uses it.
                .filter(|(w, names)| {
                    !(w.contains(crate::scenario::UNUSED_POLICY)
                        || w.contains(crate::scenario::deployment::UNUSED_GROUP))
                        || names.len() == total
                })
                .map(|(w, names)| format!("{}: {w}", which_variants(&names, total))),
        );
        if let Some(w) = bands_size_warning(&shown, &variants) {
            warnings.push(w);
        }
        if variants.iter().all(|v| v.scenario.exploit_at.is_none()) {
            // As a scenario's own gate: an empty value meets any `at_least` bound.
            for (i, e) in expect.iter().enumerate() {
                if e.metric.contains("exploit") {
                    let path = format!("expect[{i}].metric");
                    let (line, column) = loc.position(&path);
                    warnings.push(format!(
                        "{shown}:{line}:{column}: {path}: {} is empty without [simulation] exploit_at (in the base scenario or set by the sweep), so this expectation checks nothing",
                        e.metric
                    ));
                }
            }
        }
        Ok(Sweep {
            fingerprint: super::fnv1a(&hashed),
            overrides: overrides.clone(),
            base_copy,
            file: file.to_path_buf(),
            parameters,
            seed: raw.seed.unwrap_or(base.seed),
            base_name: base.name.clone(),
            variants,
            replications,
            expect,
            // One warning, one line, whatever the value it quotes.
            warnings: warnings
                .iter()
                .map(|w| crate::error::one_line(w).into_owned())
                .collect(),
        })
    }

    /// The sweep file's `text` as run with `reps` replications, for the copy in a batch's output
    /// folder (`scenario.toml`, shown by report.html): headed by the sweep's name (its file's
    /// stem, see [`crate::report::html::SWEEP_NAME_LINE`]), the base scenario's name (see
    /// [`crate::report::html::SWEEP_BASE_LINE`]) and, when `--replications` changed the count, by
    /// the option, with `replications` written as the count that ran. Otherwise the text is the
    /// file's, comments and all.
    pub fn as_run(&self, text: &str, reps: u64) -> Vec<u8> {
        use crate::report::html::{SWEEP_BASE_LINE, SWEEP_NAME_LINE};
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        let stem = self
            .file
            .file_stem()
            .map(|s| one_line(&s.to_string_lossy()))
            .unwrap_or_default();
        let name = one_line(&self.base_name);
        let mut head = format!("{SWEEP_NAME_LINE}{stem}\n{SWEEP_BASE_LINE}{name}\n");
        let mut body = text.to_string();
        let mut options = self.overrides.options();
        if reps != self.replications {
            options.push(format!("--replications {reps}"));
        }
        if !options.is_empty() {
            head.push_str(&format!("# as run with {}\n", one_line(&options.join(" "))));
        }
        // Edits from the end of the text back, so that the earlier span still holds.
        let loc = crate::scenario::locate::Locator::new(text);
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        if reps != self.replications {
            match loc.span_of("replications") {
                Some(span) if text.get(span.clone()).is_some() => {
                    edits.push((span, reps.to_string()));
                }
                _ => head.push_str(&format!("replications = {reps}\n")),
            }
        }
        // The base is the folder's copy.
        if let (Some(span), Some((path, _))) = (loc.span_of("base"), self.base_copy.first())
            && text.get(span.clone()).is_some()
        {
            edits.push((span, toml::Value::from(path.as_str()).to_string()));
        }
        edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
        for (span, new) in edits {
            body.replace_range(span, &new);
        }
        format!("{head}{body}").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` as a sweep over the shipped expedite-vs-regular scenario and loads it.
    fn load(text: &str) -> (tempfile::TempDir, Result<Sweep, Error>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/expedite-vs-regular.toml");
        let text = format!(
            "base = {}\n{text}",
            toml::Value::from(base.display().to_string())
        );
        let file = dir.path().join("sweep.toml");
        std::fs::write(&file, text).expect("write sweep");
        let sweep = Sweep::load(&file);
        (dir, sweep)
    }

    /// The problems of a sweep that must not load, as printed.
    fn problems(text: &str) -> Vec<String> {
        match load(text).1 {
            Err(Error::Input(e)) => e
                .to_string()
                .lines()
                .map(|l| l.split_once("sweep.toml").map_or(l, |x| x.1).to_string())
                .collect(),
            Err(other) => panic!("not an input error: {other}"),
            Ok(s) => panic!("accepted with {} variants", s.variants.len()),
        }
    }

    #[test]
    fn the_copy_of_a_sweep_as_run_names_the_sweep_the_base_and_the_replications_that_ran() {
        let text = "replications = 20 # per variant\n[grid]\n\"fleet.devices\" = [100]\n";
        let (dir, sweep) = load(text);
        let sweep = sweep.expect("loads");
        let file = std::fs::read_to_string(dir.path().join("sweep.toml")).expect("sweep");
        let copy = String::from_utf8(sweep.as_run(&file, 5)).expect("utf-8");
        assert!(
            copy.starts_with(
                "# sweep: sweep\n# base scenario: expedite-vs-regular\n# as run with --replications 5\n"
            ),
            "{copy}"
        );
        assert!(copy.contains("replications = 5 # per variant\n"), "{copy}");
        let t: toml::Table = copy.parse().expect("still TOML");
        assert_eq!(t["replications"].as_integer(), Some(5));
        // The count in the file: the file as it is, under the name, but for its base, which is
        // the folder's copy.
        let same = String::from_utf8(sweep.as_run(&file, 20)).expect("utf-8");
        let base = file.lines().next().expect("base line");
        assert_eq!(
            same,
            format!(
                "# sweep: sweep\n# base scenario: expedite-vs-regular\n{}",
                file.replace(base, "base = \"base/expedite-vs-regular.toml\"")
            )
        );
        // No count in the file (1): the one that ran is added.
        let (dir, sweep) = load("[grid]\n\"fleet.devices\" = [100]\n");
        let file = std::fs::read_to_string(dir.path().join("sweep.toml")).expect("sweep");
        let copy = String::from_utf8(sweep.expect("loads").as_run(&file, 3)).expect("utf-8");
        let t: toml::Table = copy.parse().expect("still TOML");
        assert_eq!(t["replications"].as_integer(), Some(3), "{copy}");
    }

    #[test]
    fn grid_axes_are_taken_in_file_order_the_first_varying_slowest() {
        let (_dir, sweep) =
            load("[grid]\n\"simulation.seed\" = [1, 2]\n\"fleet.devices\" = [100, 200]\n");
        let sweep = sweep.expect("loads");
        assert_eq!(sweep.parameters, ["simulation.seed", "fleet.devices"]);
        let names: Vec<&str> = sweep.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "seed=1,devices=100",
                "seed=1,devices=200",
                "seed=2,devices=100",
                "seed=2,devices=200"
            ]
        );
    }

    #[test]
    fn the_paths_of_explicit_variants_are_columns_in_file_order() {
        let (_dir, sweep) = load(
            "[[variants]]\nname = \"a\"\nset = { \"simulation.seed\" = 3, \"fleet.devices\" = 100 }\n",
        );
        assert_eq!(
            sweep.expect("loads").parameters,
            ["simulation.seed", "fleet.devices"]
        );
    }

    #[test]
    fn a_variant_that_sets_the_seed_runs_with_it_and_the_others_with_the_sweeps_seed() {
        let (_dir, sweep) = load(
            "seed = 9\n[[variants]]\nname = \"own\"\nset = { \"simulation.seed\" = 5 }\n[[variants]]\nname = \"shared\"\nset = { \"fleet.devices\" = 100 }\n",
        );
        let seeds: Vec<u64> = sweep
            .expect("loads")
            .variants
            .iter()
            .map(|v| v.scenario.seed)
            .collect();
        assert_eq!(seeds, [5, 9]);
        // Without a sweep seed, the base scenario's (11).
        let (_dir, sweep) =
            load("[grid]\n\"simulation.seed\" = [1, 2]\n\"fleet.devices\" = [100]\n");
        let seeds: Vec<u64> = sweep
            .expect("loads")
            .variants
            .iter()
            .map(|v| v.scenario.seed)
            .collect();
        assert_eq!(seeds, [1, 2]);
        let (_dir, sweep) = load("[grid]\n\"fleet.devices\" = [100]\n");
        assert_eq!(sweep.expect("loads").variants[0].scenario.seed, 11);
    }

    #[test]
    fn an_error_in_one_variant_points_at_that_variants_line() {
        // Line 1 is `base`.
        let p = problems(
            "\n[[variants]]\nname = \"ok\"\nset = { \"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = 1 }\n\n[[variants]]\nname = \"bad\"\nset = { \"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = 99 }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with(":9:9: "), "{p:?}");
        assert!(p[0].contains("variant bad"), "{p:?}");
        // The same with each set written as a table.
        let p = problems(
            "[[variants]]\nname = \"ok\"\n[variants.set]\n\"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = 1\n[[variants]]\nname = \"bad\"\n[variants.set]\n\"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = 99\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with(":9:1: deployments.expedited"), "{p:?}");
        assert!(p[0].contains("variant bad"), "{p:?}");
    }

    #[test]
    fn a_variant_that_is_no_table_is_told_what_to_write_not_a_type_name() {
        let p = problems("variants = [\"cautious\"]\n");
        assert!(
            p[0].starts_with(":2:13: variants[0]: found the string \"cautious\" where a table belongs: write a table such as { name = "),
            "{p:?}"
        );
        let p = problems(
            "[grid]\n\"simulation.seed\" = [1]\n[[expect]]\ndeployment = \"x\"\nmetric = \"hours_to_95\"\nat_most = \"3\"\n",
        );
        assert!(p[0].ends_with("expected a number"), "{p:?}");
    }

    #[test]
    fn a_sweep_without_variants_is_rejected_naming_the_field_and_rule() {
        let p = problems("variants = []\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":2:12: variants: is an empty list"),
            "{p:?}"
        );
        let p = problems("[grid]\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with(":2:1: grid: is empty"), "{p:?}");
        // A step so small the count of values overflows.
        let p = problems(
            "[grid]\n\"simulation.seed\" = [1]\n\"fleet.devices\" = { from = 5.0, to = 6.0, step = 1e-300 }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":4:1: grid.fleet.devices: gives about 1e300 values"),
            "{p:?}"
        );
        assert!(p[0].contains("(from 5.0 to 6.0 by step 1e-300)"), "{p:?}");
    }

    #[test]
    fn a_grid_of_more_variants_than_a_sweep_holds_is_rejected_before_it_is_built() {
        let p = problems(
            "[grid]\n\"simulation.seed\" = { from = 1, to = 1000 }\n\"fleet.devices\" = { from = 100, to = 1099 }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":2:1: grid: gives 1000000 variants (1000 × 1000); at most 100000"),
            "{p:?}"
        );
    }

    #[test]
    fn two_variants_of_the_same_name_are_rejected() {
        let p = problems(
            "[[variants]]\nname = \"a\"\nset = { \"fleet.devices\" = 100 }\n[[variants]]\nname = \"a\"\nset = { \"fleet.devices\" = 200 }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":6:8: variants[1].name: \"a\" is already the name of variants[0]"),
            "{p:?}"
        );
    }

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

    #[test]
    fn a_grid_path_wrong_in_every_variant_is_reported_once_naming_how_many_variants() {
        let p = problems(
            "[grid]\n\"deployments.expedited.settings.userExperience.daysUntilForcedRebot\" = [0, 1, 2]\n\"fleet.devices\" = [100, 200]\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("all 6 variants: unknown property"), "{p:?}");
        assert!(
            p[0].contains("daysUntilForcedReboot"),
            "the suggestion: {p:?}"
        );
        // Values wrong in some variants name those variants, one problem per value.
        let p = problems(
            "[grid]\n\"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = [1, 40, 50]\n\"fleet.devices\" = [100, 200]\n",
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("variants daysUntilForcedReboot=40,devices=100; daysUntilForcedReboot=40,devices=200: must be a whole number from 0 to 30, found 40"),
            "{p:?}"
        );
    }

    #[test]
    fn a_warning_of_the_variants_is_kept_once_naming_the_variants_it_concerns() {
        // `daysUntilForcedReboot` on the regular deployment has no effect: every variant warns.
        let (_dir, s) = load(
            "[grid]\n\"deployments.regular.settings.userExperience.daysUntilForcedReboot\" = [0, 2]\n",
        );
        let s = s.expect("loads");
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].starts_with(
                "all 2 variants: deployments[1].settings.userExperience.daysUntilForcedReboot"
            ),
            "{:?}",
            s.warnings
        );
        // A warning of some variants names them.
        let (_dir, s) = load(
            "[[variants]]\nname = \"plain\"\nset = { \"fleet.devices\" = 100 }\n[[variants]]\nname = \"odd\"\nset = { \"deployments.regular.settings.userExperience.daysUntilForcedReboot\" = 1 }\n",
        );
        let s = s.expect("loads");
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].starts_with("variant odd: "),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn a_policy_a_variant_gives_a_segment_is_not_unused_in_the_sweep() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/expedite-vs-regular.toml"),
        )
        .expect("base");
        let base = format!("{base}\n[policies.ring1]\nquality_deadline = \"P5D\"\n");
        std::fs::write(dir.path().join("base.toml"), base).expect("write base");
        let sweep = |grid: &str| {
            let file = dir.path().join("sweep.toml");
            std::fs::write(&file, format!("base = \"base.toml\"\n[grid]\n{grid}\n"))
                .expect("write sweep");
            Sweep::load(&file).expect("loads").warnings
        };
        // One variant gives ring1 to the laptops: the policy is the sweep's subject.
        let w = sweep("\"segments.laptops.policy\" = [\"default\", \"ring1\"]");
        assert!(w.is_empty(), "{w:?}");
        // No variant uses it: told once for all of them.
        let w = sweep("\"fleet.devices\" = [100, 200]");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("all 2 variants: policies.ring1: no segment uses this policy"),
            "{w:?}"
        );
    }

    /// Loads `grid` as a sweep over the shipped expedite-vs-regular scenario with its kiosks
    /// under policy "kiosk", edited by `edit`; returns the sweep's warnings.
    fn kiosk_sweep_warnings(edit: impl Fn(String) -> String, grid: &str) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/expedite-vs-regular.toml"),
        )
        .expect("base");
        let base = base
            .replace(
                "availability = { profile = \"always_on\" }",
                "availability = { profile = \"always_on\" }\npolicy = \"kiosk\"",
            )
            .replace(
                "[groups]",
                "[policies.kiosk]\nquality_deadline = \"P3D\"\n\n[groups]",
            );
        std::fs::write(dir.path().join("base.toml"), edit(base)).expect("write base");
        let file = dir.path().join("sweep.toml");
        std::fs::write(&file, format!("base = \"base.toml\"\n[grid]\n{grid}\n"))
            .expect("write sweep");
        Sweep::load(&file).expect("loads").warnings
    }

    /// The regular deployment of expedite-vs-regular left to the devices of other policies.
    fn kiosks_expedited_only(base: String) -> String {
        base.replace(
            "exclusions = [\"half-a\"]",
            "exclusions = [\"half-a\", \"kiosks\"]",
        )
    }

    #[test]
    fn an_axis_of_a_deadline_whose_devices_only_expedites_reach_is_told_once_at_the_axis() {
        let w = kiosk_sweep_warnings(
            kiosks_expedited_only,
            "\"policies.kiosk.quality_deadline\" = [\"P2D\", \"P7D\"]\n\"fleet.devices\" = [100, 200]",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("sweep.toml:3:1: grid.policies.kiosk.quality_deadline: no effect on any deployment: the only deployment whose audience can hold a device of policy \"kiosk\" is \"expedited\" (an expedited quality update), and an expedite's restart is forced daysUntilForcedReboot days after its install, whatever the policy's quality_deadline; every value of it gives the same results"),
            "{w:?}"
        );
        // So are its grace, its deferral and its feature settings; not its active hours, which
        // an expedite's restart is judged by.
        let w = kiosk_sweep_warnings(
            kiosks_expedited_only,
            "\"policies.kiosk.quality_grace\" = [\"P1D\", \"P2D\"]\n\"policies.kiosk.quality_deferral\" = [\"P1D\"]\n\"policies.kiosk.feature_deadline\" = [\"P1D\"]\n\"policies.kiosk.active_hours\" = [{ start = \"09:00\", end = \"17:00\" }]",
        );
        let axes: Vec<&str> = w.iter().filter_map(|w| w.split(": ").nth(1)).collect();
        assert_eq!(
            axes,
            [
                "grid.policies.kiosk.quality_grace",
                "grid.policies.kiosk.quality_deferral",
                "grid.policies.kiosk.feature_deadline"
            ],
            "{w:?}"
        );
        assert!(
            w[1].contains("an expedite ignores the policy's quality_deferral"),
            "{w:?}"
        );
        assert!(
            w[2].contains("feature_deadline applies to feature updates only"),
            "{w:?}"
        );
    }

    #[test]
    fn an_axis_a_regular_deployment_or_a_deadline_of_none_may_feel_is_not_told() {
        // The regular deployment reaches the kiosks (its exclusion is a random half).
        let w = kiosk_sweep_warnings(
            |b| b,
            "\"policies.kiosk.quality_deadline\" = [\"P2D\", \"P7D\"]",
        );
        assert!(w.is_empty(), "{w:?}");
        // A deadline of "none" tells an expedite's work apart: not sure to change nothing.
        let w = kiosk_sweep_warnings(
            kiosks_expedited_only,
            "\"policies.kiosk.quality_deadline\" = [\"P2D\", \"none\"]",
        );
        assert!(w.is_empty(), "{w:?}");
        // A variant that makes the expedite regular gives the deadline an effect.
        let w = kiosk_sweep_warnings(
            kiosks_expedited_only,
            "\"policies.kiosk.quality_deadline\" = [\"P2D\", \"P7D\"]\n\"deployments.expedited.settings.expedite.isExpedited\" = [true, false]",
        );
        assert!(
            !w.iter()
                .any(|w| w.contains("policies.kiosk.quality_deadline")),
            "{w:?}"
        );
    }

    #[test]
    fn an_axis_of_a_policy_no_deployment_reaches_is_told_and_its_unused_policy_not_again() {
        // No segment uses it: told at the axis, not also as an unused policy.
        let w = kiosk_sweep_warnings(
            |b| format!("{b}\n[policies.spare]\nquality_deadline = \"P5D\"\n"),
            "\"policies.spare.active_hours\" = [{ start = \"09:00\", end = \"17:00\" }]",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("grid.policies.spare.active_hours: no effect on any deployment: no segment (nor inventory row) uses policy \"spare\", so it applies to no device"),
            "{w:?}"
        );
        // Its segment is in no audience.
        let w = kiosk_sweep_warnings(
            |b| {
                kiosks_expedited_only(b).replace(
                    "audience = { members = [\"half-a\"] }",
                    "audience = { members = [\"half-a\"], exclusions = [\"kiosks\"] }",
                )
            },
            "\"policies.kiosk.auto_restart\" = [true, false]",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains(
                "no deployment's audience can hold a device of policy \"kiosk\" (segment kiosks)"
            ),
            "{w:?}"
        );
        // The client's feature settings without a feature update.
        let w = kiosk_sweep_warnings(|b| b, "\"client.feature.rollback\" = [0.0, 0.1]");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("grid.client.feature.rollback: no effect on any deployment: no deployment deploys a feature update"),
            "{w:?}"
        );
    }

    #[test]
    fn a_range_or_grid_value_that_is_not_finite_is_rejected_naming_it() {
        // 0 × inf is nan: once a single variant named `…=nan`.
        let p = problems(
            "[grid]\n\"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = { from = 0, to = 2, step = inf }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":3:1: grid.deployments.expedited.settings.userExperience.daysUntilForcedReboot: a range's from, to and step must be finite numbers, found step = inf"),
            "{p:?}"
        );
        let p = problems(
            "[grid]\n\"fleet.devices\" = [100]\n\"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = [1, nan]\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains(":4:1: grid.deployments.expedited.settings.userExperience.daysUntilForcedReboot: values must be finite numbers, found nan"),
            "{p:?}"
        );
    }

    #[test]
    fn a_variant_value_that_is_not_finite_is_rejected_at_its_key() {
        let p = problems(
            "[[variants]]\nname = \"a\"\nset = { \"deployments.expedited.settings.userExperience.daysUntilForcedReboot\" = -inf }\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":4:9: variants[0].set.deployments.expedited.settings.userExperience.daysUntilForcedReboot: must be a finite number, found -inf"),
            "{p:?}"
        );
    }

    #[test]
    fn a_grid_value_given_twice_is_rejected_naming_it_as_it_would_name_two_variants() {
        let p = problems("[grid]\n\"fleet.devices\" = [100, 200, 100]\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(":3:1: grid.fleet.devices: values must differ: 100 is given twice (values 1 and 3), and each value makes a variant named by it (devices=100)"),
            "{p:?}"
        );
        // A string and a number of the same text would name their variants alike.
        let p = problems(
            "[grid]\n\"simulation.seed\" = [1]\n\"client.scan_interval\" = [\"PT1H\", \"PT2H\"]\n\"fleet.devices\" = [\"100\", 100]\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains(":5:1: grid.fleet.devices: values must differ: \"100\" and 100 read the same in a name (values 1 and 2)"),
            "{p:?}"
        );
    }
}
