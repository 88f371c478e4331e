//! Outputs of a run: `timeseries.csv`, `summary.json`, `summary.csv`, `segments.csv`,
//! `events.csv`, `restarts.csv`, and the short summary printed on the terminal.
//!
//! Exporters are pure functions from results to bytes (`reference/style-by-example.md` §2.10);
//! [`write_dir_atomic`] writes an output folder: into a temporary sibling folder, renamed into
//! place, so an interrupted run leaves either the previous complete output or none, never a
//! half-written one. (A batch's run records and shard manifests are written the same way, file
//! by file, in `batch::record` and `commands`.)

pub mod charts;
pub mod html;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::metrics::{RestartCounts, State, THRESHOLDS, segment_rows};
use crate::scenario::Scenario;
use crate::service::{Denominator, EventNumbers};
use crate::sim::{HeldAtEnd, LikelyHeld, RunResult};
use crate::time::{HOUR, Time, fmt_span, format_instant};

/// Hours with up to four decimals and no trailing zeros (`0`, `1.5`, `0.0167`).
pub fn fmt_hours(t: Time) -> String {
    let s = format!("{:.4}", t as f64 / HOUR as f64);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn hours_f64(t: Time) -> f64 {
    (t as f64 / HOUR as f64 * 10_000.0).round() / 10_000.0
}

/// Guards a text cell against spreadsheet formula injection: values starting with `=`, `+`, `-`
/// or `@` are prefixed with an apostrophe.
pub fn csv_text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The CSV file `name` that `rows` writes. Writing to memory cannot fail for I/O reasons, but the
/// writer refuses a row whose length differs from the header's: that error is returned, never
/// dropped, since dropping it once left files cut off after their first row.
pub fn csv_bytes(
    name: &str,
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |m: String| Error::Write {
        path: PathBuf::from(name),
        message: m,
    };
    rows(&mut w).map_err(|e| err(e.to_string()))?;
    w.into_inner().map_err(|e| err(e.to_string()))
}

/// `timeseries.csv`: one row per sample, deployment and state.
pub fn timeseries_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>, Error> {
    csv_bytes("timeseries.csv", |w| {
        w.write_record(["hours", "time", "deployment", "state", "devices", "share"])?;
        let step = r.recorder.sample_interval();
        for (d, dep) in sc.deployments.iter().enumerate() {
            let series = r.recorder.series(d);
            let name = csv_text(&dep.name);
            for (k, row) in series.iter().enumerate() {
                let t = (k as u64 * step).min(sc.horizon);
                let total: u64 = row.iter().sum();
                let hours = fmt_hours(t);
                let time = format_instant(sc.start_unix, t);
                for s in State::ALL {
                    let n = row[s as usize];
                    let share = if total > 0 {
                        n as f64 / total as f64
                    } else {
                        0.0
                    };
                    w.write_record([
                        hours.as_str(),
                        time.as_str(),
                        name.as_str(),
                        s.as_str(),
                        &n.to_string(),
                        &format!("{share:.6}"),
                    ])?;
                }
            }
        }
        Ok(())
    })
}

/// One deployment state change in `summary.json`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct StateChangeOut {
    /// Hours since start.
    pub hours: f64,
    /// New state.
    pub state: String,
    /// Reason.
    pub reason: String,
}

impl StateChangeOut {
    /// The change as `summary.json` has it.
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(Self {
            hours: v["hours"].as_f64()?,
            state: v["state"].as_str()?.to_string(),
            reason: v["reason"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// A deployment's state at the end, in the words of the terminal and report.html, when it is
/// not offering (paused, archived, faulted, or still scheduled): `paused at the end since
/// 104.0 h (pausedByMonitoring)`. A monitoring pause outlives a resume request, and the counts
/// alone do not show that a deployment stopped offering. `None` while it offers.
pub fn final_state_text(changes: &[StateChangeOut]) -> Option<String> {
    let last = changes.last().filter(|l| l.state != "offering")?;
    Some(format!(
        "{} at the end since {:.1} h ({})",
        last.state, last.hours, last.reason
    ))
}

/// Devices still held by a safeguard at the end of a run, in `summary.json` (`held_at_end`).
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeldAtEndOut {
    /// Devices of the audience in the `held` state at the end.
    pub devices: u64,
    /// Of them, held by a known issue's safeguard hold (its release ends it).
    pub known_issue: u64,
    /// Of them, held by a likely-issue safeguard hold (released with its content's issues, by default). A device
    /// held by both kinds counts in both.
    pub likely_issue: u64,
}

impl HeldAtEndOut {
    /// The terminal's and report.html's words, when any device is held at the end: `still held
    /// at the end: 996 devices (10 by a known-issue hold, 986 by a likely-issue hold)`.
    pub fn text(&self) -> Option<String> {
        if self.devices == 0 {
            return None;
        }
        let kinds: Vec<String> = [
            (self.known_issue, "a known-issue hold"),
            (self.likely_issue, "a likely-issue hold"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} by {kind}"))
        .collect();
        // One kind holding them all reads as a clause, not a breakdown of one part.
        let by = match (self.known_issue, self.likely_issue) {
            (k, 0) if k == self.devices => ", by a known issue's safeguard hold".to_string(),
            (0, l) if l == self.devices => ", by likely-issue safeguard holds".to_string(),
            _ if kinds.is_empty() => String::new(),
            _ => format!(" ({})", kinds.join(", ")),
        };
        Some(format!(
            "still held at the end: {}{by}",
            count(self.devices, "device")
        ))
    }

    /// The counts as `summary.json` has them (a folder written before the field existed has
    /// none).
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(Self {
            devices: v["devices"].as_u64()?,
            known_issue: v["known_issue"].as_u64().unwrap_or(0),
            likely_issue: v["likely_issue"].as_u64().unwrap_or(0),
        })
    }
}

impl From<HeldAtEnd> for HeldAtEndOut {
    fn from(h: HeldAtEnd) -> Self {
        Self {
            devices: h.devices,
            known_issue: h.known_issue,
            likely_issue: h.likely_issue,
        }
    }
}

/// The devices a deployment's likely-issue safeguard holds kept in `held` during the run, in
/// `summary.json` (`likely_issue_holds`; absent when none).
#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
pub struct LikelyHoldsOut {
    /// Distinct devices of the audience a likely-issue hold put in `held`.
    pub devices: u64,
    /// Of them, devices matching an issue of the content that puts devices at risk.
    pub matching_issue: u64,
    /// The others: held by the model's mistake (its precision).
    pub not_matching_issue: u64,
    /// When the first was held, in hours since the start (0: from the start).
    pub first_hours: f64,
}

impl LikelyHoldsOut {
    /// The run's figures, when a likely-issue hold held any device of the deployment.
    fn from_run(h: LikelyHeld) -> Option<Self> {
        let first = h.first.filter(|_| h.devices > 0)?;
        Some(Self {
            devices: h.devices,
            matching_issue: h.matching_issue,
            not_matching_issue: h.devices - h.matching_issue,
            first_hours: hours_f64(first),
        })
    }

    /// The terminal's and report.html's words: `likely-issue holds: 322 devices held from the
    /// start (161 matching an issue, 161 not); an assumption: [safety] likely_issues`. The
    /// model is an assumption that shapes the answer (it held these devices away from the
    /// issues, or from the update for nothing), so it is said where the answer is read.
    pub fn text(&self) -> String {
        let from = if self.first_hours == 0.0 {
            "from the start".to_string()
        } else {
            format!("from {:.1} h", self.first_hours)
        };
        format!(
            "likely-issue holds: {} held {from} ({} matching an issue, {} not); an assumption: [safety] likely_issues",
            count(self.devices, "device"),
            self.matching_issue,
            self.not_matching_issue
        )
    }

    /// The figures as `summary.json` has them (absent: no device held, or a folder written
    /// before the field existed).
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(Self {
            devices: v["devices"].as_u64()?,
            matching_issue: v["matching_issue"].as_u64()?,
            not_matching_issue: v["not_matching_issue"].as_u64()?,
            first_hours: v["first_hours"].as_f64()?,
        })
    }
}

/// `1 device`, `2 devices`.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The UTC date and time `hours` after the scenario start (unix seconds), to the minute, for
/// people: `2026-03-19 16:24 UTC`. The hours are those of `summary.json` (four decimals, so
/// the instant rounds back to its exact second).
pub fn date_text(start_unix: i64, hours: f64) -> String {
    let secs = (hours * HOUR as f64).round();
    match jiff::Timestamp::from_second(start_unix.saturating_add(secs as i64)) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => String::new(),
    }
}

/// `410.4 h (2026-03-19 16:24 UTC)`: hours since the start with the date they fall on, when the
/// start is known.
pub fn hours_and_date(hours: f64, start_unix: Option<i64>) -> String {
    match start_unix {
        Some(s) => format!("{hours:.1} h ({})", date_text(s, hours)),
        None => format!("{hours:.1} h"),
    }
}

/// The scenario start of `summary.json` (`start`, RFC 3339) in unix seconds.
pub fn start_unix_of(start: &str) -> Option<i64> {
    crate::time::parse_instant(start)
        .ok()
        .map(|t| t.as_second())
}

/// Per-deployment summary (the stable keys of `summary.json`).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct DeploymentSummary {
    /// Deployment name.
    pub name: String,
    /// Content name.
    pub content: String,
    /// The state the compliance figures count: `compliant`, or `ready` for a readiness test
    /// (`isReadinessTest`: nothing is installed, devices that scan report ready).
    pub goal_state: &'static str,
    /// Devices in the audience at the end.
    pub devices_targeted: u64,
    /// Devices offered at least once.
    pub devices_offered: u64,
    /// Devices compliant at the end.
    pub devices_compliant: u64,
    /// Share compliant at the end.
    pub share_compliant: f64,
    /// Hours from which the compliant share of the audience stayed at or above 50 % until the
    /// end of the run (the first crossing unless devices joining pushed it back below; null when
    /// the share is below 50 % at the end).
    pub hours_to_50: Option<f64>,
    /// The same for 90 %.
    pub hours_to_90: Option<f64>,
    /// The same for 95 %.
    pub hours_to_95: Option<f64>,
    /// The same for 99 %.
    pub hours_to_99: Option<f64>,
    /// The instant of `hours_to_50` (RFC 3339, UTC; null with it), so that a planner reads the
    /// date rather than adding hours to the start.
    pub time_to_50: Option<String>,
    /// The instant of `hours_to_90`.
    pub time_to_90: Option<String>,
    /// The instant of `hours_to_95`.
    pub time_to_95: Option<String>,
    /// The instant of `hours_to_99`.
    pub time_to_99: Option<String>,
    /// Whether the share was at or above 50, 90, 95 and 99 % at some instant (for the terminal,
    /// which says "not reached" or "not held at end" where an `hours_to_X` is null).
    #[serde(skip)]
    pub ever_reached: [bool; 4],
    /// The thresholds (50, 90, 95, 99) the compliant share reached at some instant but was
    /// below at the end: why an `hours_to_X` is null though the share got there ("not held at
    /// end" on the terminal), not never reached.
    pub not_held_at_end: Vec<u32>,
    /// Device-days of exposure: the integral over time of the devices of the audience not in
    /// the goal state (compliant, or ready for a readiness test), from the later of the
    /// content's release and the scenario start to the horizon, exact (README, Metrics). A
    /// device in the audience for part of the run counts for that part only; one compliant
    /// through another deployment of the same content is not exposed.
    pub exposure_device_days: f64,
    /// The share of the audience in the goal state at the end of the exploit instant
    /// (`[simulation] exploit_at`; 0–1, like `share_compliant`); null without one.
    pub share_compliant_at_exploit: Option<f64>,
    /// The same integral as `exposure_device_days`, counted from the later of the exploit
    /// instant and the release: the device-days exposed while an exploit is out; null without
    /// an exploit instant.
    pub exposure_after_exploit_device_days: Option<f64>,
    /// Restarts forced after the effective deadline. This and the other restart counts are of
    /// devices restart-pending for this deployment's content that this deployment offered the
    /// update: deployments of the same content that both offered a device each count its
    /// restart (README, Outputs, "Overlapping deployments").
    pub forced_restarts: u64,
    /// Automatic restarts outside active hours.
    pub auto_restarts: u64,
    /// Restarts by users (shutdown or own restart).
    pub user_restarts: u64,
    /// Forced or automatic restarts inside active hours.
    pub restarts_in_active_hours: u64,
    /// Failed install attempts (devices of the audience entering `failed`; ineligible devices
    /// attempt nothing and are not counted).
    pub install_failures: u64,
    /// Rollbacks after restart (devices of the audience entering `rolled_back`).
    pub rollbacks: u64,
    /// Distinct devices of the audience that rolled back at least once (counted in
    /// `rollbacks`): a device that retries and rolls back again is one device here, several
    /// rollbacks above. Last in `summary.csv` and `runs.csv`, so that readers by position
    /// find the older columns where they were.
    pub devices_rolled_back: u64,
    /// Distinct devices hit by the hidden issues of this deployment's content (failed install,
    /// rollback, incident or ineligible).
    pub issue_hits: u64,
    /// Times a device of the audience was put on a safeguard hold (entered `held`). A device
    /// leaving the audience and rejoining it in the state it left in (failed, rolled back, held)
    /// is not counted again in this or the two counts above.
    pub held: u64,
    /// Devices still held at the end, and by which kind of hold: `held` counts events, and
    /// devices held for good (a likely-issue hold is never released by default) would
    /// otherwise show only as a share short of 100 %.
    pub held_at_end: HeldAtEndOut,
    /// The devices likely-issue safeguard holds kept in `held` during the run, by whether they
    /// match an issue; absent when none (no issue of the content, or the deployment opts out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likely_issue_holds: Option<LikelyHoldsOut>,
    /// Distinct devices found ineligible for the content (by this or another deployment of it).
    pub ineligible: u64,
    /// Hours until the first monitoring rule fired (null when none did).
    pub rule_fired_hours: Option<f64>,
    /// Distinct devices hit by the issues of this deployment's content when the first rule fired
    /// (ground truth, null when none fired).
    pub issue_hits_at_rule: Option<u64>,
    /// Hours until a monitoring rule paused the deployment (null when none did).
    pub paused_by_monitoring_hours: Option<f64>,
    /// The instant of `rule_fired_hours` (RFC 3339, UTC).
    pub rule_fired_time: Option<String>,
    /// The instant of `paused_by_monitoring_hours` (RFC 3339, UTC).
    pub paused_by_monitoring_time: Option<String>,
    /// Every rule firing.
    pub rule_firings: Vec<RuleFiringOut>,
    /// The monitoring rules in force at the end that never fired, with the highest share their
    /// signal reached (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules_not_fired: Vec<RuleMissOut>,
    /// Deployment state changes.
    pub state_changes: Vec<StateChangeOut>,
    /// Whether the deployment is expedited (`expedite.isExpedited`, or an
    /// `expeditedQualityUpdateReference`) from its start, or is made so by a settings PATCH
    /// during the run: an expedited quality update rather than a regular one. Last, so that
    /// readers of the fields before it find them where they were.
    pub expedited: bool,
}

impl DeploymentSummary {
    /// Every numeric summary metric by name (`None`: never reached), in `summary.csv` order:
    /// what sweeps tabulate and expectations check.
    pub fn metrics(&self) -> Vec<(&'static str, Option<f64>)> {
        let n = |v: u64| Some(v as f64);
        // In the order of `METRICS`.
        let values = [
            n(self.devices_targeted),
            n(self.devices_offered),
            n(self.devices_compliant),
            Some(self.share_compliant),
            self.hours_to_50,
            self.hours_to_90,
            self.hours_to_95,
            self.hours_to_99,
            n(self.forced_restarts),
            n(self.auto_restarts),
            n(self.user_restarts),
            n(self.restarts_in_active_hours),
            n(self.install_failures),
            n(self.rollbacks),
            n(self.issue_hits),
            n(self.held),
            n(self.ineligible),
            self.rule_fired_hours,
            self.issue_hits_at_rule.map(|v| v as f64),
            self.paused_by_monitoring_hours,
            Some(self.exposure_device_days),
            self.share_compliant_at_exploit,
            self.exposure_after_exploit_device_days,
            n(self.devices_rolled_back),
        ];
        METRICS.iter().copied().zip(values).collect()
    }

    /// The values of a row of `runs.csv`: [`DeploymentSummary::metrics`], then
    /// [`NOT_HELD_AT_END`] as a bit mask of [`THRESHOLDS`] ([`not_held_mask`]).
    pub fn run_values(&self) -> Vec<Option<f64>> {
        let mut v: Vec<Option<f64>> = self.metrics().into_iter().map(|(_, v)| v).collect();
        v.push(Some(f64::from(not_held_mask(&self.not_held_at_end))));
        v
    }
}

/// The column of `runs.csv` after [`METRICS`]: the thresholds the run's share reached at some
/// instant but was below at the end (`95`, `50;90`; empty when none), so that a run that never
/// reached 95 % is told from one that reached it and fell back. Not a metric a gate can name.
pub const NOT_HELD_AT_END: &str = "not_held_at_end";

/// Thresholds (percent, of [`THRESHOLDS`]) as a bit mask: bit i for `THRESHOLDS[i]`.
pub fn not_held_mask(pcts: &[u32]) -> u32 {
    THRESHOLDS
        .iter()
        .enumerate()
        .filter(|(_, p)| pcts.contains(p))
        .map(|(i, _)| 1 << i)
        .sum()
}

/// A [`not_held_mask`] as `runs.csv` writes it: `50;90`, empty for none.
pub fn not_held_text(mask: f64) -> String {
    let m = mask as u32;
    THRESHOLDS
        .iter()
        .enumerate()
        .filter(|(i, _)| m & (1 << i) != 0)
        .map(|(_, p)| p.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// A cell of `runs.csv`'s [`NOT_HELD_AT_END`] column as a [`not_held_mask`] (`None`: a
/// threshold that is not one of [`THRESHOLDS`]).
pub fn not_held_of_text(cell: &str) -> Option<u32> {
    let pcts: Option<Vec<u32>> = cell
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok().filter(|p| THRESHOLDS.contains(p)))
        .collect();
    pcts.map(|p| not_held_mask(&p))
}

/// Names of [`DeploymentSummary::metrics`].
pub const METRICS: [&str; 24] = [
    "devices_targeted",
    "devices_offered",
    "devices_compliant",
    "share_compliant",
    "hours_to_50",
    "hours_to_90",
    "hours_to_95",
    "hours_to_99",
    "forced_restarts",
    "auto_restarts",
    "user_restarts",
    "restarts_in_active_hours",
    "install_failures",
    "rollbacks",
    "issue_hits",
    "held",
    "ineligible",
    "rule_fired_hours",
    "issue_hits_at_rule",
    "paused_by_monitoring_hours",
    "exposure_device_days",
    "share_compliant_at_exploit",
    "exposure_after_exploit_device_days",
    "devices_rolled_back",
];

/// One monitoring rule firing in `summary.json`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RuleFiringOut {
    /// Hours since start.
    pub hours: f64,
    /// `rollback` or `ineligible`.
    pub signal: String,
    /// Threshold in percent.
    pub threshold: u8,
    /// `alertError`, `pauseDeployment` or `offerFallback`.
    pub action: String,
    /// Signals counted.
    pub signals: u64,
    /// Denominator.
    pub denominator: u64,
    /// What the denominator counts (`[safety] monitoring_denominator`: `offered` or
    /// `installed`).
    #[serde(rename = "denominator_counts")]
    pub counted: &'static str,
    /// Distinct devices hit by the issues of the deployment's content by then (ground truth).
    pub issue_hits: u64,
}

/// A monitoring rule that never fired, in `summary.json`: how close it came.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RuleMissOut {
    /// `rollback` or `ineligible`.
    pub signal: String,
    /// Threshold in percent.
    pub threshold: u8,
    /// `alertError`, `pauseDeployment` or `offerFallback`.
    pub action: String,
    /// Hours since start when the signal's share of the denominator was highest (null when the
    /// rule was never judged: no report came, or the denominator stayed below
    /// `monitoring_min_devices`).
    pub peak_hours: Option<f64>,
    /// Signals counted then.
    pub peak_signals: Option<u64>,
    /// Denominator then.
    pub peak_denominator: Option<u64>,
    /// What the denominator counts (`offered` or `installed`).
    #[serde(rename = "denominator_counts")]
    pub counted: &'static str,
}

impl RuleFiringOut {
    /// The firing in words, as the terminal and report.html tell it: `rule rollback 5 % →
    /// pauseDeployment fired at 27.9 h (6 rollback reports of 120 devices offered); 6 devices hit
    /// by issues by then`.
    pub fn text(&self) -> String {
        format!(
            "rule {} {} → {} fired at {:.1} h ({} {} reports of {} devices{}); {} devices hit by issues by then",
            self.signal,
            rule_threshold(self.threshold, &self.action),
            self.action,
            self.hours,
            self.signals,
            self.signal,
            self.denominator,
            counted_text(self.counted),
            self.issue_hits
        )
    }

    /// The firing as `summary.json` has it (report.html is drawn from the folder).
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(Self {
            hours: v["hours"].as_f64()?,
            signal: v["signal"].as_str()?.to_string(),
            threshold: u8::try_from(v["threshold"].as_u64()?).ok()?,
            action: v["action"].as_str()?.to_string(),
            signals: v["signals"].as_u64()?,
            denominator: v["denominator"].as_u64()?,
            counted: counted_of(v),
            issue_hits: v["issue_hits"].as_u64()?,
        })
    }
}

impl RuleMissOut {
    /// The rule in words, as the terminal and report.html tell it: `rule rollback 20 % →
    /// pauseDeployment did not fire; highest 5.5 % at 260.5 h (3 rollback reports of 55 devices
    /// installed)`.
    pub fn text(&self) -> String {
        let peak = match (self.peak_hours, self.peak_signals, self.peak_denominator) {
            (Some(h), Some(sig), Some(den)) => format!(
                "highest {:.1} % at {h:.1} h ({sig} {} reports of {den} devices{})",
                share(sig, den) * 100.0,
                self.signal,
                counted_text(self.counted)
            ),
            _ => "never judged: no report, or too few devices counted".to_string(),
        };
        format!(
            "rule {} {} → {} did not fire; {peak}",
            self.signal,
            rule_threshold(self.threshold, &self.action),
            self.action
        )
    }

    /// The rule as `summary.json` has it.
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(Self {
            signal: v["signal"].as_str()?.to_string(),
            threshold: u8::try_from(v["threshold"].as_u64()?).ok()?,
            action: v["action"].as_str()?.to_string(),
            peak_hours: v["peak_hours"].as_f64(),
            peak_signals: v["peak_signals"].as_u64(),
            peak_denominator: v["peak_denominator"].as_u64(),
            counted: counted_of(v),
        })
    }
}

/// A rule's threshold as the terminal tells it: `5 %`, or for `offerFallback`, which ignores it
/// (any ineligible report fires it), `(threshold ignored)`.
fn rule_threshold(threshold: u8, action: &str) -> String {
    match action {
        "offerFallback" => "(threshold ignored)".into(),
        _ => format!("{threshold} %"),
    }
}

/// A share (0–1) as a percent with one decimal, for people (the terminal and report.html):
/// a share that is neither 0 nor 1 never shows as `0.0 %` or `100.0 %`, but as `< 0.1 %` or
/// `> 99.9 %`, so "everyone" is never said of 99.996 %.
pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 0.05 {
        "< 0.1 %".into()
    } else if (99.95..100.0).contains(&p) {
        "> 99.9 %".into()
    } else {
        format!("{p:.1} %")
    }
}

/// " offered" after "devices", or nothing when unknown.
fn counted_text(counted: &str) -> String {
    match counted {
        "" => String::new(),
        c => format!(" {c}"),
    }
}

/// What a rule's denominator counts, from `summary.json` (a folder written before the field
/// existed says nothing, and neither does the text).
fn counted_of(v: &serde_json::Value) -> &'static str {
    match v["denominator_counts"].as_str() {
        Some("installed") => "installed",
        Some("offered") => "offered",
        _ => "",
    }
}

/// The thresholds whose time the across-runs outputs spread: a plan's milestones.
pub const ACROSS_THRESHOLDS: [u32; 3] = [50, 90, 95];

/// The time to one compliance threshold across runs: the nearest-rank p5, median and p95 of
/// `hours_to_X` (a run whose share is below X % at the end has no time and sorts last: `None`
/// here, "not by the end" in words), and in how many runs the share was at or above X % at the
/// end, and in how many of the others it got there at some instant and fell back below (from
/// `runs.csv`'s `not_held_at_end`; unknown for a `runs.csv` written before that column).
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdSpread {
    /// The threshold in percent.
    pub pct: u32,
    /// p5 of the hours.
    pub p5: Option<f64>,
    /// Median of the hours.
    pub median: Option<f64>,
    /// p95 of the hours.
    pub p95: Option<f64>,
    /// Runs at or above the threshold at the end (with a time).
    pub held: usize,
    /// The earliest and latest time among those runs.
    pub range: Option<(f64, f64)>,
    /// Runs.
    pub runs: usize,
    /// Runs whose share reached the threshold at some instant but was below it at the end;
    /// `None` when not known (a `runs.csv` without `not_held_at_end`).
    pub not_held: Option<usize>,
}

impl ThresholdSpread {
    /// The spread of `hours` (one value per run) for threshold `pct`.
    pub fn new(pct: u32, hours: &[Option<f64>]) -> Self {
        let q = |p: f64| crate::batch::expect::quantile(hours, p);
        Self {
            pct,
            p5: q(0.05),
            median: q(0.5),
            p95: q(0.95),
            held: hours.iter().filter(|h| h.is_some()).count(),
            range: hours.iter().flatten().fold(None, |r, &h| match r {
                None => Some((h, h)),
                Some((a, b)) => Some((f64::min(a, h), f64::max(b, h))),
            }),
            runs: hours.len(),
            not_held: None,
        }
    }

    /// The spread with the runs that reached the threshold but were below it at the end.
    pub fn with_not_held(self, not_held: Option<usize>) -> Self {
        Self { not_held, ..self }
    }

    /// In words, as the terminal prints it after replications: `95 % at 41.2 h (median; p5
    /// 38.0 h, p95 47.1 h)`, `95 % in 17 of 20 runs: median 41.2 h (p5 38.0 h, p95 not by the
    /// end)`, `95 % in 2 of 20 runs (between 40.1 h and 52.0 h)` (when the median run does not
    /// get there, its quantiles say little: the runs that did, do), `95 % in none of 20 runs`.
    /// Runs that got there and fell back below are told when there are some: `95 % in 17 of 20
    /// runs (reached but not held at the end in 2): median …`.
    pub fn text(&self) -> String {
        let (pct, n) = (self.pct, self.runs);
        let hours = |x: Option<f64>| x.map_or("not by the end".into(), |h| format!("{h:.1} h"));
        let lost = self
            .not_held
            .filter(|&k| k > 0)
            .map(|k| format!("reached but not held at the end in {k}"));
        let paren = lost.as_ref().map_or(String::new(), |l| format!(" ({l})"));
        if self.held == 0 {
            format!("{pct} % in none of {n} runs{paren}")
        } else if n == 1 {
            format!("{pct} % at {}", hours(self.median))
        } else if self.held == n {
            let (lo, hi) = tail_names(n);
            format!(
                "{pct} % at {} (median of {n} runs; {lo} {}, {hi} {})",
                hours(self.median),
                hours(self.p5),
                hours(self.p95)
            )
        } else if let (None, Some((a, b))) = (self.median, self.range) {
            let more = lost.as_ref().map_or(String::new(), |l| format!("; {l}"));
            if self.held == 1 {
                format!("{pct} % in 1 of {n} runs (at {a:.1} h{more})")
            } else {
                format!(
                    "{pct} % in {} of {n} runs (between {a:.1} h and {b:.1} h{more})",
                    self.held
                )
            }
        } else {
            let (lo, hi) = tail_names(n);
            format!(
                "{pct} % in {} of {n} runs{paren}: median {} ({lo} {}, {hi} {})",
                self.held,
                hours(self.median),
                hours(self.p5),
                hours(self.p95)
            )
        }
    }
}

/// What the 5th and 95th percentiles of `n` runs are by nearest rank (rank round(q(n − 1))):
/// `p5` and `p95`, or `min` and `max` where they are the fastest and slowest run (the first
/// with 10 runs or fewer, the second with 11 or fewer), so that the spread of a few runs does not
/// read as a 90 % interval.
pub fn tail_names(n: usize) -> (&'static str, &'static str) {
    let last = n.saturating_sub(1) as f64;
    let lo = if (0.05 * last).round() == 0.0 {
        "min"
    } else {
        "p5"
    };
    let hi = if (0.95 * last).round() == last {
        "max"
    } else {
        "p95"
    };
    (lo, hi)
}

/// One deployment across the runs of a replicated run (or of a sweep variant): what the
/// terminal prints after the runs and report.html's "Across N replications" section shows,
/// computed from the same per-run values (in memory after the runs, from `runs.csv` when
/// report.html is drawn, also by `rollsim plot`).
#[derive(Debug, Clone, PartialEq)]
pub struct AcrossOut {
    /// Deployment name.
    pub deployment: String,
    /// Runs.
    pub runs: usize,
    /// The spread of the time to each of [`ACROSS_THRESHOLDS`].
    pub times: Vec<ThresholdSpread>,
    /// Median forced restarts.
    pub forced_restarts: Option<f64>,
    /// Median restarts in active hours.
    pub restarts_in_active_hours: Option<f64>,
    /// Median devices hit by issues; `None` when no run had a hit (the words leave it out).
    pub issue_hits: Option<f64>,
    /// Median device-days of exposure; `None` when the runs have none (a `runs.csv` written
    /// before the column existed: the words leave it out).
    pub exposure_device_days: Option<f64>,
    /// Median share compliant at the exploit instant and median device-days of exposure after
    /// it; `None` without an exploit instant (the words leave them out).
    pub at_exploit: Option<(f64, f64)>,
    /// Runs in which a monitoring rule fired.
    pub rule_fired_in: usize,
    /// Whether the deployment has a monitoring rule ([`crate::Scenario::monitored`]); `None`
    /// when not known. A deployment known to have one whose rules fired in no run says so, as
    /// silence would read the same as having no rule.
    pub monitored: Option<bool>,
}

impl AcrossOut {
    /// The deployment's values across runs: `values(metric)` gives one value per run of a
    /// column of `runs.csv` (`None`: empty).
    pub fn new(deployment: &str, values: impl Fn(&str) -> Vec<Option<f64>>) -> Self {
        let median = |m: &str| crate::batch::expect::quantile(&values(m), 0.5);
        let hits = values("issue_hits");
        // Each run's thresholds reached but not held at the end, as a mask; unknown when a
        // run has none (a `runs.csv` written before the column).
        let masks: Option<Vec<u32>> = Some(values(NOT_HELD_AT_END))
            .filter(|v| !v.is_empty())
            .and_then(|v| v.into_iter().map(|m| m.map(|m| m as u32)).collect());
        let times = ACROSS_THRESHOLDS
            .iter()
            .map(|&p| {
                let bit = not_held_mask(&[p]);
                let not_held = masks
                    .as_ref()
                    .map(|ms| ms.iter().filter(|&&m| m & bit != 0).count());
                ThresholdSpread::new(p, &values(&format!("hours_to_{p}"))).with_not_held(not_held)
            })
            .collect();
        Self {
            deployment: deployment.to_string(),
            runs: values("hours_to_95").len(),
            times,
            forced_restarts: median("forced_restarts"),
            restarts_in_active_hours: median("restarts_in_active_hours"),
            issue_hits: hits
                .iter()
                .any(|x| x.is_some_and(|x| x > 0.0))
                .then(|| median("issue_hits"))
                .flatten(),
            exposure_device_days: median("exposure_device_days"),
            at_exploit: median("share_compliant_at_exploit")
                .zip(median("exposure_after_exploit_device_days")),
            rule_fired_in: values("rule_fired_hours")
                .iter()
                .filter(|x| x.is_some())
                .count(),
            monitored: None,
        }
    }

    /// The same, knowing whether the deployment has a monitoring rule.
    pub fn with_monitored(mut self, monitored: Option<bool>) -> Self {
        self.monitored = monitored;
        self
    }

    /// The spread of the time to `pct` %.
    pub fn time(&self, pct: u32) -> Option<&ThresholdSpread> {
        self.times.iter().find(|t| t.pct == pct)
    }

    /// The terminal's line: `pilot: 95 % in 1 of 20 runs: median not by the end (p5 41.2 h,
    /// p95 not by the end); forced restarts 0, restarts in active hours 0 (median); devices hit
    /// by issues 160 (median); a monitoring rule fired in 1 of 20`.
    pub fn text(&self) -> String {
        let n = self.runs;
        let of = if n == 1 { "" } else { " (median)" };
        let time = self.time(95).map_or_else(
            || format!("95 % in none of {n} runs"),
            ThresholdSpread::text,
        );
        let mut line = format!(
            "{}: {time}; forced restarts {}, restarts in active hours {}{of}",
            self.deployment,
            count_text(self.forced_restarts),
            count_text(self.restarts_in_active_hours),
        );
        if let Some(h) = self.issue_hits {
            line.push_str(&format!(
                "; devices hit by issues {}{of}",
                count_text(Some(h))
            ));
        }
        if let Some(e) = self.exposure_device_days {
            line.push_str(&format!("; exposure {e:.1} device-days{of}"));
        }
        if let Some((share, after)) = self.at_exploit {
            line.push_str(&format!(
                "; at the exploit {} compliant, then {after:.1} device-days exposed{of}",
                percent(share)
            ));
        }
        if self.rule_fired_in > 0 {
            line.push_str(&format!(
                "; a monitoring rule fired in {} of {n}",
                self.rule_fired_in
            ));
        } else if self.monitored == Some(true) {
            line.push_str(&match n {
                1 => "; its monitoring rules did not fire".to_string(),
                n => format!("; its monitoring rules fired in none of {n} runs"),
            });
        }
        line
    }

    /// Each deployment of the first variant of `runs.csv`, across its runs, in the file's
    /// order (a replicated run's file has the one variant `base`).
    pub fn from_runs_csv(bytes: &[u8]) -> Result<Vec<Self>, Error> {
        let t = charts::Table::parse("runs.csv", bytes)?;
        let col = |name: &str| t.header.iter().position(|h| h == name);
        let bad = |m: &str| Error::Write {
            path: PathBuf::from("runs.csv"),
            message: m.to_string(),
        };
        let dep = col("deployment").ok_or_else(|| bad("no `deployment` column"))?;
        let variant = col("variant");
        let first = variant.and_then(|v| t.rows.first().and_then(|r| r.get(v)).cloned());
        let rows: Vec<&Vec<String>> = t
            .rows
            .iter()
            .filter(|r| variant.is_none() || r.get(variant.unwrap_or(0)) == first.as_ref())
            .collect();
        let mut names: Vec<&str> = Vec::new();
        for r in &rows {
            if let Some(n) = r.get(dep)
                && !names.contains(&n.as_str())
            {
                names.push(n);
            }
        }
        Ok(names
            .iter()
            .map(|&name| {
                let values = |metric: &str| -> Vec<Option<f64>> {
                    let Some(c) = col(metric) else {
                        return Vec::new();
                    };
                    let cell = |v: &String| {
                        if metric == NOT_HELD_AT_END {
                            not_held_of_text(v).map(f64::from)
                        } else {
                            v.parse::<f64>().ok()
                        }
                    };
                    rows.iter()
                        .filter(|r| r.get(dep).map(String::as_str) == Some(name))
                        .map(|r| r.get(c).and_then(cell))
                        .collect()
                };
                Self::new(charts::unguard(name), values)
            })
            .collect())
    }
}

/// A median count as the terminal prints it: whole, or with its half (`7`, `7.5`).
fn count_text(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| {
        let r = (x * 10_000.0).round() / 10_000.0;
        r.to_string()
    })
}

/// One hidden issue in `summary.json`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct IssueOut {
    /// Issue name.
    pub name: String,
    /// Content it affects.
    pub content: String,
    /// The deployments of that content (a deployment's `content` names the same update), so
    /// an issue joins to its deployments by name.
    pub deployments: Vec<String>,
    /// Devices matching its predicate.
    pub devices_matching: u64,
    /// Distinct devices hit.
    pub devices_hit: u64,
    /// Failed installs caused.
    pub failed: u64,
    /// Rollbacks of matching devices.
    pub rolled_back: u64,
    /// Post-update incidents.
    pub incidents: u64,
    /// Distinct devices found ineligible.
    pub ineligible: u64,
    /// Reports of affected devices received by the service.
    pub reported: u64,
    /// Hours until the safeguard hold was placed (null: never).
    pub hold_hours: Option<f64>,
    /// Hours until the hold was released (null: never).
    pub released_hours: Option<f64>,
    /// The instant of `hold_hours` (RFC 3339, UTC).
    pub hold_time: Option<String>,
    /// The instant of `released_hours` (RFC 3339, UTC).
    pub released_time: Option<String>,
}

impl IssueOut {
    /// The issue in words, as the terminal and report.html tell it: `issue "EliteBook gfx-31":
    /// 160 of 995 matching devices hit (0 failed installs, 160 rollbacks, 0 incidents); hold
    /// 221.4 h → 557.4 h`. Devices hit are distinct devices; failed installs, rollbacks and
    /// incidents are events (a device that retries and rolls back again counts twice).
    pub fn text(&self) -> String {
        format!(
            "issue \"{}\": {} of {} matching devices hit ({} failed installs, {} rollbacks, {} incidents); hold {}",
            self.name,
            self.devices_hit,
            self.devices_matching,
            self.failed,
            self.rolled_back,
            self.incidents,
            match (self.hold_hours, self.released_hours) {
                (Some(a), Some(b)) => format!("{a:.1} h → {b:.1} h"),
                (Some(a), None) => format!("from {a:.1} h"),
                _ => "never".to_string(),
            }
        )
    }

    /// The issue as `summary.json` has it (report.html is drawn from the folder).
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        let time = |k: &str| v[k].as_str().map(str::to_string);
        Some(Self {
            name: v["name"].as_str()?.to_string(),
            content: v["content"].as_str().unwrap_or_default().to_string(),
            deployments: v["deployments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect(),
            devices_matching: v["devices_matching"].as_u64()?,
            devices_hit: v["devices_hit"].as_u64()?,
            failed: n("failed"),
            rolled_back: n("rolled_back"),
            incidents: n("incidents"),
            ineligible: n("ineligible"),
            reported: n("reported"),
            hold_hours: v["hold_hours"].as_f64(),
            released_hours: v["released_hours"].as_f64(),
            hold_time: time("hold_time"),
            released_time: time("released_time"),
        })
    }
}

/// One window of active hours in `summary.json` and the fleet's devices whose policy has it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ActiveHoursOut {
    /// Device-local start, `HH:MM`.
    pub start: String,
    /// Device-local end, `HH:MM`; earlier than `start` when the hours wrap past midnight.
    pub end: String,
    /// Devices of the fleet whose policy has these hours.
    pub devices: u64,
    /// Those policies' names, sorted.
    pub policies: Vec<String>,
}

/// `HH:MM` of a time of day in seconds (`24:00` for the end of the day).
fn fmt_time_of_day(secs: u64) -> String {
    format!("{:02}:{:02}", secs / HOUR, secs % HOUR / 60)
}

/// The distinct active hours of the fleet's policies with their devices, most devices first
/// (then earliest start); policies of no device are left out.
pub fn active_hours(sc: &Scenario) -> Vec<ActiveHoursOut> {
    let mut out: Vec<(u64, u64, ActiveHoursOut)> = Vec::new();
    for (i, p) in sc.policies.iter().enumerate() {
        let devices: u64 = sc
            .segments
            .iter()
            .filter(|s| s.policy as usize == i)
            .map(|s| u64::from(s.devices))
            .sum();
        if devices == 0 {
            continue;
        }
        let key = (p.active_start, p.active_end);
        match out.iter_mut().find(|(s, e, _)| (*s, *e) == key) {
            Some((_, _, a)) => {
                a.devices += devices;
                a.policies.push(p.name.clone());
            }
            None => out.push((
                key.0,
                key.1,
                ActiveHoursOut {
                    start: fmt_time_of_day(key.0),
                    end: fmt_time_of_day(key.1),
                    devices,
                    policies: vec![p.name.clone()],
                },
            )),
        }
    }
    out.sort_by(|a, b| b.2.devices.cmp(&a.2.devices).then(a.0.cmp(&b.0)));
    out.into_iter()
        .map(|(_, _, mut a)| {
            a.policies.sort();
            a
        })
        .collect()
}

/// `summary.json`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario start (RFC 3339).
    pub start: String,
    /// Horizon in hours.
    pub horizon_hours: f64,
    /// Hours from the start to the exploit instant (`[simulation] exploit_at`); null without
    /// one.
    pub exploit_hours: Option<f64>,
    /// The exploit instant (RFC 3339, UTC); null without one.
    pub exploit_time: Option<String>,
    /// Seed of this run.
    pub seed: u64,
    /// Replication index.
    pub replication: u64,
    /// Devices in the fleet.
    pub devices: usize,
    /// The policies' active hours, one entry per distinct window, most devices first: what
    /// `restarts_in_active_hours` is judged against and the restarts chart marks.
    pub active_hours: Vec<ActiveHoursOut>,
    /// Per deployment.
    pub deployments: Vec<DeploymentSummary>,
    /// Per hidden issue.
    pub issues: Vec<IssueOut>,
}

/// Builds the summary of a run.
pub fn summary(sc: &Scenario, r: &RunResult) -> Summary {
    let deployments = sc
        .deployments
        .iter()
        .enumerate()
        .map(|(d, dep)| {
            let c = &r.recorder.counters[d];
            let firings: Vec<_> = r
                .firings
                .iter()
                .filter(|f| f.deployment as usize == d)
                .collect();
            let counted = match sc.safety.denominator {
                Denominator::Offered => "offered",
                Denominator::Installed => "installed",
            };
            let reached_at = |pct: u32| {
                THRESHOLDS
                    .iter()
                    .position(|&x| x == pct)
                    .and_then(|i| c.reached[i])
            };
            let reached = |pct: u32| reached_at(pct).map(hours_f64);
            let time = |t: Option<Time>| t.map(|t| format_instant(sc.start_unix, t));
            let first_pause = firings.iter().find(|f| f.action == "pauseDeployment");
            DeploymentSummary {
                name: dep.name.clone(),
                content: sc.contents[dep.content as usize].name.clone(),
                goal_state: if dep.settings.readiness {
                    "ready"
                } else {
                    "compliant"
                },
                devices_targeted: c.targeted,
                devices_offered: c.offered,
                devices_compliant: c.compliant,
                share_compliant: share(c.compliant, c.targeted),
                hours_to_50: reached(50),
                hours_to_90: reached(90),
                hours_to_95: reached(95),
                hours_to_99: reached(99),
                time_to_50: time(reached_at(50)),
                time_to_90: time(reached_at(90)),
                time_to_95: time(reached_at(95)),
                time_to_99: time(reached_at(99)),
                ever_reached: c.ever_reached,
                not_held_at_end: THRESHOLDS
                    .iter()
                    .zip(c.ever_reached)
                    .filter(|&(&pct, ever)| ever && reached(pct).is_none())
                    .map(|(&pct, _)| pct)
                    .collect(),
                exposure_device_days: c.exposure_device_days(),
                share_compliant_at_exploit: c
                    .counts_at_exploit()
                    .map(|(targeted, compliant)| share(compliant, targeted)),
                exposure_after_exploit_device_days: c.exposure_after_exploit_device_days(),
                forced_restarts: c.forced_restarts,
                auto_restarts: c.auto_restarts,
                user_restarts: c.user_restarts,
                restarts_in_active_hours: c.restarts_in_active_hours,
                install_failures: c.install_failures,
                rollbacks: c.rollbacks,
                devices_rolled_back: c.devices_rolled_back,
                issue_hits: r.issue_hits.get(d).copied().unwrap_or(0),
                held: c.held,
                held_at_end: r
                    .held_at_end
                    .get(d)
                    .copied()
                    .map(HeldAtEndOut::from)
                    .unwrap_or_default(),
                likely_issue_holds: r
                    .likely_held
                    .get(d)
                    .copied()
                    .and_then(LikelyHoldsOut::from_run),
                ineligible: r.ineligible.get(d).copied().unwrap_or(0),
                rule_fired_hours: firings.first().map(|f| hours_f64(f.at)),
                issue_hits_at_rule: firings.first().map(|f| f.devices_hit),
                paused_by_monitoring_hours: first_pause.map(|f| hours_f64(f.at)),
                rule_fired_time: time(firings.first().map(|f| f.at)),
                paused_by_monitoring_time: time(first_pause.map(|f| f.at)),
                rule_firings: firings
                    .iter()
                    .map(|f| RuleFiringOut {
                        hours: hours_f64(f.at),
                        signal: f.signal.to_string(),
                        threshold: f.threshold,
                        action: f.action.to_string(),
                        signals: f.signals,
                        denominator: f.denominator,
                        counted,
                        issue_hits: f.devices_hit,
                    })
                    .collect(),
                rules_not_fired: r
                    .rules_not_fired
                    .iter()
                    .filter(|m| m.deployment as usize == d)
                    .map(|m| RuleMissOut {
                        signal: m.signal.to_string(),
                        threshold: m.threshold,
                        action: m.action.to_string(),
                        peak_hours: m.peak.map(|p| hours_f64(p.at)),
                        peak_signals: m.peak.map(|p| p.signals),
                        peak_denominator: m.peak.map(|p| p.denominator),
                        counted,
                    })
                    .collect(),
                state_changes: r
                    .state_changes
                    .iter()
                    .filter(|s| s.deployment as usize == d && s.event == "state_change")
                    .map(|s| StateChangeOut {
                        hours: hours_f64(s.at),
                        state: s.state.to_string(),
                        reason: s.reason.to_string(),
                    })
                    .collect(),
                expedited: is_expedited(sc, d),
            }
        })
        .collect();
    Summary {
        scenario: sc.name.clone(),
        start: format_instant(sc.start_unix, 0),
        horizon_hours: hours_f64(sc.horizon),
        exploit_hours: sc
            .exploit_at
            .map(|t| hours_f64(t.unsigned_abs()).copysign(t as f64)),
        exploit_time: sc
            .exploit_at
            .map(|t| format_instant(sc.start_unix.saturating_add(t.min(0)), t.max(0) as Time)),
        seed: r.seed,
        replication: r.replication,
        devices: r.stats.devices,
        active_hours: active_hours(sc),
        deployments,
        issues: sc
            .issues
            .iter()
            .zip(&r.issues)
            .map(|(i, st)| IssueOut {
                name: i.name.clone(),
                content: sc.contents[i.content as usize].name.clone(),
                deployments: sc
                    .deployments
                    .iter()
                    .filter(|d| d.content == i.content)
                    .map(|d| d.name.clone())
                    .collect(),
                devices_matching: st.matching,
                devices_hit: st.hit,
                failed: st.failed,
                rolled_back: st.rolled_back,
                incidents: st.incidents,
                ineligible: st.ineligible,
                reported: st.reported,
                hold_hours: st.hold_at.map(hours_f64),
                released_hours: st.released_at.map(hours_f64),
                hold_time: st.hold_at.map(|t| format_instant(sc.start_unix, t)),
                released_time: st.released_at.map(|t| format_instant(sc.start_unix, t)),
            })
            .collect(),
    }
}

/// Whether deployment `d` expedites at some point of the run: from its start, or from a settings
/// PATCH (`do = "set"` or `"patch"`, whose settings are the deployment's from then on) that makes
/// it expedited.
fn is_expedited(sc: &Scenario, d: usize) -> bool {
    use crate::service::ActionKind;
    sc.deployments[d].settings.expedited
        || sc.actions.iter().any(|a| {
            a.deployment as usize == d
                && match &a.kind {
                    ActionKind::Settings { settings, .. } | ActionKind::Patch { settings, .. } => {
                        settings.expedited
                    }
                    _ => false,
                }
        })
}

/// The mark after an expedited deployment's name on the terminal and in `report.html`
/// (`expedited-pilot (expedited)`), empty for a regular one.
pub fn expedited_mark(expedited: bool) -> &'static str {
    if expedited { " (expedited)" } else { "" }
}

/// `summary.json` bytes.
pub fn summary_json(s: &Summary) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(s).unwrap_or_default();
    v.push(b'\n');
    v
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// `summary.csv`: the per-deployment summary as a table (empty cell = never reached).
pub fn summary_csv(s: &Summary) -> Result<Vec<u8>, Error> {
    csv_bytes("summary.csv", |w| {
        w.write_record([
            "deployment",
            "devices_targeted",
            "devices_offered",
            "devices_compliant",
            "share_compliant",
            "hours_to_50",
            "hours_to_90",
            "hours_to_95",
            "hours_to_99",
            "forced_restarts",
            "auto_restarts",
            "user_restarts",
            "restarts_in_active_hours",
            "install_failures",
            "rollbacks",
            "issue_hits",
            "held",
            "ineligible",
            "rule_fired_hours",
            "issue_hits_at_rule",
            "paused_by_monitoring_hours",
            "exposure_device_days",
            "share_compliant_at_exploit",
            "exposure_after_exploit_device_days",
            "devices_rolled_back",
        ])?;
        for d in &s.deployments {
            w.write_record([
                csv_text(&d.name),
                d.devices_targeted.to_string(),
                d.devices_offered.to_string(),
                d.devices_compliant.to_string(),
                d.share_compliant.to_string(),
                opt(d.hours_to_50),
                opt(d.hours_to_90),
                opt(d.hours_to_95),
                opt(d.hours_to_99),
                d.forced_restarts.to_string(),
                d.auto_restarts.to_string(),
                d.user_restarts.to_string(),
                d.restarts_in_active_hours.to_string(),
                d.install_failures.to_string(),
                d.rollbacks.to_string(),
                d.issue_hits.to_string(),
                d.held.to_string(),
                d.ineligible.to_string(),
                opt(d.rule_fired_hours),
                d.issue_hits_at_rule
                    .map_or(String::new(), |x| x.to_string()),
                opt(d.paused_by_monitoring_hours),
                d.exposure_device_days.to_string(),
                opt(d.share_compliant_at_exploit),
                opt(d.exposure_after_exploit_device_days),
                d.devices_rolled_back.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// The compliant share of `targeted` devices, rounded as in `summary.json`.
fn share(compliant: u64, targeted: u64) -> f64 {
    if targeted > 0 {
        (compliant as f64 / targeted as f64 * 1e6).round() / 1e6
    } else {
        0.0
    }
}

/// `segments.csv`: per deployment and segment of its audience, the devices targeted and compliant
/// at the end and the hours to 50/90/95/99 % by the definitions of `summary.csv`, so that rings
/// made of segments can be read ring by ring, then the segment's restarts by the definitions of
/// `summary.csv` (after the older columns, so that readers by position still find them). Segments
/// without a device in the deployment's audience at the end and without a restart for it have no
/// row: one whose devices restarted and then left the audience keeps its row, so that the rows'
/// restarts add up to the deployment's.
pub fn segments_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>, Error> {
    let (_, rows) = segment_rows(sc.segments.iter().map(|s| s.name.as_str()));
    csv_bytes("segments.csv", |w| {
        w.write_record([
            "deployment",
            "segment",
            "devices_targeted",
            "devices_compliant",
            "share_compliant",
            "hours_to_50",
            "hours_to_90",
            "hours_to_95",
            "hours_to_99",
            "forced_restarts",
            "auto_restarts",
            "user_restarts",
            "restarts_in_active_hours",
        ])?;
        for (d, dep) in sc.deployments.iter().enumerate() {
            for (row, name) in rows.iter().enumerate() {
                let c = r.recorder.segment(d, row);
                let restarts = c.restarts;
                if c.targeted == 0 && restarts == RestartCounts::default() {
                    continue;
                }
                let hours = c.reached.map(|t| opt(t.map(hours_f64)));
                let [h50, h90, h95, h99] = hours;
                w.write_record([
                    csv_text(&dep.name),
                    csv_text(name),
                    c.targeted.to_string(),
                    c.compliant.to_string(),
                    share(c.compliant, c.targeted).to_string(),
                    h50,
                    h90,
                    h95,
                    h99,
                    restarts.forced.to_string(),
                    restarts.auto.to_string(),
                    restarts.user.to_string(),
                    restarts.in_active_hours.to_string(),
                ])?;
            }
        }
        Ok(())
    })
}

/// `events.csv`: the deployment log in time order: state changes, offers and waves, actions,
/// rule firings, holds; each row's numbers also in columns after its free-text `detail`.
pub fn events_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>, Error> {
    csv_bytes("events.csv", |w| {
        // The numeric columns come after `detail`, so that readers of the earlier columns by
        // position still find them where they were.
        let head = [
            "hours",
            "time",
            "deployment",
            "event",
            "state",
            "reason",
            "detail",
        ];
        w.write_record(head.into_iter().chain(EventNumbers::COLUMNS))?;
        for c in &r.state_changes {
            let text = [
                fmt_hours(c.at),
                format_instant(sc.start_unix, c.at),
                csv_text(&sc.deployments[c.deployment as usize].name),
                c.event.to_string(),
                c.state.to_string(),
                c.reason.to_string(),
                csv_text(&c.detail),
            ];
            w.write_record(text.into_iter().chain(c.numbers.cells()))?;
        }
        Ok(())
    })
}

/// `restarts.csv`: restarts by deployment, segment, local weekday, local hour and kind (non-zero
/// cells). `segment` is the last column, so that readers of the older file by position still find
/// theirs and readers that sum a cell's rows still get the deployment's count; it is empty when
/// the scenario names more segments than are kept by weekday and hour
/// ([`crate::metrics::MAX_RESTART_GRID_ROWS`]), a row then counting all of them.
pub fn restarts_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>, Error> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let (_, rows) = segment_rows(sc.segments.iter().map(|s| s.name.as_str()));
    let by_segment = r.recorder.restart_grid_by_segment();
    // One grid a deployment, with an empty name, when the recorder kept no more.
    let grids: Vec<(usize, &str)> = if by_segment {
        rows.iter().copied().enumerate().collect()
    } else {
        vec![(0, "")]
    };
    csv_bytes("restarts.csv", |w| {
        w.write_record([
            "deployment",
            "weekday",
            "hour",
            "kind",
            "restarts",
            "segment",
        ])?;
        for (d, dep) in sc.deployments.iter().enumerate() {
            for &(row, name) in &grids {
                for (wd, h, kind, n) in r.recorder.restart_grid(d, row) {
                    w.write_record([
                        csv_text(&dep.name),
                        DAYS[usize::from(wd)].to_string(),
                        h.to_string(),
                        kind.as_str().to_string(),
                        n.to_string(),
                        csv_text(name),
                    ])?;
                }
            }
        }
        Ok(())
    })
}

/// The files of one run folder, as (name, bytes).
pub fn run_files(sc: &Scenario, r: &RunResult) -> Result<Vec<(&'static str, Vec<u8>)>, Error> {
    let s = summary(sc, r);
    Ok(vec![
        ("timeseries.csv", timeseries_csv(sc, r)?),
        ("summary.json", summary_json(&s)),
        ("summary.csv", summary_csv(&s)?),
        ("segments.csv", segments_csv(sc, r)?),
        ("events.csv", events_csv(sc, r)?),
        ("restarts.csv", restarts_csv(sc, r)?),
    ])
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `files` into folder `dir` atomically: everything goes to a temporary sibling first,
/// which then replaces `dir`.
pub fn write_dir_atomic(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), Error> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The swap below moves whatever is at `dir` aside and deletes it: that must be a folder,
    // never a user's file (the command line refuses it earlier with a clearer message).
    if dir.symlink_metadata().is_ok() && !dir.is_dir() {
        return Err(write_err(dir, "exists and is not a folder; not replaced"));
    }
    fs::create_dir_all(&parent).map_err(|e| write_err(&parent, e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    // Leftovers of a run killed while writing this folder are hidden; clear them now. Only
    // folders: a file under such a name is a user's file that an older version moved aside.
    if let Ok(entries) = fs::read_dir(&parent) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let ours =
                n.starts_with(&format!(".{name}.tmp-")) || n.starts_with(&format!(".{name}.old-"));
            if ours && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    // Errors name the folder the user asked for and its files, never the temporary folder: its
    // name (`.out.tmp-7483`) means nothing to them.
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(|e| {
        write_err(
            dir,
            format!("cannot create a folder in {}: {e}", parent.display()),
        )
    })?;
    for (f, bytes) in files {
        let p = tmp.join(f);
        // A scenario's inputs keep their relative paths (`graph/body.json`).
        if let Some(d) = p.parent().filter(|d| *d != tmp)
            && let Err(e) = fs::create_dir_all(d)
        {
            let _ = fs::remove_dir_all(&tmp);
            return Err(write_err(&dir.join(d.strip_prefix(&tmp).unwrap_or(d)), e));
        }
        if let Err(e) = fs::write(&p, bytes) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(write_err(&dir.join(f), e));
        }
    }
    // Swap: move the old folder aside, move the new one in, then delete the old one.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).map_err(|e| write_err(dir, e))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(write_err(dir, e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

/// The short human summary printed after a run.
pub fn terminal_summary(s: &Summary, out: &Path) -> String {
    let mut t = format!(
        "{}: {} devices, {}, seed {}{}\n",
        s.scenario,
        s.devices,
        fmt_span((s.horizon_hours * HOUR as f64).round() as Time),
        s.seed,
        // Replication 0 goes without saying; another is a run of a batch looked at alone.
        if s.replication > 0 {
            format!(", replication {}", s.replication)
        } else {
            String::new()
        }
    );
    // A threshold time is the time from which the share stayed at or above it: none when the
    // share is below it at the end, though it may have been above it before.
    // The 95 % mark is the one a plan is judged by: it alone gets its date, so that the line
    // stays short.
    let start = start_unix_of(&s.start);
    for d in &s.deployments {
        let h = |i: usize, v: Option<f64>| match v {
            Some(x) if i == 2 => hours_and_date(x, start),
            Some(x) => format!("{x:.1} h"),
            None if d.ever_reached[i] => "not held at end".to_string(),
            None => "not reached".to_string(),
        };
        t.push_str(&format!(
            "  {}{}: {}/{} {} ({}), 50 % {}, 90 % {}, 95 % {}, 99 % {}\n",
            d.name,
            expedited_mark(d.expedited),
            d.devices_compliant,
            d.devices_targeted,
            d.goal_state,
            percent(d.share_compliant),
            h(0, d.hours_to_50),
            h(1, d.hours_to_90),
            h(2, d.hours_to_95),
            h(3, d.hours_to_99),
        ));
        // The exploit's figures close the line that has the exposure, only when there is one.
        let exploit = match (
            s.exploit_hours,
            d.share_compliant_at_exploit,
            d.exposure_after_exploit_device_days,
        ) {
            (Some(at), Some(share), Some(after)) => format!(
                "; at the exploit ({at:.1} h{}{}) {} compliant, then {after:.1} device-days exposed",
                start.map_or(String::new(), |st| format!(", {}", date_text(st, at))),
                if at < 0.0 {
                    ", before the start: figures from the start"
                } else {
                    ""
                },
                percent(share)
            ),
            _ => String::new(),
        };
        // Rollbacks are events: a device that retries rolls back again and again, so the count
        // alone reads as that many devices.
        let rolled_back = match d.devices_rolled_back {
            0 => String::new(),
            1 => " (1 device)".to_string(),
            n => format!(" ({n} devices)"),
        };
        t.push_str(&format!(
            "    restarts: {} forced, {} automatic, {} by users; {} forced or automatic in active hours; {} failed installs, {} rollbacks{rolled_back}; exposure {:.1} device-days{exploit}\n",
            d.forced_restarts, d.auto_restarts, d.user_restarts, d.restarts_in_active_hours, d.install_failures, d.rollbacks, d.exposure_device_days
        ));
        if d.held > 0 || d.issue_hits > 0 {
            t.push_str(&format!(
                "    safety: {} devices hit by issues, {} holds, {} ineligible\n",
                d.issue_hits, d.held, d.ineligible
            ));
        }
        if let Some(likely) = &d.likely_issue_holds {
            t.push_str(&format!("    {}\n", likely.text()));
        }
        for f in &d.rule_firings {
            t.push_str(&format!("    {}\n", f.text()));
        }
        for m in &d.rules_not_fired {
            t.push_str(&format!("    {}\n", m.text()));
        }
        // A deployment that ends anything but offering (paused, archived, faulted, or still
        // scheduled) says so and why: a monitoring pause outlives a resume request.
        if let Some(end) = final_state_text(&d.state_changes) {
            t.push_str(&format!("    {end}\n"));
        }
        if let Some(held) = d.held_at_end.text() {
            t.push_str(&format!("    {held}\n"));
        }
    }
    for i in &s.issues {
        t.push_str(&format!("  {}\n", i.text()));
    }
    t.push_str(&format!("  results in {}\n", out.display()));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(hours: &[Option<f64>]) -> String {
        ThresholdSpread::new(95, hours).text()
    }

    #[test]
    fn the_tails_of_ten_runs_or_fewer_are_called_min_and_max_as_they_are_the_extreme_runs() {
        for n in 1..=10 {
            assert_eq!(tail_names(n), ("min", "max"), "{n} runs");
        }
        // From 11 runs on, rank round(q(n - 1)) leaves the fastest run out, from 12 the
        // slowest too.
        assert_eq!(tail_names(11), ("p5", "max"));
        assert_eq!(tail_names(12), ("p5", "p95"));
        assert_eq!(tail_names(20), ("p5", "p95"));
        assert_eq!(tail_names(200), ("p5", "p95"));
    }

    #[test]
    fn a_time_across_runs_says_in_how_many_runs_it_was_reached_never_not_held() {
        let n = None;
        assert_eq!(spread(&[n, n, n]), "95 % in none of 3 runs");
        assert_eq!(spread(&[Some(4.25)]), "95 % at 4.2 h");
        assert_eq!(
            spread(&[Some(3.0), Some(1.0), Some(2.0)]),
            "95 % at 2.0 h (median of 3 runs; min 1.0 h, max 3.0 h)"
        );
        assert_eq!(
            spread(&[Some(3.0), Some(1.0), n]),
            "95 % in 2 of 3 runs: median 3.0 h (min 1.0 h, max not by the end)"
        );
        // When the median run does not get there, the runs that did are told.
        assert_eq!(
            spread(&[n, Some(41.23), n]),
            "95 % in 1 of 3 runs (at 41.2 h)"
        );
        assert_eq!(
            spread(&[n, Some(41.23), n, Some(40.0), n]),
            "95 % in 2 of 5 runs (between 40.0 h and 41.2 h)"
        );
        for s in [spread(&[n, n]), spread(&[n, Some(1.0), n])] {
            assert!(!s.contains("never") && !s.contains("not held"), "{s}");
        }
    }

    #[test]
    fn runs_that_reached_a_threshold_and_fell_back_are_told_apart_when_known() {
        let n = None;
        let lost = |hours: &[Option<f64>], k| {
            ThresholdSpread::new(95, hours)
                .with_not_held(Some(k))
                .text()
        };
        assert_eq!(
            lost(&[n, n, n], 2),
            "95 % in none of 3 runs (reached but not held at the end in 2)"
        );
        assert_eq!(
            lost(&[Some(3.0), Some(1.0), n], 1),
            "95 % in 2 of 3 runs (reached but not held at the end in 1): median 3.0 h (min 1.0 h, max not by the end)"
        );
        assert_eq!(
            lost(&[n, Some(41.23), n], 1),
            "95 % in 1 of 3 runs (at 41.2 h; reached but not held at the end in 1)"
        );
        assert_eq!(
            lost(&[n, Some(41.23), n, Some(40.0), n], 3),
            "95 % in 2 of 5 runs (between 40.0 h and 41.2 h; reached but not held at the end in 3)"
        );
        // None lost: the words of before.
        assert_eq!(lost(&[n, Some(41.23), n], 0), spread(&[n, Some(41.23), n]));
        assert_eq!(not_held_text(f64::from(not_held_mask(&[50, 90]))), "50;90");
        assert_eq!(not_held_text(0.0), "");
        assert_eq!(not_held_of_text("50;90"), Some(not_held_mask(&[50, 90])));
        assert_eq!(not_held_of_text(""), Some(0));
        assert_eq!(not_held_of_text("42"), None);
    }

    #[test]
    fn the_not_held_column_of_runs_csv_reads_back_as_in_memory() {
        let csv = "variant,replication,seed,deployment,hours_to_50,hours_to_90,hours_to_95,not_held_at_end\n\
                   base,0,1,a,1,2,,95\n\
                   base,1,1,a,1,,,90;95\n\
                   base,2,1,a,1,2,3,\n";
        let a = AcrossOut::from_runs_csv(csv.as_bytes()).expect("runs.csv");
        assert!(
            a[0].text().starts_with(
                "a: 95 % in 1 of 3 runs (at 3.0 h; reached but not held at the end in 2);"
            ),
            "{}",
            a[0].text()
        );
        assert_eq!(a[0].time(90).and_then(|t| t.not_held), Some(1));
        let mem = AcrossOut::new("a", |m| match m {
            "hours_to_50" => vec![Some(1.0); 3],
            "hours_to_90" => vec![Some(2.0), None, Some(2.0)],
            "hours_to_95" => vec![None, None, Some(3.0)],
            NOT_HELD_AT_END => vec![Some(4.0), Some(6.0), Some(0.0)],
            _ => Vec::new(),
        });
        assert_eq!(mem, a[0]);
    }

    #[test]
    fn the_across_runs_line_read_back_from_runs_csv_is_the_one_computed_in_memory() {
        let csv = "variant,replication,seed,deployment,hours_to_50,hours_to_90,hours_to_95,forced_restarts,restarts_in_active_hours,issue_hits,rule_fired_hours\n\
                   base,0,1,'-p,1,2,,3,0,7,\n\
                   base,0,1,b,1,2,5,0,0,0,\n\
                   base,1,1,'-p,1,2,4,4,1,9,2.5\n\
                   base,1,1,b,1,2,6,0,0,0,\n";
        let a = AcrossOut::from_runs_csv(csv.as_bytes()).expect("runs.csv");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].deployment, "-p");
        assert_eq!(
            a[0].text(),
            "-p: 95 % in 1 of 2 runs (at 4.0 h); forced restarts 4, restarts in active hours 1 (median); devices hit by issues 9 (median); a monitoring rule fired in 1 of 2"
        );
        assert_eq!(
            a[1].text(),
            "b: 95 % at 6.0 h (median of 2 runs; min 5.0 h, max 6.0 h); forced restarts 0, restarts in active hours 0 (median)"
        );
        let mem = AcrossOut::new("-p", |m| match m {
            "hours_to_50" => vec![Some(1.0), Some(1.0)],
            "hours_to_90" => vec![Some(2.0), Some(2.0)],
            "hours_to_95" => vec![None, Some(4.0)],
            "forced_restarts" => vec![Some(3.0), Some(4.0)],
            "restarts_in_active_hours" => vec![Some(0.0), Some(1.0)],
            "issue_hits" => vec![Some(7.0), Some(9.0)],
            "rule_fired_hours" => vec![None, Some(2.5)],
            _ => Vec::new(),
        });
        assert_eq!(mem, a[0]);
    }

    #[test]
    fn likely_issue_holds_are_told_with_how_many_held_devices_match_an_issue_and_as_an_assumption()
    {
        let out = |devices, matching_issue, first| {
            LikelyHoldsOut::from_run(LikelyHeld {
                devices,
                matching_issue,
                first,
            })
        };
        assert_eq!(out(0, 0, None), None, "no device held: nothing to tell");
        let start = out(322, 161, Some(0)).expect("held");
        assert_eq!(start.not_matching_issue, 161);
        assert_eq!(
            start.text(),
            "likely-issue holds: 322 devices held from the start (161 matching an issue, 161 not); an assumption: [safety] likely_issues"
        );
        // A deployment that opts in mid-run holds them from then.
        assert_eq!(
            out(1, 0, Some(5 * HOUR)).expect("held").text(),
            "likely-issue holds: 1 device held from 5.0 h (0 matching an issue, 1 not); an assumption: [safety] likely_issues"
        );
        let json = serde_json::to_value(start).expect("serialises");
        assert_eq!(LikelyHoldsOut::from_json(&json), Some(start));
    }

    #[test]
    fn devices_still_held_at_the_end_are_told_by_kind_of_hold() {
        let h = |devices, known_issue, likely_issue| {
            HeldAtEndOut {
                devices,
                known_issue,
                likely_issue,
            }
            .text()
        };
        assert_eq!(h(0, 0, 0), None);
        assert_eq!(
            h(986, 0, 986).as_deref(),
            Some("still held at the end: 986 devices, by likely-issue safeguard holds")
        );
        assert_eq!(
            h(1, 1, 0).as_deref(),
            Some("still held at the end: 1 device, by a known issue's safeguard hold")
        );
        assert_eq!(
            h(990, 10, 985).as_deref(),
            Some(
                "still held at the end: 990 devices (10 by a known-issue hold, 985 by a likely-issue hold)"
            )
        );
    }

    #[test]
    fn a_deployment_that_ends_offering_has_no_final_state_line() {
        let c = |hours, state: &str, reason: &str| StateChangeOut {
            hours,
            state: state.into(),
            reason: reason.into(),
        };
        let paused = [
            c(0.0, "offering", "offeringByRequest"),
            c(104.0, "paused", "pausedByMonitoring"),
        ];
        assert_eq!(
            final_state_text(&paused).as_deref(),
            Some("paused at the end since 104.0 h (pausedByMonitoring)")
        );
        assert_eq!(final_state_text(&paused[..1]), None);
        let v = serde_json::to_value(&paused[1]).expect("json");
        assert_eq!(StateChangeOut::from_json(&v).as_ref(), Some(&paused[1]));
    }

    #[test]
    fn hours_since_the_start_read_as_a_utc_date_to_the_minute() {
        let start = start_unix_of("2026-03-02T14:00:00Z").expect("start");
        assert_eq!(date_text(start, 410.4), "2026-03-19 16:24 UTC");
        // summary.json's four decimals round back to the exact second.
        assert_eq!(date_text(start, 0.0167), "2026-03-02 14:01 UTC");
        assert_eq!(
            hours_and_date(410.4, Some(start)),
            "410.4 h (2026-03-19 16:24 UTC)"
        );
        assert_eq!(hours_and_date(410.4, None), "410.4 h");
        assert_eq!(start_unix_of("not a date"), None);
    }

    #[test]
    fn a_share_short_of_everyone_is_never_told_as_100_percent() {
        assert_eq!(percent(0.99996), "> 99.9 %");
        assert_eq!(percent(1.0), "100.0 %");
        assert_eq!(percent(0.0004), "< 0.1 %");
        assert_eq!(percent(0.0), "0.0 %");
        assert_eq!(percent(0.954), "95.4 %");
    }

    #[test]
    fn a_row_shorter_than_the_header_is_an_error_not_a_cut_off_file() {
        let r = csv_bytes("x.csv", |w| {
            w.write_record(["a", "b"])?;
            w.write_record(["1"])
        });
        assert!(matches!(r, Err(Error::Write { .. })), "{r:?}");
    }

    #[test]
    fn hours_are_printed_without_trailing_zeros() {
        assert_eq!(fmt_hours(0), "0");
        assert_eq!(fmt_hours(5400), "1.5");
        assert_eq!(fmt_hours(60), "0.0167");
    }

    #[test]
    fn formula_like_text_is_defused_in_csv() {
        assert_eq!(csv_text("=cmd()"), "'=cmd()");
        assert_eq!(csv_text("pilot"), "pilot");
    }

    #[test]
    fn a_failed_atomic_write_names_the_folder_asked_for_and_its_file_not_the_temporary_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        // `a` is a file, so the folder `a/` cannot be made in the temporary folder.
        let files = [("a", b"1".to_vec()), ("a/b.txt", b"2".to_vec())];
        let err = write_dir_atomic(&out, &files).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("cannot write {}: ", out.join("a").display())),
            "{err}"
        );
        assert!(!err.contains(".tmp-"), "{err}");
        assert!(!out.exists(), "nothing half-written");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 0, "the temporary folder is removed");
        // A folder no folder can be made in (Linux: /proc, even for root).
        if cfg!(target_os = "linux") {
            let out = Path::new("/proc/rollsim-forbidden");
            let err = write_dir_atomic(out, &files[..1]).unwrap_err().to_string();
            assert!(
                err.starts_with(
                    "cannot write /proc/rollsim-forbidden: cannot create a folder in /proc: "
                ),
                "{err}"
            );
            assert!(!err.contains(".tmp-"), "{err}");
        }
    }

    #[test]
    fn an_atomic_write_replaces_the_old_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        write_dir_atomic(&out, &[("a.txt", b"1".to_vec()), ("b.txt", b"2".to_vec())]).unwrap();
        write_dir_atomic(&out, &[("a.txt", b"3".to_vec())]).unwrap();
        assert_eq!(fs::read(out.join("a.txt")).unwrap(), b"3");
        assert!(!out.join("b.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
