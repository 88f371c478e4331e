//! Outputs of a run: `timeseries.csv`, `summary.json`, `summary.csv`, `segments.csv`,
//! `events.csv`, `restarts.csv`, and the short summary printed on the terminal.
//!
//! Exporters are pure functions from results to bytes (`reference/style-by-example.md` §2.10);
//! [`write_run`] is the only place that touches the file system. It writes into a temporary sibling
//! folder and renames it into place, so an interrupted run leaves either the previous complete
//! output or none, never a half-written one.

pub mod charts;
pub mod html;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::metrics::{State, THRESHOLDS, segment_rows};
use crate::scenario::Scenario;
use crate::service::{Denominator, EventNumbers};
use crate::sim::RunResult;
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
    /// Whether the share was at or above 50, 90, 95 and 99 % at some instant (for the terminal,
    /// which says "not reached" or "not held at end" where an `hours_to_X` is null).
    #[serde(skip)]
    pub ever_reached: [bool; 4],
    /// The thresholds (50, 90, 95, 99) the compliant share reached at some instant but was
    /// below at the end: why an `hours_to_X` is null though the share got there ("not held at
    /// end" on the terminal), not never reached.
    pub not_held_at_end: Vec<u32>,
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
    /// Distinct devices hit by the hidden issues of this deployment's content (failed install,
    /// rollback, incident or ineligible).
    pub issue_hits: u64,
    /// Times a device of the audience was put on a safeguard hold (entered `held`). A device
    /// leaving the audience and rejoining it in the state it left in (failed, rolled back, held)
    /// is not counted again in this or the two counts above.
    pub held: u64,
    /// Distinct devices found ineligible for the content (by this or another deployment of it).
    pub ineligible: u64,
    /// Hours until the first monitoring rule fired (null when none did).
    pub rule_fired_hours: Option<f64>,
    /// Distinct devices hit by the issues of this deployment's content when the first rule fired
    /// (ground truth, null when none fired).
    pub issue_hits_at_rule: Option<u64>,
    /// Hours until a monitoring rule paused the deployment (null when none did).
    pub paused_by_monitoring_hours: Option<f64>,
    /// Every rule firing.
    pub rule_firings: Vec<RuleFiringOut>,
    /// The monitoring rules in force at the end that never fired, with the highest share their
    /// signal reached (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules_not_fired: Vec<RuleMissOut>,
    /// Deployment state changes.
    pub state_changes: Vec<StateChangeOut>,
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
        ];
        METRICS.iter().copied().zip(values).collect()
    }
}

/// Names of [`DeploymentSummary::metrics`].
pub const METRICS: [&str; 20] = [
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
            let reached = |pct: u32| {
                THRESHOLDS
                    .iter()
                    .position(|&x| x == pct)
                    .and_then(|i| c.reached[i])
                    .map(hours_f64)
            };
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
                ever_reached: c.ever_reached,
                not_held_at_end: THRESHOLDS
                    .iter()
                    .zip(c.ever_reached)
                    .filter(|&(&pct, ever)| ever && reached(pct).is_none())
                    .map(|(&pct, _)| pct)
                    .collect(),
                forced_restarts: c.forced_restarts,
                auto_restarts: c.auto_restarts,
                user_restarts: c.user_restarts,
                restarts_in_active_hours: c.restarts_in_active_hours,
                install_failures: c.install_failures,
                rollbacks: c.rollbacks,
                issue_hits: r.issue_hits.get(d).copied().unwrap_or(0),
                held: c.held,
                ineligible: r.ineligible.get(d).copied().unwrap_or(0),
                rule_fired_hours: firings.first().map(|f| hours_f64(f.at)),
                issue_hits_at_rule: firings.first().map(|f| f.devices_hit),
                paused_by_monitoring_hours: firings
                    .iter()
                    .find(|f| f.action == "pauseDeployment")
                    .map(|f| hours_f64(f.at)),
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
            }
        })
        .collect();
    Summary {
        scenario: sc.name.clone(),
        start: format_instant(sc.start_unix, 0),
        horizon_hours: hours_f64(sc.horizon),
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
            })
            .collect(),
    }
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
/// made of segments can be read ring by ring. Segments without a device in the deployment's
/// audience at the end have no row.
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
        ])?;
        for (d, dep) in sc.deployments.iter().enumerate() {
            for (row, name) in rows.iter().enumerate() {
                let c = r.recorder.segment(d, row);
                if c.targeted == 0 {
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

/// `restarts.csv`: restarts by deployment, local weekday, local hour and kind (non-zero cells).
pub fn restarts_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>, Error> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const KINDS: [&str; 3] = ["forced", "auto", "user"];
    csv_bytes("restarts.csv", |w| {
        w.write_record(["deployment", "weekday", "hour", "kind", "restarts"])?;
        for (d, dep) in sc.deployments.iter().enumerate() {
            for (wd, hours) in r.recorder.restarts[d].iter().enumerate() {
                for (h, kinds) in hours.iter().enumerate() {
                    for (k, &n) in kinds.iter().enumerate() {
                        if n > 0 {
                            w.write_record([
                                csv_text(&dep.name),
                                DAYS[wd].to_string(),
                                h.to_string(),
                                KINDS[k].to_string(),
                                n.to_string(),
                            ])?;
                        }
                    }
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
        "{}: {} devices, {}, seed {}\n",
        s.scenario,
        s.devices,
        fmt_span((s.horizon_hours * HOUR as f64).round() as Time),
        s.seed
    );
    // A threshold time is the time from which the share stayed at or above it: none when the
    // share is below it at the end, though it may have been above it before.
    for d in &s.deployments {
        let h = |i: usize, v: Option<f64>| match v {
            Some(x) => format!("{x:.1} h"),
            None if d.ever_reached[i] => "not held at end".to_string(),
            None => "not reached".to_string(),
        };
        t.push_str(&format!(
            "  {}: {}/{} {} ({}), 50 % {}, 90 % {}, 95 % {}, 99 % {}\n",
            d.name,
            d.devices_compliant,
            d.devices_targeted,
            d.goal_state,
            percent(d.share_compliant),
            h(0, d.hours_to_50),
            h(1, d.hours_to_90),
            h(2, d.hours_to_95),
            h(3, d.hours_to_99),
        ));
        t.push_str(&format!(
            "    restarts: {} forced, {} automatic, {} by users; {} in active hours; {} failed installs, {} rollbacks\n",
            d.forced_restarts, d.auto_restarts, d.user_restarts, d.restarts_in_active_hours, d.install_failures, d.rollbacks
        ));
        if d.held > 0 || d.issue_hits > 0 {
            t.push_str(&format!(
                "    safety: {} devices hit by issues, {} holds, {} ineligible\n",
                d.issue_hits, d.held, d.ineligible
            ));
        }
        for f in &d.rule_firings {
            t.push_str(&format!("    {}\n", f.text()));
        }
        for m in &d.rules_not_fired {
            t.push_str(&format!("    {}\n", m.text()));
        }
        // A deployment that ends anything but offering (paused, archived, faulted, or still
        // scheduled) says so and why: a monitoring pause outlives a resume request.
        if let Some(last) = d.state_changes.last()
            && last.state != "offering"
        {
            t.push_str(&format!(
                "    {} at the end since {:.1} h ({})\n",
                last.state, last.hours, last.reason
            ));
        }
    }
    for i in &s.issues {
        t.push_str(&format!(
            "  issue \"{}\": {} of {} matching devices hit ({} failed, {} rolled back, {} incidents); hold {}\n",
            i.name,
            i.devices_hit,
            i.devices_matching,
            i.failed,
            i.rolled_back,
            i.incidents,
            match (i.hold_hours, i.released_hours) {
                (Some(a), Some(b)) => format!("{a:.1} h → {b:.1} h"),
                (Some(a), None) => format!("from {a:.1} h"),
                _ => "never".to_string(),
            }
        ));
    }
    t.push_str(&format!("  results in {}\n", out.display()));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

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
