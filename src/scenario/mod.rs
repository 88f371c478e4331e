//! Scenario files: the TOML schema, and validation into checked types with located errors.
//!
//! Loading has two stages (`reference/style-by-example.md` §2.6): serde reads the text into `Raw*`
//! structs that mirror the file one to one (`deny_unknown_fields`: a misspelt field is an error,
//! never a silent default), then [`Scenario::from_raw`] checks every rule and builds the types the
//! simulation uses. Every problem names the file, line and column, the field path, the rule and the
//! value found; all problems of a file are reported together.
//!
//! Naming: properties that model a Graph API property keep the Graph name and nesting (camelCase,
//! e.g. `content."@odata.type"`, `settings.userExperience.daysUntilForcedReboot`); rollsim's own
//! settings are snake_case. The README documents every field.

pub mod catalog;
pub mod deployment;
pub mod graph;
pub mod ids;
pub mod inventory;
pub mod locate;
pub mod overrides;
pub mod safety;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::client::{
    Category, CategoryParams, ClientParams, DeadlineClock, Dist, MAX_RETRIES_AFTER_ROLLBACK,
    PAUSE_MAX, Policy, index16,
};
use crate::error::{Error, InputError, Problem};
use crate::fleet::availability::{ALL_DAYS, DayMask, WEEKDAYS};
use crate::fleet::{AttrChoice, Profile, SegmentSpec};
use crate::service::{
    Action, ActionKind, Content, Denominator, DeploymentDef, GroupDef, IssueDef, SafetyParams,
    Signal,
};
use crate::time::{
    DAY, HOUR, LocalClock, Secs, Time, Zone, parse_duration, parse_duration_signed, parse_instant,
    parse_time_of_day, parse_time_zone, parse_utc_offset,
};
use locate::Locator;

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name (`[simulation] name`, else the file stem).
    pub name: String,
    /// What question the scenario answers.
    pub description: String,
    /// Scenario start as Unix seconds (t = 0).
    pub start_unix: i64,
    /// Simulated span.
    pub horizon: Time,
    /// Seed of replication 0.
    pub seed: u64,
    /// Interval of `timeseries.csv` samples.
    pub sample_interval: Secs,
    /// The instant a working exploit is expected (`[simulation] exploit_at`), when given and
    /// not after the horizon, in seconds from the start: negative when the exploit was out
    /// before the start (a vulnerability already exploited in the wild), when the run's figures
    /// are taken from the start. Each deployment's share compliant then and its exposure after
    /// it (README, Metrics, "An exploit date").
    pub exploit_at: Option<i64>,
    /// Client behaviour.
    pub client: ClientParams,
    /// Client policies; segments refer to them by index.
    pub policies: Vec<Policy>,
    /// Fleet segments.
    pub segments: Vec<SegmentSpec>,
    /// Content referenced by deployments.
    pub contents: Vec<Content>,
    /// Deployments.
    pub deployments: Vec<DeploymentDef>,
    /// Updatable asset groups.
    pub groups: Vec<GroupDef>,
    /// Admin actions, in time order.
    pub actions: Vec<Action>,
    /// Hidden issues (ground truth).
    pub issues: Vec<IssueDef>,
    /// Signal delay, monitoring denominator, likely-issue model.
    pub safety: SafetyParams,
    /// Expectations checked after the run (`[[expect]]`; exit code 3 when missed).
    pub expect: Vec<crate::batch::expect::Expectation>,
    /// Warnings found while loading (printed, not fatal).
    pub warnings: Vec<String>,
    /// The files the scenario read besides itself (Graph JSON bodies, the fleet inventory,
    /// catalog files of `[catalog]`): each
    /// path as written (relative to the scenario's folder) with the bytes read, so that an
    /// output folder can hold what produced it. A Graph body changed by `--set` is listed with
    /// the changed body; a file read in two versions (changed for one deployment, not for
    /// another) is listed once per version.
    pub inputs: Vec<(String, Vec<u8>)>,
    /// Per segment, the names its inventory rows give its devices (empty for a segment of the
    /// scenario's own): only `devices.csv` reads them, and a batch's variants share them.
    pub device_names: std::sync::Arc<inventory::WrittenNames>,
}

// ---------------------------------------------------------------------------------------------
// Stage 1: the file as written.

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    simulation: RawSimulation,
    fleet: Option<RawFleet>,
    client: Option<RawClient>,
    #[serde(default)]
    policies: BTreeMap<String, RawPolicy>,
    #[serde(default)]
    segments: Vec<RawSegment>,
    #[serde(default)]
    deployments: Vec<deployment::RawDeployment>,
    #[serde(default)]
    groups: BTreeMap<String, deployment::RawGroup>,
    #[serde(default)]
    actions: Vec<deployment::RawAction>,
    #[serde(default)]
    graph_ids: BTreeMap<String, String>,
    /// Read by hand ([`catalog::load`]): its keys are `file` and entry ids, whose tables say
    /// more about a mistake than serde could.
    catalog: Option<toml::Value>,
    #[serde(default)]
    issues: Vec<safety::RawIssue>,
    safety: Option<safety::RawSafety>,
    #[serde(default)]
    expect: Vec<crate::batch::expect::RawExpect>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSimulation {
    name: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "instant_text")]
    start: String,
    horizon: String,
    seed: Option<u64>,
    sample_interval: Option<String>,
    #[serde(default, deserialize_with = "opt_instant_text")]
    exploit_at: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    devices: Option<i64>,
    inventory: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawClient {
    scan_interval: Option<String>,
    scan_jitter: Option<String>,
    install_failure: Option<f64>,
    shutdown_completes_restart: Option<f64>,
    user_restart: Option<RawDist>,
    optional_uptake: Option<RawDist>,
    quality: Option<RawCategory>,
    feature: Option<RawCategory>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    download_time: Option<RawDist>,
    install_time: Option<RawDist>,
    restart_time: Option<RawDist>,
    rollback: Option<f64>,
    retry_after_rollback: Option<String>,
    max_retries_after_rollback: Option<toml::Value>,
}

/// A duration distribution: a plain duration (fixed) or a table.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum RawDist {
    Fixed(String),
    Table(RawDistTable),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawDistTable {
    distribution: String,
    median: Option<String>,
    sigma: Option<f64>,
    mean: Option<String>,
    min: Option<String>,
    max: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    quality_deferral: Option<String>,
    quality_deadline: Option<String>,
    quality_grace: Option<String>,
    feature_deferral: Option<String>,
    feature_deadline: Option<String>,
    feature_grace: Option<String>,
    active_hours: Option<RawHours>,
    active_hours_max_range: Option<String>,
    auto_restart: Option<bool>,
    #[serde(default, deserialize_with = "opt_instant_text")]
    quality_pause_until: Option<String>,
    #[serde(default, deserialize_with = "opt_instant_text")]
    feature_pause_until: Option<String>,
    maintenance_time: Option<String>,
    deadline_clock: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawHours {
    start: String,
    end: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    name: String,
    devices: Option<i64>,
    share: Option<f64>,
    policy: Option<String>,
    utc_offset: Option<String>,
    time_zone: Option<String>,
    availability: Option<RawAvailability>,
    #[serde(default)]
    attributes: BTreeMap<String, RawAttr>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawAvailability {
    profile: String,
    start: Option<String>,
    end: Option<String>,
    jitter: Option<String>,
    absent_days: Option<f64>,
    days: Option<Vec<String>>,
    sessions_per_day: Option<f64>,
    session_length: Option<String>,
    window: Option<RawHours>,
    online_days: Option<f64>,
    attended: Option<bool>,
    /// Dated off periods (holidays), for every profile.
    off: Option<Vec<RawOff>>,
}

/// One dated off period of a segment's availability: local days `from` to `to`, both included
/// (`to` defaults to `from`: one day).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawOff {
    #[serde(deserialize_with = "instant_text")]
    from: String,
    #[serde(default, deserialize_with = "opt_instant_text")]
    to: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum RawAttr {
    One(String),
    Many(Vec<String>),
    Weighted {
        values: Vec<String>,
        weights: Vec<f64>,
    },
}

// ---------------------------------------------------------------------------------------------
// Stage 2: validation.

/// Collects problems as (field path, message) while validating.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) problems: Vec<(String, String)>,
    /// Problems in other files the scenario names (Graph JSON bodies), located in those files.
    file_errors: Vec<InputError>,
    /// Things worth telling the user that do not stop the run.
    warnings: Vec<String>,
    /// The fleet inventory could not be read: names it would define are unknown, so unknown
    /// names are not reported (the inventory's own error says what to fix).
    inventory_failed: bool,
    /// Checking a Graph JSON body, where values must be what the service accepts (durations in
    /// ISO 8601 only), not the friendlier forms a scenario's TOML may use.
    pub(crate) json: bool,
    /// Files read besides the scenario: (path as written, bytes); see [`Scenario::inputs`].
    pub(crate) inputs: Vec<(String, Vec<u8>)>,
    /// Changes to the Graph bodies the scenario reads, applied as each is read.
    pub(crate) bodies: Vec<overrides::BodySet>,
    /// The changes applied: (field naming the body, path in the body as problems name it, what
    /// asked for it), so a problem in a changed value names that instead of a line of the file.
    pub(crate) body_edits: Vec<(String, String, Option<String>)>,
    /// The fields of the scenario's TOML that `--set` wrote (`segments[1].share`), so that a
    /// problem of several fields (shares that do not add up) is told at one the option gave,
    /// and so names the option.
    pub(crate) set_fields: Vec<String>,
    /// The scenario's file name and text, for a message that names a place in it from another
    /// file (a Graph body that disagrees with the scenario's `[catalog]`).
    pub(crate) source: Option<(String, String)>,
    /// The end of the run (start + horizon, Unix seconds), for the warning about a
    /// `startDateTime` after it; None where no scenario frames the check (a Graph body validated
    /// on its own, a horizon that could not be read).
    pub(crate) horizon_unix: Option<i64>,
    /// Field paths whose value was already reported (a number that is not finite, read as
    /// absent after it was told): a later check of the same field says nothing more about it.
    pub(crate) settled: Vec<String>,
}

/// Turns (path, message) problems into located problems in file order.
pub(crate) fn located(
    problems: Vec<(String, String)>,
    position: impl Fn(&str) -> (usize, usize),
) -> Vec<Problem> {
    let mut out: Vec<Problem> = problems
        .into_iter()
        .map(|(path, message)| {
            let (line, column) = position(&path);
            Problem {
                line,
                column,
                path,
                message,
            }
        })
        .collect();
    out.sort_by_key(|p| (p.line, p.column));
    out
}

impl Checker {
    /// The first problem of a file checked on its own (`rollsim validate`), as an error of
    /// `path`: a problem in another file it names is already located there; one of its own has
    /// no scenario text to locate it in, so it is told at the file.
    pub(crate) fn first_standalone_error(&mut self, path: &Path) -> Result<(), Error> {
        if !self.file_errors.is_empty() {
            return Err(Error::Input(self.file_errors.swap_remove(0)));
        }
        if !self.problems.is_empty() {
            let (_, message) = self.problems.swap_remove(0);
            return Err(Error::Input(InputError {
                file: path.display().to_string(),
                problems: vec![Problem {
                    line: 0,
                    column: 0,
                    path: String::new(),
                    message,
                }],
            }));
        }
        Ok(())
    }

    pub(crate) fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        if !self.settled.contains(&path) {
            self.problems.push((path, message.into()));
        }
    }

    /// A name (device, segment, attribute) that the fleet does not define; not reported when the
    /// inventory failed, as it may define the name (a follow-on error would hide the real one).
    pub(crate) fn fail_reference(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if !self.inventory_failed {
            self.fail(path, message);
        }
    }

    /// A duration ≥ 0, or `default` when absent.
    pub(crate) fn duration(&mut self, path: &str, v: Option<&str>, default: Secs) -> Secs {
        let Some(text) = v else { return default };
        match parse_duration_signed(text) {
            Ok(s) if s < 0 => {
                self.fail(path, format!("must not be negative, found \"{text}\""));
                default
            }
            Ok(s) => s as Secs,
            Err(e) => {
                self.fail(path, format!("{e}, found \"{text}\""));
                default
            }
        }
    }

    /// A duration > 0, or `default` when absent.
    pub(crate) fn positive(&mut self, path: &str, v: Option<&str>, default: Secs) -> Secs {
        let s = self.duration(path, v, default);
        if v.is_some() && s == 0 && parse_duration(v.unwrap_or("")).is_ok() {
            self.fail(
                path,
                format!("must be longer than zero, found \"{}\"", v.unwrap_or("")),
            );
        }
        s
    }

    /// A probability in [0, 1], or `default` when absent.
    pub(crate) fn probability(&mut self, path: &str, v: Option<f64>, default: f64) -> f64 {
        match v {
            None => default,
            Some(p) if (0.0..=1.0).contains(&p) => p,
            Some(p) => {
                self.fail(
                    path,
                    format!("must be a probability between 0 and 1, found {p}"),
                );
                default
            }
        }
    }

    /// A time of day; None (reported) when `v` is not one, so that checks comparing it with
    /// another time say nothing more about the one mistake.
    fn time_of_day(&mut self, path: &str, v: &str) -> Option<Secs> {
        parse_time_of_day(v)
            .map_err(|e| self.fail(path, format!("{e}, found \"{v}\"")))
            .ok()
    }

    fn dist(&mut self, path: &str, v: Option<&RawDist>, default: Dist) -> Dist {
        match v {
            None => default,
            Some(RawDist::Fixed(s)) => Dist::Fixed(self.duration(path, Some(s), 0)),
            Some(RawDist::Table(t)) => {
                let allowed: &[&str] = match t.distribution.as_str() {
                    "fixed" => &["value"],
                    "lognormal" => &["median", "sigma"],
                    "exponential" => &["mean"],
                    "uniform" => &["min", "max"],
                    other => {
                        let hint =
                            suggest(other, &["fixed", "lognormal", "exponential", "uniform"]);
                        self.fail(
                            format!("{path}.distribution"),
                            format!("unknown distribution \"{other}\"{hint}; expected fixed, lognormal, exponential or uniform"),
                        );
                        return default;
                    }
                };
                let given = [
                    ("value", t.value.is_some()),
                    ("median", t.median.is_some()),
                    ("sigma", t.sigma.is_some()),
                    ("mean", t.mean.is_some()),
                    ("min", t.min.is_some()),
                    ("max", t.max.is_some()),
                ];
                for (name, present) in given {
                    if present && !allowed.contains(&name) {
                        self.fail(
                            format!("{path}.{name}"),
                            format!(
                                "does not apply to the {} distribution (it takes {})",
                                t.distribution,
                                allowed.join(", ")
                            ),
                        );
                    }
                }
                let need = |c: &mut Checker, name: &str, v: &Option<String>| -> Secs {
                    if v.is_none() {
                        c.fail(
                            format!("{path}.{name}"),
                            format!("is required by the {} distribution", t.distribution),
                        );
                    }
                    c.duration(&format!("{path}.{name}"), v.as_deref(), 0)
                };
                match t.distribution.as_str() {
                    "fixed" => Dist::Fixed(need(self, "value", &t.value)),
                    "lognormal" => {
                        let median = need(self, "median", &t.median);
                        let sigma = t.sigma.unwrap_or(0.5);
                        if !(sigma >= 0.0 && sigma.is_finite()) {
                            self.fail(
                                format!("{path}.sigma"),
                                format!("must be ≥ 0, found {sigma}"),
                            );
                        } else if sigma > MAX_SIGMA {
                            self.fail(
                                format!("{path}.sigma"),
                                format!(
                                    "must be at most {MAX_SIGMA} (at {MAX_SIGMA} one draw in 20 already takes over 3 700 times the median), found {sigma}"
                                ),
                            );
                        }
                        Dist::LogNormal { median, sigma }
                    }
                    "exponential" => Dist::Exponential {
                        mean: need(self, "mean", &t.mean),
                    },
                    _ => {
                        let min = need(self, "min", &t.min);
                        let max = need(self, "max", &t.max);
                        if max < min {
                            self.fail(
                                format!("{path}.max"),
                                format!("must not be below min, found {max} s < {min} s"),
                            );
                        }
                        Dist::Uniform { min, max }
                    }
                }
            }
        }
    }
}

/// " (did you mean \"x\"?)" when a candidate is close to `found`.
pub(crate) fn suggest(found: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| {
            (
                strsim::levenshtein(&found.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .min();
    match best {
        Some((d, c)) if d <= 2.max(found.len() / 3) => format!(" (did you mean \"{c}\"?)"),
        // Too far apart letter by letter, but one is the other cut short or lengthened
        // ("hours_to_95_percent", "expeditedQualityUpdate"): the longest such candidate.
        _ => {
            let f = found.to_lowercase();
            candidates
                .iter()
                .filter(|c| {
                    let c = c.to_lowercase();
                    c.len().min(f.len()) >= 5 && (f.starts_with(&c) || c.starts_with(&f))
                })
                .max_by_key(|c| c.len())
                .map_or(String::new(), |c| format!(" (did you mean \"{c}\"?)"))
        }
    }
}

/// Weekday names, Monday first (bit 0 of a [`DayMask`]): the three-letter and the full name.
const WEEKDAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// The weekday (0 = Monday) `name` spells: its three letters or its full English name, in any
/// case. Nothing else: a prefix match took `"mon-fri"` for Monday alone, without a word.
fn weekday(name: &str) -> Option<u32> {
    let n = name.trim().to_lowercase();
    WEEKDAY_NAMES
        .iter()
        .position(|(short, long)| n == *short || n == *long)
        .map(|d| d as u32)
}

/// An availability profile's `days`: a list of weekdays (`"mon"` or `"Monday"`, any case) and
/// ranges of them (`"mon-fri"`, both ends included, going forward through the week: `"fri-mon"`
/// is Friday to Monday). Absent: `default`.
fn parse_days(
    c: &mut Checker,
    path: &str,
    days: Option<&Vec<String>>,
    default: DayMask,
) -> DayMask {
    let Some(days) = days else { return default };
    let mut mask: DayMask = 0;
    for (i, d) in days.iter().enumerate() {
        let one = weekday(d).map(|b| 1 << b);
        let range = || {
            let (from, to) = d.split_once('-')?;
            let (from, to) = (weekday(from)?, weekday(to)?);
            // Forward from `from`, wrapping after Sunday, up to `to`.
            let len = (to + 7 - from) % 7 + 1;
            Some((0..len).fold(0, |m: DayMask, k| m | 1 << ((from + k) % 7)))
        };
        match one.or_else(range) {
            Some(bits) => mask |= bits,
            None => c.fail(
                format!("{path}[{i}]"),
                format!(
                    "not a weekday (mon … sun, or monday … sunday) nor a range of them (\"mon-fri\"), found \"{d}\""
                ),
            ),
        }
    }
    mask
}

/// Warns of a `[policies.NAME]` that no segment (nor inventory row) uses: it changes nothing,
/// and the likeliest cause is a segment that was meant to name it and took `default` instead,
/// which a run never tells. `segments` are the scenario's and the inventory's (whose rows name
/// their policy, or take their segment's): `policy` indexes `policies`. `default` itself is
/// never warned of, as segments take it without naming it. Nothing is said when the inventory
/// could not be read, as the policies its rows name are unknown. A sweep keeps this warning only
/// when every variant gives it (see `batch::sweep`), since a variant may set a segment's policy.
/// A rollback rule over the installed devices with no minimum count (`[safety]
/// monitoring_min_devices`) fires on the first report if it comes among the first
/// `100 / threshold` installs: one rollback of one install is 100 %. Told once per scenario,
/// with the smallest threshold (the one a single report trips soonest), since the minimum is one
/// setting for every rule.
fn warn_rules_on_a_few_installs(c: &mut Checker, safety: &SafetyParams, deps: &[DeploymentDef]) {
    if safety.denominator != Denominator::Installed {
        return;
    }
    let rule = deps
        .iter()
        .flat_map(|d| d.settings.monitoring.iter().map(move |r| (d, r)))
        .filter(|(_, r)| r.signal == Signal::Rollback)
        .min_by_key(|(_, r)| r.threshold);
    let Some((d, r)) = rule else { return };
    // One report fires the rule while the installed count is at most 100 / threshold.
    let one_fires_up_to = 100 / u64::from(r.threshold.max(1));
    if safety.min_devices > one_fires_up_to {
        return;
    }
    let path = if safety.min_devices == 0 {
        "safety.monitoring_denominator"
    } else {
        "safety.monitoring_min_devices"
    };
    c.warnings.push(format!(
        "{path}: over the installed devices, {}'s rollback rule of {} % fires on a single rollback report while at most {one_fires_up_to} devices have installed, and monitoring_min_devices is {}: the first report can decide it; set monitoring_min_devices above {one_fires_up_to} (e.g. 100) so that the rule judges a share of a sample",
        d.name, r.threshold, safety.min_devices
    ));
}

fn warn_unused_policies(
    c: &mut Checker,
    raw: &RawScenario,
    policies: &[Policy],
    segments: &[SegmentSpec],
) {
    if c.inventory_failed {
        return;
    }
    let inventory = raw.fleet.as_ref().is_some_and(|f| f.inventory.is_some());
    for (i, p) in policies.iter().enumerate() {
        let used = segments.iter().any(|s| usize::from(s.policy) == i);
        if used || p.name == "default" || !raw.policies.contains_key(&p.name) {
            continue;
        }
        c.warnings.push(format!(
            "policies.{}: {UNUSED_POLICY} ({} take \"default\" unless they set policy = \"{}\")",
            locate::quoted_key(&p.name),
            if inventory {
                "segments and inventory rows"
            } else {
                "segments"
            },
            p.name
        ));
    }
}

/// What the warning about a policy no segment uses says, after its path: a sweep tells it only
/// when no variant uses the policy.
pub const UNUSED_POLICY: &str = "no segment uses this policy";

/// Warns when a feature update with no release date (a `featureUpdateReference`: Graph gives it
/// only a version) meets a feature deferral. rollsim then takes the scenario start as its release,
/// so the deferral holds every device of the policy back for its whole length, though the version
/// may have been out for years and its deferral long over; a long deferral then shows as a
/// rollout that never moves, with nothing on the terminal to say why.
fn warn_assumed_feature_release(
    c: &mut Checker,
    side: &deployment::ServiceSide,
    segments: &[SegmentSpec],
    policies: &[Policy],
    start_unix: i64,
    horizon: Time,
) {
    let longest = segments
        .iter()
        .filter(|s| s.devices > 0)
        .filter_map(|s| policies.get(s.policy as usize))
        .filter(|p| p.feature_deferral > 0)
        .max_by_key(|p| p.feature_deferral);
    let Some(p) = longest else { return };
    let mut told = Vec::new();
    for (i, d) in side.deployments.iter().enumerate() {
        let content = &side.contents[d.content as usize];
        if content.category != Category::Feature
            || !side.release_assumed.get(i).copied().unwrap_or(false)
            || side.content_unknown.get(i).copied().unwrap_or(true)
            || told.contains(&d.content)
        {
            continue;
        }
        told.push(d.content);
        let until = content.release + p.feature_deferral as i64;
        let date = crate::time::format_instant(start_unix + until, 0);
        let after = if until > horizon as i64 {
            ", after the horizon: they never take it in this run"
        } else {
            ""
        };
        c.warnings.push(format!(
            "deployments[{i}].content: the update gives no release date, so \"{}\" is taken as released at the scenario start, and policy \"{}\"'s feature_deferral of {} keeps its devices from it until {}{after}; to count deferrals from the update's real release, name it by catalog entry with its releaseDateTime ([catalog], see the README's Catalog entries)",
            content.name,
            p.name,
            crate::time::fmt_span(p.feature_deferral),
            &date[..10.min(date.len())],
        ));
    }
}

const PROFILES: [&str; 5] = ["office", "always_on", "laptop", "dormant", "never"];

/// A local date of an off period (`"2026-12-24"`) as its local day number (days since
/// 1970-01-01); an instant is refused, as off periods are whole days of the devices' local time.
fn off_date(c: &mut Checker, path: &str, text: &str) -> Option<i64> {
    let t = text.trim();
    // jiff reads a date followed by a time as the date alone: only the date itself is taken.
    let date = match t.parse::<jiff::civil::Date>() {
        Ok(d) if t.len() == "2026-12-24".len() => d,
        // A date's shape with a day that does not exist (`2026-02-30`): jiff says why.
        Err(e) if t.len() == "2026-12-24".len() && t.as_bytes().get(4) == Some(&b'-') => {
            c.fail(path, format!("not a date ({e}), found \"{text}\""));
            return None;
        }
        _ => {
            c.fail(
                path,
                format!(
                    "not a date such as \"2026-12-24\" (off periods are whole local days of the segment's devices, so no time or offset is given), found \"{text}\""
                ),
            );
            return None;
        }
    };
    let epoch = jiff::civil::date(1970, 1, 1);
    date.since((jiff::Unit::Day, epoch))
        .map(|span| i64::from(span.get_days()))
        .map_err(|e| c.fail(path, format!("{e}, found \"{text}\"")))
        .ok()
}

/// The dated off periods at `path` (`segments[0].availability.off`) as inclusive ranges of local
/// day numbers, in file order; a period outside the run `run` (its start and end, Unix seconds),
/// seen from `clock` (the segment's local clock for that run), is a warning, as it has no
/// effect. Overlapping periods are allowed and act as one (a device is simply off on every day
/// that any of them names).
fn off_periods(
    c: &mut Checker,
    path: &str,
    off: &[RawOff],
    clock: LocalClock<'_>,
    run: Option<(i64, i64)>,
) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(off.len());
    for (j, o) in off.iter().enumerate() {
        let at = format!("{path}[{j}]");
        let from = off_date(c, &format!("{at}.from"), &o.from);
        let to = match &o.to {
            Some(text) => off_date(c, &format!("{at}.to"), text),
            None => from,
        };
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        if to < from {
            c.fail(
                format!("{at}.to"),
                format!(
                    "must not be before from (\"{}\"), found \"{}\"",
                    o.from,
                    o.to.as_deref().unwrap_or_default()
                ),
            );
            continue;
        }
        if let Some((start, end)) = run {
            // The period's local days as Unix seconds: from the local midnight starting `from`
            // to the one ending `to`.
            let first = start + clock.day_start(from);
            let last = start + clock.day_start(to + 1);
            if last <= start || first >= end {
                let dates = match &o.to {
                    Some(to) => format!("{} to {to}", o.from),
                    None => o.from.clone(),
                };
                c.warnings.push(format!(
                    "{at}: no effect, as the off period ({dates}, local days) lies outside the run ({} to {})",
                    crate::time::format_instant(start, 0),
                    crate::time::format_instant(end, 0),
                ));
            }
        }
        out.push((from, to));
    }
    out
}

/// The profile at `path`, its dated off periods (see [`off_periods`]) and whether its devices
/// are attended (by default as the profile is).
fn availability(
    c: &mut Checker,
    path: &str,
    a: Option<&RawAvailability>,
    clock: LocalClock<'_>,
    run: Option<(i64, i64)>,
) -> (Profile, Vec<(i64, i64)>, bool) {
    let Some(a) = a else {
        let profile = Profile::AlwaysOn;
        let attended = profile.attended_by_default();
        return (profile, Vec::new(), attended);
    };
    let off = a.off.as_deref().map_or_else(Vec::new, |o| {
        off_periods(c, &format!("{path}.off"), o, clock, run)
    });
    let profile = profile(c, path, a);
    let attended = a.attended.unwrap_or_else(|| profile.attended_by_default());
    (profile, off, attended)
}

fn profile(c: &mut Checker, path: &str, a: &RawAvailability) -> Profile {
    let allowed: &[&str] = match a.profile.as_str() {
        // `never` is never online, so no one can be at it.
        "never" => &[],
        "always_on" => &["attended"],
        "office" => &["start", "end", "jitter", "absent_days", "days", "attended"],
        "laptop" => &[
            "sessions_per_day",
            "session_length",
            "window",
            "days",
            "attended",
        ],
        "dormant" => &["online_days", "session_length", "window", "attended"],
        other => {
            c.fail(
                format!("{path}.profile"),
                format!(
                    "unknown availability profile \"{other}\"{}; expected one of {}",
                    suggest(other, &PROFILES),
                    PROFILES.join(", ")
                ),
            );
            return Profile::AlwaysOn;
        }
    };
    let given = [
        ("start", a.start.is_some()),
        ("end", a.end.is_some()),
        ("jitter", a.jitter.is_some()),
        ("absent_days", a.absent_days.is_some()),
        ("days", a.days.is_some()),
        ("sessions_per_day", a.sessions_per_day.is_some()),
        ("session_length", a.session_length.is_some()),
        ("window", a.window.is_some()),
        ("online_days", a.online_days.is_some()),
        ("attended", a.attended.is_some()),
    ];
    for (name, present) in given {
        if present && !allowed.contains(&name) {
            let takes = if allowed.is_empty() {
                "no parameters".to_string()
            } else {
                allowed.join(", ")
            };
            c.fail(
                format!("{path}.{name}"),
                format!(
                    "does not apply to profile \"{}\" (it takes {takes})",
                    a.profile
                ),
            );
        }
    }
    let window = |c: &mut Checker, default: (Secs, Secs)| match &a.window {
        None => default,
        Some(w) => {
            let s = c.time_of_day(&format!("{path}.window.start"), &w.start);
            let e = c.time_of_day(&format!("{path}.window.end"), &w.end);
            if let (Some(s), Some(e)) = (s, e)
                && e <= s
            {
                c.fail(
                    format!("{path}.window.end"),
                    format!("must be after the window start, found \"{}\"", w.end),
                );
            }
            (s.unwrap_or(default.0), e.unwrap_or(default.1))
        }
    };
    match a.profile.as_str() {
        "always_on" => Profile::AlwaysOn,
        "never" => Profile::Never,
        "office" => {
            let start = a.start.as_deref().map_or(Some(8 * HOUR), |s| {
                c.time_of_day(&format!("{path}.start"), s)
            });
            let end = a.end.as_deref().map_or(Some(17 * HOUR), |s| {
                c.time_of_day(&format!("{path}.end"), s)
            });
            if let (Some(start), Some(end)) = (start, end)
                && end <= start
            {
                c.fail(
                    format!("{path}.end"),
                    format!(
                        "must be after start, found \"{}\"",
                        a.end.as_deref().unwrap_or("17:00")
                    ),
                );
            }
            Profile::Office {
                start: start.unwrap_or(8 * HOUR),
                end: end.unwrap_or(17 * HOUR),
                jitter: c.duration(&format!("{path}.jitter"), a.jitter.as_deref(), HOUR),
                absent_days: c.probability(&format!("{path}.absent_days"), a.absent_days, 0.05),
                days: parse_days(c, &format!("{path}.days"), a.days.as_ref(), WEEKDAYS),
            }
        }
        "laptop" => {
            let rate = a.sessions_per_day.unwrap_or(2.0);
            if !(rate > 0.0 && rate <= 8.0) {
                c.fail(
                    format!("{path}.sessions_per_day"),
                    format!("must be above 0 and at most 8, found {rate}"),
                );
            }
            let (window_start, window_end) = window(c, (7 * HOUR, 23 * HOUR));
            Profile::Laptop {
                sessions_per_day: rate.clamp(0.01, 8.0),
                session_length: c.positive(
                    &format!("{path}.session_length"),
                    a.session_length.as_deref(),
                    2 * HOUR,
                ),
                window_start,
                window_end,
                days: parse_days(c, &format!("{path}.days"), a.days.as_ref(), ALL_DAYS),
            }
        }
        _ => {
            let (window_start, window_end) = window(c, (8 * HOUR, 20 * HOUR));
            Profile::Dormant {
                online_days: c.probability(&format!("{path}.online_days"), a.online_days, 0.1),
                session_length: c.positive(
                    &format!("{path}.session_length"),
                    a.session_length.as_deref(),
                    2 * HOUR,
                ),
                window_start,
                window_end,
            }
        }
    }
}

fn policy(c: &mut Checker, name: &str, p: &RawPolicy, start_unix: i64) -> Policy {
    let path = format!("policies.{name}");
    let base = Policy::default_named(name);
    let deadline = |c: &mut Checker, key: &str, v: &Option<String>, d: Option<Secs>| match v
        .as_deref()
    {
        Some("none") => None,
        Some(text)
            if ["none", "never", "off", "no"].contains(&text.to_ascii_lowercase().as_str()) =>
        {
            c.fail(
                    format!("{path}.{key}"),
                    format!("expected a duration such as \"P3D\", or \"none\" (in lower case) for no deadline, found \"{text}\""),
                );
            d
        }
        Some(text) => Some(c.duration(&format!("{path}.{key}"), Some(text), d.unwrap_or(0))),
        None => d,
    };
    let max_days = |c: &mut Checker, key: &str, v: Secs, max: u64| {
        if v > max * DAY {
            c.fail(
                format!("{path}.{key}"),
                format!(
                    "must be at most {max} days (the policy's documented range), found {} days",
                    v as f64 / DAY as f64
                ),
            );
        } else if !v.is_multiple_of(DAY) {
            // Told, not failed: rollsim runs any duration, but the policy settings
            // (client-timing.md §3-4) take whole days, so the plan cannot be configured.
            c.warnings.push(format!(
                "{path}.{key}: {} days is not a whole number of days; the Windows policy takes whole days, so no device can be given this (rollsim runs it as written)",
                (v as f64 / DAY as f64 * 1000.0).round() / 1000.0
            ));
        }
        v
    };
    let qd = c.duration(
        &format!("{path}.quality_deferral"),
        p.quality_deferral.as_deref(),
        base.quality_deferral,
    );
    let fd = c.duration(
        &format!("{path}.feature_deferral"),
        p.feature_deferral.as_deref(),
        base.feature_deferral,
    );
    let qg = c.duration(
        &format!("{path}.quality_grace"),
        p.quality_grace.as_deref(),
        base.quality_grace,
    );
    let fg = c.duration(
        &format!("{path}.feature_grace"),
        p.feature_grace.as_deref(),
        base.feature_grace,
    );
    let qdl = deadline(
        c,
        "quality_deadline",
        &p.quality_deadline,
        base.quality_deadline,
    );
    let fdl = deadline(
        c,
        "feature_deadline",
        &p.feature_deadline,
        base.feature_deadline,
    );
    let (active_start, active_end) = match &p.active_hours {
        None => (Some(base.active_start), Some(base.active_end)),
        Some(h) => (
            c.time_of_day(&format!("{path}.active_hours.start"), &h.start),
            c.time_of_day(&format!("{path}.active_hours.end"), &h.end),
        ),
    };
    active_hours_span(c, &path, p, active_start.zip(active_end));
    let active_start = active_start.unwrap_or(base.active_start);
    let active_end = active_end.unwrap_or(base.active_end);
    let maintenance_time = match &p.maintenance_time {
        None => base.maintenance_time,
        Some(text) => c
            .time_of_day(&format!("{path}.maintenance_time"), text)
            .unwrap_or(base.maintenance_time),
    };
    if p.maintenance_time.is_some() && qdl.is_some() && fdl.is_some() {
        // Told, not failed: valid, but only an update without a deadline waits for the
        // maintenance.
        c.warnings.push(format!(
            "{path}.maintenance_time: no effect, as the policy sets both deadlines (updates with a deadline install as soon as downloaded; set quality_deadline or feature_deadline = \"none\" to leave installs to Automatic Maintenance)"
        ));
    }
    let deadline_clock = match &p.deadline_clock {
        None => base.deadline_clock,
        Some(name) => DeadlineClock::from_name(name).unwrap_or_else(|| {
            c.fail(
                format!("{path}.deadline_clock"),
                format!(
                    "unknown deadline clock \"{name}\"{}; expected one of {} (discovery: Windows 11 22H2 and later; offer: Windows 10 and earlier Windows 11)",
                    suggest(name, &DeadlineClock::NAMES),
                    DeadlineClock::NAMES.join(", ")
                ),
            );
            base.deadline_clock
        }),
    };
    if p.deadline_clock.is_some() && qdl.is_none() && fdl.is_none() {
        c.warnings.push(format!(
            "{path}.deadline_clock: no effect, as the policy sets no deadline"
        ));
    }
    Policy {
        name: name.to_string(),
        quality_deferral: max_days(c, "quality_deferral", qd, 30),
        quality_deadline: qdl.map(|v| max_days(c, "quality_deadline", v, 30)),
        quality_grace: max_days(c, "quality_grace", qg, 7),
        feature_deferral: max_days(c, "feature_deferral", fd, 365),
        feature_deadline: fdl.map(|v| max_days(c, "feature_deadline", v, 30)),
        feature_grace: max_days(c, "feature_grace", fg, 7),
        active_start,
        active_end,
        auto_restart: p.auto_restart.unwrap_or(true),
        quality_pause_until: pause_until(
            c,
            &path,
            "quality_pause_until",
            &p.quality_pause_until,
            start_unix,
        ),
        feature_pause_until: pause_until(
            c,
            &path,
            "feature_pause_until",
            &p.feature_pause_until,
            start_unix,
        ),
        maintenance_time,
        deadline_clock,
    }
}

/// A policy's pause is in force from t = 0, so it was set at the scenario start or before; a pause
/// runs at most [`PAUSE_MAX`] from when it was set, so it cannot end later than that after the
/// start.
fn pause_until(
    c: &mut Checker,
    path: &str,
    key: &str,
    v: &Option<String>,
    start_unix: i64,
) -> Time {
    let Some(text) = v else { return 0 };
    let field = format!("{path}.{key}");
    let until = deployment::at(c, &field, text, start_unix);
    if until > PAUSE_MAX {
        c.fail(
            field,
            format!(
                "must end at most {} days after the scenario start (a pause runs at most {} days from when it is set, and a policy's pause is set by the start), found \"{text}\", {} days",
                PAUSE_MAX / DAY,
                PAUSE_MAX / DAY,
                until as f64 / DAY as f64
            ),
        );
    }
    until
}

/// Default and allowed values of `ActiveHoursMaxRange` (client-timing.md §3: 8–18 h, default 18).
const ACTIVE_HOURS_MAX_RANGE: Secs = 18 * HOUR;
const ACTIVE_HOURS_MAX_RANGE_LIMITS: std::ops::RangeInclusive<Secs> = 8 * HOUR..=18 * HOUR;

/// Windows refuses active hours longer than `ActiveHoursMaxRange`, and a window whose start equals
/// its end has no hours at all; either would make the restart model answer a question Windows
/// never asks. `hours` is None when the active hours could not be read (reported already).
fn active_hours_span(c: &mut Checker, path: &str, p: &RawPolicy, hours: Option<(Secs, Secs)>) {
    let key = format!("{path}.active_hours_max_range");
    let max = c.duration(
        &key,
        p.active_hours_max_range.as_deref(),
        ACTIVE_HOURS_MAX_RANGE,
    );
    if let Some(text) = &p.active_hours_max_range
        && (!ACTIVE_HOURS_MAX_RANGE_LIMITS.contains(&max) || !max.is_multiple_of(HOUR))
    {
        c.fail(
            &key,
            format!("must be whole hours from 8 to 18 (ActiveHoursMaxRange), found \"{text}\""),
        );
        return;
    }
    let Some((start, end)) = hours else { return };
    // A window that wraps past midnight (22:00–06:00) runs into the next day.
    let span = if end >= start {
        end - start
    } else {
        end + DAY - start
    };
    let hm = |t: Secs| format!("{:02}:{:02}", t / HOUR, t % HOUR / 60);
    let hours = |t: Secs| format!("{}", t as f64 / HOUR as f64);
    let Some(h) = &p.active_hours else {
        if span > max {
            c.fail(
                &key,
                format!(
                    "is {} h, shorter than the default active hours {}–{} ({} h): set active_hours to fit",
                    hours(max),
                    hm(start),
                    hm(end),
                    hours(span)
                ),
            );
        }
        return;
    };
    if span == 0 {
        c.fail(
            format!("{path}.active_hours"),
            format!(
                "must span more than 0 h, found start = end = \"{}\"",
                h.start
            ),
        );
    } else if span > max {
        c.fail(
            format!("{path}.active_hours"),
            format!(
                "must span at most {} h (active_hours_max_range, ActiveHoursMaxRange), found \"{}\"–\"{}\", {} h",
                hours(max),
                h.start,
                h.end,
                hours(span)
            ),
        );
    }
}

/// `max_retries_after_rollback`: a count from 0 to [`MAX_RETRIES_AFTER_ROLLBACK`], or
/// `"unlimited"` (`None`); `default` when absent or wrong (the mistake is reported).
fn max_retries(
    c: &mut Checker,
    path: &str,
    raw: Option<&toml::Value>,
    default: Option<u8>,
) -> Option<u8> {
    let max = MAX_RETRIES_AFTER_ROLLBACK;
    let found = match raw {
        None => return default,
        Some(toml::Value::String(s)) if s == "unlimited" => return None,
        Some(toml::Value::Integer(n)) => match u8::try_from(*n) {
            Ok(n) if n <= max => return Some(n),
            _ => format!("{n}"),
        },
        // A count in quotes is still a count, but say so rather than guess.
        Some(toml::Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
            format!("\"{s}\" (a string: write the number without quotes)")
        }
        Some(toml::Value::String(s)) => format!("\"{s}\""),
        Some(other) => other.to_string(),
    };
    c.fail(
        path,
        format!(
            "expected a number of retries from 0 to {max} (0: a rolled-back device never retries) or \"unlimited\", found {found}"
        ),
    );
    default
}

fn client(c: &mut Checker, raw: Option<&RawClient>) -> ClientParams {
    let d = ClientParams::default();
    let Some(r) = raw else { return d };
    let cat = |c: &mut Checker, name: &str, raw: Option<&RawCategory>, d: CategoryParams| {
        let Some(r) = raw else { return d };
        let p = format!("client.{name}");
        CategoryParams {
            download: c.dist(
                &format!("{p}.download_time"),
                r.download_time.as_ref(),
                d.download,
            ),
            install: c.dist(
                &format!("{p}.install_time"),
                r.install_time.as_ref(),
                d.install,
            ),
            restart: c.dist(
                &format!("{p}.restart_time"),
                r.restart_time.as_ref(),
                d.restart,
            ),
            rollback: c.probability(&format!("{p}.rollback"), r.rollback, d.rollback),
            retry_after_rollback: match r.retry_after_rollback.as_deref() {
                None => d.retry_after_rollback,
                Some("never") => None,
                Some(text) => {
                    let path = format!("{p}.retry_after_rollback");
                    if parse_duration_signed(text).is_err() {
                        c.fail(
                            path,
                            format!(
                                "expected a duration such as \"P30D\" (\"P0D\": at the next scan) or \"never\", found \"{text}\""
                            ),
                        );
                        d.retry_after_rollback
                    } else {
                        Some(c.duration(&path, Some(text), 0))
                    }
                }
            },
            max_retries_after_rollback: max_retries(
                c,
                &format!("{p}.max_retries_after_rollback"),
                r.max_retries_after_rollback.as_ref(),
                d.max_retries_after_rollback,
            ),
        }
    };
    let scan_interval = c.positive(
        "client.scan_interval",
        r.scan_interval.as_deref(),
        d.scan_interval,
    );
    ClientParams {
        scan_interval,
        scan_jitter: c.duration(
            "client.scan_jitter",
            r.scan_jitter.as_deref(),
            d.scan_jitter,
        ),
        quality: cat(c, "quality", r.quality.as_ref(), d.quality),
        feature: cat(c, "feature", r.feature.as_ref(), d.feature),
        install_failure: c.probability(
            "client.install_failure",
            r.install_failure,
            d.install_failure,
        ),
        shutdown_completes_restart: c.probability(
            "client.shutdown_completes_restart",
            r.shutdown_completes_restart,
            d.shutdown_completes_restart,
        ),
        user_restart: r
            .user_restart
            .as_ref()
            .map(|u| c.dist("client.user_restart", Some(u), Dist::Fixed(DAY))),
        optional_uptake: c.dist(
            "client.optional_uptake",
            r.optional_uptake.as_ref(),
            d.optional_uptake,
        ),
    }
}

fn attributes(
    c: &mut Checker,
    path: &str,
    raw: &BTreeMap<String, RawAttr>,
) -> Vec<(String, AttrChoice)> {
    raw.iter()
        .map(|(k, v)| {
            let p = format!("{path}.{k}");
            let choice = match v {
                RawAttr::One(s) => AttrChoice::Fixed(s.clone()),
                RawAttr::Many(vs) if vs.is_empty() => {
                    c.fail(p, "must list at least one value, found []");
                    AttrChoice::Fixed(String::new())
                }
                RawAttr::Many(vs) => AttrChoice::Weighted(vs.iter().map(|s| (s.clone(), 1.0)).collect()),
                RawAttr::Weighted { values, weights } => {
                    if values.is_empty() || values.len() != weights.len() {
                        c.fail(&p, format!("values and weights must be non-empty lists of the same length, found {} values and {} weights", values.len(), weights.len()));
                    }
                    if let Some(w) = weights.iter().find(|w| !(**w >= 0.0 && w.is_finite())) {
                        c.fail(format!("{p}.weights"), format!("weights must be ≥ 0, found {w}"));
                    }
                    let sum = weights.iter().sum::<f64>();
                    let valid = values.len() == weights.len()
                        && weights.iter().all(|w| *w >= 0.0 && w.is_finite());
                    if sum <= 0.0 {
                        c.fail(format!("{p}.weights"), "weights must not all be zero");
                    } else if valid && (sum - 1.0).abs() > 1e-6 {
                        // Weights are shares of the segment's devices, checked as segment
                        // shares are: a sum of 1.1 was silently scaled down, so no value got
                        // the share written.
                        let terms: Vec<String> = values
                            .iter()
                            .zip(weights)
                            .take(8)
                            .map(|(v, w)| format!("{v} {w}"))
                            .chain((values.len() > 8).then(|| "…".to_string()))
                            .collect();
                        c.fail(
                            format!("{p}.weights"),
                            format!(
                                "weights must add up to 1, found a sum of {} ({})",
                                (sum * 1e9).round() / 1e9,
                                terms.join(" + ")
                            ),
                        );
                    }
                    AttrChoice::Weighted(values.iter().cloned().zip(weights.iter().map(|w| w.max(0.0))).collect())
                }
            };
            (k.clone(), choice)
        })
        .collect()
}

/// Most segments (an inventory's included), deployments, contents, groups, issues, actions or
/// policies a scenario may have. A run numbers each kind in 16 bits (a device record is 64
/// bytes, `client::DeviceState`), and `u16::MAX` stands for "none" (`client::NONE`), so the
/// last safe index is 65 534: past it, numbers wrapped and one entry silently took another's
/// place (a device of segment 65 536 got segment 0's policy).
pub const MAX_ITEMS: usize = crate::client::NONE as usize;

/// Refuses a kind with more than [`MAX_ITEMS`] entries, at the first one past the limit, before
/// anything is built from them (true when it did).
fn too_many(c: &mut Checker, raw: &RawScenario) -> bool {
    let lists = [
        ("segments", raw.segments.len()),
        ("deployments", raw.deployments.len()),
        ("issues", raw.issues.len()),
        ("actions", raw.actions.len()),
    ];
    let mut refused = false;
    for (kind, n) in lists {
        if n > MAX_ITEMS {
            c.fail(
                format!("{kind}[{MAX_ITEMS}]"),
                format!(
                    "a scenario holds at most {MAX_ITEMS} {kind} (a run numbers them in 16 bits), found {n}"
                ),
            );
            refused = true;
        }
    }
    // `default` is added when the file has no policy of that name.
    let policies = raw.policies.len() + usize::from(!raw.policies.contains_key("default"));
    for (kind, n) in [("groups", raw.groups.len()), ("policies", policies)] {
        if n > MAX_ITEMS {
            c.fail(
                kind,
                format!(
                    "a scenario holds at most {MAX_ITEMS} {kind} (a run numbers them in 16 bits), found {n}"
                ),
            );
            refused = true;
        }
    }
    refused
}

/// Largest lognormal `sigma` a duration may have. At 5 the 95th percentile is e^(5 × 1.645) ≈
/// 3 700 times the median (a 5-minute restart's is 13 days), which covers any spread a timing
/// could have; beyond, draws are centuries or round to u64::MAX seconds, so a larger value is a
/// mistake (a variance for a standard deviation, or a median's digits) rather than a model.
pub const MAX_SIGMA: f64 = 5.0;

/// Largest fleet a scenario may ask for (a guard against typos such as an extra zero block).
pub const MAX_DEVICES: u64 = 50_000_000;

/// The scenario's segments; `run` is the run's start and end (Unix seconds) when both could be
/// read, to warn of off periods outside it.
fn segments(
    c: &mut Checker,
    raw: &RawScenario,
    policies: &[Policy],
    run: Option<(i64, i64)>,
) -> Vec<SegmentSpec> {
    let total = raw.fleet.as_ref().and_then(|f| f.devices);
    if let Some(t) = total
        && (t < 0 || t as u64 > MAX_DEVICES)
    {
        c.fail(
            "fleet.devices",
            format!("must be between 0 and {MAX_DEVICES}, found {t}"),
        );
    }
    let uses_share = raw.segments.iter().any(|s| s.share.is_some());
    if uses_share {
        let shares: Vec<(usize, f64)> = raw
            .segments
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.share.map(|f| (i, f)))
            .collect();
        let sum: f64 = shares.iter().map(|(_, f)| f).sum();
        // A share out of range is its own problem (below), and the sum follows from it.
        let in_range = shares.iter().all(|(_, f)| (0.0..=1.0).contains(f));
        if in_range && (sum - 1.0).abs() > 1e-6 {
            // A problem of every share, told once: at a share --set gave, when one did, so that
            // it names the option; else at the first.
            let field = |i: usize| format!("segments[{i}].share");
            let i = shares
                .iter()
                .rev()
                .map(|(i, _)| *i)
                .find(|&i| c.set_fields.contains(&field(i)))
                .unwrap_or(shares[0].0);
            let mut terms: Vec<String> = shares
                .iter()
                .take(8)
                .map(|(i, f)| format!("{} {f}", raw.segments[*i].name))
                .collect();
            if shares.len() > 8 {
                terms.push("…".into());
            }
            c.fail(
                field(i),
                format!(
                    "segment shares must add up to 1, found a sum of {} ({})",
                    (sum * 1e9).round() / 1e9,
                    terms.join(" + ")
                ),
            );
        }
        if total.is_none() {
            c.fail(
                "fleet.devices",
                "is required when segments give a share instead of a device count",
            );
        }
    }
    // Largest-remainder rounding so shares add up to exactly the fleet size.
    let total_u = total.unwrap_or(0).max(0) as u64;
    let mut counts: Vec<u64> = Vec::with_capacity(raw.segments.len());
    let mut remainders = Vec::new();
    for (i, s) in raw.segments.iter().enumerate() {
        let path = format!("segments[{i}]");
        match (s.devices, s.share) {
            (Some(_), Some(_)) => {
                c.fail(
                    format!("{path}.share"),
                    "give either devices or share, not both",
                );
                counts.push(0);
            }
            (Some(n), None) => {
                if n < 0 || n as u64 > MAX_DEVICES {
                    c.fail(
                        format!("{path}.devices"),
                        format!("must be between 0 and {MAX_DEVICES}, found {n}"),
                    );
                }
                counts.push(n.max(0) as u64);
            }
            (None, Some(f)) => {
                if !(0.0..=1.0).contains(&f) {
                    c.fail(
                        format!("{path}.share"),
                        format!("must lie between 0 and 1, found {f}"),
                    );
                }
                let exact = f.clamp(0.0, 1.0) * total_u as f64;
                counts.push(exact.floor() as u64);
                remainders.push((exact - exact.floor(), i));
            }
            // With an inventory, a segment without a count is a template for inventory rows.
            (None, None) if raw.fleet.as_ref().is_some_and(|f| f.inventory.is_some()) => {
                counts.push(0);
            }
            (None, None) => {
                c.fail(&path, "needs a device count (devices = N) or a share of [fleet] devices (share = 0.3)");
                counts.push(0);
            }
        }
    }
    // `[fleet] devices` is the fleet's size: shares divide it, and counts must agree with it.
    let inventory = raw.fleet.as_ref().is_some_and(|f| f.inventory.is_some());
    let counted: u64 = raw
        .segments
        .iter()
        .zip(&counts)
        .filter(|(s, _)| s.share.is_none())
        .map(|(_, n)| n)
        .sum();
    if uses_share {
        if let Some(i) = raw
            .segments
            .iter()
            .position(|s| s.devices.is_some() && s.share.is_none())
        {
            c.fail(
                format!("segments[{i}].devices"),
                format!(
                    "a count among segments that give shares: the shares divide all of [fleet] devices ({total_u}), so this segment's {} devices would come on top of the fleet's size; give it a share too",
                    counts[i]
                ),
            );
        }
    } else if let Some(t) = total
        && !inventory
        && t >= 0
        && t as u64 != counted
    {
        c.fail(
            "fleet.devices",
            format!(
                "is {t}, but the segments' device counts add up to {counted}: give the segments shares (share = 0.3) to size them from [fleet] devices, or leave [fleet] devices out"
            ),
        );
    }
    if uses_share {
        let assigned: u64 = raw
            .segments
            .iter()
            .zip(&counts)
            .filter(|(s, _)| s.share.is_some())
            .map(|(_, n)| n)
            .sum();
        let mut missing = total_u.saturating_sub(assigned);
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if missing == 0 {
                break;
            }
            counts[i] += 1;
            missing -= 1;
        }
    }
    if counts.iter().sum::<u64>() > MAX_DEVICES {
        c.fail(
            "segments",
            format!(
                "the fleet may have at most {MAX_DEVICES} devices, found {}",
                counts.iter().sum::<u64>()
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    raw.segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = format!("segments[{i}]");
            if !seen.insert(s.name.as_str()) {
                c.fail(
                    format!("{path}.name"),
                    format!("segment names must be unique, found \"{}\" twice", s.name),
                );
            }
            let pname = s.policy.as_deref().unwrap_or("default");
            let policy = match policies.iter().position(|p| p.name == pname) {
                Some(p) => index16(p),
                None => {
                    let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
                    c.fail(
                        format!("{path}.policy"),
                        format!(
                            "no policy named \"{pname}\"{}; defined: {}",
                            suggest(pname, &names),
                            names.join(", ")
                        ),
                    );
                    0
                }
            };
            let utc_offset = match &s.utc_offset {
                None => 0,
                Some(o) => parse_utc_offset(o).unwrap_or_else(|e| {
                    c.fail(format!("{path}.utc_offset"), format!("{e}, found \"{o}\""));
                    0
                }),
            };
            let time_zone = s.time_zone.as_deref().and_then(|z| {
                if let Some(o) = &s.utc_offset {
                    c.fail(
                        format!("{path}.time_zone"),
                        format!(
                            "give either utc_offset or time_zone, not both (a named time zone sets its own offsets), found \"{z}\" beside utc_offset = \"{o}\""
                        ),
                    );
                    return None;
                }
                parse_time_zone(z)
                    .map_err(|e| c.fail(format!("{path}.time_zone"), format!("{e}, found \"{z}\"")))
                    .ok()
            });
            // The zone's changes within the run, to place the off periods' local days.
            let start = run.map_or(0, |(start, _)| start);
            let zone = time_zone.as_ref().zip(run).map(|(tz, (start, end))| {
                Zone::new(tz, start, end.saturating_sub(start).max(0) as Secs)
            });
            let clock = zone
                .as_ref()
                .map_or(LocalClock::new(start, utc_offset), Zone::clock);
            let (profile, off, attended) = availability(
                c,
                &format!("{path}.availability"),
                s.availability.as_ref(),
                clock,
                run,
            );
            SegmentSpec {
                name: s.name.clone(),
                devices: counts[i].min(u64::from(u32::MAX)) as u32,
                policy,
                utc_offset,
                time_zone,
                profile,
                off,
                attended,
                attributes: attributes(c, &format!("{path}.attributes"), &s.attributes),
            }
        })
        .collect()
}

/// Rows of `timeseries.csv` above which a run is warned of the file's size.
const TIMESERIES_ROWS: u64 = 10_000_000;

/// Rows of `timeseries.csv`: a row per sample (from 0 to the horizon, the last at the horizon),
/// deployment and state.
pub(crate) fn timeseries_rows(horizon: Time, sample: Secs, deployments: usize) -> u64 {
    (horizon.div_ceil(sample.max(1)) + 1)
        .saturating_mul(deployments as u64)
        .saturating_mul(crate::metrics::N_STATES as u64)
}

/// Warns when `timeseries.csv` would exceed [`TIMESERIES_ROWS`] (a sample interval of seconds over
/// weeks writes gigabytes, and the report and its charts grow with it): how many rows, about how
/// many bytes, and the shortest usual interval that keeps it under.
fn warn_timeseries_size(
    c: &mut Checker,
    path: &str,
    horizon: Time,
    sample: Secs,
    deployments: &[DeploymentDef],
) {
    let rows = timeseries_rows(horizon, sample, deployments.len());
    if rows <= TIMESERIES_ROWS {
        return;
    }
    // A row is the hours, the instant (20 bytes), the deployment, the state, a count and a
    // share of 8 digits: about 52 bytes and the name (53 measured for a 2-letter name).
    let name = deployments.iter().map(|d| d.name.len()).sum::<usize>() / deployments.len().max(1);
    let bytes = rows as f64 * (52 + name) as f64;
    let size = match bytes >= 1e9 {
        true => format!("{:.1} GB", bytes / 1e9),
        false => format!("{:.0} MB", bytes / 1e6),
    };
    let steps = [
        (60, "PT1M"),
        (5 * 60, "PT5M"),
        (15 * 60, "PT15M"),
        (30 * 60, "PT30M"),
        (HOUR, "PT1H"),
        (2 * HOUR, "PT2H"),
        (6 * HOUR, "PT6H"),
        (DAY, "P1D"),
    ];
    let larger = steps
        .iter()
        .find(|(step, _)| timeseries_rows(horizon, *step, deployments.len()) <= TIMESERIES_ROWS)
        .map_or(String::new(), |(_, text)| {
            format!(": a sample_interval of \"{text}\" or more keeps it under 10 million rows")
        });
    c.warnings.push(format!(
        "{path}: timeseries.csv would have about {:.1} million rows ({} samples × {} deployment{} × {} states), about {size}{larger}",
        rows as f64 / 1e6,
        horizon.div_ceil(sample.max(1)) + 1,
        deployments.len(),
        if deployments.len() == 1 { "" } else { "s" },
        crate::metrics::N_STATES,
    ));
}

/// Warns of a `sample_interval` (as written and read) longer than the `horizon` (as written and
/// read): the samples are taken at 0, every interval, and at the horizon's end, so
/// `timeseries.csv` (and `bands.csv`, and the curves drawn from them) then has only the rows of
/// the start and of the end, a straight line between them. The default interval is not told: only
/// one the file (or `--set`, or a sweep) gives.
fn warn_sample_past_horizon(c: &mut Checker, sample: (&str, Secs), horizon: (&str, Time)) {
    let ((sample_text, sample), (horizon_text, horizon)) = (sample, horizon);
    if horizon == 0 || sample <= horizon {
        return;
    }
    c.warnings.push(format!(
        "simulation.sample_interval: \"{sample_text}\" is longer than the horizon (\"{horizon_text}\"), so timeseries.csv has rows only at the start and at the horizon's end, and the compliance curves are straight lines between them; give an interval shorter than the horizon (the default is \"PT1H\")"
    ));
}

/// Heads each warning that starts with a field path (`deployments[1].settings…: …`) with
/// `file:line:column`, as errors are, where `position` finds the path ((0, 0): not found); the
/// others with `file: ` when `always`, else not at all. Sweep variants' warnings are not located:
/// one told for many variants is told once.
pub(crate) fn locate_warnings(
    warnings: &mut [String],
    file: &str,
    always: bool,
    position: impl Fn(&str) -> (usize, usize),
) {
    for w in warnings {
        // One warning, one line, whatever the value it quotes.
        if let std::borrow::Cow::Owned(one) = crate::error::one_line(w) {
            *w = one;
        }
        let at = path_head(w).map(&position).filter(|&(line, _)| line > 0);
        match at {
            Some((line, column)) => *w = format!("{file}:{line}:{column}: {w}"),
            None if always => *w = format!("{file}: {w}"),
            None => {}
        }
    }
}

/// The field path message `w` starts with (`path: message`), or None when it starts with words.
/// A path has no whitespace, except inside a quoted key (`graph_ids."String (identifier)"`).
fn path_head(w: &str) -> Option<&str> {
    let b = w.as_bytes();
    let (mut i, mut quoted) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b':' if !quoted && b.get(i + 1) == Some(&b' ') => return Some(&w[..i]),
            x if !quoted && x.is_ascii_whitespace() => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Which of rollsim's TOML inputs a command expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario (`run`).
    Scenario,
    /// A sweep (`batch`).
    Sweep,
}

/// Top-level keys only a sweep has: a file with one of them is a sweep (a top-level `seed` or
/// `replications` is not counted, since a scenario may carry one by mistake).
pub const SWEEP_KEYS: [&str; 3] = ["base", "grid", "variants"];

/// Top-level tables only a scenario has.
const SCENARIO_KEYS: [&str; 11] = [
    "simulation",
    "fleet",
    "segments",
    "deployments",
    "groups",
    "actions",
    "issues",
    "policies",
    "client",
    "safety",
    "graph_ids",
];

/// The problem of `text` (the file `file`), handed to a command that expects `expected`, when it
/// is another of rollsim's inputs: a sweep (it has `base`, `[grid]` or `[[variants]]`), a
/// scenario (it has `[simulation]`, `[fleet]`, `[[segments]]`, … and no sweep key) or a Graph
/// request body (JSON: named `.json`, or starting with `{`). It is told alone, before the file
/// is parsed, since every parse error of the wrong kind of file ("unknown field", "invalid
/// key-value pair") only hides what is wrong. None when it looks like what was expected, so an
/// ordinary mistake in the file gets no hint.
pub fn other_kind_of_file(text: &str, file: &str, expected: InputKind) -> Option<Problem> {
    let loc = Locator::new(text);
    let not = match expected {
        InputKind::Scenario => "not a scenario",
        InputKind::Sweep => "not a sweep",
    };
    let name = Path::new(file)
        .file_name()
        .map_or(file.to_string(), |n| n.to_string_lossy().into_owned());
    let json = Path::new(file)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json || text.trim_start().starts_with('{') {
        let (line, column) = loc.line_col(text.len() - text.trim_start().len());
        return Some(Problem {
            line,
            column,
            path: String::new(),
            message: format!(
                "this is JSON, a Graph request body, {not}: a scenario reads it with graph = \"{name}\" in a [[deployments]] entry (a POST .../deployments body) or an [[actions]] entry (do = \"patch\" for a PATCH body, do = \"update_audience\" for an updateAudience body); check it on its own with `rollsim validate {file}`"
            ),
        });
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    // The key that tells the kind, first in the file.
    let first = |keys: &[&'static str]| -> Option<((usize, usize), &'static str)> {
        keys.iter()
            .filter(|k| table.contains_key(**k))
            .map(|k| (loc.position(k), *k))
            .min()
    };
    // As the file writes it: `[simulation]`, `[[segments]]`, `base`.
    let shown = |k: &str| match table.get(k) {
        Some(toml::Value::Table(_)) => format!("[{k}]"),
        Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_table) => format!("[[{k}]]"),
        _ => format!("`{k}`"),
    };
    let (sweep, scenario) = (first(&SWEEP_KEYS), first(&SCENARIO_KEYS));
    let (((line, column), _), message) = match (expected, sweep, scenario) {
        (InputKind::Scenario, Some(at), None) => (
            at,
            format!(
                "this is a sweep file (it has {}), {not}: run it with `rollsim batch`",
                shown(at.1)
            ),
        ),
        (InputKind::Sweep, None, Some(at)) => (
            at,
            format!(
                "this is a scenario file (it has {}), {not}: run it with `rollsim run`, or name it as a sweep's `base`",
                shown(at.1)
            ),
        ),
        _ => return None,
    };
    // The message names the key that tells the kind; as a field path it would read as the
    // field at fault.
    Some(Problem {
        line,
        column,
        path: String::new(),
        message,
    })
}

impl Scenario {
    /// Loads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Scenario::parse(&text, &path.display().to_string(), &stem, base)
    }

    /// Whether deployment `d` has a monitoring rule at some point of the run: in its settings at
    /// creation or in a PATCH of its settings, so that "no rule fired" is said only of
    /// deployments that could have fired one.
    pub fn monitored(&self, d: usize) -> bool {
        let Some(dep) = self.deployments.get(d) else {
            return false;
        };
        !dep.settings.monitoring.is_empty()
            || self.actions.iter().any(|a| {
                usize::from(a.deployment) == d
                    && match &a.kind {
                        ActionKind::Settings { settings, .. }
                        | ActionKind::Patch { settings, .. } => !settings.monitoring.is_empty(),
                        _ => false,
                    }
            })
    }

    /// Parses scenario text; `file` names it in errors, `stem` is the default name, `base` is the
    /// folder that relative paths in the file (Graph JSON bodies) are resolved against.
    pub fn parse(text: &str, file: &str, stem: &str, base: &Path) -> Result<Scenario, Error> {
        let mut sc = Scenario::parse_with(text, file, stem, base, Vec::new())?;
        let loc = Locator::new(text);
        locate_warnings(&mut sc.warnings, file, false, |p| loc.position(p));
        Ok(sc)
    }

    /// [`Scenario::parse`] with changes to the Graph JSON bodies the scenario reads, made to each
    /// body as read, before it is checked (see [`overrides::BodySet`]). The bytes of a changed
    /// body in [`Scenario::inputs`] are the changed body.
    pub fn parse_with(
        text: &str,
        file: &str,
        stem: &str,
        base: &Path,
        bodies: Vec<overrides::BodySet>,
    ) -> Result<Scenario, Error> {
        let c = Checker {
            bodies,
            ..Checker::default()
        };
        Scenario::parse_checked(text, file, stem, base, c)
    }

    /// [`Scenario::parse_with`] with a checker prepared by the caller (the Graph bodies to
    /// change, the fields `--set` wrote).
    pub(crate) fn parse_checked(
        text: &str,
        file: &str,
        stem: &str,
        base: &Path,
        mut c: Checker,
    ) -> Result<Scenario, Error> {
        if let Some(p) = other_kind_of_file(text, file, InputKind::Scenario) {
            return Err(Error::Input(InputError {
                file: file.to_string(),
                problems: vec![p],
            }));
        }
        let loc = Locator::new(text);
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let (line, column) = if e.span().is_some() {
                loc.line_col(span.start)
            } else {
                (0, 0)
            };
            let (message, path) = toml_message(&e, text, &loc.path_at(&span));
            Error::Input(InputError {
                file: file.to_string(),
                problems: vec![Problem {
                    line,
                    column,
                    path,
                    message,
                }],
            })
        })?;
        c.source = Some((file.to_string(), text.to_string()));
        if too_many(&mut c, &raw) {
            return Err(Error::Input(InputError {
                file: file.to_string(),
                problems: located(c.problems, |p| loc.position(p)),
            }));
        }
        let mut sc = Scenario::from_raw(&raw, stem, base, &mut c);
        // A broken inventory comes first: problems in the scenario may stem from it.
        if c.inventory_failed && !c.file_errors.is_empty() {
            return Err(Error::Input(c.file_errors.swap_remove(0)));
        }
        if c.problems.is_empty() {
            if let Some(e) = c.file_errors.into_iter().next() {
                return Err(Error::Input(e));
            }
            sc.warnings = c.warnings;
            sc.inputs = c.inputs;
            return Ok(sc);
        }
        Err(Error::Input(InputError {
            file: file.to_string(),
            problems: located(c.problems, |p| loc.position(p)),
        }))
    }

    fn from_raw(raw: &RawScenario, stem: &str, base: &Path, c: &mut Checker) -> Scenario {
        let s = &raw.simulation;
        let start_read = parse_instant(&s.start).is_ok();
        let start = parse_instant(&s.start).unwrap_or_else(|e| {
            c.fail("simulation.start", format!("{e}, found \"{}\"", s.start));
            jiff::Timestamp::UNIX_EPOCH
        });
        let horizon = c.positive("simulation.horizon", Some(&s.horizon), DAY);
        // A horizon that is not a duration stands at its default only so that checking goes on:
        // nothing is judged against it (every action would be "after the horizon").
        let horizon_read = parse_duration(&s.horizon).is_ok();
        if horizon > 3650 * DAY {
            c.fail(
                "simulation.horizon",
                format!("must be at most 10 years, found \"{}\"", s.horizon),
            );
        } else if horizon_read
            && start.as_second() + horizon as i64 > jiff::Timestamp::MAX.as_second()
        {
            // Outputs write every instant as RFC 3339 with a four-digit year; past the last
            // instant that can be written, the `time` column read `+518400s`. The start is
            // told, since a horizon of at most 10 years is ordinary and a start in 9999 is not.
            c.fail(
                "simulation.start",
                format!(
                    "with the horizon (\"{}\") must end by {}, the last instant rollsim can write, found \"{}\"",
                    s.horizon,
                    jiff::Timestamp::MAX.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    s.start
                ),
            );
        }
        let sample_interval = c.positive(
            "simulation.sample_interval",
            s.sample_interval.as_deref(),
            HOUR,
        );
        let exploit_at = s.exploit_at.as_deref().and_then(|text| {
            let (at, _) =
                deployment::signed_at(c, "simulation.exploit_at", text, start.as_second())?;
            if horizon_read && at > horizon as i64 {
                c.warnings.push(format!(
                    "simulation.exploit_at: \"{text}\" is after the horizon ({}): no effect, share_compliant_at_exploit and exposure_after_exploit_device_days are left empty",
                    crate::time::fmt_span(horizon)
                ));
                return None;
            }
            Some(at)
        });
        let mut policies: Vec<Policy> = raw
            .policies
            .iter()
            .map(|(n, p)| policy(c, n, p, start.as_second()))
            .collect();
        if !policies.iter().any(|p| p.name == "default") {
            policies.push(Policy::default_named("default"));
        }
        // The run's start and end, to judge off periods by, when both could be read.
        let run = (start_read && horizon_read && horizon <= 3650 * DAY).then(|| {
            (
                start.as_second(),
                start.as_second().saturating_add(horizon as i64),
            )
        });
        let mut segments = segments(c, raw, &policies, run);
        let (inventory, device_names) =
            match raw.fleet.as_ref().and_then(|f| f.inventory.as_deref()) {
                Some(rel) => {
                    inventory::load(c, "fleet.inventory", base, rel, &mut segments, &policies)
                }
                None => Default::default(),
            };
        warn_unused_policies(c, raw, &policies, &segments);
        if segments.is_empty() {
            c.fail_reference(
                "segments",
                "the scenario needs at least one [[segments]] entry",
            );
        }
        let client = client(c, raw.client.as_ref());
        let start_unix = start.as_second();
        // A horizon that could not be read judges no startDateTime (as it judges no action).
        c.horizon_unix = horizon_read.then(|| start_unix.saturating_add(horizon as i64));
        let catalog = catalog::load(c, raw.catalog.as_ref(), base);
        let side = deployment::service_side(
            c,
            &raw.deployments,
            &raw.groups,
            &raw.actions,
            (&raw.graph_ids, &catalog),
            (&segments, &inventory),
            start_unix,
            base,
        );
        catalog.warn_unused(c);
        warn_assumed_feature_release(c, &side, &segments, &policies, start_unix, horizon);
        let issues = safety::issues(
            c,
            &raw.issues,
            &side.deployments,
            &side.contents,
            &side.content_unknown,
            &segments,
            start_unix,
        );
        let safety = safety::safety(c, raw.safety.as_ref(), start_unix);
        warn_rules_on_a_few_installs(c, &safety, &side.deployments);
        let dep_names: Vec<&str> = side.deployments.iter().map(|d| d.name.as_str()).collect();
        let expect = crate::batch::expect::check(c, "expect", &raw.expect, &dep_names);
        if s.exploit_at.is_none() {
            // Without an exploit instant the metric is empty, and an empty value meets any
            // `at_least` bound: told, as the gate checks nothing.
            for (i, e) in expect.iter().enumerate() {
                if e.metric.contains("exploit") {
                    c.warnings.push(format!(
                        "expect[{i}].metric: {} is empty without [simulation] exploit_at, so this expectation checks nothing",
                        e.metric
                    ));
                }
            }
        }
        if horizon_read {
            let path = match s.sample_interval {
                Some(_) => "simulation.sample_interval",
                None => "simulation",
            };
            warn_timeseries_size(c, path, horizon, sample_interval, &side.deployments);
            if let Some(text) = &s.sample_interval {
                warn_sample_past_horizon(c, (text, sample_interval), (&s.horizon, horizon));
            }
        }
        Scenario {
            name: s.name.clone().unwrap_or_else(|| stem.to_string()),
            description: s.description.clone().unwrap_or_default(),
            start_unix,
            horizon,
            seed: s.seed.unwrap_or(0),
            sample_interval,
            exploit_at,
            client,
            policies,
            segments,
            contents: side.contents,
            deployments: side.deployments,
            groups: side.groups,
            actions: side.actions,
            issues,
            safety,
            expect,
            warnings: Vec::new(),
            inputs: Vec::new(),
            device_names: std::sync::Arc::new(device_names),
        }
    }

    /// The name of device `index` of segment `segment` (0-based): its inventory name as written,
    /// else `"<segment>-<n>"` (n from 1), as audience entries name it. A device `--devices`
    /// added to an inventory's segment has no row: it takes the generated name.
    pub fn device_name(&self, segment: u16, index: u32) -> std::borrow::Cow<'_, str> {
        let seg = usize::from(segment);
        if let Some(n) = self
            .device_names
            .get(seg)
            .and_then(|names| names.get(index as usize))
        {
            return std::borrow::Cow::Borrowed(n);
        }
        let name = self.segments.get(seg).map_or("", |s| s.name.as_str());
        std::borrow::Cow::Owned(format!("{name}-{}", u64::from(index) + 1))
    }

    /// The files it read that a copy of it can sit beside (see [`Scenario::inputs`]), as (path,
    /// bytes), and the paths read in two versions. A path that leaves the scenario's folder
    /// (`../x.json`, absolute) would not resolve from the copy the same way; it is left out
    /// rather than written elsewhere. So is a Graph body that `--set` changed for one deployment
    /// but not for another that reads it: no one copy reruns both.
    pub fn inputs_to_copy(&self) -> (Vec<(&str, &[u8])>, Vec<&str>) {
        let (mut copy, mut versioned): (Vec<(&str, &[u8])>, Vec<&str>) = (Vec::new(), Vec::new());
        for (name, bytes) in &self.inputs {
            let inside = Path::new(name).components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            });
            if self.inputs.iter().filter(|(n, _)| n == name).count() > 1 {
                if !versioned.contains(&name.as_str()) {
                    versioned.push(name);
                }
            } else if inside {
                copy.push((name, bytes));
            }
        }
        (copy, versioned)
    }

    /// Rescales the fleet to `total` devices, keeping each segment's share (largest remainder,
    /// [`crate::fleet::largest_remainder`]); a fleet of no devices has no shares and stays empty.
    pub fn scale_devices(&mut self, total: u64) {
        let weights: Vec<f64> = self.segments.iter().map(|s| f64::from(s.devices)).collect();
        let counts = crate::fleet::largest_remainder(&weights, total);
        for (s, n) in self.segments.iter_mut().zip(counts) {
            s.devices = n.min(u64::from(u32::MAX)) as u32;
        }
    }

    /// Total number of devices.
    pub fn devices(&self) -> u64 {
        self.segments.iter().map(|s| u64::from(s.devices)).sum()
    }

    /// The first kind of entry with more than [`MAX_ITEMS`], as "N kind": a scenario built in
    /// code rather than loaded is not checked otherwise, and a run must not number it.
    pub fn too_many(&self) -> Option<String> {
        [
            ("segments", self.segments.len()),
            ("deployments", self.deployments.len()),
            ("contents", self.contents.len()),
            ("groups", self.groups.len()),
            ("issues", self.issues.len()),
            ("actions", self.actions.len()),
            ("policies", self.policies.len()),
        ]
        .into_iter()
        .find(|(_, n)| *n > MAX_ITEMS)
        .map(|(kind, n)| format!("{n} {kind}"))
    }

    /// The category of deployment `d`'s content.
    pub fn category(&self, d: usize) -> Category {
        self.contents[self.deployments[d].content as usize].category
    }
}

/// An instant field's text: a string, or a native TOML date-time or date (`start =
/// 2026-01-13T18:00:00Z`), taken as its RFC 3339 text so that `parse_instant` judges both alike
/// (and still refuses a date-time without a UTC offset).
struct InstantText(String);

impl<'de> Deserialize<'de> for InstantText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = String;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an instant such as \"2026-01-13T18:00:00Z\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_string())
            }
            // toml hands a native date-time to serde as a one-entry map.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
                toml::value::Datetime::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))
                .map(|t| t.to_string())
            }
        }
        d.deserialize_any(V).map(InstantText)
    }
}

pub(super) fn instant_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    InstantText::deserialize(d).map(|t| t.0)
}

pub(super) fn opt_instant_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Option::<InstantText>::deserialize(d).map(|o| o.map(|t| t.0))
}

/// serde's message `m` about the value at field path `path`, in words that say what to write
/// instead of the names of rollsim's types: the message, and the path of the field it is about.
/// [`serde_message`] of a TOML parse error of `text`, with the key named where the parser does
/// not name it (a key set twice).
pub(crate) fn toml_message(e: &toml::de::Error, text: &str, path: &str) -> (String, String) {
    let m = e.message().trim();
    if m == "duplicate key" {
        let key = e
            .span()
            .and_then(|s| text.get(s))
            .map(|k| k.trim().trim_matches(['[', ']']).trim())
            .filter(|k| !k.is_empty() && !k.contains('\n'));
        if let Some(key) = key {
            return (
                format!(
                    "duplicate key \"{key}\": it is already set above in the same table; keep one of the two"
                ),
                path.to_string(),
            );
        }
    }
    // A native TOML date or time where text belongs: serde sees a map and says so.
    if m.starts_with("invalid type: map, expected a string")
        && let Some(found) = e.span().and_then(|s| text.get(s)).map(str::trim)
        && let Ok(t) = found.parse::<toml::value::Datetime>()
    {
        return (native_time_message(&t, path), path.to_string());
    }
    serde_message(m, path)
}

/// What to write for native TOML date or time `t` written at field `path`, where text belongs
/// (a time of day, a duration, a name): the value found, and the field's kind of text in quotes.
fn native_time_message(t: &toml::value::Datetime, path: &str) -> String {
    let what = match (&t.date, &t.time) {
        (Some(_), Some(_)) => "date-time",
        (Some(_), None) => "date",
        _ => "time",
    };
    let example = match (field_text_kind(path), &t.time) {
        (TextKind::TimeOfDay, Some(time)) if t.date.is_none() => {
            // Hours and minutes: a time of day has no seconds.
            format!("\"{:02}:{:02}\"", time.hour, time.minute)
        }
        (TextKind::TimeOfDay, _) => "a time of day such as \"08:00\"".to_string(),
        (TextKind::Duration, _) => "an ISO 8601 duration such as \"P30D\" or \"PT12H\"".to_string(),
        _ => format!("\"{t}\""),
    };
    format!("found the TOML {what} {t} where text belongs: write {example}, in quotes")
}

/// The kind of text a scenario field holds, by its path.
#[derive(PartialEq)]
enum TextKind {
    TimeOfDay,
    Instant,
    At,
    UtcOffset,
    Duration,
    Other,
}

fn field_text_kind(path: &str) -> TextKind {
    let field = path.rsplit('.').next().unwrap_or(path);
    if path.contains("active_hours")
        || path.contains(".window.")
        || field == "maintenance_time"
        || path.ends_with("availability.start")
        || path.ends_with("availability.end")
    {
        TextKind::TimeOfDay
    } else if field == "start" {
        TextKind::Instant
    } else if field == "at" {
        TextKind::At
    } else if field == "utc_offset" {
        TextKind::UtcOffset
    } else if DURATION_FIELDS.contains(&field) {
        TextKind::Duration
    } else {
        TextKind::Other
    }
}

pub(crate) fn serde_message(m: &str, path: &str) -> (String, String) {
    let (message, at) = match table_expected(m, path) {
        Some((field, found)) => (format!("found {found} where a table belongs"), field),
        None => (improve_serde_message(m), path.to_string()),
    };
    (message + &text_hint(m, path), at)
}

/// Fields whose value is a table (a `Raw*` struct), by their path as [`table_field`] writes it,
/// with a table to write there.
const TABLES: [(&str, &str); 21] = [
    (
        "simulation",
        r#"{ start = "2026-01-13T18:00:00Z", horizon = "P30D" } (or a [simulation] section)"#,
    ),
    ("fleet", "{ devices = 10000 } (or a [fleet] section)"),
    (
        "client",
        r#"{ scan_interval = "PT22H" } (or a [client] section)"#,
    ),
    ("client.quality", r#"{ install_time = "PT30M" }"#),
    ("client.feature", r#"{ install_time = "PT1H" }"#),
    (
        "policies.*",
        r#"{ quality_deadline = "P2D" } (or a [policies.NAME] section)"#,
    ),
    (
        "policies.*.active_hours",
        r#"{ start = "08:00", end = "17:00" }"#,
    ),
    (
        "segments[]",
        r#"{ name = "office", devices = 1000 } (or a [[segments]] section)"#,
    ),
    ("segments[].availability", r#"{ profile = "office" }"#),
    (
        "segments[].availability.window",
        r#"{ start = "07:00", end = "23:00" }"#,
    ),
    (
        "segments[].availability.off[]",
        r#"{ from = "2026-12-24", to = "2027-01-01" }"#,
    ),
    ("groups.*", r#"{ segments = ["office"], share = 0.05 }"#),
    (
        "deployments[]",
        r#"{ name = "f", content = { "@odata.type" = "featureUpdateReference", version = "24H2" } } (or a [[deployments]] section)"#,
    ),
    (
        "deployments[].audience",
        r#"{ members = ["office"], exclusions = ["pilot"] }"#,
    ),
    (
        "actions[]",
        r#"{ at = "P3D", deployment = "f", do = "pause" } (or an [[actions]] section)"#,
    ),
    (
        "issues[]",
        r#"{ name = "gfx", content = "f", when = 'driver = "gfx-31.0"', rollback = 0.1 } (or an [[issues]] section)"#,
    ),
    (
        "issues[].known",
        r#"{ at = "P10D" } or { after_devices = 50 }"#,
    ),
    (
        "issues[].release",
        r#"{ at = "P14D" } or { after = "P14D" }"#,
    ),
    (
        "safety",
        r#"{ signal_delay = "P1D" } (or a [safety] section)"#,
    ),
    ("safety.likely_issues", "{ precision = 0.5, recall = 0.5 }"),
    (
        "expect[]",
        r#"{ deployment = "f", metric = "hours_to_95", at_most = 72 } (or an [[expect]] section)"#,
    ),
];

/// Sweep fields whose value is a table, as [`TABLES`] lists the scenario's.
const SWEEP_TABLES: [(&str, &str); 1] = [(
    "variants[]",
    r#"{ name = "cautious", set = { "simulation.seed" = 2 } } (or a [[variants]] section)"#,
)];

/// Field path `path` as [`TABLES`] lists it: indexes as `[]`, and the names of policies and
/// groups, which the file chooses, as `*`.
fn table_field(path: &str) -> String {
    let mut out = String::new();
    let mut chars = path.chars();
    while let Some(ch) = chars.next() {
        out.push(ch);
        if ch == '[' {
            for c in chars.by_ref() {
                if c == ']' {
                    out.push(']');
                    break;
                }
            }
        }
    }
    for named in ["policies.", "groups."] {
        if let Some(rest) = out.strip_prefix(named) {
            let tail = rest.find('.').map_or("", |i| &rest[i..]);
            out = format!("{named}*{tail}");
        }
    }
    out
}

/// When serde's message `m` about field path `path` says that a table belongs where something
/// else was written: the path of the table's field and what was found there. serde names the
/// table by rollsim's type (`expected struct RawHours`); and a list where a table belongs is read
/// as the table's fields in order (TOML allows it), so the error is about its first element that
/// does not fit (`audience[0]` for `audience = ["office"]`).
fn table_expected(m: &str, path: &str) -> Option<(String, String)> {
    if m.contains("expected struct ") {
        let found = match m.strip_prefix("invalid type: ") {
            _ if m.starts_with("invalid length ") => "a list".to_string(),
            Some(rest) => {
                let what = rest.rsplit_once(", expected ").map_or(rest, |(w, _)| w);
                match what.split_once(' ') {
                    Some(("string", v)) => format!("the string {v}"),
                    Some(("integer" | "floating", v)) => {
                        format!(
                            "the number {}",
                            v.trim_start_matches("point ").trim_matches('`')
                        )
                    }
                    Some(("boolean", v)) => v.trim_matches('`').to_string(),
                    _ if what == "sequence" => "a list".to_string(),
                    _ => format!("a {what}"),
                }
            }
            None => "another value".to_string(),
        };
        return Some((path.to_string(), found));
    }
    let parent = path.strip_suffix(']')?.rsplit_once('[')?.0;
    let field = table_field(parent);
    TABLES
        .iter()
        .chain(&SWEEP_TABLES)
        .any(|(f, _)| *f == field)
        .then(|| (parent.to_string(), "a list".to_string()))
}

/// Makes serde's wording friendlier where it is cryptic.
fn improve_serde_message(m: &str) -> String {
    if m.starts_with("data did not match any variant of untagged enum RawDist") {
        return "expected a duration such as \"PT10M\" or a table such as { distribution = \"lognormal\", median = \"PT10M\", sigma = 0.5 }".into();
    }
    if m.starts_with("data did not match any variant of untagged enum RawAttr") {
        return "expected a value (\"L7\"), a list ([\"L7\", \"L9\"]) or { values = [...], weights = [...] }".into();
    }
    if let Some(rest) = m.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once("`, expected ")
    {
        let names: Vec<&str> = expected
            .split(['`', ',', ' '])
            .filter(|s| !s.is_empty() && *s != "one" && *s != "of" && *s != "or")
            .collect();
        // The durations and rollback rate are per category; DESIGN's sketch put them in
        // `[client]` itself, so say where they go.
        let per_category = [
            "download_time",
            "install_time",
            "restart_time",
            "rollback",
            "retry_after_rollback",
            "max_retries_after_rollback",
        ]
        .contains(&field)
            && names.contains(&"quality")
            && names.contains(&"feature");
        // Holidays by another name: availability takes them as dated `off` periods.
        let holidays = [
            "holidays",
            "holiday",
            "closed",
            "closures",
            "closure",
            "freeze",
            "vacation",
            "off_days",
            "dates_off",
            "days_off",
        ]
        .contains(&field.to_ascii_lowercase().as_str())
            && names.contains(&"off");
        // Intune assigns a ring's policy to a group; rollsim gives policies to segments.
        let group_policy =
            ["policy", "policies", "ring"].contains(&field) && names.contains(&"excluding");
        let hint = if group_policy {
            " (a policy belongs to a segment, not a group: give the ring's devices a segment of their own with policy = \"NAME\", or a policy column in a fleet inventory)".to_string()
        } else if holidays {
            r#" (dated holidays are off periods: off = [{ from = "2026-12-24", to = "2027-01-01" }])"#
                .to_string()
        } else if per_category {
            format!(
                " ({field} is set per category: [client.quality] {field} = … and [client.feature] {field} = …)"
            )
        } else {
            suggest(field, &names)
        };
        return format!("unknown field \"{field}\"{hint}; expected {expected}");
    }
    // serde names Rust types; say what to write instead.
    m.replace("expected a sequence", "expected a list")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected u32", "expected a whole number ≥ 0")
}

/// What to write instead: a table where a table belongs (`window = "07:00-23:00"` → `{ start =
/// "07:00", end = "23:00" }`), or text for a bare number where rollsim reads text (durations,
/// instants and times of day are quoted: `horizon = 45` → `"P45D"`), by the field at `path`.
fn text_hint(m: &str, path: &str) -> String {
    if let Some((field, found)) = table_expected(m, path) {
        let field = table_field(&field);
        // Hours written as one range of text: the same hours as a table.
        let range = found
            .strip_prefix("the string \"")
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.split_once(['-', '–']))
            .map(|(a, b)| (a.trim(), b.trim()))
            .filter(|(a, b)| parse_time_of_day(a).is_ok() && parse_time_of_day(b).is_ok());
        return match (
            range,
            field.ends_with("window") || field.ends_with("active_hours"),
        ) {
            (Some((a, b)), true) => {
                format!(": write a table such as {{ start = \"{a}\", end = \"{b}\" }}")
            }
            _ => TABLES
                .iter()
                .chain(&SWEEP_TABLES)
                .find(|(f, _)| *f == field)
                .map_or(String::new(), |(_, t)| {
                    format!(": write a table such as {t}")
                }),
        };
    }
    // One table where a list of such tables belongs (`off = { from = … }`).
    if m.starts_with("invalid type: map, expected a sequence") {
        let item = format!("{}[]", table_field(path));
        if let Some((_, t)) = TABLES
            .iter()
            .find(|(f, t)| *f == item && !t.contains(" (or "))
        {
            return format!(": write a list of tables such as [{t}]");
        }
    }
    // One name where a list of names belongs.
    if let Some(v) = m
        .strip_prefix("invalid type: string ")
        .and_then(|r| r.strip_suffix(", expected a sequence"))
    {
        return format!(": write a list such as [{v}]");
    }
    let Some(n) = m
        .strip_prefix("invalid type: integer `")
        .or_else(|| m.strip_prefix("invalid type: floating point `"))
        .filter(|_| m.ends_with("expected a string"))
        .and_then(|r| r.split('`').next())
    else {
        return String::new();
    };
    let example = match field_text_kind(path) {
        TextKind::TimeOfDay => "a time of day such as \"08:00\"".to_string(),
        TextKind::Instant => "an RFC 3339 instant such as \"2026-01-13T18:00:00Z\"".to_string(),
        TextKind::At => format!("a duration after the start such as \"P{n}D\", or an instant"),
        TextKind::UtcOffset => "a UTC offset such as \"+01:00\" or \"-05:00\"".to_string(),
        TextKind::Duration => format!("an ISO 8601 duration such as \"P{n}D\" or \"PT{n}H\""),
        // A name or other text: "expected a string" says it.
        TextKind::Other => return String::new(),
    };
    format!(": write {example}, in quotes")
}

/// The scenario's fields that hold a duration (as text).
const DURATION_FIELDS: [&str; 20] = [
    "horizon",
    "sample_interval",
    "scan_interval",
    "scan_jitter",
    "median",
    "mean",
    "min",
    "max",
    "value",
    "quality_deferral",
    "feature_deferral",
    "quality_deadline",
    "feature_deadline",
    "quality_grace",
    "feature_grace",
    "active_hours_max_range",
    "jitter",
    "session_length",
    "after",
    "signal_delay",
];

#[cfg(test)]
mod tests {
    #[test]
    fn a_bare_number_where_text_belongs_is_told_what_to_write() {
        let m = "invalid type: integer `45`, expected a string";
        assert_eq!(
            super::text_hint(m, "simulation.horizon"),
            ": write an ISO 8601 duration such as \"P45D\" or \"PT45H\", in quotes"
        );
        assert!(super::text_hint(m, "policies.a.active_hours.start").contains("\"08:00\""));
        assert!(super::text_hint(m, "simulation.start").contains("instant"));
        assert!(super::text_hint(m, "segments[0].availability.window.end").contains("\"08:00\""));
        assert!(super::text_hint(m, "policies.a.quality_grace").contains("\"P45D\""));
        // A number where a name belongs: "expected a string" says all there is to say.
        assert_eq!(
            super::text_hint(m, "deployments[0].audience.members[1]"),
            ""
        );
        assert_eq!(super::text_hint(m, "segments[0].name"), "");
        let one = "invalid type: string \"pilot\", expected a sequence";
        assert_eq!(
            super::serde_message(one, "deployments[0].audience.exclusions").0,
            "invalid type: string \"pilot\", expected a list: write a list such as [\"pilot\"]"
        );
        assert_eq!(
            super::text_hint("invalid type: string \"x\", expected u64", "fleet.devices"),
            ""
        );
    }

    #[test]
    fn a_value_where_a_table_belongs_is_told_what_table_to_write_never_a_type_name() {
        let sim = "[simulation]\nstart = \"2026-01-13T18:00:00Z\"\nhorizon = \"P10D\"\n";
        let deployment = r#"deployments = [{ name = "q", content = { "@odata.type" = "featureUpdateReference", version = "24H2" } }]"#;
        let issue = r#"name = "i", content = "q", when = 'model = "x"'"#;
        let cases = [
            ("simulation = \"x\"".to_string(), "simulation"),
            ("fleet = 3".into(), "fleet"),
            ("client = \"x\"".into(), "client"),
            ("client = { quality = \"x\" }".into(), "client.quality"),
            ("client = { feature = 1 }".into(), "client.feature"),
            ("policies = { a = \"x\" }".into(), "policies.a"),
            ("policies = { a = { active_hours = \"x\" } }".into(), "policies.a.active_hours"),
            ("segments = [\"a\"]".into(), "segments[0]"),
            (
                "segments = [{ name = \"a\", devices = 1, availability = \"office\" }]".into(),
                "segments[0].availability",
            ),
            (
                "segments = [{ name = \"a\", devices = 1, availability = { profile = \"laptop\", window = true } }]".into(),
                "segments[0].availability.window",
            ),
            (
                "segments = [{ name = \"a\", devices = 1, availability = { profile = \"laptop\", off = [\"2026-12-24\"] } }]".into(),
                "segments[0].availability.off[0]",
            ),
            ("groups = { g = \"x\" }".into(), "groups.g"),
            ("deployments = [\"a\"]".into(), "deployments[0]"),
            (
                "deployments = [{ name = \"q\", audience = \"x\" }]".into(),
                "deployments[0].audience",
            ),
            (format!("actions = [2]\n{deployment}"), "actions[0]"),
            ("issues = [\"a\"]".into(), "issues[0]"),
            (format!("issues = [{{ {issue}, known = \"P3D\" }}]"), "issues[0].known"),
            (format!("issues = [{{ {issue}, release = 1.5 }}]"), "issues[0].release"),
            ("safety = \"x\"".into(), "safety"),
            ("safety = { likely_issues = \"x\" }".into(), "safety.likely_issues"),
            ("expect = [\"a\"]".into(), "expect[0]"),
        ];
        let mut covered = Vec::new();
        for (line, path) in &cases {
            let text = match path.starts_with("simulation") {
                true => line.clone(),
                false => format!("{line}\n{sim}"),
            };
            let p = problems(&text);
            assert_eq!(p[0].path, *path, "{text}: {p:?}");
            assert!(!p[0].message.contains("Raw"), "{p:?}");
            assert!(
                p[0].message
                    .contains("where a table belongs: write a table such as {"),
                "{p:?}"
            );
            covered.push(table_field(path));
        }
        let mut listed: Vec<String> = TABLES.iter().map(|(f, _)| f.to_string()).collect();
        covered.sort();
        listed.sort();
        assert_eq!(covered, listed, "every table field is tried");
    }

    #[test]
    fn a_list_where_a_table_belongs_is_reported_at_the_field_not_its_first_element() {
        let text = MINIMAL.replace(
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }",
            "releaseDateTime = \"2026-01-13T00:00:00Z\" }\naudience = [\"all\"]",
        );
        let p = problems(&text);
        assert_eq!(p[0].path, "deployments[0].audience");
        assert!(
            p[0].message
                .starts_with("found a list where a table belongs: write a table such as { members"),
            "{p:?}"
        );
        // An element of a list that is a list is no table field.
        let (m, at) = serde_message(
            "invalid type: integer `1`, expected a string",
            "deployments[0].audience.members[1]",
        );
        assert_eq!(
            (m.as_str(), at.as_str()),
            (
                "invalid type: integer `1`, expected a string",
                "deployments[0].audience.members[1]"
            )
        );
    }

    #[test]
    fn hours_written_as_one_range_of_text_are_told_as_the_same_hours_in_a_table() {
        let m = "invalid type: string \"07:00-22:30\", expected struct RawHours";
        assert_eq!(
            serde_message(m, "segments[1].availability.window"),
            (
                "found the string \"07:00-22:30\" where a table belongs: write a table such as { start = \"07:00\", end = \"22:30\" }".to_string(),
                "segments[1].availability.window".to_string()
            )
        );
        let m = "invalid type: string \"9 to 5\", expected struct RawHours";
        assert!(
            serde_message(m, "policies.ring1.active_hours")
                .0
                .ends_with("{ start = \"08:00\", end = \"17:00\" }")
        );
    }

    #[test]
    fn a_name_cut_short_or_lengthened_is_suggested_though_many_letters_differ() {
        let metrics = ["hours_to_50", "hours_to_95", "forced_restarts"];
        assert_eq!(
            super::suggest("hours_to_95_percent", &metrics),
            " (did you mean \"hours_to_95\"?)"
        );
        assert_eq!(
            super::suggest(
                "expeditedQualityUpdate",
                &["expeditedQualityUpdateReference"]
            ),
            " (did you mean \"expeditedQualityUpdateReference\"?)"
        );
        // Short prefixes say nothing.
        assert_eq!(super::suggest("hou", &metrics), "");
        assert_eq!(super::suggest("completely_else", &metrics), "");
    }

    use super::*;

    #[test]
    fn a_message_starts_with_a_path_even_when_a_quoted_key_in_it_has_spaces() {
        assert_eq!(
            path_head("graph_ids.\"String (identifier)\": no Graph body names this id"),
            Some("graph_ids.\"String (identifier)\"")
        );
        assert_eq!(path_head("segments[1].name: x"), Some("segments[1].name"));
        assert_eq!(path_head("groups \"a\" and \"b\": overlap"), None);
        assert_eq!(path_head("no path here"), None);
    }

    const MINIMAL: &str = r##"
[simulation]
start = "2026-01-13T18:00:00Z"
horizon = "P10D"

[[segments]]
name = "all"
devices = 10

[[deployments]]
name = "q"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-13T00:00:00Z" }
"##;

    fn parse(text: &str) -> Result<Scenario, Error> {
        Scenario::parse(text, "test.toml", "test", Path::new("."))
    }

    #[test]
    fn a_deployment_is_monitored_with_rules_at_creation_or_set_later() {
        let text = |settings: &str, at: &str| {
            format!(
                "[simulation]\nstart = \"2026-01-13T18:00:00Z\"\nhorizon = \"P10D\"\n[[segments]]\nname = \"all\"\ndevices = 10\n[[deployments]]\nname = \"f\"\ncontent = {{ \"@odata.type\" = \"featureUpdateReference\", version = \"24H2\" }}\n{settings}\n[[deployments]]\nname = \"g\"\ncontent = {{ \"@odata.type\" = \"featureUpdateReference\", version = \"24H2\" }}\n[[actions]]\nat = \"{at}\"\ndeployment = \"g\"\ndo = \"set\"\nsettings = {{ monitoring = {{ monitoringRules = [{{ signal = \"rollback\", threshold = 20, action = \"pauseDeployment\" }}] }} }}\n"
            )
        };
        let rule = "settings = { monitoring = { monitoringRules = [{ signal = \"rollback\", threshold = 5, action = \"alertError\" }] } }";
        let sc = parse(&text(rule, "P2D")).expect("valid");
        assert!(sc.monitored(0), "a rule at creation");
        assert!(sc.monitored(1), "a rule set on day 2");
        assert!(!sc.monitored(2), "no such deployment");
        let sc = parse(&text("", "P2D")).expect("valid");
        assert!(!sc.monitored(0), "no rule");
    }

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text) {
            Err(Error::Input(e)) => e.problems,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn a_warning_quoting_a_value_with_a_line_break_stays_one_line() {
        let mut w = vec!["segments[0].name: found \"a\nb\"".to_string()];
        locate_warnings(&mut w, "f.toml", true, |_| (3, 4));
        assert_eq!(w, ["f.toml:3:4: segments[0].name: found \"a\\nb\""]);
    }

    #[test]
    fn a_native_toml_time_or_date_where_text_belongs_is_named_with_what_to_write_in_quotes() {
        let text = MINIMAL.replace(
            "[[segments]]",
            "[policies.default]\nmaintenance_time = 03:00:00\n\n[[segments]]",
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "policies.default.maintenance_time");
        assert_eq!((p[0].line, p[0].column), (7, 20));
        assert_eq!(
            p[0].message,
            "found the TOML time 03:00:00 where text belongs: write \"03:00\", in quotes"
        );
        let p = problems(&MINIMAL.replace("\"P10D\"", "12:00:00"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "simulation.horizon");
        assert!(
            p[0].message.starts_with(
                "found the TOML time 12:00:00 where text belongs: write an ISO 8601 duration such as"
            ),
            "{p:?}"
        );
        let p = problems(&MINIMAL.replace("\"P10D\"", "2026-02-01"));
        assert!(
            p[0].message.starts_with("found the TOML date 2026-02-01 "),
            "{p:?}"
        );
        // Text of another kind: the value in quotes.
        let p = problems(&MINIMAL.replace("\"all\"", "2026-02-01T10:00:00"));
        assert_eq!(p[0].path, "segments[0].name");
        assert!(
            p[0].message
                .ends_with("write \"2026-02-01T10:00:00\", in quotes"),
            "{p:?}"
        );
    }

    #[test]
    fn a_native_toml_date_time_or_date_is_read_like_the_same_instant_written_as_a_string() {
        let quoted = parse(MINIMAL).unwrap();
        let native = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "2026-01-13T18:00:00Z");
        assert_eq!(parse(&native).unwrap().start_unix, quoted.start_unix);
        let shifted = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "2026-01-13T19:00:00+01:00");
        assert_eq!(parse(&shifted).unwrap().start_unix, quoted.start_unix);
        let date = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "2026-01-13");
        let midnight = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "\"2026-01-13\"");
        assert_eq!(
            parse(&date).unwrap().start_unix,
            parse(&midnight).unwrap().start_unix
        );
    }

    #[test]
    fn a_native_toml_date_time_without_offset_is_refused_for_its_unknown_time_zone() {
        let local = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "2026-01-13T18:00:00");
        let p = problems(&local);
        assert_eq!(p[0].path, "simulation.start");
        assert!(p[0].message.contains("no UTC offset"), "{}", p[0].message);
        assert_eq!((p[0].line, p[0].column), (3, 9));
        let wrong = MINIMAL.replace("\"2026-01-13T18:00:00Z\"", "5");
        let p = problems(&wrong);
        assert!(
            p[0].message.contains("\"2026-01-13T18:00:00Z\""),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn a_horizon_that_is_no_duration_is_the_only_problem_not_every_action_after_it() {
        let action = "\n[[actions]]\nat = \"P2D\"\ndeployment = \"q\"\ndo = \"pause\"\n";
        let p = problems(&format!(
            "{}{action}",
            MINIMAL.replace("\"P10D\"", "\"P2\"")
        ));
        let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["simulation.horizon"]);
        // A horizon that is read still judges the actions.
        let p = problems(&format!(
            "{}{action}",
            MINIMAL.replace("\"P10D\"", "\"P1D\"")
        ));
        assert_eq!(p[0].path, "actions[0].at");
    }

    #[test]
    fn more_entries_of_a_kind_than_a_run_can_number_are_refused_before_anything_is_built() {
        let with_groups = |n: usize| {
            let mut t = format!("{MINIMAL}\n[groups]\n");
            for i in 0..n {
                t.push_str(&format!("g{i} = {{}}\n"));
            }
            t
        };
        let p = problems(&with_groups(MAX_ITEMS + 1));
        assert_eq!(p.len(), 1, "{:?}", &p[..p.len().min(3)]);
        assert_eq!(p[0].path, "groups");
        assert_eq!(p[0].line, 14);
        assert_eq!(
            p[0].message,
            "a scenario holds at most 65535 groups (a run numbers them in 16 bits), found 65536"
        );
        // At the limit the count is no problem.
        let raw: RawScenario = toml::from_str(&with_groups(MAX_ITEMS)).unwrap();
        assert!(!too_many(&mut Checker::default(), &raw));
        // A list is refused at its first entry past the limit.
        let mut t = MINIMAL.to_string();
        for _ in 0..MAX_ITEMS {
            t.push_str("[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"pause\"\n");
        }
        t.push_str("[[actions]]\nat = \"P2D\"\ndeployment = \"q\"\ndo = \"resume\"\n");
        let p = problems(&t);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "actions[65535]");
        assert_eq!(p[0].line, 13 + 4 * MAX_ITEMS, "the last [[actions]]");
        assert_eq!(
            p[0].message,
            "a scenario holds at most 65535 actions (a run numbers them in 16 bits), found 65536"
        );
    }

    #[test]
    fn a_lognormal_sigma_above_5_is_refused_with_the_bound_and_the_value() {
        let with = |sigma: &str| {
            format!(
                "{MINIMAL}\n[client.quality]\nrestart_time = {{ distribution = \"lognormal\", median = \"PT5M\", sigma = {sigma} }}\n"
            )
        };
        let p = problems(&with("60.0"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "client.quality.restart_time.sigma");
        assert_eq!(p[0].line, 15, "{p:?}");
        assert_eq!(
            p[0].message,
            "must be at most 5 (at 5 one draw in 20 already takes over 3 700 times the median), found 60"
        );
        assert!(parse(&with("5.0")).is_ok());
        assert!(parse(&with("0")).is_ok());
    }

    #[test]
    fn attribute_weights_that_do_not_add_up_to_1_are_refused_with_the_sum_as_shares_are() {
        let with = |weights: &str| {
            MINIMAL.replace(
                "devices = 10",
                &format!(
                    "devices = 10\nattributes = {{ driver = {{ values = [\"a\", \"b\"], weights = {weights} }} }}"
                ),
            )
        };
        let p = problems(&with("[0.7, 0.4]"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "segments[0].attributes.driver.weights");
        assert_eq!(
            p[0].message,
            "weights must add up to 1, found a sum of 1.1 (a 0.7 + b 0.4)"
        );
        // Within rounding, and a weight of 0, are fine; all zero is its own problem, told once.
        assert!(parse(&with("[0.1, 0.9000000001]")).is_ok());
        assert!(parse(&with("[1, 0]")).is_ok());
        let p = problems(&with("[0, 0]"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("must not all be zero"), "{p:?}");
    }

    #[test]
    fn a_run_that_would_end_past_the_year_9999_is_refused_at_its_start() {
        let late = MINIMAL.replace("2026-01-13T18:00:00Z", "9999-12-25T00:00:00Z");
        let p = problems(&late);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].path.as_str(), p[0].line), ("simulation.start", 3));
        assert!(
            p[0].message
                .contains("(\"P10D\") must end by 9999-12-30T22:00:00Z")
                && p[0].message.contains("found \"9999-12-25T00:00:00Z\""),
            "{p:?}"
        );
        // Ending at the last instant that can be written is fine.
        let last = MINIMAL.replace("2026-01-13T18:00:00Z", "9999-12-20T22:00:00Z");
        assert!(parse(&last).is_ok());
    }

    #[test]
    fn a_time_of_day_out_of_range_is_one_problem_not_also_an_order_problem() {
        let laptop =
            r#"availability = { profile = "laptop", window = { start = "07:00", end = "25:00" } }"#;
        let office = r#"availability = { profile = "office", start = "25:00", end = "07:00" }"#;
        for (line, bad) in [(laptop, "window.end"), (office, "start")] {
            let p = problems(&MINIMAL.replace("devices = 10", &format!("devices = 10\n{line}")));
            assert_eq!(p.len(), 1, "{p:?}");
            assert_eq!(p[0].path, format!("segments[0].availability.{bad}"));
            assert!(p[0].message.contains("hours must be 0–24"), "{p:?}");
        }
        // Active hours: neither a span of 0 h nor one over the maximum follows from a bad time.
        for hours in [
            r#"start = "25:00", end = "00:00""#,
            r#"start = "25:00", end = "20:00""#,
        ] {
            let p = problems(&format!(
                "{MINIMAL}\n[policies.default]\nactive_hours = {{ {hours} }}\n"
            ));
            assert_eq!(p.len(), 1, "{p:?}");
            assert_eq!(p[0].path, "policies.default.active_hours.start");
        }
        // Both times read: the order is still judged.
        let p = problems(&MINIMAL.replace(
            "devices = 10",
            "devices = 10\navailability = { profile = \"laptop\", window = { start = \"09:00\", end = \"08:00\" } }",
        ));
        assert!(
            p[0].message.contains("must be after the window start"),
            "{p:?}"
        );
    }

    #[test]
    fn a_sample_interval_that_would_write_over_10_million_timeseries_rows_is_a_located_warning() {
        let with = |lines: &str| {
            let text = MINIMAL.replace("horizon = \"P10D\"", lines);
            parse(&text).expect("loads").warnings
        };
        // 10 days at 1 s: 864 001 samples × 1 deployment × 12 states.
        assert_eq!(
            with("horizon = \"P10D\"\nsample_interval = \"PT1S\""),
            [
                "test.toml:5:19: simulation.sample_interval: timeseries.csv would have about 10.4 million rows (864001 samples × 1 deployment × 12 states), about 550 MB: a sample_interval of \"PT1M\" or more keeps it under 10 million rows"
            ]
        );
        assert!(with("horizon = \"P10D\"\nsample_interval = \"PT2S\"").is_empty());
        // The default interval stays under for one deployment over the longest horizon.
        let w = with("horizon = \"P3650D\"");
        assert!(w.is_empty(), "87 601 samples × 12 = 1 051 212 rows: {w:?}");
    }

    #[test]
    fn a_minimal_scenario_loads_with_documented_defaults() {
        let sc = parse(MINIMAL).unwrap();
        assert_eq!(sc.devices(), 10);
        assert_eq!(sc.horizon, 10 * DAY);
        assert_eq!(sc.sample_interval, HOUR);
        assert_eq!(sc.client.scan_interval, 22 * HOUR);
        assert_eq!(sc.policies[0].quality_deadline, Some(7 * DAY));
        assert_eq!(sc.name, "test");
    }

    #[test]
    fn an_unknown_field_names_its_line_and_suggests_the_right_name() {
        let text = MINIMAL.replace("devices = 10", "devices = 10\npolcy = \"x\"");
        let p = &problems(&text)[0];
        assert_eq!(p.line, 9);
        assert_eq!(p.path, "segments[0].polcy");
        assert!(
            p.message.contains("did you mean \"policy\""),
            "{}",
            p.message
        );
    }

    #[test]
    fn a_pipeline_duration_written_in_client_itself_is_told_where_it_goes() {
        let text = format!("{MINIMAL}\n[client]\ninstall_time = \"PT15M\"\n");
        let p = &problems(&text)[0];
        assert_eq!(p.path, "client.install_time");
        assert!(
            p.message.contains(
                "set per category: [client.quality] install_time = … and [client.feature]"
            ),
            "{}",
            p.message
        );
    }

    #[test]
    fn a_maintenance_time_on_a_policy_with_both_deadlines_is_a_warning_of_no_effect() {
        let with = format!("{MINIMAL}\n[policies.default]\nmaintenance_time = \"20:00\"\n");
        let mut c = Checker::default();
        let raw: RawPolicy = toml::from_str("maintenance_time = \"20:00\"").unwrap();
        let p = policy(&mut c, "default", &raw, 0);
        assert_eq!(p.maintenance_time, 20 * HOUR);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("no effect"), "{:?}", c.warnings);
        let raw: RawPolicy =
            toml::from_str("maintenance_time = \"20:00\"\nfeature_deadline = \"none\"").unwrap();
        let mut c = Checker::default();
        policy(&mut c, "default", &raw, 0);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(parse(&with).is_ok());
    }

    #[test]
    fn a_deadline_clock_is_read_and_on_a_policy_without_deadlines_is_a_warning_of_no_effect() {
        let mut c = Checker::default();
        let raw: RawPolicy = toml::from_str("deadline_clock = \"offer\"").unwrap();
        let p = policy(&mut c, "default", &raw, 0);
        assert_eq!(p.deadline_clock, DeadlineClock::Offer);
        assert!(p.quality_deadline_from_offer());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let raw: RawPolicy = toml::from_str(
            "deadline_clock = \"offer\"\nquality_deadline = \"none\"\nfeature_deadline = \"none\"",
        )
        .unwrap();
        let p = policy(&mut c, "default", &raw, 0);
        assert!(!p.quality_deadline_from_offer());
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("no effect"), "{:?}", c.warnings);
    }

    #[test]
    fn several_problems_are_reported_together_in_file_order() {
        let text = MINIMAL
            .replace("horizon = \"P10D\"", "horizon = \"-P1D\"")
            .replace("devices = 10", "devices = 10\nutc_offset = \"5\"");
        let ps = problems(&text);
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].path, "simulation.horizon");
        assert!(ps[0].message.contains("negative") && ps[0].message.contains("-P1D"));
        assert_eq!(ps[1].path, "segments[0].utc_offset");
    }

    #[test]
    fn shares_must_add_up_and_are_rounded_to_the_fleet_size() {
        let ok = MINIMAL
            .replace(
                "devices = 10",
                "share = 0.5\n[[segments]]\nname = \"b\"\nshare = 0.5",
            )
            .replace("[simulation]", "[fleet]\ndevices = 7\n[simulation]");
        assert_eq!(parse(&ok).unwrap().devices(), 7);
        let bad = ok.replace("share = 0.5\n[[segments]]", "share = 0.4\n[[segments]]");
        let p = &problems(&bad)[0];
        assert_eq!(p.path, "segments[0].share");
        assert!(p.message.contains("add up to 1"));
    }

    #[test]
    fn an_unknown_availability_profile_is_named_with_a_suggestion() {
        let text = MINIMAL.replace(
            "devices = 10",
            "devices = 10\navailability = { profile = \"ofice\" }",
        );
        let p = &problems(&text)[0];
        assert_eq!(p.path, "segments[0].availability.profile");
        assert!(p.message.contains("\"office\""), "{}", p.message);
    }

    #[test]
    fn active_hours_must_span_more_than_nothing_and_at_most_the_max_range() {
        let with = |policy: &str| {
            MINIMAL.replace(
                "[[segments]]",
                &format!("[policies.default]\n{policy}\n\n[[segments]]"),
            )
        };
        // 18 h wrapping past midnight is the longest the default max range allows.
        let sc = parse(&with(
            r#"active_hours = { start = "12:00", end = "06:00" }"#,
        ))
        .unwrap();
        assert_eq!(sc.policies[0].active_start, 12 * HOUR);
        let p = &problems(&with(
            r#"active_hours = { start = "11:00", end = "06:00" }"#,
        ))[0];
        assert_eq!(p.path, "policies.default.active_hours");
        assert!(
            p.message.contains("at most 18 h") && p.message.contains("19 h"),
            "{}",
            p.message
        );
        let p = &problems(&with(
            r#"active_hours = { start = "09:00", end = "09:00" }"#,
        ))[0];
        assert!(p.message.contains("more than 0 h"), "{}", p.message);
        let text = with(
            "active_hours = { start = \"08:00\", end = \"18:00\" }\nactive_hours_max_range = \"PT8H\"",
        );
        let p = &problems(&text)[0];
        assert!(p.message.contains("at most 8 h"), "{}", p.message);
        let p = &problems(&with(r#"active_hours_max_range = "PT20H""#))[0];
        assert_eq!(p.path, "policies.default.active_hours_max_range");
        assert!(p.message.contains("PT20H"), "{}", p.message);
        let p = &problems(&with(r#"active_hours_max_range = "PT8H""#))[0];
        assert!(p.message.contains("default active hours"), "{}", p.message);
        assert!(parse(&with(r#"active_hours_max_range = "PT9H""#)).is_ok());
    }

    #[test]
    fn a_pause_may_end_at_most_35_days_after_the_start() {
        let with = |policy: &str| {
            MINIMAL.replace(
                "[[segments]]",
                &format!("[policies.default]\n{policy}\n\n[[segments]]"),
            )
        };
        let sc = parse(&with(r#"quality_pause_until = "P35D""#)).unwrap();
        assert_eq!(sc.policies[0].quality_pause_until, 35 * DAY);
        let p = &problems(&with(r#"feature_pause_until = "2026-02-18T00:00:00Z""#))[0];
        assert_eq!(p.path, "policies.default.feature_pause_until");
        assert!(
            p.message.contains("at most 35 days") && p.message.contains("2026-02-18T00:00:00Z"),
            "{}",
            p.message
        );
    }

    #[test]
    fn a_policy_reference_must_exist() {
        let text = MINIMAL.replace("devices = 10", "devices = 10\npolicy = \"ring9\"");
        let p = &problems(&text)[0];
        assert_eq!(p.path, "segments[0].policy");
        assert!(p.message.contains("ring9"));
    }

    #[test]
    fn a_policy_no_segment_uses_is_a_warning_at_its_table_and_default_never_is() {
        let text = format!(
            "{MINIMAL}\n[policies.default]\nquality_deadline = \"P3D\"\n\n[policies.laptops]\nquality_deadline = \"P5D\"\n"
        );
        let sc = parse(&text).expect("loads");
        assert_eq!(
            sc.warnings,
            [
                "test.toml:17:1: policies.laptops: no segment uses this policy (segments take \"default\" unless they set policy = \"laptops\")"
            ]
        );
        // The normal case: a segment names it (and `default`, unused then, is not told).
        let used = text.replace("devices = 10\n", "devices = 10\npolicy = \"laptops\"\n");
        let sc = parse(&used).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    }

    #[test]
    fn a_sample_interval_longer_than_the_horizon_is_a_warning_naming_both_and_the_default_never_is()
    {
        let text = MINIMAL.replace(
            "horizon = \"P10D\"",
            "horizon = \"P10D\"\nsample_interval = \"P14D\"",
        );
        let sc = parse(&text).expect("loads");
        assert_eq!(
            sc.warnings,
            [
                "test.toml:5:19: simulation.sample_interval: \"P14D\" is longer than the horizon (\"P10D\"), so timeseries.csv has rows only at the start and at the horizon's end, and the compliance curves are straight lines between them; give an interval shorter than the horizon (the default is \"PT1H\")"
            ]
        );
        // The horizon itself, or less, samples as asked.
        for ok in ["P10D", "P1D"] {
            let sc = parse(&text.replace("\"P14D\"", &format!("\"{ok}\""))).expect(ok);
            assert!(sc.warnings.is_empty(), "{ok}: {:?}", sc.warnings);
        }
        // A horizon shorter than the default interval, with none given, is the user's choice.
        let short = MINIMAL.replace("horizon = \"P10D\"", "horizon = \"PT30M\"");
        let sc = parse(&short).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    }

    #[test]
    fn a_policy_period_of_a_fraction_of_a_day_is_a_warning_since_windows_takes_whole_days() {
        let policy = |body: &str| format!("{MINIMAL}\n[policies.default]\n{body}\n");
        let sc = parse(&policy(
            "quality_deadline = \"PT36H\"\nquality_grace = \"PT12H\"",
        ))
        .expect("loads");
        assert_eq!(sc.warnings.len(), 2, "{:?}", sc.warnings);
        assert!(
            sc.warnings[0].contains(
                "policies.default.quality_deadline: 1.5 days is not a whole number of days; the Windows policy takes whole days"
            ),
            "{:?}",
            sc.warnings
        );
        assert!(sc.warnings[1].contains("policies.default.quality_grace: 0.5 days"));
        let sc = parse(&policy(
            "quality_deadline = \"P2D\"\nquality_deferral = \"PT48H\"",
        ))
        .expect("loads");
        assert!(sc.warnings.is_empty(), "whole days: {:?}", sc.warnings);
    }

    #[test]
    fn a_feature_deferral_on_an_update_with_no_release_date_is_warned_of_with_when_it_ends() {
        let feature = MINIMAL.replace(
            r##"{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-13T00:00:00Z" }"##,
            r##"{ "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }"##,
        );
        let deferred =
            |days: u32| format!("{feature}\n[policies.default]\nfeature_deferral = \"P{days}D\"\n");
        let sc = parse(&deferred(5)).expect("loads");
        assert_eq!(sc.warnings.len(), 1, "{:?}", sc.warnings);
        let w = &sc.warnings[0];
        assert!(
            w.starts_with(
                "test.toml:12:11: deployments[0].content: the update gives no release date"
            ),
            "{w}"
        );
        assert!(w.contains("policy \"default\"'s feature_deferral of 5 days keeps its devices from it until 2026-01-18;"), "{w}");
        let sc = parse(&deferred(30)).expect("loads");
        assert!(
            sc.warnings[0]
                .contains("until 2026-02-12, after the horizon: they never take it in this run"),
            "{:?}",
            sc.warnings
        );
        // The normal cases: no deferral, or a release date the deferral counts from.
        assert!(parse(&feature).expect("loads").warnings.is_empty());
        let dated = deferred(30).replace(
            r##"{ "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }"##,
            r##"{ "@odata.type" = "#microsoft.graph.windowsUpdates.catalogContent", catalogEntry = { "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateCatalogEntry", id = "f341705b-0b15-4ce3-aaf2-6a1681d78606", version = "Windows 11, version 24H2", releaseDateTime = "2025-10-01T00:00:00Z" } }"##,
        );
        let sc = parse(&dated).expect("loads");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    }

    #[test]
    fn a_group_count_is_a_whole_number_of_at_least_one_and_not_given_with_a_share() {
        let with = |group: &str| format!("{MINIMAL}\n[groups]\nit = {{ {group} }}\n");
        let sc = parse(&with("count = 3")).expect("loads");
        assert_eq!(sc.groups[0].count, Some(3));
        for (group, words) in [
            (
                "count = 0",
                "groups.it.count: must be a whole number of devices of at least 1, found 0",
            ),
            (
                "count = 3, share = 0.5",
                "groups.it.count: and share are both given: give one",
            ),
        ] {
            let e = parse(&with(group)).expect_err(group).to_string();
            assert!(e.contains(words), "{group}: {e}");
        }
    }

    #[test]
    fn a_policy_only_inventory_rows_name_is_used_and_one_none_names_is_warned_of() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("devices.csv"),
            "name,segment,policy\nPC-1,all,ring1\nPC-2,all,\n",
        )
        .expect("write");
        let text = MINIMAL.replace("devices = 10\n", "")
            + "\n[fleet]\ninventory = \"devices.csv\"\n\n[policies.ring1]\nquality_deadline = \"P5D\"\n\n[policies.ring2]\nquality_deadline = \"P5D\"\n";
        let sc = Scenario::parse(&text, "test.toml", "test", dir.path()).expect("loads");
        assert_eq!(sc.warnings.len(), 1, "{:?}", sc.warnings);
        assert!(
            sc.warnings[0].contains(
                "policies.ring2: no segment uses this policy (segments and inventory rows take \"default\" unless they set policy = \"ring2\")"
            ),
            "{:?}",
            sc.warnings
        );
    }

    /// MINIMAL with `availability` and `utc_offset` lines on its segment.
    fn with_availability(availability: &str, utc_offset: &str) -> String {
        MINIMAL.replace(
            "devices = 10\n",
            &format!(
                "devices = 10\nutc_offset = \"{utc_offset}\"\navailability = {availability}\n"
            ),
        )
    }

    #[test]
    fn off_periods_are_read_as_local_day_numbers_in_file_order_for_any_profile() {
        let off = |availability: &str| {
            parse(&with_availability(availability, "+05:00"))
                .map(|sc| sc.segments[0].off.clone())
                .map_err(|e| e.to_string())
        };
        // 2026-01-14 is day 20 467 since 1970-01-01.
        assert_eq!(
            off(
                r#"{ profile = "office", off = [{ from = "2026-01-14", to = "2026-01-16" }, { from = 2026-01-15 }] }"#
            ),
            Ok(vec![(20_467, 20_469), (20_468, 20_468)])
        );
        assert_eq!(
            off(r#"{ profile = "always_on", off = [{ from = "2026-01-14" }] }"#),
            Ok(vec![(20_467, 20_467)])
        );
        assert_eq!(off(r#"{ profile = "laptop" }"#), Ok(vec![]));
    }

    #[test]
    fn attended_defaults_by_profile_and_is_read_where_given() {
        let attended = |availability: &str| {
            parse(&with_availability(availability, "+00:00"))
                .map(|sc| sc.segments[0].attended)
                .map_err(|e| e.to_string())
        };
        assert_eq!(attended(r#"{ profile = "office" }"#), Ok(true));
        assert_eq!(attended(r#"{ profile = "laptop" }"#), Ok(true));
        assert_eq!(attended(r#"{ profile = "dormant" }"#), Ok(true));
        assert_eq!(attended(r#"{ profile = "always_on" }"#), Ok(false));
        assert_eq!(
            attended(r#"{ profile = "office", attended = false }"#),
            Ok(false)
        );
        assert_eq!(
            attended(r#"{ profile = "always_on", attended = true }"#),
            Ok(true)
        );
        // No availability at all is an always_on device.
        assert_eq!(
            parse(MINIMAL).map(|sc| sc.segments[0].attended).ok(),
            Some(false)
        );
    }

    #[test]
    fn attended_that_is_not_a_boolean_or_on_a_never_device_is_an_error_at_its_field() {
        let ps = problems(&with_availability(
            r#"{ profile = "office", attended = "no" }"#,
            "+00:00",
        ));
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(ps[0].path, "segments[0].availability.attended");
        assert!(ps[0].message.contains("expected a boolean"), "{ps:?}");
        assert!(ps[0].line > 0 && ps[0].column > 0, "{ps:?}");
        let ps = problems(&with_availability(
            r#"{ profile = "never", attended = true }"#,
            "+00:00",
        ));
        assert_eq!(ps[0].path, "segments[0].availability.attended");
        assert!(
            ps[0]
                .message
                .contains("does not apply to profile \"never\" (it takes no parameters)"),
            "{ps:?}"
        );
    }

    #[test]
    fn a_bad_off_date_or_a_to_before_from_is_an_error_at_its_field() {
        let text = with_availability(
            r#"{ profile = "laptop", off = [{ from = "2026-01-20", to = "2026-01-18" }, { from = "2026-01-14T00:00:00Z" }, { from = "2026-02-30" }, { from = "2026-01-14", until = "2026-01-15" }] }"#,
            "+00:00",
        );
        let ps = problems(&text);
        // An unknown key fails the whole table, before anything else is judged.
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert!(ps[0].message.contains("unknown field \"until\""), "{ps:?}");
        let ps = problems(&text.replace(", until = \"2026-01-15\"", ""));
        let paths: Vec<&str> = ps.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "segments[0].availability.off[0].to",
                "segments[0].availability.off[1].from",
                "segments[0].availability.off[2].from",
            ]
        );
        assert!(
            ps[0]
                .message
                .contains("must not be before from (\"2026-01-20\"), found \"2026-01-18\"")
        );
        assert!(
            ps[1].message.contains("not a date such as"),
            "{}",
            ps[1].message
        );
        assert!(ps[2].message.contains("2026-02-30"), "{}", ps[2].message);
        assert!(ps.iter().all(|p| p.line > 0 && p.column > 0), "{ps:?}");
    }

    #[test]
    fn holidays_by_another_name_point_to_off_periods() {
        let ps = problems(&with_availability(
            r#"{ profile = "laptop", holidays = ["2026-12-24"] }"#,
            "+00:00",
        ));
        assert_eq!(ps[0].path, "segments[0].availability.holidays");
        assert!(
            ps[0]
                .message
                .contains(r#"(dated holidays are off periods: off = [{ from = "#),
            "{ps:?}"
        );
    }

    #[test]
    fn one_off_period_written_without_its_list_is_told_to_write_a_list() {
        let ps = problems(&with_availability(
            r#"{ profile = "laptop", off = { from = "2026-12-24" } }"#,
            "+00:00",
        ));
        assert_eq!(ps[0].path, "segments[0].availability.off");
        assert!(
            ps[0].message.ends_with(
                r#": write a list of tables such as [{ from = "2026-12-24", to = "2027-01-01" }]"#
            ),
            "{ps:?}"
        );
    }

    #[test]
    fn an_off_period_outside_the_run_is_a_warning_judged_in_local_time() {
        let warnings = |period: &str, utc_offset: &str| {
            let text = with_availability(
                &format!(r#"{{ profile = "office", off = [{period}] }}"#),
                utc_offset,
            );
            parse(&text).expect("loads").warnings
        };
        // The run is 2026-01-13T18:00Z to 2026-01-23T18:00Z.
        let w = warnings(r#"{ from = "2025-12-24", to = "2026-01-01" }"#, "+00:00");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("segments[0].availability.off[0]: no effect"),
            "{w:?}"
        );
        assert!(warnings(r#"{ from = "2026-01-13" }"#, "+00:00").is_empty());
        // Local 2026-01-24 starts at 2026-01-23T14:00Z at +10:00, inside the run; at UTC it
        // starts after the run.
        assert!(warnings(r#"{ from = "2026-01-24" }"#, "+10:00").is_empty());
        assert_eq!(warnings(r#"{ from = "2026-01-24" }"#, "+00:00").len(), 1);
    }

    /// MINIMAL with `lines` on its segment.
    fn with_segment_lines(lines: &str) -> String {
        MINIMAL.replace("devices = 10\n", &format!("devices = 10\n{lines}\n"))
    }

    #[test]
    fn a_segment_may_name_its_time_zone_instead_of_an_offset() {
        let sc = parse(&with_segment_lines("time_zone = \"europe/london\"")).expect("loads");
        let tz = sc.segments[0].time_zone.as_ref().expect("a zone");
        assert_eq!(tz.iana_name(), Some("Europe/London"));
        assert_eq!(sc.segments[0].utc_offset, 0);
        let plain = parse(MINIMAL).expect("loads");
        assert!(plain.segments[0].time_zone.is_none());
    }

    #[test]
    fn a_segment_giving_both_an_offset_and_a_time_zone_is_refused_at_the_time_zone() {
        let ps = problems(&with_segment_lines(
            "utc_offset = \"+01:00\"\ntime_zone = \"Europe/London\"",
        ));
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(ps[0].path, "segments[0].time_zone");
        assert!(
            ps[0]
                .message
                .contains("either utc_offset or time_zone, not both")
                && ps[0]
                    .message
                    .contains("found \"Europe/London\" beside utc_offset = \"+01:00\""),
            "{ps:?}"
        );
    }

    #[test]
    fn an_unknown_time_zone_is_refused_with_the_closest_name() {
        let ps = problems(&with_segment_lines("time_zone = \"America/New_Yrok\""));
        assert_eq!(ps[0].path, "segments[0].time_zone");
        assert!(
            ps[0].message.contains("did you mean \"America/New_York\"")
                && ps[0].message.ends_with("found \"America/New_Yrok\""),
            "{ps:?}"
        );
        let ps = problems(&with_segment_lines("utc_offset = \"Europe/London\""));
        assert_eq!(ps[0].path, "segments[0].utc_offset");
        assert!(ps[0].message.contains("goes in time_zone"), "{ps:?}");
    }

    #[test]
    fn an_off_period_of_a_time_zone_is_judged_by_its_local_days() {
        // The run is 2026-01-13T18:00Z to 2026-01-23T18:00Z; local 2026-01-24 in Sydney (+11:00
        // in January) starts at 2026-01-23T13:00Z, inside it.
        let text = with_segment_lines(
            "time_zone = \"Australia/Sydney\"\navailability = { profile = \"office\", off = [{ from = \"2026-01-24\" }] }",
        );
        assert!(parse(&text).expect("loads").warnings.is_empty());
        let text = text.replace("Australia/Sydney", "Europe/London");
        assert_eq!(parse(&text).expect("loads").warnings.len(), 1);
    }

    #[test]
    fn availability_days_take_weekday_names_full_names_and_ranges_in_any_case_and_nothing_else() {
        let days = |list: &str| {
            let text = MINIMAL.replace(
                "devices = 10\n",
                &format!(
                    "devices = 10\navailability = {{ profile = \"laptop\", days = {list} }}\n"
                ),
            );
            match parse(&text).map(|sc| sc.segments[0].profile.clone()) {
                Ok(Profile::Laptop { days, .. }) => Ok(days),
                Ok(other) => panic!("{other:?}"),
                Err(Error::Input(e)) => Err(e.problems[0].message.clone()),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(
            days(r#"["mon", "Tue", "WEDNESDAY", "thursday"]"#),
            Ok(0b000_1111)
        );
        assert_eq!(days(r#"["mon-fri"]"#), Ok(WEEKDAYS));
        assert_eq!(days(r#"["Monday-Friday", "sun"]"#), Ok(0b101_1111));
        // A range goes forward through the week, past Sunday.
        assert_eq!(days(r#"["fri-mon"]"#), Ok(0b111_0001));
        assert_eq!(days(r#"["sat-sat"]"#), Ok(0b010_0000));
        assert_eq!(days("[]"), Ok(0));
        // Text that only starts like a weekday was read as it, silently ("mon-fri" as Monday
        // before ranges were read; "monkey" as Monday).
        for bad in ["monkey", "mo", "weekdays", "mon-", "mon-xyz", "mon..fri"] {
            let e = days(&format!("[\"{bad}\"]")).expect_err(bad);
            assert_eq!(
                e,
                format!(
                    "not a weekday (mon … sun, or monday … sunday) nor a range of them (\"mon-fri\"), found \"{bad}\""
                )
            );
        }
    }
}
