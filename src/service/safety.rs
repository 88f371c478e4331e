//! Safety: hidden issues (ground truth), safeguard holds, likely-issue safeguards and monitoring
//! rules (`reference/deployment-service.md` §2 "monitoringSettings", §6 "Safeguards";
//! `reference/client-timing.md` §4 "auto-pause on rollback signals", §5 rollback, §6 reporting
//! latency, §7 safeguard holds).
//!
//! - An **issue** is a predicate over device attributes and the content it affects, with effects:
//!   extra install-failure probability, rollback probability after the restart (the device returns
//!   to its old build and is not compliant), post-update incident probability, or ineligibility.
//!   The simulated service does not see issues; it sees only what devices *report*.
//! - **Reports** reach the service `signal_delay` after the device event (reporting latency:
//!   24–48 h in the fact sheet, default 24 h): rollbacks (from any cause — background rollbacks make
//!   rules fire falsely), ineligibility, and issue hits (for holds that wait for K affected devices).
//! - A **known-issue safeguard hold** (feature updates only) is placed at a time or once K
//!   affected devices have reported the issue; matching devices are not offered that content until
//!   the hold is released (at a time, or a delay after it was placed). Deployments cannot disable it.
//! - **Likely-issue safeguards** (feature updates): a model flags devices at higher risk with a given
//!   precision and recall against the ground truth (the devices matching an issue of that content
//!   that it can predict: not one marked `predictable = false`, such as an in-house issue);
//!   flagged devices are held from the start unless the deployment disables `likelyIssues`. A
//!   model that flags no device places no hold.
//! - **Monitoring rules** (OR-combined) compare reported signals with a denominator — the devices
//!   offered so far (default) or the devices that reported a finished install — and fire once
//!   `signals × 100 ≥ threshold × denominator`. `pauseDeployment` pauses with
//!   `pausedByMonitoring`; `alertError` records an alert; `offerFallback` (with `ineligible`)
//!   records that ineligible devices are offered the fallback. A monitoring pause is lifted only by a
//!   settings change of the rules after which no pausing rule fires at the current counts.

use crate::fleet::filter::Filter;
use crate::time::{Secs, Time};

/// When a known issue turns into a safeguard hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// At this time (relative to the scenario start).
    At(Time),
    /// Once this many affected devices have reported it.
    AfterDevices(u32),
}

/// When a safeguard hold is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// At this time.
    At(Time),
    /// This long after the hold was placed.
    After(Secs),
}

/// A hidden issue: the ground truth of the what-if.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueDef {
    /// Name.
    pub name: String,
    /// Content index it affects.
    pub content: u16,
    /// Devices affected.
    pub filter: Filter,
    /// Extra probability that an install attempt fails.
    pub install_failure: f64,
    /// Probability that the device rolls back after the restart.
    pub rollback: f64,
    /// Probability of a post-update incident (the device stays updated).
    pub incident: f64,
    /// Affected devices are not eligible for the content at all.
    pub ineligible: bool,
    /// When it becomes a safeguard hold (feature updates only).
    pub known: Option<Known>,
    /// When the hold is released.
    pub release: Option<Release>,
    /// Whether the likely-issue model can predict it (`predictable`, default true): an in-house
    /// issue (your own app or driver) is one Microsoft's model cannot see, so it flags none of
    /// its devices for it.
    pub predictable: bool,
}

/// Denominator of monitoring rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Denominator {
    /// Devices offered the deployment so far.
    #[default]
    Offered,
    /// Devices that reported a finished install (restarted into the update or rolled back).
    Installed,
}

/// Service-side safety parameters (`[safeguards]` and `[monitoring]` of a scenario).
#[derive(Clone, Debug, PartialEq)]
pub struct SafetyParams {
    /// Delay between a device event and its report reaching the service.
    pub signal_delay: Secs,
    /// Denominator of monitoring rules.
    pub denominator: Denominator,
    /// Fewer devices in the denominator than this and rules do not fire.
    pub min_devices: u64,
    /// Likely-issue model: share of flagged devices that are truly at risk.
    pub likely_precision: f64,
    /// Likely-issue model: share of at-risk devices that are flagged.
    pub likely_recall: f64,
    /// When likely-issue holds are released.
    pub likely_release: LikelyRelease,
}

/// When the likely-issue model's holds on a content end. client-timing.md §7: they "last while
/// Microsoft investigates"; in rollsim an investigation ends when the issue's known-issue hold
/// is released (a validated fix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LikelyRelease {
    /// With the content's issues: once every issue of the content that puts devices at risk has
    /// had its known-issue hold released (an issue that never becomes known, or whose hold is
    /// never released, keeps them).
    WithIssues,
    /// At an instant, for every content.
    At(Time),
    /// Never within the horizon.
    Never,
}

impl Default for SafetyParams {
    fn default() -> Self {
        Self {
            signal_delay: 24 * 3600,
            denominator: Denominator::Offered,
            min_devices: 0,
            // Assumptions: Microsoft publishes no figures for its model.
            likely_precision: 0.5,
            likely_recall: 0.5,
            likely_release: LikelyRelease::WithIssues,
        }
    }
}

/// What a device reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Report {
    /// It rolled back after the restart, and no issue is the cause (the background rate).
    Rollback,
    /// It rolled back after the restart, an issue that affects it the cause: a hit of the issue,
    /// and a rollback like any other to the monitoring rules.
    IssueRollback,
    /// It is not eligible for the content.
    Ineligible,
    /// It hit an issue in another way (failed install, incident).
    Hit,
    /// It finished installing (restarted into the update).
    Installed,
}

/// Per-issue counters, for the summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IssueStats {
    /// Devices matching the predicate.
    pub matching: u64,
    /// Distinct devices hit in any way.
    pub hit: u64,
    /// Failed installs caused by the issue.
    pub failed: u64,
    /// Rollbacks of affected devices.
    pub rolled_back: u64,
    /// Post-update incidents.
    pub incidents: u64,
    /// Distinct devices found ineligible.
    pub ineligible: u64,
    /// Reports of the issue's hits received by the service (failed installs, rollbacks and
    /// incidents it caused).
    pub reported: u64,
    /// When the hold was placed.
    pub hold_at: Option<Time>,
    /// When the hold was released.
    pub released_at: Option<Time>,
}

/// A monitoring rule that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFiring {
    /// Deployment index.
    pub deployment: u16,
    /// Rule index in the deployment's settings at the time.
    pub rule: usize,
    /// When.
    pub at: Time,
    /// `signal`, `threshold`, `action` as written.
    pub signal: &'static str,
    /// Threshold in percent.
    pub threshold: u8,
    /// Action.
    pub action: &'static str,
    /// Signals counted / denominator at the time.
    pub signals: u64,
    /// Denominator at the time.
    pub denominator: u64,
    /// Distinct devices hit by any issue of the deployment's content by then (ground truth).
    pub devices_hit: u64,
}

/// The highest share a monitoring rule's signal reached while the rule had not fired, at the
/// moments the rule was judged (a report arrived with at least `min_devices` in the
/// denominator): how close the rule came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RulePeak {
    /// When it was first reached.
    pub at: Time,
    /// Signals counted.
    pub signals: u64,
    /// Denominator then.
    pub denominator: u64,
}

/// A monitoring rule in force at the end that never fired (since its settings were last
/// written), with the highest share its signal reached.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleMiss {
    /// Deployment index.
    pub deployment: u16,
    /// `signal`, `threshold`, `action` as written.
    pub signal: &'static str,
    /// Threshold in percent.
    pub threshold: u8,
    /// Action.
    pub action: &'static str,
    /// The highest share reached; none when the rule was never judged (no report came, or the
    /// denominator stayed below `min_devices`).
    pub peak: Option<RulePeak>,
}

fn signal_name(s: Signal) -> &'static str {
    match s {
        Signal::Rollback => "rollback",
        Signal::Ineligible => "ineligible",
    }
}

fn action_name(a: RuleAction) -> &'static str {
    match a {
        RuleAction::AlertError => "alertError",
        RuleAction::PauseDeployment => "pauseDeployment",
        RuleAction::OfferFallback => "offerFallback",
    }
}

use super::{DeviceSet, LogLine, Outbox, RuleAction, Service, ServiceEvent, Signal, Touch};
use crate::client::{Category, index16};
use crate::fleet::Fleet;
use crate::rng::{RunKey, Stream};
use rand::RngExt;

/// Combined effect of the issues matching one device for one content.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Effects {
    /// Extra install-failure probability.
    pub install_failure: f64,
    /// Rollback probability after the restart (issues only; background comes from the client).
    pub rollback: f64,
    /// Incident probability after a successful restart.
    pub incident: f64,
}

fn either(a: f64, b: f64) -> f64 {
    1.0 - (1.0 - a) * (1.0 - b)
}

fn sample(mut v: Vec<u32>, k: usize, rng: &mut crate::rng::StreamRng) -> Vec<u32> {
    let k = k.min(v.len());
    for i in 0..k {
        let j = rng.random_range(i..v.len());
        v.swap(i, j);
    }
    v.truncate(k);
    v
}

impl Service<'_> {
    /// Matches issues against the fleet and runs the likely-issue model.
    pub(super) fn setup_issues(&mut self, fleet: &Fleet, key: RunKey) {
        for issue in self.issues {
            let m = issue.filter.matches(fleet);
            let mut set = DeviceSet::with_len(self.n);
            let mut count = 0;
            for (d, &hit) in m.iter().enumerate() {
                if hit {
                    set.insert(d as u32);
                    count += 1;
                }
            }
            self.issue_match.push(set);
            self.issue_hit.push(DeviceSet::with_len(self.n));
            self.issue_stats.push(IssueStats {
                matching: count,
                ..IssueStats::default()
            });
        }
        self.has_issues = (0..self.contents.len())
            .map(|c| self.issues.iter().any(|x| usize::from(x.content) == c))
            .collect();
        self.likely = (0..self.contents.len())
            .map(|c| {
                if self.contents[c].category != Category::Feature {
                    return None;
                }
                // At risk = matching an issue that harms the device and that the model can
                // predict; ineligibility is a hardware requirement the service checks, not a risk
                // the model predicts.
                let related: Vec<usize> = self.predicted_issues(index16(c)).collect();
                if related.is_empty() {
                    return None;
                }
                let (mut risk, mut safe) = (Vec::new(), Vec::new());
                for dev in 0..self.n as u32 {
                    if related.iter().any(|&i| self.issue_match[i].contains(dev)) {
                        risk.push(dev);
                    } else {
                        safe.push(dev);
                    }
                }
                let p = self.safety.likely_precision.clamp(1e-9, 1.0);
                let r = self.safety.likely_recall.clamp(0.0, 1.0);
                let tp = (r * risk.len() as f64).round() as usize;
                let fp = (tp as f64 * (1.0 - p) / p).round() as usize;
                let mut rng = key.rng_named(Stream::Issue, &self.contents[c].name);
                if tp + fp == 0 {
                    // A model that flags nothing (recall 0, or too few devices at risk) holds
                    // nothing: no hold is placed, nor logged, for no device.
                    return None;
                }
                let mut flagged = DeviceSet::with_len(self.n);
                for d in sample(risk, tp, &mut rng)
                    .into_iter()
                    .chain(sample(safe, fp, &mut rng))
                {
                    flagged.insert(d);
                }
                Some(flagged)
            })
            .collect();
    }

    /// How many devices deployment `d`'s likely-issue holds flag, when they are in force: its
    /// content has flagged devices, the model's holds are not released and the deployment does
    /// not opt out of them.
    pub(super) fn likely_in_force(&self, d: usize) -> Option<usize> {
        if self.deps[d].settings.likely_issues_disabled {
            return None;
        }
        let flagged = self.likely.get(self.defs[d].content as usize)?.as_ref()?;
        Some(flagged.iter().count())
    }

    /// The `hold_placed` log line of deployment `d`'s likely-issue holds, `n` devices flagged.
    pub(super) fn log_likely_placed(d: u16, n: usize, out: &mut Outbox) {
        out.log.push(LogLine::likely_holds_placed(d, n));
    }

    /// Service events of the safety model to schedule at the start, and the likely-issue holds
    /// in force from the start (in the log like any hold placed).
    pub(super) fn initial_safety(&self, out: &mut Outbox) {
        for (i, issue) in self.issues.iter().enumerate() {
            if let Some(Known::At(t)) = issue.known {
                out.schedule.push((t, ServiceEvent::HoldPlaced(index16(i))));
            }
        }
        for d in 0..self.defs.len() {
            if let Some(n) = self.likely_in_force(d) {
                Self::log_likely_placed(index16(d), n, out);
            }
        }
        if let LikelyRelease::At(t) = self.safety.likely_release
            && self.likely.iter().any(Option::is_some)
        {
            out.schedule.push((t, ServiceEvent::LikelyRelease));
        }
    }

    /// Which safeguard holds keep device `dev` from deployment `dep`'s content now: (a
    /// known-issue hold, a likely-issue hold); both can. Asked once per held device at the end
    /// of a run, so that the outputs can say what the devices still held wait for (a
    /// likely-issue hold ends only with its content's issues).
    pub fn hold_kinds(&self, dep: usize, dev: u32) -> (bool, bool) {
        let c = self.defs[dep].content;
        if self.contents[c as usize].category != Category::Feature {
            return (false, false);
        }
        let known = self.issues.iter().enumerate().any(|(i, issue)| {
            self.hold_active[i] && issue.content == c && self.issue_match[i].contains(dev)
        });
        let likely = !self.deps[dep].settings.likely_issues_disabled
            && self
                .likely
                .get(c as usize)
                .and_then(Option::as_ref)
                .is_some_and(|f| f.contains(dev));
        (known, likely)
    }

    /// Whether `dev` matches an issue of deployment `dep`'s content that puts devices at risk:
    /// the ground truth the likely-issue model is scored against.
    pub fn at_risk(&self, dep: usize, dev: u32) -> bool {
        let c = self.defs[dep].content;
        self.at_risk_issues(c)
            .any(|i| self.issue_match[i].contains(dev))
    }

    /// Whether device `dev` is held back from deployment `dep`'s content by a safeguard.
    /// Asked for every deployment on most device events; only feature updates have holds, so
    /// the question for a quality deployment is answered inline, without the call.
    #[inline]
    pub fn held(&self, dep: usize, dev: u32) -> bool {
        let c = self.defs[dep].content;
        self.contents[c as usize].category == Category::Feature && self.feature_held(dep, c, dev)
    }

    #[inline(never)]
    fn feature_held(&self, dep: usize, c: u16, dev: u32) -> bool {
        let known = self.issues.iter().enumerate().any(|(i, issue)| {
            self.hold_active[i] && issue.content == c && self.issue_match[i].contains(dev)
        });
        known
            || (!self.deps[dep].settings.likely_issues_disabled
                && self
                    .likely
                    .get(c as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|f| f.contains(dev)))
    }

    /// Whether `dev` is ineligible for `content` (an issue says so).
    pub(super) fn ineligible_for(&self, dev: u32, content: u16) -> bool {
        self.issues.iter().enumerate().any(|(i, issue)| {
            issue.ineligible && issue.content == content && self.issue_match[i].contains(dev)
        })
    }

    /// The issues' combined effect on `dev` installing `content`. A released safeguard hold
    /// means a validated fix is out: the issue no longer affects installs from then on. Asked
    /// at every install's and restart's end; most content has no issue, and that answer is
    /// given inline, without the call.
    #[inline]
    pub fn effects(&self, dev: u32, content: u16) -> Effects {
        if self.has_issues.get(content as usize) == Some(&true) {
            self.issue_effects(dev, content)
        } else {
            Effects::default()
        }
    }

    #[inline(never)]
    fn issue_effects(&self, dev: u32, content: u16) -> Effects {
        let mut e = Effects::default();
        for (i, issue) in self.issues.iter().enumerate() {
            if self.affects(i, dev, content) {
                e.install_failure = either(e.install_failure, issue.install_failure);
                e.rollback = either(e.rollback, issue.rollback);
                e.incident = either(e.incident, issue.incident);
            }
        }
        e
    }

    /// Whether issue `i` affects `dev` installing `content` now: it concerns both, and its
    /// safeguard hold has not been released (a release means a validated fix is out). The one
    /// test of what the effects draw from and of what a failure or rollback is attributed to,
    /// so that a background failure after the fix is no hit of the issue.
    #[inline(always)]
    fn affects(&self, i: usize, dev: u32, content: u16) -> bool {
        self.issues[i].content == content
            && self.issue_stats[i].released_at.is_none()
            && self.issue_match[i].contains(dev)
    }

    /// `dev` was hit by issue `i` at `t`, installing the content deployment `dep` offered it;
    /// every caller reports the event `signal_delay` later.
    fn hit(&mut self, i: usize, dev: u32, t: Time, dep: usize) {
        if self.issue_hit[i].insert(dev) {
            self.issue_stats[i].hit += 1;
            let c = self.issues[i].content;
            let before = (0..self.issues.len())
                .any(|j| j != i && self.issues[j].content == c && self.issue_hit[j].contains(dev));
            if !before {
                // A deployment counts the devices hit that it offered the content to or holds in
                // its audience, as it counts their rollbacks (README, "Overlapping deployments"):
                // a pilot whose audience no issue matches reports none of the broad ring's hits.
                for j in 0..self.deps.len() {
                    if self.defs[j].content == c && (j == dep || self.deps[j].in_audience(dev)) {
                        self.deps[j].issue_hits += 1;
                    }
                }
            }
            // `after_devices` counts devices, not reports: a device failing again must not count
            // again. Reports arrive a fixed delay after their events, in event order, so the K-th
            // distinct device hit is the K-th distinct device to report, and the hold is due when
            // its report arrives; the hit set already tells a new device from a repeat.
            if let Some(Known::AfterDevices(k)) = self.issues[i].known
                && self.issue_stats[i].hit == u64::from(k)
            {
                self.pending.push((
                    t + self.safety.signal_delay,
                    ServiceEvent::HoldPlaced(index16(i)),
                ));
            }
        }
    }

    fn report_later(&mut self, t: Time, dep: u16, dev: u32, what: Report) {
        self.pending.push((
            t + self.safety.signal_delay,
            ServiceEvent::Report(dep, dev, what),
        ));
    }

    /// An install of `content` (offered by `dep`) failed on `dev` at `t`: a hit of each issue
    /// with an install-failure effect that still affects the device ([`Service::affects`]).
    pub fn install_failed(&mut self, dep: u16, dev: u32, content: u16, t: Time) {
        let mut any = false;
        for i in 0..self.issues.len() {
            if self.issues[i].install_failure > 0.0 && self.affects(i, dev, content) {
                self.issue_stats[i].failed += 1;
                self.hit(i, dev, t, dep as usize);
                any = true;
            }
        }
        if any {
            self.report_later(t, dep, dev, Report::Hit);
        }
    }

    /// `dev` finished the restart into `content` (offered by `dep`) at `t`: it rolled back, or it
    /// runs the update and perhaps had an incident; a hit of each issue with that effect that
    /// still affects the device ([`Service::affects`]), as only those drew it.
    // Inlined into a restart's end: see `Client::begin` (docs/performance.md).
    #[inline(always)]
    pub fn restarted(
        &mut self,
        dep: u16,
        dev: u32,
        content: u16,
        t: Time,
        rolled_back: bool,
        incident: bool,
    ) {
        let mut issue_hit = false;
        let mut issue_rollback = false;
        for i in 0..self.issues.len() {
            if !self.affects(i, dev, content) {
                continue;
            }
            let issue = &self.issues[i];
            if rolled_back && issue.rollback > 0.0 {
                self.issue_stats[i].rolled_back += 1;
                self.hit(i, dev, t, dep as usize);
                issue_rollback = true;
            }
            if incident && issue.incident > 0.0 {
                self.issue_stats[i].incidents += 1;
                self.hit(i, dev, t, dep as usize);
                issue_hit = true;
            }
        }
        if issue_rollback {
            self.report_later(t, dep, dev, Report::IssueRollback);
        } else if rolled_back {
            self.report_later(t, dep, dev, Report::Rollback);
        } else if issue_hit {
            self.report_later(t, dep, dev, Report::Hit);
        }
        // Counted whether or not the deployment has rules yet, as rollbacks are: a rule added by a
        // later PATCH must compare signals and installs of the same devices, since the start.
        if self.safety.denominator == Denominator::Installed {
            self.report_later(t, dep, dev, Report::Installed);
        }
    }

    /// Marks `dev` ineligible for deployment `dep` at a scan at `t`.
    pub(super) fn mark_ineligible(&mut self, dep: usize, dev: u32, t: Time) {
        if !self.deps[dep].ineligible.insert(dev) {
            return;
        }
        self.deps[dep].ineligible_count += 1;
        let c = self.defs[dep].content;
        // Found once per deployment of the content that offers it; a device of the content.
        let known = (0..self.deps.len()).any(|j| {
            j != dep && self.defs[j].content == c && self.deps[j].ineligible.contains(dev)
        });
        for i in 0..self.issues.len() {
            if self.issues[i].ineligible
                && self.issues[i].content == c
                && self.issue_match[i].contains(dev)
            {
                // Counted as ineligible, not as hit: the device keeps its build and is not
                // harmed, so it is no part of a rollout's blast radius (`issue_hits`), nor a
                // report towards a known-issue hold (Windows withholds the update from an
                // ineligible device anyway).
                if !known {
                    self.issue_stats[i].ineligible += 1;
                }
            }
        }
        self.report_later(t, index16(dep), dev, Report::Ineligible);
    }

    /// A report reached the service.
    pub(super) fn on_report(
        &mut self,
        dep: u16,
        dev: u32,
        what: Report,
        t: Time,
        out: &mut Outbox,
    ) {
        let d = dep as usize;
        // A rule's threshold is a share of devices (deployment-service.md §2): a device that
        // rolls back again after a retry, or finishes a second install, counts once.
        // (Ineligibility is reported once per device and deployment already.)
        let run = &mut self.deps[d];
        match what {
            Report::Rollback | Report::IssueRollback if run.rollback_reported.insert(dev) => {
                run.reported[0] += 1
            }
            Report::Ineligible => run.reported[1] += 1,
            Report::Installed if run.install_reported.insert(dev) => run.reported[2] += 1,
            Report::Rollback | Report::IssueRollback | Report::Installed | Report::Hit => {}
        }
        // An issue's reports are those of its hits: not a background rollback of a device it hit
        // before (after the hold's release, say), nor an ineligible device (no hit).
        if matches!(what, Report::IssueRollback | Report::Hit) {
            let c = self.defs[d].content;
            for i in 0..self.issues.len() {
                if self.issues[i].content == c && self.issue_hit[i].contains(dev) {
                    self.issue_stats[i].reported += 1;
                }
            }
        }
        if what != Report::Hit {
            self.evaluate_rules(dep, t, out);
        }
    }

    /// Checks the deployment's monitoring rules against the reports so far.
    pub(super) fn evaluate_rules(&mut self, dep: u16, t: Time, out: &mut Outbox) {
        let d = dep as usize;
        let rules = self.deps[d].settings.monitoring.clone();
        let denominator = match self.safety.denominator {
            Denominator::Offered => self.deps[d].offered_count,
            Denominator::Installed => self.deps[d].reported[2],
        };
        for (ri, rule) in rules.iter().enumerate() {
            if self.deps[d].fired.get(ri).copied().unwrap_or(true) {
                continue;
            }
            let signals = match rule.signal {
                Signal::Rollback => self.deps[d].reported[0],
                Signal::Ineligible => self.deps[d].reported[1],
            };
            let judged = denominator > 0 && denominator >= self.safety.min_devices;
            let fires = if rule.action == RuleAction::OfferFallback {
                signals > 0 // the threshold is ignored for offerFallback
            } else {
                judged && signals * 100 >= u64::from(rule.threshold) * denominator
            };
            if !fires {
                if judged && let Some(peak) = self.deps[d].peaks.get_mut(ri) {
                    // Cross-multiplied, so equal shares keep the first moment.
                    if peak.is_none_or(|p| signals * p.denominator > p.signals * denominator) {
                        *peak = Some(RulePeak {
                            at: t,
                            signals,
                            denominator,
                        });
                    }
                }
                continue;
            }
            self.deps[d].fired[ri] = true;
            let devices_hit = self.deps[d].issue_hits;
            let (signal, action) = (signal_name(rule.signal), action_name(rule.action));
            self.firings.push(RuleFiring {
                deployment: dep,
                rule: ri,
                at: t,
                signal,
                threshold: rule.threshold,
                action,
                signals,
                denominator,
                devices_hit,
            });
            // An offerFallback rule's threshold is ignored (any report fires it): no threshold
            // is logged for it.
            let threshold = (rule.action != RuleAction::OfferFallback).then_some(rule.threshold);
            out.log.push(LogLine::rule_fired(
                dep,
                signal,
                action,
                threshold,
                signals,
                denominator,
                devices_hit,
            ));
            match rule.action {
                RuleAction::PauseDeployment => self.deps[d].monitoring_pause = true,
                RuleAction::AlertError => out.log.push(LogLine::alert(dep, signal, rule.threshold)),
                RuleAction::OfferFallback => out.log.push(LogLine::fallback(dep)),
            }
        }
    }

    /// The monitoring rules in force at the end that have not fired, per deployment in order.
    pub fn rules_not_fired(&self) -> Vec<RuleMiss> {
        let mut v = Vec::new();
        for (d, dep) in self.deps.iter().enumerate() {
            for (ri, rule) in dep.settings.monitoring.iter().enumerate() {
                if dep.fired.get(ri).copied().unwrap_or(true) {
                    continue;
                }
                v.push(RuleMiss {
                    deployment: index16(d),
                    signal: signal_name(rule.signal),
                    threshold: rule.threshold,
                    action: action_name(rule.action),
                    peak: dep.peaks.get(ri).copied().flatten(),
                });
            }
        }
        v
    }

    /// After a PATCH that writes the monitoring rules: they start afresh; a monitoring pause
    /// stays only if a pausing rule fires again at the current counts.
    pub(super) fn rules_changed(&mut self, dep: u16, t: Time, out: &mut Outbox) {
        let d = dep as usize;
        self.deps[d].fired = vec![false; self.deps[d].settings.monitoring.len()];
        self.deps[d].peaks = vec![None; self.deps[d].settings.monitoring.len()];
        self.deps[d].monitoring_pause = false;
        self.evaluate_rules(dep, t, out);
    }

    /// Devices of the audiences of deployments of `content` matching `pred`, with their held
    /// standing before a change.
    fn standing(&self, content: u16, pred: impl Fn(u32) -> bool) -> Vec<(usize, u32, bool)> {
        let mut v = Vec::new();
        for d in 0..self.defs.len() {
            if self.defs[d].content != content {
                continue;
            }
            for dev in 0..self.n as u32 {
                if pred(dev) && self.deps[d].in_audience(dev) {
                    v.push((d, dev, self.held(d, dev)));
                }
            }
        }
        v
    }

    pub(super) fn touch_changed(
        &mut self,
        before: Vec<(usize, u32, bool)>,
        t: Time,
        out: &mut Outbox,
    ) {
        let mut released = vec![Vec::new(); self.defs.len()];
        for (d, dev, was_held) in before {
            let now = self.held(d, dev);
            if now == was_held {
                continue;
            }
            let offered = self.deps[d].offered.contains(dev);
            out.touched.push(Touch {
                wake: !now && offered,
                ..Touch::new(index16(d), dev)
            });
            if !now {
                released[d].push(dev);
            }
        }
        // Devices whose wave came while they were held go to the front of the queue.
        for (d, devs) in released.into_iter().enumerate() {
            if devs.is_empty() {
                continue;
            }
            let back = std::mem::take(&mut self.deps[d].held_back);
            let (ready, still): (Vec<u32>, Vec<u32>) = back
                .into_iter()
                .partition(|dev| devs.binary_search(dev).is_ok());
            self.deps[d].held_back = still;
            for dev in ready.into_iter().rev() {
                self.deps[d].queue.push_front(dev);
            }
            self.offer_step(index16(d), t, out);
        }
    }

    pub(super) fn place_hold(&mut self, i: usize, t: Time, out: &mut Outbox) {
        let issue = &self.issues[i];
        let content = issue.content;
        let before = {
            let m = &self.issue_match[i];
            self.standing(content, |dev| m.contains(dev))
        };
        self.hold_active[i] = true;
        self.issue_stats[i].hold_at = Some(t);
        let held = self.issue_stats[i].matching;
        for d in 0..self.defs.len() {
            if self.defs[d].content == content {
                out.log
                    .push(LogLine::hold_placed(index16(d), &issue.name, held));
            }
        }
        match issue.release {
            Some(Release::At(at)) => out
                .schedule
                .push((at.max(t), ServiceEvent::HoldReleased(index16(i)))),
            Some(Release::After(s)) => out
                .schedule
                .push((t + s, ServiceEvent::HoldReleased(index16(i)))),
            None => {}
        }
        self.touch_changed(before, t, out);
    }

    pub(super) fn release_hold(&mut self, i: usize, t: Time, out: &mut Outbox) {
        if !self.hold_active[i] {
            return;
        }
        let content = self.issues[i].content;
        let before = {
            let m = &self.issue_match[i];
            self.standing(content, |dev| m.contains(dev))
        };
        self.hold_active[i] = false;
        self.issue_stats[i].released_at = Some(t);
        for d in 0..self.defs.len() {
            if self.defs[d].content == content {
                out.log.push(LogLine::hold_released(
                    index16(d),
                    format!("safeguard hold for \"{}\" released", self.issues[i].name),
                ));
            }
        }
        self.touch_changed(before, t, out);
        if self.safety.likely_release == LikelyRelease::WithIssues
            && self
                .predicted_issues(content)
                .all(|j| self.issue_stats[j].released_at.is_some())
        {
            self.release_likely_of(content as usize, t, out);
        }
    }

    /// The issues of `content` that put devices at risk (the ground truth the likely-issue
    /// model is scored against).
    fn at_risk_issues(&self, content: u16) -> impl Iterator<Item = usize> + '_ {
        (0..self.issues.len()).filter(move |&i| {
            let x = &self.issues[i];
            x.content == content
                && (x.rollback > 0.0 || x.install_failure > 0.0 || x.incident > 0.0)
        })
    }

    /// The issues of `content` that put devices at risk and that the likely-issue model can
    /// predict: what it flags devices for, and what its holds wait for (`release =
    /// "with_issues"`).
    fn predicted_issues(&self, content: u16) -> impl Iterator<Item = usize> + '_ {
        self.at_risk_issues(content)
            .filter(|&i| self.issues[i].predictable)
    }

    /// Releases the likely-issue holds of every content (`release` at an instant).
    pub(super) fn release_likely(&mut self, t: Time, out: &mut Outbox) {
        for c in 0..self.likely.len() {
            self.release_likely_of(c, t, out);
        }
    }

    /// Releases the likely-issue holds of content `c`, if it has any.
    fn release_likely_of(&mut self, c: usize, t: Time, out: &mut Outbox) {
        let Some(f) = self.likely.get(c).and_then(Option::as_ref) else {
            return;
        };
        let before = self.standing(index16(c), |dev| f.contains(dev));
        // Released where they were in force (and placed): not for a deployment that opts out.
        let in_force: Vec<bool> = (0..self.defs.len())
            .map(|d| self.likely_in_force(d).is_some())
            .collect();
        // No flags, no holds: the question every device event asks finds none from now on.
        self.likely[c] = None;
        for (d, &was) in in_force.iter().enumerate() {
            if was {
                out.log.push(LogLine::hold_released(
                    index16(d),
                    "likely-issue safeguard holds released".into(),
                ));
            }
        }
        self.touch_changed(before, t, out);
    }
}
