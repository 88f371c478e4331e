//! Recorders: state counts on a fixed time grid, restart tallies and per-deployment summaries.
//!
//! Nothing here iterates over the fleet per time step (DESIGN.md §2 "Counters, not scans"): every
//! device transition adds −1/+1 to the bucket of the sample that first sees it, and the series is
//! the running sum of the buckets. Sample k (at k × interval) includes every transition at or
//! before its time. The time to 50/90/95/99 % compliance is the instant from which the compliant
//! share stayed at or above the threshold until the end of the run (null when it is below at the
//! end), exact, not rounded to the sample grid. The share is judged on the counts at the end of
//! each instant, after all of its transitions, never on one between two of them. The same counts
//! and threshold times are kept per deployment and segment ([`SegmentCounters`], `segments.csv`).

use std::collections::HashMap;

use crate::client::{Restart, RestartKind, index16};
use crate::time::{DAY, Divisor, Secs, Time};

/// A device's state with respect to one deployment (the `state` column of `timeseries.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum State {
    /// In the audience, not offered yet (before the start, or waiting for its wave).
    NotOffered,
    /// In the audience but held back by a safeguard (not offered while the hold lasts).
    Held,
    /// Offered; the device has not picked it up yet (next scan, or deferred by policy).
    Offered,
    /// Downloading.
    Downloading,
    /// Downloaded, waiting for Automatic Maintenance to install it (a policy without a deadline).
    Downloaded,
    /// Installing.
    Installing,
    /// Installed, waiting for (or doing) the restart.
    PendingRestart,
    /// Running the new build (or newer content of the same category).
    Compliant,
    /// Readiness test (`isReadinessTest`): the device scanned and reported that it could take the
    /// update; no content is delivered.
    Ready,
    /// The last install attempt failed; retried at the next scan.
    Failed,
    /// Restarted into the new build and reverted to the old one.
    RolledBack,
    /// Found ineligible for the content at a scan (an `ineligible` issue): the device never
    /// attempts the install and never retries, so it is not a failed install.
    Ineligible,
}

impl State {
    /// All states, in pipeline order (the order of rows in `timeseries.csv`).
    pub const ALL: [State; 12] = [
        State::NotOffered,
        State::Held,
        State::Offered,
        State::Downloading,
        State::Downloaded,
        State::Installing,
        State::PendingRestart,
        State::Compliant,
        State::Ready,
        State::Failed,
        State::RolledBack,
        State::Ineligible,
    ];

    /// Whether the state is the deployment's goal: compliant, or ready for a readiness test.
    pub fn is_goal(self) -> bool {
        matches!(self, State::Compliant | State::Ready)
    }

    /// Whether entering the state is an event the summary counts: an install attempt that
    /// failed, a rollback, a device put on hold.
    pub fn is_event(self) -> bool {
        matches!(self, State::Failed | State::RolledBack | State::Held)
    }

    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            State::NotOffered => "not_offered",
            State::Offered => "offered",
            State::Downloading => "downloading",
            State::Downloaded => "downloaded",
            State::Installing => "installing",
            State::PendingRestart => "pending_restart",
            State::Compliant => "compliant",
            State::Held => "held",
            State::Ready => "ready",
            State::Failed => "failed",
            State::RolledBack => "rolled_back",
            State::Ineligible => "ineligible",
        }
    }
}

pub const N_STATES: usize = State::ALL.len();

/// Compliance thresholds reported in summaries, in percent.
pub const THRESHOLDS: [u32; 4] = [50, 90, 95, 99];

/// Counters of one deployment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeploymentCounters {
    /// Devices currently in the audience.
    pub targeted: u64,
    /// Devices currently compliant.
    pub compliant: u64,
    /// Exposure in device-seconds: the integral of `targeted − compliant` (devices of the
    /// audience not in the goal state) from [`DeploymentCounters::exposure_from`] to the horizon.
    /// Each change of that count adds its sign times the time it lasts until the horizon, so the
    /// sum is final once the last transition is recorded, whatever order transitions come in (an
    /// install's start is recorded late, `sim::catch_up`), and needs no clock of its own. Next
    /// to the counts: one cache line for all three.
    pub exposure_secs: i64,
    /// The instant exposure counts from: the later of the content's release and the scenario
    /// start ([`Recorder::count_exposure_from`]).
    pub exposure_from: Time,
    /// The instant a working exploit is expected (`[simulation] exploit_at`,
    /// [`Recorder::exploit_at`]); `None` when the scenario gives none.
    pub exploit: Option<Time>,
    /// The same integral as [`DeploymentCounters::exposure_secs`], counted from the later of
    /// the exploit instant and [`DeploymentCounters::exposure_from`]: the second multiply-add
    /// of the same change, so as exact and as order-free.
    pub exposure_after_exploit_secs: i64,
    /// The targeted and compliant counts at the end of the exploit instant: the sum of the
    /// changes at or before it, whatever order they are recorded in (a transition recorded
    /// late adds where it belongs, as it does to the integral).
    pub at_exploit: (i64, i64),
    /// Devices ever offered.
    pub offered: u64,
    /// Restarts forced after the effective deadline.
    pub forced_restarts: u64,
    /// Automatic restarts outside active hours.
    pub auto_restarts: u64,
    /// Restarts by the user (shutdown or own restart).
    pub user_restarts: u64,
    /// Forced or automatic restarts that happened inside active hours (user disruption).
    pub restarts_in_active_hours: u64,
    /// Failed install attempts: devices entering [`State::Failed`].
    pub install_failures: u64,
    /// Rollbacks after restart: devices entering [`State::RolledBack`].
    pub rollbacks: u64,
    /// Distinct devices counted in `rollbacks`: a device that retries and rolls back again
    /// adds to `rollbacks` each time, here once ([`Recorder::first_rollback`]).
    pub devices_rolled_back: u64,
    /// Times a device was put on hold by a safeguard: devices entering [`State::Held`]. In all
    /// three, a device rejoining the audience in the state it left in is no new event
    /// ([`Recorder::touched`]).
    pub held: u64,
    /// Since when the compliant share has stayed at or above each of [`THRESHOLDS`].
    pub reached: [Option<Time>; 4],
    /// Whether the share was ever at or above each threshold (at the end of an instant), so
    /// that a threshold missed at the end tells "fell back below" from "never reached".
    pub ever_reached: [bool; 4],
}

impl DeploymentCounters {
    /// Device-days of exposure ([`DeploymentCounters::exposure_secs`]), rounded to 4 decimals as
    /// hours are in the outputs.
    pub fn exposure_device_days(&self) -> f64 {
        device_days(self.exposure_secs)
    }

    /// Device-days of exposure after the exploit instant
    /// ([`DeploymentCounters::exposure_after_exploit_secs`]); `None` without an exploit instant.
    pub fn exposure_after_exploit_device_days(&self) -> Option<f64> {
        self.exploit
            .map(|_| device_days(self.exposure_after_exploit_secs))
    }

    /// The devices in the audience and, of those, in the goal state at the end of the exploit
    /// instant; `None` without an exploit instant.
    pub fn counts_at_exploit(&self) -> Option<(u64, u64)> {
        let (targeted, compliant) = self.at_exploit;
        self.exploit
            .map(|_| (targeted.max(0) as u64, compliant.max(0) as u64))
    }

    /// Adds `delta` devices exposed (not in the goal state) from `t` on, until `horizon`.
    #[inline]
    fn expose(&mut self, delta: i64, t: Time, horizon: Time) {
        // Before the release nobody is exposed to what the content fixes; after the horizon
        // nothing is counted.
        let from = t.max(self.exposure_from);
        self.exposure_secs += delta * horizon.saturating_sub(from) as i64;
        if let Some(e) = self.exploit {
            // The same change, counted from the exploit on.
            self.exposure_after_exploit_secs += delta * horizon.saturating_sub(from.max(e)) as i64;
        }
    }

    /// Counts `n` devices entering state `s` as events: an install attempt that failed, a
    /// rollback, a device put on hold. Compliance is a count of the present, kept apart
    /// ([`Recorder::transition`]).
    #[inline]
    fn entered(&mut self, s: State, n: u64) {
        match s {
            State::RolledBack => self.rollbacks += n,
            State::Held => self.held += n,
            State::Failed => self.install_failures += n,
            _ => {}
        }
    }
}

/// Device-seconds as device-days, rounded to 4 decimals as hours are in the outputs.
fn device_days(secs: i64) -> f64 {
    (secs as f64 / DAY as f64 * 10_000.0).round() / 10_000.0
}

/// Counts and threshold times of the devices of one segment in one deployment's audience (a row
/// of `segments.csv`), by the same definitions as the deployment's ([`DeploymentCounters`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentCounters {
    /// Devices of the segment currently in the audience.
    pub targeted: u64,
    /// Of those, devices currently compliant.
    pub compliant: u64,
    /// Since when the segment's compliant share has stayed at or above each of [`THRESHOLDS`].
    pub reached: [Option<Time>; 4],
    /// Whether the segment's share was ever at or above each threshold.
    pub ever_reached: [bool; 4],
    /// The last instant at which the counts changed, when the thresholds have not been judged on
    /// the counts at its end yet (next to the counts: one cache line for both).
    unjudged: Option<Time>,
    /// Restarts of the segment's devices by kind, by the definitions of
    /// [`DeploymentCounters::forced_restarts`] and the others: per segment whatever the number of
    /// segments, so that `segments.csv` sums to the deployment's totals (unlike the weekday × hour
    /// grid, [`Recorder::restart_grid_by_segment`]).
    pub restarts: RestartCounts,
}

/// Restarts by kind, and of the forced and automatic ones those inside active hours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestartCounts {
    /// Forced after the effective deadline.
    pub forced: u64,
    /// Automatic, outside active hours.
    pub auto: u64,
    /// By the user.
    pub user: u64,
    /// Forced or automatic inside active hours (user disruption).
    pub in_active_hours: u64,
}

impl RestartCounts {
    /// Counts restart `r`.
    #[inline]
    fn add(&mut self, r: Restart) {
        match r.kind {
            RestartKind::Forced => self.forced += 1,
            RestartKind::Auto => self.auto += 1,
            RestartKind::User => self.user += 1,
        }
        // A user's own restart disrupts nobody, wherever it falls.
        if r.in_active_hours && r.kind != RestartKind::User {
            self.in_active_hours += 1;
        }
    }
}

impl SegmentCounters {
    /// Judges the thresholds on the counts at the end of the instant left unjudged, if any.
    fn finish(&mut self) {
        if let Some(u) = self.unjudged.take() {
            judge(
                self.targeted,
                self.compliant,
                &mut self.reached,
                &mut self.ever_reached,
                u,
            );
        }
    }
}

/// The rows of `segments.csv` for segments named `names`, in scenario order: each segment's row,
/// and each row's name in order of first appearance. Segments that share a name are one row: an
/// inventory makes one segment per combination of a template's columns, all named after the
/// template, and the user asked about the template.
pub fn segment_rows<'a>(names: impl IntoIterator<Item = &'a str>) -> (Vec<u16>, Vec<&'a str>) {
    let mut rows: Vec<&str> = Vec::new();
    let of_segment = names
        .into_iter()
        .map(|n| match rows.iter().position(|&r| r == n) {
            Some(i) => index16(i),
            None => {
                rows.push(n);
                index16(rows.len() - 1)
            }
        })
        .collect();
    (of_segment, rows)
}

/// Moves a targeted and a compliant count for a device going from `from` to `to`.
#[inline]
fn tally(targeted: &mut u64, compliant: &mut u64, from: Option<State>, to: Option<State>) {
    match from {
        None => *targeted += 1,
        Some(f) if f.is_goal() => *compliant -= 1,
        Some(_) => {}
    }
    match to {
        None => *targeted -= 1,
        Some(s) if s.is_goal() => *compliant += 1,
        Some(_) => {}
    }
}

/// Marks instant `t` as one whose counts are judged at its end, and returns the earlier instant
/// still to be judged, which must be judged before the counts change.
#[inline]
fn unjudged_before(unjudged: &mut Option<Time>, t: Time) -> Option<Time> {
    match *unjudged {
        Some(u) if u < t => {
            *unjudged = Some(t);
            Some(u)
        }
        Some(_) => None,
        None => {
            *unjudged = Some(t);
            None
        }
    }
}

/// Moves the times since which a share of `compliant` of `targeted` has stayed at or above each
/// threshold, on the counts at the end of instant `t`.
fn judge(
    targeted: u64,
    compliant: u64,
    reached: &mut [Option<Time>; 4],
    ever_reached: &mut [bool; 4],
    t: Time,
) {
    // The thresholds rise, so the share is at or above the first `above` of them, and `reached`
    // holds a time for just the first ones the last judgement found above. Most instants move the
    // share without crossing a threshold: the same count again changes nothing, not even
    // `ever_reached`, which already has them.
    let above = if targeted == 0 {
        0
    } else {
        THRESHOLDS
            .iter()
            .filter(|&&pct| compliant * 100 >= u64::from(pct) * targeted)
            .count()
    };
    let was = |i: usize| reached.get(i).is_some_and(Option::is_some);
    if (above == 0 || was(above - 1)) && !was(above) {
        return;
    }
    // The time from which the share has stayed at or above each threshold: devices joining the
    // audience later (an update_audience action) can push it back below, and then the time
    // counts from the next crossing.
    for i in 0..THRESHOLDS.len() {
        let on = i < above;
        ever_reached[i] |= on;
        match (reached[i], on) {
            (None, true) => reached[i] = Some(t),
            (Some(_), false) => reached[i] = None,
            _ => {}
        }
    }
}

/// [`judge`] counts the thresholds a share is at or above as a prefix of [`THRESHOLDS`].
const _: () = {
    let mut i = 1;
    while i < THRESHOLDS.len() {
        assert!(THRESHOLDS[i - 1] < THRESHOLDS[i], "THRESHOLDS must rise");
        i += 1;
    }
};

/// Counters in one weekday × hour × kind grid of restarts: 7 × 24 × 3.
pub const RESTART_CELLS: usize = 7 * 24 * 3;

/// The most segment rows ([`segment_rows`]) whose restarts are kept by weekday and hour each
/// (`restarts.csv` by segment). A grid is [`RESTART_CELLS`] counters, 4 KB of u64 per segment
/// row and deployment: sites and rings number tens, so 256 rows (1 MB a deployment) cover them,
/// while a scenario naming thousands of segments would take gigabytes (65 535 rows × 4 KB × each
/// deployment) for a heatmap per segment nobody reads. Above it the grid is one per deployment;
/// per-segment totals by kind are kept whatever the count ([`SegmentCounters::restarts`]). u64
/// and not u32: the grid is small either way, and a count never wraps.
pub const MAX_RESTART_GRID_ROWS: usize = 256;

/// Records one run's transitions.
#[derive(Clone, Debug)]
pub struct Recorder {
    sample: Divisor,
    buckets: usize,
    /// The run's end: exposure is counted up to it.
    horizon: Time,
    /// deltas[(dep × buckets + bucket) × N_STATES + state]
    deltas: Vec<i64>,
    /// Per deployment.
    pub counters: Vec<DeploymentCounters>,
    /// Restart counts: index [`Recorder::restart_cell`]. Flat and sized at setup, so that a
    /// restart in a million-device run costs one indexed increment.
    restarts: Vec<u64>,
    /// Grids per deployment in [`Recorder::restarts`]: [`Recorder::rows`] when each segment row
    /// has its own, 1 when all share one ([`MAX_RESTART_GRID_ROWS`]).
    restart_grids: usize,
    /// The state each device was in when it left a deployment's audience (key: deployment ×
    /// 2³² + device), when that state is an event ([`State::is_event`]): only `update_audience`
    /// actions make devices leave, and most leave in another state, so this stays small.
    left: HashMap<u64, State>,
    /// Per deployment: the last instant at which its targeted or compliant count changed, when
    /// the thresholds have not been judged on the counts at its end yet.
    unjudged: Vec<Option<Time>>,
    /// Each segment's row in [`Recorder::segments`] ([`segment_rows`]).
    row_of_segment: Vec<u16>,
    /// Rows per deployment in [`Recorder::segments`].
    rows: usize,
    /// Per deployment and segment row (`dep × rows + row`).
    pub segments: Vec<SegmentCounters>,
    /// Per deployment, a bit per device counted in
    /// [`DeploymentCounters::devices_rolled_back`], words added as higher device ids roll back:
    /// nothing for a deployment without rollbacks, at most a bit a device for one with them.
    rolled_back: Vec<Vec<u64>>,
}

impl Recorder {
    /// A recorder for `deployments` deployments, sampling every `sample` seconds up to `horizon`,
    /// with segment `s` counted in row `row_of_segment[s]` ([`segment_rows`]).
    pub fn new(deployments: usize, row_of_segment: Vec<u16>, sample: Secs, horizon: Time) -> Self {
        let buckets = horizon.div_ceil(sample.max(1)) as usize + 1;
        let rows = row_of_segment
            .iter()
            .map(|&r| usize::from(r) + 1)
            .max()
            .unwrap_or(0);
        let restart_grids = if rows <= MAX_RESTART_GRID_ROWS {
            rows.max(1)
        } else {
            1
        };
        Self {
            sample: Divisor::new(sample),
            buckets,
            horizon,
            deltas: vec![0; deployments * buckets * N_STATES],
            counters: vec![DeploymentCounters::default(); deployments],
            restarts: vec![0; deployments * restart_grids * RESTART_CELLS],
            restart_grids,
            left: HashMap::new(),
            unjudged: vec![None; deployments],
            row_of_segment,
            rows,
            segments: vec![SegmentCounters::default(); deployments * rows],
            rolled_back: vec![Vec::new(); deployments],
        }
    }

    /// Counts deployment `dep`'s exposure from `from` (the later of its content's release and
    /// the scenario start) instead of from the start. Called before any of its transitions is
    /// recorded: the exposure already added counted from the instant set then.
    pub fn count_exposure_from(&mut self, dep: usize, from: Time) {
        let c = &mut self.counters[dep];
        debug_assert!(
            c.targeted == 0 && c.exposure_secs == 0,
            "set before transitions"
        );
        c.exposure_from = from;
    }

    /// Counts, for every deployment, the share compliant at the end of instant `at` and the
    /// exposure after it (`[simulation] exploit_at`). Called before any transition is recorded.
    pub fn exploit_at(&mut self, at: Time) {
        for c in &mut self.counters {
            debug_assert!(
                c.targeted == 0 && c.exposure_secs == 0,
                "set before transitions"
            );
            c.exploit = Some(at);
        }
    }

    /// Number of segment rows ([`segment_rows`]).
    pub fn segment_row_count(&self) -> usize {
        self.rows
    }

    /// The row of segment `seg`.
    pub fn row_of(&self, seg: u16) -> usize {
        usize::from(self.row_of_segment[usize::from(seg)])
    }

    /// The counters of segment row `row` in deployment `dep` ([`segment_rows`]).
    pub fn segment(&self, dep: usize, row: usize) -> &SegmentCounters {
        &self.segments[dep * self.rows + row]
    }

    /// Number of samples (0, interval, 2 × interval, …, up to the horizon).
    pub fn samples(&self) -> usize {
        self.buckets
    }

    /// Sample interval in seconds.
    pub fn sample_interval(&self) -> Secs {
        self.sample.get()
    }

    /// Records that, for deployment `dep`, a device of segment `seg` moved from `from` to `to` at
    /// `t` (`None` = not in the audience). Entering `failed`, `rolled_back` or `held` counts as an
    /// event, also for a device joining the audience in that state (use [`Recorder::touched`]
    /// where devices may rejoin).
    #[inline]
    pub fn transition(
        &mut self,
        dep: usize,
        dev: (u32, u16),
        t: Time,
        from: Option<State>,
        to: Option<State>,
    ) {
        self.record(dep, dev, t, from, to, true);
    }

    /// [`Recorder::transition`] for device `dev`, touched by a service event that may have made it
    /// leave or join the audience (an `update_audience` action). A device rejoining in the state
    /// it left in is in the audience and the time series again, but its state is no new event:
    /// no install failure, rollback or hold is counted again.
    pub fn touched(
        &mut self,
        dep: usize,
        (dev, seg): (u32, u16),
        t: Time,
        from: Option<State>,
        to: Option<State>,
    ) {
        let key = ((dep as u64) << 32) | u64::from(dev);
        match (from, to) {
            (Some(s), None) if s.is_event() => {
                self.left.insert(key, s);
            }
            (None, Some(s)) if self.left.remove(&key) == Some(s) => {
                self.record(dep, (dev, seg), t, from, to, false);
                return;
            }
            _ => {}
        }
        self.record(dep, (dev, seg), t, from, to, true);
    }

    #[inline]
    fn record(
        &mut self,
        dep: usize,
        (dev, seg): (u32, u16),
        t: Time,
        from: Option<State>,
        to: Option<State>,
        event: bool,
    ) {
        if from == to {
            return;
        }
        let bucket = (self.sample.div_ceil(t) as usize).min(self.buckets - 1);
        let base = (dep * self.buckets + bucket) * N_STATES;
        if let Some(f) = from {
            self.deltas[base + f as usize] -= 1;
        }
        if let Some(s) = to {
            self.deltas[base + s as usize] += 1;
            if event {
                self.counters[dep].entered(s, 1);
                if s == State::RolledBack {
                    self.first_rollback(dep, dev);
                }
            }
        }
        // Most transitions (downloading → installing …) leave both counts alone, and then no
        // threshold can have been crossed.
        let goal = |s: Option<State>| s.is_some_and(State::is_goal);
        if from.is_some() && to.is_some() && goal(from) == goal(to) {
            return;
        }
        self.count(dep, seg, t, from, to);
    }

    /// Counts `dev` in deployment `dep`'s [`DeploymentCounters::devices_rolled_back`] unless it
    /// rolled back before. Rollbacks are rare next to other transitions: out of line.
    #[cold]
    #[inline(never)]
    fn first_rollback(&mut self, dep: usize, dev: u32) {
        let words = &mut self.rolled_back[dep];
        let (i, bit) = (dev as usize / 64, 1u64 << (dev % 64));
        if words.len() <= i {
            words.resize(i + 1, 0);
        }
        if words[i] & bit == 0 {
            words[i] |= bit;
            self.counters[dep].devices_rolled_back += 1;
        }
    }

    /// Moves deployment `dep`'s targeted and compliant counts, and those of segment `seg` in it,
    /// for a transition at `t`. A device reaches the goal once or twice a run, so this stays out
    /// of line and [`Recorder::transition`] (twice an event) small.
    #[inline(never)]
    fn count(&mut self, dep: usize, seg: u16, t: Time, from: Option<State>, to: Option<State>) {
        // The thresholds are judged on the counts at the end of an instant, after all its
        // transitions: one service event adds and removes devices one at a time, and a share
        // between two of them is no share the deployment ever had. An earlier instant still to
        // be judged is judged now, before its counts change.
        if let Some(u) = unjudged_before(&mut self.unjudged[dep], t) {
            self.thresholds(dep, u);
        }
        let c = &mut self.counters[dep];
        tally(&mut c.targeted, &mut c.compliant, from, to);
        // Exposed: in the audience and not in the goal state. Every change of that count passes
        // here (it moves the targeted or the compliant count), so one multiply-add a change is
        // the whole integral.
        let exposed = |s: Option<State>| i64::from(s.is_some_and(|s| !s.is_goal()));
        c.expose(exposed(to) - exposed(from), t, self.horizon);
        // The counts at the end of the exploit instant: every change at or before it.
        if c.exploit.is_some_and(|e| t <= e) {
            let joined = |s: Option<State>| i64::from(s.is_some());
            let goal = |s: Option<State>| i64::from(s.is_some_and(State::is_goal));
            c.at_exploit.0 += joined(to) - joined(from);
            c.at_exploit.1 += goal(to) - goal(from);
        }
        // A segment's share is judged the same way, on its own counts: its instants are the
        // instants that change them.
        let k = dep * self.rows + usize::from(self.row_of_segment[usize::from(seg)]);
        let s = &mut self.segments[k];
        if let Some(u) = unjudged_before(&mut s.unjudged, t) {
            judge(
                s.targeted,
                s.compliant,
                &mut s.reached,
                &mut s.ever_reached,
                u,
            );
        }
        tally(&mut s.targeted, &mut s.compliant, from, to);
    }

    /// Records the states of deployment `dep`'s audience at t = 0, `counts[row][state]` devices
    /// of segment row `row` in each: the same as a transition from "not in the audience" for
    /// every device, counted in one step (a million devices per deployment at the start of a
    /// run). The threshold times come out the same because every one of those transitions is at
    /// t = 0, and only the counts at the end of an instant decide a threshold.
    pub fn initial(&mut self, dep: usize, counts: &[[u64; N_STATES]]) {
        let base = dep * self.buckets * N_STATES;
        for (row, per_state) in counts.iter().enumerate() {
            let k = dep * self.rows + row;
            let c = &mut self.counters[dep];
            let seg = &mut self.segments[k];
            for (&s, &n) in State::ALL.iter().zip(per_state) {
                self.deltas[base + s as usize] += n as i64;
                c.targeted += n;
                seg.targeted += n;
                // At t = 0, at or before any exploit instant.
                let at_exploit = i64::from(c.exploit.is_some()) * n as i64;
                c.at_exploit.0 += at_exploit;
                if s.is_goal() {
                    c.compliant += n;
                    seg.compliant += n;
                    c.at_exploit.1 += at_exploit;
                } else {
                    c.expose(n as i64, 0, self.horizon);
                }
                c.entered(s, n);
                // One device each, as one transition each would count them. No device starts
                // rolled back (it has installed nothing yet), so none is lost for want of its id.
                if s == State::RolledBack {
                    c.devices_rolled_back += n;
                }
            }
            if per_state.iter().any(|&n| n > 0) {
                self.unjudged[dep].get_or_insert(0);
                seg.unjudged.get_or_insert(0);
            }
        }
    }

    /// Judges the thresholds on the counts at the end of the last instant that changed them.
    /// Called once after the run's last transition: the threshold times are final from then on.
    pub fn finish(&mut self) {
        for dep in 0..self.counters.len() {
            if let Some(u) = self.unjudged[dep].take() {
                self.thresholds(dep, u);
            }
        }
        self.segments.iter_mut().for_each(SegmentCounters::finish);
    }

    /// Moves the times at which deployment `dep`'s compliant share reached each threshold, on the
    /// counts at the end of instant `t`.
    fn thresholds(&mut self, dep: usize, t: Time) {
        let c = &mut self.counters[dep];
        judge(
            c.targeted,
            c.compliant,
            &mut c.reached,
            &mut c.ever_reached,
            t,
        );
    }

    /// Records a restart of a device of segment `seg` that was restart-pending for deployment
    /// `dep`, at local `weekday` and `hour`.
    #[inline]
    pub fn restart(&mut self, dep: usize, seg: u16, r: Restart, weekday: u8, hour: u8) {
        let c = &mut self.counters[dep];
        match r.kind {
            RestartKind::Forced => c.forced_restarts += 1,
            RestartKind::Auto => c.auto_restarts += 1,
            RestartKind::User => c.user_restarts += 1,
        }
        if r.in_active_hours && r.kind != RestartKind::User {
            c.restarts_in_active_hours += 1;
        }
        let row = self.row_of(seg);
        self.segments[dep * self.rows + row].restarts.add(r);
        let cell = self.restart_cell(dep, row, weekday, hour, r.kind);
        self.restarts[cell] += 1;
    }

    /// Whether the weekday × hour grid of restarts is kept per segment row
    /// ([`MAX_RESTART_GRID_ROWS`]); otherwise [`Recorder::restart_grid`] of any row is the
    /// deployment's whole grid.
    pub fn restart_grid_by_segment(&self) -> bool {
        self.restart_grids == self.rows
    }

    /// The index in [`Recorder::restarts`] of deployment `dep`'s count at local `weekday`
    /// (0 = Monday) and `hour` of `kind`, for segment row `row`.
    #[inline]
    fn restart_cell(
        &self,
        dep: usize,
        row: usize,
        weekday: u8,
        hour: u8,
        kind: RestartKind,
    ) -> usize {
        // One grid a deployment when there are too many rows: `min` sends every row to it
        // without a branch, and is the row itself when each row has its own.
        let grid = dep * self.restart_grids + row.min(self.restart_grids - 1);
        ((grid * 7 + usize::from(weekday) % 7) * 24 + usize::from(hour) % 24) * 3 + kind as usize
    }

    /// The non-zero restart counts of deployment `dep` as (local weekday, 0 = Monday; hour;
    /// kind; count), in that order: of segment row `row` when the grid is kept per segment
    /// ([`Recorder::restart_grid_by_segment`]), else of all the deployment's segments.
    pub fn restart_grid(
        &self,
        dep: usize,
        row: usize,
    ) -> impl Iterator<Item = (u8, u8, RestartKind, u64)> + '_ {
        const KINDS: [RestartKind; 3] = [RestartKind::Forced, RestartKind::Auto, RestartKind::User];
        let start = self.restart_cell(dep, row, 0, 0, RestartKind::Forced);
        self.restarts[start..start + RESTART_CELLS]
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            // The inverse of `restart_cell` within one grid; all three below 256.
            .map(|(i, &n)| ((i / (24 * 3)) as u8, (i / 3 % 24) as u8, KINDS[i % 3], n))
    }

    /// The state counts of deployment `dep` at every sample: `series[sample][state]`.
    pub fn series(&self, dep: usize) -> Vec<[u64; N_STATES]> {
        let mut running = [0i64; N_STATES];
        (0..self.buckets)
            .map(|b| {
                let base = (dep * self.buckets + b) * N_STATES;
                let mut row = [0u64; N_STATES];
                for s in 0..N_STATES {
                    running[s] += self.deltas[base + s];
                    row[s] = running[s].max(0) as u64;
                }
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_counts_record_what_one_transition_per_device_at_zero_does() {
        let states = [
            State::NotOffered,
            State::Compliant,
            State::Held,
            State::Compliant,
            State::Failed,
            State::RolledBack,
            State::Ready,
            State::Compliant,
        ];
        // Three segments, the first and the last sharing a row.
        let rows = vec![0, 1, 0];
        for take in 0..=states.len() {
            let mut one_by_one = Recorder::new(2, rows.clone(), 60, 600);
            let mut bulk = Recorder::new(2, rows.clone(), 60, 600);
            let mut counts = [[0u64; N_STATES]; 2];
            for (i, &s) in states[..take].iter().enumerate() {
                let seg = (i % 3) as u16;
                one_by_one.transition(1, (i as u32, seg), 0, None, Some(s));
                counts[usize::from(rows[usize::from(seg)])][s as usize] += 1;
            }
            bulk.initial(1, &counts);
            one_by_one.finish();
            bulk.finish();
            assert_eq!(one_by_one.counters, bulk.counters, "{take} devices");
            assert_eq!(one_by_one.segments, bulk.segments, "{take} devices");
            assert_eq!(one_by_one.series(1), bulk.series(1), "{take} devices");
        }
    }

    #[test]
    fn a_device_rejoining_the_audience_in_the_state_it_left_in_is_not_counted_again() {
        let mut r = Recorder::new(1, vec![0], 10, 100);
        let (failed, rolled, held) = (1, 2, 3);
        for dev in [failed, rolled, held] {
            r.touched(0, (dev, 0), 0, None, Some(State::Offered));
        }
        r.transition(0, (failed, 0), 5, Some(State::Offered), Some(State::Failed));
        r.transition(
            0,
            (rolled, 0),
            5,
            Some(State::Offered),
            Some(State::RolledBack),
        );
        r.transition(0, (held, 0), 5, Some(State::Offered), Some(State::Held));
        let once = r.counters[0].clone();
        assert_eq!(
            (once.install_failures, once.rollbacks, once.held),
            (1, 1, 1)
        );
        // Leave, rejoin in the same states: no new failure, rollback or hold.
        for (dev, s) in [
            (failed, State::Failed),
            (rolled, State::RolledBack),
            (held, State::Held),
        ] {
            r.touched(0, (dev, 0), 20, Some(s), None);
        }
        assert_eq!(r.counters[0].targeted, 0);
        for (dev, s) in [
            (failed, State::Failed),
            (rolled, State::RolledBack),
            (held, State::Held),
        ] {
            r.touched(0, (dev, 0), 40, None, Some(s));
        }
        // Out of the audience from 20 to 40 s, the three are exposed for 80 of the 100 s.
        assert_eq!(r.counters[0].exposure_secs, 3 * 80);
        assert_eq!(
            DeploymentCounters {
                exposure_secs: once.exposure_secs,
                ..r.counters[0].clone()
            },
            once
        );
        assert_eq!(r.series(0)[4], r.series(0)[1]);
        // A device joining for the first time, or in another state than it left in, brings its
        // state with it (a hold that covers it now is a hold of this deployment).
        r.touched(0, (held, 0), 50, Some(State::Held), None);
        r.touched(0, (held, 0), 60, None, Some(State::Failed));
        r.touched(0, (9, 0), 60, None, Some(State::Held));
        assert_eq!(r.counters[0].install_failures, 2);
        assert_eq!(r.counters[0].held, 2);
        assert_eq!(r.counters[0].devices_rolled_back, 1);
    }

    #[test]
    fn devices_rolled_back_counts_each_device_once_however_often_it_rolls_back() {
        let mut r = Recorder::new(2, vec![0], 10, 1000);
        // Device 3 rolls back three times (retrying in between), device 70 once (a second
        // word of the set), for deployment 0 only; device 3 also once for deployment 1.
        for k in 0..3 {
            let t = 100 * k;
            r.transition(0, (3, 0), t, Some(State::Offered), Some(State::Installing));
            r.transition(
                0,
                (3, 0),
                t + 1,
                Some(State::Installing),
                Some(State::RolledBack),
            );
            r.transition(
                0,
                (3, 0),
                t + 2,
                Some(State::RolledBack),
                Some(State::Offered),
            );
        }
        r.transition(0, (70, 0), 5, Some(State::Offered), Some(State::RolledBack));
        r.transition(1, (3, 0), 5, Some(State::Offered), Some(State::RolledBack));
        let c = &r.counters;
        assert_eq!((c[0].rollbacks, c[0].devices_rolled_back), (4, 2));
        assert_eq!((c[1].rollbacks, c[1].devices_rolled_back), (1, 1));
        assert!(c.iter().all(|c| c.devices_rolled_back <= c.rollbacks));
    }

    #[test]
    fn a_transition_is_seen_from_the_first_sample_at_or_after_it() {
        let mut r = Recorder::new(1, vec![0], 10, 30);
        r.transition(0, (0, 0), 0, None, Some(State::Offered));
        r.transition(
            0,
            (0, 0),
            10,
            Some(State::Offered),
            Some(State::Downloading),
        );
        r.transition(
            0,
            (0, 0),
            11,
            Some(State::Downloading),
            Some(State::Compliant),
        );
        let s = r.series(0);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0][State::Offered as usize], 1);
        assert_eq!(s[1][State::Downloading as usize], 1);
        assert_eq!(s[2][State::Compliant as usize], 1);
        assert_eq!(s[3][State::Compliant as usize], 1);
        r.finish();
        assert_eq!(r.counters[0].reached, [Some(11); 4]);
    }

    #[test]
    fn thresholds_follow_the_targeted_count() {
        let mut r = Recorder::new(1, vec![0], 10, 100);
        for _ in 0..4 {
            r.transition(0, (0, 0), 0, None, Some(State::Offered));
        }
        r.transition(0, (0, 0), 5, Some(State::Offered), Some(State::Compliant));
        r.transition(0, (0, 0), 7, Some(State::Offered), Some(State::Compliant));
        // Judged at 5 (1 of 4) when the counts move again at 7.
        assert_eq!(r.counters[0].reached[0], None);
        r.finish();
        assert_eq!(r.counters[0].reached[0], Some(7));
        assert_eq!(r.counters[0].reached[1], None);
    }

    #[test]
    fn thresholds_are_judged_on_the_share_at_the_end_of_an_instant() {
        // 2 of 4 compliant from t = 1. At t = 10 one service event adds a device and removes
        // another: 2 of 5 between the two transitions, but 2 of 4 again at the end of the
        // instant, so the share never left 50 %.
        let mut r = Recorder::new(1, vec![0], 10, 100);
        for dev in 0..4 {
            r.touched(0, (dev, 0), 0, None, Some(State::Offered));
        }
        r.transition(0, (0, 0), 1, Some(State::Offered), Some(State::Compliant));
        r.transition(0, (0, 0), 1, Some(State::Offered), Some(State::Compliant));
        r.touched(0, (4, 0), 10, None, Some(State::NotOffered));
        r.touched(0, (3, 0), 10, Some(State::Offered), None);
        r.finish();
        assert_eq!(r.counters[0].reached[0], Some(1));
        // A dip that lasts beyond its instant still counts: the time runs from the next crossing.
        r.touched(0, (5, 0), 20, None, Some(State::NotOffered));
        r.transition(
            0,
            (0, 0),
            30,
            Some(State::NotOffered),
            Some(State::Compliant),
        );
        r.finish();
        assert_eq!(r.counters[0].reached[0], Some(30));
    }

    #[test]
    fn segments_sharing_a_name_are_one_row() {
        let (rows, names) = segment_rows(["office", "kiosks", "office", "laptops"]);
        assert_eq!(rows, vec![0, 1, 0, 2]);
        assert_eq!(names, vec!["office", "kiosks", "laptops"]);
    }

    #[test]
    fn each_segment_reaches_its_thresholds_on_its_own_counts() {
        use crate::time::HOUR;
        // Segments 0 and 2 share row a, segment 1 is row b.
        let mut r = Recorder::new(1, vec![0, 1, 0], 60, 100 * HOUR);
        // Row a: ten devices (six of segment 0, four of segment 2), the k-th compliant at k h.
        let a = |k: u32| if k <= 6 { 0 } else { 2 };
        for k in 1..=10 {
            r.touched(0, (k, a(k)), 0, None, Some(State::Offered));
        }
        // Row b: four devices, compliant at 20, 21, 22 and 23 h; a fifth joins at 30 h and is
        // compliant at 40 h.
        for k in 11..=14 {
            r.touched(0, (k, 1), 0, None, Some(State::Offered));
        }
        let compliant = |r: &mut Recorder, seg, at| {
            r.transition(
                0,
                (0, seg),
                at,
                Some(State::Offered),
                Some(State::Compliant),
            );
        };
        for k in 1..=10 {
            compliant(&mut r, a(k), u64::from(k) * HOUR);
        }
        for h in 20..=23 {
            compliant(&mut r, 1, h * HOUR);
        }
        r.touched(0, (15, 1), 30 * HOUR, None, Some(State::Offered));
        compliant(&mut r, 1, 40 * HOUR);
        r.finish();
        let hours = |reached: [Option<Time>; 4]| reached.map(|t| t.map(|t| t / HOUR));
        // Row a: 5 of 10 at 5 h, 9 at 9 h, all at 10 h.
        let row_a = r.segment(0, 0);
        assert_eq!((row_a.targeted, row_a.compliant), (10, 10));
        assert_eq!(hours(row_a.reached), [Some(5), Some(9), Some(10), Some(10)]);
        // Row b: 2 of 4 at 21 h, all at 23 h; 4 of 5 from 30 h is below 90 %, so 90, 95 and
        // 99 % count from 40 h, when all five are.
        let row_b = r.segment(0, 1);
        assert_eq!((row_b.targeted, row_b.compliant), (5, 5));
        assert_eq!(
            hours(row_b.reached),
            [Some(21), Some(40), Some(40), Some(40)]
        );
        assert_eq!(row_b.ever_reached, [true; 4]);
        // The deployment: 7 of 14 at 7 h, 13 at 22 h, 14 at 23 h; 14 of 15 from 30 h stays above
        // 90 % but not 95 %.
        assert_eq!(
            hours(r.counters[0].reached),
            [Some(7), Some(22), Some(40), Some(40)]
        );
    }

    /// A restart of `kind`, inside active hours or not.
    fn restart(kind: RestartKind, in_active_hours: bool) -> Restart {
        Restart {
            kind,
            in_active_hours,
        }
    }

    #[test]
    fn restarts_count_in_their_segments_row_and_cell_and_in_the_deployments_totals() {
        // Segments 0 and 2 share row a, segment 1 is row b; two deployments.
        let mut r = Recorder::new(2, vec![0, 1, 0], 60, 600);
        assert!(r.restart_grid_by_segment());
        r.restart(0, 0, restart(RestartKind::Forced, true), 0, 9);
        r.restart(0, 2, restart(RestartKind::Forced, false), 0, 9);
        r.restart(0, 1, restart(RestartKind::Auto, false), 6, 23);
        // A user's own restart in active hours disrupts nobody.
        r.restart(1, 1, restart(RestartKind::User, true), 2, 10);
        let a = r.segment(0, 0).restarts;
        assert_eq!((a.forced, a.auto, a.user, a.in_active_hours), (2, 0, 0, 1));
        let b = r.segment(0, 1).restarts;
        assert_eq!((b.forced, b.auto, b.user, b.in_active_hours), (0, 1, 0, 0));
        let b1 = r.segment(1, 1).restarts;
        assert_eq!((b1.user, b1.in_active_hours), (1, 0));
        assert_eq!(r.segment(1, 0).restarts, RestartCounts::default());
        let grid = |dep, row| r.restart_grid(dep, row).collect::<Vec<_>>();
        assert_eq!(grid(0, 0), vec![(0, 9, RestartKind::Forced, 2)]);
        assert_eq!(grid(0, 1), vec![(6, 23, RestartKind::Auto, 1)]);
        assert_eq!(grid(1, 1), vec![(2, 10, RestartKind::User, 1)]);
        assert!(grid(1, 0).is_empty());
        let c = &r.counters[0];
        assert_eq!(
            (
                c.forced_restarts,
                c.auto_restarts,
                c.user_restarts,
                c.restarts_in_active_hours
            ),
            (2, 1, 0, 1)
        );
    }

    #[test]
    fn with_more_segment_rows_than_kept_by_hour_the_grid_is_the_deployments_but_totals_stay_per_segment()
     {
        let rows = MAX_RESTART_GRID_ROWS + 1;
        let mut r = Recorder::new(2, (0..rows).map(index16).collect(), 60, 600);
        assert!(!r.restart_grid_by_segment());
        assert_eq!(r.restarts.len(), 2 * RESTART_CELLS);
        let last = index16(rows - 1);
        r.restart(1, 0, restart(RestartKind::Forced, false), 1, 8);
        r.restart(1, last, restart(RestartKind::Forced, false), 1, 8);
        r.restart(1, last, restart(RestartKind::Auto, true), 5, 0);
        assert_eq!(r.segment(1, 0).restarts.forced, 1);
        let l = r.segment(1, rows - 1).restarts;
        assert_eq!((l.forced, l.auto, l.in_active_hours), (1, 1, 1));
        // Any row reads the deployment's one grid; the other deployment's stays empty.
        let all = vec![(1, 8, RestartKind::Forced, 2), (5, 0, RestartKind::Auto, 1)];
        assert_eq!(r.restart_grid(1, 0).collect::<Vec<_>>(), all);
        assert_eq!(r.restart_grid(1, rows - 1).collect::<Vec<_>>(), all);
        assert_eq!(r.restart_grid(0, 0).count(), 0);
    }

    #[test]
    fn exposure_integrates_the_devices_of_the_audience_not_yet_compliant() {
        use crate::time::HOUR;
        let mut r = Recorder::new(1, vec![0], HOUR, 100 * HOUR);
        for dev in 0..4 {
            r.touched(0, (dev, 0), 0, None, Some(State::Offered));
        }
        // Compliant at 10, 20 and 30 h; the fourth never is: 10 + 20 + 30 + 100 device-hours.
        for h in [10, 20, 30] {
            r.transition(
                0,
                (0, 0),
                h * HOUR,
                Some(State::Offered),
                Some(State::Downloading),
            );
            r.transition(
                0,
                (0, 0),
                h * HOUR,
                Some(State::Downloading),
                Some(State::Compliant),
            );
        }
        r.finish();
        assert_eq!(r.counters[0].exposure_secs, 160 * HOUR as i64);
        assert_eq!(r.counters[0].exposure_device_days(), 6.6667);
    }

    #[test]
    fn a_device_counts_as_exposed_only_while_it_is_in_the_audience() {
        use crate::time::HOUR;
        let mut r = Recorder::new(1, vec![0], HOUR, 100 * HOUR);
        // Joins at 10 h, leaves at 40 h before installing: 30 h.
        r.touched(0, (1, 0), 10 * HOUR, None, Some(State::NotOffered));
        r.touched(0, (1, 0), 40 * HOUR, Some(State::NotOffered), None);
        assert_eq!(r.counters[0].exposure_secs, 30 * HOUR as i64);
        // Joins at 50 h, compliant at 60 h, leaves compliant at 70 h: 10 h more; leaving
        // compliant changes nothing.
        r.touched(0, (2, 0), 50 * HOUR, None, Some(State::Offered));
        r.transition(
            0,
            (0, 0),
            60 * HOUR,
            Some(State::Offered),
            Some(State::Compliant),
        );
        r.touched(0, (2, 0), 70 * HOUR, Some(State::Compliant), None);
        assert_eq!(r.counters[0].exposure_secs, 40 * HOUR as i64);
        // Joins compliant at 80 h and rolls back at 90 h: exposed again for the last 10 h.
        r.touched(0, (3, 0), 80 * HOUR, None, Some(State::Compliant));
        r.transition(
            0,
            (0, 0),
            90 * HOUR,
            Some(State::Compliant),
            Some(State::RolledBack),
        );
        r.finish();
        assert_eq!(r.counters[0].exposure_secs, 50 * HOUR as i64);
    }

    #[test]
    fn exposure_counts_from_the_release_and_stops_at_the_horizon() {
        use crate::time::HOUR;
        let mut r = Recorder::new(2, vec![0], HOUR, 100 * HOUR);
        r.count_exposure_from(0, 50 * HOUR);
        // Released after the horizon: nobody is exposed within the run.
        r.count_exposure_from(1, 200 * HOUR);
        for dep in 0..2 {
            for dev in 0..3 {
                r.touched(dep, (dev, 0), 0, None, Some(State::NotOffered));
            }
            // Compliant before the release (newer content already): never exposed; at 60 h:
            // 10 h after the release; never: the 50 h from the release to the horizon.
            r.transition(
                dep,
                (0, 0),
                20 * HOUR,
                Some(State::NotOffered),
                Some(State::Compliant),
            );
            r.transition(
                dep,
                (0, 0),
                60 * HOUR,
                Some(State::NotOffered),
                Some(State::Compliant),
            );
        }
        r.finish();
        assert_eq!(r.counters[0].exposure_secs, 60 * HOUR as i64);
        assert_eq!(r.counters[1].exposure_secs, 0);
    }

    #[test]
    fn exposure_does_not_depend_on_the_order_transitions_are_recorded_in() {
        // A transition recorded after a later one (an install's start is recorded by the next
        // event that looks at the device) adds what it would have added in time order.
        let steps = [
            (0, None, Some(State::Offered)),
            (0, None, Some(State::Offered)),
            (30, Some(State::Offered), Some(State::Compliant)),
            (70, Some(State::Offered), None),
            (50, Some(State::Compliant), Some(State::RolledBack)),
        ];
        let total = |order: &[usize]| {
            let mut r = Recorder::new(1, vec![0], 10, 100);
            r.count_exposure_from(0, 5);
            for &i in order {
                let (t, from, to) = steps[i];
                r.transition(0, (0, 0), t, from, to);
            }
            r.counters[0].exposure_secs
        };
        // Device a: 5–30 and 50–100; device b: 5–70.
        assert_eq!(total(&[0, 1, 2, 3, 4]), 25 + 50 + 65);
        assert_eq!(total(&[0, 1, 2, 4, 3]), 25 + 50 + 65);
    }

    #[test]
    fn the_exploit_instant_splits_the_integral_and_takes_the_counts_at_its_end() {
        use crate::time::HOUR;
        // Five devices from 0; four compliant at 10, 20, 25 (the exploit instant itself) and
        // 40 h, one never; a sixth joins at 25 h and leaves at 60 h without installing.
        // Horizon 100 h.
        let steps: [(u64, u32, Option<State>, Option<State>); 11] = [
            (0, 5, None, Some(State::Offered)),
            (0, 0, None, Some(State::Offered)),
            (0, 1, None, Some(State::Offered)),
            (0, 2, None, Some(State::Offered)),
            (0, 3, None, Some(State::Offered)),
            (10, 0, Some(State::Offered), Some(State::Compliant)),
            (20, 1, Some(State::Offered), Some(State::Compliant)),
            (25, 2, Some(State::Offered), Some(State::Compliant)),
            (25, 4, None, Some(State::NotOffered)),
            (40, 3, Some(State::Offered), Some(State::Compliant)),
            (60, 4, Some(State::NotOffered), None),
        ];
        let run = |order: &[usize], exploit: Option<u64>, from: u64| {
            let mut r = Recorder::new(1, vec![0], HOUR, 100 * HOUR);
            r.count_exposure_from(0, from * HOUR);
            if let Some(e) = exploit {
                r.exploit_at(e * HOUR);
            }
            for &i in order {
                let (h, dev, a, b) = steps[i];
                r.touched(0, (dev, 0), h * HOUR, a, b);
            }
            r.finish();
            r.counters[0].clone()
        };
        let in_order: Vec<usize> = (0..steps.len()).collect();
        let c = run(&in_order, Some(25), 0);
        // All of it: 10 + 20 + 25 + 40 + 100 + 35 device-hours.
        assert_eq!(c.exposure_secs, 230 * HOUR as i64);
        // From 25 h: the fourth device 15 h, the one never compliant 75 h, the fifth 35 h.
        assert_eq!(c.exposure_after_exploit_secs, 125 * HOUR as i64);
        // At the end of 25 h: six in the audience, three compliant (the one at 25 h counts).
        assert_eq!(c.counts_at_exploit(), Some((6, 3)));
        assert_eq!(c.exposure_after_exploit_device_days(), Some(5.2083));
        // Recorded out of time order (the changes after the exploit before those at and before
        // it): the same numbers.
        let reversed = [0, 1, 2, 3, 4, 9, 7, 6, 5, 8, 10];
        let late = run(&reversed, Some(25), 0);
        assert_eq!(
            (late.exposure_after_exploit_secs, late.counts_at_exploit()),
            (c.exposure_after_exploit_secs, c.counts_at_exploit())
        );
        // An exploit before the release counts from the release, as the exposure does; one at
        // the horizon leaves nothing after it and the counts of the end.
        let released_later = run(&in_order, Some(25), 50);
        assert_eq!(
            released_later.exposure_after_exploit_secs,
            released_later.exposure_secs
        );
        assert_eq!(
            released_later.exposure_secs,
            50 * HOUR as i64 + 10 * HOUR as i64
        );
        let at_end = run(&in_order, Some(100), 0);
        assert_eq!(at_end.exposure_after_exploit_secs, 0);
        assert_eq!(at_end.counts_at_exploit(), Some((5, 4)));
        // Before the first change, at 0: the counts of the start.
        assert_eq!(run(&in_order, Some(0), 0).counts_at_exploit(), Some((5, 0)));
        // Without one: nothing, and the rest unchanged.
        let none = run(&in_order, None, 0);
        assert_eq!(none.counts_at_exploit(), None);
        assert_eq!(none.exposure_after_exploit_device_days(), None);
        assert_eq!(none.exposure_secs, c.exposure_secs);
    }

    #[test]
    fn initial_counts_are_counts_at_an_exploit_as_one_transition_each_would_be() {
        let states = [
            State::NotOffered,
            State::Compliant,
            State::Ready,
            State::Failed,
        ];
        let mut one_by_one = Recorder::new(1, vec![0], 60, 600);
        let mut bulk = Recorder::new(1, vec![0], 60, 600);
        one_by_one.exploit_at(300);
        bulk.exploit_at(300);
        let mut counts = [[0u64; N_STATES]; 1];
        for &s in &states {
            one_by_one.transition(0, (0, 0), 0, None, Some(s));
            counts[0][s as usize] += 1;
        }
        bulk.initial(0, &counts);
        assert_eq!(one_by_one.counters, bulk.counters);
        assert_eq!(bulk.counters[0].counts_at_exploit(), Some((4, 2)));
        assert_eq!(bulk.counters[0].exposure_after_exploit_secs, 2 * 300);
    }
}
